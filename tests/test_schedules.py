"""Learning-rate schedules: Keras's values and configs, every optimizer takes
one (called with the updates made before, as Keras calls it), and a model
compiled with one saves and loads with it, in glassnet and in Keras."""

from __future__ import annotations

import math

import numpy as np
import pytest

import glassnet
from glassnet import optimizers
from glassnet.optimizers import schedules
from glassnet.saving import (
    deserialize_keras_object,
    load_model,
    register_keras_serializable,
    serialize_keras_object,
)

STEPS = [0, 1, 2, 5, 9, 10, 11, 50, 99, 100, 101, 149, 150, 151, 250, 999, 1000, 5000]

#: (class name, arguments): each schedule with and without its options.
SCHEDULES = [
    (
        "ExponentialDecay",
        dict(initial_learning_rate=0.1, decay_steps=10, decay_rate=0.9),
    ),
    (
        "ExponentialDecay",
        dict(initial_learning_rate=0.5, decay_steps=7, decay_rate=0.5, staircase=True),
    ),
    (
        "PiecewiseConstantDecay",
        dict(boundaries=[10, 100, 150], values=[1.0, 0.5, 0.1, 0.01]),
    ),
    ("PiecewiseConstantDecay", dict(boundaries=[0], values=[0.3, 0.2])),
    ("PolynomialDecay", dict(initial_learning_rate=0.1, decay_steps=100)),
    (
        "PolynomialDecay",
        dict(
            initial_learning_rate=0.1,
            decay_steps=100,
            end_learning_rate=0.01,
            power=0.5,
            cycle=True,
        ),
    ),
    (
        "InverseTimeDecay",
        dict(initial_learning_rate=0.1, decay_steps=1.0, decay_rate=0.5),
    ),
    (
        "InverseTimeDecay",
        dict(initial_learning_rate=0.2, decay_steps=10, decay_rate=2.0, staircase=True),
    ),
    ("CosineDecay", dict(initial_learning_rate=0.1, decay_steps=150)),
    ("CosineDecay", dict(initial_learning_rate=0.1, decay_steps=150, alpha=0.2)),
    (
        "CosineDecay",
        dict(
            initial_learning_rate=0.0,
            decay_steps=1000,
            warmup_target=0.1,
            warmup_steps=100,
        ),
    ),
    (
        "CosineDecay",
        dict(
            initial_learning_rate=0.01,
            decay_steps=50,
            alpha=0.1,
            warmup_target=0.2,
            warmup_steps=11,
        ),
    ),
    ("CosineDecayRestarts", dict(initial_learning_rate=0.1, first_decay_steps=10)),
    (
        "CosineDecayRestarts",
        dict(
            initial_learning_rate=0.1,
            first_decay_steps=20,
            t_mul=1.0,
            m_mul=0.5,
            alpha=0.1,
        ),
    ),
]
IDS = [f"{name}-{i}" for i, (name, _) in enumerate(SCHEDULES)]


@pytest.mark.parametrize("name, kwargs", SCHEDULES, ids=IDS)
def test_values_equal_keras(keras, name, kwargs):
    ours = getattr(schedules, name)(**kwargs)
    theirs = getattr(keras.optimizers.schedules, name)(**kwargs)
    peak = max(
        kwargs.get("initial_learning_rate", 0.0),
        kwargs.get("warmup_target") or 0.0,
        *kwargs.get("values", [0.0]),
    )
    for step in STEPS:
        expected = float(keras.ops.convert_to_numpy(theirs(step)))
        # NOTE: float32's cos(pi * f) near f = 1 is off by ~1e-7 of the peak,
        # which is most of a rate that has decayed to ~0 there.
        assert math.isclose(ours(step), expected, rel_tol=1e-6, abs_tol=2e-7 * peak), (
            f"step {step}: {ours(step)} != {expected}"
        )


