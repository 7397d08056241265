"""The autoregressive type signature, executable.

A *model* sees the prompt and its own output so far and returns a probability vector over a
fixed vocabulary for the next token:

    next_token_distribution(prompt: str, output: str, rng: Generator) -> np.ndarray

That is the whole interface (``AutoregressiveModel``).  A randomized model may use ``rng`` and
return a point mass chosen with its own coins; a deterministic model ignores ``rng``.
Deterministic models whose probabilities are ratios of exact counts may also offer

    next_token_counts(prompt: str, output: str) -> sequence of non-negative ints

and then ``generate`` samples from the integer counts exactly (a uniform integer below their
sum, no float rounding) and ``log_prob`` returns an exact ``fractions.Fraction`` besides the
float log-probability.

The vocabulary (``Vocabulary(base)``) is the digits of the base, ``(``, ``,``, ``)`` and an end
token ``END`` (written ``"$"`` in vectors and never part of the returned text).

``generate`` validates every distribution a model returns (right length, finite, >= 0, sums to
1 within 1e-9) and raises ``ModelError`` naming the model and the prefix otherwise.

The essay's way out has two explicit extensions of the signature, each with its own driver, so
the contrast with the plain signature shows in the types:

* a **hidden-seed** model has ``seed_space`` and ``next_token_distribution(prompt, output, seed)``
  (a point mass: the model is deterministic given the seed); ``generate_with_seed`` draws the
  seed out of sight, uniform in ``[0, seed_space)``, then runs it (``SeedTextModel`` is the base
  of models that map a seed to a text and write it by position);
* a **hidden-stream** model has ``step(prompt, hidden, output, rng) -> (stream, distribution)``:
  each token goes to a hidden scratch stream or to the public output; ``generate_with_hidden``
  runs it and returns both streams.
"""
from __future__ import annotations

import bisect
import itertools
import math
from fractions import Fraction
from typing import Protocol, runtime_checkable

import numpy as np

from ._util.rng import as_generator, uniform_below
from ._util.scale import checkpoint_seed, run_tasks, seed_sequences
from ._util.validate import as_int, check_base

__all__ = [
    "END",
    "Vocabulary",
    "AutoregressiveModel",
    "ModelError",
    "generate",
    "generate_many",
    "log_prob",
    "validate_distribution",
    "counts_to_distribution",
    "SeedTextModel",
    "generate_with_seed",
    "generate_with_hidden",
]

END = "$"
_DIGIT_CHARS = "0123456789abcdefghijklmnopqrstuvwxyz"


class ModelError(ValueError):
    """A model returned something that is not a probability vector over its vocabulary."""


class Vocabulary:
    """Tokens: the ``base`` digits, any ``extra`` single-character tokens (e.g. ``"-"`` for
    signed numbers), then ``(``, ``,``, ``)`` and the end token ``$``.

    >>> v = Vocabulary(10)
    >>> len(v), v.index("7"), v.index(END), v.tokens[-4:]
    (14, 7, 13, ('(', ',', ')', '$'))
    >>> Vocabulary(10, extra="-").tokens[9:]
    ('9', '-', '(', ',', ')', '$')
    """

    def __init__(self, base: int = 10, extra=()):
        self.base = b = check_base(base)
        self.digits = tuple(_DIGIT_CHARS[:b])
        extra = tuple(extra)
        reserved = set(self.digits) | {"(", ",", ")", END}
        for t in extra:
            if not isinstance(t, str) or len(t) != 1 or t in reserved or extra.count(t) > 1:
                raise ValueError(f"extra tokens must be distinct single characters outside the digits "
                                 f"and '(),$', got {t!r}")
        self.extra = extra
        self.tokens = self.digits + extra + ("(", ",", ")", END)
        self._index = {t: i for i, t in enumerate(self.tokens)}
        self.end_index = self._index[END]

    def __len__(self) -> int:
        return len(self.tokens)

    def __eq__(self, other) -> bool:
        return isinstance(other, Vocabulary) and (other.base, other.extra) == (self.base, self.extra)

    def __hash__(self) -> int:
        return hash(("Vocabulary", self.base, self.extra))

    def __repr__(self) -> str:
        return f"Vocabulary(base={self.base})" if not self.extra else f"Vocabulary(base={self.base}, extra={self.extra!r})"

    def index(self, token: str) -> int:
        try:
            return self._index[token]
        except KeyError:
            raise ValueError(f"{token!r} is not a token of {self!r}") from None

    def point_mass(self, token: str) -> np.ndarray:
        """A probability vector with all its mass on ``token``."""
        v = np.zeros(len(self.tokens))
        v[self.index(token)] = 1.0
        return v

    def point_counts(self, token: str, weight: int = 1) -> list[int]:
        """Integer counts (for ``next_token_counts``) with ``weight`` on ``token`` only."""
        c = [0] * len(self.tokens)
        c[self.index(token)] = int(weight)
        return c

    def end_counts(self) -> list[int]:
        """Integer counts with all the weight on the end token."""
        return self.point_counts(END)

    def digit_vector(self, weights) -> np.ndarray:
        """A vocabulary-length vector with ``weights`` (length ``base``) on the digit tokens."""
        v = np.zeros(len(self.tokens))
        v[: self.base] = weights
        return v

    def is_digits(self, text: str) -> bool:
        return all(ch in self._index and self._index[ch] < self.base for ch in text)


