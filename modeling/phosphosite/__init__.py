from ..registry import ModelFamily, Preset, register_family
from .configuration_phosphosite import (
    PhosphositeCNNGRUConfig,
    PhosphositeCNNLSTMConfig,
    PhosphositeConfig,
    PhosphositeResNetConfig,
    PhosphositeVGGConfig,
)
from .modeling_phosphosite import (
    PhosphositeCNNGRUForSequenceClassification,
    PhosphositeCNNLSTMForSequenceClassification,
    PhosphositeResNetForSequenceClassification,
    PhosphositeVGGForSequenceClassification,
)

__all__ = [
    "PhosphositeCNNGRUConfig",
    "PhosphositeCNNGRUForSequenceClassification",
    "PhosphositeCNNLSTMConfig",
    "PhosphositeCNNLSTMForSequenceClassification",
    "PhosphositeConfig",
    "PhosphositeResNetConfig",
    "PhosphositeResNetForSequenceClassification",
    "PhosphositeVGGConfig",
    "PhosphositeVGGForSequenceClassification",
]

_PAPER = "Nguyen, 'Prediction of protein phosphorylation sites using Deep Convolutional and Recurrent Neural Networks'"
_ARCHITECTURES = (
    # (preset stem, config, model, LoRA-targetable modules, paper's parameter count)
    ("vgg", PhosphositeVGGConfig, PhosphositeVGGForSequenceClassification, (r"convs\.\d+\.0", "classifier"), 100_000),
    (
        "resnet",
        PhosphositeResNetConfig,
        PhosphositeResNetForSequenceClassification,
        (r"conv\d", r"shortcut", r"stem\.0", "classifier"),
        70_000,
    ),
    ("cnn-gru", PhosphositeCNNGRUConfig, PhosphositeCNNGRUForSequenceClassification, (r"convs\.\d+\.0",), 50_000),
    ("cnn-lstm", PhosphositeCNNLSTMConfig, PhosphositeCNNLSTMForSequenceClassification, (r"convs\.\d+\.0",), 60_000),
)

for _stem, _config, _model, _targets, _parameters in _ARCHITECTURES:
    register_family(
        ModelFamily(
            config_class=_config,
            models={"AutoModelForSequenceClassification": _model},
            lora_target_modules=_targets,
            presets=tuple(
                Preset(
                    name=f"phosphosite-{_stem}-w{window}",
                    auto_class="AutoModelForSequenceClassification",
                    config={"window_size": window},
                    paper=f"{_PAPER}, Tables 1-2, {_stem.upper()} L={window} (add input_noise=0.1, "
                    "soft_label_max=0.4 for the DA rows; site_residues='Y' for Table 2)",
                    paper_parameters=_parameters,
                )
                for window in (15, 33, 51)
            ),
        )
    )
