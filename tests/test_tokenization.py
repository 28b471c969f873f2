"""Tests of the shared `ProteinTokenizer`: vocabulary, accepted inputs, validation errors, framing and its round trip,
residue/label alignment, truncation reports on both code paths, and the vectorised path's equality with the general
(tokenizers-backed) path over many random batches."""

from __future__ import annotations

import pickle
import random
import warnings

import numpy as np
import pytest
import torch
from proteinhub.modeling import ProteinCNNConfig, ProteinCNNForTokenClassification
from proteinhub.tokenization import (
    RESIDUES,
    SPECIAL_TOKENS,
    STANDARD_AMINO_ACIDS,
    VOCAB,
    InvalidSequenceError,
    ProteinTokenizer,
)
from proteinhub.tokenization.tokenization_protein import ProteinBatchEncoding
from transformers import AutoTokenizer, BatchEncoding

IGNORE_INDEX = -100
FRAMINGS = [(True, True), (True, False), (False, True), (False, False)]
FRAMING_IDS = ["cls+eos", "cls", "eos", "unframed"]
M, K, T, A, X = (VOCAB[r] for r in "MKTAX")
CLS, EOS, PAD, MASK = (VOCAB[t] for t in ("<cls>", "<eos>", "<pad>", "<mask>"))


def general_path(tokenizer: ProteinTokenizer, monkeypatch: pytest.MonkeyPatch) -> ProteinTokenizer:
    """`tokenizer` with its vectorised path switched off, so every call runs through transformers/tokenizers."""
    monkeypatch.setattr(tokenizer, "_encode_vectorised", lambda *args, **kwargs: None)
    return tokenizer


def align_labels(labels: list[int], word_ids: list[int | None]) -> list[int]:
    """Per-residue labels -> per-token labels; special tokens and padding get the ignore index."""
    return [IGNORE_INDEX if word is None else labels[word] for word in word_ids]


# vocabulary


def test_vocabulary_without_files():
    tokenizer = ProteinTokenizer()
    assert tokenizer.get_vocab() == VOCAB
    assert len(tokenizer) == tokenizer.vocab_size == 31 == len(SPECIAL_TOKENS) + len(RESIDUES)
    assert [VOCAB[t] for t in ("<pad>", "<unk>", "<cls>", "<eos>", "<mask>")] == [0, 1, 2, 3, 4]
    assert [VOCAB[r] for r in STANDARD_AMINO_ACIDS] == list(range(5, 25))
    assert [VOCAB[r] for r in "XUOBZJ"] == list(range(25, 31))
    specials = (tokenizer.pad_token_id, tokenizer.unk_token_id, tokenizer.cls_token_id, tokenizer.mask_token_id)
    assert specials == (0, 1, 2, 4)
    assert tokenizer.eos_token_id == tokenizer.sep_token_id == 3
    assert tokenizer.is_fast


# accepted inputs

ACCEPTED = [
    ("upper case", "MKTA", False, [M, K, T, A]),
    ("lower case", "mktA", False, [M, K, T, A]),
    ("ProtBERT spaces", "M K T A", False, [M, K, T, A]),
    ("tabs, newlines, padding blanks", " M\tK\nT  A ", False, [M, K, T, A]),
    ("trailing stop", "MKTA*", False, [M, K, T, A]),
    ("stop and trailing blank", "mkta* ", False, [M, K, T, A]),
    ("literal mask", "MK<mask>A", False, [M, K, MASK, A]),
    ("rare residues", "XUOBZJ", False, [VOCAB[r] for r in "XUOBZJ"]),
    ("split into words", ["M", "k", "T", "a"], True, [M, K, T, A]),
    ("split with stop", ["M", "K", "T", "A", "*"], True, [M, K, T, A]),
    ("split with mask", ["M", "K", "<mask>", "A"], True, [M, K, MASK, A]),
]


