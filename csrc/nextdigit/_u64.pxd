# cython: language_level=3
"""Inline 64-bit modular arithmetic and the single-number BPSW test (C level, nogil).

Shared by every kernel that needs primality below 2**64 (``_primality``, ``_sieve``...).
Everything here is ``noexcept nogil`` and takes plain ``uint64_t`` values.

Montgomery arithmetic (R = 2**64)
---------------------------------
For odd n, ``ninv = n**-1 mod 2**64`` (Newton iteration, each step doubles the correct bits) and
``mont_mul(a, b) = a*b*R**-1 mod n``.  With ``t = a*b = hi*R + lo`` and ``m = lo*ninv mod R`` we
have ``m*n = mh*R + lo`` exactly, so ``(t - m*n)/R = hi - mh`` lies in (-n, n): ``redc_sub``
selects hi - mh or hi - mh + n (both computed in parallel, a conditional move, no branch) with no
128-bit overflow even for n close to 2**64 (the classic ``(t + m*n)/R`` form can exceed 2**64
when n > 2**63).  Two variants keep the chain of dependent operations short where it binds:
``mont_mul_sub`` (a*b/R - c, the Lucas ladders) subtracts c from hi while the products run, and
``sprp2_sq`` (n < 2**63) folds the doubling of a base-2 exponentiation step into the product.

Why ``is_prime_u64`` is deterministic
-------------------------------------
It is the Baillie-PSW test: a strong probable-prime test to base 2 followed by a strong Lucas
probable-prime test with Selfridge's parameters (method A: the first D in 5, -7, 9, -11, ... with
Jacobi(D/n) = -1, P = 1, Q = (1 - D)/4).  Feitsma and Galway enumerated every base-2 Fermat
pseudoprime below 2**64 (118,968,378 numbers, 2009-2013); Gilchrist checked that none of them is
also a strong Lucas-Selfridge pseudoprime.  Every strong base-2 pseudoprime is a Fermat one, so
no composite n < 2**64 passes both parts: for 64-bit inputs BPSW is a proof, not a heuristic.

How the Lucas part is computed
------------------------------
With n + 1 = d * 2**s (d odd) the strong Lucas conditions are: U_d = 0, or V_{d*2**r} = 0 for
some 0 <= r < s (mod n).  Instead of the (P, Q) sequences themselves, ``lucas_selfridge`` runs
the Q = 1 sequence W_k = V_2k(P, Q) / Q**k, which is the Lucas V sequence with parameters
(P', 1), P' = P**2/Q - 2 (with roots a, b of x**2 - P x + Q, W_k = (a/b)**k + (b/a)**k).
Q = 1 means no Q**k has to be carried: W_2k = W_k**2 - 2 and W_2k+1 = W_k W_k+1 - P', two
Montgomery products per exponent bit (the (V_k, V_k+1, Q**k) ladder needs three or four).

Everything translates back exactly, because Q and D are units mod n (gcd(D, n) = 1 from
Jacobi(D/n) = -1; gcd(Q, n) = 1 as n has no prime factor below 101 and a larger |Q| is
checked).  Write d = 2m + 1 (P = 1):

* V_d = V_d+1 + Q V_d-1 = Q**(m+1) (W_m+1 + W_m), so V_d = 0  <=>  W_m+1 = -W_m;
* D U_d = 2 V_d+1 - P V_d = Q**(m+1) (W_m+1 - W_m), so U_d = 0  <=>  W_m+1 = W_m;
* V_{d*2**r} = Q**(d*2**(r-1)) W_{d*2**(r-1)} for r >= 1, so V_{d*2**r} = 0  <=>  that W = 0,
  with W_d = W_m W_m+1 - P' and repeated squaring W_2k = W_k**2 - 2.

So the test computed is exactly the strong Lucas-Selfridge test above, not a variant: the
determinism argument applies unchanged.  P' = 1/Q - 2 needs a division by the small Q mod n
(``div_small``: halvings for the factors of 2, then one exact division).
"""
from libc.stdint cimport uint64_t, int64_t, uint8_t

ctypedef uint64_t u64

