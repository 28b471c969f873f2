"""Sharing on the Hugging Face Hub: pushing a run or a prepared dataset (`push`) and the model cards (`cards`)."""

from .push import (
    HubPushError,
    HubTokenError,
    PushResult,
    check_push_access,
    push_dataset,
    push_run,
    resolve_token,
    run_push,
    run_push_dataset,
)

__all__ = [
    "HubPushError",
    "HubTokenError",
    "PushResult",
    "check_push_access",
    "push_dataset",
    "push_run",
    "resolve_token",
    "run_push",
    "run_push_dataset",
]
