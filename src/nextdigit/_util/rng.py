"""Randomness per SPEC 7: ``rng=None | int | SeedSequence | BitGenerator | Generator``.

One normalisation for every random function of the library (``check_rng``), with two ways to use
the result: ``as_generator`` (one stream) and ``seed_sequences`` (independent child streams, for
work split into chunks).  The rules, the same everywhere:

* ``None``: fresh entropy from the operating system (a different result every call);
* an integer seed >= 0: ``int``, numpy integer or ``gmpy2.mpz`` alike (``bool`` is not one);
  a negative seed is a ``ValueError``; ``float``, ``str``, sequences and anything else a
  ``TypeError`` naming ``rng``;
* a ``SeedSequence`` is a *seed*: it is never advanced, so the same ``SeedSequence`` gives the
  same output every time, in ``generate`` and ``generate_many`` alike (a split job uses the
  children ``SeedSequence.spawn`` would give on its first call, derived without mutating it);
* a ``BitGenerator`` or ``Generator`` is a *stream*: it is used (and advanced) as it is, and a
  split job spawns its children from the generator's seed sequence, so two calls give
  different output.

An int seed and ``numpy.random.default_rng(seed)`` (or ``SeedSequence(seed)``) give the same
output everywhere.  No global state.  Integers beyond 64 bits are drawn from the bit
generator's raw 64-bit words with rejection, so they are exactly uniform (never by float
scaling).
"""
from __future__ import annotations

import numbers
import operator

import numpy as np

from .validate import short

_RNG_KINDS = "None, an int seed >= 0, a numpy SeedSequence, BitGenerator or Generator"


def check_rng(rng):
    """Validate ``rng`` (see the module docstring); returns it with integer seeds as ``int``."""
    if rng is None or isinstance(rng, (np.random.Generator, np.random.BitGenerator, np.random.SeedSequence)):
        return rng
    if isinstance(rng, numbers.Integral) and not isinstance(rng, (bool, np.bool_)):
        seed = operator.index(rng)
        if seed < 0:
            raise ValueError(f"rng must be {_RNG_KINDS}; a seed must be >= 0, got {short(seed)}")
        return seed
    raise TypeError(f"rng must be {_RNG_KINDS}, not {type(rng).__name__}")


def as_generator(rng) -> np.random.Generator:
    """One stream: a ``Generator`` as it is, a ``BitGenerator`` wrapped, a seed (int or
    ``SeedSequence``) through ``numpy.random.default_rng``."""
    rng = check_rng(rng)
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(rng)


def _children(seq: np.random.SeedSequence, n: int) -> list[np.random.SeedSequence]:
    """The children ``seq.spawn(n)`` gives on its first call, without advancing ``seq``."""
    return [np.random.SeedSequence(seq.entropy, spawn_key=tuple(seq.spawn_key) + (i,), pool_size=seq.pool_size)
            for i in range(n)]


def seed_sequences(rng, n: int) -> list[np.random.SeedSequence]:
    """``n`` independent child seeds of ``rng`` (module docstring: a seed gives the same children
    every time, a stream gives new ones)."""
    rng = check_rng(rng)
    if rng is None or isinstance(rng, int):
        return np.random.SeedSequence(rng).spawn(n)
    if isinstance(rng, np.random.SeedSequence):
        return _children(rng, n)
    bitgen = rng.bit_generator if isinstance(rng, np.random.Generator) else rng
    seq = getattr(bitgen, "seed_seq", None)
    if isinstance(seq, np.random.SeedSequence):
        return seq.spawn(n)
    gen = np.random.Generator(bitgen)
    return [np.random.SeedSequence(int(x)) for x in gen.integers(0, 2**63, size=n)]


def uniform_below(gen: np.random.Generator, n: int) -> int:
    """Exactly uniform integer in [0, n) for any n >= 1 (bytes + rejection for big n).

    Draws k = bit_length(n - 1) random bits (whole 64-bit words from the bit generator, masked)
    and rejects values >= n: fewer than two rounds are expected, and every value in [0, n) has
    probability exactly 1/n.  (``bit_generator.random_raw`` is ~10x cheaper per call than
    ``Generator.bytes`` and advances the same stream.)
    """
    if n <= 0:
        raise ValueError(f"n must be >= 1, got {short(n)}")
    if n <= 1 << 63:
        return int(gen.integers(0, n))
    k = (n - 1).bit_length()
    words = (k + 63) // 64
    mask = (1 << k) - 1
    raw = gen.bit_generator.random_raw
    while True:
        x = int.from_bytes(raw(words).tobytes(), "little") & mask
        if x < n:
            return x