cdef extern from *:
    """
    static inline uint64_t nd_mul_full(uint64_t a, uint64_t b, uint64_t *hi) {
        unsigned __int128 t = (unsigned __int128)a * b;
        *hi = (uint64_t)(t >> 64);
        return (uint64_t)t;
    }
    static inline uint64_t nd_mulhi(uint64_t a, uint64_t b) {
        return (uint64_t)(((unsigned __int128)a * b) >> 64);
    }
    /* hi - mh mod n for hi, mh < n: the last step of a Montgomery reduction.  Both hi - mh and
       hi - mh + n are computed and one is selected (gcc and clang emit a conditional move):
       the result is ready two cycles after mh instead of four for the masked add
       r + (n & -(hi < mh)). */
    static inline uint64_t nd_redc_sub(uint64_t hi, uint64_t mh, uint64_t n) {
        uint64_t r = hi - mh, r2 = (hi + n) - mh;
        return hi < mh ? r2 : r;
    }
    /* (hi * 2**64) mod n for hi < n (the quotient then fits 64 bits): one 128-by-64 division,
       the divq instruction on x86-64. */
    static inline uint64_t nd_mod_shl64(uint64_t hi, uint64_t n) {
    #if defined(__GNUC__) && defined(__x86_64__)
        uint64_t q, r;
        __asm__("divq %[n]" : "=a"(q), "=d"(r) : "a"((uint64_t)0), "d"(hi), [n] "r"(n) : "cc");
        (void)q;
        return r;
    #else
        return (uint64_t)((((unsigned __int128)hi) << 64) % n);
    #endif
    }
    static inline int nd_ctz64(uint64_t x) { return __builtin_ctzll(x); }
    static inline int nd_clz64(uint64_t x) { return __builtin_clzll(x); }
    /* floor(sqrt(n)) for any 64-bit n, exact (double estimate, then integer correction). */
    static inline uint64_t nd_isqrt64(uint64_t n) {
        uint64_t r = (uint64_t)__builtin_sqrt((double)n);
        if (r > 4294967295ULL) r = 4294967295ULL;
        while (r * r > n) r--;
        while (r < 4294967295ULL && (r + 1) * (r + 1) <= n) r++;
        return r;
    }
    """
    u64 mul_full "nd_mul_full"(u64 a, u64 b, u64 *hi) noexcept nogil
    u64 mulhi "nd_mulhi"(u64 a, u64 b) noexcept nogil
    u64 redc_sub "nd_redc_sub"(u64 hi, u64 mh, u64 n) noexcept nogil
    u64 mod_shl64 "nd_mod_shl64"(u64 hi, u64 n) noexcept nogil
    int ctz64 "nd_ctz64"(u64 x) noexcept nogil
    int clz64 "nd_clz64"(u64 x) noexcept nogil
    u64 isqrt64 "nd_isqrt64"(u64 n) noexcept nogil


# ---------------------------------------------------------------------------------------------
# Montgomery arithmetic modulo an odd n < 2**64
# ---------------------------------------------------------------------------------------------
cdef inline u64 mont_ninv(u64 n) noexcept nogil:
    """n**-1 mod 2**64 for odd n (Newton: 5 -> 10 -> 20 -> 40 -> 80 correct bits)."""
    cdef u64 x = (3 * n) ^ 2
    x *= 2 - n * x
    x *= 2 - n * x
    x *= 2 - n * x
    x *= 2 - n * x
    return x


cdef inline u64 mont_mul(u64 a, u64 b, u64 n, u64 ninv) noexcept nogil:
    """a*b/2**64 mod n for a, b < n (result < n)."""
    cdef u64 hi
    cdef u64 lo = mul_full(a, b, &hi)
    return redc_sub(hi, mulhi(lo * ninv, n), n)


cdef inline u64 add_mod(u64 a, u64 b, u64 n) noexcept nogil:
    """a + b mod n for a, b < n, without overflow."""
    cdef u64 t = n - b
    cdef u64 r = a - t                                   # correct when a >= t ...
    return r + (n & (<u64>0 - <u64>(a < t)))             # ... else a - t + n = a + b (no branch)


cdef inline u64 select(u64 bit, u64 a, u64 b) noexcept nogil:
    """a if bit == 1 else b (bit in {0, 1}), without a branch: bit patterns of exponents are
    random, so a branch here would be mispredicted half of the time."""
    cdef u64 mask = <u64>0 - bit
    return (a & mask) | (b & ~mask)


cdef inline void cswap(u64 mask, u64 *a, u64 *b) noexcept nogil:
    """Swap *a and *b when mask is all ones, leave them when it is 0 (no branch)."""
    cdef u64 t = (a[0] ^ b[0]) & mask
    a[0] ^= t
    b[0] ^= t


