"""onnxruntime runs the exported files and agrees with glassnet: every
exportable layer kind and setting, every activation; float32, relative 1e-5,
batches of 1 and 7 (:mod:`onnx_checks`)."""

from __future__ import annotations

import numpy as np
import pytest

from glassnet import activations
from glassnet import layers as L
from glassnet.models import Model, Sequential

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from onnx_checks import check, randomize  # noqa: E402


def _seq(shape, *layers):
    return randomize(Sequential([L.Input(shape), *layers]))


IMAGE = (9, 8, 3)
SEQ = (10, 3)
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
    "relu layer": lambda: _seq((5,), L.Dense(4), L.ReLU()),
    "relu layer capped, leaky, thresholded": lambda: _seq(
        (5,), L.Dense(6), L.ReLU(max_value=0.8, negative_slope=0.2, threshold=0.3)
    ),
    "leaky relu layer": lambda: _seq(IMAGE, L.Conv2D(4, 3), L.LeakyReLU(0.1)),
    "elu layer": lambda: _seq((5,), L.Dense(4), L.ELU(alpha=0.7)),
    "softmax layer on channels": lambda: _seq(IMAGE, L.Conv2D(4, 3), L.Softmax()),
    "softmax layer over height": lambda: _seq(IMAGE, L.Conv2D(4, 3), L.Softmax(axis=1)),
    "softmax layer over height and width": lambda: _seq(
        IMAGE, L.Conv2D(4, 3), L.Softmax(axis=[1, 2])
    ),
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
    # --- sequences (1-D) ----------------------------------------------------------
    "zero padding 1d": lambda: _seq(SEQ, L.ZeroPadding1D((2, 1))),
    "conv1d then zero padding 1d": lambda: _seq(
        SEQ, L.Conv1D(4, 3), L.ZeroPadding1D(1), L.Conv1D(2, 2)
    ),
    "cropping 1d": lambda: _seq(SEQ, L.Cropping1D((2, 0))),
    "conv1d then cropping 1d": lambda: _seq(SEQ, L.Conv1D(4, 3), L.Cropping1D(1)),
    "upsampling 1d": lambda: _seq(SEQ, L.UpSampling1D(3)),
    "conv1d then upsampling 1d": lambda: _seq(SEQ, L.Conv1D(4, 2), L.UpSampling1D()),
    "maxpool1d valid": lambda: _seq(SEQ, L.MaxPooling1D(3)),
    "maxpool1d same strides 2": lambda: _seq(
        SEQ, L.MaxPooling1D(3, strides=2, padding="same")
    ),
    "avgpool1d valid strides 1": lambda: _seq(SEQ, L.AveragePooling1D(2, strides=1)),
    "avgpool1d same (padding not counted)": lambda: _seq(
        SEQ, L.Conv1D(4, 2), L.AveragePooling1D(3, strides=2, padding="same")
    ),
    "global average 1d": lambda: _seq(SEQ, L.GlobalAveragePooling1D()),
    "global max 1d keepdims": lambda: _seq(SEQ, L.GlobalMaxPooling1D(keepdims=True)),
    "conv1d then global max 1d": lambda: _seq(
        SEQ, L.Conv1D(4, 3), L.GlobalMaxPooling1D()
    ),
    "conv1d then global average 1d keepdims": lambda: _seq(
        SEQ, L.Conv1D(4, 3), L.GlobalAveragePooling1D(keepdims=True)
    ),
    "repeat vector": lambda: _seq((5,), L.RepeatVector(3)),
    "permute": lambda: _seq(SEQ, L.Permute((2, 1))),
    "conv then permute (3, 1, 2)": lambda: _seq(
        IMAGE, L.Conv2D(2, 3), L.Permute((3, 1, 2))
    ),
    # --- images ---------------------------------------------------------------------
    "cropping 2d": lambda: _seq(IMAGE, L.Cropping2D(((1, 2), (0, 3)))),
    "conv then cropping 2d": lambda: _seq(
        IMAGE, L.Conv2D(2, 2), L.Cropping2D(((0, 1), (2, 0)))
    ),
    "conv2d transpose valid": lambda: _seq(IMAGE, L.Conv2DTranspose(4, 3)),
    "conv2d transpose same strides 2": lambda: _seq(
        IMAGE, L.Conv2DTranspose(4, 3, strides=2, padding="same", activation="relu")
    ),
    "conv2d transpose same (2, 3) strides (2, 1)": lambda: _seq(
        IMAGE, L.Conv2DTranspose(2, (2, 3), strides=(2, 1), padding="same")
    ),
    "conv2d transpose valid strides 3 > kernel 2": lambda: _seq(
        IMAGE, L.Conv2DTranspose(3, 2, strides=3)
    ),
    "conv2d transpose output padding": lambda: _seq(
        IMAGE, L.Conv2DTranspose(3, 3, strides=2, output_padding=1)
    ),
    "conv2d transpose same output padding (1, 0)": lambda: _seq(
        IMAGE,
        L.Conv2DTranspose(3, 3, strides=2, padding="same", output_padding=(1, 0)),
    ),
    "conv2d transpose dilation 2 no bias": lambda: _seq(
        IMAGE, L.Conv2DTranspose(2, 2, dilation_rate=2, use_bias=False)
    ),
    "conv then conv2d transpose": lambda: _seq(
        IMAGE, L.Conv2D(4, 3), L.Conv2DTranspose(2, 3, strides=2, padding="same")
    ),
    # --- normalization, scaling, identity -------------------------------------------
    "layer norm": lambda: _seq((6,), L.LayerNormalization()),
    "layer norm epsilon 0.1, no center": lambda: _seq(
        SEQ, L.LayerNormalization(epsilon=0.1, center=False)
    ),
    "layer norm no scale": lambda: _seq(SEQ, L.LayerNormalization(scale=False)),
    "layer norm axes [1, 2]": lambda: _seq(SEQ, L.LayerNormalization(axis=[1, 2])),
    "layer norm axis 1 (decomposed)": lambda: _seq(SEQ, L.LayerNormalization(axis=1)),
    "layer norm axes [1, -1] of an image, no center no scale (decomposed)": (
        lambda: _seq(
            IMAGE, L.LayerNormalization(axis=[1, -1], center=False, scale=False)
        )
    ),
    "conv then layer norm": lambda: _seq(IMAGE, L.Conv2D(4, 3), L.LayerNormalization()),
    "rescaling": lambda: _seq((5,), L.Rescaling(1 / 255)),
    "rescaling with offset": lambda: _seq(IMAGE, L.Rescaling(0.5, offset=-1.0)),
    "conv then rescaling per channel": lambda: _seq(
        IMAGE, L.Conv2D(3, 2), L.Rescaling([0.5, 2.0, -1.0], offset=[0.0, 1.0, 2.0])
    ),
    "identity": lambda: _seq((5,), L.Identity(), L.Dense(2)),
    "conv then identity": lambda: _seq(IMAGE, L.Conv2D(2, 3), L.Identity()),
    # --- recurrent: ONNX's RNN, LSTM and GRU ------------------------------------------
    "simple rnn": lambda: _seq(SEQ, L.SimpleRNN(4)),
    "simple rnn relu sequences": lambda: _seq(
        SEQ, L.SimpleRNN(4, "relu", return_sequences=True)
    ),
    "simple rnn sigmoid backwards": lambda: _seq(
        SEQ, L.SimpleRNN(4, "sigmoid", go_backwards=True)
    ),
    "simple rnn linear backwards sequences no bias": lambda: _seq(
        SEQ,
        L.SimpleRNN(4, None, use_bias=False, go_backwards=True, return_sequences=True),
    ),
    "lstm": lambda: _seq(SEQ, L.LSTM(4)),
    "lstm sequences": lambda: _seq(SEQ, L.LSTM(4, return_sequences=True)),
    "lstm backwards": lambda: _seq(SEQ, L.LSTM(4, go_backwards=True)),
    "lstm backwards sequences": lambda: _seq(
        SEQ, L.LSTM(4, go_backwards=True, return_sequences=True)
    ),
    "lstm no bias": lambda: _seq(SEQ, L.LSTM(4, use_bias=False)),
    "lstm relu, hard sigmoid gates": lambda: _seq(
        SEQ, L.LSTM(4, activation="relu", recurrent_activation="hard_sigmoid")
    ),
    "lstm linear": lambda: _seq(SEQ, L.LSTM(4, activation=None)),
    "lstm softsign": lambda: _seq(SEQ, L.LSTM(4, activation="softsign")),
    "lstm elu": lambda: _seq(SEQ, L.LSTM(4, activation="elu")),
    "lstm leaky relu": lambda: _seq(SEQ, L.LSTM(4, activation="leaky_relu")),
    "lstm softplus gates": lambda: _seq(
        SEQ, L.LSTM(4, recurrent_activation="softplus")
    ),
    "lstm of any length": lambda: _seq((None, 3), L.LSTM(4, return_sequences=True)),
    "conv1d then lstm": lambda: _seq(SEQ, L.Conv1D(4, 3), L.LSTM(2)),
    "lstm sequences then lstm": lambda: _seq(
        SEQ, L.LSTM(4, return_sequences=True), L.LSTM(3, go_backwards=True)
    ),
    "gru": lambda: _seq(SEQ, L.GRU(4)),
    "gru sequences": lambda: _seq(SEQ, L.GRU(4, return_sequences=True)),
    "gru backwards": lambda: _seq(SEQ, L.GRU(4, go_backwards=True)),
    "gru backwards sequences": lambda: _seq(
        SEQ, L.GRU(4, go_backwards=True, return_sequences=True)
    ),
    "gru no bias": lambda: _seq(SEQ, L.GRU(4, use_bias=False)),
    "gru relu": lambda: _seq(SEQ, L.GRU(4, activation="relu")),
    "gru reset before": lambda: _seq(SEQ, L.GRU(4, reset_after=False)),
    "gru reset before, backwards sequences": lambda: _seq(
        SEQ, L.GRU(4, reset_after=False, go_backwards=True, return_sequences=True)
    ),
    "gru reset before no bias, hard sigmoid gates": lambda: _seq(
        SEQ,
        L.GRU(
            4, reset_after=False, use_bias=False, recurrent_activation="hard_sigmoid"
        ),
    ),
    # --- Bidirectional: one node per direction, then the merge ------------------------
    "bidirectional lstm": lambda: _seq(SEQ, L.Bidirectional(L.LSTM(4))),
    "bidirectional gru sequences, sum": lambda: _seq(
        SEQ, L.Bidirectional(L.GRU(4, return_sequences=True), merge_mode="sum")
    ),
    "bidirectional lstm sequences, ave": lambda: _seq(
        SEQ, L.Bidirectional(L.LSTM(3, return_sequences=True), merge_mode="ave")
    ),
    "bidirectional simple rnn, mul": lambda: _seq(
        SEQ, L.Bidirectional(L.SimpleRNN(4), merge_mode="mul")
    ),
    "bidirectional gru sequences then lstm": lambda: _seq(
        SEQ,
        L.Bidirectional(L.GRU(4, return_sequences=True)),
        L.Bidirectional(L.LSTM(2)),
    ),
}


