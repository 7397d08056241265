/* Kernels of nextdigit's pi(x) (Gourdon's variant of the combinatorial method).
 *
 * The algorithm, its terms and the measured effect of each piece are described in the module
 * docstring of _pi.pyx; this header holds the C: shared tables and helpers here, the hot
 * kernels in nd_pi_kern.h, which is compiled several times for different instruction sets
 * (baseline x86-64; POPCNT/BMI2/AVX2; AVX-512 with VPOPCNTDQ) and chosen at run time by
 * ndp_select() -- every variant computes the same integers.
 *
 * Conventions: x < 2**64, every quotient is formed as floor(floor(x / p) / m) (no product can
 * overflow); sums that can exceed 2**63 are accumulated in __int128.
 */
#ifndef ND_PI_H
#define ND_PI_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <time.h>

typedef __int128 ndp_i128;
typedef unsigned __int128 ndp_u128;

#if defined(__x86_64__) && defined(__GNUC__) && !defined(NDP_NO_DISPATCH)
#define NDP_X86 1
#include <immintrin.h>
#endif

#ifdef NDP_PROFILE                         /* separate symbols for perf */
#define NDP_PROF_INLINE static __attribute__((noinline))
#else
#define NDP_PROF_INLINE static inline
#endif

/* ------------------------------------------------------------------------------------------
 * Small helpers
 * ---------------------------------------------------------------------------------------- */
static inline uint64_t ndp_isqrt(uint64_t n)
{
    uint64_t r = (uint64_t)sqrt((double)n);
    while (r > 0 && (ndp_u128)r * r > n) r--;
    while ((ndp_u128)(r + 1) * (r + 1) <= n) r++;
    return r;
}

static inline uint64_t ndp_icbrt(uint64_t n)
{
    uint64_t r = (uint64_t)cbrt((double)n);
    while (r > 0 && (ndp_u128)r * r * r > n) r--;
    while ((ndp_u128)(r + 1) * (r + 1) * (r + 1) <= n) r++;
    return r;
}

static inline uint64_t ndp_iroot4(uint64_t n)
{
    uint64_t r = ndp_isqrt(ndp_isqrt(n));
    return r;                                   /* floor(sqrt(floor(sqrt n))) = floor(n^(1/4)) */
}

