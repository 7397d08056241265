# cython: language_level=3
"""Uniform random primes below 2**64 and the randomized autoregressive sampler, in C.

Randomness comes from the caller's ``numpy.random.Generator``: we take its bit generator's C
interface (``bitgen_t`` from the capsule) under the generator's lock, so a seed gives the same
primes on every platform and the stream is shared with the rest of the caller's program.

Exactly uniform integers
------------------------
``nd_uniform_below(n)`` returns a uniform integer in [0, n) by Lemire's multiply-and-reject
method: with x uniform in [0, 2**64), the high word of x*n is uniform in [0, n) once the low words
below (2**64 mod n) are rejected (D. Lemire, "Fast random integer generation in an interval", ACM
TOMACS 2019).  No floats, no modulo bias.

One uniform prime: the first prime of an i.i.d. sequence
--------------------------------------------------------
Every search for "a uniform prime in [lo, hi]" in this module is: draw i.i.d. candidates, each
uniform on a set S that contains every prime of the interval, and return the first one (in
drawing order) that is prime.  Each prime of the interval is then equally likely, whatever S is.
The candidates are:

* S = the numbers of [lo, hi] coprime to 30030 = 2*3*5*7*11*13 (wide intervals, at least
  16 * 30030 numbers and lo >= 30030): a uniform index into the mod-30030 wheel (5760 residues)
  from the aligned block below lo, rejected when the number falls outside [lo, hi];
* S = the numbers coprime to 30 the same way (8 residues mod 30) for narrower intervals;
* for lo < 10201 the odd numbers (all integers when 2 is in range) with a full test each.

How a search tests its candidates (lo >= 10201; the speed, not the law):

1. Trial division by the 24 primes 7..103 rejects about 60% of the wheel candidates at once
   (multiplication by the inverse and a comparison per prime, no division; on x86-64 CPUs with
   AVX2, eight primes per vector instruction on 15-bit limbs.  Both give the same verdicts, so a
   seed gives the same primes with or without AVX2).  The candidates are processed without a
   branch on their verdict (each is stored, the count advances by the verdict): a rejection
   branch would be mispredicted a third of the time, each time after the whole draw-map-divide
   chain.
2. The survivors, four at a time in drawing order, get the base-2 strong test in lockstep
   (``sprp2_x4``: four independent Montgomery chains overlap in the multiplier; see _u64.pxd).
3. The first of the four that passes is the search's answer *provisionally*: it still needs the
   strong Lucas test (BPSW; ``_u64.pxd`` explains why the pair is a proof below 2**64), and the
   Lucas ladder of one number is a latency-bound chain.  So the engine starts the next search at
   once and runs that Lucas test as a fifth chain inside the next search's first batch of
   base-2 tests (``sprp2_x4_lucas``), where it costs about half as much as alone.  After the
   last search there is nothing to overlap with and it runs alone.

If the Lucas test rejects the candidate (a base-2 strong pseudoprime: vanishingly rare, but
handled, and tested with planted ones), every draw made after it is discarded and its search
resumes with fresh draws.  That keeps the law exact: whether those draws are discarded depends
only on the candidate, which was drawn before them, so the candidates the search ends up using
are still i.i.d. uniform on S (the draws after a stopping time of an i.i.d. sequence are i.i.d.
and independent of it), and the answer is still the first prime among them.  The same holds for
the lanes of a batch after the first one passing base 2: they are dropped unexamined whatever
their values.  Nothing depends on timing or threads: a seed gives the same primes on every run.

The randomized autoregressive sampler
-------------------------------------
``ar_sample`` runs the essay's stateless randomized model for every digit: for the current
prefix, a fresh search as above for a uniform prime among its completions (the interval of
n-digit numbers with that prefix), emit that prime's next digit; then forget the prime.  The
probability of emitting digit d is (#primes extending prefix+d)/(#primes extending prefix), so
the product over the digits telescopes to 1/(#n-digit primes): the induced distribution is
exactly uniform.  No search reuses another's candidates or prime (only its interval comes from
the previous digit); the speculative Lucas test changes the speed, not the law.
``random_primes_in`` and ``ar_step`` run the same engine with one search per output.

Cost (19 digits, one 2.6 GHz Ice Lake core): a sample is 19 searches of about 11 wheel
candidates, 7 base-2 tests (5.2 needed on average; the rest are the lanes after the answer in
its batch) and one Lucas test each, about 0.9 us per search and 17 us per sample (the plain
Python loop with gmpy2 takes about 420 us).  The multiplier port is the bound: every Montgomery
product is three 64-bit multiplications.
"""
from cpython.mem cimport PyMem_Free, PyMem_Malloc
from cpython.pycapsule cimport PyCapsule_GetPointer
from libc.stdint cimport uint64_t, int64_t, uint8_t
from numpy.random cimport bitgen_t

