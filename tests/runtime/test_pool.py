"""The fast max pooling (blocks of samples shared out to threads) equals the
plain ``MaxPool2D`` bit for bit (only comparisons, no sums), ties included,
for every thread count."""

from __future__ import annotations

import numpy as np
import pytest

from glassnet import Tensor, config, ops
from glassnet.runtime import parallel
from glassnet.runtime import pool as fast_pool

# (height, width, pool_size, strides, padding)
POOLS = [
    (6, 6, (2, 2), None, "valid"),  # windows tile the input: one write each
    (7, 5, (2, 2), None, "valid"),  # odd sizes: the last row is dropped
    (7, 5, (2, 2), None, "same"),
    (7, 8, (3, 2), (2, 1), "valid"),  # overlapping windows
    (7, 8, (3, 3), (2, 2), "same"),
    (5, 6, (3, 3), (1, 1), "same"),
    (9, 9, (16, 17), (1, 1), "same"),  # over 255 offsets: two bytes each
]
IDS = [f"{h}x{w}-p{p}-s{s}-{pad}" for h, w, p, s, pad in POOLS]


@pytest.mark.parametrize("block_bytes", [1, 10**9], ids=["1-sample", "2-blocks"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", POOLS, ids=IDS)
def test_fast_max_pool_equals_plain_for_any_thread_count(
    case, dtype, block_bytes, monkeypatch
):
    monkeypatch.setattr(parallel, "MIN_ELEMENTS", 1)
    monkeypatch.setattr(parallel, "GRAIN", 2)
    monkeypatch.setattr(parallel, "BLOCK_BYTES", block_bytes)
    monkeypatch.setattr(parallel, "blas_threads", lambda: 8)
    h, w, pool, strides, padding = case
    # relu-like input: many all-zero windows, so the first-max tie rule matters
    x = np.maximum(np.random.default_rng(3).standard_normal((7, h, w, 3)), 0)
    x = x.astype(dtype)
    results = []
    for fast, threads in ((False, 1), (True, 1), (True, 2), (True, 4)):
        xs = Tensor(x, requires_grad=True)
        with config.overrides(fast_kernels=fast, kernel_threads=threads):
            out = ops.max_pool2d(xs, pool, strides, padding)
            kind = fast_pool.MaxPool2D if fast else ops.MaxPool2D
            assert type(out._ctx) is kind
            grad = np.random.default_rng(4).standard_normal(out.shape)
            out.backward(grad.astype(dtype))
        results.append((out.data, xs.grad))
    plain = results[0]
    assert plain[0].dtype == plain[1].dtype == dtype
    for other in results[1:]:
        np.testing.assert_array_equal(other[0], plain[0])
        np.testing.assert_array_equal(other[1], plain[1])


@pytest.mark.parametrize("case", POOLS[:3], ids=IDS[:3])
def test_outside_a_graph_the_pool_keeps_no_offsets_and_the_same_maxima(
    case, monkeypatch
):
    from glassnet import no_grad

    kept = []
    real = fast_pool.offsets_array
    monkeypatch.setattr(
        fast_pool, "offsets_array", lambda *a: kept.append(a) or real(*a)
    )
    h, w, pool, strides, padding = case
    x = np.maximum(np.random.default_rng(5).standard_normal((4, h, w, 3)), 0)
    with no_grad():
        fast = ops.max_pool2d(x, pool, strides, padding).data
        with config.overrides(fast_kernels=False):
            plain = ops.max_pool2d(x, pool, strides, padding).data
    assert not kept
    np.testing.assert_array_equal(fast, plain)
    ops.max_pool2d(Tensor(x, requires_grad=True), pool, strides, padding)
    assert kept  # a graph: the offsets, for backward
