"""The one amino-acid tokenizer shared by every proteinhub model.

One residue = one token = one word, so `word_ids()` and `return_offsets_mapping` line residue-level labels up with
tokens without any bookkeeping. Input is validated at this boundary: an illegal character is an error that names the
sequence, the position and the character, never a silent `<unk>`.

Two code paths give identical results. The general path cleans every sequence (case, whitespace, trailing stop) and
runs the `tokenizers` backend; it serves every call. The vectorised path serves the common training/inference call
(a batch of plain residue strings, padded, optionally truncated, returned as "pt"/"np" tensors) with a byte lookup
table and numpy, two orders of magnitude faster (see `benchmarks/tokenizer.py`). Anything it does not handle
(whitespace, '*', literal special tokens, illegal characters, empty sequences, ragged results) sends the whole batch
to the general path, which validates and reports.

This module imports nothing from proteinhub, so it can be shipped next to a saved model as remote code.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Sequence

import numpy as np
from tokenizers import Encoding, Regex, Tokenizer, decoders, pre_tokenizers, processors
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

# byte -> token id for the vectorised path, as a `bytes.translate` table: a C loop, 2-3x faster than a numpy gather.
# _NEEDS_GENERAL_PATH marks whitespace, '*', '<' and illegal bytes; the general path handles and validates those.
_NEEDS_GENERAL_PATH = 255
_table = bytearray([_NEEDS_GENERAL_PATH]) * 256
for _residue in RESIDUES:
    _table[ord(_residue)] = _table[ord(_residue.lower())] = VOCAB[_residue]
_TOKEN_ID_TABLE = bytes(_table)
del _table, _residue

# keyword arguments that ask for outputs only the general path produces
_GENERAL_PATH_OUTPUTS = (
    "return_overflowing_tokens",
    "return_special_tokens_mask",
    "return_offsets_mapping",
    "return_length",
    "return_token_type_ids",
    "sanitize_control_tokens",
)


class InvalidSequenceError(ValueError):
    """A protein sequence that the tokenizer refuses.

    Attributes:
        index: the sequence's index in the batch (0 for a single sequence).
        position: 1-based position of the offending character in the string as given (the residue number for a plain
            sequence), or of the offending word with `is_split_into_words=True`; `None` for an empty sequence.
        character: the offending character (or word), `None` for an empty sequence.
    """

    def __init__(self, message: str, *, index: int, position: int | None = None, character: str | None = None):
        super().__init__(message)
        self.index, self.position, self.character = index, position, character


class ProteinBatchEncoding(BatchEncoding):
    """`BatchEncoding` of the vectorised path.

    `word_ids()` comes from the layout (one residue = one word, right after the leading special token). The other
    token/character mappings of `BatchEncoding` (`tokens()`, `char_to_token()`, `encodings`, ...) run the general path
    once, on first use, so they equal its answers; a pickled copy keeps only what was computed before pickling.
    """

    def __init__(
        self,
        data: dict,
        *,
        num_leading_special: int,
        residues_per_sequence: list[int],
        num_truncated_residues: list[int],
        backend_encodings: Callable[[], list[Encoding]] | None,
    ):
        self._backend_encodings = backend_encodings
        self._computed_encodings: list[Encoding] | None = None
        super().__init__(data, n_sequences=1)
        self._num_leading_special = num_leading_special
        self._residues_per_sequence = residues_per_sequence
        self.num_truncated_residues = num_truncated_residues

    @property
    def _encodings(self) -> list[Encoding] | None:
        if self._computed_encodings is None and self._backend_encodings is not None:
            self._computed_encodings, self._backend_encodings = self._backend_encodings(), None
        return self._computed_encodings

    @_encodings.setter
    def _encodings(self, value: list[Encoding] | None) -> None:
        self._computed_encodings = value

    @property
    def is_fast(self) -> bool:
        return True

    def word_ids(self, batch_index: int = 0) -> list[int | None]:
        """Residue index of each token of sequence `batch_index`; `None` for special tokens and padding."""
        width = len(self["input_ids"][batch_index])
        residues = self._residues_per_sequence[batch_index]
        ids: list[int | None] = [None] * width
        ids[self._num_leading_special : self._num_leading_special + residues] = range(residues)
        return ids

    def __getstate__(self) -> dict:
        return {
            "data": self.data,
            "encodings": self._computed_encodings,
            "layout": (self._num_leading_special, self._residues_per_sequence, self.num_truncated_residues),
        }

    def __setstate__(self, state: dict) -> None:
        self._backend_encodings = None
        self.data, self._computed_encodings, self._n_sequences = state["data"], state["encodings"], 1
        self._num_leading_special, self._residues_per_sequence, self.num_truncated_residues = state["layout"]


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
    with `is_split_into_words=True`, literal special tokens such as `<mask>`, and one trailing `*` stop. Anything else
    raises `InvalidSequenceError`. `decode(ids, skip_special_tokens=True)` returns the upper-case sequence.

    Truncation warns, naming the truncated sequences; `encoding.num_truncated_residues` lists, per input (sequence or
    pair), how many residues the outputs lost: 0 when nothing was cut, and always a list, of one for a single input.
    With `return_overflowing_tokens=True` the cut residues are in the extra rows, so they count as kept.

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
        """Tokens before the first residue (1 with `prepend_cls`, else 0): residue i is token i + this."""
        return int(self.prepend_cls)

    # validation

    def _clean(self, text: str, index: int, replaced: list[tuple[int, int, str, int]]) -> str:
        """Validate one raw sequence; return it upper-cased without a trailing stop, or raise naming the spot.

        With on_unknown="X", illegal characters become X and `(index, position, character, count)` of the first one is
        appended to `replaced`.
        """
        if not isinstance(text, str):
            raise InvalidSequenceError(
                f"sequence {index} is {type(text).__name__}, not a string of residues; pass strings, or lists of "
                "residues with is_split_into_words=True.",
                index=index,
            )
        stripped = text.rstrip()
        if stripped.endswith("*"):
            stripped = stripped[:-1]
        if not stripped.strip():
            raise InvalidSequenceError(f"sequence {index} is empty: a protein needs at least one residue.", index=index)
        end = _VALID_PREFIX.match(stripped).end()
        if end == len(stripped):
            return self._upper(stripped)
        if self.on_unknown == "X":
            # literal special tokens (odd parts of the split) stay; everything else that is no residue becomes X
            parts = _SPECIAL_OR_RESIDUES.split(stripped)
            count = sum(len(_NOT_RESIDUE.findall(part)) for part in parts[::2])
            replaced.append((index, end + 1, stripped[end], count))
            return self._upper("".join(p if i % 2 else _NOT_RESIDUE.sub("X", p) for i, p in enumerate(parts)))
        raise InvalidSequenceError(
            f"sequence {index}: invalid character {stripped[end]!r} at position {end + 1}. Allowed: the 20 "
            f"standard amino acids and {', '.join(EXTRA_AMINO_ACIDS)} (any case), whitespace between residues, "
            "special tokens such as <mask>, and one trailing '*'. Fix the sequence, or pass on_unknown='X' to map "
            "unknown characters to X.",
            index=index,
            position=end + 1,
            character=stripped[end],
        )

    @staticmethod
    def _upper(text: str) -> str:
        if "<" not in text:
            return text.upper()
        # keep literal special tokens such as <mask> lower-case
        return "".join(part if i % 2 else part.upper() for i, part in enumerate(_SPECIAL_OR_RESIDUES.split(text)))

    def _clean_words(self, words: Sequence[str], index: int, replaced: list[tuple[int, int, str, int]]) -> list[str]:
        """`_clean` for a pre-split sequence: each word must be one residue letter or a special token."""
        words = list(words)
        if words and words[-1] == "*":
            words = words[:-1]
        if not words:
            raise InvalidSequenceError(f"sequence {index} is empty: a protein needs at least one residue.", index=index)
        cleaned, first_unknown, count = [], None, 0
        for position, word in enumerate(words, start=1):
            if word in SPECIAL_TOKENS:
                cleaned.append(word)
                continue
            upper = word.upper() if isinstance(word, str) else word
            if isinstance(upper, str) and len(upper) == 1 and upper in RESIDUES:
                cleaned.append(upper)
            elif self.on_unknown == "X" and isinstance(word, str) and len(word) == 1:
                first_unknown = first_unknown or (position, word)
                count += 1
                cleaned.append("X")
            else:
                raise InvalidSequenceError(
                    f"sequence {index}: invalid residue {word!r} at position {position}; with "
                    "is_split_into_words=True each word must be one amino-acid letter or a special token.",
                    index=index,
                    position=position,
                    character=str(word),
                )
        if first_unknown is not None:
            replaced.append((index, *first_unknown, count))
        return cleaned

    @staticmethod
    def _warn_replaced(replaced: list[tuple[int, int, str, int]], batch_size: int) -> None:
        index, position, character, count = replaced[0]
        warnings.warn(
            f"{len(replaced)} of {batch_size} sequences had characters outside the alphabet, mapped to X "
            f"(on_unknown='X'); first: sequence {index}, {character!r} at position {position} ({count} such "
            "characters in that sequence).",
            stacklevel=5,
        )

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
        if is_batched and not text:
            raise ValueError("got an empty batch: pass at least one sequence.")
        if truncation_strategy != TruncationStrategy.DO_NOT_TRUNCATE and max_length is not None:
            framing = self.num_special_tokens_to_add(pair=text_pair is not None) if add_special_tokens else 0
            if max_length <= framing:
                # the backend would silently skip truncation here (max_length < framing) or keep no residue at all
                raise ValueError(
                    f"max_length={max_length} leaves no room for residues: the framing takes {framing} tokens. "
                    f"Pass max_length >= {framing + 1}."
                )
        if (
            is_batched
            and text_pair is None
            and not is_split_into_words
            and self._vectorisable(padding_strategy, truncation_strategy, kwargs)
        ):
            encoding = self._encode_vectorised(
                text, add_special_tokens, padding_strategy, truncation_strategy, max_length, **kwargs
            )
            if encoding is not None:
                return encoding
        return self._encode_general(
            text,
            text_pair,
            is_batched,
            add_special_tokens=add_special_tokens,
            padding_strategy=padding_strategy,
            truncation_strategy=truncation_strategy,
            max_length=max_length,
            is_split_into_words=is_split_into_words,
            **kwargs,
        )

    def _encode_general(
        self,
        text,
        text_pair,
        is_batched: bool,
        *,
        truncation_strategy: TruncationStrategy,
        is_split_into_words: bool,
        **kwargs,
    ) -> BatchEncoding:
        """Clean and validate every sequence, then run the `tokenizers` backend (through transformers)."""
        batch = list(text) if is_batched else [text]
        clean = self._clean_words if is_split_into_words else self._clean
        replaced: list[tuple[int, int, str, int]] = []
        batch = [clean(item, index, replaced) for index, item in enumerate(batch)]
        if text_pair is not None:
            pairs = list(text_pair) if is_batched else [text_pair]
            pairs = [clean(item, index, replaced) for index, item in enumerate(pairs)]
            text_pair = pairs if is_batched else pairs[0]
        if replaced:
            self._warn_replaced(replaced, len(batch))
        encoding = super()._encode_plus(
            batch if is_batched else batch[0],
            text_pair=text_pair,
            truncation_strategy=truncation_strategy,
            is_split_into_words=is_split_into_words,
            **kwargs,
        )
        if truncation_strategy == TruncationStrategy.DO_NOT_TRUNCATE:
            encoding.num_truncated_residues = [0] * len(batch)
        else:
            count = len if is_split_into_words else _residue_count
            lengths = [count(item) for item in batch]
            if text_pair is not None:
                lengths = [length + count(item) for length, item in zip(lengths, pairs)]
            self._report_truncation(encoding, lengths)
        return encoding

    def _vectorisable(self, padding_strategy, truncation_strategy, kwargs) -> bool:
        return (
            not any(kwargs.get(key) for key in _GENERAL_PATH_OUTPUTS)
            and kwargs.get("return_tensors") in ("pt", "np", TensorType.PYTORCH, TensorType.NUMPY)
            and kwargs.get("return_attention_mask") is not False
            and padding_strategy in (PaddingStrategy.LONGEST, PaddingStrategy.MAX_LENGTH)
            and (kwargs.get("padding_side") or self.padding_side) == "right"
            and (
                truncation_strategy == TruncationStrategy.DO_NOT_TRUNCATE
                or (
                    truncation_strategy in (TruncationStrategy.LONGEST_FIRST, TruncationStrategy.ONLY_FIRST)
                    and self.truncation_side == "right"
                )
            )
        )

    def _encode_vectorised(
        self, batch, add_special_tokens, padding_strategy, truncation_strategy, max_length, **kwargs
    ) -> ProteinBatchEncoding | None:
        """Lookup-table encoding of a batch of plain residue strings; None when a string needs the general path."""
        if not all(isinstance(item, str) for item in batch):
            return None
        joined = "".join(batch)
        if not joined.isascii():
            return None
        token_ids = joined.encode("ascii").translate(_TOKEN_ID_TABLE)  # one byte per residue: its token id
        lengths = np.fromiter(map(len, batch), dtype=np.int64, count=len(batch))
        if _NEEDS_GENERAL_PATH in token_ids or not lengths.all():
            return None
        leading = self.num_leading_special_tokens if add_special_tokens else 0
        trailing = int(self.append_eos) if add_special_tokens else 0
        kept = lengths
        if truncation_strategy != TruncationStrategy.DO_NOT_TRUNCATE and max_length is not None:
            limit = max_length - leading - trailing  # >= 1, checked by _encode_plus
            if int(lengths.max()) > limit:
                kept = np.minimum(lengths, limit)
                # every residue was validated above, including the ones truncation drops
                token_ids = "".join([item[:limit] for item in batch]).encode("ascii").translate(_TOKEN_ID_TABLE)
        framed = kept + leading + trailing
        longest = int(framed.max())
        # the backend's padding rule: pad every row up to a target, never cut; rows longer than the target stay as
        # they are, and a ragged batch cannot become a tensor (the general path raises transformers' error)
        fixed = padding_strategy == PaddingStrategy.MAX_LENGTH and max_length is not None
        width = max_length if fixed else longest
        multiple = kwargs.get("pad_to_multiple_of")
        if multiple:
            width = -(-width // multiple) * multiple
        if longest > width:
            if (framed != longest).any():
                return None
            width = longest
        batch_size = len(batch)

        input_ids = np.full((batch_size, width), self.pad_token_id, dtype=np.int64)
        # boolean-mask assignment fills row by row, the order of the concatenated residues
        is_residue = np.arange(width - leading) < kept[:, None]  # (batch, width - leading)
        input_ids[:, leading:][is_residue] = np.frombuffer(token_ids, dtype=np.uint8)
        if leading:
            input_ids[:, 0] = self.cls_token_id
        if trailing:
            input_ids[np.arange(batch_size), leading + kept] = self.eos_token_id
        attention_mask = np.empty((batch_size, width), dtype=np.int64)
        np.less(np.arange(width), framed[:, None], out=attention_mask, casting="unsafe")
        self._eventual_warn_about_too_long_sequence(range(width), max_length, kwargs.get("verbose", True))

        data = {"input_ids": input_ids, "attention_mask": attention_mask}
        if TensorType(kwargs["return_tensors"]) == TensorType.PYTORCH:
            import torch  # not at module level: the tokenizer itself does not need torch

            data = {key: torch.from_numpy(value) for key, value in data.items()}
        batch = list(batch)  # the lazy backend encodings must not see later edits of the caller's list

        def backend_encodings() -> list[Encoding]:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # truncation was reported when the batch was encoded
                general = self._encode_general(
                    batch,
                    None,
                    True,
                    add_special_tokens=add_special_tokens,
                    padding_strategy=padding_strategy,
                    truncation_strategy=truncation_strategy,
                    max_length=max_length,
                    is_split_into_words=False,
                    **{**kwargs, "return_tensors": None},
                )
            return general.encodings

        truncated = lengths - kept
        if truncated.any():
            self._warn_truncated(np.flatnonzero(truncated), lengths, kept, stacklevel=5)
        return ProteinBatchEncoding(
            data,
            num_leading_special=leading,
            residues_per_sequence=kept.tolist(),
            num_truncated_residues=truncated.tolist(),
            backend_encodings=backend_encodings,
        )

    def _report_truncation(self, encoding: BatchEncoding, lengths: list[int]) -> None:
        """Set `encoding.num_truncated_residues` from the backend's word ids (one word per residue) and warn."""
        samples = encoding.get("overflow_to_sample_mapping")
        if samples is None:
            covered = [len(words) - words.count(None) for words in (e.word_ids for e in encoding.encodings)]
        else:
            # with return_overflowing_tokens the cut residues live on in extra rows of the same input; a pair's
            # two sequences number their words from 0 each, hence (sequence id, word id)
            words_by_sample: list[set] = [set() for _ in lengths]
            for sample, backend_encoding in zip(np.asarray(samples).tolist(), encoding.encodings):
                words_by_sample[sample].update(zip(backend_encoding.sequence_ids, backend_encoding.word_ids))
            covered = [sum(word is not None for _, word in words) for words in words_by_sample]
        lengths, kept = np.asarray(lengths, dtype=np.int64), np.asarray(covered, dtype=np.int64)
        truncated = np.flatnonzero(kept < lengths)
        if truncated.size:
            self._warn_truncated(truncated, lengths, kept, stacklevel=6)
        encoding.num_truncated_residues = (lengths - kept).tolist()

    @staticmethod
    def _warn_truncated(indices: np.ndarray, lengths: np.ndarray, kept: np.ndarray, *, stacklevel: int) -> None:
        # stacklevel points the warning at the caller of the tokenizer, whichever path encoded the batch
        first = int(indices[0])
        warnings.warn(
            f"{indices.size} of {lengths.size} sequences were truncated (first: sequence {first}, "
            f"{int(lengths[first])} residues cut to {int(kept[first])}); the outputs cover only the kept residues. "
            "`encoding.num_truncated_residues` lists how many residues each sequence lost.",
            stacklevel=stacklevel,
        )

    def _decode(self, token_ids, skip_special_tokens: bool = False, **kwargs) -> str:
        text = super()._decode(token_ids, skip_special_tokens=skip_special_tokens, **kwargs)
        return text.replace(" ", "")


def _residue_count(text: str) -> int:
    """Number of tokens a cleaned sequence becomes: residues plus literal special tokens, whitespace ignored."""
    if "<" in text:
        text = _SPECIAL_OR_RESIDUES.sub("?", text)
    return len("".join(text.split()))
