"""stability: TAPE protein stability regression (Rocklin et al. designed mini-proteins), train/validation/test.

Raw files (CSV with header `seq,label`): `stability.train.csv`, `stability.valid.csv`, `stability.test.csv`, the
ProteinBERT conversions of TAPE's splits (53,614 / 2,512 / 12,851 proteins). `label` is the float32 stability score
(higher = more stable); the task metric is Spearman's rho on test, whose distribution differs from train (it is the
single-mutant neighbourhood of a few designs). Ids are `<split>_<row>`. See `stability.md`.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import datasets

from .base import ProteinDatasetBuilder
from .formats import clean_sequence, open_text, parse_float_label

_BASE = "https://raw.githubusercontent.com/nadavbra/protein_bert/83198c99f18147c126f16f504e53e2201a6256e4/protein_benchmarks"
SPLIT_FILES = {"train": "stability.train.csv", "validation": "stability.valid.csv", "test": "stability.test.csv"}
_DESCRIPTION = "TAPE stability: designed mini-proteins with a stability score (regression, Spearman rho on test)."
_CITATION = """\
@inproceedings{rao2019tape,
  title     = {Evaluating Protein Transfer Learning with {TAPE}},
  author    = {Rao, Roshan and Bhattacharya, Nicholas and Thomas, Neil and Duan, Yan and Chen, Xi and Canny, John
               and Abbeel, Pieter and Song, Yun S.},
  booktitle = {Advances in Neural Information Processing Systems},
  year      = {2019}
}"""


def read_labelled_csv(path: str, split: str, parse_label) -> Iterator[tuple[int, dict]]:
    """(row, example) for every row of a `seq,label` CSV; bad rows raise naming the file and the row."""
    with open_text(Path(path)) as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or not {"seq", "label"} <= set(reader.fieldnames):
            raise ValueError(f"{path}: expected a CSV header 'seq,label', found {reader.fieldnames}")
        for row_number, row in enumerate(reader, start=2):
            where = f"{path}, line {row_number}"
            identifier = f"{split}_{row_number - 2}"
            yield (
                row_number,
                {
                    "id": identifier,
                    "sequence": clean_sequence(row["seq"], where),
                    "label": parse_label(row["label"], where),
                },
            )


class Stability(ProteinDatasetBuilder):
    """TAPE stability: columns `id`, `sequence`, `label` (float32)."""

    VERSION = datasets.Version("1.0.0")
    MIRROR_FOLDERS = ("stability_tape",)
    _URLS = {name: f"{_BASE}/{name}" for name in SPLIT_FILES.values()}

    def _info(self) -> datasets.DatasetInfo:
        return datasets.DatasetInfo(
            description=_DESCRIPTION,
            features=datasets.Features(
                {
                    "id": datasets.Value("string"),
                    "sequence": datasets.Value("string"),
                    "label": datasets.Value("float32"),
                }
            ),
            homepage="https://github.com/songlab-cal/tape",
            license="MIT (ProteinBERT repository); no separate data license stated",
            citation=_CITATION,
        )

    def _split_generators(self, dl_manager: datasets.DownloadManager) -> list[datasets.SplitGenerator]:
        files = self.raw_files(dl_manager)
        return [
            datasets.SplitGenerator(name=split, gen_kwargs={"path": files[name], "split": split})
            for split, name in SPLIT_FILES.items()
        ]

    def _generate_examples(self, path: str, split: str) -> Iterator[tuple[datasets.builder.Key, dict]]:
        for row, example in read_labelled_csv(path, split, parse_float_label):
            yield datasets.builder.Key(0, row), example
