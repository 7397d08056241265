"""Sampler benchmarks (issue: model layer and prime samplers).

* ``random_prime N-bit``: nextdigit.random_prime(N, base=2) vs a gmpy2 rejection loop
  (``is_prime(x, 24)`` on uniform odd N-bit candidates) and sympy.randprime;
* ``random_primes 1024-bit x64``: 2 worker processes vs the sequential gmpy2 loop;
* ``randomized AR D digits``: the stateless randomized model (one fresh uniform prime completion
  per digit) vs the naive Python loop doing the same with random.randrange + gmpy2.is_prime,
  beside ``random_prime`` in the same window for the "n x random_prime" yardstick;
* ``density model 100 digits``: DensityPrimeModel per sample with tail 4 and 6;
* ``exact model 12 digits``: ExactPrimeModel per sample, cold (a fresh model and an empty pi
  cache every round) and warm (the same model after 20 samples), beside the randomized model.
"""
import random
from concurrent.futures import ProcessPoolExecutor

import gmpy2
import numpy as np
import pytest
import sympy

from nextdigit.models import generate
from nextdigit import random_prime, random_primes
from nextdigit.tasks.primes import DensityPrimeModel, ExactPrimeModel, RandomizedPrimeModel

from conftest import ROUTES, bpsw_route


def gmpy_rejection_prime(bits, rnd):
    while True:
        x = rnd.getrandbits(bits) | (1 << (bits - 1)) | 1
        if gmpy2.is_prime(x, 24):
            return x


def naive_ar_prime(digits, rnd):
    """The essay's randomized model written plainly: per digit, resample completions of the
    prefix until one is prime (random.randrange + gmpy2.is_prime), emit its next digit."""
    prefix = ""
    for k in range(digits):
        lo = int(prefix) * 10 ** (digits - k) if prefix else 10 ** (digits - 1)
        hi = (int(prefix) + 1) * 10 ** (digits - k) if prefix else 10**digits
        while True:
            c = rnd.randrange(lo, hi)
            if gmpy2.is_prime(c):
                break
        prefix += str(c)[k]
    return prefix


@pytest.mark.parametrize("bits", [512, 1024, 2048])
@pytest.mark.parametrize("contender", [f"nextdigit {r}" for r in ROUTES] + ["gmpy2 rejection loop", "sympy.randprime"])
def test_random_prime(benchmark, bits, contender):
    benchmark.group = f"random_prime {bits}-bit"
    rounds = {512: 60, 1024: 20, 2048: 6}[bits]
    if contender.startswith("nextdigit"):
        gen = np.random.default_rng(bits)
        with bpsw_route(contender.split()[1]):
            p = benchmark.pedantic(lambda: random_prime(bits, gen, base=2), rounds=rounds, iterations=1)
    elif contender == "gmpy2 rejection loop":
        rnd = random.Random(bits)
        p = benchmark.pedantic(lambda: gmpy_rejection_prime(bits, rnd), rounds=rounds, iterations=1)
    else:
        if bits > 1024:
            pytest.skip("sympy.randprime at 2048 bits takes minutes per round")
        p = benchmark.pedantic(lambda: sympy.randprime(2 ** (bits - 1), 2**bits), rounds=max(3, rounds // 10), iterations=1)
    assert int(p).bit_length() == bits and gmpy2.is_prime(int(p))


@pytest.mark.parametrize("contender", ["nextdigit 2 processes", "gmpy2 loop sequential"])
def test_random_primes_parallel(benchmark, contender):
    benchmark.group = "random_primes 1024-bit x64"
    if contender == "nextdigit 2 processes":
        with ProcessPoolExecutor(2) as ex:
            ex.submit(int, 0).result()  # start the workers outside the timing
            res = benchmark.pedantic(lambda: random_primes(1024, 64, 1, base=2, executor=ex), rounds=3, iterations=1)
    else:
        rnd = random.Random(1)
        res = benchmark.pedantic(lambda: [gmpy_rejection_prime(1024, rnd) for _ in range(64)], rounds=3, iterations=1)
    assert len(res) == 64


@pytest.mark.parametrize("digits", [19, 100, 300])
@pytest.mark.parametrize(
    "contender", ["nextdigit randomized AR"] + [f"nextdigit AR {r}" for r in ROUTES] + ["naive python AR loop", "nextdigit random_prime"]
)
def test_randomized_ar(benchmark, digits, contender):
    """19 digits: below 2**64, the routes do not apply (one contender for nextdigit); 100 and
    300 digits: the model on each BPSW route."""
    benchmark.group = f"randomized AR {digits} digits"
    rounds = {19: 200, 100: 10, 300: 3}[digits]
    if contender.startswith("nextdigit AR") or contender == "nextdigit randomized AR":
        if (digits <= 19) != (contender == "nextdigit randomized AR"):
            pytest.skip("routes apply above 2**64 only")
        model = RandomizedPrimeModel(digits)
        gen = np.random.default_rng(digits)
        if digits <= 19:
            out = benchmark.pedantic(lambda: model.sample_many(1, gen)[0], rounds=rounds, iterations=1)
        else:
            with bpsw_route(contender.split()[2]):
                out = benchmark.pedantic(lambda: generate(model, "", gen), rounds=rounds, iterations=1)
    elif contender == "naive python AR loop":
        rnd = random.Random(digits)
        out = benchmark.pedantic(lambda: naive_ar_prime(digits, rnd), rounds=max(3, rounds // 4), iterations=1)
    else:
        gen = np.random.default_rng(digits)
        out = str(benchmark.pedantic(lambda: random_prime(digits, gen), rounds=rounds * 4, iterations=1))
    assert len(out) == digits and gmpy2.is_prime(int(out))


@pytest.mark.parametrize("tail", [4, 6])
def test_density_model_100_digits(benchmark, tail):
    benchmark.group = "density model 100 digits"
    model = DensityPrimeModel(100, tail=tail)
    gen = np.random.default_rng(tail)
    out = benchmark.pedantic(lambda: generate(model, "", gen), rounds=5, iterations=1)
    assert len(out) <= 100


@pytest.mark.parametrize("contender", ["exact cold", "exact warm", "randomized AR"])
def test_exact_model_12_digits(benchmark, contender):
    """The exact model per sample, cold (a fresh model and an empty pi cache every round) and
    warm (the same model after 20 samples), beside the randomized model on the same primes."""
    from nextdigit import pi as pi_module

    benchmark.group = "exact model 12 digits"
    gen = np.random.default_rng(12)
    if contender == "exact warm":
        model = ExactPrimeModel(12)
        for _ in range(20):
            generate(model, "", gen)
        out = benchmark.pedantic(lambda: generate(model, "", gen), rounds=50, iterations=1)
    elif contender == "exact cold":
        def cold():
            pi_module.clear_cache()
            return generate(ExactPrimeModel(12), "", gen)

        out = benchmark.pedantic(cold, rounds=5, iterations=1)
    else:
        model = RandomizedPrimeModel(12)
        out = benchmark.pedantic(lambda: generate(model, "", gen), rounds=50, iterations=1)
    assert len(out) == 12 and gmpy2.is_prime(int(out))
