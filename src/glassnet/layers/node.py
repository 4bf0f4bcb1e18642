"""Symbolic tensors and the layer calls that connect them (Keras 3's
``KerasTensor``, ``Node`` and ``KerasHistory``).

Calling a layer on a :class:`KerasTensor` (or on a list, tuple or dict that
holds some) runs no math: the layer is built for the shapes, its output shapes
come from ``compute_output_shape`` (or, for a user's ``call`` without one,
from running it once on zeros), and a :class:`Node` records the call: the
layer, the arguments as given (KerasTensors in their places, ``training`` if
it was passed) and the output KerasTensors. Each output knows its node
through ``_keras_history = (layer, node_index, tensor_index)``, and each
layer keeps its nodes in ``_inbound_nodes``, one per call, so a layer called
twice (a shared layer) has two nodes and one set of weights.

Following the histories back from a model's outputs finds every layer call
between its inputs and outputs: :mod:`glassnet.models.functional` does that
and runs the calls in order on real tensors.
"""

from __future__ import annotations

import collections
from typing import Any

import numpy as np

from glassnet import tree
from glassnet.autograd import Tensor, no_grad
from glassnet.layers.call_context import CONTEXT, UNSET

KerasHistory = collections.namedtuple(
    "KerasHistory", ["operation", "node_index", "tensor_index"]
)


def _unsupported(self: Any, *_: Any, **__: Any) -> Any:
    raise TypeError(
        "glassnet does not compute with symbolic tensors: a KerasTensor only "
        "says what a layer will receive. Use a layer for the operation "
        "(layers.Add(), layers.Multiply(), layers.Lambda(fn), ...). "
        f"Received: {self!r}"
    )


class KerasTensor:
    """A symbolic tensor: a shape (batch axis ``None``), a dtype, a name, and
    in ``_keras_history`` the layer call that makes it.

    ``Input(shape)`` makes one; calling a layer on KerasTensors gives the
    KerasTensors of its outputs, and ``Model(inputs, outputs)`` the graph
    between them.
    """

    def __init__(self, shape: Any, dtype: Any = "float32", name: Any = None) -> None:
        self.shape = tuple(None if d is None else int(d) for d in shape)
        self.dtype = np.dtype(dtype).name
        self.name = name
        self._keras_history: KerasHistory | None = None

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self) -> str:
        name = f", name={self.name}" if self.name else ""
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}{name}>"

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _unsupported
    __truediv__ = __rtruediv__ = __matmul__ = __rmatmul__ = __pow__ = _unsupported
    __neg__ = __getitem__ = __array__ = _unsupported

    def __bool__(self) -> bool:
        _unsupported(self)
        return True  # pragma: no cover


def is_keras_tensor(value: Any) -> bool:
    return isinstance(value, KerasTensor)


def has_keras_tensors(value: Any) -> bool:
    """Whether ``value`` is a KerasTensor or a list, tuple or dict holding one."""
    if isinstance(value, (list, tuple)):
        for item in value:
            # NOTE: a list of Tensors (a merge layer's inputs) is the common case
            if type(item) is not Tensor and has_keras_tensors(item):
                return True
        return False
    if isinstance(value, dict):
        return any(has_keras_tensors(v) for v in value.values())
    return isinstance(value, KerasTensor)


class Node:
    """One call of a layer on symbolic tensors: ``layer(*args, **kwargs) ->
    outputs``. Made by the call; it appends itself to the layer's
    ``_inbound_nodes`` and tells each output where it comes from.

    ``input_tensors`` are the KerasTensors among the arguments (in Keras's
    order: the positional arguments, then the keywords by sorted name);
    a node without any is an input (an ``InputLayer``'s).
    """

    def __init__(
        self,
        operation: Any,
        args: tuple = (),
        kwargs: dict | None = None,
        outputs: Any = (),
    ) -> None:
        self.operation = operation
        self.args = tuple(args)
        self.kwargs = dict(kwargs or {})
        leaves = tree.flatten([list(self.args), self.kwargs])
        self.input_tensors = [t for t in leaves if isinstance(t, KerasTensor)]
        self.outputs = tree.flatten(outputs)
        self.is_input = not self.input_tensors
        if not operation._inbound_nodes:
            # NOTE: made on the first call, not in Layer.__init__, so a layer
            # that is never called symbolically carries no list.
            object.__setattr__(operation, "_inbound_nodes", [])
        operation._inbound_nodes.append(self)
        index = len(operation._inbound_nodes) - 1
        for i, tensor in enumerate(self.outputs):
            tensor._keras_history = KerasHistory(operation, index, i)

    @property
    def output_tensors(self) -> list[KerasTensor]:
        return self.outputs

    @property
    def parent_nodes(self) -> list[Node]:
        """The nodes whose outputs this node reads."""
        parents = []
        for tensor in self.input_tensors:
            history = tensor._keras_history
            if history is not None:
                parents.append(history.operation._inbound_nodes[history.node_index])
        return parents

    def __repr__(self) -> str:
        return f"<Node operation={self.operation.name}, id={id(self)}>"


