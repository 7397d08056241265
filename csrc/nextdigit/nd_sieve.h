/* nd_sieve.h -- the segmented sieve of Eratosthenes behind nextdigit._sieve.
 *
 * The design, the measured effect of every layer and the thread model are described in the
 * docstring of _sieve.pyx; the comments here only say what each piece of code does.
 *
 * Bit layout: byte k of the number line holds 30k + {1, 7, 11, 13, 17, 19, 23, 29}, bit i for
 * the i-th residue.  A sieving prime p = 30q + r crosses off p*m for m coprime to 30 (small and
 * medium primes: state = byte offset + wheel index w of m mod 30) or coprime to 210 (big primes:
 * state = byte offset + index j of m mod 210 among its 48 residues).
 *
 * Everything here is plain C99 + GCC/Clang builtins.  Vector code (pre-sieve, popcount) sits in
 * functions with target attributes, chosen once at run time (nd_sv_init); the portable versions
 * give the same bytes.  OpenMP is optional: without it the parallel region runs on one thread.
 */
#ifndef ND_SIEVE_H
#define ND_SIEVE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#if defined(__unix__) || defined(__APPLE__)
#include <pthread.h>
#include <sys/mman.h>
#define ND_HAVE_PTHREAD 1
#define ND_HAVE_MMAP 1
#else
#define ND_HAVE_PTHREAD 0
#define ND_HAVE_MMAP 0
#endif
#ifdef _OPENMP
#include <omp.h>
#endif

#if defined(__x86_64__) && defined(__GNUC__) && !defined(ND_SV_PORTABLE)
#define ND_SV_X86 1
#include <immintrin.h>
#else
#define ND_SV_X86 0
#endif

#define ND_AI static inline __attribute__((always_inline))
#define ND_NI static __attribute__((noinline))
#define ND_LIKELY(x) __builtin_expect(!!(x), 1)
#define ND_UNLIKELY(x) __builtin_expect(!!(x), 0)

typedef uint64_t nd_u64;
typedef uint32_t nd_u32;
typedef uint8_t nd_u8;

/* ------------------------------------------------------------------------------------------ */
/* Wheel tables.  The mod-30 ones are compile-time constants, so that inside a loop specialised */
/* on (ri, w) the masks and steps fold into immediates.                                        */
/* ------------------------------------------------------------------------------------------ */
static const int ND_RES[8] = {1, 7, 11, 13, 17, 19, 23, 29};
static const int ND_RES9[9] = {1, 7, 11, 13, 17, 19, 23, 29, 31};
/* residue -> bit index (-1 when not coprime to 30) */
static const int ND_BITOF[30] = {-1, 0, -1, -1, -1, -1, -1, 1, -1, -1, -1, 2, -1, 3, -1,
                                 -1, -1, 4, -1, 5, -1, -1, -1, 6, -1, -1, -1, -1, -1, 7};
/* smallest w with ND_RES[w] >= x (x = 0..29) */
static const int ND_NEXTW[30] = {0, 0, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 4, 4, 4, 4, 5, 5,
                                 6, 6, 6, 6, 7, 7, 7, 7, 7, 7};
/* bits of residues >= x / <= x */
static nd_u8 ND_LOMASK[30], ND_HIMASK[30];

/* E(ri, w) = (r * m_w) // 30, the byte of the w-th multiple within a wheel cycle beyond q*m_w */
#define ND_E(ri, w) ((ND_RES[ri] * ND_RES9[w]) / 30)
/* ~bit of the w-th multiple of a prime of class ri */
#define ND_M(ri, w) ((nd_u8)~(1u << ND_BITOF[(ND_RES[ri] * ND_RES9[w]) % 30]))
/* byte step from the w-th to the (w+1)-th multiple: q*(m_{w+1} - m_w) + E(ri,w+1) - E(ri,w) */
#define ND_STEP(q, ri, w) ((q) * (nd_u64)(ND_RES9[(w) + 1] - ND_RES9[w]) + (nd_u64)(ND_E(ri, (w) + 1) - ND_E(ri, w)))
/* byte offset of the i-th multiple from the 0-th one in a cycle: q*(m_i - 1) + E(ri, i) */
#define ND_D(q, ri, i) ((q) * (nd_u64)(ND_RES[i] - 1) + (nd_u64)ND_E(ri, i))

/* run-time tables (same values, indexed by variables) */
static nd_u8 ND_MT[8][8];
static nd_u32 ND_GAPT[8];
static nd_u32 ND_DET[8][8];
static nd_u32 ND_ET[8][9];
static int ND_RIOF[30];
static nd_u64 ND_NUMOFBIT[64];

/* mod-210 wheel for the big primes: the 48 residues coprime to 210 and 211 (the wrap) */
static int ND_R210[49];
static int ND_NEXT210[210];            /* smallest j with ND_R210[j] >= x */
static nd_u8 ND_DLT210[210];           /* ND_R210[ND_NEXT210[x]] - x */
static nd_u32 ND_JD210[210];           /* ND_NEXT210[x] | ND_DLT210[x] << 8 (for gathers) */
/* wheel state s = ri * 48 + j of a big prime's multiple p*m (m = m_j mod 210), packed in a word:
 * mask (~bit of the multiple) | gap (m_{j+1} - m_j) << 8 | corr (E(ri, j+1) - E(ri, j), with
 * E(ri, j) = (r * m_j) // 30) << 16 | next state << 32 */
static nd_u64 ND_W210X[384];

/* ------------------------------------------------------------------------------------------ */
/* Pre-sieve tables (primes 7..251)                                                            */
/* ------------------------------------------------------------------------------------------ */
#define ND_PS_NT 24
typedef char nd_ps_nt_is_24[ND_PS_NT == 24 ? 1 : -1];   /* the AVX-512 AND tree is written for 24 */
#define ND_PS_BLOCK 4096                /* bytes per pre-sieve block: tables are read contiguously */
#ifndef ND_PS_UPTO37
#define ND_PS_MAXP 251
#else                                   /* measurement build: only 7..37 pre-sieved (tables 3.. all ones) */
#define ND_PS_MAXP 37
#endif
static const int ND_PS_GROUPS[ND_PS_NT][4] = {
    {7, 11, 13, 17}, {19, 23, 29, 0}, {31, 37, 0, 0}, {41, 163, 0, 0}, {43, 157, 0, 0}, {47, 151, 0, 0},
    {53, 149, 0, 0}, {59, 139, 0, 0}, {61, 137, 0, 0}, {67, 131, 0, 0}, {71, 127, 0, 0}, {73, 113, 0, 0},
    {79, 109, 0, 0}, {83, 107, 0, 0}, {89, 103, 0, 0}, {97, 101, 0, 0}, {167, 251, 0, 0}, {173, 241, 0, 0},
    {179, 239, 0, 0}, {181, 233, 0, 0}, {191, 229, 0, 0}, {193, 227, 0, 0}, {197, 223, 0, 0}, {199, 211, 0, 0}};
static nd_u32 ND_PS_PER[ND_PS_NT];
static nd_u8 *ND_PS_TAB[ND_PS_NT];
/* bytes 0..8 of the number line with the primes 7..251 set (the tables clear them) */
#define ND_PS_KEEPB (ND_PS_MAXP / 30 + 1)
static nd_u8 ND_PS_KEEP[ND_PS_KEEPB];

/* ------------------------------------------------------------------------------------------ */
/* Primes below 2**22, kept for every call (small and medium sieving primes, and the base of   */
/* the big-prime producers)                                                                    */
/* ------------------------------------------------------------------------------------------ */
#define ND_BASE_LIMIT (1u << 22)
static nd_u32 *ND_BASE = NULL;
static size_t ND_NBASE = 0;

/* cache sizes detected at init */
static nd_u64 ND_L1D = 0, ND_L2 = 0;

/* dispatched kernels */
typedef void (*nd_presieve_fn)(nd_u8 *, nd_u64, nd_u64);
typedef nd_u64 (*nd_count_fn)(const nd_u8 *, nd_u64);
static nd_presieve_fn nd_presieve_impl;
static nd_count_fn nd_count_impl;
static int ND_SIMD_LEVEL = 0;          /* 0 portable, 1 SSE2, 2 AVX2, 3 AVX-512BW (pre-sieve) */
static int ND_POP_LEVEL = 0;           /* 0 portable, 1 POPCNT, 2 AVX-512 VPOPCNTDQ */

ND_AI nd_u64 nd_load64(const void *p)
{
    nd_u64 v;
    memcpy(&v, p, 8);
    return v;
}

ND_AI void nd_store64(void *p, nd_u64 v) { memcpy(p, &v, 8); }

ND_AI nd_u64 nd_popc_soft(nd_u64 x)
{
    x = x - ((x >> 1) & 0x5555555555555555ULL);
    x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
    x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0FULL;
    return (x * 0x0101010101010101ULL) >> 56;
}

static double nd_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* ------------------------------------------------------------------------------------------ */
/* Pre-sieve: seg[0 : round_up(n, 64)) = AND of the 16 tables at the phase of byte segb.       */
/* The buffer must have 64 bytes of slack; the tables have ND_PS_BLOCK + 64 bytes of slack.    */
/* ------------------------------------------------------------------------------------------ */
ND_AI void nd_ps_phases(const nd_u8 **t, nd_u64 b)
{
    for (int i = 0; i < ND_PS_NT; i++)
        t[i] = ND_PS_TAB[i] + b % ND_PS_PER[i];
}

static void nd_presieve_c(nd_u8 *seg, nd_u64 segb, nd_u64 n)
{
    const nd_u8 *t[ND_PS_NT];
    for (nd_u64 pos = 0; pos < n; pos += ND_PS_BLOCK) {
        nd_u64 m = n - pos < ND_PS_BLOCK ? n - pos : ND_PS_BLOCK;
        nd_ps_phases(t, segb + pos);
        nd_u8 *d = seg + pos;
        for (nd_u64 j = 0; j < m; j += 8) {
            nd_u64 v = nd_load64(t[0] + j);
            for (int i = 1; i < ND_PS_NT; i++)
                v &= nd_load64(t[i] + j);
            nd_store64(d + j, v);
        }
    }
}

#if ND_SV_X86
__attribute__((target("sse2"))) static void nd_presieve_sse2(nd_u8 *seg, nd_u64 segb, nd_u64 n)
{
    const nd_u8 *t[ND_PS_NT];
    for (nd_u64 pos = 0; pos < n; pos += ND_PS_BLOCK) {
        nd_u64 m = n - pos < ND_PS_BLOCK ? n - pos : ND_PS_BLOCK;
        nd_ps_phases(t, segb + pos);
        nd_u8 *d = seg + pos;
        for (nd_u64 j = 0; j < m; j += 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)(t[0] + j));
            for (int i = 1; i < ND_PS_NT; i++)
                v = _mm_and_si128(v, _mm_loadu_si128((const __m128i *)(t[i] + j)));
            _mm_storeu_si128((__m128i *)(d + j), v);
        }
    }
}

__attribute__((target("avx2"))) static void nd_presieve_avx2(nd_u8 *seg, nd_u64 segb, nd_u64 n)
{
    const nd_u8 *t[ND_PS_NT];
    for (nd_u64 pos = 0; pos < n; pos += ND_PS_BLOCK) {
        nd_u64 m = n - pos < ND_PS_BLOCK ? n - pos : ND_PS_BLOCK;
        nd_ps_phases(t, segb + pos);
        nd_u8 *d = seg + pos;
        for (nd_u64 j = 0; j < m; j += 32) {
            __m256i v = _mm256_loadu_si256((const __m256i *)(t[0] + j));
            for (int i = 1; i < ND_PS_NT; i++)
                v = _mm256_and_si256(v, _mm256_loadu_si256((const __m256i *)(t[i] + j)));
            _mm256_storeu_si256((__m256i *)(d + j), v);
        }
    }
}

__attribute__((target("avx512f,avx512bw"))) static void nd_presieve_avx512(nd_u8 *seg, nd_u64 segb, nd_u64 n)
{
    const nd_u8 *t[ND_PS_NT];
    for (nd_u64 pos = 0; pos < n; pos += ND_PS_BLOCK) {
        nd_u64 m = n - pos < ND_PS_BLOCK ? n - pos : ND_PS_BLOCK;
        nd_ps_phases(t, segb + pos);
        nd_u8 *d = seg + pos;
        for (nd_u64 j = 0; j < m; j += 64) {
            /* three-input ANDs (ternary logic 0x80): 24 tables in 12 instructions, as a tree */
            __m512i v[8];
            for (int k = 0; k < 8; k++)
                v[k] = _mm512_ternarylogic_epi64(_mm512_loadu_si512(t[3 * k] + j), _mm512_loadu_si512(t[3 * k + 1] + j),
                                                 _mm512_loadu_si512(t[3 * k + 2] + j), 0x80);
            __m512i a = _mm512_ternarylogic_epi64(v[0], v[1], v[2], 0x80);
            __m512i b = _mm512_ternarylogic_epi64(v[3], v[4], v[5], 0x80);
            _mm512_storeu_si512(d + j, _mm512_ternarylogic_epi64(a, b, _mm512_and_si512(v[6], v[7]), 0x80));
        }
    }
}
#endif

/* ------------------------------------------------------------------------------------------ */
/* Counting set bits of s[0:n]                                                                 */
/* ------------------------------------------------------------------------------------------ */
static nd_u64 nd_count_c(const nd_u8 *s, nd_u64 n)
{
    nd_u64 i = 0, c0 = 0, c1 = 0;
    for (; i + 16 <= n; i += 16) {
        c0 += nd_popc_soft(nd_load64(s + i));
        c1 += nd_popc_soft(nd_load64(s + i + 8));
    }
    for (; i + 8 <= n; i += 8)
        c0 += nd_popc_soft(nd_load64(s + i));
    for (; i < n; i++)
        c1 += nd_popc_soft(s[i]);
    return c0 + c1;
}

#if ND_SV_X86
__attribute__((target("popcnt"))) static nd_u64 nd_count_popcnt(const nd_u8 *s, nd_u64 n)
{
    nd_u64 i = 0, c0 = 0, c1 = 0, c2 = 0, c3 = 0;
    for (; i + 32 <= n; i += 32) {
        c0 += (nd_u64)__builtin_popcountll(nd_load64(s + i));
        c1 += (nd_u64)__builtin_popcountll(nd_load64(s + i + 8));
        c2 += (nd_u64)__builtin_popcountll(nd_load64(s + i + 16));
        c3 += (nd_u64)__builtin_popcountll(nd_load64(s + i + 24));
    }
    for (; i + 8 <= n; i += 8)
        c0 += (nd_u64)__builtin_popcountll(nd_load64(s + i));
    for (; i < n; i++)
        c1 += (nd_u64)__builtin_popcount(s[i]);
    return c0 + c1 + c2 + c3;
}

