"""A loopback Hugging Face Hub for the test suite: the write API the official client calls, on real git repositories.

No installable open-source server accepts Hub uploads (see `../shared/docs/hub-testing.md`), so the Hub tests run the
official `huggingface_hub` / transformers / datasets clients against this one: a stdlib `ThreadingHTTPServer` bound
to 127.0.0.1. Each repository is a real git repository on disk (`<root>/models/<ns>/<name>`,
`<root>/datasets/<ns>/<name>`); large files are stored as git-lfs does it, a pointer blob in git and the content in
`.git/lfs/objects/`, so `git` and olah (a read-only Hub mirror) can serve the same folders.

A commit is all-or-nothing: operations go into a private index, and the branch moves with one compare-and-swap
`git update-ref` at the very end; an error (or an injected fault) before that leaves the branch where it was.
Tokens are enforced: writes need a write token of the namespace's owner, private repositories are invisible without
one, and an unknown token is refused everywhere. The request log records who called, never a token.

Endpoints: whoami-v2, repos/create, repos/delete, validate-yaml, repo info (+ /revision/{rev}), preupload, NDJSON
commit, LFS batch + upload + verify, resolve (HEAD/GET, byte ranges), tree, paths-info, refs, commits, branch (create
and delete), tag. Test control (not part of the Hub API): `POST /_loopback/faults` (inject an error status into the
next calls of an endpoint; for `commit`, after N operations have been written), `GET`/`DELETE /_loopback/requests`.

Run: `python tests/hub_server.py < CONFIG.json` (keys: root, users, log_file, port_file; the server binds a free
127.0.0.1 port and writes it to port_file); from a test, use `LoopbackHub.start(...)`, which waits until the server
answers and stops it by its PID.
"""

from __future__ import annotations

import base64
import contextlib
import fnmatch
import hashlib
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.error
import urllib.request
import zlib
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar
from urllib.parse import parse_qs, unquote, urlsplit

REPO_TYPES = ("model", "dataset", "space")
ZERO_OID = "0" * 40
LFS_SIZE_THRESHOLD = 10 * 1024 * 1024  # the Hub stores files from 10 MiB up in LFS
MAX_JSON_BODY = 64 * 1024 * 1024
MAX_COMMIT_BODY = 1024 * 1024 * 1024
MAX_UPLOAD_BYTES = 4 * 1024 * 1024 * 1024
SOCKET_TIMEOUT_S = 60  # a stalled client connection is dropped instead of holding a thread forever
LFS_POINTER = re.compile(rb"^version https://git-lfs\.github\.com/spec/v1\noid sha256:([0-9a-f]{64})\nsize (\d+)\n$")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")
REF_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._/-]{0,199}$")
SHA = re.compile(r"^[0-9a-f]{40}$")
# the Hub's default .gitattributes (abridged): these patterns go to LFS whatever their size
GITATTRIBUTES = "".join(
    f"{pattern} filter=lfs diff=lfs merge=lfs -text\n"
    for pattern in (
        "*.7z", "*.arrow", "*.bin", "*.bz2", "*.ckpt", "*.ftz", "*.gz", "*.h5", "*.joblib", "*.lfs.*", "*.mlmodel",
        "*.model", "*.msgpack", "*.npy", "*.npz", "*.onnx", "*.ot", "*.parquet", "*.pb", "*.pickle", "*.pkl", "*.pt",
        "*.pth", "*.rar", "*.safetensors", "saved_model/**/*", "*.tar.*", "*.tar", "*.tflite", "*.tgz", "*.wasm",
        "*.xz", "*.zip", "*.zst", "*tfevents*", "*.png", "*.jpg", "*.jpeg",
    )
)  # fmt: skip


class HubError(Exception):
    """An HTTP error answer: status, message and the `X-Error-Code` the client maps to an exception class."""

    def __init__(self, status: int, message: str, code: str | None = None):
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


# storage


