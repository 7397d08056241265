"""Exact prime counting: ``prime_pi(x)`` = the number of primes <= x, for any x < 2**64.

The work is done by the Cython kernel ``nextdigit._pi`` (Deleglise-Rivat combinatorial method;
its module docstring describes the algorithm, the tuning of ``alpha`` and measured timings).
This layer validates the argument, dispatches small x to a cached sieve table, and keeps a
bounded LRU cache of computed values, so repeated and nearby calls are cheap:

* a value computed once is returned from the cache (up to ``CACHE_SIZE`` values);
* the kernel keeps its sieving-prime / pi / mu-lpf tables between calls (with headroom), so a
  call whose y = alpha * x**(1/3) is covered by the tables of a previous call skips their
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
from ._util.validate import U64_MAX, as_int, short

__all__ = ["prime_pi", "clear_cache", "cache_info"]

#: Below this, pi(x) is read from a plain sieve table (built once, kept and reused).
SMALL_LIMIT = 10**7
#: Number of (x, pi(x)) pairs kept by the LRU cache.
CACHE_SIZE = 4096

_cache: OrderedDict[int, int] = OrderedDict()
_lock = threading.Lock()
_stats = {"hits": 0, "misses": 0}


def prime_pi(x, *, threads=None) -> int:
    """Number of primes <= x, exactly, for integer x <= 2**64 - 1.

    Parameters
    ----------
    x : int
        Any integer (Python int, numpy integer, gmpy2 mpz); ``x < 2`` gives 0.  ``bool`` and
        floats are refused (TypeError); ``x > 2**64 - 1`` raises ValueError.
    threads : int or None
        Worker threads for the sieve phases (None: every usable core, honouring
        ``OMP_NUM_THREADS``; at most 4 x the CPUs this process may use, else ValueError).
        The result does not depend on it.

    Returns
    -------
    int
        pi(x).  Runs in about O(x**(2/3) / log(x)**2) time: ~0.03 s at 1e12, ~0.4 s at 1e14,
        ~7 s at 1e16 on one 2.6 GHz core (about primecount's single-thread speed).
        Interruptible with Ctrl-C (KeyboardInterrupt within ~0.1 s).
    """
    xv = as_int(x, "x")
    nthreads = resolve_threads(threads)
    if xv < 2:
        return 0
    if xv > U64_MAX:
        raise ValueError(f"x must be in [-inf, 2**64 - 1 = {U64_MAX}], got {short(xv)}")
    with _lock:
        hit = _cache.get(xv)
        if hit is not None:
            _cache.move_to_end(xv)
            _stats["hits"] += 1
            return hit
        _stats["misses"] += 1
    if xv < SMALL_LIMIT:
        value = int(_pi.pi_small(xv))
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
