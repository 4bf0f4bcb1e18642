"""What every ONNX export test does: export, check the file, run it in
onnxruntime (the oracle) at batches of 1 and 7 and compare with glassnet's
``predict``, output by output."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import onnxruntime as ort

import glassnet.onnx as gx
import onnx
from glassnet import tree

BATCHES = (1, 7)
ZOO_PATH = Path(__file__).resolve().parents[1] / "saving" / "zoo.py"


def load_zoo():
    """tests/saving/zoo.py (the models both glassnet and Keras build)."""
    spec = importlib.util.spec_from_file_location("onnx_tests_zoo", ZOO_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def close(theirs, ours):
    """Relative 1e-5; values that cancel to near zero get an absolute floor of
    1e-6 of the output's scale (float32 sums in another order)."""
    scale = max(1.0, float(np.abs(ours).max()))
    np.testing.assert_allclose(theirs, ours, rtol=1e-5, atol=1e-6 * scale)


def session(proto):
    return ort.InferenceSession(
        proto.SerializeToString(), providers=["CPUExecutionProvider"]
    )


def randomize(model, seed=0):
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


def samples(proto, n, rng, vocabulary=10):
    """One array per graph input, ``n`` samples: integers in ``[0,
    vocabulary)`` for integer inputs, standard normal floats otherwise;
    axes of unknown length (sequences of any length) get 5."""
    arrays = []
    for value in proto.graph.input:
        tensor = value.type.tensor_type
        shape = [n, *(d.dim_value or 5 for d in tensor.shape.dim[1:])]
        dtype = onnx.helper.tensor_dtype_to_np_dtype(tensor.elem_type)
        if dtype.kind in "iu":
            arrays.append(rng.integers(0, vocabulary, shape).astype(dtype))
        else:
            arrays.append(rng.standard_normal(shape).astype(dtype))
    return arrays


def check(model, path=None, make=samples):
    """Export ``model`` (to ``path`` if given), check the file, and compare
    onnxruntime's outputs with ``model.predict`` at each batch size;
    ``make(proto, n, rng)`` gives the inputs (flat, in the graph's order)."""
    proto = gx.export(model, path)
    onnx.checker.check_model(proto, full_check=True)
    assert proto.opset_import[0].version == gx.OPSET
    for value in list(proto.graph.input) + list(proto.graph.output):
        assert value.type.tensor_type.shape.dim[0].dim_param == "batch"
    run = session(proto if path is None else onnx.load(path))
    names = [value.name for value in proto.graph.input]
    for n in BATCHES:
        flat = make(proto, n, np.random.default_rng(n))
        theirs = run.run(None, dict(zip(names, flat)))
        x = flat[0] if len(flat) == 1 else tree.pack_sequence_as(model.input, flat)
        ours = tree.flatten(model.predict(x, verbose=0))
        assert len(theirs) == len(ours)
        for a, b in zip(theirs, ours):
            assert a.shape == b.shape
            close(a, b)
    return proto
