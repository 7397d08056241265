"""Argument validation shared by the public API.

Rules (ARCHITECTURE.md, "Errors"): integers are Python ``int``, numpy integer scalars or other
``numbers.Integral`` types (``gmpy2.mpz``); ``bool`` (and ``numpy.bool_``) is *not* an integer
here; floats, ``Fraction``, ``Decimal`` and strings are refused even when integral (7.0), never
truncated.  Every message names the argument and the allowed range, and shows huge numbers
shortened (``short``): a message never hits CPython's int/str conversion limit.

Big numbers as text
-------------------
CPython refuses ``str(int)`` and ``int(str)`` beyond 4300 decimal digits (``sys.int_info``);
``int_to_str`` / ``str_to_int`` convert through gmpy2 (``mpz.digits(base)``, ``mpz(s, base)``),
which has no such limit and is subquadratic, so numbers of up to ``MAX_DIGITS`` digits work.
"""
from __future__ import annotations

import math
import numbers
import operator
import os

import gmpy2
import numpy as np

U64_MAX = (1 << 64) - 1
TWO64 = 1 << 64

_SAFE_STR_BITS = 13_000     # below this, str(int) / int(str) are far inside CPython's 4300-digit limit


def int_to_str(value: int, base: int = 10) -> str:
    """Digits of an int in ``base`` (2..36, lower-case letters), of any size (gmpy2 beyond
    CPython's int/str limit)."""
    if base == 10 and value.bit_length() < _SAFE_STR_BITS:
        return str(value)
    return gmpy2.mpz(value).digits(base)


def str_to_int(text: str, base: int = 10) -> int:
    """The int written by the digit string ``text`` in ``base``, of any length (gmpy2 beyond
    CPython's int/str limit).  The caller has checked that ``text`` holds digits of the base."""
    if len(text) < 3900:
        return int(text, base)
    return int(gmpy2.mpz(text, base))


def short(value, limit: int = 60) -> str:
    """``value`` for an error message: ints of more than ``limit`` digits as their first and
    last digits and their length; other values by ``repr``, cut to ``limit`` characters."""
    if isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)):
        v = operator.index(value)
        if v.bit_length() < 3 * limit:
            return str(v)
        s = gmpy2.mpz(abs(v)).digits(10)
        if len(s) <= limit:
            return ("-" if v < 0 else "") + s
        return f"{'-' if v < 0 else ''}{s[:10]}...{s[-10:]} (a {len(s)}-digit integer)"
    try:
        text = repr(value)
    except Exception:          # a repr that fails must not hide the real error
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


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
        lo_s = "-inf" if lo is None else short(lo)
        hi_s = "inf" if hi is None else short(hi)
        raise ValueError(f"{name} must be in [{lo_s}, {hi_s}], got {short(v)}")
    return v


def as_real(value, name: str, lo: float | None = None, hi: float | None = None, *, open_lo: bool = False,
            open_hi: bool = False) -> float:
    """A finite real number (int, float, numpy scalar, Fraction; not bool, str or complex) as a
    float, with an optional range check (``open_lo`` / ``open_hi`` exclude the bounds)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, not {type(value).__name__}")
    try:
        v = float(value)
    except (OverflowError, ValueError):
        raise ValueError(f"{name} must be a finite real number, got {short(value)}") from None
    if not math.isfinite(v):
        raise ValueError(f"{name} must be a finite real number, got {v}")
    bad_lo = lo is not None and (v <= lo if open_lo else v < lo)
    bad_hi = hi is not None and (v >= hi if open_hi else v > hi)
    if bad_lo or bad_hi:
        left = "(" if open_lo else "["
        right = ")" if open_hi else "]"
        raise ValueError(f"{name} must be in {left}{'-inf' if lo is None else lo}, {'inf' if hi is None else hi}"
                         f"{right}, got {v!r}")
    return v


def as_bool(value, name: str) -> bool:
    """``True`` / ``False`` (or numpy bools); anything else is a TypeError (no truthiness)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise TypeError(f"{name} must be True or False, not {type(value).__name__}")


def as_str(value, name: str) -> str:
    """A ``str``; anything else (bytes, numbers, None) is a TypeError naming ``name``."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, not {type(value).__name__}")
    return value


def as_sequence(value, name: str, what: str = "a sequence") -> list:
    """The items of a list, tuple, array (1-d or more) or other iterable as a list; a str,
    bytes, a 0-d array or a non-iterable is a TypeError naming ``name``."""
    if isinstance(value, (str, bytes)) or (isinstance(value, np.ndarray) and value.ndim == 0):
        raise TypeError(f"{name} must be {what}, not {type(value).__name__}")
    try:
        return list(value)
    except TypeError:
        raise TypeError(f"{name} must be {what}, not {type(value).__name__}") from None


def as_choice(value, name: str, choices: tuple) -> str:
    """One of the strings ``choices`` (TypeError for a non-str, ValueError for another str)."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be one of {choices}, not {type(value).__name__}")
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {short(value)}")
    return value


def physical_memory() -> int:
    """Bytes of RAM of this machine (2**40 when the OS does not say)."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, OSError, ValueError):
        return 1 << 40


def check_result_size(count: int, bytes_each: float, name: str, what: str = "the result") -> None:
    """Refuse, before any work, a ``count`` whose result (``bytes_each`` bytes per item) cannot
    fit in this machine's memory: a ValueError naming ``name`` instead of a MemoryError after
    seconds or minutes of work."""
    have = physical_memory()
    if count * bytes_each > have:
        gib = math.log10(count) + math.log10(bytes_each) - math.log10(2**30)     # count may be astronomic
        need = f"{10 ** gib:.3g}" if gib < 300 else f"10**{gib:.0f}"
        raise ValueError(f"{name}={short(count)} would need about {need} GiB for {what}, more than the "
                         f"{have / 2**30:.3g} GiB of memory of this machine")


MAX_DIGITS = 100_000  # numbers of up to 10**5 digits: far beyond any exact route, still tractable


def check_digits(digits, name: str = "digits") -> int:
    """A number length n with 1 <= n <= MAX_DIGITS (larger n would build astronomic integers)."""
    n = as_int(digits, name)
    if not 1 <= n <= MAX_DIGITS:
        raise ValueError(f"{name} must be in [1, {MAX_DIGITS}], got {short(n)}")
    return n


def check_base(base, name: str = "base") -> int:
    """A radix in 2..36 (digits 0-9 then a-z)."""
    b = as_int(base, name)
    if not 2 <= b <= 36:
        raise ValueError(f"{name} must be in [2, 36], got {short(b)}")
    return b
