"""Primality benchmarks: nextdigit's batch kernel vs gmpy2, python-flint and sympy loops.

Groups (same numbers within a group):
* ``u64 random odd``: 10^5 random odd 64-bit integers (seed 1);
* ``u64 primes``: 10^4 random 64-bit primes;
* ``512-bit`` / ``1024-bit`` / ``2048-bit``: 10^3 random odd integers of that size, nextdigit on
  each BPSW route (``ifma``, ``avx2``, ``portable``: our lanes; ``gmp``: gmpy2 behind our
  prefilter) beside the gmpy2 loop and python-flint's ``is_probable_prime`` loop;
* ``base-2 strong test``: the lanes' kernel alone (``_lanes.sprp2``) on each route against
  ``gmpy2.powmod(2, n - 1, n)`` on 64 random numbers (16 at 2048 bits);
* ``next_prime``: 20 random 333- and 1024-bit numbers, nextdigit vs ``gmpy2.next_prime``.
"""
import gmpy2
import numpy as np
import pytest
import sympy

import nextdigit

from conftest import ROUTES, bpsw_route, per_number

try:
    import flint
except ImportError:  # python-flint is a test extra
    flint = None

RNG_SEED = 1


def _u64_random_odd(count=10**5):
    rng = np.random.default_rng(RNG_SEED)
    return rng.integers(0, 2**64, size=count, dtype=np.uint64) | np.uint64(1)


def _u64_primes(count=10**4):
    rng = np.random.default_rng(RNG_SEED + 1)
    out = []
    while len(out) < count:
        v = int(rng.integers(2**63, 2**64 - 2**20, dtype=np.uint64))
        out.append(nextdigit.next_prime(v))
    return np.array(out, dtype=np.uint64)


def _big_random_odd(bits, count=10**3):
    rng = np.random.default_rng(bits)
    return [int.from_bytes(rng.bytes(bits // 8), "little") | 1 | (1 << (bits - 1)) for _ in range(count)]


U64_SETS = {"u64 random odd": _u64_random_odd, "u64 primes": _u64_primes}
_cache = {}


def u64_set(name):
    if name not in _cache:
        arr = U64_SETS[name]()
        _cache[name] = (arr, [int(v) for v in arr])
    return _cache[name]


def _gmpy_loop(vals):
    return [gmpy2.is_prime(v) for v in vals]


def _flint_loop(vals):
    return [flint.fmpz(v).is_prime() for v in vals]


def _flint_bpsw_loop(vals):
    """FLINT's BPSW-type probable-prime test (``fmpz_is_probabprime``), the peer of the big rows
    (``is_prime()`` proves primality above 2**64 and is not what gmpy2 or nextdigit compute)."""
    return [flint.fmpz(v).is_probable_prime() for v in vals]


def _sympy_loop(vals):
    return [sympy.isprime(v) for v in vals]


@pytest.mark.parametrize("group", list(U64_SETS))
@pytest.mark.parametrize(
    "contender", ["nextdigit batch 1 thread", "nextdigit batch all threads", "gmpy2 loop", "python-flint loop", "sympy loop"]
)
def test_u64(benchmark, group, contender):
    arr, ints = u64_set(group)
    benchmark.group = group
    expected = int(nextdigit.is_prime(arr, threads=1).sum())
    if contender == "nextdigit batch 1 thread":
        res = benchmark(nextdigit.is_prime, arr, threads=1)
    elif contender == "nextdigit batch all threads":
        res = benchmark(nextdigit.is_prime, arr, threads=None)
    elif contender == "gmpy2 loop":
        res = benchmark(_gmpy_loop, ints)
    elif contender == "python-flint loop":
        if flint is None:
            pytest.skip("python-flint not installed")
        res = benchmark(_flint_loop, ints)
    else:
        res = benchmark.pedantic(_sympy_loop, args=(ints,), rounds=3, iterations=1)
    assert int(np.sum(res)) == expected
    per_number(benchmark, len(ints))


@pytest.mark.parametrize("bits", [512, 1024, 2048])
@pytest.mark.parametrize(
    "contender",
    [f"nextdigit {r}" for r in ROUTES] + ["nextdigit all threads", "gmpy2 is_prime loop", "python-flint is_probable_prime loop", "sympy loop"],
)
def test_big(benchmark, bits, contender):
    vals = _big_random_odd(bits)
    benchmark.group = f"{bits}-bit random odd"
    expected = sum(bool(gmpy2.is_prime(v)) for v in vals)
    rounds = 7 if bits < 2048 else 3
    if contender == "nextdigit all threads":
        res = benchmark.pedantic(lambda: nextdigit.is_prime(vals, threads=None), rounds=rounds, iterations=1)
    elif contender.startswith("nextdigit"):
        with bpsw_route(contender.split()[1]):
            res = benchmark.pedantic(lambda: nextdigit.is_prime(vals, threads=1), rounds=rounds, iterations=1)
    elif contender == "gmpy2 is_prime loop":
        res = benchmark.pedantic(_gmpy_loop, args=(vals,), rounds=rounds, iterations=1)
    elif contender.startswith("python-flint"):
        if flint is None:
            pytest.skip("python-flint not installed")
        res = benchmark.pedantic(_flint_bpsw_loop, args=(vals,), rounds=rounds, iterations=1)
    else:
        if bits > 1024:
            pytest.skip("the sympy loop takes minutes at 2048 bits")
        res = benchmark.pedantic(_sympy_loop, args=(vals,), rounds=2, iterations=1)
    assert int(np.sum(res)) == expected
    per_number(benchmark, len(vals))


@pytest.mark.parametrize("bits", [352, 512, 1024, 2048])
@pytest.mark.parametrize("contender", [f"lanes {r}" for r in ROUTES[:3]] + ["gmpy2.powmod loop"])
def test_sprp2_kernel(benchmark, bits, contender):
    """The base-2 strong test alone: 64 random odd numbers (16 at 2048 bits), eight lanes busy."""
    from nextdigit import _bpsw, _lanes

    vals = _big_random_odd(bits, count=64 if bits < 2048 else 16)
    benchmark.group = f"base-2 strong test {bits}-bit"
    want = [bool(gmpy2.is_strong_prp(v, 2)) for v in vals]
    if contender.startswith("lanes"):
        route = contender.split()[1]
        if not _lanes.available(route):
            pytest.skip(f"this CPU cannot run the {route} route")
        rows = _bpsw.limbs_array(vals)
        res = benchmark.pedantic(lambda: _lanes.sprp2(route, rows), rounds=9, iterations=1)
        assert [bool(x) for x in res] == want
    else:
        mz = [gmpy2.mpz(v) for v in vals]
        benchmark.pedantic(lambda: [gmpy2.powmod(2, v - 1, v) for v in mz], rounds=9, iterations=1)
    per_number(benchmark, len(vals))


@pytest.mark.parametrize("bits", [333, 1024])
@pytest.mark.parametrize("contender", ["nextdigit next_prime", "gmpy2.next_prime"])
def test_next_prime_big(benchmark, bits, contender):
    """next_prime of 20 random numbers of ``bits`` bits (same numbers for both contenders)."""
    vals = _big_random_odd(bits, count=20)
    benchmark.group = f"next_prime, 20 random {bits}-bit numbers"
    f = nextdigit.next_prime if contender.startswith("nextdigit") else gmpy2.next_prime
    res = benchmark.pedantic(lambda: [int(f(v)) for v in vals], rounds=5, iterations=1)
    assert res == [int(gmpy2.next_prime(v)) for v in vals]
