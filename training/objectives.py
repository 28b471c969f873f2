"""The self-supervised objectives of train.py (`--objective`): models trained on unlabelled protein sequences.

| objective | model (Auto class) | input -> target |
|---|---|---|
| `causal_lm` | AutoModelForCausalLM (`unirep`) | tokens -> the next token |
| `reconstruction` | AutoModel with a reconstruction loss (`cnn_autoencoder`) | tokens -> the same tokens |
| `pretraining` | AutoModelForPreTraining (`proteinbert`) | corrupted tokens + GO annotations -> the clean ones |

    python train.py --config configs/representation/lstm-lm-cpu.yaml
    accelerate launch train.py --config configs/proteinbert/pretrain_tiny.yaml

The loss is the model's own (UniRep: mean next-token cross-entropy; the autoencoder: mean reconstruction
cross-entropy; ProteinBERT: `pretraining_loss`, the original's Keras normalisation). `accuracy` and `cross_entropy`
(nats per scored token; `perplexity` = exp of it) are computed over the scored tokens of the whole evaluation split:
for `causal_lm` every token after the first (`<eos>` included), otherwise every non-padding token. The data are any
train.py dataset with a sequence column (`protein_fasta` for FASTA files, with the seed's length and letter
filters); validation and test are held out of `train` as in supervised runs (`validation_fraction`,
`test_fraction`, 0 for none) and the best checkpoint is chosen on the validation loss unless `metric_for_best_model`
says otherwise. The run directory holds the model with its remote code (it loads with its Auto class, and train.py
fine-tunes it with `model_name_or_path` + `allow_new_head`), the tokenizer, `metrics.json`, learning curves and
`run_config.yaml` (ProteinBERT adds `annotations.json`, its annotation vector).
"""

from __future__ import annotations

import inspect
import json
import math
import os
import shutil
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import torch
import torch.nn.functional as F
import yaml
from transformers import EvalPrediction, PreTrainedModel, set_seed

from ..modeling.registry import FAMILIES
from ..modeling.tasks import IGNORE_INDEX
from ..tokenization import ProteinTokenizer
from . import plots
from . import runner as train
from .trainer import ProteinTrainer


@dataclass(frozen=True)
class Objective:
    """A self-supervised objective.

    Args:
        name: the value of `--objective`.
        auto_class: the head it trains, by Auto class.
        logits_key: the model output scored by `accuracy` / `cross_entropy`.
        shift: targets are the next tokens (the logits at t score the token at t + 1).
        takes_labels: the model's forward must accept `labels` (an AutoModel does only if it has a loss).
    """

    name: str
    auto_class: str
    logits_key: str
    shift: bool = False
    takes_labels: bool = True


OBJECTIVES = {
    objective.name: objective
    for objective in (
        Objective("causal_lm", "AutoModelForCausalLM", "logits", shift=True),
        Objective("reconstruction", "AutoModel", "reconstruction_logits"),
        Objective("pretraining", "AutoModelForPreTraining", "logits"),
    )
}


def model_class_for(family, objective: Objective) -> type[PreTrainedModel]:
    """The family's model class for `objective`, or an error naming the families that have one."""

    def fits(candidate) -> bool:
        model_class = candidate.models.get(objective.auto_class)
        return model_class is not None and (
            not objective.takes_labels or "labels" in inspect.signature(model_class.forward).parameters
        )

    if not fits(family):
        able = sorted(candidate.model_type for candidate in FAMILIES.values() if fits(candidate))
        raise ValueError(
            f"model type {family.model_type!r} has no {objective.auto_class} head with a loss for the "
            f"{objective.name} objective; model types that have one: {able}"
        )
    return family.models[objective.auto_class]


# metrics


def token_predictions(logits, labels, *, shift: bool) -> torch.Tensor:
    """(batch, length, 2): per position the predicted token id and the cross-entropy of the target token, computed
    batch by batch so that evaluation gathers two numbers per position instead of the vocabulary's logits."""
    labels = labels[0] if isinstance(labels, tuple | list) else labels
    targets = labels[:, 1:] if shift else labels
    scored = logits[:, :-1] if shift else logits
    # (batch, length - shift); the -100 targets get a dummy class here and are left out in `token_metrics`
    nll = F.cross_entropy(scored.float().transpose(1, 2), targets.clamp(min=0), reduction="none")
    if shift:
        nll = F.pad(nll, (0, 1))
    return torch.stack([logits.argmax(-1).float(), nll], -1)


def token_metrics(prediction: EvalPrediction, *, shift: bool) -> dict:
    """accuracy, cross_entropy (mean over scored tokens, nats) and perplexity from `token_predictions` output."""
    labels = prediction.label_ids
    labels = labels[0] if isinstance(labels, tuple | list) else labels
    values = prediction.predictions
    if shift:
        values, labels = values[:, :-1], labels[:, 1:]
    scored = labels != IGNORE_INDEX
    if not scored.any():
        return {}
    cross_entropy = float(values[..., 1][scored].mean())
    return {
        "accuracy": float((values[..., 0][scored] == labels[scored]).mean()),
        "cross_entropy": cross_entropy,
        "perplexity": math.exp(min(cross_entropy, 700.0)),  # exp overflows a float beyond ~709
    }


