"""proteinhub datasets: one `datasets.GeneratorBasedBuilder` per dataset, loaded by name with `load_dataset`.

>>> from proteinhub.dataset_scripts import load_dataset, label_names
>>> ds = load_dataset("disorder_ldr")  # DatasetDict: train / validation / test
>>> label_names(ds)
['ordered', 'disordered']

See `README.md` in this folder for adding a builder, and `<builder>.md` for each dataset's card.
"""

from .base import DATA_DIR_ENV, DataNotFoundError, ProteinDatasetBuilder
from .formats import DatasetFormatError
from .loading import BUILDERS, dataset_task, label_names, list_datasets, load_dataset

__all__ = [
    "BUILDERS",
    "DATA_DIR_ENV",
    "DataNotFoundError",
    "DatasetFormatError",
    "ProteinDatasetBuilder",
    "dataset_task",
    "label_names",
    "list_datasets",
    "load_dataset",
]
