"""The ``glassnet`` command and the README's examples."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import glassnet
from glassnet import cli

README = Path(__file__).resolve().parents[1] / "README.md"


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"glassnet {glassnet.__version__}"


def test_help_lists_each_command_with_one_line(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "demo" in cli.COMMANDS
    for name, (summary, description) in cli.COMMANDS.items():
        assert re.search(rf"^    {name} +{re.escape(summary)}$", out, re.M), out
        assert "\n" not in summary and len(summary) < 60
        with pytest.raises(SystemExit):
            cli.main([name, "--help"])
        assert description[:40] in " ".join(capsys.readouterr().out.split())


def test_no_command_prints_help(capsys):
    assert cli.main([]) == 0
    assert "usage: glassnet" in capsys.readouterr().out


def test_unknown_command_is_an_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["fly"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'fly'" in capsys.readouterr().err


def test_demo_prints_the_seed_values_and_gradients(capsys):
    assert cli.main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "f = q * z                 = -12" in out
    assert "[df/dx, df/dy, df/dz]     = [-4, -4, 3]" in out
    # The seed's scikit-learn cell, exactly, and its parameter counts explained.
    assert "loss_ = 0.065114704477 " in out
    assert "[ 0.01023809  1.69176755 -1.57832278]" in out.split("predict(")[1]
    assert "model.count_params() = 4" in out
    assert "1024 × 4 weights + 4 biases = 4,100" in out
    assert "3 × 3 × 1 × 4 weights + 4 biases = 40" in out


def test_demo_sections_can_be_appended(monkeypatch, capsys):
    demos = list(cli.DEMOS) + [("Extra", lambda: print("extra section ran"))]
    monkeypatch.setattr(cli, "DEMOS", demos)
    cli.main(["demo"])
    out = capsys.readouterr().out
    assert f"{len(demos)}. Extra" in out and "extra section ran" in out


def test_python_dash_m_glassnet_runs_the_command():
    result = subprocess.run(
        [sys.executable, "-m", "glassnet", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.startswith("glassnet ")


@pytest.mark.skipif(not README.exists(), reason="README.md not in this checkout")
def test_readme_python_examples_run(capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert len(blocks) >= 2
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, str(README), "exec"), namespace)
    assert "loss after 100 steps" in capsys.readouterr().out
    assert namespace["f"].item() == -12
    assert [namespace[v].grad.item() for v in "xyz"] == [-4, -4, 3]
