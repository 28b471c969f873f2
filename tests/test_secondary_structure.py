"""Secondary structure (seed 001): presets vs Table 1, padding, masked batch norm, the autoregressive head, the
`secondary_structure` builder and its bad input, the `secondary-structure` pipeline, and the reproduction script's
tiny mode. The common battery (tests/test_modeling_common.py) covers save/load, Auto classes, remote code,
gradients, Trainer, LoRA and the token-classification pipeline for both heads."""

from __future__ import annotations

import importlib.util
import json
import sys
import zipfile
from pathlib import Path

import datasets
import pytest
import torch
from proteinhub.dataset_scripts import DATA_DIR_ENV, DatasetFormatError, label_names, load_dataset
from proteinhub.dataset_scripts import secondary_structure as builder
from proteinhub.modeling import presets
from proteinhub.modeling.secondary_structure import (
    SecondaryStructureConfig,
    SecondaryStructureForTokenClassification,
)
from proteinhub.modeling.secondary_structure.modeling_secondary_structure import (
    MaskedBatchNorm1d,
    residue_positions,
)
from proteinhub.tokenization import ProteinTokenizer

datasets.disable_progress_bars()

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
FLIP_ZIP = SHARED_DATA / "secondary_structure_flip_netsurfp2" / "splits.zip"
CB513_CSV = SHARED_DATA / "secondary_structure_tape_cb513" / "secondary_structure.test.csv"
PROTEINS = ["MKTAYIAKQRQISFVKSHFSRQLEE", "MKVLAAGIV", "ACDEFGHIKLMNPQRSTVWY"]
TINY = {
    "embedding_size": 8,
    "rnn_hidden_size": 8,
    "num_rnn_layers": 2,
    "hidden_size": 12,
    "classifier_hidden_size": 10,
    "autoregressive_hidden_size": 8,
    "autoregressive_num_layers": 2,
    "autoregressive_kernel_size": 3,
}


@pytest.fixture(autouse=True)
def _no_mirror(monkeypatch):
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)


def tiny_model(seed: int = 0, **overrides) -> SecondaryStructureForTokenClassification:
    torch.manual_seed(seed)
    return SecondaryStructureForTokenClassification(SecondaryStructureConfig(**{**TINY, **overrides})).eval()


def encode(sequences: list[str]) -> dict[str, torch.Tensor]:
    encoding = ProteinTokenizer()(sequences, padding=True, return_tensors="pt")
    return {"input_ids": encoding["input_ids"], "attention_mask": encoding["attention_mask"]}


def features_of(model, batch):
    """The normalised encoder features and mask the head sees (eval mode)."""
    hidden = model.encoder(**batch).last_hidden_state
    mask = batch["attention_mask"].bool()
    return model.classifier_norm(hidden.transpose(1, 2), mask).masked_fill(~mask[:, None, :], 0.0), mask


# presets


@pytest.mark.parametrize(
    ("name", "paper_parameters"),
    [
        ("secondary-structure-unilstm-cnn", 44_600_000),
        ("secondary-structure-bilstm-cnn", 69_300_000),
        ("secondary-structure-unigru-cnn", 39_200_000),
        ("secondary-structure-bigru-cnn", 54_300_000),
    ],
)
def test_table_1_presets_match_the_paper_parameter_counts(name, paper_parameters):
    family, preset = presets()[name]
    assert preset.paper_parameters == paper_parameters
    with torch.device("meta"):  # counts without allocating 40-70M weights
        model = family.models[preset.auto_class](family.config_class(**preset.config))
    count = sum(parameter.numel() for parameter in model.parameters())
    assert abs(count / paper_parameters - 1) < 0.03, f"{name}: {count:,} vs {paper_parameters:,}"


def test_presets_cover_both_heads_and_cpu_sizes():
    table = {name: preset for name, (_, preset) in presets().items() if name.startswith("secondary-structure-")}
    assert {preset.config["classifier"] for preset in table.values()} == {"cnn", "autoregressive"}
    for name in ("secondary-structure-bigru-cnn-cpu", "secondary-structure-bilstm-cnn-cpu"):
        with torch.device("meta"):
            model = SecondaryStructureForTokenClassification(SecondaryStructureConfig(**table[name].config))
        assert sum(p.numel() for p in model.parameters()) < 2_000_000


