/* Hot kernels of pi(x); included by nd_pi.h once per instruction-set level with
 * NDP_V(name) (name suffix) and NDP_LEVEL (0 baseline, 1 POPCNT/BMI2/AVX2, 2 AVX-512) defined.
 * No include guard on purpose. */

static inline uint64_t NDP_V(popc)(uint64_t v)
{
#if NDP_LEVEL >= 1
    return (uint64_t)__builtin_popcountll(v);
#else
    v = v - ((v >> 1) & 0x5555555555555555ULL);
    v = (v & 0x3333333333333333ULL) + ((v >> 2) & 0x3333333333333333ULL);
    v = (v + (v >> 4)) & 0x0F0F0F0F0F0F0F0FULL;
    return (v * 0x0101010101010101ULL) >> 56;
#endif
}

/* popcount of n words */
static inline uint64_t NDP_V(popc_words)(const uint64_t *w, uint64_t n)
{
    uint64_t s = 0, i = 0;
#if NDP_LEVEL >= 2
    __m512i acc = _mm512_setzero_si512();
    for (; i + 8 <= n; i += 8)
        acc = _mm512_add_epi64(acc, _mm512_popcnt_epi64(_mm512_loadu_si512((const void *)(w + i))));
    s = (uint64_t)_mm512_reduce_add_epi64(acc);
#endif
    for (; i < n; i++) s += NDP_V(popc)(w[i]);
    return s;
}

/* pi(n) from the compact table (n <= Ty) */
static inline int64_t NDP_V(pi)(const uint64_t *T, uint64_t n)
{
    uint64_t t = (n + 1) >> 1, w = t >> 6;
    return (int64_t)(T[2 * w + 1] + NDP_V(popc)(T[2 * w] & ((((uint64_t)1) << (t & 63)) - 1))) + (n >= 2);
}

/* ==========================================================================================
 * Phi0: the ordinary leaves, sum over squarefree n <= z with every prime factor in (19, y] of
 * mu(n) phi(x / n, 8); factor-table indices [i0, i1).
 * ======================================================================================== */
static ndp_i128 NDP_V(ndp_phi0)(const ndp_ctx *C, int64_t i0, int64_t i1)
{
    const uint16_t *F = C->F;
    uint64_t x = C->x;
    ndp_i128 res = 0;
    int64_t part = 0, i;
    for (i = i0; i < i1; i++) {
        uint16_t v = F[i];
        if (v <= 17 || (i >= 1 && i <= 3)) continue;   /* mu = 0, or lpf <= 19 (13, 17, 19 are
                                                        indices 1..3 and read as primes) */
        uint64_t t = x / ndp_fnum(i);
        int64_t ph = ndp_phi8(t);
        part += (v & 1) ? -ph : ph;
        if ((i & 4095) == 0) { res += part; part = 0; }
    }
    return res + part;
}

/* sum over prime indices l in (l0, l1] of pi(t / p_l), for arguments 2 <= t / p_l <= Ty.
 * Four independent terms per step (an AVX-512 version with double division and gathers was
 * measured 17% slower on Zen 5: the gathers from the 0.5 MB table do not pay). */
static inline int64_t NDP_V(ac_sum)(const uint64_t *T, const uint32_t *primes, const uint64_t *dm,
                                    const uint8_t *dsh, const double *inv, uint64_t t, int64_t l0, int64_t l1)
{
    int64_t l = l0 + 1, sum = 0;
    if (l1 <= l0) return 0;
    sum = l1 - l0;                                     /* the prime 2 of every pi */
#define NDP_PIQ(n) ((int64_t)(T[2 * (((n) + 1) >> 7) + 1] + \
                    NDP_V(popc)(T[2 * (((n) + 1) >> 7)] & ((((uint64_t)1) << ((((n) + 1) >> 1) & 63)) - 1))))
#if NDP_LEVEL >= 2
    /* eight quotients per step as t * (1/q) in doubles: the product is within 2^-18 of t / q
     * (t / q < 2^33), so its floor is exact unless the fraction is within 2^-16 of an integer;
     * those rare lanes are divided exactly.  No integer multiply: measured ~25% faster. */
    if (inv != NULL && l1 - l0 >= 16) {
        const __m512d td = _mm512_set1_pd((double)t);
        const __m512d elo = _mm512_set1_pd(1.0 / 65536), ehi = _mm512_set1_pd(1.0 - 1.0 / 65536);
        uint64_t ub[256] __attribute__((aligned(64)));
        int64_t s0 = 0, s1 = 0;
        while (l + 7 <= l1) {
            /* a block of quotients first (vector stores), then the table reads (scalar loads
             * long after the stores: no store-forwarding stalls) */
            int n = 0, j;
            for (; l + 7 <= l1 && n < 256; l += 8, n += 8) {
                __m512d f = _mm512_mul_pd(td, _mm512_loadu_pd(inv + l));
                __m512i u = _mm512_cvttpd_epu64(f);
                __m512d fr = _mm512_sub_pd(f, _mm512_cvtepu64_pd(u));
                __mmask8 bad = _mm512_cmp_pd_mask(fr, elo, _CMP_LT_OQ) | _mm512_cmp_pd_mask(fr, ehi, _CMP_GT_OQ);
                _mm512_store_si512((void *)(ub + n), u);
                while (bad) {
                    int q = __builtin_ctz((unsigned)bad);
                    ub[n + q] = t / primes[l + q];
                    bad = (__mmask8)(bad & (bad - 1));
                }
            }
            for (j = 0; j < n; j += 2) {
                s0 += NDP_PIQ(ub[j]);
                s1 += NDP_PIQ(ub[j + 1]);
            }
        }
        sum += s0 + s1;
    }
#else
    (void)inv;
