"""The one implementation of proteinhub's metrics (scikit-learn / scipy; no Hub access, no `evaluate`).

Training (`build_compute_metrics`, the self-supervised token metrics), the reproduction scripts and the `evaluate`
modules of `proteinhub.evaluation.modules` all compute their numbers here.

Classification: accuracy, macro-F1, MCC, ROC-AUC and PR-AUC (binary: of the class named by `positive_label`, class 1
unless told; more classes: one-vs-rest macro averages over the classes where they are defined). Regression:
Spearman, Pearson, MSE, MAE. Residue-level variants take (protein, residue) arrays padded with -100, or one array per
protein, and drop every position whose label is -100 (special tokens, padding, unresolved residues) first; Q3 is
their accuracy for 3-state secondary structure, with the per-protein mean and per-class scores beside it.
Phosphosite paper (seed 000): the rounded accuracy of soft labels and the site metrics of its tables.

The same functions behind `evaluate.load` (offline, from the installed package):

    >>> import evaluate
    >>> from proteinhub.evaluation import metric_path
    >>> metric = evaluate.load(metric_path("protein_classification"))
    >>> metric.compute(predictions=[[2.0, 0.0], [0.0, 1.0]], references=[0, 1])["accuracy"]
    1.0
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence

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
    precision_recall_fscore_support,
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


def predicted_labels(logits: np.ndarray) -> np.ndarray:
    """(n,) the most probable class of (n, num_labels) logits; a single logit predicts 1 when P(1) is above 0.5."""
    return probabilities(logits).argmax(-1)


# metrics of predicted labels


def accuracy(labels: np.ndarray, predictions: np.ndarray) -> float:
    """Fraction of (n,) predicted labels equal to the (n,) true labels."""
    return float(accuracy_score(np.asarray(labels).ravel(), np.asarray(predictions).ravel()))


def mcc(labels: np.ndarray, predictions: np.ndarray) -> float:
    """Matthews correlation coefficient of (n,) predicted labels (any number of classes; 0.0 when undefined)."""
    return float(matthews_corrcoef(np.asarray(labels).ravel(), np.asarray(predictions).ravel()))


def label_metrics(labels: np.ndarray, predictions: np.ndarray) -> dict[str, float]:
    """Accuracy, macro-F1 (over the classes present in either array) and MCC of (n,) predicted labels.

    Example:
        >>> label_metrics(np.array([0, 1, 2, 2]), np.array([0, 1, 2, 1]))["accuracy"]
        0.75
    """
    labels = np.asarray(labels).ravel()
    predictions = np.asarray(predictions).ravel()
    return {
        "accuracy": accuracy(labels, predictions),
        "f1_macro": float(f1_score(labels, predictions, average="macro", zero_division=0)),
        "mcc": mcc(labels, predictions),
    }


# metrics of scores for one class


def _one_class(labels: np.ndarray, scores: np.ndarray, positive_label: int) -> tuple[np.ndarray, np.ndarray] | None:
    """(is_positive, scores) as flat arrays, or None when only one of the two classes occurs."""
    positive = np.asarray(labels).ravel() == positive_label
    if positive.all() or not positive.any():
        return None
    return positive, np.asarray(scores, dtype=np.float64).ravel()


def roc_auc(labels: np.ndarray, scores: np.ndarray, *, positive_label: int = 1) -> float:
    """ROC-AUC of `scores` (higher = more likely `positive_label`) against (n,) labels; NaN with a single class.

    Example:
        >>> roc_auc(np.array([0, 0, 1, 1]), np.array([0.1, 0.6, 0.7, 0.9]))
        1.0
    """
    scored = _one_class(labels, scores, positive_label)
    return float(roc_auc_score(*scored)) if scored else math.nan


def pr_auc(labels: np.ndarray, scores: np.ndarray, *, positive_label: int = 1) -> float:
    """PR-AUC (average precision) of `scores` for the class `positive_label`; NaN with a single class."""
    scored = _one_class(labels, scores, positive_label)
    return float(average_precision_score(*scored)) if scored else math.nan


def _one_vs_rest(labels: np.ndarray, probs: np.ndarray, score: Callable, positive_label: int) -> float:
    """`score` of the positive class for two classes; else the mean of `score(class c vs rest)` over the classes
    with both positives and negatives (scikit-learn's `multi_class="ovr"`, `average="macro"` when every class is
    present); NaN if there are none."""
    if probs.shape[1] == 2 and positive_label not in (0, 1):
        raise ValueError(f"positive_label {positive_label!r} is not a class of a binary classifier (0 or 1)")
    classes = [positive_label] if probs.shape[1] == 2 else range(probs.shape[1])
    values = [score(labels, probs[:, c], positive_label=c) for c in classes]
    values = [value for value in values if not math.isnan(value)]
    return float(np.mean(values)) if values else math.nan


def classification_metrics(labels: np.ndarray, logits: np.ndarray, *, positive_label: int = 1) -> dict[str, float]:
    """Accuracy, macro-F1, MCC, ROC-AUC and PR-AUC of (n,) integer labels against (n, num_labels) logits.

    `positive_label` names the class whose probability a binary classifier's ROC-AUC and PR-AUC score (a single
    logit is P(1)); with more classes both are one-vs-rest macro averages and it is not used.

    Example:
        >>> m = classification_metrics(np.array([0, 1, 1]), np.array([[2.0, 0.0], [0.0, 1.0], [1.0, 0.0]]))
        >>> round(m["accuracy"], 3), m["roc_auc"]
        (0.667, 1.0)
    """
    labels = np.asarray(labels).astype(np.int64).ravel()
    probs = probabilities(logits)
    return {
        **label_metrics(labels, probs.argmax(-1)),
        "roc_auc": _one_vs_rest(labels, probs, roc_auc, positive_label),
        "pr_auc": _one_vs_rest(labels, probs, pr_auc, positive_label),
    }


def spearman(labels: np.ndarray, predictions: np.ndarray) -> float:
    """Spearman's rank correlation of two (n,) arrays; NaN (not an error) for fewer than 2 items or a constant input.

    Example:
        >>> spearman(np.array([1.0, 2.0, 3.0]), np.array([10.0, 30.0, 20.0]))
        0.5
    """
    labels = np.asarray(labels, dtype=np.float64).ravel()
    predictions = np.asarray(predictions, dtype=np.float64).ravel()
    if labels.size < 2:
        return math.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConstantInputWarning)
        return float(spearmanr(labels, predictions).statistic)


def pearson(labels: np.ndarray, predictions: np.ndarray) -> float:
    """Pearson's correlation of two (n,) arrays; NaN for fewer than 2 items or a constant input."""
    labels = np.asarray(labels, dtype=np.float64).ravel()
    predictions = np.asarray(predictions, dtype=np.float64).ravel()
    if labels.size < 2:
        return math.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConstantInputWarning)
        return float(pearsonr(labels, predictions).statistic)


