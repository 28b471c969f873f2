"""proteinhub: protein sequence models from five published studies, as Hugging Face transformers models.

`import proteinhub` registers every model config, model class and the shared `ProteinTokenizer` with the
transformers Auto classes. Heavier parts (datasets, pipelines, training) load on first use.
"""

from importlib import import_module

from .modeling import FAMILIES, ProteinConfig, ProteinPreTrainedModel, build_preset, presets
from .tokenization import InvalidSequenceError, ProteinTokenizer

__version__ = "0.1.0"

# name -> module that defines it; imported on first access so that `import proteinhub` does not pull in datasets
_LAZY = {
    "load_dataset": "proteinhub.dataset_scripts",
    "dataset_scripts": "proteinhub.dataset_scripts",
    "pipelines": "proteinhub.inference.pipelines",
}


def __getattr__(name: str):
    if name in _LAZY:
        module = import_module(_LAZY[name])
        return module if module.__name__.endswith(name) else getattr(module, name)
    raise AttributeError(f"module 'proteinhub' has no attribute {name!r}")


__all__ = [
    "FAMILIES",
    "InvalidSequenceError",
    "ProteinConfig",
    "ProteinPreTrainedModel",
    "ProteinTokenizer",
    "build_preset",
    "load_dataset",
    "presets",
]
