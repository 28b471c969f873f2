"""Configuration of the dilated residual CNN (`protein_cnn`), proteinhub's small general-purpose baseline."""

from __future__ import annotations

from ..configuration_utils import ProteinConfig


class ProteinCNNConfig(ProteinConfig):
    """Dilated residual 1D CNN over residues, with sequence- and residue-level heads.

    It is not from one of the five papers: it is the small, fast model of the quickstart (disorder prediction on
    AA_LDR) and a strong local-context baseline for any per-residue task.

    Args:
        embedding_size: width of the learned residue embedding.
        hidden_size: channels of every residual block (and the size of the per-residue features).
        num_layers: number of residual blocks.
        kernel_size: convolution kernel width in residues (odd).
        dilation_cycle: dilations used by consecutive blocks, repeated; (1, 2, 4, 8) with kernel 5 gives a receptive
            field of 1 + 4 * (1 + 2 + 4 + 8) = 61 residues after four blocks.
        dropout: dropout inside each block.
        classifier_dropout: dropout before the classification layer.
        pooling: how a sequence head pools residues: "mean", "max" or "first".
        **kwargs: shared fields of `ProteinConfig` (framing, class weights, label smoothing, ...) and
            `PreTrainedConfig` (`num_labels`, `id2label`, `problem_type`, ...).
    """

    model_type = "protein_cnn"

    def __init__(
        self,
        *,
        embedding_size: int = 32,
        hidden_size: int = 64,
        num_layers: int = 4,
        kernel_size: int = 5,
        dilation_cycle: tuple[int, ...] | list[int] = (1, 2, 4, 8),
        dropout: float = 0.1,
        classifier_dropout: float = 0.1,
        pooling: str = "mean",
        **kwargs,
    ):
        if kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd so that outputs stay aligned with residues, got {kernel_size}")
        self.embedding_size = embedding_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.kernel_size = kernel_size
        self.dilation_cycle = list(dilation_cycle)
        self.dropout = dropout
        self.classifier_dropout = classifier_dropout
        self.pooling = pooling
        super().__init__(**kwargs)

    @property
    def receptive_field(self) -> int:
        """Residues seen by one output position."""
        dilations = [self.dilation_cycle[i % len(self.dilation_cycle)] for i in range(self.num_layers)]
        return 1 + (self.kernel_size - 1) * sum(dilations)
