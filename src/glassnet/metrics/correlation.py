"""Correlation of targets and predictions along an axis, as Keras 3 has it.

Each function gives one coefficient per sample (per slice along ``axis``),
in ``y_pred``'s float dtype: the Pearson correlation, which ignores scale and
offset, and Lin's concordance correlation, which also asks the two to agree.
Each class is the running weighted mean of its function over all batches.
"""

from __future__ import annotations

from numbers import Integral
from typing import Any

import numpy as np

from glassnet.config import epsilon
from glassnet.metrics import MeanMetricWrapper, _float, _registry

__all__ = [
    "ConcordanceCorrelation",
    "PearsonCorrelation",
    "concordance_correlation",
    "pearson_correlation",
]


def _axes(axis: Any) -> Any:
    """``axis`` as an int or a tuple of ints; ValueError for anything else."""
    many = tuple(axis) if isinstance(axis, (list, tuple)) else (axis,)
    if not many or not all(
        isinstance(a, Integral) and not isinstance(a, bool) for a in many
    ):
        raise ValueError(
            f"axis must be an integer or a tuple of integers. Received: axis={axis!r}"
        )
    return many if isinstance(axis, (list, tuple)) else axis


def _aligned(y_true: Any, y_pred: Any, axis: Any) -> tuple[Any, Any, Any]:
    """``(y_true, y_pred, axis)``: float arrays of one rank (a last axis of 1
    on one side is dropped, or given to a 1-D other side, as Keras aligns
    them) that broadcast, and ``axis`` checked against them."""
    y_pred = np.asarray(getattr(y_pred, "data", y_pred))
    y_pred = y_pred.astype(_float(y_pred), copy=False)
    y_true = np.asarray(getattr(y_true, "data", y_true), y_pred.dtype)
    shapes = y_true.shape, y_pred.shape
    if y_true.ndim == y_pred.ndim + 1 and y_true.shape[-1:] == (1,):
        if y_pred.ndim == 1:
            y_pred = y_pred[:, None]
        else:
            y_true = y_true[..., 0]
    elif y_pred.ndim == y_true.ndim + 1 and y_pred.shape[-1:] == (1,):
        if y_true.ndim == 1:
            y_true = y_true[:, None]
        else:
            y_pred = y_pred[..., 0]
    try:
        rank = len(np.broadcast_shapes(y_true.shape, y_pred.shape))
    except ValueError:
        raise ValueError(
            "y_true and y_pred must have shapes that broadcast. Received: "
            f"y_true.shape={shapes[0]}, y_pred.shape={shapes[1]}"
        ) from None
    axes = _axes(axis)
    many = axes if isinstance(axes, tuple) else (axes,)
    inside = all(-rank <= a < rank for a in many)
    if not inside or len({a % rank for a in many}) < len(many):
        raise ValueError(
            f"axis must name distinct axes of y_pred, in [-{rank}, {rank}). "
            f"Received: axis={axis!r} for y_pred.shape={shapes[1]}"
        )
    return y_true, y_pred, axes


@_registry.register()
def pearson_correlation(y_true: Any, y_pred: Any, axis: Any = -1) -> np.ndarray:
    """cov(t, p) / (std(t) std(p)) along ``axis``: the mean product of the two,
    each centred and scaled to unit (population) variance. NaN where either is
    constant, as in Keras."""
    y_true, y_pred, axis = _aligned(y_true, y_pred, axis)

    def standardized(x: np.ndarray) -> np.ndarray:
        centred = x - x.mean(axis=axis, keepdims=True)
        return centred / centred.std(axis=axis, keepdims=True)

    with np.errstate(divide="ignore", invalid="ignore"):
        return np.mean(standardized(y_true) * standardized(y_pred), axis=axis)


@_registry.register()
def concordance_correlation(y_true: Any, y_pred: Any, axis: Any = -1) -> np.ndarray:
    """Lin's 2 cov(t, p) / (var(t) + var(p) + (mean(t) - mean(p))**2 + eps)
    along ``axis`` (population moments; eps = 1e-7): 1 only where p == t."""
    y_true, y_pred, axis = _aligned(y_true, y_pred, axis)
    mean_true = y_true.mean(axis=axis, keepdims=True)
    mean_pred = y_pred.mean(axis=axis, keepdims=True)
    centred = (y_true - mean_true) * (y_pred - mean_pred)
    covariance = centred.mean(axis=axis, keepdims=True)
    spread = (
        y_true.var(axis=axis, keepdims=True)
        + y_pred.var(axis=axis, keepdims=True)
        + (mean_true - mean_pred) ** 2
    )
    return np.squeeze(2 * covariance / (spread + epsilon()), axis=axis)


# NOTE: their snake_case names are the functions' (as for the cross-entropies)
@_registry.register("PearsonCorrelation")
class PearsonCorrelation(MeanMetricWrapper):
    """Running weighted mean of :func:`pearson_correlation` along ``axis``
    (an int or a tuple of ints), per sample: in [-1, 1], 1 for predictions
    that rise and fall with the targets."""

    _direction = "up"  # better when larger (Keras's hint to callbacks)

    def __init__(
        self, name: str | None = "pearson_correlation", dtype: Any = None, axis=-1
    ) -> None:
        super().__init__(pearson_correlation, name, dtype, axis=_axes(axis))
        self.axis = self.fn_kwargs["axis"]


@_registry.register("ConcordanceCorrelation")
class ConcordanceCorrelation(MeanMetricWrapper):
    """Running weighted mean of :func:`concordance_correlation` along ``axis``
    (an int or a tuple of ints), per sample: in [-1, 1], 1 only for
    predictions equal to the targets."""

    _direction = "up"

    def __init__(
        self, name: str | None = "concordance_correlation", dtype: Any = None, axis=-1
    ) -> None:
        super().__init__(concordance_correlation, name, dtype, axis=_axes(axis))
        self.axis = self.fn_kwargs["axis"]