def _graph(shapes, merge):
    """A functional model of one Input per shape (float32, random) merged by
    ``merge`` (a layer called on the list of inputs)."""
    inputs = [L.Input(shape) for shape in shapes]
    return randomize(Model(inputs, merge(inputs)))


def _conv_then(merge, with_image=False):
    """Two convolution branches of one image (channels-first values inside
    the graph), then ``merge`` of them (and of the image itself)."""
    image = L.Input(IMAGE)
    a = L.Conv2D(3, 3, padding="same")(image)
    b = L.Conv2D(3, 1, activation="relu")(image)
    return randomize(Model(image, merge([a, b, image] if with_image else [a, b])))


MERGE_CASES = {
    "add": lambda: _graph([(5,), (5,)], L.Add()),
    "add of three, one of lower rank": lambda: _graph([(3, 4), (3, 4), (4,)], L.Add()),
    "add broadcasting an axis of 1": lambda: _graph([(3, 4), (1, 4)], L.Add()),
    "subtract": lambda: _graph([(2, 3), (2, 3)], L.Subtract()),
    "multiply of three": lambda: _graph([(5,), (5,), (5,)], L.Multiply()),
    "average": lambda: _graph([(4,), (4,), (4,)], L.Average()),
    "maximum": lambda: _graph([(3, 4), (3, 4)], L.Maximum()),
    "minimum of three": lambda: _graph([(6,), (6,), (6,)], L.Minimum()),
    "concatenate": lambda: _graph([(3,), (5,)], L.Concatenate()),
    "concatenate axis 1": lambda: _graph([(2, 4), (3, 4)], L.Concatenate(axis=1)),
    "concatenate images along the width": lambda: _graph(
        [IMAGE, (9, 2, 3)], L.Concatenate(axis=2)
    ),
    "dot of vectors": lambda: _graph([(5,), (5,)], L.Dot(axes=1)),
    "dot of vectors, normalized": lambda: _graph(
        [(5,), (5,)], L.Dot(axes=-1, normalize=True)
    ),
    "dot of sequences, axes 2": lambda: _graph([(3, 4), (5, 4)], L.Dot(axes=2)),
    "dot of sequences, axes (1, 2), normalized": lambda: _graph(
        [(3, 4), (5, 3)], L.Dot(axes=(1, 2), normalize=True)
    ),
    "dot of a sequence and a vector": lambda: _graph(
        [(3, 4), (4,)], L.Dot(axes=(2, 1))
    ),
    "conv branches added": lambda: _conv_then(L.Add()),
    "conv branches maximum": lambda: _conv_then(L.Maximum()),
    "conv branches and the image concatenated": lambda: _conv_then(
        L.Concatenate(), with_image=True
    ),
    "conv branches concatenated along the height": lambda: _conv_then(
        L.Concatenate(axis=1)
    ),
    "conv branches averaged with the image": lambda: _conv_then(
        L.Average(), with_image=True
    ),
    "conv branches dot": lambda: _conv_then(L.Dot(axes=3)),
}


