/* Portable Montgomery arithmetic in radix 2**64 for big odd numbers: both halves of BPSW -- the
 * base-2 strong probable-prime test and the strong Lucas-Selfridge test -- in plain C (64-bit
 * limbs, unsigned __int128 products; no intrinsics, no assembly).  This is the route of CPUs
 * without AVX-512 IFMA or AVX2 (nd_mont52.h, nd_mont28.h) and of every ARM machine.
 *
 * Layer by layer:
 *   - A number of up to 64k bits is k limbs of 64 bits; R = 2**(64k), k = the batch's largest
 *     limb count.  A batch holds up to ND_M64_LANES numbers (the interface of the vector
 *     routes); here they are simply processed one after the other -- a wide out-of-order core
 *     already finds enough independent work inside one Montgomery product (measured: 1, 2, 4 or
 *     8 numbers interleaved ran at the same speed).
 *   - nd_m64_mont: the Montgomery product a*b/R mod n in product-scanning form with the
 *     reduction interleaved (the "finely integrated product scanning" order of nd_mont52.h):
 *     column c collects every a_i b_j and every m_i n_j with i + j = c in a three-word
 *     accumulator, then for c < k fixes m_c = lo(t_c) * (-1/n) so that column c becomes 0 mod
 *     2**64.  Each product costs mul, add, adc, adc (one store per column, not per product);
 *     the accumulator is written as one unsigned __int128 add and a compare, the form GCC
 *     compiles to exactly that (three other spellings measured 12-20% slower with GCC 12).
 *     Squaring adds each cross product a_i a_j (i < j) once and doubles the column: 1.5 k**2
 *     products instead of 2 k**2.
 *   - Values are "lazily reduced": any representative below R.  For a, b < R the product is
 *     (ab + mn)/R < R + n, so the only correction is "subtract n when the top carried": no
 *     comparison with n per product, and numbers of exactly 64k bits (a 512-bit random number)
 *     need no extra limb.  Values are brought to [0, n) only where they are compared
 *     (nd_m64_out: one reduction of x alone gives x/R mod n, at most n).
 *   - 2**d mod n without multiplications by the base: left to right over the bits of d, square,
 *     and where the bit is set double: 2x = c R + y is congruent to y + c rho, rho = R mod n
 *     (fully reduced), and a second carry is folded the same way (2 rho < R, so a third cannot
 *     occur).  Lanes with a shorter exponent square rho (Montgomery's 1) until their top bit.
 *   - The strong test and the Lucas ladder are those of nd_mont52.h (the same checks on the
 *     same sequences); the checks compare plain values x/R mod n.
 *   - The product is inlined into instances with a constant k = 1..ND_M64_UNROLLED, whose loops
 *     the compiler unrolls completely; larger k use the generic loops.
 *
 * A lane that fails either test is composite (no false "composite"); passing both is BPSW.
 * Measured speeds are in nextdigit/_bpsw.py.
 */
#ifndef ND_MONT64_H
#define ND_MONT64_H

#include <stdint.h>
#include <string.h>

#define ND_M64_LANES 8
#define ND_M64_MAXK 65                     /* numbers up to 64*65 = 4160 bits */
#define ND_M64_MAXBITS (64 * ND_M64_MAXK)

typedef unsigned __int128 nd_u128;

#define ND_M64_INLINE __attribute__((always_inline)) static inline
#define ND_K ND_M64_MAXK
#if defined(__clang__)
#define ND_M64_UNROLL _Pragma("unroll")
#elif defined(__GNUC__)
#define ND_M64_UNROLL _Pragma("GCC unroll 80")
#else
#define ND_M64_UNROLL
#endif

/* (s2:s1:s0) += x*y.  s2 never overflows: a column holds at most 2k + 2 products. */
#define ND_M64_ACC(s0, s1, s2, x, y) do {                                            \
        nd_u128 p_ = (nd_u128)(x) * (y);                                              \
        nd_u128 a_ = (((nd_u128)(s1) << 64) | (s0)) + p_;                             \
        (s2) += a_ < p_;                                                              \
        (s0) = (uint64_t)a_;                                                          \
        (s1) = (uint64_t)(a_ >> 64);                                                  \
    } while (0)

