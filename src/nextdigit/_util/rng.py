"""Randomness per SPEC 7: ``rng=None | int | SeedSequence | BitGenerator | Generator``.

Every random function normalises its ``rng`` argument with ``as_generator`` (a thin check around
``numpy.random.default_rng``), keeps no global state, and draws integers beyond 64 bits from the
bit generator's raw 64-bit words with rejection, so they are exactly uniform (never by float scaling).
"""
from __future__ import annotations

import numpy as np


def as_generator(rng) -> np.random.Generator:
    """``numpy.random.default_rng(rng)`` with a clear TypeError for values it should not take."""
    if isinstance(rng, (bool, np.bool_)) or isinstance(rng, float):
        raise TypeError(f"rng must be None, an int seed, a SeedSequence or a Generator, not {type(rng).__name__}")
    if isinstance(rng, np.random.Generator):
        return rng
    try:
        return np.random.default_rng(rng)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"rng must be None, an int seed, a SeedSequence or a Generator ({exc})") from None


def uniform_below(gen: np.random.Generator, n: int) -> int:
    """Exactly uniform integer in [0, n) for any n >= 1 (bytes + rejection for big n).

    Draws k = bit_length(n - 1) random bits (whole 64-bit words from the bit generator, masked)
    and rejects values >= n: fewer than two rounds are expected, and every value in [0, n) has
    probability exactly 1/n.  (``bit_generator.random_raw`` is ~10x cheaper per call than
    ``Generator.bytes`` and advances the same stream.)
    """
    if n <= 0:
        raise ValueError(f"n must be >= 1, got {n}")
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
