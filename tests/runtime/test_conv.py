"""The fast convolution (blocked, threaded, relu and max pool fused in) equals
its plain twin, ``ops.conv2d`` with fast kernels off (Conv2D, then relu, then
max_pool2d), over a table of geometries, dtypes and thread counts.

The products are BLAS's (whose order of float sums is its own), and the kernel
and bias gradients are summed block by block, so fast and plain agree to
rtol 1e-12 (float64) / 1e-5 (float32) of the largest entry; the fast kernel
with 1, 2 or 4 threads gives the same bits, since its blocks depend only on
the sizes and their sums are added in block order.
"""

from __future__ import annotations

import numpy as np
import pytest

from glassnet import Tensor, config, no_grad, ops
from glassnet.ops import conv as plain_conv
from glassnet.ops.geometry import conv_geometry
from glassnet.runtime import conv as fast_conv

from .twins import assert_close, assert_same_bits, assert_twins

# (height, width, channels, kh, kw, filters, strides, padding, dilation)
GEOMETRIES = {
    "3x3-valid": (7, 8, 2, 3, 3, 4, (1, 1), "valid", (1, 1)),
    "3x3-same": (7, 8, 2, 3, 3, 4, (1, 1), "same", (1, 1)),
    "strided-same": (9, 8, 2, 3, 2, 3, (2, 1), "same", (1, 1)),
    "dilated": (8, 9, 1, 2, 3, 2, (1, 1), "valid", (2, 2)),
    "explicit-pads": (6, 7, 3, 2, 3, 4, (1, 2), ((1, 0), (2, 1)), (1, 1)),
    # stride 1: dL/dx as the convolution of g by the flipped kernel, unless a
    # side is padded by the kernel's size or more
    "explicit-stride-1": (6, 7, 9, 3, 3, 4, (1, 1), ((2, 0), (1, 2)), (1, 1)),
    "wide-pads": (5, 5, 2, 2, 2, 3, (1, 1), ((2, 1), (0, 3)), (1, 1)),
    "1x1": (5, 6, 3, 1, 1, 8, (1, 1), "valid", (1, 1)),  # K + 1 <= F / 2: kept
    "many-channels": (7, 6, 9, 3, 2, 3, (1, 1), "same", (1, 1)),  # (M, K) im2col
    "many-kept": (6, 6, 8, 1, 2, 34, (1, 1), "valid", (1, 1)),  # (M, K), kept
    # Winograd's tiles: 3x3, strides 1, 8 channels or more, even computed sides
    "winograd-same": (8, 6, 8, 3, 3, 5, (1, 1), "same", (1, 1)),
    "winograd-odd": (9, 9, 12, 3, 3, 6, (1, 1), "valid", (1, 1)),  # only pooled
    "winograd-wide": (6, 8, 8, 3, 3, 10, (1, 1), "same", (1, 1)),
}
#: (name, pool_size) cases whose forward pass goes by Winograd's tiles at
#: inference
WINOGRAD = {("explicit-stride-1", None), ("explicit-stride-1", 2)}
WINOGRAD |= {("winograd-same", None), ("winograd-same", 2), ("winograd-odd", 2)}
WINOGRAD |= {("winograd-wide", None), ("winograd-wide", 2)}
# (activation, pool_size): the fused relu and pools over tiling windows
FUSIONS = [(None, None), ("relu", None), ("relu", 2), (None, (2, 3)), ("relu", 3)]
THREADS = (1, 2, 4)


def _fits(geometry, pool):
    if pool is None:
        return True
    h, w, _, kh, kw, _, strides, padding, dilation = geometry
    x_shape, w_shape = (1, h, w, geometry[2]), (kh, kw, geometry[2], 1)
    out_hw = conv_geometry(x_shape, w_shape, strides, padding, dilation)[1]
    pool = (pool, pool) if isinstance(pool, int) else pool
    return out_hw[0] >= pool[0] and out_hw[1] >= pool[1]


CASES = [
    pytest.param(name, activation, pool, id=f"{name}-{activation}-pool{pool}")
    for name, geometry in GEOMETRIES.items()
    for activation, pool in FUSIONS
    if _fits(geometry, pool)
]


def _arrays(geometry, dtype, bias, batch=7, seed=0):
    h, w, c, kh, kw, f = geometry[:6]
    rng = np.random.default_rng(seed)
    arrays = [
        rng.standard_normal((batch, h, w, c)),
        rng.standard_normal((kh, kw, c, f)),
        rng.standard_normal(f),
    ]
    return [a.astype(dtype) for a in arrays[: 2 + bias]]


def _settings(geometry, activation, pool):
    strides, padding, dilation = geometry[6:]
    return dict(
        strides=strides,
        padding=padding,
        dilation_rate=dilation,
        activation=activation,
        pool_size=pool,
    )


