"""Exact prime counts, lists and histograms on intervals below 2**64.

Public functions
----------------
* ``count_primes(a, b)`` -- the number of primes ``p`` with ``a <= p < b`` (a Python int);
* ``primes_between(a, b)`` -- those primes as an increasing ``numpy.uint64`` array;
* ``prime_histogram(a, width, m)`` -- a ``numpy.uint64`` array ``h`` of length ``m`` with
  ``h[i]`` = number of primes in ``[a + i*width, a + (i+1)*width)``, from one sieve pass.

Conventions
-----------
* Intervals are **half-open**: ``[a, b)``.  ``a == b`` is the empty interval (0 primes);
  ``a > b`` is a ``ValueError``.
* Negative numbers are allowed and simply contain no primes: the functions work on
  ``[a, b) ∩ [0, ∞)``.  So ``count_primes(-10, 10) == 4`` and a histogram bucket lying below 0
  counts 0.  (This makes offset arithmetic in callers easy; nothing is ever "wrapped".)
* Arguments are ints (Python, numpy or gmpy2 integers); bool, float, str and None raise
  ``TypeError`` naming the argument (``nextdigit._util.validate``).
* Everything here is exact: the sieve is deterministic, and the short-window route confirms
  sieve survivors with BPSW, which is a proof below 2**64 (see ``nextdigit._u64``).
* ``threads=None`` uses every usable core (``nextdigit._util.threads.resolve_threads``).

Routes and limits
-----------------
The dispatch (``_count``, ``_list``, ``_histogram``) has one branch per route:

1. ``b <= 2**64`` -- the 64-bit engine, ``nextdigit._sieve`` (the layers are described in that
   module's docstring), in one of two modes chosen by ``_choose_mode``:

   * ``"sieve"``: the segmented mod-30 sieve with every prime up to ``isqrt(b - 1)``;
   * ``"window"``: sieve by the primes up to ``B`` (2**16 or 2**20) only, then confirm the
     survivors with the batch BPSW kernel ``nextdigit._primality.is_prime_u64_array``.

2. ``b > 2**64`` -- big windows (``nextdigit._bigcount``): the part of the interval at or above
   2**64 is sieved by primes below a cost-model bound from residues computed on 64-bit limbs,
   and the survivors are confirmed with BPSW (IFMA lanes or GMP, ``_bpsw``); the part below
   2**64, if any, takes route 1.
   Spans above ``MAX_BIG_SPAN = 10**10`` raise ``ValueError`` naming the approximate route
   (``DensityPrimeModel`` / ``density.density_mass``).

Long spans below 2**64 go through ``prime_pi`` differences (``nextdigit.pi``, Deleglise-Rivat)
whenever that is cheaper by the measured cost model (``_use_pi``: prime_pi ~0.026 s at 1e12,
~x**0.6, against ~0.14 ns per integer for the sieve; e.g. at b = 1e12 the pi route wins for spans
above ~4e8), and histograms of at most 4096 buckets evaluate pi at the bucket edges when that is
cheaper than one sieve pass.  Spans that must be sieved (lists, fine histograms) longer than
``MAX_SPAN = 10**12`` raise ``ValueError``.
``primes_between`` refuses results estimated above ``MAX_LIST = 2**27`` primes (1 GiB) and
points to ``count_primes`` / ``prime_histogram``.

The mode cost model (measured on this machine, one thread)
----------------------------------------------------------
Both modes were timed on ``[hi - span, hi)`` for hi = 1e10, 1e12, ..., 1e18, 2**64 and spans
1e3..1e10.  The full sieve pays a fixed cost before its first segment: ~6 ns per sieving prime
``p <= sqrt(hi)`` to place it in its layer (0.31 s at hi = 1e18, 50.8 million primes), plus
~0.9 ns per integer below ``sqrt(hi)`` to generate them when they are not cached (3.8 s at
2**64, where the 800 MB array is not kept); then 0.2-1.5 ns per integer of the span.  The window
mode has almost no fixed cost (0.1 ms) and pays 12-22 ns per integer of the span (one batch BPSW
test per survivor; ~4-5 % of the integers survive the sieve to 2**16..2**20).  Measured
crossovers (span where both take the same time):

    hi      1e12   1e14   1e16   1e18   2**64
    span    3e4    3e5    2e6    2e7    5e8      (~0.8 * sqrt(hi) / ln(hi) while cached)

``_choose_mode`` implements the fitted rule span * (15 ns - 1 ns) < fixed cost of the full
sieve; below 2**32 the full sieve always wins.

"""
from __future__ import annotations

