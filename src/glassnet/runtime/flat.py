"""Several arrays as views of one flat vector.

Two fast paths need the same layout. An optimizer whose update is elementwise
(Adam) steps all the weights of one dtype with one set of ufunc calls on flat
vectors instead of one set per weight (on small networks the per-call cost
dominates), and the scikit-learn estimators hand all their weights to scipy's
L-BFGS as one vector (scikit-learn's packing: all ``coefs_``, then all
``intercepts_``) while ``coefs_`` and ``intercepts_`` stay the arrays the
network trains. :class:`FlatVector` is that layout, written once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import accumulate
from typing import Any

import numpy as np


class FlatVector:
    """Arrays of the given ``shapes`` stored back to back in one vector ``data``.

    ``views[i]`` is ``data[offsets[i]:offsets[i + 1]]`` reshaped to
    ``shapes[i]``: a view, so writing into one writes into the other.

    Parameters
    ----------
    shapes : sequence of tuples of int
        The shape of each array, in storage order.
    dtype : numpy dtype
        The dtype of ``data``.
    data : ndarray of shape (size,), optional
        The storage, where ``size`` is the sum of the arrays' sizes; a new,
        uninitialised vector by default.

    Examples
    --------
    >>> flat = FlatVector.pack([np.ones((2, 3)), np.zeros(3)])
    >>> flat.data.shape, [v.shape for v in flat.views]
    ((9,), [(2, 3), (3,)])
    >>> flat.views[1][:] = 5.0  # writes into flat.data
    >>> flat.data[-3:]
    array([5., 5., 5.])
    """

    def __init__(
        self,
        shapes: Sequence[tuple[int, ...]],
        dtype: Any,
        data: np.ndarray | None = None,
    ) -> None:
        self.shapes = [tuple(int(d) for d in shape) for shape in shapes]
        self.offsets = list(accumulate(map(math.prod, self.shapes), initial=0))
        size = self.offsets[-1]
        if data is None:
            data = np.empty(size, dtype)
        elif data.shape != (size,) or data.dtype != np.dtype(dtype):
            raise ValueError(
                f"The storage of a FlatVector of shapes {self.shapes} must be a "
                f"vector of {size} {np.dtype(dtype)}. Received: data of shape "
                f"{data.shape} and dtype {data.dtype}"
            )
        self.data = data
        self.views = self.split(data)

    @classmethod
    def pack(cls, arrays: Sequence[Any], dtype: Any = None) -> FlatVector:
        """A new flat vector holding copies of ``arrays`` (array-likes), cast to
        ``dtype`` (by default their common dtype)."""
        arrays = [np.asarray(a) for a in arrays]
        dtype = np.result_type(*arrays) if dtype is None else np.dtype(dtype)
        flat = cls([np.shape(a) for a in arrays], dtype)
        flat.gather(arrays)
        return flat

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    def split(self, data: np.ndarray) -> list[np.ndarray]:
        """Views of ``data`` (any vector of this layout, shape (size,)) with the
        arrays' shapes."""
        bounds = zip(self.offsets[:-1], self.offsets[1:], self.shapes)
        return [data[start:stop].reshape(shape) for start, stop, shape in bounds]

    def gather(self, arrays: Sequence[np.ndarray]) -> np.ndarray:
        """Copy ``arrays`` (ndarrays of these shapes, of any dtype that casts to
        ``dtype``) into ``data`` and return ``data``."""
        if self.shapes:
            np.concatenate([a.ravel() for a in arrays], out=self.data)
        return self.data

    def holds(self, arrays: Sequence[Any]) -> bool:
        """Whether ``arrays`` are these very views, in order (False after a user
        replaced one of them, or after unpickling)."""
        views = self.views
        return len(arrays) == len(views) and all(a is v for a, v in zip(arrays, views))

    def __getstate__(self) -> dict[str, Any]:
        # NOTE: pickling turns views into copies: keep only the storage and
        # make the views again when loading.
        return {"shapes": self.shapes, "data": self.data}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["shapes"], state["data"].dtype, state["data"])

    def __repr__(self) -> str:
        return f"FlatVector(shapes={self.shapes}, dtype={self.dtype})"
