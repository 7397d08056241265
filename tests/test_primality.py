"""is_prime / next_prime / prev_prime against independent oracles (plain sieve, gmpy2, sympy,
the pseudoprime lists in ../shared/reference)."""
from __future__ import annotations

import doctest
import subprocess
import sys

import gmpy2
import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import nextdigit
from nextdigit import is_prime, next_prime, prev_prime
from nextdigit import primality as primality_module

from conftest import read_reference

U64_MAX = 2**64 - 1


def gmpy_array(values) -> np.ndarray:
    return np.array([bool(gmpy2.is_prime(int(v))) for v in values])


# --- exhaustive and windowed agreement --------------------------------------------------------
@pytest.mark.parametrize("threads", [1, 2])
def test_every_n_below_1e7_matches_plain_sieve(sieve_1e7, threads):
    got = is_prime(np.arange(10**7, dtype=np.uint64), threads=threads)
    assert got.dtype == np.bool_
    mismatch = np.flatnonzero(got != sieve_1e7)
    assert mismatch.size == 0, f"first mismatches: {mismatch[:10]}"
    assert int(got.sum()) == 664579  # pi(10^7)


@pytest.mark.parametrize("start", [2**32 - 500_000, 2**50, 2**64 - 10**6])
def test_window_of_1e6_matches_gmpy2(start):
    vals = np.uint64(start) + np.arange(10**6, dtype=np.uint64)
    assert int(vals[-1]) <= U64_MAX
    got = is_prime(vals)
    # gmpy2 on the odd entries only (evens > 2 are trivially composite and checked below)
    odd = vals[vals % 2 == 1]
    assert np.array_equal(got[vals % 2 == 1], gmpy_array(odd))
    assert not got[vals % 2 == 0].any()


def test_random_u64_match_gmpy2():
    rng = np.random.default_rng(20261126)
    vals = rng.integers(0, 2**64, size=10**6, dtype=np.uint64, endpoint=False)
    vals[::2] |= np.uint64(1)  # half odd to make primes (and base-2 survivors) common
    got = is_prime(vals, threads=2)
    assert np.array_equal(got, gmpy_array(vals))


def test_scalar_path_equals_batch_path():
    rng = np.random.default_rng(7)
    vals = rng.integers(0, 2**64, size=20_000, dtype=np.uint64) | np.uint64(1)
    batch = is_prime(vals)
    assert [is_prime(int(v)) for v in vals] == batch.tolist()


# --- pseudoprimes ---------------------------------------------------------------------------
def test_reference_pseudoprimes_are_composite():
    rows = read_reference("pseudoprimes.tsv")
    values = [int(v) for _, v in rows]
    kinds = {k for k, _ in rows}
    assert {"strong_base2", "strong_lucas_selfridge", "carmichael"} <= kinds
    assert len(values) > 400
    small = [v for v in values if v <= U64_MAX]
    assert not is_prime(np.array(small, dtype=np.uint64)).any()
    for v in values:
        assert is_prime(v) is False, v
        assert not gmpy2.is_prime(v)  # the reference agrees that they are composite


def test_strong_pseudoprimes_near_2_64_are_composite():
    # products of two primes just below 2^32 and squares of such primes: hard composites near
    # the top of the range (squares must be caught before the Lucas parameter search)
    rng = np.random.default_rng(3)
    vals = []
    while len(vals) < 2000:
        p = next_prime(int(rng.integers(2**31, 2**32)))
        q = next_prime(int(rng.integers(2**31, 2**32)))
        vals.append(p * q)
    assert not is_prime(np.array(vals, dtype=np.uint64)).any()
    squares = [next_prime(2**32 - 10**6 + i * 997) ** 2 for i in range(200)]
    assert not is_prime(np.array(squares, dtype=np.uint64)).any()
    assert not any(is_prime(s) for s in squares)


# --- near 2^64 and small cases ----------------------------------------------------------------
def test_values_near_2_64():
    near = [U64_MAX, U64_MAX - 58, U64_MAX - 57, 2**64 - 59, 2**64 - 83, 2**64 - 95, 2**63 - 25, 2**63 + 29]
    expected = [bool(gmpy2.is_prime(v)) for v in near]
    assert expected[3] is True  # 2^64 - 59 is the largest 64-bit prime
    assert [is_prime(v) for v in near] == expected
    assert is_prime(np.array(near, dtype=np.uint64)).tolist() == expected
    assert is_prime(near).tolist() == expected


def test_small_values_and_negatives():
    assert [is_prime(n) for n in range(-5, 12)] == [n in (2, 3, 5, 7, 11) for n in range(-5, 12)]
    assert is_prime(np.array([-7, -2, 0, 1, 2, 3], dtype=np.int64)).tolist() == [False] * 4 + [True] * 2
    for dt in (np.int8, np.int16, np.int32, np.uint8, np.uint16, np.uint32, np.uint64):
        a = np.arange(0, 100, dtype=dt)
        assert is_prime(a).tolist() == [bool(sympy.isprime(i)) for i in range(100)]


