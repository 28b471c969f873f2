"""Residue regression metrics of proteinhub (Spearman, Pearson, MSE, MAE; -100 and NaN targets ignored).

>>> import evaluate
>>> from proteinhub.evaluation import metric_path
>>> metric = evaluate.load(metric_path("residue_regression"))
>>> metric.compute(predictions=[[1.0, 2.0, 9.0], [3.0]], references=[[1.0, 2.0, -100.0], [3.0]])["mse"]
0.0
"""

import datasets
import evaluate
from proteinhub.evaluation import metrics
from proteinhub.evaluation.modules import FLOAT, metric_info

_DESCRIPTION = """Spearman and Pearson correlation, MSE and MAE over every scored residue of every protein, as
proteinhub training computes them for residue-level regression: positions whose target is -100 or NaN are left out."""

_INPUTS = """
Args:
    predictions: per protein, the (positions,) predicted values (proteins may differ in length).
    references: per protein, the (positions,) targets, -100 or NaN where a position is not scored.
Returns:
    spearman, pearson, mse, mae (floats; a correlation of a constant input is NaN).
"""


class ResidueRegression(evaluate.Metric):
    def _info(self) -> evaluate.MetricInfo:
        return metric_info(_DESCRIPTION, _INPUTS, datasets.Sequence(FLOAT), datasets.Sequence(FLOAT))

    def _compute(self, predictions, references) -> dict:
        return metrics.residue_regression_metrics(references, predictions)
