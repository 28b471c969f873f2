"""The one FASTA reader (`proteinhub.tokenization.fasta`, issue 14): every consumer accepts and refuses the same files.

`test_every_consumer_gives_the_same_outcome` runs each edge case (wrapped lines, CRLF, a byte-order mark, gzip
without a `.gz` suffix, non-UTF-8, a blank header, duplicate ids, an empty record, text before the first header, an
illegal character) through a builder (`protein_files`, `protein_fasta`), `proteinhub predict` (a per-protein and a
phosphosite model), `proteinhub embed` and both pipelines that take a FASTA path, and expects the same proteins from
each, or a `DatasetFormatError` naming the same file, record and line. The other tests are unit tests of the reader.
"""

from __future__ import annotations

import gzip
import io

import numpy as np
import proteinhub
import proteinhub.inference.pipelines  # noqa: F401  (registers the pipeline tasks)
import pytest
import torch
from proteinhub import ProteinTokenizer, cli
from proteinhub.modeling.localization import LocalizationConfig, LocalizationForSequenceClassification
from proteinhub.tokenization.fasta import (
    DatasetFormatError,
    clean_sequence,
    count_records,
    read_fasta,
    read_proteins,
)
from transformers import pipeline

PLAIN = b">p1 label=x\nMKTAYI\n>p2 label=y\nMSTK\n"
PROTEINS = [("p1", "MKTAYI"), ("p2", "MSTK")]

# (case, file bytes, None when accepted (then every consumer sees PROTEINS) or the fragments the error must contain)
CASES = [
    ("plain", PLAIN, None),
    ("wrapped lines", b">p1 label=x\nMKT\nAY\nI\n\n>p2 label=y\nMS\nTK*\n", None),
    ("CRLF", PLAIN.replace(b"\n", b"\r\n"), None),
    ("byte-order mark", b"\xef\xbb\xbf" + PLAIN, None),
    ("gzip without suffix", gzip.compress(PLAIN), None),
    ("lower case", PLAIN.replace(b"MSTK", b"mstk"), None),
    ("non-UTF-8", b">p1 label=x\nMKTAYI\n>p2 caf\xe9 label=y\nMSTK\n", ["line 3", "not UTF-8", "0xe9"]),
    ("blank header", b">p1 label=x\nMKTAYI\n>  \nMSTK\n", ["record 2, line 3", "header without an id"]),
    ("duplicate ids", b">p1 label=x\nMKTAYI\n>p1 label=y\nMSTK\n", ["record 2 ('p1')", "duplicate id", "record 1"]),
    ("empty record", b">p1 label=x\nMKTAYI\n>p2 label=y\n>p3 label=x\nMSTK\n", ["record 2 ('p2')", "empty sequence"]),
    ("text before the first header", b"MKTAYI\n>p1 label=x\nMK\n", ["line 1", "expected a FASTA header", "'MKTAYI'"]),
    ("illegal character", b">p1 label=x\nMKTAYI\n>p2 label=y\nMS1TK\n", ["record 2 ('p2')", "'1' at position 3"]),
]


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """Tiny saved models: a per-protein classifier, a phosphosite window classifier and a backbone."""
    torch.manual_seed(0)
    folders = {}
    tiny = LocalizationConfig(
        num_filters=2,
        lstm_hidden_size=2,
        dense_size=2,
        num_labels=2,
        id2label={0: "x", 1: "y"},
        label2id={"x": 0, "y": 1},
    )
    for name, model in (
        ("protein", LocalizationForSequenceClassification(tiny)),
        ("sites", proteinhub.build_preset("phosphosite-cnn-gru-w15")),
        ("backbone", proteinhub.build_preset("protein-cnn-small").base_model),
    ):
        folder = tmp_path_factory.mktemp(name)
        model.eval().save_pretrained(folder)
        ProteinTokenizer(**model.config.tokenizer_kwargs).save_pretrained(folder)
        folders[name] = str(folder)
    return folders


