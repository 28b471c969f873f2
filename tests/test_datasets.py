"""Tests of proteinhub.dataset_scripts: builders, content-aware cache, offline mirror, splits and bad input."""

import gzip
import importlib.util
import os
import sys
from pathlib import Path

import datasets
import pytest
from proteinhub.dataset_scripts import (
    BUILDERS,
    DATA_DIR_ENV,
    DataNotFoundError,
    DatasetFormatError,
    dataset_task,
    label_names,
    list_datasets,
    load_dataset,
)
from proteinhub.dataset_scripts import disorder_ldr as ldr

datasets.disable_progress_bars()

# AA_LDR as shipped in aaanalysis 1.1.0 (its Overview.tsv: 342 proteins, 118,248 residues, 35,469 disordered)
LDR_PROTEINS, LDR_RESIDUES, LDR_DISORDERED = 342, 118_248, 35_469
SPLITS = ("train", "validation", "test")


@pytest.fixture(autouse=True)
def _no_mirror(monkeypatch):
    # a developer's PROTEINHUB_DATA_DIR must not change what these tests read
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)


def write(path: Path, text: str) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return str(path)


def ldr_subset(folder: Path, num_rows: int) -> Path:
    """The first `num_rows` proteins of the packaged AA_LDR.tsv, written as `folder/AA_LDR.tsv`."""
    lines = ldr.packaged_file().read_text().splitlines(keepends=True)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / ldr.RAW_FILE).write_text("".join(lines[: num_rows + 1]))
    return folder


# disorder_ldr on the real AA_LDR


def test_disorder_ldr_real_counts_and_schema(tmp_path):
    ds = load_dataset("disorder_ldr", cache_dir=tmp_path)
    assert list(ds) == ["train", "validation", "test"]
    assert {split: len(ds[split]) for split in ds} == {"train": 239, "validation": 51, "test": 52}
    assert label_names(ds) == ["ordered", "disordered"] == list(ldr.LABEL_NAMES)
    assert dataset_task(ds) == "residue_classification"
    assert ds["train"].features["labels"] == datasets.List(datasets.Value("int64"))
    residues = disordered = 0
    ids = set()
    for split in ds.values():
        for row in split:
            assert len(row["labels"]) == len(row["sequence"])
            assert set(row["labels"]) <= {0, 1}
            residues += len(row["sequence"])
            disordered += sum(row["labels"])
        assert ids.isdisjoint(split["id"])
        ids.update(split["id"])
    assert (len(ids), residues, disordered) == (LDR_PROTEINS, LDR_RESIDUES, LDR_DISORDERED)
    assert "Tang" in ds["train"].info.citation and ds["train"].info.license == "BSD-3-Clause"


def test_split_assignment_is_deterministic_and_seeded(tmp_path):
    entries = [f"LDR_{i}" for i in range(1, 343)]
    first = ldr.assign_splits(entries, seed=0)
    assert first == ldr.assign_splits(list(reversed(entries)), seed=0)  # independent of the input order
    counts = {split: sum(value == split for value in first.values()) for split in SPLITS}
    assert counts == {"train": 239, "validation": 51, "test": 52}
    assert first != ldr.assign_splits(entries, seed=1)
    # the prepared dataset follows the assignment, and a new seed is a different cache entry with other proteins
    test_ids = set(load_dataset("disorder_ldr", split="test", cache_dir=tmp_path)["id"])
    assert test_ids == {entry for entry, split in first.items() if split == "test"}
    assert test_ids != set(load_dataset("disorder_ldr", split="test", cache_dir=tmp_path, split_seed=1)["id"])


def test_disorder_ldr_downloads_from_urls_without_package(tmp_path):
    class RecordingDownloadManager:
        def download(self, urls):
            self.requested = urls
            return {name: f"/downloaded/{name}" for name in urls}

    assert ldr.packaged_file() is not None  # installed here: the option, not its absence, sends the builder online
    builder = ldr.DisorderLDR(cache_dir=str(tmp_path), use_installed_package=False)
    manager = RecordingDownloadManager()
    assert builder.raw_files(manager) == {ldr.RAW_FILE: f"/downloaded/{ldr.RAW_FILE}"}
    assert manager.requested == ldr.DisorderLDR._URLS
    assert manager.requested[ldr.RAW_FILE].startswith("https://raw.githubusercontent.com/breimanntools/aaanalysis/")


