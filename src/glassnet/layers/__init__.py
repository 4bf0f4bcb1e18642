"""Keras-style layers on the glassnet engine."""

from __future__ import annotations

from glassnet.layers.base import KerasTensor, Layer, clear_session
from glassnet.layers.core import (
    Activation,
    Dense,
    Dropout,
    Flatten,
    Input,
    InputLayer,
    Reshape,
)
from glassnet.layers.normalization import BatchNormalization

__all__ = [
    "Activation",
    "BatchNormalization",
    "Dense",
    "Dropout",
    "Flatten",
    "Input",
    "InputLayer",
    "KerasTensor",
    "Layer",
    "Reshape",
    "clear_session",
]
