"""Reproduce seed 003 (CNN + BiLSTM subcellular localization) on MultiLoc and DeepLoc 1.0; write
docs/results/localization.md.

Each row trains `train.py` from its config `configs/localization/<row>.yaml` exactly as `train.py --config` would
(the configs say `batching: length_buckets`, the seed's batches: sorted by length, batched, batch order shuffled every
epoch), then evaluates the kept checkpoint on the row's test splits and leaves its record
`docs/results/localization/rows/<row>.json` (committed: accuracy, macro-F1, MCC, per-class precision/recall, confusion
matrices, learning curve, split sizes, batching, timings) plus a labelled confusion-matrix PNG per test split and a
learning-curve PNG. Rows with a record are skipped, so the script resumes where it stopped; `--page-only` rebuilds the
page from the records alone.
The page also re-measures the logistic-regression floors of `../shared/docs/baselines.md` section 3 on exactly the
splits used here (seconds).

Rows (state which data trained what):

| row | trains on | tests on |
|---|---|---|
| `multiloc` | MultiLoc 10 classes, stratified 80 % (minus 10 % validation) | MultiLoc stratified 20 % |
| `multiloc_100epochs` | the same, 100 epochs, checkpoint of best validation accuracy | the same |
| `multiloc_medium` | the same, medium network (72k parameters), 40 epochs | the same |
| `deeploc` | DeepLoc Light-Attention validation file (1,678) | DeepLoc test (2,768), setHARD (490) |
| `deeploc_membrane` | the same file, proteins flagged M or S (1,021) | DeepLoc test, M or S (1,746) |
| `multiloc_deeploc` | MultiLoc minus proteins in any DeepLoc file, + the validation file | DeepLoc test, setHARD |
| `*_max` | as the row without `_max`, with `pooling: final_max` (final states + max of the BiLSTM outputs) | same |

    OMP_NUM_THREADS=1 python scripts/reproduce_localization.py      # all rows, ~1 h on a CPU
    python scripts/reproduce_localization.py --rows multiloc deeploc                   # a subset
    python scripts/reproduce_localization.py --page-only                               # rebuild the page
    python scripts/reproduce_localization.py --tiny --runs-dir /tmp/tiny               # CI smoke test (seconds)
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from reproduction import (
    DATA_DIR,
    REPO,
    classification_report,
    epoch_log,
    finished,
    learning_curves,
    load_model,
    load_records,
    predict_logits,
    read_json,
    render_page,
    write_json,
)

CONFIG_DIR = REPO / "configs" / "localization"
DEFAULT_RUNS_DIR = REPO / "runs" / "localization"
TINY_RUNS_DIR = REPO / "runs" / "localization-tiny"  # never mixed with the real results
RESULTS_DIR = REPO / "docs" / "results"
PAGE = RESULTS_DIR / "localization.md"
RECORDS_DIR = RESULTS_DIR / "localization" / "rows"  # one JSON per finished row, committed with the page
MULTILOC_DIR = DATA_DIR / "localization_multiloc"
DEEPLOC_DIR = DATA_DIR / "localization_deeploc1"
DERIVED_TRAIN = "data/multiloc_deeploc_train.fasta"  # under the runs dir, named in configs/localization/*.yaml
# `batching` of train.py, as each row's section names it
BATCHING = {
    "length_buckets": "the seed's length buckets (`batching: length_buckets`)",
    "group_by_length": "transformers' length-grouped megabatches (`batching: group_by_length`)",
    "random": "shuffled proteins (`batching: random`)",
}
TINY_ARGUMENTS = ["--max_train_samples", "48", "--max_eval_samples", "48", "--num_train_epochs", "2"]


@dataclass(frozen=True)
class Row:
    """One reproduction run: its config, the extra test splits (split -> DeepLoc file) and what it is compared with."""

    name: str
    title: str
    trained_on: str
    extra_tests: dict[str, str] = field(default_factory=dict)
    # trains on MultiLoc (minus DeepLoc's proteins) + the DeepLoc validation file, written by the script
    derived_train: bool = False


ROWS = {
    row.name: row
    for row in (
        Row("multiloc", "MultiLoc, 10 classes", "MultiLoc, stratified 80 %"),
        Row(
            "multiloc_100epochs",
            "MultiLoc, 10 classes, 100 epochs, best validation accuracy",
            "MultiLoc, stratified 80 %",
        ),
        Row("multiloc_medium", "MultiLoc, 10 classes, medium network (72k parameters)", "MultiLoc, stratified 80 %"),
        Row(
            "deeploc",
            "DeepLoc 1.0, 10 classes",
            "the DeepLoc validation file",
            {"test_hard": "setHARD.fasta"},
        ),
        Row(
            "deeploc_membrane",
            "DeepLoc 1.0, membrane vs soluble",
            "the DeepLoc validation file, proteins flagged M or S",
        ),
        Row("multiloc_max", "MultiLoc, 10 classes, final + max pooling", "MultiLoc, stratified 80 %"),
        Row(
            "multiloc_medium_max",
            "MultiLoc, 10 classes, medium network, final + max pooling",
            "MultiLoc, stratified 80 %",
        ),
        Row(
            "multiloc_medium_max_accuracy",
            "MultiLoc, 10 classes, medium network, final + max pooling, 60 epochs, best validation accuracy",
            "MultiLoc, stratified 80 %",
        ),
        Row(
            "multiloc_large_max",
            "MultiLoc, 10 classes, large network, final + max pooling",
            "MultiLoc, stratified 80 %",
        ),
        Row(
            "deeploc_max",
            "DeepLoc 1.0, 10 classes, final + max pooling",
            "the DeepLoc validation file",
            {"test_hard": "setHARD.fasta"},
        ),
        Row(
            "deeploc_membrane_max",
            "DeepLoc 1.0, membrane vs soluble, final + max pooling",
            "the DeepLoc validation file, proteins flagged M or S",
        ),
        Row(
            "multiloc_deeploc",
            "DeepLoc 1.0, 10 classes",
            "MultiLoc (overlap with DeepLoc removed) + the DeepLoc validation file",
            {"test_hard": "setHARD.fasta"},
            derived_train=True,
        ),
        Row(
            "multiloc_deeploc_max",
            "DeepLoc 1.0, 10 classes, final + max pooling",
            "MultiLoc (overlap with DeepLoc removed) + the DeepLoc validation file",
            {"test_hard": "setHARD.fasta"},
            derived_train=True,
        ),
    )
}


# data


def write_multiloc_deeploc_train(path: Path) -> dict:
    """The `multiloc_deeploc` training file, in DeepLoc's header format: every MultiLoc protein whose accession
    (isoform suffix ignored) and sequence occur in none of DeepLoc's test, setHARD and validation files, then the
    validation file's proteins. Returns counts for the results page."""
    from proteinhub.dataset_scripts.subcellular_localization import (
        DEEPLOC_FILES,
        DEEPLOC_LOCATIONS,
        MULTILOC_FILES,
        read_deeploc,
        read_multiloc,
    )

    header_name = {ours: theirs for theirs, ours in reversed(DEEPLOC_LOCATIONS.items())}
    header_name["Lysosome"] = header_name["Vacuole"] = "Lysosome/Vacuole"
    flag = {"membrane": "M", "soluble": "S", "unknown": "U"}
    deeploc = {
        split: list(read_deeploc(DEEPLOC_DIR / DEEPLOC_FILES[split])) for split in ("validation", "test", "test_hard")
    }
    taken = [protein for proteins in deeploc.values() for protein in proteins]
    accessions = {protein.id.split("-")[0] for protein in taken}
    sequences = {protein.sequence for protein in taken}
    multiloc = [protein for stem in MULTILOC_FILES for protein in read_multiloc(MULTILOC_DIR / f"{stem}.fasta")]
    kept = [p for p in multiloc if p.id.split("-")[0] not in accessions and p.sequence not in sequences]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        for protein in [*kept, *deeploc["validation"]]:
            handle.write(
                f">{protein.id} {header_name[protein.location]}-{flag[protein.membrane]}\n{protein.sequence}\n"
            )
    return {
        "multiloc_total": len(multiloc),
        "multiloc_kept": len(kept),
        "deeploc_validation": len(deeploc["validation"]),
    }


