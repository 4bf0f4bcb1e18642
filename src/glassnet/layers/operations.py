"""Keras 3's operation nodes: the calls of ``keras.ops`` a functional config
records beside its layers.

Keras writes the mask of ``Embedding(mask_zero=True)`` into a functional
model's config as a ``NotEqual`` node (``ids != 0``, module
``keras.src.ops.numpy``) whose output the next layers get as
``mask=``. glassnet holds such a node as a weightless layer, so a Keras file
loads and saves again as Keras wrote it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet import ops
from glassnet.layers.base import Layer


class NotEqual(Layer):
    """``x1 != x2``, element by element: a boolean Tensor of ``x1``'s shape
    (``x2`` a number, or an array that broadcasts to it).

    Keras's ``keras.src.ops.numpy.NotEqual``: its config holds only its name.

    >>> NotEqual()(ids, 0)  # the mask Embedding(mask_zero=True) gives
    """

    _output_dtypes = "bool"

    def prepare_input(self, x: Any) -> Any:
        """The values as they are: integer ids are compared, not cast to float."""
        if not self.built:
            self.build_for(np.shape(getattr(x, "data", x)))
        return x

    def call(self, x1: Any, x2: Any) -> Any:
        return ops.not_equal(x1, x2)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name}

    def get_build_config(self) -> None:
        """None: Keras builds no operation from a config."""
        return None
