from __future__ import annotations

import math
import os

import numpy as np
import pytest

from glassnet import initializers

# Keras 3's torch backend trips a NumPy 2 deprecation inside its own code.
pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation:DeprecationWarning"
)

RANDOM = [
    initializers.RandomUniform,
    initializers.RandomNormal,
    initializers.TruncatedNormal,
    initializers.VarianceScaling,
    initializers.GlorotUniform,
    initializers.GlorotNormal,
    initializers.HeUniform,
    initializers.HeNormal,
    initializers.LecunUniform,
    initializers.LecunNormal,
    initializers.Orthogonal,
]


def test_random_uniform_reproduces_random_state_bit_for_bit():
    # What the scikit-learn estimators rely on: same draws, and rs advanced.
    rs, reference = np.random.RandomState(2), np.random.RandomState(2)
    bound = math.sqrt(6.0 / (3 + 5))
    for shape in [(3, 5), (5,), (5, 1)]:
        got = initializers.RandomUniform(-bound, bound, seed=rs)(shape, "float64")
        want = reference.uniform(-bound, bound, shape)
        assert got.dtype == np.float64
        np.testing.assert_array_equal(got, want)
    assert rs.randint(1 << 30) == reference.randint(1 << 30)


def test_generator_seed_is_advanced():
    gen = np.random.default_rng(0)
    init = initializers.RandomNormal(seed=gen)
    first, second = init((4, 4)), init((4, 4))
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(
        initializers.RandomNormal(seed=np.random.default_rng(0))((4, 4)), first
    )


@pytest.mark.parametrize("cls", RANDOM, ids=lambda c: c.__name__)
def test_int_seed_is_deterministic_and_none_is_not(cls):
    a = cls(seed=7)((6, 5), "float64")
    b = cls(seed=7)((6, 5), "float64")
    c = cls(seed=7)((6, 5), "float64")
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)
    assert not np.array_equal(a, cls(seed=8)((6, 5), "float64"))
    assert not np.array_equal(cls()((6, 5)), cls()((6, 5)))
    assert cls(seed=7)((6, 5)).dtype == np.float32


@pytest.mark.parametrize(
    "cls, scale, mode, kind",
    [
        (initializers.GlorotUniform, 1.0, "fan_avg", "uniform"),
        (initializers.GlorotNormal, 1.0, "fan_avg", "truncated"),
        (initializers.HeUniform, 2.0, "fan_in", "uniform"),
        (initializers.HeNormal, 2.0, "fan_in", "truncated"),
        (initializers.LecunUniform, 1.0, "fan_in", "uniform"),
        (initializers.LecunNormal, 1.0, "fan_in", "truncated"),
    ],
    ids=lambda v: getattr(v, "__name__", str(v)),
)
def test_variance_scaling_statistics(cls, scale, mode, kind):
    shape = (3, 3, 40, 60)  # conv kernel: receptive field 9
    fan_in, fan_out = 9 * 40, 9 * 60
    n = {"fan_in": fan_in, "fan_avg": (fan_in + fan_out) / 2}[mode]
    values = cls(seed=0)(shape, "float64")
    assert values.shape == shape
    assert abs(values.mean()) < 0.01 * math.sqrt(scale / n) * 10
    np.testing.assert_allclose(values.std(), math.sqrt(scale / n), rtol=0.02)
    if kind == "uniform":
        assert np.abs(values).max() <= math.sqrt(3 * scale / n)
    else:  # truncated at two stddev of the untruncated normal
        assert np.abs(values).max() <= 2 * math.sqrt(scale / n) / 0.8796256610342398


def test_simple_distributions():
    u = initializers.RandomUniform(seed=1)((200, 100))
    assert u.min() >= -0.05 and u.max() < 0.05
    n = initializers.RandomNormal(mean=1.0, stddev=2.0, seed=1)((200, 100))
    assert abs(n.mean() - 1.0) < 0.05 and abs(n.std() - 2.0) < 0.05
    t = initializers.TruncatedNormal(mean=1.0, stddev=2.0, seed=1)((200, 100))
    assert t.min() >= -3.0 and t.max() <= 5.0
    # a normal truncated to 2 stddev has stddev 0.8796 of the untruncated one
    assert abs(t.std() - 2.0 * 0.8796) < 0.03


def test_constant_initializers():
    np.testing.assert_array_equal(initializers.Zeros()((2, 3)), np.zeros((2, 3)))
    np.testing.assert_array_equal(initializers.get("ones")(4), np.ones(4))
    c = initializers.Constant(2.5)((2, 2), "float64")
    assert c.dtype == np.float64 and (c == 2.5).all()
    row = initializers.Constant([1.0, 2.0])((3, 2))
    np.testing.assert_array_equal(row, [[1, 2]] * 3)
    with pytest.raises(ValueError, match="cannot fill"):
        initializers.Constant([1.0, 2.0, 3.0])((3, 2))
    np.testing.assert_array_equal(initializers.Identity(2.0)((2, 3)), 2 * np.eye(2, 3))


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (2, 2, 3, 4)])
def test_orthogonal_is_orthogonal(shape):
    q = initializers.Orthogonal(gain=2.0, seed=3)(shape, "float64")
    flat = q.reshape(-1, shape[-1])
    small = flat.T @ flat if flat.shape[0] >= flat.shape[1] else flat @ flat.T
    np.testing.assert_allclose(small, 4.0 * np.eye(len(small)), atol=1e-12)
    with pytest.raises(ValueError, match="rank at least 2"):
        initializers.Orthogonal()((3,))


def test_compute_fans_matches_keras():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    pytest.importorskip("keras")
    from keras.src.initializers.random_initializers import compute_fans

    for shape in [(), (7,), (3, 5), (3, 3, 2, 4), (5, 2, 8), (2, 3, 4, 5, 6)]:
        assert initializers.compute_fans(shape) == compute_fans(shape), shape


def test_get_and_config_round_trip():
    for name in ["glorot_uniform", "GlorotUniform", "he_normal", "zeros", "uniform"]:
        assert isinstance(initializers.get(name), initializers.Initializer)
    assert isinstance(initializers.get("glorot_uniform"), initializers.GlorotUniform)
    assert initializers.get(None) is None
    init = initializers.RandomUniform(-0.3, 0.3, seed=4)
    assert initializers.get(init) is init
    assert isinstance(initializers.get(initializers.HeNormal), initializers.HeNormal)
    again = initializers.deserialize(initializers.serialize(init))
    assert again.get_config() == {"minval": -0.3, "maxval": 0.3, "seed": 4}
    np.testing.assert_array_equal(again((3, 3)), init((3, 3)))
    vs = initializers.VarianceScaling(2.0, "fan_out", "uniform", seed=1)
    assert initializers.get(initializers.serialize(vs)).get_config() == vs.get_config()
    assert initializers.GlorotUniform(seed=5).get_config() == {"seed": 5}
    assert initializers.get(lambda shape, dtype: np.ones(shape)) is not None


def test_bad_arguments_have_clear_errors():
    with pytest.raises(ValueError, match="Valid names are: .*glorot_uniform"):
        initializers.get("glorot_uniformm")
    with pytest.raises(ValueError, match="seed"):
        initializers.RandomNormal(seed="1")
    with pytest.raises(ValueError, match="mode"):
        initializers.VarianceScaling(mode="fan")
    with pytest.raises(ValueError, match="distribution"):
        initializers.VarianceScaling(distribution="cauchy")
    with pytest.raises(ValueError, match="non-negative"):
        initializers.Zeros()((2, -1))
    with pytest.raises(TypeError, match="Could not interpret"):
        initializers.get(3.0)
