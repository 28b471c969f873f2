"""`ProteinTrainer`: the `Trainer` of train.py, with a step learning-rate decay, batch samplers and single-output
evaluation.

- Step decay (`lr_decay_factor` every `lr_decay_every_epochs` epochs, seed 004's "x0.2 every 5 epochs"): the
  learning rate of optimiser step s is `learning_rate x factor ** (s // (every x steps_per_epoch))`, after an optional
  linear warm-up, where steps_per_epoch is the optimiser steps of one pass over the training data loader as accelerate
  prepared it (so per process: 2 processes halve it, and the decay still comes every `every` epochs).
- `args.batching` (`BATCHING`): how training batches are formed. `random`: shuffled (Trainer's default);
  `group_by_length`: transformers' `LengthGroupedSampler` (random megabatches sorted by length; it also reorders
  evaluation sets); `length_buckets`: seed 003's scheme (`batching.py`: proteins sorted by length, cut into batches,
  batch order shuffled every epoch; evaluation in dataset order); `episodes`: ProteinBERT's sequence-length episodes,
  given as `train_batch_sampler` by the pretraining objective.
- `train_batch_sampler`: a sampler that yields whole training batches (lists of dataset keys), used instead of
  Trainer's sampler and `per_device_train_batch_size`; ProteinBERT's sequence-length episodes come this way. Trainer
  calls its `set_epoch` at every epoch, on one process and sharded over several, and sizes every epoch by the first
  one's length: an epoch with fewer batches ends early, one with more leaves its last batches out. With `max_steps`
  the run goes on for as many epochs as it takes to make max_steps steps.
- `logits_key`: the one model output that evaluation hands to `compute_metrics`; without it Trainer would gather every
  tensor output (hidden states, latent codes, annotation logits) over the whole evaluation set.
"""

from __future__ import annotations

import sys

from torch.optim import Optimizer
from torch.optim.lr_scheduler import LambdaLR
from torch.utils.data import DataLoader, Sampler
from transformers import Trainer
from transformers.trainer_utils import SchedulerType, has_length

from .batching import LengthBucketedSampler

# how training batches are formed (`ProteinTrainingArguments.batching`)
BATCHING = ("random", "group_by_length", "length_buckets", "episodes")
# the schedules a step decay multiplies (any other schedule would already change the learning rate by itself)
STEP_DECAY_BASES = (SchedulerType.CONSTANT, SchedulerType.CONSTANT_WITH_WARMUP)


def step_decay_schedule(
    optimizer: Optimizer, *, steps_per_decay: int, factor: float, num_warmup_steps: int = 0
) -> LambdaLR:
    """Multiply the learning rate by `factor` every `steps_per_decay` optimiser steps, after a linear warm-up.

    Example:
        >>> import torch
        >>> optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
        >>> schedule = step_decay_schedule(optimizer, steps_per_decay=10, factor=0.2)
        >>> for _ in range(10):
        ...     optimizer.step(); schedule.step()
        >>> round(optimizer.param_groups[0]["lr"], 6)
        0.2
    """
    if steps_per_decay < 1:
        raise ValueError(f"steps_per_decay must be >= 1, got {steps_per_decay}")

    def multiplier(step: int) -> float:
        warmup = step / num_warmup_steps if step < num_warmup_steps else 1.0  # as constant_with_warmup
        return warmup * factor ** (step // steps_per_decay)

    return LambdaLR(optimizer, multiplier)


class ProteinTrainer(Trainer):
    """`Trainer` plus `train_batch_sampler`, `logits_key` and the step decay of `args.lr_decay_factor` (see the module
    docstring)."""

    def __init__(self, *args, train_batch_sampler: Sampler | None = None, logits_key: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        batching = getattr(self.args, "batching", None) or "random"
        if (batching == "episodes") != (train_batch_sampler is not None):
            raise ValueError(
                f"batching={batching!r} with{'out' if train_batch_sampler is None else ''} a train_batch_sampler: "
                "episodes come from the pretraining objective's sampler, and only episodes use one"
            )
        self.train_batch_sampler = train_batch_sampler
        self.logits_key = logits_key
        self.num_update_steps_per_epoch: int | None = None

    def _get_train_sampler(self, train_dataset=None) -> Sampler | None:
        if getattr(self.args, "batching", None) != "length_buckets":
            return super()._get_train_sampler(train_dataset)
        dataset = train_dataset if train_dataset is not None else self.train_dataset
        column = self.args.length_column_name
        if column in dataset.column_names:
            lengths = list(dataset[column])
        else:
            lengths = [len(ids) for ids in dataset["input_ids"]]
        return LengthBucketedSampler(lengths, self.args.train_batch_size, seed=self.args.seed)

    def get_train_dataloader(self) -> DataLoader:
        if self.train_batch_sampler is None:
            return super().get_train_dataloader()
        loader = DataLoader(
            self.train_dataset,
            batch_sampler=self.train_batch_sampler,
            collate_fn=self.data_collator,
            num_workers=self.args.dataloader_num_workers,
            pin_memory=self.args.dataloader_pin_memory,
        )
        return self.accelerator.prepare(loader)

    def set_initial_training_values(self, args, dataloader: DataLoader):
        values = super().set_initial_training_values(args, dataloader)
        # (num_train_epochs, num_update_steps_per_epoch, ...): without a length, Trainer puts max_steps in the second
        # slot, which is no epoch
        self.num_update_steps_per_epoch = values[1] if has_length(dataloader) else None
        if self.train_batch_sampler is not None and args.max_steps > 0:
            # a batch sampler's epochs may differ in length (ProteinBERT routes every protein anew each epoch), and
            # Trainer sizes every epoch like the first: run epochs until max_steps instead of a precomputed count
            values = (sys.maxsize, *values[1:])
        return values

    def create_scheduler(self, num_training_steps: int, optimizer: Optimizer | None = None):
        factor = getattr(self.args, "lr_decay_factor", None)
        if self.lr_scheduler is not None or factor is None:
            return super().create_scheduler(num_training_steps, optimizer)
        if self.num_update_steps_per_epoch is None:
            raise ValueError(
                "lr_decay_factor counts epochs, but the training data has no length (a streamed dataset): use a "
                "map-style dataset or another lr_scheduler_type"
            )
        self.lr_scheduler = step_decay_schedule(
            optimizer or self.optimizer,
            steps_per_decay=self.args.lr_decay_every_epochs * self.num_update_steps_per_epoch,
            factor=factor,
            num_warmup_steps=self.args.get_warmup_steps(num_training_steps),
        )
        self._created_lr_scheduler = True  # Trainer rebuilds a scheduler it created at the next train() call
        return self.lr_scheduler

    def compute_loss(self, model, inputs, return_outputs: bool = False, num_items_in_batch=None):
        result = super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        if not return_outputs or self.logits_key is None:
            return result
        loss, outputs = result
        # only evaluation asks for the outputs: keep the scored logits, drop everything else before gathering
        return loss, {"loss": loss, self.logits_key: outputs[self.logits_key]}