@pytest.mark.parametrize("name, kwargs", SCHEDULES, ids=IDS)
def test_configs_equal_keras_and_round_trip(keras, name, kwargs):
    ours = getattr(schedules, name)(**kwargs)
    theirs = getattr(keras.optimizers.schedules, name)(**kwargs)
    assert ours.get_config() == theirs.get_config()
    written = schedules.serialize(ours)
    assert written == {
        "module": "keras.optimizers.schedules",
        "class_name": name,
        "config": ours.get_config(),
        "registered_name": None,
    }
    assert written == keras.optimizers.schedules.serialize(theirs)
    again = schedules.deserialize(written)
    assert type(again) is type(ours) and again.get_config() == ours.get_config()
    assert type(keras.optimizers.schedules.deserialize(written)) is type(theirs)


def test_values_by_hand():
    decay = schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    assert decay(0) == 0.1 and decay(10) == 0.05 and decay(20) == 0.025
    steps = schedules.PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1])
    assert [steps(s) for s in (0, 10, 11, 20, 21)] == [1.0, 1.0, 0.5, 0.5, 0.1]
    cosine = schedules.CosineDecay(
        1.0, decay_steps=4, warmup_target=2.0, warmup_steps=2
    )
    assert [cosine(s) for s in (0, 1, 2, 4, 6, 9)] == pytest.approx(
        [1.0, 1.5, 2.0, 1.0, 0.0, 0.0], abs=1e-12
    )
    assert schedules.InverseTimeDecay(1.0, 1, 1.0)(3) == 0.25
    assert schedules.ExponentialDecay(0.1, 10, 0.5)(np.int64(10)) == 0.05


class _Recorder(schedules.LearningRateSchedule):
    """0.1 at every step, and the steps it was asked for."""

    def __init__(self):
        self.steps = []

    def __call__(self, step):
        self.steps.append(step)
        return 0.1


@pytest.mark.parametrize(
    "make",
    [
        optimizers.SGD,
        optimizers.Adam,
        optimizers.AdamW,
        optimizers.RMSprop,
        optimizers.Adagrad,
    ],
)
def test_every_optimizer_calls_its_schedule_with_the_updates_before(make):
    recorder = _Recorder()
    scheduled = make(learning_rate=recorder)
    constant = make(learning_rate=0.1)
    w1, w2 = np.ones((2, 3)), np.ones((2, 3))
    for k in range(3):
        grad = np.full((2, 3), 0.5 + k)
        scheduled.apply([grad], [w1])
        constant.apply([grad], [w2])
    assert recorder.steps == [0, 1, 2]
    np.testing.assert_array_equal(w1, w2)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_updates_with_a_schedule_equal_keras(keras, name):
    kwargs = dict(initial_learning_rate=0.1, decay_steps=2, decay_rate=0.5)
    ours = getattr(optimizers, name)(learning_rate=schedules.ExponentialDecay(**kwargs))
    theirs = getattr(keras.optimizers, name)(
        learning_rate=keras.optimizers.schedules.ExponentialDecay(**kwargs)
    )
    start = np.linspace(-1, 1, 6, dtype="float32").reshape(2, 3)
    w = start.copy()
    v = keras.Variable(start)
    for k in range(4):
        grad = np.cos(start * (k + 1)).astype("float32")
        ours.apply([grad], [w])
        theirs.apply([keras.ops.convert_to_tensor(grad)], [v])
    # NOTE: as tests/test_optimizers.py: Keras's float32 bias correction
    # (1 - 0.999**t) is off by ~1e-5, so the tolerance is relative to the scale.
    theirs_w = keras.ops.convert_to_numpy(v)
    np.testing.assert_allclose(
        w, theirs_w, rtol=1e-5, atol=1e-5 * np.abs(theirs_w).max()
    )
    assert ours.iterations == int(keras.ops.convert_to_numpy(theirs.iterations)) == 4


def _model(k, optimizer):
    model = k.Sequential(
        [k.Input((3,)), k.layers.Dense(4, activation="tanh"), k.layers.Dense(1)]
    )
    model.compile(optimizer=optimizer, loss="mse")
    return model


def _data():
    x = np.linspace(-1, 1, 48, dtype="float32").reshape(16, 3)
    return x, np.sin(x).sum(axis=1, keepdims=True)


