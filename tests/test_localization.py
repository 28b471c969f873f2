"""Subcellular localization (seed 003): the CNN + BiLSTM, its truncation, the `subcellular_localization` builder, the
length-bucketed sampler, the pipeline and a tiny run of `scripts/reproduce_localization.py`.

The common battery (`test_modeling_common.py`) covers save/load, Auto classes, remote code, padding invariance, LoRA
and the Trainer for this family too; these tests pin down what is specific to it.
"""

from __future__ import annotations

import importlib.util
import json
import math
import shutil
import sys
import warnings
from pathlib import Path

import datasets
import numpy as np
import pytest
import torch
from proteinhub import build_preset
from proteinhub.dataset_scripts import DATA_DIR_ENV, DatasetFormatError, label_names, load_dataset
from proteinhub.dataset_scripts import subcellular_localization as loc
from proteinhub.modeling.layers import one_hot_residues
from proteinhub.modeling.localization import LocalizationConfig, LocalizationForSequenceClassification, kept_positions
from proteinhub.tokenization import ProteinTokenizer
from proteinhub.training.batching import LengthBucketedSampler, length_buckets
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

datasets.disable_progress_bars()

REPO = Path(__file__).resolve().parents[1]
MULTILOC_DIR = REPO.parent / "shared" / "data" / "localization_multiloc"
DEEPLOC_DIR = REPO.parent / "shared" / "data" / "localization_deeploc1"
AMINO_ACIDS = "ACDEFGHIKLMNPQRSTVWY"


@pytest.fixture(autouse=True)
def _no_mirror(monkeypatch):
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)


def random_protein(length: int, seed: int) -> str:
    rng = np.random.default_rng(seed)
    return "".join(rng.choice(list(AMINO_ACIDS), size=length))


def tiny_model(seed: int = 0, **overrides) -> LocalizationForSequenceClassification:
    torch.manual_seed(seed)
    config = LocalizationConfig(
        **{"num_filters": 4, "lstm_hidden_size": 5, "dense_size": 6, "num_labels": 3, "max_residues": 12, **overrides}
    )
    return LocalizationForSequenceClassification(config).eval()


def logits(model, sequences: list[str]) -> torch.Tensor:
    encoding = ProteinTokenizer(**model.config.tokenizer_kwargs)(sequences, padding=True, return_tensors="pt")
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model(**encoding).logits


# model


def test_seed_preset_has_the_seed_layers():
    model = build_preset("localization-cnn-bilstm", num_labels=10)
    shapes = {name: tuple(p.shape) for name, p in model.named_parameters() if name.endswith("weight")}
    assert shapes["conv_k3.weight"] == (10, 21, 3)
    assert shapes["conv_k5.weight"] == (10, 21, 5)
    assert shapes["conv_merge.weight"] == (20, 20, 3)
    assert model.lstm_forward.hidden_size == model.lstm_backward.hidden_size == 15
    assert shapes["dense.weight"] == (30, 30)
    assert shapes["classifier.weight"] == (10, 30)
    assert model.dropout.p == 0.5
    assert (model.config.max_residues, model.config.truncation) == (1000, "head_tail")
    assert (model.config.prepend_cls, model.config.append_eos) == (False, False)
    assert sum(p.numel() for p in model.parameters()) == 8_600
    assert model.config.pooling == "final"


def test_final_max_pooling_doubles_the_dense_input():
    """`final_max` feeds 4H numbers (final states + maxima of both directions) to the dense layer; the medium-max
    preset is the network of the best MultiLoc row on the results page (81,066 parameters)."""
    seed = build_preset("localization-cnn-bilstm", num_labels=10, pooling="final_max")
    assert tuple(seed.dense.weight.shape) == (30, 60)
    medium = build_preset("localization-cnn-bilstm-medium-max", num_labels=10)
    assert medium.config.pooling == "final_max" and tuple(medium.dense.weight.shape) == (96, 4 * 48)
    assert sum(p.numel() for p in medium.parameters()) == 81_066


