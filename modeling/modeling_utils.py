"""`ProteinPreTrainedModel`: the transformers conventions every proteinhub model shares.

- losses are batch means, so `accepts_loss_kwargs = False` (otherwise Trainer/DDP rescale them);
- `save_pretrained` after `register_for_auto_class(...)` writes a self-contained copy of the code, so the folder
  loads with `trust_remote_code=True` where proteinhub is not installed;
- `from_pretrained` refuses a checkpoint of another model type or another task head instead of silently
  initialising a new head, and names a truncated or corrupted weights file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
from safetensors import SafetensorError
from transformers import PreTrainedConfig, PreTrainedModel
from transformers.modeling_outputs import BaseModelOutput

from .configuration_utils import ProteinConfig
from .remote_code import export_remote_code
from .tasks import LEVELS, model_level

_HUB_KWARGS = ("cache_dir", "force_download", "local_files_only", "token", "revision", "subfolder", "proxies")


@dataclass
class ProteinModelOutput(BaseModelOutput):
    """Backbone output.

    Args:
        last_hidden_state: (batch, length, hidden_size) per-position features.
        pooling_mask: (batch, length) 1 where a position may be pooled into a protein representation (padding 0).
        hidden_states: per-layer outputs when `output_hidden_states=True`.
    """

    pooling_mask: torch.Tensor | None = None


def _head_task(class_name: str) -> str | None:
    level = model_level(class_name)
    return LEVELS[level].class_suffix if level is not None else None


class ProteinPreTrainedModel(PreTrainedModel):
    """Base class of every proteinhub model (see the module docstring for what it adds)."""

    config_class = ProteinConfig
    main_input_name = "input_ids"
    accepts_loss_kwargs = False  # forward returns a batch-mean loss
    supports_gradient_checkpointing = True

    def save_pretrained(self, save_directory: str | os.PathLike, *args, **kwargs) -> None:
        auto_class = self._auto_class
        if auto_class is None:
            return super().save_pretrained(save_directory, *args, **kwargs)
        os.makedirs(save_directory, exist_ok=True)
        names = export_remote_code([type(self), type(self.config)], save_directory)
        config_class, model_class = type(self.config), type(self)
        self.config.auto_map = {
            "AutoConfig": f"{names[config_class.__module__]}.{config_class.__name__}",
            auto_class: f"{names[model_class.__module__]}.{model_class.__name__}",
        }
        # transformers would copy our package-relative module as it is (and fail on `from ..heads import`); the
        # export above already wrote the code, so hide the registration for the duration of the save
        model_class._auto_class = None
        try:
            return super().save_pretrained(save_directory, *args, **kwargs)
        finally:
            model_class._auto_class = auto_class

    @classmethod
    def from_pretrained(
        cls, pretrained_model_name_or_path: str | os.PathLike, *model_args, allow_new_head: bool = False, **kwargs
    ):
        """`PreTrainedModel.from_pretrained` plus checks: the checkpoint must be of this model type, and a checkpoint
        trained with another task head (sequence vs token classification) needs `allow_new_head=True`."""
        if pretrained_model_name_or_path is not None and not isinstance(kwargs.get("config"), PreTrainedConfig):
            cls._check_checkpoint(pretrained_model_name_or_path, allow_new_head, kwargs)
        try:
            return super().from_pretrained(pretrained_model_name_or_path, *model_args, **kwargs)
        except SafetensorError as error:
            raise OSError(
                f"could not read the weights in {pretrained_model_name_or_path}: the safetensors file is truncated or "
                f"corrupted ({error}). Re-download or re-save the checkpoint."
            ) from error

    @classmethod
    def _check_checkpoint(cls, path, allow_new_head: bool, kwargs: dict) -> None:
        hub_kwargs = {key: kwargs[key] for key in _HUB_KWARGS if key in kwargs}
        config_dict, _ = PreTrainedConfig.get_config_dict(path, **hub_kwargs)
        expected = cls.config_class.model_type
        found = config_dict.get("model_type")
        if found != expected:
            raise ValueError(
                f"{path} holds a `{found}` checkpoint, but {cls.__name__} expects `{expected}`. Load it with the "
                "matching class, or with an Auto class (e.g. AutoModelForSequenceClassification)."
            )
        saved = (config_dict.get("architectures") or [None])[0]
        requested_task, saved_task = _head_task(cls.__name__), _head_task(saved or "")
        if requested_task and saved_task and requested_task != saved_task and not allow_new_head:
            raise ValueError(
                f"{path} was trained as {saved}; loading it as {cls.__name__} would replace its head by a new, "
                "untrained one. Pass allow_new_head=True to keep the backbone and start a new head on purpose."
            )
