/* Eight-lane Montgomery arithmetic in radix 2**28 with AVX2: both halves of BPSW -- the base-2
 * strong probable-prime test and the strong Lucas-Selfridge test -- for eight big odd numbers at
 * once, on x86-64 CPUs without AVX-512 IFMA (Intel client cores since Haswell, AMD since
 * Excavator/Zen).
 *
 * The same algorithm as nd_mont52.h (read that comment first), with two changes:
 *   - VPMULUDQ multiplies the low 32 bits of each 64-bit lane into a full 64-bit product, four
 *     lanes per 256-bit vector.  Limbs of 28 bits give products below 2**56, so a column of up
 *     to 2k + 2 terms (k limbs) adds up in a 64-bit lane for k <= 126 (3526 bits) without
 *     carrying; above, the loops move the high part of the accumulator aside every 128 terms,
 *     so every size up to ND_M28_MAXBITS works.  One product is one instruction (no low/high
 *     halves), and a column's sum is split into its low 28 bits and a carry for the next
 *     column at the end.  Two accumulators per column halve the chain of additions.
 *   - Eight numbers are two vectors of four lanes (nd_v8: lanes 0-3 and 4-7).  Every operation
 *     acts on both, so the two halves form two independent chains: a column's quotient digit
 *     m_c = lo28(t_c * (-1/n)) waits for the column before it (about 14 cycles of latency per
 *     column), and the second half fills that wait.
 * Values are kept almost reduced below 2n (R = 2**(28k) > 4n); both BPSW halves, the doubling
 * of 2**d, R mod n and the checks are those of nd_mont52.h, lane masks being vectors of
 * all-ones / all-zeros lanes (AVX2 has no mask registers) and bit masks for control flow.
 *
 * Built with GCC/Clang function-level target attributes (target("avx2")): the rest of the
 * extension is compiled for baseline x86-64, and nd_m28_available() checks the CPU at run time.
 */
#ifndef ND_MONT28_H
#define ND_MONT28_H

#include <stdint.h>
#include <string.h>

#define ND_M28_MAXK 149                    /* numbers up to 28*149 - 2 = 4170 bits */
#define ND_M28_MAXBITS (28 * ND_M28_MAXK - 2)

#if defined(__x86_64__) && defined(__GNUC__) && !defined(ND_M28_DISABLE)
#include <immintrin.h>

static int nd_m28_available(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2");
}

#define ND_M28_TARGET __attribute__((target("avx2")))
#define ND_M28_INLINE ND_M28_TARGET __attribute__((always_inline)) static inline
#define ND_MASK28 ((uint64_t)0xFFFFFFFull)
#ifndef ND_M28_UNROLL
#define ND_M28_UNROLL _Pragma("GCC unroll 2")
#endif
/* Products of 28-bit limbs are below 2**56: a 64-bit lane holds 255 of them.  A column has at
 * most 2k + 2 terms, so up to k = ND_M28_NOFOLD nothing is carried inside a column; beyond,
 * the accumulator's high part is moved aside every ND_M28_FOLD terms. */
#define ND_M28_NOFOLD 126
#define ND_M28_FOLD 128

typedef struct { __m256i a, b; } nd_v8;     /* lanes 0-3, 4-7 */

