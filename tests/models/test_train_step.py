"""Custom training steps, as in Keras's guide "Customizing what happens in
fit()": ``train_step`` / ``test_step`` / ``predict_step`` overridden, with
``compute_loss``, ``compute_metrics``, ``metrics`` and the optimizer's
``apply``. Each guide program runs in Keras 3 (torch backend) and in glassnet
from the same weights and data: the logs, the weights and the predictions
agree (float32, relative 1e-5). Skipped without Keras; the glassnet-only
tests below them always run.
"""

from __future__ import annotations

import os
import threading

import numpy as np
import pytest

from glassnet import losses, metrics, optimizers
from glassnet.autograd import Tensor
from glassnet.callbacks import Callback
from glassnet.layers import Dense, Input
from glassnet.models import Model, Sequential
from glassnet.models.data_adapter import unpack_x_y_sample_weight
from glassnet.models.steps import step_function

os.environ.setdefault("KERAS_BACKEND", "torch")

RNG = np.random.default_rng(0)
X = RNG.standard_normal((64, 3)).astype("float32")
Y = (X @ np.array([[1.0], [-2.0], [0.5]], "float32") + 0.1).astype("float32")
SW = RNG.uniform(0.1, 2.0, 64).astype("float32")
FIT = dict(batch_size=16, epochs=3, shuffle=False, verbose=0)


@pytest.fixture(scope="module")
def torch(keras):
    import torch

    return torch


def _functional(api, cls, regularizer=None):
    """Dense(4, tanh) -> Dense(1) as ``cls(inputs, outputs)`` in ``api``."""
    inputs = api.Input((3,))
    hidden = api.layers.Dense(4, activation="tanh", kernel_regularizer=regularizer)
    return cls(inputs, api.layers.Dense(1)(hidden(inputs)))


class _Glassnet:
    """glassnet under Keras's module names, for :func:`_functional`."""

    Input = Input
    layers = type("layers", (), {"Dense": Dense})


def _pair(keras, gcls, kcls, regularizer=None, **compile_kwargs):
    """The same model in both libraries, compiled alike, with equal weights."""
    ours = _functional(_Glassnet, gcls, regularizer)
    theirs = _functional(keras, kcls, regularizer)
    theirs.set_weights(ours.get_weights())
    ours.compile(optimizer=optimizers.SGD(0.05), **compile_kwargs)
    theirs.compile(optimizer=keras.optimizers.SGD(0.05), **compile_kwargs)
    return ours, theirs


def _close(ours, theirs, rtol=1e-5):
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=1e-6)


def _same_history(ours, theirs):
    assert sorted(ours.history) == sorted(theirs.history)
    for key, values in theirs.history.items():
        _close(ours.history[key], values)


def _same_weights(ours, theirs):
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        _close(a, b)


# --- the guide's programs, in glassnet's words ----------------------------------------
class GuideModel(Model):
    """The guide's first train_step: compute_loss, backward, optimizer.apply,
    and every metric of self.metrics updated by hand."""

    def train_step(self, data):
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        y_pred = self(x, training=True)
        loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight)
        loss.backward()
        grads = [v.grad for v in self.trainable_variables]
        self.optimizer.apply(grads, self.trainable_variables)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred, sample_weight=sample_weight)
        return {m.name: m.result() for m in self.metrics}


class OwnLossModel(Model):
    """Compiled with only an optimizer: the step computes its own loss and
    keeps its own trackers, listed by the ``metrics`` property."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.loss_tracker = metrics.Mean(name="loss")
        self.mae_metric = metrics.MeanAbsoluteError(name="mae")
        self.loss_fn = losses.MeanSquaredError()

    def train_step(self, data):
        x, y = data
        y_pred = self(x, training=True)
        loss = self.loss_fn(y, y_pred)
        loss.backward()
        self.optimizer.apply_gradients(
            zip([v.grad for v in self.trainable_variables], self.trainable_variables)
        )
        self.loss_tracker.update_state(loss)
        self.mae_metric.update_state(y, y_pred)
        return {"loss": self.loss_tracker.result(), "mae": self.mae_metric.result()}

    @property
    def metrics(self):
        return [self.loss_tracker, self.mae_metric]


class EvalModel(Model):
    """The guide's own test_step."""

    def test_step(self, data):
        x, y = data
        y_pred = self(x, training=False)
        loss = self.compute_loss(y=y, y_pred=y_pred)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


