"""Prefix counts: how many n-digit primes start with a prefix, and how they split by next digit.

A prefix ``P`` of k digits (in ``base``) and a length n >= k define the interval
``[P * base**(n-k), (P+1) * base**(n-k))`` of the n-digit numbers that start with P; the empty
prefix stands for all n-digit numbers ``[base**(n-1), base**n)``.  Every function here reduces to
exact prime counts on such intervals, so they inherit the counting engine's routes (segmented
sieve below 2**64, sieve-plus-BPSW windows above; see ``nextdigit.counting``) and its limits:
an interval too long to count exactly raises ``ValueError`` naming the approximate route.

* ``prefix_count(prefix, digits)``: one count;
* ``digit_counts(prefix, digits)``: the ``base`` counts of the next digit, from one histogram
  pass over the prefix's interval;
* ``digit_counts_batch(prefixes, digits)``: an (m, base) array; prefixes that are consecutive
  integers of one length share a single histogram pass, others are counted one by one (the
  sieving primes are cached between calls either way);
* ``prefix_table(digits, depth)``: for every prefix length k <= depth, the next-digit counts of
  every k-digit prefix, from one histogram pass over all n-digit numbers (the finest level is
  counted, coarser levels are sums of it).

Every function takes ``threads=None`` (all usable cores; 1 for a single-threaded run), passed on
to the counting engine: the sieve below 2**64 and the survivors' BPSW lanes above.

Prefixes are strings of digits (``"0"-"9"``, then ``"a"-"z"`` for bases above 10, case
insensitive) or positive ints.  A leading zero, a character that is not a digit of the base, a
prefix longer than ``digits`` (or as long, for the next-digit functions), ``digits < 1`` and a
base outside 2..36 raise ``ValueError``.
"""
from __future__ import annotations

import numpy as np

from ._util.validate import as_int, check_base, check_digits
from .counting import count_primes, prime_histogram

__all__ = ["prefix_count", "digit_counts", "digit_counts_batch", "prefix_table", "prefix_interval"]

_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


_check_base = check_base
_check_digits = check_digits


def _parse_prefix(prefix, base: int, name: str = "prefix") -> tuple[int, int]:
    """(value, length) of a prefix given as a digit string or a positive int."""
    if isinstance(prefix, str):
        s = prefix.strip().lower()
        if s == "":
            return 0, 0
        for ch in s:
            if ch not in _DIGITS[:base]:
                raise ValueError(f"{name} {prefix!r} has {ch!r}, which is not a base-{base} digit")
        if s[0] == "0":
            raise ValueError(f"{name} {prefix!r} has a leading zero (n-digit numbers start with 1..{_DIGITS[base - 1]})")
        return int(s, base), len(s)
    v = as_int(prefix, name)
    if v < 1:
        raise ValueError(f"{name} must be a positive int or a digit string, got {v}")
    length = 0
    t = v
    while t:
        t //= base
        length += 1
    return v, length


def prefix_interval(prefix, digits, base=10) -> tuple[int, int]:
    """The half-open interval [lo, hi) of the ``digits``-digit numbers starting with ``prefix``.

    >>> prefix_interval("12", 4)
    (1200, 1300)
    >>> prefix_interval("", 3)
    (100, 1000)
    """
    b = _check_base(base)
    n = _check_digits(digits)
    v, k = _parse_prefix(prefix, b)
    if k > n:
        raise ValueError(f"prefix has {k} digits, more than digits={n}")
    if k == 0:
        return b ** (n - 1), b**n
    scale = b ** (n - k)
    return v * scale, (v + 1) * scale


def prefix_count(prefix, digits, base=10, *, threads=None) -> int:
    """Number of primes with exactly ``digits`` digits (in ``base``) that start with ``prefix``.

    >>> prefix_count("", 3), prefix_count("1", 3), prefix_count("97", 2)
    (143, 21, 1)
    """
    lo, hi = prefix_interval(prefix, digits, base)
    return int(count_primes(lo, hi, threads=threads))