ND_M28_INLINE nd_v8 v8_zero(void) { nd_v8 r = {_mm256_setzero_si256(), _mm256_setzero_si256()}; return r; }
ND_M28_INLINE nd_v8 v8_set1(uint64_t x) { nd_v8 r = {_mm256_set1_epi64x((long long)x), _mm256_set1_epi64x((long long)x)}; return r; }
ND_M28_INLINE nd_v8 v8_add(nd_v8 x, nd_v8 y) { nd_v8 r = {_mm256_add_epi64(x.a, y.a), _mm256_add_epi64(x.b, y.b)}; return r; }
ND_M28_INLINE nd_v8 v8_sub(nd_v8 x, nd_v8 y) { nd_v8 r = {_mm256_sub_epi64(x.a, y.a), _mm256_sub_epi64(x.b, y.b)}; return r; }
ND_M28_INLINE nd_v8 v8_and(nd_v8 x, nd_v8 y) { nd_v8 r = {_mm256_and_si256(x.a, y.a), _mm256_and_si256(x.b, y.b)}; return r; }
ND_M28_INLINE nd_v8 v8_or(nd_v8 x, nd_v8 y) { nd_v8 r = {_mm256_or_si256(x.a, y.a), _mm256_or_si256(x.b, y.b)}; return r; }
ND_M28_INLINE nd_v8 v8_xor(nd_v8 x, nd_v8 y) { nd_v8 r = {_mm256_xor_si256(x.a, y.a), _mm256_xor_si256(x.b, y.b)}; return r; }
ND_M28_INLINE nd_v8 v8_mul(nd_v8 x, nd_v8 y) { nd_v8 r = {_mm256_mul_epu32(x.a, y.a), _mm256_mul_epu32(x.b, y.b)}; return r; }
ND_M28_INLINE nd_v8 v8_srli(nd_v8 x, int s) { nd_v8 r = {_mm256_srli_epi64(x.a, s), _mm256_srli_epi64(x.b, s)}; return r; }
ND_M28_INLINE nd_v8 v8_slli(nd_v8 x, int s) { nd_v8 r = {_mm256_slli_epi64(x.a, s), _mm256_slli_epi64(x.b, s)}; return r; }
ND_M28_INLINE nd_v8 v8_eq(nd_v8 x, nd_v8 y) { nd_v8 r = {_mm256_cmpeq_epi64(x.a, y.a), _mm256_cmpeq_epi64(x.b, y.b)}; return r; }
/* signed comparison; used for small numbers (bit positions) only */
ND_M28_INLINE nd_v8 v8_gt(nd_v8 x, nd_v8 y) { nd_v8 r = {_mm256_cmpgt_epi64(x.a, y.a), _mm256_cmpgt_epi64(x.b, y.b)}; return r; }
/* m ? y : x per lane (m all-ones or zero per lane) */
ND_M28_INLINE nd_v8 v8_blend(nd_v8 x, nd_v8 y, nd_v8 m)
{
    nd_v8 r = {_mm256_blendv_epi8(x.a, y.a, m.a), _mm256_blendv_epi8(x.b, y.b, m.b)};
    return r;
}
ND_M28_INLINE unsigned v8_bits(nd_v8 m)      /* bit l = lane l of a lane mask */
{
    return (unsigned)_mm256_movemask_pd(_mm256_castsi256_pd(m.a))
         | (unsigned)_mm256_movemask_pd(_mm256_castsi256_pd(m.b)) << 4;
}
ND_M28_INLINE nd_v8 v8_load(const uint64_t *p)
{
    nd_v8 r = {_mm256_loadu_si256((const __m256i *)p), _mm256_loadu_si256((const __m256i *)(p + 4))};
    return r;
}
ND_M28_INLINE void v8_store(uint64_t *p, nd_v8 x)
{
    _mm256_storeu_si256((__m256i *)p, x.a);
    _mm256_storeu_si256((__m256i *)(p + 4), x.b);
}
/* lane mask from bits (bit l of m -> lane l) */
ND_M28_INLINE nd_v8 v8_from_bits(unsigned m)
{
    const nd_v8 sel = {_mm256_set_epi64x(8, 4, 2, 1), _mm256_set_epi64x(128, 64, 32, 16)};
    return v8_eq(v8_and(v8_set1(m), sel), sel);
}

/* The end of column c of a Montgomery product (shared by mul and sqr): adds m_i * n_{c-i} for
 * the m_i already known, fixes m_c (c < k) or emits r_{c-k} (c >= k), and returns the carry-in
 * of column c + 1.  acc holds the column's product terms, hi (generic loops only) the carries
 * folded out of acc, cin the carry from column c - 1. */