class DoublePredict(Model):
    def predict_step(self, data):
        x, _, _ = unpack_x_y_sample_weight(data)
        return self(x, training=False) * 2.0


def _keras_classes(keras, torch):
    """The same programs as Keras's torch guide writes them."""

    class KGuide(keras.Model):
        def train_step(self, data):
            if len(data) == 3:
                x, y, sample_weight = data
            else:
                (x, y), sample_weight = data, None
            self.zero_grad()
            y_pred = self(x, training=True)
            loss = self.compute_loss(y=y, y_pred=y_pred, sample_weight=sample_weight)
            loss.backward()
            weights = list(self.trainable_weights)
            with torch.no_grad():
                self.optimizer.apply([v.value.grad for v in weights], weights)
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(y, y_pred, sample_weight=sample_weight)
            return {m.name: m.result() for m in self.metrics}

    class KOwnLoss(keras.Model):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.loss_tracker = keras.metrics.Mean(name="loss")
            self.mae_metric = keras.metrics.MeanAbsoluteError(name="mae")
            self.loss_fn = keras.losses.MeanSquaredError()

        def train_step(self, data):
            x, y = data
            self.zero_grad()
            y_pred = self(x, training=True)
            loss = self.loss_fn(y, y_pred)
            loss.backward()
            weights = list(self.trainable_weights)
            with torch.no_grad():
                self.optimizer.apply([v.value.grad for v in weights], weights)
            self.loss_tracker.update_state(loss)
            self.mae_metric.update_state(y, y_pred)
            return {"loss": self.loss_tracker.result(), "mae": self.mae_metric.result()}

        @property
        def metrics(self):
            return [self.loss_tracker, self.mae_metric]

    class KEval(keras.Model):
        def test_step(self, data):
            x, y = data
            y_pred = self(x, training=False)
            loss = self.compute_loss(y=y, y_pred=y_pred)
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}

    class KDouble(keras.Model):
        def predict_step(self, data):
            x = data[0] if isinstance(data, tuple) else data
            return self(x, training=False) * 2.0

    return KGuide, KOwnLoss, KEval, KDouble


@pytest.fixture(scope="module")
def keras_classes(keras, torch):
    return _keras_classes(keras, torch)


@pytest.mark.parametrize("weighted", [False, True])
def test_the_guides_train_step_trains_as_in_keras(keras, keras_classes, weighted):
    ours, theirs = _pair(
        keras, GuideModel, keras_classes[0], loss="mse", metrics=["mae"]
    )
    sw = SW if weighted else None
    _same_history(
        ours.fit(X, Y, sample_weight=sw, **FIT),
        theirs.fit(X, Y, sample_weight=sw, **FIT),
    )
    _same_weights(ours, theirs)
    assert ours.optimizer.iterations == int(theirs.optimizer.iterations) == 12
    assert ours.metrics_names == theirs.metrics_names == ["loss", "compile_metrics"]


def test_compile_with_only_an_optimizer_and_own_trackers(keras, keras_classes):
    ours, theirs = _pair(keras, OwnLossModel, keras_classes[1])
    _same_history(ours.fit(X, Y, **FIT), theirs.fit(X, Y, **FIT))
    _same_weights(ours, theirs)
    assert ours.metrics_names == theirs.metrics_names == ["loss", "mae"]


