"""The :class:`TensorBoard` callback: Keras 3's, writing TensorBoard's event
files itself (:mod:`glassnet.callbacks._events`), with no TensorFlow."""

from __future__ import annotations

import json
import os
import time
from typing import Any

import numpy as np

from glassnet._warnings import warn
from glassnet.callbacks import _events
from glassnet.callbacks.base import Callback

#: The run folders under ``log_dir``, as Keras names them.
TRAIN, VALIDATION = "train", "validation"


def _is_flag(value: Any) -> bool:
    """True, False, 1 or 0 (what ``if value:`` reads as Keras means it)."""
    return isinstance(value, (bool, int, np.bool_, np.integer)) and value in (0, 1)


def _is_count(value: Any) -> bool:
    """A non-negative int (not a bool)."""
    return (
        isinstance(value, (int, np.integer))
        and not isinstance(value, bool)
        and value >= 0
    )


def _check_update_freq(update_freq: Any) -> Any:
    """``"epoch"``, or a number of batches (``"batch"`` is 1, as in Keras)."""
    if isinstance(update_freq, str) and update_freq in ("epoch", "batch"):
        return 1 if update_freq == "batch" else "epoch"
    if _is_count(update_freq) and update_freq > 0:
        return int(update_freq)
    raise ValueError(
        "update_freq must be 'epoch', 'batch' or a positive number of batches. "
        f"Received: update_freq={update_freq!r}"
    )


def _scalars(logs: dict, prefix: str) -> dict[str, float]:
    """The logs' numbers, their names prefixed; anything else is left out."""
    return {
        prefix + name: float(value)
        for name, value in logs.items()
        if np.ndim(value) == 0 and np.issubdtype(np.asarray(value).dtype, np.number)
    }