class GitRepo:
    """One Hub repository stored as a non-bare git repository (git-lfs layout for large files).

    Reads go through per-commit caches (commits and blobs are immutable), so that a resolve call costs no git
    process once its commit was listed; writes create loose git objects and move the branch with `git update-ref`.
    """

    # (repository folder, commit) -> {path: tree entry in the Hub's format}; bounded by `_CACHE_LIMIT` commits
    _trees: ClassVar[dict[tuple[Path, str], dict[str, dict]]] = {}
    _blobs: ClassVar[dict[str, bytes]] = {}  # blob sha -> content, for blobs under 1 MiB
    _private: ClassVar[dict[Path, bool]] = {}
    _CACHE_LIMIT = 256

    def __init__(self, root: Path, repo_type: str, repo_id: str):
        self.repo_type, self.repo_id = repo_type, repo_id
        self.path = root / f"{repo_type}s" / repo_id
        self.git_dir = self.path / ".git"

    @property
    def url_prefix(self) -> str:
        return "" if self.repo_type == "model" else f"{self.repo_type}s/"

    def exists(self) -> bool:
        return (self.git_dir / "HEAD").is_file()

    def git(self, *args: str, input: bytes | None = None, env: dict | None = None, check: bool = True) -> bytes:
        process = subprocess.run(
            ["git", "-C", str(self.path), *args],
            input=input,
            capture_output=True,
            env={**GIT_ENV, **(env or {})},
            timeout=120,
        )
        if check and process.returncode != 0:
            raise RuntimeError(f"git {' '.join(args)} failed: {process.stderr.decode(errors='replace')}")
        return process.stdout

    # metadata

    @property
    def private(self) -> bool:
        if self.path not in self._private:
            self._private[self.path] = self.git("config", "--get", "hub.private", check=False).strip() == b"true"
        return self._private[self.path]

    def lfs_path(self, oid: str) -> Path:
        return self.git_dir / "lfs" / "objects" / oid[:2] / oid[2:4] / oid

    # refs

    def ref(self, ref: str) -> str | None:
        """The commit a branch or tag points at; refs are never packed here, so the loose ref file is the truth."""
        try:
            return (self.git_dir / ref).read_text().strip() or None
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None

    def resolve(self, revision: str) -> str:
        """Commit sha of a branch, a tag or a full commit sha; `HubError` 404 RevisionNotFound otherwise."""
        if REF_NAME.match(revision) and ".." not in revision:
            for prefix in ("refs/heads/", "refs/tags/"):
                commit = self.ref(prefix + revision)
                if commit:
                    return commit
        if SHA.match(revision) and (
            (self.path, revision) in self._trees
            or self.git("cat-file", "-t", revision, check=False).strip() == b"commit"
        ):
            return revision
        raise HubError(404, f"Invalid rev id: {revision}", "RevisionNotFound")

    def branch_head(self, branch: str) -> str | None:
        return self.ref(f"refs/heads/{branch}") if REF_NAME.match(branch) and ".." not in branch else None

    def refs(self, prefix: str) -> list[dict]:
        out = self.git("for-each-ref", "--format=%(refname)%00%(objectname)%00%(*objectname)", prefix).decode()
        refs = []
        for line in out.splitlines():
            ref, target, peeled = line.split("\0")
            refs.append({"name": ref.removeprefix(prefix), "ref": ref, "targetCommit": peeled or target})
        return refs

    # trees and blobs

    def tree(self, commit: str) -> dict[str, dict]:
        """Every file and folder of a commit, in the Hub's tree format (LFS files with their real size)."""
        key = (self.path, commit)
        if key not in self._trees:
            if len(self._trees) >= self._CACHE_LIMIT:
                self._trees.clear()
            entries = {}
            for record in self.git("ls-tree", "-r", "-t", "-l", "-z", commit).split(b"\0"):
                if record:
                    meta, name = record.split(b"\t", 1)
                    _, kind, oid, size = meta.decode().split()
                    path = name.decode()
                    if kind == "tree":
                        entries[path] = {"type": "directory", "oid": oid, "path": path, "size": 0}
                    else:
                        entries[path] = {"type": "file", "oid": oid, "size": int(size), "path": path}
                        pointer = LFS_POINTER.match(self.blob(oid)) if int(size) <= 200 else None
                        if pointer:
                            sha256, real_size = pointer.group(1).decode(), int(pointer.group(2))
                            entries[path] |= {"size": real_size, "lfs": {"oid": sha256, "size": real_size}}
                            entries[path]["lfs"]["pointerSize"] = int(size)
            self._trees[key] = entries
        return self._trees[key]

    def blob(self, sha: str) -> bytes:
        if sha in self._blobs:
            return self._blobs[sha]
        content = self.git("cat-file", "blob", sha)
        if len(content) < 1 << 20:
            if len(self._blobs) >= 4 * self._CACHE_LIMIT:
                self._blobs.clear()
            self._blobs[sha] = content
        return content

    def entries(self, commit: str, path: str = "", recursive: bool = False) -> list[dict]:
        """Tree listing in the Hub's format; `HubError` 404 EntryNotFound when `path` is not a folder."""
        path = path.strip("/")
        tree = self.tree(commit)
        if path and tree.get(path, {}).get("type") != "directory":
            raise HubError(404, f"{path} does not exist (or is not a folder) at {commit}", "EntryNotFound")
        prefix = f"{path}/" if path else ""
        return [
            entry
            for name, entry in tree.items()
            if name.startswith(prefix) and (recursive or "/" not in name[len(prefix) :])
        ]

    def file_entry(self, commit: str, path: str) -> dict:
        entry = self.tree(commit).get(path)
        if entry is None or entry["type"] != "file":
            raise HubError(404, f"Entry not found: {path}", "EntryNotFound")
        return entry

    def read_file(self, entry: dict) -> Path | bytes:
        """The content of a file entry: the LFS object's path, or the blob's bytes."""
        if "lfs" in entry:
            return self.lfs_path(entry["lfs"]["oid"])
        return self.blob(entry["oid"])

    def commits(self, commit: str) -> list[dict]:
        out = self.git(
            "log", "--date=format-local:%Y-%m-%dT%H:%M:%S.000Z", "--format=%H%x00%an%x00%ad%x00%B%x1e", commit
        ).decode()
        items = []
        for record in out.split("\x1e"):
            record = record.strip("\n")
            if record:
                sha, author, date, message = record.split("\0", 3)
                title, _, body = message.partition("\n")
                items.append(
                    {"id": sha, "title": title, "message": body.strip(), "authors": [{"user": author}], "date": date}
                )
        return items

    # writing

    def init(self, private: bool, owner: str) -> str:
        self.path.mkdir(parents=True)
        self.git("init", "-q", "-b", "main")
        self.git("config", "hub.private", "true" if private else "false")
        self._private.pop(self.path, None)
        return self.commit("main", [("file", ".gitattributes", GITATTRIBUTES.encode())], "initial commit", "", owner)

    def delete(self) -> None:
        shutil.rmtree(self.path)
        self._private.pop(self.path, None)

    def write_blob(self, content: bytes) -> str:
        """Store a blob as a loose git object (zlib of "blob <size>\\0" + content) and return its sha."""
        raw = b"blob %d\0" % len(content) + content
        sha = hashlib.sha1(raw).hexdigest()
        target = self.git_dir / "objects" / sha[:2] / sha[2:]
        if not target.exists():
            target.parent.mkdir(exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as tmp:
                tmp.write(zlib.compress(raw))
            os.replace(tmp.name, target)
        return sha

    def commit(
        self,
        branch: str,
        operations: list[tuple],
        summary: str,
        description: str,
        author: str,
        parent: str | None = None,
        fault: dict | None = None,
    ) -> str:
        """Apply (kind, path, payload) operations on top of `branch` in one commit; the branch moves last.

        kinds: "file" (payload: bytes), "lfs" (payload: (sha256, size), the object must be uploaded), "delete-file",
        "delete-folder". `fault` = {"after_operations": n, "status": s} raises after n operations were written.
        """
        head = self.branch_head(branch)  # None only for the initial commit
        if parent is not None and head is not None and not head.startswith(parent):
            raise HubError(412, "A commit has happened since. Please refresh and try again.")
        files = {p: e["oid"] for p, e in (self.tree(head) if head else {}).items() if e["type"] == "file"}
        for number, (kind, path, payload) in enumerate(operations):
            if fault is not None and number == fault["after_operations"]:
                raise HubError(fault["status"], f"injected fault after {number} operations of the commit")
            files = self._apply(files, kind, path, payload)
        if fault is not None:
            raise HubError(fault["status"], f"injected fault after all {len(operations)} operations")
        # the new tree is built in a private index: the repository's own index and working tree stay untouched
        index = self.git_dir / f"index-commit-{secrets.token_hex(8)}"
        env = {"GIT_INDEX_FILE": str(index)}
        try:
            listing = "".join(f"100644 {sha}\t{path}\n" for path, sha in sorted(files.items()))
            self.git("update-index", "--add", "--index-info", input=listing.encode(), env=env)
            tree = self.git("write-tree", env=env).strip().decode()
        finally:
            index.unlink(missing_ok=True)
        message = summary + (f"\n\n{description}" if description else "")
        identity = {"GIT_AUTHOR_NAME": author, "GIT_AUTHOR_EMAIL": f"{author}@users.loopback"}
        identity |= {"GIT_COMMITTER_NAME": author, "GIT_COMMITTER_EMAIL": f"{author}@users.loopback"}
        parents = ["-p", head] if head else []
        new = self.git("commit-tree", tree, *parents, "-F", "-", input=message.encode(), env=identity).strip().decode()
        # compare-and-swap: fails if another commit moved the branch meanwhile
        self.git("update-ref", f"refs/heads/{branch}", new, head or ZERO_OID)
        return new

    def _apply(self, files: dict[str, str], kind: str, path: str, payload) -> dict[str, str]:
        if kind == "lfs":
            sha256, size = payload
            stored = self.lfs_path(sha256)
            if not stored.is_file() or stored.stat().st_size != size:
                raise HubError(400, f"LFS object {sha256} of {path} was not uploaded (or has another size)")
            payload = f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()
        if kind in ("file", "lfs"):
            if any(name.startswith(f"{path}/") for name in files):
                raise HubError(400, f"{path} is a folder in the repository")
            return {**files, path: self.write_blob(payload)}
        if kind == "delete-file":
            if path not in files:
                raise HubError(404, f"A file with this name doesn't exist: {path}", "EntryNotFound")
            return {name: sha for name, sha in files.items() if name != path}
        if kind == "delete-folder":
            folder = path.rstrip("/") + "/"
            if not any(name.startswith(folder) for name in files):
                raise HubError(404, f"A folder with this name doesn't exist: {path}", "EntryNotFound")
            return {name: sha for name, sha in files.items() if not name.startswith(folder)}
        raise HubError(400, f"unsupported commit operation {kind!r}")


GIT_ENV = {
    **{key: value for key, value in os.environ.items() if not key.startswith("GIT_")},
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_TERMINAL_PROMPT": "0",
    "TZ": "UTC",
}


# the server


class HubState:
    """Users, repositories, injected faults, pending uploads and the request log shared by the handler threads."""

    def __init__(self, root: Path, users: dict, log_file: Path | None):
        self.root = root
        # token -> {"name", "role", "orgs"}; the tokens stay in memory only
        self.tokens = {u["token"]: {"name": name, **u} for name, u in users.items()}
        self.log_file = log_file
        self.lock = threading.Lock()
        self.repo_locks: dict[Path, threading.Lock] = {}
        self.faults: list[dict] = []
        self.uploads: dict[str, tuple[GitRepo, str, int]] = {}  # nonce -> (repo, sha256, size)
        self.requests: list[dict] = []

    def repo_lock(self, repo: GitRepo) -> threading.Lock:
        with self.lock:
            return self.repo_locks.setdefault(repo.path, threading.Lock())

    def take_fault(self, endpoint: str) -> dict | None:
        with self.lock:
            for fault in self.faults:
                if fault["endpoint"] == endpoint and fault["times"] > 0:
                    fault["times"] -= 1
                    return dict(fault)
        return None

    def record(self, entry: dict) -> None:
        with self.lock:
            self.requests.append(entry)
            if self.log_file is not None:
                with open(self.log_file, "a", encoding="utf-8") as log:
                    log.write(json.dumps(entry) + "\n")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = SOCKET_TIMEOUT_S
    server_version = "loopback-hub/1.0"
    state: HubState  # set on the class by `make_server`

    # plumbing

    def log_message(self, format: str, *args) -> None:  # the request log replaces stderr lines
        pass

    def _dispatch(self) -> None:
        started = time.perf_counter()
        url_path = urlsplit(self.path).path
        self._status = 500
        self._user: dict | None = None
        self._auth = "none"
        self._body_read = False
        try:
            self._authenticate()
            self._route()
        except HubError as error:
            self._send_error(error)
        except Exception as error:  # a server bug must reach the client as a 500, and the test log
            traceback.print_exc()
            self._send_error(HubError(500, f"loopback hub internal error: {error!r}"))
        finally:
            if not url_path.startswith(("/_loopback/faults", "/_loopback/requests")):  # the test's own calls
                self.state.record(
                    {
                        "method": self.command,
                        "path": url_path,
                        "status": self._status,
                        "auth": self._auth,
                        "ms": round(1000 * (time.perf_counter() - started), 1),
                    }
                )

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = _dispatch

    def _authenticate(self) -> None:
        header = self.headers.get("Authorization")
        if not header:
            return
        token = header.removeprefix("Bearer ").strip()
        user = self.state.tokens.get(token)
        if user is None:
            self._auth = "invalid"
            raise HubError(401, "Invalid credentials in Authorization header")
        self._user, self._auth = user, f"user:{user['name']}"

    def _discard_body(self) -> None:
        """Consume an unread request body (so that the kept-alive connection stays in sync), or close."""
        if self._body_read:
            return
        self._body_read = True
        chunked = self.headers.get("Transfer-Encoding", "").lower() == "chunked"
        length = int(self.headers.get("Content-Length") or 0)
        try:
            if chunked:
                for _ in self._chunks(MAX_JSON_BODY):
                    pass
            elif length <= MAX_JSON_BODY:
                self.rfile.read(length)
            else:
                self.close_connection = True
        except HubError:
            self.close_connection = True

    def _body(self, limit: int = MAX_JSON_BODY) -> bytes:
        self._body_read = True
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return b"".join(self._chunks(limit))
        length = int(self.headers.get("Content-Length") or 0)
        if length > limit:
            self.close_connection = True
            raise HubError(413, f"request body of {length} bytes exceeds the limit of {limit}")
        return self.rfile.read(length)

    def _fixed_chunks(self, length: int):
        remaining = length
        while remaining:
            chunk = self.rfile.read(min(1 << 20, remaining))
            if not chunk:
                raise HubError(400, f"the request body ended {remaining} bytes early")
            remaining -= len(chunk)
            yield chunk

    def _chunks(self, limit: int):
        total = 0
        while True:
            size = int(self.rfile.readline(64).split(b";")[0].strip(), 16)
            if size == 0:
                while self.rfile.readline(1024).strip():  # trailers
                    pass
                return
            total += size
            if total > limit:
                self.close_connection = True
                raise HubError(413, f"request body exceeds the limit of {limit} bytes")
            yield self.rfile.read(size)
            self.rfile.readline(8)

    def _json_body(self) -> dict:
        raw = self._body()
        if not raw:
            return {}
        content_type = self.headers.get("Content-Type", "")
        if content_type.startswith("application/x-www-form-urlencoded"):
            return {key: values for key, values in parse_qs(raw.decode()).items()}
        try:
            return json.loads(raw)
        except json.JSONDecodeError as error:
            raise HubError(400, f"invalid JSON body: {error}") from error

    def _send(self, status: int, body: bytes = b"", headers: dict | None = None, content_length: int | None = None):
        self._discard_body()
        self._status = status
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body) if content_length is None else content_length))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)

    def _send_json(self, status: int, payload, headers: dict | None = None) -> None:
        self._send(status, json.dumps(payload).encode(), {"Content-Type": "application/json", **(headers or {})})

    def _send_error(self, error: HubError) -> None:
        headers = {"X-Error-Message": error.message.splitlines()[0][:200]}
        if error.code:
            headers["X-Error-Code"] = error.code
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client hung up first
            self._send_json(error.status, {"error": error.message}, headers)

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    # routing

    def _route(self) -> None:
        url = urlsplit(self.path)
        query = {key: values[-1] for key, values in parse_qs(url.query).items()}
        segments = [unquote(s) for s in url.path.split("/")[1:]]
        method = self.command
        if segments[:1] == ["_loopback"]:
            return self._control(method, segments[1:])
        if segments[:1] == ["api"]:
            return self._api(method, segments[1:], query)
        repo_type = "model"
        if segments and segments[0] in ("datasets", "spaces"):
            repo_type, segments = segments[0][:-1], segments[1:]
        if len(segments) >= 4 and segments[2] == "resolve" and method in ("GET", "HEAD"):
            repo = self._repo(repo_type, segments[:2], write=False)
            return self._resolve(repo, segments[3], "/".join(segments[4:]))
        if len(segments) == 6 and segments[1].endswith(".git") and segments[2:] == ["info", "lfs", "objects", "batch"]:
            repo = self._repo(repo_type, [segments[0], segments[1].removesuffix(".git")], write=True)
            return self._lfs_batch(repo)
        raise HubError(404, f"no route for {method} {url.path}")

    def _api(self, method: str, segments: list[str], query: dict) -> None:
        if segments == ["whoami-v2"] and method == "GET":
            return self._whoami()
        if segments == ["repos", "create"] and method == "POST":
            return self._create_repo()
        if segments == ["repos", "delete"] and method == "DELETE":
            return self._delete_repo()
        if segments == ["validate-yaml"] and method == "POST":
            return self._validate_yaml()
        if len(segments) >= 3 and segments[0].rstrip("s") in REPO_TYPES and segments[0].endswith("s"):
            repo_type, repo_segments, rest = segments[0][:-1], segments[1:3], segments[3:]
            action = rest[0] if rest else None
            if action is None and method == "GET":
                return self._repo_info(self._repo(repo_type, repo_segments, write=False), "main")
            if action == "revision" and len(rest) == 2 and method == "GET":
                return self._repo_info(self._repo(repo_type, repo_segments, write=False), rest[1])
            if action == "tree" and len(rest) >= 2 and method == "GET":
                repo = self._repo(repo_type, repo_segments, write=False)
                return self._tree(repo, rest[1], "/".join(rest[2:]), query)
            if action == "paths-info" and len(rest) == 2 and method == "POST":
                return self._paths_info(self._repo(repo_type, repo_segments, write=False), rest[1])
            if action == "refs" and method == "GET":
                return self._refs(self._repo(repo_type, repo_segments, write=False))
            if action == "commits" and len(rest) == 2 and method == "GET":
                repo = self._repo(repo_type, repo_segments, write=False)
                return self._send_json(200, repo.commits(repo.resolve(rest[1])))
            if action == "preupload" and len(rest) == 2 and method == "POST":
                return self._preupload(self._repo(repo_type, repo_segments, write=True), rest[1], query)
            if action == "commit" and len(rest) == 2 and method == "POST":
                return self._commit(self._repo(repo_type, repo_segments, write=True), rest[1], query)
            if action == "branch" and len(rest) >= 2 and method in ("POST", "DELETE"):
                return self._branch(self._repo(repo_type, repo_segments, write=True), "/".join(rest[1:]))
            if action == "tag" and len(rest) == 2 and method == "POST":
                return self._tag(self._repo(repo_type, repo_segments, write=True), rest[1])
        raise HubError(404, f"no route for {method} /api/{'/'.join(segments)}")

    # access control

    def _require_user(self) -> dict:
        if self._user is None:
            raise HubError(401, "Invalid username or password.")
        return self._user

    def _can_write(self, namespace: str) -> None:
        user = self._require_user()
        if user.get("role", "write") != "write":
            raise HubError(403, "This token has read-only access: a write token is needed to change repositories")
        if namespace != user["name"] and namespace not in user.get("orgs", ()):
            raise HubError(403, f"You don't have the rights to write to the namespace {namespace}")

    def _repo(self, repo_type: str, segments: list[str], write: bool) -> GitRepo:
        if len(segments) != 2 or not all(NAME.match(part) for part in segments):
            raise HubError(400, f"invalid repo id {'/'.join(segments)!r}: expected 'namespace/name'")
        repo = GitRepo(self.state.root, repo_type, "/".join(segments))
        not_found = HubError(404, f"Repository not found: {repo_type}s/{repo.repo_id}", "RepoNotFound")
        if not repo.exists():
            raise not_found
        owner = segments[0]
        user = self._user
        member = user is not None and (user["name"] == owner or owner in user.get("orgs", ()))
        if repo.private and not member:
            raise not_found  # the Hub does not reveal that a private repository exists
        if write:
            self._can_write(owner)
        return repo

    # endpoints: account and repositories

    def _whoami(self) -> None:
        user = self._require_user()
        self._send_json(
            200,
            {
                "type": "user",
                "name": user["name"],
                "orgs": [{"name": org, "type": "org"} for org in user.get("orgs", ())],
                "auth": {"type": "access_token", "accessToken": {"displayName": "test", "role": user["role"]}},
            },
        )

    def _create_repo(self) -> None:
        body = self._json_body()
        user = self._require_user()
        namespace, name = body.get("organization") or user["name"], body.get("name", "")
        repo_type = body.get("type") or "model"
        if repo_type not in REPO_TYPES or not NAME.match(namespace) or not NAME.match(name):
            raise HubError(400, f"invalid repository {namespace}/{name} of type {repo_type}")
        self._can_write(namespace)
        repo = GitRepo(self.state.root, repo_type, f"{namespace}/{name}")
        url = f"{self.base_url}/{repo.url_prefix}{repo.repo_id}"
        with self.state.repo_lock(repo):
            if repo.exists():
                return self._send_json(409, {"error": "You already created this repo", "url": url})
            private = body.get("visibility") == "private" or body.get("private") is True
            repo.init(private=private, owner=user["name"])
        self._send_json(200, {"url": url, "name": repo.repo_id, "id": repo.repo_id})

    def _delete_repo(self) -> None:
        body = self._json_body()
        user = self._require_user()
        namespace = body.get("organization") or user["name"]
        repo = self._repo(body.get("type") or "model", [namespace, body.get("name", "")], write=True)
        with self.state.repo_lock(repo):
            repo.delete()
        self._send(200)

    def _validate_yaml(self) -> None:
        body = self._json_body()
        errors = validate_card(body.get("content", ""), body.get("repoType") or "model")
        if errors:
            return self._send_json(400, {"error": errors[0]["message"], "errors": errors, "warnings": []})
        self._send_json(200, {"errors": [], "warnings": []})

    def _repo_info(self, repo: GitRepo, revision: str) -> None:
        commit = repo.resolve(revision)
        tree = repo.tree(commit)
        files = [name for name, entry in tree.items() if entry["type"] == "file"]
        readme = repo.blob(tree["README.md"]["oid"]).decode() if "README.md" in files else ""
        info = {
            "_id": hashlib.sha1(repo.repo_id.encode()).hexdigest()[:24],
            "id": repo.repo_id,
            "author": repo.repo_id.split("/")[0],
            "sha": commit,
            "lastModified": _now(),
            "private": repo.private,
            "gated": False,
            "disabled": False,
            "downloads": 0,
            "likes": 0,
            "tags": [],
            "siblings": [{"rfilename": name} for name in files],
        }
        if repo.repo_type == "model":
            info["modelId"] = repo.repo_id
        metadata = card_metadata(readme) if readme else None
        if metadata:
            info["cardData"] = metadata
        self._send_json(200, info)

    def _refs(self, repo: GitRepo) -> None:
        refs = {"branches": repo.refs("refs/heads/"), "tags": repo.refs("refs/tags/"), "converts": []}
        self._send_json(200, refs)

    def _branch(self, repo: GitRepo, branch: str) -> None:
        body = self._json_body() if self.command == "POST" else {}
        if not REF_NAME.match(branch) or ".." in branch:
            raise HubError(400, f"invalid branch name {branch!r}")
        with self.state.repo_lock(repo):
            head = repo.branch_head(branch)
            if self.command == "DELETE":
                if head is None:
                    raise HubError(404, f"Invalid rev id: {branch}", "RevisionNotFound")
                repo.git("update-ref", "-d", f"refs/heads/{branch}", head)
                return self._send(200)
            if head is not None:
                raise HubError(409, "Reference already exists")
            start = repo.resolve(body.get("startingPoint") or "main")
            repo.git("update-ref", f"refs/heads/{branch}", start, ZERO_OID)
        self._send(200)

    def _tag(self, repo: GitRepo, revision: str) -> None:
        body = self._json_body()
        tag = body.get("tag", "")
        if not REF_NAME.match(tag) or ".." in tag:
            raise HubError(400, f"invalid tag name {tag!r}")
        with self.state.repo_lock(repo):
            commit = repo.resolve(revision)
            if repo.ref(f"refs/tags/{tag}"):
                raise HubError(409, f"Tag {tag} already exists")
            repo.git("update-ref", f"refs/tags/{tag}", commit, ZERO_OID)
        self._send(200)

    # endpoints: reading files

    def _tree(self, repo: GitRepo, revision: str, path: str, query: dict) -> None:
        commit = repo.resolve(revision)
        recursive = query.get("recursive", "false").lower() in ("1", "true")
        self._send_json(200, repo.entries(commit, path, recursive=recursive))

    def _paths_info(self, repo: GitRepo, revision: str) -> None:
        body = self._json_body()
        paths = body.get("paths", [])
        commit = repo.resolve(revision)
        found = []
        tree = repo.tree(commit)
        for path in [paths] if isinstance(paths, str) else paths:
            if path.strip("/") in tree:
                found.append(tree[path.strip("/")])
        self._send_json(200, found)

    def _resolve(self, repo: GitRepo, revision: str, path: str) -> None:
        if self.state.take_fault("resolve"):
            raise HubError(500, "injected fault in resolve")
        commit = repo.resolve(revision)
        entry = repo.file_entry(commit, path)
        content = repo.read_file(entry)
        size = entry["size"]
        headers = {"X-Repo-Commit": commit, "Accept-Ranges": "bytes", "Content-Type": "application/octet-stream"}
        if "lfs" in entry:
            etag = entry["lfs"]["oid"]
            headers |= {"X-Linked-Etag": f'"{etag}"', "X-Linked-Size": str(size), "ETag": f'"{entry["oid"]}"'}
        else:
            headers["ETag"] = f'"{entry["oid"]}"'
        start, end, status = 0, size - 1, 200
        byte_range = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
        if byte_range and size:
            start = int(byte_range.group(1))
            end = min(int(byte_range.group(2) or size - 1), size - 1)
            if start > end:
                raise HubError(416, f"range {self.headers['Range']} outside a file of {size} bytes")
            status = 206
            headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        length = max(end - start + 1, 0)
        if self.command == "HEAD":
            return self._send(status, headers=headers, content_length=length)
        if isinstance(content, bytes):
            return self._send(status, content[start : end + 1], headers)
        self._send(status, headers=headers, content_length=length)
        with open(content, "rb") as source:
            source.seek(start)
            remaining = length
            while remaining:
                chunk = source.read(min(1 << 20, remaining))
                self.wfile.write(chunk)
                remaining -= len(chunk)

    # endpoints: writing

    def _preupload(self, repo: GitRepo, revision: str, query: dict) -> None:
        if query.get("create_pr"):
            raise HubError(501, "pull requests (create_pr) are not supported by the loopback hub")
        body = self._json_body()
        fault = self.state.take_fault("preupload")
        if fault:
            raise HubError(fault["status"], "injected fault in preupload")
        commit = repo.resolve(revision)
        attributes = repo.git("show", f"{commit}:.gitattributes", check=False).decode()
        lfs_patterns = [line.split()[0] for line in attributes.splitlines() if "filter=lfs" in line]
        files = []
        for item in body.get("files", []):
            path, size = item["path"], int(item["size"])
            sample = base64.b64decode(item.get("sample", ""))
            name = path.rsplit("/", 1)[-1]
            lfs = size > 0 and (
                size >= LFS_SIZE_THRESHOLD
                or b"\0" in sample
                or any(fnmatch.fnmatch(name, p) or fnmatch.fnmatch(path, p) for p in lfs_patterns)
            )
            answer = {"path": path, "uploadMode": "lfs" if lfs else "regular", "shouldIgnore": False}
            try:
                entry = repo.file_entry(commit, path)
                answer["oid"] = entry["lfs"]["oid"] if "lfs" in entry else entry["oid"]
            except HubError:
                pass
            files.append(answer)
        self._send_json(200, {"files": files, "commitOid": commit})

    def _lfs_batch(self, repo: GitRepo) -> None:
        body = self._json_body()
        if body.get("operation") != "upload":
            raise HubError(400, "the loopback hub serves LFS downloads through resolve/, not the batch API")
        fault = self.state.take_fault("lfs-batch")
        if fault:
            raise HubError(fault["status"], "injected fault in the LFS batch call")
        objects = []
        for item in body.get("objects", []):
            oid, size = item["oid"], int(item["size"])
            if not re.fullmatch(r"[0-9a-f]{64}", oid):
                objects.append({"oid": oid, "size": size, "error": {"code": 422, "message": "invalid oid"}})
                continue
            answer = {"oid": oid, "size": size, "authenticated": True}
            stored = repo.lfs_path(oid)
            if not (stored.is_file() and stored.stat().st_size == size):
                nonce = secrets.token_urlsafe(24)  # the href is a capability, like a pre-signed storage URL
                with self.state.lock:
                    self.state.uploads[nonce] = (repo, oid, size)
                answer["actions"] = {
                    "upload": {"href": f"{self.base_url}/_loopback/lfs-upload/{nonce}", "expires_in": 3600},
                    "verify": {"href": f"{self.base_url}/_loopback/lfs-verify/{nonce}", "expires_in": 3600},
                }
            objects.append(answer)
        self._send(
            200,
            json.dumps({"transfer": "basic", "objects": objects, "hash_algo": "sha256"}).encode(),
            {"Content-Type": "application/vnd.git-lfs+json"},
        )

    def _lfs_upload(self, nonce: str) -> None:
        with self.state.lock:
            upload = self.state.uploads.get(nonce)
        if upload is None:
            raise HubError(403, "unknown or expired upload URL")
        fault = self.state.take_fault("lfs-upload")
        if fault:
            raise HubError(fault["status"], "injected fault in the LFS upload")
        repo, oid, size = upload
        if size > MAX_UPLOAD_BYTES:
            raise HubError(413, f"object of {size} bytes exceeds the limit of {MAX_UPLOAD_BYTES}")
        target = repo.lfs_path(oid)
        target.parent.mkdir(parents=True, exist_ok=True)
        digest, written = hashlib.sha256(), 0
        self._body_read = True
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = self._chunks(size)
        else:
            length = int(self.headers.get("Content-Length") or 0)
            if length != size:
                self.close_connection = True
                raise HubError(400, f"upload of {length} bytes for an object of {size}")
            chunks = self._fixed_chunks(length)
        with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as tmp:
            try:
                for chunk in chunks:
                    digest.update(chunk)
                    written += len(chunk)
                    tmp.write(chunk)
                if written != size or digest.hexdigest() != oid:
                    raise HubError(400, f"uploaded content does not match oid {oid} and size {size}")
            except BaseException:
                os.unlink(tmp.name)
                raise
        os.replace(tmp.name, target)  # an object appears whole or not at all
        self._send(200)

    def _lfs_verify(self, nonce: str) -> None:
        body = self._json_body()
        with self.state.lock:
            upload = self.state.uploads.get(nonce)
        if upload is None:
            raise HubError(403, "unknown or expired verify URL")
        repo, oid, size = upload
        stored = repo.lfs_path(oid)
        if body.get("oid") != oid or not stored.is_file() or stored.stat().st_size != size:
            raise HubError(404, f"LFS object {oid} is not stored")
        with self.state.lock:
            self.state.uploads.pop(nonce, None)
        self._send_json(200, {"oid": oid, "size": size})

    def _commit(self, repo: GitRepo, revision: str, query: dict) -> None:
        if query.get("create_pr"):
            raise HubError(501, "pull requests (create_pr) are not supported by the loopback hub")
        if not self.headers.get("Content-Type", "").startswith("application/x-ndjson"):
            raise HubError(415, "the commit endpoint expects application/x-ndjson")
        lines = [json.loads(line) for line in self._body(MAX_COMMIT_BODY).splitlines() if line.strip()]
        if not lines or lines[0].get("key") != "header":
            raise HubError(400, "the first NDJSON line must be the commit header")
        header = lines[0]["value"]
        operations = []
        for line in lines[1:]:
            key, value = line.get("key"), line.get("value", {})
            path = _safe_path(value.get("path", "").rstrip("/") if key == "deletedFolder" else value.get("path", ""))
            if key == "file":
                if value.get("encoding") != "base64":
                    raise HubError(400, f"{path}: only base64 file content is supported")
                operations.append(("file", path, base64.b64decode(value["content"])))
            elif key == "lfsFile":
                operations.append(("lfs", path, (value["oid"], int(value["size"]))))
            elif key == "deletedFile":
                operations.append(("delete-file", path, None))
            elif key == "deletedFolder":
                operations.append(("delete-folder", path, None))
            else:
                raise HubError(400, f"commit operation {key!r} is not supported by the loopback hub")
        fault = self.state.take_fault("commit")
        with self.state.repo_lock(repo):
            if repo.branch_head(revision) is None:
                raise HubError(404, f"Invalid rev id: {revision}", "RevisionNotFound")
            sha = repo.commit(
                revision,
                operations,
                header.get("summary") or "commit",
                header.get("description") or "",
                author=self._user["name"],
                parent=header.get("parentCommit"),
                fault=fault and {"after_operations": fault.get("after_operations", 0), "status": fault["status"]},
            )
        self._send_json(
            200,
            {
                "success": True,
                "commitOid": sha,
                "commitUrl": f"{self.base_url}/{repo.url_prefix}{repo.repo_id}/commit/{sha}",
            },
        )

    # test control

    def _control(self, method: str, segments: list[str]) -> None:
        if segments[:1] == ["lfs-upload"] and len(segments) == 2 and method == "PUT":
            return self._lfs_upload(segments[1])
        if segments[:1] == ["lfs-verify"] and len(segments) == 2 and method == "POST":
            return self._lfs_verify(segments[1])
        if segments == ["faults"] and method == "POST":
            fault = self._json_body()
            fault.setdefault("status", 500)
            fault.setdefault("times", 1)
            with self.state.lock:
                self.state.faults.append(fault)
            return self._send_json(200, fault)
        if segments == ["requests"] and method == "GET":
            with self.state.lock:
                return self._send_json(200, list(self.state.requests))
        if segments == ["requests"] and method == "DELETE":
            with self.state.lock:
                self.state.requests.clear()
                self.state.faults.clear()
            return self._send(200)
        raise HubError(404, f"no control route {method} /_loopback/{'/'.join(segments)}")


