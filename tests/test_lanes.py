"""The BPSW lanes (``_lanes``: IFMA, AVX2 and portable routes) and the batch BPSW on top of them
(``_bpsw``), against gmpy2 on every number of the cases (independent implementation: GMP).
Every test runs once per route; the tests of ``_bpsw`` force the route and check (by the
kernels' batch counters and the GMP call counter) that it is the route that ran."""
import os
import random
import subprocess
import sys

import gmpy2
import numpy as np
import pytest

from nextdigit import _bpsw, _lanes

# strong Lucas-Selfridge pseudoprimes (OEIS A217255): pass Lucas, fail base 2
STRONG_LUCAS_PSP = [5459, 5777, 10877, 16109, 18971, 22499, 24569, 25199, 40309, 58519, 75077, 97439]
# strong base-2 pseudoprimes (OEIS A001262) and the largest 64-bit-ish ones
SPSP2 = [2047, 3277, 4033, 4681, 8321, 15841, 29341, 42799, 49141, 52633, 3215031751, 3825123056546413051]

KERNEL_ROUTES = list(_lanes.ROUTES)
ALL_ROUTES = [*KERNEL_ROUTES, "gmp"]


@pytest.fixture(params=KERNEL_ROUTES)
def route(request):
    if not _lanes.available(request.param):
        pytest.skip(f"this CPU cannot run the {request.param} route")
    return request.param


@pytest.fixture(params=ALL_ROUTES)
def forced(request, monkeypatch):
    """Force ``_bpsw.ROUTE``; yields a function that asserts afterwards that this route (and no
    other) did the work."""
    r = request.param
    if r != "gmp" and not _lanes.available(r):
        pytest.skip(f"this CPU cannot run the {r} route")
    monkeypatch.setattr(_bpsw, "ROUTE", r)
    before = {q: _lanes.batches(q) for q in KERNEL_ROUTES}
    gmp_before = _bpsw.GMP_CALLS

    def check(allow_gmp: bool = False, few: bool = False):
        """``few``: the work came in batches too small for a vector batch to pay off, which the
        vector routes hand to the portable one (``_bpsw.MIN_FILL``)."""
        ran = {q for q in KERNEL_ROUTES if _lanes.batches(q) > before[q]}
        if r == "gmp":
            assert ran == set() and _bpsw.GMP_CALLS > gmp_before
        else:
            assert ran <= {r, "portable"} and ran
            if not few:
                assert r in ran
            if not allow_gmp:
                assert _bpsw.GMP_CALLS == gmp_before

    check.route = r
    return check


def limbs(xs):
    return _bpsw.limbs_array(xs)


def _sizes(route):
    """Sizes around the limb boundaries of the route, up to its largest."""
    lb, slack = _lanes.limb_bits(route), 2 if route != "portable" else 0
    out = {2, 3, 51, 52, 53, 64, 65, 103, 104, 105, 156, 157, 333, 352, 512, 520, 1013, 1024, 1040, 2048, 2080}
    for k in (1, 2, 3, 10, 19, 20, 21, 32, 33, 64, 65, 126, 127):
        out |= {lb * k - slack - 1, lb * k - slack, lb * k - slack + 1}
    out.add(_lanes.max_bits(route))
    return sorted(b for b in out if 2 <= b <= _lanes.max_bits(route))


@pytest.mark.parametrize("which", ["small", "medium", "large"])
def test_sprp2_matches_gmpy2(route, which):
    sizes = _sizes(route)
    sizes = [b for b in sizes if (b <= 600 if which == "small" else 600 < b <= 2100 if which == "medium" else b > 2100)]
    rnd = random.Random(hash((route, which)) & 0xFFFF)
    for bits in sizes:
        xs = [rnd.getrandbits(bits) | 1 | (1 << (bits - 1)) for _ in range(16 if bits <= 2100 else 8)]
        xs = [x for x in xs if x >= 3]
        xs += [int(gmpy2.next_prime(x)) for x in xs[: 4 if bits <= 2100 else 0]]   # next_prime is slow above
        got = _lanes.sprp2(route, limbs(xs))
        assert [bool(g) for g in got] == [bool(gmpy2.is_strong_prp(x, 2)) for x in xs], bits
        if 10 <= bits <= 2100:
            assert any(got) and not all(got)


