"""The graph of a functional model: which layer calls lie between its inputs
and outputs, in which order they run, and running them (Keras 3's
``Function`` / ``map_graph``).

Each symbolic tensor knows the layer call (:class:`~glassnet.layers.node.Node`)
that made it. :func:`map_graph` walks those calls back from the outputs
(depth first, with an explicit stack: no recursion limit on deep models),
gives every call a depth (its longest distance to an output) and orders the
layers as Keras does: deepest first, ties in the order the walk met them.
So ``model.layers``, ``model.weights`` and ``get_weights()`` list their
entries in Keras's order, and weights copied from a Keras model of the same
code land in the right layers.

:class:`FunctionalGraph` runs the calls deepest first on real tensors, each
through the layer's ordinary ``__call__`` (build checks, dtype casts, the
``training`` rules), keeping every intermediate result in a numbered slot.
A chain (one input, one output, each call reading the one before) runs as
the plain list of calls Sequential runs (:func:`~glassnet.layers.fusion.layer_calls`),
fused pairs included, so a chain costs what it cost before graphs existed.
"""

from __future__ import annotations

import collections
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from glassnet import ops, tree
from glassnet.autograd import Tensor
from glassnet.layers.base import Layer
from glassnet.layers.call_context import UNSET
from glassnet.layers.core import InputLayer
from glassnet.layers.fusion import layer_calls
from glassnet.layers.node import KerasTensor, Node, flatten_shapes


def node_key(layer: Layer, index: int) -> tuple[int, int]:
    """A node by its layer and place in the layer's ``_inbound_nodes``."""
    return id(layer), index


def _history(tensor: KerasTensor) -> tuple[Layer, int, int]:
    history = tensor._keras_history
    if history is None:
        raise ValueError(
            "A functional model's inputs and outputs must come from Input() and "
            f"layer calls on it. Received: {tensor!r} (made by no layer)"
        )
    return history


def build_map(
    inputs: list[KerasTensor], outputs: list[KerasTensor]
) -> tuple[list[Node], dict[int, int]]:
    """The nodes behind ``outputs`` from the inputs on (each after the nodes
    it reads: depth-first post-order), and each layer's place in the walk
    (pre-order, first visit): Keras's ``_build_map``, without recursion."""
    finished: set[int] = set()
    in_progress: set[int] = set()
    ordered: list[Node] = []
    indices: dict[int, int] = {}
    given = {id(t) for t in inputs}

    def enter(tensor: KerasTensor) -> Node | None:
        """The node to walk into for ``tensor``, or None if there is none."""
        layer, index, _ = _history(tensor)
        node = layer._inbound_nodes[index]
        if id(node) in finished:
            return None
        if not node.is_input and id(tensor) in given:
            finished.add(id(node))  # an input made by a layer: stop there
            return None
        if id(node) in in_progress:
            raise ValueError(
                f"Tensor {tensor!r} from layer {layer.name!r} is part of a cycle."
            )
        indices.setdefault(id(layer), len(indices))
        in_progress.add(id(node))
        return node

    for output in outputs:
        node = enter(output)
        if node is None:
            continue
        stack = [(node, iter(() if node.is_input else node.input_tensors))]
        while stack:
            node, parents = stack[-1]
            parent = next(parents, None)
            if parent is None:
                stack.pop()
                finished.add(id(node))
                in_progress.discard(id(node))
                ordered.append(node)
                continue
            child = enter(parent)
            if child is not None:
                stack.append(
                    (child, iter(() if child.is_input else child.input_tensors))
                )
    return ordered, indices


class GraphMap:
    """What :func:`map_graph` finds: the model's nodes (by :func:`node_key`),
    the nodes at each depth, and the layers in Keras's order."""

    def __init__(self, keys, nodes_by_depth, layers) -> None:
        self.keys: set[tuple[int, int]] = keys
        self.nodes_by_depth: dict[int, list[Node]] = nodes_by_depth
        self.layers: list[Layer] = layers


