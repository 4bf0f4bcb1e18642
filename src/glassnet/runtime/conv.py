"""The fast twin of :class:`glassnet.ops.conv.Conv2D`: the same im2col product,
taken block by block, shared out to threads, with relu and a tiling max pool
fused into the same node.

Read :mod:`glassnet.ops.conv` first: the arithmetic is the same (a column of
ones in the im2col rows carries the bias; col2im adds each kernel offset's
product into a strided slice of the input's gradient). What this version adds:

- *Blocks*: the batch is cut into blocks of samples
  (:func:`glassnet.runtime.parallel.batch_blocks`) whose im2col rows stay near
  a core's cache through im2col, product, relu and pool; threads share the
  blocks, and the kernel and bias gradients are summed in block order, so any
  number of threads gives the same bits.
- *Kept or recomputed im2col rows*: with few channels (K + 1 <= F / 2) the
  rows take at most half the memory of the unpooled output and are kept for
  backward; with more, backward lays them out again block by block, which
  costs less than a round trip of the whole matrix through memory, and takes
  kh*kw times less memory.
- *Fused relu*: in place on the output; dL/d(conv) = g * (y > 0).
- *Fused max pool* over windows that tile the output: the output pixels are
  taken in ph*pw *groups*, one per window offset (i, j): the pixels
  (ph*r + i, pw*q + j), themselves a convolution with strides (ph*sh, pw*sw) of
  the input shifted by (i*sh, j*sw). The im2col rows are laid out group after
  group, so the pool is the maximum of ph*pw contiguous blocks of the product
  (relu comes after it: relu and max commute), pixels that no window covers are
  never computed, and the full-size output is never stored.
- *Few channels* (C < 8): the im2col buffer is laid out (K, rows), so that
  each row of the layout is a long run of one input channel at one kernel
  offset, which copies much faster than short runs of C values.
- *Padding per block*: each block copies its samples into a per-thread buffer
  whose border is zeros, and lays out its im2col rows from there: the padded
  batch is never made nor kept.
- *Winograd's minimal filtering* (F(2x2, 3x3), Lavin and Gray 2016) at
  inference (no graph recorded), for a 3x3 convolution with strides and
  dilations 1 and 8 or more channels, over an even number of computed rows
  and columns, in calls of WINOGRAD_MIN_TILES tiles or more: each 2x2 tile
  of outputs (a 2x2 pool window, when one is fused) comes from its 4x4 input
  tile with 16 multiplications per pair of channels instead of im2col's 36
  (one product of (tiles, C) by (C, F) matrices per tile position), 2.25
  times fewer, for three small transforms around them (matrix products with
  the constant matrices below). The outputs agree with the im2col product up
  to rounding (a float32 relative error near 1e-6). Training keeps im2col's
  products, and its results.
- *The input's gradient as a convolution*: with strides and dilations 1 and no
  pool, dL/dx is g, padded by kernel size - 1 - the forward padding, convolved
  with the kernel flipped in both spatial axes and its channel axes swapped:
  one im2col copy of g and one product per block, written straight into dL/dx,
  instead of a product kh*kw times wider than dL/dx added back offset by
  offset (col2im, which the other cases keep).
"""

from __future__ import annotations

import numpy as np

from glassnet.autograd import Function, is_grad_enabled
from glassnet.ops.geometry import (
    conv1d_as_conv2d,
    conv1d_grads,
    conv_geometry,
    crop2d,
    offset_slice,
    pool_geometry,
)
from glassnet.runtime import parallel
from glassnet.runtime.buffers import reusable, zeroed
from glassnet.runtime.pool import (
    max_of,
    max_with_offsets,
    offsets_array,
    route_to_offsets,
)
from glassnet.runtime.xp import as_strided


def receptive_fields(xp, kernel_shape, grid, strides, dilations, pool=(1, 1)):
    """A strided view (no copy) of the receptive field of every output pixel of
    a convolution of the padded images ``xp`` (N, Hp, Wp, C), with the pixels
    in ``pool`` groups (see the module docstring): shape
    (ph, pw, N, h, w, kh, kw, C) for the pixel (ph*r + i, pw*q + j) at
    [i, j, n, r, q], ``grid`` = (h, w)."""
    kh, kw, c, _ = kernel_shape
    sn, sh, sw, sc = xp.strides
    (ph, pw), (s0, s1), (d0, d1) = pool, strides, dilations
    shape = (ph, pw, xp.shape[0], *grid, kh, kw, c)
    steps = (sh * s0, sw * s1, sn, sh * s0 * ph, sw * s1 * pw, sh * d0, sw * d1, sc)
    return as_strided(xp, shape, steps)


