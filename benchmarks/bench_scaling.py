"""How cost grows: training time per sample against the size of the work,
glassnet and a plain PyTorch eager loop side by side.

Three sweeps (issue 15, item 4), each point one epoch of Adam (lr 1e-3) with
softmax cross-entropy on the logits, the protocol of ``epochs.py`` (warm-up,
best of ``--repeat`` interleaved epochs):

- *batch*: bench_models' MLP, Dense 64-256-256-10 relu, batch 16 ... 2048;
- *width*: the same MLP with hidden layers 64 ... 2048 wide, batch 256;
- *image*: bench_conv's CNN (Conv2D 32 relu, pool, Conv2D 64 relu, pool,
  Dense 10) on 16x16 ... 64x64 one-channel images, batch 128.

Each point trains on enough samples for about ``--flop`` floating-point
operations (at least 8 batches). Time per sample is the epoch's wall time
over its samples; the FLOP rate counts the matrix products' multiply-adds
(forward, input and weight gradients: 6 x parameters a sample for the MLP,
bench_conv's count for the CNN) and is given as a fraction of NumPy's float32
matmul rate measured in the same run. Where the time per sample falls as the
batch grows, per-step overhead (Python, the engine, small BLAS calls) still
matters; where the fraction of peak stops rising and falls as the arrays
outgrow the caches, memory bandwidth takes over.

Prints one table and saves the plot (``--out``, PNG, matplotlib's Agg).

Run: ``python benchmarks/bench_scaling.py [--quick] [--repeat N] [--threads N]
[--flop F] [--out PATH]``.
"""

from __future__ import annotations

import argparse
import sys
from functools import partial
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_conv  # noqa: E402
import epochs  # noqa: E402
from common import (  # noqa: E402
    have,
    limit_threads,
    matmul_gflops,
    print_table,
    timed,
)

LR = 1e-3
SWEEPS = {  # name: (points, quick points)
    "batch": ((16, 32, 64, 128, 256, 512, 1024, 2048), (16, 128, 1024)),
    "width": ((64, 128, 256, 512, 1024, 2048), (64, 512, 2048)),
    "image": ((16, 24, 32, 48, 64), (16, 32, 64)),
}
MLP_BATCH, MLP_WIDTH, CNN_BATCH = 256, 256, 128
SWEEP_TITLES = {
    "batch": "MLP 64-256-256-10",
    "width": f"MLP 64-w-w-10, batch {MLP_BATCH}",
    "image": f"CNN (bench_conv), batch {CNN_BATCH}",
}


# --- the networks -------------------------------------------------------------------
def glassnet_mlp(width):
    from glassnet.layers import Dense, Input
    from glassnet.models import Sequential

    return Sequential(
        [
            Input((64,)),
            Dense(width, activation="relu"),
            Dense(width, activation="relu"),
            Dense(10),
        ]
    )


def torch_mlp(width):
    import torch

    nn = torch.nn
    return nn.Sequential(
        nn.Linear(64, width),
        nn.ReLU(),
        nn.Linear(width, width),
        nn.ReLU(),
        nn.Linear(width, 10),
    )


# --- the points -----------------------------------------------------------------------
def mlp_flop(width):
    """Multiply-adds x 2, forward and both gradients: 6 x parameters a sample."""
    return 6 * (64 * width + width + width * width + width + width * 10 + 10)


def point(sweep, value):
    """(batch, FLOP a sample, data(n) -> (x, y), {library: setup})."""
    if sweep == "image":
        batch, flop = CNN_BATCH, bench_conv.epoch_flop(1, value)
        shape = (value, value, 1)
        models = (
            partial(bench_conv.glassnet_cnn, value),
            partial(bench_conv.torch_cnn, value),
        )
    else:
        batch = value if sweep == "batch" else MLP_BATCH
        width = value if sweep == "width" else MLP_WIDTH
        flop, shape = mlp_flop(width), (64,)
        models = partial(glassnet_mlp, width), partial(torch_mlp, width)

    def data(n, seed=0):
        rng = np.random.default_rng(seed)
        return rng.random((n, *shape), dtype=np.float32), rng.integers(0, 10, n)

    return batch, flop, data, epochs.setups(*models, None, batch, LR)


def samples_for(batch, flop, target):
    """Enough whole batches for about ``target`` FLOP, at least 8 of them."""
    return batch * max(8, round(target / flop / batch))