@runtime_checkable
class AutoregressiveModel(Protocol):
    """Anything with a ``vocab`` and ``next_token_distribution(prompt, output, rng)``."""

    vocab: Vocabulary

    def next_token_distribution(self, prompt: str, output: str, rng: np.random.Generator) -> np.ndarray: ...


def _name(model) -> str:
    return getattr(model, "name", None) or type(model).__name__


def validate_distribution(model, prompt: str, output: str, dist) -> np.ndarray:
    """Return ``dist`` as a float array after checking it is a probability vector."""
    n = len(model.vocab)
    where = f"model {_name(model)} at prompt {prompt!r}, output {output!r}"
    try:
        p = np.asarray(dist, dtype=float)
    except (TypeError, ValueError):
        raise ModelError(f"{where}: returned {type(dist).__name__}, not a numeric vector") from None
    if p.shape != (n,):
        raise ModelError(f"{where}: distribution has shape {p.shape}, expected ({n},)")
    if not np.all(np.isfinite(p)):
        raise ModelError(f"{where}: distribution has non-finite entries")
    if np.any(p < 0):
        raise ModelError(f"{where}: distribution has negative entries")
    s = float(p.sum())
    if abs(s - 1.0) > 1e-9:
        raise ModelError(f"{where}: distribution sums to {s!r}, not 1")
    return p


def _validate_counts(model, prompt, output, counts) -> list[int]:
    n = len(model.vocab)
    where = f"model {_name(model)} at prompt {prompt!r}, output {output!r}"
    c = [int(x) for x in counts]
    if len(c) != n or any(x < 0 for x in c) or sum(c) == 0:
        raise ModelError(f"{where}: next_token_counts must be {n} non-negative ints with a positive sum")
    return c


def _sample_index(p: np.ndarray, gen: np.random.Generator) -> int:
    """Inverse-CDF sample from a validated float vector (one uniform draw)."""
    cdf = np.cumsum(p)
    i = int(np.searchsorted(cdf, gen.random() * cdf[-1], side="right"))
    while p[min(i, len(p) - 1)] == 0 and i > 0:  # never return a zero-probability token
        i -= 1
    return min(i, len(p) - 1)


def _sample_counts(c: list[int], gen: np.random.Generator) -> int:
    """Exact sample: index i with probability c[i] / sum(c) (a uniform integer below the sum)."""
    u = uniform_below(gen, sum(c))
    acc = 0
    for i, x in enumerate(c):
        acc += x
        if u < acc:
            return i
    raise AssertionError("unreachable")


def _check_text(name: str, text) -> str:
    if not isinstance(text, str):
        raise TypeError(f"{name} must be a str, not {type(text).__name__}")
    return text


def generate(model, prompt: str = "", rng=None, max_tokens: int = 100_000, *, output_prefix: str = "") -> str:
    """Run ``model`` from ``prompt`` until it emits the end token; return its output text.

    ``output_prefix`` forces the start of the output (the model continues after it, and the
    returned text begins with it): that is how the factoring-attack reduction prompts a model.

    Raises ``ModelError`` if the model returns an invalid distribution and ``RuntimeError`` if it
    has not ended after ``max_tokens`` tokens.
    """
    prompt = _check_text("prompt", prompt)
    max_tokens = as_int(max_tokens, "max_tokens")
    if max_tokens < 1:
        raise ValueError(f"max_tokens must be >= 1, got {max_tokens}")
    gen = as_generator(rng)
    vocab = model.vocab
    output_prefix = _check_text("output_prefix", output_prefix)
    text = output_prefix
    counts_fn = getattr(model, "next_token_counts", None)
    for _ in range(max_tokens):
        if counts_fn is not None:
            i = _sample_counts(_validate_counts(model, prompt, text, counts_fn(prompt, text)), gen)
        else:
            p = validate_distribution(model, prompt, text, model.next_token_distribution(prompt, text, gen))
            i = _sample_index(p, gen)
        if i == vocab.end_index:
            return text
        text += vocab.tokens[i]
    raise RuntimeError(f"model {_name(model)} did not emit the end token within max_tokens={max_tokens}")


