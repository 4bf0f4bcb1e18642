"""Whole-model files, weights files and JSON configs: exact round trips, atomic
writes, and one documented error for every kind of bad file."""

from __future__ import annotations

import json
import os
import zipfile

import h5py
import numpy as np
import pytest

from glassnet import layers as L
from glassnet import optimizers
from glassnet.models import Model, Sequential, load_model, model_from_json
from glassnet.saving import FileFormatError, register_keras_serializable, save_model

from .files import (
    edit_h5,
    edit_json,
    members,
    replace_dataset,
    rewrite,
    write_zip,
)

KERNEL = "layers/dense/vars/0"


def _mlp(optimizer="adam", **compile_kwargs):
    model = Sequential(
        [
            L.Input((5,)),
            L.Dense(8, activation="relu"),
            L.BatchNormalization(),
            L.Dense(3, activation="softmax"),
        ]
    )
    model.compile(optimizer, "categorical_crossentropy", **compile_kwargs)
    return model


def _data(n=32, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 5)).astype("float32")
    return x, np.eye(3, dtype="float32")[rng.integers(0, 3, n)]


@pytest.fixture
def saved(tmp_path):
    """A trained, compiled model and the .keras file it was saved to."""
    model = _mlp(metrics=["accuracy"])
    model.fit(*_data(), batch_size=8, epochs=2, verbose=0)
    path = tmp_path / "model.keras"
    model.save(path)
    return model, path


def _same_weights(a, b):
    return all(np.array_equal(x, y) for x, y in zip(a.get_weights(), b.get_weights()))


# --- exact round trips ---
OPTIMIZERS = [
    optimizers.SGD(0.05),
    optimizers.SGD(0.05, momentum=0.9, nesterov=True, clipnorm=1.0),
    optimizers.Adam(0.01, amsgrad=True),
    optimizers.Adam(0.01, step_dtype="float64"),
    optimizers.AdamW(0.01, weight_decay=0.05),
    optimizers.RMSprop(0.01, momentum=0.5, centered=True),
    optimizers.Adagrad(0.1, initial_accumulator_value=0.2),
]


@pytest.mark.parametrize("optimizer", OPTIMIZERS, ids=repr)
def test_round_trip_restores_weights_optimizer_state_and_compile(tmp_path, optimizer):
    model = _mlp(optimizer, metrics=["mae"])
    x, y = _data()
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")

    again = load_model(tmp_path / "m.keras")

    np.testing.assert_array_equal(
        again.predict(x, verbose=0), model.predict(x, verbose=0)
    )
    assert type(again.optimizer) is type(optimizer)
    assert again.optimizer.get_config() == optimizer.get_config()
    assert again.optimizer.iterations == optimizer.iterations == 4
    for ours, theirs in zip(again.trainable_weights, model.trainable_weights):
        for a, b in zip(again.optimizer.slots(ours), optimizer.slots(theirs)):
            np.testing.assert_array_equal(a, b)
    assert again.get_compile_config() == model.get_compile_config()
    model.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False)
    again.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False)
    assert _same_weights(again, model)


def test_functional_chain_round_trip(tmp_path):
    inputs = L.Input((6, 6, 2))
    x = L.Conv2D(3, 3, activation="relu")(inputs)
    x = L.MaxPooling2D()(x)
    outputs = L.Dense(2)(L.Flatten()(x))
    model = Model(inputs, outputs, name="chain")
    model.save(tmp_path / "f.keras")
    again = load_model(tmp_path / "f.keras")
    assert type(again) is Model and again.name == "chain"
    assert [type(layer) for layer in again.layers] == [type(la) for la in model.layers]
    x = np.random.default_rng(0).standard_normal((4, 6, 6, 2))
    np.testing.assert_array_equal(
        again.predict(x, verbose=0), model.predict(x, verbose=0)
    )


def test_compile_config_is_keras_layout(saved):
    model, path = saved
    config = json.loads(members(path)["config.json"])["compile_config"]
    assert config["loss"] == "categorical_crossentropy"
    assert config["metrics"] == ["accuracy"]
    assert config["optimizer"]["module"] == "keras.optimizers"
    assert config["optimizer"]["config"]["learning_rate"] == 0.001
    assert "step_dtype" not in config["optimizer"]["config"]
    again = load_model(path)
    assert again.loss == "categorical_crossentropy"
    history = again.fit(*_data(), epochs=1, verbose=0)
    assert set(history.history) == {"loss", "accuracy"}


