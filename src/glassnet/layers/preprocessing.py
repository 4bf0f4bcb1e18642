"""Rescaling: ``y = x * scale + offset`` (Keras's preprocessing layer)."""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet import ops
from glassnet.autograd import Tensor
from glassnet.layers.base import Layer
from glassnet.layers.lambda_layer import array_from_config


def _config_value(value: Any, name: str) -> Any:
    """A float, or an array as nested lists (JSON as it is); numbers only."""
    array = np.asarray(array_from_config(value))
    if array.dtype.kind not in "biuf":
        raise ValueError(
            f"Rescaling's `{name}` must be a number or an array of numbers. "
            f"Received: {name}={value!r}"
        )
    return float(array) if array.ndim == 0 else array.tolist()


class Rescaling(Layer):
    """Multiplies the inputs by ``scale`` and adds ``offset``: ``Rescaling(1 /
    255)`` maps pixels in [0, 255] to [0, 1], ``Rescaling(1 / 127.5, offset=-1)``
    to [-1, 1]. ``scale`` and ``offset`` are numbers or arrays that broadcast
    against the input (one per channel, say). Any input shape; the output has
    the same shape. No weights.
    """

    supports_masking = True

    def __init__(self, scale: Any, offset: Any = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scale = _config_value(scale, "scale")
        self.offset = _config_value(offset, "offset")

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        scale = np.asarray(self.scale, dtype=self._dtype)
        return ops.add(ops.mul(x, scale), np.asarray(self.offset, dtype=self._dtype))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}
