"""Window geometry of convolution and pooling (channels-last images): argument
checks, Keras's output lengths and 'same' padding, and the strided slice of the
input that one window offset sees. Shared by the plain ops, their fast twins in
:mod:`glassnet.runtime` and the layers, so every path agrees on shapes and errors.
"""

from __future__ import annotations

import numpy as np

_sliding_window_view = np.lib.stride_tricks.sliding_window_view


def normalize_tuple(
    value, n: int, name: str, allow_zero: bool = False
) -> tuple[int, ...]:
    """``3`` -> ``(3, 3)``; checks that every entry is a positive (with
    ``allow_zero``, a non-negative) integer."""
    lowest = 0 if allow_zero else 1
    if type(value) is tuple and len(value) == n:  # NOTE: most calls, checked fast
        for v in value:
            if type(v) is not int or v < lowest:
                break
        else:
            return value
    try:
        values = (value,) * n if isinstance(value, (int, np.integer)) else tuple(value)
    except TypeError:
        values = ()
    if len(values) != n or not all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= lowest
        for v in values
    ):
        kind = "non-negative" if allow_zero else "positive"
        raise ValueError(
            f"The `{name}` argument must be a {kind} integer or a tuple of {n} "
            f"{kind} integers. Received: {name}={value!r}"
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


def conv_transpose_output_length(
    length, size, padding, output_padding, stride, dilation=1
):
    """Output length of a transposed convolution along one axis (``None``
    stays ``None``), as in Keras: 'valid' gives ``(length - 1) * stride +
    max(span, stride)``, 'same' ``length * stride``; an ``output_padding``
    replaces the extra ``max(span, stride) - span`` (or the 'same' length by
    ``(length - 1) * stride + span % 2 + output_padding``)."""
    if length is None:
        return None
    span = (size - 1) * dilation + 1
    if padding == "valid":
        extra = max(span, stride) - span if output_padding is None else output_padding
        return (length - 1) * stride + span + extra
    if output_padding is None:
        return length * stride
    return (length - 1) * stride + span % 2 + output_padding


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


def receptive_fields(xp, sizes, strides, dilations, out_hw):
    """The (N, Ho, Wo, kh, kw, C) view of the padded images ``xp``: every
    output pixel's window, the rows that im2col copies (no copy here)."""
    (kh, kw), (sh, sw), (dh, dw) = sizes, strides, dilations
    spans = ((kh - 1) * dh + 1, (kw - 1) * dw + 1)
    windows = _sliding_window_view(xp, spans, axis=(1, 2))
    fields = windows[:, ::sh, ::sw, :, ::dh, ::dw][:, : out_hw[0], : out_hw[1]]
    return fields.transpose(0, 1, 2, 4, 5, 3)


def col2im(dcols, shape, strides, dilations):
    """The adjoint of :func:`receptive_fields`: an image of ``shape`` onto which
    each kernel offset's slice of ``dcols`` (N, Ho, Wo, kh, kw, C) is added at
    the pixels that offset saw."""
    _, ho, wo, kh, kw, _ = dcols.shape
    image = np.zeros(shape, dcols.dtype)
    for i in range(kh):
        for j in range(kw):
            image[offset_slice(i, j, (ho, wo), strides, dilations)] += dcols[
                :, :, :, i, j
            ]
    return image


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


def conv_transpose_geometry(
    x_shape, w_shape, strides, padding, output_padding, dilations
):
    """``(crops, out_hw, canvas_hw)`` of a transposed convolution of
    ``x_shape`` (N, H, W, C) by a kernel of ``w_shape`` (kh, kw, F, C).

    Every input pixel (i, j) adds into a canvas at (s*i + d*a, s*j + d*b); the
    output is the canvas window of size ``out_hw`` from ``crops`` (top, left).
    'same' crops what the convolution it inverts would have padded (TensorFlow's
    and JAX's convention: the odd pixel at the end); the canvas is large enough
    for the window too (a stride larger than the kernel leaves zeros).
    """
    if len(x_shape) != 4 or len(w_shape) != 4 or x_shape[3] != w_shape[3]:
        raise ValueError(
            "conv2d_transpose expects x of shape (batch, height, width, channels) "
            "and a kernel of shape (kh, kw, filters, channels) with matching "
            f"channels. Received: x.shape={tuple(x_shape)}, "
            f"kernel.shape={tuple(w_shape)}"
        )
    output_padding = output_padding or (None, None)
    crops, out_hw, canvas_hw = [], [], []
    for n, k, s, d, extra in zip(
        x_shape[1:3], w_shape[:2], strides, dilations, output_padding
    ):
        full = (n - 1) * s + (k - 1) * d + 1
        out = conv_transpose_output_length(n, k, padding, extra, s, d)
        if out <= 0:
            raise ValueError(
                "conv2d_transpose output would be empty. Received: "
                f"x.shape={tuple(x_shape)}, padding={padding!r}, "
                f"output_padding={output_padding}"
            )
        crop = 0 if padding == "valid" else max(full - out, 0) // 2
        crops.append(crop)
        out_hw.append(out)
        canvas_hw.append(max(full, crop + out))
    return tuple(crops), tuple(out_hw), tuple(canvas_hw)


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
