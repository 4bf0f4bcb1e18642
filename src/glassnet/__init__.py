"""glassnet: a neural-network library you can see through.

``import glassnet as keras`` serves Keras-3-style code for what glassnet has:
``keras.Sequential``, ``keras.Model``, ``keras.Input``, ``keras.Layer`` and
the other top-level classes, and Keras's submodules as attributes
(``keras.layers``, ``keras.models``, ``keras.optimizers``, ``keras.losses``,
``keras.metrics``, ``keras.callbacks``, ``keras.initializers``,
``keras.regularizers``, ``keras.activations``, ``keras.ops``,
``keras.utils``, ``keras.random``, ``keras.saving``, ``keras.config``).

Importing glassnet loads only the engine (``Tensor``, ``Function``), the ops
and the runtime's switches; every other submodule, and the classes that live
in them, is imported the first time it is named (PEP 562), so
``import glassnet`` stays as fast as NumPy allows. ``glassnet.Function`` is
the engine's differentiable operation, not Keras's ``keras.Function``.
"""

from __future__ import annotations

import importlib
from typing import Any

from glassnet import config, ops, runtime  # noqa: F401  (runtime registers its kernels)
from glassnet.autograd import Function, Tensor, no_grad

__version__ = "0.1.0"

#: Submodules imported on first use (``glassnet.layers``, ...).
_SUBMODULES = (
    "activations",
    "callbacks",
    "initializers",
    "layers",
    "losses",
    "metrics",
    "models",
    "optimizers",
    "plot",
    "random",
    "regularizers",
    "saving",
    "sklearn",
    "utils",
)
#: Keras's top-level names, each from the submodule that defines it.
_NAMES = {
    "Initializer": "initializers",
    "Input": "layers",
    "KerasTensor": "layers",
    "Layer": "layers",
    "Loss": "losses",
    "Metric": "metrics",
    "Model": "models",
    "Optimizer": "optimizers",
    "Regularizer": "regularizers",
    "Sequential": "models",
}

__all__ = [
    "Function",
    "Tensor",
    "config",
    "no_grad",
    "ops",
    "version",
    "__version__",
    # NOTE: not plot and sklearn: ``from glassnet import *`` would import
    # matplotlib and scikit-learn for names Keras does not have.
    *(name for name in _SUBMODULES if name not in ("plot", "sklearn")),
    *_NAMES,
]


def version() -> str:
    """glassnet's version (Keras's ``keras.version()``)."""
    return __version__


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"glassnet.{name}")
    if name in _NAMES:
        value = getattr(importlib.import_module(f"glassnet.{_NAMES[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'glassnet' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_SUBMODULES, *_NAMES})
