"""Small building blocks shared by several families (one-hot residue input)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

# ids of the 20 standard amino acids in the shared tokenizer (tokenization_protein.py): 5..24, alphabetical
FIRST_AMINO_ACID_ID, NUM_AMINO_ACIDS = 5, 20


def one_hot_residues(input_ids: torch.Tensor, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """(batch, length) token ids -> (batch, length, 21) one-hot: 20 amino acids + one "other" channel.

    The extra channel is the papers' padding symbol; it also takes `<pad>` (window positions beyond a protein end),
    special tokens and the rare residues X, U, O, B, Z, J.
    """
    channel = input_ids - FIRST_AMINO_ACID_ID
    channel = torch.where((channel >= 0) & (channel < NUM_AMINO_ACIDS), channel, NUM_AMINO_ACIDS)
    return F.one_hot(channel, NUM_AMINO_ACIDS + 1).to(dtype)
