"""Keras-style models: Sequential and the functional Model."""

from __future__ import annotations

from glassnet.models.model import Model
from glassnet.models.sequential import Sequential

__all__ = ["Model", "Sequential"]
