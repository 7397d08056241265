# cython: language_level=3
"""The two halves of BPSW for big numbers, several at a time, on one of three routes.

Routes (the arithmetic is in the headers; each explains its own layout):

* ``"ifma"``: ``nd_mont52.h``, eight numbers per AVX-512 IFMA instruction (radix 2**52);
* ``"avx2"``: ``nd_mont28.h``, eight numbers in two AVX2 vectors (radix 2**28);
* ``"portable"``: ``nd_mont64.h``, plain C (radix 2**64, unsigned __int128 products), on every
  CPU and compiler; the numbers of a batch are processed one after the other.

The vector routes are compiled with function-level target attributes (the rest of the extension
is baseline x86-64 or whatever the compiler targets) and ``available(route)`` checks the CPU at
run time.  This module only moves numbers in and out:

* ``sprp2(route, limbs)``: limbs is a (count, nl) uint64 array, one odd number >= 3 per row
  (64-bit little-endian limbs); returns a uint8 array, 1 = base-2 strong probable prime.
* ``sprp2_offsets(route, limbs_a, offsets)``: the same for the numbers a + o, o in ``offsets``
  (the survivors of a sieved window), without building Python ints.
* ``lucas(route, limbs, pprime)``: the strong Lucas-Selfridge test; row i of ``pprime`` is
  P' * R mod n (P' = 1/Q - 2 for Selfridge's Q, R = 2**(limb_bits(route) * rlimbs(route, bits)),
  bits the size of the largest number of its batch of ``LANES``), prepared by
  ``nextdigit._bpsw``; every row must have the same ``rlimbs``.

A 0 is a proof of compositeness (for ``lucas``: given a correct P'); a 1 from both is BPSW.

Why three routes: IFMA exists on AVX-512 server cores and on Zen 4/5 only; most machines have
AVX2 (Intel client cores since Haswell, AMD since Zen) or neither (ARM).  Without them the big
rows of the README fell back to GMP's speed.  Measured per number on Zen 5 (CPU time, eight
lanes busy, interleaved with ``gmpy2.powmod(2, n - 1, n)``, base-2 test): IFMA 11x GMP at
130-1024 bits, 5-7x at 1040-4096 bits (the generic loop above 20 limbs); AVX2 4.1x at 130 bits,
1.5-2.6x at 256-3072 bits; portable 2.0x at 130 bits, 1.6-2.1x at 256-1024 bits and 0.8-0.9x
above, where ``nextdigit._bpsw`` sends its numbers to GMP.

``BigSearch`` is the samplers' candidate search above 2**64 (``nd_bigsearch.h``): drawing from
the numpy bit generator, trial division (``nd_rough.h``) and batching for the lanes in C, the
same primes and generator state as the Python loop it replaced.

Each function takes ``threads`` (default 1): the batches of a chunk of ``CHUNK`` numbers are
spread over that many OpenMP threads (``prange``, GIL released); the verdicts do not depend on
it.  Between chunks the GIL is taken back to check for Ctrl-C.  ``batches(route)`` counts the
batches each route has run in this process (tests use it to check which route ran).
"""
from cpython.exc cimport PyErr_CheckSignals
from cpython.mem cimport PyMem_Free, PyMem_Malloc
from cpython.pycapsule cimport PyCapsule_GetPointer
from cython.parallel cimport prange
from libc.stdint cimport uint8_t, uint32_t, uint64_t
from libc.string cimport memcpy, memset
from numpy.random cimport bitgen_t

from nextdigit._u64 cimport is_prime_u64

import numpy as np

cimport numpy as cnp

cnp.import_array()

ctypedef void (*batch_fn)(const uint64_t* w, const uint64_t* pp, int stride, int nl, int count,
                          int lucas, uint8_t* out) noexcept nogil

cdef extern from "nd_mont52.h" nogil:
    int ND_M52_MAXBITS
    int nd_m52_available()
    void nd_m52_test_batch(const uint64_t* w, const uint64_t* pp, int stride, int nl, int count,
                           int lucas, uint8_t* out)

