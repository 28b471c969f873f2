"""Configuration of the subcellular-localization CNN + BiLSTM (seed 003, "Sequential Protein Subcellular Localization
Classification", Han 2020, adapted from J. J. Almagro Armenteros' DTU deep-learning exercises)."""

from __future__ import annotations

from ..configuration_utils import ProteinConfig

TRUNCATION_MODES = ("head_tail", "head", "tail")
INPUT_ENCODINGS = ("one_hot", "embedding")
POOLING_MODES = ("final", "final_max")


class LocalizationConfig(ProteinConfig):
    """Per-residue features -> two parallel convolutions (kernels 3 and 5) -> a kernel-3 convolution -> BiLSTM over
    the residues -> dense + ReLU -> dropout -> one logit per location.

    The defaults are the seed's network (`FILTERS = 10`, `HIDDEN_LAYERS = 15`, dense `HIDDEN_LAYERS * 2 = 30`,
    `DROP_RATE = 0.5`, sequences cut to 1,000 residues); larger `num_filters` / `lstm_hidden_size` / `dense_size`
    scale it up (see the presets in `modeling/localization/__init__.py`).

    Args:
        input_encoding: "one_hot" (default; 20 amino acids + one "other" channel for X, U, O, B, Z, J and special
            tokens, `modeling.layers.one_hot_residues`) or "embedding" (a learned `embedding_size` vector per token).
            The seed fed 20 per-residue features (the DTU exercise's sequence profiles, which MultiLoc does not ship);
            one-hot is the featurisation available for any raw sequence.
        embedding_size: width of the learned embedding; used only with `input_encoding="embedding"`.
        num_filters: filters of each of the two parallel convolutions (kernel 3 and kernel 5, ReLU, "same" padding);
            the third convolution (kernel 3, ReLU) has `2 * num_filters`. Seed: 10.
        lstm_hidden_size: units per direction of the bidirectional LSTM; the final states of both directions,
            concatenated, represent the protein. Seed: 15.
        dense_size: units of the dense ReLU layer after the LSTM. Seed: 30 (= 2 x 15).
        pooling: how the BiLSTM outputs become one protein vector. "final" (default, the seed's): the final state of
            each direction, concatenated (2H). "final_max" (not in the seed): those plus the maximum of each
            direction's outputs over the protein's residues (4H), so that a short motif anywhere in a long protein
            (a transmembrane helix, a signal in the middle) reaches the classifier without having to survive up to
            1,000 recurrent steps.
        dropout: dropout between the dense layer and the output layer. Seed: 0.5.
        max_residues: longest input, in tokens, the network reads; longer proteins are cut by the model itself, with
            a warning, so that every entry point (Trainer, pipeline, raw calls) cuts the same way. `None`: no cut.
            Seed and DeepLoc: 1,000.
        truncation: which residues of a longer protein are kept. "head_tail" (default) keeps the first
            `ceil(max_residues / 2)` and the last `floor(max_residues / 2)`: sorting signals sit at both ends
            (N-terminal signal peptides and mitochondrial / chloroplast transit peptides; C-terminal PTS1, KDEL ER
            retention, GPI and tail anchors), and it is how DeepLoc and the DTU exercise data cut proteins to 1,000
            (first 500 + last 500). "head" keeps the first `max_residues`, "tail" the last.
        **kwargs: `ProteinConfig` fields. The seed's inputs are unframed: `prepend_cls=False`, `append_eos=False`.
            `max_length` stays `None`: the model accepts any length and applies `max_residues` itself.
    """

    model_type = "localization_cnn_bilstm"

    def __init__(
        self,
        *,
        input_encoding: str = "one_hot",
        embedding_size: int = 21,
        num_filters: int = 10,
        lstm_hidden_size: int = 15,
        dense_size: int = 30,
        pooling: str = "final",
        dropout: float = 0.5,
        max_residues: int | None = 1000,
        truncation: str = "head_tail",
        **kwargs,
    ):
        if input_encoding not in INPUT_ENCODINGS:
            raise ValueError(f"input_encoding must be one of {INPUT_ENCODINGS}, got {input_encoding!r}")
        if pooling not in POOLING_MODES:
            raise ValueError(f"pooling must be one of {POOLING_MODES}, got {pooling!r}")
        if truncation not in TRUNCATION_MODES:
            raise ValueError(f"truncation must be one of {TRUNCATION_MODES}, got {truncation!r}")
        if max_residues is not None and max_residues < 1:
            raise ValueError(f"max_residues must be a positive number of tokens or None, got {max_residues}")
        for name, value in (
            ("embedding_size", embedding_size),
            ("num_filters", num_filters),
            ("lstm_hidden_size", lstm_hidden_size),
            ("dense_size", dense_size),
        ):
            if value < 1:
                raise ValueError(f"{name} must be at least 1, got {value}")
        self.input_encoding = input_encoding
        self.embedding_size = embedding_size
        self.num_filters = num_filters
        self.lstm_hidden_size = lstm_hidden_size
        self.dense_size = dense_size
        self.pooling = pooling
        self.dropout = dropout
        self.max_residues = max_residues
        self.truncation = truncation
        kwargs.setdefault("prepend_cls", False)
        kwargs.setdefault("append_eos", False)
        super().__init__(**kwargs)

    @property
    def receptive_field(self) -> int:
        """Residues one position of the last convolution sees: 5 (kernel-5 branch) + 3 - 1 = 7."""
        return 5 + 3 - 1
