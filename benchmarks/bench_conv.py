"""Convolutional training: glassnet vs a plain PyTorch eager loop vs Keras 3.

The network of issue 5, on 28x28x1 float32 images::

    Conv2D(32, 3, relu) -> MaxPooling2D -> Conv2D(64, 3, relu) -> MaxPooling2D
    -> Flatten -> Dense(10)   (softmax cross-entropy on the logits)

Adam (lr 1e-3), batch 128, one epoch on 8,192 random images, shuffled. Every
library builds its model and converts its data before the clock starts, and
does one warm-up step on a throw-away model first. Runs are interleaved and the
best of ``--repeat`` is kept (the machine is shared, so ratios are what count).

Memory is the peak resident-set growth during one epoch (after the warm-up),
measured the same way for every library in a fresh child process whose glibc
maps every block over 64 KiB separately and returns it on free, so that the
resident set follows the live allocations: the kernel's high-water mark
``VmHWM`` is reset through ``/proc/self/clear_refs`` just before the epoch.
For glassnet the peak of NumPy allocations during an epoch, as seen by
``tracemalloc``, is printed too (it should agree). The FLOP rate counts the
convolutions' and the dense layer's multiply-adds (forward, input and weight
gradients) and is compared with NumPy's float32 matmul rate measured in the
same run. It is the same nominal count for every library: glassnet's fused
conv + pool skips the conv2 pixels no pooling window covers (100 of 121 per
image are computed), so its own count of multiply-adds is about 15% lower.

Run: ``python benchmarks/bench_conv.py [--repeat N] [--threads N] [--no-keras]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import fmt_ratio, have, matmul_gflops, print_table  # noqa: E402

os.environ.setdefault("KERAS_BACKEND", "torch")

N_IMAGES, BATCH, LR = 8192, 128, 1e-3


def data(n=N_IMAGES, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, 28, 28, 1), dtype=np.float32)
    return x, rng.integers(0, 10, n)


def epoch_flop(n=N_IMAGES):
    """Multiply-adds x 2 of one epoch: forward, input and weight gradients
    (conv1 needs no input gradient)."""
    conv1 = 26 * 26 * 3 * 3 * 1 * 32
    conv2 = 11 * 11 * 3 * 3 * 32 * 64
    dense = 1600 * 10
    return 2 * n * (2 * conv1 + 3 * conv2 + 3 * dense)


# --- the network in each library (uncompiled) -------------------------------------
def glassnet_cnn():
    from glassnet.layers import Conv2D, Dense, Flatten, Input, MaxPooling2D
    from glassnet.models import Sequential

    return Sequential(
        [
            Input((28, 28, 1)),
            Conv2D(32, 3, activation="relu"),
            MaxPooling2D(),
            Conv2D(64, 3, activation="relu"),
            MaxPooling2D(),
            Flatten(),
            Dense(10),
        ]
    )


def torch_cnn():
    """Channels-first input (N, 1, 28, 28), as PyTorch wants it."""
    import torch

    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 32, 3),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(32, 64, 3),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(1600, 10),
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


# --- the three libraries: each returns a `run_epoch()` closure, set up outside ----
def glassnet_setup(x, y):
    from glassnet.losses import SparseCategoricalCrossentropy
    from glassnet.optimizers import Adam

    def build():
        model = glassnet_cnn()
        model.compile(Adam(LR), SparseCategoricalCrossentropy(from_logits=True))
        return model

    build().fit(x[:BATCH], y[:BATCH], batch_size=BATCH, verbose=0)  # warm-up
    model = build()
    return lambda: model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)


def torch_setup(x, y):
    import torch

    xt = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
    yt = torch.from_numpy(y)

    def build():
        model = torch_cnn()
        return model, torch.optim.Adam(model.parameters(), lr=LR, eps=1e-7)

    loss_fn = torch.nn.CrossEntropyLoss()

    def epoch(model, optimizer, n):
        order = torch.randperm(n)
        total = 0.0
        for lo in range(0, n, BATCH):
            batch = order[lo : lo + BATCH]
            optimizer.zero_grad()
            loss = loss_fn(model(xt[batch]), yt[batch])
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
        return total / n

    epoch(*build(), BATCH)  # warm-up
    model, optimizer = build()
    return lambda: epoch(model, optimizer, len(x))


def keras_setup(x, y):
    import keras

    def build():
        model = keras_cnn()
        model.compile(
            keras.optimizers.Adam(LR),
            keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        )
        return model

    build().fit(x[:BATCH], y[:BATCH], batch_size=BATCH, verbose=0)  # warm-up
    model = build()
    model.fit(x[:BATCH], y[:BATCH], batch_size=BATCH, verbose=0)  # traces its step
    return lambda: model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)


SETUPS = {
    "glassnet": glassnet_setup,
    "torch eager": torch_setup,
    "keras 3": keras_setup,
}


def timed(run_epoch) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of one epoch."""
    wall, cpu = time.perf_counter(), time.process_time()
    run_epoch()
    return time.perf_counter() - wall, time.process_time() - cpu