def _run(arrays, settings, fast, threads=1, grad_seed=1):
    """Output and gradients of ops.conv2d, fast or plain, with ``threads``."""
    tensors = [Tensor(a, requires_grad=True) for a in arrays]
    with config.overrides(fast_kernels=fast, kernel_threads=threads):
        out = ops.conv2d(*tensors, **settings)
        rng = np.random.default_rng(grad_seed)
        out.backward(rng.standard_normal(out.shape).astype(out.dtype))
    return [out.data] + [t.grad for t in tensors], out


@pytest.mark.parametrize("block_bytes", [1, 10**9], ids=["1-sample", "2-blocks"])
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no-bias"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name,activation,pool", CASES)
def test_fast_conv2d_equals_plain_for_any_thread_count(
    name, activation, pool, dtype, bias, block_bytes, small_blocks
):
    small_blocks(block_bytes)
    geometry = GEOMETRIES[name]
    arrays = _arrays(geometry, dtype, bias)
    settings = _settings(geometry, activation, pool)
    plain, _ = _run(arrays, settings, fast=False)
    fast, node = _run(arrays, settings, fast=True, threads=THREADS[0])
    assert type(node._ctx) is fast_conv.Conv2D
    assert len(node._ctx.blocks) > 1
    assert (node._ctx.cols is not None) is (name in ("1x1", "many-kept"))
    assert node._ctx._winograd_fits() is ((name, pool) in WINOGRAD)
    assert_twins(fast, plain, dtype)
    if activation == "relu" and pool is None:  # both sides of relu's kink
        assert (fast[0] == 0).any() and (fast[0] > 0).any()
    assert_same_bits(lambda t: _run(arrays, settings, True, t)[0], fast, THREADS[1:])


def test_a_pool_tie_goes_to_the_first_maximum_on_both_paths(small_blocks):
    # relu makes whole windows 0: the gradient goes to each window's first pixel
    small_blocks(1)
    x = -np.ones((3, 6, 6, 1))
    kernel, bias = np.ones((1, 1, 1, 2)), np.zeros(2)
    settings = dict(activation="relu", pool_size=2)
    plain, _ = _run([x, kernel, bias], settings, fast=False)
    fast, _ = _run([x, kernel, bias], settings, fast=True, threads=2)
    for got, expected in zip(fast, plain):
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("padding", ["valid", "same", "causal"])
@pytest.mark.parametrize("activation", [None, "relu"])
def test_fast_conv1d_equals_plain(padding, activation, small_blocks):
    small_blocks(1)
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal(s) for s in ((5, 11, 2), (3, 2, 4), (4,))]
    settings = dict(strides=1, padding=padding, dilation_rate=2, activation=activation)
    results = []
    for fast, threads in ((False, 1), (True, 1), (True, 2)):
        tensors = [Tensor(a, requires_grad=True) for a in arrays]
        with config.overrides(fast_kernels=fast, kernel_threads=threads):
            out = ops.conv1d(*tensors, **settings)
            out.backward(np.random.default_rng(4).standard_normal(out.shape))
        results.append([out.data] + [t.grad for t in tensors])
    (plain, fast, threaded), dtype = results, np.float64
    for got, expected, again in zip(fast, plain, threaded):
        assert_close(got, expected, dtype)
        np.testing.assert_array_equal(again, got)


def test_the_switch_picks_the_node_and_only_the_needed_gradients():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 5, 5, 3))
    kernel = Tensor(rng.standard_normal((3, 3, 3, 2)), requires_grad=True)
    for fast, kind in ((True, fast_conv.Conv2D), (False, plain_conv.Conv2D)):
        with config.overrides(fast_kernels=fast):
            out = ops.conv2d(x, kernel)
            assert type(out._ctx) is kind
            grads = out._ctx.backward(np.ones(out.shape))
        assert grads[0] is None and grads[1].shape == kernel.shape


def test_the_fast_kernel_raises_the_plain_errors():
    x, kernel = np.zeros((2, 5, 6, 3)), np.zeros((3, 3, 3, 2))
    for fast in (True, False):
        with config.overrides(fast_kernels=fast):
            with pytest.raises(ValueError, match=r"Pool size \(6, 1\) is larger"):
                ops.conv2d(x, kernel, pool_size=(6, 1))
            with pytest.raises(ValueError, match="matching channels"):
                ops.conv2d(x, np.zeros((3, 3, 2, 2)))
            with pytest.raises(ValueError, match="batch, steps, channels"):
                ops.conv1d(x, kernel)


def test_backward_twice_on_one_graph_gives_the_same_gradients(small_blocks):
    # many channels: the im2col rows are laid out again by each backward
    small_blocks(1)
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((3, 5, 5, 9)), requires_grad=True)
    kernel = Tensor(rng.standard_normal((3, 3, 9, 4)), requires_grad=True)
    loss = (ops.conv2d(x, kernel, activation="relu", pool_size=2) * 1.5).sum()
    loss.backward()
    first = x.grad.copy(), kernel.grad.copy()
    loss.backward()  # leaves accumulate: twice the first gradients
    np.testing.assert_array_equal(x.grad, 2 * first[0])
    np.testing.assert_array_equal(kernel.grad, 2 * first[1])


