# cython: language_level=3
"""Exact prime counting pi(x) for 0 <= x < 2**64 (private; public API: ``nextdigit.prime_pi``).

Gourdon's variant of the combinatorial (Meissel-Lehmer / Lagarias-Miller-Odlyzko / Deleglise-
Rivat) method: X. Gourdon, "Computation of pi(x): improvements to the Meissel, Lehmer, Lagarias,
Miller, Odlyzko, Deleglise and Rivat method" (2001).  The implementation choices below follow the
measurements published in primecount's doc/ (K. Walisch: Hard-Special-Leaves, Hard-Special-
Leaves-SIMD-Filtering, Easy-Special-Leaves, Partial-Sieve-Function); the code is our own, in
nd_pi.h (tables, dispatch) and nd_pi_kern.h (kernels).

Formula
-------
With y = alpha_y x^(1/3) (x^(1/3) < y < sqrt x), z = alpha_z y (y <= z < sqrt x), a = pi(y),
k = 8 (p_k = 19) and phi(t, b) = #{n <= t : no prime factor among p_1..p_b}:

    pi(x) = Phi0 + D + (A + C) - B + Sigma

Truncating the Buchstab tree of phi(x, a) at z (expand a node mu(n) phi(x/n, b) while n <= z)
leaves the ordinary leaves n <= z and the special leaves n = p m, p = p_b > p_k, m squarefree,
lpf(m) > p, every prime factor of m <= y, m <= z < p m, of value -mu(m) phi(x / (p m), b - 1):

* Phi0  = sum over squarefree n <= z with prime factors in (19, y] of mu(n) phi(x/n, 8), with
          phi(t, 8) = phi6(t) - phi6(t/17) - phi6(t/19) + phi6(t/323) from a 30030-entry table.
          Cost O(z), negligible (8 ms at 1e16).
* D     = the hard special leaves: every leaf of b <= pi(sqrt z) (m may be composite), and the
          leaves p q with x/(p q) >= p^2 (b up to pi(x^(1/4))).  phi(u, b - 1) is read from a
          segmented sieve of [0, x/y) (below).  The dominant cost: ~70% of the time.
* A + C = the other special leaves, all with m = q prime, u = x/(p q) < p^2, so phi(u, b - 1) =
          pi(u) - b + 2 when u >= p and 1 when u < p (trivial; counted in closed form).  For a
          fixed p (t = x/p, s = isqrt t) the sum of pi(t/q) over the run q in (max(lo, s), hi]
          is turned around by Gourdon's inversion equality
              sum_{al < q <= be} pi(t/q) = pi(be) pi(t/be) - pi(al) pi(t/al) + sum_{t/be < r <= t/al} pi(t/r)
          so that no clustered (dependent) steps remain: the reflected r-range lies inside the
          sparse q-range (lo, s] and both are summed in one loop with weight 2 where they overlap
          (primecount 8.7's "reflected" C, Easy-Special-Leaves section 6).  Arguments <= Ty
          (~1.25 y) come from the pi table, larger ones (< sqrt x) from a segmented pi table
          over (Ty, sqrt x].  ~25% of the time.
* B     = sum_{y < p <= sqrt x} pi(x/p): the primes p come from a small descending segmented
          sieve, pi(x/p) from the same sieve of [0, x/y) as D once a segment is completely
          sieved (sharing the sieve saves primecount's separate B pass: ~5% of the time).
* Sigma = a - 1 + sum_{y < p <= sqrt x} (pi(p) - 1), closed form from pi(y) and pi(sqrt x).

The tests check every term against its definition evaluated leaf by leaf (x up to 1e8).

The hard-leaf sieve (D and B)
-----------------------------
One bit per number coprime to 30 (bytes of 30 numbers, words of 240: 1.9x fewer crossings and
words to count than one bit per odd number); a segment (32 KiB = 983040 numbers) starts as the AND
of two pre-sieve patterns (7, 11, 13: 1001 bytes; 17, 19: 323 bytes), which is phi(., 8).  Then
for b = 9, 10, ... while b still has leaves at u >= low:

1. the leaves of b in the segment: b <= pi(sqrt z) scans the compact factor table (after
   C. Bau, see Hard-Special-Leaves-SIMD-Filtering): one uint16 per m <= z coprime to 2310,
   0xFFFF for primes, 0 for mu = 0 (or a prime factor > y), else 2 pi(lpf) + (mu == -1), so
   "lpf(m) > p_b and mu(m) != 0" is the single test F > 2b + 1 and the sign is the low bit.
   Passing indices go into a buffer (AVX-512: 32 entries per compare, VPCOMPRESSD), their
   quotients x/(p m) are formed in a batch (AVX-512: eight double divisions, each within 1 of the
   floor since x/(p m) < 2^51, and one exact 64-bit correction each way), then counted.  Above
   pi(sqrt z) the leaves are p q with q from the prime table, x/(p q) by a precomputed
   multiply-shift division;
2. counting phi(u, b - 1) = base_b + survivors <= u: when the pass's leaf range is dense (at
   least words/64 candidates) a prefix count per word is built once (one POPCNT pass) and each
   leaf costs one load and one POPCNT; sparse passes use counters per 16 words, resumed from
   leaf to leaf since u increases (primecount's batch counting, Hard-Special-Leaves section 8);
3. base_b += the segment's survivors, and p_b is crossed off (unrolled over the 8 wheel
   residues), updating the total and the counters when the next pass reads them; primes below
   400 are crossed plainly and the segment is recounted (cheaper than a counter per crossing).

Then the remaining primes up to sqrt(high) are crossed off and the survivors are the primes, for
B.  Measured effects at 1e15-1e16 (Zen 5, thread CPU time of D): the per-word prefix for dense
passes 0.54 -> 0.36 s at 1e15; branch-free signs 0.52 -> 0.46 s; the AVX-512 filter and batched
divisions 1.43 -> 1.22 s at 1e16 (the baseline-x86 variant of the same code: 1.75 s); counter
spacing 4..64 words and segments of 16..128 KiB are flat within 3%.

Parallelism and signals
-----------------------
Independent work items under ``prange(schedule=dynamic)`` with the GIL released: D chunks of
quadratically growing length (most leaves have small u; 8..64 per thread), the segmented AC
chunks, AC table segments, Phi0 blocks.  A chunk does not know phi(clow - 1, b - 1) or
pi(clow - 1): it records, per b, the sum of -mu(m) of its leaves and its own counts, and the
chunks are stitched exactly afterwards (so the result does not depend on the split; Gourdon's
thread independence without computing phi at chunk starts).  Thread 0 polls
``PyErr_CheckSignals`` at most every 0.1 s between segments and items; Ctrl-C stops every thread
at its next segment.  ``progress=`` moves a tqdm bar from the same poll.

Instruction sets: the kernels are compiled three times (baseline x86-64; POPCNT/BMI2/AVX2;
AVX-512 F/BW/VL/DQ/VPOPCNTDQ) through ``#pragma GCC target`` and one is chosen at import by
``__builtin_cpu_supports``; ``_set_level`` forces one (the tests check that all give the same
terms).  Other architectures build the portable variant only.

Parameters (tuned by measurement, thread CPU time, one Zen 5 core)
-----------------------------------------------------------------
alpha_y piecewise linear in log10 x through (7, 2), (10, 5), (12, 9), (13, 12), (14, 14),
(15, 17), (16, 24), (19.3, 50); alpha_z = 1 (z = y).  The optimum is flat: 1e13: alpha 8/11/14/18
-> 27/26/26/28 ms; 1e14: 8/11/14/18/24 -> 110/101/99/102/108 ms; 1e15: 14/17/20/24 ->
445/435/460/449 ms; 1e16: 17/21/26/32 -> 1.90/1.88/1.81/1.83 s.  alpha_z > 1 shrinks Gourdon's
D sieve to x/z, but here the sieve must reach x/y anyway for B, so z = y is best (primecount
also defaults to alpha_z = 1).  Measured (thread CPU time, one core of an Emerald Rapids Xeon,
min of 3; 1e16 min of 5): 1e14: alpha_z 1/1.5/2/4 -> 0.160/0.169/0.168/0.196 s; 1e15:
0.681/0.695/0.729/0.763 s; 1e16: alpha_z 1/1.25/1.5/2 -> 2.57/2.57/2.55/2.63 s (flat within
the noise; 4 costs 15-20%).

Threads: the work is cut into independent items (phase 1: the per-b preparation of the easy
leaves and Phi0; phase 2: the segments of the easy-leaf pi table, the easy-leaf chunks above it,
the D chunks), run under ``prange(schedule="dynamic")`` and stitched exactly afterwards.  Phase
2 hands out the larger items first: with the table segments last, one thread often ended on one
while the other idled (thread CPU 6.1 / 8.9 ms at 1e12, 1.5x for 2 threads; now 7.1 / 7.0 ms).

Measured against primecount 8.7 (-O3 -march=native, AVX-512 VPOPCNT build; CPU time of one
thread, both run alternately in one loop on a shared 2-core Zen 5; min of 3):

    x       nextdigit    primecount 8.7 -t1   ratio
    1e13    0.026 s      0.037 s              0.70
    1e14    0.101 s      0.131 s              0.77
    1e15    0.424 s      0.527 s              0.80
    1e16    1.79 s       2.09 s               0.86
    1e17    8.92 s       10.04 s              0.89   (a more loaded hour: both ~15% slower)

Per term at 1e16 (our CPU time; primecount's terms run alone with --D/--B/--AC): D + B 1.29 s
(primecount D 1.24 + B 0.27 s), A + C 0.45 s (0.53 s), Phi0 8 ms, tables ~20 ms.  The easy-leaf
quotients as t * (1/q) in AVX-512 doubles cut A + C by 18% (1e16); taking the factor-table
leaves with m <= p^2 (necessarily prime) from the prime table cut D by 4% (1e16) / 8% (1e17).
Two threads: the items' CPU time splits 0.219 / 0.225 s at 1e15 and the total equals one
thread's, i.e. ~1.95x wall on an idle machine (not measurable on the shared one).

Memory: the tables (primes with their division magic and reciprocals, the pi table up to
~1.25 y, the factor table up to z: ~90 MB at 1e18, ~270 MB at 2^64) are kept
and reused by later calls whose y they cover; per thread O(segment + pi(sqrt(x/y))).
"""
from libc.stdint cimport uint64_t, int64_t, uint32_t, int32_t, uint16_t, uint8_t
from libc.stdlib cimport malloc, calloc, free
from libc.string cimport memset
from cython.parallel cimport prange, threadid
from nextdigit._u64 cimport u64, isqrt64


