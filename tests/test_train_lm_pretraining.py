"""train.py's self-supervised objectives (objectives.py) and its step learning-rate decay (trainer.py).

ProteinBERT pretraining through train.py and fine-tuning of the result; the causal-LM loss and metrics against a hand
computation; the autoencoder's reconstruction run; "x0.2 every 5 epochs" on one process and on two.
"""

from __future__ import annotations

import json
import math
import os
import random
import socket
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
import yaml
from datasets import Dataset
from proteinhub import ProteinTokenizer, training
from proteinhub.modeling.proteinbert import ProteinBertForPreTraining, ProteinBertForTokenClassification
from proteinhub.modeling.unirep import UniRepConfig, UniRepForCausalLM
from proteinhub.training import data, objectives, pretraining
from proteinhub.training.trainer import ProteinTrainer
from safetensors.torch import load_file
from transformers import AutoModel, AutoModelForPreTraining, EvalPrediction, TrainerCallback
from transformers.trainer_pt_utils import nested_concat

REPO = Path(__file__).resolve().parents[1]
RESIDUES = "ACDEFGHIKLMNPQRSTVWY"
TINY_PROTEINBERT = {"hidden_size": 16, "global_hidden_size": 32, "num_hidden_layers": 2, "attention_key_size": 8}
TINY_LSTM = {"cell": "lstm", "embedding_size": 8, "hidden_size": 16}

os.environ.setdefault("OMP_NUM_THREADS", "1")


def random_proteins(count: int, lengths: tuple[int, int], seed: int = 0) -> list[str]:
    generator = random.Random(seed)
    return ["".join(generator.choice(RESIDUES) for _ in range(generator.randint(*lengths))) for _ in range(count)]


def write_fasta(path: Path, sequences: list[str], labels: list[str] | None = None) -> str:
    headers = [f">p{i}" + (f" labels={labels[i]}" if labels else "") for i in range(len(sequences))]
    path.write_text("".join(f"{header}\n{sequence}\n" for header, sequence in zip(headers, sequences)))
    return str(path)


def run_train(tmp_path: Path, name: str, values: dict) -> tuple[Path, dict]:
    output_dir = tmp_path / name
    values = {"cache_dir": str(tmp_path / "cache"), "output_dir": str(output_dir), "disable_tqdm": True, **values}
    config = tmp_path / f"{name}.yaml"
    config.write_text(yaml.safe_dump(values, sort_keys=False))
    return output_dir, training.main(["--config", str(config)])


# ProteinBERT pretraining


@pytest.mark.parametrize(("objective_kwargs", "token_noise"), [({}, 0.05), ({"token_noise": 0.2}, 0.2)])
def test_pretraining_batches_corrupt_the_configured_share_of_tokens(objective_kwargs, token_noise):
    sequences = random_proteins(120, (150, 400))
    raw = {"train": Dataset.from_dict({"id": [f"p{i}" for i in range(120)], "sequence": sequences})}
    data_args = training.DataArguments(dataset_name="toy", objective="pretraining", objective_kwargs=objective_kwargs)
    corpora, collator, sampler, names = objectives.pretraining_data(
        raw, ProteinTokenizer(), data_args, SimpleNamespace(seed=0, process_index=0), None
    )
    assert names == [] and collator.num_annotations == 1
    batches = [collator([corpora["train"][key] for key in keys]) for keys in sampler]
    clean = torch.cat([b["labels"].masked_fill(b["labels"] == -100, 0).flatten() for b in batches])
    noisy = torch.cat([b["input_ids"].flatten() for b in batches])
    # every position (padding included) is replaced with p = token_noise by one of 26 tokens, one of them itself
    changed = (noisy != clean).float().mean().item()
    assert math.isclose(changed, token_noise * 25 / 26, rel_tol=0.1), changed
    # the original episodes: each batch holds one episode's sequence length and at most its batch size
    sizes = dict(pretraining.ORIGINAL_EPISODES)
    assert all(len(batch["input_ids"]) <= sizes[batch["input_ids"].shape[1]] for batch in batches)


