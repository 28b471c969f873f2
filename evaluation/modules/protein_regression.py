"""Protein regression metrics of proteinhub (Spearman, Pearson, MSE, MAE).

>>> import evaluate
>>> from proteinhub.evaluation import metric_path
>>> metric = evaluate.load(metric_path("protein_regression"))
>>> metric.compute(predictions=[1.0, 3.0, 2.0, 4.0], references=[1.0, 2.0, 3.0, 4.0])["mse"]
0.5
"""

import datasets
import evaluate
from proteinhub.evaluation import metrics

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
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation="",
            inputs_description=_INPUTS,
            features=datasets.Features(
                {"predictions": datasets.Value("float64"), "references": datasets.Value("float64")}
            ),
        )

    def _compute(self, predictions, references) -> dict:
        return metrics.regression_metrics(references, predictions)
