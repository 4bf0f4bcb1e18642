"""glassnet.sklearn against scikit-learn: the same fits, in the same process.

Cases (the issue's):
  (a) the seed's MLPRegressor, 3,200 epochs of 8 tiny batches (Python overhead);
  (b) MLPClassifier((256, 256), adam, batch_size=200, max_iter=10) on a 20k x 64
      10-class problem, float64 and float32 (BLAS-bound);
  (c) the seed's blobs classifier (early stopping, relu);
  (d) L-BFGS on the 20k data;
  (e) a grid search, 12 candidates x 3 folds of MLPClassifier (adam), with
      n_jobs=1, joblib's process pool (n_jobs=2) and a local Dask cluster of 2
      worker processes (1 thread each; as Dask starts them, then with their
      allocator tuned), in one run; its own table.

For (b) the "floor" column gives ratios no exact implementation can beat: the
bare arithmetic of the same fit (``adam_floor``) over scikit-learn's time, first
the matrix products and Adam's update only, then with all elementwise work.

Each fit is timed best-of-``--repeat`` (the two libraries alternate, so both see
the same machine load). "identical" means every entry of coefs_ and intercepts_
is equal; max |diff| is the largest difference. BLAS runs single-threaded by
default (``--threads``) so the ratios are not dominated by thread contention on a
shared machine; both libraries always run under the same limit.

For (e) the times are wall-clock (the work is in the workers), each search
best-of-``--repeat`` with the libraries alternating, after the workers have
started and imported both libraries. "speed-up" is the n_jobs=1 time over the
backend's; "same scores" compares every test score of cv_results_ with
n_jobs=1's (and glassnet's with scikit-learn's). Workers run BLAS on their
share of the cores (joblib: cores // n_jobs, Dask's nanny: 1), whatever
``--threads`` says for this process. Without dask[distributed] the Dask row
is skipped.

Run:  python benchmarks/bench_sklearn.py [--quick] [--threads N] [--repeat R]
          [--cases abcde]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

try:
    from common import fmt_ratio, matmul_gflops, print_table
except ImportError:  # pragma: no cover - run from elsewhere without common.py

    def fmt_ratio(a, b):
        return "inf" if b == 0 else f"{a / b:.2f}x"

    def matmul_gflops(n=512, dtype=np.float32, repeat=5):
        a = np.ones((n, n), dtype)
        best = min(_timed(lambda: a @ a)[1] for _ in range(repeat))
        return 2.0 * n**3 / best / 1e9

    def print_table(rows, headers):
        for row in [headers, *rows]:
            print("  ".join(str(c) for c in row))


from scipy.special import xlogy
from sklearn.datasets import make_blobs, make_classification
from sklearn.neural_network import MLPClassifier as SkClassifier
from sklearn.neural_network import MLPRegressor as SkRegressor
from threadpoolctl import threadpool_limits

from glassnet.sklearn import MLPClassifier, MLPRegressor


def _timed(fn):
    """(wall seconds, CPU seconds of this process, result) of ``fn()``."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, out


def _fit(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return estimator.fit(X, y)


def max_abs_diff(a, b) -> float:
    pairs = zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_)
    return max(float(np.max(np.abs(x - y))) for x, y in pairs)


