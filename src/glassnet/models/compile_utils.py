"""What ``compile`` configures besides the optimizer: the loss and the metrics
(Keras 3's ``CompileLoss`` and ``CompileMetrics``).

:class:`CompileLoss` turns the model's output for a batch into the root of the
backward pass, the gradient that seeds it, and the scalar loss the logs report
(regularization penalties included). The metrics given to ``compile`` are
:class:`~glassnet.models.compile_metrics.CompileMetrics`.

A model of several outputs (:class:`~glassnet.models.outputs.Outputs`) keeps
one :class:`CompileLoss` per output in :class:`CompileLosses`, whose total is
the sum of the losses times their ``loss_weights``.
"""

from __future__ import annotations

from _thread import get_ident
from collections.abc import Sequence
from typing import Any

import numpy as np

from glassnet import losses, ops, tree
from glassnet._warnings import warn
from glassnet.autograd import Tensor
from glassnet.layers import masking
from glassnet.layers.call_context import losses_added
from glassnet.models.compile_metrics import CompileMetrics, name_of
from glassnet.models.outputs import Outputs


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
