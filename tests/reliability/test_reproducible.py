"""The same seed gives the same weights whatever the number of kernel threads
(1, 2 or 4, set in this process or in a fresh one through the environment),
for a Dense model and a CNN whose kernels really split the batch into
blocks; and the same weights with fast kernels on or off where the order of
sums is the same (the Dense model), within a stated tolerance where it is not
(the CNN: the fast kernels sum a weight's gradient block by block)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from glassnet import config
from glassnet.runtime import parallel

SRC = Path(__file__).resolve().parents[2] / "src"

# Shared by this process and the fresh ones (as source: it is sent to them).
TRAIN = textwrap.dedent(
    """
    import numpy as np
    from glassnet.layers import Conv2D, Dense, Flatten, Input, MaxPooling2D
    from glassnet.models import Sequential

    def train(kind, dtype="float32", fuse=True):
        rng = np.random.default_rng(0)
        np.random.seed(0)  # the initializers and fit's shuffles
        if kind == "dense":
            x = rng.standard_normal((256, 20))
            layers = [Input((20,)), Dense(32, activation="relu"), Dense(3)]
        else:  # 128 images: the kernels cut the batch into 8 blocks by default
            x = rng.standard_normal((128, 16, 16, 1))
            layers = [
                Input((16, 16, 1)),
                Conv2D(8, 3, activation="relu", dtype=dtype),
                MaxPooling2D(dtype=dtype),
                Flatten(dtype=dtype),
                Dense(3, dtype=dtype),
            ]
        y = rng.standard_normal((len(x), 3))
        model = Sequential(layers)
        model.fuse_layers = fuse
        model.build((None, *x.shape[1:]))
        model.compile("adam", "mse")
        model.fit(x, y, batch_size=64, epochs=2, verbose=0)
        return model.get_weights()
    """
)
namespace: dict = {}
exec(TRAIN, namespace)  # noqa: S102 - our own source, shared with the subprocess
train = namespace["train"]


class _Spy:
    """How many blocks the kernels cut batches into, and how many threads
    shared them (the most seen)."""

    def __init__(self, monkeypatch):
        self.blocks = self.threads = 0
        threads_for = parallel.threads_for

        def spy(count):
            used = threads_for(count)
            self.blocks, self.threads = max(self.blocks, count), max(self.threads, used)
            return used

        monkeypatch.setattr(parallel, "threads_for", spy)


def _same(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


@pytest.fixture
def four_blas_threads(monkeypatch):
    # the kernel threads are capped by what BLAS allows: let 4 really run
    monkeypatch.setattr(parallel, "blas_threads", lambda: 8)


@pytest.mark.parametrize("kind", ["dense", "cnn"])
def test_1_2_and_4_kernel_threads_give_the_same_weights(
    kind, monkeypatch, four_blas_threads
):
    spy = _Spy(monkeypatch)
    runs = {}
    for threads in (1, 2, 4):
        with config.overrides(kernel_threads=threads, fast_kernels=True):
            runs[threads] = train(kind)
    _same(runs[1], runs[2])
    _same(runs[1], runs[4])
    if kind == "cnn":
        assert spy.blocks >= 8 and spy.threads == 4


def test_small_blocks_and_unfused_layers_give_the_same_weights(
    monkeypatch, four_blas_threads
):
    # Blocks of 2 samples (dozens of them) through the separate conv and pool
    # kernels: more block boundaries, the same bits.
    monkeypatch.setattr(parallel, "MIN_ELEMENTS", 1)
    monkeypatch.setattr(parallel, "BLOCK_BYTES", 1)
    spy = _Spy(monkeypatch)
    runs = []
    for threads in (1, 3, 4):
        with config.overrides(kernel_threads=threads, fast_kernels=True):
            runs.append(train("cnn", fuse=False))
    assert spy.blocks >= 32
    _same(runs[0], runs[1])
    _same(runs[0], runs[2])


def _fresh_process(threads: int) -> dict:
    script = TRAIN + textwrap.dedent(
        """
        import hashlib, json
        import threadpoolctl
        from glassnet.runtime import parallel
        # BLAS caps the kernel threads at its own count (the cores, at most
        # the OPENBLAS_NUM_THREADS...): set 4, as on a machine of 4 cores.
        blas = threadpoolctl.threadpool_limits(limits=4, user_api="blas")
        # ... and let the kernels find the BLAS libraries now, so set (a copy
        # a later import loads would start at this machine's core count)
        parallel.blas_threads()
        seen = {"blocks": 0, "threads": 0}
        threads_for = parallel.threads_for
        def spy(count):
            used = threads_for(count)
            seen["blocks"] = max(seen["blocks"], count)
            seen["threads"] = max(seen["threads"], used)
            return used
        parallel.threads_for = spy
        for kind in ("dense", "cnn"):
            digest = hashlib.sha256()
            for w in train(kind):
                digest.update(w.tobytes())
            seen[kind] = digest.hexdigest()
        print(json.dumps(seen))
        """
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
        "GLASSNET_KERNEL_THREADS": str(threads),
    }
    env.pop("GLASSNET_FAST_KERNELS", None)
    done = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_fresh_processes_with_1_2_and_4_kernel_threads_give_the_same_weights():
    pytest.importorskip("threadpoolctl")
    runs = {threads: _fresh_process(threads) for threads in (1, 2, 4)}
    assert runs[1]["threads"] == 1 and runs[4]["threads"] == 4
    assert runs[4]["blocks"] >= 8  # the default block sizes split the batch
    for kind in ("dense", "cnn"):
        assert runs[1][kind] == runs[2][kind] == runs[4][kind], kind


def test_fast_kernels_on_or_off_give_the_same_dense_weights():
    with config.overrides(fast_kernels=False):
        plain = train("dense")
    with config.overrides(fast_kernels=True, kernel_threads=2):
        fast = train("dense")
    _same(plain, fast)


@pytest.mark.parametrize(("dtype", "rtol"), [("float64", 1e-12), ("float32", 1e-5)])
def test_fast_kernels_on_or_off_give_the_cnn_weights_to_rounding(dtype, rtol):
    # The fast convolution adds a weight's gradient block by block, the plain
    # one in one product: the same sum in another order. After 4 Adam steps
    # the weights agree to the runtime twins' tolerance (measured: 1e-15 in
    # float64, 3e-7 in float32), not to the bit.
    with config.overrides(fast_kernels=False):
        plain = train("cnn", dtype=dtype)
    with config.overrides(fast_kernels=True, kernel_threads=2):
        fast = train("cnn", dtype=dtype)
    for a, b in zip(plain, fast):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * 1e-2)
