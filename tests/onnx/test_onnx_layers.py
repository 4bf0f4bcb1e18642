"""onnxruntime runs the exported files and agrees with glassnet: every
exportable layer kind and setting, every activation, both estimators; float32,
relative 1e-5, batches of 1 and 7."""

from __future__ import annotations

import numpy as np
import pytest

from glassnet import activations
from glassnet import layers as L
from glassnet.models import Model, Sequential
from glassnet.sklearn import MLPClassifier, MLPRegressor

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

import glassnet.onnx as gx  # noqa: E402  (after the skips: it needs onnx)

BATCHES = (1, 7)


def _close(theirs, ours):
    """Relative 1e-5; values that cancel to near zero get an absolute floor of
    1e-6 of the output's scale (float32 sums in another order)."""
    scale = max(1.0, float(np.abs(ours).max()))
    np.testing.assert_allclose(theirs, ours, rtol=1e-5, atol=1e-6 * scale)


def _session(proto):
    return ort.InferenceSession(
        proto.SerializeToString(), providers=["CPUExecutionProvider"]
    )


def _randomize(model, seed=0):
    """Random weights; variances (BatchNormalization's) positive."""
    rng = np.random.default_rng(seed)
    weights = []
    for w in model.weights:
        value = rng.standard_normal(w.data.shape).astype(np.float32)
        if "variance" in w.name:
            value = np.abs(value) + 0.5
        weights.append(value)
    model.set_weights(weights)
    return model


def _check_model(model, tmp_path=None):
    path = None if tmp_path is None else tmp_path / "model.onnx"
    proto = gx.export(model, path)
    onnx.checker.check_model(proto, full_check=True)
    assert proto.opset_import[0].version == gx.OPSET
    batch = proto.graph.input[0].type.tensor_type.shape.dim[0]
    assert batch.dim_param == "batch"
    session = _session(proto if path is None else onnx.load(path))
    for n in BATCHES:
        rng = np.random.default_rng(n)
        x = rng.standard_normal((n, *model.input_shape[1:])).astype(np.float32)
        (theirs,) = session.run(None, {"input": x})
        assert theirs.shape == (n, *model.output_shape[1:])
        _close(theirs, model.predict(x, verbose=0))
    return proto


def _seq(shape, *layers):
    return _randomize(Sequential([L.Input(shape), *layers]))


