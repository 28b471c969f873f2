"""secondary_structure: 3-state secondary structure per residue, 0 = H (helix), 1 = E (strand), 2 = C (other/coil).

Raw formats (picked by file name, see `secondary_structure.md` for sources, counts and caveats):

- **FLIP NetSurfP-2.0 `splits.zip`**: `splits/sequences.fasta` (`>1es5-A`), `splits/sampled.fasta` (`>1es5-A
  SET=train VALIDATION=False`, one H/E/C letter per residue) and `splits/mask.fasta` (1 = resolved, 0 = unresolved;
  unresolved residues get label -100). The split a zip is read for picks its proteins: `train` = SET=train
  VALIDATION=False, `validation` = VALIDATION=True, `test` = SET=test.
- **ProteinBERT/TAPE CSV** (`seq,label`, label = one digit per residue, 0 = H, 1 = E, 2 = C), e.g. CB513
  (`secondary_structure.test.csv`) and TAPE's validation set; also proteinhub CSV/TSV with `id`, `sequence`,
  `labels` and an optional `mask` column. Rows without an id column are named `<file tag>_<row>` (`cb513_0`, ...).
- **TAPE JSON** (`.json`: a list of records; `.jsonl`: one record per line) with `primary` (the sequence as a
  string), `ss3` (0/1/2 per residue) or else `ss8` (0-7 in TAPE's order G, H, I, B, E, S, T, C), an optional
  `valid_mask` (0/false = ignore the residue) and an optional `id`.
- **FASTA** with `>id labels=HHHEEC... mask=111100...` headers (`mask=` optional).

Label strings are either digits 0/1/2 or DSSP letters. 8-state DSSP is reduced to 3 states by the usual rule (as in
NetSurfP-2.0 and TAPE): H, G, I -> H; E, B -> E; T, S, C, P (PPII), '-' -> C. 3-state H/E/C strings pass unchanged
by the same table. Anything else, a label string of the wrong length, or a mask without any resolved residue is a
`DatasetFormatError` naming the file, the record and the position.

Configs: `flip_cb513` (default: FLIP train and validation, CB513 as test, the paper's/TAPE's protocol), `flip`
(FLIP's own train/validation/test), `cb513` (test only), `tape` (ProteinBERT's TAPE train/valid CSVs and CB513).
With `data_files={split: path(s)}` the splits and files are yours, in any of the formats above.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import datasets

from ..modeling.tasks import IGNORE_INDEX
from ..tokenization.fasta import FastaRecord, read_fasta
from .base import ProteinDatasetBuilder, describe_labels
from .formats import (
    TABLE_SEPARATORS,
    DatasetFormatError,
    clean_sequence,
    file_format,
    header_field,
)

LABEL_NAMES = ("H", "E", "C")
# DSSP 8 states (+ PPII 'P' of DSSP >= 4 and '-' for "no structure") and the 3 states themselves -> 0 H / 1 E / 2 C
DSSP_TO_THREE_STATE = {
    "H": 0,
    "G": 0,
    "I": 0,
    "E": 1,
    "B": 1,
    "T": 2,
    "S": 2,
    "C": 2,
    "P": 2,
    "-": 2,
}
TAPE_SS8_ORDER = "GHIBESTC"  # TAPE's `ss8` integer codes, from NetSurfP-2.0's Q8 one-hot columns

FLIP_COMMIT = "62cace8735f5610e2743cf06ce0f944b37fffaa6"
PROTEINBERT_COMMIT = "83198c99f18147c126f16f504e53e2201a6256e4"
FLIP_ZIP = "splits.zip"
CB513_CSV = "secondary_structure.test.csv"
TAPE_VALID_CSV = "secondary_structure.valid.csv"
TAPE_TRAIN_CSV = "secondary_structure.train.csv"
# ids given to rows of the id-less ProteinBERT CSVs
_FILE_TAGS = {CB513_CSV: "cb513", TAPE_VALID_CSV: "tape_valid", TAPE_TRAIN_CSV: "tape_train"}
_FLIP_MEMBERS = ("splits/sequences.fasta", "splits/sampled.fasta", "splits/mask.fasta")
_JSON_SUFFIXES = (".json", ".jsonl")
_VERSION = datasets.Version("1.0.0")  # a module constant: class-body names are invisible inside comprehensions

_DESCRIPTION = (
    "3-state protein secondary structure per residue (0 = H helix, 1 = E strand, 2 = C other/coil); unresolved "
    "residues are -100. Sources: NetSurfP-2.0 training proteins as split by FLIP, CB513 and TAPE's validation set "
    "as distributed by ProteinBERT, or the user's files (8-state DSSP reduced to 3 states: HGI->H, EB->E, rest->C)."
)
_CITATION = """\
@article{klausen2019netsurfp,
  title   = {{NetSurfP-2.0}: Improved prediction of protein structural features by integrated deep learning},
  author  = {Klausen, Michael Schantz and Jespersen, Martin Closter and Nielsen, Henrik and
             Jensen, Kamilla Kj{\\ae}rgaard and Jurtz, Vanessa Isabell and S{\\o}nderby, Casper Kaae and
             Sommer, Morten Otto Alexander and Winther, Ole and Nielsen, Morten and Petersen, Bent and
             Marcatili, Paolo},
  journal = {Proteins: Structure, Function, and Bioinformatics},
  volume  = {87},
  number  = {6},
  pages   = {520--527},
  year    = {2019},
  doi     = {10.1002/prot.25674}
}
@article{cuff1999cb513,
  title   = {Evaluation and improvement of multiple sequence methods for protein secondary structure prediction},
  author  = {Cuff, James A. and Barton, Geoffrey J.},
  journal = {Proteins: Structure, Function, and Bioinformatics},
  volume  = {34},
  number  = {4},
  pages   = {508--519},
  year    = {1999}
}
@inproceedings{rao2019tape,
  title     = {Evaluating Protein Transfer Learning with {TAPE}},
  author    = {Rao, Roshan and Bhattacharya, Nicholas and Thomas, Neil and Duan, Yan and Chen, Xi and Canny, John and
               Abbeel, Pieter and Song, Yun S.},
  booktitle = {Advances in Neural Information Processing Systems},
  year      = {2019}
}
@inproceedings{dallago2021flip,
  title     = {{FLIP}: Benchmark tasks in fitness landscape inference for proteins},
  author    = {Dallago, Christian and Mou, Jody and Johnston, Kadina E. and Wittmann, Bruce J. and Bhattacharya,
               Nicholas and Goldman, Samuel and Madani, Ali and Yang, Kevin K.},
  booktitle = {NeurIPS Datasets and Benchmarks},
  year      = {2021}
}
@article{brandes2022proteinbert,
  title   = {{ProteinBERT}: a universal deep-learning model of protein sequence and function},
  author  = {Brandes, Nadav and Ofer, Dan and Peleg, Yam and Rappoport, Nadav and Linial, Michal},
  journal = {Bioinformatics},
  volume  = {38},
  number  = {8},
  pages   = {2102--2110},
  year    = {2022},
  doi     = {10.1093/bioinformatics/btac020}
}"""


# labels and masks


def parse_secondary_structure(text: str, where: str) -> list[int]:
    """Per-residue 3-state ids from a label string: digits 0/1/2, or DSSP letters (8-state reduced to 3).

    Example:
        >>> parse_secondary_structure("HGIEBTSC-", "demo"), parse_secondary_structure("0122", "demo")
        ([0, 0, 0, 1, 1, 2, 2, 2, 2], [0, 1, 2, 2])
    """
    text = "".join(text.split())
    if not text:
        raise DatasetFormatError(f"{where}: empty secondary-structure labels. Give one label per residue.")
    if any(char.isdigit() for char in text):
        for position, char in enumerate(text, start=1):
            if char not in "012":
                raise DatasetFormatError(
                    f"{where}: residue {position} has label {char!r}. Digit labels are 0 (H), 1 (E) or 2 (C); "
                    "a label string is either all digits or all DSSP letters."
                )
        return [int(char) for char in text]
    labels = []
    for position, char in enumerate(text, start=1):
        if char not in DSSP_TO_THREE_STATE:
            raise DatasetFormatError(
                f"{where}: residue {position} has label {char!r}, not a DSSP state. Allowed: H G I E B T S C P - "
                "(8-state DSSP, reduced to H/E/C) or the digits 0/1/2."
            )
        labels.append(DSSP_TO_THREE_STATE[char])
    return labels


def reduce_tape_ss8(codes: Iterable[int], where: str) -> list[int]:
    """TAPE `ss8` integer codes (G, H, I, B, E, S, T, C = 0..7) -> 3-state ids."""
    labels = []
    for position, code in enumerate(codes, start=1):
        if not isinstance(code, int) or not 0 <= code < len(TAPE_SS8_ORDER):
            raise DatasetFormatError(
                f"{where}: ss8 value {code!r} at residue {position}; TAPE's ss8 codes are 0-7 (G H I B E S T C)."
            )
        labels.append(DSSP_TO_THREE_STATE[TAPE_SS8_ORDER[code]])
    return labels


def parse_mask(values: str | Iterable, length: int, where: str) -> list[bool]:
    """A resolved-residue mask (string of 0/1, or a list of 0/1/bools/floats) -> one bool per residue; it must have
    the sequence's length and at least one resolved residue."""
    if isinstance(values, str):
        text = "".join(values.split())
        bad = next(((i, c) for i, c in enumerate(text, start=1) if c not in "01"), None)
        if bad:
            raise DatasetFormatError(
                f"{where}: mask character {bad[1]!r} at residue {bad[0]}; a mask is one 1 (resolved) or 0 "
                "(unresolved, ignored) per residue."
            )
        mask = [c == "1" for c in text]
    else:
        mask = [bool(value) for value in values]
    if not mask:
        raise DatasetFormatError(f"{where}: empty mask. Give one 0/1 per residue, or leave the mask out.")
    if len(mask) != length:
        raise DatasetFormatError(
            f"{where}: mask of {len(mask)} values for a sequence of {length} residues. Give one 0/1 per residue."
        )
    if not any(mask):
        raise DatasetFormatError(
            f"{where}: the mask marks no residue as resolved, so the protein has nothing to learn or score. "
            "Remove the record or fix its mask."
        )
    return mask


