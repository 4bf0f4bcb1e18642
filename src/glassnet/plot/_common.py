"""What the plotting modules share: the lazy matplotlib import, axes, grids."""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def pyplot() -> Any:
    """``matplotlib.pyplot``, imported on first use (glassnet itself never needs
    a display)."""
    import matplotlib.pyplot as plt

    return plt


def current_axes(ax: Any) -> Any:
    """``ax``, or the current axes (a notebook cell's figure), as ``plt.plot``."""
    return pyplot().gca() if ax is None else ax


def new_axes(ax: Any, figsize: tuple[float, float]) -> Any:
    """``ax``, or the axes of a new figure of ``figsize`` inches (drawings whose
    size follows their content: graphs, architectures)."""
    if ax is not None:
        return ax
    _, ax = pyplot().subplots(figsize=figsize)
    return ax


def panel_grid(
    n: int,
    ncols: int | None = None,
    *,
    fig: Any = None,
    panel_size: tuple[float, float] = (3.2, 3.2),
) -> tuple[Any, list[Any]]:
    """A figure (``fig``, or a new one sized for the grid) with ``n`` axes in
    rows of ``ncols`` (default: a near-square grid); spare cells are hidden."""
    ncols = max(1, min(n, ncols or math.ceil(math.sqrt(n))))
    nrows = max(1, math.ceil(n / ncols))
    if fig is None:
        width, height = panel_size
        fig = pyplot().figure(figsize=(width * ncols, height * nrows))
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    for spare in axes[n:]:
        spare.set_visible(False)
    return fig, list(axes[:n])


def integer_ticks(axis: Any) -> None:
    """Ticks on whole numbers only (epochs, indices)."""
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True))


def short_number(value: Any, digits: int = 4) -> str:
    """A scalar as ``-12`` or ``0.06511``; an array as its values when small,
    else as its shape."""
    array = np.asarray(value)
    if array.size == 1:
        return f"{array.item():.{digits}g}"
    if array.size <= 4:
        flat = ", ".join(f"{v:.{min(digits, 3)}g}" for v in array.ravel())
        return f"[{flat}]"
    return f"array{array.shape}"