# --- memory, in a fresh child process per library -------------------------------
def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def memory_child(library: str, threads: int | None) -> None:
    """Print {"rss": peak RSS growth in bytes, "traced": tracemalloc peak}."""
    _limit_threads(threads)
    x, y = data()
    run_epoch = SETUPS[library](x, y)  # builds, warms up: libraries initialised
    result = {"rss": None}
    try:
        Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to VmRSS
        before = _status_kib("VmRSS")
        run_epoch()
        result["rss"] = (_status_kib("VmHWM") - before) * 1024
    except OSError:  # no /proc (not Linux): skip the RSS number
        pass
    if library == "glassnet":
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        run_epoch()
        result["traced"] = tracemalloc.get_traced_memory()[1] - base
        tracemalloc.stop()
    print(json.dumps(result))


def peak_memory(library: str, threads: int | None) -> dict:
    command = [sys.executable, __file__, "--memory-child", library]
    if threads:
        command += ["--threads", str(threads)]
    # NOTE: glibc then serves every block over 64 KiB by mmap and unmaps it on
    # free, so the resident set follows the live allocations of NumPy and torch
    # alike instead of whatever the allocator happened to keep cached.
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "65536"}
    env["MALLOC_TRIM_THRESHOLD_"] = "131072"
    out = subprocess.run(
        command, capture_output=True, text=True, check=True, env=env
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def _limit_threads(threads: int | None) -> None:
    if threads:
        from threadpoolctl import threadpool_limits

        threadpool_limits(threads)
        try:
            import torch

            torch.set_num_threads(threads)
        except ImportError:
            pass


def _mib(n) -> str:
    return "n/a" if n is None else f"{n / 2**20:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="best of N epochs")
    parser.add_argument("--no-keras", action="store_true", help="skip Keras")
    parser.add_argument("--no-memory", action="store_true", help="skip memory runs")
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="limit BLAS (numpy) and torch to N threads (default: library defaults)",
    )
    parser.add_argument("--memory-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(args.memory_child, args.threads)
        return

    _limit_threads(args.threads)
    libraries = ["glassnet"]
    if have("torch"):
        import torch

        libraries.append("torch eager")
        print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
        if not args.no_keras and have("keras"):
            libraries.append("keras 3")
    gflops = matmul_gflops()
    print(
        f"{N_IMAGES:,} images 28x28x1, batch {BATCH}, Adam; best of "
        f"{args.repeat} interleaved epochs per library"
    )

    x, y = data()
    runs = {name: SETUPS[name](x, y) for name in libraries}
    times = {name: [] for name in libraries}
    for _ in range(args.repeat):
        for name in libraries:
            times[name].append(timed(runs[name]))
    best = {name: min(t) for name, t in times.items()}
    memory = {}
    if not args.no_memory:
        memory = {name: peak_memory(name, args.threads) for name in libraries}
    gflops = max(gflops, matmul_gflops())  # the least-disturbed of two probes

    print(f"numpy float32 matmul: {gflops:.1f} GFLOP/s (512 x 512, best of 2 probes)")
    flop = epoch_flop()
    ours = best["glassnet"]
    rows = []
    for name in libraries:
        wall, cpu = best[name]
        rss = memory.get(name, {}).get("rss")
        our_rss = memory.get("glassnet", {}).get("rss")
        rate = flop / wall / 1e9
        rows.append(
            [
                name,
                wall,
                cpu,
                fmt_ratio(ours[0], wall),
                fmt_ratio(ours[1], cpu),
                _mib(rss),
                fmt_ratio(our_rss, rss) if rss and our_rss else "n/a",
                f"{rate:.3g}",
                f"{rate / gflops:.1%}",
            ]
        )
    print()
    print_table(
        rows,
        [
            "library",
            "wall s",
            "CPU s",
            "glassnet/lib wall",
            "glassnet/lib CPU",
            "peak RSS MiB",
            "glassnet/lib mem",
            "GFLOP/s",
            "of matmul",
        ],
    )
    traced = memory.get("glassnet", {}).get("traced")
    if traced is not None:
        print(f"\nglassnet peak NumPy allocations (tracemalloc): {_mib(traced)} MiB")
    print(
        "glassnet/lib = glassnet / library (< 1: glassnet faster or smaller). "
        "CPU = this process's CPU time, steadier than wall time on a shared box; "
        "peak RSS = resident-set growth during one epoch, in a fresh process."
        "\nTargets: glassnet <= 1.0 x torch eager and <= 0.7 x Keras in time; "
        "peak memory <= 1.5 x torch eager."
    )


if __name__ == "__main__":
    main()
