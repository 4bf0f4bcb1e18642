"""The fast batch normalization (blocked, threaded, relu and max pool fused in)
equals its plain twin, ``ops.batch_norm`` with fast kernels off (BatchNorm,
then relu, then max_pool2d), over a table of shapes, dtypes and thread counts.

The statistics and the gradients' sums are taken block by block (merged in
block order), so fast and plain agree to rtol 1e-12 (float64) / 1e-5
(float32) of the largest entry; the fast kernel with 1, 2 or 4 threads gives
the same bits, since its blocks depend only on the sizes.
"""

from __future__ import annotations

import numpy as np
import pytest

from glassnet import Tensor, config, ops
from glassnet.ops import normalization as plain_norm
from glassnet.runtime import normalization as fast_norm

from .twins import assert_close, assert_same_bits, assert_twins

# input shape, (activation, pool_size) fusions that fit it
SHAPES = {
    "images": ((7, 6, 8, 5), [(None, None), ("relu", None), ("relu", 2), (None, 2)]),
    "odd-images": ((7, 7, 5, 3), [("relu", 2), ("relu", (3, 2)), (None, (2, 5))]),
    "one-pixel": ((9, 1, 1, 4), [(None, None), ("relu", None)]),
    "dense": ((9, 6), [(None, None), ("relu", None)]),
    "sequence": ((5, 4, 3), [("relu", None)]),
}
CASES = [
    pytest.param(name, activation, pool, id=f"{name}-{activation}-pool{pool}")
    for name, (_, fusions) in SHAPES.items()
    for activation, pool in fusions
]
THREADS = (1, 2, 4)


def _arrays(shape, dtype, seed=0):
    """Input with a large mean (the variance must not lose its digits to it),
    and gamma, beta shaped as the layer passes them (broadcastable, one per
    feature)."""
    rng = np.random.default_rng(seed)
    affine = (1,) * (len(shape) - 1) + (shape[-1],)
    x = rng.standard_normal(shape) * 3 + 20
    gamma, beta = rng.standard_normal(affine), rng.standard_normal(affine)
    return [a.astype(dtype) for a in (x, gamma, beta)]


def _run(arrays, settings, fast, threads=1, grad_seed=1):
    """Output, moments and gradients of ops.batch_norm, fast or plain."""
    tensors = [Tensor(a, requires_grad=True) for a in arrays]
    axes = tuple(range(arrays[0].ndim - 1))
    with config.overrides(fast_kernels=fast, kernel_threads=threads):
        out, mean, var = ops.batch_norm(
            *tensors, axes=axes, return_moments=True, **settings
        )
        rng = np.random.default_rng(grad_seed)
        out.backward(rng.standard_normal(out.shape).astype(out.dtype))
    return [out.data, mean, var] + [t.grad for t in tensors], out


