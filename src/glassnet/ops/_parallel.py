"""A small shared thread pool for the batch axis of the conv/pool kernels.

NumPy releases the GIL inside ufuncs, copies and matmuls, so a kernel can split
the batch axis into one chunk per core and run the chunks side by side; each
chunk writes its own slice of a preallocated output, so the result does not
depend on the timing of the threads.

A chunk that multiplies matrices runs them on one BLAS thread
(:func:`single_threaded_blas`): two cores each doing everything for half of
the batch (im2col, matmul, relu, col2im) beat BLAS threading the matmuls alone,
where the elementwise steps run on one core while BLAS's idle threads spin on
the others. The chunks follow the threads BLAS is allowed when the kernel
starts, so ``threadpoolctl.threadpool_limits(1)`` makes glassnet's kernels
serial too. Small arrays run serially (a thread hand-off costs ~20 us).
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager, nullcontext

WORKERS = max(1, min(os.cpu_count() or 1, 8))
MIN_ELEMENTS = 1 << 16  # below this, one thread is faster than a hand-off

_pool: ThreadPoolExecutor | None = None
_blas_lock = threading.Lock()
_blas_controllers: list | None = None  # threadpoolctl's, found on first use
_blas_saved: list[tuple[object, int]] = []  # (controller, threads) to restore
_blas_users = 0  # kernels now inside single_threaded_blas()


def _controllers() -> list:
    global _blas_controllers
    if _blas_controllers is None:
        try:
            from threadpoolctl import ThreadpoolController

            found = ThreadpoolController().select(user_api="blas")
            _blas_controllers = list(found.lib_controllers)
        except Exception:  # no threadpoolctl, or a BLAS it cannot drive
            _blas_controllers = []
    return _blas_controllers


def blas_threads() -> int:
    """How many threads BLAS may use outside glassnet's kernels: the fewest any
    loaded BLAS library allows (a limit set before SciPy loaded its own copy
    counts), ``WORKERS`` when that cannot be found out."""
    with _blas_lock:
        if _blas_users:
            return min((threads for _, threads in _blas_saved), default=WORKERS)
    controllers = _controllers()
    return min(c.num_threads for c in controllers) if controllers else WORKERS


@contextmanager
def single_threaded_blas():
    """Run the block with every BLAS library on one thread, restoring the
    previous counts when the last of any concurrent users leaves (the setting
    is process-wide: other threads' matmuls run on one thread meanwhile)."""
    global _blas_users
    with _blas_lock:
        if _blas_users == 0:
            _blas_saved[:] = [(c, c.num_threads) for c in _controllers()]
            for controller, _ in _blas_saved:
                controller.set_num_threads(1)
        _blas_users += 1
    try:
        yield
    finally:
        with _blas_lock:
            _blas_users -= 1
            if _blas_users == 0:
                for controller, threads in _blas_saved:
                    controller.set_num_threads(threads)


def workers_for(n: int, elements: int) -> int:
    """How many threads share ``n`` samples of ``elements`` work in all: one per
    core BLAS may use, or one when the work is too small to share."""
    return min(WORKERS, n, blas_threads()) if elements >= MIN_ELEMENTS else 1


def split(n: int, parts: int) -> list[tuple[int, int]]:
    """(lo, hi) ranges splitting ``range(n)`` into ``parts`` near-equal ones."""
    parts = max(min(parts, n), 1)
    bounds = [n * k // parts for k in range(parts + 1)]
    return list(zip(bounds[:-1], bounds[1:]))


def chunks(n: int, elements: int) -> list[tuple[int, int]]:
    """(lo, hi) ranges splitting ``n`` samples into one chunk per worker, or one
    chunk when the work (``elements`` in all) is too small to share."""
    return split(n, workers_for(n, elements))


def over_batch(fn, n: int, elements: int, blas: bool = False) -> None:
    """Call ``fn(lo, hi)`` for chunks of the batch ``range(n)``, in parallel when
    ``elements`` (the work, in array elements) is large; returns when all are
    done and re-raises the first error. ``blas=True``: ``fn`` multiplies
    matrices, which then run on one BLAS thread per chunk."""
    global _pool
    ranges = chunks(n, elements)
    if len(ranges) == 1:
        fn(0, n)
        return
    if _pool is None:
        _pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="glassnet")
    with single_threaded_blas() if blas else nullcontext():
        futures = [_pool.submit(fn, lo, hi) for lo, hi in ranges[1:]]
        try:
            fn(*ranges[0])  # the calling thread takes the first chunk
        finally:
            wait(futures)  # no chunk may outlive the call, even on an error
    for future in futures:
        future.result()
