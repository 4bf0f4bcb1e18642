"""The table of ops that drives gradcheck, forward references, PyTorch parity
and dtype tests.

Each :class:`OpCase` says how to call the op on glassnet Tensors (``fn``), what
it should compute in plain NumPy/SciPy on the input arrays
(``forward_expected``, Chainer's pattern: checked without PyTorch), how to call
it on torch tensors (``torch_fn``), how hypothesis draws input shapes and
keyword parameters (``draw``), and how input values are sampled (``values``),
always away from kinks (relu at 0, max ties, clip bounds) so finite differences
hold.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import special

from glassnet import ops

Shapes = list[tuple[int, ...]]


# --- value samplers: (rng, shapes) -> list of float64 arrays -------------------
def symmetric(low: float = 0.1, high: float = 2.0) -> Callable[..., list]:
    """Magnitudes in [low, high] with a random sign (keeps away from 0)."""

    def sample(rng: np.random.Generator, shapes: Shapes) -> list[np.ndarray]:
        return [rng.uniform(low, high, s) * rng.choice([-1.0, 1.0], s) for s in shapes]

    return sample


def positive(low: float = 0.5, high: float = 2.0) -> Callable[..., list]:
    def sample(rng: np.random.Generator, shapes: Shapes) -> list[np.ndarray]:
        return [rng.uniform(low, high, s) for s in shapes]

    return sample


def mixed(*samplers: Callable[..., list]) -> Callable[..., list]:
    """Input ``i`` from ``samplers[i]``."""

    def sample(rng: np.random.Generator, shapes: Shapes) -> list[np.ndarray]:
        return [f(rng, [s])[0] for f, s in zip(samplers, shapes)]

    return sample


def off_grid(offset: float) -> Callable[..., list]:
    """Values near ``k + offset`` for integer k: two inputs drawn with offsets 0
    and 0.5 differ by at least 0.3 everywhere, so maximum/minimum have no ties."""

    def sample(rng: np.random.Generator, shapes: Shapes) -> list[np.ndarray]:
        return [
            rng.integers(-2, 3, s) + offset + rng.uniform(-0.1, 0.1, s) for s in shapes
        ]

    return sample


def distinct(rng: np.random.Generator, shapes: Shapes) -> list[np.ndarray]:
    """Entries at least 0.08 apart, so max/min reductions have no ties."""
    out = []
    for s in shapes:
        n = int(np.prod(s))
        values = rng.permutation(n) * 0.1 - 0.05 * n + rng.uniform(-0.01, 0.01, n)
        out.append(values.reshape(s))
    return out


def away_from(points: tuple[float, ...], margin: float = 0.1) -> Callable:
    """Uniform in [-2, 2], pushed at least ``margin`` away from ``points``."""

    def sample(rng: np.random.Generator, shapes: Shapes) -> list[np.ndarray]:
        out = []
        for s in shapes:
            x = np.asarray(rng.uniform(-2.0, 2.0, s))
            for p in points:
                close = np.abs(x - p) < margin
                x = np.where(close, p + np.where(x >= p, margin, -margin), x)
            out.append(x)
        return out

    return sample


# --- shape strategies: data -> (shapes, params) --------------------------------
def small_shape(min_dims: int = 0, max_dims: int = 3) -> st.SearchStrategy:
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, max_side=4)


def unary(data: st.DataObject) -> tuple[Shapes, dict]:
    return [data.draw(small_shape())], {}


def binary(data: st.DataObject) -> tuple[Shapes, dict]:
    """Two shapes that broadcast together (e.g. (3, 1) and (1, 4))."""
    shapes = data.draw(
        hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3)
    )
    return list(shapes.input_shapes), {}


def axis_and_keepdims(data: st.DataObject) -> tuple[Shapes, dict]:
    shape = data.draw(small_shape(min_dims=1))
    axis = data.draw(
        st.one_of(
            st.none(),
            st.integers(-len(shape), len(shape) - 1),
            st.lists(st.integers(0, len(shape) - 1), min_size=1, unique=True).map(
                tuple
            ),
        )
    )
    return [shape], {"axis": axis, "keepdims": data.draw(st.booleans())}


def one_axis(data: st.DataObject) -> tuple[Shapes, dict]:
    shape = data.draw(small_shape(min_dims=1))
    return [shape], {"axis": data.draw(st.integers(-len(shape), len(shape) - 1))}


def reshape_shapes(data: st.DataObject) -> tuple[Shapes, dict]:
    shape = data.draw(small_shape(min_dims=1))
    size = int(np.prod(shape))
    target = data.draw(st.sampled_from([(-1,), (size, 1), shape[::-1], (1, -1)]))
    return [shape], {"shape": target}


def transpose_shapes(data: st.DataObject) -> tuple[Shapes, dict]:
    shape = data.draw(small_shape(min_dims=1))
    axes = data.draw(st.one_of(st.none(), st.permutations(range(len(shape)))))
    if axes is not None and data.draw(st.booleans()):
        axes = [a - len(shape) for a in axes]  # negative axes
    return [shape], {"axes": None if axes is None else tuple(axes)}


def broadcast_shapes(data: st.DataObject) -> tuple[Shapes, dict]:
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=3, max_side=2))
    grown = tuple(data.draw(st.sampled_from([1, 3])) if d == 1 else d for d in shape)
    lead = tuple(data.draw(st.lists(st.integers(1, 3), max_size=2)))
    return [shape], {"shape": lead + grown}


def index_shapes(data: st.DataObject) -> tuple[Shapes, dict]:
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=2, max_side=4))
    kind = data.draw(st.sampled_from(["int", "slice", "ellipsis", "fancy", "mask"]))
    index: Any
    if kind == "int":
        index = data.draw(st.integers(-shape[0], shape[0] - 1))
    elif kind == "slice":
        index = (slice(1, None), slice(None, None, 2))[: len(shape)]
    elif kind == "ellipsis":
        index = (Ellipsis, slice(0, 1), None)
    elif kind == "fancy":  # repeated rows: gradients must add up
        index = np.array([0, 1, 0, shape[0] - 1])
    else:
        index = np.arange(shape[0]) % 2 == 0
    return [shape], {"index": index}


def join_shapes(data: st.DataObject) -> tuple[Shapes, dict]:
    """2-3 shapes equal except along ``axis`` (concatenate)."""
    base = list(data.draw(small_shape(min_dims=1)))
    axis = data.draw(st.integers(-len(base), len(base) - 1))
    shapes = []
    for _ in range(data.draw(st.integers(2, 3))):
        base[axis] = data.draw(st.integers(1, 3))
        shapes.append(tuple(base))
    return shapes, {"axis": axis}


def stack_shapes(data: st.DataObject) -> tuple[Shapes, dict]:
    shape = data.draw(small_shape())
    n = data.draw(st.integers(2, 3))
    axis = data.draw(st.integers(-len(shape) - 1, len(shape)))
    return [shape] * n, {"axis": axis}


def matmul_shapes(data: st.DataObject) -> tuple[Shapes, dict]:
    n, k, m, b = (data.draw(st.integers(1, 4)) for _ in range(4))
    return data.draw(
        st.sampled_from(
            [
                [(n, k), (k, m)],
                [(b, n, k), (k, m)],
                [(n, k), (b, k, m)],
                [(b, n, k), (1, k, m)],
                [(k,), (k, m)],
                [(n, k), (k,)],
                [(b, n, k), (k,)],
                [(k,), (b, k, m)],
                [(k,), (k,)],
            ]
        )
    ), {}


def batch_dot_shapes(data: st.DataObject) -> tuple[Shapes, dict]:
    """A batch, then 1-2 more axes each; one axis of x and one of y of the
    same size, summed (negative axes too)."""
    b, k = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 4))
    shapes, axes = [], []
    for _ in range(2):
        rest = list(data.draw(small_shape(min_dims=0, max_dims=2)))
        at = data.draw(st.integers(0, len(rest)))
        rest.insert(at, k)
        shapes.append((b, *rest))
        axis = at + 1
        axes.append(axis - len(shapes[-1]) if data.draw(st.booleans()) else axis)
    return shapes, {"axes": tuple(axes)}


def _dot_subscripts(x_ndim: int, y_ndim: int, axes: tuple) -> str:
    """The einsum of batch_dot: ``"bak,bkc->bac"`` for axes (2, 1)."""
    a, c = axes[0] % x_ndim, axes[1] % y_ndim
    letters = iter("defghijlmnopqrs")
    x = ["b"] + [next(letters) for _ in range(x_ndim - 1)]
    y = ["b"] + [next(letters) for _ in range(y_ndim - 1)]
    y[c] = x[a]
    out = [d for d in x if d != x[a]] + [d for d in y[1:] if d != x[a]]
    return f"{''.join(x)},{''.join(y)}->{''.join(out)}"


def _batch_dot_reference(x, y, axes):
    z = np.einsum(_dot_subscripts(x.ndim, y.ndim, axes), x, y)
    return z.reshape(len(z), 1) if z.ndim == 1 else z


def _torch_batch_dot(x, y, axes):
    z = _torch().einsum(_dot_subscripts(x.ndim, y.ndim, axes), x, y)
    return z.reshape(len(z), 1) if z.ndim == 1 else z


def linear_shapes(data: st.DataObject) -> tuple[Shapes, dict]:
    n, k, m = (data.draw(st.integers(1, 4)) for _ in range(3))
    lead = data.draw(st.sampled_from([(n,), (2, n), ()]))
    return [lead + (k,), (k, m), (m,)], {}


def where_shapes(data: st.DataObject) -> tuple[Shapes, dict]:
    shapes = data.draw(
        hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=3)
    )
    condition = data.draw(hnp.arrays(np.bool_, shapes.input_shapes[2]))
    return list(shapes.input_shapes[:2]), {"condition": condition}


def classes_shapes(data: st.DataObject) -> tuple[Shapes, dict]:
    """Logits (..., classes) with integer labels or probability targets."""
    lead = data.draw(hnp.array_shapes(min_dims=0, max_dims=2, max_side=4))
    classes = data.draw(st.integers(2, 4))
    if data.draw(st.booleans()):
        target = data.draw(
            hnp.arrays(np.int64, lead, elements=st.integers(0, classes - 1))
        )
    else:
        raw = data.draw(
            hnp.arrays(np.float64, lead + (classes,), elements=st.floats(0.1, 1.0))
        )
        target = raw / raw.sum(axis=-1, keepdims=True)
    return [lead + (classes,)], {"target": target}


def with_target(low: float, high: float, min_dims: int = 1) -> Callable:
    """One input and a ``target`` of its shape with values in [low, high]."""

    def draw(data: st.DataObject) -> tuple[Shapes, dict]:
        shape = data.draw(small_shape(min_dims=min_dims))
        elements = st.floats(low, high)
        target = data.draw(hnp.arrays(np.float64, shape, elements=elements))
        return [shape], {"target": target}

    return draw


def class_probabilities(data: st.DataObject) -> tuple[Shapes, dict]:
    """Probabilities (..., classes) against one-hot rows or soft targets."""
    shapes, params = classes_shapes(data)
    target = params["target"]
    if np.issubdtype(target.dtype, np.integer):
        params["target"] = np.eye(shapes[0][-1])[target]
    return shapes, params


def weighted_shapes(data: st.DataObject) -> tuple[Shapes, dict]:
    shape = data.draw(small_shape())
    weight = data.draw(
        st.none() | hnp.arrays(np.float64, shape, elements=st.floats(0.0, 2.0))
    )
    return [shape], {"weight": weight, "divide_by_size": data.draw(st.booleans())}


def penalty_params(data: st.DataObject) -> tuple[Shapes, dict]:
    l1, l2 = (data.draw(st.sampled_from([0.0, 0.3])) for _ in range(2))
    return [data.draw(small_shape())], {"l1": l1, "l2": l2}


def batch_norm_shapes(data: st.DataObject) -> tuple[Shapes, dict]:
    """(batch, channels) or (batch, steps, channels), channels last; the
    statistics are over every other axis, so each channel sees >= 2 values."""
    n, c = data.draw(st.integers(2, 4)), data.draw(st.integers(1, 3))
    lead = data.draw(st.sampled_from([(n,), (n, data.draw(st.integers(1, 3)))]))
    return [lead + (c,), (c,), (c,)], {"axes": tuple(range(len(lead)))}


def layer_norm_shapes(data: st.DataObject) -> tuple[Shapes, dict]:
    """x of 1-3 axes, the normalized ``axes`` a non-empty subset of them (some
    given as negative), gamma and beta shaped to broadcast along the others."""
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    rank = len(shape)
    axes = sorted(data.draw(st.sets(st.integers(0, rank - 1), min_size=1)))
    if data.draw(st.booleans()):
        axes = [a - rank for a in axes]
    weights = tuple(
        d if i % rank in {a % rank for a in axes} else 1 for i, d in enumerate(shape)
    )
    return [shape, weights, weights], {"axes": tuple(axes)}


def embedding_shapes(data: st.DataObject) -> tuple[Shapes, dict]:
    """A (V, D) table and integer indices of 0-2 axes (repeats included)."""
    vocabulary, dim = data.draw(st.integers(1, 5)), data.draw(st.integers(1, 3))
    shape = data.draw(small_shape(max_dims=2))
    indices = data.draw(
        hnp.arrays(np.int64, shape, elements=st.integers(0, vocabulary - 1))
    )
    return [(vocabulary, dim)], {"indices": indices}


def conv_transpose_shapes(data: st.DataObject) -> tuple[Shapes, dict]:
    """x (N, H, W, C), kernel (kh, kw, F, C), bias (F,); strides and dilation
    (not both above 1), 'valid' or 'same', and an output_padding below the
    strides (or None) that leaves a non-empty output."""
    n, c, f = (data.draw(st.integers(1, 2)) for _ in range(3))
    h, w, kh, kw = (data.draw(st.integers(1, 3)) for _ in range(4))
    strides = tuple(data.draw(st.integers(1, 3)) for _ in range(2))
    dilation = (1, 1)
    if strides == (1, 1):
        dilation = tuple(data.draw(st.integers(1, 2)) for _ in range(2))
    padding = data.draw(st.sampled_from(["valid", "same"]))
    extra = None
    if data.draw(st.booleans()):
        extra = tuple(data.draw(st.integers(0, s - 1)) for s in strides)
        if 0 in (
            _transposed(h, kh, strides[0], dilation[0], padding, extra[0])[1],
            _transposed(w, kw, strides[1], dilation[1], padding, extra[1])[1],
        ):
            extra = None
    params = dict(
        strides=strides, padding=padding, output_padding=extra, dilation_rate=dilation
    )
    return [(n, h, w, c), (kh, kw, f, c), (f,)], params


# --- torch equivalents ----------------------------------------------------------
def _dims(x: Any, axis: Any) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(x.ndim))
    return (axis,) if isinstance(axis, int) else tuple(axis)


def _torch():
    import torch

    return torch


def _t(array: Any) -> Any:
    return _torch().as_tensor(array)


def _f():
    return _torch().nn.functional


def _torch_index(index: Any) -> Any:
    if isinstance(index, np.ndarray):
        return _torch().as_tensor(index)
    return index


def _torch_ce(x: Any, target: Any) -> Any:
    torch = _torch()
    f = torch.nn.functional
    flat = x.reshape(-1, x.shape[-1])
    if np.issubdtype(target.dtype, np.integer):
        t = torch.as_tensor(target.reshape(-1))
    else:
        t = torch.as_tensor(target.reshape(-1, x.shape[-1]))
    return f.cross_entropy(flat, t, reduction="none").reshape(x.shape[:-1])


def _torch_linear(x: Any, w: Any, b: Any) -> Any:
    return x @ w + b


def _torch_transpose(x: Any, axes: Any) -> Any:
    return x.permute(*(axes if axes is not None else range(x.ndim)[::-1]))


def _torch_batch_norm(x: Any, gamma: Any, beta: Any, axes: Any) -> Any:
    # NOTE: torch keeps the channels on axis 1 and reduces over the others.
    f = _f()
    y = f.batch_norm(x.movedim(-1, 1), None, None, gamma, beta, True, eps=1e-3)
    return y.movedim(1, -1)


def _torch_weighted_sum(x: Any, weight: Any, divide_by_size: bool) -> Any:
    total = (x if weight is None else x * _t(weight)).sum()
    return total / x.numel() if divide_by_size else total


def _torch_layer_norm(x: Any, gamma: Any, beta: Any, axes: Any) -> Any:
    # NOTE: torch normalizes the trailing axes: move ``axes`` there and back.
    axes = sorted(a % x.ndim for a in axes)
    last = list(range(x.ndim - len(axes), x.ndim))
    sizes = [x.shape[a] for a in axes]
    moved = x.movedim(axes, last)
    y = _f().layer_norm(moved, sizes, gamma.reshape(sizes), beta.reshape(sizes), 1e-3)
    return y.movedim(last, axes)


def _transposed(length, size, stride, dilation, padding, extra):
    """(crop, output length) of a transposed convolution along one axis:
    Keras's output length, and TensorFlow's 'same' crop (the padding the
    convolution it inverts would add before)."""
    span = (size - 1) * dilation + 1
    full = (length - 1) * stride + span
    if padding == "valid":
        out = full + (max(span, stride) - span if extra is None else extra)
        return 0, out
    out = length * stride if extra is None else (length - 1) * stride + span % 2 + extra
    return max(full - out, 0) // 2, out


def _window(x_shape: tuple, w_shape: tuple, params: dict) -> tuple:
    """((top, Ho), (left, Wo)): where the output window of a transposed
    convolution starts in its uncropped result, and its size."""
    extras = params["output_padding"] or (None, None)
    return tuple(
        _transposed(n, k, s, d, params["padding"], e)
        for n, k, s, d, e in zip(
            x_shape[1:3],
            w_shape[:2],
            params["strides"],
            params["dilation_rate"],
            extras,
        )
    )


def _torch_conv2d_transpose(x, w, b, **params):
    # NOTE: torch gives the uncropped result (channels first); pad and crop it.
    f = _f()
    full = f.conv_transpose2d(
        x.permute(0, 3, 1, 2).contiguous(),
        w.permute(3, 2, 0, 1).contiguous(),
        b,
        stride=params["strides"],
        dilation=params["dilation_rate"],
    ).permute(0, 2, 3, 1)
    (top, ho), (left, wo) = _window(x.shape, w.shape, params)
    grow = (
        0,
        0,
        0,
        max(left + wo - full.shape[2], 0),
        0,
        max(top + ho - full.shape[1], 0),
    )
    padded = f.pad(full - b, grow) + b  # the bias on the padded pixels too
    return padded[:, top : top + ho, left : left + wo]


# --- NumPy/SciPy references: what each op computes, written plainly -------------
def _np_softmax_ce(x: np.ndarray, target: np.ndarray) -> np.ndarray:
    if target.shape != x.shape:  # integer labels: their one-hot rows
        target = np.eye(x.shape[-1])[target]
    return -(target * special.log_softmax(x, axis=-1)).sum(axis=-1)


def _np_sigmoid_ce(x: np.ndarray, target: np.ndarray) -> np.ndarray:
    # -t log(sigmoid(x)) - (1 - t) log(1 - sigmoid(x)), as log(1 + exp(-+x))
    return target * np.logaddexp(0, -x) + (1 - target) * np.logaddexp(0, x)


def _np_gelu_tanh(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))


def _np_weighted_sum(x, weight, divide_by_size):
    total = (x if weight is None else x * weight).sum()
    return total / x.size if divide_by_size else total


def _np_batch_norm(x, gamma, beta, axes):
    mean, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(var + 1e-3) * gamma + beta


def _np_layer_norm(x, gamma, beta, axes):
    mean, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(var + 1e-3) * gamma + beta


def _np_conv2d_transpose(x, w, b, **params):
    """Each input pixel (i, j) adds x[:, i, j] @ w[a, c].T at (s*i + d*a,
    s*j + d*c) of an uncropped canvas, which is then cropped (or grown)."""
    (sh, sw), (dh, dw) = params["strides"], params["dilation_rate"]
    n, h, wd, _ = x.shape
    kh, kw, f, _ = w.shape
    full = np.zeros(
        (n, (h - 1) * sh + (kh - 1) * dh + 1, (wd - 1) * sw + (kw - 1) * dw + 1, f)
    )
    for i, j, a, c in np.ndindex(h, wd, kh, kw):
        full[:, sh * i + dh * a, sw * j + dw * c] += x[:, i, j] @ w[a, c].T
    (top, ho), (left, wo) = _window(x.shape, w.shape, params)
    grown = np.zeros(
        (n, max(top + ho, full.shape[1]), max(left + wo, full.shape[2]), f)
    )
    grown[:, : full.shape[1], : full.shape[2]] = full
    return grown[:, top : top + ho, left : left + wo] + b


# --- the table --------------------------------------------------------------------
@dataclass
class OpCase:
    """``fn``, ``forward_expected`` and ``torch_fn`` take the inputs (Tensors,
    arrays, torch tensors) positionally and the drawn parameters by keyword."""

    name: str
    fn: Callable[..., Any]
    forward_expected: Callable[..., Any]
    torch_fn: Callable[..., Any]
    draw: Callable[[st.DataObject], tuple[Shapes, dict]] = unary
    values: Callable[..., list] = field(default_factory=symmetric)

    def __repr__(self) -> str:
        return self.name


def _reduction(op: Callable, ref: Callable, torch_name: str) -> OpCase:
    def torch_fn(x, axis, keepdims):
        return getattr(x, torch_name)(dim=_dims(x, axis), keepdim=keepdims)

    values = distinct if torch_name in ("amax", "amin") else symmetric()
    return OpCase(op.__name__, op, ref, torch_fn, axis_and_keepdims, values)


OPS: list[OpCase] = [
    # arithmetic
    OpCase("add", ops.add, np.add, lambda x, y: x + y, binary),
    OpCase("sub", ops.sub, np.subtract, lambda x, y: x - y, binary),
    OpCase("mul", ops.mul, np.multiply, lambda x, y: x * y, binary),
    OpCase("div", ops.div, np.divide, lambda x, y: x / y, binary, symmetric(0.5)),
    OpCase("neg", ops.neg, np.negative, lambda x: -x),
    OpCase(
        "pow",
        ops.pow,
        np.power,
        lambda x, p: x**p,
        binary,
        mixed(positive(), symmetric()),
    ),
    OpCase("pow_scalar", lambda x: x**3, lambda x: x * x * x, lambda x: x**3),
    OpCase("rpow_scalar", lambda x: 2.0**x, np.exp2, lambda x: 2.0**x),
    OpCase("exp", ops.exp, np.exp, lambda x: x.exp()),
    OpCase("log", ops.log, np.log, lambda x: x.log(), unary, positive()),
    OpCase("sqrt", ops.sqrt, np.sqrt, lambda x: x.sqrt(), unary, positive()),
    OpCase("abs", ops.abs, np.abs, lambda x: x.abs()),
    OpCase(
        "maximum",
        ops.maximum,
        np.maximum,
        lambda x, y: _torch().maximum(x, y),
        binary,
        mixed(off_grid(0.0), off_grid(0.5)),
    ),
    OpCase(
        "minimum",
        ops.minimum,
        np.minimum,
        lambda x, y: _torch().minimum(x, y),
        binary,
        mixed(off_grid(0.0), off_grid(0.5)),
    ),
    OpCase(
        "clip",
        lambda x: ops.clip(x, -0.5, 0.5),
        lambda x: np.clip(x, -0.5, 0.5),
        lambda x: x.clamp(-0.5, 0.5),
        unary,
        away_from((-0.5, 0.5)),
    ),
    OpCase(
        "where",
        lambda x, y, condition: ops.where(condition, x, y),
        lambda x, y, condition: np.where(condition, x, y),
        lambda x, y, condition: _torch().where(_t(condition), x, y),
        where_shapes,
    ),
    OpCase(  # through float64 and back: the gradient comes back in x's dtype
        "cast",
        lambda x: ops.Cast.apply(ops.Cast.apply(x, dtype="float64"), dtype=x.dtype),
        lambda x: x,
        lambda x: x.to(_torch().float64).to(x.dtype),
    ),
    # reductions
    _reduction(ops.sum, np.sum, "sum"),
    _reduction(ops.mean, np.mean, "mean"),
    _reduction(ops.max, np.max, "amax"),
    _reduction(ops.min, np.min, "amin"),
    OpCase(
        "l1_l2_penalty",
        ops.l1_l2_penalty,
        lambda w, l1, l2: l1 * np.abs(w).sum() + l2 * (w * w).sum(),
        lambda w, l1, l2: l1 * w.abs().sum() + l2 * (w * w).sum(),
        penalty_params,
    ),
    # shape
    OpCase(
        "reshape",
        lambda x, shape: ops.reshape(x, shape),
        np.reshape,
        lambda x, shape: x.reshape(shape),
        reshape_shapes,
    ),
    OpCase(
        "transpose", ops.transpose, np.transpose, _torch_transpose, transpose_shapes
    ),
    OpCase(
        "broadcast_to",
        ops.broadcast_to,
        np.broadcast_to,
        lambda x, shape: x.broadcast_to(shape),
        broadcast_shapes,
    ),
    OpCase(
        "getitem",
        lambda x, index: x[index],
        lambda x, index: x[index],
        lambda x, index: x[_torch_index(index)],
        index_shapes,
    ),
    OpCase(
        "concatenate",
        lambda *xs, axis: ops.concatenate(xs, axis=axis),
        lambda *xs, axis: np.concatenate(xs, axis=axis),
        lambda *xs, axis: _torch().cat(xs, dim=axis),
        join_shapes,
    ),
    OpCase(
        "stack",
        lambda *xs, axis: ops.stack(xs, axis=axis),
        lambda *xs, axis: np.stack(xs, axis=axis),
        lambda *xs, axis: _torch().stack(xs, dim=axis),
        stack_shapes,
    ),
    # nonlinearities
    OpCase("tanh", ops.tanh, np.tanh, lambda x: x.tanh()),
    OpCase(
        "sigmoid", ops.sigmoid, lambda x: 1 / (1 + np.exp(-x)), lambda x: x.sigmoid()
    ),
    OpCase("relu", ops.relu, lambda x: np.where(x > 0, x, 0.0), lambda x: x.relu()),
    OpCase(
        "leaky_relu",
        lambda x: ops.leaky_relu(x, 0.2),
        lambda x: np.where(x > 0, x, 0.2 * x),
        lambda x: _f().leaky_relu(x, 0.2),
    ),
    OpCase(
        "elu",
        lambda x: ops.elu(x, 0.7),
        lambda x: np.where(x > 0, x, 0.7 * np.expm1(x)),
        lambda x: _f().elu(x, 0.7),
    ),
    OpCase(
        "softplus",
        ops.softplus,
        lambda x: np.log1p(np.exp(x)),
        lambda x: _f().softplus(x),
    ),
    OpCase(
        "softmax",
        ops.softmax,
        special.softmax,
        lambda x, axis: x.softmax(axis),
        one_axis,
    ),
    OpCase(
        "log_softmax",
        ops.log_softmax,
        special.log_softmax,
        lambda x, axis: x.log_softmax(axis),
        one_axis,
    ),
    OpCase(
        "gelu",
        lambda x: ops.gelu(x, approximate=False),
        lambda x: x * special.ndtr(x),
        lambda x: _f().gelu(x),
    ),
    OpCase(
        "gelu_tanh",
        lambda x: ops.gelu(x, approximate=True),
        _np_gelu_tanh,
        lambda x: _f().gelu(x, approximate="tanh"),
    ),
    OpCase("silu", ops.silu, lambda x: x * special.expit(x), lambda x: _f().silu(x)),
    OpCase(
        "softsign",
        ops.softsign,
        lambda x: x / (1 + np.abs(x)),
        lambda x: _f().softsign(x),
    ),
    # linear algebra
    OpCase("matmul", ops.matmul, np.matmul, lambda x, y: x @ y, matmul_shapes),
    OpCase(
        "batch_dot",
        ops.batch_dot,
        _batch_dot_reference,
        _torch_batch_dot,
        batch_dot_shapes,
    ),
    OpCase(
        "linear",
        ops.linear,
        lambda x, w, b: x @ w + b,
        _torch_linear,
        linear_shapes,
    ),
    *[
        OpCase(
            f"linear_{name}",
            lambda x, w, b, name=name: ops.linear(x, w, b, activation=name),
            lambda x, w, b, f=f: f(x @ w + b),
            lambda x, w, b, name=name: getattr(_torch_linear(x, w, b), name)(),
            linear_shapes,
        )
        for name, f in (
            ("relu", lambda z: np.where(z > 0, z, 0.0)),
            ("tanh", np.tanh),
            ("sigmoid", special.expit),
        )
    ],
    # normalization
    OpCase(
        "batch_norm",
        lambda x, gamma, beta, axes: ops.batch_norm(x, gamma, beta, axes),
        _np_batch_norm,
        _torch_batch_norm,
        batch_norm_shapes,
    ),
    OpCase(
        "layer_norm",
        lambda x, gamma, beta, axes: ops.layer_norm(x, gamma, beta, axes),
        _np_layer_norm,
        _torch_layer_norm,
        layer_norm_shapes,
    ),
    OpCase(
        "layer_norm_no_affine",
        lambda x, gamma, beta, axes: ops.layer_norm(x, None, None, axes) * gamma + beta,
        _np_layer_norm,
        _torch_layer_norm,
        layer_norm_shapes,
    ),
    # lookup and convolution
    OpCase(
        "embedding_lookup",
        lambda table, indices: ops.embedding_lookup(table, indices),
        lambda table, indices: table[indices],
        lambda table, indices: _f().embedding(_t(indices), table),
        embedding_shapes,
    ),
    OpCase(
        "conv2d_transpose",
        ops.conv2d_transpose,
        _np_conv2d_transpose,
        _torch_conv2d_transpose,
        conv_transpose_shapes,
    ),
    # fused losses
    OpCase(
        "softmax_cross_entropy",
        ops.softmax_cross_entropy,
        _np_softmax_ce,
        _torch_ce,
        classes_shapes,
    ),
    OpCase(
        "sigmoid_cross_entropy",
        ops.sigmoid_cross_entropy,
        _np_sigmoid_ce,
        lambda x, target: _f().binary_cross_entropy_with_logits(
            x, _t(target), reduction="none"
        ),
        with_target(0.0, 1.0, min_dims=0),
    ),
    OpCase(
        "mean_squared_error",
        ops.mean_squared_error,
        lambda x, target: ((x - target) ** 2).mean(axis=-1),
        lambda x, target: _f().mse_loss(x, _t(target), reduction="none").mean(-1),
        with_target(-2.0, 2.0),
    ),
    OpCase(
        "binary_cross_entropy",
        ops.binary_cross_entropy,
        lambda p, target: -(target * np.log(p) + (1 - target) * np.log1p(-p)).mean(-1),
        lambda p, target: (
            _f().binary_cross_entropy(p, _t(target), reduction="none").mean(-1)
        ),
        with_target(0.0, 1.0),
        positive(0.05, 0.95),
    ),
    OpCase(
        "categorical_cross_entropy",
        ops.categorical_cross_entropy,
        lambda p, target: -(target * np.log(p / p.sum(-1, keepdims=True))).sum(-1),
        lambda p, target: -(_t(target) * (p / p.sum(-1, keepdim=True)).log()).sum(-1),
        class_probabilities,
        positive(),
    ),
    OpCase(
        "weighted_sum",
        ops.weighted_sum,
        _np_weighted_sum,
        _torch_weighted_sum,
        weighted_shapes,
    ),
]
