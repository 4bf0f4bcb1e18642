"""Keras 3 runs as an oracle on the PyTorch backend (it would ask for
TensorFlow otherwise, and its tests would skip): set before any test imports
it, as ``.ci/run`` does."""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")
