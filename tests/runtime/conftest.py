import pytest

from glassnet.runtime import parallel


@pytest.fixture
def small_blocks(monkeypatch):
    """Several blocks and threads even for tiny batches: ``use(1)`` gives
    blocks of one sample, ``use(10**9)`` two blocks; BLAS allows 8 threads (so
    4 kernel threads really run)."""
    monkeypatch.setattr(parallel, "MIN_ELEMENTS", 1)
    monkeypatch.setattr(parallel, "GRAIN", 2)
    monkeypatch.setattr(parallel, "blas_threads", lambda: 8)

    def use(block_bytes):
        monkeypatch.setattr(parallel, "BLOCK_BYTES", block_bytes)

    return use
