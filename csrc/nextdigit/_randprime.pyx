# cython: language_level=3
"""Uniform random primes below 2**64 and the randomized autoregressive sampler, in C.

Randomness comes from the caller's ``numpy.random.Generator``: we take its bit generator's C
interface (``bitgen_t`` from the capsule) under the generator's lock, so a seed gives the same
primes on every platform and the stream is shared with the rest of the caller's program.

Exactly uniform integers
------------------------
``uniform_below(n)`` returns a uniform integer in [0, n) by Lemire's multiply-and-reject method:
with x uniform in [0, 2**64), the high word of x*n is uniform in [0, n) once the low words below
(2**64 mod n) are rejected (D. Lemire, "Fast random integer generation in an interval", ACM TOMACS
2019).  No floats, no modulo bias.

Uniform primes by rejection
---------------------------
A uniform prime in [lo, hi] is a uniform candidate from any set S that contains every prime of
the interval, kept when it is prime (each prime is then equally likely).  We take S = the numbers
of the interval coprime to 30 (the odd numbers, or all integers, for tiny intervals), so 11 of
every 15 odd numbers are never drawn, and test each with the deterministic u64 BPSW kernel (trial division, then the base-2 strong
test four candidates at a time in lockstep, then the strong Lucas test; see ``prime_in``).  The caller must
make sure the interval holds a prime (below 2**64 every interval longer than 1550 does: that is
the largest prime gap there), otherwise the loop would not end.

The randomized autoregressive sampler
-------------------------------------
``ar_sample`` runs the essay's stateless randomized model for every digit: for the current
prefix, draw a uniform prime among its completions (the interval of n-digit numbers with that
prefix) and emit that prime's next digit; then forget the prime.  The probability of emitting
digit d is (#primes extending prefix+d)/(#primes extending prefix), so the product over the
digits telescopes to 1/(#n-digit primes): the induced distribution is exactly uniform.
"""
from cpython.pycapsule cimport PyCapsule_GetPointer
from libc.stdint cimport uint64_t, uint8_t
from numpy.random cimport bitgen_t

import numpy as np

cimport numpy as cnp

from nextdigit._u64 cimport u64, mul_full, is_prime_u64, prefilter_u64, sprp2_x4, lucas_selfridge

cnp.import_array()


cdef inline u64 uniform_below(bitgen_t* bg, u64 n) noexcept nogil:
    """Uniform integer in [0, n) for n >= 1 (Lemire's method, exact)."""
    cdef u64 hi
    cdef u64 lo = mul_full(bg.next_uint64(bg.state), n, &hi)
    cdef u64 t
    if lo < n:
        t = (<u64>0 - n) % n                    # 2**64 mod n
        while lo < t:
            lo = mul_full(bg.next_uint64(bg.state), n, &hi)
    return hi


cdef inline u64 uniform_in(bitgen_t* bg, u64 lo, u64 hi) noexcept nogil:
    """Uniform integer in [lo, hi] (inclusive; the full 64-bit range is allowed)."""
    if lo == 0 and hi == ~(<u64>0):
        return bg.next_uint64(bg.state)
    return lo + uniform_below(bg, hi - lo + 1)


cdef extern from *:
    """
    /* the 8 residues mod 30 coprime to 30 */
    static const unsigned char ND_WHEEL30[8] = {1, 7, 11, 13, 17, 19, 23, 29};
    """
    const unsigned char WHEEL30 "ND_WHEEL30"[8]