def im2col_buffer(m, k, bias, dtype, few=False, memory=None):
    """An empty (M, K) im2col matrix (M, K + 1 with ``bias``: its last column is
    ones, which carries the bias through the product); with ``few`` channels
    laid out (K, M) and returned transposed (see the module docstring). In
    ``memory`` (a flat array of the dtype, as long or longer) if given."""
    dtype = np.result_type(dtype, np.float32)
    shape = (k + bias, m) if few else (m, k + bias)
    if memory is None:
        cols = reusable(shape, dtype)
    else:
        cols = memory[: shape[0] * shape[1]].reshape(shape)
    cols = cols.T if few else cols
    if bias:
        cols[:, k] = 1
    return cols


#: Winograd F(2x2, 3x3): input tiles d (4x4) go to B^T d B, a kernel g (3x3)
#: to G g G^T, their elementwise products m to the outputs A^T m A (2x2).
WINOGRAD_BT = np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]])
WINOGRAD_G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]])
WINOGRAD_AT = np.array([[1, 1, 1, 0], [0, 1, -1, -1]])
#: Fewer tiles in a call go by im2col: the transforms' fixed costs would
#: outweigh the products saved (the bench CNN's second convolution at a
#: batch of 32, 800 tiles, was slower by tiles).
WINOGRAD_MIN_TILES = 4096
#: The same transforms on a tile flattened row by row (index 4*i + j): one
#: matrix product each.
WINOGRAD_INPUT = np.kron(WINOGRAD_BT, WINOGRAD_BT)  # (16, 16)
WINOGRAD_OUTPUT = np.kron(WINOGRAD_AT, WINOGRAD_AT)  # (4, 16)


def winograd_kernel(w, dtype):
    """The (16, C, F) transformed kernel G g G^T of a (3, 3, C, F) kernel, one
    (C, F) matrix per tile position, in ``dtype``."""
    c, f = w.shape[2:]
    w = np.asarray(w, dtype)
    # NOTE: G's rows written out into reused arrays, not matrix products and
    # fresh arrays: BLAS's threads would wake up, new pages fault, every call
    rows = reusable((4, 3, c, f), dtype)  # G g: over the kernel's rows
    u = reusable((4, 4, c, f), dtype)  # (G g) G^T: over its columns
    for g, out in ((w, rows), (rows.swapaxes(0, 1), u.swapaxes(0, 1))):
        np.copyto(out[0], g[0])
        np.add(g[0], g[2], out=out[1])
        np.subtract(out[1], g[1], out=out[2])
        np.add(out[1], g[1], out=out[1])
        out[1:3] *= 0.5
        np.copyto(out[3], g[2])
    return u.reshape(16, c, f)


def winograd_buffers(tiles, c, f, dtype):
    """Flat buffers (this thread's, reused) for :func:`winograd` on up to
    ``tiles`` tiles of ``c`` input and ``f`` output channels, and the two
    constant transforms in ``dtype``."""
    return (
        reusable((16 * tiles * c,), dtype),
        reusable((16 * tiles * c,), dtype),
        reusable((16 * tiles * f,), dtype),
        reusable((4 * tiles * f,), dtype),
        WINOGRAD_INPUT.astype(dtype),
        WINOGRAD_OUTPUT.astype(dtype),
    )


def winograd(images, rows, columns, transformed, buffers):
    """The 3x3 convolution (strides and dilations 1) of ``images`` (N, H, W,
    C) at its first 2*rows x 2*columns output pixels, by Winograd's tiles:
    (4, N*rows*columns, F), the pixel (2r + i, 2q + j) of sample n at
    [2i + j, (n, r, q)]. ``transformed``: :func:`winograd_kernel`'s (16, C,
    F); ``buffers``: :func:`winograd_buffers`'."""
    n, c, f = len(images), images.shape[3], transformed.shape[2]
    d, v, m, y, to_input, to_output = buffers
    count = n * rows * columns
    sn, sh, sw, sc = images.strides
    tiles = as_strided(
        images, (4, 4, n, rows, columns, c), (sh, sw, sn, 2 * sh, 2 * sw, sc)
    )
    d = d[: 16 * count * c].reshape(16, count * c)
    np.copyto(d.reshape(tiles.shape), tiles)
    v = np.matmul(to_input, d, out=v[: 16 * count * c].reshape(16, count * c))
    products = m[: 16 * count * f].reshape(16, count, f)
    np.matmul(v.reshape(16, count, c), transformed, out=products)
    y = y[: 4 * count * f].reshape(4, count * f)
    np.matmul(to_output, products.reshape(16, count * f), out=y)
    return y.reshape(4, count, f)