def test_a_compiled_model_saves_and_loads_with_its_schedule(tmp_path):
    schedule = schedules.CosineDecay(
        0.05, decay_steps=20, warmup_target=0.1, warmup_steps=5
    )
    model = _model(glassnet, optimizers.Adam(learning_rate=schedule))
    x, y = _data()
    model.fit(x, y, batch_size=4, epochs=2, verbose=0)
    model.save(tmp_path / "m.keras")
    again = load_model(tmp_path / "m.keras")
    assert type(again.optimizer.learning_rate) is schedules.CosineDecay
    assert again.optimizer.learning_rate.get_config() == schedule.get_config()
    assert again.optimizer.iterations == model.optimizer.iterations == 8
    model.fit(x, y, batch_size=4, epochs=1, verbose=0, shuffle=False)
    again.fit(x, y, batch_size=4, epochs=1, verbose=0, shuffle=False)
    for a, b in zip(model.get_weights(), again.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_glassnet_file_with_a_schedule_loads_in_keras(keras, tmp_path):
    schedule = schedules.ExponentialDecay(0.1, decay_steps=3, decay_rate=0.8)
    model = _model(glassnet, optimizers.SGD(learning_rate=schedule, momentum=0.9))
    x, y = _data()
    model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    theirs = keras.saving.load_model(tmp_path / "m.keras")
    loaded = theirs.optimizer._learning_rate
    assert isinstance(loaded, keras.optimizers.schedules.ExponentialDecay)
    assert loaded.get_config() == schedule.get_config()
    assert int(keras.ops.convert_to_numpy(theirs.optimizer.iterations)) == 4
    np.testing.assert_allclose(
        np.asarray(theirs.predict(x, verbose=0)), model.predict(x, verbose=0), rtol=1e-5
    )


def test_keras_file_with_a_schedule_loads_in_glassnet(keras, tmp_path):
    kwargs = dict(boundaries=[2, 5], values=[0.1, 0.05, 0.01])
    theirs = _model(
        keras,
        keras.optimizers.RMSprop(
            keras.optimizers.schedules.PiecewiseConstantDecay(**kwargs)
        ),
    )
    x, y = _data()
    theirs.fit(x, y, batch_size=4, epochs=1, verbose=0)
    theirs.save(tmp_path / "k.keras")
    ours = load_model(tmp_path / "k.keras")
    assert type(ours.optimizer.learning_rate) is schedules.PiecewiseConstantDecay
    assert ours.optimizer.learning_rate.get_config() == {
        **kwargs,
        "name": "PiecewiseConstant",
    }
    assert ours.optimizer.iterations == 4


@register_keras_serializable(package="schedule_tests")
class HalfLife(schedules.LearningRateSchedule):
    def __init__(self, start, half_life):
        self.start, self.half_life = start, half_life

    def __call__(self, step):
        return self.start * 0.5 ** (step / self.half_life)

    def get_config(self):
        return {"start": self.start, "half_life": self.half_life}


def test_a_registered_subclass_round_trips_through_an_optimizer_config():
    optimizer = optimizers.SGD(learning_rate=HalfLife(0.2, 10))
    config = serialize_keras_object(optimizer)
    assert (
        config["config"]["learning_rate"]["registered_name"]
        == "schedule_tests>HalfLife"
    )
    again = deserialize_keras_object(config)
    assert isinstance(again.learning_rate, HalfLife) and again.learning_rate(10) == 0.1


def test_errors_and_the_base_class():
    with pytest.raises(ValueError, match="decay_steps` must be > 0"):
        schedules.ExponentialDecay(0.1, 0, 0.5)
    with pytest.raises(ValueError, match="first_decay_steps` must be > 0"):
        schedules.CosineDecayRestarts(0.1, -1)
    with pytest.raises(ValueError, match="1 less than the length of values"):
        schedules.PiecewiseConstantDecay([1, 2], [0.1, 0.2])
    with pytest.raises(NotImplementedError, match="must override `__call__"):
        schedules.LearningRateSchedule()(0)
    with pytest.raises(NotImplementedError, match="must override `get_config"):
        schedules.LearningRateSchedule().get_config()
    assert repr(schedules.LearningRateSchedule()) == "<LearningRateSchedule>"


def test_keras_module_paths():
    from glassnet.optimizers.schedules import ExponentialDecay

    assert glassnet.optimizers.schedules is glassnet.schedules
    assert ExponentialDecay is glassnet.optimizers.schedules.ExponentialDecay
