/* Eight-lane Montgomery arithmetic in radix 2**52 (AVX-512 IFMA): both halves of BPSW -- the
 * base-2 strong probable-prime test and the strong Lucas-Selfridge test -- for many big odd
 * numbers at once.
 *
 * Why: above 2**64 every exact count and every random prime ends in modular exponentiations of
 * sieve survivors, and GMP's mpz_powm (scalar 64-bit limbs) is then the whole cost.  The
 * VPMADD52LUQ / VPMADD52HUQ instructions multiply eight pairs of 52-bit numbers per instruction
 * and add the low / high 52 bits of each 104-bit product to 64-bit accumulators, so eight
 * *different* moduli can be processed in lockstep, one per 64-bit lane.
 *
 * Layer by layer:
 *   - A number of up to 52*k bits is k limbs of 52 bits; limb j of the eight lanes is one
 *     __m512i (the "transposed" layout T[j*8 + lane]).  k is chosen per batch so that
 *     n < R / 4 with R = 2**(52k): then everything below 4n fits k limbs.
 *   - nd_m52_mul / nd_m52_sqr: Montgomery product a*b/R mod n in product-scanning form (the
 *     "finely integrated product scanning" order: column c collects every a_i*b_j and every
 *     m_i*n_j with i + j = c; for c < k the column then fixes m_c = lo52(t_c * (-1/n)) so that
 *     column c becomes divisible by 2**52).  Low halves of products land in the current column,
 *     high halves in the next; two accumulator pairs per column hide the four-cycle IFMA
 *     latency, and the carry from the previous column is added last so that a column's products
 *     need not wait for it.  Accumulators are 64 bits wide and a column receives at most 4k + 1
 *     terms below 2**52, so they cannot overflow for k < 1000.  Squaring computes each cross
 *     product a_i*a_j (i < j) once and doubles the sum: 3k**2 instead of 4k**2 multiply-adds.
 *   - Values are kept "almost reduced", below 2n: with R > 4n, inputs below 2n give a product
 *     below 2n, so no conditional subtraction follows a product; comparisons check both
 *     representatives (x and x + n), and nd_m52_canon reduces fully where needed.
 *   - 2**d mod n without any multiplication by the base: left to right over the bits of d,
 *     square, and where the bit is set double (shift by one, subtract 2n if that does not
 *     borrow).  Each lane has its own exponent; lanes with shorter exponents square R mod n
 *     (= 1) until their top bit arrives.
 *   - R mod n (Montgomery's 1) from 2**(bits(n) - 1) < n doubled 52k - bits(n) + 1 times.
 *   - The strong test walks all bits of n - 1 = d * 2**s: at bit position b = s the lane holds
 *     2**d (pass if it is 1 or n - 1), at 1 <= b < s it holds 2**(d*2**(s-b)) (pass if it is
 *     n - 1).
 *   - The strong Lucas test: see nd_m52_lucas_run (the Q = 1 ladder of _u64.pxd, two products
 *     per bit; P' R mod n comes from the caller, nextdigit._bpsw).
 *   - nd_m52_run is always inlined into instances with a constant k = 1..20, whose limb loops
 *     GCC then unrolls completely (measured 1.5-1.7x faster); other k use the generic loop.
 *     Above 20 limbs (1040 bits) that loop runs at half the unrolled speed per multiply-add
 *     (Zen 5: 11x GMP's powmod at 1024 bits, 5.1x at 1040, 6.6x at 2048 and 3072).  A wide
 *     schedule for it (blocks of four terms per column, four accumulator pairs: eight IFMA
 *     chains in flight instead of four) measured the same speed (2048 bits: 332 us per number
 *     either way, interleaved), so the IFMA latency is not what limits it; not kept.
 *
 * A lane that fails either test is composite (no false "composite"); passing both is BPSW.
 *
 * Built with GCC/Clang function-level target attributes: the rest of the extension is compiled
 * for baseline x86-64, and nd_m52_available() checks the CPU (and the OS's AVX-512 state) at
 * run time.  Without IFMA the caller takes the AVX2 or the portable route (nd_mont28.h, nd_mont64.h).
 */