cdef extern from "nd_mont28.h" nogil:
    int ND_M28_MAXBITS
    int nd_m28_available()
    void nd_m28_test_batch(const uint64_t* w, const uint64_t* pp, int stride, int nl, int count,
                           int lucas, uint8_t* out)

cdef extern from "nd_mont64.h" nogil:
    int ND_M64_MAXBITS
    int ND_M64_LANES
    void nd_m64_test_batch(const uint64_t* w, const uint64_t* pp, int stride, int nl, int count,
                           int lucas, uint8_t* out)

cdef extern from *:
    int _clz "__builtin_clzll"(unsigned long long x) nogil     # x != 0

cdef extern from "nd_bigsearch.h" nogil:
    int ND_BS_MAXL
    int ND_BS_BUF
    ctypedef struct nd_bs:
        int nl
        uint64_t lo[68]
        uint64_t hi[68]
        uint64_t base[68]
        uint64_t slots[68]
        int w
        uint64_t topmask
        int np
        uint64_t* chunk
        int pos
        long chunks
        long pb
        int pbn
        uint64_t buf[8 * 68]
        long buf_pb[8]
        uint8_t passed[8]
        int nbuf
        int next
        long tested
        long found_pb
    void nd_rg_setup()
    int nd_rg_count_below(uint32_t bound)
    void nd_bs_draw(nd_bs* s, bitgen_t* bg)
    int nd_bs_scan(nd_bs* s)
    void nd_bs_test(nd_bs* s, batch_fn fn, batch_fn few, int min_fill)
    void nd_bs_finish(nd_bs* s, bitgen_t* bg)
    int nd_bs_is_u64(const uint64_t* e, int nl)

nd_rg_setup()

LANES = 8                                   # numbers per batch, every route
ROUTES = ("ifma", "avx2", "portable")

cdef batch_fn _fn[3]
_fn[0] = nd_m52_test_batch
_fn[1] = nd_m28_test_batch
_fn[2] = nd_m64_test_batch
cdef int _maxbits[3]
_maxbits[0] = ND_M52_MAXBITS
_maxbits[1] = ND_M28_MAXBITS
_maxbits[2] = ND_M64_MAXBITS
cdef bint _ok[3]
_ok[0] = nd_m52_available() != 0
_ok[1] = nd_m28_available() != 0
_ok[2] = True
_LIMB_BITS = (52, 28, 64)
_SLACK = (2, 2, 0)                          # R > 4n (almost reduced values) or R > n (lazy)
cdef unsigned long long _calls[3]
_calls[0] = 0
_calls[1] = 0
_calls[2] = 0

cdef enum:
    CHUNK = 512            # numbers per GIL release / signal check (64 batches)


cdef int _route(route) except -1:
    try:
        return ROUTES.index(route)
    except ValueError:
        raise ValueError(f"route must be one of {ROUTES}, got {route!r}") from None


cdef int _threads(threads) except -1:
    if not isinstance(threads, int) or isinstance(threads, bool) or threads < 1:
        raise ValueError(f"threads must be a positive int, got {threads!r}")
    return min(<int>threads, 64)


cdef void _batches(batch_fn fn, const uint64_t* w, const uint64_t* pp, Py_ssize_t nl, Py_ssize_t m,
                   int lucas, uint8_t* o, int nt) noexcept nogil:
    """Rows 0..m-1 of w (and pp: any rows of the same shape when lucas = 0, unread) in batches
    of eight; no OpenMP region at all for one thread (the samplers call this per batch of
    candidates, where a region's set-up would show)."""
    cdef Py_ssize_t j
    if nt == 1 or m <= 8:
        for j in range(0, m, 8):
            fn(w + j * nl, pp + j * nl, <int>nl, <int>nl, <int>min(8, m - j), lucas, o + j)
    else:
        for j in prange(0, m, 8, num_threads=nt, schedule="dynamic"):
            fn(w + j * nl, pp + j * nl, <int>nl, <int>nl, <int>min(8, m - j), lucas, o + j)


