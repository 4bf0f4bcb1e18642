"""Sphinx configuration: the user documentation, built from these Markdown pages
(MyST) and the package's docstrings (autodoc, numpydoc style read by napoleon).

Build: ``make docs`` (HTML in docs/_build/html). The tests build it with
warnings as errors (tests/test_docs.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

# The checkout's package, whatever is installed: the docs describe this tree.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import glassnet  # noqa: E402

project = "glassnet"
author = "the glassnet authors"
copyright = "the glassnet authors, MIT license"
release = version = glassnet.__version__

extensions = [
    "myst_parser",  # the pages are Markdown, readable on a forge as they are
    "sphinx.ext.autodoc",  # the API reference, from the docstrings
    "sphinx.ext.napoleon",  # numpydoc-style "Parameters / Returns" sections
    "sphinx.ext.viewcode",  # a [source] link beside each documented object
]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build"]
root_doc = "index"

myst_heading_anchors = 3  # links to a page's sections: page.md#a-heading
myst_enable_extensions = ["dollarmath"]

autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
napoleon_use_ivar = True  # "Attributes" as fields: no clash with a documented property
strip_signature_backslash = True  # napoleon then keeps the _ of coefs_, loss_

html_theme = "alabaster"  # ships with Sphinx: nothing more to install
html_title = f"glassnet {release}"
html_theme_options = {
    "description": "A neural-network library you can see through.",
    "fixed_sidebar": True,
    "page_width": "1100px",
    "sidebar_width": "240px",
}