# protein_files: formats and configs

FASTA_CLASSES = (
    ">p1 label=Nucleus\nMKTAYIAK\nQR\n>p2|Cytoplasm\nmklv*\n>p3 text label=Cell membrane OS=Homo sapiens\nMKKL\n"
)


@pytest.mark.parametrize(
    ("config", "file_name", "text", "kwargs", "expected"),
    [
        (
            "protein_classification",
            "train.fasta",
            FASTA_CLASSES,
            {},
            {
                "id": ["p1", "p2", "p3"],
                "sequence": ["MKTAYIAKQR", "MKLV", "MKKL"],
                "label": [2, 1, 0],
                "names": ["Cell membrane", "Cytoplasm", "Nucleus"],
            },
        ),
        (
            "protein_classification",
            "train.csv",
            "id,sequence,label,extra\na,MKT,1,x\nb,MKTA,10,y\nc,MK,2,z\n",
            {},
            {"id": ["a", "b", "c"], "label": [0, 2, 1], "names": ["1", "2", "10"]},  # numeric names sort numerically
        ),
        (
            "protein_classification",
            "train.tsv",
            "id\tsequence\tlabel\na\tMKT\tpos\nb\tMKTA\tpos\n",
            {"label_names": ["neg", "pos"]},
            {"label": [1, 1], "names": ["neg", "pos"]},
        ),
        (
            "protein_regression",
            "train.fasta",
            ">x label=0.5\nMKT\n>y|-1e2\nMKTA\n",
            {},
            {"id": ["x", "y"], "label": [0.5, -100.0], "names": None},
        ),
        (
            "residue_classification",
            "train.fasta",
            ">r1 labels=0110\nMKTA\n>r2 desc labels=2,0,-100\nMKT*\n",
            {},
            {"labels": [[0, 1, 1, 0], [2, 0, -100]], "names": ["0", "1", "2"]},
        ),
        (
            "residue_classification",
            "train.csv",
            'id,sequence,labels\na,MKT,0-1\nb,MKTA,"[0, 1, 1, 0]"\n',
            {"label_names": ["ordered", "disordered"]},
            {"labels": [[0, -100, 1], [0, 1, 1, 0]], "names": ["ordered", "disordered"]},
        ),
        (
            "residue_classification",
            "train.tsv.gz",
            None,  # gzip of a TSV, written below
            {"num_labels": 3},
            {"labels": [[0, 1, 1]], "names": ["0", "1", "2"]},
        ),
    ],
)
def test_protein_files_formats(tmp_path, config, file_name, text, kwargs, expected):
    path = tmp_path / file_name
    if text is None:
        with gzip.open(path, "wt") as handle:
            handle.write("id\tsequence\tlabels\nz\tMKT\t011\n")
    else:
        write(path, text)
    ds = load_dataset("protein_files", config, data_files={"train": str(path)}, cache_dir=tmp_path / "cache", **kwargs)
    train = ds["train"]
    for column in ("id", "sequence", "label", "labels"):
        if column in expected:
            assert train[column] == expected[column]
    assert dataset_task(ds) == config
    if expected["names"] is None:
        with pytest.raises(ValueError, match="no class names"):
            label_names(ds)
    else:
        assert label_names(ds) == expected["names"]


@pytest.mark.parametrize(
    ("former", "config"),
    [("sequence_classification", "protein_classification"), ("sequence_regression", "protein_regression")],
)
def test_protein_files_former_config_names_load_the_protein_level_configs(tmp_path, former, config):
    text = ">p1 label=1\nMKT\n>p2 label=0\nMK\n"
    path = write(tmp_path / "t.fasta", text)
    ds = load_dataset("protein_files", former, data_files={"train": str(path)}, cache_dir=tmp_path / "cache")
    assert dataset_task(ds) == config
    assert ds["train"]["id"] == ["p1", "p2"]


