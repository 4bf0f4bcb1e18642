"""The plain Conv2D / Conv1D / ZeroPad2D: NumPy reference, finite
differences, PyTorch, Keras.

One table of geometries (input size, kernel size, strides, padding, dilation)
drives the float64 NumPy-loop reference and gradcheck, and the float32 PyTorch
parity of outputs and of all three gradients. These tests run the plain ops
(fast kernels off); tests/runtime/test_conv.py proves the fast twin equal to
them.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from glassnet import Tensor, config, ops
from glassnet.autograd import gradcheck
from glassnet.ops.geometry import conv_output_length, same_padding

# (height, width, channels, kh, kw, filters, strides, padding, dilation)
CONV2D = [
    (5, 6, 2, 3, 3, 3, (1, 1), "valid", (1, 1)),
    (5, 6, 2, 3, 3, 3, (1, 1), "same", (1, 1)),
    (7, 6, 2, 3, 2, 2, (2, 2), "valid", (1, 1)),
    (7, 6, 2, 3, 2, 2, (2, 3), "same", (1, 1)),
    (6, 7, 1, 2, 3, 2, (1, 1), "valid", (2, 2)),
    (6, 7, 2, 2, 3, 2, (1, 1), "same", (2, 1)),
    (7, 7, 2, 2, 2, 2, (2, 1), "same", (1, 2)),  # strides and dilation together
    (4, 5, 3, 1, 1, 2, (1, 1), "valid", (1, 1)),  # 1x1: im2col is a view
    (4, 4, 1, 4, 4, 2, (1, 1), "same", (1, 1)),  # even kernel: extra pad after
    (5, 5, 8, 3, 2, 3, (2, 1), "same", (1, 1)),  # many channels: (M, K) im2col
    (6, 5, 9, 2, 2, 2, (1, 1), "valid", (2, 1)),
    (5, 4, 2, 2, 3, 3, (1, 2), ((1, 0), (2, 1)), (1, 1)),  # explicit padding
]
IDS = [f"{h}x{w}-k{kh}x{kw}-s{s}-{p}-d{d}" for h, w, _, kh, kw, _, s, p, d in CONV2D]


@pytest.fixture(autouse=True)
def plain_ops():
    with config.overrides(fast_kernels=False):
        yield


def _arrays(case, dtype, batch=2, seed=0):
    h, w, c, kh, kw, f = case[:6]
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, h, w, c)).astype(dtype)
    kernel = rng.standard_normal((kh, kw, c, f)).astype(dtype)
    bias = rng.standard_normal(f).astype(dtype)
    return x, kernel, bias


def _settings(case):
    strides, padding, dilation = case[6:]
    return dict(strides=strides, padding=padding, dilation_rate=dilation)


@pytest.mark.parametrize("case", CONV2D, ids=IDS)
def test_conv2d_gradcheck(case):
    x, kernel, bias = _arrays(case, np.float64)
    worst = gradcheck(
        lambda a, k, b: ops.conv2d(a, k, b, **_settings(case)), x, kernel, bias
    )
    assert worst < 1e-6


def conv2d_reference(x, kernel, bias, strides, padding, dilation_rate):
    """y[n, r, q] = sum over kernel offsets (a, b) of the input pixel that
    offset sees, times kernel[a, b] (a direct sum, no im2col), plus bias."""
    (kh, kw), (sh, sw), (dh, dw) = kernel.shape[:2], strides, dilation_rate
    if isinstance(padding, str):
        pads = [(0, 0)] * 2
        if padding == "same":
            pads = [
                same_padding(n, k, s, d)
                for n, k, s, d in zip(x.shape[1:3], (kh, kw), strides, dilation_rate)
            ]
    else:
        pads = padding
    xp = np.pad(x, ((0, 0), *pads, (0, 0)))
    ho = (xp.shape[1] - (kh - 1) * dh - 1) // sh + 1
    wo = (xp.shape[2] - (kw - 1) * dw - 1) // sw + 1
    out = np.zeros((len(x), ho, wo, kernel.shape[3])) + bias
    for a in range(kh):
        for b in range(kw):
            seen = xp[:, a * dh :: sh, b * dw :: sw][:, :ho, :wo]
            out += np.einsum("nrqc,cf->nrqf", seen, kernel[a, b])
    return out


@pytest.mark.parametrize("case", CONV2D, ids=IDS)
def test_conv2d_forward_matches_a_direct_sum(case):
    x, kernel, bias = _arrays(case, np.float64, batch=3, seed=8)
    expected = conv2d_reference(x, kernel, bias, *case[6:])
    got = ops.conv2d(x, kernel, bias, **_settings(case)).data
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", CONV2D, ids=IDS)
def test_conv2d_output_shape_matches_keras_formula(case):
    x, kernel, bias = _arrays(case, np.float32)
    out = ops.conv2d(x, kernel, bias, **_settings(case))
    h, w = x.shape[1:3]
    (kh, kw), (sh, sw), padding, (dh, dw) = kernel.shape[:2], *case[6:]
    if not isinstance(padding, str):  # explicit: 'valid' on the padded size
        (h, w), padding = (h + sum(padding[0]), w + sum(padding[1])), "valid"
    expected = (
        2,
        conv_output_length(h, kh, padding, sh, dh),
        conv_output_length(w, kw, padding, sw, dw),
        kernel.shape[3],
    )
    assert out.shape == expected
    assert out.dtype == np.float32


def test_conv2d_hand_worked():
    # 1 image 3x3, one 2x2 kernel of ones: each output is the sum of a 2x2 block.
    x = np.arange(9.0).reshape(1, 3, 3, 1)
    kernel = np.ones((2, 2, 1, 1))
    out = ops.conv2d(Tensor(x, requires_grad=True), kernel, np.array([0.5]))
    np.testing.assert_array_equal(out.data[0, :, :, 0], [[8.5, 12.5], [20.5, 24.5]])
    x_t = Tensor(x, requires_grad=True)
    ops.conv2d(x_t, kernel).sum().backward()
    # dL/dx counts how many windows cover each pixel: corners 1, edges 2, centre 4.
    np.testing.assert_array_equal(
        x_t.grad[0, :, :, 0], [[1, 2, 1], [2, 4, 2], [1, 2, 1]]
    )


def test_same_padding_puts_the_extra_after():
    assert same_padding(5, 2, 1) == (0, 1)
    assert same_padding(7, 3, 2) == (1, 1)
    assert same_padding(6, 3, 2) == (0, 1)
    assert same_padding(6, 4, 1) == (1, 2)


@pytest.mark.parametrize("case", CONV2D, ids=IDS)
def test_conv2d_matches_torch(case):
    torch = pytest.importorskip("torch")
    f_ = torch.nn.functional
    x, kernel, bias = _arrays(case, np.float32, batch=3, seed=1)
    strides, padding, dilation = case[6:]
    xs, ks, bs = (Tensor(a, requires_grad=True) for a in (x, kernel, bias))
    out = ops.conv2d(xs, ks, bs, **_settings(case))
    grad = np.random.default_rng(2).standard_normal(out.shape).astype(np.float32)
    out.backward(grad)

    xt = torch.tensor(x.transpose(0, 3, 1, 2), requires_grad=True)
    kt = torch.tensor(kernel.transpose(3, 2, 0, 1), requires_grad=True)
    bt = torch.tensor(bias, requires_grad=True)
    xp = xt
    if padding != "valid":
        pads = padding
        if padding == "same":
            pads = [
                same_padding(n, k, s, d)
                for n, k, s, d in zip(x.shape[1:3], kernel.shape[:2], strides, dilation)
            ]
        xp = f_.pad(xt, (*pads[1], *pads[0]))
    expected = f_.conv2d(xp, kt, bt, stride=strides, dilation=dilation)
    expected.backward(torch.tensor(grad.transpose(0, 3, 1, 2)))

    _close(out.data, expected.detach().numpy().transpose(0, 2, 3, 1))
    _close(xs.grad, xt.grad.numpy().transpose(0, 2, 3, 1))
    _close(ks.grad, kt.grad.numpy().transpose(2, 3, 1, 0))
    _close(bs.grad, bt.grad.numpy())
    assert xs.grad.dtype == ks.grad.dtype == np.float32


def _close(actual, expected, rtol=1e-5):
    # float32 sums in another order: relative 1e-5 of the largest entry.
    np.testing.assert_allclose(
        actual, expected, rtol=rtol, atol=rtol * np.abs(expected).max()
    )


@pytest.mark.parametrize("padding", ["valid", "same", "causal"])
@pytest.mark.parametrize("strides,dilation", [(1, 1), (2, 1), (1, 2)])
def test_conv1d_gradcheck_and_torch(padding, strides, dilation):
    rng = np.random.default_rng(3)
    x, kernel, bias = (
        rng.standard_normal((2, 9, 2)),
        rng.standard_normal((3, 2, 3)),
        rng.standard_normal(3),
    )
    settings = dict(strides=strides, padding=padding, dilation_rate=dilation)
    assert (
        gradcheck(lambda a, k, b: ops.conv1d(a, k, b, **settings), x, kernel, bias)
        < 1e-6
    )

    torch = pytest.importorskip("torch")
    x, kernel, bias = (a.astype(np.float32) for a in (x, kernel, bias))
    xs, ks = Tensor(x, requires_grad=True), Tensor(kernel, requires_grad=True)
    out = ops.conv1d(xs, ks, bias, **settings)
    out.sum().backward()
    xt = torch.tensor(x.transpose(0, 2, 1), requires_grad=True)
    kt = torch.tensor(kernel.transpose(2, 1, 0), requires_grad=True)
    span = 2 * dilation
    pads = {
        "valid": (0, 0),
        "causal": (span, 0),
        "same": same_padding(9, 3, strides, dilation),
    }
    xp = torch.nn.functional.pad(xt, pads[padding])
    expected = torch.nn.functional.conv1d(
        xp, kt, torch.tensor(bias), stride=strides, dilation=dilation
    )
    expected.sum().backward()
    _close(out.data, expected.detach().numpy().transpose(0, 2, 1))
    _close(xs.grad, xt.grad.numpy().transpose(0, 2, 1))
    _close(ks.grad, kt.grad.numpy().transpose(2, 1, 0))


@pytest.mark.parametrize(
    "case",
    [c for c in CONV2D if c[7] == "same" and min(max(c[6]), max(c[8])) == 1],
    ids=lambda c: f"{c[:2]}-k{c[3:5]}-s{c[6]}-d{c[8]}",
)
def test_conv2d_same_padding_matches_keras(case):
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    x, kernel, bias = _arrays(case, np.float32, seed=4)
    strides, padding, dilation = case[6:]
    layer = keras.layers.Conv2D(
        kernel.shape[3],
        kernel.shape[:2],
        strides=strides,
        padding=padding,
        dilation_rate=dilation,
    )
    layer.build(x.shape)
    layer.set_weights([kernel, bias])
    expected = keras.ops.convert_to_numpy(layer(x))
    _close(ops.conv2d(x, kernel, bias, **_settings(case)).data, expected)


def test_conv2d_backward_twice_on_one_graph_gives_the_same_gradients():
    # the im2col rows are laid out again by each backward, not kept
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((2, 5, 5, 3)), requires_grad=True)
    kernel = Tensor(rng.standard_normal((3, 3, 3, 4)), requires_grad=True)
    loss = (ops.conv2d(x, kernel, activation="relu") * 1.5).sum()
    loss.backward()
    first = x.grad.copy(), kernel.grad.copy()
    loss.backward()  # leaves accumulate: twice the first gradients
    np.testing.assert_array_equal(x.grad, 2 * first[0])
    np.testing.assert_array_equal(kernel.grad, 2 * first[1])


def test_zero_pad2d():
    x = np.random.default_rng(5).standard_normal((2, 3, 4, 2))
    out = ops.zero_pad2d(x, ((1, 2), (0, 3)))
    assert out.shape == (2, 6, 7, 2)
    np.testing.assert_array_equal(out.data[:, 1:4, 0:4], x)
    assert out.data.sum() == pytest.approx(x.sum())
    assert gradcheck(lambda a: ops.zero_pad2d(a, ((1, 2), (0, 3))), x) < 1e-6


@pytest.mark.parametrize(
    "x_shape,k_shape,match",
    [
        ((2, 5, 5), (3, 3, 1, 2), "batch, height, width, channels"),
        ((2, 5, 5, 2), (3, 3, 1, 2), "matching channels"),
        ((2, 2, 2, 1), (3, 3, 1, 2), "larger than the padded input"),
    ],
)
def test_conv2d_bad_input_says_what_came(x_shape, k_shape, match):
    with pytest.raises(ValueError, match=match):
        ops.conv2d(np.zeros(x_shape), np.zeros(k_shape))


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(strides=0), "Received: strides=0"),
        (dict(padding="full"), "Received: padding='full'"),
        (dict(dilation_rate=(1, 2, 3)), "Received: dilation_rate="),
    ],
)
def test_conv2d_bad_settings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ops.conv2d(np.zeros((1, 5, 5, 1)), np.zeros((3, 3, 1, 1)), **kwargs)


@pytest.mark.parametrize("activation", [None, "relu"])
def test_conv2d_with_relu_and_pool_is_the_three_ops(activation):
    x, kernel, bias = _arrays(CONV2D[1], np.float64, batch=2)
    settings = dict(_settings(CONV2D[1]), activation=activation, pool_size=2)
    out = ops.conv2d(x, kernel, bias, **settings)
    conv = ops.conv2d(x, kernel, bias, **_settings(CONV2D[1]))
    conv = ops.relu(conv) if activation else conv
    np.testing.assert_array_equal(out.data, ops.max_pool2d(conv, 2).data)
    assert out.shape == (2, 2, 3, 3)
    worst = gradcheck(lambda a, k, b: ops.conv2d(a, k, b, **settings), x, kernel, bias)
    assert worst < 1e-6


def test_conv2d_pool_larger_than_the_output_says_what_came():
    x, kernel, _ = _arrays(CONV2D[1], np.float64, batch=2)
    with pytest.raises(ValueError, match=r"Pool size \(6, 1\) is larger than"):
        ops.conv2d(x, kernel, pool_size=(6, 1))


# --- the transposed convolution ------------------------------------------------------
# (height, width, channels, kh, kw, filters, strides, padding, output_padding, dilation)
CONV2D_T = [
    (4, 5, 2, 3, 3, 3, (1, 1), "valid", None, (1, 1)),
    (4, 5, 2, 3, 3, 3, (1, 1), "same", None, (1, 1)),
    (4, 5, 2, 3, 3, 2, (2, 2), "same", None, (1, 1)),  # the decoder's upsampling
    (4, 3, 2, 4, 4, 2, (2, 2), "same", None, (1, 1)),
    (3, 4, 1, 3, 2, 2, (2, 3), "valid", None, (1, 1)),
    (3, 3, 2, 1, 1, 2, (3, 2), "same", None, (1, 1)),  # stride > kernel: zeros
    (4, 4, 2, 3, 3, 2, (2, 2), "valid", (1, 0), (1, 1)),
    (4, 4, 2, 3, 3, 2, (2, 2), "same", (1, 1), (1, 1)),
    (3, 4, 2, 4, 2, 2, (3, 2), "same", (2, 0), (1, 1)),
    (5, 5, 2, 3, 2, 2, (1, 1), "same", None, (2, 3)),
    (5, 4, 2, 2, 3, 2, (1, 1), "valid", None, (2, 1)),
]
IDS_T = [
    f"{c[0]}x{c[1]}-k{c[3]}x{c[4]}-s{c[6]}-{c[7]}-o{c[8]}-d{c[9]}" for c in CONV2D_T
]


def _transpose_arrays(case, dtype, seed=0):
    h, w, c, kh, kw, f = case[:6]
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, h, w, c)).astype(dtype)
    kernel = rng.standard_normal((kh, kw, f, c)).astype(dtype)
    return x, kernel, rng.standard_normal(f).astype(dtype)


def _transpose_settings(case):
    strides, padding, extra, dilation = case[6:]
    return dict(
        strides=strides, padding=padding, output_padding=extra, dilation_rate=dilation
    )


@pytest.mark.parametrize("case", CONV2D_T, ids=IDS_T)
def test_conv2d_transpose_gradcheck(case):
    x, kernel, bias = _transpose_arrays(case, np.float64)
    settings = _transpose_settings(case)
    worst = gradcheck(
        lambda a, k, b: ops.conv2d_transpose(a, k, b, **settings), x, kernel, bias
    )
    assert worst < 1e-6


@pytest.mark.parametrize("case", CONV2D_T, ids=IDS_T)
def test_conv2d_transpose_is_the_adjoint_of_conv2d(case):
    # <conv2d_transpose(x, w), y> == <x, conv2d(y, w)> for the convolution it
    # inverts (same strides, dilation and padding, from the output's size).
    x, kernel, _ = _transpose_arrays(case, np.float64, seed=1)
    out = ops.conv2d_transpose(x, kernel, **_transpose_settings(case)).data
    y = np.random.default_rng(2).standard_normal(out.shape)
    strides, padding, _, dilation = case[6:]
    conv = ops.conv2d(
        y,
        kernel,
        strides=strides,
        padding=padding,
        dilation_rate=dilation,
    ).data
    if conv.shape != x.shape:  # output_padding past what the convolution reads
        pytest.skip(f"conv2d of the output has shape {conv.shape}")
    np.testing.assert_allclose((out * y).sum(), (x * conv).sum(), rtol=1e-12)


@pytest.mark.parametrize("case", CONV2D_T, ids=IDS_T)
def test_conv2d_transpose_matches_keras(case):
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    x, kernel, bias = _transpose_arrays(case, np.float32, seed=3)
    strides, padding, extra, dilation = case[6:]
    expected = keras.ops.convert_to_numpy(
        keras.ops.conv_transpose(x, kernel, strides, padding, extra, None, dilation)
    )
    got = ops.conv2d_transpose(x, kernel, **_transpose_settings(case)).data
    assert got.shape == expected.shape and got.dtype == np.float32
    _close(got, expected)


def test_conv2d_transpose_hand_worked():
    # one 2x2 image, a 2x2 kernel of ones, stride 2: every pixel becomes a
    # 2x2 block of its own value (the adjoint of summing 2x2 blocks).
    x = np.array([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 2, 2, 1)
    out = ops.conv2d_transpose(x, np.ones((2, 2, 1, 1)), strides=2)
    np.testing.assert_array_equal(
        out.data[0, :, :, 0],
        [[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]],
    )
    # stride 1: the blocks overlap and add up
    out = ops.conv2d_transpose(x, np.ones((2, 2, 1, 1)))
    np.testing.assert_array_equal(
        out.data[0, :, :, 0], [[1, 3, 2], [4, 10, 6], [3, 7, 4]]
    )


@pytest.mark.parametrize(
    "x_shape,k_shape,kwargs,match",
    [
        ((2, 5, 5), (3, 3, 1, 2), {}, "batch, height, width, channels"),
        ((2, 5, 5, 2), (3, 3, 2, 1), {}, "matching channels"),
        ((1, 1, 1, 1), (2, 2, 1, 1), dict(padding="same", output_padding=0), "empty"),
        ((1, 3, 3, 1), (3, 3, 1, 1), dict(output_padding=-1), "output_padding=-1"),
        ((1, 3, 3, 1), (3, 3, 1, 1), dict(padding="causal"), "padding='causal'"),
    ],
)
def test_conv2d_transpose_bad_input_says_what_came(x_shape, k_shape, kwargs, match):
    with pytest.raises(ValueError, match=match):
        ops.conv2d_transpose(np.zeros(x_shape), np.zeros(k_shape), **kwargs)
