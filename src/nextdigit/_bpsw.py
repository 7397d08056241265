"""BPSW for many big numbers at once: our multi-lane kernels, or GMP.

``bpsw_many(numbers)`` decides a batch of odd numbers above 2**64 (sieve survivors, sampler
candidates) with the Baillie-PSW test:

1. the base-2 strong probable-prime test in the lanes of ``nextdigit._lanes``; a composite
   almost always stops here;
2. for the numbers that pass: a perfect-square check, Selfridge's method A (the first D in 5,
   -7, 9, -11, ... with Jacobi(D/n) = -1; Jacobi 0 with |D| != n proves n composite),
   Q = (1 - D)/4, and P' = 1/Q - 2 in Montgomery form (P' R mod n), all with gmpy2 (a few us per
   number); then the strong Lucas test in the same lanes (the Q = 1 ladder of ``_u64.pxd``).

That is the same test as ``gmpy2.is_prime(n, 1)`` (GMP's BPSW: Miller-Rabin to base 2 and a
strong Lucas test with Selfridge's parameters), and the tests compare the two on every number of
whole windows and on known pseudoprimes, on every route.

Routes, chosen once at import (``ROUTE``), in this order of preference:

* ``"ifma"``: eight numbers per AVX-512 IFMA instruction (``nd_mont52.h``);
* ``"avx2"``: eight numbers in two AVX2 vectors, radix 2**28 (``nd_mont28.h``);
* ``"portable"``: plain C, radix 2**64 (``nd_mont64.h``), every CPU (ARM included);
* ``"gmp"``: ``gmpy2.is_prime(n, 1)`` per number (the reference).

The environment variable ``NEXTDIGIT_BPSW_ROUTE=ifma|avx2|portable|gmp`` forces one (an unknown
or unavailable route raises at import); ``NEXTDIGIT_NO_IFMA=1`` behaves as a CPU without IFMA
(AVX2 where the CPU has it, else portable).  Numbers above a route's ``max_bits`` go to GMP: the
kernels' limit (~4160 bits), and 1024 bits on the portable route, whose generic loop above 16
limbs is slower than GMP.

Why three: IFMA is on AVX-512 server cores and Zen 4/5 only; Intel client cores since Alder
Lake and AMD before Zen 4 have AVX2, ARM machines neither.  Measured per number on the
development machine (Zen 5, 8 lanes busy, CPU time on a loaded machine, interleaved) against
``gmpy2.powmod(2, n - 1, n)``, base-2 test: IFMA 11x at 130-1024 bits, 5.1x at 1040, 6.6x at
2048 and 3072 (the generic loop above 20 limbs); AVX2 4.1x at 130 bits,
2.4-2.6x at 256-352 bits, 1.5-1.9x at 512-3072 bits; portable 2.0x at 130 bits, 1.6-2.1x at
256-1024 bits, 0.8-0.9x at 1100-3072 bits.  Whole ``is_prime`` on 1000 random odd 512-bit ints
against a gmpy2.is_prime loop (trial division included): IFMA 5.4-5.9x, AVX2 1.8-1.9x,
portable 2.0-2.2x (medians of two runs; on Zen 5 the AVX2 lanes gain nothing over the
portable C, on cores with a slower 64-bit multiplier they may).  A vector batch costs the same
for 1 number as for 8 (below ``MIN_FILL`` numbers the portable route takes them); the portable
route costs per number.
"""
from __future__ import annotations

import bisect
import functools
import math
import os

import gmpy2
import numpy as np

from . import _bigwin, _lanes, _primality
from ._util.validate import U64_MAX

LANES = _lanes.LANES
ROUTES = (*_lanes.ROUTES, "gmp")
VECTOR_ROUTES = ("ifma", "avx2")
# A vector batch costs the same for one number as for eight; below this many numbers the
# portable route (which costs per number) is cheaper (measured at 333 bits: an IFMA batch ~2x,
# an AVX2 batch ~5x the portable price of one number).
MIN_FILL = {"ifma": 2, "avx2": 5, "portable": 1}


