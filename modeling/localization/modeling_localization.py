"""The subcellular-localization CNN + BiLSTM of seed 003 (Han 2020, after J. J. Almagro Armenteros' DTU exercise).

    residues (batch, length) -> one-hot (or embedding) (batch, length, C)
        -> [conv k3, F filters, ReLU] || [conv k5, F filters, ReLU]   ("same" padding, concatenated: 2F channels)
        -> conv k3, 2F filters, ReLU
        -> LSTM forward over the residues || LSTM backward over the residues (H units each); the final state of
           each, concatenated: (batch, 2H)
           (`pooling="final_max"` adds the maximum of each direction's outputs over the residues: (batch, 4H))
        -> dense D + ReLU -> dropout -> dense to num_labels (softmax in the loss)

As in the seed (two Lasagne `LSTMLayer`s, one with `backwards=True`, both masked, `only_return_final=True`), the two
directions are two LSTMs: the forward one reads the padded batch and its state after the last residue is taken; the
backward one reads every protein reversed within its own length (padding stays behind it) and its state after the
first residue is taken. Padded positions are zeroed before every convolution. A protein therefore gets the same
logits alone and in a padded batch. (`pack_padded_sequence` would do the same, but its backward pass on CPU was
measured 10-20x slower than this for batches of mixed lengths.) Differences from Lasagne that remain: `nn.LSTM` has
no peephole connections (Lasagne's `LSTMLayer` has them by default) and two bias vectors per gate instead of one
(equivalent, both start at zero).
"""

from __future__ import annotations

import warnings

import torch
from torch import nn
from transformers import initialization as init
from transformers.modeling_outputs import SequenceClassifierOutput

from ..heads import ClassificationLossMixin
from ..layers import NUM_AMINO_ACIDS, one_hot_residues
from ..modeling_utils import ProteinPreTrainedModel
from ..tasks import PROTEIN
from .configuration_localization import LocalizationConfig

ONE_HOT_CHANNELS = NUM_AMINO_ACIDS + 1

# helpers


def kept_positions(
    lengths: torch.Tensor, max_residues: int | None, truncation: str
) -> tuple[torch.Tensor | None, torch.Tensor]:
    """Which input positions the network reads, per protein: (index (batch, width) or None, kept lengths (batch,)).

    Proteins of at most `max_residues` tokens are read whole. A longer one keeps its first `ceil(max_residues / 2)`
    and last `floor(max_residues / 2)` tokens ("head_tail"), its first ("head") or its last ("tail") `max_residues`.
    Index entries beyond a protein's kept length point at position 0; they are padding and masked out.

    Example:
        >>> index, kept = kept_positions(torch.tensor([6, 3]), 4, "head_tail")
        >>> index.tolist(), kept.tolist()
        ([[0, 1, 4, 5], [0, 1, 2, 0]], [4, 3])
    """
    if max_residues is None or int(lengths.max()) <= max_residues:
        return None, lengths
    kept = lengths.clamp(max=max_residues)
    width = int(kept.max())
    column = torch.arange(width, device=lengths.device).unsqueeze(0)  # (1, width)
    # a cut protein skips (length - max_residues) tokens, after the head part; "tail" skips them first
    skipped = (lengths - max_residues).clamp(min=0).unsqueeze(1)  # (batch, 1)
    head = {"head_tail": (max_residues + 1) // 2, "head": max_residues, "tail": 0}[truncation]
    index = column + skipped * (column >= head)
    index = torch.where(column < kept.unsqueeze(1), index, torch.zeros_like(index))
    return index, kept


# model


class LocalizationPreTrainedModel(ProteinPreTrainedModel):
    """Weights initialised as in the seed's Lasagne layers: Glorot-uniform conv and dense kernels, N(0, 0.1) LSTM
    kernels, zero biases."""

    config_class = LocalizationConfig
    base_model_prefix = "localization"
    # a model of ~9k parameters whose only long-range layer is the LSTM; recomputation would save nothing
    supports_gradient_checkpointing = False

    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, (nn.Conv1d, nn.Linear)):
            init.xavier_uniform_(module.weight)
            init.zeros_(module.bias)
        elif isinstance(module, nn.LSTM):
            for name, parameter in module.named_parameters():
                if name.startswith("weight"):
                    init.normal_(parameter, mean=0.0, std=0.1)
                else:
                    init.zeros_(parameter)
        else:
            super()._init_weights(module)