import math
import threading

import numpy as np

from . import _bigcount, _primality, _sieve
from ._util.scale import check_checkpoint, check_executor, check_progress, run_tasks
from ._util.threads import resolve_threads
from ._util.validate import as_int, short

__all__ = ["count_primes", "primes_between", "prime_histogram", "can_count_exactly", "MAX_SPAN", "MAX_BIG_SPAN",
           "MAX_LIST", "PIECE"]

TWO64 = 1 << 64
MAX_SPAN = 10**12
MAX_BUCKETS = 1 << 28
MAX_LIST = 1 << 27
WINDOW_SUB = 1 << 24          # window mode works through sub-windows of this many integers
_SMALL_CACHE_LIMIT = 1 << 24  # _sieving_primes keeps arrays of primes up to this bound

_MODES = (None, "sieve", "window")
PIECE = 1 << 30               # integers per task of a split job (executor= / checkpoint= / progress=)

# ---------------------------------------------------------------------------------------------
# Sieving primes as an array (the kernel generates its own; this is for callers that want the
# list itself, e.g. tests), cached for small bounds
# ---------------------------------------------------------------------------------------------
_cache_lock = threading.Lock()
_cache_primes = np.empty(0, dtype=np.uint32)
_cache_limit = 0


def _sieving_primes(limit: int) -> np.ndarray:
    """uint32 array of all primes <= limit (limit < 2**32), cached up to 2**24."""
    global _cache_primes, _cache_limit
    with _cache_lock:
        if limit <= _cache_limit:
            return _cache_primes[: np.searchsorted(_cache_primes, np.uint32(limit), side="right")]
    arr = _sieve.run(2, 0, max(int(limit), 1))          # consume 2: list as uint32
    if limit <= _SMALL_CACHE_LIMIT:
        with _cache_lock:
            if limit > _cache_limit:
                _cache_primes, _cache_limit = arr, int(limit)
    return arr


def _clear_cache() -> None:
    """Forget the cached sieving-prime array (benchmarks call it before timing cold calls)."""
    global _cache_primes, _cache_limit
    with _cache_lock:
        _cache_primes, _cache_limit = np.empty(0, dtype=np.uint32), 0


# ---------------------------------------------------------------------------------------------
# Mode choice
# ---------------------------------------------------------------------------------------------
# Measured costs (seconds, one thread, this machine; see the module docstring):
_C_WINDOW = 15e-9        # per integer of the span in window mode (sieve to B + batch BPSW)
_C_SIEVE = 1.0e-9        # per integer of the span in the full sieve near 1e16..1e18
_C_SPRIME = 7e-9         # per sieving prime p <= sqrt(hi): generating it and placing it


def _full_sieve_fixed_cost(hi: int) -> float:
    """Seconds the full sieve spends before its first segment: sieving primes up to sqrt(hi)."""
    r = math.isqrt(hi)
    n_primes = r / max(1.0, math.log(max(r, 3)) - 1.1)
    return _C_SPRIME * n_primes


