"""The shared amino-acid tokenizer."""

from .tokenization_protein import (
    RESIDUES,
    SPECIAL_TOKENS,
    STANDARD_AMINO_ACIDS,
    VOCAB,
    InvalidSequenceError,
    ProteinTokenizer,
)

__all__ = ["RESIDUES", "SPECIAL_TOKENS", "STANDARD_AMINO_ACIDS", "VOCAB", "InvalidSequenceError", "ProteinTokenizer"]
