"""Throughput of `ProteinTokenizer` against transformers' `EsmTokenizer` and a bare numpy lookup-table encoder.

Every encoder gets the same seeded random sequences and produces the same padded, truncated, `<cls>`/`<eos>`-framed
int64 `input_ids` tensor (checked); the two tokenizers also build the attention mask, the bare lookup table does not.
All timings run in one process, each repeated and reported as the best of the repeats (run-to-run noise on a shared
2-core machine is about +-50%; the best is the most stable statistic). The general path of ProteinTokenizer (forced
by `return_offsets_mapping=True`) is timed for reference. Goals from the tokenizer issue: ProteinTokenizer >= 30x
EsmTokenizer and >= 0.4x the lookup table.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/tokenizer.py [--num-sequences 10000] [--length 500]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from proteinhub.tokenization import STANDARD_AMINO_ACIDS, VOCAB, ProteinTokenizer
from transformers import EsmTokenizer

# ESM-2's 33-token vocabulary in id order, as in facebook/esm2_t6_8M_UR50D/vocab.txt (one token per line there)
ESM_VOCAB_FILE = "<cls> <pad> <eos> <unk> L A G V S E R T I D P K Q N F Y M H W C X B U Z O . - <null_1> <mask>"
ESM_VOCAB = ESM_VOCAB_FILE.split()
GOAL_VS_ESM = 30.0
GOAL_VS_LOOKUP = 0.4


def random_sequences(num_sequences: int, length: int, seed: int) -> list[str]:
    """`num_sequences` upper-case sequences of `length` standard amino acids, reproducible from `seed`."""
    rng = np.random.default_rng(seed)
    letters = np.frombuffer(STANDARD_AMINO_ACIDS.encode(), dtype=np.uint8)
    codes = letters[rng.integers(0, len(letters), size=(num_sequences, length))]
    return [row.tobytes().decode() for row in codes]


def lookup_table_encoder(max_length: int) -> Callable[[list[str]], torch.Tensor]:
    """The baseline: a 256-entry byte -> id table applied per sequence in a Python loop, framed and padded."""
    table = np.zeros(256, dtype=np.int64)
    for residue in VOCAB:
        if len(residue) == 1:
            table[ord(residue)] = VOCAB[residue]
    cls_id, eos_id, pad_id = VOCAB["<cls>"], VOCAB["<eos>"], VOCAB["<pad>"]

    def encode(sequences: list[str]) -> torch.Tensor:
        longest = min(max(map(len, sequences)) + 2, max_length)
        input_ids = np.full((len(sequences), longest), pad_id, dtype=np.int64)
        for row, sequence in zip(input_ids, sequences):
            ids = table[np.frombuffer(sequence.encode(), dtype=np.uint8)[: max_length - 2]]
            row[0] = cls_id
            row[1 : 1 + ids.size] = ids
            row[1 + ids.size] = eos_id
        return torch.from_numpy(input_ids)

    return encode


def best_time(encode: Callable[[list[str]], object], sequences: list[str], repeats: int) -> tuple[float, object]:
    """Smallest wall time of `repeats` calls, and the output of the last call."""
    best, output = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        output = encode(sequences)
        best = min(best, time.perf_counter() - start)
    return best, output


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--num-sequences", type=int, default=10_000)
    parser.add_argument("--length", type=int, default=500, help="residues per sequence")
    parser.add_argument("--max-length", type=int, default=512, help="truncation length in tokens, framing included")
    parser.add_argument("--repeats", type=int, default=3, help="timings per encoder; the best is reported")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if os.environ.get("OMP_NUM_THREADS") != "1":
        print("note: set OMP_NUM_THREADS=1 for numbers comparable with the project's records")

    sequences = random_sequences(args.num_sequences, args.length, args.seed)
    ours = ProteinTokenizer()
    with tempfile.TemporaryDirectory() as tmp:
        vocab_file = Path(tmp) / "vocab.txt"
        vocab_file.write_text("\n".join(ESM_VOCAB) + "\n")
        esm = EsmTokenizer(str(vocab_file))
    call = {"padding": True, "truncation": True, "max_length": args.max_length, "return_tensors": "pt"}

    encoders: dict[str, Callable[[list[str]], object]] = {
        "ProteinTokenizer (vectorised path)": lambda batch: ours(batch, **call),
        "ProteinTokenizer (general path, offsets)": lambda batch: ours(batch, return_offsets_mapping=True, **call),
        "EsmTokenizer (transformers)": lambda batch: esm(batch, **call),
        "numpy lookup table (baseline)": lookup_table_encoder(args.max_length),
    }
    rates, outputs = {}, {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # truncation warnings when --length exceeds --max-length
        for name, encode in encoders.items():
            seconds, outputs[name] = best_time(encode, sequences, args.repeats)
            rates[name] = len(sequences) / seconds

    # the comparison is only fair if every encoder produced the same tokens
    reference = outputs["ProteinTokenizer (vectorised path)"]["input_ids"]
    esm_to_ours = torch.tensor([VOCAB.get(token, VOCAB["<unk>"]) for token in ESM_VOCAB])
    assert torch.equal(outputs["ProteinTokenizer (general path, offsets)"]["input_ids"], reference)
    assert torch.equal(esm_to_ours[outputs["EsmTokenizer (transformers)"]["input_ids"]], reference)
    assert torch.equal(outputs["numpy lookup table (baseline)"], reference)

    print(
        f"{args.num_sequences} random sequences of {args.length} residues, padding + truncation to "
        f'{args.max_length} + return_tensors="pt", best of {args.repeats}\n'
    )
    print(f"| {'encoder':<42} | {'sequences/s':>12} |")
    print(f"|{'-' * 44}|{'-' * 14}|")
    for name, rate in rates.items():
        print(f"| {name:<42} | {rate:>12,.0f} |")
    vs_esm = rates["ProteinTokenizer (vectorised path)"] / rates["EsmTokenizer (transformers)"]
    vs_lookup = rates["ProteinTokenizer (vectorised path)"] / rates["numpy lookup table (baseline)"]
    print(f"\nProteinTokenizer / EsmTokenizer: {vs_esm:.1f}x (goal >= {GOAL_VS_ESM:g}x)")
    print(f"ProteinTokenizer / lookup table: {vs_lookup:.2f}x (goal >= {GOAL_VS_LOOKUP:g}x)")


if __name__ == "__main__":
    main()