#endif
    {
        int64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (; l + 3 <= l1; l += 4) {
            uint64_t n0 = ndp_mdiv(t, dm[l], dsh[l]), n1 = ndp_mdiv(t, dm[l + 1], dsh[l + 1]);
            uint64_t n2 = ndp_mdiv(t, dm[l + 2], dsh[l + 2]), n3 = ndp_mdiv(t, dm[l + 3], dsh[l + 3]);
            uint64_t a0 = (n0 + 1) >> 1, a1 = (n1 + 1) >> 1, a2 = (n2 + 1) >> 1, a3 = (n3 + 1) >> 1;
            uint64_t w0 = a0 >> 6, w1 = a1 >> 6, w2 = a2 >> 6, w3 = a3 >> 6;
            s0 += (int64_t)(T[2 * w0 + 1] + NDP_V(popc)(T[2 * w0] & ((((uint64_t)1) << (a0 & 63)) - 1)));
            s1 += (int64_t)(T[2 * w1 + 1] + NDP_V(popc)(T[2 * w1] & ((((uint64_t)1) << (a1 & 63)) - 1)));
            s2 += (int64_t)(T[2 * w2 + 1] + NDP_V(popc)(T[2 * w2] & ((((uint64_t)1) << (a2 & 63)) - 1)));
            s3 += (int64_t)(T[2 * w3 + 1] + NDP_V(popc)(T[2 * w3] & ((((uint64_t)1) << (a3 & 63)) - 1)));
        }
        sum += s0 + s1 + s2 + s3;
    }
    for (; l <= l1; l++) {
        uint64_t n = ndp_mdiv(t, dm[l], dsh[l]);
        sum += NDP_PIQ(n);
    }
#undef NDP_PIQ
    return sum;
}

/* ==========================================================================================
 * AC from the pi table: for each b in [b0, b1) (pi(sqrt z) < b <= pi(x^(1/3))) the trivial
 * leaves, and the easy leaves except the sparse ones whose argument exceeds Ty (those are
 * summed by ndp_ac_chunk).  Leaves (p, q), p = p_b < q <= y prime, t = x / p, u = t / q:
 *     trivial  q > t / p          (u < p):      phi = 1
 *     easy     t/p^2 < q <= t/p  (p <= u < p^2): phi = pi(u) - b + 2
 * With s = isqrt(t), the run q in (max(lo, s), hi] (u <= s: many q share one u) is turned
 * around by Gourdon's inversion equality
 *     sum_{al < q <= hi} pi(t/q) = pi(hi) pi(t/hi) - pi(al) pi(t/al) + sum_{t/hi < r <= t/al} pi(t/r)
 * so every remaining term is "sparse" (independent iterations); the r-range lies inside the
 * sparse q-range (lo, s], where the two are summed in one loop with weight 2.
 * ======================================================================================== */
static ndp_i128 NDP_V(ndp_ac_table)(const ndp_ctx *C, int64_t b0, int64_t b1)
{
    const uint32_t *primes = C->primes;
    const uint64_t *T = C->pitab, *dm = C->dm;
    const uint8_t *dsh = C->dsh;
    uint64_t x = C->x, y = C->y, Ty = C->Ty;
    int64_t a = C->a, b;
    ndp_i128 res = 0;
    ndp_div_t dT = ndp_div_make(Ty + 1);
    ndp_acb *R = C->acb;
    for (b = b0; b < b1; b++) {
        ndp_acb *r = &R[b];
        uint64_t p = primes[b];
        uint64_t t = ndp_mdiv(x, dm[b], dsh[b]);
        uint64_t tp = ndp_mdiv(t, dm[b], dsh[b]);
        uint64_t tpp = ndp_mdiv(tp, dm[b], dsh[b]);
        int64_t ptp = NDP_V(pi)(T, tp < y ? tp : y);
        int64_t triv = a - (ptp > b ? ptp : b);
        uint64_t lo = tpp > p ? tpp : p, hi = tp < y ? tp : y;
        r->t = t;
        r->s1 = r->s2 = r->r1 = r->r2 = 0;
        r->amin = 1; r->amax = 0;
        if (hi <= lo) { res += triv; continue; }
        int64_t il = NDP_V(pi)(T, lo), ih = ptp;          /* pi(hi) = pi(min(y, t/p)) */
        int64_t acc = triv - (b - 2) * (ih - il);
        uint64_t s = ndp_isqrt(t);
        int64_t s1, s2, r1 = 0, r2 = 0;                  /* sparse (s1, s2], reflected (r1, r2] */
        if (hi <= s) {
            s1 = il; s2 = ih;
        } else {
            uint64_t al = lo > s ? lo : s;
            int64_t ial = NDP_V(pi)(T, al);
            uint64_t th = t / hi, ta = t / al;
            r1 = NDP_V(pi)(T, th);
            r2 = NDP_V(pi)(T, ta);
            acc += ih * r1 - ial * r2;
            s1 = il;
            s2 = lo < s ? NDP_V(pi)(T, s) : il;
        }
        /* sparse leaves with u > Ty are left to ndp_ac_chunk */
        {
            uint64_t qd = ndp_mdiv(t, dT.m, dT.sh);
            int64_t iq = NDP_V(pi)(T, qd < y ? qd : y);
            if (iq > s1) s1 = iq < s2 ? iq : s2;
        }
        r->s1 = s1; r->s2 = s2; r->r1 = r1; r->r2 = r2;
        /* the arguments t / q of both ranges lie in [amin, amax] */
        uint64_t amin = ~(uint64_t)0, amax = 0;
        if (s2 > s1) {
            uint64_t u0 = ndp_mdiv(t, dm[s2], dsh[s2]), u1 = ndp_mdiv(t, dm[s1 + 1], dsh[s1 + 1]);
            if (u0 < amin) amin = u0;
            if (u1 > amax) amax = u1;
        }
        if (r2 > r1) {
            uint64_t u0 = ndp_mdiv(t, dm[r2], dsh[r2]), u1 = ndp_mdiv(t, dm[r1 + 1], dsh[r1 + 1]);
            if (u0 < amin) amin = u0;
            if (u1 > amax) amax = u1;
        }
        r->amin = amin; r->amax = amax;
        res += (ndp_i128)acc;
    }
    return res;
}

