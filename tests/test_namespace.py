"""``import glassnet`` stays light: what it does not import, checked in a fresh
interpreter (no wall-clock threshold: the figures are in the commit messages)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

#: Imported only by the parts that need them, never by ``import glassnet``.
HEAVY = ("scipy", "sklearn", "matplotlib", "h5py", "torch", "keras", "threadpoolctl")


def _fresh(code: str) -> dict:
    """Run ``code`` (which prints one JSON line) in a fresh interpreter."""
    path = ":".join(p for p in sys.path if p)
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "HOME": "/tmp", "PYTHONPATH": path},
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_import_glassnet_imports_none_of_the_heavy_dependencies():
    loaded = _fresh(
        "import json, sys, glassnet\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    assert loaded == []


def test_scipy_is_imported_by_the_first_op_that_needs_it():
    from glassnet import Tensor, ops
    from glassnet.ops import _special

    x = np.linspace(-3, 3, 7)
    scipy_special = __import__("scipy.special", fromlist=["expit"])
    assert _special.expit is scipy_special.expit
    np.testing.assert_array_equal(ops.sigmoid(Tensor(x)).data, scipy_special.expit(x))


#: Keras's submodules glassnet has, reachable after a plain ``import glassnet``.
SUBMODULES = """activations callbacks config initializers layers losses metrics
models ops optimizers random regularizers saving utils""".split()
#: Keras's top-level classes glassnet has, and where they are defined.
TOP_LEVEL = {
    "Sequential": "glassnet.models",
    "Model": "glassnet.models",
    "Input": "glassnet.layers",
    "Layer": "glassnet.layers",
    "KerasTensor": "glassnet.layers",
    "Optimizer": "glassnet.optimizers",
    "Loss": "glassnet.losses",
    "Metric": "glassnet.metrics",
    "Initializer": "glassnet.initializers",
    "Regularizer": "glassnet.regularizers",
}


def test_submodules_load_when_first_named_not_before():
    report = _fresh(
        "import json, sys, glassnet\n"
        "names = " + repr(SUBMODULES) + "\n"
        "before = [n for n in names if 'glassnet.' + n in sys.modules]\n"
        "modules = {n: getattr(glassnet, n).__name__ for n in names}\n"
        "print(json.dumps({'before': before, 'modules': modules}))"
    )
    # the engine's own floors are there from the start; Keras's others are not
    assert sorted(report["before"]) == ["config", "ops"]
    assert report["modules"] == {n: f"glassnet.{n}" for n in SUBMODULES}


def test_import_glassnet_as_keras_gives_the_top_level_names():
    import importlib

    import glassnet as keras

    for name, module in TOP_LEVEL.items():
        assert getattr(keras, name) is getattr(importlib.import_module(module), name)
    assert set(TOP_LEVEL) | set(SUBMODULES) <= set(dir(keras))
    assert set(TOP_LEVEL) | set(SUBMODULES) - {"config"} <= set(keras.__all__)
    assert keras.version() == keras.__version__
    assert keras.optimizers.schedules.ExponentialDecay.__name__ == "ExponentialDecay"
    from glassnet import Sequential  # noqa: F401  (from-imports work too)


def test_an_unknown_name_is_an_attribute_error():
    import glassnet

    with pytest.raises(AttributeError, match="no attribute 'layer'"):
        glassnet.layer  # noqa: B018
    assert not hasattr(glassnet, "backend")


def test_keras_config_readers():
    import glassnet as keras

    assert keras.config.floatx() == "float32"
    assert keras.config.epsilon() == 1e-7
    assert keras.config.image_data_format() == "channels_last"
    assert keras.ops.ones((2,)).dtype == np.dtype(keras.config.floatx())


def test_a_keras_style_program_runs_end_to_end(tmp_path):
    from sklearn.datasets import load_digits

    import glassnet as keras

    keras.utils.set_random_seed(0)
    digits = load_digits()
    x = (digits.data / 16.0).astype("float32")
    y = keras.utils.to_categorical(digits.target, num_classes=10)

    @keras.saving.register_keras_serializable(package="namespace_tests")
    def steep_swish(z):  # a custom activation written with keras.ops
        return keras.ops.multiply(z, keras.ops.sigmoid(keras.ops.multiply(z, 1.5)))

    model = keras.Sequential(
        [
            keras.Input(shape=(64,)),
            keras.layers.Dense(32, activation=steep_swish),
            keras.layers.Dropout(0.1),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    schedule = keras.optimizers.schedules.ExponentialDecay(
        initial_learning_rate=0.01, decay_steps=20, decay_rate=0.9
    )
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=schedule),
        loss=keras.losses.CategoricalCrossentropy(),
        metrics=["accuracy"],
    )
    history = model.fit(
        x[:1400], y[:1400], batch_size=64, epochs=5, validation_split=0.1, verbose=0
    )
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert model.optimizer.iterations == 5 * 20  # 1260 samples in batches of 64

    predicted = keras.ops.argmax(model.predict(x[1400:], verbose=0), axis=-1)
    accuracy = keras.ops.mean(keras.ops.equal(predicted, digits.target[1400:]))
    assert float(accuracy) > 0.85

    model.save(tmp_path / "digits.keras")
    again = keras.saving.load_model(tmp_path / "digits.keras")
    np.testing.assert_array_equal(
        again.predict(x, verbose=0), model.predict(x, verbose=0)
    )
    assert again.optimizer.learning_rate.get_config() == schedule.get_config()
