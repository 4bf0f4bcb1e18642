"""Objects to and from Keras 3's serialization layout (JSON-ready dicts).

An object is ``{"module", "class_name", "config", "registered_name"}``; a
layer or model adds ``build_config`` and, once compiled, ``compile_config``.
Reading resolves every ``class_name`` through glassnet's registries and the
registered user objects, never by importing the ``module`` a file names; a
``__lambda__`` (code Keras can store) is always refused.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from glassnet import models  # noqa: F401  (adds the model classes to the tables)
from glassnet._registry import (
    KERAS_MODULES,
    custom_object_scope,
    dtype_policy_name,
    find_custom_object,
    serialize_object,
)
from glassnet.layers import serialization as layer_serialization
from glassnet.layers.base import Layer

_PLAIN = (bool, int, float, str)
# the Keras module word that says which registry a config's class is in
_KINDS = {
    "layers": "keras.layers",
    "models": "keras.layers",
    "initializers": "keras.initializers",
    "regularizers": "keras.regularizers",
    "optimizers": "keras.optimizers",
    "schedules": "keras.optimizers.schedules",
    "losses": "keras.losses",
    "metrics": "keras.metrics",
    "activations": "keras.activations",
}
_FUNCTION_KINDS = ("keras.activations", "keras.losses", "keras.metrics")


def serialize_keras_object(obj: Any) -> Any:
    """``obj`` as Keras 3 writes it: plain values as they are, lists and dicts
    item by item, arrays as ``__numpy__``, functions and objects with
    ``get_config`` in Keras's layout (a model with its compile config)."""
    if obj is None or isinstance(obj, _PLAIN):
        return obj
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        value = {"value": obj.tolist(), "dtype": obj.dtype.name}
        return {"class_name": "__numpy__", "config": value}
    if isinstance(obj, (list, tuple)):
        return [serialize_keras_object(item) for item in obj]
    if isinstance(obj, dict):
        return {str(key): serialize_keras_object(v) for key, v in obj.items()}
    if isinstance(obj, Layer):
        config = layer_serialization.serialize(obj)
        compile_config = getattr(obj, "get_compile_config", lambda: None)()
        if compile_config:
            config["compile_config"] = compile_config
    else:
        config = serialize_object(obj)
    return serialize_keras_object(config) if isinstance(config, dict) else config


def deserialize_keras_object(
    config: Any, custom_objects: dict | None = None, safe_mode: bool = True, **kwargs
) -> Any:
    """The object :func:`serialize_keras_object` wrote.

    ``custom_objects`` maps names to user classes and functions (as do
    ``register_keras_serializable`` and ``custom_object_scope``). glassnet
    never deserializes code, so ``safe_mode=False`` unlocks nothing; it is
    accepted for Keras's signature.
    """
    with custom_object_scope(custom_objects):
        return _deserialize(config)


def _deserialize(config: Any) -> Any:
    if config is None or isinstance(config, _PLAIN):
        return config
    if isinstance(config, list):
        return [_deserialize(item) for item in config]
    if not isinstance(config, dict):
        raise TypeError(f"Could not parse config: {config!r}")
    if "class_name" not in config or "config" not in config:
        return {key: _deserialize(value) for key, value in config.items()}
    class_name = config["class_name"]
    if class_name == "__numpy__":
        return _array(config["config"])
    if class_name in ("DTypePolicy", "FloatDTypePolicy"):
        return dtype_policy_name(config)
    if class_name == "__lambda__":
        raise ValueError(
            "The config holds a Python lambda (stored code); glassnet never "
            "loads code from a file, whatever safe_mode says."
        )
    if isinstance(class_name, str) and class_name.startswith("__"):
        raise ValueError(f"glassnet cannot read a {class_name!r} entry.")
    obj = _registry_for(config).get(config)
    if isinstance(obj, Layer):
        build_config = config.get("build_config")
        if build_config and not obj.built:
            obj.build_from_config(build_config)
        compile_config = config.get("compile_config")
        if compile_config and hasattr(obj, "compile_from_config"):
            obj.compile_from_config(compile_config)
    return obj


def _registry_for(config: dict[str, Any]) -> Any:
    """The registry whose table holds the class a config names."""
    module = config.get("module")
    if isinstance(module, str):
        if module in KERAS_MODULES:
            return KERAS_MODULES[module]
        for word in reversed(module.split(".")):
            if word in _KINDS:
                return KERAS_MODULES[_KINDS[word]]
    if config.get("class_name") == "function":
        name = config.get("config")
        if find_custom_object(config.get("registered_name"), name) is None:
            for kind in _FUNCTION_KINDS:
                if isinstance(name, str) and name in KERAS_MODULES[kind]:
                    return KERAS_MODULES[kind]
    return KERAS_MODULES["keras.layers"]


def _array(config: Any) -> np.ndarray:
    """A ``__numpy__`` entry: numbers of a plain numeric dtype only."""
    if not isinstance(config, dict):
        raise ValueError(f"A __numpy__ entry needs a config dict. Received: {config!r}")
    dtype = np.dtype(str(config.get("dtype")))
    if dtype.kind not in "biuf":
        raise ValueError(
            f"A __numpy__ entry must hold numbers. Received: dtype={dtype.name!r}"
        )
    return np.array(config.get("value"), dtype=dtype)


def find_lambdas(config: Any, path: str = "config") -> list[str]:
    """Where a serialized config names a lambda (which could never load)."""
    if isinstance(config, str):
        return [path] if config == "<lambda>" else []
    if isinstance(config, list):
        return [
            p
            for i, item in enumerate(config)
            for p in find_lambdas(item, f"{path}[{i}]")
        ]
    if isinstance(config, dict):
        return [p for k, v in config.items() for p in find_lambdas(v, f"{path}.{k}")]
    return []


def to_json(obj: Any, **kwargs: Any) -> str:
    """``obj``'s Keras config as JSON text; a lambda anywhere raises ValueError
    (glassnet never stores code, and a name cannot bring it back)."""
    config = serialize_keras_object(obj)
    lambdas = find_lambdas(config)
    if lambdas:
        raise ValueError(
            f"Cannot save a lambda ({', '.join(lambdas)}): glassnet never stores "
            "code. Use a named function registered with "
            "glassnet.saving.register_keras_serializable()."
        )
    return json.dumps(config, **kwargs)
