"""Train a proteinhub model with the Hugging Face `Trainer`: the one `run()` behind `train.py`.

    accelerate launch train.py --config configs/quickstart.yaml [--num_train_epochs 2 ...]
    python train.py --config configs/quickstart.yaml
    proteinhub train --config quickstart

Arguments come from four dataclasses (arguments.py). `run()` loads the dataset, lets the objective (objectives.py:
supervised by default, or causal_lm / reconstruction / pretraining from the sequences alone) prepare the model, the
tokenized splits and the metrics, trains with `ProteinTrainer` (trainer.py: `batching`, step learning-rate decay),
evaluates the kept checkpoint on validation and test, and writes the run directory (`output_dir`): the model with its
remote code, the tokenizer, `metrics.json`, `run_config.yaml`, learning curves, the objective's figures (a confusion
matrix or scatter plot) and model card (README.md); then pushes it if `push_to_hub` names a repository.
"""

from __future__ import annotations

import json
import math
import os
import platform
import shutil
import socket
import time
from pathlib import Path

import numpy as np
import torch
import yaml
from transformers import EarlyStoppingCallback, Trainer, set_seed

from .. import __version__, hub
from ..evaluation.metrics import CLASSIFICATION_METRICS, REGRESSION_METRICS
from . import plots
from .arguments import (
    MINIMISED,
    DataArguments,
    LossArguments,
    ModelArguments,
    ProteinTrainingArguments,
    parse_arguments,
)
from .data import load_splits
from .objectives import OBJECTIVES, Objective, Prepared
from .trainer import ProteinTrainer

# the metrics columns of the summary printed at the end of a run, in this order where present
SUMMARY_METRICS = ("loss", *CLASSIFICATION_METRICS, *REGRESSION_METRICS, "cross_entropy", "perplexity")


# entry point


def run(
    model_args: ModelArguments,
    data_args: DataArguments,
    loss_args: LossArguments,
    training_args: ProteinTrainingArguments,
    run_values: dict | None = None,
) -> dict:
    """Train `data_args.objective`, evaluate on validation and test, write the run directory; returns metrics.json."""
    objective = OBJECTIVES[data_args.objective]
    objective.check(data_args, loss_args)
    resolve_batching(training_args, objective.name)
    started = time.perf_counter()
    repo_id = check_push_access(training_args)
    set_seed(training_args.seed)
    with training_args.main_process_first(desc="loading the dataset"):
        raw = load_splits(data_args, training_args.seed)
    objective.check_splits(raw, data_args)
    prepared = objective.prepare(raw, model_args, data_args, loss_args, training_args)

    if training_args.metric_for_best_model == "auto":
        # resolved here because the task is known only now
        training_args.metric_for_best_model = prepared.default_metric
        training_args.greater_is_better = prepared.default_metric not in (*MINIMISED, "loss")
    trainer = ProteinTrainer(
        model=prepared.model,
        args=training_args,
        train_dataset=prepared.splits["train"],
        eval_dataset=prepared.splits.get("validation"),
        data_collator=prepared.collator,
        processing_class=prepared.tokenizer,
        compute_metrics=prepared.compute_metrics,
        preprocess_logits_for_metrics=prepared.preprocess_logits_for_metrics,
        callbacks=early_stopping_callbacks(training_args),
        logits_key=prepared.logits_key,
        train_batch_sampler=prepared.train_batch_sampler,
    )
    train_started = time.perf_counter()
    train_result = trainer.train()
    train_seconds = time.perf_counter() - train_started

    # the best model (load_best_model_at_end), once on each held-out split; in DDP every process gets all predictions
    outputs = {
        split: trainer.predict(prepared.splits[split], metric_key_prefix=split)
        for split in ("validation", "test")
        if split in prepared.splits
    }
    metrics = {split: split_metrics(output.metrics, split) for split, output in outputs.items()}
    metrics["train"] = train_summary(trainer, train_result, train_seconds)
    metrics["run"] = {
        **run_record(trainer, model_args, data_args, raw, train_seconds, run_values),
        **prepared.run_fields,
    }
    metrics["run"]["total_time_s"] = time.perf_counter() - started
    metrics = json_safe(metrics)
    if trainer.is_world_process_zero():
        write_run_directory(trainer, objective, prepared, metrics, outputs.get("test"), raw["train"].info)
    finish_run(trainer, repo_id)
    return metrics


