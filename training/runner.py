"""Train a proteinhub model on a proteinhub dataset with the Hugging Face `Trainer`.

    accelerate launch train.py --config configs/quickstart.yaml [--num_train_epochs 2 ...]
    python train.py --config configs/quickstart.yaml
    proteinhub train --config quickstart

Arguments come from four dataclasses (`ModelArguments`, `DataArguments`, `LossArguments`, `ProteinTrainingArguments`,
the last one being transformers' `TrainingArguments` plus a few fields). Values of the YAML file are applied first,
then every option given on the command line wins. The task (sequence or residue level; classification or regression)
is read from the dataset features, the model is a preset or a model type (fresh weights) or a saved model
(`model_name_or_path`), and the loss comes from the model's forward (class weights and label smoothing live in its
config). The run directory (`output_dir`) ends up holding the model with its remote code, the tokenizer,
`metrics.json`, learning curves, a confusion matrix or scatter plot, and a model card (README.md).

`--objective causal_lm | reconstruction | pretraining` learns from the sequences alone instead of labels: a language
model, an autoencoder or ProteinBERT's pretraining (objectives.py). `--lr_decay_factor 0.2 --lr_decay_every_epochs 5`
is a step learning-rate schedule (trainer.py).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import yaml
from transformers import (
    EarlyStoppingCallback,
    HfArgumentParser,
    PreTrainedConfig,
    Trainer,
    TrainingArguments,
    set_seed,
)
from transformers.trainer_utils import SchedulerType

from .. import __version__, hub
from ..dataset_scripts import label_names, load_dataset
from ..evaluation.metrics import (
    CLASSIFICATION_METRICS,
    REGRESSION_METRICS,
    build_compute_metrics,
    classification_confusion_matrix,
    valid_residues,
)
from ..hub import cards
from ..modeling import tasks
from ..modeling.losses import balanced_class_weights
from ..modeling.registry import FAMILIES, presets
from ..modeling.tasks import IGNORE_INDEX, PROTEIN, RESIDUE
from ..tokenization import ProteinTokenizer
from . import plots
from .trainer import STEP_DECAY_BASES, ProteinTrainer

PACKAGE_DIR = Path(__file__).resolve().parents[1]
CONFIG_DIR = PACKAGE_DIR / "configs"
# validation metrics that are better when lower (besides the losses)
MINIMISED = ("mse", "mae", "cross_entropy", "perplexity")
# supervised learns the dataset's labels; the others are self-supervised (objectives.py)
OBJECTIVES = ("supervised", "causal_lm", "reconstruction", "pretraining")

# arguments


@dataclass
class ModelArguments:
    """Which model to train."""

    model: str | None = field(
        default=None,
        metadata={"help": "A preset name (`proteinhub presets`) or the model_type of a family, e.g. protein_cnn."},
    )
    config_overrides: dict | str | None = field(
        default=None,
        metadata={"help": "Config fields that override the preset, as a YAML/JSON mapping: '{\"num_layers\": 2}'."},
    )
    model_name_or_path: str | None = field(
        default=None,
        metadata={"help": "A saved proteinhub model to fine-tune instead of a freshly initialised `model`."},
    )
    allow_new_head: bool = field(
        default=False,
        metadata={"help": "With model_name_or_path: keep the backbone and start a new head for another task."},
    )

    def __post_init__(self):
        if isinstance(self.config_overrides, str):
            self.config_overrides = yaml.safe_load(self.config_overrides)
        if self.config_overrides is not None and not isinstance(self.config_overrides, dict):
            raise ValueError(f"config_overrides must be a mapping of config fields, got {self.config_overrides!r}")
        if (self.model is None) == (self.model_name_or_path is None):
            raise ValueError(
                "give exactly one of `model` (a preset or model type, fresh weights) and `model_name_or_path` "
                f"(a saved model); got model={self.model!r}, model_name_or_path={self.model_name_or_path!r}"
            )


@dataclass
class DataArguments:
    """Which dataset to train on, and how to turn it into model inputs."""

    dataset_name: str | None = field(
        default=None, metadata={"help": "A proteinhub dataset builder, e.g. disorder_ldr or protein_files."}
    )
    dataset_config_name: str | None = field(default=None, metadata={"help": "The builder config, if it has several."})
    data_dir: str | None = field(
        default=None, metadata={"help": "Folder with the raw files, for builders that read one."}
    )
    data_files: dict | str | None = field(
        default=None,
        metadata={"help": "Raw files per split, as a YAML/JSON mapping: '{train: a.fasta, test: b.fasta}'."},
    )
    cache_dir: str | None = field(
        default=None, metadata={"help": "datasets cache folder (default: HF_DATASETS_CACHE)."}
    )
    max_length: int | None = field(
        default=None,
        metadata={"help": "Truncate inputs to this many tokens (framing included); residues beyond are not scored."},
    )
    sequence_column: str = field(default="sequence", metadata={"help": "Column with the amino-acid sequences."})
    label_column: str | None = field(
        default=None, metadata={"help": "Column with the targets (default: `labels` if present, else `label`)."}
    )
    id_column: str = field(default="id", metadata={"help": "Column with the protein identifiers."})
    dataset_config_kwargs: dict | str | None = field(
        default=None,
        metadata={"help": "Builder config fields as a YAML/JSON mapping, e.g. '{label_names: [cytoplasm, nucleus]}'."},
    )
    validation_fraction: float = field(
        default=0.1,
        metadata={"help": "Share of `train` held out as validation when the dataset has no such split (0: none)."},
    )
    test_fraction: float = field(
        default=0.1,
        metadata={"help": "Share of `train` held out as test when the dataset has no such split (0: none)."},
    )
    max_train_samples: int | None = field(default=None, metadata={"help": "Use only the first N training proteins."})
    max_eval_samples: int | None = field(
        default=None, metadata={"help": "Use only the first N proteins of validation and test."}
    )
    objective: str = field(
        default="supervised",
        metadata={
            "help": "What to learn: supervised (the dataset's labels; the task is read from its features), "
            "causal_lm (next residue, e.g. unirep), reconstruction (the input, e.g. cnn_autoencoder) or pretraining "
            "(ProteinBERT's denoising + GO annotations); the last three need only sequences, see objectives.py."
        },
    )
    objective_kwargs: dict | str | None = field(
        default=None,
        metadata={
            "help": "Options of the objective as a YAML/JSON mapping; pretraining: annotation_table, "
            "min_annotation_records, episodes, batches_per_episode and the noise probabilities "
            "(modeling/proteinbert/pretraining.py, PretrainingOptions)."
        },
    )

    def __post_init__(self):
        if self.dataset_name is None:
            raise ValueError("dataset_name is required (e.g. --dataset_name disorder_ldr)")
        if isinstance(self.data_files, str) and self.data_files.lstrip().startswith(("{", "[")):
            self.data_files = yaml.safe_load(self.data_files)
        if isinstance(self.dataset_config_kwargs, str):
            self.dataset_config_kwargs = yaml.safe_load(self.dataset_config_kwargs)
        if isinstance(self.objective_kwargs, str):
            self.objective_kwargs = yaml.safe_load(self.objective_kwargs)
        if self.objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {OBJECTIVES}, got {self.objective!r}")
        if self.objective_kwargs is not None and not isinstance(self.objective_kwargs, dict):
            raise ValueError(f"objective_kwargs must be a mapping of options, got {self.objective_kwargs!r}")
        for name in ("validation_fraction", "test_fraction"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f"{name} must be in [0, 1), got {getattr(self, name)}")


@dataclass
class LossArguments:
    """Loss options; they are stored in the model config, where the model's forward reads them."""

    class_weights: list[float] | str | None = field(
        default=None,
        metadata={"help": "Per-class loss weights: \"balanced\" (from the training labels) or a list '[1.0, 2.5]'."},
    )
    label_smoothing: float = field(default=0.0, metadata={"help": "Label-smoothing factor of the loss, in [0, 1)."})

    def __post_init__(self):
        if isinstance(self.class_weights, str) and self.class_weights != "balanced":
            self.class_weights = yaml.safe_load(self.class_weights)
        if not (self.class_weights is None or self.class_weights == "balanced" or isinstance(self.class_weights, list)):
            raise ValueError(f'class_weights must be null, "balanced" or a list of numbers, got {self.class_weights!r}')


