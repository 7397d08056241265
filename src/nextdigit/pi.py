"""Exact prime counting and the n-th prime below 2**64: ``prime_pi(x)`` = the number of primes
<= x, ``nth_prime(n)`` = the n-th prime.

The work is done by the Cython kernel ``nextdigit._pi`` (Gourdon's variant of the combinatorial
Meissel-Lehmer / Deleglise-Rivat method; its module docstring describes every term, the
tuning of alpha_y / alpha_z and the measured timings against primecount).  This layer validates
the argument, dispatches small x to a cached sieve table, and keeps a bounded LRU cache of
computed values, so repeated and nearby calls are cheap:

* a value computed once is returned from the cache (up to ``CACHE_SIZE`` values);
* the kernel keeps its prime / pi / factor tables between calls (with headroom), so a call
  whose y = alpha_y * x**(1/3) is covered by the tables of a previous call skips their
  construction; for x < ``SMALL_LIMIT`` the cached sieve table answers directly.

``nth_prime(n)`` inverts Riemann's R (the Gram series, float Newton steps) for an estimate
x0 ~ p_n, counts pi(x0) exactly once, and sieves the remaining distance with the segmented
sieve of ``nextdigit.counting`` (the estimate's error, ~sqrt(p_n), is all that is sieved).

>>> prime_pi(100)
25
>>> prime_pi(10**12)
37607912018
>>> prime_pi(-5)
0
>>> nth_prime(1), nth_prime(25), nth_prime(10**9)
(2, 97, 22801763489)
"""
from __future__ import annotations

import math
import threading
from collections import OrderedDict

from . import _pi
from ._util.threads import resolve_threads
from ._util.validate import U64_MAX, as_int

__all__ = ["prime_pi", "nth_prime", "clear_cache", "cache_info"]

#: Below this, pi(x) is read from a plain sieve table (built once, kept and reused).
SMALL_LIMIT = 10**7
#: Number of (x, pi(x)) pairs kept by the LRU cache.
CACHE_SIZE = 4096
#: pi(2**64 - 1): the largest n for nth_prime (A007053(64)).
PI_U64_MAX = 425656284035217743
#: progress=True shows a bar when the estimated time is above this (seconds).
PROGRESS_MIN_SECONDS = 2.0

_cache: OrderedDict[int, int] = OrderedDict()
_lock = threading.Lock()
_stats = {"hits": 0, "misses": 0}


def _estimated_seconds(x: int, threads: int) -> float:
    """Rough wall time of one kernel call (measured on one Zen 5 core: 0.45 s at 1e15, growing
    like x**0.61; two threads ~1.8x faster)."""
    one = 0.45 * (x / 1e15) ** 0.61
    return one / (1.0 if threads <= 1 else 0.9 * threads)


def _progress_flag(progress) -> bool:
    if not isinstance(progress, bool):
        raise TypeError(f"progress must be True or False, got {type(progress).__name__}")
    return progress


def prime_pi(x, *, threads=None, progress=False) -> int:
    """Number of primes <= x, exactly, for integer x <= 2**64 - 1.

    Parameters
    ----------
    x : int
        Any integer (Python int, numpy integer, gmpy2 mpz); ``x < 2`` gives 0.  ``bool`` and
        floats are refused (TypeError); ``x > 2**64 - 1`` raises ValueError.
    threads : int or None
        Worker threads (None: every usable core, honouring ``OMP_NUM_THREADS``).  The result
        does not depend on it.
    progress : bool
        Show a tqdm progress bar when the call is expected to take more than a few seconds.

    Returns
    -------
    int
        pi(x).  Runs in about O(x**(2/3) / log(x)**2) time; on one Zen 5 core ~0.1 s at 1e14,
        ~0.45 s at 1e15, ~1.9 s at 1e16, ~8 s at 1e17 (0.7-0.9x primecount 8.7's time, see
        the kernel's docstring).  Interruptible with Ctrl-C (KeyboardInterrupt within ~0.3 s).
    """
    xv = as_int(x, "x")
    nthreads = resolve_threads(threads)
    show = _progress_flag(progress)
    if xv < 2:
        return 0
    if xv > U64_MAX:
        raise ValueError(f"x must be in [-inf, 2**64 - 1 = {U64_MAX}], got {xv}")
    with _lock:
        hit = _cache.get(xv)
        if hit is not None:
            _cache.move_to_end(xv)
            _stats["hits"] += 1
            return hit
        _stats["misses"] += 1
    if xv < SMALL_LIMIT:
        value = int(_pi.pi_small(xv))
    elif show and _estimated_seconds(xv, nthreads) > PROGRESS_MIN_SECONDS:
        from tqdm import tqdm

        with tqdm(total=1, desc=f"pi({xv})", unit="n", unit_scale=True, leave=False) as bar:
            value = int(_pi.prime_pi_u64(xv, nthreads, progress=bar))
    else:
        value = int(_pi.prime_pi_u64(xv, nthreads))
    with _lock:
        _cache[xv] = value
        _cache.move_to_end(xv)
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return value


# ---------------------------------------------------------------------------------------------
# nth_prime
# ---------------------------------------------------------------------------------------------
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
    from .counting import primes_between

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
    from .counting import primes_between

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
        of the distance |p_n - x0| (~sqrt(p_n)): ~0.1 s for n = 1e12, ~2 s for n = 1e15 on
        one core.  Below ``SMALL_LIMIT`` the cached sieve table answers directly.
    """
    nv = as_int(n, "n")
    nthreads = resolve_threads(threads)
    show = _progress_flag(progress)
    if not 1 <= nv <= PI_U64_MAX:
        raise ValueError(f"n must be in [1, pi(2**64 - 1) = {PI_U64_MAX}], got {nv}")
    small = _pi.nth_prime_small(nv, SMALL_LIMIT)
    if small:
        return int(small)
    x0 = min(max(_inverse_r(nv), SMALL_LIMIT), U64_MAX)
    c = prime_pi(x0, threads=nthreads, progress=show)
    if c >= nv:
        return _kth_prime_below(x0, c - nv + 1, nthreads)
    return _kth_prime_from(x0 + 1, nv - c, nthreads)


def clear_cache(tables: bool = True) -> None:
    """Forget cached pi values (and, with ``tables=True``, the kernel's prime tables)."""
    with _lock:
        _cache.clear()
        _stats["hits"] = 0
        _stats["misses"] = 0
    if tables:
        _pi._clear_tables()


def cache_info() -> dict:
    """``{"hits", "misses", "size", "maxsize", "tables"}``; ``tables`` is the (n, nf) coverage of
    the kernel's cached prime / mu-lpf tables, or None."""
    with _lock:
        return {**_stats, "size": len(_cache), "maxsize": CACHE_SIZE, "tables": _pi._table_limits()}
