"""`load_dataset`: build a proteinhub dataset by name, plus helpers that read its label set back.

datasets 5 no longer runs loading scripts, so each dataset is a builder class imported from this package and
prepared with `download_and_prepare()` / `as_dataset()`. The cache key is content-aware (see `base`).
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

import datasets
from datasets import ClassLabel, Dataset, DatasetDict, DownloadMode
from datasets.exceptions import DatasetGenerationError

from .base import LABEL_NAMES_PREFIX, ProteinDatasetBuilder
from .disorder_ldr import DisorderLDR
from .formats import DatasetFormatError
from .phosphosite import Phosphosite
from .protein_fasta import ProteinFasta
from .protein_files import PROTEIN_CLASSIFICATION, PROTEIN_REGRESSION, RESIDUE_CLASSIFICATION, ProteinFiles
from .ptm import Ptm
from .scop import Scop
from .secondary_structure import SecondaryStructure
from .stability import Stability
from .subcellular_localization import SubcellularLocalization

BUILDERS: dict[str, type[ProteinDatasetBuilder]] = {
    cls.builder_name(): cls
    for cls in (
        DisorderLDR,
        Phosphosite,
        ProteinFasta,
        ProteinFiles,
        Ptm,
        Scop,
        SecondaryStructure,
        Stability,
        SubcellularLocalization,
    )
}

_LABEL_NAMES_LINE = re.compile(rf"^{re.escape(LABEL_NAMES_PREFIX)}(\[.*\])$", re.MULTILINE)


def list_datasets() -> list[str]:
    """Names accepted by `load_dataset`."""
    return sorted(BUILDERS)


def load_dataset(
    name: str,
    config_name: str | None = None,
    *,
    data_dir: str | os.PathLike | None = None,
    data_files: Any = None,
    cache_dir: str | os.PathLike | None = None,
    split: str | None = None,
    download_mode: DownloadMode | str | None = None,
    **config_kwargs: Any,
) -> DatasetDict | Dataset:
    """Prepare (or reuse from cache) a proteinhub dataset and return it.

    Args:
        name: a key of `BUILDERS` (see `list_datasets()`), e.g. `"disorder_ldr"` or `"protein_files"`.
        config_name: the builder config, e.g. `"residue_classification"` for `protein_files`.
        data_dir: local folder with the raw files (offline use); defaults to `$PROTEINHUB_DATA_DIR/<name>` if present.
        data_files: files per split, e.g. `{"train": "train.fasta", "test": "test.fasta"}` (`protein_files`).
        cache_dir: where prepared Arrow files go; default datasets' `HF_DATASETS_CACHE`.
        split: return only this split as a `Dataset`; default all splits as a `DatasetDict`.
        download_mode: datasets' `DownloadMode`, e.g. `"force_redownload"` to rebuild.
        **config_kwargs: builder config fields, e.g. `label_names=[...]`, `num_labels=3`, `split_seed=1`.

    Raises:
        DatasetFormatError: a raw record is invalid (the message names file and record).

    Example:
        >>> ds = load_dataset("disorder_ldr")
        >>> label_names(ds)
        ['ordered', 'disordered']
    """
    if name not in BUILDERS:
        raise ValueError(f"Unknown dataset {name!r}. Available: {', '.join(list_datasets())}.")
    builder = BUILDERS[name](
        config_name=config_name,
        data_dir=data_dir,
        data_files=data_files,
        cache_dir=os.fspath(cache_dir) if cache_dir is not None else None,
        **config_kwargs,
    )
    # a forced rebuild of changed upstream data would otherwise fail the split-size check against the old info
    force = DownloadMode(download_mode or DownloadMode.REUSE_DATASET_IF_EXISTS) == DownloadMode.FORCE_REDOWNLOAD
    try:
        builder.download_and_prepare(download_mode=download_mode, verification_mode="no_checks" if force else None)
    except DatasetGenerationError as error:
        # datasets wraps errors raised while generating examples; surface the record-level error itself
        if isinstance(error.__cause__, DatasetFormatError):
            raise error.__cause__ from None
        raise
    return builder.as_dataset(split=split)


def _first_split(dataset: Dataset | DatasetDict) -> Dataset:
    if isinstance(dataset, DatasetDict):
        if not dataset:
            raise ValueError("The DatasetDict has no splits.")
        return next(iter(dataset.values()))
    return dataset


def dataset_task(dataset: Dataset | DatasetDict) -> str:
    """`"protein_classification"`, `"protein_regression"` or `"residue_classification"` (the `protein_files` config
    names, `<level>_<problem>`), from the columns."""
    features = _first_split(dataset).features
    if "labels" in features and isinstance(features["labels"], datasets.List):
        return RESIDUE_CLASSIFICATION
    if isinstance(features.get("label"), ClassLabel):
        return PROTEIN_CLASSIFICATION
    if isinstance(features.get("label"), datasets.Value) and features["label"].dtype.startswith("float"):
        return PROTEIN_REGRESSION
    raise ValueError(
        f"Cannot tell the task from the columns {list(features)}: expected 'label' (ClassLabel or float) or "
        "'labels' (a list of int64 per residue)."
    )


def label_names(dataset: Dataset | DatasetDict) -> list[str]:
    """Class names in label-id order: from a ClassLabel feature, else from the `label_names:` line that proteinhub
    builders write into `info.description` (residue tasks). Build `id2label = dict(enumerate(label_names(ds)))`.

    Raises:
        ValueError: the dataset has no class names (a regression task, or not built by proteinhub).
    """
    split = _first_split(dataset)
    label = split.features.get("label")
    if isinstance(label, ClassLabel):
        return list(label.names)
    labels = split.features.get("labels")
    if isinstance(labels, datasets.List) and isinstance(labels.feature, ClassLabel):
        return list(labels.feature.names)
    match = _LABEL_NAMES_LINE.search(split.info.description or "")
    if match:
        return json.loads(match.group(1))
    raise ValueError(
        "This dataset carries no class names (a regression task, or a dataset not built by proteinhub); pass "
        "id2label explicitly."
    )
