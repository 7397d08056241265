"""Polynomials with integer roots and the uniform-number baseline: exact AR model vs hidden state.

The references here are independent of the library: the law is counted over every ordered root
tuple with itertools.product, and coefficients come from elementary symmetric functions summed
over itertools.combinations (not from the library's expansion), roots from sympy.
"""
from __future__ import annotations

import itertools
import math
from collections import Counter
from fractions import Fraction

import numpy as np
import pytest
import sympy

from nextdigit.analysis import (
    exact_distribution,
    exact_distribution_hidden_seed,
    exact_distribution_hidden_stream,
    tvd,
)
from nextdigit.models import Vocabulary, generate, log_prob
from nextdigit.analysis.costs import _chi_square, uniform_cost_table
from nextdigit.analysis.costs import polyroots_cost_table as cost_table
from nextdigit.models import generate_with_hidden, generate_with_seed
from nextdigit.tasks.polyroots import (
    PolyRootsARModel,
    PolyRootsHiddenSeedModel,
    PolyRootsHiddenStreamModel,
    PolyRootsTask,
    expand_roots,
    integer_roots,
    parse_polyroots,
)
from nextdigit.tasks.uniform_number import UniformNumberHiddenSeedModel, UniformNumberModel, UniformNumberTask


# ---------------------------------------------------------------------------------------------
# independent references
# ---------------------------------------------------------------------------------------------
def reference_text(roots) -> str:
    """(c_{d-1},...,c_0,sorted roots) with c_{d-k} = (-1)^k e_k(roots), e_k by combinations."""
    d = len(roots)
    coeffs = [(-1) ** k * sum(math.prod(c) for c in itertools.combinations(roots, k)) for k in range(1, d + 1)]
    return "(" + ",".join(str(v) for v in coeffs + sorted(roots)) + ")"


def reference_texts(d, low, high) -> Counter:
    """text -> number of ordered root tuples producing it, over all of [low, high]^d."""
    return Counter(reference_text(t) for t in itertools.product(range(low, high + 1), repeat=d))


def reference_law(d, low, high) -> dict:
    counts = reference_texts(d, low, high)
    n = (high - low + 1) ** d
    return {t: Fraction(c, n) for t, c in counts.items()}


CASES = [(1, -3, 2), (2, -4, 3), (2, -12, 12), (3, -3, 3), (3, -12, -10), (3, 0, 4), (4, -2, 2), (2, 5, 5)]


# ---------------------------------------------------------------------------------------------
# exact laws
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("d,low,high", CASES)
def test_exact_laws_equal_brute_force(d, low, high):
    ref = reference_law(d, low, high)
    task = PolyRootsTask(d, low, high)
    assert len(ref) == task.num_multisets == math.comb(high - low + d, d)
    assert sum(ref.values()) == 1
    assert task.target_distribution() == ref
    ar = exact_distribution(PolyRootsARModel(task))
    hidden = exact_distribution_hidden_seed(PolyRootsHiddenSeedModel(task))
    assert ar == ref and hidden == ref
    assert tvd(ar, ref) == 0 and tvd(hidden, ar) == 0
    assert all(isinstance(p, Fraction) for p in ar.values())
    assert all(task.probability(t) == p for t, p in ref.items())


@pytest.mark.parametrize("d,low,high", [(2, -4, 3), (3, -3, 3)])
def test_hidden_stream_law(d, low, high):
    ref = reference_law(d, low, high)
    got = exact_distribution_hidden_stream(PolyRootsHiddenStreamModel(PolyRootsTask(d, low, high)))
    assert set(got) == set(ref)
    assert max(abs(got[t] - float(p)) for t, p in ref.items()) < 1e-12


def test_repeated_and_zero_roots_have_multinomial_weights():
    task = PolyRootsTask(3, -2, 2)
    law = exact_distribution(PolyRootsARModel(task))
    assert law["(0,0,0,0,0,0)"] == Fraction(1, 125)          # x^3: one tuple
    assert law["(-3,0,4,-1,2,2)"] == Fraction(3, 125)        # (x+1)(x-2)^2: three tuples
    assert law["(0,-1,0,-1,0,1)"] == Fraction(6, 125)        # x(x-1)(x+1): six tuples


