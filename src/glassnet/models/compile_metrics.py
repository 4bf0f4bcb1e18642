"""The metrics given to ``compile`` (Keras 3's ``CompileMetrics``): names,
functions or Metric objects, resolved when compiled (``"accuracy"`` as Keras
resolves it, from the loss and the output), kept per output for a model of
several outputs and named ``<output>_<metric>`` as Keras 3 names them, with
``weighted_metrics`` taking the sample weights. As Keras's ``MeanMetricWrapper``
does, a metric function (or a Metric that wraps one) leaves out the steps an
output's mask drops (``Embedding(mask_zero=True)``'s padding).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from glassnet import metrics as metrics_module
from glassnet import tree
from glassnet.autograd import no_grad
from glassnet.layers import masking

if TYPE_CHECKING:
    from glassnet.models.compile_utils import CompileLosses


def name_of(obj: Any) -> str:
    """The name a loss or metric goes by in messages and logs."""
    if isinstance(obj, str):
        return obj
    return getattr(obj, "name", None) or getattr(obj, "__name__", type(obj).__name__)


class _MetricSlot:
    """One compiled metric: a name, a per-sample function or a stateful
    Metric, the output it watches (``index``; None: the model's only one)
    and whether it takes the sample weights (``weighted_metrics``)."""

    def __init__(
        self, name: str, fn: Any, index: int | None = None, weighted: bool = False
    ) -> None:
        self.name = name
        self.fn = fn
        self.index = index
        self.weighted = weighted
        self.stateful = hasattr(fn, "update_state") and hasattr(fn, "result")
        self.total = 0.0
        self.count = 0

    def reset(self) -> None:
        self.total, self.count = 0.0, 0
        if self.stateful:
            self.fn.reset_state()

    def update(
        self, y: np.ndarray, p: np.ndarray, sw: Any = None, mask: Any = None
    ) -> None:
        """Add one batch; ``sw`` (per-sample weights) only for a weighted metric:
        its mean is then the weighted mean over the samples, as Keras's.
        ``mask`` (the output's, (batch, steps) or None) leaves the masked steps
        out of a metric function or a MeanMetricWrapper, as in Keras."""
        if self.stateful:
            if mask is not None and isinstance(
                self.fn, metrics_module.MeanMetricWrapper
            ):
                sw = _masked_weights(sw, mask)
            if sw is None:
                self.fn.update_state(y, p)
            else:
                self.fn.update_state(y, p, sample_weight=sw)
            return
        with no_grad():
            values = self.fn(y, p)
        values = np.asarray(getattr(values, "data", values), dtype=np.float64)
        weights = _masked_weights(sw, mask) if mask is not None else None
        if weights is not None and _fits(weights, values):
            total, count = metrics_module._weighted_sums(values, weights)
            self.total += total
            self.count += count
        elif sw is not None:
            if values.ndim:
                values = values.reshape(len(p), -1).mean(axis=1)
            per_sample = np.broadcast_to(values, (len(p),))
            self.total += float((per_sample * sw).sum())
            self.count += float(np.sum(sw))
        elif values.ndim == 0:
            self.total += float(values) * len(p)
            self.count += len(p)
        else:
            self.total += float(values.reshape(len(p), -1).mean(axis=1).sum())
            self.count += len(p)

    def result(self) -> Any:
        """A float, or an array for a metric with one result per class or
        threshold (``F1Score()``, ``Precision(thresholds=[...])``), as Keras
        logs it."""
        if self.stateful:
            value = np.asarray(getattr(r := self.fn.result(), "data", r))
            return float(value) if value.ndim == 0 else value
        return self.total / self.count if self.count else 0.0


def _masked_weights(sw: Any, mask: Any) -> np.ndarray | None:
    """Keras's weights of a masked output's metric values: the mask as 0 / 1
    (batch, steps), times the per-sample weights ``sw`` where there are any
    (None without a mask)."""
    if mask is None:
        return sw
    kept = np.asarray(getattr(mask, "data", mask), dtype=np.float64)
    if sw is None:
        return kept
    sw = np.asarray(sw, dtype=np.float64)
    return kept * sw.reshape(sw.shape + (1,) * (kept.ndim - sw.ndim))


def _fits(weights: np.ndarray, values: np.ndarray) -> bool:
    """Whether ``weights`` cover the first axes of ``values`` (a mask of
    another output's steps is not applied, as for the losses)."""
    return weights.shape == values.shape[: weights.ndim]


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


def _metric_list(metrics: Any, argument: str) -> list[Any]:
    """One output's metrics as a list (None: none), each checked not None."""
    if metrics is None:
        return []
    if isinstance(metrics, (str, Callable)) and not isinstance(metrics, list):
        metrics = [metrics]
    if isinstance(metrics, dict) or not isinstance(metrics, (list, tuple)):
        raise TypeError(
            f"{argument} must be a list of names, functions or Metric objects. "
            f"Received: {argument}={metrics!r}"
        )
    # NOTE: Keras flattens them: [["mae"]] of a model of one output is ["mae"]
    metrics = [
        spec
        for entry in metrics
        for spec in (entry if isinstance(entry, (list, tuple)) else [entry])
    ]
    if any(spec is None for spec in metrics):
        raise TypeError(
            f"{argument} must be names, functions or Metric objects, not None. "
            f"Received: {argument}={metrics!r}"
        )
    return list(metrics)


class _Group:
    """The metrics of one output (``index``, None for a model of one), given
    to ``metrics`` or (``weighted``) to ``weighted_metrics``, resolved except
    ``"accuracy"``; ``prefix`` names them in the logs (``"cls_"``)."""

    def __init__(
        self, specs: list, index: Any, prefix: str, loss: Any, weighted: bool
    ) -> None:
        self.specs, self.index, self.prefix = specs, index, prefix
        self.loss, self.weighted = loss, weighted
        self.resolved = [
            None if _is_accuracy(spec) else metrics_module.get(spec) for spec in specs
        ]


class CompileMetrics:
    """The metrics given to ``compile``: names, functions ``(y_true, y_pred) ->
    per-sample values`` or stateful :class:`~glassnet.metrics.Metric` objects;
    ``weighted_metrics`` as well, which take the sample weights.

    Every one is resolved here, so an unknown name fails at ``compile``; only
    which accuracy ``"accuracy"`` means waits for :meth:`build` on the first
    data (it depends on the targets' shape). Then per epoch: :meth:`reset`,
    :meth:`update` per batch, :meth:`result` for the logs. For a model of
    several ``outputs``, ``metrics`` and ``weighted_metrics`` give each
    output its own (a list of one entry per output, or a dict by output
    name), logged as ``<output>_<metric>``; ``output_losses`` are then the
    resolved losses of the outputs, and :attr:`loss_trackers` the
    ``<output>_loss`` means of ``model.metrics``.

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

    def __init__(
        self,
        metrics: Any = None,
        loss: Any = None,
        weighted_metrics: Any = None,
        outputs: Any = None,
        output_losses: CompileLosses | None = None,
    ) -> None:
        self.groups: list[_Group] = []
        self.outputs = outputs
        arguments = (("metrics", metrics), ("weighted_metrics", weighted_metrics))
        for argument, given in arguments:
            weighted = argument == "weighted_metrics"
            if outputs is None:
                specs = _metric_list(given, argument)
                self.groups.append(_Group(specs, None, "", loss, weighted))
                continue
            if given is None:
                continue
            if not isinstance(given, (list, tuple, dict)):
                raise TypeError(
                    f"{argument} of a model of several outputs must be a list (one "
                    "entry per output) or a dict (by output name). Received: "
                    f"{argument}={given!r}"
                )
            for i, entry in enumerate(outputs.per_output(given, argument)):
                specs = _metric_list(entry, argument)
                if not specs:
                    continue
                fn = output_losses.functions[i] if output_losses else None
                # NOTE: Keras 3 names an output's metrics by it only when
                # there are several outputs
                prefix = f"{outputs.names[i]}_" if outputs.count > 1 else ""
                self.groups.append(_Group(specs, i, prefix, fn, weighted))
        self.specs = [spec for group in self.groups for spec in group.specs]
        self.slots: list[_MetricSlot] | None = None
        self.loss = loss
        self.pending: tuple[float, int] | None = None
        self._loss_tracker = metrics_module.Mean(name="loss")
        names = output_losses.loss_names if output_losses is not None else []
        self._loss_trackers = [metrics_module.Mean(name=name) for name in names]
        self.pending_outputs: list[tuple[float, int]] | None = None

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
    def loss_trackers(self) -> list[Any]:
        """Each output's mean loss so far (Means named ``"<output>_loss"``),
        up to date; empty for a model of one loss."""
        pending, self.pending_outputs = self.pending_outputs, None
        for tracker, (value, count) in zip(self._loss_trackers, pending or ()):
            tracker.reset_state()
            if count:
                tracker.update_state(value, count)
        return self._loss_trackers

    @property
    def built(self) -> bool:
        return self.slots is not None

    def __len__(self) -> int:
        """How many metrics (0 before :meth:`build`): ``if metrics:`` skips the
        per-batch update when there are none."""
        return len(self.slots or ())

    def build(self, loss: Any, y_true_shape: Any, y_pred_shape: Any) -> None:
        """Resolve ``"accuracy"`` for targets and outputs of these shapes (for
        several outputs, a list of shapes per output)."""
        slots, taken = [], set()
        for group in self.groups:
            shapes = y_true_shape, y_pred_shape
            if group.index is not None:
                shapes = y_true_shape[group.index], y_pred_shape[group.index]
            else:
                group.loss = loss
            for spec, fn in zip(group.specs, group.resolved):
                if fn is None:
                    fn = get_metric(spec, group.loss, *shapes)
                    name = name_of(spec)
                else:
                    name = name_of(spec if isinstance(spec, str) else fn)
                name = _unique(group.prefix, name, group.weighted, taken)
                slots.append(_MetricSlot(name, fn, group.index, group.weighted))
        self.slots = slots

    def reset(self) -> None:
        for slot in self.slots or ():  # NOTE: unbuilt when no targets came
            slot.reset()

    def update(
        self, y_true: Any, y_pred: Any, sample_weight: Any = None, masks: Any = None
    ) -> None:
        """Add one batch: arrays for a model of one output, else lists of one
        array per output (``sample_weight`` and ``masks`` None or one per
        output; :func:`output_masks`)."""
        for slot in self.slots:
            sw = sample_weight if slot.weighted else None
            i = slot.index
            if i is None:
                slot.update(y_true, y_pred, sw, masks)
            else:
                slot.update(
                    y_true[i],
                    y_pred[i],
                    None if sw is None else sw[i],
                    None if masks is None else masks[i],
                )

    def result(self, prefix: str = "") -> dict[str, float]:
        """``{prefix + name: value}`` in the order given to ``compile``."""
        return {prefix + slot.name: slot.result() for slot in self.slots or ()}

    # --- Keras's Metric interface, for custom steps ----------------------------------
    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Add a batch (Tensors or arrays; lists of them for several outputs;
        the masks of output Tensors are read, as Keras reads them)."""
        masks = output_masks(y_pred)
        outputs = self.outputs
        if outputs is not None:
            if not isinstance(y_true, list) or len(y_true) != outputs.count:
                y_true = outputs.targets(y_true)
            y_true = [np.asarray(getattr(y, "data", y)) for y in y_true]
            y_pred = [np.asarray(getattr(p, "data", p)) for p in tree.flatten(y_pred)]
            sample_weight = outputs.sample_weights(sample_weight)
            shapes = [(None, *p.shape[1:]) for p in y_pred]
            if not self.built:
                self.build(self.loss, [y.shape for y in y_true], shapes)
        else:
            y_true = np.asarray(getattr(y_true, "data", y_true))
            y_pred = np.asarray(getattr(y_pred, "data", y_pred))
            if not self.built:
                self.build(self.loss, y_true.shape, (None, *y_pred.shape[1:]))
        if sample_weight is not None:
            sample_weight = tree.map_structure(
                lambda w: None if w is None else np.asarray(getattr(w, "data", w)),
                sample_weight,
            )
        self.update(y_true, y_pred, sample_weight, masks)

    def reset_state(self) -> None:
        if self.built:
            self.reset()


def output_masks(y_pred: Any) -> Any:
    """The masks of a model's outputs (Tensors; see
    :mod:`glassnet.layers.masking`): None where none has one, the mask of a
    single output, else a list with one mask (or None) per output."""
    if not masking.SWITCH.active:
        return None
    if not isinstance(y_pred, (list, tuple, dict)):
        return masking.get_mask(y_pred)
    masks = [masking.get_mask(p) for p in tree.flatten(y_pred)]
    return masks if any(m is not None for m in masks) else None


def _unique(prefix: str, name: str, weighted: bool, taken: set[str]) -> str:
    """A metric's name in the logs, as Keras 3 makes it unique: a second
    metric of one name gets ``_1``, ``_2``, ...; a weighted metric named as
    an unweighted one becomes ``weighted_<name>``."""
    full = prefix + name
    if full in taken and weighted:
        full = f"{prefix}weighted_{name}"
    base, count = full, 1
    while full in taken:
        full, count = f"{base}_{count}", count + 1
    taken.add(full)
    return full
