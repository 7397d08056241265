"""Prefix counts and next-digit counts against independent references (sympy prime lists,
gmpy2 loops, ../shared/reference, primecountpy where installed)."""
from __future__ import annotations

from collections import Counter

import gmpy2
import numpy as np
import pytest
import sympy

from nextdigit.prefix import (
    digit_counts,
    digit_counts_batch,
    prefix_count,
    prefix_interval,
    prefix_table,
)

from conftest import plain_sieve, read_reference

SIEVE = plain_sieve(10**7)
PRIMES = np.flatnonzero(SIEVE)


def brute_digit_counts(prefix: str, digits: int, base: int = 10) -> list[int]:
    lo, hi = prefix_interval(prefix, digits, base)
    ps = [int(p) for p in PRIMES[(PRIMES >= lo) & (PRIMES < hi)]]
    k = len(prefix)
    c = Counter(np.base_repr(p, base).lower()[k] for p in ps)
    return [c.get(np.base_repr(d, base).lower(), 0) for d in range(base)]


def test_ndigit_counts_match_reference():
    rows = {int(n): int(c) for n, c in read_reference("ndigit_prime_counts.tsv")}
    for n in range(1, 10):
        assert prefix_count("", n) == rows[n]
        assert int(digit_counts("", n).sum()) == rows[n]


def test_random_prefixes_against_brute_force():
    rng = np.random.default_rng(12)
    for _ in range(200):
        n = int(rng.integers(1, 8))
        k = int(rng.integers(0, n))
        v = int(rng.integers(10 ** (k - 1), 10**k)) if k else 0
        prefix = str(v) if k else ""
        got = digit_counts(prefix, n)
        assert got.dtype == np.uint64 and got.shape == (10,)
        assert got.tolist() == brute_digit_counts(prefix, n)
        assert int(got.sum()) == prefix_count(prefix, n)
        assert prefix_count(prefix, n) == sum(prefix_count(prefix + str(d), n) for d in range(10) if prefix + str(d) != "0")


@pytest.mark.parametrize("base", [2, 3, 7, 16, 36])
def test_other_bases(base):
    rng = np.random.default_rng(base)
    for _ in range(40):
        n = int(rng.integers(2, 8 if base > 7 else 14))
        if base**n > 10**7:
            continue
        k = int(rng.integers(0, n))
        v = int(rng.integers(base ** (k - 1), base**k)) if k else 0
        prefix = np.base_repr(v, base).lower() if k else ""
        assert digit_counts(prefix, n, base).tolist() == brute_digit_counts(prefix, n, base)
    bits10 = [p for p in sympy.primerange(512, 1024)]
    assert prefix_count("", 10, 2) == len(bits10) == 75
    assert prefix_count("11", 10, 2) == sum(1 for p in bits10 if p >= 768)


def test_batch_contiguous_and_scattered():
    pre = [str(v) for v in range(3000, 3200)]
    batch = digit_counts_batch(pre, 7)
    assert batch.shape == (200, 10)
    for i in (0, 57, 199):
        assert batch[i].tolist() == brute_digit_counts(pre[i], 7)
    scattered = ["1", "23", "999", "", "4000", "4001", "77"]
    b2 = digit_counts_batch(scattered, 6)
    for i, p in enumerate(scattered):
        assert b2[i].tolist() == digit_counts(p, 6).tolist()
    assert digit_counts_batch([], 5).shape == (0, 10)
    assert digit_counts_batch([123, "124"], 6).tolist() == digit_counts_batch(["123", "124"], 6).tolist()


