"""Prime-density approximations: the logarithmic integral li(x) and Riemann's R(x).

Both are evaluated with MPFR through gmpy2, so they work far beyond float64's range (x of
thousands of digits).

``li(x) = Ei(ln x)`` (``gmpy2.eint``).

``R(x) = sum_{n>=1} mu(n)/n li(x**(1/n))`` is evaluated by **Gram's series**

    R(x) = 1 + sum_{k>=1} (ln x)**k / (k * k! * zeta(k + 1)),

which follows from the Moebius series by expanding each li(x**(1/n)) = Ei(ln(x)/n) and summing
over n first (sum mu(n)/n**(k+1) = 1/zeta(k+1)).  The Moebius series itself cannot be cut off
where x**(1/n) < 2, as an earlier version did: its terms decay only like ln(n)/n (li(y) -> -inf
as y -> 1+), the cut moved by a whole term at every power of two, and R was off by ~0.5 at
x = 2 and ~0.05 near 1e6 (density masses of intervals next to a power of two were wrong by
much more).  Gram's terms are positive for x > 1, grow until k ~ ln x and then fall off
factorially, so the sum is stopped once k > 2 ln x and a term is below 2**-(p + 12) of the sum,
at a working precision of p + 20 + log2(terms) bits (plus ln(1/x)/ln 2 for x < 1, where the
terms alternate); zeta(k + 1) comes from MPFR (cached) while 2**-(k+1) matters and is 1 +
2**-(k+1) + 3**-(k+1) beyond.  For x >= 2**(2p + 32) the correction R(x) - li(x) ~ -li(sqrt x)/2
is below 2**-(p + 15) of li(x) (mpmath's ``riemannr`` makes the same cut) and R(x) = li(x)
there.  Tested against ``mpmath.riemannr`` at random x and at 2**k +- 1 for k up to 4000.

For the approximate sampler what matters is the *mass of an interval*, ``density_mass(a, b)``:
``li(b) - li(a)`` (or the same for R), returned as an ``mpfr`` with ~64 significant bits however
small b - a is next to a:

* li, a <= 2**256 or b - a >= a/16: MPFR at log2(b / (b - a)) + 72 bits, the bits the subtraction
  cancels plus 72;
* li, a > 2**256 and b - a < a/16: ``li(b) - li(a) = a D J`` with D = ln(b/a) = log1p((b-a)/a) and
  J = (1/D) integral_0^D e^u / (ln a + u) du = sum_n c_n D**n / (n + 1), where the Taylor
  coefficients of e^u/(ln a + u) satisfy c_0 = 1/ln a, c_n = (1/n! - c_{n-1}) / ln a (multiply
  by ln a + u); here D/ln a < 4e-4, so a dozen terms give full precision and nothing cancels;
* R, a >= 2**160: the li mass (R' = li' (1 - 1/(2 sqrt u) + ...), a relative difference below
  2**-81);
* R, b >= 2a: R(b) - R(a) at 96 bits (nothing cancels);
* R otherwise (a < 2**160): Gram's series of the difference, sum_k (L_b**k - L_a**k)/(k k!
  zeta(k+1)) with L = ln, where L_b**k - L_a**k = L_b (L_b**(k-1) - L_a**(k-1)) + d L_a**(k-1)
  (d = L_b - L_a = log1p((b-a)/a)) is built term by term from positive quantities, so the
  difference costs no precision at all.

``density_masses(edges)`` gives the masses of consecutive intervals as shares of their total
(floats summing to 1): what a sampler turns into probabilities.  They are computed as
logarithms (the masses of 1000-wide blocks of 330-digit numbers, divided by anything of the
size of the numbers, are below float64's range), then exponentiated relative to the largest.

>>> round(li(10**6))
78628
>>> round(riemann_r(10**6))
78527
"""
from __future__ import annotations

import functools
import math
import numbers

import gmpy2
import numpy as np

from ._util.validate import as_int, as_real, as_sequence, short

__all__ = ["li", "riemann_r", "density_mass", "density_masses"]

MPFR_BITS_LIMIT = 256     # li masses of edges up to this many bits by MPFR subtraction (module docstring)
R_AS_LI_BITS = 160        # R masses of intervals starting at or above 2**160 are li masses
_MASS_BITS = 64           # significant bits of a density_mass


def _check_kind(kind) -> str:
    if not isinstance(kind, str):
        raise TypeError(f"kind must be 'li' or 'R', not {type(kind).__name__}")
    if kind not in ("li", "R"):
        raise ValueError(f"kind must be 'li' or 'R', got {short(kind)}")
    return kind


