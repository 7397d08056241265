"""Primality: ``is_prime``, ``next_prime``, ``prev_prime`` for integers of any size.

Dispatch
--------
* ``n < 2**64`` (scalars and every element of an integer array): the deterministic u64 kernel
  (trial division by the odd primes below 101, then Baillie-PSW; see ``csrc/nextdigit/_u64.pxd``
  for why that is a proof below 2**64).  Arrays go through one batch call with the GIL released,
  split over ``threads`` OpenMP threads.
* ``n >= 2**64``, lists and arrays: the prefilter below, then BPSW eight numbers at a time in
  the AVX-512 IFMA lanes where the CPU has them (``nextdigit._bpsw``; same verdicts as GMP's).
* ``n >= 2**64``, one number: a small-prime prefilter (``n % M`` for M = 3*5*...*23 < 2**30, a one-digit
  division in CPython, then ``gcd``: ~0.2 us at 512 bits, rejects 72% of random odd numbers),
  then ``gmpy2.is_prime(n, 1)``.  With GMP >= 6.2 (gmpy2 ships 6.3), ``mpz_probab_prime_p`` runs its
  own trial division and then the Baillie-PSW test, and adds Miller-Rabin rounds only for
  ``reps > 24``; so ``reps = 1`` *is* BPSW.  Measured here on 200 random primes
  (us/number, 512/1024/2048 bits): ``is_prime(n, 1)`` 271/1390/9233, ``is_prime(n)`` (25 reps)
  335/1792/11871, ``is_bpsw_prp`` (gmpy2's own implementation) 412/2207/15157.  GMP's BPSW
  was the fastest, so that is the route.  On random odd 512/1024/2048-bit input the whole path
  measured 12.3/67.8/343 us against 11.7/69.2/344 us for a plain ``gmpy2.is_prime`` loop: GMP
  trial-divides too, so the time is set by the survivors' BPSW and the prefilter is a wash;
  it is kept because it spares the GMP call for most composites at no measurable cost.  No BPSW counterexample is known at any size; above
  2**64 the answer is "probable prime", as with every fast library.

``next_prime`` / ``prev_prime`` above 2**64, where the CPU has the IFMA lanes: windows of
W = 4 * bits numbers next to n are sieved by the primes below B (``_bigwin``; B = 2**10 up to
256 bits, 2**12 to 512, 2**14 to 1536, 2**16 beyond: measured best on this machine) and the
survivors, nearest to n first, go through BPSW eight at a time (``_bpsw.first_prime``); the
first prime in that order is the answer.  Measured against ``gmpy2.next_prime`` on random
inputs: about 2x / 1.7-2.9x / 4x faster at 200 / 333 / 1024 bits (runs vary at 333 bits).
Without IFMA: gmpy2's functions.

Bad input: ``bool``, ``float`` (even 7.0), ``str``, ``None`` and float/bool/string arrays raise
``TypeError`` naming the argument; negative numbers, 0 and 1 are simply not prime.
"""
from __future__ import annotations

import math

import gmpy2
import numpy as np

from . import _bigcount, _bigwin, _bpsw, _primality
from ._util.threads import resolve_threads
from ._util.validate import TWO64, U64_MAX, as_int

__all__ = ["is_prime", "next_prime", "prev_prime"]

_SMALL_ODD_PRIMORIAL = 3 * 5 * 7 * 11 * 13 * 17 * 19 * 23  # < 2**30: one CPython digit


def _survives_prefilter(n: int) -> bool:
    """n >= 2**64 is odd and has no prime factor 3..23 (one CPython division and a gcd)."""
    return bool(n & 1) and math.gcd(n % _SMALL_ODD_PRIMORIAL, _SMALL_ODD_PRIMORIAL) == 1


def _is_prime_big(n: int) -> bool:
    """Primality of n >= 2**64 (BPSW via GMP after a gcd prefilter)."""
    return _survives_prefilter(n) and bool(gmpy2.is_prime(n, 1))


def _is_prime_int(n: int) -> bool:
    if n < 2:
        return False
    if n <= U64_MAX:
        return _primality.is_prime_u64_scalar(n)
    return _is_prime_big(n)


def _is_prime_u64_array(arr: np.ndarray, threads: int) -> np.ndarray:
    flat = np.ascontiguousarray(arr, dtype=np.uint64).reshape(-1)
    out = np.empty(flat.shape[0], dtype=np.uint8)
    _primality.is_prime_u64_array(flat, out, threads)
    return out.view(np.bool_).reshape(arr.shape)


def _is_prime_array(arr: np.ndarray, threads: int, name: str) -> np.ndarray:
    kind = arr.dtype.kind
    if kind == "u":
        return _is_prime_u64_array(arr, threads)
    if kind == "i":
        neg = arr < 0
        if neg.any():
            res = _is_prime_u64_array(np.where(neg, 0, arr).astype(np.uint64), threads)
            return res  # negatives map to 0, which is not prime
        return _is_prime_u64_array(arr.astype(np.uint64), threads)
    if kind == "O":
        flat = arr.reshape(-1)
        ints = [v if type(v) is int else as_int(v, f"{name}[{i}]") for i, v in enumerate(flat)]
        return _is_prime_list(ints, threads).reshape(arr.shape)
    raise TypeError(f"{name} must hold integers, not {arr.dtype} values")


