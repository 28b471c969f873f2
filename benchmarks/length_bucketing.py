"""Padding and training throughput of length-bucketed vs random batches, on the real MultiLoc training lengths.

Three ways to form the batches of one epoch of the `multiloc` training split (4,290 proteins, batch 128):

- `random`: a random permutation, cut into batches (`Trainer`'s default `RandomSampler`);
- `group_by_length`: transformers' `LengthGroupedSampler` (`train_sampling_strategy="group_by_length"`);
- `bucketed`: seed 003's recipe (`LengthBucketedSampler`: sorted by length, batched, batch order shuffled).

For each, the padding fraction is the share of padded positions among the positions the network reads (lengths
capped at the model's `max_residues`, 1,000), and the throughput is proteins per second of real training steps
(forward, backward, gradient clipping at 3, Adam step) of the seed's network (`localization-cnn-bilstm`), batches
padded by train.py's collator. Timings are taken on one thread, the strategies alternating, and each reported as the
best of `--repeats` epochs (run-to-run noise on a shared 2-core machine is about +-50 %). Goal of the localization
issue: bucketed >= 1.8x the random throughput.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/length_bucketing.py [--repeats 2] [--max-batches N]
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from proteinhub import build_preset, load_dataset
from proteinhub.tokenization import ProteinTokenizer
from proteinhub.training import ProteinDataCollator
from proteinhub.training.batching import LengthBucketedSampler
from transformers.trainer_pt_utils import LengthGroupedSampler

DATA_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "localization_multiloc"
GOAL_SPEEDUP = 1.8
BATCH_SIZE = 128


def epoch_batches(strategy: str, lengths: list[int], batch_size: int, seed: int) -> list[list[int]]:
    """The batches (lists of dataset indices) of one epoch under `strategy`."""
    if strategy == "random":
        order = torch.randperm(len(lengths), generator=torch.Generator().manual_seed(seed)).tolist()
    elif strategy == "group_by_length":
        sampler = LengthGroupedSampler(batch_size, lengths=lengths, generator=torch.Generator().manual_seed(seed))
        order = list(sampler)
    elif strategy == "bucketed":
        order = list(LengthBucketedSampler(lengths, batch_size, seed=seed))
    else:
        raise ValueError(f"unknown strategy {strategy!r}")
    return [order[start : start + batch_size] for start in range(0, len(order), batch_size)]


def padding_fraction(batches: list[list[int]], read_lengths: np.ndarray) -> float:
    """Padded positions / all positions of the padded batches, counting the lengths the network reads."""
    residues = sum(int(read_lengths[batch].sum()) for batch in batches)
    positions = sum(len(batch) * int(read_lengths[batch].max()) for batch in batches)
    return 1.0 - residues / positions


def train_epoch(model, optimizer, collator, rows: list[dict], batches: list[list[int]]) -> float:
    """Seconds for one epoch of training steps over `batches`."""
    model.train()
    started = time.perf_counter()
    for batch in batches:
        inputs = collator([rows[i] for i in batch])
        loss = model(**inputs).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 3.0)
        optimizer.step()
        optimizer.zero_grad()
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=str(DATA_DIR), help="folder with the 11 MultiLoc FASTA files")
    parser.add_argument("--repeats", type=int, default=2, help="epochs per strategy; the best is reported")
    parser.add_argument("--max-batches", type=int, default=None, help="time only the first N batches of each epoch")
    parser.add_argument("--output", default=None, help="also write the results as JSON to this file")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)

    train = load_dataset("subcellular_localization", "multiloc", data_dir=args.data_dir, split="train")
    model = build_preset("localization-cnn-bilstm", num_labels=len(train.features["label"].names))
    tokenizer = ProteinTokenizer(**model.config.tokenizer_kwargs)
    rows = [
        {"input_ids": ids, "attention_mask": [1] * len(ids), "labels": label}
        for ids, label in zip(tokenizer(list(train["sequence"]))["input_ids"], train["label"])
    ]
    lengths = [len(row["input_ids"]) for row in rows]
    read_lengths = np.minimum(lengths, model.config.max_residues)
    collator = ProteinDataCollator(tokenizer.pad_token_id, torch.long)
    optimizer = torch.optim.Adam(model.parameters(), lr=2.5e-3)
    strategies = ("random", "group_by_length", "bucketed")

    results = {
        name: {"padding_fraction": padding_fraction(epoch_batches(name, lengths, BATCH_SIZE, 0), read_lengths)}
        for name in strategies
    }
    seconds: dict[str, list[float]] = {name: [] for name in strategies}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the model's truncation warning for proteins over 1,000 residues
        for repeat in range(args.repeats):
            for name in strategies:
                batches = epoch_batches(name, lengths, BATCH_SIZE, seed=repeat)[: args.max_batches]
                seconds[name].append(train_epoch(model, optimizer, collator, rows, batches))
                results[name]["proteins"] = sum(map(len, batches))
    for name in strategies:
        best = min(seconds[name])
        results[name].update(seconds=best, proteins_per_s=results[name]["proteins"] / best)
    for name in strategies:
        results[name]["speedup_vs_random"] = results[name]["proteins_per_s"] / results["random"]["proteins_per_s"]

    print(f"MultiLoc train: {len(rows)} proteins, batch {BATCH_SIZE}, lengths capped at {model.config.max_residues}")
    print(f"{'batches':<16}{'padding':>10}{'proteins/s':>12}{'speedup':>10}")
    for name in strategies:
        row = results[name]
        print(
            f"{name:<16}{row['padding_fraction']:>10.1%}{row['proteins_per_s']:>12.1f}{row['speedup_vs_random']:>9.2f}x"
        )
    speedup = results["bucketed"]["speedup_vs_random"]
    print(f"goal: bucketed >= {GOAL_SPEEDUP}x random -> {'met' if speedup >= GOAL_SPEEDUP else 'NOT met'}")
    if args.output:
        Path(args.output).write_text(json.dumps(results, indent=2) + "\n")
    return results


if __name__ == "__main__":
    main()
