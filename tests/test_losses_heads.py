"""The shared loss (`modeling/losses.py`), pooling and heads (`modeling/heads.py`).

Every loss case is checked against a hand-written formula, not against the torch call it wraps; the label checks
run through every registered classification head (`head_case`, see tests/conftest.py).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from proteinhub.modeling import balanced_class_weights, classification_loss, masked_pool
from proteinhub.modeling.heads import SequenceClassificationHead
from sklearn.utils.class_weight import compute_class_weight

SINGLE, MULTI, REGRESSION = "single_label_classification", "multi_label_classification", "regression"


def _logits(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64) * 2


def _nll(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """-log softmax(logits)[label] per item."""
    return -logits.log_softmax(-1).gather(-1, labels.unsqueeze(-1)).squeeze(-1)


def _bce(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy per element, from the definition."""
    p = logits.sigmoid()
    return -(targets * p.log() + (1 - targets) * (1 - p).log())


# each case: () -> (loss from classification_loss, the same loss from its definition)


def _ce_plain():
    logits, labels = _logits(6, 3), torch.tensor([0, 2, 1, 1, 0, 2])
    return classification_loss(logits, labels, problem_type=SINGLE), _nll(logits, labels).mean()


def _ce_class_weights():
    logits, labels, weights = _logits(6, 3), torch.tensor([0, 2, 1, 1, 0, 2]), [0.5, 2.0, 1.5]
    w = torch.tensor(weights, dtype=torch.float64)[labels]
    expected = (w * _nll(logits, labels)).sum() / w.sum()  # a weighted mean, normalised by the weights
    return classification_loss(logits, labels, problem_type=SINGLE, class_weights=weights), expected


def _ce_ignore_index():
    logits, labels = _logits(2, 5, 3), torch.tensor([[0, 2, -100, 1, -100], [-100, 1, 1, 0, 2]])
    keep = labels != -100
    return classification_loss(logits, labels, problem_type=SINGLE), _nll(logits[keep], labels[keep]).mean()


def _ce_weights_and_ignore_index():
    logits, labels, weights = _logits(2, 5, 3), torch.tensor([[0, 2, -100, 1, -100], [-100, 1, 1, 0, 2]]), [1, 3, 2]
    keep = labels != -100
    w = torch.tensor(weights, dtype=torch.float64)[labels[keep]]
    expected = (w * _nll(logits[keep], labels[keep])).sum() / w.sum()
    return classification_loss(logits, labels, problem_type=SINGLE, class_weights=weights), expected


def _ce_label_smoothing():
    logits, labels, eps = _logits(6, 4), torch.tensor([0, 3, 1, 2, 0, 1]), 0.2
    log_p = logits.log_softmax(-1)
    expected = ((1 - eps) * _nll(logits, labels) + eps * -log_p.mean(-1)).mean()
    return classification_loss(logits, labels, problem_type=SINGLE, label_smoothing=eps), expected


def _ce_soft_labels():
    logits = _logits(5, 3)
    targets = torch.rand(5, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64).softmax(-1)
    expected = -(targets * logits.log_softmax(-1)).sum(-1).mean()
    return classification_loss(logits, targets, problem_type=SINGLE), expected