def tiles_to_pixels(tiles, out):
    """Lay :func:`winograd`'s (4, tiles, F) out as the pixels of ``out``
    (N, 2*rows, 2*columns, F)."""
    n, h, w, f = out.shape
    pixels = out.reshape(n, h // 2, 2, w // 2, 2, f)
    for i in range(2):
        for j in range(2):
            target = pixels[:, :, i, :, j]
            np.copyto(target, tiles[2 * i + j].reshape(target.shape))


class Conv2D(Function):
    """y = pool(relu(conv2d(x, w) + b)) in one node, relu and pool optional;
    the local gradients of :class:`glassnet.ops.conv.Conv2D`, ``ReLU`` and
    ``MaxPool2D`` one after the other: dL/d(conv) = dL/dy at each window's
    arg-max (zero elsewhere), times (y > 0).

    ``x`` (N, H, W, C), ``w`` (kh, kw, C, F), ``b`` (F,) or omitted; output
    (N, Ho // ph, Wo // pw, F) (ph = pw = 1 without a pool). Keyword settings:
    ``strides``, ``dilation_rate`` (pairs), ``padding`` ('valid', 'same' or
    explicit pairs), ``activation`` (None or 'relu') and ``pool_size`` (None or
    (ph, pw): a max pool over windows that tile the output).

    Peak extra memory, in elements (M = N * the computed output pixels,
    K = kh*kw*C, B = ``BLOCK_BYTES`` / itemsize): forward allocates the output
    (M*F without a pool, M*F/(ph*pw) and, where a graph is recorded, as many
    one-byte window offsets with one), the kept im2col matrix, M*(K+1), if
    K + 1 <= F, and per thread one block of im2col rows (at most B elements,
    or one sample's rows), of padded samples and, with a pool, of products
    (by Winograd's tiles instead, for a block of T tiles: 32*T*C + 20*T*F).
    Backward allocates the input's
    gradient (padded, on the col2im path), (K+1)*F per block whose partial
    kernel gradient waits for the previous blocks', and per thread one block
    each of im2col rows, of dL/d(conv), and of padded g and its im2col rows
    (kh*kw*F columns) or of col2im products (kh*kw*C columns).
    """

    def forward(
        self,
        x,
        w,
        b=None,
        strides=(1, 1),
        padding="valid",
        dilation_rate=(1, 1),
        activation=None,
        pool_size=None,
    ):
        pads, out_hw = conv_geometry(x.shape, w.shape, strides, padding, dilation_rate)
        kh, kw, c, f = w.shape
        ph, pw = pool_size or (1, 1)
        if pool_size is not None:  # the plain max pool's error, if it won't fit
            pool_geometry((x.shape[0], *out_hw, f), pool_size, pool_size, "valid")
        matrix = w.reshape(-1, f)
        if b is not None:
            matrix = np.concatenate([matrix, b.reshape(1, f).astype(matrix.dtype)])
        self.x, self.w, self.pads, self.bias = x, w, pads, b is not None
        self.out_hw, self.strides, self.dilations = out_hw, strides, dilation_rate
        self.pool = (ph, pw)  # the output pixels in ph*pw groups
        self.grid = (out_hw[0] // ph, out_hw[1] // pw)  # each group's pixels
        n, count, k = x.shape[0], ph * pw, kh * kw * c
        dtype = np.result_type(x, matrix, np.float32)
        out = reusable((n, *self.grid, f), dtype)
        # the pool's window offsets, for backward: none where no graph is kept
        pooled = count > 1
        self.code = (
            offsets_array(out.shape, count) if pooled and is_grad_enabled() else None
        )
        self.relu = out if activation == "relu" else None  # dL/d(conv) = g * (y > 0)
        rows = self.rows_per_sample
        self.blocks = parallel.batch_blocks(
            n, rows * max(k + 1, f) * dtype.itemsize, rows * (k + 1) * f
        )
        keep = 2 * (k + 1) <= f  # see "kept or recomputed" in the module docstring
        self.cols = (
            im2col_buffer(n * rows, k, self.bias, dtype, c < 8) if keep else None
        )
        # NOTE: at inference only: training keeps im2col's rounding (and the
        # results it gave), Winograd's differs by about 1e-6 of the outputs
        by_tiles = (
            not keep
            and not is_grad_enabled()
            and n * rows >= 4 * WINOGRAD_MIN_TILES
            and self._winograd_fits()
        )
        if by_tiles:
            transformed = winograd_kernel(w, dtype)
            bias = None if b is None else b.astype(dtype)
        # NOTE: relu against an array of zeros, not the scalar 0: NumPy's
        # maximum has no vectorised loop for a stride-0 (scalar) operand.
        samples = max(z - a for a, z in self.blocks)
        zeros = np.zeros((samples * self.grid[0] * self.grid[1], f), dtype)

        def run(indices):  # blocks of samples: im2col, matmul, pool, relu
            padded = self._padded_buffer()
            if by_tiles:
                buffers = winograd_buffers(samples * rows // 4, c, f, dtype)
            else:
                scratch = None if keep else self._block_buffer(k, dtype, im2col=True)
                products = None if count == 1 else self._block_buffer(f, dtype)
            for a, z in (self.blocks[i] for i in indices):
                if by_tiles:
                    images = self._images(padded, a, z)
                    sides = (g * p // 2 for g, p in zip(self.grid, self.pool))
                    tiles = winograd(images, *sides, transformed, buffers)
                    self._winograd_outputs(tiles, out[a:z], bias)
                else:
                    cols = self._im2col(scratch, padded, a, z)
                    y = out[a:z].reshape(-1, f) if count == 1 else products[: len(cols)]
                    np.matmul(cols, matrix, out=y)
                    if pooled:
                        groups = y.reshape(count, z - a, *self.grid, f)
                        code = None if self.code is None else self.code[a:z]
                        max_with_offsets(list(groups), out[a:z], code)
                if activation == "relu":  # in place; after the pool, on fewer
                    outputs = out[a:z].reshape(-1, f)  # (relu, max commute)
                    np.maximum(outputs, zeros[: len(outputs)], out=outputs)

        parallel.over_blocks(run, len(self.blocks), blas=True)
        return out

    @property
    def rows_per_sample(self):
        """im2col rows (computed output pixels) per sample, over all groups."""
        return self.pool[0] * self.pool[1] * self.grid[0] * self.grid[1]

    def _block_buffer(self, columns, dtype, im2col=False, memory=None):
        """An empty (rows, columns) buffer for the largest block; with
        ``im2col``, an :func:`im2col_buffer` of K = ``columns`` (in ``memory``
        if given)."""
        rows = max(z - a for a, z in self.blocks) * self.rows_per_sample
        if im2col:
            few = self.w.shape[2] < 8
            return im2col_buffer(rows, columns, self.bias, dtype, few, memory)
        return reusable((rows, columns), dtype)

    def _padded_buffer(self):
        """A thread's buffer for the largest block of samples with their
        padding (zeros, never written: each block writes only the inside), or
        None without padding."""
        (top, bottom), (left, right) = self.pads
        if top == bottom == left == right == 0:
            return None
        n, h, w, c = self.x.shape
        samples = max(z - a for a, z in self.blocks)
        return zeroed((samples, h + top + bottom, w + left + right, c), self.x.dtype)

    def _images(self, padded, a, z):
        """Samples ``a:z`` with their padding: the input itself, or ``padded``
        once they are copied into it (each block pads its own samples: the
        padded batch is never made)."""
        images = self.x[a:z]
        if padded is not None:
            (top, _), (left, _) = self.pads
            h, w = images.shape[1:3]
            inside = padded[: z - a, top : top + h, left : left + w]
            np.copyto(inside, images)
            images = padded[: z - a]
        return images

    def _fields(self, padded, a, z):
        """The receptive fields of samples ``a:z`` (:func:`receptive_fields`),
        a view of :meth:`_images`."""
        return receptive_fields(
            self._images(padded, a, z),
            self.w.shape,
            self.grid,
            self.strides,
            self.dilations,
            self.pool,
        )

    def _winograd_fits(self):
        """Whether the forward pass goes by Winograd's tiles (see the module
        docstring): a 3x3 kernel, strides and dilations 1, 8 or more input
        channels, no pool or a 2x2 one, an even number of computed rows and
        columns."""
        kh, kw, c, _ = self.w.shape
        rows, columns = (g * p for g, p in zip(self.grid, self.pool))
        return (
            (kh, kw) == (3, 3)
            and self.strides == (1, 1)
            and self.dilations == (1, 1)
            and c >= 8
            and self.pool in ((1, 1), (2, 2))
            and rows % 2 == 0
            and columns % 2 == 0
        )

    def _winograd_outputs(self, tiles, out, bias):
        """A block's ``out`` from its :func:`winograd` tiles: their 2x2 max
        pool (no offsets: no graph is recorded), or the tiles laid out as
        pixels; plus the bias (after the pool: adding one value to a window
        keeps its maximum)."""
        if self.pool != (1, 1):
            max_of(list(tiles.reshape(4, *out.shape)), out)
        else:
            tiles_to_pixels(tiles, out)
        if bias is not None:
            out += bias

    def _im2col(self, scratch, padded, a, z):
        """Lay out the im2col rows of samples ``a:z``, group after group, in
        ``scratch``, or in the kept matrix where ``scratch`` is None; returns
        them (one copy from the view :meth:`_fields` makes)."""
        rows = (z - a) * self.rows_per_sample
        kh, kw, c, _ = self.w.shape
        if scratch is None:
            block = self.cols[a * self.rows_per_sample :][:rows]
        else:
            block = scratch[:rows]
            if self.bias:  # the buffer may have served other rows since
                block[:, kh * kw * c] = 1
        shape = (*self.pool, z - a, *self.grid)
        fields = self._fields(padded, a, z)
        if c < 8:  # the (K, rows) layout: fields moved to (kh, kw, C, ...rows)
            target = np.reshape(
                block[:, : kh * kw * c].T, (kh, kw, c, *shape), copy=False
            )
            np.copyto(target, fields.transpose(5, 6, 7, 0, 1, 2, 3, 4))
        else:
            target = np.reshape(
                block[:, : kh * kw * c], (*shape, kh, kw, c), copy=False
            )
            np.copyto(target, fields)
        return block

    def backward(self, grad_output):
        f = self.w.shape[3]
        dtype = np.result_type(grad_output, self.w)
        if self.relu is None and self.code is None:  # g is dL/d(conv) as is
            return self.backward_from(
                lambda a, z, _: grad_output[a:z].reshape(-1, f), dtype, False
            )
        return self.backward_from(
            lambda a, z, buffer: self._conv_grad(grad_output, a, z, buffer), dtype
        )

    def backward_from(self, conv_grad, dtype, buffered=True):
        """The gradients (x, w, b: those asked for), block by block, from
        ``conv_grad(a, z, buffer)``: dL/d(conv + b) of samples ``a:z`` as
        im2col-ordered rows, written into ``buffer`` (a thread's (rows, F)
        scratch, or None unless ``buffered``)."""
        need = self.needs_input_grad + (False,) * (3 - len(self.needs_input_grad))
        kh, kw, c, f = self.w.shape
        sums = parallel.BlockSum()  # kernel and bias gradients, in block order
        transposed = need[0] and self._transposable()
        if transposed:  # dL/dx as the convolution of g by the flipped kernel
            grad_x = reusable(self.x.shape, dtype)
            flipped = self.w[::-1, ::-1].transpose(0, 1, 3, 2).reshape(-1, c)
            flipped = flipped.astype(dtype)
        elif need[0]:
            n, h, w, _ = self.x.shape
            (top, bottom), (left, right) = self.pads
            dxp = reusable((n, h + top + bottom, w + left + right, c), dtype)
            targets = self._col2im_targets(dxp)

        def run(indices):  # blocks of samples
            kept = self.cols is not None
            scratch = padded = None
            # NOTE: the im2col rows of x (for dL/dw) and of g (for dL/dx) take
            # turns in one buffer; each lay-out writes the ones column again.
            memory = reusable((self._backward_scratch(transposed and need[0]),), dtype)
            if not kept:
                scratch = self._block_buffer(kh * kw * c, dtype, True, memory)
                padded = self._padded_buffer()
            conv_grads = self._block_buffer(f, dtype) if buffered else None
            if transposed:
                g_padded, g_cols = self._transposed_buffers(dtype, memory)
            elif need[0]:
                dcols = self._block_buffer(kh * kw * c, dtype)
            for index in indices:
                a, z = self.blocks[index]
                g = conv_grad(a, z, conv_grads)
                if need[1] or need[2]:
                    # The bias column of ones makes grad_b the last row of this
                    # product.
                    if kept:
                        cols = self._kept(a, z)
                    else:
                        cols = self._im2col(scratch, padded, a, z)
                    sums.add(index, cols.T @ g)
                if transposed:
                    self._transposed(g, a, z, grad_x, g_padded, g_cols, flipped)
                elif need[0]:
                    self._col2im(g, a, z, dxp, targets, dcols)

        parallel.over_blocks(run, len(self.blocks), blas=True)
        grads = sums.total
        if need[0] and not transposed:
            grad_x = crop2d(dxp, self.pads)
        grad_x = grad_x if need[0] else None
        grad_w = grads[: kh * kw * c].reshape(self.w.shape) if need[1] else None
        grad_b = grads[-1] if need[2] else None
        return (grad_x, grad_w, grad_b)[: len(self.needs_input_grad)]

    def _transposable(self):
        """Whether dL/dx is the convolution of g, padded by kernel size - 1 -
        the forward padding, by the flipped kernel (strides and dilations 1,
        no pool, no side padded by more than kernel size - 1)."""
        kh, kw = self.w.shape[:2]
        (top, bottom), (left, right) = self.pads
        return (
            self.code is None
            and self.strides == (1, 1)
            and self.dilations == (1, 1)
            and 0 <= min(top, bottom, left, right)
            and max(top, bottom) < kh
            and max(left, right) < kw
        )

    def _backward_scratch(self, transposed):
        """Elements of a thread's buffer for the largest block's im2col rows
        of x (unless kept) and, where ``transposed``, of g."""
        kh, kw, c, f = self.w.shape
        samples = max(z - a for a, z in self.blocks)
        x_rows = 0 if self.cols is not None else samples * self.rows_per_sample
        g_rows = samples * self.x.shape[1] * self.x.shape[2] if transposed else 0
        return max(x_rows * (kh * kw * c + self.bias), g_rows * kh * kw * f)

    def _transposed_buffers(self, dtype, memory):
        """A thread's buffers for :meth:`_transposed`: the padded gradient of
        the largest block (zeros outside, never written) and its im2col rows
        (in ``memory``)."""
        kh, kw, _, f = self.w.shape
        n, h, w, _ = self.x.shape
        samples = max(z - a for a, z in self.blocks)
        g_padded = zeroed((samples, h + kh - 1, w + kw - 1, f), dtype)
        g_cols = memory[: samples * h * w * kh * kw * f]
        return g_padded, g_cols.reshape(samples * h * w, kh * kw * f)

    def _transposed(self, g, a, z, grad_x, g_padded, g_cols, flipped):
        """grad_x[a:z] = the convolution of g (the block's dL/d(conv) rows),
        padded by kernel size - 1 - the forward padding, by the kernel flipped
        in both spatial axes with its channel axes swapped (``flipped``): one
        im2col copy and one product, straight into the input's gradient."""
        kh, kw, c, f = self.w.shape
        (top, _), (left, _) = self.pads
        (ho, wo), (h, w) = self.out_hw, self.x.shape[1:3]
        images = g_padded[: z - a]
        inside = images[:, kh - 1 - top :][:, :ho, kw - 1 - left :][:, :, :wo]
        np.copyto(inside, g.reshape(z - a, ho, wo, f))
        fields = receptive_fields(images, (kh, kw, f, c), (h, w), (1, 1), (1, 1))
        cols = g_cols[: (z - a) * h * w]
        np.copyto(np.reshape(cols, fields.shape, copy=False), fields)
        np.matmul(cols, flipped, out=grad_x[a:z].reshape(-1, c))

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


class Conv1D(Conv2D):
    """y = relu(conv1d(x, w) + b) (relu optional): a Conv2D of height 1.

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
        x, w, settings = conv1d_as_conv2d(x, w, strides, padding, dilation_rate)
        return super().forward(x, w, b, activation=activation, **settings)[:, 0]

    def backward(self, grad_output):
        return conv1d_grads(super().backward(grad_output[:, None]))


def conv2d(x, kernel, bias=None, **settings):
    """:func:`glassnet.ops.conv2d` with checked settings, as one :class:`Conv2D`
    node."""
    return Conv2D.apply(x, kernel, *(() if bias is None else (bias,)), **settings)


def conv1d(x, kernel, bias=None, **settings):
    """:func:`glassnet.ops.conv1d` with checked settings, as one :class:`Conv1D`
    node."""
    return Conv1D.apply(x, kernel, *(() if bias is None else (bias,)), **settings)
