/* Trial division of big numbers (64-bit limbs) by the odd primes below 2**16, for lists of
 * numbers where no window can be sieved (is_prime on lists, the big samplers' candidates).
 *
 * The primes are packed into products M < 2**62 (14 primes in the first, 4-5 near 2**16).  For
 * each product one pass over the limbs gives a unit multiple of n mod M: Montgomery's reduction
 * by one word per limb, from the lowest limb up, t <- (t + m M) / 2**64 + next limb with m
 * chosen so that the division is exact -- two multiplications per limb, no division -- which
 * leaves n 2**(-64 nl) mod M up to a small multiple of M.  Then p | n iff p | t, tested as
 * t * p**-1 mod 2**64 <= (2**64 - 1) / p.  A number stops at the first product that reveals a
 * factor (a third of all odd numbers already at the first one), so composites cost little and
 * the survivors pay for the whole table.  Plain C; nd_rg_setup() fills the tables once.
 */
#ifndef ND_ROUGH_H
#define ND_ROUGH_H
#include <stdint.h>
#define ND_RG_MAXP 6542                  /* odd primes below 2**16 */
typedef struct { uint64_t M, ninv; int first, end; } nd_rgroup;
static nd_rgroup nd_rg[ND_RG_MAXP];
static uint64_t nd_rg_pinv[ND_RG_MAXP], nd_rg_lim[ND_RG_MAXP];
static uint32_t nd_rg_p[ND_RG_MAXP];
static int nd_rg_count, nd_rg_nprimes;

/* the product table (module import) */
static void nd_rg_setup(void) {
    static uint8_t comp[1 << 16];
    int np = 0, g = 0, j;
    for (uint32_t i = 3; i < (1u << 16); i += 2) {
        if (comp[i])
            continue;
        nd_rg_p[np++] = i;
        for (uint32_t q = i * i; q < (1u << 16); q += 2 * i)
            comp[q] = 1;
    }
    nd_rg_nprimes = np;
    for (j = 0; j < np; j++) {
        uint64_t p = nd_rg_p[j], x = p;
        for (int t = 0; t < 5; t++)
            x *= 2 - p * x;                   /* p**-1 mod 2**64 (Newton) */
        nd_rg_pinv[j] = x;
        nd_rg_lim[j] = UINT64_MAX / p;
    }
    j = 0;
    while (j < np) {
        unsigned __int128 M = 1;
        int first = j;
        while (j < np && M * nd_rg_p[j] < ((unsigned __int128)1 << 62))
            M *= nd_rg_p[j++];
        uint64_t m = (uint64_t)M, x = m;
        for (int t = 0; t < 6; t++)
            x *= 2 - m * x;
        nd_rg[g].M = m;
        nd_rg[g].ninv = 0 - x;                /* -M**-1 mod 2**64 */
        nd_rg[g].first = first;
        nd_rg[g].end = j;
        g++;
    }
    nd_rg_count = g;
}

/* n 2**(-64 nl) mod M up to a small multiple of M (< M + 2 < 2**63): a unit multiple of n */
static inline uint64_t nd_rg_reduce(const uint64_t *w, int nl, uint64_t M, uint64_t ninv) {
    unsigned __int128 t = w[0];
    for (int j = 1; j < nl; j++) {
        uint64_t m = (uint64_t)t * ninv;
        t = ((t + (unsigned __int128)m * M) >> 64) + w[j];
    }
    uint64_t m = (uint64_t)t * ninv;
    return (uint64_t)((t + (unsigned __int128)m * M) >> 64);
}

/* 1 when n (nl limbs) has no prime factor among the first `np` odd primes */
static inline int nd_rg_rough(const uint64_t *w, int nl, int np) {
    for (int g = 0; g < nd_rg_count && nd_rg[g].first < np; g++) {
        uint64_t t = nd_rg_reduce(w, nl, nd_rg[g].M, nd_rg[g].ninv);
        int end = nd_rg[g].end < np ? nd_rg[g].end : np;
        for (int j = nd_rg[g].first; j < end; j++)
            if (t * nd_rg_pinv[j] <= nd_rg_lim[j])
                return 0;
    }
    return 1;
}
/* the smallest odd prime factor of n below the first `np` odd primes, or 0 when there is none */
static inline uint32_t nd_rg_spf(const uint64_t *w, int nl, int np) {
    for (int g = 0; g < nd_rg_count && nd_rg[g].first < np; g++) {
        uint64_t t = nd_rg_reduce(w, nl, nd_rg[g].M, nd_rg[g].ninv);
        int end = nd_rg[g].end < np ? nd_rg[g].end : np;
        for (int j = nd_rg[g].first; j < end; j++)
            if (t * nd_rg_pinv[j] <= nd_rg_lim[j])
                return nd_rg_p[j];
    }
    return 0;
}

/* how many odd primes lie below `bound` (bound <= 2**16) */
static inline int nd_rg_count_below(uint32_t bound) {
    int lo = 0, hi = nd_rg_nprimes;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (nd_rg_p[mid] < bound) lo = mid + 1; else hi = mid;
    }
    return lo;
}
#endif