__attribute__((target("avx512f,avx512vpopcntdq,popcnt"))) static nd_u64 nd_count_avx512(const nd_u8 *s, nd_u64 n)
{
    nd_u64 i = 0;
    __m512i acc = _mm512_setzero_si512();
    for (; i + 64 <= n; i += 64)
        acc = _mm512_add_epi64(acc, _mm512_popcnt_epi64(_mm512_loadu_si512(s + i)));
    nd_u64 c = (nd_u64)_mm512_reduce_add_epi64(acc);
    for (; i + 8 <= n; i += 8)
        c += (nd_u64)__builtin_popcountll(nd_load64(s + i));
    for (; i < n; i++)
        c += (nd_u64)__builtin_popcount(s[i]);
    return c;
}
#endif

/* ------------------------------------------------------------------------------------------ */
/* Cache sizes: sysconf, then /sys, then defaults (32 KiB L1d, 256 KiB L2)                     */
/* ------------------------------------------------------------------------------------------ */
static nd_u64 nd_sys_cache(int level)
{
    char path[128], buf[64];
    for (int idx = 0; idx < 8; idx++) {
        int lv = 0;
        FILE *f;
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/level", idx);
        if (!(f = fopen(path, "r")))
            break;
        if (fscanf(f, "%d", &lv) != 1)
            lv = 0;
        fclose(f);
        if (lv != level)
            continue;
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/type", idx);
        if (!(f = fopen(path, "r")))
            continue;
        if (!fgets(buf, sizeof buf, f))
            buf[0] = 0;
        fclose(f);
        if (strncmp(buf, "Data", 4) != 0 && strncmp(buf, "Unified", 7) != 0)
            continue;
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/size", idx);
        if (!(f = fopen(path, "r")))
            continue;
        unsigned long v = 0;
        char unit = 0;
        int got = fscanf(f, "%lu%c", &v, &unit);
        fclose(f);
        if (got >= 1) {
            if (unit == 'K' || unit == 'k')
                v <<= 10;
            else if (unit == 'M' || unit == 'm')
                v <<= 20;
            return v;
        }
    }
    return 0;
}

static void nd_detect_caches(void)
{
    long l1 = -1, l2 = -1;
#ifdef _SC_LEVEL1_DCACHE_SIZE
    l1 = sysconf(_SC_LEVEL1_DCACHE_SIZE);
#endif
#ifdef _SC_LEVEL2_CACHE_SIZE
    l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
#endif
    if (l1 <= 0)
        l1 = (long)nd_sys_cache(1);
    if (l2 <= 0)
        l2 = (long)nd_sys_cache(2);
    /* sane bounds: 16 KiB..1 MiB for L1d, 128 KiB..64 MiB for L2 */
    ND_L1D = (l1 >= (16 << 10) && l1 <= (1 << 20)) ? (nd_u64)l1 : (32u << 10);
    ND_L2 = (l2 >= (128 << 10) && l2 <= (64 << 20)) ? (nd_u64)l2 : (256u << 10);
}

/* ------------------------------------------------------------------------------------------ */
/* Memory blocks for bucket and medium lists: 4 KiB, aligned to their size, so that a list's   */
/* write pointer tells by its address when the block is full.                                  */
/* ------------------------------------------------------------------------------------------ */
typedef struct {
    nd_u32 a;                          /* q = p // 30 */
    nd_u32 b;                          /* medium: byte offset; big: offset << 9 | wheel state */
} nd_item;

#define ND_BLK_BYTES 4096u
#define ND_BLK_ITEMS ((ND_BLK_BYTES - 16u) / 8u)
#define ND_CHUNK_BLKS 256u             /* 1 MiB chunks */

/* Pool chunks come straight from mmap where there is one, and go back with munmap: through
 * malloc, a big count's chunks stayed resident after it (hundreds of MB near 2**64, kept in
 * the arenas of the OpenMP threads that allocated them). */
static void *nd_chunk_alloc(size_t bytes)
{
#if ND_HAVE_MMAP
    void *m = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return m == MAP_FAILED ? NULL : m;
#else
    void *m = NULL;
    return posix_memalign(&m, ND_BLK_BYTES, bytes) == 0 ? m : NULL;
#endif
}

static void nd_chunk_free(void *m, size_t bytes)
{
#if ND_HAVE_MMAP
    munmap(m, bytes);
#else
    (void)bytes;
    free(m);
#endif
}

typedef struct nd_blk {
    struct nd_blk *next;
    nd_u32 n;                          /* items it[first .. n) are in use */
    nd_u32 first;
    nd_item it[ND_BLK_ITEMS];
} nd_blk;

typedef struct nd_chunk {
    struct nd_chunk *next;
} nd_chunk_hdr;

typedef struct {
    nd_blk *free_list;
    void **chunks;                     /* every chunk allocated (freed by nd_pool_free) */
    size_t nchunks, capchunks;
    int err;
} nd_pool;

static nd_blk *nd_pool_grow(nd_pool *pl)
{
    void *mem = NULL;
    if (pl->nchunks == pl->capchunks) {
        size_t nc = pl->capchunks ? 2 * pl->capchunks : 16;
        void **c = (void **)realloc(pl->chunks, nc * sizeof(void *));
        if (!c) {
            pl->err = 1;
            return NULL;
        }
        pl->chunks = c;
        pl->capchunks = nc;
    }
    const size_t bytes = (size_t)ND_BLK_BYTES * ND_CHUNK_BLKS;
    mem = nd_chunk_alloc(bytes);
    if (!mem) {
        pl->err = 1;
        return NULL;
    }

    pl->chunks[pl->nchunks++] = mem;
    nd_blk *first = (nd_blk *)mem;
    for (nd_u32 i = 1; i < ND_CHUNK_BLKS; i++) {
        nd_blk *b = (nd_blk *)((char *)mem + (size_t)i * ND_BLK_BYTES);
        b->next = pl->free_list;
        pl->free_list = b;
    }
    return first;
}

ND_AI nd_blk *nd_blk_get(nd_pool *pl)
{
    nd_blk *b = pl->free_list;
    if (ND_LIKELY(b != NULL)) {
        pl->free_list = b->next;
        return b;
    }
    return nd_pool_grow(pl);
}

ND_AI void nd_blk_put(nd_pool *pl, nd_blk *b)
{
    b->next = pl->free_list;
    pl->free_list = b;
}

static void nd_pool_free(nd_pool *pl)
{
    for (size_t i = 0; i < pl->nchunks; i++)
        nd_chunk_free(pl->chunks[i], (size_t)ND_BLK_BYTES * ND_CHUNK_BLKS);
    free(pl->chunks);
    memset(pl, 0, sizeof *pl);
}

/* A list is its write pointer: NULL (empty) or one past the last item of its head block.  Older
 * blocks hang off head->next and carry their item count in n. */
ND_AI nd_blk *nd_blk_of(nd_item *wp) { return (nd_blk *)((uintptr_t)(wp - 1) & ~(uintptr_t)(ND_BLK_BYTES - 1)); }

/* Push; returns 0, or -1 when out of memory (the item is lost and pl->err is set).
 * The first block of a list starts at an offset taken from the slot's address: lists that are
 * filled in step (all the staging lists of a producer start empty together) would otherwise
 * write to the same offset of 4 KiB-aligned blocks, i.e. to a handful of cache sets, and miss
 * the cache on almost every push (measured: ~20 ns instead of ~3 ns per item). */
ND_NI nd_item *nd_push_new(nd_item **slot, nd_pool *pl)
{
    nd_item *wp = *slot;
    nd_blk *nb = nd_blk_get(pl);
    if (ND_UNLIKELY(nb == NULL))
        return NULL;
    if (wp) {
        nd_blk *old = nd_blk_of(wp);
        old->n = ND_BLK_ITEMS;
        nb->next = old;
        nb->first = 0;
    } else {
        nb->next = NULL;
        nb->first = (nd_u32)((((uintptr_t)slot >> 3) * 8u * 5u) % (ND_BLK_ITEMS - 8));
    }
    return nb->it + nb->first;
}

ND_AI int nd_push(nd_item **slot, nd_pool *pl, nd_u32 a, nd_u32 b)
{
    nd_item *wp = *slot;
    if (ND_UNLIKELY(((uintptr_t)wp & (ND_BLK_BYTES - 1)) == 0)) {   /* NULL or full */
        wp = nd_push_new(slot, pl);
        if (ND_UNLIKELY(wp == NULL))
            return -1;
    }
    wp->a = a;
    wp->b = b;
    *slot = wp + 1;
    return 0;
}

/* detach a list: returns its head block with n set (NULL when empty) */
ND_AI nd_blk *nd_detach(nd_item **slot)
{
    nd_item *wp = *slot;
    if (!wp)
        return NULL;
    *slot = NULL;
    nd_blk *h = nd_blk_of(wp);
    h->n = (nd_u32)(wp - h->it);
    return h;
}

/* put list *src in front of list *dst (both become one list in *dst; *src empty) */
static void nd_splice(nd_item **dst, nd_item **src)
{
    nd_blk *h = nd_detach(src), *t;
    if (!h)
        return;
    t = h;
    while (t->next)
        t = t->next;
    t->next = nd_detach(dst);
    /* the new head is h: its write pointer continues after its n items */
    *dst = h->it + h->n;
}

/* ------------------------------------------------------------------------------------------ */
/* Init (once, from the module's import)                                                       */
/* ------------------------------------------------------------------------------------------ */
static int nd_sv_set_simd(int level);

static int nd_sv_init(void)
{
    for (int x = 0; x < 30; x++) {
        nd_u8 lo = 0, hi = 0;
        for (int w = 0; w < 8; w++) {
            if (ND_RES[w] >= x)
                lo |= (nd_u8)(1u << w);
            if (ND_RES[w] <= x)
                hi |= (nd_u8)(1u << w);
        }
        ND_LOMASK[x] = lo;
        ND_HIMASK[x] = hi;
        ND_RIOF[x] = ND_BITOF[x];
    }
    for (int w = 0; w < 8; w++)
        ND_GAPT[w] = (nd_u32)(ND_RES9[w + 1] - ND_RES9[w]);
    for (int ri = 0; ri < 8; ri++) {
        for (int w = 0; w < 9; w++)
            ND_ET[ri][w] = (nd_u32)ND_E(ri, w);
        for (int w = 0; w < 8; w++) {
            ND_DET[ri][w] = ND_ET[ri][w + 1] - ND_ET[ri][w];
            ND_MT[ri][w] = ND_M(ri, w);
        }
    }
    for (int b = 0; b < 64; b++)
        ND_NUMOFBIT[b] = 30u * (nd_u64)(b / 8) + (nd_u64)ND_RES[b % 8];
    /* mod 210 */
    {
        int j = 0;
        for (int x = 1; x < 210; x++)
            if (x % 2 && x % 3 && x % 5 && x % 7)
                ND_R210[j++] = x;
        if (j != 48)
            return -1;
        ND_R210[48] = 211;
        for (int x = 0; x < 210; x++) {
            int k = 0;
            while (ND_R210[k] < x)
                k++;
            ND_NEXT210[x] = k;          /* <= 47: 209 is a residue */
            ND_DLT210[x] = (nd_u8)(ND_R210[k] - x);
            ND_JD210[x] = (nd_u32)k | (nd_u32)(ND_R210[k] - x) << 8;
        }
        for (int ri = 0; ri < 8; ri++)
            for (j = 0; j < 48; j++) {
                int r = ND_RES[ri], m0 = ND_R210[j], m1 = ND_R210[j + 1];
                nd_u64 mask = (nd_u8)~(1u << ND_BITOF[(r * m0) % 30]), gap = (nd_u64)(m1 - m0);
                nd_u64 corr = (nd_u64)((r * m1) / 30 - (r * m0) / 30), next = (nd_u64)(ri * 48 + (j + 1) % 48);
                ND_W210X[ri * 48 + j] = mask | gap << 8 | corr << 16 | next << 32;
            }
    }
    /* base primes below 2**22 (odd sieve) */
    {
        nd_u32 n = ND_BASE_LIMIT;
        nd_u8 *s = (nd_u8 *)malloc(n / 2);
        if (!s)
            return -1;
        memset(s, 1, n / 2);                /* s[i]: 2i + 1 */
        s[0] = 0;
        for (nd_u32 i = 1; (2 * i + 1) * (2 * i + 1) < n; i++)
            if (s[i])
                for (nd_u32 k = (2 * i + 1) * (2 * i + 1) / 2; k < n / 2; k += 2 * i + 1)
                    s[k] = 0;
        size_t c = 1;
        for (nd_u32 i = 1; i < n / 2; i++)
            c += s[i];
        ND_BASE = (nd_u32 *)malloc(c * sizeof(nd_u32));
        if (!ND_BASE) {
            free(s);
            return -1;
        }
        ND_BASE[0] = 2;
        c = 1;
        for (nd_u32 i = 1; i < n / 2; i++)
            if (s[i])
                ND_BASE[c++] = 2 * i + 1;
        ND_NBASE = c;
        free(s);
    }
    /* pre-sieve tables */
    for (int t = 0; t < ND_PS_NT; t++) {
        nd_u32 per = 1;
        for (int k = 0; k < 4 && ND_PS_GROUPS[t][k]; k++)
            per *= (nd_u32)ND_PS_GROUPS[t][k];
        ND_PS_PER[t] = per;
        nd_u32 len = per + ND_PS_BLOCK + 64;
        nd_u8 *tab = (nd_u8 *)malloc(len);
        if (!tab)
            return -1;
        memset(tab, 0xFF, per);
        for (int k = 0; k < 4 && ND_PS_GROUPS[t][k] && ND_PS_GROUPS[t][k] <= ND_PS_MAXP; k++) {
            nd_u32 p = (nd_u32)ND_PS_GROUPS[t][k];
            nd_u32 inv30 = 1;
            while ((30 * inv30) % p != 1)
                inv30++;
            for (int i = 0; i < 8; i++) {
                /* 30b + RES[i] = 0 (mod p)  <=>  b = -RES[i] / 30 (mod p) */
                nd_u32 b0 = (nd_u32)((p - (nd_u32)ND_RES[i] % p) % p * inv30 % p);
                for (nd_u32 b = b0; b < per; b += p)
                    tab[b] &= (nd_u8)~(1u << i);
            }
        }
        for (nd_u32 x = per; x < len; x++)
            tab[x] = tab[x - per];
        ND_PS_TAB[t] = tab;
    }
    memset(ND_PS_KEEP, 0, sizeof ND_PS_KEEP);
    for (int p = 7; p <= ND_PS_MAXP; p++) {
        int isp = 1;
        for (int d = 2; d * d <= p; d++)
            if (p % d == 0)
                isp = 0;
        if (isp)
            ND_PS_KEEP[p / 30] |= (nd_u8)(1u << ND_BITOF[p % 30]);
    }
    nd_detect_caches();
    nd_sv_set_simd(99);
    return 0;
}