ND_M28_INLINE nd_v8 nd_m28_column_end(nd_v8 acc, nd_v8 hi, nd_v8 cin, int c, nd_v8 *r, const nd_v8 *n,
                                      nd_v8 ninv, nd_v8 *m, int k)
{
    const nd_v8 mask = v8_set1(ND_MASK28);
    int i, ilo = c < k ? 0 : c - k + 1, ihi = c < k ? c - 1 : k - 1, t = 0;
    if (k <= ND_M28_NOFOLD) {                     /* two accumulators: half the add chain */
        nd_v8 acc1 = v8_zero();
        ND_M28_UNROLL
        for (i = ilo; i + 1 <= ihi; i += 2) {
            acc = v8_add(acc, v8_mul(m[i], n[c - i]));
            acc1 = v8_add(acc1, v8_mul(m[i + 1], n[c - i - 1]));
        }
        if (i == ihi)
            acc = v8_add(acc, v8_mul(m[i], n[c - i]));
        acc = v8_add(acc, acc1);
    } else {
        for (i = ilo; i <= ihi; i++) {
            acc = v8_add(acc, v8_mul(m[i], n[c - i]));
            if (++t == ND_M28_FOLD) {
                hi = v8_add(hi, v8_srli(acc, 28));
                acc = v8_and(acc, mask);
                t = 0;
            }
        }
    }
    acc = v8_add(acc, cin);                        /* the carry-in last: the latest input */
    if (c < k) {
        m[c] = v8_and(v8_mul(acc, ninv), mask);
        acc = v8_add(acc, v8_mul(m[c], n[0]));     /* now acc = 0 mod 2**28 */
    } else {
        r[c - k] = v8_and(acc, mask);
    }
    return v8_add(hi, v8_srli(acc, 28));
}

/* r = a*b/R mod n ("almost" reduced: inputs below 2n give an output below 2n, as R > 4n).
 * ninv = -1/n mod 2**28 per lane; m is scratch of k vectors; r may alias a or b. */
ND_M28_INLINE void nd_m28_mul(nd_v8 *r, const nd_v8 *a, const nd_v8 *b, const nd_v8 *n, nd_v8 ninv,
                              nd_v8 *m, int k)
{
    const nd_v8 mask = v8_set1(ND_MASK28);
    nd_v8 out[ND_M28_MAXK], cin = v8_zero(), acc, hi;
    int c, i, ilo, ihi, t;
    ND_M28_UNROLL
    for (c = 0; c < 2 * k - 1; c++) {
        ilo = c < k ? 0 : c - k + 1;
        ihi = c < k ? c : k - 1;
        acc = hi = v8_zero();
        t = 0;
        if (k <= ND_M28_NOFOLD) {
            nd_v8 acc1 = v8_zero();
            ND_M28_UNROLL
            for (i = ilo; i + 1 <= ihi; i += 2) {
                acc = v8_add(acc, v8_mul(a[i], b[c - i]));
                acc1 = v8_add(acc1, v8_mul(a[i + 1], b[c - i - 1]));
            }
            if (i == ihi)
                acc = v8_add(acc, v8_mul(a[i], b[c - i]));
            acc = v8_add(acc, acc1);
        } else {
            for (i = ilo; i <= ihi; i++) {
                acc = v8_add(acc, v8_mul(a[i], b[c - i]));
                if (++t == ND_M28_FOLD) {
                    hi = v8_add(hi, v8_srli(acc, 28));
                    acc = v8_and(acc, mask);
                    t = 0;
                }
            }
        }
        if (k > ND_M28_NOFOLD) {                 /* room for the reduction terms */
            hi = v8_add(hi, v8_srli(acc, 28));
            acc = v8_and(acc, mask);
        }
        cin = nd_m28_column_end(acc, hi, cin, c, out, n, ninv, m, k);
    }
    out[k - 1] = cin;      /* column 2k - 1: below 2**28 because the value is below 2n < R */
    ND_M28_UNROLL
    for (i = 0; i < k; i++)
        r[i] = out[i];
}

