"""Each layer of Keras's core, pooling, normalization and reshaping families
that glassnet added in one .keras file: glassnet writes it and reads it back
(the same config, the same predictions), Keras 3 reads it and predicts the
same, and a Lambda's function crosses by its name, never as code."""

from __future__ import annotations

import os

import numpy as np
import pytest

from glassnet import layers as L
from glassnet import ops
from glassnet.models import Sequential
from glassnet.saving import FileFormatError, load_model, register_keras_serializable

from .zoo import randomize

os.environ.setdefault("KERAS_BACKEND", "torch")


@register_keras_serializable(package="files")
def cube_plus_one(x):
    """Python operators only: the same function runs in glassnet and Keras."""
    return x * x * x + 1.0


def doubled(x):
    """Not registered: loading needs it in custom_objects."""
    return x * 2.0


# name: (layer factory, input shape of one sample); every layer here is Keras's too
LAYERS = {
    "conv2d_transpose": (
        lambda: L.Conv2DTranspose(3, 3, strides=2, padding="same", output_padding=1),
        (3, 4, 2),
    ),
    "max_pooling1d": (lambda: L.MaxPooling1D(3, strides=2, padding="same"), (7, 2)),
    "average_pooling1d": (lambda: L.AveragePooling1D(2, strides=1), (6, 2)),
    "global_average_pooling1d": (lambda: L.GlobalAveragePooling1D(), (5, 3)),
    "global_max_pooling1d": (lambda: L.GlobalMaxPooling1D(keepdims=True), (5, 3)),
    "embedding": (lambda: L.Embedding(9, 3, mask_zero=True), (4,)),
    "layer_normalization": (lambda: L.LayerNormalization(axis=[-2, -1]), (3, 4)),
    "lambda": (lambda: L.Lambda(cube_plus_one, output_shape=(3,)), (3,)),
    "identity": (lambda: L.Identity(), (3,)),
    "rescaling": (lambda: L.Rescaling(np.array([0.5, 2.0]), offset=-1.0), (3, 2)),
    "repeat_vector": (lambda: L.RepeatVector(3), (4,)),
    "permute": (lambda: L.Permute((2, 1)), (3, 4)),
    "cropping1d": (lambda: L.Cropping1D((1, 2)), (6, 2)),
    "cropping2d": (lambda: L.Cropping2D(((1, 0), (0, 2))), (4, 5, 2)),
    "zero_padding1d": (lambda: L.ZeroPadding1D((2, 1)), (3, 2)),
    "up_sampling1d": (lambda: L.UpSampling1D(3), (3, 2)),
}


def _model(name):
    factory, shape = LAYERS[name]
    model = Sequential([L.Input(shape), factory()])
    randomize(model)
    return model


def _x(name, n=5):
    layer, shape = LAYERS[name][0](), LAYERS[name][1]
    rng = np.random.default_rng(0)
    if isinstance(layer, L.Embedding):
        return rng.integers(0, layer.input_dim, (n, *shape)).astype("int32")
    return rng.uniform(-1, 1, (n, *shape)).astype("float32")


def test_the_table_holds_every_layer_this_round_added():
    added = {
        "AveragePooling1D",
        "Conv2DTranspose",
        "Cropping1D",
        "Cropping2D",
        "Embedding",
        "GlobalAveragePooling1D",
        "GlobalMaxPooling1D",
        "Identity",
        "Lambda",
        "LayerNormalization",
        "MaxPooling1D",
        "Permute",
        "RepeatVector",
        "Rescaling",
        "UpSampling1D",
        "ZeroPadding1D",
    }
    assert {type(factory()).__name__ for factory, _ in LAYERS.values()} == added
    assert added <= set(L.__all__)


