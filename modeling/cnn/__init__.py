from ..registry import ModelFamily, Preset, register_family
from .configuration_cnn import ProteinCNNConfig
from .modeling_cnn import (
    ProteinCNNForSequenceClassification,
    ProteinCNNForTokenClassification,
    ProteinCNNModel,
    ProteinCNNPreTrainedModel,
)

register_family(
    ModelFamily(
        config_class=ProteinCNNConfig,
        models={
            "AutoModel": ProteinCNNModel,
            "AutoModelForSequenceClassification": ProteinCNNForSequenceClassification,
            "AutoModelForTokenClassification": ProteinCNNForTokenClassification,
        },
        # not the dilated `conv`s: peft <= 0.21 builds the LoRA branch without the base conv's dilation, so its
        # output length differs and the forward fails (huggingface/peft#3697)
        lora_target_modules=("project", "out_proj"),
        presets=(
            Preset(
                name="protein-cnn-small",
                auto_class="AutoModelForTokenClassification",
                # dilations 1, 4, 16, 64 see 341 residues: +0.04 validation ROC-AUC over 1, 2, 4, 8 on AA_LDR
                config={
                    "embedding_size": 32,
                    "hidden_size": 64,
                    "num_layers": 4,
                    "kernel_size": 5,
                    "dilation_cycle": [1, 4, 16, 64],
                },
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
    "ProteinCNNConfig",
    "ProteinCNNForSequenceClassification",
    "ProteinCNNForTokenClassification",
    "ProteinCNNModel",
    "ProteinCNNPreTrainedModel",
]