def pretraining_run(tmp_path: Path, name: str = "pretrain", **extra) -> tuple[Path, dict]:
    sequences = random_proteins(32, (20, 90), seed=1)
    table = tmp_path / "go.tsv"
    table.write_text("id\tannotations\n" + "".join(f"p{i}\tGO:1,GO:{2 + i % 3}\n" for i in range(32)))
    values = {
        "model": "proteinbert-base",
        "config_overrides": TINY_PROTEINBERT,
        "dataset_name": "protein_fasta",
        "data_files": write_fasta(tmp_path / "corpus.fasta", sequences),
        "validation_fraction": 0.125,
        "test_fraction": 0.0,
        "objective": "pretraining",
        "objective_kwargs": {
            "annotation_table": str(table),
            "min_annotation_records": 4,
            "episodes": [[32, 8], [64, 4]],
            "batches_per_episode": 2,
        },
        "max_steps": 40,
        "learning_rate": 3e-3,
        "lr_scheduler_type": "constant",
        "logging_steps": 5,
        "save_strategy": "no",
        "seed": 0,
        **extra,
    }
    return run_train(tmp_path, name, values)


def test_pretraining_learns_and_its_model_fine_tunes(tmp_path):
    output_dir, metrics = pretraining_run(tmp_path)
    history = json.loads((output_dir / "trainer_state.json").read_text())["log_history"]
    losses = [entry["loss"] for entry in history if "loss" in entry]
    assert len(losses) == 8 and sum(losses[-2:]) < 0.8 * sum(losses[:2]), losses
    assert metrics["run"]["objective"] == "pretraining"
    assert metrics["run"]["split_sizes"] == {"train": 28, "validation": 4}
    assert 0.0 <= metrics["validation"]["accuracy"] <= 1.0 and metrics["train"]["global_steps"] == 40
    assert json.loads((output_dir / "annotations.json").read_text()) == ["GO:1", "GO:2", "GO:3", "GO:4"]
    model = AutoModelForPreTraining.from_pretrained(output_dir)
    assert isinstance(model, ProteinBertForPreTraining) and model.config.num_annotations == 4
    assert json.loads((output_dir / "config.json").read_text())["auto_map"]["AutoModelForPreTraining"]

    # fine-tuning the pretrained backbone on a residue task (learning rate 0: the backbone must come out unchanged)
    generator = random.Random(2)
    files = {}
    for split, count in (("train", 8), ("validation", 4), ("test", 4)):
        sequences = random_proteins(count, (15, 30), seed=generator.randint(0, 99))
        labels = ["".join("1" if r in "DEKR" else "0" for r in s) for s in sequences]
        files[split] = write_fasta(tmp_path / f"{split}.fasta", sequences, labels)
    fine_tune = {
        "model_name_or_path": str(output_dir),
        "dataset_name": "protein_files",
        "dataset_config_name": "residue_classification",
        "data_files": files,
        "num_train_epochs": 1,
        "learning_rate": 0.0,
        "global_batch_size": 4,
        "save_strategy": "no",
    }
    tuned_dir, tuned = run_train(tmp_path, "fine_tuned", {**fine_tune, "allow_new_head": True})
    assert tuned["run"]["model_class"] == "ProteinBertForTokenClassification"
    pretrained, fine_tuned = load_file(output_dir / "model.safetensors"), load_file(tuned_dir / "model.safetensors")
    shared = [key for key in fine_tuned if key.startswith("proteinbert.")]
    assert len(shared) > 20 and all(torch.equal(fine_tuned[key], pretrained[key]) for key in shared)
    assert isinstance(ProteinBertForTokenClassification.from_pretrained(tuned_dir), ProteinBertForTokenClassification)


# causal language model


def test_causal_lm_loss_and_metrics_match_a_hand_computation():
    torch.manual_seed(0)
    model = UniRepForCausalLM(UniRepConfig(**TINY_LSTM)).eval()
    tokenizer = ProteinTokenizer(**model.config.tokenizer_kwargs)
    sequences = ["MKTAYIAKQR", "MSSHE", "MKV"]
    split = Dataset.from_dict({"id": ["a", "b", "c"], "sequence": sequences})
    tokenized = data.tokenize_sequences(split, tokenizer, training.DataArguments(dataset_name="toy"), None)
    collate = training.ProteinDataCollator(tokenizer.pad_token_id, torch.long)
    batch = collate(list(tokenized))
    with torch.no_grad():
        output = model(**batch)

    # by hand: each protein scores its own next token at every position but the last (<cls> M ... <eos>)
    terms, hits = [], []
    for row, sequence in enumerate(sequences):
        ids = [tokenizer.cls_token_id, *tokenizer.convert_tokens_to_ids(list(sequence)), tokenizer.eos_token_id]
        for t in range(len(ids) - 1):
            terms.append(-output.logits[row, t].log_softmax(-1)[ids[t + 1]])
            hits.append(float(output.logits[row, t].argmax() == ids[t + 1]))
    expected = torch.stack(terms).mean()
    assert len(terms) == 11 + 6 + 4
    assert output.loss.item() == pytest.approx(expected.item(), abs=1e-6)

    # evaluation: per-batch reduction, batches of other widths padded with -100 as Trainer concatenates them
    parts = [(0, 2), (2, 3)]
    values = labels = None
    for start, stop in parts:
        part = collate(list(tokenized.select(range(start, stop))))
        with torch.no_grad():
            logits = model(**part).logits
        reduced = objectives.token_predictions(logits, part["labels"], shift=True)
        values = nested_concat(values, reduced, padding_index=-100) if values is not None else reduced
        labels = nested_concat(labels, part["labels"], padding_index=-100) if labels is not None else part["labels"]
    metrics = objectives.token_metrics(EvalPrediction(values.numpy(), labels.numpy()), shift=True)
    assert metrics["cross_entropy"] == pytest.approx(expected.item(), rel=1e-5)
    assert metrics["accuracy"] == pytest.approx(sum(hits) / len(hits))
    assert metrics["perplexity"] == pytest.approx(math.exp(expected.item()), rel=1e-5)