/* r = a*b/R mod n, below R (a, b < R), or a*a/R when sq (b unused); r may alias a or b.
 * ninv = -1/n mod 2**64. */
ND_M64_INLINE void nd_m64_mont(uint64_t *r, const uint64_t *a, const uint64_t *b, const uint64_t *n,
                               uint64_t ninv, int k, int sq)
{
    uint64_t m[ND_K], out[ND_K], c0 = 0, c1 = 0, mask;
    int c, i;
    ND_M64_UNROLL
    for (c = 0; c < 2 * k - 1; c++) {
        uint64_t s0 = 0, s1 = 0, s2 = 0;
        int ilo = c < k ? 0 : c - k + 1, ihi = c < k ? c : k - 1;
        if (sq) {
            ND_M64_UNROLL
            for (i = ilo; i < c - i; i++)
                ND_M64_ACC(s0, s1, s2, a[i], a[c - i]);
            s2 = (s2 << 1) | (s1 >> 63);
            s1 = (s1 << 1) | (s0 >> 63);
            s0 <<= 1;
            if (!(c & 1))
                ND_M64_ACC(s0, s1, s2, a[c >> 1], a[c >> 1]);
        } else {
            ND_M64_UNROLL
            for (i = ilo; i <= ihi; i++)
                ND_M64_ACC(s0, s1, s2, a[i], b[c - i]);
        }
        ND_M64_UNROLL
        for (i = ilo; i < (c < k ? c : k); i++)
            ND_M64_ACC(s0, s1, s2, m[i], n[c - i]);
        {                                          /* + the carry of column c - 1, last */
            nd_u128 t = (((nd_u128)s1 << 64) | s0) + (((nd_u128)c1 << 64) | c0);
            s2 += t < (((nd_u128)c1 << 64) | c0);
            s0 = (uint64_t)t;
            s1 = (uint64_t)(t >> 64);
        }
        if (c < k) {
            m[c] = s0 * ninv;
            ND_M64_ACC(s0, s1, s2, m[c], n[0]);    /* now s0 = 0 */
        } else {
            out[c - k] = s0;
        }
        c0 = s1;
        c1 = s2;
    }
    out[k - 1] = c0;
    /* (ab + mn)/R = c1 R + out < R + n: subtract n where the top carried (c1 = 1) */
    mask = (uint64_t)0 - c1;
    {
        uint64_t bw = 0;
        ND_M64_UNROLL
        for (i = 0; i < k; i++) {
            uint64_t x = out[i], y = n[i] & mask, d = x - y;
            r[i] = d - bw;
            bw = (x < y) | (d < bw);
        }
    }
}

/* z = x + (y & mask) over k words; returns the carry */
ND_M64_INLINE uint64_t nd_m64_addm(uint64_t *z, const uint64_t *x, const uint64_t *y, uint64_t mask, int k)
{
    uint64_t c = 0;
    int j;
    for (j = 0; j < k; j++) {
        nd_u128 s = (nd_u128)x[j] + (y[j] & mask) + c;
        z[j] = (uint64_t)s;
        c = (uint64_t)(s >> 64);
    }
    return c;
}

/* z = x - y over k words; returns the borrow */
ND_M64_INLINE uint64_t nd_m64_subn(uint64_t *z, const uint64_t *x, const uint64_t *y, int k)
{
    uint64_t bw = 0;
    int j;
    for (j = 0; j < k; j++) {
        uint64_t a = x[j], b = y[j], d = a - b;
        z[j] = d - bw;
        bw = (a < b) | (d < bw);
    }
    return bw;
}

