"""GRU vs LSTM encoders at equal size (seed 001's claim: GRUs converge in fewer epochs): epochs-to-best and speed.

Two measurements on real data (FLIP/NetSurfP-2.0), the CPU-sized BiGRU/CNN and BiLSTM/CNN presets with only
`rnn_type` changed:

1. **Speed**: training and inference residues per CPU-second (process time, one thread), on batches of real training
   proteins grouped by length, at 64 and 128 units per direction.
2. **Convergence**: the paper's recipe (SGD, learning rate 0.1 for bidirectional models, batch 4, constant rate) on
   a subset of FLIP train (`--train-proteins`, default 800) for `--epochs` epochs, Q3 on a FLIP-validation subset
   after every epoch, for each seed. Reported: the best epoch, the first epoch within 0.5 Q3 points of the best, the
   epoch where the paper's rule (gain < 0.001 over 10 epochs) would stop, and the CPU time per epoch.

Writes `runs/secondary_structure/gru_vs_lstm.json` (read by `scripts/reproduce_secondary_structure.py` for the
results page) and `docs/results/secondary_structure_gru_vs_lstm.png`.

    OMP_NUM_THREADS=1 python benchmarks/gru_vs_lstm.py          # ~20 CPU minutes
    python benchmarks/gru_vs_lstm.py --train-proteins 40 --epochs 2 --seeds 0 --out /tmp/bench   # smoke test
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
FLIP_ZIP = REPO.parent / "shared" / "data" / "secondary_structure_flip_netsurfp2" / "splits.zip"
RUNS_DIR = REPO / "runs" / "secondary_structure"
FIGURE = REPO / "docs" / "results" / "secondary_structure_gru_vs_lstm.png"
RNN_TYPES = ("gru", "lstm")


def load_proteins(split: str, limit: int, seed: int = 0) -> list[tuple[str, list[int]]]:
    """`limit` proteins of a FLIP split (a seeded sample), as (sequence, labels) with -100 on unresolved residues."""
    from proteinhub.dataset_scripts.secondary_structure import read_flip_zip

    rows = [(row["sequence"], row["labels"]) for row in read_flip_zip(FLIP_ZIP, split)]
    random.Random(seed).shuffle(rows)
    return rows[:limit]


def batches(proteins, batch_size: int, tokenizer, shuffle_seed: int | None):
    """Length-grouped batches (sorted by length, batch order shuffled): little padding, as group_by_length."""
    order = sorted(range(len(proteins)), key=lambda i: len(proteins[i][0]))
    groups = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    if shuffle_seed is not None:
        random.Random(shuffle_seed).shuffle(groups)
    leading = tokenizer.num_leading_special_tokens
    for group in groups:
        encoding = tokenizer([proteins[i][0] for i in group], padding=True, return_tensors="pt")
        labels = torch.full(encoding["input_ids"].shape, -100, dtype=torch.long)
        for row, index in enumerate(group):
            residue_labels = proteins[index][1]
            labels[row, leading : leading + len(residue_labels)] = torch.tensor(residue_labels)
        yield {"input_ids": encoding["input_ids"], "attention_mask": encoding["attention_mask"]}, labels


def build(rnn_type: str, hidden: int, seed: int):
    from proteinhub.modeling import build_preset

    torch.manual_seed(seed)
    return build_preset(
        "secondary-structure-bigru-cnn-cpu",
        rnn_type=rnn_type,
        rnn_hidden_size=hidden,
        hidden_size=2 * hidden,
        classifier_hidden_size=2 * hidden,
    )


def q3(model, proteins, tokenizer) -> float:
    from proteinhub.dataset_scripts.secondary_structure import LABEL_NAMES
    from proteinhub.evaluation.metrics import q3_metrics

    model.eval()
    labels, logits = [], []
    with torch.no_grad():
        for inputs, batch_labels in batches(proteins, 32, tokenizer, None):
            logits += list(model(**inputs).logits.float().numpy())
            labels += list(batch_labels.numpy())
    return q3_metrics(labels, logits, LABEL_NAMES)["q3"]


def measure_speed(proteins, tokenizer, hidden: int, steps: int = 12) -> dict:
    """Training and inference residues per CPU-second for both RNN types at `hidden` units per direction."""
    result = {}
    for rnn_type in RNN_TYPES:
        model = build(rnn_type, hidden, seed=0)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        train_batches = list(batches(proteins, 16, tokenizer, shuffle_seed=0))[:steps]
        model.train()
        residues, started = 0, time.process_time()
        for inputs, labels in train_batches:
            model(**inputs, labels=labels).loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            residues += int(inputs["attention_mask"].sum())
        train_rate = residues / (time.process_time() - started)
        model.eval()
        residues, started = 0, time.process_time()
        with torch.no_grad():
            for inputs, _ in train_batches:
                model(**inputs)
                residues += int(inputs["attention_mask"].sum())
        result[rnn_type] = {
            "parameters": sum(p.numel() for p in model.parameters()),
            "train_residues_per_cpu_s": train_rate,
            "inference_residues_per_cpu_s": residues / (time.process_time() - started),
        }
    return result


def train_curve(rnn_type: str, seed: int, train, validation, tokenizer, epochs: int, hidden: int) -> dict:
    """The paper's SGD recipe (lr 0.1, batch 4, constant rate); validation Q3 after every epoch."""
    model = build(rnn_type, hidden, seed)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    curve, cpu_per_epoch = [], []
    for epoch in range(epochs):
        model.train()
        started = time.process_time()
        for inputs, labels in batches(train, 4, tokenizer, shuffle_seed=seed * 1000 + epoch):
            model(**inputs, labels=labels).loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            optimizer.zero_grad()
        cpu_per_epoch.append(time.process_time() - started)
        curve.append(q3(model, validation, tokenizer))
        print(f"{rnn_type} seed {seed} epoch {epoch + 1}: validation Q3 {100 * curve[-1]:.2f} %", flush=True)
    return {"validation_q3": curve, "cpu_s_per_epoch": float(np.mean(cpu_per_epoch)), **convergence(curve)}


