"""Metrics of the phosphosite paper (seed 000, Nguyen): the rounded accuracy of soft labels, and the site metrics
reported in `docs/results/phosphosite.md` (accuracy, F1 of the positive class, ROC-AUC, MCC).
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import f1_score, matthews_corrcoef, roc_auc_score


def rounded_accuracy(targets: np.ndarray, probabilities: np.ndarray) -> float:
    """The paper's accuracy for soft labels: round targets and predictions to 0/1, then compare.

    Its data augmentation trains on soft targets (y=0 -> p, y=1 -> 1-p, p ~ U(0, 0.4)), for which plain accuracy is
    undefined; rounding each target recovers its hard label. Rounding is half-to-even as in Keras' `K.round`
    (`tf.round`), so 0.5 rounds to 0: a prediction counts as positive only above 0.5, as in `site_metrics`.

    Example:
        >>> rounded_accuracy(np.array([0.1, 0.7, 0.95, 0.3]), np.array([0.2, 0.9, 0.5, 0.6]))
        0.5
    """
    targets = np.asarray(targets, dtype=np.float64).ravel()
    probabilities = np.asarray(probabilities, dtype=np.float64).ravel()
    if targets.shape != probabilities.shape:
        raise ValueError(f"{targets.size} targets but {probabilities.size} predictions")
    if not targets.size:
        raise ValueError("rounded_accuracy of an empty set is undefined")
    return float(np.mean(np.round(targets) == np.round(probabilities)))


def site_metrics(labels: np.ndarray, probabilities: np.ndarray, threshold: float = 0.5) -> dict[str, float]:
    """Accuracy, F1 of the positive class (the paper's F1), ROC-AUC and MCC of 0/1 `labels` against P(positive).

    A site is predicted positive when its probability is above `threshold`.

    Example:
        >>> m = site_metrics(np.array([0, 0, 1, 1]), np.array([0.1, 0.6, 0.7, 0.9]))
        >>> m["accuracy"], m["roc_auc"]
        (0.75, 1.0)
    """
    labels = np.asarray(labels).astype(np.int64).ravel()
    probabilities = np.asarray(probabilities, dtype=np.float64).ravel()
    predictions = (probabilities > threshold).astype(np.int64)
    both_classes = 0 < labels.sum() < labels.size
    return {
        "accuracy": float(np.mean(predictions == labels)),
        "f1": float(f1_score(labels, predictions, zero_division=0)),
        "roc_auc": float(roc_auc_score(labels, probabilities)) if both_classes else float("nan"),
        "mcc": float(matthews_corrcoef(labels, predictions)),
    }
