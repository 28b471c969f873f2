"""`ProteinDatasetBuilder`: the datasets builder base class every proteinhub builder derives from.

It adds three things to `datasets.GeneratorBasedBuilder`:

- **A cache key that never serves stale rows.** datasets keys its cache on the builder name, config, version and the
  `data_dir` *path*: an edited data file or an edited builder module comes back stale. Here the builder's `hash`
  (the last folder of the cache path, `<cache>/<name>/<config id>/<version>/<hash>`) is a fingerprint of the builder
  version, the source of the builder module and of every module of this package, the residue alphabet, and the
  local input files: their SHA-256 content hash, or size + modification time (ns) for files larger than
  `CONTENT_HASH_LIMIT` (hashing a 10 GB FASTA on every load would cost more than it protects). Remote files are keyed
  by their URLs; bump the builder version when upstream data changes.
- **An offline mirror.** With `PROTEINHUB_DATA_DIR` set and neither `data_dir` nor `data_files` given,
  `$PROTEINHUB_DATA_DIR/<builder name>/` is the `data_dir` when that folder exists. Otherwise each raw file of
  `_URLS` is looked up in the builder's `MIRROR_FOLDERS` of `$PROTEINHUB_DATA_DIR`, folders named by public source
  (`localization_multiloc/`, ...), so one mirror serves every builder and a builder may read several sources.
- **Raw files from `data_dir`, the mirror or `_URLS`.** `_URLS` maps each raw file name to its public URL; with a
  `data_dir` the same file names are read from it instead (offline), see `raw_files`. A file found nowhere raises
  `DataNotFoundError`, which names the builder, the URL tried, `PROTEINHUB_DATA_DIR` and `data_dir`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar

import datasets
from datasets.data_files import DataFilesDict, sanitize_patterns
from datasets.naming import camelcase_to_snakecase

from ..tokenization.tokenization_protein import RESIDUES

logger = logging.getLogger(__name__)

DATA_DIR_ENV = "PROTEINHUB_DATA_DIR"
LABEL_NAMES_PREFIX = "label_names: "
CONTENT_HASH_LIMIT = 256 * 2**20  # bytes; larger files are fingerprinted by size and mtime
_PACKAGE_DIR = Path(__file__).resolve().parent


class DataNotFoundError(FileNotFoundError):
    """A builder's raw files are neither in `data_dir`, nor in the `PROTEINHUB_DATA_DIR` mirror, nor downloadable;
    the message says which files, what was tried and how to provide them."""


def describe_labels(description: str, label_names: Iterable[str]) -> str:
    """`description` plus a machine-readable last line `label_names: [...]` (JSON), read back by `label_names()`.

    Residue-level `labels` are plain int64 lists (ClassLabel cannot hold the ignore index -100), so the class names
    of residue tasks travel in `DatasetInfo.description`, which datasets keeps in its cache, `save_to_disk` and
    through `map`/`select`.
    """
    return f"{description.rstrip()}\n\n{LABEL_NAMES_PREFIX}{json.dumps(list(label_names))}"


def file_fingerprint(path: Path) -> str:
    """SHA-256 of the file's bytes, or `size=...,mtime_ns=...` above `CONTENT_HASH_LIMIT`."""
    stat = path.stat()
    if stat.st_size > CONTENT_HASH_LIMIT:
        return f"size={stat.st_size},mtime_ns={stat.st_mtime_ns}"
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def code_fingerprint(builder_class: type) -> str:
    """SHA-256 over the source of the builder's module and of every module of `proteinhub.dataset_scripts`."""
    module_file = Path(sys.modules[builder_class.__module__].__file__).resolve()
    digest = hashlib.sha256()
    for path in sorted({module_file, *_PACKAGE_DIR.glob("*.py")}):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


