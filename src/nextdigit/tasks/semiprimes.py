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
the plain signature; for the models here (they have ``digits``) an N outside [lo**2, (hi-1)**2],
the products of their factors' range, is answered None at once, before any factoring. The attack's measured table is ``nextdigit.analysis.costs.attack_table``.

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
from .._util.validate import as_choice, as_int, as_int_in, check_digits, int_to_str, short, str_to_int
from ..counting import count_primes, primes_between
from ..factoring import factor, rho_factor
from ..models import END, Vocabulary, generate, generate_with_hidden, generate_with_seed
from ..primality import is_prime
from ..randprime import random_prime
from .primes import ExactPrimeModel, RandomizedPrimeModel

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
ENUMERATE_MAX_STRINGS = 5_000_000   # SemiprimeTask.enumerate(): P**2 strings as Python objects
EXACT_SEED_MAX_DIGITS = 8           # HiddenSeedModel(exact=True): the list of n-digit primes is kept


def _check_n(digits) -> int:
    return check_digits(digits)


def _range(n: int) -> tuple[int, int]:
    """[lo, hi) of the n-digit primes' candidates (1 is not a prime)."""
    return (10 ** (n - 1) if n > 1 else 2), 10**n


def _product_range(n: int) -> tuple[int, int]:
    """[lo, hi] of the products p*q of two n-digit numbers: a model of n-digit factors can never
    write an N outside it (checked before any factoring: a 49-digit N would take a 2-digit
    model's factoring for ever)."""
    lo, hi = _range(n)
    return lo * lo, (hi - 1) * (hi - 1)


def parse_triple(text: str):
    """``"(a,b,c)"`` -> (a, b, c) as ints, or None when the text is not of that form."""
    if not (isinstance(text, str) and text.startswith("(") and text.endswith(")")):
        return None
    parts = text[1:-1].split(",")
    if len(parts) != 3 or not all(p.isdigit() and p.isascii() and (p == "0" or not p.startswith("0")) for p in parts):
        return None
    return tuple(str_to_int(p) for p in parts)


