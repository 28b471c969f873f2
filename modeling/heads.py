"""Shared heads: masked pooling, sequence- and token-level classification/regression.

A family's `<Family>For<Task>` class is its backbone (stored under `base_model_prefix`) plus one of these heads; the
forward pass, loss and output dataclass come from the mixins below, so every family behaves the same way. A head
with its own forward (window classifiers, the localization CNN + BiLSTM) still takes its loss from
`ClassificationLossMixin`.
"""

from __future__ import annotations

import torch
from torch import nn
from transformers.modeling_outputs import SequenceClassifierOutput, TokenClassifierOutput

from .losses import classification_loss
from .tasks import PROTEIN, RESIDUE, resolve_problem_type

POOLING_MODES = ("mean", "max", "first")


def masked_pool(hidden: torch.Tensor, mask: torch.Tensor | None, mode: str = "mean") -> torch.Tensor:
    """Pool (batch, length, hidden) over the positions where `mask` is 1; padding never contributes.

    `mode`: "mean", "max" or "first" (the first token, e.g. `<cls>`).
    """
    if mode == "first":
        return hidden[:, 0]
    if mask is None:
        return hidden.mean(1) if mode == "mean" else hidden.amax(1)
    padding = ~mask.bool().unsqueeze(-1)  # (batch, length, 1)
    if mode == "mean":
        # masked_fill, not a product with the mask: a non-finite value at a padded position would survive `* 0`
        counts = (~padding).sum(1).clamp(min=1).to(hidden.dtype)
        return hidden.masked_fill(padding, 0.0).sum(1) / counts
    if mode == "max":
        return hidden.masked_fill(padding, torch.finfo(hidden.dtype).min).amax(1)
    raise ValueError(f"unknown pooling mode {mode!r}; choose one of {POOLING_MODES}")


class SequenceClassificationHead(nn.Module):
    """Masked pooling -> dropout -> linear to `num_labels` (classification, multi-label or regression)."""

    def __init__(self, hidden_size: int, num_labels: int, *, dropout: float = 0.1, pooling: str = "mean"):
        super().__init__()
        if pooling not in POOLING_MODES:
            raise ValueError(f"unknown pooling mode {pooling!r}; choose one of {POOLING_MODES}")
        self.pooling = pooling
        self.dropout = nn.Dropout(dropout)
        self.out_proj = nn.Linear(hidden_size, num_labels)

    def forward(self, hidden: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        return self.out_proj(self.dropout(masked_pool(hidden, mask, self.pooling)))  # (batch, num_labels)


class TokenClassificationHead(nn.Module):
    """Dropout -> linear to `num_labels` at every position."""

    def __init__(self, hidden_size: int, num_labels: int, *, dropout: float = 0.1):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.out_proj = nn.Linear(hidden_size, num_labels)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.out_proj(self.dropout(hidden))  # (batch, length, num_labels)


class ClassificationLossMixin:
    """The loss of every classification or regression head: `classification_loss` with the config's problem type
    (`tasks.resolve_problem_type`), class weights and label smoothing, at the head's `level` (which also decides the
    label-shape check)."""

    level: str  # "protein", "residue" or "site" (see `tasks`)

    def _loss(self, logits: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor | None:
        if labels is None:
            return None
        config = self.config
        return classification_loss(
            logits,
            labels,
            problem_type=resolve_problem_type(config.num_labels, config.problem_type),
            class_weights=config.class_weights,
            label_smoothing=config.label_smoothing,
            level=self.level,
        )


class _HeadModelMixin(ClassificationLossMixin):
    """Runs the backbone (`self.base_model`) and the head (`self.classifier`); the loss when labels are given."""

    def _backbone_forward(self, input_ids, attention_mask, inputs_embeds, output_hidden_states):
        return self.base_model(
            input_ids=input_ids,
            attention_mask=attention_mask,
            inputs_embeds=inputs_embeds,
            output_hidden_states=output_hidden_states,
        )


class SequenceClassificationMixin(_HeadModelMixin):
    """`forward` of every `<Family>ForSequenceClassification`: one prediction per protein."""

    level = PROTEIN

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        output_hidden_states: bool | None = None,
        output_attentions: bool | None = None,
        return_dict: bool | None = None,
    ) -> SequenceClassifierOutput | tuple:
        """`labels`: (batch,) class ids, (batch, num_labels) soft/multi-hot targets, or (batch,) floats for
        regression; a single-logit binary model takes (batch,) targets in [0, 1]."""
        outputs = self._backbone_forward(input_ids, attention_mask, inputs_embeds, output_hidden_states)
        logits = self.classifier(outputs.last_hidden_state, outputs.pooling_mask)
        output = SequenceClassifierOutput(
            loss=self._loss(logits, labels), logits=logits, hidden_states=outputs.hidden_states
        )
        return output if return_dict is not False else output.to_tuple()


class TokenClassificationMixin(_HeadModelMixin):
    """`forward` of every `<Family>ForTokenClassification`: one prediction per residue."""

    level = RESIDUE

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        output_hidden_states: bool | None = None,
        output_attentions: bool | None = None,
        return_dict: bool | None = None,
    ) -> TokenClassifierOutput | tuple:
        """`labels`: (batch, length) per-token class ids (or targets in [0, 1] for a single-logit model), -100 on
        padding and special tokens."""
        outputs = self._backbone_forward(input_ids, attention_mask, inputs_embeds, output_hidden_states)
        logits = self.classifier(outputs.last_hidden_state)
        output = TokenClassifierOutput(
            loss=self._loss(logits, labels), logits=logits, hidden_states=outputs.hidden_states
        )
        return output if return_dict is not False else output.to_tuple()
