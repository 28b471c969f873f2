"""The `proteinhub` command line: presets table, train pass-through, and the README's quickstart end to end."""

from __future__ import annotations

import json
import os
import time

import pytest
from proteinhub import build_preset, cli, training
from transformers import pipeline

os.environ.setdefault("OMP_NUM_THREADS", "1")


def test_presets_lists_each_preset_with_its_parameter_count(capsys):
    assert cli.main(["presets"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["name", "model", "type"]
    row = next(line for line in lines if line.startswith("protein-cnn-small "))
    # counted on the meta device by the CLI; here from real weights
    expected = sum(p.numel() for p in build_preset("protein-cnn-small").parameters())
    assert row.split()[:4] == ["protein-cnn-small", "protein_cnn", "AutoModelForTokenClassification", f"{expected:,}"]
    assert expected == 86_050


def test_presets_rows_report_paper_parameters():
    rows = {row["name"]: row for row in cli.preset_rows()}
    assert rows["protein-cnn-small"]["paper_parameters"] is None  # not from a paper: shown as "-"
    assert all(row["parameters"] > 0 for row in rows.values())


def test_unknown_options_of_presets_are_an_error(capsys):
    with pytest.raises(SystemExit) as raised:
        cli.main(["presets", "--bogus"])
    assert raised.value.code == 2
    assert "unrecognized arguments: --bogus" in capsys.readouterr().err


def test_train_passes_every_option_to_train_py(monkeypatch):
    seen = {}

    def fake_run(model_args, data_args, loss_args, training_args, values):
        seen.update(values)
        return {}

    monkeypatch.setattr(training.runner, "run", fake_run)
    assert cli.main(["train", "--config", "quickstart", "--num_train_epochs", "2", "--output_dir", "x"]) == 0
    assert seen["num_train_epochs"] == 2 and seen["output_dir"] == "x"
    assert seen["dataset_name"] == "disorder_ldr"  # from configs/quickstart.yaml


def test_quickstart_end_to_end(tmp_path, capsys):
    """The README's main job: protein-cnn-small on AA_LDR via configs/quickstart.yaml, in well under 3 minutes."""
    output_dir = tmp_path / "quickstart"
    started = time.perf_counter()
    assert cli.main(["quickstart", "--output_dir", str(output_dir)]) == 0
    elapsed = time.perf_counter() - started
    out = capsys.readouterr().out
    assert "quickstart trained and evaluated" in out and "test ROC-AUC" in out

    saved = json.loads((output_dir / "metrics.json").read_text())
    assert saved["run"]["model"] == "protein-cnn-small" and saved["run"]["dataset"] == "disorder_ldr"
    assert saved["run"]["split_sizes"] == {"train": 239, "validation": 51, "test": 52}
    # a per-residue majority vote has MCC 0 and ROC-AUC 0.5; the quickstart measured ROC-AUC 0.79, MCC 0.48
    assert saved["test"]["roc_auc"] > 0.75
    assert saved["test"]["mcc"] > 0.35
    assert elapsed < 180, f"quickstart took {elapsed:.0f} s"

    tagger = pipeline("token-classification", model=str(output_dir))
    sequence = "MSDNGPQNQRNAPRITFGGPSDSTGSNQNGERSGARSKQRRPQGLPNNTASWFTALTQHGK"
    predictions = tagger(sequence)
    assert len(predictions) == len(sequence)  # one prediction per residue
    assert {p["entity"] for p in predictions} <= {"ordered", "disordered"}
