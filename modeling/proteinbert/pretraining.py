"""ProteinBERT pretraining: the original's corruption, sequence-length episodes and loss, on a FASTA corpus.

    python -m proteinhub.modeling.proteinbert.pretraining --config configs/proteinbert/pretrain_tiny.yaml \
        [max_steps=20 output_dir=runs/pretrain ...]

The objective (spec section 4): the model sees corrupted tokens and corrupted GO annotations and predicts the
uncorrupted ones; loss = token cross-entropy + annotation BCE with the original's Keras normalisation
(`modeling_proteinbert.pretraining_loss`).

- tokens: every position (specials and padding included) is replaced with probability 0.05 by a token drawn
  uniformly from the 26 tokens of the original vocabulary (no mask token; the draw may return the same token);
- annotations: each true annotation is dropped with probability 0.25, each absent one switched on with probability
  1e-4, and with probability 0.5 the protein gets no annotation input at all; the target is always the full vector;
- lengths: proteins are routed to episodes of seq_len 128 / 512 / 1024 (batch 128 / 64 / 32) with probability
  proportional to exp(-max(r, 1/r)), r = tokens / seq_len; a batch holds proteins of one episode, cropped to a random
  window of seq_len tokens (after framing, so a crop may lose `<cls>`/`<eos>`) and padded to seq_len; training
  switches episode every `batches_per_episode` batches to the one with the most proteins left (the original switched
  after 15 minutes to the episode with the most cached proteins).

The corpus is one or more FASTA files and, optionally, a TSV/CSV annotation table with columns `id` and
`annotations` (GO ids separated by commas, semicolons or spaces). Annotations present in fewer than
`min_annotation_records` proteins are dropped (100 in the original, which kept 8943); the kept ones, sorted, are the
model's annotation vector and are written to `annotations.json` next to the model. `train.py` has no pretraining task,
hence this entry point; it uses the same `Trainer` and writes the same kind of run folder.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import yaml
from torch.utils.data import DataLoader, Dataset, Sampler
from transformers import HfArgumentParser, Trainer, TrainingArguments

from ...dataset_scripts.formats import clean_sequence, file_format, read_records
from ...tokenization.tokenization_protein import STANDARD_AMINO_ACIDS, VOCAB, ProteinTokenizer
from ..losses import IGNORE_INDEX
from .configuration_proteinbert import ProteinBertConfig
from .modeling_proteinbert import ProteinBertForPreTraining

# (seq_len, batch size) of the original's episodes: 16,384 / 32,768 / 32,768 tokens per batch
ORIGINAL_EPISODES = ((128, 128), (512, 64), (1024, 32))
# the tokens the original vocabulary has (its corruption draws among them): the specials PAD, OTHER (<unk>), START
# (<cls>), END (<eos>) and 22 letters (the 20 standard amino acids, U, X)
ORIGINAL_TOKENS = ("<pad>", "<unk>", "<cls>", "<eos>", *STANDARD_AMINO_ACIDS, "U", "X")
_ANNOTATION_SEPARATORS = re.compile(r"[,;\s]+")


@dataclass(frozen=True)
class PretrainingNoise:
    """Corruption probabilities of the original pretraining (`EpochGenerator` defaults).

    Args:
        token_noise: per position, replace the token by a uniformly drawn one (p_seq_noise, 0.05).
        annotation_dropout: per true annotation, drop it from the input (p_annot_noise_positive, 0.25).
        annotation_false_positive: per absent annotation, switch it on (p_annot_noise_negative, 1e-4).
        no_annotation_input: per protein, zero the whole annotation input (p_no_input_annot, 0.5).
    """

    token_noise: float = 0.05
    annotation_dropout: float = 0.25
    annotation_false_positive: float = 1e-4
    no_annotation_input: float = 0.5


def original_token_ids() -> torch.Tensor:
    """Shared-tokenizer ids of the 26 tokens the original vocabulary has."""
    return torch.tensor([VOCAB[token] for token in ORIGINAL_TOKENS])


def corrupt_tokens(input_ids: torch.Tensor, probability: float, generator: torch.Generator) -> torch.Tensor:
    """Replace each position with `probability` by a token drawn uniformly from `original_token_ids()`."""
    choices = original_token_ids()
    replace = torch.rand(input_ids.shape, generator=generator) < probability
    drawn = choices[torch.randint(0, len(choices), input_ids.shape, generator=generator)]
    return torch.where(replace, drawn, input_ids)


def corrupt_annotations(targets: torch.Tensor, noise: PretrainingNoise, generator: torch.Generator) -> torch.Tensor:
    """The noisy annotation input of (batch, num_annotations) multi-hot targets."""
    uniform = torch.rand(targets.shape, generator=generator)
    positive = targets > 0
    kept = positive & (uniform >= noise.annotation_dropout)
    added = ~positive & (uniform < noise.annotation_false_positive)
    noisy = (kept | added).to(targets.dtype)
    no_input = torch.rand(targets.shape[0], generator=generator) < noise.no_annotation_input
    return noisy.masked_fill(no_input.unsqueeze(-1), 0.0)


# batching


def episode_probabilities(num_tokens: int | np.ndarray, episodes: Sequence[tuple[int, int]]) -> np.ndarray:
    """P(episode) of proteins of `num_tokens` tokens (framing included), one row per protein: exp(-max(r, 1/r)),
    r = tokens / seq_len, normalised; the closest length is the most likely."""
    ratios = np.asarray(num_tokens, dtype=np.float64)[..., None] / np.array([seq_len for seq_len, _ in episodes])
    weights = np.exp(-np.maximum(ratios, 1.0 / ratios))
    return weights / weights.sum(-1, keepdims=True)


class EpisodeBatchSampler(Sampler[list[tuple[int, int]]]):
    """Batches of `(index, seq_len)` keys: every protein is routed once per pass to an episode (see the module doc),
    batches hold proteins of one episode, and the episode switches every `batches_per_episode` batches to the one with
    the most proteins left. One pass over the corpus is one epoch; the last incomplete batch of each episode is kept.
    """

    def __init__(
        self,
        lengths: Sequence[int],
        episodes: Sequence[tuple[int, int]] = ORIGINAL_EPISODES,
        *,
        batches_per_episode: int = 100,
        seed: int = 0,
    ):
        self.lengths = list(lengths)
        self.episodes = [tuple(episode) for episode in episodes]
        self.batches_per_episode = batches_per_episode
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def _queues(self, rng: np.random.Generator) -> list[list[int]]:
        order = rng.permutation(len(self.lengths))
        cumulative = episode_probabilities(np.asarray(self.lengths)[order], self.episodes).cumsum(-1)
        choices = (rng.random(len(order))[:, None] > cumulative[:, :-1]).sum(-1)  # inverse-CDF draw per protein
        return [order[choices == episode].tolist() for episode in range(len(self.episodes))]

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        rng = np.random.default_rng([self.seed, self.epoch])
        queues = self._queues(rng)
        while any(queues):
            episode = int(np.argmax([len(queue) for queue in queues]))
            seq_len, batch_size = self.episodes[episode]
            for _ in range(self.batches_per_episode):
                if not queues[episode]:
                    break
                batch, queues[episode] = queues[episode][:batch_size], queues[episode][batch_size:]
                yield [(index, seq_len) for index in batch]

    def __len__(self) -> int:
        # exact for the current epoch: the routing is a function of (seed, epoch)
        queues = self._queues(np.random.default_rng([self.seed, self.epoch]))
        return sum(math.ceil(len(queue) / batch_size) for queue, (_, batch_size) in zip(queues, self.episodes))


@dataclass
class PretrainingCorpus(Dataset):
    """Tokenized proteins (`input_ids`, framed) and their annotation indices; indexed by `(index, seq_len)` keys of
    `EpisodeBatchSampler` (the episode's length travels with the protein to the collator) or by plain indices."""

    input_ids: list[list[int]]
    annotation_ids: list[list[int]]
    annotation_names: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.input_ids)

    def __getitem__(self, key: int | tuple[int, int]) -> dict:
        index, seq_len = key if isinstance(key, tuple) else (key, None)
        return {"input_ids": self.input_ids[index], "annotation_ids": self.annotation_ids[index], "seq_len": seq_len}

    @property
    def lengths(self) -> list[int]:
        return [len(ids) for ids in self.input_ids]


