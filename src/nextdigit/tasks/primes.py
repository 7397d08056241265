"""Autoregressive models of "a uniformly random n-digit prime", and the hidden-state reference.

Three models with the plain autoregressive signature (see ``nextdigit.models``):

``RandomizedPrimeModel(digits)``
    Stateless and randomized: for the current prefix it draws uniform random completions until
    one is prime and returns a point mass on that prime's next digit.  Exactly uniform over the
    n-digit primes for every n (the step probabilities telescope).  Below 2**64 each step runs in
    C (``_randprime``); above, candidates are exactly uniform integers from the Generator's
    bytes, tested with BPSW eight at a time (the IFMA lanes of ``_bpsw``; the first prime in
    draw order is kept).  When at most ``exact_window`` completions remain it draws the next
    digit from the exact window counts instead (the same distribution, and a clear error for a
    prefix that no prime extends).

``ExactPrimeModel(digits)``
    Deterministic: next-digit probabilities are ``digit_counts(prefix) / prefix_count(prefix)``
    (``next_token_counts`` gives the integers).  Exact wherever the counting engine counts the
    first level exactly: every n-digit range below 2**64 (n <= 19 in base 10, <= 64 bits in base
    2; long spans through prime_pi); beyond, the constructor raises and names
    ``DensityPrimeModel``.

``DensityPrimeModel(digits, tail=k)``
    Deterministic and approximate: while more than k digits remain, the next digit's weight is
    the prime *density* mass (li, or Riemann's R) of its block of completions; the last k digits
    use exact window counts (blocks of base**k numbers).  **Dead-end policy**: the density can
    send a sample into a block of base**k numbers that holds no prime; there the model emits the
    end token early (the output is shorter than n digits) and that sample counts as a failure.
    ``estimated_tvd()`` gives the heuristic distance from uniform,
    sqrt((ln(x/h) - 1.415)/(2*pi*h)), h = base**k: the Cramer model with the variance of primes in
    short intervals of Montgomery & Soundararajan ("Primes in short intervals", Comm. Math. Phys.
    252 (2004)), Var ~ h (ln(x/h) + 1 - gamma - ln 2pi), 1 - gamma - ln 2pi = -1.415; the mean
    absolute deviation sqrt(2/pi)*sd of a block count, relative to its mean, halved.

The hidden-state path needs no autoregressive structure at all: ``nextdigit.random_prime`` /
``nextdigit.random_primes`` (``nextdigit.randprime``) draw uniform candidates, prefilter and test
with BPSW: exactly uniform.
"""
from __future__ import annotations

import math

import numpy as np

from .. import _randprime, counting
from .._util.rng import as_generator, uniform_below
from .._util.validate import U64_MAX, as_int, check_base, check_digits
from ..density import density_masses
from ..models import END, Vocabulary, generate, sample_deterministic_batch
from ..prefix import digit_counts
from ..randprime import big_random_prime

__all__ = [
    "RandomizedPrimeModel",
    "ExactPrimeModel",
    "DensityPrimeModel",
]


def _check_digits_base(digits, base) -> tuple[int, int]:
    return check_digits(digits), check_base(base)


def _can_count_exactly(lo: int, hi: int) -> bool:
    """Whether the counting engine counts the primes of [lo, hi) exactly (its span limit)."""
    return counting.can_count_exactly(lo, hi)


