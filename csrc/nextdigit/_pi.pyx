# cython: language_level=3
"""Exact prime counting pi(x) for 0 <= x < 2**64: the Deleglise-Rivat form of the combinatorial
(Meissel-Lehmer / Lagarias-Miller-Odlyzko) method (private; public API: ``nextdigit.prime_pi``).

Formula
-------
With y in [x^(1/3), x^(1/2)], a = pi(y) and c = 6 (p_c = 13):

    pi(x) = phi(x, a) + a - 1 - P2(x, a),      P2 = sum_{y < p <= sqrt x} (pi(x/p) - pi(p) + 1)
    phi(x, a) = S1 + S2   (the phi recursion phi(x, b) = phi(x, b-1) - phi(x/p_b, b-1), unfolded
                           while n <= y and b > c)
    S1 = sum_{n <= y, squarefree, lpf(n) > 13} mu(n) phi(x/n, 6)           (ordinary leaves)
    S2 = sum_{c < b < a} sum_{y/p_b < m <= y, sqfree, lpf(m) > p_b} -mu(m) phi(x/(p_b m), b-1)

(P3 = 0 because y >= floor(x^(1/3)).)  phi(t, 6) is read from the 30030-periodic table.  The special
leaves are split as in Deleglise-Rivat, with u = x / (p_b m):

* m composite (needs p_b^2 < y), or m = p_l prime with u >= p_b^2: **hard** -- phi(u, b-1) is
  read from a sieve of [0, z) that has removed the multiples of p_1..p_{b-1};
* m = p_l with p_b <= u < p_b^2: **easy** -- phi(u, b-1) = pi(u) - b + 2.  With u <= y, pi(u)
  comes from a compact pi table (a 64-bit prime bitmap per 128 integers plus a running count);
  the *clustered* ones (u < p_l) are summed with the order of summation swapped,
  sum_l pi(x'/p_l) = sum_q #{l : p_q p_l <= x'}, which needs fewer and independent steps;
  with u > y, pi(u) comes from the same segmented sieve once a segment is completely sieved;
* m = p_l with u < p_b: **trivial** -- phi = 1, counted in closed form from the pi table.

The segmented sieve (the only O(z) part; z = x/y + 1)
---------------------------------------------------
[0, z) is cut into segments of S = 2^16..2^20 integers (about z / 1024; measured) (odd numbers
only, one bit each); a segment starts as the AND of the pre-sieved patterns of 3, 5, 7, 11, 13
(period 15015 words) and of 17, 19, 23 (period 7429 words).  The hard leaves of b = 7, 8, 9
(p = 17, 19, 23) are therefore computed without the sieve, from phi(u, 6) (wheel table),
phi(u, 7) = phi(u, 6) - phi(u/17, 6) and phi(u, 8) = phi(u, 7) - phi(u/19, 7).  Then, for
b = 10, 11, ...: the hard leaves of b whose u fall in the segment are answered (running count
plus one counter per 512 bits, queried in increasing u with a moving cursor), the count of the
segment is added to phi[b], and the multiples of p_b are crossed off (the counters are updated in
the loop for p >= 256 and recomputed by one popcount pass for smaller p).  After the primes up
to sqrt(segment end) are done, the numbers > y left are exactly the primes: a prefix count per
word then answers pi(u) for the easy leaves with u > y and for P2, whose primes p in (y, sqrt x]
come, in decreasing order, from a second small segmented sieve.

Parallelism (used when z >= 2^25, i.e. x above ~1e12; smaller counts take < 30 ms and run on
one thread): the segments are grouped into K >= 8 * threads chunks (quadratically growing
lengths, because most hard leaves have small u), run under ``prange(schedule=dynamic)`` with
the GIL released.  A chunk works with bases it does not know yet (phi(low-1, b-1) per b, and the
number of primes in (y, low)); it records, per b, the sum of -mu(m) of its hard leaves and its
own counts, and the chunks are stitched exactly afterwards.  The leaf tables part (S1, trivial,
easy with u <= y) is a ``prange`` over b.  The calling thread polls ``PyErr_CheckSignals`` at
most every 0.1 s (checked once per segment / per value of b); Ctrl-C stops every thread at its next
segment and raises KeyboardInterrupt.

Arithmetic: x < 2^64 fits a u64, and every quotient is formed as floor(floor(x/p)/m) so no
product can overflow; the sums (S1, S2, P2 are up to ~x) are accumulated in signed 128-bit
integers (``__int128``), with 64-bit partial sums inside the loops.  Divisions by a tabulated prime
use a 65-bit multiplier (Granlund-Montgomery) instead of DIV.  POPCNT is used through inline asm
after a run-time CPU check (the build has no -march flags).

Tables and reuse: primes, the pi table and the mu*lpf table (int32, numbers coprime to 30030
only) up to ~1.25 y are kept in a module-level object and reused by later calls whose y they
cover; the public layer (``nextdigit.pi``) adds an LRU cache of values.

Parameters (tuned by measurement)
---------------------------------
y = alpha * x^(1/3), alpha piecewise linear in log10(x) through (7, 2), (10, 4), (12, 6),
(14, 8), (15, 12), (16, 16), (18, 24), (19.3, 30), clamped to [x^(1/3), x^(1/2)] (then raised
until sqrt(x / y) <= y, so the sieving primes of [0, z) never exceed y).  Larger alpha moves work
from the sieve (z = x/y) to the leaf tables; the optimum is flat: measured user times
1e14: alpha 4/6/8/12/16 -> 0.50/0.43/0.42/0.42/0.46 s; 1e15: 4/6/8/12/16 -> 2.36/1.92/1.77/
1.69/1.73 s; 1e16: 10/14/20 -> 7.1/6.9/7.0 s; 1e17: 12/20/28 -> 26.4/25.2/27.1 s;
1e18: 16/24 -> 108/103 s.  The 2^64 end (30) is extrapolated.

Measured (Xeon 2.6 GHz Ice Lake, 2 cores shared with other engineers' builds, so the load
average was 2-3 during every run: medians of 2-5 runs, primecount 7.x ``-t1`` (Gourdon's
algorithm, the fastest known) run alternately in the same loop):

    x       nextdigit 1 thread   primecount -t1   ratio    y          leaf tables / sieve
    1e10    0.0015 s             0.0104 s          0.15    8616        (primecount: process start)
    1e11    0.0100 s             0.0141 s          0.71    23205
    1e12    0.026 s              0.032 s           0.82    60000       0.010 / 0.019 s
    1e13    0.106 s              0.107 s           1.00    150808      0.026 / 0.079 s
    1e14    0.452 s              0.397 s           1.14    371320      0.16 / 0.31 s
    1e15    1.66 s               1.52 s            1.09    1.2e6       0.47 / 1.15 s
    1e16    6.77 s               6.24 s            1.08    3.45e6      2.07 / 4.49 s
    1e17    25.2 s (user)        22.7 s            1.11    9.3e6       8.1 / 17.6 s
    1e18    103 s (user)         --                        2.4e7       38 / 69 s
    2^53    9.2 s                                          3.3e6
    2^64-1  894 s (wall, loaded)                           7.9e7       350 / 542 s

(primecount's own Deleglise-Rivat and LMO modes take 0.89 / 0.79 s at 1e14 and 3.9 / 3.8 s at
1e15 on the same machine.)  sympy.primepi: 0.6-1.5 s at 1e10, 26 s at 1e12 (~1000x slower).
A least-squares fit of log t against log x over 1e12..1e16 gives t ~ x^0.60 (the x^(2/3) of the
method, reduced by the log factors and the growing alpha).  With threads=2 the chunks do run
concurrently (the sum of the chunk times is twice the sieve's wall time), but on this saturated
machine a second thread brought no wall-clock gain at the time of measurement -- and neither did
``primecount -t2`` (1.50 s against 1.57 s at 1e15, same minute).
Memory: O(y) for the tables plus O(S + pi(sqrt z)) per thread.
"""
from libc.stdint cimport uint64_t, int64_t, uint32_t, int32_t, uint8_t
from libc.stdlib cimport malloc, calloc, free
from libc.string cimport memcpy, memset
from cython.parallel cimport prange, threadid
from posix.time cimport clock_gettime, timespec, CLOCK_MONOTONIC
from nextdigit._u64 cimport u64, isqrt64


