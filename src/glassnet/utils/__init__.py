"""Keras 3's ``keras.utils`` for what glassnet has.

- :func:`to_categorical`, :func:`normalize` (``numerical_utils``);
- :func:`pad_sequences` (``sequence_utils``);
- :func:`set_random_seed` (``rng_utils``): Python's, NumPy's and glassnet's
  own random numbers, so a model's initial weights, its Dropout masks and
  ``fit``'s shuffling repeat;
- :class:`PyDataset` (also ``Sequence``): the base class of a dataset of
  batches (``py_dataset``);
- Keras's other names for things that live elsewhere in glassnet, loaded on
  first use: ``Progbar``, ``plot_model``, ``clear_session``,
  ``unpack_x_y_sample_weight`` and ``pack_x_y_sample_weight`` (the batch
  forms a custom ``train_step`` gets), and the saving registry
  (``register_keras_serializable``, ``custom_object_scope``,
  ``CustomObjectScope``, ``get_custom_objects``, ``get_registered_name``,
  ``get_registered_object``, ``serialize_keras_object``,
  ``deserialize_keras_object``).
"""

from __future__ import annotations

import importlib
from typing import Any

from glassnet.utils.numerical_utils import normalize, to_categorical
from glassnet.utils.py_dataset import PyDataset
from glassnet.utils.rng_utils import set_random_seed
from glassnet.utils.sequence_utils import pad_sequences

Sequence = PyDataset

#: Keras's names for glassnet objects defined elsewhere: name -> its module.
_ELSEWHERE = {
    "Progbar": "glassnet.models.progress",
    "plot_model": "glassnet.plot",
    "clear_session": "glassnet.layers",
    "pack_x_y_sample_weight": "glassnet.models.data_adapter",
    "unpack_x_y_sample_weight": "glassnet.models.data_adapter",
    **{
        name: "glassnet.saving"
        for name in (
            "CustomObjectScope",
            "custom_object_scope",
            "deserialize_keras_object",
            "get_custom_objects",
            "get_registered_name",
            "get_registered_object",
            "register_keras_serializable",
            "serialize_keras_object",
        )
    },
}

__all__ = [
    "PyDataset",
    "Sequence",
    "normalize",
    "pad_sequences",
    "set_random_seed",
    "to_categorical",
    *sorted(_ELSEWHERE),
]


def __getattr__(name: str) -> Any:
    # NOTE: on first use: glassnet.saving and glassnet.plot sit on the floors
    # below the models, and importing them here would make every import of
    # glassnet.utils pay for the models, h5py or matplotlib.
    if name not in _ELSEWHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_ELSEWHERE[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_ELSEWHERE})