/* r = a*a/R mod n (almost reduced), each cross product a_i*a_j (i < j) once and doubled. */
ND_M28_INLINE void nd_m28_sqr(nd_v8 *r, const nd_v8 *a, const nd_v8 *n, nd_v8 ninv, nd_v8 *m, int k)
{
    const nd_v8 mask = v8_set1(ND_MASK28);
    nd_v8 out[ND_M28_MAXK], cin = v8_zero(), acc, hi;
    int c, i, ilo, ihi, t;
    ND_M28_UNROLL
    for (c = 0; c < 2 * k - 1; c++) {
        ilo = c < k ? 0 : c - k + 1;
        ihi = (c - 1) >> 1;                        /* pairs i < c - i */
        acc = hi = v8_zero();
        t = 0;
        if (k <= ND_M28_NOFOLD) {
            nd_v8 acc1 = v8_zero();
            ND_M28_UNROLL
            for (i = ilo; i + 1 <= ihi; i += 2) {
                acc = v8_add(acc, v8_mul(a[i], a[c - i]));
                acc1 = v8_add(acc1, v8_mul(a[i + 1], a[c - i - 1]));
            }
            if (i == ihi)
                acc = v8_add(acc, v8_mul(a[i], a[c - i]));
            acc = v8_add(acc, acc1);
        } else {
            for (i = ilo; i <= ihi; i++) {
                acc = v8_add(acc, v8_mul(a[i], a[c - i]));
                if (++t == ND_M28_FOLD) {
                    hi = v8_add(hi, v8_srli(acc, 28));
                    acc = v8_and(acc, mask);
                    t = 0;
                }
            }
        }
        if (k > ND_M28_NOFOLD) {                 /* room for the doubling and the rest */
            hi = v8_add(hi, v8_srli(acc, 28));
            acc = v8_and(acc, mask);
            hi = v8_slli(hi, 1);
        }
        acc = v8_slli(acc, 1);
        if (!(c & 1))
            acc = v8_add(acc, v8_mul(a[c >> 1], a[c >> 1]));
        cin = nd_m28_column_end(acc, hi, cin, c, out, n, ninv, m, k);
    }
    out[k - 1] = cin;
    ND_M28_UNROLL
    for (i = 0; i < k; i++)
        r[i] = out[i];
}

/* x = 2x mod n in the lanes of `lanes`, almost reduced: x < 2n in, x < 2n out
 * (2x < 4n < R fits; 2n is subtracted where that does not borrow).  n2 = 2n. */
ND_M28_INLINE void nd_m28_double(nd_v8 *x, const nd_v8 *n2, nd_v8 lanes, int k)
{
    const nd_v8 mask = v8_set1(ND_MASK28);
    nd_v8 y[ND_M28_MAXK], d[ND_M28_MAXK], carry = v8_zero(), borrow = v8_zero(), t, ge;
    int j;
    for (j = 0; j < k; j++) {
        t = v8_add(v8_slli(x[j], 1), carry);
        carry = v8_srli(t, 28);
        y[j] = v8_and(t, mask);
        t = v8_sub(v8_sub(y[j], n2[j]), borrow);
        borrow = v8_srli(t, 63);
        d[j] = v8_and(t, mask);
    }
    ge = v8_and(v8_eq(borrow, v8_zero()), lanes);
    for (j = 0; j < k; j++)
        x[j] = v8_blend(v8_blend(x[j], y[j], lanes), d[j], ge);
}

/* z = x + y (no reduction; the caller knows the sum fits k limbs). */
ND_M28_INLINE void nd_m28_add(nd_v8 *z, const nd_v8 *x, const nd_v8 *y, int k)
{
    const nd_v8 mask = v8_set1(ND_MASK28);
    nd_v8 carry = v8_zero(), t;
    int j;
    for (j = 0; j < k; j++) {
        t = v8_add(v8_add(x[j], y[j]), carry);
        carry = v8_srli(t, 28);
        z[j] = v8_and(t, mask);
    }
}