def _choose_mode(lo: int, hi: int) -> str:
    """'window' when it is cheaper by the cost model: span * (C_WINDOW - C_SIEVE) < fixed cost
    of the full sieve.  Measured crossover spans: 3e4 at hi = 1e12, 3e5 at 1e14, 2e6 at 1e16,
    2e7 at 1e18, 5e8 at 2**64 (sieving primes not cacheable there); the rule reproduces them
    within a factor 1.5 (the cost curves are flat near the crossover)."""
    span = hi - lo + 1
    if hi < 1 << 32:
        return "sieve"
    return "window" if span * (_C_WINDOW - _C_SIEVE) < _full_sieve_fixed_cost(hi) else "sieve"


def _window_bound(span: int, hi: int) -> int:
    """Sieving bound of the window mode: 2**16 for short spans, 2**20 for long ones."""
    return min(math.isqrt(hi), (1 << 16) if span < (1 << 24) else (1 << 20))


def _window_chunks(lo: int, hi: int, threads: int):
    """Yield the primes of [lo, hi] (uint64 arrays, increasing) by sieve + batch BPSW."""
    bound = _window_bound(hi - lo + 1, hi)
    x = lo
    while x <= hi:
        y = min(hi, x + WINDOW_SUB - 1)
        surv = _sieve.run(1, x, y, limit=bound)
        flags = np.empty(surv.shape[0], dtype=np.uint8)
        if surv.shape[0]:
            _primality.is_prime_u64_array(surv, flags, threads)
        yield surv[flags.view(bool)]
        x = y + 1


# ---------------------------------------------------------------------------------------------
# The 64-bit route
# ---------------------------------------------------------------------------------------------
def _u64_count(lo: int, hi: int, threads: int, mode: str | None) -> int:
    mode = mode or _choose_mode(lo, hi)
    if mode == "window":
        return sum(int(c.shape[0]) for c in _window_chunks(lo, hi, threads))
    return int(_sieve.run(0, lo, hi, threads=threads))


def _u64_list(lo: int, hi: int, threads: int, mode: str | None) -> np.ndarray:
    mode = mode or _choose_mode(lo, hi)
    if mode == "window":
        parts = list(_window_chunks(lo, hi, threads))
        return np.concatenate(parts) if parts else np.empty(0, dtype=np.uint64)
    return _sieve.run(1, lo, hi, threads=threads)


