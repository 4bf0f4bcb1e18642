"""Nested structures of tensors and shapes (Keras 3's ``keras.tree``, the part
layers need): a *structure* is a leaf, or a list, tuple or dict of structures.

Layers take and return structures (a list of two inputs, a dict of outputs),
and ``build`` gets the same structure of shapes. A shape is itself a tuple, so
:func:`map_shape_structure` treats a tuple or list of ints (and ``None``) as
one leaf. As in Keras, :func:`flatten` lists a dict's values in the order of
its sorted keys; :func:`map_structure` keeps the dict as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = [
    "flatten",
    "is_nested",
    "is_shape",
    "map_shape_structure",
    "map_structure",
    "pack_sequence_as",
]


def is_nested(structure: Any) -> bool:
    """Whether ``structure`` is a list, tuple or dict (not a leaf)."""
    return isinstance(structure, (list, tuple, dict))


def _keys(structure: dict) -> list[Any]:
    try:
        return sorted(structure)
    except TypeError:  # keys of several types: their own order
        return list(structure)


def _children(structure: Any) -> list[Any]:
    if isinstance(structure, dict):
        return [structure[key] for key in _keys(structure)]
    return list(structure)


def flatten(structure: Any) -> list[Any]:
    """The leaves of ``structure``, depth first (a dict's in sorted-key order)."""
    if not is_nested(structure):
        return [structure]
    leaves: list[Any] = []
    for child in _children(structure):
        leaves.extend(flatten(child))
    return leaves


def _rebuild(template: Any, values: list[Any]) -> Any:
    if isinstance(template, dict):
        pairs = zip(template, values)
        return type(template)(pairs) if type(template) is not dict else dict(pairs)
    if isinstance(template, tuple) and hasattr(template, "_fields"):  # namedtuple
        return type(template)(*values)
    return type(template)(values)


def map_structure(fn: Callable[..., Any], *structures: Any) -> Any:
    """``fn`` applied to the leaves of ``structures`` (which have the same
    layout), in a structure of that layout."""
    first = structures[0]
    if not is_nested(first):
        return fn(*structures)
    for other in structures[1:]:
        if not is_nested(other) or len(other) != len(first):
            raise ValueError(
                "The structures do not have the same layout. Received: "
                f"{first!r} and {other!r}"
            )
    if isinstance(first, dict):
        keys = list(first)
        values = [map_structure(fn, *(s[key] for s in structures)) for key in keys]
        return _rebuild(first, values)
    values = [map_structure(fn, *items) for items in zip(*structures)]
    return _rebuild(first, values)


def pack_sequence_as(structure: Any, flat: list[Any]) -> Any:
    """The leaves ``flat`` (in :func:`flatten`'s order) in ``structure``'s layout."""
    leaves = iter(flat)

    def pack(template: Any) -> Any:
        if not is_nested(template):
            return next(leaves)
        if isinstance(template, dict):
            packed = {key: pack(template[key]) for key in _keys(template)}
            return _rebuild(template, [packed[key] for key in template])
        return _rebuild(template, [pack(child) for child in template])

    return pack(structure)


def is_shape(value: Any) -> bool:
    """Whether ``value`` is one shape: a tuple or list of ints and ``None``."""
    return isinstance(value, (tuple, list)) and all(
        d is None or (isinstance(d, (int, np.integer)) and not isinstance(d, bool))
        for d in value
    )


def map_shape_structure(fn: Callable[[Any], Any], structure: Any) -> Any:
    """``fn`` applied to each shape in a structure of shapes (``(2, 3)`` is one
    shape, ``[(2, 3), (2, 4)]`` two, ``{"a": (2, 3)}`` one under a key)."""
    if structure is None or is_shape(structure):
        return fn(structure)
    if isinstance(structure, dict):
        return _rebuild(
            structure, [map_shape_structure(fn, v) for v in structure.values()]
        )
    if isinstance(structure, (list, tuple)):
        return _rebuild(structure, [map_shape_structure(fn, v) for v in structure])
    return fn(structure)
