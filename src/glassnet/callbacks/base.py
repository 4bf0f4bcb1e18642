"""The hooks, the callback list and the everyday callbacks (History,
EarlyStopping, TerminateOnNaN, the learning-rate callbacks, CSVLogger,
LambdaCallback); see :mod:`glassnet.callbacks`.

The hooks, when they are called and their ``logs`` dicts are Keras 3's. Every
hook gets a dict (``{}`` where Keras has nothing to say):

- ``on_train_begin``, ``on_epoch_begin``, ``on_*_batch_begin``,
  ``on_test_begin``, ``on_predict_begin``, ``on_predict_end``: ``{}``;
- ``on_train_batch_end`` / ``on_test_batch_end``: the running logs of the
  epoch (``{"loss": ..., metrics}``), ``on_test_end`` the final ones;
- ``on_epoch_end``, ``on_train_end``: the epoch's logs, with ``val_`` ones;
- ``on_predict_batch_end``: ``{"outputs": <the batch's predictions>}``.

``fit`` calls the ``on_test_*`` hooks around its validation, as Keras does.
``on_batch_begin`` / ``on_batch_end`` are Keras's older names of the train
batch hooks: the base class's ``on_train_batch_*`` call them. A callback stops
training by setting ``self.model.stop_training = True`` (at once, from a batch
hook), evaluation with ``stop_evaluating``, prediction with ``stop_predicting``.

One tuple, :data:`HOOKS`, names them all: :class:`CallbackList`'s forwarders,
its ``wants_batch_hooks`` and :class:`LambdaCallback`'s accepted names are
made from it.
"""

from __future__ import annotations

import csv
import html
import math
import os
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from glassnet._warnings import warn

# Keras's hook names, in the order a fit / evaluate / predict meets them: they
# drive CallbackList's dispatch, the batch-hook detection and LambdaCallback.
HOOKS = (
    "on_train_begin",
    "on_epoch_begin",
    "on_train_batch_begin",
    "on_train_batch_end",
    "on_epoch_end",
    "on_train_end",
    "on_test_begin",
    "on_test_batch_begin",
    "on_test_batch_end",
    "on_test_end",
    "on_predict_begin",
    "on_predict_batch_begin",
    "on_predict_batch_end",
    "on_predict_end",
)
BATCH_HOOKS = tuple(hook for hook in HOOKS if "_batch_" in hook)
#: Keras's older names of the train batch hooks, and the hooks they stand for.
ALIASES = {
    "on_batch_begin": "on_train_batch_begin",
    "on_batch_end": "on_train_batch_end",
}


class Callback:
    """Base class: every hook does nothing (the train batch hooks call their
    aliases ``on_batch_begin`` / ``on_batch_end``, as in Keras). ``self.model``
    and ``self.params`` (``{"epochs", "steps", "verbose"}``; ``steps`` is None
    when the data does not say how many batches it has) are set before the
    first hook of a fit, evaluate or predict."""

    def __init__(self) -> None:
        self.model: Any = None
        self.params: dict[str, Any] = {}

    def set_model(self, model: Any) -> None:
        self.model = model

    def set_params(self, params: dict[str, Any]) -> None:
        self.params = params

    def on_train_begin(self, logs: dict | None = None) -> None: ...
    def on_train_end(self, logs: dict | None = None) -> None: ...
    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None: ...
    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None: ...
    def on_batch_begin(self, batch: int, logs: dict | None = None) -> None: ...
    def on_batch_end(self, batch: int, logs: dict | None = None) -> None: ...

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self.on_batch_end(batch, logs=logs)

    def on_test_begin(self, logs: dict | None = None) -> None: ...
    def on_test_end(self, logs: dict | None = None) -> None: ...
    def on_test_batch_begin(self, batch: int, logs: dict | None = None) -> None: ...
    def on_test_batch_end(self, batch: int, logs: dict | None = None) -> None: ...
    def on_predict_begin(self, logs: dict | None = None) -> None: ...
    def on_predict_end(self, logs: dict | None = None) -> None: ...
    def on_predict_batch_begin(self, batch: int, logs: dict | None = None) -> None: ...
    def on_predict_batch_end(self, batch: int, logs: dict | None = None) -> None: ...


def _overrides(callback: Callback, hook: str) -> bool:
    """Whether ``callback`` does something in ``hook``: its class overrides the
    hook (or the hook's alias), or the instance holds its own function for it
    (LambdaCallback)."""
    names = [hook, *(alias for alias, name in ALIASES.items() if name == hook)]
    return any(
        name in getattr(callback, "__dict__", ())
        or getattr(type(callback), name, None) is not getattr(Callback, name)
        for name in names
    )


