"""Configuration of ProteinBERT (`proteinbert`): Brandes et al., Bioinformatics 38(8):2102-2110 (2022)."""

from __future__ import annotations

from ..configuration_utils import ProteinConfig

PADDING_MODES = ("masked", "faithful")
CLASSIFIER_FEATURES = ("last", "concat")
# GO-annotation vector of the released model (GO terms seen in >= 100 UniRef90 records); the index -> GO id mapping
# was never published, so the annotation inputs and outputs are positional
ORIGINAL_NUM_ANNOTATIONS = 8943


class ProteinBertConfig(ProteinConfig):
    """ProteinBERT: a local track (per residue) and a global track (per protein) updated together in every block.

    The defaults are the released model (`create_model` defaults of the original code): 15,981,321 parameters with
    the original 26-token vocabulary; with the shared 31-token vocabulary the embedding and the token output layer
    have 5 more rows (`<mask>`, O, B, Z, J, which the original maps to its `<OTHER>` token), 1,285 parameters more.

    Args:
        hidden_size: width of the local (per-residue) track, `d_hidden_seq` (128).
        global_hidden_size: width of the global (per-protein) track, `d_hidden_global` (512).
        num_hidden_layers: number of blocks (6).
        num_attention_heads: heads of the global attention (4); each head's value width is
            `global_hidden_size / num_attention_heads` (128).
        attention_key_size: query/key width per head (64).
        conv_kernel_size: width in residues of both convolutions of a block (9, odd).
        wide_conv_dilation: dilation of the wide convolution (5; the narrow one has dilation 1), so one block sees
            +-20 residues and six blocks +-120.
        num_annotations: length of the GO-annotation input and output vectors (8943 in the released model).
        layer_norm_eps: LayerNorm epsilon; the Keras default 1e-3 (1e-5 measurably changes the outputs).
        padding_mode: "masked" (default): padded positions are zeroed before every convolution and excluded from
            the attention softmax, so a padded batch gives each protein the outputs it gets alone, which equal the
            original run at seq_len = length + 2. "faithful": no padding mask at all, as in the original, whose
            outputs depend on the number of `<pad>` tokens; pad to a fixed length (e.g. 512) to reproduce it there.
        classifier_features: what the fine-tuning heads read. "last": the last block's local (128 per residue) or
            global (512 per protein) state. "concat": the original fine-tuning features, all layer-norm outputs
            concatenated plus the pretraining output layer's probabilities: per residue 12 x 128 + vocab_size (1567;
            1562 in the original's 26-token vocabulary), per protein 512 + 12 x 512 + num_annotations (15599).
        classifier_dropout: dropout before the fine-tuning head's linear layer (0.5 in the original).
        **kwargs: shared fields of `ProteinConfig` (vocabulary, framing, `max_length`, class weights, label
            smoothing, ...) and `PreTrainedConfig` (`num_labels`, `id2label`, `problem_type`, ...).

    Example:
        >>> config = ProteinBertConfig(padding_mode="faithful")
        >>> config.value_size
        128
    """

    model_type = "proteinbert"

    def __init__(
        self,
        *,
        hidden_size: int = 128,
        global_hidden_size: int = 512,
        num_hidden_layers: int = 6,
        num_attention_heads: int = 4,
        attention_key_size: int = 64,
        conv_kernel_size: int = 9,
        wide_conv_dilation: int = 5,
        num_annotations: int = ORIGINAL_NUM_ANNOTATIONS,
        layer_norm_eps: float = 1e-3,
        padding_mode: str = "masked",
        classifier_features: str = "last",
        classifier_dropout: float = 0.5,
        **kwargs,
    ):
        if global_hidden_size % num_attention_heads:
            raise ValueError(
                f"global_hidden_size={global_hidden_size} must be divisible by num_attention_heads="
                f"{num_attention_heads}: the heads' values are concatenated into the global track"
            )
        if conv_kernel_size % 2 == 0:
            raise ValueError(
                f"conv_kernel_size must be odd so that outputs stay aligned with residues, got {conv_kernel_size}"
            )
        if padding_mode not in PADDING_MODES:
            raise ValueError(f"padding_mode must be one of {PADDING_MODES}, got {padding_mode!r}")
        if classifier_features not in CLASSIFIER_FEATURES:
            raise ValueError(f"classifier_features must be one of {CLASSIFIER_FEATURES}, got {classifier_features!r}")
        self.hidden_size = hidden_size
        self.global_hidden_size = global_hidden_size
        self.num_hidden_layers = num_hidden_layers
        self.num_attention_heads = num_attention_heads
        self.attention_key_size = attention_key_size
        self.conv_kernel_size = conv_kernel_size
        self.wide_conv_dilation = wide_conv_dilation
        self.num_annotations = num_annotations
        self.layer_norm_eps = layer_norm_eps
        self.padding_mode = padding_mode
        self.classifier_features = classifier_features
        self.classifier_dropout = classifier_dropout
        super().__init__(**kwargs)

    @property
    def value_size(self) -> int:
        """Value width of one attention head: the heads' outputs concatenate to the global width."""
        return self.global_hidden_size // self.num_attention_heads

    @property
    def local_feature_size(self) -> int:
        """Per-residue features a fine-tuning head reads (see `classifier_features`)."""
        if self.classifier_features == "last":
            return self.hidden_size
        return 2 * self.num_hidden_layers * self.hidden_size + self.vocab_size

    @property
    def global_feature_size(self) -> int:
        """Per-protein features a fine-tuning head reads (see `classifier_features`)."""
        if self.classifier_features == "last":
            return self.global_hidden_size
        return (1 + 2 * self.num_hidden_layers) * self.global_hidden_size + self.num_annotations
