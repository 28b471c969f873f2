"""Convolutional autoencoder of seed 004 (section 5(c).1): a protein -> latent z -> the protein again.

Encoder: embedding (12 channels) -> conv k5 + ReLU -> average pool -> conv k5 + ReLU -> average pool -> conv k5
(no ReLU) -> max pool to `latent_length` positions = z (`latent_channels` x `latent_length`, the seed's 2 x 50 and
4 x 100). Decoder (mirrored): nearest upsampling to a quarter, a half and the full length, each followed by a conv k5
+ ReLU, then a conv k3 + ReLU (the `last_hidden_state`) and a conv k1 to per-position token logits. The loss is the
cross-entropy of reconstructing the input tokens at the real positions; the flattened z (`pooler_output`) is the
protein representation.

Every input is padded to the fixed `config.sequence_length` inside `forward` (the seed's fixed-length 500 inputs),
so a protein's z and reconstruction do not depend on the batch; outputs are cropped back to the input length.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from transformers import initialization as init

from ..configuration_utils import PAD_TOKEN_ID
from ..losses import classification_loss
from ..modeling_utils import ProteinModelOutput, ProteinPreTrainedModel
from ..tasks import IGNORE_INDEX, RESIDUE, SINGLE_LABEL
from .configuration_autoencoder import CNNAutoencoderConfig


@dataclass
class CNNAutoencoderOutput(ProteinModelOutput):
    """Autoencoder output.

    Args:
        loss: reconstruction cross-entropy over the real positions (always computed: the target is the input).
        last_hidden_state: (batch, length, embedding_size) decoder features before the k1 output conv.
        pooler_output: (batch, latent_channels * latent_length) the flattened latent z, the protein representation.
        latent: (batch, latent_channels, latent_length) z.
        reconstruction_logits: (batch, length, vocab_size) per-position token logits of the reconstruction.
    """

    loss: torch.Tensor | None = None
    pooler_output: torch.Tensor | None = None
    latent: torch.Tensor | None = None
    reconstruction_logits: torch.Tensor | None = None


class CNNAutoencoderPreTrainedModel(ProteinPreTrainedModel):
    """Weights start as PyTorch's defaults (the seed's code did not change them)."""

    config_class = CNNAutoencoderConfig
    base_model_prefix = "autoencoder"
    _input_embed_layer = "embed_tokens"
    supports_gradient_checkpointing = False  # six small convs: nothing worth recomputing

    @torch.no_grad()
    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, nn.Conv1d):
            module.reset_parameters()
        elif isinstance(module, nn.Embedding):
            init.normal_(module.weight, mean=0.0, std=1.0)
            if module.padding_idx is not None and not getattr(module.weight, "_is_hf_initialized", False):
                init.zeros_(module.weight[module.padding_idx])
        else:
            super()._init_weights(module)


def _conv(in_channels: int, out_channels: int, kernel_size: int) -> nn.Conv1d:
    return nn.Conv1d(in_channels, out_channels, kernel_size, padding=kernel_size // 2)


class CNNAutoencoderModel(CNNAutoencoderPreTrainedModel):
    """The autoencoder; `pooler_output` (flattened z) is the representation, `loss` the reconstruction loss.

    Example:
        >>> config = CNNAutoencoderConfig(sequence_length=16, latent_length=4)
        >>> CNNAutoencoderModel(config)(torch.tensor([[5, 6, 7, 8]])).pooler_output.shape
        torch.Size([1, 8])
    """

    def __init__(self, config: CNNAutoencoderConfig):
        super().__init__(config)
        width, (first, second), latent, k = (
            config.embedding_size,
            config.encoder_channels,
            config.latent_channels,
            config.kernel_size,
        )
        self.embed_tokens = nn.Embedding(config.vocab_size, width, padding_idx=config.pad_token_id)
        self.encoder = nn.ModuleList([_conv(width, first, k), _conv(first, second, k), _conv(second, latent, k)])
        self.decoder = nn.ModuleList([_conv(latent, second, k), _conv(second, first, k), _conv(first, width, k)])
        self.output_conv = _conv(width, width, 3)
        self.output_projection = nn.Conv1d(width, config.vocab_size, 1)
        self.post_init()

    def encode(self, embeddings: torch.Tensor) -> tuple[torch.Tensor, list[int]]:
        """(batch, channels, sequence_length) -> z (batch, latent_channels, latent_length) and the lengths of the
        encoder's feature maps (the decoder upsamples back through them)."""
        sizes, hidden = [], embeddings
        for index, conv in enumerate(self.encoder):
            sizes.append(hidden.shape[-1])
            hidden = conv(hidden)
            if index < 2:
                hidden = F.avg_pool1d(F.relu(hidden), self.config.pool_size)
        return F.adaptive_max_pool1d(hidden, self.config.latent_length), sizes

    def decode(self, z: torch.Tensor, sizes: list[int]) -> torch.Tensor:
        """z -> decoder features (batch, embedding_size, sequence_length) before the k1 output conv."""
        hidden = z
        for conv, size in zip(self.decoder, reversed(sizes)):
            hidden = F.relu(conv(F.interpolate(hidden, size=size, mode="nearest")))
        return F.relu(self.output_conv(hidden))

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        output_hidden_states: bool | None = None,
        output_attentions: bool | None = None,
        return_dict: bool | None = None,
    ) -> CNNAutoencoderOutput | tuple:
        """`labels`: optional (batch, length) reconstruction targets (default: `input_ids` at the attended
        positions, -100 elsewhere)."""
        if input_ids is None:
            raise ValueError("CNNAutoencoderModel takes input_ids (the reconstruction target is the input)")
        batch, length = input_ids.shape
        full = self.config.sequence_length
        if length > full:
            raise ValueError(
                f"input of {length} tokens is longer than the autoencoder's fixed sequence_length {full}: truncate "
                f"it (the tokenizer's max_length={full}) or build a model with a larger sequence_length"
            )
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        if labels is None:
            labels = input_ids.masked_fill(attention_mask == 0, IGNORE_INDEX)
        padded_ids = F.pad(input_ids.masked_fill(attention_mask == 0, PAD_TOKEN_ID), (0, full - length), value=0)
        embeddings = self.embed_tokens(padded_ids).transpose(1, 2)  # (batch, channels, sequence_length)
        z, sizes = self.encode(embeddings)
        features = self.decode(z, sizes)
        logits = self.output_projection(features)[:, :, :length].transpose(1, 2)
        hidden = features[:, :, :length].transpose(1, 2)
        loss = classification_loss(logits, labels, problem_type=SINGLE_LABEL, level=RESIDUE)
        output = CNNAutoencoderOutput(
            loss=loss,
            last_hidden_state=hidden,
            pooling_mask=attention_mask,
            hidden_states=(embeddings[:, :, :length].transpose(1, 2), hidden) if output_hidden_states else None,
            pooler_output=z.flatten(1),
            latent=z,
            reconstruction_logits=logits,
        )
        return output if return_dict is not False else output.to_tuple()