# padding and batch norm


@pytest.mark.parametrize(
    ("rnn_type", "bidirectional", "classifier"),
    [("gru", True, "cnn"), ("lstm", False, "cnn"), ("lstm", True, "autoregressive"), ("gru", False, "autoregressive")],
)
def test_padded_batch_equals_each_protein_alone(rnn_type, bidirectional, classifier):
    model = tiny_model(
        rnn_type=rnn_type, bidirectional=bidirectional, classifier=classifier, autoregressive_block_size=3
    )
    batch = encode(PROTEINS)
    with torch.no_grad():
        padded = model(**batch).logits
        for index, sequence in enumerate(PROTEINS):
            alone = model(**encode([sequence])).logits[0]
            torch.testing.assert_close(padded[index, : alone.shape[0]], alone, atol=1e-5, rtol=0)


def test_masked_batch_norm_statistics_come_from_real_positions_only():
    norm = MaskedBatchNorm1d(4).train()
    values = torch.randn(2, 4, 7)
    mask = torch.tensor([[True] * 7, [True] * 3 + [False] * 4])
    output = norm(values, mask)
    real = values.transpose(1, 2)[mask]  # (10, 4)
    expected = (real - real.mean(0)) / torch.sqrt(real.var(0, unbiased=False) + norm.eps)
    torch.testing.assert_close(output.transpose(1, 2)[mask], expected, atol=1e-5, rtol=0)
    torch.testing.assert_close(norm.running_mean, 0.1 * real.mean(0))
    torch.testing.assert_close(norm.running_var, 0.9 + 0.1 * real.var(0, unbiased=True))


def test_training_mode_outputs_do_not_depend_on_padding():
    """With nn.BatchNorm1d the padded positions would enter the batch statistics; here they do not."""
    model = tiny_model(rnn_dropout=0.0, classifier_dropout=0.0).train()
    batch = encode(PROTEINS[:2])
    extra = 6  # more padding columns than the longest protein needs
    wider = {
        "input_ids": torch.nn.functional.pad(batch["input_ids"], (0, extra), value=0),
        "attention_mask": torch.nn.functional.pad(batch["attention_mask"], (0, extra), value=0),
    }
    length = batch["input_ids"].shape[1]
    torch.testing.assert_close(model(**wider).logits[:, :length], model(**batch).logits, atol=1e-5, rtol=0)


def test_left_padding_is_refused():
    batch = encode(PROTEINS[:2])
    left = {key: torch.flip(value, dims=[1]) for key, value in batch.items()}
    with pytest.raises(ValueError, match="row 1 is not right-padded"):
        tiny_model()(**left)


# autoregressive head


def test_teacher_forcing_is_causal():
    """A teacher-forced label at position j changes no output at positions <= j, and changes position j + 1."""
    model = tiny_model(classifier="autoregressive", rnn_dropout=0.0, classifier_dropout=0.0).train()
    batch = encode(PROTEINS[:1])
    labels = torch.randint(0, 3, batch["input_ids"].shape, generator=torch.Generator().manual_seed(0))
    changed = labels.clone()
    position = 8
    changed[0, position] = (labels[0, position] + 1) % 3
    before, after = model(**batch, labels=labels).logits, model(**batch, labels=changed).logits
    torch.testing.assert_close(after[:, : position + 1], before[:, : position + 1], atol=0, rtol=0)
    assert not torch.allclose(after[:, position + 1], before[:, position + 1])


def test_fully_autoregressive_decoding_is_consistent_with_its_own_labels():
    """Block size 1: every decoded residue is what the head predicts when fed the decoded labels before it."""
    model = tiny_model(classifier="autoregressive", autoregressive_block_size=1)
    batch = encode(PROTEINS)
    with torch.no_grad():
        decoded = model(**batch).logits
        features, mask = features_of(model, batch)
        residues = mask & (batch["input_ids"] > 4)
        fed_back = decoded.argmax(-1).masked_fill(~residues, -100)
        head = model.classifier
        teacher_forced = head.decode_pass(head.condition(features, mask), fed_back)
    torch.testing.assert_close(teacher_forced[mask], decoded[mask], atol=1e-5, rtol=0)