@pytest.mark.parametrize(("name", "text", "split", "residue_ids"), ACCEPTED, ids=[case[0] for case in ACCEPTED])
@pytest.mark.parametrize(("prepend_cls", "append_eos"), FRAMINGS, ids=FRAMING_IDS)
def test_accepted_inputs(name, text, split, residue_ids, prepend_cls, append_eos):
    tokenizer = ProteinTokenizer(prepend_cls=prepend_cls, append_eos=append_eos)
    expected = [CLS] * prepend_cls + residue_ids + [EOS] * append_eos
    encoding = tokenizer(text, is_split_into_words=split)
    assert encoding["input_ids"] == expected
    words = encoding.word_ids()
    assert words == [None] * prepend_cls + list(range(len(residue_ids))) + [None] * append_eos
    batch = tokenizer([text, text], is_split_into_words=split, padding=True, return_tensors="pt")
    assert batch["input_ids"].tolist() == [expected, expected]


@pytest.mark.parametrize("sequence", ["MKTAYIAKQR", "m", "acdefghiklmnpqrstvwyxuobzj", "MKT*", "M K T"])
def test_decode_returns_the_sequence(sequence):
    expected = sequence.upper().rstrip("*").replace(" ", "")
    for tokenizer in (ProteinTokenizer(), ProteinTokenizer(prepend_cls=False, append_eos=False)):
        assert tokenizer.decode(tokenizer(sequence)["input_ids"], skip_special_tokens=True) == expected
        padded = tokenizer([sequence, "MKTAYIAKQRQISFVKSHFSRQ"], padding=True, return_tensors="pt")
        assert tokenizer.batch_decode(padded["input_ids"], skip_special_tokens=True)[0] == expected


def test_decode_keeps_special_tokens_unless_skipped():
    tokenizer = ProteinTokenizer()
    assert tokenizer.decode(tokenizer("mkt")["input_ids"]) == "<cls>MKT<eos>"


# validation

INVALID = [
    # (name, text, split, position, character)
    ("digit", "MK1T", False, 3, "1"),
    ("stop inside", "M*KT", False, 2, "*"),
    ("two stops", "MKT**", False, 4, "*"),
    ("non-ascii", "MKÄT", False, 3, "Ä"),
    ("punctuation after blanks", "M K -T", False, 5, "-"),
    ("unknown special token", "MK<MASK>T", False, 3, "<"),
    ("word of two letters", ["M", "KT"], True, 2, "KT"),
    ("non-letter word", ["M", "K", "1"], True, 3, "1"),
]


@pytest.mark.parametrize(("name", "text", "split", "position", "character"), INVALID, ids=[c[0] for c in INVALID])
@pytest.mark.parametrize("call", ["single", "batch", "vectorised entry"])
def test_invalid_character_names_index_position_and_character(name, text, split, position, character, call):
    tokenizer = ProteinTokenizer()
    good = ["M", "K"] if split else "MK"
    args = {"is_split_into_words": split}
    index = 0 if call == "single" else 2
    if call != "single":
        text = [good, good, text, good]
        if call == "vectorised entry":
            args.update(padding=True, truncation=True, max_length=3, return_tensors="pt")
    with pytest.raises(InvalidSequenceError) as error:
        tokenizer(text, **args)
    assert (error.value.index, error.value.position, error.value.character) == (index, position, character)
    message = str(error.value)
    assert f"sequence {index}" in message and f"position {position}" in message and repr(character) in message


@pytest.mark.parametrize("empty", ["", "   ", "*", " * ", []])
def test_empty_sequence_names_the_index(empty):
    tokenizer = ProteinTokenizer()
    split = isinstance(empty, list)
    batch = [["M"], empty] if split else ["MKT", empty]
    for kwargs in ({}, {"padding": True, "return_tensors": "np"}):
        with pytest.raises(InvalidSequenceError, match="sequence 1 is empty") as error:
            tokenizer(batch, is_split_into_words=split, **kwargs)
        assert error.value.index == 1 and error.value.position is None


@pytest.mark.parametrize("kwargs", [{}, {"padding": True, "return_tensors": "pt"}])
def test_non_string_and_empty_batch(kwargs):
    tokenizer = ProteinTokenizer()
    with pytest.raises(InvalidSequenceError, match="sequence 1 is NoneType") as error:
        tokenizer(["MKT", None], **kwargs)
    assert error.value.index == 1
    with pytest.raises(ValueError, match="empty batch"):
        tokenizer([], **kwargs)


