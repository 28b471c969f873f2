from ..registry import ModelFamily, Preset, register_family
from .configuration_proteinbert import ProteinBertConfig
from .modeling_proteinbert import (
    ProteinBertForPreTraining,
    ProteinBertForSequenceClassification,
    ProteinBertForTokenClassification,
    ProteinBertModel,
    ProteinBertPreTrainedModel,
)

__all__ = [
    "ProteinBertConfig",
    "ProteinBertForPreTraining",
    "ProteinBertForSequenceClassification",
    "ProteinBertForTokenClassification",
    "ProteinBertModel",
    "ProteinBertPreTrainedModel",
]

_PAPER = "Brandes et al., 'ProteinBERT: a universal deep-learning model of protein sequence and function' (2022)"
# the original counts 15,981,321 with its 26-token vocabulary; the shared vocabulary adds 5 embedding rows (5 x 128)
# and 5 token-output rows (5 x 129)
ORIGINAL_PARAMETERS = 15_981_321

register_family(
    ModelFamily(
        config_class=ProteinBertConfig,
        models={
            "AutoModel": ProteinBertModel,
            "AutoModelForPreTraining": ProteinBertForPreTraining,
            "AutoModelForSequenceClassification": ProteinBertForSequenceClassification,
            "AutoModelForTokenClassification": ProteinBertForTokenClassification,
        },
        # dense layers, the narrow convolution and the attention projections; not the wide (dilated) convolution:
        # peft <= 0.21 builds the LoRA branch of a Conv1d without the base layer's dilation (huggingface/peft#3697)
        lora_target_modules=(
            "global_to_local",
            "narrow_conv",
            "local_dense",
            "global_dense1",
            "global_dense2",
            r"attention\.(?:query|key|value)",
        ),
        presets=(
            Preset(
                name="proteinbert-base",
                auto_class="AutoModelForPreTraining",
                config={},
                paper=f"{_PAPER}: the released model (epoch 92,400), masked padding mode; `proteinhub convert "
                "proteinbert` loads the official weights into it",
                paper_parameters=ORIGINAL_PARAMETERS,
            ),
            Preset(
                name="proteinbert-base-faithful",
                auto_class="AutoModelForPreTraining",
                config={"padding_mode": "faithful"},
                paper=f"{_PAPER}: the released model without a padding mask, reproducing the original at a fixed "
                "padded length",
                paper_parameters=ORIGINAL_PARAMETERS,
            ),
            Preset(
                name="proteinbert-base-residue",
                auto_class="AutoModelForTokenClassification",
                config={"classifier_features": "concat"},
                paper=f"{_PAPER}: residue-level fine-tuning head over the 1562 concatenated features (secondary "
                "structure, disorder, PTMs)",
            ),
            Preset(
                name="proteinbert-base-protein",
                auto_class="AutoModelForSequenceClassification",
                config={"classifier_features": "concat"},
                paper=f"{_PAPER}: protein-level fine-tuning head over the 15599 concatenated features",
            ),
        ),
    )
)
