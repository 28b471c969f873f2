"""The wheel: built from the repository, installed into a fresh venv, it provides the whole `proteinhub` package."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import time
import venv
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SUBPACKAGES = sorted(
    ".".join(("proteinhub", *path.parent.relative_to(REPO).parts))
    for top in ("modeling", "tokenization", "dataset_scripts")
    for path in (REPO / top).rglob("__init__.py")
)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(REPO)],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("proteinhub-*.whl")
    return built


def test_wheel_ships_every_subpackage_and_the_templates(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for package in SUBPACKAGES:
        assert package.replace(".", "/") + "/__init__.py" in names, f"{package} is missing from the wheel"
    templates = {path.name for path in (REPO / "model_cards").glob("*.md")}
    assert templates, "model_cards/ has no templates"
    for template in templates:
        assert f"proteinhub/model_cards/{template}" in names
    assert "proteinhub/train.py" in names
    assert not any(name.startswith(("proteinhub/tests/", "proteinhub/benchmarks/")) for name in names)


def test_wheel_installs_into_a_fresh_venv(wheel, tmp_path):
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    fresh_site = Path(
        subprocess.check_output(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True
        ).strip()
    )
    # the heavy dependencies (torch, transformers, ...) come from the current environment, appended AFTER the fresh
    # site-packages, so the wheel's copy of proteinhub wins over any installed or editable one
    (fresh_site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q", "--target", str(fresh_site), wheel],
        check=True,
        capture_output=True,
    )
    script = f"""
import importlib, importlib.resources, time
start = time.perf_counter()
import proteinhub
elapsed = time.perf_counter() - start
assert proteinhub.__file__.startswith({str(fresh_site)!r}), proteinhub.__file__
import sys
heavy = [name for name in ("datasets", "evaluate", "transformers.pipelines") if name in sys.modules]
assert not heavy, f"import proteinhub pulled in {{heavy}}"
for name in {SUBPACKAGES!r}:
    importlib.import_module(name)
cards = importlib.resources.files("proteinhub") / "model_cards"
assert any(entry.name.endswith(".md") for entry in cards.iterdir())
from transformers import AutoConfig
assert AutoConfig.for_model("protein_cnn").model_type == "protein_cnn"
print(f"import proteinhub: {{elapsed:.2f}} s")
"""
    started = time.perf_counter()
    result = subprocess.run([python, "-c", script], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "import proteinhub:" in result.stdout
    assert time.perf_counter() - started < 120
