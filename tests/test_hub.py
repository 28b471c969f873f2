"""Hub sharing against real HTTP servers: `proteinhub.hub` pushes with the official client to the suite's loopback
Hub (`tests/hub_server.py`: real git repositories, tokens enforced), then fresh processes with empty caches load the
pushed repositories back: from the loopback Hub with proteinhub installed (Auto classes and pipelines, no
trust_remote_code) and with proteinhub blocked (`trust_remote_code=True`), and from olah, a third-party read-only Hub
server over the same git repositories (plain `datasets.load_dataset`, cards, snapshots, branches).

Pushes run in this process with an explicit `endpoint=` (huggingface_hub fixed `HF_ENDPOINT` at import, see
`../shared/docs/hub-testing.md`) and Xet switched off; the readers are subprocesses whose environment is set before
any import. Every model class of every registered family is pushed, and all of them are read back in one subprocess
per reader (the interpreter, torch and transformers cost ~5 s per process).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest
import torch
from huggingface_hub import HfApi, constants, hf_hub_download
from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError
from proteinhub import cli, hub
from proteinhub.hub import HubPushError, HubTokenError
from proteinhub.modeling.registry import AUTO_CLASSES
from proteinhub.tokenization import ProteinTokenizer
from safetensors.torch import load_file

# random per run, so that finding it anywhere means it leaked from this run
TOKEN = f"hf_loopback_{secrets.token_hex(16)}"
OTHER_TOKEN = f"hf_loopback_{secrets.token_hex(16)}"
READ_TOKEN = f"hf_loopback_{secrets.token_hex(16)}"
USERS = {
    "alice": {"token": TOKEN, "role": "write", "orgs": ["proteinlab"]},
    "mallory": {"token": OTHER_TOKEN, "role": "write"},
    "reader": {"token": READ_TOKEN, "role": "read"},
}
PIPELINES = {"sequence": "text-classification", "token": "token-classification"}
RUN_REPO = "alice/disorder-cnn"
DATASET_REPO = "alice/disorder-ldr"
FILES_REPO = "proteinlab/my-proteins"
TINY_CNN = {"embedding_size": 8, "hidden_size": 16, "num_layers": 2, "kernel_size": 3, "dilation_cycle": [1, 2]}
SUBPROCESS_TIMEOUT_S = 300


def _load_server_module():
    name = "proteinhub_tests_hub_server"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("hub_server.py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _tree_digest(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def _save_plain(case, model, path: Path) -> None:
    """What a user has after `save_pretrained` without registering the code: the push must add the code."""
    model.save_pretrained(path)
    case.tokenizer().save_pretrained(path)


def _outputs(model, tokenizer, sequences: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
    encoding = tokenizer(sequences, padding=True, return_tensors="pt")
    with torch.no_grad():
        result = model(input_ids=encoding["input_ids"], attention_mask=encoding["attention_mask"])
    logits = getattr(result, "logits", None)
    return encoding["input_ids"], logits if logits is not None else result.last_hidden_state


def _pipeline_labels(model, tokenizer, sequences: list[str]) -> list:
    """The labels a pipeline must predict: it runs one protein at a time, and a model reproducing an original
    without a padding mask gives another answer alone than in a padded batch. Per residue for token models."""
    labels = []
    for sequence in sequences:
        logits = _outputs(model, tokenizer, [sequence])[1][0]
        best = logits.argmax(-1) if logits.shape[-1] > 1 else torch.zeros(logits.shape[:-1], dtype=torch.long)
        names = [model.config.id2label[i] for i in best.reshape(-1).tolist()]
        labels.append(names[0] if logits.dim() == 1 else names[tokenizer.num_leading_special_tokens :][: len(sequence)])
    return labels


def _assert_same_outputs(actual: torch.Tensor, expected: torch.Tensor, name: str) -> None:
    # bit-equal weights; the last float32 bit may differ with the alignment of the loaded tensors (see the battery)
    torch.testing.assert_close(actual, expected, rtol=0, atol=1e-6, msg=lambda message: f"{name}: {message}")


def _git(repo, *args: str) -> str:
    return repo.git(*args).decode()


# servers


@pytest.fixture(scope="module")
def loopback(tmp_path_factory):
    """The loopback Hub (a subprocess on a free 127.0.0.1 port, stopped by PID)."""
    server = _load_server_module().LoopbackHub.start(tmp_path_factory.mktemp("loopback_hub"), USERS)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def client(loopback, tmp_path_factory):
    """This process as a Hub client of the loopback server: no Xet (the client would upload LFS files only through
    Xet, which the server does not speak), and no token but the ones the tests pass."""
    home = tmp_path_factory.mktemp("client_home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(constants, "HF_HUB_DISABLE_XET", True)
        patch.setattr(constants, "HF_HUB_OFFLINE", False)  # CI exports HF_HUB_OFFLINE=1 for everything else
        patch.setattr(constants, "HF_TOKEN_PATH", str(home / "token"))
        for variable in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_OIDC_RESOURCE"):
            patch.delenv(variable, raising=False)
        yield {"endpoint": loopback.url, "token_path": home / "token"}


@pytest.fixture(scope="module")
def olah(loopback, tmp_path_factory):
    """olah 0.5.4 serving the loopback Hub's git repositories read-only, offline, upstream on a dead port."""
    executable = Path(sys.executable).with_name("olah-cli")
    if not executable.exists():
        pytest.skip("olah is not installed (pip install olah; it is a test dependency)")
    workdir = tmp_path_factory.mktemp("olah")
    port = _free_port()
    (workdir / "olah.toml").write_text(
        textwrap.dedent(
            f"""\
            [basic]
            host = "127.0.0.1"
            port = {port}
            repos-path = "{workdir / "cache"}"
            mirrors-path = ["{loopback.root}"]
            mirror-scheme = "http"
            mirror-netloc = "127.0.0.1:{port}"
            mirror-lfs-netloc = "127.0.0.1:{port}"
            hf-scheme = "http"
            hf-netloc = "127.0.0.1:9"
            hf-lfs-netloc = "127.0.0.1:9"
            [accessibility]
            offline = true
            """
        )
    )
    log = open(workdir / "olah.log", "wb")  # noqa: SIM115 (closed after the process)
    process = subprocess.Popen(
        [str(executable), "--config", str(workdir / "olah.toml"), "--log-path", str(workdir / "logs")],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=workdir,
        process_group=0,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:  # `GET /` answers 500 in olah 0.5.4; a repo's revision is the readiness check
            try:
                urllib.request.urlopen(f"{url}/api/models/{RUN_REPO}/revision/main", timeout=5).read()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"olah did not start: {(workdir / 'olah.log').read_text()[-3000:]}")
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


