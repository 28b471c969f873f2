"""Q3 of 3-state secondary structure, as proteinhub's secondary-structure results report it.

>>> import evaluate
>>> from proteinhub.evaluation import metric_path
>>> q3 = evaluate.load(metric_path("q3"))
>>> q3.compute(predictions=[[[3.0, 0.0, 0.0], [0.0, 0.0, 1.0]]], references=[[0, -100]])["q3"]
1.0
"""

import datasets
import evaluate
from proteinhub.dataset_scripts.secondary_structure import LABEL_NAMES
from proteinhub.evaluation import metrics
from proteinhub.evaluation.modules import FLOAT, INT, metric_info

_DESCRIPTION = """Q3: the accuracy over every scored residue of every protein (positions labelled -100 are left out),
with the per-protein mean Q3, per-class precision / recall / F1 / support, their macro-F1 and the confusion matrix
(rows: true class). Classes in the order of the secondary_structure builder (H, E, C unless `class_names` says
otherwise)."""

_INPUTS = """
Args:
    predictions: per protein, the (positions, 3) logits (proteins may differ in length, or be padded).
    references: per protein, the (positions,) labels 0 / 1 / 2, -100 where a position is not scored.
    class_names: the names of the classes in label order (default: the builder's H, E, C).
Returns:
    q3, q3_per_protein, f1_macro (floats), scored_residues, proteins (ints), per_class (dict by class name),
    confusion_matrix (list of rows).
"""


class Q3(evaluate.Metric):
    def _info(self) -> evaluate.MetricInfo:
        return metric_info(_DESCRIPTION, _INPUTS, datasets.Sequence(datasets.Sequence(FLOAT)), datasets.Sequence(INT))

    def _compute(self, predictions, references, class_names=LABEL_NAMES) -> dict:
        return metrics.q3_metrics(references, predictions, class_names)
