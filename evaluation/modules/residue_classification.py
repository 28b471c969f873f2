"""Residue classification metrics of proteinhub (accuracy, macro-F1, MCC, ROC-AUC, PR-AUC; -100 ignored).

>>> import evaluate
>>> from proteinhub.evaluation import metric_path
>>> metric = evaluate.load(metric_path("residue_classification"))
>>> metric.compute(predictions=[[[2.0, 0.0], [0.0, 1.0], [5.0, 0.0]]], references=[[0, 1, -100]])["accuracy"]
1.0
"""

import datasets
import evaluate
from proteinhub.evaluation import metrics
from proteinhub.evaluation.modules import FLOAT, INT, metric_info

_DESCRIPTION = """Accuracy, macro-F1, MCC, ROC-AUC and PR-AUC over every scored residue of every protein, as proteinhub
training computes them for residue-level classification: positions labelled -100 (special tokens, padding,
unresolved residues) are left out. Binary ROC-AUC / PR-AUC score `positive_label` (class 1 unless told); with more
classes they are one-vs-rest macro averages over the classes present."""

_INPUTS = """
Args:
    predictions: per protein, the (positions, num_labels) logits (a single logit per position: binary, P(1)).
        Proteins may differ in length, or be padded to one length as `Trainer` gathers them.
    references: per protein, the (positions,) integer labels, -100 where a position is not scored.
    positive_label: the positive class of a binary task (default 1).
Returns:
    accuracy, f1_macro, mcc, roc_auc, pr_auc (floats; an AUC is NaN when only one class occurs).
"""


class ResidueClassification(evaluate.Metric):
    def _info(self) -> evaluate.MetricInfo:
        return metric_info(_DESCRIPTION, _INPUTS, datasets.Sequence(datasets.Sequence(FLOAT)), datasets.Sequence(INT))

    def _compute(self, predictions, references, positive_label: int = 1) -> dict:
        return metrics.residue_classification_metrics(references, predictions, positive_label=positive_label)
