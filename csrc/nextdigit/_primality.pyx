# cython: language_level=3
"""Primality kernels for 64-bit integers (private; the public API is ``nextdigit.is_prime``).

The test itself (trial division by the odd primes below 101, then Baillie-PSW, deterministic for
every n < 2**64) lives in ``_u64.pxd``; see its docstring for the proof sketch.  This module adds

* ``is_prime_u64_array``: the batch kernel over a ``uint64`` buffer.  The buffer is cut into
  blocks of ``BLOCK`` numbers; each block runs three passes:

  1. trial division (multiply-and-compare divisibility tests, no division) in two rounds: the
     primes below 16 on every number, the others below 101 on the 38% of odd numbers left;
  2. the base-2 strong test on the survivors, ``LANES`` numbers at a time in lockstep, so that
     the ``LANES`` independent Montgomery squarings of one step overlap in the multiplier
     pipeline instead of waiting on each other's latency (lanes with a shorter exponent just
     square mont(1) = mont(1) until their leading bit comes up);
  3. the strong Lucas test on what is left (primes and base-2 pseudoprimes), ``LANES``
     numbers at a time through the same lockstep idea (the W ladder of ``_u64.pxd``: two
     products per bit and lane; the parameter search and the final checks run per lane).

  Inside the lockstep loops the exponent bits select between the two cases with masks (no
  branch: the bits are random, and with several lanes in flight the loop is bound by
  instruction throughput, where a mispredicted branch costs the most).  The single-number test
  of ``_u64.pxd`` branches instead, which is faster for one latency-bound chain.

  Blocks are distributed over ``threads`` OpenMP threads with ``prange`` (GIL released); a build
  without OpenMP runs the same loop serially.

* ``next_prime_u64`` / ``prev_prime_u64``: scans with the single-number test; 0 means "no such
  prime below 2**64" (the caller then continues with big integers).
"""
from cpython.exc cimport PyErr_CheckSignals
from cython.parallel cimport prange
from libc.stdint cimport uint64_t, uint8_t

from nextdigit._u64 cimport (
    u64, int64_t, mont_ninv, mont_mul, add_mod, sub_mod, ctz64, clz64, prefilter_u64,
    is_prime_u64, selfridge_q, lucas_pprime, lucas_finish, lucas_swap_bits, lucas_step, cswap,
    sprp2_x4, has_factor_below_16, has_factor_16_to_100,
)

cdef enum:
    BLOCK = 512
    ROUND_BLOCKS = 2048                # blocks between two signal checks
    LANES = 4


cdef inline void _lucas_lanes(const u64* nn, uint8_t* res) noexcept nogil:
    """Strong Lucas test (Selfridge) of LANES odd numbers in lockstep; res[j] = 1 if n_j passes.

    Same algorithm as ``lucas_selfridge`` in ``_u64.pxd`` (the swapped Montgomery ladder for
    W_k = V_2k / Q**k over the bits of m, where n + 1 = (2m + 1) * 2**s); only the parameter
    search and the final checks are per lane.  A lane found composite during the parameter search
    runs the ladder on dummy values (m = 0) and reports 0.
    """
    cdef u64 n[LANES]
    cdef u64 ninv[LANES]
    cdef u64 two[LANES]
    cdef u64 pp[LANES]
    cdef u64 m[LANES]
    cdef u64 bits[LANES]
    cdef u64 u[LANES]
    cdef u64 v[LANES]
    cdef int s[LANES]
    cdef bint ok[LANES]
    cdef int j, b, top = 0
    cdef int64_t Q
    cdef u64 one
    for j in range(LANES):
        n[j] = nn[j]
        ninv[j] = mont_ninv(n[j])
        one = (<u64>0 - n[j]) % n[j]
        two[j] = add_mod(one, one, n[j])
        Q = selfridge_q(n[j]) if n[j] != ~(<u64>0) else 0   # 2**64 - 1: n + 1 overflows
        ok[j] = Q != 0
        if ok[j]:
            pp[j] = lucas_pprime(Q, one, n[j])
            s[j] = ctz64(n[j] + 1)
            m[j] = ((n[j] + 1) >> s[j]) >> 1
        else:
            pp[j] = 0
            s[j] = 1
            m[j] = 0
        if m[j] != 0 and 63 - clz64(m[j]) > top:
            top = 63 - clz64(m[j])
    # Lanes with a shorter m start with leading 0 bits, which map (W_0, W_1) = (2, P') to itself.
    for j in range(LANES):
        bits[j] = lucas_swap_bits(m[j]) << (63 - top)
        u[j] = two[j]
        v[j] = pp[j]
    # The lockstep ladder, lane by lane so that gcc keeps it in registers.
    cdef u64 u0 = u[0], u1 = u[1], u2 = u[2], u3 = u[3]
    cdef u64 v0 = v[0], v1 = v[1], v2 = v[2], v3 = v[3]
    cdef u64 e0 = bits[0], e1 = bits[1], e2 = bits[2], e3 = bits[3]
    for b in range(top + 1):
        lucas_step(&u0, &v0, <u64>0 - (e0 >> 63), pp[0], two[0], n[0], ninv[0])
        lucas_step(&u1, &v1, <u64>0 - (e1 >> 63), pp[1], two[1], n[1], ninv[1])
        lucas_step(&u2, &v2, <u64>0 - (e2 >> 63), pp[2], two[2], n[2], ninv[2])
        lucas_step(&u3, &v3, <u64>0 - (e3 >> 63), pp[3], two[3], n[3], ninv[3])
        e0 <<= 1
        e1 <<= 1
        e2 <<= 1
        e3 <<= 1
    u[0] = u0
    u[1] = u1
    u[2] = u2
    u[3] = u3
    v[0] = v0
    v[1] = v1
    v[2] = v2
    v[3] = v3
    for j in range(LANES):
        cswap(<u64>0 - (m[j] & 1), &u[j], &v[j])
        res[j] = ok[j] and lucas_finish(u[j], v[j], pp[j], two[j], s[j], n[j], ninv[j])