/* The easy-leaf sums of ndp_ac_table's ranges whose arguments lie in [L, H) (L < H <= Ty + 1):
 * visiting the arguments segment by segment keeps the touched part of the pi table in the
 * L1/L2 cache (at 1e17 the table is 1.5 MB; primecount's Easy-Special-Leaves notes measure the
 * same effect with a segmented table).  Weights: 1 on (s1, s2] and on (r1, r2], 2 on both. */
static ndp_i128 NDP_V(ndp_ac_tseg)(const ndp_ctx *C, uint64_t L, uint64_t H, int64_t b0, int64_t b1)
{
    const uint32_t *primes = C->primes;
    const uint64_t *T = C->pitab, *dm = C->dm;
    const uint8_t *dsh = C->dsh;
    const ndp_acb *R = C->acb;
    uint64_t y = C->y;
    ndp_div_t dH = ndp_div_make(H), dL = ndp_div_make(L > 1 ? L : 2);
    ndp_i128 res = 0;
    int64_t b;
    for (b = b0; b < b1; b++) {
        const ndp_acb *r = &R[b];
        if (r->amax < L || r->amin >= H) continue;
        uint64_t t = r->t;
        uint64_t qa = ndp_mdiv(t, dH.m, dH.sh), qb = L > 1 ? ndp_mdiv(t, dL.m, dL.sh) : y;
        int64_t la = NDP_V(pi)(T, qa < y ? qa : y), lb = NDP_V(pi)(T, qb < y ? qb : y);
        int64_t s1 = r->s1 > la ? r->s1 : la, s2 = r->s2 < lb ? r->s2 : lb;
        int64_t r1 = r->r1 > la ? r->r1 : la, r2 = r->r2 < lb ? r->r2 : lb;
        if (s2 <= s1) { s1 = s2 = 0; }
        if (r2 <= r1) { r1 = r2 = 0; }
        int64_t o1 = s1 > r1 ? s1 : r1, o2 = s2 < r2 ? s2 : r2;
        int64_t sum1 = 0, sum2 = 0;
        if (o1 < o2) {
            sum2 = NDP_V(ac_sum)(T, primes, dm, dsh, C->inv, t, o1, o2);
            sum1 = NDP_V(ac_sum)(T, primes, dm, dsh, C->inv, t, s1, o1 < s2 ? o1 : s2)
                 + NDP_V(ac_sum)(T, primes, dm, dsh, C->inv, t, o2 > s1 ? o2 : s1, s2)
                 + NDP_V(ac_sum)(T, primes, dm, dsh, C->inv, t, r1, o1 < r2 ? o1 : r2)
                 + NDP_V(ac_sum)(T, primes, dm, dsh, C->inv, t, o2 > r1 ? o2 : r1, r2);
        } else {
            sum1 = NDP_V(ac_sum)(T, primes, dm, dsh, C->inv, t, s1, s2)
                 + NDP_V(ac_sum)(T, primes, dm, dsh, C->inv, t, r1, r2);
        }
        res += (ndp_i128)sum1 + 2 * (ndp_i128)sum2;
    }
    return res;
}

/* ==========================================================================================
 * AC, segmented part: the sparse easy leaves with argument u in (Ty, sqrt x], summed over a
 * chunk [lo, hi) of arguments with a segmented pi table (odd numbers, one bit each, and a
 * running count relative to the chunk start).  Records sum of relative pi values, number of
 * terms and the chunk's prime count; the caller adds the bases.
 * ======================================================================================== */