class CallbackList(Callback):
    """Calls each hook (every name in :data:`HOOKS`) on every callback, in order,
    with one ``logs`` dict for all of them (``{}`` when the caller gave none).

    ``wants_batch_hooks`` is False when no callback overrides a batch hook, so
    the loops can skip building per-batch ``logs`` dicts entirely.
    """

    def __init__(
        self,
        callbacks: Iterable[Callback] | None = None,
        model: Any = None,
        **params: Any,
    ) -> None:
        super().__init__()
        self.callbacks: list[Callback] = []
        self.wants_batch_hooks = False
        for cb in callbacks or []:
            self.append(cb)
        if model is not None:
            self.set_model(model)
        if params:
            self.set_params(params)

    def append(self, callback: Callback) -> None:
        if not isinstance(callback, Callback):
            raise TypeError(
                "callbacks must be Callback instances. "
                f"Received: {type(callback).__name__} {callback!r}"
            )
        self.callbacks.append(callback)
        self.wants_batch_hooks = self.wants_batch_hooks or any(
            _overrides(callback, hook) for hook in BATCH_HOOKS
        )

    def set_model(self, model: Any) -> None:
        super().set_model(model)
        for cb in self.callbacks:
            cb.set_model(model)

    def set_params(self, params: dict[str, Any]) -> None:
        super().set_params(params)
        for cb in self.callbacks:
            cb.set_params(params)


def _dispatcher(hook: str) -> Callable[..., None]:
    """CallbackList's ``hook``: call ``hook`` on every callback, in order, with
    a ``logs`` dict (``{}`` for None, as Keras passes)."""
    if "_batch_" in hook or "_epoch_" in hook:

        def dispatch(self: CallbackList, index: int, logs: dict | None = None) -> None:
            logs = {} if logs is None else logs
            for cb in self.callbacks:
                getattr(cb, hook)(index, logs)

    else:

        def dispatch(self: CallbackList, logs: dict | None = None) -> None:  # type: ignore[misc]
            logs = {} if logs is None else logs
            for cb in self.callbacks:
                getattr(cb, hook)(logs)

    dispatch.__name__ = hook
    dispatch.__qualname__ = f"CallbackList.{hook}"
    dispatch.__doc__ = f"Call ``{hook}`` on every callback, in order."
    return dispatch


for _hook in HOOKS:
    setattr(CallbackList, _hook, _dispatcher(_hook))
del _hook


class History(Callback):
    """Records the epoch logs: ``history.history["loss"]`` is one value per epoch.

    ``fit`` returns it (and keeps it as ``model.history``); ``history.epoch``
    lists the epoch indices.
    """

    def __init__(self) -> None:
        super().__init__()
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs=None):
        self.epoch = []
        self.history = {}

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        if self.model is not None:
            self.model.history = self

    def __repr__(self) -> str:
        if not self.epoch:
            return "<History: no epochs yet>"
        last = ", ".join(f"{k}={v[-1]:.4g}" for k, v in self.history.items() if v)
        count = len(self.epoch)
        return f"<History: {count:,} epoch{'s' * (count != 1)}; last {last}>"

    def _repr_html_(self) -> str:
        """Jupyter's view: the number of epochs and a table of the first and
        the last five epochs' logs."""
        count = len(self.epoch)
        keys = list(self.history)
        shown = sorted({0, *range(max(count - 5, 0), count)}) if count else []
        head = "".join(f"<th>{html.escape(k)}</th>" for k in ["epoch", *keys])
        rows = []
        for i, index in enumerate(shown):
            if i and index != shown[i - 1] + 1:
                rows.append(f'<tr><td colspan="{len(keys) + 1}">…</td></tr>')
            cells = [f"<td>{self.epoch[index] + 1}</td>"]
            for k in keys:
                values = self.history[k]
                value = f"{values[index]:.6g}" if index < len(values) else ""
                cells.append(f'<td style="text-align:right">{value}</td>')
            rows.append(f"<tr>{''.join(cells)}</tr>")
        return (
            f"<div><p><b>History</b>: {count:,} epoch{'s' * (count != 1)}</p>"
            f"<table><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table></div>"
        )


def _count(name: str, value: Any) -> int:
    """A number of epochs: an integer >= 0, else a ValueError naming it."""
    integer = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
    if not integer or value < 0:
        raise ValueError(
            f"`{name}` must be an integer >= 0 (a number of epochs). "
            f"Received: {name}={value!r}"
        )
    return int(value)