cdef extern from "Python.h":
    ctypedef struct PyObject
    void PyErr_Fetch(PyObject **, PyObject **, PyObject **)
    void PyErr_Restore(PyObject *, PyObject *, PyObject *)
    int PyErr_CheckSignals()


cdef extern from *:
    """
    #include <math.h>
    typedef __int128 nd_i128;
    static int nd_pi_has_popcnt = 0;
    static void nd_pi_cpu_init(void) {
    #if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
        __builtin_cpu_init();
        nd_pi_has_popcnt = __builtin_cpu_supports("popcnt") ? 1 : 0;
    #endif
    }
    /* popcount: the POPCNT instruction when the CPU has it (checked once at import; the build
       uses no -march flags), else the portable SWAR form. */
    static inline uint64_t nd_pi_popcnt(uint64_t x) {
    #if defined(__POPCNT__) || !(defined(__x86_64__) && defined(__GNUC__))
        return (uint64_t)__builtin_popcountll(x);
    #else
        if (__builtin_expect(nd_pi_has_popcnt, 1)) {
            uint64_t r;
            __asm__("popcnt %1, %0" : "=r"(r) : "r"(x));
            return r;
        }
        x = x - ((x >> 1) & 0x5555555555555555ULL);
        x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
        x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0FULL;
        return (x * 0x0101010101010101ULL) >> 56;
    #endif
    }
    static inline int nd_pi_clz(uint64_t x) { return __builtin_clzll(x); }
    /* floor(cbrt(n)) for every 64-bit n (double estimate, exact correction in 128 bits). */
    static inline uint64_t nd_pi_icbrt(uint64_t n) {
        uint64_t r = (uint64_t)cbrt((double)n);
        while (r > 0 && (unsigned __int128)r * r * r > n) r--;
        while ((unsigned __int128)(r + 1) * (r + 1) * (r + 1) <= n) r++;
        return r;
    }
    static inline double nd_pi_now(void) {
        struct timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
    }
    /* Division by a prime from the table without DIV (Granlund-Montgomery, round-up variant
       with a 65-bit multiplier): for d >= 2, l = ceil(log2 d), m = floor(2**64 (2**l - d) / d) + 1,
       floor(n / d) = (t + ((n - t) >> 1)) >> (l - 1) with t = mulhi(m, n), exact for every
       64-bit n.  About 8 cycles of latency instead of 15-40 for the hardware divide. */
    static inline uint64_t nd_magic_m(uint64_t d, int *sh) {
        int l = 64 - __builtin_clzll(d - 1);          /* ceil(log2 d), d >= 2 */
        unsigned __int128 num = ((unsigned __int128)((((unsigned __int128)1) << l) - d)) << 64;
        *sh = l - 1;
        return (uint64_t)(num / d) + 1;
    }
    static inline uint64_t nd_mdiv(uint64_t n, uint64_t m, int sh) {
        uint64_t t = (uint64_t)(((unsigned __int128)m * n) >> 64);
        return (t + ((n - t) >> 1)) >> sh;
    }
    static uint64_t nd_i128_lo(nd_i128 v) { return (uint64_t)v; }
    static int64_t nd_i128_hi(nd_i128 v) { return (int64_t)(v >> 64); }
    """
    ctypedef long long i128 "nd_i128"
    void cpu_init "nd_pi_cpu_init"()
    uint64_t popcnt "nd_pi_popcnt"(uint64_t x) noexcept nogil
    int clz64 "nd_pi_clz"(uint64_t x) noexcept nogil
    uint64_t icbrt "nd_pi_icbrt"(uint64_t n) noexcept nogil
    double now "nd_pi_now"() noexcept nogil
    uint64_t i128_lo "nd_i128_lo"(i128 v) noexcept nogil
    uint64_t magic_m "nd_magic_m"(uint64_t d, int *sh) noexcept nogil
    uint64_t mdiv "nd_mdiv"(uint64_t n, uint64_t m, int sh) noexcept nogil
    int64_t i128_hi "nd_i128_hi"(i128 v) noexcept nogil

cpu_init()

# ---------------------------------------------------------------------------------------------
# The wheel of the first C = 6 primes (2, 3, 5, 7, 11, 13): P = 30030, phi(P) = 5760
# ---------------------------------------------------------------------------------------------
DEF NC = 6
DEF NS = 9                       # the sieve starts with 2..23 removed (pre-sieve); b <= NS direct
DEF PW = 30030
DEF PHIW = 5760
DEF LOGCB = 3                    # one counter per 2**LOGCB words (512 odd numbers)
DEF SMAX = 1 << 20               # largest segment (numbers)
DEF P2BLOCK = 1 << 20            # block of the descending prime generator for P2 (numbers)
DEF INT32_MAX = 2147483647

