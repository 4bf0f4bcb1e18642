"""One epoch of a classifier's training in glassnet, a plain PyTorch eager loop
and Keras 3 (torch backend), side by side: what ``bench_conv.py`` and
``bench_cifar.py`` share.

A benchmark names its network in each library and its data, then calls
:func:`main`. Every library builds its model and converts its data before the
clock starts, and does one warm-up step on a throw-away model first; epochs are
interleaved and the best of ``--repeat`` is kept (the machine is shared, so
ratios are what count). Adam, softmax cross-entropy on the logits, shuffled
batches. Peak memory is measured in a fresh child process per library
(:func:`common.peak_memory`).

Stable API::

    setups(glassnet_model, torch_model, keras_model, batch, lr) -> dict
    main(script, doc, setups, data, flop, targets, images, quick_images)
"""

from __future__ import annotations

import argparse
import functools
import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
from common import (
    OtherLoad,
    fmt_ratio,
    have,
    limit_threads,
    matmul_gflops,
    memory_child,
    mib,
    peak_memory,
    print_table,
    timed,
)

os.environ.setdefault("KERAS_BACKEND", "torch")

__all__ = ["main", "setups"]


def setups(
    glassnet_model: Callable,
    torch_model: Callable,
    keras_model: Callable,
    batch: int,
    lr: float,
) -> dict[str, Callable]:
    """``{library: setup}``: ``setup(x, y, ready)`` converts the data, calls
    ``ready()`` (the memory children's mark), builds the library's model
    (from the uncompiled ``*_model()``), warms it up, and returns
    ``run_epoch()``. Images go to PyTorch channels-first."""

    def glassnet_setup(x, y, ready=lambda: None):
        from glassnet.losses import SparseCategoricalCrossentropy
        from glassnet.optimizers import Adam

        ready()

        def build():
            model = glassnet_model()
            model.compile(Adam(lr), SparseCategoricalCrossentropy(from_logits=True))
            return model

        build().fit(x[:batch], y[:batch], batch_size=batch, verbose=0)  # warm-up
        model = build()
        return lambda: model.fit(x, y, batch_size=batch, epochs=1, verbose=0)

    def torch_setup(x, y, ready=lambda: None):
        import torch

        if x.ndim == 4:
            x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)
        ready()

        def build():
            model = torch_model()
            model.train()
            return model, torch.optim.Adam(model.parameters(), lr=lr, eps=1e-7)

        loss_fn = torch.nn.CrossEntropyLoss()

        def epoch(model, optimizer, n):
            order = torch.randperm(n)
            total = 0.0
            for lo in range(0, n, batch):
                rows = order[lo : lo + batch]
                optimizer.zero_grad()
                loss = loss_fn(model(xt[rows]), yt[rows])
                loss.backward()
                optimizer.step()
                total += loss.item() * len(rows)
            return total / n

        epoch(*build(), batch)  # warm-up
        model, optimizer = build()
        return lambda: epoch(model, optimizer, len(x))

    def keras_setup(x, y, ready=lambda: None):
        import keras

        ready()

        def build():
            model = keras_model()
            model.compile(
                keras.optimizers.Adam(lr),
                keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            )
            return model

        build().fit(x[:batch], y[:batch], batch_size=batch, verbose=0)  # warm-up
        model = build()
        model.fit(x[:batch], y[:batch], batch_size=batch, verbose=0)  # traces its step
        return lambda: model.fit(x, y, batch_size=batch, epochs=1, verbose=0)

    return {
        "glassnet": glassnet_setup,
        "torch eager": torch_setup,
        "keras 3": keras_setup,
    }


def blas_core() -> str:
    """The kernel family NumPy's BLAS runs (threadpoolctl's "architecture"),
    with a note where OpenBLAS runs AVX2 kernels on a CPU with AVX-512."""
    try:
        from threadpoolctl import threadpool_info

        cores = {i.get("architecture") for i in threadpool_info()}
        core = ", ".join(sorted(c for c in cores if c)) or "unknown"
    except ImportError:
        return "unknown"
    try:
        flags = Path("/proc/cpuinfo").read_text().split()
    except OSError:
        return core
    if core == "Haswell" and "avx512f" in flags:
        core += (
            " (AVX2; this CPU has AVX-512: OPENBLAS_CORETYPE=SKYLAKEX selects "
            "OpenBLAS's AVX-512 kernels)"
        )
    return core


