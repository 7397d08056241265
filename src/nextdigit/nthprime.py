"""The n-th prime below 2**64: ``nth_prime(n)``, exactly, for 1 <= n <= pi(2**64 - 1).

It inverts Riemann's R (the Gram series, float Newton steps) for an estimate x0 ~ p_n, counts
pi(x0) exactly once (``nextdigit.pi.prime_pi``), and sieves the remaining distance with the
segmented sieve of ``nextdigit.counting`` (the estimate's error, ~sqrt(p_n) numbers, is all that
is sieved).  Below ``nextdigit.pi.SMALL_LIMIT`` the cached sieve table answers directly.

>>> nth_prime(1), nth_prime(25), nth_prime(10**9)
(2, 97, 22801763489)
"""
from __future__ import annotations

import math

from . import _pi
from ._util.threads import resolve_threads
from ._util.validate import U64_MAX, as_int
from .counting import primes_between
from .pi import SMALL_LIMIT, _progress_flag, prime_pi

__all__ = ["nth_prime", "PI_U64_MAX"]

#: pi(2**64 - 1): the largest n for nth_prime (A007053(64)).
PI_U64_MAX = 425656284035217743
#: pi(SMALL_LIMIT) (pi(10**7)): up to here p_n comes from the cached sieve table.
_PI_SMALL = 664579

_ZETA: list[float] = []


def _zeta_values(k: int) -> list[float]:
    """zeta(2), ..., zeta(k + 1) as floats (MPFR through gmpy2)."""
    if len(_ZETA) < k:
        import gmpy2

        _ZETA[:] = [float(gmpy2.zeta(j + 1)) for j in range(1, k + 1)]
    return _ZETA


def _riemann_r_float(x: float) -> float:
    """R(x) by the Gram series 1 + sum_k (ln x)^k / (k k! zeta(k + 1)), in float64: every term
    is kept until they fall below the sum's precision (no cut at x**(1/k) < 2, which is what
    makes the mu-series wrong near powers of two)."""
    lx = math.log(x)
    zs = _zeta_values(256)
    total, term = 1.0, 1.0
    for k in range(1, 256):
        term *= lx / k
        add = term / (k * zs[k - 1])
        total += add
        if k > lx and add < total * 1e-17:
            break
    return total


def _inverse_r(n: int) -> int:
    """x with R(x) ~ n (Newton steps on R'(x) ~ 1/ln x), a floor(estimate) of p_n."""
    ln = math.log(n)
    x = n * (ln + math.log(ln) - 1.0 + (math.log(ln) - 2.0) / ln)
    for _ in range(50):
        step = (_riemann_r_float(x) - n) * math.log(x)
        x -= step
        if abs(step) < 0.5:
            break
    return int(x)


def _kth_prime_from(lo: int, k: int, threads: int) -> int:
    """The k-th prime >= lo (k >= 1), by sieving windows upward."""
    width = max(1 << 16, int(k * math.log(max(lo, 3)) * 1.1) + 4096)
    while True:
        hi = min(lo + min(width, 1 << 26), U64_MAX + 1)
        ps = primes_between(lo, hi, threads=threads)
        if len(ps) >= k:
            return int(ps[k - 1])
        k -= len(ps)
        if hi > U64_MAX:
            raise RuntimeError("internal: nth_prime ran past 2**64")  # n was checked
        lo = hi


def _kth_prime_below(hi: int, k: int, threads: int) -> int:
    """The k-th prime <= hi counting downward (k >= 1), by sieving windows downward."""
    width = max(1 << 16, int(k * math.log(max(hi, 3)) * 1.1) + 4096)
    top = hi + 1
    while True:
        lo = max(0, top - min(width, 1 << 26))
        ps = primes_between(lo, top, threads=threads)
        if len(ps) >= k:
            return int(ps[len(ps) - k])
        k -= len(ps)
        if lo == 0:
            raise RuntimeError("internal: nth_prime ran below 0")
        top = lo


def nth_prime(n, *, threads=None, progress=False) -> int:
    """The n-th prime (``nth_prime(1) == 2``), exactly, for 1 <= n <= pi(2**64 - 1).

    Parameters
    ----------
    n : int
        1 <= n <= 425656284035217743 = pi(2**64 - 1) (Python int, numpy integer, gmpy2 mpz).
        ``bool`` and floats are refused (TypeError); n out of range raises ValueError.
    threads, progress
        As for ``prime_pi``.

    Returns
    -------
    int
        p_n.  One ``prime_pi`` call at an estimate x0 (the inverse of Riemann's R) and a sieve
        of the distance ``|p_n - x0|`` (~sqrt(p_n)): ~0.1 s for n = 1e12, ~2 s for n = 1e15 on
        one core.  Below ``SMALL_LIMIT`` the cached sieve table answers directly.
    """
    nv = as_int(n, "n")
    nthreads = resolve_threads(threads)
    show = _progress_flag(progress)
    if not 1 <= nv <= PI_U64_MAX:
        raise ValueError(f"n must be in [1, pi(2**64 - 1) = {PI_U64_MAX}], got {nv}")
    if nv <= _PI_SMALL:                  # p_n < SMALL_LIMIT: the cached sieve table
        return int(_pi.nth_prime_small(nv, SMALL_LIMIT))
    x0 = min(max(_inverse_r(nv), SMALL_LIMIT), U64_MAX)
    c = prime_pi(x0, threads=nthreads, progress=show)
    if c >= nv:
        return _kth_prime_below(x0, c - nv + 1, nthreads)
    return _kth_prime_from(x0 + 1, nv - c, nthreads)
