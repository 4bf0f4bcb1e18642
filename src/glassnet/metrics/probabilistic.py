"""Keras 3's other running means of per-sample functions: the cross-entropies,
top-k accuracy of integer labels, KL divergence, Poisson, the hinges and the
regression errors, and the R2 score.

Each function maps ``(y_true, y_pred)`` (arrays or Tensors) to one NumPy value
per sample, in ``y_pred``'s float dtype (float32 for integers). All but top-k
accuracy and exact equality are glassnet's losses, evaluated outside the graph
(cosine similarity: minus its loss). Each class is the running weighted mean
of its function (a ``MeanMetricWrapper``), named and configured as in Keras.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from glassnet import losses
from glassnet._registry import without_keras_only
from glassnet._warnings import warn
from glassnet.autograd import Tensor, no_grad
from glassnet.metrics import (
    MeanMetricWrapper,
    Metric,
    _arrays,
    _float,
    _registry,
    _wrapper,
)

__all__ = [
    "Accuracy",
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "CategoricalHinge",
    "CosineSimilarity",
    "Hinge",
    "KLDivergence",
    "LogCoshError",
    "MeanAbsolutePercentageError",
    "MeanSquaredLogarithmicError",
    "Poisson",
    "R2Score",
    "SparseCategoricalCrossentropy",
    "SparseTopKCategoricalAccuracy",
    "SquaredHinge",
    "binary_crossentropy",
    "categorical_crossentropy",
    "categorical_hinge",
    "hinge",
    "huber",
    "kl_divergence",
    "log_cosh",
    "mean_absolute_percentage_error",
    "mean_squared_logarithmic_error",
    "poisson",
    "sparse_categorical_crossentropy",
    "sparse_top_k_categorical_accuracy",
    "squared_hinge",
]


def _loss_values(loss: Callable[..., Tensor], *args: Any, **options: Any) -> Any:
    """A glassnet loss's per-sample values as an array, outside the graph."""
    with no_grad():
        return loss(*args, **options).data


def _check_axis(axis: Any, y_pred: np.ndarray) -> None:
    """ValueError unless ``axis`` is an integer axis of ``y_pred``."""
    integer = isinstance(axis, (int, np.integer)) and not isinstance(axis, bool)
    if not integer or not -y_pred.ndim <= axis < y_pred.ndim:
        raise ValueError(
            f"axis must be an integer in [-{y_pred.ndim}, {y_pred.ndim}) for "
            f"y_pred of shape {y_pred.shape}. Received: axis={axis!r}"
        )


def _axis_last(y_pred: Any, axis: Any) -> np.ndarray:
    """``y_pred`` as an array with ``axis`` moved last, where glassnet's losses
    reduce."""
    y_pred = np.asarray(getattr(y_pred, "data", y_pred))
    _check_axis(axis, y_pred)
    return np.moveaxis(y_pred, axis, -1)


def _both_axis_last(y_true: Any, y_pred: Any, axis: Any) -> tuple[Any, np.ndarray]:
    """:func:`_axis_last` of both (of ``y_true`` where it has ``y_pred``'s rank)."""
    y_pred = _axis_last(y_pred, axis)
    y_true = np.asarray(getattr(y_true, "data", y_true))
    if y_true.ndim == y_pred.ndim:
        y_true = np.moveaxis(y_true, axis, -1)
    return y_true, y_pred


# --- glassnet's losses, evaluated outside the graph ------------------------------


