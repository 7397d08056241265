"""prime_pi benchmarks: nextdigit (1 and 2 threads) against primecount (library and CLI, one
thread) and sympy, one group per x so the ratios are read off one run:

    pytest benchmarks/bench_pi.py --benchmark-only --benchmark-enable -p no:randomly

The pi cache (values and tables) is cleared before every timed call, so every round does the
whole computation.  primecount's CLI time includes process start-up (~2 ms).
"""
from __future__ import annotations

import shutil
import subprocess

import pytest

from nextdigit import _pi
from nextdigit.pi import clear_cache, prime_pi

try:
    import primecountpy
except ImportError:  # pragma: no cover
    primecountpy = None

EXPECT = {10: 455052511, 12: 37607912018, 14: 3204941750802, 16: 279238341033925}
ROUNDS = {10: 7, 12: 7, 14: 5, 16: 3}


def _nd(x, threads):
    def run():
        clear_cache()
        return prime_pi(x, threads=threads)
    return run


@pytest.mark.parametrize("k", [12, 14, 16])
@pytest.mark.parametrize("threads", [1, 2])
def test_nextdigit(benchmark, k, threads):
    benchmark.group = f"pi(1e{k})"
    benchmark.extra_info.update(x=f"1e{k}", threads=threads, params=list(_pi._params(10**k)))
    got = benchmark.pedantic(_nd(10**k, threads), rounds=ROUNDS[k], iterations=1, warmup_rounds=0)
    assert got == EXPECT[k]
    stats = _pi._last_stats()
    if stats:
        benchmark.extra_info.update(leaf_tables_s=stats["leaf_tables_s"], sieve_s=stats["sieve_s"])


@pytest.mark.parametrize("k", [12, 14, 16])
def test_primecountpy(benchmark, k):
    if primecountpy is None:
        pytest.skip("primecountpy not installed")
    benchmark.group = f"pi(1e{k})"
    benchmark.extra_info.update(x=f"1e{k}", note="primecountpy (GPL peer, default threads)")
    got = benchmark.pedantic(primecountpy.prime_pi, args=(10**k,), rounds=ROUNDS[k], iterations=1)
    assert got == EXPECT[k]


@pytest.mark.parametrize("k", [12, 14, 16])
def test_primecount_cli_t1(benchmark, k):
    exe = shutil.which("primecount") or ("/usr/bin/primecount" if shutil.which("/usr/bin/primecount") else None)
    if exe is None:
        pytest.skip("primecount CLI not installed")
    benchmark.group = f"pi(1e{k})"
    benchmark.extra_info.update(x=f"1e{k}", note="primecount CLI -t1 (includes process start)")

    def run():
        out = subprocess.run([exe, f"1e{k}", "-t1"], capture_output=True, text=True, check=True)
        return int(out.stdout.split()[-1])

    got = benchmark.pedantic(run, rounds=ROUNDS[k], iterations=1)
    assert got == EXPECT[k]


def test_nextdigit_1e10(benchmark):
    benchmark.group = "pi(1e10)"
    got = benchmark.pedantic(_nd(10**10, 1), rounds=ROUNDS[10], iterations=1)
    assert got == EXPECT[10]


def test_sympy_1e10(benchmark):
    sympy = pytest.importorskip("sympy")
    benchmark.group = "pi(1e10)"
    got = benchmark.pedantic(lambda: int(sympy.primepi(10**10)), rounds=1, iterations=1)
    assert got == EXPECT[10]