def convergence(curve: list[float], tolerance: float = 0.005, threshold: float = 0.001, patience: int = 10) -> dict:
    """Best epoch, first epoch within `tolerance` of the best, and the epoch the paper's early stopping would stop
    at (no gain >= `threshold` over the best for `patience` epochs; None if it never would within the curve)."""
    best = int(np.argmax(curve))
    within = next(i for i, value in enumerate(curve) if value >= curve[best] - tolerance)
    stop, best_so_far, waited = None, -1.0, 0
    for epoch, value in enumerate(curve):
        if value > best_so_far + threshold:
            best_so_far, waited = value, 0
        else:
            waited += 1
            if waited >= patience:
                stop = epoch + 1
                break
    return {"best_epoch": best + 1, "best_q3": curve[best], "epoch_within_0.5_points": within + 1, "stop_epoch": stop}


def plot(curves: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    figure, axes = plt.subplots(figsize=(6, 4))
    for (rnn_type, seed), result in curves.items():
        values = 100 * np.asarray(result["validation_q3"])
        style = "-" if rnn_type == "gru" else "--"
        color = "tab:blue" if rnn_type == "gru" else "tab:orange"
        axes.plot(
            range(1, len(values) + 1), values, style, color=color, marker="o", label=f"Bi{rnn_type.upper()} seed {seed}"
        )
    axes.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    axes.set_xlabel("epoch")
    axes.set_ylabel("validation Q3 (%)")
    axes.set_title("GRU vs LSTM at equal size, paper's SGD recipe")
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    plt.close(figure)


def page_lines(speed: dict, curves: dict, args) -> list[str]:
    lines = [
        "Equal-size BiGRU/CNN vs BiLSTM/CNN (2 layers; only `rnn_type` differs), one CPU thread. Speed: batches of "
        "16 real FLIP training proteins grouped by length, residues per CPU-second.",
        "",
        "| units per direction | RNN | parameters | training residues/s | inference residues/s |",
        "|---|---|---|---|---|",
    ]
    for hidden, result in speed.items():
        for rnn_type in RNN_TYPES:
            entry = result[rnn_type]
            lines.append(
                f"| {hidden} | Bi{rnn_type.upper()} | {entry['parameters']:,} | "
                f"{entry['train_residues_per_cpu_s']:,.0f} | {entry['inference_residues_per_cpu_s']:,.0f} |"
            )
    lines += [
        "",
        f"Convergence: the paper's recipe (SGD lr 0.1, batch 4, constant rate, gradient norm clipped at 1) on "
        f"{args.train_proteins} FLIP training proteins for {args.epochs} epochs, Q3 on {args.validation_proteins} "
        f"FLIP validation proteins after every epoch, {args.hidden} units per direction.",
        "",
        "| RNN | seed | best epoch | best Q3 | first epoch within 0.5 points | paper's rule stops at | CPU s / epoch |",
        "|---|---|---|---|---|---|---|",
    ]
    for (rnn_type, seed), result in curves.items():
        stop = result["stop_epoch"] if result["stop_epoch"] is not None else f"> {args.epochs}"
        lines.append(
            f"| Bi{rnn_type.upper()} | {seed} | {result['best_epoch']} | {100 * result['best_q3']:.2f} | "
            f"{result['epoch_within_0.5_points']} | {stop} | {result['cpu_s_per_epoch']:.0f} |"
        )
    lines += ["", f"![validation Q3 per epoch]({FIGURE.name})"]
    return lines


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--train-proteins", type=int, default=800)
    parser.add_argument("--validation-proteins", type=int, default=200)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--hidden", type=int, default=64, help="units per direction of the convergence runs")
    parser.add_argument("--speed-hidden", type=int, nargs="+", default=[64, 128])
    parser.add_argument("--out", type=Path, default=RUNS_DIR, help="folder of gru_vs_lstm.json")
    args = parser.parse_args(argv)
    from proteinhub.tokenization import ProteinTokenizer

    torch.set_num_threads(1)
    tokenizer = ProteinTokenizer()
    train = load_proteins("train", args.train_proteins)
    validation = load_proteins("validation", args.validation_proteins)
    speed = {hidden: measure_speed(train, tokenizer, hidden) for hidden in args.speed_hidden}
    curves = {
        (rnn_type, seed): train_curve(rnn_type, seed, train, validation, tokenizer, args.epochs, args.hidden)
        for seed in args.seeds
        for rnn_type in RNN_TYPES
    }
    figure = FIGURE if args.out == RUNS_DIR else args.out / FIGURE.name
    plot(curves, figure)
    result = {
        "arguments": {key: str(value) if isinstance(value, Path) else value for key, value in vars(args).items()},
        "speed": speed,
        "curves": {f"{rnn_type}-seed{seed}": value for (rnn_type, seed), value in curves.items()},
        "page_lines": page_lines(speed, curves, args),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "gru_vs_lstm.json").write_text(json.dumps(result, indent=2) + "\n")
    print("\n".join(result["page_lines"]))
    return result


if __name__ == "__main__":
    main()