cdef inline u64 sub_mod(u64 a, u64 b, u64 n) noexcept nogil:
    """a - b mod n for a, b < n."""
    cdef u64 r = a - b
    return r + (n & (<u64>0 - <u64>(a < b)))


cdef inline u64 mont_mul_sub(u64 a, u64 b, u64 c, u64 n, u64 ninv) noexcept nogil:
    """a*b/2**64 - c mod n for a, b, c < n: ``sub_mod(mont_mul(a, b), c)`` with the subtraction
    applied to the high word of a*b, (hi - c) - mh = (hi - mh) - c, which is ready long before
    mh: the chain through the three products is not lengthened (the Lucas ladders)."""
    cdef u64 hi
    cdef u64 lo = mul_full(a, b, &hi)
    return redc_sub(sub_mod(hi, c, n), mulhi(lo * ninv, n), n)


# ---------------------------------------------------------------------------------------------
# Jacobi symbol
# ---------------------------------------------------------------------------------------------
# ---------------------------------------------------------------------------------------------
# The two halves of BPSW
# ---------------------------------------------------------------------------------------------
cdef inline u64 sprp2_step(u64 x, u64 mask, u64 n, u64 ninv) noexcept nogil:
    """One left-to-right step of 2**d: x**2, doubled when mask is all ones (bit of d is 1).
    The doubling is a masked add_mod, with no branch: exponent bits are random, so a branch
    here would be mispredicted half of the time."""
    cdef u64 y = mont_mul(x, x, n, ninv)
    return add_mod(y, y & mask, n)


cdef inline bint sprp2_finish(u64 x, u64 one, int s, u64 n, u64 ninv) noexcept nogil:
    """The strong-test conditions from x = 2**d (Montgomery form), n - 1 = d * 2**s:
    x == 1, or x**(2**r) == -1 for some 0 <= r < s."""
    cdef u64 mone = n - one
    cdef int r
    if x == one or x == mone:
        return True
    for r in range(1, s):
        x = mont_mul(x, x, n, ninv)
        if x == mone:
            return True
        if x == one:
            return False
    return False


cdef inline bint sprp2(u64 n) noexcept nogil:
    """Strong probable-prime test to base 2 for odd n > 2.

    Single-number version: here the loop is one chain of dependent products, so it is bound by
    their latency, and a plain branch on the exponent bit is faster than the masked doubling of
    sprp2_step (the bit depends only on d, so the branch resolves long before the product it
    guards and a misprediction mostly overlaps the multiplication latency; measured about 15%
    faster).  The lockstep lanes (sprp2_x4) use branchless steps, where throughput matters.
    """
    cdef u64 ninv = mont_ninv(n)
    cdef u64 one = (<u64>0 - n) % n
    cdef int s = ctz64(n - 1)
    cdef u64 d = (n - 1) >> s
    cdef int top = 63 - clz64(d)
    cdef u64 bits = d << (63 - top)        # the bits of d below its leading one, fed from the top
    cdef u64 x = add_mod(one, one, n)      # 2**1 for the leading bit of d
    cdef int b
    for b in range(top):
        bits <<= 1
        x = mont_mul(x, x, n, ninv)
        if bits >> 63:
            x = add_mod(x, x, n)
    return sprp2_finish(x, one, s, n, ninv)


cdef inline u64 sprp2_sq(u64 x, u64 mask, u64 n, u64 ninv) noexcept nogil:
    """One step of 2**d for n < 2**63: x * (2x or x) / 2**64 mod n, doubled when mask is all ones.

    The doubling is folded into the product: for n < 2**63 the factor x + (x & mask) <= 2x stays
    below 2**64, and the product 2x**2 < 2n**2 < n * 2**64 is in the range where ``mont_mul``'s
    reduction (``(t - m*n)/R`` in (-n, n)) is exact.  Two cheap operations instead of the
    separate ``add_mod`` of ``sprp2_step`` (about a quarter fewer instructions per step)."""
    cdef u64 hi
    cdef u64 lo = mul_full(x, x + (x & mask), &hi)
    return redc_sub(hi, mulhi(lo * ninv, n), n)


cdef inline u64 mont_out(u64 x, u64 n, u64 ninv) noexcept nogil:
    """The plain value x / 2**64 mod n of the Montgomery form x < n (a product by 1)."""
    return redc_sub(0, mulhi(x * ninv, n), n)