def _bce_soft_targets():
    logits = _logits(4, 3)
    targets = torch.rand(4, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    return classification_loss(logits, targets, problem_type=MULTI), _bce(logits, targets).mean()


def _bce_ignore_index():
    logits, targets = _logits(2, 6, 1), torch.tensor([[0, 1, 1, -100, 0, -100], [1, -100, 0, 0, 1, 1]])
    keep = targets != -100
    expected = _bce(logits[..., 0][keep], targets[keep].double()).mean()
    return classification_loss(logits, targets, problem_type=MULTI), expected


def _bce_single_logit_binary():
    logits, labels = _logits(6, 1), torch.tensor([0, 1, 1, 0, 1, 0])  # (batch,) ids of a one-logit binary model
    return classification_loss(logits, labels, problem_type=MULTI), _bce(logits[:, 0], labels.double()).mean()


def _bce_single_logit_class_weights():
    logits, labels = _logits(6, 1), torch.tensor([0.0, 1, 1, 0, 1, 0.3], dtype=torch.float64)
    negative, positive = 0.4, 3.0
    w = labels * positive + (1 - labels) * negative
    expected = (w * _bce(logits[:, 0], labels)).sum() / w.sum()
    actual = classification_loss(logits, labels, problem_type=MULTI, class_weights=[negative, positive])
    return actual, expected


def _bce_label_smoothing():
    logits, labels, eps = _logits(6, 1), torch.tensor([0, 1, 1, 0, 1, 0]), 0.1
    smoothed = labels.double() * (1 - eps) + 0.5 * eps
    actual = classification_loss(logits, labels, problem_type=MULTI, label_smoothing=eps)
    return actual, _bce(logits[:, 0], smoothed).mean()


def _mse_ignores_nan():
    logits, targets = _logits(5, 1), torch.tensor([0.5, float("nan"), -1.0, 2.0, float("nan")])
    keep = ~targets.isnan()
    expected = ((logits[:, 0][keep] - targets[keep].double()) ** 2).mean()
    return classification_loss(logits, targets, problem_type=REGRESSION), expected


LOSS_CASES = {
    "ce": _ce_plain,
    "ce-class-weights": _ce_class_weights,
    "ce-ignore-index": _ce_ignore_index,
    "ce-class-weights-ignore-index": _ce_weights_and_ignore_index,
    "ce-label-smoothing": _ce_label_smoothing,
    "ce-soft-labels": _ce_soft_labels,
    "bce-soft-targets": _bce_soft_targets,
    "bce-ignore-index": _bce_ignore_index,
    "bce-single-logit": _bce_single_logit_binary,
    "bce-single-logit-neg-pos-weights": _bce_single_logit_class_weights,
    "bce-label-smoothing": _bce_label_smoothing,
    "mse-ignores-nan": _mse_ignores_nan,
}


@pytest.mark.parametrize("case", LOSS_CASES.values(), ids=LOSS_CASES.keys())
def test_loss_matches_its_definition(case):
    actual, expected = case()
    assert actual.dim() == 0
    torch.testing.assert_close(actual, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    ("logits", "labels", "kwargs", "message"),
    [
        (_logits(3, 3), torch.tensor([0, 3, 1]), {}, r"label 3 at batch position \(1,\) is outside \[0, 3\)"),
        (_logits(3, 3), torch.tensor([0, 1, -2]), {}, r"label -2 at batch position \(2,\)"),
        (_logits(2, 4, 3), torch.tensor([[0, 1, 2, -100], [1, -100, 7, 0]]), {}, r"label 7 .* \(1, 2\)"),
    ],
    ids=["above-range", "negative", "token-level"],
)
def test_single_label_out_of_range_names_the_position(logits, labels, kwargs, message):
    with pytest.raises(ValueError, match=message):
        classification_loss(logits, labels, problem_type=SINGLE, **kwargs)


@pytest.mark.parametrize(
    ("logits", "labels", "message"),
    [
        (_logits(3, 1), torch.tensor([0.0, 1.0, 2.0]), r"target 2.0 at batch position \(2,\)"),
        (_logits(2, 3), torch.tensor([[0.0, 0.5, 1.0], [-0.5, 0.0, 0.0]]), r"target -0.5 at batch position \(1, 0\)"),
    ],
    ids=["single-logit", "multi-label"],
)
def test_binary_targets_outside_unit_interval_name_the_position(logits, labels, message):
    with pytest.raises(ValueError, match=message):
        classification_loss(logits, labels, problem_type=MULTI)


def test_bce_class_weights_need_a_single_logit():
    with pytest.raises(ValueError, match="single-logit"):
        classification_loss(_logits(3, 2), torch.ones(3, 2), problem_type=MULTI, class_weights=[1.0, 2.0])


# balanced class weights


@pytest.mark.parametrize(
    ("labels", "num_classes"),
    [([0, 0, 0, 1], 2), ([2, 0, 1, 1, 1, 2, 1, 1], 3), ([[0, 1, -100], [1, 1, -100]], 2), ([3, 0, 1, 2, 3, 3], 4)],
    ids=["binary", "three-classes", "residue-labels-with-ignore", "four-classes"],
)
def test_balanced_class_weights_match_sklearn(labels, num_classes):
    flat = np.asarray(labels).ravel()
    flat = flat[flat != -100]
    expected = compute_class_weight("balanced", classes=np.arange(num_classes), y=flat)
    np.testing.assert_allclose(balanced_class_weights(labels, num_classes), expected, rtol=1e-12)


def test_balanced_class_weights_name_a_missing_class():
    with pytest.raises(ValueError, match=r"classes \[1\] never occur"):
        balanced_class_weights([0, 0, 2], 3)


# masked pooling


@pytest.mark.parametrize("mode", ["mean", "max", "first"])
@pytest.mark.parametrize("padding_value", [1e6, -1e6, math.inf, math.nan])
def test_masked_pool_ignores_padding(mode, padding_value):
    lengths = [5, 2, 7]
    hidden = torch.randn(3, 7, 4, generator=torch.Generator().manual_seed(0))
    mask = torch.arange(7)[None, :] < torch.tensor(lengths)[:, None]
    hidden = hidden.masked_fill(~mask.unsqueeze(-1), padding_value)
    pooled = masked_pool(hidden, mask.long(), mode)
    for index, length in enumerate(lengths):
        alone = hidden[index, :length]
        expected = {"mean": alone.mean(0), "max": alone.amax(0), "first": alone[0]}[mode]
        torch.testing.assert_close(pooled[index], expected, rtol=1e-6, atol=1e-6)


def test_pooling_mode_is_checked():
    with pytest.raises(ValueError, match="unknown pooling mode 'sum'"):
        SequenceClassificationHead(8, 2, pooling="sum")
    with pytest.raises(ValueError, match="unknown pooling mode 'sum'"):
        masked_pool(torch.zeros(1, 3, 8), torch.ones(1, 3), "sum")


# labels through every registered head


def _first_scored(labels: torch.Tensor) -> tuple[int, ...]:
    """The first position of item 1 that carries a label (not -100)."""
    return (1,) if labels.dim() == 1 else (1, int(torch.nonzero(labels[1] != -100)[0]))


CLASSIFICATION_HEADS = ("sequence", "token")


def test_labels_outside_num_labels_name_the_batch_position(head_case):
    if head_case.head not in CLASSIFICATION_HEADS:
        pytest.skip("language-model head: its classes are the vocabulary, the shared tokenizer cannot emit others")
    model, batch = head_case.model(), head_case.batch()
    labels = head_case.labels(batch)
    position = _first_scored(labels)
    # one past the last class, or a probability above 1 for a single-logit binary model
    labels[position] = 2.0 if labels.is_floating_point() else model.config.num_labels
    with pytest.raises(ValueError, match=rf"at batch position \({', '.join(map(str, position))},?\)"):
        model(**batch, labels=labels)


def test_residue_labels_must_match_the_tokens(head_case):
    if head_case.head != "token":
        pytest.skip("sequence-level head")
    model, batch = head_case.model(), head_case.batch()
    labels = head_case.labels(batch)
    for wrong in (labels[:, :-1], torch.cat([labels, labels[:, :2]], dim=1)):
        with pytest.raises(ValueError, match="aligned with the tokens"):
            model(**batch, labels=wrong)


def test_class_weights_and_label_smoothing_reach_the_loss(head_case):
    """The config's loss options are used by the head's forward (not only by `classification_loss`)."""
    if head_case.head not in CLASSIFICATION_HEADS:
        pytest.skip("class weights and label smoothing are options of the classification heads")
    model, batch = head_case.model(), head_case.batch()
    labels = head_case.labels(batch)
    num_labels = model.config.num_labels
    weights = [0.5, 3.0] if num_labels == 1 else [0.5 + i for i in range(num_labels)]
    with torch.no_grad():
        logits = model(**batch).logits
        weighted = head_case.model(class_weights=weights, label_smoothing=0.1)(**batch, labels=labels).loss
    problem_type = MULTI if num_labels == 1 else SINGLE
    expected = classification_loss(
        logits, labels, problem_type=problem_type, class_weights=weights, label_smoothing=0.1
    )
    torch.testing.assert_close(weighted, expected)
    assert not torch.allclose(weighted, classification_loss(logits, labels, problem_type=problem_type))


def test_bce_matches_torch_with_logits():
    """Sanity check of the reference formula above against torch's fused implementation."""
    logits, targets = _logits(4, 3), torch.rand(4, 3, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    torch.testing.assert_close(_bce(logits, targets).mean(), F.binary_cross_entropy_with_logits(logits, targets))
