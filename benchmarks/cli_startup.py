"""Start-up time of the `proteinhub` command line against a bare interpreter and a bare torch + transformers import.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/cli_startup.py [--repeats 5] [--json PATH]

Each row is a fresh process, timed from its start to the moment the row's answer is there:
- `python -c pass`: the bare interpreter (with this environment's site-packages);
- `proteinhub --help`: until the process exits;
- `python -c "import torch, transformers"`: the bare import of the two libraries;
- `proteinhub predict`: until the first protein's row arrives on standard output (unbuffered), on a randomly
  initialised `protein-cnn-small` saved to a temporary folder and a FASTA file of `--proteins` proteins;
- for reference, `python -c "from transformers import PreTrainedModel"`: what loading any transformers model
  imports at least (transformers 5 imports its model machinery lazily, so `import transformers` alone does not).

The console script is the one installed next to this interpreter (`bin/proteinhub`), else the file pip generates
for `proteinhub = "proteinhub.cli:main"`, written to the temporary folder; both run under this interpreter. The rows
are run in turn, `--repeats` rounds, and each is reported as the median of its rounds (a shared machine's load
changes over a run; interleaving spreads it over all rows). Goals from issue 14: `--help` at most 0.3 s above the
bare interpreter; `predict` start-up at most 1.2x the bare torch + transformers import.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOAL_HELP_ABOVE_BARE_S = 0.3
GOAL_PREDICT_OVER_IMPORT = 1.2
# what pip writes for `[project.scripts] proteinhub = "proteinhub.cli:main"`
CONSOLE_SCRIPT = """import sys
from proteinhub.cli import main
if __name__ == '__main__':
    sys.argv[0] = sys.argv[0].removesuffix('.exe')
    sys.exit(main())
"""
PROTEIN = "MKTAYIAKQRQISFVKSHFSRQLEEKLGLIEVQAPILSRVGDGTQDNLSGAEKAVQVKVKALPDAQFEVVHSLAKWKRQTLGQHDFSAGEGLYTHMKALRPDE"


def console_script(folder: Path) -> Path:
    """The installed `proteinhub` script of this environment, or an equivalent one written into `folder`."""
    installed = Path(sys.executable).parent / "proteinhub"
    if installed.is_file():
        return installed
    script = folder / "proteinhub"
    script.write_text(CONSOLE_SCRIPT)
    return script


def prepare(folder: Path, num_proteins: int) -> tuple[Path, Path]:
    """A saved `protein-cnn-small` (random weights: start-up does not depend on them) and a FASTA file."""
    import torch
    from proteinhub import ProteinTokenizer, build_preset

    torch.manual_seed(0)
    model = build_preset("protein-cnn-small").eval()
    model_dir = folder / "model"
    model.save_pretrained(model_dir)
    ProteinTokenizer(**model.config.tokenizer_kwargs).save_pretrained(model_dir)
    fasta = folder / "proteins.fasta"
    fasta.write_text("".join(f">P{index}\n{PROTEIN}\n" for index in range(num_proteins)))
    return model_dir, fasta


def seconds_to_exit(command: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def seconds_to_first_row(command: list[str], cwd: Path) -> float:
    """Seconds until the second line (the first row after the TSV header) is written to standard output."""
    environment = {**os.environ, "PYTHONUNBUFFERED": "1"}
    started = time.perf_counter()
    with subprocess.Popen(
        command, cwd=cwd, env=environment, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    ) as process:
        header, first = process.stdout.readline(), process.stdout.readline()
        elapsed = time.perf_counter() - started
        process.stdout.read()
    if process.returncode != 0 or not header.startswith("id\t") or not first.startswith("P0\t"):
        raise RuntimeError(f"{' '.join(command)} failed (exit status {process.returncode}): {header!r} {first!r}")
    return elapsed


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="rounds over all rows; the median is reported")
    parser.add_argument("--proteins", type=int, default=8, help="proteins in the FASTA file given to predict")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args(argv)
    python = sys.executable
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        script = console_script(folder)
        model_dir, fasta = prepare(folder, args.proteins)
        predict = [python, str(script), "predict", "--model", str(model_dir), "--fasta", str(fasta), "--no-progress"]
        rows = {
            "python -c pass": lambda: seconds_to_exit([python, "-c", "pass"], folder),
            "proteinhub --help": lambda: seconds_to_exit([python, str(script), "--help"], folder),
            "import torch, transformers": lambda: seconds_to_exit([python, "-c", "import torch, transformers"], folder),
            "proteinhub predict (first row)": lambda: seconds_to_first_row(predict, folder),
            "from transformers import PreTrainedModel": lambda: seconds_to_exit(
                [python, "-c", "from transformers import PreTrainedModel"], folder
            ),
        }
        times: dict[str, list[float]] = {name: [] for name in rows}
        for _ in range(args.repeats):
            for name, measure in rows.items():
                times[name].append(measure())
    seconds = {name: statistics.median(values) for name, values in times.items()}
    help_above_bare = seconds["proteinhub --help"] - seconds["python -c pass"]
    predict_over_import = seconds["proteinhub predict (first row)"] / seconds["import torch, transformers"]
    result = {
        "console_script": str(script),
        "repeats": args.repeats,
        "seconds": seconds,
        "all_seconds": times,
        "help_above_bare_s": help_above_bare,
        "help_over_bare": seconds["proteinhub --help"] / seconds["python -c pass"],
        "predict_over_import": predict_over_import,
        "predict_over_pretrained_model_import": (
            seconds["proteinhub predict (first row)"] / seconds["from transformers import PreTrainedModel"]
        ),
    }
    for name, value in seconds.items():
        print(f"{name:42s} {value:6.2f} s")
    print(
        f"proteinhub --help - python -c pass = {help_above_bare:+.2f} s ({result['help_over_bare']:.2f}x; "
        f"goal <= +{GOAL_HELP_ABOVE_BARE_S} s)"
    )
    print(
        f"proteinhub predict / import torch, transformers = {predict_over_import:.2f}x "
        f"(goal <= {GOAL_PREDICT_OVER_IMPORT}x; {result['predict_over_pretrained_model_import']:.2f}x the "
        "PreTrainedModel import)"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