/* z = x - y for x >= y lane-wise. */
ND_M28_INLINE void nd_m28_sub(nd_v8 *z, const nd_v8 *x, const nd_v8 *y, int k)
{
    const nd_v8 mask = v8_set1(ND_MASK28);
    nd_v8 borrow = v8_zero(), t;
    int j;
    for (j = 0; j < k; j++) {
        t = v8_sub(v8_sub(x[j], y[j]), borrow);
        borrow = v8_srli(t, 63);
        z[j] = v8_and(t, mask);
    }
}

ND_M28_INLINE unsigned nd_m28_equal(const nd_v8 *x, const nd_v8 *y, int k)
{
    nd_v8 diff = v8_zero();
    int j;
    for (j = 0; j < k; j++)
        diff = v8_or(diff, v8_xor(x[j], y[j]));
    return v8_bits(v8_eq(diff, v8_zero()));
}

/* z = x - c mod n for x, c below 2n (almost reduced in, almost reduced out). */
ND_M28_INLINE void nd_m28_subm(nd_v8 *z, const nd_v8 *x, const nd_v8 *c, const nd_v8 *n2, int k)
{
    const nd_v8 mask = v8_set1(ND_MASK28);
    nd_v8 borrow = v8_zero(), carry = v8_zero(), t, neg;
    int j;
    for (j = 0; j < k; j++) {
        t = v8_sub(v8_sub(x[j], c[j]), borrow);
        borrow = v8_srli(t, 63);
        z[j] = v8_and(t, mask);
    }
    neg = v8_eq(borrow, v8_set1(1));
    if (v8_bits(neg))
        for (j = 0; j < k; j++) {
            t = v8_add(v8_add(z[j], n2[j]), carry);
            carry = v8_srli(t, 28);
            z[j] = v8_blend(z[j], v8_and(t, mask), neg);
        }
}

/* x mod n, fully reduced, for x below 2n. */
ND_M28_INLINE void nd_m28_canon(nd_v8 *z, const nd_v8 *x, const nd_v8 *n, int k)
{
    const nd_v8 mask = v8_set1(ND_MASK28);
    nd_v8 d[ND_M28_MAXK], borrow = v8_zero(), t, ge;
    int j;
    for (j = 0; j < k; j++) {
        t = v8_sub(v8_sub(x[j], n[j]), borrow);
        borrow = v8_srli(t, 63);
        d[j] = v8_and(t, mask);
    }
    ge = v8_eq(borrow, v8_zero());
    for (j = 0; j < k; j++)
        z[j] = v8_blend(x[j], d[j], ge);
}

ND_M28_INLINE unsigned nd_m28_is_zero(const nd_v8 *x, int k)
{
    nd_v8 acc = v8_zero();
    int j;
    for (j = 0; j < k; j++)
        acc = v8_or(acc, x[j]);
    return v8_bits(v8_eq(acc, v8_zero()));
}

static inline int nd_m28_bitlen(const uint64_t *w, int nl)
{
    while (nl > 0 && w[nl - 1] == 0)
        nl--;
    return nl == 0 ? 0 : 64 * (nl - 1) + 64 - __builtin_clzll(w[nl - 1]);
}

/* One batch, transposed: n (k limbs), ninv, the exponent e (nw words, eight lanes each), s,
 * the start of R mod n and the loop bounds; for the Lucas test also P' (Montgomery form).
 * Plain words here (the set-up code is not compiled for AVX2); loaded into nd_v8 by the runs. */
typedef struct {
    uint64_t n[ND_M28_MAXK * 8], start[ND_M28_MAXK * 8], pp[ND_M28_MAXK * 8], ninv[8], s[8], dbl[8];
    uint64_t te[(ND_M28_MAXBITS + 63) / 64 * 8 + 8];
    int k, top, maxs, maxd;
} nd_m28_batch;

ND_M28_INLINE void nd_m28_load(nd_v8 *v, const uint64_t *t, int k)
{
    int j;
    for (j = 0; j < k; j++)
        v[j] = v8_load(t + 8 * j);
}