def _number(name: str, value: Any, low: float = 0.0) -> float:
    """A float >= ``low``, else a ValueError naming it."""
    number = isinstance(value, (int, float, np.number)) and not isinstance(value, bool)
    if not number or not value >= low:
        raise ValueError(
            f"`{name}` must be a number >= {low}. Received: {name}={value!r}"
        )
    return float(value)


#: parts of the names of the metrics that are better when larger
_BETTER_UP = (
    "acc",
    "auc",
    "precision",
    "recall",
    "sensitivity",
    "specificity",
    "f1_score",
    "fbeta_score",
    "cosine_similarity",
    "r2_score",
    "io_u",
    "correlation",
)


def _monitor_mode(monitor: str, mode: str) -> Callable[[float, float], bool]:
    if mode not in ("auto", "min", "max"):
        raise ValueError(
            f"mode must be one of 'auto', 'min', 'max'. Received: mode={mode!r}"
        )
    if mode == "auto":  # NOTE: by name: the metrics Keras marks as better up
        better_up = any(name in monitor for name in _BETTER_UP)
        mode = "max" if better_up else "min"
    return np.greater if mode == "max" else np.less


class EarlyStopping(Callback):
    """Stop training when ``monitor`` has stopped improving.

    An epoch improves when the value beats the best by more than ``min_delta``.
    After ``patience`` epochs without improvement training stops; with
    ``restore_best_weights`` the weights of the best epoch are put back.
    ``baseline``: stop unless the model gets better than this.
    ``start_from_epoch``: epochs of warm-up before improvement is tracked.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        min_delta: float = 0.0,
        patience: int = 0,
        verbose: int = 0,
        mode: str = "auto",
        baseline: float | None = None,
        restore_best_weights: bool = False,
        start_from_epoch: int = 0,
    ) -> None:
        super().__init__()
        self.monitor = monitor
        self.patience = _count("patience", patience)
        self.verbose = verbose
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = _count("start_from_epoch", start_from_epoch)
        self.monitor_op = _monitor_mode(monitor, mode)
        sign = 1 if self.monitor_op is np.greater else -1
        self.min_delta = abs(_number("min_delta", min_delta, -np.inf)) * sign

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights = None
        self.best_epoch = 0

    def _improved(self, value: float, reference: float | None) -> bool:
        if reference is None:
            return True
        return bool(self.monitor_op(value - self.min_delta, reference))

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None:
            warn(
                f"EarlyStopping is conditioned on metric `{self.monitor}` which is "
                f"not available. Available metrics are: {', '.join(logs or {})}",
            )
            return
        if epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()
        self.wait += 1
        if self._improved(value, self.best):
            self.best = value
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._improved(value, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(
                    "Restoring model weights from the end of the best epoch: "
                    f"{self.best_epoch + 1}."
                )
            self.model.set_weights(self.best_weights)


class TerminateOnNaN(Callback):
    """Stop training as soon as a batch loss is NaN or infinite."""

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True


def _get_lr(model: Any) -> float:
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None or not hasattr(optimizer, "learning_rate"):
        raise ValueError(
            "This callback needs a compiled model whose optimizer has a "
            "`learning_rate` attribute."
        )
    lr = optimizer.learning_rate
    return float(lr(optimizer.iterations) if callable(lr) else lr)


def _set_lr(model: Any, callback: str, value: float) -> None:
    """Set the optimizer's learning rate; one made from a schedule is not
    settable (as in Keras), which this says instead of replacing the schedule."""
    if callable(model.optimizer.learning_rate):
        raise TypeError(
            f"{callback} cannot set the learning rate of an optimizer created with "
            "a learning-rate schedule "
            f"({type(model.optimizer.learning_rate).__name__}): the schedule sets "
            "it at every step. Create the optimizer with a float `learning_rate` "
            "to let the callback change it."
        )
    model.optimizer.learning_rate = value


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` when ``monitor`` stops improving
    for ``patience`` epochs, waiting ``cooldown`` epochs after each reduction and
    never going below ``min_lr``."""

    def __init__(
        self,
        monitor: str = "val_loss",
        factor: float = 0.1,
        patience: int = 10,
        verbose: int = 0,
        mode: str = "auto",
        min_delta: float = 1e-4,
        cooldown: int = 0,
        min_lr: float = 0.0,
    ) -> None:
        super().__init__()
        if _number("factor", factor) >= 1.0:
            raise ValueError(
                "ReduceLROnPlateau does not support a factor >= 1.0. "
                f"Received: factor={factor}"
            )
        self.monitor = monitor
        self.factor = float(factor)
        self.patience = _count("patience", patience)
        self.verbose = verbose
        self.min_delta = _number("min_delta", min_delta)
        self.cooldown = _count("cooldown", cooldown)
        self.min_lr = _number("min_lr", min_lr)
        self.monitor_op = _monitor_mode(monitor, mode)

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.cooldown_counter = 0
        self.best = None

    def _better(self, value: float) -> bool:
        if self.best is None:
            return True
        if self.monitor_op is np.less:
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        logs["learning_rate"] = _get_lr(self.model)
        value = logs.get(self.monitor)
        if value is None:
            warn(
                f"ReduceLROnPlateau is conditioned on metric `{self.monitor}` which "
                f"is not available. Available metrics are: {', '.join(logs)}",
            )
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._better(value):
            self.best = value
            self.wait = 0
        elif self.cooldown_counter <= 0:
            self.wait += 1
            if self.wait >= self.patience:
                old = _get_lr(self.model)
                if old > self.min_lr:
                    new = max(old * self.factor, self.min_lr)
                    _set_lr(self.model, "ReduceLROnPlateau", new)
                    if self.verbose > 0:
                        print(
                            f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing "
                            f"learning rate to {new}."
                        )
                    self.cooldown_counter = self.cooldown
                    self.wait = 0