cdef inline bint sprp2_finish_out(u64 x, int s, u64 n, u64 ninv) noexcept nogil:
    """``sprp2_finish`` comparing plain values: no mont(1) needed."""
    cdef u64 y = mont_out(x, n, ninv)
    cdef int r
    if y == 1 or y == n - 1:
        return True
    for r in range(1, s):
        x = mont_mul(x, x, n, ninv)
        y = mont_out(x, n, ninv)
        if y == n - 1:
            return True
        if y == 1:
            return False
    return False


cdef inline void sprp2_x4(const u64* nn, uint8_t* res) noexcept nogil:
    """Strong base-2 test of 4 odd numbers (> 2) in lockstep; res[j] = 1 if n_j passes.

    The four Montgomery squarings of a step are independent, so they overlap in the multiplier
    pipeline instead of waiting on each other's latency.  When all four are below 2**63 the
    steps use ``sprp2_sq`` (doubling folded into the product), else ``sprp2_step``.

    The exponents are aligned at their common top bit; the first K = 5 aligned bits, a number
    E < 32, are not run as steps: the lane starts at mont(2**E) = 2**E * 2**64 mod n, one
    division (``mod_shl64``; needs 2**E < n, so K = 5 only when every n > 2**31, else K = 0 and
    the start is mont(1)).  A lane whose d is shorter has leading 0 bits in E and then squares
    mont(1) = mont(1) until its leading bit comes up.  The final checks compare plain values
    (``sprp2_finish_out``), so mont(1) itself is never needed.
    """
    cdef u64 n[4]
    cdef u64 ninv[4]
    cdef u64 d[4]
    cdef u64 x[4]
    cdef int s[4]
    cdef int j, b, k, top = 0
    cdef u64 nmin = ~(<u64>0)
    for j in range(4):
        n[j] = nn[j]
        ninv[j] = mont_ninv(n[j])
        s[j] = ctz64(n[j] - 1)
        d[j] = (n[j] - 1) >> s[j]
        if 63 - clz64(d[j]) > top:
            top = 63 - clz64(d[j])
        if n[j] < nmin:
            nmin = n[j]
    k = 5 if top >= 4 and nmin > (<u64>1 << 31) else 0
    # The exponent bits are fed from the top of shifted copies of d.  The loop is written out
    # lane by lane so that the compiler keeps every lane in registers.
    cdef u64 e0 = d[0] << (63 - top), e1 = d[1] << (63 - top)
    cdef u64 e2 = d[2] << (63 - top), e3 = d[3] << (63 - top)
    cdef u64 x0, x1, x2, x3
    if k:
        x0 = mod_shl64(<u64>1 << (e0 >> 59), n[0])
        x1 = mod_shl64(<u64>1 << (e1 >> 59), n[1])
        x2 = mod_shl64(<u64>1 << (e2 >> 59), n[2])
        x3 = mod_shl64(<u64>1 << (e3 >> 59), n[3])
        e0 <<= 5
        e1 <<= 5
        e2 <<= 5
        e3 <<= 5
    else:
        x0 = mod_shl64(1, n[0])
        x1 = mod_shl64(1, n[1])
        x2 = mod_shl64(1, n[2])
        x3 = mod_shl64(1, n[3])
    if (n[0] | n[1] | n[2] | n[3]) >> 63 == 0:
        for b in range(top + 1 - k):
            x0 = sprp2_sq(x0, <u64>0 - (e0 >> 63), n[0], ninv[0])
            x1 = sprp2_sq(x1, <u64>0 - (e1 >> 63), n[1], ninv[1])
            x2 = sprp2_sq(x2, <u64>0 - (e2 >> 63), n[2], ninv[2])
            x3 = sprp2_sq(x3, <u64>0 - (e3 >> 63), n[3], ninv[3])
            e0 <<= 1
            e1 <<= 1
            e2 <<= 1
            e3 <<= 1
    else:
        for b in range(top + 1 - k):
            x0 = sprp2_step(x0, <u64>0 - (e0 >> 63), n[0], ninv[0])
            x1 = sprp2_step(x1, <u64>0 - (e1 >> 63), n[1], ninv[1])
            x2 = sprp2_step(x2, <u64>0 - (e2 >> 63), n[2], ninv[2])
            x3 = sprp2_step(x3, <u64>0 - (e3 >> 63), n[3], ninv[3])
            e0 <<= 1
            e1 <<= 1
            e2 <<= 1
            e3 <<= 1
    x[0] = x0
    x[1] = x1
    x[2] = x2
    x[3] = x3
    for j in range(4):
        res[j] = sprp2_finish_out(x[j], s[j], n[j], ninv[j])


