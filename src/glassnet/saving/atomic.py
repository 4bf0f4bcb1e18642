"""Writing a file so that readers see the old version or the new, never half.

The bytes go to a temporary file in the target's own folder (same file
system), are flushed to disk, and the temporary file is renamed over the
target with ``os.replace``, which is atomic: a process killed mid-save leaves
the previous file as it was (and a ``.<name>.<random>.tmp`` file beside it).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable
from typing import IO, Any


def write_atomically(
    filepath: Any, write: Callable[[IO[bytes]], None], overwrite: bool = True
) -> None:
    """Call ``write(file)`` on a temporary file beside ``filepath`` and put it
    in place atomically. ``overwrite=False`` raises FileExistsError when
    ``filepath`` exists (checked at the moment the file is put in place)."""
    path = os.fspath(filepath)
    folder = os.path.dirname(os.path.abspath(path))
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"{path} exists and overwrite=False.")
    temp = os.path.join(folder, f".{os.path.basename(path)}.{secrets.token_hex(4)}.tmp")
    # NOTE: os.open with 0o666 lets the umask set the permissions, as open() does
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        if overwrite:
            os.replace(temp, path)
        else:
            os.link(temp, path)  # fails if the target appeared meanwhile
            os.unlink(temp)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    _sync_folder(folder)


def _sync_folder(folder: str) -> None:
    """Make the rename itself durable (POSIX; a no-op where folders cannot be
    opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
