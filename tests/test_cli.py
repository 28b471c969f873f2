"""The `proteinhub` command line: presets table, train pass-through, and the README's quickstart end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import proteinhub
import pytest
import torch
from proteinhub import FAMILIES, ProteinTokenizer, build_preset, cli, training
from transformers import pipeline

os.environ.setdefault("OMP_NUM_THREADS", "1")


def test_presets_lists_each_preset_with_its_parameter_count(capsys):
    assert cli.main(["presets"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["name", "model", "type"]
    row = next(line for line in lines if line.startswith("protein-cnn-small "))
    # counted on the meta device by the CLI; here from real weights
    expected = sum(p.numel() for p in build_preset("protein-cnn-small").parameters())
    assert row.split()[:4] == ["protein-cnn-small", "protein_cnn", "AutoModelForTokenClassification", f"{expected:,}"]
    assert expected == 86_050


def test_presets_rows_report_paper_parameters():
    rows = {row["name"]: row for row in cli.preset_rows()}
    assert rows["protein-cnn-small"]["paper_parameters"] is None  # not from a paper: shown as "-"
    assert all(row["parameters"] > 0 for row in rows.values())


def test_unknown_options_of_presets_are_an_error(capsys):
    with pytest.raises(SystemExit) as raised:
        cli.main(["presets", "--bogus"])
    assert raised.value.code == 2
    assert "unrecognized arguments: --bogus" in capsys.readouterr().err


def test_train_passes_every_option_to_train_py():
    argv = ["train", "--config", "quickstart", "--num_train_epochs", "2", "--output_dir", "x"]
    args, rest = cli.parse_command_line(argv)
    assert args.handler is cli._train and rest == argv[1:]  # what the handler hands to training.main
    *_, values = training.parse_arguments(rest)
    assert values["num_train_epochs"] == 2 and values["output_dir"] == "x"
    assert values["dataset_name"] == "disorder_ldr"  # from configs/quickstart.yaml


def test_quickstart_end_to_end(tmp_path, capsys):
    """The README's main job: protein-cnn-small on AA_LDR via configs/quickstart.yaml (its time is printed, not
    asserted: timings belong in benchmarks/)."""
    output_dir = tmp_path / "quickstart"
    assert cli.main(["quickstart", "--output_dir", str(output_dir)]) == 0
    out = capsys.readouterr().out
    assert "quickstart trained and evaluated" in out and "test ROC-AUC" in out

    saved = json.loads((output_dir / "metrics.json").read_text())
    assert saved["run"]["model"] == "protein-cnn-small" and saved["run"]["dataset"] == "disorder_ldr"
    assert saved["run"]["split_sizes"] == {"train": 239, "validation": 51, "test": 52}
    # a per-residue majority vote has MCC 0 and ROC-AUC 0.5; the quickstart measured ROC-AUC 0.79, MCC 0.48
    assert saved["test"]["roc_auc"] > 0.75
    assert saved["test"]["mcc"] > 0.35

    tagger = pipeline("token-classification", model=str(output_dir))
    sequence = "MSDNGPQNQRNAPRITFGGPSDSTGSNQNGERSGARSKQRRPQGLPNNTASWFTALTQHGK"
    predictions = tagger(sequence)
    assert len(predictions) == len(sequence)  # one prediction per residue
    assert {p["entity"] for p in predictions} <= {"ordered", "disordered"}


# start-up: `proteinhub --help`, `proteinhub COMMAND --help` and argument errors without torch or transformers

# what pip writes for `[project.scripts] proteinhub = "proteinhub.cli:main"` (a file named `proteinhub` in bin/)
CONSOLE_SCRIPT = """import sys
from proteinhub.cli import main
if __name__ == '__main__':
    sys.argv[0] = sys.argv[0].removesuffix('.exe')
    sys.exit(main())
