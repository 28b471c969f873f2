"""Configuration of the UniRep-style recurrent protein language model (seed 004, the UniRep reproduction project)."""

from __future__ import annotations

from ..configuration_utils import ProteinConfig

CELLS = ("lstm", "mlstm")


class UniRepConfig(ProteinConfig):
    """Embedding -> `num_layers` recurrent layers (dropout between them) -> next-token head.

    Two cells: `"lstm"` (PyTorch's fused `nn.LSTM`, the seed's model: embedding 30, 1-2 layers of 256-1024 units)
    and `"mlstm"` (UniRep's multiplicative LSTM, Krause et al. 2016, weight-normalised as in UniRep: embedding 10,
    1 layer of 1900 units, or 4 layers of 256 / 64). `proteinhub convert unirep` loads the published UniRep weights
    into the `"mlstm"` model.

    Args:
        embedding_size: width of the token embedding (seed: 30; UniRep: 10).
        hidden_size: units per recurrent layer (seed: 256 / 512 / 1024; UniRep: 1900, 256 or 64).
        num_layers: stacked recurrent layers (seed: 1 or 2; UniRep: 1 for 1900 units, 4 for 256 / 64).
        cell: "lstm" or "mlstm".
        dropout: dropout on the output of every layer but the last (seed: 0 or 0.5, PyTorch's `nn.LSTM(dropout=)`
            semantics; UniRep: 0).
        weight_norm: mLSTM only: every weight matrix is `g * W / ||W||` with the norm over each output column
            (UniRep's `tf.nn.l2_normalize(W, dim=0) * g`).
        **kwargs: `ProteinConfig` fields (framing: `<cls>` is UniRep's start token, `<eos>` its stop token).
    """

    model_type = "unirep"

    def __init__(
        self,
        embedding_size: int = 10,
        hidden_size: int = 1900,
        num_layers: int = 1,
        cell: str = "mlstm",
        dropout: float = 0.0,
        weight_norm: bool = True,
        **kwargs,
    ):
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {CELLS}, got {cell!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.embedding_size = embedding_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.cell = cell
        self.dropout = dropout
        self.weight_norm = weight_norm
        super().__init__(**kwargs)
