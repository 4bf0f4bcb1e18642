"""Keras guide "Making new layers and models via subclassing", feature by
feature, on ``import glassnet as keras``. Features already tested elsewhere
are listed in ``tests/guides/__init__.py`` with the tests that cover them."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassnet as keras
from glassnet import layers, ops


class Affine(keras.layers.Layer):
    """``y = x @ w + b`` with the weights made in ``__init__`` (the input size is
    an argument, so nothing waits for a first call)."""

    def __init__(self, units=8, input_dim=8):
        super().__init__()
        self.w = self.add_weight(
            shape=(input_dim, units), initializer="random_normal", trainable=True
        )
        self.b = self.add_weight(shape=(units,), initializer="zeros", trainable=True)

    def call(self, inputs):
        return ops.matmul(inputs, self.w) + self.b


def test_weights_made_in_init_are_tracked_and_used():
    """Guide feature: ``add_weight`` in ``__init__``; the weights set as
    attributes are the layer's ``weights``, in order, before any call."""
    layer = Affine(units=4, input_dim=2)
    assert layer.weights == [layer.w, layer.b]
    assert [w.shape for w in layer.trainable_weights] == [(2, 4), (4,)]
    x = ops.ones((2, 2))
    np.testing.assert_allclose(
        layer(x).data, np.ones((2, 2)) @ layer.w.data + layer.b.data, rtol=1e-6
    )


class RunningSum(keras.layers.Layer):
    """Adds each batch's column sums into a non-trainable total it returns."""

    def __init__(self, input_dim):
        super().__init__()
        self.total = self.add_weight(
            initializer="zeros", shape=(input_dim,), trainable=False
        )

    def call(self, inputs):
        self.total.assign_add(ops.sum(inputs, axis=0))
        return self.total


def test_a_non_trainable_weight_accumulates_with_assign_add():
    """Guide feature: a non-trainable weight updated with ``assign_add`` in
    ``call``; it is in ``weights`` and ``non_trainable_weights`` only."""
    layer = RunningSum(2)
    x = ops.ones((2, 2))
    layer(x)
    np.testing.assert_array_equal(layer(x).numpy(), [4.0, 4.0])
    assert len(layer.weights) == 1
    assert len(layer.non_trainable_weights) == 1 and layer.trainable_weights == []


