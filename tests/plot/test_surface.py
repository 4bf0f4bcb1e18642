"""plot_surface on glassnet models, glassnet's estimators and scikit-learn's,
and plot_architectures; the three bugs of issue 13 as regression tests."""

from __future__ import annotations

import warnings

import matplotlib.pyplot as plt
import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.svm import LinearSVC

from glassnet import losses, optimizers
from glassnet.layers import Dense
from glassnet.models import Sequential
from glassnet.plot import plot_architectures, plot_surface
from glassnet.plot._surface import class_colors, model_probabilities
from glassnet.sklearn import MLPClassifier, MLPRegressor, NeuralNetClassifier

from .artists import painted_colors, scatters_of, surface_of

# Short fits: whether they converge is not what these tests are about.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

WHITE = (1.0, 1.0, 1.0)


def _three_blobs(n=30, seed=1):
    rng = np.random.default_rng(seed)
    centers = np.repeat([[0.0, 0.0], [4.0, 0.0], [2.0, 4.0]], n, axis=0)
    return rng.normal(size=(3 * n, 2)) + centers, np.repeat([0, 1, 2], n)


def _two_blobs(n=30, seed=0):
    X, y = _three_blobs(n, seed)
    return X[: 2 * n], y[: 2 * n]


def _fitted_model(X, y, last, loss, epochs=60):
    model = Sequential([Dense(8, activation="tanh", input_dim=2), last])
    model.compile(loss=loss, optimizer=optimizers.Adam(learning_rate=0.02))
    model.fit(X, y, epochs=epochs, batch_size=16, verbose=0)
    return model


def _assert_classes_visible(ax, n_classes):
    """Every class's colour on the background and on its own points; no white."""
    colors = {tuple(np.round(c, 3)) for c in class_colors(n_classes)}
    painted = {c[:3] for c in painted_colors(surface_of(ax))}
    assert painted == {c[:3] for c in colors}
    assert WHITE not in painted
    points = scatters_of(ax)
    assert len(points) == n_classes
    faces = {tuple(np.round(p.get_facecolor()[0], 3)) for p in points}
    assert faces == colors
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["0", "1", "2"]


# --- the bugs of issue 13 -------------------------------------------------------------
def test_sigmoid_output_model_paints_a_probability_not_a_flat_colour():
    # Before: predict's probabilities went through searchsorted as if they were
    # labels, so every grid point became class 1: one colour.
    X, y = _two_blobs()
    model = _fitted_model(X, y, Dense(1, activation="sigmoid"), "binary_crossentropy")
    ax = plot_surface(model, X, y, n_steps=40)
    surface = surface_of(ax)
    assert surface.levels.min() == 0 and surface.levels.max() == 1
    painted = painted_colors(surface)
    assert len(set(painted)) >= 8  # from near 0 to near 1
    paths, lower_edges = surface.get_paths(), surface.levels[:-1]
    filled = [edge for p, edge in zip(paths, lower_edges) if len(p.vertices)]
    assert min(filled) < 0.1 and max(filled) > 0.85


def test_softmax_output_model_draws_instead_of_failing_to_reshape():
    # Before: "cannot reshape array of size 187500 into shape (250,250)", the
    # (62500, 3) softmax rows taken as 187,500 labels.
    X, y = _three_blobs()
    model = _fitted_model(
        X, y, Dense(3, activation="softmax"), "sparse_categorical_crossentropy"
    )
    ax = plot_surface(model, X, y)
    _assert_classes_visible(ax, 3)


def test_models_are_called_silently(capsys):
    # Before: predict's progress bar, ~2,000 steps of 32 grid points.
    X, y = _two_blobs()
    model = _fitted_model(X, y, Dense(1, activation="sigmoid"), "binary_crossentropy")
    capsys.readouterr()
    plot_surface(model, X, y)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_the_middle_of_three_classes_is_not_white_on_white():
    # Before: a diverging map painted class 1 (the middle) white, on the
    # background and on its points.
    X, y = _three_blobs()
    clf = MLPClassifier(hidden_layer_sizes=(16,), max_iter=400, random_state=0)
    ax = plot_surface(clf.fit(X, y), X, y)
    _assert_classes_visible(ax, 3)


