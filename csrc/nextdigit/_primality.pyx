# cython: language_level=3
"""Primality kernels for 64-bit integers (private; the public API is ``nextdigit.is_prime``).

The test itself (trial division by the odd primes below 101, then Baillie-PSW, deterministic for
every n < 2**64) lives in ``_u64.pxd``; see its docstring for the proof sketch.  This module adds

* ``is_prime_u64_array``: the batch kernel over a ``uint64`` buffer.  The buffer is cut into
  blocks of ``BLOCK`` numbers; each block runs three passes:

  1. trial division of every number (multiply-and-compare divisibility tests, no division);
  2. the base-2 strong test on the survivors, ``LANES`` numbers at a time in lockstep, so that
     the ``LANES`` independent Montgomery squarings of one step overlap in the multiplier
     pipeline instead of waiting on each other's latency (lanes with a shorter exponent just
     square mont(1) = mont(1) until their leading bit comes up);
  3. the strong Lucas test on what is left (primes and base-2 pseudoprimes), two numbers at a
     time through the same lockstep idea.

  Blocks are distributed over ``threads`` OpenMP threads with ``prange`` (GIL released); a build
  without OpenMP runs the same loop serially.

* ``next_prime_u64`` / ``prev_prime_u64``: scans with the single-number test; 0 means "no such
  prime below 2**64" (the caller then continues with big integers).
"""
from cython.parallel cimport prange
from libc.stdint cimport uint64_t, uint8_t

from nextdigit._u64 cimport (
    u64, int64_t, mont_ninv, mont_mul, add_mod, sub_mod, select, ctz64, clz64, prefilter_u64,
    is_prime_u64, selfridge_q, lucas_pprime, lucas_finish,
)

cdef enum:
    BLOCK = 512
    LANES = 4


cdef inline void _sprp2_lanes(const u64* nn, uint8_t* res) noexcept nogil:
    """Strong base-2 test of LANES odd numbers (> 2) in lockstep; res[j] = 1 if n_j passes."""
    cdef u64 n[LANES]
    cdef u64 ninv[LANES]
    cdef u64 one[LANES]
    cdef u64 d[LANES]
    cdef u64 x[LANES]
    cdef int s[LANES]
    cdef int j, b, t, top = 0
    cdef u64 y, mone
    for j in range(LANES):
        n[j] = nn[j]
        ninv[j] = mont_ninv(n[j])
        one[j] = (<u64>0 - n[j]) % n[j]
        s[j] = ctz64(n[j] - 1)
        d[j] = (n[j] - 1) >> s[j]
        t = 63 - clz64(d[j])
        if t > top:
            top = t
        x[j] = one[j]
    # The lockstep loop, written out lane by lane so that the compiler keeps every lane in
    # registers; the doubling is a select (bit patterns differ between lanes).
    cdef u64 x0 = x[0], x1 = x[1], x2 = x[2], x3 = x[3]
    cdef u64 y0, y1, y2, y3
    for b in range(top, -1, -1):
        y0 = mont_mul(x0, x0, n[0], ninv[0])
        y1 = mont_mul(x1, x1, n[1], ninv[1])
        y2 = mont_mul(x2, x2, n[2], ninv[2])
        y3 = mont_mul(x3, x3, n[3], ninv[3])
        x0 = select((d[0] >> b) & 1, add_mod(y0, y0, n[0]), y0)
        x1 = select((d[1] >> b) & 1, add_mod(y1, y1, n[1]), y1)
        x2 = select((d[2] >> b) & 1, add_mod(y2, y2, n[2]), y2)
        x3 = select((d[3] >> b) & 1, add_mod(y3, y3, n[3]), y3)
    x[0] = x0
    x[1] = x1
    x[2] = x2
    x[3] = x3
    for j in range(LANES):
        mone = n[j] - one[j]
        res[j] = 0
        if x[j] == one[j] or x[j] == mone:
            res[j] = 1
            continue
        y = x[j]
        for b in range(1, s[j]):
            y = mont_mul(y, y, n[j], ninv[j])
            if y == mone:
                res[j] = 1
                break
            if y == one[j]:
                break


