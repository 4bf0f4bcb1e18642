"""Spatial reshaping layers: ZeroPadding2D and UpSampling2D."""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet import ops
from glassnet.autograd import Tensor
from glassnet.layers.base import Layer
from glassnet.layers.conv import check_data_format
from glassnet.layers.pooling import _check_images
from glassnet.ops.geometry import normalize_tuple


def _normalize_pads(padding: Any) -> tuple[tuple[int, int], tuple[int, int]]:
    """int, (sym_h, sym_w) or ((top, bottom), (left, right)) -> the last form."""
    try:
        if isinstance(padding, (int, np.integer)):
            pairs = ((padding, padding), (padding, padding))
        elif all(isinstance(p, (int, np.integer)) for p in padding):
            h, w = padding
            pairs = ((h, h), (w, w))
        else:
            pairs = tuple(tuple(pair) for pair in padding)
        (top, bottom), (left, right) = pairs
        result = ((int(top), int(bottom)), (int(left), int(right)))
    except (TypeError, ValueError):
        result = None
    if result is None or min(min(pair) for pair in result) < 0:
        raise ValueError(
            "`padding` should be an int, a tuple of 2 ints (symmetric height and "
            "width padding) or a tuple of 2 tuples of 2 non-negative ints "
            f"((top, bottom), (left, right)). Received: padding={padding!r}"
        )
    return result


class ZeroPadding2D(Layer):
    """Adds rows and columns of zeros around channels-last images.

    ``padding``: int (same on all sides), ``(sym_height, sym_width)`` or
    ``((top, bottom), (left, right))``. Input ``(batch, h, w, c)``; output
    ``(batch, h + top + bottom, w + left + right, c)``.
    """

    input_ndim = 4

    def __init__(
        self, padding: Any = (1, 1), data_format: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.padding = _normalize_pads(padding)
        self.data_format = check_data_format(data_format)

    def build(self, input_shape) -> None:
        _check_images(self, input_shape)

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        return ops.zero_pad2d(x, self.padding)

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape
        (top, bottom), (left, right) = self.padding
        return (
            n,
            None if h is None else h + top + bottom,
            None if w is None else w + left + right,
            c,
        )

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "padding": self.padding,
            "data_format": self.data_format,
        }


class UpSampling2D(Layer):
    """Repeats every row ``size[0]`` times and every column ``size[1]`` times
    (nearest-neighbour up-sampling). Input ``(batch, h, w, c)``; output
    ``(batch, h * size[0], w * size[1], c)``.
    """

    input_ndim = 4

    def __init__(
        self,
        size: Any = (2, 2),
        data_format: str | None = None,
        interpolation: str = "nearest",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.size = normalize_tuple(size, 2, "size")
        self.data_format = check_data_format(data_format)
        if interpolation != "nearest":
            raise ValueError(
                "UpSampling2D supports only interpolation='nearest'. "
                f"Received: interpolation={interpolation!r}"
            )
        self.interpolation = interpolation

    def build(self, input_shape) -> None:
        _check_images(self, input_shape)

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        return ops.upsample2d(x, self.size)

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape
        sh, sw = self.size
        return (n, None if h is None else h * sh, None if w is None else w * sw, c)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "size": self.size,
            "data_format": self.data_format,
            "interpolation": self.interpolation,
        }
