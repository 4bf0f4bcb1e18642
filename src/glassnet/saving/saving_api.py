"""Saving and loading whole models, weights alone, and configs as JSON."""

from __future__ import annotations

import os
from typing import Any

from glassnet._registry import custom_object_scope
from glassnet.layers.budget import weight_budget
from glassnet.saving import archive, h5_weights
from glassnet.saving.atomic import write_atomically
from glassnet.saving.errors import format_errors
from glassnet.saving.serialization import deserialize_keras_object, to_json


def _model_class() -> type:
    from glassnet.models import Model

    return Model


def _name(filepath: Any) -> str:
    return os.fspath(filepath) if isinstance(filepath, (str, os.PathLike)) else "file"


def _check_savable(model: Any) -> None:
    if not isinstance(model, _model_class()):
        raise TypeError(f"Only glassnet models can be saved. Received: {model!r}")
    if not model.built:
        raise ValueError(
            f"Model {model.name!r} is not built yet, so it has no weights to save: "
            "give it an input shape or call it on data first."
        )


# --- whole models --------------------------------------------------------------------
def save_model(
    model: Any, filepath: Any, overwrite: bool = True, **kwargs: Any
) -> None:
    """Write ``model`` to a Keras 3 ``.keras`` file: its config (architecture
    and compile arguments), its weights and its optimizer's state.

    The file is written beside the target and renamed over it, so an
    interrupted save leaves the previous file intact. ``filepath`` may also be
    a writable binary file object. Keras's ``zipped=True`` is the only format.
    """
    if kwargs.pop("zipped", None) is False:
        raise ValueError("glassnet writes zipped .keras files only (zipped=True).")
    if kwargs:
        raise TypeError(f"Unrecognized arguments to save_model(): {sorted(kwargs)}")
    _check_savable(model)
    if isinstance(filepath, (str, os.PathLike)) and not os.fspath(filepath).endswith(
        ".keras"
    ):
        raise ValueError(
            "A model file's name must end in .keras (Keras's format). "
            f"Received: filepath={os.fspath(filepath)!r}"
        )
    config = to_json(model)
    weights = h5_weights.write_weights(
        model, model.optimizer if model.compiled else None
    )

    def write(file: Any) -> None:
        archive.write_archive(file, config, weights)

    if not isinstance(filepath, (str, os.PathLike)):
        write(filepath)
        return
    write_atomically(filepath, write, overwrite=overwrite)


def load_model(
    filepath: Any,
    custom_objects: dict[str, Any] | None = None,
    compile: bool = True,
    safe_mode: bool = True,
) -> Any:
    """A model from a ``.keras`` file written by glassnet or by Keras 3.

    Everything the file holds comes back: the architecture, the weights, and
    (``compile=True``) the compile arguments and the optimizer's state, so
    training continues where it stopped. ``custom_objects`` maps the names of
    user classes and functions the file refers to (see
    :func:`register_keras_serializable`).

    Raises :class:`FileFormatError` for anything wrong with the file's content
    (see the module docstring); ``safe_mode`` is accepted for Keras's
    signature: glassnet never loads code, so there is nothing to unlock.
    """
    source = _name(filepath)
    with _opened(filepath) as file, format_errors(source):
        keras_file = archive.KerasArchive(file, source)
        try:
            return _load(keras_file, custom_objects, compile)
        finally:
            keras_file.close()


def _load(keras_file: archive.KerasArchive, custom_objects, compile: bool) -> Any:
    source = keras_file.source
    metadata = keras_file.read_json(archive.METADATA)
    archive.check_metadata(metadata, f"{source} ({archive.METADATA})")
    config = keras_file.read_json(archive.CONFIG)
    compile_config = config.pop("compile_config", None)
    budget = keras_file.size(archive.WEIGHTS)
    with (
        custom_object_scope(custom_objects),
        weight_budget(budget, f"{source} ({archive.WEIGHTS})"),
        format_errors(f"{source} ({archive.CONFIG})"),
    ):
        model = deserialize_keras_object(config)
        if not isinstance(model, _model_class()) or not model.built:
            raise ValueError(
                "the config does not describe a model with a known input shape "
                f"(it gives {type(model).__name__})."
            )
    weights = h5_weights.WeightsFile(keras_file.read(archive.WEIGHTS), source)
    try:
        plan = h5_weights.read_model_weights(model, weights)
        restore = None
        if compile and compile_config:
            with (
                custom_object_scope(custom_objects),
                format_errors(f"{source} (compile_config)"),
            ):
                model.compile_from_config(compile_config)
            if model.compiled:
                variables = model.trainable_weights
                restore = h5_weights.read_optimizer(model.optimizer, variables, weights)
    finally:
        weights.close()
    h5_weights.assign_all(plan)
    if restore is not None:
        restore()
    return model


