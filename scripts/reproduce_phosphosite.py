"""Reproduce Tables 1 (S/T) and 2 (Y) of the phosphosite paper (seed 000, Nguyen) and write docs/results/phosphosite.md.

Every row of both tables (4 models x 3 windows x with/without data augmentation, for S/T and for Y) is trained with
`train.py` from its config `configs/phosphosite/<group>_<model>_w<L>[_da].yaml` on the real data
(`phosphosite` builder: PhosphoLingo valid+test files, balanced), once per split scheme: the paper's random window
split and the protein-level split. Each finished run leaves `<runs-dir>/results/<split>/<row>.json` (test and
validation accuracy, F1, ROC-AUC, MCC, recomputed from the saved model); rows with a JSON are skipped, so the script
resumes where it stopped and, run again, rebuilds the page from whatever has finished (`--page-only` only does that).
Run order: Y before S/T (Y rows take minutes, S/T rows up to half an hour on one CPU core).

    OMP_NUM_THREADS=1 python scripts/reproduce_phosphosite.py                      # everything (many hours on CPU)
    python scripts/reproduce_phosphosite.py --groups Y --splits random_window      # a subset
    python scripts/reproduce_phosphosite.py --page-only                            # rebuild the page
    python scripts/reproduce_phosphosite.py --tiny --runs-dir /tmp/tiny            # CI smoke test (< 60 s)
    python scripts/reproduce_phosphosite.py --write-configs                        # regenerate the 48 YAML files
    python scripts/reproduce_phosphosite.py --ablation                             # ResNet dropout 0 / 0.1 (Y)

The paper gives the ResNet no dropout; trained that way it memorises the Y training windows within two epochs, so the
ResNet presets use dropout 0.3 (ours). `--ablation` re-trains the Y ResNet rows (random window split, no DA) with
dropout 0.0 (the paper's text) and 0.1 into `<runs-dir>/ablation/` for the page's dropout table.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path

from reproduction import DATA_DIR, REPO, finished, load_model, pyplot, read_json, render_page, save_figure, write_json

CONFIG_DIR = REPO / "configs" / "phosphosite"
DEFAULT_RUNS_DIR = REPO / "runs" / "phosphosite"
TINY_RUNS_DIR = REPO / "runs" / "phosphosite-tiny"  # never mixed with the real results
DEFAULT_RESULTS = REPO / "docs" / "results" / "phosphosite.md"
SHARED_DATA = DATA_DIR / "phospho_sites_phospholingo"
GROUPS = ("ST", "Y")
MODELS = ("vgg", "resnet", "cnn-lstm", "cnn-gru")  # the paper's table order
WINDOWS = (15, 33, 51)
SPLITS = ("random_window", "protein")
EPOCHS = {"ST": 60, "Y": 100}  # paper section 4.1
MODEL_NAMES = {"vgg": "VGG", "resnet": "ResNet", "cnn-lstm": "CNN-LSTM", "cnn-gru": "CNN-GRU"}
PAPER_PARAMETERS = {"vgg": "100k", "resnet": "70k", "cnn-lstm": "60k", "cnn-gru": "50k"}
ABLATION_DROPOUTS = (0.0, 0.1)  # ResNet dropout next to the presets' 0.3 (the paper gives none)

# (group, model, window, DA) -> (accuracy %, F1 %), paper Tables 1 and 2
PAPER = {
    ("ST", "vgg", 15, False): (76.69, 76.78),
    ("ST", "vgg", 15, True): (77.61, 78.08),
    ("ST", "vgg", 33, False): (78.43, 78.03),
    ("ST", "vgg", 33, True): (79.08, 79.63),
    ("ST", "vgg", 51, False): (78.98, 79.31),
    ("ST", "vgg", 51, True): (79.43, 79.31),
    ("ST", "resnet", 15, False): (76.30, 76.37),
    ("ST", "resnet", 15, True): (76.44, 76.80),
    ("ST", "resnet", 33, False): (77.84, 77.90),
    ("ST", "resnet", 33, True): (78.03, 78.21),
    ("ST", "resnet", 51, False): (78.10, 78.10),
    ("ST", "resnet", 51, True): (78.36, 78.77),
    ("ST", "cnn-lstm", 15, False): (76.53, 76.54),
    ("ST", "cnn-lstm", 15, True): (76.75, 77.43),
    ("ST", "cnn-lstm", 33, False): (78.43, 78.68),
    ("ST", "cnn-lstm", 33, True): (78.74, 79.58),
    ("ST", "cnn-lstm", 51, False): (79.24, 79.69),
    ("ST", "cnn-lstm", 51, True): (79.36, 79.75),
    ("ST", "cnn-gru", 15, False): (76.29, 76.22),
    ("ST", "cnn-gru", 15, True): (76.61, 76.73),
    ("ST", "cnn-gru", 33, False): (78.36, 78.55),
    ("ST", "cnn-gru", 33, True): (78.88, 79.08),
    ("ST", "cnn-gru", 51, False): (78.77, 78.99),
    ("ST", "cnn-gru", 51, True): (79.05, 79.26),
    ("Y", "vgg", 15, False): (62.76, 65.09),
    ("Y", "vgg", 15, True): (65.13, 65.08),
    ("Y", "vgg", 33, False): (67.28, 65.41),
    ("Y", "vgg", 33, True): (67.95, 68.83),
    ("Y", "vgg", 51, False): (65.36, 58.41),
    ("Y", "vgg", 51, True): (65.95, 65.72),
    ("Y", "resnet", 15, False): (64.39, 63.96),
    ("Y", "resnet", 15, True): (63.58, 64.70),
    ("Y", "resnet", 33, False): (62.09, 62.06),
    ("Y", "resnet", 33, True): (62.09, 63.94),
    ("Y", "resnet", 51, False): (64.32, 63.97),
    ("Y", "resnet", 51, True): (63.35, 59.11),
    ("Y", "cnn-lstm", 15, False): (64.02, 62.43),
    ("Y", "cnn-lstm", 15, True): (65.06, 63.80),
    ("Y", "cnn-lstm", 33, False): (67.36, 69.90),
    ("Y", "cnn-lstm", 33, True): (66.47, 66.91),
    ("Y", "cnn-lstm", 51, False): (67.73, 66.92),
    ("Y", "cnn-lstm", 51, True): (68.69, 70.24),
    ("Y", "cnn-gru", 15, False): (62.39, 61.15),
    ("Y", "cnn-gru", 15, True): (63.43, 62.96),
    ("Y", "cnn-gru", 33, False): (65.80, 63.33),
    ("Y", "cnn-gru", 33, True): (65.95, 66.32),
    ("Y", "cnn-gru", 51, False): (68.03, 68.88),
    ("Y", "cnn-gru", 51, True): (67.95, 66.56),
}

# best simple baseline (test accuracy, F1, ROC-AUC; seed 0) per group, split and window, from
# ../shared/docs/baselines.md section 1: the MLP on one-hot windows is the best of its three models in every cell
FLOORS = {
    ("ST", "random_window", 15): ("MLP", 0.6710, 0.6662, 0.7344),
    ("ST", "random_window", 33): ("MLP", 0.6885, 0.6840, 0.7565),
    ("ST", "random_window", 51): ("MLP", 0.6932, 0.6931, 0.7578),
    ("ST", "protein", 15): ("MLP", 0.6716, 0.6735, 0.7327),
    ("ST", "protein", 33): ("MLP", 0.6854, 0.6982, 0.7507),
    ("ST", "protein", 51): ("MLP", 0.6836, 0.6926, 0.7484),
    ("Y", "random_window", 15): ("MLP", 0.5945, 0.5881, 0.6285),
    ("Y", "random_window", 33): ("MLP", 0.6178, 0.6038, 0.6459),
    ("Y", "random_window", 51): ("MLP", 0.6081, 0.6112, 0.6423),
    ("Y", "protein", 15): ("MLP", 0.6065, 0.6099, 0.6547),
    ("Y", "protein", 33): ("MLP", 0.6194, 0.6210, 0.6700),
    ("Y", "protein", 51): ("MLP", 0.6314, 0.6013, 0.6726),
}


@dataclass(frozen=True)
class Row:
    """One row of the paper's tables."""

    group: str
    model: str
    window: int
    da: bool

    @property
    def name(self) -> str:
        return f"{self.group.lower()}_{self.model}_w{self.window}{'_da' if self.da else ''}"

    @property
    def config_path(self) -> Path:
        return CONFIG_DIR / f"{self.name}.yaml"

    @property
    def label(self) -> str:
        return f"L = {self.window}{', DA' if self.da else ''}"


