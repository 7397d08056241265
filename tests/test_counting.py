"""Counting engine (nextdigit.counting over the nextdigit._sieve kernel) against independent
references: published pi(10^k), n-digit prime counts, a textbook numpy sieve, gmpy2."""
from __future__ import annotations

import signal
import time
from pathlib import Path

import gmpy2
import numpy as np
import pytest

from nextdigit import _sieve
from nextdigit import counting as C
from nextdigit.counting import count_primes, prime_histogram, primes_between

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference"
TWO64 = 1 << 64


def _table(name: str) -> dict[int, int]:
    path = REFERENCE / name
    if not path.exists():
        pytest.skip(f"reference table {path} not found (expected ../shared/reference beside the repo)")
    rows = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            k, v = line.split("\t")[:2]
            rows[int(k)] = int(v)
    return rows


@pytest.fixture(scope="module")
def small_primes() -> np.ndarray:
    """All primes below 10^7 by the textbook sieve (the oracle)."""
    n = 10**7
    s = np.ones(n, dtype=bool)
    s[:2] = False
    for i in range(2, int(n**0.5) + 1):
        if s[i]:
            s[i * i :: i] = False
    return np.flatnonzero(s).astype(np.uint64)


def _gmpy_primes(a: int, b: int) -> list[int]:
    return [n for n in range(max(a, 0), b) if gmpy2.is_prime(n)]


# --------------------------------------------------------------------------------------------
# Published values
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("k", range(0, 11))
def test_pi_powers_of_ten(k):
    table = _table("pi_powers_of_ten.tsv")
    assert count_primes(0, 10**k + 1) == table[k]                   # whichever route is cheaper
    assert count_primes(0, 10**k + 1, _mode="sieve") == table[k]    # and the sieve itself


@pytest.mark.slow
def test_pi_1e11():
    assert count_primes(0, 10**11 + 1, _mode="sieve") == _table("pi_powers_of_ten.tsv")[11]


@pytest.mark.parametrize("n", range(1, 11))
def test_ndigit_prime_counts(n):
    table = _table("ndigit_prime_counts.tsv")
    assert count_primes(10 ** (n - 1), 10**n) == table[n]
    assert count_primes(10 ** (n - 1), 10**n, _mode="sieve") == table[n]


def test_ndigit_histogram_matches_table():
    """One histogram pass over [0, 10^9) in buckets of 10^8, summed per digit count."""
    table = _table("ndigit_prime_counts.tsv")
    h = prime_histogram(0, 10**8, 10)
    assert int(h[0]) == sum(table[n] for n in range(1, 9))
    assert int(h[1:].sum()) == table[9]


# --------------------------------------------------------------------------------------------
# Random intervals against the oracles
# --------------------------------------------------------------------------------------------
def test_random_intervals_below_1e7(small_primes):
    rng = np.random.default_rng(20240611)
    P = small_primes
    for _ in range(400):
        a = int(rng.integers(0, 10**7))
        b = int(rng.integers(a, min(10**7, a + 10 ** int(rng.integers(0, 8))) + 1))
        i, j = np.searchsorted(P, a), np.searchsorted(P, b)
        assert count_primes(a, b) == j - i, (a, b)
        if rng.random() < 0.2:
            assert np.array_equal(primes_between(a, b), P[i:j]), (a, b)


def test_every_prime_below_1e7(small_primes):
    got = primes_between(0, 10**7)
    assert got.dtype == np.uint64
    assert np.array_equal(got, small_primes)


@pytest.mark.parametrize("seg_bytes,small_max,med_max", [(64, 50, 64), (256, 100, 200), (1024, 41, 41)])
def test_tiny_segments_exercise_every_layer(small_primes, seg_bytes, small_max, med_max):
    """Tiny segments make most sieving primes 'big' (bucket sieve) and cross many segment
    borders; the result must not change."""
    rng = np.random.default_rng(seg_bytes)
    P = small_primes
    for _ in range(30):
        a = int(rng.integers(0, 10**7 - 10**6))
        b = a + int(rng.integers(1, 10**6))
        got = _sieve.run(0, a, b - 1, seg_bytes=seg_bytes, chunk_bytes=64, small_max=small_max, med_max=med_max)
        assert got == np.searchsorted(P, b) - np.searchsorted(P, a), (a, b)