def test_protein_files_splits_from_data_files_and_data_dir(tmp_path):
    files = {split: write(tmp_path / "raw" / f"{split}.fasta", f">{split}1 labels=01\nMK\n") for split in SPLITS}
    from_files = load_dataset("protein_files", "residue_classification", data_files=files, cache_dir=tmp_path / "c")
    from_dir = load_dataset(
        "protein_files", "residue_classification", data_dir=tmp_path / "raw", cache_dir=tmp_path / "c"
    )
    for ds in (from_files, from_dir):
        assert {split: ds[split]["id"] for split in ds} == {split: [f"{split}1"] for split in SPLITS}
    assert load_dataset(
        "protein_files", "residue_classification", data_files=files, split="test", cache_dir=tmp_path / "c"
    )["id"] == ["test1"]


def test_label_names_survive_map_and_select(tmp_path):
    path = write(tmp_path / "t.fasta", ">a labels=01\nMK\n>b labels=10\nKM\n")
    ds = load_dataset(
        "protein_files",
        "residue_classification",
        data_files=path,
        label_names=["o", "d"],
        split="train",
        cache_dir=tmp_path / "c",
    )
    assert label_names(ds.map(lambda row: {"length": len(row["sequence"])})) == ["o", "d"]
    assert label_names(ds.select([1])) == ["o", "d"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"label_names": ["a", "b"], "num_labels": 3}, "num_labels=3"),
        ({"label_names": ["a", "a"]}, "distinct"),
        ({"num_labels": 0}, "at least 1"),
    ],
)
def test_protein_files_rejects_inconsistent_label_config(tmp_path, kwargs, message):
    path = write(tmp_path / "t.fasta", ">a label=a\nMK\n")
    with pytest.raises(ValueError, match=message):
        load_dataset("protein_files", "protein_classification", data_files=path, cache_dir=tmp_path, **kwargs)


def test_usage_errors_name_the_fix(tmp_path):
    with pytest.raises(ValueError, match=r"Unknown dataset 'nope'. Available: disorder_ldr, .*protein_files"):
        load_dataset("nope")
    with pytest.raises(ValueError, match="pass data_files"):
        load_dataset("protein_files", "protein_classification", cache_dir=tmp_path)
    with pytest.raises(ValueError, match="drop label_names"):
        load_dataset(
            "protein_files",
            "protein_regression",
            data_files=write(tmp_path / "a.fa", ">a|1\nM\n"),
            cache_dir=tmp_path,
            num_labels=2,
        )
    with pytest.raises(ValueError, match="takes no data_files"):
        load_dataset("disorder_ldr", data_files=write(tmp_path / "b.fa", ">a|1\nM\n"), cache_dir=tmp_path)
    assert list_datasets() == sorted(BUILDERS)
    assert {"disorder_ldr", "protein_files"} <= set(list_datasets())


# bad input: each case raises DatasetFormatError naming the file and the record

