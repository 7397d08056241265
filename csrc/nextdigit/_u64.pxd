# cython: language_level=3
"""Inline 64-bit modular arithmetic and the single-number BPSW test (C level, nogil).

Shared by every kernel that needs primality below 2**64 (``_primality``, ``_sieve``...).
Everything here is ``noexcept nogil`` and takes plain ``uint64_t`` values.

Montgomery arithmetic (R = 2**64)
---------------------------------
For odd n, ``ninv = n**-1 mod 2**64`` (Newton iteration, each step doubles the correct bits) and
``mont_mul(a, b) = a*b*R**-1 mod n``.  With ``t = a*b = hi*R + lo`` and ``m = lo*ninv mod R`` we
have ``m*n = mh*R + lo`` exactly, so ``(t - m*n)/R = hi - mh`` lies in (-n, n): one subtraction
and a masked add of n give the reduced value with no branch and no 128-bit overflow even for n
close to 2**64 (the classic ``(t + m*n)/R`` form can exceed 2**64 when n > 2**63).

Why ``is_prime_u64`` is deterministic
-------------------------------------
It is the Baillie-PSW test: a strong probable-prime test to base 2 followed by a strong Lucas
probable-prime test with Selfridge's parameters (method A: the first D in 5, -7, 9, -11, ... with
Jacobi(D/n) = -1, P = 1, Q = (1 - D)/4).  Feitsma and Galway enumerated every base-2 Fermat
pseudoprime below 2**64 (118,968,378 numbers, 2009-2013); Gilchrist checked that none of them is
also a strong Lucas-Selfridge pseudoprime.  Every strong base-2 pseudoprime is a Fermat one, so
no composite n < 2**64 passes both parts: for 64-bit inputs BPSW is a proof, not a heuristic.

The Lucas part uses the V-only ladder: it carries (V_k, V_{k+1}, Q**k) and needs three or four
Montgomery products per bit of d (where n + 1 = d * 2**s).  U_d is never formed: since
D*U_k = 2*V_{k+1} - P*V_k and gcd(D, n) = 1, U_d == 0 (mod n) iff 2*V_{d+1} == V_d (P = 1).
"""
from libc.stdint cimport uint64_t, int64_t

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
    cdef u64 mh = mulhi(lo * ninv, n)
    cdef u64 r = hi - mh
    return r + (n & (<u64>0 - <u64>(hi < mh)))


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


cdef inline u64 sub_mod(u64 a, u64 b, u64 n) noexcept nogil:
    """a - b mod n for a, b < n."""
    cdef u64 r = a - b
    return r + (n & (<u64>0 - <u64>(a < b)))


cdef inline u64 mul_small(u64 x, int64_t k, u64 n) noexcept nogil:
    """x*k mod n for a small signed integer k (|k| < 2**31), by double-and-add: for the small
    Lucas parameter Q this is a few additions, much cheaper than a Montgomery product."""
    cdef u64 a = <u64>(k if k > 0 else -k)
    cdef u64 r = 0
    cdef int b
    if a != 0:
        for b in range(63 - clz64(a), -1, -1):
            r = add_mod(r, r, n)
            if (a >> b) & 1:
                r = add_mod(r, x, n)
    return sub_mod(0, r, n) if k < 0 else r


# ---------------------------------------------------------------------------------------------
# Jacobi symbol
# ---------------------------------------------------------------------------------------------
cdef inline int jacobi_u64(u64 a, u64 n) noexcept nogil:
    """Jacobi symbol (a/n) for odd n >= 1."""
    cdef int t = 1
    cdef int z
    cdef u64 tmp
    a %= n
    while a != 0:
        z = ctz64(a)
        a >>= z
        if (z & 1) and ((n & 7) == 3 or (n & 7) == 5):
            t = -t
        if (a & 3) == 3 and (n & 3) == 3:
            t = -t
        tmp = a
        a = n % a
        n = tmp
    return t if n == 1 else 0