def _small_route(route: str, count: int, bits: int) -> str:
    """``route``, or the portable route for fewer numbers than a vector batch pays off for
    (numbers up to ``bits`` bits, within the portable route's ``max_bits``)."""
    if count < MIN_FILL.get(route, 1) and bits <= max_bits("portable"):
        return "portable"
    return route


def _choose_route() -> str:
    forced = os.environ.get("NEXTDIGIT_BPSW_ROUTE", "").strip().lower()
    if forced:
        if forced not in ROUTES:
            raise ValueError(f"NEXTDIGIT_BPSW_ROUTE must be one of {ROUTES}, got {forced!r}")
        if forced != "gmp" and not _lanes.available(forced):
            raise RuntimeError(f"NEXTDIGIT_BPSW_ROUTE={forced}: this CPU cannot run that route")
        return forced
    no_ifma = os.environ.get("NEXTDIGIT_NO_IFMA", "0") == "1"
    for r in _lanes.ROUTES:
        if not (r == "ifma" and no_ifma) and _lanes.available(r):
            return r
    return "gmp"


ROUTE = _choose_route()
GMP_CALLS = 0          # numbers decided by gmpy2.is_prime here (a diagnostic for tests)


# measured BPSW cost per sieve survivor (a base-2 test, rarely a Lucas test): (bits, seconds),
# interpolated log-log; the sieve bounds (``_bigcount``) and the list prefilter use them
_TEST_COST = {
    "gmp": [(66, 3e-6), (352, 24e-6), (1013, 180e-6), (3322, 4.7e-3)],
    "ifma": [(67, 0.25e-6), (352, 3.2e-6), (1013, 48e-6), (3322, 2.1e-3)],
    "avx2": [(67, 0.35e-6), (352, 7e-6), (1013, 110e-6), (3322, 3.5e-3)],
    "portable": [(67, 0.8e-6), (352, 11e-6), (1013, 150e-6), (3322, 4.5e-3)],
}


def test_cost_seconds(bits: int, route: str | None = None) -> float:
    """BPSW cost on a sieve survivor of ``bits`` bits on ``route`` (default ``ROUTE``): log-log
    interpolation of measurements, extrapolated with the end slopes."""
    pts = _TEST_COST[ROUTE if route is None else route]
    bits = max(bits, 2)
    i = min(max(bisect.bisect_right([b for b, _ in pts], bits) - 1, 0), len(pts) - 2)
    (b0, t0), (b1, t1) = pts[i], pts[i + 1]
    slope = math.log(t1 / t0) / math.log(b1 / b0)
    return t0 * (bits / b0) ** slope


# Above these sizes a route's lanes lose to GMP and the numbers go to GMP instead: the portable
# route's constant-k instances end at 16 limbs, and its generic loop measured 0.82-0.93x GMP's
# powmod at 1100-3072 bits (1.6x faster at 1024 bits).
_GMP_ABOVE = {"portable": 1024}


def max_bits(route: str | None = None) -> int:
    """The largest size ``route`` (default: ``ROUTE``) decides in its lanes -- the kernel's
    limit, or smaller where GMP is faster (``_GMP_ABOVE``); 0 for GMP."""
    route = ROUTE if route is None else route
    return 0 if route == "gmp" else min(_lanes.max_bits(route), _GMP_ABOVE.get(route, 1 << 30))


def lanes_active() -> bool:
    """Whether ``ROUTE`` is one of our kernels (not GMP)."""
    return ROUTE != "gmp"


def _gmp(numbers) -> np.ndarray:
    global GMP_CALLS
    GMP_CALLS += len(numbers)
    return np.fromiter((gmpy2.is_prime(n, 1) for n in numbers), dtype=bool, count=len(numbers))