def _u64_histogram(a: int, width: int, m: int, threads: int, mode: str | None) -> np.ndarray:
    """Buckets [a + i*width, a + (i+1)*width), 0 <= a, a + m*width <= 2**64."""
    out = np.zeros(m, dtype=np.uint64)
    lo, hi = a, a + m * width - 1
    mode = mode or _choose_mode(lo, hi)
    if mode == "window":
        ua, uw = np.uint64(a), np.uint64(width)
        for primes in _window_chunks(lo, hi, threads):
            if primes.shape[0]:
                idx = ((primes - ua) // uw).astype(np.intp)
                out += np.bincount(idx, minlength=m).astype(np.uint64)
        return out
    _sieve.run(3, lo, hi, threads=threads, h_a=a, h_w=width, h_out=out)
    return out


# ---------------------------------------------------------------------------------------------
# Validation and dispatch
# ---------------------------------------------------------------------------------------------
def _check_mode(mode):
    if mode not in _MODES:
        raise ValueError(f"_mode must be one of {_MODES}, got {mode!r}")
    return mode


def _interval(a, b) -> tuple[int, int]:
    a = as_int(a, "a")
    b = as_int(b, "b")
    if a > b:
        raise ValueError(f"a must be <= b (the interval is [a, b)), got a={short(a)} > b={short(b)}")
    return a, b


def _check_scale(executor, checkpoint, progress):
    """The split-job arguments, validated before any work (``nextdigit._util.scale``)."""
    return check_executor(executor), check_checkpoint(checkpoint), check_progress(progress)


def _check_span(span: int, what: str) -> None:
    if span > MAX_SPAN:
        raise ValueError(
            f"{what} = {short(span)} is too large to sieve (limit {MAX_SPAN:.0e} integers); count "
            "long ranges below 2**64 with count_primes (prime_pi route) or fewer, wider buckets"
        )


# --- the prime_pi route ------------------------------------------------------------------------
def _pi_seconds(x: int) -> float:
    """Measured prime_pi CPU cost on one core (Gourdon's algorithm, Zen 5: 0.4 ms at 1e10,
    7.1 ms at 1e12, 0.10 s at 1e14, 1.8 s at 1e16, ~x**0.6), with a 0.2 ms floor for the call
    and its cached tables."""
    return max(2e-4, 0.0071 * (max(x, 1) / 1e12) ** 0.6)


def _sieve_seconds(lo: int, hi: int) -> float:
    """Measured full-sieve CPU cost on one core (the C kernel, Zen 5): ~0.15 ns per integer of
    the span up to 1e12, growing by ~0.09 ns per decade above (0.42 ns at 1e15, 0.75 ns at
    1e18: the big-prime buckets), plus the sieving primes."""
    decades = max(0.0, math.log10(max(hi, 1)) - 12)
    return (1.5e-10 + 9e-11 * decades) * (hi - lo) + 1e-9 * math.isqrt(max(hi, 1)) + 1e-4


def _use_pi(lo: int, hi: int, evaluations: int) -> bool:
    """Whether ``evaluations`` prime_pi calls near ``hi`` beat one sieve pass over [lo, hi)."""
    return hi <= TWO64 and evaluations * _pi_seconds(hi) < _sieve_seconds(lo, hi)


def _pi(x: int, threads: int) -> int:
    from .pi import prime_pi

    return prime_pi(min(x, TWO64 - 1), threads=threads)


MAX_BIG_SPAN = _bigcount.MAX_SPAN


def _check_big_span(lo: int, hi: int, what: str = "b - a") -> None:
    """The part of [lo, hi) at or above 2**64 must be a window of at most MAX_BIG_SPAN integers
    (checked before any work, also when a part below 2**64 is counted first)."""
    span = hi - max(lo, TWO64)
    if span > MAX_BIG_SPAN:
        raise ValueError(
            f"{what} = {short(span)} above 2**64 is too large to count exactly (limit {MAX_BIG_SPAN:.0e}); "
            "use the approximate route: nextdigit.density.density_mass (li or R) or "
            "nextdigit.tasks.primes.DensityPrimeModel"
        )


def _big_offsets(lo: int, hi: int, threads: int) -> np.ndarray:
    """Offsets from ``lo`` (>= 2**64) of the primes in [lo, hi), uint64."""
    _check_big_span(lo, hi)
    return _bigcount.window_prime_offsets(lo, hi - lo, threads=threads)


def can_count_exactly(a: int, b: int) -> bool:
    """Whether ``count_primes(a, b)`` is within the engine's limits (no ValueError for size):
    anything below 2**64 (prime_pi covers it), windows up to MAX_BIG_SPAN above."""
    lo = max(a, 0)
    if b <= TWO64:
        return True
    return b - max(lo, TWO64) <= MAX_BIG_SPAN


def count_primes(a, b, *, threads=None, executor=None, checkpoint=None, progress=False, _mode=None) -> int:
    """Number of primes p with a <= p < b (half-open; a == b gives 0, a > b is a ValueError).

    Negative a is allowed (there are no primes below 2).  b may be 2**64 itself.

    >>> count_primes(0, 100)
    25
    >>> count_primes(10**9, 10**9 + 1000)
    49
    """
    a, b = _interval(a, b)
    t = resolve_threads(threads)
    executor, checkpoint, progress = _check_scale(executor, checkpoint, progress)
    _check_mode(_mode)
    lo = max(a, 0)
    if b > TWO64:
        _check_big_span(lo, b)
    if executor is not None or checkpoint is not None or progress:
        if b > TWO64:
            raise ValueError("executor/checkpoint/progress apply to intervals below 2**64")
        if lo >= b:
            return 0
        if _mode is None and _use_pi(lo, b, 2):  # two pi(x) calls beat any split of the span
            return _pi(b - 1, t) - _pi(lo - 1, t)
        return _split_count(lo, b, executor=executor, checkpoint=checkpoint, progress=progress)
    if b > TWO64:
        big_lo = max(lo, TWO64)
        n_big = len(_big_offsets(big_lo, b, t))
        return n_big + (count_primes(lo, TWO64, threads=t, _mode=_mode) if lo < TWO64 else 0)
    if lo >= b:
        return 0
    if _mode is None and _use_pi(lo, b, 2):
        return _pi(b - 1, t) - _pi(lo - 1, t)
    _check_span(b - lo, "b - a")
    return _u64_count(lo, b - 1, t, _mode)


def primes_between(a, b, *, threads=None, _mode=None) -> np.ndarray:
    """The primes p with a <= p < b, increasing, as a numpy uint64 array (half-open interval).

    Refuses (ValueError) when the result is estimated above ``MAX_LIST`` = 2**27 primes
    (estimate: (b - a) / (ln b - 1.1), an overestimate for b > 100); use ``count_primes`` or
    ``prime_histogram`` for such ranges.

    >>> primes_between(90, 110).tolist()
    [97, 101, 103, 107, 109]
    """
    a, b = _interval(a, b)
    t = resolve_threads(threads)
    _check_mode(_mode)
    lo = max(a, 0)
    if b > lo:  # every size limit before any work: the span(s), then the length of the result
        if b > TWO64:
            _check_big_span(lo, b)
        if lo < TWO64:
            _check_span(min(b, TWO64) - lo, "b - a")
        est = (b - lo) / max(1.0, math.log(max(b, 3)) - 1.1)
        if est > MAX_LIST:
            raise ValueError(
                f"primes_between({short(a)}, {short(b)}) would return about {est:.3g} primes, more than the "
                f"limit {MAX_LIST} (2**27); use count_primes or prime_histogram instead"
            )
    if b > TWO64:
        # Python ints out: an object array (the values do not fit uint64)
        big_lo = max(lo, TWO64)
        small = primes_between(lo, TWO64, threads=t, _mode=_mode).tolist() if lo < TWO64 else []
        big = [big_lo + int(o) for o in _big_offsets(big_lo, b, t)]
        out = np.empty(len(small) + len(big), dtype=object)
        out[:] = small + big
        return out
    if lo >= b:
        return np.empty(0, dtype=np.uint64)
    return _u64_list(lo, b - 1, t, _mode)


def _big_histogram(a: int, width: int, m: int, end: int, t: int, mode) -> np.ndarray:
    """Histogram of an interval that reaches above 2**64: buckets below 2**64 by the sieve,
    the rest from the big-window prime offsets (one pass each)."""
    out = np.zeros(m, dtype=np.uint64)
    start = max(a, TWO64)
    if a < TWO64:
        # buckets wholly below 2**64 by the 64-bit engine; the straddling one gets both parts
        k = max(0, (TWO64 - a) // width)          # buckets [a, a + k*width) lie below 2**64
        if k:
            out[:k] = prime_histogram(a, width, k, threads=t, _mode=mode)
        if k < m and a + k * width < TWO64:
            out[k] += count_primes(a + k * width, TWO64, threads=t, _mode=mode)
    offs = _big_offsets(start, end, t)
    if len(offs):
        # start - a and width are below MAX_SPAN + MAX_BIG_SPAN here, so uint64 is exact
        idx = (offs + np.uint64(start - a)) // np.uint64(width)
        out += np.bincount(idx.astype(np.int64), minlength=m)[:m].astype(np.uint64)
    return out


def prime_histogram(a, width, m, *, threads=None, executor=None, checkpoint=None, progress=False,
                    _mode=None) -> np.ndarray:
    """Prime counts of ``m`` consecutive buckets of ``width`` integers starting at ``a``.

    Returns a uint64 array ``h`` with ``h[i] = count_primes(a + i*width, a + (i+1)*width)``,
    computed in one sieve pass.  ``width >= 1`` and ``m >= 1`` (else ValueError); negative
    ``a`` is allowed (buckets below 2 count 0).

    >>> prime_histogram(0, 10, 5).tolist()
    [4, 4, 2, 2, 3]
    """
    a = as_int(a, "a")
    width = as_int(width, "width")
    m = as_int(m, "m")
    if width < 1:
        raise ValueError(f"width must be >= 1, got {short(width)}")
    if m < 1:
        raise ValueError(f"m must be >= 1, got {short(m)}")
    if m > MAX_BUCKETS:
        raise ValueError(f"m must be <= {MAX_BUCKETS} (2**28 buckets = 2 GiB of counts), got {short(m)}")
    t = resolve_threads(threads)
    executor, checkpoint, progress = _check_scale(executor, checkpoint, progress)
    _check_mode(_mode)
    end = a + width * m
    if end > TWO64:
        _check_big_span(a, end, "width * m")   # before the buckets below 2**64 are sieved
    if executor is not None or checkpoint is not None or progress:
        if end > TWO64 or a < 0:
            raise ValueError("executor/checkpoint/progress apply to histograms within [0, 2**64]")
        return _split_histogram(a, width, m, executor=executor, checkpoint=checkpoint, progress=progress)
    if end > TWO64:
        return _big_histogram(a, width, m, end, t, _mode)
    if _mode is None and a >= 0 and m <= 4096 and _use_pi(a, end, m + 1):
        # few wide buckets: pi at the m + 1 edges beats sieving the whole span
        edges = [_pi(a + i * width - 1, t) for i in range(m + 1)]
        return np.diff(np.array(edges, dtype=np.uint64)).astype(np.uint64)
    _check_span(end - max(a, 0), "width * m")
    if end <= 0:
        return np.zeros(m, dtype=np.uint64)
    if a < 0:
        # buckets entirely below 0 are empty; the bucket straddling 0 is counted directly
        out = np.zeros(m, dtype=np.uint64)
        k = (-a) // width                       # buckets [.., a + k*width) lie below 0
        if k < m and a + k * width < 0:
            out[k] = count_primes(0, a + (k + 1) * width, threads=t, _mode=_mode)
            k += 1
        if k < m:
            out[k:] = prime_histogram(a + k * width, width, m - k, threads=t, _mode=_mode)
        return out
    return _u64_histogram(a, width, m, t, _mode)


# ---------------------------------------------------------------------------------------------
# Split jobs (executor= / checkpoint= / progress=): pieces through nextdigit._util.scale.run_tasks
# ---------------------------------------------------------------------------------------------
def _count_piece(lo: int, hi: int) -> int:
    return count_primes(lo, hi, threads=1)


def _hist_piece(a: int, width: int, m: int) -> list[int]:
    return [int(x) for x in prime_histogram(a, width, m, threads=1)]


def _split_count(lo: int, hi: int, *, executor=None, checkpoint=None, progress=False) -> int:
    """Exact count of primes in [lo, hi), ``PIECE`` integers per task (one exact count each)."""
    tasks = [(_count_piece, (s, min(s + PIECE, hi))) for s in range(lo, hi, PIECE)]
    key = {"job": "count_primes", "a": str(lo), "b": str(hi), "piece": PIECE}
    return sum(run_tasks(tasks, key, executor, checkpoint, progress))


def _split_histogram(a: int, width: int, m: int, *, executor=None, checkpoint=None, progress=False) -> np.ndarray:
    """Exact prime histogram, whole buckets per task (about ``PIECE`` integers each)."""
    per = max(1, PIECE // width)
    tasks = [(_hist_piece, (a + k * width, width, min(per, m - k))) for k in range(0, m, per)]
    key = {"job": "prime_histogram", "a": str(a), "width": str(width), "m": m, "piece": PIECE}
    parts = run_tasks(tasks, key, executor, checkpoint, progress)
    return np.array([x for part in parts for x in part], dtype=np.uint64)
