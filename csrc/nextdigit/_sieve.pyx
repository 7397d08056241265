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
each segment, and every 65536 sieving primes while it places them (near 2**64 the first segment
places ~2e8 of them, about a second), once ~0.1 s has passed since the last check; a pending
exception (``KeyboardInterrupt``
on Ctrl-C) stops every piece at its next segment and is re-raised by the entry point.
"""
from cython.parallel cimport prange, threadid
from libc.stdint cimport uint64_t, uint32_t, uint8_t, int64_t
from libc.stdlib cimport malloc, calloc, realloc, free
from libc.string cimport memcpy, memset
from posix.time cimport clock_gettime, timespec, CLOCK_MONOTONIC

cdef extern from "Python.h":
    # Declared without an exception clause: a pending exception (KeyboardInterrupt) must stay
    # set in the thread state until the entry point re-raises it after the nogil region.
    int check_signals "PyErr_CheckSignals"() noexcept

import numpy as np

from nextdigit._u64 cimport u64, is_prime_u64, isqrt64, ctz64

# ---------------------------------------------------------------------------------------------
# Wheel tables (filled at import)
# ---------------------------------------------------------------------------------------------
cdef int RES[8]
cdef int RES9[9]            # the 8 residues and 31 (the wrap of the wheel)
cdef int GAP[8]             # RES9[w+1] - RES9[w]
cdef int BIT_OF[30]         # residue -> bit index, -1 when not coprime to 30
cdef int NEXT_W[30]         # smallest w with RES[w] >= x  (x in 0..29)
cdef uint32_t E[8][9]       # (RES[ri] * RES9[w]) // 30
cdef uint32_t DE[8][8]      # E[ri][w+1] - E[ri][w]
cdef uint8_t MASK[8][8]     # ~bit of residue (RES[ri] * RES9[w]) mod 30
cdef uint8_t LOMASK[30]     # bits of residues >= x
cdef uint8_t HIMASK[30]     # bits of residues <= x
cdef int RI_OF[30]          # residue class index of p mod 30
cdef u64 NUM_OF_BIT[64]     # bit b of a 64-bit word -> 30 * (b // 8) + RES[b % 8]

_res = [1, 7, 11, 13, 17, 19, 23, 29]
for _i in range(8):
    RES[_i] = _res[_i]
    RES9[_i] = _res[_i]
RES9[8] = 31
for _i in range(30):
    BIT_OF[_i] = _res.index(_i) if _i in _res else -1
    RI_OF[_i] = BIT_OF[_i]
    NEXT_W[_i] = next(w for w in range(8) if _res[w] >= _i)
    LOMASK[_i] = sum(1 << w for w in range(8) if _res[w] >= _i)
    HIMASK[_i] = sum(1 << w for w in range(8) if _res[w] <= _i)
for _i in range(8):
    GAP[_i] = RES9[_i + 1] - RES9[_i]
for _i in range(64):
    NUM_OF_BIT[_i] = 30 * (_i // 8) + _res[_i % 8]
for _i in range(8):
    for _w in range(9):
        E[_i][_w] = (_res[_i] * RES9[_w]) // 30
    for _w in range(8):
        DE[_i][_w] = E[_i][_w + 1] - E[_i][_w]
        MASK[_i][_w] = 0xFF ^ (1 << BIT_OF[(_res[_i] * RES9[_w]) % 30])

# Pre-sieve patterns (layer 2).
DEF P1 = 323323          # 7*11*13*17*19
DEF P2 = 765049          # 23*29*31*37
cdef uint8_t* PAT1 = NULL
cdef uint8_t* PAT2 = NULL


def _make_pattern(primes, period):
    """Bytes 0..period-1 of the wheel with the multiples of ``primes`` (their product is
    ``period``) crossed off.  Byte i, bit j stands for 30*i + RES[j], which is divisible by p
    exactly when i == -RES[j] / 30 (mod p): one strided slice per (prime, bit)."""
    keep = np.ones((period, 8), dtype=bool)
    for p in primes:
        inv30 = pow(30, -1, p)
        for j, r in enumerate(_res):
            keep[(-r * inv30) % p :: p, j] = False
    return np.packbits(keep, axis=1, bitorder="little").ravel()


_PAT1 = _make_pattern((7, 11, 13, 17, 19), P1)
_PAT2 = _make_pattern((23, 29, 31, 37), P2)
cdef uint8_t[::1] _pat1_view = _PAT1
cdef uint8_t[::1] _pat2_view = _PAT2
PAT1 = &_pat1_view[0]
PAT2 = &_pat2_view[0]

DEF FIRST_SIEVING_PRIME = 41

# ---------------------------------------------------------------------------------------------
# Data structures
# ---------------------------------------------------------------------------------------------
cdef struct WPrime:               # a small or medium sieving prime
    uint32_t q                    # p // 30
    uint32_t off                  # byte offset of its next multiple, relative to the segment
    uint8_t ri                    # index of p mod 30 among the 8 residues
    uint8_t w                     # wheel index of that next multiple

cdef struct BItem:                # a big sieving prime in a bucket
    uint32_t qri                  # (p // 30) << 3 | ri
    uint32_t offw                 # offset in its segment << 3 | w

DEF BUCKET_ITEMS = 1022

cdef struct Bucket:
    Bucket* next
    uint32_t n
    uint32_t pad
    BItem items[BUCKET_ITEMS]

cdef enum:
    CONSUME_COUNT = 0
    CONSUME_LIST64 = 1
    CONSUME_LIST32 = 2
    CONSUME_HIST = 3

cdef struct Run:
    # input
    u64 lo, hi                    # inclusive window of this piece
    const uint32_t* primes        # ascending primes (all primes up to the sieve limit)
    size_t nprimes
    u64 seg_bytes                 # power of two
    u64 chunk_bytes
    u64 small_max, med_max
    int confirm                   # short-window mode: BPSW on survivors above limit**2
    u64 confirm_above             # numbers <= this need no confirmation
    int consume
    u64 h_a, h_w                  # histogram: bucket i = [h_a + i*h_w, h_a + (i+1)*h_w)
    u64* h_out
    int tid
    int* abort
    # output
    u64 count
    void* out
    size_t out_n, out_cap
    int err                       # 1: out of memory


# ---------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------
cdef inline u64 popcount64(u64 x) noexcept nogil:
    x = x - ((x >> 1) & 0x5555555555555555ULL)
    x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL)
    x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0FULL
    return (x * 0x0101010101010101ULL) >> 56


cdef inline u64 load64(const uint8_t* p) noexcept nogil:
    cdef u64 v
    memcpy(&v, p, 8)
    return v


cdef u64 count_bytes(const uint8_t* s, u64 n) noexcept nogil:
    """Set bits in s[0:n]."""
    cdef u64 i = 0, c = 0
    cdef u64 c0 = 0, c1 = 0
    while i + 16 <= n:
        c0 += popcount64(load64(s + i))
        c1 += popcount64(load64(s + i + 8))
        i += 16
    c = c0 + c1
    while i + 8 <= n:
        c += popcount64(load64(s + i))
        i += 8
    while i < n:
        c += popcount64(s[i])
        i += 1
    return c


cdef inline double now() noexcept nogil:
    cdef timespec ts
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return ts.tv_sec + 1e-9 * ts.tv_nsec


cdef void presieve(uint8_t* seg, u64 segb, u64 n) noexcept nogil:
    """seg[0:n] = pattern of 7..37 for the bytes segb .. segb+n-1."""
    cdef u64 o = segb % P1
    cdef u64 done = 0, k, i
    while done < n:
        k = P1 - o
        if k > n - done:
            k = n - done
        memcpy(seg + done, PAT1 + o, k)
        done += k
        o = 0
    o = segb % P2
    done = 0
    cdef uint8_t* d
    cdef const uint8_t* s
    while done < n:
        k = P2 - o
        if k > n - done:
            k = n - done
        d = seg + done
        s = PAT2 + o
        for i in range(k):
            d[i] &= s[i]
        done += k
        o = 0


cdef inline void cross_off(uint8_t* seg, u64 end, WPrime* wp) noexcept nogil:
    """Cross off the multiples of one small/medium prime at byte offsets < end."""
    cdef u64 q = wp.q
    cdef int ri = wp.ri
    cdef int w = wp.w
    cdef u64 o = wp.off
    cdef const uint8_t* mk = MASK[ri]
    cdef const uint32_t* de = DE[ri]
    cdef const uint32_t* e = E[ri]
    cdef u64 p, d1, d2, d3, d4, d5, d6, d7, lim
    cdef uint8_t m0, m1, m2, m3, m4, m5, m6, m7
    cdef uint8_t* s
    # ragged start: walk to the beginning of a wheel cycle
    while w != 0:
        if o >= end:
            wp.off = <uint32_t>o
            wp.w = w
            return
        seg[o] &= mk[w]
        o += q * GAP[w] + de[w]
        w = (w + 1) & 7
    d7 = q * 28 + e[7]
    if end > d7:
        p = 30 * q + RES[ri]
        d1 = q * 6 + e[1]
        d2 = q * 10 + e[2]
        d3 = q * 12 + e[3]
        d4 = q * 16 + e[4]
        d5 = q * 18 + e[5]
        d6 = q * 22 + e[6]
        m0 = mk[0]; m1 = mk[1]; m2 = mk[2]; m3 = mk[3]
        m4 = mk[4]; m5 = mk[5]; m6 = mk[6]; m7 = mk[7]
        lim = end - d7
        s = seg + o
        while o < lim:
            s[0] &= m0
            s[d1] &= m1
            s[d2] &= m2
            s[d3] &= m3
            s[d4] &= m4
            s[d5] &= m5
            s[d6] &= m6
            s[d7] &= m7
            s += p
            o += p
    # ragged end
    while o < end:
        seg[o] &= mk[w]
        o += q * GAP[w] + de[w]
        w = (w + 1) & 7
    wp.off = <uint32_t>o
    wp.w = w


cdef inline u64 first_multiple(u64 p, u64 start, int* w_out) noexcept nogil:
    """Absolute byte index of the smallest multiple p*m >= max(p*p, start), m coprime to 30."""
    cdef u64 m, k, q = p // 30
    cdef int ri = RI_OF[p % 30], w
    if start < p * p:
        start = p * p
    m = start // p + (start % p != 0)
    k = m // 30
    w = NEXT_W[m % 30]
    w_out[0] = w
    return p * k + q * RES[w] + E[ri][w]


cdef inline int bucket_push(Bucket** slot, Bucket** free_list, uint32_t qri, uint32_t offw) noexcept nogil:
    cdef Bucket* b = slot[0]
    if b == NULL or b.n == BUCKET_ITEMS:
        if free_list[0] != NULL:
            b = free_list[0]
            free_list[0] = b.next
        else:
            b = <Bucket*>malloc(sizeof(Bucket))
            if b == NULL:
                return -1
        b.n = 0
        b.next = slot[0]
        slot[0] = b
    b.items[b.n].qri = qri
    b.items[b.n].offw = offw
    b.n += 1
    return 0


cdef int out_reserve(Run* r, size_t extra) noexcept nogil:
    """Make room for ``extra`` more output values (geometric growth); -1 when out of memory."""
    cdef size_t cap = r.out_cap
    cdef void* nb
    if r.out_n + extra <= cap:
        return 0
    if cap < 4096:
        cap = 4096
    while cap < r.out_n + extra:
        cap *= 2
    nb = realloc(r.out, cap * (8 if r.consume == CONSUME_LIST64 else 4))
    if nb == NULL:
        return -1
    r.out = nb
    r.out_cap = cap
    return 0


cdef u64 count_range(const uint8_t* seg, u64 segb, u64 x, u64 y) noexcept nogil:
    """Number of set bits standing for integers in [x, y] (both inside the segment)."""
    cdef u64 bx = x // 30 - segb
    cdef u64 by = y // 30 - segb
    if bx == by:
        return popcount64(seg[bx] & LOMASK[x % 30] & HIMASK[y % 30])
    return (popcount64(seg[bx] & LOMASK[x % 30]) + popcount64(seg[by] & HIMASK[y % 30])
            + count_bytes(seg + bx + 1, by - bx - 1))


# ---------------------------------------------------------------------------------------------
# One piece: the whole pipeline over [r.lo, r.hi]
# ---------------------------------------------------------------------------------------------
cdef struct Work:
    uint8_t* seg
    WPrime* sm
    WPrime* md
    Bucket** ring
    Bucket* free_list
    u64 NR
    size_t cap_sm, cap_md, pi


cdef void sieve_run(Run* r) noexcept nogil:
    """Allocate the per-piece state, run the sieve, free everything."""
    cdef Work wk
    cdef size_t i, j
    cdef u64 maxp, maxstep
    cdef Bucket* bk
    cdef Bucket* bnext
    r.count = 0
    r.err = 0
    memset(&wk, 0, sizeof(Work))
    # split the sieving primes into layers
    i = 0
    while i < r.nprimes and r.primes[i] < FIRST_SIEVING_PRIME:
        i += 1
    wk.pi = i
    while i < r.nprimes and r.primes[i] < r.small_max:
        i += 1
    wk.cap_sm = i - wk.pi
    j = i
    while j < r.nprimes and r.primes[j] < r.med_max:
        j += 1
    wk.cap_md = j - i
    maxp = r.primes[r.nprimes - 1] if r.nprimes else 0
    maxstep = (maxp // 30) * 6 + 6
    wk.NR = 1
    while wk.NR < maxstep // r.seg_bytes + 3:
        wk.NR <<= 1
    wk.seg = <uint8_t*>malloc(r.seg_bytes + 64)
    wk.sm = <WPrime*>malloc((wk.cap_sm + 1) * sizeof(WPrime))
    wk.md = <WPrime*>malloc((wk.cap_md + 1) * sizeof(WPrime))
    wk.ring = <Bucket**>calloc(wk.NR, sizeof(Bucket*))
    if wk.seg == NULL or wk.sm == NULL or wk.md == NULL or wk.ring == NULL:
        r.err = 1
    elif sieve_loop(r, &wk) != 0:
        r.err = 1
    free(wk.seg)
    free(wk.sm)
    free(wk.md)
    if wk.ring != NULL:
        for i in range(wk.NR):
            bk = wk.ring[i]
            while bk != NULL:
                bnext = bk.next
                free(bk)
                bk = bnext
        free(wk.ring)
    while wk.free_list != NULL:
        bnext = wk.free_list.next
        free(wk.free_list)
        wk.free_list = bnext


cdef int sieve_loop(Run* r, Work* wk) noexcept nogil:
    """The segment loop (layers 1-7) over [r.lo, r.hi]; -1 when out of memory."""
    cdef u64 S = r.seg_bytes
    cdef int lgS = ctz64(S)
    cdef u64 NR = wk.NR
    cdef u64 b_lo = r.lo // 30, b_hi = r.hi // 30
    cdef uint8_t* seg = wk.seg
    cdef WPrime* sm = wk.sm
    cdef WPrime* md = wk.md
    cdef Bucket** ring = wk.ring
    cdef Bucket* bk
    cdef Bucket* bnext
    cdef size_t n_sm = 0, n_md = 0, pi = wk.pi, i
    cdef u64 segb, L, last_byte, p, ab, off, q, chunk, cend, x0, x1
    cdef u64 bi, word, n, bucket_lo, bucket_hi, y0, y1
    cdef uint32_t qri, offw
    cdef int w, ri, bit
    cdef u64 seg_idx = 0
    cdef double t_last = now(), t
    cdef BItem* it
    cdef BItem* it_end
    cdef u64* o64
    cdef uint32_t* o32
    cdef u64 base

    segb = b_lo
    while True:
        L = b_hi - segb + 1
        if L > S:
            L = S
        last_byte = segb + L - 1
        presieve(seg, segb, L)
        if segb == 0:
            seg[0] = 0xFE                 # 1 is not prime; 7..29 are
        if segb <= 1 and last_byte >= 1:
            seg[1 - segb] |= 0x03         # 31 and 37 (cleared by the pattern as multiples)

        # layers 3-5: add the sieving primes whose square lies in this segment or below
        while pi < r.nprimes:
            p = r.primes[pi]
            if (p * p) // 30 > last_byte:
                break
            pi += 1
            if (pi & 0xFFFF) == 0:        # near 2**64 the first segment places ~2e8 primes (~1 s):
                if r.abort[0]:            # poll for Ctrl-C here too (layer 7)
                    return 0
                if r.tid == 0:
                    t = now()
                    if t - t_last > 0.1:
                        t_last = t
                        with gil:
                            if check_signals() != 0:
                                r.abort[0] = 1
                        if r.abort[0]:
                            return 0
            ab = first_multiple(p, 30 * segb, &w)
            if ab > b_hi:
                continue                  # never hits the window
            off = ab - segb
            if p < r.small_max:
                sm[n_sm].q = <uint32_t>(p // 30)
                sm[n_sm].off = <uint32_t>off
                sm[n_sm].ri = <uint8_t>RI_OF[p % 30]
                sm[n_sm].w = <uint8_t>w
                n_sm += 1
            elif p < r.med_max:
                md[n_md].q = <uint32_t>(p // 30)
                md[n_md].off = <uint32_t>off
                md[n_md].ri = <uint8_t>RI_OF[p % 30]
                md[n_md].w = <uint8_t>w
                n_md += 1
            else:
                if bucket_push(&ring[(seg_idx + (off >> lgS)) & (NR - 1)], &wk.free_list,
                               <uint32_t>(((p // 30) << 3) | <u64>RI_OF[p % 30]),
                               <uint32_t>(((off & (S - 1)) << 3) | <u64>w)) != 0:
                    return -1

        # layer 3: small primes, chunk by chunk
        chunk = 0
        while chunk < L:
            cend = chunk + r.chunk_bytes
            if cend > L:
                cend = L
            for i in range(n_sm):
                cross_off(seg, cend, &sm[i])
            chunk = cend
        # layer 4: medium primes over the whole segment
        for i in range(n_md):
            cross_off(seg, L, &md[i])
        # layer 5: the bucket of this segment
        bk = ring[seg_idx & (NR - 1)]
        ring[seg_idx & (NR - 1)] = NULL
        while bk != NULL:
            it = &bk.items[0]
            it_end = it + bk.n
            while it < it_end:
                qri = it.qri
                offw = it.offw
                q = qri >> 3
                ri = qri & 7
                off = offw >> 3
                w = offw & 7
                while True:
                    seg[off] &= MASK[ri][w]
                    off += q * GAP[w] + DE[ri][w]
                    w = (w + 1) & 7
                    if off >= S:
                        break
                if bucket_push(&ring[(seg_idx + (off >> lgS)) & (NR - 1)], &wk.free_list, qri,
                               <uint32_t>(((off & (S - 1)) << 3) | <u64>w)) != 0:
                    while bk != NULL:          # give the detached chain back for freeing
                        bnext = bk.next
                        bk.next = wk.free_list
                        wk.free_list = bk
                        bk = bnext
                    return -1
                it += 1
            bnext = bk.next
            bk.next = wk.free_list
            wk.free_list = bk
            bk = bnext
        if L == S:
            for i in range(n_sm):
                sm[i].off -= <uint32_t>S
            for i in range(n_md):
                md[i].off -= <uint32_t>S

        # window edges
        if segb == b_lo:
            seg[0] &= LOMASK[r.lo % 30]
        if last_byte == b_hi:
            seg[L - 1] &= HIMASK[r.hi % 30]
        memset(seg + L, 0, 8)

        # layer 6: confirm survivors (short-window mode)
        if r.confirm:
            i = 0
            while i < L:
                word = load64(seg + i)
                while word:
                    bit = ctz64(word)
                    word &= word - 1
                    n = 30 * (segb + i) + NUM_OF_BIT[bit]
                    if n > r.confirm_above and not is_prime_u64(n):
                        seg[i + (bit >> 3)] &= ~(1 << (bit & 7))
                i += 8

        # consume
        if r.consume == CONSUME_COUNT:
            r.count += count_bytes(seg, L)
        elif r.consume == CONSUME_HIST:
            x0 = r.lo if segb == b_lo else 30 * segb
            x1 = r.hi if last_byte == b_hi else 30 * (last_byte + 1) - 1
            bi = (x0 - r.h_a) // r.h_w
            while True:
                bucket_lo = r.h_a + bi * r.h_w
                bucket_hi = bucket_lo + (r.h_w - 1)
                y0 = bucket_lo if bucket_lo > x0 else x0
                y1 = bucket_hi if bucket_hi < x1 else x1
                r.h_out[bi] += count_range(seg, segb, y0, y1)
                if bucket_hi >= x1:
                    break
                bi += 1
        else:
            if out_reserve(r, count_bytes(seg, L)) != 0:
                return -1
            if r.consume == CONSUME_LIST64:
                o64 = <u64*>r.out + r.out_n
                i = 0
                while i < L:
                    word = load64(seg + i)
                    base = 30 * (segb + i)
                    while word:
                        bit = ctz64(word)
                        word &= word - 1
                        o64[0] = base + NUM_OF_BIT[bit]
                        o64 += 1
                    i += 8
                r.out_n = o64 - <u64*>r.out
            else:
                o32 = <uint32_t*>r.out + r.out_n
                i = 0
                while i < L:
                    word = load64(seg + i)
                    base = 30 * (segb + i)
                    while word:
                        bit = ctz64(word)
                        word &= word - 1
                        o32[0] = <uint32_t>(base + NUM_OF_BIT[bit])
                        o32 += 1
                    i += 8
                r.out_n = o32 - <uint32_t*>r.out

        if last_byte == b_hi:
            break
        segb += S
        seg_idx += 1
        # layer 7: interrupts
        if r.abort[0]:
            break
        if r.tid == 0:
            t = now()
            if t - t_last > 0.1:
                t_last = t
                with gil:
                    if check_signals() != 0:
                        r.abort[0] = 1
                if r.abort[0]:
                    break

    return 0


# ---------------------------------------------------------------------------------------------
# Entry points (private; nextdigit.counting validates and dispatches)
# ---------------------------------------------------------------------------------------------
DEFAULT_SEG_BYTES = 1 << 18        # 256 KiB: 7.9 million integers per segment
DEFAULT_CHUNK_BYTES = 1 << 15      # 32 KiB of the 48 KiB L1d
DEFAULT_SMALL_MAX = 1 << 13        # primes below this are sieved chunk by chunk
DEFAULT_MED_MAX = 1 << 18          # primes below this (and >= SMALL_MAX) segment by segment
cdef size_t COPY_BLOCK = 1 << 24   # bytes of list output copied between two signal checks


cdef class _Pieces:
    """Holds the C Run structures for one call (freed with the object)."""
    cdef Run* runs
    cdef Py_ssize_t n

    def __cinit__(self, Py_ssize_t n):
        self.runs = <Run*>calloc(n if n > 0 else 1, sizeof(Run))
        self.n = n
        if self.runs == NULL:
            raise MemoryError()

    def __dealloc__(self):
        cdef Py_ssize_t i
        if self.runs != NULL:
            for i in range(self.n):
                free(self.runs[i].out)
            free(self.runs)


cdef int _raise_if(int flag) except -1:
    """Propagate a pending Python exception (set by PyErr_CheckSignals in a worker)."""
    if flag:
        return -1
    return 0


def run(int consume, const uint64_t[::1] piece_lo, const uint64_t[::1] piece_hi,
        const uint32_t[::1] primes, *, bint confirm=False, uint64_t confirm_above=0,
        int threads=1, uint64_t seg_bytes=DEFAULT_SEG_BYTES, uint64_t chunk_bytes=DEFAULT_CHUNK_BYTES,
        uint64_t small_max=DEFAULT_SMALL_MAX, uint64_t med_max=DEFAULT_MED_MAX,
        uint64_t h_a=0, uint64_t h_w=1, uint64_t[::1] h_out=None):
    """Sieve the pieces ``[piece_lo[i], piece_hi[i]]`` (inclusive, ascending, disjoint).

    ``consume``: 0 count (returns int), 1 list as uint64 (returns array), 2 list as uint32,
    3 histogram (adds into ``h_out``; every piece must be a union of whole buckets).
    ``primes``: all primes up to the sieve limit (``isqrt(max hi)`` for an exact sieve, a smaller
    bound ``B`` with ``confirm=True`` and ``confirm_above = B*B``).
    The primes 2, 3 and 5 are accounted for here, not in the kernel.
    """
    cdef Py_ssize_t npieces = piece_lo.shape[0], k
    cdef int abort = 0, err = 0
    cdef u64 total = 0
    cdef size_t nout = 0, pos = 0
    if piece_hi.shape[0] != npieces:
        raise ValueError("piece_lo and piece_hi differ in length")
    if seg_bytes & (seg_bytes - 1) or seg_bytes < 64 or seg_bytes > (1 << 26):
        raise ValueError("seg_bytes must be a power of two in [64, 2**26]")
    if med_max > seg_bytes:
        med_max = seg_bytes
    if small_max > med_max:
        small_max = med_max
    if chunk_bytes < 64:
        chunk_bytes = 64
    if consume == CONSUME_HIST and (h_out is None or h_w == 0):
        raise ValueError("histogram needs h_out and h_w >= 1")
    cdef _Pieces pc = _Pieces(npieces)
    cdef Run* rr = pc.runs
    cdef const uint32_t* pp = &primes[0] if primes.shape[0] else NULL
    for k in range(npieces):
        if piece_lo[k] > piece_hi[k]:
            raise ValueError("empty piece")
        rr[k].lo = piece_lo[k]
        rr[k].hi = piece_hi[k]
        rr[k].primes = pp
        rr[k].nprimes = primes.shape[0]
        rr[k].seg_bytes = seg_bytes
        rr[k].chunk_bytes = chunk_bytes
        rr[k].small_max = small_max
        rr[k].med_max = med_max
        rr[k].confirm = confirm
        rr[k].confirm_above = confirm_above
        rr[k].consume = consume
        rr[k].h_a = h_a
        rr[k].h_w = h_w
        rr[k].h_out = &h_out[0] if consume == CONSUME_HIST else NULL
        rr[k].abort = &abort
    with nogil:
        if threads <= 1 or npieces <= 1:
            for k in range(npieces):
                rr[k].tid = 0
                sieve_run(&rr[k])
        else:
            for k in prange(npieces, num_threads=threads, schedule="dynamic", chunksize=1):
                rr[k].tid = threadid()
                sieve_run(&rr[k])
    for k in range(npieces):
        err |= rr[k].err
        total += rr[k].count
        nout += rr[k].out_n
    _raise_if(abort)
    if err:
        raise MemoryError("the sieve ran out of memory")

    small = [p for p in (2, 3, 5) if npieces and piece_lo[0] <= p <= piece_hi[npieces - 1]]
    if consume == CONSUME_COUNT:
        return int(total) + len(small)
    if consume == CONSUME_HIST:
        for p in small:
            h_out[(p - h_a) // h_w] += 1
        return None
    dtype = np.uint64 if consume == CONSUME_LIST64 else np.uint32
    out = np.empty(nout + len(small), dtype=dtype)
    for p in small:
        out[pos] = p
        pos += 1
    cdef char* dst = <char*>cnp_data(out)
    cdef size_t item = 8 if consume == CONSUME_LIST64 else 4
    cdef size_t done, step
    for k in range(npieces):
        # copied in blocks of COPY_BLOCK bytes with a signal check after each: filling a fresh
        # 800 MB array (the primes below 2**32) is page faults for seconds on some machines
        done = 0
        while done < rr[k].out_n:
            step = rr[k].out_n - done
            if step * item > COPY_BLOCK:
                step = COPY_BLOCK // item
            memcpy(dst + (pos + done) * item, <char*>rr[k].out + done * item, step * item)
            done += step
            _raise_if(check_signals() != 0)
        pos += rr[k].out_n
    return out


cdef void* cnp_data(object arr) except NULL:
    cdef uint8_t[::1] v = arr.view(np.uint8)
    if v.shape[0] == 0:
        return <void*>&_pat1_view[0]       # any valid pointer: nothing is copied
    return <void*>&v[0]
