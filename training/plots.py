"""Figures of a training run: learning curves, confusion matrix, regression scatter (matplotlib, Agg backend)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # runs on machines without a display, and inside `accelerate launch` workers

import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
import numpy as np  # noqa: E402


def _per_epoch(log_history: list[dict], key: str) -> tuple[list[float], list[float]]:
    """(epochs, values) of every log entry that holds `key`."""
    points = [(entry["epoch"], entry[key]) for entry in log_history if key in entry and "epoch" in entry]
    return [epoch for epoch, _ in points], [value for _, value in points]


def plot_learning_curves(
    log_history: list[dict], output_dir: str | Path, metric: str, *, greater_is_better: bool = True
) -> list[Path]:
    """Write `learning_curve_loss.png` (training and validation loss) and `learning_curve_<metric>.png`
    (validation `metric`, best epoch starred) from `trainer.state.log_history`; returns the paths written. With
    `metric="loss"` the best validation loss is starred on the loss figure, and there is no second one."""
    output_dir = Path(output_dir)
    written = []

    figure, axes = plt.subplots(figsize=(6, 4))
    for key, label, style in (("loss", "training", "o-"), ("eval_loss", "validation", "s-")):
        epochs, values = _per_epoch(log_history, key)
        if epochs:
            axes.plot(epochs, values, style, label=label)
    epochs, values = _per_epoch(log_history, "eval_loss")
    if metric == "loss" and epochs:
        best = int(np.nanargmax(values) if greater_is_better else np.nanargmin(values))
        axes.plot([epochs[best]], [values[best]], "*", markersize=14, color="tab:red", label="best")
    axes.set_xlabel("epoch")
    axes.set_ylabel("loss")
    axes.set_title("Loss per epoch")
    axes.grid(alpha=0.3)
    if axes.get_legend_handles_labels()[0]:
        axes.legend()
    figure.tight_layout()
    path = output_dir / "learning_curve_loss.png"
    figure.savefig(path, dpi=120)
    plt.close(figure)
    written.append(path)

    epochs, values = _per_epoch(log_history, f"eval_{metric}")
    if epochs and metric != "loss":
        figure, axes = plt.subplots(figsize=(6, 4))
        axes.plot(epochs, values, "s-", color="tab:orange", label="validation")
        best = int(np.nanargmax(values) if greater_is_better else np.nanargmin(values))
        axes.plot([epochs[best]], [values[best]], "*", markersize=14, color="tab:red", label="best")
        axes.set_xlabel("epoch")
        axes.set_ylabel(metric)
        axes.set_title(f"Validation {metric} per epoch")
        axes.grid(alpha=0.3)
        axes.legend()
        figure.tight_layout()
        path = output_dir / f"learning_curve_{metric}.png"
        figure.savefig(path, dpi=120)
        plt.close(figure)
        written.append(path)
    return written


def plot_confusion_matrix(matrix: np.ndarray, class_names: list[str], path: str | Path, title: str) -> Path:
    """Heat map of a (true, predicted) count matrix with the count written in every cell."""
    matrix = np.asarray(matrix)
    size = max(4.0, 0.6 * len(class_names) + 2.5)
    figure, axes = plt.subplots(figsize=(size + 1, size))
    image = axes.imshow(matrix, cmap="Blues")
    figure.colorbar(image, ax=axes, label="count")
    ticks = np.arange(len(class_names))
    rotate = len(class_names) > 3
    axes.set_xticks(ticks, class_names, rotation=45 if rotate else 0, ha="right" if rotate else "center")
    axes.set_yticks(ticks, class_names)
    axes.set_xlabel("predicted class")
    axes.set_ylabel("true class")
    axes.set_title(title)
    threshold = matrix.max() / 2 if matrix.size else 0
    for (row, column), count in np.ndenumerate(matrix):
        color = "white" if count > threshold else "black"
        axes.text(column, row, f"{count:,}", ha="center", va="center", color=color)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return Path(path)


def plot_regression_scatter(labels: np.ndarray, predictions: np.ndarray, path: str | Path, title: str) -> Path:
    """Predicted against measured values, with the identity line."""
    labels = np.asarray(labels, dtype=float).ravel()
    predictions = np.asarray(predictions, dtype=float).ravel()
    figure, axes = plt.subplots(figsize=(5, 5))
    axes.scatter(labels, predictions, s=6, alpha=0.4)
    low, high = float(min(labels.min(), predictions.min())), float(max(labels.max(), predictions.max()))
    axes.plot([low, high], [low, high], "--", color="gray", label="y = x")
    axes.set_xlabel("measured")
    axes.set_ylabel("predicted")
    axes.set_title(title)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return Path(path)