@pytest.mark.parametrize("center", [1 << 32, 1 << 50, 10**18, 10**12 + 7])
def test_windows_against_gmpy2(center):
    rng = np.random.default_rng(center % 1000)
    for _ in range(3):
        a = center + int(rng.integers(-20000, 20000))
        b = a + int(rng.integers(1, 6000))
        ref = _gmpy_primes(a, b)
        assert count_primes(a, b) == len(ref)
        assert primes_between(a, b).tolist() == ref


def test_top_of_the_u64_range():
    ref = _gmpy_primes(TWO64 - 3000, TWO64)
    assert ref[-1] == TWO64 - 59                       # the largest 64-bit prime
    assert primes_between(TWO64 - 3000, TWO64).tolist() == ref
    assert count_primes(TWO64 - 3000, TWO64) == len(ref)
    assert count_primes(TWO64 - 59, TWO64) == 1
    assert count_primes(TWO64 - 58, TWO64) == 0
    assert count_primes(TWO64, TWO64) == 0
    h = prime_histogram(TWO64 - 3000, 100, 30)
    assert h.tolist() == [sum(1 for p in ref if TWO64 - 3000 + 100 * i <= p < TWO64 - 2900 + 100 * i)
                          for i in range(30)]


def test_intervals_touching_small_numbers():
    small = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47]
    for a in range(-3, 50):
        for b in range(max(a, 0), 50):
            exp = [p for p in small if a <= p < b]
            assert count_primes(a, b) == len(exp), (a, b)
            assert primes_between(a, b).tolist() == exp, (a, b)
    assert count_primes(0, 0) == 0 and count_primes(-10, -5) == 0 and count_primes(-10, 3) == 1


# --------------------------------------------------------------------------------------------
# Histogram, list, modes, threads
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("a,width,m", [(0, 1, 100), (0, 7, 1000), (12345, 1000, 777), (-50, 13, 40),
                                       (10**12, 10**4, 50), (10**18, 1000, 100), (3, 10**6, 5)])
def test_histogram_sums_equal_counts(a, width, m):
    h = prime_histogram(a, width, m)
    assert h.dtype == np.uint64 and h.shape == (m,)
    for i in list(range(min(m, 5))) + [m - 1]:
        assert int(h[i]) == count_primes(a + i * width, a + (i + 1) * width)
    assert int(h.sum()) == count_primes(a, a + width * m)


def test_histogram_threads_and_modes_agree():
    ref = prime_histogram(10**9, 12345, 4000, threads=1)
    assert np.array_equal(prime_histogram(10**9, 12345, 4000, threads=2), ref)
    a = 10**16
    r1 = prime_histogram(a, 777, 300, _mode="window")
    assert np.array_equal(prime_histogram(a, 777, 300, _mode="sieve"), r1)


def test_primes_between_follows_next_prime_chain():
    for start in (0, 10**6, 2**40, 10**17, TWO64 - 10**5):
        got = primes_between(start, start + 20000).tolist()
        p = gmpy2.next_prime(start - 1) if start > 0 else gmpy2.mpz(2)
        chain = []
        while p < start + 20000:
            chain.append(int(p))
            p = gmpy2.next_prime(p)
        assert got == chain
        assert len(got) == count_primes(start, start + 20000)


@pytest.mark.parametrize("a,span", [(10**12, 10**6), (2**40 + 1, 3 * 10**6), (10**14 - 5 * 10**5, 10**6),
                                    (2**32 - 1000, 2000)])
def test_window_and_sieve_modes_agree(a, span):
    cs = count_primes(a, a + span, _mode="sieve")
    cw = count_primes(a, a + span, _mode="window")
    assert cs == cw
    assert np.array_equal(primes_between(a, a + span, _mode="sieve"),
                          primes_between(a, a + span, _mode="window"))


def test_kernel_confirm_mode_agrees():
    """The in-kernel confirmation (is_prime_u64 per survivor) against the full sieve."""
    a, b = 10**15, 10**15 + 200000
    got = _sieve.run(0, a, b - 1, limit=1 << 12, confirm=True, confirm_above=(1 << 24))
    assert got == count_primes(a, b, _mode="sieve")