@pytest.mark.parametrize("name", LAYERS)
def test_glassnet_reads_back_what_it_wrote(tmp_path, name):
    model, x = _model(name), _x(name)
    model.save(tmp_path / f"{name}.keras")
    again = load_model(tmp_path / f"{name}.keras")
    assert type(again.layers[0]) is type(model.layers[0])
    assert again.layers[0].get_config() == model.layers[0].get_config()
    np.testing.assert_array_equal(
        again.predict(x, verbose=0), model.predict(x, verbose=0)
    )


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("name", LAYERS)
def test_keras_reads_what_glassnet_wrote(tmp_path, name):
    pytest.importorskip("torch")
    keras = pytest.importorskip("keras")
    model, x = _model(name), _x(name)
    model.save(tmp_path / f"{name}.keras")
    # NOTE: Keras looks a function up by the name in "config"; glassnet writes
    # a registered function's "package>name" in "registered_name" only
    theirs = keras.saving.load_model(
        tmp_path / f"{name}.keras", custom_objects={"cube_plus_one": cube_plus_one}
    )
    assert type(theirs.layers[0]).__name__ == type(model.layers[0]).__name__
    assert theirs.count_params() == model.count_params()
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(theirs.predict(x, verbose=0)),
        model.predict(x, verbose=0),
        rtol=1e-5,
        atol=1e-6,
    )


def test_a_lambda_function_is_never_saved(tmp_path):
    model = Sequential([L.Input((2,)), L.Lambda(lambda t: t * 2.0)])
    with pytest.raises(ValueError, match="lambda"):
        model.save(tmp_path / "lambda.keras")
    assert not (tmp_path / "lambda.keras").exists()
    with pytest.raises(ValueError, match="lambda"):
        model.to_json()


def test_an_unregistered_function_loads_only_from_custom_objects(tmp_path):
    model = Sequential([L.Input((2,)), L.Lambda(doubled)])
    model.save(tmp_path / "doubled.keras")
    with pytest.raises(FileFormatError, match="doubled"):
        load_model(tmp_path / "doubled.keras")
    again = load_model(tmp_path / "doubled.keras", custom_objects={"doubled": doubled})
    x = np.ones((1, 2), dtype="float32")
    np.testing.assert_array_equal(again.predict(x, verbose=0), [[2.0, 2.0]])


def test_an_op_of_glassnet_loads_by_its_name(tmp_path):
    model = Sequential([L.Input((2,)), L.Lambda(ops.sqrt)])
    model.save(tmp_path / "sqrt.keras")
    assert load_model(tmp_path / "sqrt.keras").layers[0].function is ops.sqrt


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_keras_lambda_files_load_by_name_and_never_as_code(tmp_path):
    pytest.importorskip("torch")
    keras = pytest.importorskip("keras")
    x = np.random.default_rng(0).uniform(-1, 1, (4, 3)).astype("float32")

    named = keras.Sequential([keras.Input((3,)), keras.layers.Lambda(doubled)])
    named.save(tmp_path / "named.keras")
    with pytest.raises(FileFormatError, match="doubled"):
        load_model(tmp_path / "named.keras")
    ours = load_model(tmp_path / "named.keras", custom_objects={"doubled": doubled})
    np.testing.assert_allclose(ours.predict(x, verbose=0), 2 * x, rtol=1e-6)

    # Keras writes a registered function as {"config": "files>cube_plus_one"}
    keras.saving.register_keras_serializable(package="files")(cube_plus_one)
    registered = keras.Sequential(
        [keras.Input((3,)), keras.layers.Lambda(cube_plus_one)]
    )
    registered.save(tmp_path / "registered.keras")
    ours = load_model(tmp_path / "registered.keras")
    assert ours.layers[0].function is cube_plus_one

    code = keras.Sequential([keras.Input((3,)), keras.layers.Lambda(lambda t: t + 1)])
    code.save(tmp_path / "code.keras")  # Keras stores the lambda's bytecode
    for safe_mode in (True, False):
        with pytest.raises(FileFormatError, match="never loads code"):
            load_model(tmp_path / "code.keras", safe_mode=safe_mode)