import numpy as np

cimport numpy as cnp

from nextdigit._u64 cimport (
    u64, mont_ninv, mod_shl64, add_mod, ctz64, clz64, is_prime_u64, sprp2_x4, sprp2_sq, sprp2_step,
    sprp2_finish_out, selfridge_q, lucas_pprime, lucas_swap_bits, lucas_step, lucas_finish, cswap,
    lucas_selfridge,
)

cnp.import_array()

cdef enum:
    TINY = 10201                         # 101**2: from here on a survivor is > 10**4, no factor < 101


cdef extern from *:
    """
    #include <stdint.h>
    #include "numpy/random/bitgen.h"
    #if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
    #include <immintrin.h>
    #define ND_HAVE_AVX2_TD 1
    #endif

    /* Candidates: uniform on the numbers of [lo, hi] coprime to the wheel (30030 or 30). */
    typedef struct {
        uint64_t lo, hi, base, nslots;
        int big;                                  /* mod-30030 wheel, else mod 30 */
    } nd_cands;

    static const unsigned char nd_wheel30[8] = {1, 7, 11, 13, 17, 19, 23, 29};
    static uint16_t nd_wheel30030[5760];          /* residues mod 30030 coprime to it, ascending */

    /* Uniform integer in [0, n), n >= 1: Lemire's multiply-and-reject (exact). */
    static inline uint64_t nd_uniform_below(bitgen_t *bg, uint64_t n) {
        unsigned __int128 t = (unsigned __int128)bg->next_uint64(bg->state) * n;
        if ((uint64_t)t < n) {
            uint64_t thr = (0 - n) % n;           /* 2**64 mod n */
            while ((uint64_t)t < thr)
                t = (unsigned __int128)bg->next_uint64(bg->state) * n;
        }
        return (uint64_t)(t >> 64);
    }

    /* Slot k of the aligned block b is base + wheel*b + residue[k]; the slots cover every block
       that meets [lo, hi].  The big wheel is used for intervals of at least 16 blocks with
       lo >= 30030, so a slot beyond 2**64 wraps below lo and is rejected like any slot outside
       the interval (with the small wheel lo >= 10201 > 30 does the same). */
    static void nd_cands_init(nd_cands *c, uint64_t lo, uint64_t hi) {
        c->lo = lo;
        c->hi = hi;
        c->big = hi - lo >= 16 * 30030ULL && lo >= 30030;
        if (c->big) {
            c->base = lo - lo % 30030;
            c->nslots = ((hi - c->base) / 30030 + 1) * 5760;
        } else {
            c->base = lo - lo % 30;
            c->nslots = ((hi - c->base) / 30 + 1) * 8;
        }
    }

    static inline uint64_t nd_cand_draw(bitgen_t *bg, const nd_cands *c) {
        uint64_t idx = nd_uniform_below(bg, c->nslots), q;
        if (c->big) {
            q = idx / 5760;
            return c->base + q * 30030 + nd_wheel30030[idx - q * 5760];
        }
        return c->base + 30 * (idx >> 3) + nd_wheel30[idx & 7];
    }

    /* Trial division by the 24 primes 7..103 (x is coprime to 30).  Constant divisors: gcc and
       clang test each by a multiplication with the inverse and a comparison, no division. */
    static inline int nd_td_scalar(uint64_t x, int big) {
        int f = (x % 17 == 0) | (x % 19 == 0) | (x % 23 == 0) | (x % 29 == 0) | (x % 31 == 0)
              | (x % 37 == 0) | (x % 41 == 0) | (x % 43 == 0) | (x % 47 == 0) | (x % 53 == 0)
              | (x % 59 == 0) | (x % 61 == 0) | (x % 67 == 0) | (x % 71 == 0) | (x % 73 == 0)
              | (x % 79 == 0) | (x % 83 == 0) | (x % 89 == 0) | (x % 97 == 0) | (x % 101 == 0)
              | (x % 103 == 0);
        if (!big)                                 /* the big wheel already excludes 7, 11, 13 */
            f |= (x % 7 == 0) | (x % 11 == 0) | (x % 13 == 0);
        return f;
    }

    /* The next four candidates without a prime factor below 104, in drawing order.  Every
       candidate is stored and the count advances by its verdict, without a branch: a rejection
       branch would be mispredicted about a third of the time, each time after the whole
       draw-map-divide chain; here only the loop exit is. */
    static void nd_survivors4_scalar(bitgen_t *bg, const nd_cands *c, uint64_t *out) {
        int k = 0;
        do {
            uint64_t x = nd_cand_draw(bg, c);
            out[k] = x;
            k += (x >= c->lo) & (x <= c->hi) & !nd_td_scalar(x, c->big);
        } while (k < 4);
    }

    #ifdef ND_HAVE_AVX2_TD
    /* The same trial division with AVX2, eight primes per 256-bit vector: with x split into
       15-bit limbs l0..l4, s_p = sum l_i * (2**(15 i) mod p) = x (mod p) and s_p < 2**25, so
       (vpmaddwd on limb pairs) p | x iff p | s_p iff s_p * p**-1 mod 2**32 <= (2**32 - 1) / p. */
    static int32_t nd_td_k01[24], nd_td_k23[24], nd_td_k4[24];
    static uint32_t nd_td_inv[24], nd_td_lim[24];

    __attribute__((target("avx2")))
    static inline int nd_td_avx2(uint64_t x) {
        const __m256i a = _mm256_set1_epi32((int32_t)((x & 0x7fff) | ((x >> 15) & 0x7fff) << 16));
        const __m256i b = _mm256_set1_epi32((int32_t)(((x >> 30) & 0x7fff) | ((x >> 45) & 0x7fff) << 16));
        const __m256i e = _mm256_set1_epi32((int32_t)(x >> 60));
        __m256i hit = _mm256_setzero_si256();
        for (int g = 0; g < 24; g += 8) {
            __m256i s = _mm256_add_epi32(
                _mm256_add_epi32(_mm256_madd_epi16(a, _mm256_loadu_si256((const __m256i *)(nd_td_k01 + g))),
                                 _mm256_madd_epi16(b, _mm256_loadu_si256((const __m256i *)(nd_td_k23 + g)))),
                _mm256_madd_epi16(e, _mm256_loadu_si256((const __m256i *)(nd_td_k4 + g))));
            __m256i t = _mm256_mullo_epi32(s, _mm256_loadu_si256((const __m256i *)(nd_td_inv + g)));
            hit = _mm256_or_si256(hit, _mm256_cmpeq_epi32(
                _mm256_min_epu32(t, _mm256_loadu_si256((const __m256i *)(nd_td_lim + g))), t));
        }
        return !_mm256_testz_si256(hit, hit);
    }

    __attribute__((target("avx2")))
    static void nd_survivors4_avx2(bitgen_t *bg, const nd_cands *c, uint64_t *out) {
        int k = 0;
        do {
            uint64_t x = nd_cand_draw(bg, c);
            out[k] = x;
            k += (x >= c->lo) & (x <= c->hi) & !nd_td_avx2(x);
        } while (k < 4);
    }
    #endif

    static void (*nd_survivors4)(bitgen_t *, const nd_cands *, uint64_t *) = nd_survivors4_scalar;

    /* Tables; the AVX2 trial division when the CPU has it (same primes: same stream). */
    static int nd_cands_setup(void) {
        static const uint16_t primes[24] = {7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59,
                                            61, 67, 71, 73, 79, 83, 89, 97, 101, 103};
        int k = 0;
        for (uint32_t x = 0; x < 30030; x++)
            if (x % 2 && x % 3 && x % 5 && x % 7 && x % 11 && x % 13)
                nd_wheel30030[k++] = (uint16_t)x;
        if (k != 5760)
            return -1;
    #ifdef ND_HAVE_AVX2_TD
        for (int i = 0; i < 24; i++) {
            uint32_t p = primes[i], c[5], v = 1, inv = p;
            for (int j = 0; j < 5; j++) {
                c[j] = v;                         /* 2**(15 j) mod p */
                v = (v << 15) % p;
            }
            for (int j = 0; j < 5; j++)
                inv *= 2 - p * inv;               /* Newton: p**-1 mod 2**32 */
            nd_td_k01[i] = (int32_t)(c[0] | c[1] << 16);
            nd_td_k23[i] = (int32_t)(c[2] | c[3] << 16);
            nd_td_k4[i] = (int32_t)c[4];
            nd_td_inv[i] = inv;
            nd_td_lim[i] = 0xffffffffu / p;
        }
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx2"))
            nd_survivors4 = nd_survivors4_avx2;
    #else
        (void)primes;
    #endif
        return 0;
    }

    /* Trial division of one number by the table's primes, for tests: 1 if a prime 7..103
       divides x (simd: with the AVX2 code, when the CPU has it). */
    static int nd_td_check(uint64_t x, int simd) {
    #ifdef ND_HAVE_AVX2_TD
        if (simd && __builtin_cpu_supports("avx2"))
            return nd_td_avx2(x);
    #else
        (void)simd;
    #endif
        return nd_td_scalar(x, 0);
    }

    /* 1 when the AVX2 path is in use; set_simd(0) forces the portable one (for tests). */
    static int nd_simd_active(void) { return nd_survivors4 != nd_survivors4_scalar; }
    static int nd_set_simd(int on) {
    #ifdef ND_HAVE_AVX2_TD
        nd_survivors4 = (on && __builtin_cpu_supports("avx2")) ? nd_survivors4_avx2 : nd_survivors4_scalar;
    #else
        (void)on;
    #endif
        return nd_simd_active();
    }
    """
    ctypedef struct nd_cands:
        u64 lo, hi, base, nslots
        int big
    u64 nd_uniform_below(bitgen_t* bg, u64 n) noexcept nogil
    void nd_cands_init(nd_cands* c, u64 lo, u64 hi) noexcept nogil
    void nd_survivors4(bitgen_t* bg, const nd_cands* c, u64* out) noexcept nogil
    int nd_cands_setup() noexcept
    int nd_simd_active() noexcept
    int nd_td_check(u64 x, int simd) noexcept
    int nd_set_simd(int on) noexcept