# run helpers


def resolve_batching(training_args: ProteinTrainingArguments, objective: str) -> None:
    """Set the default `batching` of the objective (episodes for ProteinBERT's pretraining, random otherwise) and
    refuse a scheme the objective cannot use."""
    episodes = objective == "pretraining"
    if training_args.batching is None:
        training_args.batching = "episodes" if episodes else "random"
    if (training_args.batching == "episodes") != episodes:
        raise ValueError(
            f"batching={training_args.batching!r} with objective={objective!r}: episodes are ProteinBERT's "
            "pretraining batches, and the pretraining objective forms its batches only that way"
        )


def check_push_access(training_args: ProteinTrainingArguments) -> str | None:
    """The Hub repository to push the run to (checked before training, so that a bad token fails at once), or None."""
    if not training_args.push_to_hub_repo:
        return None
    return hub.check_push_access(training_args.push_to_hub_repo, training_args.hub_token)


def early_stopping_callbacks(training_args: ProteinTrainingArguments) -> list:
    if training_args.early_stopping_patience is None:
        return []
    return [EarlyStoppingCallback(training_args.early_stopping_patience, training_args.early_stopping_threshold)]


def train_summary(trainer: Trainer, train_result, train_seconds: float) -> dict:
    """The `train` block of metrics.json."""
    return {
        "loss": train_result.training_loss,
        "runtime_s": train_seconds,
        "epochs": trainer.state.epoch,
        "global_steps": trainer.state.global_step,
        "best_metric": trainer.state.best_metric,
        "best_checkpoint_epoch": _best_epoch(trainer),
    }


def run_record(
    trainer: Trainer, model_args: ModelArguments, data_args: DataArguments, raw: dict, train_seconds: float, run_values
) -> dict:
    """The `run` block of metrics.json that every objective shares: data, model, optimisation, processes, versions."""
    training_args, model = trainer.args, trainer.model
    return {
        "dataset": data_args.dataset_name,
        "dataset_config": data_args.dataset_config_name,
        "objective": data_args.objective,
        "split_sizes": {name: len(split) for name, split in raw.items()},
        "model": model_args.model or model_args.model_name_or_path,
        "model_type": model.config.model_type,
        "model_class": type(model).__name__,
        "num_parameters": sum(p.numel() for p in model.parameters()),
        "metric_for_best_model": training_args.metric_for_best_model.removeprefix("eval_"),
        "global_batch_size": training_args.per_device_train_batch_size
        * training_args.world_size
        * training_args.gradient_accumulation_steps,
        "batching": training_args.batching,
        "learning_rate": training_args.learning_rate,
        "lr_decay": None
        if training_args.lr_decay_factor is None
        else {"factor": training_args.lr_decay_factor, "every_epochs": training_args.lr_decay_every_epochs},
        "seed": training_args.seed,
        "world_size": training_args.world_size,
        "distributed_type": str(trainer.accelerator.distributed_type),
        "processes": _process_info(),
        "device": str(training_args.device),
        "train_time_s": train_seconds,
        "versions": {
            "proteinhub": __version__,
            "torch": torch.__version__,
            "transformers": _version("transformers"),
            "datasets": _version("datasets"),
            "python": platform.python_version(),
        },
        # a token given on the command line must not land in the run directory (nor, so, on the Hub)
        "arguments": {key: value for key, value in (run_values or {}).items() if not key.endswith("token")},
    }


def finish_run(trainer: Trainer, repo_id: str | None) -> None:
    """Push the written run directory (process 0) and wait until every process is done."""
    args = trainer.args
    if repo_id is not None and trainer.is_world_process_zero():
        hub.push_run(
            args.output_dir, repo_id, private=args.hub_private_repo, revision=args.hub_revision, token=args.hub_token
        )
    trainer.accelerator.wait_for_everyone()


