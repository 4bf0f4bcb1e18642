"""Whole models as ONNX graphs: Sequential and functional chains, and every
functional graph glassnet builds (several inputs and outputs, lists and
dicts, shared layers, nested models, branches); their names; what is refused."""

from __future__ import annotations

import numpy as np
import pytest

from glassnet import layers as L
from glassnet.models import Model, Sequential

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from onnx_checks import check, close, load_zoo, randomize  # noqa: E402

import glassnet.onnx as gx  # noqa: E402  (after the skips: it needs onnx)

zoo = load_zoo()
K = zoo.glassnet_api()


def _seq(shape, *layers):
    return randomize(Sequential([L.Input(shape), *layers]))


def test_functional_chains_and_nested_models():
    inputs = L.Input((7,))
    x = L.Dense(6, activation="relu")(inputs)
    x = L.Dropout(0.3)(x)
    check(randomize(Model(inputs, L.Dense(2)(x))))
    inner = Sequential([L.Input((6,)), L.Dense(4, activation="tanh")])
    check(randomize(Sequential([L.Input((6,)), inner, L.Dense(3)])))


# --- graphs -------------------------------------------------------------------------
def _float_ids(vocabulary):
    """Inputs of token ids held in floats (a float Input before an Embedding)."""

    def make(proto, n, rng):
        (value,) = proto.graph.input
        shape = [n, *(d.dim_value for d in value.type.tensor_type.shape.dim[1:])]
        return [rng.integers(0, vocabulary, shape).astype(np.float32)]

    return make


#: zoo models ONNX export refuses, with the start of its message
REFUSED = {"recurrent": "Layer 'embedding.*' \\(Embedding\\) has mask_zero=True"}


@pytest.mark.parametrize("name", sorted(zoo.ZOO))
def test_every_zoo_model_exports(name):
    model = randomize(zoo.ZOO[name][0](K))
    if name in REFUSED:
        with pytest.raises(gx.ExportError, match=REFUSED[name]):
            check(model)
        return
    if name in zoo.INDICES:
        check(model, make=_float_ids(zoo.INDICES[name]))
    else:
        check(model)


@pytest.mark.parametrize("name", sorted(zoo.GRAPHS))
def test_every_zoo_graph_exports(name):
    model = randomize(zoo.GRAPHS[name][0](K))
    assert max(zoo.GRAPH_INDICES.get(name, {"": 10}).values()) == 10  # samples'
    check(model)


def _names(values):
    return [value.name for value in values]


def test_a_graph_is_named_after_its_input_and_output_layers():
    siamese = randomize(zoo.siamese(K))
    proto = gx.export(siamese)
    cosine = siamese.outputs[1]._keras_history[0].name
    assert _names(proto.graph.input) == ["left", "right"]
    assert _names(proto.graph.output) == ["distance", cosine]

    proto = gx.export(randomize(zoo.two_heads(K)))  # a dict: its keys sorted
    assert _names(proto.graph.input) == ["features"]
    assert _names(proto.graph.output) == ["classes", "score"]

    proto = gx.export(randomize(zoo.nested_functional(K)))
    assert _names(proto.graph.input) == ["a", "b"]
    assert _names(proto.graph.output) == ["tail", "inner"]


def test_an_input_or_a_tensor_given_twice_as_outputs_gets_names_of_its_own():
    inputs = L.Input((3,), name="x")
    y = L.Dense(2, name="d")(inputs)
    proto = check(randomize(Model(inputs, [inputs, y, y])))
    assert _names(proto.graph.input) == ["x"]
    assert _names(proto.graph.output) == ["x_1", "d", "d_1"]
    assert [node.op_type for node in proto.graph.node].count("Identity") == 2


def _initializers_holding(proto, array):
    return [
        tensor.name
        for tensor in proto.graph.initializer
        if np.array_equal(onnx.numpy_helper.to_array(tensor), array)
    ]


@pytest.mark.parametrize("build", [zoo.siamese, zoo.nested_functional])
def test_shared_layers_and_models_have_one_initializer_per_weight(build):
    model = randomize(build(K))
    proto = check(model)
    for weight in model.weights:
        assert len(_initializers_holding(proto, weight.data)) == 1, weight.name


def test_a_shared_layer_is_called_twice_on_one_set_of_weights():
    proto = gx.export(randomize(zoo.siamese(K)))
    readers = [node for node in proto.graph.node if "encoder/kernel" in node.input]
    assert len(readers) == 2


def test_branches_read_one_transposed_image():
    proto = check(randomize(zoo.inception(K)))
    assert [node.op_type for node in proto.graph.node].count("Transpose") == 1


