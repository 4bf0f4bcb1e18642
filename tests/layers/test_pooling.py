"""Pooling layers: lifecycle, float64 gradcheck, Keras 3 parity, shapes, errors."""

from __future__ import annotations

import os

import numpy as np
import pytest

from glassnet import Tensor
from glassnet.layers import (
    AveragePooling1D,
    AveragePooling2D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    MaxPooling1D,
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
    # 1-D: the 2-D ops on a height-1 view
    "max1d": (lambda: MaxPooling1D(), (7, 3), lambda K: K.layers.MaxPooling1D()),
    "max1d_overlap_same": (
        lambda: MaxPooling1D(3, strides=2, padding="same"),
        (8, 2),
        lambda K: K.layers.MaxPooling1D(3, strides=2, padding="same"),
    ),
    "max1d_strided": (
        lambda: MaxPooling1D(2, strides=3),
        (9, 2),
        lambda K: K.layers.MaxPooling1D(2, strides=3),
    ),
    "avg1d": (
        lambda: AveragePooling1D(2),
        (7, 3),
        lambda K: K.layers.AveragePooling1D(2),
    ),
    # NOTE: Keras's torch backend pads an uneven 'same' average pooling by
    # repeating the edge (TensorFlow and glassnet leave the padding out of the
    # mean); these settings pad evenly or with windows of 2, where all agree.
    "avg1d_same": (
        lambda: AveragePooling1D(3, strides=1, padding="same"),
        (7, 2),
        lambda K: K.layers.AveragePooling1D(3, strides=1, padding="same"),
    ),
    "avg1d_same_odd": (
        lambda: AveragePooling1D(2, padding="same"),
        (7, 2),
        lambda K: K.layers.AveragePooling1D(2, padding="same"),
    ),
    "avg1d_overlap": (
        lambda: AveragePooling1D(3, strides=1),
        (6, 2),
        lambda K: K.layers.AveragePooling1D(3, strides=1),
    ),
    "global_avg1d": (
        lambda: GlobalAveragePooling1D(),
        (5, 3),
        lambda K: K.layers.GlobalAveragePooling1D(),
    ),
    "global_avg1d_keepdims": (
        lambda: GlobalAveragePooling1D(keepdims=True),
        (5, 3),
        lambda K: K.layers.GlobalAveragePooling1D(keepdims=True),
    ),
    "global_max1d": (
        lambda: GlobalMaxPooling1D(),
        (5, 3),
        lambda K: K.layers.GlobalMaxPooling1D(),
    ),
    "global_max1d_keepdims": (
        lambda: GlobalMaxPooling1D(keepdims=True),
        (5, 3),
        lambda K: K.layers.GlobalMaxPooling1D(keepdims=True),
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


def test_1d_output_shapes_and_configs_like_keras():
    assert MaxPooling1D().compute_output_shape((None, 9, 4)) == (None, 4, 4)
    assert MaxPooling1D(3, 2, "same").compute_output_shape((None, 9, 4)) == (
        None,
        5,
        4,
    )
    assert AveragePooling1D(2).compute_output_shape((None, None, 4)) == (None, None, 4)
    assert GlobalMaxPooling1D().compute_output_shape((None, 9, 4)) == (None, 4)
    assert GlobalAveragePooling1D(keepdims=True).compute_output_shape((None, 9, 4)) == (
        None,
        1,
        4,
    )
    config = MaxPooling1D(3, strides=2, name="p").get_config()
    assert config["pool_size"] == (3,) and config["strides"] == (2,)
    assert MaxPooling1D.from_config(config).get_config() == config


@pytest.mark.parametrize(
    "ours,theirs",
    [
        (
            lambda: MaxPooling1D(3, 2, "same"),
            lambda K: K.layers.MaxPooling1D(3, 2, "same"),
        ),
        (lambda: AveragePooling1D(2), lambda K: K.layers.AveragePooling1D(2)),
        (lambda: GlobalAveragePooling1D(), lambda K: K.layers.GlobalAveragePooling1D()),
        (
            lambda: GlobalMaxPooling1D(keepdims=True),
            lambda K: K.layers.GlobalMaxPooling1D(keepdims=True),
        ),
    ],
)
def test_1d_config_keys_are_keras(ours, theirs):
    pytest.importorskip("torch")
    pytest.importorskip("keras")
    expected = theirs(keras_module()).get_config()
    assert set(ours().get_config()) == set(expected)


def test_uneven_same_average_pooling1d_leaves_the_padding_out():
    # length 8, windows of 3 every 2 steps: 'same' pads one step at the end,
    # and the last window averages the two real steps only (as TensorFlow)
    x = np.arange(8, dtype=np.float32).reshape(1, 8, 1)
    out = AveragePooling1D(3, strides=2, padding="same")(x).data.ravel()
    np.testing.assert_allclose(out, [1.0, 3.0, 5.0, 6.5])


def test_global_average_pooling1d_with_a_mask_averages_the_kept_steps():
    x = np.arange(12, dtype=np.float32).reshape(2, 3, 2)
    mask = np.array([[True, True, False], [True, False, False]])
    out = GlobalAveragePooling1D().call(Tensor(x), mask=mask).data
    np.testing.assert_allclose(out, [[1.0, 2.0], [6.0, 7.0]])
    pytest.importorskip("torch")
    pytest.importorskip("keras")
    K = keras_module()  # noqa: N806
    expected = K.layers.GlobalAveragePooling1D()(x, mask=mask)
    np.testing.assert_allclose(out, K.ops.convert_to_numpy(expected))


def test_1d_bad_arguments_and_input():
    with pytest.raises(TypeError):
        AveragePooling1D()  # no default pool_size, as in Keras
    with pytest.raises(ValueError, match=r"Received: pool_size=\(2, 2\)"):
        MaxPooling1D((2, 2))
    with pytest.raises(ValueError, match="rank 3"):
        MaxPooling1D()(np.zeros((2, 4, 4, 1), dtype=np.float32))
    with pytest.raises(ValueError, match="rank 3"):
        GlobalMaxPooling1D()(np.zeros((2, 4), dtype=np.float32))
    with pytest.raises(ValueError, match="zero or negative"):
        MaxPooling1D(3)(np.zeros((2, 2, 1), dtype=np.float32))
