"""BPSW through gmpy2 for one big number, in steps that Ctrl-C can interrupt.

``gmpy2.is_prime(n, 1)`` is GMP's Baillie-PSW test (see ``nextdigit.primality``): one C call that
holds the GIL for its whole run, so a pending ``KeyboardInterrupt`` waits until it returns.  That
is harmless up to a few thousand bits but not beyond: measured on this machine, one call costs
~0.1 s at 6000 bits, ~1-1.5 s at 14000 bits (a composite: one modular exponentiation) and
several seconds for a prime, and ``gmpy2.next_prime`` of a 14000-bit number ran for minutes
deaf to SIGINT.

``is_prime(n)`` keeps GMP's single call up to ``STEP_BITS`` bits and above runs the same test as
a Python loop over the bits of the exponents, each step a gmpy2 squaring and reduction (a few
tens of microseconds at 14000 bits), so the interpreter sees a signal within one step:

1. trial division by the primes below 1000 (one gcd with their product), and a perfect-square
   check (a square has no Selfridge parameter);
2. the strong probable-prime test to base 2: 2**d mod n (n - 1 = d 2**s, d odd) by left-to-right
   binary exponentiation (doubling is a shift and a subtraction), then up to s - 1 squarings;
   measured as fast as one ``gmpy2.powmod`` at 6000-14000 bits;
3. the strong Lucas probable-prime test with Selfridge's parameters (method A: the first D in
   5, -7, 9, -11, ... with Jacobi(D/n) = -1, P = 1, Q = (1 - D)/4): U_d, V_d and Q**d for
   n + 1 = d 2**s by the binary ladder (U_2k = U_k V_k, V_2k = V_k**2 - 2 Q**k;
   U_k+1 = (P U_k + V_k)/2, V_k+1 = (D U_k + P V_k)/2), then n is a strong Lucas probable prime
   when U_d = 0 or V_{d 2**r} = 0 for some 0 <= r < s.

That is the definition of BPSW, the test GMP runs, so the verdicts are GMP's (tested against
``gmpy2.is_prime(n, 1)`` on random numbers, primes and the strong pseudoprimes of both halves of
the test, running the steps on small numbers too).
"""
from __future__ import annotations

import gmpy2
from gmpy2 import mpz

__all__ = ["is_prime", "STEP_BITS"]

STEP_BITS = 6000        # above this, one GMP call can hold the GIL for more than ~0.1 s

_SMALL = [p for p in range(3, 1000, 2) if all(p % q for q in range(3, int(p**0.5) + 1, 2))]
_SMALL_PRODUCT = mpz(1)
for _p in _SMALL:
    _SMALL_PRODUCT *= _p


def is_prime(n) -> bool:
    """BPSW verdict for an int n > 2**64 (GMP's, interruptible above ``STEP_BITS`` bits)."""
    if n.bit_length() <= STEP_BITS:
        return bool(gmpy2.is_prime(n, 1))
    return bpsw_steps(n)


def bpsw_steps(n) -> bool:
    """BPSW for any odd-or-even int n >= 2, step by step (module docstring)."""
    n = mpz(n)
    if n < 2:
        return False
    if n < 1000:
        return n == 2 or (n % 2 == 1 and int(n) in _SMALL)
    if n % 2 == 0 or gmpy2.gcd(n, _SMALL_PRODUCT) != 1:
        return False
    if gmpy2.is_square(n):
        return False
    return _strong_base2(n) and _strong_lucas(n)


def _strong_base2(n) -> bool:
    d = n - 1
    s = gmpy2.bit_scan1(d)
    d >>= s
    x = mpz(1)
    for bit in gmpy2.digits(d, 2):
        x = x * x % n
        if bit == "1":
            x <<= 1
            if x >= n:
                x -= n
    if x == 1 or x == n - 1:
        return True
    for _ in range(s - 1):
        x = x * x % n
        if x == n - 1:
            return True
        if x == 1:
            return False
    return False


def _selfridge_d(n) -> int | None:
    """Selfridge's D (method A), or None when the search proves n composite."""
    d = 5
    while True:
        j = gmpy2.jacobi(d % n, n)
        if j == -1:
            return d
        if j == 0 and abs(d) != n:
            return None
        d = -d - 2 if d > 0 else -d + 2


def _half(x, n):
    """x / 2 mod n for odd n and 0 <= x < n."""
    return (x + n if x & 1 else x) >> 1


def _strong_lucas(n) -> bool:
    D = _selfridge_d(n)
    if D is None:
        return False
    Q = (1 - D) // 4
    Dm, Qm = mpz(D % n), mpz(Q % n)
    d = n + 1
    s = gmpy2.bit_scan1(d)
    d >>= s
    bits = gmpy2.digits(d, 2)
    U, V, Qk = mpz(1), mpz(1), Qm        # k = 1 (P = 1)
    for bit in bits[1:]:
        U = U * V % n                        # k -> 2k
        V = (V * V - 2 * Qk) % n
        Qk = Qk * Qk % n
        if bit == "1":                       # k -> k + 1
            U, V = _half((U + V) % n, n), _half((Dm * U + V) % n, n)
            Qk = Qk * Qm % n
    if U == 0 or V == 0:
        return True
    for _ in range(s - 1):
        V = (V * V - 2 * Qk) % n
        if V == 0:
            return True
        Qk = Qk * Qk % n
    return False
