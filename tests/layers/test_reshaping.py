"""Reshaping layers (padding, cropping, up-sampling, RepeatVector, Permute):
lifecycle, gradcheck, Keras 3 parity, values, errors."""

from __future__ import annotations

import os

import numpy as np
import pytest

from glassnet import Tensor, ops
from glassnet.layers import (
    Cropping1D,
    Cropping2D,
    Permute,
    RepeatVector,
    UpSampling1D,
    UpSampling2D,
    ZeroPadding1D,
    ZeroPadding2D,
)

from .layer_checks import check_layer, keras_module, keras_parity, layer_gradcheck

os.environ.setdefault("KERAS_BACKEND", "torch")

SHAPE = (4, 3, 2)
SEQUENCE = (5, 3)
# name: (our factory, Keras factory, input shape of one sample)
CASES = {
    "pad_1": (lambda: ZeroPadding2D(), lambda K: K.layers.ZeroPadding2D(), SHAPE),
    "pad_int": (lambda: ZeroPadding2D(2), lambda K: K.layers.ZeroPadding2D(2), SHAPE),
    "pad_sym": (
        lambda: ZeroPadding2D((1, 3)),
        lambda K: K.layers.ZeroPadding2D((1, 3)),
        SHAPE,
    ),
    "pad_explicit": (
        lambda: ZeroPadding2D(((0, 2), (3, 1))),
        lambda K: K.layers.ZeroPadding2D(((0, 2), (3, 1))),
        SHAPE,
    ),
    "up_2": (lambda: UpSampling2D(), lambda K: K.layers.UpSampling2D(), SHAPE),
    "up_rect": (
        lambda: UpSampling2D((3, 2)),
        lambda K: K.layers.UpSampling2D((3, 2)),
        SHAPE,
    ),
    "crop2d_int": (lambda: Cropping2D(1), lambda K: K.layers.Cropping2D(1), SHAPE),
    "crop2d_sym": (
        lambda: Cropping2D((1, 0)),
        lambda K: K.layers.Cropping2D((1, 0)),
        SHAPE,
    ),
    "crop2d_explicit": (
        lambda: Cropping2D(((0, 2), (1, 0))),
        lambda K: K.layers.Cropping2D(((0, 2), (1, 0))),
        SHAPE,
    ),
    "crop2d_default": (lambda: Cropping2D(), lambda K: K.layers.Cropping2D(), SHAPE),
    "pad1d": (lambda: ZeroPadding1D(), lambda K: K.layers.ZeroPadding1D(), SEQUENCE),
    "pad1d_pair": (
        lambda: ZeroPadding1D((0, 3)),
        lambda K: K.layers.ZeroPadding1D((0, 3)),
        SEQUENCE,
    ),
    "up1d": (lambda: UpSampling1D(3), lambda K: K.layers.UpSampling1D(3), SEQUENCE),
    "crop1d": (lambda: Cropping1D(), lambda K: K.layers.Cropping1D(), SEQUENCE),
    "crop1d_pair": (
        lambda: Cropping1D((2, 0)),
        lambda K: K.layers.Cropping1D((2, 0)),
        SEQUENCE,
    ),
    "repeat": (lambda: RepeatVector(3), lambda K: K.layers.RepeatVector(3), (4,)),
    "permute_2d": (
        lambda: Permute((2, 1)),
        lambda K: K.layers.Permute((2, 1)),
        SEQUENCE,
    ),
    "permute_3d": (
        lambda: Permute((3, 1, 2)),
        lambda K: K.layers.Permute((3, 1, 2)),
        SHAPE,
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_lifecycle(case):
    ours, _, shape = CASES[case]
    layer = ours()
    check_layer(layer, shape)
    assert layer.count_params() == 0


@pytest.mark.parametrize("case", CASES)
def test_gradcheck_float64(case):
    ours, _, shape = CASES[case]
    layer = ours()
    layer = type(layer).from_config({**layer.get_config(), "dtype": "float64"})
    assert layer_gradcheck(layer, shape) < 1e-6


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("case", CASES)
def test_matches_keras(case):
    pytest.importorskip("torch")
    pytest.importorskip("keras")
    ours, theirs, shape = CASES[case]
    layer, twin = ours(), theirs(keras_module())
    keras_parity(layer, twin, shape)
    assert set(layer.get_config()) == set(twin.get_config())
    assert layer.compute_output_shape((None, *shape)) == tuple(
        twin.compute_output_shape((None, *shape))
    )


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


def test_cropping_values_and_shapes():
    x = np.arange(20, dtype=np.float32).reshape(1, 4, 5, 1)
    out = Cropping2D(((1, 0), (2, 1)))(x).data[0, :, :, 0]
    np.testing.assert_array_equal(out, x[0, 1:, 2:4, 0])
    assert Cropping2D(1).compute_output_shape((None, None, 5, 1)) == (None, None, 3, 1)
    seq = np.arange(6, dtype=np.float32).reshape(1, 6, 1)
    np.testing.assert_array_equal(Cropping1D((1, 2))(seq).data.ravel(), [1, 2, 3])
    assert Cropping1D(2).get_config()["cropping"] == (2, 2)


def test_one_dimensional_padding_and_upsampling_values():
    seq = np.array([[1.0, 2.0]], dtype=np.float32).reshape(1, 2, 1)
    np.testing.assert_array_equal(
        ZeroPadding1D((1, 2))(seq).data.ravel(), [0, 1, 2, 0, 0]
    )
    np.testing.assert_array_equal(UpSampling1D(2)(seq).data.ravel(), [1, 1, 2, 2])
    assert ZeroPadding1D(3).compute_output_shape((None, None, 4)) == (None, None, 4)
    assert UpSampling1D(2).compute_output_shape((None, 3, 4)) == (None, 6, 4)


def test_repeat_vector_sums_the_copies_in_the_gradient():
    x = Tensor(np.array([[1.0, 2.0]]), requires_grad=True)
    out = RepeatVector(3)(x)
    np.testing.assert_array_equal(out.data, [[[1, 2], [1, 2], [1, 2]]])
    ops.sum(out).backward()
    np.testing.assert_array_equal(x.grad, [[3.0, 3.0]])


def test_permute_moves_the_axes():
    x = np.zeros((2, 3, 4, 5), dtype=np.float32)
    assert Permute((3, 1, 2))(x).shape == (2, 5, 3, 4)
    assert Permute((2, 1)).compute_output_shape((None, 7, None)) == (None, None, 7)
    assert Permute([2, 1]).get_config()["dims"] == (2, 1)


@pytest.mark.parametrize(
    "make,error,match",
    [
        (lambda: Cropping2D(-1), ValueError, "Received: cropping=-1"),
        (lambda: Cropping2D((1, 2, 3)), ValueError, "cropping="),
        (lambda: Cropping1D((1, -1)), ValueError, "cropping="),
        (lambda: ZeroPadding1D(-2), ValueError, "Received: padding=-2"),
        (lambda: UpSampling1D(0), ValueError, "Received: size=0"),
        (lambda: UpSampling1D(2.0), TypeError, "integer"),
        (lambda: RepeatVector(0), ValueError, "Received: n=0"),
        (lambda: RepeatVector("3"), TypeError, "integer"),
        (lambda: Permute((0, 1)), ValueError, "start from 1"),
        (lambda: Permute((1, 3)), ValueError, "consecutive"),
        (lambda: Cropping2D(data_format="channels_first"), ValueError, "channels"),
    ],
)
def test_bad_arguments_1d_and_crops(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_bad_inputs_name_the_layer():
    with pytest.raises(ValueError, match="smaller than the input"):
        Cropping2D(2)(np.zeros((1, 4, 5, 1), dtype=np.float32))
    with pytest.raises(ValueError, match="smaller than the input"):
        Cropping1D((3, 3))(np.zeros((1, 6, 1), dtype=np.float32))
    with pytest.raises(ValueError, match="rank 2"):
        RepeatVector(2)(np.zeros((1, 3, 2), dtype=np.float32))
    with pytest.raises(ValueError, match="rank 3"):
        Permute((2, 1))(np.zeros((1, 3), dtype=np.float32))
    with pytest.raises(ValueError, match="rank 3"):
        UpSampling1D()(np.zeros((1, 3, 2, 1), dtype=np.float32))