GENERATE_CHUNK = 4096  # samples per task of generate_many (fixed: the split must not depend on the executor)


def _generate_chunk(model, count: int, prompt: str, seed, max_tokens: int) -> list[str]:
    gen = np.random.default_rng(seed)
    fast = getattr(model, "sample_many", None)
    if fast is not None and prompt == "":
        return list(fast(count, gen))
    return [generate(model, prompt, gen, max_tokens) for _ in range(count)]


def generate_many(model, size: int, prompt: str = "", rng=None, max_tokens: int = 100_000, *,
                  executor=None, checkpoint=None, progress: bool = False) -> list[str]:
    """``size`` independent outputs of ``model`` after ``prompt``.

    Mass sampling: the samples are drawn in chunks of ``GENERATE_CHUNK``, chunk i from the i-th
    child of ``rng``'s seed (``SeedSequence.spawn``), so the list is the same whatever
    ``executor`` (any ``concurrent.futures.Executor``, e.g. a process pool or
    ``dask.distributed.Client.get_executor()``) runs the chunks. Models with a fast batched path
    (``sample_many(count, generator)``) use it inside each chunk. ``checkpoint`` (a file; needs an
    int ``rng``) and ``progress`` as in ``nextdigit._util.scale``.
    """
    size = as_int(size, "size")
    if size < 0:
        raise ValueError(f"size must be >= 0, got {size}")
    prompt = _check_text("prompt", prompt)
    max_tokens = as_int(max_tokens, "max_tokens")
    if max_tokens < 1:
        raise ValueError(f"max_tokens must be >= 1, got {max_tokens}")
    sizes = [min(GENERATE_CHUNK, size - i) for i in range(0, size, GENERATE_CHUNK)]
    key = {"job": "generate_many", "model": _name(model), "size": size, "prompt": prompt,
           "seed": checkpoint_seed(rng, checkpoint)}
    seeds = seed_sequences(rng, len(sizes))
    tasks = [(_generate_chunk, (model, c, prompt, s, max_tokens)) for c, s in zip(sizes, seeds)]
    return [x for part in run_tasks(tasks, key, executor, checkpoint, progress, "chunks") for x in part]


def sample_deterministic_batch(model, size: int, rng=None, max_tokens: int = 100_000) -> list[str]:
    """``size`` outputs of a deterministic model, level by level: at each step the distinct
    partial outputs are asked once for their next-token distribution (integer counts when the
    model offers them, sampled exactly), and all samples sharing a prefix draw at once.

    Equal in distribution to ``size`` calls of ``generate`` (it is the same process, batched).
    """
    gen = as_generator(rng)
    vocab = model.vocab
    counts_fn = getattr(model, "next_token_counts", None)
    texts = [""] * size
    active = list(range(size))
    for _ in range(max_tokens):
        if not active:
            return texts
        groups: dict[str, list[int]] = {}
        for i in active:
            groups.setdefault(texts[i], []).append(i)
        still = []
        for text, idx in groups.items():
            if counts_fn is not None:
                c = _validate_counts(model, "", text, counts_fn("", text))
                cum = list(itertools.accumulate(c))
                if cum[-1] < 1 << 63:  # exact: uniform integers below the total, then the bucket
                    u = gen.integers(0, cum[-1], size=len(idx))
                    picks = np.searchsorted(np.array(cum, dtype=np.int64), u, side="right")
                else:
                    picks = [bisect.bisect_right(cum, uniform_below(gen, cum[-1])) for _ in idx]
            else:
                p = validate_distribution(model, "", text, model.next_token_distribution("", text, None))
                picks = gen.choice(len(p), size=len(idx), p=p / p.sum())
            for i, t in zip(idx, picks):
                t = int(t)
                if t != vocab.end_index:
                    texts[i] = text + vocab.tokens[t]
                    still.append(i)
        active = still
    raise RuntimeError(f"model {_name(model)} did not emit the end token within max_tokens={max_tokens}")


