"""Keras on its torch backend, the oracle of these tests (skipped without it)."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    return pytest.importorskip("keras")
