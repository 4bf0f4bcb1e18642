"""Conv2D / Conv1D layers, and a zoo of convolutional models against Keras 3.

The zoo builds each model in glassnet and in Keras from one table and compares
every layer's output shape and parameter count; the seed lecture's cells
[24]-[29] are checked verbatim; layers with the same weights copied in give
Keras's outputs and gradients.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from glassnet import layers
from glassnet.layers import Activation, Conv2D, Conv2DTranspose, Dense
from glassnet.models import Sequential

from .layer_checks import check_layer, keras_parity, layer_gradcheck

os.environ.setdefault("KERAS_BACKEND", "torch")


def _summary(model) -> str:
    lines = []
    model.summary(print_fn=lines.append)
    return "\n".join(lines)


# --- the seed lecture, cells [24]-[29] --------------------------------------------
def test_seed_fully_connected_model_has_4100_params():
    fc = Sequential()
    fc.add(Dense(units=4, input_dim=32 * 32))
    fc.add(Activation("relu"))
    assert fc.count_params() == 4100 == 32 * 32 * 4 + 4
    assert "4,100" in _summary(fc)


def test_seed_conv_model_has_40_params_and_30x30x4_output():
    cnn = Sequential()
    cnn.add(Conv2D(4, (3, 3), input_shape=(32, 32, 1)))
    cnn.add(Activation("relu"))
    text = _summary(cnn)
    assert cnn.count_params() == 40 == 4 * 3 * 3 + 4
    assert cnn.output_shape == (None, 30, 30, 4)
    assert "(None, 30, 30, 4)" in text and " 40 " in text
    out = cnn.predict(np.random.default_rng(0).random((3, 32, 32, 1)), verbose=0)
    assert out.shape == (3, 30, 30, 4) and out.min() >= 0


# --- the zoo: (input shape, [(layer class name, args, kwargs), ...]) ----------------
def L(name, *args, **kwargs):  # noqa: N802
    return name, args, kwargs


ZOO = {
    "seed_cnn": ((32, 32, 1), [L("Conv2D", 4, (3, 3)), L("Activation", "relu")]),
    "bench_net": (
        (28, 28, 1),
        [
            L("Conv2D", 32, 3, activation="relu"),
            L("MaxPooling2D"),
            L("Conv2D", 64, 3, activation="relu"),
            L("MaxPooling2D"),
            L("Flatten"),
            L("Dense", 10),
        ],
    ),
    "lenet5": (
        (32, 32, 1),
        [
            L("Conv2D", 6, 5, padding="same", activation="tanh"),
            L("AveragePooling2D", 2),
            L("Conv2D", 16, 5, activation="tanh"),
            L("AveragePooling2D", 2),
            L("Flatten"),
            L("Dense", 120, activation="tanh"),
            L("Dense", 84, activation="tanh"),
            L("Dense", 10, activation="softmax"),
        ],
    ),
    "strided_same": (
        (17, 15, 3),
        [
            L("Conv2D", 8, 3, strides=2, padding="same"),
            L("Conv2D", 16, (5, 3), strides=(2, 1), padding="same"),
            L("GlobalAveragePooling2D"),
            L("Dense", 3),
        ],
    ),
    "dilated": (
        (20, 20, 2),
        [
            L("Conv2D", 8, 3, dilation_rate=2),
            L("Conv2D", 8, (2, 3), dilation_rate=(1, 3), padding="same"),
            L("GlobalMaxPooling2D"),
        ],
    ),
    "no_bias_overlapping_pool": (
        (11, 11, 3),
        [
            L("Conv2D", 5, 3, use_bias=False),
            L("MaxPooling2D", 3, strides=2, padding="same"),
            L("Conv2D", 7, 1),
            L("Flatten"),
        ],
    ),
    "pad_and_upsample": (
        (8, 8, 1),
        [
            L("ZeroPadding2D", 2),
            L("Conv2D", 4, 5),
            L("UpSampling2D", (2, 3)),
            L("ZeroPadding2D", ((1, 0), (2, 3))),
            L("Conv2D", 2, 3, padding="same"),
        ],
    ),
    "autoencoder": (
        (28, 28, 1),
        [
            L("Conv2D", 16, 3, padding="same", activation="relu"),
            L("MaxPooling2D"),
            L("Conv2D", 8, 3, padding="same", activation="relu"),
            L("MaxPooling2D", padding="same"),
            L("UpSampling2D"),
            L("Conv2D", 16, 3, padding="same", activation="relu"),
            L("UpSampling2D"),
            L("Conv2D", 1, 3, padding="same", activation="sigmoid"),
        ],
    ),
    "conv1d": (
        (30, 5),
        [
            L("Conv1D", 8, 3, activation="relu"),
            L("Conv1D", 4, 5, padding="causal", dilation_rate=2),
            L("Conv1D", 6, 3, strides=2, padding="same"),
            L("Flatten"),
            L("Dense", 2),
        ],
    ),
    "global_keepdims": (
        (9, 9, 2),
        [
            L("Conv2D", 6, 3),
            L("GlobalAveragePooling2D", keepdims=True),
            L("Conv2D", 4, 1),
            L("GlobalMaxPooling2D", keepdims=True),
            L("Flatten"),
        ],
    ),
    "batchnorm": (
        (12, 12, 3),
        [
            L("Conv2D", 8, 3, use_bias=False),
            L("BatchNormalization"),
            L("Activation", "relu"),
            L("AveragePooling2D", 3, strides=1, padding="same"),
            L("Flatten"),
            L("Dense", 10),
        ],
    ),
    "decoder": (
        (6,),
        [
            L("Dense", 3 * 3 * 8, activation="relu"),
            L("Reshape", (3, 3, 8)),
            L("Conv2DTranspose", 8, 4, strides=2, padding="same", activation="relu"),
            L("Conv2DTranspose", 4, 3, strides=2, output_padding=1),
            L("Cropping2D", ((1, 2), (0, 1))),
            L("Conv2DTranspose", 1, 3, padding="same", activation="sigmoid"),
        ],
    ),
    "vgg_block": (
        (32, 32, 3),
        [
            L("Conv2D", 16, 3, padding="same", activation="relu"),
            L("Conv2D", 16, 3, padding="same", activation="relu"),
            L("MaxPooling2D", 2),
            L("Conv2D", 32, 3, padding="same", activation="relu"),
            L("Conv2D", 32, (3, 3), padding="same", activation="relu"),
            L("MaxPooling2D", (2, 2), strides=(2, 2)),
            L("Flatten"),
            L("Dense", 64, activation="relu"),
            L("Dropout", 0.5),
            L("Dense", 10, activation="softmax"),
        ],
    ),
}


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("name", ZOO)
def test_zoo_shapes_and_param_counts_match_keras(name, keras):
    shape, spec = ZOO[name]
    ours = Sequential(
        [layers.Input(shape)] + [getattr(layers, n)(*a, **k) for n, a, k in spec]
    )
    theirs = keras.Sequential(
        [keras.Input(shape)] + [getattr(keras.layers, n)(*a, **k) for n, a, k in spec]
    )
    current = (None, *shape)
    text = _summary(ours)
    for mine, keras_layer in zip(ours.layers, theirs.layers):
        current = mine.compute_output_shape(current)
        assert current == tuple(keras_layer.output.shape), (mine, keras_layer)
        assert mine.count_params() == keras_layer.count_params(), mine
    assert ours.output_shape == tuple(theirs.output_shape)
    assert ours.count_params() == theirs.count_params()
    assert f"Total params: {theirs.count_params():,}" in text
    out = ours.predict(np.random.default_rng(0).random((2, *shape)), verbose=0)
    assert out.shape == (2, *current[1:])


# --- layers against Keras with the same weights, and finite differences -------------
CONV_LAYERS = {
    "conv2d": ("Conv2D", (7, 6, 3), dict(filters=4, kernel_size=3)),
    "conv2d_same": (
        "Conv2D",
        (7, 6, 3),
        dict(filters=4, kernel_size=(3, 2), padding="same"),
    ),
    "conv2d_strided": (
        "Conv2D",
        (7, 8, 2),
        dict(filters=3, kernel_size=3, strides=(2, 3)),
    ),
    "conv2d_strided_same": (
        "Conv2D",
        (7, 8, 9),
        dict(filters=3, kernel_size=3, strides=2, padding="same"),
    ),
    "conv2d_dilated": (
        "Conv2D",
        (9, 7, 2),
        dict(filters=3, kernel_size=2, dilation_rate=(2, 3)),
    ),
    "conv2d_dilated_same": (
        "Conv2D",
        (6, 7, 2),
        dict(filters=3, kernel_size=3, dilation_rate=2, padding="same"),
    ),
    "conv2d_relu": (
        "Conv2D",
        (6, 6, 8),
        dict(filters=3, kernel_size=3, activation="relu"),
    ),
    "conv2d_tanh_same": (
        "Conv2D",
        (6, 6, 2),
        dict(filters=3, kernel_size=3, padding="same", activation="tanh"),
    ),
    "conv2d_1x1_no_bias": (
        "Conv2D",
        (6, 6, 2),
        dict(filters=3, kernel_size=1, use_bias=False),
    ),
    "conv1d_causal": (
        "Conv1D",
        (9, 3),
        dict(filters=4, kernel_size=3, padding="causal"),
    ),
    "conv1d_strided_same": (
        "Conv1D",
        (9, 3),
        dict(filters=4, kernel_size=2, strides=2, padding="same"),
    ),
    "conv1d_dilated_relu": (
        "Conv1D",
        (9, 3),
        dict(filters=2, kernel_size=3, dilation_rate=2, activation="relu"),
    ),
    "conv2d_transpose": ("Conv2DTranspose", (4, 5, 3), dict(filters=2, kernel_size=3)),
    "conv2d_transpose_strided_same": (
        "Conv2DTranspose",
        (4, 5, 3),
        dict(filters=2, kernel_size=3, strides=2, padding="same"),
    ),
    "conv2d_transpose_k4_s2_same_relu": (
        "Conv2DTranspose",
        (3, 4, 2),
        dict(filters=3, kernel_size=4, strides=2, padding="same", activation="relu"),
    ),
    "conv2d_transpose_rect_strided": (
        "Conv2DTranspose",
        (3, 4, 2),
        dict(filters=2, kernel_size=(3, 2), strides=(2, 3)),
    ),
    "conv2d_transpose_output_padding": (
        "Conv2DTranspose",
        (4, 4, 2),
        dict(filters=2, kernel_size=3, strides=2, output_padding=1),
    ),
    "conv2d_transpose_same_output_padding": (
        "Conv2DTranspose",
        (3, 4, 2),
        dict(
            filters=2,
            kernel_size=3,
            strides=(2, 3),
            padding="same",
            output_padding=(1, 2),
        ),
    ),
    "conv2d_transpose_dilated_tanh": (
        "Conv2DTranspose",
        (5, 4, 2),
        dict(
            filters=3,
            kernel_size=3,
            dilation_rate=(2, 1),
            padding="same",
            activation="tanh",
        ),
    ),
    "conv2d_transpose_stride_over_kernel_no_bias": (
        "Conv2DTranspose",
        (3, 3, 2),
        dict(filters=2, kernel_size=2, strides=3, use_bias=False),
    ),
}


def _layer(name, kwargs, **extra):
    # a random bias, so that bias gradients and the bias's effect are both checked
    if kwargs.get("use_bias", True):
        extra.setdefault("bias_initializer", "random_normal")
    return getattr(layers, name)(**kwargs, **extra)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("case", CONV_LAYERS)
def test_conv_layer_matches_keras(case, keras):
    name, shape, kwargs = CONV_LAYERS[case]
    keras_parity(
        _layer(name, kwargs), getattr(keras.layers, name)(**kwargs), shape, atol=1e-5
    )


@pytest.mark.parametrize("case", CONV_LAYERS)
def test_conv_layer_gradcheck(case):
    name, shape, kwargs = CONV_LAYERS[case]
    assert layer_gradcheck(_layer(name, kwargs, dtype="float64"), shape) < 1e-6


@pytest.mark.parametrize("case", CONV_LAYERS)
def test_conv_layer_lifecycle(case):
    name, shape, kwargs = CONV_LAYERS[case]
    check_layer(_layer(name, kwargs), shape)


def test_conv2d_lifecycle_config_and_weights():
    layer = Conv2D(8, 3, strides=2, padding="SAME", kernel_initializer="he_normal")
    assert not layer.built
    assert layer.compute_output_shape((None, 11, 10, 3)) == (None, 6, 5, 8)
    out = layer(np.zeros((2, 11, 10, 3), dtype=np.float32))
    assert out.shape == (2, 6, 5, 8) and out.dtype == np.float32
    assert [w.shape for w in layer.weights] == [(3, 3, 3, 8), (8,)]
    assert layer.count_params() == 3 * 3 * 3 * 8 + 8
    config = layer.get_config()
    assert config["kernel_size"] == (3, 3) and config["padding"] == "same"
    clone = Conv2D.from_config({**config, "name": "clone"})
    assert clone.get_config() == {**config, "name": "clone"}
    with pytest.raises(ValueError, match="incompatible"):
        layer(np.zeros((2, 11, 10, 4), dtype=np.float32))


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(filters=0, kernel_size=3), "Received: filters=0"),
        (dict(filters=2.5, kernel_size=3), "Received: filters=2.5"),
        (dict(filters=2, kernel_size=(3, 0)), r"Received: kernel_size=\(3, 0\)"),
        (dict(filters=2, kernel_size=3, padding="full"), "Received: padding='full'"),
        (dict(filters=2, kernel_size=3, padding="causal"), "padding='causal'"),
        (dict(filters=2, kernel_size=3, strides=2, dilation_rate=2), "strides"),
        (dict(filters=2, kernel_size=3, data_format="channels_first"), "channels"),
    ],
)
def test_conv2d_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Conv2D(**kwargs)


def test_conv2d_bad_input_shape():
    with pytest.raises(ValueError, match="rank 4"):
        Conv2D(2, 3)(np.zeros((2, 8, 8), dtype=np.float32))
    with pytest.raises(ValueError, match="zero or negative"):
        Sequential([layers.Input((2, 2, 1)), Conv2D(2, 3)])


def test_conv2d_transpose_shapes_weights_and_config():
    layer = Conv2DTranspose(8, 3, strides=2, padding="same", output_padding=(1, 0))
    # same: height (7 - 1) * 2 + 3 % 2 + 1, width (5 - 1) * 2 + 3 % 2 + 0
    assert layer.compute_output_shape((None, 7, 5, 16)) == (None, 14, 9, 8)
    assert layer.compute_output_shape((None, None, 5, 16)) == (None, None, 9, 8)
    out = layer(np.zeros((2, 7, 5, 16), dtype=np.float32))
    assert out.shape == (2, 14, 9, 8)
    assert Conv2DTranspose(2, 3, strides=2).compute_output_shape((None, 4, 1, 1)) == (
        None,
        9,
        3,
        2,
    )
    # Keras's kernel layout: (kh, kw, filters, channels)
    assert [w.shape for w in layer.weights] == [(3, 3, 8, 16), (8,)]
    assert layer.count_params() == 3 * 3 * 8 * 16 + 8
    config = layer.get_config()
    assert config["output_padding"] == (1, 0) and "groups" not in config
    assert Conv2DTranspose(2, 3).get_config()["output_padding"] is None
    clone = Conv2DTranspose.from_config({**config, "name": "clone"})
    assert clone.get_config() == {**config, "name": "clone"}


def test_conv2d_transpose_config_keys_are_keras(keras):
    ours = Conv2DTranspose(4, 3, strides=2, output_padding=1).get_config()
    theirs = keras.layers.Conv2DTranspose(4, 3, strides=2, output_padding=1)
    assert set(ours) == set(theirs.get_config())


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(filters=0, kernel_size=3), "Received: filters=0"),
        (dict(filters=2, kernel_size=3, output_padding=1), "strictly less"),
        (dict(filters=2, kernel_size=3, strides=2, output_padding=(1, 2)), "strides"),
        (dict(filters=2, kernel_size=3, output_padding=-1), "output_padding=-1"),
        (dict(filters=2, kernel_size=3, padding="causal"), "padding='causal'"),
        (dict(filters=2, kernel_size=3, strides=2, dilation_rate=2), "strides"),
    ],
)
def test_conv2d_transpose_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Conv2DTranspose(**kwargs)