def make_example(
    record_id: str, sequence: str, labels: list[int], mask: list[bool] | None, where: str
) -> dict[str, object]:
    """Validate one protein and return its row: one label per residue, -100 where the mask says unresolved."""
    sequence = clean_sequence(sequence, where)
    if len(labels) != len(sequence):
        raise DatasetFormatError(
            f"{where}: {len(labels)} secondary-structure labels for a sequence of {len(sequence)} residues. Give "
            "exactly one label per residue."
        )
    if mask is not None:
        labels = [label if resolved else IGNORE_INDEX for label, resolved in zip(labels, mask)]
    return {"id": record_id, "sequence": sequence, "labels": labels}


# readers (each yields validated rows)


def _fasta_members(archive: zipfile.ZipFile, member: str, path: Path) -> list[FastaRecord]:
    """The records (`FastaRecord`) of a FASTA file inside the zip."""
    with archive.open(member) as handle:
        return list(read_fasta(handle, name=f"{path}:{member}"))


def _flip_subset(split: str, path: Path) -> tuple[str, str | None]:
    if split == "train":
        return "train", "False"
    if split in ("validation", "valid"):
        return "train", "True"
    if split == "test":
        return "test", None
    raise DatasetFormatError(
        f"{path}: a FLIP splits.zip was given for split {split!r}; name the split train, validation or test, which "
        "selects SET=train VALIDATION=False, VALIDATION=True or SET=test."
    )