static void NDP_V(ndp_ac_chunk)(ndp_ctx *C, ndp_acchunk *out, int tid)
{
    const uint32_t *primes = C->primes;
    const uint64_t *T = C->pitab, *dm = C->dm;
    const uint8_t *dsh = C->dsh;
    uint64_t x = C->x, y = C->y, S = C->ac_seg;
    int64_t b0 = (C->b_sqrtz > C->k ? C->b_sqrtz : C->k) + 1;
    uint64_t nw = S >> 7;
    uint64_t *bits = (uint64_t *)malloc((nw + 1) * 8);
    uint64_t *L2 = (uint64_t *)malloc((nw + 1) * 16);
    double t0 = ndp_cpu_now();
    if (bits == NULL || L2 == NULL) { out->failed = 1; free(bits); free(L2); return; }
    uint64_t qacc = 0;
    ndp_i128 sum = 0;
    int64_t nterms = 0;
    uint64_t L;
    for (L = out->lo; L < out->hi && !C->abort; L += S) {
        uint64_t H = L + S < out->hi ? L + S : out->hi;
        uint64_t nb = (H - L) >> 1, w, q;            /* odd numbers L+1, L+3, ..., < H */
        uint64_t nwu = (nb + 63) >> 6;
        for (w = 0; w < nwu; w++) bits[w] = ~(uint64_t)0;
        if (nb & 63) bits[nwu - 1] = (((uint64_t)1) << (nb & 63)) - 1;
        int64_t l;
        for (l = 2; ; l++) {
            q = primes[l];
            if (q * q >= H) break;
            uint64_t st = ((L + q - 1) / q) * q;
            if (st < q * q) st = q * q;
            if ((st & 1) == 0) st += q;
            uint64_t i = (st - L - 1) >> 1;
            for (; i < nb; i += q) bits[i >> 6] &= ~(((uint64_t)1) << (i & 63));
        }
        uint64_t acc = qacc;
        for (w = 0; w < nwu; w++) {
            L2[2 * w] = bits[w];
            L2[2 * w + 1] = acc;
            acc += NDP_V(popc)(bits[w]);
        }
        L2[2 * nwu] = 0;
        L2[2 * nwu + 1] = acc;
        /* leaves with u in [L, H): b with p_b < min(H, sqrt(x / L)) */
        uint64_t lim = ndp_isqrt(x / L);
        if (lim > H - 1) lim = H - 1;
        int64_t b1 = NDP_V(pi)(T, lim < y ? lim : y);
        if (b1 > C->b_acdef) b1 = C->b_acdef;
        ndp_div_t dH = ndp_div_make(H), dL = ndp_div_make(L);
        int64_t b;
        for (b = b0; b <= b1; b++) {
            int64_t hq = C->acq_hi[b], lq = C->acq_lo[b];
            if (hq <= lq) continue;
            uint64_t t = ndp_mdiv(x, dm[b], dsh[b]);
            uint64_t qa = ndp_mdiv(t, dH.m, dH.sh), qb = ndp_mdiv(t, dL.m, dL.sh);
            if (qa >= y) continue;
            int64_t la = NDP_V(pi)(T, qa), lb = NDP_V(pi)(T, qb < y ? qb : y);
            if (la > lq) lq = la;
            if (lb < hq) hq = lb;
            int64_t part = 0;
            for (l = lq + 1; l <= hq; l++) {
                uint64_t u = ndp_mdiv(t, dm[l], dsh[l]);
                uint64_t tt = (u - L + 1) >> 1, ww = tt >> 6;
                part += (int64_t)(L2[2 * ww + 1] + NDP_V(popc)(L2[2 * ww] & ((((uint64_t)1) << (tt & 63)) - 1)));
            }
            if (hq > lq) { sum += part; nterms += hq - lq; }
        }
        qacc = acc;
        __atomic_fetch_add(&C->done, (int64_t)(H - L), __ATOMIC_RELAXED);
        if (tid == 0 && C->poll) C->poll(C->poll_arg);
    }
    out->sum = sum;
    out->nterms = nterms;
    out->qcount = (int64_t)qacc;
    out->secs = ndp_cpu_now() - t0;
    free(bits);
    free(L2);
}

/* ==========================================================================================
 * D and B: the segmented sieve of [0, Zs), Zs = x / y + 1, one bit per number coprime to 30.
 * Per segment [low, high):
 *   1. copy the pre-sieve patterns (7, 11, 13 and 17, 19 removed: phi(., 8));
 *   2. for b = 9, 10, ... while b still has leaves at u >= low: answer the leaves of b in the
 *      segment (phi(u, b-1) = running base + survivors <= u, counted from per-block counters and
 *      POPCNT on the remaining words, resumed leaf to leaf since u increases), add the segment's
 *      survivors to the base of b, and cross off p_b, updating the counters;
 *   3. cross off the remaining primes up to sqrt(high): the survivors are then the primes;
 *   4. B: pi(x / p) for the primes p in (y, sqrt x] with x / p in the segment.
 * The chunk does not know the bases at its start (phi(clow - 1, b - 1), pi(clow - 1)); it
 * records the coefficients, and the caller stitches the chunks exactly.
 * ======================================================================================== */

/* cross off the multiples p*m (m coprime to 30) of p in the segment [sb, sb + nbytes) (bytes);
 * state: *pb = absolute byte of the next multiple, *pw = wheel index of its m.
 * mode 0: plain; 1: also count the bits cleared (returned); 2: also the per-block counters. */
NDP_PROF_INLINE uint64_t NDP_V(cross)(uint8_t *S, uint64_t nbytes, uint64_t sb, uint64_t p, uint64_t *pb,
                                    uint8_t *pw, int mode, uint32_t *cnt, int clb)
{
    if (*pb >= sb + nbytes) return 0;
    uint64_t a = p / 30, i = *pb - sb, removed = 0;
    int ri = NDP_BIT30[p % 30], j = *pw;
    const uint8_t *cq = NDP_CQ[ri], *cb = NDP_CB[ri];
    uint64_t o[9];
    int jj;
    for (jj = 0; jj < 8; jj++) o[jj] = a * NDP_R30[jj] + cq[jj];
    o[8] = p + o[0];
#define NDP_CLR(pos, bit)                                                   \
    do {                                                                     \
        uint8_t *_s = S + (pos);                                             \
        if (mode == 0) *_s &= (uint8_t)~(1u << (bit));                       \
        else {                                                               \
            uint32_t _v = (*_s >> (bit)) & 1u;                               \
            *_s &= (uint8_t)~(1u << (bit));                                  \
            removed += _v;                                                   \
            if (mode == 2) cnt[(pos) >> clb] -= _v;                          \
        }                                                                    \
    } while (0)
    /* finish the current cycle */
    while (j != 0) {
        NDP_CLR(i, cb[j]);
        i += o[j + 1] - o[j];
        j = (j + 1) & 7;
        if (i >= nbytes) goto done;
    }
    {
        uint64_t base = i - o[0];
        if (mode == 0) {
            for (; base + o[7] < nbytes; base += p) {
                S[base + o[0]] &= (uint8_t)~(1u << cb[0]);
                S[base + o[1]] &= (uint8_t)~(1u << cb[1]);
                S[base + o[2]] &= (uint8_t)~(1u << cb[2]);
                S[base + o[3]] &= (uint8_t)~(1u << cb[3]);
                S[base + o[4]] &= (uint8_t)~(1u << cb[4]);
                S[base + o[5]] &= (uint8_t)~(1u << cb[5]);
                S[base + o[6]] &= (uint8_t)~(1u << cb[6]);
                S[base + o[7]] &= (uint8_t)~(1u << cb[7]);
            }
        } else {
            for (; base + o[7] < nbytes; base += p) {
                NDP_CLR(base + o[0], cb[0]);
                NDP_CLR(base + o[1], cb[1]);
                NDP_CLR(base + o[2], cb[2]);
                NDP_CLR(base + o[3], cb[3]);
                NDP_CLR(base + o[4], cb[4]);
                NDP_CLR(base + o[5], cb[5]);
                NDP_CLR(base + o[6], cb[6]);
                NDP_CLR(base + o[7], cb[7]);
            }
        }
        i = base + o[0];
        j = 0;
        while (i < nbytes) {
            NDP_CLR(i, cb[j]);
            i += o[j + 1] - o[j];
            j = (j + 1) & 7;
        }
    }
done:
#undef NDP_CLR
    *pb = sb + i;
    *pw = (uint8_t)j;
    return removed;
}

