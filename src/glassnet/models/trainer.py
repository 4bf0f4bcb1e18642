"""Trainer: compile / fit / evaluate / predict and their loops, mixed into
:class:`~glassnet.models.Model` (Keras 3's ``Trainer``).

The loops only loop: the arguments are checked by
:mod:`~glassnet.models.arguments`; checked arrays, the validation split,
weights, generators, PyDatasets and batches come from
:mod:`~glassnet.models.data_adapter`; the loss and the metrics from
:mod:`~glassnet.models.compile_utils`; what runs per batch from
:mod:`~glassnet.models.steps` -- the model's own ``train_step`` /
``test_step`` / ``predict_step`` if it has one, else the lean built-in step,
which runs inside :func:`glassnet.runtime.kernel_scope` (the thread and BLAS
policy). Callbacks are called per batch only when one of them overrides a
batch hook. A NaN or infinite loss stops training before that batch touches
the weights.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

from glassnet import optimizers
from glassnet.autograd import no_grad
from glassnet.callbacks import Callback, CallbackList, History
from glassnet.models import data_adapter
from glassnet.models.arguments import checked
from glassnet.models.compile_utils import compile_containers, logs_as_result
from glassnet.models.data_adapter import Batch
from glassnet.models.epoch_iterator import EpochIterator, fit_iterators, make_iterator
from glassnet.models.progress import callback_list
from glassnet.models.steps import (
    PredictOutputs,
    Steps,
    concatenate,
    is_overridden,
    predict_function,
    step_function,
)


class Trainer(Steps):
    """The training API of :class:`~glassnet.models.Model`; relies on the model
    for ``call``, ``build``, ``_check_input``, ``_dtype``, ``_build_shape``,
    ``output_shape``, ``losses``, ``trainable_weights`` and ``_lock``."""

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
        one whole. A model of several outputs takes one ``loss`` for all, a
        list of one per output (in output order) or a dict by output name;
        ``loss_weights`` (factors of the outputs' losses in the total),
        ``metrics`` and ``weighted_metrics`` (which take the sample weights)
        as a list or dict the same way (:mod:`~glassnet.models.outputs`).
        ``run_eagerly``, ``jit_compile``, ``auto_scale_loss`` and
        ``steps_per_execution`` are accepted for Keras's sake and change nothing.
        """
        arguments = {k: v for k, v in locals().items() if k != "self"}
        resolved = (
            optimizers.get(optimizer),
            *compile_containers(self, loss, loss_weights, metrics, weighted_metrics),
        )
        self.optimizer, self._compile_loss, self._compile_metrics = resolved
        self.loss = loss
        self.compiled = True
        self._compile_arguments = arguments  # for get_compile_config (saving)

    def _prepare(self, kind: str) -> Callable[..., Batch]:
        """Ready to ``"train"`` or ``"test"``: compiled, the loss built;
        returns the check of the data, with targets as that step takes them."""
        if not self.compiled:
            raise RuntimeError(
                "You must call compile() before using the model for training or "
                "evaluation: model.compile(optimizer=..., loss=...)."
            )
        self._compile_loss.build(self)
        custom = is_overridden(self, f"{kind}_step")
        return partial(data_adapter.model_batch, self, targets=not custom)

    def _ready(self, first: Batch, training: bool = False) -> None:
        """Keras's symbolic build, once the first batch is checked: the compiled
        metrics resolved against its targets, and to train, the optimizer
        built on the trainable variables (a custom step may then call
        ``optimizer.apply(grads)`` alone)."""
        y = first[1]
        if y is not None and not self._compile_metrics.built:
            y_shape = [np.shape(a) for a in y] if isinstance(y, list) else np.shape(y)
            self._compile_metrics.build(self.loss, y_shape, self.output_shape)
        if training and not self.optimizer.built:
            self.optimizer.build(self.trainable_weights)

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
        """Train for ``epochs`` passes over the data; returns a
        :class:`History` (``.history``: one value per epoch for ``"loss"``,
        ``"val_loss"`` and each metric). A NaN or infinite loss stops training
        (with a warning) before that batch touches the weights."""
        iterator, val = fit_iterators(
            self._prepare("train"), x, y, sample_weight, class_weight, batch_size,
            shuffle, steps_per_epoch, validation_split, validation_data,
            validation_batch_size, validation_steps,
        )  # fmt: skip
        self._ready(iterator.first_batch, training=True)
        history = History()
        cbs = callback_list(
            [*callbacks, history], self, verbose, iterator.num_batches, epochs
        )
        train, test = step_function(self, "train"), step_function(self, "test")
        hooks, logs = cbs.wants_batch_hooks, {}
        self.stop_training = False
        cbs.on_train_begin()
        # NOTE: on_train_begin may set Keras 3's model._initial_epoch (resuming)
        initial_epoch = self.__dict__.pop("_initial_epoch", None) or initial_epoch
        for epoch in range(initial_epoch, epochs):
            batches = iterator.epoch()
            if batches is None:  # NOTE: a generator ran out (the iterator warned)
                break
            cbs.on_epoch_begin(epoch)
            train.reset()
            failed = False
            for step, batch in batches:
                if hooks:
                    cbs.on_train_batch_begin(step)
                if not train(batch):
                    failed = train.stopped(f"Epoch {epoch + 1}, batch {step}")
                    break
                if hooks:
                    cbs.on_train_batch_end(step, train.logs())
                    if self.stop_training:
                        break
            logs = train.logs(final=True)
            validate = val is not None and (epoch + 1) % validation_freq == 0
            if validate and not failed:
                val_logs = self._test_loop(val, cbs, test)
                logs.update({"val_" + key: value for key, value in val_logs.items()})
            cbs.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        cbs.on_train_end(logs)
        self.history = history
        return history

    # --- evaluate / predict ---------------------------------------------------------
    def _test_loop(self, iterator: EpochIterator, cbs: CallbackList, test=None):
        """Loss and metrics over one pass of ``iterator`` (the metrics resolved
        by the caller), with the ``on_test_*`` hooks; ``{}`` if a generator
        has no batch left."""
        iterator.reset()
        batches = iterator.epoch()
        if batches is None:
            return {}
        test, hooks = test or step_function(self, "test"), cbs.wants_batch_hooks
        test.reset()
        if hooks:
            self.stop_evaluating = False
        cbs.on_test_begin()
        with no_grad():
            for step, batch in batches:
                if hooks:
                    cbs.on_test_batch_begin(step)
                test(batch)
                if hooks:
                    cbs.on_test_batch_end(step, test.logs())
                    if self.stop_evaluating:
                        break
        logs = test.logs(final=True)
        cbs.on_test_end(logs)
        return logs

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
        """Loss (and metrics) on the data: a float, ``[loss, *metrics]`` or a
        dict; ``steps`` batches at most. Arguments checked as in :meth:`fit`."""
        iterator = make_iterator(
            self._prepare("test"), x, y, sample_weight, steps=steps,
            batch_size=batch_size,
        )  # fmt: skip
        self._ready(iterator.first_batch)
        cbs = callback_list(callbacks, self, verbose, iterator.num_batches)
        logs = self._test_loop(iterator, cbs)
        return logs_as_result(logs, return_dict, self._compile_loss.log_order)

    @checked
    def predict(
        self,
        x: Any,
        batch_size: int | None = None,
        verbose: Any = "auto",
        steps: int | None = None,
        callbacks: list[Callback] | None = None,
    ) -> np.ndarray:
        """The model's outputs for ``x`` (arrays with ``n >= 1`` samples, or a
        generator or PyDataset of batches), in batches: ``(n,
        *output_shape[1:])``, in the list or dict the model's outputs are in
        for several; ``steps`` batches at most."""
        standardize = partial(data_adapter.model_batch, self, targets=None)
        iterator = make_iterator(standardize, x, batch_size=batch_size, steps=steps)
        cbs = callback_list(callbacks, self, verbose, iterator.num_batches)
        hooks, predict = cbs.wants_batch_hooks, predict_function(self)
        outputs = PredictOutputs(iterator.num_samples)
        if hooks:
            self.stop_predicting = False
        cbs.on_predict_begin()
        with no_grad():
            for step, batch in iterator:
                if hooks:
                    cbs.on_predict_batch_begin(step)
                output = predict(batch)
                outputs.add(output)
                if hooks:
                    cbs.on_predict_batch_end(step, {"outputs": output})
                    if self.stop_predicting:
                        break
        cbs.on_predict_end()
        return outputs.result()

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
        return self._on_batch("train", x, y, sample_weight, class_weight, return_dict)

    @checked
    def test_on_batch(
        self, x: Any, y: Any = None, sample_weight: Any = None, return_dict=False
    ) -> Any:
        """Loss (and metrics) on this batch, without training."""
        return self._on_batch("test", x, y, sample_weight, None, return_dict)

    @checked
    def predict_on_batch(self, x: Any) -> np.ndarray:
        """The model's outputs for ``x`` (at least one sample), in one batch."""
        batch = data_adapter.model_batch(self, x, targets=None)
        out = self._planned_prediction(batch[0])
        if out is not None:
            return out
        with no_grad():
            return concatenate([predict_function(self)(batch)])  # a copy: ours

    def _on_batch(self, kind, x, y, sample_weight, class_weight, return_dict) -> Any:
        batch = self._prepare(kind)(x, y, sample_weight, class_weight)
        self._ready(batch, training=kind == "train")
        step = step_function(self, kind)
        step.reset()
        with no_grad() if kind == "test" else contextlib.nullcontext():
            if not step(batch):
                step.stopped("train_on_batch")
        logs = step.logs(final=True)
        return logs_as_result(logs, return_dict, self._compile_loss.log_order)