cdef uint32_t WVAL[PHIW]         # the residues coprime to P, ascending (WVAL[0] = 1)
cdef uint32_t WLE[PW]            # WLE[r] = #{1 <= t <= r : gcd(t, P) = 1} (also phi(r, 6))
cdef uint64_t *PAT = NULL        # pre-sieve pattern (odd numbers, multiples of 3..13 cleared)
cdef uint64_t *PAT2 = NULL       # multiples of 17, 19, 23 cleared (period 7429 words)

cdef void _init_wheel():
    global PAT
    cdef int r, k = 0, cnt = 0
    for r in range(PW):
        if r % 2 and r % 3 and r % 5 and r % 7 and r % 11 and r % 13:
            WVAL[k] = r
            k += 1
            cnt += 1
        WLE[r] = cnt
    # PAT word w, bit j <-> odd number 2*(64w + j) + 1; period 15015 words (= 3*5*7*11*13).
    # Multiples of q (q itself included: phi semantics) are cleared; 1 stays.
    global PAT2
    cdef int64_t nw = 15015 + SMAX // 128 + 1
    cdef int64_t nw2 = 7429 + SMAX // 128 + 1
    PAT = <uint64_t *>malloc(nw * 8)
    PAT2 = <uint64_t *>malloc(nw2 * 8)
    _fill_pattern(PAT, nw, [3, 5, 7, 11, 13])
    _fill_pattern(PAT2, nw2, [17, 19, 23])        # period 7429 words (= 17*19*23)


cdef void _fill_pattern(uint64_t *P, int64_t nw, list qs):
    cdef int64_t w, i, q, nbits = nw * 64
    for w in range(nw):
        P[w] = ~(<uint64_t>0)
    for q in qs:
        i = (q - 1) // 2                          # odd multiples q, 3q, 5q, ... are q bits apart
        while i < nbits:
            P[i >> 6] &= ~((<uint64_t>1) << (i & 63))
            i += q


_init_wheel()