@dataclass
class ProteinTrainingArguments(TrainingArguments):
    """`TrainingArguments` plus a global batch size, early stopping and checkpoint clean-up."""

    metric_for_best_model: str | None = field(
        default="auto",
        metadata={
            "help": "Validation metric that selects the best checkpoint and drives early stopping (accuracy, f1_macro, "
            "mcc, roc_auc, pr_auc, spearman, pearson, mse, mae, loss); auto: mcc for classification, spearman for "
            "regression."
        },
    )
    global_batch_size: int | None = field(
        default=None,
        metadata={
            "help": "Training batch summed over processes; sets per_device_train_batch_size = global_batch_size // "
            "(world size x gradient_accumulation_steps), so that 1 or N processes train the same way."
        },
    )
    early_stopping_patience: int | None = field(
        default=None, metadata={"help": "Stop after this many evaluations without improvement of the best metric."}
    )
    early_stopping_threshold: float = field(
        default=0.0, metadata={"help": "Smallest change of the best metric that counts as an improvement."}
    )
    keep_checkpoints: bool = field(
        default=False, metadata={"help": "Keep the checkpoint-* folders instead of deleting them after training."}
    )
    lr_decay_factor: float | None = field(
        default=None,
        metadata={
            "help": "Step decay: multiply the learning rate by this factor every `lr_decay_every_epochs` epochs "
            "(seed 004: 0.2 every 5); needs lr_scheduler_type constant or constant_with_warmup."
        },
    )
    lr_decay_every_epochs: int | None = field(
        default=None, metadata={"help": "Epochs between two learning-rate decays (with lr_decay_factor)."}
    )
    push_to_hub: str | None = field(
        default=None,
        metadata={
            "help": "Hub repository (user/name) to push the finished run directory to, in one commit (weights, "
            "code, tokenizer, card, metrics, plots; never pickles). The token is checked before training starts."
        },
    )

    def __post_init__(self):
        # Trainer must never push by itself: its pushes include training_args.bin, a pickle. proteinhub.hub pushes the
        # finished run directory instead.
        self.push_to_hub_repo, self.push_to_hub = self.push_to_hub, False
        # WORLD_SIZE is set by accelerate/torchrun before the process group exists
        world_size = int(os.environ.get("WORLD_SIZE", "1"))
        if not torch.accelerator.is_available():
            self.dataloader_pin_memory = False  # pinning needs an accelerator; torch warns on every data loader
            if world_size > 1:
                # without use_cpu, transformers 5 sets up no DDP on a machine without GPUs: each process would
                # train alone (DistributedType.NO) although the gloo process group exists
                self.use_cpu = True
        if self.global_batch_size is not None:
            self.per_device_train_batch_size = per_device_batch_size(
                self.global_batch_size, world_size, self.gradient_accumulation_steps
            )
        if self.greater_is_better is None and str(self.metric_for_best_model).removeprefix("eval_") in MINIMISED:
            self.greater_is_better = False  # transformers only knows that names ending in "loss" are minimised
        if (self.lr_decay_factor is None) != (self.lr_decay_every_epochs is None):
            raise ValueError(
                "lr_decay_factor and lr_decay_every_epochs go together (e.g. 0.2 and 5: x0.2 every 5 epochs); got "
                f"lr_decay_factor={self.lr_decay_factor}, lr_decay_every_epochs={self.lr_decay_every_epochs}"
            )
        if self.lr_decay_factor is not None:
            if not 0.0 < self.lr_decay_factor <= 1.0 or self.lr_decay_every_epochs < 1:
                raise ValueError(
                    f"lr_decay_factor must be in (0, 1] and lr_decay_every_epochs >= 1, got {self.lr_decay_factor} "
                    f"and {self.lr_decay_every_epochs}"
                )
            if SchedulerType(self.lr_scheduler_type) not in STEP_DECAY_BASES:
                raise ValueError(
                    f"lr_decay_factor is a schedule of its own and would multiply lr_scheduler_type "
                    f"{SchedulerType(self.lr_scheduler_type).value!r}: set lr_scheduler_type to constant (or "
                    "constant_with_warmup for a warm-up first)"
                )
        if self.label_smoothing_factor:
            raise ValueError(
                "label_smoothing_factor would make Trainer replace the model's loss; use `label_smoothing` (stored "
                "in the model config, applied by the model's own loss) instead."
            )
        super().__post_init__()