/* the descending prime generator of B: primes in (lo_excl, top], largest first */
typedef struct {
    uint64_t lo_excl, next_top, base;
    uint64_t *bits;
    int64_t w;
    uint64_t cur;
} NDP_V(ndp_gen);

#define NDP_GENBLOCK (1 << 21)

static uint64_t NDP_V(gen_next)(NDP_V(ndp_gen) *G, const uint32_t *primes)
{
    for (;;) {
        if (G->cur != 0) {
            int j = 63 - __builtin_clzll(G->cur);
            G->cur &= ~(((uint64_t)1) << j);
            uint64_t v = G->base + 2 * (((uint64_t)G->w << 6) + (uint64_t)j) + 1;
            return v > G->lo_excl ? v : 0;
        }
        if (G->w > 0) {
            G->w--;
            G->cur = G->bits[G->w];
            continue;
        }
        if (G->next_top <= G->lo_excl) return 0;
        uint64_t bh = G->next_top, bl = G->lo_excl + 1;
        if (bh - bl + 1 > NDP_GENBLOCK) bl = bh - NDP_GENBLOCK + 1;
        G->next_top = bl - 1;
        G->base = bl & ~(uint64_t)1;
        uint64_t nb = (bh + 1 - G->base) >> 1;
        int64_t nw = (int64_t)((nb + 63) >> 6), w, k;
        for (w = 0; w < nw; w++) G->bits[w] = ~(uint64_t)0;
        if (nb & 63) G->bits[nw - 1] = (((uint64_t)1) << (nb & 63)) - 1;
        for (k = 2;; k++) {
            uint64_t q = primes[k];
            if (q * q > bh) break;
            uint64_t s = ((G->base + 1 + q - 1) / q) * q;
            if (s < q * q) s = q * q;
            if ((s & 1) == 0) s += q;
            uint64_t i = (s - G->base - 1) >> 1;
            for (; i < nb; i += q) G->bits[i >> 6] &= ~(((uint64_t)1) << (i & 63));
        }
        G->w = nw - 1;
        G->cur = G->bits[G->w];
    }
}

/* count of survivors at offsets <= pos of the segment (resumable cursor, pos nondecreasing) */
typedef struct {
    const uint64_t *w;
    const uint32_t *cnt;
    uint64_t cw, acc, cbk, bacc;
    int clw;
} NDP_V(ndp_cur);

NDP_PROF_INLINE uint64_t NDP_V(cur_count)(NDP_V(ndp_cur) *c, uint64_t pos)
{
    uint64_t wi = pos / 240, r = pos - wi * 240;
    uint64_t tb = wi >> c->clw;
    if ((tb << c->clw) > c->cw) {
        while (c->cbk < tb) c->bacc += c->cnt[c->cbk++];
        c->cw = tb << c->clw;
        c->acc = c->bacc;
    }
    while (c->cw < wi) c->acc += NDP_V(popc)(c->w[c->cw++]);
    return c->acc + NDP_V(popc)(c->w[wi] & NDP_MLE240[r]);
}

#define NDP_LBUF 256

/* The admissible m of a hard-leaf pass: factor-table indices j in (lo, hi] with F[j] > enc,
 * ascending, into lb (at most hi - lo <= NDP_BATCH of them).  AVX-512: 32 entries per compare,
 * the passing indices packed by VPCOMPRESSD (register form, then one store). */
#define NDP_BATCH 224
static inline int NDP_V(ft_filter)(const uint16_t *F, int64_t lo, int64_t hi, uint16_t enc, uint32_t *lb)
{
    int n = 0;
    int64_t j = lo + 1;
#if NDP_LEVEL >= 2
    const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i sixteen = _mm512_set1_epi32(16);
    const __m512i e = _mm512_set1_epi16((short)enc);
    for (; j <= hi; j += 32) {
        int64_t left = hi + 1 - j;
        __mmask32 lm = left >= 32 ? (__mmask32)0xFFFFFFFFu : (__mmask32)((1u << left) - 1);
        __m512i v = _mm512_maskz_loadu_epi16(lm, (const void *)(F + j));
        __mmask32 m = _mm512_mask_cmpgt_epu16_mask(lm, v, e);
        __m512i ix = _mm512_add_epi32(_mm512_set1_epi32((int)j), iota);
        __mmask16 m0 = (__mmask16)(m & 0xFFFF), m1 = (__mmask16)(m >> 16);
        _mm512_storeu_si512((void *)(lb + n), _mm512_maskz_compress_epi32(m0, ix));
        n += __builtin_popcount((unsigned)m0);
        _mm512_storeu_si512((void *)(lb + n), _mm512_maskz_compress_epi32(m1, _mm512_add_epi32(ix, sixteen)));
        n += __builtin_popcount((unsigned)m1);
    }
#else
    for (; j <= hi; j++) {
        lb[n] = (uint32_t)j;
        n += F[j] > enc;
    }
#endif
    return n;
}


/* ub[q] = xp / fnum(lb[q]).  AVX-512: eight at once, m from the index by multiply-shift
 * ((j >> 5) / 15 = ((j >> 5) * 286331154) >> 32 for j < 2**32) and a gather, the quotient by
 * double division (within 1 of the floor since xp / m < 2**51) and one exact correction each
 * way with 64-bit products. */
