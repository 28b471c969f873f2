"""ProteinBERT (`proteinbert`): backbone, pretraining head and fine-tuning heads.

Implemented from the specification (`docs: proteinbert.md`, sections 2-5), not from the original Keras code. Every
block updates a local track x (batch, length, 128) and a global track g (batch, 512):

    local:  x' = LN(x + GELU(Dense(g)) + GELU(NarrowConv(x)) + GELU(WideConv(x)));  x'' = LN(x' + GELU(Dense(x')))
    global: g' = LN(g + GELU(Dense(g)) + GlobalAttention(g, x''));                  g'' = LN(g' + GELU(Dense(g')))

GlobalAttention: per head, query tanh(g Wq), keys tanh(x'' Wk), values GELU(x'' Wv), softmax over positions, no
output projection: its cost is linear in the length. GELU is exact (erf), LayerNorm epsilon 1e-3 (Keras default).

Two padding modes (`config.padding_mode`): "masked" zeroes padded positions before every convolution and removes them
from the attention softmax (a padded batch equals each protein alone); "faithful" ignores the padding mask like the
original, whose outputs then depend on how many `<pad>` tokens follow a protein.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from transformers import initialization as init
from transformers.modeling_layers import GradientCheckpointingLayer
from transformers.modeling_outputs import SequenceClassifierOutput, TokenClassifierOutput
from transformers.utils import ModelOutput

from ..heads import SequenceClassificationMixin, TokenClassificationHead, TokenClassificationMixin
from ..losses import check_label_shape, classification_loss
from ..modeling_utils import ProteinModelOutput, ProteinPreTrainedModel
from ..tasks import MULTI_LABEL, RESIDUE, SINGLE_LABEL
from .configuration_proteinbert import ProteinBertConfig

# Keras default initialisation of the embedding (the original trains from it)
EMBEDDING_INIT_RANGE = 0.05
# module names of a block's global update: absent from the last block of a backbone that returns only the local track
GLOBAL_UPDATE_MODULES = ("global_dense1", "attention", "global_norm1", "global_dense2", "global_norm2")

# outputs


@dataclass
class ProteinBertModelOutput(ProteinModelOutput):
    """Backbone output.

    Args:
        last_hidden_state: (batch, length, hidden_size) local track after the last block.
        pooler_output: (batch, global_hidden_size) global track after the last block (`None` when the backbone skips
            the last global update because only the local track is read, as the original's residue-level heads do).
        pooling_mask: (batch, length) 1 on real positions, 0 on padding.
        hidden_states: local track after the embedding and after every block, when `output_hidden_states=True`.
        global_hidden_states: global track after the annotation input layer and after every block (same condition).
        attentions: per block, (batch, heads, length) attention weights, when `output_attentions=True`.
        local_features: (batch, length, 2 x layers x hidden_size) the outputs of both local layer norms of every
            block, in the original's order (block 1 norm 1, block 1 norm 2, block 2 norm 1, ...), when
            `output_features=True`.
        global_features: (batch, (1 + 2 x layers) x global_hidden_size) the annotation input layer, then both global
            layer norms of every block, when `output_features=True` and the last global update is computed.
    """

    pooler_output: torch.Tensor | None = None
    global_hidden_states: tuple[torch.Tensor, ...] | None = None
    local_features: torch.Tensor | None = None
    global_features: torch.Tensor | None = None


@dataclass
class ProteinBertForPreTrainingOutput(ModelOutput):
    """Pretraining output: token logits and GO-annotation logits (apply softmax / sigmoid for probabilities).

    Args:
        loss: token loss + annotation loss, with the original's (Keras) normalisation (see `pretraining_loss`).
        token_loss: cross-entropy of the token predictions.
        annotation_loss: binary cross-entropy of the annotation predictions.
        logits: (batch, length, vocab_size) token logits.
        annotation_logits: (batch, num_annotations) annotation logits.
        hidden_states, global_hidden_states, attentions: as in `ProteinBertModelOutput`.
    """

    loss: torch.Tensor | None = None
    token_loss: torch.Tensor | None = None
    annotation_loss: torch.Tensor | None = None
    logits: torch.Tensor | None = None
    annotation_logits: torch.Tensor | None = None
    hidden_states: tuple[torch.Tensor, ...] | None = None
    global_hidden_states: tuple[torch.Tensor, ...] | None = None
    attentions: tuple[torch.Tensor, ...] | None = None


# loss


def pretraining_loss(
    logits: torch.Tensor,
    labels: torch.Tensor,
    annotation_logits: torch.Tensor | None = None,
    annotation_labels: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """The original pretraining loss, with Keras' "sum over batch size" normalisation; returns (total, token, annot).

    - token loss: cross-entropy summed over the scored positions (labels != -100), divided by batch x length, i.e.
      padded positions count in the denominator although they carry no loss (the original's sample weights);
    - annotation loss: mean BCE over the annotations of each protein that has at least one annotation, summed and
      divided by the batch size (unannotated proteins count in the denominator with weight 0).
    """
    batch_size, length = labels.shape
    token_sum = classification_loss(logits.float(), labels, problem_type=SINGLE_LABEL, reduction="sum")
    token_loss = token_sum / (batch_size * length)
    if annotation_labels is None:
        return token_loss, token_loss, None
    targets = annotation_labels.to(annotation_logits.dtype)
    annotated = (targets > 0).any(-1)
    # the sum of the annotated proteins' mean BCE: their summed BCE over num_annotations
    annotation_sum = classification_loss(
        annotation_logits[annotated], targets[annotated], problem_type=MULTI_LABEL, reduction="sum"
    )
    annotation_loss = annotation_sum / (targets.shape[-1] * batch_size)
    return token_loss + annotation_loss, token_loss, annotation_loss


# blocks


def _tanh(x: torch.Tensor) -> torch.Tensor:
    # tanh(x) = 2 sigmoid(2x) - 1 (max abs difference 2e-7 in float32): torch.tanh is not vectorised on the CPU
    # build measured here (torch 2.13), 8x slower than sigmoid, and the keys go through it at every position
    return torch.sigmoid(2.0 * x) * 2.0 - 1.0


class ProteinBertGlobalAttention(nn.Module):
    """Global-to-local attention: one query per head from the global vector, keys and values from every position.

    The per-head projections of the original (Wq: (heads, global, key), ...) are fused into bias-free linear layers
    (head-major output), which peft's LoRA can wrap.
    """

    def __init__(self, config: ProteinBertConfig):
        super().__init__()
        self.num_heads, self.key_size, self.value_size = (
            config.num_attention_heads,
            config.attention_key_size,
            config.value_size,
        )
        self.query = nn.Linear(config.global_hidden_size, self.num_heads * self.key_size, bias=False)
        self.key = nn.Linear(config.hidden_size, self.num_heads * self.key_size, bias=False)
        self.value = nn.Linear(config.hidden_size, self.num_heads * self.value_size, bias=False)

    def forward(
        self, global_hidden: torch.Tensor, local_hidden: torch.Tensor, padding: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """`padding`: (batch, length) True where a position is excluded from the softmax, or None (attend to all).
        Returns the concatenated head outputs (batch, global_hidden_size) and the weights (batch, heads, length)."""
        batch_size, length, _ = local_hidden.shape
        heads = self.num_heads
        query = _tanh(self.query(global_hidden)).view(batch_size, heads, self.key_size)
        key = _tanh(self.key(local_hidden))  # (batch, length, heads x key_size), head-major
        value = F.gelu(self.value(local_hidden))  # (batch, length, heads x value_size)
        # Per-head products as plain batched matmuls on the head-major layouts, so that the (batch, length, ...) keys
        # and values are never permuted (copied): the query becomes block-diagonal, (heads x key_size, heads), and of
        # the (heads, heads x value_size) weighted sums only the diagonal blocks are kept. The extra multiplications
        # by zero are < 1 % of a block's work at the released size; the saved copies were ~15 % (measured on CPU).
        eye = torch.eye(heads, dtype=query.dtype, device=query.device)
        block_query = (query.unsqueeze(-1) * eye.view(1, heads, 1, heads)).reshape(batch_size, -1, heads)
        scores = torch.bmm(key, block_query) / math.sqrt(self.key_size)  # (batch, length, heads)
        if padding is not None:
            scores = scores.masked_fill(padding.unsqueeze(-1), torch.finfo(scores.dtype).min)
        weights = scores.softmax(1).transpose(1, 2)  # (batch, heads, length)
        summed = torch.bmm(weights, value).view(batch_size, heads, heads, self.value_size)
        index = torch.arange(heads, device=summed.device)
        attended = summed[:, index, index]  # (batch, heads, value_size): head h's weights on head h's values
        return attended.reshape(batch_size, heads * self.value_size), weights


class ProteinBertBlock(GradientCheckpointingLayer):
    """One ProteinBERT block: the local update (convolutions, broadcast of the global vector), then the global update
    (dense + attention over the *updated* local track). `update_global=False` builds the local update only."""

    def __init__(self, config: ProteinBertConfig, *, update_global: bool = True):
        super().__init__()
        hidden, global_hidden, kernel = config.hidden_size, config.global_hidden_size, config.conv_kernel_size
        dilation = config.wide_conv_dilation
        self.global_to_local = nn.Linear(global_hidden, hidden)
        # 'same' zero padding, as Keras: positions beyond the input are zeros
        self.narrow_conv = nn.Conv1d(hidden, hidden, kernel, padding=(kernel - 1) // 2)
        self.wide_conv = nn.Conv1d(hidden, hidden, kernel, dilation=dilation, padding=dilation * (kernel - 1) // 2)
        self.local_norm1 = nn.LayerNorm(hidden, eps=config.layer_norm_eps)
        self.local_dense = nn.Linear(hidden, hidden)
        self.local_norm2 = nn.LayerNorm(hidden, eps=config.layer_norm_eps)
        self.update_global = update_global
        if update_global:
            self.global_dense1 = nn.Linear(global_hidden, global_hidden)
            self.attention = ProteinBertGlobalAttention(config)
            self.global_norm1 = nn.LayerNorm(global_hidden, eps=config.layer_norm_eps)
            self.global_dense2 = nn.Linear(global_hidden, global_hidden)
            self.global_norm2 = nn.LayerNorm(global_hidden, eps=config.layer_norm_eps)

    def forward(
        self,
        local_hidden: torch.Tensor,
        global_hidden: torch.Tensor,
        keep: torch.Tensor | None = None,
        padding: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, ...]:
        """`keep`: (batch, length, 1) 1/0 multiplier applied before the convolutions (masked mode) or None;
        `padding`: (batch, length) True on positions the attention ignores, or None.

        Returns (local after norm 1, local after norm 2, global after norm 1, global after norm 2, attention
        weights); the last three are None without a global update.
        """
        broadcast = F.gelu(self.global_to_local(global_hidden)).unsqueeze(1)  # (batch, 1, hidden)
        conv_input = (local_hidden if keep is None else local_hidden * keep).transpose(1, 2)  # (batch, hidden, length)
        # both branches summed in the convolutions' (batch, hidden, length) layout: one transpose back instead of two
        convolved = F.gelu(self.narrow_conv(conv_input)) + F.gelu(self.wide_conv(conv_input))
        local1 = self.local_norm1(local_hidden + broadcast + convolved.transpose(1, 2))
        local2 = self.local_norm2(local1 + F.gelu(self.local_dense(local1)))
        if not self.update_global:
            return local1, local2, None, None, None
        attended, weights = self.attention(global_hidden, local2, padding)
        global1 = self.global_norm1(global_hidden + F.gelu(self.global_dense1(global_hidden)) + attended)
        global2 = self.global_norm2(global1 + F.gelu(self.global_dense2(global1)))
        return local1, local2, global1, global2, weights


# model


class ProteinBertPreTrainedModel(ProteinPreTrainedModel):
    """Keras default initialisation, as the original was trained from (spec section 2.9)."""

    config_class = ProteinBertConfig
    base_model_prefix = "proteinbert"
    _input_embed_layer = "embed_tokens"
    _no_split_modules = ["ProteinBertBlock"]

    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, nn.Linear | nn.Conv1d):
            init.xavier_uniform_(module.weight)
            if module.bias is not None:
                init.zeros_(module.bias)
        elif isinstance(module, ProteinBertGlobalAttention):
            # runs after its linear children (transformers initialises children first) and replaces their fans by
            # the Keras fans of a 3-D (heads, in, out) kernel: fan_in = heads x in, fan_out = heads x out
            for projection in (module.query, module.key, module.value):
                out_per_head = projection.out_features // module.num_heads
                limit = math.sqrt(6.0 / (module.num_heads * (projection.in_features + out_per_head)))
                init.uniform_(projection.weight, -limit, limit)
        elif isinstance(module, nn.Embedding):
            init.uniform_(module.weight, -EMBEDDING_INIT_RANGE, EMBEDDING_INIT_RANGE)
        elif isinstance(module, nn.LayerNorm):
            init.ones_(module.weight)
            init.zeros_(module.bias)


class ProteinBertModel(ProteinBertPreTrainedModel):
    """The ProteinBERT backbone: token embedding + annotation input layer, then `num_hidden_layers` blocks.

    Args:
        config: the model configuration.
        update_final_global: compute the last block's global update. Heads that read only the local track (residue
            level) set it False: those weights affect no output they produce (the original prunes them too).

    Example:
        >>> from proteinhub import ProteinTokenizer
        >>> model = ProteinBertModel(ProteinBertConfig(num_hidden_layers=2)).eval()
        >>> batch = ProteinTokenizer()(["MKTAYIAK", "MLSD"], padding=True, return_tensors="pt")
        >>> out = model(**batch)
        >>> out.last_hidden_state.shape, out.pooler_output.shape
        (torch.Size([2, 10, 128]), torch.Size([2, 512]))
    """

    def __init__(self, config: ProteinBertConfig, *, update_final_global: bool = True):
        super().__init__(config)
        # no padding_idx: the original learns an embedding for its PAD token, which faithful mode feeds to the model
        self.embed_tokens = nn.Embedding(config.vocab_size, config.hidden_size)
        self.annotation_input = nn.Linear(config.num_annotations, config.global_hidden_size)
        last = config.num_hidden_layers - 1
        self.layers = nn.ModuleList(
            ProteinBertBlock(config, update_global=index < last or update_final_global)
            for index in range(config.num_hidden_layers)
        )
        self.post_init()

    @property
    def computes_final_global(self) -> bool:
        return self.layers[-1].update_global

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        annotations: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        output_hidden_states: bool | None = None,
        output_attentions: bool | None = None,
        output_features: bool = False,
        return_dict: bool | None = None,
    ) -> ProteinBertModelOutput | tuple:
        """Run the blocks.

        Args:
            input_ids: (batch, length) shared-tokenizer ids (`<cls>` ... `<eos>`, right-padded with `<pad>`).
            attention_mask: (batch, length) 1 on real tokens, 0 on padding; used in masked mode only (faithful mode
                treats `<pad>` as an ordinary token, like the original). Default: all ones.
            annotations: (batch, num_annotations) GO-annotation input (multi-hot); default all zeros, as in the
                original's fine-tuning and inference.
            inputs_embeds: (batch, length, hidden_size) instead of `input_ids`.
            output_hidden_states / output_attentions: return the per-block tracks / attention weights.
            output_features: return the concatenated layer-norm outputs (`local_features`, `global_features`).
        """
        if (input_ids is None) == (inputs_embeds is None):
            raise ValueError("pass exactly one of input_ids or inputs_embeds")
        if inputs_embeds is None:
            inputs_embeds = self.embed_tokens(input_ids)  # (batch, length, hidden_size)
        batch_size, length, _ = inputs_embeds.shape
        max_length = self.config.max_length
        if max_length is not None and length > max_length:
            raise ValueError(
                f"the input has {length} tokens but this model accepts at most max_length={max_length} (framing "
                "included). Let the model's tokenizer truncate (ProteinTokenizer(**config.tokenizer_kwargs) with "
                "truncation=True crops with a warning) or raise config.max_length: the model has no position "
                "embeddings and runs at any length."
            )
        if attention_mask is None:
            attention_mask = torch.ones(batch_size, length, dtype=torch.long, device=inputs_embeds.device)
        global_hidden = F.gelu(self.annotation_input(self._annotation_input(annotations, batch_size, inputs_embeds)))

        keep = padding = None
        # an unpadded batch needs no mask: both modes then compute the same, and the masking passes are skipped
        if self.config.padding_mode == "masked" and not bool(attention_mask.all()):
            keep = attention_mask.unsqueeze(-1).to(inputs_embeds.dtype)  # (batch, length, 1)
            padding = ~attention_mask.bool()

        local_hidden = inputs_embeds
        all_local = (local_hidden,) if output_hidden_states else None
        all_global = (global_hidden,) if output_hidden_states else None
        all_weights = () if output_attentions else None
        local_features, global_features = [], [global_hidden]
        for layer in self.layers:
            local1, local_hidden, global1, global2, weights = layer(local_hidden, global_hidden, keep, padding)
            if output_features:
                local_features += [local1, local_hidden]
                if global1 is not None:
                    global_features += [global1, global2]
            if global2 is not None:
                global_hidden = global2
            if output_hidden_states:
                all_local += (local_hidden,)
                if global2 is not None:
                    all_global += (global_hidden,)
            if output_attentions and weights is not None:
                all_weights += (weights,)

        final_global = self.computes_final_global
        output = ProteinBertModelOutput(
            last_hidden_state=local_hidden,
            pooler_output=global_hidden if final_global else None,
            pooling_mask=attention_mask,
            hidden_states=all_local,
            global_hidden_states=all_global,
            attentions=all_weights,
            local_features=torch.cat(local_features, -1) if output_features else None,
            global_features=torch.cat(global_features, -1) if output_features and final_global else None,
        )
        return output if return_dict is not False else output.to_tuple()

    def _annotation_input(
        self, annotations: torch.Tensor | None, batch_size: int, reference: torch.Tensor
    ) -> torch.Tensor:
        expected = (batch_size, self.config.num_annotations)
        if annotations is None:
            return reference.new_zeros(expected)
        if tuple(annotations.shape) != expected:
            raise ValueError(
                f"annotations have shape {tuple(annotations.shape)} but this model expects (batch, num_annotations) = "
                f"{expected}: one multi-hot GO-annotation vector per protein, in the order the model was pretrained "
                "with (omit it for all zeros, as in fine-tuning)."
            )
        return annotations.to(reference.dtype)


# heads


class ProteinBertForPreTraining(ProteinBertPreTrainedModel):
    """The pretraining model: the backbone plus the token output layer (denoising language model over the local
    track) and the GO-annotation output layer (multi-label over the global track). 15,982,606 parameters with the
    default config (15,981,321 + 1,285 for the 5 tokens the original vocabulary lacks)."""

    _keys_to_ignore_on_load_unexpected = [r"^classifier\."]

    def __init__(self, config: ProteinBertConfig):
        super().__init__(config)
        self.proteinbert = ProteinBertModel(config)
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size)
        self.annotation_head = nn.Linear(config.global_hidden_size, config.num_annotations)
        self.post_init()

    def get_output_embeddings(self) -> nn.Linear:
        return self.lm_head

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        annotations: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        annotation_labels: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        output_hidden_states: bool | None = None,
        output_attentions: bool | None = None,
        return_dict: bool | None = None,
    ) -> ProteinBertForPreTrainingOutput | tuple:
        """`labels`: (batch, length) the uncorrupted token ids, -100 on padding (the original scores every other
        position, corrupted or not, `<cls>`/`<eos>` included). `annotation_labels`: (batch, num_annotations) the
        full multi-hot annotation targets; proteins without any annotation add no annotation loss."""
        outputs = self.proteinbert(
            input_ids=input_ids,
            attention_mask=attention_mask,
            annotations=annotations,
            inputs_embeds=inputs_embeds,
            output_hidden_states=output_hidden_states,
            output_attentions=output_attentions,
        )
        logits = self.lm_head(outputs.last_hidden_state)  # (batch, length, vocab_size)
        annotation_logits = self.annotation_head(outputs.pooler_output)  # (batch, num_annotations)
        loss = token_loss = annotation_loss = None
        if annotation_labels is not None and labels is None:
            raise ValueError("annotation_labels need the token labels too (the pretraining loss is their sum)")
        if labels is not None:
            check_label_shape(labels, logits.shape, RESIDUE)
            if annotation_labels is not None and annotation_labels.shape != annotation_logits.shape:
                raise ValueError(
                    f"annotation_labels have shape {tuple(annotation_labels.shape)}, expected (batch, "
                    f"num_annotations) = {tuple(annotation_logits.shape)}"
                )
            loss, token_loss, annotation_loss = pretraining_loss(logits, labels, annotation_logits, annotation_labels)
        output = ProteinBertForPreTrainingOutput(
            loss=loss,
            token_loss=token_loss,
            annotation_loss=annotation_loss,
            logits=logits,
            annotation_logits=annotation_logits,
            hidden_states=outputs.hidden_states,
            global_hidden_states=outputs.global_hidden_states,
            attentions=outputs.attentions,
        )
        return output if return_dict is not False else output.to_tuple()


class ProteinBertGlobalHead(nn.Module):
    """Dropout -> linear over per-protein features (the original's protein-level head)."""

    def __init__(self, feature_size: int, num_labels: int, *, dropout: float):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.out_proj = nn.Linear(feature_size, num_labels)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.out_proj(self.dropout(features))  # (batch, num_labels)


class ProteinBertForSequenceClassification(SequenceClassificationMixin, ProteinBertPreTrainedModel):
    """Protein-level classification or regression on the global track (the original's protein-level head).

    With `classifier_features="concat"` the head reads the original's 15,599 features per protein (the annotation
    input layer, every global layer norm, and the annotation output probabilities), so it keeps `annotation_head`.
    """

    _keys_to_ignore_on_load_unexpected = [r"^lm_head\.", r"^annotation_head\."]

    def __init__(self, config: ProteinBertConfig):
        super().__init__(config)
        self.proteinbert = ProteinBertModel(config)
        if config.classifier_features == "concat":
            self.annotation_head = nn.Linear(config.global_hidden_size, config.num_annotations)
        self.classifier = ProteinBertGlobalHead(
            config.global_feature_size, config.num_labels, dropout=config.classifier_dropout
        )
        self.post_init()

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        annotations: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        output_hidden_states: bool | None = None,
        output_attentions: bool | None = None,
        return_dict: bool | None = None,
    ) -> SequenceClassifierOutput | tuple:
        """`labels`: (batch,) class ids, (batch, num_labels) soft/multi-hot targets, or (batch,) floats for
        regression. `annotations`: optional GO-annotation input (default zeros, as in the original)."""
        concat = self.config.classifier_features == "concat"
        outputs = self.proteinbert(
            input_ids=input_ids,
            attention_mask=attention_mask,
            annotations=annotations,
            inputs_embeds=inputs_embeds,
            output_hidden_states=output_hidden_states,
            output_attentions=output_attentions,
            output_features=concat,
        )
        features = outputs.pooler_output
        if concat:
            probabilities = torch.sigmoid(self.annotation_head(outputs.pooler_output))
            features = torch.cat([outputs.global_features, probabilities], -1)
        logits = self.classifier(features)
        output = SequenceClassifierOutput(
            loss=self._loss(logits, labels),
            logits=logits,
            hidden_states=outputs.hidden_states,
            attentions=outputs.attentions,
        )
        return output if return_dict is not False else output.to_tuple()


class ProteinBertForTokenClassification(TokenClassificationMixin, ProteinBertPreTrainedModel):
    """Residue-level classification on the local track (e.g. modified residues, secondary structure, disorder).

    The last block's global update feeds nothing a residue-level head reads, so the backbone skips it (as the
    original's fine-tuning graph prunes it). With `classifier_features="concat"` the head reads the original's
    per-residue features (every local layer norm and the token output probabilities), so it keeps `lm_head`.
    """

    _keys_to_ignore_on_load_unexpected = [
        r"^annotation_head\.",
        r"^lm_head\.",
        rf"^proteinbert\.layers\.\d+\.(?:{'|'.join(GLOBAL_UPDATE_MODULES)})\.",
    ]

    def __init__(self, config: ProteinBertConfig):
        super().__init__(config)
        self.proteinbert = ProteinBertModel(config, update_final_global=False)
        if config.classifier_features == "concat":
            self.lm_head = nn.Linear(config.hidden_size, config.vocab_size)
        self.classifier = TokenClassificationHead(
            config.local_feature_size, config.num_labels, dropout=config.classifier_dropout
        )
        self.post_init()

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        annotations: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        output_hidden_states: bool | None = None,
        output_attentions: bool | None = None,
        return_dict: bool | None = None,
    ) -> TokenClassifierOutput | tuple:
        """`labels`: (batch, length) per-token class ids (or targets in [0, 1] for a single-logit model), -100 on
        padding and special tokens (and, with a candidate-residue mask, on residues that cannot be modified)."""
        concat = self.config.classifier_features == "concat"
        outputs = self.proteinbert(
            input_ids=input_ids,
            attention_mask=attention_mask,
            annotations=annotations,
            inputs_embeds=inputs_embeds,
            output_hidden_states=output_hidden_states,
            output_attentions=output_attentions,
            output_features=concat,
        )
        features = outputs.last_hidden_state
        if concat:
            probabilities = self.lm_head(outputs.last_hidden_state).softmax(-1)
            features = torch.cat([outputs.local_features, probabilities], -1)
        logits = self.classifier(features)  # (batch, length, num_labels)
        output = TokenClassifierOutput(
            loss=self._loss(logits, labels),
            logits=logits,
            hidden_states=outputs.hidden_states,
            attentions=outputs.attentions,
        )
        return output if return_dict is not False else output.to_tuple()