def regression_metrics(labels: np.ndarray, predictions: np.ndarray) -> dict[str, float]:
    """Spearman and Pearson correlation, MSE and MAE of (n,) targets against (n,) or (n, 1) predictions.

    Correlations of a constant input are NaN (undefined), not an error.
    """
    labels = np.asarray(labels, dtype=np.float64).ravel()
    predictions = np.asarray(predictions, dtype=np.float64).ravel()
    return {
        "spearman": spearman(labels, predictions),
        "pearson": pearson(labels, predictions),
        "mse": float(mean_squared_error(labels, predictions)),
        "mae": float(mean_absolute_error(labels, predictions)),
    }


# residue level


def valid_residues(labels: np.ndarray, outputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flatten (proteins, positions) labels and (proteins, positions[, k]) outputs to the scored residues.

    Either padded arrays (as `Trainer` gathers them) or a list with one array per protein (of any lengths). A
    position is dropped when its label is -100 (special token, padding, ignored residue) or NaN.

    Example:
        >>> valid_residues([[0, -100], [1]], [[[2.0, 0.0], [0.0, 0.0]], [[0.0, 1.0]]])[0]
        array([0, 1])
    """
    if isinstance(labels, list | tuple):
        proteins = per_protein_residues(labels, outputs)
        if not proteins:
            raise ValueError("no protein has a scored residue")
        return np.concatenate([truth for truth, _ in proteins]), np.concatenate([values for _, values in proteins])
    labels = np.asarray(labels)
    outputs = np.asarray(outputs)
    if outputs.shape[: labels.ndim] != labels.shape:
        raise ValueError(f"labels {labels.shape} and model outputs {outputs.shape} do not cover the same positions")
    keep = labels != IGNORE_INDEX
    if np.issubdtype(labels.dtype, np.floating):
        keep &= ~np.isnan(labels)
    return labels[keep], outputs[keep]


def per_protein_residues(labels, outputs) -> list[tuple[np.ndarray, np.ndarray]]:
    """`valid_residues` of each protein (a row of padded arrays, or an item of per-protein lists), for the proteins
    with at least one scored residue."""
    proteins = [
        valid_residues(np.asarray(truth), np.asarray(values)) for truth, values in zip(labels, outputs, strict=True)
    ]
    return [(truth, values) for truth, values in proteins if truth.size]


def residue_classification_metrics(
    labels: np.ndarray, logits: np.ndarray, *, positive_label: int = 1
) -> dict[str, float]:
    """`classification_metrics` over every scored residue of every protein (-100 positions ignored)."""
    labels, logits = valid_residues(labels, logits)
    return classification_metrics(labels, logits, positive_label=positive_label)


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
    predictions = predicted_labels(logits.reshape(-1, logits.shape[-1]))
    return confusion_matrix(labels.astype(np.int64), predictions, labels=list(range(num_labels)))


def q3_metrics(labels: Sequence[np.ndarray], logits: Sequence[np.ndarray], class_names: Sequence[str]) -> dict:
    """Q3 of 3-state secondary structure and the scores reported beside it.

    `labels` and `logits` as for `valid_residues` (padded arrays or one array per protein). Q3 is the accuracy over
    every scored residue of every protein (the `accuracy` of `residue_classification_metrics`); `q3_per_protein` is
    the mean of each protein's Q3 over the proteins with a scored residue; per class (named by `class_names`, in
    label order): precision, recall, F1 and support; `f1_macro` is the mean of the per-class F1 (a class that never
    occurs counts as 0); rows of `confusion_matrix` are true classes.

    Example:
        >>> m = q3_metrics([[0, 1, -100], [2]], [np.eye(3), np.eye(3)[:1]], ("H", "E", "C"))
        >>> m["q3"], m["q3_per_protein"], m["scored_residues"]
        (0.6666666666666666, 0.5, 3)
    """
    proteins = [
        (truth.astype(np.int64), predicted_labels(values)) for truth, values in per_protein_residues(labels, logits)
    ]
    if not proteins:
        raise ValueError("no protein has a scored residue")
    true = np.concatenate([truth for truth, _ in proteins])
    predicted = np.concatenate([values for _, values in proteins])
    classes = list(range(len(class_names)))
    precision, recall, f1, support = precision_recall_fscore_support(true, predicted, labels=classes, zero_division=0)
    return {
        "q3": accuracy(true, predicted),
        "q3_per_protein": float(np.mean([accuracy(truth, values) for truth, values in proteins])),
        "scored_residues": int(true.size),
        "proteins": len(proteins),
        "per_class": {
            name: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(n)}
            for name, p, r, f, n in zip(class_names, precision, recall, f1, support, strict=True)
        },
        "f1_macro": float(np.mean(f1)),
        "confusion_matrix": confusion_matrix(true, predicted, labels=classes).tolist(),
    }


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
    return {
        "accuracy": accuracy(labels, predictions),
        "f1": float(f1_score(labels, predictions, zero_division=0)),
        "roc_auc": roc_auc(labels, probabilities),
        "mcc": mcc(labels, predictions),
    }


def phosphosite_metrics(targets: np.ndarray, probabilities: np.ndarray, threshold: float = 0.5) -> dict[str, float]:
    """`rounded_accuracy` of (soft or hard) targets and the `site_metrics` of the targets rounded to 0/1.

    Example:
        >>> m = phosphosite_metrics(np.array([0.1, 0.7, 0.95, 0.3]), np.array([0.2, 0.9, 0.5, 0.6]))
        >>> m["rounded_accuracy"], m["accuracy"]
        (0.5, 0.5)
    """
    targets = np.asarray(targets, dtype=np.float64).ravel()
    return {
        "rounded_accuracy": rounded_accuracy(targets, probabilities),
        **site_metrics(np.round(targets), probabilities, threshold),
    }