@pytest.mark.parametrize(
    ("lengths", "max_residues", "truncation", "expected_index", "expected_kept"),
    [
        ([6, 3], 4, "head_tail", [[0, 1, 4, 5], [0, 1, 2, 0]], [4, 3]),
        ([7, 3], 5, "head_tail", [[0, 1, 2, 5, 6], [0, 1, 2, 0, 0]], [5, 3]),
        ([6, 3], 4, "head", [[0, 1, 2, 3], [0, 1, 2, 0]], [4, 3]),
        ([6, 3], 4, "tail", [[2, 3, 4, 5], [0, 1, 2, 0]], [4, 3]),
        ([4, 3], 4, "head_tail", None, [4, 3]),
        ([9, 3], None, "head_tail", None, [9, 3]),
    ],
)
def test_kept_positions(lengths, max_residues, truncation, expected_index, expected_kept):
    index, kept = kept_positions(torch.tensor(lengths), max_residues, truncation)
    assert (None if index is None else index.tolist()) == expected_index
    assert kept.tolist() == expected_kept


@pytest.mark.parametrize(
    ("truncation", "cut"),
    [
        ("head_tail", lambda s: s[:6] + s[-6:]),
        ("head", lambda s: s[:12]),
        ("tail", lambda s: s[-12:]),
    ],
)
def test_long_protein_is_cut_with_a_warning(truncation, cut):
    model = tiny_model(truncation=truncation)
    long_protein, short_protein = random_protein(31, 1), random_protein(8, 2)
    tokenizer = ProteinTokenizer(**model.config.tokenizer_kwargs)
    encoding = tokenizer([long_protein, short_protein], padding=True, return_tensors="pt")
    with pytest.warns(UserWarning, match=rf"longer than 12 tokens are cut.*truncation='{truncation}'"):
        batch = model(**encoding).logits
    with pytest.warns(UserWarning, match="cut"):  # per-residue features are cut the same way
        features = one_hot_residues(encoding["input_ids"])
        from_features = model(inputs_embeds=features, attention_mask=encoding["attention_mask"]).logits
    torch.testing.assert_close(from_features, batch, atol=1e-6, rtol=0)
    expected = logits(model, [cut(long_protein)])[0]
    torch.testing.assert_close(batch[0], expected, atol=1e-6, rtol=0)
    torch.testing.assert_close(batch[1], logits(model, [short_protein])[0], atol=1e-6, rtol=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing is cut, nothing is said
        model(**tokenizer([short_protein], return_tensors="pt"))


@pytest.mark.parametrize("input_encoding", ["one_hot", "embedding"])
def test_proteins_shorter_than_the_receptive_field(input_encoding):
    """1-6 residues (receptive field 7): zero "same" padding on both sides, as alone, also inside a padded batch."""
    model = tiny_model(input_encoding=input_encoding, embedding_size=7, max_residues=None)
    assert model.config.receptive_field == 7
    proteins = [random_protein(n, n) for n in (1, 2, 6, 25)]
    batch = logits(model, proteins)
    assert torch.isfinite(batch).all()
    for row, protein in enumerate(proteins):
        torch.testing.assert_close(batch[row], logits(model, [protein])[0], atol=1e-6, rtol=0)
    assert (model.get_input_embeddings() is None) == (input_encoding == "one_hot")


@pytest.mark.parametrize("pooling", ["final", "final_max"])
def test_final_states_equal_a_packed_bidirectional_lstm(pooling):
    """The two LSTMs read the residues only: the same final states (and, with "final_max", the same maxima over the
    residues) as nn.LSTM(bidirectional) on a packed batch."""
    model = tiny_model(max_residues=None, pooling=pooling)
    captured = {}

    def capture(name: str, value: torch.Tensor) -> None:  # a hook that returns None leaves the output alone
        captured.setdefault(name, value)

    model.dense.register_forward_hook(lambda module, inputs, output: capture("protein", inputs[0]))
    proteins = [random_protein(n, n) for n in (9, 3, 14, 1)]
    logits(model, proteins)

    reference = torch.nn.LSTM(8, 5, batch_first=True, bidirectional=True)
    state = dict(model.lstm_forward.state_dict())
    state.update({f"{name}_reverse": value for name, value in model.lstm_backward.state_dict().items()})
    reference.load_state_dict(state)
    encoding = ProteinTokenizer(prepend_cls=False, append_eos=False)(proteins, padding=True, return_tensors="pt")
    model.conv_merge.register_forward_hook(lambda module, inputs, output: capture("conv_merge", output))
    with torch.no_grad():
        model(**encoding)
        lengths = encoding["attention_mask"].sum(1)
        packed = pack_padded_sequence(
            torch.relu(captured["conv_merge"]).transpose(1, 2), lengths, batch_first=True, enforce_sorted=False
        )
        outputs, (final, _) = reference(packed)
    expected = torch.cat([final[0], final[1]], -1)
    if pooling == "final_max":
        outputs, _ = pad_packed_sequence(outputs, batch_first=True, padding_value=float("-inf"))
        expected = torch.cat([expected, outputs.amax(1)], -1)
    torch.testing.assert_close(captured["protein"], expected, atol=1e-6, rtol=0)


@pytest.mark.parametrize(
    ("attention_mask", "message"),
    [
        ([[1, 1, 1], [0, 1, 1]], "padding before residues"),
        ([[1, 1, 1], [0, 0, 0]], "protein 1 of the batch has no residue"),
    ],
)
def test_bad_attention_masks_are_refused(attention_mask, message):
    model = tiny_model()
    with pytest.raises(ValueError, match=message):
        model(input_ids=torch.full((2, 3), 7), attention_mask=torch.tensor(attention_mask))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"truncation": "middle"}, "truncation must be one of"),
        ({"input_encoding": "blosum"}, "input_encoding must be one of"),
        ({"pooling": "mean"}, "pooling must be one of"),
        ({"max_residues": 0}, "max_residues must be a positive"),
        ({"num_filters": 0}, "num_filters must be at least 1"),
    ],
)
def test_config_validation(kwargs, message):
    with pytest.raises(ValueError, match=message):
        LocalizationConfig(**kwargs)


