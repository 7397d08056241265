"""Exact prime counts and lists in windows of huge numbers (a >= 2**64).

Route: sieve the window by the odd primes below a bound B in our own kernel
(``nextdigit._bigwin``: residues of a computed from its 64-bit limbs, odd-only segmented byte
sieve), then confirm every survivor with BPSW through GMP (``gmpy2.is_prime(x, 1)``, see
``nextdigit.primality``).  Every prime of the window survives the sieve (a > B, so no prime is
crossed off as a multiple of itself) and BPSW decides the rest, so the count is exact up to the
(never observed) failure of BPSW above 2**64.

Choosing B
----------
Sieving costs ~6 ns per prime p < B and per 64-bit limb of a for the residues (measured), plus a
little per crossing-off; every survivor costs a GMP test whose price T grows like bits**2 (about
3 us at 20 digits, 24 us at 106, 180 us at 305 measured on survivors).  The survivor fraction of a
window is about 1.12/ln B (Mertens), so the total is roughly
``pi(B) * limbs * 6 ns + span * 1.12 / ln B * T``; its minimum is near
``B = span * 1.12 * T / (limbs * 6 ns * ln B)``, which ``sieve_bound`` solves by a few fixed-point
steps and clamps to [2**12, 2**26].
"""
from __future__ import annotations

import math

import gmpy2
import numpy as np

from . import _bigwin

MIN_BOUND = 1 << 12
MAX_BOUND = 1 << 26
MAX_SPAN = 10**10          # beyond this a window is not a "window" any more

_primes_cache = np.empty(0, dtype=np.uint32)
_primes_cache_bound = 0


def sieve_primes(bound: int) -> np.ndarray:
    """Odd primes below ``bound`` (cached: a larger earlier request is sliced, not recomputed)."""
    global _primes_cache, _primes_cache_bound
    if bound > _primes_cache_bound:
        _primes_cache = _bigwin.small_primes(bound)
        _primes_cache_bound = bound
    return _primes_cache[: np.searchsorted(_primes_cache, bound)]


def limbs_of(a: int) -> np.ndarray:
    """Little-endian 64-bit limbs of a >= 0."""
    n = max(1, (a.bit_length() + 63) // 64)
    return np.frombuffer(a.to_bytes(8 * n, "little"), dtype="<u8").astype(np.uint64)


def _test_cost_seconds(bits: int) -> float:
    """Measured GMP BPSW cost on sieve survivors, interpolated as c * bits**2."""
    return 3e-6 * (max(bits, 64) / 66.0) ** 2 if bits < 400 else 24e-6 * (bits / 352.0) ** 2


def sieve_bound(a: int, span: int) -> int:
    """The sieving bound B for the window [a, a + span) from the cost model above."""
    limbs = max(1, (a.bit_length() + 63) // 64)
    t = _test_cost_seconds(a.bit_length())
    b = 1 << 16
    for _ in range(4):
        b = span * 1.12 * t / (limbs * 6e-9 * math.log(b))
        b = int(min(max(b, MIN_BOUND), MAX_BOUND))
    # the sieve needs a > B (a hit is then never the prime itself)
    return min(b, a)


def window_prime_offsets(a: int, span: int, bound: int | None = None) -> np.ndarray:
    """Offsets o (uint64, increasing) with a + o prime, 0 <= o < span.  Requires a >= 2**64 > B."""
    if span <= 0:
        return np.empty(0, dtype=np.uint64)
    b = sieve_bound(a, span) if bound is None else bound
    primes = sieve_primes(b)
    surv = _bigwin.window_survivors(limbs_of(a), span, primes)
    base = gmpy2.mpz(a)
    is_prime = gmpy2.is_prime
    keep = np.fromiter((is_prime(base + o, 1) for o in surv.tolist()), dtype=bool, count=len(surv))
    return surv[keep]
