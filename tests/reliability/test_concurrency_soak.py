"""A bounded soak: threads predicting, calling and evaluating a model while
another thread trains it, for a fixed number of iterations.

Every answer a reader gets must come from the weights of one moment between
two optimizer steps (equal, to the bit, to what a copy of the model with that
step's weights answers); training must end with the same weights and history
as training alone; grad mode must be on again in every thread afterwards (the
issue's first report: predicting threads left it off, and the next fit
failed)."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from glassnet import Tensor, config
from glassnet.autograd import is_grad_enabled
from glassnet.callbacks import Callback
from glassnet.layers import Conv2D, Dense, Dropout, Flatten, Input, MaxPooling2D
from glassnet.models import Sequential
from glassnet.runtime import parallel

READERS = 3
ITERATIONS = 24  # per reader thread


def _data(kind):
    rng = np.random.default_rng(1)
    shape = (64, 10) if kind == "dense" else (64, 12, 12, 1)
    x = rng.standard_normal(shape).astype("float32")
    return x, rng.standard_normal((64, 2)).astype("float32")


def _make(kind):
    np.random.seed(0)  # the initializers and the shuffles
    if kind == "dense":
        layers = [Input((10,)), Dense(48, activation="relu"), Dense(2)]
    else:
        layers = [
            Input((12, 12, 1)),
            Conv2D(4, 3, activation="relu"),
            MaxPooling2D(),
            Flatten(),
            Dropout(0.2, seed=3),
            Dense(2),
        ]
    model = Sequential(layers)
    model.compile("adam", "mse", metrics=["mae"])
    return model


class _Snapshots(Callback):
    def __init__(self, model, started):
        super().__init__()
        self.weights, self.started = [model.get_weights()], started

    def on_train_batch_end(self, batch, logs=None):
        self.weights.append(self.model.get_weights())
        self.started.set()


def _fit(model, x, y, callbacks=()):
    return model.fit(
        x, y, batch_size=8, epochs=3, verbose=0, callbacks=list(callbacks)
    ).history


def _ask(model, what, x, y):
    """One reader's question, and its answer as comparable data."""
    if what == "predict":
        return model.predict(x, batch_size=5, verbose=0)
    if what == "call":
        return model(Tensor(x)).data
    if what == "predict_on_batch":
        return model.predict_on_batch(x)
    return np.array(model.evaluate(x, y, batch_size=6, verbose=0))


QUESTIONS = ("predict", "call", "predict_on_batch", "evaluate")


@pytest.fixture
def several_blocks(monkeypatch):
    # small blocks and 2 kernel threads: the readers' and the trainer's
    # kernels share the pool and pin BLAS at once
    monkeypatch.setattr(parallel, "MIN_ELEMENTS", 1)
    monkeypatch.setattr(parallel, "BLOCK_BYTES", 1 << 14)
    monkeypatch.setattr(parallel, "blas_threads", lambda: 8)


@pytest.mark.parametrize("kind", ["dense", "cnn"])
def test_readers_during_fit_see_whole_steps_and_leave_training_alone(
    kind, several_blocks
):
    x, y = _data(kind)
    probe, target = x[:12], y[:12]
    with config.overrides(kernel_threads=2):
        alone = _make(kind)
        expected = _fit(alone, x, y)

    model = _make(kind)
    started = threading.Event()
    snapshots = _Snapshots(model, started)
    answers, errors, grad_modes = [], [], []

    def read(i):
        try:
            started.wait(30)
            with config.overrides(kernel_threads=2):
                for n in range(ITERATIONS):
                    what = QUESTIONS[(i + n) % len(QUESTIONS)]
                    answers.append((what, _ask(model, what, probe, target)))
            grad_modes.append(is_grad_enabled())
        except BaseException as error:  # reported in the main thread
            errors.append(error)

    threads = [threading.Thread(target=read, args=(i,)) for i in range(READERS)]
    for thread in threads:
        thread.start()
    try:
        with config.overrides(kernel_threads=2):
            history = _fit(model, x, y, [snapshots])
    finally:
        started.set()
        for thread in threads:
            thread.join(60)
    assert not errors, errors[0]
    assert len(answers) == READERS * ITERATIONS
    assert grad_modes == [True] * READERS and is_grad_enabled()

    # training: the same weights and history as training alone
    assert history == expected
    for ours, theirs in zip(model.get_weights(), alone.get_weights()):
        np.testing.assert_array_equal(ours, theirs)

    # readers: each answer is what the model said at one moment between steps
    twin = _make(kind)
    possible = {what: set() for what in QUESTIONS}
    with config.overrides(kernel_threads=2):
        for weights in snapshots.weights:
            twin.set_weights(weights)
            for what in QUESTIONS:
                possible[what].add(_ask(twin, what, probe, target).tobytes())
    torn = [what for what, answer in answers if answer.tobytes() not in possible[what]]
    assert torn == [], f"answers from half-updated weights: {torn}"

    # and the model trains again from this thread
    assert np.isfinite(model.fit(x, y, epochs=1, verbose=0).history["loss"][0])