def write_run_directory(
    trainer: Trainer, objective: Objective, prepared: Prepared, metrics: dict, test_output, dataset_info
) -> None:
    """Model + code, tokenizer, extra files, trainer state, run_config.yaml, figures, metrics.json and the model card
    in output_dir; checkpoint folders are removed unless `keep_checkpoints`. The objective's figures may add to
    `metrics` (the test confusion matrix)."""
    args = trainer.args
    output_dir = Path(args.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    save_model_with_code(trainer.model, prepared.tokenizer, output_dir, prepared.auto_class)
    for name, text in prepared.extra_files.items():
        (output_dir / name).write_text(text)
    trainer.save_state()
    run = metrics["run"]
    (output_dir / "run_config.yaml").write_text(yaml.safe_dump(run["arguments"], sort_keys=False))

    if objective.curve_metric is None:
        curve_metric, greater_is_better = run["metric_for_best_model"], args.greater_is_better
    else:
        curve_metric, greater_is_better = objective.curve_metric, True
    figures = plots.plot_learning_curves(
        trainer.state.log_history, output_dir, curve_metric, greater_is_better=greater_is_better
    )
    figures += objective.figures(prepared, metrics, test_output, output_dir)
    (output_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    objective.write_card(trainer, prepared, metrics, dataset_info, figures)
    if not args.keep_checkpoints:
        for checkpoint in output_dir.glob("checkpoint-*"):
            shutil.rmtree(checkpoint, ignore_errors=True)
    print_summary(metrics, objective.name, output_dir)


def save_model_with_code(model, tokenizer, output_dir: str | os.PathLike, auto_class: str) -> None:
    """`save_pretrained` of model and tokenizer with their code, so that the folder loads with
    `trust_remote_code=True` where proteinhub is not installed; the Auto-class registrations are restored after."""
    model_class, tokenizer_class = type(model), type(tokenizer)
    saved = model_class._auto_class, tokenizer_class._auto_class
    model_class.register_for_auto_class(auto_class)
    tokenizer_class.register_for_auto_class("AutoTokenizer")
    try:
        model.save_pretrained(output_dir)
        tokenizer.save_pretrained(output_dir)
    finally:
        model_class._auto_class, tokenizer_class._auto_class = saved


# reporting


def split_metrics(raw: dict, prefix: str) -> dict:
    return {key.removeprefix(f"{prefix}_"): value for key, value in raw.items()}


def json_safe(value):
    """NaN/inf become null (JSON has no NaN); numpy scalars become Python numbers."""
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _process_info() -> list[dict]:
    """Rank, pid and host of every process of the run (gathered over the process group when there is one)."""
    info = {"rank": int(os.environ.get("RANK", "0")), "pid": os.getpid(), "host": socket.gethostname()}
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        gathered: list = [None] * torch.distributed.get_world_size()
        torch.distributed.all_gather_object(gathered, info)
        return gathered
    return [info]


def print_summary(metrics: dict, objective: str, output_dir: str | os.PathLike) -> None:
    """A small table of the final metrics per held-out split."""
    rows = [(split, metrics[split]) for split in ("validation", "test") if split in metrics]
    names = [name for name in SUMMARY_METRICS if any(name in values for _, values in rows)]
    scored = metrics["run"].get("num_scored_test")
    counted = "" if scored is None else f", {scored} scored test items"
    print(f"\n{objective}: {metrics['train']['global_steps']} steps{counted}; run directory: {output_dir}")
    print(f"{'split':<12}" + "".join(f"{name:>14}" for name in names))
    for split, values in rows:
        cells = [values.get(name) for name in names]
        print(f"{split:<12}" + "".join(f"{'-':>14}" if c is None else f"{c:>14.4f}" for c in cells))


def _best_epoch(trainer: Trainer) -> float | None:
    best = trainer.state.best_model_checkpoint
    if best is None:
        return None
    step = int(Path(best).name.rpartition("-")[2])
    return next((entry["epoch"] for entry in trainer.state.log_history if entry.get("step") == step), None)


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


def main(argv: list[str] | None = None) -> dict:
    """Command-line entry point (also `proteinhub train`)."""
    model_args, data_args, loss_args, training_args, values = parse_arguments(argv)
    return run(model_args, data_args, loss_args, training_args, values)
