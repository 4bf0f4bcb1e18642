"""Running means of per-sample metric functions (to be filled in)."""

from __future__ import annotations

__all__: list[str] = []
