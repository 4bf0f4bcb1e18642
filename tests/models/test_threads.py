"""Models used from several threads: predictions see whole optimizer steps,
training is not disturbed, the first call builds once, names stay unique,
models still pickle."""

from __future__ import annotations

import copy
import pickle
import threading

import numpy as np
import pytest

from glassnet import ops
from glassnet.autograd import is_grad_enabled
from glassnet.callbacks import Callback
from glassnet.layers import BatchNormalization, Dense, Dropout, Input
from glassnet.layers.base import unique_name
from glassnet.models import Model, Sequential
from glassnet.optimizers import SGD


def _data(n=64, features=8, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, features)).astype("float32")
    y = (x @ rng.standard_normal((features, 1))).astype("float32")
    return x, y


def _model(seed=0, width=64, optimizer="adam"):
    np.random.seed(seed)  # glorot draws and fit's shuffles
    model = Sequential(
        [
            Input((8,)),
            Dense(width, activation="relu", kernel_initializer="glorot_uniform"),
            BatchNormalization(),
            Dropout(0.25, seed=seed),
            Dense(width, activation="tanh"),
            Dense(1),
        ]
    )
    model.compile(optimizer, "mse", metrics=["mae"])
    return model


class _Snapshots(Callback):
    """The weights after every training step (taken in the training thread)."""

    def __init__(self, model):
        super().__init__()
        self.weights = [model.get_weights()]

    def on_train_batch_end(self, batch, logs=None):
        self.weights.append(self.model.get_weights())


def _in_threads(count, work, until):
    """Run ``work(i)`` in a loop in ``count`` threads until ``until`` is set;
    returns what each call returned, and re-raises the first error."""
    results, errors = [], []

    def loop(i):
        try:
            while not until.is_set():
                results.append(work(i))
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    return threads, results, errors


def _fit_with_readers(model, x, y, readers, work, epochs=4):
    snapshots = _Snapshots(model)
    done = threading.Event()
    threads, results, errors = _in_threads(readers, work, done)
    try:
        history = model.fit(
            x, y, batch_size=8, epochs=epochs, verbose=0, callbacks=[snapshots]
        )
    finally:
        done.set()
        for thread in threads:
            thread.join(30)
    if errors:
        raise errors[0]
    return history, snapshots.weights, results


def test_predictions_during_fit_come_from_whole_optimizer_steps():
    x, y = _data()
    model = _model(width=96, optimizer=SGD(0.01, momentum=0.9))
    probe = x[:20]
    history, snapshots, outputs = _fit_with_readers(
        model, x, y, readers=3, work=lambda i: model.predict(probe, 8, verbose=0)
    )
    clone = _model(width=96)
    expected = {}
    for k, weights in enumerate(snapshots):
        clone.set_weights(weights)
        expected.setdefault(clone.predict(probe, 8, verbose=0).tobytes(), k)
    assert len(outputs) > 10
    seen = {expected.get(out.tobytes(), "half-updated") for out in outputs}
    assert "half-updated" not in seen, "a prediction mixed weights of two steps"


def test_training_with_predicting_and_evaluating_threads_equals_training_alone():
    x, y = _data()
    alone = _model()
    expected = alone.fit(x, y, batch_size=8, epochs=4, verbose=0).history

    model = _model()

    def work(i):
        if i % 2:
            return model.predict(x[:16], verbose=0)
        return model.evaluate(x[:16], y[:16], verbose=0, return_dict=True)

    history, _, results = _fit_with_readers(model, x, y, readers=4, work=work)
    assert len(results) > 4
    assert history.history == expected  # losses and metrics, bit for bit
    for ours, theirs in zip(model.get_weights(), alone.get_weights()):
        np.testing.assert_array_equal(ours, theirs)
    assert is_grad_enabled()


def test_evaluate_during_fit_sees_one_set_of_weights():
    x, y = _data()
    model = _model(optimizer=SGD(0.02))
    history, snapshots, results = _fit_with_readers(
        model,
        x,
        y,
        readers=2,
        work=lambda i: model.evaluate(x, y, batch_size=16, verbose=0),
        epochs=2,
    )
    clone = _model()
    clone.compile(SGD(0.02), "mse", metrics=["mae"])
    expected = set()
    for weights in snapshots:
        clone.set_weights(weights)
        expected.add(tuple(clone.evaluate(x, y, batch_size=16, verbose=0)))
    assert results and all(tuple(r) in expected for r in results)


