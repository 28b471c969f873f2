"""Training: the arguments of a run (`arguments`), its data (`data`) and model (`models`), the objectives it learns
(`objectives`: supervised, causal_lm, reconstruction, pretraining), the one `run()` (`runner`), the `Trainer`
subclass and batch samplers (`trainer`, `batching`, `pretraining`) and the plots of a run (`plots`).

    from proteinhub import training
    metrics = training.main(["--config", "quickstart", "--output_dir", "runs/quickstart"])
"""

from .arguments import (
    CONFIG_DIR,
    OBJECTIVES,
    DataArguments,
    LossArguments,
    ModelArguments,
    ProteinTrainingArguments,
    parse_arguments,
    per_device_batch_size,
    resolve_config_path,
)
from .data import ProteinDataCollator, Task, infer_task, load_splits, resolve_class_weights, tokenize_split
from .models import build_model, model_config, resolve_model_name
from .runner import main, run

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
    "model_config",
    "parse_arguments",
    "per_device_batch_size",
    "resolve_class_weights",
    "resolve_config_path",
    "resolve_model_name",
    "run",
    "tokenize_split",
]
