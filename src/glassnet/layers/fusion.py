"""How a chain of layers runs: each layer called as ``layer(x, training=...)``
(through ``Layer._call_input``, its one-input path), except pairs fused into
one engine node that compute the same numbers faster.

The one pair fused today is a ``Conv2D`` (no activation, or relu) followed by a
``MaxPooling2D`` of the same dtype whose windows tile its input (padding
'valid', strides equal to pool_size): one ``ops.conv2d(..., pool_size=...)``
node does the convolution, the relu and the pooling (with fast kernels on,
block by block while the full-size convolution output is in the cache, never
storing it nor computing the pixels no window covers). The pair still goes
through both layers' ``prepare_input`` / ``build_for`` (dtype cast, build,
input checks), as ``Layer.__call__`` would. Outputs are the same as the two
layers run one after the other, gradients equal but for the order of their
float sums; the layers keep their own weights, names and ``summary()`` rows.
A subclass that overrides ``call`` or ``__call__`` is never fused, and a model
with ``fuse_layers = False`` runs every layer on its own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from glassnet.layers.base import Layer
from glassnet.layers.conv import Conv2D
from glassnet.layers.pooling import MaxPooling2D


def layer_calls(layers: Sequence[Layer], fuse: bool = True) -> list[Callable]:
    """The ``fn(x, training)`` callables that run ``layers`` one after the other:
    each layer's one-input call (the layer itself if it has its own
    ``__call__``), with each fusable Conv2D + MaxPooling2D pair as one call
    when ``fuse``."""
    calls, i = [], 0
    while i < len(layers):
        after = layers[i + 1] if i + 1 < len(layers) else None
        if fuse and fusable(layers[i], after):
            calls.append(_conv_then_pool(layers[i], after))
            i += 2
        else:
            calls.append(_plain_call(layers[i]))
            i += 1
    return calls


def fusable(conv: Layer, pool: Layer | None) -> bool:
    """Whether ``conv`` then ``pool`` can run as one ``ops.conv2d`` node."""
    return (
        isinstance(conv, Conv2D)
        and isinstance(pool, MaxPooling2D)
        and not _overrides_call(conv, Conv2D)
        and not _overrides_call(pool, MaxPooling2D)
        and conv.activity_regularizer is None
        and pool.activity_regularizer is None
        and (conv.activation is None or conv.fused_activation == "relu")
        and conv.dtype == pool.dtype
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
