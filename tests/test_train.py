"""train.py: argument parsing, task inference, class weights, metrics, and tiny end-to-end runs with every artifact."""

from __future__ import annotations

import json
import math
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import proteinhub
import pytest
import yaml
from datasets import Dataset, Features, List, Value
from huggingface_hub import ModelCard
from proteinhub import training
from proteinhub.evaluation import metrics
from proteinhub.training.models import task_fields
from transformers import pipeline

REPO = Path(__file__).resolve().parents[1]
RESIDUES = "ACDEFGHIKLMNPQRSTVWY"

os.environ.setdefault("OMP_NUM_THREADS", "1")

# A tiny, fast training setup shared by the end-to-end runs (a few seconds each on one core).
TINY = {
    "model": "protein-cnn-small",
    "config_overrides": {"hidden_size": 16, "embedding_size": 8, "num_layers": 2},
    "num_train_epochs": 2,
    "global_batch_size": 4,
    "learning_rate": 1e-2,
    "eval_strategy": "epoch",
    "save_strategy": "epoch",
    "logging_strategy": "epoch",
    "load_best_model_at_end": True,
    "save_total_limit": 1,
    "disable_tqdm": True,
    "seed": 0,
}


def write_yaml(path: Path, values: dict) -> Path:
    path.write_text(yaml.safe_dump(values, sort_keys=False))
    return path


# argument parsing


def test_yaml_values_then_command_line_overrides(tmp_path):
    config = write_yaml(
        tmp_path / "run.yaml",
        {
            "model": "protein-cnn-small",
            "dataset_name": "disorder_ldr",
            "num_train_epochs": 5,
            "learning_rate": "1e-3",  # YAML 1.1 reads this as a string; it must still become a float
            "config_overrides": {"num_layers": 3},
            "class_weights": "balanced",
            "output_dir": str(tmp_path / "from_yaml"),
        },
    )
    model_args, data_args, loss_args, training_args, values = training.parse_arguments(
        ["--config", str(config), "--num_train_epochs", "2", "--config_overrides", "{num_layers: 2, dropout: 0.2}"]
    )
    assert training_args.num_train_epochs == 2  # the command line wins
    assert training_args.learning_rate == pytest.approx(1e-3)  # from the YAML, converted
    assert model_args.config_overrides == {"num_layers": 2, "dropout": 0.2}
    assert loss_args.class_weights == "balanced"
    assert data_args.dataset_name == "disorder_ldr"
    assert training_args.output_dir == str(tmp_path / "from_yaml")
    assert training_args.metric_for_best_model == "auto"
    assert values["num_train_epochs"] == 2 and values["config_overrides"] == {"num_layers": 2, "dropout": 0.2}


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--class_weights", "[1.0, 3.5]"], {"class_weights": [1.0, 3.5]}),
        (["--data_files", "{train: a.fasta, test: b.fasta}"], {"data_files": {"train": "a.fasta", "test": "b.fasta"}}),
        (["--load_best_model_at_end", "false"], {"load_best_model_at_end": False}),
        (["--metric_for_best_model", "mse"], {"metric_for_best_model": "mse", "greater_is_better": False}),
        (["--metric_for_best_model", "roc_auc"], {"metric_for_best_model": "roc_auc", "greater_is_better": True}),
    ],
)
def test_command_line_values_are_parsed(argv, expected):
    parsed = training.parse_arguments(["--model", "protein-cnn-small", "--dataset_name", "disorder_ldr", *argv])[:4]
    for key, value in expected.items():
        found = [getattr(arguments, key) for arguments in parsed if hasattr(arguments, key)]
        assert found == [value], key


@pytest.mark.parametrize(("world_size", "accumulation", "per_device"), [(1, 1, 16), (2, 1, 8), (4, 1, 4), (2, 2, 4)])
def test_global_batch_size_is_split_over_processes(world_size, accumulation, per_device):
    assert training.per_device_batch_size(16, world_size, accumulation) == per_device


