"""Secondary-structure models of seed 001 (Sommer et al.): GRU/LSTM encoder, dilated CNN head, autoregressive head.

- `SecondaryStructureModel`: embedding -> stacked (bi)GRU/LSTM layers, each followed by dropout -> linear layer to
  `hidden_size`. Proteins run packed (`pack_padded_sequence`), so padding never enters a recurrence and a padded
  batch gives every protein exactly the features it gets alone (the backward direction starts at its last residue).
- `SecondaryStructureForTokenClassification`: the encoder, a masked batch norm (`classifier_norm`) and the head
  chosen by `config.classifier`:
  * `"cnn"`: weight-normalised dilated Conv1d -> ReLU -> dropout -> weight-normalised Conv1d.
  * `"autoregressive"`: PixelCNN-style gated masked convolutions over the labels of the preceding residues,
    conditioned on the encoder output. `forward` in training mode with labels is teacher-forced (the true labels of
    the preceding residues are the label input); in eval mode, or without labels, `forward` decodes: all labels
    start "unknown", one pass fixes the predictions of the next `autoregressive_block_size` residues, which become
    the label input of the following pass, and so on to the end. Eval-mode logits (Trainer evaluation, pipelines)
    are therefore always decoded ones, never teacher-forced; an eval-mode loss is the loss of the decoded logits.

Padding: right-padded batches with `attention_mask` (the data collator's and the tokenizer's default). Batch-norm
statistics are computed over real positions only (`MaskedBatchNorm1d`), and convolutions see zeros beyond a protein
end, so outputs do not depend on how much padding a batch has.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import weight_norm
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence
from transformers import initialization as init
from transformers.modeling_layers import GradientCheckpointingLayer
from transformers.modeling_outputs import TokenClassifierOutput

from ..configuration_utils import CLS_TOKEN_ID, EOS_TOKEN_ID, MASK_TOKEN_ID, PAD_TOKEN_ID
from ..heads import TokenClassificationMixin
from ..losses import check_label_shape
from ..modeling_utils import ProteinModelOutput, ProteinPreTrainedModel
from ..tasks import IGNORE_INDEX, RESIDUE
from .configuration_secondary_structure import SecondaryStructureConfig

_SPECIAL_TOKEN_IDS = (PAD_TOKEN_ID, CLS_TOKEN_ID, EOS_TOKEN_ID, MASK_TOKEN_ID)

# helpers


def right_padded_lengths(attention_mask: torch.Tensor) -> torch.Tensor:
    """(batch,) number of real positions of a right-padded (batch, length) mask; refuses left padding, which a
    packed recurrence would read as residues."""
    mask = attention_mask.bool()
    lengths = mask.sum(1)
    prefix = torch.arange(mask.shape[1], device=mask.device)[None, :] < lengths[:, None]
    if not torch.equal(prefix, mask):
        row = int((prefix != mask).any(1).nonzero()[0])
        raise ValueError(
            f"attention_mask row {row} is not right-padded (ones, then zeros). Recurrent secondary-structure models "
            "need right padding: use the tokenizer's default padding_side='right'."
        )
    return lengths


def residue_positions(attention_mask: torch.Tensor, input_ids: torch.Tensor | None) -> torch.Tensor:
    """(batch, length) bool: positions holding a residue (not padding, not `<cls>`/`<eos>`/`<mask>`); without
    `input_ids` (a model fed `inputs_embeds`) every attended position counts as one."""
    residues = attention_mask.bool()
    if input_ids is not None:
        residues = residues & ~torch.isin(input_ids, torch.tensor(_SPECIAL_TOKEN_IDS, device=input_ids.device))
    return residues


# blocks


class MaskedBatchNorm1d(nn.BatchNorm1d):
    """Batch norm over (batch, channels, length) whose training statistics come from real positions only.

    `nn.BatchNorm1d` would average the padded positions into the mean and variance, so a protein's output would
    depend on the other proteins' lengths. Eval mode uses the running statistics and is padding-invariant anyway.
    """

    def forward(self, hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return super().forward(hidden)
        values = hidden.transpose(1, 2)[mask]  # (real positions, channels)
        mean = values.mean(0)
        variance = values.var(0, unbiased=False)
        with torch.no_grad():
            self.num_batches_tracked.add_(1)
            unbiased = variance * (values.shape[0] / max(values.shape[0] - 1, 1))
            self.running_mean.lerp_(mean, self.momentum)
            self.running_var.lerp_(unbiased, self.momentum)
        normalised = (hidden - mean[None, :, None]) * torch.rsqrt(variance[None, :, None] + self.eps)
        return normalised * self.weight[None, :, None] + self.bias[None, :, None]


class RecurrentLayer(GradientCheckpointingLayer):
    """One GRU/LSTM layer on packed residues, followed by dropout (the paper's dropout on every layer's outputs).

    Takes and returns the `data` tensor of a `PackedSequence` (the layout fields are passed alongside), so that
    activation checkpointing sees plain tensors.
    """

    def __init__(self, rnn_type: str, input_size: int, hidden_size: int, bidirectional: bool, dropout: float):
        super().__init__()
        rnn_class = nn.GRU if rnn_type == "gru" else nn.LSTM
        self.rnn = rnn_class(input_size, hidden_size, batch_first=True, bidirectional=bidirectional)
        self.dropout = nn.Dropout(dropout)

    def forward(
        self,
        data: torch.Tensor,
        batch_sizes: torch.Tensor,
        sorted_indices: torch.Tensor,
        unsorted_indices: torch.Tensor,
    ) -> torch.Tensor:
        output, _ = self.rnn(PackedSequence(data, batch_sizes, sorted_indices, unsorted_indices))
        return self.dropout(output.data)  # (real positions, rnn_output_size)


def _weight_normed_conv(in_channels: int, out_channels: int, kernel_size: int, dilation: int = 1) -> nn.Conv1d:
    """A 'same'-length Conv1d with weight normalisation (Salimans & Kingma), as in TAPE's SimpleConv."""
    padding = dilation * (kernel_size - 1) // 2
    return weight_norm(nn.Conv1d(in_channels, out_channels, kernel_size, dilation=dilation, padding=padding), dim=0)