def log_prob(model, prompt: str, response: str, *, end: bool = True):
    """Log-probability that a deterministic ``model`` writes ``response`` (then the end token if
    ``end``) after ``prompt``.

    Returns ``(logp, exact)``: ``logp`` a float (``-inf`` for impossible responses) and
    ``exact`` a ``Fraction`` when the model offers ``next_token_counts``, else ``None``.
    """
    prompt = _check_text("prompt", prompt)
    response = _check_text("response", response)
    if not getattr(model, "deterministic", False):
        raise ValueError(f"log_prob needs a deterministic model; {_name(model)} is randomized")
    vocab = model.vocab
    counts_fn = getattr(model, "next_token_counts", None)
    tokens = list(response) + ([END] if end else [])
    logp = 0.0
    exact = Fraction(1) if counts_fn is not None else None
    for k, tok in enumerate(tokens):
        i = vocab.index(tok)
        text = response[:k]
        if counts_fn is not None:
            c = _validate_counts(model, prompt, text, counts_fn(prompt, text))
            if c[i] == 0:
                return -math.inf, Fraction(0)
            exact *= Fraction(c[i], sum(c))
            logp += math.log(c[i]) - math.log(sum(c))
        else:
            p = validate_distribution(model, prompt, text, model.next_token_distribution(prompt, text, None))
            if p[i] == 0:
                return -math.inf, None
            logp += math.log(p[i])
    return logp, exact


def counts_to_distribution(counts) -> np.ndarray:
    """The probability vector of non-negative integer ``counts`` (``count / sum``)."""
    total = sum(counts)
    return np.array([x / total for x in counts])


# ---------------------------------------------------------------------------------------------
# the extended signatures: a hidden seed, a hidden stream
# ---------------------------------------------------------------------------------------------
class SeedTextModel:
    """Base of hidden-seed models that write ``text(seed)`` by position:
    ``next_token_distribution(prompt, output, seed)`` is a point mass on the character at
    position ``len(output)``, then the end token.  Subclasses set ``vocab``, ``seed_space`` and
    ``_make_text(seed)``; the text of the last seed is memoised (a sample asks for it once per
    token)."""

    deterministic = True
    _memo: tuple[int, str] | None = None

    def _make_text(self, seed: int) -> str:
        raise NotImplementedError

    def _check_seed(self, seed) -> int:
        s = as_int(seed, "seed")
        if not 0 <= s < self.seed_space:
            raise ValueError(f"seed must be in [0, {self.seed_space}), got {s}")
        return s

    def text(self, seed) -> str:
        """The whole output this model writes for ``seed``."""
        s = as_int(seed, "seed")
        memo = self._memo
        if memo is not None and memo[0] == s:
            return memo[1]
        t = self._make_text(self._check_seed(s))
        self._memo = (s, t)
        return t

    def next_token_distribution(self, prompt: str, output: str, seed) -> np.ndarray:
        own = self.text(seed)
        k = len(output)
        return self.vocab.point_mass(own[k] if k < len(own) else END)


def generate_with_seed(model, prompt: str = "", rng=None, *, output_prefix: str = "", seed: int | None = None,
                       max_tokens: int = 10_000):
    """Draw the hidden seed (uniform in [0, model.seed_space)) unless given, then run the
    deterministic model; returns ``(output, seed)``."""
    gen = as_generator(rng)
    s = uniform_below(gen, model.seed_space) if seed is None else as_int(seed, "seed")
    output = output_prefix
    for _ in range(max_tokens):
        dist = model.next_token_distribution(prompt, output, s)
        tok = model.vocab.tokens[int(np.argmax(dist))]
        if tok == END:
            return output, s
        output += tok
    raise RuntimeError(f"{model.name} did not end within max_tokens={max_tokens}")


def generate_with_hidden(model, prompt: str = "", rng=None, *, output_prefix: str = "", max_tokens: int = 10_000):
    """Run a hidden-stream model; returns ``(output, hidden)``."""
    gen = as_generator(rng)
    hidden, output = "", output_prefix
    for _ in range(max_tokens):
        stream, dist = model.step(prompt, hidden, output, gen)
        i = int(gen.choice(len(dist), p=dist)) if dist.max() < 1 else int(np.argmax(dist))
        tok = model.vocab.tokens[i]
        if stream == "hidden":
            hidden += tok
        elif tok == END:
            return output, hidden
        else:
            output += tok
    raise RuntimeError(f"{model.name} did not end within max_tokens={max_tokens}")
