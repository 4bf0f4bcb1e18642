"""Keras-style models: Sequential and the functional Model."""

from __future__ import annotations

from typing import Any

from glassnet.layers import serialization as _layer_serialization
from glassnet.models.cloning import clone_model
from glassnet.models.model import Model
from glassnet.models.sequential import Sequential

# Keras writes these module and class names for its two model classes.
_layer_serialization.register("Sequential", Sequential, module="keras")
_layer_serialization.register("Model", Model)
_layer_serialization.register(
    "Functional", Model, module="keras.src.models.functional", keras_name="Functional"
)

__all__ = [
    "Model",
    "Sequential",
    "clone_model",
    "load_model",
    "model_from_json",
    "save_model",
]


def __getattr__(name: str) -> Any:
    # NOTE: glassnet.saving sits below the models; it is imported on first use.
    if name in ("load_model", "model_from_json", "save_model"):
        from glassnet import saving

        return getattr(saving, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
