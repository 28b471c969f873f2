"""The one loss module of proteinhub: cross-entropy / BCE / MSE with class weights, label smoothing and soft labels.

Every head of every family calls `classification_loss` (the classification and regression heads through
`heads.ClassificationLossMixin`, the language-model heads directly); it checks the labels' shape against the logits
once (`check_label_shape`) and skips `IGNORE_INDEX` targets. The loss is a (weighted) mean over the valid items of
the batch, which is why every model sets `accepts_loss_kwargs = False` (see docs: otherwise DDP scales it twice).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from .tasks import IGNORE_INDEX, MULTI_LABEL, PROTEIN, REGRESSION, RESIDUE, SINGLE_LABEL, get_level


def balanced_class_weights(labels: Sequence[int] | np.ndarray, num_classes: int) -> list[float]:
    """`n_samples / (num_classes * count_c)` per class, as scikit-learn's "balanced"; `-100` entries are ignored.

    Example:
        >>> balanced_class_weights([0, 0, 0, 1], 2)
        [0.6666666666666666, 2.0]
    """
    labels = np.asarray(labels).ravel()
    labels = labels[labels != IGNORE_INDEX].astype(np.int64)
    counts = np.bincount(labels, minlength=num_classes)[:num_classes]
    if (counts == 0).any():
        missing = np.flatnonzero(counts == 0).tolist()
        raise ValueError(f"cannot compute balanced class weights: classes {missing} never occur in the labels")
    return (labels.size / (num_classes * counts)).tolist()


def _check_class_range(labels: torch.Tensor, num_classes: int) -> None:
    valid = labels[labels != IGNORE_INDEX]
    bad = (valid < 0) | (valid >= num_classes)
    if bool(bad.any()):
        flat_index = torch.nonzero((labels != IGNORE_INDEX) & ((labels < 0) | (labels >= num_classes)))[0].tolist()
        value = labels[tuple(flat_index)].item()
        raise ValueError(
            f"label {value} at batch position {tuple(flat_index)} is outside [0, {num_classes}); "
            f"the model has num_labels={num_classes} (use {IGNORE_INDEX} for positions to ignore)."
        )


def _check_probability_range(targets: torch.Tensor) -> None:
    bad = (targets != IGNORE_INDEX) & ((targets < 0) | (targets > 1))
    if bool(bad.any()):
        position = tuple(torch.nonzero(bad)[0].tolist())
        raise ValueError(
            f"target {targets[position].item()} at batch position {position} is outside [0, 1]; binary and "
            f"multi-label targets are probabilities (use {IGNORE_INDEX} for positions to ignore)."
        )


def check_label_shape(labels: torch.Tensor, logits_shape: Sequence[int], level_name: str) -> None:
    """Raise unless `labels` fit logits of `logits_shape` at `level_name` ("protein", "residue" or "site").

    Residue level: (batch, length) class ids or values, or (batch, length, num_labels) soft targets, aligned with
    the tokens. Protein and site level: (batch,) class ids or values, or (batch, num_labels) soft/multi-hot targets.
    """
    get_level(level_name)  # an unknown level raises
    logits_shape = tuple(logits_shape)
    if level_name == RESIDUE:
        if tuple(labels.shape[:2]) != logits_shape[:2] or labels.dim() not in (2, 3):
            raise ValueError(
                f"labels have shape {tuple(labels.shape)} but the model produced {logits_shape[:2]} positions; "
                f"residue labels must be aligned with the tokens ({IGNORE_INDEX} on special tokens and padding)."
            )
        return
    if labels.shape[:1] != logits_shape[:1] or not (labels.dim() == 1 or tuple(labels.shape) == logits_shape):
        unit = "protein" if level_name == PROTEIN else "site"
        raise ValueError(
            f"labels have shape {tuple(labels.shape)} but the model produced logits of shape {logits_shape}; give "
            f"one label per {unit} (batch,) or one target per output (batch, num_labels)."
        )


def classification_loss(
    logits: torch.Tensor,
    labels: torch.Tensor,
    *,
    problem_type: str,
    class_weights: Sequence[float] | None = None,
    label_smoothing: float = 0.0,
    level: str | None = None,
    reduction: str = "mean",
) -> torch.Tensor:
    """Loss of `logits` (..., num_labels) against `labels`, skipping `-100` targets: the entry point of every head.

    - `problem_type="regression"`: MSE; NaN targets are ignored.
    - `"single_label_classification"`: cross-entropy; integer labels (...) or soft labels (..., num_labels).
    - `"multi_label_classification"` (also a single-logit binary classifier): BCE with logits on float targets in
      [0, 1] (soft labels allowed); with one logit, `class_weights` = (negative, positive).

    `class_weights` and `label_smoothing` follow `torch.nn.functional.cross_entropy` (weighted mean). `level`
    ("protein", "residue", "site"; see `tasks`) checks the labels' shape first (`check_label_shape`). `reduction`:
    "mean" over the valid items (every head), or "sum" (a loss with its own normalisation, e.g. ProteinBERT's).
    A `problem_type` of None raises: resolve it first (`tasks.resolve_problem_type`).
    """
    if level is not None:
        check_label_shape(labels, logits.shape, level)
    if reduction not in ("mean", "sum"):
        raise ValueError(f"reduction must be 'mean' or 'sum', got {reduction!r}")
    num_labels = logits.shape[-1]
    if problem_type == REGRESSION:
        predictions = logits.squeeze(-1) if num_labels == 1 else logits
        targets = labels.to(predictions.dtype).reshape(predictions.shape)
        valid = ~torch.isnan(targets) & (targets != IGNORE_INDEX)
        return F.mse_loss(predictions[valid], targets[valid], reduction=reduction)

    weights = torch.as_tensor(class_weights, dtype=logits.dtype, device=logits.device) if class_weights else None
    if problem_type == MULTI_LABEL:
        _check_probability_range(labels)  # before the reshape below, so the position matches the caller's labels
        if num_labels == 1 and labels.dim() == logits.dim() - 1:
            labels = labels.unsqueeze(-1)
        targets = labels.to(logits.dtype)
        valid = targets != IGNORE_INDEX
        targets = targets[valid]
        scores = logits[valid]
        if label_smoothing:
            targets = targets * (1.0 - label_smoothing) + 0.5 * label_smoothing
        per_item = F.binary_cross_entropy_with_logits(scores, targets, reduction="none")
        if weights is None:
            return per_item.mean() if reduction == "mean" else per_item.sum()
        if num_labels != 1 or weights.numel() != 2:
            raise ValueError("class_weights with BCE need a single-logit binary model and two weights (neg, pos)")
        item_weights = targets * weights[1] + (1.0 - targets) * weights[0]
        weighted = (per_item * item_weights).sum()
        return weighted / item_weights.sum() if reduction == "mean" else weighted

    if problem_type != SINGLE_LABEL:
        raise ValueError(
            f"problem_type {problem_type!r} is not one of single_label_classification, multi_label_classification, "
            "regression; resolve a missing one with tasks.resolve_problem_type"
        )
    flat_logits = logits.reshape(-1, num_labels)
    if labels.is_floating_point() and labels.shape == logits.shape:
        soft = labels.reshape(-1, num_labels)
        return F.cross_entropy(flat_logits, soft, weight=weights, label_smoothing=label_smoothing, reduction=reduction)
    labels = labels.long()
    _check_class_range(labels, num_labels)
    return F.cross_entropy(
        flat_logits,
        labels.reshape(-1),
        weight=weights,
        ignore_index=IGNORE_INDEX,
        label_smoothing=label_smoothing,
        reduction=reduction,
    )