def _safe_path(path: str) -> str:
    parts = path.split("/")
    if not path or path.startswith("/") or any(p in ("", ".", "..") for p in parts) or parts[0] == ".git":
        raise HubError(400, f"invalid path in repository: {path!r}")
    return path


# model and dataset cards


def card_metadata(text: str) -> dict | None:
    """The YAML front matter of a card, or None; raises ValueError when it does not parse."""
    import yaml  # a proteinhub dependency; the server otherwise uses the standard library only

    match = re.match(r"^---\s*\n(.*?)\n---\s*(\n|$)", text, re.DOTALL)
    if not match:
        return None
    metadata = yaml.safe_load(match.group(1))
    if metadata is not None and not isinstance(metadata, dict):
        raise ValueError("the card metadata must be a YAML mapping")
    return metadata or {}


def validate_card(text: str, repo_type: str) -> list[dict]:
    """The subset of the Hub's card checks that proteinhub relies on: YAML that parses, list/str field types, and for
    datasets a `configs:` list whose entries name a config and its data files."""
    try:
        metadata = card_metadata(text)
    except Exception as error:
        return [{"message": f"Invalid metadata in README.md: {error}"}]
    errors = []
    for key in ("tags", "datasets", "metrics", "language"):
        value = (metadata or {}).get(key)
        if value is not None and not isinstance(value, list | str):
            errors.append({"message": f'"{key}" must be a string or a list of strings'})
    for key in ("license", "library_name", "pipeline_tag", "base_model", "pretty_name"):
        value = (metadata or {}).get(key)
        if value is not None and not isinstance(value, str | list):
            errors.append({"message": f'"{key}" must be a string'})
    if repo_type == "dataset":
        for config in (metadata or {}).get("configs") or []:
            if not isinstance(config, dict) or "config_name" not in config or "data_files" not in config:
                errors.append({"message": '"configs" entries need "config_name" and "data_files"'})
    if repo_type == "model" and "model-index" in (metadata or {}):
        index = metadata["model-index"]
        if not isinstance(index, list) or not all(isinstance(m, dict) and "name" in m for m in index):
            errors.append({"message": '"model-index" must be a list of models with a "name"'})
    return errors