cdef inline u64 prime_in(bitgen_t* bg, u64 lo, u64 hi) noexcept nogil:
    """Uniform prime in [lo, hi]; the interval must contain a prime.

    For lo >= 10201 the candidates are uniform on the numbers of [lo, hi] coprime to 30 (every
    prime of the interval is one of them): an index into the mod-30 wheel from the aligned block
    below lo, rejected when it falls outside [lo, hi].  Trial-division survivors are collected in
    drawing order four at a time and get the base-2 strong test in lockstep (``sprp2_x4``); the
    first of the four (in drawing order) that passes base-2 and Lucas is returned.  Earlier
    survivors were all composite, so this is the first prime of an i.i.d. uniform sequence:
    uniform on the primes of the interval.  Batching changes the speed, not the law.
    """
    cdef u64 first, count, c, base, idx, nwheel
    cdef u64 lane[4]
    cdef uint8_t passed[4]
    cdef int j, m
    if lo < 10201:                              # tiny numbers: the plain loop
        if lo <= 2 and hi >= 2:
            while True:
                c = uniform_in(bg, lo, hi)
                if is_prime_u64(c):
                    return c
        first = lo | 1
        count = (hi - first) // 2 + 1
        while True:
            c = first + 2 * uniform_below(bg, count)
            if is_prime_u64(c):
                return c
    base = lo - lo % 30
    nwheel = ((hi - base) // 30 + 1) * 8        # wheel slots from base to the block of hi
    m = 0
    while True:
        idx = uniform_below(bg, nwheel)
        c = base + 30 * (idx >> 3) + WHEEL30[idx & 7]
        if c < lo or c > hi or prefilter_u64(c) != 2:
            continue
        lane[m] = c
        m += 1
        if m < 4:
            continue
        sprp2_x4(lane, passed)
        for j in range(4):
            if passed[j] and lucas_selfridge(lane[j]):
                return lane[j]
        m = 0


cdef bitgen_t* _bitgen(object generator) except NULL:
    capsule = generator.bit_generator.capsule
    return <bitgen_t*>PyCapsule_GetPointer(capsule, "BitGenerator")


def uniform_u64(uint64_t lo, uint64_t hi, object generator, Py_ssize_t size):
    """``size`` uniform integers in [lo, hi] (inclusive) as uint64 (used by tests of exactness)."""
    cdef bitgen_t* bg = _bitgen(generator)
    cdef cnp.ndarray[uint64_t, ndim=1] out = np.empty(size, dtype=np.uint64)
    cdef u64* o = <u64*>out.data
    cdef Py_ssize_t i
    with generator.bit_generator.lock, nogil:
        for i in range(size):
            o[i] = uniform_in(bg, lo, hi)
    return out


def random_primes_in(uint64_t lo, uint64_t hi, object generator, Py_ssize_t size):
    """``size`` independent uniform primes in [lo, hi] (inclusive).  Precondition: one exists."""
    cdef bitgen_t* bg = _bitgen(generator)
    cdef cnp.ndarray[uint64_t, ndim=1] out = np.empty(size, dtype=np.uint64)
    cdef u64* o = <u64*>out.data
    cdef Py_ssize_t i
    with generator.bit_generator.lock, nogil:
        for i in range(size):
            o[i] = prime_in(bg, lo, hi)
    return out


def ar_step(uint64_t lo, uint64_t hi, uint64_t width, object generator):
    """One step of the randomized model: the offset digit (p - lo) // width of a uniform prime p
    in [lo, hi].  Precondition: the interval contains a prime."""
    cdef bitgen_t* bg = _bitgen(generator)
    cdef u64 p
    with generator.bit_generator.lock, nogil:
        p = prime_in(bg, lo, hi)
    return (p - lo) // width


def ar_sample(uint64_t lo, uint64_t hi, uint64_t top_width, unsigned int base, object generator,
              Py_ssize_t size):
    """``size`` samples of the randomized autoregressive model over the primes in [lo, hi].

    [lo, hi] is the set of n-digit numbers (or a prefix's completions), ``top_width`` the place
    value of the first digit to emit (base**(n-1) for all n-digit numbers) and ``base`` the
    radix.  Every digit is emitted from a fresh uniform prime among the current prefix's
    completions, exactly as the stateless model does; the returned uint64 values are the
    numbers spelled by the emitted digits.
    """
    cdef bitgen_t* bg = _bitgen(generator)
    cdef cnp.ndarray[uint64_t, ndim=1] out = np.empty(size, dtype=np.uint64)
    cdef u64* o = <u64*>out.data
    cdef Py_ssize_t i
    cdef u64 plo, phi, w, p, block
    with generator.bit_generator.lock, nogil:
        for i in range(size):
            plo = lo
            phi = hi
            w = top_width
            while True:
                p = prime_in(bg, plo, phi)
                if w == 1:
                    o[i] = p
                    break
                # the prefix grows by p's digit at place w: completions of the new prefix
                block = (p // w) * w
                plo = block if block > lo else lo
                phi = block + (w - 1) if block + (w - 1) < hi else hi
                w //= base
    return out
