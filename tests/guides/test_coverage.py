"""The table in ``tests/guides/__init__.py`` names tests that exist, and every
test in this folder is in it."""

from __future__ import annotations

import ast
from pathlib import Path

from guides import COVERAGE

TESTS = Path(__file__).resolve().parents[1]


def _test_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
    }


def test_every_test_the_table_names_exists():
    missing = []
    for _, _, tests in COVERAGE:
        for ref in tests:
            path, name = ref.split("::")
            if name not in _test_names(TESTS / path):
                missing.append(ref)
    assert missing == []


def test_every_guide_test_is_in_the_table():
    named = {ref for _, _, tests in COVERAGE for ref in tests}
    here = Path(__file__).parent
    unlisted = [
        f"guides/{path.name}::{name}"
        for path in sorted(here.glob("test_*.py"))
        if path.name != Path(__file__).name
        for name in sorted(_test_names(path))
        if f"guides/{path.name}::{name}" not in named
    ]
    assert unlisted == []


def test_seven_guides_each_with_features():
    guides = {guide for guide, _, _ in COVERAGE}
    assert len(guides) == 7
    assert all(tests for _, _, tests in COVERAGE)
