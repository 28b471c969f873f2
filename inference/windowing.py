"""Windows over long proteins: cut a protein into overlapping windows, predict each, stitch the residues back.

Used by every per-residue prediction path (`ProteinPredictor`, the `secondary-structure` pipeline) for proteins longer
than a model's length limit. Every residue takes its values from the window in which it lies farthest from a cut: an
overlap is split at its middle, so each residue has at least `overlap // 2` residues of context on the side of a cut.
"""

from __future__ import annotations

import torch


def chunk_windows(length: int, chunk_length: int | None, overlap: int) -> list[tuple[int, int]]:
    """[start, stop) residue windows of at most `chunk_length` residues covering `length`, consecutive windows
    overlapping by `overlap` residues (the last window ends at the protein end).

    Example:
        >>> chunk_windows(10, 4, 2)
        [(0, 4), (2, 6), (4, 8), (6, 10)]
    """
    if chunk_length is None or length <= chunk_length:
        return [(0, length)]
    if not 0 <= overlap < chunk_length:
        raise ValueError(f"overlap must be in [0, chunk_length={chunk_length}), got {overlap}")
    windows, start = [], 0
    while True:
        stop = min(start + chunk_length, length)
        windows.append((start, stop))
        if stop == length:
            return windows
        start = stop - overlap


def stitch(windows: list[tuple[int, int]], probabilities: list[torch.Tensor]) -> torch.Tensor:
    """(length, num_labels) per-residue probabilities from overlapping windows; each overlap is split at its middle."""
    length = windows[-1][1]
    stitched = probabilities[0].new_empty(length, probabilities[0].shape[-1])
    for index, ((start, stop), window) in enumerate(zip(windows, probabilities)):
        left = 0 if index == 0 else (windows[index - 1][1] + start) // 2
        right = length if index == len(windows) - 1 else (stop + windows[index + 1][0]) // 2
        stitched[left:right] = window[left - start : right - start]
    return stitched