@pytest.mark.parametrize(
    ("text", "split", "expected"),
    [
        ("MK1T", False, [M, K, X, T]),
        ("m-k?t", False, [M, X, K, X, T]),
        ("MK<mask>T.", False, [M, K, MASK, T, X]),
        (["M", "1", "K"], True, [M, X, K]),
    ],
)
def test_on_unknown_x_maps_with_a_warning(text, split, expected):
    strict, lenient = ProteinTokenizer(), ProteinTokenizer(prepend_cls=False, append_eos=False, on_unknown="X")
    with pytest.raises(InvalidSequenceError):
        strict(text, is_split_into_words=split)
    with pytest.warns(UserWarning, match=r"mapped to X .*sequence 0") as record:
        assert lenient(text, is_split_into_words=split)["input_ids"] == expected
    assert record[0].filename == __file__
    with pytest.warns(UserWarning, match="1 of 2 sequences"):
        good = list("MKT") if split else "MKT"
        batch = lenient([good, text], is_split_into_words=split, padding=True, return_tensors="pt")
    assert batch["input_ids"][1, : len(expected)].tolist() == expected


def test_on_unknown_must_be_error_or_x():
    with pytest.raises(ValueError, match="on_unknown"):
        ProteinTokenizer(on_unknown="skip")


# framing, save/load and AutoTokenizer


@pytest.mark.parametrize(("prepend_cls", "append_eos"), FRAMINGS, ids=FRAMING_IDS)
def test_framing_round_trip(prepend_cls, append_eos, tmp_path):
    tokenizer = ProteinTokenizer(prepend_cls=prepend_cls, append_eos=append_eos, on_unknown="X", model_max_length=64)
    expected = [CLS] * prepend_cls + [M, K, T] + [EOS] * append_eos
    assert tokenizer("MKT")["input_ids"] == expected
    assert tokenizer.num_leading_special_tokens == int(prepend_cls)
    assert tokenizer.num_special_tokens_to_add() == prepend_cls + append_eos
    tokenizer.save_pretrained(tmp_path)
    loaded = ProteinTokenizer.from_pretrained(tmp_path)
    assert (loaded.prepend_cls, loaded.append_eos, loaded.on_unknown) == (prepend_cls, append_eos, "X")
    assert loaded.model_max_length == 64
    assert loaded("MKT")["input_ids"] == expected
    assert loaded.get_vocab() == VOCAB


@pytest.mark.parametrize(("prepend_cls", "append_eos"), [(True, True), (False, False)], ids=["framed", "unframed"])
def test_auto_tokenizer_loads_a_protein_tokenizer_from_a_model_folder(prepend_cls, append_eos, tmp_path):
    config = ProteinCNNConfig(
        num_labels=2, hidden_size=8, num_layers=1, embedding_size=8, prepend_cls=prepend_cls, append_eos=append_eos
    )
    ProteinCNNForTokenClassification(config).save_pretrained(tmp_path)
    ProteinTokenizer(**config.tokenizer_kwargs).save_pretrained(tmp_path)
    tokenizer = AutoTokenizer.from_pretrained(tmp_path)
    assert type(tokenizer) is ProteinTokenizer
    assert (tokenizer.prepend_cls, tokenizer.append_eos) == (prepend_cls, append_eos)
    assert tokenizer("mkt")["input_ids"] == [CLS] * prepend_cls + [M, K, T] + [EOS] * append_eos


# residues, words, offsets and labels