BAD_INPUTS = [
    # (case, config, {file name: text}, extra kwargs, fragments the message must contain)
    ("fasta without headers", "protein_classification", {"t.fasta": "MKTAYI\nGGG\n"}, {}, ["t.fasta", "line 1"]),
    (
        "fasta header after text",
        "protein_classification",
        {"t.fasta": "\nMKT\n>a label=x\nMK\n"},
        {},
        ["t.fasta", "line 2", "'MKT'"],
    ),
    ("empty file", "protein_classification", {"t.fasta": ""}, {}, ["t.fasta", "no records"]),
    (
        "duplicate id",
        "protein_classification",
        {"t.fasta": ">a label=x\nMK\n>b label=x\nMK\n>a label=y\nMK\n"},
        {},
        ["t.fasta, record 3 ('a')", "duplicate id", "record 1"],
    ),
    (
        "duplicate id across files of a split",
        "protein_classification",
        {"t.fasta": ">a label=x\nMK\n", "u.csv": "id,sequence,label\na,MK,x\n"},
        {},
        ["u.csv, line 2 ('a')", "t.fasta"],
    ),
    (
        "empty sequence",
        "protein_classification",
        {"t.fasta": ">a label=x\n>b label=x\nMK\n"},
        {},
        ["t.fasta, record 1 ('a')", "empty sequence"],
    ),
    (
        "empty sequence in csv",
        "protein_regression",
        {"t.csv": "id,sequence,label\na,MK,1\nb,,2\n"},
        {},
        ["t.csv, line 3 ('b')", "empty sequence"],
    ),
    (
        "illegal character",
        "protein_classification",
        {"t.fasta": ">a label=x\nMKT\n>p2 label=x\nMK1T\n"},
        {},
        ["t.fasta, record 2 ('p2')", "'1' at position 3"],
    ),
    (
        "stop codon inside",
        "protein_classification",
        {"t.fasta": ">s label=x\nMK*T\n"},
        {},
        ["record 1 ('s')", "'*' at position 3"],
    ),
    (
        "gap character",
        "residue_classification",
        {"t.tsv": "id\tsequence\tlabels\ng1\tMK-T\t0000\n"},
        {},
        ["t.tsv, line 2 ('g1')", "'-' at position 3"],
    ),
    (
        "residue labels too short",
        "residue_classification",
        {"t.fasta": ">r labels=010\nMKTA\n"},
        {},
        ["record 1 ('r')", "3 residue labels for a sequence of 4 residues"],
    ),
    (
        "residue labels too long in csv",
        "residue_classification",
        {"t.csv": 'id,sequence,labels\nok,MK,01\nlong,MK,"0,1,1"\n'},
        {},
        ["t.csv, line 3 ('long')", "3 residue labels"],
    ),
    (
        "residue label outside num_labels",
        "residue_classification",
        {"t.fasta": ">r labels=0120\nMKTA\n"},
        {"num_labels": 2},
        ["record 1 ('r')", "residue 3 has label 2", "0..1"],
    ),
    (
        "residue label outside label_names",
        "residue_classification",
        {"t.csv": 'id,sequence,labels\nq,MK,"0,5"\n'},
        {"label_names": ["a", "b", "c"]},
        ["t.csv, line 2 ('q')", "residue 2 has label 5"],
    ),
    (
        "negative residue label",
        "residue_classification",
        {"t.fasta": ">r labels=0,-1\nMK\n"},
        {"num_labels": 2},
        ["record 1 ('r')", "label -1"],
    ),
    (
        "bad compact residue label",
        "residue_classification",
        {"t.fasta": ">r labels=0x\nMK\n"},
        {},
        ["record 1 ('r')", "'x'"],
    ),
    (
        "sequence label outside label_names",
        "protein_classification",
        {"t.fasta": ">a label=x\nMK\n>b label=z\nMK\n"},
        {"label_names": ["x", "y"]},
        ["record 2 ('b')", "'z' is not in the label set"],
    ),
    (
        "sequence label outside num_labels",
        "protein_classification",
        {"t.csv": "id,sequence,label\na,MK,0\nb,MK,2\n"},
        {"num_labels": 2},
        ["t.csv, line 3 ('b')", "'2'"],
    ),
    (
        "missing label",
        "protein_classification",
        {"t.fasta": ">a label=x\nMK\n>b\nMK\n"},
        {},
        ["record 2 ('b')", "no label"],
    ),
    (
        "regression label not a number",
        "protein_regression",
        {"t.fasta": ">a label=high\nMK\n"},
        {},
        ["record 1 ('a')", "'high' is not a number"],
    ),
    (
        "missing column",
        "residue_classification",
        {"t.csv": "id,sequence,label\na,MK,0\n"},
        {},
        ["t.csv", "missing column(s) ['labels']"],
    ),
    ("empty csv", "protein_classification", {"t.csv": ""}, {}, ["t.csv", "empty file"]),
    (
        "malformed csv",
        "protein_classification",
        {"t.csv": "id,sequence,label\na,MK,x\nb,MK,x,extra\n"},
        {},
        ["t.csv", "malformed CSV", "line 3"],
    ),
    ("unknown extension", "protein_classification", {"t.txt": ">a label=x\nMK\n"}, {}, ["t.txt", "unknown file type"]),
]


