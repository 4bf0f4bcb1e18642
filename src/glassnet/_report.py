"""The ``glassnet demo`` report: each section's printed text, its numbers beside
the seed lecture's, and its figures, written as PNG files and as one
self-contained ``report.html`` (every image inline as a ``data:`` URI, the
style inline, no script: the page opens anywhere, offline, and can be mailed).
"""

from __future__ import annotations

import base64
import html
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPORT_NAME = "report.html"
DPI = 100


@dataclass
class Number:
    """One quantity a section computed, with what the seed lecture printed for
    it (``seed=None`` where the lecture printed nothing) and why they may
    differ."""

    what: str
    glassnet: str
    seed: str | None = None
    note: str = ""

    @property
    def same(self) -> bool | None:
        """Whether glassnet printed the seed's value (None: nothing to compare)."""
        if self.seed is None:
            return None
        return _tokens(self.seed) == _tokens(self.glassnet)


def _tokens(text: str) -> list[str]:
    """``[ 0.1,  2]`` and ``[0.1 2]`` read alike: brackets, commas and spaces
    separate the numbers."""
    for mark in "[](),":
        text = text.replace(mark, " ")
    return text.split()


@dataclass
class Picture:
    """A matplotlib Figure a section drew, saved as ``name.png``."""

    name: str
    figure: Any
    caption: str = ""


@dataclass
class Shown:
    """What a demo section hands the report besides the text it printed:
    numbers, pictures, and HTML fragments (a model's summary table)."""

    numbers: list[Number] = field(default_factory=list)
    pictures: list[Picture] = field(default_factory=list)
    html: list[str] = field(default_factory=list)


@dataclass
class _Section:
    title: str
    text: str
    shown: Shown
    images: list[tuple[Picture, bytes]]


def close_figures(shown: Shown | None) -> None:
    """Close the figures of ``shown`` (pyplot keeps them until closed)."""
    import matplotlib.pyplot as plt

    for picture in shown.pictures if shown else ():
        plt.close(picture.figure)


class Report:
    """Collects sections as they run (saving and closing their figures at
    once, so memory stays flat) and writes ``report.html`` at the end."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.sections: list[_Section] = []
        self.files: list[Path] = []
        self._started = time.perf_counter()

    def add(self, title: str, text: str, shown: Shown | None) -> list[Path]:
        """Save the section's pictures as PNG files; returns their paths."""
        shown = shown or Shown()
        images, paths = [], []
        for picture in shown.pictures:
            path = self.folder / f"{picture.name}.png"
            if path in self.files:
                raise ValueError(f"Two pictures are named {picture.name!r}.")
            picture.figure.savefig(path, dpi=DPI, bbox_inches="tight")
            images.append((picture, path.read_bytes()))
            paths.append(path)
        close_figures(shown)
        self.files += paths
        self.sections.append(_Section(title, text, shown, images))
        return paths

    def write(self) -> Path:
        """Write ``report.html`` and return its path."""
        seconds = time.perf_counter() - self._started
        path = self.folder / REPORT_NAME
        path.write_text(render(self.sections, seconds), encoding="utf-8")
        self.files.append(path)
        return path


# --- HTML ----------------------------------------------------------------------------
STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 84em;
       padding: 0 1em; color: #222; line-height: 1.4; }
