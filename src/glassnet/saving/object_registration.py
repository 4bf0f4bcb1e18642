"""Registering user classes and functions so that saved models can name them.

A file names each object by ``class_name`` and, for user objects,
``registered_name`` (``"package>Name"``). Loading resolves those names through
glassnet's own tables, the objects registered here, and the ``custom_objects``
a loader is given -- and through nothing else: no name in a file is ever
imported or evaluated.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from glassnet._registry import (
    GLOBAL_CUSTOM_NAMES,
    GLOBAL_CUSTOM_OBJECTS,
    custom_object_scope,
    find_custom_object,
)

__all__ = [
    "CustomObjectScope",
    "custom_object_scope",
    "get_custom_objects",
    "get_registered_name",
    "get_registered_object",
    "register_keras_serializable",
]


def register_keras_serializable(
    package: str = "Custom", name: str | None = None
) -> Callable[[Any], Any]:
    """Decorator: register a class or function for saving as
    ``"package>name"`` (``name`` defaults to its ``__name__``).

    >>> @register_keras_serializable(package="my_project")
    ... class Scale(glassnet.layers.Layer):
    ...     ...
    """
    if not isinstance(package, str) or ">" in package:
        raise ValueError(
            f"`package` must be a string without '>'. Received: package={package!r}"
        )

    def decorator(obj: Any) -> Any:
        key = f"{package}>{name or obj.__name__}"
        if inspect.isclass(obj) and not hasattr(obj, "get_config"):
            raise ValueError(
                "Cannot register a class that has no get_config() method. "
                f"Received: {obj!r}"
            )
        if key in GLOBAL_CUSTOM_OBJECTS and GLOBAL_CUSTOM_OBJECTS[key] is not obj:
            raise ValueError(
                f"{key!r} is already registered to {GLOBAL_CUSTOM_OBJECTS[key]!r}."
            )
        GLOBAL_CUSTOM_OBJECTS[key] = obj
        GLOBAL_CUSTOM_NAMES[obj] = key
        return obj

    return decorator


def get_custom_objects() -> dict[str, Any]:
    """The global table of registered objects (``"package>Name"`` -> object);
    adding to it registers an object under that key."""
    return GLOBAL_CUSTOM_OBJECTS


def get_registered_name(obj: Any) -> str:
    """The name ``obj`` is registered under, else its ``__name__``."""
    return GLOBAL_CUSTOM_NAMES.get(obj, getattr(obj, "__name__", repr(obj)))


def get_registered_object(
    name: str, custom_objects: dict | None = None, module_objects: dict | None = None
) -> Any:
    """The object registered as ``name`` (active scopes, then the global table,
    then ``custom_objects`` and ``module_objects``), or None."""
    found = find_custom_object(name)
    for table in (custom_objects, module_objects):
        if found is None and table and name in table:
            found = table[name]
    return found


CustomObjectScope = custom_object_scope