/* x = 2x mod n (x < R in and out; rho = R mod n, fully reduced) */
ND_M64_INLINE void nd_m64_double(uint64_t *x, const uint64_t *rho, int k)
{
    uint64_t prev = 0, c;
    int j;
    for (j = 0; j < k; j++) {
        uint64_t v = x[j];
        x[j] = (v << 1) | (prev >> 63);
        prev = v;
    }
    c = prev >> 63;                                /* 2x = c R + x' = x' + c rho (mod n) */
    c = nd_m64_addm(x, x, rho, (uint64_t)0 - c, k);
    nd_m64_addm(x, x, rho, (uint64_t)0 - c, k);    /* (2 rho < R: no third carry) */
}

/* z = x - y mod n for y < n (x < R): below R again */
ND_M64_INLINE void nd_m64_subm(uint64_t *z, const uint64_t *x, const uint64_t *y, const uint64_t *n, int k)
{
    uint64_t b = nd_m64_subn(z, x, y, k);
    nd_m64_addm(z, z, n, (uint64_t)0 - b, k);      /* negative: + n */
}

ND_M64_INLINE int nd_m64_equal(const uint64_t *x, const uint64_t *y, int k)
{
    uint64_t diff = 0;
    int j;
    for (j = 0; j < k; j++)
        diff |= x[j] ^ y[j];
    return diff == 0;
}

ND_M64_INLINE int nd_m64_is_zero(const uint64_t *x, int k)
{
    uint64_t acc = 0;
    int j;
    for (j = 0; j < k; j++)
        acc |= x[j];
    return acc == 0;
}

/* A Montgomery product (sq: a*a, b unused) for one fixed k: the unrolled instances below. */
typedef void (*nd_m64_mont_fn)(uint64_t *r, const uint64_t *a, const uint64_t *b, const uint64_t *n,
                               uint64_t ninv, int k, int sq);

/* r = x/R mod n in [0, n): the product of x and 1 is at most n, and n (x = 0 mod n) maps to 0 */
static void nd_m64_out(uint64_t *r, const uint64_t *x, const uint64_t *n, uint64_t ninv, int k, nd_m64_mont_fn mont)
{
    uint64_t one[ND_K];
    memset(one, 0, sizeof(uint64_t) * (size_t)k);
    one[0] = 1;
    mont(r, x, one, n, ninv, k, 0);
    if (nd_m64_equal(r, n, k))
        memset(r, 0, sizeof(uint64_t) * (size_t)k);
}

static inline int nd_m64_bitlen(const uint64_t *w, int nl)
{
    while (nl > 0 && w[nl - 1] == 0)
        nl--;
    return nl == 0 ? 0 : 64 * (nl - 1) + 64 - __builtin_clzll(w[nl - 1]);
}

/* One number's set-up: n (k limbs), ninv, the exponent e (n - 1 or m), s, rho = R mod n and
 * 2 rho mod n (fully reduced), n - 1; for the Lucas test P' R mod n. */
typedef struct {
    uint64_t n[ND_K], rho[ND_K], two[ND_K], nm1[ND_K], pp[ND_K], e[ND_K + 1], ninv;
    int s, top;
} nd_m64_num;

/* The base-2 strong test of one number (e = n - 1 = d * 2**s): 1 = passes. */
static int nd_m64_sprp2_run(const nd_m64_num *N, int k, nd_m64_mont_fn mont)
{
    uint64_t X[ND_K], Y[ND_K];
    int b;
    memcpy(X, N->rho, sizeof(uint64_t) * (size_t)k);
    for (b = N->top; b > N->s; b--) {
        mont(X, X, X, N->n, N->ninv, k, 1);
        if ((N->e[b >> 6] >> (b & 63)) & 1)
            nd_m64_double(X, N->rho, k);
    }
    /* b = s: X = 2**d (its bit is the lowest set bit of e) */
    mont(X, X, X, N->n, N->ninv, k, 1);
    nd_m64_double(X, N->rho, k);
    nd_m64_out(Y, X, N->n, N->ninv, k, mont);
    if ((Y[0] == 1 && nd_m64_is_zero(Y + 1, k - 1)) || nd_m64_equal(Y, N->nm1, k))
        return 1;
    for (b = N->s - 1; b >= 1; b--) {              /* 2**(d 2**r), 1 <= r < s */
        mont(X, X, X, N->n, N->ninv, k, 1);
        nd_m64_out(Y, X, N->n, N->ninv, k, mont);
        if (nd_m64_equal(Y, N->nm1, k))
            return 1;
    }
    return 0;
}

