"""Semiprime task, its models, the factoring-attack reduction and the hidden-state models."""
from __future__ import annotations

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
from nextdigit.factoring import factor, rho_factor
from nextdigit.models import Vocabulary, generate
from nextdigit.analysis.costs import attack_table
from nextdigit.models import generate_with_hidden, generate_with_seed
from nextdigit.tasks.semiprimes import (
    BudgetedReversedModel,
    ForwardSemiprimeModel,
    HiddenSeedModel,
    HiddenStreamModel,
    HonestReversedModel,
    SemiprimeTask,
    factor_with_model,
    parse_triple,
)


def ndigit_primes(n):
    return list(sympy.primerange(10 ** (n - 1) if n > 1 else 2, 10**n))


@pytest.mark.parametrize("n", [1, 2])
def test_exact_induced_distributions_equal_target(n):
    fwd = SemiprimeTask(n, "forward").enumerate()
    rev = SemiprimeTask(n, "reversed").enumerate()
    P = len(ndigit_primes(n))
    assert len(rev) == P * P and sum(rev.values()) == 1
    assert tvd(exact_distribution(ForwardSemiprimeModel(n)), fwd) == 0
    assert tvd(exact_distribution(HonestReversedModel(n)), rev) == 0
    assert tvd(exact_distribution_hidden_seed(HiddenSeedModel(n)), rev) == 0
    stream = exact_distribution_hidden_stream(HiddenStreamModel(n))
    assert set(stream) == set(rev)
    assert max(abs(stream[k] - float(v)) for k, v in rev.items()) < 1e-15


def test_target_strings_are_well_formed():
    task = SemiprimeTask(2)
    for text, w in list(task.enumerate().items())[:50]:
        N, p, q = parse_triple(text)
        assert p * q == N and w == Fraction(1, 21 * 21)
    s = SemiprimeTask(5, "forward").sample(rng=4)
    p, q, N = parse_triple(s)
    assert p * q == N and sympy.isprime(p) and sympy.isprime(q) and len(str(p)) == 5


@pytest.mark.parametrize("n", [1, 2, 3])
def test_honest_model_factors_every_semiprime(n):
    m = HonestReversedModel(n)
    ps = ndigit_primes(n)
    for p in ps:
        for q in ps:
            got = factor_with_model(p * q, m, rng=0)
            assert got in ((p, q), (q, p))


def test_honest_model_factors_4_digit_sample():
    m = HonestReversedModel(4)
    rng = np.random.default_rng(1)
    ps = ndigit_primes(4)
    for _ in range(1500):
        p, q = (ps[int(i)] for i in rng.integers(0, len(ps), size=2))
        assert factor_with_model(p * q, m, rng=rng) in ((p, q), (q, p))


@pytest.mark.slow
@pytest.mark.exhaustive
def test_honest_model_factors_every_4_digit_semiprime():
    m = HonestReversedModel(4)
    ps = ndigit_primes(4)
    for p in ps:
        for q in ps:
            assert factor_with_model(p * q, m, rng=0) in ((p, q), (q, p))


def test_user_toy_model_gives_none_not_wrong_factors():
    class Toy:
        """Writes '(', then any digits it is forced to, then ',2,2)' — always wrong."""

        vocab = Vocabulary(10)
        name = "toy"

        def next_token_distribution(self, prompt, output, rng):
            script = output.split(",")
            if len(script) == 2:
                return self.vocab.point_mass("2" if script[1] == "" else ",")
            if len(script) == 3:
                return self.vocab.point_mass("2" if script[2] == "" else (")" if not output.endswith(")") else "$"))
            return self.vocab.point_mass("$")

    assert factor_with_model(15, Toy(), rng=1) is None
    assert factor_with_model(4, Toy(), rng=1) == (2, 2)  # 2*2 == 4 is a correct answer: accepted