def test_prefix_table_levels():
    tables = prefix_table(7, 3)
    assert [t.shape for t in tables] == [(1, 10), (9, 10), (90, 10), (900, 10)]
    assert int(tables[0].sum()) == 586081
    for k in range(1, 4):
        for row in (0, len(tables[k]) // 2, len(tables[k]) - 1):
            prefix = str(10 ** (k - 1) + row)
            assert tables[k][row].tolist() == brute_digit_counts(prefix, 7)
        # each level is the row sums of the next one
        if k < 3:
            assert tables[k].reshape(-1).tolist() == tables[k + 1].sum(axis=1).tolist()


@pytest.mark.parametrize("digits,extra", [(20, 4), (100, 3), (600, 2)])
def test_big_prefix_windows_against_gmpy2(digits, extra):
    rng = np.random.default_rng(digits)
    prefix = str(int(rng.integers(1, 10))) + "".join(str(int(d)) for d in rng.integers(0, 10, size=digits - extra - 1))
    n = digits
    lo, hi = prefix_interval(prefix, n)
    assert hi - lo == 10**extra and lo >= 2**64
    expected = [0] * 10
    for x in range(lo, hi):
        if gmpy2.is_prime(x):
            expected[(x - lo) // 10 ** (extra - 1)] += 1
    assert digit_counts(prefix, n).tolist() == expected
    assert prefix_count(prefix, n) == sum(expected)


def test_primecountpy_agrees_on_random_prefixes_below_1e12():
    primecountpy = pytest.importorskip("primecountpy")
    rng = np.random.default_rng(99)
    for _ in range(15):
        n = int(rng.integers(8, 13))
        k = int(rng.integers(n - 4, n))  # keep the windows sieve-sized for the default suite
        v = int(rng.integers(10 ** (k - 1), 10**k))
        lo, hi = prefix_interval(str(v), n)
        ref = primecountpy.prime_pi(hi - 1) - primecountpy.prime_pi(lo - 1)
        assert prefix_count(str(v), n) == ref


@pytest.mark.parametrize(
    "call",
    [
        lambda: prefix_count("012", 5),
        lambda: prefix_count("12a", 5),
        lambda: prefix_count("123456", 5),
        lambda: prefix_count("1", 0),
        lambda: digit_counts("12345", 5),
        lambda: digit_counts("1", 5, base=1),
        lambda: digit_counts("1", 5, base=37),
        lambda: prefix_count(0, 5),
        lambda: prefix_table(5, 5),
        lambda: digit_counts("2", 5, base=2),
    ],
)
def test_bad_prefixes_raise_value_error(call):
    with pytest.raises(ValueError):
        call()


def test_bad_types():
    with pytest.raises(TypeError, match="digits"):
        prefix_count("1", 5.0)
    with pytest.raises(TypeError, match="prefix"):
        prefix_count(1.0, 5)
    with pytest.raises(TypeError, match="prefixes"):
        digit_counts_batch("123", 5)


@pytest.mark.parametrize("n", [10, pytest.param(11, marks=pytest.mark.slow)])
def test_first_digit_counts_two_ways(n):
    """pi differences (the route chosen for wide buckets) vs one sieve histogram pass."""
    from nextdigit import prime_histogram

    via_pi = digit_counts("", n)
    via_sieve = prime_histogram(10 ** (n - 1), 10 ** (n - 1), 9, _mode="sieve")
    assert via_pi[1:].tolist() == via_sieve.tolist()
    assert int(via_pi.sum()) == {10: 404204977, 11: 3663002302}[n]  # ../shared/reference/ndigit_prime_counts.tsv


@pytest.mark.parametrize("n,prefix", [(14, "1000"), pytest.param(19, "1000000", marks=[pytest.mark.slow, pytest.mark.exhaustive])])
def test_exact_prefix_counts_via_pi(n, prefix):
    """Wide prefixes go through prime_pi differences (19 digits: minutes, so slow only)."""
    from nextdigit.pi import prime_pi

    lo, hi = prefix_interval(prefix, n)
    assert prefix_count(prefix, n) == prime_pi(hi - 1) - prime_pi(lo - 1)
    # and a short 19-digit window (sieve + BPSW near 10**19) against gmpy2
    assert prefix_count("9" * 15, 19) == sum(1 for x in range(10**19 - 10**4, 10**19) if gmpy2.is_prime(x))