@pytest.mark.parametrize(
    "name,transposed",
    [
        ("3x3-same", True),
        ("1x1", True),
        ("explicit-stride-1", True),
        ("many-channels", True),
        ("wide-pads", False),
        ("strided-same", False),
        ("dilated", False),
    ],
)
def test_which_input_gradients_are_a_convolution_of_the_output_gradient(
    name, transposed
):
    geometry = GEOMETRIES[name]
    arrays = _arrays(geometry, np.float64, bias=True)
    strides, padding, dilation = geometry[6:]
    settings = dict(strides=strides, padding=padding, dilation_rate=dilation)
    _, node = _run(arrays, settings, fast=True)
    assert node._ctx._transposable() is transposed
    _, pooled = _run(arrays, dict(settings, pool_size=2), fast=True)
    assert not pooled._ctx._transposable()  # g comes in the pool's groups


def _address(array):
    return array.__array_interface__["data"][0]


@config.overrides(fast_kernels=True)
def test_outputs_and_gradients_come_from_reused_memory_never_handed_out_twice():
    # the batch's output (and dL/dx) are past runtime.buffers.MIN_BYTES: a
    # step's arrays are mapped once, not every step (no page faults per step)
    rng = np.random.default_rng(0)
    kernel = Tensor(rng.standard_normal((3, 3, 8, 16)).astype("float32"))

    def step(x):
        x = Tensor(x, requires_grad=True)
        out = ops.conv2d(x, kernel, padding="same", activation="relu")
        out.sum().backward()
        return out.data, x.grad

    x = rng.standard_normal((64, 12, 12, 8)).astype("float32")
    out, grad = step(x)
    kept = out.copy(), grad.copy()
    again, again_grad = step(-x)  # while the first step's arrays are held
    for held, copy, new in zip((out, grad), kept, (again, again_grad)):
        assert not np.shares_memory(held, new)
        np.testing.assert_array_equal(held, copy)
    addresses = {_address(a) for a in (out, grad, again, again_grad)}
    del out, grad, again, again_grad, held, new
    # arrays of the same sizes that the C library would place in freed memory
    others = [np.ones_like(a) for a in kept for _ in range(3)]
    out, grad = step(x)  # nothing holds them any more: the same memory again
    assert not any(np.shares_memory(a, b) for a in others for b in (out, grad))
    assert {_address(out), _address(grad)} <= addresses
    np.testing.assert_array_equal(out, kept[0])
    np.testing.assert_array_equal(grad, kept[1])


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no-bias"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("activation", [None, "relu"])
@pytest.mark.parametrize("name,pool", sorted(WINOGRAD, key=str))
def test_at_inference_winograd_tiles_give_the_plain_outputs(
    name, pool, activation, dtype, bias, monkeypatch, small_blocks
):
    small_blocks(10**9)
    calls, real = [], fast_conv.winograd

    def spy(*args):
        calls.append(len(args[0]))
        return real(*args)

    monkeypatch.setattr(fast_conv, "winograd", spy)
    geometry = GEOMETRIES[name]
    arrays = _arrays(geometry, dtype, bias)
    settings = _settings(geometry, activation, pool)
    with no_grad():
        ops.conv2d(*arrays, **settings)
    assert not calls  # too few tiles to gain
    monkeypatch.setattr(fast_conv, "WINOGRAD_MIN_TILES", 1)
    outputs = {}
    for fast in (False, True):
        with no_grad(), config.overrides(fast_kernels=fast, kernel_threads=2):
            outputs[fast] = ops.conv2d(*arrays, **settings).data
    assert sum(calls) == len(arrays[0])  # every sample, by tiles
    assert_twins([outputs[True]], [outputs[False]], dtype)
    calls.clear()
    _run(arrays, settings, fast=True)  # training: im2col's products
    assert not calls


@pytest.mark.parametrize("name", ["3x3-valid", "many-channels", "explicit-pads"])
def test_outside_a_graph_a_fused_pool_keeps_no_offsets_and_the_same_outputs(
    name, monkeypatch
):
    kept, real = [], fast_conv.offsets_array
    monkeypatch.setattr(
        fast_conv, "offsets_array", lambda *a: kept.append(a) or real(*a)
    )
    geometry = GEOMETRIES[name]
    arrays = _arrays(geometry, np.float64, bias=True)
    settings = _settings(geometry, "relu", 2)
    outputs = {}
    for fast in (False, True):
        with no_grad(), config.overrides(fast_kernels=fast):
            outputs[fast] = ops.conv2d(*arrays, **settings).data
    assert not kept
    assert_twins([outputs[True]], [outputs[False]], np.float64)
    _, node = _run(arrays, settings, fast=True)
    assert kept and node._ctx.code is not None  # a graph: offsets, for backward
