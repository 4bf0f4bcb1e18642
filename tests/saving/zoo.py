"""A zoo of models both glassnet and Keras have, written once for both.

Each entry builds its model from a namespace ``k`` with ``k.layers``,
``k.Sequential``, ``k.Model``, ``k.Input`` and ``k.optimizers``: glassnet's
(:func:`glassnet_api`) or Keras's (``keras`` itself), so the two libraries get
the same architecture from the same lines. ``compile`` settings differ per
model so that every optimizer's state layout crosses the format.
"""

from __future__ import annotations

import types

import numpy as np


def glassnet_api() -> types.SimpleNamespace:
    from glassnet import layers, optimizers
    from glassnet.models import Model, Sequential

    return types.SimpleNamespace(
        layers=layers,
        optimizers=optimizers,
        Sequential=Sequential,
        Model=Model,
        Input=layers.Input,
    )


def _chain(k, shape, *layers):
    """A single-chain functional model of ``layers`` on ``Input(shape)``."""
    x = inputs = k.Input(shape)
    for layer in layers:
        x = layer(x)
    return k.Model(inputs, x)


def mlp(k):
    L = k.layers
    return k.Sequential(
        [
            k.Input((8,)),
            L.Dense(16, activation="relu"),
            L.Dropout(0.25),
            L.Dense(3, activation="softmax"),
        ]
    )


def mlp_batchnorm(k):
    L = k.layers
    return k.Sequential(
        [
            k.Input((6,)),
            L.Dense(12, kernel_regularizer="l2", bias_initializer="ones"),
            L.BatchNormalization(momentum=0.9, epsilon=1e-2),
            L.Activation("tanh"),
            L.Dense(2),
        ]
    )


def conv2d(k):
    L = k.layers
    return k.Sequential(
        [
            k.Input((10, 10, 2)),
            L.Conv2D(4, 3, activation="relu"),
            L.MaxPooling2D(),
            L.Flatten(),
            L.Dense(3, activation="sigmoid"),
        ]
    )


def conv2d_padded(k):
    L = k.layers
    return _chain(
        k,
        (9, 11, 3),
        L.ZeroPadding2D(((1, 0), (2, 1))),
        L.Conv2D(5, (3, 2), strides=2, padding="same"),
        L.AveragePooling2D(pool_size=(2, 2), strides=1, padding="same"),
        L.GlobalAveragePooling2D(),
        L.Dense(2),
    )


def upsampling(k):
    L = k.layers
    return k.Sequential(
        [
            k.Input((5, 4, 3)),
            L.Conv2D(3, 2, padding="same", activation="tanh"),
            L.UpSampling2D((2, 3)),
            L.GlobalMaxPooling2D(),
            L.Dense(4, activation="softmax"),
        ]
    )


def conv1d(k):
    L = k.layers
    return k.Sequential(
        [
            k.Input((12, 3)),
            L.Conv1D(4, 3, padding="causal", activation="relu"),
            L.Conv1D(2, 3, padding="same", dilation_rate=2),
            L.Flatten(),
            L.Dense(1),
        ]
    )


def reshape_conv(k):
    L = k.layers
    return _chain(
        k,
        (5,),
        L.Dense(16, activation="relu"),
        L.Reshape((4, 4, 1)),
        L.Conv2D(2, 2),
        L.Flatten(),
        L.Dense(3),
    )


def conv_batchnorm(k):
    L = k.layers
    return _chain(
        k,
        (8, 8, 1),
        L.Conv2D(3, 3, use_bias=False),
        L.BatchNormalization(),
        L.Activation("relu"),
        L.MaxPooling2D(pool_size=2, strides=1),
        L.Flatten(),
        L.Dense(1, activation="sigmoid"),
    )


def initialized(k):
    L = k.layers
    return k.Sequential(
        [
            k.Input((4,)),
            L.Dense(
                6,
                activation="elu",
                kernel_initializer="he_normal",
                bias_regularizer="l1",
            ),
            L.Dense(2, activation="softplus", kernel_initializer="lecun_uniform"),
        ]
    )