def test_a_wrong_model_is_detected():
    """The checks can fail: a hidden seed uniform over multisets (the classic mistake) is at
    positive exact TVD from the target, and the chi-square check rejects it."""
    task = PolyRootsTask(2, -3, 3)
    ms = list(itertools.combinations_with_replacement(range(-3, 4), 2))
    wrong = {reference_text(m): Fraction(1, len(ms)) for m in ms}
    assert tvd(wrong, reference_law(2, -3, 3)) > Fraction(1, 10)
    gen = np.random.default_rng(5)
    keys = [reference_text(ms[int(gen.integers(len(ms)))]).split(",")[0] for _ in range(4000)]
    exact_c1 = {}
    for t, p in reference_law(2, -3, 3).items():
        exact_c1[t.split(",")[0]] = exact_c1.get(t.split(",")[0], 0) + p
    assert _chi_square(exact_c1, keys) < 1e-6
    good = [task.sample(gen).split(",")[0] for _ in range(4000)]
    assert _chi_square(exact_c1, good) > 1e-6


# ---------------------------------------------------------------------------------------------
# next-token counts
# ---------------------------------------------------------------------------------------------
def brute_counts(texts: Counter, vocab: Vocabulary, prefix: str) -> list[int]:
    c = [0] * len(vocab)
    for t, n in texts.items():
        if t == prefix:
            c[vocab.end_index] += n
        elif t.startswith(prefix):
            c[vocab.index(t[len(prefix)])] += n
    return c


@pytest.mark.parametrize("d,low,high", [(2, -12, 12), (3, -5, 5), (4, -3, 4)])
def test_next_token_counts_equal_brute_force(d, low, high):
    texts = reference_texts(d, low, high)
    task = PolyRootsTask(d, low, high)
    model = PolyRootsARModel(task)
    gen = np.random.default_rng(d * 100 + high)
    pool = sorted(texts)
    prefixes = {""}
    for _ in range(150):
        t = pool[int(gen.integers(len(pool)))]
        prefixes.add(t[: int(gen.integers(len(t) + 1))])
    for p in sorted(prefixes, key=len, reverse=True):   # any order: the model is stateless
        want = brute_counts(texts, task.vocab, p)
        assert model.next_token_counts("", p) == want, p
    assert model.next_token_counts("", "") == [0] * 11 + [task.num_tuples, 0, 0, 0]


def test_outputs_off_the_support_end():
    model = PolyRootsARModel(PolyRootsTask(2, -3, 3))
    end_only = [0] * len(model.vocab)
    end_only[model.vocab.end_index] = 1
    for bad in ["(99", "x", "(0,-16,", "(0,-2,", "(1,1,", "(0,0,1", "(0,0,0,0)7", "(-0", ")"]:
        assert model.next_token_counts("", bad) == end_only, bad
    # after a complete text the end token carries the multiplicity
    assert model.next_token_counts("", "(-2,1,1,1)") == [0] * 14 + [1]
    assert model.next_token_counts("", "(0,-4,-2,2)")[model.vocab.end_index] == 2


# ---------------------------------------------------------------------------------------------
# generated texts, log-probabilities
# ---------------------------------------------------------------------------------------------
def sympy_roots(coeffs):
    x = sympy.Symbol("x")
    poly = sympy.Poly([1] + coeffs, x)
    rs = sympy.roots(poly, multiple=True)
    return sorted(int(r) for r in rs) if len(rs) == poly.degree() and all(r.is_integer for r in rs) else None


