"""Prime-density approximations: the logarithmic integral li(x) and Riemann's R(x).

Both are evaluated with MPFR through gmpy2, so they work far beyond float64's range (x of
thousands of digits).  ``li(x) = Ei(ln x)`` (``gmpy2.eint``), and
``R(x) = sum_{n>=1} mu(n)/n * li(x**(1/n))``, truncated once the terms drop below the working
precision.

For the approximate sampler what matters is the *mass of an interval*, ``density_mass(a, b)``:
``li(b) - li(a)`` (or the same for R) computed with enough bits that the difference keeps ~64
significant bits even when b - a is tiny compared with a (the working precision is
log2(b / (b - a)) + 72 bits), returned as an ``mpfr``.  Ratios of such masses are what a model turns into
probabilities.

>>> round(li(10**6))
78628
>>> round(riemann_r(10**6))
78527
"""
from __future__ import annotations

import functools

import math

import gmpy2
import numpy as np

from ._util.validate import as_int

__all__ = ["li", "riemann_r", "density_mass", "density_masses"]

_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(24)
MPFR_BITS_LIMIT = 256   # edges up to this many bits go through MPFR, larger ones by quadrature


@functools.lru_cache(maxsize=64)
def _mobius(n: int) -> int:
    m, k, p = n, 0, 2
    while p * p <= m:
        if m % p == 0:
            m //= p
            if m % p == 0:
                return 0
            k += 1
        p += 1
    if m > 1:
        k += 1
    return -1 if k % 2 else 1


def _li_mpfr(x, prec: int):
    with gmpy2.context(gmpy2.get_context(), precision=prec):
        return gmpy2.eint(gmpy2.log(gmpy2.mpfr(x)))


def _r_mpfr(x, prec: int):
    with gmpy2.context(gmpy2.get_context(), precision=prec):
        xm = gmpy2.mpfr(x)
        total = gmpy2.mpfr(0)
        first = None
        n = 1
        while True:
            root = gmpy2.root(xm, n) if n > 1 else xm
            if root < 2:
                break
            mu = _mobius(n)
            if mu:
                term = mu * gmpy2.eint(gmpy2.log(root)) / n
                if first is None:
                    first = abs(term)
                elif abs(term) < first * gmpy2.exp2(-prec):
                    break
                total += term
            n += 1
        return total


def _as_positive(x, name):
    if isinstance(x, float):
        if not x > 0:
            raise ValueError(f"{name} must be > 0, got {x}")
        return x
    v = as_int(x, name)
    if v <= 0:
        raise ValueError(f"{name} must be > 0, got {v}")
    return v


def _to_float_or_mpfr(v):
    f = float(v)
    return f if f != float("inf") else v


def li(x):
    """The logarithmic integral li(x) = p.v. integral_0^x dt/ln t (x > 0; int or float).

    Returns a float, or an ``mpfr`` when the value exceeds float64's range.
    """
    v = _as_positive(x, "x")
    return _to_float_or_mpfr(_li_mpfr(v, 64))


def riemann_r(x):
    """Riemann's prime-counting approximation R(x) (x >= 2; float, or ``mpfr`` beyond float64)."""
    v = _as_positive(x, "x")
    return _to_float_or_mpfr(_r_mpfr(v, 64))


def density_mass(a: int, b: int, kind: str = "li"):
    """Approximate number of primes in [a, b): F(b) - F(a) for F = li or R, as an ``mpfr``
    with ~64 significant bits whatever the size of a."""
    if kind not in ("li", "R"):
        raise ValueError(f"kind must be 'li' or 'R', got {kind!r}")
    if not 2 <= a < b:
        raise ValueError(f"need 2 <= a < b, got a={a}, b={b}")
    # li(b) - li(a) ~ (b - a)/ln b while li(b) ~ b/ln b: the subtraction cancels about
    # log2(b / (b - a)) bits, so carry that many more than the 64 we want to keep
    prec = max(b.bit_length() - (b - a).bit_length(), 0) + 72
    f = _li_mpfr if kind == "li" else _r_mpfr
    with gmpy2.context(gmpy2.get_context(), precision=prec):
        return f(b, prec) - f(a, prec)


def density_masses(edges, kind: str = "li") -> np.ndarray:
    """Masses of the intervals [e_0, e_1), [e_1, e_2), ... divided by e_0 (floats).

    Only ratios of masses matter to a sampler, and dividing by the first edge keeps them within
    float range for numbers of any size.  Edges are increasing ints >= 2.

    Edges below 2**256 use MPFR (``density_mass``).  Above, ``li(b) - li(a)`` is written as
    ``a * integral_0^D e^s / (ln a + s) ds`` with ``D = ln(b/a)`` (substitute t = a*e^s), and the
    smooth integral is done by 24-point Gauss-Legendre quadrature in float64: the integrand's
    only singularity is at s = -ln a, more than 170 half-widths away, so the quadrature is exact
    to rounding.  There R and li agree to better than 2**-120 relative (the n >= 2 terms of R'
    are about x**(-1/2) of the first), so ``kind='R'`` takes the same route.
    """
    if kind not in ("li", "R"):
        raise ValueError(f"kind must be 'li' or 'R', got {kind!r}")
    e = [int(x) for x in edges]
    if len(e) < 2 or e[0] < 2 or any(b <= a for a, b in zip(e, e[1:])):
        raise ValueError("edges must be at least two increasing integers >= 2")
    e0 = e[0]
    if e[-1].bit_length() <= MPFR_BITS_LIMIT:
        out = []
        for a, b in zip(e, e[1:]):
            m = density_mass(a, b, kind)
            out.append(float(m / e0))
        return np.array(out)
    out = np.empty(len(e) - 1)
    for i, (a, b) in enumerate(zip(e, e[1:])):
        la = math.log(a)
        d = math.log1p((b - a) / a)
        s = 0.5 * d * (_GL_NODES + 1.0)
        integral = 0.5 * d * float(np.dot(_GL_WEIGHTS, np.exp(s) / (la + s)))
        out[i] = (a / e0) * integral
    return out