/* The strong Lucas test of one number through the Q = 1 sequence W_k (nd_mont52.h,
 * nd_m52_lucas_run, and _u64.pxd explain it): a ladder over the bits of m, n + 1 = (2m+1) 2**s. */
static int nd_m64_lucas_run(const nd_m64_num *N, int k, nd_m64_mont_fn mont)
{
    uint64_t U[ND_K], V[ND_K], T[ND_K], S[ND_K];
    int b;
    memcpy(U, N->two, sizeof(uint64_t) * (size_t)k);   /* (W_0, W_1) = (2, P') */
    memcpy(V, N->pp, sizeof(uint64_t) * (size_t)k);
    for (b = N->top; b >= 0; b--) {
        /* bit 1: (u, v) <- (u v - P', v**2 - 2);  bit 0: (u, v) <- (u**2 - 2, u v - P') */
        int bit = (int)((N->e[b >> 6] >> (b & 63)) & 1);
        mont(T, U, V, N->n, N->ninv, k, 0);
        nd_m64_subm(T, T, N->pp, N->n, k);
        if (bit) {
            mont(V, V, V, N->n, N->ninv, k, 1);
            nd_m64_subm(V, V, N->two, N->n, k);
            memcpy(U, T, sizeof(uint64_t) * (size_t)k);
        } else {
            mont(U, U, U, N->n, N->ninv, k, 1);
            nd_m64_subm(U, U, N->two, N->n, k);
            memcpy(V, T, sizeof(uint64_t) * (size_t)k);
        }
    }
    mont(T, U, V, N->n, N->ninv, k, 0);      /* W_d = W_m W_m+1 - P' */
    nd_m64_subm(T, T, N->pp, N->n, k);
    nd_m64_out(U, U, N->n, N->ninv, k, mont);
    nd_m64_out(V, V, N->n, N->ninv, k, mont);
    if (nd_m64_equal(U, V, k))                      /* U_d = 0: W_m+1 = W_m */
        return 1;
    nd_m64_subn(S, N->n, U, k);                     /* V_d = 0: W_m+1 = n - W_m (u = 0 above) */
    if (nd_m64_equal(S, V, k))
        return 1;
    for (b = 1; b < N->s; b++) {                    /* V_{d 2**b} = 0: W_{d 2**(b-1)} = 0 */
        nd_m64_out(S, T, N->n, N->ninv, k, mont);
        if (nd_m64_is_zero(S, k))
            return 1;
        mont(T, T, T, N->n, N->ninv, k, 1);
        nd_m64_subm(T, T, N->two, N->n, k);
    }
    return 0;
}

/* The product with a constant k, loops unrolled completely (one function per k, so that each
 * is compiled and register-allocated on its own). */
#define ND_M64_INSTANCE(K)                                                                   \
    static void nd_m64_mont_##K(uint64_t *r, const uint64_t *a, const uint64_t *b,           \
                                const uint64_t *n, uint64_t ninv, int k, int sq)             \
    {                                                                                        \
        (void)k;                                                                             \
        if (sq)                                                                              \
            nd_m64_mont(r, a, a, n, ninv, K, 1);                                             \
        else                                                                                 \
            nd_m64_mont(r, a, b, n, ninv, K, 0);                                             \
    }
