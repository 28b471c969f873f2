"""Shared test setup: one CPU thread, and the parametrisation of the common model battery.

A test that takes `model_case` runs on every model class of every registered family, `head_case` on every
classification head, `family_cases` once per family (with the list of its classes). The cases come from
`tests/model_testers.py` (tests/ is not a package under `--import-mode=importlib`, hence the explicit load).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest
import torch

# measured: a tiny CNN trains ~4x faster with one thread than with two on the 2-core CI machine
os.environ.setdefault("OMP_NUM_THREADS", "1")  # inherited by subprocesses
torch.set_num_threads(1)

# Configs name their datasets by builder; the builders find the real data offline in PROTEINHUB_DATA_DIR, which is
# ../shared/data beside the checkout unless the variable says otherwise (inherited by subprocesses too)
_REPO = Path(__file__).resolve().parents[1]
if not os.environ.get("PROTEINHUB_DATA_DIR") and (_REPO.parent / "shared" / "data").is_dir():
    os.environ["PROTEINHUB_DATA_DIR"] = str(_REPO.parent / "shared" / "data")

# The repository root is the proteinhub package (it has an __init__.py), so pytest collects it as a Package and
# imports that __init__.py under the checkout folder's name ("main" for /work/main, "p" in a CI clone): a second copy
# of proteinhub that registers every family again and leaves the Auto classes pointing at its classes. pytest reuses
# a module already in sys.modules, so give it the importable proteinhub (editable or installed) under that name.
if _REPO.name != "proteinhub":
    import proteinhub

    sys.modules.setdefault(_REPO.name, proteinhub)


def _model_testers():
    name = "proteinhub_tests_model_testers"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("model_testers.py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses resolve annotations through sys.modules
        spec.loader.exec_module(module)
    return sys.modules[name]


def pytest_generate_tests(metafunc) -> None:
    if not {"model_case", "head_case", "family_cases"} & set(metafunc.fixturenames):
        return
    cases = _model_testers().model_cases()
    if "model_case" in metafunc.fixturenames:
        metafunc.parametrize("model_case", cases, ids=[case.id for case in cases])
    if "head_case" in metafunc.fixturenames:
        heads = [case for case in cases if case.head is not None]
        metafunc.parametrize("head_case", heads, ids=[case.id for case in heads])
    if "family_cases" in metafunc.fixturenames:
        families = {}
        for case in cases:
            families.setdefault(case.family.model_type, []).append(case)
        metafunc.parametrize("family_cases", list(families.values()), ids=list(families))


@pytest.fixture(scope="session")
def model_testers():
    """The `tests/model_testers.py` module (`TESTERS`, `ModelTester`, `ModelCase`)."""
    return _model_testers()
