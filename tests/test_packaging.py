"""The wheel: built from the repository without setuptools warnings, it ships the package and nothing else, and
installed into a fresh venv it provides the whole `proteinhub` package."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import time
import venv
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
# every folder of the package with Python code (a subpackage), e.g. proteinhub.modeling.cnn
CODE_FOLDERS = ("modeling", "tokenization", "dataset_scripts", "training", "inference", "hub", "evaluation")
SUBPACKAGES = sorted(
    ".".join(("proteinhub", *path.parent.relative_to(REPO).parts))
    for top in CODE_FOLDERS
    for path in (REPO / top).rglob("__init__.py")
)
# what the installed package reads besides its code: card templates, builder docs, the configs the CLI resolves
DATA_FILES = ("model_cards/*.md", "dataset_scripts/*.md", "configs/**/*.yaml")
# repository folders that are not part of the installed package
NOT_SHIPPED = ("tests", "scripts", "benchmarks", "docs", ".ci", ".venv", ".ci-venv", "runs", "build")
# setuptools' complaints about package data in folders missing from `packages` (seven ~40-line blocks before)
SETUPTOOLS_WARNINGS = re.compile(r"would be ignored|absent from the `packages` configuration|Package '[^']+' is absent")
# working-tree leftovers that must not reach the build: a stale build/lib would be copied into the wheel as it is
_BUILD_IGNORE = shutil.ignore_patterns(
    ".git", ".venv", ".ci-venv", "build", "dist", "runs", "*.egg-info", "__pycache__", ".pytest_cache", ".ruff_cache"
)


@dataclass(frozen=True)
class Build:
    wheel: Path
    log: str  # stdout + stderr of `python -m build`


@pytest.fixture(scope="module")
def build(tmp_path_factory) -> Build:
    """`python -m build` (sdist, then the wheel from the sdist, as a release is built) on a clean copy of the tree."""
    source = tmp_path_factory.mktemp("source") / "proteinhub"
    shutil.copytree(REPO, source, ignore=_BUILD_IGNORE, symlinks=True)
    out = tmp_path_factory.mktemp("dist")
    result = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(source)],
        capture_output=True,
        text=True,
    )
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-4000:]
    (built,) = out.glob("proteinhub-*.whl")
    return Build(built, log)


@pytest.fixture(scope="module")
def wheel(build) -> Path:
    return build.wheel


def test_build_prints_no_setuptools_package_warnings(build):
    warnings = sorted({line.strip() for line in build.log.splitlines() if SETUPTOOLS_WARNINGS.search(line)})
    assert not warnings, "\n".join(warnings)


def test_wheel_ships_the_package_and_nothing_else(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {name for name in names if not name.startswith("proteinhub-0.1.0.dist-info/")}
    assert all(name.startswith("proteinhub/") for name in shipped), sorted(n for n in shipped if "/" not in n)
    # every tracked module and data file of the package is in the wheel ...
    expected = {f"proteinhub/{name}" for name in ("__init__.py", "cli.py", "train.py")}
    for top in CODE_FOLDERS:
        expected |= {f"proteinhub/{path.relative_to(REPO)}" for path in (REPO / top).rglob("*.py")}
    for pattern in DATA_FILES:
        matches = {f"proteinhub/{path.relative_to(REPO)}" for path in REPO.glob(pattern)}
        assert matches, f"{pattern} matches no file"
        expected |= matches
    expected = {name for name in expected if "__pycache__" not in name}
    assert not expected - shipped, f"missing from the wheel: {sorted(expected - shipped)}"
    # ... and nothing else: no tests, scripts, docs, benchmarks, CI files or stray modules
    assert not shipped - expected, f"not part of the package: {sorted(shipped - expected)}"
    assert not any(name.split("/")[1] in NOT_SHIPPED for name in shipped)
    # a shipped config names its data by builder; a path into the checkout's surroundings means nothing once installed
    archive = zipfile.ZipFile(wheel)
    for name in sorted(name for name in shipped if name.startswith("proteinhub/configs/")):
        values = yaml.safe_load(archive.read(name)) or {}
        assert "data_dir" not in values, f"{name}: data_dir {values['data_dir']!r}"
        files = values.get("data_files") or []
        paths = files.values() if isinstance(files, dict) else [files] if isinstance(files, str) else files
        for path in paths:
            assert not str(path).startswith(("/", "..")), f"{name}: data_files {path!r} points outside the run folder"


def test_no_config_points_at_the_shared_checkout_folder():
    """Configs name datasets by builder; the data comes from a URL, PROTEINHUB_DATA_DIR or --data_dir."""
    offenders = [
        f"{path.relative_to(REPO)}:{number}: {line.strip()}"
        for path in sorted((REPO / "configs").rglob("*"))
        if path.is_file()
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if "../shared" in line or "shared/data" in line
    ]
    assert not offenders, "\n".join(offenders)


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
from proteinhub.training import resolve_config_path
for name in ("quickstart", "localization/multiloc", "phosphosite/st_vgg_w15"):  # the CLI's configs, by name
    assert str(resolve_config_path(name)).startswith({str(fresh_site)!r}), resolve_config_path(name)
from transformers import AutoConfig
assert AutoConfig.for_model("protein_cnn").model_type == "protein_cnn"
print(f"import proteinhub: {{elapsed:.2f}} s")
"""
    started = time.perf_counter()
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}  # a PYTHONPATH copy would win
    result = subprocess.run([python, "-c", script], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "import proteinhub:" in result.stdout
    assert time.perf_counter() - started < 120


# configs outside the checkout: data by builder name, from PROTEINHUB_DATA_DIR (../shared/data here) or a URL


class _NoDownloads:
    """A datasets download manager that refuses to download: every raw file must come from the mirror."""

    def download(self, urls):
        raise AssertionError(f"would download {urls}")


def _config_datasets() -> dict[tuple, list[str]]:
    """(builder, config name, config kwargs) -> the configs that load it; configs with files of their own (the
    reproduction scripts' derived training files under runs/) are left out."""
    loads: dict[tuple, list[str]] = {}
    for path in sorted((REPO / "configs").rglob("*.yaml")):
        values = yaml.safe_load(path.read_text())
        if "dataset_name" not in values or values.get("data_files"):
            continue  # representation/reproduce.yaml is a script's config; data_files: derived files
        kwargs = values.get("dataset_config_kwargs") or {}
        key = (values["dataset_name"], values.get("dataset_config_name"), yaml.safe_dump(kwargs, sort_keys=True))
        loads.setdefault(key, []).append(str(path.relative_to(REPO)))
    return loads


def test_every_config_finds_its_data_in_the_mirror_by_builder_name(tmp_path, monkeypatch):
    """Each config's builder reads all its raw files from `$PROTEINHUB_DATA_DIR/<source folder>/`, no download."""
    from proteinhub.dataset_scripts import BUILDERS, DATA_DIR_ENV

    mirror = REPO.parent / "shared" / "data"
    if not mirror.is_dir():
        pytest.skip("the offline mirror ../shared/data is not beside this checkout")
    monkeypatch.setenv(DATA_DIR_ENV, str(mirror))
    loads = _config_datasets()
    assert len(loads) >= 10
    for (name, config_name, kwargs), configs in loads.items():
        builder = BUILDERS[name](config_name=config_name, cache_dir=str(tmp_path), **yaml.safe_load(kwargs))
        splits = {split.name for split in builder._split_generators(_NoDownloads())}
        assert "train" in splits, (configs, splits)


def test_config_without_its_data_says_how_to_provide_it(tmp_path):
    """No mirror, no network: one line that names the builder, the URL tried, PROTEINHUB_DATA_DIR and --data_dir."""
    env = {key: value for key, value in os.environ.items() if key != "PROTEINHUB_DATA_DIR"}
    env.update(HF_DATASETS_OFFLINE="1", HF_HUB_OFFLINE="1", HF_DATASETS_CACHE=str(tmp_path / "cache"))
    result = subprocess.run(
        [sys.executable, "-m", "proteinhub.cli", "train", "--config", "localization/multiloc"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1, result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    (message,) = [line for line in result.stderr.splitlines() if "error:" in line]
    for expected in (
        "subcellular_localization",
        "https://raw.githubusercontent.com/KohlbacherLab/MultiLoc2/",
        "PROTEINHUB_DATA_DIR",
        "localization_multiloc/",
        "--data_dir",
    ):
        assert expected in message, message
    assert not list(tmp_path.glob("runs/*/model.safetensors"))