def map_graph(inputs: list[KerasTensor], outputs: list[KerasTensor]) -> GraphMap:
    """Check the graph from ``inputs`` to ``outputs`` and order it (Keras 3's
    ``map_graph``): ValueError if an output needs a tensor the inputs do not
    give ("Graph disconnected") or two layers share a name."""
    ordered, indices = build_map(inputs, outputs)
    keys = {node_key(n.operation, n.operation._inbound_nodes.index(n)) for n in ordered}
    in_graph = {id(n) for n in ordered}
    node_depth: dict[int, int] = {}
    layer_depth: dict[int, int] = {}
    layers_by_id: dict[int, Layer] = {}
    nodes: dict[int, Node] = {}
    for node in reversed(ordered):
        depth = node_depth.setdefault(id(node), 0)
        layer = node.operation
        # NOTE: a shared layer sits at the deepest of its calls' depths
        depth = max(depth, layer_depth.get(id(layer), 0))
        layer_depth[id(layer)] = node_depth[id(node)] = depth
        layers_by_id[id(layer)] = layer
        nodes[id(node)] = node
        for parent in node.parent_nodes:
            if id(parent) in in_graph:
                node_depth[id(parent)] = max(depth + 1, node_depth.get(id(parent), 0))
    for tensor in inputs:  # inputs no output uses are still the model's
        layer, index, _ = _history(tensor)
        node = layer._inbound_nodes[index]
        if id(layer) not in layer_depth and node.is_input:
            layer_depth[id(layer)] = 0
            indices[id(layer)] = -1
            layers_by_id[id(layer)] = layer
            node_depth[id(node)] = 0
            nodes[id(node)] = node
            keys.add(node_key(layer, index))

    nodes_by_depth: dict[int, list[Node]] = collections.defaultdict(list)
    for key, depth in node_depth.items():
        nodes_by_depth[depth].append(nodes[key])
    layers_at: dict[int, list[Layer]] = collections.defaultdict(list)
    for key, depth in layer_depth.items():
        layers_at[depth].append(layers_by_id[key])
    layers = []
    for depth in sorted(layers_at, reverse=True):
        layers += sorted(layers_at[depth], key=lambda x: indices[id(x)])

    computable = {id(t) for t in inputs}
    reached: list[str] = []
    for depth in sorted(nodes_by_depth, reverse=True):
        for node in nodes_by_depth[depth]:
            for tensor in node.input_tensors:
                if id(tensor) not in computable:
                    raise ValueError(
                        f"Graph disconnected: cannot find parent for tensor "
                        f"{tensor!r} at layer {node.operation.name!r}. The "
                        f"following previous layers were accessed without "
                        f"issue: {reached}"
                    )
            reached.append(node.operation.name)
            computable.update(id(t) for t in node.outputs)

    names = [layer.name for layer in layers]
    for name in names:
        if names.count(name) != 1:
            raise ValueError(
                f'The name "{name}" is used {names.count(name)} times in the model. '
                "All layer names should be unique."
            )
    return GraphMap(keys, dict(nodes_by_depth), layers)


def make_graph(inputs: Any, outputs: Any) -> FunctionalGraph:
    """The :class:`FunctionalGraph` of ``Model(inputs, outputs)``, after
    Keras's checks (every leaf a KerasTensor, none empty); inputs made by
    layers (not by ``Input``) get new Inputs (:func:`clone_graph_nodes`)."""
    if isinstance(inputs, dict):
        for key, value in inputs.items():
            if isinstance(value, KerasTensor) and key != value.name:
                warnings.warn(
                    "When providing `inputs` as a dict, all keys in the dict must "
                    "match the names of the corresponding tensors. Received key "
                    f"'{key}' mapping to value {value} which has name "
                    f"'{value.name}'. Change the tensor name to '{key}' (via "
                    f"`Input(..., name='{key}')`)",
                    stacklevel=4,
                )
    for what, given in (("inputs", inputs), ("outputs", outputs)):
        flat = tree.flatten(given)
        if not flat or given is None:
            raise ValueError(
                f"`{what}` argument cannot be empty. Received:\n"
                f"inputs={inputs}\noutputs={outputs}"
            )
        for x in flat:
            if not isinstance(x, KerasTensor):
                raise ValueError(
                    f"All `{what}` values must be KerasTensors. Received: "
                    f"{what}={given} including invalid value {x} of type {type(x)}"
                )
    if not all(is_input_tensor(t) for t in tree.flatten(inputs)):
        inputs, outputs = clone_graph_nodes(inputs, outputs)
    return FunctionalGraph(inputs, outputs)


def unpack_singleton(x: Any) -> Any:
    """A list or tuple of one as its element (Keras's model outputs)."""
    if isinstance(x, (list, tuple)) and len(x) == 1:
        return x[0]
    return x


