"""Keras guide "Customizing what happens in fit()" (its PyTorch version, with
glassnet's ``loss.backward()`` where the guide calls torch's), on ``import
glassnet as keras``. The guide's own train_step, the lower-level step with
its own trackers, sample weights and test_step are compared with Keras in
``tests/models/test_train_step.py``; this file adds what that one does not
cover: the torch spelling of the step and the GAN."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet as keras
from glassnet import layers, ops


class TorchSpelled(keras.Model):
    """The step as the torch guide writes it: ``self.zero_grad()``, the
    gradients read as ``v.value.grad``, the metrics updated in a loop."""

    def train_step(self, data):
        x, y = data
        self.zero_grad()
        y_pred = self(x, training=True)
        loss = self.compute_loss(y=y, y_pred=y_pred)
        loss.backward()
        trainable = list(self.trainable_weights)
        self.optimizer.apply([v.value.grad for v in trainable], trainable)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


def _data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 5)).astype("float32")
    return x, np.tanh(x @ rng.standard_normal((5, 1))).astype("float32")


def _regressor(cls):
    np.random.seed(0)
    inputs = keras.Input(shape=(5,))
    return cls(inputs, layers.Dense(1)(layers.Dense(8, activation="tanh")(inputs)))


def test_the_torch_spelling_of_the_step_trains_as_the_built_in_one():
    """Guide feature: a ``train_step`` with ``self.zero_grad()``,
    ``self.compute_loss``, ``loss.backward()``, ``v.value.grad`` and
    ``optimizer.apply(gradients, variables)``; it trains as fit's own step."""
    x, y = _data()
    custom, plain = _regressor(TorchSpelled), _regressor(keras.Model)
    for model in (custom, plain):
        model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse", metrics=["mae"])
    kwargs = dict(epochs=3, batch_size=16, shuffle=False, verbose=0)
    mine, built_in = custom.fit(x, y, **kwargs), plain.fit(x, y, **kwargs)
    assert sorted(mine.history) == ["loss", "mae"]
    for key in ("loss", "mae"):
        np.testing.assert_allclose(mine.history[key], built_in.history[key], rtol=1e-5)
    for a, b in zip(custom.get_weights(), plain.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


LATENT = 4


def _discriminator():
    return keras.Sequential(
        [
            keras.Input(shape=(8, 8, 1)),
            layers.Conv2D(8, 3, strides=2, padding="same"),
            layers.Activation("leaky_relu"),
            layers.Conv2D(8, 3, strides=2, padding="same"),
            layers.Activation("leaky_relu"),
            layers.GlobalMaxPooling2D(),
            layers.Dense(1),
        ],
        name="discriminator",
    )


def _generator():
    return keras.Sequential(
        [
            keras.Input(shape=(LATENT,)),
            layers.Dense(4 * 4 * 8),
            layers.Activation("leaky_relu"),
            layers.Reshape((4, 4, 8)),
            layers.Conv2DTranspose(8, 4, strides=2, padding="same"),
            layers.Activation("leaky_relu"),
            layers.Conv2D(1, 3, padding="same", activation="sigmoid"),
        ],
        name="generator",
    )


class GAN(keras.Model):
    """Two models trained in turns by one step: its own ``compile`` takes an
    optimizer per model and the loss; its own trackers are its metrics."""

    def __init__(self, discriminator, generator, latent_dim):
        super().__init__()
        self.discriminator = discriminator
        self.generator = generator
        self.latent_dim = latent_dim
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.seed_generator = keras.random.SeedGenerator(1337)
        self.built = True

    @property
    def metrics(self):
        return [self.d_loss_tracker, self.g_loss_tracker]

    def compile(self, d_optimizer, g_optimizer, loss_fn):
        super().compile()
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        self.loss_fn = loss_fn

    def _latent(self, batch_size):
        shape = (batch_size, self.latent_dim)
        return keras.random.normal(shape=shape, seed=self.seed_generator)

    def train_step(self, real_images):
        if isinstance(real_images, (list, tuple)):  # a DataLoader's (images,)
            real_images = real_images[0]
        n = real_images.shape[0]
        # the discriminator learns fakes (1) from real images (0), noisy labels
        fakes = self.generator(self._latent(n))
        images = ops.concatenate([fakes, real_images], axis=0)
        labels = ops.concatenate([ops.ones((n, 1)), ops.zeros((n, 1))], axis=0)
        labels = labels + 0.05 * keras.random.uniform(
            ops.shape(labels), seed=self.seed_generator
        )
        self.zero_grad()
        d_loss = self.loss_fn(labels, self.discriminator(images))
        d_loss.backward()
        d_weights = self.discriminator.trainable_weights
        self.d_optimizer.apply([w.grad for w in d_weights], d_weights)
        # the generator learns to be called real, the discriminator unchanged
        self.zero_grad()
        g_loss = self.loss_fn(
            ops.zeros((n, 1)), self.discriminator(self.generator(self._latent(n)))
        )
        g_loss.backward()
        g_weights = self.generator.trainable_weights
        self.g_optimizer.apply([w.grad for w in g_weights], g_weights)
        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        return {m.name: m.result() for m in self.metrics}


@pytest.mark.parametrize("source", ["arrays", "dataloader"])
def test_a_gan_trains_two_models_with_two_optimizers(source):
    """Guide feature (the end-to-end GAN): a Model subclass holding two
    Sequential models, overriding ``compile`` (an optimizer for each, a
    from-logits BinaryCrossentropy), drawing latent vectors with
    ``keras.random.normal`` and a SeedGenerator, training both in one
    ``train_step``; fit on arrays or on a PyTorch DataLoader."""
    np.random.seed(0)
    discriminator, generator = _discriminator(), _generator()
    gan = GAN(discriminator, generator, LATENT)
    gan.compile(
        d_optimizer=keras.optimizers.Adam(learning_rate=3e-4),
        g_optimizer=keras.optimizers.Adam(learning_rate=3e-4),
        loss_fn=keras.losses.BinaryCrossentropy(from_logits=True),
    )
    images = np.random.default_rng(0).random((32, 8, 8, 1)).astype("float32")
    d_before, g_before = discriminator.get_weights(), generator.get_weights()
    if source == "arrays":
        history = gan.fit(images, batch_size=8, epochs=2, verbose=0)
    else:
        torch = pytest.importorskip("torch")
        loader = torch.utils.data.DataLoader(
            torch.utils.data.TensorDataset(torch.from_numpy(images)),
            batch_size=8,
            shuffle=True,
        )
        history = gan.fit(loader, epochs=2, verbose=0)
    assert sorted(history.history) == ["d_loss", "g_loss"]
    assert all(np.isfinite(history.history["d_loss"] + history.history["g_loss"]))
    for before, model in ((d_before, discriminator), (g_before, generator)):
        assert any(not np.allclose(a, b) for a, b in zip(before, model.get_weights()))
    assert gan.d_optimizer.iterations == gan.g_optimizer.iterations == 8
    assert len(gan.weights) == len(discriminator.weights) + len(generator.weights)
    assert gan.generator(np.zeros((2, LATENT), "float32")).shape == (2, 8, 8, 1)


def test_the_guide_s_leaky_relu_layer():
    """Guide feature: ``layers.LeakyReLU(negative_slope=0.2)`` in the GAN's
    two models."""
    layer = layers.LeakyReLU(negative_slope=0.2)
    np.testing.assert_allclose(layer(np.array([-1.0, 2.0])).data, [-0.2, 2.0])