class ProteinDatasetBuilder(datasets.GeneratorBasedBuilder):
    """Base of every proteinhub builder: content-aware cache key, `PROTEINHUB_DATA_DIR` mirror, `_URLS` raw files.

    Subclasses implement `_info`, `_split_generators` and `_generate_examples` as for any datasets builder, read
    raw files with `self.raw_files(dl_manager)`, and override `local_input_files` if they read local files that are
    neither in `data_dir` nor in `data_files` (e.g. data shipped inside an installed package).
    """

    #: raw file name -> public URL, downloaded when no `data_dir` is given; a `data_dir` holds files of these names
    _URLS: ClassVar[dict[str, str]] = {}
    #: folders of `$PROTEINHUB_DATA_DIR` (named by public source) that hold raw files of `_URLS` under their names
    MIRROR_FOLDERS: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        *,
        config_name: str | None = None,
        data_dir: str | os.PathLike | None = None,
        data_files: Any = None,
        hash: str | None = None,
        base_path: str | None = None,
        **kwargs: Any,
    ):
        if data_dir is None and data_files is None:
            data_dir = self.mirror_dir()
        if data_dir is not None:
            # one folder, one cache entry, whatever the working directory
            data_dir = os.path.abspath(data_dir)
        if data_files is not None and not isinstance(data_files, DataFilesDict):
            # resolve (globs, relative paths) now, so that the fingerprint sees the files that will be read
            data_files = DataFilesDict.from_patterns(sanitize_patterns(data_files), base_path=base_path)
        if hash is None:
            hash = self.fingerprint(data_dir, data_files)
        super().__init__(
            config_name=config_name, data_dir=data_dir, data_files=data_files, hash=hash, base_path=base_path, **kwargs
        )
        # datasets drops config values given as None (they would keep the field's default, e.g. a length limit of
        # 500 where None asked for none); its cache key does include them, so setting them here is enough
        for key, value in kwargs.items():
            if value is None and hasattr(self.config, key):
                setattr(self.config, key, None)

    @classmethod
    def builder_name(cls) -> str:
        """The name datasets derives from the module (`disorder_ldr.py` -> `disorder_ldr`)."""
        return camelcase_to_snakecase(cls.__module__.split(".")[-1])

    @classmethod
    def mirror_dir(cls) -> str | None:
        """`$PROTEINHUB_DATA_DIR/<builder name>` if the variable is set and that folder exists, else `None`."""
        root = os.environ.get(DATA_DIR_ENV)
        if not root:
            return None
        folder = Path(root).expanduser() / cls.builder_name()
        if folder.is_dir():
            return str(folder)
        logger.info("%s is set but has no %s/ folder; using the default source.", DATA_DIR_ENV, cls.builder_name())
        return None

    @classmethod
    def mirror_file(cls, name: str) -> Path | None:
        """The raw file `name` (a key of `_URLS`) in `$PROTEINHUB_DATA_DIR/<builder name or one of MIRROR_FOLDERS>/`,
        or `None` when the variable is unset or no such folder holds it."""
        root = os.environ.get(DATA_DIR_ENV)
        if not root:
            return None
        for folder in (cls.builder_name(), *cls.MIRROR_FOLDERS):
            path = Path(root).expanduser() / folder / name
            if path.is_file():
                return path
        return None

    def local_input_files(self, data_dir: str | None, data_files: DataFilesDict | None) -> list[Path]:
        """Local files whose content the prepared dataset depends on: everything under `data_dir` (else the mirrored
        raw files) and the local `data_files`. Called before the config exists, hence the explicit arguments."""
        files: list[Path] = []
        if data_dir is not None and os.path.isdir(data_dir):
            files.extend(path for path in sorted(Path(data_dir).rglob("*")) if path.is_file())
        elif data_dir is None:
            files.extend(path for path in map(self.mirror_file, self._URLS) if path is not None)
        files.extend(Path(file) for file in _iter_files(data_files) if os.path.isfile(file))
        return files

    def fingerprint(self, data_dir: str | None, data_files: DataFilesDict | None) -> str:
        """The cache `hash`: builder versions, builder code, residue alphabet and local input files (see module doc)."""
        versions = [str(self.VERSION)] + [f"{c.name}={c.version}" for c in self.BUILDER_CONFIGS]
        inputs = [
            (str(path.resolve()), file_fingerprint(path)) for path in self.local_input_files(data_dir, data_files)
        ]
        remote = sorted(str(file) for file in _iter_files(data_files) if not os.path.isfile(file))
        payload = {
            "versions": versions,
            "code": code_fingerprint(type(self)),
            "alphabet": RESIDUES,
            "inputs": inputs,
            "remote": remote,
            "urls": self._URLS,
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]

    def raw_files(self, dl_manager: datasets.DownloadManager, names: Iterable[str] | None = None) -> dict[str, str]:
        """Local paths of raw files named in `_URLS` (all of them by default): read from `data_dir` when given, else
        from the `PROTEINHUB_DATA_DIR` mirror (`mirror_file`), else downloaded.

        Raises:
            DataNotFoundError: a file is missing from `data_dir`, or neither mirrored nor downloadable.
        """
        names = list(self._URLS if names is None else names)
        if self.config.data_dir:
            paths = {name: os.path.join(self.config.data_dir, name) for name in names}
            missing = [name for name, path in paths.items() if not os.path.isfile(path)]
            if missing:
                sources = "; ".join(f"{name} from {self._URLS[name]}" for name in missing)
                raise DataNotFoundError(
                    f"{self._source_name()}: data_dir {self.config.data_dir} lacks {', '.join(missing)}. Download "
                    f"{sources}, or leave data_dir unset to use {DATA_DIR_ENV} or download automatically."
                )
            return paths
        paths = {name: str(path) for name in names if (path := self.mirror_file(name)) is not None}
        remote = {name: self._URLS[name] for name in names if name not in paths}
        if remote:
            try:
                paths.update(dl_manager.download(remote))
            except OSError as error:  # offline mode, no network, HTTP errors (ConnectionError, FileNotFoundError)
                raise DataNotFoundError(self._not_found_message(remote, error)) from error
        return {name: paths[name] for name in names}

    def _source_name(self) -> str:
        name = self.config.name
        return self.builder_name() if name == "default" else f"{self.builder_name()} ({name})"

    def _not_found_message(self, remote: dict[str, str], error: BaseException) -> str:
        first_name, first_url = next(iter(remote.items()))
        folders = " or ".join(f"{folder}/" for folder in (self.builder_name(), *self.MIRROR_FOLDERS))
        root = os.environ.get(DATA_DIR_ENV)
        mirror = f"{DATA_DIR_ENV}={root} has no {folders} holding them" if root else f"{DATA_DIR_ENV} is not set"
        files = ", ".join(remote) if len(remote) <= 3 else f"{first_name} and {len(remote) - 1} more files"
        reason = str(error).splitlines()[0] if str(error) else ""
        reason = f"{type(error).__name__}: {reason}" if reason and first_url not in reason else type(error).__name__
        return (
            f"dataset {self._source_name()}: cannot get {files}. Downloading {first_url} failed ({reason}), and "
            f"{mirror}. Go online, set {DATA_DIR_ENV} to a folder with {folders} holding the files, or pass "
            "--data_dir (load_dataset(..., data_dir=...)) with a folder that holds them."
        )


def _iter_files(data_files: DataFilesDict | None) -> Iterable[str]:
    if data_files is None:
        return ()
    return (str(file) for split_files in data_files.values() for file in split_files)
