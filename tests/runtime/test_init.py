"""Importing glassnet registers the fast kernels with ops.seam, and changes no
BLAS thread count and starts no thread."""

import subprocess
import sys

import pytest

from glassnet import config, ops
from glassnet.ops import seam

pytest.importorskip("threadpoolctl")

_PROBE = """
import sys
import threading
import numpy, scipy.linalg, threadpoolctl

def blas():
    return {i["filepath"]: i["num_threads"] for i in threadpoolctl.threadpool_info()}

before, threads = blas(), threading.active_count()
import glassnet
from glassnet.ops import seam
after = blas()
assert all(after[path] == n for path, n in before.items()), (before, after)
assert threading.active_count() == threads
assert "glassnet.runtime" in sys.modules
print(*sorted(seam._choosers))
"""


def test_import_registers_the_kernels_and_changes_no_thread_setting():
    out = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == [
        "batch_norm",
        "chain_inference",
        "chain_training",
        "conv1d",
        "conv2d",
        "conv2d_batch_norm",
        "linear",
        "max_pool2d",
    ]


@pytest.mark.parametrize("op", ["conv2d", "conv1d", "max_pool2d"])
def test_a_chooser_offers_its_kernel_only_while_fast_kernels_are_on(op):
    with config.overrides(fast_kernels=True):
        assert callable(seam.fast(op))
    with config.overrides(fast_kernels=False):
        assert seam.fast(op) is None
    assert hasattr(ops, op)


def test_the_batch_norm_kernel_takes_statistics_over_all_axes_but_the_last():
    images, per_channel = (2, 5, 5, 3), (1, 1, 1, 3)
    cases = [
        ((images, per_channel, per_channel), (0, 1, 2), True),
        ((images, (3,), (3,)), (0, 1, 2), True),
        (((4, 3), (3,), (1, 3)), (0,), True),
        ((images, per_channel, per_channel), (0,), False),  # Keras axis=[1, 2, 3]
        ((images, (1, 5, 1, 1), (1, 5, 1, 1)), (0, 2, 3), False),
        ((images, (1, 1, 5, 3), per_channel), (0, 1, 2), False),  # gamma per pixel
    ]
    for shapes, axes, offered in cases:
        settings = dict(shapes=shapes, axes=axes)
        with config.overrides(fast_kernels=True):
            assert callable(seam.fast("batch_norm", **settings)) is offered
        with config.overrides(fast_kernels=False):
            assert seam.fast("batch_norm", **settings) is None


def test_the_linear_chooser_offers_its_kernel_only_without_a_graph():
    import numpy as np

    from glassnet import no_grad

    x, w = np.ones((1024, 16), np.float32), np.ones((16, 40), np.float32)
    with config.overrides(fast_kernels=True):
        assert seam.fast("linear", x, w) is None  # recording: the plain Function
        with no_grad():
            assert callable(seam.fast("linear", x, w))
    with config.overrides(fast_kernels=False), no_grad():
        assert seam.fast("linear", x, w) is None
