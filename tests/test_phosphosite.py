"""Tests of issue #3 (phosphorylation sites): the `phosphosite` builder on the real PhosphoLingo files and on small
Phospho.ELM / FASTA files, the paper's rounded accuracy, the `phosphosite-prediction` pipeline and its batched
engine, `proteinhub predict`, the 48 YAML configs and the reproduction script's `--tiny` mode."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import datasets
import numpy as np
import proteinhub
import pytest
import torch
from proteinhub.dataset_scripts import DATA_DIR_ENV, DatasetFormatError, label_names, load_dataset
from proteinhub.dataset_scripts import phosphosite as ps
from proteinhub.evaluation.metrics import rounded_accuracy, site_metrics
from proteinhub.inference import predict
from proteinhub.inference.pipelines import PhosphositeScanner
from proteinhub.tokenization.fasta import count_records, read_fasta
from transformers import AutoModelForSequenceClassification, pipeline

datasets.disable_progress_bars()

REPO = Path(__file__).resolve().parents[1]
PHOSPHO_DIR = REPO.parent / "shared" / "data" / "phospho_sites_phospholingo"
SPLITS = ("train", "validation", "test")


@pytest.fixture(autouse=True)
def _no_mirror(monkeypatch):
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)


def load_script():
    spec = importlib.util.spec_from_file_location(
        "reproduce_phosphosite", REPO / "scripts" / "reproduce_phosphosite.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


# the builder on the real files: exactly the window sets and splits of baselines.md section 1


@pytest.mark.parametrize(
    ("config", "scheme", "sizes", "proteins", "test_positive"),
    [
        ("Y_w15", "protein", (7172, 1876, 2328), (1095, 274, 342), 0.4837),
        ("Y_w51", "random_window", (7280, 1820, 2276), (1625, 1013, 1129), 0.4815),
        ("ST_w33", "protein", (39314, 8655, 11553), (1343, 336, 420), 0.5164),
    ],
)
def test_real_splits_match_baselines(tmp_path, config, scheme, sizes, proteins, test_positive):
    ds = load_dataset("phosphosite", config, data_dir=PHOSPHO_DIR, cache_dir=tmp_path, split_scheme=scheme)
    assert tuple(len(ds[s]) for s in SPLITS) == sizes
    assert tuple(len(set(ds[s]["id"])) for s in SPLITS) == proteins
    assert round(float(np.mean(ds["test"]["label"])), 4) == test_positive
    assert sum(sum(ds[s]["label"]) for s in SPLITS) == sum(sizes) // 2  # balanced: as many negatives as positives
    assert label_names(ds) == ["negative", "positive"]
    if scheme == "protein":
        ids = [set(ds[s]["id"]) for s in SPLITS]
        assert not (ids[0] & ids[1] or ids[0] & ids[2] or ids[1] & ids[2])
    window_size = int(config.split("_w")[1])
    tokenizer = proteinhub.ProteinTokenizer(prepend_cls=False, append_eos=False)
    sample = ds["train"].select(range(0, len(ds["train"]), 997))
    ids = tokenizer(list(sample["window"]), padding=True, return_tensors="np")["input_ids"]
    assert ids.shape == (len(sample), window_size)
    assert [ps.window_tokens(w)[window_size // 2] for w in sample["window"]] == list(sample["residue"])
    assert set(sample["residue"]) <= set(config.split("_")[0])


def test_real_windows_are_cut_from_the_proteins_and_padded_at_the_termini(tmp_path):
    ds = load_dataset("phosphosite", "Y_w33", data_dir=PHOSPHO_DIR, cache_dir=tmp_path, balanced=False)
    proteins = {p.id: p.sequence for p in ps.read_proteins([PHOSPHO_DIR / "Y_valid.fasta"], "Y")}
    proteins.update({p.id: p.sequence for p in ps.read_proteins([PHOSPHO_DIR / "Y_test.fasta"], "Y")})
    rows = [row for split in SPLITS for row in ds[split]]
    assert len(rows) == 31_843 and sum(row["label"] for row in rows) == 5_688  # every labelled Y site kept
    near_end = 0
    for row in rows[::50] + [row for row in rows if row["position"] <= 16]:
        sequence, index = proteins[row["id"]], row["position"] - 1
        tokens = ps.window_tokens(row["window"])
        assert len(tokens) == 33 and tokens[16] == sequence[index] == row["residue"] == "Y"
        expected = ["<pad>" if not 0 <= i < len(sequence) else sequence[i] for i in range(index - 16, index + 17)]
        assert tokens == expected
        near_end += tokens[0] == "<pad>"
    assert near_end > 0  # sites within L/2 of the N-terminus are kept and padded


# raw formats and builder options


@pytest.mark.parametrize(
    ("text", "residues", "expected"),
    [
        ("MS#KT@Y#", "ST", ("MSKTY", [1, 3], [1, 0])),
        ("MS#KT@Y#", "Y", ("MSKTY", [4], [1])),
        ("ms#\nkt@", "ST", ("MSKT", [1, 3], [1, 0])),
        ("MKL", "ST", ("MKL", [], [])),
    ],
)
def test_parse_marked_sequence(text, residues, expected):
    assert ps.parse_marked_sequence(text, residues, "demo") == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("#MS", "follows the sequence start"),
        ("MS#@", "follows another mark"),
        ("MK#S", "residue 2 is 'K'"),
        ("MS#B1", "invalid character '1' at position 4"),
    ],
)
def test_parse_marked_sequence_errors(text, message):
    with pytest.raises(DatasetFormatError, match=message):
        ps.parse_marked_sequence(text, "ST", "f.fasta, record 1 ('P1')")


@pytest.mark.parametrize(
    ("sequence", "index", "size", "window"),
    [("MSKT", 1, 5, "<pad>MSKT"), ("MSKT", 3, 3, "KT<pad>"), ("ACDEFGH", 3, 3, "DEF"), ("S", 0, 3, "<pad>S<pad>")],
)
def test_cut_window(sequence, index, size, window):
    assert ps.cut_window(sequence, index, size) == window


PHOSPHO_ELM = (
    "acc\tsequence\tposition\tcode\tpmids\tkinases\tsource\tspecies\tentry_date\n"
    "P1\tMSKSTAYS\t2\tS\t111\tPKA\tLTP\tHomo sapiens\t2004-12-31 00:00:00+01\n"
    "P1\tMSKSTAYS\t2\tS\t222\tPKC\tHTP\tHomo sapiens\t2004-12-31 00:00:00+01\n"
    "P1\tMSKSTAYS\t7\tY\t111\t\tLTP\tHomo sapiens\t2004-12-31 00:00:00+01\n"
    "P2\tMTTSK\t3\tT\t333\t\tHTP\tMus musculus\t2005-01-01 00:00:00+01\n"
    "P3\tMKYLS\t3\tY\t444\tSrc\tLTP\tHomo sapiens\t2005-01-01 00:00:00+01\n"
)


def test_phospho_elm_dump(tmp_path):
    dump = tmp_path / "phosphoELM_all.dump"
    dump.write_text(PHOSPHO_ELM)
    proteins = ps.read_proteins([dump], "ST")
    # P1: S2 positive (two evidence rows merged), other S/T negative; P3 has no S/T site listed -> not used
    assert [(p.id, p.positions, p.labels) for p in proteins] == [
        ("P1", (1, 3, 4, 7), (1, 0, 0, 0)),
        ("P2", (1, 2, 3), (0, 1, 0)),
    ]
    assert [p.id for p in ps.read_proteins([dump], "ST", species="Homo sapiens")] == ["P1"]
    assert [(p.id, p.labels) for p in ps.read_proteins([dump], "Y")] == [("P1", (1,)), ("P3", (1,))]
    with pytest.raises(DatasetFormatError, match="2 proteins with 7 kept sites leave the validation split"):
        load_dataset("phosphosite", "ST_w15", data_files=str(dump), cache_dir=tmp_path / "cache", balanced=False)
    ds = load_dataset(
        "phosphosite",
        "ST_w15",
        data_files=str(dump),
        cache_dir=tmp_path / "cache",
        balanced=False,
        split_scheme="random_window",
    )
    rows = sorted((row["id"], row["position"], row["residue"], row["label"]) for s in SPLITS for row in ds[s])
    assert rows == [
        ("P1", 2, "S", 1),
        ("P1", 4, "S", 0),
        ("P1", 5, "T", 0),
        ("P1", 8, "S", 0),
        ("P2", 2, "T", 0),
        ("P2", 3, "T", 1),
        ("P2", 4, "S", 0),
    ]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("P9\tMSKS\t3\tS\t1\t\tLTP\tHomo sapiens\tx\n", "position 3 should be 'S' but the sequence .* has 'K'"),
        ("P9\tMSKS\t9\tS\t1\t\tLTP\tHomo sapiens\tx\n", "position 9 should be 'S'"),
        ("P1\tMSKSTAYA\t2\tS\t1\t\tLTP\tHomo sapiens\tx\n", "a different sequence"),
        ("P9\tMS1S\t2\tS\t1\t\tLTP\tHomo sapiens\tx\n", "invalid character '1' at position 3"),
    ],
)
def test_phospho_elm_errors(tmp_path, line, message):
    dump = tmp_path / "bad.dump"
    dump.write_text(PHOSPHO_ELM + line)
    with pytest.raises(DatasetFormatError, match=message):
        ps.read_proteins([dump], "ST")


def test_builder_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="ST_valid.fasta.*raw.githubusercontent.com/jasperzuallaert"):
        load_dataset("phosphosite", "ST_w15", data_dir=tmp_path, cache_dir=tmp_path)
    for options, message in [({"window_size": 32}, "odd"), ({"split_scheme": "kfold"}, "split_scheme")]:
        with pytest.raises(ValueError, match=message):
            load_dataset("phosphosite", "Y_w15", data_dir=PHOSPHO_DIR, cache_dir=tmp_path, **options)
    bad = tmp_path / "bad.fasta"
    bad.write_text(">P1\nMS#K#T\n")
    with pytest.raises(DatasetFormatError, match="residue 3 is 'K'"):
        load_dataset("phosphosite", "ST_w15", data_files=str(bad), cache_dir=tmp_path)


def test_select_sites_balances_with_the_seed():
    labels = np.array([0, 1, 0, 0, 1, 0, 0, 0])
    kept = ps.select_sites(labels, balanced=True, seed=0)
    assert list(kept[:2]) == [1, 4] and len(kept) == 4 and set(labels[kept[2:]]) == {0}
    assert list(kept[2:]) == sorted(kept[2:])
    draws = {tuple(ps.select_sites(labels, balanced=True, seed=seed)) for seed in range(10)}
    assert len(draws) > 1
    assert list(ps.select_sites(labels, balanced=False, seed=0)) == list(range(8))


# metrics


@pytest.mark.parametrize(
    ("targets", "predictions", "expected"),
    [
        ([0.1, 0.7, 0.95, 0.3], [0.2, 0.9, 0.5, 0.6], 0.5),  # soft targets; 0.5 rounds to 0 as in Keras
        ([0, 1, 1, 0], [0.49, 0.51, 0.99, 0.01], 1.0),
        ([0.39, 0.61], [0.61, 0.39], 0.0),
    ],
)
def test_rounded_accuracy(targets, predictions, expected):
    assert rounded_accuracy(np.array(targets), np.array(predictions)) == expected


def test_site_metrics():
    metrics = site_metrics(np.array([0, 0, 1, 1, 1]), np.array([0.1, 0.6, 0.7, 0.9, 0.2]))
    assert metrics["accuracy"] == pytest.approx(0.6)
    assert metrics["f1"] == pytest.approx(2 * 2 / (2 * 2 + 1 + 1))  # TP 2, FP 1, FN 1
    assert metrics["roc_auc"] == pytest.approx(5 / 6)  # one (positive, negative) pair of six is misordered
    with pytest.raises(ValueError, match="2 targets but 3"):
        rounded_accuracy(np.zeros(2), np.zeros(3))


# pipeline, engine, predict


@pytest.fixture(scope="module")
def st_model_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("phosphosite_model")
    torch.manual_seed(0)
    model = proteinhub.build_preset("phosphosite-vgg-w15").eval()
    model.save_pretrained(folder)
    proteinhub.ProteinTokenizer(**model.config.tokenizer_kwargs).save_pretrained(folder)
    return folder


PROTEINS = {
    "long": "MSTKPLLSSTYDEGHTAQRSWVNNTTSPKELLSGRTSYMSAPEKLT" * 3,
    "short": "MSY",  # shorter than the window: padded on both sides
    "no_site": "MKLLYWAG",  # no S/T: an empty result
    "lower": "mtkplsepq",
}


def reference_probabilities(model, sequence: str) -> tuple[list[int], list[float]]:
    """One window at a time, cut by hand: the per-window inference the pipeline must equal."""
    tokenizer = proteinhub.ProteinTokenizer(prepend_cls=False, append_eos=False)
    positions, probabilities = [], []
    for index, residue in enumerate(sequence.upper()):
        if residue in "ST":
            window = ps.cut_window(sequence.upper(), index, model.config.window_size)
            ids = tokenizer([window], return_tensors="pt")["input_ids"]
            with torch.no_grad():
                probabilities.append(torch.sigmoid(model(input_ids=ids).logits[0, 0]).item())
            positions.append(index + 1)
    return positions, probabilities


def test_pipeline_equals_per_window_inference(st_model_dir, tmp_path):
    import proteinhub.inference.pipelines  # noqa: F401  (registers the task)

    scan = pipeline("phosphosite-prediction", model=str(st_model_dir))
    model = scan.model
    fasta = tmp_path / "proteins.fasta"
    fasta.write_text("".join(f">{name} some description\n{sequence}\n" for name, sequence in PROTEINS.items()))
    one_by_one = [scan(sequence) for sequence in PROTEINS.values()]  # preprocess/_forward/postprocess path
    batched = scan(list(PROTEINS.values()), batch_size=4)  # engine, windows of several proteins per pass
    from_file = scan(str(fasta))
    assert [protein["id"] for protein in from_file] == list(PROTEINS)
    for name, single, pooled, filed in zip(PROTEINS, one_by_one, batched, from_file):
        positions, expected = reference_probabilities(model, PROTEINS[name])
        for result in (single, pooled, filed["sites"]):
            assert [site["position"] for site in result] == positions
            assert [site["residue"] for site in result] == [PROTEINS[name].upper()[p - 1] for p in positions]
            # equal up to float32 rounding (batch-dependent kernels differ by ~1e-7)
            np.testing.assert_allclose([site["probability"] for site in result], expected, rtol=0, atol=1e-6)
            assert [site["label"] for site in result] == ["positive" if p > 0.5 else "negative" for p in expected]
    assert one_by_one[2] == [] and batched[2] == []
    assert {site["residue"] for site in scan(PROTEINS["long"], residues="s")} == {"S"}
    assert all(site["label"] == "negative" for site in scan(PROTEINS["long"], threshold=1.0))


def test_pipeline_bad_input(st_model_dir):
    import proteinhub.inference.pipelines  # noqa: F401

    scan = pipeline("phosphosite-prediction", model=str(st_model_dir))
    with pytest.raises(ValueError, match=r"protein '#1': invalid character '1' at position 4"):
        scan(["MSTK", "MST1K"])
    with pytest.raises(ValueError, match=r"scores S/T sites \(config.site_residues='ST'\), not Y"):
        scan("MSTY", residues="Y")
    with pytest.raises(ValueError, match="not Y"):
        pipeline("phosphosite-prediction", model=str(st_model_dir), residues="SY")
    with pytest.raises(ValueError, match="not a phosphosite window classifier"):
        PhosphositeScanner(proteinhub.build_preset("protein-cnn-small"))


def test_scanner_streams():
    model = proteinhub.build_preset("phosphosite-cnn-gru-w15").eval()

    def endless():
        index = 0
        while True:
            index += 1
            yield f"p{index}", "MSTKPLLSS"

    first = next(PhosphositeScanner(model, batch_size=8).scan(endless()))  # returns although the input never ends
    assert first.id == "p1" and first.positions.tolist() == [2, 3, 8, 9] and first.residues == "STSS"


def test_pipelines_are_not_imported_with_proteinhub():
    code = (
        "import sys, proteinhub; "
        "print('transformers.pipelines' in sys.modules, 'proteinhub.inference.pipelines' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "False"]


def test_predict_writes_the_site_table(st_model_dir, tmp_path, capsys):
    fasta = tmp_path / "in.fasta"
    fasta.write_text("".join(f">{name}\n{sequence}\n" for name, sequence in PROTEINS.items()))
    out = tmp_path / "sites.tsv"
    assert predict.main(["--model", str(st_model_dir), "--fasta", str(fasta), "--out", str(out), "--no-progress"]) == 0
    lines = out.read_text().splitlines()
    assert lines[0].split("\t") == ["id", "position", "residue", "probability", "label"]
    rows = [line.split("\t") for line in lines[1:]]
    model = AutoModelForSequenceClassification.from_pretrained(st_model_dir).eval()
    expected_rows = []
    for name, sequence in PROTEINS.items():
        positions, probabilities = reference_probabilities(model, sequence)
        expected_rows += [(name, str(p), sequence.upper()[p - 1], q) for p, q in zip(positions, probabilities)]
    assert [tuple(row[:3]) for row in rows] == [row[:3] for row in expected_rows]
    np.testing.assert_allclose([float(row[3]) for row in rows], [row[3] for row in expected_rows], atol=1e-6)
    assert "no_site" not in {row[0] for row in rows}  # no candidate residue: no row, no error
    assert "sites of 4 proteins" in capsys.readouterr().err
    assert count_records(fasta) == 4 == sum(1 for _ in read_fasta(fasta))

    bad = tmp_path / "bad.fasta"
    bad.write_text(">ok\nMSTK\n>broken\nMST-K\n")
    with pytest.raises(ValueError, match=r"bad\.fasta, record 2 \('broken'\): invalid character '-' at position 4"):
        predict.main(["--model", str(st_model_dir), "--fasta", str(bad), "--out", str(out), "--no-progress"])
    bad.write_text(">ok\nMSTK\n>empty\n\n")  # no residue: an error, as for every FASTA consumer (tests/test_fasta.py)
    with pytest.raises(ValueError, match=r"bad\.fasta, record 2 \('empty'\): empty sequence"):
        predict.main(["--model", str(st_model_dir), "--fasta", str(bad), "--out", str(out), "--no-progress"])
    with pytest.raises(ValueError, match="not Y"):
        predict.main(["--model", str(st_model_dir), "--fasta", str(fasta), "--residues", "Y", "--no-progress"])


# configs and the reproduction script


def test_configs_are_in_sync_and_parse_with_train():
    from proteinhub.training import parse_arguments

    script = load_script()
    files = sorted(script.CONFIG_DIR.glob("*.yaml"))
    assert len(files) == len(script.ROWS) == 48
    for row in script.ROWS:
        assert row.config_path.read_text() == script.config_text(row), f"{row.name}: run --write-configs"
        model, data, _, training, _ = parse_arguments(["--config", str(row.config_path)])
        assert model.model == f"phosphosite-{row.model}-w{row.window}"
        assert model.config_overrides["site_residues"] == row.group
        assert (model.config_overrides.get("input_noise", 0), model.config_overrides.get("soft_label_max", 0)) == (
            (0.1, 0.4) if row.da else (0, 0)
        )
        assert data.dataset_config_name == f"{row.group}_w{row.window}" and data.sequence_column == "window"
        assert training.num_train_epochs == (60 if row.group == "ST" else 100)
        assert training.early_stopping_patience == 20 and training.metric_for_best_model == "loss"
        assert training.lr_scheduler_type == "cosine_with_min_lr" and training.lr_scheduler_kwargs == {"min_lr": 1e-8}


def test_reproduction_tiny_mode(tmp_path, capsys):
    script = load_script()
    argv = ["--tiny", "--runs-dir", str(tmp_path), "--cache-dir", str(tmp_path / "cache")]
    assert script.main(argv) == 0
    results = sorted(path.name for path in (tmp_path / "results" / "random_window").glob("*.json"))
    assert results == ["y_cnn-gru_w15_da.json", "y_vgg_w15.json"]
    page = (tmp_path / "phosphosite_tiny.md").read_text()
    assert "TINY SMOKE-TEST RUN" in page and "| VGG (100k) | L = 15 | 76.69 | 76.78 | pending |" in page
    assert "Rows finished: 2 of 96 (48 table rows x 2 split schemes): 2 on the random window split, 0 on" in page
    assert "| Y | random_window | 15 | 59.45 / 0.6285 | " in page  # the floor margin of the better validation row
    assert "](phosphosite_tiny_accuracy.png)" in page and (tmp_path / "phosphosite_tiny_accuracy.png").stat().st_size
    assert script.main(argv) == 0  # resumes: both rows are skipped
    assert capsys.readouterr().out.count("[skip]") == 2

    assert script.main([*argv, "--ablation"]) == 0  # ResNet dropout 0.0 / 0.1 next to the presets' 0.3
    for dropout in (0.0, 0.1):
        config = json.loads((tmp_path / "ablation" / f"dropout_{dropout}" / "y_resnet_w15" / "config.json").read_text())
        assert config["dropout"] == dropout and config["model_type"] == "phosphosite_resnet"
    page = (tmp_path / "phosphosite_tiny.md").read_text()
    table = page[page.index("## ResNet dropout") :].split("\n\n")[2].splitlines()
    assert table[2].startswith("| L = 15 | 64.39 | ") and table[2].count("pending") == 1  # dropout 0.3: main table
    assert table[3].count("pending") == 3  # the ablation has only L = 15 in tiny mode


def test_scan_benchmark_prints_its_ratios(tmp_path, capsys):
    """A small run of benchmarks/phosphosite_scan.py: the ratios against both baselines, and the scan's
    probabilities equal one-window-at-a-time inference (up to the TSV's 6-decimal rounding)."""
    spec = importlib.util.spec_from_file_location("phosphosite_scan", REPO / "benchmarks" / "phosphosite_scan.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    summary_path = tmp_path / "scan.json"
    argv = ["--num-proteins", "40", "--per-protein", "5", "--forward-proteins", "10", "--batch-size", "256"]
    bench.main([*argv, "--json", str(summary_path)])
    out = capsys.readouterr().out
    assert "scan / forward-only limit :" in out and "scan / pipeline per protein:" in out and "peak RSS" in out
    summary = json.loads(summary_path.read_text())
    assert summary["proteins"] == 40 and summary["sites"] > 0
    assert summary["max_abs_difference_vs_single_windows"] < 1e-5
