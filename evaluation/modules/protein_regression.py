"""Protein regression metrics of proteinhub (Spearman, Pearson, MSE, MAE).

>>> import evaluate
>>> from proteinhub.evaluation import metric_path
>>> metric = evaluate.load(metric_path("protein_regression"))
>>> metric.compute(predictions=[1.0, 3.0, 2.0, 4.0], references=[1.0, 2.0, 3.0, 4.0])["mse"]
0.5
"""

import evaluate
from proteinhub.evaluation import metrics
from proteinhub.evaluation.modules import FLOAT, metric_info

_DESCRIPTION = """Spearman and Pearson correlation, MSE and MAE of one value per protein, as proteinhub training
computes them for protein-level regression."""

_INPUTS = """
Args:
    predictions: per protein, the predicted value (a model's (n, 1) output, flattened).
    references: per protein, the target.
Returns:
    spearman, pearson, mse, mae (floats; a correlation of a constant input is NaN).
"""


class ProteinRegression(evaluate.Metric):
    def _info(self) -> evaluate.MetricInfo:
        return metric_info(_DESCRIPTION, _INPUTS, FLOAT, FLOAT)

    def _compute(self, predictions, references) -> dict:
        return metrics.regression_metrics(references, predictions)
