# cython: language_level=3
"""Segmented sieve of Eratosthenes for 64-bit windows (private; public API: ``nextdigit.counting``).

Every entry point works on an *inclusive* window ``[lo, hi]`` with ``0 <= lo <= hi <= 2**64 - 1``
(the public half-open ``[a, b)`` becomes ``lo = a, hi = b - 1``, so ``b = 2**64`` never has to be
represented as a 64-bit number).  The algorithm is built in layers; each layer only removes work
from the next one.

Layer 0 -- the mod-30 wheel and the bit layout
----------------------------------------------
Only numbers coprime to 30 can be primes above 5, and there are exactly 8 of them in every block
of 30: residues ``1, 7, 11, 13, 17, 19, 23, 29``.  One byte therefore covers 30 consecutive
integers: byte ``k`` holds the numbers ``30k + r`` with bit ``i`` standing for the i-th residue.
A window of ``n`` integers costs ``n / 30`` bytes, and 2, 3, 5 are added back by hand.

For a sieving prime ``p = 30q + r`` (``r`` one of the 8 residues) the multiples that matter are
``p*m`` with ``m`` coprime to 30.  Writing ``m = 30k + m_w`` (``m_w`` the w-th residue, with the
8th step wrapping to 31) the multiple lies in byte ``p*k + q*m_w + (r*m_w) // 30`` at the bit of
residue ``(r*m_w) mod 30``.  So one "wheel cycle" of ``p`` bytes contains exactly 8 crossings, at
offsets ``q*(m_w - 1) + (r*m_w) // 30`` from the first one, with bit masks that only depend on
``(r, w)``.  A prime's whole state is therefore one byte offset and one wheel index ``w``.

Layer 1 -- segments
-------------------
The window is cut into segments of ``SEG`` bytes (``SEG * 30`` integers; the default 256 KiB fits
the 2 MiB L2 with room to spare).  Memory is one segment plus per-prime state (12 bytes per
sieving prime below MED_MAX, 8 bytes per big prime in the buckets), i.e.
O(SEG + pi(sqrt(hi))), independent of the window length.  Each segment goes through the layers below and is then *consumed*: counted with
popcount, turned into a list of primes, or split into histogram buckets.

Layer 2 -- pre-sieve
--------------------
The multiples of 7, 11, 13, 17, 19 repeat with period ``7*11*13*17*19 = 323323`` bytes, and those
of 23, 29, 31, 37 with period ``765049`` bytes.  Both patterns are built once at import; a segment
starts as a copy of the first pattern (at the right phase) ANDed with the second.  This removes
the densest crossings (almost a third of all of them for [0, 1e10]) for the price of two
streaming passes over the segment.
The bits of the primes 7..37 themselves, which the patterns also clear, are restored in the
first two bytes of the number line.

Layer 3 -- small primes (41 <= p < SMALL_MAX = 2**13)
-----------------------------------------------------
A small prime crosses off many bits in every segment, so its loop is unrolled over a whole wheel
cycle: 8 ``AND``s at precomputed offsets, then advance ``p`` bytes.  The ragged start and end of
the cycle are walked one step at a time with the wheel index.  To keep these read-modify-write
accesses in the 48 KiB L1, the segment is processed in chunks of ``CHUNK`` = 32 KiB and every
small prime is run over one chunk before the next chunk is touched.  (Measured: SMALL_MAX = 2**13
beats 2**11, 2**12, 2**15 and 2**16 -- above it the per-chunk visit costs more than the L2
accesses it saves.)

Layer 4 -- medium primes (SMALL_MAX <= p < MED_MAX = SEG = 2**18)
-------------------------------------------------------------------
They hit a segment a few times per residue; they use the same loop as layer 3 but over the whole
segment at once (one visit per segment instead of one per chunk).

Layer 5 -- big primes (p >= MED_MAX): the bucket sieve
------------------------------------------------------
A big prime hits a segment at most a few times, and most segments not at all, so iterating over
all big primes for every segment would cost O(pi(sqrt(hi))) per segment.  Instead (the idea of
Tomas Oliveira e Silva's cache-friendly sieve, as used by primesieve) each big prime lives in
exactly one *bucket*: the list of the segment that contains its next multiple.  There is a ring of
``NR`` such lists, ``NR`` a power of two larger than the longest jump of the largest prime, so a
prime's next segment is always within the ring.  Processing a segment empties its list: each item
crosses off its multiples in the segment, advances along the wheel, and is appended to the list
of the segment of its next multiple.  Lists are chains of fixed-size blocks recycled through a
free list, so the memory is ~8 bytes per big prime, and the work is proportional to the number of
crossings, not to the number of primes times segments.

Sieving primes are added lazily: prime ``p`` enters its layer when the sieve reaches the segment
containing ``p*p`` (nothing below ``p*p`` needs it), which also keeps every first jump inside the
ring.

Layer 6 -- short windows (``confirm``)
--------------------------------------
For a short window high up (say ``[1e18, 1e18 + 1e6]``) the sieving primes up to ``sqrt(hi)`` --
fifty million of them -- cost far more than the window itself.  Short-window mode sieves only by
the primes up to a bound ``B`` (2**16..2**20) and then confirms every survivor above ``B**2``
with the deterministic BPSW test ``is_prime_u64``.  About ``e**-gamma / ln B`` of the window
survives (4% for ``B = 2**20``), most of them primes, so the cost is ``~span/ln(hi)`` BPSW tests.
The mode is chosen by ``nextdigit.counting`` from a measured cost model (see ``_choose_mode``
there): the full sieve's fixed cost is ~6 ns per sieving prime, the window mode's ~15 ns per
integer, so the window mode wins while ``span < ~0.8 * sqrt(hi) / ln(hi)`` (measured crossovers
3e4 at hi = 1e12, 2e7 at 1e18, 5e8 at 2**64).  The public layer confirms survivors with the
batch BPSW kernel of ``nextdigit._primality`` (lockstep lanes, twice as fast); ``confirm=True``
here does it inside the sieve with ``is_prime_u64``, one number at a time.

Layer 7 -- threads and interrupts
---------------------------------
A call splits its window into contiguous pieces, one independent sieve per piece (own segment,
own buckets; the sieving primes are shared read-only), run with ``prange`` under ``nogil``.  The
calling thread (OpenMP thread 0) checks ``PyErr_CheckSignals`` (briefly taking the GIL) after
each segment once ~0.1 s has passed since the last check; a pending exception (``KeyboardInterrupt``
on Ctrl-C) stops every piece at its next segment and is re-raised by the entry point.
"""