def _sites(proteins):
    """(id, 1-based position, residue) of every S/T: what a phosphosite model scores."""
    return [(i, p, r) for i, sequence in proteins for p, r in enumerate(sequence, start=1) if r in "ST"]


def _lengths(proteins):
    return [(protein_id, len(sequence)) for protein_id, sequence in proteins]


def _tsv(path):
    lines = path.read_text().splitlines()
    return [line.split("\t") for line in lines[1:]]


# consumers: (run on a FASTA path, what they see of PROTEINS)


def builder_protein_files(path, tmp_path, models):
    data = proteinhub.load_dataset(
        "protein_files", "protein_classification", data_files={"train": [str(path)]}, cache_dir=tmp_path / "cache"
    )["train"]
    return list(zip(data["id"], data["sequence"]))


def builder_protein_fasta(path, tmp_path, models):
    data = proteinhub.load_dataset(
        "protein_fasta", data_files=str(path), max_length=None, drop_letters="", cache_dir=tmp_path / "cache"
    )["train"]
    return list(zip(data["id"], data["sequence"]))


def predict_proteins(path, tmp_path, models):
    out = tmp_path / "out.tsv"
    assert (
        cli.main(["predict", "--model", models["protein"], "--fasta", str(path), "--out", str(out), "--no-progress"])
        == 0
    )
    return [(row[0], int(row[1])) for row in _tsv(out)]


def predict_sites(path, tmp_path, models):
    out = tmp_path / "out.tsv"
    assert (
        cli.main(["predict", "--model", models["sites"], "--fasta", str(path), "--out", str(out), "--no-progress"]) == 0
    )
    return [(row[0], int(row[1]), row[2]) for row in _tsv(out)]


def embed(path, tmp_path, models):
    out = tmp_path / "out.npz"
    assert (
        cli.main(["embed", "--model", models["backbone"], "--fasta", str(path), "--out", str(out), "--per-residue"])
        == 0
    )
    saved = np.load(out)
    return list(zip(saved["ids"].tolist(), np.diff(saved["offsets"]).tolist()))


def pipeline_feature_extraction(path, tmp_path, models):
    extract = pipeline("protein-feature-extraction", model=models["backbone"], device="cpu")
    return [(protein["id"], len(protein["residue_embeddings"])) for protein in extract(str(path), per_residue=True)]


def pipeline_phosphosite(path, tmp_path, models):
    scan = pipeline("phosphosite-prediction", model=models["sites"], device="cpu")
    return [
        (protein["id"], site["position"], site["residue"]) for protein in scan(str(path)) for site in protein["sites"]
    ]


CONSUMERS = {
    "builder protein_files": (builder_protein_files, list),
    "builder protein_fasta": (builder_protein_fasta, list),
    "predict per-protein": (predict_proteins, _lengths),
    "predict phosphosite": (predict_sites, _sites),
    "embed": (embed, _lengths),
    "pipeline protein-feature-extraction": (pipeline_feature_extraction, _lengths),
    "pipeline phosphosite-prediction": (pipeline_phosphosite, _sites),
}


@pytest.mark.parametrize("consumer", list(CONSUMERS))
@pytest.mark.parametrize(("case", "content", "fragments"), CASES, ids=[case for case, _, _ in CASES])
def test_every_consumer_gives_the_same_outcome(consumer, case, content, fragments, models, tmp_path):
    path = tmp_path / "proteins.fasta"  # gzip or not, the name says .fasta: the magic bytes decide
    path.write_bytes(content)
    run, view = CONSUMERS[consumer]
    if consumer == "builder protein_fasta" and case == "duplicate ids":
        # the documented exception: a pretraining corpus streams without keeping its ids (module docstring)
        assert run(path, tmp_path, models) == view([("p1", "MKTAYI"), ("p1", "MSTK")])
        return
    if fragments is None:
        assert run(path, tmp_path, models) == view(PROTEINS)
        return
    with pytest.raises(DatasetFormatError) as error:
        run(path, tmp_path, models)
    message = str(error.value)
    for fragment in ["proteins.fasta", *fragments]:
        assert fragment in message, f"{consumer}, {case}: {fragment!r} not in {message!r}"


