"""plot_filters (one image per filter) and plot_feature_maps (each Conv2D's
outputs for one image)."""

from __future__ import annotations

import numpy as np
import pytest

from glassnet.autograd import no_grad
from glassnet.layers import Activation, Conv2D, Dense, Flatten, MaxPooling2D
from glassnet.models import Sequential
from glassnet.plot import plot_feature_maps, plot_filters


def _images(fig):
    return [ax.images for ax in fig.axes if ax.get_visible() and ax.images]


def _cnn():
    return Sequential(
        [
            Conv2D(4, (3, 3), input_shape=(10, 10, 1), name="first"),
            Activation("relu"),
            MaxPooling2D((2, 2)),
            Conv2D(3, (2, 2), activation="relu", name="second"),
            Flatten(),
            Dense(2),
        ]
    )


def test_one_image_per_filter_on_one_symmetric_scale():
    layer = _cnn().layers[0]
    fig = plot_filters(layer)
    images = _images(fig)
    assert [len(i) for i in images] == [1, 1, 1, 1]
    kernel = layer.kernel.data
    for index, (image,) in enumerate(images):
        np.testing.assert_array_equal(image.get_array(), kernel[:, :, 0, index])
        assert image.get_clim() == pytest.approx(
            (-np.abs(kernel).max(), np.abs(kernel).max())
        )
    titles = [ax.get_title() for ax in fig.axes if ax.images]
    assert titles == ["filter 0", "filter 1", "filter 2", "filter 3"]
    assert fig.axes[-1].get_ylabel() == "weight"  # the colour bar


def test_three_input_channels_are_shown_as_colour():
    layer = Conv2D(5, (3, 3), input_shape=(8, 8, 3))
    Sequential([layer])
    images = _images(plot_filters(layer, ncols=3))
    assert len(images) == 5
    rgb = images[0][0].get_array()
    assert rgb.shape == (3, 3, 3) and rgb.min() == 0 and rgb.max() == 1
    single = _images(plot_filters(layer, channel=2))
    assert single[0][0].get_array().shape == (3, 3)


def test_plot_filters_needs_a_built_convolution():
    with pytest.raises(ValueError, match="Conv2D"):
        plot_filters(Dense(3))
    with pytest.raises(ValueError, match="channel"):
        plot_filters(_cnn().layers[0], channel=1)


def test_feature_maps_row_by_row_equal_the_layers_outputs():
    model = _cnn()
    x = np.random.default_rng(0).random((10, 10, 1)).astype(np.float32)
    fig = plot_feature_maps(model, x)
    images = [i for (i,) in _images(fig)]
    assert len(images) == 1 + 4 + 3  # the input, then each filter's map
    np.testing.assert_array_equal(images[0].get_array(), x[..., 0])
    first = model.layers[0]
    with no_grad():
        expected = first(x[None]).data[0]
    for channel in range(4):
        np.testing.assert_allclose(
            images[1 + channel].get_array(), expected[..., channel]
        )
    titles = [ax.get_title() for ax in fig.axes if ax.images]
    assert titles[1:] == [f"first[{c}]" for c in range(4)] + [
        f"second[{c}]" for c in range(3)
    ]
    limited = [i for (i,) in _images(plot_feature_maps(model, x[None], max_maps=2))]
    assert len(limited) == 1 + 2 + 2


def test_feature_maps_need_one_image_and_a_convolution():
    with pytest.raises(ValueError, match="one image"):
        plot_feature_maps(_cnn(), np.zeros((2, 10, 10, 1)))
    with pytest.raises(ValueError, match="no Conv2D"):
        plot_feature_maps(
            Sequential([Flatten(input_shape=(4, 4, 1))]), np.zeros((4, 4, 1))
        )


def test_feature_maps_of_a_branched_graph_are_each_convolutions_output():
    from glassnet.layers import Concatenate, Conv2D, Input, MaxPooling2D
    from glassnet.models import Model

    inputs = Input((6, 6, 1))
    a = Conv2D(2, 3, padding="same", name="a")(inputs)
    pooled = MaxPooling2D(2, strides=1, padding="same", name="pool")(inputs)
    b = Conv2D(3, 1, name="b")(pooled)
    model = Model(inputs, Concatenate()([a, b]))
    x = np.random.default_rng(0).random((6, 6, 1)).astype(np.float32)
    images = [i for (i,) in _images(plot_feature_maps(model, x))]
    assert len(images) == 1 + 2 + 3
    with no_grad():
        expected_a = model.get_layer("a")(x[None]).data[0]
        pool = model.get_layer("pool")(x[None])
        expected_b = model.get_layer("b")(pool).data[0]
    np.testing.assert_allclose(images[1].get_array(), expected_a[..., 0], rtol=1e-6)
    np.testing.assert_allclose(images[3].get_array(), expected_b[..., 0], rtol=1e-6)