# what gets published


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    """A real run directory of train.py: tiny CNN, a few AA_LDR proteins, one epoch (about 5 s)."""
    from proteinhub import training

    root = tmp_path_factory.mktemp("train_run")
    arguments = ["--model", "protein_cnn", "--config_overrides", json.dumps(TINY_CNN)]
    arguments += ["--dataset_name", "disorder_ldr", "--cache_dir", str(root / "cache")]
    arguments += ["--max_train_samples", "16", "--max_eval_samples", "8", "--num_train_epochs", "1"]
    arguments += ["--per_device_train_batch_size", "8", "--eval_strategy", "epoch", "--save_strategy", "no"]
    arguments += ["--logging_strategy", "epoch", "--report_to", "none", "--output_dir", str(root / "run")]
    training.main(arguments)
    return root / "run"


@pytest.fixture(scope="module")
def published(client, loopback, run_dir, model_testers, tmp_path_factory) -> dict:
    """Push every model class of every family, the train.py run (main) and another model on its `dev` branch, and
    two datasets; returns what the readers must find. Log records of the pushes are kept for the token test."""
    from proteinhub import load_dataset

    root = tmp_path_factory.mktemp("published")
    records: list[str] = []
    handler = logging.Handler(logging.DEBUG)
    handler.emit = lambda record: records.append(handler.format(record))
    # the libraries' loggers do not all propagate to the root logger: listen to each, at DEBUG
    loggers = [logging.getLogger(name) for name in ("", "proteinhub", "huggingface_hub", "transformers", "datasets")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    models, results, folders = {}, {}, {}
    try:
        for case in model_testers.model_cases():
            if case.tester is None:
                continue  # the common battery reports the missing tester
            folder = root / case.id
            model = case.model()
            if case.auto_name == "AutoModel":
                model.save_pretrained(folder)  # no tokenizer: the push adds the one the config describes
            else:
                _save_plain(case, model, folder)
            # what a careless run directory may hold besides the model: none of it may reach the Hub
            (folder / "training_args.bin").write_bytes(b"\x80\x04pickle")
            (folder / "checkpoint-1").mkdir()
            (folder / "checkpoint-1" / "optimizer.pt").write_bytes(b"\x80\x04pickle")
            folders[case.id] = folder
            repo_id = f"alice/{case.id.lower()}"
            results[case.id] = hub.push_run(folder, repo_id, token=TOKEN, endpoint=client["endpoint"])
            input_ids, output = _outputs(model, case.tokenizer(), case.sequences)
            models[case.id] = {
                "repo_id": repo_id,
                "auto_class": case.auto_name,
                "sequences": case.sequences,
                "pipeline": PIPELINES.get(case.head),
                "input_ids": input_ids,
                "output": output,
                "labels": _pipeline_labels(model, case.tokenizer(), case.sequences) if case.head in PIPELINES else None,
            }

        # the train.py run on main, a different model on the dev branch of the same repository
        run_model = AUTO_CLASSES["AutoModelForTokenClassification"].from_pretrained(run_dir)
        run_tokenizer = ProteinTokenizer.from_pretrained(run_dir)
        sequences = ["MKTAYIAKQRQISFVKSHFSRQ", "MSEQVNLQ"]
        results["run"] = hub.push_run(run_dir, RUN_REPO, token=TOKEN, endpoint=client["endpoint"])
        torch.manual_seed(1)
        dev_model = type(run_model)(run_model.config).eval()
        dev_model.save_pretrained(root / "dev")
        run_tokenizer.save_pretrained(root / "dev")
        results["dev"] = hub.push_run(root / "dev", RUN_REPO, revision="dev", token=TOKEN, endpoint=client["endpoint"])
        for name, model in (("run@main", run_model), ("run@dev", dev_model)):
            input_ids, output = _outputs(model, run_tokenizer, sequences)
            revision = name.split("@")[1]
            models[name] = {
                "repo_id": RUN_REPO,
                "revision": revision,
                "auto_class": "AutoModelForTokenClassification",
                "sequences": sequences,
                "pipeline": "token-classification",
                "input_ids": input_ids,
                "output": output,
                "labels": _pipeline_labels(model, run_tokenizer, sequences),
            }

        # datasets: AA_LDR (pushed twice: the second push has more shards, the first push's shard must go), and two
        # configs of protein_files in one repository
        cache = root / "datasets_cache"
        results["ldr-1"] = hub.push_dataset(
            "disorder_ldr", "default", DATASET_REPO, cache_dir=cache, token=TOKEN, endpoint=client["endpoint"]
        )
        results["ldr-2"] = hub.push_dataset(
            "disorder_ldr",
            "default",
            DATASET_REPO,
            cache_dir=cache,
            max_shard_size=20_000,
            token=TOKEN,
            endpoint=client["endpoint"],
        )
        files = _protein_files(root / "protein_files")
        for config, data_files in files.items():
            results[config] = hub.push_dataset(
                "protein_files",
                config,
                FILES_REPO,
                data_files=data_files,
                cache_dir=cache,
                token=TOKEN,
                endpoint=client["endpoint"],
            )
        datasets = {
            (DATASET_REPO, "default"): load_dataset("disorder_ldr", cache_dir=cache),
            **{
                (FILES_REPO, config): load_dataset("protein_files", config, data_files=data_files, cache_dir=cache)
                for config, data_files in files.items()
            },
        }
    finally:
        for logger, level in zip(loggers, levels):
            logger.removeHandler(handler)
            logger.setLevel(level)
    return {"models": models, "results": results, "folders": folders, "datasets": datasets, "records": records}


def _protein_files(folder: Path) -> dict[str, dict[str, str]]:
    folder.mkdir()
    (folder / "seq_train.fasta").write_text(">p1 label=Nucleus\nMKTAYIAKQR\n>p2 label=Cytoplasm\nMSSHEGGKKKA\n")
    (folder / "seq_test.fasta").write_text(">p3 label=Nucleus\nMPEPTIDEK\n")
    (folder / "res_train.fasta").write_text(">r1 labels=0011100\nMKTAYIA\n>r2 labels=01-10\nMSSHE\n")
    (folder / "res_test.fasta").write_text(">r3 labels=000111\nMPEPTI\n")
    return {
        "protein_classification": {"train": str(folder / "seq_train.fasta"), "test": str(folder / "seq_test.fasta")},
        "residue_classification": {"train": str(folder / "res_train.fasta"), "test": str(folder / "res_test.fasta")},
    }


# readers: fresh processes, empty caches

_READER = textwrap.dedent(
    """
    import contextlib, importlib.abc, io, json, pathlib, pickle, re, sys, time, traceback

    job = json.load(open(sys.argv[1]))
    if job["block_proteinhub"]:
        class BlockProteinhub(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name == "proteinhub" or name.startswith("proteinhub."):
                    raise ModuleNotFoundError(f"{name} is blocked: the Hub repository must load without proteinhub")
                return None

        sys.meta_path.insert(0, BlockProteinhub())
        try:
            import proteinhub
        except ImportError:
            pass
        else:
            sys.exit("proteinhub is importable in the subprocess, so the test would prove nothing")
    else:
        import proteinhub

    import huggingface_hub

    if job["models"] or job["snippets"]:
        import torch, transformers
        from safetensors.torch import save_file
    if job["datasets"]:
        import datasets

    # loading a proteinhub repository must never unpickle anything
    def refuse(*args, **kwargs):
        raise RuntimeError("unpickling attempted while loading from the Hub")

    class RefusingUnpickler:
        def __init__(self, *args, **kwargs):
            refuse()

    pickle.load = pickle.loads = refuse
    pickle.Unpickler = RefusingUnpickler
    if "torch" in sys.modules:
        torch.load = refuse

    remote = {"trust_remote_code": True} if job["block_proteinhub"] else {}
    report, tensors = {"models": {}, "snippets": {}, "datasets": {}, "files": {}}, {}
    for name, entry in job["models"].items():
        started = time.perf_counter()
        try:
            revision = entry.get("revision")
            auto_class = getattr(transformers, entry["auto_class"])
            model = auto_class.from_pretrained(entry["repo_id"], revision=revision, **remote).eval()
            tokenizer = transformers.AutoTokenizer.from_pretrained(entry["repo_id"], revision=revision, **remote)
            encoding = tokenizer(entry["sequences"], padding=True, return_tensors="pt")
            with torch.no_grad():
                result = model(input_ids=encoding["input_ids"], attention_mask=encoding["attention_mask"])
            logits = getattr(result, "logits", None)
            tensors[f"{name}/input_ids"] = encoding["input_ids"].contiguous()
            tensors[f"{name}/output"] = (logits if logits is not None else result.last_hidden_state).contiguous()
            predictions, loaded = None, time.perf_counter()
            if entry["pipeline"]:
                predictor = transformers.pipeline(
                    entry["pipeline"], model=entry["repo_id"], revision=revision, device="cpu", **remote
                )
                predictions = json.loads(json.dumps(predictor(entry["sequences"]), default=float))
            report["models"][name] = {
                "model": type(model).__module__ + "." + type(model).__name__,
                "tokenizer": type(tokenizer).__module__ + "." + type(tokenizer).__name__,
                "predictions": predictions,
                "seconds": {"load": loaded - started, "pipeline": time.perf_counter() - loaded},
            }
        except Exception:
            report["models"][name] = {"error": traceback.format_exc()}

    for repo_id, block in job["snippets"]:
        try:
            card = huggingface_hub.ModelCard.load(repo_id)
            code = re.findall(r"```python\\n(.*?)```", card.text, re.DOTALL)[block]
            output = io.StringIO()
            with contextlib.redirect_stdout(output):
                exec(compile(code, f"<card snippet {block} of {repo_id}>", "exec"), {})
            report["snippets"][f"{repo_id}#{block}"] = {"code": code, "stdout": output.getvalue()}
        except Exception:
            report["snippets"][f"{repo_id}#{block}"] = {"error": traceback.format_exc()}

    for repo_id, config in job["datasets"]:
        try:
            loaded = datasets.load_dataset(repo_id, config)
            report["datasets"][f"{repo_id}:{config}"] = {
                split: {"rows": split_data.to_list(), "features": split_data.features.to_dict()}
                for split, split_data in loaded.items()
            }
        except Exception:
            report["datasets"][f"{repo_id}:{config}"] = {"error": traceback.format_exc()}

    for repo_id, revision in job["snapshots"]:
        try:
            folder = huggingface_hub.snapshot_download(repo_id, revision=revision)
            files = sorted(p.name for p in pathlib.Path(folder).iterdir() if p.is_file())
            metrics = None
            if "metrics.json" in files:
                metrics = json.load(open(huggingface_hub.hf_hub_download(repo_id, "metrics.json", revision=revision)))
            report["files"][f"{repo_id}@{revision}"] = {
                "snapshot": files,
                "metrics": metrics,
                "card": huggingface_hub.ModelCard.load(repo_id).content,
                "refs": sorted(b.name for b in huggingface_hub.list_repo_refs(repo_id).branches),
            }
        except Exception:
            report["files"][f"{repo_id}@{revision}"] = {"error": traceback.format_exc()}

    report["modules"] = sorted(m for m in sys.modules if m.split(".")[0] in ("proteinhub", "torch"))
    if tensors:
        save_file(tensors, job["tensors"])
    open(job["report"], "w").write(json.dumps(report))
    """
)


def _read_back(workdir: Path, endpoint: str, block_proteinhub: bool, **job) -> dict:
    """Run the reader in ONE fresh subprocess with an empty HF_HOME whose only Hub is `endpoint`; `job` lists the
    "models", "snippets", "datasets" and "snapshots" to load."""
    workdir.mkdir(parents=True, exist_ok=True)
    job = {"models": {}, "snippets": [], "datasets": [], "snapshots": []} | job
    job |= {
        "block_proteinhub": block_proteinhub,
        "tensors": str(workdir / "tensors.safetensors"),
        "report": str(workdir / "report.json"),
    }
    (workdir / "job.json").write_text(json.dumps(job))
    (workdir / "reader.py").write_text(_READER)
    env = {key: value for key, value in os.environ.items() if not key.startswith(("HF_", "HUGGING"))}
    env |= {
        "HF_ENDPOINT": endpoint,
        "HF_HOME": str(workdir / "hf_home"),
        "HF_HUB_DISABLE_XET": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "HF_HUB_ETAG_TIMEOUT": "30",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        "OMP_NUM_THREADS": "1",
    }
    started = time.perf_counter()
    process = subprocess.run(
        [sys.executable, *(["-I"] if block_proteinhub else []), str(workdir / "reader.py"), str(workdir / "job.json")],
        cwd=workdir,  # outside the repository, whose root is the proteinhub package
        env=env,
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT_S,
    )
    ok = process.returncode == 0
    return {
        "process": process,
        "seconds": time.perf_counter() - started,
        "report": json.loads(Path(job["report"]).read_text()) if ok else {},
        "tensors": load_file(job["tensors"]) if ok and Path(job["tensors"]).exists() else {},
        "workdir": workdir,
    }


def _model_job(published: dict) -> dict:
    return {
        name: {key: value for key, value in entry.items() if key not in ("input_ids", "output", "labels")}
        for name, entry in published["models"].items()
    }


@pytest.fixture(scope="module")
def read_with_proteinhub(published, loopback, tmp_path_factory) -> dict:
    """Auto classes and pipelines with proteinhub installed, no trust_remote_code; the card's first snippet."""
    workdir = tmp_path_factory.mktemp("reader_proteinhub")
    return _read_back(workdir, loopback.url, False, models=_model_job(published), snippets=[[RUN_REPO, 0]])


@pytest.fixture(scope="module")
def read_without_proteinhub(published, loopback, tmp_path_factory) -> dict:
    """The same where proteinhub cannot be imported, with trust_remote_code=True; the card's second snippet."""
    workdir = tmp_path_factory.mktemp("reader_remote_code")
    return _read_back(workdir, loopback.url, True, models=_model_job(published), snippets=[[RUN_REPO, 1]])


@pytest.fixture(scope="module")
def read_through_olah(published, olah, tmp_path_factory) -> dict:
    """Plain `datasets.load_dataset` and huggingface_hub downloads (cards, snapshots, branches) from olah, a
    third-party Hub server reading the same git repositories, without proteinhub. (olah answers 401 for a missing
    file at a branch name, which transformers' optional-file probes, e.g. adapter_config.json, cannot take: models
    are read back from the loopback Hub above.)"""
    datasets = [[repo_id, config] for repo_id, config in published["datasets"]]
    datasets += [[DATASET_REPO, None], [FILES_REPO, None]]  # the default config
    snapshots = [[RUN_REPO, "main"], [RUN_REPO, "dev"]]
    workdir = tmp_path_factory.mktemp("reader_olah")
    return _read_back(workdir, olah, True, datasets=datasets, snapshots=snapshots)


def _check_models(reader: dict, published: dict, names: list[str], remote_code: bool) -> None:
    process = reader["process"]
    assert process.returncode == 0, process.stderr[-4000:]
    report, tensors = reader["report"], reader["tensors"]
    if remote_code:
        assert not [m for m in report["modules"] if m.startswith("proteinhub")], "the subprocess imported proteinhub"
    for name in names:
        expected, entry = published["models"][name], report["models"][name]
        assert "error" not in entry, f"{name} did not load from the Hub:\n{entry.get('error')}"
        prefix = "transformers_modules." if remote_code else "proteinhub."
        assert entry["model"].startswith(prefix) and entry["tokenizer"].startswith(prefix), entry
        assert entry["tokenizer"].endswith(".ProteinTokenizer")
        assert torch.equal(tensors[f"{name}/input_ids"], expected["input_ids"]), f"{name}: tokenizer differs"
        _assert_same_outputs(tensors[f"{name}/output"], expected["output"], name)
        _check_predictions(name, expected, entry["predictions"])


def _check_predictions(name: str, expected: dict, predictions) -> None:
    if expected["pipeline"] is None:
        return
    assert predictions is not None, f"{name}: no pipeline output"
    if expected["pipeline"] == "text-classification":
        assert [p["label"] for p in predictions] == expected["labels"], name
        return
    for sequence, labels, entities in zip(expected["sequences"], expected["labels"], predictions):
        assert [entity["word"] for entity in entities] == list(sequence), f"{name}: one prediction per residue"
        assert [entity["entity"] for entity in entities] == labels, name


# tests: what is pushed


def test_xet_is_off_for_the_loopback_hub(client):
    """The client would upload safetensors and parquet only through Xet, which the loopback Hub does not speak."""
    from huggingface_hub.utils._runtime import is_xet_available

    assert not is_xet_available(), "set HF_HUB_DISABLE_XET=1 (or constants.HF_HUB_DISABLE_XET) for the loopback hub"


def test_push_sends_safetensors_code_and_card_and_never_pickles(published, loopback, model_testers):
    for case_id, folder in published["folders"].items():
        entry = published["models"][case_id]
        repo = loopback.repo(entry["repo_id"])
        files = set(_git(repo, "ls-tree", "-r", "--name-only", "main").split())
        assert {"model.safetensors", "config.json", "tokenizer.json", "tokenizer_config.json", "README.md"} <= files
        assert not {"training_args.bin", "checkpoint-1/optimizer.pt"} & files, f"{case_id}: a pickle was pushed"
        skipped = published["results"][case_id].skipped
        assert any(s.startswith("training_args.bin") for s in skipped) and any("checkpoint-1/" in s for s in skipped)
        # the plain save_pretrained folder had no code: the push added it and the auto_map, locally nothing changed
        assert not list(folder.glob("*.py")) and "auto_map" not in json.loads((folder / "config.json").read_text())
        assert (folder / "tokenizer.json").exists() != (entry["auto_class"] == "AutoModel"), "see `published`"
        config = json.loads(_git(repo, "show", "main:config.json"))
        tokenizer_config = json.loads(_git(repo, "show", "main:tokenizer_config.json"))
        assert set(config["auto_map"]) == {"AutoConfig", entry["auto_class"]}
        for reference in [*config["auto_map"].values(), tokenizer_config["auto_map"]["AutoTokenizer"][0]]:
            assert f"{reference.rsplit('.', 1)[0]}.py" in files, reference
        # weights went through LFS as a pointer; the object holds the same bytes as the local file
        pointer = _git(repo, "show", "main:model.safetensors")
        oid = re.search(r"oid sha256:([0-9a-f]{64})", pointer).group(1)
        assert oid == hashlib.sha256((folder / "model.safetensors").read_bytes()).hexdigest()
        card = _git(repo, "show", "main:README.md")
        assert f'"{entry["repo_id"]}")' in card and str(folder) not in card and "library_name: transformers" in card


def test_run_directory_is_pushed_whole_with_a_card_pointing_at_the_repo(published, loopback, run_dir):
    repo = loopback.repo(RUN_REPO)
    files = set(_git(repo, "ls-tree", "-r", "--name-only", "main").split())
    local = {p.name for p in run_dir.iterdir() if p.is_file()}
    assert local <= files, f"not pushed: {sorted(local - files)}"
    assert {"metrics.json", "README.md", "model.safetensors"} <= files and any(f.endswith(".png") for f in files)
    card = _git(repo, "show", "main:README.md")
    assert str(run_dir) not in card, "the pushed card still loads the local run directory"
    assert f'pipeline("token-classification", model="{RUN_REPO}")' in card
    assert f'from_pretrained("{RUN_REPO}", trust_remote_code=True)' in card
    assert card.startswith("---\n") and "model-index:" in card and "library_name: transformers" in card
    assert (run_dir / "README.md").read_text().count(str(run_dir)) >= 3, "the local card must stay as it was"
    dev_card = _git(repo, "show", "dev:README.md")
    assert f'model="{RUN_REPO}", revision="dev"' in dev_card
    commits = _git(repo, "log", "--format=%s", "main").splitlines()
    assert commits == [f"Upload {run_dir.name} with proteinhub", "initial commit"], "one commit per push"


# tests: loading back anywhere


def test_round_trip_with_proteinhub(family_cases, published, read_with_proteinhub):
    """Auto classes and pipeline load each pushed repository with NO trust_remote_code (proteinhub installed)."""
    _check_models(read_with_proteinhub, published, [case.id for case in family_cases], remote_code=False)


def test_round_trip_without_proteinhub(family_cases, published, read_without_proteinhub):
    """Where proteinhub cannot be imported, `trust_remote_code=True` loads model, tokenizer and pipeline."""
    _check_models(read_without_proteinhub, published, [case.id for case in family_cases], remote_code=True)


def test_revisions_and_read_paths(published, read_with_proteinhub, read_through_olah, run_dir):
    _check_models(read_with_proteinhub, published, ["run@main", "run@dev"], remote_code=False)
    main_output = published["models"]["run@main"]["output"]
    assert not torch.allclose(main_output, published["models"]["run@dev"]["output"]), "dev must hold another model"
    assert read_through_olah["process"].returncode == 0, read_through_olah["process"].stderr[-4000:]
    files = read_through_olah["report"]["files"]
    main, dev = files[f"{RUN_REPO}@main"], files[f"{RUN_REPO}@dev"]
    assert "error" not in main and "error" not in dev, main.get("error") or dev.get("error")
    assert main["metrics"] == json.loads((run_dir / "metrics.json").read_text())
    assert set(main["snapshot"]) == {p.name for p in run_dir.iterdir() if p.is_file()} | {".gitattributes"}
    assert main["refs"] == ["dev", "main"]
    assert f'model="{RUN_REPO}"' in main["card"] and "model-index:" in main["card"]
    # the dev push (a plain folder, no training record) replaced the run's files on its branch
    assert "metrics.json" not in dev["snapshot"] and not any(name.endswith(".png") for name in dev["snapshot"])
    assert {"model.safetensors", "config.json", "modeling_cnn.py"} <= set(dev["snapshot"])


def test_card_usage_snippets_run_against_the_pushed_repository(read_with_proteinhub, read_without_proteinhub):
    for reader, block in ((read_with_proteinhub, 0), (read_without_proteinhub, 1)):
        assert reader["process"].returncode == 0, reader["process"].stderr[-4000:]
        result = reader["report"]["snippets"][f"{RUN_REPO}#{block}"]
        assert "error" not in result, result.get("error")
        assert RUN_REPO in result["code"]
    assert "'entity'" in read_with_proteinhub["report"]["snippets"][f"{RUN_REPO}#0"]["stdout"]


def test_dataset_round_trip(published, read_through_olah):
    """Plain datasets.load_dataset (no proteinhub) gives the rows and features of proteinhub.load_dataset."""
    assert read_through_olah["process"].returncode == 0, read_through_olah["process"].stderr[-4000:]
    report = read_through_olah["report"]["datasets"]
    defaults = {DATASET_REPO: "default", FILES_REPO: "protein_classification"}  # the first config pushed
    for (repo_id, config), local in published["datasets"].items():
        for requested in {config, None} if defaults[repo_id] == config else {config}:
            loaded = report[f"{repo_id}:{requested}"]
            assert "error" not in loaded, loaded.get("error")
            assert set(loaded) == set(local), (repo_id, requested)
            for split, split_data in local.items():
                assert loaded[split]["rows"] == split_data.to_list(), f"{repo_id} {config} {split} rows differ"
                assert loaded[split]["features"] == split_data.features.to_dict()


def test_dataset_card_and_shards(published, loopback):
    repo = loopback.repo(DATASET_REPO, "dataset")
    files = _git(repo, "ls-tree", "-r", "--name-only", "main").split()
    shards = [f for f in files if f.endswith(".parquet")]
    assert shards and all(f.startswith("data/") for f in shards)
    assert "data/train-00000-of-00001.parquet" not in shards, "the first push's shard is stale and must be deleted"
    assert len([f for f in shards if "/train-" in f]) > 1, "max_shard_size must split the train split"
    card = _git(repo, "show", "main:README.md")
    for expected in ("config_name: default", "path: data/train-*", "license: bsd-3-clause", "@article", "| train |"):
        assert expected in card, expected
    assert "ordered" in card and "disordered" in card, "the card names the residue classes"
    files_card = _git(loopback.repo(FILES_REPO, "dataset"), "show", "main:README.md")
    for config in ("protein_classification", "residue_classification"):
        assert f"config_name: {config}" in files_card and f"path: {config}/train-*" in files_card
    assert files_card.count("default: true") == 1


# tests: reliability


def test_failed_commit_leaves_the_previous_revision_and_a_retry_succeeds(client, loopback, model_testers, tmp_path):
    case = next(c for c in model_testers.model_cases() if c.family.model_type == "protein_cnn" and c.tester)
    first, second = tmp_path / "first", tmp_path / "second"
    _save_plain(case, case.model(seed=0), first)
    _save_plain(case, case.model(seed=1), second)
    repo_id, repo = "alice/flaky", loopback.repo("alice/flaky")
    push = dict(token=TOKEN, endpoint=client["endpoint"])

    # a 500 on an LFS upload is retried by the client: the push goes through
    loopback.clear()
    loopback.inject_fault("lfs-upload")
    hub.push_run(first, repo_id, **push)
    uploads = [r["status"] for r in loopback.requests() if r["path"].startswith("/_loopback/lfs-upload/")]
    assert uploads == [500, 200]
    before = _git(repo, "rev-parse", "main").strip()
    before_files = _git(repo, "ls-tree", "-r", "main")

    # a 500 in the middle of the commit (3 operations already written) is not retried: a clear error, nothing moved
    local = _tree_digest(second)
    loopback.clear()
    loopback.inject_fault("commit", after_operations=3)
    with pytest.raises(HubPushError) as failure:
        hub.push_run(second, repo_id, **push)
    message = str(failure.value)
    assert "500" in message and "previous revision" in message and str(second) in message and "again" in message
    assert TOKEN not in message
    assert _tree_digest(second) == local, "the local folder was modified"
    assert _git(repo, "rev-parse", "main").strip() == before, "a half-written revision became visible"
    assert _git(repo, "ls-tree", "-r", "main") == before_files
    assert not list(repo.git_dir.glob("index-commit-*")), "the server left its staging index behind"
    api = HfApi(endpoint=client["endpoint"])
    assert api.model_info(repo_id, token=TOKEN).sha == before
    assert [c.commit_id for c in api.list_repo_commits(repo_id, token=TOKEN)][0] == before

    # the retry commits, and does not upload the weights again
    loopback.clear()
    result = hub.push_run(second, repo_id, **push)
    assert not [r for r in loopback.requests() if r["path"].startswith("/_loopback/lfs-upload/")]
    assert _git(repo, "rev-parse", "main").strip() == result.commit_oid != before
    pointer = _git(repo, "show", "main:model.safetensors")
    assert hashlib.sha256((second / "model.safetensors").read_bytes()).hexdigest() in pointer


# tests: tokens


def _writes(requests: list[dict]) -> list[dict]:
    return [r for r in requests if r["method"] in ("POST", "PUT", "DELETE")]


def test_push_without_token_fails_before_any_request(client, loopback, published, monkeypatch):
    folder = next(iter(published["folders"].values()))
    loopback.clear()
    with pytest.raises(HubTokenError, match="HF_TOKEN") as failure:
        hub.push_run(folder, "alice/no-token", endpoint=client["endpoint"])
    assert "Nothing was uploaded" in str(failure.value)
    with pytest.raises(HubTokenError):
        hub.push_dataset("disorder_ldr", "default", "alice/no-token", endpoint=client["endpoint"])
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(HubPushError, match="HF_HUB_OFFLINE"):
        hub.push_run(folder, "alice/offline", token=TOKEN, endpoint=client["endpoint"])
    assert loopback.requests() == [], "a request was sent without a token or in offline mode"


@pytest.mark.parametrize(
    ("token", "repo_id", "error", "message"),
    [
        ("hf_not_a_token", "alice/refused", HubTokenError, "rejected the token"),
        (READ_TOKEN, "reader/refused", HubTokenError, "read-only"),
        (OTHER_TOKEN, "alice/refused", HubPushError, "rights"),  # mallory writing into alice's namespace
    ],
)
def test_refused_tokens_upload_nothing(client, loopback, published, token, repo_id, error, message):
    folder = next(iter(published["folders"].values()))
    loopback.clear()
    with pytest.raises(error, match=message):
        hub.push_run(folder, repo_id, token=token, endpoint=client["endpoint"])
    writes = _writes(loopback.requests())
    assert all(r["status"] >= 400 for r in writes) and not any("lfs" in r["path"] for r in writes), writes
    assert not loopback.repo(repo_id).exists()


def test_private_push_never_goes_into_a_public_repository(client, loopback, published):
    case_id, folder = next(iter(published["folders"].items()))
    repo = loopback.repo(published["models"][case_id]["repo_id"])
    head = _git(repo, "rev-parse", "main")
    loopback.clear()
    with pytest.raises(HubPushError, match="already exists and is public"):
        hub.push_run(folder, repo.repo_id, private=True, token=TOKEN, endpoint=client["endpoint"])
    assert _writes(loopback.requests()) == [] and _git(repo, "rev-parse", "main") == head


def test_server_enforces_tokens(client, loopback, tmp_path):
    """The loopback Hub itself refuses unauthenticated and wrong-token writes, and hides private repositories."""
    api = HfApi(endpoint=client["endpoint"])
    for token in (False, "hf_wrong"):
        with pytest.raises(HfHubHTTPError) as refused:
            api.create_repo("alice/anonymous", token=token)
        assert refused.value.response.status_code == 401
    api.create_repo("alice/secret", private=True, token=TOKEN)
    api.upload_file(path_or_fileobj=b"hidden", path_in_repo="notes.txt", repo_id="alice/secret", token=TOKEN)
    download = dict(repo_id="alice/secret", filename="notes.txt", endpoint=client["endpoint"], cache_dir=tmp_path)
    for token in (False, OTHER_TOKEN):
        with pytest.raises(RepositoryNotFoundError):
            hf_hub_download(**download, token=token)
    assert Path(hf_hub_download(**download, token=TOKEN)).read_bytes() == b"hidden"


def test_loopback_hub_speaks_the_client_protocol(client, loopback, tmp_path):
    """The calls proteinhub does not make but a user of the loopback Hub would: folders, tags, paths-info, delete."""
    api = HfApi(endpoint=client["endpoint"], token=TOKEN)
    repo_id = api.create_repo("proteinlab/protocol").repo_id
    (tmp_path / "sub").mkdir()
    for name in ("a.txt", "sub/b.txt", "sub/c.safetensors"):
        (tmp_path / name).write_bytes(name.encode() * 3)
    api.upload_folder(repo_id=repo_id, folder_path=tmp_path)
    assert {f.path for f in api.get_paths_info(repo_id, ["a.txt", "sub", "missing"])} == {"a.txt", "sub"}
    assert api.get_paths_info(repo_id, ["sub/c.safetensors"])[0].lfs.size == len(b"sub/c.safetensors" * 3)
    api.create_tag(repo_id, tag="v1")
    api.delete_folder("sub", repo_id=repo_id)
    assert api.list_repo_files(repo_id) == [".gitattributes", "a.txt"]
    assert "sub/b.txt" in api.list_repo_files(repo_id, revision="v1")
    with pytest.raises(HfHubHTTPError) as stale:  # a commit on top of an old revision is refused
        api.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id=repo_id, parent_commit="0" * 40)
    assert stale.value.response.status_code == 412
    api.delete_repo(repo_id)
    assert not loopback.repo(repo_id).exists()


