"""Exact token-level laws of count-based tasks under a real tokenizer.

Under a tokenizer, the *target* law of a task such as "a uniform n-digit prime" is the uniform
law over its answers written in their canonical tokenization (``AnswerFormat``: lead text,
digits, stop text, end token).  After a token prefix the exact next-token law is

    #(answers whose canonical tokenization starts with prefix + t) / #(... starts with prefix),

and ``TokenLaw.next_token_counts(prefix) -> (token ids, counts)`` returns those integers (token
ids increasing, zero counts left out).  Every other token -- a non-canonical split of the same
digits, a token that is not a digit chunk, a leading zero -- has count 0: non-canonical
tokenizations get no mass.

Two constructions, one interface (``token_law`` picks from the tokenizer):

``ChunkTokenLaw`` (one token per digit, or fixed chunks)
    The chunk boundaries of an n-digit answer are fixed, so a token after a k-digit prefix v is
    a block of the next l digits, and its count is one bucket of a ``prime_histogram`` with
    ``10**l`` buckets of width ``10**(n-k-l)`` over the prefix's interval.  Batched queries
    (``next_token_counts_batch``) are grouped by chunk position; prefixes whose values are close
    share one histogram pass over their union, and when few digits remain (the subtree's
    interval has at most ``DEEP_SPAN`` numbers) one finer pass counts every later chunk level
    of the subtree at once (a tree walk or a generation asks for them next).  Results are kept
    in a bounded cache (``CACHE_BUCKETS`` counts); the sieving primes are cached by the counting
    engine.  Exact wherever the counting engine is: every n <= 19 (below 2**64), and windows of
    at most 1e10 numbers above (e.g. 30-digit primes after a prefix with 6 digits left); a
    prefix whose interval is beyond that raises ``ValueError`` naming ``DensityPrimeModel``.

``TrieTokenLaw`` (general BPE)
    How a number splits depends on all its digits, so the support is enumerated and tokenized
    (one batch call of the tokenizer), the token sequences sorted, and a node of the token tree
    is a range of rows: children and their counts come from binary searches.  Exact by
    construction; refused up front (``ValueError``) when the support has more than
    ``max_support`` (default 1e6) strings, i.e. primes of more than 7 digits.

Tasks: ``"prime"`` (uniform n-digit primes: counts from ``nextdigit.counting``), ``"number"``
(uniform n-digit numbers, the baseline: closed-form counts), or any character-level model of
``nextdigit.models`` with ``next_token_counts`` writing n-digit strings (``ExactPrimeModel``
and ``UniformNumberModel`` are recognised; any other such model is lifted by composing its
digit-level counts: integer weights proportional to the law, exact as ``Fraction``).

>>> enc = lambda s: [ord(ch) for ch in s]               # a toy per-character tokenizer
>>> law = token_law("prime", 3, (enc, None), eos=36)   # '$' (id 36) ends the answer
>>> law.tokenization
NumberTokenization(kind='digit')
>>> ids, counts = law.next_token_counts([])            # the first digit of a 3-digit prime
>>> [chr(i) for i in ids], counts.tolist()
(['1', '2', '3', '4', '5', '6', '7', '8', '9'], [21, 16, 16, 17, 14, 16, 14, 15, 14])
>>> law.log_prob(enc("101$"))[1]
Fraction(1, 143)
"""
from __future__ import annotations

import bisect
import math
from collections import deque
from fractions import Fraction

import numpy as np

from .. import counting
from .._util.threads import resolve_threads
from .._util.validate import as_int, check_digits
from ..primality import is_prime
from .tokenization import (AnswerFormat, NumberTokenization, TokenizerCodec, as_codec, resolve_tokenization)

__all__ = ["TokenLaw", "ChunkTokenLaw", "TrieTokenLaw", "SparseBatch", "TreeLevel", "token_law", "MAX_SUPPORT",
           "HIST_BUCKETS", "DEEP_SPAN", "CACHE_BUCKETS"]

MAX_SUPPORT = 10**6          # general-BPE laws tokenize the support: at most this many strings
HIST_BUCKETS = 1 << 22       # buckets of one histogram pass (32 MiB of counts)
DEEP_SPAN = 1 << 16          # count every later chunk level at once when a subtree spans this few numbers
CACHE_BUCKETS = 1 << 24      # counts kept between queries (128 MiB at most)
_U64 = 1 << 64


def _count_array(values) -> np.ndarray:
    """uint64 when every count fits, else an object array of Python ints."""
    vals = [int(v) for v in values]
    if all(v < _U64 for v in vals):
        return np.array(vals, dtype=np.uint64)
    out = np.empty(len(vals), dtype=object)
    out[:] = vals
    return out


class SparseBatch:
    """Next-token laws of a batch of prefixes in compressed rows: row i has token ids
    ``ids[indptr[i]:indptr[i+1]]`` (increasing) and their integer counts; ``batch[i]`` gives
    ``(ids, counts)``.  ``complete[i]`` is True when prefix i is a whole answer (no next token)."""

    def __init__(self, rows, complete):
        self.complete = np.array(complete, dtype=bool)
        lens = [len(r[0]) for r in rows]
        self.indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(lens, out=self.indptr[1:])
        self.ids = np.concatenate([r[0] for r in rows]).astype(np.int64) if rows else np.empty(0, np.int64)
        cs = [r[1] for r in rows]
        if any(c.dtype == object for c in cs):
            self.counts = np.empty(int(self.indptr[-1]), dtype=object)
            self.counts[:] = [int(x) for c in cs for x in c]
        else:
            self.counts = np.concatenate(cs).astype(np.uint64) if rows else np.empty(0, np.uint64)

    def __len__(self) -> int:
        return len(self.indptr) - 1

    def __getitem__(self, i):
        a, b = self.indptr[i], self.indptr[i + 1]
        return self.ids[a:b], self.counts[a:b]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __repr__(self) -> str:
        return f"SparseBatch({len(self)} rows, {int(self.indptr[-1])} entries)"