ROWS = [Row(g, m, w, da) for g in GROUPS for m in MODELS for w in WINDOWS for da in (False, True)]


# configs


def config_text(row: Row) -> str:
    """The YAML of one row (what `--write-configs` writes; a test checks the files are in sync)."""
    accuracy, f1 = PAPER[(row.group, row.model, row.window, row.da)]
    table = "Table 1 (S/T)" if row.group == "ST" else "Table 2 (Y)"
    overrides = {"site_residues": row.group}
    if row.da:
        overrides.update(input_noise=0.1, soft_label_max=0.4)
    overrides_text = ", ".join(f"{key}: {value}" for key, value in overrides.items())
    return f"""\
# Nguyen (seed 000), {table}: {MODEL_NAMES[row.model]}, {row.label} -- paper: accuracy {accuracy:.2f} %, F1 {f1:.2f} %
# Data: phosphosite builder (PhosphoLingo valid+test, balanced), the paper's random 0.64/0.16/0.2 window split;
# override with --dataset_config_kwargs '{{split_scheme: protein}}' for the protein-level split.
#   python train.py --config configs/phosphosite/{row.name}.yaml --data_dir <folder with {row.group}_valid.fasta, ...>
# or all rows: python scripts/reproduce_phosphosite.py

# model: preset {"with the paper's data augmentation (DA)" if row.da else "without data augmentation"}
model: phosphosite-{row.model}-w{row.window}
config_overrides: {{{overrides_text}}}

# data: windows of {row.window} residues centred on {"S/T" if row.group == "ST" else "Y"} sites, label 0/1
dataset_name: phosphosite
dataset_config_name: {row.group}_w{row.window}
dataset_config_kwargs: {{split_scheme: random_window}}
sequence_column: window

# training (paper section 4.1): Adam, lr 1e-3 with cosine decay to 1e-8, BCE, early stopping on the validation loss
# (patience 20) with the best model restored; batch size not given in the paper: Keras' default 32
output_dir: runs/phosphosite/random_window/{row.name}
num_train_epochs: {EPOCHS[row.group]}
global_batch_size: 32
learning_rate: 1.0e-3
adam_epsilon: 1.0e-7
weight_decay: 0.0
lr_scheduler_type: cosine_with_min_lr
lr_scheduler_kwargs: {{min_lr: 1.0e-8}}
eval_strategy: epoch
save_strategy: epoch
logging_strategy: epoch
load_best_model_at_end: true
metric_for_best_model: loss
greater_is_better: false
early_stopping_patience: 20
save_total_limit: 1
per_device_eval_batch_size: 1024
dataloader_pin_memory: false
seed: 0
report_to: none
"""