def per_device_batch_size(global_batch_size: int, world_size: int, gradient_accumulation_steps: int = 1) -> int:
    """The per-process batch that keeps the batch of one optimiser step at `global_batch_size`.

    Example:
        >>> per_device_batch_size(16, world_size=2)
        8
    """
    divisor = world_size * gradient_accumulation_steps
    if global_batch_size % divisor:
        raise ValueError(
            f"global_batch_size={global_batch_size} is not divisible by world size {world_size} x "
            f"gradient_accumulation_steps {gradient_accumulation_steps}; choose a multiple of {divisor}."
        )
    return global_batch_size // divisor


ARGUMENT_CLASSES = (ModelArguments, DataArguments, LossArguments, ProteinTrainingArguments)


def resolve_config_path(name: str | os.PathLike) -> Path:
    """A config path as given (or relative to the package root), else a file of the packaged `configs/` folder:
    `quickstart` -> configs/quickstart.yaml, `phosphosite/st_vgg_w15` -> configs/phosphosite/st_vgg_w15.yaml."""
    path = Path(name)
    for candidate in (path, PACKAGE_DIR / path, CONFIG_DIR / path, CONFIG_DIR / f"{path}.yaml"):
        if candidate.is_file():
            return candidate
    available = ", ".join(sorted(p.stem for p in CONFIG_DIR.glob("*.yaml")))
    raise FileNotFoundError(f"config {str(name)!r} not found, neither as a path nor in {CONFIG_DIR} ({available})")


