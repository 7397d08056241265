"""Exact prime counting below 2**64: ``prime_pi(x)`` = the number of primes <= x (the n-th
prime is ``nextdigit.nthprime.nth_prime``).

The work is done by the Cython kernel ``nextdigit._pi`` (Gourdon's variant of the combinatorial
Meissel-Lehmer / Deleglise-Rivat method; its module docstring describes every term, the
tuning of alpha_y / alpha_z and the measured timings against primecount).  This layer validates
the argument, dispatches small x to a cached sieve table, and keeps a bounded LRU cache of
computed values, so repeated and nearby calls are cheap:

* a value computed once is returned from the cache (up to ``CACHE_SIZE`` values);
* the kernel keeps its prime / pi / factor tables between calls (with headroom), so a call
  whose y = alpha_y * x**(1/3) is covered by the tables of a previous call skips their
  construction; for x < ``SMALL_LIMIT`` the cached sieve table answers directly.

>>> prime_pi(100)
25
>>> prime_pi(10**12)
37607912018
>>> prime_pi(-5)
0
"""
from __future__ import annotations

import threading
from collections import OrderedDict

from . import _pi
from ._util.threads import resolve_threads
from ._util.validate import U64_MAX, as_int

__all__ = ["prime_pi", "clear_cache", "cache_info"]

#: Below this, pi(x) is read from a plain sieve table (built once, kept and reused).
SMALL_LIMIT = 10**7
#: Number of (x, pi(x)) pairs kept by the LRU cache.
CACHE_SIZE = 4096
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