class TreeLevel:
    """One depth of the canonical token tree as arrays (what an audit's breadth-first walk
    expands): ``tokens`` (m, depth) int64 answer prefixes, ``counts`` (m,) answers below each
    node (uint64, or Python ints in an object array; proportional weights for a lifted model),
    ``complete`` (m,) True for whole answers, and ``state``, the law's own description of the
    nodes (chunk laws: the digits so far as an integer; trie laws: row ranges)."""

    __slots__ = ("tokens", "counts", "complete", "state")

    def __init__(self, tokens, counts, complete, state):
        self.tokens = tokens
        self.counts = counts
        self.complete = complete
        self.state = state

    def __len__(self) -> int:
        return len(self.complete)

    @property
    def depth(self) -> int:
        return self.tokens.shape[1]

    def __repr__(self) -> str:
        return f"TreeLevel({len(self)} nodes at depth {self.depth}, {int(self.complete.sum())} complete)"


def _value_array(vals, n: int) -> np.ndarray:
    if n <= 18:
        return np.array(vals, dtype=np.int64)
    out = np.empty(len(vals), dtype=object)
    out[:] = [int(v) for v in vals]
    return out


def _take_counts(counts, idx):
    return counts[idx] if counts.dtype != object else np.array(counts[idx], dtype=object)


def _segments(starts, stops):
    """(segment index, position) of every element of the ranges [starts[i], stops[i])."""
    lens = stops - starts
    total = int(lens.sum())
    seg = np.repeat(np.arange(len(starts)), lens)
    pos = np.arange(total) - np.repeat(np.cumsum(lens) - lens, lens) + np.repeat(starts, lens)
    return seg, pos


def _as_prefix(prefix, name: str = "prefix") -> tuple:
    if isinstance(prefix, (str, bytes)) or prefix is None:
        raise TypeError(f"{name} must be a sequence of token ids, not {type(prefix).__name__}")
    if hasattr(prefix, "tolist"):
        prefix = prefix.tolist()
    try:
        p = tuple(prefix)
    except TypeError:
        raise TypeError(f"{name} must be a sequence of token ids, not {type(prefix).__name__}") from None
    if all(type(t) is int for t in p):          # the common case (lists from tolist()): no per-id check
        return p
    return tuple(as_int(t, f"{name} token") for t in p)


