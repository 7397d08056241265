# cython: language_level=3
"""Windows of huge numbers: sieve [a, a + span) by the primes below a bound B, without GMP.

Used for a >= 2**64 (hundreds or thousands of digits), where sieving up to sqrt(a) is impossible
and each survivor is confirmed by BPSW in the Python layer (gmpy2).  Three steps:

1. ``small_primes(B)``: the odd primes below B, by a plain odd-only Eratosthenes sieve (B is at
   most a few times 10**7, so this is milliseconds and the Python layer caches it).
2. ``residues(limbs, primes)``: a mod p for every sieving prime, computed here from the 64-bit
   limbs of a (little-endian, as ``int.to_bytes(..., "little")`` gives them).  Horner's rule from
   the most significant limb: r <- (r * (2**64 mod p) + (limb mod p)) mod p.  With p < 2**31 the
   product stays below 2**62, so everything is plain 64-bit arithmetic: two divisions per limb
   and prime, no 128-bit division and no GMP linking.
3. ``window_survivors(limbs, span, primes)``: an odd-only byte sieve of the window, cut into
   segments of ``SEGMENT`` bytes so memory stays O(SEGMENT + pi(B)) whatever the span.  For each
   prime the first hit is i0 = (-(a0 mod p)) * 2**-1 mod p (index i stands for a0 + 2i, a0 the
   first odd number >= a), and the next hit of every prime is carried from segment to segment.
   Because a > B, a hit is never the prime itself.  Returns the offsets (number - a) of the
   survivors, which are exactly the numbers of the window without a prime factor < B.

4. ``rough_rows(limbs, bound)``: for a list of big numbers (one per row of 64-bit limbs, each
   above every prime used), 1 where the number has no odd prime factor below ``bound``: the
   prefilter of ``is_prime`` on lists, where there is no window to sieve (``nd_rough.h``:
   products of primes, one Montgomery pass over the limbs per product, early exit).

All loops run without the GIL; the sieve checks for Ctrl-C between segments.
"""
from cpython.exc cimport PyErr_CheckSignals
from libc.stdint cimport uint8_t, uint32_t, uint64_t
from libc.string cimport memset

import numpy as np

cimport numpy as cnp

cnp.import_array()

ctypedef uint64_t u64

cdef extern from "nd_rough.h":
    void nd_rg_setup() noexcept nogil
    int nd_rg_rough(const u64* w, int nl, int nprimes) noexcept nogil
    int nd_rg_nprimes
    const uint32_t* nd_rg_p

nd_rg_setup()
ROUGH_BOUND = 1 << 16          # rough_rows takes bounds up to this

cdef enum:
    SEGMENT = 1 << 17          # bytes (odd numbers) per segment: 256 Ki numbers, fits L2

SEGMENT_NUMBERS = SEGMENT      # odd numbers per segment, for the Python cost model


def small_primes(uint32_t bound):
    """Odd primes p with 3 <= p < bound, as a uint32 array (bound <= 2**31)."""
    if bound > 2147483648:
        raise ValueError("bound must be <= 2**31")
    if bound <= 3:
        return np.empty(0, dtype=np.uint32)
    cdef Py_ssize_t half = bound // 2          # index i <-> 2i + 1, i < half
    cdef cnp.ndarray[uint8_t, ndim=1] comp = np.zeros(half, dtype=np.uint8)
    cdef uint8_t* c = <uint8_t*>comp.data
    cdef Py_ssize_t i, j, p, count = 0
    with nogil:
        c[0] = 1                                # 1 is not prime
        i = 1
        while (2 * i + 1) * (2 * i + 1) < bound:
            if not c[i]:
                p = 2 * i + 1
                j = (p * p) // 2
                while j < half:
                    c[j] = 1
                    j += p
            i += 1
        for i in range(half):
            count += c[i] == 0
    cdef cnp.ndarray[uint32_t, ndim=1] out = np.empty(count, dtype=np.uint32)
    cdef uint32_t* o = <uint32_t*>out.data
    j = 0
    with nogil:
        for i in range(half):
            if not c[i]:
                o[j] = <uint32_t>(2 * i + 1)
                j += 1
    return out


cdef inline u64 _mod_limbs(const u64* limbs, Py_ssize_t nlimbs, u64 p) noexcept nogil:
    """(sum limbs[k] * 2**(64k)) mod p for p < 2**31."""
    cdef u64 t = ((<u64>0 - p) % p)             # 2**64 mod p
    cdef u64 r = 0
    cdef Py_ssize_t k
    for k in range(nlimbs - 1, -1, -1):
        r = (r * t + limbs[k] % p) % p
    return r