ND_M64_INSTANCE(1) ND_M64_INSTANCE(2) ND_M64_INSTANCE(3) ND_M64_INSTANCE(4)
ND_M64_INSTANCE(5) ND_M64_INSTANCE(6) ND_M64_INSTANCE(7) ND_M64_INSTANCE(8)
ND_M64_INSTANCE(9) ND_M64_INSTANCE(10) ND_M64_INSTANCE(11) ND_M64_INSTANCE(12)
ND_M64_INSTANCE(13) ND_M64_INSTANCE(14) ND_M64_INSTANCE(15) ND_M64_INSTANCE(16)
#define ND_M64_UNROLLED 16
static void nd_m64_mont_any(uint64_t *r, const uint64_t *a, const uint64_t *b, const uint64_t *n,
                            uint64_t ninv, int k, int sq)
{
    if (sq)
        nd_m64_mont(r, a, a, n, ninv, k, 1);
    else
        nd_m64_mont(r, a, b, n, ninv, k, 0);
}
static const nd_m64_mont_fn nd_m64_monts[ND_M64_UNROLLED + 1] = {
    nd_m64_mont_any, nd_m64_mont_1, nd_m64_mont_2, nd_m64_mont_3, nd_m64_mont_4, nd_m64_mont_5,
    nd_m64_mont_6, nd_m64_mont_7, nd_m64_mont_8, nd_m64_mont_9, nd_m64_mont_10, nd_m64_mont_11,
    nd_m64_mont_12, nd_m64_mont_13, nd_m64_mont_14, nd_m64_mont_15, nd_m64_mont_16};

/* 128 bits of the number w (len limbs) from bit p on (p >= 0). */
static nd_u128 nd_m64_bits128(const uint64_t *w, int len, int p)
{
    nd_u128 r = 0;
    int j, q = p / 64, off = p % 64;
    for (j = 2; j >= 0; j--) {                     /* words q, q + 1, q + 2 (those that exist) */
        uint64_t v = q + j < len ? w[q + j] : 0;
        if (j == 2)
            r = off ? (nd_u128)v << (128 - off) : 0;
        else if (j == 1)
            r |= off ? (nd_u128)v << (64 - off) : (nd_u128)v << 64;
        else
            r |= v >> off;
    }
    return r;
}

/* rho = R mod n, R = 2**(64k), for odd n >= 3 of `bits` bits, n < R (set-up only): 1 shifted
 * by 64 bits k times modulo n.  Each step x -> x 2**64 mod n (x < n) has a one-word quotient
 * q = floor(x 2**64 / n); q' = floor(y / (h + 1)) with h the top 64 bits of n and y the bits of
 * x 2**64 from the same position is at most q and at least q - 5, and x 2**64 - q' n is
 * reduced by at most five subtractions of n. */
static void nd_m64_rmod(uint64_t *rho, const uint64_t *n, int bits, int k)
{
    uint64_t x[ND_K + 1], y[ND_K + 2], d[ND_K + 2], nn[ND_K + 2], h, q, c;
    int kn = (bits + 63) / 64, i, j, p = bits - 64;
    memset(rho, 0, sizeof(uint64_t) * (size_t)k);
    if (bits <= 64) {
        uint64_t r = 1;
        for (i = 0; i < k; i++)
            r = (uint64_t)(((nd_u128)r << 64) % n[0]);
        rho[0] = r;
        return;
    }
    memcpy(nn, n, sizeof(uint64_t) * (size_t)kn);
    nn[kn] = 0;
    memset(x, 0, sizeof(uint64_t) * (size_t)kn);
    x[0] = 1;
    h = (uint64_t)nd_m64_bits128(n, kn, p);       /* n < 2**bits: the top 64 bits, >= 2**63 */
    for (i = 0; i < k; i++) {
        y[0] = 0;                                  /* y = x 2**64, kn + 1 limbs */
        memcpy(y + 1, x, sizeof(uint64_t) * (size_t)kn);
        q = (uint64_t)(nd_m64_bits128(y, kn + 1, p) / ((nd_u128)h + 1));
        c = 0;
        for (j = 0; j <= kn; j++) {                /* y -= q n */
            nd_u128 t = (nd_u128)q * nn[j] + c;
            uint64_t lo = (uint64_t)t, yy = y[j];
            c = (uint64_t)(t >> 64) + (yy < lo);
            y[j] = yy - lo;
        }
        while (!nd_m64_subn(d, y, nn, kn + 1))     /* while y >= n: y -= n */
            memcpy(y, d, sizeof(uint64_t) * (size_t)(kn + 1));
        memcpy(x, y, sizeof(uint64_t) * (size_t)kn);
    }
    memcpy(rho, x, sizeof(uint64_t) * (size_t)kn);
}