/* ------------------------------------------------------------------------------------------ */
/* Optional per-layer cycle counters (build with -DND_SV_PROFILE)                              */
/* ------------------------------------------------------------------------------------------ */
enum { NDP_PRESIEVE, NDP_SMALL, NDP_MEDIUM, NDP_BIG, NDP_CONSUME, NDP_ADD, NDP_PRODUCE, NDP_SPLICE, NDP_N };
/* [0][k]: the pieces' layers; [1][k]: the same layers inside the big-prime producers */
static volatile nd_u64 ND_PROF[2][NDP_N];
#ifdef ND_SV_PROFILE
ND_AI nd_u64 ndp_clock(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (nd_u64)ts.tv_sec * 1000000000u + (nd_u64)ts.tv_nsec;
}
#define NDP_DECL nd_u64 ndp_t0 = ndp_clock(), ndp_t1
#define NDP_MARK2(w, k)                                                          \
    do {                                                                         \
        ndp_t1 = ndp_clock();                                                    \
        __atomic_fetch_add(&ND_PROF[w][k], ndp_t1 - ndp_t0, __ATOMIC_RELAXED);   \
        ndp_t0 = ndp_t1;                                                         \
    } while (0)
#else
#define NDP_DECL do { } while (0)
#define NDP_MARK2(w, k) do { } while (0)
#endif
#define NDP_MARK(k) NDP_MARK2(0, k)

/* ------------------------------------------------------------------------------------------ */
/* Jobs, pieces, work areas                                                                    */
/* ------------------------------------------------------------------------------------------ */
enum { ND_COUNT = 0, ND_LIST64 = 1, ND_LIST32 = 2, ND_HIST = 3, ND_DIST = 4 };

typedef struct {
    nd_u64 S;                          /* segment bytes, a power of two (<= 2**23) */
    int lgS;
    nd_u64 chunk;                      /* small-tier chunk bytes (L1) */
    nd_u64 small_max, med_max;         /* tiers: p <= small_max small, <= med_max medium, else big */
    nd_u64 limit;                      /* sieve by the primes <= limit */
} nd_par;

typedef struct {
    nd_u32 q, off, w, pad;
} nd_sp;

typedef struct {
    nd_u64 lo, hi;                     /* inclusive; interior boundaries are multiples of 30 */
    nd_u64 count;
    void *out;
    size_t out_n, out_cap;
    nd_u64 hb0, hb1;                   /* histogram: first and last bucket touched */
    nd_u64 hc0, hc1;                   /* ... and their counts (the buckets between are exclusive) */
    int err;
    nd_u64 *segrec;                    /* round-robin lists: (segment, first item) per segment */
    size_t nrec;
    size_t front;                      /* lists: items kept free at the start (piece 0: 2, 3, 5) */
} nd_piece;

typedef struct nd_job {
    int consume;
    nd_par par;
    nd_piece *pieces;
    int npieces;
    int threads;
    /* big primes: producers distribute them into per-(producer, piece) lists */
    int has_big, nprod;
    nd_u64 NR;                         /* ring length of the bucket sieve (power of two) */
    /* the big primes [prod_a, prod_b] are generated in prod_nchunks chunks that the threads take
     * in turn (an atomic counter: a slow or descheduled thread delays the others by one chunk) */
    nd_u64 prod_a, prod_b, prod_nchunks;
    nd_u64 prod_next;                  /* next chunk to take (atomic) */
    int nfinished[2];                  /* threads done producing [0] / done with the pieces [1] (atomic) */
    nd_item **stage;                   /* [nprod * npieces * NR] */
    nd_u32 **lazy;                     /* [nprod * npieces]: big primes whose square is in the piece */
    size_t *nlazy, *caplazy;
    nd_pool *pools;                    /* one per thread */
    int npools;
    /* confirm (short-window mode) */
    int confirm;
    nd_u64 confirm_above;
    int (*is_prime)(nd_u64);
    /* histogram: bucket i = [h_a + i*h_w, h_a + (i+1)*h_w) */
    nd_u64 h_a, h_w;
    nd_u64 *h_out;
    /* round-robin mode: one sieve of the whole window, its segments dealt out to the threads in
     * turn, its big primes split between the threads (each crosses its own into per-round masks) */
    int rr, rr_T;
    nd_u8 *rr_mem;                     /* masks: [thread][parity][k], S bytes each */
    /* round-robin: thread t's "leave after this round" vote for rounds of parity par (written
     * before the round's barrier, read by every thread after it; a slot is rewritten two rounds
     * later, after a barrier every thread has passed, so all threads leave at the same round) */
    volatile int rr_quit[2][64];
    /* round-robin lists: one output buffer for all threads, sized by a proven bound on the count
     * (virtual memory: only the pages written are ever touched).  Segment s's primes go at
     * rr_front + the counts of the segments before it: rr_cnt[par][u] is thread u's count in the
     * last round of parity par, rr_seq[par][u] that round's number + 1 once published.  NULL: the
     * threads keep their own buffers and nd_rr_gather merges them. */
    void *rr_out;
    size_t rr_cap, rr_front;
    volatile nd_u64 rr_cnt[2][64];
    volatile nd_u64 rr_seq[2][64];
    /* control */
    volatile int abort;
    int (*poll)(void);
    double t_last;
    int err;
} nd_job;

typedef struct {
    const nd_par *par;
    nd_job *J;
    nd_piece *pc;                      /* NULL for a producer */
    int consume;
    int tid, kpiece, prod;             /* thread; piece index (-1 producer); producer index */
    nd_pool *pool;
    nd_u8 *seg;
    nd_sp *sm[8];
    size_t nsm[8];
    nd_item *mcur[64], *mnxt[64];
    nd_item **ring;
    nd_u64 NR;
    size_t pi;                         /* next small prime in ND_BASE to add */
    size_t ps_end;                     /* one past the last small prime */
    size_t pm;                         /* next medium prime in ND_BASE to add */
    size_t pi_end;                     /* one past the last medium prime */
    int med_T, med_t;                  /* round robin: this thread's medium primes are those of
                                        * index = med_t mod med_T (1, 0 otherwise: all of them) */
    size_t lz[64];                     /* cursors in the lazy lists, one per producer */
    nd_u64 lo, hi;
    nd_u64 last_seg;                   /* index of the last segment */
} nd_work;

/* Thread 0's signal check, at most every 0.1 s */
ND_AI void nd_poll_job(nd_job *J)
{
    if (J->poll) {
        double t = nd_now();
        if (t - J->t_last > 0.1) {
            J->t_last = t;
            if (J->poll() != 0)
                J->abort = 1;
        }
    }
}

ND_AI void nd_poll(nd_work *W)
{
    if (W->tid == 0)
        nd_poll_job(W->J);
}

/* Thread 0 waits for the other threads to finish a phase (*done reaching n) and keeps polling,
 * so that Ctrl-C is seen while another thread still works (an OpenMP barrier would not poll);
 * the others see J->abort at their next segment and stop.  It spins for the first millisecond
 * (short jobs: a nap would add up to its length to every call), then naps 0.2 ms at a time. */