def fit_rank(x: Any, expected: tuple) -> Any:
    """``x`` (a Tensor or array) with a last axis of 1 dropped or added when
    that gives the rank of ``expected`` (Keras's functional inputs)."""
    shape = np.shape(x.data if isinstance(x, Tensor) else x)
    if len(shape) == len(expected):
        return x
    if len(shape) == len(expected) + 1 and shape[-1] == 1:
        shape = shape[:-1]
    elif len(shape) + 1 == len(expected) and expected[-1] == 1:
        shape = (*shape, 1)
    else:
        return x
    return ops.reshape(x, shape) if isinstance(x, Tensor) else np.reshape(x, shape)


def is_input_tensor(tensor: KerasTensor) -> bool:
    layer, index, _ = _history(tensor)
    return layer._inbound_nodes[index].is_input


def clone_graph_nodes(inputs: Any, outputs: Any) -> tuple[Any, Any]:
    """New inputs and outputs for a model whose inputs include tensors made
    by layers (not by ``Input``), as Keras 3 makes them: each such tensor is
    replaced by a new ``Input`` of its shape (named ``<name>CLONE``), and
    each call between the inputs and outputs is recorded again on the new
    tensors (same layers, same weights)."""
    ordered, _ = build_map(tree.flatten(inputs), tree.flatten(outputs))
    new: dict[int, KerasTensor] = {}
    replaced_layers: dict[int, Layer] = {}
    cloned_inputs = []
    for tensor in tree.flatten(inputs):
        if is_input_tensor(tensor):
            new[id(tensor)] = tensor
        else:
            layer = tensor._keras_history[0]
            clone = InputLayer(
                batch_shape=tensor.shape,
                dtype=tensor.dtype,
                name=f"{tensor.name or layer.name}CLONE",
            )
            new[id(tensor)] = clone.output
            replaced_layers[id(layer)] = clone
        cloned_inputs.append(new[id(tensor)])

    def swap(value: Any) -> Any:
        if not isinstance(value, KerasTensor):
            return value
        if id(value) not in new:
            new[id(value)] = KerasTensor(value.shape, value.dtype)
        return new[id(value)]

    for node in ordered:
        if node.is_input or id(node.operation) in replaced_layers:
            continue
        outs = [swap(t) for t in node.outputs]
        args = tuple(tree.map_structure(swap, a) for a in node.args)
        kwargs = {k: tree.map_structure(swap, v) for k, v in node.kwargs.items()}
        Node(node.operation, args, kwargs, outs)
    return (
        tree.pack_sequence_as(inputs, cloned_inputs),
        tree.map_structure(swap, outputs),
    )


# --- running the graph ------------------------------------------------------------
class _Slot:
    """Where a node argument's value is found when the graph runs."""

    __slots__ = ("index",)

    def __init__(self, index: int) -> None:
        self.index = index


def _one_input_call(layer: Layer) -> Callable[[Any, Any], Any]:
    """``fn(x, training)``: Layer's one-input path, or the layer's own
    ``__call__`` (a model's) with ``training`` when it is given."""
    if type(layer).__call__ is Layer.__call__:
        return layer._call_input

    def call(x: Any, training: Any) -> Any:
        if training is UNSET:
            return layer(x)
        return layer(x, training=training)

    return call


def _step(node: Node, slots: dict[int, int]) -> Callable[[list, Any], None]:
    """The function that runs ``node`` on the slots' values and stores its
    outputs: ``step(values, training)``. ``training`` given to the model
    (not None) wins over a ``training`` recorded in the call, as in Keras."""
    layer = node.operation
    kwargs = dict(node.kwargs)
    recorded = kwargs.pop("training", UNSET)
    outs = [slots[id(t)] for t in node.outputs]
    args = node.args

    def template(value: Any) -> Any:
        return _Slot(slots[id(value)]) if isinstance(value, KerasTensor) else value

    if len(args) == 1 and not kwargs and len(outs) == 1:
        first, out = args[0], outs[0]
        if isinstance(first, KerasTensor):
            call, index = _one_input_call(layer), slots[id(first)]

            def one(values: list, training: Any) -> None:
                values[out] = call(
                    values[index], recorded if training is None else training
                )

            return one
        if type(first) is list and all(isinstance(t, KerasTensor) for t in first):
            indices = [slots[id(t)] for t in first]  # a merge layer's list

            def merge(values: list, training: Any) -> None:
                value = training if training is not None else recorded
                xs = [values[i] for i in indices]
                values[out] = layer(xs) if value is UNSET else layer(xs, training=value)

            return merge

    arg_template = tuple(tree.map_structure(template, a) for a in args)
    kw_template = {k: tree.map_structure(template, v) for k, v in kwargs.items()}

    def fill(values: list, value: Any) -> Any:
        if isinstance(value, _Slot):
            return values[value.index]
        return value

    def general(values: list, training: Any) -> None:
        a = [tree.map_structure(lambda v: fill(values, v), x) for x in arg_template]
        kw = {
            k: tree.map_structure(lambda v: fill(values, v), x)
            for k, x in kw_template.items()
        }
        value = training if training is not None else recorded
        if value is not UNSET:
            kw["training"] = value
        result = layer(*a, **kw)
        flat = [result] if len(outs) == 1 else tree.flatten(result)
        if len(flat) != len(outs):
            raise ValueError(
                f"Layer {layer.name!r} returned {len(flat)} tensors; when the "
                f"model was made it returned {len(outs)}."
            )
        for i, v in zip(outs, flat):
            values[i] = v

    return general


