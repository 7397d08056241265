"""Exactness tests for nextdigit.prime_pi (Deleglise-Rivat kernel nextdigit._pi).

References, all independent of our code: the table of pi(10^k) in ../shared/reference, plain
numpy sieves (whole range below 1e8, short segments up to 1e12 and around 2^32), sympy.primepi,
and primecountpy (GPL, tests only) where installed.
"""
from __future__ import annotations

import math
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from nextdigit import _pi
from nextdigit.pi import cache_info, clear_cache, prime_pi

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "pi_powers_of_ten.tsv"
U64_MAX = (1 << 64) - 1

try:
    import primecountpy
except ImportError:  # pragma: no cover - optional oracle
    primecountpy = None

needs_primecount = pytest.mark.skipif(primecountpy is None, reason="primecountpy not installed")


def _powers_of_ten() -> dict[int, int]:
    if not REFERENCE.exists():
        pytest.fail(f"reference table {REFERENCE} is missing")
    out = {}
    for line in REFERENCE.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            k, v = line.split("\t")[:2]
            out[int(k)] = int(v)
    return out


# ---------------------------------------------------------------------------------------------
# independent oracles
# ---------------------------------------------------------------------------------------------
def odd_sieve(n: int) -> np.ndarray:
    """is_prime for the odd numbers 2i+1 <= n (textbook sieve, numpy)."""
    m = (n + 1) // 2
    s = np.ones(m, dtype=bool)
    s[0] = False
    for i in range(1, (math.isqrt(n) - 1) // 2 + 1):
        if s[i]:
            p = 2 * i + 1
            s[p * p // 2 :: p] = False
    return s


@pytest.fixture(scope="module")
def small_primes() -> np.ndarray:
    """All primes below 2**21 (enough to sieve segments up to 4.4e12)."""
    s = odd_sieve(1 << 21)
    return np.concatenate([[2], 2 * np.nonzero(s)[0] + 1]).astype(np.int64)


def count_segment(lo: int, hi: int, primes: np.ndarray) -> int:
    """Number of primes in (lo, hi] by a plain segmented sieve (hi - lo small)."""
    assert hi >= lo and math.isqrt(hi) <= int(primes[-1])
    lo1 = lo + 1
    seg = np.ones(hi - lo1 + 1, dtype=bool)
    for p in primes:
        p = int(p)
        if p * p > hi:
            break
        start = max(p * p, (lo1 + p - 1) // p * p)
        seg[start - lo1 :: p] = False
    for v in (0, 1):
        if lo1 <= v <= hi:
            seg[v - lo1] = False
    return int(seg.sum())


# ---------------------------------------------------------------------------------------------
# known values
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("k", range(0, 14))
def test_powers_of_ten(k):
    assert prime_pi(10**k) == _powers_of_ten()[k]


@pytest.mark.slow
@pytest.mark.parametrize("k", range(14, 19))
def test_powers_of_ten_slow(k):
    assert prime_pi(10**k) == _powers_of_ten()[k]


def test_tiny_values():
    expect = [0, 0, 1, 2, 2, 3, 3, 4, 4, 4, 4, 5, 5, 6]
    assert [prime_pi(n) for n in range(len(expect))] == expect
    assert prime_pi(-1) == 0 and prime_pi(-(10**30)) == 0


def test_below_1e8_against_sieve():
    n = 10**8
    s = odd_sieve(n)
    cum = np.cumsum(s, dtype=np.int32)       # cum[i] = odd primes <= 2i+1
    rng = np.random.default_rng(20240601)
    xs = list(rng.integers(2, n, size=300)) + [n - 1, n - 2, 2, 3, 4, 10**7 - 1, 10**7, 10**7 + 1]
    for x in xs:
        x = int(x)
        want = int(cum[(x - 1) // 2]) + 1    # + the prime 2
        assert prime_pi(x) == want, x


def test_up_to_1e12_segments(small_primes):
    """pi(x) - pi(x0) against a sieved segment (x0, x] for random x up to 1e12."""
    rng = np.random.default_rng(7)
    for _ in range(25):
        x = int(rng.integers(10**8, 10**12))
        span = int(rng.integers(1, 2 * 10**5))
        x0 = x - span
        assert prime_pi(x) - prime_pi(x0) == count_segment(x0, x, small_primes), (x0, x)


def test_against_sympy():
    sympy = pytest.importorskip("sympy")
    rng = np.random.default_rng(11)
    for x in [int(v) for v in rng.integers(10**7, 3 * 10**8, size=4)] + [10**8 + 7]:
        assert prime_pi(x) == int(sympy.primepi(x)), x


def test_around_2_32(small_primes):
    assert prime_pi(1 << 32) == 203280221      # OEIS A007053
    for d in (-(10**5), -1, 1, 65536):
        x = (1 << 32) + d
        lo, hi = min(x, 1 << 32), max(x, 1 << 32)
        delta = count_segment(lo, hi, small_primes)
        assert prime_pi(x) == 203280221 + (delta if x > 1 << 32 else -delta)


@needs_primecount
def test_random_against_primecount():
    rng = np.random.default_rng(3)
    for e in rng.uniform(7, 13, size=20):
        x = int(10**e) + int(rng.integers(0, 1000))
        assert prime_pi(x) == primecountpy.prime_pi(x), x


@needs_primecount
@pytest.mark.slow
def test_random_against_primecount_1e15():
    rng = np.random.default_rng(5)
    for e in rng.uniform(12, 15, size=20):
        x = int(10**e) + int(rng.integers(0, 10**6))
        assert prime_pi(x) == primecountpy.prime_pi(x), x


@pytest.mark.slow
def test_around_2_53():
    assert prime_pi(1 << 53) == 252252704148404                    # OEIS A007053
    if primecountpy is not None:
        for x in ((1 << 53) - 1, (1 << 53) + 12345):
            assert prime_pi(x) == primecountpy.prime_pi(x)


@pytest.mark.slow
@pytest.mark.exhaustive
def test_around_2_63():
    x = 1 << 63
    got = prime_pi(x)
    assert got == 216289611853439384                               # OEIS A007053
    if primecountpy is not None:
        # primecountpy takes a C long: 2^63 - 1 is its limit (2^63 is not prime, same count)
        assert got == primecountpy.prime_pi(x - 1)
        assert prime_pi(x - 10**6) == primecountpy.prime_pi(x - 10**6)


@pytest.mark.slow
@pytest.mark.exhaustive
def test_top_of_range():
    """x = 2^64 - 1 (2^64 is composite, so this is pi(2^64) = A007053(64))."""
    assert prime_pi(U64_MAX) == 425656284035217743
    # (primecountpy cannot check this one: it takes a C long, x < 2^63)


# ---------------------------------------------------------------------------------------------
# internal consistency: parameters, threads, chunking, cache
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("alpha", [1.0, 1.7, 3.0, 25.0, 1000.0])
def test_alpha_does_not_matter(alpha):
    for x in (10**9 + 9, 3 * 10**10 + 1, 10**11):
        assert _pi.prime_pi_u64(x, 1, alpha) == prime_pi(x), (x, alpha)


def test_kernel_small_x_extreme_alpha():
    """The combinatorial kernel on small x with y at its lower limit x^(1/3) (where sqrt(x/y)
    can exceed y), at its upper limit sqrt(x), and in between, against a plain sieve."""
    n = 10**7
    cum = np.cumsum(odd_sieve(n), dtype=np.int32)
    rng = np.random.default_rng(17)
    for i, x in enumerate(rng.integers(10**5, n, size=400)):
        x = int(x)
        alpha = (1.0, 1.01, 2.5, 1e6)[i % 4]
        chunks = (0, 1, 3, 16)[i % 3]
        got = _pi.prime_pi_u64(x, 1 + i % 2, alpha, 0, chunks)
        assert got == int(cum[(x - 1) // 2]) + 1, (x, alpha, chunks)


@pytest.mark.parametrize("seg,chunks", [(1 << 16, 1), (1 << 16, 7), (1 << 16, 40), (1 << 17, 3), (1 << 20, 2)])
def test_segments_and_chunks(seg, chunks):
    """The chunk stitching (phi bases per b, prime-count bases) is exact for any split."""
    for x in (10**8 + 7, 10**10 + 19, 2 * 10**11 + 3):
        assert _pi.prime_pi_u64(x, 2, 0.0, seg, chunks) == prime_pi(x)
    with pytest.raises(ValueError, match="seg"):
        _pi.prime_pi_u64(10**10, 1, 0.0, 3 << 16, 1)


def test_threads_identical():
    rng = np.random.default_rng(99)
    xs = [10**12, 2**40 + 15] + [int(v) for v in rng.integers(10**9, 10**12, size=6)]
    for x in xs:
        one = _pi.prime_pi_u64(x, 1)
        two = _pi.prime_pi_u64(x, 2)
        assert one == two
    clear_cache()
    assert prime_pi(10**12, threads=2) == prime_pi(10**12 + 0, threads=1) == 37607912018


def test_cache():
    clear_cache()
    xs = [10**11 + i for i in range(0, 50, 7)]
    first = [prime_pi(x) for x in xs]
    info = cache_info()
    assert info["misses"] == len(xs) and info["hits"] == 0
    assert info["tables"] is not None
    t = time.perf_counter()
    again = [prime_pi(x) for x in xs]
    assert time.perf_counter() - t < 0.05
    assert again == first
    assert cache_info()["hits"] == len(xs)
    clear_cache(tables=True)
    assert cache_info()["tables"] is None
    assert [prime_pi(x) for x in xs] == first


def test_numpy_and_gmpy_integers():
    assert prime_pi(np.int64(1000)) == 168
    assert prime_pi(np.uint64(10**10)) == 455052511
    gmpy2 = pytest.importorskip("gmpy2")
    assert prime_pi(gmpy2.mpz(10**9)) == 50847534


# ---------------------------------------------------------------------------------------------
# errors and interrupts
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [1.0, 10.0**9, True, False, "100", None, 3 + 0j])
def test_type_errors(bad):
    with pytest.raises(TypeError, match="x"):
        prime_pi(bad)


def test_value_errors():
    with pytest.raises(ValueError, match=r"x must be in .*18446744073709551615"):
        prime_pi(1 << 64)
    with pytest.raises(ValueError, match="threads"):
        prime_pi(100, threads=0)
    with pytest.raises(TypeError, match="threads"):
        prime_pi(100, threads=1.5)
    assert prime_pi(U64_MAX - U64_MAX, threads=None) == 0


@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(), reason="needs main thread")
@pytest.mark.parametrize("threads", [1, 2])
def test_ctrl_c_interrupts(threads):
    """A SIGINT during a long count raises KeyboardInterrupt within about a second."""
    if not hasattr(signal, "pthread_kill"):
        pytest.skip("no pthread_kill")
    clear_cache()
    main = threading.get_ident()
    sent = []

    def fire():
        sent.append(time.perf_counter())
        signal.pthread_kill(main, signal.SIGINT)

    timer = threading.Timer(0.5, fire)
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            prime_pi(10**17 + 3, threads=threads)          # would take minutes
        latency = time.perf_counter() - sent[0]
    finally:
        timer.cancel()
    assert latency < 1.5, latency
    # the kernel is still usable afterwards
    assert prime_pi(10**10) == 455052511
