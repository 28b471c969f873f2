"""Secondary structure (3-state) models of seed 001: GRU/LSTM encoders with a dilated CNN or autoregressive head.

Registers `secondary_structure` with AutoConfig, AutoModel (the encoder) and AutoModelForTokenClassification, plus
the presets of Table 1 and small presets that train on a CPU. The `secondary-structure` pipeline task is registered
by `import proteinhub.inference.pipelines`.
"""

from ..registry import ModelFamily, Preset, register_family
from .configuration_secondary_structure import SECONDARY_STRUCTURE_LABELS, SecondaryStructureConfig
from .modeling_secondary_structure import (
    SecondaryStructureForTokenClassification,
    SecondaryStructureModel,
    SecondaryStructurePreTrainedModel,
)

__all__ = [
    "PRESETS",
    "SECONDARY_STRUCTURE_LABELS",
    "SecondaryStructureConfig",
    "SecondaryStructureForTokenClassification",
    "SecondaryStructureModel",
    "SecondaryStructurePreTrainedModel",
]

_PAPER = "Sommer et al., 'Examining Gated Recurrent Network Architectures in Protein Analysis' (seed 001)"
_TOKEN = "AutoModelForTokenClassification"
# Table 1: 3 RNN layers of 1024 units per direction, encoder output 2048, CNN head width 2048 (uni) / 512 (bi)
_TABLE_1 = (
    # (name stem, rnn_type, bidirectional, classifier width, Table 1 row, parameters)
    ("unilstm-cnn", "lstm", False, 2048, "UniLSTM/CNN: Q3 67.81 % on CB513, 31 epochs, SGD lr 0.01", 44_600_000),
    ("bilstm-cnn", "lstm", True, 512, "BiLSTM/CNN: Q3 70.63 % on CB513, 41 epochs, SGD lr 0.1", 69_300_000),
    ("unigru-cnn", "gru", False, 2048, "UniGRU/CNN: Q3 67.62 % on CB513, 30 epochs, SGD lr 0.01", 39_200_000),
    ("bigru-cnn", "gru", True, 512, "BiGRU/CNN: Q3 70.68 % on CB513, 27 epochs, SGD lr 0.1", 54_300_000),
)
_PAPER_ENCODER = {"embedding_size": 128, "rnn_hidden_size": 1024, "num_rnn_layers": 3, "hidden_size": 2048}
# CPU-sized (0.25-0.3M parameters): 2 layers of 64 units per direction. Measured on one core of the 2-core CI
# machine (CPU time, batches of 16 x 256 residues): BiGRU 10.5k and BiLSTM 26.5k training residues/s, so one epoch of
# FLIP train (2.48M residues) costs about 4 and 1.6 CPU minutes; at 128 units the BiGRU needs 8.5 minutes per epoch
_CPU_MODEL = {
    "embedding_size": 128,
    "rnn_hidden_size": 64,
    "num_rnn_layers": 2,
    "hidden_size": 128,
    "classifier_hidden_size": 128,
    "autoregressive_hidden_size": 64,
}

PRESETS = (
    *(
        Preset(
            name=f"secondary-structure-{stem}",
            auto_class=_TOKEN,
            config={
                **_PAPER_ENCODER,
                "rnn_type": rnn_type,
                "bidirectional": bidirectional,
                "classifier": "cnn",
                "classifier_hidden_size": width,
            },
            paper=f"{_PAPER}, Table 1, {row}",
            paper_parameters=parameters,
        )
        for stem, rnn_type, bidirectional, width, row, parameters in _TABLE_1
    ),
    Preset(
        name="secondary-structure-bigru-ar",
        auto_class=_TOKEN,
        config={
            **_PAPER_ENCODER,
            "rnn_type": "gru",
            "bidirectional": True,
            "classifier": "autoregressive",
            "autoregressive_hidden_size": 512,
        },
        paper=f"{_PAPER}, section II.B.2: BiGRU encoder with the autoregressive (PixelCNN-style) classifier, block "
        "size 50; the head's sizes are not given (width 512 chosen like the BiGRU/CNN head), nor is a parameter count "
        "or a score ('far behind all the others')",
    ),
    *(
        Preset(
            name=f"secondary-structure-bi{rnn_type}-{classifier}-cpu",
            auto_class=_TOKEN,
            config={**_CPU_MODEL, "rnn_type": rnn_type, "bidirectional": True, "classifier": classifier},
            paper=f"proteinhub CPU-sized Bi{rnn_type.upper()}/{'CNN' if classifier == 'cnn' else 'AR'} for the "
            f"reproduction in docs/results/secondary_structure.md; not a paper row",
        )
        for rnn_type, classifier in (("gru", "cnn"), ("lstm", "cnn"), ("gru", "autoregressive"))
    ),
)

register_family(
    ModelFamily(
        config_class=SecondaryStructureConfig,
        models={"AutoModel": SecondaryStructureModel, _TOKEN: SecondaryStructureForTokenClassification},
        # peft cannot wrap nn.GRU/nn.LSTM. It wraps the CNN head's weight-normalised convs (torch parametrizations),
        # but merge_and_unload() then leaves them unchanged (measured with peft 0.21.2: merged outputs differed by
        # 0.06 from the adapter's), and the dilated one fails outright (its LoRA branch lacks the dilation,
        # huggingface/peft#3697). The autoregressive head's causal convs pad inside forward, which a LoRA branch
        # does not. So LoRA adapts the encoder's output projection; train the heads in full (modules_to_save=
        # ["classifier", "classifier_norm"])
        lora_target_modules=("output_projection",),
        presets=PRESETS,
    )
)
