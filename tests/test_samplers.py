"""The model layer and the prime samplers: uniformity (chi-square, fixed seeds), exact
conditionals, log-probabilities, bad input."""
from __future__ import annotations

import math
from collections import Counter
from fractions import Fraction

import gmpy2
import numpy as np
import pytest
import sympy

from nextdigit.models import END, ModelError, Vocabulary, generate, generate_many, log_prob
from nextdigit import random_prime, random_primes
from nextdigit.tasks.primes import DensityPrimeModel, ExactPrimeModel, RandomizedPrimeModel
from _stats import chi_square_p

ALPHA = 1e-6  # a correct sampler fails a test with probability < 1e-6


PRIMES3 = [str(p) for p in sympy.primerange(100, 1000)]
PRIMES4 = [str(p) for p in sympy.primerange(1000, 10000)]
assert len(PRIMES3) == 143 and len(PRIMES4) == 1061


@pytest.mark.parametrize("digits,support", [(3, PRIMES3), (4, PRIMES4)])
@pytest.mark.parametrize("kind", ["randomized", "exact", "random_prime"])
def test_uniformity_200k(digits, support, kind):
    if kind == "randomized":
        xs = generate_many(RandomizedPrimeModel(digits), 200_000, rng=101)
    elif kind == "exact":
        xs = generate_many(ExactPrimeModel(digits), 200_000, rng=102)
    else:
        xs = [str(int(p)) for p in random_primes(digits, 200_000, rng=103)]
    assert len(xs) == 200_000
    assert chi_square_p(xs, support) > ALPHA


def test_randomized_token_by_token_path_is_uniform():
    """The per-token protocol path (Python, one next_token_distribution per digit)."""
    m = RandomizedPrimeModel(3, exact_window=0)
    gen = np.random.default_rng(5)
    xs = [generate(m, "", gen) for _ in range(20_000)]
    assert chi_square_p(xs, PRIMES3) > ALPHA


def test_density_model_tail1_is_rejected_tail3_accepted():
    biased = generate_many(DensityPrimeModel(4, tail=1), 200_000, rng=7)
    assert chi_square_p(biased, PRIMES4) < ALPHA
    dead = sum(len(x) < 4 for x in biased)
    assert dead > 0  # the dead-end policy: early end tokens, counted as failures
    ok = [x for x in biased if len(x) == 4]
    assert chi_square_p(ok, PRIMES4) < ALPHA  # biased even among the successful samples
    good = generate_many(DensityPrimeModel(4, tail=3), 200_000, rng=8)
    assert chi_square_p(good, PRIMES4) > ALPHA


def test_base2_uniform_over_10_bit_primes():
    support = [format(p, "b") for p in sympy.primerange(512, 1024)]
    assert len(support) == 75
    for model, seed in ((RandomizedPrimeModel(10, base=2), 1), (ExactPrimeModel(10, base=2), 2)):
        xs = generate_many(model, 100_000, rng=seed)
        assert chi_square_p(xs, support) > ALPHA
    xs = [format(int(p), "b") for p in random_primes(10, 100_000, rng=3, base=2)]
    assert chi_square_p(xs, support) > ALPHA


def test_exact_conditionals_equal_count_ratios():
    m = ExactPrimeModel(6)
    rng = np.random.default_rng(9)
    primes6 = list(sympy.primerange(10**5, 10**6))
    for _ in range(30):
        k = int(rng.integers(0, 6))
        p = str(primes6[int(rng.integers(len(primes6)))])
        prefix = p[:k]
        dist = m.next_token_distribution("", prefix, None)
        counts = Counter(str(q)[k] for q in primes6 if str(q).startswith(prefix))
        total = sum(counts.values())
        for d in range(10):
            assert dist[d] == pytest.approx(counts.get(str(d), 0) / total, abs=1e-15)
        assert dist[10:].sum() == 0


def test_log_prob_of_every_3_digit_prime():
    m = ExactPrimeModel(3)
    for p in PRIMES3:
        lp, exact = log_prob(m, "", p)
        assert exact == Fraction(1, 143)
        assert lp == pytest.approx(-math.log(143), abs=1e-12)
    lp, exact = log_prob(m, "", "100")
    assert lp == -math.inf and exact == 0


def test_density_model_is_a_distribution_and_large_n_works():
    m = DensityPrimeModel(300, tail=4)
    out = generate(m, rng=5)
    assert len(out) in range(297, 301)
    if len(out) == 300:
        assert gmpy2.is_prime(int(out))
    d = m.next_token_distribution("", "", None)
    assert d[0] == 0 and abs(d.sum() - 1) < 1e-12
    # leading digit 1 gets more density than 9 (li is concave)
    assert d[1] > d[9]
    assert m.estimated_tvd() == pytest.approx(math.sqrt((296 * math.log(10) - 1.415) / (2 * math.pi * 1e4)))
    assert DensityPrimeModel(3, tail=3).estimated_tvd() == 0.0