#ifndef ND_MONT52_H
#define ND_MONT52_H

#include <stdint.h>
#include <string.h>

#define ND_M52_MAXK 80                     /* numbers up to 52*80 - 2 = 4158 bits */
#define ND_M52_MAXBITS (52 * ND_M52_MAXK - 2)

#if defined(__x86_64__) && defined(__GNUC__) && !defined(ND_M52_DISABLE)
#include <immintrin.h>

static int nd_m52_available(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512ifma");
}

#define ND_M52_TARGET __attribute__((target("avx512f,avx512ifma")))
#define ND_M52_INLINE ND_M52_TARGET __attribute__((always_inline)) static inline
#define ND_MASK52 ((uint64_t)0xFFFFFFFFFFFFFull)
/* full unrolling of the column loops once k is a constant: measured 1.5-1.7x faster
 * (352 bits 4.42 -> 2.63 us, 1013 bits 68.7 -> 46.6 us per number) */
#define ND_M52_UNROLL _Pragma("GCC unroll 80")
#define ND_MADDLO _mm512_madd52lo_epu64
#define ND_MADDHI _mm512_madd52hi_epu64

/* Reduction terms and the end of column c of a Montgomery product (shared by mul and sqr):
 * adds m_i * n_{c-i} for the m_i already known, fixes m_c (c < k) or emits r_{c-k} (c >= k),
 * and returns the carry-in of column c + 1.  lo/hi hold the column's product terms, cin the
 * carry from column c - 1. */
ND_M52_INLINE __m512i nd_m52_column_end(__m512i lo0, __m512i lo1, __m512i hi0, __m512i hi1, __m512i cin, int c,
                                         __m512i *r, const __m512i *n, __m512i ninv, __m512i *m, int k)
{
    const __m512i zero = _mm512_setzero_si512(), mask = _mm512_set1_epi64((long long)ND_MASK52);
    int i, ilo = c < k ? 0 : c - k + 1, ihi = c < k ? c - 1 : k - 1;
    __m512i acc;
    ND_M52_UNROLL
    for (i = ilo; i + 1 <= ihi; i += 2) {
        lo0 = ND_MADDLO(lo0, m[i], n[c - i]);
        hi0 = ND_MADDHI(hi0, m[i], n[c - i]);
        lo1 = ND_MADDLO(lo1, m[i + 1], n[c - i - 1]);
        hi1 = ND_MADDHI(hi1, m[i + 1], n[c - i - 1]);
    }
    if (i == ihi) {
        lo0 = ND_MADDLO(lo0, m[i], n[c - i]);
        hi0 = ND_MADDHI(hi0, m[i], n[c - i]);
    }
    acc = _mm512_add_epi64(_mm512_add_epi64(lo0, lo1), cin);   /* the carry-in last: it is the */
    if (c < k) {                                               /* column's latest input        */
        m[c] = ND_MADDLO(zero, acc, ninv);
        acc = ND_MADDLO(acc, m[c], n[0]);            /* now acc = 0 mod 2**52 */
        hi0 = ND_MADDHI(hi0, m[c], n[0]);
    } else {
        r[c - k] = _mm512_and_si512(acc, mask);
    }
    return _mm512_add_epi64(_mm512_add_epi64(hi0, hi1), _mm512_srli_epi64(acc, 52));
}

/* r = a*b/R mod n ("almost" reduced: inputs below 2n give an output below 2n, as R > 4n).
 * ninv = -1/n mod 2**52 per lane; m is scratch of k vectors; r may alias a or b. */
