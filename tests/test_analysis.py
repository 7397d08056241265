"""Distances, the block formula, Monte-Carlo TVD, uniformity tests and the experiments."""
from __future__ import annotations

import math
from collections import Counter
from fractions import Fraction

import numpy as np
import pytest
import sympy

from nextdigit import next_prime
from nextdigit.analysis import (
    block_tvd,
    exact_distribution,
    kl,
    monte_carlo_tvd,
    next_prime_after_random_tvd,
    sympy_randprime_tvd,
    tvd,
)
from nextdigit import random_primes
from nextdigit.analysis.experiments import NDIGIT_PRIME_COUNTS, first_digit, gpt4_footnote, li_tvd
from nextdigit.tasks.primes import DensityPrimeModel, RandomizedPrimeModel
from nextdigit.analysis.uniformity import max_count_pvalue, preceding_gap_test, uniformity_test

from conftest import read_reference

PRIMES6 = [str(p) for p in sympy.primerange(10**5, 10**6)]


def test_tvd_and_kl_by_hand():
    p = {"a": Fraction(1, 2), "b": Fraction(1, 2)}
    q = {"a": Fraction(1, 4), "b": Fraction(1, 4), "c": Fraction(1, 2)}
    assert tvd(p, q) == Fraction(1, 2)
    assert tvd(p, p) == 0
    assert kl(p, q) == pytest.approx(math.log(2))
    assert kl(q, p) == math.inf
    assert tvd({1: 1.0}, {2: 1.0}) == 1.0


@pytest.mark.parametrize("tail", [3])
def test_block_formula_equals_brute_force_at_6_digits(tail):
    dist = exact_distribution(DensityPrimeModel(6, tail=tail))
    u = {p: 1 / len(PRIMES6) for p in PRIMES6}
    assert block_tvd(6, tail) == pytest.approx(float(tvd(dist, u)), abs=1e-9)


@pytest.mark.slow
@pytest.mark.parametrize("tail", [1, 2])
def test_block_formula_equals_brute_force_at_6_digits_small_tails(tail):
    dist = exact_distribution(DensityPrimeModel(6, tail=tail))
    u = {p: 1 / len(PRIMES6) for p in PRIMES6}
    assert block_tvd(6, tail) == pytest.approx(float(tvd(dist, u)), abs=1e-9)


def test_block_formula_base_2_and_errors():
    assert 0 < block_tvd(16, 4, base=2) < 1
    with pytest.raises(ValueError):
        block_tvd(6, 6)


def test_monte_carlo_tvd_covers_the_exact_value():
    exact = block_tvd(6, 2)
    est, (lo, hi) = monte_carlo_tvd(DensityPrimeModel(6, tail=2), 68906, samples=1500, rng=11, z=5.0)
    assert lo <= exact <= hi
    assert abs(est - exact) < 0.05


def test_library_tvds_match_brute_force():
    a, b = 1000, 3000
    ps = list(sympy.primerange(a, b))
    c = Counter()
    for n in range(a - 1, b + 1):
        p = sympy.nextprime(n)
        c[p if p < b else sympy.prevprime(b)] += 1
    brute = 0.5 * sum(abs(c[p] / (b - a + 2) - 1 / len(ps)) for p in ps)
    assert sympy_randprime_tvd(a, b) == pytest.approx(brute, abs=1e-12)
    c = Counter(next_prime(n) for n in range(a, b))
    brute = 0.5 * (sum(abs(c[p] / (b - a) - 1 / len(ps)) for p in ps) + sum(v for k, v in c.items() if k >= b) / (b - a))
    assert next_prime_after_random_tvd(a, b) == pytest.approx(brute, abs=1e-12)


def test_uniformity_accepts_random_prime_and_rejects_sympy_randprime():
    """Power: sympy.randprime picks a prime with probability proportional to the gap before it;
    on 4-digit primes its TVD from uniform is ~0.27, so with 10**5 samples over 1061 cells the
    chi-square statistic's excess (~N * sum (p_i - u)^2 / u, in the thousands) dwarfs its null
    spread (sd ~ sqrt(2 * 1060) = 46): rejection at alpha = 1e-6 is certain, not lucky."""
    support = [int(p) for p in sympy.primerange(1000, 10000)]
    good = [int(x) for x in random_primes(4, 10**5, rng=2024)]
    r = uniformity_test(good, support)
    assert r.test == "chi-square" and r.p_value > 1e-6 and r.verdict.startswith("consistent")
    sympy.core.random.seed(5)  # sympy.randprime draws from sympy's own generator
    bad = [sympy.randprime(1000, 10000) for _ in range(10**5)]
    r = uniformity_test(bad, support)
    assert r.p_value < 1e-6 and r.verdict.startswith("rejected")


def test_uniformity_small_cells_and_collisions():
    r = uniformity_test(["a", "b", "a"], support=["a", "b", "c"], rng=1)
    assert 0 < r.p_value <= 1
    assert uniformity_test([1, 2, 99], support=[1, 2, 3]).p_value == 0.0
    gen = np.random.default_rng(1)
    r = uniformity_test(gen.integers(0, 10**12, size=2000).tolist(), support_size=10**12)
    assert r.test.startswith("collisions") and r.p_value > 1e-6
    r = uniformity_test([5] * 10 + list(range(100, 1100)), support_size=10**12)
    assert r.p_value < 1e-6
    assert max_count_pvalue(1, 10, 10**6) == 1.0


def test_preceding_gap_test_detects_next_prime_bias():
    gen = np.random.default_rng(8)
    uniform = [int(p) for p in random_primes(6, 4000, rng=gen)]
    biased = [next_prime(int(x)) for x in gen.integers(10**5, 10**6 - 100, size=4000)]
    assert preceding_gap_test(uniform, 10**5, 10**6).p_value > 1e-6
    assert preceding_gap_test(biased, 10**5, 10**6).p_value < 1e-6


def test_gpt4_footnote_rejects_uniformity():
    res = gpt4_footnote()
    ps = [r["p_value"] for r in res["rows"]]
    assert min(ps) < 1e-6
    assert len(res["answers"]) == 16


def test_li_tvd_and_first_digit_experiments():
    res = li_tvd(n_values=(6, 7), tails=(2, 3))
    assert len(res["rows"]) == 4
    for r in res["rows"]:
        assert 0 < r["tvd"] < 1 and abs(r["tvd"] - r["heuristic"]) < 0.3 * r["heuristic"]
    t = {(r["digits"], r["tail"]): r["tvd"] for r in res["rows"]}
    assert t[(6, 3)] < t[(6, 2)] / 2  # more exact digits: much closer to uniform
    fd = first_digit(n_values=(5,))["rows"][0]
    assert fd["total"] == 8363 and fd["p1"] > fd["p9"]


def test_bundled_ndigit_counts_match_reference():
    rows = {int(n): int(c) for n, c in read_reference("ndigit_prime_counts.tsv")}
    assert NDIGIT_PRIME_COUNTS == rows


def test_exact_distribution_refuses_randomized_models():
    with pytest.raises(ValueError, match="deterministic"):
        exact_distribution(RandomizedPrimeModel(3))