class TokenLaw:
    """The exact law of a task's answers over canonical token sequences (see the module doc).

    Attributes: ``task`` (a name), ``digits`` (n), ``tokenization``, ``format``
    (``AnswerFormat``), ``eos_id`` (or None), ``max_length`` (tokens of the longest answer),
    ``max_children`` (most next tokens of any node, an upper bound for digit / chunk laws),
    ``vocab_ids`` (every token id an answer may use) and ``exact_counts`` (True when counts are numbers of answers; False for a lifted model whose
    integer weights are only proportional to its law, per node).
    """

    task: str
    digits: int
    tokenization: NumberTokenization
    format: AnswerFormat
    eos_id: int | None
    max_length: int
    max_children: int
    exact_counts: bool = True

    def __repr__(self) -> str:
        return f"{type(self).__name__}(task={self.task!r}, digits={self.digits}, {self.tokenization!r})"

    # -- the core query (subclasses) ---------------------------------------------------------
    def _batch(self, prefixes: list[tuple]) -> tuple[list, list]:
        raise NotImplementedError

    def next_token_counts_batch(self, prefixes) -> SparseBatch:
        """Next-token counts of many prefixes at once (the batched form of
        ``next_token_counts``); duplicates are answered once."""
        if isinstance(prefixes, (str, bytes)):
            raise TypeError("prefixes must be a sequence of token-id sequences")
        ps = [_as_prefix(p, f"prefixes[{i}]") for i, p in enumerate(prefixes)]
        uniq = list(dict.fromkeys(ps))
        rows, complete = self._batch(uniq)
        where = {p: i for i, p in enumerate(uniq)}
        return SparseBatch([rows[where[p]] for p in ps], [complete[where[p]] for p in ps])

    def next_token_counts(self, prefix=()):
        """``(token ids, counts)`` of the next token after the answer tokens ``prefix``: ids
        increasing (int64), counts integers (uint64, or Python ints beyond 2**64) with zeros
        left out.  Empty arrays when no answer has this prefix (or it is complete)."""
        return self.next_token_counts_batch([prefix])[0]

    def is_complete(self, prefix) -> bool:
        """True when ``prefix`` is a whole answer (nothing may follow)."""
        return bool(self.next_token_counts_batch([prefix]).complete[0])

    # -- derived -------------------------------------------------------------------------------
    def prob(self, ids, given=()) -> Fraction:
        """Exact probability (a ``Fraction``) that an answer continues ``given`` with ``ids``
        (a whole answer when ``ids`` ends with the end of the answer)."""
        given = _as_prefix(given, "given")
        ids = _as_prefix(ids, "ids")
        p = Fraction(1)
        prefix = given
        for t in ids:
            cids, counts = self.next_token_counts(prefix)
            j = int(np.searchsorted(cids, t))
            if j == len(cids) or cids[j] != t:
                return Fraction(0)
            p *= Fraction(int(counts[j]), sum(int(c) for c in counts))
            prefix = prefix + (t,)
        return p

    def answer_lengths(self, rows) -> list:
        """For each token sequence of ``rows``: the length of the whole answer it starts with, or
        None when it does not start with one (cuts generated rows after the answer; no counting)."""
        out = []
        for r in rows:
            r = _as_prefix(r, "rows[i]")
            out.append(next((t for t in range(1, min(len(r), self.max_length) + 1) if self._ends(r[:t])), None))
        return out

    def _ends(self, p: tuple) -> bool:
        """Whether ``p`` is a whole canonical answer (structure only, no counts needed)."""
        raise NotImplementedError

    def log_prob(self, ids, given=()):
        """``(log p as float, p as Fraction)`` -- ``nextdigit.models.log_prob``'s convention."""
        p = self.prob(ids, given)
        if p == 0:
            return -math.inf, p
        return math.log(p.numerator) - math.log(p.denominator), p

    def walk(self, root=(), max_nodes: int = 1_000_000):
        """The token tree below ``root``, breadth first: yields ``(prefixes, batch)`` per level
        (a list of prefixes and their ``SparseBatch``), stopping at complete answers.
        ``ValueError`` once more than ``max_nodes`` nodes would be visited."""
        max_nodes = as_int(max_nodes, "max_nodes")
        level = [_as_prefix(root, "root")]
        seen = 0
        while level:
            seen += len(level)
            if seen > max_nodes:
                raise ValueError(f"the token tree has more than max_nodes={max_nodes} nodes")
            batch = self.next_token_counts_batch(level)
            yield level, batch
            nxt = []
            for p, (ids, _), done in zip(level, batch, batch.complete):
                if not done:
                    nxt.extend(p + (int(t),) for t in ids)
            level = nxt

    def support(self, max_outcomes: int = MAX_SUPPORT) -> dict:
        """{canonical token tuple: Fraction} of every whole answer (small supports only)."""
        out = {}
        for prefixes, batch in self.walk(max_nodes=4 * max_outcomes + 16):
            for p, done in zip(prefixes, batch.complete):
                if done:
                    out[p] = None
            if len(out) > max_outcomes:
                raise ValueError(f"{self!r} has more than max_outcomes={max_outcomes} answers")
        return {p: self.prob(p) for p in out} if not self.exact_counts else self._support_exact(out)

    def _support_exact(self, answers) -> dict:
        total = self.count(())
        return {p: Fraction(self.count(p), total) for p in answers}

    def count(self, prefix=()) -> int:
        """Number of answers whose canonical tokenization starts with ``prefix`` (a Python int;
        ``exact_counts`` laws only)."""
        raise NotImplementedError

    # -- the tree as arrays (audits) -------------------------------------------------------------
    def tree_root(self) -> TreeLevel:
        """The root of the canonical token tree (the empty answer) as a ``TreeLevel``."""
        count = self.count(()) if self.exact_counts else 1
        return TreeLevel(np.zeros((1, 0), np.int64), _count_array([count]), np.zeros(1, bool), [()])

    def tree_children(self, level: TreeLevel) -> tuple[TreeLevel, np.ndarray]:
        """The children of the incomplete nodes of ``level`` (every canonical next token with a
        positive count), grouped by parent, and for each child the index of its parent.  This
        generic version asks ``next_token_counts_batch``; the chunk and trie laws override it with
        array code (no Python work per node)."""
        prefixes = [tuple(int(t) for t in row) for row in level.tokens]
        batch = self.next_token_counts_batch(prefixes)
        parents, toks, counts = [], [], []
        for i, (ids, cs) in enumerate(batch):
            if level.complete[i]:
                continue
            parents += [i] * len(ids)
            toks += [int(t) for t in ids]
            counts += [int(c) for c in cs]
        parent = np.array(parents, dtype=np.int64)
        tok = np.array(toks, dtype=np.int64)
        tokens = np.concatenate([level.tokens[parent], tok[:, None]], axis=1)
        prefs = [tuple(r) for r in tokens.tolist()]
        complete = self.next_token_counts_batch(prefs).complete if prefs else np.zeros(0, bool)
        return TreeLevel(tokens, _count_array(counts), np.asarray(complete, bool), prefs), parent

    def tree_values(self, level: TreeLevel, idx) -> np.ndarray:
        """The answers of the complete nodes ``idx`` of ``level`` as integers (every answer has
        ``digits`` digits, so ``str(v).zfill(digits)`` is its text): int64, or Python ints in an
        object array beyond 18 digits."""
        vals = [int(self.answer_text(level.tokens[i].tolist())) for i in np.atleast_1d(idx)]
        return _value_array(vals, self.digits)

    def encode(self, digits) -> list[int]:
        """The canonical token ids of the answer ``digits`` (a digit string), end included."""
        raise NotImplementedError

    def answer_text(self, ids) -> str:
        """The digit string of a (whole or partial) canonical answer token sequence."""
        raise NotImplementedError


# ---------------------------------------------------------------------------------------------
# Count oracles: counts of n-digit answers by their next block of L digits
# ---------------------------------------------------------------------------------------------
class _PrimeOracle:
    """Uniform n-digit primes: counts are buckets of one prime_histogram pass."""

    name = "prime"
    absolute = True
    deep = True

    def __init__(self, n: int, threads=None):
        self.n = n
        self.threads = threads

    def _check(self, lo: int, hi: int, k: int) -> None:
        if not counting.can_count_exactly(lo, hi):
            raise ValueError(
                f"{self.n}-digit primes: after a {k}-digit prefix the {hi - lo:.3g} completions "
                f"[{lo:.3e}, {hi:.3e}) are beyond exact counting (every interval below 2**64, windows of "
                f"at most {counting.MAX_BIG_SPAN:.0e} numbers above); give a longer answer prefix, or use "
                "nextdigit.tasks.primes.DensityPrimeModel(digits, tail=k) (approximate) for the leading digits")

    def check_node(self, k: int, v: int) -> None:
        lo, hi = self._interval(k, v, 1)
        self._check(lo, hi, k)

    def _interval(self, k: int, v_lo: int, run: int) -> tuple[int, int]:
        n = self.n
        if k == 0:
            return 10 ** (n - 1), 10**n
        return v_lo * 10 ** (n - k), (v_lo + run) * 10 ** (n - k)

    def subtree(self, k: int, v_lo: int, run: int, L: int) -> np.ndarray:
        n = self.n
        lo, hi = self._interval(k, v_lo, run)
        self._check(lo, hi, k)
        width = 10 ** (n - k - L)
        if k == 0:
            out = np.zeros((1, 10**L), dtype=np.uint64)
            out[0, 10 ** (L - 1):] = counting.prime_histogram(lo, width, 9 * 10 ** (L - 1), threads=self.threads)
            return out
        h = counting.prime_histogram(lo, width, run * 10**L, threads=self.threads)
        return np.asarray(h, dtype=np.uint64).reshape(run, 10**L)

    def contains(self, v: int) -> bool:
        return bool(is_prime(v))

    def support_size_estimate(self) -> float:
        n = self.n
        lo, hi = 10.0 ** (n - 1), 10.0**n
        return (hi - lo) / max(1.0, math.log(lo) - 1.1) if n > 1 else 4

    def support(self):
        n = self.n
        lo = 10 ** (n - 1) if n > 1 else 1
        ps = counting.primes_between(lo, 10**n)
        return [str(int(p)) for p in ps], None