from libc.stdint cimport uint64_t, uint32_t, uint8_t
from libc.string cimport memcpy
from libc.stdlib cimport free

import numpy as np

from nextdigit._u64 cimport u64, is_prime_u64

cdef extern from "Python.h":
    void* PyErr_Occurred()
    # Declared without an exception clause: a pending exception (KeyboardInterrupt) must stay
    # set in the thread state until the entry point re-raises it after the nogil region.
    int check_signals "PyErr_CheckSignals"() noexcept

cdef extern from "nd_sieve.h" nogil:
    ctypedef struct nd_par:
        uint64_t S, chunk, small_max, med_max, limit
        int lgS
    ctypedef struct nd_piece:
        uint64_t lo, hi, count
        void* out
        size_t out_n, front
        uint64_t hb0, hb1, hc0, hc1
        int err
    ctypedef struct nd_job:
        int consume
        nd_par par
        nd_piece* pieces
        int npieces, threads, has_big, nprod, rr
        uint64_t NR
        int confirm
        uint64_t confirm_above
        int (*is_prime)(uint64_t) noexcept nogil
        uint64_t h_a, h_w
        uint64_t* h_out
        int abort
        int (*poll)() noexcept nogil
        int err
    int nd_sv_init() noexcept
    int nd_sv_set_simd(int level) noexcept
    int ND_SIMD_LEVEL, ND_POP_LEVEL
    uint64_t ND_L1D, ND_L2
    int NDP_N
    int nd_job_init(nd_job* J, int consume, uint64_t lo, uint64_t hi, uint64_t limit, int threads, int npieces,
                    uint64_t seg, uint64_t chunk, uint64_t smax, uint64_t mmax, int rr) noexcept
    void nd_job_run(nd_job* J) noexcept
    int nd_job_concat(nd_job* J, size_t front) noexcept
    void nd_job_free(nd_job* J) noexcept
    void nd_prof_get(uint64_t* out) noexcept
    void nd_prof_reset() noexcept

if nd_sv_init() != 0:
    raise MemoryError("nextdigit._sieve: could not build its tables")

CONSUME_COUNT, CONSUME_LIST64, CONSUME_LIST32, CONSUME_HIST = 0, 1, 2, 3


cdef int _poll() noexcept nogil:
    with gil:
        return check_signals()


