"""Length-bucketed training batches, the seed 003 recipe (`batching: length_buckets`, see `training/trainer.py`).

The seed's `iterBatch` sorts the proteins by length, cuts the sorted list into batches and shuffles the order of the
batches every epoch, so each batch is padded only to the longest of similar-length proteins. transformers' own
`train_sampling_strategy="group_by_length"` differs: it sorts within random "megabatches" of
`min(n // (4 * batch), 50) * batch` proteins (wider length spread per batch), yields the batches of each megabatch
from longest to shortest instead of in a shuffled order, and also reorders evaluation sets.
`benchmarks/length_bucketing.py` measures padding and throughput of random, transformers' and these batches.

Nothing in the model code imports this module, so it is not exported as remote code with a saved model.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import torch
from torch.utils.data import Sampler


def length_buckets(lengths: Sequence[int], batch_size: int, seed: int = 0) -> list[np.ndarray]:
    """The seed's batches: indices sorted by length (ties in a seeded random order), cut into `batch_size` chunks.

    The last chunk holds the `len(lengths) % batch_size` longest proteins when the division is not even.

    Example:
        >>> [b.tolist() for b in length_buckets([5, 1, 4, 2, 3], 2)]
        [[1, 3], [4, 2], [0]]
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    lengths = np.asarray(lengths)
    shuffled = np.random.default_rng(seed).permutation(len(lengths))
    order = shuffled[np.argsort(lengths[shuffled], kind="stable")]
    return [order[start : start + batch_size] for start in range(0, len(order), batch_size)]


class LengthBucketedSampler(Sampler[int]):
    """Indices of length-bucketed batches in a new random batch order every epoch (seed 003's `iterBatch`).

    A `DataLoader` with the same `batch_size` (and `drop_last=False`) re-forms exactly these batches: the full
    batches come in shuffled order and the smaller remainder batch, if any, always comes last, so that every chunk of
    `batch_size` consecutive indices is one bucket.

    Args:
        lengths: length of every example (tokens), in dataset order.
        batch_size: proteins per batch (per device); must equal the DataLoader's batch size.
        seed: seeds the tie order inside buckets and the batch order of each epoch (epoch e uses `seed + e`).
    """

    def __init__(self, lengths: Sequence[int], batch_size: int, seed: int = 0):
        self.batch_size = batch_size
        self.seed = seed
        self.buckets = length_buckets(lengths, batch_size, seed)
        self.epoch = 0

    def __len__(self) -> int:
        return sum(len(bucket) for bucket in self.buckets)

    def set_epoch(self, epoch: int) -> None:
        """Called by accelerate at the start of each epoch; makes the batch order of a resumed run reproducible."""
        self.epoch = epoch

    def __iter__(self) -> Iterator[int]:
        full = [bucket for bucket in self.buckets if len(bucket) == self.batch_size]
        partial = [bucket for bucket in self.buckets if len(bucket) != self.batch_size]
        order = torch.randperm(len(full), generator=torch.Generator().manual_seed(self.seed + self.epoch)).tolist()
        self.epoch += 1  # a new order next epoch even when nobody calls set_epoch
        for bucket in [full[i] for i in order] + partial:
            yield from bucket.tolist()
