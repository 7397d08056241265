"""Exactness tests for nextdigit.prime_pi and nth_prime (Gourdon kernel nextdigit._pi).

References, all independent of our code: the table of pi(10^k) in ../shared/reference, plain
numpy sieves (whole range below 1e8, short segments up to 1e12 and around 2^32), sympy.primepi
and sympy.prime, primecountpy (GPL, tests only) where installed, and -- for each of the terms
Phi0, D, A + C, B, Sigma of the decomposition -- a slow evaluation of the term's definition leaf
by leaf (``reference_terms`` below: phi by its recursion, mu and lpf by trial division).
"""
from __future__ import annotations

import functools
import math
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from nextdigit import _pi
from nextdigit.nthprime import PI_U64_MAX, nth_prime
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
@pytest.mark.parametrize("alpha_z", [1.0, 2.5])
def test_alpha_does_not_matter(alpha, alpha_z):
    for x in (10**9 + 9, 3 * 10**10 + 1, 10**11):
        assert _pi.prime_pi_u64(x, 1, alpha, 0, 0, alpha_z) == prime_pi(x), (x, alpha, alpha_z)


def test_kernel_small_x_extreme_alpha():
    """The combinatorial kernel on small x with y at its lower limit x^(1/3) (where sqrt(x/y)
    can exceed y), at its upper limit sqrt(x), and in between, against a plain sieve."""
    n = 10**7
    cum = np.cumsum(odd_sieve(n), dtype=np.int32)
    rng = np.random.default_rng(17)
    for i, x in enumerate(rng.integers(10**6, n, size=400)):
        x = int(x)
        alpha = (1.0, 1.01, 2.5, 1e6)[i % 4]
        alpha_z = (1.0, 1.0, 1.7, 4.0, 100.0)[i % 5]
        chunks = (0, 1, 3, 16)[i % 3]
        got = _pi.prime_pi_u64(x, 1 + i % 2, alpha, 0, chunks, alpha_z)
        assert got == int(cum[(x - 1) // 2]) + 1, (x, alpha, alpha_z, chunks)


@pytest.mark.parametrize("seg,chunks", [(1 << 12, 1), (1 << 12, 7), (1 << 12, 40), (1 << 15, 3), (1 << 18, 2)])
def test_segments_and_chunks(seg, chunks):
    """The chunk stitching (phi bases per b, prime-count bases) is exact for any split."""
    for x in (10**8 + 7, 10**10 + 19, 2 * 10**11 + 3):
        assert _pi.prime_pi_u64(x, 2, 0.0, seg, chunks) == prime_pi(x)
    with pytest.raises(ValueError, match="seg"):
        _pi.prime_pi_u64(10**10, 1, 0.0, 3 << 12, 1)


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


# ---------------------------------------------------------------------------------------------
# every term of the decomposition against its definition, evaluated leaf by leaf
# ---------------------------------------------------------------------------------------------
def _factor(n: int, primes: list[int]) -> list[int]:
    out = []
    for p in primes:
        if p * p > n:
            break
        while n % p == 0:
            out.append(p)
            n //= p
    if n > 1:
        out.append(n)
    return out


def reference_terms(x: int, y: int, z: int, k: int = 8) -> dict:
    """Phi0, D, A + C ("AC"), B and Sigma of the kernel's decomposition (see the _pi module
    docstring), each from its definition, for small x:

        pi(x) = Phi0 + D + AC - B + Sigma
        Phi0  = sum over squarefree n <= z, prime factors in (p_k, y], of mu(n) phi(x/n, k)
        leaf (b, m): p = p_b > p_k, m squarefree, lpf(m) > p, prime factors <= y, m <= z < p m;
                     value -mu(m) phi(x / (p m), b - 1)
        D     = the leaves with p <= sqrt(z), or m composite, or x/(p m) >= p^2; AC = the rest
        B     = sum_{y < p <= sqrt x} pi(x / p)
        Sigma = pi(y) - 1 + sum_{y < p <= sqrt x} (pi(p) - 1)
    """
    sq = math.isqrt(x)
    n_top = max(x // y + 2, z + 2)
    s = odd_sieve(n_top)
    primes = [2] + [2 * int(i) + 1 for i in np.nonzero(s)[0]]
    pi_tab = np.zeros(n_top + 1, dtype=np.int64)
    pi_tab[np.array(primes)] = 1
    pi_tab = np.cumsum(pi_tab)
    P = [0] + primes                                        # 1-based
    a = int(pi_tab[y])
    mu, lpf, big = {}, {}, {}
    for m in range(1, z + 1):
        f = _factor(m, primes)
        mu[m] = 0 if len(set(f)) < len(f) else (-1) ** len(f)
        lpf[m] = f[0] if f else math.inf
        big[m] = bool(f) and f[-1] > y

    @functools.lru_cache(maxsize=None)
    def phi(u: int, b: int) -> int:
        if b == 0:
            return u
        if u < P[b]:
            return 1 if u >= 1 else 0
        return phi(u, b - 1) - phi(u // P[b], b - 1)

    phi0 = sum(mu[n] * phi(x // n, k) for n in range(1, z + 1) if mu[n] and lpf[n] > P[k] and not big[n])
    sqz = math.isqrt(z)
    D = AC = 0
    for b in range(k + 1, a + 1):
        p = P[b]
        for m in range(z // p + 1, z + 1):
            if mu[m] == 0 or lpf[m] <= p or big[m]:
                continue
            u = x // (p * m)
            leaf = -mu[m] * phi(u, b - 1)
            if p <= sqz or len(_factor(m, primes)) > 1 or u >= p * p:
                D += leaf
            else:
                AC += leaf
    big_p = [p for p in primes if y < p <= sq]
    B = sum(int(pi_tab[x // p]) for p in big_p)
    sigma = a - 1 + sum(int(pi_tab[p]) - 1 for p in big_p)
    return {"Phi0": phi0, "D": D, "AC": AC, "B": B, "Sigma": sigma,
            "total": phi0 + D + AC - B + sigma}


@pytest.mark.parametrize(
    "x,alpha,alpha_z",
    [(10**6 + 3, 0.0, 0.0), (3 * 10**6, 1.0, 1.0), (5 * 10**6 + 1, 4.0, 2.0), (10**7 + 19, 0.0, 0.0),
     (2 * 10**7, 1.5, 3.0), (4 * 10**7 + 7, 8.0, 1.0), (10**8, 0.0, 0.0), (10**8 - 1, 1.0, 1.7)],
)
def test_terms_against_their_definitions(x, alpha, alpha_z):
    got = _pi.prime_pi_u64(x, 1, alpha, 0, 0, alpha_z)
    st = _pi._last_stats()
    want = reference_terms(x, st["y"], st["z"])
    for term in ("Phi0", "D", "AC", "B", "Sigma"):
        assert st[term] == want[term], (term, x, st["y"], st["z"])
    assert got == want["total"] == st["Phi0"] + st["D"] + st["AC"] - st["B"] + st["Sigma"]
    assert got == int(odd_sieve(x).sum()) + 1


def test_factor_table_entries():
    """The compact factor table: 0xFFFE for 1, 0xFFFF for primes <= fy, 0 for mu = 0 or a prime
    factor above fy, else 2 * pi(lpf) + (mu == -1)."""
    n, fy = 30000, 7000
    T = _pi._tables_for_tests(n + 100, n, fy)
    primes = [2] + [2 * int(i) + 1 for i in np.nonzero(odd_sieve(n))[0]]
    index = {p: i + 1 for i, p in enumerate(primes)}
    for m in range(1, n + 1):
        if math.gcd(m, 2310) != 1:
            continue
        f = _factor(m, primes)
        if m == 1:
            want = 0xFFFE
        elif len(set(f)) < len(f) or f[-1] > fy:
            want = 0
        elif len(f) == 1:
            want = 0xFFFF
        else:
            want = 2 * index[f[0]] + (len(f) % 2)
        assert T.factor_entry(m) == want, m


def test_instruction_set_levels_agree():
    """The baseline, POPCNT/BMI2/AVX2 and AVX-512 variants of the kernels give the same terms
    (levels the CPU lacks fall back to the best it has)."""
    best = _pi._set_level(-1)
    try:
        results = {}
        for level in (0, 1, 2):
            used = _pi._set_level(level)
            for x in (10**9 + 7, 10**11 + 3, 3 * 10**12 + 1):
                v = _pi.prime_pi_u64(x, 1 + x % 2)
                st = _pi._last_stats()
                results.setdefault(x, []).append((v, st["D"], st["AC"], st["B"], used))
        for x, rows in results.items():
            assert len({r[:4] for r in rows}) == 1, (x, rows)
    finally:
        assert _pi._set_level(-1) == best


def test_threads_and_chunks_terms_identical():
    x = 7 * 10**12 + 11
    one = _pi.prime_pi_u64(x, 1)
    t1 = {k: _pi._last_stats()[k] for k in ("D", "AC", "B")}
    two = _pi.prime_pi_u64(x, 2, 0.0, 1 << 12, 37)
    t2 = {k: _pi._last_stats()[k] for k in ("D", "AC", "B")}
    assert one == two and t1 == t2


@needs_primecount
@pytest.mark.slow
def test_random_against_primecount_1e17():
    rng = np.random.default_rng(23)
    for e in list(rng.uniform(13, 16.5, size=10)) + [16.8, 17.0]:
        x = int(10**e) + int(rng.integers(0, 10**9))
        assert prime_pi(x) == primecountpy.prime_pi(x), x


def test_progress_bar(monkeypatch, capsys):
    from nextdigit import pi as pimod

    clear_cache()
    monkeypatch.setattr(pimod, "PROGRESS_MIN_SECONDS", 0.0)
    assert prime_pi(10**12 + 39, progress=True) == primecount_value(10**12 + 39)
    err = capsys.readouterr().err
    assert "pi(1000000000039)" in err
    with pytest.raises(TypeError, match="progress"):
        prime_pi(10**9, progress="yes")


def primecount_value(x: int) -> int:
    """pi(x) for x near 1e12 from the reference table and a sieved segment (no primecount)."""
    base = _powers_of_ten()[12]
    primes = np.concatenate([[2], 2 * np.nonzero(odd_sieve(1 << 21))[0] + 1]).astype(np.int64)
    return base + count_segment(10**12, x, primes)


# ---------------------------------------------------------------------------------------------
# nth_prime
# ---------------------------------------------------------------------------------------------
def test_nth_prime_against_sympy():
    sympy = pytest.importorskip("sympy")
    rng = np.random.default_rng(31)
    ns = [1, 2, 3, 4, 5, 6, 25, 168, 169, 664579, 664580, 664581, 10**6] + [
        int(v) for v in rng.integers(1, 10**7, size=15)]
    for n in ns:
        assert nth_prime(n) == int(sympy.prime(n)), n


def test_nth_prime_round_trips():
    """pi(nth_prime(n)) == n and nth_prime(n) is prime, and nth_prime(n) - 1 has pi == n - 1."""
    gmpy2 = pytest.importorskip("gmpy2")
    rng = np.random.default_rng(37)
    ns = [10**7, 10**8 + 1, 10**9, 4118054813, 4118054814] + [int(10**e) for e in rng.uniform(7, 11.5, size=8)]
    for n in ns:
        p = nth_prime(n)
        assert gmpy2.is_prime(p), n
        assert prime_pi(p) == n and prime_pi(p - 1) == n - 1, n


@pytest.mark.slow
def test_nth_prime_round_trips_large():
    """Random n up to 1e17 (p_n up to ~4e18): p prime and pi(p) == n pin p down as p_n.

    log10 n uniform in [12, 17) (this seed draws 16.77, 15.84, 12.63, 16.13), and the top of the
    range, 10**17 - 3."""
    gmpy2 = pytest.importorskip("gmpy2")
    rng = np.random.default_rng(41)
    ns = [int(10**e) + int(rng.integers(0, 10**6)) for e in rng.uniform(12, 17, size=4)]
    assert max(ns) > 5 * 10**16
    for n in ns + [10**17 - 3]:
        p = nth_prime(n)
        assert gmpy2.is_prime(p), n
        assert prime_pi(p) == n, n


def test_nth_prime_small_table_bound():
    from nextdigit import nthprime, pi as pimod

    assert nthprime._PI_SMALL == prime_pi(pimod.SMALL_LIMIT - 1) == prime_pi(pimod.SMALL_LIMIT)


def test_nth_prime_known_values():
    # OEIS A006988: p_(10^k)
    known = {10**9: 22801763489, 10**10: 252097800623, 10**11: 2760727302517}
    for n, p in known.items():
        assert nth_prime(n) == p


@pytest.mark.slow
@pytest.mark.exhaustive
def test_nth_prime_top():
    assert nth_prime(PI_U64_MAX) == (1 << 64) - 59          # the largest prime below 2^64


@pytest.mark.parametrize("bad", [1.0, 3.5, True, "7", None, 2 + 0j])
def test_nth_prime_type_errors(bad):
    with pytest.raises(TypeError, match="n"):
        nth_prime(bad)


def test_nth_prime_value_errors():
    for bad in (0, -1, -(10**30), PI_U64_MAX + 1, 1 << 64):
        with pytest.raises(ValueError, match=r"n must be in \[1, pi\(2\*\*64 - 1\)"):
            nth_prime(bad)
    with pytest.raises(ValueError, match="threads"):
        nth_prime(10, threads=0)
    with pytest.raises(TypeError, match="progress"):
        nth_prime(10, progress=1)
    assert nth_prime(np.int64(10)) == 29
    gmpy2 = pytest.importorskip("gmpy2")
    assert nth_prime(gmpy2.mpz(100)) == 541