def test_block_decoding_over_a_window_equals_decoding_over_the_whole_prefix():
    model = tiny_model(classifier="autoregressive", autoregressive_block_size=2)
    batch = encode(PROTEINS)
    with torch.no_grad():
        windowed = model(**batch).logits
        features, mask = features_of(model, batch)
        head = model.classifier
        assert head.label_context < max(len(protein) for protein in PROTEINS)  # the window is narrower than a protein
        residues = residue_positions(mask, batch["input_ids"])
        whole_prefix = head.generate(head.condition(features, mask), residues, label_context=10**6)
    torch.testing.assert_close(windowed, whole_prefix, atol=1e-6, rtol=0)


def test_one_block_covering_the_protein_is_one_pass_with_unknown_labels():
    model = tiny_model(classifier="autoregressive", autoregressive_block_size=50)
    batch = encode(PROTEINS)
    with torch.no_grad():
        features, mask = features_of(model, batch)
        head = model.classifier
        unknown = torch.full(batch["input_ids"].shape, -100)
        torch.testing.assert_close(model(**batch).logits, head.decode_pass(head.condition(features, mask), unknown))


def test_label_dropout_hides_teacher_forced_labels():
    kwargs = {"classifier": "autoregressive", "rnn_dropout": 0.0, "classifier_dropout": 0.0}
    batch = encode(PROTEINS[:1])
    labels = torch.randint(0, 3, batch["input_ids"].shape, generator=torch.Generator().manual_seed(0))
    forced = tiny_model(**kwargs).train()(**batch, labels=labels).logits
    hidden = tiny_model(**kwargs, autoregressive_label_dropout=0.999).train()
    unknown = torch.full_like(labels, -100)
    torch.manual_seed(0)
    dropped = hidden(**batch, labels=labels).logits
    assert not torch.allclose(dropped, forced)
    torch.testing.assert_close(dropped, hidden(**batch, labels=unknown).logits)


# data


def flip_subset(folder: Path, per_split: int = 3) -> Path:
    """The first `per_split` proteins of each FLIP split, copied from the real splits.zip."""
    with zipfile.ZipFile(FLIP_ZIP) as archive:
        members = {name: archive.read(name).decode().splitlines() for name in builder._FLIP_MEMBERS}
    records = {name: [lines[i : i + 2] for i in range(0, len(lines), 2)] for name, lines in members.items()}
    taken: dict[str, int] = {}
    keep = []
    for index, (header, _) in enumerate(records["splits/sampled.fasta"]):
        key = header.split(" ", 1)[1]
        if taken.get(key, 0) < per_split:
            taken[key] = taken.get(key, 0) + 1
            keep.append(index)
    folder.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(folder / "splits.zip", "w") as archive:
        for name, pairs in records.items():
            archive.writestr(name, "".join(f"{pairs[i][0]}\n{pairs[i][1]}\n" for i in keep))
    return folder / "splits.zip"


def test_flip_zip_gives_flip_splits_with_unresolved_residues_ignored(tmp_path):
    path = str(flip_subset(tmp_path / "raw"))
    ds = load_dataset(
        "secondary_structure", "flip", data_files={s: path for s in ("train", "validation", "test")}, cache_dir=tmp_path
    )
    assert {split: len(ds[split]) for split in ds} == {"train": 3, "validation": 3, "test": 3}
    assert label_names(ds) == ["H", "E", "C"]
    with zipfile.ZipFile(path) as archive:
        states = archive.read("splits/sampled.fasta").decode().splitlines()[1::2]
        masks = archive.read("splits/mask.fasta").decode().splitlines()[1::2]
    row = ds["train"][0]
    expected = [-100 if m == "0" else "HEC".index(s) for s, m in zip(states[0], masks[0])]
    assert row["id"] == "1es5-A" and row["labels"] == expected
    assert any(label == -100 for split in ds.values() for labels in split["labels"] for label in labels)


def test_cb513_real_counts(tmp_path):
    ds = load_dataset("secondary_structure", data_files={"test": str(CB513_CSV)}, cache_dir=tmp_path, split="test")
    labels = [label for row in ds["labels"] for label in row]
    assert len(ds) == 513 and len(labels) == 144_360
    assert [labels.count(state) for state in (0, 1, 2)] == [49_182, 31_970, 63_208]
    assert ds[0]["id"] == "cb513_0"