def test_sprp2_pseudoprimes_and_mixed_sizes(route):
    # Mersenne numbers 2**p - 1 (p prime) and Fermat numbers are base-2 strong probable primes
    mers = [2**p - 1 for p in (11, 23, 29, 67, 257, 521, 523, 1277, 2203, 2281, 4111)]
    fermat = [2 ** (2**i) + 1 for i in range(1, 12)]
    xs = SPSP2 + mers + fermat
    assert _lanes.sprp2(route, limbs(xs)).all()
    assert not _lanes.sprp2(route, limbs(STRONG_LUCAS_PSP)).any()
    rnd = random.Random(7)
    xs = [rnd.getrandbits(rnd.randint(2, 900)) | 1 for _ in range(300)]
    xs = [x for x in xs if x >= 3] + [int(gmpy2.next_prime(rnd.getrandbits(rnd.randint(3, 900)))) for _ in range(60)]
    got = _lanes.sprp2(route, limbs(xs))
    assert [bool(g) for g in got] == [bool(gmpy2.is_strong_prp(x, 2)) for x in xs]


def test_lucas_matches_gmpy2_on_every_small_odd_number(route):
    ns = [n for n in range(101, 20001, 2) if not gmpy2.is_square(n)]
    got = _bpsw._lucas_many(ns, route=route)
    want = [bool(gmpy2.is_strong_selfridge_prp(n)) for n in ns]
    assert got.tolist() == want
    assert set(STRONG_LUCAS_PSP) & set(ns) <= {n for n, g in zip(ns, got) if g}


@pytest.mark.parametrize("bits", [65, 200, 333, 1024, 2048])
def test_lucas_matches_gmpy2_on_big_numbers(route, bits):
    rnd = random.Random(bits + 1)
    xs = [rnd.getrandbits(bits) | 1 | (1 << (bits - 1)) for _ in range(40 if bits <= 1024 else 12)]
    xs += [int(gmpy2.next_prime(x)) for x in xs[:8 if bits <= 1024 else 3]]
    xs = [x for x in xs if x.bit_length() == bits]
    got = _bpsw._lucas_many(xs, route=route)
    assert got.tolist() == [bool(gmpy2.is_strong_selfridge_prp(x)) for x in xs]
    # Mersenne primes and the strong Lucas pseudoprimes pass, on every route
    mers = [2**p - 1 for p in (89, 107, 127, 521, 607, 1279, 2203)]
    assert _bpsw._lucas_many(mers + STRONG_LUCAS_PSP, route=route).all()


def test_every_unrolled_instance(route):
    """Each limb count of the route (the unrolled instances and the generic loop around them,
    and the AVX2 loop's fold every 64 terms) at its smallest and largest modulus size, both
    tests, against gmpy2."""
    lb, slack = _lanes.limb_bits(route), 2 if route != "portable" else 0
    ks = sorted(set(range(1, 23)) | {30, 31, 32, 33, 34, 39, 40, 41, 63, 64, 65, 66, 126, 127, 128, 149})
    rnd = random.Random(1000)
    for k in ks:
        for bits in sorted({max(3, lb * (k - 1) - slack + 1), lb * k - slack}):
            if bits > _lanes.max_bits(route):
                continue
            assert _lanes.rlimbs(route, bits) == k
            xs = [rnd.getrandbits(bits) | 1 | (1 << (bits - 1)) for _ in range(8)]
            xs += [int(gmpy2.next_prime(x)) for x in xs[: 2 if bits <= 1500 else 0]]
            xs = [x for x in xs if x.bit_length() == bits]
            assert [bool(v) for v in _lanes.sprp2(route, limbs(xs))] == [bool(gmpy2.is_strong_prp(x, 2)) for x in xs], (k, bits)
            odd = [x for x in xs if not gmpy2.is_square(x)][:4 if bits > 1500 else 8]
            assert _bpsw._lucas_many(odd, route=route).tolist() == [bool(gmpy2.is_strong_selfridge_prp(x)) for x in odd], (k, bits)