def load_split(name: str, file_name: str, config_name: str, cache_dir: str | None):
    """One DeepLoc-format file as a split of the `subcellular_localization` builder."""
    from proteinhub import load_dataset

    return load_dataset(
        "subcellular_localization",
        config_name,
        data_files={name: str(DEEPLOC_DIR / file_name)},
        cache_dir=cache_dir,
        split=name,
    )


# evaluation


def evaluate(model, tokenizer, dataset, class_names: list[str], png: Path, title: str) -> dict:
    """Metrics, per-class precision/recall, confusion matrix (+ its PNG) of `model` on a labelled dataset."""
    from proteinhub.training import plots

    report = classification_report(
        dataset["label"], predict_logits(model, tokenizer, list(dataset["sequence"])), class_names
    )
    plots.plot_confusion_matrix(np.asarray(report["confusion_matrix"]), class_names, png, title)
    return {**report, "num_proteins": len(dataset), "confusion_matrix_png": png.name}


def confusion_title(title: str, split: str, num_proteins: int, trained_on: str, num_classes: int) -> str:
    """Figure title: the task, the split and its size, then the training data; wrapped to the figure's width
    (`plots.plot_confusion_matrix` sizes the figure by the number of classes)."""
    width = 70 if num_classes >= 6 else 40
    lines = [f"{title}: {split} ({num_proteins:,} proteins)", f"trained on {trained_on}"]
    return "\n".join(textwrap.fill(line, width) for line in lines)