@pytest.mark.parametrize("case", LAYER_CASES)
def test_onnxruntime_agrees_on_every_layer(case):
    check(LAYER_CASES[case]())


@pytest.mark.parametrize("case", MERGE_CASES)
def test_onnxruntime_agrees_on_every_merge(case):
    check(MERGE_CASES[case]())


def _ids(proto, n, rng):
    """Token ids below the vocabulary of 10 (float ones for a float Input)."""
    dtype = onnx.helper.tensor_dtype_to_np_dtype(
        proto.graph.input[0].type.tensor_type.elem_type
    )
    return [rng.integers(0, 10, (n, 6)).astype(dtype)]


@pytest.mark.parametrize("dtype", ["int32", "int64", "uint8", "float32"])
def test_embedding_takes_ids_of_the_inputs_dtype(dtype):
    layers = [L.Input((6,), dtype=dtype), L.Embedding(10, 4), L.Dense(2)]
    proto = check(randomize(Sequential(layers)), make=_ids)
    expected = onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    assert proto.graph.input[0].type.tensor_type.elem_type == expected
    ops = [node.op_type for node in proto.graph.node]
    assert ("Cast" in ops) == (dtype not in ("int32", "int64"))


@pytest.mark.parametrize("dtype", ["int32", "float64"])
def test_an_input_of_another_dtype_is_cast_to_float32_for_a_layer(dtype):
    model = randomize(Sequential([L.Input((4,), dtype=dtype), L.Dense(3)]))
    proto = check(model)
    assert [node.op_type for node in proto.graph.node][0] == "Cast"


