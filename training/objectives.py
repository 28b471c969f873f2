"""The objectives of a training run: what `run()` (runner.py) learns, one strategy each (`--objective`).

| objective | model (Auto class) | input -> target |
|---|---|---|
| `supervised` (default) | the head the dataset's labels need (token / sequence classification) | tokens -> labels |
| `causal_lm` | AutoModelForCausalLM (`unirep`) | tokens -> the next token |
| `reconstruction` | AutoModel with a reconstruction loss (`cnn_autoencoder`) | tokens -> the same tokens |
| `pretraining` | AutoModelForPreTraining (`proteinbert`) | corrupted tokens + GO annotations -> the clean ones |

    python train.py --config configs/quickstart.yaml
    python train.py --config configs/representation/lstm-lm-cpu.yaml
    accelerate launch train.py --config configs/proteinbert/pretrain_tiny.yaml

An objective checks the options it cannot use, then `prepare`s the run: the model, the tokenizer, the tokenized splits,
the collator, the metrics and what the run directory adds (figures, a model card, extra files). Everything else
(loading, the Trainer, evaluation, metrics.json, the run directory, the push) is the one `run()`.

Supervised runs read the task from the dataset (`data.infer_task`) and select the checkpoint on `mcc` (classification)
or `spearman` (regression). The self-supervised losses are the model's own (UniRep: mean next-token cross-entropy; the
autoencoder: mean reconstruction cross-entropy; ProteinBERT: `pretraining_loss`, the original's Keras normalisation);
`accuracy` and `cross_entropy` (nats per scored token; `perplexity` = exp of it) are computed over the scored tokens of
the whole evaluation split: for `causal_lm` every token after the first (`<eos>` included), otherwise every non-padding
token; the checkpoint is chosen on the validation loss unless `metric_for_best_model` says otherwise. Self-supervised
data are any dataset with a sequence column (`protein_fasta` for FASTA files); ProteinBERT's run directory adds
`annotations.json`, its annotation vector.
"""

from __future__ import annotations

import inspect
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.data import Sampler
from transformers import EvalPrediction, PreTrainedModel

from ..evaluation.metrics import accuracy, build_compute_metrics, classification_confusion_matrix, valid_residues
from ..hub import cards
from ..modeling.registry import FAMILIES
from ..modeling.tasks import IGNORE_INDEX
from ..tokenization import ProteinTokenizer
from . import plots, pretraining
from .arguments import DataArguments, LossArguments, ModelArguments, ProteinTrainingArguments
from .data import (
    ProteinDataCollator,
    Task,
    check_columns,
    infer_task,
    max_length_of,
    num_scored,
    resolve_class_weights,
    tokenize_sequences,
    tokenize_split,
)
from .models import build_model, model_config, task_fields


@dataclass
class Prepared:
    """What an objective hands to `run()`.

    Args:
        model: the model to train.
        tokenizer: the tokenizer that frames its input (saved with it).
        splits: the tokenized "train", "validation" and (if held out) "test" splits.
        collator: pads a list of examples into a batch.
        auto_class: the Auto class the saved model loads with.
        compute_metrics / preprocess_logits_for_metrics / logits_key: evaluation, as `ProteinTrainer` takes them.
        default_metric: `metric_for_best_model` when it is "auto".
        train_batch_sampler: whole training batches (ProteinBERT's episodes), or None for `batching`'s sampler.
        run_fields: added to the `run` block of metrics.json.
        extra_files: name -> text, written into the run directory.
        task: the supervised task (figures and model card), None for self-supervised objectives.
    """

    model: PreTrainedModel
    tokenizer: ProteinTokenizer
    splits: dict
    collator: Callable
    auto_class: str
    compute_metrics: Callable
    default_metric: str
    preprocess_logits_for_metrics: Callable | None = None
    logits_key: str | None = None
    train_batch_sampler: Sampler | None = None
    run_fields: dict = field(default_factory=dict)
    extra_files: dict[str, str] = field(default_factory=dict)
    task: Task | None = None


