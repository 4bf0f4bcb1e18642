"""Allocator tuning is an explicit opt-in: never a side effect of the import."""

import os
import subprocess
import sys

import pytest

from glassnet.runtime import memory


def _tuned_in_fresh_process(**env):
    base = {k: v for k, v in os.environ.items() if k != "GLASSNET_TUNE_MALLOC"}
    return subprocess.run(
        [sys.executable, "-c", "import glassnet; print(glassnet.runtime.MALLOC_TUNED)"],
        capture_output=True,
        text=True,
        check=True,
        env={**base, **env},
    ).stdout.strip()


def test_import_leaves_the_allocator_alone_unless_asked():
    assert _tuned_in_fresh_process() == "False"
    assert _tuned_in_fresh_process(GLASSNET_TUNE_MALLOC="0") == "False"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")
def test_the_environment_or_a_call_opts_in():
    assert _tuned_in_fresh_process(GLASSNET_TUNE_MALLOC="1") == str(
        memory.tune_malloc()
    )