IMAGE = (9, 8, 3)
LAYER_CASES = {
    "dense": lambda: _seq((5,), L.Dense(4)),
    "dense relu no bias": lambda: _seq((5,), L.Dense(4, "relu", use_bias=False)),
    "dense on 3-D input": lambda: _seq((3, 5), L.Dense(4, activation="tanh")),
    "conv2d valid": lambda: _seq(IMAGE, L.Conv2D(4, 3)),
    "conv2d same": lambda: _seq(IMAGE, L.Conv2D(4, (2, 3), padding="same")),
    "conv2d same strides 2": lambda: _seq(
        IMAGE, L.Conv2D(4, 3, strides=2, padding="same", activation="relu")
    ),
    "conv2d valid strides (2, 3)": lambda: _seq(IMAGE, L.Conv2D(2, 2, strides=(2, 3))),
    "conv2d same dilation 2": lambda: _seq(
        IMAGE, L.Conv2D(4, 3, dilation_rate=2, padding="same", activation="tanh")
    ),
    "conv2d valid dilation (2, 1) no bias": lambda: _seq(
        IMAGE, L.Conv2D(3, 2, dilation_rate=(2, 1), use_bias=False)
    ),
    "conv1d valid": lambda: _seq((10, 3), L.Conv1D(4, 3)),
    "conv1d same strides 2": lambda: _seq(
        (10, 3), L.Conv1D(4, 4, strides=2, padding="same")
    ),
    "conv1d causal dilation 2": lambda: _seq(
        (10, 3), L.Conv1D(4, 3, padding="causal", dilation_rate=2, activation="relu")
    ),
    "maxpool valid": lambda: _seq(IMAGE, L.MaxPooling2D()),
    "maxpool same strides 1": lambda: _seq(
        IMAGE, L.MaxPooling2D(3, strides=1, padding="same")
    ),
    "maxpool same (3, 2) strides 2": lambda: _seq(
        IMAGE, L.MaxPooling2D((3, 2), strides=2, padding="same")
    ),
    "avgpool valid": lambda: _seq(IMAGE, L.AveragePooling2D((2, 3))),
    "avgpool same (padding not counted)": lambda: _seq(
        IMAGE, L.AveragePooling2D(3, strides=2, padding="same")
    ),
    "global average": lambda: _seq(IMAGE, L.GlobalAveragePooling2D()),
    "global max keepdims": lambda: _seq(IMAGE, L.GlobalMaxPooling2D(keepdims=True)),
    "conv then global average keepdims": lambda: _seq(
        IMAGE, L.Conv2D(4, 3), L.GlobalAveragePooling2D(keepdims=True)
    ),
    "conv then global max": lambda: _seq(IMAGE, L.Conv2D(4, 3), L.GlobalMaxPooling2D()),
    "flatten": lambda: _seq(IMAGE, L.Flatten()),
    "conv then flatten": lambda: _seq(IMAGE, L.Conv2D(2, 3), L.Flatten()),
    "reshape": lambda: _seq((12,), L.Reshape((3, -1))),
    "conv then reshape": lambda: _seq(IMAGE, L.Conv2D(2, 3), L.Reshape((-1, 2))),
    "dropout": lambda: _seq((5,), L.Dropout(0.5), L.Dense(2)),
    "batchnorm dense": lambda: _seq((5,), L.BatchNormalization()),
    "batchnorm image": lambda: _seq(IMAGE, L.BatchNormalization()),
    "conv then batchnorm": lambda: _seq(
        IMAGE, L.Conv2D(4, 3), L.BatchNormalization(epsilon=0.1)
    ),
    "batchnorm no center, no scale": lambda: _seq(
        IMAGE, L.Conv2D(4, 3), L.BatchNormalization(center=False, scale=False)
    ),
    "batchnorm axis 1": lambda: _seq((6, 4), L.BatchNormalization(axis=1)),
    "conv1d then batchnorm axis 1": lambda: _seq(
        (10, 3), L.Conv1D(4, 3), L.BatchNormalization(axis=1)
    ),
    "zero padding": lambda: _seq(IMAGE, L.ZeroPadding2D(2)),
    "conv then zero padding ((1, 2), (0, 3))": lambda: _seq(
        IMAGE, L.Conv2D(2, 3), L.ZeroPadding2D(((1, 2), (0, 3)))
    ),
    "upsampling (2, 3)": lambda: _seq(IMAGE, L.UpSampling2D((2, 3))),
    "activation layer": lambda: _seq((5,), L.Activation("softplus")),
}


@pytest.mark.parametrize("case", LAYER_CASES)
def test_onnxruntime_agrees_on_every_layer(case):
    _check_model(LAYER_CASES[case]())


ACTIVATIONS = sorted(
    name for name in activations._registry.names() if name != "linear"
) + ["linear"]


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_onnxruntime_agrees_on_every_activation(name):
    # after a Dense (a 2-D value) and after a Conv2D (a channels-first value)
    _check_model(_seq((6,), L.Dense(5), L.Activation(name)))
    _check_model(_seq(IMAGE, L.Conv2D(3, 2, activation=name)))


def test_a_cnn_transposes_once_at_each_end(tmp_path):
    model = _seq(
        (28, 28, 1),
        L.Conv2D(8, 3, activation="relu"),
        L.MaxPooling2D(),
        L.BatchNormalization(),
        L.Conv2D(16, 3, activation="relu", padding="same"),
        L.MaxPooling2D(),
        L.Flatten(),
        L.Dense(10, activation="softmax"),
    )
    proto = _check_model(model, tmp_path)
    ops = [node.op_type for node in proto.graph.node]
    assert ops.count("Transpose") == 2
    assert (tmp_path / "model.onnx").exists()


