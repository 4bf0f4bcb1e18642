"""A glassnet model as an ONNX graph: its layer calls, in order, through the
converters of :mod:`glassnet.onnx.layers`.

A functional model is its graph's nodes (``FunctionalGraph.nodes``, deepest
first, the order glassnet runs them): each node's converter takes the values
of that node's inputs, so branches, merges, several inputs and outputs and
shared layers need nothing more. A Sequential model is its layers one after
the other. A model used as a layer is inlined: its own nodes are walked on
the values its call receives.

Names: a model that takes and gives one array (``predict(x) -> array``) has
input ``"input"`` and output ``"output"``; one that takes or gives a list or
a dict has its inputs named after its input layers and its outputs after the
layers that make them (``name_1``, ... where one layer makes several), in the
model's flat order (a dict's keys sorted), as ``model.inputs`` and
``model.outputs`` list them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet import tree
from glassnet.layers.node import KerasTensor
from glassnet.onnx.graph import OPSET, ExportError, GraphBuilder, Value
from glassnet.onnx.layers import INDEX_LAYERS, converter_for

INPUT, OUTPUT = "input", "output"


def _check_model(model: Any) -> None:
    from glassnet.models import Model

    if not isinstance(model, Model):
        raise ExportError(
            "glassnet.onnx.export takes a glassnet model or a fitted MLPRegressor "
            f"/ MLPClassifier. Received: {type(model).__name__}"
        )
    if type(model).call is not Model.call:
        raise ExportError(
            f"Model {model.name!r} is a subclassed model (its own call): only "
            "Sequential and functional models can be exported to ONNX."
        )
    if not model.built:
        raise ExportError(
            f"Model {model.name!r} is not built yet: give it an input shape or "
            "call it on data first."
        )
    if np.dtype(model._dtype) != np.float32:
        raise ExportError(
            f"Model {model.name!r} computes in {np.dtype(model._dtype).name}; "
            "glassnet exports float32 models."
        )


def _call(g: GraphBuilder, layer: Any, inputs: list[Value]) -> list[Value]:
    """The values ``layer`` makes of ``inputs`` (one, or a merge's list)."""
    from glassnet.models import Model

    if isinstance(layer, Model):
        return _run(g, layer, inputs)
    convert = converter_for(layer)
    if not isinstance(layer, INDEX_LAYERS):
        inputs = [g.as_float(x) for x in inputs]
    return [convert(g, layer, *inputs)]


def _run(g: GraphBuilder, model: Any, inputs: list[Value]) -> list[Value]:
    """The values of ``model``'s outputs (flat) for those of its inputs."""
    _check_model(model)
    if not model._functional:  # a Sequential: one layer after the other
        values = inputs
        for layer in model._compute_layers():
            values = _call(g, layer, values)
        return values
    graph = model._graph
    known = {id(t): x for t, x in zip(graph.inputs, inputs)}
    for node in graph.nodes:
        layer = node.operation
        extra = sorted(set(node.kwargs) - {"training"})
        leaves = tree.flatten(node.args)
        if (
            len(node.args) != 1
            or extra
            or not all(isinstance(t, KerasTensor) for t in leaves)
        ):
            given = extra or ["arguments other than its inputs"]
            raise ExportError(
                f"Layer {layer.name!r} ({type(layer).__name__}) is called with "
                f"{', '.join(given)} in model {model.name!r}: ONNX export takes "
                "layer calls on their inputs alone."
            )
        outputs = _call(g, layer, [known[id(t)] for t in leaves])
        known.update((id(t), x) for t, x in zip(node.outputs, outputs))
    return [known[id(t)] for t in graph.outputs]


def _unique(names: list[str]) -> list[str]:
    """``names`` with repeats made ``name_1``, ``name_2``, ..."""
    seen: set[str] = set()
    result = []
    for name in names:
        candidate, count = name, 0
        while candidate in seen:
            count += 1
            candidate = f"{name}_{count}"
        seen.add(candidate)
        result.append(candidate)
    return result


def _ends(model: Any) -> tuple[list[tuple], list[tuple]]:
    """``(name, shape, dtype)`` of each input, and ``(name, shape)`` of each
    output, in the model's flat order."""
    if not model._functional:
        entry = model._input_layer
        dtype = entry.dtype if entry is not None else "float32"
        shape = tuple(model.input_shape)
        return [(INPUT, shape, dtype)], [(OUTPUT, tuple(model.output_shape))]
    graph = model._graph
    if not graph.structured:
        (x,), (y,) = graph.inputs, graph.outputs
        return [(INPUT, x.shape, x.dtype)], [(OUTPUT, y.shape)]
    ends = graph.inputs + graph.outputs  # an output may be an input: "x_1"
    names = _unique([t._keras_history[0].name for t in ends])
    count = len(graph.inputs)
    inputs = [(n, t.shape, t.dtype) for n, t in zip(names, graph.inputs)]
    return inputs, [(n, t.shape) for n, t in zip(names[count:], graph.outputs)]


def model_to_onnx(model: Any, opset: int = OPSET) -> Any:
    """The ``ModelProto`` of ``model``, with glassnet's shapes
    (channels-last) and dtypes at its ends, batch dynamic."""
    _check_model(model)
    inputs, outputs = _ends(model)
    g = GraphBuilder()
    g.reserve(*(name for name, *_ in inputs), *(name for name, _ in outputs))
    values = [Value(name, shape, dtype=dtype) for name, shape, dtype in inputs]
    results = _run(g, model, values)

    taken = {name for name, *_ in inputs}  # a value can take only one name
    renamed: dict[str, str] = {}
    infos = []
    for (name, shape), x in zip(outputs, results):
        x = g.channels_last(x)
        current = renamed.get(x.name, x.name)
        if current in taken:  # an input, or another output: copy it
            current = g.node("Identity", [current], f"{name}/identity")
        g.rename(current, name)
        renamed[x.name] = name
        taken.add(name)
        infos.append(g.value_info(name, shape, g.elem_type(x.dtype)))
    return g.model(
        [g.value_info(n, s, g.elem_type(d)) for n, s, d in inputs],
        infos,
        model.name,
        opset,
        doc=f"glassnet {type(model).__name__} {model.name!r}",
    )
