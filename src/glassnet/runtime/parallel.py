"""Blocks of samples shared out to threads, and the BLAS thread policy.

The batch-splitting kernels (convolution, max pooling) cut the batch into
*blocks* of samples whose bounds depend only on the sizes and the dtype
(:func:`batch_blocks`), never on how many threads or cores there are; threads
take the blocks one by one (:func:`over_blocks`) and each block writes its own
slice of a preallocated output. Sums over blocks (a kernel's gradient) are
added in block order (:class:`BlockSum`). So 1, 2 or 8 threads give
bit-identical results. NumPy releases the GIL inside ufuncs, copies and
matmuls, so the threads run side by side.

BLAS policy: a kernel that splits the batch runs its matmuls on one BLAS thread
per block (two cores each doing everything for their own blocks, im2col,
matmul, relu, col2im, beat BLAS threading the matmuls alone, where the
elementwise steps run on one core while BLAS's idle threads spin on the
others). Outside a :func:`kernel_scope`, BLAS is pinned to one thread around the
kernel's blocks only; inside one (the trainer enters it around each step), the
first kernel that splits a batch pins it until the outermost scope exits, so
the rest of the step (the dense layers, the backward pass) runs on one BLAS
thread too. The threads follow ``glassnet.config.kernel_threads()``, capped by
what BLAS allows when the kernel starts, so
``threadpoolctl.threadpool_limits(1)`` makes the kernels serial too.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, wait

import numpy as np

from glassnet.runtime import settings

# Work (multiply-adds or array elements) below which a block is not worth a
# thread hand-off.
MIN_ELEMENTS = 1 << 16
# Bytes of a block's working arrays (im2col rows, products, inputs): near a
# core's cache, so a block stays there through all its steps, yet big enough
# that the per-block Python overhead is small.
BLOCK_BYTES = 1 << 21
# Block counts are a multiple of this (where the work allows), so that 1, 2, 4
# or 8 threads share them evenly.
GRAIN = 8

_pool: ThreadPoolExecutor | None = None
_pool_size = 0
_pool_lock = threading.Lock()

_blas_lock = threading.Lock()
_blas_controllers: list | None = None  # threadpoolctl's, found on first use
_blas_saved: list[tuple[object, int]] = []  # (controller, threads) to restore
_blas_users = 0  # kernels and scopes now holding BLAS at one thread
_UNKNOWN = 1 << 10  # BLAS threads where no BLAS library could be asked: no cap


class _Scope(threading.local):
    """This thread's kernel_scope depth, and whether its scope pins BLAS."""

    depth = 0
    pinned = False


_scope = _Scope()


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
    counts); no cap when that cannot be found out."""
    with _blas_lock:  # not while another thread pins or restores the counts
        if _blas_users:
            return min((n for _, n in _blas_saved), default=_UNKNOWN)
        controllers = _controllers()
        return min(c.num_threads for c in controllers) if controllers else _UNKNOWN


def _pin_blas() -> None:
    """One more user of single-threaded BLAS (the first one sets it)."""
    global _blas_users
    with _blas_lock:
        if _blas_users == 0:
            _blas_saved[:] = [(c, c.num_threads) for c in _controllers()]
            for controller, _ in _blas_saved:
                controller.set_num_threads(1)
        _blas_users += 1


def _unpin_blas() -> None:
    """One user fewer (the last one restores the saved counts)."""
    global _blas_users
    with _blas_lock:
        _blas_users -= 1
        if _blas_users == 0:
            for controller, threads in _blas_saved:
                controller.set_num_threads(threads)


@contextlib.contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Run the block with every BLAS library on one thread, restoring the
    previous counts when the last of any concurrent users leaves (the setting
    is process-wide: other threads' matmuls run on one thread meanwhile)."""
    _pin_blas()
    try:
        yield
    finally:
        _unpin_blas()


class kernel_scope:
    """The thread and BLAS policy for one training step, one evaluation batch
    or one prediction batch (the trainer enters it around each).

    Inside it, the first kernel that splits a batch over threads sets every
    BLAS library to one thread, and the counts are restored when the outermost
    scope of this thread exits. Scopes nest, and several threads may hold
    scopes at once (the counts come back when the last one leaves).
    """

    # NOTE: a class (named in lower case, like contextlib.nullcontext), not a
    # generator-based contextmanager: it is entered once per training step,
    # where a generator's overhead would show in small models.
    __slots__ = ()

    def __enter__(self) -> None:
        _scope.depth += 1

    def __exit__(self, *exc: object) -> None:
        _scope.depth -= 1
        if _scope.depth == 0 and _scope.pinned:
            _scope.pinned = False
            _unpin_blas()


