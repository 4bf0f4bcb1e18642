"""Metrics: per-sample functions on arrays, and stateful Metric objects.

A metric *function* maps ``(y_true, y_pred)`` (arrays or Tensors) to one NumPy
value per sample, like a loss function but outside the graph. A :class:`Metric`
accumulates over batches: ``update_state(y_true, y_pred, sample_weight=None)``,
``result()``, ``reset_state()`` -- what a fit loop reports. As in Keras 3, its
state lives in variables made by ``add_variable`` (Tensors with ``assign``,
``assign_add``, ``assign_sub`` and ``numpy()``), listed by ``variables``.

``"accuracy"`` means binary, categorical or sparse categorical accuracy depending
on the loss and the shapes; :func:`resolve_accuracy` makes that choice as Keras
does.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np

from glassnet import initializers
from glassnet._registry import (
    Registry,
    dtype_policy_name,
    snake_case,
    without_keras_only,
)
from glassnet.autograd import Tensor

_registry = Registry("metric", module="keras.metrics")


def _arrays(y_true: Any, y_pred: Any, align: bool = True) -> tuple[Any, Any]:
    """Plain arrays; ``y_true`` given ``y_pred``'s rank when they differ by a 1-axis.

    Shapes are checked (ValueError showing both): with ``align``, they must
    broadcast, as for the losses; without (the class metrics), ``y_true`` is
    one-hot of ``y_pred``'s shape or labels of ``y_pred.shape[:-1]``.
    """
    y_true = np.asarray(getattr(y_true, "data", y_true))
    y_pred = np.asarray(getattr(y_pred, "data", y_pred))
    if align:
        if y_true.ndim == y_pred.ndim - 1 and y_pred.shape[-1:] == (1,):
            y_true = y_true[..., None]
        elif y_true.ndim == y_pred.ndim + 1 and y_true.shape[-1:] == (1,):
            y_true = y_true[..., 0]
        try:
            np.broadcast_shapes(y_true.shape, y_pred.shape)
            return y_true, y_pred
        except ValueError:
            expected = ""
    else:
        labels = y_pred.shape[:-1]
        if y_true.shape in (y_pred.shape, labels, (*labels, 1)):
            return y_true, y_pred
        expected = f" (one-hot of shape {y_pred.shape} or labels of shape {labels})"
    raise ValueError(
        f"y_true and y_pred have incompatible shapes{expected}. Received: "
        f"y_true.shape={y_true.shape}, y_pred.shape={y_pred.shape}"
    )


@_registry.register()
def binary_accuracy(y_true: Any, y_pred: Any, threshold: float = 0.5) -> np.ndarray:
    """mean(y_true == (y_pred > threshold), axis=-1)."""
    y_true, y_pred = _arrays(y_true, y_pred)
    hits = y_true == (y_pred > threshold).astype(y_true.dtype)
    return hits.mean(axis=-1, dtype=_float(y_pred))


@_registry.register()
def categorical_accuracy(y_true: Any, y_pred: Any) -> np.ndarray:
    """1.0 where argmax(y_true) == argmax(y_pred) (one-hot targets), else 0.0."""
    y_true, y_pred = _arrays(y_true, y_pred, align=False)
    labels = y_true.argmax(axis=-1) if y_true.ndim == y_pred.ndim else y_true
    return (labels == y_pred.argmax(axis=-1)).astype(_float(y_pred))


@_registry.register()
def sparse_categorical_accuracy(y_true: Any, y_pred: Any) -> np.ndarray:
    """1.0 where the integer label equals argmax(y_pred), else 0.0."""
    y_true, y_pred = _arrays(y_true, y_pred, align=False)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1:] == (1,):
        y_true = y_true[..., 0]
    if y_true.shape != y_pred.shape[:-1]:
        raise ValueError(
            "sparse_categorical_accuracy needs integer labels of shape "
            f"{y_pred.shape[:-1]} (one per sample). Received: "
            f"y_true.shape={y_true.shape}, y_pred.shape={y_pred.shape}"
        )
    return (y_true == y_pred.argmax(axis=-1)).astype(_float(y_pred))


@_registry.register()
def top_k_categorical_accuracy(y_true: Any, y_pred: Any, k: int = 5) -> np.ndarray:
    """1.0 where the true class (one-hot ``y_true``) is among the top ``k``."""
    y_true, y_pred = _arrays(y_true, y_pred, align=False)
    labels = y_true.argmax(axis=-1) if y_true.ndim == y_pred.ndim else y_true
    score = np.take_along_axis(y_pred, labels[..., None].astype(np.intp), axis=-1)
    # NOTE: ties count as hits, as in Keras (in_top_k).
    return ((y_pred > score).sum(axis=-1) < k).astype(_float(y_pred))


@_registry.register("mean_squared_error", "mse")
def mean_squared_error(y_true: Any, y_pred: Any) -> np.ndarray:
    """mean((y_pred - y_true)**2, axis=-1)."""
    y_true, y_pred = _arrays(y_true, y_pred)
    diff = y_pred - y_true
    return np.mean(diff * diff, axis=-1)


@_registry.register("mean_absolute_error", "mae")
def mean_absolute_error(y_true: Any, y_pred: Any) -> np.ndarray:
    """``mean(|y_pred - y_true|, axis=-1)``."""
    y_true, y_pred = _arrays(y_true, y_pred)
    return np.mean(np.abs(y_pred - y_true), axis=-1)


mse, mae = mean_squared_error, mean_absolute_error


def _float(a: np.ndarray) -> Any:
    return a.dtype if np.issubdtype(a.dtype, np.floating) else np.float32


def resolve_accuracy(
    loss: Any, y_true_shape: tuple[Any, ...], y_pred_shape: tuple[Any, ...]
) -> Callable[..., np.ndarray]:
    """The accuracy function that ``"accuracy"`` stands for.

    A binary/sparse/categorical cross-entropy loss decides; otherwise, as in Keras
    3, the shapes: one output unit -> binary, integer labels (lower rank, or a last
    axis of 1 against several outputs) -> sparse categorical, else categorical.
    """
    name = "" if loss is None else loss if isinstance(loss, str) else ""
    if loss is not None and not name:
        name = getattr(loss, "__name__", "") or type(loss).__name__
    name = name.lower()
    if "sparse" in name:
        return sparse_categorical_accuracy
    if "binary" in name:
        return binary_accuracy
    if "categorical" in name:
        return categorical_accuracy
    if y_pred_shape[-1] == 1:
        return binary_accuracy
    if len(y_true_shape) < len(y_pred_shape) or y_true_shape[-1] == 1:
        return sparse_categorical_accuracy
    return categorical_accuracy


@_registry.register("accuracy", "acc")
def accuracy(y_true: Any, y_pred: Any) -> np.ndarray:
    """Binary, sparse or categorical accuracy, chosen from the shapes (Keras 3's
    rule in :func:`resolve_accuracy`, without a loss to go by)."""
    y_true, y_pred = _arrays(y_true, y_pred, align=False)
    return resolve_accuracy(None, y_true.shape, y_pred.shape)(y_true, y_pred)


# --- stateful metrics -------------------------------------------------------------


def _auto_names() -> Any:
    yield "variable"
    yield from (f"variable_{i}" for i in itertools.count(1))


class Metric:
    """Base of stateful metrics (Keras 3's ``keras.metrics.Metric``).

    A subclass makes its state in ``__init__``, after ``super().__init__()``,
    with :meth:`add_variable`; ``update_state`` changes it with the variables'
    ``assign`` / ``assign_add`` / ``assign_sub``, and ``result()`` reads it.
    ``reset_state()`` sets every variable to zeros (Keras's default; override
    it for other starting values).

    >>> class Positives(Metric):
    ...     def __init__(self, name="positives", **kwargs):
    ...         super().__init__(name=name, **kwargs)
    ...         self.count = self.add_variable(shape=(), name="count")
    ...     def update_state(self, y_true, y_pred, sample_weight=None):
    ...         self.count.assign_add(np.sum(np.asarray(y_pred) > 0.5))
    ...     def result(self):
    ...         return self.count
    """

    def __init__(self, name: str | None = None, dtype: Any = None) -> None:
        self.name = name or snake_case(type(self).__name__)
        self.dtype = np.dtype(dtype_policy_name(dtype) or "float32").name
        self._variables: list[Tensor] = []

    def add_variable(
        self,
        shape: Any = (),
        initializer: Any = "zeros",
        dtype: Any = None,
        aggregation: str = "sum",
        name: str | None = None,
    ) -> Tensor:
        """A state variable: a Tensor of ``shape`` filled by ``initializer``,
        in ``dtype`` (default the metric's), not trained. ``aggregation``
        (how replicas combine it) changes nothing in glassnet."""
        if "_variables" not in vars(self):
            raise RuntimeError(
                "You forgot to call `super().__init__()` in the `__init__()` "
                f"method of {type(self).__name__}. Go add it!"
            )
        shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
        dtype = np.dtype(dtype_policy_name(dtype) or self.dtype)
        init = initializers.get(initializer)
        value = np.asarray(init(shape, dtype=dtype.name), dtype=dtype)
        if name is None:  # Keras's: the first of variable, variable_1, ... free
            taken = {v.name.rsplit("/", 1)[-1] for v in self._variables}
            name = next(n for n in _auto_names() if n not in taken)
        variable = Tensor(value, name=f"{self.name}/{name}")
        self._variables.append(variable)
        return variable

    def add_weight(
        self, shape: Any = (), initializer: Any = None, dtype: Any = None, name=None
    ) -> Tensor:
        """Keras's older name for :meth:`add_variable`."""
        return self.add_variable(shape, initializer or "zeros", dtype, name=name)

    @property
    def variables(self) -> list[Tensor]:
        """The metric's variables, then those of the metrics it holds."""
        found = list(vars(self).get("_variables", ()))
        for value in vars(self).values():
            for item in value if isinstance(value, (list, tuple)) else (value,):
                if isinstance(item, Metric) and item is not self:
                    found.extend(item.variables)
        return found

    def reset_state(self) -> None:
        """Set every variable to zeros (Keras 3's default)."""
        for variable in self.variables:
            variable.assign(np.zeros_like(variable.data))

    def update_state(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError

    def result(self) -> Any:
        raise NotImplementedError

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Update with one batch and return the running result."""
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Metric:
        return cls(**without_keras_only(cls, config))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}>"


_registry.base = Metric


def _weighted_sums(
    values: Any, sample_weight: Any, reduce: Callable = np.mean
) -> tuple[float, float]:
    """``(total, count)`` a batch of ``values`` adds to a Mean or a Sum, as
    Keras reduces them (its ``reduce_to_samplewise_values``): per sample.

    Without weights each sample's values are reduced (``reduce``: mean or
    sum) to one value and counts once. Weights line up with the values'
    first axes: values with more axes are first reduced to the weights'
    rank; weights (batch, steps) weigh each step, and a sample then counts
    the mean of its weights. So a batch of longer sequences does not count
    for more samples.
    """
    values = np.asarray(getattr(values, "data", values), dtype=np.float64)
    if sample_weight is None:
        if values.ndim > 1:
            values = reduce(values, axis=tuple(range(1, values.ndim)))
        return float(values.sum()), float(len(values) if values.ndim else 1)
    weight = np.asarray(getattr(sample_weight, "data", sample_weight), np.float64)
    shape = values.shape
    if weight.ndim == values.ndim + 1 and weight.shape[-1:] == (1,):
        weight = weight[..., 0]
    if weight.ndim < values.ndim:
        values = reduce(values, axis=tuple(range(weight.ndim, values.ndim)))
    try:
        weight = np.broadcast_to(weight, values.shape)
    except ValueError:
        raise ValueError(
            "sample_weight must broadcast to the values from their first axis "
            "(one weight per sample, or per sample and step). Received: "
            f"sample_weight of shape {np.shape(sample_weight)} for values of "
            f"shape {shape}"
        ) from None
    weighted = values * weight
    if weighted.ndim > 1:
        steps = tuple(range(1, weighted.ndim))
        weighted, weight = reduce(weighted, axis=steps), weight.mean(axis=steps)
    return float(weighted.sum()), float(weight.sum())


def _add_to(variable: Tensor, value: float) -> None:
    # NOTE: in place without a version bump: a metric's state never enters a
    # graph, and this runs once per batch.
    np.add(variable.data, value, out=variable.data)


@_registry.register()
class Mean(Metric):
    """The (weighted) mean of all values seen: sum(w v) / sum(w).

    NOTE: its variables, ``total`` and ``count`` (as Keras names them), sum in
    float64, so long runs do not lose the small batches' share.
    """

    def __init__(self, name: str | None = None, dtype: Any = None) -> None:
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable((), "zeros", "float64", name="total")
        self.count = self.add_variable((), "zeros", "float64", name="count")

    def update_state(self, values: Any, sample_weight: Any = None) -> None:
        total, count = _weighted_sums(values, sample_weight)
        _add_to(self.total, total)
        _add_to(self.count, count)

    def result(self) -> float:
        count = float(self.count.data)
        return float(self.total.data) / count if count else 0.0


@_registry.register()
class Sum(Metric):
    """The (weighted) sum of all values seen (one float64 variable, ``total``)."""

    def __init__(self, name: str | None = None, dtype: Any = None) -> None:
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable((), "zeros", "float64", name="total")

    def update_state(self, values: Any, sample_weight: Any = None) -> None:
        _add_to(self.total, _weighted_sums(values, sample_weight, np.sum)[0])

    def result(self) -> float:
        return float(self.total.data)


class MeanMetricWrapper(Mean):
    """The weighted mean of a per-sample metric function over all batches."""

    def __init__(
        self, fn: Callable[..., Any], name: str | None = None, dtype: Any = None, **kw
    ) -> None:
        super().__init__(name=name or getattr(fn, "__name__", None), dtype=dtype)
        self.fn, self.fn_kwargs = fn, kw

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        super().update_state(self.fn(y_true, y_pred, **self.fn_kwargs), sample_weight)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), **self.fn_kwargs}


def _wrapper(name: str, fn: Callable[..., Any], **defaults: Any) -> type:
    def __init__(self, name: str | None = None, dtype: Any = None, **kwargs: Any):
        MeanMetricWrapper.__init__(
            self, fn, name=name or fn.__name__, dtype=dtype, **{**defaults, **kwargs}
        )

    doc = f"Running weighted mean of :func:`{fn.__name__}`."
    cls = type(name, (MeanMetricWrapper,), {"__init__": __init__, "__doc__": doc})
    cls.__module__ = __name__
    _registry.add(name, cls)
    return cls


BinaryAccuracy = _wrapper("BinaryAccuracy", binary_accuracy, threshold=0.5)
CategoricalAccuracy = _wrapper("CategoricalAccuracy", categorical_accuracy)
SparseCategoricalAccuracy = _wrapper(
    "SparseCategoricalAccuracy", sparse_categorical_accuracy
)
TopKCategoricalAccuracy = _wrapper(
    "TopKCategoricalAccuracy", top_k_categorical_accuracy, k=5
)
MeanSquaredError = _wrapper("MeanSquaredError", mean_squared_error)
MeanAbsoluteError = _wrapper("MeanAbsoluteError", mean_absolute_error)


@_registry.register()
class RootMeanSquaredError(MeanSquaredError):
    """sqrt of the running (weighted) mean squared error."""

    def __init__(self, name: str | None = None, dtype: Any = None) -> None:
        super().__init__(name=name or "root_mean_squared_error", dtype=dtype)

    def result(self) -> float:
        return float(np.sqrt(super().result()))


def get(identifier: Any) -> Any:
    """A metric from a name (function names give the function; class names an
    instance), a Metric, a callable or a config dict."""
    return _registry.get(identifier)


def serialize(metric: Any) -> Any:
    """A metric as Keras 3 writes it: a name stays, a function gives its
    registered name, a Metric Keras's ``{"module", "class_name", "config",
    "registered_name"}``."""
    return _registry.serialize(metric)


def deserialize(config: Any) -> Any:
    return get(config)


# NOTE: the metrics of the submodules build on the classes above and register
# themselves when imported; they are re-exported here, as Keras has them all
# in ``keras.metrics``.
from glassnet.metrics import (  # noqa: E402
    confusion,
    correlation,
    f_score,
    iou,
    probabilistic,
)
from glassnet.metrics.confusion import *  # noqa: E402, F403
from glassnet.metrics.correlation import *  # noqa: E402, F403
from glassnet.metrics.f_score import *  # noqa: E402, F403
from glassnet.metrics.iou import *  # noqa: E402, F403
from glassnet.metrics.probabilistic import *  # noqa: E402, F403

__all__ = [
    "Metric",
    "Mean",
    "Sum",
    "MeanMetricWrapper",
    "BinaryAccuracy",
    "CategoricalAccuracy",
    "SparseCategoricalAccuracy",
    "TopKCategoricalAccuracy",
    "MeanSquaredError",
    "MeanAbsoluteError",
    "RootMeanSquaredError",
    *probabilistic.__all__,
    *confusion.__all__,
    *f_score.__all__,
    *iou.__all__,
    *correlation.__all__,
    "accuracy",
    "binary_accuracy",
    "categorical_accuracy",
    "sparse_categorical_accuracy",
    "top_k_categorical_accuracy",
    "mean_squared_error",
    "mean_absolute_error",
    "mse",
    "mae",
    "resolve_accuracy",
    "get",
    "serialize",
    "deserialize",
]
