"""Decision surfaces: what a fitted two-feature model predicts everywhere.

:func:`plot_surface` takes a Keras-style model (glassnet's, or anything with
``predict(x, verbose=0)``) or a scikit-learn-style estimator (glassnet's or
scikit-learn's own) and turns its outputs into one response per grid point:

=======================  ============================================  ==========
what the model gives     how it is read                                background
=======================  ============================================  ==========
one sigmoid unit         P(second class)                               diverging
one logit                sigmoid(logit) = P(second class)              diverging
softmax rows             the rows, as probabilities                    by class
k logits                 softmax(logits)                               by class
``predict_proba``        its columns, in ``classes_`` order            as above
``decision_function``    the score (two classes)                       diverging
only ``predict``         the predicted class                           by class
a regressor              the prediction (y continuous for a model)     heat map
=======================  ============================================  ==========

Logits and probabilities are told apart by the compiled loss's
``from_logits``, then by the last layer's activation ("sigmoid", "softmax"),
and only then by the values (outputs outside [0, 1], or rows not summing to 1,
are logits).

With two classes the background is the probability of the second, on a
diverging colour map (white at 0.5, the boundary); with more, each grid point
takes the colour of its predicted class from a qualitative colour map, and each
sample the colour of its label, so every class is visible on both.

scikit-learn's ``DecisionBoundaryDisplay`` is not used for the drawing: it does
not take glassnet models (they are not estimators), and its multiclass colouring
arrived in scikit-learn 1.7 and changed in 1.9; the contour plot itself is one
``contourf`` call.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from glassnet.plot._common import current_axes, panel_grid

#: colour maps: two classes (probability), more classes, regression
BINARY_CMAP, CLASSES_CMAP, VALUE_CMAP = "RdBu_r", "tab10", "viridis"


# --- one response per grid point ------------------------------------------------------
def _is_estimator(obj: Any) -> bool:
    """scikit-learn's estimator API (``get_params``), not a Keras-style model."""
    return hasattr(obj, "get_params") and hasattr(obj, "fit")


def _activation_name(model: Any) -> str | None:
    layers = getattr(model, "layers", None) or []
    fn = getattr(layers[-1], "activation", None) if layers else None
    return getattr(fn, "__name__", None)


def _from_logits(model: Any) -> bool | None:
    """The compiled loss's ``from_logits`` (None when the loss does not say)."""
    loss = getattr(model, "loss", None)
    config = loss.get_config() if hasattr(loss, "get_config") else {}
    return config.get("from_logits")


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # NOTE: tanh form, no overflow in exp


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def model_probabilities(outputs: np.ndarray, activation: Any, from_logits: Any):
    """Class probabilities (n, n_classes >= 2) from a Keras-style classifier's
    outputs: one sigmoid unit, one logit, softmax rows or k logits. The last
    layer's activation and the loss's ``from_logits`` decide; without them,
    outputs that already are probabilities are kept and others are squashed."""
    z = np.asarray(outputs, dtype=float)
    z = z[:, None] if z.ndim == 1 else z.reshape(len(z), -1)
    if z.shape[1] == 1:
        z = z[:, 0]
        is_probability = activation == "sigmoid" or from_logits is False
        if from_logits or not (is_probability or (z.min() >= 0 and z.max() <= 1)):
            z = _sigmoid(z)
        return np.c_[1.0 - z, z]
    rows_sum_to_one = z.min() >= 0 and np.allclose(z.sum(axis=1), 1.0, atol=1e-3)
    is_probability = activation == "softmax" or from_logits is False
    if from_logits or not (is_probability or rows_sum_to_one):
        z = _softmax(z)
    return z


def _model_classes(labels: np.ndarray, n_outputs: int) -> np.ndarray:
    """The label of each output column: 0..k-1 when y holds such integers, else
    the sorted labels (as a LabelEncoder would have coded them)."""
    integers = np.issubdtype(labels.dtype, np.number) and np.all(labels % 1 == 0)
    if integers and labels.min() >= 0 and labels.max() < n_outputs:
        return np.arange(n_outputs)
    if len(labels) == n_outputs:
        return labels
    raise ValueError(
        f"The model gives {n_outputs} class probabilities but y has the labels "
        f"{labels.tolist()}: pass the y the model was trained on "
        f"(integers 0..{n_outputs - 1}, or exactly {n_outputs} labels)."
    )


