"""Reproduce seed 001 (Sommer et al., GRU vs LSTM encoders for 3-state secondary structure) at CPU size; write
docs/results/secondary_structure.md.

Each run trains `train.py` from `configs/secondary_structure/<run>.yaml` on FLIP/NetSurfP-2.0 train (model selection
on FLIP validation), then evaluates the kept checkpoint on CB513 and FLIP validation: Q3 over every scored residue,
the per-protein mean Q3, per-class precision/recall/F1 and the confusion matrix (+ PNG). The autoregressive run is
also decoded fully autoregressively (block size 1) and, as an oracle, teacher-forced with the true labels. Results go
to `<runs-dir>/results/<run>.json`; runs with a JSON are skipped, so the script resumes where it stopped, and
`--page-only` rebuilds the page from the finished runs (and from `benchmarks/gru_vs_lstm.py`'s JSON if present).

    OMP_NUM_THREADS=1 python scripts/reproduce_secondary_structure.py          # all runs
    python scripts/reproduce_secondary_structure.py --only bigru-cnn-cpu                        # one run
    python scripts/reproduce_secondary_structure.py --page-only                                 # rebuild the page
    python scripts/reproduce_secondary_structure.py --tiny --runs-dir /tmp/ss-tiny              # CI smoke test
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import yaml
from reproduction import (
    DATA_DIR,
    REPO,
    epoch_log,
    finished,
    load_model,
    load_records,
    predict_logits,
    read_json,
    render_page,
    write_json,
)

CONFIG_DIR = REPO / "configs" / "secondary_structure"
DEFAULT_RUNS_DIR = REPO / "runs" / "secondary_structure"
RESULTS_DIR = REPO / "docs" / "results"
PAGE = RESULTS_DIR / "secondary_structure.md"
FLIP_ZIP = DATA_DIR / "secondary_structure_flip_netsurfp2" / "splits.zip"
CB513_CSV = DATA_DIR / "secondary_structure_tape_cb513" / "secondary_structure.test.csv"
BENCHMARK_JSON = "gru_vs_lstm.json"  # written by benchmarks/gru_vs_lstm.py into the same runs dir
LABELS = ("H", "E", "C")

# the paper and the other references the page compares with (Q3 on CB513, in %)
PAPER_ROWS = {
    "UniLSTM/CNN": 67.81,
    "BiLSTM/CNN": 70.63,
    "UniGRU/CNN": 67.62,
    "BiGRU/CNN": 70.68,
}
PAPER_PARAMETERS = {"UniLSTM/CNN": 44.6, "BiLSTM/CNN": 69.3, "UniGRU/CNN": 39.2, "BiGRU/CNN": 54.3}  # millions
GOAL_Q3 = 68.0  # the goal for the CPU-sized presets, % on CB513
FLOORS = {"LR on one-hot ±7 window": 62.81, "per-amino-acid majority": 48.51}  # ../shared/docs/baselines.md sec. 2


@dataclass(frozen=True)
class Run:
    """One reproduction run: its config (`configs/secondary_structure/<name>.yaml`) and how it is reported."""

    name: str
    title: str
    paper_row: str | None
    autoregressive: bool = False


RUNS = {
    run.name: run
    for run in (
        Run("bigru-cnn-cpu", "BiGRU/CNN (CPU size)", "BiGRU/CNN"),
        Run("bilstm-cnn-cpu", "BiLSTM/CNN (CPU size)", "BiLSTM/CNN"),
        Run("bigru-ar-cpu", "BiGRU/autoregressive (CPU size)", None, autoregressive=True),
        Run(
            "bigru-ar-labeldrop-cpu",
            "BiGRU/autoregressive, label dropout 0.5 (CPU size, not in the paper)",
            None,
            autoregressive=True,
        ),
    )
}

# --tiny: a few real proteins, one epoch of a very small model (CI checks the plumbing, not the numbers)
TINY_TRAIN, TINY_VALIDATION, TINY_TEST = 48, 16, 16
TINY_MODEL = {"rnn_hidden_size": 8, "num_rnn_layers": 1, "hidden_size": 16, "classifier_hidden_size": 8}
TINY_AR = {"autoregressive_hidden_size": 8, "autoregressive_num_layers": 1}


# data


def tiny_data(runs_dir: Path) -> dict[str, str]:
    """A small FLIP zip (the first proteins of each split) and a CB513 head, written under `runs_dir/data`."""
    from proteinhub.dataset_scripts.formats import header_field

    folder = runs_dir / "data"
    folder.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(FLIP_ZIP) as archive:
        members = {name: archive.read(name).decode().splitlines() for name in archive.namelist() if name[-1] != "/"}
    records = {name: [lines[i : i + 2] for i in range(0, len(lines), 2)] for name, lines in members.items()}
    quota = {("train", "False"): TINY_TRAIN, ("train", "True"): TINY_VALIDATION, ("test", "False"): TINY_TEST}
    keep = []
    for index, (header, _) in enumerate(records["splits/sampled.fasta"]):
        key = (header_field(header, "SET"), header_field(header, "VALIDATION"))
        if quota.get(key, 0) > 0:
            quota[key] -= 1
            keep.append(index)
    tiny_zip = folder / "splits.zip"
    with zipfile.ZipFile(tiny_zip, "w") as archive:
        for name, pairs in records.items():
            archive.writestr(name, "".join(f"{pairs[i][0]}\n{pairs[i][1]}\n" for i in keep))
    tiny_csv = folder / "cb513_head.csv"
    tiny_csv.write_text("\n".join(CB513_CSV.read_text().splitlines()[: TINY_TEST + 1]) + "\n")
    return {"train": str(tiny_zip), "validation": str(tiny_zip), "test": str(tiny_csv)}


def load_split(split: str, data_files: dict[str, str]):
    import proteinhub

    return proteinhub.load_dataset("secondary_structure", data_files={split: data_files[split]}, split=split)


# evaluation


def predict(model, sequences: list[str], batch_size: int = 32, mode: str = "decode", labels=None) -> list[np.ndarray]:
    """Per-protein (length, 3) logits at the residues. `mode="teacher_forced"` feeds an autoregressive head the true
    labels of the preceding residues (an oracle, not a prediction)."""
    from proteinhub.tokenization import ProteinTokenizer

    tokenizer = ProteinTokenizer(**model.config.tokenizer_kwargs)
    forward = None
    if mode == "teacher_forced":
        leading = tokenizer.num_leading_special_tokens

        def forward(encoding, indices: list[int]) -> torch.Tensor:
            return _teacher_forced_logits(model, encoding, [labels[i] for i in indices], leading)

    return predict_logits(model, tokenizer, list(sequences), level="residue", batch_size=batch_size, forward=forward)


def _teacher_forced_logits(model, encoding, labels: list[list[int]], leading: int) -> torch.Tensor:
    from proteinhub.evaluation.metrics import IGNORE_INDEX

    token_labels = torch.full(encoding["input_ids"].shape, IGNORE_INDEX, dtype=torch.long)
    for row, residue_labels in enumerate(labels):
        token_labels[row, leading : leading + len(residue_labels)] = torch.tensor(residue_labels)
    hidden = model.encoder(input_ids=encoding["input_ids"], attention_mask=encoding["attention_mask"]).last_hidden_state
    mask = encoding["attention_mask"].bool()
    features = model.classifier_norm(hidden.transpose(1, 2), mask).masked_fill(~mask[:, None, :], 0.0)
    head = model.classifier
    return head.decode_pass(head.condition(features, mask), token_labels)


def evaluate(model, split, **predict_kwargs) -> dict:
    """Q3 (the one implementation, `proteinhub.evaluation.metrics.q3_metrics`) and inference speed on `split`."""
    from proteinhub.evaluation.metrics import q3_metrics

    started = time.process_time()
    logits = predict(model, split["sequence"], labels=split["labels"], **predict_kwargs)
    cpu_seconds = time.process_time() - started
    metrics = q3_metrics(split["labels"], logits, LABELS)
    residues = sum(len(sequence) for sequence in split["sequence"])
    metrics["inference_residues_per_cpu_s"] = residues / max(cpu_seconds, 1e-9)
    return metrics


# runs


def run_one(run: Run, runs_dir: Path, tiny: bool) -> dict:
    """Train one run with train.py, evaluate its kept model, write `<runs_dir>/results/<run>.json`."""
    from proteinhub import training

    output_dir = runs_dir / run.name
    argv = ["--config", str(CONFIG_DIR / f"{run.name}.yaml"), "--output_dir", str(output_dir), "--disable_tqdm", "true"]
    data_files = None
    if tiny:
        data_files = tiny_data(runs_dir)
        configured = yaml.safe_load((CONFIG_DIR / f"{run.name}.yaml").read_text()).get("config_overrides") or {}
        overrides = {**configured, **TINY_MODEL, **(TINY_AR if run.autoregressive else {})}
        argv += ["--data_files", json.dumps(data_files), "--config_overrides", json.dumps(overrides)]
        argv += ["--num_train_epochs", "1", "--logging_steps", "1"]
    model_args, data_args, loss_args, training_args, values = training.parse_arguments(argv)
    # the configs read flip_cb513's own sources (FLIP's splits.zip, CB513); the evaluations below read the same files
    data_files = data_args.data_files or {"train": str(FLIP_ZIP), "validation": str(FLIP_ZIP), "test": str(CB513_CSV)}
    torch.set_num_threads(1)
    started = time.time()
    process_started = time.process_time()
    train_metrics = training.run(model_args, data_args, loss_args, training_args, values)
    train_cpu_seconds = time.process_time() - process_started

    model, _ = load_model(output_dir, "AutoModelForTokenClassification")
    splits = {"cb513": load_split("test", data_files), "flip_validation": load_split("validation", data_files)}
    train_split = load_split("train", data_files)
    train_residues = sum(len(sequence) for sequence in train_split["sequence"])
    epochs = float(train_metrics["train"]["epochs"])
    result = {
        "run": run.name,
        "config": str((CONFIG_DIR / f"{run.name}.yaml").relative_to(REPO)),
        "tiny": tiny,
        "model": train_metrics["run"]["model"],
        "num_parameters": train_metrics["run"]["num_parameters"],
        "config_fields": {k: getattr(model.config, k) for k in _ARCHITECTURE_FIELDS},
        "epochs": epochs,
        "best_epoch": train_metrics["train"]["best_checkpoint_epoch"],
        "train_wall_s": train_metrics["train"]["runtime_s"],
        "train_py_cpu_s": train_cpu_seconds,  # the whole train.py run: data, training, evaluations
        "train_residues_per_epoch": train_residues,
        # wall-clock throughput on a shared 2-core machine; CPU-time throughput is the stable figure
        "train_residues_per_s": train_residues * epochs / train_metrics["train"]["runtime_s"],
        "validation_log": [
            {"epoch": entry["epoch"], "accuracy": entry["eval_accuracy"], "loss": entry["eval_loss"]}
            for entry in epoch_log(output_dir)
            if "eval_accuracy" in entry
        ],
        "evaluations": {},
        "total_wall_s": None,
    }
    for name, split in splits.items():
        result["evaluations"][name] = evaluate(model, split)
    if run.autoregressive:
        block = model.config.autoregressive_block_size
        result["evaluations"]["cb513"]["block_size"] = block
        model.classifier.block_size = 1
        result["evaluations"]["cb513_block_1"] = evaluate(model, splits["cb513"])
        model.classifier.block_size = block
        result["evaluations"]["cb513_teacher_forced"] = evaluate(model, splits["cb513"], mode="teacher_forced")
    result["total_wall_s"] = time.time() - started
    write_json(runs_dir / "results" / f"{run.name}.json", result)
    if not training_args.keep_checkpoints:
        for checkpoint in output_dir.glob("checkpoint-*"):
            shutil.rmtree(checkpoint, ignore_errors=True)
    return result


_ARCHITECTURE_FIELDS = (
    "rnn_type",
    "bidirectional",
    "embedding_size",
    "rnn_hidden_size",
    "num_rnn_layers",
    "hidden_size",
    "classifier",
    "classifier_hidden_size",
    "autoregressive_hidden_size",
    "autoregressive_block_size",
    "autoregressive_label_dropout",
)


def plot_confusion(run: Run, result: dict, runs_dir: Path) -> Path:
    """The CB513 confusion matrix of a finished run, next to the page (tiny runs: under the runs dir)."""
    from proteinhub.training.plots import plot_confusion_matrix

    folder = runs_dir / "figures" if result["tiny"] else RESULTS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    cb513 = result["evaluations"]["cb513"]
    return plot_confusion_matrix(
        np.asarray(cb513["confusion_matrix"]),
        list(LABELS),
        folder / f"secondary_structure_{run.name}_cb513_confusion.png",
        f"{run.name}, CB513: Q3 {100 * cb513['q3']:.2f} %",
    )


def gru_vs_lstm_findings(bench: dict) -> dict:
    """What the GRU-vs-LSTM benchmark says about the paper's claim, from its JSON: GRU / LSTM speed ratios per
    hidden size, the mean best validation Q3 and its epoch per cell type, and the runs the paper's rule stopped."""

    def ratio(entry: dict, key: str) -> float:
        return entry["gru"][key] / entry["lstm"][key]

    curves = bench["curves"]

    def mean(rnn_type: str, key: str) -> float:
        values = [value[key] for name, value in curves.items() if name.startswith(f"{rnn_type}-")]
        return float(np.mean(values))

    return {
        "speed": [
            {
                "hidden": hidden,
                "train": ratio(entry, "train_residues_per_cpu_s"),
                "inference": ratio(entry, "inference_residues_per_cpu_s"),
            }
            for hidden, entry in bench["speed"].items()
        ],
        "gru_q3": mean("gru", "best_q3"),
        "gru_epoch": mean("gru", "best_epoch"),
        "lstm_q3": mean("lstm", "best_q3"),
        "lstm_epoch": mean("lstm", "best_epoch"),
        "epochs": bench["arguments"]["epochs"],
        "stopped": [name for name, value in curves.items() if value["stop_epoch"] is not None],
    }


