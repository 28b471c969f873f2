"""What the five reproduction scripts (`scripts/reproduce_*.py`) share: loading a run's splits and its saved model,
predicting over a dataset in length-sorted batches, per-class tables, learning curves, figures, the result records
(one JSON per finished row, so that a script resumes where it stopped) and the results pages, rendered from the
Jinja templates in `scripts/templates/` with the number formats below.

The scripts import it as `reproduction` (run as `python scripts/reproduce_<task>.py`, the script's folder is on
`sys.path`; pytest has `pythonpath = ["scripts"]`).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
TEMPLATES = Path(__file__).resolve().parent / "templates"
# the builders' offline mirror (configs name datasets by builder, builders look in PROTEINHUB_DATA_DIR): the variable
# if set, else ../shared/data beside the checkout, set for the builders of this process too
DATA_DIR = Path(os.environ.setdefault("PROTEINHUB_DATA_DIR", str(REPO.parent / "shared" / "data")))


# result records and resuming


def write_json(path: str | os.PathLike, record: dict) -> Path:
    """Write `record` as indented JSON; the file appears complete or not at all (written beside, then renamed)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps(record, indent=2) + "\n")
    temporary.replace(path)
    return path


def read_json(path: str | os.PathLike) -> dict:
    return json.loads(Path(path).read_text())


def load_records(folder: str | os.PathLike, names: Sequence[str] | None = None) -> dict[str, dict]:
    """name -> record of every finished row in `folder` (`<name>.json`): the given names in their order, or every
    JSON file sorted by name."""
    folder = Path(folder)
    if names is None:
        return {path.stem: read_json(path) for path in sorted(folder.glob("*.json"))}
    return {name: read_json(folder / f"{name}.json") for name in names if (folder / f"{name}.json").is_file()}


def finished(path: str | os.PathLike, name: str, *, force: bool = False, tiny: bool | None = None) -> bool:
    """Whether the row `name` has its result at `path` and is to be skipped (said on stdout as `[skip]`).

    `force` re-runs it anyway; with `tiny` given, a result of the other mode (a smoke test against a real run) does
    not count as finished.
    """
    path = Path(path)
    if force or not path.is_file():
        return False
    if tiny is not None and read_json(path).get("tiny", False) != tiny:
        return False
    print(f"[skip] {name}: {path} exists", flush=True)
    return True


# runs and saved models


def run_splits(argv: list[str]) -> dict:
    """The splits a `train.py` run with these arguments trains and evaluates on (its own validation hold-out
    included, drawn with the run's seed)."""
    from proteinhub import training

    _, data_args, _, training_args, _ = training.parse_arguments(argv)
    return training.load_splits(data_args, training_args.seed)


def load_model(path: str | os.PathLike, auto_class: str = "AutoModelForSequenceClassification"):
    """(model in eval mode, its `ProteinTokenizer`) of a saved run; `auto_class` names the transformers Auto class."""
    import transformers
    from proteinhub.tokenization import ProteinTokenizer

    model = getattr(transformers, auto_class).from_pretrained(path).eval()
    return model, ProteinTokenizer(**model.config.tokenizer_kwargs)


def epoch_log(output_dir: str | os.PathLike) -> list[dict]:
    """`log_history` of the run's `trainer_state.json` (empty when the run left none)."""
    state = Path(output_dir) / "trainer_state.json"
    return read_json(state)["log_history"] if state.is_file() else []


# prediction


def length_batches(
    lengths: Sequence[int], *, batch_size: int | None = None, max_tokens: int | None = None
) -> list[list[int]]:
    """Indices sorted by length (shortest first, ties in input order), cut into batches of `batch_size` items or of
    at most `max_tokens` padded positions (a batch is as wide as its last, longest item); similar lengths, little
    padding."""
    if (batch_size is None) == (max_tokens is None):
        raise ValueError("give either batch_size or max_tokens")
    order = [int(index) for index in np.argsort(np.asarray(lengths), kind="stable")]
    if batch_size is not None:
        return [order[start : start + batch_size] for start in range(0, len(order), batch_size)]
    batches: list[list[int]] = [[]]
    for index in order:
        if batches[-1] and lengths[index] * (len(batches[-1]) + 1) > max_tokens:
            batches.append([])
        batches[-1].append(index)
    return [batch for batch in batches if batch]


