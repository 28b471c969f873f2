"""`proteinhub embed`: per-protein (and optionally per-residue) representations of a FASTA file from any backbone.

    proteinhub embed --model DIR --fasta proteins.fasta --out embeddings.npz [--per-residue] [--pooling mean]

`DIR` is a saved proteinhub model (any head: the backbone is loaded with `AutoModel`). Per-residue vectors are
`last_hidden_state` at the residue positions (no `<cls>`, `<eos>` or padding). The per-protein vector depends on
`--pooling`:

- `mean` (default): the masked mean of the per-residue vectors, exactly the mean of what `--per-residue` writes;
- `pooler`: the backbone's own protein vector, `pooler_output` (UniRep: the mean of the hidden states over `<cls>`
  and the residues, UniRep's "average hidden"; ProteinBERT: the global representation; the CNN autoencoder: its
  flattened latent z); an error for a backbone without one (`protein_cnn`, `secondary_structure`).

A protein longer than the model's `max_length` is truncated by the tokenizer (with a warning). Proteins are batched
by length to save padding; every family's outputs are padding-invariant (the common battery tests it), so a protein
gets the same embedding whatever batch it lands in. The same vectors come from
`pipeline("protein-feature-extraction", model=DIR)` (`proteinhub.inference.pipelines`).

The FASTA file is read and its sequences cleaned by `proteinhub.tokenization.fasta`, as in every builder, `predict`
and the pipelines (plain or gzip by its magic bytes, UTF-8 with or without a byte-order mark, CRLF, wrapped lines);
a bad file or record (not UTF-8, text before the first header, a header without an id, an id seen twice, a record
without any residue, an illegal character) is a `DatasetFormatError` naming the file and the line or record.

Outputs:
- `.npz`: `ids` (str), `embeddings` (proteins, dim) float32; with `--per-residue`, `residue_embeddings`
  (all residues, dim) float32 and `offsets` (proteins + 1): protein i is `residue_embeddings[offsets[i]:offsets[i+1]]`.
- `.parquet`: columns `id`, `embedding` (list of float32), and `residue_embeddings` (list of lists) with
  `--per-residue`.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from transformers import AutoModel

from ..modeling.heads import masked_pool
from ..tokenization import InvalidSequenceError, ProteinTokenizer
from ..tokenization.fasta import read_proteins

POOLING = ("mean", "pooler")


def residue_mask(input_ids: torch.Tensor, attention_mask: torch.Tensor, tokenizer) -> torch.Tensor:
    """(batch, length) True at the residues: attended positions that are not `<cls>` or `<eos>`."""
    framing = torch.tensor([tokenizer.cls_token_id, tokenizer.eos_token_id], device=input_ids.device)
    return attention_mask.bool() & ~torch.isin(input_ids, framing)


@torch.no_grad()
def embed_sequences(
    model: torch.nn.Module,
    tokenizer,
    sequences: Sequence[str],
    *,
    batch_size: int = 16,
    per_residue: bool = False,
    pooling: str = "mean",
) -> tuple[np.ndarray, list[np.ndarray] | None]:
    """Per-protein embeddings (proteins, dim) and, with `per_residue`, one (residues, dim) array per protein, in the
    order of `sequences`.

    `pooling`: "mean" (the masked mean of the per-residue vectors) or "pooler" (the backbone's `pooler_output`); see
    the module docstring. An illegal character raises `InvalidSequenceError` whose `.index` is the position of the
    protein in `sequences`.

    Example:
        >>> model = proteinhub.build_preset("protein-cnn-small").base_model  # doctest: +SKIP
        >>> embed_sequences(model, ProteinTokenizer(), ["MKTAYIAK", "MKV"])[0].shape  # doctest: +SKIP
        (2, 128)
    """
    if pooling not in POOLING:
        raise ValueError(f"pooling must be one of {POOLING}, got {pooling!r}")
    model.eval()
    order = sorted(range(len(sequences)), key=lambda index: len(sequences[index]))
    proteins: list[np.ndarray | None] = [None] * len(sequences)
    residues: list[np.ndarray | None] = [None] * len(sequences)
    device = next(model.parameters()).device
    for start in range(0, len(order), batch_size):
        indices = order[start : start + batch_size]
        try:
            batch = tokenizer(
                [sequences[index] for index in indices], padding=True, truncation=True, return_tensors="pt"
            )
        except InvalidSequenceError as error:
            # the tokenizer numbers the proteins of this length-sorted batch; name the caller's index instead
            index = indices[error.index]
            message = re.sub(r"^sequence \d+", f"sequence {index}", str(error))
            raise InvalidSequenceError(
                message, index=index, position=error.position, character=error.character
            ) from None
        input_ids, attention_mask = batch["input_ids"].to(device), batch["attention_mask"].to(device)
        outputs = model(input_ids=input_ids, attention_mask=attention_mask)
        hidden = outputs.last_hidden_state.float()  # (batch, length, dim)
        mask = residue_mask(input_ids, attention_mask, tokenizer)
        if pooling == "mean":
            pooled = masked_pool(hidden, mask, "mean")
        elif getattr(outputs, "pooler_output", None) is not None:
            pooled = outputs.pooler_output.float()
        else:
            raise ValueError(
                f"{type(model).__name__} has no pooler_output (its own protein vector); use pooling='mean'."
            )
        for row, index in enumerate(indices):
            proteins[index] = pooled[row].cpu().numpy()
            if per_residue:
                residues[index] = hidden[row, mask[row]].cpu().numpy()
    return np.stack(proteins) if proteins else np.zeros((0, 0), np.float32), residues if per_residue else None


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


def run(args: argparse.Namespace) -> int:
    """Embed a FASTA file; returns the exit code."""
    if not args.out.endswith((".npz", ".parquet")):
        print(f"error: --out must end in .npz or .parquet, got {args.out}", file=sys.stderr)
        return 2
    model = AutoModel.from_pretrained(args.model).eval()
    # the vocabulary is fixed: the model config gives the framing and length limit, tokenizer files are optional
    tokenizer = ProteinTokenizer(**model.config.tokenizer_kwargs)
    records = list(read_proteins(args.fasta))
    ids, sequences = [protein_id for protein_id, _ in records], [sequence for _, sequence in records]
    if not ids:
        raise ValueError(f"--fasta {args.fasta}: no FASTA record (a '>' header line) in the file; nothing to embed.")
    proteins, residues = embed_sequences(
        model, tokenizer, sequences, batch_size=args.batch_size, per_residue=args.per_residue, pooling=args.pooling
    )
    write_embeddings(args.out, ids, proteins, residues)
    print(f"embedded {len(ids)} proteins from {args.fasta} with {args.model}: {proteins.shape[1]} dims -> {args.out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry point: `python -m proteinhub.inference.embed ...` is `proteinhub embed ...`."""
    from ..cli import main as command_line

    return command_line(["embed", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
