"""The eight-lane IFMA kernel (``_mont52``) and the batch BPSW on top of it (``_bpsw``),
against gmpy2 on every number of the cases (independent implementation: GMP)."""
import random

import gmpy2
import numpy as np
import pytest

from nextdigit import _bpsw, _mont52

needs_ifma = pytest.mark.skipif(not _mont52.available(), reason="CPU without AVX-512 IFMA: the GMP route is tested instead")

# strong Lucas-Selfridge pseudoprimes (OEIS A217255): pass Lucas, fail base 2
STRONG_LUCAS_PSP = [5459, 5777, 10877, 16109, 18971, 22499, 24569, 25199, 40309, 58519, 75077, 97439]
# strong base-2 pseudoprimes (OEIS A001262) and the largest 64-bit-ish ones
SPSP2 = [2047, 3277, 4033, 4681, 8321, 15841, 29341, 42799, 49141, 52633, 3215031751, 3825123056546413051]


def limbs(xs):
    return _bpsw.limbs_array(xs)


@needs_ifma
@pytest.mark.parametrize("bits", [2, 3, 51, 52, 53, 64, 65, 103, 104, 105, 156, 157, 333, 352, 520, 1013, 1040, 2080, 4158])
def test_sprp2_matches_gmpy2(bits):
    rnd = random.Random(bits)
    xs = [rnd.getrandbits(bits) | 1 | (1 << (bits - 1)) for _ in range(24)]
    xs = [x for x in xs if x >= 3]
    xs += [int(gmpy2.next_prime(x)) for x in xs[: 6 if bits <= 2080 else 0]]   # next_prime is slow at 4158 bits
    xs = [x for x in xs if x.bit_length() <= _mont52.MAX_BITS]
    got = _mont52.sprp2(limbs(xs))
    assert [bool(g) for g in got] == [bool(gmpy2.is_strong_prp(x, 2)) for x in xs]
    if 10 <= bits <= 2080:       # (no primes are added at 4158 bits)
        assert any(got) and not all(got)


@needs_ifma
def test_sprp2_pseudoprimes_and_mixed_sizes():
    # Mersenne numbers 2**p - 1 (p prime) and Fermat numbers are base-2 strong probable primes
    mers = [2**p - 1 for p in (11, 23, 29, 67, 257, 521, 523, 1277, 2203, 2281, 4111)]
    fermat = [2 ** (2**i) + 1 for i in range(1, 12)]
    xs = SPSP2 + mers + fermat
    assert _mont52.sprp2(limbs(xs)).all()
    assert not _mont52.sprp2(limbs(STRONG_LUCAS_PSP)).any()
    rnd = random.Random(7)
    xs = [rnd.getrandbits(rnd.randint(2, 900)) | 1 for _ in range(300)]
    xs = [x for x in xs if x >= 3] + [int(gmpy2.next_prime(rnd.getrandbits(rnd.randint(3, 900)))) for _ in range(60)]
    got = _mont52.sprp2(limbs(xs))
    assert [bool(g) for g in got] == [bool(gmpy2.is_strong_prp(x, 2)) for x in xs]


@needs_ifma
def test_lucas_matches_gmpy2_on_every_small_odd_number():
    ns = [n for n in range(101, 20001, 2) if not gmpy2.is_square(n)]
    got = _bpsw._lucas_many(ns)
    want = [bool(gmpy2.is_strong_selfridge_prp(n)) for n in ns]
    assert got.tolist() == want
    assert set(STRONG_LUCAS_PSP) & set(ns) <= {n for n, g in zip(ns, got) if g}


@needs_ifma
@pytest.mark.parametrize("bits", [65, 200, 333, 1024])
def test_lucas_matches_gmpy2_on_big_numbers(bits):
    rnd = random.Random(bits + 1)
    xs = [rnd.getrandbits(bits) | 1 | (1 << (bits - 1)) for _ in range(40)]
    xs += [int(gmpy2.next_prime(x)) for x in xs[:8]]
    xs = [x for x in xs if x.bit_length() == bits]
    got = _bpsw._lucas_many(xs)
    assert got.tolist() == [bool(gmpy2.is_strong_selfridge_prp(x)) for x in xs]


