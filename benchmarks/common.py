"""Shared helpers for the benchmarks: timing, a machine-speed probe, tables.

Benchmarks always run glassnet and its peers in the same process and report
ratios, because the machine is shared and absolute timings are noisy.

Stable API (other benchmarks import it)::

    best_time(fn, repeat=3, number=1) -> float      # seconds per call, best run
    matmul_gflops(n=512, dtype=np.float32) -> float # NumPy matmul speed
    blas_info() -> str                              # NumPy's BLAS, kernel, threads
    print_table(rows, headers) -> None              # aligned plain-text table
    fmt_ratio(a, b) -> str                          # "1.23x", safe for b == 0
    have(module) -> bool                            # importable (a peer installed)
    timed(fn) -> (wall s, CPU s)                    # one call, both clocks
    limit_threads(threads) -> None                  # BLAS and torch to N threads
    peak_memory(script, library, threads) -> dict   # a memory child's result
    memory_child(setup, traced) -> dict             # what that child measures
    mib(n) -> str                                   # bytes as "12.3" MiB
    OtherLoad() -> .stop() -> str                   # other processes' CPU use
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "OtherLoad",
    "best_time",
    "blas_info",
    "fmt_ratio",
    "have",
    "limit_threads",
    "matmul_gflops",
    "memory_child",
    "mib",
    "peak_memory",
    "print_table",
    "timed",
]


def best_time(fn: Callable[[], Any], repeat: int = 3, number: int = 1) -> float:
    """Best (minimum) seconds per call of ``fn()`` over ``repeat`` runs.

    Each run calls ``fn`` ``number`` times and divides by ``number``; the
    minimum over runs is the least-disturbed measurement on a shared machine.
    """
    if repeat < 1 or number < 1:
        raise ValueError(
            "best_time needs repeat >= 1 and number >= 1. "
            f"Received: repeat={repeat}, number={number}"
        )
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - start) / number)
    return best


def matmul_gflops(n: int = 512, dtype: Any = np.float32, repeat: int = 5) -> float:
    """GFLOP/s of an ``(n, n) @ (n, n)`` NumPy matmul (2 n^3 flops), best of runs."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n)).astype(dtype)
    b = rng.standard_normal((n, n)).astype(dtype)
    a @ b  # warm-up: BLAS thread start, page faults
    seconds = best_time(lambda: a @ b, repeat=repeat)
    return 2.0 * n**3 / seconds / 1e9


def blas_info() -> str:
    """NumPy's BLAS as threadpoolctl sees it: library, version, the kernel it
    runs (OpenBLAS's ``architecture``: ``OPENBLAS_CORETYPE`` changes it) and
    its threads; the two OpenBLAS variables when set."""
    import os

    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (threadpoolctl is not installed)"
    found = [
        f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture')} "
        f"kernel, {i.get('num_threads')} threads)"
        for i in threadpool_info()
        if i.get("user_api") == "blas" and "numpy" in i.get("filepath", "")
    ] or ["not found"]
    env = [
        f"{k}={os.environ[k]}"
        for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
        if k in os.environ
    ]
    return ", ".join(found) + (f"; {' '.join(env)}" if env else "")


def have(module: str) -> bool:
    """Whether ``module`` imports (a peer library is installed and works)."""
    try:
        __import__(module)
    except Exception:  # noqa: BLE001  (any import failure means "not available")
        return False
    return True


def fmt_ratio(a: float, b: float) -> str:
    """``a / b`` formatted as ``"1.23x"`` (``"inf"`` when ``b`` is 0)."""
    if b == 0:
        return "inf"
    return f"{a / b:.2f}x"


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e5 else f"{value:.3e}"
    return str(value)