ACTIVATIONS = sorted(
    name for name in activations._registry.names() if name != "linear"
) + ["linear"]


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_onnxruntime_agrees_on_every_activation(name):
    # after a Dense (a 2-D value) and after a Conv2D (a channels-first value)
    check(_seq((6,), L.Dense(5), L.Activation(name)))
    check(_seq(IMAGE, L.Conv2D(3, 2, activation=name)))


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
    proto = check(model, tmp_path / "model.onnx")
    ops = [node.op_type for node in proto.graph.node]
    assert ops.count("Transpose") == 2
    assert (tmp_path / "model.onnx").exists()


@pytest.mark.parametrize(
    "axis, op",
    [(-1, "LayerNormalization"), ([1, 2], "LayerNormalization"), (1, "ReduceMean")],
)
def test_layer_norm_is_onnxs_op_over_the_last_axes_else_decomposed(axis, op):
    proto = check(_seq(SEQ, L.LayerNormalization(axis=axis)))
    ops = [node.op_type for node in proto.graph.node]
    assert op in ops
    assert ("LayerNormalization" in ops) == (op == "LayerNormalization")


def _with_state(layer):
    x = L.Input(SEQ)
    return Model(x, layer(x))


@pytest.mark.parametrize(
    "build, message",
    [
        (
            lambda: _seq(SEQ, L.LSTM(4, activation="gelu", name="rnn")),
            r"'rnn' \(LSTM\) has activation='gelu', which ONNX's LSTM operator",
        ),
        (
            lambda: _seq(SEQ, L.GRU(4, recurrent_activation="swish", name="rnn")),
            r"'rnn' \(GRU\) has recurrent_activation='silu'",
        ),
        (
            lambda: _seq(SEQ, L.SimpleRNN(4, activation="selu", name="rnn")),
            r"'rnn' \(SimpleRNN\) has activation='selu'",
        ),
        (
            lambda: _with_state(L.LSTM(4, return_state=True, name="rnn")),
            r"'rnn' \(LSTM\) has return_state=True",
        ),
        (
            lambda: _with_state(L.GRU(4, return_state=True, name="rnn")),
            r"'rnn' \(GRU\) has return_state=True",
        ),
        (
            lambda: _with_state(
                L.Bidirectional(L.GRU(4, return_state=True), name="both")
            ),
            r"'both' \(Bidirectional\) has merge_mode='concat', return_state=True",
        ),
    ],
)
def test_what_onnxs_recurrent_operators_cannot_express_is_refused(build, message):
    import glassnet.onnx as gx

    with pytest.raises(gx.ExportError, match=message):
        gx.export(build())


def test_every_layer_of_glassnet_layers_has_a_converter_but_lambda():
    from glassnet.onnx.layers import CONVERTERS

    classes = [getattr(L, name) for name in dir(L)]
    layers = [c for c in classes if isinstance(c, type) and issubclass(c, L.Layer)]
    missing = sorted(c.__name__ for c in layers if c not in CONVERTERS)
    # the walk skips inputs
    assert missing == ["InputLayer", "Lambda", "Layer"]
