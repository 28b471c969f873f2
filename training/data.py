"""The data of a training run: the task read from the dataset, the splits, tokenization and the collator.

Supervised runs read their `Task` (residue or sequence level; classification or regression; class names) from the
training split's features and align residue labels to tokens; self-supervised runs tokenize the sequences alone
(`tokenize_sequences`: the labels are the tokens).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..dataset_scripts import label_names, load_dataset
from ..modeling import tasks
from ..modeling.losses import balanced_class_weights
from ..modeling.tasks import IGNORE_INDEX, PROTEIN, RESIDUE
from .arguments import DataArguments, LossArguments

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


# loss options


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


def num_scored(split, task: Task) -> int:
    """Targets scored in a tokenized split: its proteins, or its residues whose label is not -100."""
    if task.level == PROTEIN:
        return len(split)
    return int(sum(sum(1 for label in labels if label != IGNORE_INDEX) for labels in split["labels"]))


# sequences alone (self-supervised objectives)


def tokenize_sequences(split, tokenizer, data_args: DataArguments, max_length: int | None):
    """input_ids / attention_mask and labels = input_ids (the model shifts them, or reconstructs them)."""
    column = data_args.sequence_column

    def encode(batch: dict) -> dict:
        encoding = tokenizer(batch[column], truncation=max_length is not None, max_length=max_length)
        return {**encoding, "labels": encoding["input_ids"]}

    return split.map(encode, batched=True, remove_columns=split.column_names, desc="tokenizing")


def check_columns(split, data_args: DataArguments, columns: tuple[str, ...]) -> None:
    missing = [column for column in columns if column not in split.features]
    if missing:
        raise ValueError(
            f"dataset {data_args.dataset_name!r} has no column(s) {missing} (columns: {sorted(split.features)}); "
            "name them with --sequence_column / --id_column"
        )


def max_length_of(*limits: int | None) -> int | None:
    given = [limit for limit in limits if limit is not None]
    return min(given) if given else None
