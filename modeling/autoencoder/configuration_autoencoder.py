"""Configuration of the convolutional autoencoder of seed 004 (the UniRep reproduction project, section 5(c).1)."""

from __future__ import annotations

from ..configuration_utils import ProteinConfig


class CNNAutoencoderConfig(ProteinConfig):
    """Embedding -> three k5 encoder convs with average, average and max pooling to a latent `z` -> a mirrored
    three-conv decoder back to full length -> a k3 and a k1 conv to per-position token logits.

    The seed pads every protein to a fixed length (500 residues) and reconstructs it; so does this model: inputs
    shorter than `sequence_length` are padded to it inside `forward` (outputs are cropped back), which makes a
    protein's `z` independent of the batch it is in.

    Args:
        sequence_length: fixed input length in residues (seed: 500); `max_length` defaults to it.
        embedding_size: channels of the token embedding (seed: 23 letters -> 12 channels); also the width of the
            decoder's last feature map (`hidden_size`, the `last_hidden_state` of the model).
        encoder_channels: output channels of the first two encoder convs (ReLU after each); the third conv maps to
            `latent_channels` without ReLU ("to make z as general as possible").
        latent_channels: channels of z (seed: 2 or 4).
        latent_length: positions of z (seed: 50 or 100); the first two pools average over `pool_size` positions,
            the third max-pools to exactly `latent_length` (adaptive).
        pool_size: window of the two average pools.
        kernel_size: kernel of the six encoder/decoder convs (seed: 5, 'same' padding).
        **kwargs: `ProteinConfig` fields (no `<cls>`/`<eos>` framing by default, as in the seed).
    """

    model_type = "cnn_autoencoder"

    def __init__(
        self,
        sequence_length: int = 500,
        embedding_size: int = 12,
        encoder_channels: tuple[int, int] | list[int] = (8, 4),
        latent_channels: int = 2,
        latent_length: int = 50,
        pool_size: int = 2,
        kernel_size: int = 5,
        **kwargs,
    ):
        if kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd ('same' padding), got {kernel_size}")
        if len(encoder_channels) != 2:
            raise ValueError(f"encoder_channels takes two widths, got {encoder_channels}")
        if latent_length > sequence_length // pool_size**2:
            raise ValueError(
                f"latent_length {latent_length} exceeds sequence_length / pool_size^2 = "
                f"{sequence_length // pool_size**2}: the max pool can only shrink"
            )
        self.sequence_length = sequence_length
        self.embedding_size = embedding_size
        self.encoder_channels = list(encoder_channels)
        self.latent_channels = latent_channels
        self.latent_length = latent_length
        self.pool_size = pool_size
        self.kernel_size = kernel_size
        kwargs.setdefault("prepend_cls", False)
        kwargs.setdefault("append_eos", False)
        kwargs.setdefault("max_length", sequence_length)
        super().__init__(**kwargs)

    @property
    def hidden_size(self) -> int:
        """Width of `last_hidden_state` (the decoder's last feature map)."""
        return self.embedding_size

    @property
    def latent_size(self) -> int:
        """Length of the flattened latent representation z."""
        return self.latent_channels * self.latent_length