def limbs_array(numbers, nl: int | None = None) -> np.ndarray:
    """(len(numbers), nl) uint64 array of little-endian 64-bit limbs."""
    if nl is None:
        nl = max(1, max((x.bit_length() + 63) // 64 for x in numbers)) if numbers else 1
    raw = b"".join(x.to_bytes(8 * nl, "little") for x in numbers)
    return np.frombuffer(raw, dtype="<u8").astype(np.uint64).reshape(len(numbers), nl)


def selfridge_pprime(n: int, rbits: int) -> int | None:
    """P' R mod n (R = 2**rbits) for Selfridge's parameters of odd n > 1, or None when the
    parameter search proves n composite (a square, or Jacobi(D/n) = 0 with |D| != n, or a
    Q with a common factor)."""
    nz = gmpy2.mpz(n)
    d = 5
    while True:
        j = gmpy2.jacobi(d, nz)
        if j == -1:
            break
        if j == 0 and abs(d) != n:
            return None
        if d == 13 and gmpy2.is_square(nz):     # no D exists for a square: stop the search
            return None
        d = -d - 2 if d > 0 else -d + 2
    q = (1 - d) // 4
    try:
        qinv = gmpy2.invert(q % nz, nz)
    except ZeroDivisionError:
        return None
    r = (gmpy2.mpz(1) << rbits) % nz
    return int(r * (qinv - 2) % nz)


def _lucas_many(numbers: list[int], threads: int = 1, route: str | None = None) -> np.ndarray:
    """Strong Lucas-Selfridge verdicts (bool array) for odd numbers that passed base 2."""
    bits = max((n.bit_length() for n in numbers), default=0)
    route = _small_route(ROUTE if route is None else route, len(numbers), bits)
    out = np.zeros(len(numbers), dtype=bool)
    groups: dict[int, list[int]] = {}
    for i, n in enumerate(numbers):
        groups.setdefault(_lanes.rlimbs(route, n.bit_length()), []).append(i)
    lb = _lanes.limb_bits(route)
    for k, idx in groups.items():
        todo, pps = [], []
        for i in idx:
            pp = selfridge_pprime(numbers[i], lb * k)
            if pp is not None:
                todo.append(i)
                pps.append(pp)
        if not todo:
            continue
        nums = [numbers[i] for i in todo]
        nl = max(1, max((x.bit_length() + 63) // 64 for x in nums))
        res = _lanes.lucas(route, limbs_array(nums, nl), limbs_array(pps, nl), threads)
        out[np.asarray(todo)] = res.astype(bool)
    return out


def bpsw_many(numbers: list[int], threads: int = 1) -> np.ndarray:
    """BPSW verdicts (bool array) for a list of odd ints above 2**64 (``threads`` OpenMP
    threads for the lanes; GMP's route is serial)."""
    numbers = list(numbers)
    route = ROUTE
    if route == "gmp" or not numbers or any(n.bit_length() > max_bits(route) for n in numbers):
        return _gmp(numbers)
    route = _small_route(route, len(numbers), max(n.bit_length() for n in numbers))
    passed = _lanes.sprp2(route, limbs_array(numbers), threads).astype(bool)
    idx = np.flatnonzero(passed)
    if idx.size:
        passed[idx] = _lucas_many([numbers[i] for i in idx.tolist()], threads, route)
    return passed


_SMALL_ODD_PRIMORIAL = 3 * 5 * 7 * 11 * 13 * 17 * 19 * 23  # < 2**30: one CPython digit


@functools.lru_cache(maxsize=4096)
def _rough_bound(bits: int, route: str) -> int:
    """The trial-division bound B for ``is_prime_many`` on ``bits``-bit numbers: the power of
    two in [2**6, 2**16] that minimises the modelled cost survivors(B) * (test + dividing by
    every prime below B), survivors(B) = 1.123 / ln B (the odd numbers without a prime factor
    below B, Mertens) and ~0.5 ns per product of primes and limb (measured; composites mostly
    stop at the first product, so the survivors pay for the rest)."""
    t = test_cost_seconds(bits, route)
    limbs = (bits + 63) // 64
    best, best_cost = 64, math.inf
    for e in range(6, 17):
        b = 1 << e
        groups = b / math.log(b) / 4.5 + 1          # products of ~4.5 primes below 2**62
        cost = 1.123 / math.log(b) * (t + groups * limbs * 0.5e-9)
        if cost < best_cost:
            best, best_cost = b, cost
    return best


def rough_bound(bits: int, route: str | None = None) -> int:
    """The trial-division bound for ``bits``-bit numbers on ``route`` (see ``_rough_bound``)."""
    return _rough_bound(bits, ROUTE if route is None else route)


def is_prime_many(numbers: list[int], threads: int = 1) -> np.ndarray:
    """Primality (bool array) of ints above 2**64 of any parity: trial division by the odd
    primes below ``rough_bound`` in C (``_bigwin.rough_rows``: a few hundred ns per number at
    512 bits), then ``bpsw_many`` on the survivors, sorted by size so that each batch of the
    lanes holds numbers of one size.  On the GMP route: a gcd with 3 * 5 * ... * 23, then
    ``gmpy2.is_prime(n, 1)`` (GMP trial-divides on its own)."""
    numbers = list(numbers)
    out = np.zeros(len(numbers), dtype=bool)
    if not numbers:
        return out
    if ROUTE == "gmp" or max(n.bit_length() for n in numbers) > max_bits(ROUTE):
        pre = _SMALL_ODD_PRIMORIAL
        idx = [i for i, n in enumerate(numbers) if n & 1 and math.gcd(n % pre, pre) == 1]
        if idx:
            out[np.asarray(idx)] = _gmp([numbers[i] for i in idx])
        return out
    order = sorted((i for i, n in enumerate(numbers) if n & 1), key=lambda i: numbers[i].bit_length())
    if not order:
        return out
    odd = [numbers[i] for i in order]
    rows = limbs_array(odd)
    keep = _bigwin.rough_rows(rows, rough_bound(odd[-1].bit_length())).astype(bool)
    sel = np.flatnonzero(keep)
    if sel.size == 0:
        return out
    surv = [odd[j] for j in sel.tolist()]
    route = _small_route(ROUTE, len(surv), surv[-1].bit_length())
    verdict = _lanes.sprp2(route, np.ascontiguousarray(rows[sel]), threads).astype(bool)
    passed = np.flatnonzero(verdict)
    if passed.size:
        verdict[passed] = _lucas_many([surv[j] for j in passed.tolist()], threads, ROUTE)
    pos = np.asarray(order)[sel]
    out[pos] = verdict
    return out


def window_bpsw(a: int, offsets: np.ndarray, threads: int = 1) -> np.ndarray:
    """BPSW verdicts for the odd numbers a + o (o in ``offsets``, uint64), a >= 2**64."""
    offsets = np.ascontiguousarray(offsets, dtype=np.uint64)
    route = ROUTE
    if route == "gmp" or a.bit_length() + 1 > max_bits(route):
        base = gmpy2.mpz(a)
        return _gmp([base + o for o in offsets.tolist()])
    passed = _lanes.sprp2_offsets(route, limbs_array([a])[0], offsets, threads).astype(bool)
    idx = np.flatnonzero(passed)
    if idx.size:
        passed[idx] = _lucas_many([a + o for o in offsets[idx].tolist()], threads, route)
    return passed


def first_prime(candidates: list[int], nl: int | None = None) -> int | None:
    """The first prime of ``candidates`` in list order (odd ints > 3, any size), or None: BPSW,
    which is a proof below 2**64 (there the u64 kernel decides) and "probable prime" above.
    The base-2 test runs LANES candidates at a time (one vector batch; on the portable route,
    where each number costs its own time, one at a time) and stops at the batch holding the
    first prime; Lucas runs only on the first passes.  ``nl``: the caller vouches that every
    candidate fits nl 64-bit limbs and ``max_bits()`` bits (spares the per-call size scan in
    the samplers' loop)."""
    route = ROUTE
    if route == "gmp" or (nl is None and any(n.bit_length() > max_bits(route) for n in candidates)):
        global GMP_CALLS
        for c in candidates:
            GMP_CALLS += 1
            if gmpy2.is_prime(c, 1):
                return c
        return None
    step = LANES if route in VECTOR_ROUTES else 1
    for start in range(0, len(candidates), step):
        chunk = candidates[start:start + step]
        bits = 64 * nl if nl is not None else max(c.bit_length() for c in chunk)
        sub = _small_route(route, len(chunk), bits)
        passed = _lanes.sprp2(sub, limbs_array(chunk, nl))
        for i in np.flatnonzero(passed).tolist():
            c = chunk[i]
            if c <= U64_MAX:
                if _primality.is_prime_u64_scalar(c):
                    return c
            elif _lucas_many([c], 1, route)[0]:
                return c
    return None