"""
HEAVY_FOR_THE_COMMAND_LINE = ("torch", "transformers")


@pytest.fixture(scope="module")
def console_script(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("bin") / "proteinhub"
    path.write_text(CONSOLE_SCRIPT)
    return path


def _imported_modules(importtime: str) -> set[str]:
    """Module names of `python -X importtime` output (one `import time: self | cumulative | name` line each)."""
    return {line.rsplit("|", 1)[1].strip() for line in importtime.splitlines() if line.startswith("import time:")}


@pytest.mark.parametrize("launch", ["console script", "python -m proteinhub.cli"])
@pytest.mark.parametrize(
    "argv, returncode, expected",
    [
        (["--help"], 0, "usage: proteinhub"),
        (["predict", "--help"], 0, "--all-scores"),
        (["embed", "--help"], 0, "--per-residue"),
        (["push-dataset", "--help"], 0, "--max-shard-size"),
        (["convert", "proteinbert", "--help"], 0, "--padding-mode"),
        (["predict", "--fasta", "in.fasta"], 2, "the following arguments are required: --model"),
        (["convert", "unirep", "--size", "3", "out"], 2, "invalid choice: 3"),
        (["presets", "--bogus"], 2, "unrecognized arguments: --bogus"),
    ],
)
def test_help_and_argument_errors_import_neither_torch_nor_transformers(
    console_script, tmp_path, launch, argv, returncode, expected
):
    program = [str(console_script)] if launch == "console script" else ["-m", "proteinhub.cli"]
    result = subprocess.run(
        [sys.executable, "-X", "importtime", *program, *argv], capture_output=True, text=True, cwd=tmp_path
    )
    assert result.returncode == returncode, result.stderr[-3000:]
    assert expected in result.stdout + result.stderr
    imported = _imported_modules(result.stderr)
    assert "proteinhub.cli" in imported or launch != "console script"
    assert not imported & set(HEAVY_FOR_THE_COMMAND_LINE), sorted(imported & set(HEAVY_FOR_THE_COMMAND_LINE))


def test_console_script_registers_the_families_before_running_a_command(console_script, tmp_path):
    """`import proteinhub` skips registering while the command line starts, so `main` must register: `predict`
    reads a `protein_cnn` config.json, which transformers knows only once the family is registered."""
    torch.manual_seed(0)
    model = build_preset("protein-cnn-small").eval()
    model.save_pretrained(tmp_path / "model")
    ProteinTokenizer(**model.config.tokenizer_kwargs).save_pretrained(tmp_path / "model")
    (tmp_path / "in.fasta").write_text(">P1\nMKTAYIAKQRQISFVKSHFSRQ\n")
    result = subprocess.run(
        [sys.executable, str(console_script), "predict", "--model", "model", "--fasta", "in.fasta", "--no-progress"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    header, row = result.stdout.splitlines()
    assert header.split("\t") == ["id", "length", "labels", "mean_probability"]
    assert row.split("\t")[:2] == ["P1", "22"]


def test_import_proteinhub_registers_every_family_and_nothing_heavy(tmp_path):
    script = """
import sys
import proteinhub
heavy = [name for name in ("datasets", "evaluate", "transformers.pipelines") if name in sys.modules]
from transformers import AutoConfig
for model_type in sys.argv[1:]:
    assert AutoConfig.for_model(model_type).model_type == model_type, model_type
print("heavy:", heavy)
"""
    result = subprocess.run(
        [sys.executable, "-c", script, *FAMILIES], capture_output=True, text=True, cwd=tmp_path, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "heavy: []"


@pytest.mark.parametrize(
    "argv, orig_argv, command_line",
    [
        (["/venv/bin/proteinhub", "--help"], ["/venv/bin/python", "/venv/bin/proteinhub", "--help"], True),
        (["C:\\venv\\Scripts\\proteinhub.exe"], ["C:\\venv\\Scripts\\proteinhub.exe"], True),
        (["-m"], ["python", "-X", "importtime", "-m", "proteinhub.cli", "--help"], True),
        (["-m"], ["python", "-mproteinhub.cli"], True),
        (["-c"], ["python", "-c", "import proteinhub"], False),
        (["train.py", "--config", "quickstart"], ["python", "train.py", "--config", "quickstart"], False),
        (["/venv/bin/pytest", "tests"], ["/venv/bin/python", "/venv/bin/pytest", "tests"], False),
        (["-m"], ["python", "-m", "pytest", "tests"], False),
        (["-m"], ["python", "-m", "proteinhub.inference.predict", "--model", "proteinhub.cli"], False),
        (["/home/me/proteinhub/run.py"], ["python", "/home/me/proteinhub/run.py"], False),
        ([""], ["python"], False),
    ],
)
def test_only_the_command_line_skips_registering_on_import(monkeypatch, argv, orig_argv, command_line):
    monkeypatch.setattr(sys, "argv", argv)
    monkeypatch.setattr(sys, "orig_argv", orig_argv)
    assert proteinhub._started_as_command_line() is command_line


def test_options_repeated_for_argparse_match_the_library():
    from proteinhub.inference import embed
    from proteinhub.modeling.proteinbert.configuration_proteinbert import PADDING_MODES
    from proteinhub.modeling.unirep.convert_unirep_jax import SIZES

    assert cli.EMBED_POOLING == embed.POOLING
    assert cli.UNIREP_SIZES == SIZES
    assert cli.PROTEINBERT_PADDING_MODES == PADDING_MODES
