"""`proteinhub predict`: run a saved model over every protein of a FASTA file and write a TSV.

    proteinhub predict --model runs/localization/multiloc --fasta proteome.fasta --out locations.tsv
    proteinhub predict --model runs/phosphosite/st_vgg_w33 --fasta proteome.fasta --out sites.tsv
    python -m proteinhub.inference.predict --model DIR --fasta proteome.fasta --out predictions.tsv

The model's head (from its `config.json`) decides what a row is:

- a phosphosite window classifier (`config.site_residues`, `config.window_size`): one row per candidate site (S/T or
  Y), columns `id position residue probability label`, positions 1-based, label "positive" when the probability is
  above `--threshold`. Proteins without a candidate residue add no row.
- sequence classification (`*ForSequenceClassification`: localization, protein_cnn, proteinbert, ...): one row per
  protein, `id length label probability`, then `label_2 probability_2 ... label_K probability_K` (`--top-k K`,
  default 3, at most the number of classes), or with `--all-scores` one `probability_<class>` column per class
  instead. A single-logit binary classifier has the two classes `not <positive>` and `<positive>`; a multi-label
  model ranks its per-class sigmoid probabilities.
- regression (`problem_type="regression"`): one row per protein, `id length value` (`value_<name>` per target when
  the model predicts several).
- token classification (`*ForTokenClassification`: secondary structure, disorder, residue PTMs, ...): one row per
  protein, `id length labels mean_probability`. `labels` has one character per residue: the first letter of the
  predicted class (H/E/C) when the classes' first letters differ, else the class index 0-9 (the legend is printed
  on stderr); `mean_probability` is the mean over the residues of the predicted class's probability. Proteins
  longer than the model's `max_length` are cut into overlapping windows, as in the `secondary-structure` pipeline.

The file is read by `proteinhub.tokenization.fasta` (`read_fasta` + `clean_sequence`, the reader and cleaner of
every builder, `embed` and the pipelines: plain or gzip, gzip recognised by its magic bytes, UTF-8 with or without a
byte-order mark, CRLF or LF, wrapped lines). It is streamed: records are read lazily, batched across proteins
(`PhosphositeScanner` for sites, `ProteinPredictor` otherwise, both in `proteinhub.inference.pipelines`) and written
as soon as they are scored, so memory does not grow with the file; a progress bar goes to stderr. A bad record stops
the run with a `DatasetFormatError` naming the file and the record: an illegal character (and its position), a record
without any residue, a header without an id, an id seen before in the file; so does a byte that is not UTF-8 or text
before the first header (naming the line). An empty file gives a TSV with the header line only.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

COLUMNS = ("id", "position", "residue", "probability", "label")  # the phosphosite site table
DEFAULT_TOP_K = 3


def model_head(model_dir: Path) -> str:
    """The level `model_dir` predicts at (`modeling/tasks.py`): "site" (a phosphosite window classifier), "protein"
    or "residue", from its config.json."""
    from transformers import AutoConfig

    from ..modeling.tasks import model_level

    config = AutoConfig.from_pretrained(model_dir)
    architecture = (getattr(config, "architectures", None) or ["a model without a recorded architecture"])[0]
    level = model_level(architecture, config)
    if level is None:
        raise ValueError(
            f"--model {model_dir} holds {architecture}: `proteinhub predict` needs a classification or regression "
            "head (a phosphosite, *ForSequenceClassification or *ForTokenClassification model). For the "
            "representations of a backbone use `proteinhub embed`."
        )
    return level


def label_symbols(labels: Sequence[str]) -> str:
    """One character per class for per-residue label strings: the classes' first letters (upper-case) when they
    differ, else the class indices 0-9.

    Example:
        >>> label_symbols(["helix", "strand", "coil"]), label_symbols(["ordered", "other"])
        ('HSC', '01')
    """
    letters = [str(label)[:1].upper() for label in labels]
    if all(letters) and len(set(letters)) == len(letters):
        return "".join(letters)
    if len(labels) <= 10:
        return "0123456789"[: len(labels)]
    raise ValueError(
        f"the model's {len(labels)} classes share first letters, so they cannot be written one character per "
        "residue; use pipeline('token-classification', model=DIR) for per-residue labels."
    )


# tables: the columns and rows of one kind of model


class SiteTable:
    """Phosphosite window classifiers: one row per candidate site (`PhosphositeScanner`)."""

    def __init__(self, model, args: argparse.Namespace):
        from .pipelines import PhosphositeScanner

        self.scanner = PhosphositeScanner(model, residues=args.residues, batch_size=args.batch_size or 1024)
        self.threshold = 0.5 if args.threshold is None else args.threshold
        self.columns = COLUMNS
        self.num_sites = 0

    def predict(self, records: Iterable[tuple[str, str]]) -> Iterator:
        return self.scanner.scan(records)

    def rows(self, protein) -> str:
        self.num_sites += len(protein.positions)
        labels = ("positive" if probability > self.threshold else "negative" for probability in protein.probabilities)
        return "".join(
            f"{protein.id}\t{position}\t{residue}\t{probability:.6f}\t{label}\n"
            for position, residue, probability, label in zip(
                protein.positions.tolist(), protein.residues, protein.probabilities.tolist(), labels
            )
        )

    def summary(self, num_proteins: int, seconds: float) -> str:
        return (
            f"scored {self.num_sites:,} {'/'.join(self.scanner.residues)} sites of {num_proteins:,} proteins in "
            f"{seconds:.1f} s ({self.num_sites / max(seconds, 1e-9):,.0f} sites/s)"
        )


class ProteinTable:
    """Protein- and residue-level models: one row per protein (`ProteinPredictor`)."""

    def __init__(self, model, args: argparse.Namespace):
        from ..modeling.tasks import RESIDUE
        from .pipelines import ProteinPredictor

        self.predictor = ProteinPredictor(model, batch_size=args.batch_size or 32)
        labels = self.predictor.labels
        self.per_residue = self.predictor.level == RESIDUE
        self.all_scores = args.all_scores
        self.top_k = min(args.top_k or DEFAULT_TOP_K, len(labels))
        if self.per_residue:
            if self.predictor.is_regression:
                raise ValueError(
                    f"--model {args.model} predicts a value per residue (regression): `proteinhub predict` writes "
                    "per-residue class labels only; run the model directly for per-residue values."
                )
            self.symbols = label_symbols(labels)
            self.columns = ("id", "length", "labels", "mean_probability")
            print(f"labels: {' '.join(f'{s}={name}' for s, name in zip(self.symbols, labels))}", file=sys.stderr)
        elif self.predictor.is_regression:
            if args.top_k is not None or args.all_scores:
                raise ValueError(f"--top-k and --all-scores rank classes; --model {args.model} is a regression model.")
            names = ["value"] if len(labels) == 1 else [f"value_{name}" for name in labels]
            self.columns = ("id", "length", *names)
        elif self.all_scores:
            self.columns = ("id", "length", "label", "probability", *(f"probability_{name}" for name in labels))
        else:
            ranks = [(f"label_{rank}", f"probability_{rank}") for rank in range(2, self.top_k + 1)]
            self.columns = ("id", "length", "label", "probability", *(name for pair in ranks for name in pair))

    def predict(self, records: Iterable[tuple[str, str]]) -> Iterator:
        return self.predictor.predict(records)

    def rows(self, prediction) -> str:
        import numpy as np

        scores, labels = prediction.scores, self.predictor.labels
        if self.per_residue:
            states = scores.argmax(-1)
            cells = ["".join(self.symbols[state] for state in states.tolist()), f"{scores.max(-1).mean():.6f}"]
        elif self.predictor.is_regression:
            cells = [f"{value:.6g}" for value in scores.tolist()]
        else:
            ranked = np.argsort(-scores, kind="stable").tolist()
            shown = ranked[:1] + (ranked[1 : self.top_k] if not self.all_scores else [])
            cells = [f"{labels[index]}\t{scores[index]:.6f}" for index in shown]
            if self.all_scores:
                cells += [f"{value:.6f}" for value in scores.tolist()]
        return "\t".join([prediction.id, str(prediction.length), *cells]) + "\n"

    def summary(self, num_proteins: int, seconds: float) -> str:
        return (
            f"predicted {num_proteins:,} proteins in {seconds:.1f} s ({num_proteins / max(seconds, 1e-9):,.1f} "
            "proteins/s)"
        )


def _check_options(args: argparse.Namespace, head: str) -> None:
    """Refuse options that this kind of model does not use, rather than ignoring them."""
    from ..modeling.tasks import PROTEIN, SITE

    owners = {
        "--residues": (args.residues is not None, SITE),
        "--threshold": (args.threshold is not None, SITE),
        "--top-k": (args.top_k is not None, PROTEIN),
        "--all-scores": (args.all_scores, PROTEIN),
    }
    for option, (given, owner) in owners.items():
        if given and owner != head:
            raise ValueError(f"{option} applies to {owner}-level models only; --model {args.model} is {head}-level.")
    for option, value in (("--top-k", args.top_k), ("--batch-size", args.batch_size)):
        if value is not None and value < 1:
            raise ValueError(f"{option} must be at least 1, got {value}")


def run(args: argparse.Namespace) -> int:
    """Run the model in `args.model` over `args.fasta` and write the table to `args.out`; returns 0."""
    from tqdm.auto import tqdm

    fasta, model_dir = Path(args.fasta), Path(args.model)
    if not fasta.is_file():
        raise FileNotFoundError(f"--fasta {fasta}: no such file")
    if not model_dir.is_dir():
        raise FileNotFoundError(f"--model {model_dir}: no such folder (expected a saved model, e.g. a train.py run)")

    import torch
    import transformers

    from ..modeling.tasks import SITE, get_level
    from ..tokenization.fasta import count_records, read_proteins

    head = model_head(model_dir)
    _check_options(args, head)
    if args.threads:
        torch.set_num_threads(args.threads)
    model = getattr(transformers, get_level(head).auto_class).from_pretrained(model_dir)
    table = SiteTable(model, args) if head == SITE else ProteinTable(model, args)
    started = time.perf_counter()
    num_proteins = 0
    out = sys.stdout if args.out == "-" else open(args.out, "w", encoding="utf-8")  # noqa: SIM115
    try:
        out.write("\t".join(table.columns) + "\n")
        with tqdm(
            total=count_records(fasta), unit="protein", disable=args.no_progress, file=sys.stderr, dynamic_ncols=True
        ) as progress:
            for prediction in table.predict(read_proteins(fasta)):
                out.write(table.rows(prediction))
                num_proteins += 1
                progress.update()
    finally:
        if out is not sys.stdout:
            out.close()
    print(f"{table.summary(num_proteins, time.perf_counter() - started)} -> {args.out}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry point: `python -m proteinhub.inference.predict ...` is `proteinhub predict ...`."""
    from ..cli import main as command_line

    return command_line(["predict", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