def nested(k):
    L = k.layers
    inner = k.Sequential(
        [k.Input((4,)), L.Dense(5, activation="relu"), L.Dense(3)], name="inner"
    )
    return k.Sequential([k.Input((4,)), inner, L.Dense(2)])


def decoder(k):
    L = k.layers
    return k.Sequential(
        [
            k.Input((6,)),
            L.Dense(2 * 2 * 4, activation="relu"),
            L.Reshape((2, 2, 4)),
            L.Conv2DTranspose(4, 3, strides=2, padding="same", activation="relu"),
            L.Conv2DTranspose(3, 3, strides=2, output_padding=1),
            L.Cropping2D(((1, 0), (0, 1))),
            L.Rescaling(0.5, offset=0.25),
            L.GlobalAveragePooling2D(),
            L.Dense(2),
        ]
    )


def text(k):
    L = k.layers
    return _chain(
        k,
        (7,),
        L.Embedding(20, 4),
        L.Conv1D(6, 2, activation="relu"),
        L.MaxPooling1D(2, padding="same"),
        L.ZeroPadding1D((1, 0)),
        L.AveragePooling1D(2),
        L.GlobalMaxPooling1D(),
        L.Dense(1, activation="sigmoid"),
    )


def sequence(k):
    L = k.layers
    return k.Sequential(
        [
            k.Input((5,)),
            L.Dense(6, activation="tanh"),
            L.RepeatVector(4),
            L.LayerNormalization(),
            L.Permute((2, 1)),
            L.Cropping1D((1, 2)),
            L.UpSampling1D(2),
            L.Identity(),
            L.GlobalAveragePooling1D(),
            L.Dense(3),
        ]
    )


def recurrent(k):
    """Masked sequences through each recurrent layer (their weights live in
    Keras's ``cell`` groups)."""
    L = k.layers
    return k.Sequential(
        [
            k.Input((7,)),
            L.Embedding(20, 4, mask_zero=True),
            L.LSTM(5, return_sequences=True),
            L.GRU(3, return_sequences=True, go_backwards=True),
            L.SimpleRNN(2),
            L.Dense(1, activation="sigmoid"),
        ]
    )


def residual(k):
    """Dense blocks with identity shortcuts (Add), one input, one output."""
    L = k.layers
    inputs = k.Input((6,))
    x = L.Dense(8, activation="relu")(inputs)
    for _ in range(2):
        h = L.Dense(8, activation="tanh")(x)
        h = L.Dense(8)(h)
        x = L.Add()([x, h])
    skip = L.Concatenate()([x, inputs])
    return k.Model(inputs, L.Dense(2)(skip), name="residual")


def inception(k):
    """Three convolution branches of one image, joined along the channels."""
    L = k.layers
    inputs = k.Input((8, 8, 2))
    a = L.Conv2D(3, 1, activation="relu")(inputs)
    b = L.Conv2D(2, 1)(inputs)
    b = L.Conv2D(3, 3, padding="same", activation="relu")(b)
    c = L.MaxPooling2D(3, strides=1, padding="same")(inputs)
    c = L.Conv2D(2, 1)(c)
    x = L.Concatenate(axis=-1)([a, b, c])
    x = L.BatchNormalization()(x)
    x = L.GlobalAveragePooling2D()(x)
    return k.Model(inputs, L.Dense(3, activation="softmax")(x), name="inception")