# the reader itself


def test_records_carry_id_description_number_and_header_line():
    records = list(read_fasta(io.BufferedReader(io.BytesIO(b"\n>a  first protein x=1 \nMK\nT\n>b\n\nMS\n")), name="m"))
    assert [(r.id, r.description, r.sequence, r.number, r.line, r.source) for r in records] == [
        ("a", "first protein x=1", "MKT", 1, 2, "m"),
        ("b", "", "MS", 2, 5, "m"),
    ]
    assert records[0].where == "m, record 1 ('a')"


def test_a_gzip_stream_is_recognised_by_its_magic_bytes():
    stream = io.BufferedReader(io.BytesIO(gzip.compress(b">a\nMK\n")))
    assert [(r.id, r.sequence) for r in read_fasta(stream, name="member")] == [("a", "MK")]


def test_an_empty_file_has_no_record(tmp_path):
    for content in (b"", b"\n\n", b"\xef\xbb\xbf"):
        path = tmp_path / "empty.fasta"
        path.write_bytes(content)
        assert list(read_fasta(path)) == [] and count_records(path) == 0


def test_duplicate_ids_are_allowed_only_when_asked(tmp_path):
    path = tmp_path / "d.fasta"
    path.write_bytes(b">a\nMK\n>b\nMS\n>a\nMT\n")
    assert [r.number for r in read_fasta(path, unique_ids=False)] == [1, 2, 3]
    with pytest.raises(
        DatasetFormatError,
        match=r"d\.fasta, record 3 \('a'\), line 5: duplicate id; first seen at "
        r"record 1, line 1",
    ):
        list(read_fasta(path))


def test_the_reader_streams(tmp_path):
    path = tmp_path / "s.fasta"
    path.write_bytes(b">a\nMK\n>b\nMS\n\xff\n")  # the bad byte is on line 5: the first record is yielded before it
    records = read_fasta(path)
    assert next(records).id == "a"
    with pytest.raises(DatasetFormatError, match=r"s\.fasta, line 5: not UTF-8 text \(byte 0xff at column 1\)"):
        next(records)


@pytest.mark.parametrize(
    ("sequence", "expected"),
    [("MKT", "MKT"), ("mk t\tay", "MKTAY"), ("MK*", "MK"), ("xuobzj", "XUOBZJ")],
)
def test_clean_sequence(sequence, expected):
    assert clean_sequence(sequence, "demo") == expected


@pytest.mark.parametrize(
    ("sequence", "message"),
    [
        ("", "demo: empty sequence"),
        ("*", "demo: empty sequence"),
        ("MK*T", r"demo: invalid character '\*' at position 3"),
        ("MK**", r"demo: invalid character '\*' at position 3"),
        ("MK-T", r"demo: invalid character '-' at position 3"),
        ("M2", r"demo: invalid character '2' at position 2"),
    ],
)
def test_clean_sequence_refuses_naming_the_record_position_and_character(sequence, message):
    with pytest.raises(DatasetFormatError, match=message):
        clean_sequence(sequence, "demo")


def test_read_proteins_and_count_records_agree(tmp_path):
    path = tmp_path / "p.fasta"
    path.write_bytes(b"\xef\xbb\xbf>a\r\nmk\r\n>b x\r\nMS*\r\n")
    assert list(read_proteins(path)) == [("a", "MK"), ("b", "MS")] and count_records(path) == 2
    path.write_bytes(gzip.compress(b">a\nMK\n"))
    assert list(read_proteins(path)) == [("a", "MK")] and count_records(path) is None  # no total for gzip