def chunking_check(runs_dir: Path, run_name: str = "bigru-cnn-cpu") -> dict | None:
    """Q3 on CB513 through the `secondary-structure` pipeline, whole proteins vs overlapping chunks (how much the
    pipeline's chunking of long proteins costs); written to `<runs_dir>/results/chunking.json`."""
    import proteinhub.inference.pipelines  # noqa: F401  (registers the task)
    from proteinhub.evaluation.metrics import q3_metrics
    from transformers import pipeline

    path = runs_dir / "results" / "chunking.json"
    if path.is_file() or not (runs_dir / "results" / f"{run_name}.json").is_file():
        return None
    result = read_json(runs_dir / "results" / f"{run_name}.json")
    data_files = {"test": str(CB513_CSV) if not result["tiny"] else str(runs_dir / "data" / "cb513_head.csv")}
    split = load_split("test", data_files)
    model, tokenizer = load_model(runs_dir / run_name, "AutoModelForTokenClassification")
    predictor = pipeline("secondary-structure", model=model, tokenizer=tokenizer, device="cpu")
    rows = []
    for chunk_length in (None, 256, 128, 64):
        kwargs = {} if chunk_length is None else {"chunk_length": chunk_length}
        outputs = predictor(list(split["sequence"]), batch_size=8, **kwargs)
        logits = [np.log(np.asarray(output["probabilities"])) for output in outputs]
        metrics = q3_metrics(split["labels"], logits, LABELS)
        chunked = sum(len(output["chunks"]) > 1 for output in outputs)
        rows.append(
            {
                "chunk_length": chunk_length,
                "overlap": None if chunk_length is None else chunk_length // 4,
                "proteins_chunked": chunked,
                "q3": metrics["q3"],
                "q3_per_protein": metrics["q3_per_protein"],
            }
        )
    check = {"run": run_name, "rows": rows}
    write_json(path, check)
    return check


