"""Checkpoints: :class:`ModelCheckpoint` (a model or weights file per epoch,
or only the best) and :class:`BackupAndRestore` (a fit that was interrupted
resumes where it stopped).

Every file goes through :mod:`glassnet.saving` (``model.save``,
``model.save_weights``) or its atomic writer, so a process killed while a
checkpoint is written leaves the previous checkpoint whole.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from collections.abc import Iterator
from typing import Any

import numpy as np

from glassnet._warnings import warn
from glassnet.callbacks.base import Callback, _monitor_mode


def _check_save_freq(save_freq: Any) -> Any:
    """``"epoch"`` or a positive number of batches."""
    batches = isinstance(save_freq, (int, np.integer)) and not isinstance(
        save_freq, bool
    )
    if save_freq != "epoch" and not (batches and save_freq > 0):
        raise ValueError(
            "save_freq must be 'epoch' or a positive number of batches. "
            f"Received: save_freq={save_freq!r}"
        )
    return save_freq if save_freq == "epoch" else int(save_freq)


class ModelCheckpoint(Callback):
    """Save the model, or its weights, during ``fit`` (Keras 3's callback).

    ``filepath`` may hold ``str.format`` fields, filled with ``epoch`` (counted
    from 1, as Keras prints it) and the logs: ``"ckpt-{epoch:02d}-
    {val_loss:.2f}.keras"``; a batch-level save also has ``batch`` (from 1).
    It must end in ``.weights.h5`` with ``save_weights_only=True`` (the
    weights and the optimizer's state: :meth:`Model.load_weights` reads it),
    and in ``.keras`` otherwise (the whole model: :func:`load_model`).
    Folders in the path are created.

    ``save_best_only``: save only when ``monitor`` beats the best value seen
    so far (``mode`` ``"min"``, ``"max"``, or ``"auto"``: max for accuracy-like
    names, min for the rest); the first value counts as an improvement unless
    ``initial_value_threshold`` is given, which it must then beat. When the
    monitored value is missing from the logs, the model is saved with a
    warning (as in Keras). ``save_freq``: ``"epoch"`` or every that many
    batches (the batch logs then are the epoch's running means).

    Unlike Keras, an unknown ``mode`` raises (as EarlyStopping's does here),
    and a whole-model path must end in ``.keras`` (glassnet writes no legacy
    ``.h5`` model files).

    >>> ModelCheckpoint("best.keras", monitor="val_loss", save_best_only=True)
    """

    def __init__(
        self,
        filepath: Any,
        monitor: str = "val_loss",
        verbose: int = 0,
        save_best_only: bool = False,
        save_weights_only: bool = False,
        mode: str = "auto",
        save_freq: Any = "epoch",
        initial_value_threshold: float | None = None,
    ) -> None:
        super().__init__()
        self.filepath = os.fspath(filepath)
        self.monitor = monitor
        self.verbose = verbose
        self.save_best_only = bool(save_best_only)
        self.save_weights_only = bool(save_weights_only)
        self.mode = mode
        self.monitor_op = _monitor_mode(monitor, mode)
        self.save_freq = _check_save_freq(save_freq)
        self.initial_value_threshold = initial_value_threshold
        self.best = initial_value_threshold
        suffix = ".weights.h5" if self.save_weights_only else ".keras"
        if not self.filepath.endswith(suffix):
            raise ValueError(
                f"ModelCheckpoint's filepath must end in {suffix} "
                f"(save_weights_only={self.save_weights_only}). "
                f"Received: filepath={self.filepath!r}"
            )
        self._current_epoch = 0
        self._batches_since_save = 0
        if self.save_freq != "epoch":
            # NOTE: an instance hook, so that fits with epoch saves build no
            # per-batch logs (CallbackList.wants_batch_hooks)
            self.on_train_batch_end = self._on_train_batch_end

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save(epoch, None, logs or {})

    def _on_train_batch_end(self, batch, logs=None):
        self._batches_since_save += 1
        if self._batches_since_save >= self.save_freq:
            self._batches_since_save = 0
            self._save(self._current_epoch, batch, logs or {})

    def _file_path(self, epoch: int, batch: int | None, logs: dict) -> str:
        fields = {"epoch": epoch + 1, **logs}
        if batch is not None and "batch" not in logs:
            fields["batch"] = batch + 1
        try:
            return self.filepath.format(**fields)
        except (KeyError, IndexError) as error:
            raise KeyError(
                f"Failed to format this callback filepath: {self.filepath!r}. "
                f"Reason: {error!r} is not among {sorted(fields)}"
            ) from None

    def _should_save(self, epoch: int, logs: dict, filepath: str) -> bool:
        if not self.save_best_only:
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: saving model to {filepath}")
            return True
        current = logs.get(self.monitor)
        if current is None:
            warn(
                f"Can save best model only with {self.monitor} available. "
                f"Available logs are: {', '.join(logs)}"
            )
            return True
        best = "None" if self.best is None else f"{self.best:.5f}"
        if self.best is None or self.monitor_op(current, self.best):
            if self.verbose > 0:
                print(
                    f"\nEpoch {epoch + 1}: {self.monitor} improved from {best} to "
                    f"{current:.5f}, saving model to {filepath}"
                )
            self.best = current
            return True
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {best}")
        return False

    def _save(self, epoch: int, batch: int | None, logs: dict) -> None:
        filepath = self._file_path(epoch, batch, logs)
        if not self._should_save(epoch, logs, filepath):
            return
        if os.path.isdir(filepath):
            raise IsADirectoryError(
                "ModelCheckpoint needs a file path, not a folder. "
                f"Received: {filepath!r}"
            )
        folder = os.path.dirname(filepath)
        if folder:
            os.makedirs(folder, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(filepath, overwrite=True)
        else:
            self.model.save(filepath, overwrite=True)


# --- BackupAndRestore ------------------------------------------------------------
METADATA = "training_metadata.json"


def _layer_generators(model: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """``(key, generator)`` for every NumPy generator a layer holds as an
    attribute (Dropout's), nested models included, in a fixed order."""
    for i, layer in enumerate(model.layers):
        if hasattr(layer, "layers") and layer is not model:
            yield from _layer_generators(layer, f"{prefix}{i}/")
        for name, value in sorted(vars(layer).items()):
            if isinstance(value, (np.random.Generator, np.random.RandomState)):
                yield f"{prefix}{i}/{name}", value


def _state_of(generator: Any) -> dict:
    if isinstance(generator, np.random.Generator):
        return generator.bit_generator.state
    return generator.get_state(legacy=False)


def _set_state(generator: Any, state: dict) -> None:
    if isinstance(generator, np.random.Generator):
        generator.bit_generator.state = state
    else:
        generator.set_state(state)


def _to_json(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return {"dtype": value.dtype.str, "values": value.tolist()}
    if isinstance(value, dict):
        return {key: _to_json(v) for key, v in value.items()}
    return value.item() if isinstance(value, np.generic) else value


def _from_json(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"dtype", "values"}:
            return np.asarray(value["values"], dtype=np.dtype(value["dtype"]))
        return {key: _from_json(v) for key, v in value.items()}
    return value


def random_state(model: Any) -> dict:
    """The random state training draws from, as JSON-ready values: NumPy's
    global generator (the shuffles of ``fit``) and every layer's own."""
    layers = {key: _state_of(g) for key, g in _layer_generators(model)}
    state = {"numpy": np.random.get_state(legacy=False), "layers": layers}
    return _to_json(state)


def set_random_state(model: Any, state: dict) -> None:
    """Put back what :func:`random_state` returned (all checked first)."""
    state = _from_json(state)
    generators = dict(_layer_generators(model))
    if set(state["layers"]) != set(generators):
        raise ValueError(
            f"it holds random generators for layers {sorted(state['layers'])}; "
            f"this model has them at {sorted(generators)}."
        )
    # NOTE: every state is tried on a scratch generator first, so a damaged
    # one raises before any generator has changed
    np.random.RandomState().set_state(state["numpy"])
    for key, generator in generators.items():
        if isinstance(generator, np.random.Generator):
            scratch = np.random.Generator(type(generator.bit_generator)())
        else:
            scratch = np.random.RandomState()
        _set_state(scratch, state["layers"][key])
    for key, generator in generators.items():
        _set_state(generator, state["layers"][key])
    np.random.set_state(state["numpy"])


class BackupAndRestore(Callback):
    """Back up the training state, so that a ``fit`` that was interrupted (an
    exception, a killed process) and is started again with the same callback
    resumes at the last finished epoch (Keras 3's callback).

    The backup, in ``backup_dir``, holds the model's weights and the
    optimizer's state (a ``.weights.h5`` file), the number of finished epochs
    and the random state training draws from: NumPy's global generator (the
    shuffles of ``fit``: ``np.random.seed`` makes them repeatable) and each
    layer's own generator (Dropout's). A resumed ``fit`` therefore ends with
    the same weights, bit for bit, as one that was never interrupted.
    ``on_train_begin`` loads the backup when there is one and sets
    ``model._initial_epoch``, where ``fit`` then starts (as in Keras 3).

    A backup is written at the end of every epoch (``save_freq="epoch"``) or
    every ``save_freq`` batches. A resume always starts an epoch from its
    first batch: after a batch-level backup, that epoch is run again from the
    weights of that backup (as in Keras), so only epoch backups resume
    exactly. The weights file is written first and the small metadata file,
    which names it, is renamed into place last: a process killed at any
    moment leaves the previous backup or the new one, never a mixture.
    ``double_checkpoint`` keeps the backup before the last one too, and falls
    back to it when the last cannot be read. ``delete_checkpoint`` removes
    ``backup_dir`` when ``fit`` ends normally. ``backup_dir`` is the callback's
    own: other files there may be deleted.

    The state of other callbacks (EarlyStopping's patience) is not part of
    the backup, as in Keras. The model, its compile arguments and the
    arguments of ``fit`` must be those of the interrupted run.
    """

    def __init__(
        self,
        backup_dir: Any,
        save_freq: Any = "epoch",
        double_checkpoint: bool = False,
        delete_checkpoint: bool = True,
    ) -> None:
        super().__init__()
        if not backup_dir:
            raise ValueError(
                f"BackupAndRestore needs a backup_dir. Received: {backup_dir!r}"
            )
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = _check_save_freq(save_freq)
        self.double_checkpoint = bool(double_checkpoint)
        self.delete_checkpoint = bool(delete_checkpoint)
        self._metadata_path = os.path.join(self.backup_dir, METADATA)
        self._epochs_done = 0
        self._epoch_random_state: dict | None = None
        self._batches_since_save = 0
        if self.save_freq != "epoch":
            self.on_train_batch_end = self._on_train_batch_end

    # --- resuming ---------------------------------------------------------------
    def on_train_begin(self, logs=None):
        candidates = [self._metadata_path]
        if self.double_checkpoint:
            candidates.append(self._metadata_path + ".bkp")
        for i, path in enumerate(candidates):
            if not os.path.exists(path):
                continue
            try:
                self._restore(path)
                break
            except (OSError, ValueError) as error:
                if i + 1 == len(candidates):
                    raise
                warn(
                    f"The last backup could not be restored ({error}); "
                    f"trying {candidates[i + 1]}"
                )
        if self.save_freq != "epoch":
            self._epoch_random_state = random_state(self.model)

    def _restore(self, path: str) -> None:
        from glassnet.saving import FileFormatError

        with open(path, "rb") as file:
            data = file.read()
        try:
            metadata = json.loads(data)
            epoch, weights = metadata["epoch"], metadata["weights"]
            state = metadata["random_state"]
            if not isinstance(epoch, int) or epoch < 0:
                raise ValueError(f"the epoch is {epoch!r}")
            if not isinstance(weights, str) or os.path.basename(weights) != weights:
                raise ValueError(f"the weights file is named {weights!r}")
        except (ValueError, KeyError, TypeError) as error:
            raise FileFormatError(f"{path} is not a backup: {error}") from None
        self.model.load_weights(os.path.join(self.backup_dir, weights))
        try:
            set_random_state(self.model, state)
        except (ValueError, KeyError, TypeError) as error:
            raise FileFormatError(f"{path}: the random state: {error}") from None
        self._epochs_done = epoch
        self.model._initial_epoch = epoch

    # --- backing up -------------------------------------------------------------
    def on_epoch_end(self, epoch, logs=None):
        self._epochs_done = epoch + 1
        self._batches_since_save = 0
        if self.save_freq == "epoch":
            self._save(batch=0, state=random_state(self.model))
        else:
            self._epoch_random_state = random_state(self.model)

    def _on_train_batch_end(self, batch, logs=None):
        self._batches_since_save += 1
        if self._batches_since_save >= self.save_freq:
            self._batches_since_save = 0
            self._save(batch=batch, state=self._epoch_random_state)

    def _save(self, batch: int, state: dict | None) -> None:
        from glassnet.saving.atomic import write_atomically

        os.makedirs(self.backup_dir, exist_ok=True)
        keep = {METADATA}
        if self.double_checkpoint and os.path.exists(self._metadata_path):
            shutil.copyfile(self._metadata_path, self._metadata_path + ".bkp")
            keep |= {METADATA + ".bkp", self._weights_named(self._metadata_path)}
        weights = f"latest-{secrets.token_hex(4)}.weights.h5"
        self.model.save_weights(os.path.join(self.backup_dir, weights))
        metadata = {
            "epoch": self._epochs_done,
            "batch": batch,
            "weights": weights,
            "random_state": state,
        }
        data = json.dumps(metadata).encode()
        write_atomically(self._metadata_path, lambda file: file.write(data))
        keep.add(weights)
        for name in os.listdir(self.backup_dir):
            if name not in keep and name.endswith(".weights.h5"):
                os.remove(os.path.join(self.backup_dir, name))

    def _weights_named(self, path: str) -> str | None:
        try:
            with open(path, "rb") as file:
                return json.loads(file.read()).get("weights")
        except (OSError, ValueError, AttributeError):
            return None

    def on_train_end(self, logs=None):
        if self.delete_checkpoint and os.path.isdir(self.backup_dir):
            shutil.rmtree(self.backup_dir)