@pytest.mark.parametrize("ifma", [True, False])
@pytest.mark.parametrize("digits", [20, 106, 305])
def test_bpsw_many_and_windows_match_gmpy2(monkeypatch, ifma, digits):
    if ifma and not _mont52.available():
        pytest.skip("no IFMA")
    monkeypatch.setattr(_bpsw, "USE_IFMA", ifma)
    span = 3000 if digits < 300 else 1000
    a = int(gmpy2.next_prime(10 ** (digits - 1) + 123456789)) - span // 2   # a window with a prime
    odd = [x for x in range(a, a + span) if x & 1]
    want = [bool(gmpy2.is_prime(x, 1)) for x in odd]
    assert sum(want) > 0
    assert _bpsw.bpsw_many(odd).tolist() == want
    offsets = np.array([x - a for x in odd], dtype=np.uint64)
    assert _bpsw.window_bpsw(a, offsets).tolist() == want
    first = next(x for x, w in zip(odd, want) if w)
    start = odd.index(first)
    assert _bpsw.first_prime(odd[max(0, start - 11): start + 5]) == first
    assert _bpsw.first_prime([x for x, w in zip(odd, want) if not w][:20]) is None


@pytest.mark.parametrize("ifma", [True, False])
def test_first_prime_across_two_to_the_64(monkeypatch, ifma):
    """Candidates on both sides of 2**64 in one batch: the first prime in list order wins."""
    if ifma and not _mont52.available():
        pytest.skip("no IFMA")
    monkeypatch.setattr(_bpsw, "USE_IFMA", ifma)
    below = int(gmpy2.prev_prime(2**64))
    above = int(gmpy2.next_prime(2**64))
    comp = [2**64 - 1, 2**64 + 1, 3 * 5 * 7 * 11 * 13 * 17 * 19 * 23 * 29 * 31 * 37 * 41 * 43 * 47 + 2]
    comp = [c for c in comp if not gmpy2.is_prime(c)]
    assert _bpsw.first_prime(comp + [above, below]) == above
    assert _bpsw.first_prime(comp + [below, above]) == below


def test_bad_input():
    if not _mont52.available():
        with pytest.raises(RuntimeError, match="IFMA"):
            _mont52.sprp2(limbs([7]))
        return
    with pytest.raises(ValueError, match="odd number >= 3"):
        _mont52.sprp2(limbs([10]))
    with pytest.raises(ValueError, match="odd number >= 3"):
        _mont52.sprp2(np.array([[1, 0]], dtype=np.uint64))
    with pytest.raises(ValueError, match="limbs"):
        _mont52.sprp2(np.zeros((1, 70), dtype=np.uint64))
    with pytest.raises(ValueError, match="shape"):
        _mont52.lucas(limbs([101, 103]), limbs([5]))
    with pytest.raises(ValueError, match="same number of 52-bit limbs"):
        _mont52.lucas(limbs([101, 2**200 + 1]), _bpsw.limbs_array([5, 7], 4))
    with pytest.raises(ValueError, match="even"):
        _mont52.sprp2_offsets(np.array([2**63 + 1], dtype=np.uint64), np.array([1], dtype=np.uint64))
    assert _mont52.sprp2(np.zeros((0, 2), dtype=np.uint64)).shape == (0,)


