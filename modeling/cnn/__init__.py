from .configuration_cnn import ProteinCNNConfig
from .modeling_cnn import (
    ProteinCNNForSequenceClassification,
    ProteinCNNForTokenClassification,
    ProteinCNNModel,
    ProteinCNNPreTrainedModel,
)

__all__ = [
    "ProteinCNNConfig",
    "ProteinCNNForSequenceClassification",
    "ProteinCNNForTokenClassification",
    "ProteinCNNModel",
    "ProteinCNNPreTrainedModel",
]
