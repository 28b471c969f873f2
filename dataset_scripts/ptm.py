"""ptm: residue-level post-translational modification (PTM) sites, one 0/1 label per residue of full proteins.

Two raw formats:

- **CapsNet FASTA** (configs named after the PTM type, e.g. `N6-acetyllysine`): a `#` right after a residue marks a
  modified site; every other residue is unmodified. Source: `duolinwang/CapsNet_PTM` (UniProt/Swiss-Prot metazoa
  annotations), cross-validation fold 0: `metazoa_sequence_annotated_training_0.fasta` is `train`,
  `metazoa_sequences_cross_testing_annotated_0.fasta` is `test` (train proteins with > 30 % identity to a test
  protein were removed by the authors). In a `data_dir` the files are read from `<PTM type>/<file name>`.
- **YAAM-style site table** (config `yaam`, your own files through `data_files`): per split, one FASTA of proteins
  plus one CSV/TSV of sites with columns `id` (a FASTA id), `position` (1-based) and optionally `residue` (checked
  against the sequence) and `modification` (a PTM type; `modification=` keeps one). This is the layout of the YAAM
  database (yeast amino-acid modifications): protein, position, residue, modification.

Options (`load_dataset("ptm", "N6-acetyllysine", candidate_mask=True)`):

- `candidate_mask`: label only the residues that can carry the modification (`candidate_residues`, e.g. K for
  acetyl-lysine) and set every other residue to -100, so the loss and the metrics count candidate residues only.
  A modified site at a non-candidate residue is then an error (it would silently vanish).
- `target="count"`: one float label per protein, the number of modified residues (the seed's sequence-level
  regression), instead of the per-residue labels.
- `validation_fraction=0.1` (CapsNet configs): hold out about this share of the training proteins as a `validation`
  split, whole ortholog groups at a time. The training file holds the same protein from several species (2,672
  N6-acetyllysine proteins in 795 groups of one UniProt mnemonic, e.g. ACHB_HUMAN and ACHB_MOUSE), so a random
  hold-out puts near-copies of training proteins into validation (measured: validation ROC-AUC 0.94 for a test
  ROC-AUC of 0.63). Groups are ranked by SHA-256 of `"<split_seed>:<group>"`, deterministic across machines.

Columns: `id`, `sequence` and `labels` (list of int64: 0 unmodified, 1 modified, -100 masked) or `label` (float32).
See `ptm.md` for counts, license and citation.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import datasets
import pandas as pd

from .base import ProteinDatasetBuilder, describe_labels
from .formats import IGNORE_INDEX, TABLE_SEPARATORS, DatasetFormatError, clean_sequence, file_format, read_records

logger = logging.getLogger(__name__)

LABEL_NAMES = ("unmodified", "modified")
SITE_MARK = "#"
TARGETS = ("residues", "count")
# PTM type (CapsNet folder name) -> residues that can carry it (the README of the data: K, R, C, K, Q/E)
CAPSNET_PTM_TYPES = {
    "N6-acetyllysine": "K",
    "Methyl-arginine": "R",
    "S-Palmitoylation-cysteine": "C",
    "SUMOylation": "K",
    "Pyrrolidone-carboxylic-acid": "QE",
}
CAPSNET_FILES = {
    "train": "metazoa_sequence_annotated_training_0.fasta",
    "test": "metazoa_sequences_cross_testing_annotated_0.fasta",
}
_CAPSNET_URL = "https://raw.githubusercontent.com/duolinwang/CapsNet_PTM/045479d0469c9d6b40bc97b8f33e98cdaae0353a"
_VERSION = datasets.Version("1.0.0")

_DESCRIPTION = (
    "Residue-level post-translational modification sites: one label per residue of full-length proteins, 1 = the "
    "residue carries the modification, 0 = not (or not annotated), -100 = masked (non-candidate residue)."
)
_CITATION = """\
@article{wang2019capsnet,
  title   = {Capsule network for protein post-translational modification site prediction},
  author  = {Wang, Duolin and Liang, Yanchun and Xu, Dong},
  journal = {Bioinformatics},
  volume  = {35},
  number  = {14},
  pages   = {2386--2394},
  year    = {2019}
}"""


@dataclass
class PtmConfig(datasets.BuilderConfig):
    """Fields (see the module docstring): `ptm_type` (CapsNet folder; None for `yaam`), `candidate_residues`,
    `candidate_mask`, `target` ("residues" or "count") and, for `yaam`, `modification` (keep one PTM type)."""

    ptm_type: str | None = None
    candidate_residues: str | None = None
    candidate_mask: bool = False
    target: str = "residues"
    modification: str | None = None
    validation_fraction: float = 0.0
    split_seed: int = 0

    def validate(self) -> None:
        """Raise on invalid options; called from `_info` because `load_dataset` overrides are set after init."""
        if self.target not in TARGETS:
            raise ValueError(f"ptm: target must be one of {TARGETS}, got {self.target!r}")
        if self.candidate_mask and not self.candidate_residues:
            raise ValueError(
                f"ptm/{self.name}: candidate_mask=True needs candidate_residues (e.g. candidate_residues='ST')"
            )
        if self.candidate_residues is not None:
            self.candidate_residues = self.candidate_residues.upper()
        if not 0.0 <= self.validation_fraction < 1.0:
            raise ValueError(f"ptm: validation_fraction must be in [0, 1), got {self.validation_fraction}")
        if self.validation_fraction and self.ptm_type is None:
            raise ValueError("ptm/yaam: give a validation split in data_files instead of validation_fraction")
        if self.modification is not None and self.ptm_type is not None:
            raise ValueError("ptm: `modification` filters YAAM-style site tables; CapsNet configs hold one PTM type")


def parse_marked_sequence(text: str, where: str) -> tuple[str, list[int]]:
    """Split a CapsNet sequence (`#` after each modified residue) into the residues and 0-based modified positions."""
    residues: list[str] = []
    positives: list[int] = []
    for char in "".join(text.split()):
        if char != SITE_MARK:
            residues.append(char)
        elif not residues:
            raise DatasetFormatError(f"{where}: the sequence starts with '{SITE_MARK}'; a mark follows its residue.")
        elif positives and positives[-1] == len(residues) - 1:
            raise DatasetFormatError(f"{where}: residue {len(residues)} is marked twice ('{SITE_MARK * 2}').")
        else:
            positives.append(len(residues) - 1)
    return clean_sequence("".join(residues), where), positives


def residue_labels(sequence: str, positives: list[int], config: PtmConfig, where: str) -> list[int]:
    """0/1 per residue (1 at `positives`); with `candidate_mask`, -100 on residues outside `candidate_residues`."""
    candidates = config.candidate_residues
    if candidates:
        for position in positives:
            if sequence[position] not in candidates and config.candidate_mask:
                raise DatasetFormatError(
                    f"{where}: residue {position + 1} ({sequence[position]}) is marked modified but is not a "
                    f"candidate residue ({candidates}); candidate_mask=True would drop it. Fix the site or the "
                    "candidate_residues."
                )
    labels = [0] * len(sequence)
    for position in positives:
        labels[position] = 1
    if config.candidate_mask:
        labels = [label if residue in candidates else IGNORE_INDEX for label, residue in zip(labels, sequence)]
    return labels


def ortholog_group(protein_id: str) -> str:
    """The UniProt mnemonic's protein part (`sp|P11230|ACHB_HUMAN` -> `ACHB`), shared by a protein's orthologs in
    Swiss-Prot; other ids are their own group."""
    name = protein_id.split("|")[-1]
    return name.rsplit("_", 1)[0] if "_" in name else protein_id


def validation_ids(protein_ids: list[str], fraction: float, seed: int) -> set[str]:
    """About `fraction` of the proteins, whole ortholog groups at a time, chosen by a seeded hash of the group."""
    groups: dict[str, list[str]] = {}
    for protein_id in protein_ids:
        groups.setdefault(ortholog_group(protein_id), []).append(protein_id)
    ranked = sorted(groups, key=lambda group: hashlib.sha256(f"{seed}:{group}".encode()).hexdigest())
    chosen: set[str] = set()
    for group in ranked:
        if len(chosen) >= fraction * len(protein_ids):
            break
        chosen.update(groups[group])
    return chosen


def read_site_table(path: Path, sequences: dict[str, str], modification: str | None) -> dict[str, list[int]]:
    """YAAM-style sites: {protein id: sorted 0-based positions}, checked against the proteins' sequences."""
    separator = "," if file_format(path) == "csv" else "\t"
    table = pd.read_csv(path, sep=separator, dtype=str, keep_default_na=False, na_filter=False)
    missing = [column for column in ("id", "position") if column not in table.columns]
    if missing:
        raise DatasetFormatError(
            f"{path}: missing column(s) {missing}; found {list(table.columns)}. A site table needs `id` and "
            "`position` (1-based), optionally `residue` and `modification`."
        )
    if modification is not None and "modification" not in table.columns:
        raise DatasetFormatError(f"{path}: modification={modification!r} was asked but the table has no column.")
    sites: dict[str, set[int]] = {protein: set() for protein in sequences}
    for row_index, row in enumerate(table.to_dict("records")):
        where = f"{path}, line {row_index + 2} ({row['id']!r})"
        if modification is not None and row["modification"] != modification:
            continue
        if row["id"] not in sequences:
            raise DatasetFormatError(f"{where}: no protein with this id in the split's FASTA file.")
        sequence = sequences[row["id"]]
        try:
            position = int(row["position"])
        except ValueError:
            raise DatasetFormatError(f"{where}: position {row['position']!r} is not an integer.") from None
        if not 1 <= position <= len(sequence):
            raise DatasetFormatError(
                f"{where}: position {position} is outside the protein (1..{len(sequence)}); positions are 1-based."
            )
        residue = row.get("residue", "").strip().upper()
        if residue and sequence[position - 1] != residue:
            raise DatasetFormatError(
                f"{where}: the table says residue {residue} at position {position}, the sequence has "
                f"{sequence[position - 1]}. Check the sequence version or the position."
            )
        sites[row["id"]].add(position - 1)
    return {protein: sorted(positions) for protein, positions in sites.items()}