def test_the_guides_test_step_evaluates_as_in_keras(keras, keras_classes):
    ours, theirs = _pair(
        keras, EvalModel, keras_classes[2], loss="mse", metrics=["mae"]
    )
    got = ours.evaluate(X, Y, batch_size=16, verbose=0, return_dict=True)
    want = theirs.evaluate(X, Y, batch_size=16, verbose=0, return_dict=True)
    assert sorted(got) == sorted(want) == ["loss", "mae"]
    for key in want:
        _close(got[key], want[key])
    fit = dict(FIT, validation_data=(X[:20], Y[:20]))
    _same_history(ours.fit(X, Y, **fit), theirs.fit(X, Y, **fit))


def test_a_custom_predict_step_predicts_as_in_keras(keras, keras_classes):
    ours, theirs = _pair(keras, DoublePredict, keras_classes[3], loss="mse")
    got = ours.predict(X, batch_size=16, verbose=0)
    _close(got, theirs.predict(X, batch_size=16, verbose=0))
    plain = _functional(_Glassnet, Model)
    plain.set_weights(ours.get_weights())
    _close(got, 2.0 * plain.predict(X, verbose=0))
    _close(ours.predict_on_batch(X[:5]), got[:5])


def test_metrics_after_a_default_fit_are_keras_s(keras):
    ours, theirs = _pair(keras, Model, keras.Model, loss="mse", metrics=["mae"])
    assert ours.metrics_names == theirs.metrics_names == ["loss", "compile_metrics"]
    _same_history(ours.fit(X, Y, **FIT), theirs.fit(X, Y, **FIT))
    got, want = ours.get_metrics_result(), theirs.get_metrics_result()
    assert list(got) == ["loss", "mae"] and sorted(want) == ["loss", "mae"]
    for key in want:
        _close(got[key], float(want[key]))
    ours.reset_metrics()
    theirs.reset_metrics()
    assert ours.get_metrics_result() == {"loss": 0.0, "mae": 0.0}
    assert {k: float(v) for k, v in theirs.get_metrics_result().items()} == {
        "loss": 0.0,
        "mae": 0.0,
    }
    plain = Sequential([Input((3,)), Dense(1)])
    assert plain.metrics == []
    plain.compile("sgd", "mse")
    assert [type(m).__name__ for m in plain.metrics] == ["Mean"]


def test_compute_loss_and_its_gradients_are_keras_s(keras, torch):
    regularizer = "l2"
    ours, theirs = _pair(keras, Model, keras.Model, regularizer, loss="mse")
    y_pred = ours(X, training=True)
    loss = ours.compute_loss(x=X, y=Y, y_pred=y_pred, sample_weight=SW)
    assert isinstance(loss, Tensor) and loss.data.shape == ()
    theirs.zero_grad()
    want = theirs.compute_loss(
        x=X, y=torch.tensor(Y), y_pred=theirs(X, training=True), sample_weight=SW
    )
    _close(float(loss.data), float(want.detach()))
    loss.backward()
    want.backward()
    for ours_w, theirs_w in zip(ours.trainable_variables, theirs.trainable_weights):
        _close(ours_w.grad, theirs_w.value.grad.numpy())


def test_apply_skips_none_gradients_as_keras_does(keras, torch):
    ours = [Tensor(np.ones(2, "float32")), Tensor(np.ones(2, "float32"))]
    # NOTE: named, so that Keras's global counter of default names stays put
    theirs = [keras.Variable(np.ones(2, "float32"), name=f"v{i}") for i in range(2)]
    grad = np.full(2, 0.5, "float32")
    opt, kopt = optimizers.SGD(0.1), keras.optimizers.SGD(0.1)
    with pytest.warns(UserWarning, match="Gradients do not exist"):
        opt.apply([grad, None], ours)
    with pytest.warns(UserWarning, match="Gradients do not exist"):
        kopt.apply([torch.tensor(grad), None], theirs)
    for a, b in zip(ours, theirs):
        _close(a.data, b.numpy())
    assert opt.iterations == int(kopt.iterations) == 1
    assert opt.apply_gradients(zip([grad, grad], ours)) == 2
    with pytest.raises(ValueError, match="No gradients provided for any variable"):
        opt.apply([None, None], ours)
    with pytest.raises(ValueError, match="No gradients provided for any variable"):
        kopt.apply([None, None], theirs)
    opt.apply([], [])  # nothing to do, as in Keras
    kopt.apply([], [])
    assert opt.iterations == 2 and int(kopt.iterations) == 1
    opt.apply([grad, grad])  # the variables it was built with
    np.testing.assert_allclose(ours[0].data, 1.0 - 3 * 0.05)
    with pytest.raises(ValueError, match="must already be built"):
        optimizers.SGD().apply([grad])