class _Primes:
    """The n-digit primes, their count, and a pi table below 10**n (for small n)."""

    def __init__(self, n: int, table: bool = True):
        self.n = n
        self.lo, self.hi = _range(n)
        self.list = primes_between(self.lo, self.hi).astype(np.int64)
        self.count = len(self.list)
        if table:   # 8 * 10**n bytes: only for the honest model (n <= HONEST_MAX_DIGITS)
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
        self.order = as_choice(order, "order", ("forward", "reversed"))

    def text(self, p: int, q: int) -> str:
        p, q = as_int(p, "p"), as_int(q, "q")
        P, Q, N = int_to_str(p), int_to_str(q), int_to_str(p * q)
        return f"({P},{Q},{N})" if self.order == "forward" else f"({N},{P},{Q})"

    def enumerate(self) -> dict[str, Fraction]:
        """Every string of the target with its exact probability (small n: P**2 strings, at most
        ``ENUMERATE_MAX_STRINGS``; the count P is taken before any list is built)."""
        lo, hi = _range(self.digits)
        count = count_primes(lo, hi) if self.digits <= 19 else None
        if count is None or count**2 > ENUMERATE_MAX_STRINGS:
            size = "more than 10**36" if count is None else str(count**2)
            raise ValueError(f"the target of {self.digits}-digit primes has {size} strings, more than "
                             f"{ENUMERATE_MAX_STRINGS}; enumerate() is for small digits (<= 3)")
        pr = _Primes(self.digits, table=False).list.tolist()
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
        n = self.digits
        if k <= 2:  # writing p (k=1) or q (k=2)
            if len(cur) < n:
                try:
                    return self._prime_model.next_token_counts("", cur)
                except ValueError:
                    return _end_counts(v)   # not a prefix of any n-digit prime: give up
            return _counts_to_vector(v, {",": 1}) if len(cur) == n else _end_counts(v)
        if len(f[0]) != n or len(f[1]) != n:      # a forced p or q no n-digit prime model writes
            return _end_counts(v)
        N = int_to_str(int(f[0]) * int(f[1]))
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
        lo, hi = _product_range(self.digits)
        if not lo <= N <= hi:         # outside every p*q of n-digit numbers: no factoring
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
        if k == 1 and len(cur) > 2 * self.digits:   # a forced N longer than any p*q
            return _end_counts(v)
        if k > 1 and len(f[0]) > 2 * self.digits:
            return _end_counts(v)
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

    N's digits come from ~#{(p, q): A <= p q < B} = sum over ``nodes`` p-nodes (midpoint rule
    in log p) of the prime mass of p's block times the prime-density mass of q in
    [A/p, B/p) (Simpson in 1/ln q).  Everything is scaled so that it works for factors of any
    length: p and q as multiples of S = 10**(n-1) (so their scaled values lie in [1, 10)), N of
    S**2, and the widths B - A of the candidates at one step in units of 10**-c (c digits of N
    written): the weights of the candidates are ratios, so the common scale never has to be a
    float (it underflows beyond ~150-digit factors).
    """

    deterministic = False

    def __init__(self, digits, budget: int = 2000, nodes: int = 64):
        self.digits = _check_n(digits)
        self.budget = as_int(budget, "budget")
        if self.budget < 1:
            raise ValueError(f"budget must be >= 1, got {short(self.budget)}")
        self.nodes = as_int_in(nodes, "nodes", 1, 1 << 20)
        self.vocab = Vocabulary(10)
        n = self.digits
        plo, phi = _range(n)
        self._S = 10 ** (n - 1)
        self._S2 = self._S * self._S
        self._lnS = (n - 1) * math.log(10)
        lo, hi = plo / self._S, phi / self._S                  # 1 (2 for n = 1) and 10
        # midpoint rule in log p over [lo, hi): nodes, weights = prime mass of each block / S
        edges = np.geomspace(lo, hi, self.nodes + 1)
        self._pm = np.sqrt(edges[:-1] * edges[1:])
        self._pw = np.diff(edges) / (self._lnS + np.log(self._pm))
        self._qlo, self._qhi = lo, hi
        self._guesser = RandomizedPrimeModel(n)      # its vocabulary is this model's: digits, ( , ) $

    @property
    def name(self) -> str:
        return f"BudgetedReversedModel(digits={self.digits}, budget={short(self.budget)})"

    def __repr__(self) -> str:
        return self.name

    def _approx_pairs(self, A: int, B: int, c: int) -> float:
        """~#{(p,q): A <= pq < B} in units of S**2 * 10**-c (module docstring of the class)."""
        a = A / self._S2                                      # exact ints -> correctly rounded floats
        wr = (B - A) * 10**c / self._S2                       # the width in units of 10**-c: 1, 10 or 100
        u = 10.0 ** (-c) if c < 300 else 0.0                  # 10**-c as a float (0 once it underflows)
        pm = self._pm
        x = a / pm                                            # q's interval starts at A/p
        clip = np.maximum(self._qlo - x, 0.0) + np.maximum(x + wr * u / pm - self._qhi, 0.0)
        if u > 0:
            width = wr / pm - clip / u
        else:                                                 # an interval narrower than any float
            width = np.where(clip > 0, 0.0, wr / pm)
        ok = width > 0
        if not ok.any():
            return 0.0
        lo = np.maximum(x[ok], self._qlo)
        hi = np.maximum(np.minimum(x[ok] + wr * u / pm[ok], self._qhi), lo)
        ln = self._lnS
        dens = (1 / (ln + np.log(lo)) + 4 / (ln + np.log(0.5 * (lo + hi))) + 1 / (ln + np.log(hi))) / 6
        return float((self._pw[ok] * width[ok] * dens).sum())

    def _approx_prefix(self, prefix: str, c: int) -> float:
        v, k = str_to_int(prefix), len(prefix)
        total = 0.0
        for L in (2 * self.digits - 1, 2 * self.digits):
            if L >= k:
                A = max(v * 10 ** (L - k), 10 ** (L - 1))
                B = min((v + 1) * 10 ** (L - k), 10**L)
                if B > A:
                    total += self._approx_pairs(A, B, c)
        return total

    def _factors(self, N: int):
        lo, hi = _product_range(self.digits)
        if not lo <= N <= hi:          # no pair of n-digit factors gives N: nothing to search
            return None
        r = math.isqrt(N)
        if r * r != N and is_prime(N):   # no factor to find (rho refuses primes)
            return None
        d = r if r * r == N else rho_factor(N, budget=self.budget)
        if d is None:
            return None
        p, q = sorted((d, N // d))
        lo, hi = _range(self.digits)
        if not (lo <= p < hi and lo <= q < hi):
            return None
        return p, q

    def next_token_distribution(self, prompt: str, output: str, rng) -> np.ndarray:
        f, v = _fields(output), self.vocab
        if not f or f[-1] == ")":   # outside the (a,b,c) frame: open it, or end
            return v.point_mass("(" if f == [] else END)
        k, cur = len(f), f[-1]
        n = self.digits
        if len(f[0]) > 2 * n:       # a forced N longer than any product of n-digit factors
            return v.point_mass(END)
        if k == 1:
            c = len(cur)
            w = np.zeros(len(v))
            for d in "0123456789":
                if cur == "" and d == "0":
                    continue
                w[v.index(d)] = self._approx_prefix(cur + d, c)
            if cur and c >= 2 * n - 1:
                x = str_to_int(cur)
                w[v.index(",")] = self._approx_pairs(x, x + 1, c)
            if w.sum() <= 0:
                return v.point_mass(END)
            return w / w.sum()
        gen = as_generator(rng)
        N = str_to_int(f[0]) if f[0] else 0
        fac = self._factors(N)
        if k == 2:
            # the factors consistent with what is written so far (both orders when p != q)
            options = sorted({int_to_str(x) for x in fac if int_to_str(x).startswith(cur)}) if fac is not None else []
            if options:
                target = options[uniform_below(gen, len(options))]
                if len(cur) >= len(target):
                    return v.point_mass(",")
                return v.point_mass(target[len(cur)])
            # budget exhausted (or an unknown N): guess a uniform n-digit prime, digit by digit
            # among the primes that extend what is written (the stateless randomized sampler;
            # drawing a whole new prime at every token would contradict the digits already out)
            if len(cur) >= n:
                return v.point_mass(",") if len(cur) == n else v.point_mass(END)
            try:
                return self._guesser.next_token_distribution("", cur, gen)
            except ValueError:           # no n-digit prime starts with a forced prefix
                return v.point_mass(END)
        if len(f[1]) > n + 1:
            return v.point_mass(END)
        p = str_to_int(f[1]) if f[1] else 1
        p = max(p, 1)
        # q = N / p (rounded, in integers: N / p as a float overflows beyond 1e308)
        q = int_to_str(N // p) if fac is not None and N % p == 0 else int_to_str(max(1, (2 * N + p) // (2 * p)))
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
        if exact is not None and not isinstance(exact, (bool, np.bool_)):
            raise TypeError(f"exact must be None, True or False, not {type(exact).__name__}")
        self.exact = self.digits <= 3 if exact is None else bool(exact)
        if self.exact:
            if self.digits > EXACT_SEED_MAX_DIGITS:
                raise ValueError(f"HiddenSeedModel(exact=True) keeps the list of the n-digit primes; digits must be "
                                 f"<= {EXACT_SEED_MAX_DIGITS}, got {self.digits} (exact=False draws them instead)")
            self._primes = _Primes(self.digits, table=False).list.tolist()
            self.seed_space = len(self._primes) ** 2
        else:
            self.seed_space = 1 << 128

    @property
    def name(self) -> str:
        return f"HiddenSeedModel(digits={self.digits}, exact={self.exact})"

    def pair(self, seed: int) -> tuple[int, int]:
        seed = as_int(seed, "seed")
        if not 0 <= seed < self.seed_space:
            raise ValueError(f"seed must be in [0, {short(self.seed_space)}), got {short(seed)}")
        if self.exact:
            P = len(self._primes)
            return self._primes[seed // P], self._primes[seed % P]
        gen = np.random.default_rng(seed)
        return random_prime(self.digits, gen), random_prime(self.digits, gen)

    def next_token_distribution(self, prompt: str, output: str, seed: int) -> np.ndarray:
        p, q = self.pair(seed)
        own = [int_to_str(p * q), int_to_str(p), int_to_str(q)]
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
        raise ValueError(f"N must be >= 4, got {short(N)}")
    if not callable(getattr(model, "next_token_distribution", None)) and not callable(getattr(model, "step", None)):
        raise TypeError(f"model must be a model with next_token_distribution (or step), not {type(model).__name__}")
    gen = as_generator(rng)
    n = getattr(model, "digits", None)
    if isinstance(n, int) and not isinstance(n, bool) and n >= 1:
        lo, hi = _product_range(n)
        if not lo <= N <= hi:
            return None   # no n-digit p, q give this N: the model cannot write (N,p,q) at all
    prefix = f"({int_to_str(N)},"
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
