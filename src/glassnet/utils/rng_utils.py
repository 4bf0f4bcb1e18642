"""One seed for every random number glassnet draws, as Keras's
``set_random_seed``."""

from __future__ import annotations

import random

import numpy as np

from glassnet import random as glassnet_random


def set_random_seed(seed: int) -> None:
    """Seed Python's ``random``, NumPy's global generator and glassnet's own.

    What then repeats, run after run:

    - a model's initial weights: initializers without a ``seed`` draw from
      NumPy's global generator;
    - ``fit``'s shuffling: one ``np.random.permutation`` per epoch;
    - Dropout masks: a Dropout layer without a ``seed`` takes one from
      Python's ``random`` when it is made (as Keras's layers do);
    - ``glassnet.random`` draws without a ``seed``: the global SeedGenerator
      is dropped, and made again from Python's ``random`` on its next use.

    ``seed`` must be an int that NumPy accepts (0 to 2**32 - 1).
    """
    if not isinstance(seed, int):
        raise ValueError(
            "Expected `seed` argument to be an integer. "
            f"Received: seed={seed!r} (of type {type(seed)})"
        )
    random.seed(seed)
    np.random.seed(seed)
    glassnet_random.reset_global_seed_generator()
