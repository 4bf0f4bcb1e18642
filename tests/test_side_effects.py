"""``import glassnet`` and training a Dense model change no process-wide setting.

Run in a fresh interpreter that records, before glassnet is imported, every
process-wide setting glassnet could touch (the C allocator through ``mallopt``,
BLAS thread counts, environment variables, warning filters, NumPy's error and
print state, the interpreter's recursion limit and switch interval), then
imports glassnet, fits and predicts a Dense model, and compares. The
dependencies are imported before the first record: SciPy adds warning filters
of its own when it is imported, which is not glassnet's doing.
"""

import json
import subprocess
import sys

import pytest

pytest.importorskip("threadpoolctl")

SCRIPT = r"""
import ctypes, json, os, sys, warnings

mallopt_calls = []

class RecordingCDLL(ctypes.CDLL):
    def __getattr__(self, name):
        if name == "mallopt":
            mallopt_calls.append(name)
        return super().__getattr__(name)

    def __getitem__(self, name):
        if name == "mallopt":
            mallopt_calls.append(name)
        return super().__getitem__(name)

ctypes.CDLL = RecordingCDLL
import numpy as np
import scipy.optimize, scipy.special  # noqa: E401  (their own import-time filters)
from threadpoolctl import threadpool_info

def snapshot():
    return {
        "blas": sorted((i["filepath"], i["num_threads"]) for i in threadpool_info()),
        "environ": dict(os.environ),
        "filters": [repr(f) for f in warnings.filters],
        "seterr": np.geterr(),
        "printoptions": repr(np.get_printoptions()),
        "recursion": sys.getrecursionlimit(),
        "switch": sys.getswitchinterval(),
    }

before = snapshot()
import glassnet
from glassnet.layers import Dense
from glassnet.models import Sequential

rng = np.random.default_rng(0)
x = rng.normal(size=(256, 8)).astype("float32")
y = (x[:, 0] > 0).astype("int64")
model = Sequential([Dense(16, activation="relu", input_dim=8), Dense(2)])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
model.fit(x, y, epochs=2, batch_size=32, verbose=0)
model.predict(x, verbose=0)
after = snapshot()
# BLAS libraries loaded by glassnet's imports are compared where both see them.
blas_before = dict(before.pop("blas"))
blas_after = dict(after.pop("blas"))
changed_blas = {
    path: (blas_before[path], threads)
    for path, threads in blas_after.items()
    if path in blas_before and blas_before[path] != threads
}
changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
print(json.dumps({"changed": changed, "blas": changed_blas, "mallopt": mallopt_calls}))
"""


def test_import_and_a_dense_fit_change_no_process_wide_setting():
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp"}
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        capture_output=True,
        text=True,
        env={**env, "PYTHONPATH": ":".join(p for p in sys.path if p)},
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report == {"changed": {}, "blas": {}, "mallopt": []}