def _is_prime_list(ints: list, threads: int) -> np.ndarray:
    """Primality of validated Python ints: the u64 ones in one batch call, the big ones through
    ``_bpsw.is_prime_many`` (trial division in C, then BPSW in the lanes, eight at a time)."""
    small = np.fromiter((v if 0 <= v <= U64_MAX else 0 for v in ints), dtype=np.uint64, count=len(ints))
    res = _is_prime_u64_array(small, threads)
    big = [i for i, v in enumerate(ints) if v > U64_MAX]
    if big:
        res[np.asarray(big)] = _bpsw.is_prime_many([ints[i] for i in big], threads)
    return res


def is_prime(n, *, threads=None):
    """Whether ``n`` is prime.

    Parameters
    ----------
    n : int, numpy integer, integer array or sequence of ints
        Any size.  Values below 2**64 are decided exactly (deterministic BPSW); larger values by
        BPSW through GMP (no counterexample is known).
    threads : int or None
        Threads for array input (None: all usable cores, honouring ``OMP_NUM_THREADS``).

    Returns
    -------
    bool for a scalar, a numpy bool array of the same shape for array/sequence input.

    >>> is_prime(2**61 - 1), is_prime(2**64 - 59), is_prime(-7)
    (True, True, False)
    >>> is_prime([0, 1, 2, 3, 4, 2**89 - 1]).tolist()
    [False, False, True, True, False, True]
    """
    if isinstance(n, np.ndarray):
        t = resolve_threads(threads)
        if n.ndim == 0:
            return _is_prime_array(n.reshape(1), t, "n")[0].item()
        return _is_prime_array(n, t, "n")
    if isinstance(n, (list, tuple)):
        t = resolve_threads(threads)
        ints = [v if type(v) is int else as_int(v, f"n[{i}]") for i, v in enumerate(n)]
        return _is_prime_list(ints, t)
    if threads is not None:
        resolve_threads(threads)  # validate even when unused
    return _is_prime_int(as_int(n, "n"))


def next_prime(n) -> int:
    """The smallest prime strictly greater than ``n`` (any size; ``next_prime(-5) == 2``).

    >>> next_prime(10**18), next_prime(2**64 - 59) - 2**64
    (1000000000000000003, 13)
    """
    n = as_int(n, "n")
    if n < 2:
        return 2
    if n < U64_MAX:
        p = _primality.next_prime_u64(n)
        if p:
            return int(p)
        n = U64_MAX  # no prime in (n, 2**64): continue from there
    if _bpsw.lanes_active() and n.bit_length() < _bpsw.max_bits():
        return _next_prime_big(n)
    return int(gmpy2.next_prime(n))


def _scan_params(bits: int) -> tuple[int, np.ndarray]:
    """(window width W, sieving primes below B) for the big next/prev-prime scans."""
    b = 1 << 10 if bits <= 256 else 1 << 12 if bits <= 512 else 1 << 14 if bits <= 1536 else 1 << 16
    return max(256, 4 * bits), _bigcount.sieve_primes(b)


def _next_prime_big(n: int, width: int | None = None) -> int:
    """next_prime for n >= 2**64 - 1 by sieved windows and the IFMA lanes (module docstring)."""
    w, primes = _scan_params(n.bit_length())
    w = width or w
    a = n + 1
    while True:
        surv = _bigwin.window_survivors(_bigcount.limbs_of(a), w, primes)
        p = _bpsw.first_prime([a + o for o in surv.tolist()])
        if p is not None:
            return p
        a += w


def _prev_prime_big(n: int, width: int | None = None) -> int:
    """prev_prime for n > 2**64: windows below n, nearest first, down to 2**64; below that the
    u64 kernel."""
    w, primes = _scan_params(n.bit_length())
    w = width or w
    hi = n
    while hi > TWO64:
        lo = max(hi - w, TWO64)
        surv = _bigwin.window_survivors(_bigcount.limbs_of(lo), hi - lo, primes)
        p = _bpsw.first_prime([lo + o for o in reversed(surv.tolist())])
        if p is not None:
            return p
        hi = lo
    return int(_primality.prev_prime_u64(U64_MAX))


def prev_prime(n) -> int:
    """The largest prime strictly less than ``n``; ``ValueError`` when ``n <= 2``.

    >>> prev_prime(10**18), prev_prime(2**64)
    (999999999999999989, 18446744073709551557)
    """
    n = as_int(n, "n")
    if n <= 2:
        raise ValueError(f"n must be > 2 (there is no prime below 2), got {n}")
    if n <= TWO64:
        if n == TWO64:
            return int(_primality.prev_prime_u64(U64_MAX))  # 2**64 - 1 is composite
        return int(_primality.prev_prime_u64(n))
    if _bpsw.lanes_active() and n.bit_length() <= _bpsw.max_bits():
        return _prev_prime_big(n)
    return int(gmpy2.prev_prime(n))