def write_configs() -> list[Path]:
    CONFIG_DIR.mkdir(parents=True, exist_ok=True)
    paths = []
    for row in ROWS:
        row.config_path.write_text(config_text(row))
        paths.append(row.config_path)
    return paths


# runs


def evaluate(model_dir: Path, split) -> dict[str, float]:
    """Accuracy, F1, ROC-AUC, MCC of the saved model on a `phosphosite` split (the same engine as the pipeline)."""
    import numpy as np
    from proteinhub.evaluation.metrics import site_metrics
    from proteinhub.inference.pipelines import PhosphositeScanner

    model, tokenizer = load_model(model_dir)
    input_ids = tokenizer(list(split["window"]), padding=True, return_tensors="np")["input_ids"]
    probabilities = PhosphositeScanner(model, tokenizer, batch_size=1024).probabilities(input_ids)
    return site_metrics(np.asarray(split["label"]), probabilities)


def run_row(row: Row, split: str, args: argparse.Namespace, dropout: float | None = None) -> dict:
    """Train one row with train.py (in this process), evaluate it, and store the result JSON.

    `dropout` replaces the preset's dropout (the ResNet ablation); its runs and results go under `ablation/`.
    """
    import proteinhub
    from proteinhub import training

    output_dir = args.runs_dir / split / row.name if dropout is None else ablation_path(args.runs_dir, row, dropout)
    argv = [
        "--config",
        str(row.config_path),
        "--output_dir",
        str(output_dir),
        "--dataset_config_kwargs",
        json.dumps({"split_scheme": split}),
        "--disable_tqdm",
        "true",
    ]
    if dropout is not None:
        argv += ["--config_overrides", json.dumps({"site_residues": row.group, "dropout": dropout})]
    if args.data_dir:
        argv += ["--data_dir", str(args.data_dir)]
    if args.cache_dir:
        argv += ["--cache_dir", str(args.cache_dir)]
    if args.tiny:
        argv += ["--num_train_epochs", "1", "--max_train_samples", "256", "--max_eval_samples", "128"]
    started = time.time()
    metrics = training.main(argv)
    dataset = proteinhub.load_dataset(
        "phosphosite",
        f"{row.group}_w{row.window}",
        data_dir=args.data_dir,
        cache_dir=args.cache_dir,
        split_scheme=split,
    )
    result = {
        "row": asdict(row),
        "split_scheme": split,
        "dropout": dropout,
        "tiny": args.tiny,
        "output_dir": str(output_dir),
        "command": "python train.py " + shlex.join(argv),
        "train": metrics["train"],
        "num_parameters": metrics["run"]["num_parameters"],
        "split_sizes": metrics["run"]["split_sizes"],
        "wall_s": time.time() - started,
        "finished": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    for name in ("validation", "test"):
        part = dataset[name]
        if args.tiny:
            part = part.select(range(min(128, len(part))))
        result[name] = evaluate(output_dir, part)
    write_json(result_path(args.runs_dir, split, row) if dropout is None else output_dir / "result.json", result)
    return result


def result_path(runs_dir: Path, split: str, row: Row) -> Path:
    return runs_dir / "results" / split / f"{row.name}.json"


def ablation_path(runs_dir: Path, row: Row, dropout: float) -> Path:
    """The run folder of one ablation row; its result is `result.json` inside."""
    return runs_dir / "ablation" / f"dropout_{dropout}" / row.name


def ablation_rows(args: argparse.Namespace) -> list[tuple[Row, float]]:
    """(row, dropout) of the ResNet dropout ablation: Y, no DA, the selected windows, random window split."""
    windows = WINDOWS[:1] if args.tiny else args.windows
    return [(Row("Y", "resnet", window, False), dropout) for window in windows for dropout in ABLATION_DROPOUTS]


def load_ablation(runs_dir: Path) -> dict[tuple[str, float], dict]:
    """(row name, dropout) -> result JSON of every finished ablation row."""
    results = {}
    for path in sorted((runs_dir / "ablation").glob("dropout_*/*/result.json")):
        result = read_json(path)
        results[(path.parent.name, result["dropout"])] = result
    return results


def load_results(runs_dir: Path) -> dict[tuple[str, str], dict]:
    """(split, row name) -> result JSON of every finished row."""
    results = {}
    for path in sorted((runs_dir / "results").glob("*/*.json")):
        results[(path.parent.name, path.stem)] = read_json(path)
    return results


# the results page


def _best(group: str, split: str, results: dict) -> dict | None:
    """The finished row of `group` with the best test accuracy on `split` (None if there is none)."""
    done = [(result["test"]["accuracy"], name) for (s, name), result in results.items() if s == split]
    done = [(accuracy, name) for accuracy, name in done if name.startswith(group.lower() + "_")]
    if not done:
        return None
    accuracy, name = max(done)
    return {"accuracy": accuracy, "name": name}


def _table(group: str, results: dict, splits: tuple[str, ...]) -> list[dict]:
    return [
        {
            "first": f"{MODEL_NAMES[row.model]} ({PAPER_PARAMETERS[row.model]})"
            if row.window == 15 and not row.da
            else "",
            "label": row.label,
            "paper": PAPER[(row.group, row.model, row.window, row.da)],
            "results": {split: results.get((split, row.name)) for split in splits},
        }
        for row in ROWS
        if row.group == group
    ]


def _margins(results: dict) -> list[dict]:
    """Per (group, split, window), the finished row with the best validation accuracy against the floor on the same
    windows: its test accuracy and ROC-AUC (choosing on the test split would flatter us)."""
    margins = []
    for (group, split, window), (_, floor_accuracy, _, floor_auc) in FLOORS.items():
        prefix = f"{group.lower()}_"
        done = [
            (result["validation"]["accuracy"], name, result["test"])
            for (s, name), result in results.items()
            if s == split and name.startswith(prefix) and f"_w{window}" in name
        ]
        if not done:
            continue
        _, name, test = max(done, key=lambda item: item[0])
        margins.append(
            {
                "group": group,
                "split": split,
                "window": window,
                "floor_accuracy": floor_accuracy,
                "floor_auc": floor_auc,
                "name": name,
                "accuracy": test["accuracy"],
                "auc": test["roc_auc"],
            }
        )
    return margins


def _rounded(value: float | None) -> int | None:
    return None if value is None else round(value)


def _ablation(ablation: dict, results: dict) -> list[dict]:
    """The ResNet dropout table: Y rows, random window split; per window the results of the ablation's dropouts,
    then of the presets' (the main table's row)."""
    rows = []
    for window in WINDOWS:
        row = Row("Y", "resnet", window, False)
        found = [ablation.get((row.name, dropout)) for dropout in ABLATION_DROPOUTS]
        found.append(results.get(("random_window", row.name)))
        rows.append(
            {
                "window": window,
                "paper": PAPER[("Y", "resnet", window, False)][0],
                "results": [
                    None
                    if result is None
                    else {"test": result["test"], "best_epoch": _rounded(result["train"].get("best_checkpoint_epoch"))}
                    for result in found
                ],
            }
        )
    return rows


def plot_accuracy(results: dict, path: Path) -> Path:
    """Test accuracy against the window for every model (random window split), next to the paper and the MLP floor."""
    figure, panels = pyplot().subplots(1, 2, figsize=(11, 4.2))
    colours = dict(zip(MODELS, ("tab:blue", "tab:orange", "tab:green", "tab:red")))
    for panel, group in zip(panels, GROUPS):
        for model in MODELS:
            for da, style in ((False, "-"), (True, "--")):
                rows = [Row(group, model, window, da) for window in WINDOWS]
                points = [
                    (row.window, 100 * results[("random_window", row.name)]["test"]["accuracy"])
                    for row in rows
                    if ("random_window", row.name) in results
                ]
                if points:
                    label = f"{MODEL_NAMES[model]}{' DA' if da else ''}"
                    panel.plot(*zip(*points), style, marker="o", color=colours[model], label=label)
                if not da:
                    paper = [PAPER[(group, model, window, False)][0] for window in WINDOWS]
                    panel.plot(WINDOWS, paper, ":", marker="s", fillstyle="none", color=colours[model], alpha=0.6)
        floor = [100 * FLOORS[(group, "random_window", window)][1] for window in WINDOWS]
        panel.plot(WINDOWS, floor, "k-.", linewidth=2, label="floor (MLP, one-hot)")
        panel.plot([], [], "k:", marker="s", fillstyle="none", alpha=0.6, label="paper (Phospho.ELM), no DA")
        panel.set_title(f"{'S/T' if group == 'ST' else 'Y'} sites, random window split, test")
        panel.set_xlabel("window length L")
        panel.set_ylabel("accuracy (%)")
        panel.set_xticks(WINDOWS)
        panel.grid(alpha=0.3)
    panels[1].legend(fontsize=7, ncol=2, loc="lower right")
    return save_figure(figure, path)


def write_page(results: dict, ablation: dict, path: Path, tiny: bool, benchmark: Path) -> None:
    """docs/results/phosphosite.md from the finished rows (pending rows are marked); the whole-proteome scan section
    from `benchmarks/phosphosite_scan.py --json <runs-dir>/scan_benchmark.json`, if it ran."""
    from proteinhub.modeling.phosphosite import PhosphositeResNetConfig

    splits = SPLITS
    plot = plot_accuracy(results, path.with_name(path.stem + "_accuracy.png"))
    runs = [
        {
            "split": split,
            "name": name,
            "num_parameters": result["num_parameters"],
            "epochs": _rounded(result["train"].get("epochs")),
            "best_epoch": _rounded(result["train"].get("best_checkpoint_epoch")),
            "runtime_s": result["train"]["runtime_s"],
            "validation": result["validation"],
        }
        for (split, name), result in sorted(results.items())
    ]
    render_page(
        "phosphosite.md.jinja",
        path,
        tiny=tiny,
        done=len(results),
        total=len(ROWS) * len(splits),
        num_rows=len(ROWS),
        splits=splits,
        short={split: "random" if split == "random_window" else "protein" for split in splits},
        done_per_split={split: sum(1 for s, _ in results if s == split) for split in splits},
        best_rows={(group, split): _best(group, split, results) for group in GROUPS for split in splits},
        plot=plot.name,
        tables={group: _table(group, results, splits) for group in GROUPS},
        floors=[
            {
                "group": group,
                "split": split,
                "window": window,
                "model": model,
                "accuracy": accuracy,
                "f1": f1,
                "auc": auc,
            }
            for (group, split, window), (model, accuracy, f1, auc) in FLOORS.items()
            if split in splits
        ],
        margins=_margins(results),
        preset_dropout=PhosphositeResNetConfig().dropout,
        ablation_dropouts=(*ABLATION_DROPOUTS, PhosphositeResNetConfig().dropout),
        ablation=_ablation(ablation, results),
        scan=read_json(benchmark) if benchmark.is_file() else None,
        scan_file=benchmark.name,
        runs=runs,
    )


# entry point


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--groups", nargs="+", choices=GROUPS, default=["Y", "ST"], help="Residue groups, in run order."
    )
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    parser.add_argument("--windows", nargs="+", type=int, choices=WINDOWS, default=list(WINDOWS))
    parser.add_argument("--da", choices=("both", "yes", "no"), default="both", help="Rows with/without augmentation.")
    parser.add_argument("--splits", nargs="+", choices=SPLITS, default=list(SPLITS))
    parser.add_argument(
        "--runs-dir", type=Path, default=None, help=f"Run folders and results/ (default {DEFAULT_RUNS_DIR})."
    )
    parser.add_argument("--results", type=Path, default=None, help=f"The page to write (default {DEFAULT_RESULTS}).")
    parser.add_argument("--data-dir", type=Path, default=SHARED_DATA if SHARED_DATA.is_dir() else None)
    parser.add_argument("--cache-dir", type=Path, default=None, help="datasets cache (default HF_DATASETS_CACHE).")
    parser.add_argument("--force", action="store_true", help="Re-run rows that already have a result JSON.")
    parser.add_argument("--page-only", action="store_true", help="Only rebuild the page from finished rows.")
    parser.add_argument("--write-configs", action="store_true", help="Regenerate configs/phosphosite/*.yaml and exit.")
    parser.add_argument(
        "--ablation",
        action="store_true",
        help=f"Only the ResNet dropout ablation (Y, dropout {', '.join(map(str, ABLATION_DROPOUTS))}), then the page.",
    )
    parser.add_argument(
        "--tiny", action="store_true", help="Smoke test: 2 Y rows, 256 windows, 1 epoch (page in --runs-dir)."
    )
    args = parser.parse_args(argv)
    if args.tiny:
        args.groups, args.models, args.windows, args.splits = ["Y"], ["vgg", "cnn-gru"], [15], ["random_window"]
        args.da = "both"
    if args.runs_dir is None:
        args.runs_dir = TINY_RUNS_DIR if args.tiny else DEFAULT_RUNS_DIR
    if args.results is None:
        args.results = args.runs_dir / "phosphosite_tiny.md" if args.tiny else DEFAULT_RESULTS
    return args


