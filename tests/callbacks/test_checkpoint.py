"""ModelCheckpoint (names, the best model, weights files) and BackupAndRestore
(an interrupted fit resumes and ends with the same bits as one never
interrupted, after an exception or a SIGKILL)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from glassnet import callbacks, optimizers
from glassnet import layers as L
from glassnet.models import Sequential, load_model
from glassnet.saving import FileFormatError


def _model():
    """Initializers from NumPy's global state, a seeded Dropout, Adam."""
    model = Sequential(
        [
            L.Input((4,)),
            L.Dense(8, activation="tanh"),
            L.Dropout(0.25, seed=3),
            L.BatchNormalization(),
            L.Dense(1),
        ]
    )
    model.compile(optimizers.Adam(0.01), "mse", metrics=["mae"])
    return model


def _data(n=40):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 4)).astype("float32")
    return x, (x @ rng.standard_normal((4, 1))).astype("float32")


FIT = {"epochs": 6, "batch_size": 8, "validation_split": 0.25, "verbose": 0}


def _reference():
    """An uninterrupted fit: weights drawn after seed 0, shuffles after seed 5."""
    np.random.seed(0)
    model = _model()
    np.random.seed(5)
    model.fit(*_data(), **FIT)
    return model


class Interrupt(callbacks.Callback):
    def __init__(self, epoch, batch=None):
        super().__init__()
        self.epoch, self.batch = epoch, batch

    def on_epoch_begin(self, epoch, logs=None):
        self.current = epoch
        if self.batch is None and epoch == self.epoch:
            raise KeyboardInterrupt(f"stopped before epoch {epoch}")

    def on_train_batch_begin(self, batch, logs=None):
        if self.current == self.epoch and batch == self.batch:
            raise KeyboardInterrupt(f"stopped in epoch {self.epoch}")


