"""Two-process data-parallel training on CPU (gloo) with `accelerate launch` matches a single-process run.

Tolerance: every final metric and the training loss agree within 1e-4 (observed: training loss 2e-8 apart, metrics
identical to the printed precision). The setup makes the two runs mathematically the same:
- `global_batch_size: 8` -> 4 proteins per process; the same seed gives the same initial weights and the same
  protein order, and the two processes of one step together see the 8 proteins of the single-process step;
- every model loss is a per-process mean (`accepts_loss_kwargs = False`) and DDP averages the two means, which
  equals the mean over the 8 proteins only when both halves hold the same number of scored residues: so all proteins
  are cut to 44 residues (`max_length: 46` with `<cls>`/`<eos>`; the shortest AA_LDR protein has 44), AA_LDR has no
  -100 residues, and there are no class weights (a weighted mean divides by the batch's summed weights, which differ
  between the halves);
- no dropout (the two processes draw different dropout masks).
What remains is float32 summation order in the all-reduce, ~1e-7 relative per step. With class weights, dropout or
proteins of different lengths the two runs differ by more (0.03 ROC-AUC on a tiny run), as expected.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from proteinhub import training

REPO = Path(__file__).resolve().parents[1]
TOLERANCE = 1e-4

TINY_DDP = {
    "model": "protein-cnn-small",
    "config_overrides": {
        "hidden_size": 16,
        "embedding_size": 8,
        "num_layers": 3,
        "dilation_cycle": [1, 4, 16],
        "dropout": 0.0,
        "classifier_dropout": 0.0,
    },
    "dataset_name": "disorder_ldr",
    "max_train_samples": 128,
    "max_eval_samples": 24,
    "max_length": 46,
    "num_train_epochs": 5,
    "global_batch_size": 8,
    "learning_rate": 1e-2,
    "eval_strategy": "epoch",
    "save_strategy": "epoch",
    "logging_strategy": "epoch",
    "metric_for_best_model": "roc_auc",
    "load_best_model_at_end": True,
    "save_total_limit": 1,
    "ddp_find_unused_parameters": False,
    "disable_tqdm": True,
    "seed": 0,
}


def free_port() -> int:
    # another DDP job on the machine may hold accelerate's default port 29500
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.filterwarnings("ignore:.*sequences were truncated")
def test_two_processes_match_one(tmp_path):
    config = tmp_path / "tiny_ddp.yaml"
    config.write_text(yaml.safe_dump({**TINY_DDP, "cache_dir": str(tmp_path / "cache")}))

    single = training.main(["--config", str(config), "--output_dir", str(tmp_path / "single")])

    command = [
        sys.executable,
        "-m",
        "accelerate.commands.launch",
        "--multi_gpu",  # with --cpu, accelerate would start ONE process
        "--num_processes",
        "2",
        "--num_machines",
        "1",
        "--mixed_precision",
        "no",
        "--dynamo_backend",
        "no",
        "--main_process_port",
        str(free_port()),
        str(REPO / "train.py"),
        "--config",
        str(config),
        "--output_dir",
        str(tmp_path / "multi"),
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    multi = json.loads((tmp_path / "multi" / "metrics.json").read_text())

    # both processes ran, as one data-parallel job
    run = multi["run"]
    assert run["world_size"] == 2 and run["distributed_type"] == "DistributedType.MULTI_CPU"
    assert sorted(process["rank"] for process in run["processes"]) == [0, 1]
    assert len({process["pid"] for process in run["processes"]}) == 2
    assert single["run"]["world_size"] == 1
    assert run["global_batch_size"] == single["run"]["global_batch_size"] == 8
    assert multi["train"]["global_steps"] == single["train"]["global_steps"] == 80

    assert multi["train"]["loss"] == pytest.approx(single["train"]["loss"], abs=TOLERANCE)
    for split in ("validation", "test"):
        for name in ("loss", "accuracy", "f1_macro", "mcc", "roc_auc", "pr_auc"):
            assert multi[split][name] == pytest.approx(single[split][name], abs=TOLERANCE), (split, name)