cdef extern from "Python.h":
    ctypedef struct PyObject
    void PyErr_Fetch(PyObject **, PyObject **, PyObject **)
    void PyErr_Restore(PyObject *, PyObject *, PyObject *)
    int PyErr_CheckSignals()


cdef extern from "nd_pi.h" nogil:
    ctypedef long long i128 "ndp_i128"
    ctypedef struct ndp_div_t:
        uint64_t m
        int sh
    ctypedef struct ndp_acb:
        uint64_t t, amin, amax
        int64_t s1, s2, r1, r2
    ctypedef struct ndp_ctx:
        uint64_t x, y, z, Zs, sqrtx, x13, x14
        int64_t a, k, b_sqrtz, b_dmax, b_acmax, b_sieve
        uint64_t Ty
        const uint32_t *primes
        const uint64_t *dm
        const uint8_t *dsh
        const double *inv
        const uint64_t *pitab
        const uint16_t *F
        int64_t nF
        const uint64_t *umax
        const int64_t *acq_lo
        const int64_t *acq_hi
        int64_t b_acdef
        ndp_acb *acb
        uint64_t seg_bytes
        uint64_t ac_seg
        int clw
        uint64_t pref_num, pref_den
        uint64_t recount_p
        int pq_split
        int abort
        int64_t done
        void (*poll)(void *) noexcept nogil
        void *poll_arg
    ctypedef struct ndp_dchunk:
        uint64_t clow, chigh
        i128 hard
        int64_t *coef
        int64_t *cnt
        i128 bsum
        int64_t bcnt, bnp, qcount, nleaves
        int failed
        double secs
    ctypedef struct ndp_acchunk:
        uint64_t lo, hi
        i128 sum
        int64_t nterms, qcount
        int failed
        double secs
    int ndp_init()
    int ndp_select(int level)
    int ndp_level
    uint64_t ndp_isqrt(uint64_t n)
    uint64_t ndp_icbrt(uint64_t n)
    uint64_t ndp_iroot4(uint64_t n)
    double ndp_now()
    double ndp_cpu_now()
    ndp_div_t ndp_div_make(uint64_t d)
    uint64_t ndp_mdiv(uint64_t n, uint64_t m, int sh)
    int64_t ndp_fidx(uint64_t n)
    uint16_t *ndp_build_factor_table(uint64_t z, uint64_t y, const uint32_t *primes, int64_t nprimes,
                                     int64_t *size_out)
    void ndp_d_chunk(ndp_ctx *, ndp_dchunk *, int)
    void ndp_ac_chunk(ndp_ctx *, ndp_acchunk *, int)
    i128 ndp_ac_table(const ndp_ctx *, int64_t, int64_t)
    i128 ndp_phi0(const ndp_ctx *, int64_t, int64_t)
    i128 ndp_ac_tseg(const ndp_ctx *, uint64_t, uint64_t, int64_t, int64_t)


