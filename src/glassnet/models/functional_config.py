"""The config of a functional model, in Keras 3's layout.

Keras writes a functional model as its layers (in ``model.layers``'s order),
each with ``inbound_nodes``: one entry per call of the layer in the model,
``{"args": [...], "kwargs": {...}}`` with every symbolic tensor written as
``{"class_name": "__keras_tensor__", "config": {"shape", "dtype",
"keras_history": [layer_name, node_index, tensor_index]}}``; then
``input_layers`` and ``output_layers``, the model's inputs and outputs as
``[layer_name, node_index, tensor_index]`` in the structure the model was
given (one, a list or a dict).

Node indices count a layer's calls within the model. In ``input_layers`` and
``output_layers`` (not in ``inbound_nodes``) a nested functional model's
calls count from 1, as Keras 2 gave every functional model a first call of
its own and Keras 3 still writes and reads them so.

:func:`functional_from_config` reads Keras 3's layout and Keras 2's
(``inbound_nodes`` as ``[[[layer, node, tensor, kwargs], ...], ...]``): it
makes every layer, then replays the calls, each once the calls it reads
exist, and makes the model from the tensors ``input_layers`` and
``output_layers`` name.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet.layers.base import Layer
from glassnet.layers.node import KerasTensor
from glassnet.layers.serialization import deserialize, serialize
from glassnet.models.functional import node_key

_PLAIN = (bool, int, float, str, type(None))


def is_functional_config(config: Any) -> bool:
    return isinstance(config, dict) and "input_layers" in config


def _is_functional(layer: Any) -> bool:
    return bool(getattr(layer, "_functional", False))


# --- writing -------------------------------------------------------------------------
def functional_config(model: Any) -> dict[str, Any]:
    """Keras 3's config of the functional ``model``: its layers with the
    calls the model makes of each, its inputs and outputs."""
    graph = model._graph
    keys = graph.keys
    entries = []
    for layer in graph.layers:
        nodes = [
            _serialize_node(node, keys)
            for i, node in enumerate(layer._inbound_nodes)
            if node_key(layer, i) in keys and not node.is_input
        ]
        entries.append({**serialize(layer), "name": layer.name, "inbound_nodes": nodes})

    def endpoint(tensor: KerasTensor) -> list[Any]:
        layer, index, tensor_index = tensor._keras_history
        kept = 1 if _is_functional(layer) else 0
        kept += sum(node_key(layer, i) in keys for i in range(index))
        return [layer.name, kept, tensor_index]

    return {
        "name": model.name,
        "trainable": model.trainable,
        "layers": entries,
        "input_layers": _plain_structure(graph.inputs_struct, endpoint),
        "output_layers": _plain_structure(graph.outputs_struct, endpoint),
    }


def _plain_structure(structure: Any, fn: Any) -> Any:
    """``fn`` of each KerasTensor, in lists (tuples too) and dicts."""
    if isinstance(structure, dict):
        return {str(k): _plain_structure(v, fn) for k, v in structure.items()}
    if isinstance(structure, (list, tuple)):
        return [_plain_structure(v, fn) for v in structure]
    return fn(structure)


def _serialize_node(node: Any, keys: set) -> dict[str, Any]:
    """One call: its arguments with each KerasTensor as ``__keras_tensor__``
    (its node index counting only the model's calls of its layer)."""

    def value(v: Any) -> Any:
        if isinstance(v, KerasTensor):
            layer, index, tensor_index = v._keras_history
            skipped = sum(node_key(layer, i) not in keys for i in range(index))
            config = {
                "shape": list(v.shape),
                "dtype": v.dtype,
                "keras_history": [layer.name, index - skipped, tensor_index],
            }
            return {"class_name": "__keras_tensor__", "config": config}
        if isinstance(v, dict):
            return {str(k): value(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [value(x) for x in v]
        if isinstance(v, np.generic):
            return v.item()
        if isinstance(v, _PLAIN):
            return v
        raise ValueError(
            f"Layer {node.operation.name!r} was called with {v!r}: a functional "
            "model's config holds symbolic tensors and plain values (numbers, "
            "strings, booleans, None) as call arguments only."
        )

    return {"args": value(list(node.args)), "kwargs": value(node.kwargs)}


# --- reading -------------------------------------------------------------------------
class _NotYet(Exception):
    """A call reads a tensor whose call is not replayed yet."""


def functional_from_config(cls: type, config: dict[str, Any], custom_objects=None):
    """A new ``cls(inputs, outputs)`` from :func:`functional_config`'s dict
    (or Keras 2's), with fresh weights."""
    entries = config.get("layers")
    if not isinstance(entries, list) or not entries:
        raise ValueError(
            f"A functional model's config needs a list of 'layers'. Received: "
            f"layers={entries!r}"
        )
    layers: dict[str, Layer] = {}
    pending: dict[str, list[Any]] = {}
    for entry in entries:
        if not isinstance(entry, dict):
            raise ValueError(f"A layer entry must be a dict. Received: {entry!r}")
        layer = deserialize(entry, custom_objects)
        name = entry.get("name", layer.name)
        if not isinstance(name, str) or name in layers:
            raise ValueError(
                f"Layer names in a functional config must be unique strings. "
                f"Received: name={name!r}"
            )
        nodes = _as_json(entry.get("inbound_nodes") or [])
        if not isinstance(nodes, list):
            raise ValueError(
                f"Layer {name!r}: inbound_nodes must be a list. Received: {nodes!r}"
            )
        layers[name] = layer
        pending[name] = list(nodes)
    # NOTE: calls are replayed once their inputs exist, pass after pass in
    # the config's order (a layer shared at several depths waits for them).
    while any(pending.values()):
        progress = False
        for name in layers:
            nodes = pending[name]
            while nodes:
                try:
                    args, kwargs = _call_arguments(nodes[0], layers)
                except _NotYet:
                    break
                layers[name](*args, **kwargs)
                nodes.pop(0)
                progress = True
        if not progress:
            raise ValueError(
                "Invalid Functional model configuration. The graph of the "
                "Functional model either has loops or disconnected nodes. The "
                "following nodes failed to be resolved: "
                f"{ {k: v for k, v in pending.items() if v} }"
            )

    def tensor(value: Any) -> Any:
        if (
            isinstance(value, list)
            and len(value) == 3
            and isinstance(value[0], str)
            and all(isinstance(i, int) for i in value[1:])
        ):
            name, index, tensor_index = value
            layer = _layer(layers, name)
            if _is_functional(layer):
                index -= 1  # Keras counts a functional model's calls from 1
            try:
                return _output(layer, index, tensor_index)
            except _NotYet:
                raise ValueError(
                    f"Layer {name!r} has no call {value[1]} in the model; "
                    f"input_layers and output_layers name one. Received: {value!r}"
                ) from None
        if isinstance(value, dict):
            return {k: tensor(v) for k, v in value.items()}
        if isinstance(value, list):
            return [tensor(v) for v in value]
        raise ValueError(
            f"input_layers and output_layers hold [layer_name, node_index, "
            f"tensor_index] entries. Received: {value!r}"
        )

    inputs = tensor(_as_json(config.get("input_layers")))
    outputs = tensor(_as_json(config.get("output_layers")))
    trainable = config.get("trainable", True)
    return cls(inputs, outputs, name=config.get("name"), trainable=trainable)


def _as_json(value: Any) -> Any:
    """``value`` as JSON gives it back: tuples as lists (a config straight
    from ``get_config`` holds tuples)."""
    if isinstance(value, dict):
        return {k: _as_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_as_json(v) for v in value]
    return value


def _layer(layers: dict[str, Layer], name: Any) -> Layer:
    if name not in layers:
        raise ValueError(
            f"Invalid Functional model configuration. Missing node: {name!r}"
        )
    return layers[name]


def _output(layer: Layer, index: int, tensor_index: int) -> KerasTensor:
    """Output ``tensor_index`` of the layer's call ``index``."""
    nodes = layer._inbound_nodes
    if not 0 <= index < len(nodes):
        raise _NotYet()
    outputs = nodes[index].outputs
    if not 0 <= tensor_index < len(outputs):
        raise ValueError(
            f"Layer {layer.name!r} has {len(outputs)} outputs in call {index}; "
            f"the config asks for output {tensor_index}."
        )
    return outputs[tensor_index]


def _call_arguments(node: Any, layers: dict[str, Layer]) -> tuple[list, dict]:
    """The ``(args, kwargs)`` of one recorded call, tensors taken from the
    calls replayed so far (:class:`_NotYet` if one is missing)."""
    if isinstance(node, list):  # Keras 2: [[layer, node, tensor, kwargs], ...]
        tensors, kwargs = [], {}
        for item in node:
            if not (
                isinstance(item, list)
                and len(item) in (3, 4)
                and isinstance(item[0], str)
                and all(isinstance(i, int) for i in item[1:3])
            ):
                raise ValueError(f"Cannot read the inbound node {node!r}.")
            if len(item) == 4:
                if not isinstance(item[3], dict):
                    raise ValueError(f"Cannot read the inbound node {node!r}.")
                kwargs = item[3]
            tensors.append(_output(_layer(layers, item[0]), item[1], item[2]))
        return [tensors[0] if len(tensors) == 1 else tensors], _plain(kwargs)
    if not isinstance(node, dict):
        raise ValueError(f"Cannot read the inbound node {node!r}.")
    args, kwargs = node.get("args", []), node.get("kwargs", {}) or {}
    if not isinstance(args, list) or not isinstance(kwargs, dict):
        raise ValueError(f"Cannot read the inbound node {node!r}.")

    def value(v: Any) -> Any:
        if isinstance(v, dict) and v.get("class_name") == "__keras_tensor__":
            history = (v.get("config") or {}).get("keras_history")
            if not (
                isinstance(history, list)
                and len(history) == 3
                and isinstance(history[0], str)
                and all(isinstance(i, int) for i in history[1:])
            ):
                raise ValueError(f"Cannot read the symbolic tensor {v!r}.")
            return _output(_layer(layers, history[0]), history[1], history[2])
        if isinstance(v, dict):
            if "class_name" in v:
                raise ValueError(
                    "A call argument in a functional config is a symbolic tensor "
                    f"or a plain value; glassnet cannot read {v!r}."
                )
            return {k: value(x) for k, x in v.items()}
        if isinstance(v, list):
            return [value(x) for x in v]
        if isinstance(v, _PLAIN):
            return v
        raise ValueError(f"Cannot read the call argument {v!r}.")

    args = [value(a) for a in args]
    kwargs = {str(k): value(v) for k, v in kwargs.items()}
    # NOTE: Keras records call arguments left at None (mask=None): such a call
    # takes the mask attached to its input, as an unrecorded one does.
    kwargs = {k: v for k, v in kwargs.items() if not (k == "mask" and v is None)}
    if not args:
        raise ValueError(f"A recorded call has no inputs: {node!r}")
    return args, kwargs


def _plain(kwargs: dict) -> dict:
    return {
        str(k): v
        for k, v in kwargs.items()
        if isinstance(v, _PLAIN) and not (k == "mask" and v is None)
    }
