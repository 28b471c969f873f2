"""proteinhub pipeline tasks, registered with transformers' `PIPELINE_REGISTRY` when this module is imported.

`import proteinhub` does not import this module, because `transformers.pipelines` takes seconds to import. Import it
once before calling `pipeline(...)` with a proteinhub task:

>>> import proteinhub.pipelines  # registers "phosphosite-prediction"
>>> from transformers import pipeline
>>> scan = pipeline("phosphosite-prediction", model="runs/phosphosite/st_vgg_w33")  # doctest: +SKIP
>>> scan("MSTPSRKY")  # doctest: +SKIP
[{'position': 2, 'residue': 'S', 'probability': 0.61, 'label': 'positive'}, ...]

Tasks (`PIPELINE_TASKS`, one entry per task; add yours there):

- `phosphosite-prediction`: every candidate site (S/T or Y, as the model's `config.site_residues`) of whole proteins
  scored by a window classifier (`modeling/phosphosite`). The batched engine behind it, `PhosphositeScanner`, also
  serves `proteinhub predict`.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from Bio import SeqIO
from transformers import AutoModelForSequenceClassification, Pipeline
from transformers.pipelines import PIPELINE_REGISTRY

from .tokenization import InvalidSequenceError, ProteinTokenizer

SITE_LABELS = ("negative", "positive")  # the phosphosite dataset's class names; positive = phosphorylated
FASTA_SUFFIXES = (".fasta", ".fa", ".faa", ".fas")

# helpers


def read_fasta(path: str | os.PathLike) -> Iterator[tuple[str, str]]:
    """(id, sequence) of each record of a FASTA file (`.gz` allowed), read lazily so memory does not grow with it."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        for record in SeqIO.parse(handle, "fasta"):
            yield record.id, str(record.seq)


def is_fasta_path(value: Any) -> bool:
    """True for a `Path`, or a string naming an existing file or ending in a FASTA suffix (not a sequence)."""
    if isinstance(value, os.PathLike):
        return True
    if not isinstance(value, str):
        return False
    name = value.removesuffix(".gz").lower()
    return name.endswith(FASTA_SUFFIXES) or (len(value) < 4096 and os.path.isfile(value))


# phosphosite-prediction


@dataclass(frozen=True)
class ProteinSites:
    """The scored sites of one protein: 1-based `positions`, `residues` (one letter each), `probabilities`."""

    id: str
    positions: np.ndarray
    residues: str
    probabilities: np.ndarray

    def as_dicts(self, threshold: float = 0.5) -> list[dict]:
        """One dict per site: position, residue, probability and label ("positive" above `threshold`)."""
        return [
            {
                "position": position,
                "residue": residue,
                "probability": probability,
                "label": SITE_LABELS[probability > threshold],
            }
            for position, residue, probability in zip(
                self.positions.tolist(), self.residues, self.probabilities.tolist()
            )
        ]


@dataclass
class _PreparedProtein:
    id: str
    positions: np.ndarray  # 0-based
    residues: str
    windows: np.ndarray  # (sites, window_size) token ids