def _blas_for_split() -> contextlib.AbstractContextManager:
    """The BLAS setting a kernel that splits its batch runs under: pinned for
    the rest of this thread's kernel_scope, or just around the kernel."""
    if _scope.depth:
        if not _scope.pinned:
            _pin_blas()
            _scope.pinned = True
        return contextlib.nullcontext()
    return single_threaded_blas()


def split(n: int, parts: int) -> list[tuple[int, int]]:
    """(lo, hi) ranges splitting ``range(n)`` into ``parts`` near-equal ones."""
    parts = max(min(parts, n), 1)
    bounds = [n * k // parts for k in range(parts + 1)]
    return list(zip(bounds[:-1], bounds[1:]))


def batch_blocks(n: int, sample_bytes: int, sample_work: int) -> list:
    """(a, z) sample ranges covering ``range(n)``: blocks of near-equal size
    whose working arrays (``sample_bytes`` a sample) fit in about BLOCK_BYTES,
    at least one sample each; where the work (``sample_work`` a sample) allows
    blocks of MIN_ELEMENTS or more, at least 2, 4 or 8 of them, a multiple of
    that count. They depend only on these sizes."""
    shares = 1
    while shares < GRAIN and n * sample_work >= 2 * shares * MIN_ELEMENTS:
        shares *= 2
    fits = -(-n * sample_bytes // BLOCK_BYTES)
    return split(n, -(-fits // shares) * shares)


class _Claims:
    """Block indices handed out one at a time to whichever thread asks."""

    def __init__(self, count: int) -> None:
        self._next, self._count, self._lock = 0, count, threading.Lock()

    def __iter__(self) -> _Claims:
        return self

    def __next__(self) -> int:
        with self._lock:
            index = self._next
            if index >= self._count:
                raise StopIteration
            self._next += 1
            return index


def threads_for(blocks: int) -> int:
    """How many threads share ``blocks`` blocks: the kernel threads setting,
    capped by the blocks and by the threads BLAS allows."""
    if blocks <= 1:
        return 1
    return max(1, min(settings.kernel_threads(), blocks, blas_threads()))


def over_blocks(worker: Callable, count: int, blas: bool = False) -> None:
    """Run ``worker(indices)`` in as many threads as share ``count`` blocks;
    ``indices`` yields the block indices that thread is to do (each block goes
    to exactly one thread). Returns when all are done and re-raises the first
    error. A worker may keep per-thread scratch buffers across its blocks.
    ``blas=True``: the worker multiplies matrices (see the module docstring)."""
    threads = threads_for(count)
    if threads == 1:
        worker(range(count))
        return
    claims = _Claims(count)
    pool = _executor(threads - 1)
    pin = blas or _scope.depth  # in a scope, any split pins BLAS
    with _blas_for_split() if pin else contextlib.nullcontext():
        futures = [pool.submit(worker, claims) for _ in range(threads - 1)]
        try:
            worker(claims)  # the calling thread works too
        finally:
            wait(futures)  # no block may outlive the call, even on an error
    for future in futures:
        future.result()


def _executor(workers: int) -> ThreadPoolExecutor:
    """The shared pool, replaced by a larger one if it has fewer than
    ``workers`` threads (not shut down: another kernel may still be using it;
    its threads end when it is collected)."""
    global _pool, _pool_size
    with _pool_lock:
        if _pool is None or _pool_size < workers:
            _pool = ThreadPoolExecutor(workers, thread_name_prefix="glassnet")
            _pool_size = workers
        return _pool


class BlockSum:
    """The sum of one array per block, added in block order whichever thread
    finishes first: ``((part0 + part1) + part2) + ...``, the same bits for any
    number of threads. Parts that come early wait (a few: threads take the
    blocks in order)."""

    def __init__(self) -> None:
        self.total: np.ndarray | None = None
        self._next, self._early, self._lock = 0, {}, threading.Lock()

    def add(self, index: int, part: np.ndarray) -> None:
        """Add ``part``, block ``index``'s (may be kept and added to in place)."""
        with self._lock:
            self._early[index] = part
            while self._next in self._early:
                part = self._early.pop(self._next)
                if self.total is None:
                    self.total = part
                else:
                    np.add(self.total, part, out=self.total)
                self._next += 1
