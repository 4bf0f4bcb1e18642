"""Pictures of what a network learned: decision surfaces and loss curves.

matplotlib is imported here only, and lazily, so the rest of glassnet never
needs a display. Every function takes ``ax=None`` (the current axes) and returns
what it drew, so tests can check the artists and users can restyle them.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _axes(ax: Any) -> Any:
    if ax is None:
        import matplotlib.pyplot as plt

        ax = plt.gca()
    return ax


def plot_surface(
    clf: Any,
    X: Any,
    y: Any,
    *,
    n_steps: int = 250,
    xlim: tuple[float, float] | None = None,
    ylim: tuple[float, float] | None = None,
    cmap: str = "RdBu_r",
    ax: Any = None,
) -> dict[str, Any]:
    """Draw a fitted classifier's decision surface over 2-D data.

    The background shows the predicted probability of the second class (for
    two classes, via ``predict_proba``) or the predicted class index (for more,
    via ``predict``) on an ``n_steps`` × ``n_steps`` grid spanning the data; the
    samples are drawn on top, coloured by their label.

    Parameters
    ----------
    clf : fitted classifier with ``predict`` (and ``predict_proba``)
    X : array of shape (n_samples, 2)
    y : array of shape (n_samples,), any label type
    n_steps : grid resolution along each axis.
    xlim, ylim : plot limits; default: the data range padded by 10%.
    ax : matplotlib axes; default: the current axes.

    Returns
    -------
    dict with ``"surface"`` (the contour set) and ``"points"`` (the scatter).
    """
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
    ax = _axes(ax)

    def padded(column: np.ndarray) -> tuple[float, float]:
        low, high = column.min(), column.max()
        margin = 0.1 * (high - low or 1.0)
        return low - margin, high + margin

    xlim = xlim or padded(X[:, 0])
    ylim = ylim or padded(X[:, 1])
    xx, yy = np.meshgrid(np.linspace(*xlim, n_steps), np.linspace(*ylim, n_steps))
    grid = np.c_[xx.ravel(), yy.ravel()]
    classes = np.unique(y)
    if len(classes) == 2 and hasattr(clf, "predict_proba"):
        z = np.asarray(clf.predict_proba(grid))[:, 1]
        levels = np.linspace(0, 1, 21)
    else:
        z = np.searchsorted(classes, np.asarray(clf.predict(grid)))
        levels = np.arange(len(classes) + 1) - 0.5
    surface = ax.contourf(
        xx, yy, z.reshape(xx.shape), levels=levels, cmap=cmap, alpha=0.8
    )
    points = ax.scatter(
        X[:, 0],
        X[:, 1],
        c=np.searchsorted(classes, y),
        cmap=cmap,
        edgecolors="k",
        linewidths=0.5,
    )
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    return {"surface": surface, "points": points}


def plot_history(history: Any, keys: Any = None, *, ax: Any = None) -> list[Any]:
    """Plot loss (and metric) curves against the epoch.

    ``history`` is a Keras-style ``History`` (its ``.history`` dict), a plain
    dict of lists, or a fitted scikit-learn style estimator (its
    ``loss_curve_`` and, with early stopping, ``validation_scores_``).
    Returns the lines drawn.
    """
    if hasattr(history, "loss_curve_"):
        curves = {"loss": history.loss_curve_}
        if getattr(history, "validation_scores_", None) is not None:
            curves["validation score"] = history.validation_scores_
    else:
        curves = dict(getattr(history, "history", history))
    keys = list(curves) if keys is None else list(keys)
    missing = [k for k in keys if k not in curves]
    if missing:
        raise KeyError(f"Unknown curve(s) {missing}; available: {sorted(curves)}")
    ax = _axes(ax)
    lines = [ax.plot(curves[k], label=k)[0] for k in keys]
    ax.set_xlabel("Epoch")
    ax.set_ylabel("Loss")
    ax.legend(loc="best")
    return lines
