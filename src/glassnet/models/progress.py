"""Keras-style progress bars for fit / evaluate / predict.

``verbose=1``: a bar per epoch, redrawn in place (at most every 50 ms)::

    Epoch 1/3
    7/7 ━━━━━━━━━━━━━━━━━━━━ 0s 2ms/step - loss: 0.1234 - val_loss: 0.2345

``verbose=2``: one line per epoch, ``7/7 - 0s - 2ms/step - loss: 0.1234``.
Colors (ANSI) only when the output is a terminal.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import numpy as np

from glassnet.callbacks import Callback, CallbackList


def _format_time_per_step(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.0f}s/step"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/step"
    return f"{seconds * 1e6:.0f}us/step"


def _format_eta(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    if seconds >= 60:
        return f"{seconds // 60}:{seconds % 60:02d}"
    return f"{seconds}s"


def _format_value(value: Any) -> str:
    """A number to 4 digits; a metric of several results (one per class)
    by their mean, as Keras's bar shows it."""
    value = float(np.mean(value))
    return f"{value:.4f}" if abs(value) >= 1e-3 or value == 0 else f"{value:.4e}"


class Progbar:
    """A progress bar over ``target`` steps.

    ``update(current, values)`` redraws it; ``values`` is a dict of numbers shown
    after the timing (``- loss: 0.1234``). ``verbose=2`` prints only when
    ``finalize`` is True.
    """

    def __init__(
        self,
        target: int | None,
        width: int = 20,
        verbose: int = 1,
        interval: float = 0.05,
        stream: Any = None,
    ) -> None:
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.stream = stream if stream is not None else sys.stdout
        isatty = getattr(self.stream, "isatty", None)
        self.dynamic = bool(isatty and isatty()) or "ipykernel" in sys.modules
        self.color = bool(isatty and isatty())
        self._start = time.perf_counter()
        self._last_draw = 0.0
        self._previous_width = 0

    def _bar(self, current: int) -> str:
        if not self.target:
            return ""
        done = int(self.width * current / self.target)
        full, rest = "━" * done, "━" * (self.width - done)
        if self.color:
            return f"\x1b[32m{full}\x1b[0m\x1b[37m{rest}\x1b[0m"
        return full + " " * len(rest)

    def update(
        self, current: int, values: dict[str, Any] | None = None, finalize: bool = False
    ) -> None:
        if self.verbose == 0:
            return
        now = time.perf_counter()
        if not finalize and now - self._last_draw < self.interval:
            return
        if self.verbose == 2 and not finalize:
            return
        if not finalize and not self.dynamic:
            return
        self._last_draw = now
        elapsed = now - self._start
        per_step = elapsed / max(current, 1)
        tail = "".join(f" - {k}: {_format_value(v)}" for k, v in (values or {}).items())
        total = f"{current}/{self.target}" if self.target else f"{current}"
        if self.verbose == 2:
            line = f"{total} - {elapsed:.0f}s - {_format_time_per_step(per_step)}"
            self.stream.write(line + tail + "\n")
            self.stream.flush()
            return
        if finalize:
            timing = _format_eta(elapsed)
        else:
            timing = _format_eta(per_step * ((self.target or current) - current))
        if self.color:
            total, timing = f"\x1b[1m{total}\x1b[0m", f"\x1b[1m{timing}\x1b[0m"
        line = f"{total} {self._bar(current)} {timing} "
        line += _format_time_per_step(per_step) + tail
        pad = max(0, self._previous_width - len(line))
        self._previous_width = len(line)
        prefix = "\r" if self.dynamic else ""
        self.stream.write(prefix + line + " " * pad + ("\n" if finalize else ""))
        self.stream.flush()


class ProgbarLogger(Callback):
    """Prints ``Epoch i/n`` and a :class:`Progbar` per epoch (``verbose`` 1 or 2)
    during ``fit``, and one bar for ``evaluate`` / ``predict``. When the data
    does not say how many batches it has (``params["steps"]`` is None: a
    generator), the bar counts the batches seen."""

    def __init__(self, verbose: int = 1) -> None:
        super().__init__()
        self.verbose = verbose
        self._bar: Progbar | None = None
        self._training = False
        self._seen = 0

    def _start(self) -> None:
        self._bar = Progbar(self.params.get("steps"), verbose=self.verbose)
        self._seen = 0

    def _update(self, batch: int, logs: Any = None) -> None:
        self._seen = batch + 1
        if self._bar is not None and self.verbose == 1:
            self._bar.update(batch + 1, logs)

    def _finish(self, logs: Any = None) -> None:
        if self._bar is not None:
            self._bar.update(
                self.params.get("steps") or self._seen, logs, finalize=True
            )
            self._bar = None

    def on_train_begin(self, logs=None):
        self._training = True

    def on_train_end(self, logs=None):
        self._training = False

    def on_epoch_begin(self, epoch, logs=None):
        print(f"Epoch {epoch + 1}/{self.params.get('epochs')}")
        self._start()

    def on_train_batch_end(self, batch, logs=None):
        self._update(batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._finish(logs)

    def on_test_begin(self, logs=None):
        if not self._training:
            self._start()

    def on_test_batch_end(self, batch, logs=None):
        if not self._training:
            self._update(batch, logs)

    def on_test_end(self, logs=None):
        if not self._training:
            self._finish(logs)

    def on_predict_begin(self, logs=None):
        self._start()

    def on_predict_batch_end(self, batch, logs=None):
        self._update(batch)

    def on_predict_end(self, logs=None):
        self._finish()


def verbosity(verbose: Any) -> int:
    """Keras's ``verbose`` argument as 0 (silent), 1 (a bar) or 2 (a line per
    epoch); ``"auto"`` and True mean 1."""
    if verbose == "auto" or verbose is True:
        return 1
    if verbose is False or verbose is None:
        return 0
    if verbose not in (0, 1, 2):
        raise ValueError(
            f"verbose must be 'auto', 0, 1, 2 or a bool. Received: verbose={verbose!r}"
        )
    return int(verbose)


def callback_list(
    callbacks: list[Callback],
    model: Any,
    verbose: int,
    steps: int | None,
    epochs: int = 1,
) -> CallbackList:
    """The callbacks of one fit / evaluate / predict call, with Keras's progress
    bar last when ``verbose``; ``params`` are Keras's ``verbose``, ``epochs``
    (1 for evaluate and predict) and ``steps`` (None when unknown)."""
    if verbose:
        callbacks = [*callbacks, ProgbarLogger(verbose)]
    params = dict(verbose=verbose, epochs=epochs, steps=steps)
    return CallbackList(callbacks, model=model, **params)
