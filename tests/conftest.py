"""Keras 3 runs as an oracle on the PyTorch backend (it would ask for
TensorFlow otherwise, and its tests would skip): set before any test imports
it, as ``.ci/run`` does."""

import os

import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")


@pytest.fixture(scope="session")
def keras():
    """Keras 3 on PyTorch, the oracle of the parity tests (they skip without
    either)."""
    pytest.importorskip("torch")
    return pytest.importorskip("keras")
