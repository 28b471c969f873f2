"""Phosphosite metrics of proteinhub: the paper's rounded accuracy and its site metrics (accuracy, F1, ROC-AUC, MCC).

>>> import evaluate
>>> from proteinhub.evaluation import metric_path
>>> metric = evaluate.load(metric_path("phosphosite"))
>>> metric.compute(predictions=[0.2, 0.9, 0.5, 0.6], references=[0.1, 0.7, 0.95, 0.3])["rounded_accuracy"]
0.5
"""

import evaluate
from proteinhub.evaluation import metrics
from proteinhub.evaluation.modules import FLOAT, metric_info

_DESCRIPTION = """Phosphosite prediction (Nguyen et al., seed 000): the rounded accuracy of soft or hard targets
(targets and predictions rounded half-to-even to 0/1, as Keras' K.round), and of the targets rounded to 0/1:
accuracy, F1 of the positive class (the paper's F1), ROC-AUC and MCC, a site being predicted positive above
`threshold`."""

_INPUTS = """
Args:
    predictions: per site (window), the predicted probability that it is phosphorylated.
    references: per site, the target: 0 / 1, or a soft target in [0, 1].
    threshold: the probability above which a site is predicted positive (default 0.5).
Returns:
    rounded_accuracy, accuracy, f1, roc_auc, mcc (floats; ROC-AUC is NaN when only one class occurs).
"""


class Phosphosite(evaluate.Metric):
    def _info(self) -> evaluate.MetricInfo:
        return metric_info(_DESCRIPTION, _INPUTS, FLOAT, FLOAT)

    def _compute(self, predictions, references, threshold: float = 0.5) -> dict:
        return metrics.phosphosite_metrics(references, predictions, threshold)