cdef void _block(const u64* a, uint8_t* out, Py_ssize_t m) noexcept nogil:
    """Primality of a[0..m) into out[0..m), m <= BLOCK."""
    cdef Py_ssize_t cand[BLOCK]
    cdef u64 lane_n[LANES]
    cdef uint8_t lane_r[LANES]
    cdef Py_ssize_t i, k, nc = 0, nl = 0
    cdef int j
    # pass 1: trial division (the same test as prefilter_u64) in two rounds: the primes below 16
    # on every number, then those from 17 to 97 on the 38% of odd numbers left.  Survivors are
    # appended without a branch (the index is always written, the count grows only for a
    # survivor): whether a random number survives is unpredictable.
    for i in range(m):
        if a[i] < 10201:                # small numbers: trial division decides alone
            out[i] = <uint8_t>(prefilter_u64(a[i]) == 1)
        else:
            out[i] = 0
            cand[nc] = i
            nc += <Py_ssize_t>((a[i] & 1) & (not has_factor_below_16(a[i])))
    k = 0
    for i in range(nc):
        cand[k] = cand[i]               # k <= i: compaction in place is safe
        k += <Py_ssize_t>(not has_factor_16_to_100(a[cand[i]]))
    nc = k
    # pass 2: base-2 strong test, LANES at a time (the last group is padded with its first lane)
    k = 0
    while k < nc:
        for j in range(LANES):
            lane_n[j] = a[cand[k + j]] if k + j < nc else a[cand[k]]
        sprp2_x4(lane_n, lane_r)
        for j in range(LANES):
            if k + j < nc and lane_r[j]:
                cand[nl] = cand[k + j]      # nl <= k + j: compaction in place is safe
                nl += 1
        k += LANES
    # pass 3: strong Lucas test on the base-2 survivors, LANES at a time (padded the same way)
    k = 0
    while k < nl:
        for j in range(LANES):
            lane_n[j] = a[cand[k + j]] if k + j < nl else a[cand[k]]
        _lucas_lanes(lane_n, lane_r)
        for j in range(LANES):
            if k + j < nl:
                out[cand[k + j]] = lane_r[j]
        k += LANES


def is_prime_u64_array(const uint64_t[::1] ns, uint8_t[::1] out, int threads=1):
    """out[i] = is ns[i] prime (deterministic, every value < 2**64).  GIL released.

    The work goes in rounds of ROUND_BLOCKS blocks (~2**20 numbers, ~50 ms on one core); between
    rounds the GIL is taken back briefly to check for signals, so Ctrl-C interrupts a long call
    within a fraction of a second.
    """
    cdef Py_ssize_t n = ns.shape[0]
    cdef Py_ssize_t nblocks = (n + BLOCK - 1) // BLOCK
    cdef Py_ssize_t b, lo, m, r0, r1
    if out.shape[0] != n:
        raise ValueError("out must have the same length as ns")
    if n == 0:
        return
    cdef const u64* src = &ns[0]
    cdef uint8_t* dst = &out[0]
    for r0 in range(0, nblocks, ROUND_BLOCKS):
        r1 = min(nblocks, r0 + ROUND_BLOCKS)
        with nogil:
            if threads <= 1 or r1 - r0 == 1:
                for b in range(r0, r1):
                    lo = b * BLOCK
                    m = n - lo if n - lo < BLOCK else BLOCK
                    _block(src + lo, dst + lo, m)
            else:
                for b in prange(r0, r1, num_threads=threads, schedule="dynamic", chunksize=4):
                    lo = b * BLOCK
                    m = n - lo if n - lo < BLOCK else BLOCK
                    _block(src + lo, dst + lo, m)
        PyErr_CheckSignals()


def is_prime_u64_scalar(uint64_t n):
    """Primality of one 64-bit integer."""
    return is_prime_u64(n)


cdef u64 _next_prime(u64 n) noexcept nogil:
    cdef u64 c
    if n < 2:
        return 2
    c = n + 1 + (n & 1)                # the next odd number above n (n >= 2)
    while c > n:                       # stops when c wraps past 2**64
        if is_prime_u64(c):
            return c
        c += 2
    return 0


cdef u64 _prev_prime(u64 n) noexcept nogil:
    cdef u64 c
    if n <= 2:
        return 0
    if n == 3:
        return 2
    c = n - 1 - (n & 1)                # the odd number below n (n >= 4)
    while c >= 3:
        if is_prime_u64(c):
            return c
        c -= 2
    return 2


def next_prime_u64(uint64_t n):
    """Smallest prime > n, or 0 when it is >= 2**64."""
    cdef u64 r
    with nogil:
        r = _next_prime(n)
    return r


def prev_prime_u64(uint64_t n):
    """Largest prime < n, or 0 when n <= 2."""
    cdef u64 r
    with nogil:
        r = _prev_prime(n)
    return r
