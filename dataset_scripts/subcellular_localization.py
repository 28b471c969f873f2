"""subcellular_localization: one location per protein, from MultiLoc (11 FASTA files) or DeepLoc 1.0.

Configs:

| config | source | label | extra column | splits |
|---|---|---|---|---|
| `multiloc` (default) | MultiLoc | 10 locations (lysosomal + vacuolar merged) | - | train, validation, test |
| `multiloc_11` | MultiLoc | 11 locations, one per file | - | train, validation, test |
| `deeploc` | DeepLoc 1.0 | 10 locations (Cytoplasm-Nucleus -> Cytoplasm) | `membrane` | + test_hard |
| `deeploc_membrane` | DeepLoc 1.0 | soluble / membrane (U dropped) | `location` | as `deeploc`, if not empty |

**MultiLoc** (Höglund et al. 2006): one FASTA file per location, the file name is the label (`nuclear.fasta`, ...;
`MULTILOC_FILES`). It ships without a split: `test` is a stratified 20 % (`train_test_split(test_size=0.2,
stratify=label, random_state=seed)`, the protocol of `baselines.md` section 3 and of the seed's 4,763 / 1,195), and
`validation` a stratified 10 % of the rest (same call), for early stopping; `seed` (default 0) changes both. A
`data_dir` (or `$PROTEINHUB_DATA_DIR/subcellular_localization/`, or `localization_multiloc/` there) holds the 11 files;
`data_files` may name any of them (`{"train": [...]}` is pooled and split as above; other split names are kept as
given). A FASTA file whose name is not a MultiLoc location is refused.

**DeepLoc 1.0** (Almagro Armenteros et al. 2017) as distributed by the Light Attention repository (Stärk et al.
2021): headers `>ACCESSION Location-F [test|new_test_set]`, `F` the membrane flag (M membrane-bound, S soluble, U
unknown). Splits: `train` = `deeploc_our_train_set.fasta`, `validation` = `deeploc_our_val_set.fasta` (the Light
Attention authors' split of DeepLoc's training data), `test` = `deeploc_test_set.fasta` (DeepLoc's test set),
`test_hard` = `setHARD.fasta` (Light Attention's new, redundancy-reduced test set). The files come from `data_dir`,
`$PROTEINHUB_DATA_DIR/localization_deeploc1/` or their URLs; one found nowhere is skipped with a warning (the offline
mirror has no training file). `deeploc_files` picks other files for the splits by name, e.g. `{"train":
"deeploc_our_val_set.fasta", "test": "deeploc_test_set.fasta"}` (train on the validation file offline); `data_files`
maps split names to your own files, and is added to `deeploc_files` when both are given.

Label names are shared by both sources (`LOCATIONS`, DeepLoc's ten classes in the order of the DTU exercise that
seed 003 adapted), so a model trained on one is evaluated on the other without remapping: MultiLoc's `chloroplast`
is DeepLoc's `Plastid`, `plasma_membrane` is `Cell membrane`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import datasets
import numpy as np

from ..tokenization.fasta import read_fasta
from .base import DataNotFoundError, ProteinDatasetBuilder, describe_labels
from .formats import FASTA_SUFFIXES, DatasetFormatError, clean_sequence

logger = logging.getLogger(__name__)

LOCATIONS = (
    "Nucleus",
    "Cytoplasm",
    "Extracellular",
    "Mitochondrion",
    "Cell membrane",
    "Endoplasmic reticulum",
    "Plastid",
    "Golgi apparatus",
    "Lysosome/Vacuole",
    "Peroxisome",
)
LOCATIONS_11 = (*LOCATIONS[:8], "Lysosome", "Vacuole", "Peroxisome")
MEMBRANE_LABELS = ("soluble", "membrane")
MEMBRANE_FLAGS = ("soluble", "membrane", "unknown")  # the `membrane` column of the `deeploc` config: S, M, U
#: MultiLoc file stem -> class of `LOCATIONS_11`
MULTILOC_FILES = {
    "nuclear": "Nucleus",
    "cytoplasmic": "Cytoplasm",
    "extracellular": "Extracellular",
    "mitochondrial": "Mitochondrion",
    "plasma_membrane": "Cell membrane",
    "ER": "Endoplasmic reticulum",
    "chloroplast": "Plastid",
    "Golgi": "Golgi apparatus",
    "lysosomal": "Lysosome",
    "vacuolar": "Vacuole",
    "peroxisomal": "Peroxisome",
}
#: DeepLoc header location -> class of `LOCATIONS`
DEEPLOC_LOCATIONS = {
    "Nucleus": "Nucleus",
    "Cytoplasm": "Cytoplasm",
    "Extracellular": "Extracellular",
    "Mitochondrion": "Mitochondrion",
    "Cell.membrane": "Cell membrane",
    "Endoplasmic.reticulum": "Endoplasmic reticulum",
    "Plastid": "Plastid",
    "Golgi.apparatus": "Golgi apparatus",
    "Lysosome/Vacuole": "Lysosome/Vacuole",
    "Peroxisome": "Peroxisome",
    # 23 proteins of the validation file; merged as in baselines.md section 3 (DeepLoc's ten classes have no such one)
    "Cytoplasm-Nucleus": "Cytoplasm",
}
DEEPLOC_FLAGS = {"S": "soluble", "M": "membrane", "U": "unknown"}
#: split -> DeepLoc file (Light Attention repository)
DEEPLOC_FILES = {
    "train": "deeploc_our_train_set.fasta",
    "validation": "deeploc_our_val_set.fasta",
    "test": "deeploc_test_set.fasta",
    "test_hard": "setHARD.fasta",
}

MULTILOC_COMMIT = "5ffa57888290600d3a73c0478a26d3df36f67ca7"
DEEPLOC_COMMIT = "7b0be1e64a91db8ad1a8feae994a4d09aa9d7b1b"
_MULTILOC_RAW = (
    f"https://raw.githubusercontent.com/KohlbacherLab/MultiLoc2/{MULTILOC_COMMIT}/MultiLoc2/data/datasets/multiloc"
)
_DEEPLOC_RAW = f"https://raw.githubusercontent.com/HannesStark/protein-localization/{DEEPLOC_COMMIT}/data_files"
SOURCES = ("multiloc", "deeploc")
LABEL_SETS = {"multiloc": ("location", "location_11"), "deeploc": ("location", "membrane")}

_CITATION = """\
@article{hoglund2006multiloc,
  title   = {{MultiLoc}: prediction of protein subcellular localization using {N}-terminal targeting sequences,
             sequence motifs and amino acid composition},
  author  = {H{\\"o}glund, Annette and D{\\"o}nnes, Pierre and Blum, Torsten and Adolph, Hans-Werner and
             Kohlbacher, Oliver},
  journal = {Bioinformatics},
  volume  = {22},
  number  = {10},
  pages   = {1158--1165},
  year    = {2006},
  doi     = {10.1093/bioinformatics/btl002}
}
@article{almagro2017deeploc,
  title   = {{DeepLoc}: prediction of protein subcellular localization using deep learning},
  author  = {Almagro Armenteros, Jose Juan and S{\\o}nderby, Casper Kaae and S{\\o}nderby, S{\\o}ren Kaae and
             Nielsen, Henrik and Winther, Ole},
  journal = {Bioinformatics},
  volume  = {33},
  number  = {21},
  pages   = {3387--3395},
  year    = {2017},
  doi     = {10.1093/bioinformatics/btx431}
}
@article{staerk2021light,
  title   = {Light attention predicts protein location from the language of life},
  author  = {St{\\"a}rk, Hannes and Dallago, Christian and Heinzinger, Michael and Rost, Burkhard},
  journal = {Bioinformatics Advances},
  volume  = {1},
  number  = {1},
  pages   = {vbab035},
  year    = {2021},
  doi     = {10.1093/bioadv/vbab035}
}"""


@dataclass(frozen=True)
class LocalizedProtein:
    """One protein: id, sequence, location (a class of `LOCATIONS_11` for MultiLoc, of `LOCATIONS` for DeepLoc)
    and DeepLoc's membrane flag ("soluble", "membrane", "unknown"; "unknown" for MultiLoc)."""

    id: str
    sequence: str
    location: str
    membrane: str = "unknown"


# raw formats


def multiloc_location(path: Path) -> str:
    """The class of a MultiLoc file, from its name (`nuclear.fasta` -> "Nucleus"); refuses unknown names."""
    stem = Path(path).name
    for suffix in (".gz", *FASTA_SUFFIXES):
        stem = stem.removesuffix(suffix)
    if stem not in MULTILOC_FILES:
        raise DatasetFormatError(
            f"{path}: the file name {stem!r} is not a MultiLoc location. In MultiLoc the file name is the label; "
            f"name the file one of {', '.join(f'{name}.fasta' for name in MULTILOC_FILES)}, or load other labelled "
            "FASTA files with load_dataset('protein_files', 'protein_classification', ...)."
        )
    return MULTILOC_FILES[stem]


def read_multiloc(path: Path) -> Iterator[LocalizedProtein]:
    """The proteins of one MultiLoc file (header `>ACCESSION [SP|SA|mTP|cTP POSITION]`), labelled by its name."""
    location = multiloc_location(path)
    for record in read_fasta(path):
        yield LocalizedProtein(record.id, clean_sequence(record.sequence, record.where), location)


def parse_deeploc_header(description: str, where: str) -> tuple[str, str]:
    """(location of `LOCATIONS`, membrane flag) from a DeepLoc description such as `Cell.membrane-M test`.

    Example:
        >>> parse_deeploc_header("Cytoplasm-Nucleus-U", "demo")
        ('Cytoplasm', 'unknown')
    """
    fields = description.split()
    if not fields:
        raise DatasetFormatError(
            f"{where}: no location in the header; DeepLoc headers read '>ACCESSION Location-M|S|U [test]'."
        )
    location, _, flag = fields[0].rpartition("-")
    if flag not in DEEPLOC_FLAGS or not location:
        raise DatasetFormatError(
            f"{where}: {fields[0]!r} does not end in a membrane flag -M, -S or -U; DeepLoc headers read "
            "'>ACCESSION Location-M|S|U [test]'."
        )
    if location not in DEEPLOC_LOCATIONS:
        raise DatasetFormatError(
            f"{where}: unknown location {location!r}. DeepLoc locations: {', '.join(DEEPLOC_LOCATIONS)}. Fix the "
            "header or remove the record."
        )
    return DEEPLOC_LOCATIONS[location], DEEPLOC_FLAGS[flag]


def read_deeploc(path: Path) -> Iterator[LocalizedProtein]:
    """The proteins of one DeepLoc-format FASTA file."""
    for record in read_fasta(path):
        location, membrane = parse_deeploc_header(record.description, record.where)
        yield LocalizedProtein(record.id, clean_sequence(record.sequence, record.where), location, membrane)


def _check_unique(proteins: list[LocalizedProtein], paths: list[str]) -> None:
    seen: set[str] = set()
    for protein in proteins:
        if protein.id in seen:
            raise DatasetFormatError(
                f"{', '.join(paths)}: protein {protein.id!r} occurs twice; each protein may have one location."
            )
        seen.add(protein.id)


def stratified_split(
    labels: list[str], test_fraction: float, validation_fraction: float, seed: int
) -> dict[str, np.ndarray]:
    """Indices of train / validation / test: a stratified `test_fraction`, then a stratified `validation_fraction`
    of the rest (scikit-learn `train_test_split`, `random_state=seed`); each split sorted (file order)."""
    from sklearn.model_selection import train_test_split

    indices = np.arange(len(labels))
    labels = np.asarray(labels)
    rest, test = train_test_split(indices, test_size=test_fraction, stratify=labels, random_state=seed)
    train, validation = train_test_split(rest, test_size=validation_fraction, stratify=labels[rest], random_state=seed)
    return {"train": np.sort(train), "validation": np.sort(validation), "test": np.sort(test)}


# builder


@dataclass
class SubcellularLocalizationConfig(datasets.BuilderConfig):
    """Options of a config; keyword overrides of `load_dataset` reach these fields.

    Args:
        source: "multiloc" or "deeploc".
        label_set: "location" (10 classes), "location_11" (MultiLoc only: lysosome and vacuole apart) or
            "membrane" (DeepLoc only: soluble / membrane; records flagged U are dropped).
        test_fraction: MultiLoc: share of proteins in the stratified test split (seed 003: 1,195 of 5,958).
        validation_fraction: MultiLoc: share of the remaining proteins held out for early stopping.
        seed: MultiLoc: `random_state` of both stratified splits.
        deeploc_files: DeepLoc: split -> DeepLoc file name (a value of `DEEPLOC_FILES`), read from `data_dir`, the
            `PROTEINHUB_DATA_DIR` mirror or its URL; default: every split of `DEEPLOC_FILES` that is available.
    """

    source: str = "multiloc"
    label_set: str = "location"
    test_fraction: float = 0.2
    validation_fraction: float = 0.1
    seed: int = 0
    deeploc_files: dict[str, str] | None = None


_VERSION = datasets.Version("1.0.0")


class SubcellularLocalization(ProteinDatasetBuilder):
    """Subcellular localization: columns `id`, `sequence`, `label` (+ `membrane` or `location` for DeepLoc)."""

    VERSION = _VERSION
    BUILDER_CONFIG_CLASS = SubcellularLocalizationConfig
    BUILDER_CONFIGS = [
        SubcellularLocalizationConfig(
            name="multiloc", version=_VERSION, description="MultiLoc, 10 locations (lysosomal + vacuolar merged)."
        ),
        SubcellularLocalizationConfig(
            name="multiloc_11", version=_VERSION, label_set="location_11", description="MultiLoc, 11 locations."
        ),
        SubcellularLocalizationConfig(
            name="deeploc", version=_VERSION, source="deeploc", description="DeepLoc 1.0, 10 locations."
        ),
        SubcellularLocalizationConfig(
            name="deeploc_membrane",
            version=_VERSION,
            source="deeploc",
            label_set="membrane",
            description="DeepLoc 1.0, membrane-bound vs soluble.",
        ),
    ]
    DEFAULT_CONFIG_NAME = "multiloc"
    MIRROR_FOLDERS = ("localization_multiloc", "localization_deeploc1")
    _URLS = {
        **{f"{stem}.fasta": f"{_MULTILOC_RAW}/{stem}.fasta" for stem in MULTILOC_FILES},
        **{name: f"{_DEEPLOC_RAW}/{name}" for name in DEEPLOC_FILES.values()},
    }

    @property
    def label_names(self) -> tuple[str, ...]:
        return {"location": LOCATIONS, "location_11": LOCATIONS_11, "membrane": MEMBRANE_LABELS}[self.config.label_set]

    def _info(self) -> datasets.DatasetInfo:
        config = self.config
        if config.source not in SOURCES:
            raise ValueError(f"subcellular_localization: source must be one of {SOURCES}, got {config.source!r}")
        if config.label_set not in LABEL_SETS[config.source]:
            raise ValueError(
                f"subcellular_localization: label_set {config.label_set!r} does not exist for {config.source}; "
                f"choose one of {LABEL_SETS[config.source]}"
            )
        for name in ("test_fraction", "validation_fraction"):
            if not 0.0 < getattr(config, name) < 1.0:
                raise ValueError(f"subcellular_localization: {name} must be in (0, 1), got {getattr(config, name)}")
        features = {
            "id": datasets.Value("string"),
            "sequence": datasets.Value("string"),
            "label": datasets.ClassLabel(names=list(self.label_names)),
        }
        if config.source == "deeploc":
            extra = ("location", LOCATIONS) if config.label_set == "membrane" else ("membrane", MEMBRANE_FLAGS)
            features[extra[0]] = datasets.ClassLabel(names=list(extra[1]))
        what = {"location": "10 locations", "location_11": "11 locations", "membrane": "membrane-bound vs soluble"}
        return datasets.DatasetInfo(
            description=describe_labels(
                f"Subcellular localization ({what[config.label_set]}), one label per protein, from "
                f"{'MultiLoc' if config.source == 'multiloc' else 'DeepLoc 1.0'}.",
                self.label_names,
            ),
            features=datasets.Features(features),
            homepage=(
                f"https://github.com/KohlbacherLab/MultiLoc2/tree/{MULTILOC_COMMIT}/MultiLoc2/data/datasets/multiloc"
                if config.source == "multiloc"
                else f"https://github.com/HannesStark/protein-localization/tree/{DEEPLOC_COMMIT}/data_files"
            ),
            license="unknown" if config.source == "multiloc" else "mit",
            citation=_CITATION,
        )

    # raw files

    def _multiloc_files(self, dl_manager: datasets.DownloadManager) -> list[str]:
        """The 11 MultiLoc files, in file-name order: from `data_dir` (every other FASTA there must be a DeepLoc
        file), the `PROTEINHUB_DATA_DIR` mirror or downloaded."""
        if not self.config.data_dir:
            paths = self.raw_files(dl_manager, [f"{stem}.fasta" for stem in MULTILOC_FILES])
            return [paths[name] for name in sorted(paths)]
        folder = Path(self.config.data_dir)
        fasta = sorted(path for path in folder.iterdir() if path.suffix in FASTA_SUFFIXES and path.is_file())
        files = [path for path in fasta if path.name not in DEEPLOC_FILES.values()]
        for path in files:
            multiloc_location(path)  # refuses a file named after no location
        missing = sorted(set(MULTILOC_FILES) - {path.stem for path in files})
        if missing:
            sources = "; ".join(f"{stem}.fasta from {self._URLS[f'{stem}.fasta']}" for stem in missing)
            raise DataNotFoundError(
                f"subcellular_localization: data_dir {folder} lacks {', '.join(f'{s}.fasta' for s in missing)}. "
                f"Download {sources}, or leave data_dir unset to download automatically."
            )
        return [str(path) for path in files]

    def _deeploc_files(self, dl_manager: datasets.DownloadManager) -> dict[str, str]:
        """split -> DeepLoc file: those of `deeploc_files` (each required), else every split of `DEEPLOC_FILES`
        whose file is in `data_dir`, in the mirror or downloadable (the others are left out, with a warning)."""
        chosen = self.config.deeploc_files
        if chosen is not None:
            unknown = sorted(set(chosen.values()) - set(DEEPLOC_FILES.values()))
            if unknown:
                raise ValueError(
                    f"subcellular_localization: deeploc_files names {', '.join(unknown)}; DeepLoc files are "
                    f"{', '.join(DEEPLOC_FILES.values())} (your own files go in data_files)."
                )
            raw = self.raw_files(dl_manager, sorted(set(chosen.values())))
            return {split: raw[name] for split, name in chosen.items()}
        present, missing = {}, []
        for split, name in DEEPLOC_FILES.items():
            try:
                present[split] = self.raw_files(dl_manager, [name])[name]
            except DataNotFoundError as error:
                missing.append(str(error))
                logger.warning("subcellular_localization: the %s split is left out: %s", split, error)
        if not present:
            raise DataNotFoundError(f"subcellular_localization: none of the DeepLoc files is available. {missing[0]}")
        return present

    # splits and examples

    def _split_generators(self, dl_manager: datasets.DownloadManager) -> list[datasets.SplitGenerator]:
        given = {split: [str(p) for p in files] for split, files in (self.config.data_files or {}).items()}
        if self.config.source == "multiloc":
            if given and set(given) != {"train"}:
                groups = {split: self._read(paths) for split, paths in given.items()}
            else:
                paths = given.get("train") or self._multiloc_files(dl_manager)
                proteins = self._read(paths)
                labels = [self._label(protein) for protein in proteins]
                config = self.config
                indices = stratified_split(labels, config.test_fraction, config.validation_fraction, config.seed)
                groups = {split: [proteins[i] for i in members] for split, members in indices.items()}
        else:
            files = {}
            if self.config.deeploc_files is not None or not given:
                files = {split: [path] for split, path in self._deeploc_files(dl_manager).items()}
            files.update(given)
            groups = {split: self._read(paths) for split, paths in files.items()}
        if self.config.label_set == "membrane":
            for split, proteins in groups.items():
                kept = [protein for protein in proteins if protein.membrane != "unknown"]
                logger.info("%s: %d of %d proteins have a membrane flag", split, len(kept), len(proteins))
                groups[split] = kept
            groups = {split: proteins for split, proteins in groups.items() if proteins}
        return [
            datasets.SplitGenerator(name=split, gen_kwargs={"proteins": proteins}) for split, proteins in groups.items()
        ]

    def _read(self, paths: list[str]) -> list[LocalizedProtein]:
        reader = read_multiloc if self.config.source == "multiloc" else read_deeploc
        proteins = [protein for path in paths for protein in reader(Path(path))]
        if not proteins:
            raise DatasetFormatError(f"{', '.join(paths)}: no records found. Check that the files are not empty.")
        _check_unique(proteins, paths)
        return proteins

    def _label(self, protein: LocalizedProtein) -> str:
        if self.config.label_set == "membrane":
            return protein.membrane
        if self.config.label_set == "location" and protein.location in ("Lysosome", "Vacuole"):
            return "Lysosome/Vacuole"
        return protein.location

    def _generate_examples(self, proteins: list[LocalizedProtein]) -> Iterator[tuple[datasets.builder.Key, dict]]:
        for index, protein in enumerate(proteins):
            example = {"id": protein.id, "sequence": protein.sequence, "label": self._label(protein)}
            if self.config.source == "deeploc":
                if self.config.label_set == "membrane":
                    example["location"] = protein.location
                else:
                    example["membrane"] = protein.membrane
            yield datasets.builder.Key(0, index), example
