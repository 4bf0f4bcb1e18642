"""scikit-learn's overridable ``_init_coef(fan_in, fan_out, dtype)`` hook."""

from __future__ import annotations

import numpy as np
import pytest
from mlp_parity import assert_same_fit, fit_quietly, make_task, neural_network

from glassnet.sklearn import MLPClassifier, MLPRegressor


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("activation", ["relu", "logistic"])
def test_default_init_coef_draws_what_scikit_learn_draws(activation, dtype):
    ours = MLPRegressor(activation=activation)
    theirs = neural_network.MLPRegressor(activation=activation)
    for est in (ours, theirs):
        est._random_state = np.random.RandomState(4)
    for fan_in, fan_out in [(3, 5), (5, 1)]:
        got = ours._init_coef(fan_in, fan_out, dtype)
        want = theirs._init_coef(fan_in, fan_out, dtype)
        for a, b in zip(got, want):
            assert a.dtype == b.dtype == dtype and a.shape == b.shape
            np.testing.assert_array_equal(a, b)
        assert got[0].shape == (fan_in, fan_out) and got[1].shape == (fan_out,)


class ZeroInit(MLPClassifier):
    """All-zero initial weights; records its calls."""

    def _init_coef(self, fan_in, fan_out, dtype):
        self.calls_.append((fan_in, fan_out, np.dtype(dtype)))
        return np.zeros((fan_in, fan_out), dtype), np.zeros(fan_out, dtype)

    def _initialize(self, y, layer_units, dtype):
        self.calls_ = []
        super()._initialize(y, layer_units, dtype)


def test_a_subclass_overriding_init_coef_is_used():
    X, y = make_task("binary")
    clf = fit_quietly(ZeroInit((5, 3), max_iter=5, random_state=0), X, y)
    float64 = np.dtype(np.float64)
    assert clf.calls_ == [(4, 5, float64), (5, 3, float64), (3, 1, float64)]
    # From all-zero weights relu units stay at 0 and pass no gradient back: only
    # the output bias learns.
    for w in clf.coefs_ + clf.intercepts_[:-1]:
        np.testing.assert_array_equal(w, 0.0)
    assert clf.intercepts_[-1][0] != 0.0
    # a refit draws again, once per layer
    fit_quietly(clf, X.astype(np.float32), y)
    float32 = np.dtype(np.float32)
    assert clf.calls_ == [(4, 5, float32), (5, 3, float32), (3, 1, float32)]
    assert all(w.dtype == np.float32 for w in clf.coefs_)


class ScaledNormalInit:
    """Written for scikit-learn's MLPRegressor: half of its Glorot draws plus
    normal noise from the estimator's RandomState, and zero biases."""

    def _init_coef(self, fan_in, fan_out, dtype):
        coef, _ = super()._init_coef(fan_in, fan_out, dtype)
        noise = self._random_state.normal(0.0, 0.1, (fan_in, fan_out))
        return (0.5 * coef + noise).astype(dtype), np.zeros(fan_out, dtype)


class OurRegressor(ScaledNormalInit, MLPRegressor):
    pass


class TheirRegressor(ScaledNormalInit, neural_network.MLPRegressor):
    pass


@pytest.mark.parametrize("solver", ["lbfgs", "adam", "sgd"])
def test_a_subclass_written_for_scikit_learn_gives_its_numbers(solver):
    X, y = make_task("regression")
    params = dict(
        hidden_layer_sizes=(6, 4),
        solver=solver,
        max_iter=4,
        batch_size=16,
        random_state=3,
    )
    ours = fit_quietly(OurRegressor(**params), X, y)
    theirs = fit_quietly(TheirRegressor(**params), X, y)
    assert_same_fit(ours, theirs, X)
