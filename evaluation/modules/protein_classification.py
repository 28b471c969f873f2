"""Protein classification metrics of proteinhub (accuracy, macro-F1, MCC, ROC-AUC, PR-AUC).

>>> import evaluate
>>> from proteinhub.evaluation import metric_path
>>> metric = evaluate.load(metric_path("protein_classification"))
>>> metric.compute(predictions=[[2.0, 0.0], [0.0, 1.0]], references=[0, 1])["roc_auc"]
1.0
"""

import datasets
import evaluate
from proteinhub.evaluation import metrics
from proteinhub.evaluation.modules import FLOAT, INT, metric_info

_DESCRIPTION = """Accuracy, macro-F1, MCC, ROC-AUC and PR-AUC of one label per protein, as proteinhub training computes
them for protein-level classification. Binary ROC-AUC / PR-AUC score `positive_label` (class 1 unless told); with
more classes they are one-vs-rest macro averages over the classes present."""

_INPUTS = """
Args:
    predictions: per protein, the (num_labels,) logits (a single logit: binary, P(1)).
    references: per protein, the integer label.
    positive_label: the positive class of a binary task (default 1).
Returns:
    accuracy, f1_macro, mcc, roc_auc, pr_auc (floats; an AUC is NaN when only one class occurs).
"""


class ProteinClassification(evaluate.Metric):
    def _info(self) -> evaluate.MetricInfo:
        return metric_info(_DESCRIPTION, _INPUTS, datasets.Sequence(FLOAT), INT)

    def _compute(self, predictions, references, positive_label: int = 1) -> dict:
        return metrics.classification_metrics(references, predictions, positive_label=positive_label)