cdef inline void _lucas_lanes(const u64* nn, uint8_t* res) noexcept nogil:
    """Strong Lucas test (Selfridge) of LANES odd numbers in lockstep; res[j] = 1 if n_j passes.

    Same algorithm as ``lucas_selfridge`` in ``_u64.pxd`` (the W_k = V_2k / Q**k ladder over the
    bits of m, where n + 1 = (2m + 1) * 2**s); only the parameter search and the final checks are
    per lane.  A lane found composite during the parameter search runs the ladder on dummy values
    (m = 0) and reports 0.
    """
    cdef u64 n[LANES]
    cdef u64 ninv[LANES]
    cdef u64 two[LANES]
    cdef u64 pp[LANES]
    cdef u64 m[LANES]
    cdef u64 w0[LANES]
    cdef u64 w1[LANES]
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
    # The lockstep ladder (see lucas_selfridge), lane by lane so that gcc keeps it in registers.
    # Lanes with a shorter m start at (W_0, W_1) = (2, P'), which a 0 bit maps to itself.
    cdef u64 a0 = two[0], a1 = two[1], a2 = two[2], a3 = two[3]     # W_k
    cdef u64 c0 = pp[0], c1 = pp[1], c2 = pp[2], c3 = pp[3]         # W_k+1
    cdef u64 t0, t1, t2, t3, q0, q1, q2, q3, bit0, bit1, bit2, bit3
    for b in range(top, -1, -1):
        bit0 = (m[0] >> b) & 1
        bit1 = (m[1] >> b) & 1
        bit2 = (m[2] >> b) & 1
        bit3 = (m[3] >> b) & 1
        t0 = sub_mod(mont_mul(a0, c0, n[0], ninv[0]), pp[0], n[0])    # W_2k+1
        t1 = sub_mod(mont_mul(a1, c1, n[1], ninv[1]), pp[1], n[1])
        t2 = sub_mod(mont_mul(a2, c2, n[2], ninv[2]), pp[2], n[2])
        t3 = sub_mod(mont_mul(a3, c3, n[3], ninv[3]), pp[3], n[3])
        q0 = select(bit0, c0, a0)
        q1 = select(bit1, c1, a1)
        q2 = select(bit2, c2, a2)
        q3 = select(bit3, c3, a3)
        q0 = sub_mod(mont_mul(q0, q0, n[0], ninv[0]), two[0], n[0])   # W_2k or W_2k+2
        q1 = sub_mod(mont_mul(q1, q1, n[1], ninv[1]), two[1], n[1])
        q2 = sub_mod(mont_mul(q2, q2, n[2], ninv[2]), two[2], n[2])
        q3 = sub_mod(mont_mul(q3, q3, n[3], ninv[3]), two[3], n[3])
        a0 = select(bit0, t0, q0)
        a1 = select(bit1, t1, q1)
        a2 = select(bit2, t2, q2)
        a3 = select(bit3, t3, q3)
        c0 = select(bit0, q0, t0)
        c1 = select(bit1, q1, t1)
        c2 = select(bit2, q2, t2)
        c3 = select(bit3, q3, t3)
    w0[0] = a0
    w0[1] = a1
    w0[2] = a2
    w0[3] = a3
    w1[0] = c0
    w1[1] = c1
    w1[2] = c2
    w1[3] = c3
    for j in range(LANES):
        res[j] = ok[j] and lucas_finish(w0[j], w1[j], pp[j], two[j], s[j], n[j], ninv[j])


cdef void _block(const u64* a, uint8_t* out, Py_ssize_t m) noexcept nogil:
    """Primality of a[0..m) into out[0..m), m <= BLOCK."""
    cdef Py_ssize_t cand[BLOCK]
    cdef u64 lane_n[LANES]
    cdef uint8_t lane_r[LANES]
    cdef Py_ssize_t i, k, nc = 0, nl = 0
    cdef int r, j
    for i in range(m):
        r = prefilter_u64(a[i])
        out[i] = <uint8_t>(r == 1)
        if r == 2:
            cand[nc] = i
            nc += 1
    # pass 2: base-2 strong test, LANES at a time (the last group is padded with its first lane)
    k = 0
    while k < nc:
        for j in range(LANES):
            lane_n[j] = a[cand[k + j]] if k + j < nc else a[cand[k]]
        _sprp2_lanes(lane_n, lane_r)
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
    """out[i] = is ns[i] prime (deterministic, every value < 2**64).  GIL released."""
    cdef Py_ssize_t n = ns.shape[0]
    cdef Py_ssize_t nblocks = (n + BLOCK - 1) // BLOCK
    cdef Py_ssize_t b, lo, m
    if out.shape[0] != n:
        raise ValueError("out must have the same length as ns")
    if n == 0:
        return
    cdef const u64* src = &ns[0]
    cdef uint8_t* dst = &out[0]
    with nogil:
        if threads <= 1 or nblocks == 1:
            for b in range(nblocks):
                lo = b * BLOCK
                m = n - lo if n - lo < BLOCK else BLOCK
                _block(src + lo, dst + lo, m)
        else:
            for b in prange(nblocks, num_threads=threads, schedule="dynamic", chunksize=4):
                lo = b * BLOCK
                m = n - lo if n - lo < BLOCK else BLOCK
                _block(src + lo, dst + lo, m)


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
