"""Evaluation metrics of proteinhub runs (scikit-learn / scipy; no Hub access, no `evaluate`).

Classification: accuracy, macro-F1, MCC, ROC-AUC and PR-AUC (binary, or one-vs-rest macro averages over the classes
where they are defined). Regression: Spearman, Pearson, MSE, MAE. Residue-level variants flatten (protein, residue)
arrays and drop every position whose label is -100 (special tokens, padding, unresolved residues) first.
Phosphosite paper (seed 000): the rounded accuracy of soft labels and the site metrics of its tables.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import numpy as np
from scipy.special import expit, softmax
from scipy.stats import ConstantInputWarning, pearsonr, spearmanr
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    confusion_matrix,
    f1_score,
    matthews_corrcoef,
    mean_absolute_error,
    mean_squared_error,
    roc_auc_score,
)

from ..modeling.tasks import IGNORE_INDEX, PROTEIN, RESIDUE, SITE

CLASSIFICATION_METRICS = ("accuracy", "f1_macro", "mcc", "roc_auc", "pr_auc")
REGRESSION_METRICS = ("spearman", "pearson", "mse", "mae")


def probabilities(logits: np.ndarray) -> np.ndarray:
    """(n, num_labels) class probabilities; a single logit is a binary classifier and becomes (n, 2)."""
    logits = np.asarray(logits, dtype=np.float64)
    if logits.shape[-1] == 1:
        positive = expit(logits[:, 0])
        return np.stack([1.0 - positive, positive], axis=-1)
    return softmax(logits, axis=-1)


def _one_vs_rest(labels: np.ndarray, probs: np.ndarray, score: Callable) -> float:
    """Mean of `score(is_class_c, p_c)` over the classes with both positives and negatives; NaN if there are none.

    For two classes this is the usual binary score of class 1 (ROC-AUC is symmetric; PR-AUC uses class 1 only);
    with every class present it equals scikit-learn's `multi_class="ovr"`, `average="macro"`.
    """
    classes = [1] if probs.shape[1] == 2 else range(probs.shape[1])
    values = []
    for c in classes:
        positive = labels == c
        if positive.any() and not positive.all():
            values.append(score(positive, probs[:, c]))
    return float(np.mean(values)) if values else math.nan


def classification_metrics(labels: np.ndarray, logits: np.ndarray) -> dict[str, float]:
    """Accuracy, macro-F1, MCC, ROC-AUC and PR-AUC of (n,) integer labels against (n, num_labels) logits.

    Example:
        >>> m = classification_metrics(np.array([0, 1, 1]), np.array([[2.0, 0.0], [0.0, 1.0], [1.0, 0.0]]))
        >>> round(m["accuracy"], 3), m["roc_auc"]
        (0.667, 1.0)
    """
    labels = np.asarray(labels).astype(np.int64).ravel()
    probs = probabilities(logits)
    predictions = probs.argmax(-1)
    return {
        "accuracy": float(accuracy_score(labels, predictions)),
        "f1_macro": float(f1_score(labels, predictions, average="macro", zero_division=0)),
        "mcc": float(matthews_corrcoef(labels, predictions)),
        "roc_auc": _one_vs_rest(labels, probs, roc_auc_score),
        "pr_auc": _one_vs_rest(labels, probs, average_precision_score),
    }


def regression_metrics(labels: np.ndarray, predictions: np.ndarray) -> dict[str, float]:
    """Spearman and Pearson correlation, MSE and MAE of (n,) targets against (n,) or (n, 1) predictions.

    Correlations of a constant input are NaN (undefined), not an error.
    """
    labels = np.asarray(labels, dtype=np.float64).ravel()
    predictions = np.asarray(predictions, dtype=np.float64).ravel()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConstantInputWarning)
        spearman = spearmanr(labels, predictions).statistic if labels.size > 1 else math.nan
        pearson = pearsonr(labels, predictions).statistic if labels.size > 1 else math.nan
    return {
        "spearman": float(spearman),
        "pearson": float(pearson),
        "mse": float(mean_squared_error(labels, predictions)),
        "mae": float(mean_absolute_error(labels, predictions)),
    }


def valid_residues(labels: np.ndarray, outputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flatten (proteins, positions) labels and (proteins, positions[, k]) outputs to the scored residues.

    A position is dropped when its label is -100 (special token, padding, ignored residue) or NaN.
    """
    labels = np.asarray(labels)
    outputs = np.asarray(outputs)
    if outputs.shape[: labels.ndim] != labels.shape:
        raise ValueError(f"labels {labels.shape} and model outputs {outputs.shape} do not cover the same positions")
    keep = labels != IGNORE_INDEX
    if np.issubdtype(labels.dtype, np.floating):
        keep &= ~np.isnan(labels)
    return labels[keep], outputs[keep]


def residue_classification_metrics(labels: np.ndarray, logits: np.ndarray) -> dict[str, float]:
    """`classification_metrics` over every scored residue of every protein (-100 positions ignored)."""
    labels, logits = valid_residues(labels, logits)
    return classification_metrics(labels, logits)


def residue_regression_metrics(labels: np.ndarray, predictions: np.ndarray) -> dict[str, float]:
    """`regression_metrics` over every scored residue (-100 and NaN positions ignored)."""
    labels, predictions = valid_residues(labels, predictions)
    return regression_metrics(labels, predictions)


def metric_function(level: str, problem: str) -> Callable[[np.ndarray, np.ndarray], dict[str, float]]:
    """The metric function of a task: `level` "protein" | "site" | "residue", `problem` "classification" |
    "regression" (the words of `modeling/tasks.py`)."""
    table = {
        (PROTEIN, "classification"): classification_metrics,
        (PROTEIN, "regression"): regression_metrics,
        (SITE, "classification"): classification_metrics,
        (SITE, "regression"): regression_metrics,
        (RESIDUE, "classification"): residue_classification_metrics,
        (RESIDUE, "regression"): residue_regression_metrics,
    }
    if (level, problem) not in table:
        raise ValueError(f"no metrics for level={level!r}, problem={problem!r}")
    return table[(level, problem)]


def build_compute_metrics(level: str, problem: str) -> Callable:
    """A `Trainer(compute_metrics=...)` callable for the task; logits padded by Trainer carry label -100 and are
    skipped."""
    function = metric_function(level, problem)

    def compute_metrics(prediction) -> dict[str, float]:
        logits = prediction.predictions[0] if isinstance(prediction.predictions, tuple) else prediction.predictions
        return function(prediction.label_ids, logits)

    return compute_metrics


def classification_confusion_matrix(labels: np.ndarray, logits: np.ndarray, num_labels: int) -> np.ndarray:
    """(num_labels, num_labels) counts, rows = true class, columns = predicted class; -100 positions ignored."""
    labels, logits = valid_residues(labels, logits)
    predictions = probabilities(logits.reshape(-1, logits.shape[-1])).argmax(-1)
    return confusion_matrix(labels.astype(np.int64), predictions, labels=list(range(num_labels)))


# phosphosite paper (seed 000, Nguyen)


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
