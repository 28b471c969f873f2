"""`proteinhub predict`: score every candidate phosphorylation site of the proteins in a FASTA file.

    proteinhub predict --model runs/phosphosite/st_vgg_w33 --fasta proteome.fasta --out sites.tsv
    python -m proteinhub.predict --model runs/phosphosite/st_vgg_w33 --fasta proteome.fasta --out sites.tsv

The file is streamed: records are read lazily (`Bio.SeqIO.parse`), the windows of consecutive proteins share forward
passes (`PhosphositeScanner`, the engine of the `phosphosite-prediction` pipeline), and each protein's rows are
written as soon as it is scored, so memory does not grow with the file. Output: a TSV with the header `id position
residue probability label`, one row per candidate site (S/T or Y, as the model's `config.site_residues`), positions
1-based, label "positive" when the probability is above `--threshold`. Proteins without a candidate residue add no
row; an illegal character stops the run with an error naming the protein and the position.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

COLUMNS = ("id", "position", "residue", "probability", "label")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the `predict` options to `parser` (light: nothing heavy is imported until `run`)."""
    parser.add_argument("--model", required=True, help="Folder of a saved phosphosite model (e.g. a train.py run).")
    parser.add_argument("--fasta", required=True, help="Protein sequences, FASTA (optionally .gz).")
    parser.add_argument("--out", default="-", help="Output TSV path; '-' (default) writes to standard output.")
    parser.add_argument(
        "--residues", default=None, help="Score only these residues, a subset of the model's site_residues (e.g. S)."
    )
    parser.add_argument(
        "--threshold", type=float, default=0.5, help="Label a site 'positive' above this probability (0.5)."
    )
    parser.add_argument("--batch-size", type=int, default=1024, help="Windows per forward pass (1024).")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice).")
    parser.add_argument("--no-progress", action="store_true", help="Hide the progress bar.")


def count_records(path: Path) -> int | None:
    """Number of '>' headers of a plain FASTA file (for the progress bar's total); None for compressed files."""
    if path.suffix == ".gz":
        return None
    count, at_line_start = 0, True
    with path.open("rb") as handle:
        while block := handle.read(1 << 22):
            count += block.count(b"\n>") + (at_line_start and block.startswith(b">"))
            at_line_start = block.endswith(b"\n")
    return count


def run(args: argparse.Namespace) -> int:
    """Scan `args.fasta` with the model in `args.model` and write the site table to `args.out`; returns 0."""
    from tqdm.auto import tqdm

    fasta, model_dir = Path(args.fasta), Path(args.model)
    if not fasta.is_file():
        raise FileNotFoundError(f"--fasta {fasta}: no such file")
    if not model_dir.is_dir():
        raise FileNotFoundError(f"--model {model_dir}: no such folder (expected a saved phosphosite model)")

    import numpy as np
    import proteinhub  # noqa: F401  (registers the model classes with the Auto classes)
    import torch
    from proteinhub.pipelines import PhosphositeScanner, read_fasta
    from transformers import AutoModelForSequenceClassification

    if args.threads:
        torch.set_num_threads(args.threads)
    model = AutoModelForSequenceClassification.from_pretrained(model_dir)
    scanner = PhosphositeScanner(model, residues=args.residues, batch_size=args.batch_size)
    started = time.perf_counter()
    num_proteins = num_sites = 0
    out = sys.stdout if args.out == "-" else open(args.out, "w", encoding="utf-8")  # noqa: SIM115
    try:
        out.write("\t".join(COLUMNS) + "\n")
        with tqdm(
            total=count_records(fasta), unit="protein", disable=args.no_progress, file=sys.stderr, dynamic_ncols=True
        ) as progress:
            for protein in scanner.scan(read_fasta(fasta)):
                labels = np.where(protein.probabilities > args.threshold, "positive", "negative")
                out.write(
                    "".join(
                        f"{protein.id}\t{position}\t{residue}\t{probability:.6f}\t{label}\n"
                        for position, residue, probability, label in zip(
                            protein.positions.tolist(), protein.residues, protein.probabilities.tolist(), labels
                        )
                    )
                )
                num_proteins += 1
                num_sites += len(protein.positions)
                progress.update()
    finally:
        if out is not sys.stdout:
            out.close()
    seconds = time.perf_counter() - started
    print(
        f"scored {num_sites:,} {'/'.join(scanner.residues)} sites of {num_proteins:,} proteins in {seconds:.1f} s "
        f"({num_sites / max(seconds, 1e-9):,.0f} sites/s) -> {args.out}",
        file=sys.stderr,
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry point: `python -m proteinhub.predict ...`."""
    parser = argparse.ArgumentParser(prog="proteinhub predict", description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