def test_global_batch_size_sets_the_per_device_batch():
    argv = ["--model", "protein-cnn-small", "--dataset_name", "disorder_ldr", "--global_batch_size", "12"]
    assert training.parse_arguments(argv)[3].per_device_train_batch_size == 12  # one process here
    with pytest.raises(ValueError, match="choose a multiple of 8"):
        training.per_device_batch_size(12, 4, 2)


@pytest.mark.parametrize(
    ("yaml_values", "argv", "message"),
    [
        ({"num_train_epoch": 2}, [], "unknown argument 'num_train_epoch'"),
        ({"learning_rate": "fast"}, [], "learning_rate='fast' is not a valid float"),
        ({}, ["--label_smoothing_factor", "0.1"], "use `label_smoothing`"),
        ({"model_name_or_path": "some/dir"}, [], "exactly one of `model`"),
    ],
)
def test_bad_arguments_are_refused_with_the_key(tmp_path, yaml_values, argv, message):
    config = write_yaml(tmp_path / "bad.yaml", {"model": "protein-cnn-small", "dataset_name": "x", **yaml_values})
    with pytest.raises(ValueError, match=re.escape(message)):
        training.parse_arguments(["--config", str(config), *argv])


def test_packaged_config_is_found_by_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # not the repository root
    expected = (REPO / "configs" / "quickstart.yaml").read_bytes()
    for name in ("quickstart", "quickstart.yaml", "configs/quickstart.yaml"):
        # the repository's file, or its copy shipped in the installed package
        assert training.resolve_config_path(name).read_bytes() == expected
    with pytest.raises(FileNotFoundError, match="quickstart"):
        training.resolve_config_path("no-such-config")


def test_misspelt_config_override_is_refused():
    model_args = training.ModelArguments(model="protein-cnn-small", config_overrides={"dropout:0.3": None})
    with pytest.raises(ValueError, match=r"'dropout:0.3'.*not fields of ProteinCNNConfig"):
        training.model_config(model_args, model_args.config_overrides)


# task inference and class weights


def residue_split(labels: list[list[int]], description: str = "") -> Dataset:
    from datasets import DatasetInfo

    features = Features({"id": Value("string"), "sequence": Value("string"), "labels": List(Value("int64"))})
    rows = {
        "id": [f"p{i}" for i in range(len(labels))],
        "sequence": ["A" * len(x) for x in labels],
        "labels": labels,
    }
    return Dataset.from_dict(rows, info=DatasetInfo(description=description, features=features))


def test_residue_task_takes_class_names_from_the_builder_description():
    split = residue_split([[0, 1, -100]], description='toy\n\nlabel_names: ["ordered", "disordered"]')
    task = training.infer_task(split, training.DataArguments(dataset_name="toy"))
    assert (task.level, task.problem, task.class_names) == ("residue", "classification", ("ordered", "disordered"))
    assert task.auto_class == "AutoModelForTokenClassification"


def test_balanced_class_weights_land_in_the_model_config():
    # 3 x class 0, 1 x class 1, -100 ignored: n / (k * count) = 4 / (2 * 3), 4 / (2 * 1)
    split = residue_split([[0, 0, -100], [0, 1]])
    task = training.infer_task(split, training.DataArguments(dataset_name="toy"))
    weights = training.resolve_class_weights(training.LossArguments(class_weights="balanced"), task, split)
    model_args = training.ModelArguments(model="protein-cnn-small")
    family, _ = training.model_config(model_args, {})
    fields = task_fields(task, family, weights, 0.1)
    model = training.build_model(model_args, family, family.models[task.auto_class], {}, fields)
    assert model.config.class_weights == pytest.approx([2 / 3, 2.0])
    assert model.config.label_smoothing == 0.1
    assert model.config.id2label == {0: "LABEL_0", 1: "LABEL_1"}