class _NumberOracle:
    """Uniform n-digit numbers: every block of the completions holds 10**(rest) numbers."""

    name = "number"
    absolute = True
    deep = False

    def __init__(self, n: int):
        self.n = n

    def check_node(self, k, v):
        return None

    def subtree(self, k: int, v_lo: int, run: int, L: int) -> np.ndarray:
        val = 10 ** (self.n - k - L)
        if val < _U64:
            out = np.full((run, 10**L), val, dtype=np.uint64)
        else:
            out = np.empty((run, 10**L), dtype=object)
            out.fill(val)
        if k == 0:
            out[0, : 10 ** (L - 1)] = 0
        return out

    def contains(self, v: int) -> bool:
        return True

    def support_size_estimate(self) -> float:
        return 9.0 * 10.0 ** (self.n - 1)

    def support(self):
        n = self.n
        return [str(x) for x in range(10 ** (n - 1) if n > 1 else 1, 10**n)], None


class _ModelOracle:
    """A character-level model with ``next_token_counts`` (digits 0-9 at vocabulary indices
    0-9, then END at the n-th digit): blocks of L digits weighted by the product of the model's
    digit conditionals (exact Fractions, scaled to the smallest integers per node)."""

    absolute = False
    deep = False

    def __init__(self, model, n: int):
        vocab = getattr(model, "vocab", None)
        if vocab is None or not callable(getattr(model, "next_token_counts", None)):
            raise TypeError("task must be 'prime', 'number' or a character-level model with vocab and next_token_counts")
        if getattr(vocab, "base", None) != 10 or tuple(vocab.tokens[:10]) != tuple("0123456789"):
            raise ValueError(f"task model {model!r} must write base-10 digits (tokens '0'-'9' first in its vocabulary)")
        self.model = model
        self.n = n
        self.end = vocab.end_index
        self.name = getattr(model, "name", type(model).__name__)

    def _counts(self, text: str) -> list[int]:
        c = [int(x) for x in self.model.next_token_counts("", text)]
        if len(c) != len(self.model.vocab) or any(x < 0 for x in c):
            raise ValueError(f"{self.name}: next_token_counts({text!r}) is not a vector of non-negative ints")
        extra = [i for i, x in enumerate(c) if x and i >= 10 and i != self.end]
        if extra:
            raise ValueError(f"{self.name} writes non-digit tokens after {text!r}: it is not a digit-string task")
        if len(text) < self.n and c[self.end]:
            raise ValueError(f"{self.name} may end its answer after {len(text)} digits: only fixed-length n-digit "
                             f"answers (n = {self.n}) lift to a token law")
        if len(text) == self.n and any(c[:10]):
            raise ValueError(f"{self.name} writes more than n = {self.n} digits")
        return c

    def check_node(self, k, v):
        return None

    def _block_probs(self, p: str, L: int) -> dict[str, Fraction]:
        level = {"": Fraction(1)}
        for _ in range(L):
            nxt = {}
            for s, w in level.items():
                c = self._counts(p + s)[:10]
                tot = sum(c)
                if tot == 0:
                    continue
                for d, x in enumerate(c):
                    if x:
                        nxt[s + "0123456789"[d]] = w * Fraction(x, tot)
            level = nxt
        return level

    def subtree(self, k: int, v_lo: int, run: int, L: int) -> np.ndarray:
        rows = []
        for v in range(v_lo, v_lo + run):
            p = str(v) if k else ""
            probs = self._block_probs(p, L)
            den = 1
            for q in probs.values():
                den = den * q.denominator // math.gcd(den, q.denominator)
            w = [0] * 10**L
            for s, q in probs.items():
                w[int(s)] = q.numerator * (den // q.denominator)
            g = 0
            for x in w:
                g = math.gcd(g, x)
            rows.append([x // g for x in w] if g else w)
        flat = [x for r in rows for x in r]
        return _count_array(flat).reshape(run, 10**L)

    def contains(self, v: int) -> bool:
        return self._counts(str(v))[self.end] > 0

    def support_size_estimate(self) -> float:
        return 9.0 * 10.0 ** (self.n - 1)

    def support(self):
        probs = self._block_probs("", self.n)
        den = 1
        for q in probs.values():
            den = den * q.denominator // math.gcd(den, q.denominator)
        strings = sorted(probs)
        return strings, [probs[s].numerator * (den // probs[s].denominator) for s in strings]


def _oracle(task, digits, threads):
    from ..tasks.primes import ExactPrimeModel
    from ..tasks.uniform_number import UniformNumberModel

    if isinstance(task, str):
        if digits is None:
            raise TypeError(f"digits is required for task={task!r}")
        n = check_digits(digits)
        if task == "prime":
            return _PrimeOracle(n, threads), n
        if task == "number":
            return _NumberOracle(n), n
        raise ValueError(f"task must be 'prime', 'number' or a character-level model, got {task!r}")
    if isinstance(task, ExactPrimeModel) and task.base == 10:
        n = task.digits if digits is None else check_digits(digits)
        if n != task.digits:
            raise ValueError(f"digits={n} differs from the model's digits={task.digits}")
        return _PrimeOracle(n, threads), n
    if isinstance(task, UniformNumberModel) and task.base == 10:
        n = task.digits if digits is None else check_digits(digits)
        if n != task.digits:
            raise ValueError(f"digits={n} differs from the model's digits={task.digits}")
        return _NumberOracle(n), n
    n = getattr(task, "digits", None) if digits is None else digits
    if n is None:
        raise TypeError("digits is required for a model without a digits attribute")
    n = check_digits(n)
    return _ModelOracle(task, n), n


# ---------------------------------------------------------------------------------------------
# Digit / chunk tokenizations
# ---------------------------------------------------------------------------------------------
class _LevelCache:
    """Counts of chunk level j kept as intervals of prefix values: ``(v_lo, array)`` with
    row v - v_lo = the block counts after prefix v.  FIFO eviction past ``budget`` counts."""

    def __init__(self, levels: int, budget: int = CACHE_BUCKETS):
        self.starts = [[] for _ in range(levels)]
        self.tables = [[] for _ in range(levels)]
        self.order = deque()
        self.size = 0
        self.budget = budget

    def get(self, j: int, v: int):
        st = self.starts[j]
        i = bisect.bisect_right(st, v) - 1
        if i >= 0:
            arr = self.tables[j][i]
            if v - st[i] < arr.shape[0]:
                return arr[v - st[i]]
        return None

    def put(self, j: int, v_lo: int, arr: np.ndarray) -> None:
        st = self.starts[j]
        i = bisect.bisect_left(st, v_lo)
        if i < len(st) and st[i] == v_lo:
            self._drop(j, i)
        st.insert(i, v_lo)
        self.tables[j].insert(i, arr)
        self.order.append((j, v_lo, arr))
        self.size += arr.size
        while self.size > self.budget and len(self.order) > 1:
            oj, ov, oarr = self.order.popleft()
            k = bisect.bisect_left(self.starts[oj], ov)
            if k < len(self.starts[oj]) and self.tables[oj][k] is oarr:
                self.starts[oj].pop(k)
                self.tables[oj].pop(k)
            self.size -= oarr.size

    def _drop(self, j, i):
        self.starts[j].pop(i)
        self.tables[j].pop(i)


class ChunkTokenLaw(TokenLaw):
    """Token law of an n-digit task under a one-token-per-digit or fixed-chunk tokenization
    (see the module docstring; build it with ``token_law``)."""

    def __init__(self, oracle, codec: TokenizerCodec, fmt: AnswerFormat, tokenization: NumberTokenization, table,
                 n: int):
        self.oracle = oracle
        self.codec = codec
        self.format = fmt
        self.tokenization = tokenization
        self.table = table
        self.digits = n
        self.task = oracle.name
        self.exact_counts = oracle.absolute
        self.eos_id = fmt.eos_id(codec)
        self.lengths = tokenization.chunk_lengths(n)
        self.offsets = [0]
        for ln in self.lengths:
            self.offsets.append(self.offsets[-1] + ln)      # digits before chunk j
        self.lead = tuple(table.lead_ids)
        self.stop = tuple(table.stop_ids)
        self.max_length = len(self.lead) + len(self.lengths) + len(self.stop) + (self.eos_id is not None)
        self._cache = _LevelCache(len(self.lengths))
        all_ids = set(self.lead) | set(self.stop) | ({self.eos_id} if self.eos_id is not None else set())
        for ln in set(self.lengths):
            all_ids |= set(table.ids[ln].tolist())
        self.vocab_ids = np.array(sorted(all_ids), dtype=np.int64)
        self.max_children = max([9 * 10 ** (self.lengths[0] - 1)] + [10**ln for ln in self.lengths[1:]])

    # -- parsing -----------------------------------------------------------------------------
    def _parse(self, p: tuple):
        """('lead', None) / ('chunk', j, v) / ('stop', i, v) / ('eos', v) / ('done', v) /
        ('off',): where the answer tokens ``p`` stand."""
        a, J, b = len(self.lead), len(self.lengths), len(self.stop)
        t = len(p)
        if p[:a] != self.lead[:t]:
            return ("off",)
        if t < a:
            return ("lead", t)
        v = 0
        for j in range(min(J, t - a)):
            ln = self.lengths[j]
            val = self.table.value_of[ln].get(p[a + j])
            if val is None or (j == 0 and val < 10 ** (ln - 1)):
                return ("off",)
            v = v * 10**ln + val
        if t < a + J:
            return ("chunk", t - a, v)
        if p[a + J: a + J + b] != self.stop[: t - a - J]:
            return ("off",)
        if t < a + J + b:
            return ("stop", t - a - J, v)
        if self.eos_id is not None:
            if t == a + J + b:
                return ("eos", v)
            if t == a + J + b + 1 and p[-1] == self.eos_id:
                return ("done", v)
            return ("off",)
        return ("done", v) if t == a + J + b else ("off",)

    # -- counts ------------------------------------------------------------------------------
    def _depth(self, j: int, run: int) -> int:
        """Chunk levels to count in one pass for ``run`` prefixes at chunk j."""
        d, L = 1, self.lengths[j]
        if not self.oracle.deep:
            return 1
        span = run * 10 ** (self.digits - self.offsets[j])
        while j + d < len(self.lengths) and span <= DEEP_SPAN and run * 10 ** (L + self.lengths[j + d]) <= HIST_BUCKETS:
            L += self.lengths[j + d]
            d += 1
        return d

    def _fill(self, j: int, values: list[int]) -> None:
        """Count and cache the block counts of chunk j after each prefix value in ``values``."""
        values = sorted(set(values))
        k = self.offsets[j]
        l0 = self.lengths[j]
        max_run = max(1, HIST_BUCKETS // 10**l0)
        runs = []
        for v in values:
            if runs:
                lo, hi = runs[-1]
                # extend the run over a gap no longer than the run itself (at most 2x the work)
                if v - hi <= max(1, hi - lo) and v - lo < max_run and (k == 0 or self._run_ok(k, lo, v + 1 - lo)):
                    runs[-1] = (lo, v + 1)
                    continue
            runs.append((v, v + 1))
        for lo, hi in runs:
            run = hi - lo
            d = self._depth(j, run)
            L = sum(self.lengths[j:j + d])
            arr = self.oracle.subtree(k, lo, run, L)
            prev = 0
            for i in range(d):
                li = self.lengths[j + i]
                rest = L - prev - li
                lvl = arr.reshape(run * 10**prev, 10**li, 10**rest).sum(axis=2) if rest else arr.reshape(run * 10**prev, 10**li)
                if lvl.dtype != object:
                    lvl = lvl.astype(np.uint64, copy=False)
                self._cache.put(j + i, lo * 10**prev, lvl)
                prev += li

    def _run_ok(self, k: int, lo: int, run: int) -> bool:
        a, b = lo * 10 ** (self.digits - k), (lo + run) * 10 ** (self.digits - k)
        return b <= counting.TWO64 or b - max(a, counting.TWO64) <= counting.MAX_BIG_SPAN // 10

    def _blocks(self, nodes: list[tuple[int, int]]) -> dict:
        """{(j, v): block counts} for chunk nodes, from the cache or new histogram passes."""
        out = {}
        missing: dict[int, list[int]] = {}
        for j, v in nodes:
            hit = self._cache.get(j, v)
            if hit is None:
                self.oracle.check_node(self.offsets[j], v)
                missing.setdefault(j, []).append(v)
            else:
                out[(j, v)] = hit
        for j, vs in missing.items():
            self._fill(j, vs)
        for j, vs in missing.items():
            for v in vs:
                hit = self._cache.get(j, v)
                if hit is None:                      # evicted at once (tiny budget): count it alone
                    self._fill(j, [v])
                    hit = self._cache.get(j, v)
                out[(j, v)] = hit
        return out

    def _batch(self, prefixes):
        states = [self._parse(p) for p in prefixes]
        need = set()
        for s in states:
            if s[0] == "chunk":
                need.add((s[1], s[2]))
            elif s[0] == "lead" and self.exact_counts:
                need.add((0, 0))
        blocks = self._blocks(sorted(need))
        rows, complete = [], []
        empty = (np.empty(0, np.int64), np.empty(0, np.uint64))
        for s in states:
            kind = s[0]
            complete.append(kind == "done")
            if kind in ("off", "done"):
                rows.append(empty)
            elif kind == "chunk":
                j, v = s[1], s[2]
                cnt = blocks[(j, v)]
                nz = np.flatnonzero(cnt)
                ids = self.table.ids[self.lengths[j]][nz]
                order = np.argsort(ids, kind="stable")
                c = cnt[nz][order]
                rows.append((ids[order], c if c.dtype == object else c.astype(np.uint64)))
            else:
                if kind == "lead":
                    tok = self.lead[s[1]]
                    weight = self._total_from(blocks) if self.exact_counts else 1
                else:
                    v = s[-1]
                    tok = self.stop[s[1]] if kind == "stop" else self.eos_id
                    weight = int(self.oracle.contains(v))
                if weight == 0:
                    rows.append(empty)
                else:
                    rows.append((np.array([tok], np.int64), _count_array([weight])))
        return rows, complete

    def _ends(self, p: tuple) -> bool:
        s = self._parse(p)
        return s[0] == "done" and self.oracle.contains(s[-1])

    def answer_lengths(self, rows) -> list:
        T = self.max_length                      # every answer has the same number of tokens here
        return [T if len(r) >= T and self._ends(_as_prefix(r, "rows[i]")[:T]) else None for r in rows]

    # -- the tree as arrays (audits) -------------------------------------------------------------
    def tree_root(self) -> TreeLevel:
        count = self.total if self.exact_counts else 1
        return TreeLevel(np.zeros((1, 0), np.int64), _count_array([count]), np.zeros(1, bool),
                         _value_array([0], self.digits))

    def tree_children(self, level: TreeLevel) -> tuple[TreeLevel, np.ndarray]:
        """Children by stage: a lead / stop / end token (one child, the parent's count), or a
        chunk (the block counts of every node, one cached histogram row each)."""
        d = level.depth
        a, J, b = len(self.lead), len(self.lengths), len(self.stop)
        live = np.flatnonzero(~level.complete)
        vals = level.state
        if a <= d < a + J:
            j = d - a
            ln = self.lengths[j]
            vs = vals[live]
            blocks = self._blocks(sorted({(j, int(v)) for v in vs}))
            rows = [blocks[(j, int(v))] for v in vs]
            mat = np.stack(rows) if rows else np.zeros((0, 10**ln), np.uint64)
            pr, cv = np.nonzero(mat)
            counts = mat[pr, cv]
            counts = counts if counts.dtype == object else counts.astype(np.uint64)
            parent = live[pr]
            tok = self.table.ids[ln][cv]
            if vals.dtype == object or self.digits > 18:
                child_vals = np.empty(len(parent), dtype=object)
                child_vals[:] = [int(vals[p]) * 10**ln + int(c) for p, c in zip(parent, cv)]
            else:
                child_vals = vals[parent] * 10**ln + cv
        else:
            if d < a:
                t = self.lead[d]
            elif d < a + J + b:
                t = self.stop[d - a - J]
            elif self.eos_id is not None and d == a + J + b:
                t = self.eos_id
            else:
                live = live[:0]
                t = 0
            parent = live
            tok = np.full(len(parent), t, dtype=np.int64)
            counts = _take_counts(level.counts, parent)
            child_vals = vals[parent]
        tokens = np.concatenate([level.tokens[parent], tok.astype(np.int64)[:, None]], axis=1)
        complete = np.full(len(parent), d + 1 == self.max_length, dtype=bool)
        return TreeLevel(tokens, counts, complete, child_vals), parent

    def tree_values(self, level: TreeLevel, idx) -> np.ndarray:
        return level.state[np.atleast_1d(idx)]

    def _total_from(self, blocks) -> int:
        return sum(int(x) for x in blocks[(0, 0)])

    def count(self, prefix=()) -> int:
        if not self.exact_counts:
            raise ValueError(f"{self!r} lifts a model whose counts are proportional weights, not numbers of answers: "
                             "use prob()")
        s = self._parse(_as_prefix(prefix))
        if s[0] == "off":
            return 0
        if s[0] == "lead":
            return self._total_from(self._blocks([(0, 0)]))
        if s[0] == "chunk":
            return sum(int(x) for x in self._blocks([(s[1], s[2])])[(s[1], s[2])])
        return int(self.oracle.contains(s[-1]))

    @property
    def total(self) -> int:
        """Number of answers (the root count)."""
        return self.count(())

    def encode(self, digits) -> list[int]:
        if not isinstance(digits, str) or len(digits) != self.digits or not digits.isdigit() or digits[0] == "0":
            raise ValueError(f"digits must be a {self.digits}-digit string without leading zero, got {digits!r}")
        ids = self.table.encode(self.tokenization, digits)
        return ids + ([self.eos_id] if self.eos_id is not None else [])

    def answer_text(self, ids) -> str:
        p = _as_prefix(ids, "ids")
        s = self._parse(p)
        if s[0] == "off":
            raise ValueError(f"{list(p)} is not a canonical answer prefix of {self!r}")
        if s[0] == "lead":
            return ""
        v = s[-1]
        if s[0] == "chunk":
            return str(v) if s[1] else ""
        return str(v)


# ---------------------------------------------------------------------------------------------
# General BPE: a trie of the tokenized support
# ---------------------------------------------------------------------------------------------
class TrieTokenLaw(TokenLaw):
    """Token law from the tokenized support (general BPE; see the module docstring)."""

    def __init__(self, strings, weights, codec: TokenizerCodec, fmt: AnswerFormat, tokenization, n: int, task: str,
                 exact_counts: bool = True):
        self.codec = codec
        self.format = fmt
        self.tokenization = tokenization
        self.digits = n
        self.task = task
        self.exact_counts = exact_counts
        self.eos_id = fmt.eos_id(codec)
        encs = codec.encode_batch([fmt.text(s) for s in strings])
        lens = np.fromiter(map(len, encs), dtype=np.int64, count=len(encs)) + (self.eos_id is not None)
        if len(encs) == 0:
            raise ValueError("the support is empty")
        if lens.min() == (self.eos_id is not None):
            raise ValueError(f"tokenizer {codec.name} writes an answer with no token")
        width = int(lens.max())
        tail = [self.eos_id] if self.eos_id is not None else []
        flat = np.fromiter((t for e in encs for t in (e + tail if tail else e)), dtype=np.int64, count=int(lens.sum()))
        rows = np.repeat(np.arange(len(encs)), lens)
        cols = np.arange(flat.size) - np.repeat(np.cumsum(lens) - lens, lens)
        seqs = np.full((len(encs), width), -1, dtype=np.int64)
        seqs[rows, cols] = flat
        order = np.lexsort(seqs.T[::-1])
        seqs = seqs[order]
        lens = lens[order]
        self.strings = [strings[i] for i in order]
        w = np.ones(len(encs), dtype=object) if weights is not None else None
        if weights is not None:
            w[:] = [int(weights[i]) for i in order]
        if len(seqs) > 1:
            eq = seqs[1:] == seqs[:-1]
            same = eq.all(axis=1)
            if same.any():
                i = int(np.flatnonzero(same)[0])
                raise ValueError(f"tokenizer {codec.name} cannot write digits: {self.strings[i]!r} and "
                                 f"{self.strings[i + 1]!r} have the same tokens")
            # a whole answer that is a proper prefix of the next one (sorted order puts it first):
            # the end of an answer would be ambiguous
            inside = np.arange(width)[None, :] < lens[:-1, None]
            prefix = (eq | ~inside).all(axis=1) & (lens[1:] > lens[:-1])
            if prefix.any():
                i = int(np.flatnonzero(prefix)[0])
                raise ValueError(f"answers {self.strings[i]!r} and {self.strings[i + 1]!r}: one's tokens are a prefix "
                                 "of the other's; give an end token (eos) or a stop string")
        self.seqs = seqs
        self.lens = lens
        self.max_length = width
        if w is None:
            self.cum = np.arange(len(encs) + 1, dtype=np.int64)
        else:
            cum = np.empty(len(encs) + 1, dtype=object)
            cum[0] = 0
            cum[1:] = np.cumsum(w)
            self.cum = cum
        # node starts per depth: rows where the first depth+1 tokens change (rows long enough)
        diff = np.ones((len(seqs), width), dtype=bool)
        if len(seqs) > 1:
            diff[1:] = seqs[1:] != seqs[:-1]
        change = np.logical_or.accumulate(diff, axis=1)
        self.starts = [np.flatnonzero(change[:, d] & (lens > d)) for d in range(width)]
        self.vocab_ids = np.unique(seqs[seqs >= 0])
        most = len(self.starts[0])
        for d in range(1, width):
            parents = self.starts[d - 1]
            kids = np.searchsorted(self.starts[d], np.append(parents, len(seqs)))
            most = max(most, int(np.diff(kids).max(initial=0)))
        self.max_children = most

    def _range(self, p: tuple):
        lo, hi = 0, len(self.seqs)
        for d, t in enumerate(p):
            if d >= self.max_length:
                return lo, lo
            col = self.seqs[lo:hi, d]
            a = int(np.searchsorted(col, t, side="left"))
            b = int(np.searchsorted(col, t, side="right"))
            lo, hi = lo + a, lo + b
            if lo == hi:
                break
        return lo, hi

    def _node(self, p: tuple):
        lo, hi = self._range(p)
        k = len(p)
        empty = (np.empty(0, np.int64), np.empty(0, np.uint64))
        if lo == hi:
            return empty, False
        if hi - lo == 1 and self.lens[lo] == k:
            return empty, True
        st = self.starts[k]
        a = int(np.searchsorted(st, lo))
        b = int(np.searchsorted(st, hi))
        s = st[a:b]
        ids = self.seqs[s, k]
        ends = np.append(s[1:], hi)
        counts = self.cum[ends] - self.cum[s]
        counts = counts.astype(np.uint64) if counts.dtype != object or all(int(c) < _U64 for c in counts) else counts
        return (ids.astype(np.int64), counts), False

    def _ends(self, p: tuple) -> bool:
        lo, hi = self._range(p)
        return hi - lo == 1 and self.lens[lo] == len(p)

    # -- the tree as arrays (audits) -------------------------------------------------------------
    def tree_root(self) -> TreeLevel:
        n = len(self.seqs)
        count = self.cum[n] - self.cum[0]
        return TreeLevel(np.zeros((1, 0), np.int64), _count_array([count]), np.zeros(1, bool),
                         (np.array([0], np.int64), np.array([n], np.int64)))

    def tree_children(self, level: TreeLevel) -> tuple[TreeLevel, np.ndarray]:
        """Children of row ranges [lo, hi): the node starts of the next depth inside each range
        (binary searches), each child's range ending at its next sibling's start."""
        d = level.depth
        lo, hi = level.state
        live = np.flatnonzero(~level.complete)
        empty = TreeLevel(np.zeros((0, d + 1), np.int64), np.zeros(0, np.uint64), np.zeros(0, bool),
                          (np.zeros(0, np.int64), np.zeros(0, np.int64)))
        if d >= self.max_length or not len(live):
            return empty, np.zeros(0, np.int64)
        st = self.starts[d]
        a = np.searchsorted(st, lo[live])
        b = np.searchsorted(st, hi[live])
        seg, pos = _segments(a, b)
        starts = st[pos]
        parent = live[seg]
        last = np.ones(len(pos), dtype=bool)
        last[:-1] = seg[1:] != seg[:-1]
        ends = np.empty(len(pos), dtype=np.int64)
        ends[:-1] = starts[1:]
        ends[last] = hi[parent[last]]
        tok = self.seqs[starts, d]
        counts = self.cum[ends] - self.cum[starts]
        counts = counts.astype(np.uint64) if counts.dtype != object else counts
        complete = (ends - starts == 1) & (self.lens[starts] == d + 1)
        tokens = np.concatenate([level.tokens[parent], tok[:, None]], axis=1)
        return TreeLevel(tokens, counts, complete, (starts, ends)), parent

    def tree_values(self, level: TreeLevel, idx) -> np.ndarray:
        lo = level.state[0]
        return _value_array([int(self.strings[int(r)]) for r in lo[np.atleast_1d(idx)]], self.digits)

    def _batch(self, prefixes):
        rows, complete = [], []
        for p in prefixes:
            r, c = self._node(p)
            rows.append(r)
            complete.append(c)
        return rows, complete

    def count(self, prefix=()) -> int:
        if not self.exact_counts:
            raise ValueError(f"{self!r} lifts a model whose weights are proportional, not numbers of answers: use prob()")
        lo, hi = self._range(_as_prefix(prefix))
        return int(self.cum[hi] - self.cum[lo])

    @property
    def total(self) -> int:
        return self.count(())

    def encode(self, digits) -> list[int]:
        if not isinstance(digits, str) or len(digits) != self.digits or not digits.isdigit():
            raise ValueError(f"digits must be a {self.digits}-digit string, got {digits!r}")
        ids = self.codec.encode(self.format.text(digits))
        return ids + ([self.eos_id] if self.eos_id is not None else [])

    def answer_text(self, ids) -> str:
        p = _as_prefix(ids, "ids")
        lo, hi = self._range(p)
        if lo == hi:
            raise ValueError(f"{list(p)} is not a canonical answer prefix of {self!r}")
        if hi - lo == 1 and self.lens[lo] == len(p):
            return self.strings[lo]
        if self.codec.decode is None:
            raise ValueError("the text of a partial BPE answer needs a tokenizer that decodes")
        return "".join(ch for ch in self.codec.decode(list(p)) if ch.isdigit())


# ---------------------------------------------------------------------------------------------
def token_law(task, digits=None, tokenizer=None, *, tokenization=None, lead: str = "", stop: str = "", eos=True,
              max_support: int = MAX_SUPPORT, threads=None, rng=0) -> TokenLaw:
    """The exact token-level law of ``task``'s n-digit answers under ``tokenizer``.

    Parameters
    ----------
    task : ``"prime"``, ``"number"`` or a character-level model with ``next_token_counts``
        (``ExactPrimeModel`` / ``UniformNumberModel`` instances use the direct counts).
    digits : int
        n (optional for a model with a ``digits`` attribute).
    tokenizer
        a ``transformers`` tokenizer, a ``tokenizers.Tokenizer`` or ``(encode, decode)``.
    tokenization : NumberTokenization, optional
        how the tokenizer writes digits; detected (and always verified) when omitted.
    lead, stop, eos
        the answer format (``AnswerFormat``): text before and after the digits, and the end
        token (``True``: the tokenizer's EOS; ``False``: none; or a token id).
    max_support : int
        general-BPE laws tokenize every answer: refused beyond this many (estimated up front).
    threads
        passed to the counting engine.

    >>> law = token_law("number", 2, (lambda s: [ord(c) for c in s], None), eos=False)
    >>> law.next_token_counts([ord("4")])[1].tolist()
    [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]
    """
    if tokenizer is None:
        raise TypeError("tokenizer is required (a transformers / tokenizers tokenizer or (encode, decode))")
    if threads is not None:
        resolve_threads(threads)                       # fail before any counting: a clear ValueError
    oracle, n = _oracle(task, digits, threads)
    codec = as_codec(tokenizer)
    fmt = AnswerFormat(lead, stop, eos)
    fmt.eos_id(codec)                                  # fail early when eos=True has no token
    max_support = as_int(max_support, "max_support")
    tz, table = resolve_tokenization(codec, fmt, tokenization, digits=n, rng=rng)
    if tz.structured:
        law = ChunkTokenLaw(oracle, codec, fmt, tz, table, n)
        return law
    est = oracle.support_size_estimate()
    if est > max_support:
        raise ValueError(f"{codec.name} splits numbers by general BPE, so the law needs every answer tokenized: "
                         f"{n}-digit {oracle.name} answers number about {est:.3g}, more than max_support={max_support} "
                         "(at most 7 digits for primes, 6 for numbers); use fewer digits or a digit/chunk tokenizer")
    strings, weights = oracle.support()
    if len(strings) > max_support:
        raise ValueError(f"{len(strings)} answers, more than max_support={max_support}")
    return TrieTokenLaw(strings, weights, codec, fmt, tz, n, oracle.name, exact_counts=oracle.absolute)