class _PrimeModelBase:
    """Shared parts: vocabulary, output validation, the interval of a prefix's completions."""

    deterministic = False

    def __init__(self, digits, base=10):
        self.digits, self.base = _check_digits_base(digits, base)
        self.vocab = Vocabulary(self.base)
        self.lo = self.base ** (self.digits - 1) if self.digits > 1 else 2  # 1 is not a prime
        self.hi = self.base**self.digits                                       # exclusive

    @property
    def name(self) -> str:
        return f"{type(self).__name__}(digits={self.digits}, base={self.base})"

    def __repr__(self) -> str:
        return self.name

    def _prefix(self, output: str) -> tuple[int, int, int]:
        """(value, length, place value of the next digit) of a valid partial output."""
        if not isinstance(output, str):
            raise TypeError(f"output must be a str, not {type(output).__name__}")
        if len(output) > self.digits or not self.vocab.is_digits(output):
            raise ValueError(f"{self.name}: output {output!r} is not a prefix of a {self.digits}-digit number")
        if output.startswith("0"):
            raise ValueError(f"{self.name}: output {output!r} has a leading zero")
        k = len(output)
        v = int(output, self.base) if k else 0
        w = self.base ** (self.digits - k - 1) if k < self.digits else 0
        return v, k, w

    def _completions(self, v: int, k: int) -> tuple[int, int]:
        """[lo, hi) of the n-digit numbers starting with the k-digit prefix v."""
        if k == 0:
            return self.lo, self.hi
        scale = self.base ** (self.digits - k)
        return max(v * scale, self.lo), (v + 1) * scale

    def _digit_from_counts(self, counts, gen, output) -> int:
        c = [int(x) for x in counts]
        total = sum(c)
        if total == 0:
            raise ValueError(f"{self.name}: no {self.digits}-digit prime starts with {output!r}")
        u = uniform_below(gen, total)
        for d, x in enumerate(c):
            u -= x
            if u < 0:
                return d
        raise AssertionError("unreachable")


