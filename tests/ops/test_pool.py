"""The plain MaxPool2D / AvgPool2D / UpSample2D: NumPy reference, finite
differences, PyTorch, Keras (fast kernels off; tests/runtime/test_pool.py proves
the fast max pooling equal to the plain one)."""

from __future__ import annotations

import os

import numpy as np
import pytest

from glassnet import Tensor, config, ops
from glassnet.autograd import gradcheck
from glassnet.ops.geometry import same_padding

# (height, width, pool_size, strides, padding)
POOLS = [
    (6, 6, (2, 2), None, "valid"),
    (7, 5, (2, 2), None, "valid"),  # odd sizes: the last row is dropped
    (7, 5, (2, 2), None, "same"),
    (7, 8, (3, 2), (2, 1), "valid"),  # overlapping windows
    (7, 8, (3, 3), (2, 2), "same"),
    (5, 6, (3, 3), (1, 1), "same"),
]
IDS = [f"{h}x{w}-p{p}-s{s}-{pad}" for h, w, p, s, pad in POOLS]
FNS = {"max": ops.max_pool2d, "avg": ops.avg_pool2d}


@pytest.fixture(autouse=True)
def plain_ops():
    with config.overrides(fast_kernels=False):
        yield


def pool_reference(x, kind, pool, strides, padding):
    """A loop over the output pixels: the max or mean of the real (unpadded)
    pixels of each window, whose top-left corner is at (r*sh - top, q*sw - left)."""
    (h, w), (ph, pw) = x.shape[1:3], pool
    sh, sw = strides or pool
    pads = [(0, 0)] * 2
    if padding == "same":
        pads = [same_padding(n, k, s) for n, k, s in zip((h, w), pool, (sh, sw))]
        ho, wo = -(-h // sh), -(-w // sw)
    else:
        ho, wo = (h - ph) // sh + 1, (w - pw) // sw + 1
    out = np.empty((len(x), ho, wo, x.shape[3]))
    reduce = np.max if kind == "max" else np.mean
    for r in range(ho):
        for q in range(wo):
            top, left = r * sh - pads[0][0], q * sw - pads[1][0]
            window = x[:, max(top, 0) : top + ph, max(left, 0) : left + pw]
            out[:, r, q] = reduce(window, axis=(1, 2))
    return out


@pytest.mark.parametrize("kind", FNS)
@pytest.mark.parametrize("case", POOLS, ids=IDS)
def test_pool_forward_matches_a_loop_over_windows(case, kind):
    h, w, pool, strides, padding = case
    x = np.random.default_rng(5).standard_normal((2, h, w, 3))
    expected = pool_reference(x, kind, pool, strides, padding)
    got = FNS[kind](x, pool, strides, padding).data
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0)


def _distinct(shape, seed=0):
    """Random values with no ties inside a window (a shuffled grid spaced 0.1)."""
    rng = np.random.default_rng(seed)
    return rng.permutation(np.arange(np.prod(shape)) * 0.1).reshape(shape) - 1.0


@pytest.mark.parametrize("kind", FNS)
@pytest.mark.parametrize("case", POOLS, ids=IDS)
def test_pool_gradcheck(case, kind):
    h, w, pool, strides, padding = case
    x = _distinct((2, h, w, 2))
    fn = FNS[kind]
    assert gradcheck(lambda a: fn(a, pool, strides, padding), x) < 1e-6


@pytest.mark.parametrize("kind", FNS)
@pytest.mark.parametrize("case", POOLS, ids=IDS)
def test_pool_matches_torch(case, kind):
    torch = pytest.importorskip("torch")
    h, w, pool, strides, padding = case
    x = np.random.default_rng(1).standard_normal((3, h, w, 4)).astype(np.float32)
    xs = Tensor(x, requires_grad=True)
    out = FNS[kind](xs, pool, strides, padding)
    grad = np.random.default_rng(2).standard_normal(out.shape).astype(np.float32)
    out.backward(grad)

    xt = torch.tensor(x.transpose(0, 3, 1, 2), requires_grad=True)
    strides = strides or pool
    if padding == "same":
        pads = [same_padding(n, k, s) for n, k, s in zip((h, w), pool, strides)]
        if kind == "max":
            xp = torch.nn.functional.pad(xt, (*pads[1], *pads[0]), value=-np.inf)
            expected = torch.nn.functional.max_pool2d(xp, pool, strides)
        else:  # padding not counted: pool the sum, divide by pooled real cells
            ones = torch.ones_like(xt[:1, :1])
            sums, counts = (
                torch.nn.functional.avg_pool2d(
                    torch.nn.functional.pad(t, (*pads[1], *pads[0])),
                    pool,
                    strides,
                    divisor_override=1,
                )
                for t in (xt, ones)
            )
            expected = sums / counts
    else:
        torch_fn = getattr(torch.nn.functional, f"{kind}_pool2d")
        expected = torch_fn(xt, pool, strides)
    expected.backward(torch.tensor(grad.transpose(0, 3, 1, 2)))
    np.testing.assert_allclose(
        out.data, expected.detach().numpy().transpose(0, 2, 3, 1), rtol=1e-5
    )
    np.testing.assert_allclose(
        xs.grad, xt.grad.numpy().transpose(0, 2, 3, 1), rtol=1e-5, atol=1e-6
    )
    assert out.dtype == xs.grad.dtype == np.float32


