/* The candidates of one uniform-prime search in [lo, hi) with hi > 2**64, in C: drawing,
 * prefiltering and batching for the BPSW lanes (nd_mont52.h / nd_mont28.h / nd_mont64.h).  The
 * samplers above 2**64 (nextdigit.randprime.big_random_prime, RandomizedPrimeModel) use it.
 *
 * The law (nextdigit/randprime.py explains it): i.i.d. candidates uniform on the numbers of
 * [lo, hi) coprime to 30 -- an index uniform in [0, slots) into the mod-30 wheel from the aligned
 * block `base` below lo, drawn as k random bits and rejected when >= slots, and the number
 * rejected when outside [lo, hi) -- and the answer is the first prime in drawing order.
 *
 * The stream is that of the Python loop it replaces, word for word: a "chunk" of 64 indices
 * (64 w words from the bit generator, w = ceil(k / 64)) at a time, index i taking words
 * [i w, i w + w) little-endian; the Python loop collected the candidates without a prime factor
 * 7..29 into batches of eight, tested each full batch and returned at the first batch holding a
 * prime, discarding the rest of its chunk.  Here every candidate is trial-divided by the odd
 * primes below a bound B >= 31 (nd_rough.h), and only those without a factor go to the lanes,
 * in drawing order; the batches of the old loop are still counted, and when the first prime is
 * found the search draws on until the old loop's batch that held it is complete (nd_bs_finish).
 * So a seed gives the same prime and leaves the generator in the same state as before; only the
 * work per candidate changed (2.5x fewer base-2 tests at 100 digits with B = 2**12).
 *
 * Testing order: the buffer of trial-division survivors (at most eight, one lane batch) is
 * tested when it is full and whenever the chunk runs out -- never after drawing more words than
 * the old loop would have -- and its entries are examined in drawing order; the caller decides
 * the strong Lucas test of a big entry that passed base 2 (a base-2 strong pseudoprime sends
 * the search on to the next entry, as the old loop did), entries below 2**64 are decided by the
 * deterministic u64 BPSW.
 */
#ifndef ND_BIGSEARCH_H
#define ND_BIGSEARCH_H

#include <stdint.h>
#include <string.h>
#include "numpy/random/bitgen.h"
#include "nd_rough.h"

#define ND_BS_MAXL 68                     /* words of a candidate (and of an index) */
#define ND_BS_BUF 8                       /* candidates per lane batch */

typedef void (*nd_bs_batch_fn)(const uint64_t *w, const uint64_t *pp, int stride, int nl, int count,
                               int lucas, uint8_t *out);

typedef struct {
    int nl;                               /* words of the candidates (those of hi - 1) */
    uint64_t lo[ND_BS_MAXL], hi[ND_BS_MAXL], base[ND_BS_MAXL], slots[ND_BS_MAXL];
    int w;                                /* words per index */
    uint64_t topmask;                     /* the index's top word keeps these bits (k in all) */
    int np;                               /* trial division by the first np odd primes */
    uint64_t *chunk;                      /* 64 w words */
    int pos;                              /* next index of the chunk; 64 = used up */
    long chunks;                          /* chunks drawn */
    long pb;                              /* the old loop's batch being filled ... */
    int pbn;                              /* ... and its members so far (0..7) */
    uint64_t buf[ND_BS_BUF * ND_BS_MAXL]; /* trial-division survivors, drawing order */
    long buf_pb[ND_BS_BUF];
    uint8_t passed[ND_BS_BUF];            /* base-2 verdict of the big entries */
    int nbuf, next;                       /* entries, next entry to examine */
    long tested;                          /* numbers sent to the lanes (diagnostic) */
    long found_pb;                        /* the old loop's batch of the entry returned last */
} nd_bs;

static const unsigned char nd_bs_wheel[8] = {1, 7, 11, 13, 17, 19, 23, 29};

static inline int nd_bs_cmp(const uint64_t *x, const uint64_t *y, int n)   /* -1, 0, 1 */
{
    for (int j = n - 1; j >= 0; j--)
        if (x[j] != y[j])
            return x[j] < y[j] ? -1 : 1;
    return 0;
}

/* Draw the next chunk of raw words (the caller holds the generator's lock). */
static void nd_bs_draw(nd_bs *s, bitgen_t *bg)
{
    int n = 64 * s->w;
    for (int j = 0; j < n; j++)
        s->chunk[j] = bg->next_uint64(bg->state);
    s->pos = 0;
    s->chunks++;
}

