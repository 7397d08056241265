"""Counting benchmarks: nextdigit.count_primes vs the primesieve CLI, one thread each.

Groups (same interval within a group; primesieve's STOP is inclusive, so nextdigit counts
``[start, stop + 1)``):

* ``count [0,1e10]``            -- the full sieve with small sieving primes (all below 1e5);
* ``count [1e15,1e15+1e9]``     -- the full sieve where most sieving primes are big (bucket sieve);
* ``count [1e18,1e18+1e6]``     -- a short window high up: nextdigit's window mode (sieve to
  2**16 + batch BPSW) against primesieve's full sieve, which must first generate the 50 million
  sieving primes below 1e9.

nextdigit's sieving-prime cache is cleared before every round, so both sides do the whole job.
Run: ``pytest benchmarks/bench_counting.py --benchmark-enable`` (add ``--benchmark-json`` to
keep the numbers).  ``extra_info`` holds the count and ns per integer of the interval.
"""
import subprocess

import pytest

from nextdigit import counting
from nextdigit.counting import count_primes

from conftest import per_number, require_cli

CASES = {
    "count [0,1e10]": (0, 10**10, 3),
    "count [1e15,1e15+1e9]": (10**15, 10**15 + 10**9, 5),
    "count [1e18,1e18+1e6]": (10**18, 10**18 + 10**6, 10),
}
EXPECTED = {"count [0,1e10]": 455052511, "count [1e15,1e15+1e9]": 28946421, "count [1e18,1e18+1e6]": 24280}


def _cold():
    counting._clear_cache()
    from nextdigit import pi

    pi.clear_cache()
    return (), {}


@pytest.mark.parametrize("group", list(CASES))
def test_nextdigit_sieve(benchmark, group):
    """The sieve itself (mode forced: the automatic route may take prime_pi instead)."""
    start, stop, rounds = CASES[group]
    benchmark.group = group
    mode = "window" if group.startswith("count [1e18") else "sieve"
    result = benchmark.pedantic(lambda: count_primes(start, stop + 1, threads=1, _mode=mode), setup=_cold,
                                rounds=rounds, iterations=1, warmup_rounds=1)
    assert result == EXPECTED[group]
    per_number(benchmark, stop - start + 1)


@pytest.mark.parametrize("group", list(CASES))
def test_nextdigit_auto_route(benchmark, group):
    """What a user gets from count_primes: sieve, window or prime_pi differences (caches cleared)."""
    start, stop, rounds = CASES[group]
    benchmark.group = group
    result = benchmark.pedantic(lambda: count_primes(start, stop + 1, threads=1), setup=_cold,
                                rounds=rounds, iterations=1, warmup_rounds=1)
    assert result == EXPECTED[group]


@pytest.mark.parametrize("group", list(CASES))
def test_primesieve_cli(benchmark, group):
    exe = require_cli("primesieve")
    start, stop, rounds = CASES[group]
    benchmark.group = group
    cmd = [exe, str(start), str(stop), "-t1", "-c", "-q"]
    out = benchmark.pedantic(lambda: subprocess.run(cmd, capture_output=True, text=True, check=True).stdout,
                             rounds=rounds, iterations=1, warmup_rounds=1)
    assert int(out.split()[-1]) == EXPECTED[group]
    per_number(benchmark, stop - start + 1)
