"""The arguments of a training run: four dataclasses read from a YAML file, then overridden on the command line.

`ModelArguments`, `DataArguments`, `LossArguments` and `ProteinTrainingArguments` (transformers' `TrainingArguments`
plus a global batch size, early stopping, checkpoint clean-up, a step learning-rate decay and `batching`). Values of
the YAML file (`--config`, a path or a packaged config name) are applied first, then every option given on the
command line wins: `parse_arguments(["--config", "quickstart", "--num_train_epochs", "2"])`.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import torch
import yaml
from transformers import HfArgumentParser, TrainingArguments
from transformers.trainer_utils import SchedulerType

from .trainer import BATCHING, STEP_DECAY_BASES

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
    batching: str | None = field(
        default=None,
        metadata={
            "help": "How training batches are formed: random (shuffled), group_by_length (transformers' length-grouped "
            "megabatches), length_buckets (seed 003: sorted by length, cut into batches, batch order shuffled every "
            "epoch) or episodes (ProteinBERT's length episodes); default: episodes for the pretraining objective, "
            "random otherwise."
        },
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
        if self.batching is not None and self.batching not in BATCHING:
            raise ValueError(f"batching must be one of {', '.join(BATCHING)}; got {self.batching!r}")
        if self.train_sampling_strategy != "random" and self.batching != self.train_sampling_strategy:
            raise ValueError(
                f"train_sampling_strategy={self.train_sampling_strategy!r}: set `batching` instead (random, "
                "group_by_length, length_buckets or episodes), the one option for how batches are formed"
            )
        if self.batching == "group_by_length":
            self.train_sampling_strategy = "group_by_length"
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
