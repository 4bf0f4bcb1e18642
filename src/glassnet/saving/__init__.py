"""Saving models: Keras 3's ``.keras`` files, weights files and JSON configs.

>>> model.save("model.keras")                  # everything, atomically
>>> model = glassnet.saving.load_model("model.keras")
>>> model.save_weights("model.weights.h5")     # weights (and optimizer state)
>>> model.load_weights("model.weights.h5")
>>> clone = glassnet.models.model_from_json(model.to_json())

**The format is Keras 3's**, both ways. A ``.keras`` file is a zip of
``metadata.json`` (``keras_version``, ``date_saved``), ``config.json``
(``{"module", "class_name", "config", "registered_name", "build_config",
"compile_config"}``: each layer's config, with its initializers, regularizers
and dtype policy, exactly as Keras writes them) and ``model.weights.h5`` (each
layer's variables under ``layers/<class name>/vars/<i>``, the optimizer's
iteration count, learning rate and slots under ``optimizer/vars``). Keras 3
loads the files glassnet writes, and glassnet loads the Sequential and
single-chain functional models Keras writes, when both libraries have their
layers. What comes back is exact: the architecture, the weights, the compile
arguments and the optimizer's state (Adam's moments and step count), so
``predict`` gives the same bits and ``fit`` continues as if never stopped
(given the same random seeds). A Dropout layer's random generator is the one
piece of state a file does not hold.

**Loading never runs code from a file.** Every class or function a file names
(``class_name``, ``registered_name``) is looked up in glassnet's own tables,
in the objects registered with :func:`register_keras_serializable`, and in the
``custom_objects`` given to the loader or a :func:`custom_object_scope`.
Nothing else: the ``module`` a file names is never imported, and Keras's
``__lambda__`` entries (stored Python code) are always refused. glassnet has
no unsafe deserialization to unlock, so ``safe_mode=False`` changes nothing;
it is accepted because Keras code passes it. A file's content is checked
before it is trusted: zip members (their names, count, sizes, compression
ratio and CRCs), the metadata's version (a major version above 3 is
refused), the config (a model may not ask for more weight memory than its
weights file holds), and the HDF5 weights (hard links only; contiguous,
unfiltered datasets of plain float and integer types whose shapes and dtypes
the model predicts, their bytes read from inside the file: no external files,
links, plug-in filters or object types).

**One exception for bad files:** :class:`FileFormatError` (a ``ValueError``)
for any problem with a file's content -- not a Keras file, truncated,
corrupted, a newer major format, an unknown class, a weight missing, extra, or
of the wrong shape or dtype -- with a message that says where and what. A file
that cannot be opened raises the ``OSError`` of opening it.

**Atomic saves.** ``save`` and ``save_weights`` write a temporary file in the
target's folder and rename it over the target (``os.replace``), so a process
killed mid-save leaves the previous file loadable (and a ``.<name>.*.tmp``
file that may be deleted).

**The scikit-learn estimators** (:class:`glassnet.sklearn.MLPRegressor`,
:class:`glassnet.sklearn.MLPClassifier`) are saved the scikit-learn way, with
``pickle`` or ``joblib`` (``joblib.dump(estimator, "mlp.joblib")``,
``joblib.load("mlp.joblib")``): they pickle completely, the solver's state
included, so ``partial_fit`` continues after loading; as with scikit-learn,
load them with the glassnet version that saved them. **Unpickling runs
whatever code the file names**, so a pickle or joblib file is as trustworthy
as a script from the same source: load them only from sources you trust. The
``.keras`` format is the one to exchange: it holds only data, and loading it
runs only classes you have in your own tables.
"""

from __future__ import annotations

from glassnet.saving.errors import FileFormatError
from glassnet.saving.object_registration import (
    CustomObjectScope,
    custom_object_scope,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
)
from glassnet.saving.saving_api import (
    load_model,
    load_weights,
    model_from_json,
    model_to_json,
    save_model,
    save_weights,
)
from glassnet.saving.serialization import (
    deserialize_keras_object,
    serialize_keras_object,
)

__all__ = [
    "CustomObjectScope",
    "FileFormatError",
    "custom_object_scope",
    "deserialize_keras_object",
    "get_custom_objects",
    "get_registered_name",
    "get_registered_object",
    "load_model",
    "load_weights",
    "model_from_json",
    "model_to_json",
    "register_keras_serializable",
    "save_model",
    "save_weights",
    "serialize_keras_object",
]