cdef extern from *:
    """
    static uint64_t nd_i128_lo(ndp_i128 v) { return (uint64_t)v; }
    static int64_t nd_i128_hi(ndp_i128 v) { return (int64_t)(v >> 64); }
    static inline uint64_t nd_popc_sw(uint64_t v) {
        v = v - ((v >> 1) & 0x5555555555555555ULL);
        v = (v & 0x3333333333333333ULL) + ((v >> 2) & 0x3333333333333333ULL);
        v = (v + (v >> 4)) & 0x0F0F0F0F0F0F0F0FULL;
        return (v * 0x0101010101010101ULL) >> 56;
    }
    static inline int nd_ctz(uint64_t v) { return __builtin_ctzll(v); }
    """
    int __builtin_ctzll "nd_ctz"(uint64_t v) noexcept nogil
    uint64_t i128_lo "nd_i128_lo"(i128 v) noexcept nogil
    int64_t i128_hi "nd_i128_hi"(i128 v) noexcept nogil
    uint64_t popc_sw "nd_popc_sw"(uint64_t v) noexcept nogil


if ndp_init() != 0:
    raise MemoryError("nextdigit._pi: pre-sieve patterns")
ndp_select(-1)

DEF K = 8                        # phi(., 8) by table; the sieve starts with 2..19 removed
DEF INT32_MAX = 2147483647


_TUNE = {"clw": 4, "ac_seg": 1 << 18, "ac_tseg": 1 << 18, "seg": 1 << 15, "pref_num": 1, "pref_den": 64, "recount_p": 400, "ac_vec": 1, "pq_split": 1}


def _set_tuning(**kw):
    """Override internal tuning knobs (benchmarks of the tuning; not an API)."""
    for key, v in kw.items():
        if key not in _TUNE:
            raise KeyError(key)
        _TUNE[key] = int(v)


def _set_level(int level=-1):
    """Choose the kernel variant: -1 the best the CPU supports, 0 baseline x86-64 (no POPCNT),
    1 POPCNT/BMI2/AVX2, 2 AVX-512 (VPOPCNTDQ).  Returns the level in use (tests: every level
    gives the same integers)."""
    return ndp_select(level)