def measure(sweep, value, libraries, repeat, target):
    """{library: best wall seconds a sample} and the FLOP a sample."""
    batch, flop, data, setups = point(sweep, value)
    n = samples_for(batch, flop, target)
    x, y = data(n)
    runs = {name: setups[name](x, y) for name in libraries}
    best = {name: float("inf") for name in libraries}
    for _ in range(repeat):
        for name in libraries:
            best[name] = min(best[name], timed(runs[name])[0] / n)
    return best, flop, n


def plot(results, libraries, out):
    """Time per sample (top) and fraction of the matmul rate (bottom) of each
    sweep; returns the figure."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sweeps = list(results)
    fig, axes = plt.subplots(2, len(sweeps), figsize=(4.2 * len(sweeps), 7))
    axes = np.asarray(axes).reshape(2, len(sweeps))
    labels = {"batch": "batch size", "width": "hidden width", "image": "image side"}
    for column, sweep in enumerate(sweeps):
        rows = results[sweep]
        values = [r["value"] for r in rows]
        for name in libraries:
            per_sample = [r["time"][name] * 1e6 for r in rows]
            peak = [r["peak"][name] for r in rows]
            axes[0, column].plot(values, per_sample, "o-", label=name)
            axes[1, column].plot(values, peak, "o-", label=name)
        for row in (0, 1):
            axes[row, column].set_xscale("log", base=2)
            axes[row, column].set_xlabel(labels[sweep])
            axes[row, column].grid(True, alpha=0.3)
        axes[0, column].set_yscale("log")
        axes[0, column].set_ylabel("µs per sample")
        axes[1, column].set_ylabel("fraction of numpy matmul rate")
        axes[1, column].set_ylim(bottom=0)
        axes[0, column].set_title(SWEEP_TITLES[sweep])
    axes[0, 0].legend()
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    return fig


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="three points a sweep")
    parser.add_argument("--repeat", type=int, default=None, help="best of N epochs")
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="limit BLAS (numpy) and torch to N threads (default: library defaults)",
    )
    parser.add_argument(
        "--flop", type=float, default=None, help="work per epoch (default 2e10)"
    )
    parser.add_argument("--sweeps", nargs="+", choices=list(SWEEPS), default=None)
    parser.add_argument("--out", default="bench_scaling.png", help="the plot (PNG)")
    args = parser.parse_args()
    repeat = args.repeat or (2 if args.quick else 3)
    target = args.flop or (5e9 if args.quick else 2e10)

    limit_threads(args.threads)
    libraries = ["glassnet"]
    if have("torch"):
        import torch

        libraries.append("torch eager")
        print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"numpy BLAS kernels: {epochs.blas_core()}")
    gflops = matmul_gflops()
    print(f"best of {repeat} interleaved epochs of about {target:.0e} FLOP a point")

    results, table = {}, []
    for sweep in args.sweeps or list(SWEEPS):
        points = SWEEPS[sweep][1 if args.quick else 0]
        results[sweep] = []
        for value in points:
            best, flop, n = measure(sweep, value, libraries, repeat, target)
            results[sweep].append(
                {"value": value, "time": best, "flop": flop, "samples": n}
            )
    gflops = max(gflops, matmul_gflops())  # the least-disturbed of two probes
    print(f"numpy float32 matmul: {gflops:.1f} GFLOP/s (512 x 512, best of 2 probes)")
    for sweep, rows in results.items():
        for r in rows:
            r["peak"] = {
                name: r["flop"] / t / 1e9 / gflops for name, t in r["time"].items()
            }
            cells = [sweep, r["value"], r["samples"]]
            for name in libraries:
                cells += [r["time"][name] * 1e6, f"{r['peak'][name]:.1%}"]
            if "torch eager" in libraries:
                ratio = r["time"]["glassnet"] / r["time"]["torch eager"]
                cells.append(f"{ratio:.2f}x")
            table.append(cells)
    headers = ["sweep", "point", "samples"]
    for name in libraries:
        headers += [f"{name} µs/sample", f"{name} of peak"]
    if "torch eager" in libraries:
        headers.append("glassnet/torch")
    print()
    print_table(table, headers)
    plot(results, libraries, args.out)
    print(
        f"\npoint: batch size, hidden width or image side. µs/sample = wall time "
        f"of an epoch / samples; of peak = FLOP rate / numpy's matmul rate. "
        f"Plot: {args.out}"
    )


if __name__ == "__main__":
    main()
