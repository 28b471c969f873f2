"""proteinhub: protein sequence models from five published studies, as Hugging Face transformers models.

`import proteinhub` registers every model config, model class and the shared `ProteinTokenizer` with the
transformers Auto classes (the one exception: while the `proteinhub` command line starts, see
`_started_as_command_line`). Heavier parts (datasets, pipelines, training) load on first use.
"""

import sys
from importlib import import_module

__version__ = "0.1.0"

# name -> module that defines it. The names are looked up on first access (module `__getattr__`) rather than
# imported here, so that the `proteinhub` command line can start without torch (see `_started_as_command_line`).
_EXPORTS = {
    "FAMILIES": "proteinhub.modeling",
    "ProteinConfig": "proteinhub.modeling",
    "ProteinPreTrainedModel": "proteinhub.modeling",
    "build_preset": "proteinhub.modeling",
    "presets": "proteinhub.modeling",
    "InvalidSequenceError": "proteinhub.tokenization",
    "ProteinTokenizer": "proteinhub.tokenization",
    "load_dataset": "proteinhub.dataset_scripts",
    "dataset_scripts": "proteinhub.dataset_scripts",
    "pipelines": "proteinhub.inference.pipelines",
}


def __getattr__(name: str):
    if name in _EXPORTS:
        module = import_module(_EXPORTS[name])
        value = module if module.__name__.endswith(f".{name}") else getattr(module, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'proteinhub' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


def _started_as_command_line() -> bool:
    """True while the `proteinhub` command line is importing this package to start.

    Registering the families imports torch and transformers' `PreTrainedModel` (seconds), which `proteinhub --help`
    and argument errors do not need; the command line registers them itself before it runs a command
    (`cli.main`). Two ways of starting it are recognised: the console script that pip generates (`sys.argv[0]` is
    its path, `.../bin/proteinhub` or `proteinhub.exe`, while it imports `proteinhub.cli`) and
    `python -m proteinhub.cli` (while runpy imports this package to find the module, `sys.argv[0]` is "-m" and
    `sys.orig_argv` names the module). Anything else (`python -c`, a script, pytest, a notebook) registers on import.
    """
    if sys.argv[:1] == ["-m"]:
        argv = sys.orig_argv
        return "-mproteinhub.cli" in argv or any(
            option == "-m" and module == "proteinhub.cli" for option, module in zip(argv, argv[1:])
        )
    script = sys.argv[0] if sys.argv else ""
    return script.replace("\\", "/").rsplit("/", 1)[-1].removesuffix(".exe") == "proteinhub"


if not _started_as_command_line():
    from . import modeling, tokenization  # noqa: F401  (registers every family with the Auto classes)


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