def _level():
    return ndp_level


# ---------------------------------------------------------------------------------------------
# Tables reused across calls: primes, division magic and the compact pi table up to n;
# the factor table up to nf
# ---------------------------------------------------------------------------------------------
cdef inline int64_t pi_of(const uint64_t *T, u64 n) noexcept nogil:
    cdef u64 t = (n + 1) >> 1
    cdef u64 w = t >> 6
    return <int64_t>(T[2 * w + 1] + popc_sw(T[2 * w] & (((<uint64_t>1) << (t & 63)) - 1))) + (n >= 2)


cdef class _Tables:
    """Primes <= n (1-based: primes[1] = 2), their division magic, the compact pi table up to n,
    and (nf > 0) the factor table over m <= nf coprime to 2310 (see nd_pi.h), built with prime
    factors above fy excluded."""
    cdef readonly u64 n
    cdef readonly u64 nf
    cdef readonly u64 fy
    cdef readonly int64_t nprimes
    cdef int64_t nF
    cdef uint32_t *primes
    cdef uint64_t *dm
    cdef uint8_t *dsh
    cdef double *inv
    cdef uint64_t *pitab
    cdef uint16_t *F

    def __cinit__(self, u64 n):
        self.n = n
        self.nf = 0
        self.fy = 0
        self.nF = 0
        self.primes = NULL
        self.dm = NULL
        self.dsh = NULL
        self.inv = NULL
        self.pitab = NULL
        self.F = NULL
        with nogil:
            self._build_primes()
        if self.pitab == NULL or self.primes == NULL or self.dm == NULL or self.inv == NULL:
            raise MemoryError("prime table")

    def __dealloc__(self):
        free(self.primes)
        free(self.dm)
        free(self.dsh)
        free(self.inv)
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
        self.pitab = <uint64_t *>malloc(2 * (nw + 1) * 8)
        if self.pitab == NULL:
            free(bits)
            return
        cnt = 0
        for w in range(nw):
            self.pitab[2 * w] = bits[w]
            self.pitab[2 * w + 1] = cnt
            cnt += popc_sw(bits[w])
        self.pitab[2 * nw] = 0
        self.pitab[2 * nw + 1] = cnt
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
                i = (w << 6) + <u64>(__builtin_ctzll(word))
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
        self.inv = <double *>malloc((self.nprimes + 2) * 8)
        if self.inv == NULL:
            return
        cdef ndp_div_t d
        self.dm[0] = 0
        self.dsh[0] = 0
        self.inv[0] = 0.0
        for i in range(1, <u64>self.nprimes + 2):
            d = ndp_div_make(self.primes[i] if self.primes[i] >= 2 else 2)
            self.dm[i] = d.m
            self.dsh[i] = <uint8_t>d.sh
            self.inv[i] = 1.0 / <double>self.primes[i]

    cdef int build_F(self, u64 nf, u64 fy) except -1:
        cdef int64_t size = 0
        cdef uint16_t *F
        with nogil:
            F = ndp_build_factor_table(nf, fy, self.primes, self.nprimes, &size)
        if F == NULL:
            raise MemoryError("factor table")
        free(self.F)
        self.F = F
        self.nf = nf
        self.fy = fy
        self.nF = size
        return 0

    def pi(self, u64 v):
        """pi(v) for v <= n (test hook)."""
        if v > self.n:
            raise ValueError("beyond the table")
        return pi_of(self.pitab, v)

    def factor_entry(self, u64 m):
        """The factor-table entry of m (test hook; m coprime to 2310, m <= nf)."""
        if m > self.nf or m == 0:
            raise ValueError("beyond the factor table")
        return int(self.F[ndp_fidx(m)])


cdef _Tables _TABLES = None
_LAST_STATS = None


def _last_stats():
    """Terms and timings of the last computation (tuning, tests and the docs)."""
    return _LAST_STATS


