"""Keras 3's HDF5 layout of a model's variables, written and read back checked.

Each layer's variables are the datasets ``0``, ``1``, ... of a group
``layers/<name>/vars`` (``<name>`` from the layer's *class*, ``dense``,
``dense_1``, ...: weights are matched by the model's structure, not by layer
names), trainable ones first; a nested model's under ``layers/<name>/layers``;
the optimizer's under ``optimizer/vars``: the iteration count, the learning
rate, then its slots (Adam's moments) in Keras's order.

An HDF5 file is a small file system, and a hostile one can point outside
itself (external links and storage), hide a huge dataset behind a few bytes
(compression filters, which HDF5 may also load as plug-ins), or use types
that are not numbers. Reading therefore walks only the paths the model
expects, through hard links, accepts only contiguous, unfiltered datasets of
plain IEEE float or integer types whose shape and dtype the model predicts,
and takes their bytes straight from the file image after checking that they
lie inside it: HDF5 parses the file's metadata, never reads its data.
"""

from __future__ import annotations

import io
import math
import warnings
from collections.abc import Iterator
from typing import Any

import h5py
import numpy as np

from glassnet.layers.base import Layer, assign_weights, to_snake_case
from glassnet.layers.serialization import keras_class_name
from glassnet.optimizers import Adam, Optimizer
from glassnet.saving.errors import FileFormatError

_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_TYPES = [
    getattr(h5py.h5t, f"{kind}{bits}{order}")
    for kind, sizes in (("IEEE_F", (16, 32, 64)), ("STD_I", (8, 16, 32, 64)))
    for bits in sizes
    for order in ("LE", "BE")
] + [
    getattr(h5py.h5t, f"STD_U{bits}{order}")
    for bits in (8, 16, 32, 64)
    for order in ("LE", "BE")
]


# --- which variables go where --------------------------------------------------------
def keras_variables(layer: Layer) -> list[Any]:
    """A layer's weights in Keras's order: those created trainable, then the
    others (each in creation order, whatever ``layer.trainable`` says now:
    ``layer.weights`` keeps that order, freezing only clears requires_grad)."""
    return layer.weights


def layer_groups(model: Any, path: str = "") -> Iterator[tuple[str, str, list[Any]]]:
    """``(path, name, variables)`` for the model and each layer, nested models
    included, in Keras's order and with Keras's group names."""
    from glassnet.models import Model

    yield path, model.name, []
    used: dict[str, int] = {}
    for layer in model.layers:
        key = to_snake_case(keras_class_name(layer))
        used[key] = used.get(key, -1) + 1
        child = f"{path}/layers/{key}" if path else f"layers/{key}"
        if used[key]:
            child += f"_{used[key]}"
        if isinstance(layer, Model):
            yield from layer_groups(layer, child)
        elif hasattr(layer, "forward_layer"):  # Bidirectional
            yield child, layer.name, []
            for side in ("forward_layer", "backward_layer"):
                yield from _layer_group(getattr(layer, side), f"{child}/{side}")
        else:
            yield from _layer_group(layer, child)


def _layer_group(layer: Layer, path: str) -> Iterator[tuple[str, str, list[Any]]]:
    """A layer's group (a recurrent layer's variables in its ``cell``)."""
    if getattr(layer, "weights_in_cell", False):  # SimpleRNN, LSTM, GRU
        key = to_snake_case(keras_class_name(layer))
        yield path, layer.name, []
        yield f"{path}/cell", f"{key}_cell", keras_variables(layer)
    else:
        yield path, layer.name, keras_variables(layer)


def _slot_groups(optimizer: Optimizer, slots: int) -> list[list[int]]:
    """Keras's order of an optimizer's slots: Adam interleaves its moments m
    and v variable by variable (then v_hat); the others list each slot for all
    variables in turn."""
    together = 2 if isinstance(optimizer, Adam) else 1
    first = list(range(min(together, slots)))
    return ([first] if first else []) + [[k] for k in range(together, slots)]


def optimizer_values(optimizer: Optimizer, variables: list[Any]) -> list[np.ndarray]:
    """The optimizer's state as Keras saves it: iterations, learning rate (a
    number; absent for a schedule), then every slot of every variable."""
    values = [np.asarray(optimizer.iterations, dtype=np.int64)]
    if not callable(optimizer.learning_rate):
        values.append(np.asarray(optimizer.learning_rate, dtype=np.float32))
    if optimizer.built and variables:
        slots = [optimizer.slots(v) for v in variables]
        for group in _slot_groups(optimizer, len(slots[0])):
            values += [state[k] for state in slots for k in group]
    return values


