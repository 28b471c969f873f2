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

REPO = Path(__file__).resolve().parents[1]
CONFIG_DIR = REPO / "configs" / "phosphosite"
DEFAULT_RUNS_DIR = REPO / "runs" / "phosphosite"
TINY_RUNS_DIR = REPO / "runs" / "phosphosite-tiny"  # never mixed with the real results
DEFAULT_RESULTS = REPO / "docs" / "results" / "phosphosite.md"
# the builders' offline mirror (configs name datasets by builder): ../shared/data beside the checkout by default
DATA_DIR = Path(os.environ.setdefault("PROTEINHUB_DATA_DIR", str(REPO.parent / "shared" / "data")))
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
    from proteinhub import ProteinTokenizer
    from proteinhub.evaluation.metrics import site_metrics
    from proteinhub.inference.pipelines import PhosphositeScanner
    from transformers import AutoModelForSequenceClassification

    model = AutoModelForSequenceClassification.from_pretrained(model_dir)
    tokenizer = ProteinTokenizer(**model.config.tokenizer_kwargs)
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
    path = result_path(args.runs_dir, split, row) if dropout is None else output_dir / "result.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
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
        result = json.loads(path.read_text())
        results[(path.parent.name, result["dropout"])] = result
    return results


def load_results(runs_dir: Path) -> dict[tuple[str, str], dict]:
    """(split, row name) -> result JSON of every finished row."""
    results = {}
    for path in sorted((runs_dir / "results").glob("*/*.json")):
        results[(path.parent.name, path.stem)] = json.loads(path.read_text())
    return results


# the results page


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.2f}"


def _cells(result: dict | None) -> list[str]:
    if result is None:
        return ["pending"] + [""] * 3
    test = result["test"]
    return [_percent(test["accuracy"]), _percent(test["f1"]), f"{test['roc_auc']:.4f}", f"{test['mcc']:.4f}"]