@pytest.mark.parametrize("ifma", [True, False])
def test_big_random_prime_uniform_across_two_to_the_64(monkeypatch, ifma):
    """The samplers' search above 2**64 (batches of eight, first prime in draw order) is exactly
    uniform, also on a range that straddles 2**64 (chi-square, fixed seed, fails with
    probability < 1e-6 when correct)."""
    if ifma and not _mont52.available():
        pytest.skip("no IFMA")
    from nextdigit.randprime import big_random_prime
    from test_randprime import ALPHA, chi_square_p

    monkeypatch.setattr(_bpsw, "USE_IFMA", ifma)
    lo, hi = 2**64 - 400, 2**64 + 400
    support = [x for x in range(lo, hi) if gmpy2.is_prime(x)]
    assert any(p < 2**64 for p in support) and any(p > 2**64 for p in support)
    gen = np.random.default_rng(64)
    samples = [big_random_prime(lo, hi, gen) for _ in range(600 * len(support))]
    assert chi_square_p(samples, support) > ALPHA


@needs_ifma
def test_threads_give_the_same_verdicts():
    rnd = random.Random(99)
    xs = [rnd.getrandbits(352) | 1 | (1 << 351) for _ in range(1500)]
    xs += [int(gmpy2.next_prime(x)) for x in xs[:40]]
    L = limbs(xs)
    one = _mont52.sprp2(L, 1)
    assert _mont52.sprp2(L, 2).tolist() == one.tolist() == [int(gmpy2.is_strong_prp(x, 2)) for x in xs]
    assert _bpsw.bpsw_many(xs, 2).tolist() == _bpsw.bpsw_many(xs, 1).tolist()
    a = 10**105 + 7
    offs = np.arange(0, 4000, 2, dtype=np.uint64)
    assert _bpsw.window_bpsw(a, offs, 2).tolist() == _bpsw.window_bpsw(a, offs, 1).tolist()
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="threads"):
            _mont52.sprp2(L, bad)


@pytest.mark.parametrize("ifma", [True, False])
def test_next_prev_prime_big_match_gmpy2(monkeypatch, ifma):
    if ifma and not _mont52.available():
        pytest.skip("no IFMA")
    from nextdigit import next_prime, prev_prime, primality

    monkeypatch.setattr(_bpsw, "USE_IFMA", ifma)
    rnd = random.Random(41)
    for bits in (65, 100, 257, 333, 600, 1024):
        for _ in range(4):
            x = rnd.getrandbits(bits) | (1 << (bits - 1))
            assert next_prime(x) == gmpy2.next_prime(x)
            assert prev_prime(x) == gmpy2.prev_prime(x)
    # the boundary of 2**64 and tiny windows (many windows per answer, the fall-through to u64)
    for n in range(2**64 - 3, 2**64 + 40):
        assert next_prime(n) == gmpy2.next_prime(n)
        if n > 2**64:
            assert prev_prime(n) == gmpy2.prev_prime(n)
            if ifma:
                assert primality._prev_prime_big(n, width=3) == gmpy2.prev_prime(n)
    if ifma:
        x = 10**200 + 1
        assert primality._next_prime_big(x, width=5) == gmpy2.next_prime(x)
        assert primality._prev_prime_big(x, width=5) == gmpy2.prev_prime(x)


@needs_ifma
@pytest.mark.parametrize("k", list(range(1, 23)) + [39, 40, 41])
def test_every_unrolled_instance(k):
    """Each k (52-bit limbs; 1..20 have their own unrolled code) at its smallest and largest
    modulus size, both tests, against gmpy2."""
    rnd = random.Random(1000 + k)
    for bits in sorted({max(3, 52 * (k - 1) - 1), 52 * k - 2}):
        assert _mont52.limbs52(bits) == k
        xs = [rnd.getrandbits(bits) | 1 | (1 << (bits - 1)) for _ in range(12)]
        xs += [int(gmpy2.next_prime(x)) for x in xs[:4]]
        xs = [x for x in xs if x.bit_length() == bits]
        assert [bool(v) for v in _mont52.sprp2(limbs(xs))] == [bool(gmpy2.is_strong_prp(x, 2)) for x in xs]
        odd = [x for x in xs if not gmpy2.is_square(x)]
        assert _bpsw._lucas_many(odd).tolist() == [bool(gmpy2.is_strong_selfridge_prp(x)) for x in odd]
