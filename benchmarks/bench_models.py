"""Keras-style training: glassnet vs a plain PyTorch eager loop vs Keras 3.

Same process, same machine, same data; ratios are what count (the machine is
shared). Two cases from issue 4:

(a) the seed lecture's model: Dense(1)-tanh-Dense(1), SGD lr 0.001, batch 200,
    validation_split 0.2, 3,200 epochs on the seed's data. Keras is slow here, so
    it runs ``--keras-epochs`` epochs and its time is extrapolated per epoch
    (marked "extrapolated" in the table).
(b) Dense 64-256-256-10 relu, softmax cross-entropy (on logits), Adam, float32,
    batch 200, 10 epochs on 20,000 samples.

Every library does the same work per epoch: shuffle, one optimizer step per
batch, the epoch's mean training loss and (a) the validation loss. The FLOP
rate counts ~6 x params x samples per epoch (forward + backward) and is
compared with NumPy's float32 matmul rate measured in the same run.

Run: ``python benchmarks/bench_models.py [--quick] [--no-keras]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    OtherLoad,
    best_time,
    blas_info,
    fmt_ratio,
    have,
    matmul_gflops,
    print_table,
)

os.environ.setdefault("KERAS_BACKEND", "torch")


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _elapsed(start: tuple[float, float]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) since ``start``."""
    wall, cpu = _clock()
    return wall - start[0], cpu - start[1]


def seed_data():
    np.random.seed(12345)
    x = np.random.normal(scale=2, size=(1600, 1))
    return x, x[:, 0]


def mlp_data(n=20_000, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 64)).astype("float32")
    w = rng.standard_normal((64, 10)).astype("float32")
    return x, (x @ w).argmax(axis=1)


# --- glassnet -------------------------------------------------------------------
def glassnet_seed_model():
    """The seed lecture's model, compiled as the lecture compiles it."""
    from glassnet.initializers import RandomUniform
    from glassnet.layers import Activation, Dense
    from glassnet.losses import mean_squared_error
    from glassnet.models import Sequential
    from glassnet.optimizers import SGD

    model = Sequential()
    model.add(
        Dense(
            units=1,
            input_dim=1,
            bias_initializer=RandomUniform(minval=-(3**0.5), maxval=3**0.5),
        )
    )
    model.add(Activation("tanh"))
    model.add(Dense(units=1))
    model.compile(loss=mean_squared_error, optimizer=SGD(lr=0.001))
    return model


def glassnet_seed(x, y, epochs):
    model = glassnet_seed_model()
    start = _clock()
    history = model.fit(
        x, y, epochs=epochs, batch_size=200, validation_split=0.2, verbose=False
    )
    return _elapsed(start), history.history["val_loss"][-1]


def glassnet_mlp_model():
    """Dense 64-256-256-10 (relu), Adam, cross-entropy on the logits."""
    from glassnet.layers import Dense, Input
    from glassnet.losses import SparseCategoricalCrossentropy
    from glassnet.models import Sequential
    from glassnet.optimizers import Adam

    model = Sequential(
        [
            Input((64,)),
            Dense(256, activation="relu"),
            Dense(256, activation="relu"),
            Dense(10),
        ]
    )
    model.compile(Adam(), SparseCategoricalCrossentropy(from_logits=True))
    return model


def glassnet_mlp(x, y, epochs):
    model = glassnet_mlp_model()
    start = _clock()
    history = model.fit(x, y, epochs=epochs, batch_size=200, verbose=0)
    return _elapsed(start), history.history["loss"][-1]


# --- PyTorch eager --------------------------------------------------------------
def torch_seed(x, y, epochs):
    import torch

    split = int(len(x) * 0.8)
    xt = torch.tensor(x[:split], dtype=torch.float32)
    yt = torch.tensor(y[:split, None], dtype=torch.float32)
    xv = torch.tensor(x[split:], dtype=torch.float32)
    yv = torch.tensor(y[split:, None], dtype=torch.float32)
    model = torch_seed_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.001)
    loss_fn = torch.nn.MSELoss()
    start = _clock()
    for _ in range(epochs):
        _torch_epoch(model, optimizer, loss_fn, xt, yt)
        with torch.no_grad():
            val = loss_fn(model(xv), yv).item()
    return _elapsed(start), val