ND_M52_INLINE void nd_m52_mul(__m512i *r, const __m512i *a, const __m512i *b,
                              const __m512i *n, __m512i ninv, __m512i *m, int k)
{
    const __m512i zero = _mm512_setzero_si512();
    __m512i out[ND_M52_MAXK], cin = zero, lo0, lo1, hi0, hi1;
    int c, i, ilo, ihi;
    ND_M52_UNROLL
    for (c = 0; c < 2 * k - 1; c++) {
        ilo = c < k ? 0 : c - k + 1;
        ihi = c < k ? c : k - 1;
        lo0 = lo1 = hi0 = hi1 = zero;
        ND_M52_UNROLL
        for (i = ilo; i + 1 <= ihi; i += 2) {
            lo0 = ND_MADDLO(lo0, a[i], b[c - i]);
            hi0 = ND_MADDHI(hi0, a[i], b[c - i]);
            lo1 = ND_MADDLO(lo1, a[i + 1], b[c - i - 1]);
            hi1 = ND_MADDHI(hi1, a[i + 1], b[c - i - 1]);
        }
        if (i == ihi) {
            lo0 = ND_MADDLO(lo0, a[i], b[c - i]);
            hi0 = ND_MADDHI(hi0, a[i], b[c - i]);
        }
        cin = nd_m52_column_end(lo0, lo1, hi0, hi1, cin, c, out, n, ninv, m, k);
    }
    out[k - 1] = cin;      /* column 2k - 1: below 2**52 because the value is below 2n < R */
    ND_M52_UNROLL
    for (i = 0; i < k; i++)
        r[i] = out[i];
}

/* r = a*a/R mod n (almost reduced), each cross product a_i*a_j (i < j) computed once and
 * doubled: about 3k**2 instead of 4k**2 multiply-adds. */
ND_M52_INLINE void nd_m52_sqr(__m512i *r, const __m512i *a, const __m512i *n, __m512i ninv,
                              __m512i *m, int k)
{
    const __m512i zero = _mm512_setzero_si512();
    __m512i out[ND_M52_MAXK], cin = zero, pl0, pl1, ph0, ph1, lo, hi;
    int c, i, ilo, ihi;
    ND_M52_UNROLL
    for (c = 0; c < 2 * k - 1; c++) {
        ilo = c < k ? 0 : c - k + 1;
        ihi = (c - 1) >> 1;                        /* pairs i < c - i */
        pl0 = pl1 = ph0 = ph1 = zero;
        ND_M52_UNROLL
        for (i = ilo; i + 1 <= ihi; i += 2) {
            pl0 = ND_MADDLO(pl0, a[i], a[c - i]);
            ph0 = ND_MADDHI(ph0, a[i], a[c - i]);
            pl1 = ND_MADDLO(pl1, a[i + 1], a[c - i - 1]);
            ph1 = ND_MADDHI(ph1, a[i + 1], a[c - i - 1]);
        }
        if (i == ihi) {
            pl0 = ND_MADDLO(pl0, a[i], a[c - i]);
            ph0 = ND_MADDHI(ph0, a[i], a[c - i]);
        }
        lo = _mm512_slli_epi64(_mm512_add_epi64(pl0, pl1), 1);
        hi = _mm512_slli_epi64(_mm512_add_epi64(ph0, ph1), 1);
        if (!(c & 1)) {
            lo = ND_MADDLO(lo, a[c >> 1], a[c >> 1]);
            hi = ND_MADDHI(hi, a[c >> 1], a[c >> 1]);
        }
        cin = nd_m52_column_end(lo, zero, hi, zero, cin, c, out, n, ninv, m, k);
    }
    out[k - 1] = cin;
    ND_M52_UNROLL
    for (i = 0; i < k; i++)
        r[i] = out[i];
}

/* x = 2x mod n in the lanes of `lanes`, almost reduced: x < 2n in, x < 2n out
 * (2x < 4n < R fits; 2n is subtracted where that does not borrow).  n2 = 2n. */
