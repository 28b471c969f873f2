"""Features of the simple non-deep baselines ("floors", `../shared/docs/baselines.md`) that the results pages put next
to every deep model."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

STANDARD_RESIDUES = "ACDEFGHIKLMNPQRSTVWY"


def composition_features(sequences: Sequence[str]) -> np.ndarray:
    """(n, 420) amino-acid composition (20) then dipeptide composition (400, first residue major), each a fraction
    over the standard residues; other letters are skipped (and break no pair but their own).

    Example:
        >>> features = composition_features(["AAC"])
        >>> features[0, :3].round(3).tolist(), features[0, 20 + 0 * 20 + 1].item()  # A, C, D; then the pair AC
        ([0.667, 0.333, 0.0], 0.5)
    """
    index = {residue: i for i, residue in enumerate(STANDARD_RESIDUES)}
    rows = np.zeros((len(sequences), 420))
    for row, sequence in zip(rows, sequences):
        codes = [index.get(residue, -1) for residue in sequence]
        single = np.bincount([code for code in codes if code >= 0], minlength=20)
        pairs = [a * 20 + b for a, b in zip(codes, codes[1:]) if a >= 0 and b >= 0]
        double = np.bincount(pairs, minlength=400)
        row[:20] = single / max(single.sum(), 1)
        row[20:] = double / max(double.sum(), 1)
    return rows