class PhosphositeScanner:
    """Scores every candidate site of whole proteins with a phosphosite window classifier, batching windows across
    proteins (the engine of the `phosphosite-prediction` pipeline and of `proteinhub predict`).

    Each protein is tokenized (validating it), every residue of `residues` becomes the centre of a window of
    `config.window_size` tokens, `<pad>` (id 0) beyond the ends, exactly as the `phosphosite` dataset cuts them.
    Windows of consecutive proteins are pooled until `batch_size` are pending, scored in one pass, and the proteins'
    results are yielded in input order, so memory stays bounded whatever the number of proteins.

    Args:
        model: a phosphosite model (`config.window_size`, `config.site_residues`), put in eval mode here.
        tokenizer: a `ProteinTokenizer`; default one built from the model config.
        residues: the residues to score, a subset of `config.site_residues` (default all of them).
        batch_size: windows per forward pass.

    Example:
        >>> model = proteinhub.build_preset("phosphosite-vgg-w15")  # doctest: +SKIP
        >>> next(PhosphositeScanner(model).scan([("p1", "MSKTY")])).positions  # doctest: +SKIP
        array([2, 4])
    """

    def __init__(
        self,
        model: torch.nn.Module,
        tokenizer: ProteinTokenizer | None = None,
        *,
        residues: str | None = None,
        batch_size: int = 1024,
    ):
        config = model.config
        if not hasattr(config, "site_residues") or not hasattr(config, "window_size"):
            raise ValueError(
                f"{type(model).__name__} is not a phosphosite window classifier (its config has no site_residues / "
                "window_size); use a model trained with a phosphosite-* preset."
            )
        self.residues = check_site_residues(residues, config.site_residues)
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.model = model.eval()
        self.tokenizer = tokenizer or ProteinTokenizer(**config.tokenizer_kwargs)
        self.window_size = config.window_size
        self.batch_size = batch_size
        # lookup tables indexed by token id (measured ~5x faster per protein than np.isin and a join of letters)
        vocabulary = self.tokenizer.get_vocab()
        self._is_site = np.zeros(max(vocabulary.values()) + 1, dtype=bool)
        self._is_site[[vocabulary[residue] for residue in self.residues]] = True
        self._letter_codes = np.full(len(self._is_site), ord("?"), dtype=np.uint8)
        for token, index in vocabulary.items():
            if len(token) == 1:
                self._letter_codes[index] = ord(token)
        self._pad_id = self.tokenizer.pad_token_id
        self._offsets = np.arange(self.window_size)

    def encode(self, protein_id: str, sequence: str) -> np.ndarray:
        """Token ids of the residues of one protein; an illegal character raises naming the protein and position.

        An empty record (or a lone stop `*`) has no residue and hence no site: empty ids, not an error.
        """
        if not sequence.strip().removesuffix("*").strip():
            return np.zeros(0, dtype=np.int64)
        try:
            encoding = self.tokenizer(
                [sequence], add_special_tokens=False, padding=True, return_tensors="np", verbose=False
            )
        except InvalidSequenceError as error:
            raise ValueError(
                f"protein {protein_id!r}: invalid character {error.character!r} at position {error.position}. Allowed: "
                "the 20 standard amino acids and X, U, O, B, Z, J. Fix or remove this record."
            ) from None
        return encoding["input_ids"][0]

    def prepare(self, protein_id: str, sequence: str) -> _PreparedProtein:
        """The candidate sites of one protein and their windows (no site: empty arrays, not an error)."""
        ids = self.encode(protein_id, sequence)
        positions = np.flatnonzero(self._is_site[ids])
        half = self.window_size // 2
        padded = np.full(len(ids) + 2 * half, self._pad_id, dtype=np.int64)
        padded[half : half + len(ids)] = ids
        # padded[p : p + window_size] is the window centred on residue p
        windows = padded[positions[:, None] + self._offsets]
        residues = self._letter_codes[ids[positions]].tobytes().decode("ascii")
        return _PreparedProtein(protein_id, positions, residues, windows)

    @torch.inference_mode()
    def probabilities(self, windows: np.ndarray) -> np.ndarray:
        """P(phosphorylated) of (n, window_size) windows, `batch_size` at a time."""
        if not len(windows):
            return np.zeros(0, dtype=np.float32)
        inputs = torch.from_numpy(np.ascontiguousarray(windows, dtype=np.int64))
        device = next(self.model.parameters()).device
        chunks = []
        for chunk in torch.tensor_split(inputs, -(-len(inputs) // self.batch_size)):
            logits = self.model(input_ids=chunk.to(device)).logits.float()
            # one logit (BCE head) -> sigmoid; two logits -> softmax, class 1
            chunks.append(torch.sigmoid(logits[:, 0]) if logits.shape[-1] == 1 else logits.softmax(-1)[:, 1])
        return torch.cat(chunks).cpu().numpy()

    def _finish(self, pending: list[_PreparedProtein]) -> Iterator[ProteinSites]:
        counts = [len(protein.positions) for protein in pending]
        windows = np.concatenate([protein.windows for protein in pending]) if sum(counts) else np.zeros((0, 1))
        probabilities = np.split(self.probabilities(windows), np.cumsum(counts)[:-1])
        for protein, values in zip(pending, probabilities):
            yield ProteinSites(protein.id, protein.positions + 1, protein.residues, values)

    def scan(self, records: Iterable[tuple[str, str]]) -> Iterator[ProteinSites]:
        """`ProteinSites` of each (id, sequence) record, in order, lazily."""
        pending: list[_PreparedProtein] = []
        num_pending = 0
        for protein_id, sequence in records:
            protein = self.prepare(protein_id, sequence)
            pending.append(protein)
            num_pending += len(protein.positions)
            if num_pending >= self.batch_size:
                yield from self._finish(pending)
                pending, num_pending = [], 0
        if pending:
            yield from self._finish(pending)


def check_site_residues(residues: str | None, site_residues: str) -> str:
    """`residues` upper-cased (default: `site_residues`); raise unless the model was trained on all of them."""
    if residues is None:
        return site_residues
    residues = residues.upper()
    foreign = sorted(set(residues) - set(site_residues))
    if not residues or foreign:
        raise ValueError(
            f"this model scores {'/'.join(site_residues)} sites (config.site_residues={site_residues!r}), not "
            f"{'/'.join(foreign) or repr(residues)}: a window classifier trained on one residue type does not transfer "
            "to another. Use a model trained for those residues, or leave `residues` unset."
        )
    return residues


class PhosphositePredictionPipeline(Pipeline):
    """`pipeline("phosphosite-prediction", model=DIR)`: phosphorylation probability of every candidate site.

    Inputs: one sequence (str) -> a list of site dicts; a list of sequences -> a list of such lists, in order; a
    FASTA file (path) -> a list of `{"id": ..., "sites": [...]}`. Each site dict holds `position` (1-based),
    `residue`, `probability` and `label` ("positive" above `threshold`, default 0.5). A protein without a candidate
    residue gives an empty list. Call arguments: `residues` (a subset of the model's `config.site_residues`),
    `threshold`, `batch_size` (windows per forward pass for lists and files, default 1024).

    A single sequence runs through `preprocess` / `_forward` / `postprocess`; lists and files go through
    `PhosphositeScanner.scan`, which pools the windows of many proteins per forward pass. Both give the same numbers
    (up to float32 rounding: batch-dependent kernels differ by ~1e-7).
    """

    _load_tokenizer = None  # optional: the vocabulary is fixed, so a folder without tokenizer files works too
    _load_processor = False
    _load_image_processor = False
    _load_feature_extractor = False

    def __init__(self, *args, **kwargs):
        self._scanners: dict[tuple, PhosphositeScanner] = {}
        super().__init__(*args, **kwargs)
        if self.tokenizer is None:
            self.tokenizer = ProteinTokenizer(**self.model.config.tokenizer_kwargs)

    def _sanitize_parameters(self, residues: str | None = None, threshold: float | None = None, **kwargs):
        if kwargs:
            raise TypeError(f"phosphosite-prediction got unexpected arguments {sorted(kwargs)}")
        preprocess, postprocess = {}, {}
        if residues is not None:
            preprocess["residues"] = check_site_residues(residues, self.model.config.site_residues)
        if threshold is not None:
            postprocess["threshold"] = float(threshold)
        return preprocess, {}, postprocess

    def _scanner(self, residues: str | None, batch_size: int | None = None) -> PhosphositeScanner:
        key = (residues, batch_size or self._batch_size or 1024)
        if key not in self._scanners:  # built once per setting: a single-sequence call should cost little
            self._scanners[key] = PhosphositeScanner(self.model, self.tokenizer, residues=key[0], batch_size=key[1])
        return self._scanners[key]

    def __call__(self, inputs, **kwargs):
        if isinstance(inputs, str) and not is_fasta_path(inputs):
            return super().__call__(inputs, **kwargs)
        batch_size = kwargs.pop("batch_size", None)
        preprocess, _, postprocess = self._sanitize_parameters(**kwargs)
        residues = preprocess.get("residues", self._preprocess_params.get("residues"))
        threshold = postprocess.get("threshold", self._postprocess_params.get("threshold", 0.5))
        scanner = self._scanner(residues, batch_size)
        if is_fasta_path(inputs):
            return [
                {"id": protein.id, "sites": protein.as_dicts(threshold)} for protein in scanner.scan(read_fasta(inputs))
            ]
        sequences = list(inputs)
        records = ((f"#{index}", sequence) for index, sequence in enumerate(sequences))
        return [protein.as_dicts(threshold) for protein in scanner.scan(records)]

    def preprocess(self, sequence: str, residues: str | None = None) -> dict:
        protein = self._scanner(residues).prepare("#0", sequence)
        return {"protein": protein}

    def _forward(self, model_inputs: dict) -> dict:
        protein = model_inputs["protein"]
        probabilities = self._scanner(None).probabilities(protein.windows)
        return {"sites": ProteinSites(protein.id, protein.positions + 1, protein.residues, probabilities)}

    def postprocess(self, model_outputs: dict, threshold: float = 0.5) -> list[dict]:
        return model_outputs["sites"].as_dicts(threshold)


# registration

PIPELINE_TASKS: dict[str, dict] = {
    "phosphosite-prediction": {
        "pipeline_class": PhosphositePredictionPipeline,
        "pt_model": AutoModelForSequenceClassification,
        "type": "text",
    },
}


def register_pipelines() -> None:
    """Register every task of `PIPELINE_TASKS` with transformers (idempotent; runs on import of this module)."""
    for task, registration in PIPELINE_TASKS.items():
        if PIPELINE_REGISTRY.supported_tasks.get(task, {}).get("impl") is not registration["pipeline_class"]:
            PIPELINE_REGISTRY.register_pipeline(task, **registration)


register_pipelines()
