"""Local `evaluate` metric scripts: load one with `evaluate.load(proteinhub.evaluation.metric_path(name))`.

Each script is an `evaluate.Metric` whose `_compute` calls `proteinhub.evaluation.metrics`, so its numbers are the
ones training writes to metrics.json. The scripts import `evaluate`; nothing else in proteinhub imports them.
"""

from __future__ import annotations

import datasets
import evaluate

FLOAT = datasets.Value("float64")
INT = datasets.Value("int64")


def metric_info(description: str, inputs: str, predictions, references) -> evaluate.MetricInfo:
    """The `MetricInfo` every script returns: its texts and the features of one example's predictions and
    references (`FLOAT`, `INT` or `datasets.Sequence` of them)."""
    features = datasets.Features({"predictions": predictions, "references": references})
    return evaluate.MetricInfo(description=description, citation="", inputs_description=inputs, features=features)
