"""The task vocabulary of proteinhub: what a label is about (its level), what kind of target it is (its problem), and
what follows from both (the Auto class, the pipeline tag, the ignored label value). Training, prediction, pipelines,
cards, builders and every head read these words from here.

Levels (one word per idea; transformers' names in brackets):

- `protein`: one target per protein (`*ForSequenceClassification`, pipeline `text-classification`);
- `residue`: one target per residue (`*ForTokenClassification`, pipeline `token-classification`); labels are aligned
  with the tokens, `IGNORE_INDEX` on special tokens, padding and residues without a label;
- `site`: one target per candidate site, scored from a window around it (the phosphosite window classifiers:
  `*ForSequenceClassification` over windows, `config.site_residues` and `config.window_size`).

Problems, as transformers' `config.problem_type` strings: `single-label` ("single_label_classification": one class
per item, cross-entropy), `multi-label` ("multi_label_classification": independent yes/no per output, BCE; also a
single-logit binary classifier) and `regression` ("regression": MSE). A dataset's targets are class ids or values;
`resolve_problem_type` turns that and the head's number of outputs into the problem type.

Light on purpose (no torch, no transformers): the CLI and `proteinhub predict` import it before loading a model, and
it travels with a model's remote code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

# the label value every loss and metric skips (PyTorch's `cross_entropy` default, transformers' convention)
IGNORE_INDEX = -100


@dataclass(frozen=True)
class Level:
    """What a label is about.

    Args:
        name: "protein", "residue" or "site".
        auto_class: the transformers Auto class of its models.
        pipeline_tag: the Hub pipeline tag of its model cards (and the transformers pipeline that serves it).
        class_suffix: how the class names of its models end.
        unit: what one scored item is, plural (metrics and cards count them).
    """

    name: str
    auto_class: str
    pipeline_tag: str
    class_suffix: str
    unit: str


PROTEIN, RESIDUE, SITE = "protein", "residue", "site"
LEVELS: dict[str, Level] = {
    PROTEIN: Level(
        PROTEIN, "AutoModelForSequenceClassification", "text-classification", "ForSequenceClassification", "proteins"
    ),
    RESIDUE: Level(
        RESIDUE, "AutoModelForTokenClassification", "token-classification", "ForTokenClassification", "residues"
    ),
    SITE: Level(
        SITE, "AutoModelForSequenceClassification", "text-classification", "ForSequenceClassification", "sites"
    ),
}
BACKBONE_AUTO_CLASS, BACKBONE_PIPELINE_TAG = "AutoModel", "feature-extraction"

SINGLE_LABEL, MULTI_LABEL, REGRESSION = "single_label_classification", "multi_label_classification", "regression"
# problem name -> transformers' `problem_type`
PROBLEMS: dict[str, str] = {"single-label": SINGLE_LABEL, "multi-label": MULTI_LABEL, "regression": REGRESSION}
# what a dataset's targets are: class ids (a single- or multi-label problem, by the head's outputs) or values
TARGETS = ("classification", "regression")


def get_level(name: str) -> Level:
    """The `Level` called `name`; an unknown word raises listing the known ones.

    Example:
        >>> get_level("residue").auto_class
        'AutoModelForTokenClassification'
    """
    if name not in LEVELS:
        raise ValueError(f"unknown level {name!r}; a label is about one of: {', '.join(LEVELS)}")
    return LEVELS[name]


def pipeline_tag(auto_class: str) -> str | None:
    """The Hub pipeline tag of a model registered under `auto_class` (None when no pipeline serves it).

    Example:
        >>> pipeline_tag("AutoModelForTokenClassification"), pipeline_tag("AutoModelForCausalLM")
        ('token-classification', None)
    """
    if auto_class == BACKBONE_AUTO_CLASS:
        return BACKBONE_PIPELINE_TAG
    return next((lvl.pipeline_tag for lvl in LEVELS.values() if lvl.auto_class == auto_class), None)


def model_level(architecture: str, config: object | Mapping | None = None) -> str | None:
    """The level of a model from its class name (and config): "site" for a window classifier (a config with
    `site_residues` and `window_size`), "protein" for `*ForSequenceClassification`, "residue" for
    `*ForTokenClassification`, None for anything else (a backbone or a language model).

    Example:
        >>> model_level("LocalizationForSequenceClassification"), model_level("UniRepForCausalLM")
        ('protein', None)
    """
    fields = config if isinstance(config, Mapping) else vars(config) if config is not None else {}
    if "site_residues" in fields and "window_size" in fields:
        return SITE
    return next(
        (name for name in (PROTEIN, RESIDUE) if architecture.endswith(LEVELS[name].class_suffix)),
        None,
    )


def resolve_problem_type(num_labels: int, problem_type: str | None = None, *, regression: bool = False) -> str:
    """The `problem_type` a head's loss and scores follow: transformers' rule, with one proteinhub reading.

    - a `problem_type` already set (config, or a caller) wins; it must be one of `PROBLEMS`' values;
    - regression targets (float values, not class ids) -> "regression";
    - one output -> "multi_label_classification": a single-logit binary classifier scored with BCE. transformers
      reads one output as regression instead; a proteinhub regression model says so (`train.py` sets it);
    - more outputs -> "single_label_classification" (class ids, or soft labels with one value per class).

    Example:
        >>> resolve_problem_type(1), resolve_problem_type(3), resolve_problem_type(1, regression=True)
        ('multi_label_classification', 'single_label_classification', 'regression')
    """
    if problem_type is not None:
        if problem_type not in PROBLEMS.values():
            raise ValueError(f"unknown problem_type {problem_type!r}; choose one of {', '.join(PROBLEMS.values())}")
        return problem_type
    if regression:
        return REGRESSION
    return MULTI_LABEL if num_labels == 1 else SINGLE_LABEL