/* Up to ND_M64_LANES odd numbers >= 3 of at most ND_M64_MAXBITS bits; number `lane` is
 * w[lane*stride .. lane*stride + nl).  lucas = 0: the base-2 strong probable-prime test;
 * lucas = 1: the strong Lucas-Selfridge test with P' in Montgomery form (P' R mod n, R =
 * 2**(64 k), k = the limb count of the batch's largest number, fully reduced, same layout as w)
 * in pp.  out[lane] = 1 (probable prime) or 0 (composite). */
static void nd_m64_test_batch(const uint64_t *w, const uint64_t *pp, int stride, int nl, int count,
                              int lucas, uint8_t *out)
{
    nd_m64_num N;
    nd_m64_mont_fn mont;
    int lane, j, k, maxbits = 0, nw;
    for (lane = 0; lane < count; lane++) {
        int bits = nd_m64_bitlen(w + (size_t)lane * stride, nl);
        if (bits > maxbits)
            maxbits = bits;
    }
    k = (maxbits + 63) / 64;
    nw = (maxbits + 64) / 64;                      /* room for n + 1 */
    for (lane = 0; lane < count; lane++) {
        const uint64_t *v = w + (size_t)lane * stride, *q = pp + (size_t)lane * stride;
        uint64_t x, n0 = v[0];
        int s = 0, p, bits = nd_m64_bitlen(v, nl);
        x = n0;                                    /* 1/n mod 2**64 by Newton (3 -> 96 bits) */
        for (j = 0; j < 5; j++)
            x *= 2 - n0 * x;
        N.ninv = 0 - x;
        for (j = 0; j < k; j++) {
            N.n[j] = j < nl ? v[j] : 0;
            N.pp[j] = (lucas && j < nl) ? q[j] : 0;
        }
        memcpy(N.nm1, N.n, sizeof(uint64_t) * (size_t)k);
        N.nm1[0] -= 1;                             /* n odd: no borrow */
        for (j = 0; j < nw; j++)
            N.e[j] = j < nl ? v[j] : 0;
        if (!lucas) {
            N.e[0] -= 1;                           /* e = n - 1 = d 2**s */
            for (j = 0; j < nw && N.e[j] == 0; j++)
                s += 64;
            s += __builtin_ctzll(N.e[j]);          /* e != 0 as n >= 3 */
        } else {
            for (j = 0; j < nw && ++N.e[j] == 0; j++)  /* n + 1 */
                ;
            for (j = 0; j < nw && N.e[j] == 0; j++)
                s += 64;
            s += __builtin_ctzll(N.e[j]);
            p = s + 1;                             /* e = m = (n + 1) >> (s + 1) */
            for (j = 0; j < nw; j++) {
                int src = j + p / 64, off = p % 64;
                uint64_t lo = src < nw ? N.e[src] >> off : 0;
                uint64_t hi = (off && src + 1 < nw) ? N.e[src + 1] << (64 - off) : 0;
                N.e[j] = lo | hi;
            }
        }
        N.s = s;
        N.top = nd_m64_bitlen(N.e, nw) - 1;        /* -1 for m = 0 */
        nd_m64_rmod(N.rho, N.n, bits, k);
        memcpy(N.two, N.rho, sizeof(uint64_t) * (size_t)k);   /* 2 rho mod n */
        {
            uint64_t D[ND_K], c = nd_m64_addm(N.two, N.two, N.rho, ~(uint64_t)0, k);
            if (!nd_m64_subn(D, N.two, N.n, k) || c)   /* 2 rho >= n */
                memcpy(N.two, D, sizeof(uint64_t) * (size_t)k);
        }
        mont = nd_m64_monts[k <= ND_M64_UNROLLED ? k : 0];
        out[lane] = (uint8_t)(lucas ? nd_m64_lucas_run(&N, k, mont) : nd_m64_sprp2_run(&N, k, mont));
    }
}

#undef ND_K
#endif