if nd_cands_setup() != 0:
    raise ImportError("_randprime: mod-30030 wheel table")


cdef inline u64 uniform_in(bitgen_t* bg, u64 lo, u64 hi) noexcept nogil:
    """Uniform integer in [lo, hi] (inclusive; the full 64-bit range is allowed)."""
    if lo == 0 and hi == ~(<u64>0):
        return bg.next_uint64(bg.state)
    return lo + nd_uniform_below(bg, hi - lo + 1)


cdef u64 tiny_prime(bitgen_t* bg, u64 lo, u64 hi) noexcept nogil:
    """Uniform prime in [lo, hi] for lo < TINY: candidates uniform on the odd numbers (all
    integers when 2 is in range), each tested in full.  The interval must contain a prime."""
    cdef u64 first, count, c
    if lo <= 2 and hi >= 2:
        while True:
            c = uniform_in(bg, lo, hi)
            if is_prime_u64(c):
                return c
    first = lo | 1
    count = (hi - first) // 2 + 1
    while True:
        c = first + 2 * nd_uniform_below(bg, count)
        if is_prime_u64(c):
            return c


# ---------------------------------------------------------------------------------------------
# Four base-2 strong tests and one strong Lucas test in lockstep
# ---------------------------------------------------------------------------------------------
cdef bint sprp2_x4_lucas(const u64* nn, uint8_t* res, u64 q) noexcept nogil:
    """``sprp2_x4(nn, res)`` and, in the same loop, the strong Lucas-Selfridge test of q, whose
    result is returned (q odd, > 10**4, no prime factor below 101: ``lucas_selfridge``'s terms).

    The Lucas ladder (``lucas_step``, two Montgomery products per bit) is one latency-bound
    chain; interleaved with the four base-2 chains it fills the gaps of their pipeline.  The
    base-2 lanes start as in ``sprp2_x4`` (the first K aligned exponent bits folded into the
    start value) and run S steps; the Lucas ladder runs its own bits from the top, the first
    ones alone when it is longer than S, else padded with leading 0 bits, which leave the pair
    at (W_0, W_1).  When Selfridge's search already shows q composite, returns False at once
    and ``res`` is not set.
    """
    cdef int64_t Q = selfridge_q(q)
    if Q == 0:
        return False
    cdef u64 n[4]
    cdef u64 ninv[4]
    cdef u64 d[4]
    cdef u64 x[4]
    cdef int s[4]
    cdef int j, b, k, steps, top = 0
    cdef u64 nmin = ~(<u64>0)
    for j in range(4):
        n[j] = nn[j]
        ninv[j] = mont_ninv(n[j])
        s[j] = ctz64(n[j] - 1)
        d[j] = (n[j] - 1) >> s[j]
        if 63 - clz64(d[j]) > top:
            top = 63 - clz64(d[j])
        if n[j] < nmin:
            nmin = n[j]
    k = 5 if top >= 4 and nmin > (<u64>1 << 31) else 0
    steps = top + 1 - k
    cdef u64 e0 = d[0] << (63 - top), e1 = d[1] << (63 - top)
    cdef u64 e2 = d[2] << (63 - top), e3 = d[3] << (63 - top)
    cdef u64 x0, x1, x2, x3
    if k:
        x0 = mod_shl64(<u64>1 << (e0 >> 59), n[0])
        x1 = mod_shl64(<u64>1 << (e1 >> 59), n[1])
        x2 = mod_shl64(<u64>1 << (e2 >> 59), n[2])
        x3 = mod_shl64(<u64>1 << (e3 >> 59), n[3])
        e0 <<= 5
        e1 <<= 5
        e2 <<= 5
        e3 <<= 5
    else:
        x0 = mod_shl64(1, n[0])
        x1 = mod_shl64(1, n[1])
        x2 = mod_shl64(1, n[2])
        x3 = mod_shl64(1, n[3])
    # the Lucas lane: q + 1 = (2m + 1) * 2**s, the ladder (u, v) = (W_k, W_k+1) over the bits of m
    cdef u64 lninv = mont_ninv(q)
    cdef u64 lone = mod_shl64(1, q)
    cdef u64 ltwo = add_mod(lone, lone, q)
    cdef u64 lpp = lucas_pprime(Q, lone, q)
    cdef int ls = ctz64(q + 1)                  # no overflow: 2**64 - 1 has the factor 3
    cdef u64 lm = ((q + 1) >> ls) >> 1
    cdef int lsteps = 64 - clz64(lm | 1)
    if lsteps < steps:
        lsteps = steps                          # leading 0 bits
    cdef u64 lu = ltwo, lv = lpp
    cdef u64 le = lucas_swap_bits(lm) << (64 - lsteps)
    for b in range(lsteps - steps):             # the Lucas bits above the base-2 ones, alone
        lucas_step(&lu, &lv, <u64>0 - (le >> 63), lpp, ltwo, q, lninv)
        le <<= 1
    if (n[0] | n[1] | n[2] | n[3]) >> 63 == 0:
        for b in range(steps):
            lucas_step(&lu, &lv, <u64>0 - (le >> 63), lpp, ltwo, q, lninv)
            x0 = sprp2_sq(x0, <u64>0 - (e0 >> 63), n[0], ninv[0])
            x1 = sprp2_sq(x1, <u64>0 - (e1 >> 63), n[1], ninv[1])
            x2 = sprp2_sq(x2, <u64>0 - (e2 >> 63), n[2], ninv[2])
            x3 = sprp2_sq(x3, <u64>0 - (e3 >> 63), n[3], ninv[3])
            le <<= 1
            e0 <<= 1
            e1 <<= 1
            e2 <<= 1
            e3 <<= 1
    else:
        for b in range(steps):
            lucas_step(&lu, &lv, <u64>0 - (le >> 63), lpp, ltwo, q, lninv)
            x0 = sprp2_step(x0, <u64>0 - (e0 >> 63), n[0], ninv[0])
            x1 = sprp2_step(x1, <u64>0 - (e1 >> 63), n[1], ninv[1])
            x2 = sprp2_step(x2, <u64>0 - (e2 >> 63), n[2], ninv[2])
            x3 = sprp2_step(x3, <u64>0 - (e3 >> 63), n[3], ninv[3])
            le <<= 1
            e0 <<= 1
            e1 <<= 1
            e2 <<= 1
            e3 <<= 1
    x[0] = x0
    x[1] = x1
    x[2] = x2
    x[3] = x3
    for j in range(4):
        res[j] = sprp2_finish_out(x[j], s[j], n[j], ninv[j])
    cswap(<u64>0 - (lm & 1), &lu, &lv)
    return lucas_finish(lu, lv, lpp, ltwo, ls, q, lninv)