def test_token_in_a_file_is_refused(client, loopback, run_dir, tmp_path):
    folder = tmp_path / "leaky"
    shutil.copytree(run_dir, folder)
    (folder / "run_config.yaml").write_text(f"hub_token: {TOKEN}\nlearning_rate: 0.001\n")
    loopback.clear()
    with pytest.raises(HubPushError, match="run_config.yaml contains your Hugging Face token") as failure:
        hub.push_run(folder, "alice/leaky", token=TOKEN, endpoint=client["endpoint"])
    assert TOKEN not in str(failure.value)
    assert _writes(loopback.requests()) == []


def test_cli_push_reads_the_token_from_the_environment(client, loopback, published, monkeypatch, capsys):
    folder = next(iter(published["folders"].values()))
    args, _ = cli.parse_command_line(["push", str(folder), "cli-model", "--private", "--revision", "v1"])
    monkeypatch.setattr(constants, "ENDPOINT", client["endpoint"])  # what HF_ENDPOINT does at import
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    assert hub.run_push(args) == 0
    printed = capsys.readouterr()
    assert "alice/cli-model@v1" in printed.out and "not pushed: training_args.bin" in printed.out
    repo = loopback.repo("alice/cli-model")
    assert repo.private and _git(repo, "rev-parse", "--verify", "v1")
    monkeypatch.delenv("HF_TOKEN")
    assert hub.run_push(args) == 1
    printed = capsys.readouterr()
    assert "no Hugging Face token found" in printed.err and TOKEN not in printed.out + printed.err

    args, _ = cli.parse_command_line(["push-dataset", "disorder_ldr", "default", "alice/cli-dataset"])
    assert hub.run_push_dataset(args) == 1 and "no Hugging Face token found" in capsys.readouterr().err


