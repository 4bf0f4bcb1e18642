"""Reading back what a plot function drew."""

from __future__ import annotations

import numpy as np


def painted_colors(contour_set) -> list[tuple[float, ...]]:
    """The RGBA colour of each filled level that covers part of the plane (a
    flat surface paints one)."""
    return [
        tuple(np.round(color, 3))
        for path, color in zip(contour_set.get_paths(), contour_set.get_facecolor())
        if len(path.vertices)
    ]


def surface_of(ax):
    """The filled contour set plot_surface drew first."""
    from matplotlib.contour import ContourSet

    (surface,) = [c for c in ax.collections if isinstance(c, ContourSet)]
    return surface


def scatters_of(ax):
    from matplotlib.collections import PathCollection

    return [c for c in ax.collections if isinstance(c, PathCollection)]