static void nd_wait_polling(nd_job *J, int *done, int n)
{
    struct timespec nap = {0, 200000};
    const double t0 = nd_now();
    while (__atomic_load_n(done, __ATOMIC_ACQUIRE) < n) {
        nd_poll_job(J);
        if (nd_now() - t0 > 1e-3)
            nanosleep(&nap, NULL);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* First multiples                                                                             */
/* ------------------------------------------------------------------------------------------ */
/* Smallest multiple p*m >= start with m coprime to 30: returns its byte index, w its wheel index */
ND_AI nd_u64 nd_first30(nd_u64 p, nd_u64 start, int *w_out)
{
    nd_u64 q = p / 30, m = start / p + (start % p != 0), k = m / 30;
    int ri = ND_RIOF[p % 30], w = ND_NEXTW[m % 30];
    *w_out = w;
    return p * k + q * (nd_u64)ND_RES[w] + ND_ET[ri][w];
}

/* ------------------------------------------------------------------------------------------ */
/* Small primes: unrolled wheel cycles over L1-sized chunks                                    */
/* ------------------------------------------------------------------------------------------ */
/* Cross off whole cycles of the primes of class ri that start below lim (non-last chunk:
 * lim = chunk end; the cycle may run up to p bytes past it, into the already pre-sieved next
 * chunk) or, in the last chunk, every whole cycle that ends inside the segment. */
ND_AI void nd_small_chunk(nd_u8 *seg, nd_sp *a, size_t n, nd_u64 c1, nd_u64 L, int last, const int ri)
{
    for (size_t i = 0; i < n; i++) {
        nd_u64 q = a[i].q, off = a[i].off;
        nd_u64 d7 = ND_D(q, ri, 7);
        nd_u64 lim = last ? (L > d7 ? L - d7 : 0) : c1;
        if (off >= lim)
            continue;
        nd_u64 d1 = ND_D(q, ri, 1), d2 = ND_D(q, ri, 2), d3 = ND_D(q, ri, 3), d4 = ND_D(q, ri, 4);
        nd_u64 d5 = ND_D(q, ri, 5), d6 = ND_D(q, ri, 6), p = 30 * q + (nd_u64)ND_RES[ri];
        nd_u8 *s = seg + off, *e = seg + lim;
        do {
            s[0] &= ND_M(ri, 0);
            s[d1] &= ND_M(ri, 1);
            s[d2] &= ND_M(ri, 2);
            s[d3] &= ND_M(ri, 3);
            s[d4] &= ND_M(ri, 4);
            s[d5] &= ND_M(ri, 5);
            s[d6] &= ND_M(ri, 6);
            s[d7] &= ND_M(ri, 7);
            s += p;
        } while (s < e);
        a[i].off = (nd_u32)(s - seg);
    }
}

ND_NI void nd_small_chunk_all(nd_work *W, nd_u64 c1, nd_u64 L, int last)
{
    nd_u8 *seg = W->seg;
    nd_small_chunk(seg, W->sm[0], W->nsm[0], c1, L, last, 0);
    nd_small_chunk(seg, W->sm[1], W->nsm[1], c1, L, last, 1);
    nd_small_chunk(seg, W->sm[2], W->nsm[2], c1, L, last, 2);
    nd_small_chunk(seg, W->sm[3], W->nsm[3], c1, L, last, 3);
    nd_small_chunk(seg, W->sm[4], W->nsm[4], c1, L, last, 4);
    nd_small_chunk(seg, W->sm[5], W->nsm[5], c1, L, last, 5);
    nd_small_chunk(seg, W->sm[6], W->nsm[6], c1, L, last, 6);
    nd_small_chunk(seg, W->sm[7], W->nsm[7], c1, L, last, 7);
}

/* the ragged part of a cycle, one multiple at a time: from wheel index w up to (excluding)
 * index `until` (8 = the end of the cycle) or until the offset leaves the segment */
ND_AI void nd_walk(nd_u8 *seg, nd_sp *sp, int ri, nd_u64 L, int until_zero)
{
    nd_u64 q = sp->q, off = sp->off;
    int w = (int)sp->w;
    if (until_zero) {
        while (w != 0 && off < L) {
            seg[off] &= ND_MT[ri][w];
            off += q * ND_GAPT[w] + ND_DET[ri][w];
            w = (w + 1) & 7;
        }
    } else {
        while (off < L) {
            seg[off] &= ND_MT[ri][w];
            off += q * ND_GAPT[w] + ND_DET[ri][w];
            w = (w + 1) & 7;
        }
    }
    sp->off = (nd_u32)off;
    sp->w = (nd_u32)w;
}

ND_NI void nd_small(nd_work *W, nd_u64 L)
{
    const nd_par *P = W->par;
    nd_u8 *seg = W->seg;
    for (int ri = 0; ri < 8; ri++)
        for (size_t i = 0; i < W->nsm[ri]; i++)
            nd_walk(seg, &W->sm[ri][i], ri, L, 1);
    nd_u64 c0 = 0;
    for (;;) {
        nd_u64 c1 = c0 + P->chunk;
        int last = c1 + P->small_max >= L;
        nd_small_chunk_all(W, c1, L, last);
        if (last)
            break;
        c0 = c1;
    }
    for (int ri = 0; ri < 8; ri++)
        for (size_t i = 0; i < W->nsm[ri]; i++) {
            nd_sp *sp = &W->sm[ri][i];
            nd_walk(seg, sp, ri, L, 0);
            sp->off -= (nd_u32)L;
        }
}

/* ------------------------------------------------------------------------------------------ */
/* Medium primes: lists by wheel state (ri, w), so the entry into the crossing code is known    */
/* for a whole list; each prime goes to the list of its state for the next segment.            */
/* ------------------------------------------------------------------------------------------ */
#define ND_MS(k)                                   \
    if (s >= L) {                                  \
        w = (k);                                   \
        goto done;                                 \
    }                                              \
    seg[s] &= ND_M(ri, k);                         \
    s += ND_STEP(q, ri, k);

ND_AI int nd_med_run(nd_u8 *seg, nd_u64 L, const nd_item *it, nd_u32 n, nd_item **nxt, nd_pool *pl,
                     const int ri, const int w0)
{
    int bad = 0;
    for (nd_u32 i = 0; i < n; i++) {
        nd_u64 q = it[i].a, s = it[i].b;
        int w;
        switch (w0) {
        case 1: ND_MS(1) /* fall through */
        case 2: ND_MS(2) /* fall through */
        case 3: ND_MS(3) /* fall through */
        case 4: ND_MS(4) /* fall through */
        case 5: ND_MS(5) /* fall through */
        case 6: ND_MS(6) /* fall through */
        case 7: ND_MS(7) /* fall through */
        default: break;
        }
        {
            nd_u64 d7 = ND_D(q, ri, 7);
            if (s + d7 < L) {
                nd_u64 d1 = ND_D(q, ri, 1), d2 = ND_D(q, ri, 2), d3 = ND_D(q, ri, 3), d4 = ND_D(q, ri, 4);
                nd_u64 d5 = ND_D(q, ri, 5), d6 = ND_D(q, ri, 6), p = 30 * q + (nd_u64)ND_RES[ri];
                nd_u8 *sp = seg + s, *e = seg + (L - d7);
                do {
                    sp[0] &= ND_M(ri, 0);
                    sp[d1] &= ND_M(ri, 1);
                    sp[d2] &= ND_M(ri, 2);
                    sp[d3] &= ND_M(ri, 3);
                    sp[d4] &= ND_M(ri, 4);
                    sp[d5] &= ND_M(ri, 5);
                    sp[d6] &= ND_M(ri, 6);
                    sp[d7] &= ND_M(ri, 7);
                    sp += p;
                } while (sp < e);
                s = (nd_u64)(sp - seg);
            }
        }
        ND_MS(0)
        ND_MS(1)
        ND_MS(2)
        ND_MS(3)
        ND_MS(4)
        ND_MS(5)
        ND_MS(6)
        ND_MS(7)
        w = 0;
    done:
        bad |= nd_push(&nxt[ri * 8 + w], pl, (nd_u32)q, (nd_u32)(s - L));
    }
    return bad;
}
#undef ND_MS

#define ND_MED_CASE(ri, w) \
    case (ri) * 8 + (w): return nd_med_run(seg, L, it, n, nxt, pl, ri, w);
#define ND_MED_ROW(ri) \
    ND_MED_CASE(ri, 0) ND_MED_CASE(ri, 1) ND_MED_CASE(ri, 2) ND_MED_CASE(ri, 3) \
    ND_MED_CASE(ri, 4) ND_MED_CASE(ri, 5) ND_MED_CASE(ri, 6) ND_MED_CASE(ri, 7)

ND_NI int nd_med_block(int st, nd_u8 *seg, nd_u64 L, const nd_item *it, nd_u32 n, nd_item **nxt, nd_pool *pl)
{
    switch (st) {
        ND_MED_ROW(0) ND_MED_ROW(1) ND_MED_ROW(2) ND_MED_ROW(3)
        ND_MED_ROW(4) ND_MED_ROW(5) ND_MED_ROW(6) ND_MED_ROW(7)
    default: return 0;
    }
}

ND_NI int nd_medium(nd_work *W, nd_u8 *seg, nd_u64 L)
{
    int bad = 0;
    for (int st = 0; st < 64; st++) {
        nd_blk *h = nd_detach(&W->mcur[st]);
        while (h) {
            nd_blk *nb = h->next;
            bad |= nd_med_block(st, seg, L, h->it + h->first, h->n - h->first, W->mnxt, W->pool);
            nd_blk_put(W->pool, h);
            h = nb;
        }
    }
    memcpy(W->mcur, W->mnxt, sizeof W->mcur);
    memset(W->mnxt, 0, sizeof W->mnxt);
    return bad;
}

/* ------------------------------------------------------------------------------------------ */
/* Big primes: the bucket sieve (mod-210 wheel, one 8-byte item per prime)                      */
/* ------------------------------------------------------------------------------------------ */
ND_NI int nd_big(nd_work *W, nd_u8 *seg, nd_u64 seg_idx)
{
    const nd_u64 S = W->par->S, msk = W->NR - 1, last = W->last_seg;
    const int lgS = W->par->lgS;
    nd_item **ring = W->ring;
    nd_pool *pl = W->pool;
    int bad = 0;
    /* One crossing per item, then the item goes to the list of the segment of its next
     * multiple -- this segment's own list included, which is why the list is emptied until it
     * stays empty.  No inner loop: the number of crossings per item and segment (0..5 for the
     * smallest big primes) is not a branch. */
    nd_item **self = &ring[seg_idx & msk];
    while (*self) {
        nd_blk *h = nd_detach(self);
        while (h) {
            const nd_item *it = h->it + h->first, *end = h->it + h->n;
            if (h->next)
                for (int c = 0; c < 4; c++)
                    __builtin_prefetch((const char *)h->next + 64 * c);
            for (; it < end; it++) {
                /* one item: q in the low word, offset << 9 | wheel state in the high word */
                nd_u64 v;
                memcpy(&v, it, 8);
                const nd_u64 q = (nd_u32)v;
                nd_u64 off = v >> 41, st = (v >> 32) & 511;
                const nd_u64 e = ND_W210X[st];
                seg[off] &= (nd_u8)e;
                off += q * ((e >> 8) & 0xFF) + ((e >> 16) & 0xFF);
                st = e >> 32;
                const nd_u64 ns = seg_idx + (off >> lgS);
                if (ND_LIKELY(ns <= last)) {    /* beyond the piece: the prime is done here */
                    nd_item **slot = &ring[ns & msk];
                    nd_item *wp = *slot;
                    if (ND_UNLIKELY(((uintptr_t)wp & (ND_BLK_BYTES - 1)) == 0)) {
                        wp = nd_push_new(slot, pl);
                        if (ND_UNLIKELY(wp == NULL)) {
                            bad = -1;
                            continue;
                        }
                    }
                    nd_u64 nv = q | (((off & (S - 1)) << 9 | st) << 32);
                    memcpy(wp, &nv, 8);
                    *slot = wp + 1;
                }
            }
            nd_blk *nb = h->next;
            nd_blk_put(pl, h);
            h = nb;
        }
    }
    return bad;
}

/* 30*b + 29, the last number of byte b; the last byte of the number line (b = (2**64-1) // 30)
 * reaches past 2**64, and its top is 2**64 - 1 */
ND_AI nd_u64 nd_byte_top(nd_u64 b)
{
    return b >= (~(nd_u64)0) / 30 ? ~(nd_u64)0 : 30 * b + 29;
}

/* ------------------------------------------------------------------------------------------ */
/* Adding sieving primes when the sieve reaches their square                                   */
/* ------------------------------------------------------------------------------------------ */
static int nd_add_lazy_big(nd_work *W, nd_u64 segb, nd_u64 L, nd_u64 seg_idx);

/* add the small (which & 1) and / or medium (which & 2) primes whose square lies in this segment
 * (the first call adds every one below: their first multiple at or after the segment start) */
#define ND_ADD_SMALL 1
#define ND_ADD_MEDIUM 2
static int nd_add_primes(nd_work *W, nd_u64 segb, nd_u64 L, nd_u64 seg_idx, int which)
{
    nd_u64 top = nd_byte_top(segb + L - 1);      /* largest number of this segment */
    nd_u64 start = 30 * segb;
    int bad = 0;
    while ((which & ND_ADD_SMALL) && W->pi < W->ps_end) {
        nd_u64 p = ND_BASE[W->pi];
        if (p * p > top)
            break;
        W->pi++;
        int w;
        nd_u64 ab = nd_first30(p, p * p > start ? p * p : start, &w);
        if (ab > W->hi / 30)
            continue;
        int ri = ND_RIOF[p % 30];
        nd_sp *sp = &W->sm[ri][W->nsm[ri]++];
        sp->q = (nd_u32)(p / 30);
        sp->off = (nd_u32)(ab - segb);
        sp->w = (nd_u32)w;
    }
    while ((which & ND_ADD_MEDIUM) && W->pm < W->pi_end) {
        nd_u64 p = ND_BASE[W->pm];
        if (p * p > top)
            break;
        size_t idx = W->pm++;
        if (W->med_T > 1 && (int)(idx % (size_t)W->med_T) != W->med_t)
            continue;
        int w;
        nd_u64 ab = nd_first30(p, p * p > start ? p * p : start, &w);
        if (ab > W->hi / 30)
            continue;
        int ri = ND_RIOF[p % 30];
        bad |= nd_push(&W->mcur[ri * 8 + w], W->pool, (nd_u32)(p / 30), (nd_u32)(ab - segb));
    }
    if (W->kpiece >= 0 && W->J->has_big && !W->J->rr)
        bad |= nd_add_lazy_big(W, segb, L, seg_idx);
    return bad;
}

/* big primes whose square lies in this segment (from the producers' lazy lists) */
static int nd_add_lazy_big(nd_work *W, nd_u64 segb, nd_u64 L, nd_u64 seg_idx)
{
    nd_u64 top = nd_byte_top(segb + L - 1);
    int bad = 0;
    {
        nd_job *J = W->J;
        int ntg = J->rr ? J->rr_T : J->npieces;
        for (int t = 0; t < J->nprod; t++) {
            size_t li = (size_t)t * ntg + W->kpiece;
            const nd_u32 *lz = J->lazy[li];
            size_t n = J->nlazy[li];
            while (W->lz[t] < n) {
                nd_u64 p = lz[W->lz[t]];
                if (p * p > top)
                    break;
                W->lz[t]++;
                nd_u64 off = (p * p) / 30 - segb;
                int r = (int)(p % 30);
                int st = ND_RIOF[r] * 48 + ND_NEXT210[p % 210];
                bad |= nd_push(&W->ring[seg_idx & (W->NR - 1)], W->pool, (nd_u32)(p / 30),
                               (nd_u32)((off << 9) | (nd_u64)st));
            }
        }
    }
    return bad;
}

/* ------------------------------------------------------------------------------------------ */
/* Extracting the set bits of a finished segment (bytes seg[0:L], followed by 8 zero bytes)     */
/* ------------------------------------------------------------------------------------------ */
/* numbers as uint64 / uint32: 30 (segb + i) + NUMOFBIT[bit], appended at o (8 items of slack) */
static nd_u64 *nd_ext64_c(const nd_u8 *seg, nd_u64 L, nd_u64 segb, nd_u64 *o)
{
    for (nd_u64 i = 0; i < L; i += 8) {
        nd_u64 word = nd_load64(seg + i), base = 30 * (segb + i);
        while (word) {
            *o++ = base + ND_NUMOFBIT[__builtin_ctzll(word)];
            word &= word - 1;
        }
    }
    return o;
}

static nd_u32 *nd_ext32_c(const nd_u8 *seg, nd_u64 L, nd_u64 segb, nd_u32 *o)
{
    for (nd_u64 i = 0; i < L; i += 8) {
        nd_u64 word = nd_load64(seg + i), base = 30 * (segb + i);
        while (word) {
            *o++ = (nd_u32)(base + ND_NUMOFBIT[__builtin_ctzll(word)]);
            word &= word - 1;
        }
    }
    return o;
}

/* sieving primes for the producers: q = p // 30 and the residue index, words [i0, i1) */
static size_t nd_extq_c(const nd_u8 *seg, nd_u64 i0, nd_u64 i1, nd_u64 segb, nd_u32 *qs, nd_u8 *ris)
{
    size_t n = 0;
    for (nd_u64 i = i0; i < i1; i += 8) {
        nd_u64 word = nd_load64(seg + i), b8 = segb + i;
        while (word) {
            int bit = __builtin_ctzll(word);
            qs[n] = (nd_u32)(b8 + (nd_u64)(bit >> 3));
            ris[n++] = (nd_u8)(bit & 7);
            word &= word - 1;
        }
    }
    return n;
}

#if ND_SV_X86
/* The same with AVX-512 VBMI2: one compress per 64-bit word gives the table bytes (or bit
 * indices) of its set bits in order; they are widened and offset eight or sixteen at a time. */
#define ND_TVB __attribute__((target("avx512f,avx512bw,avx512vl,avx512vbmi,avx512vbmi2,popcnt")))
static nd_u8 ND_NUMOFBIT8[64] __attribute__((aligned(64)));

ND_TVB static nd_u64 *nd_ext64_vb(const nd_u8 *seg, nd_u64 L, nd_u64 segb, nd_u64 *o)
{
    const __m512i tab = _mm512_load_si512((const void *)ND_NUMOFBIT8);
    nd_u8 tmp[64];
    for (nd_u64 i = 0; i < L; i += 8) {
        nd_u64 word = nd_load64(seg + i);
        if (!word)
            continue;
        int n = __builtin_popcountll(word);
        __m512i v = _mm512_maskz_compress_epi8((__mmask64)word, tab);
        const __m512i base = _mm512_set1_epi64((long long)(30 * (segb + i)));
        _mm512_storeu_si512(tmp, v);
        for (int k = 0; k < n; k += 8)
            _mm512_storeu_si512(o + k, _mm512_add_epi64(_mm512_cvtepu8_epi64(_mm_loadl_epi64((const __m128i *)(tmp + k))), base));
        o += n;
    }
    return o;
}

ND_TVB static nd_u32 *nd_ext32_vb(const nd_u8 *seg, nd_u64 L, nd_u64 segb, nd_u32 *o)
{
    const __m512i tab = _mm512_load_si512((const void *)ND_NUMOFBIT8);
    nd_u8 tmp[64];
    for (nd_u64 i = 0; i < L; i += 8) {
        nd_u64 word = nd_load64(seg + i);
        if (!word)
            continue;
        int n = __builtin_popcountll(word);
        __m512i v = _mm512_maskz_compress_epi8((__mmask64)word, tab);
        const __m512i base = _mm512_set1_epi32((int)(nd_u32)(30 * (segb + i)));
        _mm512_storeu_si512(tmp, v);
        for (int k = 0; k < n; k += 16)
            _mm512_storeu_si512(o + k, _mm512_add_epi32(_mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(tmp + k))), base));
        o += n;
    }
    return o;
}

ND_TVB static size_t nd_extq_vb(const nd_u8 *seg, nd_u64 i0, nd_u64 i1, nd_u64 segb, nd_u32 *qs, nd_u8 *ris)
{
    const __m512i iota = _mm512_set_epi8(63, 62, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46, 45,
                                         44, 43, 42, 41, 40, 39, 38, 37, 36, 35, 34, 33, 32, 31, 30, 29, 28, 27, 26,
                                         25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6,
                                         5, 4, 3, 2, 1, 0);
    const __m512i seven = _mm512_set1_epi8(7);
    nd_u8 tmp[64];
    size_t n = 0;
    for (nd_u64 i = i0; i < i1; i += 8) {
        nd_u64 word = nd_load64(seg + i);
        if (!word)
            continue;
        int c = __builtin_popcountll(word);
        __m512i v = _mm512_maskz_compress_epi8((__mmask64)word, iota);
        _mm512_storeu_si512(ris + n, _mm512_and_si512(v, seven));
        _mm512_storeu_si512(tmp, v);
        const __m512i base = _mm512_set1_epi32((int)(nd_u32)(segb + i));
        for (int k = 0; k < c; k += 16)
            _mm512_storeu_si512(qs + n + k, _mm512_add_epi32(_mm512_srli_epi32(
                _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(tmp + k))), 3), base));
        n += (size_t)c;
    }
    return n;
}
#endif

