"""The baseline task: a uniform n-digit number, where hidden state buys nothing.

``UniformNumberTask(digits, base)`` is the uniform law on the (b - 1) b^(n-1) numbers with n
base-b digits (leading digit non-zero; for n = 1 that is 1..b-1).  Its autoregressive model
needs no counting: every digit is uniform (the leading one over 1..b-1), so
``UniformNumberModel`` offers constant ``next_token_counts`` (the true completion counts
divided by their common factor b^(n-k-1)) and is exact.  ``UniformNumberHiddenSeedModel`` writes
b^(n-1) + seed: no cheaper.  Hidden state buys nothing here; the gap is zero: both are Theta(n)
per sample, the models' own calls cost the same (``model_ratio`` ~ 1 in
``nextdigit.analysis.costs.uniform_cost_table`` for n up
to 96), and the drivers differ by a constant factor (~3: ``models.generate`` draws an exact
integer per token, ``generate_with_seed`` takes an argmax).

Conventions as in ``nextdigit.tasks.polyroots``: the prompt is ignored; an output that is not a
prefix of an n-digit number gets the end token; the hidden-seed model writes its own text by
position.
"""
from __future__ import annotations

import re
from fractions import Fraction

import gmpy2
import numpy as np

from .._util.rng import as_generator, uniform_below
from .._util.validate import as_int, check_base, check_digits
from ..models import SeedTextModel, Vocabulary, counts_to_distribution

__all__ = ["UniformNumberTask", "UniformNumberModel", "UniformNumberHiddenSeedModel"]

TARGET_MAX_OUTCOMES = 500_000    # target_distribution(): outcomes enumerated as Python objects


def _to_base(x: int, base: int) -> str:
    return str(x) if base == 10 else gmpy2.digits(x, base)


class UniformNumberTask:
    """The uniform law on n-digit numbers in base b (leading digit non-zero), written plainly."""

    def __init__(self, digits, base=10):
        self.digits = check_digits(digits)
        self.base = check_base(base)
        self.vocab = Vocabulary(self.base)
        self.lo = self.base ** (self.digits - 1)
        self.support_size = (self.base - 1) * self.lo

    @property
    def name(self) -> str:
        return f"UniformNumberTask(digits={self.digits}, base={self.base})"

    def text(self, x) -> str:
        x = as_int(x, "x")
        if not self.lo <= x < self.base * self.lo:
            raise ValueError(f"x must have {self.digits} digits in base {self.base}, got {x}")
        return _to_base(x, self.base)

    def sample(self, rng=None) -> str:
        return self.text(self.lo + uniform_below(as_generator(rng), self.support_size))

    def target_distribution(self, max_outcomes: int = TARGET_MAX_OUTCOMES) -> dict[str, Fraction]:
        """{text: 1 / support_size} for every n-digit number (small supports only)."""
        if self.support_size > max_outcomes:
            raise ValueError(f"{self.name} has {self.support_size} outcomes, more than max_outcomes={max_outcomes}")
        w = Fraction(1, self.support_size)
        return {_to_base(x, self.base): w for x in range(self.lo, self.base * self.lo)}


class UniformNumberModel:
    """Exact autoregressive model of ``UniformNumberTask``: every digit uniform, the leading one
    over 1..b-1, then the end token.  Counts are the completion counts divided by their common
    factor b^(n-k-1), so they are all 1; an output that is not a prefix of an n-digit number gets
    the end token."""

    deterministic = True

    def __init__(self, digits, base=10):
        self.task = UniformNumberTask(digits, base)
        self.digits, self.base, self.vocab = self.task.digits, self.task.base, self.task.vocab
        ds = "".join(self.vocab.digits)
        self._prefix = re.compile(f"[{ds[1:]}][{ds}]*")   # a number without leading zero (C-speed check)

    @property
    def name(self) -> str:
        return f"UniformNumberModel(digits={self.digits}, base={self.base})"

    def __repr__(self) -> str:
        return self.name

    def next_token_counts(self, prompt: str, output: str) -> list[int]:
        v = self.vocab
        k = len(output)
        if k >= self.digits or (k and self._prefix.fullmatch(output) is None):
            return v.end_counts()
        c = [0] * len(v)
        c[1 if k == 0 else 0: self.base] = [1] * (self.base - (1 if k == 0 else 0))
        return c

    def next_token_distribution(self, prompt: str, output: str, rng=None) -> np.ndarray:
        return counts_to_distribution(self.next_token_counts(prompt, output))


class UniformNumberHiddenSeedModel(SeedTextModel):
    """Hidden-seed counterpart: the seed in [0, (b-1) b^(n-1)) *is* the number minus b^(n-1);
    ``next_token_distribution(prompt, output, seed)`` is a point mass on its next digit (by
    position), then the end token."""

    def __init__(self, digits, base=10):
        self.task = UniformNumberTask(digits, base)
        self.digits, self.base, self.vocab = self.task.digits, self.task.base, self.task.vocab
        self.seed_space = self.task.support_size

    @property
    def name(self) -> str:
        return f"UniformNumberHiddenSeedModel(digits={self.digits}, base={self.base})"

    def _make_text(self, seed: int) -> str:
        return _to_base(self.task.lo + seed, self.base)
