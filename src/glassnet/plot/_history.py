"""Training curves: the losses on one axis, each metric on its own."""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet.plot._common import integer_ticks, pyplot


def history_curves(history: Any) -> dict[str, list[float]]:
    """The curves of a Keras-style ``History`` (its ``.history``), a dict of
    lists, a fitted ``NeuralNetClassifier`` / ``NeuralNetRegressor`` (its
    ``history_``), or a fitted scikit-learn-style MLP (``loss_curve_`` as
    "loss", ``validation_scores_`` as "val_accuracy" for a classifier, "val_r2"
    for a regressor)."""
    if isinstance(getattr(history, "history_", None), dict):
        return {key: list(values) for key, values in history.history_.items()}
    if hasattr(history, "get_params"):
        if getattr(history, "loss_curve_", None) is None:
            raise ValueError(
                f"{type(history).__name__} has no loss_curve_: it is not fitted, "
                "or its solver ('lbfgs') records none. Received: "
                f"solver={getattr(history, 'solver', None)!r}"
            )
        curves = {"loss": list(history.loss_curve_)}
        scores = getattr(history, "validation_scores_", None)
        if scores is not None:
            from sklearn.base import is_regressor

            curves["val_r2" if is_regressor(history) else "val_accuracy"] = scores
        return curves
    return {
        key: list(values)
        for key, values in getattr(history, "history", history).items()
    }


def group_curves(keys: list[str]) -> dict[str, list[str]]:
    """Panel title -> its keys: every loss (``loss``, ``val_loss``,
    ``out_loss``) together first, then one panel per metric with its
    validation twin (``accuracy`` and ``val_accuracy``)."""
    panels: dict[str, list[str]] = {}
    for key in keys:
        base = key[4:] if key.startswith("val_") else key
        title = "loss" if base == "loss" or base.endswith("_loss") else base
        panels.setdefault(title, []).append(key)
    if "loss" in panels:
        panels = {"loss": panels.pop("loss"), **panels}
    return panels


def _panel_axes(ax: Any, n: int) -> list[Any]:
    """``n`` axes: new ones side by side, the given ones, or the area of one
    given Axes split into ``n``."""
    if ax is None:
        fig, axes = pyplot().subplots(1, n, figsize=(5 * n, 3.6), squeeze=False)
        fig.set_layout_engine("tight")
        return list(axes.ravel())
    if isinstance(ax, (list, tuple, np.ndarray)):
        axes = list(np.ravel(ax))
        if len(axes) < n:
            raise ValueError(
                f"plot_history needs {n} axes here (losses, then one per metric). "
                f"Received: {len(axes)} axes"
            )
        return axes[:n]
    if n == 1:
        return [ax]
    spec = ax.get_subplotspec()
    if spec is None:
        raise ValueError(
            f"plot_history draws {n} panels: pass a list of {n} axes, or a subplot."
        )
    fig = ax.figure
    ax.remove()
    cells = spec.subgridspec(1, n, wspace=0.35)
    return [fig.add_subplot(cells[0, i]) for i in range(n)]


def plot_history(history: Any, keys: Any = None, *, ax: Any = None) -> list[Any]:
    """Plot training curves against the epoch: all losses on one axis, each
    metric (with its ``val_`` twin) on its own, so an accuracy never reads as a
    loss.

    Parameters
    ----------
    history : History, dict or fitted estimator
        ``model.fit(...)``'s return value (or ``model.history``), a dict of
        lists, a fitted ``NeuralNetClassifier`` / ``NeuralNetRegressor`` (its
        ``history_``), or a fitted ``MLPClassifier`` / ``MLPRegressor``
        (glassnet's or scikit-learn's: ``loss_curve_`` and, with
        ``early_stopping=True``, ``validation_scores_``, drawn on separate
        axes).
    keys : list of str, optional
        The curves to draw (default: all).
    ax : Axes or sequence of Axes, optional
        One Axes per panel, or one subplot whose area is split into the panels;
        default: a new figure.

    Returns
    -------
    list of matplotlib Axes
        The losses' axes first, then one per metric; each has one line per key
        and a legend; epochs are numbered from 1, on integer ticks.
    """
    curves = history_curves(history)
    keys = list(curves) if keys is None else list(keys)
    missing = [k for k in keys if k not in curves]
    if missing:
        raise KeyError(f"Unknown curve(s) {missing}; available: {sorted(curves)}")
    if not keys:
        raise ValueError("plot_history has no curve to draw: the history is empty.")
    epochs = list(getattr(history, "epoch", []) or [])
    panels = group_curves(keys)
    axes = _panel_axes(ax, len(panels))
    for axis, (title, members) in zip(axes, panels.items()):
        for key in members:
            values = np.asarray(curves[key], dtype=float)
            same = len(epochs) == len(values)
            x = np.asarray(epochs) + 1 if same else np.arange(1, len(values) + 1)
            axis.plot(x, values, label=key, marker="." if len(values) < 30 else None)
        axis.set_xlabel("epoch")
        axis.set_ylabel(title)
        axis.set_title(title)
        integer_ticks(axis.xaxis)
        axis.legend(loc="best")
    return axes
