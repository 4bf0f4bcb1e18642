"""Trainer: compile / fit / evaluate / predict and their loops, mixed into
:class:`~glassnet.models.Model` (Keras 3's ``Trainer``).

The loops only loop: the arguments are checked by
:mod:`~glassnet.models.arguments`; checked arrays, the validation split,
weights and batches come from :mod:`~glassnet.models.data_adapter`; the loss
and the metrics from :mod:`~glassnet.models.compile_utils`. A training step
is one forward pass, one backward pass seeded with the gradient of the batch's
loss, and ``optimizer.step``; it runs inside
:func:`glassnet.runtime.kernel_scope` (the thread and BLAS policy), as does
every evaluate and predict batch. Callbacks are called per batch only when one
of them overrides a batch hook. A NaN or infinite loss stops training before
that batch touches the weights.
"""

from __future__ import annotations

from math import isfinite
from typing import Any

import numpy as np

from glassnet import optimizers
from glassnet.autograd import Tensor, no_grad
from glassnet.callbacks import Callback, CallbackList, History
from glassnet.models import data_adapter
from glassnet.models.arguments import checked
from glassnet.models.compile_utils import (
    CompileLoss,
    CompileMetrics,
    logs_as_result,
    warn_not_finite,
)
from glassnet.models.data_adapter import Batch, EpochIterator
from glassnet.models.progress import callback_list
from glassnet.runtime import kernel_scope