# --- glassnet only ------------------------------------------------------------------
def _regressor(cls=Sequential):
    np.random.seed(3)
    if cls is Sequential:
        model = Sequential([Input((3,)), Dense(4, activation="tanh"), Dense(1)])
    else:
        model = _functional(_Glassnet, cls)
    model.compile(optimizers.SGD(0.05), "mse", metrics=["mae"])
    return model


class SuperStep(Model):
    def train_step(self, data):
        return super().train_step(data)

    def test_step(self, data):
        return super().test_step(data)


def test_models_without_their_own_step_run_the_built_in_one():
    plain, custom = _regressor(Model), _regressor(GuideModel)
    assert type(step_function(plain, "train")).__name__ == "_BuiltinTrain"
    assert type(step_function(plain, "test")).__name__ == "_BuiltinTest"
    assert type(step_function(custom, "train")).__name__ == "_CustomSteps"
    assert type(step_function(custom, "test")).__name__ == "_BuiltinTest"


def test_super_train_step_is_the_built_in_step_bit_for_bit():
    plain, wrapped = _regressor(Model), _regressor(SuperStep)
    wrapped.set_weights(plain.get_weights())
    fit = dict(FIT, validation_data=(X[:20], Y[:20]))
    a, b = plain.fit(X, Y, **fit), wrapped.fit(X, Y, **fit)
    assert a.history == b.history
    for w1, w2 in zip(plain.get_weights(), wrapped.get_weights()):
        np.testing.assert_array_equal(w1, w2)
    assert plain.evaluate(X, Y, verbose=0) == wrapped.evaluate(X, Y, verbose=0)
    assert plain.train_on_batch(X, Y) == wrapped.train_on_batch(X, Y)
    assert plain.test_on_batch(X, Y) == wrapped.test_on_batch(X, Y)


class LogsModel(Model):
    def train_step(self, data):
        x, y = data
        loss = self.compute_loss(y=y, y_pred=self(x, training=True))
        loss.backward()
        self.optimizer.apply([v.grad for v in self.trainable_variables])
        return {"loss": loss, "extra": {"batch_size": np.float32(len(x))}}


