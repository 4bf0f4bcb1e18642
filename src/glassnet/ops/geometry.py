"""Window geometry of convolution and pooling (channels-last images): argument
checks, Keras's output lengths and 'same' padding, and the strided slice of the
input that one window offset sees. Shared by the plain ops, their fast twins in
:mod:`glassnet.runtime` and the layers, so every path agrees on shapes and errors.
"""

from __future__ import annotations

import numpy as np


def normalize_tuple(value, n: int, name: str) -> tuple[int, ...]:
    """``3`` -> ``(3, 3)``; checks that every entry is a positive integer."""
    values = (value,) * n if isinstance(value, (int, np.integer)) else tuple(value)
    if len(values) != n or not all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v > 0
        for v in values
    ):
        raise ValueError(
            f"The `{name}` argument must be a positive integer or a tuple of {n} "
            f"positive integers. Received: {name}={value!r}"
        )
    return tuple(int(v) for v in values)


def normalize_padding(padding, allowed=("valid", "same")) -> str:
    """``'VALID'`` -> ``'valid'``; a name not in ``allowed`` is an error."""
    value = padding.lower() if isinstance(padding, str) else padding
    if value not in allowed:
        names = [repr(name) for name in allowed]
        names = " or ".join([", ".join(names[:-1]), names[-1]])
        raise ValueError(
            f"The `padding` argument must be {names}. Received: padding={padding!r}"
        )
    return value


def conv_output_length(length, size, padding, stride, dilation=1):
    """Output length along one axis (``None`` stays ``None``), as in Keras.

    ``padding`` is 'valid', 'same' or 'causal' (the last two keep the length when
    ``stride == 1``).
    """
    if length is None:
        return None
    span = (size - 1) * dilation + 1
    if padding == "valid":
        return max((length - span) // stride + 1, 0)
    return -(-length // stride)


def same_padding(length: int, size: int, stride: int, dilation: int = 1):
    """(before, after) padding for 'same'; the odd extra goes after, as in TF."""
    span = (size - 1) * dilation + 1
    out = -(-length // stride)
    total = max((out - 1) * stride + span - length, 0)
    return total // 2, total - total // 2


def resolve_padding(padding, shape, sizes, strides, dilations=(1, 1)):
    """Explicit ``((top, bottom), (left, right))`` for 'valid', 'same' or pairs."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0), (0, 0)
        return tuple(
            same_padding(n, k, s, d)
            for n, k, s, d in zip(shape, sizes, strides, dilations)
        )
    return tuple(tuple(int(p) for p in pair) for pair in padding)


def pad2d(x: np.ndarray, pads, value=0.0) -> np.ndarray:
    """``x`` (N, H, W, C) with ``pads = ((top, bottom), (left, right))`` added."""
    (top, bottom), (left, right) = pads
    if top == bottom == left == right == 0:
        return x
    n, h, w, c = x.shape
    out = np.full((n, h + top + bottom, w + left + right, c), value, dtype=x.dtype)
    out[:, top : top + h, left : left + w] = x
    return out


def crop2d(x: np.ndarray, pads) -> np.ndarray:
    """The inverse of :func:`pad2d` (a view)."""
    (top, bottom), (left, right) = pads
    return x[:, top : x.shape[1] - bottom, left : x.shape[2] - right]


def offset_slice(i, j, out_hw, strides, dilations=(1, 1)):
    """Index of the (N, Ho, Wo, C) slice of the padded input that window offset
    (i, j) sees: the pixel under that offset of every output pixel's window."""
    top, left = i * dilations[0], j * dilations[1]
    return (
        slice(None),
        slice(top, top + strides[0] * (out_hw[0] - 1) + 1, strides[0]),
        slice(left, left + strides[1] * (out_hw[1] - 1) + 1, strides[1]),
    )


def conv_geometry(x_shape, w_shape, strides, padding, dilations):
    """``(pads, (Ho, Wo))`` of a 2-D convolution of ``x_shape`` (N, H, W, C) by
    a kernel of ``w_shape`` (kh, kw, C, F); raises when they do not fit."""
    if len(x_shape) != 4 or len(w_shape) != 4 or x_shape[3] != w_shape[2]:
        raise ValueError(
            "conv2d expects x of shape (batch, height, width, channels) and a "
            "kernel of shape (kh, kw, channels, filters) with matching channels. "
            f"Received: x.shape={tuple(x_shape)}, kernel.shape={tuple(w_shape)}"
        )
    sizes = w_shape[:2]
    pads = resolve_padding(padding, x_shape[1:3], sizes, strides, dilations)
    out_hw = tuple(
        conv_output_length(n + before + after, k, "valid", s, d)
        for n, (before, after), k, s, d in zip(
            x_shape[1:3], pads, sizes, strides, dilations
        )
    )
    if min(out_hw) <= 0:
        spans = [(k - 1) * d + 1 for k, d in zip(sizes, dilations)]
        raise ValueError(
            f"conv2d kernel (dilated size {spans[0]}x{spans[1]}) is larger than "
            f"the padded input. Received: x.shape={tuple(x_shape)}, "
            f"padding={padding!r}"
        )
    return pads, out_hw


def conv1d_as_conv2d(x, w, strides, padding, dilation_rate):
    """The arguments of the height-1 2-D convolution that is the 1-D convolution
    of ``x`` (N, L, C) by ``w`` (k, C, F): 'causal' pads only on the left."""
    if x.ndim != 3 or w.ndim != 3:
        raise ValueError(
            "conv1d expects x of shape (batch, steps, channels) and a kernel of "
            f"shape (k, channels, filters). Received: x.shape={x.shape}, "
            f"kernel.shape={w.shape}"
        )
    if padding == "causal":
        padding = ((0, 0), ((w.shape[0] - 1) * dilation_rate, 0))
    settings = dict(
        strides=(1, strides), padding=padding, dilation_rate=(1, dilation_rate)
    )
    return x[:, None], w[None], settings


def conv1d_grads(grads):
    """The gradients (x, w, b) of a 1-D convolution from those of its height-1
    2-D convolution (:func:`conv1d_as_conv2d`)."""
    squeeze = (lambda a: a[:, 0], lambda a: a[0], lambda a: a)
    return tuple(None if g is None else fn(g) for g, fn in zip(grads, squeeze))


def pool_geometry(x_shape, pool_size, strides, padding):
    """``(pads, (Ho, Wo))`` of a pooling of images of ``x_shape`` (N, H, W, C);
    raises when a window does not fit."""
    if len(x_shape) != 4:
        raise ValueError(
            "Pooling expects images of shape (batch, height, width, channels). "
            f"Received: x.shape={tuple(x_shape)}"
        )
    pads = resolve_padding(padding, x_shape[1:3], pool_size, strides)
    out_hw = tuple(
        conv_output_length(n, k, padding, s)
        for n, k, s in zip(x_shape[1:3], pool_size, strides)
    )
    if min(out_hw) <= 0:
        raise ValueError(
            f"Pool size {pool_size} is larger than the input. "
            f"Received: x.shape={tuple(x_shape)}, padding={padding!r}"
        )
    return pads, out_hw
