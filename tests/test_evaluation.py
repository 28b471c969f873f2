"""proteinhub.evaluation: the one metrics module, and its `evaluate` scripts loaded offline from the package.

The evaluate modules must return the numbers training writes to metrics.json (`build_compute_metrics`) on the same
predictions: residue batches padded as `Trainer` gathers them (-100 labels and logits), or one array per protein.
"""

from __future__ import annotations

import json
import math
import os
import pickle
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest
from proteinhub.dataset_scripts.secondary_structure import LABEL_NAMES
from proteinhub.evaluation import METRICS, MODULES_DIR, metric_path, metrics
from scipy.special import expit
from transformers import EvalPrediction

REPO = Path(__file__).resolve().parents[1]

# helpers


def residue_batch(rng: np.random.Generator, num_labels: int, proteins: int = 7, width: int = 24):
    """Padded (proteins, width) labels and (proteins, width, num_labels) float32 logits as `Trainer` gathers them:
    <cls> residues <eos>, the special tokens, some unresolved residues and the padding labelled -100, padding logits
    -100; plus the unpadded per-protein arrays of the same predictions."""
    lengths = rng.integers(3, width - 2, size=proteins)
    labels = np.full((proteins, width), -100, dtype=np.int64)
    logits = np.full((proteins, width, num_labels), -100.0, dtype=np.float32)
    for row, length in enumerate(lengths):
        residues = rng.integers(0, num_labels, size=length)
        residues[rng.random(length) < 0.15] = -100
        labels[row, 1 : 1 + length] = residues
        logits[row, : length + 2] = rng.normal(size=(length + 2, num_labels))
    ragged_labels = [labels[row, : length + 2] for row, length in enumerate(lengths)]
    ragged_logits = [logits[row, : length + 2] for row, length in enumerate(lengths)]
    return labels, logits, ragged_labels, ragged_logits


def residue_regression_batch(rng: np.random.Generator, proteins: int = 6, width: int = 20):
    """Padded float targets (-100 at special tokens and padding, NaN at unmeasured residues) and (.., 1) outputs."""
    lengths = rng.integers(3, width - 2, size=proteins)
    labels = np.full((proteins, width), -100.0, dtype=np.float32)
    predictions = np.full((proteins, width, 1), -100.0, dtype=np.float32)
    for row, length in enumerate(lengths):
        values = rng.normal(size=length).astype(np.float32)
        values[rng.random(length) < 0.15] = np.nan
        labels[row, 1 : 1 + length] = values
        predictions[row, : length + 2, 0] = rng.normal(size=length + 2)
    ragged_labels = [labels[row, : length + 2] for row, length in enumerate(lengths)]
    ragged_predictions = [predictions[row, : length + 2, 0] for row, length in enumerate(lengths)]
    return labels, predictions, ragged_labels, ragged_predictions


def training_metrics(level: str, problem: str, labels: np.ndarray, outputs: np.ndarray) -> dict:
    """What training logs for these predictions: the Trainer's `compute_metrics` of the task."""
    return metrics.build_compute_metrics(level, problem)(EvalPrediction(predictions=outputs, label_ids=labels))


def comparable(value):
    """JSON round trip (as the results come back from the subprocess), NaN spelled out so that NaN == NaN."""
    value = json.loads(json.dumps(value))

    def spell(item):
        if isinstance(item, dict):
            return {key: spell(entry) for key, entry in item.items()}
        if isinstance(item, list):
            return [spell(entry) for entry in item]
        return "nan" if isinstance(item, float) and math.isnan(item) else item

    return spell(value)


# the same random predictions, scored by training (or the metrics function) and by each evaluate module


