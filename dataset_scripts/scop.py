"""scop: SCOP structural classes a-g of protein domains, for representation probes and t-SNE plots.

Two configurations:
- `class` (default): ProteinBERT's benchmark CSVs `scop.train.csv` / `scop.test.csv` (header `seq,label`, label a class
  letter a-g; 15,680 / 3,921 domains).
- `scope40`: the SCOPe 2.x ASTRAL 40 % FASTA `scope_data_40.fasta` of the seed's repository (14,323 domains; header
  `>d1dlwa_ a.1.1.1 (A:) ...`): one `test` split, id = domain id, label = the class letter of the sccs, plus the
  `sccs` column. Sequences are upper-cased.

`label` is a ClassLabel over a-g: all-alpha, all-beta, alpha/beta, alpha+beta, multi-domain, membrane/cell-surface,
small proteins. See `scop.md`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import datasets

from ..tokenization.fasta import read_fasta
from .base import ProteinDatasetBuilder, describe_labels
from .formats import DatasetFormatError, clean_sequence
from .stability import read_labelled_csv

LABEL_NAMES = ("a", "b", "c", "d", "e", "f", "g")
CLASS_DESCRIPTIONS = (
    "all-alpha",
    "all-beta",
    "alpha/beta",
    "alpha+beta",
    "multi-domain",
    "membrane/cell-surface",
    "small proteins",
)
_BASE = "https://raw.githubusercontent.com/nadavbra/protein_bert/83198c99f18147c126f16f504e53e2201a6256e4/protein_benchmarks"
_SCOPE40 = "https://raw.githubusercontent.com/Cavtheman/proteinbachelor/b25732fc872bc4cd06eaf82921e42e6bd80036fe/scope_data_40.fasta"
_DESCRIPTION = "SCOP structural class (a-g) of protein domains: " + ", ".join(
    f"{letter} {name}" for letter, name in zip(LABEL_NAMES, CLASS_DESCRIPTIONS)
)


def _class_label(text: str, where: str) -> str:
    letter = text.strip().lower()
    if letter not in LABEL_NAMES:
        raise DatasetFormatError(f"{where}: SCOP class {text!r} is not one of {', '.join(LABEL_NAMES)}")
    return letter


@dataclass
class ScopConfig(datasets.BuilderConfig):
    """`class`: ProteinBERT's train/test CSVs; `scope40`: the SCOPe ASTRAL 40 % FASTA (one test split)."""


class Scop(ProteinDatasetBuilder):
    """SCOP classes: columns `id`, `sequence`, `label` (ClassLabel a-g), `sccs` (empty for the CSV config)."""

    VERSION = datasets.Version("1.0.0")
    BUILDER_CONFIG_CLASS = ScopConfig
    BUILDER_CONFIGS = [
        ScopConfig(name="class", version=VERSION, description="ProteinBERT SCOP class CSVs (train/test)"),
        ScopConfig(name="scope40", version=VERSION, description="SCOPe ASTRAL 40 % FASTA with sccs (test only)"),
    ]
    DEFAULT_CONFIG_NAME = "class"

    MIRROR_FOLDERS = ("scop_class_proteinbert", "scope40_astral_proteinbachelor")
    _URLS = {
        "scop.train.csv": f"{_BASE}/scop.train.csv",
        "scop.test.csv": f"{_BASE}/scop.test.csv",
        "scope_data_40.fasta": _SCOPE40,
    }

    def _info(self) -> datasets.DatasetInfo:
        return datasets.DatasetInfo(
            description=describe_labels(_DESCRIPTION, LABEL_NAMES),
            features=datasets.Features(
                {
                    "id": datasets.Value("string"),
                    "sequence": datasets.Value("string"),
                    "label": datasets.ClassLabel(names=list(LABEL_NAMES)),
                    "sccs": datasets.Value("string"),
                }
            ),
            homepage="https://scop.berkeley.edu",
            license="SCOPe data are public; the ProteinBERT CSVs are in an MIT repository",
        )

    def _split_generators(self, dl_manager: datasets.DownloadManager) -> list[datasets.SplitGenerator]:
        # only the files of the chosen configuration (a data_dir needs to hold just those)
        names = ["scope_data_40.fasta"] if self.config.name == "scope40" else ["scop.train.csv", "scop.test.csv"]
        files = self.raw_files(dl_manager, names)
        if self.config.name == "scope40":
            return [
                datasets.SplitGenerator(name="test", gen_kwargs={"path": files["scope_data_40.fasta"], "split": ""})
            ]
        return [
            datasets.SplitGenerator(name=split, gen_kwargs={"path": files[f"scop.{split}.csv"], "split": split})
            for split in ("train", "test")
        ]

    def _generate_examples(self, path: str, split: str) -> Iterator[tuple[datasets.builder.Key, dict]]:
        if self.config.name != "scope40":
            for row, example in read_labelled_csv(path, split, _class_label):
                yield datasets.builder.Key(0, row), {**example, "sccs": ""}
            return
        for record in read_fasta(path):
            identifier, number, where = record.id, record.number, record.where
            fields = record.description.split()
            if not fields:
                raise DatasetFormatError(f"{where}: header lacks the sccs (e.g. 'a.1.1.1') after the domain id")
            sccs = fields[0]
            yield (
                datasets.builder.Key(0, number),
                {
                    "id": identifier,
                    "sequence": clean_sequence(record.sequence, where),
                    "label": _class_label(sccs.split(".")[0], where),
                    "sccs": sccs,
                },
            )
