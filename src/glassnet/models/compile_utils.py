"""What ``compile`` configures besides the optimizer: the loss and the metrics
(Keras 3's ``CompileLoss`` and ``CompileMetrics``).

:class:`CompileLoss` turns the model's output for a batch into the root of the
backward pass, the gradient that seeds it, and the scalar loss the logs report
(regularization penalties included). :class:`CompileMetrics` keeps the metrics
given to ``compile`` and resolves ``"accuracy"`` as Keras does.

A model of several outputs (:class:`~glassnet.models.outputs.Outputs`) keeps
one :class:`CompileLoss` per output in :class:`CompileLosses`, whose total is
the sum of the losses times their ``loss_weights``, and its metrics per
output, named ``<output>_<metric>`` as Keras 3 names them.
"""

from __future__ import annotations

from _thread import get_ident
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from glassnet import losses, ops, tree
from glassnet import metrics as metrics_module
from glassnet._warnings import warn
from glassnet.autograd import Tensor, no_grad
from glassnet.layers import masking
from glassnet.layers.call_context import losses_added
from glassnet.models.outputs import Outputs


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


def masked_weights(
    sw: np.ndarray | None, mask: Any, data: np.ndarray, mean: bool
) -> np.ndarray:
    """Keras's weights of a masked output's losses ``data`` (batch, steps,
    ...): the per-sample weights ``sw`` (or 1) times the mask (batch, steps),
    scaled for a mean by ``size / kept`` so that the mean is over the kept
    steps (a mask that does not fit the losses' axes is not applied)."""
    weights = (
        np.ones(1, data.dtype)
        if sw is None
        else sw.reshape((len(sw),) + (1,) * (data.ndim - 1))
    )
    kept = np.asarray(getattr(mask, "data", mask), data.dtype)
    if kept.shape != data.shape[: kept.ndim]:
        return np.broadcast_to(weights, data.shape)
    if mean:
        kept = kept * (kept.size / (kept.sum() + 1e-7))  # Keras's epsilon
    return weights * kept.reshape(kept.shape + (1,) * (data.ndim - kept.ndim))


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

    #: what ``evaluate``'s list gives first, the rest by sorted name (None:
    #: the logs' own order)
    log_order: list[str] | None = None

    def __init__(self, loss: Any, weight: float | None = None) -> None:
        self.loss = loss
        self.weight = weight  # NOTE: None, not 1.0: the same bits as before
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
            if self.weight is not None:
                seed = np.asarray(self.weight, dtype=data.dtype)
        else:
            count = 1 if reduction == "sum" else data.size
            root = values
            mask = masking.get_mask(y_pred) if masking.SWITCH.active else None
            if mask is not None:
                weights = masked_weights(sw, mask, data, reduction != "sum")
                seed = np.broadcast_to(weights / count, data.shape).astype(data.dtype)
                value = float((data * weights).sum() / count)
            elif sw is None:
                seed = self._seeds.get(data.shape)
                if seed is None:
                    seed = np.full(data.shape, 1.0 / count, dtype=data.dtype)
                    self._seeds[data.shape] = seed
                value = float(data.sum() / count)
            else:
                weights = sw.reshape((len(sw),) + (1,) * (data.ndim - 1))
                seed = np.broadcast_to(weights / count, data.shape).astype(data.dtype)
                value = float((data * weights).sum() / count)
            if self.weight is not None:
                seed = seed * np.asarray(self.weight, dtype=data.dtype)
        if self.weight is not None:
            value *= self.weight
        for penalty in penalties:
            value += float(penalty.data)
        return root, seed, value


