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
from glassnet.ops._parallel import over_batch, split, workers_for

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


def receptive_fields(xp, kernel_shape, grid, strides, dilations, pool=(1, 1)):
    """A strided view (no copy) of the receptive field of every output pixel of
    a convolution of the padded images ``xp`` (N, Hp, Wp, C), with the pixels
    in ``pool`` groups (see :class:`Conv2D`): shape (ph, pw, N, h, w, kh, kw, C)
    for the pixel (ph*r + i, pw*q + j) at [i, j, n, r, q], ``grid`` = (h, w)."""
    kh, kw, c, _ = kernel_shape
    sn, sh, sw, sc = xp.strides
    (ph, pw), (s0, s1), (d0, d1) = pool, strides, dilations
    shape = (ph, pw, xp.shape[0], *grid, kh, kw, c)
    steps = (sh * s0, sw * s1, sn, sh * s0 * ph, sw * s1 * pw, sh * d0, sw * d1, sc)
    return _as_strided(xp, shape=shape, strides=steps, writeable=False)


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
    ``padding`` ('valid', 'same', or explicit ``((top, bottom), (left, right))``),
    ``activation`` (None or 'relu': y = relu(conv + b) in place, and
    dL/d(conv) = g * (y > 0)) and ``pool`` (None or (ph, pw): a max pool over
    windows that tile the output follows; output (N, Ho // ph, Wo // pw, F), and
    dL/d(conv) is dL/dy at each window's arg-max, zero elsewhere).

    With a pool, the output pixels are taken in ph*pw *groups*, one per window
    offset (i, j): the pixels (ph*r + i, pw*q + j), themselves a convolution
    with strides (ph*sh, pw*sw) of the input shifted by (i*sh, j*sw). The im2col
    rows are laid out group after group, so the pool is the maximum of ph*pw
    contiguous blocks of the product (relu comes after it: relu and max
    commute), and pixels that no window covers are never computed. Without a
    pool there is one group: all output pixels.

    The batch is cut into blocks of samples (about ``block_bytes`` of im2col
    rows each) that stay near a core's cache through im2col, product, relu and
    pool; the cores share out the blocks. With many channels the im2col rows
    are not kept for backward, which lays them out again block by block
    (cheaper than a round trip of the whole matrix through memory, and 9x less
    memory for 3x3); with few (K + 1 <= F) they are no larger than the output
    and are kept.

    Peak extra memory, in elements (M = N * the computed output pixels,
    K = kh*kw*C, B = ``block_bytes`` / itemsize): forward allocates the output
    (M*F without a pool, M*F/(ph*pw) and as many one-byte window offsets with
    one), the kept im2col matrix, M*(K+1), if K + 1 <= F, with 'same' padding
    the padded input (kept for backward), and per core one block of im2col rows
    (at most B elements, or one sample's rows) and, with a pool, of products.
    Backward allocates the padded input's gradient, and per core (K+1)*F for
    partial kernel and bias gradients and one block each of im2col rows, of
    dL/d(conv) and of col2im products (C columns).
    """

    # Bytes of im2col rows (or of output) per block: near the cache, yet few
    # blocks (bench_conv epoch, best of 4: 1.22 s at 1 MB, 1.14 at 2 MB, 1.15
    # at 3 MB, 1.17 at 4 MB; before the pool fusion, 1.86 s at 64 KB).
    block_bytes = 1 << 21

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
        ph, pw = pool or (1, 1)
        if out_hw[0] < ph or out_hw[1] < pw:
            raise ValueError(
                f"conv2d output {out_hw} is smaller than the fused pool {pool}. "
                f"Received: x.shape={x.shape}, kernel.shape={w.shape}"
            )
        matrix = w.reshape(-1, f)
        if b is not None:
            matrix = np.concatenate([matrix, b.reshape(1, f).astype(matrix.dtype)])
        self.xp, self.w, self.pads, self.bias = xp, w, pads, b is not None
        self.out_hw, self.strides, self.dilations = out_hw, strides, dilation_rate
        self.pool = (ph, pw)  # the output pixels in ph*pw groups
        self.grid = (out_hw[0] // ph, out_hw[1] // pw)  # each group's pixels
        n, count = x.shape[0], ph * pw
        dtype = np.result_type(xp, matrix, np.float32)
        out = np.empty((n, *self.grid, f), dtype=dtype)
        self.code = None if count == 1 else offsets_array(out.shape, count)
        self.relu = out if activation == "relu" else None  # dL/d(conv) = g * (y > 0)
        self.blocks = self._blocks(n, dtype)
        self.fields = receptive_fields(
            xp, w.shape, self.grid, strides, dilation_rate, self.pool
        )
        # Few channels (K + 1 <= F): the im2col matrix is no larger than the
        # output, and laying it out again would cost more than keeping it.
        keep = kh * kw * c + 1 <= f
        self.cols = None
        if keep:
            rows = n * self.rows_per_sample
            self.cols = im2col_buffer(rows, kh * kw * c, self.bias, dtype, c < 8)

        def run(first, last):  # blocks of samples: im2col, matmul, relu, pool
            scratch = (
                None if keep else self._block_buffer(kh * kw * c, dtype, im2col=True)
            )
            products = None if count == 1 else self._block_buffer(f, dtype)
            for a, z in self.blocks[first:last]:
                cols = self._im2col(scratch, a, z)
                y = out[a:z].reshape(-1, f) if count == 1 else products[: len(cols)]
                np.matmul(cols, matrix, out=y)
                if count > 1:
                    groups = y.reshape(count, z - a, *self.grid, f)
                    max_with_offsets(list(groups), out[a:z], self.code[a:z])
                if activation == "relu":  # in place; after the pool, on fewer
                    np.maximum(out[a:z], 0, out=out[a:z])  # (relu, max commute)

        over_batch(run, len(self.blocks), cols_work(n, self), blas=True)
        return out

    @property
    def rows_per_sample(self):
        """im2col rows (computed output pixels) per sample, over all groups."""
        return self.pool[0] * self.pool[1] * self.grid[0] * self.grid[1]

    def _blocks(self, n, dtype):
        """(a, z) sample ranges of near-equal size covering ``range(n)``, each
        with about ``block_bytes`` of im2col rows and of output (at least one
        sample), as many as a multiple of the cores that will share them."""
        kh, kw, c, f = self.w.shape
        per_sample = self.rows_per_sample * max(kh * kw * c + 1, f)
        total = n * per_sample * np.dtype(dtype).itemsize
        cores = workers_for(n, cols_work(n, self))
        count = min(-(-total // (self.block_bytes * cores)) * cores, n)
        return split(n, count)

    def _block_buffer(self, columns, dtype, im2col=False):
        """An empty (rows, columns) buffer for the largest block; with
        ``im2col``, an :func:`im2col_buffer` of K = ``columns``."""
        rows = max(z - a for a, z in self.blocks) * self.rows_per_sample
        if im2col:
            few = self.w.shape[2] < 8
            return im2col_buffer(rows, columns, self.bias, dtype, few=few)
        return np.empty((rows, columns), dtype)

    def _im2col(self, scratch, a, z):
        """Lay out the im2col rows of samples ``a:z``, group after group, in
        ``scratch``, or in the kept matrix where ``scratch`` is None; returns
        them (one copy from the view made by forward)."""
        rows = (z - a) * self.rows_per_sample
        if scratch is None:
            block = self.cols[a * self.rows_per_sample :][:rows]
        else:
            block = scratch[:rows]
        kh, kw, c, _ = self.w.shape
        shape = (*self.pool, z - a, *self.grid)
        if c < 8:  # the (K, rows) layout: fields moved to (kh, kw, C, ...rows)
            target = np.reshape(
                block[:, : kh * kw * c].T, (kh, kw, c, *shape), copy=False
            )
            np.copyto(target, self.fields[:, :, a:z].transpose(5, 6, 7, 0, 1, 2, 3, 4))
        else:
            target = np.reshape(
                block[:, : kh * kw * c], (*shape, kh, kw, c), copy=False
            )
            np.copyto(target, self.fields[:, :, a:z])
        return block

    def backward(self, grad_output):
        need = self.needs_input_grad + (False,) * (3 - len(self.needs_input_grad))
        kh, kw, c, f = self.w.shape
        n = grad_output.shape[0]
        dtype = np.result_type(grad_output, self.w)
        plain = self.relu is None and self.code is None  # g is dL/d(conv) as is
        partials = {}
        if need[0]:
            dxp = np.empty(self.xp.shape, dtype=dtype)
            targets = self._col2im_targets(dxp)

        def run(first, last):  # blocks of samples
            grads, kept = None, self.cols is not None
            scratch = (
                None if kept else self._block_buffer(kh * kw * c, dtype, im2col=True)
            )
            conv_grads = None if plain else self._block_buffer(f, dtype)
            dcols = self._block_buffer(kh * kw * c, dtype) if need[0] else None
            for a, z in self.blocks[first:last]:
                if plain:
                    g = grad_output[a:z].reshape(-1, f)
                else:
                    g = self._conv_grad(grad_output, a, z, conv_grads)
                if need[1] or need[2]:
                    # The bias column of ones makes grad_b the last row of this
                    # product. NOTE: BLAS is fastest with the long M axis inner in
                    # both operands.
                    cols = self._kept(a, z) if kept else self._im2col(scratch, a, z)
                    part = cols.T @ g if c < 8 else (g.T @ cols).T
                    grads = part if grads is None else np.add(grads, part, out=grads)
                if need[0]:
                    self._col2im(g, a, z, dxp, targets, dcols)
            partials[first] = grads

        over_batch(run, len(self.blocks), cols_work(n, self), blas=True)
        grads = None
        for first in sorted(partials):  # a fixed order: the same sum every run
            part = partials[first]
            grads = part if grads is None else grads + part
        grad_x = crop2d(dxp, self.pads) if need[0] else None
        grad_w = grads[: kh * kw * c].reshape(self.w.shape) if need[1] else None
        grad_b = grads[-1] if need[2] else None
        return (grad_x, grad_w, grad_b)[: len(self.needs_input_grad)]

    def _kept(self, a, z):
        """The kept im2col rows of samples ``a:z``."""
        return self.cols[a * self.rows_per_sample : z * self.rows_per_sample]

    def _conv_grad(self, grad_output, a, z, buffer):
        """dL/d(conv + b) of samples ``a:z``, as im2col-ordered rows in
        ``buffer``: dL/dy through the relu mask and, with a pool, routed to each
        window's arg-max (the other pixels of the window get zero)."""
        f = self.w.shape[3]
        into = buffer[: (z - a) * self.rows_per_sample]
        g = grad_output[a:z]
        if self.code is None:
            return np.multiply(
                g.reshape(-1, f), self.relu[a:z].reshape(-1, f) > 0, out=into
            )
        if self.relu is not None:
            g = g * (self.relu[a:z] > 0)
        groups = into.reshape(self.pool[0] * self.pool[1], z - a, *self.grid, f)
        route_to_offsets(g, self.code[a:z], groups)
        return into

    def _col2im_targets(self, dxp):
        """Per kernel offset (i, j), the strided slice of the padded input's
        gradient ``dxp`` under the computed output pixels, as (N, h, ph, w, pw, C):
        the output pixel (ph*r + gi, pw*q + gj) of group (gi, gj) at
        [n, r, gi, q, gj]."""
        kh, kw, c, _ = self.w.shape
        (ph, pw), (h, w), n = self.pool, self.grid, len(dxp)
        covered = (h * ph, w * pw)  # the output pixels some group computes
        shape = (n, h, ph, w, pw, c)
        return [
            np.reshape(
                dxp[offset_slice(i, j, covered, self.strides, self.dilations)],
                shape,
                copy=False,
            )
            for i in range(kh)
            for j in range(kw)
        ]

    def _col2im(self, g, a, z, dxp, targets, buffer):
        """dxp[a:z] = col2im(g @ w.T) for the block of samples ``a:z`` (zeroing
        it first): one product gives every kernel offset's contribution (its C
        columns of ``buffer``), added into that offset's slice of
        :meth:`_col2im_targets`, every group at once."""
        kh, kw, c, f = self.w.shape
        (ph, pw), (h, w) = self.pool, self.grid
        dcols = np.matmul(g, self.w.reshape(-1, f).T, out=buffer[: len(g)])
        # rows (group i, group j, sample, r, q) -> (sample, r, group i, q, group j)
        dcols = dcols.reshape(ph, pw, z - a, h, w, kh * kw, c).transpose(
            2, 3, 0, 4, 1, 5, 6
        )
        dxp[a:z] = 0
        for offset, target in enumerate(targets):
            target[a:z] += dcols[..., offset, :]


def cols_work(n, conv):
    """The multiply-adds of one product over the batch (decides threading)."""
    kh, kw, c, f = conv.w.shape
    return n * conv.rows_per_sample * (kh * kw * c + 1) * f


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
    # where = how many views come before the first that holds the maximum:
    # the sum over k < len(views) - 1 of "none of views 0..k holds it"
    where[...] = 0
    missed, hit = None, np.empty(best.shape, dtype=bool)
    for view in views[:-1]:
        if missed is None:
            missed = np.not_equal(view, best)
        else:
            missed &= np.not_equal(view, best, out=hit)
        where += missed


def route_to_offsets(grad, where, targets, accumulate=False):
    """``targets[k] = grad`` where ``where == k``, else 0 (``+=`` with
    ``accumulate``, for windows that overlap): the max pool's local gradient.
    ``targets`` is a list of arrays shaped like ``grad``, or one array that
    stacks them (then two broadcast operations do it all)."""
    if isinstance(targets, np.ndarray):
        offsets = np.arange(len(targets), dtype=where.dtype)
        hit = np.equal(where, offsets.reshape(-1, *(1,) * where.ndim))
        np.multiply(grad, hit, out=targets)
        return
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

    ``few`` channels: laid out (K, M), so that each row of the layout is a long
    run of one input channel at one kernel offset (copies 2.5x faster for
    C = 1), and returned transposed; else C-ordered (M, K).
    """
    dtype = np.result_type(dtype, np.float32)
    if few:
        cols = np.empty((k + bias, m), dtype=dtype).T
    else:
        cols = np.empty((m, k + bias), dtype=dtype)
    if bias:
        cols[:, k] = 1
    return cols


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
    node; returns (N, Ho // ph, Wo // pw, F). The same outputs as the two ops
    one after the other (gradients up to the order of float sums), without the
    full-size output ever leaving the cache.
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