def available(route):
    """True when ``route`` runs on this machine (``"portable"`` always does)."""
    return bool(_ok[_route(route)])


def max_bits(route):
    """The largest modulus size (bits) of ``route``."""
    return _maxbits[_route(route)]


def limb_bits(route):
    """The radix exponent of ``route``'s limbs: R = 2**(limb_bits * rlimbs)."""
    return _LIMB_BITS[_route(route)]


def rlimbs(route, bits):
    """The number k of limbs ``route`` uses for a batch whose largest modulus has ``bits`` bits
    (R = 2**(limb_bits(route) * k) > 4n for the vector routes, > n for the portable one)."""
    cdef int r = _route(route)
    return (bits + _SLACK[r] + _LIMB_BITS[r] - 1) // _LIMB_BITS[r]


def batches(route):
    """How many batches ``route`` has run in this process (a diagnostic for tests)."""
    return _calls[_route(route)]


cdef _check_limbs(int r, Py_ssize_t nl):
    if not _ok[r]:
        raise RuntimeError(f"the {ROUTES[r]} route is not available on this CPU")
    if nl < 1 or 64 * nl > _maxbits[r] + 63:
        raise ValueError(f"numbers must have 1..{(_maxbits[r] + 63) // 64} limbs, got {nl}")


cdef int _bits(const uint64_t* w, Py_ssize_t nl) noexcept nogil:
    while nl > 0 and w[nl - 1] == 0:
        nl -= 1
    return 0 if nl == 0 else <int>(64 * nl - _clz(w[nl - 1]))


cdef _check_rows(int r, const uint64_t* w, Py_ssize_t count, Py_ssize_t nl):
    cdef Py_ssize_t i
    for i in range(count):
        if not (w[i * nl] & 1) or (w[i * nl] < 3 and _rest_zero(w + i * nl + 1, nl - 1)):
            raise ValueError(f"limbs row {i} is not an odd number >= 3")
        if _bits(w + i * nl, nl) > _maxbits[r]:
            raise ValueError(f"limbs row {i} has more than {_maxbits[r]} bits")


