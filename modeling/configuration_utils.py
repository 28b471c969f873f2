"""`ProteinConfig`: the fields every proteinhub model shares (vocabulary, framing, loss options)."""

from __future__ import annotations

from transformers import PreTrainedConfig

# token ids of the shared ProteinTokenizer (tokenization/tokenization_protein.py); repeated here as plain numbers so
# that this module stays importable as remote code without proteinhub
PROTEIN_VOCAB_SIZE = 31
PAD_TOKEN_ID, CLS_TOKEN_ID, EOS_TOKEN_ID, MASK_TOKEN_ID = 0, 2, 3, 4


class ProteinConfig(PreTrainedConfig):
    """Base configuration of every proteinhub model; family configs add their architecture fields.

    Args:
        vocab_size: size of the shared amino-acid vocabulary (31: 5 special tokens, 20 amino acids, X U O B Z J).
        pad_token_id: id of `<pad>` in the shared tokenizer (0).
        prepend_cls: whether inputs start with `<cls>`; the tokenizer saved with the model is framed to match.
        append_eos: whether inputs end with `<eos>`.
        max_length: longest input in tokens the model accepts (framing included); `None` means no limit.
            Longer inputs are truncated by the tokenizer with a warning.
        class_weights: per-class loss weights (`None` = unweighted). For a single-logit binary model, two entries
            (negative, positive). `train.py` can fill this with "balanced" weights from the label frequencies.
        label_smoothing: label-smoothing factor of the classification loss, in [0, 1).
        initializer_range: standard deviation of the normal initialisation of linear/conv/embedding weights.
        **kwargs: `PreTrainedConfig` fields such as `num_labels`, `id2label`, `label2id`, `problem_type`.
    """

    model_type = "protein"
    # declared as a field: transformers otherwise takes `max_length` for a generation parameter and refuses to save
    max_length: int | None = None

    def __init__(
        self,
        *,
        vocab_size: int = PROTEIN_VOCAB_SIZE,
        pad_token_id: int = PAD_TOKEN_ID,
        prepend_cls: bool = True,
        append_eos: bool = True,
        max_length: int | None = None,
        class_weights: list[float] | None = None,
        label_smoothing: float = 0.0,
        initializer_range: float = 0.02,
        **kwargs,
    ):
        self.vocab_size = vocab_size
        self.prepend_cls = prepend_cls
        self.append_eos = append_eos
        self.max_length = max_length
        self.class_weights = list(class_weights) if class_weights is not None else None
        self.label_smoothing = label_smoothing
        self.initializer_range = initializer_range
        kwargs.setdefault("bos_token_id", CLS_TOKEN_ID)
        kwargs.setdefault("eos_token_id", EOS_TOKEN_ID)
        super().__init__(pad_token_id=pad_token_id, **kwargs)
        if not 0.0 <= label_smoothing < 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1), got {label_smoothing}")

    @property
    def tokenizer_kwargs(self) -> dict:
        """Keyword arguments that build the `ProteinTokenizer` matching this model's framing and length limit."""
        kwargs = {"prepend_cls": self.prepend_cls, "append_eos": self.append_eos}
        if self.max_length is not None:
            kwargs["model_max_length"] = self.max_length
        return kwargs