class _opened:
    """The file at a path (its OSError, e.g. not found, raised as it is), or a
    file object as given."""

    def __init__(self, filepath: Any) -> None:
        self.filepath, self.file = filepath, None

    def __enter__(self) -> Any:
        if isinstance(self.filepath, (str, os.PathLike)):
            self.file = open(self.filepath, "rb")  # noqa: SIM115
            return self.file
        return self.filepath

    def __exit__(self, *exc: Any) -> None:
        if self.file is not None:
            self.file.close()


# --- weights alone -------------------------------------------------------------------
def save_weights(model: Any, filepath: Any, overwrite: bool = True) -> None:
    """Write the model's weights (and optimizer state) to a Keras
    ``.weights.h5`` file, atomically."""
    _check_savable(model)
    path = os.fspath(filepath)
    if not path.endswith(".weights.h5"):
        raise ValueError(
            "A weights file's name must end in .weights.h5 (Keras's format). "
            f"Received: filepath={path!r}"
        )
    data = h5_weights.write_weights(model, model.optimizer if model.compiled else None)
    write_atomically(path, lambda file: file.write(data), overwrite=overwrite)


def load_weights(model: Any, filepath: Any, skip_mismatch: bool = False) -> None:
    """Load weights into ``model`` from a ``.weights.h5`` or ``.keras`` file,
    matched by the model's layer structure (as Keras does).

    All weights are checked before the first one changes: a mismatch raises
    :class:`FileFormatError` and leaves the model as it was
    (``skip_mismatch=True`` skips the layers that do not match, with a
    warning). The optimizer's state is loaded too when the file has it and the
    model is compiled with an optimizer it fits; otherwise it is skipped with
    a warning, as in Keras.
    """
    if not getattr(model, "built", False):
        raise ValueError(
            f"Model {model.name!r} is not built yet: build it before loading weights."
        )
    source = _name(filepath)
    with _opened(filepath) as file, format_errors(source):
        data = file.read(8)
        file.seek(0)
        if data == b"\x89HDF\r\n\x1a\n":
            image = file.read()
        else:
            keras_file = archive.KerasArchive(file, source)
            try:
                image = keras_file.read(archive.WEIGHTS)
            finally:
                keras_file.close()
        weights = h5_weights.WeightsFile(image, source)
        try:
            plan = h5_weights.read_model_weights(model, weights, skip_mismatch)
            restore = None
            if model.compiled and model.optimizer is not None:
                restore = h5_weights.read_optimizer(
                    model.optimizer, model.trainable_weights, weights, strict=False
                )
        finally:
            weights.close()
    h5_weights.assign_all(plan)
    if restore is not None:
        restore()


# --- configs -------------------------------------------------------------------------
def model_to_json(model: Any, **kwargs: Any) -> str:
    """The model's Keras 3 config as JSON (``json.dumps`` keywords apply)."""
    return to_json(model, **kwargs)


def model_from_json(
    json_string: str, custom_objects: dict[str, Any] | None = None
) -> Any:
    """A new model (fresh weights) from :func:`model_to_json`'s text; a bad
    config raises :class:`FileFormatError`."""
    with format_errors("The JSON config"):
        config = archive.parse_json(json_string, "The JSON config")
        model = deserialize_keras_object(config, custom_objects)
        if not isinstance(model, _model_class()):
            raise ValueError(f"it describes a {type(model).__name__}, not a model.")
    return model