ND_M52_INLINE void nd_m52_double(__m512i *x, const __m512i *n2, __mmask8 lanes, int k)
{
    const __m512i zero = _mm512_setzero_si512(), mask = _mm512_set1_epi64((long long)ND_MASK52);
    __m512i y[ND_M52_MAXK], d[ND_M52_MAXK];
    __m512i carry = zero, borrow = zero, t;
    int j;
    for (j = 0; j < k; j++) {
        t = _mm512_add_epi64(_mm512_slli_epi64(x[j], 1), carry);
        carry = _mm512_srli_epi64(t, 52);
        y[j] = _mm512_and_si512(t, mask);
        t = _mm512_sub_epi64(_mm512_sub_epi64(y[j], n2[j]), borrow);
        borrow = _mm512_srli_epi64(t, 63);
        d[j] = _mm512_and_si512(t, mask);
    }
    __mmask8 ge = _mm512_mask_cmpeq_epi64_mask(lanes, borrow, zero);
    for (j = 0; j < k; j++)
        x[j] = _mm512_mask_blend_epi64(ge, _mm512_mask_blend_epi64(lanes, x[j], y[j]), d[j]);
}

/* z = x + y (no reduction; the caller knows the sum fits k limbs). */
ND_M52_INLINE void nd_m52_add(__m512i *z, const __m512i *x, const __m512i *y, int k)
{
    const __m512i mask = _mm512_set1_epi64((long long)ND_MASK52);
    __m512i carry = _mm512_setzero_si512(), t;
    int j;
    for (j = 0; j < k; j++) {
        t = _mm512_add_epi64(_mm512_add_epi64(x[j], y[j]), carry);
        carry = _mm512_srli_epi64(t, 52);
        z[j] = _mm512_and_si512(t, mask);
    }
}

/* z = x - y for x >= y lane-wise. */
ND_M52_INLINE void nd_m52_sub(__m512i *z, const __m512i *x, const __m512i *y, int k)
{
    const __m512i mask = _mm512_set1_epi64((long long)ND_MASK52);
    __m512i borrow = _mm512_setzero_si512(), t;
    int j;
    for (j = 0; j < k; j++) {
        t = _mm512_sub_epi64(_mm512_sub_epi64(x[j], y[j]), borrow);
        borrow = _mm512_srli_epi64(t, 63);
        z[j] = _mm512_and_si512(t, mask);
    }
}

ND_M52_INLINE __mmask8 nd_m52_equal(const __m512i *x, const __m512i *y, int k)
{
    __m512i diff = _mm512_setzero_si512();
    int j;
    for (j = 0; j < k; j++)
        diff = _mm512_or_si512(diff, _mm512_xor_si512(x[j], y[j]));
    return _mm512_cmpeq_epi64_mask(diff, _mm512_setzero_si512());
}

static inline int nd_m52_bitlen(const uint64_t *w, int nl)
{
    while (nl > 0 && w[nl - 1] == 0)
        nl--;
    return nl == 0 ? 0 : 64 * (nl - 1) + 64 - __builtin_clzll(w[nl - 1]);
}

/* One batch, transposed: n (k limbs), ninv, the exponent e (nw words), s, the start of R mod n
 * and the loop bounds; for the Lucas test also P' (Montgomery form). */
typedef struct {
    __m512i n[ND_M52_MAXK], start[ND_M52_MAXK], pp[ND_M52_MAXK], ninv, s, dbl;
    uint64_t te[(ND_M52_MAXBITS + 63) / 64 * 8];
    int k, top, maxs, maxd;
} nd_m52_batch;

/* Montgomery's 1 = R mod n: 2**(bits-1) < n doubled dbl = 52k - bits + 1 times modulo n
 * (passing n as the "2n" of nd_m52_double keeps it fully reduced). */
ND_M52_INLINE void nd_m52_one(__m512i *one, const nd_m52_batch *B, int k)
{
    int b, j;
    for (j = 0; j < k; j++)
        one[j] = B->start[j];
    for (b = 0; b < B->maxd; b++)
        nd_m52_double(one, B->n, _mm512_cmpgt_epu64_mask(B->dbl, _mm512_set1_epi64(b)), k);
}

