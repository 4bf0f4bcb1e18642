"""Without the onnx package, exporting says how to install it."""

from __future__ import annotations

import sys

import pytest

from glassnet import layers as L
from glassnet.models import Sequential


def test_a_missing_onnx_names_the_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx: ImportError
    model = Sequential([L.Input((3,)), L.Dense(2)])
    with pytest.raises(ImportError, match=r"pip install glassnet\[onnx\]"):
        model.export(tmp_path / "m.onnx", format="onnx")
    assert not (tmp_path / "m.onnx").exists()
