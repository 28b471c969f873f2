"""The one FASTA reader and the one sequence cleaner, used by every dataset builder, `proteinhub predict`,
`proteinhub embed` and the pipelines that take a FASTA path, so that all of them accept and refuse the same files.

>>> from proteinhub.tokenization.fasta import read_fasta, clean_sequence
>>> for record in read_fasta("proteins.fasta"):  # doctest: +SKIP
...     print(record.id, clean_sequence(record.sequence, record.where))

Rules of `read_fasta`:

- plain text or gzip; gzip is recognised by its magic bytes, so a compressed file needs no `.gz` suffix;
- UTF-8 with or without a byte-order mark, LF or CRLF line ends, sequences wrapped over any number of lines; blank
  lines are ignored;
- a header is `>ID DESCRIPTION`: the id is the first word after `>`, the description the rest of the line;
- a file without any record yields nothing (the caller decides: a builder refuses it, `predict` writes the header
  line only, `embed` refuses it).

Refused with a `DatasetFormatError` whose message names the file and the line or record:

- a byte sequence that is not UTF-8 (the file and the line);
- text before the first header (the file and the line);
- a header without an id, `>` alone or followed by blanks (the record number and the line);
- an id seen before in the same file (both record numbers): ids key every output (a dataset row, a TSV row, an
  embedding), so two proteins must not share one. `protein_fasta`, which streams pretraining corpora of tens of
  millions of records with flat memory, is the one reader that does not keep the ids (`unique_ids=False`).

`read_fasta` does not judge the residues; `clean_sequence` does, once per record, for every consumer: whitespace
is removed, one trailing `*` (a stop) is dropped, letters are upper-cased, and a record without any residue (a
header with no sequence, or `*` alone) or with a letter outside the tokenizer's alphabet is refused naming the record,
the position and the character. An empty record is therefore an error, never a silent skip; the one exception is
the `ptm` builder's CapsNet configs, whose published files hold three headers without a sequence: it skips them with
a logged warning (`ptm.md`).

This module imports neither `datasets` nor torch, so `predict` and `embed` stay light.
"""

from __future__ import annotations

import gzip
import io
import os
import re
import string
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from .tokenization_protein import EXTRA_AMINO_ACIDS, RESIDUES

FASTA_SUFFIXES = (".fasta", ".fa", ".faa", ".fas")
TABLE_SEPARATORS = {".csv": ",", ".tsv": "\t", ".tab": "\t"}
GZIP_MAGIC = b"\x1f\x8b"
UTF8_BOM = b"\xef\xbb\xbf"

_ILLEGAL_RESIDUE = re.compile(rf"[^{RESIDUES}{RESIDUES.lower()}]")
_ALPHABET_IS_ALL_LETTERS = set(RESIDUES) == set(string.ascii_uppercase)


class DatasetFormatError(ValueError):
    """A protein data file or record that proteinhub refuses (builders, `predict`, `embed`, pipelines); the message
    names the file, the record or line, and the offending value."""


@dataclass(frozen=True)
class FastaRecord:
    """One FASTA record as read, before its residues are checked.

    `sequence` is the raw text of the sequence lines joined (strip it with `clean_sequence`); `number` the 1-based
    record number in the file, `line` the line number of its header, `source` the file as named in messages.
    """

    id: str
    description: str
    sequence: str
    number: int
    line: int
    source: str

    @property
    def where(self) -> str:
        """The record in error messages: "train.fasta, record 3 ('P12345')"."""
        return f"{self.source}, record {self.number} ({self.id!r})"


# opening files


def is_gzip(path: str | os.PathLike) -> bool:
    """Whether `path` starts with gzip's magic bytes (whatever its name)."""
    with open(path, "rb") as handle:
        return handle.read(2) == GZIP_MAGIC


def open_text(path: str | os.PathLike) -> IO[str]:
    """A plain or gzip file (gzip by its magic bytes) as UTF-8 text, without a leading byte-order mark."""
    if is_gzip(path):
        return gzip.open(path, "rt", encoding="utf-8-sig")
    return open(path, encoding="utf-8-sig")  # noqa: SIM115


def file_format(path: str | os.PathLike) -> str:
    """`"fasta"`, `"csv"` or `"tsv"` from the file name (a trailing `.gz` is allowed)."""
    path = Path(path)
    suffix = Path(path.stem).suffix if path.suffix == ".gz" else path.suffix
    suffix = suffix.lower()
    if suffix in FASTA_SUFFIXES:
        return "fasta"
    if suffix in TABLE_SEPARATORS:
        return "csv" if suffix == ".csv" else "tsv"
    raise DatasetFormatError(
        f"{path}: unknown file type {suffix!r}. Use FASTA ({', '.join(FASTA_SUFFIXES)}), CSV (.csv) or TSV "
        "(.tsv, .tab), optionally gzip-compressed."
    )


@contextmanager
def _open_binary(source: str | os.PathLike | IO[bytes]) -> Iterator[IO[bytes]]:
    """`source` as a binary stream, decompressed when it starts with gzip's magic bytes (a path is closed after)."""
    with ExitStack() as stack:
        if isinstance(source, (str, os.PathLike)):
            source = stack.enter_context(open(source, "rb"))
        if hasattr(source, "peek") and source.peek(2)[:2] == GZIP_MAGIC:
            source = stack.enter_context(gzip.GzipFile(fileobj=source))
        yield source


# reading