ND_M52_INLINE __mmask8 nd_m52_exponent_bit(const nd_m52_batch *B, int b)
{
    __m512i ew = _mm512_loadu_si512((const void *)(B->te + 8 * (b >> 6)));
    return _mm512_test_epi64_mask(ew, _mm512_set1_epi64((long long)((uint64_t)1 << (b & 63))));
}

/* The base-2 strong test (e = n - 1 = d * 2**s); returns the mask of lanes that pass. */
ND_M52_INLINE __mmask8 nd_m52_sprp2_run(const nd_m52_batch *B, int k)
{
    __m512i N2[ND_M52_MAXK], X[ND_M52_MAXK], ONE[ND_M52_MAXK], ONE2[ND_M52_MAXK];
    __m512i NM1[ND_M52_MAXK], NM12[ND_M52_MAXK], M[ND_M52_MAXK];
    const __m512i *N = B->n;
    __mmask8 pass = 0;
    int b, j;
    nd_m52_one(ONE, B, k);
    nd_m52_add(N2, N, N, k);
    nd_m52_add(ONE2, ONE, N, k);                   /* the other representative of 1 below 2n */
    nd_m52_sub(NM1, N, ONE, k);                    /* -1 */
    nd_m52_add(NM12, NM1, N, k);
    for (j = 0; j < k; j++)
        X[j] = ONE[j];
    for (b = B->top; b >= 0; b--) {
        nd_m52_sqr(X, X, N, B->ninv, M, k);
        __mmask8 set = nd_m52_exponent_bit(B, b);
        if (set)
            nd_m52_double(X, N2, set, k);
        if (b <= B->maxs) {
            const __m512i bb = _mm512_set1_epi64(b);
            __mmask8 at_s = _mm512_cmpeq_epi64_mask(B->s, bb);
            __mmask8 upto_s = at_s | _mm512_cmpgt_epu64_mask(B->s, bb);
            if (at_s)
                pass |= at_s & (nd_m52_equal(X, ONE, k) | nd_m52_equal(X, ONE2, k));
            if (b >= 1)
                pass |= upto_s & (nd_m52_equal(X, NM1, k) | nd_m52_equal(X, NM12, k));
        }
    }
    return pass;
}

/* z = x - c mod n for x, c below 2n (almost reduced in, almost reduced out). */
ND_M52_INLINE void nd_m52_subm(__m512i *z, const __m512i *x, const __m512i *c, const __m512i *n2, int k)
{
    const __m512i mask = _mm512_set1_epi64((long long)ND_MASK52);
    __m512i borrow = _mm512_setzero_si512(), carry = _mm512_setzero_si512(), t;
    int j;
    for (j = 0; j < k; j++) {
        t = _mm512_sub_epi64(_mm512_sub_epi64(x[j], c[j]), borrow);
        borrow = _mm512_srli_epi64(t, 63);
        z[j] = _mm512_and_si512(t, mask);
    }
    __mmask8 neg = _mm512_test_epi64_mask(borrow, borrow);
    if (neg)
        for (j = 0; j < k; j++) {
            t = _mm512_add_epi64(_mm512_add_epi64(z[j], n2[j]), carry);
            carry = _mm512_srli_epi64(t, 52);
            z[j] = _mm512_mask_blend_epi64(neg, z[j], _mm512_and_si512(t, mask));
        }
}

/* x mod n, fully reduced, for x below 2n. */
ND_M52_INLINE void nd_m52_canon(__m512i *z, const __m512i *x, const __m512i *n, int k)
{
    const __m512i zero = _mm512_setzero_si512(), mask = _mm512_set1_epi64((long long)ND_MASK52);
    __m512i d[ND_M52_MAXK], borrow = zero, t;
    int j;
    for (j = 0; j < k; j++) {
        t = _mm512_sub_epi64(_mm512_sub_epi64(x[j], n[j]), borrow);
        borrow = _mm512_srli_epi64(t, 63);
        d[j] = _mm512_and_si512(t, mask);
    }
    __mmask8 ge = _mm512_cmpeq_epi64_mask(borrow, zero);
    for (j = 0; j < k; j++)
        z[j] = _mm512_mask_blend_epi64(ge, x[j], d[j]);
}

