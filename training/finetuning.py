"""The original ProteinBERT fine-tuning schedule (spec section 5.3), as an option on top of `Trainer`.

Three stages, weights carried over, a new optimizer each stage (the original discards the Adam state when it
unfreezes the model):

| stage | trains | max length / batch | learning rate | epochs |
|---|---|---|---|---|
| 1 | the head only (every pretrained layer frozen) | 512 / 32 | 1e-2 | <= 40 |
| 2 | all layers | 512 / 32 | 1e-4 | <= 40 |
| 3 | all layers, longer proteins | 1024 / 16 | 1e-5 | 1 |

Every stage but the last reduces the learning rate by 0.25 after an epoch without validation-loss improvement (down
to 1e-5) and stops after 2 such epochs, restoring the best weights (Keras `ReduceLROnPlateau(patience=1,
factor=0.25, min_lr=1e-5)` and `EarlyStopping(patience=2, restore_best_weights=True)`). As in the original, a stage
trains and validates on the proteins that fit its length (`len(input_ids) <= max_length`; longer ones are dropped,
not cropped), so give it datasets tokenized without truncation.

    from proteinhub.training.finetuning import ORIGINAL_STAGES, run_staged_fine_tuning
    run_staged_fine_tuning(model, train_ds, eval_ds, collator=..., output_dir="runs/staged")
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import EarlyStoppingCallback, Trainer, TrainingArguments

# the fine-tuning head of every ProteinBERT task model; everything else is "pretrained"
HEAD_MODULE = "classifier"


@dataclass(frozen=True)
class Stage:
    """One fine-tuning stage.

    Args:
        train_head_only: freeze every pretrained layer (backbone and pretraining output layers) and train the head.
        max_length: longest protein (in tokens, framing included) trained and validated in this stage.
        batch_size: training batch size.
        learning_rate: initial learning rate (Adam).
        max_epochs: epoch limit (early stopping may end the stage sooner).
        early_stopping: reduce the learning rate on plateau, stop on patience and restore the best weights.
    """

    train_head_only: bool
    max_length: int
    batch_size: int
    learning_rate: float
    max_epochs: int
    early_stopping: bool = True


ORIGINAL_STAGES = (
    Stage(train_head_only=True, max_length=512, batch_size=32, learning_rate=1e-2, max_epochs=40),
    Stage(train_head_only=False, max_length=512, batch_size=32, learning_rate=1e-4, max_epochs=40),
    Stage(
        train_head_only=False, max_length=1024, batch_size=16, learning_rate=1e-5, max_epochs=1, early_stopping=False
    ),
)


def set_pretrained_trainable(model: torch.nn.Module, trainable: bool) -> None:
    """Freeze (`False`) or unfreeze every parameter outside the fine-tuning head `classifier`."""
    for name, parameter in model.named_parameters():
        if not name.startswith(f"{HEAD_MODULE}."):
            parameter.requires_grad_(trainable)


def _fitting(dataset, max_length: int):
    return dataset.filter(lambda example: len(example["input_ids"]) <= max_length, desc=f"proteins <= {max_length}")


def run_staged_fine_tuning(
    model: torch.nn.Module,
    train_dataset,
    eval_dataset,
    *,
    collator: Callable,
    output_dir: str | Path,
    stages: Sequence[Stage] = ORIGINAL_STAGES,
    compute_metrics: Callable | None = None,
    seed: int = 42,
    **training_kwargs,
) -> list[dict]:
    """Fine-tune `model` in place, stage by stage; returns one summary per stage (proteins used, epochs, best loss).

    `train_dataset`/`eval_dataset`: tokenized `datasets.Dataset`s (`input_ids`, `labels`), not truncated.
    `training_kwargs` go to every stage's `TrainingArguments` (e.g. `use_cpu=True`, `dataloader_pin_memory=False`).
    """
    summaries = []
    for index, stage in enumerate(stages, start=1):
        set_pretrained_trainable(model, not stage.train_head_only)
        train_split, eval_split = _fitting(train_dataset, stage.max_length), _fitting(eval_dataset, stage.max_length)
        plateau = {"lr_scheduler_type": "reduce_lr_on_plateau"} if stage.early_stopping else {}
        if stage.early_stopping:
            plateau["lr_scheduler_kwargs"] = {"patience": 1, "factor": 0.25, "min_lr": 1e-5}
        args = TrainingArguments(
            output_dir=str(Path(output_dir) / f"stage{index}"),
            learning_rate=stage.learning_rate,
            num_train_epochs=stage.max_epochs,
            per_device_train_batch_size=stage.batch_size,
            eval_strategy="epoch",
            save_strategy="epoch" if stage.early_stopping else "no",
            logging_strategy="epoch",
            load_best_model_at_end=stage.early_stopping,
            metric_for_best_model="loss",
            greater_is_better=False,
            save_total_limit=1,
            weight_decay=0.0,
            report_to=[],
            seed=seed,
            **{"lr_scheduler_type": "constant", **plateau, **training_kwargs},
        )
        trainer = Trainer(
            model=model,
            args=args,
            train_dataset=train_split,
            eval_dataset=eval_split,
            data_collator=collator,
            compute_metrics=compute_metrics,
            callbacks=[EarlyStoppingCallback(early_stopping_patience=2)] if stage.early_stopping else [],
        )
        trainer.train()
        summaries.append(
            {
                "stage": index,
                "train_head_only": stage.train_head_only,
                "train_proteins": len(train_split),
                "eval_proteins": len(eval_split),
                "epochs": trainer.state.epoch,
                "best_eval_loss": trainer.state.best_metric,
                "eval": trainer.evaluate(),
            }
        )
    set_pretrained_trainable(model, True)
    return summaries