h1 { margin-bottom: 0.2em; } .meta { color: #666; margin-top: 0; }
section { border-top: 1px solid #ddd; padding-top: 0.5em; margin-top: 1.5em; }
.row { display: flex; flex-wrap: wrap; gap: 1.5em; align-items: flex-start; }
.words { flex: 1 1 34em; min-width: 0; } .pictures { flex: 1 1 34em; }
pre { background: #f6f8fa; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.92em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left;
         vertical-align: top; }
td.num { font-family: ui-monospace, monospace; }
.same { color: #1a7f37; font-weight: bold; } .differs { color: #9a6700; }
figure { margin: 0 0 1.2em 0; } figure img { max-width: 100%; height: auto; }
figcaption { color: #555; font-size: 0.9em; }
"""


def _verdict(number: Number) -> str:
    marks = {None: "", True: '<span class="same">same</span>'}
    text = marks.get(number.same, '<span class="differs">differs</span>')
    return f"{text} {html.escape(number.note)}".strip()


def _numbers_table(numbers: list[Number], sections: list[int] | None = None) -> str:
    """A table of quantities: the lecture's value, glassnet's, and the verdict
    (only glassnet's where the lecture printed none of them); with
    ``sections``, a first column linking to the section of each."""
    compared = any(n.seed is not None for n in numbers)
    head = ["quantity", "the lecture printed", "glassnet", ""]
    if not compared:
        head = ["quantity", "glassnet"]
    if sections is not None:
        head.insert(0, "§")
    rows = []
    for i, n in enumerate(numbers):
        cells = [f"<td>{html.escape(n.what)}</td>"]
        if compared:
            cells.append(f'<td class="num">{html.escape(n.seed or "")}</td>')
        cells.append(f'<td class="num">{html.escape(n.glassnet)}</td>')
        if compared:
            cells.append(f"<td>{_verdict(n)}</td>")
        if sections is not None:
            cells.insert(0, f'<td><a href="#s{sections[i]}">{sections[i]}</a></td>')
        rows.append(f"<tr>{''.join(cells)}</tr>")
    header = "".join(f"<th>{h}</th>" for h in head)
    return f"<table><tr>{header}</tr>{''.join(rows)}</table>"


def _figure(picture: Picture, png: bytes) -> str:
    data = base64.b64encode(png).decode("ascii")
    caption = html.escape(picture.caption or picture.name)
    return (
        f'<figure><img src="data:image/png;base64,{data}" '
        f'alt="{html.escape(picture.name)}">'
        f"<figcaption>{caption} <code>{picture.name}.png</code></figcaption></figure>"
    )


def render(sections: list[_Section], seconds: float) -> str:
    """The whole page: a heading, the seed's numbers next to glassnet's, a
    table of contents, then each section (text and numbers beside its figures)."""
    import matplotlib
    import numpy

    import glassnet

    versions = (
        f"glassnet {glassnet.__version__} · Python {platform.python_version()} · "
        f"NumPy {numpy.__version__} · matplotlib {matplotlib.__version__} · "
        f"{time.strftime('%Y-%m-%d %H:%M')} · ran in {seconds:.1f} s"
    )
    compared, where = [], []
    for number, section in enumerate(sections, start=1):
        for n in section.shown.numbers:
            if n.seed is not None:
                compared.append(n)
                where.append(number)
    parts = [
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>glassnet demo: the lecture, on glassnet</title><style>{STYLE}",
        "</style></head><body>",
        "<h1>The lecture, on glassnet</h1>",
        f'<p class="meta">{html.escape(versions)}</p>',
        "<p>The lecture glassnet grew out of (Neural Networks, lecture 3), run on "
        "glassnet by <code>glassnet demo</code>: each section's printed text, the "
        "numbers the lecture printed beside glassnet's, and its figures (also "
        "saved beside this page as PNG files).</p>",
    ]
    if compared:
        same = sum(bool(n.same) for n in compared)
        parts += [
            "<section id=\"numbers\"><h2>The lecture's numbers next to glassnet's</h2>",
            f"<p>{same} of {len(compared)} printed exactly as in the lecture; "
            "the others say why they differ.</p>",
            _numbers_table(compared, where),
            "</section>",
        ]
    parts.append("<nav><h2>Contents</h2><ol>")
    for number, section in enumerate(sections, start=1):
        parts.append(f'<li><a href="#s{number}">{html.escape(section.title)}</a></li>')
    parts.append("</ol></nav>")
    for number, section in enumerate(sections, start=1):
        words = [f"<pre>{html.escape(section.text.rstrip())}</pre>"]
        if section.shown.numbers:
            words.append(_numbers_table(section.shown.numbers))
        words += section.shown.html
        pictures = [_figure(picture, png) for picture, png in section.images]
        parts += [
            f'<section id="s{number}"><h2>{number}. {html.escape(section.title)}</h2>',
            f'<div class="row"><div class="words">{"".join(words)}</div>',
            f'<div class="pictures">{"".join(pictures)}</div></div></section>',
        ]
    parts.append("</body></html>\n")
    return "\n".join(parts)