def adam_floor(X, Y, params, full=False) -> None:
    """The arithmetic no exact implementation of a stochastic Adam fit can skip.

    Per batch: the 8 matrix products of the dense network (3 forward, 3 weight
    gradients, 2 back-propagated deltas; the first layer's input gradient is
    never needed) and Adam's update in scikit-learn's rounding (float32 weights
    step through float64), on preallocated arrays. ``full`` adds the remaining
    elementwise work of scikit-learn's step, done with NumPy as tightly as it
    goes (bias adds, in-place relus, softmax and log-loss, the L2 term and its
    gradient, relu masks, bias sums, the division by the batch size). Without
    ``full``: a lower bound on any exact fit with the same BLAS; with it: on any
    NumPy-based one. ``Y`` is the one-hot target (n_samples, n_classes).
    """
    dtype = X.dtype
    rng = np.random.default_rng(0)
    units = [X.shape[1], *params["hidden_layer_sizes"], Y.shape[1]]
    shapes = list(zip(units, units[1:]))
    n_params = sum(a * b + b for a, b in shapes)
    p, g, m, v, buf = (np.zeros(n_params, dtype) for _ in range(5))
    p[:] = rng.uniform(-0.1, 0.1, n_params)
    step = np.empty(n_params)
    kernels, biases, kernel_grads, bias_grads, start = [], [], [], [], 0
    for a, b in shapes:
        kernels.append(p[start : start + a * b].reshape(a, b))
        kernel_grads.append(g[start : start + a * b].reshape(a, b))
        start += a * b
    for _, b in shapes:
        biases.append(p[start : start + b])
        bias_grads.append(g[start : start + b])
        start += b
    alpha, eps, last = 1e-4, np.finfo(dtype).eps, len(kernels) - 1
    batch = params["batch_size"]
    for t in range(1, params["max_iter"] * (X.shape[0] // batch) + 1):
        start = (t * batch) % (X.shape[0] - batch + 1)
        h = [X[start : start + batch]]
        for i, w in enumerate(kernels):
            z = h[-1] @ w
            if full:
                z += biases[i]
                if i < last:
                    np.maximum(z, 0, out=z)
            h.append(z)
        delta = h[-1]
        if full:
            y = Y[start : start + batch]
            prob = np.exp(delta - delta.max(axis=1)[:, np.newaxis])
            prob /= prob.sum(axis=1)[:, np.newaxis]
            clipped = np.clip(prob, eps, 1 - eps)
            loss = -(np.add.reduce(xlogy(y, clipped), axis=0) / batch).sum()
            loss += 0.5 * alpha * sum(np.vdot(w, w) for w in kernels) / batch
            delta = np.subtract(prob, y, out=prob)
        for i in range(last, -1, -1):
            grad = h[i].T @ delta
            if full:
                np.multiply(kernels[i], alpha, out=kernel_grads[i])
                kernel_grads[i] += grad
                kernel_grads[i] /= batch
                np.divide(np.add.reduce(delta, axis=0), batch, out=bias_grads[i])
            if i:
                delta = delta @ kernels[i].T
                if full:
                    delta *= h[i] > 0
        m *= 0.9
        m += np.multiply(g, 0.1, out=buf)
        np.multiply(g, g, out=buf)
        buf *= 0.001
        v *= 0.999
        v += buf
        lr_t = 0.001 * np.sqrt(1 - 0.999**t) / (1 - 0.9**t)
        np.multiply(m, -lr_t, out=step)
        denominator = np.sqrt(v, out=buf)
        denominator += 1e-8
        np.divide(step, denominator, out=step)
        np.add(p, step, out=p, casting="same_kind")


def compare(name, make_ours, make_theirs, X, y, repeat, target, floors=()):
    """Fit both ``repeat`` times (alternating); one table row.

    The ratio is of CPU times (best of ``repeat``): with single-threaded BLAS
    that is the work each library does, undisturbed by other processes on a
    shared machine; best wall-clock times are printed beside them. ``floors``
    (callables) are timed too and printed as fractions of scikit-learn's time:
    ratios no implementation of their kind can beat.
    """
    wall = {"ours": np.inf, "theirs": np.inf}
    cpu = dict(wall)
    floor_cpu = [np.inf] * len(floors)
    fitted = {}
    for _ in range(repeat):
        for key, make in (("ours", make_ours), ("theirs", make_theirs)):
            w, c, fitted[key] = _timed(lambda make=make: _fit(make(), X, y))
            wall[key], cpu[key] = min(wall[key], w), min(cpu[key], c)
        for k, floor in enumerate(floors):
            floor_cpu[k] = min(floor_cpu[k], _timed(floor)[1])
    diff = max_abs_diff(fitted["ours"], fitted["theirs"])
    ratio = cpu["ours"] / cpu["theirs"]
    verdict = "" if target is None else ("ok" if ratio <= target else "MISSED")
    print("  done:", name, flush=True)
    return [
        name,
        cpu["ours"],
        cpu["theirs"],
        fmt_ratio(cpu["ours"], cpu["theirs"]),
        "-" if target is None else f"<= {target}x {verdict}",
        f"{wall['ours']:.3g} / {wall['theirs']:.3g}",
        f"{diff:.1e}",
        "yes" if diff == 0 else "no",
        fitted["ours"].n_iter_,
        " / ".join(fmt_ratio(f, cpu["theirs"]) for f in floor_cpu) or "-",
    ]


def seed_regression(quick):
    np.random.seed(12345)
    X = np.random.normal(scale=2, size=(1600, 1))
    y = X[:, 0]
    params = dict(
        hidden_layer_sizes=(1,),
        validation_fraction=0.2,
        tol=1e-9,
        max_iter=400 if quick else 3200,
        solver="sgd",
        learning_rate_init=0.001,
        momentum=0,
        activation="tanh",
        verbose=False,
        random_state=2,
    )
    return X, y, params


def big_classification(quick):
    X, y = make_classification(
        n_samples=4000 if quick else 20000,
        n_features=64,
        n_informative=40,
        n_classes=10,
        random_state=0,
    )
    return X, y


def case_a(args, repeat):
    X, y, params = seed_regression(args.quick)
    return [
        compare(
            "(a) seed regressor, sgd",
            lambda: MLPRegressor(**params),
            lambda: SkRegressor(**params),
            X,
            y,
            repeat,
            0.5,
        )
    ]


def case_b(args, repeat):
    X, y = big_classification(args.quick)
    params = dict(
        hidden_layer_sizes=(256, 256),
        solver="adam",
        batch_size=200,
        max_iter=10,
        random_state=0,
    )
    return [
        compare(
            f"(b) 256x256 adam {np.dtype(dtype).name}",
            lambda: MLPClassifier(**params),
            lambda: SkClassifier(**params),
            X.astype(dtype),
            y,
            repeat,
            0.6,
            floors=[
                lambda dtype=dtype, full=full: adam_floor(
                    X.astype(dtype), np.eye(10, dtype=dtype)[y], params, full
                )
                for full in (False, True)
            ],
        )
        for dtype in (np.float64, np.float32)
    ]


def case_c(args, repeat):
    X, y = make_blobs(n_samples=400, centers=23, random_state=42)
    y = np.take(["b", "r"], (y < 10))
    params = dict(
        hidden_layer_sizes=(40, 40, 20),
        early_stopping=True,
        validation_fraction=0.2,
        activation="relu",
        random_state=0,
    )
    return [
        compare(
            "(c) seed blobs, early stop",
            lambda: MLPClassifier(**params),
            lambda: SkClassifier(**params),
            X,
            y,
            repeat,
            None,
        )
    ]


def case_d(args, repeat):
    X, y = big_classification(args.quick)
    params = dict(
        hidden_layer_sizes=(256, 256),
        solver="lbfgs",
        max_iter=5 if args.quick else 20,
        random_state=0,
    )
    return [
        compare(
            "(d) 256x256 lbfgs float64",
            lambda: MLPClassifier(**params),
            lambda: SkClassifier(**params),
            X,
            y,
            repeat,
            None,
        )
    ]


# --- (e) a grid search on one core, a process pool and a Dask cluster ----------------
SEARCH_GRID = {
    "hidden_layer_sizes": [(32,), (64,), (32, 32)],
    "alpha": [1e-4, 1e-2],
    "learning_rate_init": [1e-3, 1e-2],
}  # 12 candidates
#: (row, n_jobs); n_jobs None: the Dask backend's. The last row runs on the
#: same workers after glassnet.config.tune_malloc() (see case_e).
BACKENDS = (
    ("n_jobs=1", 1),
    ("process pool, n_jobs=2", 2),
    ("Dask, 2 workers", None),
    ("Dask, 2 workers, tune_malloc", None),
)


def _import_both():
    """Run in each worker before timing: the imports are not the search's."""
    import sklearn.neural_network  # noqa: F401

    import glassnet.sklearn  # noqa: F401


def _search(cls, params, X, y, n_jobs):
    """(wall seconds, test scores) of one 12 x 3 grid search."""
    from sklearn.model_selection import GridSearchCV

    search = GridSearchCV(cls(**params), SEARCH_GRID, cv=3, refit=False, n_jobs=n_jobs)
    context = contextlib.nullcontext()
    if n_jobs is None:
        import joblib

        context = joblib.parallel_backend("dask")
    with warnings.catch_warnings(), context:
        warnings.simplefilter("ignore")
        wall, _, search = _timed(lambda: search.fit(X, y))
    results = search.cv_results_
    keys = sorted(k for k in results if k.startswith("split") and "test" in k)
    return wall, np.stack([results[k] for k in keys])


def _dask_cluster():
    """A local cluster of 2 worker processes, 1 thread each; None without dask."""
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        return None
    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, dashboard_address=None, silence_logs=40
    )
    client = Client(cluster)
    client.run(_import_both)
    return cluster, client


def case_e(args, repeat):
    """The grid search four ways. Dask's nanny starts its workers with
    MALLOC_TRIM_THRESHOLD_=65536: glibc then hands every freed array back to
    the system, and a fit that allocates and frees the same arrays every step
    pays page faults for them; the last row tunes the workers' allocator
    (glassnet.config.tune_malloc, for both libraries: it is process-wide)."""
    import joblib

    from glassnet.config import tune_malloc

    X, y = make_classification(
        n_samples=600 if args.quick else 3000,
        n_features=20,
        n_informative=10,
        n_classes=3,
        random_state=0,
    )
    params = dict(solver="adam", max_iter=10 if args.quick else 40, random_state=0)
    joblib.Parallel(n_jobs=2)(joblib.delayed(_import_both)() for _ in range(2))
    dask = _dask_cluster()
    rows, serial = [], {}
    try:
        for backend, n_jobs in BACKENDS:
            if n_jobs is None and dask is None:
                rows.append([backend, "-", "-", "-", "-", "dask not installed", "-"])
                continue
            if backend.endswith("tune_malloc"):
                dask[1].run(tune_malloc)
            wall, scores = {"ours": np.inf, "theirs": np.inf}, {}
            for _ in range(repeat):
                for key, cls in (("ours", MLPClassifier), ("theirs", SkClassifier)):
                    w, scores[key] = _search(cls, params, X, y, n_jobs)
                    wall[key] = min(wall[key], w)
            serial = serial or {**scores, "wall": wall}
            same = [np.array_equal(scores[k], serial[k]) for k in ("ours", "theirs")]
            rows.append(
                [
                    backend,
                    wall["ours"],
                    wall["theirs"],
                    fmt_ratio(wall["ours"], wall["theirs"]),
                    " / ".join(
                        fmt_ratio(serial["wall"][k], wall[k])
                        for k in ("ours", "theirs")
                    ),
                    " / ".join("yes" if ok else "NO" for ok in same),
                    "yes" if np.array_equal(scores["ours"], scores["theirs"]) else "no",
                ]
            )
            print("  done: (e)", backend, flush=True)
    finally:
        if dask is not None:
            dask[1].close()
            dask[0].close()
    return rows


SEARCH_HEADERS = [
    "(e) grid search 12 x 3",
    "glassnet wall s",
    "sklearn wall s",
    "ratio",
    "speed-up (gn / sk)",
    "same scores (gn / sk)",
    "gn == sk",
]


CASES = {"a": case_a, "b": case_b, "c": case_c, "d": case_d}
SEARCH_CASES = {"e": case_e}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs")
    parser.add_argument(
        "--threads", type=int, default=1, help="BLAS threads (0: BLAS's default)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="best of R fits")
    parser.add_argument("--cases", default="abcde", help="which cases, e.g. 'ae'")
    args = parser.parse_args(argv)
    repeat = 1 if args.quick else args.repeat
    unknown = set(args.cases) - set(CASES) - set(SEARCH_CASES)
    if unknown:
        parser.error(f"--cases takes letters from 'abcde'. Received: {args.cases!r}")
    keys = sorted(set(args.cases))

    with threadpool_limits(limits=args.threads or None):
        print(
            f"BLAS threads: {args.threads or 'default'}; matmul float64 "
            f"{matmul_gflops(dtype=np.float64):.1f} GFLOP/s, float32 "
            f"{matmul_gflops(dtype=np.float32):.1f} GFLOP/s"
        )
        rows = [row for key in keys if key in CASES for row in CASES[key](args, repeat)]
        search_rows = [
            row
            for key in keys
            if key in SEARCH_CASES
            for row in SEARCH_CASES[key](args, repeat)
        ]

    if rows:
        print()
        print_table(
            rows,
            [
                "case",
                "glassnet cpu s",
                "sklearn cpu s",
                "ratio",
                "target",
                "wall s (gn / sk)",
                "max |diff|",
                "identical",
                "n_iter_",
                "floor (BLAS / NumPy)",
            ],
        )
        print(
            "\nfloor: CPU time over scikit-learn's of the bare arithmetic of the "
            "same fit (adam_floor):\nBLAS = the matrix products and Adam's update "
            "only; NumPy = with every elementwise\nstep too, on preallocated "
            "arrays. No exact implementation (with the same BLAS /\nbuilt on NumPy "
            "ufuncs) can reach a lower ratio."
        )
    if search_rows:
        print()
        print_table(search_rows, SEARCH_HEADERS)
        print(
            "\n(e): wall-clock seconds, best of the repeats; speed-up = n_jobs=1's "
            "time over this row's;\nsame scores = every split's test score equals "
            "n_jobs=1's; gn == sk = glassnet's scores equal scikit-learn's."
        )


if __name__ == "__main__":
    main()
