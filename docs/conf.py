"""Sphinx configuration: API reference from the docstrings of the installed package, and the
ALGORITHMS page.  Build with warnings as errors (what CI runs):

    pip install ".[docs]" && sphinx-build -W --keep-going -b html docs docs/_build/html
"""
import re

import nextdigit

project = "nextdigit"
author = "the nextdigit developers"
copyright = "2026, the nextdigit developers"
release = version = nextdigit.__version__

extensions = ["sphinx.ext.autodoc", "sphinx.ext.napoleon", "sphinx.ext.mathjax"]
exclude_patterns = ["_build"]
html_theme = "alabaster"
autodoc_member_order = "bysource"
autodoc_default_options = {"show-inheritance": False}
napoleon_numpy_docstring = True
napoleon_google_docstring = False
nitpicky = False

_HEADING = re.compile(r"^(\s*)(\S[^\n]*)\n\1(-{3,}|={3,}|~{3,})\s*$", re.M)


def _headings_to_rubrics(app, what, name, obj, options, lines):
    """Module docstrings use underlined headings ("Routes and limits\\n-----"), which docutils
    refuses inside an autodoc directive; render them as rubrics instead (napoleon's own
    sections, such as Parameters and Returns, are left to napoleon)."""
    text = "\n".join(lines)
    keep = {"Parameters", "Returns", "Raises", "Examples", "Notes", "References", "See Also", "Yields",
            "Attributes", "Methods", "Warnings"}

    def sub(m):
        indent, title = m.group(1), m.group(2).strip()
        if title in keep:
            return m.group(0)
        return f"{indent}.. rubric:: {title}\n"

    new = _HEADING.sub(sub, text)
    if new != text:
        lines[:] = new.split("\n")


def setup(app):
    app.connect("autodoc-process-docstring", _headings_to_rubrics, priority=400)