def read_flip_zip(path: Path, split: str) -> Iterator[dict[str, object]]:
    """Rows of FLIP's secondary-structure `splits.zip` that belong to `split`."""
    wanted_set, wanted_validation = _flip_subset(split, path)
    with zipfile.ZipFile(path) as archive:
        missing = [member for member in _FLIP_MEMBERS if member not in archive.namelist()]
        if missing:
            raise DatasetFormatError(f"{path}: not FLIP's secondary-structure splits.zip, it lacks {missing}.")
        sequences, states, masks = (_fasta_members(archive, member, path) for member in _FLIP_MEMBERS)
    if not len(sequences) == len(states) == len(masks):
        raise DatasetFormatError(
            f"{path}: {len(sequences)} sequences, {len(states)} label records and {len(masks)} masks; the three "
            "files must list the same proteins in the same order."
        )
    for protein, state, mask in zip(sequences, states, masks):
        where = protein.where
        if state.id != protein.id or mask.id != protein.id:
            raise DatasetFormatError(
                f"{where}: the label record is {state.id!r} and the mask {mask.id!r}; the three files must list the "
                "same proteins in the same order."
            )
        if header_field(state.description, "SET") != wanted_set:
            continue
        if wanted_validation is not None and header_field(state.description, "VALIDATION") != wanted_validation:
            continue
        labels = parse_secondary_structure(state.sequence, where)
        yield make_example(protein.id, protein.sequence, labels, parse_mask(mask.sequence, len(labels), where), where)


