"""Keras 3's ``keras.ops`` math on arrays and Tensors: elementwise arithmetic,
comparisons, reductions, shapes, matmul and norm (the rules of dtypes and
gradients are in ``keras_core``)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from glassnet.autograd.tensor import Tensor
from glassnet.ops.arithmetic import (
    Abs,
    Add,
    Clip,
    Div,
    Exp,
    Log,
    Maximum,
    Minimum,
    Mul,
    Neg,
    Pow,
    Sqrt,
    Sub,
    Where,
)
from glassnet.ops.keras_core import (
    _NUMBERS,
    _array,
    _axis,
    _floating,
    _is_float,
    _operands,
    _value,
)
from glassnet.ops.linalg import MatMul
from glassnet.ops.reduce import Max, Mean, Min, Sum
from glassnet.ops.shaping import (
    BroadcastTo,
    Concatenate,
    GetItem,
    Reshape,
    Stack,
    Transpose,
)


# --- elementwise math -------------------------------------------------------------
def add(x1, x2):
    return Add.apply(*_operands(x1, x2))


def subtract(x1, x2):
    return Sub.apply(*_operands(x1, x2))


def multiply(x1, x2):
    return Mul.apply(*_operands(x1, x2))


def divide(x1, x2):
    """``x1 / x2``; integers are divided as float32."""
    return Div.apply(*_operands(x1, x2, floating=True))


true_divide = divide


def power(x1, x2):
    return Pow.apply(*_operands(x1, x2))


def maximum(x1, x2):
    return Maximum.apply(*_operands(x1, x2))


def minimum(x1, x2):
    return Minimum.apply(*_operands(x1, x2))


def negative(x):
    return Neg.apply(_value(x))


def square(x):
    value = _value(x)
    return Mul.apply(value, value)


def sqrt(x):
    return Sqrt.apply(_floating(x))


def exp(x):
    return Exp.apply(_floating(x))


def log(x):
    return Log.apply(_floating(x))


def abs(x):  # noqa: A001
    return Abs.apply(_value(x))


absolute = abs


def clip(x, x_min, x_max):
    """``x`` limited to ``[x_min, x_max]``; one bound may be None."""
    bounds = [_array(b) if isinstance(b, Tensor) else b for b in (x_min, x_max)]
    present = [b for b in bounds if b is not None]
    if not present:
        raise ValueError("clip needs x_min, x_max or both. Received: None, None")
    value, *present = _operands(x, *present)
    low = present.pop(0) if bounds[0] is not None else None
    high = present.pop(0) if bounds[1] is not None else None
    return Clip.apply(value, low=low, high=high)


def where(condition, x1=None, x2=None):
    """``x1`` where ``condition`` holds, else ``x2``; without ``x1`` and ``x2``,
    the indices where it holds (a tuple of int Tensors, one per axis)."""
    condition = np.asarray(_array(condition), dtype=bool)
    if x1 is None and x2 is None:
        return tuple(Tensor(i) for i in np.nonzero(condition))
    if x1 is None or x2 is None:
        given = "x1" if x2 is None else "x2"
        raise ValueError(
            "where needs both x1 and x2 (the values to pick from), or neither "
            f"(the indices where condition holds). Received: only {given}"
        )
    return Where.apply(*_operands(x1, x2), condition=condition)


# --- comparisons and logic: boolean Tensors, outside the graph ----------------------
def _compare(ufunc: np.ufunc) -> Any:
    def compare(x1, x2):
        a, b = (x if type(x) in _NUMBERS else _array(x) for x in (x1, x2))
        return Tensor(ufunc(a, b))

    compare.__name__ = compare.__qualname__ = ufunc.__name__
    return compare


equal = _compare(np.equal)
not_equal = _compare(np.not_equal)
greater = _compare(np.greater)
greater_equal = _compare(np.greater_equal)
less = _compare(np.less)
less_equal = _compare(np.less_equal)
logical_and = _compare(np.logical_and)
logical_or = _compare(np.logical_or)
logical_xor = _compare(np.logical_xor)


def logical_not(x):
    return Tensor(np.logical_not(_array(x)))


# --- reductions -------------------------------------------------------------------
def sum(x, axis=None, keepdims=False):  # noqa: A001
    value = _value(x)
    if _is_float(value):
        return Sum.apply(value, axis=axis, keepdims=keepdims)
    data = _array(value)
    # NOTE: as Keras (JAX's rule): booleans and narrow integers add up in int32.
    total = "int32" if data.dtype == bool or data.dtype.itemsize < 4 else data.dtype
    return Tensor(np.sum(data, axis=_axis(axis), keepdims=keepdims, dtype=total))


def mean(x, axis=None, keepdims=False):
    return Mean.apply(_floating(x), axis=axis, keepdims=keepdims)


def _extreme(op: type, ufunc: np.ufunc, combine: Any) -> Any:
    def reduce(x, axis=None, keepdims=False, initial=None):
        value = _value(x)
        if not _is_float(value):
            kwargs = {} if initial is None else {"initial": initial}
            data = ufunc.reduce(
                _array(value), axis=_axis(axis), keepdims=keepdims, **kwargs
            )
            return Tensor(data)
        out = op.apply(value, axis=axis, keepdims=keepdims)
        return out if initial is None else combine(out, initial)

    reduce.__name__ = reduce.__qualname__ = ufunc.__name__[:3]
    return reduce


max = _extreme(Max, np.maximum, maximum)  # noqa: A001
min = _extreme(Min, np.minimum, minimum)  # noqa: A001


def all(x, axis=None, keepdims=False):  # noqa: A001
    return Tensor(np.all(_array(x), axis=_axis(axis), keepdims=keepdims))


def any(x, axis=None, keepdims=False):  # noqa: A001
    return Tensor(np.any(_array(x), axis=_axis(axis), keepdims=keepdims))


def argmax(x, axis=None, keepdims=False):
    found = np.argmax(_array(x), axis=axis, keepdims=keepdims)
    return Tensor(found.astype(np.int32))


def argmin(x, axis=None, keepdims=False):
    found = np.argmin(_array(x), axis=axis, keepdims=keepdims)
    return Tensor(found.astype(np.int32))


def var(x, axis=None, keepdims=False):
    """``mean((x - mean(x))**2)`` over ``axis`` (NumPy's order of operations)."""
    value = _floating(x)
    centred = Sub.apply(value, Mean.apply(value, axis=axis, keepdims=True))
    return Mean.apply(Mul.apply(centred, centred), axis=axis, keepdims=keepdims)


def std(x, axis=None, keepdims=False):
    return Sqrt.apply(var(x, axis=axis, keepdims=keepdims))


def norm(x, ord=None, axis=None, keepdims=False):  # noqa: A002  (Keras's name)
    """NumPy's vector norms (any ``ord``) and the matrix norms ``"fro"``, 1,
    -1, inf and -inf (the spectral and nuclear norms need an SVD: not here)."""
    value = _floating(x)
    if axis is None and ord is not None and value.ndim not in (1, 2):
        raise ValueError(
            f"norm with ord={ord!r} and axis=None needs a 1-D or 2-D input. "
            f"Received: x.shape={value.shape}"
        )
    axes = tuple(range(value.ndim)) if axis is None else _axis(axis)
    axes = (axes,) if isinstance(axes, int) else axes
    matrix = len(axes) == 2 and ord is not None
    if ord is None or ord == ("fro" if matrix else 2):
        return Sqrt.apply(
            Sum.apply(Mul.apply(value, value), axis=axes, keepdims=keepdims)
        )
    if isinstance(ord, str) and not matrix:
        raise ValueError(
            "A string ord is a matrix norm: it needs two axes (or a 2-D input "
            f"and axis=None). Received: ord={ord!r}, axis={axis!r}"
        )
    magnitude = Abs.apply(value)
    if matrix:
        return _matrix_norm(magnitude, ord, axes, keepdims)
    if ord in (math.inf, -math.inf):
        return (Max if ord > 0 else Min).apply(magnitude, axis=axes, keepdims=keepdims)
    if ord == 0:
        count = np.sum(_array(value) != 0, axis=axes, keepdims=keepdims)
        return Tensor(count.astype(value.dtype))
    if ord == 1:
        return Sum.apply(magnitude, axis=axes, keepdims=keepdims)
    powered = Sum.apply(Pow.apply(magnitude, ord), axis=axes, keepdims=keepdims)
    return Pow.apply(powered, 1.0 / ord)


def _matrix_norm(magnitude: Tensor, ord: Any, axes: tuple, keepdims: bool) -> Tensor:
    if ord not in (1, -1, math.inf, -math.inf):
        raise ValueError(
            "glassnet's norm has the matrix norms 'fro', 1, -1, inf and -inf "
            f"(2, -2 and 'nuc' need an SVD). Received: ord={ord!r}"
        )
    rows, cols = (a % magnitude.ndim for a in axes)
    summed, picked = (rows, cols) if ord in (1, -1) else (cols, rows)
    sums = Sum.apply(magnitude, axis=summed, keepdims=True)
    out = (Max if ord > 0 else Min).apply(sums, axis=picked, keepdims=True)
    if keepdims:
        return out
    kept = [n for i, n in enumerate(out.shape) if i not in (rows, cols)]
    return Reshape.apply(out, shape=tuple(kept))


# --- shapes -----------------------------------------------------------------------
def reshape(x, newshape):
    return Reshape.apply(_value(x), shape=newshape)


def ravel(x):
    return Reshape.apply(_value(x), shape=(-1,))


def transpose(x, axes=None):
    return Transpose.apply(_value(x), axes=axes)


def broadcast_to(x, shape):
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    return BroadcastTo.apply(_value(x), shape=shape)


def _positions(axis: Any, ndim: int, what: str) -> list[int]:
    axes = [axis] if isinstance(axis, int) else list(axis)
    for a in axes:
        if not -ndim <= a < ndim:
            raise ValueError(
                f"{what}: axis {a} is out of bounds for {ndim} dimensions. "
                f"Received: axis={axis}"
            )
    return sorted(a % ndim for a in axes)


def expand_dims(x, axis):
    value = _value(x)
    new = list(value.shape)
    for a in _positions(
        axis, value.ndim + (1 if isinstance(axis, int) else len(axis)), "expand_dims"
    ):
        new.insert(a, 1)
    return Reshape.apply(value, shape=tuple(new))


def squeeze(x, axis=None):
    value = _value(x)
    if axis is None:
        axes = [i for i, n in enumerate(value.shape) if n == 1]
    else:
        axes = _positions(axis, value.ndim, "squeeze")
    wide = [a for a in axes if value.shape[a] != 1]
    if wide:
        raise ValueError(
            f"squeeze can only remove axes of size 1; axis {wide[0]} has size "
            f"{value.shape[wide[0]]}. Received: axis={axis}, x.shape={value.shape}"
        )
    kept = tuple(n for i, n in enumerate(value.shape) if i not in axes)
    return Reshape.apply(value, shape=kept)


def concatenate(xs, axis=0):
    return Concatenate.apply(*_operands(*xs), axis=axis)


def stack(x, axis=0):
    return Stack.apply(*_operands(*x), axis=axis)


def split(x, indices_or_sections, axis=0):
    """A list of Tensors, as ``np.split`` cuts ``x`` along ``axis``."""
    value = _value(x)
    axis = _positions(axis, value.ndim, "split")[0]
    pieces = np.split(np.arange(value.shape[axis]), indices_or_sections)
    bounds = np.cumsum([0] + [len(p) for p in pieces])
    lead = (slice(None),) * axis
    return [
        GetItem.apply(value, index=(*lead, slice(int(start), int(stop))))
        for start, stop in zip(bounds[:-1], bounds[1:])
    ]


def take(x, indices, axis=None):
    """The entries of ``x`` at ``indices`` along ``axis`` (of the flattened
    ``x`` when ``axis`` is None); negative indices count from the end."""
    value = _value(x)
    index = np.asarray(_array(indices))
    if index.dtype.kind not in "iu":
        index = index.astype(np.int64)
    if axis is None:
        value, axis = Reshape.apply(value, shape=(-1,)), 0
    axis = _positions(axis, value.ndim, "take")[0]
    return GetItem.apply(value, index=(*(slice(None),) * axis, index))


def matmul(x1, x2):
    return MatMul.apply(*_operands(x1, x2))


__all__ = [
    "abs",
    "absolute",
    "add",
    "all",
    "any",
    "argmax",
    "argmin",
    "broadcast_to",
    "clip",
    "concatenate",
    "divide",
    "equal",
    "exp",
    "expand_dims",
    "greater",
    "greater_equal",
    "less",
    "less_equal",
    "log",
    "logical_and",
    "logical_not",
    "logical_or",
    "logical_xor",
    "matmul",
    "max",
    "maximum",
    "mean",
    "min",
    "minimum",
    "multiply",
    "negative",
    "norm",
    "not_equal",
    "power",
    "ravel",
    "reshape",
    "split",
    "sqrt",
    "square",
    "squeeze",
    "stack",
    "std",
    "subtract",
    "sum",
    "take",
    "transpose",
    "true_divide",
    "var",
    "where",
]
