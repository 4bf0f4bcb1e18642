"""Keras guide "Writing your own callbacks", feature by feature, on ``import
glassnet as keras``; the hooks' order and logs are compared with Keras 3's
for the same callback class. Features already tested elsewhere are listed in
``tests/guides/__init__.py``."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet

GLOBAL_HOOKS = [
    f"on_{kind}_{edge}"
    for kind in ("train", "test", "predict")
    for edge in ("begin", "end")
]
STEP_HOOKS = [
    *(
        f"on_{kind}_batch_{edge}"
        for kind in ("train", "test", "predict")
        for edge in ("begin", "end")
    ),
    "on_epoch_begin",
    "on_epoch_end",
]


def _recorder_class(k):
    """A callback that writes down each hook it gets, its index and its logs'
    keys (every hook, written out once by a loop)."""

    class Recorder(k.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.calls = []

    def global_hook(name):
        def hook(self, logs=None):
            self.calls.append((name, sorted(logs or {})))

        return hook

    def step_hook(name):
        def hook(self, index, logs=None):
            self.calls.append((name, index, sorted(logs or {})))

        return hook

    for name in GLOBAL_HOOKS:
        setattr(Recorder, name, global_hook(name))
    for name in STEP_HOOKS:
        setattr(Recorder, name, step_hook(name))
    return Recorder


def _regressor(k, learning_rate=0.1):
    model = k.Sequential()
    model.add(k.layers.Dense(1, input_dim=8))
    model.compile(
        optimizer=k.optimizers.RMSprop(learning_rate=learning_rate),
        loss="mean_squared_error",
        metrics=["mean_absolute_error"],
    )
    return model


def _data(n=40, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, (n, 8)).astype("float32")
    return x, (x @ rng.uniform(-1, 1, 8)).astype("float32")


def _hooks_of(k):
    x, y = _data()
    model = _regressor(k)
    Recorder = _recorder_class(k)
    during = [Recorder(), Recorder(), Recorder()]
    model.fit(
        x, y, batch_size=10, epochs=2, verbose=0, validation_split=0.5,
        callbacks=[during[0]],
    )  # fmt: skip
    model.evaluate(x, y, batch_size=20, verbose=0, callbacks=[during[1]])
    model.predict(x, batch_size=20, verbose=0, callbacks=[during[2]])
    return [recorder.calls for recorder in during]


def test_every_hook_runs_in_keras_order_with_keras_logs(keras):
    """Guide features: a Callback overriding every global, epoch and batch
    hook, passed to fit (with ``validation_split``), evaluate and predict;
    the hooks come in Keras 3's order, with Keras 3's log keys
    (``loss``, ``mean_absolute_error``, the ``val_`` ones, ``outputs``)."""
    ours, theirs = _hooks_of(glassnet), _hooks_of(keras)
    assert ours == theirs
    fit_calls = ours[0]
    assert fit_calls[0] == ("on_train_begin", [])
    assert ("on_epoch_end", 1, [
        "loss", "mean_absolute_error", "val_loss", "val_mean_absolute_error"
    ]) in fit_calls  # fmt: skip
    assert ("on_predict_batch_end", 0, ["outputs"]) in ours[2]


def test_logs_hold_the_running_loss_and_metric_of_the_epoch():
    """Guide feature: reading ``logs["loss"]`` and
    ``logs["mean_absolute_error"]`` at the end of each training and test batch
    and of each epoch: running means that end at the epoch's values."""

    class Printer(glassnet.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.train, self.test, self.epochs = [], [], []

        def on_train_batch_end(self, batch, logs=None):
            self.train.append(logs["loss"])

        def on_test_batch_end(self, batch, logs=None):
            self.test.append(logs["loss"])

        def on_epoch_end(self, epoch, logs=None):
            self.epochs.append((logs["loss"], logs["mean_absolute_error"]))

    x, y = _data()
    model = _regressor(glassnet)
    printer = Printer()
    model.fit(x, y, batch_size=10, epochs=2, verbose=0, callbacks=[printer])
    assert len(printer.train) == 8 and len(printer.epochs) == 2
    assert printer.train[3] == pytest.approx(printer.epochs[0][0])
    loss, _ = model.evaluate(x, y, batch_size=10, verbose=0, callbacks=[printer])
    assert len(printer.test) == 4 and printer.test[-1] == pytest.approx(loss)


class StopAtMinimumLoss(glassnet.callbacks.Callback):
    """Stops once the loss has not improved for ``patience`` epochs and puts
    back the weights of the best epoch, through ``self.model``."""

    def __init__(self, patience=0):
        super().__init__()
        self.patience = patience
        self.best_weights = None

    def on_train_begin(self, logs=None):
        self.wait, self.stopped_epoch, self.best = 0, 0, np.inf

    def on_epoch_end(self, epoch, logs=None):
        if logs["loss"] < self.best:
            self.best, self.wait = logs["loss"], 0
            self.best_weights = self.model.get_weights()
        else:
            self.wait += 1
            if self.wait >= self.patience:
                self.stopped_epoch = epoch
                self.model.stop_training = True
                self.model.set_weights(self.best_weights)


def test_a_callback_stops_training_and_restores_the_best_weights():
    """Guide feature: early stopping at the minimum loss written as a
    callback: ``self.model.get_weights()`` / ``set_weights()`` and
    ``self.model.stop_training = True``, with ``steps_per_epoch``."""
    x, y = _data(n=64)
    model = _regressor(glassnet, learning_rate=0.5)  # too large: the loss bounces
    stopper = StopAtMinimumLoss(patience=1)
    history = model.fit(
        x, y, batch_size=8, steps_per_epoch=5, epochs=30, verbose=0,
        callbacks=[stopper],
    )  # fmt: skip
    epochs = len(history.history["loss"])
    assert epochs < 30 and stopper.stopped_epoch == epochs - 1
    for mine, best in zip(model.get_weights(), stopper.best_weights):
        np.testing.assert_array_equal(mine, best)
    assert min(history.history["loss"]) == stopper.best


def test_a_callback_sets_the_learning_rate_each_epoch():
    """Guide feature: a learning-rate schedule written as a callback, reading
    ``self.model.optimizer.learning_rate`` and assigning a new one in
    ``on_epoch_begin``; the steps then use it."""
    table = {1: 0.05, 2: 0.01}
    seen = []

    class Schedule(glassnet.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            rate = float(np.array(self.model.optimizer.learning_rate))
            seen.append(rate)
            self.model.optimizer.learning_rate = table.get(epoch, rate)

    model = glassnet.Sequential([glassnet.Input((1,)), glassnet.layers.Dense(1)])
    model.set_weights([np.zeros((1, 1), "float32"), np.zeros(1, "float32")])
    model.compile(optimizer=glassnet.optimizers.SGD(learning_rate=0.1), loss="mae")
    kernels = []

    class Kernel(glassnet.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            kernels.append(float(self.model.get_weights()[0][0, 0]))

    model.fit(
        np.ones((1, 1)), np.full((1, 1), 10.0), epochs=4, verbose=0,
        callbacks=[Schedule(), Kernel()],
    )  # fmt: skip
    assert seen == pytest.approx([0.1, 0.1, 0.05, 0.01])
    np.testing.assert_allclose(
        np.diff([0.0, *kernels]), [0.1, 0.05, 0.01, 0.01], rtol=1e-5
    )
