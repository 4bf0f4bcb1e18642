"""``import glassnet`` stays light: what it does not import, checked in a fresh
interpreter (no wall-clock threshold: the figures are in the commit messages)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np

#: Imported only by the parts that need them, never by ``import glassnet``.
HEAVY = ("scipy", "sklearn", "matplotlib", "h5py", "torch", "keras", "threadpoolctl")


def _fresh(code: str) -> dict:
    """Run ``code`` (which prints one JSON line) in a fresh interpreter."""
    path = ":".join(p for p in sys.path if p)
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "HOME": "/tmp", "PYTHONPATH": path},
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_import_glassnet_imports_none_of_the_heavy_dependencies():
    loaded = _fresh(
        "import json, sys, glassnet\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    assert loaded == []


def test_scipy_is_imported_by_the_first_op_that_needs_it():
    from glassnet import Tensor, ops
    from glassnet.ops import _special

    x = np.linspace(-3, 3, 7)
    scipy_special = __import__("scipy.special", fromlist=["expit"])
    assert _special.expit is scipy_special.expit
    np.testing.assert_array_equal(ops.sigmoid(Tensor(x)).data, scipy_special.expit(x))
