"""ProteinBERT pretraining: the original's corruption, sequence-length episodes and loss, as pieces of train.py's
`pretraining` objective.

    python train.py --config configs/proteinbert/pretrain_tiny.yaml [--max_steps 20 --output_dir runs/pretrain ...]
    accelerate launch train.py --config configs/proteinbert/pretrain_tiny.yaml

The objective (spec section 4): the model sees corrupted tokens and corrupted GO annotations and predicts the
uncorrupted ones; loss = token cross-entropy + annotation BCE with the original's Keras normalisation
(`modeling_proteinbert.pretraining_loss`).

- tokens: every position (specials and padding included) is replaced with probability 0.05 by a token drawn
  uniformly from the 26 tokens of the original vocabulary (no mask token; the draw may return the same token);
- annotations: each true annotation is dropped with probability 0.25, each absent one switched on with probability
  1e-4, and with probability 0.5 the protein gets no annotation input at all; the target is always the full vector;
- lengths: proteins are routed to episodes of seq_len 128 / 512 / 1024 (batch 128 / 64 / 32, per process) with
  probability proportional to exp(-max(r, 1/r)), r = tokens / seq_len; a batch holds proteins of one episode, cropped
  to a random window of seq_len tokens (after framing, so a crop may lose `<cls>`/`<eos>`) and padded to seq_len;
  training switches episode every `batches_per_episode` batches to the one with the most proteins left (the original
  switched after 15 minutes to the episode with the most cached proteins). Evaluation crops and pads every protein to
  the longest episode, so that the loss (whose denominator counts padding, as the original's) is comparable between
  evaluations.

The corpus is any train.py dataset with `id` and `sequence` columns (`protein_fasta` for FASTA files) and, optionally,
a TSV/CSV annotation table with columns `id` and `annotations` (GO ids separated by commas, semicolons or spaces),
given in `objective_kwargs` (`PretrainingOptions`). Annotations present in fewer than `min_annotation_records`
training proteins are dropped (100 in the original, which kept 8943); the kept ones, sorted, are the model's
annotation vector, written to `annotations.json` next to the model (and read back from there when pretraining
continues from `model_name_or_path`).
"""

from __future__ import annotations

import math
import re
import warnings
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler

from ..modeling.tasks import IGNORE_INDEX
from ..tokenization.fasta import file_format
from ..tokenization.tokenization_protein import STANDARD_AMINO_ACIDS, VOCAB, ProteinTokenizer

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


@dataclass(frozen=True)
class PretrainingOptions:
    """The `objective_kwargs` of train.py's `pretraining` objective (defaults: the original's).

    Args:
        annotation_table: CSV/TSV with columns `id`, `annotations` (GO ids) for the corpus proteins; without it only
            the token objective trains (the annotation loss is zero).
        min_annotation_records: keep annotations present in at least this many training proteins (100 originally).
        episodes: [seq_len, batch size per process] per episode (128/128, 512/64, 1024/32 originally).
        batches_per_episode: batches before switching episode.
        token_noise, annotation_dropout, annotation_false_positive, no_annotation_input: see `PretrainingNoise`.
    """

    annotation_table: str | None = None
    min_annotation_records: int = 100
    episodes: tuple[tuple[int, int], ...] = ORIGINAL_EPISODES
    batches_per_episode: int = 100
    token_noise: float = 0.05
    annotation_dropout: float = 0.25
    annotation_false_positive: float = 1e-4
    no_annotation_input: float = 0.5

    @classmethod
    def from_mapping(cls, values: Mapping | None) -> PretrainingOptions:
        """Options from a YAML mapping; unknown keys and malformed episodes are refused with the valid ones."""
        values = dict(values or {})
        known = [option.name for option in fields(cls)]
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ValueError(f"objective_kwargs {unknown} are not options of the pretraining objective; valid: {known}")
        if "episodes" in values:
            episodes = values["episodes"]
            if not episodes or any(len(episode) != 2 or min(episode) < 1 for episode in episodes):
                raise ValueError(
                    f"episodes must be a list of [seq_len, batch size] pairs of positive ints, got {episodes}"
                )
            values["episodes"] = tuple((int(seq_len), int(batch)) for seq_len, batch in episodes)
        return cls(**values)

    @property
    def noise(self) -> PretrainingNoise:
        return PretrainingNoise(
            self.token_noise, self.annotation_dropout, self.annotation_false_positive, self.no_annotation_input
        )

    @property
    def longest_episode(self) -> int:
        return max(seq_len for seq_len, _ in self.episodes)


def build_corpora(
    splits: Mapping[str, Sequence[tuple[str, str]]],
    tokenizer: ProteinTokenizer,
    options: PretrainingOptions,
    *,
    annotation_names: Sequence[str] | None = None,
) -> dict[str, PretrainingCorpus]:
    """One `PretrainingCorpus` per split of `(id, sequence)` pairs: tokenized (framed, not truncated: the collator
    crops) with the proteins' annotation indices.

    The annotation vector is `annotation_names` when given (to continue pretraining a model), otherwise the sorted
    annotations of at least `options.min_annotation_records` proteins of the `train` split. Table ids absent from
    every split (e.g. proteins the dataset filters dropped) are ignored; a table that matches no protein is refused.
    """
    terms = read_annotation_table(options.annotation_table) if options.annotation_table else {}
    if terms:
        present = {identifier for records in splits.values() for identifier, _ in records}
        unmatched = sorted(set(terms) - present)
        if len(unmatched) == len(terms):
            raise ValueError(
                f"{options.annotation_table}: none of its {len(terms)} protein ids is in the dataset (e.g. "
                f"{unmatched[:3]}); the `id` column must hold the FASTA ids (first word of the header)"
            )
        if unmatched:
            warnings.warn(
                f"{options.annotation_table}: {len(unmatched)} protein id(s) are not in the dataset and are ignored, "
                f"e.g. {unmatched[:3]}",
                stacklevel=2,
            )
    if annotation_names is None:
        counts = Counter(term for identifier, _ in splits["train"] for term in set(terms.get(identifier, ())))
        annotation_names = sorted(term for term, count in counts.items() if count >= options.min_annotation_records)
    index = {term: position for position, term in enumerate(annotation_names)}
    corpora = {}
    for name, records in splits.items():
        annotation_ids = [
            sorted({index[term] for term in terms.get(identifier, ()) if term in index}) for identifier, _ in records
        ]
        input_ids = tokenizer([sequence for _, sequence in records])["input_ids"] if records else []
        corpora[name] = PretrainingCorpus(
            input_ids=list(input_ids), annotation_ids=annotation_ids, annotation_names=list(index)
        )
    return corpora
