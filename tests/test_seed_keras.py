"""The seed lecture's Keras cells, run with only the import lines changed.

The seed trains for 3,200 epochs; here 50 keep the suite fast (the benchmark
runs the full 3,200). Printed results are checked for their kind: a history with
``loss`` and ``val_loss``, float32 predictions of shape (3, 1), 4 parameters,
and the fully connected model's 4,100.
"""

from __future__ import annotations

import numpy as np

# seed: from keras.models import Sequential / from keras.losses import ...
from glassnet.initializers import RandomUniform
from glassnet.layers import Activation, Dense
from glassnet.losses import mean_squared_error
from glassnet.models import Sequential
from glassnet.optimizers import SGD


def test_worlds_simplest_nn(capsys):
    # construct a model as close as possible to the one scikit-learn uses
    model = Sequential()

    model.add(
        Dense(
            units=1,
            input_dim=1,
            bias_initializer=RandomUniform(minval=-(3**0.5), maxval=3**0.5),
        )
    )
    model.add(Activation("tanh"))
    # for regression the last layer in sklearn is the identity
    model.add(Dense(units=1))

    model.compile(loss=mean_squared_error, optimizer=SGD(lr=0.001))

    np.random.seed(12345)
    X = np.random.normal(scale=2, size=(1600, 1))
    y = X[:, 0]

    history = model.fit(
        X, y, epochs=50, batch_size=200, validation_split=0.2, verbose=False
    )
    print("minimum loss:", np.min(history.history["val_loss"]))

    predictions = model.predict([[0.0], [1.5], [-1.4]])
    count = model.count_params()
    model.summary()

    out = capsys.readouterr().out
    assert out.startswith("minimum loss: ")
    assert set(history.history) == {"loss", "val_loss"}
    assert len(history.history["loss"]) == len(history.history["val_loss"]) == 50
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert np.all(np.isfinite(history.history["val_loss"]))
    assert predictions.shape == (3, 1) and predictions.dtype == np.float32
    assert count == 4
    assert "Total params: 4 (16.00 B)" in out
    assert out.count("(None, 1)") == 3


def test_fully_connected_model_has_4100_parameters(capsys):
    fc = Sequential()
    fc.add(Dense(units=4, input_dim=32 * 32))
    fc.add(Activation("relu"))
    fc.summary()
    out = capsys.readouterr().out
    nodes = 4
    assert fc.count_params() == 32 * 32 * nodes + nodes == 4100
    assert "(None, 4)" in out and "4,100" in out
    assert "Total params: 4,100 (16.02 KB)" in out
    assert "Non-trainable params: 0 (0.00 B)" in out