# --- writing -------------------------------------------------------------------------
def write_weights(model: Any, optimizer: Optimizer | None) -> bytes:
    """The HDF5 image of the model's variables (and the optimizer's)."""
    groups = [
        (path, name, [w.data for w in ws]) for path, name, ws in layer_groups(model)
    ]
    if optimizer is not None:
        values = optimizer_values(optimizer, model.trainable_weights)
        groups.append(("optimizer", optimizer.name, values))
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as file:
        for path, name, arrays in groups:
            group = file.create_group(f"{path}/vars" if path else "vars")
            group.attrs["name"] = name
            for i, array in enumerate(arrays):
                group.create_dataset(str(i), data=np.asarray(array))
    return buffer.getvalue()


# --- reading -------------------------------------------------------------------------
class WeightsFile:
    """An HDF5 image of Keras-layout variables, read only through checks."""

    def __init__(self, data: bytes, source: str) -> None:
        self.source = source
        if not data.startswith(_SIGNATURE):
            raise FileFormatError(f"{source} is not an HDF5 file.")
        self._data = data
        self._file = h5py.File(io.BytesIO(data), "r")

    def close(self) -> None:
        self._file.close()

    def _group(self, path: str) -> h5py.Group | None:
        """The group at ``path``, reached through hard links only; None if
        absent."""
        node = self._file
        for part in path.split("/"):
            link = node.get(part, getlink=True)
            if link is None:
                return None
            if not isinstance(link, h5py.HardLink):
                raise FileFormatError(
                    f"{self.source}: {path!r} goes through a {type(link).__name__}; "
                    "weights files hold plain groups and datasets only."
                )
            node = node[part]
            if not isinstance(node, h5py.Group):
                raise FileFormatError(f"{self.source}: {path!r} is not a group.")
        return node

    def count(self, path: str) -> int | None:
        """How many variables ``path``'s ``vars`` group holds (None: no group)."""
        group = self._group(f"{path}/vars" if path else "vars")
        return None if group is None else len(group)

    def read(self, path: str, expected: list[tuple[tuple, Any]]) -> list[np.ndarray]:
        """The variables at ``path``, each checked against its ``(shape,
        dtype)`` (a dtype kind such as ``"i"`` accepts any size)."""
        where = f"{self.source}: {path or 'the model'}"
        group = self._group(f"{path}/vars" if path else "vars")
        found = 0 if group is None else len(group)
        if found != len(expected):
            raise FileFormatError(
                f"{where} has {found} variables in the file; the model expects "
                f"{len(expected)}."
            )
        names = [str(i) for i in range(len(expected))]
        if group is not None and sorted(group.keys()) != sorted(names):
            raise FileFormatError(
                f"{where}: the variables should be named {names}; the file has "
                f"{sorted(group.keys())[:10]}."
            )
        return [
            self._dataset(group, name, shape, dtype, f"{where}, variable {name}")
            for name, (shape, dtype) in zip(names, expected)
        ]

    def _dataset(self, group, name, shape, dtype, where) -> np.ndarray:
        link = group.get(name, getlink=True)
        if not isinstance(link, h5py.HardLink):
            raise FileFormatError(f"{where}: a {type(link).__name__}, not a dataset.")
        dataset = group[name]
        if not isinstance(dataset, h5py.Dataset):
            raise FileFormatError(
                f"{where}: a {type(dataset).__name__}, not a dataset."
            )
        plist = dataset.id.get_create_plist()
        if plist.get_layout() != h5py.h5d.CONTIGUOUS or plist.get_nfilters():
            raise FileFormatError(
                f"{where}: only contiguous datasets without filters are read "
                "(as Keras writes them)."
            )
        if plist.get_external_count() or dataset.is_virtual:
            raise FileFormatError(f"{where}: data stored outside the file.")
        htype = dataset.id.get_type()
        if not any(htype.equal(t) for t in _TYPES):
            raise FileFormatError(
                f"{where}: the data type is not a plain IEEE float or integer."
            )
        found = np.dtype(dataset.dtype)
        if tuple(dataset.shape) != tuple(shape) or not _dtype_matches(found, dtype):
            raise FileFormatError(
                f"{where}: shape {tuple(dataset.shape)} and dtype {found.name} in "
                f"the file; the model expects shape {tuple(shape)} and dtype "
                f"{dtype if isinstance(dtype, str) else np.dtype(dtype).name}."
            )
        return self._raw(dataset, found, where)

    def _raw(self, dataset: h5py.Dataset, dtype: np.dtype, where: str) -> np.ndarray:
        """The dataset's bytes, straight from the file image."""
        size = math.prod(dataset.shape) * dtype.itemsize
        if size == 0:
            return np.zeros(dataset.shape, dtype.newbyteorder("="))
        offset = dataset.id.get_offset()
        stored = dataset.id.get_storage_size()
        if offset is None or stored != size or offset + size > len(self._data):
            raise FileFormatError(
                f"{where}: the data ({size} bytes) is not stored inside the file "
                f"(offset {offset}, {stored} bytes stored, file of "
                f"{len(self._data)} bytes)."
            )
        array = np.frombuffer(self._data, dtype, math.prod(dataset.shape), offset)
        return array.reshape(dataset.shape).astype(dtype.newbyteorder("="))