static inline void NDP_V(ft_div)(uint64_t xp, const uint32_t *lb, int n, uint64_t *ub)
{
    int q = 0;
#if NDP_LEVEL >= 2
    const __m512i one = _mm512_set1_epi64(1), M15 = _mm512_set1_epi64(286331154);
    const __m512i c480 = _mm512_set1_epi64(480), c2310 = _mm512_set1_epi64(2310);
    const __m512i xv = _mm512_set1_epi64((long long)xp);
    const __m512d xd = _mm512_set1_pd((double)xp);
    for (; q + 8 <= n; q += 8) {
        __m512i ix = _mm512_cvtepu32_epi64(_mm256_loadu_si256((const __m256i *)(lb + q)));
        __m512i qq = _mm512_srli_epi64(_mm512_mul_epu32(_mm512_srli_epi64(ix, 5), M15), 32);
        __m512i r = _mm512_sub_epi64(ix, _mm512_mullo_epi64(qq, c480));
        __m512i m = _mm512_add_epi64(_mm512_mullo_epi64(qq, c2310),
                                     _mm512_i64gather_epi64(r, (const void *)NDP_C2310_64, 8));
        __m512i u = _mm512_cvttpd_epu64(_mm512_div_pd(xd, _mm512_cvtepu64_pd(m)));
        __m512i um = _mm512_mullo_epi64(u, m);
        __mmask8 gt = _mm512_cmpgt_epu64_mask(um, xv);
        u = _mm512_mask_sub_epi64(u, gt, u, one);
        um = _mm512_mask_sub_epi64(um, gt, um, m);
        __mmask8 le = _mm512_cmple_epu64_mask(_mm512_add_epi64(um, m), xv);
        u = _mm512_mask_add_epi64(u, le, u, one);
        _mm512_storeu_si512((void *)(ub + q), u);
    }
#endif
    for (; q < n; q++) ub[q] = xp / ndp_fnum(lb[q]);
}