@_registry.register("binary_crossentropy", "bce", "BCE")
def binary_crossentropy(
    y_true: Any,
    y_pred: Any,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> np.ndarray:
    """-mean(t log p + (1 - t) log(1 - p), axis), of probabilities or logits."""
    y_true, y_pred = _both_axis_last(y_true, y_pred, axis)
    return _loss_values(
        losses.binary_crossentropy,
        y_true,
        y_pred,
        from_logits=from_logits,
        label_smoothing=label_smoothing,
    )


@_registry.register()
def categorical_crossentropy(
    y_true: Any,
    y_pred: Any,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> np.ndarray:
    """-sum(t log p, axis) of one-hot t (batch, classes); of softmax(logits)."""
    y_true, y_pred = _both_axis_last(y_true, y_pred, axis)
    return _loss_values(
        losses.categorical_crossentropy,
        y_true,
        y_pred,
        from_logits=from_logits,
        label_smoothing=label_smoothing,
    )


@_registry.register()
def sparse_categorical_crossentropy(
    y_true: Any, y_pred: Any, from_logits: bool = False, axis: int = -1
) -> np.ndarray:
    """-log p[label] of integer labels (batch,) against ``y_pred`` (batch, classes)."""
    y_pred = _axis_last(y_pred, axis)
    labels = np.asarray(getattr(y_true, "data", y_true))
    if labels.ndim == y_pred.ndim and labels.shape[axis] == 1:
        labels = np.squeeze(labels, axis=axis)
    return _loss_values(
        losses.sparse_categorical_crossentropy, labels, y_pred, from_logits=from_logits
    )


@_registry.register()
def huber(y_true: Any, y_pred: Any, delta: float = 1.0) -> np.ndarray:
    """``mean(e**2 / 2 if |e| <= delta else delta (|e| - delta / 2), axis=-1)``
    of the errors ``e = p - t``."""
    return _loss_values(losses.huber, y_true, y_pred, delta=delta)


@_registry.register()
def kl_divergence(y_true: Any, y_pred: Any) -> np.ndarray:
    """sum(t log(t / p), axis=-1), with t and p clipped to [1e-7, 1]."""
    return _loss_values(losses.kl_divergence, y_true, y_pred)


@_registry.register()
def poisson(y_true: Any, y_pred: Any) -> np.ndarray:
    """mean(p - t log(p + 1e-7), axis=-1)."""
    return _loss_values(losses.poisson, y_true, y_pred)


@_registry.register()
def hinge(y_true: Any, y_pred: Any) -> np.ndarray:
    """mean(max(1 - t p, 0), axis=-1), labels t in {-1, 1} (0/1 are converted)."""
    return _loss_values(losses.hinge, y_true, y_pred)


@_registry.register()
def squared_hinge(y_true: Any, y_pred: Any) -> np.ndarray:
    """mean(max(1 - t p, 0)**2, axis=-1), labels t in {-1, 1} (0/1 are converted)."""
    return _loss_values(losses.squared_hinge, y_true, y_pred)


@_registry.register()
def categorical_hinge(y_true: Any, y_pred: Any) -> np.ndarray:
    """max(max((1 - t) p) - sum(t p) + 1, 0) over the last axis, one-hot t."""
    return _loss_values(losses.categorical_hinge, y_true, y_pred)


@_registry.register()
def log_cosh(y_true: Any, y_pred: Any) -> np.ndarray:
    """mean(log(cosh(p - t)), axis=-1), as e + softplus(-2 e) - log 2 (no overflow)."""
    return _loss_values(losses.log_cosh, y_true, y_pred)


@_registry.register("mean_absolute_percentage_error", "mape", "MAPE")
def mean_absolute_percentage_error(y_true: Any, y_pred: Any) -> np.ndarray:
    """``100 mean(|t - p| / max(|t|, 1e-7), axis=-1)``."""
    return _loss_values(losses.mean_absolute_percentage_error, y_true, y_pred)


@_registry.register("mean_squared_logarithmic_error", "msle", "MSLE")
def mean_squared_logarithmic_error(y_true: Any, y_pred: Any) -> np.ndarray:
    """mean((log(1 + max(p, 1e-7)) - log(1 + max(t, 1e-7)))**2, axis=-1)."""
    return _loss_values(losses.mean_squared_logarithmic_error, y_true, y_pred)


def _cosine_similarity(y_true: Any, y_pred: Any, axis: int = -1) -> np.ndarray:
    """``sum(t / max(|t|, 1e-7) * p / max(|p|, 1e-7), axis)``: minus the loss
    (Keras has no such metric function: it is CosineSimilarity's)."""
    _check_axis(axis, np.asarray(getattr(y_pred, "data", y_pred)))
    return -_loss_values(losses.cosine_similarity, y_true, y_pred, axis=axis)


# --- written here in NumPy --------------------------------------------------------


@_registry.register()
def sparse_top_k_categorical_accuracy(
    y_true: Any, y_pred: Any, k: int = 5, from_sorted_ids: bool = False
) -> np.ndarray:
    """1.0 where the integer label (batch,) is among the ``k`` best scores of
    ``y_pred`` (batch, classes), else 0.0; ``from_sorted_ids``: ``y_pred``
    (batch, n) holds the ids of the top n, best first."""
    labels = np.asarray(getattr(y_true, "data", y_true))
    y_pred = np.asarray(getattr(y_pred, "data", y_pred))
    batch = y_pred.shape[:-1]
    if labels.shape not in (batch, (*batch, 1)):
        raise ValueError(
            f"sparse_top_k_categorical_accuracy needs integer labels of shape {batch} "
            f"(one per sample). Received: y_true.shape={labels.shape}, "
            f"y_pred.shape={y_pred.shape}"
        )
    labels = labels.reshape(batch)
    if from_sorted_ids:
        hits = (y_pred[..., :k] == labels[..., None]).any(axis=-1)
        return hits.astype(_float(y_pred))
    classes = y_pred.shape[-1]
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise ValueError(
            f"Labels must be in [0, {classes}) for {classes} classes. Received: "
            f"labels from {labels.min()} to {labels.max()}"
        )
    labels = labels.astype(np.intp)
    score = np.take_along_axis(y_pred, labels[..., None], axis=-1)
    # NOTE: ties count as hits, as in Keras (in_top_k).
    return ((y_pred > score).sum(axis=-1) < k).astype(_float(y_pred))


def _equal(y_true: Any, y_pred: Any) -> np.ndarray:
    """1.0 where y_true == y_pred, else 0.0, elementwise (Keras's ``accuracy``)."""
    y_true, y_pred = _arrays(y_true, y_pred)
    return (y_true == y_pred).astype(_float(y_pred))


# --- classes ----------------------------------------------------------------------


BinaryCrossentropy = _wrapper(
    "BinaryCrossentropy", binary_crossentropy, from_logits=False, label_smoothing=0
)
CategoricalCrossentropy = _wrapper(
    "CategoricalCrossentropy",
    categorical_crossentropy,
    from_logits=False,
    label_smoothing=0,
    axis=-1,
)
KLDivergence = _wrapper("KLDivergence", kl_divergence)
Poisson = _wrapper("Poisson", poisson)
Hinge = _wrapper("Hinge", hinge)
SquaredHinge = _wrapper("SquaredHinge", squared_hinge)
CategoricalHinge = _wrapper("CategoricalHinge", categorical_hinge)
MeanAbsolutePercentageError = _wrapper(
    "MeanAbsolutePercentageError", mean_absolute_percentage_error
)
MeanSquaredLogarithmicError = _wrapper(
    "MeanSquaredLogarithmicError", mean_squared_logarithmic_error
)


class Accuracy(MeanMetricWrapper):
    """Running weighted mean of how often ``y_pred`` equals ``y_true`` exactly."""

    def __init__(self, name: str | None = "accuracy", dtype: Any = None) -> None:
        super().__init__(_equal, name, dtype)


class SparseCategoricalCrossentropy(MeanMetricWrapper):
    """Running weighted mean of :func:`sparse_categorical_crossentropy`.

    Keras's ``ignore_class`` is accepted (and written) at None only, as by
    :class:`glassnet.losses.SparseCategoricalCrossentropy`.
    """

    keras_only = {"ignore_class": None}

    def __init__(
        self,
        name: str | None = "sparse_categorical_crossentropy",
        dtype: Any = None,
        from_logits: bool = False,
        ignore_class: int | None = None,
        axis: int = -1,
    ) -> None:
        without_keras_only(type(self), {"ignore_class": ignore_class})
        super().__init__(
            sparse_categorical_crossentropy,
            name,
            dtype,
            from_logits=from_logits,
            axis=axis,
        )

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), **self.keras_only}


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """Running weighted mean of :func:`sparse_top_k_categorical_accuracy`."""

    def __init__(
        self,
        k: int = 5,
        name: str | None = "sparse_top_k_categorical_accuracy",
        dtype: Any = None,
        from_sorted_ids: bool = False,
    ) -> None:
        super().__init__(
            sparse_top_k_categorical_accuracy,
            name,
            dtype,
            k=k,
            from_sorted_ids=from_sorted_ids,
        )

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        if not config["from_sorted_ids"]:  # NOTE: Keras writes it only when set
            del config["from_sorted_ids"]
        return config


