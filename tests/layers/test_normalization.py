"""BatchNormalization: the formulas written out, training vs inference, options.

(Gradchecks and Keras parity are in the layer table of test_core.py.)
"""

from __future__ import annotations

import numpy as np
import pytest

from glassnet.autograd import Tensor, no_grad
from glassnet.layers import BatchNormalization


def _x(shape=(6, 3), seed=0):
    return np.random.default_rng(seed).normal(2.0, 3.0, shape).astype("float32")


def test_training_normalizes_with_the_batch_statistics():
    x = _x()
    out = BatchNormalization(epsilon=1e-3)(x, training=True).data
    expected = (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-3)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)


def test_moving_statistics_follow_the_batches():
    x = _x()
    layer = BatchNormalization(momentum=0.9)
    layer(x, training=True)
    np.testing.assert_allclose(layer.moving_mean.data, 0.1 * x.mean(0), rtol=1e-5)
    np.testing.assert_allclose(
        layer.moving_variance.data, 0.9 + 0.1 * x.var(0), rtol=1e-5
    )


def test_inference_uses_the_moving_statistics():
    x = _x()
    layer = BatchNormalization(epsilon=0.5)
    layer(x)
    layer.set_weights(
        [np.full(3, 2.0), np.full(3, 1.0), np.full(3, 4.0), np.full(3, 1.5)]
    )
    out = layer(x).data  # training=False: no update
    np.testing.assert_allclose(out, 2.0 * (x - 4.0) / np.sqrt(2.0) + 1.0, rtol=1e-5)
    np.testing.assert_array_equal(layer.moving_mean.data, np.full(3, 4.0))


def test_training_under_no_grad_still_updates_moving_stats():
    x = _x()
    layer = BatchNormalization(momentum=0.0)
    layer(x)
    with no_grad():
        layer(Tensor(x), training=True)
    np.testing.assert_allclose(layer.moving_mean.data, x.mean(0), rtol=1e-5)


def test_center_and_scale_off_drop_the_weights():
    layer = BatchNormalization(center=False, scale=False)
    layer(_x())
    assert layer.trainable_weights == [] and layer.count_params() == 6


def test_axis_1_of_a_3d_input():
    x = _x((5, 4, 2))
    layer = BatchNormalization(axis=1, momentum=0.0)
    out = layer(x, training=True).data
    mean = x.mean(axis=(0, 2), keepdims=True)
    var = x.var(axis=(0, 2), keepdims=True)
    np.testing.assert_allclose(out, (x - mean) / np.sqrt(var + 1e-3), atol=1e-5)
    assert layer.moving_mean.data.shape == (4,)


def test_errors():
    with pytest.raises(ValueError, match="momentum=2"):
        BatchNormalization(momentum=2)
    with pytest.raises(ValueError, match="out of range"):
        BatchNormalization(axis=3)(_x())
    layer = BatchNormalization()
    layer(_x())
    with pytest.raises(ValueError, match=r"expected shape=\(None, 3\)"):
        layer(_x((2, 4)))