def test_load_without_compile(saved):
    model, path = saved
    again = load_model(path, compile=False)
    assert not again.compiled and again.optimizer is None
    assert _same_weights(again, model)


def test_model_without_explicit_input_gets_keras_input_layer(tmp_path):
    model = Sequential([L.Dense(4, input_dim=3), L.Dense(1)])
    model.save(tmp_path / "m.keras")
    config = json.loads(members(tmp_path / "m.keras")["config.json"])
    assert config["config"]["layers"][0]["class_name"] == "InputLayer"
    assert config["config"]["layers"][0]["config"]["batch_shape"] == [None, 3]
    assert _same_weights(load_model(tmp_path / "m.keras"), model)


def test_weights_files(tmp_path):
    model = _mlp()
    model.fit(*_data(), epochs=1, verbose=0)
    model.save_weights(tmp_path / "w.weights.h5")
    other = _mlp()
    other.load_weights(tmp_path / "w.weights.h5")
    assert _same_weights(other, model)
    assert other.optimizer.iterations == model.optimizer.iterations
    model.save(tmp_path / "m.keras")
    third = _mlp()
    third.load_weights(tmp_path / "m.keras")
    assert _same_weights(third, model)
    with pytest.raises(ValueError, match=r"\.weights\.h5"):
        model.save_weights(tmp_path / "w.h5")


def test_load_weights_is_all_or_nothing(tmp_path):
    model = _mlp()
    wider = Sequential([L.Input((5,)), L.Dense(8), L.BatchNormalization(), L.Dense(4)])
    wider.save_weights(tmp_path / "w.weights.h5")
    before = model.get_weights()
    with pytest.raises(FileFormatError, match=r"layers/dense_1.*shape \(8, 4\)"):
        model.load_weights(tmp_path / "w.weights.h5")
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    with pytest.warns(UserWarning, match="Skipping layers/dense_1"):
        model.load_weights(tmp_path / "w.weights.h5", skip_mismatch=True)
    np.testing.assert_array_equal(
        model.layers[0].kernel.data, wider.layers[0].kernel.data
    )


def test_optimizer_state_of_another_optimizer_is_skipped_with_a_warning(tmp_path):
    model = _mlp("adam")
    model.fit(*_data(), epochs=1, verbose=0)
    model.save_weights(tmp_path / "w.weights.h5")
    other = _mlp("rmsprop")
    with pytest.warns(UserWarning, match="optimizer state was not loaded"):
        other.load_weights(tmp_path / "w.weights.h5")
    assert _same_weights(other, model)


def test_json_round_trip():
    model = _mlp()
    clone = model_from_json(model.to_json())
    assert clone.get_config() == model.get_config()
    assert clone.compiled and type(clone.optimizer) is type(model.optimizer)
    with pytest.raises(FileFormatError, match="JSON config"):
        model_from_json("[1, 2]")


def test_save_arguments(tmp_path, saved):
    model, path = saved
    with pytest.raises(FileExistsError):
        model.save(path, overwrite=False)
    with pytest.raises(ValueError, match=r"\.keras"):
        model.save(tmp_path / "model.h5")
    with pytest.raises(ValueError, match="not built"):
        Sequential([L.Dense(2)]).save(tmp_path / "u.keras")
    lam = Sequential([L.Input((2,)), L.Dense(2, activation=lambda t: t)])
    with pytest.raises(ValueError, match="lambda"):
        lam.save(tmp_path / "lam.keras")
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "missing.keras")


