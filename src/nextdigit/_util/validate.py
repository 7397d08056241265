"""Argument validation shared by the public API.

Rules (ARCHITECTURE.md, "Errors"): integers are Python ``int`` or numpy integer scalars; ``bool``
(and ``numpy.bool_``) is *not* an integer here; floats are refused even when integral (7.0), never
truncated.  Every message names the argument and the allowed range.
"""
from __future__ import annotations

import numbers
import operator

import numpy as np

U64_MAX = (1 << 64) - 1
TWO64 = 1 << 64


def as_int(value, name: str) -> int:
    """Return ``value`` as a Python int, or raise TypeError naming ``name``."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be an integer, not bool")
    if isinstance(value, int):
        return int(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, numbers.Integral):  # e.g. gmpy2.mpz
        return operator.index(value)
    raise TypeError(f"{name} must be an integer, not {type(value).__name__}")


def as_int_in(value, name: str, lo: int | None = None, hi: int | None = None) -> int:
    """``as_int`` plus a range check lo <= value <= hi (either bound may be None)."""
    v = as_int(value, name)
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        lo_s = "-inf" if lo is None else str(lo)
        hi_s = "inf" if hi is None else str(hi)
        raise ValueError(f"{name} must be in [{lo_s}, {hi_s}], got {v}")
    return v


MAX_DIGITS = 100_000  # numbers of up to 10**5 digits: far beyond any exact route, still tractable


def check_digits(digits, name: str = "digits") -> int:
    """A number length n with 1 <= n <= MAX_DIGITS (larger n would build astronomic integers)."""
    n = as_int(digits, name)
    if not 1 <= n <= MAX_DIGITS:
        raise ValueError(f"{name} must be in [1, {MAX_DIGITS}], got {n}")
    return n


def check_base(base, name: str = "base") -> int:
    """A radix in 2..36 (digits 0-9 then a-z)."""
    b = as_int(base, name)
    if not 2 <= b <= 36:
        raise ValueError(f"{name} must be in [2, 36], got {b}")
    return b
