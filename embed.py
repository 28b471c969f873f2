"""`proteinhub embed`: per-protein (and optionally per-residue) representations of a FASTA file from any backbone.

    proteinhub embed --model DIR --fasta proteins.fasta --out embeddings.npz [--per-residue] [--batch-size 16]

`DIR` is a saved proteinhub model (any head: the backbone is loaded with `AutoModel`). The per-protein vector is the
backbone's `pooler_output` when it has one (UniRep: the masked mean of the hidden states over `<cls>` and the
residues, UniRep's "average hidden"; the CNN autoencoder: its flattened latent z), else the masked mean of
`last_hidden_state` over its `pooling_mask`. Per-residue vectors are `last_hidden_state` at the residue positions
(no `<cls>`/`<eos>`). A protein longer than the model's `max_length` is truncated by the tokenizer (with a
warning). Proteins are batched by length to save padding; every family's outputs are padding-invariant
(the common battery tests it), so a protein gets the same embedding whatever batch it lands in.

Outputs:
- `.npz`: `ids` (str), `embeddings` (proteins, dim) float32; with `--per-residue`, `residue_embeddings`
  (all residues, dim) float32 and `offsets` (proteins + 1): protein i is `residue_embeddings[offsets[i]:offsets[i+1]]`.
- `.parquet`: columns `id`, `embedding` (list of float32), and `residue_embeddings` (list of lists) with
  `--per-residue`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from transformers import AutoModel, AutoTokenizer

from .dataset_scripts.formats import clean_sequence
from .dataset_scripts.protein_fasta import stream_fasta
from .modeling.heads import masked_pool


@torch.no_grad()
def embed_sequences(
    model: torch.nn.Module,
    tokenizer,
    sequences: Sequence[str],
    *,
    batch_size: int = 16,
    per_residue: bool = False,
) -> tuple[np.ndarray, list[np.ndarray] | None]:
    """Per-protein embeddings (proteins, dim) and, with `per_residue`, one (length, dim) array per protein, in the
    order of `sequences`."""
    model.eval()
    order = sorted(range(len(sequences)), key=lambda index: len(sequences[index]))
    proteins: list[np.ndarray | None] = [None] * len(sequences)
    residues: list[np.ndarray | None] = [None] * len(sequences)
    leading = tokenizer.num_leading_special_tokens
    for start in range(0, len(order), batch_size):
        indices = order[start : start + batch_size]
        batch = tokenizer([sequences[index] for index in indices], padding=True, truncation=True, return_tensors="pt")
        device = next(model.parameters()).device
        outputs = model(input_ids=batch["input_ids"].to(device), attention_mask=batch["attention_mask"].to(device))
        pooled = getattr(outputs, "pooler_output", None)
        if pooled is None:
            mask = outputs.pooling_mask if outputs.pooling_mask is not None else batch["attention_mask"]
            pooled = masked_pool(outputs.last_hidden_state, mask.to(device), "mean")
        for row, index in enumerate(indices):
            proteins[index] = pooled[row].float().cpu().numpy()
            if per_residue:
                # a protein longer than the model's max_length was truncated (with a warning) by the tokenizer
                length = min(len(sequences[index]), int(batch["attention_mask"][row].sum()) - leading)
                residues[index] = outputs.last_hidden_state[row, leading : leading + length].float().cpu().numpy()
    return np.stack(proteins) if proteins else np.zeros((0, 0), np.float32), residues if per_residue else None


def read_fasta(path: str | Path) -> tuple[list[str], list[str]]:
    """Ids and cleaned (upper-case, validated) sequences of a FASTA file."""
    ids, sequences = [], []
    for identifier, raw, number in stream_fasta(path):
        ids.append(identifier)
        sequences.append(clean_sequence(raw, f"{path}, record {number} ({identifier!r})"))
    return ids, sequences


def write_embeddings(path: str | Path, ids: list[str], proteins: np.ndarray, residues: list[np.ndarray] | None) -> None:
    """Write `.npz` or `.parquet` (module docstring for the layout)."""
    path = Path(path)
    if path.suffix == ".npz":
        arrays = {"ids": np.array(ids), "embeddings": proteins.astype(np.float32)}
        if residues is not None:
            arrays["offsets"] = np.cumsum([0] + [len(r) for r in residues]).astype(np.int64)
            arrays["residue_embeddings"] = np.concatenate(residues).astype(np.float32)
        np.savez(path, **arrays)
    elif path.suffix == ".parquet":
        import pandas as pd

        frame = pd.DataFrame({"id": ids, "embedding": [row.astype(np.float32) for row in proteins]})
        if residues is not None:
            frame["residue_embeddings"] = [list(r.astype(np.float32)) for r in residues]
        frame.to_parquet(path)
    else:
        raise ValueError(f"--out must end in .npz or .parquet, got {path.name}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `proteinhub embed`."""
    parser.add_argument("--model", required=True, help="a saved proteinhub model folder (any head)")
    parser.add_argument("--fasta", required=True, help="input proteins (FASTA, plain or .gz)")
    parser.add_argument("--out", required=True, help="output file: .npz or .parquet")
    parser.add_argument("--per-residue", action="store_true", help="also write one vector per residue")
    parser.add_argument("--batch-size", type=int, default=16, help="proteins per forward pass (default 16)")


def run(args: argparse.Namespace) -> int:
    """Embed a FASTA file; returns the exit code."""
    if not args.out.endswith((".npz", ".parquet")):
        print(f"error: --out must end in .npz or .parquet, got {args.out}", file=sys.stderr)
        return 2
    model = AutoModel.from_pretrained(args.model).eval()
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    ids, sequences = read_fasta(args.fasta)
    proteins, residues = embed_sequences(
        model, tokenizer, sequences, batch_size=args.batch_size, per_residue=args.per_residue
    )
    write_embeddings(args.out, ids, proteins, residues)
    print(f"embedded {len(ids)} proteins from {args.fasta} with {args.model}: {proteins.shape[1]} dims -> {args.out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