def _li_mpfr(x, prec: int):
    with gmpy2.context(gmpy2.get_context(), precision=prec):
        return gmpy2.eint(gmpy2.log(gmpy2.mpfr(x)))


@functools.lru_cache(maxsize=4096)
def _zeta_int(s: int, prec: int):
    """zeta(s) for an integer s >= 2 at ``prec`` bits (MPFR while 2**-s matters)."""
    with gmpy2.context(gmpy2.get_context(), precision=prec):
        if s <= prec + 2:
            return gmpy2.zeta(gmpy2.mpfr(s))
        return 1 + gmpy2.exp2(-s) + gmpy2.mpfr(3) ** (-s)


def _gram(log_x, prec: int):
    """1 + sum_k L**k / (k k! zeta(k+1)) for L = ``log_x`` (an mpfr at the working precision)."""
    L = log_x
    absL = abs(L)
    total = gmpy2.mpfr(1)
    power = gmpy2.mpfr(1)            # L**k / k!
    tiny = gmpy2.exp2(-(prec + 12))
    k = 0
    while True:
        k += 1
        power = power * L / k
        term = power / (k * _zeta_int(k + 1, prec))
        total += term
        if k > 2 * absL + 2 and abs(term) <= tiny * abs(total):
            return total


def _r_mpfr(x, prec: int):
    """R(x) to ``prec`` bits relative (module docstring)."""
    xm = gmpy2.mpfr(x, precision=max(prec + 64, 64))
    if xm >= gmpy2.exp2(2 * prec + 32):
        return _li_mpfr(x, prec + 8)
    with gmpy2.context(gmpy2.get_context(), precision=prec + 20):
        L = gmpy2.log(gmpy2.mpfr(x))
    extra = int(-float(L) * 1.4427) + 1 if L < 0 else 0        # alternating terms up to e**|L|
    terms = int(2.72 * abs(float(L))) + prec + 16
    work = prec + 20 + terms.bit_length() + extra
    with gmpy2.context(gmpy2.get_context(), precision=work):
        return _gram(gmpy2.log(gmpy2.mpfr(x)), work)


def _r_mass_gram(a: int, b: int, prec: int):
    """R(b) - R(a) for 2 <= a < b by Gram's series of the difference (positive terms only)."""
    with gmpy2.context(gmpy2.get_context(), precision=prec):
        am = gmpy2.mpfr(a)
        d = gmpy2.log1p(gmpy2.mpfr(b - a) / am)      # L_b - L_a, no cancellation
        la = gmpy2.log(am)
        lb = la + d
        diff = gmpy2.mpfr(0)       # (L_b**k - L_a**k) / k!
        pa = gmpy2.mpfr(1)         # L_a**k / k!
        total = gmpy2.mpfr(0)
        tiny = gmpy2.exp2(-(prec + 12))
        k = 0
        while True:
            k += 1
            diff = (lb * diff + d * pa) / k
            pa = pa * la / k
            term = diff / (k * _zeta_int(k + 1, prec))
            total += term
            if k > 2 * lb + 2 and term <= tiny * total:
                return total


def _li_mass_series(a: int, b: int, prec: int):
    """li(b) - li(a) = a D J for a > 2**256 and b - a < a/16 (module docstring)."""
    with gmpy2.context(gmpy2.get_context(), precision=prec):
        am = gmpy2.mpfr(a)
        D = gmpy2.log1p(gmpy2.mpfr(b - a) / am)
        la = gmpy2.log(am)
        c = 1 / la
        J = c
        fact = gmpy2.mpfr(1)
        dn = gmpy2.mpfr(1)
        tiny = gmpy2.exp2(-(prec + 8))
        n = 0
        while True:
            n += 1
            fact = fact / n                   # 1/n!
            c = (fact - c) / la
            dn = dn * D
            term = c * dn / (n + 1)
            J += term
            if abs(term) <= tiny * J:
                return am * D * J


def _as_positive(x, name):
    if isinstance(x, (float, np.floating)):
        v = as_real(x, name)
        if not v > 0:
            raise ValueError(f"{name} must be > 0, got {v!r}")
        return v
    if isinstance(x, numbers.Real) and not isinstance(x, numbers.Integral):
        raise TypeError(f"{name} must be an int or a float, not {type(x).__name__}")
    v = as_int(x, name)
    if v <= 0:
        raise ValueError(f"{name} must be > 0, got {short(v)}")
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
    """Riemann's prime-counting approximation R(x) (x > 0; int or float), by Gram's series (see
    the module docstring).  Returns a float, or an ``mpfr`` when the value exceeds float64's range.

    >>> round(riemann_r(2), 6), round(riemann_r(2**23 - 1))
    (1.541009, 564178)
    """
    v = _as_positive(x, "x")
    return _to_float_or_mpfr(_r_mpfr(v, 64))


