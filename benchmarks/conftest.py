"""Benchmark helpers: every group holds nextdigit and its peers doing the same work, so ratios
are read off one run (``pytest benchmarks/ --benchmark-only``; ``tools/bench_table.py`` turns
the JSON into the README table)."""
import shutil

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