/* Montgomery's 1 = R mod n: 2**(bits-1) < n doubled dbl = 28k - bits + 1 times modulo n
 * (passing n as the "2n" of nd_m28_double keeps it fully reduced). */
ND_M28_INLINE void nd_m28_one(nd_v8 *one, const nd_m28_batch *B, const nd_v8 *N, int k)
{
    const nd_v8 dbl = v8_load(B->dbl);
    int b;
    nd_m28_load(one, B->start, k);
    for (b = 0; b < B->maxd; b++)
        nd_m28_double(one, N, v8_gt(dbl, v8_set1((uint64_t)b)), k);
}

ND_M28_INLINE nd_v8 nd_m28_exponent_bit(const nd_m28_batch *B, int b)
{
    nd_v8 ew = v8_load(B->te + 8 * (b >> 6)), bit = v8_set1((uint64_t)1 << (b & 63));
    return v8_eq(v8_and(ew, bit), bit);
}

/* The base-2 strong test (e = n - 1 = d * 2**s); returns the mask of lanes that pass. */
ND_M28_INLINE unsigned nd_m28_sprp2_run(const nd_m28_batch *B, int k)
{
    nd_v8 N[ND_M28_MAXK], N2[ND_M28_MAXK], X[ND_M28_MAXK], ONE[ND_M28_MAXK], ONE2[ND_M28_MAXK];
    nd_v8 NM1[ND_M28_MAXK], NM12[ND_M28_MAXK], M[ND_M28_MAXK];
    const nd_v8 ninv = v8_load(B->ninv), S = v8_load(B->s);
    unsigned pass = 0;
    int b, j;
    nd_m28_load(N, B->n, k);
    nd_m28_one(ONE, B, N, k);
    nd_m28_add(N2, N, N, k);
    nd_m28_add(ONE2, ONE, N, k);                   /* the other representative of 1 below 2n */
    nd_m28_sub(NM1, N, ONE, k);                    /* -1 */
    nd_m28_add(NM12, NM1, N, k);
    for (j = 0; j < k; j++)
        X[j] = ONE[j];
    for (b = B->top; b >= 0; b--) {
        nd_v8 set;
        nd_m28_sqr(X, X, N, ninv, M, k);
        set = nd_m28_exponent_bit(B, b);
        if (v8_bits(set))
            nd_m28_double(X, N2, set, k);
        if (b <= B->maxs) {
            const nd_v8 bb = v8_set1((uint64_t)b);
            unsigned at_s = v8_bits(v8_eq(S, bb));
            unsigned upto_s = at_s | v8_bits(v8_gt(S, bb));
            if (at_s)
                pass |= at_s & (nd_m28_equal(X, ONE, k) | nd_m28_equal(X, ONE2, k));
            if (b >= 1)
                pass |= upto_s & (nd_m28_equal(X, NM1, k) | nd_m28_equal(X, NM12, k));
        }
    }
    return pass;
}

/* The strong Lucas test with Selfridge's parameters through the Q = 1 sequence W_k: see
 * nd_m52_lucas_run in nd_mont52.h (the same ladder and checks). */
