"""Phosphorylation-site window classifiers of seed 000 (Nguyen): VGG-like, ResNet-like, CNN-GRU and CNN-LSTM.

All four read a one-hot window (batch, window_size, 21) and return one logit per window. The paper trained them
in Keras; `_init_weights` uses the Keras defaults (Glorot-uniform kernels, orthogonal recurrent kernels, zero biases).
"""

from __future__ import annotations

import torch
from torch import nn
from transformers import initialization as init
from transformers.modeling_outputs import SequenceClassifierOutput

from ..heads import ClassificationLossMixin
from ..layers import NUM_AMINO_ACIDS, one_hot_residues
from ..modeling_utils import ProteinPreTrainedModel
from ..tasks import SITE
from .configuration_phosphosite import (
    PhosphositeCNNGRUConfig,
    PhosphositeCNNLSTMConfig,
    PhosphositeConfig,
    PhosphositeResNetConfig,
    PhosphositeVGGConfig,
)

ONE_HOT_CHANNELS = NUM_AMINO_ACIDS + 1

# blocks


class ConvBNReLU(nn.Sequential):
    """k3 'same' conv -> batch norm -> ReLU -> dropout, the unit of the VGG-like stacks."""

    def __init__(self, in_channels: int, out_channels: int, dropout: float):
        super().__init__(
            nn.Conv1d(in_channels, out_channels, 3, padding=1),
            nn.BatchNorm1d(out_channels),
            nn.ReLU(),
            nn.Dropout(dropout),
        )


def vgg_stack(num_filters: int, num_stages: int, dropout: float) -> nn.Sequential:
    """`num_stages` x (two ConvBNReLU, max-pool 2); channels F, 2F, 4F, ..."""
    layers, channels = [], ONE_HOT_CHANNELS
    for stage in range(num_stages):
        width = num_filters * 2**stage
        layers += [ConvBNReLU(channels, width, dropout), ConvBNReLU(width, width, dropout), nn.MaxPool1d(2)]
        channels = width
    return nn.Sequential(*layers)


class ResidualBlock(nn.Module):
    """Two k3 convs with batch norm; a downsampling block uses stride 2 and a 1x1 strided conv on the shortcut."""

    def __init__(self, in_channels: int, out_channels: int, stride: int, dropout: float):
        super().__init__()
        self.conv1 = nn.Conv1d(in_channels, out_channels, 3, stride=stride, padding=1)
        self.norm1 = nn.BatchNorm1d(out_channels)
        self.conv2 = nn.Conv1d(out_channels, out_channels, 3, padding=1)
        self.norm2 = nn.BatchNorm1d(out_channels)
        self.dropout = nn.Dropout(dropout)
        self.shortcut = (
            nn.Conv1d(in_channels, out_channels, 1, stride=stride)
            if stride != 1 or in_channels != out_channels
            else None
        )

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        update = self.dropout(torch.relu(self.norm1(self.conv1(hidden))))
        update = self.norm2(self.conv2(update))
        residual = hidden if self.shortcut is None else self.shortcut(hidden)
        return torch.relu(update + residual)


# model


class PhosphositePreTrainedModel(ClassificationLossMixin, ProteinPreTrainedModel):
    """Shared forward: one-hot input, the paper's training-time augmentation, BCE on one logit (the config's
    `problem_type` defaults to "multi_label_classification")."""

    level = SITE

    config_class = PhosphositeConfig
    base_model_prefix = "phosphosite"
    # tiny models (50-100k parameters) with batch norm, whose statistics a recomputed forward would update twice
    supports_gradient_checkpointing = False

    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, (nn.Conv1d, nn.Linear)):
            init.xavier_uniform_(module.weight)
            init.zeros_(module.bias)
        elif isinstance(module, (nn.GRU, nn.LSTM)):
            for name, param in module.named_parameters():
                if name.startswith("weight_ih"):
                    init.xavier_uniform_(param)
                elif name.startswith("weight_hh"):
                    init.orthogonal_(param)
                else:
                    init.zeros_(param)
        else:
            super()._init_weights(module)

    def get_input_embeddings(self) -> None:
        return None  # fixed one-hot input, nothing to resize or tie

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
        """Score windows.

        Args:
            input_ids: (batch, window_size) token ids of windows centred on the site; positions beyond the protein
                ends are `<pad>`, which is the paper's padding symbol (so `attention_mask` is not needed).
            attention_mask: accepted for API compatibility and ignored: every window position is an input.
            labels: (batch,) 0/1 (or soft targets in [0, 1]).
            inputs_embeds: (batch, window_size, 21) one-hot (or soft) residue encodings instead of `input_ids`.
        """
        if (input_ids is None) == (inputs_embeds is None):
            raise ValueError("pass exactly one of input_ids or inputs_embeds")
        features = one_hot_residues(input_ids) if inputs_embeds is None else inputs_embeds  # (batch, L, 21)
        if features.shape[1] != self.config.window_size:
            raise ValueError(
                f"{type(self).__name__} scores windows of exactly {self.config.window_size} residues, got inputs of "
                f"length {features.shape[1]}; cut windows around each site (the phosphosite pipeline does this for "
                "whole proteins)."
            )
        if self.training and self.config.input_noise:
            noise = self.config.input_noise
            features = features + torch.empty_like(features).uniform_(-noise, noise)
        if self.training and self.config.soft_label_max and labels is not None:
            shift = torch.empty(labels.shape, device=labels.device).uniform_(0.0, self.config.soft_label_max)
            labels = torch.where(labels > 0.5, 1.0 - shift, shift)
        logits = self._window_logits(features.transpose(1, 2))  # (batch, 1)
        output = SequenceClassifierOutput(loss=self._loss(logits, labels), logits=logits)
        return output if return_dict is not False else output.to_tuple()

    def _window_logits(self, features: torch.Tensor) -> torch.Tensor:
        """(batch, 21, window_size) -> (batch, 1)."""
        raise NotImplementedError


