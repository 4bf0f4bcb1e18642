"""Pictures of what a network is and what it learned, drawn with matplotlib.

============================  ==========================================  ============
function                      draws                                       returns
============================  ==========================================  ============
:func:`plot_surface`          a two-feature model's decision surface      Axes
:func:`plot_history`          losses on one axis, each metric on its own  list of Axes
:func:`plot_architectures`    decision surfaces of several widths and     Figure
                              depths, with parameter counts and scores
:func:`draw_graph`            the computational graph behind a tensor:    Axes
                              op, value and gradient of every node
:func:`plot_model`            a model's layers, shapes and parameters     Axes
:func:`plot_filters`          each filter of a ``Conv2D`` layer           Figure
:func:`plot_feature_maps`     each ``Conv2D``'s outputs for one image     Figure
============================  ==========================================  ============

matplotlib is imported by these functions only, on first use, so the rest of
glassnet never needs it. Each function draws into ``ax=`` (``fig=`` for the
grids) when given, and returns what it drew, so a report can place and save
the figures (``returned.figure.savefig(...)`` for an Axes) and tests can check
the artists.
"""

from __future__ import annotations

from glassnet.plot._conv import plot_feature_maps, plot_filters
from glassnet.plot._graph import draw_graph, plot_model
from glassnet.plot._history import plot_history
from glassnet.plot._surface import plot_architectures, plot_surface

__all__ = [
    "draw_graph",
    "plot_architectures",
    "plot_feature_maps",
    "plot_filters",
    "plot_history",
    "plot_model",
    "plot_surface",
]
