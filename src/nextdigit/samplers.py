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

And the hidden-state path, which needs no autoregressive structure at all:
``random_prime(digits)`` / ``random_primes(digits, size)`` draw uniform candidates, prefilter and
test with BPSW: exactly uniform.
"""
from __future__ import annotations

import math
from concurrent.futures import Executor

import gmpy2
import numpy as np

from . import _bpsw, _randprime, counting
from ._rng import as_generator, uniform_below
from ._validate import U64_MAX, as_int, check_base, check_digits
from .density import density_masses
from .models import END, Vocabulary, sample_deterministic_batch
from .prefix import digit_counts

__all__ = [
    "RandomizedPrimeModel",
    "ExactPrimeModel",
    "DensityPrimeModel",
    "random_prime",
    "random_primes",
]

_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
_WHEEL30 = (1, 7, 11, 13, 17, 19, 23, 29)
_P7_29 = 7 * 11 * 13 * 17 * 19 * 23 * 29      # < 2**30: a one-digit CPython division


def _check_digits_base(digits, base) -> tuple[int, int]:
    return check_digits(digits), check_base(base)


def _to_str(v: int, base: int) -> str:
    if base == 10:
        return str(v)
    s = []
    while v:
        v, r = divmod(v, base)
        s.append(_DIGITS[r])
    return "".join(reversed(s)) or "0"


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
            d = (self._big_random_prime(lo, hi, gen) // w) % self.base
        return self.vocab.point_mass(self.vocab.digits[d])

    @staticmethod
    def _big_random_prime(lo: int, hi: int, gen) -> int:
        """Uniform prime in [lo, hi) for lo > 30: exactly uniform candidates on the numbers
        coprime to 30 (an index into the mod-30 wheel from the aligned block below lo, rejected
        outside [lo, hi)), a residue prefilter (7..29), then BPSW on the survivors in batches of
        eight (``_bpsw.first_prime``: the IFMA lanes test eight at once), taking the first prime
        in draw order.  Every prime of the interval is a candidate and the candidates are
        independent, so the first prime drawn is uniform; the candidates drawn after it in the
        same batch are discarded unseen.  (Candidates below 2**64, when [lo, hi) straddles it,
        stay in the same batches, so "first in draw order" holds across the boundary.)"""
        base = lo - lo % 30
        slots = ((hi - 1 - base) // 30 + 1) * 8          # >= 8
        # wheel indices: k random bits from the bit generator's raw words, rejected >= slots
        # (exactly uniform, as in _rng.uniform_below), drawn 64 at a time to spare numpy calls
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

    def sample_many(self, size: int, rng=None) -> list[str]:
        """``size`` outputs of the model (the whole digit-by-digit run in C below 2**64)."""
        gen = rng if type(rng) is np.random.Generator else as_generator(rng)
        args = self._ar_args
        if args is not None:
            return _randprime.ar_sample(args[0], args[1], args[2], args[3], gen, size, True)
        from .models import generate

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


# --- the hidden-state reference -------------------------------------------------------------
def _ndigit_bounds(n: int, b: int) -> tuple[int, int]:
    return (b ** (n - 1) if n > 1 else 2), b**n


def random_prime(digits, rng=None, base=10) -> int:
    """An exactly uniform random prime with ``digits`` digits in ``base``.

    >>> p = random_prime(30, rng=7); len(str(p)) == 30 and gmpy2.is_prime(p)
    True
    """
    n, b = _check_digits_base(digits, base)
    gen = as_generator(rng)
    lo, hi = _ndigit_bounds(n, b)
    if hi <= U64_MAX + 1:
        return int(_randprime.random_primes_in(lo, hi - 1, gen, 1)[0])
    return RandomizedPrimeModel._big_random_prime(lo, hi, gen)


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
