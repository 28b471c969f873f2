"""Inference throughput of ProteinBERT (masked mode) against transformers' `EsmModel` with the ESM-2 8M config.

Both models get random weights (the benchmark measures speed, not quality) and the same number of tokens per batch
at every length (`--tokens-per-batch`, default 8192: 32 proteins of 256, 8 of 1024, 2 of 4096), without padding,
in eval mode under `torch.inference_mode()`. Each measurement is the best of `--repeats` timed runs after one
warm-up run (run-to-run noise on a shared 2-core machine is about +-50 %; the best is the most stable statistic).

ProteinBERT's global attention has one query per head, so its cost is linear in the length; ESM-2's self-attention
is quadratic. Goals from the ProteinBERT issue: >= 4x the residues/s of ESM-2 8M at length 1024, and a per-residue
cost at 4096 within 1.3x of the cost at 512.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/proteinbert_vs_esm.py [--lengths 256 512 1024 4096] [--json out]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import torch
from proteinhub.modeling.proteinbert import ProteinBertConfig, ProteinBertModel
from transformers import EsmConfig, EsmModel

GOAL_SPEEDUP_AT_1024 = 4.0
GOAL_COST_RATIO_4096_VS_512 = 1.3


def esm2_8m_config(max_length: int) -> EsmConfig:
    """The architecture of facebook/esm2_t6_8M_UR50D (6 layers, width 320, 20 heads, rotary positions)."""
    return EsmConfig(
        vocab_size=33,
        hidden_size=320,
        num_hidden_layers=6,
        num_attention_heads=20,
        intermediate_size=1280,
        hidden_act="gelu",
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
        # rotary embeddings do not use this table; it only has to cover the positions
        max_position_embeddings=max(1026, max_length + 2),
        layer_norm_eps=1e-5,
        position_embedding_type="rotary",
        emb_layer_norm_before=False,
        token_dropout=True,
        mask_token_id=32,
        pad_token_id=1,
        initializer_range=0.02,
    )


def random_batch(batch_size: int, length: int, first_residue: int, cls_id: int, eos_id: int, seed: int) -> dict:
    """`length` tokens per protein: `<cls>`, length - 2 random standard residues, `<eos>`; no padding."""
    generator = torch.Generator().manual_seed(seed)
    input_ids = torch.randint(first_residue, first_residue + 20, (batch_size, length), generator=generator)
    input_ids[:, 0], input_ids[:, -1] = cls_id, eos_id
    return {"input_ids": input_ids, "attention_mask": torch.ones_like(input_ids)}


def best_time(model: torch.nn.Module, batch: dict, repeats: int) -> float:
    """Best wall-clock seconds of `repeats` forward passes after one warm-up pass."""
    timings = []
    with torch.inference_mode():
        model(**batch)
        for _ in range(repeats):
            started = time.perf_counter()
            model(**batch)
            timings.append(time.perf_counter() - started)
    return min(timings)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lengths", type=int, nargs="+", default=[256, 512, 1024, 4096])
    parser.add_argument("--tokens-per-batch", type=int, default=8192)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", help="write the results to this file")
    args = parser.parse_args(argv)

    torch.manual_seed(0)
    proteinbert = ProteinBertModel(ProteinBertConfig(padding_mode="masked")).eval()
    esm = EsmModel(esm2_8m_config(max(args.lengths)), add_pooling_layer=False).eval()
    models = {
        "ProteinBERT": (proteinbert, {"first_residue": 5, "cls_id": 2, "eos_id": 3}),
        "ESM-2 8M": (esm, {"first_residue": 4, "cls_id": 0, "eos_id": 2}),
    }
    parameters = {name: sum(p.numel() for p in model.parameters()) for name, (model, _) in models.items()}
    attention = esm.config._attn_implementation
    print(
        f"ProteinBERT backbone {parameters['ProteinBERT']:,} parameters (masked mode); ESM-2 8M "
        f"{parameters['ESM-2 8M']:,} parameters (attention: {attention}); torch {torch.__version__}, "
        f"{torch.get_num_threads()} thread(s), OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}"
    )
    rows = []
    for length in args.lengths:
        batch_size = max(1, args.tokens_per_batch // length)
        row = {"length": length, "batch_size": batch_size}
        for name, (model, ids) in models.items():
            seconds = best_time(model, random_batch(batch_size, length, seed=length, **ids), args.repeats)
            row[name] = batch_size * length / seconds  # residues (tokens) per second
        row["speedup"] = row["ProteinBERT"] / row["ESM-2 8M"]
        rows.append(row)
        print(
            f"L={length:>5} batch {batch_size:>3}: ProteinBERT {row['ProteinBERT']:>9,.0f} res/s, ESM-2 8M "
            f"{row['ESM-2 8M']:>9,.0f} res/s, ProteinBERT / ESM = {row['speedup']:.2f}x",
            flush=True,
        )
    by_length = {row["length"]: row for row in rows}
    summary = {"rows": rows, "parameters": parameters, "machine": platform.machine(), "torch": torch.__version__}
    if 1024 in by_length:
        speedup = by_length[1024]["speedup"]
        summary["speedup_at_1024"] = speedup
        verdict = "met" if speedup >= GOAL_SPEEDUP_AT_1024 else "NOT met"
        print(f"speed-up at 1024: {speedup:.2f}x (goal >= {GOAL_SPEEDUP_AT_1024}x: {verdict})")
    if {512, 4096} <= set(by_length):
        # per-residue cost is 1 / (residues per second)
        ratio = by_length[512]["ProteinBERT"] / by_length[4096]["ProteinBERT"]
        esm_ratio = by_length[512]["ESM-2 8M"] / by_length[4096]["ESM-2 8M"]
        summary["cost_ratio_4096_vs_512"] = ratio
        summary["esm_cost_ratio_4096_vs_512"] = esm_ratio
        verdict = "met" if ratio <= GOAL_COST_RATIO_4096_VS_512 else "NOT met"
        print(
            f"ProteinBERT per-residue cost at 4096 / at 512: {ratio:.2f} (goal <= {GOAL_COST_RATIO_4096_VS_512}: "
            f"{verdict}); ESM-2 8M: {esm_ratio:.2f}"
        )
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(summary, handle, indent=2)
    return summary


if __name__ == "__main__":
    main()