def _pooled_length(length: int, num_pools: int) -> int:
    for _ in range(num_pools):
        length //= 2
    return length


class PhosphositeVGGForSequenceClassification(PhosphositePreTrainedModel):
    """VGG-like window classifier (paper section 3.1)."""

    config_class = PhosphositeVGGConfig

    def __init__(self, config: PhosphositeVGGConfig):
        super().__init__(config)
        self.convs = vgg_stack(config.num_filters, num_stages=3, dropout=config.dropout)
        flat = config.num_filters * 4 * _pooled_length(config.window_size, 3)
        self.classifier = nn.Linear(flat, 1)
        self.post_init()

    def _window_logits(self, features: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.convs(features).flatten(1))


class PhosphositeResNetForSequenceClassification(PhosphositePreTrainedModel):
    """ResNet-like window classifier (paper section 3.2): stem conv, 6 residual blocks, flatten -> dense 1."""

    config_class = PhosphositeResNetConfig

    def __init__(self, config: PhosphositeResNetConfig):
        super().__init__(config)
        width = config.num_filters
        self.stem = nn.Sequential(nn.Conv1d(ONE_HOT_CHANNELS, width, 3, padding=1), nn.BatchNorm1d(width), nn.ReLU())
        blocks, channels = [], width
        for index in range(6):
            out_channels = width * 2 ** (index // 2)
            downsample = index in (2, 4)  # length halves and channels double every two blocks
            blocks.append(ResidualBlock(channels, out_channels, 2 if downsample else 1, config.dropout))
            channels = out_channels
        self.blocks = nn.Sequential(*blocks)
        length = config.window_size
        for _ in range(2):
            length = (length + 1) // 2  # stride-2 conv with padding 1
        self.classifier = nn.Linear(channels * length, 1)
        self.post_init()

    def _window_logits(self, features: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.blocks(self.stem(features)).flatten(1))


class _PhosphositeRecurrent(PhosphositePreTrainedModel):
    """Two VGG blocks -> RNN(channels) -> RNN(1) -> max over positions (paper section 3.3)."""

    rnn_class: type[nn.RNNBase]

    def __init__(self, config: PhosphositeConfig):
        super().__init__(config)
        self.convs = vgg_stack(config.num_filters, num_stages=2, dropout=config.dropout)
        channels = config.num_filters * 2
        self.rnn = self.rnn_class(channels, channels, batch_first=True)
        self.rnn_out = self.rnn_class(channels, 1, batch_first=True)
        self.post_init()

    def _window_logits(self, features: torch.Tensor) -> torch.Tensor:
        hidden, _ = self.rnn(self.convs(features).transpose(1, 2))  # (batch, L / 4, channels)
        scores, _ = self.rnn_out(hidden)  # (batch, L / 4, 1), tanh-bounded as in the paper's Keras layers
        return scores.amax(dim=1)


class PhosphositeCNNGRUForSequenceClassification(_PhosphositeRecurrent):
    """CNN-GRU window classifier."""

    config_class = PhosphositeCNNGRUConfig
    rnn_class = nn.GRU


class PhosphositeCNNLSTMForSequenceClassification(_PhosphositeRecurrent):
    """CNN-LSTM window classifier."""

    config_class = PhosphositeCNNLSTMConfig
    rnn_class = nn.LSTM