def test_token_is_written_nowhere(
    published, loopback, client, run_dir, read_with_proteinhub, read_without_proteinhub, request
):
    """The token never appears in a card, config, log line, run directory, pushed repository or cache."""
    needle = TOKEN.encode()
    places: dict[str, bytes] = {}
    for folder in [run_dir, *published["folders"].values(), loopback.root.parent]:
        for path in folder.rglob("*"):
            if path.is_file():
                places[str(path)] = path.read_bytes()
    for kind in ("models", "datasets"):
        for repo_dir in (loopback.root / kind).glob("*/*"):
            # every git object, decompressed: blobs of every commit, trees, commit messages
            places[f"{repo_dir} objects"] = subprocess.run(
                ["git", "-C", str(repo_dir), "cat-file", "--batch-all-objects", "--batch"],
                capture_output=True,
                check=True,
            ).stdout
    readers = [read_with_proteinhub, read_without_proteinhub]
    if Path(sys.executable).with_name("olah-cli").exists():
        readers.append(request.getfixturevalue("read_through_olah"))
    for reader in readers:
        places[f"{reader['workdir']} stdout+stderr"] = (reader["process"].stdout + reader["process"].stderr).encode()
        for path in reader["workdir"].rglob("*"):
            if path.is_file():
                places[str(path)] = path.read_bytes()
    places["log records of the pushes"] = "\n".join(published["records"]).encode()
    assert len(places) > 100 and published["records"], "the scan looked at almost nothing"
    leaks = [name for name, content in places.items() if needle in content]
    assert not leaks, f"the token was found in {leaks}"
    assert not client["token_path"].exists(), "a push stored the token"


