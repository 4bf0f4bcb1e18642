"""Opt-in allocator tuning: keep freed array memory for reuse instead of handing
it back to the operating system.

A training step allocates and frees the same multi-megabyte arrays (im2col
buffers, activations, gradients) every batch. With glibc's defaults each of
them may be a fresh ``mmap`` (or a heap top that is trimmed and grown again),
so every step pays for page faults. Raising glibc's mmap and trim thresholds
lets freed blocks be reused. Today's blocked kernels allocate little, so the
benchmarks run the same either way; the tuning stays available for workloads
with large whole-batch arrays.

It changes a process-wide setting of the C library, so glassnet never does it
on its own: call :func:`tune_malloc` (also ``glassnet.config.tune_malloc``), or
set ``GLASSNET_TUNE_MALLOC=1`` before importing glassnet. It does nothing where
the C library is not glibc.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
#: Blocks up to this size come from the reusable heap; free memory up to this
#: size stays mapped at the top of the heap.
THRESHOLD_BYTES = 256 * 1024 * 1024


def tune_malloc() -> bool:
    """Raise glibc's mmap and trim thresholds for this process; return whether
    it was done (False where the C library is not glibc)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
        libc.gnu_get_libc_version  # noqa: B018  (only glibc has it)
    except (OSError, AttributeError):
        return False
    return bool(
        mallopt(M_MMAP_THRESHOLD, THRESHOLD_BYTES)
        and mallopt(M_TRIM_THRESHOLD, THRESHOLD_BYTES)
    )


def tune_malloc_if_asked() -> bool:
    """Tune the allocator when ``GLASSNET_TUNE_MALLOC=1`` (the opt-in)."""
    value = os.environ.get("GLASSNET_TUNE_MALLOC", "").strip().lower()
    return value in ("1", "true", "yes", "on") and tune_malloc()
