"""proteinhub model families; importing this registers all of them with the transformers Auto classes."""

from . import (
    autoencoder,  # noqa: F401  (CNN autoencoder)
    localization,  # noqa: F401  (registers the localization CNN + BiLSTM)
    phosphosite,  # noqa: F401  (registers the phosphosite families)
    proteinbert,  # noqa: F401
    secondary_structure,  # noqa: F401  (GRU/LSTM secondary-structure models)
    unirep,  # noqa: F401  (UniRep-style LSTM / mLSTM language models)
)
from .cnn import (
    ProteinCNNConfig,
    ProteinCNNForSequenceClassification,
    ProteinCNNForTokenClassification,
    ProteinCNNModel,
)
from .configuration_utils import ProteinConfig
from .heads import SequenceClassificationHead, TokenClassificationHead, masked_pool
from .losses import balanced_class_weights, classification_loss
from .modeling_utils import ProteinModelOutput, ProteinPreTrainedModel
from .registry import FAMILIES, ModelFamily, Preset, build_preset, presets, register_family

__all__ = [
    "FAMILIES",
    "ModelFamily",
    "Preset",
    "ProteinCNNConfig",
    "ProteinCNNForSequenceClassification",
    "ProteinCNNForTokenClassification",
    "ProteinCNNModel",
    "ProteinConfig",
    "ProteinModelOutput",
    "ProteinPreTrainedModel",
    "SequenceClassificationHead",
    "TokenClassificationHead",
    "balanced_class_weights",
    "build_preset",
    "classification_loss",
    "masked_pool",
    "presets",
    "register_family",
]