class RandomizedPrimeModel(_PrimeModelBase):
    """Stateless randomized autoregressive sampler of uniform n-digit primes (see module doc).

    >>> m = RandomizedPrimeModel(3)
    >>> from nextdigit.models import generate
    >>> p = int(generate(m, rng=1)); 100 <= p < 1000 and all(p % q for q in range(2, 32))
    True
    """

    def __init__(self, digits, base=10, exact_window: int = 4096):
        super().__init__(digits, base)
        self.exact_window = as_int(exact_window, "exact_window")
        if self.exact_window < 0:
            raise ValueError(f"exact_window must be >= 0, got {self.exact_window}")
        # arguments of the C sampler (every n-digit number below 2**64), or None
        self._ar_args = (self.lo, self.hi - 1, self.base ** (self.digits - 1), self.base) if self.hi <= U64_MAX + 1 else None

    def next_token_distribution(self, prompt: str, output: str, rng) -> np.ndarray:
        v, k, w = self._prefix(output)
        if k == self.digits:
            return self.vocab.point_mass(END)
        gen = as_generator(rng)
        lo, hi = self._completions(v, k)
        first = (lo // w) % self.base          # digit of the block that starts at lo
        if hi - lo <= self.exact_window:
            d = self._digit_from_counts(digit_counts(output, self.digits, self.base), gen, output)
        elif hi <= U64_MAX + 1:
            d = first + int(_randprime.ar_step(lo, hi - 1, w, gen))
        else:
            d = (big_random_prime(lo, hi, gen) // w) % self.base
        return self.vocab.point_mass(self.vocab.digits[d])

    def sample_many(self, size: int, rng=None) -> list[str]:
        """``size`` outputs of the model (the whole digit-by-digit run in C below 2**64)."""
        gen = rng if type(rng) is np.random.Generator else as_generator(rng)
        args = self._ar_args
        if args is not None:
            return _randprime.ar_sample(args[0], args[1], args[2], args[3], gen, size, True)
        return [generate(self, "", gen) for _ in range(size)]


class ExactPrimeModel(_PrimeModelBase):
    """Deterministic model with exact next-digit probabilities from prime counts.

    >>> from nextdigit.models import log_prob
    >>> log_prob(ExactPrimeModel(3), "", "101")[1]
    Fraction(1, 143)
    """

    deterministic = True

    def __init__(self, digits, base=10):
        super().__init__(digits, base)
        if not _can_count_exactly(self.lo, self.hi):
            raise ValueError(
                f"ExactPrimeModel: {self.digits}-digit primes in base {self.base} are beyond the exact "
                "counting engine (exact counts reach every interval below 2**64 and windows of at most "
                f"{counting.MAX_BIG_SPAN:.0e} above); use DensityPrimeModel(digits, tail=k) "
                "(approximate, with estimated_tvd())"
            )
        self._cache: dict[str, list[int]] = {}

    def next_token_counts(self, prompt: str, output: str) -> list[int]:
        v, k, w = self._prefix(output)
        if k == self.digits:
            c = [0] * len(self.vocab)
            c[self.vocab.end_index] = 1
            return c
        hit = self._cache.get(output)
        if hit is None:
            dc = digit_counts(output, self.digits, self.base)
            hit = [int(x) for x in dc] + [0] * 4
            if len(self._cache) > 100_000:
                self._cache.clear()
            self._cache[output] = hit
        return list(hit)

    def sample_many(self, size: int, rng=None) -> list[str]:
        """``size`` outputs, all samples sharing a prefix drawn together (exact integer draws)."""
        return sample_deterministic_batch(self, size, rng)

    def next_token_distribution(self, prompt: str, output: str, rng=None) -> np.ndarray:
        c = self.next_token_counts(prompt, output)
        total = sum(c)
        if total == 0:
            raise ValueError(f"{self.name}: no {self.digits}-digit prime starts with {output!r}")
        return np.array([x / total for x in c])


class DensityPrimeModel(_PrimeModelBase):
    """Deterministic approximate model: density weights, exact counts for the last ``tail`` digits.

    >>> m = DensityPrimeModel(100, tail=4)
    >>> round(m.estimated_tvd(), 4)
    0.0591
    """

    deterministic = True

    def __init__(self, digits, tail: int = 4, base=10, density: str = "li"):
        super().__init__(digits, base)
        self.tail = as_int(tail, "tail")
        if self.tail < 0:
            raise ValueError(f"tail must be >= 0, got {self.tail}")
        if density not in ("li", "R"):
            raise ValueError(f"density must be 'li' or 'R', got {density!r}")
        self.density = density

    @property
    def name(self) -> str:
        return f"DensityPrimeModel(digits={self.digits}, tail={self.tail}, base={self.base}, density={self.density!r})"

    def estimated_tvd(self) -> float:
        """Heuristic TVD from uniform: sqrt((ln(x/h) - 1.415) / (2 pi h)), x = base**digits,
        h = base**tail (0 when the whole number is in the exact tail)."""
        if self.tail >= self.digits:
            return 0.0
        h = float(self.base) ** self.tail
        ln_x_over_h = (self.digits - self.tail) * math.log(self.base)
        return math.sqrt(max(ln_x_over_h - 1.415, 0.0) / (2 * math.pi * h))

    def sample_many(self, size: int, rng=None) -> list[str]:
        """``size`` outputs (dead ends included, as short strings), prefixes shared in batches."""
        return sample_deterministic_batch(self, size, rng)

    def next_token_distribution(self, prompt: str, output: str, rng=None) -> np.ndarray:
        v, k, w = self._prefix(output)
        if k == self.digits:
            return self.vocab.point_mass(END)
        remaining = self.digits - k
        if remaining <= self.tail:
            c = digit_counts(output, self.digits, self.base).astype(float)
            total = c.sum()
            if total == 0:  # dead end: density mass led into a block without primes
                return self.vocab.point_mass(END)
            return self.vocab.digit_vector(c / total)
        lo, hi = self._completions(v, k)
        first = (lo // w) % self.base
        edges = [lo] + [(lo // w + j) * w for j in range(1, self.base - first)] + [hi]
        if edges[0] < 2:
            edges[0] = 2
        masses = density_masses(edges, self.density)
        p = np.zeros(self.base)
        p[first:] = masses / masses.sum()
        return self.vocab.digit_vector(p)
