"""The C engine behind RandomizedPrimeModel and random primes below 2**64 (``_randprime``):
uniformity where the four-lane path runs (chi-square, fixed seeds), the speculative Lucas test
and its resume path (base-2 strong pseudoprimes in range), the AVX2 and the portable trial
division (same verdicts, same stream), edges near 2**63 and 2**64."""
from __future__ import annotations


import gmpy2
import numpy as np
import pytest
import sympy

from nextdigit import _randprime
from _stats import chi_square_p

ALPHA = 1e-6  # a correct sampler fails a test with probability < 1e-6

# base-2 strong pseudoprimes without a prime factor below 104 (they survive trial division and
# pass the base-2 test: only the Lucas test rejects them): p * (2p - 1) and classics
SPSP = [42799, 49141, 88357, 90751, 3215031751, 2192323271604260941, 10315554597137065321]
TD_PRIMES = [p for p in range(7, 104) if sympy.isprime(p)]


def primes_in(lo, hi):
    return [int(p) for p in sympy.primerange(lo, hi + 1)]


@pytest.fixture(params=[True, False], ids=["simd", "portable"])
def simd(request):
    before = _randprime._simd()
    yield _randprime._simd(request.param)  # stays False on CPUs without AVX2
    _randprime._simd(before)


def test_spsp_list():
    for n in SPSP:
        assert gmpy2.is_strong_prp(n, 2) and not gmpy2.is_prime(n)
        assert all(n % p for p in [2, 3, 5, *TD_PRIMES])


def test_trial_division_simd_and_portable_agree():
    rng = np.random.default_rng(11)
    vals = [int(x) for x in rng.integers(0, 2**64, 50_000, dtype=np.uint64)]
    vals += list(range(5000)) + [2**64 - 1 - i for i in range(3000)] + [2**63 + i for i in range(-1000, 1000)]
    vals += [p * q for p in TD_PRIMES for q in (2**57 - 1, 2**57 + 3, 1)] + SPSP
    ref = [any(v % p == 0 for p in TD_PRIMES) for v in vals]
    assert _randprime._trial_division(vals, simd=True) == ref
    assert _randprime._trial_division(vals, simd=False) == ref


def test_same_stream_with_and_without_simd():
    """The AVX2 trial division is an implementation detail: a seed gives the same samples."""
    before = _randprime._simd()
    try:
        runs = []
        for on in (True, False):
            _randprime._simd(on)
            gen = np.random.default_rng(21)
            runs.append((_randprime.ar_sample(10**18, 10**19 - 1, 10**18, 10, gen, 500),
                         _randprime.random_primes_in(2**63 - 10**9, 2**63 + 10**9, gen, 500).tolist()))
        assert runs[0] == runs[1]
    finally:
        _randprime._simd(before)


@pytest.mark.parametrize("lo,span", [(10**12, 10**4), (2**64 - 10**4, 10**4 - 1), (2**63 - 5000, 10**4)])
def test_random_primes_in_uniform(simd, lo, span):
    hi = lo + span
    support = primes_in(lo, hi)
    xs = _randprime.random_primes_in(lo, hi, np.random.default_rng(lo % 1000), 120_000).tolist()
    assert chi_square_p(xs, support) > ALPHA


@pytest.mark.parametrize("lo,span", [(10**12, 10**4 - 1), (2**64 - 10**4, 10**4 - 1)])
def test_ar_sample_uniform(simd, lo, span):
    """Four digits, one fresh search per digit (the speculative chain), near 10**12 and 2**64."""
    hi = lo + span
    support = primes_in(lo, hi)
    xs = _randprime.ar_sample(lo, hi, 1000, 10, np.random.default_rng(7), 120_000)
    assert chi_square_p(xs, support) > ALPHA


def test_ar_sample_all_5_digit_primes():
    """Plain searches (below 10201) and four-lane ones mixed, with the strong pseudoprimes
    42799, 49141, 88357, 90751 in range: uniform over every 5-digit prime."""
    before = _randprime._speculation_rollbacks()
    xs = _randprime.ar_sample(10**4, 10**5 - 1, 10**4, 10, np.random.default_rng(5), 400_000)
    assert _randprime._speculation_rollbacks() > before
    assert chi_square_p(xs, primes_in(10**4, 10**5)) > ALPHA


@pytest.mark.parametrize("spsp", SPSP[4:])
def test_speculation_resume_path(spsp):
    """A window around a base-2 strong pseudoprime: it often is a search's provisional answer,
    the Lucas test in the next batch (or alone, after the last search) rejects it and the
    search resumes.  Never returned, and the law stays uniform."""
    lo, hi = spsp - 150, spsp + 150
    support = primes_in(lo, hi)
    assert len(support) >= 2
    gen = np.random.default_rng(spsp % 997)
    before = _randprime._speculation_rollbacks()
    xs = _randprime.random_primes_in(lo, hi, gen, 40_000).tolist()   # chained searches
    xs += [int(_randprime.random_primes_in(lo, hi, gen, 1)[0]) for _ in range(2000)]  # alone
    assert _randprime._speculation_rollbacks() > before
    assert spsp not in xs
    assert chi_square_p(xs, support) > ALPHA
    block = spsp - spsp % 1000                                      # digit by digit
    ys = _randprime.ar_sample(block, block + 999, 100, 10, gen, 40_000)
    assert spsp not in ys
    assert chi_square_p(ys, primes_in(block, block + 999)) > ALPHA


def test_ar_sample_19_digits_and_arguments():
    gen = np.random.default_rng(3)
    xs = _randprime.ar_sample(10**18, 10**19 - 1, 10**18, 10, gen, 3000)
    assert all(10**18 <= x < 10**19 and gmpy2.is_prime(x) for x in xs)
    for size in (0, 1, 8, 9, 100):  # stack and heap buffers
        assert len(_randprime.ar_sample(10**18, 10**19 - 1, 10**18, 10, gen, size)) == size
    a = _randprime.ar_sample(2**62, 2**63 - 1, 2**61, 2, np.random.default_rng(1), 20)
    b = _randprime.ar_sample(2**62, 2**63 - 1, 2**61, 2, np.random.default_rng(1), 20, True)
    assert b == [format(x, "b") for x in a]
    c = _randprime.ar_sample(36**11, 36**12 - 1, 36**11, 36, np.random.default_rng(1), 5, True)
    assert [int(s, 36) for s in c] == _randprime.ar_sample(36**11, 36**12 - 1, 36**11, 36, np.random.default_rng(1), 5)
    for bad in ((1, 10**18), (37, 10**18), (10, 0)):
        with pytest.raises(ValueError):
            _randprime.ar_sample(10**18, 10**19 - 1, bad[1], bad[0], gen, 1)
    with pytest.raises(ValueError):
        _randprime.ar_sample(10**18, 10**19 - 1, 10**18, 10, gen, -1)
    with pytest.raises(ValueError):
        _randprime.random_primes_in(10**6, 10**6 - 1, gen, 1)
    assert _randprime.ar_step(10**18, 10**19 - 1, 10**18, gen) in range(1, 10)