def read_fasta(
    source: str | os.PathLike | IO[bytes], *, name: str | None = None, unique_ids: bool = True
) -> Iterator[FastaRecord]:
    """The records of a FASTA file, one at a time (memory does not grow with the file); rules in the module docstring.

    Args:
        source: a path, or a binary file object (e.g. a member of a zip archive).
        name: the file in error messages (default: `source` as given).
        unique_ids: refuse an id seen before in the file (default); False keeps no ids, for corpora whose ids would
            not fit in memory.

    Example:
        >>> [(r.id, r.sequence) for r in read_fasta("two.fasta")]  # doctest: +SKIP
        [('P1', 'MKTAY'), ('P2', 'MSTK')]
    """
    name = str(source) if name is None else name
    header: tuple[str, str, int] | None = None  # (id, description, line)
    chunks: list[str] = []
    first_seen: dict[str, tuple[int, int]] = {}
    number = 0
    with _open_binary(source) as binary:
        # decoded in bulk (measured ~1.5x faster than line by line); a byte that is not UTF-8 becomes a lone
        # surrogate, which the cheap isascii() test sends to _check_utf8, so that the error names its line
        text = io.TextIOWrapper(binary, encoding="utf-8-sig", errors="surrogateescape")
        for line_number, line in enumerate(text, start=1):
            if not line.isascii():
                _check_utf8(line, name, line_number)
            line = line.strip()
            if not line:
                continue
            if line[0] != ">":
                if header is None:
                    raise DatasetFormatError(
                        f"{name}, line {line_number}: expected a FASTA header starting with '>', found "
                        f"{line[:40]!r}. Every record needs a '>id ...' header line."
                    )
                chunks.append(line)
                continue
            if header is not None:
                yield FastaRecord(header[0], header[1], "".join(chunks), number, header[2], name)
            number += 1
            fields = line[1:].split(maxsplit=1)
            if not fields:
                raise DatasetFormatError(
                    f"{name}, record {number}, line {line_number}: header without an id. Write the protein id "
                    "right after '>'."
                )
            record_id = fields[0]
            if unique_ids:
                if record_id in first_seen:
                    first_number, first_line = first_seen[record_id]
                    raise DatasetFormatError(
                        f"{name}, record {number} ({record_id!r}), line {line_number}: duplicate id; first seen at "
                        f"record {first_number}, line {first_line}. Ids name the outputs, so they must be unique: "
                        "rename or remove one of the two."
                    )
                first_seen[record_id] = (number, line_number)
            header, chunks = (record_id, fields[1] if len(fields) > 1 else "", line_number), []
    if header is not None:
        yield FastaRecord(header[0], header[1], "".join(chunks), number, header[2], name)


def _check_utf8(line: str, name: str, line_number: int) -> None:
    try:
        line.encode("utf-8")
    except UnicodeEncodeError as error:
        byte = ord(line[error.start]) - 0xDC00  # surrogateescape decodes byte b as U+DC00 + b
        raise DatasetFormatError(
            f"{name}, line {line_number}: not UTF-8 text (byte {byte:#04x} at column {error.start + 1}). Save the "
            "file as UTF-8 (or ASCII); is it a binary file?"
        ) from None


def _is_ascii_letters(text: str) -> bool:
    # bytes.isalpha tests ASCII letters only and is ~5x faster than str.isalpha (measured on 400 residues)
    return text.isascii() and text.encode("ascii").isalpha()


def clean_sequence(sequence: str, where: str) -> str:
    """Return `sequence` upper-cased, without whitespace or one trailing `*`; raise if it is empty or illegal.

    The alphabet is the tokenizer's: the 20 standard amino acids and X U O B Z J, in any case. `where` names the
    record in the error (`FastaRecord.where`).

    Example:
        >>> clean_sequence("mkt ay*", "demo")
        'MKTAY'
    """
    if not _is_ascii_letters(sequence):
        sequence = "".join(sequence.split())
        if sequence.endswith("*"):
            sequence = sequence[:-1]
        if not sequence:
            raise DatasetFormatError(f"{where}: empty sequence. Every protein needs at least one residue.")
    if _ALPHABET_IS_ALL_LETTERS and _is_ascii_letters(sequence):  # the common case, without the regex
        return sequence.upper()
    illegal = _ILLEGAL_RESIDUE.search(sequence)
    if illegal:
        raise DatasetFormatError(
            f"{where}: invalid character {illegal.group()!r} at position {illegal.start() + 1}. Allowed: the 20 "
            f"standard amino acids and {', '.join(EXTRA_AMINO_ACIDS)} (any case) and one trailing '*'. Fix or "
            "remove this record."
        )
    return sequence.upper()


def read_proteins(path: str | os.PathLike) -> Iterator[tuple[str, str]]:
    """(id, cleaned sequence) of every record of a FASTA file, lazily: `read_fasta` + `clean_sequence`, the input of
    `predict`, `embed` and the pipelines."""
    for record in read_fasta(path):
        yield record.id, clean_sequence(record.sequence, record.where)


def count_records(path: str | os.PathLike) -> int | None:
    """Number of records of a plain FASTA file (header lines, for a progress bar's total); None for gzip files."""
    if is_gzip(path):
        return None
    count, at_line_start = 0, True
    with open(path, "rb") as handle:
        block = handle.read(1 << 22).removeprefix(UTF8_BOM)
        while block:
            count += block.count(b"\n>") + (at_line_start and block.startswith(b">"))
            at_line_start = block.endswith(b"\n")
            block = handle.read(1 << 22)
    return count
