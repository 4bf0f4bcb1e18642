import numpy as np
import pytest

from glassnet.layers import Conv2D, Dense, Flatten, Input, Layer, MaxPooling2D
from glassnet.layers.fusion import fusable, layer_calls
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
    model.fuse_layers = fuse
    model.compile("adam", "mse")
    model.build((None, 9, 8, 2))
    rng = np.random.default_rng(seed)
    model.set_weights([rng.standard_normal(w.shape) for w in model.get_weights()])
    return model


def test_fused_model_trains_like_layer_by_layer():
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((10, 9, 8, 2)), rng.standard_normal((10, 2))
    fused, plain = _cnn(True), _cnn(False)
    assert len(fused._forward_fns) == 4 and len(plain._forward_fns) == 6
    for model in (fused, plain):
        model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    # gradients sum in another order (float32 rounding); outputs are the same
    for a, b in zip(fused.get_weights(), plain.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    plain.set_weights(fused.get_weights())
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