@pytest.mark.parametrize(("letter", "state"), [*zip("HGIEBTSCP-", "HHHEECCCCC")])
def test_dssp_eight_states_reduce_to_three(letter, state):
    assert builder.parse_secondary_structure(letter * 3, "demo") == [builder.LABEL_NAMES.index(state)] * 3


def test_tape_json_fasta_and_proteinhub_csv(tmp_path):
    records = [
        {"id": "a", "primary": "MKVL", "ss3": [0, 0, 1, 2], "ss8": [7, 7, 7, 7]},  # ss3 wins over ss8
        {"id": "b", "primary": "MKVLA", "ss8": [0, 1, 2, 3, 6], "valid_mask": [1, 1, 0, 1, 1]},  # G H I B T
    ]
    (tmp_path / "tape.json").write_text(json.dumps(records))
    (tmp_path / "tape.jsonl").write_text("\n".join(json.dumps(r) for r in records[:1]))
    (tmp_path / "own.fasta").write_text(">p1 labels=HHGEEB-T mask=11111110\nMKVLAAGI\n>p2 labels=CCC\nMKV\n")
    (tmp_path / "own.csv").write_text("id,sequence,labels,mask\nq1,MKV,012,101\nq2,MK,HE,\n")
    files = {name: str(tmp_path / name) for name in ("tape.json", "tape.jsonl", "own.fasta", "own.csv")}
    ds = load_dataset(
        "secondary_structure",
        data_files={
            "json": files["tape.json"],
            "jsonl": files["tape.jsonl"],
            "fasta": files["own.fasta"],
            "csv": files["own.csv"],
        },
        cache_dir=tmp_path / "cache",
    )
    assert ds["json"]["labels"] == [[0, 0, 1, 2], [0, 0, -100, 1, 2]]
    assert ds["jsonl"]["id"] == ["a"]
    assert ds["fasta"]["labels"] == [[0, 0, 0, 1, 1, 1, 2, -100], [2, 2, 2]]
    assert ds["csv"]["labels"] == [[0, -100, 2], [0, 1]]


@pytest.mark.parametrize(
    ("file_name", "content", "message"),
    [
        ("bad.csv", "seq,label\nMKVL,012\n", r"bad_0.*3 secondary-structure labels for a sequence of 4 residues"),
        ("bad.csv", "id,sequence,labels\np1,MKVL,HXEC\n", r"'p1'.*residue 2 has label 'X', not a DSSP state"),
        ("bad.csv", "id,sequence,labels\np1,MKVL,0132\n", r"'p1'.*residue 3 has label '3'"),
        ("bad.fasta", ">p1 labels=HHEE mask=\nMKVL\n", r"'p1'.*empty mask"),
        ("bad.fasta", ">p1 labels=HHEE mask=0000\nMKVL\n", r"'p1'.*marks no residue as resolved"),
        ("bad.fasta", ">p1 labels=HHEE mask=101\nMKVL\n", r"'p1'.*mask of 3 values for a sequence of 4"),
        ("bad.json", json.dumps([{"id": "j1", "primary": "MKV", "ss3": [0, 5, 1]}]), r"'j1'.*ss3 value 5"),
        ("bad.json", json.dumps([{"id": "j1", "primary": "MKV"}]), r"'j1'.*no `ss3` or `ss8`"),
        ("bad.csv", "id,sequence,labels\np1,MK1V,HHEE\n", r"'p1'.*invalid character '1'"),
    ],
)
def test_bad_input_names_the_record(tmp_path, file_name, content, message):
    (tmp_path / file_name).write_text(content)
    with pytest.raises(DatasetFormatError, match=message):
        load_dataset("secondary_structure", data_files={"test": str(tmp_path / file_name)}, cache_dir=tmp_path / "c")


def test_flip_zip_needs_a_known_split_name(tmp_path):
    path = str(flip_subset(tmp_path / "raw", per_split=1))
    with pytest.raises(DatasetFormatError, match="split 'holdout'"):
        load_dataset("secondary_structure", data_files={"holdout": path}, cache_dir=tmp_path)


def test_missing_raw_file_in_data_dir_names_the_download(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"lacks secondary_structure\.test\.csv.*raw\.githubusercontent"):
        load_dataset("secondary_structure", "cb513", data_dir=tmp_path, cache_dir=tmp_path)


