"""Each layer and activation as ONNX nodes: two registries.

A layer converter is ``convert(graph, layer, *inputs) -> Value``, registered
with ``@converts(LayerClass)``; an activation is ``emit(graph, x) -> Value``,
registered with ``@emits(activation_function)``. A merge layer's converter
takes one value per input (``convert(graph, layer, x1, x2, ...)``). The model
walk in :mod:`glassnet.onnx.models` casts integer inputs to float32 before
every layer but those in :data:`INDEX_LAYERS` (which read indices), as
glassnet's layers cast their inputs.

Numbers are computed as glassnet computes them: BatchNormalization's
constants are the same float32 products, and its nodes subtract, multiply and
add in glassnet's order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from glassnet import activations as A
from glassnet import layers as L
from glassnet.onnx.graph import ExportError, GraphBuilder, Value
from glassnet.ops.geometry import conv_transpose_geometry, same_padding

Converter = Callable[..., Value]
CONVERTERS: dict[type, Converter] = {}
ACTIVATIONS: dict[Callable, Callable[[GraphBuilder, Value], Value]] = {}
#: layers that take integer indices as they are (no cast to float32)
INDEX_LAYERS: tuple[type, ...] = (L.Embedding,)
#: the largest int64, Slice's "to the end"
_END = np.iinfo(np.int64).max


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
    why = (
        " (its function is Python code, which an ONNX graph cannot hold: "
        "write it as glassnet layers)"
        if isinstance(layer, L.Lambda)
        else ""
    )
    raise ExportError(
        f"Layer {layer.name!r} ({type(layer).__name__}) cannot be exported to "
        f"ONNX{why}. Exportable layers: {', '.join(names)}."
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
def _ints(g: GraphBuilder, values: Any, hint: str) -> str:
    """An int64 constant (axes, pads, shapes)."""
    return g.constant(np.array(values, np.int64), hint)


@converts(L.Dropout, L.Identity)
def _identity(g: GraphBuilder, layer: Any, x: Value) -> Value:
    return x


@converts(L.Activation)
def _activation(g: GraphBuilder, layer: Any, x: Value) -> Value:
    return activation(g, layer.activation, x, layer)


@converts(L.LeakyReLU)
def _leaky_relu(g: GraphBuilder, layer: Any, x: Value) -> Value:
    return g.apply(x, "LeakyRelu", alpha=layer.negative_slope)


@converts(L.ELU)
def _elu(g: GraphBuilder, layer: Any, x: Value) -> Value:
    return g.apply(x, "Elu", alpha=layer.alpha)


@converts(L.ReLU)
def _relu_layer(g: GraphBuilder, layer: Any, x: Value) -> Value:
    """Keras's steps: x where x > threshold (else 0), clipped to
    [0, max_value], minus negative_slope * relu(threshold - x)."""
    t = np.float32(layer.threshold)
    if layer.threshold == 0:
        y = g.apply(x, "Relu")
    else:
        above = g.node(
            "Greater", [x.name, g.constant(t, f"{layer.name}/t")], layer.name
        )
        zero = g.constant(np.float32(0.0), f"{layer.name}/zero")
        y = replace(x, name=g.node("Where", [above, x.name, zero], layer.name))
    if layer.max_value is not None:
        y = g.apply(y, "Clip", np.float32(0.0), np.float32(layer.max_value))
    if layer.negative_slope != 0:
        below = g.apply(g.apply(g.apply(x, "Sub", t), "Neg"), "Relu")
        scaled = g.apply(below, "Mul", np.float32(layer.negative_slope))
        y = g.apply(y, "Sub", scaled.name)
    return y


@converts(L.Softmax)
def _softmax_layer(g: GraphBuilder, layer: Any, x: Value) -> Value:
    """Softmax over one axis; over several, exp(x - max) / sum, reduced over
    them (ReduceMax takes its axes as an input from opset 18)."""
    axes = layer.axis if isinstance(layer.axis, list) else [layer.axis]
    stored = x.to_storage([a % x.rank for a in axes])
    if len(stored) == 1:
        return g.apply(x, "Softmax", axis=stored[0])
    over = _ints(g, stored, f"{layer.name}/axes")
    top = g.node("ReduceMax", [x.name, over], layer.name, keepdims=1)
    e = g.apply(g.apply(x, "Sub", top), "Exp")
    total = g.node("ReduceSum", [e.name, over], layer.name, keepdims=1)
    return g.apply(e, "Div", total)


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


@converts(L.MaxPooling1D, L.MaxPooling2D, L.AveragePooling1D, L.AveragePooling2D)
def _pool(g: GraphBuilder, layer: Any, x: Value) -> Value:
    x = g.channels_first(x)
    sizes, strides = layer.pool_size, layer.strides
    pads = _pads(layer, x.shape[1:-1], sizes, strides, (1,) * len(sizes))
    if isinstance(layer, (L.MaxPooling1D, L.MaxPooling2D)):
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


@converts(
    L.GlobalAveragePooling1D,
    L.GlobalAveragePooling2D,
    L.GlobalMaxPooling1D,
    L.GlobalMaxPooling2D,
)
def _global_pool(g: GraphBuilder, layer: Any, x: Value) -> Value:
    """ReduceMean / ReduceMax over the steps (1-D) or height and width (2-D)."""
    mean = (L.GlobalAveragePooling1D, L.GlobalAveragePooling2D)
    op = "ReduceMean" if isinstance(layer, mean) else "ReduceMax"
    spatial = list(range(1, layer.rank + 1))
    axes = _ints(g, x.to_storage(spatial), f"{layer.name}/axes")
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


def _pairs(values: Any) -> list[tuple[int, int]]:
    """A 1-D layer's (before, after), or a 2-D one's two pairs, as a list."""
    return [tuple(values)] if isinstance(values[0], int) else list(values)


@converts(L.ZeroPadding1D, L.ZeroPadding2D)
def _zero_padding(g: GraphBuilder, layer: Any, x: Value) -> Value:
    """Pad with zeros: the steps (1-D), or the height and width (2-D)."""
    pairs = _pairs(layer.padding)
    before, after = [0] * x.rank, [0] * x.rank
    for axis, (start, end) in zip(x.to_storage(range(1, len(pairs) + 1)), pairs):
        before[axis], after[axis] = start, end
    pads = _ints(g, before + after, f"{layer.name}/pads")
    y = g.node("Pad", [x.name, pads], layer.name)
    return Value(y, layer.compute_output_shape(x.shape), x.channels_first)


@converts(L.Cropping1D, L.Cropping2D)
def _cropping(g: GraphBuilder, layer: Any, x: Value) -> Value:
    """Slice from each start crop to each end crop (counted from the end, so
    unknown lengths work) along the steps, or the height and width."""
    pairs = _pairs(layer.cropping)
    axes = x.to_storage(range(1, len(pairs) + 1))
    starts = [start for start, _ in pairs]
    ends = [-end if end else _END for _, end in pairs]
    inputs = [x.name]
    for values, what in ((starts, "starts"), (ends, "ends"), (axes, "axes")):
        inputs.append(_ints(g, values, f"{layer.name}/{what}"))
    y = g.node("Slice", inputs, layer.name)
    return Value(y, layer.compute_output_shape(x.shape), x.channels_first)


@converts(L.UpSampling1D, L.UpSampling2D)
def _upsampling(g: GraphBuilder, layer: Any, x: Value) -> Value:
    """Resize, nearest (asymmetric, floor: each step, row or column
    repeated), on the channels-first layout (the sizes last)."""
    x = g.channels_first(x)
    sizes = (layer.size,) if isinstance(layer, L.UpSampling1D) else layer.size
    scales = g.constant(np.array([1, 1, *sizes], np.float32), f"{layer.name}/scales")
    y = g.node(
        "Resize",
        [x.name, "", scales],
        layer.name,
        mode="nearest",
        coordinate_transformation_mode="asymmetric",
        nearest_mode="floor",
    )
    return Value(y, layer.compute_output_shape(x.shape), True)


@converts(L.Conv2DTranspose)
def _conv_transpose(g: GraphBuilder, layer: Any, x: Value) -> Value:
    """ConvTranspose with explicit pads: glassnet's output is the window of
    ``out`` rows from ``crop`` of the full ``(n - 1) * s + span`` rows
    (:func:`~glassnet.ops.geometry.conv_transpose_geometry`); ONNX crops
    ``pads`` from both ends and adds ``output_padding`` rows at the end."""
    if any(n is None for n in x.shape[1:3]):
        raise ExportError(
            f"Layer {layer.name!r} (Conv2DTranspose) needs a known height and "
            f"width to be exported to ONNX. Received: input_shape={x.shape}"
        )
    x = g.channels_first(x)
    kernel = layer.kernel.data  # (kh, kw, out, in) -> (in, out, kh, kw)
    weights = np.transpose(kernel, (3, 2, 0, 1))
    inputs = [x.name, g.constant(weights, f"{layer.name}/kernel")]
    if layer.use_bias:
        inputs.append(g.constant(layer.bias.data, f"{layer.name}/bias"))
    sizes, strides, dilations = layer.kernel_size, layer.strides, layer.dilation_rate
    crops, out_hw, _ = conv_transpose_geometry(
        x.shape, kernel.shape, strides, layer.padding, layer.output_padding, dilations
    )
    begins, ends, extras = [], [], []
    for n, k, s, d, crop, out in zip(
        x.shape[1:3], sizes, strides, dilations, crops, out_hw
    ):
        after = (n - 1) * s + (k - 1) * d + 1 - crop - out
        begins.append(crop)
        ends.append(max(after, 0))
        extras.append(max(-after, 0))
    y = g.node(
        "ConvTranspose",
        inputs,
        layer.name,
        kernel_shape=list(sizes),
        strides=list(strides),
        dilations=list(dilations),
        pads=begins + ends,
        output_padding=extras,
    )
    shape = layer.compute_output_shape(x.shape)
    return activation(g, layer.activation, Value(y, shape, True), layer)


@converts(L.Embedding)
def _embedding(g: GraphBuilder, layer: Any, x: Value) -> Value:
    """Gather of the table's rows: ids ``(batch, ...)`` -> ``(batch, ...,
    output_dim)``. Ids of another dtype than int32 or int64 are cast to int64
    (floats truncated, as glassnet casts them). A mask (``mask_zero``) is
    not exported: the layers after it would compute without it."""
    if layer.mask_zero:
        raise ExportError(
            f"Layer {layer.name!r} (Embedding) has mask_zero=True: ONNX export "
            "does not carry masks, and the layers that read them would compute "
            "otherwise. Export a model without mask_zero."
        )
    x = g.channels_last(x)
    ids = x.name
    if x.dtype not in ("int32", "int64"):
        ids = g.node("Cast", [ids], f"{layer.name}/ids", to=g.onnx.TensorProto.INT64)
    table = g.constant(layer.embeddings.data, f"{layer.name}/embeddings")
    y = g.node("Gather", [table, ids], layer.name, axis=0)
    return Value(y, layer.compute_output_shape(x.shape))


@converts(L.LayerNormalization)
def _layer_norm(g: GraphBuilder, layer: Any, x: Value) -> Value:
    """ONNX's LayerNormalization (opset 17) where the axes are the last
    ones (``[axis, ..., rank - 1]``, all it can normalize over); otherwise
    glassnet's own steps: ``(x - mean) * (1 / sqrt(var + epsilon)) * gamma +
    beta`` with ReduceMean over the axes."""
    x = g.channels_last(x)
    axes, shape = list(layer._axes), layer._broadcast
    gamma = layer.gamma.data.reshape(shape) if layer.scale else None
    beta = layer.beta.data.reshape(shape) if layer.center else None
    if axes == list(range(axes[0], x.rank)):
        normalized = shape[axes[0] :]
        if gamma is None:
            gamma = np.ones(normalized, layer.dtype)
        inputs = [x.name, g.constant(gamma.reshape(normalized), f"{layer.name}/gamma")]
        if beta is not None:
            inputs.append(g.constant(beta.reshape(normalized), f"{layer.name}/beta"))
        y = g.node(
            "LayerNormalization",
            inputs,
            layer.name,
            axis=axes[0],
            epsilon=float(layer.epsilon),
        )
        return Value(y, x.shape)
    over = _ints(g, axes, f"{layer.name}/axes")
    mean = g.node("ReduceMean", [x.name, over], layer.name, keepdims=1)
    centered = g.apply(x, "Sub", mean, hint=layer.name)
    square = g.apply(centered, "Mul", centered.name, hint=layer.name)
    var = g.node("ReduceMean", [square.name, over], layer.name, keepdims=1)
    eps = g.constant(np.array(layer.epsilon, layer.dtype), f"{layer.name}/epsilon")
    std = g.node("Sqrt", [g.node("Add", [var, eps], layer.name)], layer.name)
    y = g.apply(centered, "Mul", g.node("Reciprocal", [std], layer.name))
    if gamma is not None:
        y = g.apply(y, "Mul", gamma, hint=layer.name)
    return y if beta is None else g.apply(y, "Add", beta, hint=layer.name)


@converts(L.Rescaling)
def _rescaling(g: GraphBuilder, layer: Any, x: Value) -> Value:
    """x * scale + offset (arrays of them broadcast in glassnet's layout)."""
    scale = np.asarray(layer.scale, layer.dtype)
    offset = np.asarray(layer.offset, layer.dtype)
    if scale.ndim or offset.ndim:
        x = g.channels_last(x)
    y = g.apply(x, "Mul", scale, hint=layer.name)
    return g.apply(y, "Add", offset, hint=layer.name)


@converts(L.RepeatVector)
def _repeat_vector(g: GraphBuilder, layer: Any, x: Value) -> Value:
    """(batch, features) -> Unsqueeze (batch, 1, features) -> Expand to
    (batch, n, features)."""
    one = g.node("Unsqueeze", [x.name, _ints(g, [1], f"{layer.name}/axes")], layer.name)
    y = g.node(
        "Expand", [one, _ints(g, [1, layer.n, 1], f"{layer.name}/shape")], layer.name
    )
    return Value(y, layer.compute_output_shape(x.shape))


@converts(L.Permute)
def _permute(g: GraphBuilder, layer: Any, x: Value) -> Value:
    x = g.channels_last(x)
    y = g.node("Transpose", [x.name], layer.name, perm=[0, *layer.dims])
    return Value(y, layer.compute_output_shape(x.shape))


# --- merge layers: one value per input ---------------------------------------------
def _one_rank(g: GraphBuilder, layer: Any, inputs: tuple[Value, ...]) -> list[Value]:
    """The inputs of an elementwise merge brought to one rank (axes of 1
    inserted after the batch, as glassnet's Merge does) and one layout
    (channels-first only if all are, and of one rank)."""
    rank = max(x.rank for x in inputs)
    if all(x.channels_first and x.rank == rank for x in inputs):
        return list(inputs)
    values = []
    for x in inputs:
        x = g.channels_last(x)
        if x.rank < rank:
            new = list(range(1, rank - x.rank + 1))
            axes = _ints(g, new, f"{layer.name}/axes")
            name = g.node("Unsqueeze", [x.name, axes], layer.name)
            x = Value(name, (x.shape[0], *[1] * len(new), *x.shape[1:]))
        values.append(x)
    return values


_ELEMENTWISE = {
    L.Add: "Add",
    L.Subtract: "Sub",
    L.Multiply: "Mul",
    L.Average: "Add",
    L.Maximum: "Max",
    L.Minimum: "Min",
}


@converts(*_ELEMENTWISE)
def _elementwise(g: GraphBuilder, layer: Any, *inputs: Value) -> Value:
    """``((x1 op x2) op x3) ...``, glassnet's order (ONNX broadcasts as
    NumPy does); Average divides the sum by the number of inputs."""
    op = next(op for cls, op in _ELEMENTWISE.items() if isinstance(layer, cls))
    values = _one_rank(g, layer, inputs)
    y = values[0]
    for x in values[1:]:
        y = g.apply(y, op, x.name, hint=layer.name)
    if isinstance(layer, L.Average):
        y = g.apply(y, "Div", np.float32(len(values)), hint=layer.name)
    return replace(y, shape=layer.compute_output_shape([x.shape for x in inputs]))


@converts(L.Concatenate)
def _concatenate(g: GraphBuilder, layer: Any, *inputs: Value) -> Value:
    """Concat along ``axis`` (of the stored layout: channels-first only if
    every input is)."""
    if not all(x.channels_first for x in inputs):
        inputs = tuple(g.channels_last(x) for x in inputs)
    first = inputs[0]
    axis = first.to_storage([layer.axis % first.rank])[0]
    y = g.node("Concat", [x.name for x in inputs], layer.name, axis=axis)
    shape = layer.compute_output_shape([x.shape for x in inputs])
    return Value(y, shape, first.channels_first)


def _l2_normalize(g: GraphBuilder, x: Value, axis: int, hint: str) -> Value:
    """x / max(sqrt(sum(x * x, axis)), 1e-7) (glassnet's Dot normalize)."""
    square = g.apply(x, "Mul", x.name, hint=hint)
    axes = _ints(g, [axis], f"{hint}/axes")
    total = g.node("ReduceSum", [square.name, axes], hint, keepdims=1)
    norm = g.node(
        "Max",
        [g.node("Sqrt", [total], hint), g.constant(np.float32(1e-7), f"{hint}/floor")],
        hint,
    )
    return g.apply(x, "Div", norm, hint=hint)


@converts(L.Dot)
def _dot(g: GraphBuilder, layer: Any, x1: Value, x2: Value) -> Value:
    """An Einsum per sample: x1's axis ``a`` summed against x2's axis ``b``,
    the result ``(batch, x1's other axes..., x2's other axes...)``; a result
    of the batch alone becomes ``(batch, 1)``, as glassnet's ``batch_dot``."""
    x1, x2 = g.channels_last(x1), g.channels_last(x2)
    a, b = layer._axes(x1.rank, x2.rank)
    if layer.normalize:
        x1 = _l2_normalize(g, x1, a, f"{layer.name}/x1")
        x2 = _l2_normalize(g, x2, b, f"{layer.name}/x2")
    free = iter("abcdefghijlmnopqrstuvwxy")  # z: the batch, k: the summed axis

    def subscripts(rank: int, summed: int) -> str:
        return "".join(
            "z" if i == 0 else "k" if i == summed else next(free) for i in range(rank)
        )

    left, right = subscripts(x1.rank, a), subscripts(x2.rank, b)
    result = "z" + left[1:].replace("k", "") + right[1:].replace("k", "")
    y = g.node(
        "Einsum", [x1.name, x2.name], layer.name, equation=f"{left},{right}->{result}"
    )
    if len(result) == 1:
        y = g.node("Unsqueeze", [y, _ints(g, [1], f"{layer.name}/axes")], layer.name)
    return Value(y, layer.compute_output_shape([x1.shape, x2.shape]))


# --- recurrent layers --------------------------------------------------------------
#: glassnet's activations as the names (and alpha, beta) ONNX's RNN, LSTM and
#: GRU operators take in ``activations``; None is glassnet's identity
_RECURRENT_ACTIVATIONS: dict[Any, tuple[str, float | None, float | None]] = {
    None: ("Affine", 1.0, 0.0),
    A.tanh: ("Tanh", None, None),
    A.sigmoid: ("Sigmoid", None, None),
    A.relu: ("Relu", None, None),
    A.hard_sigmoid: ("HardSigmoid", 1.0 / 6.0, 0.5),
    A.softsign: ("Softsign", None, None),
    A.softplus: ("Softplus", None, None),
    A.elu: ("Elu", 1.0, None),
    A.leaky_relu: ("LeakyRelu", 0.2, None),
}


def _recurrent_activations(layer: Any, arguments: list[str]) -> dict[str, Any]:
    """The ``activations`` attribute (and its ``activation_alpha`` and
    ``activation_beta``, listed for the functions that take them, in order)
    of ``layer``'s ``arguments`` (``"activation"``, ``"recurrent_activation"``)."""
    names, alphas, betas = [], [], []
    for argument in arguments:
        fn = getattr(layer, argument)
        if fn not in _RECURRENT_ACTIVATIONS:
            valid = sorted(A.serialize(f) for f in _RECURRENT_ACTIVATIONS if f)
            raise ExportError(
                f"Layer {layer.name!r} ({type(layer).__name__}) has "
                f"{argument}={getattr(fn, '__name__', fn)!r}, which ONNX's "
                f"{type(layer).__name__} operator cannot compute. Exportable "
                f"{argument}s: linear, {', '.join(valid)}."
            )
        name, alpha, beta = _RECURRENT_ACTIVATIONS[fn]
        names.append(name)
        alphas += [] if alpha is None else [alpha]
        betas += [] if beta is None else [beta]
    attributes: dict[str, Any] = {"activations": names}
    if alphas:
        attributes["activation_alpha"] = alphas
    if betas:
        attributes["activation_beta"] = betas
    return attributes


def _gates(weights: np.ndarray, order: list[int], units: int) -> np.ndarray:
    """``weights`` (..., k * units) with its blocks of ``units`` columns
    (one per gate) in ``order``."""
    blocks = [weights[..., i * units : (i + 1) * units] for i in order]
    return np.concatenate(blocks, axis=-1)


def _recurrent(
    g: GraphBuilder,
    layer: Any,
    x: Value,
    op: str,
    order: list[int],
    recurrent_bias: np.ndarray | None,
    attributes: dict[str, Any],
) -> Value:
    """What RNN, LSTM and GRU share. ``order``: the Keras gate of each ONNX
    gate; ``recurrent_bias``: ONNX's ``Rb`` (zeros if None); the input bias
    is ``layer._input_bias()``.

    ONNX's weights are one direction of ``W`` (k * units, features), ``R``
    (k * units, units) and ``B`` = [Wb, Rb]: Keras's kernels transposed.
    ONNX reads (steps, batch, features): the input is transposed, and ``Y``
    (steps, 1, batch, units) back to (batch, steps, units). ONNX's
    ``reverse`` direction gives ``Y`` in the input's order; Keras gives the
    steps in the order they ran (last first): ``Y`` is reversed.
    """
    if layer.return_state:
        raise ExportError(
            f"Layer {layer.name!r} ({type(layer).__name__}) has return_state=True: "
            "ONNX export takes layers of one output. Export a model without "
            "return_state."
        )
    units, name = layer.units, layer.name
    x = g.channels_last(x)
    steps_first = g.node("Transpose", [x.name], f"{name}/steps_first", perm=[1, 0, 2])
    kernel = _gates(layer.kernel.data, order, units).T[None]
    recurrent = _gates(layer.recurrent_kernel.data, order, units).T[None]
    inputs = [
        steps_first,
        g.constant(kernel, f"{name}/W"),
        g.constant(recurrent, f"{name}/R"),
    ]
    input_bias = layer._input_bias()
    if input_bias is not None:
        input_bias = _gates(input_bias.data, order, units)
        if recurrent_bias is None:
            recurrent_bias = np.zeros_like(input_bias)
        else:
            recurrent_bias = _gates(recurrent_bias, order, units)
        bias = np.concatenate([input_bias, recurrent_bias])[None]
        inputs.append(g.constant(bias, f"{name}/B"))
    direction = "reverse" if layer.go_backwards else "forward"
    if layer.return_sequences:
        outputs = [g.name(f"{name}/Y")]
    else:  # NOTE: "" leaves out ONNX's optional output Y
        outputs = ["", g.name(f"{name}/Y_h")]
    g.nodes.append(
        g.onnx.helper.make_node(
            op,
            inputs,
            outputs,
            name=g.name(f"{name}/{op}"),
            hidden_size=units,
            direction=direction,
            **attributes,
        )
    )
    shape = layer.compute_output_shape(x.shape)
    if not layer.return_sequences:  # Y_h (1, batch, units): the last state
        axes = _ints(g, [0], f"{name}/axes")
        return Value(g.node("Squeeze", [outputs[1], axes], name), shape)
    # Y (steps, 1, batch, units) -> (batch, steps, 1, units) -> (batch, steps, units)
    y = g.node("Transpose", [outputs[0]], name, perm=[2, 0, 1, 3])
    y = g.node("Squeeze", [y, _ints(g, [2], f"{name}/axes")], name)
    if layer.go_backwards:
        starts_ends_axes_steps = ([-1], [np.iinfo(np.int64).min], [1], [-1])
        slices = [_ints(g, v, f"{name}/reverse") for v in starts_ends_axes_steps]
        y = g.node("Slice", [y, *slices], name)
    return Value(y, shape)


@converts(L.SimpleRNN)
def _simple_rnn(g: GraphBuilder, layer: Any, x: Value) -> Value:
    """ONNX's RNN: one gate, ``activation`` its ``f``."""
    attributes = _recurrent_activations(layer, ["activation"])
    return _recurrent(g, layer, x, "RNN", [0], None, attributes)


@converts(L.LSTM)
def _lstm(g: GraphBuilder, layer: Any, x: Value) -> Value:
    """ONNX's LSTM: its gates i, o, f, c are Keras's blocks 0, 3, 1, 2
    (Keras: i, f, c, o); ``recurrent_activation`` is its ``f`` (the gates),
    ``activation`` its ``g`` (the candidate) and ``h`` (the cell's output)."""
    attributes = _recurrent_activations(
        layer, ["recurrent_activation", "activation", "activation"]
    )
    return _recurrent(g, layer, x, "LSTM", [0, 3, 1, 2], None, attributes)


@converts(L.GRU)
def _gru(g: GraphBuilder, layer: Any, x: Value) -> Value:
    """ONNX's GRU: gates z, r, h in Keras's order; ``recurrent_activation``
    is its ``f`` (the gates), ``activation`` its ``g`` (the candidate).
    ``reset_after=True`` is ``linear_before_reset=1`` with the bias's row 1
    as ``Rb``; ``reset_after=False`` has one bias, ``Wb`` (``Rb`` zeros)."""
    attributes = _recurrent_activations(layer, ["recurrent_activation", "activation"])
    attributes["linear_before_reset"] = int(layer.reset_after)
    recurrent_bias = None
    if layer.reset_after and layer.bias is not None:
        recurrent_bias = layer.bias.data[1]
    return _recurrent(g, layer, x, "GRU", [0, 1, 2], recurrent_bias, attributes)


@converts(L.Bidirectional)
def _bidirectional(g: GraphBuilder, layer: Any, x: Value) -> Value:
    """Two nodes, one per direction (each its layer's converter), merged as
    ``merge_mode``; with ``return_sequences`` the backward outputs (the steps
    in the order they ran) are put back in time order first."""
    if layer.merge_mode is None or layer.return_state:
        raise ExportError(
            f"Layer {layer.name!r} (Bidirectional) has merge_mode="
            f"{layer.merge_mode!r}, return_state={layer.return_state}: ONNX "
            "export takes layers of one output. Export a model with a merge_mode "
            "and without return_state."
        )
    name = layer.name
    forward, backward = layer.forward_layer, layer.backward_layer
    y = CONVERTERS[type(forward)](g, forward, x).name
    y_rev = CONVERTERS[type(backward)](g, backward, x).name
    if layer.return_sequences:
        starts_ends_axes_steps = ([-1], [np.iinfo(np.int64).min], [1], [-1])
        slices = [_ints(g, v, f"{name}/reverse") for v in starts_ends_axes_steps]
        y_rev = g.node("Slice", [y_rev, *slices], name)
    if layer.merge_mode == "concat":
        y = g.node("Concat", [y, y_rev], name, axis=-1)
    else:
        y = g.node("Mul" if layer.merge_mode == "mul" else "Add", [y, y_rev], name)
    if layer.merge_mode == "ave":
        half = g.constant(np.array(0.5, np.float32), f"{name}/half")
        y = g.node("Mul", [y, half], name)
    return Value(y, layer.compute_output_shape(x.shape))