def build_cases() -> dict[str, tuple[str, dict, dict]]:
    """case -> (evaluate module, its compute() arguments, the numbers it must return)."""
    rng = np.random.default_rng(0)
    cases = {}

    labels, logits, ragged_labels, ragged_logits = residue_batch(rng, num_labels=3)
    trained = training_metrics("residue", "classification", labels, logits)
    cases["residue_classification padded"] = (
        "residue_classification",
        {"predictions": logits, "references": labels},
        trained,
    )
    cases["residue_classification per protein"] = (
        "residue_classification",
        {"predictions": ragged_logits, "references": ragged_labels},
        trained,
    )
    q3 = metrics.q3_metrics(labels, logits, LABEL_NAMES)
    assert q3["q3"] == trained["accuracy"]  # Q3 is the residue accuracy training logs
    cases["q3 padded"] = ("q3", {"predictions": logits, "references": labels}, q3)
    cases["q3 per protein"] = ("q3", {"predictions": ragged_logits, "references": ragged_labels}, q3)

    labels, logits, ragged_labels, ragged_logits = residue_batch(rng, num_labels=2)
    trained = training_metrics("residue", "classification", labels, logits)
    cases["residue_classification binary"] = (
        "residue_classification",
        {"predictions": ragged_logits, "references": ragged_labels},
        trained,
    )

    labels, predictions, ragged_labels, ragged_predictions = residue_regression_batch(rng)
    trained = training_metrics("residue", "regression", labels, predictions)
    cases["residue_regression padded"] = (
        "residue_regression",
        {"predictions": predictions[..., 0], "references": labels},
        trained,
    )
    cases["residue_regression per protein"] = (
        "residue_regression",
        {"predictions": ragged_predictions, "references": ragged_labels},
        trained,
    )

    labels = rng.integers(0, 4, size=40)
    logits = rng.normal(size=(40, 4)).astype(np.float32)
    trained = training_metrics("protein", "classification", labels, logits)
    cases["protein_classification"] = ("protein_classification", {"predictions": logits, "references": labels}, trained)

    labels = rng.integers(0, 2, size=40)
    logits = rng.normal(size=(40, 1)).astype(np.float32)  # one logit: a binary classifier, P(1)
    trained = training_metrics("protein", "classification", labels, logits)
    cases["protein_classification one logit"] = (
        "protein_classification",
        {"predictions": logits, "references": labels},
        trained,
    )
    probabilities = expit(logits[:, 0].astype(np.float64))
    site = metrics.phosphosite_metrics(labels, probabilities)
    # the site metrics of a one-logit classifier are the ones training logs for it
    assert {key: site[key] for key in ("accuracy", "mcc", "roc_auc")} == {
        key: trained[key] for key in ("accuracy", "mcc", "roc_auc")
    }
    cases["phosphosite"] = ("phosphosite", {"predictions": probabilities, "references": labels}, site)
    soft = np.abs(labels - rng.uniform(0.0, 0.4, size=labels.size))  # the paper's soft targets
    cases["phosphosite soft targets"] = (
        "phosphosite",
        {"predictions": probabilities, "references": soft},
        metrics.phosphosite_metrics(soft, probabilities),
    )

    labels = rng.normal(size=40).astype(np.float32)
    predictions = (labels[:, None] + rng.normal(size=(40, 1))).astype(np.float32)
    trained = training_metrics("protein", "regression", labels, predictions)
    cases["protein_regression"] = (
        "protein_regression",
        {"predictions": predictions.ravel(), "references": labels},
        trained,
    )
    return cases


CASES = build_cases()

# run in a fresh interpreter: offline, an unreachable Hub, an empty HF cache; `import proteinhub` and
# `proteinhub.evaluation` must leave evaluate unimported
EVALUATE_SCRIPT = """
import json, pickle, sys
import proteinhub
from proteinhub.evaluation import metric_path
assert "evaluate" not in sys.modules, "import proteinhub / proteinhub.evaluation imported evaluate"
import evaluate

with open(sys.argv[1], "rb") as handle:
    cases = pickle.load(handle)
results = {}
for case, (name, arguments) in cases.items():
    results[case] = evaluate.load(metric_path(name), keep_in_memory=True).compute(**arguments)
with open(sys.argv[2], "w") as handle:
    json.dump(results, handle)
"""


