"""Random polynomials with integer roots: an autoregressive model must *count* what a
hidden-state model simply *picks*.

The task
--------
``PolyRootsTask(degree, low, high)``: draw the roots r_1, ..., r_d (d = degree) independently and
uniformly from the R = high - low + 1 integers of [low, high] (negative roots allowed), expand the
monic polynomial

    (x - r_1)(x - r_2)...(x - r_d) = x^d + c_{d-1} x^{d-1} + ... + c_1 x + c_0

and write

    (c_{d-1},...,c_1,c_0,s_1,...,s_d)

followed by the end token: first the d coefficients, highest degree first (the leading 1 is
implicit), then the roots sorted ascending, s_1 <= ... <= s_d.  Every number is written in base
10 in canonical form: a leading ``-`` for negatives, no ``+``, no leading zeros, zero as ``0``.
Example: roots 2, -1, 2 give (x + 1)(x - 2)^2 = x^3 - 3x^2 + 0x + 4, written ``(-3,0,4,-1,2,2)``.
The vocabulary is ``Vocabulary(10, extra="-")``.

The law of the output, exactly.  The text depends only on the root *multiset* (the coefficients
are symmetric functions of the roots and the roots are written sorted), and distinct multisets
give distinct texts (Z[x] has unique factorization, so the coefficients alone already determine
the multiset).  A multiset in which the value v occurs m_v times (sum m_v = d) comes from
d! / prod_v m_v! ordered tuples, so

    P(text) = (d! / prod_v m_v!) / R^d,

on exactly C(R + d - 1, d) texts (the multisets of size d drawn from R values).

Why the autoregressive model is expensive
-----------------------------------------
A plain autoregressive model writes c_{d-1} first and never sees the roots, so it has to emit
the *marginal* law of the coefficient text: the next character after a prefix s has probability
N(s + ch) / N(s), where N(s) is the number of ordered root tuples whose text starts with s.
A prefix constrains the elementary symmetric functions e_k(r) = (-1)^k c_{d-k} digit by digit,
and there is no shortcut for counting the tuples that satisfy a set of digit constraints on
several symmetric functions at once: ``PolyRootsARModel`` enumerates the root multisets.

* Once per task it builds a table: the M = C(R + d - 1, d) multisets (vectorised with numpy),
  their coefficients (expanded column by column, O(M d^2) integer operations), their weights
  d! / prod m_v! (the multinomial multiplicities, from run lengths) and the texts
  ``(c_{d-1},...,c_0,`` as a byte matrix stored one character position per row.  This is a
  lookup table of the task, not of any sample.
* Every call ``next_token_counts(prompt, output)`` is stateless: it compares the output with the
  first k = len(output) characters of all M rows (k vectorised byte comparisons of length M) and
  sums the weights of the consistent rows by their next character.  Cost Theta(M k) per call,
  so Theta(M L^2) per sample for a coefficient text of L characters, and M grows like
  R^d / d!: exponential in the degree.
* The roots are cheap.  Once the d coefficients are written the polynomial is known, and its
  integer roots divide its lowest non-zero coefficient (rational root theorem for a monic
  polynomial): the model tries the divisors and deflates by synthetic division
  (``integer_roots``), O(d * #divisors) big-integer operations and no table.  The weight of
  every root character is the multiplicity of the multiset, so the probabilities telescope to
  the target.  It is the coefficients-first order that is hard, as ``(N,p,q)`` is in
  ``nextdigit.tasks.semiprimes``; roots-first would be easy.

Why the hidden-state models are cheap
-------------------------------------
``PolyRootsHiddenSeedModel`` draws a seed s uniform in [0, R^d) out of sight; its base-R digits
are the ordered root tuple (r_i = low + digit_i).  It sorts them, expands the product (O(d^2)
multiplications), and writes its own text one character per call: O(d^2 + L) per sample.  The
seed is uniform over ordered tuples, so its output law is exactly the target.
``PolyRootsHiddenStreamModel`` does the same with scratch tokens instead of a seed: it first
writes the offsets r_i - low (zero-padded to w = len(str(R - 1)) digits, each offset uniform on
[0, R) digit by digit from exact interval counts) to a hidden stream, then the public text.

Cost model, measured by ``nextdigit.analysis.costs.polyroots_cost_table``: per sample the AR model makes ~ L calls of Theta(M k)
byte comparisons, Theta(M L^2) in all (plus Theta(M d^2) once per task for the table); the
hidden-seed model does Theta(d^2 + L).  The ratio grows with M = C(R + d - 1, d): measured on
one core, ~10x at d = 2, R = 19 (M = 190), 100-200x at d = 4, R = 41 (M = 135751) and over
1000x at d = 5, R = 41 (M = 1221759: 0.1-0.2 s against ~90 us per sample).

Conventions shared by every model here: the prompt is ignored (the tasks take none); a
deterministic model asked to continue an output that no target text starts with (a forced
prefix) returns the end token with weight 1, like the semiprime models; the hidden-state models
write their own text by position, whatever was forced before them.
"""
from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np