def digit_counts(prefix, digits, base=10, *, threads=None) -> np.ndarray:
    """Exact counts (uint64 array of length ``base``) of ``digits``-digit primes starting with
    ``prefix`` followed by each possible next digit.

    >>> digit_counts("", 2).tolist()
    [0, 4, 2, 2, 3, 2, 2, 3, 2, 1]
    """
    b = _check_base(base)
    n = _check_digits(digits)
    v, k = _parse_prefix(prefix, b)
    if k >= n:
        raise ValueError(f"prefix has {k} digits; a next digit needs fewer than digits={n}")
    width = b ** (n - k - 1)
    lo = v * b * width if k else 0
    if k == 0:
        # the first digit: buckets [d * base**(n-1), (d+1) * base**(n-1)) for d = 0..base-1,
        # where d = 0 holds no n-digit number (numbers below base**(n-1) are shorter)
        counts = np.zeros(b, dtype=np.uint64)
        counts[1:] = prime_histogram(width, width, b - 1, threads=threads)
        return counts
    return np.asarray(prime_histogram(lo, width, b, threads=threads), dtype=np.uint64)


def digit_counts_batch(prefixes, digits, base=10, *, threads=None) -> np.ndarray:
    """(m, base) uint64 array: ``digit_counts`` for each of m prefixes.

    Prefixes of equal length that form a run of consecutive integers are counted by one
    histogram pass over their union.

    >>> digit_counts_batch(["1", "2"], 3).sum(axis=1).tolist()
    [21, 16]
    """
    b = _check_base(base)
    n = _check_digits(digits)
    if isinstance(prefixes, (str, bytes)):
        raise TypeError("prefixes must be a sequence of prefixes, not a single string")
    parsed = [_parse_prefix(p, b, f"prefixes[{i}]") for i, p in enumerate(prefixes)]
    m = len(parsed)
    out = np.zeros((m, b), dtype=np.uint64)
    for i, (_, k) in enumerate(parsed):
        if k >= n:
            raise ValueError(f"prefixes[{i}] has {k} digits; a next digit needs fewer than digits={n}")
    i = 0
    while i < m:
        v, k = parsed[i]
        j = i + 1
        if k > 0:
            while j < m and parsed[j][1] == k and parsed[j][0] == v + (j - i):
                j += 1
        if k == 0 or j == i + 1:
            out[i] = digit_counts("" if k == 0 else _to_str(v, b), n, b, threads=threads)
        else:
            width = b ** (n - k - 1)
            hist = prime_histogram(v * b * width, width, (j - i) * b, threads=threads)
            out[i:j] = np.asarray(hist, dtype=np.uint64).reshape(j - i, b)
        i = j
    return out


def prefix_table(digits, depth, base=10, *, threads=None) -> list[np.ndarray]:
    """Next-digit counts of every prefix of length 0..depth of the ``digits``-digit primes.

    Returns ``tables`` with ``tables[k]`` of shape ``((base-1) * base**(k-1), base)`` for
    k >= 1 (row r is the prefix ``base**(k-1) + r``) and ``tables[0]`` of shape (1, base) (the
    first digit).  One histogram pass counts the finest level; coarser levels are its sums.

    >>> t = prefix_table(3, 1)
    >>> t[0].tolist(), int(t[1].sum())
    ([[0, 21, 16, 16, 17, 14, 16, 14, 15, 14]], 143)
    """
    b = _check_base(base)
    n = _check_digits(digits)
    d = as_int(depth, "depth")
    if not 0 <= d < n:
        raise ValueError(f"depth must be in [0, digits-1] = [0, {n - 1}], got {d}")
    width = b ** (n - d - 1)
    m = (b - 1) * b**d
    finest = np.asarray(prime_histogram(b ** (n - 1), width, m, threads=threads), dtype=np.uint64)
    tables = [None] * (d + 1)
    level = finest.reshape(-1, b)          # rows: prefixes of length d (+ leading digit 1..b-1)
    for k in range(d, 0, -1):
        tables[k] = level
        level = level.sum(axis=1, dtype=np.uint64).reshape(-1, b) if k > 1 else level.sum(axis=1, dtype=np.uint64)
    first = np.zeros((1, b), dtype=np.uint64)
    first[0, 1:] = level if d >= 1 else finest
    tables[0] = first
    return tables


def _to_str(v: int, base: int) -> str:
    s = []
    while v:
        v, r = divmod(v, base)
        s.append(_DIGITS[r])
    return "".join(reversed(s))