# ---------------------------------------------------------------------------------------------
# The engine: a chain of searches, each one's interval given by the previous one's prime
# ---------------------------------------------------------------------------------------------
cdef u64 _rollbacks = 0                  # provisional answers that failed Lucas (a diagnostic)


cdef void prime_chain(bitgen_t* bg, u64 lo, u64 hi, u64 top_width, u64 base, u64* out,
                      Py_ssize_t size) noexcept nogil:
    """``size`` outputs of the randomized autoregressive model over the primes in [lo, hi]
    (see ``ar_sample``); with top_width == 1 every output is one search: independent uniform
    primes in [lo, hi].

    State: the current search (sample i, interval [plo, phi], place value w of the digit it
    emits) and ``pend``, the provisional answer of the previous search (passed base 2, Lucas
    pending) with that search's parameters, to resume it if pend turns out composite.
    """
    cdef Py_ssize_t i = 0, ri = 0
    cdef u64 plo = lo, phi = hi, w = top_width
    cdef u64 pend = 0, rlo = 0, rhi = 0, rw = 0
    cdef u64 p, block
    cdef u64 lane[4]
    cdef uint8_t passed[4]
    cdef bint ok, fresh
    cdef int j
    cdef nd_cands cand
    global _rollbacks
    if size <= 0:
        return
    nd_cands_init(&cand, plo, phi)
    while True:
        fresh = False                   # a fully tested prime for the current search
        ok = True                       # the verdict on pend (when pend != 0)
        if i >= size:                   # no search left to overlap with: test pend alone
            if pend == 0:
                return
            ok = lucas_selfridge(pend)
        elif plo < TINY:                # small numbers: settle pend, then a plain search
            if pend != 0:
                ok = lucas_selfridge(pend)
            if ok:
                p = tiny_prime(bg, plo, phi)
                fresh = True
        else:
            nd_survivors4(bg, &cand, lane)
            if pend != 0:
                ok = sprp2_x4_lucas(lane, passed, pend)
            else:
                sprp2_x4(lane, passed)
        if pend != 0:
            if not ok:                  # pend is composite: resume its search, drop later draws
                _rollbacks += 1
                i = ri
                plo = rlo
                phi = rhi
                w = rw
                pend = 0
                nd_cands_init(&cand, plo, phi)
                continue
            if rw == 1:
                out[ri] = pend
            pend = 0
        if i >= size:
            return
        if not fresh:
            j = passed[0] | passed[1] << 1 | passed[2] << 2 | passed[3] << 3
            if j == 0:
                continue                # four composites: the search goes on
            p = lane[ctz64(j)]          # the first one in drawing order
            pend = p                    # provisional: its Lucas test runs in the next batch
            ri = i
            rlo = plo
            rhi = phi
            rw = w
        elif w == 1:
            out[i] = p
        # the next search: the next digit's completions, or the next sample
        if w == 1:
            i += 1
            plo = lo
            phi = hi
            w = top_width
        else:
            block = p - p % w
            plo = block if block > lo else lo
            phi = hi if hi - block < w else block + (w - 1)
            w //= base
        nd_cands_init(&cand, plo, phi)


