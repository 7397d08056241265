"""Every ``>>>`` example in the package's docstrings runs (against the installed package).

The modules are found by walking the installed ``nextdigit`` (so the examples run against the
built kernels, not a source tree without them); each module's examples run with ``doctest`` and a
failure shows doctest's own report.  A guard checks that examples were found at all, so a broken
walk cannot pass silently.
"""
from __future__ import annotations

import doctest
import importlib
import io
import pkgutil

import pytest

import nextdigit

MODULES = ["nextdigit"] + sorted(
    info.name for info in pkgutil.walk_packages(nextdigit.__path__, prefix="nextdigit.")
    if not info.name.endswith("__main__")
)
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _tests(name):
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    return [t for t in finder.find(module, name) if t.examples]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    out = io.StringIO()
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    for t in _tests(name):
        runner.run(t, out=out.write)
    res = runner.summarize(verbose=False)
    assert res.failed == 0, out.getvalue()


def test_examples_are_found():
    total = sum(len(t.examples) for name in MODULES for t in _tests(name))
    assert total >= 20, f"only {total} docstring examples found: is the module walk broken?"