@dataclass
class ProteinBertPretrainingCollator:
    """Crop to a random window of `seq_len` tokens, pad to `seq_len`, corrupt tokens and annotations.

    Returns `input_ids` (corrupted), `attention_mask` (1 on the protein's own positions), `labels` (the uncropped-
    window tokens, -100 on padding), `annotations` (noisy input) and `annotation_labels` (full targets). A feature's
    `seq_len` (from the episode sampler) wins over the collator's default `seq_len`; without either, the batch is
    padded to its longest protein.
    """

    num_annotations: int
    seq_len: int | None = None
    noise: PretrainingNoise = field(default_factory=PretrainingNoise)
    pad_token_id: int = VOCAB["<pad>"]
    seed: int = 0

    def __post_init__(self):
        self.generator = torch.Generator().manual_seed(self.seed)

    def __call__(self, features: list[dict]) -> dict[str, torch.Tensor]:
        seq_len = features[0].get("seq_len") or self.seq_len or max(len(f["input_ids"]) for f in features)
        batch_size = len(features)
        labels = torch.full((batch_size, seq_len), IGNORE_INDEX, dtype=torch.long)
        attention_mask = torch.zeros((batch_size, seq_len), dtype=torch.long)
        targets = torch.zeros((batch_size, self.num_annotations))
        for row, feature in enumerate(features):
            ids = torch.as_tensor(feature["input_ids"], dtype=torch.long)
            if len(ids) > seq_len:
                start = int(torch.randint(0, len(ids) - seq_len + 1, (1,), generator=self.generator))
                ids = ids[start : start + seq_len]
            labels[row, : len(ids)] = ids
            attention_mask[row, : len(ids)] = 1
            annotation_ids = list(feature.get("annotation_ids") or ())
            if annotation_ids and max(annotation_ids) >= self.num_annotations:
                raise ValueError(
                    f"protein {row} of the batch has annotation index {max(annotation_ids)} but the model has "
                    f"num_annotations={self.num_annotations}"
                )
            targets[row, annotation_ids] = 1.0
        clean = labels.masked_fill(labels == IGNORE_INDEX, self.pad_token_id)
        return {
            "input_ids": corrupt_tokens(clean, self.noise.token_noise, self.generator),
            "attention_mask": attention_mask,
            "labels": labels,
            "annotations": corrupt_annotations(targets, self.noise, self.generator),
            "annotation_labels": targets,
        }


