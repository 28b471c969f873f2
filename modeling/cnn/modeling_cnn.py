"""Dilated residual CNN (`protein_cnn`): backbone and heads."""

from __future__ import annotations

import torch
from torch import nn
from transformers.modeling_layers import GradientCheckpointingLayer

from ..heads import (
    SequenceClassificationHead,
    SequenceClassificationMixin,
    TokenClassificationHead,
    TokenClassificationMixin,
)
from ..modeling_utils import ProteinModelOutput, ProteinPreTrainedModel
from .configuration_cnn import ProteinCNNConfig

# blocks


class ResidualConvBlock(GradientCheckpointingLayer):
    """LayerNorm -> masked dilated conv -> GELU -> dropout, plus the input (pre-norm residual)."""

    def __init__(self, hidden_size: int, kernel_size: int, dilation: int, dropout: float):
        super().__init__()
        self.norm = nn.LayerNorm(hidden_size)
        self.conv = nn.Conv1d(
            hidden_size, hidden_size, kernel_size, dilation=dilation, padding=dilation * (kernel_size - 1) // 2
        )
        self.activation = nn.GELU()
        self.dropout = nn.Dropout(dropout)

    def forward(self, hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        # zeroing padded positions before the conv makes a padded batch equal to each protein alone
        update = self.norm(hidden) * mask  # (batch, length, hidden)
        update = self.conv(update.transpose(1, 2)).transpose(1, 2)
        return hidden + self.dropout(self.activation(update))


# model


class ProteinCNNPreTrainedModel(ProteinPreTrainedModel):
    config_class = ProteinCNNConfig
    base_model_prefix = "cnn"
    _input_embed_layer = "embed_tokens"
    _no_split_modules = ["ResidualConvBlock"]


class ProteinCNNModel(ProteinCNNPreTrainedModel):
    """Embedding -> 1x1 projection -> `num_layers` dilated residual blocks -> LayerNorm."""

    def __init__(self, config: ProteinCNNConfig):
        super().__init__(config)
        self.embed_tokens = nn.Embedding(config.vocab_size, config.embedding_size, padding_idx=config.pad_token_id)
        self.project = nn.Linear(config.embedding_size, config.hidden_size)
        cycle = config.dilation_cycle
        self.layers = nn.ModuleList(
            ResidualConvBlock(config.hidden_size, config.kernel_size, cycle[i % len(cycle)], config.dropout)
            for i in range(config.num_layers)
        )
        self.final_norm = nn.LayerNorm(config.hidden_size)
        self.post_init()

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        output_hidden_states: bool | None = None,
    ) -> ProteinModelOutput:
        if (input_ids is None) == (inputs_embeds is None):
            raise ValueError("pass exactly one of input_ids or inputs_embeds")
        if inputs_embeds is None:
            inputs_embeds = self.embed_tokens(input_ids)  # (batch, length, embedding_size)
        if attention_mask is None:
            attention_mask = torch.ones(inputs_embeds.shape[:2], dtype=torch.long, device=inputs_embeds.device)
        mask = attention_mask.unsqueeze(-1).to(inputs_embeds.dtype)  # (batch, length, 1)
        hidden = self.project(inputs_embeds) * mask  # (batch, length, hidden_size)
        all_hidden = (hidden,) if output_hidden_states else None
        for layer in self.layers:
            hidden = layer(hidden, mask)
            if output_hidden_states:
                all_hidden += (hidden,)
        hidden = self.final_norm(hidden) * mask
        return ProteinModelOutput(last_hidden_state=hidden, pooling_mask=attention_mask, hidden_states=all_hidden)


# heads


class ProteinCNNForSequenceClassification(SequenceClassificationMixin, ProteinCNNPreTrainedModel):
    """Protein-level classification or regression: masked pooling over the CNN features."""

    def __init__(self, config: ProteinCNNConfig):
        super().__init__(config)
        self.cnn = ProteinCNNModel(config)
        self.classifier = SequenceClassificationHead(
            config.hidden_size, config.num_labels, dropout=config.classifier_dropout, pooling=config.pooling
        )
        self.post_init()


class ProteinCNNForTokenClassification(TokenClassificationMixin, ProteinCNNPreTrainedModel):
    """Per-residue classification (e.g. disorder, secondary structure, modified residues)."""

    def __init__(self, config: ProteinCNNConfig):
        super().__init__(config)
        self.cnn = ProteinCNNModel(config)
        self.classifier = TokenClassificationHead(
            config.hidden_size, config.num_labels, dropout=config.classifier_dropout
        )
        self.post_init()
