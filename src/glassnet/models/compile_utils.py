"""What ``compile`` configures besides the optimizer: the loss and the metrics
(Keras 3's ``CompileLoss`` and ``CompileMetrics``).

:class:`CompileLoss` turns the model's output for a batch into the root of the
backward pass, the gradient that seeds it, and the scalar loss the logs report
(regularization penalties included). :class:`CompileMetrics` keeps the metrics
given to ``compile`` and resolves ``"accuracy"`` as Keras does.

Both hold one output's loss and metrics today; a model with several outputs
will keep one loss and one list of metrics per output here, summed (with
``loss_weights``) and named per output.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from glassnet import losses
from glassnet import metrics as metrics_module
from glassnet._warnings import warn
from glassnet.autograd import Tensor, no_grad
from glassnet.layers.call_context import losses_added


def name_of(obj: Any) -> str:
    """The name a loss or metric goes by in messages and logs."""
    if isinstance(obj, str):
        return obj
    return getattr(obj, "name", None) or getattr(obj, "__name__", type(obj).__name__)


def target_kind(loss: Any) -> str | None:
    """What targets ``loss`` (a resolved loss) compares the output with:
    ``"labels"`` (sparse categorical cross-entropy: integer class labels),
    ``"same"`` (glassnet's other losses: targets of the output's shape) or None
    (a loss glassnet does not know: either)."""
    fn = getattr(loss, "fn", loss)  # NOTE: a Loss object wraps its function
    if fn is losses.sparse_categorical_crossentropy:
        return "labels"
    if loss is not None and getattr(fn, "__module__", None) == losses.__name__:
        return "same"
    return None


class CompileLoss:
    """The loss given to ``compile``: a name, a per-sample function
    ``(y_true, y_pred) -> Tensor (batch, ...)`` or a :class:`~glassnet.losses.Loss`.

    Calling it on a batch gives ``(root, seed, value)``: ``root.backward(seed)``
    fills the gradients of the scalar ``value``, the mean (or, for a Loss, its
    reduction) of the weighted per-sample losses, plus the ``penalties``.

    NOTE: for a per-sample loss the mean over the batch is not a graph node: its
    gradient, ``sample_weight / n`` (or ``1 / n``), seeds the backward pass from
    the per-sample losses directly, one op fewer per step.
    """

    def __init__(self, loss: Any) -> None:
        self.loss = loss
        self.fn = loss
        if loss is not None and (isinstance(loss, (str, dict)) or not callable(loss)):
            self.fn = losses.get(loss)
        self.targets = target_kind(self.fn)
        self.reduction: str | None = None
        self.regularized = False
        self.built = False
        self._seeds: dict[tuple[int, ...], np.ndarray] = {}

    def build(self, model: Any) -> None:
        """Ready for a fit / evaluate of ``model``: how the loss reduces, and
        whether its weights have regularization penalties. Without a compiled
        loss the model's own losses are the loss; a batch with none at all is
        an error when it is computed (``__call__``)."""
        reduction = getattr(self.fn, "reduction", None)
        if reduction is not None and not hasattr(self.fn, "call"):
            reduction = "object"  # a Loss-like object: only its __call__ is known
        self.reduction = reduction
        self._seeds = {}
        self.regularized = any(layer._regularizers for layer in model._flatten_layers())
        self.built = True

    def __getstate__(self) -> dict[str, Any]:
        # NOTE: the gradient seeds are a cache per batch size, made again on use.
        return {**self.__dict__, "_seeds": {}}

    def penalties(self, model: Any) -> Sequence[Tensor]:
        """The model's losses after the forward pass just run (scalars): what
        its layers added (``add_loss``, activity penalties) and the weights'
        regularization penalties."""
        return model.losses if self.regularized or losses_added() else ()

    def __call__(
        self,
        y_true: np.ndarray,
        y_pred: Tensor,
        sample_weight: np.ndarray | None,
        penalties: Sequence[Tensor] = (),
    ) -> tuple[Tensor, np.ndarray | None, float]:
        """``(root, seed, value)`` for one batch: ``y_true`` ``(batch, ...)``,
        ``y_pred`` the model's output Tensor, ``sample_weight`` ``(batch,)`` or
        None, ``penalties`` scalar Tensors added to ``value``. Compiled
        without a loss, the penalties are the whole loss: ``root`` is None."""
        fn, reduction, sw = self.fn, self.reduction, sample_weight
        if fn is None:
            if not penalties:
                raise ValueError(
                    "No loss to compute. Provide a `loss` argument in `compile()`."
                )
            return None, None, sum(float(penalty.data) for penalty in penalties)
        if reduction is None:
            values = fn(y_true, y_pred)
        elif reduction in ("sum_over_batch_size", "mean", "sum"):
            values = fn.call(y_true, y_pred)
        else:
            values = fn(y_true, y_pred, sample_weight=sw)
            sw = None
        data = values.data
        if data.ndim == 0:
            if sw is not None:
                raise ValueError(
                    "sample_weight / class_weight need a loss that returns one "
                    f"value per sample; {name_of(self.loss)!r} returned a scalar."
                )
            root, seed, value = values, None, float(data)
        else:
            count = 1 if reduction == "sum" else data.size
            root = values
            if sw is None:
                seed = self._seeds.get(data.shape)
                if seed is None:
                    seed = np.full(data.shape, 1.0 / count, dtype=data.dtype)
                    self._seeds[data.shape] = seed
                value = float(data.sum() / count)
            else:
                weights = sw.reshape((len(sw),) + (1,) * (data.ndim - 1))
                seed = np.broadcast_to(weights / count, data.shape).astype(data.dtype)
                value = float((data * weights).sum() / count)
        for penalty in penalties:
            value += float(penalty.data)
        return root, seed, value


class _MetricSlot:
    """One compiled metric: a name, and a per-sample function or a stateful Metric."""

    def __init__(self, name: str, fn: Any) -> None:
        self.name = name
        self.fn = fn
        self.stateful = hasattr(fn, "update_state") and hasattr(fn, "result")
        self.total = 0.0
        self.count = 0

    def reset(self) -> None:
        self.total, self.count = 0.0, 0
        if self.stateful:
            self.fn.reset_state()

    def update(self, y: np.ndarray, p: np.ndarray) -> None:
        """Add one batch (unweighted, like Keras's ``compile(metrics=...)``)."""
        if self.stateful:
            self.fn.update_state(y, p)
            return
        with no_grad():
            values = self.fn(y, p)
        values = np.asarray(getattr(values, "data", values), dtype=np.float64)
        if values.ndim == 0:
            self.total += float(values) * len(p)
        else:
            self.total += float(values.reshape(len(p), -1).mean(axis=1).sum())
        self.count += len(p)

    def result(self) -> float:
        if self.stateful:
            return float(np.asarray(getattr(r := self.fn.result(), "data", r)))
        return self.total / self.count if self.count else 0.0


def get_metric(
    identifier: Any, loss: Any, y_true_shape: tuple, y_pred_shape: tuple
) -> Any:
    """The metric ``identifier`` stands for: ``"accuracy"`` / ``"acc"`` is binary,
    sparse categorical or categorical accuracy, chosen from the loss and the
    shapes (:func:`glassnet.metrics.resolve_accuracy`); anything else goes
    through :func:`glassnet.metrics.get`."""
    if _is_accuracy(identifier):
        return metrics_module.resolve_accuracy(loss, y_true_shape, y_pred_shape)
    return metrics_module.get(identifier)


def _is_accuracy(identifier: Any) -> bool:
    return isinstance(identifier, str) and identifier in ("accuracy", "acc")


class CompileMetrics:
    """The metrics given to ``compile``: names, functions ``(y_true, y_pred) ->
    per-sample values`` or stateful :class:`~glassnet.metrics.Metric` objects.

    Every one is resolved here, so an unknown name fails at ``compile``; only
    which accuracy ``"accuracy"`` means waits for :meth:`build` on the first
    data (it depends on the targets' shape). Then per epoch: :meth:`reset`,
    :meth:`update` per batch, :meth:`result` for the logs.

    To a custom ``train_step`` it is Keras 3's ``compile_metrics`` metric, one
    of ``model.metrics``: :meth:`update_state` (builds itself on first use),
    :meth:`reset_state`, and :meth:`result`, a dict. It also keeps the
    model's :attr:`loss_tracker` (Keras's ``Mean`` named ``"loss"``), so that
    an ``evaluate`` working on its own copy of the metrics copies it too.

    NOTE: the built-in steps sum an epoch's loss in plain floats and leave
    the result in ``pending``; the tracker takes it the next time it is
    asked for (a Mean update per epoch would cost the seed model's tiny
    epochs more than their bookkeeping).
    """

    name = "compile_metrics"

    def __init__(self, metrics: Any = None, loss: Any = None) -> None:
        if metrics is None:
            metrics = []
        elif isinstance(metrics, (str, Callable)) and not isinstance(metrics, list):
            metrics = [metrics]
        if isinstance(metrics, dict) or not isinstance(metrics, (list, tuple)):
            raise TypeError(
                "metrics must be a list of names, functions or Metric objects. "
                f"Received: metrics={metrics!r}"
            )
        if any(spec is None for spec in metrics):
            raise TypeError(
                "metrics must be names, functions or Metric objects, not None. "
                f"Received: metrics={metrics!r}"
            )
        self.specs = list(metrics)
        self._resolved = [
            None if _is_accuracy(spec) else metrics_module.get(spec)
            for spec in self.specs
        ]
        self.slots: list[_MetricSlot] | None = None
        self.loss = loss
        self.pending: tuple[float, int] | None = None
        self._loss_tracker = metrics_module.Mean(name="loss")

    @property
    def loss_tracker(self) -> Any:
        """The mean loss so far (a Mean named ``"loss"``), up to date."""
        tracker, pending = self._loss_tracker, self.pending
        if pending is not None:
            self.pending = None
            tracker.reset_state()
            if pending[1]:
                tracker.update_state(pending[0], pending[1])
        return tracker

    @property
    def built(self) -> bool:
        return self.slots is not None

    def __len__(self) -> int:
        """How many metrics (0 before :meth:`build`): ``if metrics:`` skips the
        per-batch update when there are none."""
        return len(self.slots or ())

    def build(self, loss: Any, y_true_shape: tuple, y_pred_shape: tuple) -> None:
        """Resolve ``"accuracy"`` for targets and outputs of these shapes."""
        self.slots = [
            _MetricSlot(
                name_of(spec), get_metric(spec, loss, y_true_shape, y_pred_shape)
            )
            if fn is None
            else _MetricSlot(name_of(spec if isinstance(spec, str) else fn), fn)
            for spec, fn in zip(self.specs, self._resolved)
        ]

    def reset(self) -> None:
        for slot in self.slots or ():  # NOTE: unbuilt when no targets came
            slot.reset()

    def update(self, y_true: np.ndarray, y_pred: np.ndarray) -> None:
        for slot in self.slots:
            slot.update(y_true, y_pred)

    def result(self, prefix: str = "") -> dict[str, float]:
        """``{prefix + name: value}`` in the order given to ``compile``."""
        return {prefix + slot.name: slot.result() for slot in self.slots or ()}

    # --- Keras's Metric interface, for custom steps ----------------------------------
    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Add a batch (Tensors or arrays; unweighted, as ``compile(metrics=)``
        is in Keras)."""
        y_true = np.asarray(getattr(y_true, "data", y_true))
        y_pred = np.asarray(getattr(y_pred, "data", y_pred))
        if not self.built:
            self.build(self.loss, y_true.shape, (None, *y_pred.shape[1:]))
        self.update(y_true, y_pred)

    def reset_state(self) -> None:
        if self.built:
            self.reset()


def logs_as_result(logs: dict[str, float], return_dict: bool) -> Any:
    """Keras's return value: the logs, the loss alone, or ``[loss, *metrics]``."""
    if return_dict:
        return logs
    values = list(logs.values())
    return values[0] if len(values) == 1 else values


def warn_not_finite(value: float, where: str) -> None:
    """The one warning for a NaN or infinite training loss (the step that
    produced it left the weights alone)."""
    warn(
        f"{where}: the loss is {value}; training stopped before this batch changed "
        "the weights. Try a lower learning rate, scaled inputs, or check the data.",
        RuntimeWarning,
    )
