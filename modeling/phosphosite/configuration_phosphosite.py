"""Configurations of the phosphorylation-site window classifiers (seed 000: VGG-like, ResNet-like, CNN-GRU, CNN-LSTM).

Each model reads a window of `window_size` residues centred on a candidate S/T or Y site, one-hot encoded as in the
paper (20 amino acids + a padding symbol for positions beyond the protein ends), and outputs one logit: the
probability that the centre residue is phosphorylated.
"""

from __future__ import annotations

from ..configuration_utils import ProteinConfig


class PhosphositeConfig(ProteinConfig):
    """Fields shared by the four phosphosite architectures.

    Args:
        window_size: residues per input window, centred on the site (the paper's L: 15, 33 or 51; odd).
        num_filters: channels of the first convolution (the paper's F); later stages double it.
        dropout: dropout after each convolution (paper: 0.1 VGG, 0.05 CNN-RNN; it gives none for the ResNet, whose
            default 0.3 is ours: without it the ResNet memorises the 7,280 Y training windows in two epochs, test
            accuracy 54.0 % vs 63.0 % with 0.3 on Y, L = 33; docs/results/phosphosite.md).
        site_residues: residues this model scores at the window centre ("ST" or "Y"); pipelines refuse others.
        input_noise: amplitude of the paper's data augmentation: uniform noise in [-a, a] added to the one-hot input
            while training (paper DA: 0.1; 0 disables).
        soft_label_max: the paper's soft labels while training: y=0 -> p, y=1 -> 1-p with p ~ U(0, soft_label_max)
            (paper DA: 0.4; 0 disables).
        **kwargs: `ProteinConfig` fields. Windows are unframed (`prepend_cls=False`, `append_eos=False`), the model
            has one output (`num_labels=1`, BCE on a sigmoid).
    """

    model_type = "phosphosite"

    def __init__(
        self,
        *,
        window_size: int = 33,
        num_filters: int = 32,
        dropout: float = 0.1,
        site_residues: str = "ST",
        input_noise: float = 0.0,
        soft_label_max: float = 0.0,
        **kwargs,
    ):
        if window_size % 2 == 0 or window_size < 9:
            raise ValueError(f"window_size must be odd and at least 9 (three 2x poolings), got {window_size}")
        if not site_residues or set(site_residues) - set("STY"):
            raise ValueError(f"site_residues must be a subset of 'STY', got {site_residues!r}")
        self.window_size = window_size
        self.num_filters = num_filters
        self.dropout = dropout
        self.site_residues = site_residues
        self.input_noise = input_noise
        self.soft_label_max = soft_label_max
        kwargs.setdefault("num_labels", 1)
        kwargs.setdefault("id2label", {0: "phosphorylated"})
        kwargs.setdefault("label2id", {"phosphorylated": 0})
        kwargs.setdefault("problem_type", "multi_label_classification")
        kwargs.setdefault("prepend_cls", False)
        kwargs.setdefault("append_eos", False)
        kwargs.setdefault("max_length", window_size)
        super().__init__(**kwargs)


class PhosphositeVGGConfig(PhosphositeConfig):
    """VGG-like: 6 k3 convs (BN, ReLU, dropout), max-pool 2 after every two, flatten -> dense 1. F=32: ~100k params."""

    model_type = "phosphosite_vgg"

    def __init__(self, *, num_filters: int = 32, dropout: float = 0.1, **kwargs):
        super().__init__(num_filters=num_filters, dropout=dropout, **kwargs)


class PhosphositeResNetConfig(PhosphositeConfig):
    """ResNet-like: stem conv + 6 residual blocks, stride 2 + 1x1 shortcut every two blocks. F=16: ~62k params.

    Dropout 0.3 after the first conv of each block is ours (the paper gives none); `dropout=0.0` is the paper's text.
    """

    model_type = "phosphosite_resnet"

    def __init__(self, *, num_filters: int = 16, dropout: float = 0.3, **kwargs):
        super().__init__(num_filters=num_filters, dropout=dropout, **kwargs)


class PhosphositeCNNGRUConfig(PhosphositeConfig):
    """Two VGG blocks -> GRU(last conv channels) -> GRU(1) -> max over length. F=32: ~49k params."""

    model_type = "phosphosite_cnn_gru"

    def __init__(self, *, num_filters: int = 32, dropout: float = 0.05, **kwargs):
        super().__init__(num_filters=num_filters, dropout=dropout, **kwargs)


class PhosphositeCNNLSTMConfig(PhosphositeConfig):
    """Two VGG blocks -> LSTM(last conv channels) -> LSTM(1) -> max over length. F=32: ~58k params."""

    model_type = "phosphosite_cnn_lstm"

    def __init__(self, *, num_filters: int = 32, dropout: float = 0.05, **kwargs):
        super().__init__(num_filters=num_filters, dropout=dropout, **kwargs)
