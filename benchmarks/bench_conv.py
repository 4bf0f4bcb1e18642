"""Convolutional training: glassnet vs a plain PyTorch eager loop vs Keras 3.

The network of issue 5, on 28x28x1 float32 images::

    Conv2D(32, 3, relu) -> MaxPooling2D -> Conv2D(64, 3, relu) -> MaxPooling2D
    -> Flatten -> Dense(10)   (softmax cross-entropy on the logits)

Adam (lr 1e-3), batch 128, one epoch on 8,192 random images, shuffled. Every
library builds its model and converts its data before the clock starts, and
does one warm-up step on a throw-away model first. Runs are interleaved and the
best of ``--repeat`` is kept (the machine is shared, so ratios are what count).

Memory is measured the same way for every library in a fresh child process
whose glibc maps every block over 64 KiB separately and returns it on free,
so that the resident set follows the live allocations: the kernel's
high-water mark ``VmHWM`` is reset through ``/proc/self/clear_refs`` just
before the epoch. Two figures: the peak resident set during one epoch less
that just before it (the epoch's growth), and less that before the model was
built, the library imported and the data converted ("held": it adds the
model, its optimizer state and whatever the library keeps from step to
step, such as caches and reused buffers). For glassnet the peak of NumPy
allocations made during an epoch, as seen by ``tracemalloc``, is printed too.

The FLOP rate counts the convolutions' and the dense layer's multiply-adds
(forward, input and weight gradients) and is compared with NumPy's float32
matmul rate measured in the same run. It is the same nominal count for every
library: glassnet's fused conv + pool skips the conv2 pixels no pooling window
covers (100 of 121 per image are computed), so its own count of multiply-adds
is about 15% lower.

The protocol is ``epochs.py``'s (shared with ``bench_cifar.py``).

Run: ``python benchmarks/bench_conv.py [--quick] [--repeat N] [--threads N]
[--no-keras] [--no-memory]``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import epochs  # noqa: E402

N_IMAGES, QUICK_IMAGES, BATCH, LR = 8192, 2048, 128, 1e-3


def data(n=N_IMAGES, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, 28, 28, 1), dtype=np.float32)
    return x, rng.integers(0, 10, n)


def sides(size=28):
    """Side lengths of (conv1's output, conv2's output, the features) for
    images of side ``size`` (28: 26, 11, 5)."""
    conv2 = (size - 2) // 2 - 2
    return size - 2, conv2, conv2 // 2


def epoch_flop(n=N_IMAGES, size=28):
    """Multiply-adds x 2 of one epoch: forward, input and weight gradients
    (conv1 needs no input gradient)."""
    conv1, conv2, features = sides(size)
    conv1 = conv1 * conv1 * 3 * 3 * 1 * 32
    conv2 = conv2 * conv2 * 3 * 3 * 32 * 64
    dense = features * features * 64 * 10
    return 2 * n * (2 * conv1 + 3 * conv2 + 3 * dense)


# --- the network in each library (uncompiled; bench_scaling varies the size) -------
def glassnet_cnn(size=28):
    from glassnet.layers import Conv2D, Dense, Flatten, Input, MaxPooling2D
    from glassnet.models import Sequential

    return Sequential(
        [
            Input((size, size, 1)),
            Conv2D(32, 3, activation="relu"),
            MaxPooling2D(),
            Conv2D(64, 3, activation="relu"),
            MaxPooling2D(),
            Flatten(),
            Dense(10),
        ]
    )


def torch_cnn(size=28):
    """Channels-first input (N, 1, 28, 28), as PyTorch wants it."""
    import torch

    features = sides(size)[2]
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 32, 3),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(32, 64, 3),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(64 * features * features, 10),
    )


def keras_cnn():
    import keras

    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.Conv2D(32, 3, activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Conv2D(64, 3, activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Flatten(),
            keras.layers.Dense(10),
        ]
    )


SETUPS = epochs.setups(glassnet_cnn, torch_cnn, keras_cnn, BATCH, LR)
TARGETS = (
    "glassnet <= 1.0 x torch eager and <= 0.7 x Keras in time; "
    "peak memory <= 1.5 x torch eager."
)

if __name__ == "__main__":
    epochs.main(
        __file__, __doc__, SETUPS, data, epoch_flop, TARGETS, N_IMAGES, QUICK_IMAGES
    )
