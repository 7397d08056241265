"""Semiprimes: ``(p,q,N)`` is easy for an autoregressive model, ``(N,p,q)`` is factoring.

The task: choose two independent uniform n-digit primes p, q (they may be equal) and write
``(p,q,N)`` (forward) or ``(N,p,q)`` (reversed), N = p*q, in base 10, followed by the end token.
Every ordered pair has probability 1/P**2, P = the number of n-digit primes.

Models (all follow ``nextdigit.models``' protocol; the hidden-state ones extend it explicitly):

``ForwardSemiprimeModel``
    p and q digit by digit with an exact prime model, then N copied out. Exact and cheap.
``HonestReversedModel``
    Exact for ``(N,p,q)``: N's digits from exact semiprime prefix counts
    S(prefix) = #{(p,q): p*q starts with prefix} = sum over p of pi-differences of q-ranges
    (vectorised over all n-digit primes with a pi table, so n <= 7), then p and q from factoring
    N (``factoring.factor``). Its cost grows like 10**n (the counts) and 10**(n/2) (rho).
``BudgetedReversedModel``
    Polynomial by construction: N's digits from a density approximation of S (a 64-point
    quadrature over p of the prime density of q), then Pollard-Brent rho limited to ``budget``
    iterations; when the budget runs out it guesses (a random n-digit p, q = round(N/p)). Fast,
    sometimes wrong.
``HiddenStreamModel``
    Writes p and q into a hidden stream first, then the public ``(N,p,q)``: its step function is
    ``step(prompt, hidden, output, rng) -> (stream, distribution)``, and
    ``models.generate_with_hidden`` returns both streams. Exact and polynomial.
``HiddenSeedModel``
    A deterministic function of a seed drawn out of sight before the first token (no other
    randomness): ``next_token_distribution(prompt, output, seed)``, run by
    ``models.generate_with_seed``. With ``exact=True`` (small n) the seed indexes the P**2 pairs,
    so the distribution is exactly the target.

The reduction ``factor_with_model(N, model)`` forces the output prefix ``(N,``, lets the model
continue, parses p and q, and returns them if p*q == N (else None). It works with any model of
the plain signature. The attack's measured table is ``nextdigit.analysis.costs.attack_table``.

Why a good reversed model factors (Claim 3, sharp form)
--------------------------------------------------------
Let T be the target and M a plain autoregressive model, both over strings ``(N, rest)``; write
T_N, M_N for their laws of N and s(N) for the probability that M, forced to ``(N,``, continues
with a correct factorization. For an autoregressive model that continuation *is* M's
conditional law given the prefix, so the reduction's success probability on N ~ T_N is
P = sum_N T_N(N) s(N). T puts all its mass on correct strings, hence the overlap satisfies

    sum min(M, T) <= sum_N min(M_N(N) s(N), T_N(N)) <= sum_N sqrt(M_N(N) s(N) T_N(N))
                  <= sqrt(sum_N M_N(N)) * sqrt(sum_N s(N) T_N(N)) = sqrt(P)

(min(x, y) <= sqrt(xy), then Cauchy-Schwarz), so TVD(M, T) = 1 - overlap >= 1 - sqrt(P), which
implies the form 1 - 2 sqrt(P) stated in the issue. A model that cannot factor (P ~ 0) is at
distance ~1 from the target. The argument fails for the hidden-seed model: forcing ``(N,`` does
not condition its seed, so its continuation is not its conditional law, and it fails the
reduction while being exact.
"""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from .._util.rng import as_generator, uniform_below
from .._util.validate import as_int, check_digits
from ..counting import primes_between
from ..factoring import factor, rho_factor
from ..models import END, Vocabulary, generate, generate_with_hidden, generate_with_seed
from ..randprime import random_prime
from .primes import ExactPrimeModel

__all__ = [
    "SemiprimeTask",
    "ForwardSemiprimeModel",
    "HonestReversedModel",
    "BudgetedReversedModel",
    "HiddenStreamModel",
    "HiddenSeedModel",
    "factor_with_model",
    "parse_triple",
    "HONEST_MAX_DIGITS",
]

HONEST_MAX_DIGITS = 7


def _check_n(digits) -> int:
    return check_digits(digits)


def parse_triple(text: str):
    """``"(a,b,c)"`` -> (a, b, c) as ints, or None when the text is not of that form."""
    if not (isinstance(text, str) and text.startswith("(") and text.endswith(")")):
        return None
    parts = text[1:-1].split(",")
    if len(parts) != 3 or not all(p.isdigit() and (p == "0" or not p.startswith("0")) for p in parts):
        return None
    return tuple(int(p) for p in parts)


