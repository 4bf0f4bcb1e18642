"""Engine overhead: a chain of 20 small ops, forward + backward, on 200x16 arrays.

glassnet against the same math in raw NumPy (forward plus a hand-written
backward: the floor any engine pays for the arithmetic) and against PyTorch
eager autograd (when installed), measured in one run, in float32 and float64.

    python benchmarks/bench_engine.py [--repeat 15] [--number 100]

Targets (issue 2): glassnet / torch <= 1.0, and glassnet at most 4 µs per op
above raw NumPy.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from scipy.special import expit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import best_time, fmt_ratio, matmul_gflops, print_table  # noqa: E402

import glassnet  # noqa: E402
from glassnet import Tensor, ops  # noqa: E402

SHAPE = (200, 16)
N_OPS = 20


def make_inputs(dtype: type) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        name: rng.uniform(0.5, 1.5, SHAPE).astype(dtype)
        for name in ("x", "a", "b", "c")
    }


# --- glassnet: 19 elementwise ops and a sum ------------------------------------
def glassnet_step(x: Tensor, a: Tensor, b: Tensor, c: Tensor) -> None:
    h = x * a  # 1
    h = h + b  # 2
    h = ops.tanh(h)  # 3
    h = h * c  # 4
    h = h - a  # 5
    h = ops.sigmoid(h)  # 6
    h = h * b  # 7
    h = h + x  # 8
    h = ops.relu(h)  # 9
    h = h * 0.5  # 10
    h = -h  # 11
    h = ops.exp(h)  # 12
    h = h * a  # 13
    h = h + c  # 14
    h = ops.tanh(h)  # 15
    h = h * x  # 16
    h = h - 0.25  # 17
    h = ops.sigmoid(h)  # 18
    h = h * c  # 19
    loss = h.sum()  # 20
    x.grad = a.grad = b.grad = c.grad = None
    loss.backward()


# --- the same math in raw NumPy, with its backward written out ------------------
def numpy_step(x: np.ndarray, a: np.ndarray, b: np.ndarray, c: np.ndarray) -> tuple:
    h1 = x * a
    h2 = h1 + b
    h3 = np.tanh(h2)
    h4 = h3 * c
    h5 = h4 - a
    h6 = expit(h5)  # ops.sigmoid's forward (scikit-learn's logistic)
    h7 = h6 * b
    h8 = h7 + x
    h9 = np.maximum(h8, 0)
    h10 = h9 * 0.5
    h11 = -h10
    h12 = np.exp(h11)
    h13 = h12 * a
    h14 = h13 + c
    h15 = np.tanh(h14)
    h16 = h15 * x
    h17 = h16 - 0.25
    h18 = expit(h17)
    h19 = h18 * c
    h19.sum()
    g = np.ones_like(h19)
    gc = g * h18
    g = g * c
    g = g * h18 * (1.0 - h18)
    gx = g * h15
    g = g * x
    g = g * (1.0 - h15 * h15)
    gc = gc + g
    ga = g * h12
    g = g * a
    g = g * h12
    g = -g
    g = g * 0.5
    g = g * (h9 > 0)
    gx = gx + g
    gb = g * h6
    g = g * b
    g = g * h6 * (1.0 - h6)
    ga = ga - g
    gc = gc + g * h3
    g = g * c
    g = g * (1.0 - h3 * h3)
    gb = gb + g
    ga = ga + g * x
    gx = gx + g * a
    return gx, ga, gb, gc


# --- PyTorch eager ----------------------------------------------------------------
def torch_step(torch, x, a, b, c) -> None:
    h = x * a
    h = h + b
    h = torch.tanh(h)
    h = h * c
    h = h - a
    h = torch.sigmoid(h)
    h = h * b
    h = h + x
    h = torch.relu(h)
    h = h * 0.5
    h = -h
    h = torch.exp(h)
    h = h * a
    h = h + c
    h = torch.tanh(h)
    h = h * x
    h = h - 0.25
    h = torch.sigmoid(h)
    h = h * c
    loss = h.sum()
    x.grad = a.grad = b.grad = c.grad = None
    loss.backward()


def check_same_gradients(arrays: dict[str, np.ndarray]) -> None:
    """The three implementations must compute the same thing."""
    tensors = {k: Tensor(v, requires_grad=True) for k, v in arrays.items()}
    glassnet_step(**tensors)
    expected = numpy_step(**arrays)
    tol = 1e-4 if arrays["x"].dtype == np.float32 else 1e-10
    for (name, t), g in zip(tensors.items(), expected):
        np.testing.assert_allclose(t.grad, g, rtol=tol, err_msg=name)


def measure(dtype: type, repeat: int, number: int, torch) -> list:
    arrays = make_inputs(dtype)
    check_same_gradients(arrays)
    tensors = {k: Tensor(v, requires_grad=True) for k, v in arrays.items()}
    steps = {
        "numpy": lambda: numpy_step(**arrays),
        "glassnet": lambda: glassnet_step(**tensors),
    }
    if torch is not None:
        tt = {k: torch.tensor(v, requires_grad=True) for k, v in arrays.items()}
        torch_step(torch, **tt)
        glassnet_step(**tensors)
        for k, v in tt.items():
            grad = tensors[k].grad
            np.testing.assert_allclose(v.grad.numpy(), grad, rtol=1e-4, err_msg=k)
        steps["torch"] = lambda: torch_step(torch, **tt)
    # NOTE: rounds interleave the three, so a burst of load on the shared machine
    # hits all of them alike; the best round of each is reported.
    best = dict.fromkeys(steps, float("inf"))
    for _ in range(repeat):
        for name, step in steps.items():
            best[name] = min(best[name], best_time(step, repeat=1, number=number))
    per_op = {k: v / N_OPS * 1e6 for k, v in best.items()}
    t = per_op.get("torch", float("nan"))
    return [
        np.dtype(dtype).name,
        per_op["numpy"],
        per_op["glassnet"],
        t,
        per_op["glassnet"] - per_op["numpy"],
        fmt_ratio(per_op["glassnet"], t) if torch is not None else "n/a",
        fmt_ratio(per_op["glassnet"], per_op["numpy"]),
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--number", type=int, default=100)
    args = parser.parse_args(argv)
    gflops = matmul_gflops()  # before torch pins its thread count
    try:
        import torch

        # NOTE: one thread, like NumPy's elementwise loops. Arrays this small are
        # not split across threads anyway; this only keeps torch's idle thread
        # pool from fighting for the shared cores (which would flatter glassnet).
        torch.set_num_threads(1)
    except ImportError:
        torch = None

    print(f"glassnet {glassnet.__version__}, numpy {np.__version__}", end="")
    print(f", torch {torch.__version__}" if torch is not None else ", torch absent")
    print(f"machine: numpy float32 matmul {gflops:.1f} GFLOP/s")
    print(
        f"chain of {N_OPS} ops (19 elementwise + sum), forward + backward, "
        f"{SHAPE[0]}x{SHAPE[1]} arrays; µs per op, best of {args.repeat} "
        f"interleaved rounds of {args.number} steps\n"
    )
    rows = [
        measure(d, args.repeat, args.number, torch) for d in (np.float32, np.float64)
    ]
    print_table(
        rows,
        [
            "dtype",
            "numpy µs/op",
            "glassnet µs/op",
            "torch µs/op",
            "glassnet-numpy µs/op",
            "glassnet/torch",
            "glassnet/numpy",
        ],
    )
    print("\ntargets: glassnet/torch <= 1.0, glassnet-numpy <= 4 µs/op")


if __name__ == "__main__":
    main()