@pytest.mark.parametrize(("prepend_cls", "append_eos"), FRAMINGS, ids=FRAMING_IDS)
@pytest.mark.parametrize("return_tensors", [None, "pt"])
@pytest.mark.parametrize("spaced", [False, True], ids=["plain", "ProtBERT spaces"])
def test_residue_labels_align_through_word_ids(prepend_cls, append_eos, return_tensors, spaced):
    tokenizer = ProteinTokenizer(prepend_cls=prepend_cls, append_eos=append_eos)
    residues = ["MKTAYIAK", "mkt", "MKTAY"]
    labels = [[1, 0, 1, 1, 0, 0, 1, 0], [0, 1, 1], [1, 1, 0, 0, 1]]
    sequences = [" ".join(sequence) for sequence in residues] if spaced else residues
    encoding = tokenizer(sequences, padding=True, return_tensors=return_tensors)
    width, start = len(encoding["input_ids"][0]), int(prepend_cls)
    for row, (sequence, residue_labels) in enumerate(zip(residues, labels)):
        words = encoding.word_ids(row)
        expected = [IGNORE_INDEX] * start + residue_labels + [IGNORE_INDEX] * (width - start - len(sequence))
        assert align_labels(residue_labels, words) == expected
        # the token a label lands on is the residue that label belongs to
        ids = np.asarray(encoding["input_ids"][row]).tolist()
        assert [ids[i] for i, word in enumerate(words) if word is not None] == [VOCAB[r] for r in sequence.upper()]


def test_offsets_point_at_residue_characters():
    tokenizer = ProteinTokenizer()
    sequences = {"mKtA*": ["m", "K", "t", "A"], " M K T": ["M", "K", "T"], "AC<mask>D": ["A", "C", "<mask>", "D"]}
    encoding = tokenizer(list(sequences), padding=True, return_offsets_mapping=True, return_tensors="pt")
    for row, (sequence, residues) in enumerate(sequences.items()):
        offsets = encoding["offset_mapping"][row].tolist()
        spans = [sequence[start:end] for (start, end), word in zip(offsets, encoding.word_ids(row)) if word is not None]
        assert spans == residues


def test_split_into_words_aligns_labels():
    tokenizer = ProteinTokenizer(prepend_cls=False, append_eos=True)
    residues = [list("MKTA"), list("mk")]
    encoding = tokenizer(residues, is_split_into_words=True, padding=True, return_tensors="pt")
    assert align_labels([5, 6], encoding.word_ids(1)) == [5, 6, IGNORE_INDEX, IGNORE_INDEX, IGNORE_INDEX]


# truncation


@pytest.mark.parametrize("vectorised", [True, False], ids=["vectorised", "general"])
def test_truncation_warns_and_reports(vectorised, monkeypatch):
    tokenizer = ProteinTokenizer()
    if not vectorised:
        general_path(tokenizer, monkeypatch)
    with pytest.warns(
        UserWarning, match=r"2 of 3 sequences were truncated \(first: sequence 0, 8 residues cut to 3\)"
    ) as record:
        encoding = tokenizer(
            ["MKTAYIAK", "MKT", "MKTA"], padding=True, truncation=True, max_length=5, return_tensors="pt"
        )
    assert record[0].filename == __file__
    assert isinstance(encoding, ProteinBatchEncoding) == vectorised
    assert encoding.num_truncated_residues == [5, 0, 1]
    assert encoding["input_ids"].tolist() == [[CLS, M, K, T, EOS], [CLS, M, K, T, EOS], [CLS, M, K, T, EOS]]
    assert encoding.word_ids(0) == [None, 0, 1, 2, None]


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"return_tensors": "pt"},
        {"return_attention_mask": False},
        {"padding": "max_length", "return_tensors": "np"},
        {"is_split_into_words": True},
    ],
    ids=["lists", "single tensor", "no attention mask", "max_length padding", "split into words"],
)
def test_truncation_report_on_the_general_path(kwargs):
    tokenizer = ProteinTokenizer()
    text = list("MKTAYI") if kwargs.get("is_split_into_words") else "mkta yi*"
    with pytest.warns(UserWarning, match="1 of 1 sequences were truncated"):
        encoding = tokenizer(text, truncation=True, max_length=4, **kwargs)
    assert encoding.num_truncated_residues == [4]
    assert np.asarray(encoding["input_ids"]).reshape(-1)[:4].tolist() == [CLS, M, K, EOS]


def test_nothing_truncated_means_no_warning_and_zeros():
    tokenizer = ProteinTokenizer()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert tokenizer(["MKT", "MK"], truncation=True, max_length=5).num_truncated_residues == [0, 0]
        assert tokenizer(["MKT", "MK"], padding=True, return_tensors="np").num_truncated_residues == [0, 0]
        assert tokenizer("MKT").num_truncated_residues == [0]


