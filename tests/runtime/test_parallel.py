"""Blocks, threads and the BLAS policy of the batch-splitting kernels."""

import threading

import numpy as np
import pytest

from glassnet import config, runtime
from glassnet.runtime import parallel

threadpoolctl = pytest.importorskip("threadpoolctl")


def _blas_counts():
    info = threadpoolctl.threadpool_info()
    return [lib["num_threads"] for lib in info if lib["user_api"] == "blas"]


def _blocks_cover(blocks, n):
    assert blocks[0][0] == 0 and blocks[-1][1] == n
    assert all(z == a for (_, z), (a, _) in zip(blocks, blocks[1:]))
    sizes = [z - a for a, z in blocks]
    assert min(sizes) >= 1 and max(sizes) - min(sizes) <= 1


# --- blocks: from the sizes only ----------------------------------------------------
@pytest.mark.parametrize(
    "n,sample_bytes,sample_work,count",
    [
        (128, 100, 10, 1),  # too little work to share: one block
        (128, 100, parallel.MIN_ELEMENTS // 32, 4),  # blocks of MIN_ELEMENTS or more
        (128, 100, parallel.MIN_ELEMENTS, 8),  # as many as GRAIN
        (128, 86_528, 216_320, 8),  # bench_conv's first conv: 11 MB, in 8 blocks
        (128, 200_000, 10**6, 16),  # 25.6 MB: a multiple of GRAIN of 2 MB blocks
        (5, 10**7, 10**7, 5),  # at least one sample a block
    ],
)
def test_batch_blocks_depend_only_on_the_sizes(n, sample_bytes, sample_work, count):
    blocks = parallel.batch_blocks(n, sample_bytes, sample_work)
    assert len(blocks) == count
    _blocks_cover(blocks, n)
    for threads in (1, 3, 8):
        with config.overrides(kernel_threads=threads):
            assert parallel.batch_blocks(n, sample_bytes, sample_work) == blocks
    with threadpoolctl.threadpool_limits(1):
        assert parallel.batch_blocks(n, sample_bytes, sample_work) == blocks


# --- threads ------------------------------------------------------------------------
def _record_blocks(count, threads, blas_threads=8):
    """Which thread did each block, for over_blocks with ``threads`` kernel
    threads; every thread waits for all the others in its first block, so the
    test fails (barrier timeout) unless ``threads`` threads really run."""
    barrier, done, lock = threading.Barrier(threads, timeout=10), {}, threading.Lock()

    def worker(indices):
        first = True
        for index in indices:
            if first:
                barrier.wait()
                first = False
            with lock:
                done.setdefault(index, []).append(threading.get_ident())

    with config.overrides(kernel_threads=threads):
        original = parallel.blas_threads
        parallel.blas_threads = lambda: blas_threads
        try:
            parallel.over_blocks(worker, count)
        finally:
            parallel.blas_threads = original
    return done


@pytest.mark.parametrize("threads", [1, 2, 4])
def test_over_blocks_runs_every_block_once_in_the_kernel_threads(threads):
    done = _record_blocks(12, threads)
    assert sorted(done) == list(range(12))
    assert all(len(idents) == 1 for idents in done.values())
    assert len({idents[0] for idents in done.values()}) == threads


def test_threads_follow_the_setting_the_blocks_and_the_blas_limit():
    with config.overrides(kernel_threads=3):
        assert parallel.threads_for(1) == 1
        assert parallel.threads_for(2) == min(2, parallel.blas_threads())
        with threadpoolctl.threadpool_limits(1):
            assert parallel.threads_for(100) == 1
    config.set_kernel_threads(1)
    try:
        assert parallel.threads_for(100) == 1
    finally:
        config.set_kernel_threads(None)


def test_over_blocks_waits_for_every_block_and_raises_the_first_error(monkeypatch):
    monkeypatch.setattr(parallel, "blas_threads", lambda: 2)
    done, started = [], threading.Barrier(2, timeout=10)

    def worker(indices):
        started.wait()  # both threads hold a block before one fails
        for index in indices:
            if index == 0:
                raise ValueError("block 0 failed")
            done.append(index)

    with config.overrides(kernel_threads=2):
        with pytest.raises(ValueError, match="block 0 failed"):
            parallel.over_blocks(worker, 2, blas=True)
    assert done == [1]
    assert parallel._blas_users == 0


def test_block_sum_adds_in_block_order_whatever_the_arrival_order():
    # big and small values: a different order of the sums gives other bits
    parts = [np.array([1e16]), np.array([1.0]), np.array([-1e16]), np.array([1.0])]
    expected = ((parts[0] + parts[1]) + parts[2]) + parts[3]
    for order in ([0, 1, 2, 3], [3, 2, 1, 0], [2, 0, 3, 1]):
        total = parallel.BlockSum()
        for index in order:
            total.add(index, parts[index].copy())
        assert total.total.tobytes() == expected.tobytes()


# --- BLAS ---------------------------------------------------------------------------
def test_single_threaded_blas_restores_the_counts_after_nested_use():
    before = _blas_counts()
    with parallel.single_threaded_blas():
        assert set(_blas_counts()) <= {1}
        with parallel.single_threaded_blas():
            assert set(_blas_counts()) <= {1}
        assert set(_blas_counts()) <= {1}  # the outer user is still inside
        if before:
            assert parallel.blas_threads() == min(before)
    assert _blas_counts() == before


def test_single_threaded_blas_restores_the_counts_after_concurrent_use():
    before, barrier = _blas_counts(), threading.Barrier(4)

    def user():
        barrier.wait()
        for _ in range(50):
            with parallel.single_threaded_blas():
                np.ones((8, 8)) @ np.ones((8, 8))

    threads = [threading.Thread(target=user) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert _blas_counts() == before


def test_one_limited_blas_library_makes_the_kernels_serial():
    # numpy's BLAS limited to one thread while SciPy's copy still allows more
    controllers = parallel._controllers()
    if len(controllers) < 2:
        pytest.skip("needs two BLAS libraries loaded")
    before = [c.num_threads for c in controllers]
    controllers[0].set_num_threads(1)
    try:
        assert parallel.blas_threads() == 1
        assert parallel.threads_for(100) == 1
    finally:
        controllers[0].set_num_threads(before[0])


# --- kernel_scope -------------------------------------------------------------------
@pytest.fixture
def two_blas_threads():
    """BLAS allowed 2 threads (so that pinning it to 1 shows), and kernels
    split from the first sample."""
    if not parallel._controllers():
        pytest.skip("no BLAS library threadpoolctl can drive")
    with threadpoolctl.threadpool_limits(2, user_api="blas"):
        yield


def _splitting_kernel(seen=None):
    """A stand-in for a batch-splitting kernel: 4 blocks over 2 threads,
    noting the BLAS counts its blocks see."""

    def worker(indices):
        for _ in indices:
            if seen is not None:
                seen.append(_blas_counts())

    with config.overrides(kernel_threads=2):
        parallel.over_blocks(worker, 4, blas=True)


def test_outside_a_scope_a_kernel_pins_blas_around_its_own_blocks(two_blas_threads):
    before, seen = _blas_counts(), []
    _splitting_kernel(seen)
    assert seen and all(set(counts) == {1} for counts in seen)
    assert _blas_counts() == before == [2] * len(before)


def test_in_a_scope_the_first_splitting_kernel_pins_blas_until_the_scope_exits(
    two_blas_threads,
):
    before = _blas_counts()
    with runtime.kernel_scope():
        assert _blas_counts() == before  # no kernel has split the batch yet
        _splitting_kernel()
        assert set(_blas_counts()) == {1}  # the dense layers, the backward
        with runtime.kernel_scope():  # nested: the outer scope keeps the pin
            _splitting_kernel()
        assert set(_blas_counts()) == {1}
        _splitting_kernel()
        assert parallel.threads_for(4) == 2  # kernels still see BLAS's own count
    assert _blas_counts() == before
    assert parallel._blas_users == 0


def test_a_scope_whose_kernels_run_serially_leaves_blas_alone(two_blas_threads):
    before = _blas_counts()
    with runtime.kernel_scope(), config.overrides(kernel_threads=1):
        parallel.over_blocks(lambda indices: list(indices), 4, blas=True)
        assert _blas_counts() == before
    assert _blas_counts() == before


def test_a_scope_restores_blas_after_an_error(two_blas_threads):
    before = _blas_counts()
    with pytest.raises(RuntimeError):
        with runtime.kernel_scope():
            _splitting_kernel()
            raise RuntimeError("step failed")
    assert _blas_counts() == before


def test_scopes_in_several_threads_restore_blas_when_the_last_one_exits(
    two_blas_threads,
):
    # NOTE: the pin is checked through the policy's own count of users: the
    # OpenBLAS seen here ignores a thread count set from another thread than
    # the main one once the main thread has set one (as two_blas_threads did).
    before, barrier, errors = _blas_counts(), threading.Barrier(3), []

    def step():
        try:
            barrier.wait()
            for _ in range(20):
                with runtime.kernel_scope():
                    _splitting_kernel()
                    assert parallel._blas_users >= 1
        except Exception as error:  # noqa: BLE001  (reported below)
            errors.append(error)

    threads = [threading.Thread(target=step) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert _blas_counts() == before
    assert parallel._blas_users == 0


def test_a_model_call_is_one_scope_as_a_prediction_is(two_blas_threads, small_blocks):
    # its kernels pin BLAS once for the whole call, not each around itself
    from glassnet import layers
    from glassnet.models import Sequential

    counts = []
    model = Sequential(
        [
            layers.Input((6, 6, 1)),
            layers.Conv2D(4, 3),
            layers.Lambda(lambda x: counts.append(_blas_counts()) or x),
            layers.Flatten(),
            layers.Dense(2),
        ]
    )
    before = _blas_counts()
    small_blocks(1)
    with config.overrides(kernel_threads=2):
        model(np.ones((16, 6, 6, 1), "float32"))
    assert counts and set(counts[-1]) == {1}  # after the convolution: still pinned
    assert _blas_counts() == before
    assert parallel._blas_users == 0
