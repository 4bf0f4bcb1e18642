"""Arrays that a fast kernel reuses from one call, or step, to the next.

At inference a layer's output lives only until the next layer has read it,
and the next prediction needs an array of the same shape again; a training
step needs the same batch-sized arrays (a convolution's output, its im2col
rows, the input's gradient, per-thread scratch) as the step before. glibc
may hand a freed block of more than about 128 KiB back to the operating
system (or trim it off the top of the heap), so a fresh array that large is
mapped anew, and every page of it costs a page fault when first written:
for a dense layer on a batch of 1024 that is as much time as its matrix
product. Whether it does depends on what the process allocated before (a
small fit of the same model first cost the next epochs of a CNN a quarter
of their time). (:func:`glassnet.config.tune_malloc` avoids it process-wide,
on request.)

:func:`reusable` keeps such arrays, per thread, and hands one out again once
nothing but the pool refers to it: its reference count says so. An array the
caller still holds (a model's output, a view of it, a Tensor another thread
reads) is never handed out twice. The pool keeps a few arrays per shape and
at most :data:`MAX_BYTES` per thread.
"""

from __future__ import annotations

import math
import sys
import threading
import weakref

import numpy as np

#: Smaller arrays come from the C library's free lists: nothing to gain.
MIN_BYTES = 1 << 17
#: At most this many bytes kept per thread, and this many arrays per shape.
MAX_BYTES = 1 << 26
PER_SHAPE = 2


class _Pool:
    """One thread's kept arrays, by (shape, dtype), and their bytes."""

    __slots__ = ("arrays", "nbytes", "__weakref__")

    def __init__(self) -> None:
        self.arrays: dict[tuple, list[np.ndarray]] = {}
        self.nbytes = 0


#: Every live thread's pool (a pool goes with its thread).
_POOLS: weakref.WeakSet[_Pool] = weakref.WeakSet()
_POOLS_LOCK = threading.Lock()


class _Kept(threading.local):
    def __init__(self) -> None:
        self.pool = _Pool()
        with _POOLS_LOCK:
            _POOLS.add(self.pool)


_kept = _Kept()


def _free_count() -> int:
    """The reference count :func:`reusable` sees for an array only the pool
    holds (the pool's list, the loop variable, ``getrefcount``'s argument),
    measured once in the same loop, so no interpreter detail is assumed."""
    for array in [np.empty(0)]:
        return sys.getrefcount(array)
    raise AssertionError("unreachable")


_FREE = _free_count()


def reusable(shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """An uninitialised array of ``shape`` and ``dtype``: one this thread got
    before and nobody refers to any more, or a new one (kept for next time
    when there is room)."""
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes < MIN_BYTES:
        return np.empty(shape, dtype)
    key, pool = (shape, dtype), _kept.pool
    kept = pool.arrays.get(key)
    if kept is not None:
        for array in kept:
            if sys.getrefcount(array) <= _FREE:
                return array
    array = np.empty(shape, dtype)
    if len(kept or ()) < PER_SHAPE and pool.nbytes + nbytes <= MAX_BYTES:
        pool.arrays.setdefault(key, []).append(array)
        pool.nbytes += nbytes
    return array


def zeroed(shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """:func:`reusable`, filled with zeros."""
    array = reusable(shape, dtype)
    array.fill(0)
    return array


def release() -> None:
    """Forget the arrays this thread keeps (they are freed once unused)."""
    _kept.pool.arrays, _kept.pool.nbytes = {}, 0


def release_all() -> int:
    """Forget the arrays every thread keeps (the kernels' threads too; each
    is freed once unused) and return how many bytes they were. A kernel
    running meanwhile keeps what it holds and starts a new pool."""
    released = 0
    with _POOLS_LOCK:
        pools = list(_POOLS)
    for pool in pools:
        released += pool.nbytes
        pool.arrays, pool.nbytes = {}, 0
    return released