def _interval(a, b) -> tuple[int, int]:
    a, b = as_int(a, "a"), as_int(b, "b")
    if not 2 <= a < b:
        raise ValueError(f"need 2 <= a < b, got a={short(a)}, b={short(b)}")
    return a, b


def _li_mass(a: int, b: int):
    if a.bit_length() > MPFR_BITS_LIMIT and 16 * (b - a) < a:
        return _li_mass_series(a, b, _MASS_BITS + 16)
    # li(b) - li(a) ~ (b - a)/ln b while li(b) ~ b/ln b: the subtraction cancels about
    # log2(b / (b - a)) bits, so carry that many more than the 64 we want to keep
    prec = max(b.bit_length() - (b - a).bit_length(), 0) + _MASS_BITS + 8
    with gmpy2.context(gmpy2.get_context(), precision=prec):
        return _li_mpfr(b, prec) - _li_mpfr(a, prec)


def _r_mass(a: int, b: int):
    if a.bit_length() > R_AS_LI_BITS:
        return _li_mass(a, b)
    prec = _MASS_BITS + 32
    if b >= 2 * a:
        with gmpy2.context(gmpy2.get_context(), precision=prec):
            return _r_mpfr(b, prec) - _r_mpfr(a, prec)
    return _r_mass_gram(a, b, prec)


def density_mass(a, b, kind: str = "li"):
    """Approximate number of primes in [a, b): F(b) - F(a) for F = li or R (ints 2 <= a < b), as
    an ``mpfr`` with ~64 significant bits whatever the size of a and b - a (module docstring).

    >>> float(density_mass(2**23 - 1, 2**23, "R"))  # doctest: +ELLIPSIS
    0.0627...
    """
    kind = _check_kind(kind)
    a, b = _interval(a, b)
    return _li_mass(a, b) if kind == "li" else _r_mass(a, b)


def _log_mass(a: int, b: int, kind: str) -> float:
    """ln of the density mass of [a, b) (float; exact to float rounding)."""
    if a.bit_length() <= MPFR_BITS_LIMIT or 16 * (b - a) >= a:
        m = _li_mass(a, b) if kind == "li" else _r_mass(a, b)
        return float(gmpy2.log(m))
    # a D J with D = log1p(r), r = (b - a)/a: ln(a D) = ln(b - a) + ln(log1p(r)/r), all in float
    # (math.log takes ints of any size; r may underflow to 0, where log1p(r)/r -> 1)
    la = math.log(a)
    r = math.exp(math.log(b - a) - la)
    ratio = math.log1p(r) / r if r > 0 else 1.0
    D = r * ratio
    c = 1.0 / la
    J, fact, dn, n = c, 1.0, 1.0, 0
    while True:
        n += 1
        fact /= n
        c = (fact - c) / la
        dn *= D
        term = c * dn / (n + 1)
        J += term
        if abs(term) <= 1e-18 * J:
            break
    return math.log(b - a) + math.log(ratio) + math.log(J)


def density_masses(edges, kind: str = "li") -> np.ndarray:
    """Masses of the intervals [e_0, e_1), [e_1, e_2), ... as shares of their total (floats
    summing to 1): only ratios of masses matter to a sampler.

    Edges are increasing ints >= 2 (floats are refused, not truncated).  Each mass is computed
    as a logarithm (``density_mass`` below 2**256, the series a D J of the module docstring
    above), so blocks of numbers of any size keep their ratios; R and li masses agree to better
    than 2**-120 relative above 2**256, so ``kind='R'`` takes the same route there.

    >>> density_masses([2, 10, 100]).round(4).tolist()
    [0.1761, 0.8239]
    """
    kind = _check_kind(kind)
    e = [as_int(x, f"edges[{i}]") for i, x in enumerate(as_sequence(edges, "edges", "a sequence of ints"))]
    if len(e) < 2 or e[0] < 2 or any(b <= a for a, b in zip(e, e[1:])):
        raise ValueError("edges must be at least two increasing integers >= 2")
    logs = np.array([_log_mass(a, b, kind) for a, b in zip(e, e[1:])])
    w = np.exp(logs - logs.max())
    return w / w.sum()