class _Primes:
    """The n-digit primes, their count, and a pi table below 10**n (for small n)."""

    def __init__(self, n: int):
        self.n = n
        self.lo, self.hi = (10 ** (n - 1) if n > 1 else 2), 10**n
        self.list = primes_between(self.lo, self.hi).astype(np.int64)
        self.count = len(self.list)
        flags = np.zeros(self.hi + 1, dtype=np.int64)
        flags[self.list] = 1
        self.pi = np.cumsum(flags)          # pi[x] = #n-digit primes <= x
        self.set = set(self.list.tolist())

    def pi_at(self, x: np.ndarray) -> np.ndarray:
        return self.pi[np.clip(x, 0, self.hi)]


class SemiprimeTask:
    """The target distribution: ``(p,q,N)`` (order='forward') or ``(N,p,q)`` ('reversed')."""

    def __init__(self, digits, order: str = "reversed"):
        self.digits = _check_n(digits)
        if order not in ("forward", "reversed"):
            raise ValueError(f"order must be 'forward' or 'reversed', got {order!r}")
        self.order = order

    def text(self, p: int, q: int) -> str:
        N = p * q
        return f"({p},{q},{N})" if self.order == "forward" else f"({N},{p},{q})"

    def enumerate(self) -> dict[str, Fraction]:
        """Every string of the target with its exact probability (small n: P**2 strings)."""
        pr = _Primes(self.digits).list.tolist()
        if len(pr) ** 2 > 5_000_000:
            raise ValueError(f"the target has {len(pr) ** 2} strings; enumerate() is for small digits")
        w = Fraction(1, len(pr) ** 2)
        return {self.text(p, q): w for p in pr for q in pr}

    def sample(self, rng=None) -> str:
        gen = as_generator(rng)
        return self.text(random_prime(self.digits, gen), random_prime(self.digits, gen))

    def sample_pair(self, rng=None) -> tuple[int, int]:
        gen = as_generator(rng)
        return random_prime(self.digits, gen), random_prime(self.digits, gen)


# ---------------------------------------------------------------------------------------------
# helpers shared by the models
# ---------------------------------------------------------------------------------------------
def _fields(output: str):
    """Split a partial output ``(a,b,c)`` into its fields; None if it is not such a prefix."""
    if output == "":
        return []
    if not output.startswith("("):
        return None
    body = output[1:]
    closed = body.endswith(")")
    if closed:
        body = body[:-1]
    parts = body.split(",")
    if len(parts) > 3 or any(not (p == "" or p.isdigit()) for p in parts) or ")" in body:
        return None
    return parts + ([")"] if closed else [])


def _counts_to_vector(vocab: Vocabulary, weights: dict[str, int]) -> list[int]:
    c = [0] * len(vocab)
    for tok, w in weights.items():
        c[vocab.index(tok)] += int(w)
    return c


class _SemiprimeModelBase:
    deterministic = True

    def __init__(self, digits):
        self.digits = _check_n(digits)
        self.vocab = Vocabulary(10)

    @property
    def name(self) -> str:
        return f"{type(self).__name__}(digits={self.digits})"

    def __repr__(self) -> str:
        return self.name

    def next_token_distribution(self, prompt: str, output: str, rng=None) -> np.ndarray:
        c = self.next_token_counts(prompt, output)
        total = sum(c)
        return np.array([x / total for x in c])

    def next_token_counts(self, prompt: str, output: str) -> list[int]:
        """The shared frame: ``(`` first, the end token after ``)`` (or after anything that is
        not a partial ``(a,b,c)``); the fields in between are the subclass's ``_field_counts``."""
        f, v = _fields(output), self.vocab
        if not f or f[-1] == ")":   # outside the (a,b,c) frame: open it, or end
            return _counts_to_vector(v, {"(" if f == [] else END: 1})
        return self._field_counts(f)


def _end_counts(vocab):
    return _counts_to_vector(vocab, {END: 1})