# data


def tokenize_sequences(split, tokenizer: ProteinTokenizer, data_args, max_length: int | None):
    """input_ids / attention_mask and labels = input_ids (the model shifts them, or reconstructs them)."""
    column = data_args.sequence_column

    def encode(batch: dict) -> dict:
        encoding = tokenizer(batch[column], truncation=max_length is not None, max_length=max_length)
        return {**encoding, "labels": encoding["input_ids"]}

    return split.map(encode, batched=True, remove_columns=split.column_names, desc="tokenizing")


def _check_columns(split, data_args, columns: tuple[str, ...]) -> None:
    missing = [column for column in columns if column not in split.features]
    if missing:
        raise ValueError(
            f"dataset {data_args.dataset_name!r} has no column(s) {missing} (columns: {sorted(split.features)}); "
            "name them with --sequence_column / --id_column"
        )


def _max_length(*limits: int | None) -> int | None:
    given = [limit for limit in limits if limit is not None]
    return min(given) if given else None


# entry point


def run(model_args, data_args, loss_args, training_args, run_values: dict | None = None) -> dict:
    """Train `data_args.objective`, evaluate on validation and test, write the run directory; returns metrics.json."""
    objective = OBJECTIVES[data_args.objective]
    if loss_args.class_weights is not None:
        raise ValueError(f"class_weights weigh the classes of labelled data; the {objective.name} objective has none")
    if loss_args.label_smoothing and objective.name != "causal_lm":
        raise ValueError(f"label_smoothing applies to supervised and causal_lm runs, not to {objective.name}")
    if data_args.objective_kwargs and objective.name != "pretraining":
        raise ValueError(f"the {objective.name} objective takes no objective_kwargs, got {data_args.objective_kwargs}")
    started = time.perf_counter()
    repo_id = train.check_push_access(training_args)
    set_seed(training_args.seed)
    with training_args.main_process_first(desc="loading the dataset"):
        raw = train.load_splits(data_args, training_args.seed)

    # the model's config first: it frames the tokens, and ProteinBERT's annotation count comes from the corpus
    overrides = dict(model_args.config_overrides or {})
    if loss_args.label_smoothing:
        overrides["label_smoothing"] = loss_args.label_smoothing
    family, config = model_config(model_args, overrides)
    model_class = model_class_for(family, objective)
    tokenizer = ProteinTokenizer(**config.tokenizer_kwargs)

    extra_files, config_kwargs, trainer_kwargs = {}, {}, {}
    path = model_args.model_name_or_path
    with training_args.main_process_first(desc="tokenizing"):
        if objective.name == "pretraining":
            splits, collator, sampler, names = pretraining_data(raw, tokenizer, data_args, training_args, path)
            extra_files["annotations.json"] = json.dumps(names) + "\n"
            config_kwargs["num_annotations"] = max(len(names), 1)  # a model needs at least one annotation unit
            trainer_kwargs["train_batch_sampler"] = sampler
            # PretrainingCorpus items carry annotation_ids and the episode's seq_len for the collator
            training_args.remove_unused_columns = False
        else:
            _check_columns(raw["train"], data_args, (data_args.sequence_column,))
            max_length = _max_length(data_args.max_length, config.max_length)
            splits = {name: tokenize_sequences(split, tokenizer, data_args, max_length) for name, split in raw.items()}
            collator = train.ProteinDataCollator(tokenizer.pad_token_id, torch.long)
    model = build_model(model_args, model_class, config, overrides, config_kwargs)

    if training_args.metric_for_best_model == "auto":
        training_args.metric_for_best_model, training_args.greater_is_better = "loss", False
    trainer = ProteinTrainer(
        model=model,
        args=training_args,
        train_dataset=splits["train"],
        eval_dataset=splits.get("validation"),
        data_collator=collator,
        processing_class=tokenizer,
        compute_metrics=partial(token_metrics, shift=objective.shift),
        preprocess_logits_for_metrics=partial(token_predictions, shift=objective.shift),
        callbacks=train.early_stopping_callbacks(training_args),
        logits_key=objective.logits_key,
        **trainer_kwargs,
    )
    train_started = time.perf_counter()
    train_result = trainer.train()
    train_seconds = time.perf_counter() - train_started

    # the best model (load_best_model_at_end) on each held-out split
    metrics = {
        split: train.split_metrics(trainer.evaluate(splits[split], metric_key_prefix=split), split)
        for split in ("validation", "test")
        if split in splits
    }
    metrics["train"] = train.train_summary(trainer, train_result, train_seconds)
    metrics["run"] = train.run_record(trainer, model_args, data_args, raw, train_seconds, run_values)
    if "train_batch_sampler" in trainer_kwargs:
        metrics["run"]["global_batch_size"] = None  # the episodes set the batch sizes (objective_kwargs)
    metrics["run"]["total_time_s"] = time.perf_counter() - started
    metrics = train.json_safe(metrics)
    if trainer.is_world_process_zero():
        write_run_directory(trainer, tokenizer, objective, metrics, extra_files)
    train.finish_run(trainer, repo_id)
    return metrics


