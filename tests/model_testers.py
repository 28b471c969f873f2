"""Tiny test configurations of every model family, and the cases the common battery runs on.

`TESTERS` maps a family's `model_type` to a `ModelTester`: the tiny config (2 layers, small widths) and the batch
(3 short sequences of different lengths) of transformers' `<Model>ModelTester`. `tests/conftest.py` parametrises the
battery in `test_modeling_common.py` over every class of every family in `proteinhub.modeling.FAMILIES`; a registered
family without an entry here makes the battery fail. Adding a family: register it, then add one `ModelTester` below.
"""

from __future__ import annotations

from collections.abc import Callable
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
        variant: name of this tester when a family has several (e.g. two modes of one architecture); it suffixes
            the test ids. A family gives a tuple of testers in `TESTERS` to run the battery once per variant.
        padding_invariant: whether a padded batch gives each protein its outputs alone. False for a model that
            reproduces an original without a padding mask; the battery then checks the unpadded proteins only.
        extra_targets: per head name ("pretraining", ...), a function (config, batch size, generator) -> the
            targets that head takes besides `labels`, e.g. ProteinBERT's GO-annotation targets.
        extra_inputs: a function (config, batch size, generator) -> model inputs besides the tokens that the
            training tests (gradients, Trainer step) pass so that every weight can get a gradient, e.g. ProteinBERT's
            GO-annotation input: all-zero by default, it leaves the weights that multiply it without gradient.
    """

    config_kwargs: dict
    lengths: tuple[int, ...] = (9, 14, 5)
    num_labels: int = 3
    variant: str = ""
    padding_invariant: bool = True
    extra_targets: dict[str, Callable[..., dict[str, torch.Tensor]]] = field(default_factory=dict)
    extra_inputs: Callable[..., dict[str, torch.Tensor]] | None = None


def _annotation_inputs(config, batch_size: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
    """A GO-annotation input vector per protein (the original feeds zeros outside pretraining)."""
    return {"annotations": (torch.rand(batch_size, config.num_annotations, generator=generator) < 0.3).float()}


def _annotation_targets(config, batch_size: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
    """Multi-hot GO-annotation targets; in a batch of several, the last protein has none (it adds no annotation loss,
    as in the original)."""
    annotations = (torch.rand(batch_size, config.num_annotations, generator=generator) < 0.3).float()
    annotations[:, 0] = 1.0
    if batch_size > 1:
        annotations[-1] = 0.0
    return {"annotation_labels": annotations}


_PROTEINBERT = {
    "hidden_size": 16,
    "global_hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "attention_key_size": 8,
    "conv_kernel_size": 3,
    "wide_conv_dilation": 2,
    "num_annotations": 12,
    "classifier_dropout": 0.1,
}

_SECONDARY_STRUCTURE = {
    "embedding_size": 8,
    "rnn_hidden_size": 8,
    "num_rnn_layers": 2,
    "hidden_size": 12,
    "classifier_hidden_size": 10,
    "autoregressive_num_layers": 2,
    "autoregressive_kernel_size": 3,
}

_PHOSPHOSITE = ModelTester(config_kwargs={"window_size": 9, "num_filters": 4}, lengths=(9, 9, 9), num_labels=1)

TESTERS: dict[str, ModelTester | tuple[ModelTester, ...]] = {
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
    "localization_cnn_bilstm": ModelTester(
        config_kwargs={"num_filters": 4, "lstm_hidden_size": 5, "dense_size": 6, "max_residues": 12}
    ),
    "proteinbert": (
        ModelTester(
            config_kwargs=_PROTEINBERT,
            extra_targets={"pretraining": _annotation_targets},
            extra_inputs=_annotation_inputs,
        ),
        # the original without a padding mask, with its fine-tuning features (all layer norms concatenated)
        ModelTester(
            config_kwargs={**_PROTEINBERT, "padding_mode": "faithful", "classifier_features": "concat"},
            variant="faithful",
            padding_invariant=False,
            extra_targets={"pretraining": _annotation_targets},
            extra_inputs=_annotation_inputs,
        ),
    ),
    "secondary_structure": (
        ModelTester(config_kwargs=_SECONDARY_STRUCTURE, variant="cnn"),
        # teacher-forced in training, fully autoregressive decoding (block 1) in eval mode
        ModelTester(
            config_kwargs={
                **_SECONDARY_STRUCTURE,
                "classifier": "autoregressive",
                "autoregressive_hidden_size": 16,
                "autoregressive_block_size": 1,
            },
            variant="autoregressive",
        ),
    ),
    "unirep": (
        # 64 units: PyTorch's default LSTM initialisation needs them to memorise random labels in 40 steps
        ModelTester(config_kwargs={"cell": "lstm", "embedding_size": 64, "hidden_size": 64, "num_layers": 2}),
        # UniRep's weight-normalised multiplicative LSTM
        ModelTester(
            config_kwargs={"cell": "mlstm", "embedding_size": 16, "hidden_size": 32, "num_layers": 2},
            variant="mlstm",
        ),
    ),
    "cnn_autoencoder": ModelTester(
        config_kwargs={"sequence_length": 24, "encoder_channels": [6, 4], "latent_channels": 2, "latent_length": 3}
    ),
}


@dataclass(frozen=True)
class HeadSpec:
    """What the battery needs to know about the task an Auto class stands for.

    Args:
        name: the task, e.g. "sequence", "token", "pretraining".
        per_token: one target per position ((batch, length) labels, -100 on special tokens and padding, padded by
            the token-classification collator) rather than one per protein.
        num_classes: number of classes of the random labels, from the config.
        logits_shape: expected shape of the logits, from (config, batch size, length).
        pipeline: the transformers pipeline task that serves the head, or None (the pipeline test is skipped).
        shift: the logits at position t score the label at t + shift (1: a causal language model, which shifts the
            labels inside its loss as transformers' causal LMs do).
    """

    name: str
    per_token: bool
    num_classes: Callable[..., int]
    logits_shape: Callable[..., tuple[int, ...]]
    pipeline: str | None = None
    shift: int = 0


# the task each Auto class stands for in the battery (None: a backbone); a family registering another Auto class
# fails loudly until the battery learns its inputs and outputs
HEADS: dict[str, HeadSpec | None] = {
    "AutoModel": None,
    "AutoModelForSequenceClassification": HeadSpec(
        "sequence",
        per_token=False,
        num_classes=lambda config: config.num_labels,
        logits_shape=lambda config, batch_size, length: (batch_size, config.num_labels),
        pipeline="text-classification",
    ),
    "AutoModelForTokenClassification": HeadSpec(
        "token",
        per_token=True,
        num_classes=lambda config: config.num_labels,
        logits_shape=lambda config, batch_size, length: (batch_size, length, config.num_labels),
        pipeline="token-classification",
    ),
    # a pretraining language-model head: labels are token ids (the uncorrupted input of a denoising objective)
    "AutoModelForPreTraining": HeadSpec(
        "pretraining",
        per_token=True,
        num_classes=lambda config: config.vocab_size,
        logits_shape=lambda config, batch_size, length: (batch_size, length, config.vocab_size),
    ),
    # a next-token language model: labels are token ids, scored against the logits one position earlier
    "AutoModelForCausalLM": HeadSpec(
        "causal_lm",
        per_token=True,
        num_classes=lambda config: config.vocab_size,
        logits_shape=lambda config, batch_size, length: (batch_size, length, config.vocab_size),
        shift=1,
    ),
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
        variant = self.tester.variant if self.tester is not None else ""
        return f"{self.model_class.__name__}-{variant}" if variant else self.model_class.__name__

    @property
    def head_spec(self) -> HeadSpec | None:
        """The task spec of the Auto class the family registered this class under (None: a backbone)."""
        if self.auto_name not in HEADS:
            raise NotImplementedError(f"the common battery does not know {self.auto_name} yet: add it to HEADS")
        return HEADS[self.auto_name]

    @property
    def head(self) -> str | None:
        """The task: "sequence", "token", "pretraining" or None (a backbone)."""
        spec = self.head_spec
        return spec.name if spec is not None else None

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
        spec = self.head_spec
        if spec is None:
            raise TypeError(f"{self.id} is a backbone: it takes no labels")
        num_classes = spec.num_classes(self.config())
        input_ids = batch["input_ids"]
        shape = input_ids.shape if spec.per_token else input_ids.shape[:1]
        generator = torch.Generator().manual_seed(seed)
        labels = torch.randint(0, max(num_classes, 2), shape, generator=generator)
        if num_classes == 1:
            labels = labels.float()
        if spec.per_token:
            special = torch.isin(input_ids, torch.tensor(self.tokenizer().all_special_ids))
            labels = labels.masked_fill(special, IGNORE_INDEX)
        return labels

    def targets(self, batch: dict[str, torch.Tensor], seed: int = 0) -> dict[str, torch.Tensor]:
        """Every target keyword the head takes: `labels`, plus the tester's `extra_targets` for this head."""
        extra = self.require_tester().extra_targets.get(self.head)
        targets = {"labels": self.labels(batch, seed)}
        if extra is not None:
            generator = torch.Generator().manual_seed(seed + 1)
            targets.update(extra(self.config(), batch["input_ids"].shape[0], generator))
        return targets

    def extra_inputs(self, batch_size: int, seed: int = 0) -> dict[str, torch.Tensor]:
        """The tester's `extra_inputs` for a batch (empty for most families)."""
        extra = self.require_tester().extra_inputs
        return extra(self.config(), batch_size, torch.Generator().manual_seed(seed + 2)) if extra else {}

    @staticmethod
    def main_output(outputs) -> torch.Tensor:
        """The logits of a head, the last hidden state of a backbone."""
        logits = getattr(outputs, "logits", None)
        return logits if logits is not None else outputs.last_hidden_state

    def loss(self, model: ProteinPreTrainedModel, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """The head's own loss; for a backbone, a fixed random projection of the features (reaches every weight):
        the per-position `last_hidden_state` and, when the backbone returns one, the per-protein `pooler_output`,
        plus the backbone's own `loss` when it has one without labels (an autoencoder's reconstruction loss)."""
        inputs = {**batch, **self.extra_inputs(batch["input_ids"].shape[0])}
        if self.head is not None:
            return model(**inputs, **self.targets(batch)).loss
        outputs = model(**inputs)
        generator = torch.Generator().manual_seed(0)
        loss = 0.0
        for features in (outputs.last_hidden_state, getattr(outputs, "pooler_output", None)):
            if features is not None:
                projection = torch.randn(features.shape[-1], generator=generator)
                loss = loss + (features @ projection).pow(2).mean()
        if getattr(outputs, "loss", None) is not None:
            loss = loss + outputs.loss
        return loss


def model_cases() -> list[ModelCase]:
    """Every model class of every registered family, once per tester variant of its family (None if missing)."""
    cases = []
    for model_type, family in FAMILIES.items():
        testers = TESTERS.get(model_type)
        variants = testers if isinstance(testers, tuple) else (testers,)
        for tester in variants:
            for auto_name, model_class in family.models.items():
                cases.append(ModelCase(family, auto_name, model_class, tester))
    return cases