def _table(group: str, results: dict, splits: tuple[str, ...]) -> list[str]:
    header = ["model", "config", "paper acc", "paper F1"]
    for split in splits:
        short = "random" if split == "random_window" else "protein"
        header += [f"{short} acc", f"{short} F1", f"{short} AUC", f"{short} MCC"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in (row for row in ROWS if row.group == group):
        accuracy, f1 = PAPER[(row.group, row.model, row.window, row.da)]
        first = f"{MODEL_NAMES[row.model]} ({PAPER_PARAMETERS[row.model]})" if row.window == 15 and not row.da else ""
        cells = [first, row.label, f"{accuracy:.2f}", f"{f1:.2f}"]
        for split in splits:
            cells += _cells(results.get((split, row.name)))
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _best(group: str, split: str, results: dict) -> str:
    done = [(result["test"]["accuracy"], name) for (s, name), result in results.items() if s == split]
    done = [(accuracy, name) for accuracy, name in done if name.startswith(group.lower() + "_")]
    if not done:
        return "pending"
    accuracy, name = max(done)
    return f"{100 * accuracy:.2f} % (`{name}`)"


def _floor_lines(splits: tuple[str, ...]) -> list[str]:
    lines = ["| group | split | window | model | acc | F1 | AUC |", "|---|---|---|---|---|---|---|"]
    for (group, split, window), (model, accuracy, f1, auc) in FLOORS.items():
        if split in splits:
            lines.append(
                f"| {group} | {split} | {window} | {model} | {_percent(accuracy)} | {_percent(f1)} | {auc:.4f} |"
            )
    return lines


def _margin_lines(results: dict) -> list[str]:
    """Per (group, split, window), the finished row with the best validation accuracy against the floor on the same
    windows: its test accuracy and ROC-AUC (choosing on the test split would flatter us)."""
    lines = [
        "| group | split | window | floor acc / AUC | ours: acc (row) | ours: AUC | acc margin | AUC margin |",
        "|---|---|---|---|---|---|---|---|",
    ]
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
        accuracy, auc = test["accuracy"], test["roc_auc"]
        lines.append(
            f"| {group} | {split} | {window} | {_percent(floor_accuracy)} / {floor_auc:.4f} | "
            f"{_percent(accuracy)} (`{name}`) | {auc:.4f} | {100 * (accuracy - floor_accuracy):+.2f} | "
            f"{auc - floor_auc:+.4f} |"
        )
    return lines


def _run_lines(results: dict) -> list[str]:
    lines = [
        "| split | row | parameters | epochs run | best epoch | train s | val acc | val AUC |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for (split, name), result in sorted(results.items()):
        train = result["train"]
        epochs = train.get("epochs")
        best = train.get("best_checkpoint_epoch")
        lines.append(
            f"| {split} | `{name}` | {result['num_parameters']:,} | {epochs if epochs is None else round(epochs)} | "
            f"{best if best is None else round(best)} | {train['runtime_s']:.0f} | "
            f"{_percent(result['validation']['accuracy'])} | {result['validation']['roc_auc']:.4f} |"
        )
    return lines


def _ablation_lines(ablation: dict, results: dict) -> list[str]:
    """The ResNet dropout table: Y rows, random window split, test accuracy / ROC-AUC / best epoch."""
    from proteinhub.modeling.phosphosite import PhosphositeResNetConfig

    preset_dropout = PhosphositeResNetConfig().dropout
    lines = [
        "## ResNet dropout (ours; `--ablation`)",
        "",
        "The paper gives the ResNet no dropout. Trained that way (dropout 0.0 below) it memorises the 7,280 Y "
        "training windows: the validation loss is lowest after one or two epochs and the restored model is barely "
        f"trained. The ResNet presets therefore use dropout {preset_dropout} after the first conv of each block (the "
        "main tables); this table shows what the choice is worth (Y, random window split, no DA, test split).",
        "",
        "| window | paper acc | "
        + " | ".join(f"dropout {dropout} acc / AUC / best epoch" for dropout in (*ABLATION_DROPOUTS, preset_dropout))
        + " |",
        "|---|---|" + "---|" * (len(ABLATION_DROPOUTS) + 1),
    ]
    for window in WINDOWS:
        row = Row("Y", "resnet", window, False)
        cells = [f"L = {window}", f"{PAPER[('Y', 'resnet', window, False)][0]:.2f}"]
        for result in [ablation.get((row.name, dropout)) for dropout in ABLATION_DROPOUTS] + [
            results.get(("random_window", row.name))
        ]:
            if result is None:
                cells.append("pending")
                continue
            best = result["train"].get("best_checkpoint_epoch")
            cells.append(
                f"{_percent(result['test']['accuracy'])} / {result['test']['roc_auc']:.4f} / "
                f"{'-' if best is None else round(best)}"
            )
        lines.append("| " + " | ".join(cells) + " |")
    return [*lines, ""]


def plot_accuracy(results: dict, path: Path) -> Path:
    """Test accuracy against the window for every model (random window split), next to the paper and the MLP floor."""
    from proteinhub.training.plots import plt

    figure, panels = plt.subplots(1, 2, figsize=(11, 4.2))
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
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def _scan_lines(benchmark: Path) -> list[str]:
    """The whole-proteome scan section, from `benchmarks/phosphosite_scan.py --json <runs-dir>/scan_benchmark.json`."""
    lines = ["## Whole-proteome scanning (`proteinhub predict`, `phosphosite-prediction` pipeline)", ""]
    if not benchmark.is_file():
        return [
            *lines,
            f"Pending: run `python benchmarks/phosphosite_scan.py --json {benchmark.name}` into the runs folder.",
            "",
        ]
    b = json.loads(benchmark.read_text())
    forward_ratio = b["scan_sites_per_s"] / b["forward_only_windows_per_s"]
    return [
        *lines,
        f"`benchmarks/phosphosite_scan.py` ({b['date']}, {b['threads']} torch thread(s), batch {b['batch_size']}, "
        f"load average {b['load_average'][0]:.1f} on the shared 2-core machine): {b['proteins']:,} real proteins "
        f"({b['num_residues']:,} residues), `phosphosite-vgg-w33` with random weights.",
        "",
        "| measure | value | goal |",
        "|---|---|---|",
        f"| S/T sites scored | {b['sites']:,} | |",
        f"| scan time (after start-up) | {b['scan_s']:.0f} s ({b['wall_s']:.0f} s with imports) | <= 180 s |",
        f"| scan throughput | {b['scan_sites_per_s']:,.0f} sites/s | |",
        f"| forward-only limit (pre-cut windows) | {b['forward_only_windows_per_s']:,.0f} windows/s | |",
        f"| scan / forward-only | {forward_ratio:.2f}x | >= 0.8x |",
        f"| pipeline called once per protein | {b['per_protein_sites_per_s']:,.0f} sites/s "
        f"({b['scan_sites_per_s'] / b['per_protein_sites_per_s']:.1f}x slower than the scan) | |",
        f"| peak RSS of the scan process | {b['peak_rss_gb']:.2f} GB | < 2 GB |",
        f"| max difference to one-window-at-a-time inference | {b['max_abs_difference_vs_single_windows']:.1e} "
        "(the TSV's 6-decimal rounding; in memory ~1e-7, float32) | |",
        "",
    ]


def write_page(results: dict, ablation: dict, path: Path, tiny: bool, benchmark: Path) -> None:
    """docs/results/phosphosite.md from the finished rows (pending rows are marked)."""
    splits = SPLITS
    plot = plot_accuracy(results, path.with_name(path.stem + "_accuracy.png"))
    done = len(results)
    total = len(ROWS) * len(splits)
    lines = [
        "# Phosphorylation sites: reproduction of Nguyen (seed 000), Tables 1 and 2",
        "",
        "_Written by `scripts/reproduce_phosphosite.py` from the per-row results in `runs/phosphosite/results/`; "
        "re-run it to fill in pending rows (finished rows are skipped)._",
        "",
    ]
    if tiny:
        lines += [
            "**TINY SMOKE-TEST RUN (`--tiny`: 256 training windows, 1 epoch): the numbers below are meaningless.**",
            "",
        ]
    lines += [
        f"Rows finished: {done} of {total} ({len(ROWS)} table rows x {len(splits)} split schemes): "
        + ", ".join(
            f"{sum(1 for s, _ in results if s == split)} on the {split.replace('_', ' ')} split" for split in splits
        )
        + ". The paper's tables are on the random window split; the protein split is ours, run first for the "
        "Y VGG rows and for every model at L = 33 without DA (its other cells are pending). Accuracy and F1 "
        "(positive class) in %, on the test split (20 % of the windows), threshold 0.5; ROC-AUC and MCC as fractions.",
        "",
        "## Summary",
        "",
        "| | paper (Phospho.ELM) | ours, random window split | ours, protein split | best floor (random / protein) |",
        "|---|---|---|---|---|",
        f"| S/T best accuracy | 79.43 % (VGG L = 51, DA) | {_best('ST', 'random_window', results)} | "
        f"{_best('ST', 'protein', results)} | 69.32 % / 68.54 % (MLP on one-hot) |",
        f"| Y best accuracy | 68.69 % (CNN-LSTM L = 51, DA) | {_best('Y', 'random_window', results)} | "
        f"{_best('Y', 'protein', results)} | 61.78 % / 63.14 % (MLP on one-hot) |",
        "",
        f"![Test accuracy per window, ours against the paper and the floor]({plot.name})",
        "",
        "Solid lines: ours without DA, dashed: with DA; dotted squares: the paper (no DA, another data set); "
        "dash-dot: the MLP floor on the same windows and split.",
        "",
        "## Table 1: S/T sites",
        "",
        *_table("ST", results, splits),
        "",
        "## Table 2: Y sites",
        "",
        *_table("Y", results, splits),
        "",
        "## Floors (`../shared/docs/baselines.md`, section 1; same files, same windows, same splits, seed 0)",
        "",
        *_floor_lines(splits),
        "",
        "Against the floor, window by window: of our finished rows, the one with the best validation accuracy, "
        "on the test split (one seed, so margins below about 0.5 (S/T) / 1 (Y) accuracy points are noise):",
        "",
        *_margin_lines(results),
        "",
        *_ablation_lines(ablation, results),
        "## How these numbers were made",
        "",
        "- Command: `OMP_NUM_THREADS=1 python scripts/reproduce_phosphosite.py` (one process, CPU); each row is "
        "`python train.py --config configs/phosphosite/<row>.yaml --dataset_config_kwargs '{split_scheme: ...}'`, "
        "then the saved model is evaluated on the test split by the script (`phosphosite_metrics.site_metrics`, the "
        "same window engine as the `phosphosite-prediction` pipeline).",
        "- Data: `proteinhub.load_dataset('phosphosite', '<ST|Y>_w<L>')`: PhosphoLingo "
        "(`jasperzuallaert/PhosphoLingo` @ `77179695`) `multisource_from_deeppsp/{ST,Y}/{valid,test}.fasta` pooled; "
        "all positives plus an equal number of negatives (`default_rng(0)`), 59,522 S/T and 11,376 Y windows; "
        "split 0.64/0.16/0.2 by window (the paper's scheme; windows of one protein in several splits) or by protein "
        "(no protein in two splits). These are exactly the window sets and splits of `baselines.md` section 1.",
        "- Recipe (paper section 4.1): Adam (epsilon 1e-7 as Keras), lr 1e-3 with cosine decay to 1e-8 over all "
        "epochs, BCE on one logit, 60 epochs (S/T) / 100 (Y), early stopping on the validation loss with patience 20 "
        "and the best model restored, batch size 32 (not stated in the paper; Keras' default). DA rows add uniform "
        "noise in [-0.1, 0.1] to the one-hot input and train on soft labels (y=0 -> p, y=1 -> 1-p, p ~ U(0, 0.4)); "
        "the validation loss uses the hard labels.",
        "",
        "## Data differences from the paper (read before comparing)",
        "",
        "- **Source.** The paper collected human sites from Phospho.ELM (39,492 S/T and 3,369 Y positive sequences, "
        "negatives drawn from the other S/T/Y of the same proteins). Phospho.ELM is not available offline here; we "
        "use the PhosphoLingo multisource-from-DeepPSP valid+test files (29,761 S/T and 5,688 Y positives), whose "
        "negatives are the residues annotated `@` by that dataset. The S/T set is 25 % smaller than the paper's, the "
        "Y set 69 % larger. The builder also reads Phospho.ELM dumps (`data_files=...`, `species='Homo sapiens'`) "
        "for anyone who has one.",
        "- **Difficulty.** The positives come from several sources, many from high-throughput mass spectrometry; the "
        "simple floors (logistic regression / MLP on one-hot windows) reach 68-69 % (S/T) and 62-63 % (Y) here. "
        "Accuracy differences to the paper mix the model with the data set and cannot be read as a replication gap "
        "alone.",
        "- **Split.** The paper's random split puts windows of one protein into train and test; the protein split "
        "does not. Both are reported; the protein split is the honest estimate for unseen proteins.",
        "- **Single seed.** One run per row (seed 0); `baselines.md` measures a seed-to-seed spread of about 0.5 "
        "(S/T) to 1 (Y) accuracy points for the simple models, so differences below that are noise.",
        "",
        *_scan_lines(benchmark),
        "## Runs",
        "",
        *_run_lines(results),
        "",
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))


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
    if path.is_file() and json.loads(path.read_text())["tiny"] == args.tiny and not args.force:
        print(f"[skip] {split} {name}: result exists", flush=True)
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