from .._util.rng import as_generator, uniform_below
from .._util.validate import as_int
from ..factoring import factor
from ..models import END, SeedTextModel, Vocabulary, counts_to_distribution

__all__ = [
    "PolyRootsTask",
    "PolyRootsARModel",
    "PolyRootsHiddenSeedModel",
    "PolyRootsHiddenStreamModel",
    "expand_roots",
    "integer_roots",
    "parse_polyroots",
]

MAX_DEGREE = 256                 # PolyRootsTask: degree in [1, MAX_DEGREE]
MAX_ABS_ROOT = 10**9             # PolyRootsTask: low, high in [-MAX_ABS_ROOT, MAX_ABS_ROOT]
AR_MAX_MULTISETS = 2_000_000     # PolyRootsARModel: table rows (memory ~ M * (L + 8) bytes)
AR_MAX_WEIGHT = 1 << 54          # PolyRootsARModel: R**d and coefficient sizes (int64 arithmetic)
TARGET_MAX_OUTCOMES = 500_000    # target_distribution(): outcomes enumerated as Python objects

_SIGNED_CHARS = frozenset("0123456789-,()")


# ---------------------------------------------------------------------------------------------
# polynomial arithmetic and the text format
# ---------------------------------------------------------------------------------------------
def expand_roots(roots) -> list[int]:
    """Coefficients [c_{d-1}, ..., c_0] of the monic polynomial prod (x - r) (exact, O(d^2)).

    >>> expand_roots([2, -1, 2])
    [-3, 0, 4]
    """
    poly = [1]                        # descending: poly[0] x^m + ... + poly[m]
    for r in roots:
        r = int(r)
        poly.append(0)
        for k in range(len(poly) - 1, 0, -1):
            poly[k] -= r * poly[k - 1]
    return poly[1:]


def _synthetic_division(poly: list[int], r: int) -> tuple[list[int], int]:
    """Divide the descending coefficient list ``poly`` by (x - r): (quotient, remainder)."""
    acc, out = 0, []
    for c in poly:
        acc = acc * r + c
        out.append(acc)
    return out[:-1], out[-1]


def _positive_divisors(n: int) -> list[int]:
    divs = [1]
    for p, e in factor(n).items():
        divs = [d * p**k for d in divs for k in range(e + 1)]
    return sorted(divs)


