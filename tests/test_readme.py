"""Every command and snippet in README.md runs.

Fenced ```bash blocks run line by line from the repository root, ```python blocks run as scripts; all share one
scratch directory (`$PROTEINHUB_SCRATCH`) in README order, so a snippet may use what an earlier command wrote.
Two commands are not run here, each covered elsewhere: the install command (CI runs it on a fresh machine, and
tests/test_packaging.py installs the wheel into a fresh venv) and the test command (it is this test suite).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"^```(bash|python)\n(.*?)^```", README, flags=re.MULTILINE | re.DOTALL)
COVERED_ELSEWHERE = {"pip install .", "OMP_NUM_THREADS=1 python -m pytest -q"}


def _commands(code: str) -> list[str]:
    return [line for line in code.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def test_every_readme_block_is_run_somewhere():
    """bash/python blocks run here; console/py blocks only in the Hub section (tests/test_hub.py runs them)."""
    fences = re.findall(r"^```(\w*)\n.*?^```", README, flags=re.MULTILINE | re.DOTALL)
    assert set(fences) <= {"bash", "python", "console", "py", "text"}, fences
    hub_section = README.split("## Share on the Hugging Face Hub", 1)[1].split("\n## ", 1)[0]
    outside = README.replace(hub_section, "")
    assert not re.search(r"^```(console|py)\n", outside, flags=re.MULTILINE)


def test_readme_names_the_install_and_test_commands():
    commands = {command for language, code in BLOCKS if language == "bash" for command in _commands(code)}
    assert commands >= COVERED_ELSEWHERE
    ci = (REPO / ".ci" / "run").read_text()
    assert "<!-- test-command -->" in README and "test-command" in ci


def test_readme_blocks_run(tmp_path):
    # the builders find the real data in the offline mirror, PROTEINHUB_DATA_DIR (set by conftest.py)
    env = {
        **os.environ,
        "PROTEINHUB_SCRATCH": str(tmp_path),
        "OMP_NUM_THREADS": "1",
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_CACHE": str(tmp_path / "datasets-cache"),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    executed = 0
    for index, (language, code) in enumerate(BLOCKS):
        if language == "python":
            script = tmp_path / f"readme_block_{index}.py"
            script.write_text(code)
            runs = [[sys.executable, str(script)]]
        else:
            runs = [["bash", "-c", command] for command in _commands(code) if command not in COVERED_ELSEWHERE]
        for run in runs:
            result = subprocess.run(run, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
            assert result.returncode == 0, (
                f"README block {index} failed: {run}\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}"
            )
            executed += 1
    assert executed >= 5, "the README should show runnable examples"
