"""Lambda, Identity and Rescaling: lifecycle, gradcheck, Keras 3 parity,
output shapes, and configs that name a Lambda's function but never hold code."""

from __future__ import annotations

import os

import numpy as np
import pytest

from glassnet import Tensor, ops
from glassnet.layers import Identity, Lambda, Rescaling
from glassnet.saving import custom_object_scope, register_keras_serializable

from .layer_checks import check_layer, keras_module, keras_parity, layer_gradcheck

os.environ.setdefault("KERAS_BACKEND", "torch")


@register_keras_serializable(package="tests")
def square_plus(x, shift=1.0):
    """Python operators only: runs on glassnet Tensors and on Keras's tensors."""
    return x * x + shift


@register_keras_serializable(package="tests")
def scaled_by_training(x, training=False):
    return x * (2.0 if training else 0.5)


def halve(x):
    """Not registered: a config names it, and only custom_objects bring it back."""
    return x * 0.5


# name: (our factory, Keras factory or None, input shape of one sample)
CASES = {
    "lambda_op": (lambda: Lambda(ops.tanh), None, (3,)),
    "lambda_arguments": (
        lambda: Lambda(square_plus, arguments={"shift": 0.5}),
        lambda K: K.layers.Lambda(square_plus, arguments={"shift": 0.5}),
        (2, 3),
    ),
    "lambda_output_shape": (
        lambda: Lambda(square_plus, output_shape=(2, 3)),
        lambda K: K.layers.Lambda(square_plus, output_shape=(2, 3)),
        (2, 3),
    ),
    "lambda_training": (lambda: Lambda(scaled_by_training), None, (4,)),
    "identity": (lambda: Identity(), lambda K: K.layers.Identity(), (2, 3)),
    "rescaling": (
        lambda: Rescaling(1 / 255),
        lambda K: K.layers.Rescaling(1 / 255),
        (3, 2),
    ),
    "rescaling_offset": (
        lambda: Rescaling(1 / 127.5, offset=-1),
        lambda K: K.layers.Rescaling(1 / 127.5, offset=-1),
        (4,),
    ),
    "rescaling_per_channel": (
        lambda: Rescaling(np.array([0.5, 2.0, -1.0]), offset=np.array([1.0, 0, 0])),
        lambda K: K.layers.Rescaling(
            np.array([0.5, 2.0, -1.0]), offset=np.array([1.0, 0, 0])
        ),
        (2, 3),
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_lifecycle(case):
    layer = CASES[case][0]()
    check_layer(layer, CASES[case][2])
    assert layer.count_params() == 0


@pytest.mark.parametrize("case", CASES)
def test_gradcheck_float64(case):
    factory, _, shape = CASES[case]
    layer = type(factory()).from_config({**factory().get_config(), "dtype": "float64"})
    assert layer_gradcheck(layer, shape) < 1e-6


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("case", [c for c in CASES if CASES[c][1] is not None])
def test_matches_keras(case):
    pytest.importorskip("torch")
    pytest.importorskip("keras")
    ours, theirs, shape = CASES[case]
    layer, twin = ours(), theirs(keras_module())
    keras_parity(layer, twin, shape)
    assert set(layer.get_config()) == set(twin.get_config())


def test_lambda_gets_training_only_when_it_declares_it():
    layer = Lambda(scaled_by_training)
    x = np.ones((1, 2), dtype=np.float32)
    np.testing.assert_array_equal(layer(x, training=True).data, [[2.0, 2.0]])
    np.testing.assert_array_equal(layer(x).data, [[0.5, 0.5]])
    np.testing.assert_array_equal(Lambda(ops.exp)(np.zeros((1, 2))).data, [[1, 1]])


def test_lambda_output_shapes():
    assert Lambda(ops.tanh).compute_output_shape((None, 3, 4)) == (None, 3, 4)
    flat = Lambda(lambda x: ops.reshape(x, (x.shape[0], -1)))
    assert flat.compute_output_shape((None, 3, 4)) == (None, 12)
    assert Lambda(ops.tanh, output_shape=(5,)).compute_output_shape((None, 5)) == (
        None,
        5,
    )
    by_fn = Lambda(ops.tanh, output_shape=lambda shape: (shape[0], 7))
    assert by_fn.compute_output_shape((None, 2)) == (None, 7)
    with pytest.raises(NotImplementedError, match="output_shape"):
        Lambda(ops.tanh).compute_output_shape((None, None, 4))


def test_lambda_mask_is_its_function_or_value():
    layer = Lambda(ops.tanh, mask=lambda x, mask: np.asarray(x.data) > 0)
    np.testing.assert_array_equal(
        layer.compute_mask(Tensor(np.array([[1.0, -1.0]]))), [[True, False]]
    )
    assert Lambda(ops.tanh).compute_mask(np.zeros(2)) is None


def test_lambda_config_names_the_function_never_its_code():
    config = Lambda(halve, arguments={"shift": 2.0}, name="h").get_config()
    assert config["function"] == {
        "module": __name__,
        "class_name": "function",
        "config": "halve",
        "registered_name": "halve",
    }
    assert config["arguments"] == {"shift": 2.0}
    assert "output_shape" not in config and "mask" not in config
    assert Lambda(lambda x: x).get_config()["function"] == "<lambda>"
    registered = Lambda(square_plus).get_config()["function"]
    assert registered["registered_name"] == "tests>square_plus"
    # glassnet's own ops and activations resolve by name
    for fn in (ops.sqrt, ops.tanh):
        assert Lambda.from_config(Lambda(fn).get_config()).function is fn


def test_lambda_from_config_finds_registered_and_given_functions_only():
    config = Lambda(halve, name="h").get_config()
    with pytest.raises(ValueError, match="custom_objects"):
        Lambda.from_config(config)
    with custom_object_scope({"halve": halve}):
        assert Lambda.from_config(config).function is halve
    assert Lambda.from_config(Lambda(square_plus).get_config()).function is square_plus


@pytest.mark.parametrize(
    "function",
    [
        {"class_name": "__lambda__", "config": {"code": "AAAA"}},
        {"module": "os", "class_name": "function", "config": "system"},
        {"module": "builtins", "class_name": "function", "config": "eval"},
        "<lambda>",
    ],
    ids=["code", "os.system", "eval", "lambda-name"],
)
def test_lambda_from_config_never_loads_code_or_imports(function):
    config = {**Lambda(ops.tanh).get_config(), "function": function}
    with pytest.raises(ValueError, match="never|Unknown function"):
        Lambda.from_config(config)


def test_lambda_output_shape_and_arguments_from_keras_layout():
    config = Lambda(ops.tanh, output_shape=(3,), arguments={}).get_config()
    config["output_shape"] = [3]  # JSON has lists
    config["arguments"] = {
        "scale": {
            "class_name": "__numpy__",
            "config": {"value": [1, 2], "dtype": "int64"},
        }
    }
    layer = Lambda.from_config(config)
    assert layer.compute_output_shape((None, 3)) == (None, 3)
    np.testing.assert_array_equal(layer.arguments["scale"], [1, 2])


def test_bad_arguments():
    with pytest.raises(TypeError, match="callable"):
        Lambda("tanh")
    with pytest.raises(ValueError, match="Received: scale="):
        Rescaling("half")


def test_rescaling_values_and_config():
    x = np.array([[0.0, 255.0]], dtype=np.float32)
    np.testing.assert_allclose(Rescaling(1 / 127.5, offset=-1)(x).data, [[-1, 1]])
    config = Rescaling(np.array([1.0, 2.0]), name="r").get_config()
    assert config["scale"] == [1.0, 2.0] and config["offset"] == 0.0
    array = {"class_name": "__numpy__", "config": {"value": [1, 2], "dtype": "float32"}}
    layer = Rescaling.from_config({**config, "scale": array})  # Keras's layout
    assert layer.get_config() == config
    np.testing.assert_array_equal(layer(np.ones((1, 2))).data, [[1.0, 2.0]])


def test_identity_is_no_node():
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    assert Identity()(x) is x