cdef inline u64 half_mod(u64 x, u64 n) noexcept nogil:
    """x / 2 mod n for odd n and x < n: x >> 1 when x is even, (x + n) / 2 (computed without
    overflow as (x >> 1) + (n >> 1) + 1) when x is odd."""
    return (x >> 1) + (((n >> 1) + 1) & (<u64>0 - (x & 1)))


cdef inline u64 div_small(u64 x, int64_t q, u64 n) noexcept nogil:
    """x / q mod n for x < n, odd n and a small q != 0 with gcd(q, n) = 1.

    Factors of 2 in q are removed by halving; for the odd part q' the integer X = x + t*n with
    0 <= t < q' and X = 0 (mod q') is an exact multiple of q', and X / q' < n.  Since X / q' < 2**64
    it equals X * q'**-1 mod 2**64, which the wrapping 64-bit arithmetic computes directly.
    """
    cdef u64 a = <u64>(q if q > 0 else -q)
    cdef u64 xr, nr, t
    while (a & 1) == 0:
        x = half_mod(x, n)
        a >>= 1
    if a != 1:
        xr = x % a
        nr = n % a
        t = 0
        while xr != 0:                  # xr = (x + t*n) mod a; at most a - 1 steps (gcd(a, n) = 1)
            xr += nr
            if xr >= a:
                xr -= a
            t += 1
        x = (x + t * n) * mont_ninv(a)
    return sub_mod(0, x, n) if q < 0 else x


cdef inline int jacobi_small(unsigned int a, unsigned int m) noexcept nogil:
    """Jacobi symbol (a/m) for odd m >= 1 and a < 2**32, in 32-bit arithmetic (cheaper
    divisions than 64-bit ones)."""
    cdef int t = 1
    cdef int z
    cdef unsigned int tmp
    a %= m
    while a != 0:
        z = ctz64(a)
        a >>= z
        if (z & 1) and ((m & 7) == 3 or (m & 7) == 5):
            t = -t
        if (a & 3) == 3 and (m & 3) == 3:
            t = -t
        tmp = a
        a = m % a
        m = tmp
    return t if m == 1 else 0


cdef inline int64_t selfridge_q(u64 n) noexcept nogil:
    """Selfridge's method A for odd n > 10**4 without prime factors below 101: the first D in
    5, -7, 9, -11, ... with Jacobi(D/n) = -1 gives P = 1 and the returned Q = (1 - D)/4.

    Returns 0 (never a valid Q) when n is shown composite on the way: a D sharing a factor with
    n, a Q sharing a factor with n, or n a perfect square (no D with Jacobi -1 exists).

    Every D of the sequence is 1 mod 4, so by quadratic reciprocity (with (-1/n) = (-1)**((n-1)/2)
    for the negative ones) Jacobi(D/n) = Jacobi((n mod |D|)/|D|).  For the first five D, which
    settle 15 of every 16 n, that is read off n mod p for the primes p = 5, 7, 11, 13 (constant
    moduli: multiplications, no division): Jacobi(D/n) = -1 iff n mod p is a quadratic
    non-residue mod p; D = 9 = 3**2 never qualifies (Jacobi(9/n) = 1 when 3 does not divide n).
    The first qualifying D is picked with branchless selects: which one it is varies randomly
    from n to n, so branches would be mispredicted.  Beyond D = 13 a loop computes the Jacobi symbols
    of small numbers.
    """
    cdef u64 r3 = n % 3, r5 = n % 5, r7 = n % 7, r11 = n % 11, r13 = n % 13
    if (r3 == 0) | (r5 == 0) | (r7 == 0) | (r11 == 0) | (r13 == 0):
        return 0                        # a factor 3, 5, 7, 11 or 13: composite (n > 13)
    # Quadratic non-residues: mod 5: 2, 3; mod 7: 3, 5, 6; mod 11: 2, 6, 7, 8, 10;
    # mod 13: 2, 5, 6, 7, 8, 11.  Bit r of each mask is set iff r is a non-residue.
    cdef u64 nqr5 = (1 << 2) | (1 << 3)
    cdef u64 nqr7 = (1 << 3) | (1 << 5) | (1 << 6)
    cdef u64 nqr11 = (1 << 2) | (1 << 6) | (1 << 7) | (1 << 8) | (1 << 10)
    cdef u64 nqr13 = (1 << 2) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 8) | (1 << 11)
    # Q for the first qualifying D, or 0 when none of D = 5, -7, 9, -11, 13 qualifies: the
    # later D are applied first so that earlier ones override them.
    cdef u64 q = 0
    q = select((nqr13 >> r13) & 1, <u64>(-3), q)       # D = 13, Q = -3
    q = select((nqr11 >> r11) & 1, 3, q)               # D = -11, Q = 3
    q = select((nqr7 >> r7) & 1, 2, q)                 # D = -7, Q = 2
    q = select((nqr5 >> r5) & 1, <u64>(-1), q)         # D = 5, Q = -1
    cdef int64_t Q = <int64_t>q
    if Q != 0:
        return Q
    cdef int64_t D = -15
    cdef int j
    cdef u64 absd, absq
    while True:
        absd = <u64>(D if D > 0 else -D)
        j = jacobi_small(<unsigned int>(n % absd), <unsigned int>absd)
        if j == -1:
            break
        if j == 0 and absd != n:
            return 0
        if D == 21 or D == -21 or D == 23 or D == -23:   # cheap place for the square check
            if isqrt64(n) * isqrt64(n) == n:
                return 0
        D = -(D + 2) if D > 0 else -(D - 2)
    Q = (1 - D) // 4
    absq = <u64>(Q if Q > 0 else -Q)
    if absq >= 101 and n % absq == 0:
        return 0                          # n > 10**4 here, so a common factor means composite
    return Q


