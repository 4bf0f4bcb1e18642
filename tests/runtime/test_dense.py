"""The dense layer's fast twin at inference (``runtime.dense``) equals its
plain twin, ``ops.linear`` with fast kernels off, to the bit: the same matrix
product, bias and in-place activation in the same order. And the output
arrays it reuses (``runtime.buffers``) are never ones somebody still holds.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest
import scipy.sparse

from glassnet import Tensor, config, no_grad, ops
from glassnet.runtime import buffers, dense

ACTIVATIONS = [None, "relu", "tanh", "sigmoid"]
# (batch, features, units): one sample, a few, and outputs past MIN_BYTES
SHAPES = [(1, 1, 1), (7, 5, 3), (300, 64, 256), (1024, 16, 40), (4096, 1, 16)]


def _plain(x, w, b, activation):
    with config.overrides(fast_kernels=False), no_grad():
        return ops.linear(x, w, b, activation=activation).data


def _arrays(shape, dtype, seed=0):
    n, k, m = shape
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, k)).astype(dtype)
    w = (rng.standard_normal((k, m)) / np.sqrt(k)).astype(dtype)
    b = rng.standard_normal(m).astype(dtype)
    return x, w, b


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("bias", [True, False])
def test_fast_equals_plain_to_the_bit(shape, dtype, activation, bias):
    x, w, b = _arrays(shape, dtype)
    b = b if bias else None
    expected = _plain(x, w, b, activation)
    with no_grad():
        for _ in range(3):  # the second and third reuse the first's output array
            got = ops.linear(Tensor(x), Tensor(w), None if b is None else Tensor(b),
                             activation=activation)  # fmt: skip
            assert not got.requires_grad and got.grad_fn is None
            assert got.dtype == expected.dtype
            np.testing.assert_array_equal(got.data, expected)
            del got


def test_the_seam_offers_the_twin_only_without_a_graph():
    x, w, b = (Tensor(a, requires_grad=True) for a in _arrays((4, 3, 2), np.float64))
    y = ops.linear(x, w, b, activation="relu")
    assert y.grad_fn is not None  # recording: the plain Function
    with no_grad():
        assert ops.linear(x, w, b).grad_fn is None
    with config.overrides(fast_kernels=False), no_grad():
        assert ops.linear(x, w, b).grad_fn is None


@pytest.mark.parametrize(
    "case",
    ["3-d input", "sparse input", "mixed dtypes", "float64 bias"],
)
def test_inputs_it_does_not_cover_go_to_the_plain_op(case):
    x, w, b = _arrays((6, 4, 3), np.float32)
    if case == "3-d input":
        x = x.reshape(2, 3, 4)
    elif case == "sparse input":
        x = scipy.sparse.csr_matrix(x.astype(np.float64))
        w, b = w.astype(np.float64), b.astype(np.float64)
    elif case == "mixed dtypes":
        x = x.astype(np.float64)
    else:
        b = b.astype(np.float64)
    expected = _plain(x, w, b, "tanh")
    with no_grad():
        if case != "float64 bias":  # the chooser cannot see the bias
            assert dense.choose(x, w) is None
        got = ops.linear(x, w, b, activation="tanh")
    np.testing.assert_array_equal(got.data, expected)


def test_products_too_small_to_gain_go_to_the_plain_op():
    x, w, _ = _arrays((2, 4, 3), np.float32)
    with no_grad():
        assert dense.choose(x, w) is None
        big_x, big_w, _ = _arrays((1024, 16, 40), np.float32)
        assert dense.choose(big_x, big_w) is dense.linear_inference


def test_shape_errors_are_the_plain_ops():
    x, w, b = _arrays((6, 4, 3), np.float32)
    with no_grad(), pytest.raises(ValueError, match="linear needs x's last axis"):
        ops.linear(x[:, :3], w, b)


# --- the reused arrays ----------------------------------------------------------
BIG = (buffers.MIN_BYTES // 8, 1)  # float64: just past MIN_BYTES


def test_an_array_nobody_holds_is_handed_out_again():
    buffers.release()
    first = buffers.reusable(BIG, np.dtype(np.float64))
    first_id = id(first)
    del first
    assert id(buffers.reusable(BIG, np.dtype(np.float64))) == first_id


@pytest.mark.parametrize("holder", ["array", "view", "tensor"])
def test_an_array_somebody_holds_is_never_handed_out(holder):
    buffers.release()
    first = buffers.reusable(BIG, np.dtype(np.float64))
    kept = {"array": first, "view": first[1:], "tensor": Tensor(first)}[holder]
    del first
    second = buffers.reusable(BIG, np.dtype(np.float64))
    base = kept if holder == "array" else getattr(kept, "base", None)
    base = kept.data if holder == "tensor" else base
    assert second is not base
    assert not np.shares_memory(second, kept.data if holder == "tensor" else kept)


def test_small_arrays_are_not_kept_and_the_pool_is_bounded():
    buffers.release()
    buffers.reusable((4, 4), np.dtype(np.float64))
    assert not buffers._kept.pool.arrays
    held = [buffers.reusable(BIG, np.dtype(np.float64)) for _ in range(5)]
    assert len({id(a) for a in held}) == 5  # all in use: all different
    assert (
        len(buffers._kept.pool.arrays[(BIG, np.dtype(np.float64))]) == buffers.PER_SHAPE
    )
    assert buffers._kept.pool.nbytes <= buffers.MAX_BYTES


def test_each_thread_has_its_own_arrays():
    buffers.release()
    mine = buffers.reusable(BIG, np.dtype(np.float64))
    mine_id = id(mine)
    del mine
    seen = []
    thread = threading.Thread(
        target=lambda: seen.append(id(buffers.reusable(BIG, np.dtype(np.float64))))
    )
    thread.start()
    thread.join()
    assert seen[0] != mine_id
    assert id(buffers.reusable(BIG, np.dtype(np.float64))) == mine_id


def test_release_buffers_lets_go_of_every_thread_s_arrays():
    from glassnet import config

    config.release_buffers()
    nbytes = buffers.MIN_BYTES
    kept, done = threading.Event(), threading.Event()

    def other_thread():  # alive, with an array in its pool, until released
        buffers.reusable(BIG, np.dtype(np.float64))
        kept.set()
        done.wait(10)

    thread = threading.Thread(target=other_thread)
    thread.start()
    kept.wait(10)
    buffers.reusable(BIG, np.dtype(np.float64))
    assert config.release_buffers() >= 2 * nbytes
    assert config.release_buffers() == 0
    done.set()
    thread.join()
    held = buffers.reusable(BIG, np.dtype(np.float64))  # kept afresh, alone
    assert [a is held for a in buffers._kept.pool.arrays[(BIG, held.dtype)]] == [True]


def test_a_held_model_output_keeps_its_values():
    x, w, b = _arrays((1024, 16, 40), np.float32)
    with no_grad():
        first = ops.linear(x, w, b, activation="relu").data
        values = first.copy()
        ops.linear(2 * x, w, b, activation="relu")
    np.testing.assert_array_equal(first, values)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "shapes",
    [
        ((1024, 1), (1, 1)),
        ((200, 1), (1, 7)),
        ((3, 1), (1, 300)),
        ((50, 4), (4, 3)),
        ((9, 64), (64, 1)),
    ],
)
def test_product_is_the_matmul_to_the_bit(dtype, shapes):
    # signed zeros too: a single product is -0.0 where matmul's sum gives it
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal(s).astype(dtype) for s in shapes)
    a[rng.random(a.shape) < 0.3] = -0.0
    b.flat[0] = 0.0
    expected = a @ b
    out = np.empty_like(expected)
    for got in (
        dense.product(a, b),
        dense.product(a, b, out),
        dense.product(a, b.T.copy().T),
    ):
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(np.signbit(got), np.signbit(expected))
        np.testing.assert_array_equal(got, expected)
