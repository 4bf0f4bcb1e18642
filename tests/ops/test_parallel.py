import threading

import numpy as np
import pytest

from glassnet.ops import _parallel

threadpoolctl = pytest.importorskip("threadpoolctl")


def _blas_counts():
    info = threadpoolctl.threadpool_info()
    return [lib["num_threads"] for lib in info if lib["user_api"] == "blas"]


def test_single_threaded_blas_restores_the_counts_after_nested_use():
    before = _blas_counts()
    with _parallel.single_threaded_blas():
        assert set(_blas_counts()) <= {1}
        with _parallel.single_threaded_blas():
            assert set(_blas_counts()) <= {1}
        assert set(_blas_counts()) <= {1}  # the outer user is still inside
        assert _parallel.blas_threads() == min(before, default=_parallel.WORKERS)
    assert _blas_counts() == before


def test_single_threaded_blas_restores_the_counts_after_concurrent_use():
    before, barrier = _blas_counts(), threading.Barrier(4)

    def user():
        barrier.wait()
        for _ in range(50):
            with _parallel.single_threaded_blas():
                np.ones((8, 8)) @ np.ones((8, 8))

    threads = [threading.Thread(target=user) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert _blas_counts() == before


def test_over_batch_follows_the_blas_thread_limit(monkeypatch):
    monkeypatch.setattr(_parallel, "WORKERS", 4)
    assert len(_parallel.chunks(100, 10**9)) == min(4, _parallel.blas_threads())
    with threadpoolctl.threadpool_limits(1):
        assert _parallel.chunks(100, 10**9) == [(0, 100)]
    assert _parallel.chunks(100, 10) == [(0, 100)]  # too little work to share


def test_over_batch_waits_for_every_chunk_and_raises_the_first_error(monkeypatch):
    monkeypatch.setattr(_parallel, "WORKERS", 2)
    monkeypatch.setattr(_parallel, "blas_threads", lambda: 2)
    done = []

    def fn(lo, hi):
        if lo == 0:
            raise ValueError("chunk 0 failed")
        done.append((lo, hi))

    with pytest.raises(ValueError, match="chunk 0 failed"):
        _parallel.over_batch(fn, 10, 10**9, blas=True)
    assert done == [(5, 10)]
    assert _parallel._blas_users == 0


def test_one_limited_blas_library_makes_the_kernels_serial():
    # numpy's BLAS limited to one thread while SciPy's copy still allows more
    controllers = _parallel._controllers()
    if len(controllers) < 2:
        pytest.skip("needs two BLAS libraries loaded")
    before = [c.num_threads for c in controllers]
    controllers[0].set_num_threads(1)
    try:
        assert _parallel.blas_threads() == 1
        assert _parallel.workers_for(100, 10**9) == 1
    finally:
        controllers[0].set_num_threads(before[0])