def _dtype_matches(found: np.dtype, expected: Any) -> bool:
    if isinstance(expected, str) and len(expected) == 1:
        return found.kind == expected
    return found.newbyteorder("=") == np.dtype(expected)


def read_model_weights(
    model: Any, weights: WeightsFile, skip_mismatch: bool = False
) -> list[tuple[list[Any], list[np.ndarray]]]:
    """The arrays for every layer's variables, all checked before any is
    used: ``[(variables, arrays), ...]`` for :func:`assign_all`. With
    ``skip_mismatch`` a layer that does not match is left out, with a warning."""
    plan = []
    for path, _, variables in layer_groups(model):
        expected = [(w.data.shape, w.data.dtype) for w in variables]
        if not variables and not weights.count(path):
            continue
        try:
            plan.append((variables, weights.read(path, expected)))
        except FileFormatError as error:
            if not skip_mismatch:
                raise
            warnings.warn(f"Skipping {path}: {error}", stacklevel=3)
    return plan


def assign_all(plan: list[tuple[list[Any], list[np.ndarray]]]) -> None:
    for variables, arrays in plan:
        assign_weights(variables, arrays, "The weights file")


def read_optimizer(
    optimizer: Optimizer, variables: list[Any], weights: WeightsFile, strict=True
) -> Any:
    """Check the optimizer state in the file against ``optimizer`` and
    ``variables``; returns a function that puts it in place (None: no state).

    A file may hold the full state, or only the iteration count and learning
    rate (an optimizer that never stepped, as Keras writes it). Another
    number of variables (the state of another kind of optimizer) raises, or
    with ``strict=False`` is skipped with a warning, as Keras's
    ``load_weights`` does; damaged state raises either way.
    """
    count = weights.count("optimizer")
    if count is None:
        return None
    schedule = callable(optimizer.learning_rate)
    head = [((), "i")] + ([] if schedule else [((), "f")])
    groups = _slot_groups(optimizer, optimizer.slots_per_variable if variables else 0)
    slots = [
        (v.data.shape, v.data.dtype)
        for group in groups
        for v in variables
        for _ in group
    ]
    if count not in (len(head), len(head) + len(slots)):
        message = (
            f"{weights.source}: the optimizer has {count} variables in the file; "
            f"a {type(optimizer).__name__} of this model has {len(head)} (before "
            f"its first step) or {len(head) + len(slots)}."
        )
        if strict:
            raise FileFormatError(message)
        warnings.warn(f"The optimizer state was not loaded: {message}", stacklevel=3)
        return None
    values = weights.read("optimizer", head + slots[: count - len(head)])
    iterations = int(values[0])
    if not 0 <= iterations < 1 << 62:
        raise FileFormatError(
            f"{weights.source}: the optimizer's iteration count is {iterations}."
        )

    def restore() -> None:
        optimizer.iterations = iterations
        rate = None if schedule else float(values[1])
        # NOTE: the file's learning rate is float32; the config's is exact.
        if rate is not None and np.float32(optimizer.learning_rate) != rate:
            optimizer.learning_rate = rate
        if count > len(head):
            optimizer.build(variables)
            arrays = iter(values[len(head) :])
            states = [optimizer.slots(v) for v in variables]
            for group in groups:
                for state in states:
                    for k in group:
                        state[k][...] = next(arrays)

    return restore