def test_pipeline_returns_locations_with_probabilities(tmp_path):
    from transformers import pipeline

    names = list(loc.LOCATIONS)
    model = build_preset(
        "localization-cnn-bilstm",
        num_labels=len(names),
        id2label=dict(enumerate(names)),
        label2id={name: i for i, name in enumerate(names)},
        max_residues=40,
    ).eval()
    model.save_pretrained(tmp_path)
    ProteinTokenizer(**model.config.tokenizer_kwargs).save_pretrained(tmp_path)
    classifier = pipeline("text-classification", model=str(tmp_path), device="cpu")
    protein = random_protein(120, 3)  # longer than max_residues: cut by the model, with a warning
    with pytest.warns(UserWarning, match="cut to 40"):
        top3 = classifier(protein, top_k=3)
    expected = logits(model, [protein])[0].softmax(-1)
    assert [p["label"] for p in top3] == [names[i] for i in expected.argsort(descending=True)[:3].tolist()]
    for prediction in top3:
        assert math.isclose(prediction["score"], float(expected[names.index(prediction["label"])]), abs_tol=1e-6)
    everything = classifier([protein, "MKV"], top_k=None)
    assert [sorted(p["label"] for p in scores) for scores in everything] == [sorted(names)] * 2
    assert all(math.isclose(sum(p["score"] for p in scores), 1.0, abs_tol=1e-5) for scores in everything)


# length-bucketed batches


def test_length_buckets_sort_and_cut():
    lengths = [5, 1, 4, 2, 3, 2, 7]
    buckets = length_buckets(lengths, 3, seed=0)
    assert [len(b) for b in buckets] == [3, 3, 1]
    flat = np.concatenate(buckets)
    assert sorted(flat.tolist()) == list(range(7))
    assert [lengths[i] for i in flat] == sorted(lengths)


def test_sampler_shuffles_whole_buckets_every_epoch():
    lengths = np.random.default_rng(0).integers(1, 1000, size=103).tolist()
    sampler = LengthBucketedSampler(lengths, batch_size=10, seed=0)
    epochs = [list(sampler) for _ in range(3)]
    buckets = {tuple(sorted(b.tolist())) for b in length_buckets(lengths, 10, seed=0)}
    for order in epochs:
        assert len(order) == len(sampler) == 103 and sorted(order) == list(range(103))
        chunks = [tuple(sorted(order[i : i + 10])) for i in range(0, 103, 10)]
        assert set(chunks) == buckets, "a DataLoader chunk is not one bucket"
        assert len(chunks[-1]) == 3, "the partial bucket must come last"
    assert epochs[0] != epochs[1] != epochs[2], "the batch order must change between epochs"
    sampler.set_epoch(1)
    assert list(sampler) == epochs[1]


