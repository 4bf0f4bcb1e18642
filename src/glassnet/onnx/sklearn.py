"""Fitted MLPRegressor / MLPClassifier as ONNX graphs, named as skl2onnx
names them (input ``X``; outputs ``variable``, or ``label`` and
``probabilities``), the weights cast to float32."""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet.onnx.graph import ExportError, GraphBuilder, Value

HIDDEN = {"identity": None, "logistic": "Sigmoid", "tanh": "Tanh", "relu": "Relu"}
OUTPUT = {"identity": None, "exp": "Exp", "logistic": "Sigmoid", "softmax": "Softmax"}


def is_estimator(obj: Any) -> bool:
    from glassnet.sklearn import MLPClassifier, MLPRegressor

    return isinstance(obj, (MLPClassifier, MLPRegressor))


def _network(g: GraphBuilder, est: Any, x: Value, output: str) -> Value:
    """The output layer's activations (``_forward_pass_fast``), named ``output``."""
    last = len(est.coefs_) - 1
    activations = est._per_hidden_layer("activation")
    for i, (coef, intercept) in enumerate(zip(est.coefs_, est.intercepts_)):
        kernel = g.constant(np.asarray(coef, np.float32), f"coefs_{i}")
        bias = g.constant(np.asarray(intercept, np.float32), f"intercepts_{i}")
        op = HIDDEN[activations[i]] if i < last else OUTPUT[est.out_activation_]
        hint = output if i == last and op is None else f"layer_{i}"
        x = Value(g.node("Gemm", [x.name, kernel, bias], hint), x.shape)
        if op is not None:
            hint = output if i == last else x.name
            axis = {"axis": -1} if op == "Softmax" else {}
            x = g.apply(x, op, hint=hint, **axis)
    return x


def _labels(g: GraphBuilder, classes: np.ndarray) -> tuple[str, Any]:
    """The classes as a constant, and their ONNX element type."""
    onnx = g.onnx
    kind = classes.dtype.kind
    if kind in "iu":
        array, elem = classes.astype(np.int64), onnx.TensorProto.INT64
    elif kind == "b":
        array, elem = classes, onnx.TensorProto.BOOL
    elif kind == "f":
        array, elem = classes.astype(np.float64), onnx.TensorProto.DOUBLE
    elif kind in "UO" and all(isinstance(c, str) for c in classes):
        array, elem = classes.astype(str), onnx.TensorProto.STRING
    else:
        raise ExportError(
            "The classes must be numbers, booleans or strings to be exported. "
            f"Received: classes_ of dtype {classes.dtype}"
        )
    return g.constant(array, "classes"), elem


def estimator_to_onnx(est: Any, opset: int) -> Any:
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(est)
    g = GraphBuilder()
    g.reserve("X")
    n_features = int(est.n_features_in_)
    inputs = [g.value_info("X", (None, n_features))]
    name, onnx = type(est).__name__, g.onnx
    if not hasattr(est, "classes_"):
        _network(g, est, Value("X", (None, n_features)), "variable")
        outputs = [g.value_info("variable", (None, est.n_outputs_))]
        return g.model(inputs, outputs, name, opset, doc=f"glassnet {name}")

    binary = est.n_outputs_ == 1  # p of the second class -> [1 - p, p]
    p = _network(
        g, est, Value("X", (None, n_features)), "p" if binary else "probabilities"
    )
    if est._label_binarizer.y_type_.startswith("multilabel"):  # an indicator matrix
        half = g.constant(np.float32(0.5), "threshold")
        above = g.node("Greater", [p.name, half], "above")
        g.node("Cast", [above], "label", to=onnx.TensorProto.INT64)
        elem, label_shape = onnx.TensorProto.INT64, (None, est.n_outputs_)
    else:
        if binary:
            other = g.node("Sub", [g.constant(np.float32(1.0), "one"), p.name], "q")
            g.node("Concat", [other, p.name], "probabilities", axis=1)
        index = g.node("ArgMax", ["probabilities"], "index", axis=1, keepdims=0)
        classes, elem = _labels(g, np.asarray(est.classes_))
        g.node("Gather", [classes, index], "label", axis=0)
        label_shape = (None,)
    outputs = [
        g.value_info("label", label_shape, elem),
        g.value_info("probabilities", (None, len(est.classes_))),
    ]
    return g.model(inputs, outputs, name, opset, doc=f"glassnet {name}")
