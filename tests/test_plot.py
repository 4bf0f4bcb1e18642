import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

from glassnet.plot import plot_history, plot_surface  # noqa: E402


def _blobs():
    rng = np.random.default_rng(0)
    X = np.r_[rng.normal(-2, 1, (30, 2)), rng.normal(2, 1, (30, 2))]
    y = np.take(["b", "r"], np.r_[np.zeros(30, int), np.ones(30, int)])
    return X, y


def test_plot_surface_draws_probability_surface_and_points():
    X, y = _blobs()
    clf = LogisticRegression().fit(X, y)
    fig, ax = plt.subplots()
    drawn = plot_surface(clf, X, y, n_steps=20, ax=ax)
    assert drawn["points"].get_offsets().shape == (60, 2)
    assert drawn["surface"].levels.min() == 0 and drawn["surface"].levels.max() == 1
    # Probability of "r" is low in the lower-left and high in the upper-right.
    grid = clf.predict_proba([[-3, -3], [3, 3]])[:, 1]
    assert grid[0] < 0.1 < 0.9 < grid[1]
    plt.close(fig)


def test_plot_surface_multiclass_uses_predict():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(90, 2)) + np.repeat([[0, 0], [5, 0], [0, 5]], 30, axis=0)
    y = np.repeat([0, 1, 2], 30)
    clf = LogisticRegression().fit(X, y)
    fig, ax = plt.subplots()
    drawn = plot_surface(clf, X, y, n_steps=15, ax=ax)
    assert list(drawn["surface"].levels) == [-0.5, 0.5, 1.5, 2.5]
    plt.close(fig)


def test_plot_surface_rejects_wrong_shape():
    with pytest.raises(ValueError, match=r"\(n_samples, 2\)"):
        plot_surface(None, np.zeros((5, 3)), np.zeros(5))


def test_plot_history_from_dict_and_estimator_like():
    fig, ax = plt.subplots()
    lines = plot_history({"loss": [3, 2, 1], "val_loss": [4, 3, 2]}, ax=ax)
    assert [line.get_label() for line in lines] == ["loss", "val_loss"]
    np.testing.assert_array_equal(lines[1].get_ydata(), [4, 3, 2])

    class Fitted:
        loss_curve_ = [1.0, 0.5]
        validation_scores_ = None

    (line,) = plot_history(Fitted(), ax=ax)
    np.testing.assert_array_equal(line.get_ydata(), [1.0, 0.5])
    with pytest.raises(KeyError, match="available"):
        plot_history({"loss": [1]}, keys=["acc"], ax=ax)
    plt.close(fig)