ND_M52_INLINE __mmask8 nd_m52_is_zero(const __m512i *x, int k)
{
    __m512i acc = _mm512_setzero_si512();
    int j;
    for (j = 0; j < k; j++)
        acc = _mm512_or_si512(acc, x[j]);
    return _mm512_cmpeq_epi64_mask(acc, _mm512_setzero_si512());
}

/* The strong Lucas test with Selfridge's parameters through the Q = 1 sequence
 * W_k = V_2k / Q**k with parameter P' (the u64 kernel's docstring in _u64.pxd derives it):
 * with n + 1 = d * 2**s, d = 2m + 1, a ladder over the bits of m = e gives (W_m, W_m+1); then
 * U_d = 0 <=> W_m+1 = W_m, V_d = 0 <=> W_m+1 = -W_m, and V_{d 2**r} = 0 (1 <= r < s) <=>
 * W_{d 2**(r-1)} = 0 with W_d = W_m W_m+1 - P' and W_2j = W_j**2 - 2. */
ND_M52_INLINE __mmask8 nd_m52_lucas_run(const nd_m52_batch *B, int k)
{
    __m512i N2[ND_M52_MAXK], ONE[ND_M52_MAXK], TWO[ND_M52_MAXK], U[ND_M52_MAXK], V[ND_M52_MAXK];
    __m512i T[ND_M52_MAXK], S[ND_M52_MAXK], M[ND_M52_MAXK];
    const __m512i *N = B->n, *PP = B->pp;
    __mmask8 pass, set;
    int b, j;
    nd_m52_one(ONE, B, k);
    for (j = 0; j < k; j++)
        TWO[j] = ONE[j];
    nd_m52_double(TWO, N, 0xFF, k);               /* fully reduced 2 */
    nd_m52_add(N2, N, N, k);
    for (j = 0; j < k; j++) {
        U[j] = TWO[j];                             /* (W_0, W_1) = (2, P') */
        V[j] = PP[j];
    }
    for (b = B->top; b >= 0; b--) {
        /* bit 1: (u, v) <- (u v - P', v**2 - 2);  bit 0: (u, v) <- (u**2 - 2, u v - P') */
        set = nd_m52_exponent_bit(B, b);
        nd_m52_mul(T, U, V, N, B->ninv, M, k);
        nd_m52_subm(T, T, PP, N2, k);
        for (j = 0; j < k; j++)
            S[j] = _mm512_mask_blend_epi64(set, U[j], V[j]);
        nd_m52_sqr(S, S, N, B->ninv, M, k);
        nd_m52_subm(S, S, TWO, N2, k);
        for (j = 0; j < k; j++) {
            U[j] = _mm512_mask_blend_epi64(set, S[j], T[j]);
            V[j] = _mm512_mask_blend_epi64(set, T[j], S[j]);
        }
    }
    nd_m52_canon(U, U, N, k);
    nd_m52_canon(V, V, N, k);
    pass = nd_m52_equal(U, V, k);                  /* U_d = 0 */
    nd_m52_add(S, U, V, k);                        /* V_d = 0: u + v is 0 or n */
    pass |= nd_m52_is_zero(S, k) | nd_m52_equal(S, N, k);
    nd_m52_mul(T, U, V, N, B->ninv, M, k);        /* W_d */
    nd_m52_subm(T, T, PP, N2, k);
    for (b = 1; b < B->maxs; b++) {
        __mmask8 live = _mm512_cmpgt_epu64_mask(B->s, _mm512_set1_epi64(b));
        nd_m52_canon(S, T, N, k);
        pass |= live & nd_m52_is_zero(S, k);
        nd_m52_sqr(T, T, N, B->ninv, M, k);
        nd_m52_subm(T, T, TWO, N2, k);
    }
    return pass;
}

