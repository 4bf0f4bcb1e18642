import numpy as np
import pytest

from glassnet.layers import Conv2D, Dense, Flatten, Input, MaxPooling2D
from glassnet.layers.fusion import fusable, layer_calls
from glassnet.models import Sequential


def _cnn(fuse, seed=0):
    model = Sequential(
        [
            Input((9, 8, 2)),
            Conv2D(3, 3, activation="relu"),
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


@pytest.mark.parametrize(
    "conv,pool,expected",
    [
        (Conv2D(2, 3, activation="relu"), MaxPooling2D(), True),
        (Conv2D(2, 3), MaxPooling2D(3), True),
        (Conv2D(2, 3, activation="tanh"), MaxPooling2D(), False),
        (Conv2D(2, 3, activity_regularizer="l2"), MaxPooling2D(), False),
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
