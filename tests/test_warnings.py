"""Warnings name the user's line (here: this file's), not a line in glassnet.

Each test records the warning and checks its filename and line number against
the line that called glassnet, as a user reading the message would want.
"""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import cross_validate

from glassnet import callbacks, optimizers
from glassnet._warnings import user_stacklevel, warn
from glassnet.layers import Dense
from glassnet.models import Sequential
from glassnet.sklearn import MLPClassifier, MLPRegressor


def _next_line() -> int:
    """The number of the line after the caller's."""
    return inspect.currentframe().f_back.f_lineno + 1


def _assert_points_here(record, line: int) -> None:
    assert len(record) >= 1
    found = [(w.filename, w.lineno) for w in record]
    assert (__file__, line) in found, found


def _data(n=40):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, 2))
    return X, (X[:, 0] > 0).astype(int)


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
def test_convergence_warning_points_at_the_fit_call(cls, solver):
    X, y = _data()
    estimator = cls(hidden_layer_sizes=(3,), max_iter=2, solver=solver)
    with pytest.warns(ConvergenceWarning) as record:
        line = _next_line()
        estimator.fit(X, y)
    _assert_points_here(record, line)


def test_partial_fit_and_batch_size_warnings_point_at_the_call():
    X, y = _data(n=10)
    with pytest.warns(UserWarning, match="batch_size") as record:
        line = _next_line()
        MLPClassifier(batch_size=50, max_iter=1).partial_fit(X, y, classes=[0, 1])
    _assert_points_here(record, line)


def test_inside_scikit_learn_machinery_the_warning_names_scikit_learn():
    # The caller of glassnet is then scikit-learn's cross_validate: it is the
    # line outside glassnet nearest to it, as pandas and scikit-learn do.
    X, y = _data()
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        cross_validate(MLPClassifier(max_iter=1), X, y, cv=2)
    names = {w.filename for w in record if w.category is ConvergenceWarning}
    assert names and not any("glassnet" in name for name in names)


def _model():
    model = Sequential([Dense(2, input_dim=2), Dense(1)])
    model.compile(loss="mse", optimizer=optimizers.SGD(learning_rate=0.01))
    return model


def test_callback_warning_points_at_the_models_fit_call():
    X, y = _data(n=8)
    stopper = callbacks.EarlyStopping(monitor="val_accuracy")
    with pytest.warns(UserWarning, match="not available") as record:
        line = _next_line()
        _model().fit(X, y, epochs=1, verbose=0, callbacks=[stopper])
    _assert_points_here(record, line)


def test_nan_loss_warning_points_at_the_models_fit_call():
    # models/trainer.py's own stacklevel; kept here so a rewrite keeps it.
    X, y = _data(n=16)
    model = Sequential([Dense(2, input_dim=2), Dense(1)])
    model.compile(loss="mse", optimizer=optimizers.SGD(learning_rate=1e10))
    quiet = dict(over="ignore", invalid="ignore")  # numpy's own overflow warnings
    with np.errstate(**quiet), pytest.warns(RuntimeWarning, match="loss is") as record:
        line = _next_line()
        model.fit(X, y * 1e30, epochs=3, batch_size=4, verbose=0)
    _assert_points_here(record, line)
    with np.errstate(**quiet), pytest.warns(RuntimeWarning, match="loss is") as record:
        line = _next_line()
        model.train_on_batch(X, y * 1e30)
    _assert_points_here(record, line)


def test_warn_and_stacklevel_from_outside_glassnet():
    # Called from here (outside glassnet), the user's line is the caller's.
    assert user_stacklevel() == 2
    with pytest.warns(UserWarning, match="hello") as record:
        line = _next_line()
        warn("hello")
    _assert_points_here(record, line)
