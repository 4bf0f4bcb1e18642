"""Building an ONNX graph node by node: named values, constants, the layout.

glassnet's images are channels-last (``(batch, height, width, channels)``);
ONNX's Conv and pooling nodes want channels-first. A :class:`Value` carries
the shape glassnet sees and whether the tensor behind it is stored
channels-first; converters ask :meth:`GraphBuilder.channels_first` or
:meth:`GraphBuilder.channels_last` for the layout they need, and a Transpose
is added only where the layout changes (a chain of convolutions and pooling
transposes once at each end), and once per value however many branches read
it.

A shared layer runs its converter once per call; its weights still become one
initializer each, because :meth:`GraphBuilder.constant` keeps one initializer
per distinct array.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

#: The opset every exported graph is written for.
OPSET = 18


def require_onnx() -> Any:
    """The ``onnx`` module, or an ImportError that says how to install it."""
    try:
        import onnx
    except ImportError as error:
        raise ImportError(
            "Exporting to ONNX needs the `onnx` package: pip install glassnet[onnx]"
        ) from error
    return onnx


class ExportError(ValueError):
    """The model (or estimator) has a part ONNX export cannot express."""


@dataclass(frozen=True)
class Value:
    """A tensor of the graph: its ``name``, the ``shape`` glassnet gives it
    (``None`` for the batch), whether it is stored channels-first, and its
    ``dtype`` (float32, but for model inputs of another dtype)."""

    name: str
    shape: tuple
    channels_first: bool = False
    dtype: str = "float32"

    @property
    def rank(self) -> int:
        return len(self.shape)

    def to_storage(self, axes: list[int]) -> list[int]:
        """glassnet's axis numbers -> those of the stored tensor."""
        if not self.channels_first:
            return list(axes)
        last = self.rank - 1
        return [1 if a == last else a + 1 if a >= 1 else a for a in axes]

    def stored(self, array: np.ndarray) -> np.ndarray:
        """A constant broadcastable in glassnet's layout, laid out like this value."""
        if not self.channels_first or array.ndim != self.rank:
            return array
        return np.moveaxis(array, -1, 1)


def _permutation(rank: int, to_first: bool) -> list[int]:
    if to_first:
        return [0, rank - 1, *range(1, rank - 1)]
    return [0, *range(2, rank), 1]