cdef _Tables get_tables(u64 n, u64 nf, u64 fy):
    """The cached tables, rebuilt (25% headroom so nearby calls reuse them) when too small.
    The factor table of a call must exclude exactly the prime factors above fy among m <= nf:
    a cached one built with fy' serves when it covers nf and fy' == fy or (nf <= fy <= fy')."""
    global _TABLES
    cdef _Tables T = _TABLES
    cdef u64 want, wantf
    if T is None or T.n < n:
        want = n + n // 4 + 4096
        if T is not None and T.n > want:
            want = T.n
        T = _Tables(want)
        _TABLES = T
    if nf > 0:
        if not (T.F != NULL and T.nf >= nf and (T.fy == fy or (nf <= fy and T.fy >= T.nf))):
            if nf <= fy:
                wantf = min(T.n, nf + nf // 4)         # no prime factor above nf can occur
                T.build_F(wantf, wantf)
            else:
                T.build_F(nf, fy)
    return T


def _clear_tables():
    """Drop the cached tables (tests and benchmarks)."""
    global _TABLES
    _TABLES = None


def _table_limits():
    """(n, nf) of the cached tables, or None."""
    return None if _TABLES is None else (_TABLES.n, _TABLES.nf)


def _tables_for_tests(u64 n, u64 nf=0, u64 fy=0):
    """Fresh tables (not cached) for the unit tests of the factor table."""
    cdef _Tables T = _Tables(n)
    if nf > 0:
        T.build_F(nf, fy if fy > 0 else nf)
    return T


# ---------------------------------------------------------------------------------------------
# Signals and progress
# ---------------------------------------------------------------------------------------------
cdef struct PollState:
    ndp_ctx *C
    double last
    double period
    PyObject *et
    PyObject *ev
    PyObject *etb
    PyObject *bar          # tqdm instance or NULL
    int64_t total
    int64_t shown


cdef void poll_cb(void *arg) noexcept nogil:
    """Thread 0, between segments: at most every 0.1 s take the GIL, run the signal handlers
    (an exception, e.g. KeyboardInterrupt, is stored and every thread stops at its next
    segment) and move the progress bar."""
    cdef PollState *P = <PollState *>arg
    cdef double t = ndp_now()
    if t - P.last < P.period:
        return
    P.last = t
    with gil:
        if PyErr_CheckSignals() != 0:
            if P.C.abort == 0:
                PyErr_Fetch(&P.et, &P.ev, &P.etb)
            P.C.abort = 1
        elif P.bar != NULL:
            _bar_update(<object>P.bar, P.C.done, P)


cdef void _bar_update(object bar, int64_t done, PollState *P):
    cdef int64_t d = done if done < P.total else P.total
    if d > P.shown:
        try:
            bar.update(d - P.shown)
        except Exception:
            pass
        P.shown = d


# ---------------------------------------------------------------------------------------------
# Parameters
# ---------------------------------------------------------------------------------------------
cdef double _alpha_of(double lx):
    # piecewise-linear in log10(x); tuned by measurement (module docstring)
    cdef double[8] X = [7.0, 10.0, 12.0, 13.0, 14.0, 15.0, 16.0, 19.3]
    cdef double[8] A = [2.0, 5.0, 9.0, 12.0, 14.0, 17.0, 24.0, 50.0]
    cdef int k
    if lx <= X[0]:
        return A[0]
    for k in range(7):
        if lx <= X[k + 1]:
            return A[k] + (A[k + 1] - A[k]) * (lx - X[k]) / (X[k + 1] - X[k])
    return A[7]


def default_alpha(u64 x):
    """The tuned alpha_y for y = alpha_y * x**(1/3) (see the module docstring)."""
    import math
    cdef double lx = math.log10(max(x, 10))
    return max(1.0, _alpha_of(lx))


def default_alpha_z(u64 x):
    """The tuned alpha_z for z = alpha_z * y (see the module docstring)."""
    return 1.0


cdef void _yz(u64 x, double alpha_y, double alpha_z, u64 *yo, u64 *zo):
    cdef u64 x13 = ndp_icbrt(x), sq = ndp_isqrt(x)
    cdef u64 y = <u64>(alpha_y * <double>x13)
    if y < x13 + 1:
        y = x13 + 1
    if y > sq - 1:
        y = sq - 1
    cdef u64 z = <u64>(alpha_z * <double>y)
    if z < y:
        z = y
    if z > sq - 1:
        z = sq - 1
    yo[0] = y
    zo[0] = z


def _params(u64 x, double alpha=0.0, double alpha_z=0.0):
    """(alpha_y, alpha_z, y, z) the computation would use (benchmarks, docs)."""
    if alpha <= 0:
        alpha = default_alpha(x)
    if alpha_z <= 0:
        alpha_z = default_alpha_z(x)
    cdef u64 y, z
    _yz(x, alpha, alpha_z, &y, &z)
    return alpha, alpha_z, y, z


def nth_prime_small(u64 n, u64 limit):
    """The n-th prime from the cached sieve table of the primes below ``limit`` (built once),
    or 0 when it lies above (n >= 1)."""
    cdef _Tables T = get_tables(limit, 0, 0)
    if n > <u64>T.nprimes or T.primes[n] > limit:
        return 0
    return T.primes[n]


def pi_small(u64 x):
    """pi(x) by a plain sieve (cached as the shared table), for small x."""
    cdef _Tables T = get_tables(x, 0, 0)
    return pi_of(T.pitab, x)


cdef int _reraise(PollState *P) except -1:
    PyErr_Restore(P.et, P.ev, P.etb)
    return -1


cdef object i128_to_int(i128 v):
    return (int(i128_hi(v)) << 64) + int(i128_lo(v))


# ---------------------------------------------------------------------------------------------
# The computation
# ---------------------------------------------------------------------------------------------
cdef struct Item:
    int kind               # 0 D chunk, 1 AC chunk (arguments > Ty), 2 AC per-b preparation,
                           # 3 Phi0 block, 4 AC table segment
    int64_t i0, i1         # index of the chunk, or the range
    i128 val
    double secs            # thread CPU time
    int tid


cdef void _run_item(ndp_ctx *C, Item *it, ndp_dchunk *dch, ndp_acchunk *ach, int64_t b0,
                    PollState *P) noexcept nogil:
    if C.abort != 0:
        return
    cdef int tid = threadid()
    it.tid = tid
    if it.kind == 0:
        if dch[it.i0].chigh > dch[it.i0].clow:
            ndp_d_chunk(C, &dch[it.i0], tid)
    elif it.kind == 1:
        if ach[it.i0].hi > ach[it.i0].lo:
            ndp_ac_chunk(C, &ach[it.i0], tid)
    else:
        it.secs = ndp_cpu_now()
        if it.kind == 2:
            it.val = ndp_ac_table(C, it.i0, it.i1)
        elif it.kind == 3:
            it.val = ndp_phi0(C, it.i0, it.i1)
        else:
            it.val = ndp_ac_tseg(C, <u64>it.i0, <u64>it.i1, b0, C.b_acmax + 1)
        it.secs = ndp_cpu_now() - it.secs
    if tid == 0:
        poll_cb(P)


def prime_pi_u64(u64 x, int threads=1, double alpha=0.0, int64_t seg=0, int chunks=0,
                 double alpha_z=0.0, progress=None):
    """pi(x) for 0 <= x < 2**64 by Gourdon's variant of the combinatorial method (private;
    validated input).  alpha: alpha_y (0: tuned); seg: bytes per segment of the hard-leaf
    sieve (power of two in [2**12, 2**18], 0: tuned); chunks: number of D chunks (0: tuned);
    progress: None, or a tqdm-like bar (reset(total=) and update(n) are called, in units of
    numbers sieved, by the calling thread while it polls for signals)."""
    if x < 1000000:
        return pi_small(x)
    cdef double tsetup = ndp_now()
    if alpha <= 0:
        alpha = default_alpha(x)
    if alpha_z <= 0:
        alpha_z = default_alpha_z(x)
    cdef u64 y, z
    _yz(x, alpha, alpha_z, &y, &z)
    cdef u64 sqrtx = ndp_isqrt(x), x13 = ndp_icbrt(x), x14 = ndp_iroot4(x)
    cdef u64 Zs = x // y + 1
    cdef _Tables T = get_tables((z if z > y else y) + 2048, z, y)
    cdef ndp_ctx C
    memset(&C, 0, sizeof(ndp_ctx))
    C.x = x
    C.y = y
    C.z = z
    C.Zs = Zs
    C.sqrtx = sqrtx
    C.x13 = x13
    C.x14 = x14
    C.k = K
    C.primes = T.primes
    C.dm = T.dm
    C.dsh = T.dsh
    C.inv = T.inv if _TUNE["ac_vec"] else NULL
    C.pitab = T.pitab
    C.F = T.F
    C.nF = ndp_fidx(z) + 1
    C.Ty = T.n
    cdef int64_t a = pi_of(T.pitab, y)
    C.a = a
    C.b_sqrtz = pi_of(T.pitab, ndp_isqrt(z))
    C.b_dmax = pi_of(T.pitab, x14)
    if C.b_dmax < C.b_sqrtz:
        C.b_dmax = C.b_sqrtz
    C.b_acmax = pi_of(T.pitab, x13)
    if C.b_acmax > a:
        C.b_acmax = a
    C.b_sieve = pi_of(T.pitab, ndp_isqrt(Zs - 1))
    # hard-leaf sieve segments (bytes) and counters
    cdef u64 SB = _TUNE["seg"]
    if seg > 0:
        if seg < (1 << 12) or seg > (1 << 18) or (seg & (seg - 1)) != 0:
            raise ValueError(f"seg must be a power of two in [2**12, 2**18], got {seg}")
        SB = <u64>seg
    else:
        while SB > 4096 and SB * 30 * 64 > Zs:
            SB >>= 1
    C.seg_bytes = SB
    C.clw = _TUNE["clw"]
    C.ac_seg = _TUNE["ac_seg"]
    C.pref_num = _TUNE["pref_num"]
    C.pref_den = _TUNE["pref_den"]
    C.recount_p = _TUNE["recount_p"]
    C.pq_split = _TUNE["pq_split"]

    cdef int64_t bmax = C.b_dmax if C.b_dmax > C.b_sieve else C.b_sieve
    cdef uint64_t *umax = <uint64_t *>calloc(bmax + 3, 8)
    cdef int64_t *acq_lo = <int64_t *>calloc(C.b_acmax + 3, 8)
    cdef int64_t *acq_hi = <int64_t *>calloc(C.b_acmax + 3, 8)
    if umax == NULL or acq_lo == NULL or acq_hi == NULL:
        free(umax); free(acq_lo); free(acq_hi)
        raise MemoryError()
    cdef int64_t b, il, ih, iq, s2, b0
    cdef u64 p, xp, m, t, tp, tpp, lo, hi, s, qd
    with nogil:
        # largest u of a D leaf of b, suffix maxima
        for b in range(K + 1, C.b_dmax + 1):
            p = T.primes[b]
            xp = x // p
            if b <= C.b_sqrtz:
                m = z // p + 1
                umax[b] = xp // m
            else:
                m = xp // p // p
                if m > y:
                    m = y
                umax[b] = xp // T.primes[b + 1] if T.primes[b + 1] <= m else 0
        b = C.b_dmax - 1
        while b > K:
            if umax[b] < umax[b + 1]:
                umax[b] = umax[b + 1]
            b -= 1
        # AC: the sparse easy leaves with argument above Ty, prime indices (acq_lo, acq_hi]
        b0 = (C.b_sqrtz if C.b_sqrtz > K else K) + 1
        C.b_acdef = 0
        for b in range(b0, C.b_acmax + 1):
            p = T.primes[b]
            t = x // p
            tp = t // p
            tpp = tp // p
            lo = tpp if tpp > p else p
            hi = tp if tp < y else y
            if hi <= lo:
                continue
            if t // lo <= C.Ty:          # every argument t / q < t / lo is in the table
                continue
            il = pi_of(T.pitab, lo)
            ih = pi_of(T.pitab, hi)
            s = ndp_isqrt(t)
            if hi <= s:
                s2 = ih
            elif lo < s:
                s2 = pi_of(T.pitab, s)
            else:
                s2 = il
            qd = t // (C.Ty + 1)
            iq = pi_of(T.pitab, qd if qd < y else y)
            if iq > s2:
                iq = s2
            if iq > il:
                acq_lo[b] = il
                acq_hi[b] = iq
                C.b_acdef = b
    C.umax = umax
    C.acq_lo = acq_lo
    C.acq_hi = acq_hi

    # ---- work items
    cdef u64 SN = SB * 30
    cdef int64_t nseg = <int64_t>((Zs + SN - 1) // SN), KD, KA, k, i, nitems, nblk_ac, nblk_phi
    if chunks > 0:
        KD = chunks
    elif threads <= 1:
        KD = 1
    else:
        KD = threads * max(8, min(nseg // 256, 64))
    if KD > nseg:
        KD = nseg
    if Zs < (1 << 22) and chunks == 0:
        threads = 1
        KD = 1
    cdef u64 acl0 = ((C.Ty + 1) // 128) * 128
    cdef u64 acl1 = sqrtx + 1
    cdef int64_t nacseg = 0
    if acl1 > acl0 and C.b_acdef > 0:
        nacseg = <int64_t>((acl1 - acl0 + C.ac_seg - 1) // C.ac_seg)
    KA = 0
    if nacseg > 0:
        KA = 1 if threads <= 1 else min(nacseg, 4 * threads)
    nblk_ac = 0
    if C.b_acmax >= b0:
        nblk_ac = 16                 # short items: thread 0 polls for signals between them
    nblk_phi = 8
    # the easy leaves read from the pi table, segment by segment of their arguments
    cdef u64 TS = _TUNE["ac_tseg"]
    cdef u64 tseg_hi = (C.Ty if C.Ty < sqrtx else sqrtx) + 1
    cdef int64_t ntseg = 0
    if nblk_ac > 0:
        ntseg = <int64_t>((tseg_hi + TS - 1) // TS)
    nitems = KD + KA + nblk_ac + nblk_phi + ntseg
    cdef Item *items = <Item *>calloc(nitems, sizeof(Item))
    cdef ndp_dchunk *dch = <ndp_dchunk *>calloc(KD, sizeof(ndp_dchunk))
    cdef int64_t *dcoef = <int64_t *>calloc(KD * (bmax + 3), 8)
    cdef int64_t *dcnt = <int64_t *>calloc(KD * (bmax + 3), 8)
    cdef ndp_acchunk *ach = <ndp_acchunk *>calloc(KA + 1, sizeof(ndp_acchunk))
    cdef ndp_acb *acb = <ndp_acb *>calloc(C.b_acmax + 3, sizeof(ndp_acb))
    if items == NULL or dch == NULL or dcoef == NULL or dcnt == NULL or ach == NULL or acb == NULL:
        free(items); free(dch); free(dcoef); free(dcnt); free(ach); free(acb)
        free(umax); free(acq_lo); free(acq_hi)
        raise MemoryError()
    C.acb = acb
    # D chunks: chunk k ends at nseg * ((k + 1) / KD)**2 segments (most leaves have small u)
    for k in range(KD):
        dch[k].clow = <u64>(<double>nseg * k * k / (<double>KD * KD)) * SN
        dch[k].chigh = <u64>(<double>nseg * (k + 1) * (k + 1) / (<double>KD * KD)) * SN
        dch[k].coef = dcoef + k * (bmax + 3)
        dch[k].cnt = dcnt + k * (bmax + 3)
    dch[KD - 1].chigh = <u64>nseg * SN
    for k in range(KA):
        ach[k].lo = acl0 + <u64>(<double>nacseg * k * k / (<double>KA * KA)) * C.ac_seg
        ach[k].hi = acl0 + <u64>(<double>nacseg * (k + 1) * (k + 1) / (<double>KA * KA)) * C.ac_seg
    if KA > 0:
        ach[KA - 1].hi = acl1
    # phase 1: the per-b preparation of the easy leaves (and their closed forms), Phi0
    i = 0
    cdef int64_t span, n1
    if nblk_ac > 0:
        span = C.b_acmax + 1 - b0
        for k in range(nblk_ac):
            items[i].kind = 2
            items[i].i0 = b0 + span * k // nblk_ac
            items[i].i1 = b0 + span * (k + 1) // nblk_ac
            i += 1
    for k in range(nblk_phi):
        items[i].kind = 3
        items[i].i0 = C.nF * k // nblk_phi
        items[i].i1 = C.nF * (k + 1) // nblk_phi
        i += 1
    n1 = i
    # phase 2: the AC table segments, the AC chunks above the table, the D chunks -- larger
    # items first, so that the dynamic schedule does not end on a large one while the other
    # threads idle (with the table segments last, 2 threads gave 1.5x at 1e12)
    for k in range(ntseg):
        items[i].kind = 4
        items[i].i0 = <int64_t>(<u64>k * TS)
        items[i].i1 = <int64_t>min(<u64>(k + 1) * TS, tseg_hi)
        i += 1
    for k in range(KA):
        items[i].kind = 1
        items[i].i0 = k
        i += 1
    for k in range(KD):
        items[i].kind = 0
        items[i].i0 = k
        i += 1

    cdef PollState P
    P.C = &C
    P.last = ndp_now()
    P.period = 0.1
    P.et = NULL
    P.ev = NULL
    P.etb = NULL
    P.bar = NULL
    P.total = <int64_t>Zs + <int64_t>(acl1 - acl0 if acl1 > acl0 else 0)
    P.shown = 0
    if progress is not None:
        P.bar = <PyObject *>progress
        try:
            progress.reset(total=P.total)
        except Exception:
            pass
    C.poll = poll_cb
    C.poll_arg = &P

    cdef double t0 = ndp_now(), t1
    with nogil:
        for i in prange(n1, num_threads=threads, schedule="dynamic", chunksize=1):
            _run_item(&C, &items[i], dch, ach, b0, &P)
        for i in prange(n1, nitems, num_threads=threads, schedule="dynamic", chunksize=1):
            _run_item(&C, &items[i], dch, ach, b0, &P)
        t1 = ndp_now()
    cdef i128 Dsum = 0, Bsum = 0, ACsum = 0, Phi0 = 0, base, tot, Sigma
    cdef int64_t bnp = 0, b2, nleaves = 0
    cdef int failed = 0
    global _LAST_STATS
    try:
        if C.abort:
            _reraise(&P)
        for k in range(KD):
            failed |= dch[k].failed
        for k in range(KA):
            failed |= ach[k].failed
        if failed:
            raise MemoryError("prime_pi work buffers")
        if P.bar != NULL:
            _bar_update(progress, P.total, &P)
        # D: stitch the chunks (bases phi(clow - 1, b - 1) per b)
        for b in range(K + 1, C.b_dmax + 1):
            tot = 0
            for k in range(KD):
                Dsum += <i128>dch[k].coef[b] * tot
                tot += dch[k].cnt[b]
        base = 0
        for k in range(KD):
            Dsum += dch[k].hard
            Bsum += dch[k].bsum + <i128>dch[k].bcnt * base
            base += dch[k].qcount
            bnp += dch[k].bnp
            nleaves += dch[k].nleaves
        # AC: table blocks, the segmented chunks (base pi(acl0 - 1)), the trivial tail
        for i in range(nitems):
            if items[i].kind == 2 or items[i].kind == 4:
                ACsum += items[i].val
            elif items[i].kind == 3:
                Phi0 += items[i].val
        if KA > 0:
            base = pi_of(T.pitab, acl0 - 1)
            for k in range(KA):
                ACsum += ach[k].sum + <i128>ach[k].nterms * base
                base += ach[k].qcount
            b2 = <int64_t>base
        else:
            b2 = pi_of(T.pitab, sqrtx) if sqrtx <= T.n else a + bnp
        if bnp != b2 - a:
            raise RuntimeError(f"internal: B met {bnp} primes in (y, sqrt x], expected {b2 - a}")
        b = C.b_acmax if C.b_acmax > b0 - 1 else b0 - 1
        ACsum += <i128>(a - b) * (a - b - 1) // 2
        Sigma = <i128>(a - 1) + (<i128>b2 * (b2 - 1) - <i128>a * (a - 1)) // 2
        tot = Phi0 + Dsum + ACsum - Bsum + Sigma
        _LAST_STATS = {
            "x": x, "y": y, "z": z, "a": a, "alpha_y": alpha, "alpha_z": alpha_z,
            "seg_bytes": SB, "d_chunks": KD, "ac_chunks": KA, "threads": threads,
            "level": ndp_level, "wall_s": t1 - t0,
            "Phi0": i128_to_int(Phi0), "D": i128_to_int(Dsum), "AC": i128_to_int(ACsum),
            "B": i128_to_int(Bsum), "Sigma": i128_to_int(Sigma), "hard_leaves": nleaves,
            "d_chunk_s": [dch[k].secs for k in range(KD)],
            "ac_chunk_s": [ach[k].secs for k in range(KA)],
            "ac_table_s": sum([items[i].secs for i in range(nitems) if items[i].kind == 2 or items[i].kind == 4]),
            "phi0_s": sum([items[i].secs for i in range(nitems) if items[i].kind == 3]),
            "setup_s": t0 - tsetup,
            "thread_cpu_s": [sum([(dch[items[i].i0].secs if items[i].kind == 0 else
                                   ach[items[i].i0].secs if items[i].kind == 1 else items[i].secs)
                                  for i in range(nitems) if items[i].tid == th]) for th in range(threads)],
        }
        return i128_to_int(tot)
    finally:
        free(items); free(dch); free(dcoef); free(dcnt); free(ach); free(acb)
        free(umax); free(acq_lo); free(acq_hi)
