"""Benchmark helpers: every group holds nextdigit and its peers doing the same work, so ratios
are read off one run (``pytest benchmarks/ --benchmark-only``; ``tools/bench_table.py`` turns
the JSON into the README table)."""
import shutil
from contextlib import contextmanager

import pytest


def per_number(benchmark, count: int) -> None:
    """Record ns/number in extra_info once the benchmark has run."""
    benchmark.extra_info["count"] = count
    stats = benchmark.stats.stats if benchmark.stats else None
    if stats is not None:
        benchmark.extra_info["ns_per_number_median"] = stats.median / count * 1e9


def require_cli(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} CLI not installed (apt-get install {'primesieve-bin' if name == 'primesieve' else name})")
    return path


ROUTES = ["ifma", "avx2", "portable", "gmp"]   # nextdigit._bpsw routes, fastest first


@contextmanager
def bpsw_route(name: str):
    """Run the body with ``nextdigit._bpsw.ROUTE`` forced to ``name`` (skip when this CPU cannot
    run it): the benchmark groups put every route beside the gmpy2 peer."""
    from nextdigit import _bpsw, _lanes

    if name != "gmp" and not _lanes.available(name):
        pytest.skip(f"this CPU cannot run the {name} route")
    old = _bpsw.ROUTE
    _bpsw.ROUTE = name
    try:
        yield
    finally:
        _bpsw.ROUTE = old