def test_residue_labels_are_aligned_to_tokens():
    split = residue_split([[0, 1, -100], [1]])
    task = training.infer_task(split, training.DataArguments(dataset_name="toy"))
    encoded = training.tokenize_split(
        split, proteinhub.ProteinTokenizer(), task, training.DataArguments(dataset_name="toy")
    )
    # <cls> residues <eos>: the special tokens get -100
    assert encoded["labels"] == [[-100, 0, 1, -100, -100], [-100, 1, -100]]
    assert encoded["input_ids"][1] == [2, 5, 3]


# metrics, hand-checked


def binary_logits(p1: list[float]) -> np.ndarray:
    p1 = np.asarray(p1)
    return np.log(np.stack([1 - p1, p1], axis=-1))


def test_binary_classification_metrics_match_hand_computation():
    # labels 0 1 1 0, P(class 1) 0.1 0.9 0.2 0.3 -> predictions 0 1 0 0: TP 1, FN 1, TN 2, FP 0
    result = metrics.classification_metrics(np.array([0, 1, 1, 0]), binary_logits([0.1, 0.9, 0.2, 0.3]))
    assert result["accuracy"] == pytest.approx(0.75)
    assert result["mcc"] == pytest.approx(2 / math.sqrt(12))  # (TP*TN - FP*FN) / sqrt(1*2*2*3)
    assert result["f1_macro"] == pytest.approx((0.8 + 2 / 3) / 2)  # class 0: 2*2/(4+1), class 1: 2/(2+1)
    assert result["roc_auc"] == pytest.approx(0.75)  # 3 of 4 (positive, negative) pairs ranked right
    assert result["pr_auc"] == pytest.approx((1 + 2 / 3) / 2)  # precision 1/1 and 2/3 at the two positives


def test_single_logit_is_a_binary_classifier():
    logits = np.array([[-2.0], [3.0], [0.5]])
    result = metrics.classification_metrics(np.array([0, 1, 0]), logits)
    assert result["accuracy"] == pytest.approx(2 / 3)
    assert result["roc_auc"] == pytest.approx(1.0)


def test_multiclass_auc_averages_the_classes_where_it_is_defined():
    labels = np.array([0, 0, 1, 1])  # class 2 never occurs: its one-vs-rest AUC is undefined and left out
    probs = np.array([[0.8, 0.1, 0.1], [0.3, 0.6, 0.1], [0.2, 0.7, 0.1], [0.5, 0.4, 0.1]])
    result = metrics.classification_metrics(labels, np.log(probs))
    # class 0 vs rest: scores 0.8 0.3 | 0.2 0.5 -> 3 of 4 pairs; class 1 vs rest: 0.7 0.4 | 0.1 0.6 -> 3 of 4
    assert result["roc_auc"] == pytest.approx(0.75)


def test_regression_metrics_match_hand_computation():
    result = metrics.regression_metrics(np.array([1.0, 2.0, 3.0, 4.0]), np.array([[1.0], [3.0], [2.0], [4.0]]))
    assert result["spearman"] == pytest.approx(0.8)  # 1 - 6 * 2 / (4 * 15)
    assert result["pearson"] == pytest.approx(0.8)
    assert result["mse"] == pytest.approx(0.5)
    assert result["mae"] == pytest.approx(0.5)


def test_residue_metrics_ignore_minus_100_positions():
    labels = np.array([[0, 1, -100], [1, 0, -100]])
    p1 = np.array([[0.2, 0.9, 0.99], [0.7, 0.4, 0.01]])  # padding positions carry confidently wrong scores
    logits = np.log(np.stack([1 - p1, p1], axis=-1))
    result = metrics.residue_classification_metrics(labels, logits)
    assert result["accuracy"] == 1.0 and result["roc_auc"] == 1.0 and result["mcc"] == 1.0
    scored_everything = metrics.classification_metrics(
        np.where(labels == -100, 0, labels).ravel(), logits.reshape(-1, 2)
    )
    assert scored_everything["accuracy"] < 1.0  # the test would notice if -100 positions were scored
    matrix = metrics.classification_confusion_matrix(labels, logits, 2)
    assert matrix.tolist() == [[2, 0], [0, 2]]