# ---------------------------------------------------------------------------------------------
# The two halves of BPSW
# ---------------------------------------------------------------------------------------------
cdef inline bint sprp2(u64 n) noexcept nogil:
    """Strong probable-prime test to base 2 for odd n > 2."""
    cdef u64 ninv = mont_ninv(n)
    cdef u64 one = (<u64>0 - n) % n
    cdef u64 mone = n - one
    cdef u64 nm1 = n - 1
    cdef int s = ctz64(nm1)
    cdef u64 d = nm1 >> s
    cdef int top = 63 - clz64(d)
    cdef int b
    cdef u64 x = add_mod(one, one, n)      # 2**1 for the top bit of d
    for b in range(top - 1, -1, -1):
        x = mont_mul(x, x, n, ninv)
        x = select((d >> b) & 1, add_mod(x, x, n), x)
    if x == one or x == mone:
        return True
    for b in range(1, s):
        x = mont_mul(x, x, n, ninv)
        if x == mone:
            return True
        if x == one:
            return False
    return False


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


cdef inline int64_t selfridge_q(u64 n) noexcept nogil:
    """Selfridge's method A for odd n > 10**4 without prime factors below 101: the first D in
    5, -7, 9, -11, ... with Jacobi(D/n) = -1 gives P = 1 and the returned Q = (1 - D)/4.

    Returns 0 (never a valid Q) when n is shown composite on the way: a D sharing a factor with
    n, a Q sharing a factor with n, or n a perfect square (no D with Jacobi -1 exists).
    """
    cdef int64_t D = 5
    cdef int j
    cdef u64 absd, absq
    cdef int64_t Q
    while True:
        absd = <u64>(D if D > 0 else -D)
        j = jacobi_u64(n - absd if D < 0 else absd, n)
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
    w = sub_mod(mont_mul(w0, w1, n, ninv), pp, n)
    for r in range(1, s):
        if w == 0:
            return True
        w = sub_mod(mont_mul(w, w, n, ninv), two, n)
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
    cdef u64 w0 = two                            # (W_k, W_{k+1}) = (W_0, W_1) = (2, P')
    cdef u64 w1 = pp
    cdef u64 bit, t, sq
    cdef int b
    # Left-to-right ladder over the bits of m: (W_k, W_{k+1}) -> (W_2k, W_2k+1) for a 0 bit,
    # (W_2k+1, W_2k+2) for a 1 bit, with W_2k = W_k**2 - 2 and W_2k+1 = W_k W_k+1 - P'.
    # (m = 0 only for n = 2**k - 1: the loop is then skipped.)
    for b in range(63 - clz64(m | 1), -1, -1):
        bit = (m >> b) & 1
        t = sub_mod(mont_mul(w0, w1, n, ninv), pp, n)
        sq = select(bit, w1, w0)
        sq = sub_mod(mont_mul(sq, sq, n, ninv), two, n)
        w0 = select(bit, t, sq)
        w1 = select(bit, sq, t)
    return lucas_finish(w0, w1, pp, two, s, n, ninv)


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

cdef inline bint has_small_factor(u64 n) noexcept nogil:
    """True when an odd prime below 101 divides n.  The constant divisors let the compiler
    replace each ``%`` by a multiply-and-compare divisibility test (no division)."""
    return ((n % 3 == 0) | (n % 5 == 0) | (n % 7 == 0) | (n % 11 == 0) | (n % 13 == 0)
            | (n % 17 == 0) | (n % 19 == 0) | (n % 23 == 0) | (n % 29 == 0) | (n % 31 == 0)
            | (n % 37 == 0) | (n % 41 == 0) | (n % 43 == 0) | (n % 47 == 0) | (n % 53 == 0)
            | (n % 59 == 0) | (n % 61 == 0) | (n % 67 == 0) | (n % 71 == 0) | (n % 73 == 0)
            | (n % 79 == 0) | (n % 83 == 0) | (n % 89 == 0) | (n % 97 == 0))


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