def epoch_history(log_history: list[dict]) -> list[dict]:
    """One entry per epoch: training loss, validation loss, accuracy and macro-F1."""
    epochs: dict[float, dict] = {}
    for entry in log_history:
        if "epoch" not in entry:
            continue
        row = epochs.setdefault(round(entry["epoch"]), {"epoch": round(entry["epoch"])})
        for key, name in (
            ("loss", "train_loss"),
            ("eval_loss", "validation_loss"),
            ("eval_accuracy", "validation_accuracy"),
            ("eval_f1_macro", "validation_f1_macro"),
        ):
            if key in entry:
                row[name] = entry[key]
    return [epochs[key] for key in sorted(epochs) if "validation_loss" in epochs[key]]


def history_log(history: list[dict]) -> list[dict]:
    """`epoch_history` back in `trainer.state.log_history`'s form, for `training.plots.plot_learning_curves`."""
    names = {"train_loss": "loss", "validation_loss": "eval_loss", "validation_accuracy": "eval_accuracy"}
    names["validation_f1_macro"] = "eval_f1_macro"
    return [{"epoch": row["epoch"], names[key]: value} for row in history for key, value in row.items() if key in names]


# runs


def run_row(row: Row, runs_dir: Path, records_dir: Path, tiny: bool, cache_dir: str | None) -> dict:
    """Train and evaluate one row; returns its result record (also written to `<records_dir>/<row>.json`)."""
    from proteinhub import training

    derived = None
    if row.derived_train:
        derived = write_multiloc_deeploc_train(runs_dir / DERIVED_TRAIN)
    output_dir = runs_dir / row.name
    arguments = ["--config", str(CONFIG_DIR / f"{row.name}.yaml"), "--output_dir", str(output_dir)]
    if row.derived_train:
        derived_path = runs_dir / DERIVED_TRAIN
        arguments += ["--data_files", json.dumps({"train": str(derived_path)})]  # test: the config's deeploc_files
    if cache_dir:
        arguments += ["--cache_dir", cache_dir]
    if tiny:
        arguments += TINY_ARGUMENTS
    model_args, data_args, loss_args, training_args, values = training.parse_arguments(arguments)
    started = time.perf_counter()
    metrics = training.run(model_args, data_args, loss_args, training_args, values)
    seconds = time.perf_counter() - started

    model, tokenizer = load_model(output_dir)
    class_names = [model.config.id2label[i] for i in range(model.config.num_labels)]
    sizes = metrics["run"]["split_sizes"]
    trained_on = f"{row.trained_on} ({sizes['train']:,} train + {sizes['validation']:,} validation)"
    evaluations = {}
    tests = {"test": None, **row.extra_tests}
    for split, file_name in tests.items():
        if file_name is None:
            dataset = training.load_splits(data_args, training_args.seed)["test"]
        else:
            dataset = load_split(split, file_name, data_args.dataset_config_name, cache_dir)
            if tiny:
                dataset = dataset.select(range(min(48, len(dataset))))
        png = output_dir / f"confusion_matrix_{split}.png"
        title = confusion_title(row.title, split, len(dataset), trained_on, len(class_names))
        evaluations[split] = evaluate(model, tokenizer, dataset, class_names, png, title)

    history = epoch_history(epoch_log(output_dir))
    best_epoch = metrics["train"]["best_checkpoint_epoch"]
    record = {
        "row": row.name,
        "tiny": tiny,
        "title": row.title,
        "trained_on": trained_on,
        "command": f"python scripts/reproduce_localization.py --rows {row.name}" + (" --tiny" if tiny else ""),
        "config": f"configs/localization/{row.name}.yaml",
        "arguments": " ".join(shlex.quote(a) for a in arguments),
        "split_sizes": metrics["run"]["split_sizes"],
        "derived_training_file": derived,
        "class_names": class_names,
        "num_parameters": metrics["run"]["num_parameters"],
        "batching": metrics["run"]["batching"],
        "global_batch_size": metrics["run"]["global_batch_size"],
        "validation": {k: metrics["validation"][k] for k in ("loss", "accuracy", "f1_macro", "mcc")},
        "tests": evaluations,
        "epochs_run": metrics["train"]["epochs"],
        "best_epoch": best_epoch,
        "selected_on": metrics["run"]["metric_for_best_model"],
        "history": history,
        "train_seconds": metrics["run"]["train_time_s"],
        "total_seconds": seconds,
        "device": metrics["run"]["device"],
        "threads": torch.get_num_threads(),
        "versions": metrics["run"]["versions"],
    }
    write_json(records_dir / f"{row.name}.json", record)
    return record


