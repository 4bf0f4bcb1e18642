"""Pooling layers: max / average over windows, and global pooling (1-D and 2-D)."""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet import ops
from glassnet.autograd import Tensor
from glassnet.layers.base import Layer
from glassnet.layers.conv import check_data_format, spatial_output_shape
from glassnet.ops.geometry import normalize_padding, normalize_tuple

_AXES = {3: "(batch, steps, features)", 4: "(batch, height, width, channels)"}


def _check_rank(layer: Layer, input_shape, rank: int) -> None:
    if len(input_shape) != rank:
        raise ValueError(
            f"{type(layer).__name__} layer {layer.name!r} expects inputs of rank "
            f"{rank} {_AXES[rank]}. Received: input_shape={input_shape}"
        )


def _check_images(layer: Layer, input_shape) -> None:
    _check_rank(layer, input_shape, 4)


def on_rows(op, x: Tensor, *args: Any) -> Tensor:
    """``op`` of (N, H, W, C) images applied to (N, L, C) sequences, seen as
    images of height 1 (the 1-D layers reuse the 2-D ops this way)."""
    n, length, c = x.data.shape
    y = op(ops.reshape(x, (n, 1, length, c)), *args)
    return ops.reshape(y, (n, y.data.shape[2], c))


class _Pooling2D(Layer):
    """Shared arguments of the max and average poolings; ``rank`` is the
    number of spatial axes."""

    rank = 2

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
        self.pool_size = normalize_tuple(pool_size, self.rank, "pool_size")
        self.strides = (
            self.pool_size
            if strides is None
            else normalize_tuple(strides, self.rank, "strides")
        )
        self.padding = normalize_padding(padding)
        self.data_format = check_data_format(data_format)

    def build(self, input_shape) -> None:
        _check_rank(self, input_shape, self.rank + 2)
        self.compute_output_shape(input_shape)

    def compute_output_shape(self, input_shape):
        spatial = spatial_output_shape(self, input_shape, self.pool_size, self.strides)
        return (input_shape[0], *spatial, input_shape[-1])

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
    """Reduce over the ``rank`` spatial axes; ``keepdims`` keeps them as size 1."""

    rank = 2

    input_ndim = 4

    def __init__(
        self, data_format: str | None = None, keepdims: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.data_format = check_data_format(data_format)
        self.keepdims = bool(keepdims)
        self._axes = tuple(range(1, self.rank + 1))

    def build(self, input_shape) -> None:
        _check_rank(self, input_shape, self.rank + 2)

    def compute_output_shape(self, input_shape):
        if self.keepdims:
            return (input_shape[0], *(1,) * self.rank, input_shape[-1])
        return (input_shape[0], input_shape[-1])

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
        return ops.mean(x, axis=self._axes, keepdims=self.keepdims)


class GlobalMaxPooling2D(_GlobalPooling2D):
    """Max over height and width: ``(batch, h, w, c)`` -> ``(batch, c)``
    (``(batch, 1, 1, c)`` with ``keepdims=True``)."""

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        return ops.max(x, axis=self._axes, keepdims=self.keepdims)


class _Pooling1D(_Pooling2D):
    """A 2-D pooling ``op`` on a height-1 view of (batch, steps, features)."""

    rank = 1
    input_ndim = 3
    op = staticmethod(ops.max_pool2d)

    def __init__(
        self,
        pool_size: Any = 2,
        strides: Any = None,
        padding: str = "valid",
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(pool_size, strides, padding, data_format, **kwargs)

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        pool, stride = (1, *self.pool_size), (1, *self.strides)
        return on_rows(self.op, x, pool, stride, self.padding)


class MaxPooling1D(_Pooling1D):
    """Max over windows of ``pool_size`` steps moved by ``strides`` (default:
    pool_size) of (batch, steps, features) sequences; :class:`MaxPooling2D`'s
    op on a height-1 view. ``padding`` 'valid' or 'same' (as in MaxPooling2D).
    Output ``(batch, pooled_steps, features)``.
    """


class AveragePooling1D(_Pooling1D):
    """Mean over windows of ``pool_size`` steps moved by ``strides`` (default:
    pool_size) of (batch, steps, features) sequences; 'same' padding is not
    counted (as in Keras). ``pool_size`` has no default, as in Keras. Output
    ``(batch, pooled_steps, features)``.
    """

    op = staticmethod(ops.avg_pool2d)

    def __init__(self, pool_size: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(pool_size, *args, **kwargs)


class GlobalAveragePooling1D(_GlobalPooling2D):
    """Mean over the steps: ``(batch, steps, features)`` -> ``(batch, features)``
    (``(batch, 1, features)`` with ``keepdims=True``). With a ``mask`` (batch,
    steps) only the steps it keeps are averaged, as in Keras."""

    rank = 1
    input_ndim = 3
    supports_masking = True

    def compute_mask(self, inputs: Any, previous_mask: Any = None) -> Any:
        return None  # the steps are averaged away

    def call(self, x: Tensor, training: bool = False, mask: Any = None) -> Tensor:
        if mask is None:
            return ops.mean(x, axis=1, keepdims=self.keepdims)
        weights = np.asarray(getattr(mask, "data", mask), dtype=x.data.dtype)
        weights = weights[:, :, None]
        total = ops.sum(ops.mul(x, weights), axis=1, keepdims=self.keepdims)
        return ops.div(total, weights.sum(axis=1, keepdims=self.keepdims))


class GlobalMaxPooling1D(_GlobalPooling2D):
    """Max over the steps: ``(batch, steps, features)`` -> ``(batch, features)``
    (``(batch, 1, features)`` with ``keepdims=True``)."""

    rank = 1
    input_ndim = 3

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        return ops.max(x, axis=1, keepdims=self.keepdims)