def _build_parser() -> HfArgumentParser:
    parser = HfArgumentParser(ARGUMENT_CLASSES, description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", help="YAML file of arguments; options given on the command line override it.")
    return parser


def _explicit_cli_values(argv: list[str]) -> dict:
    """Only the options actually typed on the command line, converted by argparse (defaults left out)."""
    parser = _build_parser()
    for action in parser._actions:
        if action.dest != "help":
            action.default = argparse.SUPPRESS
            action.required = False
    return vars(parser.parse_args(argv))


def _coerce_yaml_values(values: dict, source: Path) -> dict:
    """Check YAML keys against the argument fields and convert strings argparse would convert (YAML reads 1e-3 as a
    string)."""
    actions = {action.dest: action for action in _build_parser()._actions}
    coerced = {}
    for key, value in values.items():
        if key not in actions or key in ("help", "config"):
            raise ValueError(f"{source}: unknown argument {key!r}; `python train.py --help` lists the valid ones")
        converter = actions[key].type
        if isinstance(value, str) and converter in (int, float):
            try:
                value = converter(value)
            except ValueError as error:
                raise ValueError(f"{source}: {key}={value!r} is not a valid {converter.__name__}") from error
        coerced[key] = value
    return coerced


def parse_arguments(
    argv: list[str] | None = None,
) -> tuple[ModelArguments, DataArguments, LossArguments, ProteinTrainingArguments, dict]:
    """Parse `--config FILE` plus command-line overrides into the four argument dataclasses.

    Returns the dataclasses and the merged mapping of explicitly set values (what `run_config.yaml` records).

    Example:
        >>> model, data, loss, training, values = parse_arguments(["--config", "quickstart", "--num_train_epochs", "2"])
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if "-h" in argv or "--help" in argv:
        _build_parser().parse_args(argv)  # prints the help, with defaults, and exits
    given = _explicit_cli_values(argv)
    values: dict = {}
    config = given.pop("config", None)
    if config is not None:
        path = resolve_config_path(config)
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(loaded, dict):
            raise ValueError(f"{path}: expected a mapping of argument names to values, got {type(loaded).__name__}")
        values.update(_coerce_yaml_values(loaded, path))
    values.update(given)
    if values.get("output_dir") is None:
        stem = Path(config).stem if config else f"{values.get('model') or 'model'}-{values.get('dataset_name')}"
        values["output_dir"] = str(Path("runs") / stem)
    model_args, data_args, loss_args, training_args = HfArgumentParser(ARGUMENT_CLASSES).parse_dict(values)
    # record mappings and lists given as command-line strings in their parsed form
    for arguments in (model_args, data_args, loss_args):
        for key in ("config_overrides", "data_files", "dataset_config_kwargs", "class_weights"):
            if key in values and hasattr(arguments, key):
                values[key] = getattr(arguments, key)
    return model_args, data_args, loss_args, training_args, values


# task


@dataclass(frozen=True)
class Task:
    """What the dataset asks for, read from its features (the words are those of `modeling/tasks.py`).

    Args:
        level: "protein" (one target per protein) or "residue" (one target per residue).
        problem: what the targets are, "classification" (class ids) or "regression" (values); the model's
            `problem_type` follows from it and its number of outputs (`tasks.resolve_problem_type`).
        label_column: the dataset column holding the targets.
        class_names: class names of a classification task, in label-id order.
    """

    level: str
    problem: str
    label_column: str
    class_names: tuple[str, ...] = ()

    @property
    def num_labels(self) -> int:
        return len(self.class_names) if self.problem == "classification" else 1

    @property
    def auto_class(self) -> str:
        return tasks.get_level(self.level).auto_class

    @property
    def pipeline_tag(self) -> str:
        return tasks.get_level(self.level).pipeline_tag

    @property
    def unit(self) -> str:
        """What one scored item is, plural: "proteins" or "residues"."""
        return tasks.get_level(self.level).unit

    @property
    def default_metric(self) -> str:
        return "mcc" if self.problem == "classification" else "spearman"


def infer_task(train_split, data_args: DataArguments) -> Task:
    """Derive the `Task` from the training split's features (see the data conventions in the README)."""
    features = train_split.features
    column = data_args.label_column or next((c for c in ("labels", "label") if c in features), None)
    if column is None or column not in features:
        raise ValueError(
            f"dataset {data_args.dataset_name!r} has no label column {column or '(labels/label)'!r}; columns: "
            f"{sorted(features)}. Name it with --label_column, or learn from the sequences alone with --objective "
            "causal_lm, reconstruction or pretraining."
        )
    if data_args.sequence_column not in features:
        raise ValueError(
            f"dataset {data_args.dataset_name!r} has no sequence column {data_args.sequence_column!r}; columns: "
            f"{sorted(features)}. Name it with --sequence_column."
        )
    feature = features[column]
    inner = getattr(feature, "feature", None)  # List/Sequence features: one value per residue
    level = RESIDUE if inner is not None else PROTEIN
    value_feature = inner if inner is not None else feature
    if str(getattr(value_feature, "dtype", "")).startswith("float"):
        return Task(level=level, problem="regression", label_column=column)
    try:
        names = label_names(train_split)
    except ValueError:
        # integer labels without recorded class names (a dataset not built by proteinhub)
        values = train_split[column]
        labels = np.concatenate([np.asarray(x).ravel() for x in values]) if level == RESIDUE else np.asarray(values)
        names = [f"LABEL_{i}" for i in range(int(labels[labels != IGNORE_INDEX].max()) + 1)]
    if len(names) < 2:
        raise ValueError(f"column {column!r} has {len(names)} class(es) {names}; classification needs two or more")
    return Task(level=level, problem="classification", label_column=column, class_names=tuple(names))


# data


def load_splits(data_args: DataArguments, seed: int) -> dict:
    """Load the dataset and return {"train", "validation", "test"} splits (held out of `train` where missing, unless
    the held-out fraction is 0: the split is then absent)."""
    dataset = load_dataset(
        data_args.dataset_name,
        data_args.dataset_config_name,
        data_dir=data_args.data_dir,
        data_files=data_args.data_files,
        cache_dir=data_args.cache_dir,
        **(data_args.dataset_config_kwargs or {}),
    )
    splits = dict(dataset)
    if "train" not in splits:
        raise ValueError(f"dataset {data_args.dataset_name!r} has no train split (splits: {sorted(splits)})")
    if "validation" not in splits and "valid" in splits:
        splits["validation"] = splits.pop("valid")
    for name, fraction in (("test", data_args.test_fraction), ("validation", data_args.validation_fraction)):
        if name not in splits and fraction > 0:
            held_out = splits["train"].train_test_split(test_size=fraction, seed=seed)
            splits["train"], splits[name] = held_out["train"], held_out["test"]
    limits = {"train": data_args.max_train_samples, "validation": data_args.max_eval_samples}
    limits["test"] = data_args.max_eval_samples
    for name, limit in limits.items():
        if limit is not None and name in splits:
            splits[name] = splits[name].select(range(min(limit, len(splits[name]))))
    return {name: splits[name] for name in ("train", "validation", "test") if name in splits}


def tokenize_split(split, tokenizer, task: Task, data_args: DataArguments):
    """input_ids / attention_mask / labels; residue labels are aligned to tokens (-100 on special tokens)."""
    seq_column, label_column, id_column = data_args.sequence_column, task.label_column, data_args.id_column
    truncate = data_args.max_length is not None

    def encode(batch: dict) -> dict:
        encoding = tokenizer(batch[seq_column], truncation=truncate, max_length=data_args.max_length)
        if task.level == PROTEIN:
            return {**encoding, "labels": batch[label_column]}
        aligned = []
        for index, (sequence, labels) in enumerate(zip(batch[seq_column], batch[label_column])):
            if len(labels) != len(sequence):
                record = batch[id_column][index] if id_column in batch else f"#{index}"
                raise ValueError(
                    f"protein {record}: {len(labels)} residue labels for a sequence of {len(sequence)} residues; "
                    "the builder must give exactly one label per residue (-100 to ignore one)."
                )
            aligned.append([IGNORE_INDEX if w is None else labels[w] for w in encoding.word_ids(index)])
        return {**encoding, "labels": aligned}

    return split.map(encode, batched=True, remove_columns=split.column_names, desc="tokenizing")


@dataclass
class ProteinDataCollator:
    """Right-pads input_ids (pad id), attention_mask (0) and labels (-100) to the longest protein of the batch."""

    pad_token_id: int
    label_dtype: torch.dtype

    def __call__(self, features: list[dict]) -> dict[str, torch.Tensor]:
        width = max(len(f["input_ids"]) for f in features)
        input_ids = torch.full((len(features), width), self.pad_token_id, dtype=torch.long)
        attention_mask = torch.zeros((len(features), width), dtype=torch.long)
        for row, f in enumerate(features):
            input_ids[row, : len(f["input_ids"])] = torch.as_tensor(f["input_ids"])
            attention_mask[row, : len(f["attention_mask"])] = torch.as_tensor(f["attention_mask"])
        batch = {"input_ids": input_ids, "attention_mask": attention_mask}
        if "labels" in features[0]:
            first = features[0]["labels"]
            if isinstance(first, list | tuple):
                labels = torch.full((len(features), width), IGNORE_INDEX, dtype=self.label_dtype)
                for row, f in enumerate(features):
                    labels[row, : len(f["labels"])] = torch.as_tensor(f["labels"], dtype=self.label_dtype)
            else:
                labels = torch.as_tensor([f["labels"] for f in features], dtype=self.label_dtype)
            batch["labels"] = labels
        return batch


# model


def resolve_class_weights(loss_args: LossArguments, task: Task, train_split) -> list[float] | None:
    """Numeric class weights: "balanced" is computed from the training labels (-100 ignored)."""
    weights = loss_args.class_weights
    if weights is None:
        return None
    if task.problem != "classification":
        raise ValueError("class_weights apply to classification only; this dataset has a regression target")
    if weights == "balanced":
        column = train_split[task.label_column]
        labels = np.concatenate([np.asarray(x).ravel() for x in column]) if task.level == RESIDUE else column
        return balanced_class_weights(labels, task.num_labels)
    if len(weights) != task.num_labels:
        raise ValueError(f"class_weights has {len(weights)} entries but the task has {task.num_labels} classes")
    return [float(w) for w in weights]


def build_model(model_args: ModelArguments, task: Task, class_weights: list[float] | None, label_smoothing: float):
    """A fresh model (preset or model type) or a saved one, with the task's head, labels and loss options."""
    overrides = model_args.config_overrides or {}
    if model_args.model_name_or_path is not None:
        # the family's own class (not the Auto class, which passes a config object and so skips the check) refuses a
        # checkpoint trained with another head unless allow_new_head is set
        family = saved_model_family(model_args.model_name_or_path)
        task_kwargs = _task_kwargs(task, family, class_weights, label_smoothing)
        model_class = family.models.get(task.auto_class)
        if model_class is None:
            raise ValueError(
                f"model type {family.model_type!r} has no {task.auto_class} head for this {task.level}-level task"
            )
        return model_class.from_pretrained(
            model_args.model_name_or_path,
            allow_new_head=model_args.allow_new_head,
            ignore_mismatched_sizes=model_args.allow_new_head,
            **overrides,
            **task_kwargs,
        )
    family, config_kwargs = resolve_model_name(model_args.model)
    if task.auto_class not in family.models:
        raise ValueError(
            f"model {model_args.model!r} ({family.model_type}) has no {task.auto_class} head, which this "
            f"{task.level}-level dataset needs; heads available: {sorted(family.models)}"
        )
    check_config_fields(family.config_class, overrides)
    task_kwargs = _task_kwargs(task, family, class_weights, label_smoothing)
    config = family.config_class(**{**config_kwargs, **overrides, **task_kwargs})
    return family.models[task.auto_class](config)


def saved_model_family(path: str | os.PathLike):
    """The `ModelFamily` of a saved model folder, read from its config.json."""
    config_dict, _ = PreTrainedConfig.get_config_dict(path)
    model_type = config_dict.get("model_type")
    if model_type not in FAMILIES:
        raise ValueError(f"{path} holds a {model_type!r} model, not a proteinhub one ({', '.join(sorted(FAMILIES))})")
    return FAMILIES[model_type]


def resolve_model_name(name: str) -> tuple:
    """(`ModelFamily`, config kwargs) of a preset name or a model type (whose config defaults then apply)."""
    table = presets()
    if name in table:
        family, preset = table[name]
        return family, dict(preset.config)
    if name in FAMILIES:
        return FAMILIES[name], {}
    raise ValueError(
        f"unknown model {name!r}: not a preset ({', '.join(sorted(table))}) nor a model type "
        f"({', '.join(sorted(FAMILIES))}). `proteinhub presets` lists them."
    )


def _task_kwargs(task: Task, family, class_weights: list[float] | None, label_smoothing: float) -> dict:
    """Config fields that fit the model's head to the task: labels, problem type and loss options.

    A family whose config defaults to one output (the phosphosite window classifiers: one logit, BCE) keeps it for a
    two-class task; its `id2label` then names the positive class and `class_weights` stay (negative, positive).
    """
    kwargs = {"class_weights": class_weights, "label_smoothing": label_smoothing}
    if task.problem != "classification":
        return {**kwargs, "num_labels": 1, "problem_type": tasks.resolve_problem_type(1, regression=True)}
    if task.num_labels == 2 and family.config_class().num_labels == 1:
        positive = task.class_names[1]
        return {
            **kwargs,
            "num_labels": 1,
            "problem_type": tasks.resolve_problem_type(1),
            "id2label": {0: positive},
            "label2id": {positive: 0},
        }
    return {
        **kwargs,
        "num_labels": task.num_labels,
        "problem_type": tasks.resolve_problem_type(task.num_labels),
        "id2label": dict(enumerate(task.class_names)),
        "label2id": {name: i for i, name in enumerate(task.class_names)},
    }


def check_config_fields(config_class: type, overrides: dict) -> None:
    """Refuse override keys the config does not define: a config keeps unknown kwargs silently, so a typo such as
    `{dropout:0.3}` (YAML reads it as the key "dropout:0.3") would otherwise train the default model."""
    known = set(config_class().to_dict())
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ValueError(
            f"config_overrides {unknown} are not fields of {config_class.__name__}; valid fields: {sorted(known)}. "
            "In YAML flow style write a space after each colon: '{dropout: 0.3}'."
        )


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


def print_summary(metrics: dict, output_dir: str | os.PathLike) -> None:
    """A small table of the final metrics per split."""
    rows = [(split, metrics[split]) for split in ("validation", "test") if split in metrics]
    names = [name for name in (*CLASSIFICATION_METRICS, *REGRESSION_METRICS) if any(name in v for _, v in rows)]
    print(f"\nfinal metrics ({metrics['run']['num_scored_test']} scored test items), run directory: {output_dir}")
    print(f"{'split':<12}" + "".join(f"{name:>10}" for name in ["loss", *names]))
    for split, values in rows:
        cells = [values.get(name) for name in ["loss", *names]]
        print(f"{split:<12}" + "".join(f"{'-':>10}" if c is None else f"{c:>10.4f}" for c in cells))


def _num_scored(split, task: Task) -> int:
    if task.level == PROTEIN:
        return len(split)
    return int(sum(sum(1 for label in labels if label != IGNORE_INDEX) for labels in split["labels"]))


# entry point


def run(
    model_args: ModelArguments,
    data_args: DataArguments,
    loss_args: LossArguments,
    training_args: ProteinTrainingArguments,
    run_values: dict | None = None,
) -> dict:
    """Train, evaluate on validation and test, and write the run directory; returns the metrics.json content."""
    if data_args.objective != "supervised":
        from . import objectives

        return objectives.run(model_args, data_args, loss_args, training_args, run_values)
    started = time.perf_counter()
    repo_id = check_push_access(training_args)
    set_seed(training_args.seed)
    with training_args.main_process_first(desc="loading the dataset"):
        raw = load_splits(data_args, training_args.seed)
    missing = [name for name in ("validation", "test") if name not in raw]
    if missing:
        raise ValueError(
            f"dataset {data_args.dataset_name!r} has no {' or '.join(missing)} split and its held-out fraction is 0; "
            "a supervised run selects its model on validation and reports test: give a fraction > 0"
        )
    task = infer_task(raw["train"], data_args)
    class_weights = resolve_class_weights(loss_args, task, raw["train"])
    model = build_model(model_args, task, class_weights, loss_args.label_smoothing)
    tokenizer = ProteinTokenizer(**model.config.tokenizer_kwargs)
    with training_args.main_process_first(desc="tokenizing"):
        tokenized = {name: tokenize_split(split, tokenizer, task, data_args) for name, split in raw.items()}

    if training_args.metric_for_best_model == "auto":
        # resolved here because the task is known only now
        training_args.metric_for_best_model = task.default_metric
        training_args.greater_is_better = task.default_metric not in MINIMISED
    trainer = ProteinTrainer(
        model=model,
        args=training_args,
        train_dataset=tokenized["train"],
        eval_dataset=tokenized["validation"],
        data_collator=ProteinDataCollator(
            tokenizer.pad_token_id, torch.long if task.problem == "classification" else torch.float32
        ),
        processing_class=tokenizer,
        compute_metrics=build_compute_metrics(task.level, task.problem),
        callbacks=early_stopping_callbacks(training_args),
    )
    train_started = time.perf_counter()
    train_result = trainer.train()
    train_seconds = time.perf_counter() - train_started

    # the best model (load_best_model_at_end), once on each split; in DDP every process gets all predictions
    predictions = {
        split: trainer.predict(tokenized[split], metric_key_prefix=split) for split in ("validation", "test")
    }
    metrics = {split: split_metrics(output.metrics, split) for split, output in predictions.items()}
    metrics["train"] = train_summary(trainer, train_result, train_seconds)
    metrics["run"] = {
        **run_record(trainer, model_args, data_args, raw, train_seconds, run_values),
        "num_scored_test": _num_scored(tokenized["test"], task),
        "task": {"level": task.level, "problem": task.problem, "class_names": list(task.class_names)},
        "class_weights": class_weights,
        "label_smoothing": loss_args.label_smoothing,
    }
    metrics["run"]["total_time_s"] = time.perf_counter() - started
    metrics = json_safe(metrics)
    if trainer.is_world_process_zero():
        write_run_directory(trainer, tokenizer, task, metrics, predictions["test"], raw["train"].info)
    finish_run(trainer, repo_id)
    return metrics


# run helpers, shared with the self-supervised objectives (objectives.py)


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


def write_run_directory(trainer: Trainer, tokenizer, task: Task, metrics: dict, test_output, dataset_info) -> None:
    """Model + code, tokenizer, trainer state, run_config.yaml, figures, metrics.json and README.md in output_dir;
    checkpoint folders are removed unless `keep_checkpoints`. Adds the test confusion matrix to `metrics`."""
    args = trainer.args
    output_dir = Path(args.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    save_model_with_code(trainer.model, tokenizer, output_dir, task.auto_class)
    trainer.save_state()
    run = metrics["run"]
    (output_dir / "run_config.yaml").write_text(yaml.safe_dump(run["arguments"], sort_keys=False))

    figures = plots.plot_learning_curves(
        trainer.state.log_history, output_dir, run["metric_for_best_model"], greater_is_better=args.greater_is_better
    )
    title = f"{run['dataset']} test split"
    if task.problem == "classification":
        matrix = classification_confusion_matrix(test_output.label_ids, test_output.predictions, task.num_labels)
        metrics["test"]["confusion_matrix"] = matrix.tolist()
        path = output_dir / "confusion_matrix.png"
        figures.append(plots.plot_confusion_matrix(matrix, list(task.class_names), path, f"{title} ({task.unit})"))
    else:
        labels, values = valid_residues(test_output.label_ids, test_output.predictions)
        figures.append(plots.plot_regression_scatter(labels, values, output_dir / "predictions.png", title))

    (output_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    cards.write_model_card(
        output_dir,
        metrics=metrics,
        task=task,
        config=trainer.model.config,
        model_class=type(trainer.model),
        training_args=args,
        dataset_info=dataset_info,
        figures=[path.name for path in figures],
    )
    if not args.keep_checkpoints:
        for checkpoint in output_dir.glob("checkpoint-*"):
            shutil.rmtree(checkpoint, ignore_errors=True)
    print_summary(metrics, output_dir)


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
