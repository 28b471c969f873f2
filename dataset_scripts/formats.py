"""Reading and validating protein records from FASTA, CSV and TSV files.

Every builder validates its raw records here, once, before they reach Arrow: a bad record is a `DatasetFormatError`
that names the file, the record (its id and its index or line) and the offending value, never a silent skip.

Per-residue label strings (FASTA header `labels=...`, CSV/TSV column `labels`) come in two forms:

- compact: one character per residue, a digit `0`-`9` (the class id) or `-` (residue ignored, stored as -100);
- list: integers separated by commas and/or whitespace, optionally in brackets (`0,1,1`, `[0, 1, -100]`), for label
  sets with more than ten classes or when the data already comes that way (aaanalysis `AA_*` files).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..modeling.tasks import IGNORE_INDEX
from ..tokenization.fasta import (  # noqa: F401  (clean_sequence, FASTA_SUFFIXES: the builders import them from here)
    FASTA_SUFFIXES,
    TABLE_SEPARATORS,
    DatasetFormatError,
    clean_sequence,
    file_format,
    open_text,
    read_fasta,
)

# `key=value` in a FASTA description; the value runs to the next ` key=` or the end of the line, so it may hold spaces
_HEADER_FIELD = r"(?:^|\s){key}=(.*?)(?=\s+[\w.-]+=|$)"


@dataclass(frozen=True)
class RawRecord:
    """One protein as read from a file, before its label is interpreted.

    `where` names the record for error messages ("train.fasta, record 3 ('P12345')"); `label` is the raw label text
    (`None` when the file has none).
    """

    id: str
    sequence: str
    label: str | None
    where: str


def parse_residue_labels(text: str, where: str) -> list[int]:
    """Parse a per-residue label string (compact `0110-` or list `0,1,1,-100`, see the module docstring)."""
    text = text.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1].strip()
    if not text:
        raise DatasetFormatError(f"{where}: empty residue labels.")
    if "," in text or any(c.isspace() for c in text):
        labels = []
        for position, token in enumerate(re.split(r"[,\s]+", text), start=1):
            try:
                labels.append(int(token))
            except ValueError:
                raise DatasetFormatError(
                    f"{where}: residue label {position} is {token!r}, not an integer. Write labels as integers "
                    "separated by commas (e.g. '0,1,1') or one digit per residue (e.g. '011')."
                ) from None
        return labels
    if text.isascii() and text.isdigit():  # the common case, measured 2x faster than the loop
        return list(map(int, text))
    labels = []
    for position, char in enumerate(text, start=1):
        if "0" <= char <= "9":
            labels.append(int(char))
        elif char == "-":
            labels.append(IGNORE_INDEX)
        else:
            raise DatasetFormatError(
                f"{where}: residue label {position} is {char!r}. The compact form allows one digit 0-9 per "
                "residue or '-' for an ignored residue; use comma-separated integers for more than ten classes."
            )
    return labels


def check_residue_labels(labels: list[int], sequence: str, num_labels: int, where: str) -> None:
    """Raise unless there is one label per residue and each is in `[0, num_labels)` or -100 (ignored)."""
    if len(labels) != len(sequence):
        raise DatasetFormatError(
            f"{where}: {len(labels)} residue labels for a sequence of {len(sequence)} residues. Give exactly one "
            "label per residue (a trailing '*' is not a residue)."
        )
    if min(labels) >= 0 and max(labels) < num_labels:
        return
    for position, label in enumerate(labels, start=1):
        if label != IGNORE_INDEX and not 0 <= label < num_labels:
            raise DatasetFormatError(
                f"{where}: residue {position} has label {label}, outside the label set 0..{num_labels - 1} "
                f"(or {IGNORE_INDEX} to ignore a residue). Fix the label or declare more labels (num_labels=, "
                "label_names=)."
            )


def parse_float_label(text: str, where: str) -> float:
    """A finite regression target; raise naming the record otherwise."""
    try:
        value = float(text)
    except ValueError:
        raise DatasetFormatError(f"{where}: label {text!r} is not a number (regression targets are floats).") from None
    if not math.isfinite(value):
        raise DatasetFormatError(f"{where}: label {text!r} is not finite. Remove the record or fix its target.")
    return value


def header_field(description: str, key: str) -> str | None:
    """The value of `key=...` in a FASTA description line, or `None`."""
    match = re.search(_HEADER_FIELD.format(key=re.escape(key)), description)
    return match.group(1).strip() if match else None


def read_labelled_fasta(path: Path, label_key: str) -> Iterator[RawRecord]:
    """Yield the records of a FASTA file (`tokenization.fasta.read_fasta`); the raw label is the header's
    `label_key=...` field.

    Without that field and for `label_key="label"`, a first word of the form `id|label` is split at its last `|`.
    """
    for record in read_fasta(path):
        record_id = record.id
        label = header_field(record.description, label_key)
        if label is None and label_key == "label" and "|" in record_id:
            record_id, label = record_id.rsplit("|", 1)
        where = f"{path}, record {record.number} ({record_id!r})"
        if not record_id:
            raise DatasetFormatError(f"{where}: empty id. Write the id right after '>'.")
        yield RawRecord(id=record_id, sequence=record.sequence, label=label, where=where)


def read_table(path: Path, label_column: str, id_column: str = "id") -> Iterator[RawRecord]:
    """Yield the rows of a CSV/TSV file with columns `id_column`, `sequence` and `label_column` (others ignored)."""
    separator = "," if file_format(path) == "csv" else "\t"
    try:
        with open_text(path) as handle:
            # every cell as text: ids like "001" and label strings like "0110" must not become numbers
            table = pd.read_csv(handle, sep=separator, dtype=str, keep_default_na=False, na_filter=False)
    except pd.errors.EmptyDataError:
        raise DatasetFormatError(f"{path}: empty file; expected a header row naming id, sequence, ...") from None
    except pd.errors.ParserError as error:
        raise DatasetFormatError(f"{path}: malformed {file_format(path).upper()}: {error}") from None
    missing = [column for column in (id_column, "sequence", label_column) if column not in table.columns]
    if missing:
        raise DatasetFormatError(
            f"{path}: missing column(s) {missing}; found {list(table.columns)}. The header must name the columns "
            f"{id_column}, sequence and {label_column}."
        )
    for row_index, (record_id, sequence, label) in enumerate(
        zip(table[id_column], table["sequence"], table[label_column])
    ):
        record_id = record_id.strip()
        # line 1 is the header (rows are assumed not to span lines)
        where = f"{path}, line {row_index + 2} ({record_id!r})"
        if not record_id:
            raise DatasetFormatError(f"{where}: empty id. Every row needs an id.")
        yield RawRecord(id=record_id, sequence=sequence, label=label, where=where)


def read_records(paths: Iterable[str | Path], label_key: str, id_column: str = "id") -> list[RawRecord]:
    """All records of the FASTA/CSV/TSV files of one split; raise if a file holds none or an id repeats.

    `label_key` is the FASTA header key and the table column of the raw label; `id_column` the tables' id column.
    """
    records: list[RawRecord] = []
    seen: dict[str, str] = {}
    for path in map(Path, paths):
        is_fasta = file_format(path) == "fasta"
        reader = read_labelled_fasta(path, label_key) if is_fasta else read_table(path, label_key, id_column)
        count = 0
        try:
            for record in reader:
                if record.id in seen:
                    raise DatasetFormatError(
                        f"{record.where}: duplicate id; first seen at {seen[record.id]}. Ids must be unique within "
                        "a split."
                    )
                seen[record.id] = record.where
                records.append(record)
                count += 1
        except UnicodeDecodeError as error:
            raise DatasetFormatError(f"{path}: not UTF-8 text ({error}). Is it a binary file?") from None
        if not count:
            raise DatasetFormatError(f"{path}: no records found. Check that the file is not empty.")
    return records
