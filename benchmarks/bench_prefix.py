"""Prefix-count benchmarks (issue: counting engine).

* ``next-digit table, 10-digit primes``: ``prefix_table(10, depth=5)`` — the next-digit counts of
  every prefix of length 0..5 (1 + 9 + 90 + ... + 90000 prefixes) from one histogram pass over
  [1e9, 1e10) — vs a plain ``count_primes`` of the same range (the floor: one sieve pass).
* ``digit_counts big window``: a 100-digit prefix with 6 digits to go (a window of 10**6
  106-digit numbers) and a 300-digit prefix with 5 to go (10**5 305-digit numbers): nextdigit
  (sieve + BPSW lanes; 1 thread on each BPSW route -- ``ifma``, ``avx2``, ``portable`` lanes,
  ``gmp`` -- and 2 threads on the default route) vs a gmpy2.is_prime loop over every number of
  the window.
"""
import gmpy2
import numpy as np
import pytest

import nextdigit

from conftest import ROUTES, bpsw_route


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("contender", ["nextdigit prefix_table depth 5", "plain count_primes"])
def test_next_digit_table_10_digits(benchmark, contender, threads):
    benchmark.group = f"next-digit table, 10-digit primes t{threads}"
    if contender == "plain count_primes":
        res = benchmark.pedantic(lambda: nextdigit.count_primes(10**9, 10**10, threads=threads, _mode="sieve"),
                                 rounds=3, iterations=1)
        assert res == 404204977
    else:
        tables = benchmark.pedantic(lambda: nextdigit.prefix_table(10, 5, threads=threads), rounds=3, iterations=1)
        assert int(tables[0].sum()) == 404204977
        assert [t.shape[0] for t in tables] == [1, 9, 90, 900, 9000, 90000]


def _prefix(digits, seed):
    rng = np.random.default_rng(seed)
    return str(int(rng.integers(1, 10))) + "".join(str(int(d)) for d in rng.integers(0, 10, size=digits - 1))


def _gmpy_window_counts(prefix, n):
    lo, hi = nextdigit.prefix.prefix_interval(prefix, n)
    width = (hi - lo) // 10
    counts = [0] * 10
    base = gmpy2.mpz(lo)
    for off in range(hi - lo):
        if gmpy2.is_prime(base + off):
            counts[off // width] += 1
    return counts


@pytest.mark.parametrize("prefix_digits,remaining", [(100, 6), (300, 5)])
@pytest.mark.parametrize(
    "contender", [f"nextdigit {r}" for r in ROUTES] + ["nextdigit 2 threads", "gmpy2 is_prime loop"]
)
def test_digit_counts_big_window(benchmark, prefix_digits, remaining, contender):
    benchmark.group = f"digit_counts {prefix_digits}-digit prefix, {remaining} to go"
    prefix = _prefix(prefix_digits, prefix_digits)
    n = prefix_digits + remaining
    if contender == "nextdigit 2 threads":
        res = benchmark.pedantic(lambda: nextdigit.digit_counts(prefix, n, threads=2).tolist(), rounds=3, iterations=1)
    elif contender.startswith("nextdigit"):
        with bpsw_route(contender.split()[1]):
            res = benchmark.pedantic(lambda: nextdigit.digit_counts(prefix, n, threads=1).tolist(), rounds=3, iterations=1)
    else:
        res = benchmark.pedantic(lambda: _gmpy_window_counts(prefix, n), rounds=1, iterations=1)
    benchmark.extra_info["primes"] = int(sum(res))
    benchmark.extra_info["window"] = 10**remaining