class LocalizationForSequenceClassification(ClassificationLossMixin, LocalizationPreTrainedModel):
    """The seed's CNN + BiLSTM protein classifier (one location per protein; also used for membrane vs soluble)."""

    level = PROTEIN

    def __init__(self, config: LocalizationConfig):
        super().__init__(config)
        if config.input_encoding == "embedding":
            self.embed_tokens = nn.Embedding(config.vocab_size, config.embedding_size, padding_idx=config.pad_token_id)
            channels = config.embedding_size
        else:
            self.embed_tokens = None
            channels = ONE_HOT_CHANNELS
        filters = config.num_filters
        self.conv_k3 = nn.Conv1d(channels, filters, kernel_size=3, padding=1)
        self.conv_k5 = nn.Conv1d(channels, filters, kernel_size=5, padding=2)
        self.conv_merge = nn.Conv1d(2 * filters, 2 * filters, kernel_size=3, padding=1)
        self.lstm_forward = nn.LSTM(2 * filters, config.lstm_hidden_size, batch_first=True)
        self.lstm_backward = nn.LSTM(2 * filters, config.lstm_hidden_size, batch_first=True)
        pooled = {"final": 2, "final_max": 4}[config.pooling] * config.lstm_hidden_size
        self.dense = nn.Linear(pooled, config.dense_size)
        self.dropout = nn.Dropout(config.dropout)
        self.classifier = nn.Linear(config.dense_size, config.num_labels)
        self.post_init()

    def get_input_embeddings(self) -> nn.Embedding | None:
        return self.embed_tokens  # None for the fixed one-hot input: nothing to resize or tie

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
        """Classify proteins.

        Args:
            input_ids: (batch, length) token ids, right-padded; proteins longer than `config.max_residues` are cut
                here (`config.truncation`), with a warning.
            attention_mask: (batch, length) 1 on residues, 0 on padding (right padding only); default all ones.
            labels: (batch,) class ids (or (batch, num_labels) soft targets).
            inputs_embeds: (batch, length, C) per-residue features instead of `input_ids` (C = 21 for one-hot input,
                `embedding_size` for the embedding variant), e.g. soft one-hot or profile-like encodings.
            output_hidden_states, output_attentions: accepted for API compatibility; this model returns neither.
        """
        if (input_ids is None) == (inputs_embeds is None):
            raise ValueError("pass exactly one of input_ids or inputs_embeds")
        reference = input_ids if input_ids is not None else inputs_embeds
        batch_size, length = reference.shape[:2]
        if attention_mask is None:
            attention_mask = torch.ones(batch_size, length, dtype=torch.long, device=reference.device)
        lengths = self._valid_lengths(attention_mask)

        index, lengths = kept_positions(lengths, self.config.max_residues, self.config.truncation)
        if index is not None:
            warnings.warn(
                f"{type(self).__name__}: proteins longer than {self.config.max_residues} tokens are cut to "
                f"{self.config.max_residues} (truncation={self.config.truncation!r} in the model config); the "
                "prediction is made from the kept residues only.",
                stacklevel=4,  # the caller of model(...): past Module.__call__ and Module._call_impl
            )
            if input_ids is not None:
                input_ids = input_ids.gather(1, index)
            else:
                inputs_embeds = inputs_embeds.gather(1, index.unsqueeze(-1).expand(-1, -1, inputs_embeds.shape[-1]))
        if inputs_embeds is None:
            inputs_embeds = (
                self.embed_tokens(input_ids) if self.embed_tokens is not None else one_hot_residues(input_ids)
            )
        width = inputs_embeds.shape[1]
        mask = (torch.arange(width, device=lengths.device) < lengths.unsqueeze(1)).unsqueeze(1)  # (batch, 1, width)
        mask = mask.to(inputs_embeds.dtype)

        # zeroing padded positions before each convolution keeps padding out of the "same"-padded windows: a padded
        # batch equals each protein alone, and a protein shorter than the receptive field (7) sees zeros beyond its
        # ends, exactly as when it is alone (Lasagne pad='same')
        features = inputs_embeds.transpose(1, 2) * mask  # (batch, C, width)
        features = torch.cat([torch.relu(self.conv_k3(features)), torch.relu(self.conv_k5(features))], dim=1) * mask
        features = torch.relu(self.conv_merge(features)).transpose(1, 2)  # (batch, width, 2F)

        # each protein reversed within its length; padding stays at the end, read after the protein (and ignored)
        column = torch.arange(width, device=lengths.device).unsqueeze(0)
        reverse = torch.where(column < lengths.unsqueeze(1), lengths.unsqueeze(1) - 1 - column, column)
        reversed_features = features.gather(1, reverse.unsqueeze(-1).expand(-1, -1, features.shape[-1]))
        last = (lengths - 1).view(-1, 1, 1).expand(-1, 1, self.config.lstm_hidden_size)
        forward_states, _ = self.lstm_forward(features)  # (batch, width, H)
        backward_states, _ = self.lstm_backward(reversed_features)
        protein = torch.cat([forward_states.gather(1, last), backward_states.gather(1, last)], dim=-1).squeeze(1)
        if self.config.pooling == "final_max":
            # both directions hold a protein's residues in their first `length` positions
            padded = (column >= lengths.unsqueeze(1)).unsqueeze(-1)  # (batch, width, 1)
            states = torch.cat([forward_states, backward_states], dim=-1).masked_fill(padded, float("-inf"))
            protein = torch.cat([protein, states.amax(1)], dim=-1)
        logits = self.classifier(self.dropout(torch.relu(self.dense(protein))))  # (batch, num_labels)

        output = SequenceClassifierOutput(loss=self._loss(logits, labels), logits=logits)
        return output if return_dict is not False else output.to_tuple()

    @staticmethod
    def _valid_lengths(attention_mask: torch.Tensor) -> torch.Tensor:
        """(batch,) residues per protein; refuses left padding and proteins without any residue."""
        mask = attention_mask.bool()
        lengths = mask.sum(1)
        if bool((mask[:, 1:] & ~mask[:, :-1]).any()):
            row = int((mask[:, 1:] & ~mask[:, :-1]).any(1).nonzero()[0])
            raise ValueError(
                f"protein {row} of the batch has padding before residues (attention_mask "
                f"{mask[row].int().tolist()[:12]}...): this model reads right-padded batches only; tokenize with "
                "padding_side='right' (the ProteinTokenizer default)."
            )
        if bool((lengths == 0).any()):
            row = int((lengths == 0).nonzero()[0])
            raise ValueError(
                f"protein {row} of the batch has no residue (its attention_mask is all 0); every protein needs at "
                "least one residue."
            )
        return lengths
