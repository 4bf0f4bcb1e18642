"""ZeroPadding2D and UpSampling2D: lifecycle, gradcheck, Keras 3 parity, errors."""

from __future__ import annotations

import os

import numpy as np
import pytest

from glassnet.layers import UpSampling2D, ZeroPadding2D

from .layer_checks import check_layer, keras_module, keras_parity, layer_gradcheck

os.environ.setdefault("KERAS_BACKEND", "torch")

CASES = {
    "pad_1": (lambda: ZeroPadding2D(), lambda K: K.layers.ZeroPadding2D()),
    "pad_int": (lambda: ZeroPadding2D(2), lambda K: K.layers.ZeroPadding2D(2)),
    "pad_sym": (
        lambda: ZeroPadding2D((1, 3)),
        lambda K: K.layers.ZeroPadding2D((1, 3)),
    ),
    "pad_explicit": (
        lambda: ZeroPadding2D(((0, 2), (3, 1))),
        lambda K: K.layers.ZeroPadding2D(((0, 2), (3, 1))),
    ),
    "up_2": (lambda: UpSampling2D(), lambda K: K.layers.UpSampling2D()),
    "up_rect": (lambda: UpSampling2D((3, 2)), lambda K: K.layers.UpSampling2D((3, 2))),
}
SHAPE = (4, 3, 2)


@pytest.mark.parametrize("case", CASES)
def test_lifecycle(case):
    layer = CASES[case][0]()
    check_layer(layer, SHAPE)
    assert layer.count_params() == 0


@pytest.mark.parametrize("case", CASES)
def test_gradcheck_float64(case):
    layer = CASES[case][0]()
    layer = type(layer).from_config({**layer.get_config(), "dtype": "float64"})
    assert layer_gradcheck(layer, SHAPE) < 1e-6


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("case", CASES)
def test_matches_keras(case):
    pytest.importorskip("torch")
    pytest.importorskip("keras")
    ours, theirs = CASES[case]
    keras_parity(ours(), theirs(keras_module()), SHAPE)


def test_zero_padding_values_and_shape():
    layer = ZeroPadding2D(((1, 0), (0, 2)))
    x = np.arange(6, dtype=np.float32).reshape(1, 2, 3, 1)
    out = layer(x).data[0, :, :, 0]
    np.testing.assert_array_equal(
        out, [[0, 0, 0, 0, 0], [0, 1, 2, 0, 0], [3, 4, 5, 0, 0]]
    )
    assert layer.compute_output_shape((None, 2, 3, 1)) == (None, 3, 5, 1)
    assert layer.compute_output_shape((None, None, 3, 1)) == (None, None, 5, 1)
    assert layer.get_config()["padding"] == ((1, 0), (0, 2))


def test_upsampling_repeats_rows_and_columns():
    layer = UpSampling2D((2, 3))
    x = np.array([[1.0, 2.0]], dtype=np.float32).reshape(1, 1, 2, 1)
    out = layer(x).data[0, :, :, 0]
    np.testing.assert_array_equal(out, [[1, 1, 1, 2, 2, 2], [1, 1, 1, 2, 2, 2]])
    assert layer.compute_output_shape((None, 1, 2, 1)) == (None, 2, 6, 1)


@pytest.mark.parametrize(
    "make,match",
    [
        (lambda: ZeroPadding2D(-1), "Received: padding=-1"),
        (lambda: ZeroPadding2D((1, 2, 3)), r"Received: padding=\(1, 2, 3\)"),
        (lambda: ZeroPadding2D("same"), "Received: padding='same'"),
        (lambda: UpSampling2D(0), "Received: size=0"),
        (lambda: UpSampling2D(interpolation="bilinear"), "interpolation='bilinear'"),
    ],
)
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()
