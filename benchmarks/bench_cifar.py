"""A realistic CNN: glassnet vs a plain PyTorch eager loop vs Keras 3.

The network of issue 15 (item 2), on 32x32x3 float32 images, 10 classes::

    [Conv2D(32, 3, 'same') -> BatchNormalization -> relu] x 2 -> MaxPooling2D
    [Conv2D(64, 3, 'same') -> BatchNormalization -> relu] x 2 -> MaxPooling2D
    -> Dropout(0.25) -> Flatten -> Dense(128, relu) -> Dropout(0.5) -> Dense(10)

(softmax cross-entropy on the logits). Every layer has Keras's defaults (the
convolutions keep their bias; BatchNormalization momentum 0.99, epsilon 1e-3,
which PyTorch spells momentum=0.01, eps=1e-3). Adam (lr 1e-3), batch 128, one
epoch on 4,096 random images (``--quick``: 1,024), shuffled; the protocol of
``epochs.py`` (warm-up, best of interleaved epochs, peak memory in a fresh
process per library). The FLOP rate counts the convolutions' and the dense
layers' multiply-adds (forward, input and weight gradients; the first
convolution needs no input gradient) and is compared with NumPy's float32
matmul rate measured in the same run; normalization, relu, pooling and
dropout are not counted.

NumPy's OpenBLAS picks its kernels by CPU model: the line ``numpy BLAS
kernels`` says which (on CPUs it does not know, such as some AMD Zen 5, it
falls back to Haswell's AVX2 kernels where AVX-512 ones would run; PyTorch's
own kernels use AVX-512 there). ``OPENBLAS_CORETYPE=SKYLAKEX`` before the
command picks the AVX-512 kernels on a CPU that has them.

Run: ``python benchmarks/bench_cifar.py [--quick] [--repeat N] [--threads N]
[--no-keras] [--no-memory]``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import epochs  # noqa: E402

N_IMAGES, QUICK_IMAGES, BATCH, LR = 4096, 1024, 128, 1e-3
# (filters, pool after) of the four convolution blocks
BLOCKS = ((32, False), (32, True), (64, False), (64, True))


def data(n=N_IMAGES, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, 32, 32, 3), dtype=np.float32)
    return x, rng.integers(0, 10, n)


def epoch_flop(n=N_IMAGES):
    """Multiply-adds x 2 of one epoch: forward, input and weight gradients
    (the first convolution needs no input gradient)."""
    size, channels, work = 32, 3, []
    for filters, pool in BLOCKS:
        work.append(size * size * 3 * 3 * channels * filters)
        channels = filters
        size = size // 2 if pool else size
    dense = size * size * channels * 128 + 128 * 10
    return 2 * n * (2 * work[0] + 3 * sum(work[1:]) + 3 * dense)


# --- the network in each library (uncompiled) -------------------------------------
def glassnet_cnn():
    from glassnet.layers import (
        Activation,
        BatchNormalization,
        Conv2D,
        Dense,
        Dropout,
        Flatten,
        Input,
        MaxPooling2D,
    )
    from glassnet.models import Sequential

    layers = [Input((32, 32, 3))]
    for filters, pool in BLOCKS:
        layers += [
            Conv2D(filters, 3, padding="same"),
            BatchNormalization(),
            Activation("relu"),
        ]
        layers += [MaxPooling2D()] if pool else []
    layers += [
        Dropout(0.25),
        Flatten(),
        Dense(128, activation="relu"),
        Dropout(0.5),
        Dense(10),
    ]
    return Sequential(layers)


def torch_cnn():
    """Channels-first input (N, 3, 32, 32), as PyTorch wants it."""
    import torch

    nn, layers, channels = torch.nn, [], 3
    for filters, pool in BLOCKS:
        layers += [
            nn.Conv2d(channels, filters, 3, padding=1),
            nn.BatchNorm2d(filters, eps=1e-3, momentum=0.01),
            nn.ReLU(),
        ]
        layers += [nn.MaxPool2d(2)] if pool else []
        channels = filters
    layers += [
        nn.Dropout(0.25),
        nn.Flatten(),
        nn.Linear(64 * 8 * 8, 128),
        nn.ReLU(),
        nn.Dropout(0.5),
        nn.Linear(128, 10),
    ]
    return nn.Sequential(*layers)


def keras_cnn():
    import keras

    layers = [keras.Input((32, 32, 3))]
    for filters, pool in BLOCKS:
        layers += [
            keras.layers.Conv2D(filters, 3, padding="same"),
            keras.layers.BatchNormalization(),
            keras.layers.Activation("relu"),
        ]
        layers += [keras.layers.MaxPooling2D()] if pool else []
    layers += [
        keras.layers.Dropout(0.25),
        keras.layers.Flatten(),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dropout(0.5),
        keras.layers.Dense(10),
    ]
    return keras.Sequential(layers)


SETUPS = epochs.setups(glassnet_cnn, torch_cnn, keras_cnn, BATCH, LR)
TARGETS = (
    "glassnet <= 0.8 x torch eager and <= 0.5 x Keras in time; "
    "peak memory <= 1.0 x torch eager."
)

if __name__ == "__main__":
    epochs.main(
        __file__, __doc__, SETUPS, data, epoch_flop, TARGETS, N_IMAGES, QUICK_IMAGES
    )
