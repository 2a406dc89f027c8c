"""Sphinx configuration: the user guide, results and benchmark pages, and the API reference."""

import sklearn_texture

project = "sklearn-texture"
author = "sklearn-texture developers"
release = version = sklearn_texture.__version__
extensions = [
    "myst_parser",
    "numpydoc",
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
myst_enable_extensions = ["dollarmath"]
myst_heading_anchors = 2  # links to sections of other pages (results -> calibration)
exclude_patterns = ["_build"]
numpydoc_show_class_members = False
# The same checks as tests/test_docstrings.py: no docstring, a parameter undocumented,
# unknown or without description, no Returns section.
numpydoc_validation_checks = {"GL08", "PR01", "PR02", "PR07", "RT01"}
html_theme = "alabaster"
suppress_warnings = ["myst.header"]
nitpicky = False
