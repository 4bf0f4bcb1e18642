"""Pooling layers: max / average over windows, and global pooling."""

from __future__ import annotations

from typing import Any

from glassnet import ops
from glassnet.autograd import Tensor
from glassnet.layers.base import Layer
from glassnet.layers.conv import check_data_format, spatial_output_shape
from glassnet.ops.geometry import normalize_padding, normalize_tuple


def _check_images(layer: Layer, input_shape) -> None:
    if len(input_shape) != 4:
        raise ValueError(
            f"{type(layer).__name__} layer {layer.name!r} expects inputs of rank 4 "
            f"(batch, height, width, channels). Received: input_shape={input_shape}"
        )


class _Pooling2D(Layer):
    """Shared arguments of MaxPooling2D and AveragePooling2D."""

    input_ndim = 4

    def __init__(
        self,
        pool_size: Any = (2, 2),
        strides: Any = None,
        padding: str = "valid",
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.pool_size = normalize_tuple(pool_size, 2, "pool_size")
        self.strides = (
            self.pool_size
            if strides is None
            else normalize_tuple(strides, 2, "strides")
        )
        self.padding = normalize_padding(padding)
        self.data_format = check_data_format(data_format)

    def build(self, input_shape) -> None:
        _check_images(self, input_shape)
        self.compute_output_shape(input_shape)

    def compute_output_shape(self, input_shape):
        spatial = spatial_output_shape(self, input_shape, self.pool_size, self.strides)
        return (input_shape[0], *spatial, input_shape[3])

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "pool_size": self.pool_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
        }


class MaxPooling2D(_Pooling2D):
    """Max over ``pool_size`` windows moved by ``strides`` (default: pool_size).

    ``padding`` 'valid' drops the incomplete windows; 'same' pads bottom/right
    (never chosen as the max). The gradient goes to each window's arg-max.
    Input ``(batch, height, width, channels)``; output
    ``(batch, pooled_height, pooled_width, channels)``.

    >>> MaxPooling2D()  # (None, 26, 26, 32) -> (None, 13, 13, 32)
    """

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        return ops.max_pool2d(x, self.pool_size, self.strides, self.padding)


class AveragePooling2D(_Pooling2D):
    """Mean over ``pool_size`` windows moved by ``strides`` (default: pool_size).

    With ``padding='same'`` the padded cells are not counted (as in Keras).
    Input ``(batch, height, width, channels)``; output
    ``(batch, pooled_height, pooled_width, channels)``.
    """

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        return ops.avg_pool2d(x, self.pool_size, self.strides, self.padding)


class _GlobalPooling2D(Layer):
    """Reduce over height and width; ``keepdims`` keeps them as size 1."""

    input_ndim = 4

    def __init__(
        self, data_format: str | None = None, keepdims: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.data_format = check_data_format(data_format)
        self.keepdims = bool(keepdims)

    def build(self, input_shape) -> None:
        _check_images(self, input_shape)

    def compute_output_shape(self, input_shape):
        if self.keepdims:
            return (input_shape[0], 1, 1, input_shape[3])
        return (input_shape[0], input_shape[3])

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "data_format": self.data_format,
            "keepdims": self.keepdims,
        }


class GlobalAveragePooling2D(_GlobalPooling2D):
    """Mean over height and width: ``(batch, h, w, c)`` -> ``(batch, c)``
    (``(batch, 1, 1, c)`` with ``keepdims=True``)."""

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        return ops.mean(x, axis=(1, 2), keepdims=self.keepdims)


class GlobalMaxPooling2D(_GlobalPooling2D):
    """Max over height and width: ``(batch, h, w, c)`` -> ``(batch, c)``
    (``(batch, 1, 1, c)`` with ``keepdims=True``)."""

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        return ops.max(x, axis=(1, 2), keepdims=self.keepdims)
