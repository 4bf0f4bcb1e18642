"""``glassnet demo --out DIR``: every figure as PNG, one self-contained
report.html with the seed's numbers beside glassnet's, and every image of it
loaded by a real browser (headless Chromium, where installed).

The demo runs once for this module, as a user runs it: ``python -m glassnet``.
"""

from __future__ import annotations

import base64
import html
import re
import shutil
import subprocess
import sys
import time
from html.parser import HTMLParser
from types import SimpleNamespace

import pytest

from glassnet import cli

FIGURES = [
    "decision_surface.png",
    "digits_feature_maps.png",
    "digits_filters.png",
    "digits_history.png",
    "graph.png",
    "graph_arrays.png",
    "keras_history.png",
    "model_conv.png",
    "model_dense.png",
    "sklearn_loss_curve.png",
    "width_depth.png",
]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

#: quantity -> (what the seed printed, what glassnet must print beside it)
SEED_NUMBERS = {
    "MLPRegressor: n_layers_, n_outputs_": "3 1",
    "MLPRegressor: loss_": "0.065114704477",
    "MLPRegressor: predict(...)": "[ 0.01023809  1.69176755 -1.57832278]",
    "f_with_gradients(-2, 5, -4)": "(-12, [-4, -4, 3])",
    "model.count_params()": "4",
    "Dense(4) on 32×32 inputs": "4,100",
    "Conv2D(4, (3, 3)) on 32×32×1": "40",
    "Conv2D output shape": "(None, 30, 30, 4)",
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "report folder"  # a space, on purpose
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "glassnet", "demo", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    seconds = time.perf_counter() - start
    assert result.returncode == 0, result.stderr
    page = (out / "report.html").read_text(encoding="utf-8")
    return SimpleNamespace(out=out, stdout=result.stdout, page=page, seconds=seconds)


class _Page(HTMLParser):
    """The images (their attributes) and table rows (their cells' text)."""

    def __init__(self) -> None:
        super().__init__()
        self.images: list[dict] = []
        self.rows: list[list[str]] = []
        self.tags: set[str] = set()
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        if tag == "img":
            self.images.append(dict(attrs))
        elif tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def _parse(page: str) -> _Page:
    parser = _Page()
    parser.feed(page)
    return parser


def test_demo_writes_every_figure_and_the_report(demo):
    names = sorted(p.name for p in demo.out.iterdir())
    assert names == sorted(FIGURES + ["report.html"])
    report = (demo.out / "report.html").resolve()
    assert f"Report: {report}" in demo.stdout
    for name in FIGURES:
        assert f"[figure: {demo.out / name}]" in demo.stdout


def test_demo_runs_in_under_a_minute(demo):
    assert demo.seconds < 60


def test_every_image_is_an_inline_png_of_its_file(demo):
    page = _parse(demo.page)
    assert len(page.images) == len(FIGURES)
    for image in page.images:
        prefix, _, data = image["src"].partition(",")
        assert prefix == "data:image/png;base64"
        png = base64.b64decode(data, validate=True)
        assert png.startswith(PNG_SIGNATURE)
        assert png == (demo.out / f"{image['alt']}.png").read_bytes()
    # Self-contained: nothing to fetch, nothing to run.
    assert not {"script", "link", "iframe"} & page.tags
    assert not re.search(r"""(src|href)=["']?(https?:|//|file:)""", demo.page)


def test_the_report_shows_the_seeds_numbers_next_to_glassnets(demo):
    page = _parse(demo.page)
    summary = {row[1]: row[2:] for row in page.rows if len(row) == 5}
    for quantity, value in SEED_NUMBERS.items():
        seed, glassnet, verdict = summary[quantity]
        assert seed == glassnet == " ".join(value.split())
        assert verdict == "same"
    # The Keras-style model starts from other weights than the lecture's Keras:
    # its numbers sit beside the seed's, marked as differing and saying why.
    for quantity in ("Sequential: min(val_loss)", "Sequential: predict(...)"):
        seed, _, verdict = summary[quantity]
        assert seed in ("0.098530555144", "[-0.00257963 1.65783405 -1.54093742]")
        assert verdict.startswith("differs") and "initial weights" in verdict


def test_the_report_keeps_each_sections_text_and_summary_tables(demo):
    for number, (title, _) in enumerate(cli.DEMOS, start=1):
        assert f"<h2>{number}. {html.escape(title)}</h2>" in demo.page
    assert "df/dx = df/dq * dq/dx" in html.unescape(demo.page)
    assert demo.page.count('class="glassnet-summary"') == 4  # Keras-style models


def test_demo_prints_the_seed_values_and_gradients(demo):
    out = demo.stdout
    assert "f = q * z                 = -12" in out
    assert "[df/dx, df/dy, df/dz]     = [-4, -4, 3]" in out
    # The seed's scikit-learn cell, exactly, and its parameter counts explained.
    assert "loss_ = 0.065114704477 " in out
    assert "[ 0.01023809  1.69176755 -1.57832278]" in out.split("predict(")[1]
    assert "model.count_params() = 4" in out
    assert "1024 × 4 weights + 4 biases = 4,100" in out
    assert "3 × 3 × 1 × 4 weights + 4 biases = 40" in out
    assert "(None, 30, 30, 4)" in out


# --- in a browser ---------------------------------------------------------------------
#: appended to a copy of the report: once everything has loaded, each image's
#: name and natural size go into the page, where --dump-dom prints them
IMAGE_PROBE = """
<script>
window.addEventListener("load", () => {
  const pre = document.createElement("pre");
  pre.id = "image-probe";
  pre.textContent = Array.from(document.images, (img) =>
    `${img.alt} ${img.complete} ${img.naturalWidth}x${img.naturalHeight}`
  ).join("\\n");
  document.body.appendChild(pre);
});
</script>
"""


def _chromium() -> str | None:
    names = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
    return next(filter(None, map(shutil.which, names)), None)


@pytest.mark.skipif(_chromium() is None, reason="no Chromium on this machine")
def test_every_image_loads_in_headless_chromium(demo, tmp_path):
    probe = tmp_path / "report.html"  # a copy: the report itself runs no script
    probe.write_text(demo.page.replace("</body>", IMAGE_PROBE + "</body>"))
    result = subprocess.run(
        [
            _chromium(),
            "--headless",
            "--disable-gpu",
            "--no-sandbox",
            "--no-first-run",
            "--disable-dev-shm-usage",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--virtual-time-budget=10000",
            "--dump-dom",
            probe.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    found = re.search(r'<pre id="image-probe">(.*?)</pre>', result.stdout, re.S)
    assert found, f"Chromium printed no probe: {result.stderr[-2000:]}"
    loaded = {}
    for line in html.unescape(found.group(1)).splitlines():
        name, complete, size = line.split()
        width, height = map(int, size.split("x"))
        assert complete == "true" and width > 0 and height > 0, line
        loaded[f"{name}.png"] = (width, height)
    assert sorted(loaded) == FIGURES
    print("images loaded in Chromium:", loaded)