cdef int _is_prime(uint64_t n) noexcept nogil:
    return is_prime_u64(n)


def cache_sizes():
    """(L1d bytes, L2 bytes) as detected at import (sysconf, /sys, or the defaults 32 KiB / 256 KiB)."""
    return int(ND_L1D), int(ND_L2)


def simd_level():
    """(pre-sieve level, popcount level) in use: pre-sieve 0 portable C, 1 SSE2, 2 AVX2, 3 AVX-512BW;
    popcount 0 portable C, 1 POPCNT, 2 AVX-512 VPOPCNTDQ."""
    return int(ND_SIMD_LEVEL), int(ND_POP_LEVEL)


def set_simd(int level):
    """Use the vector kernels up to ``level`` (0 portable .. 3 AVX-512; 99 = best available);
    returns the pre-sieve level now in use.  For tests: every level gives the same bytes."""
    return nd_sv_set_simd(level)


def profile(reset=False):
    """Per-layer thread CPU time in ns summed over all threads, when the extension was built
    with -DND_SV_PROFILE; zeros otherwise.  Keys ``p.<layer>`` are the layers inside the
    big-prime producers (``produce`` includes them)."""
    cdef uint64_t buf[32]
    nd_prof_get(buf)
    names = ("presieve", "small", "medium", "big", "consume", "add", "produce", "splice")
    out = {names[i]: int(buf[i]) for i in range(len(names))}
    out.update({"p." + names[i]: int(buf[8 + i]) for i in range(6)})
    if reset:
        nd_prof_reset()
    return out


def default_params(uint64_t lo, uint64_t hi, limit=None, int threads=1):
    """The parameters the kernel would choose: dict of seg_bytes, chunk_bytes, small_max,
    med_max, limit, pieces, has_big, ring."""
    cdef nd_job J
    cdef uint64_t lim = _isqrt_u64(hi) if limit is None else limit
    if lo > hi:
        raise ValueError("lo must be <= hi")
    if nd_job_init(&J, 0, lo, hi, lim, threads, 0, 0, 0, 0, 0, -1) != 0:
        nd_job_free(&J)
        free(J.pieces)
        raise MemoryError()
    out = dict(seg_bytes=int(J.par.S), chunk_bytes=int(J.par.chunk), small_max=int(J.par.small_max),
               med_max=int(J.par.med_max), limit=int(J.par.limit), pieces=int(J.npieces),
               has_big=bool(J.has_big), ring=int(J.NR), round_robin=bool(J.rr))
    nd_job_free(&J)
    free(J.pieces)
    return out


cdef uint64_t _isqrt_u64(uint64_t n):
    import math
    return math.isqrt(n)