def test_overflowing_rows_keep_the_cut_residues():
    tokenizer = ProteinTokenizer()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        encoding = tokenizer(["MKTAYIAK", "MK"], truncation=True, max_length=5, return_overflowing_tokens=True)
    assert encoding["overflow_to_sample_mapping"] == [0, 0, 0, 1]
    assert encoding.num_truncated_residues == [0, 0]


def test_pairs_report_truncation_over_both_sequences():
    tokenizer = ProteinTokenizer()
    with pytest.warns(UserWarning, match="truncated"):
        encoding = tokenizer(["MKTAAA"], ["AY"], truncation=True, max_length=7)
    assert encoding["input_ids"] == [[CLS, M, K, EOS, A, VOCAB["Y"], EOS]]
    assert encoding.num_truncated_residues == [4]


@pytest.mark.parametrize("max_length", [1, 2])
@pytest.mark.parametrize("return_tensors", [None, "pt"])
def test_max_length_must_leave_room_for_a_residue(max_length, return_tensors):
    tokenizer = ProteinTokenizer()
    with pytest.raises(ValueError, match=f"max_length={max_length} leaves no room for residues"):
        tokenizer(["MKT"], padding=True, truncation=True, max_length=max_length, return_tensors=return_tensors)
    unframed = ProteinTokenizer(prepend_cls=False, append_eos=False)
    with pytest.warns(UserWarning, match="truncated"):
        assert unframed(["MKT"], truncation=True, max_length=1)["input_ids"] == [[M]]


# the vectorised path equals the general path


