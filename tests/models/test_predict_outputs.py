"""predict writes its batches' outputs into one array as they come (array
data), and joins them otherwise; either way the result is the batches'
outputs one after the other, as concatenating them gives."""

from __future__ import annotations

import numpy as np
import pytest

from glassnet.callbacks import Callback
from glassnet.layers import Dense, Input
from glassnet.models import Model, Sequential
from glassnet.models.steps import PredictOutputs


def _model():
    model = Sequential([Input((3,)), Dense(4, activation="relu"), Dense(2)])
    model.build((None, 3))
    return model


@pytest.mark.parametrize("batch_size", [1, 7, 32, 100])
def test_batched_predict_equals_one_batch(batch_size):
    model = _model()
    x = np.random.default_rng(0).standard_normal((50, 3)).astype(np.float32)
    one_by_one = [
        model.predict_on_batch(x[lo : lo + batch_size])
        for lo in range(0, 50, batch_size)
    ]
    got = model.predict(x, batch_size=batch_size, verbose=0)
    assert got.shape == (50, 2) and got.dtype == np.float32
    np.testing.assert_array_equal(got, np.concatenate(one_by_one))


def test_steps_and_stop_predicting_give_the_batches_run():
    model = _model()
    x = np.random.default_rng(1).standard_normal((50, 3)).astype(np.float32)
    whole = np.concatenate(
        [model.predict_on_batch(x[:8]), model.predict_on_batch(x[8:16])]
    )
    np.testing.assert_array_equal(
        model.predict(x, batch_size=8, steps=2, verbose=0), whole
    )

    class StopAfterTwo(Callback):
        def on_predict_batch_end(self, batch, logs=None):
            self.seen = getattr(self, "seen", []) + [logs["outputs"].copy()]
            if batch == 1:
                self.model.stop_predicting = True

    stop = StopAfterTwo()
    got = model.predict(x, batch_size=8, verbose=0, callbacks=[stop])
    np.testing.assert_array_equal(got, whole)
    assert got.base is None  # a compact array, not a view of a larger one
    np.testing.assert_array_equal(np.concatenate(stop.seen), whole)


def test_the_result_does_not_alias_the_input():
    model = Sequential([Input((3,))])  # outputs its input
    x = np.ones((4, 3), np.float32)
    out = model.predict(x, verbose=0)
    out += 1
    np.testing.assert_array_equal(x, 1)


def test_generators_and_dicts_of_outputs_are_joined():
    model = _model()
    x = np.random.default_rng(2).standard_normal((12, 3)).astype(np.float32)
    whole = model.predict_on_batch(x)
    whole = np.concatenate([model.predict_on_batch(x[i : i + 5]) for i in (0, 5, 10)])
    batches = (x[i : i + 5] for i in range(0, 12, 5))
    np.testing.assert_array_equal(model.predict(batches, verbose=0), whole)

    class Pair(Model):  # a predict_step of its own, with a dict of outputs
        def __init__(self):
            super().__init__()
            self.a, self.b = Dense(2), Dense(1)

        def call(self, x):
            return self.a(x)

        def predict_step(self, data):
            return {"a": self.a(data), "b": self.b(data)}

    got = Pair().predict(x, batch_size=5, verbose=0)
    assert got["a"].shape == (12, 2) and got["b"].shape == (12, 1)


def test_outputs_of_another_shape_or_dtype_fall_back_to_joining():
    outputs = PredictOutputs(6)
    outputs.add(np.zeros((2, 3), np.float32))
    outputs.add(np.ones((2, 3), np.float64))  # another dtype: joined
    outputs.add(np.ones((2, 3), np.float32))
    got = outputs.result()
    expected = np.concatenate(
        [np.zeros((2, 3)), np.ones((2, 3)), np.ones((2, 3))]
    ).astype(np.float64)
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, expected)

    outputs = PredictOutputs(4)
    outputs.add(np.zeros((2, 3)))
    outputs.add(np.zeros((2, 4)))  # another shape: concatenate's own error
    with pytest.raises(ValueError):
        outputs.result()
