"""Trainer: compile / fit / evaluate / predict, mixed into :class:`Model`.

Training is one lean loop: per batch one forward through the ops, one backward
pass seeded with the gradient of the batch-mean loss, and ``optimizer.step``;
inputs are cast to the model's dtype once per ``fit``, batches are views of an
array shuffled once per epoch, and callbacks are only called per batch when one
of them asks for it. A NaN or infinite loss stops training before that batch
touches the weights.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from contextlib import nullcontext
from typing import Any

import numpy as np

from glassnet import losses, optimizers
from glassnet import metrics as metrics_module
from glassnet.autograd import Tensor, no_grad
from glassnet.callbacks import Callback, CallbackList, History
from glassnet.models.progress import ProgbarLogger
from glassnet.ops._parallel import single_threaded_blas


def _verbosity(verbose: Any) -> int:
    if verbose == "auto" or verbose is True:
        return 1
    if verbose is False or verbose is None:
        return 0
    if verbose not in (0, 1, 2):
        raise ValueError(
            f"verbose must be 'auto', 0, 1, 2 or a bool. Received: verbose={verbose!r}"
        )
    return int(verbose)


def _name_of(obj: Any) -> str:
    if isinstance(obj, str):
        return obj
    return getattr(obj, "name", None) or getattr(obj, "__name__", type(obj).__name__)


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


class Trainer:
    """The training API of :class:`~glassnet.models.Model` (Keras's ``Trainer``).

    Relies on the model for ``call``, ``build``, ``_check_input``, ``_dtype``,
    ``output_shape``, ``losses``, ``trainable_weights`` and ``get_weights``.
    """

    # --- compile ------------------------------------------------------------------
    def compile(
        self,
        optimizer: Any = "rmsprop",
        loss: Any = None,
        metrics: Any = None,
        loss_weights: Any = None,
        weighted_metrics: Any = None,
        run_eagerly: Any = None,
        steps_per_execution: int = 1,
        jit_compile: Any = None,
        **kwargs: Any,
    ) -> None:
        """Choose the optimizer, the loss and the metrics to report.

        Each may be a name (``"adam"``, ``"mse"``, ``"accuracy"``), an instance or
        (loss, metrics) a function ``(y_true, y_pred) -> Tensor``.
        """
        if kwargs:
            raise TypeError(f"Unrecognized arguments to compile(): {sorted(kwargs)}")
        if loss_weights is not None or weighted_metrics:
            raise NotImplementedError(
                "loss_weights and weighted_metrics (multi-output / weighted metric "
                "reporting) are not supported yet. Received: "
                f"loss_weights={loss_weights!r}, weighted_metrics={weighted_metrics!r}"
            )
        self.optimizer = optimizers.get(optimizer)
        self.loss = loss
        self._loss_fn = loss
        if loss is not None and (isinstance(loss, (str, dict)) or not callable(loss)):
            self._loss_fn = losses.get(loss)
        if metrics is None:
            metrics = []
        elif isinstance(metrics, (str, Callable)) and not isinstance(metrics, list):
            metrics = [metrics]
        if isinstance(metrics, dict) or not isinstance(metrics, (list, tuple)):
            raise TypeError(
                "metrics must be a list of names, functions or Metric objects. "
                f"Received: metrics={metrics!r}"
            )
        self._metric_specs = list(metrics)
        self._metrics: list[_MetricSlot] | None = None
        self.compiled = True

    def _resolve_metrics(self, y: np.ndarray, out_shape: tuple) -> list[_MetricSlot]:
        """Turn names into functions; "accuracy" picks binary / sparse /
        categorical accuracy from the loss and the shapes, as Keras does."""
        if not self._metric_specs:
            return []
        slots = []
        for spec in self._metric_specs:
            if isinstance(spec, str) and spec in ("accuracy", "acc"):
                fn = metrics_module.resolve_accuracy(self.loss, y.shape, out_shape)
            else:
                fn = metrics_module.get(spec)
            slots.append(_MetricSlot(_name_of(spec), fn))
        return slots

    # --- data ---------------------------------------------------------------------
    def _as_x(self, x: Any) -> np.ndarray:
        if isinstance(x, Tensor):
            x = x.data
        if isinstance(x, (list, tuple)) and len(x) == 1 and np.ndim(x[0]) >= 2:
            x = x[0]
        x = np.asarray(x)
        if not np.issubdtype(x.dtype, np.number) and x.dtype != bool:
            raise TypeError(
                f"Model {self.name!r} needs numeric input. Received: x of dtype "
                f"{x.dtype}"
            )
        x = np.ascontiguousarray(x, dtype=self._dtype)
        if x.ndim == 0:
            raise ValueError(
                f"Model {self.name!r} needs a batch of samples. Received: a scalar x."
            )
        if x.ndim == 1:
            expected = self._build_shape
            if expected is not None and (len(expected) != 2 or expected[1] != 1):
                raise ValueError(
                    f"Model {self.name!r} expects input of shape {expected}; a 1-D "
                    f"x is read as one feature per sample. Received: x of shape "
                    f"{x.shape}"
                )
            x = x[:, None]
        if not np.isfinite(x).all():
            raise ValueError("Input x contains NaN or infinity.")
        if not self.built:
            self.build(x.shape)
        else:
            self._check_input(x.shape)
        return x

    def _as_y(self, y: Any, n: int) -> np.ndarray:
        y = np.asarray(getattr(y, "data", y))
        if y.ndim == 0 or len(y) != n:
            raise ValueError(
                "x and y must have the same number of samples. Received: "
                f"x with {n} samples, y with "
                f"{'no samples (a scalar)' if y.ndim == 0 else len(y)}."
            )
        out = self.output_shape
        if out is not None and y.ndim == len(out) - 1 and out[-1] == 1:
            y = y[..., None]
        if np.issubdtype(y.dtype, np.floating) or (
            out is not None and y.ndim == len(out)
        ):
            y = np.ascontiguousarray(y, dtype=self._dtype)
            if not np.isfinite(y).all():
                raise ValueError("Target y contains NaN or infinity.")
        return y

    def _sample_weights(
        self, y: np.ndarray, n: int, sample_weight: Any, class_weight: Any
    ) -> np.ndarray | None:
        sw = None
        if sample_weight is not None:
            sw = np.asarray(sample_weight, dtype=self._dtype).reshape(-1)
            if len(sw) != n:
                raise ValueError(
                    f"sample_weight needs one weight per sample ({n}). Received: "
                    f"sample_weight of shape {np.shape(sample_weight)}"
                )
        if class_weight:
            if y.ndim > 1 and y.shape[-1] > 1:
                labels = y.argmax(axis=-1)
            else:
                labels = np.round(y.reshape(n, -1)[:, 0]).astype(int)
            missing = set(np.unique(labels).tolist()) - set(class_weight)
            if missing:
                raise ValueError(
                    f"class_weight has no weight for classes {sorted(missing)}. "
                    f"Received: class_weight={class_weight!r}"
                )
            table = np.vectorize(lambda c: class_weight[c])(labels)
            cw = table.astype(self._dtype)
            sw = cw if sw is None else sw * cw
        return sw

    # --- one step -----------------------------------------------------------------
    def _loss_terms(
        self, y: np.ndarray, out: Tensor, sw: np.ndarray | None
    ) -> tuple[Tensor, np.ndarray | None, float]:
        """The loss as ``(root, seed, value)``: ``root.backward(seed)`` gives the
        gradients of the scalar loss ``value``.

        NOTE: for a per-sample loss the mean over the batch is not a graph node:
        its gradient, ``sample_weight / n`` (or ``1 / n``), seeds the backward pass
        directly, one op fewer per step.
        """
        fn, reduction = self._loss_fn, self._loss_reduction
        if reduction is None:
            values = fn(y, out)
        elif reduction in ("sum_over_batch_size", "mean", "sum"):
            values = fn.call(y, out)
        else:
            values = fn(y, out, sample_weight=sw)
            sw = None
        data = values.data
        if data.ndim == 0:
            if sw is not None:
                raise ValueError(
                    "sample_weight / class_weight need a loss that returns one "
                    f"value per sample; {_name_of(self.loss)!r} returned a scalar."
                )
            return values, None, float(data)
        count = 1 if reduction == "sum" else data.size
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
        return values, seed, value

    def _loss_value(self, y: np.ndarray, out: Tensor, sw: np.ndarray | None) -> float:
        """The scalar loss (with regularization penalties), no gradients."""
        value = self._loss_terms(y, out, sw)[2]
        if self._regularized:
            value += sum(float(p.data) for p in self.losses)
        return value

    def _prepare_training(self) -> None:
        if not self.compiled:
            raise RuntimeError(
                "You must call compile() before using the model for training or "
                "evaluation: model.compile(optimizer=..., loss=...)."
            )
        if self._loss_fn is None:
            raise ValueError(
                "The model was compiled without a loss. "
                "Pass one to compile(), e.g. loss='mse'. Received: loss=None"
            )
        reduction = getattr(self._loss_fn, "reduction", None)
        if reduction is not None and not hasattr(self._loss_fn, "call"):
            reduction = "object"
        self._loss_reduction = reduction
        self._seeds: dict[tuple[int, ...], np.ndarray] = {}
        self._regularized = any(
            layer._regularizers or layer.activity_regularizer is not None
            for layer in self._layers
        )

    def _kernel_threads(self):
        """The BLAS threading for one batch: models with batch-parallel kernels
        (convolutions, pooling: layers with ``batch_parallel = True``) split
        every batch over cores themselves, so their matmuls run on one BLAS
        thread, also in the other layers (BLAS's idle threads would spin on the
        cores the kernels need)."""
        if any(getattr(layer, "batch_parallel", False) for layer in self._layers):
            return single_threaded_blas()
        return nullcontext()

    def _train_step(
        self,
        x: np.ndarray,
        y: np.ndarray,
        sw: np.ndarray | None,
        params: list[Tensor],
    ) -> tuple[float, np.ndarray]:
        with self._kernel_threads():
            out = self.call(Tensor(x), True)
            root, seed, value = self._loss_terms(y, out, sw)
            penalties = self.losses if self._regularized else ()
            for penalty in penalties:
                value += float(penalty.data)
            if value != value or value in (math.inf, -math.inf):
                return value, out.data
            root.backward(seed)
            for penalty in penalties:
                if penalty.requires_grad:
                    penalty.backward()
            self.optimizer.step(params)
        for p in params:
            p.grad = None
        return value, out.data

    def _ensure_metrics(self, y: np.ndarray) -> list[_MetricSlot]:
        if self._metrics is None:
            self._metrics = self._resolve_metrics(y, self.output_shape)
        return self._metrics

    def _logs(self, loss_total: float, count: int, prefix: str = "") -> dict:
        logs = {prefix + "loss": loss_total / count if count else float("nan")}
        for slot in self._metrics or []:
            logs[prefix + slot.name] = slot.result()
        return logs

    # --- fit ------------------------------------------------------------------------
    def _callback_list(self, callbacks, verbose, steps, epochs=None) -> CallbackList:
        """The callbacks of one fit / evaluate / predict call, with Keras's
        progress bar last when ``verbose``."""
        if verbose:
            callbacks = [*callbacks, ProgbarLogger(verbose)]
        params = dict(steps=steps, verbose=verbose)
        if epochs is not None:
            params["epochs"] = epochs
        return CallbackList(callbacks, model=self, **params)

    def fit(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int | None = None,
        epochs: int = 1,
        verbose: Any = "auto",
        callbacks: list[Callback] | None = None,
        validation_split: float = 0.0,
        validation_data: Any = None,
        shuffle: bool = True,
        class_weight: dict | None = None,
        sample_weight: Any = None,
        initial_epoch: int = 0,
        steps_per_epoch: int | None = None,
        validation_steps: int | None = None,
        validation_batch_size: int | None = None,
        validation_freq: int = 1,
    ) -> History:
        """Train for ``epochs`` passes over ``(x, y)`` in batches of ``batch_size``.

        ``validation_split`` holds out the *last* fraction of the samples (before
        shuffling), as Keras does. Returns a :class:`History` whose ``.history``
        maps ``"loss"``, ``"val_loss"`` and each metric to one value per epoch.
        A NaN or infinite loss stops training (with a warning) before that batch
        touches the weights.
        """
        self._prepare_training()
        verbose = _verbosity(verbose)
        if x is None or y is None:
            raise ValueError("fit() needs both x and y.")
        batch_size = 32 if batch_size is None else int(batch_size)
        if batch_size <= 0 or epochs < 0:
            raise ValueError(
                "fit() needs batch_size > 0 and epochs >= 0. Received: "
                f"batch_size={batch_size}, epochs={epochs}"
            )
        x = self._as_x(x)
        n = len(x)
        y = self._as_y(y, n)
        sw = self._sample_weights(y, n, sample_weight, class_weight)
        val = None
        if validation_data is not None:
            val = self._validation_tuple(validation_data)
        elif validation_split:
            if not 0 < validation_split < 1:
                raise ValueError(
                    "validation_split must be between 0 and 1. "
                    f"Received: validation_split={validation_split}"
                )
            split = int(math.floor(n * (1.0 - validation_split)))
            if split == 0 or split == n:
                raise ValueError(
                    f"validation_split={validation_split} leaves no samples for "
                    f"{'training' if split == 0 else 'validation'} ({n} samples)."
                )
            val = (x[split:], y[split:], None if sw is None else sw[split:])
            x, y = x[:split], y[:split]
            sw = None if sw is None else sw[:split]
            n = split
        if n == 0:
            raise ValueError("fit() received no training samples.")
        metrics = self._ensure_metrics(y)
        steps = math.ceil(n / batch_size)
        if steps_per_epoch is not None:
            steps = min(steps, int(steps_per_epoch))
        history = History()
        cbs = self._callback_list([history, *(callbacks or [])], verbose, steps, epochs)
        batch_hooks = cbs.wants_batch_hooks
        group = max(1, (1 << 18) // max(1, batch_size * (x.size // max(n, 1))))
        params = self.trainable_weights
        val_batch = validation_batch_size or batch_size
        self.stop_training = False
        cbs.on_train_begin()
        for epoch in range(initial_epoch, epochs):
            cbs.on_epoch_begin(epoch)
            for slot in metrics:
                slot.reset()
            order = np.random.permutation(n) if shuffle else None
            total, seen = 0.0, 0
            for step in range(steps):
                lo = step * batch_size
                if order is None:
                    rows = slice(lo, lo + batch_size)
                    xb, yb = x[rows], y[rows]
                    sb = None if sw is None else sw[rows]
                else:
                    # NOTE: shuffled batches are gathered `group` at a time (about
                    # 1 MB): one gather of scattered rows overlaps its cache
                    # misses better than many small ones, and a shuffled copy of
                    # all of x would cost its memory.
                    k = step % group
                    if k == 0:
                        rows = order[lo : lo + group * batch_size]
                        xs, ys = x[rows], y[rows]
                        ss = None if sw is None else sw[rows]
                    rows = slice(k * batch_size, (k + 1) * batch_size)
                    xb, yb = xs[rows], ys[rows]
                    sb = None if ss is None else ss[rows]
                if batch_hooks:
                    cbs.on_train_batch_begin(step)
                value, out = self._train_step(xb, yb, sb, params)
                if value != value or value in (math.inf, -math.inf):
                    warnings.warn(
                        f"Epoch {epoch + 1}, batch {step}: the loss is {value}; "
                        "training stopped before this batch changed the weights. "
                        "Try a lower learning rate, scaled inputs, or check the "
                        "data.",
                        RuntimeWarning,
                        stacklevel=2,
                    )
                    self.stop_training = True
                    total, seen = value, 1
                    break
                m = len(xb)
                total += value * m
                seen += m
                for slot in metrics:
                    slot.update(yb, out)
                if batch_hooks:
                    cbs.on_train_batch_end(step, self._logs(total, seen))
            logs = self._logs(total, seen)
            if (
                val is not None
                and not self.stop_training
                and (epoch + 1) % validation_freq == 0
            ):
                logs.update(self._evaluate_arrays(*val, val_batch, prefix="val_"))
            cbs.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        cbs.on_train_end(logs if epochs > initial_epoch else None)
        self.history = history
        return history

    def _validation_tuple(self, data: Any) -> tuple:
        if not isinstance(data, (tuple, list)) or len(data) not in (2, 3):
            raise ValueError(
                "validation_data must be a tuple (x_val, y_val) or (x_val, y_val, "
                f"sample_weight). Received: {type(data).__name__}"
            )
        xv = self._as_x(data[0])
        yv = self._as_y(data[1], len(xv))
        swv = None
        if len(data) == 3 and data[2] is not None:
            swv = np.asarray(data[2], dtype=self._dtype).reshape(-1)
        return xv, yv, swv

    # --- evaluate / predict ---------------------------------------------------------
    def _evaluate_arrays(
        self,
        x: np.ndarray,
        y: np.ndarray,
        sw: np.ndarray | None,
        batch_size: int,
        prefix: str = "",
        cbs: CallbackList | None = None,
    ) -> dict[str, float]:
        metrics = self._ensure_metrics(y)
        for slot in metrics:
            slot.reset()
        total = 0.0
        n = len(x)
        with no_grad(), self._kernel_threads():
            for step, lo in enumerate(range(0, n, batch_size)):
                xb, yb = x[lo : lo + batch_size], y[lo : lo + batch_size]
                sb = None if sw is None else sw[lo : lo + batch_size]
                out = self.call(Tensor(xb), False)
                total += self._loss_value(yb, out, sb) * len(xb)
                for slot in metrics:
                    slot.update(yb, out.data)
                if cbs is not None:
                    cbs.on_test_batch_end(step, self._logs(total, lo + len(xb)))
        return self._logs(total, n, prefix)

    def evaluate(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int | None = None,
        verbose: Any = "auto",
        sample_weight: Any = None,
        steps: int | None = None,
        callbacks: list[Callback] | None = None,
        return_dict: bool = False,
    ) -> Any:
        """Loss (and metrics) on ``(x, y)``: a float, ``[loss, *metrics]`` or a dict."""
        self._prepare_training()
        batch_size = 32 if batch_size is None else int(batch_size)
        x = self._as_x(x)
        y = self._as_y(y, len(x))
        sw = self._sample_weights(y, len(x), sample_weight, None)
        verbose = _verbosity(verbose)
        batches = math.ceil(len(x) / batch_size)
        cbs = self._callback_list(list(callbacks or []), verbose, batches)
        cbs.on_test_begin()
        logs = self._evaluate_arrays(
            x, y, sw, batch_size, cbs=cbs if cbs.callbacks else None
        )
        cbs.on_test_end(logs)
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    def predict(
        self,
        x: Any,
        batch_size: int | None = None,
        verbose: Any = "auto",
        steps: int | None = None,
        callbacks: list[Callback] | None = None,
    ) -> np.ndarray:
        """The model's outputs for ``x`` (array or nested list), in batches."""
        batch_size = 32 if batch_size is None else int(batch_size)
        x = self._as_x(x)
        verbose = _verbosity(verbose)
        batches = math.ceil(len(x) / batch_size)
        cbs = self._callback_list(list(callbacks or []), verbose, batches)
        cbs.on_predict_begin()
        outputs = []
        with no_grad(), self._kernel_threads():
            for step, lo in enumerate(range(0, len(x), batch_size)):
                outputs.append(self.call(Tensor(x[lo : lo + batch_size]), False).data)
                if cbs.callbacks:
                    cbs.on_predict_batch_end(step, {"outputs": outputs[-1]})
        cbs.on_predict_end()
        if not outputs:
            return np.zeros((0, *self.output_shape[1:]), dtype=self._dtype)
        return np.concatenate(outputs) if len(outputs) > 1 else outputs[0].copy()

    # --- single batches -------------------------------------------------------------
    def train_on_batch(
        self,
        x: Any,
        y: Any = None,
        sample_weight: Any = None,
        class_weight: dict | None = None,
        return_dict: bool = False,
    ) -> Any:
        """One optimizer step on this batch; returns its loss (and metrics)."""
        self._prepare_training()
        x = self._as_x(x)
        y = self._as_y(y, len(x))
        sw = self._sample_weights(y, len(x), sample_weight, class_weight)
        metrics = self._ensure_metrics(y)
        for slot in metrics:
            slot.reset()
        value, out = self._train_step(x, y, sw, self.trainable_weights)
        if value != value or value in (math.inf, -math.inf):
            warnings.warn(
                f"The loss is {value}; the weights were not changed.",
                RuntimeWarning,
                stacklevel=2,
            )
        for slot in metrics:
            slot.update(y, out)
        return self._batch_result(self._logs(value, 1), return_dict)

    def test_on_batch(
        self, x: Any, y: Any = None, sample_weight: Any = None, return_dict=False
    ) -> Any:
        """Loss (and metrics) on this batch, without training."""
        self._prepare_training()
        x = self._as_x(x)
        y = self._as_y(y, len(x))
        sw = self._sample_weights(y, len(x), sample_weight, None)
        logs = self._evaluate_arrays(x, y, sw, max(len(x), 1))
        return self._batch_result(logs, return_dict)

    def predict_on_batch(self, x: Any) -> np.ndarray:
        x = self._as_x(x)
        with no_grad():
            return self.call(Tensor(x), False).data.copy()

    @staticmethod
    def _batch_result(logs: dict, return_dict: bool) -> Any:
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values