@pytest.mark.parametrize("block_bytes", [1, 10**9], ids=["1-sample", "2-blocks"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name,activation,pool", CASES)
def test_fast_batch_norm_equals_plain_for_any_thread_count(
    name, activation, pool, dtype, block_bytes, small_blocks, monkeypatch
):
    small_blocks(block_bytes)
    if block_bytes > 1:  # large blocks, taken a row or two at a time
        monkeypatch.setattr(fast_norm, "TILE_BYTES", 1)
    arrays = _arrays(SHAPES[name][0], dtype)
    settings = dict(activation=activation, pool_size=pool)
    plain, _ = _run(arrays, settings, fast=False)
    fast, node = _run(arrays, settings, fast=True, threads=THREADS[0])
    assert type(node._ctx) is fast_norm.BatchNorm
    assert len(node._ctx.blocks) > 1
    assert_twins(fast, plain, dtype)
    if activation == "relu":  # both sides of relu's kink
        assert (fast[0] == 0).any() and (fast[0] > 0).any()
    assert_same_bits(lambda t: _run(arrays, settings, True, t)[0], fast, THREADS[1:])


def test_only_the_needed_gradients_and_constant_affine_weights(small_blocks):
    small_blocks(1)
    x, gamma, beta = _arrays((4, 3, 3, 2), np.float64)
    tensor = Tensor(x, requires_grad=True)
    results = []
    for fast in (False, True):
        with config.overrides(fast_kernels=fast):
            out = ops.batch_norm(tensor, gamma, beta, axes=(0, 1, 2))
            g = np.random.default_rng(1).standard_normal(out.shape)
            grads = out._ctx.backward(g)
        assert grads[1] is None and grads[2] is None
        results.append(grads[0])
    assert_close(results[1], results[0], np.float64)


def test_a_pool_tie_goes_to_the_first_maximum_on_both_paths(small_blocks):
    # constant images normalize to beta everywhere: relu(-1) zeroes whole
    # windows, and the gradient goes to each window's first pixel
    small_blocks(1)
    x = np.ones((3, 4, 4, 2))
    x[0] = 2.0
    gamma, beta = np.ones((1, 1, 1, 2)), np.array([[[[-1.0, 0.5]]]])
    settings = dict(activation="relu", pool_size=2)
    plain, _ = _run([x, gamma, beta], settings, fast=False)
    fast, _ = _run([x, gamma, beta], settings, fast=True, threads=2)
    for got, expected in zip(fast, plain):
        assert_close(got, expected, np.float64)


def test_the_fast_kernel_raises_the_plain_errors():
    x, affine = np.zeros((2, 5, 6, 3)), np.ones((1, 1, 1, 3))
    for fast in (True, False):
        with config.overrides(fast_kernels=fast):
            with pytest.raises(ValueError, match=r"Pool size \(6, 1\) is larger"):
                ops.batch_norm(x, affine, affine, axes=(0, 1, 2), pool_size=(6, 1))
            with pytest.raises(ValueError, match="Only activation=None or 'relu'"):
                ops.batch_norm(x, affine, affine, activation="tanh")


def test_the_switch_picks_the_node():
    x, affine = np.ones((2, 3, 3, 2)), np.ones((1, 1, 1, 2))
    for fast, kind in ((True, fast_norm.BatchNorm), (False, plain_norm.BatchNorm)):
        with config.overrides(fast_kernels=fast):
            gamma = Tensor(affine, requires_grad=True)
            assert type(ops.batch_norm(x, gamma, affine, axes=(0, 1, 2))._ctx) is kind
            # statistics over other axes than all-but-the-last: the plain op
            out = ops.batch_norm(x, gamma, affine, axes=(0,))
            assert type(out._ctx) is plain_norm.BatchNorm


# (input shape, kernel shape, conv settings), for the convolution + normalization
CONV_CASES = {
    "same": ((6, 6, 8, 3), (3, 3, 3, 4), dict(padding="same")),
    "valid-strided": ((6, 9, 8, 2), (2, 3, 2, 5), dict(strides=(2, 1))),
    "many-channels": ((5, 6, 6, 9), (3, 3, 9, 4), dict(padding="same")),
    "kept-im2col": ((5, 5, 6, 1), (1, 2, 1, 8), dict()),
}


def _conv_run(arrays, settings, fast, threads=1, fused=True):
    """Output, moments and gradients of ops.conv2d_batch_norm (or, with
    ``fused`` False, of ops.conv2d then ops.batch_norm)."""
    tensors = [None if a is None else Tensor(a, requires_grad=True) for a in arrays]
    conv = {k: settings[k] for k in ("strides", "padding") if k in settings}
    norm = {k: v for k, v in settings.items() if k not in conv}
    with config.overrides(fast_kernels=fast, kernel_threads=threads):
        if fused:
            out, mean, var = ops.conv2d_batch_norm(*tensors, **settings)
        else:
            z = ops.conv2d(*tensors[:3], **conv)
            out, mean, var = ops.batch_norm(z, *tensors[3:], (0, 1, 2), **norm)
        rng = np.random.default_rng(1)
        out.backward(rng.standard_normal(out.shape).astype(out.dtype))
    grads = [t.grad for t in tensors if t is not None]
    return [out.data, mean, var, *grads], out


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no-bias"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("fusion", [(None, None), ("relu", None), ("relu", 2)])
@pytest.mark.parametrize("name", list(CONV_CASES))
def test_fast_conv_batch_norm_equals_plain_and_the_two_fast_nodes(
    name, fusion, dtype, bias, small_blocks, monkeypatch
):
    small_blocks(1)
    monkeypatch.setattr(fast_norm, "TILE_BYTES", 3 * 4 * 8)  # parts of 3 or 6 rows
    x_shape, w_shape, conv = CONV_CASES[name]
    rng = np.random.default_rng(0)
    affine = (1, 1, 1, w_shape[-1])
    arrays = [
        rng.standard_normal(x_shape) + 3,
        rng.standard_normal(w_shape),
        rng.standard_normal(w_shape[-1]) if bias else None,
        rng.standard_normal(affine),
        rng.standard_normal(affine),
    ]
    arrays = [None if a is None else a.astype(dtype) for a in arrays]
    settings = dict(conv, activation=fusion[0], pool_size=fusion[1])
    settings["return_moments"] = True
    plain, _ = _conv_run(arrays, settings, fast=False)
    fast, node = _conv_run(arrays, settings, fast=True)
    assert type(node._ctx) is fast_norm.ConvBatchNorm
    if bias:  # dL/db is 0 but for rounding (the normalization removes b)
        grad_b = [fast.pop(5), plain.pop(5)]
        scale = np.abs(plain[4]).max()
        assert np.abs(grad_b).max() <= (1e-10 if dtype == np.float64 else 1e-3) * scale
    assert_twins(fast, plain, dtype)
    # the same bits as the convolution and the normalization as two fast nodes
    two, _ = _conv_run(arrays, settings, fast=True, fused=False)
    two.pop(5) if bias else None
    for got, expected in zip(fast, two, strict=True):
        np.testing.assert_array_equal(got, expected)
    again, _ = _conv_run(arrays, settings, fast=True, threads=2)
    again.pop(5) if bias else None
    for got, expected in zip(again, fast, strict=True):
        np.testing.assert_array_equal(got, expected)


def test_the_conv_batch_norm_switch():
    x, kernel = np.ones((2, 4, 4, 1)), Tensor(np.ones((3, 3, 1, 2)), requires_grad=True)
    per_channel, per_pixel = np.ones((1, 1, 1, 2)), np.ones((1, 4, 4, 2))
    cases = [
        (True, per_channel, fast_norm.ConvBatchNorm),
        (True, per_pixel, plain_norm.BatchNorm),  # the two ops, plain batch_norm
        (False, per_channel, plain_norm.BatchNorm),
    ]
    for fast, affine, kind in cases:
        with config.overrides(fast_kernels=fast):
            out = ops.conv2d_batch_norm(x, kernel, None, affine, affine, padding="same")
        assert type(out._ctx) is kind
