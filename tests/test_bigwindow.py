"""Windows of huge numbers (a >= 2**64): our limb residues and sieve, then BPSW, against gmpy2
on every number of the window."""
from __future__ import annotations

import gmpy2
import numpy as np
import pytest

from nextdigit import _bigcount, _bigwin


def test_small_primes_match_sympy():
    import sympy

    p = _bigwin.small_primes(10**5)
    assert p.tolist() == list(sympy.primerange(3, 10**5))
    assert _bigwin.small_primes(3).size == 0 and _bigwin.small_primes(4).tolist() == [3]


@pytest.mark.parametrize("digits", [20, 40, 100, 600, 1000])
def test_residues_from_limbs(digits):
    rng = np.random.default_rng(digits)
    a = int(rng.integers(1, 10)) * 10 ** (digits - 1) + int(rng.integers(0, 2**62))
    primes = _bigwin.small_primes(1 << 20)
    r = _bigwin.residues(_bigcount.limbs_of(a), primes)
    idx = rng.integers(0, len(primes), size=3000)
    assert all(int(r[i]) == a % int(primes[i]) for i in idx)
    assert int(r[-1]) == a % int(primes[-1]) and int(r[0]) == a % 3


@pytest.mark.parametrize("digits,span", [(20, 20000), (100, 6000), (600, 6000)])
def test_window_primes_match_gmpy2_on_every_number(digits, span):
    rng = np.random.default_rng(digits + span)
    for trial in range(2):
        a = 10 ** (digits - 1) + int.from_bytes(rng.bytes(digits // 2), "little") + trial
        assert a >= 2**64
        got = _bigcount.window_prime_offsets(a, span).tolist()
        expected = [o for o in range(span) if gmpy2.is_prime(a + o)]
        assert got == expected
        assert len(expected) > 0


def test_window_bound_choices_agree():
    a = 10**30 + 12345
    ref = [o for o in range(5000) if gmpy2.is_prime(a + o)]
    for bound in (5, 100, 2**12, 2**20):
        assert _bigcount.window_prime_offsets(a, 5000, bound=bound).tolist() == ref


@pytest.mark.parametrize("bits", [65, 128, 512, 2048, 4160])
def test_rough_rows_match_sympy(bits):
    """The list prefilter: 1 exactly where no odd prime below the bound divides the number
    (random numbers, and products of a prime of every product group with a big cofactor)."""
    import random

    import sympy

    from nextdigit import _bpsw

    rnd = random.Random(bits)
    ps = list(sympy.primerange(3, 1 << 16))
    xs = [rnd.getrandbits(bits) | (1 << (bits - 1)) for _ in range(400)]
    xs += [p * ((rnd.getrandbits(bits - 17) | (1 << (bits - 18))) | 1) for p in ps[::97] + ps[-3:]]
    xs += [int(gmpy2.next_prime(xs[0])), 2**bits - 1]
    rows = _bpsw.limbs_array(xs)
    for bound in (3, 4, 5, 24, 1024, 8192, 1 << 16):
        got = _bigwin.rough_rows(rows, bound).tolist()
        small = [p for p in ps if p < bound]
        assert got == [int(all(x % p for p in small)) for x in xs], bound
    with pytest.raises(ValueError, match="bound"):
        _bigwin.rough_rows(rows, (1 << 16) + 1)
    assert _bigwin.rough_rows(np.zeros((0, 3), dtype=np.uint64), 100).shape == (0,)


def test_survivors_are_exactly_the_rough_numbers():
    a = 2**64 + 1000
    primes = _bigwin.small_primes(1000)
    prim = int(gmpy2.primorial(999))
    for span in (1, 2, 3, 1000, 300_001):
        s = _bigwin.window_survivors(_bigcount.limbs_of(a), span, primes).tolist()
        if span <= 1000:
            assert s == [o for o in range(span) if gmpy2.gcd(a + o, prim) == 1]
        assert all(0 <= o < span for o in s) and s == sorted(s)


def test_sieve_bound_model_is_sane():
    for digits, span in [(20, 10**6), (106, 10**6), (305, 10**5), (1000, 10**3)]:
        a = 10 ** (digits - 1)
        b = _bigcount.sieve_bound(a, span)
        assert _bigcount.MIN_BOUND <= b <= _bigcount.MAX_BOUND


# --- through the public counting API ------------------------------------------------------------
def test_public_api_straddling_2_64():
    from nextdigit import count_primes, prime_histogram, primes_between

    lo, hi = 2**64 - 3000, 2**64 + 3000
    ref = [x for x in range(lo, hi) if gmpy2.is_prime(x)]
    assert count_primes(lo, hi) == len(ref)
    got = primes_between(lo, hi)
    assert got.dtype == object and got.tolist() == ref
    hist = prime_histogram(lo, 700, 8)
    assert hist.dtype == np.uint64
    assert hist.tolist() == [sum(1 for p in ref if lo + 700 * i <= p < lo + 700 * (i + 1)) for i in range(8)]
    assert prime_histogram(2**64 - 10, 10, 2).tolist() == [0, 0]     # next prime is 2**64 + 13
    assert prime_histogram(2**64 - 10, 12, 2).tolist() == [0, 1]


def test_public_api_big_windows_match_gmpy2():
    from nextdigit import count_primes, prime_histogram

    a = 10**99 + 777
    ref = [x for x in range(a, a + 4000) if gmpy2.is_prime(x)]
    assert count_primes(a, a + 4000) == len(ref)
    h = prime_histogram(a, 400, 10)
    assert h.sum() == len(ref)
    assert h.tolist() == [sum(1 for p in ref if a + 400 * i <= p < a + 400 * (i + 1)) for i in range(10)]


def test_prefix_functions_take_threads_above_2_64():
    from nextdigit import digit_counts, digit_counts_batch, prefix_count

    prefix = "31415926535897932384626433832795028841971693993751"      # 50 digits, 4 to go
    ref = digit_counts(prefix, 54, threads=1)
    assert digit_counts(prefix, 54, threads=2).tolist() == ref.tolist()
    assert prefix_count(prefix, 54, threads=2) == int(ref.sum())
    lo = int(prefix) * 10**4
    assert int(ref.sum()) == sum(1 for x in range(lo, lo + 10**4) if gmpy2.is_prime(x))
    assert digit_counts_batch([prefix], 54, threads=2).tolist() == [ref.tolist()]
    with pytest.raises(ValueError, match="threads"):
        digit_counts(prefix, 54, threads=0)