def predict_logits(
    model,
    tokenizer,
    sequences: Sequence[str],
    *,
    level: str = "protein",
    batch_size: int | None = 64,
    max_tokens: int | None = None,
    forward: Callable | None = None,
) -> np.ndarray | list[np.ndarray]:
    """Logits of `model` over `sequences` in length-sorted batches, in input order: (n, num_labels) for
    `level="protein"`, a list of (length, num_labels) arrays at the residues (special tokens dropped) for
    `level="residue"`. `forward(encoding, indices)` replaces `model(**encoding).logits` (e.g. teacher forcing);
    batches hold `batch_size` proteins, or `max_tokens` padded tokens when that is given instead.

    Example:
        >>> logits = predict_logits(model, tokenizer, ["MKTAYIAK", "MK"])  # doctest: +SKIP
        >>> logits.shape  # doctest: +SKIP
        (2, 10)
    """
    import torch

    if level not in ("protein", "residue"):
        raise ValueError(f"level must be 'protein' or 'residue', got {level!r}")
    leading = tokenizer.num_leading_special_tokens
    specials = leading + int(getattr(tokenizer, "append_eos", False))
    if max_tokens is not None:
        batch_size = None
    batches = length_batches(
        [len(sequence) + specials for sequence in sequences], batch_size=batch_size, max_tokens=max_tokens
    )
    outputs: list[np.ndarray | None] = [None] * len(sequences)
    model.eval()
    with torch.no_grad():
        for indices in batches:
            encoding = tokenizer([sequences[i] for i in indices], padding=True, return_tensors="pt")
            logits = model(**encoding).logits if forward is None else forward(encoding, indices)
            for row, index in enumerate(indices):
                scores = logits[row] if level == "protein" else logits[row, leading : leading + len(sequences[index])]
                outputs[index] = scores.float().numpy()
    return np.stack(outputs) if level == "protein" and outputs else outputs


# evaluation


def per_class(
    matrix: np.ndarray, class_names: Sequence[str], *, zero_division: float | None = None
) -> dict[str, dict[str, float | int | None]]:
    """Precision, recall, F1 and support of every class from a (true, predicted) count matrix; a ratio without a
    denominator (a class never predicted, or absent) is `zero_division`."""
    matrix = np.asarray(matrix)
    table = {}
    for index, name in enumerate(class_names):
        predicted, true, hits = int(matrix[:, index].sum()), int(matrix[index].sum()), int(matrix[index, index])
        table[name] = {
            "precision": hits / predicted if predicted else zero_division,
            "recall": hits / true if true else zero_division,
            "f1": 2 * hits / (predicted + true) if predicted + true else zero_division,
            "support": true,
        }
    return table


def classification_report(labels: np.ndarray, logits: np.ndarray, class_names: Sequence[str]) -> dict:
    """The training metrics (accuracy, macro-F1, MCC, ROC-AUC, PR-AUC), the per-class table and the confusion matrix
    of (n,) labels against (n, num_labels) logits."""
    from proteinhub.evaluation.metrics import classification_confusion_matrix, classification_metrics

    labels = np.asarray(labels)
    matrix = classification_confusion_matrix(labels, logits, len(class_names))
    return {
        **classification_metrics(labels, logits),
        "per_class": per_class(matrix, class_names),
        "confusion_matrix": matrix.tolist(),
    }


# figures


def pyplot():
    """matplotlib.pyplot with the Agg backend (no display needed), as `training.plots` sets it."""
    from proteinhub.training.plots import plt

    return plt


def save_figure(figure, path: str | os.PathLike, *, dpi: int = 110) -> Path:
    """Lay out, write and close a matplotlib figure."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
    figure.savefig(path, dpi=dpi)
    pyplot().close(figure)
    return path


def learning_curves(
    log_history: list[dict], folder: str | os.PathLike, stem: str, metric: str, *, greater_is_better: bool = True
) -> list[Path]:
    """`training.plots.plot_learning_curves` (loss, and the validation `metric` with its best epoch) written into
    `folder` as `<stem>_learning_curve_loss.png` and `<stem>_learning_curve_<metric>.png`; returns the paths."""
    from proteinhub.training import plots

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory(dir=folder) as scratch:
        for path in plots.plot_learning_curves(log_history, scratch, metric, greater_is_better=greater_is_better):
            written.append(Path(shutil.move(path, folder / f"{stem}_{path.name}")))
    return written


# pages


def percent(value: float | None, digits: int = 1, unit: str = " %", missing: str = "-") -> str:
    """A fraction as a percentage: `percent(0.8123)` is "81.2 %"; None or NaN is `missing`."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return missing
    return f"{100 * value:.{digits}f}{unit}"


def number(value: float | None, digits: int = 4, missing: str = "-") -> str:
    """A number with `digits` decimals; None or NaN is `missing`."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return missing
    return f"{value:.{digits}f}"


def render_page(template: str, path: str | os.PathLike, **context) -> str:
    """Render `scripts/templates/<template>` with `context` and write it to `path` (complete or not at all); returns
    the text. Filters: `percent`, `number`, `thousands` (a count with thousands separators)."""
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,  # Markdown, not HTML
    )
    environment.filters.update(percent=percent, number=number, thousands=lambda value: f"{value:,}")
    text = environment.get_template(template).render(**context)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text)
    temporary.replace(path)
    return text
