"""Each layer and activation as ONNX nodes: two registries.

A layer converter is ``convert(graph, layer, *inputs) -> Value``, registered
with ``@converts(LayerClass)``; an activation is ``emit(graph, x) -> Value``,
registered with ``@emits(activation_function)``. A layer kind that joins
several inputs (the merge layers) or a new layer (Embedding,
LayerNormalization) is one more entry here; the model walk in
:mod:`glassnet.onnx.models` needs no change.

Numbers are computed as glassnet computes them: BatchNormalization's
constants are the same float32 products, and its nodes subtract, multiply and
add in glassnet's order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from glassnet import activations as A
from glassnet import layers as L
from glassnet.onnx.graph import ExportError, GraphBuilder, Value
from glassnet.ops.geometry import same_padding

Converter = Callable[..., Value]
CONVERTERS: dict[type, Converter] = {}
ACTIVATIONS: dict[Callable, Callable[[GraphBuilder, Value], Value]] = {}


def converts(*classes: type) -> Callable[[Converter], Converter]:
    def register(fn: Converter) -> Converter:
        for cls in classes:
            CONVERTERS[cls] = fn
        return fn

    return register


def emits(*functions: Callable) -> Callable:
    def register(fn: Callable) -> Callable:
        for function in functions:
            ACTIVATIONS[function] = fn
        return fn

    return register


def converter_for(layer: Any) -> Converter:
    """The converter of ``layer``'s class (or of the class it extends without
    changing ``call``); ExportError names the layer otherwise."""
    for cls in type(layer).__mro__:
        if cls in CONVERTERS:
            if type(layer).call is not cls.call:
                break  # a subclass with its own call: its math is unknown here
            return CONVERTERS[cls]
    names = sorted(cls.__name__ for cls in CONVERTERS)
    raise ExportError(
        f"Layer {layer.name!r} ({type(layer).__name__}) cannot be exported to "
        f"ONNX. Exportable layers: {', '.join(names)}."
    )


def activation(g: GraphBuilder, fn: Any, x: Value, layer: Any) -> Value:
    """``fn`` (a glassnet activation, None for the identity) applied to ``x``."""
    if fn is None or fn is A.linear:
        return x
    emit = ACTIVATIONS.get(fn)
    if emit is None:
        names = sorted(A.serialize(f) for f in ACTIVATIONS)
        raise ExportError(
            f"Layer {layer.name!r} ({type(layer).__name__}) uses the activation "
            f"{getattr(fn, '__name__', fn)!r}, which has no ONNX form here. "
            f"Exportable activations: linear, {', '.join(names)}."
        )
    return emit(g, x)


# --- activations -----------------------------------------------------------------
def _simple(op: str, **attributes: Any) -> Callable[[GraphBuilder, Value], Value]:
    return lambda g, x: g.apply(x, op, **attributes)


for _fn, _op in [
    (A.relu, "Relu"),
    (A.tanh, "Tanh"),
    (A.sigmoid, "Sigmoid"),
    (A.softplus, "Softplus"),
    (A.softsign, "Softsign"),
    (A.exponential, "Exp"),
    (A.elu, "Elu"),
    (A.hard_silu, "HardSwish"),
]:
    ACTIVATIONS[_fn] = _simple(_op)
ACTIVATIONS[A.leaky_relu] = _simple("LeakyRelu", alpha=0.2)
ACTIVATIONS[A.hard_sigmoid] = _simple("HardSigmoid", alpha=1.0 / 6.0, beta=0.5)
ACTIVATIONS[A.selu] = _simple("Selu", alpha=A._SELU_ALPHA, gamma=A._SELU_SCALE)


@emits(A.relu6)
def _relu6(g: GraphBuilder, x: Value) -> Value:
    return g.apply(x, "Clip", np.float32(0.0), np.float32(6.0))


@emits(A.softmax)
def _softmax(g: GraphBuilder, x: Value) -> Value:
    return g.apply(g.channels_last(x), "Softmax", axis=-1)


@emits(A.log_softmax)
def _log_softmax(g: GraphBuilder, x: Value) -> Value:
    return g.apply(g.channels_last(x), "LogSoftmax", axis=-1)


@emits(A.silu)
def _silu(g: GraphBuilder, x: Value) -> Value:
    return g.apply(x, "Mul", g.apply(x, "Sigmoid").name)


@emits(A.gelu)
def _gelu(g: GraphBuilder, x: Value) -> Value:
    """x * 0.5 * (1 + erf(x / sqrt(2)))."""
    erf = g.apply(g.apply(x, "Div", np.float32(np.sqrt(2.0))), "Erf")
    half = g.apply(g.apply(erf, "Add", np.float32(1.0)), "Mul", np.float32(0.5))
    return g.apply(x, "Mul", half.name)


# --- layers ----------------------------------------------------------------------
@converts(L.Dropout)
def _identity(g: GraphBuilder, layer: Any, x: Value) -> Value:
    return x


@converts(L.Activation)
def _activation(g: GraphBuilder, layer: Any, x: Value) -> Value:
    return activation(g, layer.activation, x, layer)


@converts(L.Dense)
def _dense(g: GraphBuilder, layer: Any, x: Value) -> Value:
    x = g.channels_last(x)
    kernel = g.constant(layer.kernel.data, f"{layer.name}/kernel")
    inputs = [x.name, kernel]
    if layer.use_bias:
        inputs.append(g.constant(layer.bias.data, f"{layer.name}/bias"))
    if x.rank == 2:
        y = g.node("Gemm", inputs, layer.name)
    else:
        y = g.node("MatMul", inputs[:2], layer.name)
        if layer.use_bias:
            y = g.node("Add", [y, inputs[2]], layer.name)
    shape = layer.compute_output_shape(x.shape)
    return activation(g, layer.activation, Value(y, shape), layer)


def _pads(layer: Any, spatial: tuple, sizes, strides, dilations) -> dict[str, Any]:
    """ONNX's ``pads`` (all the befores, then all the afters) of Keras's
    padding; 'same' pads bottom/right when odd, as TF does (ONNX's SAME_UPPER
    when the size is not known)."""
    if layer.padding == "valid":
        return {"pads": [0] * (2 * len(sizes))}
    if layer.padding == "causal":
        return {"pads": [(sizes[0] - 1) * dilations[0], 0]}
    if any(n is None for n in spatial):
        return {"auto_pad": "SAME_UPPER"}
    pairs = [same_padding(*args) for args in zip(spatial, sizes, strides, dilations)]
    return {"pads": [p[0] for p in pairs] + [p[1] for p in pairs]}


@converts(L.Conv1D, L.Conv2D)
def _conv(g: GraphBuilder, layer: Any, x: Value) -> Value:
    x = g.channels_first(x)
    rank = layer.rank
    kernel = layer.kernel.data  # (*sizes, in, out) -> (out, in, *sizes)
    weights = np.transpose(kernel, (rank + 1, rank, *range(rank)))
    inputs = [x.name, g.constant(weights, f"{layer.name}/kernel")]
    if layer.use_bias:
        inputs.append(g.constant(layer.bias.data, f"{layer.name}/bias"))
    sizes, strides, dilations = layer.kernel_size, layer.strides, layer.dilation_rate
    pads = _pads(layer, x.shape[1:-1], sizes, strides, dilations)
    y = g.node(
        "Conv",
        inputs,
        layer.name,
        kernel_shape=list(sizes),
        strides=list(strides),
        dilations=list(dilations),
        **pads,
    )
    shape = layer.compute_output_shape(x.shape)
    return activation(g, layer.activation, Value(y, shape, True), layer)


@converts(L.MaxPooling2D, L.AveragePooling2D)
def _pool(g: GraphBuilder, layer: Any, x: Value) -> Value:
    x = g.channels_first(x)
    sizes, strides = layer.pool_size, layer.strides
    pads = _pads(layer, x.shape[1:-1], sizes, strides, (1, 1))
    if isinstance(layer, L.MaxPooling2D):
        op, extra = "MaxPool", {}
    else:  # NOTE: Keras's 'same' averages count only the cells inside the image
        op, extra = "AveragePool", {"count_include_pad": 0}
    y = g.node(
        op,
        [x.name],
        layer.name,
        kernel_shape=list(sizes),
        strides=list(strides),
        **pads,
        **extra,
    )
    return Value(y, layer.compute_output_shape(x.shape), True)


@converts(L.GlobalAveragePooling2D, L.GlobalMaxPooling2D)
def _global_pool(g: GraphBuilder, layer: Any, x: Value) -> Value:
    op = "ReduceMean" if isinstance(layer, L.GlobalAveragePooling2D) else "ReduceMax"
    axes = g.constant(np.array(x.to_storage([1, 2]), np.int64), f"{layer.name}/axes")
    y = g.node(op, [x.name, axes], layer.name, keepdims=int(layer.keepdims))
    shape = layer.compute_output_shape(x.shape)
    return Value(y, shape, x.channels_first and layer.keepdims)


@converts(L.Flatten)
def _flatten(g: GraphBuilder, layer: Any, x: Value) -> Value:
    x = g.channels_last(x)  # glassnet flattens in (height, width, channels) order
    y = g.node("Flatten", [x.name], layer.name, axis=1)
    return Value(y, layer.compute_output_shape(x.shape))


@converts(L.Reshape)
def _reshape(g: GraphBuilder, layer: Any, x: Value) -> Value:
    x = g.channels_last(x)
    target = np.array([0, *layer.target_shape], np.int64)  # 0: keep the batch
    shape = g.constant(target, f"{layer.name}/shape")
    y = g.node("Reshape", [x.name, shape], layer.name)
    return Value(y, layer.compute_output_shape(x.shape))


@converts(L.BatchNormalization)
def _batch_norm(g: GraphBuilder, layer: Any, x: Value) -> Value:
    """(x - moving_mean) * (gamma / sqrt(moving_variance + epsilon)) + beta."""
    axes = layer.axis if isinstance(layer.axis, list) else [layer.axis]
    axes = sorted(a % x.rank for a in axes)
    shape = [x.shape[i] if i in axes else 1 for i in range(x.rank)]

    dtype = layer.moving_mean.data.dtype
    mean = layer.moving_mean.data.reshape(shape)
    inv_std = 1.0 / np.sqrt(layer.moving_variance.data.reshape(shape) + layer.epsilon)
    scale = layer.gamma.data.reshape(shape) * inv_std if layer.scale else inv_std
    beta = layer.beta.data.reshape(shape) if layer.center else np.zeros(shape, dtype)
    y = g.apply(x, "Sub", x.stored(mean), hint=layer.name)
    y = g.apply(y, "Mul", x.stored(scale.astype(dtype)), hint=layer.name)
    return g.apply(y, "Add", x.stored(beta), hint=layer.name)


@converts(L.ZeroPadding2D)
def _zero_padding(g: GraphBuilder, layer: Any, x: Value) -> Value:
    (top, bottom), (left, right) = layer.padding
    before, after = [0] * 4, [0] * 4
    h, w = x.to_storage([1, 2])
    before[h], before[w], after[h], after[w] = top, left, bottom, right
    pads = g.constant(np.array(before + after, np.int64), f"{layer.name}/pads")
    y = g.node("Pad", [x.name, pads], layer.name)
    return Value(y, layer.compute_output_shape(x.shape), x.channels_first)


@converts(L.UpSampling2D)
def _upsampling(g: GraphBuilder, layer: Any, x: Value) -> Value:
    x = g.channels_first(x)
    scales = g.constant(
        np.array([1, 1, *layer.size], np.float32), f"{layer.name}/scales"
    )
    y = g.node(
        "Resize",
        [x.name, "", scales],
        layer.name,
        mode="nearest",
        coordinate_transformation_mode="asymmetric",
        nearest_mode="floor",
    )
    return Value(y, layer.compute_output_shape(x.shape), True)