# page


def _shown(path: Path) -> str:
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)


def preset_table() -> list[dict]:
    """Table 1 parameter counts of the presets, counted on the meta device (no weights allocated)."""
    from proteinhub.modeling.secondary_structure import PRESETS, SecondaryStructureConfig
    from proteinhub.modeling.secondary_structure import SecondaryStructureForTokenClassification as Model

    rows = []
    for preset in PRESETS:
        with torch.device("meta"):
            count = sum(p.numel() for p in Model(SecondaryStructureConfig(**preset.config)).parameters())
        rows.append({"name": preset.name, "paper": preset.paper_parameters, "count": count})
    return rows


def write_page(runs_dir: Path) -> Path:
    results_dir = runs_dir / "results"
    results = load_records(results_dir, list(RUNS))
    for name, result in results.items():
        plot_confusion(RUNS[name], result, runs_dir)
    bench_path = runs_dir / BENCHMARK_JSON
    bench = read_json(bench_path) if bench_path.is_file() else None
    goals = [
        {
            "title": RUNS[name].title,
            "q3": 100 * result["evaluations"]["cb513"]["q3"],
            "paper_row": RUNS[name].paper_row,
            "paper": PAPER_ROWS[RUNS[name].paper_row],
            "paper_parameters": PAPER_PARAMETERS[RUNS[name].paper_row],
            "num_parameters": result["num_parameters"],
        }
        for name, result in results.items()
        if RUNS[name].paper_row
    ]
    autoregressive = [name for name, run in RUNS.items() if run.autoregressive]
    best_decoded = None
    decoded = [
        (100 * results[name]["evaluations"][key]["q3"], RUNS[name].title, key)
        for name in autoregressive
        if name in results
        for key in ("cb513", "cb513_block_1")
    ]
    if "bigru-cnn-cpu" in results and decoded:
        q3, title, key = max(decoded)
        best_decoded = {
            "q3": q3,
            "title": title,
            "how": "block size 1" if key == "cb513_block_1" else "block size 50",
            "cnn_q3": 100 * results["bigru-cnn-cpu"]["evaluations"]["cb513"]["q3"],
        }
    chunking_path = results_dir / "chunking.json"
    chunking = None
    if chunking_path.is_file():
        check = read_json(chunking_path)
        chunking = {"title": RUNS[check["run"]].title, "rows": check["rows"]}
    page = PAGE if not any(r["tiny"] for r in results.values()) else runs_dir / "secondary_structure.md"
    render_page(
        "secondary_structure.md.jinja",
        page,
        results_dir=_shown(results_dir),
        labels=LABELS,
        runs=[{"run": run, "result": results.get(name)} for name, run in RUNS.items()],
        paper_rows=PAPER_ROWS,
        goals=goals,
        goal_q3=GOAL_Q3,
        floors=FLOORS,
        autoregressive=[{"run": RUNS[name], "result": results.get(name)} for name in autoregressive]
        if any(name in results for name in autoregressive)
        else None,
        best_decoded=best_decoded,
        chunking=chunking,
        bench=bench,
        bench_findings=gru_vs_lstm_findings(bench) if bench is not None else None,
        presets=preset_table(),
        confusion_figures=[
            {"title": RUNS[name].title, "name": f"secondary_structure_{name}_cb513_confusion.png"}
            for name in RUNS
            if name in results and not results[name]["tiny"]
        ],
    )
    return page


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", choices=sorted(RUNS), help="runs to do (default: all)")
    parser.add_argument("--runs-dir", type=Path, default=DEFAULT_RUNS_DIR)
    parser.add_argument("--tiny", action="store_true", help="a few proteins and a tiny model (CI smoke test)")
    parser.add_argument("--page-only", action="store_true", help="rebuild the page from the finished runs")
    args = parser.parse_args(argv)
    if args.tiny and args.runs_dir == DEFAULT_RUNS_DIR:
        parser.error("--tiny needs its own --runs-dir, so that tiny results never mix with the real ones")
    if not args.page_only:
        for name in args.only or list(RUNS):
            if finished(args.runs_dir / "results" / f"{name}.json", name):
                continue
            result = run_one(RUNS[name], args.runs_dir, args.tiny)
            print(f"{name}: Q3 CB513 {100 * result['evaluations']['cb513']['q3']:.2f} %", flush=True)
        chunking_check(args.runs_dir)
    print(f"wrote {write_page(args.runs_dir)}")


if __name__ == "__main__":
    sys.exit(main())