# NOTE: Keras's torch backend pads 'same' average pooling by replicating the edge,
# which differs from Keras's definition (TF: padding not counted) whenever a
# window of 3+ cells hangs over the bottom/right edge; those cases are checked
# against the definition through torch above, and only max pooling here.
KERAS_SAME = [(c, "max") for c in POOLS if c[4] == "same"] + [
    (c, "avg") for c in POOLS if c[4] == "same" and c[:2] != (7, 8)
]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("case,kind", KERAS_SAME, ids=repr)
def test_same_pooling_matches_keras(case, kind):
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    h, w, pool, strides, padding = case
    x = np.random.default_rng(3).standard_normal((2, h, w, 3)).astype(np.float32)
    layer = {"max": keras.layers.MaxPooling2D, "avg": keras.layers.AveragePooling2D}
    expected = keras.ops.convert_to_numpy(layer[kind](pool, strides, padding)(x))
    np.testing.assert_allclose(
        FNS[kind](x, pool, strides, padding).data, expected, rtol=1e-5, atol=1e-6
    )


@pytest.mark.parametrize("pool,strides", [((2, 2), None), ((3, 3), (1, 1))])
def test_max_pool_ties_go_to_the_first_max_like_torch(pool, strides):
    x = Tensor(np.ones((1, 4, 4, 1)), requires_grad=True)
    ops.max_pool2d(x, pool, strides).sum().backward()
    torch = pytest.importorskip("torch")
    xt = torch.ones(1, 1, 4, 4, requires_grad=True)
    torch.nn.functional.max_pool2d(xt, pool, strides or pool).sum().backward()
    np.testing.assert_array_equal(x.grad[0, :, :, 0], xt.grad[0, 0].numpy())


def test_max_pool_hand_worked():
    x = np.array([[1.0, 5.0, 2.0, 0.0], [3.0, 4.0, 7.0, 6.0]]).reshape(1, 2, 4, 1)
    xs = Tensor(x, requires_grad=True)
    out = ops.max_pool2d(xs)
    np.testing.assert_array_equal(out.data.ravel(), [5.0, 7.0])
    out.backward(np.array([10.0, 20.0]).reshape(1, 1, 2, 1))
    np.testing.assert_array_equal(xs.grad[0, :, :, 0], [[0, 10, 0, 0], [0, 0, 20, 0]])


def test_avg_pool_same_excludes_padding_from_the_count():
    x = np.arange(9.0).reshape(1, 3, 3, 1)
    out = ops.avg_pool2d(x, (2, 2), None, "same").data[0, :, :, 0]
    # windows: [0,1,3,4], [2,5], [6,7], [8]
    np.testing.assert_array_equal(out, [[2.0, 3.5], [6.5, 8.0]])


def test_upsample2d():
    x = np.arange(4.0).reshape(1, 2, 2, 1)
    out = ops.upsample2d(x, (2, 3))
    assert out.shape == (1, 4, 6, 1)
    np.testing.assert_array_equal(out.data[0, :, :, 0][::2, ::3], x[0, :, :, 0])
    y = np.random.default_rng(4).standard_normal((2, 3, 2, 2))
    assert gradcheck(lambda a: ops.upsample2d(a, (2, 3)), y) < 1e-6


@pytest.mark.parametrize(
    "x_shape,kwargs,match",
    [
        ((4, 4), {}, "batch, height, width, channels"),
        ((1, 1, 4, 1), {}, "larger than the input"),
        ((1, 4, 4, 1), {"pool_size": 0}, "Received: pool_size=0"),
        ((1, 4, 4, 1), {"padding": "full"}, "Received: padding='full'"),
    ],
)
def test_pool_bad_input(x_shape, kwargs, match):
    with pytest.raises(ValueError, match=match):
        ops.max_pool2d(np.zeros(x_shape), **kwargs)
