"""proteinhub model families; importing this registers all of them with the transformers Auto classes."""

from .cnn import (
    ProteinCNNConfig,
    ProteinCNNForSequenceClassification,
    ProteinCNNForTokenClassification,
    ProteinCNNModel,
)
from .configuration_utils import ProteinConfig
from .heads import SequenceClassificationHead, TokenClassificationHead, masked_pool
from .losses import balanced_class_weights, classification_loss
from .modeling_utils import ProteinModelOutput, ProteinPreTrainedModel
from .registry import FAMILIES, ModelFamily, Preset, build_preset, presets, register_family

register_family(
    ModelFamily(
        config_class=ProteinCNNConfig,
        models={
            "AutoModel": ProteinCNNModel,
            "AutoModelForSequenceClassification": ProteinCNNForSequenceClassification,
            "AutoModelForTokenClassification": ProteinCNNForTokenClassification,
        },
        lora_target_modules=("conv", "project", "out_proj"),
        presets=(
            Preset(
                name="protein-cnn-small",
                auto_class="AutoModelForTokenClassification",
                config={"embedding_size": 32, "hidden_size": 64, "num_layers": 4, "kernel_size": 5},
                paper="proteinhub quickstart model (disorder on AA_LDR); not from a paper",
            ),
            Preset(
                name="protein-cnn-base",
                auto_class="AutoModelForTokenClassification",
                config={"embedding_size": 64, "hidden_size": 128, "num_layers": 8, "kernel_size": 5},
                paper="proteinhub general-purpose residue-level baseline; not from a paper",
            ),
        ),
    )
)

__all__ = [
    "FAMILIES",
    "ModelFamily",
    "Preset",
    "ProteinCNNConfig",
    "ProteinCNNForSequenceClassification",
    "ProteinCNNForTokenClassification",
    "ProteinCNNModel",
    "ProteinConfig",
    "ProteinModelOutput",
    "ProteinPreTrainedModel",
    "SequenceClassificationHead",
    "TokenClassificationHead",
    "balanced_class_weights",
    "build_preset",
    "classification_loss",
    "masked_pool",
    "presets",
    "register_family",
]