# --- BackupAndRestore ---------------------------------------------------------------
@pytest.mark.parametrize("epoch, batch", [(1, None), (3, 2), (5, 0)])
def test_a_fit_interrupted_by_an_exception_resumes_bit_identically(
    tmp_path, epoch, batch
):
    reference = _reference()
    np.random.seed(0)
    model = _model()
    np.random.seed(5)
    backup = callbacks.BackupAndRestore(tmp_path / "backup")
    with pytest.raises(KeyboardInterrupt):
        model.fit(*_data(), **FIT, callbacks=[backup, Interrupt(epoch, batch)])
    metadata = json.loads((tmp_path / "backup" / "training_metadata.json").read_text())
    assert metadata["epoch"] == epoch

    np.random.seed(1234)  # whatever the global state now: the backup's comes back
    history = model.fit(*_data(), **FIT, callbacks=[backup])
    assert history.epoch == list(range(epoch, FIT["epochs"]))
    assert model.optimizer.iterations == reference.optimizer.iterations
    for ours, theirs in zip(model.get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(ours, theirs)
    assert not (tmp_path / "backup").exists()  # delete_checkpoint=True


def test_the_restored_start_holds_for_one_fit_only(tmp_path):
    model = _model()
    backup = callbacks.BackupAndRestore(tmp_path / "b", delete_checkpoint=False)
    with pytest.raises(KeyboardInterrupt):
        model.fit(*_data(), **FIT, callbacks=[backup, Interrupt(2)])
    assert model.fit(*_data(), **FIT, callbacks=[backup]).epoch == [2, 3, 4, 5]
    assert model.fit(*_data(), **FIT).epoch == list(range(6))
    # a finished run's kept backup resumes at its end: nothing left to do
    assert model.fit(*_data(), **FIT, callbacks=[backup]).epoch == []


WORKER = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    sys.path.insert(0, sys.argv[1])
    from test_checkpoint import FIT, _data, _model
    from glassnet import callbacks

    class Stall(callbacks.Callback):
        # in epoch 3, tells the parent (a file) and waits to be killed
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch
        def on_train_batch_begin(self, batch, logs=None):
            if sys.argv[4] == "stall" and self.epoch == 3 and batch == 2:
                open(sys.argv[3] + ".stalled", "w").close()
                time.sleep(600)

    np.random.seed(0)
    model = _model()
    np.random.seed(5)
    backup = callbacks.BackupAndRestore(sys.argv[2])
    model.fit(*_data(), **FIT, callbacks=[backup, Stall()])
    np.savez(sys.argv[3], *model.get_weights())
    """
)


def _python(script, *args):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return [sys.executable, str(script), *map(str, args)], env


def test_a_killed_fit_resumes_in_a_fresh_process(tmp_path):
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    here = os.path.dirname(__file__)
    out, backup = tmp_path / "weights.npz", tmp_path / "backup"
    command, env = _python(script, here, backup, out, "stall")
    worker = subprocess.Popen(command, env=env)
    try:
        deadline = time.monotonic() + 120
        stalled = tmp_path / "weights.npz.stalled"
        while not stalled.exists() and worker.poll() is None:
            assert time.monotonic() < deadline, "the worker never reached epoch 3"
            time.sleep(0.01)
        os.kill(worker.pid, signal.SIGKILL)
    finally:
        worker.wait()
    assert worker.returncode == -signal.SIGKILL
    assert json.loads((backup / "training_metadata.json").read_text())["epoch"] == 3

    command, env = _python(script, here, backup, out, "run")
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    resumed = np.load(out)
    reference = _reference().get_weights()
    assert len(resumed.files) == len(reference)
    for i, theirs in enumerate(reference):
        np.testing.assert_array_equal(resumed[f"arr_{i}"], theirs)
    assert not backup.exists()


def test_batch_backups_hold_the_finished_epochs_and_resume_there(tmp_path):
    model = _model()
    backup = callbacks.BackupAndRestore(tmp_path / "b", save_freq=2)
    with pytest.raises(KeyboardInterrupt):
        model.fit(*_data(), **FIT, callbacks=[backup, Interrupt(2, 3)])
    metadata = json.loads((tmp_path / "b" / "training_metadata.json").read_text())
    assert (metadata["epoch"], metadata["batch"]) == (2, 1)  # epochs 0, 1 done
    assert model.fit(*_data(), **FIT, callbacks=[backup]).epoch == [2, 3, 4, 5]


def test_one_weights_file_at_a_time_and_double_checkpoint_falls_back(tmp_path):
    model = _model()
    folder = tmp_path / "b"
    backup = callbacks.BackupAndRestore(
        folder, double_checkpoint=True, delete_checkpoint=False
    )
    model.fit(*_data(), **{**FIT, "epochs": 3}, callbacks=[backup])
    names = sorted(os.listdir(folder))
    assert len([n for n in names if n.endswith(".weights.h5")]) == 2
    assert "training_metadata.json.bkp" in names
    latest = json.loads((folder / "training_metadata.json").read_text())["weights"]
    (folder / latest).write_bytes(b"not a weights file")
    with pytest.warns(UserWarning, match="could not be restored"):
        history = model.fit(*_data(), **FIT, callbacks=[backup])
    assert history.epoch == [2, 3, 4, 5]  # from the backup before the last


def test_a_damaged_backup_raises_the_file_format_error(tmp_path):
    model = _model()
    folder = tmp_path / "b"
    folder.mkdir()
    backup = callbacks.BackupAndRestore(folder)
    (folder / "training_metadata.json").write_text('{"epoch": 2, "weights": "../x"}')
    with pytest.raises(FileFormatError, match="not a backup"):
        model.fit(*_data(), **FIT, callbacks=[backup])


@pytest.mark.parametrize("save_freq", ["batch", 0, -3, True, 1.5])
def test_save_freq_is_epoch_or_a_positive_count(tmp_path, save_freq):
    with pytest.raises(ValueError, match="save_freq"):
        callbacks.BackupAndRestore(tmp_path, save_freq=save_freq)
    with pytest.raises(ValueError, match="save_freq"):
        callbacks.ModelCheckpoint(tmp_path / "m.keras", save_freq=save_freq)


def test_epoch_backups_ask_for_no_batch_hooks(tmp_path):
    assert not callbacks.CallbackList(
        [callbacks.BackupAndRestore(tmp_path), callbacks.ModelCheckpoint("m.keras")]
    ).wants_batch_hooks
    assert callbacks.CallbackList(
        [callbacks.ModelCheckpoint("m.keras", save_freq=3)]
    ).wants_batch_hooks


# --- ModelCheckpoint ----------------------------------------------------------------
def test_file_names_are_formatted_from_the_epoch_and_the_logs(tmp_path):
    model = _model()
    pattern = str(tmp_path / "ckpt" / "{epoch:02d}-{val_loss:.3f}.keras")
    history = model.fit(*_data(), **FIT, callbacks=[callbacks.ModelCheckpoint(pattern)])
    expected = [
        f"{epoch + 1:02d}-{loss:.3f}.keras"
        for epoch, loss in zip(history.epoch, history.history["val_loss"])
    ]
    assert sorted(os.listdir(tmp_path / "ckpt")) == sorted(expected)
    last = load_model(tmp_path / "ckpt" / expected[-1])
    x = _data()[0]
    np.testing.assert_array_equal(
        last.predict(x, verbose=0), model.predict(x, verbose=0)
    )


def test_batch_saves_name_the_batch_counted_from_one(tmp_path):
    pattern = str(tmp_path / "e{epoch}-b{batch}.weights.h5")
    checkpoint = callbacks.ModelCheckpoint(pattern, save_weights_only=True, save_freq=2)
    _model().fit(*_data(), **{**FIT, "epochs": 2}, callbacks=[checkpoint])
    # 30 training samples in batches of 8: 4 batches per epoch, a save every 2
    assert sorted(os.listdir(tmp_path)) == [
        "e1-b2.weights.h5",
        "e1-b4.weights.h5",
        "e2-b2.weights.h5",
        "e2-b4.weights.h5",
    ]


def test_a_missing_field_names_the_pattern(tmp_path):
    checkpoint = callbacks.ModelCheckpoint(str(tmp_path / "{val_auc}.keras"))
    with pytest.raises(KeyError, match="val_auc"):
        _model().fit(*_data(), **FIT, callbacks=[checkpoint])


def _saved_epochs(tmp_path, values, monitor, **kwargs):
    """Feed ``values`` of ``monitor`` as epoch logs; the epochs saved (from 1)."""
    model = _model()
    pattern = str(tmp_path / "{epoch}.weights.h5")
    checkpoint = callbacks.ModelCheckpoint(
        pattern, monitor, save_best_only=True, save_weights_only=True, **kwargs
    )
    checkpoint.set_model(model)
    for epoch, value in enumerate(values):
        checkpoint.on_epoch_begin(epoch)
        checkpoint.on_epoch_end(epoch, {monitor: value})
    return sorted(int(name.split(".")[0]) for name in os.listdir(tmp_path))


VALUES = [0.5, 0.4, 0.45, 0.3, 0.3, 0.6]


@pytest.mark.parametrize(
    "monitor, mode, threshold, saved",
    [
        ("val_loss", "min", None, [1, 2, 4]),
        ("val_loss", "auto", None, [1, 2, 4]),
        ("val_loss", "max", None, [1, 6]),
        ("val_accuracy", "auto", None, [1, 6]),
        ("val_accuracy", "max", None, [1, 6]),
        ("val_accuracy", "min", None, [1, 2, 4]),
        ("loss", "min", 0.35, [4]),
        ("val_acc", "auto", 0.55, [6]),
        ("val_mae", "auto", 0.1, []),
    ],
)
def test_save_best_only_by_mode(tmp_path, monitor, mode, threshold, saved):
    kwargs = {"mode": mode, "initial_value_threshold": threshold}
    assert _saved_epochs(tmp_path, VALUES, monitor, **kwargs) == saved


def test_without_the_monitored_value_it_saves_with_a_warning(tmp_path):
    checkpoint = callbacks.ModelCheckpoint(
        str(tmp_path / "m.keras"), "val_loss", save_best_only=True
    )
    with pytest.warns(UserWarning, match="val_loss available"):
        _model().fit(*_data(), epochs=1, verbose=0, callbacks=[checkpoint])
    assert (tmp_path / "m.keras").exists()


def test_weights_only_files_load_with_load_weights(tmp_path):
    model = _model()
    path = tmp_path / "best.weights.h5"
    checkpoint = callbacks.ModelCheckpoint(
        path, "loss", save_best_only=True, save_weights_only=True
    )
    history = model.fit(*_data(), **FIT, callbacks=[checkpoint])
    best_epoch = int(np.argmin(history.history["loss"]))
    other = _model()
    other.load_weights(path)
    if best_epoch == FIT["epochs"] - 1:
        for ours, theirs in zip(other.get_weights(), model.get_weights()):
            np.testing.assert_array_equal(ours, theirs)
    assert other.optimizer.iterations == 4 * (best_epoch + 1)


def test_every_epoch_overwrites_one_file_atomically(tmp_path):
    path = tmp_path / "model.keras"
    model = _model()
    model.fit(*_data(), **FIT, callbacks=[callbacks.ModelCheckpoint(path)])
    assert os.listdir(tmp_path) == ["model.keras"]  # no temporary files left
    assert load_model(path).optimizer.iterations == model.optimizer.iterations


@pytest.mark.parametrize(
    "path, weights_only",
    [("m.h5", False), ("m.weights.h5", False), ("m.keras", True), ("m.h5", True)],
)
def test_the_suffix_must_match_what_is_saved(path, weights_only):
    with pytest.raises(ValueError, match="must end in"):
        callbacks.ModelCheckpoint(path, save_weights_only=weights_only)


def test_an_unknown_mode_raises():
    with pytest.raises(ValueError, match="mode"):
        callbacks.ModelCheckpoint("m.keras", mode="maximum")