def test_shared_reference_pseudoprimes(route):
    """Every number of ``../shared/reference/pseudoprimes.tsv`` (strong base-2, Fermat base-2
    and strong Lucas-Selfridge pseudoprimes, Carmichael numbers, the A014233 composites up to
    25 digits): both tests of the route agree with gmpy2 number by number, and with each
    number's kind (a strong base-2 pseudoprime passes the base-2 test, a strong Lucas one the
    Lucas test)."""
    from conftest import read_reference

    rows = [(k, int(v)) for k, v in read_reference("pseudoprimes.tsv")]
    odd = [(k, v) for k, v in rows if v & 1 and v >= 3]
    assert len(odd) > 400 and max(v for _, v in odd) > 2**64
    xs = [v for _, v in odd]
    got = _lanes.sprp2(route, limbs(xs))
    assert [bool(g) for g in got] == [bool(gmpy2.is_strong_prp(x, 2)) for x in xs]
    assert all(g for (k, _), g in zip(odd, got) if k == "strong_base2")
    ns = [(k, v) for k, v in odd if not gmpy2.is_square(v)]
    luc = _bpsw._lucas_many([v for _, v in ns], route=route)
    assert luc.tolist() == [bool(gmpy2.is_strong_selfridge_prp(v)) for _, v in ns]
    assert all(g for (k, _), g in zip(ns, luc) if k == "strong_lucas_selfridge")
    # the same numbers inside batches of big ones (other lanes busy with other sizes)
    rnd = random.Random(5)
    mixed = xs + [rnd.getrandbits(rnd.randint(65, 700)) | 1 for _ in range(200)]
    rnd.shuffle(mixed)
    assert [bool(g) for g in _lanes.sprp2(route, limbs(mixed))] == [bool(gmpy2.is_strong_prp(x, 2)) for x in mixed]


def test_shared_reference_pseudoprimes_bpsw(forced):
    """BPSW with the route forced calls every reference pseudoprime composite, as gmpy2 does."""
    from conftest import read_reference

    xs = [int(v) for _, v in read_reference("pseudoprimes.tsv")]
    big = [x for x in xs if x > 2**64]
    assert not _bpsw.bpsw_many(xs).any()
    assert not any(gmpy2.is_prime(x) for x in xs)
    # the ones above 2**64 beside the primes next to them (one batch, mixed verdicts)
    near = [int(gmpy2.next_prime(x)) for x in big]
    assert _bpsw.bpsw_many(big + near).tolist() == [False] * len(big) + [True] * len(near)
    forced(allow_gmp=True, few=True)


@pytest.mark.parametrize("digits", [20, 106, 305])
def test_bpsw_many_and_windows_match_gmpy2(forced, digits):
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
    forced()


@pytest.mark.parametrize("bits", [65, 333, 512, 1100])
def test_is_prime_lists_match_gmpy2(forced, bits):
    """``is_prime`` on lists of big ints (the trial-division prefilter, sorting by size, the
    lanes): even and odd numbers, primes, numbers with small factors, mixed sizes."""
    from nextdigit import is_prime

    rnd = random.Random(bits)
    xs = [rnd.getrandbits(bits) | (1 << (bits - 1)) for _ in range(300)]
    xs += [int(gmpy2.next_prime(x)) for x in xs[:12]] + [3 * int(gmpy2.next_prime(x)) for x in xs[12:16]]
    xs += [rnd.getrandbits(rnd.randint(65, bits + 80)) | (1 << 64) for _ in range(40)]   # mixed sizes
    xs += [2**127 - 1, 2**89 - 1, 2**64 + 1, 2**64 + 13, 5 * 7 * 11 * 65537 * (2**61 - 1)]
    rnd.shuffle(xs)
    assert is_prime(xs, threads=1).tolist() == [bool(gmpy2.is_prime(x)) for x in xs]
    assert is_prime(xs[:1], threads=1).tolist() == [bool(gmpy2.is_prime(xs[0]))]
    if forced.route != "gmp" and max(x.bit_length() for x in xs) > _bpsw.max_bits(forced.route):
        # above the sizes where the route beats GMP (``_bpsw._GMP_ABOVE``: the portable route
        # above 1024 bits) the list goes to GMP
        assert forced.route in _bpsw._GMP_ABOVE and _lanes.max_bits(forced.route) > _bpsw.max_bits(forced.route)
        return
    forced(allow_gmp=True)


def test_first_prime_across_two_to_the_64(forced):
    """Candidates on both sides of 2**64 in one batch: the first prime in list order wins."""
    below = int(gmpy2.prev_prime(2**64))
    above = int(gmpy2.next_prime(2**64))
    comp = [2**64 - 1, 2**64 + 1, 3 * 5 * 7 * 11 * 13 * 17 * 19 * 23 * 29 * 31 * 37 * 41 * 43 * 47 + 2]
    comp = [c for c in comp if not gmpy2.is_prime(c)]
    assert _bpsw.first_prime(comp + [above, below]) == above
    assert _bpsw.first_prime(comp + [below, above]) == below
    forced(few=True)