def integer_roots(coeffs) -> list[int] | None:
    """The integer roots, with multiplicity and ascending, of the monic polynomial
    x^d + c_{d-1} x^{d-1} + ... + c_0 (``coeffs`` = [c_{d-1}, ..., c_0]) when it splits into
    linear factors over Z, else None.

    Rational root theorem: an integer root of a monic integer polynomial with c_0 != 0 divides
    c_0.  Zero roots are split off first (x divides), then the divisors +-a of the lowest
    non-zero coefficient are tried in turn, each as often as synthetic division leaves no
    remainder.  Every remaining root divides the deflated constant, which divides the original
    one, so one pass over the divisors finds them all.

    >>> integer_roots([-3, 0, 4]), integer_roots([0, 1])
    ([-1, 2, 2], None)
    """
    poly = [1] + [int(c) for c in coeffs]
    roots: list[int] = []
    while len(poly) > 1 and poly[-1] == 0:
        roots.append(0)
        poly.pop()
    if len(poly) > 1:
        for a in _positive_divisors(abs(poly[-1])):
            for r in (a, -a):
                while len(poly) > 1:
                    q, rem = _synthetic_division(poly, r)
                    if rem:
                        break
                    roots.append(r)
                    poly = q
        if len(poly) > 1:
            return None
    return sorted(roots)


def _parse_int(s: str) -> int | None:
    """A canonical signed decimal (no '+', no leading zeros, no '-0'), else None."""
    body = s[1:] if s.startswith("-") else s
    if not body or not body.isdigit() or not body.isascii() or (len(body) > 1 and body[0] == "0") or s == "-0":
        return None
    return int(s)


def parse_polyroots(text: str, degree) -> tuple[list[int], list[int]] | None:
    """``"(c_{d-1},...,c_0,s_1,...,s_d)"`` -> (coefficients, roots) as int lists, or None when
    the text is not 2*degree canonical integers in that frame (consistency is not checked)."""
    d = as_int(degree, "degree")
    if not (isinstance(text, str) and text.startswith("(") and text.endswith(")")):
        return None
    fields = text[1:-1].split(",")
    if len(fields) != 2 * d:
        return None
    values = [_parse_int(f) for f in fields]
    if any(v is None for v in values):
        return None
    return values[:d], values[d:]


class PolyRootsTask:
    """Roots uniform in [low, high], output ``(c_{d-1},...,c_0,s_1,...,s_d)`` (module docstring)."""

    def __init__(self, degree, low, high):
        self.degree = as_int(degree, "degree")
        if not 1 <= self.degree <= MAX_DEGREE:
            raise ValueError(f"degree must be in [1, {MAX_DEGREE}], got {self.degree}")
        self.low = as_int(low, "low")
        self.high = as_int(high, "high")
        for name, v in (("low", self.low), ("high", self.high)):
            if abs(v) > MAX_ABS_ROOT:
                raise ValueError(f"{name} must be in [-{MAX_ABS_ROOT}, {MAX_ABS_ROOT}], got {v}")
        if self.low > self.high:
            raise ValueError(f"low must be <= high, got low={self.low}, high={self.high}")
        self.range_size = self.high - self.low + 1
        self.vocab = Vocabulary(10, extra="-")

    @property
    def name(self) -> str:
        return f"PolyRootsTask(degree={self.degree}, low={self.low}, high={self.high})"

    def __repr__(self) -> str:
        return self.name

    @property
    def num_tuples(self) -> int:
        """R^d ordered root tuples, all equally likely."""
        return self.range_size**self.degree

    @property
    def num_multisets(self) -> int:
        """C(R + d - 1, d) root multisets = distinct output texts."""
        return math.comb(self.range_size + self.degree - 1, self.degree)

    def multiplicity(self, roots) -> int:
        """d! / prod m_v!: the number of ordered tuples with the multiset of ``roots``."""
        out = math.factorial(len(roots))
        for _, group in itertools.groupby(sorted(roots)):
            out //= math.factorial(len(list(group)))
        return out

    def text(self, roots) -> str:
        """The output for a root tuple (any order; the roots must lie in [low, high])."""
        rs = sorted(as_int(r, "root") for r in roots)
        if len(rs) != self.degree or rs[0] < self.low or rs[-1] > self.high:
            raise ValueError(f"roots must be {self.degree} integers in [{self.low}, {self.high}], got {list(roots)}")
        return "(" + ",".join(str(v) for v in expand_roots(rs) + rs) + ")"

    def probability(self, text: str) -> Fraction:
        """The exact target probability of ``text`` (0 off the support)."""
        parsed = parse_polyroots(text, self.degree)
        if parsed is None:
            return Fraction(0)
        coeffs, roots = parsed
        if roots != sorted(roots) or roots[0] < self.low or roots[-1] > self.high or expand_roots(roots) != coeffs:
            return Fraction(0)
        return Fraction(self.multiplicity(roots), self.num_tuples)

    def sample_roots(self, rng=None) -> tuple[int, ...]:
        """An ordered root tuple (i.i.d. uniform in [low, high])."""
        gen = as_generator(rng)
        return tuple(self.low + uniform_below(gen, self.range_size) for _ in range(self.degree))

    def sample(self, rng=None) -> str:
        return self.text(self.sample_roots(rng))

    def target_distribution(self, max_outcomes: int = TARGET_MAX_OUTCOMES) -> dict[str, Fraction]:
        """{text: multiplicity / R^d} over all C(R + d - 1, d) multisets (small cases)."""
        if self.num_multisets > max_outcomes:
            raise ValueError(f"{self.name} has {self.num_multisets} outcomes, more than max_outcomes={max_outcomes}")
        n = self.num_tuples
        return {self.text(ms): Fraction(self.multiplicity(ms), n)
                for ms in itertools.combinations_with_replacement(range(self.low, self.high + 1), self.degree)}


