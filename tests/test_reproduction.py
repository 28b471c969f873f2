"""The helpers the reproduction scripts share (`scripts/reproduction.py`): batching, per-class tables, number
formats, result records and resuming, learning curves, and a results page rendered from its template."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from proteinhub import build_preset
from proteinhub.tokenization import ProteinTokenizer
from reproduction import (
    finished,
    learning_curves,
    length_batches,
    load_records,
    number,
    per_class,
    percent,
    predict_logits,
    read_json,
    write_json,
)

REPO = Path(__file__).resolve().parents[1]
SEQUENCES = ["MKTAYIAKQRQISFVKSHFSRQ", "MK", "ACDEFGHIKLMNPQRSTVWY", "MSTNPKPQRKTKRNTNRRPQDVKFPGG"]


@pytest.mark.parametrize(
    "kwargs, batches",
    [
        ({"batch_size": 2}, [[1, 0], [2, 3]]),  # lengths 5, 2, 5, 9: shortest first, ties in input order
        ({"max_tokens": 10}, [[1, 0], [2], [3]]),  # a batch is as wide as its longest item
        ({"max_tokens": 4}, [[1], [0], [2], [3]]),  # an item wider than the budget still gets a batch
    ],
)
def test_length_batches(kwargs, batches):
    assert length_batches([5, 2, 5, 9], **kwargs) == batches


def test_length_batches_needs_one_limit():
    with pytest.raises(ValueError, match="either batch_size or max_tokens"):
        length_batches([1, 2], batch_size=2, max_tokens=10)


@pytest.mark.parametrize("level", ["protein", "residue"])
def test_predict_logits_equals_each_protein_alone(level):
    """Length-sorted batches come back in input order, with the logits the model gives each protein alone."""
    torch.manual_seed(0)
    if level == "protein":
        model = build_preset("localization-cnn-bilstm", num_labels=3).eval()
    else:
        model = build_preset("secondary-structure-bigru-cnn-cpu").eval()
    tokenizer = ProteinTokenizer(**model.config.tokenizer_kwargs)
    batched = predict_logits(model, tokenizer, SEQUENCES, level=level, batch_size=3)
    for index, sequence in enumerate(SEQUENCES):
        (alone,) = predict_logits(model, tokenizer, [sequence], level=level, max_tokens=1000)
        np.testing.assert_allclose(batched[index], alone, atol=1e-5)
        if level == "residue":
            assert alone.shape == (len(sequence), model.config.num_labels)
    if level == "protein":
        assert batched.shape == (len(SEQUENCES), 3)


def test_per_class_from_a_confusion_matrix():
    matrix = np.array([[3, 1, 0], [0, 2, 0], [1, 0, 0]])  # class 2 is never predicted
    table = per_class(matrix, ["a", "b", "c"])
    assert table["a"] == {"precision": 0.75, "recall": 0.75, "f1": 0.75, "support": 4}
    assert table["b"] == {"precision": 2 / 3, "recall": 1.0, "f1": 0.8, "support": 2}
    assert table["c"] == {"precision": None, "recall": 0.0, "f1": 0.0, "support": 1}
    assert per_class(matrix, ["a", "b", "c"], zero_division=0.0)["c"]["precision"] == 0.0


@pytest.mark.parametrize(
    "call, text",
    [
        (lambda: percent(0.81234), "81.2 %"),
        (lambda: percent(0.81234, 2, ""), "81.23"),
        (lambda: percent(None, 2, "", "pending"), "pending"),
        (lambda: percent(float("nan")), "-"),
        (lambda: number(0.123456), "0.1235"),
        (lambda: number(float("nan"), 3), "-"),
        (lambda: number(None), "-"),
    ],
)
def test_number_formats(call, text):
    assert call() == text


def test_records_and_resuming(tmp_path, capsys):
    path = write_json(tmp_path / "results" / "row_b.json", {"tiny": True, "accuracy": 0.5})
    write_json(tmp_path / "results" / "row_a.json", {"tiny": False})
    assert read_json(path) == {"tiny": True, "accuracy": 0.5}
    assert not list((tmp_path / "results").glob(".*"))  # no temporary file left behind
    assert list(load_records(tmp_path / "results")) == ["row_a", "row_b"]
    assert list(load_records(tmp_path / "results", ["row_b", "row_c", "row_a"])) == ["row_b", "row_a"]

    assert finished(path, "row_b") and finished(path, "row_b", tiny=True)
    assert capsys.readouterr().out.count("[skip] row_b") == 2
    assert not finished(path, "row_b", force=True)
    assert not finished(path, "row_b", tiny=False)  # a smoke-test result does not stand for a real run
    assert not finished(tmp_path / "results" / "row_c.json", "row_c")
    assert "[skip]" not in capsys.readouterr().out


def test_learning_curves_are_training_plots_named_per_row(tmp_path):
    log = [
        {"epoch": 1.0, "loss": 1.0},
        {"epoch": 1.0, "eval_loss": 0.9, "eval_accuracy": 0.5},
        {"epoch": 2.0, "loss": 0.8},
        {"epoch": 2.0, "eval_loss": 0.95, "eval_accuracy": 0.6},
    ]
    written = learning_curves(log, tmp_path, "row", "accuracy")
    assert [path.name for path in written] == ["row_learning_curve_loss.png", "row_learning_curve_accuracy.png"]
    # a run that keeps the checkpoint of lowest validation loss: one figure, the kept epoch starred on it
    written = learning_curves(log, tmp_path / "loss", "row", "loss", greater_is_better=False)
    assert [path.name for path in written] == ["row_learning_curve_loss.png"]
    assert sorted(path.name for path in (tmp_path / "loss").iterdir()) == ["row_learning_curve_loss.png"]
    assert all(path.stat().st_size > 1000 for path in written)


def test_a_page_without_results_marks_every_row(tmp_path):
    spec = importlib.util.spec_from_file_location(
        "reproduce_proteinbert", REPO / "scripts" / "reproduce_proteinbert.py"
    )
    script = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = script
    spec.loader.exec_module(script)
    page = tmp_path / "proteinbert.md"
    script.write_page({}, page, "proteinbert_pca.png")
    text = page.read_text()
    assert text.count("| ProteinBERT, reduced, random init | balanced class weights | not run | - | - | - | - |") == 2
    assert "## Lysine embeddings before and after fine-tuning (the seed's PCA)\n\nnot run\n\n## Using" in text
    assert "## LoRA" not in text and text.endswith("this page's floor.\n")
    assert "{{" not in text and "{%" not in text