cdef inline int64_t cnt_le(u64 v) noexcept nogil:
    """Number of integers in [1, v] coprime to 30030 (= phi(v, 6))."""
    return <int64_t>((v // PW) * PHIW + WLE[v % PW])

cdef inline u64 wm(int64_t i) noexcept nogil:
    """The i-th (0-based) positive integer coprime to 30030."""
    return <u64>(i // PHIW) * PW + WVAL[i % PHIW]


# ---------------------------------------------------------------------------------------------
# Tables reused across calls: primes and a compact pi table up to n; mu/lpf table up to nf
# ---------------------------------------------------------------------------------------------
cdef inline int64_t pi_of(const uint64_t *T, u64 n) noexcept nogil:
    """pi(n) from the interleaved table: T[2w] = odd-prime bits of 2*(64w+j)+1, T[2w+1] = the
    number of odd primes below word w."""
    cdef u64 t = (n + 1) >> 1
    cdef u64 w = t >> 6
    return <int64_t>(T[2 * w + 1] + popcnt(T[2 * w] & (((<uint64_t>1) << (t & 63)) - 1))) + (n >= 2)


cdef class _Tables:
    """Primes <= n (1-based: primes[1] = 2), the pi table up to n, and (when nf > 0) the table
    F over the integers m <= nf coprime to 30030 (indexed by wheel rank):
    F = mu(m) * lpf(m) for squarefree m > 1 (so -m for primes), 0 when m is not squarefree,
    INT32_MAX for m = 1."""
    cdef readonly u64 n
    cdef readonly u64 nf
    cdef readonly int64_t nprimes
    cdef uint32_t *primes
    cdef uint64_t *dm          # division magic of each prime (nd_magic_m)
    cdef uint8_t *dsh
    cdef uint64_t *pitab
    cdef int32_t *F

    def __cinit__(self, u64 n, u64 nf=0):
        self.n = n
        self.nf = 0
        self.primes = NULL
        self.dm = NULL
        self.dsh = NULL
        self.pitab = NULL
        self.F = NULL
        with nogil:
            self._build_primes()
        if self.pitab == NULL or self.primes == NULL or self.dm == NULL:
            raise MemoryError("prime table")
        if nf > 0:
            self.build_F(nf)

    def __dealloc__(self):
        free(self.primes)
        free(self.dm)
        free(self.dsh)
        free(self.pitab)
        free(self.F)

    cdef void _build_primes(self) noexcept nogil:
        cdef u64 n = self.n
        cdef u64 nbits = (n + 1) >> 1              # odd numbers 1, 3, ..., <= n
        cdef u64 nw = (nbits >> 6) + 1
        cdef uint64_t *bits = <uint64_t *>malloc(nw * 8)
        cdef u64 i, q, w, k
        cdef int64_t cnt
        if bits == NULL:
            return
        for w in range(nw):
            bits[w] = ~(<uint64_t>0)
        bits[nw - 1] = ((<uint64_t>1) << (nbits & 63)) - 1 if (nbits & 63) else 0
        if (nbits & 63) == 0:
            bits[nw - 1] = 0
        bits[0] &= ~(<uint64_t>1)                  # 1 is not prime
        q = 3
        while q * q <= n:
            i = q >> 1
            if (bits[i >> 6] >> (i & 63)) & 1:
                k = (q * q) >> 1
                while k < nbits:
                    bits[k >> 6] &= ~((<uint64_t>1) << (k & 63))
                    k += q
            q += 2
        self.pitab = <uint64_t *>malloc(2 * nw * 8)
        if self.pitab == NULL:
            free(bits)
            return
        cnt = 0
        for w in range(nw):
            self.pitab[2 * w] = bits[w]
            self.pitab[2 * w + 1] = cnt
            cnt += popcnt(bits[w])
        self.nprimes = cnt + (1 if n >= 2 else 0)
        self.primes = <uint32_t *>malloc((self.nprimes + 2) * 4)
        if self.primes == NULL:
            free(bits)
            return
        self.primes[0] = 0
        k = 1
        if n >= 2:
            self.primes[1] = 2
            k = 2
        cdef uint64_t word
        for w in range(nw):
            word = bits[w]
            while word:
                i = (w << 6) + <u64>(63 - clz64(word & (~word + 1)))
                self.primes[k] = <uint32_t>(2 * i + 1)
                k += 1
                word &= word - 1
        self.primes[k] = 0xFFFFFFFF
        free(bits)
        self.dm = <uint64_t *>malloc((self.nprimes + 2) * 8)
        self.dsh = <uint8_t *>malloc(self.nprimes + 2)
        if self.dm == NULL or self.dsh == NULL:
            free(self.dm)
            self.dm = NULL
            return
        cdef int sh
        self.dm[0] = 0
        self.dsh[0] = 0
        for i in range(1, <u64>self.nprimes + 2):
            self.dm[i] = magic_m(self.primes[i], &sh)
            self.dsh[i] = <uint8_t>sh

    cdef int build_F(self, u64 nf) except -1:
        """Build F for m <= nf (nf <= n)."""
        if self.F != NULL and self.nf >= nf:
            return 0
        cdef int64_t size = cnt_le(nf) + 1
        cdef int32_t *F = <int32_t *>malloc(size * 4)
        if F == NULL:
            raise MemoryError("mu/lpf table")
        cdef int64_t i, imax, j, b
        cdef u64 p, k, q
        cdef int32_t v, lp
        with nogil:
            for i in range(size):
                F[i] = INT32_MAX
            b = NC + 1
            while b <= self.nprimes and self.primes[b] <= nf:
                p = self.primes[b]
                imax = cnt_le(nf // p)
                for i in range(imax):
                    k = wm(i)
                    j = cnt_le(p * k) - 1
                    v = F[j]
                    if v == 0:
                        continue
                    lp = v if v > 0 else -v
                    if lp == INT32_MAX:
                        lp = <int32_t>p
                    F[j] = -lp if v > 0 else lp
                if p <= nf // p:
                    q = p * p
                    imax = cnt_le(nf // q)
                    for i in range(imax):
                        F[cnt_le(q * wm(i)) - 1] = 0
                b += 1
        free(self.F)
        self.F = F
        self.nf = nf
        return 0

    def pi(self, u64 v):
        """pi(v) for v <= n (test hook)."""
        if v > self.n:
            raise ValueError("beyond the table")
        return pi_of(self.pitab, v)


cdef _Tables _TABLES = None
_LAST_STATS = None


def _last_stats():
    """Timings of the phases of the last computation (tuning and the docs)."""
    return _LAST_STATS


cdef _Tables get_tables(u64 n, u64 nf):
    """The cached tables, rebuilt (with 25% headroom so nearby calls reuse them) when too small."""
    global _TABLES
    cdef _Tables T = _TABLES
    cdef u64 want, wantf
    if T is None or T.n < n or T.nf < nf:
        want = n + n // 4 + 4096
        if T is not None and T.n > want:
            want = T.n
        wantf = 0
        if nf > 0:
            wantf = min(want - 2048, nf + nf // 4)
            if T is not None and T.nf > wantf and T.nf <= want - 2048:
                wantf = T.nf
        T = _Tables(want, wantf)
        _TABLES = T
    return T


def _clear_tables():
    """Drop the cached tables (tests and benchmarks)."""
    global _TABLES
    _TABLES = None


def _table_limits():
    """(n, nf) of the cached tables, or None."""
    return None if _TABLES is None else (_TABLES.n, _TABLES.nf)


# ---------------------------------------------------------------------------------------------
# The computation
# ---------------------------------------------------------------------------------------------
cdef struct Ctx:
    u64 x
    u64 y
    u64 Z                    # sieve interval [0, Z), Z = x // y + 1
    u64 sqrtx
    u64 S                    # segment length (numbers)
    int64_t a                # pi(y)
    int64_t BH               # largest b with hard leaves
    int64_t bcomp            # largest b with p_{b+1}**2 <= y (composite m possible)
    int64_t bfull_max        # pi(isqrt(Z + S))
    const uint32_t *primes
    const uint64_t *dm
    const uint8_t *dsh
    const uint64_t *pitab
    const int32_t *F
    const int64_t *lo_b      # first l with p_l > max(p_b, y / p_b)
    const int64_t *hard_hi   # last l with p_l <= min(y, x / p_b**3)
    const int64_t *easy_hi   # last l with p_l <= min(y, x / p_b**2)
    const u64 *umax          # (suffix max of) the largest u of a hard leaf of b
    int abort
    double last_check
    PyObject *et
    PyObject *ev
    PyObject *etb


cdef struct ChunkOut:
    u64 clow
    u64 chigh
    i128 hard
    i128 easy
    i128 p2
    int64_t easy_cnt
    int64_t p2_cnt
    int64_t p2_np
    int64_t qcount
    int64_t *coef            # per b: sum of -mu(m) over this chunk's hard leaves
    int64_t *cnt             # per b: numbers < chunk end surviving p_1..p_{b-1}, from chunk start
    int failed
    double secs


cdef inline void poll_signals(Ctx *C) noexcept nogil:
    """On the calling (main) thread, at most every 0.1 s: take the GIL and run signal handlers;
    an exception (KeyboardInterrupt) is stored and every thread stops at its next check."""
    cdef double t = now()
    if t - C.last_check < 0.1:
        return
    C.last_check = t
    with gil:
        if PyErr_CheckSignals() != 0:
            if C.abort == 0:
                PyErr_Fetch(&C.et, &C.ev, &C.etb)
            C.abort = 1


cdef struct Gen:
    u64 lo_excl
    u64 next_top
    u64 base
    uint64_t *bits
    int64_t w
    uint64_t cur


cdef u64 gen_next(Gen *G, const uint32_t *primes) noexcept nogil:
    """Next prime (descending) of the P2 generator, 0 when exhausted."""
    cdef int j
    cdef u64 v, bh, bl, nb, q, s, i
    cdef int64_t nw, w, k
    while True:
        if G.cur != 0:
            j = 63 - clz64(G.cur)
            G.cur &= ~((<uint64_t>1) << j)
            v = G.base + 2 * ((<u64>G.w << 6) + <u64>j) + 1
            return v if v > G.lo_excl else 0
        if G.w > 0:
            G.w -= 1
            G.cur = G.bits[G.w]
            continue
        if G.next_top <= G.lo_excl:
            return 0
        bh = G.next_top
        bl = G.lo_excl + 1
        if bh - bl + 1 > P2BLOCK:
            bl = bh - P2BLOCK + 1
        G.next_top = bl - 1
        G.base = bl & ~(<u64>1)
        nb = (bh + 1 - G.base) >> 1           # odd numbers base+1 .. <= bh
        nw = <int64_t>((nb + 63) >> 6)
        for w in range(nw):
            G.bits[w] = ~(<uint64_t>0)
        if nb & 63:
            G.bits[nw - 1] = ((<uint64_t>1) << (nb & 63)) - 1
        k = 2
        while True:
            q = primes[k]
            if q * q > bh:
                break
            s = ((G.base + 1 + q - 1) // q) * q
            if s < q * q:
                s = q * q
            if (s & 1) == 0:
                s += q
            i = (s - G.base - 1) >> 1
            while i < nb:
                G.bits[i >> 6] &= ~((<uint64_t>1) << (i & 63))
                i += q
            k += 1
        G.w = nw - 1
        G.cur = G.bits[G.w]


cdef void process_chunk(Ctx *C, ChunkOut *out) noexcept nogil:
    cdef u64 x = C.x, y = C.y, Z = C.Z, S = C.S
    cdef int64_t a = C.a
    cdef const uint32_t *primes = C.primes
    cdef const uint64_t *T = C.pitab
    cdef const int32_t *F = C.F
    cdef const uint64_t *dm = C.dm
    cdef const uint8_t *dsh = C.dsh
    cdef int64_t nbits = <int64_t>(S >> 1)
    cdef int64_t nwords = nbits >> 6
    cdef int64_t nblk = nwords >> LOGCB
    cdef uint64_t *words = <uint64_t *>malloc((nwords + 1) * 8)
    cdef int32_t *counters = <int32_t *>malloc((nblk + 1) * 4)
    cdef uint32_t *pref = <uint32_t *>malloc((nwords + 1) * 4)
    cdef u64 *nextm = <u64 *>calloc(C.bfull_max + 2, 8)
    cdef uint64_t *gbits = <uint64_t *>malloc((P2BLOCK // 128 + 2) * 8)
    cdef Gen G
    cdef int tid = threadid()
    cdef double t_start = now()
    if out.chigh <= out.clow:                 # empty chunk (short sieves, quadratic spacing)
        free(words); free(counters); free(pref); free(nextm); free(gbits)
        return
    if words == NULL or counters == NULL or pref == NULL or nextm == NULL or gbits == NULL:
        out.failed = 1
        free(words); free(counters); free(pref); free(nextm); free(gbits)
        return
    words[nwords] = 0
    counters[nblk] = 0

    cdef int64_t *phi_acc = out.cnt
    cdef int64_t *coef = out.coef
    cdef u64 low = out.clow, high, hi_eff, p, xp, mlo, mhi, lim3, m, u, pos, L, base0, gp
    cdef u64 xdiv_hi
    cdef int64_t b, bt = C.BH, bfull, bend, i, i0, i1, l, lmin, lmax, w, blk, acc, cnt, t, tw, tb
    cdef int64_t segcoef, segsum, total, be0, be1, El, Eh, q, qacc = 0, ww
    cdef int32_t v, lp
    cdef uint64_t bit, word
    cdef int64_t off, off2

    # P2 generator: primes p in (max(y, x / min(chigh, Z)), min(sqrtx, x / clow)], descending
    G.bits = gbits
    G.w = 0
    G.cur = 0
    G.base = 0
    G.lo_excl = x // (out.chigh if out.chigh < Z else Z)
    if G.lo_excl < y:
        G.lo_excl = y
    G.next_top = C.sqrtx
    if out.clow > 0 and x // out.clow < G.next_top:
        G.next_top = x // out.clow
    gp = gen_next(&G, primes)

    while low < out.chigh and C.abort == 0:
        high = low + S
        hi_eff = high if high < Z else Z
        # --- pre-sieve: copy the pattern of 3, 5, 7, 11, 13 (2 is implicit: odd numbers only)
        off = <int64_t>((low >> 7) % 15015)
        off2 = <int64_t>((low >> 7) % 7429)
        for w in range(nwords):
            words[w] = PAT[off + w] & PAT2[off2 + w]
        while bt > NS and C.umax[bt] < low:
            bt -= 1
        bfull = pi_of(T, isqrt64(hi_eff - 1))
        bend = bt if bt > bfull else bfull
        total = 0
        if bt > NS:
            for blk in range(nblk):
                acc = 0
                for w in range(blk << LOGCB, (blk + 1) << LOGCB):
                    acc += popcnt(words[w])
                counters[blk] = <int32_t>acc
                total += acc
        for b in range(NS + 1, bend + 1):
            p = primes[b]
            if nextm[b] <= low:                   # first use in this chunk, or skipped a segment
                m = ((low + p - 1) // p) * p
                if m < p:
                    m = p
                if (m & 1) == 0:
                    m += p
                nextm[b] = m
            i = <int64_t>((nextm[b] - low - 1) >> 1)
            if b <= bt:
                # ---- hard special leaves of b with u in [low, high): phi(u, b-1)
                xp = x // p
                segcoef = 0
                segsum = 0
                blk = 0
                acc = 0
                if b <= C.bcomp:
                    mhi = y
                    if low > 0 and xp // low < mhi:
                        mhi = xp // low
                    mlo = y // p
                    if xp // high > mlo:
                        mlo = xp // high
                    if mlo < mhi:
                        lim3 = xp // p // p
                        i1 = cnt_le(mhi)
                        i0 = cnt_le(mlo)
                        i1 -= 1
                        while i1 >= i0:
                            v = F[i1]
                            lp = v if v > 0 else -v
                            if <u64>lp > p:
                                m = wm(i1)
                                if <u64>lp != m or m <= lim3:
                                    u = xp // m
                                    t = <int64_t>((u - low + 1) >> 1)
                                    tw = t >> 6
                                    tb = tw >> LOGCB
                                    while blk < tb:
                                        acc += counters[blk]
                                        blk += 1
                                    cnt = acc
                                    for ww in range(blk << LOGCB, tw):
                                        cnt += popcnt(words[ww])
                                    cnt += popcnt(words[tw] & (((<uint64_t>1) << (t & 63)) - 1))
                                    if v > 0:
                                        segcoef -= 1
                                        segsum -= cnt
                                    else:
                                        segcoef += 1
                                        segsum += cnt
                            i1 -= 1
                elif C.lo_b[b] <= C.hard_hi[b]:
                    lmax = C.hard_hi[b]
                    if low > 0:
                        m = xp // low
                        if m < y:
                            l = pi_of(T, m)
                            if l < lmax:
                                lmax = l
                    m = xp // high
                    lmin = pi_of(T, m if m < y else y) + 1
                    if lmin < C.lo_b[b]:
                        lmin = C.lo_b[b]
                    l = lmax
                    while l >= lmin:
                        u = mdiv(xp, dm[l], dsh[l])
                        t = <int64_t>((u - low + 1) >> 1)
                        tw = t >> 6
                        tb = tw >> LOGCB
                        while blk < tb:
                            acc += counters[blk]
                            blk += 1
                        cnt = acc
                        for ww in range(blk << LOGCB, tw):
                            cnt += popcnt(words[ww])
                        cnt += popcnt(words[tw] & (((<uint64_t>1) << (t & 63)) - 1))
                        segcoef += 1
                        segsum += cnt
                        l -= 1
                if segcoef != 0 or segsum != 0:
                    out.hard += <i128>phi_acc[b] * segcoef + segsum
                    coef[b] += segcoef
                phi_acc[b] += total
                # ---- cross off p_b; the counters (and total) are needed again only if b + 1
                # is tracked.  Small p: plain crossing, then one popcount pass (cheaper than
                # nbits / p read-modify-writes of the counters).
                if b == bt:
                    while i < nbits:
                        words[i >> 6] &= ~((<uint64_t>1) << (i & 63))
                        i += <int64_t>p
                elif p < 256:
                    while i < nbits:
                        words[i >> 6] &= ~((<uint64_t>1) << (i & 63))
                        i += <int64_t>p
                    total = 0
                    for blk in range(nblk):
                        acc = 0
                        for w in range(blk << LOGCB, (blk + 1) << LOGCB):
                            acc += popcnt(words[w])
                        counters[blk] = <int32_t>acc
                        total += acc
                else:
                    while i < nbits:
                        w = i >> 6
                        bit = (words[w] >> (i & 63)) & 1
                        words[w] &= ~((<uint64_t>1) << (i & 63))
                        counters[w >> LOGCB] -= <int32_t>bit
                        total -= <int64_t>bit
                        i += <int64_t>p
            else:
                while i < nbits:
                    words[i >> 6] &= ~((<uint64_t>1) << (i & 63))
                    i += <int64_t>p
            nextm[b] = low + 2 * <u64>i + 1

        # ---- the segment is now sieved by every prime <= sqrt(hi_eff - 1): numbers > y left
        # in it are exactly the primes.  Easy leaves with u > y and the P2 terms need pi(u).
        if hi_eff - 1 > y:
            acc = 0
            for w in range(nwords + 1):
                pref[w] = <uint32_t>acc
                acc += popcnt(words[w])
            base0 = 0
            if low <= y:
                t = <int64_t>((y - low + 1) >> 1)
                base0 = pref[t >> 6] + popcnt(words[t >> 6] & (((<uint64_t>1) << (t & 63)) - 1))
            L = low if low > y else y + 1
            # easy leaves: sqrt(y) < p_b, sqrt(low) < p_b <= sqrt(x / L)
            m = isqrt64(y)
            if isqrt64(low) > m:
                m = isqrt64(low)
            be0 = pi_of(T, m) + 1
            if be0 < NC + 1:
                be0 = NC + 1
            m = isqrt64(x // L)
            be1 = pi_of(T, m if m < y else y)
            if be1 > a - 1:
                be1 = a - 1
            for b in range(be0, be1 + 1):
                El = C.lo_b[b]
                if C.hard_hi[b] + 1 > El:
                    El = C.hard_hi[b] + 1
                Eh = C.easy_hi[b]
                if El > Eh:
                    continue
                p = primes[b]
                xp = x // p
                m = xp // L
                lmax = pi_of(T, m if m < y else y)
                if lmax > Eh:
                    lmax = Eh
                m = xp // hi_eff
                lmin = pi_of(T, m if m < y else y) + 1
                if lmin < El:
                    lmin = El
                l = lmax
                segsum = 0
                while l >= lmin:
                    u = mdiv(xp, dm[l], dsh[l])
                    t = <int64_t>((u - low + 1) >> 1)
                    segsum += pref[t >> 6] + <int64_t>popcnt(words[t >> 6] & (((<uint64_t>1) << (t & 63)) - 1))
                    l -= 1
                if lmax >= lmin:
                    out.easy += segsum + <i128>(lmax - lmin + 1) * (qacc - <int64_t>base0 + a - b + 2)
                    out.easy_cnt += lmax - lmin + 1
            # P2 terms: primes p in (y, sqrtx] with x // p in [low, hi_eff)
            xdiv_hi = x // hi_eff
            segsum = 0
            segcoef = 0
            while gp != 0 and gp > xdiv_hi:
                u = x // gp
                t = <int64_t>((u - low + 1) >> 1)
                segsum += pref[t >> 6] + <int64_t>popcnt(words[t >> 6] & (((<uint64_t>1) << (t & 63)) - 1))
                segcoef += 1
                gp = gen_next(&G, primes)
            out.p2 += segsum + <i128>segcoef * (qacc - <int64_t>base0 + a)
            out.p2_cnt += segcoef
            out.p2_np += segcoef
            t = <int64_t>((hi_eff - 1 - low + 1) >> 1)
            qacc += pref[t >> 6] + <int64_t>popcnt(words[t >> 6] & (((<uint64_t>1) << (t & 63)) - 1)) - <int64_t>base0
        low = high
        if tid == 0:
            poll_signals(C)
    out.qcount = qacc
    out.secs = now() - t_start
    free(words); free(counters); free(pref); free(nextm); free(gbits)


cdef i128 table_leaves(Ctx *C, int64_t b) noexcept nogil:
    """Trivial leaves of b and its easy leaves with u <= y (pi from the table); clustered
    leaves (runs of l with the same pi(x / (p_b p_l))) are summed in one step."""
    cdef const uint32_t *primes = C.primes
    cdef const uint64_t *T = C.pitab
    cdef const uint64_t *dm = C.dm
    cdef const uint8_t *dsh = C.dsh
    cdef u64 y = C.y, p = primes[b], xp = C.x // p, u, pl, m
    cdef int64_t a = C.a, lo = C.lo_b[b], El, Eh = C.easy_hi[b], l, l2, pu, tl
    cdef int64_t res = 0         # < pi(y)**2 < 2**63
    tl = lo if lo > Eh + 1 else Eh + 1
    if tl <= a:
        res += a - tl + 1
    cdef i128 hard = 0
    if b <= NS:
        hard = direct_hard(C, b)
    El = lo if lo > C.hard_hi[b] + 1 else C.hard_hi[b] + 1
    m = xp // (y + 1)
    l = pi_of(T, m if m < y else y) + 1
    if l < El:
        l = El
    # sparse part (u >= p_l): one leaf per step, the steps are independent
    while l <= Eh:
        pl = primes[l]
        u = mdiv(xp, dm[l], dsh[l])
        if u < pl:
            break
        res += pi_of(T, u) - b + 2
        l += 1
    # clustered part (u < p_l, from l = lc on): swap the order of summation,
    #   sum_{l=lc}^{Eh} pi(x / (p_b p_l)) = sum_q #{l in [lc, Eh] : p_q p_l <= xp}
    #   = q0 (Eh - lc + 1) + sum_{q0 < q <= qmax} (pi(xp / p_q) - lc + 1),
    # q0 = pi(xp / p_Eh), qmax = pi(xp / p_lc): fewer terms, and again independent ones.
    if l <= Eh:
        tl = Eh - l + 1
        pu = pi_of(T, mdiv(xp, dm[Eh], dsh[Eh]))
        l2 = pi_of(T, mdiv(xp, dm[l], dsh[l]))
        res += pu * tl - (b - 2) * tl
        while pu < l2:
            pu += 1
            res += pi_of(T, mdiv(xp, dm[pu], dsh[pu])) - l + 1
    return res + hard


cdef inline int64_t phi6(u64 u) noexcept nogil:
    return <int64_t>((u // PW) * PHIW + WLE[u % PW])


cdef i128 direct_hard(Ctx *C, int64_t b) noexcept nogil:
    """The hard leaves of b = 7, 8, 9 (p = 17, 19, 23), whose phi(u, b-1) follow from the
    wheel table: phi(u, 6), phi(u, 7) = phi(u, 6) - phi(u/17, 6),
    phi(u, 8) = phi(u, 7) - phi(u/19, 7) (so the sieve can pre-sieve 17, 19, 23)."""
    cdef u64 p = C.primes[b], xp = C.x // p, y = C.y, m, u, lim3 = xp // p // p
    cdef int64_t i0 = cnt_le(y // p), i1 = cnt_le(y) - 1, ph
    cdef int32_t v, lp
    cdef i128 res = 0
    while i1 >= i0:
        v = C.F[i1]
        lp = v if v > 0 else -v
        if <u64>lp > p:
            m = wm(i1)
            if <u64>lp != m or m <= lim3:
                u = xp // m
                ph = phi6(u)
                if b >= 8:
                    ph -= phi6(u // 17)
                if b >= 9:
                    ph -= phi6(u // 19) - phi6(u // 323)
                if v > 0:
                    res -= ph
                else:
                    res += ph
        i1 -= 1
    return res


cdef i128 s1_block(Ctx *C, int64_t i0, int64_t i1) noexcept nogil:
    """Ordinary leaves: sum of mu(n) phi(x / n, 6) over n <= y coprime to 30030 with wheel rank in
    [i0, i1)."""
    cdef i128 res = 0
    cdef int64_t i
    cdef int32_t v
    cdef u64 t, ph
    for i in range(i0, i1):
        v = C.F[i]
        if v == 0:
            continue
        t = C.x // wm(i)
        ph = (t // PW) * PHIW + WLE[t % PW]
        if v > 0:
            res += ph
        else:
            res -= ph
    return res


cdef object i128_to_int(i128 v):
    return (int(i128_hi(v)) << 64) + int(i128_lo(v))


cdef int _reraise(Ctx *C) except -1:
    PyErr_Restore(C.et, C.ev, C.etb)
    return -1


def default_alpha(u64 x):
    """The tuned alpha for y = alpha * x**(1/3) (see the module docstring)."""
    import math
    cdef double lx = math.log10(max(x, 10))
    return max(1.0, _alpha_of(lx))


cdef double _alpha_of(double lx):
    # piecewise-linear in log10(x); tuned by measurement (module docstring)
    cdef double[8] X = [7.0, 10.0, 12.0, 14.0, 15.0, 16.0, 18.0, 19.3]
    cdef double[8] A = [2.0, 4.0, 6.0, 8.0, 12.0, 16.0, 24.0, 30.0]
    cdef int k
    if lx <= X[0]:
        return A[0]
    for k in range(7):
        if lx <= X[k + 1]:
            return A[k] + (A[k + 1] - A[k]) * (lx - X[k]) / (X[k + 1] - X[k])
    return A[7]


def pi_small(u64 x):
    """pi(x) by a plain sieve (cached as the shared table), for small x."""
    cdef _Tables T = get_tables(x, 0)
    return pi_of(T.pitab, x)


def prime_pi_u64(u64 x, int threads=1, double alpha=0.0, int64_t seg=0, int chunks=0):
    """pi(x) for 0 <= x < 2**64 by the Deleglise-Rivat method (private; validated input)."""
    if x < 100000:
        return pi_small(x)
    if alpha <= 0:
        alpha = default_alpha(x)
    cdef u64 cb = icbrt(x)
    cdef u64 sqrtx = isqrt64(x)
    cdef u64 y = <u64>(alpha * <double>cb)
    if y < cb:
        y = cb
    if y > sqrtx:
        y = sqrtx
    while isqrt64(x // y) > y:      # sieving primes <= sqrt(z) must be <= y (see _params)
        y += 1
    cdef _Tables T = get_tables(y + 2048, y)
    cdef Ctx C
    C.x = x
    C.y = y
    C.Z = x // y + 1
    C.sqrtx = sqrtx
    C.primes = T.primes
    C.dm = T.dm
    C.dsh = T.dsh
    C.pitab = T.pitab
    C.F = T.F
    C.abort = 0
    C.last_check = now()
    C.et = NULL
    C.ev = NULL
    C.etb = NULL
    cdef int64_t a = pi_of(T.pitab, y)
    C.a = a
    # segment length: about sqrt(Z), a power of two in [2**16, SMAX]
    cdef u64 S = 1 << 16
    if seg > 0:
        if seg < (1 << 16) or seg > SMAX or (seg & (seg - 1)) != 0:
            raise ValueError(f"seg must be a power of two in [2**16, 2**20], got {seg}")
        S = <u64>seg
    else:
        while S < (1 << 20) and S * 1024 < C.Z:
            S <<= 1
    C.S = S
    # per-b leaf ranges
    cdef int64_t *lo_b = <int64_t *>malloc((a + 2) * 8)
    cdef int64_t *hard_hi = <int64_t *>malloc((a + 2) * 8)
    cdef int64_t *easy_hi = <int64_t *>malloc((a + 2) * 8)
    cdef u64 *umax = <u64 *>malloc((a + 2) * 8)
    cdef i128 *res_b = <i128 *>calloc(a + 2, sizeof(i128))
    if lo_b == NULL or hard_hi == NULL or easy_hi == NULL or umax == NULL or res_b == NULL:
        free(lo_b); free(hard_hi); free(easy_hi); free(umax); free(res_b)
        raise MemoryError()
    cdef int64_t b, BH = NC, bcomp = NC, k, K, nseg, i, nS1, blocks
    cdef u64 p, m, q
    for b in range(NC + 1, a + 1):
        p = T.primes[b]
        m = y // p
        lo_b[b] = pi_of(T.pitab, m if m > p else p) + 1
        q = x // p // p
        easy_hi[b] = pi_of(T.pitab, q if q < y else y)
        q = q // p
        hard_hi[b] = pi_of(T.pitab, q if q < y else y)
        umax[b] = 0
        if <u64>T.primes[b + 1] * T.primes[b + 1] <= y:
            bcomp = b
            umax[b] = C.Z
            BH = b
        elif lo_b[b] <= hard_hi[b]:
            umax[b] = x // p // T.primes[lo_b[b]]
            BH = b
    if BH < NS:
        BH = NS
    for b in range(BH - 1, NC, -1):
        if umax[b] < umax[b + 1]:
            umax[b] = umax[b + 1]
    C.lo_b = lo_b
    C.hard_hi = hard_hi
    C.easy_hi = easy_hi
    C.umax = umax
    C.BH = BH
    C.bcomp = bcomp
    q = isqrt64(C.Z + S)
    C.bfull_max = pi_of(T.pitab, q if q < T.n else T.n)
    if C.bfull_max < BH:
        C.bfull_max = BH

    # chunks of segments
    nseg = <int64_t>((C.Z + S - 1) // S)
    if C.Z < (1 << 25) and chunks == 0:
        threads = 1       # below ~1e12 the whole count takes < 30 ms: threads only add overhead
    if chunks > 0:
        K = chunks
    elif threads <= 1:
        K = 1
    else:
        # >= 8 chunks per thread for the balance, and more for long sieves so that no chunk
        # runs for minutes (only the calling thread can poll for Ctrl-C, and it may be idle
        # waiting for the last chunks of the others)
        K = threads * max(8, min(nseg // 2048, 256))
    if K > nseg:
        K = nseg
    cdef ChunkOut *outs = <ChunkOut *>calloc(K, sizeof(ChunkOut))
    cdef int64_t *coefs = <int64_t *>calloc(K * (BH + 2), 8)
    cdef int64_t *cnts = <int64_t *>calloc(K * (BH + 2), 8)
    nS1 = cnt_le(y)
    blocks = (nS1 + 65535) // 65536
    cdef i128 *s1_res = <i128 *>calloc(blocks + 1, sizeof(i128))
    if outs == NULL or coefs == NULL or cnts == NULL or s1_res == NULL:
        free(lo_b); free(hard_hi); free(easy_hi); free(umax); free(res_b)
        free(outs); free(coefs); free(cnts); free(s1_res)
        raise MemoryError()
    # the work per segment falls with u (most hard leaves have small u): chunk k ends at
    # nseg * ((k + 1) / K)**2 segments, so the early chunks are short and the load balances
    for k in range(K):
        outs[k].clow = <u64>(<double>nseg * k * k / (<double>K * K)) * S
        outs[k].chigh = <u64>(<double>nseg * (k + 1) * (k + 1) / (<double>K * K)) * S
        outs[k].coef = coefs + k * (BH + 2)
        outs[k].cnt = cnts + k * (BH + 2)
    outs[K - 1].chigh = <u64>nseg * S

    cdef i128 S1 = 0, S2 = 0, P2sum = 0, Qbase = 0, tot
    cdef double t0 = now(), t1, t2
    cdef int64_t np2 = 0, B
    cdef int failed = 0
    with nogil:
        # ordinary leaves, trivial leaves and the easy leaves read from the pi table
        for i in prange(blocks, num_threads=threads, schedule="dynamic", chunksize=1):
            if C.abort == 0:
                s1_res[i] = s1_block(&C, i * 65536, min((i + 1) * 65536, nS1))
                if threadid() == 0:
                    poll_signals(&C)
        for b in prange(NC + 1, a, num_threads=threads, schedule="dynamic", chunksize=64):
            if C.abort == 0:
                res_b[b] = table_leaves(&C, b)
                if threadid() == 0:
                    poll_signals(&C)         # cheap: a clock read unless 0.1 s have passed
        t1 = now()
        # the segmented sieve of [0, Z): hard leaves, easy leaves with u > y, P2
        for k in prange(K, num_threads=threads, schedule="dynamic", chunksize=1):
            if C.abort == 0:
                process_chunk(&C, &outs[k])
        t2 = now()
    global _LAST_STATS
    _LAST_STATS = {"leaf_tables_s": t1 - t0, "sieve_s": t2 - t1, "S": S, "chunks": K, "y": y, "Z": C.Z,
                   "a": a, "b_hard": BH, "chunk_s": [outs[k].secs for k in range(K)]}
    try:
        if C.abort:
            _reraise(&C)
        for k in range(K):
            failed |= outs[k].failed
        if failed:
            raise MemoryError("prime_pi work buffers")
        for i in range(blocks):
            S1 += s1_res[i]
        for b in range(NC + 1, a):
            S2 += res_b[b]
        # stitch the chunks: bases of phi(., b-1) and of the prime count above y
        for b in range(NS + 1, BH + 1):
            tot = 0
            for k in range(K):
                S2 += <i128>outs[k].coef[b] * tot
                tot += outs[k].cnt[b]
        for k in range(K):
            S2 += outs[k].hard + outs[k].easy + <i128>outs[k].easy_cnt * Qbase
            P2sum += outs[k].p2 + <i128>outs[k].p2_cnt * Qbase
            np2 += outs[k].p2_np
            Qbase += outs[k].qcount
        B = a + np2
        P2sum -= <i128>(B - 1) * B // 2 - <i128>(a - 1) * a // 2
        tot = S1 + S2 + a - 1 - P2sum
        return i128_to_int(tot)
    finally:
        free(lo_b); free(hard_hi); free(easy_hi); free(umax); free(res_b)
        free(outs); free(coefs); free(cnts); free(s1_res)


def _params(u64 x, double alpha=0.0):
    """(alpha, y, z, a) the computation would use (introspection for benchmarks/docs)."""
    if alpha <= 0:
        alpha = default_alpha(x)
    cdef u64 cb = icbrt(x)
    cdef u64 y = max(cb, min(<u64>(alpha * <double>cb), isqrt64(x)))
    # y = floor(x^(1/3)) can leave sqrt(x / y) just above y; the sieve of [0, z) then would
    # cross off primes above y (removing themselves), so y is raised until sqrt(z) <= y
    while isqrt64(x // y) > y:
        y += 1
    return alpha, y, x // y + 1
