"""The one amino-acid tokenizer shared by every proteinhub model.

One residue = one token = one word, so `word_ids()` and `return_offsets_mapping` line residue-level labels up with
tokens without any bookkeeping. Input is validated at this boundary: an illegal character is an error that names the
sequence, the position and the character, never a silent `<unk>`.

This module imports nothing from proteinhub, so it can be shipped next to a saved model as remote code.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence

import numpy as np
from tokenizers import Regex, Tokenizer, decoders, pre_tokenizers, processors
from tokenizers.models import WordLevel
from transformers import BatchEncoding
from transformers.tokenization_utils_base import TruncationStrategy
from transformers.tokenization_utils_tokenizers import TokenizersBackend
from transformers.utils import PaddingStrategy, TensorType

PAD, UNK, CLS, EOS, MASK = "<pad>", "<unk>", "<cls>", "<eos>", "<mask>"
SPECIAL_TOKENS = (PAD, UNK, CLS, EOS, MASK)
STANDARD_AMINO_ACIDS = "ACDEFGHIKLMNPQRSTVWY"
# X unknown, U selenocysteine, O pyrrolysine, B = D/N, Z = E/Q, J = I/L
EXTRA_AMINO_ACIDS = "XUOBZJ"
RESIDUES = STANDARD_AMINO_ACIDS + EXTRA_AMINO_ACIDS
VOCAB: dict[str, int] = {token: index for index, token in enumerate((*SPECIAL_TOKENS, *RESIDUES))}

_SPECIAL_PATTERN = "|".join(re.escape(token) for token in SPECIAL_TOKENS)
# the longest valid prefix of a raw sequence: residues in any case, whitespace between them, literal special tokens
_VALID_PREFIX = re.compile(rf"(?:{_SPECIAL_PATTERN}|[{RESIDUES}{RESIDUES.lower()}]|\s)*")
_SPECIAL_OR_RESIDUES = re.compile(rf"({_SPECIAL_PATTERN})")
_NOT_RESIDUE = re.compile(rf"[^{RESIDUES}{RESIDUES.lower()}\s]")

# byte -> token id for the vectorised path; -1 sends the whole batch to the general path (which validates)
_LOOKUP = np.full(256, -1, dtype=np.int64)
for _residue in RESIDUES:
    _LOOKUP[ord(_residue)] = _LOOKUP[ord(_residue.lower())] = VOCAB[_residue]


class InvalidSequenceError(ValueError):
    """A protein sequence that the tokenizer refuses; `index`, `position` (1-based) and `character` name the spot."""

    def __init__(self, message: str, *, index: int, position: int | None = None, character: str | None = None):
        super().__init__(message)
        self.index, self.position, self.character = index, position, character


class ProteinBatchEncoding(BatchEncoding):
    """`BatchEncoding` of the vectorised path: `word_ids` are derived from the layout (one residue = one word)."""

    def __init__(self, data: dict, *, num_leading_special: int, residues_per_sequence: np.ndarray, **kwargs):
        super().__init__(data, **kwargs)
        self._num_leading_special = num_leading_special
        self._residues_per_sequence = residues_per_sequence

    def word_ids(self, batch_index: int = 0) -> list[int | None]:
        width = len(self["input_ids"][batch_index])
        residues = int(self._residues_per_sequence[batch_index])
        ids: list[int | None] = [None] * width
        ids[self._num_leading_special : self._num_leading_special + residues] = range(residues)
        return ids


def _build_backend(prepend_cls: bool, append_eos: bool) -> Tokenizer:
    backend = Tokenizer(WordLevel(vocab=VOCAB, unk_token=UNK))
    backend.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Split(Regex("."), behavior="isolated")]
    )
    single = " ".join(([f"{CLS}:0"] if prepend_cls else []) + ["$A:0"] + ([f"{EOS}:0"] if append_eos else []))
    pair = single + " " + " ".join(["$B:1"] + ([f"{EOS}:1"] if append_eos else []))
    backend.post_processor = processors.TemplateProcessing(
        single=single, pair=pair, special_tokens=[(CLS, VOCAB[CLS]), (EOS, VOCAB[EOS])]
    )
    backend.decoder = decoders.Fuse()  # "MKT", not "M K T"
    return backend


class ProteinTokenizer(TokenizersBackend):
    """Per-residue tokenizer for protein sequences (fast, `tokenizers`-backed).

    Vocabulary: `<pad>`, `<unk>`, `<cls>`, `<eos>` (also the separator), `<mask>`, the 20 standard amino acids and
    X, U, O, B, Z, J. Accepts raw strings in any case, space-separated residues (ProtBERT style), lists of residues
    with `is_split_into_words=True`, and one trailing `*` stop. Anything else raises `InvalidSequenceError`.

    Args:
        prepend_cls: frame each sequence with a leading `<cls>` (off for window CNNs).
        append_eos: frame each sequence with a trailing `<eos>`.
        on_unknown: `"error"` (default) raises on an illegal character; `"X"` maps it to X, with a warning.

    Example:
        >>> tok = ProteinTokenizer()
        >>> tok("mktAYI*")["input_ids"]
        [2, 15, 13, 21, 5, 24, 12, 3]
        >>> tok.decode(tok("MKTAYI")["input_ids"], skip_special_tokens=True)
        'MKTAYI'
    """

    vocab_files_names: dict[str, str] = {}
    model_input_names = ["input_ids", "attention_mask"]

    def __init__(
        self,
        *,
        prepend_cls: bool = True,
        append_eos: bool = True,
        on_unknown: str = "error",
        **kwargs,
    ):
        if on_unknown not in ("error", "X"):
            raise ValueError(f"on_unknown must be 'error' or 'X', got {on_unknown!r}")
        # a saved tokenizer.json is ignored on purpose: the vocabulary is fixed and the framing comes from the kwargs
        for key in ("tokenizer_object", "tokenizer_file", "vocab", "merges", "post_processor"):
            kwargs.pop(key, None)
        for key, token in (
            ("pad_token", PAD),
            ("unk_token", UNK),
            ("cls_token", CLS),
            ("sep_token", EOS),
            ("eos_token", EOS),
            ("mask_token", MASK),
        ):
            kwargs.setdefault(key, token)
        kwargs.pop("add_bos_token", None)
        self.prepend_cls = prepend_cls
        self.append_eos = append_eos
        self.on_unknown = on_unknown
        super().__init__(tokenizer_object=_build_backend(prepend_cls, append_eos), **kwargs)
        self.init_kwargs.update(prepend_cls=prepend_cls, append_eos=append_eos, on_unknown=on_unknown)

    def update_post_processor(self) -> None:
        self._tokenizer.post_processor = _build_backend(self.prepend_cls, self.append_eos).post_processor

    @property
    def num_leading_special_tokens(self) -> int:
        return int(self.prepend_cls)

    # validation

    def _clean(self, text: str, index: int) -> str:
        """Validate one raw sequence; return it upper-cased without a trailing stop, or raise naming the spot."""
        stripped = text.rstrip()
        if stripped.endswith("*"):
            stripped = stripped[:-1]
        if not stripped.strip():
            raise InvalidSequenceError(f"sequence {index} is empty: a protein needs at least one residue.", index=index)
        end = _VALID_PREFIX.match(stripped).end()
        if end != len(stripped):
            if self.on_unknown == "X":
                warnings.warn(
                    f"sequence {index}: character {stripped[end]!r} at position {end + 1} mapped to X "
                    "(on_unknown='X').",
                    stacklevel=4,
                )
                parts = _SPECIAL_OR_RESIDUES.split(stripped)
                return self._upper("".join(p if i % 2 else _NOT_RESIDUE.sub("X", p) for i, p in enumerate(parts)))
            raise InvalidSequenceError(
                f"sequence {index}: invalid character {stripped[end]!r} at position {end + 1}. Allowed: the 20 "
                f"standard amino acids and {', '.join(EXTRA_AMINO_ACIDS)} (any case), whitespace between residues, "
                "special tokens such as <mask>, and one trailing '*'. Pass on_unknown='X' to map unknown "
                "characters to X.",
                index=index,
                position=end + 1,
                character=stripped[end],
            )
        return self._upper(stripped)

    @staticmethod
    def _upper(text: str) -> str:
        if "<" not in text:
            return text.upper()
        # keep literal special tokens such as <mask> lower-case
        return "".join(part if i % 2 else part.upper() for i, part in enumerate(_SPECIAL_OR_RESIDUES.split(text)))

    def _clean_words(self, words: Sequence[str], index: int) -> list[str]:
        words = list(words)
        if words and words[-1] == "*":
            words = words[:-1]
        if not words:
            raise InvalidSequenceError(f"sequence {index} is empty: a protein needs at least one residue.", index=index)
        cleaned = []
        for position, word in enumerate(words, start=1):
            if word in SPECIAL_TOKENS:
                cleaned.append(word)
                continue
            upper = word.upper() if isinstance(word, str) else word
            if not isinstance(upper, str) or len(upper) != 1 or upper not in RESIDUES:
                if self.on_unknown == "X" and isinstance(word, str) and len(word) == 1:
                    warnings.warn(
                        f"sequence {index}: residue {word!r} at position {position} mapped to X.", stacklevel=4
                    )
                    cleaned.append("X")
                    continue
                raise InvalidSequenceError(
                    f"sequence {index}: invalid residue {word!r} at position {position}; with "
                    "is_split_into_words=True each word must be one amino-acid letter or a special token.",
                    index=index,
                    position=position,
                    character=str(word),
                )
            cleaned.append(upper)
        return cleaned

    # encoding

    def _encode_plus(
        self,
        text,
        text_pair=None,
        add_special_tokens: bool = True,
        padding_strategy: PaddingStrategy = PaddingStrategy.DO_NOT_PAD,
        truncation_strategy: TruncationStrategy = TruncationStrategy.DO_NOT_TRUNCATE,
        max_length: int | None = None,
        is_split_into_words: bool = False,
        **kwargs,
    ) -> BatchEncoding:
        is_batched = (
            isinstance(text, (list, tuple)) and bool(text) and isinstance(text[0], (list, tuple))
            if is_split_into_words
            else isinstance(text, (list, tuple))
        )
        if (
            is_batched
            and text_pair is None
            and not is_split_into_words
            and self._vectorisable(padding_strategy, truncation_strategy, kwargs)
        ):
            fast = self._encode_vectorised(
                text, add_special_tokens, padding_strategy, truncation_strategy, max_length, **kwargs
            )
            if fast is not None:
                return fast

        batch = list(text) if is_batched else [text]
        clean = self._clean_words if is_split_into_words else self._clean
        batch = [clean(item, index) for index, item in enumerate(batch)]
        if text_pair is not None:
            pairs = list(text_pair) if is_batched else [text_pair]
            pairs = [clean(item, index) for index, item in enumerate(pairs)]
            text_pair = pairs if is_batched else pairs[0]
        encoding = super()._encode_plus(
            batch if is_batched else batch[0],
            text_pair=text_pair,
            add_special_tokens=add_special_tokens,
            padding_strategy=padding_strategy,
            truncation_strategy=truncation_strategy,
            max_length=max_length,
            is_split_into_words=is_split_into_words,
            **kwargs,
        )
        if truncation_strategy != TruncationStrategy.DO_NOT_TRUNCATE and text_pair is None:
            lengths = [len(item) if is_split_into_words else _residue_count(item) for item in batch]
            self._report_truncation(encoding, lengths, add_special_tokens, is_batched)
        return encoding

    def _vectorisable(self, padding_strategy, truncation_strategy, kwargs) -> bool:
        wants_extra = any(
            kwargs.get(key)
            for key in (
                "return_overflowing_tokens",
                "return_special_tokens_mask",
                "return_offsets_mapping",
                "return_length",
                "return_token_type_ids",
            )
        )
        return (
            not wants_extra
            and kwargs.get("return_tensors") in ("pt", "np", TensorType.PYTORCH, TensorType.NUMPY)
            and kwargs.get("return_attention_mask") is not False
            and padding_strategy in (PaddingStrategy.LONGEST, PaddingStrategy.MAX_LENGTH)
            and (kwargs.get("padding_side") or self.padding_side) == "right"
            and (truncation_strategy == TruncationStrategy.DO_NOT_TRUNCATE or self.truncation_side == "right")
            and not kwargs.get("stride")
        )

    def _encode_vectorised(
        self, batch, add_special_tokens, padding_strategy, truncation_strategy, max_length, **kwargs
    ) -> BatchEncoding | None:
        """Lookup-table encoding of a batch of plain residue strings; None when a string needs the general path."""
        if not all(isinstance(item, str) for item in batch):
            return None
        lengths = np.fromiter(map(len, batch), dtype=np.int64, count=len(batch))
        try:
            raw = "".join(batch).encode("ascii")
        except UnicodeEncodeError:
            return None
        codes = _LOOKUP[np.frombuffer(raw, dtype=np.uint8)]
        if len(batch) == 0 or (lengths == 0).any() or (codes < 0).any():
            return None  # empty strings, whitespace, '*', '<mask>' or illegal characters: validate on the general path
        leading = self.num_leading_special_tokens if add_special_tokens else 0
        trailing = int(self.append_eos) if add_special_tokens else 0
        kept = lengths
        if truncation_strategy != TruncationStrategy.DO_NOT_TRUNCATE and max_length is not None:
            kept = np.minimum(lengths, max(max_length - leading - trailing, 0))
        framed = kept + leading + trailing
        width = int(framed.max())
        if padding_strategy == PaddingStrategy.MAX_LENGTH and max_length is not None:
            width = max(width, max_length)
        multiple = kwargs.get("pad_to_multiple_of")
        if multiple:
            width = -(-width // multiple) * multiple
        batch_size = len(batch)
        input_ids = np.full((batch_size, width), self.pad_token_id, dtype=np.int64)
        flat = input_ids.reshape(-1)
        starts = np.cumsum(lengths) - lengths
        row_starts = np.arange(batch_size, dtype=np.int64) * width + leading
        if (kept == lengths).all():
            # (total_residues,) destination of every residue in the flattened (batch, width) array
            flat[np.repeat(row_starts - starts, lengths) + np.arange(codes.size)] = codes
        else:
            kept_starts = np.cumsum(kept) - kept
            within = np.arange(int(kept.sum())) - np.repeat(kept_starts, kept)
            flat[np.repeat(row_starts, kept) + within] = codes[np.repeat(starts, kept) + within]
        rows = np.arange(batch_size)
        if leading:
            input_ids[:, 0] = self.cls_token_id
        if trailing:
            input_ids[rows, leading + kept] = self.eos_token_id
        attention_mask = (np.arange(width)[None, :] < framed[:, None]).astype(np.int64)
        encoding = ProteinBatchEncoding(
            {"input_ids": input_ids, "attention_mask": attention_mask},
            num_leading_special=leading,
            residues_per_sequence=kept,
            tensor_type=kwargs.get("return_tensors"),
        )
        if (kept < lengths).any():
            self._warn_truncated(np.flatnonzero(kept < lengths), lengths, kept)
        encoding.num_truncated_residues = (lengths - kept).tolist()
        return encoding

    def _report_truncation(self, encoding: BatchEncoding, lengths: list[int], add_special_tokens: bool, batched: bool):
        masks = encoding["attention_mask"] if batched else [encoding["attention_mask"]]
        special = self.num_special_tokens_to_add() if add_special_tokens else 0
        kept = np.array([int(sum(mask)) - special for mask in np.asarray(masks, dtype=object)], dtype=np.int64)
        lengths = np.asarray(lengths, dtype=np.int64)
        truncated = np.flatnonzero(kept < lengths)
        if truncated.size:
            self._warn_truncated(truncated, lengths, kept)
        encoding.num_truncated_residues = (lengths - kept).tolist()

    @staticmethod
    def _warn_truncated(indices: np.ndarray, lengths: np.ndarray, kept: np.ndarray) -> None:
        first = int(indices[0])
        warnings.warn(
            f"{indices.size} of {lengths.size} sequences were truncated (first: sequence {first}, "
            f"{int(lengths[first])} residues cut to {int(kept[first])}); the outputs cover only the kept residues. "
            "`encoding.num_truncated_residues` lists how many residues each sequence lost.",
            stacklevel=5,
        )

    def _decode(self, token_ids, skip_special_tokens: bool = False, **kwargs) -> str:
        text = super()._decode(token_ids, skip_special_tokens=skip_special_tokens, **kwargs)
        return text.replace(" ", "")


def _residue_count(text: str) -> int:
    """Number of tokens a cleaned sequence becomes: residues plus literal special tokens, whitespace ignored."""
    if "<" in text:
        text = _SPECIAL_OR_RESIDUES.sub("?", text)
    return len("".join(text.split()))
