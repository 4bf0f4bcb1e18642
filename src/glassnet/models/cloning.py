"""``clone_model``: the same architecture on new layers (fresh weights), as
Keras 3 clones.

A functional model is cloned by replaying its graph on new inputs: each layer
is replaced once by ``clone_function(layer)`` (default: a new layer from its
config), so a shared layer stays shared in the clone, and each recorded call
is made again with the same arguments (``call_function`` may wrap it). A
Sequential model gets its layers cloned in order; any other model is rebuilt
from its config.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from glassnet import tree
from glassnet.layers.base import Layer
from glassnet.layers.core import Input, InputLayer
from glassnet.layers.node import KerasTensor


def _default_clone(layer: Layer) -> Layer:
    return type(layer).from_config(layer.get_config())


def clone_model(
    model: Any,
    input_tensors: Any = None,
    clone_function: Callable[[Layer], Layer] | None = None,
    call_function: Callable[..., Any] | None = None,
    recursive: bool = False,
) -> Any:
    """A new model of ``model``'s architecture with new layers (and so new
    weights; copy them with ``set_weights``), compiled as ``model`` was.

    ``input_tensors``: KerasTensors (the structure of ``model.input``) to
    build the clone on, instead of new ``Input``s. ``clone_function(layer)``
    returns the layer to use for each non-input layer (default
    ``type(layer).from_config(layer.get_config())``); returning the layer
    itself shares it. ``call_function(layer, *args, **kwargs)`` makes each
    call of a functional model's clone (default ``layer(*args, **kwargs)``).
    ``recursive=True`` clones the models inside with ``clone_model`` too.
    """
    from glassnet.models.sequential import Sequential

    cache: dict[int, Layer] = {}
    clone = _wrapped(clone_function, call_function, recursive, cache)
    if isinstance(model, Sequential):
        if call_function is not None:
            raise ValueError(
                "`call_function` argument is not supported with Sequential "
                f"models. Received: call_function={call_function}"
            )
        new = _clone_sequential(model, clone, input_tensors)
    elif getattr(model, "_functional", False):
        new = _clone_functional(model, clone, input_tensors, call_function)
    else:
        if clone_function is not None or input_tensors is not None:
            raise ValueError(
                "Arguments `clone_function` and `input_tensors` are only "
                "supported for Sequential models or Functional models. Received "
                f"model of type '{type(model).__name__}'"
            )
        return type(model).from_config(model.get_config())
    if model.compiled:
        new.compile_from_config(model.get_compile_config())
    return new


def _wrapped(clone_function, call_function, recursive, cache) -> Callable:
    """``clone_function`` once per layer (a shared layer stays shared), and
    for models inside with ``recursive``, ``clone_model`` itself."""
    from glassnet.models.model import Model
    from glassnet.models.sequential import Sequential

    make = clone_function or _default_clone

    def clone(layer: Layer) -> Layer:
        if id(layer) not in cache:
            if (
                recursive
                and isinstance(layer, Model)
                and (isinstance(layer, Sequential) or layer._functional)
            ):
                cache[id(layer)] = clone_model(
                    layer,
                    clone_function=clone_function,
                    call_function=None
                    if isinstance(layer, Sequential)
                    else call_function,
                    recursive=True,
                )
            else:
                cache[id(layer)] = make(layer)
        return cache[id(layer)]

    return clone


def _clone_sequential(model: Any, clone: Callable, input_tensors: Any) -> Any:
    from glassnet.models.sequential import Sequential

    layers = [clone(layer) for layer in model.layers]
    first = model._input_layer
    if input_tensors is not None:
        if isinstance(input_tensors, (list, tuple)):
            if len(input_tensors) != 1:
                raise ValueError(
                    "Argument `input_tensors` must contain a single tensor."
                )
            input_tensors = input_tensors[0]
        if not isinstance(input_tensors, KerasTensor):
            raise ValueError(
                "Argument `input_tensors` must be a KerasTensor. Received invalid "
                f"value: input_tensors={input_tensors}"
            )
        layers.insert(0, input_tensors)
    elif isinstance(first, InputLayer):
        layers.insert(
            0, Input(batch_shape=first.batch_shape, dtype=first.dtype, name=first.name)
        )
    return Sequential(layers, name=model.name, trainable=model.trainable)


def _clone_functional(
    model: Any, clone: Callable, input_tensors: Any, call_function: Any
) -> Any:
    graph = model._graph
    if input_tensors is None:
        input_tensors = tree.map_structure(
            lambda t: Input(batch_shape=t.shape, dtype=t.dtype, name=t.name),
            graph.inputs_struct,
        )
    else:
        flat = tree.flatten(input_tensors)
        if not all(isinstance(t, KerasTensor) for t in flat):
            raise ValueError(
                "All entries in `input_tensors` must be KerasTensors. Received "
                f"invalid values: inputs_tensors={input_tensors}"
            )
        if len(flat) != len(graph.inputs):
            raise ValueError(
                "`input_tensors` must have the same structure as model.input\n"
                f"Reference structure: {graph.inputs_struct}\n"
                f"Received structure: {input_tensors}"
            )
    new = {id(t): n for t, n in zip(graph.inputs, tree.flatten(input_tensors))}

    def swap(value: Any) -> Any:
        return new[id(value)] if isinstance(value, KerasTensor) else value

    for node in graph.nodes:
        layer = clone(node.operation)
        args = [tree.map_structure(swap, a) for a in node.args]
        kwargs = {k: tree.map_structure(swap, v) for k, v in node.kwargs.items()}
        if call_function is None:
            outputs = layer(*args, **kwargs)
        else:
            outputs = call_function(layer, *args, **kwargs)
        for old, made in zip(node.outputs, tree.flatten(outputs)):
            new[id(old)] = made
    from glassnet.models.model import Model

    outputs = tree.map_structure(swap, graph.outputs_struct)
    cls = type(model) if type(model).__init__ is Model.__init__ else Model
    return cls(input_tensors, outputs, name=model.name)
