"""Convolutional autoencoder of seed 004 (the UniRep reproduction project): registers `cnn_autoencoder` with
AutoConfig and AutoModel, with the seed's two latent sizes as presets."""

from ..registry import ModelFamily, Preset, register_family
from .configuration_autoencoder import CNNAutoencoderConfig
from .modeling_autoencoder import CNNAutoencoderModel, CNNAutoencoderPreTrainedModel

__all__ = ["CNNAutoencoderConfig", "CNNAutoencoderModel", "CNNAutoencoderPreTrainedModel"]

_SEED = "seed 004 (UniRep reproduction project), sections 5(c).1 and 5(b).1, Adam lr 1e-4"

register_family(
    ModelFamily(
        config_class=CNNAutoencoderConfig,
        models={"AutoModel": CNNAutoencoderModel},
        lora_target_modules=("output_conv", "output_projection"),
        presets=(
            Preset(
                name="cnn-autoencoder-2x50",
                auto_class="AutoModel",
                config={"latent_channels": 2, "latent_length": 50},
                paper=f"{_SEED}: latent z of 2 x 50; stability Spearman rho 0.35 (the seed's CNN result)",
            ),
            Preset(
                name="cnn-autoencoder-4x100",
                auto_class="AutoModel",
                config={"latent_channels": 4, "latent_length": 100},
                paper=f"{_SEED}: latent z of 4 x 100",
            ),
        ),
    )
)