def torch_seed_model():
    import torch

    return torch.nn.Sequential(
        torch.nn.Linear(1, 1), torch.nn.Tanh(), torch.nn.Linear(1, 1)
    )


def torch_mlp_model():
    import torch

    return torch.nn.Sequential(
        torch.nn.Linear(64, 256),
        torch.nn.ReLU(),
        torch.nn.Linear(256, 256),
        torch.nn.ReLU(),
        torch.nn.Linear(256, 10),
    )


def _torch_epoch(model, optimizer, loss_fn, xt, yt, batch_size=200):
    """One shuffled epoch of a plain PyTorch eager loop; returns the summed loss."""
    import torch

    order = torch.randperm(len(xt))
    total = 0.0
    for lo in range(0, len(xt), batch_size):
        batch = order[lo : lo + batch_size]
        optimizer.zero_grad()
        loss = loss_fn(model(xt[batch]), yt[batch])
        loss.backward()
        optimizer.step()
        total += loss.item() * len(batch)
    return total


def torch_mlp(x, y, epochs):
    import torch

    xt = torch.from_numpy(x)
    yt = torch.from_numpy(y)
    model = torch_mlp_model()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.001, eps=1e-7)
    loss_fn = torch.nn.CrossEntropyLoss()
    n = len(x)
    start = _clock()
    for _ in range(epochs):
        total = _torch_epoch(model, optimizer, loss_fn, xt, yt)
    return _elapsed(start), total / n


# --- Keras 3 (torch backend) ----------------------------------------------------
def keras_seed_model():
    import keras

    model = keras.Sequential(
        [
            keras.Input((1,)),
            keras.layers.Dense(
                1,
                bias_initializer=keras.initializers.RandomUniform(-(3**0.5), 3**0.5),
            ),
            keras.layers.Activation("tanh"),
            keras.layers.Dense(1),
        ]
    )
    model.compile(loss="mse", optimizer=keras.optimizers.SGD(learning_rate=0.001))
    return model


