"""How a chain of layers runs: each layer called as ``layer(x, training=...)``
(through ``Layer._call_input``, its one-input path), except runs fused into
one engine node that compute the same numbers faster.

Three runs are fused, among layers of one dtype:

- a ``Conv2D`` (no activation, or relu) followed by a ``MaxPooling2D`` whose
  windows tile its input (padding 'valid', strides equal to pool_size): one
  ``ops.conv2d(..., pool_size=...)`` node does the convolution, the relu and
  the pooling (with fast kernels on, block by block while the full-size
  convolution output is in the cache, never storing it nor computing the
  pixels no window covers);
- a ``BatchNormalization`` followed by an ``Activation('relu')`` and,
  optionally, such a ``MaxPooling2D``: in training one
  ``ops.batch_norm(..., activation='relu', pool_size=...)`` node (with fast
  kernels on, two sweeps over the batch, block by block: no normalized copy
  is stored, and relu runs after the pool, on fewer values);
- a ``Conv2D`` without activation followed by such a run whose
  BatchNormalization normalizes the channels: in training one
  ``ops.conv2d_batch_norm`` node (with fast kernels on, the gradient of the
  convolution's output is made block by block inside the convolution's
  backward sweep and never stored whole).

A fused run still goes through its layers' ``prepare_input`` / ``build_for``
(dtype cast, build, input checks), as ``Layer.__call__`` would. Outputs are
the same as the layers run one after the other, gradients equal but for the
order of their float sums; the layers keep their own weights, names and
``summary()`` rows. A subclass that overrides ``call`` or ``__call__``, or a
layer with an activity regularizer, is never fused, and a model with
``fuse_layers = False`` runs every layer on its own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from glassnet import activations
from glassnet.layers.base import Layer
from glassnet.layers.conv import Conv2D
from glassnet.layers.core import Activation
from glassnet.layers.normalization import BatchNormalization
from glassnet.layers.pooling import MaxPooling2D


def layer_calls(layers: Sequence[Layer], fuse: bool = True) -> list[Callable]:
    """The ``fn(x, training)`` callables that run ``layers`` one after the other:
    each layer's one-input call (the layer itself if it has its own
    ``__call__``), with each fusable run (Conv2D + BatchNormalization + relu
    (+ tiling MaxPooling2D), BatchNormalization + relu (+ the pool), Conv2D +
    MaxPooling2D) as one call when ``fuse``."""
    calls, i = [], 0
    while i < len(layers):
        after = (list(layers[i + 1 : i + 4]) + [None, None, None])[:3]
        if fuse and conv_normalization_fusable(layers[i], *after):
            calls.append(_conv_normalize_relu_pool(layers[i], *after))
            i += 4
        elif fuse and conv_normalization_fusable(layers[i], *after[:2]):
            calls.append(_conv_normalize_relu_pool(layers[i], *after[:2]))
            i += 3
        elif fuse and normalization_fusable(layers[i], after[0], after[1]):
            calls.append(_normalize_relu_pool(layers[i], after[0], after[1]))
            i += 3
        elif fuse and normalization_fusable(layers[i], after[0]):
            calls.append(_normalize_relu_pool(layers[i], after[0]))
            i += 2
        elif fuse and fusable(layers[i], after[0]):
            calls.append(_conv_then_pool(layers[i], after[0]))
            i += 2
        else:
            calls.append(_plain_call(layers[i]))
            i += 1
    return calls


def fusable(conv: Layer, pool: Layer | None) -> bool:
    """Whether ``conv`` then ``pool`` can run as one ``ops.conv2d`` node."""
    return (
        _plain(conv, Conv2D)
        and _tiling_pool(pool, conv)
        and (conv.activation is None or conv.fused_activation == "relu")
    )


def normalization_fusable(
    norm: Layer, relu: Layer | None, pool: Layer | None = None
) -> bool:
    """Whether ``norm``, ``relu`` (and ``pool``, unless None) can run as one
    ``ops.batch_norm`` node."""
    return (
        _plain(norm, BatchNormalization)
        and _plain(relu, Activation)
        and relu.activation is activations.relu
        and relu.dtype == norm.dtype
        and (pool is None or _tiling_pool(pool, norm))
    )


def conv_normalization_fusable(
    conv: Layer,
    norm: Layer | None,
    relu: Layer | None,
    pool: Layer | None = None,
) -> bool:
    """Whether ``conv``, ``norm``, ``relu`` (and ``pool``, unless None) can run
    as one ``ops.conv2d_batch_norm`` node."""
    return (
        _plain(conv, Conv2D)
        and conv.activation is None
        and normalization_fusable(norm, relu, pool)
        and norm.dtype == conv.dtype
        and [a % 4 for a in (norm.axis if isinstance(norm.axis, list) else [norm.axis])]
        == [3]
    )


def _plain(layer: Layer | None, base: type) -> bool:
    """An instance of ``base`` that runs base's own call, with no activity
    regularizer (whose penalty needs the layer's own output)."""
    return (
        isinstance(layer, base)
        and not _overrides_call(layer, base)
        and layer.activity_regularizer is None
    )


def _tiling_pool(pool: Layer | None, before: Layer) -> bool:
    """A plain MaxPooling2D of ``before``'s dtype whose windows tile its input."""
    return (
        _plain(pool, MaxPooling2D)
        and pool.dtype == before.dtype
        and pool.padding == "valid"
        and pool.strides == pool.pool_size
    )


def _plain_call(layer: Layer) -> Callable:
    """``fn(x, training)`` for ``layer(x, training=training)``: Layer's one-input
    path, or the layer's own ``__call__`` if it has one."""
    if type(layer).__call__ is Layer.__call__:
        return layer._call_input
    return lambda x, training=False: layer(x, training=training)


def _overrides_call(layer: Layer, base: type) -> bool:
    kind = type(layer)
    return kind.call is not base.call or kind.__call__ is not Layer.__call__


def _conv_then_pool(conv: Conv2D, pool: MaxPooling2D) -> Callable:
    def call(x, training=False):
        x = conv.prepare_input(x)
        pool.build_for(conv.compute_output_shape(x.data.shape))
        return conv.call_pooled(x, pool.pool_size)

    return call


def _normalize_relu_pool(
    norm: BatchNormalization, relu: Activation, pool: MaxPooling2D | None = None
) -> Callable:
    def call(x, training=False):
        x = norm.prepare_input(x)
        relu.build_for(x.data.shape)
        if pool is None:
            return norm.call_fused(x, training, activation="relu")
        pool.build_for(x.data.shape)
        return norm.call_fused(x, training, "relu", pool.pool_size)

    return call


def _conv_normalize_relu_pool(
    conv: Conv2D,
    norm: BatchNormalization,
    relu: Activation,
    pool: MaxPooling2D | None = None,
) -> Callable:
    def call(x, training=False):
        x = conv.prepare_input(x)
        shape = conv.compute_output_shape(x.data.shape)
        for layer in (norm, relu) if pool is None else (norm, relu, pool):
            layer.build_for(shape)
        pool_size = None if pool is None else pool.pool_size
        return norm.call_fused(x, training, "relu", pool_size, conv)

    return call