# --- every kind of model -------------------------------------------------------------
@pytest.mark.parametrize(
    "outputs, activation, from_logits, expected",
    [
        ([[0.2], [0.9]], "sigmoid", None, [0.2, 0.9]),  # one sigmoid unit
        ([[-3.0], [2.0]], None, None, 1 / (1 + np.exp([3.0, -2.0]))),  # a logit
        ([[0.2], [0.9]], None, True, 1 / (1 + np.exp([-0.2, -0.9]))),  # told: logit
        ([[-3.0], [2.0]], "linear", False, None),  # told probabilities: kept
    ],
)
def test_model_probabilities_of_one_output(outputs, activation, from_logits, expected):
    if expected is None:
        expected = np.ravel(outputs)
    p = model_probabilities(np.array(outputs), activation, from_logits)
    np.testing.assert_allclose(p[:, 1], expected)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)


def test_model_probabilities_of_rows():
    rows = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    np.testing.assert_allclose(model_probabilities(rows, "softmax", None), rows)
    np.testing.assert_allclose(model_probabilities(rows, None, None), rows)
    logits = np.array([[2.0, -1.0, 0.5], [0.0, 3.0, -2.0]])
    expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(model_probabilities(logits, None, None), expected)
    np.testing.assert_allclose(model_probabilities(rows, None, True)[0].sum(), 1.0)


def test_logit_models_binary_and_multiclass():
    X, y = _two_blobs()
    loss = losses.BinaryCrossentropy(from_logits=True)
    ax = plot_surface(_fitted_model(X, y, Dense(1), loss), X, y, n_steps=30)
    assert len(set(painted_colors(surface_of(ax)))) >= 8
    plt.close("all")
    X, y = _three_blobs()
    loss = losses.SparseCategoricalCrossentropy(from_logits=True)
    ax = plot_surface(_fitted_model(X, y, Dense(3), loss), X, y, n_steps=30)
    _assert_classes_visible(ax, 3)


def test_string_labels_for_a_model_map_to_its_outputs_in_sorted_order():
    X, y = _two_blobs()
    model = _fitted_model(X, y, Dense(1, activation="sigmoid"), "binary_crossentropy")
    labels = np.take(["b", "r"], y)
    ax = plot_surface(model, X, labels, n_steps=20, colorbar=True)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["b", "r"]
    assert ax.figure.axes[-1].get_ylabel() == "P(class = r)"
    with pytest.raises(ValueError, match="labels"):
        plot_surface(model, X, np.take(["a", "b", "c"], np.arange(len(X)) % 3))


def _softmax_classifier(n_classes_):
    return Sequential(
        [Dense(8, activation="tanh"), Dense(n_classes_, activation="softmax")]
    )


@pytest.mark.parametrize(
    "estimator",
    [
        LogisticRegression(),
        SkMLPClassifier(hidden_layer_sizes=(8,), max_iter=300, random_state=0),
        MLPClassifier(hidden_layer_sizes=(8,), max_iter=300, random_state=0),
        NeuralNetClassifier(
            _softmax_classifier,
            epochs=40,
            optimizer__learning_rate=0.02,
            random_state=0,
        ),
    ],
    ids=["sklearn-logistic", "sklearn-mlp", "glassnet-mlp", "glassnet-neuralnet"],
)
def test_estimators_binary_and_multiclass(estimator):
    X, y = _two_blobs()
    labels = np.take(["b", "r"], y)
    ax = plot_surface(estimator.fit(X, labels), X, labels, n_steps=30)
    painted = painted_colors(surface_of(ax))
    assert len(set(painted)) >= 5
    assert [len(p.get_offsets()) for p in scatters_of(ax)] == [30, 30]
    plt.close("all")
    X, y = _three_blobs()
    _assert_classes_visible(plot_surface(estimator.fit(X, y), X, y, n_steps=30), 3)


def test_a_classifier_without_predict_proba_shows_its_decision_function():
    X, y = _two_blobs()
    ax = plot_surface(LinearSVC().fit(X, y), X, y, n_steps=30, colorbar=True)
    surface = surface_of(ax)
    assert surface.levels.min() < 0 < surface.levels.max()
    assert len(set(painted_colors(surface))) >= 5
    assert ax.figure.axes[-1].get_ylabel() == "decision function"