typedef nd_u64 *(*nd_ext64_fn)(const nd_u8 *, nd_u64, nd_u64, nd_u64 *);
typedef nd_u32 *(*nd_ext32_fn)(const nd_u8 *, nd_u64, nd_u64, nd_u32 *);
typedef size_t (*nd_extq_fn)(const nd_u8 *, nd_u64, nd_u64, nd_u64, nd_u32 *, nd_u8 *);
static nd_ext64_fn nd_ext64_impl = nd_ext64_c;
static nd_ext32_fn nd_ext32_impl = nd_ext32_c;
static nd_extq_fn nd_extq_impl = nd_extq_c;

/* ------------------------------------------------------------------------------------------ */
/* Consumers                                                                                   */
/* ------------------------------------------------------------------------------------------ */
static nd_u64 nd_count_range(const nd_u8 *seg, nd_u64 segb, nd_u64 x, nd_u64 y)
{
    nd_u64 bx = x / 30 - segb, by = y / 30 - segb;
    if (bx == by)
        return nd_popc_soft(seg[bx] & ND_LOMASK[x % 30] & ND_HIMASK[y % 30]);
    return nd_popc_soft(seg[bx] & ND_LOMASK[x % 30]) + nd_popc_soft(seg[by] & ND_HIMASK[y % 30])
           + nd_count_impl(seg + bx + 1, by - bx - 1);
}

static int nd_out_reserve(nd_piece *pc, size_t extra, size_t item)
{
    if (pc->out_n + extra <= pc->out_cap)
        return 0;
    size_t cap = pc->out_cap < 4096 ? 4096 : pc->out_cap;
    while (cap < pc->out_n + extra)
        cap *= 2;
    void *nb = realloc(pc->out, cap * item);
    if (!nb)
        return -1;
    pc->out = nb;
    pc->out_cap = cap;
    return 0;
}

static void nd_dist_segment(nd_work *W, nd_u64 segb, nd_u64 L);

/* about how many primes [lo, hi] holds (a little more: the list buffer is grown if not) */
static size_t nd_estimate(nd_u64 lo, nd_u64 hi)
{
    double span = (double)(hi - lo) + 1.0, lg = __builtin_log((double)hi + 3.0);
    double e = span / (lg > 2.2 ? lg - 1.1 : 1.0) * 1.05 + 64.0;
    return (size_t)e;
}

/* A proven upper bound on the number of primes in [lo, hi]: the odd numbers and 2; Montgomery and
 * Vaughan's pi(x + y) - pi(x) < 2y / log y (y > 1; The large sieve, Mathematika 20, 1973);
 * Rosser and Schoenfeld's pi(x) < 1.25506 x / log x (x > 1; Illinois J. Math. 6, 1962, (3.6)).
 * At [1e18, 1e18 + 1e9] it is 4.0x the count, at [0, 1e10] 1.2x. */
static size_t nd_count_bound(nd_u64 lo, nd_u64 hi)
{
    double y = (double)(hi - lo) + 1.0, x = (double)hi + 1.0;
    double b = y / 2.0 + 2.0;
    if (y > 1e4) {
        double mv = 2.0 * y / __builtin_log(y);
        if (mv < b)
            b = mv;
    }
    if (x > 1e4) {
        double rs = 1.25506 * x / __builtin_log(x);
        if (rs < b)
            b = rs;
    }
    return (size_t)(b * 1.001) + 64;
}

ND_AI void nd_cpu_relax(void)
{
#if ND_SV_X86
    _mm_pause();
#endif
}

/* Round robin with one output buffer: publish this segment's count, wait for the counts of the
 * round's earlier segments (the other threads consume theirs at the same time, right after the
 * round's barrier: a popcount away), write the primes at their place. */
static int nd_rr_list(nd_work *W, nd_u64 segb, nd_u64 L, nd_u64 r, nd_u64 base)
{
    nd_job *J = W->J;
    const int t = W->med_t, par = (int)(r & 1);
    nd_u64 c = nd_count_impl(W->seg, L);
    J->rr_cnt[par][t] = c;
    __atomic_store_n(&J->rr_seq[par][t], r + 1, __ATOMIC_RELEASE);
    nd_u64 off = base;
    for (int u = 0; u < t; u++) {
        while (__atomic_load_n(&J->rr_seq[par][u], __ATOMIC_ACQUIRE) != r + 1)
            nd_cpu_relax();
        off += J->rr_cnt[par][u];
    }
    W->pc->count += c;
    if (off + c > J->rr_cap)          /* cannot happen: the bound is proven */
        return -1;
    /* The vector extraction stores 8 (uint32: 16) items at a time, up to 15 past its last one:
     * into the next segment's items, which another thread may have written already.  So the
     * last words, holding at least 16 primes, go through the exact scalar loop after it. */
    const nd_u8 *seg = W->seg;
    nd_u64 is = L ? (L - 1) & ~(nd_u64)7 : 0, tail = 0;
    for (;;) {
        tail += (nd_u64)__builtin_popcountll(nd_load64(seg + is));
        if (tail >= 16 || is == 0)
            break;
        is -= 8;
    }
    size_t n;
    if (W->consume == ND_LIST64) {
        nd_u64 *o0 = (nd_u64 *)J->rr_out + off, *o = o0;
        if (is)
            o = nd_ext64_impl(seg, is, segb, o);
        o = nd_ext64_c(seg + is, L - is, segb + is, o);
        n = (size_t)(o - o0);
    } else {
        nd_u32 *o0 = (nd_u32 *)J->rr_out + off, *o = o0;
        if (is)
            o = nd_ext32_impl(seg, is, segb, o);
        o = nd_ext32_c(seg + is, L - is, segb + is, o);
        n = (size_t)(o - o0);
    }
    return n == c ? 0 : -1;
}