#: name -> (build, input shape of one sample, optimizer factory, loss, metrics)
ZOO = {
    "mlp": (
        mlp,
        (8,),
        lambda o: o.Adam(0.01),
        "categorical_crossentropy",
        ["accuracy"],
    ),
    "mlp_batchnorm": (
        mlp_batchnorm,
        (6,),
        lambda o: o.SGD(0.05, momentum=0.9, nesterov=True),
        "mse",
        ["mae"],
    ),
    "conv2d": (
        conv2d,
        (10, 10, 2),
        lambda o: o.RMSprop(0.01),
        "binary_crossentropy",
        [],
    ),
    "conv2d_padded": (
        conv2d_padded,
        (9, 11, 3),
        lambda o: o.RMSprop(0.01, momentum=0.5, centered=True),
        "mae",
        [],
    ),
    "upsampling": (
        upsampling,
        (5, 4, 3),
        lambda o: o.Adagrad(0.1),
        "categorical_crossentropy",
        [],
    ),
    "conv1d": (conv1d, (12, 3), lambda o: o.AdamW(0.01, weight_decay=0.1), "mse", []),
    "reshape_conv": (
        reshape_conv,
        (5,),
        lambda o: o.Adam(0.01, amsgrad=True),
        "mse",
        [],
    ),
    "conv_batchnorm": (
        conv_batchnorm,
        (8, 8, 1),
        lambda o: o.SGD(0.1),
        "binary_crossentropy",
        [],
    ),
    "initialized": (initialized, (4,), lambda o: o.Adam(), "mse", ["mse"]),
    "nested": (nested, (4,), lambda o: o.SGD(0.1, momentum=0.5), "mse", []),
    "decoder": (decoder, (6,), lambda o: o.Adam(0.01), "mse", []),
    "text": (text, (7,), lambda o: o.RMSprop(0.01), "binary_crossentropy", []),
    "sequence": (sequence, (5,), lambda o: o.SGD(0.05, momentum=0.9), "mae", []),
    "residual": (residual, (6,), lambda o: o.Adam(0.01), "mse", ["mae"]),
    "recurrent": (
        recurrent,
        (7,),
        lambda o: o.Adam(0.01),
        "binary_crossentropy",
        ["accuracy"],
    ),
    "inception": (
        inception,
        (8, 8, 2),
        lambda o: o.RMSprop(0.01),
        "categorical_crossentropy",
        ["accuracy"],
    ),
}
#: models whose inputs are indices (an Embedding first): name -> vocabulary
INDICES = {"text": 20, "recurrent": 20}


# --- graphs of several inputs or outputs ---------------------------------------
def siamese(k):
    """One encoder shared by two inputs; their difference and cosine."""
    L = k.layers
    left, right = k.Input((5,), name="left"), k.Input((5,), name="right")
    encode = L.Dense(4, activation="tanh", name="encoder")
    a, b = encode(left), encode(right)
    distance = L.Dense(1, name="distance")(L.Subtract()([a, b]))
    cosine = L.Dot(axes=1, normalize=True)([a, b])
    return k.Model([left, right], [distance, cosine], name="siamese")


def two_heads(k):
    """One input, a dict of two outputs from a shared trunk."""
    L = k.layers
    inputs = k.Input((6,), name="features")
    trunk = L.Dense(8, activation="relu")(inputs)
    trunk = L.Dropout(0.5)(trunk)
    outputs = {
        "score": L.Dense(1, activation="sigmoid", name="score")(trunk),
        "classes": L.Dense(3, activation="softmax", name="classes")(trunk),
    }
    return k.Model(inputs, outputs, name="two_heads")


def nested_functional(k):
    """A functional model used as a layer, twice, and a Sequential too."""
    L = k.layers
    inner_in = k.Input((4,))
    hidden = L.Dense(5, activation="relu")(inner_in)
    inner = k.Model(inner_in, [L.Dense(3)(hidden), hidden], name="inner")
    tail = k.Sequential([k.Input((3,)), L.Dense(2, activation="tanh")], name="tail")
    a, b = k.Input((4,), name="a"), k.Input((4,), name="b")
    first, _ = inner(a)
    second, hidden_b = inner(b)
    joined = L.Average()([first, second])
    return k.Model([a, b], [tail(joined), hidden_b], name="outer")


