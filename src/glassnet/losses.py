"""Losses, as functions, classes and string names (Keras 3 semantics).

A loss *function* maps ``(y_true, y_pred)`` to one loss per sample: the
elementwise loss averaged over the last axis (``y_pred`` of shape ``(batch, k)``
gives shape ``(batch,)``). A loss *class* instance additionally applies
``sample_weight`` and a ``reduction`` (default ``"sum_over_batch_size"``: the
mean over all values) and returns a scalar Tensor.

``y_true`` is data: it is cast to ``y_pred``'s dtype and receives no gradient.
When the ranks differ by one and the odd axis has size 1 (``y`` of shape
``(batch,)`` against predictions of shape ``(batch, 1)``), ``y_true`` is reshaped,
as Keras does, instead of being broadcast to ``(batch, batch)``.

Stability: ``from_logits=True`` goes through the fused log-sum-exp ops
(``ops.softmax_cross_entropy``, ``ops.sigmoid_cross_entropy``); probabilities
are clipped to ``[1e-7, 1 - 1e-7]`` as in Keras. Mean squared error, the
cross-entropies on probabilities and the weighted reduction are fused ops too
(one graph node each: they are the hot path of small models).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from glassnet import ops
from glassnet._registry import Registry, without_keras_only
from glassnet.autograd import Tensor
from glassnet.ops.loss import (
    EPSILON,  # noqa: F401  (Keras's clip, kept public here)
    SoftmaxCrossEntropy,
)

_registry = Registry("loss", module="keras.losses")
_REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "none", None)


def _prepare(y_true: Any, y_pred: Any, align: bool = True) -> tuple[Any, Tensor]:
    """``y_pred`` as a Tensor, ``y_true`` as an array of its dtype and rank."""
    if not isinstance(y_pred, Tensor):
        y_pred = np.asarray(y_pred)
        if not np.issubdtype(y_pred.dtype, np.floating):
            y_pred = y_pred.astype(np.float32)
        y_pred = Tensor(y_pred)
    y_true = np.asarray(y_true.data if isinstance(y_true, Tensor) else y_true)
    if not align:
        return y_true, y_pred
    y_true = y_true.astype(y_pred.dtype, copy=False)
    if y_true.ndim == y_pred.ndim - 1 and y_pred.shape[-1:] == (1,):
        y_true = y_true[..., None]
    elif y_true.ndim == y_pred.ndim + 1 and y_true.shape[-1:] == (1,):
        y_true = y_true[..., 0]
    try:
        if y_true.shape != y_pred.shape:
            np.broadcast_shapes(y_true.shape, y_pred.shape)
    except ValueError:
        raise ValueError(
            "y_true and y_pred have incompatible shapes. Received: "
            f"y_true.shape={y_true.shape}, y_pred.shape={y_pred.shape}"
        ) from None
    return y_true, y_pred


@_registry.register("mean_squared_error", "mse", "MSE")
def mean_squared_error(y_true: Any, y_pred: Any) -> Tensor:
    """mean((y_pred - y_true)**2, axis=-1)."""
    y_true, y_pred = _prepare(y_true, y_pred)
    if y_true.shape != y_pred.shape:
        y_true = np.broadcast_to(y_true, y_pred.shape)
    return ops.mean_squared_error(y_pred, y_true)


@_registry.register("mean_absolute_error", "mae", "MAE")
def mean_absolute_error(y_true: Any, y_pred: Any) -> Tensor:
    """``mean(|y_pred - y_true|, axis=-1)``."""
    y_true, y_pred = _prepare(y_true, y_pred)
    return ops.mean(ops.abs(y_pred - y_true), axis=-1)


@_registry.register("huber")
def huber(y_true: Any, y_pred: Any, delta: float = 1.0) -> Tensor:
    """``mean(0.5 e**2 if |e| <= delta else delta (|e| - 0.5 delta), axis=-1)``."""
    y_true, y_pred = _prepare(y_true, y_pred)
    error = ops.abs(y_pred - y_true)
    quadratic = ops.minimum(error, delta)
    linear = error - quadratic
    return ops.mean(0.5 * quadratic * quadratic + delta * linear, axis=-1)


@_registry.register("binary_crossentropy", "bce")
def binary_crossentropy(
    y_true: Any, y_pred: Any, from_logits: bool = False, label_smoothing: float = 0.0
) -> Tensor:
    """-mean(t log p + (1 - t) log(1 - p), axis=-1); logits or probabilities."""
    y_true, y_pred = _prepare(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if y_true.shape != y_pred.shape:
        y_true = np.broadcast_to(y_true, y_pred.shape)
    if from_logits:
        return ops.mean(ops.sigmoid_cross_entropy(y_pred, y_true), axis=-1)
    return ops.binary_cross_entropy(y_pred, y_true)


@_registry.register("categorical_crossentropy", "cce")
def categorical_crossentropy(
    y_true: Any, y_pred: Any, from_logits: bool = False, label_smoothing: float = 0.0
) -> Tensor:
    """-sum(t log softmax(x)) (logits) or -sum(t log(p / sum p)) (probabilities)
    over the last axis, with one-hot or probability targets ``t``."""
    y_true, y_pred = _prepare(y_true, y_pred, align=False)
    y_true = y_true.astype(y_pred.dtype, copy=False)
    if y_true.shape != y_pred.shape:
        raise ValueError(
            "categorical_crossentropy needs one-hot y_true of the same shape as "
            f"y_pred (use sparse_categorical_crossentropy for integer labels). "
            f"Received: y_true.shape={y_true.shape}, y_pred.shape={y_pred.shape}"
        )
    if label_smoothing:
        k = y_pred.shape[-1]
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / k
    if from_logits:
        return ops.softmax_cross_entropy(y_pred, y_true)
    return ops.categorical_cross_entropy(y_pred, y_true)


@_registry.register("sparse_categorical_crossentropy", "scce")
def sparse_categorical_crossentropy(
    y_true: Any, y_pred: Any, from_logits: bool = False
) -> Tensor:
    """categorical_crossentropy with integer labels ``y_true`` of shape (batch,)
    (or (batch, 1)) against ``y_pred`` of shape (batch, classes)."""
    labels, y_pred = _prepare(y_true, y_pred, align=False)
    if labels.ndim == y_pred.ndim and labels.shape[-1:] == (1,):
        labels = labels[..., 0]
    k = y_pred.shape[-1]
    integral = np.issubdtype(labels.dtype, np.integer) or (
        np.issubdtype(labels.dtype, np.floating) and (labels == np.round(labels)).all()
    )
    if labels.shape != y_pred.shape[:-1] or not integral:
        raise ValueError(
            "sparse_categorical_crossentropy needs integer labels of shape "
            f"{y_pred.shape[:-1]}. Received: y_true of shape {labels.shape} and "
            f"dtype {labels.dtype}"
        )
    labels = labels.astype(np.intp, copy=False)
    if labels.size and (labels.min() < 0 or labels.max() >= k):
        raise ValueError(
            f"Labels must be in [0, {k}) for {k} classes. Received: labels from "
            f"{labels.min()} to {labels.max()}"
        )
    if from_logits:  # the labels are checked: straight to the op's Function
        return SoftmaxCrossEntropy.apply(y_pred, target=labels)
    one_hot = np.zeros(y_pred.shape, dtype=y_pred.dtype)
    np.put_along_axis(one_hot, labels[..., None], 1, axis=-1)
    return categorical_crossentropy(one_hot, y_pred)


# --- classes ------------------------------------------------------------------------


class Loss:
    """A loss with ``sample_weight`` and a ``reduction``; returns a scalar Tensor.

    ``reduction``: ``"sum_over_batch_size"`` (default; also ``"mean"``): the sum of
    the (weighted) per-sample losses over their count; ``"sum"``; ``"none"``/None:
    the per-sample losses.
    """

    def __init__(
        self, name: str | None = None, reduction: str | None = "sum_over_batch_size"
    ):
        if reduction not in _REDUCTIONS:
            raise ValueError(
                f"`reduction` must be one of {_REDUCTIONS}. Received: "
                f"reduction={reduction!r}"
            )
        self.name = name
        self.reduction = reduction

    def call(self, y_true: Any, y_pred: Any) -> Tensor:
        raise NotImplementedError

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Tensor:
        values = self.call(y_true, y_pred)
        weight = None
        if sample_weight is not None:
            weight = np.asarray(getattr(sample_weight, "data", sample_weight))
            weight = weight.astype(values.dtype, copy=False)
            if weight.ndim == values.ndim + 1 and weight.shape[-1:] == (1,):
                weight = weight[..., 0]
            if weight.shape != values.shape:
                weight = np.broadcast_to(weight, values.shape)
        if self.reduction in ("none", None):
            return values if weight is None else values * weight
        divide_by_size = self.reduction != "sum"
        return ops.weighted_sum(values, weight, divide_by_size=divide_by_size)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Loss:
        return cls(**without_keras_only(cls, config))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.get_config()})"


_registry.base = Loss


class LossFunctionWrapper(Loss):
    """A Loss around a per-sample loss function and its keyword arguments."""

    def __init__(
        self,
        fn: Callable[..., Tensor],
        name: str | None = None,
        reduction: str | None = "sum_over_batch_size",
        **kwargs: Any,
    ):
        super().__init__(name=name or fn.__name__, reduction=reduction)
        self.fn, self.fn_kwargs = fn, kwargs

    def call(self, y_true: Any, y_pred: Any) -> Tensor:
        return self.fn(y_true, y_pred, **self.fn_kwargs)

    def get_config(self) -> dict[str, Any]:
        keras_only = getattr(self, "keras_only", {})
        return {**super().get_config(), **self.fn_kwargs, **keras_only}


def _loss_class(
    name: str,
    fn: Callable[..., Tensor],
    keras_only: dict[str, Any] | None = None,
    **defaults: Any,
) -> type:
    """A LossFunctionWrapper subclass whose keyword arguments are ``defaults``;
    ``keras_only`` are Keras's arguments it lacks, accepted in configs at
    these values only (see ``glassnet._registry.without_keras_only``)."""

    def __init__(self, name=None, reduction="sum_over_batch_size", **kwargs):
        unknown = set(kwargs) - set(defaults)
        if unknown:
            raise TypeError(
                f"{type(self).__name__} got unexpected argument(s) "
                f"{sorted(unknown)}; it accepts {sorted(defaults)}. "
                f"Received: {kwargs}"
            )
        options = {**defaults, **kwargs}
        LossFunctionWrapper.__init__(self, fn, name, reduction, **options)

    doc = f"Class form of :func:`{fn.__name__}`; options: {defaults or 'none'}."
    cls = type(name, (LossFunctionWrapper,), {"__init__": __init__, "__doc__": doc})
    cls.__module__ = __name__
    cls.keras_only = keras_only or {}
    _registry.add(name, cls)
    return cls


MeanSquaredError = _loss_class("MeanSquaredError", mean_squared_error)
MeanAbsoluteError = _loss_class("MeanAbsoluteError", mean_absolute_error)
Huber = _loss_class("Huber", huber, delta=1.0)
BinaryCrossentropy = _loss_class(
    "BinaryCrossentropy",
    binary_crossentropy,
    keras_only={"axis": -1},
    from_logits=False,
    label_smoothing=0.0,
)
CategoricalCrossentropy = _loss_class(
    "CategoricalCrossentropy",
    categorical_crossentropy,
    keras_only={"axis": -1},
    from_logits=False,
    label_smoothing=0.0,
)
SparseCategoricalCrossentropy = _loss_class(
    "SparseCategoricalCrossentropy",
    sparse_categorical_crossentropy,
    keras_only={"ignore_class": None},
    from_logits=False,
)

mse, mae = mean_squared_error, mean_absolute_error


def get(identifier: Any) -> Any:
    """A loss from a name (function names give the function, ``"mse"`` too; class
    names give an instance), a Loss instance, a callable or a config dict."""
    if identifier is None:
        return None
    return _registry.get(identifier)


def serialize(loss: Any) -> Any:
    """A loss as Keras 3 writes it: a function as its registered name (an alias
    as the full name Keras knows: ``"cce"`` -> ``"categorical_crossentropy"``),
    a Loss as ``{"module", "class_name", "config", "registered_name"}``."""
    if isinstance(loss, str):
        obj = _registry.lookup(loss) if loss in _registry else None
        if obj is None or isinstance(obj, type):
            return loss
        return _registry.name_of(obj) or loss
    return _registry.serialize(loss)


def deserialize(config: Any) -> Any:
    return get(config)