cdef inline u64 lucas_pprime(int64_t Q, u64 one, u64 n) noexcept nogil:
    """Montgomery form of P' = P**2/Q - 2 = 1/Q - 2 (P = 1), the parameter of the Q = 1 sequence
    W_k = V_{2k} / Q**k used by the ladder (see the module docstring)."""
    return sub_mod(div_small(one, Q, n), add_mod(one, one, n), n)


cdef inline bint lucas_finish(u64 w0, u64 w1, u64 pp, u64 two, int s, u64 n,
                              u64 ninv) noexcept nogil:
    """The strong Lucas conditions from (W_m, W_{m+1}), where n + 1 = d * 2**s and d = 2m + 1.

    U_d = 0  <=>  W_{m+1} == W_m;  V_d = 0  <=>  W_{m+1} == -W_m;
    V_{d*2**r} = 0 (1 <= r < s)  <=>  W_{d*2**(r-1)} = 0, with W_d = W_m W_{m+1} - P' and
    W_{2k} = W_k**2 - 2.
    """
    cdef int r
    cdef u64 w
    if w0 == w1 or add_mod(w0, w1, n) == 0:
        return True
    w = mont_mul_sub(w0, w1, pp, n, ninv)
    for r in range(1, s):
        if w == 0:
            return True
        w = mont_mul_sub(w, w, two, n, ninv)
    return False


cdef inline bint lucas_selfridge(u64 n) noexcept nogil:
    """Strong Lucas probable-prime test (Selfridge method A) for odd n > 10**4 without prime
    factors below 101.  Returns False for perfect squares (no D with Jacobi -1 exists for them).
    """
    if n == ~(<u64>0):               # n + 1 would overflow (2**64 - 1 is composite anyway)
        return False
    cdef int64_t Q = selfridge_q(n)
    if Q == 0:
        return False
    cdef u64 ninv = mont_ninv(n)
    cdef u64 one = (<u64>0 - n) % n
    cdef u64 two = add_mod(one, one, n)
    cdef u64 pp = lucas_pprime(Q, one, n)
    cdef int s = ctz64(n + 1)
    cdef u64 m = ((n + 1) >> s) >> 1             # d = 2m + 1
    # Left-to-right Montgomery ladder over the bits of m on (u, v) = (W_k, W_k+1), starting at
    # k = 0 with (2, P'):  a 0 bit gives (W_2k, W_2k+1) = (u**2 - 2, u*v - P'),
    #                      a 1 bit gives (W_2k+1, W_2k+2) = (u*v - P', v**2 - 2).
    # As in sprp2, a plain branch on the bit beats a branchless select in this single
    # latency-bound chain (measured about 10%); the lockstep lanes use lucas_step instead.
    cdef u64 u = two, v = pp, t
    cdef int top = 63 - clz64(m | 1)             # m = 0 only for n = 2**k - 1: one no-op step
    cdef u64 bits = m << (63 - top)              # the bits of m, fed from the top
    cdef int b
    for b in range(top + 1):
        t = mont_mul_sub(u, v, pp, n, ninv)
        if bits >> 63:
            u = t
            v = mont_mul_sub(v, v, two, n, ninv)
        else:
            u = mont_mul_sub(u, u, two, n, ninv)
            v = t
        bits <<= 1
    return lucas_finish(u, v, pp, two, s, n, ninv)


