"""Configuration of the secondary-structure models of seed 001 (Sommer et al., "Examining Gated Recurrent Network
Architectures in Protein Analysis"): a GRU or LSTM encoder with a dilated CNN head or an autoregressive head."""

from __future__ import annotations

from ..configuration_utils import ProteinConfig

RNN_TYPES = ("gru", "lstm")
CLASSIFIERS = ("cnn", "autoregressive")
# 3-state secondary structure in the order of the TAPE/ProteinBERT files (0 = helix, 1 = strand, 2 = other/coil)
SECONDARY_STRUCTURE_LABELS = ("H", "E", "C")


class SecondaryStructureConfig(ProteinConfig):
    """Recurrent encoder + per-residue classifier for 3-state secondary structure (H / E / C).

    Encoder (paper section II.A): token embedding -> `num_rnn_layers` stacked GRU or LSTM layers, uni- or
    bidirectional, each followed by dropout -> one linear layer to `hidden_size` (a fixed encoder output size, so a
    bidirectional encoder feeds the classifier the same width as a unidirectional one).

    Classifiers (section II.B): `"cnn"` = masked batch norm -> weight-normalised dilated Conv1d -> ReLU -> dropout
    -> weight-normalised Conv1d to `num_labels` (TAPE's SimpleConv with the paper's dilation); `"autoregressive"` =
    PixelCNN-style gated masked convolutions over the encoder output and the labels of the preceding residues,
    teacher-forced in training and decoded block by block at inference.

    The Table 1 sizes follow from the paper's text and parameter counts: 3 RNN layers of 1024 units (per direction),
    `hidden_size` 2048, classifier width 2048 (unidirectional rows) or 512 (bidirectional rows), classifier kernels
    5 and 3 (TAPE's SimpleConv). With these, the four rows count 44.6M / 69.3M / 39.2M / 54.3M parameters, as in
    Table 1 (see the presets in `__init__.py`).

    Args:
        embedding_size: width of the token embedding (paper: 128).
        rnn_type: "gru" or "lstm".
        bidirectional: bidirectional RNN layers (paper: the Bi* rows).
        rnn_hidden_size: units per RNN layer and direction (paper: 1024).
        num_rnn_layers: stacked RNN layers (paper: 3).
        rnn_dropout: dropout on the outputs of every RNN layer, the last one included (paper: 0.2).
        hidden_size: encoder output size, the width of the linear layer after the RNN (Table 1 counts imply 2048).
        classifier: "cnn" or "autoregressive".
        classifier_hidden_size: channels of the CNN head's first convolution (paper: 2048 uni / 512 bi).
        classifier_kernel_size: kernel of the CNN head's first (dilated) convolution, in residues (TAPE: 5; odd).
        classifier_dilation: dilation of that convolution. The paper uses "dilated convolutions" without giving the
            factor; 2 is our choice (receptive field 9 residues with kernel 5).
        classifier_output_kernel_size: kernel of the convolution to the classes (TAPE: 3; odd).
        classifier_dropout: dropout between the two convolutions (not stated in the paper; 0.2 like the encoder).
        autoregressive_hidden_size: channels of the autoregressive head.
        autoregressive_num_layers: gated masked-convolution blocks of the autoregressive head.
        autoregressive_kernel_size: kernel of its masked convolutions; a block sees this many preceding positions.
        autoregressive_block_size: residues decoded per pass at inference (paper: 50; 1 = fully autoregressive,
            one pass per residue).
        autoregressive_label_dropout: share of the teacher-forced labels replaced by "unknown" during training. The
            paper feeds every true label (0.0) and suspects that the head then leans on them too much; a positive
            value trains the head to predict with the unknown labels it meets at inference.
        **kwargs: `ProteinConfig` fields (framing, `max_length`, class weights, label smoothing) and
            `PreTrainedConfig` fields (`num_labels` defaults to 3 with `id2label` {0: "H", 1: "E", 2: "C"}).
    """

    model_type = "secondary_structure"

    def __init__(
        self,
        *,
        embedding_size: int = 128,
        rnn_type: str = "gru",
        bidirectional: bool = True,
        rnn_hidden_size: int = 1024,
        num_rnn_layers: int = 3,
        rnn_dropout: float = 0.2,
        hidden_size: int = 2048,
        classifier: str = "cnn",
        classifier_hidden_size: int = 512,
        classifier_kernel_size: int = 5,
        classifier_dilation: int = 2,
        classifier_output_kernel_size: int = 3,
        classifier_dropout: float = 0.2,
        autoregressive_hidden_size: int = 128,
        autoregressive_num_layers: int = 3,
        autoregressive_kernel_size: int = 5,
        autoregressive_block_size: int = 50,
        autoregressive_label_dropout: float = 0.0,
        **kwargs,
    ):
        if rnn_type not in RNN_TYPES:
            raise ValueError(f"rnn_type must be one of {RNN_TYPES}, got {rnn_type!r}")
        if classifier not in CLASSIFIERS:
            raise ValueError(f"classifier must be one of {CLASSIFIERS}, got {classifier!r}")
        for name, kernel in (
            ("classifier_kernel_size", classifier_kernel_size),
            ("classifier_output_kernel_size", classifier_output_kernel_size),
        ):
            if kernel % 2 == 0:
                raise ValueError(f"{name} must be odd so that outputs stay aligned with residues, got {kernel}")
        if autoregressive_block_size < 1:
            raise ValueError(f"autoregressive_block_size must be >= 1, got {autoregressive_block_size}")
        if not 0.0 <= autoregressive_label_dropout < 1.0:
            raise ValueError(f"autoregressive_label_dropout must be in [0, 1), got {autoregressive_label_dropout}")
        if "num_labels" not in kwargs and "id2label" not in kwargs:
            kwargs["id2label"] = dict(enumerate(SECONDARY_STRUCTURE_LABELS))
            kwargs["label2id"] = {name: index for index, name in enumerate(SECONDARY_STRUCTURE_LABELS)}
        self.embedding_size = embedding_size
        self.rnn_type = rnn_type
        self.bidirectional = bidirectional
        self.rnn_hidden_size = rnn_hidden_size
        self.num_rnn_layers = num_rnn_layers
        self.rnn_dropout = rnn_dropout
        self.hidden_size = hidden_size
        self.classifier = classifier
        self.classifier_hidden_size = classifier_hidden_size
        self.classifier_kernel_size = classifier_kernel_size
        self.classifier_dilation = classifier_dilation
        self.classifier_output_kernel_size = classifier_output_kernel_size
        self.classifier_dropout = classifier_dropout
        self.autoregressive_hidden_size = autoregressive_hidden_size
        self.autoregressive_num_layers = autoregressive_num_layers
        self.autoregressive_kernel_size = autoregressive_kernel_size
        self.autoregressive_block_size = autoregressive_block_size
        self.autoregressive_label_dropout = autoregressive_label_dropout
        super().__init__(**kwargs)

    @property
    def rnn_output_size(self) -> int:
        """Width of every RNN layer's output (both directions concatenated)."""
        return self.rnn_hidden_size * (2 if self.bidirectional else 1)
