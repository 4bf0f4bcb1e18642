"""The seed lecture's MLPRegressor cell, number for number."""

from __future__ import annotations

import warnings

import numpy as np
from numpy.testing import assert_allclose

from glassnet.sklearn import MLPRegressor


def test_seed_cell_regressor():
    np.random.seed(12345)
    X = np.random.normal(scale=2, size=(4 * 400, 1))
    y = X[:, 0]
    clf = MLPRegressor(
        hidden_layer_sizes=(1,),
        validation_fraction=0.2,
        tol=1e-9,
        max_iter=3200,
        solver="sgd",
        learning_rate_init=0.001,
        momentum=0,
        activation="tanh",
        verbose=False,
        random_state=2,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(X, y)
    assert (clf.n_layers_, clf.n_outputs_) == (3, 1)
    assert abs(clf.loss_ - 0.065114704477) < 1e-10
    assert_allclose(
        clf.predict([[0.0], [1.5], [-1.4]]),
        [0.01023809, 1.69176755, -1.57832278],
        atol=1e-8,
    )
    assert len(clf.loss_curve_) == clf.n_iter_ == 3200