def keras_mlp_model():
    import keras

    model = keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Dense(256, activation="relu"),
            keras.layers.Dense(256, activation="relu"),
            keras.layers.Dense(10),
        ]
    )
    model.compile(
        keras.optimizers.Adam(),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    return model


def keras_seed(x, y, epochs):
    model = keras_seed_model()
    model.fit(x[:400], y[:400], epochs=1, batch_size=200, verbose=0)  # warm-up
    start = _clock()
    history = model.fit(
        x, y, epochs=epochs, batch_size=200, validation_split=0.2, verbose=0
    )
    return _elapsed(start), history.history["val_loss"][-1]


def keras_mlp(x, y, epochs):
    model = keras_mlp_model()
    model.fit(x[:400], y[:400], epochs=1, batch_size=200, verbose=0)  # warm-up
    start = _clock()
    history = model.fit(x, y, epochs=epochs, batch_size=200, verbose=0)
    return _elapsed(start), history.history["loss"][-1]


def mlp_step_matmuls(batch=200, dtype=np.float32):
    """Seconds of the matrix products of one training step of the MLP alone
    (forward, then the backward's input and weight gradients; none for the
    input layer's input), best of runs: what no library can go below."""
    rng = np.random.default_rng(0)
    sizes = [64, 256, 256, 10]
    acts = [rng.standard_normal((batch, k)).astype(dtype) for k in sizes]
    ws = [rng.standard_normal((k, m)).astype(dtype) for k, m in zip(sizes, sizes[1:])]

    def step():
        for a, w in zip(acts, ws):
            a @ w
        for i in range(len(ws) - 1, -1, -1):
            g = acts[i + 1]
            acts[i].T @ g
            if i:
                g @ ws[i].T

    step()
    return best_time(step, repeat=20, number=5)


def _interleaved(runners, x, y, epochs, repeat):
    """Best (wall, cpu) per runner over ``repeat`` rounds, the runners taking turns
    so that every library meets the same load on a shared machine."""
    best = [None] * len(runners)
    for _ in range(repeat):
        for i, fn in enumerate(runners):
            times = fn(x, y, epochs)[0]
            best[i] = times if best[i] is None else min(best[i], times)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer epochs")
    parser.add_argument("--no-keras", action="store_true", help="skip Keras")
    parser.add_argument("--keras-epochs", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=2, help="best of N runs")
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="limit BLAS (numpy) and torch to N threads (default: library defaults)",
    )
    args = parser.parse_args()

    seed_epochs = 320 if args.quick else 3200
    mlp_epochs = 2 if args.quick else 10
    have_torch = have("torch")
    have_keras = have_torch and not args.no_keras and have("keras")
    if args.threads:
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.threads)
    if have_torch:
        import torch

        if args.threads:
            torch.set_num_threads(args.threads)
        threads = torch.get_num_threads()
    gflops = matmul_gflops()
    print(f"numpy BLAS: {blas_info()}")
    print(f"numpy float32 matmul: {gflops:.1f} GFLOP/s (512 x 512)")
    if have_torch:
        print(f"torch {torch.__version__}, {threads} threads")
    print(f"best of {args.repeat} interleaved runs per library (Keras: 1 run)")

    rows = []

    def add(case, library, times, epochs, flop, reference, note=""):
        wall, cpu = times
        rate = flop * epochs / wall / 1e9
        rows.append(
            [
                case,
                library,
                wall,
                cpu,
                wall / epochs * 1e3,
                fmt_ratio(reference[0], wall) if reference else "1.00x",
                fmt_ratio(reference[1], cpu) if reference else "1.00x",
                f"{rate:.3g}",
                rate,  # replaced by the fraction of the matmul rate below
                note,
            ]
        )

    load = OtherLoad()
    # (a) the seed model
    x, y = seed_data()
    seed_flop = 6 * 4 * 1280
    case = "(a) seed 1-1-1"
    runners = [glassnet_seed] + ([torch_seed] if have_torch else [])
    ours, *others = _interleaved(runners, x, y, seed_epochs, args.repeat)
    add(case, "glassnet", ours, seed_epochs, seed_flop, None)
    for t in others:
        add(case, "torch eager", t, seed_epochs, seed_flop, ours)
    if have_keras:
        k_epochs = min(args.keras_epochs, seed_epochs)
        k = keras_seed(x, y, k_epochs)[0]
        k_full = (k[0] / k_epochs * seed_epochs, k[1] / k_epochs * seed_epochs)
        note = f"extrapolated from {k_epochs} epochs"
        add(case, "keras 3", k_full, seed_epochs, seed_flop, ours, note)

    # (b) the MLP
    x, y = mlp_data()
    mlp_params = 64 * 256 + 256 + 256 * 256 + 256 + 256 * 10 + 10
    mlp_flop = 6 * mlp_params * len(x)
    case = "(b) mlp 64-256-256-10"
    runners = [glassnet_mlp] + ([torch_mlp] if have_torch else [])
    ours, *others = _interleaved(runners, x, y, mlp_epochs, args.repeat)
    add(case, "glassnet", ours, mlp_epochs, mlp_flop, None)
    for t in others:
        add(case, "torch eager", t, mlp_epochs, mlp_flop, ours)
    if have_keras:
        k = keras_mlp(x, y, mlp_epochs)[0]
        add(case, "keras 3", k, mlp_epochs, mlp_flop, ours)
    print(f"during the runs, {load.stop()}")
    gflops_after = matmul_gflops()
    print(f"numpy float32 matmul at the end: {gflops_after:.1f} GFLOP/s")
    peak = max(gflops, gflops_after)
    ceiling = mlp_flop / (len(x) // 200) / mlp_step_matmuls() / 1e9
    print(
        f"(b)'s matrix products alone, at its shapes: {ceiling:.1f} GFLOP/s "
        f"({ceiling / peak:.0%} of the 512 x 512 rate; counted as (b) counts)"
    )
    for row in rows:
        row[8] = f"{row[8] / peak:.2%}"

    print()
    print_table(
        rows,
        [
            "case",
            "library",
            "wall s",
            "CPU s",
            "ms/epoch",
            "glassnet/lib wall",
            "glassnet/lib CPU",
            "GFLOP/s",
            "of matmul peak",
            "note",
        ],
    )
    print(
        "\nglassnet/lib = glassnet time / library time (< 1: glassnet faster); "
        "CPU = this process's CPU time (steadier than wall time on a shared box)."
        "\nTargets: (a) glassnet <= 0.5 x torch eager and <= 0.05 x Keras;"
        " (b) glassnet <= 0.6 x torch eager and >= 60% of the matmul rate."
    )


if __name__ == "__main__":
    main()