ND_M28_INLINE unsigned nd_m28_lucas_run(const nd_m28_batch *B, int k)
{
    nd_v8 N[ND_M28_MAXK], N2[ND_M28_MAXK], ONE[ND_M28_MAXK], TWO[ND_M28_MAXK], U[ND_M28_MAXK];
    nd_v8 V[ND_M28_MAXK], T[ND_M28_MAXK], S[ND_M28_MAXK], M[ND_M28_MAXK], PP[ND_M28_MAXK];
    const nd_v8 ninv = v8_load(B->ninv), SS = v8_load(B->s), all = v8_set1(~(uint64_t)0);
    nd_v8 set;
    unsigned pass;
    int b, j;
    nd_m28_load(N, B->n, k);
    nd_m28_load(PP, B->pp, k);
    nd_m28_one(ONE, B, N, k);
    for (j = 0; j < k; j++)
        TWO[j] = ONE[j];
    nd_m28_double(TWO, N, all, k);                 /* fully reduced 2 */
    nd_m28_add(N2, N, N, k);
    for (j = 0; j < k; j++) {
        U[j] = TWO[j];                             /* (W_0, W_1) = (2, P') */
        V[j] = PP[j];
    }
    for (b = B->top; b >= 0; b--) {
        /* bit 1: (u, v) <- (u v - P', v**2 - 2);  bit 0: (u, v) <- (u**2 - 2, u v - P') */
        set = nd_m28_exponent_bit(B, b);
        nd_m28_mul(T, U, V, N, ninv, M, k);
        nd_m28_subm(T, T, PP, N2, k);
        for (j = 0; j < k; j++)
            S[j] = v8_blend(U[j], V[j], set);
        nd_m28_sqr(S, S, N, ninv, M, k);
        nd_m28_subm(S, S, TWO, N2, k);
        for (j = 0; j < k; j++) {
            U[j] = v8_blend(S[j], T[j], set);
            V[j] = v8_blend(T[j], S[j], set);
        }
    }
    nd_m28_canon(U, U, N, k);
    nd_m28_canon(V, V, N, k);
    pass = nd_m28_equal(U, V, k);                  /* U_d = 0 */
    nd_m28_add(S, U, V, k);                        /* V_d = 0: u + v is 0 or n */
    pass |= nd_m28_is_zero(S, k) | nd_m28_equal(S, N, k);
    nd_m28_mul(T, U, V, N, ninv, M, k);            /* W_d */
    nd_m28_subm(T, T, PP, N2, k);
    for (b = 1; b < B->maxs; b++) {
        unsigned live = v8_bits(v8_gt(SS, v8_set1((uint64_t)b)));
        nd_m28_canon(S, T, N, k);
        pass |= live & nd_m28_is_zero(S, k);
        nd_m28_sqr(T, T, N, ninv, M, k);
        nd_m28_subm(T, T, TWO, N2, k);
    }
    return pass;
}

/* (Constant-k instances with unrolled loops, as in nd_mont52.h, measured 5-20% slower than
 * this loop: 352 bits 8.9 vs 8.4 us, 512 bits 28 vs 23 us per number; the unrolled code no
 * longer fits the decoded-instruction cache.) */
ND_M28_TARGET static unsigned nd_m28_run_any(const nd_m28_batch *B, int lucas)
{
    return lucas ? nd_m28_lucas_run(B, B->k) : nd_m28_sprp2_run(B, B->k);
}

/* 28-bit transposed limbs of up to eight numbers (lanes >= count repeat lane 0). */
static inline void nd_m28_transpose(uint64_t *t, const uint64_t *w, int stride, int nl, int count, int k)
{
    int lane, j;
    for (lane = 0; lane < 8; lane++) {
        const uint64_t *v = w + (size_t)(lane < count ? lane : 0) * stride;
        for (j = 0; j < k; j++) {
            int q = 28 * j, word = q >> 6, off = q & 63;
            uint64_t lo = word < nl ? v[word] >> off : 0;
            uint64_t hi = (off > 36 && word + 1 < nl) ? v[word + 1] << (64 - off) : 0;
            t[j * 8 + lane] = (lo | hi) & ND_MASK28;
        }
    }
}

/* Up to eight odd numbers >= 3 of at most ND_M28_MAXBITS bits; number `lane` is
 * w[lane*stride .. lane*stride + nl).  lucas = 0: the base-2 strong probable-prime test;
 * lucas = 1: the strong Lucas-Selfridge test with P' in Montgomery form (P' R mod n, fully
 * reduced, same layout as w) in pp, R = 2**(28k), k = (bits + 29) / 28 for the batch's largest
 * number.  out[lane] = 1 (probable prime) or 0 (composite). */
