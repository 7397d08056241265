"""Exact prime counts and lists in windows of huge numbers (a >= 2**64).

Route: sieve the window by the odd primes below a bound B in our own kernel
(``nextdigit._bigwin``: residues of a computed from its 64-bit limbs, odd-only segmented byte
sieve), then confirm every survivor with BPSW: eight survivors at a time in our AVX-512 IFMA
kernel where the CPU has it (``nextdigit._bpsw``), else through GMP (``gmpy2.is_prime(x, 1)``,
see ``nextdigit.primality``); both give the same verdicts (tested on whole windows).  Every prime of the window survives the sieve (a > B, so no prime is
crossed off as a multiple of itself) and BPSW decides the rest, so the count is exact up to the
(never observed) failure of BPSW above 2**64.

Choosing B
----------
Sieving costs ~6 ns per prime p < B and per 64-bit limb of a for the residues, plus ~2 ns per
prime and per segment of the window for carrying its next hit (measured); every survivor costs a
test whose price T grows like bits**2 (GMP: about 3 us at 20 digits, 24 us at 106, 180 us at 305
measured on survivors; the IFMA lanes: about 0.25, 3.2 and 48 us).  The survivor fraction of a
window is exp(-gamma)/ln B = 0.5615/ln B (Mertens), so the modelled cost is
``pi(B) * (limbs * 6 ns + segments * 2 ns) + span * 0.5615 / ln B * T``, and ``sieve_bound``
takes the power of two in [2**12, 2**26] that minimises it.  The survivors' BPSW tests dominate
in any case: after sieving to 2**24 about 3.4% of a window survives, each needing at least one
modular exponentiation.  With GMP for the survivors a big window cost ~1.5 us per number at 106
digits against ~3.5 us for a gmpy2.is_prime loop (GMP's own trial division already rejects
~92%); the IFMA lanes make each survivor's base-2 test 7-10x and each prime's Lucas test ~11x
cheaper than GMP's.
"""
from __future__ import annotations

import math

import numpy as np

from . import _bigwin, _bpsw

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
    return _bpsw.limbs_array([a])[0]


def _test_cost_seconds(bits: int) -> float:
    """BPSW cost on a sieve survivor of ``bits`` bits on the route ``_bpsw`` takes."""
    return _bpsw.test_cost_seconds(bits)


def sieve_bound(a: int, span: int) -> int:
    """The sieving bound B for the window [a, a + span): the power of two in
    [MIN_BOUND, MAX_BOUND] that minimises the modelled cost (see the module docstring)."""
    limbs = max(1, (a.bit_length() + 63) // 64)
    t = _test_cost_seconds(a.bit_length())
    segments = max(1, span // (2 * _bigwin.SEGMENT_NUMBERS))
    best, best_cost = MIN_BOUND, math.inf
    b = MIN_BOUND
    while b <= MAX_BOUND:
        n_primes = b / math.log(b)
        cost = n_primes * (limbs * 6e-9 + segments * 2e-9) + span * 0.5615 / math.log(b) * t
        if cost < best_cost:
            best, best_cost = b, cost
        b *= 2
    # the sieve needs a > B (a hit is then never the prime itself)
    return min(best, a)


def window_prime_offsets(a: int, span: int, bound: int | None = None, threads: int = 1) -> np.ndarray:
    """Offsets o (uint64, increasing) with a + o prime, 0 <= o < span.  Requires a >= 2**64 > B.
    ``threads``: OpenMP threads for the survivors' BPSW (the sieve itself is serial)."""
    if span <= 0:
        return np.empty(0, dtype=np.uint64)
    b = sieve_bound(a, span) if bound is None else bound
    primes = sieve_primes(b)
    surv = _bigwin.window_survivors(limbs_of(a), span, primes)
    return surv[_bpsw.window_bpsw(a, surv, threads)]