def test_train_push_to_hub_checks_the_token_first_then_pushes_the_run(client, loopback, tmp_path, monkeypatch):
    """`train.py --push_to_hub REPO` refuses a missing token before training, and otherwise pushes the finished run
    directory (not Trainer's own push, which would upload training_args.bin, a pickle) without writing the token."""
    from proteinhub import training

    monkeypatch.setattr(constants, "ENDPOINT", loopback.url)  # train.py pushes to the default endpoint
    arguments = ["--model", "protein_cnn", "--config_overrides", json.dumps(TINY_CNN)]
    arguments += ["--dataset_name", "disorder_ldr", "--cache_dir", str(tmp_path / "cache")]
    arguments += ["--max_train_samples", "8", "--max_eval_samples", "4", "--num_train_epochs", "1"]
    arguments += ["--save_strategy", "no", "--report_to", "none", "--output_dir", str(tmp_path / "run")]
    arguments += ["--push_to_hub", "alice/pushed-by-train"]
    with pytest.raises(HubTokenError):
        training.main(arguments)
    assert not (tmp_path / "run").exists(), "training started before the token was checked"

    training.main([*arguments, "--hub_token", TOKEN])
    files = HfApi(endpoint=loopback.url).list_repo_files("alice/pushed-by-train", token=TOKEN)
    assert {"model.safetensors", "config.json", "tokenizer_config.json", "README.md", "metrics.json"} <= set(files)
    assert not any(name.endswith((".bin", ".pt", ".pkl")) for name in files)
    for path in (tmp_path / "run").rglob("*"):
        assert not path.is_file() or TOKEN.encode() not in path.read_bytes(), f"the token leaked into {path}"


