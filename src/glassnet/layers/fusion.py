"""How a chain of layers runs: one call per layer, except pairs fused into one
engine node that compute the same numbers faster.

The one pair fused today is a ``Conv2D`` (no activation, or relu) followed by a
``MaxPooling2D`` whose windows tile its input (padding 'valid', strides equal
to pool_size): one ``ops.conv2d(..., pool_size=...)`` node does the convolution,
the relu and the pooling block by block while the full-size convolution output
is in the cache, and never stores it (nor computes the pixels no window
covers). Outputs are bit-identical to the two layers run one after the other,
gradients equal but for the order of their float sums; the layers keep their own
weights, names and ``summary()`` rows, and the graph shows one ``Conv2D`` node
instead of a ``Conv2D`` and a ``MaxPool2D``. A model with ``fuse_layers = False``
runs every layer on its own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from glassnet.layers.base import Layer
from glassnet.layers.conv import Conv2D
from glassnet.layers.pooling import MaxPooling2D


def layer_calls(layers: Sequence[Layer], fuse: bool = True) -> list[Callable]:
    """The ``fn(x, training)`` callables that run ``layers`` one after the other,
    with each fusable Conv2D + MaxPooling2D pair as one call when ``fuse``."""
    calls, i = [], 0
    while i < len(layers):
        layer = layers[i]
        after = layers[i + 1] if i + 1 < len(layers) else None
        if fuse and fusable(layer, after):
            calls.append(_conv_then_pool(layer, after))
            i += 2
            continue
        plain = layer.activity_regularizer is None
        calls.append(layer.call if plain else layer.__call__)
        i += 1
    return calls


def fusable(conv: Layer, pool: Layer | None) -> bool:
    """Whether ``conv`` then ``pool`` can run as one ``ops.conv2d`` node."""
    return (
        type(conv) is Conv2D
        and type(pool) is MaxPooling2D
        and conv.activity_regularizer is None
        and pool.activity_regularizer is None
        and (conv.activation is None or conv._fused == "relu")
        and pool.padding == "valid"
        and pool.strides == pool.pool_size
    )


def _conv_then_pool(conv: Conv2D, pool: MaxPooling2D) -> Callable:
    def call(x, training=False):
        return conv.call_pooled(x, pool.pool_size)

    return call
