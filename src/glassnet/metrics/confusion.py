"""Metrics over a confusion matrix (to be filled in)."""

from __future__ import annotations

__all__: list[str] = []