class Objective:
    """A strategy of `run()`: `check` the options, `prepare` the run, add its `figures` and model card."""

    name: str
    # the learning-curve metric of the run directory: None for the run's metric_for_best_model
    curve_metric: str | None = None

    def check(self, data_args: DataArguments, loss_args: LossArguments) -> None:
        """Refuse options this objective cannot use."""

    def check_splits(self, raw: dict, data_args: DataArguments) -> None:
        """Refuse a dataset whose splits this objective cannot use."""

    def prepare(
        self,
        raw: dict,
        model_args: ModelArguments,
        data_args: DataArguments,
        loss_args: LossArguments,
        training_args: ProteinTrainingArguments,
    ) -> Prepared:
        raise NotImplementedError

    def figures(self, prepared: Prepared, metrics: dict, test_output, output_dir: Path) -> list[Path]:
        """Figures beyond the learning curves (may add to `metrics`)."""
        return []

    def write_card(self, trainer, prepared: Prepared, metrics: dict, dataset_info, figures: list[Path]) -> None:
        """The model card (README.md) of the run directory, if the objective has one."""


class Supervised(Objective):
    """The dataset's labels: per protein or per residue, classes or values (`data.Task`)."""

    name = "supervised"

    def check_splits(self, raw: dict, data_args: DataArguments) -> None:
        missing = [name for name in ("validation", "test") if name not in raw]
        if missing:
            raise ValueError(
                f"dataset {data_args.dataset_name!r} has no {' or '.join(missing)} split and its held-out fraction is "
                "0; a supervised run selects its model on validation and reports test: give a fraction > 0"
            )

    def prepare(self, raw, model_args, data_args, loss_args, training_args) -> Prepared:
        task = infer_task(raw["train"], data_args)
        class_weights = resolve_class_weights(loss_args, task, raw["train"])
        overrides = dict(model_args.config_overrides or {})
        family, _ = model_config(model_args, overrides)
        model_class = family.models.get(task.auto_class)
        if model_class is None:
            raise ValueError(
                f"model {model_args.model or model_args.model_name_or_path!r} ({family.model_type}) has no "
                f"{task.auto_class} head, which this {task.level}-level dataset needs; heads available: "
                f"{sorted(family.models)}"
            )
        fields = task_fields(task, family, class_weights, loss_args.label_smoothing)
        model = build_model(model_args, family, model_class, overrides, fields)
        tokenizer = ProteinTokenizer(**model.config.tokenizer_kwargs)
        with training_args.main_process_first(desc="tokenizing"):
            splits = {name: tokenize_split(split, tokenizer, task, data_args) for name, split in raw.items()}
        label_dtype = torch.long if task.problem == "classification" else torch.float32
        return Prepared(
            model=model,
            tokenizer=tokenizer,
            splits=splits,
            collator=ProteinDataCollator(tokenizer.pad_token_id, label_dtype),
            auto_class=task.auto_class,
            compute_metrics=build_compute_metrics(task.level, task.problem),
            default_metric=task.default_metric,
            run_fields={
                "num_scored_test": num_scored(splits["test"], task),
                "task": {"level": task.level, "problem": task.problem, "class_names": list(task.class_names)},
                "class_weights": class_weights,
                "label_smoothing": loss_args.label_smoothing,
            },
            task=task,
        )

    def figures(self, prepared: Prepared, metrics: dict, test_output, output_dir: Path) -> list[Path]:
        task = prepared.task
        title = f"{metrics['run']['dataset']} test split"
        if task.problem == "classification":
            matrix = classification_confusion_matrix(test_output.label_ids, test_output.predictions, task.num_labels)
            metrics["test"]["confusion_matrix"] = matrix.tolist()
            path = output_dir / "confusion_matrix.png"
            return [plots.plot_confusion_matrix(matrix, list(task.class_names), path, f"{title} ({task.unit})")]
        labels, values = valid_residues(test_output.label_ids, test_output.predictions)
        return [plots.plot_regression_scatter(labels, values, output_dir / "predictions.png", title)]

    def write_card(self, trainer, prepared: Prepared, metrics: dict, dataset_info, figures: list[Path]) -> None:
        cards.write_model_card(
            trainer.args.output_dir,
            metrics=metrics,
            task=prepared.task,
            config=trainer.model.config,
            model_class=type(trainer.model),
            training_args=trainer.args,
            dataset_info=dataset_info,
            figures=[path.name for path in figures],
        )