def selected_rows(args: argparse.Namespace) -> list[Row]:
    """The rows to run, Y before S/T (cheap first); in tiny mode one row per model (VGG plain, CNN-GRU with DA)."""
    rows = [
        Row(group, model, window, da)
        for group in args.groups
        for model in args.models
        for window in args.windows
        for da in (False, True)
        if args.da == "both" or da == (args.da == "yes")
    ]
    if args.tiny:
        rows = [row for row in rows if row.da == (row.model == "cnn-gru")]
    return rows


def _run(row: Row, split: str, args: argparse.Namespace, path: Path, dropout: float | None, failed: list) -> None:
    """Run one row unless its result exists; a failure is recorded, not raised (it is retried next time)."""
    name = row.name if dropout is None else f"{row.name} dropout {dropout}"
    if finished(path, f"{split} {name}", force=args.force, tiny=args.tiny):
        return
    print(f"[run] {split} {name}", flush=True)
    try:
        result = run_row(row, split, args, dropout)
    except Exception:  # one failed row must not stop a run of many hours
        traceback.print_exc()
        failed.append(f"{split}/{name}")
        print(f"[failed] {split} {name}", flush=True)
        return
    test = result["test"]
    print(
        f"[done] {split} {name}: test acc {test['accuracy']:.4f} F1 {test['f1']:.4f} "
        f"AUC {test['roc_auc']:.4f} MCC {test['mcc']:.4f} ({result['wall_s']:.0f} s)",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_arguments(argv)
    if args.write_configs:
        for path in write_configs():
            print(path.relative_to(REPO))
        return 0
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    failed: list[str] = []
    if args.ablation:
        for row, dropout in ablation_rows(args):
            path = ablation_path(args.runs_dir, row, dropout) / "result.json"
            _run(row, "random_window", args, path, dropout, failed)
    elif not args.page_only:
        for group in args.groups:
            for split in args.splits:
                for row in (row for row in selected_rows(args) if row.group == group):
                    _run(row, split, args, result_path(args.runs_dir, split, row), None, failed)
    results = load_results(args.runs_dir)
    ablation = load_ablation(args.runs_dir)
    tiny = args.tiny or any(result["tiny"] for result in [*results.values(), *ablation.values()])
    write_page(results, ablation, args.results, tiny, args.runs_dir / "scan_benchmark.json")
    print(f"wrote {args.results} ({len(results)} rows finished)")
    if failed:
        print(f"{len(failed)} rows failed (re-run to retry): {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
