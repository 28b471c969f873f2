"""phosphosite: windows centred on candidate S/T or Y sites, labelled phosphorylated (positive) or not (negative).

Raw data, two formats:

- **PhosphoLingo FASTA** (default source; `jasperzuallaert/PhosphoLingo`, "multisource from DeepPSP"): a residue
  followed by `#` is a positive site, followed by `@` a negative site; unmarked residues are not sites. The builder
  reads `valid.fasta` + `test.fasta` of the residue group (`ST_valid.fasta` + `ST_test.fasta` or `Y_*` in a
  `data_dir`), pooled, as `baselines.md` section 1 does; the large `train.fasta` files can be added with
  `data_files`.
- **Phospho.ELM dump** (`phosphoELM_*.dump`, passed with `data_files`): tab-separated, header `acc sequence position
  code pmids kinases source species entry_date`, one row per (site, evidence). Positives are the listed sites of the
  residue group (repeated rows are merged), negatives every other residue of the group in the same proteins; only
  proteins with at least one positive site of the group are used, optionally of one `species`.

Examples (one per window): `id` (protein accession), `position` (1-based), `residue`, `window`, `label`
(ClassLabel negative/positive). `window` has `window_size` tokens: the residues around the site, and for positions
beyond either protein end the literal token `<pad>`, so `ProteinTokenizer(prepend_cls=False, append_eos=False)`
turns it into exactly `window_size` ids, `<pad>` = id 0 (the paper's padding symbol). Sites near a terminus are
padded, never dropped.

Protocol (the paper's, as pinned down in `baselines.md` section 1; with the default `seed=0` the window sets and both
splits equal the baselines' exactly):

1. collect every labelled site of the group in file order (files in order, residues in order);
2. `balanced=True` (default): keep all sites of the smaller class (the positives) and
   `sorted(default_rng(seed).choice(n_majority, n_minority, replace=False))` of the other, positives first;
   `balanced=False` keeps every site with its natural imbalance;
3. split 0.64/0.16/0.20, either `split_scheme="protein"` (default; proteins in order of first appearance permuted
   with `default_rng(seed)`, the first round(0.64 n) train, the next round(0.16 n) validation, the rest test; no
   protein in two splits) or `"random_window"` (the paper's: scikit-learn `train_test_split(test_size=0.2,
   random_state=seed)` of the window indices, then the same on the remaining 80 %; windows of one protein land in
   several splits).

The same site centres serve every window size, so `ST_w15`, `ST_w33` and `ST_w51` hold the same sites and splits.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import datasets
import numpy as np
import pandas as pd

from ..tokenization.fasta import read_fasta
from .base import ProteinDatasetBuilder, describe_labels
from .formats import DatasetFormatError, clean_sequence, open_text

logger = logging.getLogger(__name__)

LABEL_NAMES = ("negative", "positive")
RESIDUE_GROUPS = ("ST", "Y")
WINDOW_SIZES = (15, 33, 51)
SPLIT_SCHEMES = ("protein", "random_window")
SPLIT_FRACTIONS = {"train": 0.64, "validation": 0.16, "test": 0.20}
PAD_TOKEN = "<pad>"
POSITIVE_MARK, NEGATIVE_MARK = "#", "@"
PHOSPHO_ELM_COLUMNS = ("acc", "sequence", "position", "code", "pmids", "kinases", "source", "species", "entry_date")
PHOSPHO_ELM_SUFFIXES = (".dump", ".tsv", ".tab")
PHOSPHOLINGO_COMMIT = "77179695b2faab1d9942f042bc895d26e4bde678"
_PHOSPHOLINGO_RAW = f"https://raw.githubusercontent.com/jasperzuallaert/PhosphoLingo/{PHOSPHOLINGO_COMMIT}/data/multisource_from_deeppsp"
_MARKS = re.compile(f"[{POSITIVE_MARK}{NEGATIVE_MARK}]")

_DESCRIPTION = (
    "Phosphorylation sites: one example per candidate residue (S/T or Y), a window of window_size residues centred "
    "on it (<pad> beyond the protein ends) and a label, 1 = phosphorylated. Default source: PhosphoLingo "
    "multisource-from-DeepPSP valid+test files; negatives subsampled to the number of positives (seeded); "
    "0.64/0.16/0.2 protein-level or random-window split."
)
_CITATION = """\
@article{zuallaert2023phospholingo,
  title   = {{PhosphoLingo}: protein language models for phosphorylation site prediction},
  author  = {Zuallaert, Jasper and others},
  journal = {Bioinformatics},
  year    = {2023},
  note    = {data: https://github.com/jasperzuallaert/PhosphoLingo (its README's citation is "under construction")}
}
@article{guo2021deeppsp,
  title   = {{DeepPSP}: a global-local information-based deep neural network for the prediction of protein
             phosphorylation sites},
  author  = {Guo, Lei and others},
  journal = {Journal of Proteome Research},
  year    = {2021}
}"""


@dataclass(frozen=True)
class Protein:
    """One protein with its labelled sites: 0-based positions and labels (1 positive, 0 negative), in order."""

    id: str
    sequence: str
    positions: tuple[int, ...]
    labels: tuple[int, ...]


# raw formats


def parse_marked_sequence(text: str, residues: str, where: str) -> tuple[str, list[int], list[int]]:
    """Split a PhosphoLingo sequence (`#` positive / `@` negative after a residue) into the plain sequence and its
    sites of `residues` (0-based positions, labels); marks on other S/T/Y are ignored (another residue group).

    Example:
        >>> parse_marked_sequence("MS#KT@Y#", "ST", "demo")
        ('MSKTY', [1, 3], [1, 0])
    """
    text = "".join(text.split())
    plain, positions, labels = [], [], []
    start = length = 0
    for mark in _MARKS.finditer(text):
        chunk = text[start : mark.start()]
        if not chunk:
            what = "the sequence start" if mark.start() == 0 else "another mark"
            raise DatasetFormatError(
                f"{where}: mark {mark.group()!r} follows {what} (character {mark.start() + 1}); a mark must follow "
                "the residue it labels, e.g. 'S#' or 'T@'."
            )
        plain.append(chunk)
        start = mark.end()
        length += len(chunk)
        position = length - 1
        residue = chunk[-1].upper()
        if residue not in "STY":
            raise DatasetFormatError(
                f"{where}: residue {position + 1} is {chunk[-1]!r}, marked {mark.group()!r}, but only S, T and Y can "
                "be phosphorylation sites. Remove the mark."
            )
        if residue in residues:
            positions.append(position)
            labels.append(1 if mark.group() == POSITIVE_MARK else 0)
    plain.append(text[start:])
    return clean_sequence("".join(plain), where), positions, labels


def read_phospholingo(path: Path, residues: str) -> Iterator[Protein]:
    """The proteins of a PhosphoLingo FASTA file that have at least one labelled site of `residues`."""
    for record in read_fasta(path):
        sequence, positions, labels = parse_marked_sequence(record.sequence, residues, record.where)
        if positions:
            yield Protein(record.id, sequence, tuple(positions), tuple(labels))


def read_phospho_elm(path: Path, residues: str, species: str | None = None) -> Iterator[Protein]:
    """Proteins of a Phospho.ELM dump with at least one listed site of `residues`; every other residue of the group
    in those proteins is a negative. Rows repeating a site (one per publication or kinase) are merged."""
    with open_text(path) as handle:
        table = pd.read_csv(handle, sep="\t", dtype=str, keep_default_na=False, na_filter=False)
    missing = [column for column in PHOSPHO_ELM_COLUMNS[:4] if column not in table.columns]
    if missing:
        raise DatasetFormatError(
            f"{path}: not a Phospho.ELM dump, missing column(s) {missing}; found {list(table.columns)}. Expected "
            f"the tab-separated header {' '.join(PHOSPHO_ELM_COLUMNS)}."
        )
    if species is not None:
        if "species" not in table.columns:
            raise DatasetFormatError(f"{path}: species={species!r} was asked for but the file has no species column.")
        table = table[table["species"].str.strip().str.lower() == species.strip().lower()]
    sequences: dict[str, tuple[str, str]] = {}
    sites: dict[str, set[int]] = {}
    for row_index, (acc, raw_sequence, raw_position, code) in enumerate(
        zip(table["acc"], table["sequence"], table["position"], table["code"])
    ):
        acc = acc.strip()
        where = f"{path}, line {table.index[row_index] + 2} ({acc!r})"
        if not acc:
            raise DatasetFormatError(f"{where}: empty acc. Every row needs a protein accession.")
        if acc in sequences:
            sequence, first = sequences[acc]
            if "".join(raw_sequence.split()).upper() != sequence:
                raise DatasetFormatError(
                    f"{where}: a different sequence than at {first} for the same accession. One accession must have "
                    "one sequence; give isoforms their own accession (e.g. P12345-2)."
                )
        else:
            sequence = clean_sequence(raw_sequence, where)
            sequences[acc] = (sequence, where)
        try:
            position = int(raw_position)
        except ValueError:
            raise DatasetFormatError(f"{where}: position {raw_position!r} is not an integer.") from None
        code = code.strip().upper()
        if not 1 <= position <= len(sequence) or sequence[position - 1] != code:
            found = sequence[position - 1] if 1 <= position <= len(sequence) else "nothing"
            raise DatasetFormatError(
                f"{where}: position {position} should be {code!r} but the sequence ({len(sequence)} residues) has "
                f"{found!r} there. Check that positions are 1-based and refer to this sequence."
            )
        if code in residues:
            sites.setdefault(acc, set()).add(position - 1)
    for acc, positives in sites.items():
        sequence = sequences[acc][0]
        candidates = [index for index, residue in enumerate(sequence) if residue in residues]
        labels = tuple(int(index in positives) for index in candidates)
        yield Protein(acc, sequence, tuple(candidates), labels)


def is_phospho_elm(path: str | Path) -> bool:
    """Phospho.ELM dumps are tab-separated tables (`.dump`, `.tsv`, `.tab`, optionally `.gz`); FASTA otherwise."""
    path = Path(path)
    suffix = Path(path.stem).suffix if path.suffix == ".gz" else path.suffix
    return suffix.lower() in PHOSPHO_ELM_SUFFIXES


def read_proteins(paths: Iterable[str | Path], residues: str, species: str | None = None) -> list[Protein]:
    """Proteins with labelled sites of `residues` from PhosphoLingo FASTA and/or Phospho.ELM files, in file order."""
    proteins: list[Protein] = []
    seen: dict[str, str] = {}
    for path in map(Path, paths):
        if is_phospho_elm(path):
            reader = read_phospho_elm(path, residues, species)
        else:
            reader = read_phospholingo(path, residues)
        for protein in reader:
            if protein.id in seen:
                raise DatasetFormatError(
                    f"{path}: protein {protein.id!r} again (first in {seen[protein.id]}). Each protein may appear "
                    "once, because its sites must all go to one split."
                )
            seen[protein.id] = str(path)
            proteins.append(protein)
    return proteins


# windows and splits


def cut_window(sequence: str, index: int, window_size: int) -> str:
    """The `window_size` tokens centred on 0-based `index`, `<pad>` beyond the ends (a string for ProteinTokenizer).

    Example:
        >>> cut_window("MSKT", 1, 5)
        '<pad>MSKT'
    """
    half = window_size // 2
    start, end = index - half, index + half + 1
    return PAD_TOKEN * max(0, -start) + sequence[max(0, start) : end] + PAD_TOKEN * max(0, end - len(sequence))


def window_tokens(window: str) -> list[str]:
    """A window string as its tokens (residues and `<pad>`), e.g. for display: `"".join(...)` with `-` for pad."""
    return re.findall(rf"{re.escape(PAD_TOKEN)}|.", window)


def select_sites(labels: np.ndarray, balanced: bool, seed: int) -> np.ndarray:
    """Indices of the kept sites: all, or the smaller class plus a seeded subsample of the larger (minority first).

    With positives as the minority this is the paper's scheme: all positives, then as many negatives, drawn by
    `default_rng(seed).choice(..., replace=False)` and kept in their original order.
    """
    if not balanced:
        return np.arange(len(labels))
    positives, negatives = np.flatnonzero(labels == 1), np.flatnonzero(labels == 0)
    minority, majority = (positives, negatives) if len(positives) <= len(negatives) else (negatives, positives)
    if len(positives) > len(negatives):
        logger.warning(
            "More positive (%d) than negative (%d) sites: subsampling positives.", *map(len, (positives, negatives))
        )
    chosen = np.sort(np.random.default_rng(seed).choice(len(majority), size=len(minority), replace=False))
    return np.concatenate([minority, majority[chosen]])


def split_windows(protein_of_window: np.ndarray, num_proteins: int, scheme: str, seed: int) -> dict[str, np.ndarray]:
    """Positions (into the kept-window array) of each split, 0.64/0.16/0.2, by `scheme` (module docstring)."""
    if scheme == "random_window":
        from sklearn.model_selection import train_test_split

        indices = np.arange(len(protein_of_window))
        rest, test = train_test_split(indices, test_size=SPLIT_FRACTIONS["test"], random_state=seed)
        validation_share = SPLIT_FRACTIONS["validation"] / (1.0 - SPLIT_FRACTIONS["test"])
        train, validation = train_test_split(rest, test_size=validation_share, random_state=seed)
        return {"train": train, "validation": validation, "test": test}
    order = np.random.default_rng(seed).permutation(num_proteins)
    num_train = round(SPLIT_FRACTIONS["train"] * num_proteins)
    num_validation = round(SPLIT_FRACTIONS["validation"] * num_proteins)
    split_of_protein = np.empty(num_proteins, dtype=np.int64)
    split_of_protein[order] = np.repeat(
        [0, 1, 2], [num_train, num_validation, num_proteins - num_train - num_validation]
    )
    return {
        name: np.flatnonzero(split_of_protein[protein_of_window] == code)
        for code, name in enumerate(("train", "validation", "test"))
    }


# builder


@dataclass
class PhosphositeWindowsConfig(datasets.BuilderConfig):
    """Window-dataset options; keyword overrides of `load_dataset` reach these fields.

    Args:
        residues: "ST" (serine and threonine sites, one model) or "Y" (tyrosine).
        window_size: odd number of tokens per window (the paper's L: 15, 33, 51).
        split_scheme: "protein" (no protein in two splits, the default) or "random_window" (the paper's).
        balanced: subsample negatives to the number of positives (the paper); False keeps every site.
        seed: seed of the negative subsample and of the split.
        species: Phospho.ELM only: keep rows of this species (e.g. "Homo sapiens", as the paper); None keeps all.
    """

    residues: str = "ST"
    window_size: int = 33
    split_scheme: str = "protein"
    balanced: bool = True
    seed: int = 0
    species: str | None = None


_VERSION = datasets.Version("1.0.0")


class Phosphosite(ProteinDatasetBuilder):
    """Phosphorylation-site windows: columns `id`, `position`, `residue`, `window`, `label` (negative/positive)."""

    VERSION = _VERSION
    BUILDER_CONFIG_CLASS = PhosphositeWindowsConfig
    BUILDER_CONFIGS = [
        PhosphositeWindowsConfig(
            name=f"{group}_w{window}",
            version=_VERSION,
            residues=group,
            window_size=window,
            description=f"{'S/T' if group == 'ST' else 'Y'} sites, windows of {window} residues.",
        )
        for group in RESIDUE_GROUPS
        for window in WINDOW_SIZES
    ]
    DEFAULT_CONFIG_NAME = "ST_w33"
    MIRROR_FOLDERS = ("phospho_sites_phospholingo",)
    _URLS = {
        f"{group}_{part}.fasta": f"{_PHOSPHOLINGO_RAW}/{group}/{part}.fasta"
        for group in RESIDUE_GROUPS
        for part in ("valid", "test")
    }

    def _info(self) -> datasets.DatasetInfo:
        config = self.config
        if config.residues not in RESIDUE_GROUPS:
            raise ValueError(f"phosphosite: residues must be one of {RESIDUE_GROUPS}, got {config.residues!r}")
        if not isinstance(config.window_size, int) or config.window_size < 1 or config.window_size % 2 == 0:
            raise ValueError(f"phosphosite: window_size must be a positive odd integer, got {config.window_size!r}")
        if config.split_scheme not in SPLIT_SCHEMES:
            raise ValueError(f"phosphosite: split_scheme must be one of {SPLIT_SCHEMES}, got {config.split_scheme!r}")
        return datasets.DatasetInfo(
            description=describe_labels(_DESCRIPTION, LABEL_NAMES),
            features=datasets.Features(
                {
                    "id": datasets.Value("string"),
                    "position": datasets.Value("int32"),
                    "residue": datasets.Value("string"),
                    "window": datasets.Value("string"),
                    "label": datasets.ClassLabel(names=list(LABEL_NAMES)),
                }
            ),
            homepage=f"https://github.com/jasperzuallaert/PhosphoLingo/tree/{PHOSPHOLINGO_COMMIT}",
            license="unknown",
            citation=_CITATION,
        )

    def _split_generators(self, dl_manager: datasets.DownloadManager) -> list[datasets.SplitGenerator]:
        if self.config.data_files:
            paths = [str(path) for files in self.config.data_files.values() for path in files]
        else:
            # the valid and test FASTA files of this config's residue group
            names = [f"{self.config.residues}_{part}.fasta" for part in ("valid", "test")]
            paths = list(self.raw_files(dl_manager, names).values())
        proteins = read_proteins(paths, self.config.residues, self.config.species)
        if not proteins:
            raise DatasetFormatError(
                f"phosphosite: no labelled {self.config.residues} site in {', '.join(paths)}. Are these "
                f"{'S/T' if self.config.residues == 'ST' else 'Y'} files?"
            )
        protein_of_site = np.repeat(np.arange(len(proteins)), [len(p.positions) for p in proteins])
        labels = np.fromiter(
            (label for p in proteins for label in p.labels), dtype=np.int64, count=len(protein_of_site)
        )
        positions = np.fromiter(
            (position for p in proteins for position in p.positions), dtype=np.int64, count=len(protein_of_site)
        )
        kept = select_sites(labels, self.config.balanced, self.config.seed)
        splits = split_windows(protein_of_site[kept], len(proteins), self.config.split_scheme, self.config.seed)
        empty = [name for name, members in splits.items() if not len(members)]
        if empty:
            raise DatasetFormatError(
                f"phosphosite: {len(proteins)} proteins with {len(kept)} kept sites leave the {', '.join(empty)} "
                f"split(s) of the {self.config.split_scheme!r} scheme empty. Give more data, or use "
                "split_scheme='random_window' for a handful of proteins."
            )
        generators = []
        for name, members in splits.items():
            # file order within a split (protein, then position), whatever order the split procedure drew them in
            sites = np.sort(kept[members])
            generators.append(
                datasets.SplitGenerator(
                    name=name,
                    gen_kwargs={
                        "proteins": proteins,
                        "protein_of_site": protein_of_site[sites],
                        "positions": positions[sites],
                        "labels": labels[sites],
                    },
                )
            )
        return generators

    def _generate_examples(
        self, proteins: list[Protein], protein_of_site: np.ndarray, positions: np.ndarray, labels: np.ndarray
    ) -> Iterator[tuple[datasets.builder.Key, dict]]:
        window_size = self.config.window_size
        for index, (protein_index, position, label) in enumerate(
            zip(protein_of_site.tolist(), positions.tolist(), labels.tolist())
        ):
            protein = proteins[protein_index]
            yield (
                datasets.builder.Key(0, index),
                {
                    "id": protein.id,
                    "position": position + 1,
                    "residue": protein.sequence[position],
                    "window": cut_window(protein.sequence, position, window_size),
                    "label": label,
                },
            )