def _race(count, work):
    """``work()`` in ``count`` threads started together; their results."""
    start = threading.Barrier(count, timeout=10)
    results = [None] * count

    def run(i):
        start.wait()
        results[i] = work()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def test_the_first_calls_from_several_threads_build_the_model_once():
    x = np.ones((2, 5), dtype="float32")
    model = Sequential([Dense(4, activation="relu"), Dense(3)])
    outputs = _race(6, lambda: model.predict(x, verbose=0))
    assert model.count_params() == 5 * 4 + 4 + 4 * 3 + 3
    assert [len(layer.weights) for layer in model.layers] == [2, 2]
    for out in outputs:
        np.testing.assert_array_equal(out, outputs[0])


def test_the_first_calls_of_a_layer_from_several_threads_build_it_once():
    layer = Dense(3)
    x = np.ones((2, 4), dtype="float32")
    outputs = _race(6, lambda: layer(x).data)
    assert len(layer.weights) == 2 and layer.count_params() == 15
    for out in outputs:
        np.testing.assert_array_equal(out, outputs[0])


def test_the_first_calls_of_a_subclassed_model_build_it_once():
    class Net(Model):
        def __init__(self):
            super().__init__()
            self.hidden = Dense(4, activation="tanh")
            self.out = Dense(1)

        def call(self, x, training=False):
            return self.out(self.hidden(x))

    model = Net()
    outputs = _race(4, lambda: model(np.ones((3, 2), dtype="float32")).data)
    assert model.count_params() == 2 * 4 + 4 + 4 + 1
    for out in outputs:
        np.testing.assert_array_equal(out, outputs[0])


def test_automatic_names_are_unique_across_threads():
    names = _race(8, lambda: [unique_name("probe") for _ in range(300)])
    flat = [name for chunk in names for name in chunk]
    assert len(set(flat)) == len(flat) == 2400


def test_the_fused_linear_relu_zeros_cache_is_safe_across_threads():
    # ops.linear keeps read-only zero arrays per shape (at most 16): threads
    # using more shapes than that at once clear it under each other's feet.
    rng = np.random.default_rng(0)
    cases = [
        (rng.standard_normal((n, 3)), rng.standard_normal((3, 2))) for n in range(1, 41)
    ]

    def work():
        for _ in range(5):
            for x, w in cases:
                got = ops.linear(x, w, activation="relu").data
                np.testing.assert_array_equal(got, np.maximum(x @ w, 0))
        return True

    assert _race(4, work) == [True] * 4


@pytest.mark.parametrize("clone", [pickle.loads, copy.deepcopy])
def test_models_with_their_locks_still_pickle_and_copy(clone):
    x, y = _data()
    model = _model()
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    twin = clone(pickle.dumps(model)) if clone is pickle.loads else clone(model)
    assert twin._lock is not model._lock
    np.testing.assert_array_equal(
        twin.predict(x, verbose=0), model.predict(x, verbose=0)
    )
    twin.fit(x, y, batch_size=16, epochs=1, verbose=0)  # the copy trains
    assert twin.evaluate(x, y, verbose=0) != model.evaluate(x, y, verbose=0)


def test_a_call_in_one_thread_keeps_its_activity_penalty_to_itself():
    layer = Dense(2, activity_regularizer="l2", kernel_initializer="ones")
    layer(np.ones((1, 3), "float32"))
    penalties = {}

    def call(scale):
        layer(np.full((1, 3), scale, "float32"))
        penalties[scale] = float(layer.losses[0].data)

    threads = [threading.Thread(target=call, args=(s,)) for s in (1.0, 2.0)]
    for thread in threads:
        thread.start()
        thread.join(10)
    # l2 (0.01) of the outputs: 2 units of 3 * scale each
    assert penalties == pytest.approx({1.0: 0.01 * 18, 2.0: 0.01 * 72})
    assert float(layer.losses[0].data) == pytest.approx(0.01 * 18)  # this thread's