cdef int _run_chain(object generator, u64 lo, u64 hi, u64 top_width, u64 base, u64* out,
                    Py_ssize_t size) except -1:
    """prime_chain on the generator's bit generator, under its lock and without the GIL.
    [lo, hi] must hold a prime (every search ends only with one): not checked beyond lo <= hi."""
    if lo > hi:
        raise ValueError(f"empty interval [{lo}, {hi}]")
    cdef object bitgen = generator.bit_generator
    cdef bitgen_t* bg = <bitgen_t*>PyCapsule_GetPointer(bitgen.capsule, "BitGenerator")
    if bg == NULL:
        return -1
    lock = bitgen.lock
    lock.acquire()
    try:
        with nogil:
            prime_chain(bg, lo, hi, top_width, base, out, size)
    finally:
        lock.release()
    return 0


def uniform_u64(uint64_t lo, uint64_t hi, object generator, Py_ssize_t size):
    """``size`` uniform integers in [lo, hi] (inclusive) as uint64 (used by tests of exactness)."""
    cdef bitgen_t* bg = <bitgen_t*>PyCapsule_GetPointer(generator.bit_generator.capsule, "BitGenerator")
    cdef cnp.ndarray[uint64_t, ndim=1] out = np.empty(size, dtype=np.uint64)
    cdef u64* o = <u64*>out.data
    cdef Py_ssize_t i
    with generator.bit_generator.lock, nogil:
        for i in range(size):
            o[i] = uniform_in(bg, lo, hi)
    return out


