"""BatchNormalization and LayerNormalization: the formulas written out,
training vs inference, options, configs.

(Gradchecks and Keras parity are in the layer table of test_core.py.)
"""

from __future__ import annotations

import numpy as np
import pytest

from glassnet.autograd import Tensor, no_grad
from glassnet.layers import BatchNormalization, LayerNormalization

from .layer_checks import keras_module


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


# --- LayerNormalization ---------------------------------------------------------------
def _layer_norm(x, axes, epsilon=1e-3):
    mean, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(var + epsilon)


def test_layer_norm_uses_each_samples_statistics_in_training_and_inference():
    x = _x((4, 5))
    layer = LayerNormalization()
    for training in (True, False):
        out = layer(x, training=training).data
        np.testing.assert_allclose(out, _layer_norm(x, -1), rtol=1e-5, atol=1e-5)
    # one sample alone gives the same rows: nothing depends on the batch
    np.testing.assert_allclose(layer(x[:1]).data, out[:1], rtol=1e-6)


@pytest.mark.parametrize("axis,shape", [(1, (4, 3, 2)), ([1, 3], (2, 3, 2, 4))])
def test_layer_norm_axes_other_than_the_last(axis, shape):
    x = _x(shape, seed=1)
    layer = LayerNormalization(axis=axis, gamma_initializer="random_uniform")
    out = layer(x).data
    axes = tuple(np.atleast_1d(axis))
    gamma = layer.gamma.data.reshape(
        [d if i in axes else 1 for i, d in enumerate(shape)]
    )
    np.testing.assert_allclose(out, _layer_norm(x, axes) * gamma, atol=1e-5)
    assert layer.gamma.data.shape == tuple(shape[a] for a in axes)


def test_layer_norm_axis_and_config_like_keras():
    layer = LayerNormalization(axis=-1, name="ln")
    assert layer.get_config()["axis"] == -1
    layer(_x((2, 3)))
    assert layer.get_config()["axis"] == [-1]  # Keras keeps a sorted list once built
    assert LayerNormalization(axis=(2, 1))(_x((2, 3, 4))) is not None
    config = layer.get_config()
    assert config["rms_scaling"] is False and config["gamma_constraint"] is None
    assert LayerNormalization.from_config(config).get_config() == config
    assert layer.count_params() == 6
    no_weights = LayerNormalization(center=False, scale=False)
    no_weights(_x((2, 3)))
    assert no_weights.weights == []


def test_layer_norm_config_keys_are_keras():
    pytest.importorskip("torch")
    pytest.importorskip("keras")
    theirs = keras_module().layers.LayerNormalization(axis=[1, 2]).get_config()
    assert set(LayerNormalization(axis=[1, 2]).get_config()) == set(theirs)


def test_layer_norm_errors():
    with pytest.raises(TypeError, match="'axis'"):
        LayerNormalization(axis="last")
    with pytest.raises(ValueError, match="out of range"):
        LayerNormalization(axis=2)(_x((2, 3)))
    with pytest.raises(ValueError, match="rms_scaling"):
        LayerNormalization.from_config({"rms_scaling": True})
    layer = LayerNormalization()
    layer(_x((2, 3)))
    with pytest.raises(ValueError, match=r"expected shape=\(None, 3\)"):
        layer(_x((2, 4)))