def mixed_inputs(k):
    """A dict of inputs of other shapes, every elementwise merge, a reshape."""
    L = k.layers
    image = k.Input((4, 4, 1), name="image")
    meta = k.Input((3,), name="meta")
    x = L.Conv2D(2, 3, activation="relu")(image)
    x = L.Flatten()(x)
    x = L.Dense(3)(x)
    m = L.Dense(3, activation="sigmoid")(meta)
    merged = [
        L.Multiply()([x, m]),
        L.Maximum()([x, m]),
        L.Minimum()([x, m, meta]),
        L.Add()([x, m, meta]),
    ]
    grid = L.Reshape((4, 3))(L.Concatenate()(merged))
    out = L.Dot(axes=(1, 1))([grid, grid])
    return k.Model({"image": image, "meta": meta}, out, name="mixed")


def tagged_text(k):
    """Integer token ids (an int32 Input) beside numbers."""
    L = k.layers
    ids = k.Input((5,), dtype="int32", name="ids")
    numbers = k.Input((2,), name="numbers")
    words = L.GlobalAveragePooling1D()(L.Embedding(10, 3)(ids))
    joined = L.concatenate([words, numbers])
    return k.Model({"ids": ids, "numbers": numbers}, L.Dense(1)(joined))


#: name -> (build, input shapes of one sample, as the model takes them)
GRAPHS = {
    "siamese": (siamese, [(5,), (5,)]),
    "two_heads": (two_heads, (6,)),
    "nested_functional": (nested_functional, [(4,), (4,)]),
    "mixed_inputs": (mixed_inputs, {"image": (4, 4, 1), "meta": (3,)}),
    "tagged_text": (tagged_text, {"ids": (5,), "numbers": (2,)}),
}
#: graph -> {input: vocabulary} for inputs of integer indices
GRAPH_INDICES = {"tagged_text": {"ids": 10}}


def graph_inputs(name: str, n: int = 10, seed: int = 0):
    """Random inputs in the structure GRAPHS[name] gives."""
    rng = np.random.default_rng(seed)
    shapes = GRAPHS[name][1]
    indices = GRAPH_INDICES.get(name, {})

    def one(shape, key=None):
        if key in indices:
            return rng.integers(0, indices[key], (n, *shape)).astype("int32")
        return rng.uniform(-1, 1, (n, *shape)).astype("float32")

    if isinstance(shapes, dict):
        return {key: one(shape, key) for key, shape in shapes.items()}
    if isinstance(shapes, list):
        return [one(shape) for shape in shapes]
    return one(shapes)


def assert_same_outputs(ours, theirs, rtol=1e-5, atol=1e-6):
    """Outputs (arrays, in lists and dicts) equal leaf by leaf."""
    if isinstance(theirs, dict):
        assert sorted(ours) == sorted(theirs)
        for key in theirs:
            assert_same_outputs(ours[key], theirs[key], rtol, atol)
    elif isinstance(theirs, (list, tuple)):
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            assert_same_outputs(a, b, rtol, atol)
    else:
        np.testing.assert_allclose(
            np.asarray(ours), np.asarray(theirs), rtol=rtol, atol=atol
        )


def data(name: str, outputs: int, n: int = 16, seed: int = 0):
    """Inputs, and targets that suit the entry's loss and ``outputs`` units."""
    _, shape, _, loss, _ = ZOO[name]
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (n, *shape)).astype("float32")
    if name in INDICES:
        x = rng.integers(0, INDICES[name], (n, *shape)).astype("int32")
    if loss == "categorical_crossentropy":
        y = np.eye(outputs, dtype="float32")[rng.integers(0, outputs, n)]
    elif loss == "binary_crossentropy":
        y = rng.integers(0, 2, (n, outputs)).astype("float32")
    else:
        y = rng.uniform(-1, 1, (n, outputs)).astype("float32")
    return x, y


def randomize(model, seed: int = 1) -> None:
    """Give every weight random values (variances positive), so that a weight
    that does not cross the format shows in the predictions."""
    rng = np.random.default_rng(seed)
    weights = []
    for w in model.get_weights():
        low = 0.5 if w.ndim == 1 else -0.6
        weights.append(rng.uniform(low, 1.5 if w.ndim == 1 else 0.6, w.shape))
    model.set_weights([w.astype("float32") for w in weights])
