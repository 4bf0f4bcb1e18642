"""examples/digits_cnn.py: a shortened run learns the held-out digits."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

pytest.importorskip("sklearn")
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "digits_cnn.py"


def _load_example():
    spec = importlib.util.spec_from_file_location("digits_cnn", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_data_split_is_the_stratified_quarter():
    x_train, x_test, y_train, y_test = _load_example().load_data()
    assert x_train.shape == (1347, 8, 8, 1) and x_test.shape == (450, 8, 8, 1)
    assert x_train.dtype == "float32" and 0 <= x_train.min() and x_train.max() <= 1
    assert sorted(set(y_test)) == list(range(10))


def test_short_run_learns_digits(capsys):
    # 3 of the full run's 20 epochs: chance is 10%; this gets ~95%.
    accuracy = _load_example().main(epochs=3)
    assert accuracy > 0.85
    assert "test accuracy" in capsys.readouterr().out