/* the segment is final: bytes seg[0:L] for numbers 30*segb .. 30*(segb+L)-1 */
static int nd_consume(nd_work *W, nd_u64 segb, nd_u64 L)
{
    nd_u8 *seg = W->seg;
    nd_job *J = W->J;
    nd_piece *pc = W->pc;
    switch (W->consume) {
    case ND_COUNT:
        pc->count += nd_count_impl(seg, L);
        return 0;
    case ND_HIST: {
        nd_u64 x0 = W->lo > 30 * segb ? W->lo : 30 * segb;
        nd_u64 x1 = nd_byte_top(segb + L - 1);
        if (x1 > W->hi)
            x1 = W->hi;
        nd_u64 bi = (x0 - J->h_a) / J->h_w;
        for (;;) {
            nd_u64 blo = J->h_a + bi * J->h_w, bhi = blo + (J->h_w - 1);
            nd_u64 y0 = blo > x0 ? blo : x0, y1 = bhi < x1 ? bhi : x1;
            nd_u64 c = nd_count_range(seg, segb, y0, y1);
            if (J->rr) {
                if (blo < x0 || bhi > x1)    /* may be shared with another thread's segment */
                    __atomic_fetch_add(&J->h_out[bi], c, __ATOMIC_RELAXED);
                else
                    J->h_out[bi] += c;
            } else if (bi == pc->hb0)
                pc->hc0 += c;
            else if (bi == pc->hb1)
                pc->hc1 += c;
            else
                J->h_out[bi] += c;
            if (bhi >= x1)
                break;
            bi++;
        }
        return 0;
    }
    case ND_LIST64:
    case ND_LIST32: {
        size_t item = W->consume == ND_LIST64 ? 8 : 4;
        if (nd_out_reserve(pc, (size_t)nd_count_impl(seg, L) + 64, item) != 0)
            return -1;
        if (J->rr) {
            pc->segrec[2 * pc->nrec] = (segb - W->lo / 30) / W->par->S;
            pc->segrec[2 * pc->nrec + 1] = pc->out_n;
            pc->nrec++;
        }
        if (W->consume == ND_LIST64) {
            nd_u64 *o = nd_ext64_impl(seg, L, segb, (nd_u64 *)pc->out + pc->out_n);
            pc->out_n = (size_t)(o - (nd_u64 *)pc->out);
        } else {
            nd_u32 *o = nd_ext32_impl(seg, L, segb, (nd_u32 *)pc->out + pc->out_n);
            pc->out_n = (size_t)(o - (nd_u32 *)pc->out);
        }
        return 0;
    }
    case ND_DIST:
        nd_dist_segment(W, segb, L);
        return 0;
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* One sieve over [lo, hi] with the parameters W->par (a piece, or a producer's range)          */
/* ------------------------------------------------------------------------------------------ */
/* a segment's start: the AND of the pre-sieve tables, the primes 7..251 themselves put back at
 * the start of the number line, and 1 taken out */
static void nd_presieve_segment(nd_u8 *seg, nd_u64 segb, nd_u64 L)
{
    nd_presieve_impl(seg, segb, L);
    for (nd_u64 b = segb; b < ND_PS_KEEPB && b < segb + L; b++)
        seg[b - segb] |= ND_PS_KEEP[b];
    if (segb == 0)
        seg[0] &= 0xFE;                         /* 1 is not prime */
}

static int nd_sieve_range(nd_work *W)
{
    const nd_par *P = W->par;
    nd_job *J = W->J;
    const nd_u64 S = P->S, b_lo = W->lo / 30, b_hi = W->hi / 30;
    nd_u8 *seg = W->seg;
    nd_u64 segb = b_lo, seg_idx = 0;
    int bad = 0;
    for (;;) {
        NDP_DECL;
        nd_u64 L = b_hi - segb + 1 < S ? b_hi - segb + 1 : S;
        nd_u64 last = segb + L - 1;
        bad |= nd_add_primes(W, segb, L, seg_idx, ND_ADD_SMALL | ND_ADD_MEDIUM);
        NDP_MARK2(W->kpiece < 0, NDP_ADD);
        nd_presieve_segment(seg, segb, L);
        NDP_MARK2(W->kpiece < 0, NDP_PRESIEVE);
        nd_small(W, L);
        NDP_MARK2(W->kpiece < 0, NDP_SMALL);
        bad |= nd_medium(W, W->seg, L);
        NDP_MARK2(W->kpiece < 0, NDP_MEDIUM);
        if (W->ring)
            bad |= nd_big(W, seg, seg_idx);
        NDP_MARK2(W->kpiece < 0, NDP_BIG);
        if (segb == b_lo)
            seg[0] &= ND_LOMASK[W->lo % 30];
        if (last == b_hi)
            seg[L - 1] &= ND_HIMASK[W->hi % 30];
        memset(seg + L, 0, 8);
        if (J->confirm) {
            for (nd_u64 i = 0; i < L; i += 8) {
                nd_u64 word = nd_load64(seg + i);
                while (word) {
                    int bit = __builtin_ctzll(word);
                    word &= word - 1;
                    nd_u64 n = 30 * (segb + i) + ND_NUMOFBIT[bit];
                    if (n > J->confirm_above && !J->is_prime(n))
                        seg[i + (nd_u64)(bit >> 3)] &= (nd_u8)~(1u << (bit & 7));
                }
            }
        }
        if (nd_consume(W, segb, L) != 0)
            return -1;
        NDP_MARK2(W->kpiece < 0, NDP_CONSUME);
        if (bad)
            return -1;
        if (last == b_hi)
            break;
        segb += S;
        seg_idx++;
        if (J->abort)
            break;
        nd_poll(W);
        if (J->abort)
            break;
    }
    return bad ? -1 : 0;
}

/* Allocate a work area for [lo, hi] (small/medium primes up to min(limit, med_max)) */
static int nd_work_init(nd_work *W, nd_job *J, const nd_par *P, nd_u64 lo, nd_u64 hi, int tid, nd_pool *pool)
{
    memset(W, 0, sizeof *W);
    W->par = P;
    W->J = J;
    W->tid = tid;
    W->pool = pool;
    W->lo = lo;
    W->hi = hi;
    W->kpiece = -1;
    W->last_seg = (hi / 30 - lo / 30) / P->S;
    nd_u64 segbytes = hi / 30 - lo / 30 + 1;
    if (segbytes > P->S)
        segbytes = P->S;
    /* the big tier crosses off anywhere in [0, S): a full segment whenever there are big primes */
    if (P->limit > P->med_max)
        segbytes = P->S;
    W->seg = (nd_u8 *)malloc(segbytes + 128);
    if (!W->seg)
        return -1;
    /* small/medium primes: ND_BASE[first prime > 163 .. last prime <= min(limit, med_max, isqrt(hi))] */
    nd_u64 top = P->limit < P->med_max ? P->limit : P->med_max;
    size_t i = 0, j;
    while (i < ND_NBASE && ND_BASE[i] <= ND_PS_MAXP)
        i++;
    j = i;
    size_t cnt[8] = {0};
    while (j < ND_NBASE && ND_BASE[j] <= top && (nd_u64)ND_BASE[j] * ND_BASE[j] <= hi) {
        if (ND_BASE[j] <= P->small_max) {
            cnt[ND_RIOF[ND_BASE[j] % 30]]++;
            W->pm = j + 1;
        }
        j++;
    }
    W->pi = i;
    if (W->pm < i)
        W->pm = i;
    W->ps_end = W->pm;
    W->pi_end = j;
    W->med_T = 1;
    for (int ri = 0; ri < 8; ri++) {
        W->sm[ri] = (nd_sp *)malloc((cnt[ri] + 1) * sizeof(nd_sp));
        if (!W->sm[ri])
            return -1;
    }
    return 0;
}

static void nd_work_free(nd_work *W)
{
    free(W->seg);
    for (int ri = 0; ri < 8; ri++)
        free(W->sm[ri]);
    free(W->ring);
    W->seg = NULL;
    W->ring = NULL;
    /* list blocks belong to the pools (freed with the job) */
}

/* ------------------------------------------------------------------------------------------ */
/* Producers: generate the big sieving primes of their range and give each piece its first     */
/* multiple (one division per prime; later pieces by walking the wheel when that is shorter)   */
/* ------------------------------------------------------------------------------------------ */
/* q = a // p exactly, from a double quotient (|error| < 1 when a / p < 2**44) and one fix-up */
ND_AI nd_u64 nd_div_fp(nd_u64 a, double ad, nd_u64 p, nd_u64 *rem)
{
    nd_u64 q = (nd_u64)(int64_t)(ad / (double)(int64_t)p);
    nd_u64 r = a - q * p;
    if ((int64_t)r < 0) {
        q--;
        r += p;
    } else if (r >= p) {
        q++;
        r -= p;
    }
    *rem = r;
    return q;
}


/* First multiple >= lo of p = 30q + RES[ri] with m coprime to 210: byte index and mod-210
 * index.  m = ceil(lo / p) from the double quotient (or an integer division when lo / p may
 * reach 2**44), then the next m coprime to 210, and p*m / 30 = q*m + (r*m) / 30 (r*m < 2**53). */
ND_AI nd_u64 nd_first210q(nd_u64 lo, double lod, nd_u64 fpmin, nd_u64 q, int ri, int *j_out)
{
    nd_u64 r = (nd_u64)ND_RES[ri], p = 30 * q + r, m, rem;
    if (ND_LIKELY(p >= fpmin))
        m = nd_div_fp(lo, lod, p, &rem);
    else {
        m = lo / p;
        rem = lo - m * p;
    }
    m += rem != 0;
    nd_u64 rm = m % 210;
    *j_out = ND_NEXT210[rm];
    m += (nd_u64)ND_DLT210[rm];
    return q * m + (r * m) / 30;
}

/* The first piece's part of nd_dist_batch for primes i0 <= i < i1 (every square below lo) */
/* (nown > 1: round-robin mode, prime i belongs to thread i % nown, whose ring is ring + owner*NR) */
static void nd_dist0_c(nd_item **ring, nd_pool *pl, const nd_u32 *qs, const nd_u8 *ris, size_t i0, size_t i1,
                       nd_u64 lo, double lod, nd_u64 fpmin, nd_u64 B, nd_u64 E, nd_u64 S, int lgS, nd_u64 NR,
                       int nown)
{
    for (size_t i = i0; i < i1; i++) {
        int j, ri = ris[i];
        nd_u64 q = qs[i];
        nd_u64 x = nd_first210q(lo, lod, fpmin, q, ri, &j);
        if (x <= E) {
            nd_u64 rel = x - B;
            nd_item **rg = nown > 1 ? ring + (i % (size_t)nown) * NR : ring;
            nd_push(&rg[(rel >> lgS) & (NR - 1)], pl, (nd_u32)q,
                    (nd_u32)(((rel & (S - 1)) << 9) | (nd_u64)(ri * 48 + j)));
        }
    }
}

#if ND_SV_X86
/* The same eight primes at a time: double quotient, exact fix-ups in 64-bit lanes, m mod 210 and
 * (r*m) / 30 also through doubles (exact below 2**53, then one fix-up), the mod-210 tables by a
 * gather.  Requires p >= fpmin for every prime (lo / p < 2**44).  Same results as nd_dist0_c. */
#define ND_T512 __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl")))
ND_T512 static void nd_dist0_avx512(nd_item **ring, nd_pool *pl, const nd_u32 *qs, const nd_u8 *ris, size_t i0,
                                    size_t i1, nd_u64 lo, double lod, nd_u64 fpmin, nd_u64 B, nd_u64 E, nd_u64 S,
                                    int lgS, nd_u64 NR, int nown)
{
    const __m512i one = _mm512_set1_epi64(1), zero = _mm512_setzero_si512();
    const __m512i v30 = _mm512_set1_epi64(30), v210 = _mm512_set1_epi64(210), v48 = _mm512_set1_epi64(48);
    const __m512i resv = _mm512_setr_epi64(1, 7, 11, 13, 17, 19, 23, 29);
    const __m512i lov = _mm512_set1_epi64((long long)lo), Bv = _mm512_set1_epi64((long long)B);
    const __m512i Ev = _mm512_set1_epi64((long long)E), smask = _mm512_set1_epi64((long long)(S - 1));
    const __m512i nrmask = _mm512_set1_epi64((long long)(NR - 1)), ff = _mm512_set1_epi64(0xFF);
    const __m512d lodv = _mm512_set1_pd(lod), inv210 = _mm512_set1_pd(1.0 / 210), inv30 = _mm512_set1_pd(1.0 / 30);
    const __m128i shs = _mm_cvtsi32_si128(lgS);
    size_t i = i0;
    for (; i + 8 <= i1; i += 8) {
        __m512i q = _mm512_cvtepu32_epi64(_mm256_loadu_si256((const __m256i *)(qs + i)));
        __m512i ri = _mm512_cvtepu8_epi64(_mm_loadl_epi64((const __m128i *)(ris + i)));
        __m512i r = _mm512_permutexvar_epi64(ri, resv);
        __m512i p = _mm512_add_epi64(_mm512_mullo_epi64(q, v30), r);
        __m512i m = _mm512_cvttpd_epu64(_mm512_div_pd(lodv, _mm512_cvtepu64_pd(p)));
        __m512i rem = _mm512_sub_epi64(lov, _mm512_mullo_epi64(m, p));
        __mmask8 ng = _mm512_cmplt_epi64_mask(rem, zero);
        m = _mm512_mask_sub_epi64(m, ng, m, one);
        rem = _mm512_mask_add_epi64(rem, ng, rem, p);
        __mmask8 ge = _mm512_cmpge_epu64_mask(rem, p);
        m = _mm512_mask_add_epi64(m, ge, m, one);
        rem = _mm512_mask_sub_epi64(rem, ge, rem, p);
        m = _mm512_mask_add_epi64(m, _mm512_test_epi64_mask(rem, rem), m, one);
        __m512i K = _mm512_cvttpd_epu64(_mm512_mul_pd(_mm512_cvtepu64_pd(m), inv210));
        __m512i rm = _mm512_sub_epi64(m, _mm512_mullo_epi64(K, v210));
        ng = _mm512_cmplt_epi64_mask(rm, zero);
        rm = _mm512_mask_add_epi64(rm, ng, rm, v210);
        ge = _mm512_cmpge_epi64_mask(rm, v210);
        rm = _mm512_mask_sub_epi64(rm, ge, rm, v210);
        __m512i jd = _mm512_cvtepu32_epi64(_mm512_i64gather_epi32(rm, (const void *)ND_JD210, 4));
        __m512i j = _mm512_and_si512(jd, ff);
        m = _mm512_add_epi64(m, _mm512_srli_epi64(jd, 8));
        __m512i v = _mm512_mullo_epi64(r, m);
        __m512i d = _mm512_cvttpd_epu64(_mm512_mul_pd(_mm512_cvtepu64_pd(v), inv30));
        __m512i e = _mm512_sub_epi64(v, _mm512_mullo_epi64(d, v30));
        ng = _mm512_cmplt_epi64_mask(e, zero);
        d = _mm512_mask_sub_epi64(d, ng, d, one);
        ge = _mm512_cmpge_epi64_mask(e, v30);
        d = _mm512_mask_add_epi64(d, ge, d, one);
        __m512i x = _mm512_add_epi64(_mm512_mullo_epi64(q, m), d);
        __mmask8 h = _mm512_cmple_epu64_mask(x, Ev);
        if (h) {
            __m512i rel = _mm512_sub_epi64(x, Bv);
            __m512i slot = _mm512_and_si512(_mm512_srl_epi64(rel, shs), nrmask);
            __m512i st = _mm512_add_epi64(_mm512_mullo_epi64(ri, v48), j);
            __m512i b = _mm512_or_si512(_mm512_slli_epi64(_mm512_and_si512(rel, smask), 9), st);
            nd_u64 sl[8], bb[8];
            _mm512_storeu_si512(sl, slot);
            _mm512_storeu_si512(bb, b);
            while (h) {
                int l = __builtin_ctz(h);
                h &= (__mmask8)(h - 1);
                nd_item **rg = nown > 1 ? ring + ((i + (size_t)l) % (size_t)nown) * NR : ring;
                nd_push(&rg[sl[l]], pl, qs[i + l], (nd_u32)bb[l]);
            }
        }
    }
    nd_dist0_c(ring, pl, qs, ris, i, i1, lo, lod, fpmin, B, E, S, lgS, NR, nown);
}
#endif

typedef void (*nd_dist0_fn)(nd_item **, nd_pool *, const nd_u32 *, const nd_u8 *, size_t, size_t, nd_u64, double,
                            nd_u64, nd_u64, nd_u64, nd_u64, int, nd_u64, int);
static nd_dist0_fn nd_dist0_impl = nd_dist0_c;

/* Hand a batch of big primes (ascending; p = 30 qs[i] + RES[ris[i]]) to every piece: the piece's
 * first multiple goes into the producer's staging ring of that piece, or the prime goes to the
 * piece's lazy list when its square lies inside the piece.  One division per prime and piece
 * (eight at a time with AVX-512): cheaper than walking the wheel from the previous piece. */
static void nd_dist_batch(nd_job *J, int t, const nd_u32 *qs, const nd_u8 *ris, size_t n)
{
    const nd_par *P = &J->par;
    const nd_u64 NR = J->NR, S = P->S;
    const int lgS = P->lgS;
    nd_pool *pl = &J->pools[t];
    /* targets: every piece, or (round-robin) the one window, whose primes have T owners */
    const int ntg = J->rr ? J->rr_T : J->npieces, nwin = J->rr ? 1 : J->npieces, nown = J->rr ? J->rr_T : 1;
#define ND_P(i) (30 * (nd_u64)qs[i] + (nd_u64)ND_RES[ris[i]])
    for (int k = 0; k < nwin; k++) {
        const nd_piece *pc = &J->pieces[k];
        const nd_u64 lo = pc->lo, hi = pc->hi, B = lo / 30, E = hi / 30;
        const nd_u64 fpmin = (lo >> 44) + 1;
        size_t li = (size_t)t * ntg + k;
        nd_item **ring = J->stage + li * NR;
        size_t i1 = 0, i2, ifp = 0;
        if (ND_P(n - 1) * ND_P(n - 1) < lo)
            i1 = n;                     /* the usual case high up: every square is below lo */
        while (i1 < n && ND_P(i1) * ND_P(i1) < lo)
            i1++;
        i2 = i1;
        while (i2 < n && ND_P(i2) * ND_P(i2) <= hi)
            i2++;
        while (ifp < i1 && ND_P(ifp) < fpmin)
            ifp++;
        nd_dist0_c(ring, pl, qs, ris, 0, ifp, lo, (double)lo, fpmin, B, E, S, lgS, NR, nown);
        nd_dist0_impl(ring, pl, qs, ris, ifp, i1, lo, (double)lo, fpmin, B, E, S, lgS, NR, nown);
        for (size_t i = i1; i < i2; i++) {
            size_t lj = nown > 1 ? (size_t)t * ntg + i % (size_t)nown : li;
            if (J->nlazy[lj] == J->caplazy[lj]) {
                size_t nc = J->caplazy[lj] ? 2 * J->caplazy[lj] : 1024;
                nd_u32 *nb = (nd_u32 *)realloc(J->lazy[lj], nc * sizeof(nd_u32));
                if (!nb) {
                    pl->err = 1;
                    return;
                }
                J->lazy[lj] = nb;
                J->caplazy[lj] = nc;
            }
            J->lazy[lj][J->nlazy[lj]++] = (nd_u32)ND_P(i);
        }
    }
#undef ND_P
}

static void nd_dist_segment(nd_work *W, nd_u64 segb, nd_u64 L)
{
    /* a batch of 256 words holds at most 64 * 256 primes, in practice ~3000 */
    nd_u32 qs[64 * 256 + 64];
    nd_u8 ris[64 * 256 + 64];
    const nd_u8 *seg = W->seg;
    for (nd_u64 i = 0; i < L; i += 8 * 256) {
        nd_u64 e = i + 8 * 256 < L ? i + 8 * 256 : L;
        size_t n = nd_extq_impl(seg, i, e, segb, qs, ris);
        if (n)
            nd_dist_batch(W->J, W->prod, qs, ris, n);
    }
}

/* Producer thread t sieves the big primes in [a, b] and hands them to the pieces (ascending:
 * each thread takes its chunks in increasing order, so its lazy lists stay sorted) */
static void nd_produce_chunk(nd_job *J, int t, nd_u64 a, nd_u64 b)
{
    nd_par P;
    P.S = 1u << 16;
    P.lgS = 16;
    P.chunk = ND_L1D;
    if (P.chunk > P.S)
        P.chunk = P.S;
    P.small_max = 1u << 13;
    P.med_max = ND_BASE_LIMIT;
    P.limit = (nd_u64)65536;
    nd_work W;
    if (nd_work_init(&W, J, &P, a, b, t, &J->pools[t]) != 0) {
        nd_work_free(&W);
        J->pools[t].err = 1;
        return;
    }
    W.consume = ND_DIST;
    W.prod = t;
    if (nd_sieve_range(&W) != 0)
        J->pools[t].err = 1;
    nd_work_free(&W);
}

static void nd_produce(nd_job *J, int t)
{
    if (J->prod_a > J->prod_b)
        return;
    const nd_u64 A = J->prod_a, len = J->prod_b - J->prod_a + 1, C = J->prod_nchunks;
    for (;;) {
        nd_u64 c = __atomic_fetch_add(&J->prod_next, 1, __ATOMIC_RELAXED);
        if (c >= C || J->abort || J->pools[t].err)
            return;
        /* chunk c: [A + len c / C, A + len (c + 1) / C), interior ends at multiples of 30
         * (len < 2^33 and C <= 4096: no overflow) */
        nd_u64 a = c == 0 ? A : (A + len * c / C) / 30 * 30;
        nd_u64 b = c + 1 == C ? J->prod_b : (A + len * (c + 1) / C) / 30 * 30 - 1;
        if (a <= b)
            nd_produce_chunk(J, t, a, b);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* One piece                                                                                   */
/* ------------------------------------------------------------------------------------------ */
static void nd_piece_run(nd_job *J, int k, int tid)
{
    nd_piece *pc = &J->pieces[k];
    nd_work W;
    if (J->abort || J->err)
        return;
    if (nd_work_init(&W, J, &J->par, pc->lo, pc->hi, tid, &J->pools[tid]) != 0) {
        pc->err = 1;
        nd_work_free(&W);
        return;
    }
    W.consume = J->consume;
    W.pc = pc;
    W.kpiece = k;
    if (J->has_big) {
        NDP_DECL;
        W.NR = J->NR;
        W.ring = (nd_item **)calloc(J->NR, sizeof(nd_item *));
        if (!W.ring) {
            pc->err = 1;
            nd_work_free(&W);
            return;
        }
        for (int t = 0; t < J->nprod; t++) {
            nd_item **st = J->stage + ((size_t)t * J->npieces + k) * J->NR;
            for (nd_u64 s = 0; s < J->NR; s++)
                nd_splice(&W.ring[s], &st[s]);
        }
        NDP_MARK(NDP_SPLICE);
    }
    if ((J->consume == ND_LIST64 || J->consume == ND_LIST32)
        && nd_out_reserve(pc, pc->front + nd_estimate(pc->lo, pc->hi), J->consume == ND_LIST64 ? 8 : 4) != 0) {
        pc->err = 1;
        nd_work_free(&W);
        return;
    }
    if (J->consume == ND_LIST64 || J->consume == ND_LIST32)
        pc->out_n = pc->front;
    if (J->consume == ND_HIST) {
        pc->hb0 = (pc->lo - J->h_a) / J->h_w;
        pc->hb1 = (pc->hi - J->h_a) / J->h_w;
        if (pc->hb1 == pc->hb0)
            pc->hb1 = ~(nd_u64)0;
    }
    if (nd_sieve_range(&W) != 0)
        pc->err = 1;
    nd_work_free(&W);
}

/* ------------------------------------------------------------------------------------------ */
/* The job: producers (when there are big primes), a barrier, then the pieces                  */
/* ------------------------------------------------------------------------------------------ */
/* ------------------------------------------------------------------------------------------ */
/* The job: producers (when there are big primes), a barrier, then the pieces                  */
/* ------------------------------------------------------------------------------------------ */
static void nd_job_setup(nd_job *J, int nt)
{
    J->nprod = J->has_big ? nt : 0;
    if (J->rr)
        J->rr_T = nt;
    if (J->rr && (J->consume == ND_LIST64 || J->consume == ND_LIST32)) {
        size_t item = J->consume == ND_LIST64 ? 8 : 4;
        J->rr_front = J->pieces[0].front;
        J->rr_cap = J->rr_front + nd_count_bound(J->pieces[0].lo, J->pieces[0].hi);
        J->rr_out = malloc(J->rr_cap * item);          /* on failure: the per-thread buffers */
        memset((void *)J->rr_seq, 0, sizeof J->rr_seq);
    }
    if (!J->has_big)
        return;
    /* [med_max + 1, limit] in chunks of about 2^24 numbers (~10 ms of work each), at least one
     * per thread, at most 4096 */
    J->prod_a = J->par.med_max + 1;
    J->prod_b = J->par.limit;
    J->prod_next = 0;
    nd_u64 C = J->prod_a <= J->prod_b ? (J->prod_b - J->prod_a) >> 24 : 0;
    if (C < (nd_u64)nt)
        C = (nd_u64)nt;
    if (C > 4096)
        C = 4096;
    J->prod_nchunks = C;
    size_t ntg = J->rr ? (size_t)nt : (size_t)J->npieces;
    size_t nl = (size_t)nt * ntg;
    J->stage = (nd_item **)calloc(nl * J->NR, sizeof(nd_item *));
    J->lazy = (nd_u32 **)calloc(nl, sizeof(nd_u32 *));
    J->nlazy = (size_t *)calloc(nl, sizeof(size_t));
    J->caplazy = (size_t *)calloc(nl, sizeof(size_t));
    if (!J->stage || !J->lazy || !J->nlazy || !J->caplazy)
        J->err = 1;
    if (J->rr) {
        J->rr_mem = (nd_u8 *)malloc((size_t)2 * nt * nt * (J->par.S + 128));
        if (!J->rr_mem)
            J->err = 1;
    }
}

/* Round-robin mode: move the small/medium primes' state over D bytes that other threads sieve:
 * whole wheel cycles (p bytes each) up to the cycle that contains byte D, then single steps up
 * to the first multiple at or after D (its wheel index changes: medium primes change lists). */
ND_AI nd_u64 nd_skip1(nd_u64 off, nd_u64 q, int ri, int *w, nd_u64 D)
{
    if (off < D) {
        nd_u64 p = 30 * q + (nd_u64)ND_RES[ri];
        off += (D - off) / p * p;
        while (off < D) {
            off += q * ND_GAPT[*w] + ND_DET[ri][*w];
            *w = (*w + 1) & 7;
        }
    }
    return off - D;
}

/* advance every small prime of this thread over D bytes (the other threads' segments of a
 * round-robin round); the medium primes are shared out instead and see every segment */
static void nd_skip(nd_work *W, nd_u64 D)
{
    for (int ri = 0; ri < 8; ri++)
        for (size_t i = 0; i < W->nsm[ri]; i++) {
            nd_sp *sp = &W->sm[ri][i];
            int w = (int)sp->w;
            sp->off = (nd_u32)nd_skip1(sp->off, sp->q, ri, &w, D);
            sp->w = (nd_u32)w;
        }
}

/* One thread's part of a round-robin job: segments t, t + T, t + 2T, ... of the window with the
 * pre-sieve, small and medium primes; its own share of the big primes for every segment (into
 * its own segment, or into a mask of another thread's segment); after a barrier each thread ANDs
 * the other threads' masks of its segment into it and consumes it.  Masks alternate between two
 * sets by round parity, so one barrier per round suffices. */
static void nd_rr_thread(nd_job *J, int t, int T)
{
    nd_piece *pc = &J->pieces[t];
    const nd_par *P = &J->par;
    const nd_u64 S = P->S, lo = J->pieces[0].lo, hi = J->pieces[0].hi, NR = J->NR;
    const nd_u64 b_lo = lo / 30, b_hi = hi / 30;
    nd_work W;
    int ok = !J->err;
    if (nd_work_init(&W, J, P, lo, hi, t, &J->pools[t]) != 0)
        ok = 0;
    const nd_u64 last = W.last_seg;
    W.consume = J->consume;
    W.pc = pc;
    W.kpiece = t;
    W.med_T = T;
    W.med_t = t;
    W.NR = NR;
    W.ring = ok ? (nd_item **)calloc(NR, sizeof(nd_item *)) : NULL;
    if (!W.ring)
        ok = 0;
    nd_u64 base = J->rr_front;         /* rr_out: the primes before this round's segments */
    if (ok && !J->rr_out && (J->consume == ND_LIST64 || J->consume == ND_LIST32)) {
        pc->segrec = (nd_u64 *)malloc((2 * (last / (nd_u64)T + 2)) * sizeof(nd_u64));
        if (!pc->segrec || nd_out_reserve(pc, nd_estimate(lo, hi) / (size_t)T + 64, J->consume == ND_LIST64 ? 8 : 4) != 0)
            ok = 0;
    }
    if (ok) {
        NDP_DECL;
        for (int u = 0; u < J->nprod; u++) {
            nd_item **st = J->stage + ((size_t)u * T + t) * NR;
            for (nd_u64 s = 0; s < NR; s++)
                nd_splice(&W.ring[s], &st[s]);
        }
        NDP_MARK(NDP_SPLICE);
    }
    if (!ok)
        pc->err = 1;
#define ND_MASK(u, par, k) (J->rr_mem + ((size_t)((u) * 2 + (par)) * T + (k)) * (S + 128))
    for (nd_u64 r = 0;; r++) {
        const nd_u64 s0 = r * (nd_u64)T, so = s0 + (nd_u64)t;
        const int par = (int)(r & 1);
        const int have = ok && so <= last;
        nd_u64 segb = b_lo + so * S, L = 0;
        nd_u8 *seg = W.seg;
        int bad = 0;
        NDP_DECL;
        if (have) {
            L = b_hi - segb + 1 < S ? b_hi - segb + 1 : S;
            bad |= nd_add_primes(&W, segb, L, so, ND_ADD_SMALL);
            nd_presieve_segment(seg, segb, L);
            NDP_MARK(NDP_PRESIEVE);
            nd_small(&W, L);
            if (T > 1)
                nd_skip(&W, (nd_u64)(T - 1) * S);
            NDP_MARK(NDP_SMALL);
        }
        /* every segment of the round: this thread's medium and big primes, into its own
         * segment or into its mask of another thread's segment */
        if (ok)
            for (int k = 0; k < T && s0 + (nd_u64)k <= last; k++) {
                nd_u64 s = s0 + (nd_u64)k, sb = b_lo + s * S;
                nd_u64 Ls = b_hi - sb + 1 < S ? b_hi - sb + 1 : S;
                nd_u8 *tgt = seg;
                if (k != t) {
                    tgt = ND_MASK(t, par, k);
                    memset(tgt, 0xFF, S);
                }
                bad |= nd_add_primes(&W, sb, Ls, s, ND_ADD_MEDIUM);
                bad |= nd_medium(&W, tgt, Ls);
                NDP_MARK(NDP_MEDIUM);
                bad |= nd_add_lazy_big(&W, sb, Ls, s);
                bad |= nd_big(&W, tgt, s);
                NDP_MARK(NDP_BIG);
            }
        if (bad) {
            pc->err = 1;
            ok = 0;
        }
        if (t == 0)
            nd_poll(&W);
        /* Leave after the barrier if any thread voted so.  The votes, not J->abort itself: a
         * thread that reads late (descheduled after the barrier) must not see a flag that
         * thread 0 set in the next round, or the threads would wait at different barriers. */
        /* A thread that failed before (!ok) votes too: with one output buffer the later threads
         * of a round wait for its count, which it would never publish. */
        J->rr_quit[par][t] = bad || !ok || (t == 0 && J->abort);
#pragma omp barrier
        int quit = 0;
        for (int u = 0; u < T; u++)
            quit |= J->rr_quit[par][u];
        if (quit)
            break;
        if (have) {
            for (int u = 0; u < T; u++)
                if (u != t) {
                    const nd_u8 *m = ND_MASK(u, par, t);
                    for (nd_u64 i = 0; i < L; i += 8)
                        nd_store64(seg + i, nd_load64(seg + i) & nd_load64(m + i));
                }
            if (so == 0)
                seg[0] &= ND_LOMASK[lo % 30];
            if (so == last)
                seg[L - 1] &= ND_HIMASK[hi % 30];
            memset(seg + L, 0, 8);
            if (J->confirm)
                for (nd_u64 i = 0; i < L; i += 8) {
                    nd_u64 word = nd_load64(seg + i);
                    while (word) {
                        int bit = __builtin_ctzll(word);
                        word &= word - 1;
                        nd_u64 n = 30 * (segb + i) + ND_NUMOFBIT[bit];
                        if (n > J->confirm_above && !J->is_prime(n))
                            seg[i + (nd_u64)(bit >> 3)] &= (nd_u8)~(1u << (bit & 7));
                    }
                }
            if (J->rr_out) {
                if (r > 0)             /* every thread published round r - 1 before this barrier */
                    for (int u = 0; u < T; u++)
                        base += J->rr_cnt[par ^ 1][u];
                if (nd_rr_list(&W, segb, L, r, base) != 0) {
                    pc->err = 1;
                    ok = 0;
                }
            } else if (nd_consume(&W, segb, L) != 0) {
                pc->err = 1;
                ok = 0;
            }
            NDP_MARK(NDP_CONSUME);
        }
        if (s0 + (nd_u64)T > last)
            break;
    }
#undef ND_MASK
    nd_work_free(&W);
}

/* Round-robin lists: each thread holds its segments' primes; put them in order into piece 0 */
static int nd_rr_gather(nd_job *J, size_t front)
{
    int T = J->rr_T;
    size_t item = J->consume == ND_LIST64 ? 8 : 4, total = 0;
    for (int u = 0; u < T; u++)
        total += J->pieces[u].out_n;
    char *out = (char *)malloc((front + total + 1) * item);
    if (!out)
        return -1;
    size_t pos = front;
    size_t k[64] = {0};
    for (nd_u64 s = 0;; s++) {
        int u = (int)(s % (nd_u64)T);
        nd_piece *pc = &J->pieces[u];
        if (k[u] >= pc->nrec)
            break;
        size_t a = pc->segrec[2 * k[u] + 1];
        size_t b = k[u] + 1 < pc->nrec ? pc->segrec[2 * (k[u] + 1) + 1] : pc->out_n;
        memcpy(out + pos * item, (char *)pc->out + a * item, (b - a) * item);
        pos += b - a;
        k[u]++;
    }
    for (int u = 0; u < T; u++) {
        free(J->pieces[u].out);
        J->pieces[u].out = NULL;
        J->pieces[u].out_n = 0;
    }
    J->pieces[0].out = out;
    J->pieces[0].out_n = pos;
    J->pieces[0].out_cap = front + total + 1;
    return pos == front + total ? 0 : -1;
}

/* Lists: one buffer in piece 0 with `front` free items at its start (for 2, 3, 5) and every
 * prime after them in order.  Piece 0 reserved its front items before sieving; the other
 * pieces are appended to it. */
static int nd_job_concat(nd_job *J, size_t front)
{
    if (J->rr && J->rr_out) {
        size_t item = J->consume == ND_LIST64 ? 8 : 4, total = J->rr_front;
        for (int u = 0; u < J->rr_T; u++)
            total += J->pieces[u].count;
        if (J->rr_front != front || total > J->rr_cap)
            return -1;
        void *nb = realloc(J->rr_out, (total + 1) * item);    /* give back the bound's tail */
        nd_piece *p0 = &J->pieces[0];
        free(p0->out);
        p0->out = nb ? nb : J->rr_out;
        p0->out_n = total;
        p0->out_cap = total + 1;
        J->rr_out = NULL;
        return 0;
    }
    if (J->rr)
        return nd_rr_gather(J, front);
    size_t item = J->consume == ND_LIST64 ? 8 : 4, total = 0;
    for (int k = 0; k < J->npieces; k++)
        total += J->pieces[k].out_n;
    nd_piece *p0 = &J->pieces[0];
    if (p0->out_n < front)
        return -1;
    if (total + 1 > p0->out_cap) {
        void *nb = realloc(p0->out, (total + 1) * item);
        if (!nb)
            return -1;
        p0->out = nb;
        p0->out_cap = total + 1;
    }
    for (int k = 1; k < J->npieces; k++) {
        nd_piece *pc = &J->pieces[k];
        memcpy((char *)p0->out + p0->out_n * item, pc->out, pc->out_n * item);
        p0->out_n += pc->out_n;
        free(pc->out);
        pc->out = NULL;
        pc->out_n = 0;
    }
    return 0;
}

static void nd_job_body(nd_job *J, int tid, int nt)
{
    if (tid == 0)
        nd_job_setup(J, nt);
#pragma omp barrier
    if (!J->err && J->has_big && tid < J->nprod) {
        NDP_DECL;
        nd_produce(J, tid);
        NDP_MARK(NDP_PRODUCE);
    }
    __atomic_add_fetch(&J->nfinished[0], 1, __ATOMIC_RELEASE);
    if (tid == 0)
        nd_wait_polling(J, &J->nfinished[0], nt);
#pragma omp barrier
    if (tid == 0)
        for (int i = 0; i < J->npools; i++)
            if (J->pools[i].err)
                J->err = 1;
#pragma omp barrier
    if (J->rr) {
        nd_rr_thread(J, tid, nt);
        return;
    }
#pragma omp for schedule(dynamic, 1) nowait
    for (int k = 0; k < J->npieces; k++)
        nd_piece_run(J, k, tid);
    __atomic_add_fetch(&J->nfinished[1], 1, __ATOMIC_RELEASE);
    if (tid == 0)
        nd_wait_polling(J, &J->nfinished[1], nt);
}

/* Run a job.  A parallel region only when it has work for more than one thread (one piece and
 * no big primes run on the calling thread: no OpenMP at all, which also keeps single-threaded
 * calls safe in processes forked from a parent that used OpenMP). */
static void nd_job_run(nd_job *J)
{
    int nt = J->threads;
    if (!J->has_big && nt > J->npieces)
        nt = J->npieces;
    J->t_last = nd_now();
    J->nfinished[0] = J->nfinished[1] = 0;
    if (nt <= 1) {
        nd_job_setup(J, 1);
        if (!J->err && J->has_big) {
            NDP_DECL;
            nd_produce(J, 0);
            NDP_MARK(NDP_PRODUCE);
        }
        for (int i = 0; i < J->npools; i++)
            if (J->pools[i].err)
                J->err = 1;
        if (J->rr && !J->err)
            nd_rr_thread(J, 0, 1);
        else
            for (int k = 0; k < J->npieces && !J->err; k++)
                nd_piece_run(J, k, 0);
    } else {
#pragma omp parallel num_threads(nt)
        {
            int tid = 0, got = 1;
#ifdef _OPENMP
            tid = omp_get_thread_num();
            got = omp_get_num_threads();
#endif
            nd_job_body(J, tid, got);
        }
    }
    for (int i = 0; i < J->npools; i++)
        if (J->pools[i].err)
            J->err = 1;
    for (int k = 0; k < J->npieces; k++)
        if (J->pieces[k].err)
            J->err = 1;
}

static void nd_pools_free(nd_pool *pools, int n)
{
    for (int i = 0; i < n; i++)
        nd_pool_free(&pools[i]);
    free(pools);
}

#if ND_HAVE_PTHREAD
typedef struct {
    nd_pool *pools;
    int n;
} nd_pools_arg;

static void *nd_pools_free_thread(void *arg)
{
    nd_pools_arg *a = (nd_pools_arg *)arg;
    nd_pools_free(a->pools, a->n);
    free(a);
    return NULL;
}
#endif

/* Release big pools (near 2**64 ~0.8 GB per thread: 0.1-0.2 s of munmap per GB here, several
 * times that on slower machines) on a detached thread, so that the result, or KeyboardInterrupt
 * after Ctrl-C, comes at once.  Returns 0 when it did not (the caller frees them itself). */
static int nd_pools_free_later(nd_pool *pools, int n)
{
#if ND_HAVE_PTHREAD
    size_t chunks = 0;
    for (int i = 0; i < n; i++)
        chunks += pools[i].nchunks;
    if (chunks < 64)                   /* under 64 MiB: not worth a thread */
        return 0;
    nd_pools_arg *a = (nd_pools_arg *)malloc(sizeof *a);
    pthread_t th;
    if (!a)
        return 0;
    a->pools = pools;
    a->n = n;
    if (pthread_create(&th, NULL, nd_pools_free_thread, a) != 0) {
        free(a);
        return 0;
    }
    pthread_detach(th);
    return 1;
#else
    (void)pools;
    (void)n;
    return 0;
#endif
}

static void nd_job_free(nd_job *J)
{
    if (J->lazy)
        for (size_t i = 0; i < (size_t)J->nprod * J->npieces; i++)
            free(J->lazy[i]);
    free(J->lazy);
    free(J->nlazy);
    free(J->caplazy);
    free(J->stage);
    free(J->rr_mem);
    J->rr_mem = NULL;
    free(J->rr_out);
    J->rr_out = NULL;
    if (J->pieces)
        for (int k = 0; k < J->npieces; k++) {
            free(J->pieces[k].segrec);
            J->pieces[k].segrec = NULL;
        }
    if (J->pools && !nd_pools_free_later(J->pools, J->npools))
        nd_pools_free(J->pools, J->npools);
    J->lazy = NULL;
    J->stage = NULL;
    J->pools = NULL;
}


/* ------------------------------------------------------------------------------------------ */
/* Setting up a job                                                                            */
/* ------------------------------------------------------------------------------------------ */
ND_AI nd_u64 nd_isqrt(nd_u64 n)
{
    nd_u64 r = (nd_u64)__builtin_sqrt((double)n);
    while (r > 0xFFFFFFFFull || r * r > n)
        r--;
    while (r < 0xFFFFFFFFull && (r + 1) * (r + 1) <= n)
        r++;
    return r;
}

ND_AI nd_u64 nd_pow2_floor(nd_u64 x)
{
    nd_u64 p = 1;
    while (p * 2 <= x)
        p *= 2;
    return p;
}

#ifndef ND_PIECES_PER_THREAD
#define ND_PIECES_PER_THREAD 8
#endif

#ifndef ND_RR_FACTOR
#define ND_RR_FACTOR 24.0              /* 8 until [1e15, 1e15 + 1e9) was measured faster in round robin */
#endif

/* Default segment bytes: about 2*sqrt(limit) (the sieving primes' work per segment stays
 * a small part), at least the L1 chunk and at most half the L2; a power of two. */
static nd_u64 nd_default_seg(nd_u64 limit)
{
    nd_u64 lo = nd_pow2_floor(ND_L1D), hi = nd_pow2_floor(ND_L2 / 2);
    nd_u64 want = 2 * limit;
    nd_u64 s = lo;
    while (s < want && s < hi)
        s *= 2;
    return s;
}

/* Fill J for sieving [lo, hi] (inclusive) by the primes <= limit.  Zero parameters take the
 * defaults.  Returns 0, or -1 when out of memory. */
static int nd_job_init(nd_job *J, int consume, nd_u64 lo, nd_u64 hi, nd_u64 limit, int threads, int npieces,
                       nd_u64 seg, nd_u64 chunk, nd_u64 smax, nd_u64 mmax, int rr)
{
    memset(J, 0, sizeof *J);
    J->consume = consume;
    nd_u64 r = nd_isqrt(hi);
    if (limit > r)
        limit = r;
    if (threads < 1)
        threads = 1;
    if (threads > 64)
        threads = 64;
    if (seg == 0)
        seg = nd_default_seg(limit);
    /* chunk: two thirds of the L1 data cache; small_max: half of it (a small prime's last
     * crossing in a chunk runs up to p bytes past it).  Measured on a 48 KiB L1d (Xeon guest,
     * family 6 model 167), count t1, median of 3: [0, 1e10) 0.88 -> 0.77 s, [1e12, 1e12 + 1e10)
     * 1.62 -> 1.42 s, [1e15, 1e15 + 1e9) 0.296 -> 0.273 s against the former chunk = L1d,
     * small_max = L1d / 5; a chunk of 16 KiB, or of 64 KiB and more, was slower at every
     * small_max.  small_max 2/3 -> 1/2 of L1d: [0, 1e10) 0.93 -> 0.86 s t1, 0.48 -> 0.45 s t2
     * (interleaved, median of 7 and 5; 20 and 28 KiB gave the same as 24), no change at
     * [1e12, 1e12 + 1e10), [1e15, 1e15 + 1e9) or [1e18, 1e18 + 1e9). */
    if (chunk == 0)
        chunk = (ND_L1D * 2 / 3) & ~(nd_u64)63;
    if (chunk > seg)
        chunk = seg;
    if (mmax == 0)
        mmax = 3 * seg;
    if (mmax > ND_BASE_LIMIT)
        mmax = ND_BASE_LIMIT;
    if (mmax < ND_PS_MAXP)
        mmax = ND_PS_MAXP;
    if (smax == 0)
        smax = ND_L1D / 2;
    if (smax > mmax)
        smax = mmax;
    if (smax < ND_PS_MAXP)
        smax = ND_PS_MAXP;
    J->par.S = seg;
    J->par.lgS = __builtin_ctzll(seg);
    J->par.chunk = chunk;
    J->par.small_max = smax;
    J->par.med_max = mmax;
    J->par.limit = limit;
    J->has_big = limit > mmax;
    if (J->has_big) {
        nd_u64 jump = 10 * (limit / 30) + 11;
        J->NR = 1;
        while (J->NR < jump / seg + 3)
            J->NR <<= 1;
    }
    /* pieces: contiguous, interior boundaries multiples of 30 */
    nd_u64 bytes = hi / 30 - lo / 30 + 1;
    int rr_forced = rr > 0;
    if (rr < 0) {
        /* Round robin when splitting the window would repeat a large part of the work: every
         * piece needs the first multiple of every big prime that hits it (~10 ns each), against
         * ~0.3 ns per integer of sieving (measured; see the module docstring).  Lists take it
         * always: the threads write into one buffer, where pieces are copied together after. */
        double nbig = (double)limit / (__builtin_log((double)limit) - 1.1) - (double)mmax / (__builtin_log((double)mmax) - 1.1);
        int list = consume == ND_LIST64 || consume == ND_LIST32;
        rr = J->has_big && threads > 1 && npieces <= 0 && (list || nbig * ND_RR_FACTOR > (double)bytes);
    }
    if (rr && J->has_big && (threads > 1 || rr_forced) && bytes > seg) {
        J->rr = 1;
        npieces = threads;
    }
    if (npieces <= 0) {
        /* Without big primes a piece costs little to start (its small and medium primes), so
         * there are several per thread and idle threads take the next one: a thread that the
         * OS deschedules for a while does not hold up the rest.  With big primes a piece needs
         * the first multiple of each of them: one per thread. */
        nd_u64 minb = 4 * seg > ((nd_u64)1 << 21) ? 4 * seg : ((nd_u64)1 << 21);
        nd_u64 np = bytes / minb, want = (nd_u64)threads * (J->has_big ? 1 : ND_PIECES_PER_THREAD);
        npieces = threads <= 1 ? 1 : (int)(np < want ? (np ? np : 1) : want);
    }
    if ((nd_u64)npieces > bytes)
        npieces = (int)bytes;
    J->pieces = (nd_piece *)calloc((size_t)npieces, sizeof(nd_piece));
    J->pools = (nd_pool *)calloc((size_t)threads, sizeof(nd_pool));
    if (!J->pieces || !J->pools)
        return -1;
    J->npools = threads;
    J->threads = threads;
    nd_u64 b0 = lo / 30, prev = lo;
    int k = 0;
    for (int i = 1; i < npieces; i++) {
        nd_u64 cut = 30 * (b0 + bytes / (nd_u64)npieces * (nd_u64)i);
        if (cut <= prev || cut > hi)
            continue;
        J->pieces[k].lo = prev;
        J->pieces[k].hi = cut - 1;
        k++;
        prev = cut;
    }
    J->pieces[k].lo = prev;
    J->pieces[k].hi = hi;
    k++;
    J->npieces = k;
    if (J->rr)                          /* every thread's outputs: the whole window */
        for (k = 0; k < J->npieces; k++) {
            J->pieces[k].lo = lo;
            J->pieces[k].hi = hi;
        }
    return 0;
}

/* profile counters (zeros unless built with -DND_SV_PROFILE) */
static void nd_prof_get(nd_u64 *out)
{
    for (int i = 0; i < NDP_N; i++) {
        out[i] = ND_PROF[0][i];
        out[NDP_N + i] = ND_PROF[1][i];
    }
}

static void nd_prof_reset(void)
{
    for (int i = 0; i < NDP_N; i++)
        ND_PROF[0][i] = ND_PROF[1][i] = 0;
}

/* Choose the vector kernels: level 99 = the best the CPU has; 0 = portable C; 1 SSE2, 2 AVX2,
 * 3 AVX-512 (pre-sieve: AVX-512BW; popcount: POPCNT at 1-2, AVX-512 VPOPCNTDQ at 3).  Returns
 * the pre-sieve level in use (a level the CPU lacks falls back to the next one it has). */
static int nd_sv_set_simd(int level)
{
    nd_presieve_impl = nd_presieve_c;
    nd_count_impl = nd_count_c;
    nd_dist0_impl = nd_dist0_c;
    nd_ext64_impl = nd_ext64_c;
    nd_ext32_impl = nd_ext32_c;
    nd_extq_impl = nd_extq_c;
    ND_SIMD_LEVEL = 0;
    ND_POP_LEVEL = 0;
#if ND_SV_X86
    __builtin_cpu_init();
    if (level >= 1 && __builtin_cpu_supports("sse2")) {
        nd_presieve_impl = nd_presieve_sse2;
        ND_SIMD_LEVEL = 1;
    }
    if (level >= 1 && __builtin_cpu_supports("popcnt")) {
        nd_count_impl = nd_count_popcnt;
        ND_POP_LEVEL = 1;
    }
    if (level >= 2 && __builtin_cpu_supports("avx2")) {
        nd_presieve_impl = nd_presieve_avx2;
        ND_SIMD_LEVEL = 2;
    }
    if (level >= 3 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")) {
        nd_presieve_impl = nd_presieve_avx512;
        ND_SIMD_LEVEL = 3;
    }
    if (level >= 3 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq")
        && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl"))
        nd_dist0_impl = nd_dist0_avx512;
    if (level >= 3 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
        && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vbmi")
        && __builtin_cpu_supports("avx512vbmi2") && __builtin_cpu_supports("popcnt")) {
        for (int b = 0; b < 64; b++)
            ND_NUMOFBIT8[b] = (nd_u8)ND_NUMOFBIT[b];
        nd_ext64_impl = nd_ext64_vb;
        nd_ext32_impl = nd_ext32_vb;
        nd_extq_impl = nd_extq_vb;
    }
    if (level >= 3 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vpopcntdq")
        && __builtin_cpu_supports("popcnt")) {
        nd_count_impl = nd_count_avx512;
        ND_POP_LEVEL = 2;
    }
#else
    (void)level;
#endif
    return ND_SIMD_LEVEL;
}

#endif /* ND_SIEVE_H */
