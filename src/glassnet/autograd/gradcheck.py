"""Finite-difference checks of analytic gradients (always in float64)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from glassnet.autograd.tensor import Tensor


class GradcheckError(AssertionError):
    """An analytic gradient disagrees with central finite differences."""


def _differentiable(x: Any) -> bool:
    """Floating-point arrays, tensors, lists and floats are checked; the rest
    (integer labels, axes, shapes) passes through unchanged."""
    if isinstance(x, (Tensor, np.ndarray)):
        return np.issubdtype(x.dtype, np.inexact)
    if isinstance(x, list):
        return np.issubdtype(np.asarray(x).dtype, np.inexact)
    return isinstance(x, float)


def gradcheck(
    fn: Callable[..., Tensor],
    *inputs: Any,
    eps: float = 1e-6,
    rtol: float = 1e-6,
    atol: float = 1e-8,
    seed: int = 0,
    name: str | None = None,
    directions: int | None = None,
) -> float:
    """Compare ``backward`` with central differences of ``fn`` at ``inputs``.

    ``fn`` maps tensors to a tensor of any shape; it is reduced to a scalar by a
    fixed random projection ``sum(fn(*inputs) * r)``, so every output element
    is checked at once. Array inputs are cast to float64 and differentiated;
    other arguments (ints, tuples) are passed through.

    Returns the worst relative error, ``|analytic - numeric| / max(1, |numeric|)``
    over all checked entries. Raises :class:`GradcheckError` naming the op, the
    input and the index of the worst entry when any entry is off by more than
    ``atol + rtol * |numeric|``.

    For large inputs pass ``directions=k``: instead of one pair of evaluations
    per entry, each input is checked along ``k`` random unit directions ``v``
    (``grad . v`` against the central difference along ``v``), and a failure
    names the direction instead of the index.
    """
    label = name or getattr(fn, "__name__", repr(fn))
    arrays = [
        np.array(getattr(x, "data", x), dtype=np.float64)
        if _differentiable(x)
        else None
        for x in inputs
    ]

    def call(values: list[Any]) -> Tensor:
        args = [
            Tensor(v, requires_grad=True) if a is not None else x
            for v, a, x in zip(values, arrays, inputs)
        ]
        return fn(*args), args

    out, args = call(arrays)
    projection = np.random.default_rng(seed).standard_normal(np.shape(out.data))

    def scalar(values: list[Any]) -> float:
        return float(np.sum(call(values)[0].data * projection))

    (out * Tensor(projection)).sum().backward()
    if directions is not None:
        return _check_directions(
            scalar, arrays, args, directions, eps, rtol, atol, seed, label
        )
    worst = 0.0
    for k, array in enumerate(arrays):
        if array is None:
            continue
        analytic = args[k].grad if args[k].grad is not None else np.zeros_like(array)
        numeric = np.zeros_like(array)
        for index in np.ndindex(array.shape):
            shifted = [a.copy() if a is not None else None for a in arrays]
            shifted[k][index] = array[index] + eps
            up = scalar(shifted)
            shifted[k][index] = array[index] - eps
            down = scalar(shifted)
            numeric[index] = (up - down) / (2 * eps)
        error = np.abs(analytic - numeric)
        relative = error / np.maximum(1.0, np.abs(numeric))
        worst = max(worst, float(relative.max(initial=0.0)))
        bad = error > atol + rtol * np.abs(numeric)
        if bad.any():
            index = np.unravel_index(
                np.argmax(error - rtol * np.abs(numeric)), array.shape
            )
            where = tuple(int(i) for i in index)
            raise GradcheckError(
                f"gradcheck failed for {label}: input {k} at index {where}: "
                f"analytic {float(analytic[index])!r} vs "
                f"numeric {float(numeric[index])!r}"
            )
    return worst


def _check_directions(
    scalar: Callable[[list[Any]], float],
    arrays: list[Any],
    args: list[Any],
    directions: int,
    eps: float,
    rtol: float,
    atol: float,
    seed: int,
    label: str,
) -> float:
    """Directional-derivative check: ``grad . v`` against a central difference."""
    rng = np.random.default_rng(seed + 1)
    worst = 0.0
    for k, array in enumerate(arrays):
        if array is None:
            continue
        grad = args[k].grad if args[k].grad is not None else np.zeros_like(array)
        for j in range(directions):
            v = rng.standard_normal(array.shape)
            v /= max(float(np.linalg.norm(v)), 1e-300)
            shifted = [a.copy() if a is not None else None for a in arrays]
            shifted[k] = array + eps * v
            up = scalar(shifted)
            shifted[k] = array - eps * v
            down = scalar(shifted)
            numeric = (up - down) / (2 * eps)
            analytic = float(np.sum(grad * v))
            error = abs(analytic - numeric)
            worst = max(worst, error / max(1.0, abs(numeric)))
            if error > atol + rtol * abs(numeric):
                raise GradcheckError(
                    f"gradcheck failed for {label}: input {k} along random "
                    f"direction {j}: analytic {analytic!r} vs numeric {numeric!r}"
                )
    return worst
