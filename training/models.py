"""The model of a training run: a preset or model type with fresh weights, or a saved model to fine-tune.

`model_config` gives the family and the config before any weights exist (it frames the tokens and, for ProteinBERT's
pretraining, the corpus sets the annotation count); `build_model` then makes the objective's head with the fields the
task or corpus adds (labels, problem type, loss options). A saved model is loaded with the family's own class, which
refuses a checkpoint trained with another head unless `allow_new_head` is set (the Auto class would skip the check).
"""

from __future__ import annotations

import os

from transformers import PreTrainedConfig, PreTrainedModel

from ..modeling import tasks
from ..modeling.registry import FAMILIES, presets
from .arguments import ModelArguments
from .data import Task


def model_config(model_args: ModelArguments, overrides: dict) -> tuple:
    """(`ModelFamily`, config) of the saved model (`model_name_or_path`) or of the preset / model type, with
    `overrides` (config fields) applied."""
    path = model_args.model_name_or_path
    if path is not None:
        family = saved_model_family(path)
        return family, family.config_class.from_pretrained(path, **overrides)
    family, preset_config = resolve_model_name(model_args.model)
    check_config_fields(family.config_class, overrides)
    return family, family.config_class(**{**preset_config, **overrides})


def build_model(
    model_args: ModelArguments,
    family,
    model_class: type[PreTrainedModel],
    overrides: dict,
    fields: dict,
    required: dict | None = None,
) -> PreTrainedModel:
    """`model_class` with fresh weights (preset or model type + `overrides` + `fields` + `required`), or the saved
    model with `overrides` and `fields` applied, whose own values of the `required` fields must equal those given (a
    saved ProteinBERT keeps its annotation vector).

    `fields` fit the head to the task (labels, problem type, loss options: `task_fields`); `required` are values the
    data impose on the architecture (ProteinBERT's `num_annotations`).
    """
    required = required or {}
    path = model_args.model_name_or_path
    if path is None:
        _, preset_config = resolve_model_name(model_args.model)
        return model_class(family.config_class(**{**preset_config, **overrides, **fields, **required}))
    new_head = model_args.allow_new_head
    model = model_class.from_pretrained(
        path, allow_new_head=new_head, ignore_mismatched_sizes=new_head, **overrides, **fields
    )
    saved = {key: getattr(model.config, key) for key, value in required.items() if getattr(model.config, key) != value}
    if saved:
        raise ValueError(
            f"{path} has {saved} but the data need {required}: to continue pretraining, keep the model's "
            "annotation vector (its annotations.json next to config.json)"
        )
    return model


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


def task_fields(task: Task, family, class_weights: list[float] | None, label_smoothing: float) -> dict:
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
