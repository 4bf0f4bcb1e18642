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


def _one_picture():
    """A cheap section: prints a line, returns a number and one figure."""
    import matplotlib.pyplot as plt

    from glassnet._report import Number, Picture, Shown

    print("a section with a picture")
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1], [1, 0])
    return Shown([Number("answer", "42", "42")], [Picture("line", fig, "a line")])


@pytest.fixture
def short_demo(monkeypatch, tmp_path):
    """DEMOS cut to two cheap sections, run in an empty working folder."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(
        cli, "DEMOS", [("Text", lambda: print("text only")), ("Line", _one_picture)]
    )
    return tmp_path


def test_demo_writes_its_report_to_the_default_folder(short_demo, capsys):
    assert cli.main(["demo"]) == 0
    out = capsys.readouterr().out
    folder = short_demo / cli.DEFAULT_OUT
    assert sorted(p.name for p in folder.iterdir()) == ["line.png", "report.html"]
    assert f"Report: {folder / 'report.html'}" in out
    assert "1. Text" in out and "2. Line" in out and "text only" in out
    page = (folder / "report.html").read_text()
    assert "a section with a picture" in page and "data:image/png;base64," in page


def test_demo_text_prints_only(short_demo, capsys):
    assert cli.main(["demo", "--text"]) == 0
    assert "a section with a picture" in capsys.readouterr().out
    assert list(short_demo.iterdir()) == []
    with pytest.raises(SystemExit):  # a folder and "no files" contradict
        cli.main(["demo", "--text", "--out", "x"])


def test_demo_sections_can_be_appended(short_demo, capsys):
    demos = list(cli.DEMOS) + [("Extra", lambda: print("extra section ran"))]
    cli.DEMOS[:] = demos
    cli.main(["demo", "--text"])
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