/* Candidate from index i of the chunk into c (nl + 1 words); 0 when the index is rejected or
 * the number is outside [lo, hi). */
static inline int nd_bs_candidate(const nd_bs *s, int i, uint64_t *c)
{
    uint64_t idx[ND_BS_MAXL], carry = 0;
    int w = s->w, n = s->nl + 1, j;
    memcpy(idx, s->chunk + (size_t)i * w, sizeof(uint64_t) * (size_t)w);
    idx[w - 1] &= s->topmask;
    for (j = w; j < n; j++)
        idx[j] = 0;
    if (nd_bs_cmp(idx, s->slots, n) >= 0)
        return 0;
    {                                     /* c = base + 30 (idx >> 3) + wheel[idx & 7] */
        uint64_t r = nd_bs_wheel[idx[0] & 7];
        for (j = 0; j < n; j++) {
            uint64_t q = (idx[j] >> 3) | (j + 1 < n ? idx[j + 1] << 61 : 0);
            unsigned __int128 t = (unsigned __int128)q * 30 + s->base[j] + carry + (j == 0 ? r : 0);
            c[j] = (uint64_t)t;
            carry = (uint64_t)(t >> 64);
        }
    }
    return nd_bs_cmp(c, s->lo, n) >= 0 && nd_bs_cmp(c, s->hi, n) < 0;
}

/* Count a member of the old loop's batches. */
static inline long nd_bs_member(nd_bs *s)
{
    long b = s->pb;
    if (++s->pbn == 8) {
        s->pb++;
        s->pbn = 0;
    }
    return b;
}

/* Scan the chunk from pos on; trial-division survivors go to the buffer.  Returns 1 when the
 * buffer is full, 0 when the chunk is used up. */
static int nd_bs_scan(nd_bs *s)
{
    uint64_t c[ND_BS_MAXL];
    while (s->pos < 64) {
        int i = s->pos++;
        uint32_t f;
        long b;
        if (!nd_bs_candidate(s, i, c))
            continue;
        f = nd_rg_spf(c, s->nl, s->np);
        if (f >= 7 && f <= 29)            /* the old prefilter: never a member of a batch */
            continue;
        b = nd_bs_member(s);
        if (f)                            /* a factor in [31, B): composite */
            continue;
        memcpy(s->buf + (size_t)s->nbuf * ND_BS_MAXL, c, sizeof(uint64_t) * (size_t)s->nl);
        s->buf_pb[s->nbuf++] = b;
        if (s->nbuf == ND_BS_BUF)
            return 1;
    }
    return 0;
}

/* Whether entry e (nl words) is below 2**64. */
static inline int nd_bs_is_u64(const uint64_t *e, int nl)
{
    for (int j = 1; j < nl; j++)
        if (e[j])
            return 0;
    return 1;
}

/* Base-2 strong tests of the buffer's entries >= 2**64 in the lanes (one batch of fn; below
 * min_fill entries the per-number route `few` is cheaper than a mostly empty vector batch). */
static void nd_bs_test(nd_bs *s, nd_bs_batch_fn fn, nd_bs_batch_fn few, int min_fill)
{
    uint64_t rows[ND_BS_BUF * ND_BS_MAXL];
    uint8_t out[ND_BS_BUF];
    int map[ND_BS_BUF], m = 0, j, nl = s->nl;
    for (j = 0; j < s->nbuf; j++) {
        const uint64_t *e = s->buf + (size_t)j * ND_BS_MAXL;
        s->passed[j] = 0;
        if (nl > 1 && !nd_bs_is_u64(e, nl)) {
            memcpy(rows + (size_t)m * nl, e, sizeof(uint64_t) * (size_t)nl);
            map[m++] = j;
        }
    }
    if (m) {
        (m < min_fill ? few : fn)(rows, rows, nl, nl, m, 0, out);
        for (j = 0; j < m; j++)
            s->passed[map[j]] = out[j];
        s->tested += m;
    }
}

/* After the answer (entry returned last): draw and count on until the old loop's batch that
 * held it is complete, as the old loop did before testing it. */
static void nd_bs_finish(nd_bs *s, bitgen_t *bg)
{
    uint64_t c[ND_BS_MAXL];
    while (s->pb <= s->found_pb) {
        uint32_t f;
        if (s->pos == 64)
            nd_bs_draw(s, bg);
        if (!nd_bs_candidate(s, s->pos++, c))
            continue;
        f = nd_rg_spf(c, s->nl, nd_rg_count_below(31));
        if (!(f >= 7 && f <= 29))
            nd_bs_member(s);
    }
}

#endif
