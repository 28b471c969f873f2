"""The table of model families: what `import proteinhub` registers with the Auto classes, what the common test
battery iterates over, and which presets `proteinhub presets` lists."""

from __future__ import annotations

from dataclasses import dataclass, field

from transformers import (
    AutoConfig,
    AutoModel,
    AutoModelForCausalLM,
    AutoModelForMaskedLM,
    AutoModelForPreTraining,
    AutoModelForSequenceClassification,
    AutoModelForTokenClassification,
    AutoTokenizer,
)

from ..tokenization import ProteinTokenizer
from .configuration_utils import ProteinConfig
from .modeling_utils import ProteinPreTrainedModel

AUTO_CLASSES = {
    auto.__name__: auto
    for auto in (
        AutoModel,
        AutoModelForSequenceClassification,
        AutoModelForTokenClassification,
        AutoModelForCausalLM,
        AutoModelForMaskedLM,
        AutoModelForPreTraining,
    )
}


@dataclass(frozen=True)
class Preset:
    """A named configuration, usually one row of a paper's table.

    Args:
        name: unique name, e.g. "phosphosite-vgg-st-w33".
        auto_class: the Auto class that builds it, e.g. "AutoModelForSequenceClassification".
        config: keyword arguments of the family's config.
        paper: the source (seed file or citation) and the row it reproduces.
        paper_parameters: parameter count stated by the paper, if any.
    """

    name: str
    auto_class: str
    config: dict
    paper: str = ""
    paper_parameters: int | None = None


@dataclass(frozen=True)
class ModelFamily:
    """One model family: its config, its model classes by Auto class, and what PEFT/LoRA can target.

    Args:
        config_class: the family's `ProteinConfig` subclass.
        models: Auto class name -> model class, e.g. {"AutoModelForTokenClassification": ...}.
        lora_target_modules: regular expressions for the trailing part of the module names LoRA can wrap (Linear,
            Conv1d, Embedding layers; recurrent layers such as `nn.LSTM`/`nn.GRU` cannot be targeted by peft).
            `lora_target_regex` joins them for `peft.LoraConfig(target_modules=...)`.
        presets: named configurations, see `Preset`.
    """

    config_class: type[ProteinConfig]
    models: dict[str, type[ProteinPreTrainedModel]]
    lora_target_modules: tuple[str, ...]
    presets: tuple[Preset, ...] = field(default_factory=tuple)

    @property
    def model_type(self) -> str:
        return self.config_class.model_type

    @property
    def lora_target_regex(self) -> str:
        """One regular expression matching the full names of every LoRA-targetable module of the family."""
        return rf"(?:.*\.)?(?:{'|'.join(self.lora_target_modules)})"


FAMILIES: dict[str, ModelFamily] = {}


def register_family(family: ModelFamily) -> ModelFamily:
    """Add a family to the table and register its config, models and the shared tokenizer with the Auto classes."""
    if family.model_type in FAMILIES:
        return FAMILIES[family.model_type]
    AutoConfig.register(family.model_type, family.config_class)
    AutoTokenizer.register(family.config_class, tokenizer_class=ProteinTokenizer)
    for auto_name, model_class in family.models.items():
        AUTO_CLASSES[auto_name].register(family.config_class, model_class)
    FAMILIES[family.model_type] = family
    return family


def presets() -> dict[str, tuple[ModelFamily, Preset]]:
    """Every preset of every registered family, by name."""
    return {preset.name: (family, preset) for family in FAMILIES.values() for preset in family.presets}


def build_preset(name: str, **overrides) -> ProteinPreTrainedModel:
    """Instantiate a preset with freshly initialised weights; `overrides` update its config.

    Example:
        >>> model = build_preset("protein-cnn-small", num_labels=2)
    """
    table = presets()
    if name not in table:
        raise KeyError(f"unknown preset {name!r}; `proteinhub presets` lists the {len(table)} available")
    family, preset = table[name]
    config = family.config_class(**{**preset.config, **overrides})
    return family.models[preset.auto_class](config)