class TensorBoard(Callback):
    """Write the losses, metrics and weight histograms of ``fit`` for
    TensorBoard to show (Keras 3's callback): ``tensorboard --logdir logs``.

    Writes, as Keras does:

    - every epoch, the logs' numbers to ``log_dir/train`` as ``epoch_<name>``
      (``epoch_loss``, ``epoch_accuracy``, ``epoch_learning_rate``: the
      optimizer's current learning rate) and the ``val_`` ones to
      ``log_dir/validation`` without the prefix, at step ``epoch`` (from 0);
    - after each validation, and each ``evaluate`` the callback is passed to,
      ``evaluation_<name>_vs_iterations`` to ``log_dir/validation``, at the
      optimizer's ``iterations``;
    - ``update_freq="batch"`` or N: every N-th training batch, counted from 1
      across the epochs of a fit, the running logs as ``batch_<name>`` at
      that count;
    - ``histogram_freq=N``: every N epochs (0, N, 2N, ...), a histogram of
      each layer weight, tagged ``<weight path>/histogram``
      (``sequential/dense/kernel/histogram``);
    - ``write_steps_per_second``: ``epoch_steps_per_second`` (optimizer steps
      in the epoch over its seconds) and, with batch logging,
      ``batch_steps_per_second``;
    - ``write_graph``: a Sequential or functional model's config as
      TensorBoard's conceptual graph (tag ``keras``, at the start of ``fit``;
      Keras writes it in ``set_model``). TensorFlow's op graph does not exist
      here.

    Each ``fit`` (and ``evaluate``) starts new event files, so one
    ``log_dir`` holds the runs of a callback used again.

    Keras arguments glassnet does not do: ``profile_batch`` other than 0 and
    ``embeddings_freq`` other than 0 raise a ValueError (Keras's own answer
    to profiling on its PyTorch and NumPy backends; embeddings would be
    files the Projector reads). ``write_images=True`` warns and writes no
    images, and so does ``embeddings_metadata`` (Keras ignores it without
    ``embeddings_freq``): the rest is written as asked.

    >>> model.fit(x, y, epochs=5, validation_split=0.2,
    ...           callbacks=[TensorBoard(log_dir="logs", histogram_freq=1)])
    """

    def __init__(
        self,
        log_dir: Any = "logs",
        histogram_freq: int = 0,
        write_graph: bool = True,
        write_images: bool = False,
        write_steps_per_second: bool = False,
        update_freq: Any = "epoch",
        profile_batch: Any = 0,
        embeddings_freq: int = 0,
        embeddings_metadata: Any = None,
    ) -> None:
        super().__init__()
        if not isinstance(log_dir, (str, os.PathLike)):
            raise ValueError(
                "log_dir must be a path (str or os.PathLike). "
                f"Received: log_dir={log_dir!r}"
            )
        for name, value in [
            ("histogram_freq", histogram_freq),
            ("embeddings_freq", embeddings_freq),
        ]:
            if not _is_count(value):
                raise ValueError(
                    f"{name} must be a non-negative number of epochs. "
                    f"Received: {name}={value!r}"
                )
        for name, value in [
            ("write_graph", write_graph),
            ("write_images", write_images),
            ("write_steps_per_second", write_steps_per_second),
        ]:
            if not _is_flag(value):
                raise ValueError(
                    f"{name} must be True or False. Received: {name}={value!r}"
                )
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = int(histogram_freq)
        self.write_graph = bool(write_graph)
        self.write_images = bool(write_images)
        self.write_steps_per_second = bool(write_steps_per_second)
        self.update_freq = _check_update_freq(update_freq)
        self.profile_batch = profile_batch
        self.embeddings_freq = int(embeddings_freq)
        self.embeddings_metadata = embeddings_metadata
        self._refuse_what_glassnet_cannot_write()
        if self.update_freq != "epoch":
            # NOTE: only then: fit skips its batch hooks when no callback has
            # one (CallbackList.wants_batch_hooks), as it should for epochs.
            self.on_train_batch_begin = self._count_batch
            self.on_train_batch_end = self._write_batch_logs
        self._writers: dict[str, _events.EventFileWriter] = {}
        self._global_train_batch = 0
        self._batch_start = self._epoch_start = 0.0
        self._epoch_start_iterations = 0

    def _refuse_what_glassnet_cannot_write(self) -> None:
        if self.profile_batch:
            raise ValueError(
                "glassnet has no profiler (Keras profiles on its TensorFlow and "
                "JAX backends only): profile_batch must be 0. "
                f"Received: profile_batch={self.profile_batch!r}"
            )
        if self.embeddings_freq:
            raise ValueError(
                "glassnet writes no embeddings for TensorBoard's Projector: "
                "embeddings_freq must be 0. "
                f"Received: embeddings_freq={self.embeddings_freq!r}"
            )
        if self.write_images:
            warn(
                "TensorBoard(write_images=True): glassnet writes no images of "
                "the weights; the scalars and histograms are written as asked."
            )
        if self.embeddings_metadata is not None:
            warn(
                "TensorBoard(embeddings_metadata=...) has no effect: glassnet "
                "writes no embeddings (embeddings_freq must be 0)."
            )

    # --- writers --------------------------------------------------------------------
    def set_model(self, model: Any) -> None:
        super().set_model(model)
        self._writers = {}  # new files for each fit or evaluate, as in Keras

    def _writer(self, run: str) -> _events.EventFileWriter:
        if run not in self._writers:
            folder = os.path.join(self.log_dir, run)
            self._writers[run] = _events.EventFileWriter(folder)
        return self._writers[run]

    def _write_scalars(self, run: str, step: int, scalars: dict[str, float]) -> None:
        if scalars:
            values = [_events.scalar_value(tag, v) for tag, v in scalars.items()]
            self._writer(run).write(step, values)

    # --- what the model says ------------------------------------------------------
    def _optimizer(self) -> Any:
        """The optimizer that trains the model. NOTE: a scikit-learn estimator
        trains a copy of its ``optimizer`` parameter, kept as ``_optimizer``."""
        model = self.model
        return getattr(model, "_optimizer", None) or getattr(model, "optimizer", None)

    def _iterations(self) -> int | None:
        return getattr(self._optimizer(), "iterations", None)

    def _learning_rate(self) -> float | None:
        """The optimizer's learning rate now (a schedule's value at this step)."""
        optimizer = self._optimizer()
        rate = getattr(optimizer, "learning_rate", None)
        if rate is None:
            return None
        return float(rate(optimizer.iterations) if callable(rate) else rate)

    # --- hooks ----------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        self._global_train_batch = 0
        if self.histogram_freq and not hasattr(self.model, "layers"):
            raise ValueError(
                "TensorBoard(histogram_freq=...) draws the weights of a model's "
                "layers; this one has none. Use histogram_freq=0. Received: "
                f"model={type(self.model).__name__}, "
                f"histogram_freq={self.histogram_freq}"
            )
        if self.write_graph:
            self._write_model_graph()

    def _write_model_graph(self) -> None:
        """A Sequential or functional model's Keras JSON config, which
        TensorBoard's graph plugin draws (what Keras writes as tag ``keras``)."""
        if not hasattr(self.model, "to_json"):
            return
        try:
            config = self.model.to_json()
        except Exception as error:  # NOTE: as Keras: a graph is not worth a fit
            warn(f"TensorBoard: the model failed to serialize as JSON ({error}).")
            return
        if json.loads(config).get("class_name") in ("Sequential", "Functional"):
            value = _events.text_tensor_value("keras", config, "graph_keras_model")
            self._writer(TRAIN).write(0, [value])

    def _count_batch(self, batch, logs=None):
        self._global_train_batch += 1
        self._batch_start = time.perf_counter()

    def _write_batch_logs(self, batch, logs=None):
        step = self._global_train_batch
        if step % self.update_freq:
            return
        scalars = {}
        if self.write_steps_per_second:
            seconds = time.perf_counter() - self._batch_start
            scalars["batch_steps_per_second"] = 1.0 / seconds
        scalars.update(_scalars(logs or {}, "batch_"))
        self._write_scalars(TRAIN, step, scalars)

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = time.perf_counter()
        self._epoch_start_iterations = self._iterations() or 0

    def on_epoch_end(self, epoch, logs=None):
        if logs:
            train = {k: v for k, v in logs.items() if not k.startswith("val_")}
            validation = {k[4:]: v for k, v in logs.items() if k.startswith("val_")}
            learning_rate = self._learning_rate()
            if learning_rate is not None:
                train["learning_rate"] = learning_rate
            if self.write_steps_per_second:
                steps = (self._iterations() or 0) - self._epoch_start_iterations
                seconds = time.perf_counter() - self._epoch_start
                train["steps_per_second"] = steps / seconds
            self._write_scalars(TRAIN, epoch, _scalars(train, "epoch_"))
            self._write_scalars(VALIDATION, epoch, _scalars(validation, "epoch_"))
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._write_histograms(epoch)

    def _write_histograms(self, epoch: int) -> None:
        values = [
            _events.histogram_value(f"{weight.name}/histogram", weight.numpy())
            for layer in self.model.layers
            for weight in layer.weights
        ]
        if values:
            self._writer(TRAIN).write(epoch, values)

    def on_test_end(self, logs=None):
        iterations = self._iterations()
        if iterations is not None and logs:
            scalars = {
                f"evaluation_{name}_vs_iterations": value
                for name, value in _scalars(logs, "").items()
            }
            self._write_scalars(VALIDATION, iterations, scalars)