# pipeline


@pytest.mark.parametrize(
    ("length", "chunk_length", "overlap", "windows"),
    [
        (10, None, 0, [(0, 10)]),
        (10, 12, 3, [(0, 10)]),
        (10, 4, 2, [(0, 4), (2, 6), (4, 8), (6, 10)]),
        (11, 6, 2, [(0, 6), (4, 10), (8, 11)]),
    ],
)
def test_chunk_windows(length, chunk_length, overlap, windows):
    from proteinhub.inference.windowing import chunk_windows

    assert chunk_windows(length, chunk_length, overlap) == windows


def test_stitch_splits_each_overlap_in_the_middle():
    from proteinhub.inference.windowing import stitch

    windows = [(0, 6), (4, 10)]
    first, second = torch.zeros(6, 3), torch.ones(6, 3)
    stitched = stitch(windows, [first, second])
    assert stitched[:, 0].tolist() == [0, 0, 0, 0, 0, 1, 1, 1, 1, 1]  # overlap 4..6 cut at 5


@pytest.mark.filterwarnings("ignore:Token indices sequence length")
def test_secondary_structure_pipeline_strings_and_chunks(tmp_path):
    import proteinhub.inference.pipelines  # noqa: F401  (registers the pipeline tasks)
    from proteinhub.inference.windowing import chunk_windows
    from transformers import pipeline

    model = tiny_model(max_length=22)  # 20 residues per chunk after <cls> and <eos>
    model.save_pretrained(tmp_path)
    ProteinTokenizer(**model.config.tokenizer_kwargs).save_pretrained(tmp_path)
    predict = pipeline("secondary-structure", model=str(tmp_path), device="cpu")
    protein = (PROTEINS[0] * 3)[:60]

    result = predict(protein)
    assert result["chunks"] == chunk_windows(60, 20, 5) == [(0, 20), (15, 35), (30, 50), (45, 60)]
    assert len(result["secondary_structure"]) == 60 and set(result["secondary_structure"]) <= set("HEC")
    with torch.no_grad():  # residues 0..17 come from the first chunk alone (its cut is at the overlap's middle)
        first = model(**encode([protein[:20]])).logits[0, 1:21].argmax(-1)
        whole = model(**encode([protein])).logits[0, 1:61].argmax(-1)
    assert result["secondary_structure"][:17] == "".join("HEC"[i] for i in first[:17].tolist())
    unchunked = predict(protein, chunk_length=100)
    assert unchunked["chunks"] == [(0, 60)]
    assert unchunked["secondary_structure"] == "".join("HEC"[i] for i in whole.tolist())
    batched = predict([protein, PROTEINS[1]], batch_size=2)[0]  # padded windows: same up to float rounding
    assert (batched["secondary_structure"], batched["chunks"]) == (result["secondary_structure"], result["chunks"])
    torch.testing.assert_close(torch.tensor(batched["probabilities"]), torch.tensor(result["probabilities"]))
    probabilities = torch.tensor(result["probabilities"])
    torch.testing.assert_close(probabilities.sum(-1), torch.ones(60))
    assert result["scores"] == probabilities.max(-1).values.tolist()


# reproduction script


def _load_script(name: str):
    spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_reproduction_script_tiny_mode(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "hf"))
    script = _load_script("reproduce_secondary_structure")
    script.main(["--tiny", "--only", "bigru-ar-cpu", "--runs-dir", str(tmp_path)])
    result = json.loads((tmp_path / "results" / "bigru-ar-cpu.json").read_text())
    assert result["tiny"] and result["epochs"] == 1
    for key in ("cb513", "flip_validation", "cb513_block_1", "cb513_teacher_forced"):
        metrics = result["evaluations"][key]
        assert 0.0 <= metrics["q3"] <= 1.0 and set(metrics["per_class"]) == {"H", "E", "C"}
    assert result["evaluations"]["cb513"]["proteins"] == script.TINY_TEST
    assert (tmp_path / "figures" / "secondary_structure_bigru-ar-cpu_cb513_confusion.png").stat().st_size > 0
    page = (tmp_path / "secondary_structure.md").read_text()
    assert "fully autoregressive, block size 1" in page and "| BiGRU/CNN (CPU size) | | | pending" in page