@pytest.mark.parametrize("kind", ["glassnet-model", "glassnet-mlp", "sklearn-mlp"])
def test_regressors_as_a_heat_map(kind):
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, size=(80, 2))
    y = X[:, 0] + 0.5 * X[:, 1] ** 2
    if kind == "glassnet-model":
        model = Sequential([Dense(16, activation="tanh", input_dim=2), Dense(1)])
        model.compile(loss="mse", optimizer="adam")
        model.fit(X, y, epochs=40, batch_size=16, verbose=0)
    elif kind == "glassnet-mlp":
        model = MLPRegressor(hidden_layer_sizes=(16,), max_iter=500, random_state=0)
    else:
        from sklearn.neural_network import MLPRegressor as SkMLPRegressor

        model = SkMLPRegressor(hidden_layer_sizes=(16,), max_iter=500, random_state=0)
    if kind != "glassnet-model":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X, y)
    ax = plot_surface(model, X, y, n_steps=30, colorbar=True)
    assert len(set(painted_colors(surface_of(ax)))) >= 8
    (points,) = scatters_of(ax)
    np.testing.assert_array_equal(points.get_array(), y)  # coloured by target
    assert ax.figure.axes[-1].get_ylabel() == "prediction"
    assert ax.get_legend() is None


def test_axes_labels_limits_and_the_given_axes():
    X, y = _two_blobs()
    clf = LogisticRegression().fit(X, y)
    fig, (left, right) = plt.subplots(1, 2)
    ax = plot_surface(clf, X, y, n_steps=10, ax=right, xlim=(-5, 5), ylim=(-4, 6))
    assert ax is right and not left.collections
    assert ax.get_xlabel() == "feature 0" and ax.get_ylabel() == "feature 1"
    assert ax.get_xlim() == (-5, 5) and ax.get_ylim() == (-4, 6)
    ax = plot_surface(clf, X, y, n_steps=10, ax=left, xlabel="x₁", ylabel="x₂")
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("x₁", "x₂")


def test_dataframe_columns_label_the_axes():
    pd = pytest.importorskip("pandas")
    X, y = _two_blobs()
    frame = pd.DataFrame(X, columns=["width", "height"])
    clf = LogisticRegression().fit(frame, y)
    ax = plot_surface(clf, frame, y, n_steps=10)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("width", "height")


def test_bad_input_is_explained():
    with pytest.raises(ValueError, match=r"\(n_samples, 2\)"):
        plot_surface(None, np.zeros((5, 3)), np.zeros(5))
    with pytest.raises(ValueError, match="same length"):
        plot_surface(None, np.zeros((5, 2)), np.zeros(4))
    X, y = _two_blobs()
    clf = LogisticRegression().fit(X, y)
    with pytest.raises(ValueError, match="does not know"):
        plot_surface(clf, X, np.where(y == 1, 7, 0))


# --- width against depth --------------------------------------------------------------
def test_plot_architectures_titles_layers_parameters_and_accuracy():
    X, y = _two_blobs()
    estimator = MLPClassifier(max_iter=30, random_state=0)
    fig = plot_architectures(
        X, y, [(2,), (4, 4), (8,)], estimator=estimator, ncols=2, n_steps=20
    )
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert len(axes) == 3 and len(fig.axes) == 4  # a 2 x 2 grid, one cell spare
    titles = [ax.get_title() for ax in axes]
    # 2 features -> 2 hidden -> 1 output: 2*2 + 2 weights, 2*1 + 1 = 9
    assert titles[0].startswith("2 → 2 → 1\n9 params, train accuracy ")
    assert titles[1].startswith("2 → 4 → 4 → 1\n37 params")
    assert all("(not converged)" in t for t in titles)  # 30 epochs of adam
    for ax in axes:
        assert len(set(painted_colors(surface_of(ax)))) >= 2
    score = float(titles[2].split("accuracy ")[1].split("\n")[0])
    refit = MLPClassifier(hidden_layer_sizes=(8,), max_iter=30, random_state=0)
    with pytest.warns(ConvergenceWarning):
        refit.fit(X, y)
    assert score == pytest.approx(refit.score(X, y), abs=0.005)


def test_plot_architectures_with_held_out_data_and_scikit_learns_mlp():
    X, y = _two_blobs()
    estimator = SkMLPClassifier(max_iter=500, random_state=0)
    fig = plot_architectures(
        X[::2], y[::2], [(4,)], estimator=estimator, X_test=X[1::2], y_test=y[1::2]
    )
    (ax,) = fig.axes
    assert "params, accuracy " in ax.get_title()