class CompileLosses:
    """The losses of a model of several outputs: a :class:`CompileLoss` per
    output that has one, each with its ``loss_weights`` entry (None: 1).

    Called on a batch it gives ``(root, None, value)`` as :class:`CompileLoss`
    does: ``root`` the scalar ``sum(weight * loss)`` over the outputs (one
    backward pass for all of them), ``value`` that sum plus the penalties,
    Keras 3's total ``loss``; :attr:`values` keeps each output's own loss,
    unweighted, for the logs' ``<output>_loss``.

    NOTE: :attr:`values` are kept per thread: an ``evaluate`` in another
    thread runs the same losses while ``fit`` reads its own.
    """

    def __init__(
        self, outputs: Any, specs: list[Any], weights: list[Any], order: list[int]
    ) -> None:
        """``specs`` and ``weights``: one per output (None: none); ``order``:
        the outputs in the order their losses are logged."""
        self.outputs = outputs
        names = outputs.names
        self.loss = specs
        self.entries = [
            (i, CompileLoss(specs[i]), weights[i])
            for i in order
            if specs[i] is not None
        ]
        self.fn = self if self.entries else None  # NOTE: None: no compiled loss
        self.targets = [None] * len(specs)
        for i, compiled, _ in self.entries:
            self.targets[i] = compiled.targets
        self.functions = [None] * len(specs)  # resolved, for "accuracy"
        for i, compiled, _ in self.entries:
            self.functions[i] = compiled.fn
        # NOTE: as in Keras 3, one loss alone is only the total "loss"
        self.loss_names = [f"{names[i]}_loss" for i, _, _ in self.entries]
        if len(self.loss_names) == 1:
            self.loss_names = []
        # NOTE: Keras 3 lists the metrics of a dict of one output in compile's
        # order, of several outputs by sorted name
        self.log_order = ["loss", *self.loss_names] if outputs.count > 1 else None
        self._values: dict[int, list[float]] = {}
        self.regularized = False
        self.built = False

    @property
    def values(self) -> list[float]:
        """Each output's loss (unweighted) of this thread's latest batch."""
        return self._values.get(get_ident(), [])

    def build(self, model: Any) -> None:
        for _, compiled, _ in self.entries:
            compiled.build(model)
        self.regularized = any(layer._regularizers for layer in model._flatten_layers())
        self.built = True

    penalties = CompileLoss.penalties

    def __call__(
        self,
        y_true: list[Any],
        y_pred: Any,
        sample_weight: list[Any] | None,
        penalties: Sequence[Tensor] = (),
    ) -> tuple[Tensor | None, None, float]:
        """``y_true`` one array per output, ``y_pred`` the model's outputs (a
        list or dict of Tensors), ``sample_weight`` one array (or None) per
        output, or None."""
        if not self.entries:
            return CompileLoss(None)(None, None, None, penalties)
        flat = tree.flatten(y_pred)
        root, value, values = None, 0.0, []
        for i, compiled, weight in self.entries:
            sw = None if sample_weight is None else sample_weight[i]
            part, seed, part_value = compiled(y_true[i], flat[i], sw)
            values.append(part_value)
            if seed is None:
                term = part if weight is None else part * float(weight)
            else:
                if weight is not None:
                    seed = seed * np.asarray(weight, dtype=seed.dtype)
                term = ops.weighted_sum(part, seed)
            root = term if root is None else root + term
            value += part_value if weight is None else part_value * weight
        self._values[get_ident()] = values
        for penalty in penalties:
            value += float(penalty.data)
        return root, None, value


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

    def update(self, y: np.ndarray, p: np.ndarray, sw: Any = None) -> None:
        """Add one batch; ``sw`` (per-sample weights) only for a weighted metric:
        its mean is then the weighted mean over the samples, as Keras's."""
        if self.stateful:
            if sw is None:
                self.fn.update_state(y, p)
            else:
                self.fn.update_state(y, p, sample_weight=sw)
            return
        with no_grad():
            values = self.fn(y, p)
        values = np.asarray(getattr(values, "data", values), dtype=np.float64)
        if sw is not None:
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

    def update(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Add one batch: arrays for a model of one output, else lists of one
        array per output (``sample_weight`` None or one per output)."""
        for slot in self.slots:
            sw = sample_weight if slot.weighted else None
            i = slot.index
            if i is None:
                slot.update(y_true, y_pred, sw)
            else:
                slot.update(y_true[i], y_pred[i], None if sw is None else sw[i])

    def result(self, prefix: str = "") -> dict[str, float]:
        """``{prefix + name: value}`` in the order given to ``compile``."""
        return {prefix + slot.name: slot.result() for slot in self.slots or ()}

    # --- Keras's Metric interface, for custom steps ----------------------------------
    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Add a batch (Tensors or arrays; lists of them for several outputs)."""
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
        self.update(y_true, y_pred, sample_weight)

    def reset_state(self) -> None:
        if self.built:
            self.reset()


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


def compile_containers(
    model: Any, loss: Any, loss_weights: Any, metrics: Any, weighted_metrics: Any
) -> tuple[Any, CompileMetrics]:
    """The loss and metrics containers of ``compile``: :class:`CompileLoss`
    for a model of one output (its ``loss_weights`` a number, or a list or
    dict of one), :class:`CompileLosses` for several (``loss`` one for all,
    a list in output order or a dict by output name; ``loss_weights`` a list
    or dict)."""
    outputs = Outputs.of(model)
    if outputs is None:
        if isinstance(loss, (list, tuple)) and len(loss) == 1:
            loss = loss[0]  # NOTE: Keras's [loss] of a model of one output
        compiled = CompileLoss(loss, _one_weight(loss_weights))
        return compiled, CompileMetrics(metrics, loss, weighted_metrics)
    names = outputs.names
    config = (
        isinstance(loss, dict) and "class_name" in loss and "class_name" not in names
    )
    if isinstance(loss, (list, tuple, dict)) and not config:
        complete = isinstance(loss, dict) and not outputs.is_dict  # NOTE: Keras's rule
        specs = outputs.per_output(loss, "loss", complete=complete)
    else:
        specs = [loss] * outputs.count
    weights = [None] * outputs.count
    if loss_weights is not None:
        if not isinstance(loss_weights, (list, tuple, dict)):
            raise ValueError(
                f"`loss_weights` of a model of {outputs.count} outputs must be a list "
                f"(in the order {names}) or a dict by output name. Received: "
                f"loss_weights={loss_weights!r}"
            )
        weights = [_weight(w) for w in outputs.per_output(loss_weights, "loss_weights")]
    compiled = CompileLosses(outputs, specs, weights, outputs.loss_order(loss))
    compiled_metrics = CompileMetrics(
        metrics, loss, weighted_metrics, outputs, compiled
    )
    return compiled, compiled_metrics


def _weight(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        raise TypeError(
            "Each loss weight must be a number (a loss's factor in the total "
            f"loss). Received: loss_weights entry {value!r}"
        )
    return float(value)


def _one_weight(loss_weights: Any) -> float | None:
    """The loss weight of a model of one output: a number, or a list or
    dict of one (Keras flattens it)."""
    value = loss_weights
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        if len(value) != 1:
            raise ValueError(
                "`loss_weights` must match the number of losses: the model has "
                f"one output, and {len(value)} weights were given. Received: "
                f"loss_weights={loss_weights!r}"
            )
        value = value[0]
    return _weight(value)


def logs_as_result(
    logs: dict[str, float], return_dict: bool, order: list[str] | None = None
) -> Any:
    """Keras's return value: the logs, the loss alone, or ``[loss, *metrics]``.
    With several outputs (``order``: ``"loss"`` and the outputs' losses),
    Keras 3 lists those first and then the rest by sorted name."""
    if return_dict:
        return logs
    values = list(logs.values())
    if order is not None:
        first = [key for key in order if key in logs]
        rest = sorted(key for key in logs if key not in first)
        values = [logs[key] for key in first + rest]
    return values[0] if len(values) == 1 else values


def warn_not_finite(value: float, where: str) -> None:
    """The one warning for a NaN or infinite training loss (the step that
    produced it left the weights alone)."""
    warn(
        f"{where}: the loss is {value}; training stopped before this batch changed "
        "the weights. Try a lower learning rate, scaled inputs, or check the data.",
        RuntimeWarning,
    )