def test_bad_input(route):
    with pytest.raises(ValueError, match="route"):
        _lanes.sprp2("sse9", limbs([7]))
    with pytest.raises(ValueError, match="odd number >= 3"):
        _lanes.sprp2(route, limbs([10]))
    with pytest.raises(ValueError, match="odd number >= 3"):
        _lanes.sprp2(route, np.array([[1, 0]], dtype=np.uint64))
    with pytest.raises(ValueError, match="limbs"):
        _lanes.sprp2(route, np.zeros((1, 70), dtype=np.uint64))
    with pytest.raises(ValueError, match="bits|limbs"):
        _lanes.sprp2(route, limbs([2**(_lanes.max_bits(route) + 1) + 1]))
    with pytest.raises(ValueError, match="shape"):
        _lanes.lucas(route, limbs([101, 103]), limbs([5]))
    with pytest.raises(ValueError, match="same number of route limbs"):
        _lanes.lucas(route, limbs([101, 2**200 + 1]), _bpsw.limbs_array([5, 7], 4))
    with pytest.raises(ValueError, match="even"):
        _lanes.sprp2_offsets(route, np.array([2**63 + 1], dtype=np.uint64), np.array([1], dtype=np.uint64))
    assert _lanes.sprp2(route, np.zeros((0, 2), dtype=np.uint64)).shape == (0,)


def test_unavailable_route_raises():
    for r in KERNEL_ROUTES:
        if not _lanes.available(r):
            with pytest.raises(RuntimeError, match=r):
                _lanes.sprp2(r, limbs([7]))
    assert _lanes.available("portable")


def test_big_random_prime_uniform_across_two_to_the_64(forced):
    """The samplers' search above 2**64 (batches of eight, first prime in draw order) is exactly
    uniform, also on a range that straddles 2**64 (chi-square, fixed seed, fails with
    probability < 1e-6 when correct)."""
    from nextdigit.randprime import big_random_prime
    from test_randprime import ALPHA, chi_square_p

    lo, hi = 2**64 - 400, 2**64 + 400
    support = [x for x in range(lo, hi) if gmpy2.is_prime(x)]
    assert any(p < 2**64 for p in support) and any(p > 2**64 for p in support)
    gen = np.random.default_rng(64)
    samples = [big_random_prime(lo, hi, gen) for _ in range(600 * len(support))]
    assert chi_square_p(samples, support) > ALPHA
    forced()


# base-2 strong pseudoprimes p (2p - 1) above 2**64 without a factor below 2**49 (q = 2p - 1
# prime, q = +-1 mod 8): the trial division of the samplers cannot remove them, only Lucas can
BIG_SPSP2 = [2361421319057034380455876838281, 812262822320017620699268287601, 1289378185114584865739646623653]


def test_big_random_prime_same_stream_as_the_python_loop(forced, monkeypatch):
    """The C search (``_lanes.BigSearch``) returns the prime the Python loop returns for the
    same seed and leaves the generator in the same state: wide and narrow ranges, one
    straddling 2**64, one around a base-2 strong pseudoprime (which Lucas must reject)."""
    from nextdigit import randprime

    lucas_on_spsp = []
    real = _bpsw._lucas_many

    def spy(numbers, threads=1, route=None):
        lucas_on_spsp.extend(n for n in numbers if n in BIG_SPSP2)
        return real(numbers, threads, route)

    monkeypatch.setattr(_bpsw, "_lucas_many", spy)
    assert all(gmpy2.is_strong_prp(n, 2) and not gmpy2.is_prime(n) for n in BIG_SPSP2)
    n = BIG_SPSP2[0]
    cases = [(10**99, 10**100), (2**64 - 400, 2**64 + 400), (2**64 - 10**6, 2**64 + 10**12),
             (2**511, 2**512), (10**20, 10**20 + 10**7), (n - 2, n + 23)]
    for lo, hi in cases:
        for seed in range(4):
            g1, g2 = np.random.default_rng(seed), np.random.default_rng(seed)
            got = [randprime.big_random_prime(lo, hi, g1) for _ in range(3)]
            want = [randprime._big_random_prime_loop(lo, hi, g2) for _ in range(3)]
            assert got == want and g1.bit_generator.state == g2.bit_generator.state, (lo, seed)
            assert all(lo <= p < hi and gmpy2.is_prime(p) for p in got)
    if forced.route != "gmp":
        assert lucas_on_spsp, "the pseudoprime never reached the Lucas test"
        forced(few=True)