class Linear(keras.layers.Layer):
    """``y = x @ w + b`` with the weights made in ``build`` from the input
    shape; ``get_config`` holds ``units``."""

    def __init__(self, units=8, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(
            shape=(input_shape[-1], self.units), initializer="random_normal"
        )
        self.b = self.add_weight(shape=(self.units,), initializer="random_normal")

    def call(self, inputs):
        return ops.matmul(inputs, self.w) + self.b

    def get_config(self):
        return {**super().get_config(), "units": self.units}


class ThreeLinear(keras.layers.Layer):
    """Three Linear layers as attributes, relu between them."""

    def __init__(self):
        super().__init__()
        self.linear_1, self.linear_2, self.linear_3 = Linear(8), Linear(8), Linear(1)

    def call(self, inputs):
        x = keras.activations.relu(self.linear_1(inputs))
        x = keras.activations.relu(self.linear_2(x))
        return self.linear_3(x)


def test_weights_wait_for_build_and_nested_layers_are_tracked():
    """Guide features: weights made in ``build(input_shape)`` on the first
    call; layers set as attributes of a layer are tracked recursively
    (3 x 2 weights, all trainable)."""
    block = ThreeLinear()
    assert block.weights == []
    assert block(ops.ones((3, 16))).shape == (3, 1)
    assert len(block.weights) == 6 and len(block.trainable_weights) == 6
    assert block.linear_1.w.shape == (16, 8)


def test_the_config_rebuilds_the_layer():
    """Guide feature: ``get_config`` returning the base config (name, dtype,
    trainable) plus the layer's own arguments; ``from_config`` rebuilds it."""
    layer = Linear(5, name="five")
    config = layer.get_config()
    assert config["units"] == 5 and config["name"] == "five"
    assert {"trainable", "dtype"} <= set(config)
    twin = Linear.from_config(config)
    assert (twin.units, twin.name) == (5, "five")


class AddsActivityLoss(keras.layers.Layer):
    def __init__(self, rate=1e-2):
        super().__init__()
        self.rate = rate

    def call(self, inputs):
        self.add_loss(self.rate * ops.mean(inputs))
        return inputs


class Outer(keras.layers.Layer):
    def __init__(self):
        super().__init__()
        self.activity = AddsActivityLoss(1e-2)
        self.dense = layers.Dense(3, kernel_regularizer=keras.regularizers.l2(1e-3))

    def call(self, inputs):
        return self.dense(self.activity(inputs))


def test_add_loss_values_start_again_at_each_call():
    """Guide feature: ``add_loss`` in an inner layer's ``call``: the outer
    layer's ``losses`` hold the latest call's values (not an accumulation),
    plus the kernel regularizer's penalty of an inner Dense."""
    layer = Outer()
    assert layer.losses == []
    for value in (1.0, 3.0):
        layer(np.full((2, 4), value, "float32"))
        activity, penalty = sorted(layer.losses, key=lambda t: -float(t))
        assert float(activity) == pytest.approx(1e-2 * value)
        kernel = layer.dense.kernel.data
        assert float(penalty) == pytest.approx(1e-3 * np.sum(kernel**2), rel=1e-5)
    assert len(layer.losses) == 2


def test_fit_minimizes_added_losses_with_or_without_a_compiled_loss():
    """Guide feature: a model whose only layer adds a loss (it has no weights)
    trains with ``fit`` whether compiled with a loss or without one; as in
    Keras, fit warns that there are no trainable weights."""
    rng = np.random.default_rng(0)
    x, y = rng.random((4, 3)).astype("float32"), rng.random((4, 3)).astype("float32")
    inputs = keras.Input(shape=(3,))
    model = keras.Model(inputs, AddsActivityLoss()(inputs))
    model.compile(optimizer="adam", loss="mse")
    with pytest.warns(UserWarning, match="does not have any trainable weights"):
        history = model.fit(x, y, batch_size=4, verbose=0)
    expected = np.mean((x - y) ** 2) + 1e-2 * x.mean()
    assert history.history["loss"][0] == pytest.approx(expected, rel=1e-5)
    model.compile(optimizer="adam")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        history = model.fit(x, y, batch_size=4, verbose=0)
    assert history.history["loss"][0] == pytest.approx(1e-2 * x.mean(), rel=1e-5)


def test_fit_with_weights_takes_the_added_loss_into_its_gradient():
    """Guide feature: losses added in ``call`` are part of what fit minimizes:
    a huge activity penalty drives the activations down."""
    rng = np.random.default_rng(0)
    x = rng.random((32, 3)).astype("float32")
    inputs = keras.Input(shape=(3,))
    hidden = layers.Dense(4, activation="softplus")(inputs)
    model = keras.Model(inputs, AddsActivityLoss(rate=10.0)(hidden))
    model.compile(optimizer=keras.optimizers.SGD(0.1))
    before = model.predict(x, verbose=0).mean()
    model.fit(x, epochs=5, batch_size=8, verbose=0)
    assert model.predict(x, verbose=0).mean() < before


class SeededDropout(keras.layers.Layer):
    """Dropout through ``keras.random.dropout`` with a ``SeedGenerator``, only
    when ``training`` is true."""

    def __init__(self, rate, **kwargs):
        super().__init__(**kwargs)
        self.rate = rate
        self.seed_generator = keras.random.SeedGenerator(1337)

    def call(self, inputs, training=None):
        if training:
            return keras.random.dropout(
                inputs, rate=self.rate, seed=self.seed_generator
            )
        return inputs


def test_the_training_argument_switches_a_seeded_dropout():
    """Guide feature: the privileged ``training`` argument of ``call``; a
    SeedGenerator draws new masks at each call, the same sequence for the
    same seed; fit passes ``training=True``, predict ``False``."""
    x = np.ones((8, 50), "float32")
    layer, twin = SeededDropout(0.5), SeededDropout(0.5)
    np.testing.assert_array_equal(layer(x, training=False).data, x)
    first, second = layer(x, training=True).data, layer(x, training=True).data
    assert set(np.unique(first)) <= {0.0, 2.0} and not np.array_equal(first, second)
    np.testing.assert_array_equal(twin(x, training=True).data, first)

    seen = []

    class Probe(SeededDropout):
        def call(self, inputs, training=None):
            seen.append(training)
            return super().call(inputs, training=training)

    inputs = keras.Input(shape=(50,))
    model = keras.Model(inputs, layers.Dense(1)(Probe(0.5)(inputs)))
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, np.ones((8, 1)), verbose=0)
    model.predict(x, verbose=0)
    assert seen[-2:] == [True, False]


