"""The floors of the package keep their promises (docs/ARCHITECTURE.md).

- every Function lives in ``glassnet.ops`` (the plain, readable ops) or
  ``glassnet.runtime`` (their fast twins), except in a front end that says why;
- a plain op fits on one screen;
- performance policy stays inside ``glassnet.runtime``: no layer flags, no
  imports of the runtime's private modules from elsewhere;
- ``trainer.py`` holds the loops, not the data handling or the containers.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest

import glassnet
from glassnet.autograd import Function

PACKAGE = Path(glassnet.__file__).parent
#: Front-end modules allowed to define a Function, with the reason in the code.
FRONT_END_FUNCTIONS = {"glassnet.sklearn._losses", "glassnet.cli"}


def _modules():
    for info in pkgutil.walk_packages([str(PACKAGE)], prefix="glassnet."):
        if info.name != "glassnet.__main__":  # running it runs the command line
            yield importlib.import_module(info.name)


def _all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


def _sources():
    return sorted(PACKAGE.rglob("*.py"))


def test_every_function_lives_in_ops_or_runtime():
    list(_modules())
    misplaced = sorted(
        f"{cls.__module__}.{cls.__qualname__}"
        for cls in _all_subclasses(Function)
        if cls.__module__.startswith("glassnet.")
        and not cls.__module__.startswith(("glassnet.ops", "glassnet.runtime"))
        and cls.__module__ not in FRONT_END_FUNCTIONS
    )
    assert misplaced == []


@pytest.mark.parametrize("module", sorted(FRONT_END_FUNCTIONS))
def test_a_front_end_function_says_why_it_is_not_in_ops(module):
    source = inspect.getsource(importlib.import_module(module))
    assert re.search(r"not in (glassnet\.)?ops/? on purpose", source, re.IGNORECASE)


def test_plain_ops_fit_on_one_screen():
    list(_modules())
    long = {}
    for cls in _all_subclasses(Function):
        if cls.__module__.startswith("glassnet.ops"):
            lines = len(inspect.getsource(cls).splitlines())
            if lines > 65:
                long[f"{cls.__module__}.{cls.__qualname__}"] = lines
    assert long == {}


def test_performance_policy_stays_in_runtime():
    offenders = []
    for path in _sources():
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] == "runtime":
            continue
        text = path.read_text()
        private_runtime = r"glassnet\.runtime\._|runtime import _|ops\._parallel"
        if "batch_parallel" in text or re.search(private_runtime, text):
            offenders.append(str(relative))
    assert offenders == []


def test_trainer_keeps_the_loops_only():
    lines = (PACKAGE / "models" / "trainer.py").read_text().splitlines()
    assert len(lines) <= 360