@pytest.mark.parametrize("d,low,high", [(3, -9, 9), (4, -20, 20)])
def test_generated_texts_parse_back(d, low, high):
    task = PolyRootsTask(d, low, high)
    ar, hidden = PolyRootsARModel(task), PolyRootsHiddenSeedModel(task)
    gen = np.random.default_rng(d)
    texts = [generate(ar, "", gen) for _ in range(15)] + [generate_with_seed(hidden, rng=gen)[0] for _ in range(15)]
    texts += [generate_with_hidden(PolyRootsHiddenStreamModel(task), rng=gen)[0] for _ in range(5)]
    for t in texts:
        coeffs, roots = parse_polyroots(t, d)
        assert roots == sorted(roots) and low <= roots[0] and roots[-1] <= high
        assert sympy_roots(coeffs) == roots
        assert t == reference_text(roots)


def test_log_prob_is_multinomial_over_tuples():
    d, low, high = 3, -5, 5
    task = PolyRootsTask(d, low, high)
    model = PolyRootsARModel(task)
    texts = reference_texts(d, low, high)
    gen = np.random.default_rng(11)
    for _ in range(25):
        t = task.sample(gen)
        m = Counter(parse_polyroots(t, d)[1])
        multinomial = math.factorial(d) // math.prod(math.factorial(k) for k in m.values())
        assert multinomial == texts[t]
        logp, exact = log_prob(model, "", t)
        assert exact == Fraction(multinomial, 11**d)
        assert logp == pytest.approx(math.log(multinomial / 11**d), abs=1e-12)
    assert log_prob(model, "", "(0,0,0,0,0,9)") == (-math.inf, 0)


def test_integer_roots_against_sympy():
    gen = np.random.default_rng(3)
    for _ in range(60):
        d = int(gen.integers(1, 6))
        roots = sorted(int(r) for r in gen.integers(-30, 31, size=d))
        coeffs = expand_roots(roots)
        assert integer_roots(coeffs) == roots == sympy_roots(coeffs)
    for coeffs in ([0, 1], [0, -2], [1, 1], [-3, 0, 4, 1], [0, 0, 0, 2]):   # do not split over Z
        assert integer_roots(coeffs) is None and sympy_roots(coeffs) is None
    assert integer_roots([0, 0, 0]) == [0, 0, 0]


def test_huge_roots_with_the_hidden_seed_model():
    task = PolyRootsTask(3, -10**9, 10**9)
    hidden = PolyRootsHiddenSeedModel(task)
    assert hidden.seed_space == (2 * 10**9 + 1) ** 3
    text, seed = generate_with_seed(hidden, rng=7)
    coeffs, roots = parse_polyroots(text, 3)
    assert sorted(hidden.roots(seed)) == roots and sympy_roots(coeffs) == roots


# ---------------------------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("args,exc,name", [
    ((0, -3, 3), ValueError, "degree"),
    ((-1, -3, 3), ValueError, "degree"),
    ((1000, -3, 3), ValueError, "degree"),
    ((2, 3, 1), ValueError, "low"),
    ((2.0, -3, 3), TypeError, "degree"),
    ((2, -3.0, 3), TypeError, "low"),
    ((2, -3, 3.5), TypeError, "high"),
    ((True, -3, 3), TypeError, "degree"),
    ((2, False, 3), TypeError, "low"),
    ((2, np.bool_(True), 3), TypeError, "low"),
    ((2, -10**10, 3), ValueError, "low"),
    ((2, 0, 10**12), ValueError, "high"),
])
def test_task_rejects_bad_arguments(args, exc, name):
    with pytest.raises(exc, match=name):
        PolyRootsTask(*args)


def test_ar_model_refuses_huge_tables():
    with pytest.raises(ValueError, match="degree=4, low=-1000, high=1000"):
        PolyRootsARModel(PolyRootsTask(4, -1000, 1000))
    with pytest.raises(ValueError, match="degree=200"):
        PolyRootsARModel(PolyRootsTask(200, 0, 1))            # tiny table, 2**200 tuples
    with pytest.raises(TypeError, match="task"):
        PolyRootsARModel((2, -3, 3))
    with pytest.raises(ValueError, match="seed"):
        PolyRootsHiddenSeedModel(PolyRootsTask(2, -3, 3)).roots(49)
    with pytest.raises(ValueError, match="max_outcomes"):
        PolyRootsTask(6, -50, 50).target_distribution()
    np.testing.assert_array_equal(PolyRootsTask(np.int64(2), np.int32(-3), 3).num_tuples, 49)