def _paths(structure: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """``(path, leaf)`` of each leaf, the path as Keras writes it
    (``"0"``, ``"scores.1"``; ``""`` for a lone leaf), in flatten's order."""
    if isinstance(structure, dict):
        items = [(k, structure[k]) for k in sorted(structure)]
    elif isinstance(structure, (list, tuple)):
        items = list(enumerate(structure))
    else:
        return [(prefix, structure)]
    return [
        pair
        for key, value in items
        for pair in _paths(value, f"{prefix}.{key}" if prefix else str(key))
    ]


class FunctionalGraph:
    """The graph of ``Model(inputs, outputs)``: its symbolic inputs and
    outputs (flat and as given), its nodes and layers (:func:`map_graph`),
    and how to run it on tensors (:meth:`run`)."""

    def __init__(self, inputs: Any, outputs: Any) -> None:
        self.inputs_struct = inputs
        self.outputs_struct = outputs
        self.inputs: list[KerasTensor] = tree.flatten(inputs)
        self.outputs: list[KerasTensor] = tree.flatten(outputs)
        found = map_graph(self.inputs, self.outputs)
        self.nodes_by_depth = found.nodes_by_depth
        self.layers = found.layers
        self.nodes = [
            node
            for depth in sorted(self.nodes_by_depth, reverse=True)
            for node in self.nodes_by_depth[depth]
            if not node.is_input
        ]
        #: several inputs or outputs, or any in a dict: calls and predict
        #: take and give structures
        self.structured = (
            len(self.inputs) > 1
            or len(self.outputs) > 1
            or isinstance(inputs, dict)
            or isinstance(outputs, dict)
        )
        self._check_connected()
        self.chain = self._chain()
        self.fuse = True
        self.fused: list[Callable] | None = None
        self._steps: list[Callable] | None = None
        self._slots: dict[int, int] = {}

    @property
    def keys(self) -> set[tuple[int, int]]:
        """The model's nodes by :func:`node_key`."""
        return {
            node_key(n.operation, n.operation._inbound_nodes.index(n))
            for nodes in self.nodes_by_depth.values()
            for n in nodes
        }

    def _check_connected(self) -> None:
        """Each output computable from the inputs alone (Keras's dry run)."""
        known = {id(t) for t in self.inputs}
        for node in self.nodes:
            if all(id(t) in known for t in node.input_tensors):
                known.update(id(t) for t in node.outputs)
        for path, tensor in _paths(self.outputs_struct):
            if id(tensor) not in known:
                raise ValueError(
                    f"Output with path `{path}` is not connected to `inputs`"
                )

    def __getstate__(self) -> dict[str, Any]:
        # NOTE: the prepared calls are closures, and the slots are keyed by
        # object ids: both are made again on the first run after a copy.
        state = dict(self.__dict__)
        state.update(fused=None, _steps=None, _slots={})
        return state

    def _chain(self) -> list[Layer] | None:
        """The layers, in call order, if the graph is one chain of one-input,
        one-output calls without extra arguments; else None."""
        if len(self.inputs) != 1 or len(self.outputs) != 1:
            return None
        x, chain = self.inputs[0], []
        for node in self.nodes:
            if (
                node.args != (x,)
                or node.kwargs
                or len(node.outputs) != 1
                or not isinstance(node.outputs[0], KerasTensor)
            ):
                return None
            chain.append(node.operation)
            x = node.outputs[0]
        return chain if x is self.outputs[0] else None

    def compile(self, fuse: bool) -> None:
        """Prepare the calls :meth:`run` makes (fused pairs in a chain when
        ``fuse``)."""
        self.fuse = fuse
        if self.chain is not None:
            self.fused = layer_calls(self.chain, fuse)
            return
        slots: dict[int, int] = {}
        for tensor in self.inputs:
            slots.setdefault(id(tensor), len(slots))
        for node in self.nodes:
            for tensor in node.outputs:
                slots.setdefault(id(tensor), len(slots))
        self._slots = slots
        self._steps = [_step(node, slots) for node in self.nodes]

    def run(self, inputs: list[Any], training: Any) -> Any:
        """The outputs (in the structure the model was given) for the flat
        list of input tensors."""
        if self._steps is None and self.fused is None:
            self.compile(self.fuse)
        if self.chain is not None:
            x = inputs[0]
            for fn in self.fused:
                x = fn(x, training)
            return x
        values: list[Any] = [None] * len(self._slots)
        slots = self._slots
        for tensor, value in zip(self.inputs, inputs):
            values[slots[id(tensor)]] = value
        for step in self._steps:
            step(values, training)
        flat = [values[slots[id(t)]] for t in self.outputs]
        return tree.pack_sequence_as(self.outputs_struct, flat)

    # --- what a model does with its graph --------------------------------------
    def flatten_inputs(self, inputs: Any, owner: str, as_tensor: Callable) -> list:
        """``inputs`` as a flat list of Tensors in the order of
        :attr:`inputs`, checked as Keras checks a functional model's inputs:
        one tensor for a model of ``[input]``, a dict by the inputs' names, a
        last axis of 1 added or dropped to fit (:func:`fit_rank`)."""
        if isinstance(inputs, dict) and not isinstance(self.inputs_struct, dict):
            names = [t.name for t in self.inputs]
            if not set(names) <= set(inputs):
                raise ValueError(self.structure_error(inputs))
            inputs = [inputs[name] for name in names]
        flat = tree.flatten(inputs)
        if len(flat) != len(self.inputs):
            raise ValueError(self.structure_error(inputs))
        for i, (x, ref) in enumerate(zip(flat, self.inputs)):
            if not isinstance(x, Tensor):
                x = as_tensor(np.asarray(x))
            x = flat[i] = fit_rank(x, ref.shape)
            shape, expected = x.data.shape, ref.shape
            if len(shape) != len(expected) or any(
                e is not None and s != e for s, e in zip(shape, expected)
            ):
                raise ValueError(
                    f'Input {i} of layer "{owner}" is incompatible with the layer: '
                    f"expected shape={(None, *expected[1:])}, found shape={shape}"
                )
        return flat

    def structure_error(self, inputs: Any) -> str:
        """Keras's message for inputs of another structure than the model's."""
        expected = tree.map_structure(lambda t: t.name, self.inputs_struct)
        received = tree.map_structure(
            lambda x: f"Tensor(shape={getattr(getattr(x, 'data', x), 'shape', ())})",
            inputs,
        )
        return (
            "The structure of `inputs` doesn't match the expected structure.\n"
            f"Expected: {expected}\nReceived: inputs={received}"
        )

    def compute_output_shape(self, input_shapes: Any) -> Any:
        """The outputs' shapes (in the outputs' structure) for inputs of
        ``input_shapes`` (one shape, or a structure of them): the symbolic
        outputs' own when the inputs' match, else through each layer."""
        shapes = flatten_shapes(input_shapes)
        if len(shapes) != len(self.inputs):
            raise ValueError(self.structure_error(input_shapes))
        if all(tuple(s[1:]) == t.shape[1:] for s, t in zip(shapes, self.inputs)):
            outs = [t.shape for t in self.outputs]
        else:
            outs = self.output_shapes(shapes)
        outs = [(shapes[0][0], *o[1:]) if o else o for o in outs]
        return tree.pack_sequence_as(self.outputs_struct, outs)

    def output_shapes(self, input_shapes: list[Any]) -> list[Any]:
        """The outputs' shapes for inputs of ``input_shapes`` (flat), from
        each layer's ``compute_output_shape`` in turn."""
        known = {id(t): s for t, s in zip(self.inputs, input_shapes)}

        def shape(value: Any) -> Any:
            return known[id(value)] if isinstance(value, KerasTensor) else value

        for node in self.nodes:
            first = tree.map_structure(shape, node.args[0])
            flat = flatten_shapes(node.operation.compute_output_shape(first))
            for tensor, s in zip(node.outputs, flat):
                known[id(tensor)] = tuple(s)
        return [known[id(t)] for t in self.outputs]