# --- calling a layer on symbolic tensors ----------------------------------------------
def _shape_of(value: Any) -> Any:
    if isinstance(value, KerasTensor):
        return value.shape
    if value is None:
        return None
    raise ValueError(
        "A layer called on symbolic tensors takes symbolic tensors only (mix "
        "no arrays in): make constants a layer's weights, or an Input. "
        f"Received: {value!r}"
    )


def symbolic_call(layer: Any, args: tuple, kwargs: dict, training: Any) -> Any:
    """``layer(*args, **kwargs)`` on KerasTensors: the layer built for the
    inputs' shapes, a :class:`Node` recorded, the output KerasTensors
    returned (a structure of them for a layer with several outputs)."""
    shapes = tree.map_structure(_shape_of, args[0])
    layer.build_for(shapes)
    outputs = _outputs(layer, args, kwargs, shapes)
    if training is not UNSET:
        kwargs = {**kwargs, "training": training}
    Node(layer, args, kwargs, outputs)
    return outputs


def _outputs(layer: Any, args: tuple, kwargs: dict, shapes: Any) -> Any:
    """The output KerasTensors: shapes from ``compute_output_shape`` (dtypes
    the layer's, or what ``_output_dtypes`` says), or for a user's ``call``
    without its own ``compute_output_shape``, from running it on zeros."""
    if layer._user_call and getattr(type(layer).compute_output_shape, "_probes", False):
        return _probe_outputs(layer, args, kwargs)
    out = layer.compute_output_shape(shapes)
    if _single_shape(out):
        dtype = getattr(layer, "_output_dtypes", None)
        return KerasTensor(out, dtype if isinstance(dtype, str) else layer.dtype)
    flat = flatten_shapes(out)
    dtypes = getattr(layer, "_output_dtypes", None)
    if not (isinstance(dtypes, list) and len(dtypes) == len(flat)):
        dtypes = [layer.dtype] * len(flat)
    return pack_shapes(out, [KerasTensor(s, d) for s, d in zip(flat, dtypes)])


def _single_shape(shape: Any) -> bool:
    return tree.is_shape(shape)


def flatten_shapes(structure: Any) -> list[Any]:
    if _single_shape(structure):
        return [structure]
    if not isinstance(structure, (list, tuple, dict)):
        raise ValueError(f"Not a shape nor a structure of shapes: {structure!r}")
    items = (
        [structure[k] for k in tree._keys(structure)]
        if isinstance(structure, dict)
        else structure
    )
    return [s for item in items for s in flatten_shapes(item)]


def pack_shapes(structure: Any, flat: list[Any]) -> Any:
    """``flat`` (in :func:`flatten_shapes`'s order) in ``structure``'s layout."""
    leaves = iter(flat)

    def pack(template: Any) -> Any:
        if _single_shape(template):
            return next(leaves)
        if isinstance(template, dict):
            packed = {key: pack(template[key]) for key in tree._keys(template)}
            return {key: packed[key] for key in template}
        return type(template)(pack(value) for value in template)

    return pack(structure)


def _probe_outputs(layer: Any, args: tuple, kwargs: dict) -> Any:
    """Run ``layer.call`` once on zeros in place of every KerasTensor (batch
    1, unknown axes 1), on its own and without gradients; KerasTensors of
    the outputs' shapes (batch ``None``) and dtypes."""

    def zeros(value: Any) -> Any:
        if not isinstance(value, KerasTensor):
            return value
        dims = tuple(1 if d is None else d for d in value.shape)
        return Tensor(np.zeros(dims, value.dtype))

    concrete = [tree.map_structure(zeros, a) for a in args]
    kw = {key: tree.map_structure(zeros, v) for key, v in kwargs.items()}
    state = CONTEXT.state
    outer = state.entry, state.training
    state.entry = state.training = None
    try:
        with no_grad():
            outputs = layer._run(concrete[0], tuple(concrete[1:]), kw, UNSET)
    finally:
        state.entry, state.training = outer
        layer._clear_losses()

    def symbolic(value: Any) -> KerasTensor:
        if not isinstance(value, Tensor):
            raise ValueError(
                f"Layer {layer.name!r} returned a {type(value).__name__} from "
                "call on symbolic inputs; a layer in a functional model returns "
                "tensors (or lists, tuples and dicts of them)."
            )
        shape = value.data.shape
        return KerasTensor((None, *shape[1:]) if shape else shape, value.data.dtype)

    return tree.map_structure(symbolic, outputs)