class SelfSupervised(Objective):
    """Learning from the sequences alone.

    Args:
        name: the value of `--objective`.
        auto_class: the head it trains, by Auto class.
        logits_key: the model output scored by `accuracy` / `cross_entropy`.
        shift: targets are the next tokens (the logits at t score the token at t + 1).
        takes_labels: the model's forward must accept `labels` (an AutoModel does only if it has a loss).
    """

    curve_metric = "accuracy"

    def __init__(self, name: str, auto_class: str, logits_key: str, *, shift: bool = False, takes_labels: bool = True):
        self.name, self.auto_class, self.logits_key = name, auto_class, logits_key
        self.shift, self.takes_labels = shift, takes_labels

    def check(self, data_args: DataArguments, loss_args: LossArguments) -> None:
        if loss_args.class_weights is not None:
            raise ValueError(f"class_weights weigh the classes of labelled data; the {self.name} objective has none")
        if loss_args.label_smoothing and self.name != "causal_lm":
            raise ValueError(f"label_smoothing applies to supervised and causal_lm runs, not to {self.name}")
        if data_args.objective_kwargs and self.name != "pretraining":
            raise ValueError(f"the {self.name} objective takes no objective_kwargs, got {data_args.objective_kwargs}")

    def model_class(self, family) -> type[PreTrainedModel]:
        """The family's model class for this objective, or an error naming the families that have one."""

        def fits(candidate) -> bool:
            model_class = candidate.models.get(self.auto_class)
            return model_class is not None and (
                not self.takes_labels or "labels" in inspect.signature(model_class.forward).parameters
            )

        if not fits(family):
            able = sorted(candidate.model_type for candidate in FAMILIES.values() if fits(candidate))
            raise ValueError(
                f"model type {family.model_type!r} has no {self.auto_class} head with a loss for the "
                f"{self.name} objective; model types that have one: {able}"
            )
        return family.models[self.auto_class]

    def prepare(self, raw, model_args, data_args, loss_args, training_args) -> Prepared:
        # the model's config first: it frames the tokens, and ProteinBERT's annotation count comes from the corpus
        overrides = dict(model_args.config_overrides or {})
        fields = {"label_smoothing": loss_args.label_smoothing} if loss_args.label_smoothing else {}
        family, config = model_config(model_args, {**overrides, **fields})
        model_class = self.model_class(family)
        tokenizer = ProteinTokenizer(**config.tokenizer_kwargs)
        required, extra_files, sampler, run_fields = {}, {}, None, {}
        with training_args.main_process_first(desc="tokenizing"):
            if self.name == "pretraining":
                path = model_args.model_name_or_path
                splits, collator, sampler, names = pretraining_data(raw, tokenizer, data_args, training_args, path)
                extra_files["annotations.json"] = json.dumps(names) + "\n"
                required["num_annotations"] = max(len(names), 1)  # a model needs at least one annotation unit
                run_fields["global_batch_size"] = None  # the episodes set the batch sizes (objective_kwargs)
                # PretrainingCorpus items carry annotation_ids and the episode's seq_len for the collator
                training_args.remove_unused_columns = False
            else:
                check_columns(raw["train"], data_args, (data_args.sequence_column,))
                max_length = max_length_of(data_args.max_length, config.max_length)
                splits = {
                    name: tokenize_sequences(split, tokenizer, data_args, max_length) for name, split in raw.items()
                }
                collator = ProteinDataCollator(tokenizer.pad_token_id, torch.long)
        model = build_model(model_args, family, model_class, overrides, fields, required)
        return Prepared(
            model=model,
            tokenizer=tokenizer,
            splits=splits,
            collator=collator,
            auto_class=self.auto_class,
            compute_metrics=partial(token_metrics, shift=self.shift),
            preprocess_logits_for_metrics=partial(token_predictions, shift=self.shift),
            logits_key=self.logits_key,
            default_metric="loss",
            train_batch_sampler=sampler,
            run_fields=run_fields,
            extra_files=extra_files,
        )


OBJECTIVES: dict[str, Objective] = {
    objective.name: objective
    for objective in (
        Supervised(),
        SelfSupervised("causal_lm", "AutoModelForCausalLM", "logits", shift=True),
        SelfSupervised("reconstruction", "AutoModel", "reconstruction_logits"),
        SelfSupervised("pretraining", "AutoModelForPreTraining", "logits"),
    )
}


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
        "accuracy": accuracy(labels[scored], values[..., 0][scored].astype("int64")),
        "cross_entropy": cross_entropy,
        "perplexity": math.exp(min(cross_entropy, 700.0)),  # exp overflows a float beyond ~709
    }


# ProteinBERT's corpora


def pretraining_data(raw: dict, tokenizer: ProteinTokenizer, data_args, training_args, path: str | None):
    """ProteinBERT's corpora, collator, episode sampler and annotation vector (`training/pretraining.py`)."""
    options = pretraining.PretrainingOptions.from_mapping(data_args.objective_kwargs)
    check_columns(raw["train"], data_args, (data_args.id_column, data_args.sequence_column))
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