def test_residue_regression_ignores_nan_and_minus_100():
    labels = np.array([[1.0, 2.0, np.nan], [3.0, -100.0, 4.0]])
    predictions = np.array([[1.0, 2.0, 50.0], [3.0, 50.0, 4.0]])[..., None]
    result = metrics.residue_regression_metrics(labels, predictions)
    assert result["mse"] == 0.0 and result["spearman"] == pytest.approx(1.0)


# end-to-end runs on tiny FASTA files (protein_files builder)


def write_fasta(path: Path, records: list[tuple[str, str, str]], key: str) -> str:
    path.write_text("".join(f">{name} {key}={label}\n{sequence}\n" for name, sequence, label in records))
    return str(path)


def make_split_files(tmp_path: Path, task: str) -> dict[str, str]:
    """Random proteins; labels follow a simple rule so that the tiny model has something to learn."""
    generator = random.Random(0)
    files = {}
    for split, count in (("train", 16), ("validation", 6), ("test", 6)):
        records = []
        for index in range(count):
            sequence = "".join(generator.choice(RESIDUES) for _ in range(generator.randint(20, 40)))
            if task == "residue_classification":
                label = "".join("1" if residue in "DEKR" else "0" for residue in sequence)
                label = label[:-2] + "--"  # two residues without a label (-100)
            elif task == "protein_classification":
                label = ["cytoplasm", "membrane"][index % 2]
            else:
                label = f"{sum(residue in 'DEKR' for residue in sequence) / len(sequence):.3f}"
            records.append((f"{split}{index}", sequence, label))
        key = "labels" if task == "residue_classification" else "label"
        files[split] = write_fasta(tmp_path / f"{split}.fasta", records, key)
    return files


def run_tiny(tmp_path: Path, task: str, **extra) -> tuple[Path, dict]:
    output_dir = tmp_path / "run"
    values = {
        **TINY,
        "dataset_name": "protein_files",
        "dataset_config_name": task,
        "data_files": make_split_files(tmp_path, task),
        "cache_dir": str(tmp_path / "cache"),
        "output_dir": str(output_dir),
        **extra,
    }
    values = {key: value for key, value in values.items() if value is not None}  # None drops a TINY entry
    result = training.main(["--config", str(write_yaml(tmp_path / "tiny.yaml", values))])
    return output_dir, result


def test_residue_run_writes_every_artifact(tmp_path):
    output_dir, result = run_tiny(tmp_path, "residue_classification", class_weights="balanced", report_to="tensorboard")
    files = {path.name for path in output_dir.iterdir()}
    expected = {
        "model.safetensors",
        "config.json",
        "tokenizer.json",
        "tokenizer_config.json",
        "modeling_cnn.py",  # remote code
        "tokenization_protein.py",
        "metrics.json",
        "trainer_state.json",
        "run_config.yaml",
        "learning_curve_loss.png",
        "learning_curve_mcc.png",
        "confusion_matrix.png",
        "README.md",
    }
    assert expected <= files
    assert not any(name.startswith("checkpoint-") for name in files)  # deleted after training
    assert list((output_dir / "runs").rglob("events.out.tfevents.*"))  # report_to: tensorboard

    saved = json.loads((output_dir / "metrics.json").read_text())
    assert saved == json.loads(json.dumps(result))
    for split in ("validation", "test"):
        assert set(metrics.CLASSIFICATION_METRICS) <= set(saved[split])
    run = saved["run"]
    assert run["world_size"] == 1 and run["num_parameters"] > 0 and run["train_time_s"] > 0
    assert run["dataset"] == "protein_files" and run["metric_for_best_model"] == "mcc"
    # labels -: 2 of every test protein's residues are not scored
    test_residues = sum(len(line.strip()) for line in Path(tmp_path / "test.fasta").read_text().splitlines()[1::2])
    assert run["num_scored_test"] == test_residues - 2 * 6
    assert np.asarray(saved["test"]["confusion_matrix"]).sum() == run["num_scored_test"]

    config = json.loads((output_dir / "config.json").read_text())
    assert config["class_weights"] == pytest.approx(run["class_weights"]) and len(config["class_weights"]) == 2
    assert config["id2label"] == {"0": "0", "1": "1"}

    # the card's model-index holds the measured numbers
    card = ModelCard.load(output_dir / "README.md")
    measured = {(r.dataset_split, r.metric_type): r.metric_value for r in card.data.eval_results}
    for split in ("validation", "test"):
        for name in metrics.CLASSIFICATION_METRICS:
            assert measured[(split, name)] == pytest.approx(saved[split][name], abs=1e-4)
    for section in ("## Architecture", "## Training data", "## Training hyper-parameters", "## Results"):
        assert section in card.text
    assert "![confusion_matrix.png](confusion_matrix.png)" in card.text

    tagger = pipeline("token-classification", model=str(output_dir))
    predictions = tagger("MKTAYIAKQR")
    assert len(predictions) == 10 and predictions[0]["word"] == "M"