#define ND_M52_INSTANCE(K) \
    ND_M52_TARGET static __mmask8 nd_m52_run_##K(const nd_m52_batch *B, int lucas) \
    { return lucas ? nd_m52_lucas_run(B, K) : nd_m52_sprp2_run(B, K); }
ND_M52_INSTANCE(1) ND_M52_INSTANCE(2) ND_M52_INSTANCE(3) ND_M52_INSTANCE(4)
ND_M52_INSTANCE(5) ND_M52_INSTANCE(6) ND_M52_INSTANCE(7) ND_M52_INSTANCE(8)
ND_M52_INSTANCE(9) ND_M52_INSTANCE(10) ND_M52_INSTANCE(11) ND_M52_INSTANCE(12)
ND_M52_INSTANCE(13) ND_M52_INSTANCE(14) ND_M52_INSTANCE(15) ND_M52_INSTANCE(16)
ND_M52_INSTANCE(17) ND_M52_INSTANCE(18) ND_M52_INSTANCE(19) ND_M52_INSTANCE(20)
/* (constant-k instances above 20 measured no faster than the generic loop: GCC stops unrolling) */
ND_M52_TARGET static __mmask8 nd_m52_run_any(const nd_m52_batch *B, int lucas)
{
    return lucas ? nd_m52_lucas_run(B, B->k) : nd_m52_sprp2_run(B, B->k);
}

/* 52-bit transposed limbs of up to eight numbers (lanes >= count repeat lane 0). */
static inline void nd_m52_transpose(uint64_t *t, const uint64_t *w, int stride, int nl, int count, int k)
{
    int lane, j;
    for (lane = 0; lane < 8; lane++) {
        const uint64_t *v = w + (size_t)(lane < count ? lane : 0) * stride;
        for (j = 0; j < k; j++) {
            int q = 52 * j, word = q >> 6, off = q & 63;
            uint64_t lo = word < nl ? v[word] >> off : 0;
            uint64_t hi = (off > 12 && word + 1 < nl) ? v[word + 1] << (64 - off) : 0;
            t[j * 8 + lane] = (lo | hi) & ND_MASK52;
        }
    }
}

/* Up to eight odd numbers >= 3 of at most ND_M52_MAXBITS bits; number `lane` is
 * w[lane*stride .. lane*stride + nl).  lucas = 0: the base-2 strong probable-prime test;
 * lucas = 1: the strong Lucas-Selfridge test with P' in Montgomery form (P' R mod n, fully
 * reduced, same layout as w) in pp.  out[lane] = 1 (probable prime) or 0 (composite). */