@pytest.mark.parametrize(("case", "config", "files", "kwargs", "fragments"), BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_raises_naming_the_record(tmp_path, case, config, files, kwargs, fragments):
    paths = [write(tmp_path / "raw" / name, text) for name, text in files.items()]
    with pytest.raises(DatasetFormatError) as error:
        load_dataset("protein_files", config, data_files={"train": paths}, cache_dir=tmp_path / "cache", **kwargs)
    message = str(error.value)
    for fragment in fragments:
        assert fragment in message, f"{case}: {fragment!r} not in {message!r}"
    # nothing half-written is left in the cache to be served later
    assert not list((tmp_path / "cache").rglob("*.arrow"))


def test_bad_record_in_aa_ldr_copy_is_named(tmp_path):
    folder = ldr_subset(tmp_path / "raw", 5)
    text = (folder / ldr.RAW_FILE).read_text().replace("1,1\n", "1\n", 1)  # drop one residue label of one protein
    (folder / ldr.RAW_FILE).write_text(text)
    with pytest.raises(DatasetFormatError, match=r"AA_LDR\.tsv, line \d+ \('LDR_\d+'\): \d+ residue labels"):
        load_dataset("disorder_ldr", data_dir=folder, cache_dir=tmp_path / "cache")


# cache: edited inputs and edited builders are never served stale


def test_edited_data_file_is_not_served_stale(tmp_path):
    path = tmp_path / "train.fasta"
    cache = tmp_path / "cache"
    write(path, ">old1 label=a\nMKTA\n>old2 label=b\nMKTA\n")
    first = load_dataset(
        "protein_files", "protein_classification", data_files=str(path), split="train", cache_dir=cache
    )
    assert first["id"] == ["old1", "old2"]
    stat = path.stat()
    # same size and same modification time: only a content hash can notice this edit
    write(path, ">new1 label=a\nMKTA\n>new2 label=b\nMKTA\n")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    second = load_dataset(
        "protein_files", "protein_classification", data_files=str(path), split="train", cache_dir=cache
    )
    assert second["id"] == ["new1", "new2"]
    # unchanged input: the prepared files are reused, not rebuilt
    third = load_dataset(
        "protein_files", "protein_classification", data_files=str(path), split="train", cache_dir=cache
    )
    assert third.cache_files == second.cache_files != first.cache_files


def test_edited_file_in_data_dir_is_not_served_stale(tmp_path):
    # datasets itself keys a data_dir by its path only; this is the case it gets wrong
    folder = ldr_subset(tmp_path / "raw", 12)
    before = load_dataset("disorder_ldr", data_dir=folder, cache_dir=tmp_path / "cache")
    assert sum(len(split) for split in before.values()) == 12
    ldr_subset(tmp_path / "raw", 20)
    after = load_dataset("disorder_ldr", data_dir=folder, cache_dir=tmp_path / "cache")
    assert sum(len(split) for split in after.values()) == 20


TOY_BUILDER = """
import datasets
from proteinhub.dataset_scripts import ProteinDatasetBuilder

class ToyProteins(ProteinDatasetBuilder):
    VERSION = datasets.Version("{version}")

    def _info(self):
        return datasets.DatasetInfo(features=datasets.Features({{"id": datasets.Value("string")}}))

    def _split_generators(self, dl_manager):
        return [datasets.SplitGenerator(name="train")]

    def _generate_examples(self):
        yield 0, {{"id": "{row}"}}
"""


def import_toy_builder(folder: Path, version: str, row: str) -> type:
    """(Re)write and import a builder module `toy_proteins` from `folder`, as an edited builder would be."""
    path = write(folder / "toy_proteins.py", TOY_BUILDER.format(version=version, row=row))
    spec = importlib.util.spec_from_file_location("toy_proteins", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["toy_proteins"] = module
    spec.loader.exec_module(module)
    return module.ToyProteins


@pytest.mark.parametrize(
    ("edit", "expected_row"),
    [({"version": "1.0.0", "row": "edited"}, "edited"), ({"version": "1.1.0", "row": "original"}, "original")],
    ids=["code edited", "version bumped"],
)
def test_edited_builder_is_not_served_stale(tmp_path, monkeypatch, edit, expected_row):
    monkeypatch.setitem(sys.modules, "toy_proteins", None)  # restored after the test

    def build(builder_class):
        builder = builder_class(cache_dir=str(tmp_path / "cache"))
        builder.download_and_prepare()
        return builder.as_dataset(split="train")

    original = build(import_toy_builder(tmp_path, version="1.0.0", row="original"))
    assert original["id"] == ["original"]
    rebuilt = build(import_toy_builder(tmp_path, **edit))
    assert rebuilt["id"] == [expected_row]
    assert rebuilt.cache_files != original.cache_files


# PROTEINHUB_DATA_DIR


def test_data_dir_env_points_builders_at_a_mirror(tmp_path, monkeypatch):
    mirror = tmp_path / "mirror"
    ldr_subset(mirror / "disorder_ldr", 10)
    write(mirror / "protein_files" / "train.fasta", ">m1 labels=01\nMK\n")
    monkeypatch.setenv(DATA_DIR_ENV, str(mirror))
    ds = load_dataset("disorder_ldr", cache_dir=tmp_path / "cache")
    assert sorted(id for split in ds.values() for id in split["id"]) == sorted(f"LDR_{i}" for i in range(1, 11))
    assert load_dataset("protein_files", "residue_classification", split="train", cache_dir=tmp_path / "cache")[
        "id"
    ] == ["m1"]
    # an explicit data_files wins over the mirror
    own = write(tmp_path / "own.fasta", ">own labels=1\nM\n")
    assert load_dataset(
        "protein_files", "residue_classification", data_files=own, split="train", cache_dir=tmp_path / "cache"
    )["id"] == ["own"]


def test_data_dir_env_serves_raw_files_from_the_folder_of_their_source(tmp_path, monkeypatch):
    """A mirror laid out by source (`stability_tape/`, as ../shared/data) serves a builder without any download."""
    for name, residue in (("stability.train.csv", "R"), ("stability.valid.csv", "V"), ("stability.test.csv", "E")):
        write(tmp_path / "mirror" / "stability_tape" / name, f"seq,label\nMKV,0.5\nGL{residue},-1.0\n")
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "mirror"))

    class NoDownloads:
        def download(self, urls):
            raise AssertionError(f"would download {urls}")

    builder = BUILDERS["stability"](cache_dir=str(tmp_path / "cache"))
    assert builder.raw_files(NoDownloads()) == {
        name: str(tmp_path / "mirror" / "stability_tape" / name) for name in builder._URLS
    }
    ds = load_dataset("stability", cache_dir=tmp_path / "cache")
    assert {split: list(ds[split]["sequence"]) for split in ds} == {
        "train": ["MKV", "GLR"],
        "validation": ["MKV", "GLV"],
        "test": ["MKV", "GLE"],
    }


def test_data_found_nowhere_is_one_error_naming_url_mirror_and_data_dir(tmp_path, monkeypatch):
    class Offline:
        def download(self, urls):
            raise ConnectionError("no network")

    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "empty_mirror"))
    builder = BUILDERS["stability"](cache_dir=str(tmp_path / "cache"))
    with pytest.raises(DataNotFoundError) as caught:
        builder.raw_files(Offline())
    message = str(caught.value)
    for expected in ("stability", builder._URLS["stability.train.csv"], DATA_DIR_ENV, "stability_tape/", "data_dir"):
        assert expected in message, message
    assert "\n" not in message


def test_data_dir_env_without_the_builder_folder_falls_back(tmp_path, monkeypatch):
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "empty_mirror"))
    assert ldr.DisorderLDR.mirror_dir() is None
    ds = load_dataset("disorder_ldr", split="validation", cache_dir=tmp_path / "cache")
    assert len(ds) == 51  # the packaged AA_LDR