cdef inline bint _rest_zero(const uint64_t* w, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(n):
        if w[i]:
            return False
    return True


cdef _run_rows(int r, const uint64_t* w, const uint64_t* pp, Py_ssize_t count, Py_ssize_t nl, int lucas,
               uint8_t* o, int nt):
    """All rows, CHUNK at a time without the GIL, checking for Ctrl-C between chunks."""
    cdef Py_ssize_t i, m
    cdef batch_fn fn = _fn[r]
    _calls[r] += (count + 7) // 8
    for i in range(0, count, CHUNK):
        m = min(CHUNK, count - i)
        with nogil:
            _batches(fn, w + i * nl, pp + i * nl, nl, m, lucas, o + i, nt)
        PyErr_CheckSignals()


def sprp2(route, const uint64_t[:, ::1] limbs, threads=1):
    """1 where the row (an odd number >= 3) is a base-2 strong probable prime, else 0."""
    cdef int r = _route(route)
    cdef Py_ssize_t count = limbs.shape[0], nl = limbs.shape[1]
    cdef int nt = _threads(threads)
    _check_limbs(r, nl)
    cdef cnp.ndarray[uint8_t, ndim=1] out = np.zeros(count, dtype=np.uint8)
    if count == 0:
        return out
    cdef const uint64_t* w = &limbs[0, 0]
    _check_rows(r, w, count, nl)
    _run_rows(r, w, w, count, nl, 0, <uint8_t*>out.data, nt)
    return out


def sprp2_offsets(route, const uint64_t[::1] limbs_a, const uint64_t[::1] offsets, threads=1):
    """``sprp2`` of the numbers a + o for o in ``offsets`` (a from its little-endian limbs;
    every a + o must be odd and >= 3)."""
    cdef int rt = _route(route)
    cdef Py_ssize_t nl0 = limbs_a.shape[0], count = offsets.shape[0], i, j, m, r
    cdef int nt = _threads(threads)
    if nl0 < 1:
        raise ValueError("limbs_a must not be empty")
    cdef Py_ssize_t nl = nl0 + 1                   # room for the carry of a + o
    _check_limbs(rt, nl0)
    # a + o < 2a for a >= 2**64, and < 2**65 below: one more bit than a at most
    if _bits(&limbs_a[0], nl0) + 1 > _maxbits[rt]:
        raise ValueError(f"a + offsets may exceed {_maxbits[rt]} bits")
    cdef cnp.ndarray[uint8_t, ndim=1] out = np.zeros(count, dtype=np.uint8)
    if count == 0:
        return out
    cdef cnp.ndarray[uint64_t, ndim=2] buf = np.zeros((CHUNK, nl), dtype=np.uint64)
    cdef uint64_t* b = <uint64_t*>buf.data
    cdef uint8_t* o = <uint8_t*>out.data
    cdef const uint64_t* a = &limbs_a[0]
    cdef uint64_t carry, s
    cdef batch_fn fn = _fn[rt]
    # every number must be odd
    for i in range(count):
        if not ((a[0] + offsets[i]) & 1):
            raise ValueError(f"a + offsets[{i}] is even")
    if nl0 == 1 and a[0] < 3:
        for i in range(count):
            if a[0] + offsets[i] < 3 and a[0] + offsets[i] >= a[0]:
                raise ValueError(f"a + offsets[{i}] is below 3")
    _calls[rt] += (count + 7) // 8
    for i in range(0, count, CHUNK):
        m = min(CHUNK, count - i)
        with nogil:
            for r in range(m):                     # row r = a + offsets[i + r]
                carry = offsets[i + r]
                for j in range(nl0):
                    s = a[j] + carry
                    carry = 1 if s < carry else 0
                    b[r * nl + j] = s
                b[r * nl + nl0] = carry
            _batches(fn, b, b, nl, m, 0, o + i, nt)
        PyErr_CheckSignals()
    return out


def lucas(route, const uint64_t[:, ::1] limbs, const uint64_t[:, ::1] pprime, threads=1):
    """1 where the row n passes the strong Lucas-Selfridge test, given P' R mod n in the same
    row of ``pprime`` (see the module docstring); 0 means composite."""
    cdef int r = _route(route)
    cdef Py_ssize_t count = limbs.shape[0], nl = limbs.shape[1], i
    cdef int nt = _threads(threads)
    _check_limbs(r, nl)
    if pprime.shape[0] != count or pprime.shape[1] != nl:
        raise ValueError("pprime must have the shape of limbs")
    cdef cnp.ndarray[uint8_t, ndim=1] out = np.zeros(count, dtype=np.uint8)
    if count == 0:
        return out
    cdef const uint64_t* w = &limbs[0, 0]
    _check_rows(r, w, count, nl)
    k0 = rlimbs(route, _bits(w, nl))
    for i in range(count):
        if rlimbs(route, _bits(w + i * nl, nl)) != k0:
            raise ValueError("every row of limbs must need the same number of route limbs")
    _run_rows(r, w, &pprime[0, 0], count, nl, 1, <uint8_t*>out.data, nt)
    return out


cdef _to_words(x, uint64_t* w, int n):
    """x >= 0 as n little-endian 64-bit words (x < 2**(64 n))."""
    cdef bytes b = x.to_bytes(8 * n, "little")
    memcpy(w, <const char*>b, 8 * n)


cdef class BigSearch:
    """The candidates of one search for a uniform prime in [lo, hi), hi > 2**64, drawn,
    trial-divided and base-2 tested in C (``nd_bigsearch.h`` explains the law and why the stream
    is the old Python loop's).  ``next()`` returns the next candidate in drawing order that may
    be prime: ``(n, True)`` for a proven prime below 2**64, ``(n, False)`` for a number above
    that passed the base-2 test (the caller runs the strong Lucas test); ``finish()`` after the
    answer draws on as the old loop did.  ``base = lo - lo % 30``, ``slots`` = the number of
    wheel slots from base to hi - 1, ``k`` = bit length of slots - 1 (the caller computes them);
    ``bound``: trial division by the odd primes below it (31 <= bound <= lo, <= 2**16);
    ``min_fill``: buffers of fewer numbers go to the portable route (a vector batch costs the
    same for one number as for eight)."""
    cdef nd_bs* s
    cdef int r, min_fill
    cdef object gen
    cdef bitgen_t* bg

    def __cinit__(self, route, lo, hi, base, slots, int k, generator, uint32_t bound, int min_fill=1):
        self.s = NULL
        self.r = _route(route)
        self.min_fill = min_fill
        if not _ok[self.r]:
            raise RuntimeError(f"the {route} route is not available on this CPU")
        top = (hi - 1).bit_length()
        if top > _maxbits[self.r] or lo <= 30 or hi <= lo or hi <= 2**64:
            raise ValueError("BigSearch needs 30 < lo < hi, 2**64 < hi, hi - 1 within the route's sizes")
        if not 31 <= bound <= min(lo, 1 << 16):
            raise ValueError(f"bound must be in [31, min(lo, 2**16)], got {bound}")
        cdef int nl = (top + 63) // 64, w = (k + 63) // 64
        if nl + 1 > ND_BS_MAXL or w > ND_BS_MAXL or slots < 2 or (slots - 1).bit_length() != k:
            raise ValueError("BigSearch: sizes out of range")
        self.s = <nd_bs*>PyMem_Malloc(sizeof(nd_bs))
        if self.s == NULL:
            raise MemoryError()
        memset(self.s, 0, sizeof(nd_bs))
        self.s.chunk = <uint64_t*>PyMem_Malloc(sizeof(uint64_t) * 64 * w)
        if self.s.chunk == NULL:
            raise MemoryError()
        self.s.nl = nl
        self.s.w = w
        self.s.topmask = ~(<uint64_t>0) if k % 64 == 0 else ((<uint64_t>1 << (k % 64)) - 1)
        self.s.np = nd_rg_count_below(bound)
        self.s.pos = 64
        self.s.found_pb = -1
        _to_words(lo, self.s.lo, nl + 1)
        _to_words(hi, self.s.hi, nl + 1)
        _to_words(base, self.s.base, nl + 1)
        _to_words(slots, self.s.slots, max(nl + 1, w))
        self.gen = generator
        self.bg = <bitgen_t*>PyCapsule_GetPointer(generator.bit_generator.capsule, "BitGenerator")

    def __dealloc__(self):
        if self.s != NULL:
            PyMem_Free(self.s.chunk)
            PyMem_Free(self.s)

    cdef _draw(self):
        with self.gen.bit_generator.lock, nogil:
            nd_bs_draw(self.s, self.bg)

    def next(self):
        cdef nd_bs* s = self.s
        cdef int j
        cdef const uint64_t* e
        while True:
            while s.next < s.nbuf:
                j = s.next
                s.next += 1
                e = s.buf + j * ND_BS_MAXL
                if s.nl == 1 or nd_bs_is_u64(e, s.nl):
                    if is_prime_u64(e[0]):
                        s.found_pb = s.buf_pb[j]
                        return int(e[0]), True
                elif s.passed[j]:
                    s.found_pb = s.buf_pb[j]
                    return int.from_bytes((<const char*>e)[:8 * s.nl], "little"), False
            s.nbuf = 0
            s.next = 0
            while True:                       # refill: never draw past an untested entry
                if s.pos == 64:
                    if s.nbuf > 0:
                        break
                    self._draw()
                    PyErr_CheckSignals()
                if nd_bs_scan(s):
                    break
            with nogil:
                nd_bs_test(s, _fn[self.r], _fn[2], self.min_fill)
            _calls[self.r] += 1

    def finish(self):
        """Draw on until the old loop's batch of the last answer is complete."""
        if self.s.found_pb < 0:
            raise RuntimeError("finish() before an answer")
        with self.gen.bit_generator.lock:
            nd_bs_finish(self.s, self.bg)

    @property
    def chunks(self):
        return self.s.chunks

    @property
    def tested(self):
        return self.s.tested
