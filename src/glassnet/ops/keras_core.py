"""Keras 3's ``keras.ops`` names, on NumPy arrays and glassnet Tensors alike:
the conversions, the array makers, and the rules every one of them follows.

With ``import glassnet as keras``, ``keras.ops.mean(x, axis=-1)`` is a
function of this module, ``keras_numpy`` or ``keras_nn``: Keras's arguments,
names and defaults, built from the plain ops of this package, so it is
differentiable wherever an input is a Tensor that requires grad. What comes
back, and in which dtype, is decided here once for all of them:

- **Always a glassnet Tensor** (as Keras returns its backend's tensor),
  whatever came in: an array, a list, a number or a Tensor. ``shape`` and
  ``ndim`` give Python ints, ``dtype`` a string, ``convert_to_numpy`` an array.
- **Keras's dtypes, where they differ from NumPy's.** Python floats become
  float32 and Python ints int32; arrays keep their dtype (float64 stays
  float64). Functions of real numbers (``sqrt``, ``exp``, ``log``, ``mean``,
  ``var``, ``std``, ``norm``, ``divide``, ``sigmoid``, ``tanh``, ``softmax``,
  ...) compute integers and booleans in float32. An integer operand meeting a
  float one takes the float's dtype (NumPy widens int32 with float32 to
  float64), and a Python number never widens an array (``float32 + 2.5`` is
  float32). ``sum`` keeps int32 (NumPy gives int64) and adds booleans and
  narrower integers in int32; ``argmax`` and ``argmin`` give int32;
  ``one_hot`` and the array makers (``ones``, ``full``, ``eye``) default to
  float32.
- **Integers and booleans carry no gradient**, so the comparisons, the
  logical ops, ``argmax``, ``one_hot`` and ``where``'s condition return
  Tensors outside the graph.

Where a Keras name is also one of the primitives (``add``, ``sum``, ``clip``,
``reshape``, ...), ``glassnet.ops.<name>`` is the Keras function; the
primitive stays in its module (``glassnet.ops.arithmetic.add``) and behind
Tensor's operators and methods (``x + y``, ``x.sum()``), which keep NumPy's
rules. Two defaults follow Keras's ``ops`` rather than the primitives':
``gelu`` is the tanh approximation and ``leaky_relu``'s slope is 0.2.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet.autograd.tensor import Tensor
from glassnet.ops.arithmetic import Cast

#: Keras's default float dtype (``keras.config.floatx()``).
FLOATX = "float32"
_NUMBERS = (bool, int, float)


# --- conversions ------------------------------------------------------------------
def _convert(x: Any) -> np.ndarray:
    """A Python number or list as Keras converts it: floats to float32, ints to
    int32 (when they fit), bools to bool; NumPy values keep their dtype."""
    array = np.asarray(x)
    if isinstance(x, np.generic):
        return array
    if array.dtype == np.float64:
        return array.astype(FLOATX)
    if array.dtype == np.int64 and (
        array.size == 0 or np.iinfo(np.int32).min <= array.min() <= array.max() < 2**31
    ):
        return array.astype(np.int32)
    return array


def _value(x: Any) -> Any:
    """``x`` as the plain ops take it: a Tensor or an array."""
    return x if isinstance(x, (Tensor, np.ndarray)) else _convert(x)


def _array(x: Any) -> np.ndarray:
    """The NumPy value of ``x`` (a Tensor's own array)."""
    return x.data if isinstance(x, Tensor) else _value(x)


def _is_float(value: Any) -> bool:
    return value.dtype.kind in "fc"


def _astype(value: Any, dtype: Any) -> Any:
    """``value`` (integer or boolean: no gradient to keep) in ``dtype``."""
    return _array(value).astype(dtype)


def _floating(x: Any) -> Any:
    """``x`` for a function of real numbers: integers and booleans in float32."""
    if type(x) is Tensor and x.data.dtype.kind == "f":
        return x  # NOTE: the layers' path: no further checks
    value = _value(x)
    return value if _is_float(value) else _astype(value, FLOATX)


def _operands(*xs: Any, floating: bool = False) -> list[Any]:
    """The operands of an elementwise op, promoted as Keras promotes them.

    Integer operands take the dtype of the float ones (float32 where only a
    Python float meets them, or where ``floating`` asks for real numbers);
    Python numbers stay Python numbers, so NumPy keeps the array's dtype.
    """
    # NOTE: float arrays with Python numbers (the layers' path) need nothing.
    strong = False
    for x in xs:
        kind = type(x)
        if kind is Tensor or kind is np.ndarray:
            if x.dtype.kind != "f":
                break
            strong = True
        elif kind is not float and kind is not int:
            break
    else:
        if strong:
            return list(xs)
    if all(type(x) in _NUMBERS for x in xs):
        xs = (_convert(xs[0]), *xs[1:])
    values = [x if type(x) in _NUMBERS else _value(x) for x in xs]
    arrays = [v for v in values if type(v) not in _NUMBERS]
    floats = [v.dtype for v in arrays if _is_float(v)]
    if floats:
        target = np.result_type(*floats)
    elif floating or any(type(v) is float for v in values):
        target = np.dtype(FLOATX)
    else:
        return values
    return [
        v if type(v) in _NUMBERS or _is_float(v) else _astype(v, target) for v in values
    ]


def _axis(axis: Any) -> Any:
    return tuple(axis) if isinstance(axis, list) else axis


def _dtype(dtype: Any) -> np.dtype:
    try:
        return np.dtype(dtype)
    except TypeError:
        raise ValueError(
            f"Invalid dtype: glassnet computes in NumPy's dtypes ('float32', "
            f"'float64', 'int32', 'bool', ...). Received: dtype={dtype!r}"
        ) from None


# --- making tensors -----------------------------------------------------------------
def convert_to_tensor(x, dtype=None, sparse=None, ragged=None):
    if sparse or ragged:
        raise ValueError(
            "glassnet has no sparse or ragged tensors. "
            f"Received: sparse={sparse}, ragged={ragged}"
        )
    if isinstance(x, Tensor):
        return x if dtype is None else cast(x, dtype)
    array = _value(x)
    return Tensor(array if dtype is None else array.astype(_dtype(dtype)))


def convert_to_numpy(x):
    """A NumPy array (a copy: changing it never changes a Tensor)."""
    return np.array(_array(x))


def cast(x, dtype):
    """``x`` in ``dtype``; the gradient flows through a cast to a float dtype."""
    dtype = _dtype(dtype)
    value = _value(x)
    if value.dtype == dtype:
        return value if isinstance(value, Tensor) else Tensor(value)
    if dtype.kind in "fc":
        return Cast.apply(value, dtype=dtype)
    return Tensor(_astype(value, dtype))


def stop_gradient(variable):
    """The same values, cut from the graph."""
    return Tensor(_array(variable))


def shape(x):
    """The shape as a tuple (``None`` for an unknown size of a symbolic input)."""
    return tuple(x.shape) if hasattr(x, "shape") else np.shape(x)


def ndim(x):
    return len(shape(x))


def dtype(x):
    """The dtype's name: ``"float32"``."""
    return _array(x).dtype.name


def ones(shape, dtype=None):
    return Tensor(np.ones(shape, dtype=dtype or FLOATX))


def zeros(shape, dtype=None):
    return Tensor(np.zeros(shape, dtype=dtype or FLOATX))


def full(shape, fill_value, dtype=None):
    return Tensor(np.full(shape, _array(fill_value), dtype=dtype or FLOATX))


def ones_like(x, dtype=None):
    return Tensor(np.ones_like(_array(x), dtype=dtype))


def zeros_like(x, dtype=None):
    return Tensor(np.zeros_like(_array(x), dtype=dtype))


def full_like(x, fill_value, dtype=None):
    return Tensor(np.full_like(_array(x), _array(fill_value), dtype=dtype))


def arange(start, stop=None, step=None, dtype=None):
    """int32 for integer arguments, float32 when any of them is a float."""
    if stop is None:
        start, stop = 0, start
    step = 1 if step is None else step
    if dtype is None:
        kinds = [np.asarray(v).dtype.kind for v in (start, stop, step)]
        dtype = FLOATX if "f" in kinds else "int32"
    return Tensor(np.arange(start, stop, step, dtype=dtype))


def eye(N, M=None, k=0, dtype=None):  # noqa: N803  (Keras's names)
    return Tensor(np.eye(N, M, k, dtype=dtype or FLOATX))


def identity(n, dtype=None):
    return eye(n, dtype=dtype)


__all__ = [
    "arange",
    "cast",
    "convert_to_numpy",
    "convert_to_tensor",
    "dtype",
    "eye",
    "full",
    "full_like",
    "identity",
    "ndim",
    "ones",
    "ones_like",
    "shape",
    "stop_gradient",
    "zeros",
    "zeros_like",
]