# NOTE: their snake_case names are the functions'
for _cls in (Accuracy, SparseCategoricalCrossentropy, SparseTopKCategoricalAccuracy):
    _registry.add(_cls.__name__, _cls)


@_registry.register("log_cosh_error")
class LogCoshError(MeanMetricWrapper):
    """Running weighted mean of :func:`log_cosh` (named ``"logcosh"``, as in Keras)."""

    def __init__(self, name: str | None = "logcosh", dtype: Any = None) -> None:
        super().__init__(log_cosh, name, dtype)


@_registry.register()
class CosineSimilarity(MeanMetricWrapper):
    """Running weighted mean of cos(y_true, y_pred) along ``axis``."""

    def __init__(
        self, name: str | None = "cosine_similarity", dtype: Any = None, axis: int = -1
    ) -> None:
        super().__init__(_cosine_similarity, name, dtype, axis=axis)

    def get_config(self) -> dict[str, Any]:
        # NOTE: Keras 3 leaves `axis` out, so a copy from the config uses -1
        return {"name": self.name, "dtype": self.dtype}


@_registry.register("r2_score")
class R2Score(Metric):
    """Coefficient of determination of (batch, outputs) targets, per output:
    R2 = 1 - sum(w (t - p)**2) / sum(w (t - mean_w(t))**2), then averaged.

    ``class_aggregation``: ``"uniform_average"`` (the mean over outputs),
    ``"variance_weighted_average"`` (weighted by each output's variance) or
    None (one score per output). ``num_regressors`` p > 0 gives the adjusted
    score, 1 - (1 - R2) (n - 1) / (n - p - 1), where n counts every target
    value, as Keras counts it. Before any update the result is 0.0.

    NOTE: the sums are float64 (Keras: the metric's dtype), so the variance,
    a difference of two sums, keeps its digits over long runs.
    """

    AGGREGATIONS = (None, "uniform_average", "variance_weighted_average")

    def __init__(
        self,
        class_aggregation: str | None = "uniform_average",
        num_regressors: int = 0,
        name: str | None = "r2_score",
        dtype: Any = None,
    ) -> None:
        if class_aggregation not in self.AGGREGATIONS:
            raise ValueError(
                "Invalid value for argument `class_aggregation`. Expected one "
                f"of {self.AGGREGATIONS}. Received: "
                f"class_aggregation={class_aggregation!r}"
            )
        if num_regressors < 0:
            raise ValueError(
                "Invalid value for argument `num_regressors`. Expected a value "
                f">= 0. Received: num_regressors={num_regressors}"
            )
        super().__init__(name=name, dtype=dtype)
        self.class_aggregation = class_aggregation
        self.num_regressors = num_regressors
        self.num_samples = self.add_variable(
            (), "zeros", "float64", "sum", "num_samples"
        )
        self.built = False

    def _build(self, outputs: int) -> None:
        def per_output(name: str) -> Tensor:
            return self.add_variable((outputs,), "zeros", "float64", "sum", name)

        self.squared_sum = per_output("squared_sum")
        self.sum = per_output("sum")
        self.total_mse = per_output("residual")
        self.count = per_output("count")
        self.built = True

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        y_true, y_pred = _arrays(y_true, y_pred)
        if y_true.ndim != 2 or y_pred.ndim != 2:
            raise ValueError(
                "R2Score expects 2D inputs with shape (batch_size, output_dim). "
                f"Received input shapes: y_pred.shape={y_pred.shape} and "
                f"y_true.shape={y_true.shape}."
            )
        y_true, y_pred = y_true.astype(np.float64), y_pred.astype(np.float64)
        if not self.built:
            self._build(y_pred.shape[-1])
        weight = 1.0 if sample_weight is None else sample_weight
        weight = np.asarray(getattr(weight, "data", weight), dtype=np.float64)
        if weight.ndim == 1:
            weight = weight[:, None]
        try:
            weight = np.broadcast_to(weight, y_true.shape)
        except ValueError:
            raise ValueError(
                "sample_weight must broadcast to y_true (one weight per sample, "
                f"or per value). Received: sample_weight of shape "
                f"{np.shape(sample_weight)} for y_true of shape {y_true.shape}"
            ) from None
        self.sum.assign_add(np.sum(y_true * weight, axis=0))
        self.squared_sum.assign_add(np.sum(y_true * y_true * weight, axis=0))
        self.total_mse.assign_add(np.sum((y_true - y_pred) ** 2 * weight, axis=0))
        self.count.assign_add(np.sum(weight, axis=0))
        self.num_samples.assign_add(y_true.size)

    def result(self) -> Any:
        if not self.built:
            return 0.0
        with np.errstate(divide="ignore", invalid="ignore"):
            total = self.squared_sum.data - self.sum.data**2 / self.count.data
            scores = 1.0 - self.total_mse.data / total
        scores = np.where(np.isinf(scores), 0.0, scores)
        if self.class_aggregation == "uniform_average":
            score = scores.mean()
        elif self.class_aggregation == "variance_weighted_average":
            score = np.sum(total * scores) / np.sum(total)
        else:
            score = scores
        score = self._adjusted(score)
        return score.astype(self.dtype) if np.ndim(score) else float(score)

    def _adjusted(self, score: Any) -> Any:
        """``score`` adjusted for ``num_regressors``, where that is defined."""
        p, n = self.num_regressors, float(self.num_samples.data)
        if p == 0:
            return score
        if p > n - 1:
            warn(
                "More independent predictors than datapoints in adjusted R2 "
                "score. Falling back to standard R2 score."
            )
            return score
        if p == n - 1:
            warn(
                "Division by zero in Adjusted R2 score. Falling back to standard "
                "R2 score."
            )
            return score
        return 1.0 - (1.0 - score) * (n - 1.0) / (n - p - 1.0)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "class_aggregation": self.class_aggregation,
            "num_regressors": self.num_regressors,
        }