def test_a_sequential_and_a_functional_model_nested_twice_deep():
    inner = Sequential([L.Input((5,)), L.Dense(4, activation="relu")], name="inner")
    x = L.Input((5,))
    middle = Model(x, L.Add()([inner(x), L.Dense(4)(x)]), name="middle")
    a, b = L.Input((5,), name="a"), L.Input((5,), name="b")
    joined = L.Concatenate()([middle(a), middle(b), inner(b)])
    model = randomize(Model([a, b], {"out": L.Dense(2, name="out")(joined)}))
    proto = check(model)
    assert _names(proto.graph.output) == ["out"]
    for weight in model.weights:
        assert len(_initializers_holding(proto, weight.data)) == 1, weight.name


def test_sequences_of_any_length():
    ids = L.Input((None,), dtype="int64", name="ids")
    x = L.Embedding(10, 4)(ids)
    x = L.Conv1D(3, 2, padding="same", activation="relu")(x)
    y = L.LayerNormalization()(L.Cropping1D((1, 0))(x))
    pooled = [L.GlobalMaxPooling1D()(y), L.GlobalAveragePooling1D()(x)]
    model = randomize(Model([ids], L.Dense(2)(L.Concatenate()(pooled))))
    proto = check(model)
    assert proto.graph.input[0].type.tensor_type.shape.dim[1].dim_value == 0


def test_model_export_is_keras_3s_spelling(tmp_path, capsys):
    model = _seq((4,), L.Dense(2))
    path = tmp_path / "m.onnx"
    model.export(path, format="onnx", verbose=True)
    assert "Saved artifact" in capsys.readouterr().out
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    x = np.ones((3, 4), np.float32)
    close(session.run(None, {"input": x})[0], model.predict(x, verbose=0))
    model.export(tmp_path / "m21.onnx", format="onnx", opset_version=21)
    assert onnx.load(tmp_path / "m21.onnx").opset_import[0].version == 21


@pytest.mark.parametrize("format", ["tf_saved_model", "torch", "litert", "ONNX"])
def test_other_formats_raise(tmp_path, format):
    with pytest.raises(ValueError, match="format='onnx'"):
        _seq((4,), L.Dense(2)).export(tmp_path / "m", format=format)


class Doubled(L.Dense):
    def call(self, x, training=False):
        return super().call(x, training) * 2.0


class Custom(L.Layer):
    def call(self, x, training=False):
        return x


class Subclassed(Model):
    def __init__(self):
        super().__init__()
        self.dense = L.Dense(2)

    def call(self, x, training=False):
        return self.dense(x)


def _unbuilt():
    return Sequential([L.Dense(2)])


def _lambda_layer():
    inputs = L.Input((4,))
    return Model(inputs, L.Lambda(lambda t: t * 2.0)(L.Dense(2)(inputs)))


def _lambda_in_a_nested_model():
    inner = Sequential([L.Input((4,)), L.Lambda(lambda t: t + 1.0, name="scale")])
    inputs = L.Input((4,))
    return Model(inputs, L.Dense(2)(inner(inputs)))


def _masked():
    steps, mask = L.Input((6, 3)), L.Input((6,), dtype="bool")
    return Model([steps, mask], L.GlobalAveragePooling1D(name="pool")(steps, mask=mask))


def _unknown_size():
    inputs = L.Input((None, None, 3))
    return Model(inputs, L.Conv2DTranspose(2, 3, name="up")(inputs))


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: _seq((4,), Custom()), r"Layer 'custom' \(Custom\) cannot"),
        (lambda: _seq((4,), Doubled(2)), r"\(Doubled\) cannot be exported"),
        (
            lambda: _seq((4,), L.Dense(2, activation=lambda t: t * 2)),
            r"Layer 'dense.*' \(Dense\) uses the activation '<lambda>'",
        ),
        (lambda: Subclassed(), "subclassed model"),
        (_unbuilt, "not built"),
        (_lambda_layer, r"Layer 'lambda.*' \(Lambda\) cannot .*Python code"),
        (_lambda_in_a_nested_model, r"Layer 'scale' \(Lambda\) cannot"),
        (_unknown_size, r"'up' \(Conv2DTranspose\) needs a known height"),
        (_masked, r"'pool' \(GlobalAveragePooling1D\) is called with mask"),
        (
            lambda: _seq((5,), L.Embedding(9, 2, mask_zero=True, name="ids")),
            r"'ids' \(Embedding\) has mask_zero=True",
        ),
        (lambda: _seq((4,), L.Dense(2, dtype="float64")), "float64"),
        (lambda: "a string", "takes a glassnet model"),
    ],
)
def test_what_cannot_be_exported_is_named(build, message):
    with pytest.raises(gx.ExportError, match=message):
        gx.export(build())


def test_an_older_opset_is_refused():
    with pytest.raises(ValueError, match="opset 18 or later"):
        gx.export(_seq((4,), L.Dense(2)), opset_version=13)