def residues(const uint64_t[::1] limbs, const uint32_t[::1] primes):
    """a mod p for each p in primes (each p < 2**31), a given by its little-endian 64-bit limbs."""
    cdef Py_ssize_t n = primes.shape[0], nl = limbs.shape[0], i
    cdef cnp.ndarray[uint32_t, ndim=1] out = np.empty(n, dtype=np.uint32)
    cdef uint32_t* o = <uint32_t*>out.data
    if nl == 0 or n == 0:
        out[:] = 0
        return out
    cdef const u64* L = &limbs[0]
    with nogil:
        for i in range(n):
            o[i] = <uint32_t>_mod_limbs(L, nl, primes[i])
    return out


def window_survivors(const uint64_t[::1] limbs, u64 span, const uint32_t[::1] primes):
    """Offsets o in [0, span) such that a + o is odd and has no prime factor in ``primes``.

    ``a`` (given by ``limbs``) must exceed every prime in ``primes``.  Returns uint64 offsets in
    increasing order.
    """
    cdef Py_ssize_t np_ = primes.shape[0], nl = limbs.shape[0], k
    if nl == 0:
        raise ValueError("a must be positive")
    cdef u64 parity = limbs[0] & 1
    cdef u64 shift = 1 - parity                     # a0 = a + shift is odd
    if span <= shift:
        return np.empty(0, dtype=np.uint64)
    cdef u64 nodd = (span - shift + 1) // 2          # odd numbers a0, a0 + 2, ... below a + span
    # first hit index of every prime in odd-index space: a0 + 2i == 0 (mod p)
    cdef cnp.ndarray[uint64_t, ndim=1] nxt = np.empty(np_, dtype=np.uint64)
    cdef u64* nx = <u64*>nxt.data
    cdef u64 p, r, inv2
    cdef const u64* L = &limbs[0]
    with nogil:
        for k in range(np_):
            p = primes[k]
            r = (_mod_limbs(L, nl, p) + shift) % p    # a0 mod p
            inv2 = (p + 1) >> 1
            nx[k] = ((p - r) % p) * inv2 % p
    out_chunks = []
    cdef cnp.ndarray[uint8_t, ndim=1] segbuf = np.empty(SEGMENT, dtype=np.uint8)
    cdef uint8_t* seg = <uint8_t*>segbuf.data
    cdef cnp.ndarray[uint64_t, ndim=1] found = np.empty(SEGMENT, dtype=np.uint64)
    cdef u64* fo = <u64*>found.data
    cdef u64 lo = 0, hi, j, len_, nf
    while lo < nodd:
        hi = lo + SEGMENT if nodd - lo > SEGMENT else nodd
        len_ = hi - lo
        with nogil:
            memset(seg, 0, len_)
            for k in range(np_):
                p = primes[k]
                j = nx[k]
                while j < hi:
                    seg[j - lo] = 1
                    j += p
                nx[k] = j
            nf = 0
            for j in range(len_):
                if not seg[j]:
                    fo[nf] = shift + 2 * (lo + j)
                    nf += 1
        out_chunks.append(found[:nf].copy())
        PyErr_CheckSignals()
        lo = hi
    if not out_chunks:
        return np.empty(0, dtype=np.uint64)
    return np.concatenate(out_chunks)


def rough_rows(const uint64_t[:, ::1] limbs, uint32_t bound):
    """uint8 array: 1 where row i (a number of 64-bit little-endian limbs, larger than every odd
    prime below ``bound``) has no odd prime factor below ``bound`` (<= ROUGH_BOUND)."""
    if bound > ROUGH_BOUND:
        raise ValueError(f"bound must be <= {ROUGH_BOUND}, got {bound}")
    cdef Py_ssize_t count = limbs.shape[0], nl = limbs.shape[1], i
    cdef cnp.ndarray[uint8_t, ndim=1] out = np.zeros(count, dtype=np.uint8)
    if count == 0 or nl == 0:
        return out
    cdef int np_ = 0
    while np_ < nd_rg_nprimes and nd_rg_p[np_] < bound:
        np_ += 1
    cdef const u64* w = &limbs[0, 0]
    cdef uint8_t* o = <uint8_t*>out.data
    cdef Py_ssize_t start, stop
    for start in range(0, count, 1 << 14):             # Ctrl-C between chunks
        stop = min(count, start + (1 << 14))
        with nogil:
            for i in range(start, stop):
                o[i] = <uint8_t>nd_rg_rough(w + i * nl, <int>nl, np_)
        PyErr_CheckSignals()
    return out
