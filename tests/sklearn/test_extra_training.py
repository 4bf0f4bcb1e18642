"""callbacks= and optimizer=: glassnet's callbacks watch and stop an
estimator's fit, and any glassnet optimizer trains it."""

from __future__ import annotations

import csv
import pickle
import warnings

import numpy as np
import pytest
from mlp_parity import fit_quietly, make_task
from numpy.testing import assert_array_equal
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

from glassnet import optimizers
from glassnet.callbacks import (
    Callback,
    CSVLogger,
    EarlyStopping,
    LambdaCallback,
    ReduceLROnPlateau,
)
from glassnet.sklearn import MLPClassifier, MLPRegressor


class Recorder(Callback):
    """Every hook call, with its arguments; and who ``self.model`` was."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def on_train_begin(self, logs=None):
        self.calls.append(("train_begin", self.model, dict(self.params)))

    def on_epoch_begin(self, epoch, logs=None):
        self.calls.append(("epoch_begin", epoch))

    def on_train_batch_end(self, batch, logs=None):
        self.calls.append(("batch_end", batch, sorted(logs)))

    def on_epoch_end(self, epoch, logs=None):
        self.calls.append(("epoch_end", epoch, dict(logs)))

    def on_train_end(self, logs=None):
        self.calls.append(("train_end", self.model))


@pytest.mark.parametrize("early_stopping", [False, True])
def test_callbacks_see_the_documented_hooks_and_logs(early_stopping):
    X, y = make_task("multiclass", n_samples=80)
    recorder = Recorder()
    clf = MLPClassifier(
        (4,),
        max_iter=3,
        batch_size=20,
        early_stopping=early_stopping,
        n_iter_no_change=50,
        callbacks=[recorder],
        random_state=0,
    )
    fit_quietly(clf, X, y)
    calls = recorder.calls
    params = {"epochs": 3, "steps": 4, "verbose": False}  # 80 or 72 samples by 20
    assert calls[0] == ("train_begin", clf, params)
    assert calls[-1] == ("train_end", clf)
    assert recorder.model is None  # the callbacks do not keep the estimator
    epochs = [c for c in calls if c[0] == "epoch_end"]
    assert [c[1] for c in epochs] == [0, 1, 2]
    keys = {"loss", "val_loss", "val_score"} if early_stopping else {"loss"}
    for epoch, (_, _, logs) in enumerate(epochs):
        assert set(logs) == keys
        assert logs["loss"] == clf.loss_curve_[epoch]
        if early_stopping:
            assert logs["val_loss"] == clf.validation_loss_curve_[epoch]
            assert logs["val_score"] == clf.validation_scores_[epoch]
    batches = [c for c in calls if c[0] == "batch_end"]
    n_train = 80 - (8 if early_stopping else 0)
    assert len(batches) == 3 * -(-n_train // 20)
    assert all(c[2] == ["loss"] for c in batches)


def test_a_callback_stops_the_fit():
    X, y = make_task("regression")

    def stop_at_third(epoch, logs):
        if epoch == 2:
            reg.stop_training = True

    reg = MLPRegressor(
        hidden_layer_sizes=(4,),
        max_iter=50,
        callbacks=[LambdaCallback(on_epoch_end=stop_at_third)],
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        reg.fit(X, y)  # no warning that max_iter was reached: it was stopped
    assert reg.n_iter_ == 3 == len(reg.loss_curve_)
    assert "_stop_training" not in vars(reg)
    # the next fit starts afresh
    reg.set_params(callbacks=None, max_iter=4)
    fit_quietly(reg, X, y)
    assert reg.n_iter_ == 4


def test_keras_early_stopping_on_val_loss_with_the_best_weights(tmp_path):
    X, y = make_task("regression", n_samples=120)
    stopper = EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    weights = []
    keep = LambdaCallback(
        on_epoch_end=lambda epoch, logs: weights.append(keep.model.get_weights())
    )
    path = tmp_path / "log.csv"
    reg = MLPRegressor(
        hidden_layer_sizes=(8,),
        solver="sgd",
        learning_rate_init=0.3,
        early_stopping=True,
        n_iter_no_change=1000,  # the callback decides
        restore_best_weights=False,
        max_iter=200,
        callbacks=[keep, stopper, CSVLogger(str(path))],
        random_state=0,
    )
    fit_quietly(reg, X, y)
    curve = reg.validation_loss_curve_
    assert reg.n_iter_ < 200 and stopper.stopped_epoch == reg.n_iter_ - 1
    assert stopper.best_epoch == int(np.argmin(curve))
    assert reg.n_iter_ == stopper.best_epoch + 3  # patience 2
    with open(path, newline="") as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == reg.n_iter_
    assert set(rows[0]) == {"epoch", "loss", "val_loss", "val_score"}
    np.testing.assert_allclose([float(r["val_loss"]) for r in rows], curve)
    # EarlyStopping put the best epoch's weights back (the estimator's own
    # restore_best_weights was off)
    for a, b in zip(reg.get_weights(), weights[stopper.best_epoch]):
        assert_array_equal(a, b)


def test_unsupported_callbacks_and_solvers_are_refused():
    X, y = make_task("regression", n_samples=30)
    with pytest.raises(ValueError, match="ReduceLROnPlateau does not work"):
        MLPRegressor(callbacks=[ReduceLROnPlateau()]).fit(X, y)
    with pytest.raises(ValueError, match="callbacks needs a stochastic solver"):
        MLPRegressor(solver="lbfgs", callbacks=[Callback()]).fit(X, y)
    with pytest.raises(ValueError, match="optimizer needs a stochastic solver"):
        MLPRegressor(solver="lbfgs", optimizer=optimizers.SGD()).fit(X, y)


# --- optimizer= -----------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("task", ["regression", "multiclass"])
def test_glassnets_adam_configured_alike_is_solver_adam(task, dtype):
    X, y = make_task(task)
    X = X.astype(dtype)
    cls = MLPRegressor if task == "regression" else MLPClassifier
    params = dict(
        hidden_layer_sizes=(5,),
        max_iter=5,
        batch_size=16,
        learning_rate_init=0.01,
        early_stopping=True,
        random_state=0,
    )
    solver = fit_quietly(cls(solver="adam", **params), X, y)
    adam = optimizers.Adam(learning_rate=0.01, epsilon=1e-8, step_dtype="float64")
    given = fit_quietly(cls(optimizer=adam, **params), X, y)
    for a, b in zip(
        given.coefs_ + given.intercepts_, solver.coefs_ + solver.intercepts_
    ):
        assert a.dtype == b.dtype == dtype
        assert_array_equal(a, b)
    assert given.loss_curve_ == solver.loss_curve_
    assert adam.iterations == 0 and not adam.variables  # never trained itself


def test_glassnets_sgd_configured_alike_is_solver_sgd():
    X, y = make_task("binary")
    params = dict(hidden_layer_sizes=(5,), max_iter=5, batch_size=16, random_state=0)
    solver = fit_quietly(
        MLPClassifier(solver="sgd", learning_rate_init=0.05, **params), X, y
    )
    sgd = optimizers.SGD(learning_rate=0.05, momentum=0.9, nesterov=True)
    given = fit_quietly(MLPClassifier(solver="sgd", optimizer=sgd, **params), X, y)
    for a, b in zip(given.coefs_, solver.coefs_):
        assert_array_equal(a, b)


def test_another_optimizer_trains_and_clones_share_no_state():
    X, y = make_task("regression")
    rmsprop = optimizers.RMSprop(learning_rate=0.01)
    reg = MLPRegressor(
        hidden_layer_sizes=(6,), optimizer=rmsprop, max_iter=30, random_state=0
    )
    fit_quietly(reg, X, y)
    assert reg.loss_curve_[-1] < 0.5 * reg.loss_curve_[0]
    twin = clone(reg)
    assert twin.optimizer is not reg.optimizer
    assert isinstance(twin.optimizer, optimizers.RMSprop)
    fit_quietly(twin, X, y)
    assert twin._optimizer is not reg._optimizer
    assert reg._optimizer.iterations == twin._optimizer.iterations > 0
    assert rmsprop.iterations == 0  # the parameter is only a prototype
    for a, b in zip(twin.coefs_, reg.coefs_):
        assert_array_equal(a, b)
    # partial_fit continues with the fitted optimizer's state; pickling keeps it
    restored = pickle.loads(pickle.dumps(reg))
    restored.partial_fit(X, y)
    reg.partial_fit(X, y)
    assert_array_equal(restored.coefs_[0], reg.coefs_[0])
