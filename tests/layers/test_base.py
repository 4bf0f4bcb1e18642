"""Layer base: automatic names, weights and trainability, shapes, config."""

from __future__ import annotations

import numpy as np
import pytest

from glassnet.layers import BatchNormalization, Dense, Layer, clear_session
from glassnet.layers.base import standardize_shape, unique_name


def test_unknown_keyword_is_rejected():
    with pytest.raises(TypeError, match="Unrecognized keyword arguments.*unitz"):
        Dense(2, unitz=3)


def test_automatic_names_count_per_class():
    from glassnet.layers.base import to_snake_case

    a, b = Dense(1), Dense(1)
    assert b.name.startswith("dense_") and a.name != b.name
    assert BatchNormalization().name.startswith("batch_normalization")
    assert to_snake_case("Conv2D") == "conv2d"
    assert to_snake_case("MaxPooling2D") == "max_pooling2d"


def test_non_trainable_layer_moves_weights():
    layer = Dense(2, trainable=False)
    layer(np.ones((1, 3)))
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 2
    layer.trainable = True
    assert len(layer.trainable_weights) == 2


def test_set_weights_checks_count_and_shapes():
    layer = Dense(2)
    layer(np.ones((1, 3)))
    with pytest.raises(ValueError, match="has 2 weights, but the weight list has 1"):
        layer.set_weights([np.zeros((3, 2))])
    with pytest.raises(ValueError, match=r"shape \(3, 2\).*\(2, 2\)"):
        layer.set_weights([np.zeros((2, 2)), np.zeros(2)])
    # A bad list changes nothing, not even the weights before the bad one.
    with pytest.raises(ValueError):
        layer.set_weights([np.full((3, 2), 7.0), np.zeros(3)])
    assert not (layer.kernel.data == 7.0).any()
    layer.set_weights([np.ones((3, 2)), np.ones(2)])
    np.testing.assert_array_equal(layer(np.ones((1, 3))).data, [[4.0, 4.0]])


def test_count_params_before_build_is_an_error():
    with pytest.raises(ValueError, match="isn't built"):
        Dense(2).count_params()


def test_input_shape_keywords_are_recorded():
    assert Dense(1, input_dim=5)._batch_input_shape == (None, 5)
    assert Dense(1, input_shape=(2, 3))._batch_input_shape == (None, 2, 3)
    with pytest.raises(ValueError, match="input_dim"):
        Dense(1, input_dim=0)


def test_clear_session_restarts_names():
    clear_session()
    assert unique_name("thing") == "thing" and unique_name("thing") == "thing_1"
    clear_session()
    assert Dense(1).name == "dense"


def test_standardize_shape_errors():
    assert standardize_shape(3) == (3,)
    assert standardize_shape([None, 2]) == (None, 2)
    with pytest.raises(ValueError, match="Received: shape="):
        standardize_shape("abc")
    with pytest.raises(ValueError, match="negative"):
        standardize_shape((2, -1))


def test_layer_name_and_dtype_are_validated():
    with pytest.raises(TypeError, match="name=3"):
        Dense(1, name=3)
    with pytest.raises(ValueError, match="floating-point"):
        Dense(1, dtype="int32")
    assert Dense(1, dtype=np.float64).dtype == "float64"


def test_base_layer_is_the_identity_and_from_config_round_trips():
    layer = Layer(name="plain", trainable=False)
    x = np.ones((2, 3), dtype="float32")
    np.testing.assert_array_equal(layer(x).data, x)
    clone = Layer.from_config(layer.get_config())
    assert clone.name == "plain" and clone.trainable is False
    assert layer.count_params() == 0


def test_batchnorm_moving_statistics_are_non_trainable():
    layer = BatchNormalization()
    layer(np.ones((2, 3), dtype="float32"))
    assert [w.name.split("/")[-1] for w in layer.weights] == [
        "gamma",
        "beta",
        "moving_mean",
        "moving_variance",
    ]
    assert len(layer.trainable_weights) == 2 and len(layer.non_trainable_weights) == 2