def test_benchmark_padding_bucketed_below_random():
    spec = importlib.util.spec_from_file_location("length_bucketing", REPO / "benchmarks" / "length_bucketing.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    lengths = np.random.default_rng(0).integers(20, 3000, size=4000).tolist()  # megabatches of 7 x 128
    read = np.minimum(lengths, 1000)
    padding = {
        name: bench.padding_fraction(bench.epoch_batches(name, lengths, 128, 0), read)
        for name in ("random", "group_by_length", "bucketed")
    }
    assert padding["bucketed"] < padding["group_by_length"] < padding["random"]
    assert padding["bucketed"] < 0.1


# builder: MultiLoc


def test_multiloc_real_splits_are_stratified(tmp_path):
    ds = load_dataset("subcellular_localization", "multiloc", data_dir=MULTILOC_DIR, cache_dir=tmp_path)
    assert {split: len(ds[split]) for split in ds} == {"train": 4290, "validation": 477, "test": 1192}
    assert label_names(ds) == list(loc.LOCATIONS)
    ids = [set(ds[split]["id"]) for split in ds]
    assert not (ids[0] & ids[1] or ids[0] & ids[2] or ids[1] & ids[2])
    counts = {split: np.bincount(ds[split]["label"], minlength=10) for split in ds}
    total = sum(counts.values())
    merged = loc.LOCATIONS.index("Lysosome/Vacuole")
    assert total[merged] == 103 + 63 and total[loc.LOCATIONS.index("Cytoplasm")] == 1411
    np.testing.assert_allclose(counts["test"] / total, 0.2, atol=0.02)  # stratified: 20 % of every class


def test_multiloc_11_keeps_lysosome_and_vacuole_apart(tmp_path):
    data_dir = tmp_path / "multiloc"
    data_dir.mkdir()
    for stem in loc.MULTILOC_FILES:  # the first 20 proteins of every real file
        records = (MULTILOC_DIR / f"{stem}.fasta").read_text().split(">")[1:21]
        (data_dir / f"{stem}.fasta").write_text("".join(f">{r}" for r in records))
    shutil.copy(DEEPLOC_DIR / "setHARD.fasta", data_dir)  # a DeepLoc file in the same mirror folder is not a class
    ds = load_dataset("subcellular_localization", "multiloc_11", data_dir=data_dir, cache_dir=tmp_path / "cache")
    assert label_names(ds) == list(loc.LOCATIONS_11)
    assert {split: len(ds[split]) for split in ds} == {"train": 158, "validation": 18, "test": 44}
    labels = np.concatenate([ds[split]["label"] for split in ds])
    assert np.bincount(labels, minlength=11).tolist() == [20] * 11
    assert np.bincount(ds["test"]["label"], minlength=11).tolist() == [4] * 11


@pytest.mark.parametrize("how", ["data_dir", "data_files"])
def test_multiloc_file_named_after_no_location_is_refused(tmp_path, how):
    data_dir = tmp_path / "multiloc"
    shutil.copytree(MULTILOC_DIR, data_dir)
    (data_dir / "README.md").unlink()
    (data_dir / "centrosome.fasta").write_text(">P1\nMKV\n")
    source = (
        {"data_dir": data_dir}
        if how == "data_dir"
        else {"data_files": {"train": [str(data_dir / "nuclear.fasta"), str(data_dir / "centrosome.fasta")]}}
    )
    with pytest.raises(DatasetFormatError, match=r"centrosome\.fasta.*'centrosome' is not a MultiLoc location"):
        load_dataset("subcellular_localization", "multiloc", cache_dir=tmp_path / "cache", **source)


def test_multiloc_missing_file_names_its_url(tmp_path):
    data_dir = tmp_path / "multiloc"
    shutil.copytree(MULTILOC_DIR, data_dir)
    (data_dir / "vacuolar.fasta").unlink()
    with pytest.raises(FileNotFoundError, match=r"lacks vacuolar\.fasta.*raw\.githubusercontent\.com/KohlbacherLab"):
        load_dataset("subcellular_localization", "multiloc", data_dir=data_dir, cache_dir=tmp_path / "cache")


# builder: DeepLoc


def test_deeploc_real_splits_and_membrane_flags(tmp_path):
    ds = load_dataset("subcellular_localization", "deeploc", data_dir=DEEPLOC_DIR, cache_dir=tmp_path)
    assert {split: len(ds[split]) for split in ds} == {"validation": 1678, "test": 2768, "test_hard": 490}
    assert label_names(ds) == list(loc.LOCATIONS)
    test = ds["test"]
    assert np.bincount(test["label"], minlength=10)[loc.LOCATIONS.index("Nucleus")] == 806
    assert np.bincount(test["membrane"], minlength=3).tolist() == [1003, 743, 1022]  # soluble, membrane, unknown
    # the 23 Cytoplasm-Nucleus proteins of the validation file are Cytoplasm
    assert np.bincount(ds["validation"]["label"], minlength=10)[loc.LOCATIONS.index("Cytoplasm")] == 276 + 23

    membrane = load_dataset("subcellular_localization", "deeploc_membrane", data_dir=DEEPLOC_DIR, cache_dir=tmp_path)
    assert {split: len(membrane[split]) for split in membrane} == {"validation": 1021, "test": 1746}
    assert label_names(membrane) == ["soluble", "membrane"]
    assert np.bincount(membrane["test"]["label"]).tolist() == [1003, 743]


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("Q9XYZ1 Centrosome-M test", "unknown location 'Centrosome'"),
        ("Q9XYZ1 Nucleus test", "'Nucleus' does not end in a membrane flag"),
        ("Q9XYZ1 Nucleus-X", "'Nucleus-X' does not end in a membrane flag"),
        ("Q9XYZ1", "no location in the header"),
    ],
)
def test_deeploc_bad_header_names_the_record(tmp_path, header, message):
    path = tmp_path / "bad.fasta"
    path.write_text(f">P12345 Nucleus-U test\nMKVLA\n>{header}\nMKTAYIAK\n")
    with pytest.raises(DatasetFormatError, match=rf"bad\.fasta, record 2 \('Q9XYZ1'\): {message}"):
        load_dataset(
            "subcellular_localization", "deeploc", data_files={"test": str(path)}, cache_dir=tmp_path / "cache"
        )


