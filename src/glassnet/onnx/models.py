"""A glassnet model as an ONNX graph: its layers, in order, through the
converters of :mod:`glassnet.onnx.layers`.

Sequential models and functional chains (nested ones included) are walked
layer by layer, each layer's converter taking the values of its inputs. A
functional graph with branches will walk its nodes in the same way, feeding
each converter the values of that node's inputs.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet.layers import InputLayer
from glassnet.onnx.graph import OPSET, ExportError, GraphBuilder, Value
from glassnet.onnx.layers import converter_for

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
    graph = model.__dict__.get("_graph")
    if getattr(model, "_functional", False) and graph.chain is None:
        raise ExportError(
            f"Model {model.name!r} is a functional graph that is not one chain "
            "(branches, merges, shared layers or several inputs or outputs): "
            "glassnet exports Sequential and single-chain models to ONNX."
        )
    if np.dtype(model._dtype) != np.float32:
        raise ExportError(
            f"Model {model.name!r} computes in {np.dtype(model._dtype).name}; "
            "glassnet exports float32 models."
        )


def _walk(g: GraphBuilder, model: Any, x: Value) -> Value:
    for layer in model.layers:
        if isinstance(layer, InputLayer):
            continue
        if hasattr(layer, "layers"):  # a nested model
            _check_model(layer)
            x = _walk(g, layer, x)
        else:
            x = converter_for(layer)(g, layer, x)
    return x


def model_to_onnx(model: Any, opset: int = OPSET) -> Any:
    """The ``ModelProto`` of ``model``: input ``"input"`` and output
    ``"output"`` with glassnet's shapes (channels-last), batch dynamic."""
    _check_model(model)
    g = GraphBuilder()
    g.reserve(INPUT, OUTPUT)
    shape = tuple(model.input_shape)
    x = _walk(g, model, Value(INPUT, shape))
    x = g.channels_last(x)
    if x.name == INPUT:  # a model that computes nothing: one Identity node
        x = Value(g.node("Identity", [x.name], "identity"), x.shape)
    g.nodes[-1].output[0] = OUTPUT  # the last node made x: nothing reads it yet
    return g.model(
        [g.value_info(INPUT, shape)],
        [g.value_info(OUTPUT, tuple(model.output_shape))],
        model.name,
        opset,
        doc=f"glassnet {type(model).__name__} {model.name!r}",
    )