class Trainer:
    """The training API of :class:`~glassnet.models.Model`; relies on the model
    for ``call``, ``build``, ``_check_input``, ``_dtype``, ``_build_shape``,
    ``output_shape``, ``losses`` and ``trainable_weights``."""

    # --- compile ------------------------------------------------------------------
    @checked
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
        auto_scale_loss: Any = None,
    ) -> None:
        """Choose the optimizer, the loss and the metrics to report.

        Each may be a name (``"adam"``, ``"mse"``, ``"accuracy"``), an instance or
        (loss, metrics) a function ``(y_true, y_pred) -> Tensor``. Every name is
        resolved here (an unknown one: ValueError with the closest valid names),
        before anything is assigned: a compile that fails leaves the previous
        one whole. ``run_eagerly``, ``jit_compile``, ``auto_scale_loss`` and
        ``steps_per_execution`` are accepted for Keras's sake and change nothing.
        """
        arguments = {k: v for k, v in locals().items() if k != "self"}
        if loss_weights is not None or weighted_metrics:
            raise NotImplementedError(
                "loss_weights and weighted_metrics (multi-output / weighted metric "
                "reporting) are not supported yet. Received: "
                f"loss_weights={loss_weights!r}, weighted_metrics={weighted_metrics!r}"
            )
        resolved = optimizers.get(optimizer), CompileLoss(loss), CompileMetrics(metrics)
        self.optimizer, self._compile_loss, self._compile_metrics = resolved
        self.loss = loss
        self.compiled = True
        self._compile_arguments = arguments  # for get_compile_config (saving)

    def _prepare_training(self) -> None:
        if not self.compiled:
            raise RuntimeError(
                "You must call compile() before using the model for training or "
                "evaluation: model.compile(optimizer=..., loss=...)."
            )
        self._compile_loss.build(self)

    def _metrics_for(self, y: np.ndarray) -> CompileMetrics:
        """The compiled metrics, resolved against the first targets seen."""
        if not self._compile_metrics.built:
            self._compile_metrics.build(self.loss, np.shape(y), self.output_shape)
        return self._compile_metrics

    # --- data ---------------------------------------------------------------------
    def _as_x(self, x: Any, allow_empty: bool = True) -> np.ndarray:
        """``x`` checked and cast to the model's dtype; the first data seen
        builds the model."""
        x = data_adapter.standardize_x(
            x, self._dtype, self._build_shape, self.name, allow_empty
        )
        if not self.built:
            self.build(x.shape)
        else:
            self._check_input(x.shape)
        return x

    def _as_arrays(self, x, y, sample_weight=None, class_weight=None) -> Batch:
        """``(x, y, sample_weight)`` checked against each other and the model."""
        x, targets = self._as_x(x, allow_empty=False), self._compile_loss.targets
        if y is None and self._compile_loss.fn is None:  # the model's own losses
            return x, None, None
        y = data_adapter.standardize_y(
            y, len(x), self.output_shape, self._dtype, targets
        )
        sw = data_adapter.sample_weights(y, sample_weight, class_weight, self._dtype)
        return x, y, sw

    # --- one batch ----------------------------------------------------------------
    def _train_step(
        self, batch: Batch, params: list[Tensor]
    ) -> tuple[float, np.ndarray]:
        """One optimizer step on ``(x, y, sample_weight)``; returns the batch's
        loss and the model's output. A NaN or infinite loss changes nothing."""
        x, y, sample_weight = batch
        loss = self._compile_loss
        with kernel_scope():
            y_pred = self._forward(x, True)
            penalties = loss.penalties(self)
            root, seed, value = loss(y, y_pred, sample_weight, penalties)
            if not isfinite(value):
                return value, y_pred.data
            if root is not None:  # None: no compiled loss, the model's own only
                root.backward(seed)
            for penalty in penalties:
                if penalty.requires_grad:
                    penalty.backward()
            self.optimizer.step(params)
        for p in params:
            p.grad = None
        return value, y_pred.data

    def _test_step(self, batch: Batch) -> tuple[float, np.ndarray]:
        """The loss (penalties included) and the output on one batch."""
        x, y, sample_weight = batch
        loss = self._compile_loss
        with kernel_scope():
            y_pred = self._forward(x, False)
            value = loss(y, y_pred, sample_weight, loss.penalties(self))[2]
        return value, y_pred.data

    def _predict_step(self, x: np.ndarray) -> np.ndarray:
        with kernel_scope():
            return self._forward(x, False).data

    def _logs(self, loss_total: float, count: int, prefix: str = "") -> dict:
        logs = {prefix + "loss": loss_total / count if count else float("nan")}
        if self._compile_metrics:
            logs.update(self._compile_metrics.result(prefix))
        return logs

    # --- fit ------------------------------------------------------------------------
    @checked
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
        """Train for ``epochs`` passes over ``x`` and ``y``; returns a
        :class:`History` (``.history``: one value per epoch for ``"loss"``,
        ``"val_loss"`` and each metric). A NaN or infinite loss stops training
        (with a warning) before that batch touches the weights."""
        self._prepare_training()
        batch_size = batch_size or 32
        train, val = self._as_arrays(x, y, sample_weight, class_weight), None
        if validation_data is not None:
            with data_adapter.prefixed("validation_data"):
                val = self._as_arrays(*validation_data)
        elif validation_split:
            train, val = data_adapter.train_validation_split(train, validation_split)
        iterator = EpochIterator(*train, batch_size, shuffle, steps_per_epoch)
        if val is not None:
            val_batch_size = validation_batch_size or batch_size
            val = EpochIterator(*val, val_batch_size, steps_per_epoch=validation_steps)
        metrics = self._metrics_for(train[1])
        history = History()
        cbs = callback_list(
            [history, *callbacks], self, verbose, iterator.num_batches, epochs
        )
        batch_hooks, params = cbs.wants_batch_hooks, self.trainable_weights
        logs = None
        self.stop_training = False
        cbs.on_train_begin()
        # NOTE: on_train_begin may set Keras 3's model._initial_epoch (resuming)
        initial_epoch = self.__dict__.pop("_initial_epoch", None) or initial_epoch
        for epoch in range(initial_epoch, epochs):
            cbs.on_epoch_begin(epoch)
            metrics.reset()
            total, seen = 0.0, 0
            for step, batch in iterator:
                if batch_hooks:
                    cbs.on_train_batch_begin(step)
                value, y_pred = self._train_step(batch, params)
                if not isfinite(value):
                    warn_not_finite(value, f"Epoch {epoch + 1}, batch {step}")
                    self.stop_training = True
                    total, seen = value, 1
                    break
                total += value * len(y_pred)
                seen += len(y_pred)
                if metrics:
                    metrics.update(batch[1], y_pred)
                if batch_hooks:
                    cbs.on_train_batch_end(step, self._logs(total, seen))
            logs = self._logs(total, seen)
            validate = val is not None and (epoch + 1) % validation_freq == 0
            if validate and not self.stop_training:
                logs.update(self._test_loop(val, prefix="val_"))
            cbs.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        cbs.on_train_end(logs)
        self.history = history
        return history

    # --- evaluate / predict ---------------------------------------------------------
    def _test_loop(
        self, iterator: EpochIterator, prefix: str = "", cbs: CallbackList | None = None
    ) -> dict[str, float]:
        """Loss and metrics (resolved by the caller) over the batches of
        ``iterator``; the logs are keyed ``prefix + name``."""
        metrics = self._compile_metrics
        metrics.reset()
        total, seen = 0.0, 0
        with no_grad():
            for step, batch in iterator:
                value, y_pred = self._test_step(batch)
                total += value * len(y_pred)
                seen += len(y_pred)
                if metrics:
                    metrics.update(batch[1], y_pred)
                if cbs is not None:
                    cbs.on_test_batch_end(step, self._logs(total, seen))
        return self._logs(total, seen, prefix)

    @checked
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
        """Loss (and metrics) on ``(x, y)``: a float, ``[loss, *metrics]`` or a
        dict; ``steps`` batches at most. Arguments checked as in :meth:`fit`."""
        self._prepare_training()
        data = self._as_arrays(x, y, sample_weight)
        self._metrics_for(data[1])
        iterator = EpochIterator(*data, batch_size or 32, steps_per_epoch=steps)
        steps = iterator.num_batches
        cbs = callback_list(callbacks, self, verbose, steps)
        cbs.on_test_begin()
        batch_cbs = cbs if cbs.wants_batch_hooks else None
        logs = self._test_loop(iterator, cbs=batch_cbs)
        cbs.on_test_end(logs)
        return logs_as_result(logs, return_dict)

    @checked
    def predict(
        self,
        x: Any,
        batch_size: int | None = None,
        verbose: Any = "auto",
        steps: int | None = None,
        callbacks: list[Callback] | None = None,
    ) -> np.ndarray:
        """The model's outputs for ``x`` (array or nested list, ``n >= 1``) in
        batches: ``(n, *output_shape[1:])``; ``steps`` batches at most."""
        x = self._as_x(x, allow_empty=False)
        iterator = EpochIterator(x, batch_size=batch_size or 32, steps_per_epoch=steps)
        steps = iterator.num_batches
        cbs = callback_list(callbacks, self, verbose, steps)
        cbs.on_predict_begin()
        outputs = []
        with no_grad():
            for step, (x_batch, _, _) in iterator:
                outputs.append(self._predict_step(x_batch))
                if cbs.wants_batch_hooks:
                    cbs.on_predict_batch_end(step, {"outputs": outputs[-1]})
        cbs.on_predict_end()
        return np.concatenate(outputs) if len(outputs) > 1 else outputs[0].copy()

    # --- single batches -------------------------------------------------------------
    @checked
    def train_on_batch(
        self,
        x: Any,
        y: Any = None,
        sample_weight: Any = None,
        class_weight: dict | None = None,
        return_dict: bool = False,
    ) -> Any:
        """One optimizer step on this batch; returns its loss (and metrics).
        The data and weights are checked as :meth:`fit` checks them."""
        self._prepare_training()
        batch = self._as_arrays(x, y, sample_weight, class_weight)
        metrics = self._metrics_for(batch[1])
        metrics.reset()
        value, y_pred = self._train_step(batch, self.trainable_weights)
        if not isfinite(value):
            warn_not_finite(value, "train_on_batch")
        metrics.update(batch[1], y_pred)
        return logs_as_result(self._logs(value, 1), return_dict)

    @checked
    def test_on_batch(
        self, x: Any, y: Any = None, sample_weight: Any = None, return_dict=False
    ) -> Any:
        """Loss (and metrics) on this batch, without training."""
        self._prepare_training()
        data = self._as_arrays(x, y, sample_weight)
        self._metrics_for(data[1])
        iterator = EpochIterator(*data, batch_size=len(data[0]))
        return logs_as_result(self._test_loop(iterator), return_dict)

    @checked
    def predict_on_batch(self, x: Any) -> np.ndarray:
        """The model's outputs for ``x`` (at least one sample), in one batch."""
        x = self._as_x(x, allow_empty=False)
        with no_grad():
            return self._predict_step(x).copy()