def test_a_layer_declaring_mask_receives_the_embedding_mask():
    """Guide feature: the privileged ``mask`` argument: a layer after an
    ``Embedding(mask_zero=True)`` gets the mask of the padded ids."""
    masks = []

    class Masked(keras.layers.Layer):
        def call(self, inputs, mask=None):
            masks.append(mask)
            return inputs

    ids = keras.Input(shape=(None,), dtype="int32")
    model = keras.Model(ids, Masked()(layers.Embedding(10, 4, mask_zero=True)(ids)))
    model(np.array([[3, 1, 0, 0]]))
    assert masks[-1] is not None
    np.testing.assert_array_equal(np.asarray(masks[-1]), [[True, True, False, False]])


class Sampling(layers.Layer):
    """z = mean + exp(log_var / 2) * epsilon, epsilon drawn by a SeedGenerator."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(1337)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        batch, dim = ops.shape(z_mean)[0], ops.shape(z_mean)[1]
        epsilon = keras.random.normal(shape=(batch, dim), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon


class Encoder(layers.Layer):
    def __init__(self, latent_dim=2, hidden=12, name="encoder", **kwargs):
        super().__init__(name=name, **kwargs)
        self.hidden = layers.Dense(hidden, activation="relu")
        self.mean = layers.Dense(latent_dim)
        self.log_var = layers.Dense(latent_dim)
        self.sampling = Sampling()

    def call(self, inputs):
        h = self.hidden(inputs)
        z_mean, z_log_var = self.mean(h), self.log_var(h)
        return z_mean, z_log_var, self.sampling((z_mean, z_log_var))


class Decoder(layers.Layer):
    def __init__(self, original_dim, hidden=12, name="decoder", **kwargs):
        super().__init__(name=name, **kwargs)
        self.hidden = layers.Dense(hidden, activation="relu")
        self.out = layers.Dense(original_dim, activation="sigmoid")

    def call(self, inputs):
        return self.out(self.hidden(inputs))


class VariationalAutoEncoder(keras.Model):
    """Encoder and decoder layers; the KL divergence added with ``add_loss``."""

    def __init__(self, original_dim, latent_dim=2, name="autoencoder", **kwargs):
        super().__init__(name=name, **kwargs)
        self.encoder = Encoder(latent_dim=latent_dim)
        self.decoder = Decoder(original_dim)

    def call(self, inputs):
        z_mean, z_log_var, z = self.encoder(inputs)
        reconstructed = self.decoder(z)
        kl = -0.5 * ops.mean(z_log_var - ops.square(z_mean) - ops.exp(z_log_var) + 1)
        self.add_loss(kl)
        return reconstructed


def test_a_variational_autoencoder_trains_end_to_end():
    """Guide feature ("putting it all together"): a subclassed Model of
    subclassed layers (a sampling layer with ``keras.random.normal``, layers
    returning tuples, ``add_loss`` in the model's ``call``) compiled with a
    ``MeanSquaredError`` object and fit on ``(x, x)``."""
    np.random.seed(0)
    rng = np.random.default_rng(0)
    x = (rng.random((64, 10)) > 0.5).astype("float32")
    vae = VariationalAutoEncoder(10)
    vae.compile(
        keras.optimizers.Adam(learning_rate=1e-2), loss=keras.losses.MeanSquaredError()
    )
    history = vae.fit(x, x, epochs=4, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert len(vae.losses) == 1
    assert vae.predict(x[:3], verbose=0).shape == (3, 10)
    assert [layer.name for layer in vae.layers] == ["encoder", "decoder"]
