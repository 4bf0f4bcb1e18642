"""A cap on the weight memory layers may create, for models built from files.

A config read from a file names sizes (``units``, ``kernel_size``, shapes) that
could ask for any amount of memory; :mod:`glassnet.saving` builds such a model
inside :func:`weight_budget` (the size of the file's weights) so that
``Layer.add_weight`` refuses an impossible weight before allocating it.
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections.abc import Iterator

import numpy as np

_BUDGET = threading.local()


@contextlib.contextmanager
def weight_budget(nbytes: int, source: str) -> Iterator[None]:
    """Within this block (in this thread), ``add_weight`` refuses with a
    ValueError to create more than ``nbytes`` of weights in all: a model built
    from a config read from ``source`` may not ask for more memory than the
    file that holds its weights, whatever sizes the config names."""
    saved = getattr(_BUDGET, "left", None)
    _BUDGET.left, _BUDGET.source = int(nbytes), source
    try:
        yield
    finally:
        _BUDGET.left = saved


def charge(shape: tuple[int, ...], dtype: np.dtype, owner: str) -> None:
    """Take a weight of ``shape`` and ``dtype`` from the budget (no-op outside
    :func:`weight_budget`); ValueError, before anything is allocated, if it
    does not fit."""
    left = getattr(_BUDGET, "left", None)
    if left is None:
        return
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes > left:
        raise ValueError(
            f"{owner}: a weight of shape {shape} ({nbytes} bytes) is more than "
            f"{_BUDGET.source} holds ({left} bytes left for the weights)."
        )
    _BUDGET.left = left - nbytes
