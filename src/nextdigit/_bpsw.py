"""BPSW for many big numbers at once: our eight-lane IFMA kernel, or GMP.

``bpsw_many(numbers)`` decides a batch of odd numbers above 2**64 (sieve survivors, sampler
candidates) with the Baillie-PSW test:

1. the base-2 strong probable-prime test, eight numbers per AVX-512 IFMA batch
   (``nextdigit._mont52``, arithmetic in ``csrc/nextdigit/nd_mont52.h``); a composite almost
   always stops here;
2. for the numbers that pass: a perfect-square check, Selfridge's method A (the first D in 5,
   -7, 9, -11, ... with Jacobi(D/n) = -1; Jacobi 0 with |D| != n proves n composite),
   Q = (1 - D)/4, and P' = 1/Q - 2 in Montgomery form (P' R mod n), all with gmpy2 (a few us per
   number); then the strong Lucas test in the same lanes (the Q = 1 ladder of ``_u64.pxd``).

That is the same test as ``gmpy2.is_prime(n, 1)`` (GMP's BPSW: Miller-Rabin to base 2 and a
strong Lucas test with Selfridge's parameters), and the tests compare the two on every number of
whole windows and on known pseudoprimes.  Measured per number on this machine (Ice Lake, 8 lanes
busy): base-2 test 2.8 us at 333 bits vs 27 us for ``gmpy2.powmod``, 46 us vs 330 us at 1024
bits; Lucas 8 us vs ~100 us (GMP's BPSW of a prime costs ~4.5 powmods).  A batch costs the same
for 1 number as for 8: one lane of the base-2 test is then about GMP's price (24 vs 28 us at 333
bits, 380 vs 350 us at 1024), one lane of Lucas still beats GMP's BPSW (62 vs 127 us, 0.95 vs
1.5 ms), which is why ``first_prime`` runs Lucas lane by lane on the first passes.

Without IFMA (``_mont52.available()`` False, or the environment variable
``NEXTDIGIT_NO_IFMA=1``) everything goes to ``gmpy2.is_prime(n, 1)``: same answers, GMP's speed.
"""
from __future__ import annotations

import os

import gmpy2
import numpy as np

from . import _mont52, _primality
from ._util.validate import U64_MAX

USE_IFMA = _mont52.available() and os.environ.get("NEXTDIGIT_NO_IFMA", "0") != "1"
MAX_BITS = _mont52.MAX_BITS
LANES = 8


def limbs_array(numbers, nl: int | None = None) -> np.ndarray:
    """(len(numbers), nl) uint64 array of little-endian 64-bit limbs."""
    if nl is None:
        nl = max(1, max((x.bit_length() + 63) // 64 for x in numbers)) if numbers else 1
    raw = b"".join(x.to_bytes(8 * nl, "little") for x in numbers)
    return np.frombuffer(raw, dtype="<u8").astype(np.uint64).reshape(len(numbers), nl)


def selfridge_pprime(n: int, k: int) -> int | None:
    """P' R mod n (R = 2**(52k)) for Selfridge's parameters of odd n > 1, or None when the
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
    r = (gmpy2.mpz(1) << (52 * k)) % nz
    return int(r * (qinv - 2) % nz)


def _lucas_many(numbers: list[int], threads: int = 1) -> np.ndarray:
    """Strong Lucas-Selfridge verdicts (bool array) for odd numbers that passed base 2."""
    out = np.zeros(len(numbers), dtype=bool)
    groups: dict[int, list[int]] = {}
    for i, n in enumerate(numbers):
        groups.setdefault(_mont52.limbs52(n.bit_length()), []).append(i)
    for k, idx in groups.items():
        todo, pps = [], []
        for i in idx:
            pp = selfridge_pprime(numbers[i], k)
            if pp is not None:
                todo.append(i)
                pps.append(pp)
        if not todo:
            continue
        nums = [numbers[i] for i in todo]
        nl = max(1, max((x.bit_length() + 63) // 64 for x in nums))
        res = _mont52.lucas(limbs_array(nums, nl), limbs_array(pps, nl), threads)
        out[np.asarray(todo)] = res.astype(bool)
    return out


def bpsw_many(numbers: list[int], threads: int = 1) -> np.ndarray:
    """BPSW verdicts (bool array) for a list of odd ints above 2**64 (``threads`` OpenMP
    threads for the lanes; GMP's route is serial)."""
    numbers = list(numbers)
    # one number: one lane costs as much as eight, about GMP's price for the base-2 test
    if not USE_IFMA or len(numbers) < 2 or any(n.bit_length() > MAX_BITS for n in numbers):
        return np.fromiter((gmpy2.is_prime(n, 1) for n in numbers), dtype=bool, count=len(numbers))
    passed = _mont52.sprp2(limbs_array(numbers), threads).astype(bool)
    idx = np.flatnonzero(passed)
    if idx.size:
        passed[idx] = _lucas_many([numbers[i] for i in idx.tolist()], threads)
    return passed


def window_bpsw(a: int, offsets: np.ndarray, threads: int = 1) -> np.ndarray:
    """BPSW verdicts for the odd numbers a + o (o in ``offsets``, uint64), a >= 2**64."""
    offsets = np.ascontiguousarray(offsets, dtype=np.uint64)
    if not USE_IFMA or a.bit_length() + 1 > MAX_BITS:
        base = gmpy2.mpz(a)
        return np.fromiter((gmpy2.is_prime(base + o, 1) for o in offsets.tolist()), dtype=bool,
                           count=offsets.size)
    passed = _mont52.sprp2_offsets(limbs_array([a])[0], offsets, threads).astype(bool)
    idx = np.flatnonzero(passed)
    if idx.size:
        passed[idx] = _lucas_many([a + o for o in offsets[idx].tolist()], threads)
    return passed


def first_prime(candidates: list[int], nl: int | None = None) -> int | None:
    """The first prime of ``candidates`` in list order (odd ints > 3, any size), or None: BPSW,
    which is a proof below 2**64 (there the u64 kernel decides) and "probable prime" above.
    The base-2 test runs LANES candidates at a time (one IFMA batch) and stops at the batch
    holding the first prime; Lucas runs only on the first passes.  ``nl``: the caller vouches
    that every candidate fits nl 64-bit limbs and MAX_BITS bits (spares the per-call size scan
    in the samplers' loop)."""
    if not USE_IFMA or (nl is None and any(n.bit_length() > MAX_BITS for n in candidates)):
        for c in candidates:
            if gmpy2.is_prime(c, 1):
                return c
        return None
    for start in range(0, len(candidates), LANES):
        chunk = candidates[start:start + LANES]
        passed = _mont52.sprp2(limbs_array(chunk, nl))
        for i in np.flatnonzero(passed).tolist():
            c = chunk[i]
            if c <= U64_MAX:
                if _primality.is_prime_u64_scalar(c):
                    return c
            elif _lucas_many([c])[0]:
                return c
    return None