class LearningRateScheduler(Callback):
    """Set the learning rate at each epoch start to ``schedule(epoch, lr)``."""

    def __init__(self, schedule: Callable[[int, float], float], verbose: int = 0):
        super().__init__()
        if not callable(schedule):
            raise TypeError(
                "`schedule` must be a function (epoch, lr) -> new lr. "
                f"Received: schedule={schedule!r}"
            )
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch, logs=None):
        lr = self.schedule(epoch, _get_lr(self.model))
        if not isinstance(lr, (int, float, np.floating)):
            raise ValueError(
                'The output of the "schedule" function should be a float. '
                f"Received: lr={lr!r}"
            )
        _set_lr(self.model, "LearningRateScheduler", float(lr))
        if self.verbose > 0:
            print(
                f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate "
                f"to {float(lr)}."
            )

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = _get_lr(self.model)


def _cell(value: Any) -> Any:
    """A log value as CSVLogger writes it: a metric of several results (one
    per class) as Keras writes it, ``"[0.5, 0.25]"`` (quoted once more by the
    CSV writer)."""
    if isinstance(value, np.ndarray) and value.ndim:
        listed = ", ".join(str(v) for v in value.ravel())
        return f'"[{listed}]"'
    return value


class CSVLogger(Callback):
    """Write one CSV row per epoch (``epoch`` then the logs, sorted by key)."""

    def __init__(self, filename: str, separator: str = ",", append: bool = False):
        super().__init__()
        if not isinstance(filename, (str, os.PathLike)):
            raise TypeError(
                "`filename` must be a path (str or os.PathLike). "
                f"Received: filename={filename!r}"
            )
        self.filename = filename
        self.separator = separator
        self.append = append
        self._file = None
        self._writer = None
        self._keys: list[str] | None = None

    def on_train_begin(self, logs=None):
        mode = "a" if self.append else "w"
        self._file = open(self.filename, mode, newline="")  # noqa: SIM115
        self._writer = None
        self._keys = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self._writer is None:
            self._keys = sorted(logs)
            self._writer = csv.DictWriter(
                self._file,
                fieldnames=["epoch", *self._keys],
                delimiter=self.separator,
            )
            if not self.append or self._file.tell() == 0:
                self._writer.writeheader()
        row = {"epoch": epoch, **{k: _cell(logs.get(k, "NA")) for k in self._keys}}
        self._writer.writerow(row)
        self._file.flush()

    def on_train_end(self, logs=None):
        if self._file is not None:
            self._file.close()
            self._file = None


class LambdaCallback(Callback):
    """A callback from plain functions: ``LambdaCallback(on_epoch_end=lambda
    epoch, logs: ...)``. Any Keras hook name is accepted."""

    def __init__(self, **hooks: Callable[..., Any]) -> None:
        super().__init__()
        for name, fn in hooks.items():
            name = ALIASES.get(name, name)
            if name not in HOOKS:
                raise ValueError(
                    f"Unknown callback hook {name!r}. Valid hooks are: "
                    f"{', '.join(HOOKS)}"
                )
            setattr(self, name, fn)
