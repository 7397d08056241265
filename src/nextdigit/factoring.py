"""Integer factoring for the semiprime models: Pollard-Brent rho (own code) with a work budget.

``rho_factor(n, budget=None)`` finds a non-trivial factor of a composite n by Brent's variant of
Pollard's rho (cycle detection by powers of two, gcds batched over 128 steps; R. P. Brent, "An
improved Monte Carlo factorization algorithm", BIT 20 (1980)), with gmpy2 integers.  ``budget``
caps the number of iterations of x -> x**2 + c summed over all restarts; when it is exhausted
the function returns None — that is how the budgeted model stays polynomial.  Expected work is
about sqrt(p) iterations for the smallest prime factor p, so balanced semiprimes of n-digit
primes cost ~10**(n/2) iterations: the exponential curve of the honest model.

``factor(n)`` gives the full factorization ({prime: exponent}) with rho below 2**128 and
``sympy.factorint`` beyond, as ARCHITECTURE.md prescribes.
"""
from __future__ import annotations

import gmpy2
import sympy

from .primality import is_prime
from ._util.validate import as_int

__all__ = ["rho_factor", "factor"]

_BATCH = 128


def rho_factor(n, budget: int | None = None, seed: int = 1):
    """A non-trivial factor of composite ``n`` (> 3), or None when ``budget`` iterations ran out."""
    n = as_int(n, "n")
    if n < 4:
        raise ValueError(f"n must be a composite >= 4, got {n}")
    if n % 2 == 0:
        return 2
    N = gmpy2.mpz(n)
    spent = 0
    c = seed
    while budget is None or spent < budget:
        y, r, q, g = gmpy2.mpz(2), 1, gmpy2.mpz(1), gmpy2.mpz(1)
        x = ys = y
        while g == 1:
            x = y
            for _ in range(r):
                y = (y * y + c) % N
            spent += r
            k = 0
            while k < r and g == 1:
                ys = y
                steps = min(_BATCH, r - k)
                for _ in range(steps):
                    y = (y * y + c) % N
                    q = q * abs(x - y) % N
                g = gmpy2.gcd(q, N)
                k += steps
                spent += steps
                if budget is not None and spent >= budget and g == 1:
                    return None
            r *= 2
        if g == N:  # the batch overshot: step back one at a time
            g = gmpy2.mpz(1)
            while g == 1:
                ys = (ys * ys + c) % N
                g = gmpy2.gcd(abs(x - ys), N)
        if g != N:
            return int(g)
        c += 1  # a cycle without a factor: new polynomial
    return None


def factor(n) -> dict[int, int]:
    """Prime factorization {p: e} of n >= 1 (rho below 2**128, sympy.factorint beyond)."""
    n = as_int(n, "n")
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if n.bit_length() > 128:
        return {int(p): int(e) for p, e in sympy.factorint(n).items()}
    out: dict[int, int] = {}
    stack = [n]
    while stack:
        m = stack.pop()
        if m == 1:
            continue
        for p in (2, 3, 5, 7, 11, 13):
            while m % p == 0:
                out[p] = out.get(p, 0) + 1
                m //= p
        if m == 1:
            continue
        if is_prime(m):
            out[m] = out.get(m, 0) + 1
            continue
        r = gmpy2.isqrt(m)
        if r * r == m:
            stack += [int(r), int(r)]
            continue
        d = rho_factor(m)
        stack += [d, m // d]
    return dict(sorted(out.items()))
