"""The array-module seam: where the fast kernels get their array library.

Today that is always NumPy. A GPU array library with NumPy's API (CuPy) would
plug in here: :func:`array_module` would return it for its arrays, and
:func:`as_strided`, the one NumPy-only trick the kernels use (a view with
hand-made strides: CuPy has it under ``cupy.lib.stride_tricks``), would be
spelled for it. The kernels' other calls are NumPy API that CuPy shares.
"""

from __future__ import annotations

import numpy as np

xp = np


def array_module(*arrays):
    """The array library of ``arrays``: NumPy (the place a CuPy lookup goes)."""
    return np


def as_strided(a, shape, strides):
    """A read-only view of ``a`` with the given shape and strides (in bytes),
    no copy. The caller must keep every index inside ``a``'s memory."""
    return np.lib.stride_tricks.as_strided(
        a, shape=shape, strides=strides, writeable=False
    )