static inline double ndp_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* CPU time of the calling thread (profiles that do not depend on the machine's load) */
static inline double ndp_cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Division by an invariant d >= 2 without DIV (Granlund-Montgomery, the round-up variant with
 * a 65-bit multiplier): l = ceil(log2 d), m = floor(2**64 (2**l - d) / d) + 1, and
 * floor(n / d) = (t + ((n - t) >> 1)) >> (l - 1) with t = mulhi(m, n), exact for all 64-bit n
 * (the "libdivide" idea: a multiply, a subtract and two shifts). */
typedef struct { uint64_t m; int sh; } ndp_div_t;

static inline ndp_div_t ndp_div_make(uint64_t d)
{
    ndp_div_t r;
    int l = 64 - __builtin_clzll(d - 1);
    ndp_u128 num = ((ndp_u128)((((ndp_u128)1) << l) - d)) << 64;
    r.m = (uint64_t)(num / d) + 1;
    r.sh = l - 1;
    return r;
}

static inline uint64_t ndp_mdiv(uint64_t n, uint64_t m, int sh)
{
    uint64_t t = (uint64_t)(((ndp_u128)m * n) >> 64);
    return (t + ((n - t) >> 1)) >> sh;
}

/* ------------------------------------------------------------------------------------------
 * The wheels
 *   mod 30:   the sieve of the hard leaves keeps one bit per number coprime to 30: byte j of a
 *             segment starting at low (low % 240 == 0) holds low + 30 j + {1,7,11,13,17,19,23,29}.
 *   mod 2310: the factor table keeps one entry per number coprime to 2*3*5*7*11.
 *   mod 30030: phi(t, 6) by table (the ordinary leaves).
 * ---------------------------------------------------------------------------------------- */
static const uint8_t NDP_R30[8] = {1, 7, 11, 13, 17, 19, 23, 29};
static int8_t NDP_BIT30[30];              /* residue -> bit index, -1 if not coprime to 30 */
static uint8_t NDP_NEXT30[31];            /* smallest d >= 0 with r + d coprime to 30 (r < 30) */
static uint64_t NDP_MLE240[240];          /* bits of a word holding offsets <= r (0 <= r < 240) */
/* crossing off p = 30a + r: multiple p*m with m = 30c + R30[j] sits at byte c*p + a*R30[j] +
 * NDP_CQ[ri][j], bit NDP_CB[ri][j] (ri = bit index of r) */
static uint8_t NDP_CQ[8][8];
static uint8_t NDP_CB[8][8];

#define NDP_W2310 2310
#define NDP_PHI2310 480
static uint16_t NDP_C2310[NDP_PHI2310];   /* residues coprime to 2310, ascending */
static uint64_t NDP_C2310_64[NDP_PHI2310]; /* the same, widened (gathers) */
static int16_t NDP_RK2310[NDP_W2310];     /* index of the largest coprime residue <= r, -1 for 0 */

#define NDP_W6 30030
#define NDP_PHI6 5760
static uint32_t NDP_WLE6[NDP_W6];         /* phi(r, 6) for 0 <= r < 30030 */

/* pre-sieve patterns (bytes of the mod-30 sieve starting at 0): multiples of 7, 11, 13
 * (period 1001 bytes) and of 17, 19 (period 323 bytes) cleared, the primes themselves too. */
#define NDP_PER1 1001
#define NDP_PER2 323
#define NDP_SEGMAX (1 << 18)             /* largest segment of the hard-leaf sieve, bytes */
static uint8_t *NDP_PAT1 = NULL;
static uint8_t *NDP_PAT2 = NULL;

static int ndp_gcd(int a, int b) { while (b) { int t = a % b; a = b; b = t; } return a; }

static void ndp_fill_pattern(uint8_t *P, int64_t nbytes, const int *qs, int nq)
{
    int64_t i;
    memset(P, 0xFF, (size_t)nbytes);
    for (int t = 0; t < nq; t++) {
        uint64_t q = (uint64_t)qs[t];
        for (uint64_t n = q; n < (uint64_t)nbytes * 30; n += 2 * q) {
            int r = (int)(n % 30);
            if (NDP_BIT30[r] >= 0) {
                i = (int64_t)(n / 30);
                P[i] &= (uint8_t)~(1u << NDP_BIT30[r]);
            }
        }
    }
}

static int ndp_init(void)
{
    int r, j, i;
    for (r = 0; r < 30; r++) NDP_BIT30[r] = -1;
    for (j = 0; j < 8; j++) NDP_BIT30[NDP_R30[j]] = (int8_t)j;
    for (r = 0; r <= 30; r++) {
        int d = 0;
        while (ndp_gcd(r + d, 30) != 1) d++;
        NDP_NEXT30[r] = (uint8_t)d;
    }
    for (r = 0; r < 240; r++) {
        uint64_t m = 0;
        for (i = 0; i < 64; i++) {
            int off = 30 * (i >> 3) + NDP_R30[i & 7];
            if (off <= r) m |= (uint64_t)1 << i;
        }
        NDP_MLE240[r] = m;
    }
    for (i = 0; i < 8; i++) {
        int rr = NDP_R30[i];
        for (j = 0; j < 8; j++) {
            int v = rr * NDP_R30[j];
            NDP_CQ[i][j] = (uint8_t)(v / 30);
            NDP_CB[i][j] = (uint8_t)NDP_BIT30[v % 30];
        }
    }
    j = 0;
    for (r = 0; r < NDP_W2310; r++) {
        if (ndp_gcd(r, NDP_W2310) == 1) { NDP_C2310_64[j] = (uint64_t)r; NDP_C2310[j++] = (uint16_t)r; }
        NDP_RK2310[r] = (int16_t)(j - 1);
    }
    j = 0;
    for (r = 0; r < NDP_W6; r++) {
        if (r % 2 && r % 3 && r % 5 && r % 7 && r % 11 && r % 13) j++;
        NDP_WLE6[r] = (uint32_t)j;
    }
    {
        static const int q1[3] = {7, 11, 13}, q2[2] = {17, 19};
        int64_t n1 = NDP_PER1 + NDP_SEGMAX + 64, n2 = NDP_PER2 + NDP_SEGMAX + 64;
        NDP_PAT1 = (uint8_t *)malloc((size_t)n1);
        NDP_PAT2 = (uint8_t *)malloc((size_t)n2);
        if (!NDP_PAT1 || !NDP_PAT2) return -1;
        ndp_fill_pattern(NDP_PAT1, n1, q1, 3);
        ndp_fill_pattern(NDP_PAT2, n2, q2, 2);
    }
    return 0;
}

static inline int64_t ndp_fidx(uint64_t n)        /* index of the largest m <= n coprime to 2310 */
{
    return (int64_t)(n / NDP_W2310) * NDP_PHI2310 + NDP_RK2310[n % NDP_W2310];
}

static inline uint64_t ndp_fnum(int64_t i)        /* the number at factor-table index i */
{
    return (uint64_t)(i / NDP_PHI2310) * NDP_W2310 + NDP_C2310[i % NDP_PHI2310];
}

static inline int64_t ndp_phi6(uint64_t u)
{
    return (int64_t)((u / NDP_W6) * NDP_PHI6 + NDP_WLE6[u % NDP_W6]);
}

/* phi(u, 8) = #{n <= u : gcd(n, 2*3*...*19) = 1} by inclusion-exclusion over 17 and 19 */
static inline int64_t ndp_phi8(uint64_t u)
{
    return ndp_phi6(u) - ndp_phi6(u / 17) - ndp_phi6(u / 19) + ndp_phi6(u / 323);
}

/* ------------------------------------------------------------------------------------------
 * The factor table (after C. Bau's compact table as analysed in primecount's
 * Hard-Special-Leaves-SIMD-Filtering notes; our encoding is by prime index): one uint16 per
 * m <= z coprime to 2310:
 *     m = 1                   0xFFFE      (mu = +1)
 *     m prime, m <= y         0xFFFF      (mu = -1)
 *     mu(m) = 0, or m has a prime factor > y          0
 *     else                    2 * pi(lpf(m)) + (mu(m) == -1)
 * so "m squarefree, every prime factor in (p_b, y]" is the single test F > 2b + 1, and mu is
 * the low bit (odd: -1).  Built by a sieve over the primes in increasing order.
 * ---------------------------------------------------------------------------------------- */
static uint16_t *ndp_build_factor_table(uint64_t z, uint64_t y, const uint32_t *primes, int64_t nprimes,
                                        int64_t *size_out)
{
    int64_t size = ndp_fidx(z) + 1, b, i, j;
    uint16_t *F = (uint16_t *)malloc((size_t)(size > 0 ? size : 1) * 2);
    if (F == NULL) return NULL;
    for (i = 0; i < size; i++) F[i] = 0xFFFF;
    if (size > 0) F[0] = 0xFFFE;
    for (b = 6; b <= nprimes && primes[b] <= z; b++) {     /* primes[6] = 13 */
        uint64_t p = primes[b];
        uint64_t lim = z / p;
        if (p > y) {
            for (j = 0; ; j++) {
                uint64_t m = ndp_fnum(j);
                if (m > lim) break;
                F[ndp_fidx(p * m)] = 0;
            }
            continue;
        }
        uint16_t enc = (uint16_t)(2 * b + 1);
        for (j = 1; ; j++) {
            uint64_t m = ndp_fnum(j);
            if (m > lim) break;
            int64_t t = ndp_fidx(p * m);
            uint16_t v = F[t];
            if (v == 0xFFFF) F[t] = enc;
            else if (v != 0) F[t] = (uint16_t)(v ^ 1);
        }
        if (p <= lim) {
            uint64_t q = p * p, lq = z / q;
            for (j = 0; ; j++) {
                uint64_t m = ndp_fnum(j);
                if (m > lq) break;
                F[ndp_fidx(q * m)] = 0;
            }
        }
    }
    *size_out = size;
    return F;
}

/* ------------------------------------------------------------------------------------------
 * The compact pi table (one bit per odd number, interleaved with running counts):
 * T[2w] = bits of the odd numbers 128w + 2j + 1 that are prime, T[2w + 1] = number of odd
 * primes below 128w.  pi(n) = T[2w+1] + popcount(T[2w] & below(t)) + (n >= 2), t = (n+1)/2.
 * ---------------------------------------------------------------------------------------- */

/* ------------------------------------------------------------------------------------------
 * The computation's shared state.
 * ---------------------------------------------------------------------------------------- */
/* per b of the easy leaves read from the pi table: t = x / p_b, the prime-index ranges
 * (s1, s2] (sparse) and (r1, r2] (reflected), and the range [amin, amax] of their arguments */
typedef struct {
    uint64_t t, amin, amax;
    int64_t s1, s2, r1, r2;
} ndp_acb;

typedef struct {
    uint64_t x, y, z, Zs, sqrtx, x13, x14;
    int64_t a;             /* pi(y) */
    int64_t k;             /* 8: phi(., k) by table, primes 7..19 pre-sieved */
    int64_t b_sqrtz;       /* pi(isqrt z): up to here m may be composite (factor-table leaves) */
    int64_t b_dmax;        /* largest b with hard leaves (p_b^4 < x) */
    int64_t b_acmax;       /* last b whose easy leaves are not all trivial: pi(x^(1/3)) */
    int64_t b_sieve;       /* pi(isqrt(Zs - 1)): sieving primes of [0, Zs) */
    uint64_t Ty;           /* the pi table answers n <= Ty */
    const uint32_t *primes;
    const uint64_t *dm;
    const uint8_t *dsh;
    const double *inv;     /* 1.0 / p per prime index (the vector easy-leaf quotients) */
    const uint64_t *pitab;
    const uint16_t *F;
    int64_t nF;            /* entries of F used (m <= z) */
    const uint64_t *umax;  /* per b: suffix max of the largest u of a D leaf of b */
    const int64_t *acq_lo; /* per b (AC): deferred sparse leaves, prime indices (lo, hi] */
    const int64_t *acq_hi;
    int64_t b_acdef;       /* last b with deferred (argument > Ty) easy leaves */
    ndp_acb *acb;          /* per b, filled by ndp_ac_table, read by ndp_ac_tseg */
    uint64_t seg_bytes;    /* hard-leaf sieve segment (bytes, multiple of 8) */
    uint64_t ac_seg;       /* numbers per segment of the easy-leaf pi sieve (multiple of 128) */
    int clw;               /* log2 of the words per counter of the hard-leaf sieve */
    uint64_t pref_num, pref_den; /* prefix counts when leaf range * den >= words * num */
    uint64_t recount_p;    /* primes below this are crossed off plainly, then counted anew */
    int pq_split;          /* leaves m <= p^2 (primes only) from the prime table, not the F scan */
    volatile int abort;
    volatile int64_t done; /* work units finished (progress) */
    void (*poll)(void *);  /* called by thread 0 between segments (signals, progress) */
    void *poll_arg;
} ndp_ctx;


/* D chunk: a range [clow, chigh) of the hard-leaf sieve (whole segments). */
typedef struct {
    uint64_t clow, chigh;
    ndp_i128 hard;         /* sum of -mu(m) (chunk-relative phi) over the chunk's leaves */
    int64_t *coef;         /* per b: sum of -mu(m) over the chunk's leaves of b */
    int64_t *cnt;          /* per b: survivors of p_1..p_{b-1} in [clow, chigh) */
    ndp_i128 bsum;         /* B: sum of chunk-relative pi(x/p) */
    int64_t bcnt;          /* B: number of terms */
    int64_t bnp;           /* primes p in (y, sqrt x] met */
    int64_t qcount;        /* primes in [clow, chigh) */
    int64_t nleaves;
    int failed;
    double secs;
} ndp_dchunk;

/* AC_seg chunk: a range [lo, hi) of arguments above Ty. */
typedef struct {
    uint64_t lo, hi;
    ndp_i128 sum;          /* sum of chunk-relative pi values */
    int64_t nterms;
    int64_t qcount;        /* primes in [lo, hi) */
    int failed;
    double secs;
} ndp_acchunk;

/* ------------------------------------------------------------------------------------------
 * Kernels, compiled once per instruction-set level.
 * ---------------------------------------------------------------------------------------- */
#define NDP_V(name) name##_base
#define NDP_LEVEL 0
#include "nd_pi_kern.h"
#undef NDP_V
#undef NDP_LEVEL

#ifdef NDP_X86
#pragma GCC push_options
#pragma GCC target("popcnt,bmi,bmi2,lzcnt,avx2")
#define NDP_V(name) name##_v3
#define NDP_LEVEL 1
#include "nd_pi_kern.h"
#undef NDP_V
#undef NDP_LEVEL
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("popcnt,bmi,bmi2,lzcnt,avx2,avx512f,avx512bw,avx512vl,avx512dq,avx512vpopcntdq")
#define NDP_V(name) name##_v4
#define NDP_LEVEL 2
#include "nd_pi_kern.h"
#undef NDP_V
#undef NDP_LEVEL
#pragma GCC pop_options
#endif

typedef void (*ndp_dchunk_fn)(ndp_ctx *, ndp_dchunk *, int);
typedef void (*ndp_acchunk_fn)(ndp_ctx *, ndp_acchunk *, int);
typedef ndp_i128 (*ndp_actab_fn)(const ndp_ctx *, int64_t, int64_t);
typedef ndp_i128 (*ndp_phi0_fn)(const ndp_ctx *, int64_t, int64_t);
typedef ndp_i128 (*ndp_actseg_fn)(const ndp_ctx *, uint64_t, uint64_t, int64_t, int64_t);

static ndp_dchunk_fn ndp_d_chunk = ndp_d_chunk_base;
static ndp_acchunk_fn ndp_ac_chunk = ndp_ac_chunk_base;
static ndp_actab_fn ndp_ac_table = ndp_ac_table_base;
static ndp_phi0_fn ndp_phi0 = ndp_phi0_base;
static ndp_actseg_fn ndp_ac_tseg = ndp_ac_tseg_base;
static int ndp_level = 0;

/* level: -1 = best the CPU supports, else 0 (baseline), 1 (POPCNT/BMI2/AVX2), 2 (AVX-512);
 * returns the level in use. */
static int ndp_select(int level)
{
    int best = 0;
#ifdef NDP_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("popcnt") && __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("avx2"))
        best = 1;
    if (best == 1 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512vpopcntdq"))
        best = 2;
#endif
    if (level < 0 || level > best) level = best;
    ndp_level = level;
    if (level == 0) {
        ndp_d_chunk = ndp_d_chunk_base; ndp_ac_chunk = ndp_ac_chunk_base;
        ndp_ac_table = ndp_ac_table_base; ndp_phi0 = ndp_phi0_base; ndp_ac_tseg = ndp_ac_tseg_base;
    }
#ifdef NDP_X86
    else if (level == 1) {
        ndp_d_chunk = ndp_d_chunk_v3; ndp_ac_chunk = ndp_ac_chunk_v3;
        ndp_ac_table = ndp_ac_table_v3; ndp_phi0 = ndp_phi0_v3; ndp_ac_tseg = ndp_ac_tseg_v3;
    } else {
        ndp_d_chunk = ndp_d_chunk_v4; ndp_ac_chunk = ndp_ac_chunk_v4;
        ndp_ac_table = ndp_ac_table_v4; ndp_phi0 = ndp_phi0_v4; ndp_ac_tseg = ndp_ac_tseg_v4;
    }
#endif
    return level;
}

#endif /* ND_PI_H */