ND_M52_TARGET static void nd_m52_test_batch(const uint64_t *w, const uint64_t *pp, int stride, int nl,
                                            int count, int lucas, uint8_t *out)
{
    nd_m52_batch B;
    uint64_t tn[ND_M52_MAXK * 8], e[(ND_M52_MAXBITS + 63) / 64 + 1];
    uint64_t ninv[8], sl[8], dbl[8];
    int bits[8], lane, j, k, maxbits = 0, nw;
    __mmask8 pass;
    for (lane = 0; lane < 8; lane++) {
        const uint64_t *v = w + (size_t)(lane < count ? lane : 0) * stride;
        bits[lane] = nd_m52_bitlen(v, nl);
        if (bits[lane] > maxbits)
            maxbits = bits[lane];
    }
    k = (maxbits + 2 + 51) / 52;                   /* R = 2**(52k) >= 4 * 2**bits > 4n */
    nw = (maxbits + 64) / 64;                      /* room for n + 1 */
    B.k = k;
    B.top = -1;
    B.maxs = 0;
    B.maxd = 0;
    memset(tn, 0, sizeof(uint64_t) * 8 * (size_t)k);
    memset(B.te, 0, sizeof(uint64_t) * 8 * (size_t)nw);
    for (lane = 0; lane < 8; lane++) {
        const uint64_t *v = w + (size_t)(lane < count ? lane : 0) * stride;
        uint64_t x, n0 = v[0];
        int s = 0, p, top;
        x = n0;                                    /* 1/n mod 2**64 by Newton (3 -> 96 bits) */
        for (j = 0; j < 5; j++)
            x *= 2 - n0 * x;
        ninv[lane] = (0 - x) & ND_MASK52;
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
        top = nd_m52_bitlen(e, nw) - 1;            /* -1 for m = 0 */
        for (j = 0; j < nw; j++)
            B.te[j * 8 + lane] = e[j];
        sl[lane] = (uint64_t)s;
        if (s > B.maxs)
            B.maxs = s;
        if (top > B.top)
            B.top = top;
        p = bits[lane] - 1;                        /* 2**(bits-1) < n: the start of R mod n */
        dbl[lane] = (uint64_t)(52 * k - p);
        if ((int)dbl[lane] > B.maxd)
            B.maxd = (int)dbl[lane];
    }
    nd_m52_transpose(tn, w, stride, nl, count, k);
    for (j = 0; j < k; j++)
        B.n[j] = _mm512_loadu_si512((const void *)(tn + 8 * j));
    if (lucas) {
        nd_m52_transpose(tn, pp, stride, nl, count, k);
        for (j = 0; j < k; j++)
            B.pp[j] = _mm512_loadu_si512((const void *)(tn + 8 * j));
    }
    memset(tn, 0, sizeof(uint64_t) * 8 * (size_t)k);
    for (lane = 0; lane < 8; lane++) {
        int p = bits[lane] - 1;
        tn[(p / 52) * 8 + lane] = (uint64_t)1 << (p % 52);
    }
    for (j = 0; j < k; j++)
        B.start[j] = _mm512_loadu_si512((const void *)(tn + 8 * j));
    B.ninv = _mm512_loadu_si512((const void *)ninv);
    B.s = _mm512_loadu_si512((const void *)sl);
    B.dbl = _mm512_loadu_si512((const void *)dbl);
    switch (k) {
    case 1: pass = nd_m52_run_1(&B, lucas); break;
    case 2: pass = nd_m52_run_2(&B, lucas); break;
    case 3: pass = nd_m52_run_3(&B, lucas); break;
    case 4: pass = nd_m52_run_4(&B, lucas); break;
    case 5: pass = nd_m52_run_5(&B, lucas); break;
    case 6: pass = nd_m52_run_6(&B, lucas); break;
    case 7: pass = nd_m52_run_7(&B, lucas); break;
    case 8: pass = nd_m52_run_8(&B, lucas); break;
    case 9: pass = nd_m52_run_9(&B, lucas); break;
    case 10: pass = nd_m52_run_10(&B, lucas); break;
    case 11: pass = nd_m52_run_11(&B, lucas); break;
    case 12: pass = nd_m52_run_12(&B, lucas); break;
    case 13: pass = nd_m52_run_13(&B, lucas); break;
    case 14: pass = nd_m52_run_14(&B, lucas); break;
    case 15: pass = nd_m52_run_15(&B, lucas); break;
    case 16: pass = nd_m52_run_16(&B, lucas); break;
    case 17: pass = nd_m52_run_17(&B, lucas); break;
    case 18: pass = nd_m52_run_18(&B, lucas); break;
    case 19: pass = nd_m52_run_19(&B, lucas); break;
    case 20: pass = nd_m52_run_20(&B, lucas); break;
    default: pass = nd_m52_run_any(&B, lucas); break;
    }
    for (lane = 0; lane < count; lane++)
        out[lane] = (uint8_t)((pass >> lane) & 1);
}

#else  /* no x86-64 GCC/Clang: the caller uses GMP */
static int nd_m52_available(void) { return 0; }
__attribute__((unused)) static void nd_m52_test_batch(const uint64_t *w, const uint64_t *pp, int stride, int nl,
                              int count, int lucas, uint8_t *out)
{
    (void)w; (void)pp; (void)stride; (void)nl; (void)count; (void)lucas; (void)out;
}
#endif
#endif
