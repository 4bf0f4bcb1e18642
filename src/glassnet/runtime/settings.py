"""The engine's speed switches: fast kernels on or off, and how many threads the
batch-splitting kernels use.

Each switch has a process-wide value (read once from the environment, changed
with the ``set_*`` functions) that a thread may override for a block with
:func:`overrides`; an override in one thread never changes what another thread
sees. Only ``glassnet.runtime`` reads these values: the plain ops, the layers,
the models and the estimators never ask which path runs.

Environment variables (read when glassnet is imported):

- ``GLASSNET_FAST_KERNELS``: ``0`` runs the plain ops only (default ``1``).
- ``GLASSNET_KERNEL_THREADS``: threads for the batch-splitting kernels
  (default: the number of cores, at most 8).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator

MAX_DEFAULT_THREADS = 8


def _flag_from_env(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    if value.strip().lower() in ("0", "false", "no", "off"):
        return False
    if value.strip().lower() in ("1", "true", "yes", "on"):
        return True
    raise ValueError(
        f"Environment variable {name} must be 0 or 1. Received: {name}={value!r}"
    )


def _threads_from_env(name: str) -> int | None:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return None
    return check_threads(value, name)


def check_threads(value: object, name: str = "threads") -> int:
    """A thread count: a positive integer (strings of digits accepted)."""
    try:
        threads = int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        threads = 0
    if isinstance(value, (bool, float)) or threads < 1:
        raise ValueError(
            f"`{name}` must be a positive integer. Received: {name}={value!r}"
        )
    return threads


def default_threads() -> int:
    return max(1, min(os.cpu_count() or 1, MAX_DEFAULT_THREADS))


_process = {
    "fast_kernels": _flag_from_env("GLASSNET_FAST_KERNELS", True),
    "kernel_threads": _threads_from_env("GLASSNET_KERNEL_THREADS"),
}


class _Overrides(threading.local):
    """This thread's stack of ``overrides`` frames (None: never overridden;
    a class attribute, so reading it raises nothing in a fresh thread)."""

    stack: list[dict] | None = None


_local = _Overrides()


def _get(key: str):
    stack = _local.stack
    if stack:
        for frame in reversed(stack):
            if key in frame:
                return frame[key]
    return _process[key]


def fast_kernels() -> bool:
    """Whether ops with a faster twin in ``glassnet.runtime`` use it."""
    return bool(_get("fast_kernels"))


def set_fast_kernels(enabled: bool) -> None:
    """Use the fast kernels (True, the default) or only the plain ops (False),
    in every thread that does not override it."""
    if not isinstance(enabled, bool):
        raise TypeError(
            f"set_fast_kernels expects True or False. Received: enabled={enabled!r}"
        )
    _process["fast_kernels"] = enabled


def kernel_threads() -> int:
    """How many threads a batch-splitting kernel may use."""
    threads = _get("kernel_threads")
    return default_threads() if threads is None else threads


def set_kernel_threads(threads: int | None) -> None:
    """Threads for the batch-splitting kernels (None: the number of cores, at
    most 8), in every thread that does not override it."""
    _process["kernel_threads"] = (
        None if threads is None else check_threads(threads, "threads")
    )


@contextlib.contextmanager
def overrides(
    fast_kernels: bool | None = None, kernel_threads: int | None = None
) -> Iterator[None]:
    """Change the switches for this thread only, inside the ``with`` block."""
    frame: dict[str, object] = {}
    if fast_kernels is not None:
        if not isinstance(fast_kernels, bool):
            raise TypeError(
                "fast_kernels must be True or False. "
                f"Received: fast_kernels={fast_kernels!r}"
            )
        frame["fast_kernels"] = fast_kernels
    if kernel_threads is not None:
        frame["kernel_threads"] = check_threads(kernel_threads, "kernel_threads")
    stack = _local.stack
    if stack is None:
        stack = _local.stack = []
    stack.append(frame)
    try:
        yield
    finally:
        stack.pop()