def test_randomized_model_big_digits():
    for n in (25, 120):
        out = generate(RandomizedPrimeModel(n), rng=n)
        assert len(out) == n and gmpy2.is_prime(int(out))


def test_random_prime_sizes_and_reproducibility():
    for n in (1, 2, 19, 20, 50, 155):
        p = random_prime(n, rng=42)
        assert len(str(p)) == n and gmpy2.is_prime(p)
        assert random_prime(n, rng=42) == p
    assert random_prime(1, rng=1) in (2, 3, 5, 7)
    ss = np.random.SeedSequence(3)
    assert random_prime(40, rng=ss) == random_prime(40, rng=np.random.SeedSequence(3))
    assert random_primes(30, 3, rng=9) == random_primes(30, 3, rng=9)
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as ex:
        assert random_primes(30, 6, rng=9, executor=ex) == random_primes(30, 6, rng=9)


def test_same_seed_same_output():
    for m in (RandomizedPrimeModel(12), RandomizedPrimeModel(30), DensityPrimeModel(40, tail=3)):
        assert generate(m, rng=2024) == generate(m, rng=2024)
        assert generate_many(m, 5, rng=1) == generate_many(m, 5, rng=1)


def test_vocabulary_and_protocol_validation():
    v = Vocabulary(16)
    assert v.tokens[:16] == tuple("0123456789abcdef") and v.tokens[-1] == END

    class Bad:
        vocab = Vocabulary(10)
        name = "bad-model"

        def __init__(self, out):
            self.out = out

        def next_token_distribution(self, prompt, output, rng):
            return self.out

    for bad, msg in [
        (np.ones(14), "sums to"),
        (np.ones(3) / 3, "shape"),
        (np.r_[np.full(13, 0.1), -0.3], "negative"),
        (np.r_[np.full(13, np.nan), 1.0], "non-finite"),
        ("abc", "numeric"),
    ]:
        with pytest.raises(ModelError, match=msg) as exc:
            generate(Bad(bad), rng=1)
        assert "bad-model" in str(exc.value)

    class NeverEnds:
        vocab = Vocabulary(10)

        def next_token_distribution(self, prompt, output, rng):
            return Vocabulary(10).point_mass("7")

    with pytest.raises(RuntimeError, match="max_tokens"):
        generate(NeverEnds(), max_tokens=50)


@pytest.mark.parametrize(
    "factory",
    [
        lambda: RandomizedPrimeModel(0),
        lambda: ExactPrimeModel(-1),
        lambda: DensityPrimeModel(5, tail=-1),
        lambda: RandomizedPrimeModel(5, base=1),
        lambda: RandomizedPrimeModel(5, base=37),
        lambda: random_prime(0),
    ],
)
def test_bad_parameters(factory):
    with pytest.raises(ValueError):
        factory()


def test_bad_types_and_outputs():
    with pytest.raises(TypeError, match="digits"):
        RandomizedPrimeModel(3.0)
    with pytest.raises(TypeError, match="rng"):
        random_prime(5, rng=1.5)
    m = ExactPrimeModel(3)
    for bad in ("1a", "01", "1234", "x"):
        with pytest.raises(ValueError):
            m.next_token_counts("", bad)
    with pytest.raises(ValueError, match="no 3-digit prime"):
        RandomizedPrimeModel(3).next_token_distribution("", "20", 1)  # 200..209 holds no prime
    with pytest.raises(ValueError, match="DensityPrimeModel"):
        ExactPrimeModel(40)
    with pytest.raises(ValueError, match="deterministic"):
        log_prob(RandomizedPrimeModel(3), "", "101")


def test_lemire_uniform_integers_are_exact():
    from nextdigit import _randprime

    gen = np.random.default_rng(77)
    x = _randprime.uniform_u64(5, 14, gen, 200_000)
    assert x.min() == 5 and x.max() == 14
    assert chi_square_p([int(v) for v in x], range(5, 15)) > ALPHA
    # a range that is not a power of two and close to 2**64: Lemire's rejection matters there
    lo = 2**64 - 3 * 2**62
    y = _randprime.uniform_u64(lo, 2**64 - 1, gen, 200_000)
    thirds = Counter((int(v) - lo) * 3 // (3 * 2**62) for v in y)
    assert chi_square_p([(int(v) - lo) * 3 // (3 * 2**62) for v in y], range(3)) > ALPHA and len(thirds) == 3
    assert _randprime.uniform_u64(0, 2**64 - 1, gen, 4).dtype == np.uint64
