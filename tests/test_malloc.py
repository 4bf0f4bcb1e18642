"""glassnet keeps freed array memory for reuse (glibc only), unless told not to."""

import os
import subprocess
import sys

import pytest

from glassnet import _malloc


def _tuned_in_fresh_process(**env):
    base = {k: v for k, v in os.environ.items() if k != "GLASSNET_TUNE_MALLOC"}
    return subprocess.run(
        [sys.executable, "-c", "import glassnet; print(glassnet._malloc.MALLOC_TUNED)"],
        capture_output=True,
        text=True,
        check=True,
        env={**base, **env},
    ).stdout.strip()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")
def test_import_tunes_glibc_and_the_environment_can_say_no():
    assert _tuned_in_fresh_process() == str(_malloc.tune_malloc())
    assert _tuned_in_fresh_process(GLASSNET_TUNE_MALLOC="0") == "False"
