"""set_random_seed: initial weights, fit's shuffling, Dropout masks and
glassnet.random repeat after it, as after Keras's."""

from __future__ import annotations

import random

import numpy as np
import pytest

import glassnet
from glassnet.utils import set_random_seed


def _train(seed):
    set_random_seed(seed)
    model = glassnet.Sequential(
        [
            glassnet.Input((4,)),
            glassnet.layers.Dense(8, activation="relu"),
            glassnet.layers.Dropout(0.5),
            glassnet.layers.Dense(1),
        ]
    )
    initial = [w.copy() for w in model.get_weights()]
    x = np.linspace(-1, 1, 64, dtype="float32").reshape(16, 4)
    y = x.sum(axis=1, keepdims=True)
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(x, y, batch_size=4, epochs=3, shuffle=True, verbose=0)
    draws = glassnet.random.normal((3,)).data
    return initial, model.get_weights(), history.history["loss"], draws


def test_one_seed_repeats_a_whole_training_run():
    first, second, other = _train(11), _train(11), _train(12)
    for a, b in zip(first[:2], second[:2]):
        for wa, wb in zip(a, b):
            np.testing.assert_array_equal(wa, wb)
    assert first[2] == second[2]
    np.testing.assert_array_equal(first[3], second[3])
    assert not np.array_equal(first[0][0], other[0][0])
    assert first[2] != other[2]


def test_it_seeds_python_and_numpy():
    set_random_seed(3)
    a = (random.random(), np.random.random())
    set_random_seed(3)
    assert (random.random(), np.random.random()) == a


def test_the_seed_must_be_an_int():
    with pytest.raises(ValueError, match="Expected `seed` argument to be an integer"):
        set_random_seed(1.5)