def random_primes_in(uint64_t lo, uint64_t hi, object generator, Py_ssize_t size):
    """``size`` independent uniform primes in [lo, hi] (inclusive) as uint64.  Precondition: one
    exists (below 2**64 every interval longer than 1550 holds one: the largest prime gap there)."""
    cdef cnp.ndarray[uint64_t, ndim=1] out = np.empty(size, dtype=np.uint64)
    _run_chain(generator, lo, hi, 1, 2, <u64*>out.data, size)
    return out


def ar_step(uint64_t lo, uint64_t hi, uint64_t width, object generator):
    """One step of the randomized model: the offset digit (p - lo) // width of a uniform prime p
    in [lo, hi].  Precondition: the interval contains a prime."""
    cdef u64 p = 0
    _run_chain(generator, lo, hi, 1, 2, &p, 1)
    return (p - lo) // width


cdef str _u64_str(u64 v, unsigned int base):
    """v written in ``base`` (2..36; digits 0-9a-z)."""
    cdef char buf[65]
    cdef int k = 64
    buf[64] = 0
    while True:
        k -= 1
        buf[k] = b"0123456789abcdefghijklmnopqrstuvwxyz"[v % base]
        v //= base
        if v == 0:
            break
    return (buf + k)[:64 - k].decode("ascii")


