"""The user documentation (docs/): it builds with Sphinx with warnings as
errors, every page is reachable, the API reference covers every public module,
and the Python on the guide pages runs and prints what the pages say."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
pytestmark = pytest.mark.skipif(
    not (DOCS / "conf.py").exists(), reason="docs/ not in this checkout"
)

PAGES = [
    "index",
    "getting-started",
    "lecture",
    "keras-guide",
    "sklearn-guide",
    "saving",
    "functions",
    "performance",
    "ARCHITECTURE",
    "api/index",
]
PUBLIC_MODULES = [
    "glassnet.autograd",
    "glassnet.ops",
    "glassnet.layers",
    "glassnet.models",
    "glassnet.optimizers",
    "glassnet.losses",
    "glassnet.metrics",
    "glassnet.callbacks",
    "glassnet.activations",
    "glassnet.initializers",
    "glassnet.regularizers",
    "glassnet.saving",
    "glassnet.onnx",
    "glassnet.sklearn",
    "glassnet.plot",
    "glassnet.config",
]
#: a ```python block, at any indent (inside a list item too)
PYTHON_BLOCK = re.compile(r"^( *)```python\n(.*?)^\1```", re.S | re.M)


def test_the_docs_build_without_a_warning(tmp_path):
    pytest.importorskip("sphinx")
    pytest.importorskip("myst_parser")
    out = tmp_path / "html"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-W",  # a warning is an error ...
            "--keep-going",  # ... and all of them are reported at once
            "-q",
            "-b",
            "html",
            "-d",
            str(tmp_path / "doctrees"),
            str(DOCS),
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == ""
    for page in PAGES:
        assert (out / f"{page}.html").exists(), page
    reference = (out / "api" / "sklearn.html").read_text()
    # numpydoc attributes keep scikit-learn's trailing underscore
    assert "coefs_" in reference and "loss_curve_" in reference


def test_the_api_reference_covers_every_public_module():
    pages = "\n".join(p.read_text() for p in (DOCS / "api").glob("*.rst"))
    documented = set(re.findall(r"^\.\. automodule:: (\S+)", pages, re.M))
    assert documented == set(PUBLIC_MODULES)


@pytest.mark.parametrize(
    "page",
    sorted(p.name for p in DOCS.glob("*.md") if PYTHON_BLOCK.search(p.read_text())),
)
def test_the_python_on_each_page_runs(page, capsys):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import glassnet

    namespace: dict = {}
    text = (DOCS / page).read_text()
    # NOTE: a Dask LocalCluster's nannies set OMP_NUM_THREADS=1 (and the BLAS
    # libraries' variables) in the process that starts them.
    environment = dict(os.environ)
    try:
        for _, block in PYTHON_BLOCK.findall(text):
            exec(compile(textwrap.dedent(block), str(DOCS / page), "exec"), namespace)
    finally:
        plt.close("all")
        glassnet.config.set_fast_kernels(True)
        glassnet.config.set_kernel_threads(None)
        os.environ.clear()
        os.environ.update(environment)
    out = capsys.readouterr().out
    # What a page promises in a "# comment" beside a print, the print shows.
    for promised in re.findall(r"^\s*print\(.*?\)\s+# (.+)$", text, re.M):
        if "..." not in promised:
            assert promised.strip() in out, (page, promised)