# reproduction script


def test_reproduction_script_tiny(tmp_path, monkeypatch):
    # the script reads our data through the builders' mirror (the fixture above hides it from the builder tests)
    monkeypatch.setenv(DATA_DIR_ENV, str(REPO.parent / "shared" / "data"))
    spec = importlib.util.spec_from_file_location(
        "reproduce_localization", REPO / "scripts" / "reproduce_localization.py"
    )
    script = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = script  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(script)
    page = tmp_path / "page" / "localization.md"
    arguments = ["--tiny", "--rows", "deeploc", "--runs-dir", str(tmp_path / "runs"), "--no-floors"]
    assert script.main([*arguments, "--cache-dir", str(tmp_path / "cache"), "--page", str(page)]) == 0

    record = json.loads((tmp_path / "runs" / "results" / "deeploc.json").read_text())
    assert set(record["tests"]) == {"test", "test_hard"}
    for test in record["tests"].values():
        assert 0.0 <= test["accuracy"] <= 1.0 and set(test["per_class"]) == set(loc.LOCATIONS)
        assert sum(map(sum, test["confusion_matrix"])) == test["num_proteins"] == 48
    assert record["history"] and "validation_loss" in record["history"][0]
    text = page.read_text()
    assert f"Rows finished: 1 of {len(script.ROWS)}" in text and "setHARD (490)" in text
    for figure in ("deeploc_learning_curve_loss.png", "deeploc_confusion_matrix_test_hard.png"):
        assert (page.parent / "localization" / figure).stat().st_size > 10_000
        assert f"localization/{figure}" in text
