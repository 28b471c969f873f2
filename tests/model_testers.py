"""Tiny test configurations of every model family, and the cases the common battery runs on.

`TESTERS` maps a family's `model_type` to a `ModelTester`: the tiny config (2 layers, small widths) and the batch
(3 short sequences of different lengths) of transformers' `<Model>ModelTester`. `tests/conftest.py` parametrises the
battery in `test_modeling_common.py` over every class of every family in `proteinhub.modeling.FAMILIES`; a registered
family without an entry here makes the battery fail. Adding a family: register it, then add one `ModelTester` below.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from proteinhub.modeling import FAMILIES, ModelFamily, ProteinPreTrainedModel
from proteinhub.tokenization import ProteinTokenizer
from proteinhub.tokenization.tokenization_protein import STANDARD_AMINO_ACIDS

IGNORE_INDEX = -100


@dataclass(frozen=True)
class ModelTester:
    """The tiny configuration of one family.

    Args:
        config_kwargs: keyword arguments of the family's config that make it tiny.
        lengths: residues per test sequence (the batch size is their number); different lengths exercise padding,
            a window model takes its window size for all.
        num_labels: classes of the test heads (1: a single-logit binary classifier trained with BCE).
    """

    config_kwargs: dict
    lengths: tuple[int, ...] = (9, 14, 5)
    num_labels: int = 3


_PHOSPHOSITE = ModelTester(config_kwargs={"window_size": 9, "num_filters": 4}, lengths=(9, 9, 9), num_labels=1)

TESTERS: dict[str, ModelTester] = {
    "protein_cnn": ModelTester(
        config_kwargs={
            "embedding_size": 8,
            "hidden_size": 16,
            "num_layers": 2,
            "kernel_size": 3,
            "dilation_cycle": [1, 2],
        }
    ),
    "phosphosite_vgg": _PHOSPHOSITE,
    "phosphosite_resnet": _PHOSPHOSITE,
    "phosphosite_cnn_gru": _PHOSPHOSITE,
    "phosphosite_cnn_lstm": _PHOSPHOSITE,
}

# the task each Auto class stands for in the battery; a family registering another Auto class fails loudly until
# the battery learns its inputs and outputs
HEADS = {
    "AutoModel": None,
    "AutoModelForSequenceClassification": "sequence",
    "AutoModelForTokenClassification": "token",
}


@dataclass
class ModelCase:
    """One model class of one family, with the helpers every battery test needs."""

    family: ModelFamily
    auto_name: str
    model_class: type[ProteinPreTrainedModel]
    tester: ModelTester | None = field(repr=False)

    @property
    def id(self) -> str:
        return self.model_class.__name__

    @property
    def head(self) -> str | None:
        """The task: "sequence", "token" or None (a backbone), from the Auto class the family registered it under."""
        if self.auto_name not in HEADS:
            raise NotImplementedError(f"the common battery does not know {self.auto_name} yet: add it to HEADS")
        return HEADS[self.auto_name]

    def require_tester(self) -> ModelTester:
        if self.tester is None:
            raise LookupError(
                f"model family {self.family.model_type!r} is registered but has no tiny test config: add a "
                "ModelTester for it to TESTERS in tests/model_testers.py"
            )
        return self.tester

    def config(self, **overrides):
        tester = self.require_tester()
        labels = {i: f"class_{chr(ord('a') + i)}" for i in range(tester.num_labels)}
        kwargs = {"num_labels": tester.num_labels, "id2label": labels, "label2id": {v: k for k, v in labels.items()}}
        return self.family.config_class(**{**tester.config_kwargs, **kwargs, **overrides})

    def model(self, seed: int = 0, **overrides) -> ProteinPreTrainedModel:
        """A freshly initialised tiny model in eval mode (deterministic for a seed)."""
        torch.manual_seed(seed)
        return self.model_class(self.config(**overrides)).eval()

    def tokenizer(self) -> ProteinTokenizer:
        return ProteinTokenizer(**self.config().tokenizer_kwargs)

    @property
    def sequences(self) -> list[str]:
        """Deterministic test proteins of the tester's lengths."""
        generator = torch.Generator().manual_seed(1234)
        return [
            "".join(STANDARD_AMINO_ACIDS[i] for i in torch.randint(0, 20, (n,), generator=generator).tolist())
            for n in self.require_tester().lengths
        ]

    def batch(self, sequences: list[str] | None = None) -> dict[str, torch.Tensor]:
        """`input_ids` and `attention_mask` of the (padded) batch."""
        encoding = self.tokenizer()(sequences or self.sequences, padding=True, return_tensors="pt")
        return {"input_ids": encoding["input_ids"], "attention_mask": encoding["attention_mask"]}

    def labels(self, batch: dict[str, torch.Tensor], seed: int = 0) -> torch.Tensor:
        """Random labels fitting the head: (batch,) or (batch, length) with -100 on special tokens and padding;
        class ids, or 0./1. floats for a single-logit binary model."""
        if self.head is None:
            raise TypeError(f"{self.id} is a backbone: it takes no labels")
        num_labels = self.require_tester().num_labels
        input_ids = batch["input_ids"]
        shape = input_ids.shape if self.head == "token" else input_ids.shape[:1]
        generator = torch.Generator().manual_seed(seed)
        labels = torch.randint(0, max(num_labels, 2), shape, generator=generator)
        if num_labels == 1:
            labels = labels.float()
        if self.head == "token":
            special = torch.isin(input_ids, torch.tensor(self.tokenizer().all_special_ids))
            labels = labels.masked_fill(special, IGNORE_INDEX)
        return labels

    @staticmethod
    def main_output(outputs) -> torch.Tensor:
        """The logits of a head, the last hidden state of a backbone."""
        logits = getattr(outputs, "logits", None)
        return logits if logits is not None else outputs.last_hidden_state

    def loss(self, model: ProteinPreTrainedModel, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """The head's own loss; for a backbone, a fixed random projection of the features (reaches every weight)."""
        if self.head is not None:
            return model(**batch, labels=self.labels(batch)).loss
        hidden = model(**batch).last_hidden_state
        projection = torch.randn(hidden.shape[-1], generator=torch.Generator().manual_seed(0))
        return (hidden @ projection).pow(2).mean()


def model_cases() -> list[ModelCase]:
    """Every model class of every registered family, each with its family's tester (None if missing)."""
    return [
        ModelCase(family, auto_name, model_class, TESTERS.get(model_type))
        for model_type, family in FAMILIES.items()
        for auto_name, model_class in family.models.items()
    ]
