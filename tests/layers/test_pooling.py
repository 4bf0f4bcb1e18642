"""Pooling layers: lifecycle, float64 gradcheck, Keras 3 parity, shapes, errors."""

from __future__ import annotations

import os

import numpy as np
import pytest

from glassnet.layers import (
    AveragePooling2D,
    GlobalAveragePooling2D,
    GlobalMaxPooling2D,
    MaxPooling2D,
)

from .layer_checks import check_layer, keras_module, keras_parity, layer_gradcheck

os.environ.setdefault("KERAS_BACKEND", "torch")

# name: (our factory, input shape, Keras factory)
CASES = {
    "max": (lambda: MaxPooling2D(), (6, 6, 3), lambda K: K.layers.MaxPooling2D()),
    "max_odd": (lambda: MaxPooling2D(), (7, 5, 2), lambda K: K.layers.MaxPooling2D()),
    "max_overlap_same": (
        lambda: MaxPooling2D(3, strides=2, padding="same"),
        (7, 8, 2),
        lambda K: K.layers.MaxPooling2D(3, strides=2, padding="same"),
    ),
    "max_rect": (
        lambda: MaxPooling2D((3, 2), strides=(2, 1)),
        (7, 6, 2),
        lambda K: K.layers.MaxPooling2D((3, 2), strides=(2, 1)),
    ),
    "avg": (
        lambda: AveragePooling2D(),
        (6, 6, 3),
        lambda K: K.layers.AveragePooling2D(2),
    ),
    "avg_same": (
        lambda: AveragePooling2D(2, padding="same"),
        (7, 5, 2),
        lambda K: K.layers.AveragePooling2D(2, padding="same"),
    ),
    "avg_overlap": (
        lambda: AveragePooling2D(3, strides=1),
        (5, 6, 2),
        lambda K: K.layers.AveragePooling2D(3, strides=1),
    ),
    "global_avg": (
        lambda: GlobalAveragePooling2D(),
        (4, 5, 3),
        lambda K: K.layers.GlobalAveragePooling2D(),
    ),
    "global_avg_keepdims": (
        lambda: GlobalAveragePooling2D(keepdims=True),
        (4, 5, 3),
        lambda K: K.layers.GlobalAveragePooling2D(keepdims=True),
    ),
    "global_max": (
        lambda: GlobalMaxPooling2D(),
        (4, 5, 3),
        lambda K: K.layers.GlobalMaxPooling2D(),
    ),
    "global_max_keepdims": (
        lambda: GlobalMaxPooling2D(keepdims=True),
        (4, 5, 3),
        lambda K: K.layers.GlobalMaxPooling2D(keepdims=True),
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_lifecycle(case):
    factory, shape, _ = CASES[case]
    layer = factory()
    check_layer(layer, shape)
    assert layer.count_params() == 0 and layer.weights == []


@pytest.mark.parametrize("case", CASES)
def test_gradcheck_float64(case):
    factory, shape, _ = CASES[case]
    layer = factory()
    layer = type(layer).from_config({**layer.get_config(), "dtype": "float64"})
    assert layer_gradcheck(layer, shape) < 1e-6


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("case", CASES)
def test_matches_keras(case):
    pytest.importorskip("torch")
    pytest.importorskip("keras")
    factory, shape, keras_factory = CASES[case]
    keras_parity(factory(), keras_factory(keras_module()), shape)


def test_output_shapes_like_keras():
    assert MaxPooling2D().compute_output_shape((None, 26, 26, 32)) == (None, 13, 13, 32)
    assert MaxPooling2D(padding="same").compute_output_shape((None, 5, 5, 1)) == (
        None,
        3,
        3,
        1,
    )
    assert AveragePooling2D(3, 2).compute_output_shape((None, 7, 8, 2)) == (
        None,
        3,
        3,
        2,
    )
    assert MaxPooling2D().compute_output_shape((None, None, 8, 2)) == (None, None, 4, 2)
    assert GlobalMaxPooling2D().compute_output_shape((None, 7, 8, 2)) == (None, 2)


def test_max_pooling_routes_gradient_to_the_max():
    layer = MaxPooling2D()
    x = np.array([[1.0, 5.0], [3.0, 4.0]], dtype=np.float32).reshape(1, 2, 2, 1)
    from glassnet import Tensor

    xs = Tensor(x, requires_grad=True)
    layer(xs).sum().backward()
    np.testing.assert_array_equal(xs.grad.ravel(), [0, 1, 0, 0])


def test_config_round_trip_keeps_pooling_settings():
    layer = MaxPooling2D(3, strides=(2, 1), padding="SAME", name="pool")
    config = layer.get_config()
    assert config["pool_size"] == (3, 3) and config["strides"] == (2, 1)
    assert config["padding"] == "same"
    assert MaxPooling2D.from_config({**config, "name": "p2"}).get_config() == {
        **config,
        "name": "p2",
    }


@pytest.mark.parametrize(
    "make,match",
    [
        (lambda: MaxPooling2D(0), "Received: pool_size=0"),
        (lambda: MaxPooling2D(2, strides=(1, 0)), r"Received: strides=\(1, 0\)"),
        (lambda: AveragePooling2D(2, padding="full"), "Received: padding='full'"),
        (lambda: MaxPooling2D(data_format="channels_first"), "channels-last"),
    ],
)
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_bad_input():
    with pytest.raises(ValueError, match="rank 4"):
        MaxPooling2D()(np.zeros((2, 4, 4), dtype=np.float32))
    with pytest.raises(ValueError, match="zero or negative"):
        MaxPooling2D(3)(np.zeros((2, 2, 2, 1), dtype=np.float32))
    with pytest.raises(ValueError, match="rank 4"):
        GlobalAveragePooling2D()(np.zeros((2, 4), dtype=np.float32))