# process entry point and test helper


def make_server(config: dict) -> ThreadingHTTPServer:
    state = HubState(
        Path(config["root"]), config.get("users", {}), Path(config["log_file"]) if config.get("log_file") else None
    )
    state.root.mkdir(parents=True, exist_ok=True)
    handler = type("BoundHandler", (Handler,), {"state": state})
    server = ThreadingHTTPServer(("127.0.0.1", int(config.get("port", 0))), handler)
    server.daemon_threads = True
    return server


def main() -> None:
    # the configuration, tokens included, arrives on stdin: no file or command line ever holds a token
    config = json.loads(sys.stdin.read())
    server = make_server(config)
    parent = os.getppid()

    def exit_with_parent() -> None:  # a test run killed before its teardown must not leave the server behind
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=exit_with_parent, daemon=True).start()
    port_file = Path(config["port_file"])
    port_file.with_suffix(".tmp").write_text(str(server.server_address[1]))
    port_file.with_suffix(".tmp").replace(port_file)  # the reader never sees a half-written port
    server.serve_forever()


class LoopbackHub:
    """A running loopback hub in a subprocess (stopped by its PID), with helpers for tests."""

    def __init__(self, process: subprocess.Popen, url: str, root: Path, log_file: Path):
        self.process, self.url, self.root, self.log_file = process, url, root, log_file

    @classmethod
    def start(cls, workdir: Path, users: dict, timeout_s: float = 20.0) -> LoopbackHub:
        """Start a server on a free 127.0.0.1 port; `users` = {name: {"token", "role", "orgs"}}."""
        workdir.mkdir(parents=True, exist_ok=True)
        config = {
            "root": str(workdir / "repos"),
            "users": users,
            "log_file": str(workdir / "requests.jsonl"),
            "port_file": str(workdir / "port"),
        }
        server_log = open(workdir / "server.log", "wb")  # noqa: SIM115 (owned by the process)
        process = subprocess.Popen(
            [sys.executable, "-I", __file__], stdin=subprocess.PIPE, stdout=server_log, stderr=server_log, cwd=workdir
        )
        process.stdin.write(json.dumps(config).encode())
        process.stdin.close()
        deadline = time.monotonic() + timeout_s
        port_file = Path(config["port_file"])
        while not port_file.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"loopback hub did not start: {(workdir / 'server.log').read_text()[-2000:]}")
            time.sleep(0.02)
        hub = cls(process, f"http://127.0.0.1:{port_file.read_text()}", Path(config["root"]), Path(config["log_file"]))
        token = next(iter(users.values()))["token"]
        while True:  # readiness: an authenticated whoami
            try:
                hub.call("GET", "/api/whoami-v2", token=token)
                return hub
            except (urllib.error.URLError, ConnectionError):
                if time.monotonic() > deadline:
                    hub.stop()
                    raise
                time.sleep(0.05)

    def call(self, method: str, path: str, payload=None, token: str | None = None):
        request = urllib.request.Request(self.url + path, method=method)
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        data = None if payload is None else json.dumps(payload).encode()
        if data is not None:
            request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, data=data, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def inject_fault(self, endpoint: str, *, status: int = 500, times: int = 1, after_operations: int = 0) -> None:
        """Answer the next `times` calls of `endpoint` ("commit", "preupload", "lfs-batch", "lfs-upload",
        "resolve") with `status`; a faulty commit first writes `after_operations` of its operations."""
        fault = {"endpoint": endpoint, "status": status, "times": times, "after_operations": after_operations}
        self.call("POST", "/_loopback/faults", fault)

    def requests(self) -> list[dict]:
        return self.call("GET", "/_loopback/requests")

    def clear(self) -> None:
        """Forget the request log and any fault not triggered yet."""
        self.call("DELETE", "/_loopback/requests")

    def repo(self, repo_id: str, repo_type: str = "model") -> GitRepo:
        return GitRepo(self.root, repo_type, repo_id)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


if __name__ == "__main__":
    main()