# ---------------------------------------------------------------------------------------------
# forward
# ---------------------------------------------------------------------------------------------
class ForwardSemiprimeModel(_SemiprimeModelBase):
    """``(p,q,N)``: p and q from the exact prime model, N = p*q copied out (exact)."""

    def __init__(self, digits):
        super().__init__(digits)
        self._prime_model = ExactPrimeModel(self.digits)

    def _field_counts(self, f: list[str]) -> list[int]:
        v = self.vocab
        k = len(f)
        cur = f[-1]
        if k <= 2:  # writing p (k=1) or q (k=2)
            if len(cur) < self.digits:
                try:
                    return self._prime_model.next_token_counts("", cur)
                except ValueError:
                    return _end_counts(v)   # not a prefix of any n-digit prime: give up
            return _counts_to_vector(v, {",": 1})
        N = str(int(f[0]) * int(f[1])) if f[0] and f[1] else ""
        if not N or not N.startswith(cur):
            return _end_counts(v)
        return _counts_to_vector(v, {N[len(cur)]: 1} if len(cur) < len(N) else {")": 1})


# ---------------------------------------------------------------------------------------------
# honest reversed
# ---------------------------------------------------------------------------------------------
class HonestReversedModel(_SemiprimeModelBase):
    """Exact ``(N,p,q)`` from semiprime prefix counts and factoring (n <= 7)."""

    def __init__(self, digits):
        super().__init__(digits)
        if self.digits > HONEST_MAX_DIGITS:
            raise ValueError(
                f"HonestReversedModel counts semiprime prefixes with a pi table below 10**digits; "
                f"digits must be <= {HONEST_MAX_DIGITS} (its cost grows like 10**digits), got "
                f"{self.digits}; use BudgetedReversedModel"
            )
        self._P = _Primes(self.digits)
        self._p = self._P.list
        self._qlo, self._qhi = int(self._p[0]), int(self._p[-1])

    def pairs_in(self, A: int, B: int) -> int:
        """#{(p, q) n-digit primes: A <= p*q < B}: sum over p of pi-differences."""
        if B <= A:
            return 0
        p = self._p
        qmin = np.maximum(-(-A // p), self._qlo)          # ceil(A / p)
        qmax = np.minimum((B - 1) // p, self._qhi)
        ok = qmax >= qmin
        return int((self._P.pi_at(qmax[ok]) - self._P.pi_at(qmin[ok] - 1)).sum())

    def prefix_pairs(self, prefix: str) -> int:
        """S(prefix): ordered pairs whose product's decimal expansion starts with ``prefix``."""
        v, k = int(prefix), len(prefix)
        total = 0
        for L in (2 * self.digits - 1, 2 * self.digits):
            if L < k:
                continue
            A = max(v * 10 ** (L - k), 10 ** (L - 1))
            B = min((v + 1) * 10 ** (L - k), 10**L)
            total += self.pairs_in(A, B)
        return total

    def _factor_pairs(self, N: int) -> list[tuple[int, int]]:
        if N < 4:
            return []
        f = factor(N)
        if sum(f.values()) != 2:
            return []
        ps = sorted(f)
        p, q = (ps[0], ps[0]) if len(ps) == 1 else (ps[0], ps[1])
        if p not in self._P.set or q not in self._P.set:
            return []
        return [(p, q)] if p == q else [(p, q), (q, p)]

    def _field_counts(self, f: list[str]) -> list[int]:
        v = self.vocab
        k, cur = len(f), f[-1]
        if k == 1:  # writing N
            w = {}
            for d in "0123456789":
                if cur == "" and d == "0":
                    continue
                s = self.prefix_pairs(cur + d)
                if s:
                    w[d] = s
            if cur and len(cur) >= 2 * self.digits - 1:
                exact = self.pairs_in(int(cur), int(cur) + 1)
                if exact:
                    w[","] = exact
            return _counts_to_vector(v, w) if w else _end_counts(v)
        pairs = self._factor_pairs(int(f[0])) if f[0] else []
        if k == 2:
            pairs = [pq for pq in pairs if str(pq[0]).startswith(cur)]
            if not pairs:
                return _end_counts(v)
            w: dict[str, int] = {}
            for p, _ in pairs:
                s = str(p)
                tok = s[len(cur)] if len(cur) < len(s) else ","
                w[tok] = w.get(tok, 0) + 1
            return _counts_to_vector(v, w)
        q_opts = [q for p, q in pairs if str(p) == f[1]]
        if not q_opts or not str(q_opts[0]).startswith(cur):
            return _end_counts(v)
        q = str(q_opts[0])
        return _counts_to_vector(v, {q[len(cur)]: 1} if len(cur) < len(q) else {")": 1})


# ---------------------------------------------------------------------------------------------
# budgeted reversed (polynomial, approximate)
# ---------------------------------------------------------------------------------------------
class BudgetedReversedModel:
    """Polynomial-time ``(N,p,q)`` model: density approximation for N, rho with a budget.

    Randomized (it guesses when the budget runs out), so it has no ``next_token_counts``.
    """

    deterministic = False

    def __init__(self, digits, budget: int = 2000, nodes: int = 64):
        self.digits = _check_n(digits)
        self.budget = as_int(budget, "budget")
        if self.budget < 1:
            raise ValueError(f"budget must be >= 1, got {self.budget}")
        self.vocab = Vocabulary(10)
        n = self.digits
        plo, phi = (10 ** (n - 1) if n > 1 else 2), 10**n
        # midpoint rule in log p over [plo, phi): nodes, weights = prime mass of each block
        edges = np.geomspace(plo, phi, as_int(nodes, "nodes") + 1)
        self._pm = np.sqrt(edges[:-1] * edges[1:])
        self._pw = np.diff(edges) / np.log(self._pm)
        self._qlo, self._qhi = float(plo), float(phi)

    @property
    def name(self) -> str:
        return f"BudgetedReversedModel(digits={self.digits}, budget={self.budget})"

    def _approx_pairs(self, A: float, B: float) -> float:
        """~#{(p,q): A <= pq < B}: sum over p-nodes of the q-density mass (Simpson)."""
        lo = np.maximum(A / self._pm, self._qlo)
        hi = np.minimum(B / self._pm, self._qhi)
        ok = hi > lo
        lo, hi = lo[ok], hi[ok]
        mid = 0.5 * (lo + hi)
        mass = (hi - lo) / 6 * (1 / np.log(lo) + 4 / np.log(mid) + 1 / np.log(hi))
        return float((self._pw[ok] * mass).sum())

    def _approx_prefix(self, prefix: str) -> float:
        v, k = int(prefix), len(prefix)
        total = 0.0
        for L in (2 * self.digits - 1, 2 * self.digits):
            if L >= k:
                A = max(v * 10 ** (L - k), 10 ** (L - 1))
                B = min((v + 1) * 10 ** (L - k), 10**L)
                if B > A:
                    total += self._approx_pairs(float(A), float(B))
        return total

    def _factors(self, N: int):
        if N < 4:
            return None
        r = math.isqrt(N)
        d = r if r * r == N else rho_factor(N, budget=self.budget)
        if d is None:
            return None
        p, q = sorted((d, N // d))
        lo, hi = (10 ** (self.digits - 1) if self.digits > 1 else 2), 10**self.digits
        if not (lo <= p < hi and lo <= q < hi):
            return None
        return p, q

    def next_token_distribution(self, prompt: str, output: str, rng) -> np.ndarray:
        f, v = _fields(output), self.vocab
        if not f or f[-1] == ")":   # outside the (a,b,c) frame: open it, or end
            return v.point_mass("(" if f == [] else END)
        k, cur = len(f), f[-1]
        if k == 1:
            w = np.zeros(len(v))
            for d in "0123456789":
                if cur == "" and d == "0":
                    continue
                w[v.index(d)] = self._approx_prefix(cur + d)
            if cur and len(cur) >= 2 * self.digits - 1:
                w[v.index(",")] = self._approx_pairs(float(int(cur)), float(int(cur) + 1))
            if w.sum() <= 0:
                return v.point_mass(END)
            return w / w.sum()
        gen = as_generator(rng)
        N = int(f[0]) if f[0] else 0
        fac = self._factors(N)
        if k == 2:
            # the factors consistent with what is written so far (both orders when p != q)
            options = sorted({str(x) for x in fac if str(x).startswith(cur)}) if fac is not None else []
            if options:
                target = options[uniform_below(gen, len(options))]
            else:  # budget exhausted (or an unknown N): a guess
                target = str(random_prime(self.digits, gen))
            if not target.startswith(cur) or len(cur) >= len(target):
                return v.point_mass(",") if len(cur) >= self.digits else v.point_mass(END)
            return v.point_mass(target[len(cur)])
        p = int(f[1]) if f[1] else 1
        q = str(N // p) if fac is not None and N % p == 0 else str(max(1, round(N / p)))
        if not q.startswith(cur):
            return v.point_mass(END)
        return v.point_mass(q[len(cur)]) if len(cur) < len(q) else v.point_mass(")")


# ---------------------------------------------------------------------------------------------
# hidden state: a hidden stream, or a hidden seed
# ---------------------------------------------------------------------------------------------
class HiddenStreamModel:
    """Writes ``p,q`` to a hidden stream (exact prime model), then the public ``(N,p,q)``.

    ``step(prompt, hidden, output, rng) -> (stream, distribution)``: ``stream`` is "hidden" or
    "public" and says where the sampled token goes. The hidden stream ends with ``;``
    (represented by the end token of the hidden part).
    """

    def __init__(self, digits):
        self.digits = _check_n(digits)
        self.vocab = Vocabulary(10)
        self._prime_model = ExactPrimeModel(self.digits)

    @property
    def name(self) -> str:
        return f"HiddenStreamModel(digits={self.digits})"

    def step(self, prompt: str, hidden: str, output: str, rng):
        v = self.vocab
        parts = hidden.split(",")
        if len(parts) == 1 or (len(parts) == 2 and len(parts[1]) < self.digits):
            cur = parts[-1]
            if len(cur) < self.digits:
                return "hidden", self._prime_model.next_token_distribution("", cur)
            return "hidden", v.point_mass(",")
        p, q = int(parts[0]), int(parts[1])
        text = f"({p * q},{p},{q})"
        # continue the public text from wherever it is (a forced prefix is ignored: the model
        # writes its own triple's remaining characters by position)
        if len(output) < len(text):
            return "public", v.point_mass(text[len(output)])
        return "public", v.point_mass(END)


class HiddenSeedModel:
    """Deterministic given a seed drawn out of sight: ``next_token_distribution(prompt, output,
    seed)`` returns a point mass. ``exact=True`` (default for <= 3 digits) maps the seed in
    [0, P**2) to the ordered pair (primes[s // P], primes[s % P]), so the output law is exactly
    the target; otherwise the seed (128 bits) seeds a PCG64 stream for ``random_prime``."""

    deterministic = True

    def __init__(self, digits, exact: bool | None = None):
        self.digits = _check_n(digits)
        self.vocab = Vocabulary(10)
        self.exact = self.digits <= 3 if exact is None else bool(exact)
        if self.exact:
            self._primes = _Primes(self.digits).list.tolist()
            self.seed_space = len(self._primes) ** 2
        else:
            self.seed_space = 1 << 128

    @property
    def name(self) -> str:
        return f"HiddenSeedModel(digits={self.digits}, exact={self.exact})"

    def pair(self, seed: int) -> tuple[int, int]:
        if self.exact:
            P = len(self._primes)
            return self._primes[seed // P], self._primes[seed % P]
        gen = np.random.default_rng(seed)
        return random_prime(self.digits, gen), random_prime(self.digits, gen)

    def next_token_distribution(self, prompt: str, output: str, seed: int) -> np.ndarray:
        p, q = self.pair(seed)
        own = [str(p * q), str(p), str(q)]
        f, v = _fields(output), self.vocab
        if not f or f[-1] == ")":   # outside the (a,b,c) frame: open it, or end
            return v.point_mass("(" if f == [] else END)
        k, cur = len(f), f[-1]
        field = own[k - 1]
        # a field the model did not write itself (a forced prefix) is not its own: it goes on
        # with its own next field once the current one is as long as its own
        if len(cur) < len(field) and field.startswith(cur):
            return v.point_mass(field[len(cur)])
        return v.point_mass("," if k < 3 else ")")


# ---------------------------------------------------------------------------------------------
# the reduction
# ---------------------------------------------------------------------------------------------
def factor_with_model(N, model, rng=None):
    """Force the output prefix ``(N,``, let ``model`` continue, parse ``(N,p,q)`` and return
    ``(p, q)`` if p*q == N with p, q > 1, else None. Works with any model of the plain signature;
    hidden-stream and hidden-seed models are run with their own drivers (and fail, as they should:
    the forced prefix does not condition their hidden state)."""
    N = as_int(N, "N")
    if N < 4:
        raise ValueError(f"N must be >= 4, got {N}")
    prefix = f"({N},"
    gen = as_generator(rng)
    if isinstance(model, HiddenSeedModel):
        text, _ = generate_with_seed(model, rng=gen, output_prefix=prefix)
    elif isinstance(model, HiddenStreamModel):
        text, _ = generate_with_hidden(model, rng=gen, output_prefix=prefix)
    else:
        try:
            text = generate(model, "", gen, max_tokens=10 * len(prefix) + 100, output_prefix=prefix)
        except RuntimeError:
            return None
    t = parse_triple(text)
    if t is None or t[0] != N:
        return None
    _, p, q = t
    if p > 1 and q > 1 and p * q == N:
        return p, q
    return None