def test_a_failed_save_leaves_the_old_file(tmp_path, saved, monkeypatch):
    model, path = saved
    before = path.read_bytes()

    def broken(file, config, weights):
        file.write(b"PK\x03\x04 half a zip")
        raise OSError("disk full")

    monkeypatch.setattr("glassnet.saving.archive.write_archive", broken)
    with pytest.raises(OSError, match="disk full"):
        model.save(path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.keras"]


def test_save_to_and_load_from_file_objects(saved):
    import io

    model, _ = saved
    buffer = io.BytesIO()
    save_model(model, buffer)
    buffer.seek(0)
    assert _same_weights(load_model(buffer), model)


# --- bad files: one documented exception, a message that says what is wrong ---
def _bad(tmp_path, path, **changes):
    out = tmp_path / "bad.keras"
    rewrite(path, out, **changes)
    return out


def _set(*keys, value=None, delete=False):
    def edit(config):
        for key in keys[:-1]:
            config = config[key]
        if delete:
            del config[keys[-1]]
        else:
            config[keys[-1]] = value

    return edit_json(edit)


LAYERS = ("config", "layers")
BAD_CONFIGS = [
    ("unknown class", _set(*LAYERS, 1, "class_name", value="Densse"), "Unknown layer"),
    ("future format", None, "newer major version"),
    ("units changed", _set(*LAYERS, 1, "config", "units", value=9), "incompatible"),
    ("units huge", _set(*LAYERS, 1, "config", "units", value=10**12), "more than"),
    ("units bool", _set(*LAYERS, 1, "config", "units", value=True), "units"),
    ("arbitrary module", _set(*LAYERS, 1, "module", value="os"), "never imported"),
    ("lambda", _set(*LAYERS, 1, "class_name", value="__lambda__"), "Unknown layer"),
    (
        "constraint set",
        _set(*LAYERS, 1, "config", "kernel_constraint", value={}),
        "kernel_constraint",
    ),
    ("no layers", _set("config", "layers", delete=True), "layers"),
    ("a list", lambda data: b"[]", "JSON object"),
    ("not JSON", lambda data: data[:-3], "not valid JSON"),
    ("deep", lambda data: b"[" * 100000 + b"]" * 100000, "nested too deeply|JSON"),
]


@pytest.mark.parametrize(
    "what, change, message", BAD_CONFIGS, ids=[c[0] for c in BAD_CONFIGS]
)
def test_bad_configs(tmp_path, saved, what, change, message):
    _, path = saved
    if what == "future format":
        bad = _bad(tmp_path, path, metadata_json=_set("keras_version", value="4.0.1"))
    else:
        bad = _bad(tmp_path, path, config_json=change)
    with pytest.raises(FileFormatError, match=message):
        load_model(bad)


BAD_WEIGHTS = [
    (
        "wrong shape",
        replace_dataset(KERNEL, data=np.zeros((5, 9), "f4")),
        r"shape \(5, 9\)",
    ),
    (
        "wrong dtype",
        replace_dataset(KERNEL, data=np.zeros((5, 8), "f8")),
        "dtype float64",
    ),
    ("missing", lambda f: f.__delitem__("layers/dense/vars/1"), "has 1 variables"),
    (
        "extra",
        lambda f: f.create_dataset("layers/dense/vars/2", data=1.0),
        "has 3 variables",
    ),
    (
        "renamed",
        lambda f: f.move("layers/dense/vars/1", "layers/dense/vars/x"),
        "named",
    ),
    ("no group", lambda f: f.__delitem__("layers/dense_1"), "has 0 variables"),
    ("strings", replace_dataset(KERNEL, data=np.array([b"x"] * 8)), "plain IEEE"),
    (
        "objects",
        replace_dataset(KERNEL, shape=(5, 8), dtype=h5py.string_dtype()),
        "plain IEEE",
    ),
    (
        "compound",
        replace_dataset(KERNEL, shape=(5, 8), dtype=[("a", "f4")]),
        "plain IEEE",
    ),
    (
        "gzip",
        replace_dataset(KERNEL, data=np.zeros((5, 8), "f4"), compression="gzip"),
        "filters",
    ),
    (
        "chunked",
        replace_dataset(KERNEL, data=np.zeros((5, 8), "f4"), chunks=(1, 8)),
        "contiguous",
    ),
    (
        "external storage",
        replace_dataset(
            KERNEL, shape=(5, 8), dtype="f4", external=[("/etc/passwd", 0, 160)]
        ),
        "outside the file",
    ),
    (
        "external link",
        lambda f: (
            f.__delitem__(KERNEL),
            f.__setitem__(KERNEL, h5py.ExternalLink("/etc/x.h5", "/a")),
        ),
        "ExternalLink",
    ),
    (
        "soft link",
        lambda f: (
            f.__delitem__(KERNEL),
            f.__setitem__(KERNEL, h5py.SoftLink("/layers/dense_1/vars/0")),
        ),
        "SoftLink",
    ),
    (
        "group link",
        lambda f: (
            f.__delitem__("layers/dense"),
            f.__setitem__("layers/dense", h5py.SoftLink("/layers/dense_1")),
        ),
        "SoftLink",
    ),
    ("optimizer count", lambda f: f.__delitem__("optimizer/vars/3"), "optimizer has"),
    ("iterations float", replace_dataset("optimizer/vars/0", data=2.5), "dtype"),
    (
        "iterations negative",
        replace_dataset("optimizer/vars/0", data=np.int64(-3)),
        "iteration count",
    ),
]


@pytest.mark.parametrize(
    "what, edit, message", BAD_WEIGHTS, ids=[c[0] for c in BAD_WEIGHTS]
)
def test_bad_weights(tmp_path, saved, what, edit, message):
    _, path = saved
    bad = _bad(tmp_path, path, model_weights_h5=edit_h5(edit))
    with pytest.raises(FileFormatError, match=message):
        load_model(bad)


def test_bad_archives(tmp_path, saved):
    _, path = saved
    data = path.read_bytes()
    cases = {
        "not a zip": b"hello" * 100,
        "truncated": data[: len(data) // 2],
        "hdf5": b"\x89HDF\r\n\x1a\n" + bytes(100),
        "empty": b"",
    }
    for content in cases.values():
        (tmp_path / "bad.keras").write_bytes(content)
        with pytest.raises(FileFormatError, match="not a .keras file"):
            load_model(tmp_path / "bad.keras")
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0xFF
    (tmp_path / "bad.keras").write_bytes(bytes(flipped))
    with pytest.raises(FileFormatError, match="CRC|Bad"):
        load_model(tmp_path / "bad.keras")


def test_bad_members(tmp_path, saved):
    _, path = saved
    contents = members(path)
    bad = tmp_path / "bad.keras"
    write_zip(bad, {k: v for k, v in contents.items() if k != "model.weights.h5"})
    with pytest.raises(FileFormatError, match="no model.weights.h5"):
        load_model(bad)
    with zipfile.ZipFile(bad, "w") as archive:
        for name, value in [*contents.items(), ("config.json", b"{}")]:
            archive.writestr(name, value)
    with pytest.raises(FileFormatError, match="distinct"):
        load_model(bad)
    bomb = {**contents, "model.weights.h5": bytes(64 << 20)}
    write_zip(bad, bomb, deflate=True)
    with pytest.raises(FileFormatError, match="decompression bomb"):
        load_model(bad)
    write_zip(bad, {**contents, "model.weights.h5": b"not hdf5" * 1000})
    with pytest.raises(FileFormatError, match="not an HDF5 file"):
        load_model(bad)
    write_zip(bad, {**contents, "metadata.json": b'{"keras_version": 3}'})
    with pytest.raises(FileFormatError, match="keras_version"):
        load_model(bad)


def test_a_bad_file_never_changes_the_model_it_loads_into(tmp_path, saved):
    model, path = saved
    bad = _bad(
        tmp_path,
        path,
        model_weights_h5=edit_h5(
            replace_dataset("layers/dense_1/vars/0", data=np.zeros((8, 2), "f4"))
        ),
    )
    other = _mlp()
    before = other.get_weights()
    with pytest.raises(FileFormatError):
        other.load_weights(bad)
    assert all(np.array_equal(a, b) for a, b in zip(before, other.get_weights()))


def test_declared_sizes_must_fit_the_file(tmp_path, saved):
    _, path = saved
    data = bytearray(path.read_bytes())
    # the central directory entry of the weights: uncompressed size at +24
    entry = data.rindex(b"PK\x01\x02", 0, data.rindex(b"model.weights.h5"))
    data[entry + 24 : entry + 28] = (2**32 - 2).to_bytes(4, "little")
    (tmp_path / "bad.keras").write_bytes(bytes(data))
    with pytest.raises(FileFormatError, match="declares .* stored bytes"):
        load_model(tmp_path / "bad.keras")


@register_keras_serializable(package="saving_files_tests")
class InverseTime:
    """A learning-rate schedule: ``start / (1 + step)``."""

    def __init__(self, start=0.1):
        self.start = start

    def __call__(self, step):
        return self.start / (1 + step)

    def get_config(self):
        return {"start": self.start}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def test_a_registered_schedule_and_its_step_come_back(tmp_path):
    model = _mlp(optimizers.SGD(InverseTime(0.2), momentum=0.9))
    x, y = _data()
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    again = load_model(tmp_path / "m.keras")
    assert isinstance(again.optimizer.learning_rate, InverseTime)
    assert again.optimizer.learning_rate.start == 0.2
    model.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False)
    again.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False)
    assert _same_weights(again, model)
    model.optimizer.learning_rate = lambda step: 0.1
    with pytest.raises(ValueError, match="lambda"):
        model.save(tmp_path / "m.keras")