class Ptm(ProteinDatasetBuilder):
    """Residue-level PTM sites (CapsNet FASTA per PTM type, or YAAM-style FASTA + site table); see the module doc."""

    VERSION = _VERSION
    BUILDER_CONFIG_CLASS = PtmConfig
    BUILDER_CONFIGS = [
        *(
            PtmConfig(
                name=ptm_type,
                version=_VERSION,
                ptm_type=ptm_type,
                candidate_residues=residues,
                description=f"{ptm_type} sites (candidate residues {residues}), CapsNet_PTM metazoa fold 0.",
            )
            for ptm_type, residues in CAPSNET_PTM_TYPES.items()
        ),
        PtmConfig(name="yaam", version=_VERSION, description="Your FASTA + YAAM-style site table (data_files)."),
    ]
    DEFAULT_CONFIG_NAME = "N6-acetyllysine"
    MIRROR_FOLDERS = ("ptm_residue_capsnet_uniprot",)
    _URLS = {
        f"{ptm_type}/{name}": f"{_CAPSNET_URL}/all_PTM_raw_data/{ptm_type}/{name}"
        for ptm_type in CAPSNET_PTM_TYPES
        for name in CAPSNET_FILES.values()
    }

    def _info(self) -> datasets.DatasetInfo:
        self.config.validate()
        if self.config.target == "count":
            label = {"label": datasets.Value("float32")}
            description = _DESCRIPTION + " Target: the number of modified residues per protein."
        else:
            label = {"labels": datasets.List(datasets.Value("int64"))}
            description = describe_labels(_DESCRIPTION, LABEL_NAMES)
        return datasets.DatasetInfo(
            description=description,
            features=datasets.Features({"id": datasets.Value("string"), "sequence": datasets.Value("string"), **label}),
            homepage="https://github.com/duolinwang/CapsNet_PTM",
            license="GPL-2.0 (CapsNet_PTM data); your own license for yaam files",
            citation=_CITATION,
        )

    def _split_generators(self, dl_manager: datasets.DownloadManager) -> list[datasets.SplitGenerator]:
        if self.config.ptm_type is None:
            return self._yaam_splits()
        if self.config.data_files:
            raise ValueError(
                f"ptm/{self.config.name} reads the CapsNet files from data_dir (or downloads them); use the `yaam` "
                "config for your own files."
            )
        names = {split: f"{self.config.ptm_type}/{name}" for split, name in CAPSNET_FILES.items()}
        raw = self.raw_files(dl_manager, names.values())
        paths = {split: raw[name] for split, name in names.items()}
        parts = {"train": ("train", "train"), "test": ("test", "test")}
        if self.config.validation_fraction:
            parts["validation"] = ("train", "validation")
        return [
            datasets.SplitGenerator(name=name, gen_kwargs={"paths": [paths[source]], "sites": None, "part": part})
            for name, (source, part) in parts.items()
        ]

    def _yaam_splits(self) -> list[datasets.SplitGenerator]:
        if not self.config.data_files:
            raise ValueError(
                "ptm/yaam needs your files: data_files={'train': ['train.fasta', 'train_sites.tsv'], 'test': [...]} "
                "(per split one FASTA of proteins and one CSV/TSV site table with columns id, position[, residue, "
                "modification])."
            )
        generators = []
        for split, files in self.config.data_files.items():
            files = [str(file) for file in files]
            fasta = [file for file in files if file_format(file) == "fasta"]
            tables = [file for file in files if file_format(file) in {s.lstrip(".") for s in TABLE_SEPARATORS}]
            if len(fasta) != 1 or len(tables) != 1:
                raise ValueError(
                    f"ptm/yaam: split {split!r} has {len(fasta)} FASTA file(s) and {len(tables)} site table(s) "
                    f"({files}); give exactly one of each."
                )
            generators.append(
                datasets.SplitGenerator(name=split, gen_kwargs={"paths": fasta, "sites": tables[0], "part": None})
            )
        return generators

    def _generate_examples(
        self, paths: list[str], sites: str | None, part: str | None
    ) -> Iterator[tuple[datasets.builder.Key, dict]]:
        """`part`: with `validation_fraction`, which share of the training file to yield ("train" or "validation")."""
        records = read_records(paths, label_key="labels")
        if part in ("train", "validation") and self.config.validation_fraction:
            held_out = validation_ids([r.id for r in records], self.config.validation_fraction, self.config.split_seed)
            records = [r for r in records if (r.id in held_out) == (part == "validation")]
        if sites is None:
            empty = [record.where for record in records if not record.sequence.strip()]
            if empty:
                # the CapsNet files hold a few headers without a sequence (2 in N6-acetyllysine train, 1 in
                # Pyrrolidone-carboxylic-acid train); nothing can be labelled there
                logger.warning("ptm: skipping %d record(s) without a sequence: %s", len(empty), "; ".join(empty))
            records = [record for record in records if record.sequence.strip()]
            parsed = [(record, *parse_marked_sequence(record.sequence, record.where)) for record in records]
        else:
            sequences = {record.id: clean_sequence(record.sequence, record.where) for record in records}
            positions = read_site_table(Path(sites), sequences, self.config.modification)
            parsed = [(record, sequences[record.id], positions[record.id]) for record in records]
        for index, (record, sequence, positives) in enumerate(parsed):
            labels = residue_labels(sequence, positives, self.config, record.where)
            example = {"id": record.id, "sequence": sequence}
            if self.config.target == "count":
                example["label"] = float(len(positives))
            else:
                example["labels"] = labels
            yield datasets.builder.Key(0, index), example
