import numpy as np
import pytest

from glassnet.layers import (
    Activation,
    BatchNormalization,
    Conv2D,
    Dense,
    Flatten,
    Input,
    Layer,
    MaxPooling2D,
)
from glassnet.layers.fusion import (
    conv_normalization_fusable,
    fusable,
    layer_calls,
    normalization_fusable,
)
from glassnet.models import Sequential


def _cnn(fuse, seed=0, conv=Conv2D):
    model = Sequential(
        [
            Input((9, 8, 2)),
            conv(3, 3, activation="relu"),
            MaxPooling2D(),
            Conv2D(4, 2, padding="same"),
            MaxPooling2D(),
            Flatten(),
            Dense(2),
        ]
    )
    return _ready(model, fuse, (None, 9, 8, 2), seed)


def _ready(model, fuse, input_shape, seed=0):
    """``model`` compiled, with fusion on or off, built with random weights."""
    model.fuse_layers = fuse
    model.compile("adam", "mse")
    model.build(input_shape)
    rng = np.random.default_rng(seed)
    model.set_weights([rng.standard_normal(w.shape) for w in model.get_weights()])
    return model


@pytest.mark.parametrize(
    "build,calls",
    [(lambda fuse: _cnn(fuse), (4, 6)), (lambda fuse: _cifar_like(fuse), (4, 9))],
    ids=["conv-pool", "conv-normalization-relu-pool"],
)
def test_fused_model_trains_like_layer_by_layer(build, calls):
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((10, 9, 8, 2)), rng.standard_normal((10, 2))
    fused, plain = build(True), build(False)
    assert (len(fused._forward_fns), len(plain._forward_fns)) == calls
    for model in (fused, plain):
        model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    # gradients (and batch statistics) sum in another order (float32 rounding)
    for a, b in zip(fused.get_weights(), plain.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    plain.set_weights(fused.get_weights())
    # outputs are the same (inference normalizes with the moving statistics)
    np.testing.assert_array_equal(
        fused.predict(x, verbose=0), plain.predict(x, verbose=0)
    )


class _OwnCall(Conv2D):
    def call(self, x, training=False):
        return super().call(x, training)


class _OwnDunderCall(MaxPooling2D):
    def __call__(self, x, training=False):
        return super().__call__(x, training)


class _Renamed(Conv2D):  # a subclass that changes no behaviour
    pass


@pytest.mark.parametrize(
    "conv,pool,expected",
    [
        (Conv2D(2, 3, activation="relu"), MaxPooling2D(), True),
        (Conv2D(2, 3), MaxPooling2D(3), True),
        (_Renamed(2, 3), MaxPooling2D(), True),
        (_OwnCall(2, 3), MaxPooling2D(), False),
        (Conv2D(2, 3), _OwnDunderCall(), False),
        (Conv2D(2, 3, activation="tanh"), MaxPooling2D(), False),
        (Conv2D(2, 3, activity_regularizer="l2"), MaxPooling2D(), False),
        (Conv2D(2, 3, dtype="float64"), MaxPooling2D(), False),
        (Conv2D(2, 3), MaxPooling2D(padding="same"), False),
        (Conv2D(2, 3), MaxPooling2D(2, strides=1), False),
        (Conv2D(2, 3), Dense(2), False),
        (Conv2D(2, 3), None, False),
    ],
)
def test_which_pairs_fuse(conv, pool, expected):
    assert fusable(conv, pool) is expected
    calls = layer_calls([conv] if pool is None else [conv, pool])
    assert len(calls) == (1 if expected else 1 + (pool is not None))
    if not expected:  # each layer's own call: layer(x, training=training)
        x = np.random.default_rng(0).uniform(0.1, 1, (2, 6, 6, 1)).astype("float32")
        for layer, fn in zip([conv, pool], calls):
            np.testing.assert_array_equal(fn(x, False).data, layer(x).data)
            x = layer(x)


def test_a_subclass_with_its_own_call_runs_it_unfused():
    model = _cnn(True, conv=_OwnCall)
    assert len(model._forward_fns) == 5  # only the second pair fuses
    assert model._forward_fns[0] == model.layers[0]._call_input


def test_the_fused_pair_casts_builds_and_checks_its_input_like_the_layers():
    conv, pool = Conv2D(2, 3, activation="relu"), MaxPooling2D()
    (call,) = layer_calls([conv, pool])
    x = np.random.default_rng(0).standard_normal((2, 6, 6, 1))  # float64
    out = call(x)  # an array: cast to the layers' float32, both layers built
    assert out.dtype == np.float32 and out.shape == (2, 2, 2, 2)
    assert conv.built and pool.built and conv.kernel.shape == (3, 3, 1, 2)
    assert pool._build_shape == (None, 4, 4, 2)
    unfused = pool(conv(x))
    np.testing.assert_array_equal(out.data, unfused.data)
    with pytest.raises(ValueError, match="incompatible with the layer"):
        call(np.zeros((2, 6, 6, 3), np.float32))  # 3 channels, built for 1


def test_model_call_runs_each_layer_through_its_dunder_call():
    calls = []

    class Probe(Layer):
        def __call__(self, x, training=False):
            calls.append(training)
            return super().__call__(x, training)

    model = Sequential([Input((3,)), Probe(), Dense(1)])
    assert calls == [False]  # its call on symbolic tensors, when built
    calls.clear()
    model.compile("sgd", "mse")
    model.fit(np.zeros((4, 3)), np.zeros((4, 1)), batch_size=2, verbose=0)
    model.predict(np.zeros((2, 3)), verbose=0)
    assert calls == [True, True, False]


def test_a_fused_model_pickles_and_copies():
    import copy
    import pickle

    model = Sequential(
        [Input((6, 6, 1)), Conv2D(2, 3, activation="relu"), MaxPooling2D()]
    )
    x = np.random.default_rng(0).standard_normal((2, 6, 6, 1)).astype("float32")
    expected = model(x).data
    for again in (pickle.loads(pickle.dumps(model)), copy.deepcopy(model)):
        np.testing.assert_array_equal(again(x).data, expected)


class _OwnNormalization(BatchNormalization):
    def call(self, x, training=False):
        return super().call(x, training)


@pytest.mark.parametrize(
    "norm,relu,pool,expected",
    [
        (BatchNormalization(), Activation("relu"), MaxPooling2D(), True),
        (BatchNormalization(), Activation("relu"), None, True),
        (BatchNormalization(axis=1), Activation("relu"), MaxPooling2D(3), True),
        (_OwnNormalization(), Activation("relu"), None, False),
        (BatchNormalization(), Activation("tanh"), None, False),
        (
            BatchNormalization(),
            Activation("relu", activity_regularizer="l2"),
            None,
            False,
        ),
        (BatchNormalization(dtype="float64"), Activation("relu"), None, False),
        (BatchNormalization(), Activation("relu"), MaxPooling2D(2, strides=1), False),
        (BatchNormalization(), Dense(2), None, False),
    ],
)
def test_which_normalization_runs_fuse(norm, relu, pool, expected):
    assert normalization_fusable(norm, relu, pool) is expected
    layers = [norm, relu] + ([pool] if pool is not None else [])
    calls = layer_calls(layers)
    if expected:
        assert len(calls) == 1
    elif pool is None:
        assert calls == [layer._call_input for layer in layers]


def test_a_pool_that_cannot_fuse_leaves_the_normalization_and_relu_fused():
    layers = [BatchNormalization(), Activation("relu"), MaxPooling2D(padding="same")]
    calls = layer_calls(layers)
    assert len(calls) == 2 and calls[1] == layers[2]._call_input


def _normalize_relu(pool):
    layers = [BatchNormalization(momentum=0.5), Activation("relu")]
    return layers + ([MaxPooling2D()] if pool else [])


@pytest.mark.parametrize("pool", [True, False])
def test_fused_normalization_runs_like_its_layers(pool):
    fused_layers, layers = _normalize_relu(pool), _normalize_relu(pool)
    (call,) = layer_calls(fused_layers)
    rng = np.random.default_rng(0)
    for training in (True, True, False):
        x = rng.standard_normal((4, 6, 6, 3)) * 2 + 1  # float64: cast as the layers do
        fused = call(x, training)
        y = x
        for layer in layers:
            y = layer(y, training)
        assert fused.data.dtype == y.data.dtype == np.float32
        np.testing.assert_allclose(fused.data, y.data, rtol=1e-5, atol=1e-5)
        # the moving statistics followed the same batch statistics
        for a, b in zip(fused_layers[0].get_weights(), layers[0].get_weights()):
            np.testing.assert_allclose(a, b, rtol=1e-5)
    assert all(layer.built for layer in fused_layers)


def _cifar_like(fuse, seed=0):
    model = Sequential(
        [
            Input((9, 8, 2)),
            Conv2D(4, 3, padding="same"),
            BatchNormalization(),
            Activation("relu"),
            MaxPooling2D(),
            Conv2D(4, 3, padding="same"),
            BatchNormalization(),
            Activation("relu"),
            Flatten(),
            Dense(2),
        ]
    )
    return _ready(model, fuse, (None, 9, 8, 2), seed)


@pytest.mark.parametrize(
    "conv,norm,expected",
    [
        (Conv2D(2, 3, padding="same"), BatchNormalization(), True),
        (Conv2D(2, 3, strides=2), BatchNormalization(axis=3), True),
        (Conv2D(2, 3, use_bias=False), BatchNormalization(axis=[-1]), True),
        (Conv2D(2, 3, activation="relu"), BatchNormalization(), False),
        (_OwnCall(2, 3), BatchNormalization(), False),
        (Conv2D(2, 3), BatchNormalization(axis=1), False),  # not per channel
        (Conv2D(2, 3), _OwnNormalization(), False),
        (Conv2D(2, 3, dtype="float64"), BatchNormalization(dtype="float64"), True),
        (Conv2D(2, 3, dtype="float64"), BatchNormalization(), False),
    ],
)
def test_which_conv_normalization_runs_fuse(conv, norm, expected):
    relu, pool = Activation("relu", dtype=norm.dtype), MaxPooling2D(dtype=norm.dtype)
    assert conv_normalization_fusable(conv, norm, relu, pool) is expected
    assert conv_normalization_fusable(conv, norm, relu) is expected
    assert (len(layer_calls([conv, norm, relu, pool])) == 1) is expected


@pytest.mark.parametrize("pool", [True, False])
def test_fused_conv_normalization_runs_like_its_layers(pool):
    def layers():
        return [Conv2D(3, 3, padding="same"), *_normalize_relu(pool)]

    fused_layers, plain_layers = layers(), layers()
    (call,) = layer_calls(fused_layers)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 6, 6, 2))
    call(x)  # builds them all
    for layer in plain_layers:
        x = layer(x)
    plain_layers[0].set_weights(fused_layers[0].get_weights())
    for training in (True, True, False):
        x = rng.standard_normal((4, 6, 6, 2))
        fused = call(x, training)
        y = x
        for layer in plain_layers:
            y = layer(y, training)
        np.testing.assert_allclose(fused.data, y.data, rtol=1e-5, atol=1e-5)
        for a, b in zip(fused_layers[1].get_weights(), plain_layers[1].get_weights()):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