class CNNHead(nn.Module):
    """Weight-normalised dilated Conv1d -> ReLU -> dropout -> weight-normalised Conv1d, on batch-normalised encoder
    features (the batch norm is the model's `classifier_norm`)."""

    def __init__(self, config: SecondaryStructureConfig):
        super().__init__()
        self.conv = _weight_normed_conv(
            config.hidden_size, config.classifier_hidden_size, config.classifier_kernel_size, config.classifier_dilation
        )
        self.dropout = nn.Dropout(config.classifier_dropout)
        self.out_proj = _weight_normed_conv(
            config.classifier_hidden_size, config.num_labels, config.classifier_output_kernel_size
        )

    def forward(self, features: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """(batch, hidden_size, length) normalised features, zero at padding; (batch, length) bool mask ->
        (batch, length, num_labels) logits."""
        # zeros at padded positions: a convolution then sees the same as at the end of an unpadded protein
        features = self.dropout(torch.relu(self.conv(features))).masked_fill(~mask[:, None, :], 0.0)
        return self.out_proj(features).transpose(1, 2)


class CausalConv1d(nn.Conv1d):
    """Conv1d whose output at position i sees inputs at positions i - (kernel_size - 1) ... i only."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int):
        super().__init__(in_channels, out_channels, kernel_size)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return super().forward(F.pad(hidden, (self.kernel_size[0] - 1, 0)))


class GatedMaskedBlock(nn.Module):
    """PixelCNN gated residual block: h + W_o (tanh(a) * sigmoid(b)), [a; b] = causal_conv(h) + conditioning."""

    def __init__(self, hidden_size: int, kernel_size: int):
        super().__init__()
        self.conv = CausalConv1d(hidden_size, 2 * hidden_size, kernel_size)
        self.out_proj = nn.Conv1d(hidden_size, hidden_size, 1)

    def forward(self, hidden: torch.Tensor, conditioning: torch.Tensor) -> torch.Tensor:
        filter_gate, output_gate = (self.conv(hidden) + conditioning).chunk(2, dim=1)
        return hidden + self.out_proj(torch.tanh(filter_gate) * torch.sigmoid(output_gate))


class AutoregressiveHead(nn.Module):
    """PixelCNN-style head over two inputs: the encoder output (any position, through a dilated convolution like the
    CNN head's) and the labels of the preceding residues (masked convolutions: position i sees labels < i only).

    A label input of -100 means "unknown": its one-hot vector is all zeros. Teacher forcing passes the true labels
    (-100 on ignored residues); decoding starts from all-unknown labels (the paper seeds randomly; a fixed unknown
    seed keeps inference deterministic) and fills them in block by block.
    """

    def __init__(self, config: SecondaryStructureConfig):
        super().__init__()
        width, kernel = config.autoregressive_hidden_size, config.autoregressive_kernel_size
        self.num_labels = config.num_labels
        self.block_size = config.autoregressive_block_size
        self.label_dropout = config.autoregressive_label_dropout
        # the encoder side is computed once per protein and reused by every decoding pass: a dilated convolution
        # like the CNN head's first layer, then one 1x1 projection per block to that block's gate inputs
        self.conditioning_conv = nn.Conv1d(
            config.hidden_size,
            width,
            config.classifier_kernel_size,
            dilation=config.classifier_dilation,
            padding=config.classifier_dilation * (config.classifier_kernel_size - 1) // 2,
        )
        self.conditioning_proj = nn.Conv1d(width, 2 * width * config.autoregressive_num_layers, 1)
        self.label_conv = CausalConv1d(config.num_labels, width, kernel)  # PixelCNN mask "A" via the shift below
        self.blocks = nn.ModuleList(GatedMaskedBlock(width, kernel) for _ in range(config.autoregressive_num_layers))
        self.out_proj = nn.Conv1d(width, config.num_labels, 1)

    def condition(self, features: torch.Tensor, mask: torch.Tensor) -> list[torch.Tensor]:
        """Per-block conditioning terms (batch, 2 * width, length) from the normalised encoder features."""
        features = torch.relu(self.conditioning_conv(features)).masked_fill(~mask[:, None, :], 0.0)
        return list(self.conditioning_proj(features).chunk(len(self.blocks), dim=1))

    def decode_pass(self, conditions: list[torch.Tensor], previous_labels: torch.Tensor) -> torch.Tensor:
        """(batch, length) label input (-100 = unknown) -> (batch, length, num_labels) logits; the output at i depends
        on labels at positions < i only."""
        known = previous_labels >= 0
        one_hot = F.one_hot(previous_labels.clamp(min=0), self.num_labels).to(conditions[0].dtype)
        one_hot = (one_hot * known[..., None]).transpose(1, 2)  # (batch, num_labels, length)
        shifted = F.pad(one_hot, (1, 0))[..., :-1]  # position i now holds label i - 1
        hidden = self.label_conv(shifted)
        for block, conditioning in zip(self.blocks, conditions):
            hidden = block(hidden, conditioning)
        return self.out_proj(torch.relu(hidden)).transpose(1, 2)

    def forward(
        self, features: torch.Tensor, mask: torch.Tensor, residues: torch.Tensor, labels: torch.Tensor | None
    ) -> torch.Tensor:
        """(batch, hidden_size, length) normalised features -> (batch, length, num_labels) logits: teacher-forced
        when `labels` are given in training mode, decoded otherwise. `residues` marks the positions whose decoded
        label is fed back (not special tokens or padding)."""
        conditions = self.condition(features, mask)
        if self.training and labels is not None:
            previous = labels
            if self.label_dropout:
                hidden_labels = torch.rand(labels.shape, device=labels.device) < self.label_dropout
                previous = labels.masked_fill(hidden_labels, IGNORE_INDEX)
            return self.decode_pass(conditions, previous)
        return self.generate(conditions, residues)

    @property
    def label_context(self) -> int:
        """How many preceding labels the output at a position depends on (the masked convolutions' reach)."""
        kernel = self.label_conv.kernel_size[0]
        return kernel + len(self.blocks) * (kernel - 1)

    def generate(
        self, conditions: list[torch.Tensor], residues: torch.Tensor, *, label_context: int | None = None
    ) -> torch.Tensor:
        """Block-wise decoding: pass t predicts positions [t * block, (t + 1) * block) from the predictions before
        them. A pass runs over those positions plus the `label_context` positions before them only: further left
        nothing reaches the block through the masked convolutions, so decoding costs O(length), not O(length^2).
        `label_context` (default: the head's own reach) widens that window, e.g. to the whole prefix."""
        label_context = self.label_context if label_context is None else label_context
        batch, length = residues.shape
        previous = torch.full((batch, length), IGNORE_INDEX, dtype=torch.long, device=residues.device)
        logits = conditions[0].new_zeros(batch, length, self.num_labels)
        for start in range(0, length, self.block_size):
            stop = min(start + self.block_size, length)
            first = max(0, start - label_context)
            window = self.decode_pass([c[..., first:stop] for c in conditions], previous[:, first:stop])
            block_logits = window[:, start - first :]
            logits[:, start:stop] = block_logits
            # special tokens and padding stay "unknown", as in teacher forcing where their labels are -100
            predicted = block_logits.argmax(-1).masked_fill(~residues[:, start:stop], IGNORE_INDEX)
            previous[:, start:stop] = predicted
        return logits


# model


class SecondaryStructurePreTrainedModel(ProteinPreTrainedModel):
    """Weights start as PyTorch's defaults (the paper's PyTorch Lightning code did not change them)."""

    config_class = SecondaryStructureConfig
    base_model_prefix = "encoder"
    _input_embed_layer = "embed_tokens"
    _no_split_modules = ["RecurrentLayer"]

    @torch.no_grad()
    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, nn.RNNBase):
            bound = 1.0 / math.sqrt(module.hidden_size)
            for parameter in module.parameters():
                init.uniform_(parameter, -bound, bound)
        elif isinstance(module, (nn.Linear, nn.Conv1d)):
            parametrized = hasattr(module, "parametrizations")
            # weight norm: w = g * v / |v|; initialise v like a plain weight and g = |v|, so that w = v at first
            weight = module.parametrizations.weight.original1 if parametrized else module.weight
            init.kaiming_uniform_(weight, a=math.sqrt(5))
            if parametrized:
                norms = torch.linalg.vector_norm(weight, dim=tuple(range(1, weight.dim())), keepdim=True)
                init.copy_(module.parametrizations.weight.original0, norms)
            if module.bias is not None:
                fan_in = weight[0].numel()
                init.uniform_(module.bias, -1.0 / math.sqrt(fan_in), 1.0 / math.sqrt(fan_in))
        elif isinstance(module, nn.Embedding):
            init.normal_(module.weight, mean=0.0, std=1.0)
            if module.padding_idx is not None and not getattr(module.weight, "_is_hf_initialized", False):
                init.zeros_(module.weight[module.padding_idx])
        else:
            super()._init_weights(module)


class SecondaryStructureModel(SecondaryStructurePreTrainedModel):
    """The recurrent encoder: embedding -> stacked (bi)GRU/LSTM layers with dropout -> linear to `hidden_size`.

    Example:
        >>> config = SecondaryStructureConfig(rnn_hidden_size=32, num_rnn_layers=1, hidden_size=16)
        >>> SecondaryStructureModel(config)(torch.tensor([[2, 5, 6, 3]])).last_hidden_state.shape
        torch.Size([1, 4, 16])
    """

    def __init__(self, config: SecondaryStructureConfig):
        super().__init__(config)
        self.embed_tokens = nn.Embedding(config.vocab_size, config.embedding_size, padding_idx=config.pad_token_id)
        self.layers = nn.ModuleList(
            RecurrentLayer(
                config.rnn_type,
                config.embedding_size if index == 0 else config.rnn_output_size,
                config.rnn_hidden_size,
                config.bidirectional,
                config.rnn_dropout,
            )
            for index in range(config.num_rnn_layers)
        )
        self.output_projection = nn.Linear(config.rnn_output_size, config.hidden_size)
        self.post_init()

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        output_hidden_states: bool | None = None,
        output_attentions: bool | None = None,
        return_dict: bool | None = None,
    ) -> ProteinModelOutput | tuple:
        """Per-residue features (batch, length, hidden_size); zeros at padded positions.

        `hidden_states` (with `output_hidden_states=True`): the embedding and every RNN layer's output, padded.
        """
        if (input_ids is None) == (inputs_embeds is None):
            raise ValueError("pass exactly one of input_ids or inputs_embeds")
        embeddings = self.embed_tokens(input_ids) if inputs_embeds is None else inputs_embeds  # (batch, length, E)
        batch, length = embeddings.shape[:2]
        if attention_mask is None:
            attention_mask = torch.ones(batch, length, dtype=torch.long, device=embeddings.device)
        lengths = right_padded_lengths(attention_mask)
        # pack_padded_sequence refuses empty rows; an all-padding row gets one (ignored) position
        packed = pack_padded_sequence(embeddings, lengths.clamp(min=1).cpu(), batch_first=True, enforce_sorted=False)
        layout = (packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices)

        def unpack(data: torch.Tensor) -> torch.Tensor:
            padded, _ = pad_packed_sequence(PackedSequence(data, *layout), batch_first=True, total_length=length)
            return padded  # (batch, length, channels)

        all_hidden = [embeddings] if output_hidden_states else None
        data = packed.data
        for layer in self.layers:
            data = layer(data, *layout)
            if all_hidden is not None:
                all_hidden.append(unpack(data))
        hidden = unpack(self.output_projection(data))
        output = ProteinModelOutput(
            last_hidden_state=hidden,
            pooling_mask=attention_mask,
            hidden_states=tuple(all_hidden) if all_hidden is not None else None,
        )
        return output if return_dict is not False else output.to_tuple()


class SecondaryStructureForTokenClassification(TokenClassificationMixin, SecondaryStructurePreTrainedModel):
    """Per-residue 3-state secondary structure: the recurrent encoder plus the CNN or the autoregressive head.

    Example:
        >>> config = SecondaryStructureConfig(rnn_hidden_size=16, num_rnn_layers=1, hidden_size=16,
        ...                                   classifier_hidden_size=8)
        >>> SecondaryStructureForTokenClassification(config)(torch.tensor([[2, 5, 6, 3]])).logits.shape
        torch.Size([1, 4, 3])
    """

    def __init__(self, config: SecondaryStructureConfig):
        super().__init__(config)
        self.encoder = SecondaryStructureModel(config)
        # the heads' input batch norm (paper: "a batch normalization layer acts as the input layer") is a sibling of
        # `classifier`, not inside it: peft cannot save a batch norm listed in modules_to_save inside another one
        self.classifier_norm = MaskedBatchNorm1d(config.hidden_size)
        self.classifier = CNNHead(config) if config.classifier == "cnn" else AutoregressiveHead(config)
        self.post_init()

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
        """`labels`: (batch, length) class ids, -100 on special tokens, padding and unresolved residues. The
        autoregressive head is teacher-forced by them in training mode and decodes otherwise (module docstring)."""
        outputs = self._backbone_forward(input_ids, attention_mask, inputs_embeds, output_hidden_states)
        hidden = outputs.last_hidden_state
        if labels is not None:
            # checked before the head: the autoregressive head is teacher-forced by the labels
            check_label_shape(labels, (*hidden.shape[:2], self.config.num_labels), RESIDUE)
        mask = outputs.pooling_mask.bool()
        features = self.classifier_norm(hidden.transpose(1, 2), mask).masked_fill(~mask[:, None, :], 0.0)
        if self.config.classifier == "cnn":
            logits = self.classifier(features, mask)
        else:
            logits = self.classifier(features, mask, residue_positions(mask, input_ids), labels)
        output = TokenClassifierOutput(
            loss=self._loss(logits, labels), logits=logits, hidden_states=outputs.hidden_states
        )
        return output if return_dict is not False else output.to_tuple()