# --------------------------------------------------------------------------------------------
# The sieve kernel itself: every layer, piece split, thread count and vector path
# --------------------------------------------------------------------------------------------
def _numpy_window(a: int, b: int, base: np.ndarray) -> np.ndarray:
    """The primes in [a, b) by a plain numpy sieve of the window (base: every prime <= sqrt(b))."""
    s = np.ones(b - a, dtype=bool)
    for p in base[base * base < b].tolist():
        s[max(p * p, (a + p - 1) // p * p) - a :: p] = False
    s[: max(0, min(2, b) - a)] = False
    return np.flatnonzero(s).astype(np.uint64) + np.uint64(a)


@pytest.mark.parametrize("center", [0, 10**7, 10**10, 2**40, 10**13])
def test_kernel_random_windows_against_numpy(small_primes, center):
    """Random windows (fixed seed; most shorter than one segment, some spanning many) against a
    plain numpy sieve: counts, lists and histograms, on 1 and 2 threads and 1..5 pieces."""
    rng = np.random.default_rng(center + 19)
    for _ in range(12 if center < 2**40 else 4):      # high up the numpy sieve itself is slow
        a = center + int(rng.integers(0, 10**6))
        b = a + int(rng.integers(1, 10 ** int(rng.integers(1, 7))))
        ref = _numpy_window(a, b, small_primes)
        for threads, pieces, rr in ((1, 0, -1), (2, 0, -1), (2, int(rng.integers(2, 6)), 0), (1, 3, 0), (2, 0, 1)):
            kw = dict(threads=threads, pieces=pieces, rr=rr)
            assert _sieve.run(0, a, b - 1, **kw) == len(ref), (a, b, kw)
            assert np.array_equal(_sieve.run(1, a, b - 1, **kw), ref), (a, b, kw)
        w = int(rng.integers(1, max(2, (b - a) // 3) + 1))
        m = (b - a + w - 1) // w
        exp = np.bincount(((ref - np.uint64(a)) // np.uint64(w)).astype(np.intp), minlength=m).tolist()
        for kw in (dict(pieces=int(rng.integers(1, 6)), rr=0), dict(rr=1)):
            h = np.zeros(m, dtype=np.uint64)
            _sieve.run(3, a, b - 1, threads=2, h_a=a, h_w=w, h_out=h, **kw)
            assert h.tolist() == exp, (a, b, w, kw)


@pytest.mark.parametrize("seg_bytes,chunk,small_max,med_max", [
    (64, 64, 170, 200),          # everything above 251 (the pre-sieve's depth, the floor of both bounds)
                                 # in the bucket sieve, segments of 1920 numbers
    (256, 64, 300, 1000),        # all three tiers; small primes larger than the chunk
    (1024, 256, 2000, 5000),
    (1 << 14, 1 << 12, 1 << 11, 1 << 14),
    (1 << 16, 0, 0, 0),          # defaults for the rest
])
def test_kernel_tiers_and_segments(small_primes, seg_bytes, chunk, small_max, med_max):
    """Small segments move most sieving primes to the medium and big tiers and make every
    window cross many segment and piece borders (with big primes whose square lies inside a
    piece: the lazy path); the result must not change."""
    rng = np.random.default_rng(seg_bytes)
    P = small_primes
    for _ in range(6):
        a = int(rng.integers(0, 10**7 - 10**6))
        b = a + int(rng.integers(1, 10**6))
        ref = np.searchsorted(P, b) - np.searchsorted(P, a)
        for threads, pieces, rr in ((1, 1, 0), (2, 3, 0), (2, 0, 1), (1, 0, 1)):
            got = _sieve.run(0, a, b - 1, seg_bytes=seg_bytes, chunk_bytes=chunk, small_max=small_max,
                             med_max=med_max, threads=threads, pieces=pieces, rr=rr)
            assert got == ref, (a, b, threads, pieces, rr)
    ref = _numpy_window(10**12, 10**12 + 10**5, P)
    for kw in (dict(pieces=4, rr=0), dict(rr=1)):
        got = _sieve.run(1, 10**12, 10**12 + 10**5 - 1, seg_bytes=seg_bytes, chunk_bytes=chunk,
                         small_max=small_max, med_max=med_max, threads=2, **kw)
        assert np.array_equal(got, ref), kw


@pytest.mark.parametrize("seg_bytes", [64, 256, 4096])
def test_kernel_round_robin_lists_share_one_buffer(small_primes, seg_bytes):
    """Round-robin lists: every thread writes its segments' primes straight into one buffer at
    the sum of the earlier segments' counts (the vector extraction must not spill into the next
    segment's items, which another thread may have written).  Many small segments, 1-4 threads,
    uint64 and uint32 lists, against a plain numpy sieve; dense windows (every segment holds a
    few primes) and sparse ones high up (many segments hold none or one)."""
    rng = np.random.default_rng(seg_bytes + 7)
    windows = [(0, 3 * 10**5), (2**32 - 10**5, 2**32 - 1)]
    windows += [(a, a + int(rng.integers(10**4, 2 * 10**5))) for a in rng.integers(10**6, 10**9, size=3).tolist()]
    windows += [(10**12 + 11, 10**12 + 10**5), (10**13, 10**13 + 3 * 10**4)]
    for a, b in windows:
        ref = _numpy_window(a, b + 1, small_primes)
        for threads in (1, 2, 3, 4):
            for consume, dtype in ((1, np.uint64), (2, np.uint32)):
                if consume == 2 and b >= 2**32:
                    continue
                got = _sieve.run(consume, a, b, seg_bytes=seg_bytes, threads=threads, rr=1)
                assert got.dtype == dtype and np.array_equal(got.astype(np.uint64), ref), (a, b, threads, consume)


def test_kernel_presieve_depth_at_every_level():
    """The pre-sieve removes the multiples of 7..251 (not the primes themselves) at every vector
    level: with limit = 100 (no sieving prime above the pre-sieve) the survivors are exactly the
    numbers coprime to every prime <= 251, plus those primes; windows start and end inside the
    first 9 bytes of the number line (where the primes 7..251 are restored), and high up."""
    small = [p for p in range(2, 252) if all(p % d for d in range(2, int(p**0.5) + 1))]

    def rough(a: int, b: int) -> list[int]:
        return [n for n in range(a, b + 1) if n in small or (n > 1 and all(n % p for p in small))]

    windows = [(0, 300), (7, 40), (31, 250), (200, 5000), (241, 263), (10**12 - 3000, 10**12 + 3000),
               (2**64 - 4000, 2**64 - 1)]
    refs = [rough(a, b) for a, b in windows]
    assert refs[0] == [int(p) for p in range(301) if gmpy2.is_prime(p)]       # below 251**2 = the primes
    best = _sieve.set_simd(99)
    try:
        for level in range(best + 1):
            assert _sieve.set_simd(level) == level
            for (a, b), ref in zip(windows, refs):
                got = _sieve.run(1, a, b, limit=100)
                assert got.tolist() == ref, (level, a, b)
                assert _sieve.run(0, a, b, limit=100) == len(ref), (level, a, b)
    finally:
        _sieve.set_simd(99)


def test_kernel_vector_paths_agree():
    """The pre-sieve (AVX-512BW / AVX2 / SSE2 / C), the popcount (VPOPCNTDQ / POPCNT / C) and the
    first-multiple kernel (AVX-512 / C) give the same results at every level."""
    windows = [(0, 10**6), (10**12, 10**12 + 10**6), (10**16 + 7, 10**16 + 3 * 10**6), (TWO64 - 10**5, TWO64 - 1)]
    best = _sieve.set_simd(99)
    kw = [{}, {}, {}, dict(limit=1 << 20)]    # (near 2**64 a partial sieve: the exact one takes seconds)
    try:
        ref = [(_sieve.run(0, a, b, **k), _sieve.run(1, a, b, **k)) for (a, b), k in zip(windows, kw)]
        for level in range(best + 1):
            assert _sieve.set_simd(level) == level
            for (a, b), k, (c, lst) in zip(windows, kw, ref):
                assert _sieve.run(0, a, b, **k) == c, (level, a)
                assert np.array_equal(_sieve.run(1, a, b, **k), lst), (level, a)
    finally:
        _sieve.set_simd(99)


@pytest.mark.parametrize("a,span,pieces", [(10**14, 3 * 10**6, 1), (10**14 + 123, 3 * 10**6, 3), (10**16, 10**6, 2)])
def test_kernel_big_primes_against_window_mode(a, span, pieces):
    """High up, most sieving primes are big (bucket sieve, producers, several pieces): the full
    sieve against the window mode (sieve to 2**20 and BPSW on the survivors)."""
    ref = primes_between(a, a + span, _mode="window")
    for threads, rr in ((1, 0), (2, 0), (2, 1)):
        assert np.array_equal(_sieve.run(1, a, a + span - 1, threads=threads, pieces=pieces, rr=rr), ref), (threads, rr)


def test_kernel_windows_ending_at_2_64():
    """Windows [2**64 - s, 2**64) (the kernel's hi = 2**64 - 1) against gmpy2, from one number
    to a few wheel bytes and beyond; sieved by the primes below 2**20 with the survivors above
    2**40 confirmed by BPSW (the exact sieve up there is in the slow test below)."""
    ref = _gmpy_primes(TWO64 - 4000, TWO64)
    kw = dict(limit=1 << 20, confirm=True, confirm_above=1 << 40)
    for s in (1, 29, 30, 31, 59, 60, 61, 240, 1000, 4000):
        exp = [p for p in ref if p >= TWO64 - s]
        assert _sieve.run(0, TWO64 - s, TWO64 - 1, **kw) == len(exp), s
        assert _sieve.run(1, TWO64 - s, TWO64 - 1, **kw).tolist() == exp
    h = np.zeros(40, dtype=np.uint64)
    _sieve.run(3, TWO64 - 4000, TWO64 - 1, threads=2, pieces=3, h_a=TWO64 - 4000, h_w=100, h_out=h, **kw)
    assert h.tolist() == [sum(1 for p in ref if TWO64 - 4000 + 100 * i <= p < TWO64 - 3900 + 100 * i) for i in range(40)]


@pytest.mark.slow
def test_kernel_exact_sieve_ending_at_2_64():
    """The exact sieve (all 203 million sieving primes below 2**32) on windows ending at 2**64."""
    ref = _gmpy_primes(TWO64 - 4000, TWO64)
    assert _sieve.run(1, TWO64 - 4000, TWO64 - 1, threads=2).tolist() == ref
    a = TWO64 - 3 * 10**6
    assert np.array_equal(_sieve.run(1, a, TWO64 - 1, threads=2, pieces=3), primes_between(a, TWO64, _mode="window"))


def test_histograms_identical_on_1_and_2_threads():
    """Every histogram is the same on 1 and 2 threads, wide buckets shared by pieces included."""
    rng = np.random.default_rng(1919)
    cases = [(0, 10**9, 1), (0, 3 * 10**8, 3), (10**9, 12345, 4000), (10**12, 10**7, 7), (10**15, 10**5, 300)]
    for _ in range(8):
        cases.append((int(rng.integers(0, 10**13)), int(rng.integers(1, 10**6)), int(rng.integers(1, 200))))
    for a, w, m in cases:
        h1 = prime_histogram(a, w, m, threads=1, _mode="sieve")
        h2 = prime_histogram(a, w, m, threads=2, _mode="sieve")
        assert np.array_equal(h1, h2), (a, w, m)
        assert int(h2.sum()) == count_primes(a, a + w * m, threads=2, _mode="sieve")


def test_kernel_reports_caches_and_parameters():
    l1, l2 = _sieve.cache_sizes()
    assert 16 << 10 <= l1 <= 1 << 20 and 128 << 10 <= l2 <= 64 << 20
    for a, b in ((0, 10**6), (0, 10**10), (10**15, 10**15 + 10**9), (10**18, 10**18 + 10**9)):
        p = _sieve.default_params(a, b, threads=2)
        s = p["seg_bytes"]
        assert s & (s - 1) == 0 and s <= max(l2 // 2, 1 << 16)
        assert p["small_max"] <= p["med_max"] and p["has_big"] == (p["limit"] > p["med_max"])
        assert 1 <= p["pieces"] <= (2 if p["has_big"] else 16)
    assert _sieve.default_params(10**18, 10**18 + 10**9, threads=2)["pieces"] == 2
    assert _sieve.default_params(10**18, 10**18 + 10**9, threads=2)["round_robin"]
    with pytest.raises(ValueError, match="seg_bytes"):
        _sieve.run(0, 0, 100, seg_bytes=100)
    with pytest.raises(ValueError, match="lo must be <= hi"):
        _sieve.run(0, 10, 5)


@pytest.mark.slow
def test_modes_agree_near_2_64():
    a = TWO64 - 10**7
    assert count_primes(a, TWO64, _mode="sieve") == count_primes(a, TWO64, _mode="window")


def test_threads_agree():
    a, b = 10**11, 10**11 + 3 * 10**8
    assert count_primes(a, b, threads=1) == count_primes(a, b, threads=2) == count_primes(a, b)


def test_mode_choice():
    assert C._choose_mode(0, 10**10) == "sieve"
    assert C._choose_mode(10**18, 10**18 + 10**6) == "window"
    assert C._choose_mode(10**18, 10**18 + 10**9) == "sieve"
    assert C._choose_mode(TWO64 - 10**6, TWO64 - 1) == "window"


def test_sieving_primes_cache_slices():
    full = C._sieving_primes(10**6)
    part = C._sieving_primes(1000)
    assert part.tolist() == [int(p) for p in full if p <= 1000]
    assert int(full[-1]) == 999983


def test_ctrl_c_interrupts_a_long_count():
    """SIGINT during a long count raises KeyboardInterrupt within ~0.1 s of the signal."""
    if not hasattr(signal, "setitimer"):
        pytest.skip("no setitimer on this platform")
    def interrupt(*_):
        raise KeyboardInterrupt   # what Python's SIGINT handler does (without a second signal)

    old = signal.signal(signal.SIGALRM, interrupt)    # the handler first, then the timer
    signal.setitimer(signal.ITIMER_REAL, 0.3)
    t = time.perf_counter()
    try:
        with pytest.raises(KeyboardInterrupt):
            count_primes(0, 10**12 // 2, threads=1, _mode="sieve")  # force the sieve (pi is fast)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    assert time.perf_counter() - t < 2.0


# --------------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [1.0, True, "10", None, np.float64(3), 2.5])
def test_type_errors(bad):
    with pytest.raises(TypeError, match="a must be an integer"):
        count_primes(bad, 10)
    with pytest.raises(TypeError, match="b must be an integer"):
        count_primes(0, bad)
    with pytest.raises(TypeError, match="b must be an integer"):
        primes_between(0, bad)
    with pytest.raises(TypeError, match="width must be an integer"):
        prime_histogram(0, bad, 3)
    with pytest.raises(TypeError, match="m must be an integer"):
        prime_histogram(0, 3, bad)
    if bad is not None:                                # threads=None means "all cores"
        with pytest.raises(TypeError, match="threads must be an integer"):
            count_primes(0, 10, threads=bad)


def test_value_errors():
    with pytest.raises(ValueError, match="a must be <= b"):
        count_primes(10, 5)
    with pytest.raises(ValueError, match="a must be <= b"):
        primes_between(10, 5)
    with pytest.raises(ValueError, match="width must be >= 1"):
        prime_histogram(0, 0, 5)
    with pytest.raises(ValueError, match="m must be >= 1"):
        prime_histogram(0, 5, 0)
    with pytest.raises(ValueError, match="threads"):
        count_primes(0, 10, threads=0)
    with pytest.raises(ValueError, match="too large"):
        prime_histogram(0, 2 * 10**6, 2**20)           # a fine histogram must be sieved: too long
    with pytest.raises(ValueError, match="DensityPrimeModel"):
        count_primes(TWO64, TWO64 + 10**11)            # too long above 2**64: approximate route
    assert count_primes(0, 10**12 + 1) == 37607912018    # beyond the sieve limit: the pi route
    with pytest.raises(ValueError, match="too large to sieve"):
        count_primes(0, 10**12 + 1, _mode="sieve")
    with pytest.raises(ValueError, match="count_primes or prime_histogram"):
        primes_between(0, 10**11)
    with pytest.raises(ValueError, match="_mode"):
        count_primes(0, 10, _mode="fast")


def test_numpy_and_gmpy_integers_accepted():
    assert count_primes(np.int64(0), np.uint64(100)) == 25
    assert count_primes(gmpy2.mpz(0), gmpy2.mpz(100)) == 25
    assert prime_histogram(np.int32(0), np.int8(10), 3).tolist() == [4, 4, 2]


def test_scale_out_executor_and_checkpoint(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    from nextdigit import counting as scale

    old = scale.PIECE
    scale.PIECE = 1 << 20
    try:
        ref = count_primes(10**9, 10**9 + 10**7)
        with ThreadPoolExecutor(2) as ex:
            assert count_primes(10**9, 10**9 + 10**7, executor=ex, _mode="sieve") == ref
            h = prime_histogram(10**9, 10**5, 100, executor=ex)
        assert h.tolist() == prime_histogram(10**9, 10**5, 100, _mode="sieve").tolist()
        ck = tmp_path / "job.json"
        assert count_primes(10**9, 10**9 + 10**7, checkpoint=str(ck), _mode="sieve") == ref
        assert not ck.exists()  # removed once complete
        ck.write_text('{"key": {"job": "other"}, "done": {}}')
        with pytest.raises(ValueError, match="another job"):
            count_primes(10**9, 10**9 + 10**7, checkpoint=str(ck), _mode="sieve")
    finally:
        scale.PIECE = old
