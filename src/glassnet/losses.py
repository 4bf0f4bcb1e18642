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
(one graph node each: they are the hot path of small models). The other losses
(focal cross-entropies, hinges, KL divergence, Poisson, log-cosh, MAPE, MSLE,
cosine similarity) are compositions of ops, with Keras's 1e-7 floors and clips;
log-cosh is ``e + softplus(-2 e) - log 2``, finite where ``cosh`` overflows.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from glassnet import ops
from glassnet._registry import Registry, without_keras_only
from glassnet.autograd import Tensor
from glassnet.ops.loss import EPSILON, SoftmaxCrossEntropy

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


@_registry.register("binary_crossentropy", "bce", "BCE")
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


@_registry.register("binary_focal_crossentropy")
def binary_focal_crossentropy(
    y_true: Any,
    y_pred: Any,
    apply_class_balancing: bool = False,
    alpha: float = 0.25,
    gamma: float = 2.0,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
) -> Tensor:
    """mean(w (1 - p_t)**gamma bce(t, p), axis=-1), p_t = t p + (1 - t)(1 - p);
    w = t alpha + (1 - t)(1 - alpha) with ``apply_class_balancing``, else 1."""
    y_true, y_pred = _prepare(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    probs = ops.sigmoid(y_pred) if from_logits else y_pred
    clipped = ops.clip(probs, EPSILON, 1.0 - EPSILON)
    bce = -(y_true * ops.log(clipped) + (1.0 - y_true) * ops.log(1.0 - clipped))
    p_t = y_true * probs + (1.0 - y_true) * (1.0 - probs)
    focal = ops.power(1.0 - p_t, gamma) * bce
    if apply_class_balancing:
        focal = (y_true * alpha + (1.0 - y_true) * (1.0 - alpha)) * focal
    return ops.mean(focal, axis=-1)


@_registry.register("categorical_focal_crossentropy")
def categorical_focal_crossentropy(
    y_true: Any,
    y_pred: Any,
    alpha: Any = 0.25,
    gamma: float = 2.0,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
) -> Tensor:
    """-sum(alpha (1 - q)**gamma t log q, axis=-1), q = clip(p / sum(p), 1e-7,
    1 - 1e-7) (p = softmax(logits)); ``alpha`` a number or one per class."""
    y_true, y_pred = _prepare(y_true, y_pred)
    if label_smoothing:
        k = y_pred.shape[-1]
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / k
    probs = ops.softmax(y_pred, axis=-1) if from_logits else y_pred
    q = ops.clip(probs / ops.sum(probs, axis=-1, keepdims=True), EPSILON, 1 - EPSILON)
    alpha = np.asarray(alpha, dtype=y_pred.dtype)
    return ops.sum(ops.power(1.0 - q, gamma) * alpha * (-y_true * ops.log(q)), axis=-1)


@_registry.register("kl_divergence", "kld", "KLD")
def kl_divergence(y_true: Any, y_pred: Any) -> Tensor:
    """sum(t log(t / p), axis=-1), with t and p clipped to [1e-7, 1]."""
    y_true, y_pred = _prepare(y_true, y_pred)
    y_true = np.clip(y_true, EPSILON, 1.0)
    return ops.sum(y_true * ops.log(y_true / ops.clip(y_pred, EPSILON, 1.0)), axis=-1)


@_registry.register("poisson")
def poisson(y_true: Any, y_pred: Any) -> Tensor:
    """mean(p - t log(p + 1e-7), axis=-1)."""
    y_true, y_pred = _prepare(y_true, y_pred)
    return ops.mean(y_pred - y_true * ops.log(y_pred + EPSILON), axis=-1)


def _signed_labels(y_true: np.ndarray) -> np.ndarray:
    """Labels of 0 and 1 as -1 and +1; others as they are (as Keras, per call:
    all of them are 0 or 1, or none is converted)."""
    return 2.0 * y_true - 1.0 if np.isin(y_true, (0, 1)).all() else y_true


@_registry.register("hinge")
def hinge(y_true: Any, y_pred: Any) -> Tensor:
    """mean(max(1 - t p, 0), axis=-1), labels t in {-1, 1} (0/1 are converted)."""
    y_true, y_pred = _prepare(y_true, y_pred)
    return ops.mean(ops.maximum(1.0 - _signed_labels(y_true) * y_pred, 0.0), axis=-1)


@_registry.register("squared_hinge")
def squared_hinge(y_true: Any, y_pred: Any) -> Tensor:
    """mean(max(1 - t p, 0)**2, axis=-1), labels t in {-1, 1} (0/1 are converted)."""
    y_true, y_pred = _prepare(y_true, y_pred)
    margin = ops.maximum(1.0 - _signed_labels(y_true) * y_pred, 0.0)
    return ops.mean(ops.square(margin), axis=-1)


@_registry.register("categorical_hinge")
def categorical_hinge(y_true: Any, y_pred: Any) -> Tensor:
    """max(max((1 - t) p) - sum(t p) + 1, 0) over the last axis, one-hot t."""
    y_true, y_pred = _prepare(y_true, y_pred)
    positive = ops.sum(y_true * y_pred, axis=-1)
    negative = ops.max((1.0 - y_true) * y_pred, axis=-1)
    return ops.maximum(negative - positive + 1.0, 0.0)


@_registry.register("log_cosh")
def log_cosh(y_true: Any, y_pred: Any) -> Tensor:
    """mean(log(cosh(p - t)), axis=-1), as e + softplus(-2 e) - log 2."""
    y_true, y_pred = _prepare(y_true, y_pred)
    error = y_pred - y_true
    # NOTE: cosh overflows float32 for errors past 89; this form never does.
    return ops.mean(error + ops.softplus(-2.0 * error) - math.log(2.0), axis=-1)


@_registry.register("mean_absolute_percentage_error", "mape", "MAPE")
def mean_absolute_percentage_error(y_true: Any, y_pred: Any) -> Tensor:
    """``100 mean(|(t - p) / max(|t|, 1e-7)|, axis=-1)``."""
    y_true, y_pred = _prepare(y_true, y_pred)
    scale = np.maximum(np.abs(y_true), EPSILON)
    return 100.0 * ops.mean(ops.abs((y_true - y_pred) / scale), axis=-1)


@_registry.register("mean_squared_logarithmic_error", "msle", "MSLE")
def mean_squared_logarithmic_error(y_true: Any, y_pred: Any) -> Tensor:
    """mean((log(max(p, 1e-7) + 1) - log(max(t, 1e-7) + 1))**2, axis=-1)."""
    y_true, y_pred = _prepare(y_true, y_pred)
    log_true = np.log(np.maximum(y_true, EPSILON) + 1.0)
    log_pred = ops.log(ops.maximum(y_pred, EPSILON) + 1.0)
    return ops.mean(ops.square(log_pred - log_true), axis=-1)


def _unit(x: Any, axis: int) -> Tensor:
    """x / max(||x||, 1e-7) along ``axis`` (zero vectors stay zero)."""
    # NOTE: the floor under the squared norm, not under its root: the gradient of
    # sqrt at 0 would be 0 * inf = nan for a zero vector.
    squares = ops.sum(ops.square(x), axis=axis, keepdims=True)
    return x / ops.sqrt(ops.maximum(squares, EPSILON**2))


@_registry.register("cosine_similarity")
def cosine_similarity(y_true: Any, y_pred: Any, axis: int = -1) -> Tensor:
    """-sum(t / ||t|| * p / ||p||, axis), norms floored at 1e-7: -1 when aligned."""
    y_true, y_pred = _prepare(y_true, y_pred)
    return -ops.sum(_unit(y_true, axis) * _unit(y_pred, axis), axis=axis)


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

BinaryFocalCrossentropy = _loss_class(
    "BinaryFocalCrossentropy",
    binary_focal_crossentropy,
    keras_only={"axis": -1},
    apply_class_balancing=False,
    alpha=0.25,
    gamma=2.0,
    from_logits=False,
    label_smoothing=0.0,
)
CategoricalFocalCrossentropy = _loss_class(
    "CategoricalFocalCrossentropy",
    categorical_focal_crossentropy,
    keras_only={"axis": -1},
    alpha=0.25,
    gamma=2.0,
    from_logits=False,
    label_smoothing=0.0,
)
KLDivergence = _loss_class("KLDivergence", kl_divergence)
Poisson = _loss_class("Poisson", poisson)
Hinge = _loss_class("Hinge", hinge)
SquaredHinge = _loss_class("SquaredHinge", squared_hinge)
CategoricalHinge = _loss_class("CategoricalHinge", categorical_hinge)
LogCosh = _loss_class("LogCosh", log_cosh)
MeanAbsolutePercentageError = _loss_class(
    "MeanAbsolutePercentageError", mean_absolute_percentage_error
)
MeanSquaredLogarithmicError = _loss_class(
    "MeanSquaredLogarithmicError", mean_squared_logarithmic_error
)


class CosineSimilarity(LossFunctionWrapper):
    """Class form of :func:`cosine_similarity` along ``axis``."""

    def __init__(
        self,
        axis: int = -1,
        name: str | None = None,
        reduction: str | None = "sum_over_batch_size",
    ):
        super().__init__(cosine_similarity, name, reduction, axis=axis)

    def get_config(self) -> dict[str, Any]:
        # NOTE: as Keras 3, without `axis`: a copy from the config uses -1
        return Loss.get_config(self)


_registry.add("CosineSimilarity", CosineSimilarity)

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
