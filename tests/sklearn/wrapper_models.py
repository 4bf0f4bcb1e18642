"""Small model builders for the NeuralNet* wrapper tests, in a module of their own
so that worker processes (joblib's process pool, Dask workers) import them by
name when an estimator that holds one is sent to them."""

from __future__ import annotations

import numpy as np

from glassnet.layers import Dense, Dropout
from glassnet.models import Sequential


def classifier(n_classes_, units=8, dtype="float64", sigmoid_binary=True):
    """A softmax unit per class, or one sigmoid unit for two classes."""
    if n_classes_ == 2 and sigmoid_binary:
        out = Dense(1, activation="sigmoid", dtype=dtype)
    else:
        out = Dense(n_classes_, activation="softmax", dtype=dtype)
    return Sequential([Dense(units, activation="relu", dtype=dtype), out])


def regressor(n_outputs_, units=8, dtype="float64", dropout=0.0):
    layers = [Dense(units, activation="tanh", dtype=dtype)]
    if dropout:
        layers.append(Dropout(dropout))  # no seed: one from Python's random
    return Sequential([*layers, Dense(n_outputs_, dtype=dtype)])


def dropout_regressor(dtype="float64"):
    """An instance to pass as ``model=``: one output, a Dropout layer without a
    seed (the estimator's random_state gives it one)."""
    return Sequential(
        [
            Dense(8, activation="tanh", dtype=dtype),
            Dropout(0.2),
            Dense(1, dtype=dtype),
        ]
    )


def blobs(n_samples=90, n_classes=3, seed=0):
    """Well-separated classes in 4 features, labels 0 .. n_classes - 1."""
    rng = np.random.RandomState(seed)
    centers = rng.normal(scale=3.0, size=(n_classes, 4))
    y = np.arange(n_samples) % n_classes
    X = centers[y] + rng.normal(size=(n_samples, 4))
    return X, y


def regression(n_samples=80, n_outputs=1, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, 4))
    W = rng.normal(size=(4, n_outputs))
    y = np.tanh(X @ W) + 0.05 * rng.normal(size=(n_samples, n_outputs))
    return X, y[:, 0] if n_outputs == 1 else y
