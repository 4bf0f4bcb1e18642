"""Convolution kernels (channels-last), built on im2col and one BLAS product.

Images are ``(batch, height, width, channels)`` and kernels
``(kernel_h, kernel_w, in_channels, filters)``, as in Keras. The forward pass
lays every receptive field out as one row of an *im2col* matrix (a strided view
of the padded input, copied once into a contiguous buffer) and multiplies it by
the kernel reshaped to a matrix: one matmul per call (a column of ones in the
buffer carries the bias). The backward pass gets the kernel and bias gradients
from one more matmul with the same buffer, and the input gradient by *col2im*:
for each of the ``kh * kw`` kernel offsets, one product ``g @ w[i, j].T`` added
into a shifted, strided slice of the input. No loops over samples or pixels
(with a fused relu the batch is taken in a few blocks of samples, to bound the
memory of the masked gradient).
"""

from __future__ import annotations

import numpy as np

from glassnet.autograd import Function
from glassnet.ops._parallel import over_batch

_as_strided = np.lib.stride_tricks.as_strided


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


def normalize_padding(padding) -> str:
    """``'VALID'`` -> ``'valid'``; anything but 'valid' / 'same' is an error."""
    value = padding.lower() if isinstance(padding, str) else padding
    if value not in ("valid", "same"):
        raise ValueError(
            f"The `padding` argument must be 'valid' or 'same'. Received: "
            f"padding={padding!r}"
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


def windows(xp, out_hw, sizes, strides, dilations):
    """Strided view (N, Ho, Wo, kh, kw, C) of every receptive field; no copy."""
    sn, sh, sw, sc = xp.strides
    return _as_strided(
        xp,
        shape=(xp.shape[0], *out_hw, *sizes, xp.shape[3]),
        strides=(
            sn,
            sh * strides[0],
            sw * strides[1],
            sh * dilations[0],
            sw * dilations[1],
            sc,
        ),
        writeable=False,
    )


def offset_slice(i, j, out_hw, strides, dilations):
    """Index of the (N, Ho, Wo, C) slice of the padded input seen by offset (i, j)."""
    top, left = i * dilations[0], j * dilations[1]
    return (
        slice(None),
        slice(top, top + strides[0] * (out_hw[0] - 1) + 1, strides[0]),
        slice(left, left + strides[1] * (out_hw[1] - 1) + 1, strides[1]),
    )


class Conv2D(Function):
    """y = conv2d(x, w) + b (channels-last);  dL/dw = cols.T @ g,
    dL/dx = col2im(g @ w.T), dL/db = sum(g over batch and pixels).

    ``x`` (N, H, W, C), ``w`` (kh, kw, C, F), ``b`` (F,) or omitted; output
    (N, Ho, Wo, F). Keyword settings: ``strides``, ``dilation_rate`` (pairs),
    ``padding`` ('valid', 'same', or explicit ``((top, bottom), (left, right))``)
    and ``activation`` (None or 'relu': y = relu(conv + b) in place, and
    dL/d(conv) = g * (y > 0)).

    The batch is split into one chunk per core, and each chunk is taken a block
    of samples at a time (about ``block_bytes`` of im2col rows), so that the
    block's im2col rows, its product and its relu are near the core's cache.
    With many channels the im2col rows are not kept for backward, which lays
    them out again block by block (cheaper than a round trip of the whole
    matrix through memory, and 9x less memory for 3x3); with few (K + 1 <= F)
    the matrix is no larger than the output and is kept.

    Peak extra memory, in elements (M = N*Ho*Wo output pixels, K = kh*kw*C,
    B = ``block_bytes`` / itemsize): forward allocates the output, M*F (a fused
    relu works in place), the kept im2col matrix, M*(K+1), if K + 1 <= F, with
    'same' padding the padded input, N*Hp*Wp*C (kept for backward), and per
    core one im2col block of at most B elements (or one sample's rows).
    Backward allocates N*Hp*Wp*C for the input gradient, per core (K+1)*F for
    partial kernel and bias gradients, one im2col block and one block of
    relu-masked gradient, and with an input gradient the chunk's relu-masked
    gradient (M*F in all) and one col2im block of C columns.
    """

    # Bytes of im2col rows (or of output) per block: near the cache, yet few
    # blocks (bench_conv epoch, best of 4: 1.51 s at 512 KB, 1.43 at 1 MB, 1.41
    # at 2 MB, 1.44 at 4 MB, 1.53 at 8 MB; 1.86 at 64 KB).
    block_bytes = 1 << 21
    # col2im's kh*kw products are only C wide and run faster on long blocks
    # (conv2 of bench_conv: 2 MB of gradient per block).
    col2im_bytes = 1 << 21

    def forward(
        self,
        x,
        w,
        b=None,
        strides=(1, 1),
        padding="valid",
        dilation_rate=(1, 1),
        activation=None,
        pool=None,
    ):
        if x.ndim != 4 or w.ndim != 4 or x.shape[3] != w.shape[2]:
            raise ValueError(
                "conv2d expects x of shape (batch, height, width, channels) and a "
                "kernel of shape (kh, kw, channels, filters) with matching channels. "
                f"Received: x.shape={x.shape}, kernel.shape={w.shape}"
            )
        kh, kw, c, f = w.shape
        pads = resolve_padding(padding, x.shape[1:3], (kh, kw), strides, dilation_rate)
        xp = pad2d(x, pads)
        out_hw = tuple(
            conv_output_length(n, k, "valid", s, d)
            for n, k, s, d in zip(xp.shape[1:3], (kh, kw), strides, dilation_rate)
        )
        if min(out_hw) <= 0:
            raise ValueError(
                f"conv2d kernel (dilated size {(kh - 1) * dilation_rate[0] + 1}x"
                f"{(kw - 1) * dilation_rate[1] + 1}) is larger than the padded "
                f"input. Received: x.shape={x.shape}, padding={padding!r}"
            )
        n, pixels = x.shape[0], out_hw[0] * out_hw[1]
        if pool is not None and (out_hw[0] < pool[0] or out_hw[1] < pool[1]):
            raise ValueError(
                f"conv2d output {out_hw} is smaller than the fused pool {pool}. "
                f"Received: x.shape={x.shape}, kernel.shape={w.shape}"
            )
        matrix = w.reshape(-1, f)
        if b is not None:
            matrix = np.concatenate([matrix, b.reshape(1, f).astype(matrix.dtype)])
        self.xp, self.w, self.pads, self.bias = xp, w, pads, b is not None
        self.out_hw, self.strides, self.dilations = out_hw, strides, dilation_rate
        self.pool = pool
        dtype = np.result_type(xp, matrix, np.float32)
        if pool is None:
            out = np.empty((n * pixels, f), dtype=dtype)
        else:
            pooled_hw = (out_hw[0] // pool[0], out_hw[1] // pool[1])
            out = np.empty((n, *pooled_hw, f), dtype=dtype)
            self.code = offsets_array(out.shape, pool[0] * pool[1])
        # relu: dL/d(conv) = g * (y > 0), y this node's output (pooled or not)
        self.relu = out if activation == "relu" else None
        # Few channels (K + 1 <= F): the im2col matrix is no larger than the
        # output, and laying it out again would cost more than keeping it.
        keep = kh * kw * c + 1 <= f
        self.cols = None
        if keep:
            self.cols = im2col_buffer(n * pixels, kh * kw * c, self.bias, dtype, c < 8)

        def run(lo, hi):  # one chunk of samples: im2col, matmul, relu, pool
            scratch = None if keep else self._im2col_block(dtype)
            conv = None if pool is None else self._block_buffer(f, dtype)
            for a, z in self._blocks(lo, hi, dtype):
                rows = slice(a * pixels, z * pixels)
                y = out[rows] if pool is None else conv[: (z - a) * pixels]
                np.matmul(self._im2col(scratch, a, z), matrix, out=y)
                if activation == "relu":  # in place: no second array
                    np.maximum(y, 0, out=y)
                if pool is not None:
                    views = self._pool_views(y.reshape(z - a, *out_hw, f))
                    max_with_offsets(views, out[a:z], self.code[a:z])

        over_batch(run, n, n * pixels * matrix.size, blas=True)
        return out.reshape(n, *out_hw, f) if pool is None else out

    def _pool_views(self, image):
        """The fused pool's window offsets as views of ``image`` (n, Ho, Wo, F),
        each (n, Ho // ph, Wo // pw, F), in row-major window order."""
        (ph, pw), (ho, wo) = self.pool, self.out_hw
        rows, cols = ho // ph * ph, wo // pw * pw
        return [image[:, i:rows:ph, j:cols:pw] for i in range(ph) for j in range(pw)]

    def _block_buffer(self, columns, dtype):
        """A (rows, columns) buffer for the largest block's output pixels."""
        a, z = self._blocks(0, self.xp.shape[0], dtype)[0]
        return np.empty(((z - a) * self.out_hw[0] * self.out_hw[1], columns), dtype)

    def _blocks(self, lo, hi, dtype):
        """(a, z) sample ranges covering ``range(lo, hi)``, each with at most
        ``block_bytes`` of im2col rows and of output (at least one sample)."""
        kh, kw, c, f = self.w.shape
        per_sample = self.out_hw[0] * self.out_hw[1] * max(kh * kw * c + 1, f)
        step = max(self.block_bytes // (per_sample * np.dtype(dtype).itemsize), 1)
        return [(a, min(a + step, hi)) for a in range(lo, hi, step)]

    def _im2col_block(self, dtype):
        """An im2col buffer for the largest block (reused by every block)."""
        kh, kw, c, _ = self.w.shape
        a, z = self._blocks(0, self.xp.shape[0], dtype)[0]
        rows = (z - a) * self.out_hw[0] * self.out_hw[1]
        return im2col_buffer(rows, kh * kw * c, self.bias, dtype, few=c < 8)

    def _im2col(self, scratch, a, z):
        """Lay out the im2col rows of samples ``a:z`` in ``scratch``, or in the
        kept matrix where ``scratch`` is None; returns them."""
        pixels = self.out_hw[0] * self.out_hw[1]
        if scratch is None:
            block = self.cols[a * pixels : z * pixels]
        else:
            block = scratch[: (z - a) * pixels]
        geometry = (self.out_hw, self.strides, self.dilations, self.w.shape[2] < 8)
        fill_im2col(block, self.xp[a:z], self.w.shape, *geometry)
        return block

    def backward(self, grad_output):
        need = self.needs_input_grad + (False,) * (3 - len(self.needs_input_grad))
        kh, kw, c, f = self.w.shape
        n, pixels = grad_output.shape[0], self.out_hw[0] * self.out_hw[1]
        dtype = np.result_type(grad_output, self.w)
        plain = self.relu is None and self.pool is None  # g is dL/d(conv) as is
        partials = {}
        if need[0]:
            dxp = np.empty(self.xp.shape, dtype=dtype)

        def run(lo, hi):  # one chunk of samples
            grads, chunk, block = None, None, None
            kept = self.cols is not None
            scratch = None if kept else self._im2col_block(dtype)
            if need[0] and not plain:  # col2im takes the whole chunk at once
                chunk = np.empty(((hi - lo) * pixels, f), dtype=dtype)
            elif not plain:
                block = self._block_buffer(f, dtype)
            for a, z in self._blocks(lo, hi, dtype):  # blocks that stay in cache
                rows = slice(a * pixels, z * pixels)
                if plain:
                    g = grad_output.reshape(-1, f)[rows]
                elif chunk is not None:
                    into = chunk[(a - lo) * pixels : (z - lo) * pixels]
                    g = self._conv_grad(grad_output, a, z, into)
                else:
                    g = self._conv_grad(grad_output, a, z, block[: (z - a) * pixels])
                if need[1] or need[2]:
                    # The bias column of ones makes grad_b the last row of this
                    # product. NOTE: BLAS is fastest with the long M axis inner in
                    # both operands.
                    cols = self.cols[rows] if kept else self._im2col(scratch, a, z)
                    part = cols.T @ g if c < 8 else (g.T @ cols).T
                    grads = part if grads is None else np.add(grads, part, out=grads)
            if need[0]:
                rows = slice(lo * pixels, hi * pixels)
                g = grad_output.reshape(-1, f)[rows] if plain else chunk
                self._col2im(g, dxp[lo:hi])
            partials[lo] = grads

        over_batch(run, n, n * pixels * f * (kh * kw * c + 1), blas=True)
        grads = None
        for lo in sorted(partials):  # a fixed order: the same sum every run
            part = partials[lo]
            grads = part if grads is None else grads + part
        grad_x = crop2d(dxp, self.pads) if need[0] else None
        grad_w = grads[: kh * kw * c].reshape(self.w.shape) if need[1] else None
        grad_b = grads[-1] if need[2] else None
        return (grad_x, grad_w, grad_b)[: len(self.needs_input_grad)]

    def _conv_grad(self, grad_output, a, z, into):
        """dL/d(conv + b) of samples ``a:z``, written into ``into`` (rows, F):
        the output gradient through the relu mask and, with a fused pool, routed
        to each window's arg-max (zero elsewhere)."""
        f = self.w.shape[3]
        if self.pool is None:
            pixels = self.out_hw[0] * self.out_hw[1]
            rows = slice(a * pixels, z * pixels)
            g = grad_output.reshape(-1, f)[rows]
            return np.multiply(g, self.relu[rows] > 0, out=into)
        g = grad_output[a:z]
        if self.relu is not None:
            g = g * (self.relu[a:z] > 0)
        image = into.reshape(z - a, *self.out_hw, f)
        (ph, pw), (ho, wo) = self.pool, self.out_hw
        if ho % ph or wo % pw:  # the rows / columns no window covers
            image[:, ho // ph * ph :] = 0
            image[:, :, wo // pw * pw :] = 0
        route_to_offsets(g, self.code[a:z], self._pool_views(image))
        return into

    def _col2im(self, g, dxp):
        """dxp = col2im(g @ w.T) for one chunk of samples: per kernel offset, the
        product g @ w[i, j].T is added into its shifted, strided slice of dxp
        (in blocks of ``col2im_bytes`` of g: these products, only C wide, run
        faster on long blocks)."""
        kh, kw, c, f = self.w.shape
        w_t = self.w.transpose(0, 1, 3, 2)
        dxp[...] = 0
        per_sample = self.out_hw[0] * self.out_hw[1]
        step = max(self.col2im_bytes // (per_sample * f * g.itemsize), 1)
        for a in range(0, len(dxp), step):
            z = min(a + step, len(dxp))
            g_block = g[a * per_sample : z * per_sample]
            image = np.empty((z - a, *self.out_hw, c), dtype=dxp.dtype)
            for i in range(kh):
                for j in range(kw):
                    np.matmul(g_block, w_t[i, j], out=image.reshape(-1, c))
                    _, rows_h, rows_w = offset_slice(
                        i, j, self.out_hw, self.strides, self.dilations
                    )
                    dxp[a:z, rows_h, rows_w] += image


def offsets_array(shape, count):
    """An empty array for indices below ``count`` (one byte each up to 256)."""
    return np.empty(shape, np.uint8 if count <= 256 else np.uint16)


def max_with_offsets(views, best, where):
    """``best`` = the elementwise maximum of the equally shaped ``views``, and
    ``where`` = the index of the first view that holds it (ties go to the
    first, as in PyTorch's max pooling)."""
    np.copyto(best, views[0])
    for view in views[1:]:
        np.maximum(best, view, out=best)
    # where = how many views come before the first that holds the maximum
    hit, found = np.empty(best.shape, bool), np.zeros(best.shape, bool)
    where[...] = 0
    for view in views[:-1]:
        found |= np.equal(view, best, out=hit)
        np.add(where, np.logical_not(found, out=hit), out=where)


def route_to_offsets(grad, where, targets, accumulate=False):
    """``targets[k] = grad`` where ``where == k``, else 0 (``+=`` with
    ``accumulate``, for windows that overlap): the max pool's local gradient."""
    hit = np.empty(where.shape, dtype=bool)
    for k, target in enumerate(targets):
        np.equal(where, k, out=hit)
        if accumulate:
            target += grad * hit
        else:
            np.multiply(grad, hit, out=target)


def im2col_buffer(m, k, bias, dtype, few=False):
    """An empty (M, K) im2col matrix (M, K + 1 with ``bias``: its last column is
    ones, which carries the bias through the product).

    ``few`` channels: laid out (K, M), so that :func:`fill_im2col` copies one long
    contiguous run per kernel offset (2.5x faster for C = 1), and returned
    transposed; else C-ordered (M, K).
    """
    dtype = np.result_type(dtype, np.float32)
    if few:
        cols = np.empty((k + bias, m), dtype=dtype).T
    else:
        cols = np.empty((m, k + bias), dtype=dtype)
    if bias:
        cols[:, k] = 1
    return cols


def fill_im2col(cols, xp, kernel_shape, out_hw, strides, dilations, few=False):
    """Write the receptive fields of the padded images ``xp`` (n, Hp, Wp, C) into
    the first K columns of ``cols`` (n*Ho*Wo rows, a block of rows of an
    :func:`im2col_buffer` made with the same ``few``), in the kernel's
    (kh, kw, C) order."""
    kh, kw, c, _ = kernel_shape
    n, k = xp.shape[0], kh * kw * c
    if few:
        blocks = np.reshape(cols[:, :k].T, (kh, kw, c, n, *out_hw), copy=False)
        for i in range(kh):
            for j in range(kw):
                view = xp[offset_slice(i, j, out_hw, strides, dilations)]
                np.copyto(blocks[i, j], view.transpose(3, 0, 1, 2))
    else:
        np.copyto(
            np.reshape(cols[:, :k], (n, *out_hw, kh, kw, c), copy=False),
            windows(xp, out_hw, (kh, kw), strides, dilations),
        )


class Conv1D(Conv2D):
    """y = conv1d(x, w) + b: a Conv2D of height 1;  the same local gradients.

    ``x`` (N, L, C), ``w`` (k, C, F), ``b`` (F,) or omitted; output (N, Lo, F).
    ``padding`` is 'valid', 'same' or 'causal' (all padding on the left).
    """

    def forward(
        self,
        x,
        w,
        b=None,
        strides=1,
        padding="valid",
        dilation_rate=1,
        activation=None,
    ):
        if x.ndim != 3 or w.ndim != 3:
            raise ValueError(
                "conv1d expects x of shape (batch, steps, channels) and a kernel of "
                f"shape (k, channels, filters). Received: x.shape={x.shape}, "
                f"kernel.shape={w.shape}"
            )
        if padding == "causal":
            padding = ((0, 0), ((w.shape[0] - 1) * dilation_rate, 0))
        out = super().forward(
            x[:, None],
            w[None],
            b,
            strides=(1, strides),
            padding=padding,
            dilation_rate=(1, dilation_rate),
            activation=activation,
        )
        return out[:, 0]

    def backward(self, grad_output):
        grads = super().backward(grad_output[:, None])
        squeeze = (lambda a: a[:, 0], lambda a: a[0], lambda a: a)
        return tuple(None if g is None else fn(g) for g, fn in zip(grads, squeeze))


class ZeroPad2D(Function):
    """y = x with zeros around it;  dL/dx = dL/dy with the border cropped off."""

    def forward(self, x, padding=((0, 0), (0, 0))):
        self.pads = padding
        return pad2d(x, padding)

    def backward(self, grad_output):
        return (crop2d(grad_output, self.pads),)


def conv2d(
    x,
    kernel,
    bias=None,
    strides=(1, 1),
    padding="valid",
    dilation_rate=(1, 1),
    activation=None,
    pool_size=None,
):
    """2-D convolution (cross-correlation, as in Keras) of channels-last images.

    ``x`` (N, H, W, C), ``kernel`` (kh, kw, C, F), ``bias`` (F,) or None;
    returns (N, Ho, Wo, F). ``padding`` 'same' puts the odd extra row/column at
    the bottom/right, like TensorFlow and Keras. ``activation='relu'`` applies
    relu inside the same node (in place, no second output array).

    ``pool_size`` (int or pair): a max pool over non-overlapping windows of that
    size ('valid', as :func:`max_pool2d` with its defaults) follows, in the same
    node; returns (N, Ho // ph, Wo // pw, F). The same numbers as the two ops
    one after the other, without the full-size output ever leaving the cache.
    """
    params = dict(
        strides=normalize_tuple(strides, 2, "strides"),
        padding=padding if not isinstance(padding, str) else normalize_padding(padding),
        dilation_rate=normalize_tuple(dilation_rate, 2, "dilation_rate"),
        activation=_fusable(activation),
    )
    if pool_size is not None:
        params["pool"] = normalize_tuple(pool_size, 2, "pool_size")
    if bias is None:
        return Conv2D.apply(x, kernel, **params)
    return Conv2D.apply(x, kernel, bias, **params)


def conv1d(
    x, kernel, bias=None, strides=1, padding="valid", dilation_rate=1, activation=None
):
    """1-D convolution of (N, L, C) sequences with a (k, C, F) kernel
    (``activation``: None or 'relu', fused as in :func:`conv2d`)."""
    value = padding.lower() if isinstance(padding, str) else padding
    if value not in ("valid", "same", "causal"):
        raise ValueError(
            "The `padding` argument must be 'valid', 'same' or 'causal'. "
            f"Received: padding={padding!r}"
        )
    params = dict(
        strides=normalize_tuple(strides, 1, "strides")[0],
        padding=value,
        dilation_rate=normalize_tuple(dilation_rate, 1, "dilation_rate")[0],
        activation=_fusable(activation),
    )
    if bias is None:
        return Conv1D.apply(x, kernel, **params)
    return Conv1D.apply(x, kernel, bias, **params)


def _fusable(activation):
    if activation not in (None, "relu"):
        raise ValueError(
            "Only activation=None or 'relu' can be fused into a convolution. "
            f"Received: activation={activation!r}"
        )
    return activation


def zero_pad2d(x, padding=((1, 1), (1, 1))):
    """Pad (N, H, W, C) images with zeros: ``((top, bottom), (left, right))``."""
    pads = tuple(tuple(int(p) for p in pair) for pair in padding)
    return ZeroPad2D.apply(x, padding=pads)
