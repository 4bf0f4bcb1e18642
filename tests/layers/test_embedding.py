"""Embedding: lookups, the scattered gradient, Keras 3 parity, config, errors."""

from __future__ import annotations

import os

import numpy as np
import pytest

from glassnet import Tensor, layers, ops
from glassnet.layers import Embedding
from glassnet.models import Sequential

from .layer_checks import check_layer, keras_module, keras_parity, layer_gradcheck

os.environ.setdefault("KERAS_BACKEND", "torch")


def _indices(shape, vocabulary, seed=0, dtype="int64"):
    return np.random.default_rng(seed).integers(0, vocabulary, shape).astype(dtype)


# name: (our factory, input shape (of indices), Keras factory)
CASES = {
    "sequence": (lambda: Embedding(7, 3), (5,), lambda K: K.layers.Embedding(7, 3)),
    "mask_zero": (
        lambda: Embedding(7, 4, mask_zero=True),
        (5,),
        lambda K: K.layers.Embedding(7, 4, mask_zero=True),
    ),
    "grid": (lambda: Embedding(4, 2), (3, 2), lambda K: K.layers.Embedding(4, 2)),
    "one_index": (lambda: Embedding(9, 5), (), lambda K: K.layers.Embedding(9, 5)),
}


@pytest.mark.parametrize("case", CASES)
def test_lifecycle(case):
    factory, shape, _ = CASES[case]
    layer = factory()
    out = check_layer(layer, shape, x=_indices((3, *shape), layer.input_dim))
    assert out.shape == (3, *shape, layer.output_dim)
    assert layer.count_params() == layer.input_dim * layer.output_dim


@pytest.mark.parametrize("case", CASES)
def test_gradcheck_float64(case):
    factory, shape, _ = CASES[case]
    layer = Embedding.from_config({**factory().get_config(), "dtype": "float64"})
    x = _indices((2, *shape), layer.input_dim, seed=1)
    assert layer_gradcheck(layer, shape, x=x) < 1e-6


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("dtype", ["int32", "float32"])
@pytest.mark.parametrize("case", CASES)
def test_matches_keras(case, dtype):
    pytest.importorskip("torch")
    pytest.importorskip("keras")
    factory, shape, keras_factory = CASES[case]
    layer = factory()
    x = _indices((4, *shape), layer.input_dim, seed=2, dtype=dtype)
    keras_parity(layer, keras_factory(keras_module()), shape, x=x, input_grad=False)


def test_repeated_indices_add_their_gradients():
    layer = Embedding(3, 2, embeddings_initializer="ones")
    out = layer(np.array([[0, 2, 0, 0]]))
    np.testing.assert_array_equal(out.data, np.ones((1, 4, 2)))
    ops.sum(out).backward()
    # row 0 was looked up three times, row 1 never, row 2 once
    np.testing.assert_array_equal(layer.embeddings.grad, [[3, 3], [0, 0], [1, 1]])


def test_float_indices_are_cast_like_keras_and_bad_indices_say_which():
    layer = Embedding(5, 2)
    np.testing.assert_array_equal(
        layer(np.array([[1.0, 4.0]])).data, layer(np.array([[1, 4]])).data
    )
    with pytest.raises(ValueError, match="index 5 is out of range .* 5 rows"):
        layer(np.array([[1, 5]]))
    with pytest.raises(ValueError, match="index -1"):
        layer(np.array([[-1, 0]]))
    with pytest.raises(TypeError, match="integers"):
        ops.embedding_lookup(np.zeros((5, 2)), np.array(["a"]))


def test_mask_zero_masks_the_padding_index():
    layer = Embedding(5, 2, mask_zero=True)
    x = np.array([[3, 1, 0, 0]])
    np.testing.assert_array_equal(layer.compute_mask(x), [[True, True, False, False]])
    assert Embedding(5, 2).compute_mask(x) is None


def test_a_sequential_text_model_trains_on_integer_input():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 20, (32, 6))
    y = (x.sum(axis=1, keepdims=True) > 57).astype("float32")
    model = Sequential(
        [
            layers.Input((6,)),
            Embedding(20, 4),
            layers.GlobalAveragePooling1D(),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile("adam", "binary_crossentropy")
    before = model.layers[0].embeddings.data.copy()
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert not np.array_equal(model.layers[0].embeddings.data, before)
    assert model.predict(x, verbose=0).shape == (32, 1)
    assert model.output_shape == (None, 1) and model.count_params() == 80 + 5


def test_weights_argument_and_config():
    table = np.arange(6, dtype="float32").reshape(3, 2)
    layer = Embedding(3, 2, weights=[table], name="emb")
    assert layer.built
    np.testing.assert_array_equal(layer(np.array([[2, 0]])).data[0], table[[2, 0]])
    config = layer.get_config()
    assert config["embeddings_initializer"]["class_name"] == "RandomUniform"
    assert config["mask_zero"] is False and config["embeddings_constraint"] is None
    assert Embedding.from_config(config).get_config() == config
    assert layer.compute_output_shape((None, 4)) == (None, 4, 2)
    clone = Embedding(3, 2, weights=table)  # one array, as Keras also takes
    np.testing.assert_array_equal(clone.embeddings.data, table)
    with pytest.warns(UserWarning, match="input_length"):
        Embedding(3, 2, input_length=4)


def test_config_keys_are_keras():
    pytest.importorskip("torch")
    pytest.importorskip("keras")
    theirs = keras_module().layers.Embedding(3, 2, mask_zero=True).get_config()
    ours = Embedding(3, 2, mask_zero=True).get_config()
    # quantization_config: a newer Keras argument, accepted but never written
    assert set(ours) == set(theirs) - {"quantization_config"}
    assert Embedding.from_config({**ours, "quantization_config": None}).mask_zero


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(input_dim=0, output_dim=2), "Received: input_dim=0"),
        (dict(input_dim=3.0, output_dim=2), "Received: input_dim=3.0"),
        (dict(input_dim=3, output_dim=True), "Received: output_dim=True"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Embedding(**kwargs)


def test_an_integer_tensor_input_gets_no_gradient():
    layer = Embedding(4, 2)
    indices = Tensor(np.array([[1, 2]]))
    out = layer(indices)
    ops.sum(out).backward()
    assert indices.grad is None and layer.embeddings.grad is not None