def surface_response(model: Any, grid: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """What ``model`` says at each row of ``grid`` (n, 2), silently.

    Returns a dict with ``kind`` ("probability", "score", "class" or "value"),
    ``z`` (n,) and, for classifiers, ``classes`` (the labels, in column order).
    """
    from sklearn.base import is_classifier, is_regressor
    from sklearn.utils.multiclass import type_of_target

    if _is_estimator(model):
        if is_regressor(model):
            return {"kind": "value", "z": np.ravel(model.predict(grid))}
        if not is_classifier(model) and type_of_target(y) == "continuous":
            return {"kind": "value", "z": np.ravel(model.predict(grid))}
        classes = np.asarray(getattr(model, "classes_", np.unique(y)))
        if hasattr(model, "predict_proba"):
            probabilities = np.asarray(model.predict_proba(grid))
            return _from_probabilities(probabilities, classes)
        if len(classes) == 2 and hasattr(model, "decision_function"):
            z = np.ravel(model.decision_function(grid))
            return {"kind": "score", "z": z, "classes": classes}
        z = np.searchsorted(classes, np.asarray(model.predict(grid)))
        return {"kind": "class", "z": z, "classes": classes}
    outputs = np.asarray(model.predict(grid, batch_size=8192, verbose=0))
    if type_of_target(y) == "continuous":
        if outputs.ndim > 1 and outputs.reshape(len(grid), -1).shape[1] != 1:
            raise ValueError(
                "plot_surface draws one output; this model has "
                f"{outputs.reshape(len(grid), -1).shape[1]}. Received: y of "
                "continuous values."
            )
        return {"kind": "value", "z": outputs.ravel()}
    probabilities = model_probabilities(
        outputs, _activation_name(model), _from_logits(model)
    )
    classes = _model_classes(np.unique(y), probabilities.shape[1])
    return _from_probabilities(probabilities, classes)


def _from_probabilities(probabilities: np.ndarray, classes: np.ndarray) -> dict:
    if probabilities.shape[1] == 2:
        return {"kind": "probability", "z": probabilities[:, 1], "classes": classes}
    return {"kind": "class", "z": probabilities.argmax(axis=1), "classes": classes}


def class_colors(n_classes: int, cmap: Any = None) -> np.ndarray:
    """One RGBA colour per class (n_classes, 4): the ends of the diverging map
    for two classes, a qualitative map's colours for more."""
    import matplotlib

    if n_classes == 2:
        diverging = matplotlib.colormaps[cmap or BINARY_CMAP]
        return diverging([0.0, 1.0])
    name = cmap or (CLASSES_CMAP if n_classes <= 10 else "tab20")
    qualitative = matplotlib.colormaps[name]
    if hasattr(qualitative, "colors") and len(qualitative.colors) >= n_classes:
        return matplotlib.colors.to_rgba_array(qualitative.colors[:n_classes])
    return qualitative(np.linspace(0, 1, n_classes))


# --- drawing --------------------------------------------------------------------------
def _padded(column: np.ndarray) -> tuple[float, float]:
    low, high = float(column.min()), float(column.max())
    margin = 0.1 * (high - low or 1.0)
    return low - margin, high + margin


def plot_surface(
    model_or_estimator: Any,
    X: Any,
    y: Any,
    *,
    n_steps: int = 250,
    xlim: tuple[float, float] | None = None,
    ylim: tuple[float, float] | None = None,
    cmap: Any = None,
    alpha: float | None = None,
    colorbar: bool = False,
    legend: bool = True,
    xlabel: str | None = None,
    ylabel: str | None = None,
    ax: Any = None,
) -> Any:
    """Draw a fitted model's decision surface over two-feature data.

    Parameters
    ----------
    model_or_estimator : fitted model
        A Keras-style model (glassnet ``Sequential`` / ``Model``: one sigmoid
        unit, softmax rows or logits, detected from the last activation and the
        loss) or a scikit-learn-style estimator (glassnet's ``MLPClassifier``,
        ``MLPRegressor``, or any of scikit-learn's). Models are called with
        ``verbose=0``: no progress bar.
    X : array of shape (n_samples, 2)
        The samples, drawn as points; the grid spans them (padded by 10%).
    y : array of shape (n_samples,)
        Their labels (any type) or, for a regressor, their targets.
    n_steps : int, default 250
        Grid points along each axis.
    xlim, ylim : (float, float), optional
        The plotted ranges; default: the data's, padded by 10%.
    cmap : str or Colormap, optional
        Two classes: a diverging map for the probability (default "RdBu_r");
        more: a qualitative map, one colour per class (default "tab10");
        regression: the heat map (default "viridis").
    alpha : float, optional
        Opacity of the background: default 0.8 for probabilities and values,
        0.45 for class regions (so points of the class stand out on them).
    colorbar : bool, default False
        Add a colour bar (probability, class or predicted value).
    legend : bool, default True
        A legend of the classes (classifiers).
    xlabel, ylabel : str, optional
        Axis labels; default: the column names of a DataFrame ``X``, else
        "feature 0" and "feature 1".
    ax : matplotlib Axes, optional
        Where to draw; default: the current axes.

    Returns
    -------
    matplotlib Axes
        Its first collection is the filled contour set of the background, then
        one scatter per class (one for regression).

    Examples
    --------
    >>> clf = MLPClassifier(hidden_layer_sizes=(40, 40, 20)).fit(X, y)
    >>> ax = plot_surface(clf, X, y, colorbar=True)
    """
    columns = list(getattr(X, "columns", []))
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(
            f"plot_surface needs X of shape (n_samples, 2). Received: {X.shape}"
        )
    y = np.asarray(y)
    if len(y) != len(X):
        raise ValueError(
            f"X and y need the same length. Received: {len(X)} and {len(y)}"
        )
    ax = current_axes(ax)
    xlim = xlim or _padded(X[:, 0])
    ylim = ylim or _padded(X[:, 1])
    xx, yy = np.meshgrid(np.linspace(*xlim, n_steps), np.linspace(*ylim, n_steps))
    response = surface_response(model_or_estimator, np.c_[xx.ravel(), yy.ravel()], y)
    z = response["z"].reshape(xx.shape)
    if alpha is None:
        alpha = 0.45 if response["kind"] == "class" else 0.8
    if response["kind"] == "value":
        surface = _draw_values(ax, xx, yy, z, X, y, cmap, alpha)
    else:
        surface = _draw_classes(ax, xx, yy, z, X, y, response, cmap, alpha)
        if legend:
            ax.legend(title="class", loc="best", framealpha=0.8)
    if colorbar:
        _add_colorbar(ax, surface, response)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    default = columns if len(columns) == 2 else ["feature 0", "feature 1"]
    ax.set_xlabel(default[0] if xlabel is None else xlabel)
    ax.set_ylabel(default[1] if ylabel is None else ylabel)
    return ax


def _draw_values(ax, xx, yy, z, X, y, cmap, alpha):
    """A regressor: the prediction as a heat map, the targets on the same scale."""
    import matplotlib

    low = min(float(z.min()), float(np.min(y)))
    high = max(float(z.max()), float(np.max(y)))
    norm = matplotlib.colors.Normalize(low, high if high > low else low + 1.0)
    levels = np.linspace(norm.vmin, norm.vmax, 21)
    cmap = cmap or VALUE_CMAP
    surface = ax.contourf(xx, yy, z, levels=levels, cmap=cmap, norm=norm, alpha=alpha)
    ax.scatter(
        X[:, 0], X[:, 1], c=y, cmap=cmap, norm=norm, edgecolors="k", linewidths=0.5
    )
    return surface


def _draw_classes(ax, xx, yy, z, X, y, response, cmap, alpha):
    """A classifier: probability or class in the background, a scatter per class."""
    import matplotlib

    classes = response["classes"]
    colors = class_colors(len(classes), cmap)
    kind = response["kind"]
    if kind == "probability":
        levels = np.linspace(0.0, 1.0, 21)
        cmap = cmap or BINARY_CMAP
        surface = ax.contourf(xx, yy, z, levels=levels, cmap=cmap, alpha=alpha)
    elif kind == "score":
        bound = float(np.abs(z).max()) or 1.0
        levels = np.linspace(-bound, bound, 21)
        cmap = cmap or BINARY_CMAP
        surface = ax.contourf(xx, yy, z, levels=levels, cmap=cmap, alpha=alpha)
    else:
        listed = matplotlib.colors.ListedColormap(colors)
        levels = np.arange(len(classes) + 1) - 0.5
        surface = ax.contourf(xx, yy, z, levels=levels, cmap=listed, alpha=alpha)
    known = np.isin(y, classes)
    if not known.all():
        raise ValueError(
            f"y has labels the model does not know: {np.unique(y[~known]).tolist()}. "
            f"Its classes: {classes.tolist()}"
        )
    codes = np.searchsorted(classes, y)  # classes_ are sorted, as np.unique's
    for k, label in enumerate(classes):
        mine = codes == k
        if mine.any():
            ax.scatter(
                X[mine, 0],
                X[mine, 1],
                color=colors[k],
                edgecolors="k",
                linewidths=0.6,
                label=str(label),
            )
    return surface


def _add_colorbar(ax: Any, surface: Any, response: dict) -> Any:
    bar = ax.figure.colorbar(surface, ax=ax)
    kind = response["kind"]
    if kind == "class":
        classes = response["classes"]
        bar.set_ticks(np.arange(len(classes)))
        bar.set_ticklabels([str(c) for c in classes])
        bar.set_label("predicted class")
    elif kind == "probability":
        bar.set_label(f"P(class = {response['classes'][1]})")
    else:
        bar.set_label("decision function" if kind == "score" else "prediction")
    return bar


# --- width against depth --------------------------------------------------------------
def plot_architectures(
    X: Any,
    y: Any,
    hidden_layer_sizes: Any = ((2,), (8,), (32,), (2, 2), (8, 8), (32, 32)),
    *,
    estimator: Any = None,
    ncols: int | None = None,
    n_steps: int = 120,
    X_test: Any = None,
    y_test: Any = None,
    fig: Any = None,
) -> Any:
    """Fit one network per architecture and draw their decision surfaces side by
    side: the lecture's width (neurons per layer) against depth (layers).

    Parameters
    ----------
    X, y : arrays of shapes (n_samples, 2) and (n_samples,)
        The training data.
    hidden_layer_sizes : sequence of tuples
        One architecture per panel, as ``MLPClassifier``'s ``hidden_layer_sizes``
        (``(32,)``: one layer of 32; ``(8, 8)``: two of 8).
    estimator : scikit-learn-style estimator, optional
        Cloned for each panel with its ``hidden_layer_sizes`` set; default:
        glassnet's ``MLPClassifier(max_iter=1000, random_state=0)`` (an
        ``MLPRegressor`` for continuous y).
    ncols : int, optional
        Panels per row; default: a near-square grid.
    n_steps : int, default 120
        Grid resolution of each surface.
    X_test, y_test : arrays, optional
        Held-out data for the score in the titles; default: the training data.
    fig : matplotlib Figure, optional
        Where to draw; default: a new figure sized for the grid.

    Returns
    -------
    matplotlib Figure
        One Axes per architecture, titled with its layers, parameter count and
        accuracy (R² for a regressor); "not converged" where fitting stopped at
        ``max_iter``.
    """
    from sklearn.base import clone, is_regressor
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.utils.multiclass import type_of_target

    from glassnet.sklearn import MLPClassifier, MLPRegressor

    X = np.asarray(X, dtype=float)
    y = np.asarray(y)
    if estimator is None:
        regression = type_of_target(y) == "continuous"
        kind = MLPRegressor if regression else MLPClassifier
        estimator = kind(max_iter=1000, random_state=0)
    scored = (X, y) if X_test is None else (np.asarray(X_test), np.asarray(y_test))
    score_name = "R²" if is_regressor(estimator) else "accuracy"
    if X_test is None:
        score_name = f"train {score_name}"
    architectures = [tuple(np.atleast_1d(h).tolist()) for h in hidden_layer_sizes]
    fig, axes = panel_grid(len(architectures), ncols, fig=fig)
    for ax, layers in zip(axes, architectures):
        model = clone(estimator).set_params(hidden_layer_sizes=layers)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            model.fit(X, y)
        converged = True
        for w in caught:  # the title says "not converged"; others are shown
            if w.category is ConvergenceWarning:
                converged = False
            else:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        n_params = sum(w.size for w in (*model.coefs_, *model.intercepts_))
        plot_surface(model, X, y, n_steps=n_steps, legend=False, ax=ax)
        shape = " → ".join(str(n) for n in (X.shape[1], *layers, model.n_outputs_))
        title = f"{shape}\n{n_params:,} params, {score_name} {model.score(*scored):.2f}"
        ax.set_title(title + ("" if converged else "\n(not converged)"), fontsize=10)
        ax.set_xlabel("")
        ax.set_ylabel("")
    fig.tight_layout()
    return fig