def test_shapes_and_sequences():
    a = np.arange(24, dtype=np.uint64).reshape(2, 3, 4)
    r = is_prime(a)
    assert r.shape == (2, 3, 4) and r.dtype == np.bool_
    assert is_prime(np.array([], dtype=np.uint64)).shape == (0,)
    assert is_prime([]).shape == (0,)
    assert is_prime(np.array(13)) is True
    mixed = [2**127 - 1, 2**64 - 59, 2**64 + 13, -3, 91, np.int64(97)]
    assert is_prime(mixed).tolist() == [True, True, True, False, False, True]
    assert is_prime(np.array(mixed, dtype=object)).tolist() == [True, True, True, False, False, True]


# --- big integers -----------------------------------------------------------------------------
def test_known_big_values():
    assert is_prime(2**127 - 1)
    assert is_prime(2**521 - 1)
    assert not is_prime(2**523 - 1)
    p = next_prime(10**299 + 12345)
    q = next_prime(3 * 10**299 + 777)
    assert len(str(p)) == 300 and len(str(q)) == 300
    assert is_prime(p) and is_prime(q)
    assert not is_prime(p * q)
    assert not is_prime(p * p)


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=1, max_value=4096).flatmap(lambda b: st.integers(min_value=-(2**b), max_value=2**b)))
def test_hypothesis_agrees_with_gmpy2(n):
    assert is_prime(n) == bool(gmpy2.is_prime(n))


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=2**70))
def test_hypothesis_next_prev_agree_with_gmpy2_and_sympy(n):
    assert next_prime(n) == int(gmpy2.next_prime(n)) == sympy.nextprime(n)
    if n > 2:
        assert prev_prime(n) == sympy.prevprime(n) == int(gmpy2.prev_prime(n))


def test_next_prev_prime_edges():
    assert next_prime(-10) == 2 and next_prime(0) == 2 and next_prime(1) == 2 and next_prime(2) == 3
    assert prev_prime(3) == 2 and prev_prime(4) == 3
    assert next_prime(2**64 - 60) == 2**64 - 59
    assert next_prime(2**64 - 59) == 2**64 + 13 == int(gmpy2.next_prime(2**64 - 59))
    assert next_prime(U64_MAX) == 2**64 + 13
    assert prev_prime(2**64) == 2**64 - 59 and prev_prime(U64_MAX) == 2**64 - 59
    assert prev_prime(2**64 + 13) == 2**64 - 59
    assert prev_prime(2**64 + 14) == 2**64 + 13
    rng = np.random.default_rng(11)
    for v in rng.integers(3, 2**64 - 100, size=300, dtype=np.uint64):
        v = int(v)
        assert next_prime(v) == int(gmpy2.next_prime(v))
        assert prev_prime(v) == int(gmpy2.prev_prime(v))
    big = 10**200 + 7
    assert next_prime(big) == int(gmpy2.next_prime(big)) and prev_prime(big) == int(gmpy2.prev_prime(big))


# --- bad input --------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [True, False, 7.0, 7.5, "7", None, b"7", 3 + 0j, np.float64(7), np.bool_(True)])
def test_bad_scalars_raise_type_error_naming_n(bad):
    for f in (is_prime, next_prime, prev_prime):
        with pytest.raises(TypeError, match=r"\bn\b"):
            f(bad)


@pytest.mark.parametrize("bad", [np.array([7.0]), np.array([True, False]), np.array(["7"]), [1, 2.0], [True], [None]])
def test_bad_arrays_raise_type_error(bad):
    with pytest.raises(TypeError, match=r"n"):
        is_prime(bad)


def test_prev_prime_of_2_and_below():
    for n in (2, 1, 0, -5):
        with pytest.raises(ValueError, match="n must be > 2"):
            prev_prime(n)


@pytest.mark.parametrize("threads", [0, -1, 1.5, True, "2"])
def test_bad_threads(threads):
    with pytest.raises((TypeError, ValueError), match="threads"):
        is_prime(np.arange(10, dtype=np.uint64), threads=threads)


def test_threads_none_and_explicit_agree():
    a = np.arange(10**6, 2 * 10**6, dtype=np.uint64)
    assert np.array_equal(is_prime(a), is_prime(a, threads=1))


# --- docs and CLI -----------------------------------------------------------------------------
def test_docstring_examples():
    failures, tried = doctest.testmod(primality_module)
    assert tried > 0 and failures == 0


def test_cli_isprime_json():
    out = subprocess.run(
        [sys.executable, "-m", "nextdigit", "isprime", "2^64-59", "2**64-1", "91", "--json"],
        check=True, capture_output=True, text=True,
    ).stdout
    import json

    assert json.loads(out) == [
        {"n": str(2**64 - 59), "prime": True},
        {"n": str(2**64 - 1), "prime": False},
        {"n": "91", "prime": False},
    ]


def test_cli_rejects_garbage():
    r = subprocess.run([sys.executable, "-m", "nextdigit", "isprime", "7.0"], capture_output=True, text=True)
    assert r.returncode == 2 and "not an integer expression" in r.stderr
    r = subprocess.run([sys.executable, "-m", "nextdigit", "prev-prime", "2"], capture_output=True, text=True)
    assert r.returncode == 2 and "n must be > 2" in r.stderr


def test_version():
    assert nextdigit.__version__
