"""Evaluation: the one implementation of the project's metrics (`metrics`) and its `evaluate` modules (`modules/`).

Each module is a local `evaluate` metric script shipped inside the package; `evaluate.load` reads it from the
installed package without the Hub (works with `HF_HUB_OFFLINE=1`):

    >>> import evaluate
    >>> from proteinhub.evaluation import metric_path
    >>> q3 = evaluate.load(metric_path("q3"))
    >>> q3.compute(predictions=[[[3.0, 0.0, 0.0], [0.0, 0.0, 1.0]]], references=[[0, -100]])["q3"]
    1.0

Importing this package imports neither `evaluate` nor the metrics' scikit-learn.
"""

from __future__ import annotations

from pathlib import Path

MODULES_DIR = Path(__file__).resolve().parent / "modules"
# the metric scripts in modules/, by the task they score
METRICS = (
    "residue_classification",
    "residue_regression",
    "protein_classification",
    "protein_regression",
    "q3",
    "phosphosite",
)


def metric_path(name: str) -> str:
    """The path of the `evaluate` metric script `name` inside the installed package, for `evaluate.load`.

    Example:
        >>> metric_path("protein_regression").endswith("evaluation/modules/protein_regression.py")
        True
    """
    if name not in METRICS:
        raise ValueError(f"no proteinhub metric {name!r}; metrics: {', '.join(METRICS)}")
    return str(MODULES_DIR / f"{name}.py")


__all__ = ["METRICS", "MODULES_DIR", "metric_path"]
