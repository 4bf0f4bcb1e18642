"""The config of a functional model, in Keras 3's layout.

Keras writes a functional model as its layers, each with the ``inbound_nodes``
that say which layer's output it is called on, plus the names of the input and
output layers. glassnet's ``Model(inputs, outputs)`` is one chain of
single-input layers today, so :func:`functional_from_config` reads configs of
that shape (Keras 3's and Keras 2's ``inbound_nodes``) and says so when a
config is a wider graph.
"""

from __future__ import annotations

from typing import Any

from glassnet.layers.base import Layer
from glassnet.layers.core import InputLayer
from glassnet.layers.serialization import deserialize, serialize


def is_functional_config(config: Any) -> bool:
    return isinstance(config, dict) and "input_layers" in config


def functional_config(model: Any) -> dict[str, Any]:
    """Keras 3's config of a built functional ``model`` (a chain of layers)."""
    chain = model._layers
    shapes = [chain[0].batch_shape, *model._output_shapes]
    entries = []
    for i, layer in enumerate(chain):
        entry = {**serialize(layer), "name": layer.name, "inbound_nodes": []}
        if i:
            parent = chain[i - 1]
            tensor = {
                "shape": list(shapes[i - 1]),
                "dtype": parent.dtype,
                "keras_history": [parent.name, 0, 0],
            }
            entry["inbound_nodes"] = [
                {
                    "args": [{"class_name": "__keras_tensor__", "config": tensor}],
                    "kwargs": {},
                }
            ]
        entries.append(entry)
    return {
        "name": model.name,
        "trainable": model.trainable,
        "layers": entries,
        "input_layers": [chain[0].name, 0, 0],
        "output_layers": [chain[-1].name, 0, 0],
    }


def functional_from_config(cls: type, config: dict[str, Any], custom_objects=None):
    """A new ``cls(inputs, outputs)`` from :func:`functional_config`'s dict."""
    entries = config.get("layers")
    if not isinstance(entries, list) or not entries:
        raise ValueError(
            f"A functional model's config needs a list of 'layers'. Received: "
            f"layers={entries!r}"
        )
    layers: dict[str, Layer] = {}
    parents: dict[str, str | None] = {}
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
        layers[name] = layer
        parents[name] = _parent(name, entry.get("inbound_nodes"))
    first = _endpoint(config.get("input_layers"), "input_layers")
    last = _endpoint(config.get("output_layers"), "output_layers")
    if first not in layers or not isinstance(layers[first], InputLayer):
        raise ValueError(
            f"The input layer {first!r} of the functional config is not an "
            "InputLayer in its 'layers'."
        )
    chain, name = [], last
    while name != first:
        if name not in layers or len(chain) >= len(layers):
            raise ValueError(
                f"The functional config does not lead from its input {first!r} "
                f"to its output {last!r}; stuck at {name!r}."
            )
        chain.append(layers[name])
        name = parents[name]
    if len(chain) + 1 != len(layers):
        raise ValueError(
            "glassnet reads functional configs that are one chain of layers; "
            f"this one has {len(layers) - len(chain) - 1} layer(s) off the "
            f"chain from {first!r} to {last!r}."
        )
    x = inputs = layers[first].output
    for layer in reversed(chain):
        x = layer(x)
    trainable = config.get("trainable", True)
    return cls(inputs, x, name=config.get("name"), trainable=trainable)


def _endpoint(value: Any, key: str) -> str:
    """The layer name of Keras's ``[name, 0, 0]`` (or ``[[name, 0, 0]]``)."""
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], list):
        value = value[0]
    if not (isinstance(value, list) and len(value) == 3 and isinstance(value[0], str)):
        raise ValueError(
            f"glassnet reads functional configs with one input and one output: "
            f"'{key}' must be [layer_name, 0, 0]. Received: {key}={value!r}"
        )
    return value[0]


def _parent(name: str, nodes: Any) -> str | None:
    """The layer whose output ``name`` is called on (None for an input).

    Keras 3 writes ``[{"args": [<__keras_tensor__ with keras_history>],
    "kwargs": {}}]``; Keras 2 ``[[[parent, 0, 0, {}]]]``.
    """
    if nodes in (None, []):
        return None
    unsupported = ValueError(
        f"glassnet reads functional configs that are one chain of single-input "
        f"layers, each called once without extra arguments; layer {name!r} has "
        f"inbound_nodes={nodes!r}"
    )
    if not isinstance(nodes, list) or len(nodes) != 1:
        raise unsupported
    node = nodes[0]
    if isinstance(node, dict):
        args, kwargs = node.get("args"), node.get("kwargs") or {}
        # NOTE: Keras records call arguments left at None (mask=None) too
        plain = isinstance(kwargs, dict) and all(v is None for v in kwargs.values())
        if not (isinstance(args, list) and len(args) == 1) or not plain:
            raise unsupported
        tensor = args[0]
        config = tensor.get("config") if isinstance(tensor, dict) else None
        history = config.get("keras_history") if isinstance(config, dict) else None
        if not (
            isinstance(tensor, dict) and tensor.get("class_name") == "__keras_tensor__"
        ):
            raise unsupported
    elif isinstance(node, list) and len(node) == 1 and isinstance(node[0], list):
        history = node[0]
    else:
        raise unsupported
    if not (
        isinstance(history, list)
        and len(history) in (3, 4)
        and isinstance(history[0], str)
        and history[1:3] == [0, 0]
        and history[3:] in ([], [{}])
    ):
        raise unsupported
    return history[0]