def test_run_directory_loads_without_proteinhub(tmp_path):
    output_dir, _ = run_tiny(tmp_path, "residue_classification", num_train_epochs=1)
    script = (
        "import sys; sys.modules['proteinhub'] = None\n"  # make `import proteinhub` fail
        "from transformers import AutoTokenizer, AutoModelForTokenClassification\n"
        f"tok = AutoTokenizer.from_pretrained({str(output_dir)!r}, trust_remote_code=True)\n"
        f"model = AutoModelForTokenClassification.from_pretrained({str(output_dir)!r}, trust_remote_code=True)\n"
        "print(tuple(model(**tok(['MKTAYI'], return_tensors='pt')).logits.shape))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("(1, 8, 2)")


@pytest.mark.parametrize(
    ("task", "figure", "metric"),
    [
        ("protein_classification", "confusion_matrix.png", "mcc"),
        ("protein_regression", "predictions.png", "spearman"),
    ],
)
def test_sequence_level_runs(tmp_path, task, figure, metric):
    output_dir, result = run_tiny(tmp_path, task)
    assert (output_dir / figure).is_file() and (output_dir / f"learning_curve_{metric}.png").is_file()
    assert result["run"]["task"]["level"] == "protein" and result["run"]["metric_for_best_model"] == metric
    assert result["run"]["split_sizes"] == {"train": 16, "validation": 6, "test": 6}
    config = json.loads((output_dir / "config.json").read_text())
    assert config["architectures"] == ["ProteinCNNForSequenceClassification"]
    if task == "protein_classification":
        assert config["id2label"] == {"0": "cytoplasm", "1": "membrane"}
        assert np.asarray(result["test"]["confusion_matrix"]).sum() == 6
    else:
        assert config["problem_type"] == "regression" and len(config["id2label"]) == 1  # one output


def test_fine_tuning_a_saved_run_on_another_task_needs_allow_new_head(tmp_path):
    (tmp_path / "residue").mkdir()
    (tmp_path / "sequence").mkdir()
    residue_dir, _ = run_tiny(tmp_path / "residue", "residue_classification", num_train_epochs=1)
    fine_tune = {"model": None, "config_overrides": None, "model_name_or_path": str(residue_dir)}
    with pytest.raises(ValueError, match="allow_new_head=True"):
        run_tiny(tmp_path / "sequence", "protein_classification", **fine_tune)
    output_dir, result = run_tiny(tmp_path / "sequence", "protein_classification", allow_new_head=True, **fine_tune)
    assert result["run"]["model"] == str(residue_dir)
    config = json.loads((output_dir / "config.json").read_text())
    assert config["architectures"] == ["ProteinCNNForSequenceClassification"] and config["hidden_size"] == 16
