"""Training: the arguments of a run, the one `run()` (supervised and self-supervised objectives), data preparation,
the `Trainer` subclass and batch samplers, and the plots of a run.

    from proteinhub import training
    metrics = training.main(["--config", "quickstart", "--output_dir", "runs/quickstart"])
"""

from .runner import (
    CONFIG_DIR,
    OBJECTIVES,
    DataArguments,
    LossArguments,
    ModelArguments,
    ProteinDataCollator,
    ProteinTrainingArguments,
    Task,
    build_model,
    infer_task,
    load_splits,
    main,
    parse_arguments,
    per_device_batch_size,
    resolve_class_weights,
    resolve_config_path,
    resolve_model_name,
    run,
    tokenize_split,
)

__all__ = [
    "CONFIG_DIR",
    "OBJECTIVES",
    "DataArguments",
    "LossArguments",
    "ModelArguments",
    "ProteinDataCollator",
    "ProteinTrainingArguments",
    "Task",
    "build_model",
    "infer_task",
    "load_splits",
    "main",
    "parse_arguments",
    "per_device_batch_size",
    "resolve_class_weights",
    "resolve_config_path",
    "resolve_model_name",
    "run",
    "tokenize_split",
]
