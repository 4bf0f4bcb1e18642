"""A tiny shared thread pool for the memory-bound parts of the conv/pool kernels.

NumPy releases the GIL inside ufuncs and copies, so splitting the batch axis of
an elementwise step into one chunk per core runs the chunks side by side (BLAS
already uses every core for the matmuls). Each chunk writes its own slice of a
preallocated output, so results are identical to the serial computation.
Small arrays run serially (a thread hand-off costs ~20 us).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

WORKERS = max(1, min(os.cpu_count() or 1, 8))
MIN_ELEMENTS = 1 << 16  # below this, one thread is faster than a hand-off

_pool: ThreadPoolExecutor | None = None


def chunks(n: int, elements: int) -> list[tuple[int, int]]:
    """(lo, hi) ranges splitting ``n`` samples into one chunk per worker, or one
    chunk when the work (``elements`` in all) is too small to share."""
    parts = min(WORKERS, n) if elements >= MIN_ELEMENTS else 1
    bounds = [n * k // parts for k in range(parts + 1)]
    return list(zip(bounds[:-1], bounds[1:]))


def over_batch(fn, n: int, elements: int) -> None:
    """Call ``fn(lo, hi)`` for chunks of the batch ``range(n)``, in parallel when
    ``elements`` (the work, in array elements) is large; returns when all are
    done and re-raises the first error."""
    global _pool
    ranges = chunks(n, elements)
    if len(ranges) == 1:
        fn(0, n)
        return
    if _pool is None:
        _pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="glassnet")
    futures = [_pool.submit(fn, lo, hi) for lo, hi in ranges[1:]]
    fn(*ranges[0])  # the calling thread takes the first chunk
    for future in futures:
        future.result()
