# cython: language_level=3
"""Segmented sieve of Eratosthenes for 64-bit windows (private; public API: ``nextdigit.counting``).

Every entry point works on an *inclusive* window ``[lo, hi]`` with ``0 <= lo <= hi <= 2**64 - 1``
(the public half-open ``[a, b)`` becomes ``lo = a, hi = b - 1``, so ``b = 2**64`` never has to be
represented as a 64-bit number).  The kernel is C (``nd_sieve.h``, included here); this module
checks the arguments, runs it without the GIL and hands the results to numpy.  The algorithm is
built in layers, each removing work from the next one.  The design follows primesieve's
``doc/ALGORITHMS.md`` and ``src/README.md`` (Kim Walisch; facts quoted from there are marked
[ps]); the code is our own.  Costs are thread CPU seconds of one thread from a build with
``-DND_SV_PROFILE`` (per-layer counters) for the three benchmark intervals [0, 1e10),
[1e15, 1e15 + 1e9) and [1e18, 1e18 + 1e9), measured on a 2-vCPU KVM guest of an Intel Xeon
(family 6 model 167, L1d 48 KiB, L2 2 MiB per core; 2 runs each, +-5%) unless a layer names
another machine -- see "Measured" at the end for the comparison with primesieve.

Layer 0 -- wheels and the bit layout
------------------------------------
Only numbers coprime to 30 can be primes above 5, and there are exactly 8 of them in every block
of 30: residues ``1, 7, 11, 13, 17, 19, 23, 29``.  One byte covers 30 consecutive integers:
byte ``k`` holds ``30k + r`` with bit ``i`` for the i-th residue ("8 flags per 30 numbers" [ps]).
2, 3 and 5 are added back by hand.

A sieving prime ``p = 30q + r`` crosses off ``p*m`` for ``m`` coprime to 30: with ``m = 30k + m_w``
(``m_w`` the w-th residue; the 8th step wraps to 31) the multiple lies in byte
``p*k + q*m_w + (r*m_w) // 30`` at the bit of residue ``(r*m_w) mod 30``.  One wheel cycle of
``p`` bytes holds exactly 8 crossings, at offsets ``q*(m_w - 1) + (r*m_w) // 30`` from the first,
with bit masks that depend only on ``(r, w)``: a prime's state is one byte offset and one wheel
index.  Big primes (layer 5) use the mod-210 wheel instead (``m`` also coprime to 7: 48 residues
per 210, so 6/7 of the mod-30 crossings [ps: "a modulo 210 wheel that skips multiples of 2, 3, 5
and 7"]); their state is a byte offset and one of 8 * 48 = 384 wheel states.

Layer 1 -- segments, sizes from the CPU
---------------------------------------
The window is cut into segments of ``S`` bytes (``30 S`` integers), each sieved by the layers
below and then *consumed* (counted, listed, or split into histogram buckets).  The L1d and L2
sizes are read at import (``sysconf``, else ``/sys/devices/system/cpu/cpu0/cache``, else 32 KiB
and 256 KiB; ``cache_sizes()``).  ``S`` (bytes) is the smallest power of two ``>= 2 * limit`` (2 sqrt(hi)),
clamped to ``[L1, L2 / 2]`` (primesieve: sieve size ``sqrt(stop) * FACTOR_SIEVESIZE`` between the
L1 and about the L2 size [ps config.hpp]): 256 KiB for [0, 1e10), 1 MiB at 1e15 and 1e18 on
this machine.  The tiers of sieving primes follow from the sizes: small ``p <= L1 / 2`` (24576
here), medium ``p <= 3 S``, big above (primesieve: FACTOR_ERATSMALL = 0.2 and FACTOR_ERATMEDIUM
= 3 [ps config.hpp]; here L1 / 5 was slower: see layer 3).
Memory is one segment per thread plus 8 bytes per sieving prime in flight (medium lists and
buckets), i.e. O(S + pi(sqrt(hi))), independent of the window length.  The lists live in 1 MiB
chunks taken from mmap and returned with munmap (through malloc, the ~1 GB of a count near 2**64
stayed resident in the OpenMP threads' arenas after it); more than 64 MiB of them are unmapped by
a detached thread, so that the result, or KeyboardInterrupt, does not wait for the release.

Layer 2 -- pre-sieve (primes 7..251)
------------------------------------
The multiples of the 51 primes 7..251 are not crossed off at all.  24 tables hold the bytes of
one period of the pattern of a group of these primes (7*11*13*17 = 17017 bytes, 19*23*29,
31*37, then pairs like 41*163 ... 97*101 and 167*251 ... 199*211: 580 KB in all, each with 4 KiB
of slack so that a block is read contiguously from any phase).  A segment starts as the AND of
the 24 tables at its phase: AVX-512BW (three-input ternary-logic ANDs as a tree, 64 bytes per
step), AVX2, SSE2 or plain C, chosen at run time (``simd_level()``; every level gives the same
bytes).  The bits of the primes 7..251 themselves are restored in the first 9 bytes of the
number line.  [ps: "Pre-sieving provides a speedup of up to 30% when sieving the primes <
10^10".]  Measured for [0, 1e10): the pre-sieve costs 0.083 s (it streams 24 table bytes from L2
per segment byte); the small tier then costs 0.525 s.  Pre-sieving only 7..163 (16 tables, as
until 2026-12): 0.055 s and 0.575 s, so the pairs above 163 save a net 0.02 s (2%) there and
~1% at 1e12 and 1e15.  Pre-sieving only 7..37 (the old kernel's depth, build with
``-DND_PS_UPTO37``, which ANDs all-ones tables in place of the others): small tier 0.70 s.

Layer 3 -- small primes (251 < p <= L1 / 2): unrolled cycles in L1 chunks
---------------------------------------------------------------------------
A small prime crosses off many bits in every segment, so crossing must take as few
instructions as possible.  The primes are kept in 8 arrays, one per residue class ``r``; for
each class a loop with the 8 bit masks as immediates crosses off one wheel cycle per iteration
(8 ``and``s at per-prime offsets, one add, one compare: 11 instructions per 8 crossings, the loop
[ps] shows for primesieve).  The segment is pre-sieved first and then processed in chunks of
2/3 of the L1: every small prime runs over one chunk before the next chunk is touched, and its
last cycle may run up to ``p`` bytes into the next (already pre-sieved) chunk, so only the end of
a segment needs the one-multiple-at-a-time walk with the wheel index.  Measured: 0.525 s for
[0, 1e10) (1.6e9 crossings, 0.33 ns each); with the whole 256 KiB segment as one chunk 1.54 s.
The bound ``L1 / 2`` is measured, not derived: for [0, 1e10) on one thread (whole count,
median of 3-7, 48 KiB L1d) a bound of 8 KiB gave 0.95-0.98 s, 12 KiB 0.92-0.94 s, 16 KiB
0.89 s, 20-28 KiB 0.85-0.87 s, 32 KiB (2/3 of L1) 0.92-0.93 s; the other intervals did not
change.  A prime whose cycle spans a good part of a
chunk enters and leaves its loop once per chunk for a few crossings (and mispredicts the
exit); above ~L1 / 2 the medium tier's once-per-segment entry costs less.

Layer 4 -- medium primes (L1 / 5 < p <= 3 S): lists by wheel state
------------------------------------------------------------------
A medium prime hits a segment a few to a few hundred times; what costs is entering and leaving
its crossing code.  The primes live in 64 lists, one per wheel state ``(r, w)`` of their next
multiple; each list is crossed by code specialised for its state (the masks and the entry point
of the unrolled cycle are constants), and each prime is appended to the list of the state it ends
in for the next segment.  [ps: sorting medium sieving primes by wheel index "gives a
speedup of about 20% for medium sieving primes that have a few multiples per segment".]
Lists are chains of 4 KiB blocks from a per-thread pool.  Measured: 0.217 s for [0, 1e10)
(primes 24576..1e5, 3.5e8 crossings, 0.62 ns each: a crossing misses L1), 0.13 s at 1e15 and at
1e18 (primes 24576..3.1e6).

Layer 5 -- big primes (p > 3 S): the bucket sieve
-------------------------------------------------
A big prime hits a segment at most a few times, and most segments not at all.  Each one lives in
exactly one *bucket* list: the list of the segment that holds its next multiple (Tomas Oliveira e
Silva's cache-friendly bucket sieve, as in primesieve's EratBig [ps]).  A ring of ``NR`` lists
(a power of two above the longest jump of the largest prime, ``10 (p / 30)`` bytes) covers the
future.  Processing a segment empties its list: each item crosses off *one* multiple, steps
along the mod-210 wheel and goes to the list of the segment of its next multiple -- this
segment's own list included, which is therefore emptied until it stays empty -- or is dropped
when that lies past the window.  One multiple per visit makes the item loop branch-free: the
smallest big primes have 0 to 5 multiples per segment, and a loop over them mispredicted its exit
(as primesieve's EratBig does [ps]; measured on an Intel Xeon of the Emerald Rapids class, L2 2
MiB: the whole count 11% faster at [1e15, 1e15 + 1e9) and 8% at [1e18, 1e18 + 1e9), median of 7
interleaved runs each, one thread).  An item is 8 bytes: ``q = p // 30`` and ``offset << 9 | wheel state``
(segments up to 2**23 bytes).  Blocks are 4 KiB, aligned, so a list's write pointer tells by its
address when its block is full; the first block of a list starts at an offset taken from the
list's address, because lists filled in step (the staging lists of layer 6) would otherwise write
to the same offset of their blocks -- a handful of cache sets -- and miss on almost every push.
Measured: 0.09 s at 1e15 (4.4e7 crossings, 2 ns each), 0.24-0.28 s at 1e18 (8.5e7 crossings): the
memory traffic (an 8-byte item read and written per crossing, buckets of ~15 MB at 1e15 and a few
hundred MB at 1e18) dominates.

Layer 6 -- generating and placing the sieving primes
----------------------------------------------------
Small and medium primes come from a table of the primes below 2**22 built at import.  Big primes
(up to 2**32) are generated by *producers*: ``[3 S, sqrt(hi)]`` is cut into chunks of about
2**24 numbers that the threads take in turn from an atomic counter (so a slow or descheduled
thread delays the others by one chunk, not by its share); a thread sieves its chunk (with these
same layers) and gives every piece of the window (layer 7) the first multiple of each
prime, directly into per-(producer, piece) staging lists that the piece then splices into its
ring: one division per prime and piece, from a double quotient with exact fix-ups (``lo / p <
2**44`` makes its error below 1), eight primes at a time with AVX-512 (run-time dispatch; the C
loop gives the same items).  Primes whose square lies inside a piece wait in a sorted list until
the sieve gets there.  Measured at 1e18 (50.8 million sieving primes): 0.58 s in all, more than
half of the whole job's 1.05 s (generating them 0.1 s, extracting and placing them 0.48 s; on the
earlier Zen 5 machine, with the C extraction and division loops, ``set_simd(2)``, 0.78 s and
1.59 s for the job instead of 1.12 s).

Layer 7 -- threads
------------------
Two ways to split a window between threads:

* *pieces*: contiguous parts, one independent sieve each (own segment, lists and ring; the
  tables and the producers' staging lists are shared), ``schedule(dynamic)``.  Nothing is
  shared while sieving, but every piece needs the first multiple of every big prime that hits
  it: when those are many (high up, short windows) that work is repeated per piece.
* *round robin* (``rr``): one sieve of the whole window; the segments are dealt out to the
  threads in turn (thread t sieves segments t, t + T, ...; its small primes skip the segments in
  between), and the medium and big primes are split between the threads (prime i belongs to
  thread i mod T): each thread crosses its own medium and big primes into its own segment, or
  into a mask of another thread's segment; after one barrier per round each thread ANDs the other
  threads' masks into its segment and consumes it (two mask sets by round parity make one barrier
  enough).  Nothing is done twice; the price is the barrier and two streaming passes per segment.
  (The medium primes used to skip the other threads' segments like the small ones: a division
  and a mispredicted walk per prime and skipped segment.  Sharing them out cut the threads' CPU
  time at [1e18, 1e18 + 1e9) with 2 threads from 1.91 s to 1.61 s -- medium tier 0.33 -> 0.24 s
  -- and raised the wall-clock speed-up of 2 threads over 1 there from 1.66-1.69x to 1.78-1.80x
  at the min of 5-7 runs (medians 1.60-1.76x), Emerald Rapids.)

The kernel takes round robin when splitting would repeat much work (more than one big prime per
24 bytes of window, i.e. 720 integers: [1e18, 1e18 + 1e9) and [1e15, 1e15 + 1e9) yes, [1e15, 1e15 +
1e10) and [1e14, 1e14 + 1e9) no) and pieces otherwise; lists with big primes take round robin
always (see layer 8).  The threshold was one big prime per 8 bytes until [1e15, 1e15 + 1e9) on 2
threads was measured (median of 9, interleaved, Xeon guest): count 0.161 s in pieces, 0.156 s in
round robin; histogram 0.164 / 0.157 s (2 threads over 1: 1.84x / 1.90x and 1.80x / 1.88x).
The producers run first, in parallel, then one barrier; thread 0 waits for the others there
(and for the last pieces at the end) in a loop that keeps polling for signals.  Measured with 2 threads: see "Measured" below.

Layer 8 -- consumers
--------------------
Counting is a popcount of the whole segment (AVX-512 VPOPCNTDQ, POPCNT, or C, run-time
dispatch).  Histograms count each bucket's byte range (the edge bytes masked); a bucket shared
by two pieces or two round-robin segments is added after the threads end or atomically.  Lists
scan the segment a 64-bit word at a time (``ctz``, clear the lowest bit, look up the number)
into one malloc'd buffer per piece, which numpy takes over without a copy (the first items hold
2, 3, 5); the pieces' buffers are then copied together.  Round robin writes no second copy: one
buffer for all threads, allocated at a proven bound on the count (Montgomery--Vaughan,
Rosser--Schoenfeld; only the pages written are ever touched) and shrunk to the count at the
end; each thread publishes its segment's count after the round's barrier and writes the primes
at the sum of the counts before (a thread waits only for the earlier segments of its own round,
a popcount each).  The vector extraction stores 8 or 16 items at a time past its last prime, so
the last words of a segment (>= 16 primes) go through the exact scalar loop and no thread
writes into another's items.  Measured: counting costs 0.005 s for [0, 1e10) (455 million primes,
popcount of 333 MB of segments); listing is dominated by writing the output (8 bytes per prime,
and the kernel's zeroing of the fresh pages: 0.08-0.15 s of system time for 200-230 MB on the
2-vCPU guest).  ``primes_between`` 2 threads over 1, median of 4: [1e15, 1e15 + 1e9) 0.418 / 0.219
s = 1.91x (pieces and a copy: 1.35x), [1e18, 1e18 + 1e9) 1.08 / 0.595 s = 1.82x (round robin with
per-thread buffers gathered: 1.50x); Xeon guest (family 6 model 167), 2 vCPUs.

Short windows (``confirm``)
---------------------------
For a short window high up the sieving primes up to ``sqrt(hi)`` cost more than the window
itself.  With ``limit = B`` the sieve uses only the primes up to ``B`` (the survivors are the
numbers without a prime factor <= max(B, 251)); ``nextdigit.counting``'s window mode takes the
survivors (``consume = 1``) and confirms them with the batch BPSW kernel, and ``confirm=True``
here does it inside the sieve with ``is_prime_u64``, one number at a time.

Interrupts
----------
The calling thread (OpenMP thread 0) checks ``PyErr_CheckSignals`` (taking the GIL briefly)
after each segment once ~0.1 s has passed since the last check; a pending exception
(``KeyboardInterrupt`` on Ctrl-C) stops every thread at its next segment and is re-raised here.
One piece and no big primes run without an OpenMP region at all.

Measured
--------
Against primesieve 12.16 (built from its public source with ``-O3 -march=native``), counting
with ``count_primes(..., _mode="sieve")`` against ``primesieve START STOP -c -tT``, in one run of
``benchmarks/bench_counting.py`` (the two back to back, medians of 5-7 wall-clock rounds) on a
2-vCPU KVM guest of an Intel Xeon (family 6 model 167, L1d 48 KiB, L2 2 MiB per core), nothing
else running -- nextdigit's time over primesieve's:

=========================  ==============================  ==============================
interval                   1 thread                        2 threads
=========================  ==============================  ==============================
[0, 1e10]                  833 / 920 ms = 0.91             399 / 457 ms = 0.87
[1e15, 1e15 + 1e9]         294 / 307 ms = 0.96             159 / 168 ms = 0.95
[1e18, 1e18 + 1e9]         956 ms / 1.12 s = 0.85          548 / 883 ms = 0.62
=========================  ==============================  ==============================

Two threads over one in that run: count 2.09x / 1.85x / 1.75x, histogram 1.95x / 1.80x /
1.77x, ``primes_between`` 1.82x / 2.07x (1e15 / 1e18); interleaved runs in the same hour put the
high intervals at 1.81-1.92x.  Ratios move by ~10% between runs on this guest.  Where the time
goes (one thread, from the layer costs above): [0, 1e10) is the small and medium tiers (0.525 s
and 0.217 s of 0.83 s); [1e15, 1e15 + 1e9) medium 0.13 s, big 0.09 s, small 0.05 s, generating
and placing the sieving primes 0.04 s; [1e18, 1e18 + 1e9) generating and placing the 50.8
million sieving primes 0.58 s and the big tier 0.24 s of 1.05 s.  primesieve scales to 2 threads
at 1e18 by only 1.27x (1.12 s / 883 ms); the round robin here by 1.75-1.83x.
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
    an exact sieve; a smaller limit leaves the numbers without a prime factor <= max(limit, 251)).

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
    J.pieces[0].front = len(small)     # pieces: piece 0's first items; round robin: the shared list's
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
