"""Layers by name: Keras's ``layers.serialize`` / ``deserialize``.

A serialized layer is Keras 3's ``{"module": "keras.layers", "class_name",
"config", "registered_name", "build_config"}``. Names resolve through this
table (the classes :mod:`glassnet.layers` exports, and the models, which
:mod:`glassnet.models` adds) and the objects registered for saving; nothing
is imported by name.
"""

from __future__ import annotations

from typing import Any

from glassnet._registry import Registry, custom_object_scope
from glassnet.layers.base import Layer

_registry = Registry("layer", base=Layer, instantiate=False, module="keras.layers")


def register(
    name: str, cls: type, module: str | None = None, keras_name: str | None = None
) -> None:
    """Add a Layer class under ``name``; Keras's configs write it as ``module``
    (default ``"keras.layers"``) and ``keras_name`` when those are given."""
    _registry.add(name, cls, module=module, keras_name=keras_name)


def keras_class_name(layer: Layer) -> str:
    """The class name Keras's files give ``layer`` (``"Functional"`` for a
    functional glassnet ``Model``); weights files name their groups after it."""
    if _registry.holds(type(layer)):
        return _registry.keras_identity(type(layer))[1]
    return type(layer).__name__


def serialize(layer: Layer) -> dict[str, Any]:
    """``layer`` as Keras 3 writes it, with its ``build_config`` once built."""
    config = _registry.serialize(layer)
    build_config = layer.get_build_config()
    if build_config is not None:
        config["build_config"] = build_config
    return config


def deserialize(config: dict[str, Any], custom_objects: dict | None = None) -> Layer:
    """A new layer from :func:`serialize`'s dict (built when it holds a
    ``build_config``); ``custom_objects`` maps names to user classes."""
    if not isinstance(config, dict):
        raise ValueError(f"A layer config must be a dict. Received: {config!r}")
    with custom_object_scope(custom_objects):
        layer = _registry.get(config)
        if not isinstance(layer, Layer):
            raise ValueError(
                f"The config does not describe a layer. Received: {config!r}"
            )
        build_config = config.get("build_config")
        if build_config and not layer.built:
            layer.build_from_config(build_config)
    return layer