def main(
    script: str,
    doc: str,
    setups: dict[str, Callable],
    data: Callable[[int], tuple[np.ndarray, np.ndarray]],
    flop: Callable[[int], float],
    targets: str,
    images: int,
    quick_images: int,
) -> None:
    """Parse the command line, time one epoch per library (best of interleaved
    runs), measure peak memory in child processes (``script --memory-child
    library``: the benchmark itself), and print the table."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help=f"{quick_images:,} images, best of 2"
    )
    parser.add_argument("--repeat", type=int, default=None, help="best of N epochs")
    parser.add_argument("--no-keras", action="store_true", help="skip Keras")
    parser.add_argument("--no-memory", action="store_true", help="skip memory runs")
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="limit BLAS (numpy) and torch to N threads (default: library defaults)",
    )
    parser.add_argument("--images", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--memory-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    images = args.images or (quick_images if args.quick else images)
    if args.memory_child:
        limit_threads(args.threads)
        x, y = data(images)
        setup = functools.partial(setups[args.memory_child], x, y)
        traced = args.memory_child == "glassnet"
        print(json.dumps(memory_child(setup, traced=traced)))
        return
    repeat = args.repeat or (2 if args.quick else 3)

    limit_threads(args.threads)
    libraries = ["glassnet"]
    if have("torch"):
        import torch

        libraries.append("torch eager")
        print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
        if not args.no_keras and have("keras"):
            libraries.append("keras 3")
    print(f"numpy BLAS kernels: {blas_core()}")
    gflops = matmul_gflops()
    x, y = data(images)
    print(
        f"{images:,} images {'x'.join(map(str, x.shape[1:]))}; best of "
        f"{repeat} interleaved epochs per library"
    )
    runs = {name: setups[name](x, y) for name in libraries}
    times = {name: [] for name in libraries}
    load = OtherLoad()
    for _ in range(repeat):
        for name in libraries:
            times[name].append(timed(runs[name]))
    print(f"during the timed epochs, {load.stop()}")
    best = {name: min(t) for name, t in times.items()}
    memory = {}
    if not args.no_memory:
        extra = ("--images", str(images))
        memory = {
            name: peak_memory(script, name, args.threads, *extra) for name in libraries
        }
    gflops = max(gflops, matmul_gflops())  # the least-disturbed of two probes

    print(f"numpy float32 matmul: {gflops:.1f} GFLOP/s (512 x 512, best of 2 probes)")
    work = flop(images)
    ours = best["glassnet"]
    our = memory.get("glassnet", {})
    rows = []
    for name in libraries:
        wall, cpu = best[name]
        theirs = memory.get(name, {})
        rss, held = theirs.get("rss"), theirs.get("held")
        rate = work / wall / 1e9
        rows.append(
            [
                name,
                wall,
                cpu,
                fmt_ratio(ours[0], wall),
                fmt_ratio(ours[1], cpu),
                mib(rss),
                fmt_ratio(our["rss"], rss) if rss and our.get("rss") else "n/a",
                mib(held),
                fmt_ratio(our["held"], held) if held and our.get("held") else "n/a",
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
            "epoch RSS MiB",
            "glassnet/lib",
            "held RSS MiB",
            "glassnet/lib",
            "GFLOP/s",
            "of matmul",
        ],
    )
    traced = memory.get("glassnet", {}).get("traced")
    if traced is not None:
        print(
            f"\nglassnet peak NumPy allocations made during an epoch (tracemalloc; "
            f"buffers kept from earlier steps not included): {mib(traced)} MiB"
        )
    print(
        "glassnet/lib = glassnet / library (< 1: glassnet faster or smaller). "
        "CPU = this process's CPU time, steadier than wall time on a shared box. "
        "In a fresh process per library, the peak resident set during one epoch "
        "less that just before it (epoch RSS: the epoch's growth) and less that "
        "before the model was built (held RSS: with the model, its optimizer and "
        "what the library keeps from step to step)."
        f"\nTargets: {targets}"
    )
