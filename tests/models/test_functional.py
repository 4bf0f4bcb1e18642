"""The functional API as a graph: any DAG of layer calls between Inputs and
outputs (lists and dicts of them), shared layers, models used as layers,
several inputs and outputs; layer order, weights and outputs equal Keras's
for the same code (weights copied with ``set_weights(keras.get_weights())``);
Keras's errors; the symbolic attributes; training of a one-output graph
equal to Keras's; configs and clones that rebuild the same graph."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import glassnet
from glassnet import layers as L
from glassnet.layers import Input
from glassnet.models import Model, Sequential, clone_model
from saving.zoo import (
    GRAPHS,
    ZOO,
    assert_same_outputs,
    glassnet_api,
    graph_inputs,
    randomize,
)


def _arrays(outputs):
    """Model outputs (Tensors or arrays, in lists and dicts) as arrays."""
    if isinstance(outputs, dict):
        return {k: _arrays(v) for k, v in outputs.items()}
    if isinstance(outputs, (list, tuple)):
        return [_arrays(v) for v in outputs]
    return np.asarray(getattr(outputs, "data", outputs))


def _twins(keras, build):
    """The same code built by both libraries, Keras's random weights copied
    into glassnet's model in Keras's order."""
    keras.utils.clear_session()
    glassnet.layers.clear_session()
    ours, theirs = build(glassnet_api()), build(keras)
    ours.set_weights(theirs.get_weights())
    return ours, theirs


GRAPH_NAMES = sorted(GRAPHS) + ["residual", "inception"]


def _graph_config(config):
    """A functional config without the call arguments Keras records at
    their defaults (``mask=None``; ``training=False`` for a Dropout)."""
    config = copy.deepcopy(config)
    for entry in config["layers"]:
        for node in entry["inbound_nodes"]:
            node["kwargs"] = {
                k: v
                for k, v in node["kwargs"].items()
                if (k, v) not in (("mask", None), ("training", False))
            }
    return config


def _build_and_inputs(name):
    if name in GRAPHS:
        return GRAPHS[name][0], graph_inputs(name)
    build, shape, *_ = ZOO[name]
    x = np.random.default_rng(0).uniform(-1, 1, (10, *shape)).astype("float32")
    return build, x


# --- Keras parity -------------------------------------------------------------------
@pytest.mark.parametrize("name", GRAPH_NAMES)
def test_layers_weights_and_outputs_equal_keras(keras, name):
    build, x = _build_and_inputs(name)
    ours, theirs = _twins(keras, build)
    assert [layer.name for layer in ours.layers] == [
        layer.name for layer in theirs.layers
    ]
    assert [type(layer).__name__ for layer in ours.layers] == [
        type(layer).__name__.replace("Functional", "Model") for layer in theirs.layers
    ]
    assert ours.count_params() == theirs.count_params()
    assert [w.data.shape for w in ours.weights] == [
        tuple(w.shape) for w in theirs.weights
    ]
    assert ours.input_shape == theirs.input_shape
    assert ours.output_shape == theirs.output_shape
    expected = keras.tree.map_structure(np.asarray, theirs.predict(x, verbose=0))
    assert_same_outputs(ours.predict(x, verbose=0), expected)
    assert_same_outputs(_arrays(ours(x)), expected)
    assert_same_outputs(ours.predict(x, batch_size=3, verbose=0), expected)


@pytest.mark.parametrize("name", GRAPH_NAMES)
def test_summary_equals_keras(keras, name, capsys):
    build, _ = _build_and_inputs(name)
    ours, theirs = _twins(keras, build)
    for show_trainable in (False, True):
        ours.summary(show_trainable=show_trainable)
        mine = capsys.readouterr().out
        theirs.summary(show_trainable=show_trainable)
        assert mine == capsys.readouterr().out


def test_symbolic_tensors_have_keras_shapes_and_dtypes(keras):
    for k in (glassnet_api(), keras):
        a = k.Input((3, 4), name="a")
        ids = k.Input((5,), dtype="int32", name="ids")
        x = k.layers.Embedding(10, 4)(ids)
        y = k.layers.Dense(4)(a)
        z = k.layers.Concatenate(axis=1)([x, y])
        assert (a.shape, a.dtype, ids.dtype) == ((None, 3, 4), "float32", "int32")
        assert (z.shape, z.dtype, z.ndim) == ((None, 8, 4), "float32", 3)


def test_training_a_one_output_graph_equals_keras(keras):
    x = np.random.default_rng(0).uniform(-1, 1, (32, 6)).astype("float32")
    y = np.random.default_rng(1).uniform(-1, 1, (32, 2)).astype("float32")
    ours, theirs = _twins(keras, ZOO["residual"][0])
    for model, k in ((ours, glassnet), (theirs, keras)):
        model.compile(k.optimizers.SGD(0.05, momentum=0.5), "mse")
    history = ours.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0)
    expected = theirs.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0)
    np.testing.assert_allclose(
        history.history["loss"], expected.history["loss"], rtol=1e-5
    )
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_feature_extractor_of_a_sequential_equals_keras(keras):
    def build(k):
        seq = k.Sequential(
            [
                k.Input((6,)),
                k.layers.Dense(5, activation="relu"),
                k.layers.Dense(4),
                k.layers.Dense(2),
            ]
        )
        return k.Model(seq.inputs, [layer.output for layer in seq.layers])

    ours, theirs = _twins(keras, build)
    x = np.random.default_rng(0).uniform(-1, 1, (3, 6)).astype("float32")
    assert_same_outputs(ours.predict(x, verbose=0), theirs.predict(x, verbose=0))
    assert [t.shape for t in ours.outputs] == [(None, 5), (None, 4), (None, 2)]


# --- topology ------------------------------------------------------------------------
def test_layers_are_ordered_deepest_first_as_keras_orders_them():
    a, b = Input((4,), name="a"), Input((4,), name="b")
    x = L.Dense(4, name="d")(a)
    s = L.Add(name="s")([x, b])
    model = Model([a, b], s)
    # b feeds the add directly (depth 1), a goes through d (depth 2)
    assert [layer.name for layer in model.layers] == ["a", "d", "b", "s"]
    assert model.get_layer(index=2).name == "b"
    assert model.get_layer("d") is model.layers[1]


def test_a_shared_layer_has_one_set_of_weights_and_both_gradients():
    a, b = Input((3,)), Input((3,))
    shared = L.Dense(2, use_bias=False)
    model = Model([a, b], L.Add()([shared(a), shared(b)]))
    assert model.layers.count(shared) == 1 and len(model.weights) == 1
    shared.set_weights([np.ones((3, 2), "float32")])
    x, y = np.ones((1, 3), "float32"), 2 * np.ones((1, 3), "float32")
    out = model([x, y])
    np.testing.assert_array_equal(out.data, [[9.0, 9.0]])
    glassnet.ops.sum(out).backward()
    # d/dW of sum(x W + y W) = x + y, summed over the two uses
    np.testing.assert_array_equal(shared.kernel.grad, np.full((3, 2), 3.0))
    assert len(shared._inbound_nodes) == 2
    assert shared.get_input_at(1) is b and shared.input is a
    assert shared.get_output_at(0) is not shared.get_output_at(1)


def test_a_model_is_a_layer_on_new_symbolic_and_eager_inputs():
    inner_in = Input((3,))
    inner = Model(inner_in, L.Dense(2)(inner_in), name="inner")
    a, b = Input((3,)), Input((3,))
    outer = Model([a, b], L.Concatenate()([inner(a), inner(b)]))
    assert outer.layers[2] is inner and len(outer.weights) == 2
    x, y = np.ones((2, 3), "float32"), np.zeros((2, 3), "float32")
    out = outer([x, y]).data
    np.testing.assert_allclose(out, np.concatenate([inner(x).data, inner(y).data], 1))
    assert inner.output_shape == (None, 2)


def test_intermediate_tensors_make_a_sub_model():
    inputs = Input((4,))
    hidden = L.Dense(3, name="hidden")(inputs)
    head = L.Dense(2, name="head")(hidden)
    full = Model(inputs, head)
    tail = Model(hidden, head)  # from an intermediate tensor: a new Input
    assert [type(x).__name__ for x in tail.layers] == ["InputLayer", "Dense"]
    assert tail.layers[1] is full.layers[2]
    x = np.ones((2, 4), "float32")
    h = full.layers[1](x)
    np.testing.assert_allclose(tail(h).data, full(x).data, rtol=1e-6)


def test_outputs_may_be_inputs_and_inputs_may_go_unused():
    a, b = Input((2,), name="a"), Input((2,), name="b")
    model = Model([a, b], [a, L.Dense(1, name="d")(a)])
    assert [x.name for x in model.layers] == ["a", "b", "d"]  # Keras's order
    out = model([np.ones((1, 2)), np.zeros((1, 2))])
    np.testing.assert_array_equal(out[0].data, np.ones((1, 2)))


def test_threads_predict_one_graph_at_once():
    from concurrent.futures import ThreadPoolExecutor

    model = GRAPHS["mixed_inputs"][0](glassnet_api())
    inputs = [graph_inputs("mixed_inputs", n=4, seed=s) for s in range(8)]
    expected = [model.predict(x, verbose=0) for x in inputs]
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda x: model.predict(x, verbose=0), inputs * 4))
    for i, out in enumerate(got):
        np.testing.assert_array_equal(out, expected[i % 8])


def test_a_deep_graph_needs_no_recursion():
    x = inputs = Input((2,))
    for _ in range(1500):
        x = L.Add()([x, inputs])
    model = Model(inputs, x)
    out = model(np.ones((1, 2), "float32"))
    np.testing.assert_array_equal(out.data, np.full((1, 2), 1501.0))


def test_recorded_training_flags_apply_unless_the_model_is_told():
    inputs = Input((200,))
    outputs = L.Dropout(0.5)(inputs, training=True)  # dropout at inference too
    model = Model(inputs, outputs)
    x = np.ones((1, 200), "float32")
    assert (model(x).data == 0).any()  # the recorded flag
    np.testing.assert_array_equal(model(x, training=False).data, x)
    np.testing.assert_array_equal(model.predict(x, verbose=0), x)


def test_inputs_come_as_lists_dicts_and_names():
    a, b = Input((2,), name="a"), Input((3,), name="b")
    out = L.Concatenate()([a, b])
    as_list, as_dict = Model([a, b], out), Model({"a": a, "b": b}, out)
    x, y = np.ones((1, 2), "float32"), np.zeros((1, 3), "float32")
    expected = np.concatenate([x, y], 1)
    for model in (as_list, as_dict):
        np.testing.assert_array_equal(model({"b": y, "a": x}).data, expected)
    np.testing.assert_array_equal(as_list([x, y]).data, expected)
    np.testing.assert_array_equal(as_list((x, y)).data, expected)
    np.testing.assert_array_equal(as_list.predict([x, y], verbose=0), expected)
    # a last axis of 1 is added or dropped, as Keras adjusts it
    one = Input((3, 1))
    model = Model(one, L.Flatten()(one))
    assert model(np.ones((2, 3), "float32")).data.shape == (2, 3)


def test_symbolic_attributes():
    a, b = Input((2,), name="a"), Input((2,), name="b")
    dense = L.Dense(3)
    out = dense(a)
    model = Model({"a": a, "b": b}, [out])
    assert model.inputs == [a, b] and model.outputs == [out]
    assert model.input == {"a": a, "b": b} and model.output == [out]
    assert dense.input is a and dense.output is out
    assert model.input_shape == [(None, 2), (None, 2)]
    assert model.output_shape == (None, 3)
    with pytest.raises(AttributeError, match="has never been called"):
        _ = L.Dense(2).output
    with pytest.raises(ValueError, match="only 1 inbound nodes"):
        dense.get_input_at(1)
    with pytest.raises(AttributeError, match="neither a functional model"):
        _ = Sequential().inputs


def test_copies_and_pickles_run_the_same_graph():
    model = GRAPHS["nested_functional"][0](glassnet_api())
    x = graph_inputs("nested_functional")
    expected = _arrays(model(x))
    for again in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        assert_same_outputs(_arrays(again(x)), expected, rtol=0, atol=0)
        assert [w.name for w in again.weights] == [w.name for w in model.weights]


# --- errors, as Keras raises them ---------------------------------------------------
def test_outputs_not_computed_from_the_inputs_are_refused(keras):
    for k in (glassnet_api(), keras):
        a, b = k.Input((2,)), k.Input((2,))
        out = k.layers.Add()([a, b])
        with pytest.raises(ValueError, match="Output with path `` is not connected"):
            k.Model(a, out)
        with pytest.raises(ValueError, match="Output with path `1` is not connected"):
            k.Model(a, [a, k.layers.Dense(2)(out)])


def test_two_layers_of_one_name_are_refused():
    a = Input((2,))
    x = L.Dense(2, name="twin")(a)
    x = L.Dense(2, name="twin")(x)
    with pytest.raises(ValueError, match='The name "twin" is used 2 times'):
        Model(a, x)


@pytest.mark.parametrize(
    ("inputs", "outputs", "message"),
    [
        (np.ones(2), None, "All `inputs` values must be KerasTensors"),
        ([], None, "`inputs` argument cannot be empty"),
        (None, [np.ones(2)], "All `outputs` values must be KerasTensors"),
    ],
)
def test_inputs_and_outputs_must_be_symbolic(inputs, outputs, message):
    a = Input((2,))
    with pytest.raises(ValueError, match=message):
        Model(a if inputs is None else inputs, a if outputs is None else outputs)


def test_calls_that_do_not_fit_the_inputs_are_refused():
    a, b = Input((2,), name="a"), Input((3,), name="b")
    model = Model([a, b], L.Concatenate()([a, b]))
    with pytest.raises(ValueError, match="structure of `inputs` doesn't match"):
        model([np.ones((1, 2))] * 3)
    with pytest.raises(ValueError, match="structure of `inputs` doesn't match"):
        model(np.ones((1, 2)))
    with pytest.raises(ValueError, match=r"Input 1 of layer .* expected shape"):
        model([np.ones((1, 2)), np.ones((1, 4))])
    with pytest.raises(ValueError, match="incompatible with the layer"):
        Model(a, L.Dense(1)(a))(np.ones((1, 5)))


def test_several_outputs_predict_and_train():
    model = GRAPHS["two_heads"][0](glassnet_api())
    x = graph_inputs("two_heads")
    out = model.predict(x, verbose=0)
    assert out["score"].shape == (10, 1) and out["classes"].shape == (10, 3)
    model.compile("adam", {"score": "binary_crossentropy", "classes": "mse"})
    y = {"score": (out["score"] > 0.5) * 1.0, "classes": out["classes"]}
    history = model.fit(x, y, epochs=1, verbose=0)
    assert list(history.history) == ["loss", "score_loss", "classes_loss"]


def test_get_layer_errors_are_keras_errors():
    a = Input((2,))
    model = Model(a, L.Dense(1, name="out")(a))
    with pytest.raises(ValueError, match="Provide only a layer name or a layer index"):
        model.get_layer("out", 1)
    with pytest.raises(ValueError, match="at index 5 but model only has 2 layers"):
        model.get_layer(index=5)
    with pytest.raises(ValueError, match=r"No such layer: nope. Existing layers"):
        model.get_layer("nope")
    with pytest.raises(ValueError, match="Provide either a layer name or layer index"):
        model.get_layer()


def test_symbolic_tensors_refuse_arithmetic():
    a = Input((2,))
    with pytest.raises(TypeError, match="Use a layer for the operation"):
        _ = a + a


# --- configs and clones ------------------------------------------------------------
@pytest.mark.parametrize("name", GRAPH_NAMES)
def test_config_rebuilds_the_same_graph(name):
    build, x = _build_and_inputs(name)
    model = build(glassnet_api())
    randomize(model)
    config = model.get_config()
    again = Model.from_config(config)
    assert again.get_config() == config
    assert [layer.name for layer in again.layers] == [x.name for x in model.layers]
    again.set_weights(model.get_weights())
    assert_same_outputs(_arrays(again(x)), _arrays(model(x)), rtol=0, atol=0)


@pytest.mark.parametrize("name", GRAPH_NAMES)
def test_keras_reads_our_config_and_we_read_theirs(keras, name):
    build, x = _build_and_inputs(name)
    ours, theirs = _twins(keras, build)
    from_ours = keras.Model.from_config(ours.get_config())
    from_theirs = Model.from_config(theirs.get_config())
    assert _graph_config(from_theirs.get_config()) == ours.get_config()
    from_ours.set_weights(ours.get_weights())
    from_theirs.set_weights(ours.get_weights())
    expected = keras.tree.map_structure(np.asarray, theirs.predict(x, verbose=0))
    assert_same_outputs(from_ours.predict(x, verbose=0), expected)
    assert_same_outputs(from_theirs.predict(x, verbose=0), expected)


def test_clone_model_makes_new_layers_of_the_same_graph():
    model = GRAPHS["siamese"][0](glassnet_api())
    clone = clone_model(model)
    assert all(a is not b for a, b in zip(clone.layers, model.layers))
    assert [x.name for x in clone.layers] == [x.name for x in model.layers]
    assert clone.get_config() == model.get_config()
    clone.set_weights(model.get_weights())
    x = graph_inputs("siamese")
    assert_same_outputs(_arrays(clone(x)), _arrays(model(x)), rtol=0, atol=0)


def test_clone_model_on_new_inputs_with_a_clone_function():
    model = ZOO["residual"][0](glassnet_api())
    seen = []

    def clone_function(layer):
        seen.append(layer.name)
        config = layer.get_config()
        if isinstance(layer, L.Dense):
            config["name"] = "copy_of_" + config["name"]
        return type(layer).from_config(config)

    inputs = Input((6,), name="fresh")
    clone = clone_model(model, input_tensors=inputs, clone_function=clone_function)
    assert clone.inputs == [inputs]
    assert "fresh" not in seen and all(
        x.name.startswith("copy_of_") for x in clone.layers if isinstance(x, L.Dense)
    )
    seq = Sequential([Input((3,)), L.Dense(2)])
    copy_of_seq = clone_model(seq)
    assert (
        isinstance(copy_of_seq, Sequential)
        and copy_of_seq.layers[0] is not (seq.layers[0])
    )


class Scale(L.Layer):
    """y = x * s, one learned scale per feature (a user's layer)."""

    def build(self, input_shape):
        self.s = self.add_weight(shape=(input_shape[-1],), initializer="ones")

    def call(self, x):
        return x * self.s


def test_a_graph_of_a_user_layer_rebuilds_with_custom_objects(tmp_path):
    a = Input((3,))
    model = Model(a, L.Add()([Scale(name="scale")(a), a]))
    model.set_weights([np.array([1.0, 2.0, 3.0], "float32")])
    config = model.get_config()
    with pytest.raises(ValueError, match="Scale"):
        Model.from_config(config)
    again = Model.from_config(config, custom_objects={"Scale": Scale})
    again.set_weights(model.get_weights())
    x = np.ones((2, 3), "float32")
    np.testing.assert_array_equal(again(x).data, [[2.0, 3.0, 4.0]] * 2)
    model.save(tmp_path / "scaled.keras")
    loaded = glassnet.saving.load_model(
        tmp_path / "scaled.keras", custom_objects={"Scale": Scale}
    )
    np.testing.assert_array_equal(loaded(x).data, model(x).data)