cdef inline u64 lucas_swap_bits(u64 m) noexcept nogil:
    """The swap pattern of lucas_step over the bits of m: bit b is bit b XOR bit b+1 of m."""
    return m ^ (m >> 1)


cdef inline void lucas_step(u64 *u, u64 *v, u64 mask, u64 pp, u64 two, u64 n,
                            u64 ninv) noexcept nogil:
    """One branchless step of the ladder of lucas_selfridge, for the lockstep lanes.

    Both cases of a ladder step are "(u, v) <- (u**2 - 2, u*v - P')" applied to the pair
    swapped when the bit is 1 (the result then comes out swapped too).  So the pair is kept
    swapped after every 1 bit: a step first swaps when its bit differs from the previous one
    (mask from bit b of lucas_swap_bits(m), all ones or 0), and after the last step a swap by
    the lowest bit of m restores (W_m, W_m+1).
    """
    cswap(mask, u, v)
    cdef u64 t = mont_mul_sub(u[0], v[0], pp, n, ninv)
    u[0] = mont_mul_sub(u[0], u[0], two, n, ninv)
    v[0] = t


# ---------------------------------------------------------------------------------------------
# Trial division and the full test
# ---------------------------------------------------------------------------------------------
cdef extern from *:
    """
    /* Bit i of ND_PRIMES_LT64 (bit i-64 of ND_PRIMES_64_128) is set iff i is prime. */
    #define ND_PRIMES_LT64    0x28208A20A08A28ACULL
    #define ND_PRIMES_64_128  0x800228A202088288ULL
    """
    u64 SMALL_PRIME_MASK_LO "ND_PRIMES_LT64"
    u64 SMALL_PRIME_MASK_HI "ND_PRIMES_64_128"

# The constant divisors below let the compiler replace each ``%`` by a multiply-and-compare
# divisibility test (no division): one multiplication per prime.
cdef inline bint has_factor_below_16(u64 n) noexcept nogil:
    """True when 3, 5, 7, 11 or 13 divides n (together they remove 62% of the odd numbers)."""
    return (n % 3 == 0) | (n % 5 == 0) | (n % 7 == 0) | (n % 11 == 0) | (n % 13 == 0)


cdef inline bint has_factor_16_to_100(u64 n) noexcept nogil:
    """True when a prime between 17 and 97 divides n."""
    return ((n % 17 == 0) | (n % 19 == 0) | (n % 23 == 0) | (n % 29 == 0) | (n % 31 == 0)
            | (n % 37 == 0) | (n % 41 == 0) | (n % 43 == 0) | (n % 47 == 0) | (n % 53 == 0)
            | (n % 59 == 0) | (n % 61 == 0) | (n % 67 == 0) | (n % 71 == 0) | (n % 73 == 0)
            | (n % 79 == 0) | (n % 83 == 0) | (n % 89 == 0) | (n % 97 == 0))


cdef inline bint has_small_factor(u64 n) noexcept nogil:
    """True when an odd prime below 101 divides n."""
    return has_factor_below_16(n) | has_factor_16_to_100(n)


cdef inline int prefilter_u64(u64 n) noexcept nogil:
    """0: composite (or < 2); 1: prime; 2: undecided (odd, >= 10201, no factor below 101)."""
    if n < 128:
        if n < 64:
            return <int>((SMALL_PRIME_MASK_LO >> n) & 1)
        return <int>((SMALL_PRIME_MASK_HI >> (n - 64)) & 1)
    if (n & 1) == 0 or has_small_factor(n):
        return 0
    if n < 10201:                                   # 101**2
        return 1
    return 2


cdef inline bint is_prime_u64(u64 n) noexcept nogil:
    """Deterministic primality for every 64-bit n (trial division, then BPSW)."""
    cdef int r = prefilter_u64(n)
    if r != 2:
        return r == 1
    return sprp2(n) and lucas_selfridge(n)