static void nd_m28_test_batch(const uint64_t *w, const uint64_t *pp, int stride, int nl, int count,
                              int lucas, uint8_t *out)
{
    nd_m28_batch B;
    uint64_t e[(ND_M28_MAXBITS + 63) / 64 + 1];
    int bits[8], lane, j, k, maxbits = 0, nw;
    unsigned pass;
    for (lane = 0; lane < 8; lane++) {
        const uint64_t *v = w + (size_t)(lane < count ? lane : 0) * stride;
        bits[lane] = nd_m28_bitlen(v, nl);
        if (bits[lane] > maxbits)
            maxbits = bits[lane];
    }
    k = (maxbits + 2 + 27) / 28;                   /* R = 2**(28k) >= 4 * 2**bits > 4n */
    nw = (maxbits + 64) / 64;                      /* room for n + 1 */
    B.k = k;
    B.top = -1;
    B.maxs = 0;
    B.maxd = 0;
    memset(B.te, 0, sizeof(uint64_t) * 8 * (size_t)nw);
    for (lane = 0; lane < 8; lane++) {
        const uint64_t *v = w + (size_t)(lane < count ? lane : 0) * stride;
        uint64_t x, n0 = v[0];
        int s = 0, p, top;
        x = n0;                                    /* 1/n mod 2**64 by Newton (3 -> 96 bits) */
        for (j = 0; j < 5; j++)
            x *= 2 - n0 * x;
        B.ninv[lane] = (0 - x) & ND_MASK28;
        for (j = 0; j < nw; j++)
            e[j] = j < nl ? v[j] : 0;
        if (!lucas) {
            e[0] -= 1;                             /* e = n - 1 = d 2**s (n odd: no borrow) */
            for (j = 0; j < nw && e[j] == 0; j++)
                s += 64;
            s += __builtin_ctzll(e[j]);            /* e != 0 as n >= 3 */
        } else {
            for (j = 0; j < nw && ++e[j] == 0; j++)  /* n + 1 */
                ;
            for (j = 0; j < nw && e[j] == 0; j++)
                s += 64;
            s += __builtin_ctzll(e[j]);
            p = s + 1;                             /* e = m = (n + 1) >> (s + 1) */
            for (j = 0; j < nw; j++) {
                int src = j + p / 64, off = p % 64;
                uint64_t lo = src < nw ? e[src] >> off : 0;
                uint64_t hi = (off && src + 1 < nw) ? e[src + 1] << (64 - off) : 0;
                e[j] = lo | hi;
            }
        }
        top = nd_m28_bitlen(e, nw) - 1;            /* -1 for m = 0 */
        for (j = 0; j < nw; j++)
            B.te[j * 8 + lane] = e[j];
        B.s[lane] = (uint64_t)s;
        if (s > B.maxs)
            B.maxs = s;
        if (top > B.top)
            B.top = top;
        p = bits[lane] - 1;                        /* 2**(bits-1) < n: the start of R mod n */
        B.dbl[lane] = (uint64_t)(28 * k - p);
        if ((int)B.dbl[lane] > B.maxd)
            B.maxd = (int)B.dbl[lane];
    }
    nd_m28_transpose(B.n, w, stride, nl, count, k);
    if (lucas)
        nd_m28_transpose(B.pp, pp, stride, nl, count, k);
    memset(B.start, 0, sizeof(uint64_t) * 8 * (size_t)k);
    for (lane = 0; lane < 8; lane++) {
        int p = bits[lane] - 1;
        B.start[(p / 28) * 8 + lane] = (uint64_t)1 << (p % 28);
    }
    pass = nd_m28_run_any(&B, lucas);
    for (lane = 0; lane < count; lane++)
        out[lane] = (uint8_t)((pass >> lane) & 1);
}

#else  /* no x86-64 GCC/Clang: the caller uses the portable route */
static int nd_m28_available(void) { return 0; }
__attribute__((unused)) static void nd_m28_test_batch(const uint64_t *w, const uint64_t *pp, int stride, int nl,
                              int count, int lucas, uint8_t *out)
{
    (void)w; (void)pp; (void)stride; (void)nl; (void)count; (void)lucas; (void)out;
}
#endif
#endif