_BLOCK_PROTEINHUB = """
import importlib.abc, sys
class _Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "proteinhub" or name.startswith("proteinhub."):
            raise ModuleNotFoundError(f"No module named {name!r} (blocked by the test)")
sys.meta_path.insert(0, _Block())
"""


def test_readme_hub_section_runs(published, loopback, olah, run_dir, tmp_path):
    """The README's "Share on the Hugging Face Hub" commands and snippets, against the loopback Hub (pushes, models)
    and olah (datasets), with `your-name` as the test user; the snippet marked "without proteinhub" runs with
    proteinhub blocked."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme.split("## Share on the Hugging Face Hub", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"^```(console|py)\n(.*?)^```", section, flags=re.MULTILINE | re.DOTALL)
    assert [language for language, _ in blocks] == ["console", "py", "py", "py"]
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    (scratch / "quickstart").symlink_to(run_dir)
    env = {key: value for key, value in os.environ.items() if not key.startswith(("HF_", "HUGGING"))}
    env |= {
        "PROTEINHUB_SCRATCH": str(scratch),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "HF_HOME": str(tmp_path / "hf_home"),
        "HF_HUB_DISABLE_XET": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "HF_DATASETS_CACHE": str(tmp_path / "datasets"),
        "OMP_NUM_THREADS": "1",
    }
    for language, code in blocks:
        code = code.replace("your-name/", "alice/readme-")
        if language == "console":
            commands = [line for line in code.splitlines() if line.strip() and not line.startswith("export HF_TOKEN")]
            for command in commands:
                result = subprocess.run(
                    ["bash", "-c", command],
                    env=env | {"HF_ENDPOINT": loopback.url, "HF_TOKEN": TOKEN},
                    cwd=tmp_path,
                    capture_output=True,
                    text=True,
                    timeout=SUBPROCESS_TIMEOUT_S,
                )
                assert result.returncode == 0, f"{command}\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
            continue
        # datasets are read through olah; models from the loopback Hub (olah answers 401 to transformers' probes)
        endpoint = olah if "load_dataset" in code else loopback.url
        prefix = _BLOCK_PROTEINHUB if "without proteinhub" in code else ""
        result = subprocess.run(
            [sys.executable, "-I", "-c", prefix + code],
            env=env | {"HF_ENDPOINT": endpoint, "HF_TOKEN": TOKEN},
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=SUBPROCESS_TIMEOUT_S,
        )
        assert result.returncode == 0, f"{code}\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
