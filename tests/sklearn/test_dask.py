"""Searches over glassnet estimators in parallel: joblib's process pool
(``n_jobs=2``) and a Dask cluster of 2 worker processes (``dask.distributed``,
started once for this module) give the same results as ``n_jobs=1``, to the
bit; the workers run BLAS (and glassnet's kernels) on their share of the cores;
what is shipped to them is small.

The Dask tests skip cleanly where ``dask[distributed]`` is not installed.
"""

from __future__ import annotations

import functools
import logging
import os
import pickle

import joblib
import numpy as np
import pytest
import wrapper_models as wm
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV, cross_validate

from glassnet.sklearn import (
    MLPClassifier,
    MLPRegressor,
    NeuralNetClassifier,
    NeuralNetRegressor,
)

#: this process's thread settings before any cluster: a Dask nanny sets its
#: pre-spawn variables (OMP_NUM_THREADS=1, ...) in the process that starts it
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
AT_START = {name: os.environ.get(name) for name in THREAD_VARIABLES}


@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("dask.distributed")
    environment = dict(os.environ)
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()
        os.environ.clear()
        os.environ.update(environment)


ESTIMATORS = {
    "MLPClassifier": (
        MLPClassifier((4,), max_iter=15, random_state=0),
        {"hidden_layer_sizes": [(2,), (4,), (6,)], "alpha": [1e-4, 1e-2]},
    ),
    "MLPRegressor": (
        MLPRegressor(hidden_layer_sizes=(4,), max_iter=15, random_state=0),
        {"hidden_layer_sizes": [(2,), (4,)], "alpha": [1e-4, 1e-2]},
    ),
    "NeuralNetClassifier": (
        NeuralNetClassifier(
            wm.classifier, epochs=3, optimizer__learning_rate=0.05, random_state=0
        ),
        {"model__units": [2, 4, 6], "optimizer__learning_rate": [0.01, 0.05]},
    ),
    "NeuralNetRegressor": (
        NeuralNetRegressor(wm.regressor, epochs=3, random_state=0),
        {"model__units": [2, 4], "optimizer__learning_rate": [0.01, 0.05]},
    ),
}


def data(name):
    """String labels for a classifier, three targets for a regressor."""
    if name.endswith("Regressor"):
        return wm.regression(n_samples=60, n_outputs=3)
    X, y = wm.blobs(n_samples=60)
    return X, np.array(["a", "b", "c"])[y]


def run(kind, name, n_jobs):
    """The scores of one search (or cross-validation) of ``ESTIMATORS[name]``;
    ``n_jobs=None`` takes the surrounding joblib backend's. Classifiers are
    scored by log-loss and regressors by R^2: scores of many digits, so that
    "bit-identical" says something about the fits."""
    estimator, grid = ESTIMATORS[name]
    scoring = "r2" if name.endswith("Regressor") else "neg_log_loss"
    if kind == "cross_validate":
        scores = cross_validate(
            estimator, *data(name), cv=3, scoring=scoring, n_jobs=n_jobs
        )
        return {"test_score": scores["test_score"]}
    if kind == "GridSearchCV":
        search = GridSearchCV(estimator, grid, cv=3, scoring=scoring, n_jobs=n_jobs)
    else:
        search = RandomizedSearchCV(
            estimator,
            grid,
            n_iter=3,
            cv=3,
            scoring=scoring,
            random_state=0,
            n_jobs=n_jobs,
        )
    results = search.fit(*data(name)).cv_results_
    return {k: v for k, v in results.items() if "test_score" in k or "param" in k}


@functools.cache
def on_one_core(kind, name):
    return run(kind, name, n_jobs=1)


def assert_bit_identical(expected, got):
    assert expected.keys() == got.keys()
    for key, value in expected.items():
        if key.startswith("param"):
            assert list(value) == list(got[key]), key
        else:
            assert np.array_equal(value, got[key]), (key, value, got[key])


KINDS = ["GridSearchCV", "RandomizedSearchCV", "cross_validate"]
searches = pytest.mark.parametrize("name", sorted(ESTIMATORS))
kinds = pytest.mark.parametrize("kind", KINDS)
quiet = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@quiet
@searches
@kinds
def test_a_process_pool_gives_the_scores_of_one_core(kind, name):
    assert_bit_identical(on_one_core(kind, name), run(kind, name, n_jobs=2))


# --- threads: each worker uses its share of the cores ---------------------------------
def thread_report():
    """What a worker process runs BLAS and glassnet's kernels on."""
    from threadpoolctl import threadpool_info

    from glassnet.runtime import parallel

    return {
        "blas": max(info["num_threads"] for info in threadpool_info()),
        "kernels": parallel.threads_for(64),  # a batch of 64 blocks
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
    }


def test_process_pool_workers_share_the_cores():
    """joblib starts its workers with OMP_NUM_THREADS (and the BLAS
    libraries' variables) at cores // n_jobs, unless this process set them;
    glassnet's kernels follow BLAS."""
    share = AT_START["OMP_NUM_THREADS"] or str(max(1, joblib.cpu_count() // 2))
    reports = joblib.Parallel(n_jobs=2)(joblib.delayed(thread_report)() for _ in "ab")
    for report in reports:
        assert report["OMP_NUM_THREADS"] == share
        assert report["blas"] <= int(share) and report["kernels"] <= int(share)


@quiet
@searches
@kinds
def test_a_dask_cluster_gives_the_scores_of_one_core(kind, name, dask_client):
    with joblib.parallel_backend("dask"):
        assert_bit_identical(on_one_core(kind, name), run(kind, name, n_jobs=None))


def test_dask_workers_run_one_thread_each(dask_client):
    """Dask's nanny starts each worker with OMP_NUM_THREADS=1 (and MKL's,
    OpenBLAS's): one BLAS thread per worker thread, and glassnet's kernels,
    capped by BLAS's limit, one too."""
    reports = dask_client.run(thread_report)
    assert len(reports) == 2
    for report in reports.values():
        assert report == {"blas": 1, "kernels": 1, "OMP_NUM_THREADS": "1"}


# --- what is shipped ------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_estimators_ship_small(name):
    """A search ships unfitted clones (under 1 kB); a fitted estimator (what
    cross_validate(return_estimator=True) brings back) holds no data: its
    size does not grow with the number of samples."""
    estimator, _ = ESTIMATORS[name]
    assert len(pickle.dumps(estimator)) < 1_000
    sizes = []
    for n_samples in (60, 3000):
        X, y = wm.blobs(n_samples=n_samples)
        if name.endswith("Regressor"):
            X, y = wm.regression(n_samples=n_samples, n_outputs=3)
        sizes.append(len(pickle.dumps(clone(estimator).fit(X, y))))
    assert abs(sizes[0] - sizes[1]) < 16, sizes