def test_functional_chains_and_nested_models():
    inputs = L.Input((7,))
    x = L.Dense(6, activation="relu")(inputs)
    x = L.Dropout(0.3)(x)
    _check_model(_randomize(Model(inputs, L.Dense(2)(x))))
    inner = Sequential([L.Input((6,)), L.Dense(4, activation="tanh")])
    _check_model(_randomize(Sequential([L.Input((6,)), inner, L.Dense(3)])))


def test_model_export_is_keras_3s_spelling(tmp_path, capsys):
    model = _seq((4,), L.Dense(2))
    path = tmp_path / "m.onnx"
    model.export(path, format="onnx", verbose=True)
    assert "Saved artifact" in capsys.readouterr().out
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    x = np.ones((3, 4), np.float32)
    _close(session.run(None, {"input": x})[0], model.predict(x, verbose=0))
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


def _two_heads():
    inputs = L.Input((4,))
    return Model(inputs, [L.Dense(2)(inputs), L.Dense(3)(inputs)])


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
        (_two_heads, "not one chain"),
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


# --- estimators --------------------------------------------------------------------
def _data(n=60, features=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, features)).astype(np.float32), rng


def _regression(outputs=1, dtype=np.float32, **kwargs):
    x, rng = _data()
    y = x @ rng.standard_normal((4, outputs))
    y = np.abs(y) if kwargs.get("loss") == "poisson" else y
    est = MLPRegressor(
        hidden_layer_sizes=(8, 5), max_iter=300, random_state=0, **kwargs
    )
    return est.fit(x.astype(dtype), y[:, 0] if outputs == 1 else y)


def _classification(labels, multilabel=False, **kwargs):
    x, rng = _data()
    scores = x @ rng.standard_normal((4, len(labels)))
    if multilabel:
        y = (scores > 0).astype(int)
    else:
        y = np.asarray(labels)[scores.argmax(axis=1)]
    est = MLPClassifier(hidden_layer_sizes=(7,), max_iter=300, random_state=0, **kwargs)
    return est.fit(x, y)


ESTIMATORS = {
    "regressor tanh": lambda: _regression(activation="tanh"),
    "regressor relu, 3 outputs": lambda: _regression(3),
    "regressor fitted in float64": lambda: _regression(2, np.float64),
    "regressor poisson": lambda: _regression(loss="poisson", activation="logistic"),
    "regressor, one activation per layer, dropout": lambda: _regression(
        activation=["tanh", "relu"], dropout=0.2
    ),
    "binary, string labels": lambda: _classification(["no", "yes"]),
    "multiclass, string labels": lambda: _classification(["ant", "bee", "cat"]),
    "multiclass, int labels, logistic": lambda: _classification(
        [3, 7, 11, 20], activation="logistic"
    ),
    "binary, int labels, identity": lambda: _classification(
        [-1, 1], activation="identity"
    ),
    "multilabel": lambda: _classification([0, 1, 2], multilabel=True),
}

with_warnings = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning"
)


@with_warnings
@pytest.mark.parametrize("case", ESTIMATORS)
def test_onnxruntime_agrees_on_the_estimators(case):
    est = ESTIMATORS[case]()
    proto = gx.export(est)
    onnx.checker.check_model(proto, full_check=True)
    session = _session(proto)
    assert [i.name for i in session.get_inputs()] == ["X"]
    for n in BATCHES:
        x, _ = _data(n, seed=100 + n)
        outputs = session.run(None, {"X": x})
        if isinstance(est, MLPRegressor):
            assert [o.name for o in session.get_outputs()] == ["variable"]
            ours = est.predict(x).reshape(n, -1)
            _close(outputs[0], ours)
            continue
        assert [o.name for o in session.get_outputs()] == ["label", "probabilities"]
        label, probabilities = outputs
        _close(probabilities, est.predict_proba(x))
        np.testing.assert_array_equal(label, est.predict(x))
        assert label.dtype.kind == np.asarray(est.classes_).dtype.kind or (
            label.dtype == object and est.classes_.dtype.kind == "U"
        )


@with_warnings
def test_an_unfitted_estimator_is_refused():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        gx.export(MLPRegressor())