def test_randomized_model_digit_law_above_2_64(forced):
    """RandomizedPrimeModel's next digit above 2**64 (randomized path forced: exact_window=0)
    follows the exact counts of the prefix's completions (chi-square, fixed seed)."""
    import mpmath

    from nextdigit import digit_counts
    from nextdigit.tasks.primes import RandomizedPrimeModel
    from test_randprime import ALPHA

    model = RandomizedPrimeModel(21, exact_window=0)
    prefix = "1234567890123456"                      # 16 digits: 10**5 completions above 2**64
    counts = [int(c) for c in digit_counts(prefix, 21)]
    gen = np.random.default_rng(21)
    draws = [int(np.argmax(model.next_token_distribution("", prefix, gen))) for _ in range(3000)]
    obs = [draws.count(d) for d in range(10)]
    total = sum(counts)
    stat = sum((o - 3000 * c / total) ** 2 / (3000 * c / total) for o, c in zip(obs, counts) if c)
    dof = sum(1 for c in counts if c) - 1
    assert all(o == 0 for o, c in zip(obs, counts) if c == 0)
    assert float(mpmath.gammainc(dof / 2, stat / 2, mpmath.inf, regularized=True)) > ALPHA
    forced(allow_gmp=forced.route == "gmp", few=True)


def test_threads_give_the_same_verdicts(route, monkeypatch):
    monkeypatch.setattr(_bpsw, "ROUTE", route)
    rnd = random.Random(99)
    xs = [rnd.getrandbits(352) | 1 | (1 << 351) for _ in range(1500)]
    xs += [int(gmpy2.next_prime(x)) for x in xs[:40]]
    L = limbs(xs)
    one = _lanes.sprp2(route, L, 1)
    assert _lanes.sprp2(route, L, 2).tolist() == one.tolist() == [int(gmpy2.is_strong_prp(x, 2)) for x in xs]
    assert _bpsw.bpsw_many(xs, 2).tolist() == _bpsw.bpsw_many(xs, 1).tolist()
    a = 10**105 + 7
    offs = np.arange(0, 4000, 2, dtype=np.uint64)
    assert _bpsw.window_bpsw(a, offs, 2).tolist() == _bpsw.window_bpsw(a, offs, 1).tolist()
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="threads"):
            _lanes.sprp2(route, L, bad)


def test_next_prev_prime_big_match_gmpy2(forced):
    from nextdigit import next_prime, prev_prime, primality

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
            if forced.route != "gmp":
                assert primality._prev_prime_big(n, width=3) == gmpy2.prev_prime(n)
    if forced.route != "gmp":
        x = 10**200 + 1
        assert primality._next_prime_big(x, width=5) == gmpy2.next_prime(x)
        assert primality._prev_prime_big(x, width=5) == gmpy2.prev_prime(x)
        forced(few=True)


@pytest.mark.parametrize("env,want", [
    ({"NEXTDIGIT_BPSW_ROUTE": "portable"}, "portable"),
    ({"NEXTDIGIT_BPSW_ROUTE": "gmp"}, "gmp"),
    ({"NEXTDIGIT_BPSW_ROUTE": "AVX2 "}, "avx2"),
    ({"NEXTDIGIT_NO_IFMA": "1"}, "not ifma"),
    ({}, "default"),
])
def test_route_from_the_environment(env, want):
    if want == "avx2" and not _lanes.available("avx2"):
        want = "error: cannot run"
    clean = {k: v for k, v in os.environ.items() if k not in ("NEXTDIGIT_BPSW_ROUTE", "NEXTDIGIT_NO_IFMA")}
    proc = subprocess.run([sys.executable, "-c", "from nextdigit import _bpsw; print(_bpsw.ROUTE)"],
                          env={**clean, **env}, capture_output=True, text=True)
    if want.startswith("error"):
        assert proc.returncode != 0 and "cannot run" in proc.stderr
        return
    assert proc.returncode == 0, proc.stderr
    got = proc.stdout.strip()
    if want == "not ifma":
        assert got in ("avx2", "portable")
    elif want == "default":
        assert got == next(r for r in KERNEL_ROUTES if _lanes.available(r))
    else:
        assert got == want


def test_bad_route_in_the_environment():
    env = {**os.environ, "NEXTDIGIT_BPSW_ROUTE": "sse9"}
    proc = subprocess.run([sys.executable, "-c", "import nextdigit"], env=env, capture_output=True, text=True)
    assert proc.returncode != 0 and "NEXTDIGIT_BPSW_ROUTE must be one of" in proc.stderr
