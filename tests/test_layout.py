"""The package layout keeps its layers: data flows down, never up, and no import cycle.

Layers, bottom to top (``RANKS``): the private infrastructure ``nextdigit._util`` (validation,
threads, rng, executors) and the Cython kernels; the number-theory API (the top-level modules);
``nextdigit.models`` (the autoregressive signature); ``nextdigit.tasks``; ``nextdigit.analysis``;
``nextdigit.lm``; the CLI.  Every import in every module of the installed package — at module
level or inside a function — is read with ``ast`` and resolved to a module of the package; a
module may import only from its own layer or below, and the graph of those imports has no cycle.
Each module must also import on its own in a fresh interpreter.
"""
from __future__ import annotations

import ast
import importlib.util
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import nextdigit

PKG_DIR = Path(nextdigit.__file__).resolve().parent

NUMBER_THEORY = {"nextdigit", "nextdigit.primality", "nextdigit.counting", "nextdigit.pi", "nextdigit.nthprime",
                 "nextdigit.prefix",
                 "nextdigit.density", "nextdigit.factoring", "nextdigit.randprime", "nextdigit._bigcount",
                 "nextdigit._bpsw"}


def rank(module: str) -> int:
    """Layer of a module of the package (higher = further from the kernels)."""
    if module.startswith("nextdigit._util"):
        return 0
    if module in NUMBER_THEORY:
        return 1
    if module == "nextdigit.models":
        return 2
    if module.startswith("nextdigit.tasks"):
        return 3
    if module.startswith("nextdigit.analysis"):
        return 4
    if module.startswith("nextdigit.lm"):
        return 5
    if module in ("nextdigit.cli", "nextdigit.__main__"):
        return 6
    if module.startswith("nextdigit._"):      # a kernel (extension module): the bottom
        return 0
    raise AssertionError(f"{module} belongs to no layer: add it to tests/test_layout.py")


def python_modules() -> dict[str, Path]:
    """Every Python module of the installed package: dotted name -> file."""
    mods = {"nextdigit": PKG_DIR / "__init__.py"}
    for info in pkgutil.walk_packages([str(PKG_DIR)], prefix="nextdigit."):
        spec = info.module_finder.find_spec(info.name, None)
        origin = Path(spec.origin) if spec and spec.origin else None
        if origin is not None and origin.suffix == ".py":
            mods[info.name] = origin
    return mods


MODULES = python_modules()


def _is_module(name: str) -> bool:
    """Whether ``name`` is a module of the package (a Python file or a compiled kernel)."""
    if name in MODULES:
        return True
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, AttributeError, ValueError):   # "x.y.NAME": x.y is no package
        return False


def imports_of(module: str, path: Path) -> set[str]:
    """Modules of the package that ``module`` imports (``from pkg import name`` counts as an
    import of ``pkg.name`` when that is a module, else of ``pkg``)."""
    tree = ast.parse(path.read_text(), str(path))
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "nextdigit":
                    out.add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            if target.split(".")[0] != "nextdigit":
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                out.add(sub if _is_module(sub) else target)
    out.discard(module)
    return out


GRAPH = {m: imports_of(m, p) for m, p in MODULES.items()}


def test_every_module_is_found():
    # a sanity check on the walk itself: these exist, so a broken walk cannot pass silently
    for name in ("nextdigit.counting", "nextdigit.models", "nextdigit.tasks.primes", "nextdigit.analysis.distance",
                 "nextdigit.lm", "nextdigit._util.scale", "nextdigit.cli"):
        assert name in MODULES
    assert "nextdigit._sieve" in GRAPH["nextdigit.counting"]   # extension modules resolve too


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_only_from_its_layer_or_below(module):
    up = {dep: rank(dep) for dep in GRAPH[module] if rank(dep) > rank(module)}
    assert not up, f"{module} (layer {rank(module)}) imports from higher layers: {up}"


def test_no_import_cycle():
    state: dict[str, int] = {}      # 1 = on the stack, 2 = done
    stack: list[str] = []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for dep in sorted(GRAPH.get(m, ())):
            if dep not in GRAPH:
                continue
            if state.get(dep) == 1:
                cycle = stack[stack.index(dep):] + [dep]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if dep not in state:
                visit(dep)
        stack.pop()
        state[m] = 2

    for m in sorted(GRAPH):
        if m not in state:
            visit(m)


def test_the_check_finds_a_cycle_and_an_upward_import(tmp_path):
    # the checker itself must be able to fail: a two-module cycle and an upward import
    a = tmp_path / "a.py"
    a.write_text("from .tasks import primes\nfrom . import models\n")
    deps = imports_of("nextdigit.counting", a)
    assert "nextdigit.tasks.primes" in deps and "nextdigit.models" in deps
    assert rank("nextdigit.tasks.primes") > rank("nextdigit.counting")


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_alone_in_a_fresh_interpreter(module):
    r = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr


def test_core_never_imports_the_language_model_stack():
    code = ("import sys, nextdigit, nextdigit.models, nextdigit.tasks, nextdigit.analysis, "
            "nextdigit.analysis.experiments, nextdigit.cli, nextdigit.lm\n"
            "bad = sorted(m for m in ('torch', 'transformers', 'tokenizers') if m in sys.modules)\n"
            "print(','.join(bad))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "", f"importing nextdigit pulled in {r.stdout.strip()}"