def print_table(rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> None:
    """Print ``rows`` under ``headers`` as an aligned plain-text table.

    Floats are shown with 4 significant digits; everything else with ``str``.
    The first column is left-aligned, the rest right-aligned.
    """
    cells = [[_cell(v) for v in row] for row in rows]
    for row in cells:
        if len(row) != len(headers):
            raise ValueError(
                f"Every row needs {len(headers)} cells to match the headers. "
                f"Received: row={row}"
            )
    widths = [
        max([len(h)] + [len(row[i]) for row in cells]) for i, h in enumerate(headers)
    ]

    def line(values: Sequence[str]) -> str:
        parts = [
            v.ljust(w) if i == 0 else v.rjust(w)
            for i, (v, w) in enumerate(zip(values, widths))
        ]
        return "  ".join(parts).rstrip()

    print(line(list(headers)))
    print(line(["-" * w for w in widths]))
    for row in cells:
        print(line(row))


def timed(fn: Callable[[], Any]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of one call of ``fn()``."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


class OtherLoad:
    """How many cores the machine's *other* processes kept busy between
    construction and :meth:`stop`: the CPU time ``/proc/stat`` counts for all
    processes, less this process's own. On a shared machine a peer's threads
    (or BLAS's) that wait for a busy core can slow a run many times over, so a
    benchmark prints this next to its timings."""

    def __init__(self) -> None:
        self._start = self._sample()

    @staticmethod
    def _sample() -> tuple[float, float, float] | None:
        try:
            fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
        except OSError:  # no /proc (not Linux)
            return None
        ticks = [int(v) for v in fields]
        busy = sum(ticks) - ticks[3] - ticks[4]  # all but idle and iowait
        busy /= os.sysconf("SC_CLK_TCK")
        return time.perf_counter(), time.process_time(), busy

    def stop(self) -> str:
        """A line such as ``other processes: 0.9 of 2 cores busy``."""
        end = self._sample()
        if self._start is None or end is None:
            return "other processes: unknown"
        wall = end[0] - self._start[0]
        others = (end[2] - self._start[2]) - (end[1] - self._start[1])
        cores = max(0.0, others / wall) if wall > 0 else 0.0
        return f"other processes: {cores:.1f} of {os.cpu_count()} cores busy"


def limit_threads(threads: int | None) -> None:
    """Limit BLAS (NumPy's, through threadpoolctl) and torch to ``threads``
    threads; ``None`` leaves every library at its default."""
    if threads:
        from threadpoolctl import threadpool_limits

        threadpool_limits(threads)
        try:
            import torch

            torch.set_num_threads(threads)
        except ImportError:
            pass


# --- peak memory, in a fresh child process per library ---------------------------
def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def memory_child(
    setup: Callable[[Callable[[], None]], Callable[[], Any]], traced: bool = False
) -> dict:
    """In a memory child (see :func:`peak_memory`): ``setup(ready)`` imports
    the library, converts the data, calls ``ready()``, builds and warms up
    the model, and returns ``run_epoch``. Returns, in bytes (None without
    /proc), the peak resident set during one ``run_epoch()`` less

    - "rss": the resident set just before the epoch (its growth), and
    - "held": the resident set at ``ready()``: the model, its optimizer
      state and whatever the library kept from the warm-up (caches, reused
      buffers) on top of the epoch's growth.

    With ``traced``, also "traced": the peak of NumPy allocations made during
    another epoch, as ``tracemalloc`` sees them."""
    result: dict[str, Any] = {"rss": None, "held": None}
    marks: dict[str, int] = {}

    def ready() -> None:
        with contextlib.suppress(OSError):
            marks["rss"] = _status_kib("VmRSS")

    run_epoch = setup(ready)
    try:
        Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to VmRSS
        before = _status_kib("VmRSS")
        run_epoch()
        peak = _status_kib("VmHWM")
        result["rss"] = (peak - before) * 1024
        result["held"] = (peak - marks["rss"]) * 1024
    except (OSError, KeyError):  # no /proc (not Linux): skip the RSS number
        pass
    if traced:
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        run_epoch()
        result["traced"] = tracemalloc.get_traced_memory()[1] - base
        tracemalloc.stop()
    return result


def peak_memory(script: str, library: str, threads: int | None, *args: str) -> dict:
    """Run ``script --memory-child library [--threads N] *args`` in a fresh
    process and return the JSON object its last line prints (the script calls
    :func:`memory_child` there)."""
    command = [sys.executable, script, "--memory-child", library, *args]
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


def mib(n: float | None) -> str:
    """Bytes as MiB with one decimal ("n/a" for None)."""
    return "n/a" if n is None else f"{n / 2**20:.1f}"