static void NDP_V(ndp_d_chunk)(ndp_ctx *C, ndp_dchunk *out, int tid)
{
    const uint32_t *primes = C->primes;
    const uint64_t *T = C->pitab, *dm = C->dm;
    const uint8_t *dsh = C->dsh;
    const uint16_t *F = C->F;
    uint64_t x = C->x, y = C->y, z = C->z, Zs = C->Zs;
    int64_t k = C->k, bsz = C->b_sqrtz;
    uint64_t SB = C->seg_bytes, SN = SB * 30;
    uint64_t nwmax = SB >> 3;
    int clw = C->clw, clb = clw + 3;
    uint64_t nblk = (nwmax >> clw) + 1;
    double t0 = ndp_cpu_now();
    if (out->chigh <= out->clow || out->clow >= Zs) return;   /* empty chunk */
    uint64_t *W = (uint64_t *)malloc((nwmax + 8) * 8);
    uint32_t *cnt = (uint32_t *)malloc((nblk + 1) * 4);
    uint32_t *pref = (uint32_t *)malloc((nwmax + 1) * 4);
    int64_t bsmax = C->b_sieve > C->b_dmax ? C->b_sieve : C->b_dmax;
    uint64_t *pbyte = (uint64_t *)malloc((size_t)(bsmax + 2) * 8);
    uint8_t *pwi = (uint8_t *)malloc((size_t)(bsmax + 2));
    uint64_t *gbits = (uint64_t *)malloc((NDP_GENBLOCK / 128 + 2) * 8);
    uint32_t *lb = (uint32_t *)malloc(NDP_LBUF * 4 + 64);
    uint64_t *ub = (uint64_t *)malloc(NDP_LBUF * 8 + 64);
    int64_t *rg0 = (int64_t *)malloc((size_t)(bsmax + 3) * 8);
    int64_t *rg1 = (int64_t *)malloc((size_t)(bsmax + 3) * 8);
    uint8_t *rgp = (uint8_t *)malloc((size_t)(bsmax + 3));
    int64_t *pq0 = (int64_t *)malloc((size_t)(bsmax + 3) * 8);
    int64_t *pq1 = (int64_t *)malloc((size_t)(bsmax + 3) * 8);
    if (!W || !cnt || !pref || !pbyte || !pwi || !gbits || !lb || !ub || !rg0 || !rg1 || !rgp || !pq0 || !pq1) {
        out->failed = 1;
        goto cleanup;
    }
    uint8_t *S = (uint8_t *)W;
    int64_t *phib = out->cnt, *coef = out->coef;
    ndp_i128 hard = 0, bsum = 0;
    int64_t bcnt = 0, bnp = 0, nleaves = 0;
    uint64_t qacc = 0;
    uint64_t low = out->clow;
    int64_t bt = C->b_dmax, b, binit = k;      /* primes up to index binit have a state */

    /* B's primes: p in (max(y, x / chigh'), min(sqrtx, x / clow)] (x / p in [clow, chigh')) */
    NDP_V(ndp_gen) G;
    uint64_t chi = out->chigh < Zs ? out->chigh : Zs;
    G.bits = gbits; G.w = 0; G.cur = 0; G.base = 0;
    G.lo_excl = x / chi;
    if (G.lo_excl < y) G.lo_excl = y;
    G.next_top = C->sqrtx;
    if (low > 0 && x / low < G.next_top) G.next_top = x / low;
    uint64_t gp = G.next_top > G.lo_excl ? NDP_V(gen_next)(&G, primes) : 0;

    while (low < out->chigh && low < Zs && !C->abort) {
        uint64_t high = low + SN;
        if (high > Zs) high = Zs;
        uint64_t nbytes = ((high - low + 239) / 240) * 8, nw = nbytes >> 3, sb = low / 30, w;
        /* 1. pre-sieve */
        {
            uint64_t o1 = sb % NDP_PER1, o2 = sb % NDP_PER2, i;
            for (i = 0; i < nbytes; i += 8) {
                uint64_t v1, v2;
                memcpy(&v1, NDP_PAT1 + o1 + i, 8);
                memcpy(&v2, NDP_PAT2 + o2 + i, 8);
                W[i >> 3] = v1 & v2;
            }
            if (high - low < nw * 240) {                   /* numbers >= high: not in [0, Zs) */
                uint64_t r = high - low - 1 - (nw - 1) * 240;
                W[nw - 1] &= NDP_MLE240[r];
            }
        }
        while (bt > k && C->umax[bt] < low) bt--;
        uint64_t rt = ndp_isqrt(high - 1);
        int64_t bs = NDP_V(pi)(T, rt);                      /* primes <= sqrt(high - 1) */
        int64_t bcross = bs > bt ? bs : bt;                 /* cross p_{k+1} .. p_bcross */
        if (bcross < k) bcross = k;
        if (binit > bcross) binit = bcross;                 /* states above were not advanced */
        for (; binit < bcross; ) {                          /* states of primes met first now */
            binit++;
            uint64_t p = primes[binit];
            uint64_t m0 = (low + p - 1) / p;
            if (m0 == 0) m0 = 1;
            uint64_t m = m0 + NDP_NEXT30[m0 % 30];
            pbyte[binit] = (p * m) / 30;
            pwi[binit] = (uint8_t)NDP_BIT30[m % 30];
        }
        uint64_t total = 0;
        uint64_t nbk = (nw + ((uint64_t)1 << clw) - 1) >> clw;
        ndp_div_t dhi = ndp_div_make(high), dlo = ndp_div_make(low > 1 ? low : 2);
        /* 2a. the leaf ranges of every b in this segment (factor-table indices (r0, r1] for
         * b <= pi(sqrt z), prime indices (r0, r1] above), and how to count: a prefix count
         * per word when the range is dense (O(1) per leaf after one pass), else the counters */
        for (b = k + 1; b <= bt; b++) {
            uint64_t p = primes[b];
            uint64_t xp = ndp_mdiv(x, dm[b], dsh[b]);
            int64_t r0 = 0, r1 = 0;
            pq0[b] = pq1[b] = 0;
            if (b <= bsz) {
                uint64_t mlo = ndp_mdiv(z, dm[b], dsh[b]);
                uint64_t t2 = ndp_mdiv(xp, dhi.m, dhi.sh);
                if (t2 > mlo) mlo = t2;
                uint64_t mhi = z;
                if (low > 0) { uint64_t t3 = ndp_mdiv(xp, dlo.m, dlo.sh); if (t3 < mhi) mhi = t3; }
                if (mhi > mlo) {
                    /* m <= p^2 can only be a prime (a composite m has lpf > p): those from the
                     * prime table, the rest from the factor table */
                    uint64_t pp = C->pq_split ? p * p : mlo, cm = mlo > pp ? mlo : pp;
                    if (mhi > cm) { r1 = ndp_fidx(mhi); r0 = ndp_fidx(cm); }
                    uint64_t qm = mhi < pp ? mhi : pp;
                    if (qm > y) qm = y;
                    if (qm > mlo) { pq1[b] = NDP_V(pi)(T, qm); pq0[b] = NDP_V(pi)(T, mlo); }
                }
            } else {
                uint64_t qhi = ndp_mdiv(ndp_mdiv(xp, dm[b], dsh[b]), dm[b], dsh[b]);
                if (qhi > y) qhi = y;
                if (low > 0) { uint64_t t3 = ndp_mdiv(xp, dlo.m, dlo.sh); if (t3 < qhi) qhi = t3; }
                uint64_t qlo = ndp_mdiv(xp, dhi.m, dhi.sh);
                if (qlo < p) qlo = p;
                if (qhi > qlo) { r1 = NDP_V(pi)(T, qhi); r0 = NDP_V(pi)(T, qlo); }
            }
            rg0[b] = r0;
            rg1[b] = r1;
            rgp[b] = (uint8_t)((uint64_t)(r1 - r0 + pq1[b] - pq0[b]) * C->pref_den >= nw * C->pref_num);
        }
        rgp[bt + 1] = 1;
        int cvalid = 0;
        {
            uint64_t i;
            for (i = 0; i < nw; i++) total += NDP_V(popc)(W[i]);
        }
        /* 2b. leaves and crossing with counts */
        for (b = k + 1; b <= bt; b++) {
            uint64_t p = primes[b];
            uint64_t xp = ndp_mdiv(x, dm[b], dsh[b]);
            int64_t segcoef = 0, segsum = 0;
            int64_t r0 = rg0[b], r1 = rg1[b];
            int usepref = rgp[b];
            if (r1 > r0 || pq1[b] > pq0[b]) {
                if (usepref) {
                    uint64_t i, acc = 0;
                    for (i = 0; i < nw; i++) { pref[i] = (uint32_t)acc; acc += NDP_V(popc)(W[i]); }
                } else if (!cvalid) {
                    uint64_t bk;
                    for (bk = 0; bk < nbk; bk++) {
                        uint64_t e = (bk + 1) << clw;
                        if (e > nw) e = nw;
                        cnt[bk] = (uint32_t)NDP_V(popc_words)(W + (bk << clw), e - (bk << clw));
                    }
                    cvalid = 1;
                }
            }
            NDP_V(ndp_cur) cur;
            cur.w = W; cur.cnt = cnt; cur.cw = 0; cur.acc = 0; cur.cbk = 0; cur.bacc = 0; cur.clw = clw;
#define NDP_COUNT(pos) (usepref ? (int64_t)(pref[(pos) / 240] + NDP_V(popc)(W[(pos) / 240] & NDP_MLE240[(pos) % 240])) \
                                : (int64_t)NDP_V(cur_count)(&cur, (pos)))
            if (r1 > r0 && b <= bsz) {
                int64_t i0 = r0, i = r1;
                uint16_t enc = (uint16_t)(2 * b + 1);
                while (i > i0) {
                    /* batch (stop, i]: admissible indices ascending, then counted from the top
                     * so that u = xp / m increases (the counters' cursor moves forward) */
                    int64_t stop = i - NDP_BATCH;
                    if (stop < i0) stop = i0;
                    int nbuf = NDP_V(ft_filter)(F, stop, i, enc, lb);
                    NDP_V(ft_div)(xp, lb, nbuf, ub);
                    i = stop;
                    int q;
                    if (usepref) {
                        for (q = nbuf - 1; q >= 0; q--) {
                            uint64_t pos = ub[q] - low, wi = pos / 240;
                            int64_t c = (int64_t)(pref[wi] + NDP_V(popc)(W[wi] & NDP_MLE240[pos - wi * 240]));
                            int64_t sg = 2 * (int64_t)(F[lb[q]] & 1) - 1;   /* -mu(m) */
                            segsum += sg * c;
                            segcoef += sg;
                        }
                    } else {
                        for (q = nbuf - 1; q >= 0; q--) {
                            int64_t c = (int64_t)NDP_V(cur_count)(&cur, ub[q] - low);
                            int64_t sg = 2 * (int64_t)(F[lb[q]] & 1) - 1;   /* -mu(m) */
                            segsum += sg * c;
                            segcoef += sg;
                        }
                    }
                    nleaves += nbuf;
                }
            }
            if (b <= bsz && pq1[b] > pq0[b]) {
                int64_t l;
                for (l = pq1[b]; l > pq0[b]; l--) {
                    uint64_t u = ndp_mdiv(xp, dm[l], dsh[l]);
                    segsum += NDP_COUNT(u - low);
                }
                segcoef += pq1[b] - pq0[b];
                nleaves += pq1[b] - pq0[b];
            } else if (b > bsz && r1 > r0) {
                int64_t l;
                for (l = r1; l > r0; l--) {
                    uint64_t u = ndp_mdiv(xp, dm[l], dsh[l]);
                    segsum += NDP_COUNT(u - low);
                }
                segcoef = r1 - r0;
                nleaves += segcoef;
            }
#undef NDP_COUNT
            if (segcoef != 0 || segsum != 0) {
                hard += (ndp_i128)phib[b] * segcoef + segsum;
                coef[b] += segcoef;
            }
            phib[b] += (int64_t)total;
            /* cross off p_b: the counters are kept up to date only if b + 1 reads them */
            if (b < bt) {
                int need = !rgp[b + 1] && (rg1[b + 1] > rg0[b + 1] || pq1[b + 1] > pq0[b + 1]);
                if (p < C->recount_p) {
                    NDP_V(cross)(S, nbytes, sb, p, &pbyte[b], &pwi[b], 0, cnt, clb);
                    total = NDP_V(popc_words)(W, nw);
                    cvalid = 0;
                } else if (need && cvalid) {
                    total -= NDP_V(cross)(S, nbytes, sb, p, &pbyte[b], &pwi[b], 2, cnt, clb);
                } else {
                    total -= NDP_V(cross)(S, nbytes, sb, p, &pbyte[b], &pwi[b], 1, cnt, clb);
                    cvalid = 0;
                }
            } else {
                NDP_V(cross)(S, nbytes, sb, p, &pbyte[b], &pwi[b], 0, cnt, clb);
            }
        }
        /* 3. the remaining sieving primes */
        for (b = (bt > k ? bt : k) + 1; b <= bcross; b++)
            NDP_V(cross)(S, nbytes, sb, primes[b], &pbyte[b], &pwi[b], 0, cnt, clb);
        /* survivors: 1 (if low = 0) and the primes of the segment above primes[bcross] */
        uint64_t pc = primes[bcross > k ? bcross : k];
        int64_t corr = 0;
        if (low <= pc) {
            uint64_t e = high - 1 < pc ? high - 1 : pc;
            corr = NDP_V(pi)(T, e) - (low > 0 ? NDP_V(pi)(T, low - 1) : 0);
        }
        if (low == 0) corr -= 1;
        /* 4. B terms with x / p in [low, high) */
        uint64_t xh = x / high;
        if (gp != 0 && gp > xh) {
            uint64_t acc = 0;
            for (w = 0; w < nw; w++) { pref[w] = (uint32_t)acc; acc += NDP_V(popc)(W[w]); }
            int64_t part = 0, nt = 0;
            while (gp != 0 && gp > xh) {
                uint64_t v = x / gp;
                uint64_t pos = v - low, wi = pos / 240, r = pos - wi * 240;
                part += (int64_t)(pref[wi] + NDP_V(popc)(W[wi] & NDP_MLE240[r]));
                nt++;
                gp = NDP_V(gen_next)(&G, primes);
            }
            bsum += (ndp_i128)part + (ndp_i128)nt * ((int64_t)qacc + corr);
            bcnt += nt;
            bnp += nt;
            qacc += acc + corr;
        } else {
            qacc += NDP_V(popc_words)(W, nw) + corr;
        }
        __atomic_fetch_add(&C->done, (int64_t)(high - low), __ATOMIC_RELAXED);
        low = high;
        if (tid == 0 && C->poll) C->poll(C->poll_arg);
    }
    out->hard = hard;
    out->bsum = bsum;
    out->bcnt = bcnt;
    out->bnp = bnp;
    out->qcount = (int64_t)qacc;
    out->nleaves = nleaves;
cleanup:
    out->secs = ndp_cpu_now() - t0;
    free(W); free(cnt); free(pref); free(pbyte); free(pwi); free(gbits); free(lb); free(ub);
    free(rg0); free(rg1); free(rgp); free(pq0); free(pq1);
}
