"""`batching`: how a run forms its training batches (random, group_by_length, length_buckets, episodes) is one option
of `train.py`, honoured by `ProteinTrainer`; no script replaces a class of the package to change it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from datasets import Dataset
from proteinhub import build_preset, training
from proteinhub.training import runner
from proteinhub.training.batching import LengthBucketedSampler, length_buckets
from proteinhub.training.trainer import ProteinTrainer
from transformers.trainer_pt_utils import LengthGroupedSampler

REPO = Path(__file__).resolve().parents[1]
BASE = ["--model", "protein-cnn-small", "--dataset_name", "disorder_ldr"]


def arguments(tmp_path: Path, *extra: str):
    return training.parse_arguments([*BASE, "--output_dir", str(tmp_path), *extra])[3]


def test_batching_defaults_to_none_until_the_objective_resolves_it(tmp_path):
    args = arguments(tmp_path)
    assert args.batching is None and args.train_sampling_strategy == "random"
    runner.resolve_batching(args, "supervised")
    assert args.batching == "random"
    args = arguments(tmp_path)
    runner.resolve_batching(args, "pretraining")
    assert args.batching == "episodes"


def test_group_by_length_is_transformers_sampling_strategy(tmp_path):
    args = arguments(tmp_path, "--batching", "group_by_length")
    assert args.train_sampling_strategy == "group_by_length"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--batching", "sorted"], "batching must be one of"),
        (["--train_sampling_strategy", "group_by_length"], "set `batching` instead"),
        (["--batching", "length_buckets", "--train_sampling_strategy", "group_by_length"], "set `batching` instead"),
    ],
)
def test_bad_batching_is_refused(tmp_path, extra, message):
    with pytest.raises(ValueError, match=message):
        arguments(tmp_path, *extra)


@pytest.mark.parametrize(("batching", "objective"), [("episodes", "supervised"), ("length_buckets", "pretraining")])
def test_batching_the_objective_cannot_use_is_refused(tmp_path, batching, objective):
    args = arguments(tmp_path, "--batching", batching)
    with pytest.raises(ValueError, match="episodes are ProteinBERT's"):
        runner.resolve_batching(args, objective)


def tiny_trainer(tmp_path: Path, batching: str, lengths: list[int], batch_size: int) -> ProteinTrainer:
    rng = np.random.default_rng(0)
    dataset = Dataset.from_dict(
        {
            "input_ids": [rng.integers(5, 25, size=length).tolist() for length in lengths],
            "attention_mask": [[1] * length for length in lengths],
            "labels": [[0] * length for length in lengths],
        }
    )
    args = arguments(tmp_path, "--batching", batching, "--per_device_train_batch_size", str(batch_size), "--seed", "3")
    runner.resolve_batching(args, "supervised")
    model = build_preset("protein-cnn-small", hidden_size=8, embedding_size=4, num_layers=1)
    collator = training.ProteinDataCollator(0, torch.long)
    return ProteinTrainer(model=model, args=args, train_dataset=dataset, data_collator=collator)


def test_length_buckets_train_on_the_seed_buckets(tmp_path):
    lengths = [int(n) for n in np.random.default_rng(1).integers(5, 60, size=23)]
    trainer = tiny_trainer(tmp_path, "length_buckets", lengths, batch_size=4)
    sampler = trainer._get_train_sampler()
    assert isinstance(sampler, LengthBucketedSampler)
    expected = {tuple(sorted(bucket.tolist())) for bucket in length_buckets(lengths, 4, seed=3)}
    seen = []
    for batch in trainer.get_train_dataloader():
        batch_lengths = sorted(batch["attention_mask"].sum(1).tolist())
        seen.append(batch_lengths)
    bucket_lengths = sorted(sorted(lengths[i] for i in bucket) for bucket in expected)
    assert sorted(seen) == bucket_lengths  # every batch is one bucket of similar lengths
    assert sum(len(batch) for batch in seen) == len(lengths)


@pytest.mark.parametrize(
    ("batching", "sampler_class"),
    [("random", torch.utils.data.RandomSampler), ("group_by_length", LengthGroupedSampler)],
)
def test_other_schemes_use_transformers_samplers(tmp_path, batching, sampler_class):
    trainer = tiny_trainer(tmp_path, batching, [5, 9, 14, 30, 7, 22], batch_size=2)
    assert isinstance(trainer._get_train_sampler(), sampler_class)


def test_trainer_refuses_a_batch_sampler_without_episodes(tmp_path):
    with pytest.raises(ValueError, match="only episodes use one"):
        ProteinTrainer(
            model=build_preset("protein-cnn-small", hidden_size=8, embedding_size=4, num_layers=1),
            args=arguments(tmp_path, "--batching", "random"),
            train_batch_sampler=[[0]],
        )


def test_run_records_its_batching(tmp_path):
    """A real tiny run with the seed's buckets: metrics.json and run_config.yaml say which batches trained it."""
    output_dir = tmp_path / "run"
    config = {
        "model": "protein-cnn-small",
        "config_overrides": {"hidden_size": 8, "embedding_size": 4, "num_layers": 1},
        "dataset_name": "disorder_ldr",
        "max_train_samples": 12,
        "max_eval_samples": 8,
        "num_train_epochs": 1,
        "global_batch_size": 4,
        "batching": "length_buckets",
        "disable_tqdm": True,
        "eval_strategy": "epoch",
        "cache_dir": str(tmp_path / "cache"),
        "output_dir": str(output_dir),
    }
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump(config))
    metrics = training.main(["--config", str(path)])
    assert metrics["run"]["batching"] == "length_buckets"
    assert json.loads((output_dir / "metrics.json").read_text())["run"]["batching"] == "length_buckets"
    assert yaml.safe_load((output_dir / "run_config.yaml").read_text())["batching"] == "length_buckets"


def test_no_script_or_benchmark_assigns_to_a_package_attribute():
    """Scripts change the package's behaviour through options (`batching`), never `module.Name = Other`."""
    pattern = (
        r"^\s*(proteinhub\.)?(training|inference|hub|modeling|evaluation|dataset_scripts|runner|train)\.[A-Za-z_]+\s*="
    )
    offenders = [
        f"{path.relative_to(REPO)}:{number}"
        for folder in ("scripts", "benchmarks", "tests")
        for path in (REPO / folder).glob("*.py")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.match(pattern, line)
    ]
    assert not offenders
