"""Reshaping layers: padding, cropping and up-sampling of sequences (1-D) and
images (2-D), RepeatVector and Permute."""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet import ops
from glassnet.autograd import Tensor
from glassnet.layers.base import Layer
from glassnet.layers.conv import check_data_format
from glassnet.layers.pooling import _check_images, _check_rank, on_rows
from glassnet.ops.geometry import normalize_tuple


def _normalize_pads(
    padding: Any, name: str = "padding"
) -> tuple[tuple[int, int], tuple[int, int]]:
    """int, (sym_h, sym_w) or ((top, bottom), (left, right)) -> the last form
    (``name``: the argument, for the error)."""
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
            f"`{name}` should be an int, a tuple of 2 ints (symmetric height and "
            "width) or a tuple of 2 tuples of 2 non-negative ints "
            f"((top, bottom), (left, right)). Received: {name}={padding!r}"
        )
    return result


def _positive_int(value: Any, name: str) -> int:
    """Keras's check of a count argument (RepeatVector's n, UpSampling1D's size)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"Expected an integer value for `{name}`, got {type(value)}.")
    if value <= 0:
        raise ValueError(
            f"Argument `{name}` should be a positive integer. Received: {name}={value}"
        )
    return int(value)


def _shrunk(length: int | None, crops: tuple[int, int], layer: Layer, shape) -> Any:
    """``length`` less both crops; raises when nothing would be left."""
    if length is None:
        return None
    if sum(crops) >= length:
        raise ValueError(
            f"`cropping` of layer {layer.name!r} ({type(layer).__name__}) must be "
            f"smaller than the input. Received: input_shape={tuple(shape)}, "
            f"cropping={layer.cropping}"
        )
    return length - sum(crops)


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


class ZeroPadding1D(Layer):
    """Adds ``padding`` zero steps before and after (batch, steps, features)
    sequences: an int (both sides) or ``(before, after)``. Output
    ``(batch, steps + before + after, features)``."""

    input_ndim = 3

    def __init__(
        self, padding: Any = 1, data_format: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.padding = normalize_tuple(padding, 2, "padding", allow_zero=True)
        self.data_format = check_data_format(data_format)

    def build(self, input_shape) -> None:
        _check_rank(self, input_shape, 3)

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        return on_rows(ops.zero_pad2d, x, ((0, 0), self.padding))

    def compute_output_shape(self, input_shape):
        n, steps, c = input_shape
        return (n, None if steps is None else steps + sum(self.padding), c)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "padding": self.padding,
            "data_format": self.data_format,
        }


class UpSampling1D(Layer):
    """Repeats every step ``size`` times: ``(batch, steps, features)`` ->
    ``(batch, steps * size, features)``."""

    input_ndim = 3

    def __init__(self, size: int = 2, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.size = _positive_int(size, "size")

    def build(self, input_shape) -> None:
        _check_rank(self, input_shape, 3)

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        return on_rows(ops.upsample2d, x, (1, self.size))

    def compute_output_shape(self, input_shape):
        n, steps, c = input_shape
        return (n, None if steps is None else steps * self.size, c)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "size": self.size}


class Cropping1D(Layer):
    """Removes ``cropping`` steps from the start and the end of (batch, steps,
    features) sequences: an int (both) or ``(start, end)``. Output
    ``(batch, steps - start - end, features)``."""

    input_ndim = 3

    def __init__(self, cropping: Any = (1, 1), **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cropping = normalize_tuple(cropping, 2, "cropping", allow_zero=True)

    def build(self, input_shape) -> None:
        _check_rank(self, input_shape, 3)
        self.compute_output_shape(input_shape)

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        start, end = self.cropping
        return ops.getitem(x, (slice(None), slice(start, x.data.shape[1] - end)))

    def compute_output_shape(self, input_shape):
        n, steps, c = input_shape
        return (n, _shrunk(steps, self.cropping, self, input_shape), c)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "cropping": self.cropping}


class Cropping2D(Layer):
    """Removes rows and columns at the borders of channels-last images.

    ``cropping``: int (all sides), ``(sym_height, sym_width)`` or
    ``((top, bottom), (left, right))``. Input ``(batch, h, w, c)``; output
    ``(batch, h - top - bottom, w - left - right, c)``.
    """

    input_ndim = 4

    def __init__(
        self,
        cropping: Any = ((0, 0), (0, 0)),
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.cropping = _normalize_pads(cropping, "cropping")
        self.data_format = check_data_format(data_format)

    def build(self, input_shape) -> None:
        _check_images(self, input_shape)
        self.compute_output_shape(input_shape)

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        (top, bottom), (left, right) = self.cropping
        _, h, w, _ = x.data.shape
        return ops.getitem(
            x, (slice(None), slice(top, h - bottom), slice(left, w - right))
        )

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape
        (rows, cols) = self.cropping
        return (
            n,
            _shrunk(h, rows, self, input_shape),
            _shrunk(w, cols, self, input_shape),
            c,
        )

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "cropping": self.cropping,
            "data_format": self.data_format,
        }


class RepeatVector(Layer):
    """Repeats each sample ``n`` times: ``(batch, features)`` ->
    ``(batch, n, features)`` (a broadcast: the gradient sums the copies)."""

    input_ndim = 2

    def __init__(self, n: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.n = _positive_int(n, "n")

    def build(self, input_shape) -> None:
        if len(input_shape) != 2:
            raise ValueError(
                f"RepeatVector layer {self.name!r} expects inputs of rank 2 "
                f"(batch, features). Received: input_shape={input_shape}"
            )

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        n, features = x.data.shape
        return ops.broadcast_to(ops.reshape(x, (n, 1, features)), (n, self.n, features))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "n": self.n}


class Permute(Layer):
    """Permutes the axes of each sample: ``dims`` lists the input axes (counted
    from 1, the batch axis stays first) in their new order; ``Permute((2, 1))``
    swaps the two axes of (batch, steps, features)."""

    def __init__(self, dims: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.dims = tuple(dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError(
                "Invalid permutation argument `dims` for Permute Layer. The set "
                "of indices in `dims` must be consecutive and start from 1. "
                f"Received dims={dims}"
            )

    def build(self, input_shape) -> None:
        if len(input_shape) != len(self.dims) + 1:
            raise ValueError(
                f"Permute layer {self.name!r} with dims={self.dims} expects inputs "
                f"of rank {len(self.dims) + 1}. Received: input_shape={input_shape}"
            )

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        return ops.transpose(x, (0, *self.dims))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *(input_shape[d] for d in self.dims))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "dims": self.dims}