@pytest.fixture(scope="module")
def evaluate_results(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("evaluate")
    with open(folder / "cases.pkl", "wb") as handle:
        pickle.dump({case: (name, arguments) for case, (name, arguments, _) in CASES.items()}, handle)
    env = {
        **os.environ,
        "HF_HOME": str(folder / "hf"),
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "HF_EVALUATE_OFFLINE": "1",
        "HF_ENDPOINT": "http://127.0.0.1:9",  # nothing listens there: any Hub request would fail
    }
    result = subprocess.run(
        [sys.executable, "-c", EVALUATE_SCRIPT, str(folder / "cases.pkl"), str(folder / "results.json")],
        capture_output=True,
        text=True,
        cwd=folder,
        env=env,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads((folder / "results.json").read_text())


@pytest.mark.parametrize("case", sorted(CASES))
def test_evaluate_module_matches_the_training_metrics(evaluate_results, case):
    _, _, expected = CASES[case]
    assert comparable(evaluate_results[case]) == comparable(expected)


def test_every_module_is_tested():
    assert {name for name, _, _ in CASES.values()} == set(METRICS)


# the package side


def test_metric_path_names_every_module_script():
    scripts = {path.stem for path in MODULES_DIR.glob("*.py") if path.name != "__init__.py"}
    assert scripts == set(METRICS)
    for name in METRICS:
        assert Path(metric_path(name)).is_file()
    with pytest.raises(ValueError, match="no proteinhub metric 'accuracy'; metrics: residue_classification"):
        metric_path("accuracy")


def test_the_wheel_ships_the_metric_scripts_and_requires_evaluate():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert "proteinhub.evaluation.modules" in project["tool"]["setuptools"]["packages"]
    assert any(requirement.startswith("evaluate>=0.4.6") for requirement in project["project"]["dependencies"])


# the metrics themselves, hand-checked


def test_q3_is_the_accuracy_over_scored_residues():
    labels = [[-100, 0, 0, 1, -100], [-100, 2, 2, -100]]  # <cls> residues <eos>
    predicted = [[1, 0, 1, 1, 2], [0, 2, 0, 0]]  # special tokens predicted wrong on purpose
    logits = [np.eye(3)[row] for row in predicted]
    result = metrics.q3_metrics(labels, logits, ("H", "E", "C"))
    # protein 1: 2 of 3 right, protein 2: 1 of 2 right
    assert result["q3"] == pytest.approx(3 / 5)
    assert result["q3_per_protein"] == pytest.approx((2 / 3 + 1 / 2) / 2)
    assert result["scored_residues"] == 5 and result["proteins"] == 2
    assert result["confusion_matrix"] == [[1, 1, 0], [0, 1, 0], [1, 0, 1]]
    assert result["per_class"]["E"] == {"precision": 0.5, "recall": 1.0, "f1": pytest.approx(2 / 3), "support": 1}
    assert result["f1_macro"] == pytest.approx(np.mean([0.5, 2 / 3, 2 / 3]))


def test_positive_label_names_the_class_the_binary_aucs_score():
    labels = np.array([0, 1, 1, 0, 0])
    p1 = np.array([0.2, 0.6, 0.7, 0.9, 0.4])
    logits = np.log(np.stack([1 - p1, p1], axis=-1))
    as_one = metrics.classification_metrics(labels, logits)
    as_zero = metrics.classification_metrics(labels, logits, positive_label=0)
    assert as_one["roc_auc"] == pytest.approx(2 / 3) and as_zero["roc_auc"] == pytest.approx(2 / 3)  # symmetric
    # class 1 ranked by P(1): 0.9- 0.7+ 0.6+ 0.4- 0.2-: precision 1/2 and 2/3 at its two positives
    assert as_one["pr_auc"] == pytest.approx((1 / 2 + 2 / 3) / 2)
    # class 0 ranked by P(0): 0.8+ 0.6+ 0.4- 0.3- 0.1+: precision 1, 1 and 3/5 at its three positives
    assert as_zero["pr_auc"] == pytest.approx((1 + 1 + 3 / 5) / 3)
    assert metrics.pr_auc(labels, 1 - p1, positive_label=0) == as_zero["pr_auc"]
    with pytest.raises(ValueError, match="positive_label 2 is not a class of a binary classifier"):
        metrics.classification_metrics(labels, logits, positive_label=2)


def test_one_class_aucs_are_nan_not_errors():
    assert math.isnan(metrics.roc_auc(np.ones(4), np.linspace(0, 1, 4)))
    assert math.isnan(metrics.pr_auc(np.zeros(4), np.linspace(0, 1, 4)))
    assert math.isnan(metrics.spearman(np.ones(4), np.arange(4.0)))
