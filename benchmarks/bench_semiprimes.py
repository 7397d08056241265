"""Semiprime benchmarks: per-sample time of the forward model and of the honest reversed model
as n grows (the exponential curve), and of the reduction factor_with_model with the honest model.
"""
import numpy as np
import pytest

from nextdigit.models import generate
from nextdigit.tasks.semiprimes import ForwardSemiprimeModel, HonestReversedModel, SemiprimeTask, factor_with_model, parse_triple


@pytest.mark.parametrize("n", [2, 3, 4, 5, 6, 7])
@pytest.mark.parametrize("model", ["forward (p,q,N)", "honest reversed (N,p,q)"])
def test_sample(benchmark, n, model):
    benchmark.group = f"semiprime sample, {n}-digit p and q"
    m = ForwardSemiprimeModel(n) if model.startswith("forward") else HonestReversedModel(n)
    gen = np.random.default_rng(n)
    rounds = 5 if (n >= 6 and model.startswith("honest")) else 20
    text = benchmark.pedantic(lambda: generate(m, "", gen), rounds=rounds, iterations=1, warmup_rounds=1)
    a, b, c = parse_triple(text)
    assert (a * b == c) if model.startswith("forward") else (b * c == a)


@pytest.mark.parametrize("n", [2, 4, 6, 7])
def test_factor_with_honest_model(benchmark, n):
    benchmark.group = "factor_with_model, honest model"
    m = HonestReversedModel(n)
    gen = np.random.default_rng(100 + n)
    Ns = [p * q for p, q in (SemiprimeTask(n).sample_pair(gen) for _ in range(20))]
    res = benchmark.pedantic(lambda: [factor_with_model(N, m, 0) for N in Ns], rounds=3, iterations=1)
    assert all(r is not None for r in res)
    benchmark.extra_info["digits"] = n