def ar_sample(uint64_t lo, uint64_t hi, uint64_t top_width, unsigned int base, object generator,
              Py_ssize_t size, bint as_str=False):
    """``size`` samples of the randomized autoregressive model over the primes in [lo, hi], as a
    list of ints (of their digit strings in ``base`` with ``as_str``).

    [lo, hi] is the set of n-digit numbers (or a prefix's completions), ``top_width`` the place
    value of the first digit to emit (base**(n-1) for all n-digit numbers) and ``base`` the
    radix.  Every digit is emitted from a fresh uniform prime among the current prefix's
    completions (module docstring: a new search per digit, no reuse), exactly as the stateless
    model does; the returned values are the numbers spelled by the emitted digits.
    """
    if base < 2 or base > 36 or top_width == 0 or size < 0:
        raise ValueError("ar_sample: 2 <= base <= 36, top_width >= 1 and size >= 0 required")
    cdef u64 small[8]
    cdef u64* o = small
    cdef Py_ssize_t i
    if size > 8:
        o = <u64*>PyMem_Malloc(size * sizeof(u64))
        if o == NULL:
            raise MemoryError()
    try:
        _run_chain(generator, lo, hi, top_width, base, o, size)
        if as_str:
            return [_u64_str(o[i], base) for i in range(size)]
        return [o[i] for i in range(size)]
    finally:
        if o != small:
            PyMem_Free(o)


def _simd(on=None):
    """Whether candidate trial division uses AVX2 (x86-64 CPUs that have it); ``_simd(False)``
    forces the portable path and ``_simd(True)`` restores it (tests: both give the same stream)."""
    if on is not None:
        nd_set_simd(1 if on else 0)
    return bool(nd_simd_active())


def _trial_division(values, simd=True):
    """For tests: whether a prime 7..103 divides each value, with the AVX2 code (``simd``, when
    the CPU has it) or the portable one."""
    return [bool(nd_td_check(<u64>v, 1 if simd else 0)) for v in values]


def _speculation_rollbacks():
    """How many provisional answers (base-2 strong pseudoprimes) the Lucas test has rejected in
    this process so far: a diagnostic for tests of the resume path."""
    return _rollbacks