def lm_values(tmp_path: Path, **extra) -> dict:
    return {
        "model": "unirep-lstm-1x256",
        "config_overrides": {"embedding_size": 8, "hidden_size": 16},
        "dataset_name": "protein_fasta",
        "data_files": write_fasta(tmp_path / "lm.fasta", random_proteins(24, (20, 60), seed=3)),
        "dataset_config_kwargs": {"validation_fraction": 0.2},
        "test_fraction": 0.2,
        "objective": "causal_lm",
        "num_train_epochs": 2,
        "global_batch_size": 4,
        "learning_rate": 1e-2,
        "lr_scheduler_type": "constant",
        "eval_strategy": "epoch",
        "save_strategy": "epoch",
        "logging_strategy": "epoch",
        "load_best_model_at_end": True,
        "save_total_limit": 1,
        "seed": 0,
        **extra,
    }


def test_causal_lm_run_writes_a_causal_lm_that_loads(tmp_path):
    output_dir, metrics = run_train(tmp_path, "lm", lm_values(tmp_path))
    assert metrics["run"]["metric_for_best_model"] == "loss" and metrics["run"]["model_class"] == "UniRepForCausalLM"
    for split in ("validation", "test"):
        assert {"loss", "accuracy", "cross_entropy", "perplexity"} <= set(metrics[split])
        # the model's loss is a mean of batch means, cross_entropy one mean over all tokens: close, not equal
        assert metrics[split]["cross_entropy"] == pytest.approx(metrics[split]["loss"], rel=0.05)
    assert {"learning_curve_loss.png", "learning_curve_accuracy.png", "metrics.json"} <= set(os.listdir(output_dir))
    assert not list(output_dir.glob("checkpoint-*"))
    config = json.loads((output_dir / "config.json").read_text())
    assert config["architectures"] == ["UniRepForCausalLM"] and "AutoModelForCausalLM" in config["auto_map"]


# autoencoder


def test_reconstruction_run_and_refusals(tmp_path):
    values = lm_values(
        tmp_path,
        model="cnn-autoencoder-2x50",
        config_overrides={"sequence_length": 64, "latent_length": 8},
        objective="reconstruction",
        num_train_epochs=1,
    )
    output_dir, metrics = run_train(tmp_path, "autoencoder", values)
    assert 0.0 <= metrics["test"]["accuracy"] <= 1.0 and metrics["run"]["model_class"] == "CNNAutoencoderModel"
    assert type(AutoModel.from_pretrained(output_dir)).__name__ == "CNNAutoencoderModel"
    with pytest.raises(ValueError, match=r"unirep.*no AutoModel head with a loss.*\['cnn_autoencoder'\]"):
        run_train(tmp_path, "refused", {**values, "model": "unirep-lstm-1x256", "config_overrides": TINY_LSTM})
    with pytest.raises(ValueError, match="takes no objective_kwargs"):
        run_train(tmp_path, "refused", {**values, "objective_kwargs": {"token_noise": 0.1}})


# the step learning-rate decay


class LearningRates(TrainerCallback):
    """The learning rate of every optimiser step, by the number of steps done before it."""

    def __init__(self):
        self.by_step = {}

    def on_step_begin(self, args, state, control, optimizer=None, **kwargs):
        self.by_step[state.global_step] = optimizer.param_groups[0]["lr"]


