"""summary(): a zoo of models printed by glassnet and by Keras 3, compared line
for line (same names given to both, so the tables must be identical), plus the
explain=True arithmetic and unbuilt models."""

from __future__ import annotations

import os
import re
import warnings

import numpy as np
import pytest

import glassnet.layers
import glassnet.models
from glassnet.layers import Activation, Dense
from glassnet.models import Sequential
from glassnet.models.summary import explain_params, readable_size

os.environ.setdefault("KERAS_BACKEND", "torch")

# Each entry: list of (layer class name, args, kwargs); "Input" makes an Input.
ZOO = {
    "seed_fc": [("Dense", (4,), {"input_dim": 1024}), ("Activation", ("relu",), {})],
    "seed_tiny": [
        ("Dense", (1,), {"input_dim": 1}),
        ("Activation", ("tanh",), {}),
        ("Dense", (1,), {}),
    ],
    "mlp_dropout": [
        ("Input", ((20,),), {}),
        ("Dense", (64,), {"activation": "relu"}),
        ("Dropout", (0.5,), {}),
        ("Dense", (10,), {"activation": "softmax"}),
    ],
    "flatten_image": [
        ("Input", ((8, 8, 3),), {}),
        ("Flatten", (), {}),
        ("Dense", (5,), {}),
    ],
    "reshape": [
        ("Input", ((12,),), {}),
        ("Reshape", ((3, 4),), {}),
        ("Dense", (2,), {}),
        ("Flatten", (), {}),
    ],
    "batchnorm": [
        ("Input", ((10,),), {}),
        ("Dense", (16,), {}),
        ("BatchNormalization", (), {}),
        ("Activation", ("relu",), {}),
        ("Dense", (1,), {}),
    ],
    "input_shape_kwarg": [
        ("Dense", (32,), {"input_shape": (5,)}),
        ("BatchNormalization", (), {"center": False}),
        ("Dense", (3,), {"use_bias": False}),
    ],
    "batchnorm_axis1": [
        ("Input", ((4, 6),), {}),
        ("BatchNormalization", (), {"axis": 1}),
        ("Flatten", (), {}),
        ("Dense", (2,), {}),
    ],
    "bench_mlp": [
        ("Input", ((64,),), {}),
        ("Dense", (256,), {"activation": "relu"}),
        ("Dense", (256,), {"activation": "relu"}),
        ("Dense", (10,), {}),
    ],
    "reshape_minus_one": [
        ("Input", ((3, 4, 5),), {}),
        ("Reshape", ((-1,),), {}),
        ("Dense", (7,), {"activation": "sigmoid"}),
        ("Dropout", (0.1,), {}),
    ],
    "activations": [
        ("Input", ((16,),), {}),
        ("Dense", (8,), {"activation": "elu"}),
        ("BatchNormalization", (), {"scale": False}),
        ("Dense", (4,), {"activation": "selu"}),
        ("Activation", ("softmax",), {}),
    ],
    "dense_3d": [("Input", ((5, 6),), {}), ("Dense", (3,), {}), ("Dense", (2,), {})],
}


def _build(lib_layers, lib_models, spec, functional=False):
    if functional:
        (_, args, kwargs), *rest = spec
        x = inputs = lib_layers.Input(*args, name="inp", **kwargs)
        for i, (cls, args, kwargs) in enumerate(rest):
            x = getattr(lib_layers, cls)(*args, name=f"l{i}", **kwargs)(x)
        return lib_models.Model(inputs, x, name="zoo")
    model = lib_models.Sequential(name="zoo")
    for i, (cls, args, kwargs) in enumerate(spec):
        if cls == "Input":
            model.add(lib_layers.Input(*args, **kwargs))
        else:
            model.add(getattr(lib_layers, cls)(*args, name=f"l{i}", **kwargs))
    return model


def _text(model, **kwargs):
    lines = []
    model.summary(print_fn=lambda text, *a, **k: lines.append(text), **kwargs)
    return "\n".join(lines)


@pytest.mark.parametrize("name", sorted(ZOO))
def test_summary_equals_keras(name, keras):
    ours = _build(glassnet.layers, glassnet.models, ZOO[name])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = _build(keras.layers, keras.models, ZOO[name])
    assert _text(ours) == _text(theirs)
    assert ours.count_params() == theirs.count_params()
    assert sum(w.data.size for w in ours.non_trainable_weights) == sum(
        int(np.prod(w.shape)) for w in theirs.non_trainable_weights
    )


@pytest.mark.parametrize("name", ["mlp_dropout", "batchnorm", "dense_3d"])
def test_functional_summary_equals_keras(name, keras):
    ours = _build(glassnet.layers, glassnet.models, ZOO[name], functional=True)
    theirs = _build(keras.layers, keras.models, ZOO[name], functional=True)
    assert _text(ours) == _text(theirs)


@pytest.mark.parametrize("name", ["seed_fc", "batchnorm", "mlp_dropout"])
def test_show_trainable_equals_keras(name, keras):
    ours = _build(glassnet.layers, glassnet.models, ZOO[name])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = _build(keras.layers, keras.models, ZOO[name])
    for model in (ours, theirs):
        model.layers[-1].trainable = False
    assert _text(ours, show_trainable=True) == _text(theirs, show_trainable=True)


def test_explain_shows_the_arithmetic():
    fc = Sequential([Dense(4, input_dim=32 * 32), Activation("relu")])
    lines = []
    fc.summary(print_fn=lines.append, explain=True)
    text = lines[0]
    assert "1024 × 4 weights + 4 biases = 4,100" in text
    assert explain_params(fc.layers[1]) == "no weights = 0"


def test_explain_batchnorm():
    model = glassnet.models.Sequential(
        [glassnet.layers.Input((3,)), glassnet.layers.BatchNormalization()]
    )
    assert explain_params(model.layers[0]) == (
        "3 scales (gamma) + 3 offsets (beta) + 3 moving means + 3 moving variances = 12"
    )


def test_unbuilt_model_summary(capsys):
    model = Sequential([Dense(3)])
    model.summary()
    out = capsys.readouterr().out
    assert "0 (unbuilt)" in out and "│ ?" in out
    assert "Total params: 0 (0.00 B)" in out


def test_readable_size():
    assert readable_size(16) == "16.00 B"
    assert readable_size(16464) == "16.08 KB"
    assert readable_size(3 * 1024**2) == "3.00 MB"


def test_repr_html_is_the_summary_table():
    model = Sequential(
        [Dense(4, input_dim=3, name="d<1>"), Activation("relu"), Dense(2)],
        name="seed",
    )
    lines = []
    model.summary(print_fn=lines.append)
    html = model._repr_html_()
    assert html.startswith('<div class="glassnet-summary">')
    assert "Model: &quot;seed&quot;" in html
    cell = r"<td[^>]*>(.*?)</td>"
    rows = re.findall(f"<tr>{cell * 3}</tr>", html)
    assert rows == [
        ("d&lt;1&gt; (Dense)", "(None, 4)", "16"),
        (f"{model.layers[1].name} (Activation)", "(None, 4)", "0"),
        (f"{model.layers[2].name} (Dense)", "(None, 2)", "10"),
    ]
    for total in re.findall(r"(?:Total|Trainable|Non-trainable) params: .*", lines[0]):
        assert total.strip() in html
    unbuilt = Sequential([Dense(3)])._repr_html_()
    assert "0 (unbuilt)" in unbuilt and '<td style="text-align:left">?</td>' in unbuilt