class GraphBuilder:
    """Nodes, constants and unique names of one graph (float32 values)."""

    def __init__(self) -> None:
        self.onnx = require_onnx()
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._used: dict[str, int] = {}
        self._constants: dict[tuple, str] = {}  # the arrays' digests -> names
        self._layouts: dict[tuple[str, bool], Value] = {}  # transposes made

    def name(self, hint: str) -> str:
        """``hint``, or ``hint_1``, ``hint_2``, ...: a name not used yet."""
        name, count = hint, self._used.get(hint, 0)
        while name in self._used:
            count += 1
            name = f"{hint}_{count}"
        self._used[hint] = count
        self._used.setdefault(name, 0)
        return name

    def reserve(self, *names: str) -> None:
        """Keep ``names`` (the graph's inputs and outputs) from the values."""
        for name in names:
            self._used.setdefault(name, 0)

    def constant(self, array: Any, hint: str) -> str:
        """An initializer holding ``array`` (dtype kept: cast before); an
        array equal to one given before (a shared layer's weights, called
        twice) gets that initializer's name instead of a copy."""
        array = np.asarray(array)
        key = None
        if array.dtype.kind not in "UO":
            digest = hashlib.sha256(np.ascontiguousarray(array).tobytes()).digest()
            key = (array.dtype.str, array.shape, digest)
            if key in self._constants:
                return self._constants[key]
        name = self.name(hint)
        if key is not None:
            self._constants[key] = name
        numpy_helper = self.onnx.numpy_helper
        if array.dtype.kind in "UO":
            tensor = self.onnx.helper.make_tensor(
                name,
                self.onnx.TensorProto.STRING,
                array.shape,
                [str(v).encode() for v in array.ravel()],
            )
        else:
            tensor = numpy_helper.from_array(np.ascontiguousarray(array), name)
        self.initializers.append(tensor)
        return name

    def node(self, op: str, inputs: list[str], hint: str, **attributes: Any) -> str:
        """Add one node of ``op`` with one output; returns the output's name."""
        output = self.name(hint)
        node = self.onnx.helper.make_node(
            op, inputs, [output], name=self.name(f"{hint}/{op}"), **attributes
        )
        self.nodes.append(node)
        return output

    def apply(self, x: Value, op: str, *constants: Any, **attributes: Any) -> Value:
        """An elementwise ``op`` of ``x`` and ``constants``: same shape, layout."""
        hint = attributes.pop("hint", x.name)
        arrays = (np.ndarray, np.generic)
        names = [
            self.constant(c, f"{hint}/c") if isinstance(c, arrays) else c
            for c in constants
        ]
        return replace(x, name=self.node(op, [x.name, *names], hint, **attributes))

    def rename(self, old: str, new: str) -> None:
        """Call the value ``old`` (a node's output) ``new`` everywhere."""
        for node in self.nodes:
            for names in (node.input, node.output):
                for i, name in enumerate(names):
                    if name == old:
                        names[i] = new

    def as_float(self, x: Value) -> Value:
        """``x`` cast to float32 unless it is (a layer casts its inputs to
        its own dtype, as glassnet's do: int32 token ids, a float64 Input)."""
        if x.dtype == "float32":
            return x
        to = self.onnx.TensorProto.FLOAT
        y = self.node("Cast", [x.name], f"{x.name}/float32", to=to)
        return replace(x, name=y, dtype="float32")

    def elem_type(self, dtype: Any) -> int:
        """The ONNX element type of a NumPy ``dtype``."""
        return self.onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))

    # --- layouts --------------------------------------------------------------
    def channels_first(self, x: Value) -> Value:
        if x.channels_first or x.rank < 3:
            return x
        return self._transpose(x, to_first=True)

    def channels_last(self, x: Value) -> Value:
        if not x.channels_first:
            return x
        return self._transpose(x, to_first=False)

    def _transpose(self, x: Value, to_first: bool) -> Value:
        """``x`` in the other layout: one Transpose per value, however many
        branches ask for it."""
        key = (x.name, to_first)
        if key not in self._layouts:
            perm = _permutation(x.rank, to_first)
            hint = f"{x.name}/nc" if to_first else f"{x.name}/nhwc"
            name = self.node("Transpose", [x.name], hint, perm=perm)
            self._layouts[key] = replace(x, name=name, channels_first=to_first)
        return self._layouts[key]

    # --- the model ------------------------------------------------------------
    def value_info(self, name: str, shape: tuple, elem_type: Any = None) -> Any:
        """A graph input's or output's type: ``elem_type`` (float32 if None),
        ``shape`` with the batch axis named ``"batch"``."""
        onnx = self.onnx
        dims = ["batch" if i == 0 else d for i, d in enumerate(shape)]
        elem_type = onnx.TensorProto.FLOAT if elem_type is None else elem_type
        return onnx.helper.make_tensor_value_info(name, elem_type, dims)

    def model(
        self,
        inputs: list[Any],
        outputs: list[Any],
        graph_name: str,
        opset: int = OPSET,
        doc: str = "",
    ) -> Any:
        """The checked ``ModelProto`` of the nodes added so far."""
        onnx = self.onnx
        graph = onnx.helper.make_graph(
            self.nodes, graph_name, inputs, outputs, self.initializers, doc_string=doc
        )
        opsets = [onnx.helper.make_opsetid("", opset)]
        model = onnx.helper.make_model(
            graph, opset_imports=opsets, producer_name="glassnet"
        )
        model.ir_version = onnx.helper.find_min_ir_version_for(opsets)
        from glassnet import __version__

        model.producer_version = __version__
        onnx.checker.check_model(model, full_check=True)
        return model
