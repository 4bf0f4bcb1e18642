"""pyproject.toml stays honest: every dependency is imported, the license is an
SPDX string (no setuptools deprecation banner on install)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = ROOT / "pyproject.toml"
pytestmark = pytest.mark.skipif(
    not PYPROJECT.exists(), reason="pyproject.toml not in this checkout"
)

#: distribution name -> module name, where they differ
IMPORT_NAMES = {"scikit-learn": "sklearn"}


def _project() -> dict:
    return tomllib.loads(PYPROJECT.read_text())["project"]


def test_license_is_an_spdx_string():
    assert _project()["license"] == "MIT"
    build = tomllib.loads(PYPROJECT.read_text())["build-system"]["requires"]
    # setuptools reads `license = "MIT"` (PEP 639) from version 77 on.
    (setuptools,) = [r for r in build if r.startswith("setuptools")]
    assert int(re.search(r">=(\d+)", setuptools).group(1)) >= 77


def test_every_dependency_is_imported_by_the_package():
    source = "\n".join(
        path.read_text() for path in (ROOT / "src" / "glassnet").rglob("*.py")
    )
    for requirement in _project()["dependencies"]:
        name = re.match(r"[A-Za-z0-9_.-]+", requirement).group(0)
        module = IMPORT_NAMES.get(name, name).replace("-", "_")
        pattern = rf"^\s*(import|from) {module}\b"
        assert re.search(pattern, source, re.M), f"{name} is declared, not imported"