# ---------------------------------------------------------------------------------------------
# the uniform baseline
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("digits,base", [(1, 10), (3, 10), (5, 2), (2, 16), (3, 7)])
def test_uniform_baseline_exact(digits, base):
    lo, hi = base ** (digits - 1), base**digits
    ref = {np.base_repr(x, base).lower(): Fraction(1, hi - lo) for x in range(lo, hi)}
    assert UniformNumberTask(digits, base).target_distribution() == ref
    ar = exact_distribution(UniformNumberModel(digits, base))
    hidden = exact_distribution_hidden_seed(UniformNumberHiddenSeedModel(digits, base))
    assert ar == ref and hidden == ref and tvd(ar, hidden) == 0
    model = UniformNumberModel(digits, base)
    for text in list(ref)[:: max(1, len(ref) // 7)]:
        logp, exact = log_prob(model, "", text)
        assert exact == Fraction(1, hi - lo) and logp == pytest.approx(-math.log(hi - lo), abs=1e-12)
    assert log_prob(model, "", "0" * digits)[0] == -math.inf


def test_uniform_baseline_large_and_bad_input():
    model, hidden = UniformNumberModel(40), UniformNumberHiddenSeedModel(40)
    t = generate(model, "", 1)
    assert len(t) == 40 and t[0] != "0" and t.isdigit()
    s, seed = generate_with_seed(hidden, rng=1)
    assert int(s) == 10**39 + seed
    assert log_prob(model, "", t)[1] == Fraction(1, 9 * 10**39)
    task = UniformNumberTask(5, 2)
    assert {task.sample(i) for i in range(200)} == set(task.target_distribution())
    with pytest.raises(ValueError, match="x must"):
        task.text(3)
    hexm = UniformNumberModel(3, 16)
    assert hexm.next_token_counts("", "f0") == [1] * 16 + [0, 0, 0, 0]
    assert hexm.next_token_counts("", "") == [0] + [1] * 15 + [0, 0, 0, 0]
    for junk in ["0", "F", "g", "f00", "1-"]:
        assert hexm.next_token_counts("", junk) == [0] * 19 + [1], junk
    for bad, exc in [((0,), ValueError), ((3, 1), ValueError), ((3.0,), TypeError), ((True,), TypeError)]:
        with pytest.raises(exc, match="digits|base"):
            UniformNumberModel(*bad)


# ---------------------------------------------------------------------------------------------
# the cost table
# ---------------------------------------------------------------------------------------------
def test_cost_table_small():
    res = cost_table(cases=((2, -3, 3), (3, -20, 20)), samples=3, uniform_digits=(2, 8), check_samples=600)
    assert res["name"] == "polyroots" and set(res["columns"]) <= set(res["rows"][0])
    rows = {(r["task"], r["params"]): r for r in res["rows"]}
    assert rows[("uniform", "n=2, base=10")]["tvd"] == 0
    assert rows[("uniform", "n=8, base=10")]["p_value"] > 1e-6
    small, big = rows[("polyroots", "d=2, [-3, 3]")], rows[("polyroots", "d=3, [-20, 20]")]
    assert small["tvd"] == 0 and small["support"] == 28 and small["tuples"] == 49
    assert big["p_value"] > 1e-6 and big["support"] == math.comb(43, 3)
    assert all(r["ar_s_per_sample"] > 0 and r["hidden_s_per_sample"] > 0 for r in res["rows"])
    u = uniform_cost_table((3,), samples=2)
    assert u["name"] == "uniform-number" and u["rows"][0]["tvd"] == 0
    with pytest.raises(ValueError, match="samples"):
        cost_table(samples=0)