def model_config(model_args, overrides: dict) -> tuple:
    """(`ModelFamily`, config) of a saved model (`model_name_or_path`) or of a preset / model type, with `overrides`."""
    path = model_args.model_name_or_path
    if path is not None:
        family = train.saved_model_family(path)
        return family, family.config_class.from_pretrained(path, **overrides)
    family, preset_config = train.resolve_model_name(model_args.model)
    train.check_config_fields(family.config_class, overrides)
    return family, family.config_class(**{**preset_config, **overrides})


def build_model(model_args, model_class, config, overrides: dict, config_kwargs: dict) -> PreTrainedModel:
    """Fresh weights from `config` plus `config_kwargs`, or the saved model, whose `config_kwargs` fields must match
    (a saved ProteinBERT keeps its annotation vector)."""
    path = model_args.model_name_or_path
    if path is None:
        config.update(config_kwargs)
        return model_class(config)
    new_head = model_args.allow_new_head
    model = model_class.from_pretrained(path, allow_new_head=new_head, ignore_mismatched_sizes=new_head, **overrides)
    saved = {
        key: getattr(model.config, key) for key, value in config_kwargs.items() if getattr(model.config, key) != value
    }
    if saved:
        raise ValueError(
            f"{path} has {saved} but the corpus needs {config_kwargs}: to continue pretraining, keep the model's "
            "annotation vector (its annotations.json next to config.json)"
        )
    return model


def pretraining_data(raw: dict, tokenizer: ProteinTokenizer, data_args, training_args, path: str | None):
    """ProteinBERT's corpora, collator, episode sampler and annotation vector (modeling/proteinbert/pretraining.py)."""
    from . import pretraining

    options = pretraining.PretrainingOptions.from_mapping(data_args.objective_kwargs)
    _check_columns(raw["train"], data_args, (data_args.id_column, data_args.sequence_column))
    names = None
    if path is not None and (Path(path) / "annotations.json").is_file():
        names = json.loads((Path(path) / "annotations.json").read_text())
    records = {
        name: list(zip(split[data_args.id_column], split[data_args.sequence_column])) for name, split in raw.items()
    }
    corpora = pretraining.build_corpora(records, tokenizer, options, annotation_names=names)
    names = corpora["train"].annotation_names
    collator = pretraining.ProteinBertPretrainingCollator(
        max(len(names), 1),
        seq_len=options.longest_episode,
        noise=options.noise,
        pad_token_id=tokenizer.pad_token_id,
        seed=training_args.seed + training_args.process_index,  # other corruptions on each process
    )
    sampler = pretraining.EpisodeBatchSampler(
        corpora["train"].lengths,
        options.episodes,
        batches_per_episode=options.batches_per_episode,
        seed=training_args.seed,
    )
    return corpora, collator, sampler, names


def write_run_directory(trainer, tokenizer, objective: Objective, metrics: dict, extra_files: dict[str, str]) -> None:
    """Model + code, tokenizer, extra files, trainer state, run_config.yaml, learning curves and metrics.json in
    output_dir; checkpoint folders are removed unless `keep_checkpoints`."""
    args = trainer.args
    output_dir = Path(args.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    train.save_model_with_code(trainer.model, tokenizer, output_dir, objective.auto_class)
    for name, text in extra_files.items():
        (output_dir / name).write_text(text)
    trainer.save_state()
    (output_dir / "run_config.yaml").write_text(yaml.safe_dump(metrics["run"]["arguments"], sort_keys=False))
    plots.plot_learning_curves(trainer.state.log_history, output_dir, "accuracy", greater_is_better=True)
    (output_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    if not args.keep_checkpoints:
        for checkpoint in output_dir.glob("checkpoint-*"):
            shutil.rmtree(checkpoint, ignore_errors=True)
    print_summary(metrics, objective, output_dir)


def print_summary(metrics: dict, objective: Objective, output_dir: str | os.PathLike) -> None:
    """A small table of the final metrics per split."""
    names = ("loss", "accuracy", "cross_entropy", "perplexity")
    print(f"\n{objective.name}: {metrics['train']['global_steps']} steps, run directory: {output_dir}")
    print(f"{'split':<12}" + "".join(f"{name:>15}" for name in names))
    for split in ("validation", "test"):
        if split in metrics:
            cells = [metrics[split].get(name) for name in names]
            print(f"{split:<12}" + "".join(f"{'-':>15}" if c is None else f"{c:>15.4f}" for c in cells))
