"""Share proteinhub models and datasets on the Hugging Face Hub.

    proteinhub push RUN_DIR REPO_ID [--private] [--revision BRANCH] [--no-code]
    proteinhub push-dataset NAME CONFIG REPO_ID [--data-dir DIR] [--private] [--revision BRANCH]

`push_run` uploads a run directory of `train.py` (or any folder written by `save_pretrained`): the safetensors
weights, config, tokenizer, model card, metrics and plots, and by default the model, configuration and tokenizer
code, so that the repository loads with the Auto classes where proteinhub is installed, and with
`trust_remote_code=True` where it is not. `push_dataset` prepares a proteinhub dataset and uploads it as Parquet
shards with a dataset card whose `configs:` metadata lets plain `datasets.load_dataset(REPO_ID, CONFIG)` load it.

Both make exactly one commit: the Hub applies a commit all at once, so a failed push leaves the repository at its
previous revision, and pushing again resumes (large files already uploaded are not sent twice). Local files are
never modified: edited files (the card's usage snippet, `config.json` when code is added) are uploaded from memory.

Security: the token comes from `token=`, `HF_TOKEN` or `hf auth login`, and is never written anywhere. Without a
token, or with one the Hub rejects, a push fails before any upload. Every file is checked not to contain the token
before it is sent. Only safetensors weights are pushed: pickle-based files (`*.bin`, `*.pt`, `*.pkl`, ...) and
checkpoint folders are skipped, so loading the repository never unpickles anything.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from huggingface_hub import (
    CommitOperationAdd,
    CommitOperationDelete,
    DatasetCard,
    DatasetCardData,
    HfApi,
    constants,
    get_token,
)
from huggingface_hub.errors import HfHubHTTPError

from . import cards

logger = logging.getLogger(__name__)

# top-level files of a run directory that are pushed; everything else (pickles, checkpoint-* folders, logs) stays
UPLOADED_SUFFIXES = (".safetensors", ".json", ".py", ".md", ".png", ".yaml", ".txt", ".jinja")
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt", ".joblib", ".npy", ".npz")
DEFAULT_MAX_SHARD_SIZE = 500 * 2**20  # bytes of Arrow data per Parquet shard, datasets' own default
_TOKEN_HELP = (
    "set the HF_TOKEN environment variable or run `hf auth login` with a token that has write access "
    "(https://huggingface.co/settings/tokens)"
)


class HubPushError(RuntimeError):
    """A push that could not be done; the message says why and what to do. Nothing was committed."""


class HubTokenError(HubPushError):
    """No usable token: missing, rejected by the Hub, or read-only. Raised before any upload."""


@dataclass
class PushResult:
    """What a push did.

    Args:
        repo_id: the full repository id (namespace/name).
        repo_type: "model" or "dataset".
        revision: the branch that received the commit.
        commit_oid: the commit's id (the revision now visible), or the unchanged head if nothing changed.
        commit_url: the commit's address on the Hub.
        uploaded: repository paths sent in the commit.
        skipped: local files left out, with the reason.
        deleted: repository files of an earlier push removed in the commit (stale weights, plots, shards).
    """

    repo_id: str
    repo_type: str
    revision: str
    commit_oid: str
    commit_url: str
    uploaded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)


# token


def resolve_token(token: str | None = None) -> str:
    """The token to push with: `token`, else `HF_TOKEN`, else the one stored by `hf auth login`.

    Raises:
        HubTokenError: there is none (nothing has been sent anywhere).
    """
    token = token or get_token()
    if not token:
        raise HubTokenError(f"no Hugging Face token found: {_TOKEN_HELP}. Nothing was uploaded.")
    return token


def check_push_access(repo_id: str, token: str | None = None, *, endpoint: str | None = None) -> str:
    """Check that a write token exists and the Hub accepts it (one read-only `whoami` call), before anything is
    uploaded or trained; returns the full repository id (`name` alone gets the user's namespace).

    Raises:
        HubTokenError: no token, a token the Hub rejects, or a read-only token.
    """
    token = resolve_token(token)
    if constants.is_offline_mode():
        raise HubPushError("HF_HUB_OFFLINE is set: pushing needs the Hub, unset the variable. Nothing was uploaded.")
    api = HfApi(endpoint=endpoint)
    try:
        identity = api.whoami(token=token)
    except HfHubHTTPError as error:
        status = error.response.status_code if error.response is not None else "?"
        raise HubTokenError(
            f"the Hub at {api.endpoint} rejected the token (HTTP {status}); {_TOKEN_HELP}. Nothing was uploaded."
        ) from None
    role = identity.get("auth", {}).get("accessToken", {}).get("role")
    if role == "read":
        raise HubTokenError(f"the token is read-only; {_TOKEN_HELP}. Nothing was uploaded.")
    if "/" not in repo_id:
        repo_id = f"{identity['name']}/{repo_id}"
    return repo_id


def _refuse_token_in_payload(operations: list[CommitOperationAdd], token: str) -> None:
    """Refuse to send a file that contains the token (e.g. a `hub_token` copied into a run's arguments)."""
    needle = token.encode()
    for operation in operations:
        source = operation.path_or_fileobj
        found = needle in source if isinstance(source, bytes) else _file_contains(Path(source), needle)
        if found:
            raise HubPushError(
                f"{operation.path_in_repo} contains your Hugging Face token; remove it from that file (e.g. drop "
                "`hub_token` from the run's arguments) and push again. Nothing was uploaded."
            )


def _file_contains(path: Path, needle: bytes, chunk_size: int = 1 << 22) -> bool:
    overlap = b""
    with path.open("rb") as handle:
        while chunk := handle.read(chunk_size):
            if needle in overlap + chunk:
                return True
            overlap = chunk[-len(needle) :]
    return False


# pushing


def _commit(
    api: HfApi,
    repo_id: str,
    repo_type: str,
    operations: list,
    *,
    token: str,
    private: bool | None,
    revision: str | None,
    commit_message: str,
    source: str,
) -> tuple[str, str]:
    """Create the repository and branch if needed, then make one commit; returns (commit oid, commit url)."""
    branch = revision or "main"
    if private:
        _refuse_public_repository(api, repo_id, repo_type, token)
    try:
        api.create_repo(repo_id, repo_type=repo_type, private=private, exist_ok=True, token=token)
        if branch != "main":
            api.create_branch(repo_id, branch=branch, repo_type=repo_type, exist_ok=True, token=token)
        info = api.create_commit(
            repo_id,
            operations,
            commit_message=commit_message,
            repo_type=repo_type,
            revision=branch,
            token=token,
        )
    except (HfHubHTTPError, OSError) as error:
        raise HubPushError(
            f"pushing {source} to {repo_type} repository {repo_id} (branch {branch}) failed: {error}\n"
            f"The Hub applies a commit all at once, so {repo_id}@{branch} is still at its previous revision, and "
            f"{source} was not modified. Run the same command again to retry; files already uploaded are not sent "
            "twice."
        ) from error
    return info.oid, info.commit_url


def _refuse_public_repository(api: HfApi, repo_id: str, repo_type: str, token: str) -> None:
    """`private=True` only applies when the push creates the repository: never upload into an existing public one
    a model or dataset meant to be private."""
    from huggingface_hub.errors import RepositoryNotFoundError

    try:
        info = api.repo_info(repo_id, repo_type=repo_type, token=token)
    except RepositoryNotFoundError:
        return
    except HfHubHTTPError as error:
        raise HubPushError(f"cannot read {repo_type} repository {repo_id}: {error}. Nothing was uploaded.") from error
    if not info.private:
        raise HubPushError(
            f"{repo_id} already exists and is public, so a private push cannot go there; make it private on the Hub "
            "(Settings) or choose another name. Nothing was uploaded."
        )


def push_run(
    run_dir: str | Path,
    repo_id: str,
    *,
    private: bool | None = None,
    revision: str | None = None,
    include_code: bool = True,
    commit_message: str | None = None,
    token: str | None = None,
    endpoint: str | None = None,
) -> PushResult:
    """Push a run directory (or any `save_pretrained` folder of a proteinhub model) to a model repository.

    Args:
        run_dir: the folder: `config.json`, safetensors weights, tokenizer files, and optionally README.md (model
            card), metrics.json, plots and the remote code written by `train.py`.
        repo_id: "namespace/name" (or "name": the token owner's namespace).
        private: create the repository private (ignored if it exists already).
        revision: branch to commit to (created from main if missing); default main.
        include_code: push the model, configuration and tokenizer code, so that the repository loads with
            `trust_remote_code=True` where proteinhub is not installed. A folder saved without it gets the code of
            the installed proteinhub and an `auto_map`; with False, code files and `auto_map` are left out.
        commit_message: default "Upload <run dir name> with proteinhub".
        token: default `HF_TOKEN` or the `hf auth login` token; never written anywhere.
        endpoint: the Hub's address; default `HF_ENDPOINT` or https://huggingface.co.

    Raises:
        HubTokenError: no usable token (before any upload).
        HubPushError: the folder cannot be pushed as it is, or the Hub refused or failed the commit.

    Example:
        >>> push_run("runs/quickstart", "me/disorder-cnn", private=True)  # doctest: +SKIP
    """
    run_dir = Path(run_dir)
    token = resolve_token(token)
    repo_id = check_push_access(repo_id, token, endpoint=endpoint)
    operations, skipped = _model_operations(run_dir, repo_id, revision, include_code)
    _refuse_token_in_payload(operations, token)
    api = HfApi(endpoint=endpoint)
    pushed = {operation.path_in_repo for operation in operations}
    # files of an earlier push that this folder no longer has (stale shards of re-saved weights would be loaded)
    stale = [
        path
        for path in _existing_files(api, repo_id, "model", revision, token)
        if "/" not in path and path.endswith(UPLOADED_SUFFIXES) and path not in pushed
    ]
    oid, url = _commit(
        api,
        repo_id,
        "model",
        [*operations, *(CommitOperationDelete(path_in_repo=path) for path in stale)],
        token=token,
        private=private,
        revision=revision,
        commit_message=commit_message or f"Upload {run_dir.resolve().name} with proteinhub",
        source=str(run_dir),
    )
    return PushResult(repo_id, "model", revision or "main", oid, url, sorted(pushed), skipped, stale)


def _model_operations(
    run_dir: Path, repo_id: str, revision: str | None, include_code: bool
) -> tuple[list[CommitOperationAdd], list[str]]:
    """The files to commit (edited ones as bytes, the rest as paths) and the skipped ones; local checks only."""
    if not (run_dir / "config.json").is_file():
        raise HubPushError(f"{run_dir} has no config.json: give a run directory or a save_pretrained folder")
    files, skipped = {}, []
    for path in sorted(run_dir.iterdir()):
        if path.is_dir():
            skipped.append(f"{path.name}/ (folders such as checkpoints are not pushed)")
        elif path.name.startswith("."):
            skipped.append(f"{path.name} (hidden file)")
        elif path.suffix in PICKLE_SUFFIXES:
            skipped.append(f"{path.name} (pickle-based format: only safetensors weights are pushed)")
        elif path.suffix not in UPLOADED_SUFFIXES:
            skipped.append(f"{path.name} (not a model, card, metrics, config or plot file)")
        elif path.suffix == ".py" and not include_code:
            skipped.append(f"{path.name} (code left out: include_code=False)")
        else:
            files[path.name] = path
    if not any(name.endswith(".safetensors") for name in files):
        raise HubPushError(
            f"{run_dir} has no safetensors weights (model.safetensors); re-save the model with save_pretrained. "
            "Pickle-based weights (pytorch_model.bin, *.pt) are never pushed."
        )
    contents: dict[str, bytes | Path] = dict(files)
    config = _read_json(run_dir / "config.json")
    tokenizer_config = None
    if "tokenizer_config.json" in files:
        tokenizer_config = _read_json(run_dir / "tokenizer_config.json")
    elif config.get("model_type") in _families():
        # a model saved without its tokenizer: the config says which tokenizer it was trained with
        contents |= _tokenizer_files(config)
        tokenizer_config = json.loads(contents["tokenizer_config.json"])
    else:
        skipped.append("(no tokenizer: the folder has none and the model is not a proteinhub model)")
    if include_code:
        contents |= _code_files(config, tokenizer_config, files)
    else:
        for name, document in (("config.json", config), ("tokenizer_config.json", tokenizer_config)):
            if document is not None and document.pop("auto_map", None) is not None:
                contents[name] = _json_bytes(document)
    if "README.md" in files:
        card = (run_dir / "README.md").read_text(encoding="utf-8")
    else:
        try:
            auto_name = _auto_class_name(_model_classes(config)[1])
        except HubPushError:
            auto_name = "AutoModel"
        card = cards.minimal_model_card(config, auto_name)
    contents["README.md"] = cards.card_for_repo(card, repo_id, revision).encode("utf-8")
    operations = [
        CommitOperationAdd(path_in_repo=name, path_or_fileobj=content if isinstance(content, bytes) else str(content))
        for name, content in sorted(contents.items())
    ]
    return operations, skipped


def _tokenizer_files(config: dict) -> dict[str, bytes]:
    """The files of the `ProteinTokenizer` a proteinhub config was trained with (framing from the config)."""
    config_class, _ = _model_classes(config)
    tokenizer_kwargs = config_class.from_dict(config).tokenizer_kwargs
    from ..tokenization import ProteinTokenizer

    with tempfile.TemporaryDirectory() as tokenizer_dir:
        ProteinTokenizer(**tokenizer_kwargs).save_pretrained(tokenizer_dir)
        return {path.name: path.read_bytes() for path in Path(tokenizer_dir).iterdir() if path.is_file()}


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise HubPushError(f"cannot read {path}: {error}") from error


def _json_bytes(document: dict) -> bytes:
    # the layout of transformers' own `to_json_string`
    return (json.dumps(document, indent=2, sort_keys=True) + "\n").encode("utf-8")


def _code_files(config: dict, tokenizer_config: dict | None, files: dict) -> dict[str, bytes]:
    """Code to add so that the repository loads with trust_remote_code: nothing if the folder carries it already
    (a train.py run), else the installed proteinhub's code plus `auto_map` entries in the JSON configs. An
    `auto_map` whose modules are missing (a remote-code model re-saved without registering its classes) is
    replaced the same way."""
    from ..tokenization import ProteinTokenizer

    needs_model_code = not _has_code(config.get("auto_map"), files)
    needs_tokenizer_code = tokenizer_config is not None and not _has_code(tokenizer_config.get("auto_map"), files)
    classes = list(_model_classes(config)) if needs_model_code else []
    classes += [ProteinTokenizer] if needs_tokenizer_code else []
    if not classes:
        return {}
    from ..modeling.remote_code import export_remote_code

    with tempfile.TemporaryDirectory() as code_dir:
        names = export_remote_code(classes, code_dir)
        added = {path.name: path.read_bytes() for path in Path(code_dir).glob("*.py")}

    def reference(cls: type) -> str:
        return f"{names[cls.__module__]}.{cls.__name__}"

    if needs_model_code:
        config_class, model_class = classes[:2]
        auto_map = {"AutoConfig": reference(config_class), _auto_class_name(model_class): reference(model_class)}
        added["config.json"] = _json_bytes({**config, "auto_map": auto_map})
    if needs_tokenizer_code:
        auto_map = {"AutoTokenizer": [reference(ProteinTokenizer), None]}
        added["tokenizer_config.json"] = _json_bytes({**tokenizer_config, "auto_map": auto_map})
    return added


def _has_code(auto_map: dict | None, files: dict) -> bool:
    """Whether every module `auto_map` names is in the folder (references to other repos, `repo--module.Class`,
    count as present)."""
    if not auto_map:
        return False
    references = [ref for target in auto_map.values() for ref in (target if isinstance(target, list) else [target])]
    return all(f"{ref.rsplit('.', 1)[0]}.py" in files for ref in references if ref and "--" not in ref)


def _families() -> dict:
    from ..modeling.registry import FAMILIES

    return FAMILIES


def _model_classes(config: dict) -> tuple[type, type]:
    """The proteinhub config and model classes a config.json describes."""
    model_type = config.get("model_type")
    family = _families().get(model_type)
    architecture = (config.get("architectures") or [None])[0]
    for model_class in family.models.values() if family else ():
        if model_class.__name__ == architecture:
            return family.config_class, model_class
    raise HubPushError(
        f"config.json describes a {model_type!r} model ({architecture}) that is not a proteinhub model class, so "
        "its code cannot be added; push with include_code=False (--no-code), or save it with its code first."
    )


def _auto_class_name(model_class: type) -> str:
    family = _families()[model_class.config_class.model_type]
    return next(name for name, cls in family.models.items() if cls is model_class)


# datasets


def push_dataset(
    name: str,
    config_name: str | None,
    repo_id: str,
    *,
    data_dir: str | Path | None = None,
    data_files: Any = None,
    cache_dir: str | Path | None = None,
    config_kwargs: dict | None = None,
    private: bool | None = None,
    revision: str | None = None,
    max_shard_size: int = DEFAULT_MAX_SHARD_SIZE,
    commit_message: str | None = None,
    token: str | None = None,
    endpoint: str | None = None,
) -> PushResult:
    """Prepare a proteinhub dataset and push it as Parquet shards plus a dataset card, in one commit.

    The card's `configs:` metadata maps each split to its shards, so `datasets.load_dataset(repo_id, config)`
    loads it without proteinhub; `dataset_info` keeps the features (ClassLabel names included). Pushing another
    config to the same repository adds it; pushing a config again replaces its shards. The first config pushed is
    the default one (`load_dataset(repo_id)`).

    Args:
        name: a proteinhub dataset (`proteinhub.dataset_scripts.list_datasets()`).
        config_name: its config (e.g. "default", "ST_w33"); None for the builder's default.
        repo_id: "namespace/name" (or "name": the token owner's namespace).
        data_dir, data_files, cache_dir, config_kwargs: as for `proteinhub.load_dataset`.
        private, revision, commit_message, token, endpoint: as for `push_run`.
        max_shard_size: bytes of Arrow data per Parquet shard.

    Raises:
        HubTokenError: no usable token (before the dataset is prepared).
        HubPushError: the Hub refused or failed the commit.
    """
    from datasets import DatasetInfo, SplitDict, SplitInfo
    from datasets.info import DatasetInfosDict
    from datasets.utils.metadata import MetadataConfigs

    from ..dataset_scripts import load_dataset

    token = resolve_token(token)
    repo_id = check_push_access(repo_id, token, endpoint=endpoint)
    dataset = load_dataset(
        name, config_name, data_dir=data_dir, data_files=data_files, cache_dir=cache_dir, **(config_kwargs or {})
    )
    config_name = config_name or next(iter(dataset.values())).info.config_name or "default"
    folder = "data" if config_name == "default" else config_name
    api = HfApi(endpoint=endpoint)
    existing_files = _existing_files(api, repo_id, "dataset", revision, token)
    existing_card = _existing_card(api, repo_id, revision, token) if "README.md" in existing_files else None

    with tempfile.TemporaryDirectory() as staging:
        operations: list = []
        splits = SplitDict()
        for split, split_data in dataset.items():
            if split_data._indices is not None:
                split_data = split_data.flatten_indices()
            num_shards = max(1, math.ceil(split_data.data.nbytes / max_shard_size))
            for index in range(num_shards):
                path_in_repo = f"{folder}/{split}-{index:05d}-of-{num_shards:05d}.parquet"
                local = Path(staging, path_in_repo)
                local.parent.mkdir(parents=True, exist_ok=True)
                split_data.shard(num_shards=num_shards, index=index, contiguous=True).to_parquet(str(local))
                operations.append(CommitOperationAdd(path_in_repo=path_in_repo, path_or_fileobj=str(local)))
            splits.add(SplitInfo(name=split, num_bytes=split_data.data.nbytes, num_examples=len(split_data)))
        new_paths = {operation.path_in_repo for operation in operations}
        # stale shards of this config (e.g. a split now written in fewer shards) would be loaded too
        stale = [path for path in existing_files if path.startswith(f"{folder}/") and path not in new_paths]
        operations += [CommitOperationDelete(path_in_repo=path) for path in stale]

        card = existing_card or DatasetCard(
            f"---\n{DatasetCardData(**cards.builder_metadata(name, dataset)).to_yaml()}\n---\n"
        )
        configs = MetadataConfigs.from_dataset_card_data(card.data)
        entry: dict = {"data_files": [{"split": split, "path": f"{folder}/{split}-*"} for split in dataset]}
        # the first config pushed becomes the default one, so that load_dataset(repo_id) works without a name
        has_default = any(n == "default" or c.get("default") for n, c in configs.items() if n != config_name)
        if not has_default and config_name != "default":
            entry["default"] = True
        MetadataConfigs({config_name: entry}).to_dataset_card_data(card.data)
        shard_bytes = sum(Path(staging, path).stat().st_size for path in new_paths)
        info = DatasetInfo(
            features=next(iter(dataset.values())).features,
            splits=splits,
            dataset_size=sum(s.num_bytes for s in splits.values()),
            download_size=shard_bytes,
        )
        DatasetInfosDict({config_name: info}).to_dataset_card_data(card.data)
        card_text = cards.dataset_card(card, name, config_name, repo_id, dataset)
        operations.append(CommitOperationAdd(path_in_repo="README.md", path_or_fileobj=card_text.encode("utf-8")))
        _refuse_token_in_payload([op for op in operations if isinstance(op, CommitOperationAdd)], token)
        oid, url = _commit(
            api,
            repo_id,
            "dataset",
            operations,
            token=token,
            private=private,
            revision=revision,
            commit_message=commit_message or f"Upload {name}/{config_name} with proteinhub",
            source=f"dataset {name} ({config_name})",
        )
    uploaded = [op.path_in_repo for op in operations if isinstance(op, CommitOperationAdd)]
    return PushResult(repo_id, "dataset", revision or "main", oid, url, uploaded, [], stale)


def _existing_files(api: HfApi, repo_id: str, repo_type: str, revision: str | None, token: str) -> list[str]:
    """Files at the branch the commit will go to; a branch that does not exist yet will be created from main, so
    main's files then. Empty for a repository that does not exist (yet)."""
    from huggingface_hub.errors import RepositoryNotFoundError, RevisionNotFoundError

    for branch in dict.fromkeys([revision or "main", "main"]):
        try:
            return api.list_repo_files(repo_id, repo_type=repo_type, revision=branch, token=token)
        except RevisionNotFoundError:
            continue
        except RepositoryNotFoundError:
            break
        except HfHubHTTPError as error:
            raise HubPushError(
                f"cannot list {repo_type} repository {repo_id}: {error}. Nothing was uploaded."
            ) from error
    return []


def _existing_card(api: HfApi, repo_id: str, revision: str | None, token: str) -> DatasetCard | None:
    """The dataset card the commit will update (see `_existing_files` for the branch), or None."""
    from huggingface_hub.errors import RevisionNotFoundError

    for branch in dict.fromkeys([revision or "main", "main"]):
        with tempfile.TemporaryDirectory() as download_dir:
            try:
                path = api.hf_hub_download(
                    repo_id, "README.md", repo_type="dataset", revision=branch, token=token, cache_dir=download_dir
                )
            except RevisionNotFoundError:
                continue
            return DatasetCard.load(path)
    return None


# command line: `proteinhub push` and `push-dataset` (options declared in cli.py)


def run_push(args: argparse.Namespace) -> int:
    """`proteinhub push`: returns the exit status (1 with a message on stderr if the push failed)."""
    return _run(
        lambda: push_run(
            args.run_dir,
            args.repo_id,
            private=args.private or None,
            revision=args.revision,
            include_code=args.include_code,
            commit_message=args.commit_message,
        )
    )


def run_push_dataset(args: argparse.Namespace) -> int:
    """`proteinhub push-dataset`: returns the exit status (1 with a message on stderr if the push failed)."""
    data_files = json.loads(args.data_files) if args.data_files else None
    return _run(
        lambda: push_dataset(
            args.name,
            args.config,
            args.repo_id,
            data_dir=args.data_dir,
            data_files=data_files,
            cache_dir=args.cache_dir,
            private=args.private or None,
            revision=args.revision,
            max_shard_size=DEFAULT_MAX_SHARD_SIZE if args.max_shard_size is None else args.max_shard_size,
            commit_message=args.commit_message,
        )
    )


def _run(push) -> int:
    try:
        result = push()
    except HubPushError as error:
        print(f"proteinhub: push failed: {error}", file=sys.stderr)
        return 1
    for skipped in result.skipped:
        print(f"  not pushed: {skipped}")
    print(
        f"pushed {len(result.uploaded)} files to {result.repo_type} {result.repo_id}@{result.revision} "
        f"(commit {result.commit_oid[:10]}): {result.commit_url}"
    )
    return 0
