"""Uniform random primes: the hidden-state reference of the essay.

``random_prime(digits)`` and ``random_primes(digits, size)`` draw exactly uniform candidates
among the ``digits``-digit numbers and keep the first prime: every prime of the range is equally
likely (rejection sampling on i.i.d. uniform candidates), with no autoregressive structure.

* Below 2**64 the whole search runs in C (``nextdigit._randprime``): exactly uniform integers
  (Lemire's method) on the mod-30030 wheel, branch-free trial division, base-2 strong tests four
  in lockstep and the Lucas half of BPSW (its module docstring argues why the law stays exact).
* Above, ``big_random_prime`` draws wheel indices from the Generator's raw 64-bit words with
  rejection (never by float scaling) and keeps the first prime in draw order.  On the lanes'
  routes the whole loop runs in C (``nextdigit._lanes.BigSearch``, ``nd_bigsearch.h``): trial
  division by the odd primes below a bound B (``_bpsw.rough_bound``, 2**12-2**13 at 100 digits)
  and the base-2 strong test eight at a time in the BPSW lanes (IFMA, AVX2 or portable C), the
  strong Lucas test of the first candidate that passes (``_bpsw._lucas_many``).  On the GMP
  route, and as the reference, the same loop in Python (``_big_random_prime_loop``: a residue
  prefilter 7..29 and ``_bpsw.first_prime`` on batches of eight).  Both give the same prime for
  the same seed and leave the generator in the same state (the C loop counts the Python loop's
  batches to consume the same words), so the route changes the speed, never the stream.

``nextdigit.tasks.primes.RandomizedPrimeModel`` (the stateless autoregressive sampler) calls the
same engines for every digit.
"""
from __future__ import annotations

import math
from concurrent.futures import Executor

import numpy as np

from . import _bpsw, _lanes, _randprime
from ._util.rng import as_generator
from ._util.validate import U64_MAX, as_int, check_base, check_digits

__all__ = ["random_prime", "random_primes", "big_random_prime"]

_WHEEL30 = (1, 7, 11, 13, 17, 19, 23, 29)
_P7_29 = 7 * 11 * 13 * 17 * 19 * 23 * 29      # < 2**30: a one-digit CPython division


def _check_digits_base(digits, base) -> tuple[int, int]:
    return check_digits(digits), check_base(base)


def big_random_prime(lo: int, hi: int, gen) -> int:
    """Uniform prime in [lo, hi) for lo > 30: exactly uniform candidates on the numbers
    coprime to 30 (an index into the mod-30 wheel from the aligned block below lo, rejected
    outside [lo, hi)), taking the first prime in draw order.  Every prime of the interval is a
    candidate and the candidates are independent, so the first prime drawn is uniform; the
    candidates drawn after it are discarded unseen.  (Candidates below 2**64, when [lo, hi)
    straddles it, stay in the same order, so "first in draw order" holds across the boundary.)
    The search runs in C on the lanes' routes (module docstring), in Python on GMP's."""
    route = _bpsw.ROUTE
    top = (hi - 1).bit_length()
    if route == "gmp" or top > _bpsw.max_bits() or hi <= 1 << 64 or lo <= 1 << 16:
        return _big_random_prime_loop(lo, hi, gen)
    base = lo - lo % 30
    slots = ((hi - 1 - base) // 30 + 1) * 8
    bound = max(31, min(_bpsw.rough_bound(top), 1 << 16))
    # small batches go to the portable route, where that route takes numbers of this size
    min_fill = _bpsw.MIN_FILL[route] if top <= _bpsw.max_bits("portable") else 1
    search = _lanes.BigSearch(route, lo, hi, base, slots, (slots - 1).bit_length(), gen, bound, min_fill)
    while True:
        c, proven = search.next()
        if proven or _bpsw._lucas_many([c], 1, route)[0]:
            search.finish()
            return c


def _big_random_prime_loop(lo: int, hi: int, gen) -> int:
    """``big_random_prime`` in Python: a residue prefilter (7..29), then BPSW on the survivors
    in batches of eight (``_bpsw.first_prime``), the first prime in draw order.  The GMP
    route's search and the reference the C search reproduces word for word."""
    base = lo - lo % 30
    slots = ((hi - 1 - base) // 30 + 1) * 8          # >= 8
    # wheel indices: k random bits from the bit generator's raw words, rejected >= slots
    # (exactly uniform, as in _util.rng.uniform_below), drawn 64 at a time to spare numpy calls
    k = (slots - 1).bit_length()
    nbytes = 8 * ((k + 63) // 64)
    mask = (1 << k) - 1
    raw = gen.bit_generator.random_raw
    wheel, pre, lanes = _WHEEL30, _P7_29, _bpsw.LANES
    top = (hi - 1).bit_length()
    nl = (top + 63) // 64 if top <= _bpsw.max_bits() else None     # every candidate is < hi
    gcd, from_bytes = math.gcd, int.from_bytes
    batch = []
    while True:
        buf = raw(nbytes // 8 * 64).tobytes()
        for i in range(0, len(buf), nbytes):
            idx = from_bytes(buf[i:i + nbytes], "little") & mask
            if idx >= slots:
                continue
            c = base + 30 * (idx >> 3) + wheel[idx & 7]
            if c < lo or c >= hi or gcd(c % pre, pre) != 1:
                continue
            batch.append(c)
            if len(batch) == lanes:
                p = _bpsw.first_prime(batch, nl)
                if p is not None:
                    return p
                batch.clear()


def _ndigit_bounds(n: int, b: int) -> tuple[int, int]:
    return (b ** (n - 1) if n > 1 else 2), b**n


def random_prime(digits, rng=None, base=10) -> int:
    """An exactly uniform random prime with ``digits`` digits in ``base``.

    >>> import gmpy2
    >>> p = random_prime(30, rng=7); len(str(p)) == 30 and gmpy2.is_prime(p)
    True
    """
    n, b = _check_digits_base(digits, base)
    gen = as_generator(rng)
    lo, hi = _ndigit_bounds(n, b)
    if hi <= U64_MAX + 1:
        return int(_randprime.random_primes_in(lo, hi - 1, gen, 1)[0])
    return big_random_prime(lo, hi, gen)


def _random_prime_task(args):
    n, b, seed = args
    return random_prime(n, np.random.default_rng(seed), b)


def random_primes(digits, size, rng=None, base=10, *, executor: Executor | None = None) -> list[int] | np.ndarray:
    """``size`` independent uniform ``digits``-digit primes.

    Below 2**64 returns a uint64 array drawn in C from ``rng``'s stream.  Above, returns a list
    of ints; each sample has its own child seed (``SeedSequence.spawn``), so the result does not
    depend on ``executor`` (any ``concurrent.futures.Executor``: a process pool uses every core).
    """
    n, b = _check_digits_base(digits, base)
    size = as_int(size, "size")
    if size < 0:
        raise ValueError(f"size must be >= 0, got {size}")
    gen = as_generator(rng)
    lo, hi = _ndigit_bounds(n, b)
    if hi <= U64_MAX + 1:
        return _randprime.random_primes_in(lo, hi - 1, gen, size)
    seeds = gen.bit_generator.seed_seq.spawn(size) if hasattr(gen.bit_generator, "seed_seq") else None
    if seeds is None:
        seeds = [np.random.SeedSequence(int(x)) for x in gen.integers(0, 2**63, size=size)]
    tasks = [(n, b, s) for s in seeds]
    if executor is None:
        return [_random_prime_task(t) for t in tasks]
    return list(executor.map(_random_prime_task, tasks))