def run(int consume, uint64_t lo, uint64_t hi, *, limit=None, int threads=1, int pieces=0, int rr=-1,
        uint64_t seg_bytes=0, uint64_t chunk_bytes=0, uint64_t small_max=0, uint64_t med_max=0,
        bint confirm=False, uint64_t confirm_above=0,
        uint64_t h_a=0, uint64_t h_w=1, uint64_t[::1] h_out=None):
    """Sieve the inclusive window ``[lo, hi]`` by the primes ``<= limit`` (default ``isqrt(hi)``,
    an exact sieve; a smaller limit leaves the numbers without a prime factor <= max(limit, 163)).

    ``consume``: 0 count (returns int), 1 list as uint64 (returns array), 2 list as uint32
    (``hi < 2**32``), 3 histogram (adds into ``h_out``: bucket i = ``[h_a + i*h_w, h_a + (i+1)*h_w)``,
    which must cover ``[lo, hi]``).  ``threads``: OpenMP threads; ``pieces``: how many contiguous
    pieces (0 = the kernel's choice); ``rr``: round-robin mode (one sieve of the window, segments
    dealt out to the threads, big primes split between them) -1 = the kernel's choice, 0 off, 1 on.  ``seg_bytes`` (a power of two in [64, 2**23]),
    ``chunk_bytes``, ``small_max``, ``med_max``: tier parameters, 0 = from the detected caches.
    ``confirm``: test every survivor above ``confirm_above`` with BPSW (short-window mode).
    The primes 2, 3 and 5 are accounted for here, not in the kernel.
    """
    cdef nd_job J
    cdef uint64_t lim
    cdef Py_ssize_t k
    cdef uint64_t total = 0
    cdef size_t nout = 0, pos = 0, item
    cdef int err
    if lo > hi:
        raise ValueError("lo must be <= hi")
    if consume < 0 or consume > 3:
        raise ValueError("consume must be 0..3")
    if seg_bytes and (seg_bytes & (seg_bytes - 1) or seg_bytes < 64 or seg_bytes > (1 << 23)):
        raise ValueError("seg_bytes must be a power of two in [64, 2**23]")
    if consume == CONSUME_LIST32 and hi >= (1 << 32):
        raise ValueError("a uint32 list needs hi < 2**32")
    if consume == CONSUME_HIST:
        if h_out is None or h_w == 0:
            raise ValueError("histogram needs h_out and h_w >= 1")
        if lo < h_a or (hi - h_a) // h_w >= <uint64_t>h_out.shape[0]:
            raise ValueError("the histogram buckets must cover [lo, hi]")
    lim = _isqrt_u64(hi) if limit is None else limit
    if nd_job_init(&J, consume, lo, hi, lim, threads, pieces, seg_bytes, chunk_bytes, small_max, med_max, rr) != 0:
        nd_job_free(&J)
        free(J.pieces)
        raise MemoryError("the sieve ran out of memory")
    small = [p for p in (2, 3, 5) if lo <= p <= hi]
    if not J.rr:
        J.pieces[0].front = len(small)
    J.confirm = confirm
    J.confirm_above = confirm_above
    J.is_prime = _is_prime
    J.poll = _poll
    if consume == CONSUME_HIST:
        J.h_a = h_a
        J.h_w = h_w
        J.h_out = &h_out[0]
    try:
        with nogil:
            nd_job_run(&J)
        if J.abort and PyErr_Occurred():
            raise_pending()
        if J.err or J.abort:
            raise MemoryError("the sieve ran out of memory")
        if consume == CONSUME_COUNT:
            for k in range(J.npieces):
                total += J.pieces[k].count
            return int(total) + len(small)
        if consume == CONSUME_HIST:
            for k in range(J.npieces):
                h_out[J.pieces[k].hb0] += J.pieces[k].hc0
                if J.pieces[k].hb1 != <uint64_t>(-1):
                    h_out[J.pieces[k].hb1] += J.pieces[k].hc1
            for p in small:
                h_out[(p - h_a) // h_w] += 1
            return None
        # lists: the kernel leaves one buffer (2, 3, 5 go into its first items); numpy takes it over
        if nd_job_concat(&J, len(small)) != 0:
            raise MemoryError("the sieve ran out of memory")
        item = 8 if consume == CONSUME_LIST64 else 4
        nout = J.pieces[0].out_n
        buf = _CBuffer()
        buf.ptr = J.pieces[0].out
        J.pieces[0].out = NULL
        buf.n = nout
        buf.itemsize = item
        if consume == CONSUME_LIST64:
            for pos in range(len(small)):
                (<uint64_t*>buf.ptr)[pos] = small[pos]
            out = np.frombuffer(buf, dtype=np.uint64) if nout else np.empty(0, dtype=np.uint64)
        else:
            for pos in range(len(small)):
                (<uint32_t*>buf.ptr)[pos] = small[pos]
            out = np.frombuffer(buf, dtype=np.uint32) if nout else np.empty(0, dtype=np.uint32)
        return out
    finally:
        for k in range(J.npieces):
            free(J.pieces[k].out)
        nd_job_free(&J)
        free(J.pieces)


cdef int raise_pending() except -1:
    """Propagate the exception PyErr_CheckSignals left pending (KeyboardInterrupt)."""
    return -1


cdef class _CBuffer:
    """A malloc'd array of uint64 or uint32 handed to numpy without a copy (freed with it)."""
    cdef void* ptr
    cdef Py_ssize_t n
    cdef Py_ssize_t itemsize
    cdef Py_ssize_t shape[1]
    cdef Py_ssize_t strides[1]

    def __getbuffer__(self, Py_buffer* view, int flags):
        self.shape[0] = self.n
        self.strides[0] = self.itemsize
        view.buf = self.ptr
        view.obj = self
        view.len = self.n * self.itemsize
        view.readonly = 0
        view.itemsize = self.itemsize
        view.format = b"Q" if self.itemsize == 8 else b"I"
        view.ndim = 1
        view.shape = self.shape
        view.strides = self.strides
        view.suboffsets = NULL
        view.internal = NULL

    def __releasebuffer__(self, Py_buffer* view):
        pass

    def __dealloc__(self):
        free(self.ptr)
