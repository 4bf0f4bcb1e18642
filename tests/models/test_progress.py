"""Progress output of fit / evaluate / predict for each verbose setting."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest

from glassnet.layers import Dense
from glassnet.models import Sequential
from glassnet.models.progress import Progbar


def _fit(verbose, capsys, **kwargs):
    model = Sequential([Dense(1, input_dim=2)])
    model.compile("sgd", "mse", metrics=["mae"])
    x = np.ones((70, 2), dtype="float32")
    model.fit(x, np.ones(70), epochs=2, batch_size=10, verbose=verbose, **kwargs)
    return capsys.readouterr().out


def test_verbose_1_draws_a_bar_per_epoch(capsys):
    out = _fit(1, capsys, validation_split=0.2)
    assert out.count("Epoch 1/2\n") == 1 and "Epoch 2/2\n" in out
    line = r"6/6 ━{20} 0s \d+(us|ms)/step - loss: \d\.\d{4} - mae: \d\.\d{4} - "
    line += r"val_loss: \d\.\d{4} - val_mae: \d\.\d{4}\n"
    assert len(re.findall(line, out)) == 2


def test_verbose_2_prints_one_line_per_epoch(capsys):
    out = _fit(2, capsys)
    lines = out.splitlines()
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2" and len(lines) == 4
    assert re.fullmatch(r"7/7 - 0s - \d+(us|ms)/step - loss: \S+ - mae: \S+", lines[1])


@pytest.mark.parametrize("verbose", [0, False])
def test_verbose_0_prints_nothing(verbose, capsys):
    assert _fit(verbose, capsys) == ""


def test_auto_is_1_and_predict_shows_one_bar(capsys):
    assert "━" in _fit("auto", capsys)
    model = Sequential([Dense(1, input_dim=2)])
    model.predict(np.ones((3, 2)))
    assert re.fullmatch(r"1/1 ━{20} 0s \d+(us|ms)/step\n", capsys.readouterr().out)


def test_bar_redraws_in_place_on_a_terminal():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    stream = Terminal()
    bar = Progbar(4, stream=stream, interval=0)
    bar.update(2, {"loss": 0.5})
    bar.update(4, {"loss": 0.25}, finalize=True)
    text = stream.getvalue()
    assert text.count("\r") == 2 and text.endswith("\n")
    assert "\x1b[32m━━━━━━━━━━\x1b[0m" in text  # half done, in green


def test_bad_verbose_is_rejected():
    model = Sequential([Dense(1, input_dim=2)])
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match="verbose=3"):
        model.fit(np.ones((2, 2)), np.ones(2), verbose=3)