def test_reduction_fails_on_hidden_state_models():
    ps = ndigit_primes(3)
    N = ps[3] * ps[77]
    assert factor_with_model(N, HiddenSeedModel(3), rng=2) is None
    assert factor_with_model(N, HiddenStreamModel(3), rng=2) is None
    # and they do write correct triples when left alone
    out, seed = generate_with_seed(HiddenSeedModel(3), rng=5)
    N2, p, q = parse_triple(out)
    assert p * q == N2
    out, hidden = generate_with_hidden(HiddenStreamModel(3), rng=5)
    N3, p, q = parse_triple(out)
    assert p * q == N3 and hidden == f"{p},{q}"


def test_reduction_with_bad_N_returns_none():
    m = HonestReversedModel(3)
    for N in (101 * 103 * 107, 6, 1009 * 1013, 2 * 499, 10007):
        assert factor_with_model(N, m, rng=0) is None
    with pytest.raises(ValueError):
        factor_with_model(3, m)
    with pytest.raises(TypeError):
        factor_with_model(15.0, m)


def test_budgeted_model_fails_when_budget_is_small_and_bound_is_consistent():
    rows = attack_table([2, 7], trials=30, rng=11, budget=40, honest_max=2)
    by = {(r["digits"], r["model"].split("(")[0]): r for r in rows}
    assert by[(2, "HonestReversedModel")]["success_rate"] == 1.0
    assert by[(2, "HonestReversedModel")]["tvd_lower_bound"] == 0.0
    b7 = by[(7, "BudgetedReversedModel")]
    assert b7["success_rate"] < 1.0
    assert b7["tvd_lower_bound"] == pytest.approx(1 - b7["success_rate"] ** 0.5)
    assert b7["tvd_lower_bound_issue_form"] <= b7["tvd_lower_bound"]
    assert by[(7, "HiddenSeedModel")]["success_rate"] == 0.0
    assert by[(7, "HiddenSeedModel")]["tvd_lower_bound"] is None


def test_budgeted_model_tvd_is_at_least_its_bound_at_2_digits():
    """Monte-Carlo: the budgeted model's empirical TVD from the target >= 1 - sqrt(P_success)
    (up to sampling noise), with a budget too small to always factor."""
    m = BudgetedReversedModel(2, budget=1)
    gen = np.random.default_rng(3)
    samples = [generate(m, "", gen) for _ in range(6000)]
    target = SemiprimeTask(2).enumerate()
    emp = {k: v / len(samples) for k, v in Counter(samples).items()}
    emp_tvd = float(tvd(emp, {k: float(v) for k, v in target.items()}))
    row = attack_table([2], trials=200, rng=4, budget=1, honest_max=0)[0]
    assert row["success_rate"] < 1
    assert emp_tvd >= row["tvd_lower_bound"] - 0.05


def test_rho_and_factor():
    assert rho_factor(8051) in (83, 97)
    p, q = 1000000007, 998244353
    d = rho_factor(p * q)
    assert d in (p, q)
    assert rho_factor(p * q, budget=10) is None
    assert factor(2**4 * 3**2 * 1000000007**2) == {2: 4, 3: 2, 1000000007: 2}
    big = sympy.nextprime(2**70) * sympy.nextprime(2**71)
    assert factor(big) == {sympy.nextprime(2**70): 1, sympy.nextprime(2**71): 1}
    assert factor(1) == {}
    with pytest.raises(ValueError):
        rho_factor(3)


def test_bad_inputs():
    with pytest.raises(ValueError):
        SemiprimeTask(0)
    with pytest.raises(ValueError):
        SemiprimeTask(2, order="sideways")
    with pytest.raises(ValueError, match="BudgetedReversedModel"):
        HonestReversedModel(12)
    with pytest.raises(ValueError):
        BudgetedReversedModel(3, budget=0)
    assert parse_triple("(1,2)") is None and parse_triple("(01,2,3)") is None and parse_triple("x") is None