def test_the_logs_a_step_returns_reach_callbacks_and_history_as_floats():
    model = _regressor(LogsModel)
    seen = []

    class Spy(Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(dict(logs))

    history = model.fit(X, Y, batch_size=24, epochs=2, callbacks=Spy(), verbose=0)
    assert list(history.history) == ["loss", "batch_size"]
    assert history.history["batch_size"] == [16.0, 16.0]  # the last step's logs
    assert all(type(v) is float for logs in seen for v in logs.values())
    assert len(seen) == 6 and seen[0]["batch_size"] == 24.0


class Watcher(Model):
    """Records what a custom step sees: gradients, the lock, the metrics."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.batches = metrics.Sum(name="batches")
        self.seen = []

    def train_step(self, data):
        x, y = data
        self.seen.append(
            (
                [w.grad for w in self.trainable_variables],
                self._lock._writer == threading.get_ident(),
            )
        )
        loss = self.compute_loss(y=y, y_pred=self(x, training=True))
        loss.backward()
        self.optimizer.apply([v.grad for v in self.trainable_variables])
        self.batches.update_state(1.0)
        if len(self.seen) == 5:
            self.stop_training = True
        return {"loss": loss, "batches": self.batches.result()}


def test_fit_clears_grads_holds_the_lock_resets_metrics_and_can_stop():
    model = _regressor(Watcher)
    assert model.metrics_names == ["loss", "compile_metrics", "batches"]
    history = model.fit(X, Y, batch_size=16, epochs=3, verbose=0)
    assert all(grads == [None] * 4 and locked for grads, locked in model.seen)
    assert history.history["batches"] == [4.0, 1.0]  # reset each epoch; stopped
    assert all(w.grad is None for w in model.weights)


class AutoEncoder(Model):
    """Trains on x alone: the step makes its own targets."""

    def train_step(self, data):
        x = data
        assert isinstance(x, np.ndarray)
        loss = self.compute_loss(y=x, y_pred=self(x, training=True))
        loss.backward()
        self.optimizer.apply([v.grad for v in self.trainable_variables])
        return {"loss": loss}


def test_a_custom_step_may_train_without_targets_on_any_data():
    inputs = Input((3,))
    model = AutoEncoder(inputs, Dense(3)(Dense(2)(inputs)))
    model.compile(optimizers.SGD(0.05), "mse")
    history = model.fit(X, epochs=3, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    batches = (X[i : i + 16] for i in range(0, 64, 16))
    assert len(model.fit(batches, verbose=0).history["loss"]) == 1
    with pytest.raises(ValueError, match="The loss needs targets"):
        _regressor(Model).fit(X, verbose=0)


def test_the_single_batch_methods_run_the_custom_steps():
    model = _regressor(GuideModel)
    logs = model.train_on_batch(X, Y, return_dict=True)
    assert list(logs) == ["loss", "mae"] and model.optimizer.iterations == 1
    evaluating = _regressor(EvalModel)
    assert evaluating.test_on_batch(X, Y) == evaluating.evaluate(
        X, Y, batch_size=64, verbose=0
    )


def test_compute_loss_without_a_loss_says_so():
    model = _regressor(Model)
    model.compile("sgd")
    with pytest.raises(ValueError, match="No loss to compute"):
        model.compute_loss(y=Y, y_pred=model(X))
    with pytest.raises(ValueError, match="No loss to compute|compiled without a loss"):
        model.fit(X, Y, verbose=0)
    own = _regressor(OwnLossModel)
    own.compile(optimizers.SGD(0.05))
    assert own.fit(X, Y, verbose=0).history["loss"]


def test_trainable_variables_are_keras_s_name_for_the_weights():
    model = _regressor(Model)
    assert model.trainable_variables == model.trainable_weights
    assert model.non_trainable_variables == model.non_trainable_weights == []
    loss = model.compute_loss(y=Y, y_pred=model(X, training=True))
    loss.backward()
    assert all(w.grad is not None for w in model.weights)
    model.zero_grad()
    assert all(w.grad is None for w in model.weights)


def test_the_loss_tracker_holds_the_last_loss_the_built_in_steps_summed():
    model = _regressor(Model)
    tracker = model.metrics[0]
    history = model.fit(X, Y, **FIT)
    assert model.metrics[0] is tracker
    assert tracker.result() == pytest.approx(history.history["loss"][-1], rel=1e-12)
    history = model.fit(X, Y, validation_data=(X[:8], Y[:8]), **FIT)
    assert model.get_metrics_result()["loss"] == pytest.approx(
        history.history["val_loss"][-1], rel=1e-12
    )  # the validation ran last, as in Keras
    loss = model.evaluate(X, Y, verbose=0)[0]
    assert model.metrics[0].result() == pytest.approx(history.history["val_loss"][-1])
    assert loss != history.history["val_loss"][-1]  # evaluate kept its own copy
