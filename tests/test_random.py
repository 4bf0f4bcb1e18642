"""glassnet.random: Keras's ``keras.random`` API, with Keras's seed semantics."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys

import numpy as np
import pytest

import glassnet
from glassnet import Tensor, ops
from glassnet import random as grandom
from glassnet.autograd import gradcheck

DRAWS = {
    "normal": lambda seed: grandom.normal((3, 4), seed=seed),
    "uniform": lambda seed: grandom.uniform((3, 4), minval=-2, maxval=5, seed=seed),
    "truncated_normal": lambda seed: grandom.truncated_normal((500,), seed=seed),
    "randint": lambda seed: grandom.randint((3, 4), 0, 10, seed=seed),
    "categorical": lambda seed: grandom.categorical(np.zeros((2, 3)), 4, seed=seed),
    "gamma": lambda seed: grandom.gamma((3,), 2.0, seed=seed),
    "binomial": lambda seed: grandom.binomial((3,), 5, 0.3, seed=seed),
    "beta": lambda seed: grandom.beta((3,), 2.0, 3.0, seed=seed),
    "shuffle": lambda seed: grandom.shuffle(np.arange(10.0), seed=seed),
    "dropout": lambda seed: grandom.dropout(np.ones((4, 5)), 0.5, seed=seed),
}


@pytest.mark.parametrize("name", sorted(DRAWS))
def test_an_int_seed_gives_the_same_numbers_every_call(name):
    draw = DRAWS[name]
    a, b = draw(42), draw(42)
    assert isinstance(a, Tensor)
    np.testing.assert_array_equal(a.data, b.data)
    assert not np.array_equal(draw(42).data, draw(43).data)


@pytest.mark.parametrize("name", sorted(DRAWS))
def test_a_seed_generator_gives_a_sequence_that_repeats(name):
    draw = DRAWS[name]
    first = grandom.SeedGenerator(1337)
    sequence = [draw(first).data for _ in range(3)]
    assert not np.array_equal(sequence[0], sequence[1])
    again = grandom.SeedGenerator(1337)
    for expected in sequence:
        np.testing.assert_array_equal(draw(again).data, expected)
    # its first draw is the draw of its seed, as in Keras
    np.testing.assert_array_equal(draw(1337).data, sequence[0])


def test_the_sequence_repeats_in_a_fresh_process():
    code = (
        "import glassnet\n"
        "g = glassnet.random.SeedGenerator(7)\n"
        "print([float(glassnet.random.uniform((), seed=g)) for _ in range(3)])"
    )
    path = ":".join(p for p in sys.path if p)
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "PYTHONPATH": path}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env
    )
    assert out.returncode == 0, out.stderr
    g = grandom.SeedGenerator(7)
    assert out.stdout.strip() == str(
        [float(grandom.uniform((), seed=g)) for _ in range(3)]
    )


def test_seed_none_follows_set_random_seed():
    glassnet.utils.set_random_seed(5)
    first = [grandom.normal((3,)).data for _ in range(2)]
    glassnet.utils.set_random_seed(5)
    second = [grandom.normal((3,)).data for _ in range(2)]
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first[0], first[1])


def test_dtypes_shapes_and_ranges():
    x = grandom.uniform((1000,), minval=2.0, maxval=3.0, seed=0)
    assert x.dtype == np.float32 and x.shape == (1000,)
    assert 2.0 <= x.data.min() and x.data.max() < 3.0
    assert grandom.normal((2,), dtype="float64", seed=0).dtype == np.float64
    n = grandom.randint((1000,), 3, 6, seed=0)
    assert n.dtype == np.int32 and set(np.unique(n.data)) == {3, 4, 5}
    t = grandom.truncated_normal((10000,), mean=1.0, stddev=0.5, seed=0).data
    assert np.abs(t - 1.0).max() <= 1.0 and abs(t.std() - 0.44) < 0.02
    c = grandom.categorical(np.log([[0.2, 0.8], [1.0, 1e-9]]), 2000, seed=0)
    assert c.shape == (2, 2000) and c.dtype == np.int32
    assert abs(c.data[0].mean() - 0.8) < 0.03 and c.data[1].max() == 0


def test_shuffle_permutes_along_an_axis_and_is_differentiable():
    x = np.arange(12.0).reshape(3, 4)
    y = grandom.shuffle(x, axis=1, seed=3)
    np.testing.assert_array_equal(np.sort(y.data, axis=1), x)
    assert gradcheck(lambda t: grandom.shuffle(t, axis=1, seed=3) ** 2, x) < 1e-6


def test_dropout_keeps_keras_arithmetic_and_its_gradient():
    x = np.random.default_rng(0).uniform(1, 2, (200, 50)).astype("float32")
    y = grandom.dropout(x, 0.3, seed=1).data
    kept = y != 0
    np.testing.assert_array_equal(y[kept], (x / np.float32(0.7))[kept])
    assert abs(kept.mean() - 0.7) < 0.02
    shared = grandom.dropout(np.ones((4, 6)), 0.5, noise_shape=(None, 1), seed=2)
    assert all(len(set(row)) == 1 for row in shared.data)
    t = Tensor(x, requires_grad=True)
    ops.sum(grandom.dropout(t, 0.3, seed=1)).backward()
    np.testing.assert_allclose(t.grad, kept / np.float32(0.7), rtol=1e-6)
    assert not grandom.dropout(x, 1.0, seed=1).data.any()


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: grandom.normal((2,), seed="x"), "must be either an integer"),
        (lambda: grandom.SeedGenerator(1.5), "must be either an integer"),
        (lambda: grandom.SeedGenerator(1, bogus=2), "Unrecognized keyword"),
        (lambda: grandom.uniform((2,), dtype="int32"), "float dtype"),
        (lambda: grandom.dropout(np.ones(2), 1.5), "between 0 and 1"),
        (lambda: grandom.categorical(np.zeros(3), 2), "2-D"),
    ],
)
def test_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_seed_generator_config_round_trips():
    g = grandom.SeedGenerator(9, name="noise")
    clone = grandom.SeedGenerator.from_config(g.get_config())
    assert clone.get_config() == {"seed": 9, "name": "noise"}
    np.testing.assert_array_equal(g.next(), [9, 0])
    np.testing.assert_array_equal(g.state, [9, 1])


def test_the_functions_take_keras_arguments():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    for name in grandom.__all__:
        ours = inspect.signature(getattr(grandom, name)).parameters
        theirs = inspect.signature(getattr(keras.random, name)).parameters
        assert list(ours) == list(theirs), name
