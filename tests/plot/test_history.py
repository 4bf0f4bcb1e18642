"""plot_history: losses on one axis, each metric on its own, integer epochs."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor

from glassnet.layers import Dense
from glassnet.models import Sequential
from glassnet.plot import plot_history
from glassnet.plot._history import group_curves
from glassnet.sklearn import MLPClassifier, MLPRegressor, NeuralNetClassifier

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _labels(ax):
    return [line.get_label() for line in ax.get_lines()]


def _integer_ticks(ax):
    ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
    return len(ticks) >= 2 and all(float(t).is_integer() for t in ticks)


def test_a_keras_history_loss_and_accuracy_on_their_own_axes():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 2))
    y = (X[:, 0] > 0).astype(int)
    model = Sequential([Dense(4, activation="tanh", input_dim=2), Dense(1)])
    model.compile(loss="mse", optimizer="sgd", metrics=["accuracy"])
    history = model.fit(X, y, epochs=5, validation_split=0.25, verbose=0)
    losses, accuracy = plot_history(history)
    assert _labels(losses) == ["loss", "val_loss"]
    assert _labels(accuracy) == ["accuracy", "val_accuracy"]
    assert losses.get_ylabel() == "loss" and accuracy.get_ylabel() == "accuracy"
    for ax in (losses, accuracy):
        assert ax.get_legend() is not None
        assert ax.get_xlabel() == "epoch" and _integer_ticks(ax)
        np.testing.assert_array_equal(ax.get_lines()[0].get_xdata(), [1, 2, 3, 4, 5])
    np.testing.assert_array_equal(
        accuracy.get_lines()[1].get_ydata(), history.history["val_accuracy"]
    )
    assert losses.figure is accuracy.figure


@pytest.mark.parametrize("cls", [MLPClassifier, SkMLPClassifier])
def test_an_estimators_validation_scores_are_not_drawn_as_a_loss(cls):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((80, 2))
    y = (X[:, 0] > 0).astype(int)
    clf = cls(hidden_layer_sizes=(4,), early_stopping=True, max_iter=12).fit(X, y)
    losses, scores = plot_history(clf)
    assert _labels(losses) == ["loss"] and _labels(scores) == ["val_accuracy"]
    np.testing.assert_array_equal(losses.get_lines()[0].get_ydata(), clf.loss_curve_)
    np.testing.assert_array_equal(
        scores.get_lines()[0].get_ydata(), clf.validation_scores_
    )
    assert scores.get_ylabel() == "accuracy" and _integer_ticks(scores)


def test_a_neural_net_estimators_history():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((80, 2))
    y = np.take(["no", "yes"], (X[:, 0] > 0).astype(int))
    model = Sequential([Dense(4, activation="tanh"), Dense(1, activation="sigmoid")])
    clf = NeuralNetClassifier(
        model, epochs=4, validation_split=0.25, metrics=["accuracy"], random_state=0
    ).fit(X, y)
    losses, accuracy = plot_history(clf)
    assert _labels(losses) == ["loss", "val_loss"]
    assert _labels(accuracy) == ["accuracy", "val_accuracy"]
    np.testing.assert_array_equal(
        losses.get_lines()[0].get_ydata(), clf.history_["loss"]
    )


@pytest.mark.parametrize("cls", [MLPRegressor, SkMLPRegressor])
def test_a_regressor_without_and_with_early_stopping(cls):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((80, 2))
    (only_loss,) = plot_history(cls(max_iter=5).fit(X, X[:, 0]))
    assert _labels(only_loss) == ["loss"]
    _, scores = plot_history(cls(early_stopping=True, max_iter=5).fit(X, X[:, 0]))
    assert _labels(scores) == ["val_r2"]


def test_dicts_keys_and_the_axes_given():
    curves = {"loss": [3, 2, 1], "val_loss": [4, 3, 2], "mae": [2, 1, 1]}
    fig, (a, b, c) = plt.subplots(1, 3)
    drawn = plot_history(curves, ax=[a, b, c])
    assert drawn == [a, b] and not c.get_lines()
    (only,) = plot_history(curves, keys=["val_loss"], ax=c)
    assert only is c and _labels(c) == ["val_loss"]
    fig, ax = plt.subplots()
    split = plot_history(curves, ax=ax)  # one subplot's area, split in two
    assert len(split) == 2 and ax not in fig.axes and len(fig.axes) == 2
    with pytest.raises(KeyError, match="available"):
        plot_history(curves, keys=["acc"])
    with pytest.raises(ValueError, match="2 axes"):
        plot_history(curves, ax=[a])
    with pytest.raises(ValueError, match="lbfgs"):
        rng = np.random.default_rng(0)
        X = rng.standard_normal((20, 2))
        plot_history(MLPRegressor(solver="lbfgs", max_iter=3).fit(X, X[:, 0]))


def test_group_curves():
    keys = ["loss", "accuracy", "val_loss", "val_accuracy", "out_loss", "lr"]
    assert group_curves(keys) == {
        "loss": ["loss", "val_loss", "out_loss"],
        "accuracy": ["accuracy", "val_accuracy"],
        "lr": ["lr"],
    }
