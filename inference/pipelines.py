"""proteinhub pipeline tasks, registered with transformers' `PIPELINE_REGISTRY` when this module is imported.

`import proteinhub` does not import this module, because `transformers.pipelines` takes seconds to import. Import it
once before calling `pipeline(...)` with a proteinhub task:

>>> import proteinhub.inference.pipelines  # registers "phosphosite-prediction"
>>> from transformers import pipeline
>>> scan = pipeline("phosphosite-prediction", model="runs/phosphosite/st_vgg_w33")  # doctest: +SKIP
>>> scan("MSTPSRKY")  # doctest: +SKIP
[{'position': 2, 'residue': 'S', 'probability': 0.61, 'label': 'positive'}, ...]

Tasks (`PIPELINE_TASKS`, one entry per task; add yours there):

- `phosphosite-prediction`: every candidate site (S/T or Y, as the model's `config.site_residues`) of whole proteins
  scored by a window classifier (`modeling/phosphosite`). The batched engine behind it, `PhosphositeScanner`, also
  serves `proteinhub predict`.
- `protein-feature-extraction`: one vector per protein (the masked mean of its residue vectors, or the backbone's
  `pooler_output`), optionally one per residue, from any backbone (`AutoModel`); engine: `embed.embed_sequences`,
  shared with `proteinhub embed`. transformers' own `feature-extraction` (per-token vectors) is left as it is.
- `secondary-structure` (`secondary_structure.py`): per-residue secondary-structure strings, long proteins in
  overlapping windows (`windowing.py`).

`ProteinPredictor` runs whole proteins through any protein- or residue-level head in batches (for residue-level heads
with the secondary-structure pipeline's windows); `proteinhub predict` uses it for every model that is not a
phosphosite window classifier. Per-protein classification alone is transformers' `text-classification` pipeline.

A FASTA path given to a pipeline is read by `proteinhub.tokenization.fasta` (`read_proteins`: the reader and
cleaner of every builder, `predict` and `embed`), so it is accepted or refused exactly as there.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from transformers import AutoModel, AutoModelForSequenceClassification, AutoModelForTokenClassification, Pipeline
from transformers.pipelines import PIPELINE_REGISTRY

from ..modeling.tasks import MULTI_LABEL, PROTEIN, REGRESSION, RESIDUE, model_level, resolve_problem_type
from ..tokenization import InvalidSequenceError, ProteinTokenizer
from ..tokenization.fasta import FASTA_SUFFIXES, clean_sequence, read_proteins
from .embed import POOLING, embed_sequences
from .secondary_structure import SecondaryStructurePipeline
from .windowing import chunk_windows, stitch

SITE_LABELS = ("negative", "positive")  # the phosphosite dataset's class names; positive = phosphorylated

# helpers


def invalid_record_error(protein_id: str, error: InvalidSequenceError, offset: int = 0) -> ValueError:
    """The error for a record the tokenizer refused, naming the protein and the 1-based position in it (`offset`:
    residues before the piece that was tokenized, e.g. a window of a long protein)."""
    if error.position is None:
        return ValueError(f"protein {protein_id!r} has no residue: give it a sequence or remove the record.")
    return ValueError(
        f"protein {protein_id!r}: invalid character {error.character!r} at position {offset + error.position}. "
        "Allowed: the 20 standard amino acids and X, U, O, B, Z, J. Fix or remove this record."
    )


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
            raise invalid_record_error(protein_id, error) from None
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
                {"id": protein.id, "sites": protein.as_dicts(threshold)}
                for protein in scanner.scan(read_proteins(inputs))
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


# whole proteins through a protein- or residue-level head (proteinhub predict)


@dataclass(frozen=True)
class ProteinPrediction:
    """The prediction of a whole-protein model for one protein.

    `scores`: (num_outputs,) for a protein-level head, (length, num_outputs) for a residue-level head; class
    probabilities in the order of `ProteinPredictor.labels`, or the predicted values of a regression head.
    """

    id: str
    length: int
    scores: np.ndarray


class ProteinPredictor:
    """Predicts whole proteins with a protein-level (`*ForSequenceClassification`: one prediction per protein) or
    residue-level (`*ForTokenClassification`: one per residue) model, batched across proteins (the engine of
    `proteinhub predict` for every model that is not a phosphosite window classifier).

    Records are read lazily, `batch_size * sort_batches` at a time; each group is sorted by length so that a batch
    holds proteins of similar length (less padding), and the predictions are yielded in input order. Every family's
    outputs are padding-invariant (the common battery checks it), so a protein's prediction does not depend on its
    batch. Scores: softmax probabilities (single-label), sigmoid probabilities (multi-label; a single-logit binary
    classifier becomes two classes, `not <positive>` and `<positive>`), raw values (`problem_type="regression"`).

    Long proteins: a protein-level model with `config.max_length` sees the proteins truncated to it (the tokenizer
    warns). A residue-level model cuts them into overlapping windows, exactly as the `secondary-structure` pipeline
    does (`chunk_windows` / `stitch`): `chunk_length` residues (default `config.max_length` minus the special tokens;
    no limit, no cut), `overlap` residues shared by consecutive windows (default `chunk_length // 4`).

    Args:
        model: a protein- or residue-level model, put in eval mode here.
        tokenizer: a `ProteinTokenizer`; default one built from the model config.
        batch_size: proteins (residue-level: windows) per forward pass.
        sort_batches: batches read ahead and sorted by length together (memory: that many batches of proteins).
        chunk_length, overlap: windows of long proteins for a residue-level model (above).

    Example:
        >>> predictor = ProteinPredictor(proteinhub.build_preset("localization-cnn-bilstm", num_labels=3))
        >>> next(predictor.predict([("p1", "MKTAYIAK")])).scores.shape  # doctest: +SKIP
        (3,)
    """

    def __init__(
        self,
        model: torch.nn.Module,
        tokenizer: ProteinTokenizer | None = None,
        *,
        batch_size: int = 32,
        sort_batches: int = 16,
        chunk_length: int | None = None,
        overlap: int | None = None,
    ):
        level = model_level(type(model).__name__)
        if level not in (PROTEIN, RESIDUE):
            raise ValueError(
                f"{type(model).__name__} has no protein- or residue-level head: load a *ForSequenceClassification or "
                "*ForTokenClassification model (use `proteinhub embed` for the representations of a backbone)."
            )
        self.level = level
        if batch_size < 1 or sort_batches < 1:
            raise ValueError(f"batch_size and sort_batches must be at least 1, got {batch_size} and {sort_batches}")
        config = model.config
        self.model = model.eval()
        self.tokenizer = tokenizer or ProteinTokenizer(**config.tokenizer_kwargs)
        self.batch_size, self.sort_batches = batch_size, sort_batches
        self.max_length = getattr(config, "max_length", None)
        self.problem = resolve_problem_type(config.num_labels, config.problem_type)
        names = [str(config.id2label.get(index, f"LABEL_{index}")) for index in range(config.num_labels)]
        binary = self.problem == MULTI_LABEL and len(names) == 1
        self.labels: tuple[str, ...] = (f"not {names[0]}", names[0]) if binary else tuple(names)
        self._leading = self.tokenizer.num_leading_special_tokens
        self.chunk_length = self.overlap = None
        if self.level == RESIDUE:
            specials = self._leading + int(self.tokenizer.append_eos)
            limit = None if self.max_length is None else self.max_length - specials
            self.chunk_length = chunk_length if chunk_length is not None else limit
            if self.chunk_length is not None and self.chunk_length < 1:
                raise ValueError(f"chunk_length must be at least 1 residue, got {self.chunk_length}")
            self.overlap = overlap if overlap is not None else (self.chunk_length or 0) // 4
        elif chunk_length is not None or overlap is not None:
            raise ValueError("chunk_length and overlap apply to residue-level models only")

    @property
    def is_regression(self) -> bool:
        """Whether the scores are predicted values (`problem_type="regression"`) rather than probabilities."""
        return self.problem == REGRESSION

    def scores(self, logits: torch.Tensor) -> torch.Tensor:
        """Probabilities (or regression values) from logits (..., num_labels), in the order of `labels`."""
        logits = logits.float()
        if self.problem == REGRESSION:
            return logits
        if self.problem == MULTI_LABEL:
            probabilities = torch.sigmoid(logits)
            return torch.cat([1 - probabilities, probabilities], -1) if logits.shape[-1] == 1 else probabilities
        return logits.softmax(-1)

    def predict(self, records: Iterable[tuple[str, str]]) -> Iterator[ProteinPrediction]:
        """`ProteinPrediction` of each (id, sequence) record, in order, lazily. An illegal character or an empty
        record raises naming the protein (and the position)."""
        pending: list[tuple[str, str]] = []
        for record in records:
            pending.append(record)
            if len(pending) == self.batch_size * self.sort_batches:
                yield from self._predict_group(pending)
                pending = []
        if pending:
            yield from self._predict_group(pending)

    def _windows(self, length: int) -> list[tuple[int, int]]:
        return chunk_windows(length, self.chunk_length, self.overlap) if self.level == RESIDUE else [(0, length)]

    @torch.inference_mode()
    def _predict_group(self, records: list[tuple[str, str]]) -> Iterator[ProteinPrediction]:
        sequences = [clean_sequence(sequence, f"protein {protein_id!r}") for protein_id, sequence in records]
        # one row per protein, or per window of a long protein: (protein index, start, stop), shortest first
        rows = [(index, *window) for index, sequence in enumerate(sequences) for window in self._windows(len(sequence))]
        rows.sort(key=lambda row: row[2] - row[1])
        device = next(self.model.parameters()).device
        pieces: list[list[tuple[tuple[int, int], torch.Tensor]]] = [[] for _ in records]
        for first in range(0, len(rows), self.batch_size):
            batch = rows[first : first + self.batch_size]
            encoding = self.tokenizer(
                [sequences[index][start:stop] for index, start, stop in batch],
                padding=True,
                truncation=self.max_length is not None,
                max_length=self.max_length,
                return_tensors="pt",
            )
            logits = self.model(
                input_ids=encoding["input_ids"].to(device), attention_mask=encoding["attention_mask"].to(device)
            ).logits
            for scores, (index, start, stop) in zip(self.scores(logits).cpu(), batch):
                if self.level == RESIDUE:
                    scores = scores[self._leading : self._leading + stop - start]  # the residues of the window
                pieces[index].append(((start, stop), scores))
        for (protein_id, _), sequence, windows in zip(records, sequences, pieces):
            windows.sort(key=lambda piece: piece[0])
            if self.level == RESIDUE:
                scores = stitch([window for window, _ in windows], [values for _, values in windows])
            else:
                scores = windows[0][1]
            yield ProteinPrediction(protein_id, len(sequence), scores.numpy())


# protein-feature-extraction


class ProteinFeatureExtractionPipeline(Pipeline):
    """`pipeline("protein-feature-extraction", model=DIR)`: one vector per protein, optionally one per residue.

    transformers' stock `feature-extraction` task returns the hidden state of every token (`<cls>` and `<eos>`
    included) as nested lists and stays as it is for any model. This task returns, per protein, a dict with
    `embedding`, a float32 array (hidden_size,), and with `per_residue=True` `residue_embeddings`, (residues,
    hidden_size) without special tokens. Inputs: one sequence (str) -> a dict; a list of sequences -> a list of
    dicts, in order; a FASTA file (path) -> a list of dicts that also hold the record's `id`.

    Call arguments: `pooling` ("mean", default: the masked mean of the per-residue vectors, so `embedding` equals
    `residue_embeddings.mean(0)`; "pooler": the backbone's own `pooler_output`), `per_residue` (default False),
    `batch_size` (proteins per forward pass for lists and files, default 16). The engine is `embed.embed_sequences`,
    the one behind `proteinhub embed`: proteins are batched by length, and a protein's vectors do not depend on the
    other proteins of its batch.

    Example:
        >>> import proteinhub.inference.pipelines  # registers the task
        >>> extract = pipeline("protein-feature-extraction", model="runs/unirep-64")  # doctest: +SKIP
        >>> extract("MKTAYIAK")["embedding"].shape  # doctest: +SKIP
        (64,)
    """

    _load_tokenizer = None  # optional: the vocabulary is fixed, so a folder without tokenizer files works too
    _load_processor = False
    _load_image_processor = False
    _load_feature_extractor = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.tokenizer is None:
            self.tokenizer = ProteinTokenizer(**self.model.config.tokenizer_kwargs)

    def _sanitize_parameters(self, pooling: str | None = None, per_residue: bool | None = None, **kwargs):
        if kwargs:
            raise TypeError(f"protein-feature-extraction got unexpected arguments {sorted(kwargs)}")
        forward = {}
        if pooling is not None:
            if pooling not in POOLING:
                raise ValueError(f"pooling must be one of {POOLING}, got {pooling!r}")
            forward["pooling"] = pooling
        if per_residue is not None:
            forward["per_residue"] = bool(per_residue)
        return {}, forward, {}

    def _embed(self, sequences: list[str], batch_size: int, **forward) -> list[dict]:
        proteins, residues = embed_sequences(self.model, self.tokenizer, sequences, batch_size=batch_size, **forward)
        if residues is None:
            return [{"embedding": protein} for protein in proteins]
        return [{"embedding": protein, "residue_embeddings": residue} for protein, residue in zip(proteins, residues)]

    def __call__(self, inputs, **kwargs):
        if isinstance(inputs, str) and not is_fasta_path(inputs):
            return super().__call__(inputs, **kwargs)
        batch_size = kwargs.pop("batch_size", None) or self._batch_size or 16
        _, forward, _ = self._sanitize_parameters(**kwargs)
        forward = {**self._forward_params, **forward}
        if not is_fasta_path(inputs):
            return self._embed(list(inputs), batch_size, **forward)
        records = list(read_proteins(inputs))
        ids = [protein_id for protein_id, _ in records]
        results = self._embed([sequence for _, sequence in records], batch_size, **forward)
        return [{"id": protein_id, **result} for protein_id, result in zip(ids, results)]

    def preprocess(self, sequence: str) -> dict:
        return {"sequence": sequence}

    def _forward(self, model_inputs: dict, **forward) -> dict:
        return self._embed([model_inputs["sequence"]], 1, **forward)[0]

    def postprocess(self, model_outputs: dict) -> dict:
        return model_outputs


# registration

PIPELINE_TASKS: dict[str, dict] = {
    "phosphosite-prediction": {
        "pipeline_class": PhosphositePredictionPipeline,
        "pt_model": AutoModelForSequenceClassification,
        "type": "text",
    },
    "protein-feature-extraction": {
        "pipeline_class": ProteinFeatureExtractionPipeline,
        "pt_model": AutoModel,
        "type": "text",
    },
    "secondary-structure": {
        "pipeline_class": SecondaryStructurePipeline,
        "pt_model": AutoModelForTokenClassification,
        "type": "text",
    },
}


def register_pipelines() -> None:
    """Register every task of `PIPELINE_TASKS` with transformers (idempotent; runs on import of this module)."""
    for task, registration in PIPELINE_TASKS.items():
        if PIPELINE_REGISTRY.supported_tasks.get(task, {}).get("impl") is not registration["pipeline_class"]:
            PIPELINE_REGISTRY.register_pipeline(task, **registration)


register_pipelines()