def _file_tag(path: Path) -> str:
    return _FILE_TAGS.get(path.name, path.name.split(".")[0])


def read_table(path: Path) -> Iterator[dict[str, object]]:
    """Rows of a CSV/TSV: ProteinBERT's `seq,label` or proteinhub's `id,sequence,labels[,mask]`."""
    import pandas as pd

    separator = TABLE_SEPARATORS.get(Path(path.stem).suffix if path.suffix == ".gz" else path.suffix, ",")
    table = pd.read_csv(path, sep=separator, dtype=str, keep_default_na=False, na_filter=False)
    columns = set(table.columns)
    sequence_column = next((c for c in ("sequence", "seq") if c in columns), None)
    label_column = next((c for c in ("labels", "label") if c in columns), None)
    if sequence_column is None or label_column is None:
        raise DatasetFormatError(
            f"{path}: columns {list(table.columns)}; a secondary-structure table needs `seq,label` (ProteinBERT) or "
            "`id,sequence,labels` (optional `mask`)."
        )
    tag = _file_tag(path)
    for row, values in enumerate(table.to_dict("records")):
        record_id = values["id"].strip() if "id" in columns else f"{tag}_{row}"
        where = f"{path}, line {row + 2} ({record_id!r})"
        labels = parse_secondary_structure(values[label_column], where)
        mask = parse_mask(values["mask"], len(labels), where) if values.get("mask", "").strip() else None
        yield make_example(record_id, values[sequence_column], labels, mask, where)


def read_tape_json(path: Path) -> Iterator[dict[str, object]]:
    """Rows of a TAPE-style JSON list (or JSON-lines file) of records with `primary` and `ss3` or `ss8`."""
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix == ".jsonl":
            records = [json.loads(line) for line in text.splitlines() if line.strip()]
        else:
            records = json.loads(text)
    except json.JSONDecodeError as error:
        raise DatasetFormatError(f"{path}: not valid JSON ({error}).") from None
    if not isinstance(records, list):
        raise DatasetFormatError(f"{path}: expected a JSON list of protein records, got {type(records).__name__}.")
    tag = _file_tag(path)
    for index, record in enumerate(records):
        record_id = str(record.get("id", f"{tag}_{index}")) if isinstance(record, dict) else f"#{index}"
        where = f"{path}, record {index} ({record_id!r})"
        if not isinstance(record, dict) or not isinstance(record.get("primary"), str):
            raise DatasetFormatError(
                f"{where}: a record needs `primary`, the amino-acid sequence as a string (TAPE's LMDB/JSON field)."
            )
        if "ss3" in record:
            labels = list(record["ss3"])
            if any(not isinstance(label, int) or not 0 <= label <= 2 for label in labels):
                bad = next(i for i, label in enumerate(labels, 1) if not isinstance(label, int) or not 0 <= label <= 2)
                raise DatasetFormatError(
                    f"{where}: ss3 value {labels[bad - 1]!r} at residue {bad}; ss3 is 0 (H), 1 (E) or 2 (C)."
                )
        elif "ss8" in record:
            labels = reduce_tape_ss8(record["ss8"], where)
        else:
            raise DatasetFormatError(f"{where}: no `ss3` or `ss8` labels.")
        mask = parse_mask(record["valid_mask"], len(labels), where) if "valid_mask" in record else None
        yield make_example(record_id, record["primary"], labels, mask, where)


def read_labelled_fasta(path: Path) -> Iterator[dict[str, object]]:
    """Rows of a FASTA file with `labels=` (and optional `mask=`) in the headers."""
    for record in read_fasta(path):
        states, masked = header_field(record.description, "labels"), header_field(record.description, "mask")
        if states is None:
            raise DatasetFormatError(f"{record.where}: no `labels=` field in the header (e.g. `>id labels=HHEEC`).")
        labels = parse_secondary_structure(states, record.where)
        mask = parse_mask(masked, len(labels), record.where) if masked is not None else None
        yield make_example(record.id, record.sequence, labels, mask, record.where)


def read_split_files(paths: Iterable[str | os.PathLike], split: str) -> Iterator[dict[str, object]]:
    """Rows of every file of one split, format by file name; ids must be unique within the split."""
    seen: dict[str, str] = {}
    for path in map(Path, paths):
        if path.suffix == ".zip":
            rows = read_flip_zip(path, split)
        elif path.suffix in _JSON_SUFFIXES:
            rows = read_tape_json(path)
        elif file_format(path) == "fasta":
            rows = read_labelled_fasta(path)
        else:
            rows = read_table(path)
        count = 0
        for row in rows:
            if row["id"] in seen:
                raise DatasetFormatError(
                    f"{path}: protein id {row['id']!r} again (first in {seen[row['id']]}). Ids must be unique within "
                    "a split."
                )
            seen[row["id"]] = str(path)
            count += 1
            yield row
        if not count:
            raise DatasetFormatError(f"{path}: no proteins found for split {split!r}.")