@pytest.mark.parametrize(("batch_size", "accumulation", "steps_per_epoch"), [(2, 1, 3), (2, 2, 2), (4, 1, 2)])
def test_step_decay_multiplies_the_learning_rate_every_five_epochs(tmp_path, batch_size, accumulation, steps_per_epoch):
    tokenizer = ProteinTokenizer()
    encoding = tokenizer(random_proteins(6, (5, 9)))
    data = [{"input_ids": ids, "attention_mask": [1] * len(ids), "labels": ids} for ids in encoding["input_ids"]]
    args = training.ProteinTrainingArguments(
        output_dir=str(tmp_path),
        num_train_epochs=11,
        per_device_train_batch_size=batch_size,
        gradient_accumulation_steps=accumulation,
        learning_rate=1e-3,
        lr_scheduler_type="constant",
        lr_decay_factor=0.2,
        lr_decay_every_epochs=5,
        save_strategy="no",
        report_to="none",
        disable_tqdm=True,
    )
    rates = LearningRates()
    trainer = ProteinTrainer(
        model=UniRepForCausalLM(UniRepConfig(**TINY_LSTM)),
        args=args,
        train_dataset=data,
        data_collator=training.ProteinDataCollator(tokenizer.pad_token_id, torch.long),
        callbacks=[rates],
    )
    trainer.train()
    assert trainer.num_update_steps_per_epoch == steps_per_epoch
    assert len(rates.by_step) == 11 * steps_per_epoch
    for step, rate in rates.by_step.items():
        assert rate == pytest.approx(1e-3 * 0.2 ** (step // steps_per_epoch // 5)), step
    assert rates.by_step[5 * steps_per_epoch] == pytest.approx(2e-4)  # x0.2 after 5 epochs
    assert rates.by_step[10 * steps_per_epoch] == pytest.approx(4e-5)  # x0.04 after 10


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"lr_decay_factor": 0.2}, "go together"),
        ({"lr_decay_factor": 0.2, "lr_decay_every_epochs": 5}, "set lr_scheduler_type to constant"),
        ({"lr_decay_factor": 1.5, "lr_decay_every_epochs": 5, "lr_scheduler_type": "constant"}, r"in \(0, 1\]"),
        ({"objective": "masked_lm"}, "objective must be one of"),
    ],
)
def test_bad_schedule_and_objective_options_are_refused(values, message):
    argv = ["--model", "unirep", "--dataset_name", "protein_fasta"]
    for key, value in values.items():
        argv += [f"--{key}", str(value)]
    with pytest.raises(ValueError, match=message):
        training.parse_arguments(argv)


def test_representation_configs_parse():
    """Every train.py config of configs/representation (reproduce.yaml belongs to its script) and pretrain_tiny."""
    folder = REPO / "configs" / "representation"
    paths = sorted(set(folder.glob("*.yaml")) - {folder / "reproduce.yaml"})
    assert len(paths) >= 10
    for path in [*paths, REPO / "configs" / "proteinbert" / "pretrain_tiny.yaml"]:
        model_args, data_args, _, training_args, _ = training.parse_arguments(["--config", str(path)])
        assert data_args.objective in ("causal_lm", "reconstruction", "pretraining"), path
        family, _ = training.resolve_model_name(model_args.model)
        objectives.OBJECTIVES[data_args.objective].model_class(family)


@pytest.mark.slow
def test_step_decay_counts_epochs_per_process_under_accelerate(tmp_path):
    """Two processes halve the steps of an epoch; the decay must still come after 5 epochs (~30 s on 2 cores)."""
    values = lm_values(tmp_path, num_train_epochs=6, lr_decay_factor=0.2, lr_decay_every_epochs=5)
    values.update(cache_dir=str(tmp_path / "cache"), output_dir=str(tmp_path / "multi"), disable_tqdm=True)
    config = tmp_path / "ddp.yaml"
    config.write_text(yaml.safe_dump(values, sort_keys=False))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2"]
    command += ["--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no"]
    command += ["--main_process_port", str(port), str(REPO / "train.py"), "--config", str(config)]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    metrics = json.loads((tmp_path / "multi" / "metrics.json").read_text())
    assert metrics["run"]["world_size"] == 2
    history = json.loads((tmp_path / "multi" / "trainer_state.json").read_text())["log_history"]
    # logged at the end of each epoch: the rate of its last step
    rates = {round(entry["epoch"]): entry["learning_rate"] for entry in history if "learning_rate" in entry}
    assert rates == pytest.approx({1: 1e-2, 2: 1e-2, 3: 1e-2, 4: 1e-2, 5: 1e-2, 6: 2e-3})
