"""protein_fasta: a pretraining corpus from UniRef50-style FASTA files (plain or gzip), streamed record by record.

The files are given as `data_files` (one or more paths or globs; plain or `.gz`), or named by `corpus_files` among the
public files this builder knows (`_URLS`), which come from `data_dir`, the `PROTEINHUB_DATA_DIR` mirror or their URLs:
the `localization` config reads `LOCALIZATION_CORPUS` (MultiLoc and DeepLoc 1.0, ~6,800 proteins after the default
filters), the offline stand-in for UniRef50 of `configs/representation/`. Each record is read, filtered and
yielded one at a time, so memory stays flat whatever the file size (a 12 GB UniRef50 FASTA included). Filters, as in
seed 004 (the UniRep reproduction project): proteins longer than `max_length` residues (default 500) are dropped, as
are proteins containing one of the ambiguous letters in `drop_letters` (default X, B, Z, J). Subsampling and the
train/validation split are per record and streaming: a record is kept when SHA-256(`"<seed>:<id>"`) falls below
`sample_fraction`, and goes to validation when a second hash falls below `validation_fraction`, so the same seed gives
the same subset on every machine without holding the corpus in memory. `max_sequences` stops after that many kept
records (in file order). Columns: `id`, `sequence`. See `protein_fasta.md`.

Files are read by `tokenization.fasta.read_fasta` (gzip by its magic bytes, BOM, CRLF, wrapped lines; a malformed
file or record is an error naming it) and each sequence is checked by `clean_sequence`, as in every other builder,
with one difference: ids are not checked for duplicates, because that would hold every id of the corpus in memory
(a repeated id lands in the same split as its first occurrence, both hashes being of the id).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import datasets

from ..tokenization.fasta import clean_sequence, read_fasta
from .base import ProteinDatasetBuilder
from .subcellular_localization import DEEPLOC_FILES, MULTILOC_FILES, SubcellularLocalization

_DESCRIPTION = (
    "Protein sequences for language-model pretraining, streamed from FASTA files with length / ambiguous-letter "
    "filters and seeded per-record subsampling."
)
_HASH_SCALE = float(2**64)
#: MultiLoc's 11 files, then DeepLoc's validation, test and setHARD files (its training file is not mirrored offline),
#: each group in file-name order
LOCALIZATION_CORPUS = (
    *sorted(f"{stem}.fasta" for stem in MULTILOC_FILES),
    *sorted(DEEPLOC_FILES[split] for split in ("validation", "test", "test_hard")),
)


def hash_fraction(seed: int, salt: str, key: str) -> float:
    """A uniform number in [0, 1) from SHA-256(`"<seed>:<salt>:<key>"`), the same on every platform."""
    digest = hashlib.sha256(f"{seed}:{salt}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / _HASH_SCALE


@dataclass
class ProteinFastaConfig(datasets.BuilderConfig):
    """Filters and subsampling.

    Args:
        max_length: drop proteins longer than this many residues (seed: 500; None keeps all).
        drop_letters: drop proteins containing any of these letters (seed: the ambiguous X, B, Z, J).
        sample_fraction: keep this share of the records that pass the filters (seeded hash of the id).
        validation_fraction: share of the kept records that go to the validation split.
        seed: seed of both hashes.
        max_sequences: stop after this many kept records (None: no limit).
        corpus_files: names of known public files (keys of `ProteinFasta._URLS`) to read when no `data_files` are
            given, in this order, e.g. `[peroxisomal.fasta]`; the `localization` config reads `LOCALIZATION_CORPUS`.
    """

    max_length: int | None = 500
    drop_letters: str = "XBZJ"
    sample_fraction: float = 1.0
    validation_fraction: float = 0.0
    seed: int = 0
    max_sequences: int | None = None
    corpus_files: Sequence[str] | None = None


class ProteinFasta(ProteinDatasetBuilder):
    """Streaming FASTA corpus: columns `id`, `sequence`; splits `train` (and `validation` when requested)."""

    VERSION = datasets.Version("1.0.0")
    BUILDER_CONFIG_CLASS = ProteinFastaConfig
    BUILDER_CONFIGS = [
        ProteinFastaConfig(name="default", version=VERSION, description=_DESCRIPTION),
        ProteinFastaConfig(
            name="localization",
            version=VERSION,
            corpus_files=LOCALIZATION_CORPUS,
            description=_DESCRIPTION + " Corpus: the MultiLoc and DeepLoc 1.0 FASTA files (LOCALIZATION_CORPUS).",
        ),
    ]
    DEFAULT_CONFIG_NAME = "default"
    MIRROR_FOLDERS = SubcellularLocalization.MIRROR_FOLDERS
    _URLS = {name: SubcellularLocalization._URLS[name] for name in LOCALIZATION_CORPUS}

    def _info(self) -> datasets.DatasetInfo:
        config = self.config
        if not 0.0 < config.sample_fraction <= 1.0:
            raise ValueError(f"sample_fraction must be in (0, 1], got {config.sample_fraction}")
        if not 0.0 <= config.validation_fraction < 1.0:
            raise ValueError(f"validation_fraction must be in [0, 1), got {config.validation_fraction}")
        return datasets.DatasetInfo(
            description=_DESCRIPTION,
            features=datasets.Features({"id": datasets.Value("string"), "sequence": datasets.Value("string")}),
            homepage="https://www.uniprot.org/help/uniref",
            license="the license of the FASTA files given",
        )

    def _split_generators(self, dl_manager: datasets.DownloadManager) -> list[datasets.SplitGenerator]:
        if self.config.data_files:
            files = [str(path) for split_files in self.config.data_files.values() for path in split_files]
        elif self.config.corpus_files:
            unknown = [name for name in self.config.corpus_files if name not in self._URLS]
            if unknown:
                raise ValueError(
                    f"protein_fasta: corpus_files {unknown} are not known files; choose among {', '.join(self._URLS)}, "
                    "or pass your own files as data_files"
                )
            raw = self.raw_files(dl_manager, self.config.corpus_files)
            files = [raw[name] for name in self.config.corpus_files]
        else:
            raise ValueError(
                "protein_fasta reads the FASTA files given as data_files (plain or .gz), e.g. "
                "load_dataset('protein_fasta', data_files='uniref50.fasta.gz'), or the public corpus of the "
                "`localization` config: load_dataset('protein_fasta', 'localization')"
            )
        splits = ["train"] + (["validation"] if self.config.validation_fraction > 0 else [])
        return [datasets.SplitGenerator(name=split, gen_kwargs={"files": files, "split": split}) for split in splits]

    def _generate_examples(self, files: list[str], split: str) -> Iterator[tuple[datasets.builder.Key, dict]]:
        config, kept = self.config, 0
        drop = set(config.drop_letters.upper())
        for file_index, path in enumerate(files):
            # ids are not kept (unique_ids=False): a corpus of tens of millions of records must stream in flat memory
            for record in read_fasta(path, unique_ids=False):
                identifier, number = record.id, record.number
                sequence = clean_sequence(record.sequence, record.where)
                if config.max_length is not None and len(sequence) > config.max_length:
                    continue
                if drop & set(sequence):
                    continue
                if hash_fraction(config.seed, "sample", identifier) >= config.sample_fraction:
                    continue
                if config.max_sequences is not None and kept >= config.max_sequences:
                    return
                kept += 1
                in_validation = hash_fraction(config.seed, "validation", identifier) < config.validation_fraction
                if in_validation == (split == "validation"):
                    yield datasets.builder.Key(file_index, number), {"id": identifier, "sequence": sequence}