# ---------------------------------------------------------------------------------------------
# the exact autoregressive model: a table of multisets, scanned on every call
# ---------------------------------------------------------------------------------------------
def _multisets(R: int, d: int) -> np.ndarray:
    """All non-decreasing index tuples in [0, R)^d, lexicographic, as an (M, d) int64 array:
    each column extends every row by the values >= its last one (np.repeat + offsets)."""
    idx = np.arange(R, dtype=np.int64)[:, None]
    for _ in range(d - 1):
        last = idx[:, -1]
        reps = R - last
        starts = np.repeat(np.cumsum(reps) - reps, reps)
        col = np.repeat(last, reps) + (np.arange(int(reps.sum()), dtype=np.int64) - starts)
        idx = np.column_stack([np.repeat(idx, reps, axis=0), col])
    return idx


def _text_matrix(fields: list[np.ndarray], M: int) -> np.ndarray:
    """Byte matrix (L, M) of the texts ``(f_1,f_2,...,f_m,`` (row j = character j of every
    text, padded with 0), written digit by digit with vectorised integer arithmetic."""
    absmax = [int(np.abs(f).max()) if M else 0 for f in fields]
    lengths = 1 + sum((f < 0).astype(np.int64) + 1 for f in fields)  # '(' and ',' and signs
    nds = []
    for f in fields:
        a = np.abs(f)
        nd = np.ones(M, dtype=np.int64)
        for e in range(1, 19):
            nd += a >= 10**e
        nds.append(nd)
        lengths = lengths + nd
    L = int(lengths.max())
    T = np.zeros((L, M), dtype=np.uint8)
    T[0] = ord("(")
    cols = np.arange(M)
    cur = np.ones(M, dtype=np.int64)
    pow10 = 10 ** np.arange(19, dtype=np.int64)
    for f, nd, amax in zip(fields, nds, absmax):
        neg = f < 0
        a = np.abs(f)
        T[cur[neg], cols[neg]] = ord("-")
        cur += neg
        for j in range(len(str(amax))):          # j-th digit from the left
            m = nd > j
            digit = (a[m] // pow10[nd[m] - 1 - j]) % 10
            T[cur[m] + j, cols[m]] = ord("0") + digit
        cur += nd
        T[cur, cols] = ord(",")
        cur += 1
    return T


class PolyRootsARModel:
    """Exact autoregressive model of ``PolyRootsTask``: ``next_token_counts(prompt, output)`` =
    the number of ordered root tuples whose text extends ``output`` by each token.

    Coefficients: a scan of the multiset table (Theta(M k) per call, M = C(R + d - 1, d));
    roots: ``integer_roots`` of the written coefficients (no table).  See the module docstring.
    """

    deterministic = True

    def __init__(self, task):
        if not isinstance(task, PolyRootsTask):
            raise TypeError(f"task must be a PolyRootsTask, not {type(task).__name__}")
        d, R = task.degree, task.range_size
        M = task.num_multisets
        where = f"degree={d}, low={task.low}, high={task.high}"
        if M > AR_MAX_MULTISETS:
            raise ValueError(f"PolyRootsARModel enumerates C(R+d-1, d) root multisets; {where} gives {M}, more "
                             f"than {AR_MAX_MULTISETS}: use a smaller degree or range [low, high]")
        amax = max(abs(task.low), abs(task.high))
        if R**d > AR_MAX_WEIGHT or (1 + amax) ** d > AR_MAX_WEIGHT:
            raise ValueError(f"PolyRootsARModel counts in int64; {where} needs R**degree and (1 + max|root|)**degree "
                             f"<= 2**54: use a smaller degree or range [low, high]")
        self.task, self.vocab = task, task.vocab
        self.multisets = M
        idx = _multisets(R, d)
        roots = idx + task.low
        poly = np.zeros((M, d + 1), dtype=np.int64)
        poly[:, 0] = 1
        for j in range(d):                         # multiply by (x - r_j), column by column
            r = roots[:, j]
            for k in range(j + 1, 0, -1):
                poly[:, k] -= r * poly[:, k - 1]
        # multinomial d! / prod m_v!, built left to right: w_{j+1} = w_j (j+1) / (run length)
        w = np.ones(M, dtype=np.int64)
        run = np.ones(M, dtype=np.int64)
        for j in range(1, d):
            run = np.where(idx[:, j] == idx[:, j - 1], run + 1, 1)
            w = w * (j + 1) // run
        self._weights = w
        self._table = _text_matrix([poly[:, k] for k in range(1, d + 1)], M)

    @property
    def name(self) -> str:
        t = self.task
        return f"PolyRootsARModel(degree={t.degree}, low={t.low}, high={t.high})"

    def __repr__(self) -> str:
        return self.name

    def next_token_counts(self, prompt: str, output: str) -> list[int]:
        if not set(output) <= _SIGNED_CHARS:
            return self.vocab.end_counts()
        if output.startswith("(") and output.count(",") >= self.task.degree:
            return self._root_counts(output)
        return self._coefficient_counts(output)

    def next_token_distribution(self, prompt: str, output: str, rng=None) -> np.ndarray:
        return counts_to_distribution(self.next_token_counts(prompt, output))

    def _coefficient_counts(self, output: str) -> list[int]:
        """Scan all M rows: keep those whose first k characters are ``output``, add their
        weights by character k."""
        T, W, v = self._table, self._weights, self.vocab
        k = len(output)
        if k >= T.shape[0]:
            return v.end_counts()
        b = output.encode("ascii")
        mask = np.ones(T.shape[1], dtype=bool)
        for j in range(k):
            mask &= T[j] == b[j]
        nxt = T[k][mask]
        if nxt.size == 0:
            return v.end_counts()
        w = W[mask]
        c = [0] * len(v)
        for code in np.unique(nxt).tolist():
            c[v.index(chr(code))] = int(w[nxt == code].sum())
        return c

    def _root_counts(self, output: str) -> list[int]:
        """The coefficients are written: solve for the roots, write them sorted."""
        d, v, t = self.task.degree, self.vocab, self.task
        cut = 0
        for _ in range(d):
            cut = output.index(",", cut) + 1
        coeffs = [_parse_int(f) for f in output[1:cut - 1].split(",")]
        if any(c is None for c in coeffs):
            return v.end_counts()
        roots = integer_roots(coeffs)
        if roots is None or roots[0] < t.low or roots[-1] > t.high:
            return v.end_counts()
        tail = ",".join(map(str, roots)) + ")"
        written = output[cut:]
        if not tail.startswith(written):
            return v.end_counts()
        w = t.multiplicity(roots)
        return v.point_counts(tail[len(written)] if len(written) < len(tail) else END, w)


# ---------------------------------------------------------------------------------------------
# hidden state: a seed, or scratch tokens
# ---------------------------------------------------------------------------------------------
class PolyRootsHiddenSeedModel(SeedTextModel):
    """Deterministic given a seed drawn out of sight: the seed in [0, R^d) indexes the ordered
    root tuple (r_i = low + i-th base-R digit of the seed); the model sorts, expands and writes
    its text by position.  ``next_token_distribution(prompt, output, seed)`` is a point mass.
    The text of the last seed is memoised, so a sample costs O(d^2) once plus O(1) per token."""

    def __init__(self, task):
        if not isinstance(task, PolyRootsTask):
            raise TypeError(f"task must be a PolyRootsTask, not {type(task).__name__}")
        self.task, self.vocab = task, task.vocab
        self.seed_space = task.num_tuples

    @property
    def name(self) -> str:
        t = self.task
        return f"PolyRootsHiddenSeedModel(degree={t.degree}, low={t.low}, high={t.high})"

    def roots(self, seed) -> tuple[int, ...]:
        s = self._check_seed(seed)
        R, out = self.task.range_size, []
        for _ in range(self.task.degree):
            s, digit = divmod(s, R)
            out.append(self.task.low + digit)
        return tuple(out)

    def _make_text(self, seed: int) -> str:
        return self.task.text(self.roots(seed))


class PolyRootsHiddenStreamModel:
    """Scratch tokens instead of a seed: ``step(prompt, hidden, output, rng) -> (stream,
    distribution)`` first writes the d offsets r_i - low, each zero-padded to w digits and
    uniform on [0, R) digit by digit (exact interval counts), to the hidden stream; then the
    public text of those roots, by position.  Run it with ``models.generate_with_hidden``."""

    def __init__(self, task):
        if not isinstance(task, PolyRootsTask):
            raise TypeError(f"task must be a PolyRootsTask, not {type(task).__name__}")
        self.task, self.vocab = task, task.vocab
        self.width = len(str(task.range_size - 1))
        self._memo: tuple[str, str] | None = None

    @property
    def name(self) -> str:
        t = self.task
        return f"PolyRootsHiddenStreamModel(degree={t.degree}, low={t.low}, high={t.high})"

    def _offset_digit(self, prefix: str) -> np.ndarray:
        """Next digit of a w-digit zero-padded offset uniform on [0, R), given its first digits."""
        R, w, k = self.task.range_size, self.width, len(prefix)
        scale = 10 ** (w - k - 1)
        v = int(prefix) if prefix else 0
        counts = [max(0, min((10 * v + e + 1) * scale, R) - (10 * v + e) * scale) for e in range(10)]
        return self.vocab.digit_vector(np.array(counts, dtype=float) / sum(counts))

    def step(self, prompt: str, hidden: str, output: str, rng):
        d, w = self.task.degree, self.width
        n = len(hidden)
        if n < d * w:
            return "hidden", self._offset_digit(hidden[n - n % w:])
        memo = self._memo
        if memo is None or memo[0] != hidden:
            roots = [self.task.low + int(hidden[i * w:(i + 1) * w]) for i in range(d)]
            memo = self._memo = (hidden, self.task.text(roots))
        own, k = memo[1], len(output)
        return "public", self.vocab.point_mass(own[k] if k < len(own) else END)