class ProteinBertPretrainer(Trainer):
    """`Trainer` whose training batches come from `EpisodeBatchSampler` (one sequence length per batch)."""

    def __init__(self, *args, episodes: Sequence[tuple[int, int]], batches_per_episode: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.episodes, self.batches_per_episode = episodes, batches_per_episode

    def get_train_dataloader(self) -> DataLoader:
        sampler = EpisodeBatchSampler(
            self.train_dataset.lengths,
            self.episodes,
            batches_per_episode=self.batches_per_episode,
            seed=self.args.seed,
        )
        loader = DataLoader(
            self.train_dataset,
            batch_sampler=sampler,
            collate_fn=self.data_collator,
            num_workers=self.args.dataloader_num_workers,
            pin_memory=self.args.dataloader_pin_memory,
        )
        return self.accelerator.prepare(loader)


# corpus


def read_annotation_table(path: str | Path) -> dict[str, list[str]]:
    """{protein id: GO ids} from a CSV/TSV with columns `id` and `annotations`."""
    import pandas as pd

    path = Path(path)
    separator = "," if file_format(path) == "csv" else "\t"
    table = pd.read_csv(path, sep=separator, dtype=str, keep_default_na=False)
    missing = [column for column in ("id", "annotations") if column not in table.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {missing}; found {list(table.columns)} (need id, annotations)")
    return {
        row["id"]: [term for term in _ANNOTATION_SEPARATORS.split(row["annotations"].strip()) if term]
        for row in table.to_dict("records")
    }


def read_corpus(
    fasta_files: Sequence[str | Path],
    annotation_table: str | Path | None = None,
    *,
    min_annotation_records: int = 1,
    annotation_names: Sequence[str] | None = None,
    tokenizer: ProteinTokenizer | None = None,
) -> PretrainingCorpus:
    """Tokenize the proteins of `fasta_files` and index their annotations.

    The annotation vector is `annotation_names` when given (e.g. to continue pretraining a model), otherwise the
    sorted annotations of at least `min_annotation_records` proteins. Unknown annotations are ignored.
    """
    tokenizer = tokenizer or ProteinTokenizer()
    records = read_records(fasta_files, label_key="labels")
    sequences = [clean_sequence(record.sequence, record.where) for record in records]
    terms = read_annotation_table(annotation_table) if annotation_table else {}
    unknown = sorted(set(terms) - {record.id for record in records})
    if unknown:
        raise ValueError(
            f"{annotation_table}: {len(unknown)} protein id(s) are not in the FASTA files, e.g. {unknown[:3]}"
        )
    if annotation_names is None:
        counts = Counter(term for record in records for term in set(terms.get(record.id, ())))
        annotation_names = sorted(term for term, count in counts.items() if count >= min_annotation_records)
    index = {term: position for position, term in enumerate(annotation_names)}
    annotation_ids = [sorted({index[t] for t in terms.get(record.id, ()) if t in index}) for record in records]
    input_ids = tokenizer(sequences)["input_ids"]
    return PretrainingCorpus(input_ids=list(input_ids), annotation_ids=annotation_ids, annotation_names=list(index))


# entry point


@dataclass
class PretrainingArguments:
    """What to pretrain on, and how (the `Trainer` options come from `TrainingArguments`)."""

    fasta_files: list[str] = field(metadata={"help": "FASTA file(s) of the pretraining corpus."})
    annotation_table: str | None = field(
        default=None, metadata={"help": "CSV/TSV with columns id, annotations (GO ids) for the corpus proteins."}
    )
    min_annotation_records: int = field(
        default=100, metadata={"help": "Keep annotations present in at least this many proteins (100 originally)."}
    )
    model: str = field(default="proteinbert-base", metadata={"help": "A proteinbert preset, e.g. proteinbert-base."})
    model_name_or_path: str | None = field(
        default=None, metadata={"help": "Continue pretraining a saved (e.g. converted) ProteinBertForPreTraining."}
    )
    config_overrides: dict = field(default_factory=dict, metadata={"help": "Config fields over the preset."})
    episodes: list[list[int]] = field(
        default_factory=lambda: [list(episode) for episode in ORIGINAL_EPISODES],
        metadata={"help": "[seq_len, batch size] per episode (128/128, 512/64, 1024/32 originally)."},
    )
    batches_per_episode: int = field(default=100, metadata={"help": "Batches before switching episode (100)."})
    token_noise: float = field(default=0.05, metadata={"help": "Token corruption probability."})
    annotation_dropout: float = field(default=0.25, metadata={"help": "Drop probability of a true annotation."})
    annotation_false_positive: float = field(default=1e-4, metadata={"help": "Switch-on probability of others."})
    no_annotation_input: float = field(default=0.5, metadata={"help": "Probability of no annotation input."})


def build_model(args: PretrainingArguments, num_annotations: int) -> ProteinBertForPreTraining:
    """A fresh preset (with the corpus' annotation count) or a saved model, whose annotation count must match."""
    from ..registry import presets

    if args.model_name_or_path is not None:
        model = ProteinBertForPreTraining.from_pretrained(args.model_name_or_path, **args.config_overrides)
        if model.config.num_annotations != num_annotations:
            raise ValueError(
                f"{args.model_name_or_path} has num_annotations={model.config.num_annotations} but the corpus "
                f"defines {num_annotations}; pass its annotation vector (annotations.json) to continue pretraining"
            )
        return model
    table = presets()
    if args.model not in table or table[args.model][0].model_type != ProteinBertConfig.model_type:
        names = sorted(name for name, (family, _) in table.items() if family.model_type == "proteinbert")
        raise ValueError(f"unknown ProteinBERT preset {args.model!r}; choose one of {names}")
    _, preset = table[args.model]
    config = ProteinBertConfig(**{**preset.config, **args.config_overrides, "num_annotations": num_annotations})
    return ProteinBertForPreTraining(config)


def run(args: PretrainingArguments, training_args: TrainingArguments) -> dict:
    """Pretrain and save the model, tokenizer and annotation vector into `training_args.output_dir`."""
    names = None
    if args.model_name_or_path is not None:
        vocabulary = Path(args.model_name_or_path) / "annotations.json"
        names = json.loads(vocabulary.read_text()) if vocabulary.is_file() else None
    corpus = read_corpus(
        args.fasta_files, args.annotation_table, min_annotation_records=args.min_annotation_records,
        annotation_names=names,
    )  # fmt: skip
    # a model needs at least one annotation unit; a corpus without annotations trains the token objective only
    num_annotations = max(len(corpus.annotation_names), 1)
    model = build_model(args, num_annotations)
    noise = PretrainingNoise(
        args.token_noise, args.annotation_dropout, args.annotation_false_positive, args.no_annotation_input
    )
    collator = ProteinBertPretrainingCollator(num_annotations, noise=noise, seed=training_args.seed)
    tokenizer = ProteinTokenizer(**model.config.tokenizer_kwargs)
    trainer = ProteinBertPretrainer(
        model=model,
        args=training_args,
        train_dataset=corpus,
        data_collator=collator,
        processing_class=tokenizer,
        episodes=[tuple(episode) for episode in args.episodes],
        batches_per_episode=args.batches_per_episode,
    )
    result = trainer.train()
    output_dir = Path(training_args.output_dir)
    trainer.save_model(output_dir)
    tokenizer.save_pretrained(output_dir)
    (output_dir / "annotations.json").write_text(json.dumps(corpus.annotation_names) + "\n")
    summary = {
        "proteins": len(corpus),
        "annotations": len(corpus.annotation_names),
        "steps": trainer.state.global_step,
        "train_loss": result.training_loss,
        "log_history": trainer.state.log_history,
    }
    (output_dir / "pretraining.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def parse_arguments(argv: Sequence[str]) -> tuple[PretrainingArguments, TrainingArguments]:
    """`--config FILE.yaml` plus `key=value` overrides (values read as YAML) into the two argument dataclasses."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", required=True, help="YAML file of PretrainingArguments and TrainingArguments")
    parser.add_argument("overrides", nargs="*", help="key=value pairs overriding the YAML file")
    parsed = parser.parse_args(argv)
    values = yaml.safe_load(Path(parsed.config).read_text()) or {}
    for override in parsed.overrides:
        key, separator, value = override.partition("=")
        if not separator:
            raise ValueError(f"override {override!r} is not of the form key=value")
        values[key] = yaml.safe_load(value)
    for key in ("learning_rate", "weight_decay", "warmup_steps", "adam_epsilon"):
        if isinstance(values.get(key), str):  # YAML reads 1e-4 as a string
            values[key] = float(values[key])
    return HfArgumentParser((PretrainingArguments, TrainingArguments)).parse_dict(values)


def main(argv: Sequence[str] | None = None) -> dict:
    args, training_args = parse_arguments(sys.argv[1:] if argv is None else argv)
    summary = run(args, training_args)
    print(f"pretrained {summary['steps']} steps on {summary['proteins']} proteins, loss {summary['train_loss']:.4f}")
    return summary


if __name__ == "__main__":
    main()
