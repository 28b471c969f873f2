"""Whole-proteome phosphosite scan: sites/s of `proteinhub predict` against (a) the `phosphosite-prediction` pipeline
called once per protein and (b) the model's forward-only throughput on pre-cut windows (the practical limit).

Input: `--num-proteins` (default 20,000, about a human proteome) sequences drawn with replacement (seed 0) from every
real protein of `../shared/data` (PhosphoLingo S/T and Y files with the site marks removed, DeepLoc, MultiLoc), so
lengths and S/T content are real. Model: `phosphosite-vgg-w33` with random weights (speed does not depend on them).

- scan: `python -m proteinhub.inference.predict --fasta ... --out ...` in a subprocess (the `proteinhub predict`
  code), its own scan time (after imports and model loading) and its peak RSS;
- (a) `pipe(sequence)` for each of the first `--per-protein` proteins;
- (b) `model(input_ids=...)` on the windows of the first `--forward-proteins` proteins, cut beforehand, in batches of
  `--batch-size`, best of two passes.

Goals (issue #3): 20,000 proteins in <= 3 minutes on the 2-core machine, >= 0.8x the forward-only limit, peak RSS
< 2 GB. A consistency check compares the first rows of the scan output with one-window-at-a-time inference. Timings
on the shared machine vary by about +-50 % from run to run; compare ratios taken in the same run.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/phosphosite_scan.py [--num-proteins 20000] [--batch-size 1024]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import proteinhub
import torch
from proteinhub.inference.pipelines import PhosphositeScanner
from proteinhub.tokenization.fasta import read_fasta
from transformers import pipeline

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
POOL_FILES = ("phospho_sites_phospholingo/*.fasta", "localization_deeploc1/*.fasta", "localization_multiloc/*.fasta")
GOAL_SECONDS, GOAL_VS_FORWARD, GOAL_RSS_GB = 180.0, 0.8, 2.0
_LEGAL = re.compile(r"^[ACDEFGHIKLMNPQRSTVWYXUOBZJ]+$")


def real_proteins() -> list[str]:
    """Unique real sequences of the shared FASTA files (marks `#`/`@` removed, records with odd characters skipped)."""
    sequences: dict[str, None] = {}
    for pattern in POOL_FILES:
        for path in sorted(SHARED_DATA.glob(pattern)):
            for record in read_fasta(path):
                sequence = record.sequence.replace("#", "").replace("@", "").upper()
                if _LEGAL.match(sequence):
                    sequences[sequence] = None
    if not sequences:
        raise FileNotFoundError(f"no FASTA files under {SHARED_DATA} ({', '.join(POOL_FILES)})")
    return list(sequences)


def write_proteome(path: Path, pool: list[str], num_proteins: int, seed: int = 0) -> list[str]:
    """`num_proteins` sequences drawn with replacement from `pool`, written as FASTA (60 residues per line)."""
    drawn = [pool[i] for i in np.random.default_rng(seed).integers(0, len(pool), size=num_proteins)]
    with path.open("w") as handle:
        for index, sequence in enumerate(drawn):
            lines = "\n".join(sequence[i : i + 60] for i in range(0, len(sequence), 60))
            handle.write(f">protein_{index}\n{lines}\n")
    return drawn


def save_random_model(folder: Path) -> torch.nn.Module:
    torch.manual_seed(0)
    model = proteinhub.build_preset("phosphosite-vgg-w33").eval()
    model.save_pretrained(folder)
    proteinhub.ProteinTokenizer(**model.config.tokenizer_kwargs).save_pretrained(folder)
    return model


def time_scan(model_dir: Path, fasta: Path, out: Path, batch_size: int, threads: int) -> dict:
    """Run `proteinhub predict` in a subprocess; its scan time (printed by it), wall time and peak RSS."""
    command = [sys.executable, "-m", "proteinhub.inference.predict", "--model", str(model_dir), "--fasta", str(fasta)]
    command += ["--out", str(out), "--batch-size", str(batch_size), "--threads", str(threads), "--no-progress"]
    started = time.perf_counter()
    finished = subprocess.run(command, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - started
    match = re.search(r"scored ([\d,]+) .* sites of ([\d,]+) proteins in ([\d.]+) s", finished.stderr)
    if match is None:
        raise RuntimeError(f"unexpected output of proteinhub predict:\n{finished.stderr}")
    sites, proteins, seconds = int(match[1].replace(",", "")), int(match[2].replace(",", "")), float(match[3])
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # kB on Linux; the only child so far
    return {"sites": sites, "proteins": proteins, "scan_s": seconds, "wall_s": wall, "peak_rss_gb": peak_kb / 2**20}


def time_forward(model: torch.nn.Module, sequences: list[str], batch_size: int) -> tuple[int, float]:
    """Windows and seconds of the best of two forward-only passes over the pre-cut windows of `sequences`."""
    scanner = PhosphositeScanner(model, batch_size=batch_size)
    windows = torch.from_numpy(
        np.concatenate([scanner.prepare(f"p{i}", sequence).windows for i, sequence in enumerate(sequences)])
    )
    best = float("inf")
    with torch.inference_mode():
        for _ in range(2):
            started = time.perf_counter()
            for chunk in torch.split(windows, batch_size):
                model(input_ids=chunk)
            best = min(best, time.perf_counter() - started)
    return len(windows), best


def time_per_protein(model_dir: Path, sequences: list[str]) -> tuple[int, float]:
    """Sites and seconds of calling the pipeline once per protein."""
    pipe = pipeline("phosphosite-prediction", model=str(model_dir))
    pipe(sequences[0])  # warm-up
    sites = 0
    started = time.perf_counter()
    for sequence in sequences:
        sites += len(pipe(sequence))
    return sites, time.perf_counter() - started


def check_against_single_windows(model: torch.nn.Module, sequences: list[str], out: Path, num_rows: int) -> float:
    """Largest |probability difference| between the scan's first `num_rows` rows and one-window-at-a-time inference
    (the TSV holds 6 decimals, so up to 5e-7 is rounding)."""
    scanner = PhosphositeScanner(model, batch_size=1)
    with out.open() as handle:
        next(handle)
        rows = [next(handle).rstrip("\n").split("\t") for _ in range(num_rows)]
    largest = 0.0
    prepared = {}
    for protein_id, position, _, probability, _ in rows:
        index = int(protein_id.removeprefix("protein_"))
        if index not in prepared:
            prepared[index] = scanner.prepare(protein_id, sequences[index])
        protein = prepared[index]
        window = protein.windows[list(protein.positions + 1).index(int(position))][None]
        largest = max(largest, abs(float(scanner.probabilities(window)[0]) - float(probability)))
    return largest


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--num-proteins", type=int, default=20_000)
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--per-protein", type=int, default=500, help="Proteins for the once-per-protein baseline.")
    parser.add_argument("--forward-proteins", type=int, default=2000, help="Proteins whose windows (b) scores.")
    parser.add_argument("--threads", type=int, default=1, help="torch threads, everywhere (default 1).")
    parser.add_argument("--json", type=Path, default=None, help="Also write the numbers to this JSON file.")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(f"torch threads {args.threads}, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}, load {os.getloadavg()}")

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        pool = real_proteins()
        sequences = write_proteome(tmp / "proteome.fasta", pool, args.num_proteins)
        lengths = np.array([len(s) for s in sequences])
        print(
            f"input: {len(sequences):,} proteins drawn from {len(pool):,} real ones, {lengths.sum():,} residues, "
            f"length median {np.median(lengths):.0f}, mean {lengths.mean():.0f}, max {lengths.max():,}"
        )
        model = save_random_model(tmp / "model")

        scan = time_scan(tmp / "model", tmp / "proteome.fasta", tmp / "sites.tsv", args.batch_size, args.threads)
        scan_rate = scan["sites"] / scan["scan_s"]
        print(
            f"scan (proteinhub predict): {scan['sites']:,} S/T sites of {scan['proteins']:,} proteins in "
            f"{scan['scan_s']:.1f} s ({scan_rate:,.0f} sites/s); process wall {scan['wall_s']:.1f} s incl. imports; "
            f"peak RSS {scan['peak_rss_gb']:.2f} GB"
        )
        windows, seconds = time_forward(model, sequences[: args.forward_proteins], args.batch_size)
        forward_rate = windows / seconds
        print(f"(b) forward only, pre-cut windows: {windows:,} windows in {seconds:.2f} s ({forward_rate:,.0f}/s)")
        sites, seconds = time_per_protein(tmp / "model", sequences[: args.per_protein])
        per_protein_rate = sites / seconds
        print(
            f"(a) pipeline once per protein: {sites:,} sites of {args.per_protein} proteins in {seconds:.2f} s "
            f"({per_protein_rate:,.0f} sites/s)"
        )
        difference = check_against_single_windows(model, sequences, tmp / "sites.tsv", 300)
        print(f"check: first 300 rows vs one-window-at-a-time inference, max |dp| = {difference:.1e}")

    print("\nratios and goals")
    print(f"  scan / forward-only limit : {scan_rate / forward_rate:.2f}x (goal >= {GOAL_VS_FORWARD}x)")
    print(f"  scan / pipeline per protein: {scan_rate / per_protein_rate:.1f}x")
    print(
        f"  {args.num_proteins:,} proteins          : {scan['scan_s']:.0f} s scan, {scan['wall_s']:.0f} s with "
        f"start-up (goal <= {GOAL_SECONDS:.0f} s)"
    )
    print(f"  peak RSS                   : {scan['peak_rss_gb']:.2f} GB (goal < {GOAL_RSS_GB} GB)")
    if args.json:
        summary = {
            **scan,
            "num_residues": int(lengths.sum()),
            "batch_size": args.batch_size,
            "threads": args.threads,
            "scan_sites_per_s": scan_rate,
            "forward_only_windows_per_s": forward_rate,
            "per_protein_sites_per_s": per_protein_rate,
            "max_abs_difference_vs_single_windows": difference,
            "load_average": os.getloadavg(),
            "date": time.strftime("%Y-%m-%d %H:%M"),
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
