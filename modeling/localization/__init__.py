from ..registry import ModelFamily, Preset, register_family
from .configuration_localization import LocalizationConfig
from .modeling_localization import LocalizationForSequenceClassification, LocalizationPreTrainedModel, kept_positions

__all__ = [
    "LocalizationConfig",
    "LocalizationForSequenceClassification",
    "LocalizationPreTrainedModel",
    "kept_positions",
]

_PAPER = "Han, 'Sequential Protein Subcellular Localization Classification' (seed 003)"

register_family(
    ModelFamily(
        config_class=LocalizationConfig,
        models={"AutoModelForSequenceClassification": LocalizationForSequenceClassification},
        # the convolutions and the dense layers; peft cannot wrap nn.LSTM
        lora_target_modules=("conv_k3", "conv_k5", "conv_merge", "dense", "classifier"),
        presets=(
            Preset(
                name="localization-cnn-bilstm",
                auto_class="AutoModelForSequenceClassification",
                config={"num_filters": 10, "lstm_hidden_size": 15, "dense_size": 30},
                paper=f"{_PAPER}: the network as published (10 filters, 15 LSTM units, dense 30), one-hot input",
            ),
            Preset(
                name="localization-cnn-bilstm-medium",
                auto_class="AutoModelForSequenceClassification",
                config={"num_filters": 32, "lstm_hidden_size": 48, "dense_size": 96},
                paper=f"{_PAPER}, widened about 3x (not in the paper)",
            ),
            Preset(
                name="localization-cnn-bilstm-medium-max",
                auto_class="AutoModelForSequenceClassification",
                config={"num_filters": 32, "lstm_hidden_size": 48, "dense_size": 96, "pooling": "final_max"},
                paper=f"{_PAPER}, widened about 3x, final states + max over the BiLSTM outputs (not in the paper; "
                "our best MultiLoc row)",
            ),
            Preset(
                name="localization-cnn-bilstm-large",
                auto_class="AutoModelForSequenceClassification",
                config={"num_filters": 64, "lstm_hidden_size": 128, "dense_size": 256},
                paper=f"{_PAPER}, widened 6-8x (not in the paper)",
            ),
        ),
    )
)