# floors


def logistic_floor(train_x, train_y, tests: dict[str, tuple], columns: slice) -> dict:
    """baselines.md section 3: StandardScaler + multinomial LR, C by 5-fold stratified CV accuracy on train."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    search = GridSearchCV(
        make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000)),
        {"logisticregression__C": [0.001, 0.01, 0.1, 1.0]},
        cv=StratifiedKFold(5, shuffle=True, random_state=0),
        scoring="accuracy",
    )
    search.fit(train_x[:, columns], train_y)
    result = {"C": search.best_params_["logisticregression__C"]}
    for name, (x, y) in tests.items():
        predicted = search.predict(x[:, columns])
        result[name] = {"accuracy": accuracy_score(y, predicted), "f1_macro": f1_score(y, predicted, average="macro")}
    return result


def measure_floors(runs_dir: Path, cache_dir: str | None) -> dict:
    """LR floors on the splits of this page: MultiLoc (train + validation -> test), DeepLoc val -> test / setHARD,
    membrane vs soluble (val -> test), and MultiLoc + DeepLoc val (the `multiloc_deeploc` rows' training file) ->
    DeepLoc test / setHARD."""
    from floors import composition_features
    from proteinhub import load_dataset

    floors = {}
    multiloc = load_dataset("subcellular_localization", "multiloc", data_dir=MULTILOC_DIR, cache_dir=cache_dir)
    train_rows = [*multiloc["train"], *multiloc["validation"]]
    x = composition_features([r["sequence"] for r in train_rows])
    y = np.array([r["label"] for r in train_rows])
    test = (composition_features(list(multiloc["test"]["sequence"])), np.asarray(multiloc["test"]["label"]))
    floors["multiloc"] = {
        "comp": logistic_floor(x, y, {"test": test}, slice(0, 20)),
        "comp+dipep": logistic_floor(x, y, {"test": test}, slice(0, 420)),
    }
    derived = runs_dir / DERIVED_TRAIN
    write_multiloc_deeploc_train(derived)
    for task, config, train_file in (
        ("deeploc", "deeploc", DEEPLOC_DIR / "deeploc_our_val_set.fasta"),
        ("deeploc_membrane", "deeploc_membrane", DEEPLOC_DIR / "deeploc_our_val_set.fasta"),
        ("multiloc_deeploc", "deeploc", derived),
    ):
        files = {"train": train_file, "test": DEEPLOC_DIR / "deeploc_test_set.fasta"}
        if config == "deeploc":
            files["test_hard"] = DEEPLOC_DIR / "setHARD.fasta"
        data = load_dataset(
            "subcellular_localization",
            config,
            data_files={split: str(path) for split, path in files.items()},
            cache_dir=cache_dir,
        )
        splits = {name: (composition_features(list(d["sequence"])), np.asarray(d["label"])) for name, d in data.items()}
        train_x, train_y = splits.pop("train")
        floors[task] = {
            "comp": logistic_floor(train_x, train_y, splits, slice(0, 20)),
            "comp+dipep": logistic_floor(train_x, train_y, splits, slice(0, 420)),
        }
    return floors


# page

# the summary table: (row, test split, tested on, the paper's figure, the floor's task)
SUMMARY = [
    *[
        (name, "test", "MultiLoc 20 % (1,192)", "80-85 % (seed 003)", "multiloc")
        for name in (
            "multiloc",
            "multiloc_100epochs",
            "multiloc_medium",
            "multiloc_max",
            "multiloc_medium_max",
            "multiloc_medium_max_accuracy",
            "multiloc_large_max",
        )
    ],
    ("deeploc", "test", "DeepLoc test (2,768)", "78 % (DeepLoc, full training set)", "deeploc"),
    ("deeploc", "test_hard", "setHARD (490)", "-", "deeploc"),
    ("deeploc_max", "test", "DeepLoc test (2,768)", "78 % (DeepLoc, full training set)", "deeploc"),
    ("deeploc_max", "test_hard", "setHARD (490)", "-", "deeploc"),
    ("multiloc_deeploc", "test", "DeepLoc test (2,768)", "78 % (DeepLoc, full training set)", "multiloc_deeploc"),
    ("multiloc_deeploc", "test_hard", "setHARD (490)", "-", "multiloc_deeploc"),
    ("multiloc_deeploc_max", "test", "DeepLoc test (2,768)", "78 % (DeepLoc, full training set)", "multiloc_deeploc"),
    ("multiloc_deeploc_max", "test_hard", "setHARD (490)", "-", "multiloc_deeploc"),
    ("deeploc_membrane", "test", "DeepLoc test, M/S (1,746)", "92 % (DeepLoc, full training set)", "deeploc_membrane"),
    (
        "deeploc_membrane_max",
        "test",
        "DeepLoc test, M/S (1,746)",
        "92 % (DeepLoc, full training set)",
        "deeploc_membrane",
    ),
]
BENCHMARK_ROWS = (
    ("random", "random (Trainer default)"),
    ("group_by_length", "transformers `group_by_length`"),
    ("bucketed", "seed 003 bucketing (`LengthBucketedSampler`)"),
)


def draw_figures(results: dict[str, dict], figures_dir: Path, link: str) -> None:
    """The confusion matrices and learning curves of every finished row, drawn again from the numbers in its record
    into `figures_dir`; each record's tests get a `figure` link and the record a `curves` list (relative to the
    page)."""
    from proteinhub.training import plots

    for name, record in results.items():
        for split, test in record["tests"].items():
            target = f"{name}_{test['confusion_matrix_png']}"
            title = confusion_title(
                record["title"], split, test["num_proteins"], record["trained_on"], len(record["class_names"])
            )
            plots.plot_confusion_matrix(
                np.asarray(test["confusion_matrix"]), record["class_names"], figures_dir / target, title
            )
            test["figure"] = f"{link}/{target}"
        # the kept checkpoint is starred: the best epoch of the metric the row selected on
        selected_on = record.get("selected_on", "loss")
        curves = learning_curves(
            history_log(record["history"]),
            figures_dir,
            name,
            selected_on,
            greater_is_better=selected_on != "loss",
        )
        record["curves"] = [f"{link}/{path.name}" for path in curves]


def write_page(records_dir: Path, page: Path, floors: dict, benchmark: dict | None, figures_dir: Path) -> str:
    """docs/results/localization.md from the finished rows, with their figures drawn again (from the numbers in the
    row records) into `figures_dir`."""
    results = load_records(records_dir, list(ROWS))
    figures_dir.mkdir(parents=True, exist_ok=True)
    draw_figures(results, figures_dir, figures_dir.relative_to(page.parent).as_posix())

    def test_metrics(name: str, split: str) -> dict | None:
        record = results.get(name)
        return None if record is None or split not in record["tests"] else record["tests"][split]

    def floor_accuracies(task: str, split: str) -> dict | None:
        if task not in floors:
            return None
        return {kind: floors[task][kind][split]["accuracy"] for kind in ("comp", "comp+dipep")}

    summary = [
        {
            "title": ROWS[name].title,
            "trained_on": results[name]["trained_on"] if name in results else ROWS[name].trained_on,
            "tested": tested,
            "paper": paper,
            "test": test_metrics(name, split),
            "batching": results[name].get("batching") if name in results else None,
            "floor": floor_accuracies(floor_task, split),
        }
        for name, split, tested, paper, floor_task in SUMMARY
    ]
    below = [
        name
        for name, split, _, _, floor_task in SUMMARY
        if split == "test"
        and name in results
        and floor_task in floors
        and test_metrics(name, "test")["accuracy"] < max(floor_accuracies(floor_task, "test").values())
    ]
    multiloc_rows = [
        name for name in ROWS if name.startswith("multiloc") and not ROWS[name].derived_train and name in results
    ]
    best_multiloc = None
    if multiloc_rows:
        best = max(multiloc_rows, key=lambda name: test_metrics(name, "test")["accuracy"])
        best_multiloc = {"name": best, "accuracy": test_metrics(best, "test")["accuracy"]}
    return render_page(
        "localization.md.jinja",
        page,
        rows_finished=len(results),
        rows_total=len(ROWS),
        missing=[name for name in ROWS if name not in results],
        tiny=any(record.get("tiny") for record in results.values()),
        summary=summary,
        below=below,
        below_max=[name for name in below if name.endswith("_max")],
        best_multiloc=best_multiloc,
        rows=[{"selected_on": "loss", **record} for record in results.values()],
        benchmark=[(label, benchmark[strategy]) for strategy, label in BENCHMARK_ROWS] if benchmark else None,
        batching=BATCHING,
    )


# entry point


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", nargs="+", choices=list(ROWS), default=list(ROWS), help="rows to run")
    parser.add_argument("--runs-dir", type=Path, default=None, help="run folders (model, checkpoints)")
    parser.add_argument(
        "--records-dir",
        type=Path,
        default=None,
        help=f"per-row JSON records (default: {RECORDS_DIR.relative_to(REPO)})",
    )
    parser.add_argument("--page", type=Path, default=None, help="results page to write")
    parser.add_argument("--tiny", action="store_true", help="a few proteins and 2 epochs per row (CI smoke test)")
    parser.add_argument("--force", action="store_true", help="re-run rows that already have a result")
    parser.add_argument("--page-only", action="store_true", help="only rebuild the page from finished rows")
    parser.add_argument("--no-floors", action="store_true", help="skip re-measuring the LR floors on the page")
    parser.add_argument("--benchmark", type=Path, default=None, help="JSON of benchmarks/length_bucketing.py")
    parser.add_argument("--cache-dir", default=None, help="datasets cache folder")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    runs_dir = args.runs_dir or (TINY_RUNS_DIR if args.tiny else DEFAULT_RUNS_DIR)
    page = args.page or (runs_dir / "localization.md" if args.tiny else PAGE)
    records_dir = args.records_dir or (runs_dir / "results" if args.tiny else RECORDS_DIR)

    if not args.page_only:
        for name in args.rows:
            if finished(records_dir / f"{name}.json", name, force=args.force):
                continue
            print(f"{name}: training", flush=True)
            record = run_row(ROWS[name], runs_dir, records_dir, args.tiny, args.cache_dir)
            accuracy = ", ".join(f"{s} {t['accuracy']:.4f}" for s, t in record["tests"].items())
            print(f"{name}: accuracy {accuracy} ({record['total_seconds'] / 60:.1f} min)", flush=True)
    floors_file = records_dir / "floors.json"
    if args.no_floors:
        floors = {}
    elif floors_file.is_file():
        floors = read_json(floors_file)
    else:
        floors = measure_floors(runs_dir, args.cache_dir)
        write_json(floors_file, floors)
    benchmark_file = args.benchmark or records_dir / "length_bucketing.json"
    benchmark = read_json(benchmark_file) if benchmark_file.is_file() else None
    figures_dir = page.parent / "localization"
    write_page(records_dir, page, floors, benchmark, figures_dir)
    print(f"wrote {page}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