def random_case(rng: random.Random) -> tuple[list[str] | tuple[str, ...], dict]:
    """A random batch and call of the kind the vectorised path serves (and a few it must decline or reject)."""
    alphabet = RESIDUES + RESIDUES.lower() if rng.random() < 0.5 else STANDARD_AMINO_ACIDS
    lengths = [rng.choice([1, 1, 2, 3, rng.randint(1, 40), rng.randint(1, 90)]) for _ in range(rng.randint(1, 6))]
    batch = ["".join(rng.choice(alphabet) for _ in range(n)) for n in lengths]
    if rng.random() < 0.1:  # the general path's job: blanks and a stop
        batch[rng.randrange(len(batch))] += rng.choice([" *", "*", " "])
    kwargs = {
        "return_tensors": rng.choice(["pt", "np"]),
        "add_special_tokens": rng.random() < 0.8,
        "truncation": rng.choice([False, True, True, "longest_first", "only_first"]),
        "max_length": rng.choice([None, 3, 4, rng.randint(3, 30), rng.randint(30, 100), max(lengths) + 2]),
        "padding": rng.choice([True, "longest", "max_length"]),
        "pad_to_multiple_of": rng.choice([None, None, 2, 8]),
    }
    if kwargs["padding"] == "max_length" and kwargs["max_length"] is None:
        kwargs["max_length"] = rng.randint(3, 100)
    multiple, max_length = kwargs["pad_to_multiple_of"], kwargs["max_length"]
    if multiple and max_length and rng.random() < 0.9:  # else transformers refuses truncation + padding
        kwargs["max_length"] = -(-max_length // multiple) * multiple
    if rng.random() < 0.5:
        batch = tuple(batch)
    return batch, kwargs


def outcome(tokenizer: ProteinTokenizer, batch, kwargs: dict) -> tuple[object, list]:
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        try:
            result = tokenizer(batch, **kwargs)
        except ValueError as error:
            result = error
    return result, [(w.category, str(w.message)) for w in record]


@pytest.mark.parametrize(("prepend_cls", "append_eos"), FRAMINGS, ids=FRAMING_IDS)
def test_vectorised_path_equals_general_path(prepend_cls, append_eos, monkeypatch):
    vectorised = ProteinTokenizer(prepend_cls=prepend_cls, append_eos=append_eos, model_max_length=48)
    general = general_path(
        ProteinTokenizer(prepend_cls=prepend_cls, append_eos=append_eos, model_max_length=48), monkeypatch
    )
    rng = random.Random(f"{prepend_cls}{append_eos}")
    served = 0
    for case in range(150):
        batch, kwargs = random_case(rng)
        fast, fast_warnings = outcome(vectorised, batch, kwargs)
        slow, slow_warnings = outcome(general, batch, kwargs)
        context = f"case {case}: {batch!r} {kwargs}"
        assert fast_warnings == slow_warnings, context
        if isinstance(slow, Exception):
            assert type(fast) is type(slow) and str(fast) == str(slow), context
            continue
        assert type(slow) is BatchEncoding, context
        # the vectorised path serves plain residue strings that pad to a rectangle; the rest goes to the general path
        # (blanks and stops; rows longer than padding="max_length" leave a ragged numpy object array)
        served_here = all(s.isalpha() for s in batch) and slow["input_ids"].dtype != object
        assert isinstance(fast, ProteinBatchEncoding) == served_here, context
        served += served_here
        assert fast.keys() == slow.keys() == {"input_ids", "attention_mask"}, context
        for key in fast:
            assert type(fast[key]) is type(slow[key]) and fast[key].dtype == slow[key].dtype, context
            rows = [[np.asarray(row).tolist() for row in output[key]] for output in (fast, slow)]
            assert rows[0] == rows[1], context
        assert fast.num_truncated_residues == slow.num_truncated_residues, context
        for row in range(len(batch)):
            assert fast.word_ids(row) == slow.word_ids(row), context
    assert served >= 80  # most random cases really took the vectorised path


def test_vectorised_encoding_answers_every_mapping_like_the_general_path(monkeypatch):
    batch, kwargs = ["MKTAYIAK", "mk"], {"padding": True, "truncation": True, "max_length": 6, "return_tensors": "pt"}
    with pytest.warns(UserWarning, match="truncated"):
        fast = ProteinTokenizer()(batch, **kwargs)
        slow = general_path(ProteinTokenizer(), monkeypatch)(batch, **kwargs)
    assert isinstance(fast, ProteinBatchEncoding) and fast.is_fast
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the lazy backend run does not warn a second time
        for row in range(2):
            assert fast.tokens(row) == slow.tokens(row)
            assert fast.sequence_ids(row) == slow.sequence_ids(row)
            assert fast[row].offsets == slow[row].offsets
        assert fast.char_to_token(1, 1) == slow.char_to_token(1, 1) == 2
        assert fast.token_to_chars(0, 4) == slow.token_to_chars(0, 4)

    copy = pickle.loads(pickle.dumps(fast))
    assert torch.equal(copy["input_ids"], fast["input_ids"])
    assert copy.word_ids(1) == slow.word_ids(1) and copy.num_truncated_residues == [4, 0]
    moved = fast.to("cpu")
    assert moved.word_ids(0) == slow.word_ids(0) and moved.num_truncated_residues == [4, 0]


def test_vectorised_entry_point_declines_what_it_does_not_serve():
    tokenizer = ProteinTokenizer()
    batch = ["MKT", "MK"]
    declined = {
        "lists": tokenizer(batch, padding=True),
        "left padding": tokenizer(batch, padding=True, padding_side="left", return_tensors="pt"),
        "no padding": tokenizer(["MKT", "MKA"], return_tensors="pt"),
        "offsets": tokenizer(batch, padding=True, return_offsets_mapping=True, return_tensors="pt"),
        "special tokens mask": tokenizer(batch, padding=True, return_special_tokens_mask=True, return_tensors="np"),
        "literal mask": tokenizer(["M<mask>T", "MK"], padding=True, return_tensors="pt"),
    }
    for name, encoding in declined.items():
        assert type(encoding) is BatchEncoding, name
    assert declined["left padding"]["input_ids"].tolist() == [[CLS, M, K, T, EOS], [PAD, CLS, M, K, EOS]]
    assert declined["literal mask"]["input_ids"].tolist() == [[CLS, M, MASK, T, EOS], [CLS, M, K, EOS, PAD]]