# builder


@dataclass
class SecondaryStructureBuilderConfig(datasets.BuilderConfig):
    """`sources`: split -> raw file name (a key of `SecondaryStructure._URLS`), used when no `data_files` are given."""

    sources: dict[str, str] = field(default_factory=dict)


class SecondaryStructure(ProteinDatasetBuilder):
    """3-state secondary structure: columns `id`, `sequence`, `labels` (0 H / 1 E / 2 C, -100 unresolved)."""

    VERSION = _VERSION
    BUILDER_CONFIG_CLASS = SecondaryStructureBuilderConfig
    BUILDER_CONFIGS = [
        SecondaryStructureBuilderConfig(
            name="flip_cb513",
            version=_VERSION,
            description="FLIP/NetSurfP-2.0 train and validation, CB513 as test (the seed paper's and TAPE's test).",
            sources={"train": FLIP_ZIP, "validation": FLIP_ZIP, "test": CB513_CSV},
        ),
        SecondaryStructureBuilderConfig(
            name="flip",
            version=_VERSION,
            description="FLIP's secondary-structure split of the NetSurfP-2.0 proteins: 9,712 / 1,080 / 364.",
            sources={"train": FLIP_ZIP, "validation": FLIP_ZIP, "test": FLIP_ZIP},
        ),
        SecondaryStructureBuilderConfig(
            name="cb513", version=_VERSION, description="CB513 only (513 proteins).", sources={"test": CB513_CSV}
        ),
        SecondaryStructureBuilderConfig(
            name="tape",
            version=_VERSION,
            description="ProteinBERT's copies of TAPE's train and validation sets, CB513 as test.",
            sources={"train": TAPE_TRAIN_CSV, "validation": TAPE_VALID_CSV, "test": CB513_CSV},
        ),
    ]
    DEFAULT_CONFIG_NAME = "flip_cb513"
    MIRROR_FOLDERS = ("secondary_structure_flip_netsurfp2", "secondary_structure_tape_cb513")
    _URLS = {
        FLIP_ZIP: f"https://raw.githubusercontent.com/J-SNACKKB/FLIP/{FLIP_COMMIT}/splits/secondary_structure/splits.zip",
        **{
            name: f"https://raw.githubusercontent.com/nadavbra/protein_bert/{PROTEINBERT_COMMIT}/protein_benchmarks/{name}"
            for name in (CB513_CSV, TAPE_VALID_CSV, TAPE_TRAIN_CSV)
        },
    }

    def _info(self) -> datasets.DatasetInfo:
        return datasets.DatasetInfo(
            description=describe_labels(_DESCRIPTION, LABEL_NAMES),
            features=datasets.Features(
                {
                    "id": datasets.Value("string"),
                    "sequence": datasets.Value("string"),
                    "labels": datasets.List(datasets.Value("int64")),
                }
            ),
            homepage="https://github.com/J-SNACKKB/FLIP",
            license="AFL-3.0 (FLIP files); MIT (ProteinBERT benchmark files)",
            citation=_CITATION,
        )

    def _split_generators(self, dl_manager: datasets.DownloadManager) -> list[datasets.SplitGenerator]:
        if self.config.data_files:
            files = {split: [str(f) for f in split_files] for split, split_files in self.config.data_files.items()}
        else:
            raw = self.raw_files(dl_manager, sorted(set(self.config.sources.values())))
            files = {split: [raw[name]] for split, name in self.config.sources.items()}
        return [
            datasets.SplitGenerator(name=split, gen_kwargs={"paths": paths, "split": split})
            for split, paths in files.items()
        ]

    def _generate_examples(self, paths: list[str], split: str) -> Iterator[tuple[datasets.builder.Key, dict]]:
        for index, row in enumerate(read_split_files(paths, split)):
            yield datasets.builder.Key(0, index), row


__all__ = [
    "DSSP_TO_THREE_STATE",
    "LABEL_NAMES",
    "SecondaryStructure",
    "parse_mask",
    "parse_secondary_structure",
    "reduce_tape_ss8",
]
