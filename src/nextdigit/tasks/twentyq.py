"""Twenty Questions against a hash oracle: hidden state is cheap, re-deriving it costs 2**m.

The game
--------
The answerer holds an *object* from the universe ``{0, 1, ..., 2**m - 1}`` (1 <= m <= ``MAX_M``
= 32).  Each question is a bit index ``i`` in ``[0, 256)`` and means "is bit i of SHA-256(object)
set?".  The object is hashed as its **8-byte little-endian encoding**,
``hashlib.sha256(x.to_bytes(8, "little"))``, and **bit i** is the i-th character of the digest
written as a 256-character binary string, most significant bit first:

    bit(x, i) = (digest[i // 8] >> (7 - i % 8)) & 1 = (H[i // 32] >> (31 - i % 32)) & 1

where ``digest`` is the 32-byte digest and ``H[0..7]`` its big-endian 32-bit words (the
FIPS 180-4 hash value).  The *prompt* lists the questions as decimal bit indices separated by
commas, e.g. ``"17,3,200"`` (spaces around an index are allowed; ``""`` asks nothing; a question
may be repeated and must then get the same answer).  The *output* is the answer string over
``Vocabulary(2)``, one ``'0'``/``'1'`` per question in order, then the end token.  Every object is
equally likely, so the target law of the answer string s is

    T(s) = #{x < 2**m : the answers of x are s} / 2**m

(``answer_law``; for 20 distinct questions and m <= ~16 it is close to uniform on the 2**m
strings realised, and it is never uniform on all 2**20 strings when m < 20).  ``random_questions``
draws a prompt (20 distinct bit indices by default).

Two answerers with the same law
-------------------------------
``TwentyQuestionsHiddenSeedModel(m)`` is the hidden-state player of the essay: a seed drawn out
of sight before the first token *is* the object (``seed_space = 2**m``), and every answer is
read off ``hashlib.sha256`` of it.  Cost per answer: one hashlib call (~0.4 us), independent of m.
It works with ``models.generate_with_seed`` and ``analysis.exact_distribution_hidden_seed``.
A forced output prefix does not condition its seed: it answers the remaining questions about its
own object, consistent or not with what was forced.

``TwentyQuestionsARModel(m)`` is the plain autoregressive player: it sees only the prompt and the
answers so far, holds no per-conversation state, and must produce

    next_token_counts(prompt, output) = [#consistent objects whose next-asked bit is 0,
                                         #consistent objects whose next-asked bit is 1, 0, 0, 0, 0]

(the vocabulary is ``0 1 ( , ) $``), and the end token alone once every question is answered.
An object is *consistent* when its bits agree with every answer in ``output``.  The exact law of
its output is then the product of ratios that telescopes to T(s): the two players have the same
answer law (checked exactly, as ``Fraction`` laws, in the tests and in the cost table).  What
differs is the cost: SHA-256 has no structure to exploit, so the only way to know which objects
are consistent is to hash them, and a stateless player has to redo it at every token.

Cost of the autoregressive player, per call, for each ``backend``:

* ``"kernel"`` (default): every call hashes all 2**m objects with the Cython kernel
  ``nextdigit._sha256`` (``LANES`` = 8 objects in lockstep, SIMD, OpenMP threads), testing each
  digest against the answered bits and counting the next bit on the fly; memory O(1).  One bit
  of SHA-256 costs a whole compression, so "compute only what is needed" still means 2**m
  compressions per call, whatever the number of objects still consistent: k * 2**m per
  transcript of k questions.
* ``"numpy"``: the same work with SHA-256 written on numpy ``uint32`` arrays (``sha256_words``),
  in chunks of 2**14 objects.  About 5x slower than the kernel and a little slower than a Python
  loop of ``hashlib`` calls (each vectorised operation streams its whole chunk through memory;
  ``hashlib``'s C compression is faster than that per object).
* ``"table"`` (m <= ``TABLE_MAX_M`` = 24): the whole hash table is computed once per model (2**m
  compressions, 32 bytes per object, stored as 256 bit planes of 2**m bits) and each call ANDs
  the planes of the answered bits and popcounts: ~(answered + 2) * 2**m / 64 word operations per
  call.  The table is a function of m alone, shared by every conversation, so the model still
  holds no per-conversation state; the cost is still proportional to 2**m per call, only with a
  much smaller constant (and 2**m * 32 bytes of memory).

The three backends return identical counts (tested).  The end-token step hashes nothing.

Inconsistent transcripts.  When the output was forced (``generate(..., output_prefix=...)``)
and no object is consistent with it (e.g. a repeated question answered both ways, or a
combination of answers that no object of a small universe realises), the autoregressive player
has no defined next answer and raises ``ModelError`` naming the prompt and output; its answers
after a consistent prefix are always consistent.  ``consistent_count(prompt, output)`` returns
the number of consistent objects (0 included) without raising.

Bad input: ``m`` outside [1, 32] (or above 24 for the table) -> ValueError; a non-int ``m`` ->
TypeError; a prompt that is not comma-separated decimal indices below 256 -> ValueError naming
``prompt``; an output with characters other than ``0``/``1`` or more answers than questions ->
ValueError naming ``output``; non-str prompt/output -> TypeError.

Measurements
------------
``nextdigit.analysis.costs.twentyq_cost_table`` times both players per full transcript (median), checks their laws agree (exactly
as Fractions for m <= ``exact_max_m``; above, every count the autoregressive player returned
during the timed runs is compared with the exact counts from the full table, and both players'
samples go through a randomised probability-integral-transform uniformity test against the exact
law), and returns an experiments-style dict.  The default m = 8..20 takes ~15-30 s on the 2-core
development machine; adding m = 22 adds ~25-40 s.

Measured there (2 vCPUs shared with other jobs, load average 2-3, so the second OpenMP thread
gained little): SHA-256 of 2**16 objects costs ~115 ns per object with the kernel on one thread,
~560 ns with numpy arrays and ~410 ns with a Python loop of ``hashlib`` calls.  Per 20-answer
transcript (20 random distinct questions):

====  =============  ============  ============  ===========  ===========  ==================
m     AR kernel (s)  AR numpy (s)  AR table (s)  hidden (s)   AR / hidden  agreement
====  =============  ============  ============  ===========  ===========  ==================
8     0.0012         0.033         0.00058       6.5e-5       18           exact TVD 0
10    0.0029         0.042         0.00057       6.3e-5       46           exact TVD 0
12    0.0093         0.073         0.00056       6.3e-5       1.5e2        counts equal, p .52
16    0.32           0.79          0.00076       6.3e-5       5.1e3        counts equal, p .80
20    2.6            -             0.0031        6.9e-5       3.8e4        counts equal, p 1.0
22    10             -             0.011         7.0e-5       1.4e5        counts equal, p .18
====  =============  ============  ============  ===========  ===========  ==================

(table builds: 0.39 s at m = 20, 1.6 s at m = 22; "counts equal": every count the AR player
returned in the timed runs equals the table's; p: uniformity p-value of its samples' PIT).  The
AR cost grows like 2**m once the per-call overhead is amortised (x3.9 from m = 20 to 22; the
m = 16 row is inflated by OpenMP threads waiting for the busy second core -- 75 ms in a quieter
benchmark run) while the hidden player's stays flat at ~65 us, almost all of it Python per-token
overhead (20 hashlib calls are ~8 us).
"""
from __future__ import annotations

import hashlib
import re
import time
from functools import lru_cache
from fractions import Fraction

import numpy as np

from .._util.rng import as_generator
from .._util.threads import resolve_threads
from .._util.validate import as_int
from ..models import END, ModelError, Vocabulary

__all__ = [
    "MAX_M",
    "TABLE_MAX_M",
    "DIGEST_BITS",
    "DEFAULT_QUESTIONS",
    "BACKENDS",
    "encode_object",
    "object_answers",
    "parse_prompt",
    "format_prompt",
    "random_questions",
    "sha256_words",
    "sha256_range",
    "digest_bits",
    "answer_counts",
    "answer_law",
    "TwentyQuestionsARModel",
    "TwentyQuestionsHiddenSeedModel",
]

MAX_M = 32              # objects are 0 .. 2**m - 1 with m <= 32: 4.3e9 hashes per AR call at the cap
TABLE_MAX_M = 24        # the full table holds 2**m * 32 bytes: 512 MiB at m = 24
DIGEST_BITS = 256
DEFAULT_QUESTIONS = 20
BACKENDS = ("kernel", "numpy", "table")
_NUMPY_CHUNK = 1 << 14  # objects per vectorised pass (arrays of 64 KiB stay in L2)
_PROMPT_ITEM = re.compile(r"\s*([0-9]+)\s*")


# ---------------------------------------------------------------------------------------------
# objects, questions, prompts
# ---------------------------------------------------------------------------------------------
def _check_m(m, name: str = "m") -> int:
    v = as_int(m, name)
    if not 1 <= v <= MAX_M:
        raise ValueError(f"{name} must be in [1, {MAX_M}] (the universe is 0 .. 2**m - 1), got {v}")
    return v


def _check_bit(i, name: str = "question") -> int:
    v = as_int(i, name)
    if not 0 <= v < DIGEST_BITS:
        raise ValueError(f"{name} must be a bit index in [0, {DIGEST_BITS}), got {v}")
    return v


def encode_object(x) -> bytes:
    """The bytes hashed for object ``x``: its 8-byte little-endian encoding (0 <= x < 2**64)."""
    v = as_int(x, "x")
    if not 0 <= v < 1 << 64:
        raise ValueError(f"x must be in [0, 2**64), got {v}")
    return v.to_bytes(8, "little")


def _bit_of_digest(digest: bytes, i: int) -> int:
    return (digest[i >> 3] >> (7 - (i & 7))) & 1


def object_answers(x, questions) -> str:
    """The answer string of object ``x`` to ``questions`` (a prompt string or a sequence of bit
    indices), by one ``hashlib.sha256`` call: the reference every other path is tested against."""
    qs = parse_prompt(questions) if isinstance(questions, str) else tuple(_check_bit(q) for q in questions)
    d = hashlib.sha256(encode_object(x)).digest()
    return "".join("1" if _bit_of_digest(d, q) else "0" for q in qs)


@lru_cache(maxsize=256)
def _parse_prompt_cached(prompt: str) -> tuple[int, ...]:
    if prompt.strip() == "":
        return ()
    out = []
    for k, item in enumerate(prompt.split(",")):
        mt = _PROMPT_ITEM.fullmatch(item)
        if mt is None:
            raise ValueError(f"prompt must be comma-separated decimal bit indices in [0, {DIGEST_BITS}), "
                             f"e.g. '17,3,200'; item {k} is {item!r} in {prompt!r}")
        v = int(mt.group(1))
        if v >= DIGEST_BITS:
            raise ValueError(f"prompt: bit index {v} (item {k}) is outside [0, {DIGEST_BITS})")
        out.append(v)
    return tuple(out)


def parse_prompt(prompt) -> tuple[int, ...]:
    """``"17,3,200"`` -> ``(17, 3, 200)``; ``""`` -> ``()`` (module doc for the format)."""
    if not isinstance(prompt, str):
        raise TypeError(f"prompt must be a str, not {type(prompt).__name__}")
    return _parse_prompt_cached(prompt)


def format_prompt(questions) -> str:
    """The prompt asking ``questions`` (bit indices in [0, 256)) in order."""
    if isinstance(questions, (str, bytes)):
        raise TypeError("questions must be a sequence of bit indices, not a string")
    return ",".join(str(_check_bit(q, "questions")) for q in questions)


def random_questions(count: int = DEFAULT_QUESTIONS, rng=None, *, distinct: bool = True) -> str:
    """A prompt of ``count`` uniformly random bit indices (distinct unless ``distinct=False``)."""
    n = as_int(count, "count")
    if n < 0 or (distinct and n > DIGEST_BITS):
        raise ValueError(f"count must be in [0, {DIGEST_BITS}] (distinct) or >= 0, got {n}")
    gen = as_generator(rng)
    if distinct:
        qs = gen.permutation(DIGEST_BITS)[:n]
    else:
        qs = gen.integers(0, DIGEST_BITS, size=n)
    return format_prompt(int(q) for q in qs)


def _check_output(output, questions: tuple[int, ...]) -> str:
    if not isinstance(output, str):
        raise TypeError(f"output must be a str, not {type(output).__name__}")
    if output.strip("01"):
        raise ValueError(f"output must consist of the answers '0' and '1', got {output!r}")
    if len(output) > len(questions):
        raise ValueError(f"output has {len(output)} answers but the prompt asks {len(questions)} questions")
    return output


# ---------------------------------------------------------------------------------------------
# SHA-256: numpy (vectorised over objects) and the Cython kernel (ranges of objects)
# ---------------------------------------------------------------------------------------------
def _kernel():
    from .. import _sha256

    return _sha256


def _constants():
    k = _kernel()
    return np.array(k.K_WORDS, dtype=np.uint32), np.array(k.H0_WORDS, dtype=np.uint32)


def _as_objects(objects) -> np.ndarray:
    # a list of Python ints may not fit any numpy integer type (2**64 - 1 beside small values
    # becomes float64): such inputs go through exact Python ints
    a = objects if isinstance(objects, np.ndarray) else np.asarray(objects, dtype=object)
    if a.dtype == object:
        try:
            vals = [as_int(v, "objects") for v in a.ravel()]
        except TypeError:
            raise TypeError("objects must hold integers") from None
        if any(not 0 <= v < 1 << 64 for v in vals):
            raise ValueError("objects must be in [0, 2**64)")
        return np.array(vals, dtype=np.uint64).reshape(a.shape)
    if a.dtype.kind not in "ui":
        raise TypeError(f"objects must be integers, not {a.dtype}")
    if a.dtype.kind == "i" and a.size and int(a.min()) < 0:
        raise ValueError("objects must be in [0, 2**64)")
    return a.astype(np.uint64, copy=False)


def _rotr(x: np.ndarray, n: int, out: np.ndarray, tmp: np.ndarray) -> np.ndarray:
    np.right_shift(x, np.uint32(n), out=out)
    np.left_shift(x, np.uint32(32 - n), out=tmp)
    return np.bitwise_or(out, tmp, out=out)


def _sha256_chunk(x: np.ndarray, K: np.ndarray, H0: np.ndarray) -> np.ndarray:
    """Digest words (len(x), 8) of the 8-byte little-endian objects ``x`` (uint64 array)."""
    u32 = np.uint32
    n = len(x)
    # the padded 64-byte block of an 8-byte message (FIPS 180-4, 5.1.1): x's bytes, 0x80, zeros,
    # the bit length 64 -- as big-endian words
    W = [(x & np.uint64(0xFFFFFFFF)).astype(u32).byteswap(), (x >> np.uint64(32)).astype(u32).byteswap()]
    W += [np.full(n, v, u32) for v in [0x80000000] + [0] * 12 + [64]]
    r1, r2, tmp = np.empty(n, u32), np.empty(n, u32), np.empty(n, u32)
    for t in range(16, 64):            # message schedule: W[t-16] + sigma0(W[t-15]) + W[t-7] + sigma1(W[t-2])
        a, b = W[t - 15], W[t - 2]
        s = _rotr(a, 7, np.empty(n, u32), tmp)
        s ^= _rotr(a, 18, r1, tmp)
        s ^= np.right_shift(a, u32(3), out=r1)
        _rotr(b, 17, r1, tmp)
        r1 ^= _rotr(b, 19, r2, tmp)
        r1 ^= np.right_shift(b, u32(10), out=r2)
        s += r1
        s += W[t - 16]
        s += W[t - 7]
        W.append(s)
    a, b, c, d, e, f, g, h = (np.full(n, v, u32) for v in H0)
    t1, t2 = np.empty(n, u32), np.empty(n, u32)
    for t in range(64):                # the rounds: T1 = h + Sigma1(e) + Ch(e,f,g) + K + W, T2 = Sigma0(a) + Maj
        _rotr(e, 6, t1, tmp)
        t1 ^= _rotr(e, 11, r1, tmp)
        t1 ^= _rotr(e, 25, r1, tmp)
        t1 += h
        t1 += W[t]
        t1 += K[t]
        np.bitwise_xor(f, g, out=r1)   # Ch(e, f, g) = g ^ (e & (f ^ g))
        r1 &= e
        r1 ^= g
        t1 += r1
        _rotr(a, 2, t2, tmp)
        t2 ^= _rotr(a, 13, r1, tmp)
        t2 ^= _rotr(a, 22, r1, tmp)
        np.bitwise_or(a, b, out=r1)    # Maj(a, b, c) = (a & b) | (c & (a | b))
        r1 &= c
        np.bitwise_and(a, b, out=r2)
        r1 |= r2
        t2 += r1
        d += t1                        # the new e
        t2 += t1                       # the new a
        # shift the registers; h's buffer becomes the next T2 scratch
        h, g, f, e, d, c, b, a, t2 = g, f, e, d, c, b, a, t2, h
    out = np.empty((n, 8), u32)
    for i, v in enumerate((a, b, c, d, e, f, g, h)):
        out[:, i] = v + H0[i]
    return out


def sha256_words(objects) -> np.ndarray:
    """SHA-256 of every object (8-byte little-endian) on numpy ``uint32`` arrays: an
    ``(n, 8)`` array of the big-endian digest words H0..H7.  Pure numpy, vectorised over the
    objects in chunks of 2**14 (the portable reference; ``sha256_range`` is the fast kernel)."""
    x = _as_objects(objects).ravel()
    K, H0 = _constants()
    out = np.empty((len(x), 8), dtype=np.uint32)
    for s in range(0, len(x), _NUMPY_CHUNK):
        out[s:s + _NUMPY_CHUNK] = _sha256_chunk(x[s:s + _NUMPY_CHUNK], K, H0)
    return out


def sha256_range(start, count, *, threads=None) -> np.ndarray:
    """Digest words ``(count, 8)`` of the objects ``start .. start + count - 1`` (Cython kernel,
    GIL released, ``threads`` OpenMP threads, default every usable core)."""
    s = as_int(start, "start")
    n = as_int(count, "count")
    if s < 0 or n < 0 or s + n > 1 << 64:
        raise ValueError(f"need 0 <= start and 0 <= count with start + count <= 2**64, got start={s}, count={n}")
    out = np.empty((n, 8), dtype=np.uint32)
    _kernel().digests(s, out, resolve_threads(threads))
    return out


def _word_shift(i: int) -> tuple[int, int]:
    return i >> 5, 31 - (i & 31)


def digest_bits(words: np.ndarray, questions) -> np.ndarray:
    """``(n, k)`` uint8 answers: column j is bit ``questions[j]`` of each digest row of ``words``
    (an ``(n, 8)`` uint32 array from ``sha256_words`` / ``sha256_range``)."""
    qs = parse_prompt(questions) if isinstance(questions, str) else tuple(_check_bit(q) for q in questions)
    w = np.asarray(words, dtype=np.uint32)
    if w.ndim != 2 or w.shape[1] != 8:
        raise ValueError(f"words must have shape (n, 8), got {w.shape}")
    out = np.empty((w.shape[0], len(qs)), dtype=np.uint8)
    for j, q in enumerate(qs):
        wi, sh = _word_shift(q)
        out[:, j] = (w[:, wi] >> np.uint32(sh)) & np.uint32(1)
    return out


def _constraints(questions: tuple[int, ...], answers: str):
    """(mask, value) words for 'bit q_j == answer_j for all j', or None when two answers to the
    same bit contradict each other (no object can be consistent)."""
    mask = np.zeros(8, dtype=np.uint32)
    value = np.zeros(8, dtype=np.uint32)
    for q, a in zip(questions, answers):
        wi, sh = _word_shift(q)
        bit = np.uint32(1 << sh)
        want = np.uint32(bit if a == "1" else 0)
        if mask[wi] & bit and (value[wi] & bit) != want:
            return None
        mask[wi] |= bit
        value[wi] |= want
    return mask, value


def _answer_code_columns(m: int, questions: tuple[int, ...], threads: int) -> np.ndarray:
    """(2**m, ceil(k/64)) uint64: the answers of every object packed 64 per column, first answer
    most significant (rows sort lexicographically like the answer strings)."""
    n = 1 << m
    ncol = max(1, -(-len(questions) // 64))
    out = np.zeros((n, ncol), dtype=np.uint64)
    kern = _kernel()
    for c in range(ncol):
        qs = questions[64 * c: 64 * (c + 1)]
        words = np.array([_word_shift(q)[0] for q in qs], dtype=np.intc)
        shifts = np.array([_word_shift(q)[1] for q in qs], dtype=np.intc)
        col = np.empty(n, dtype=np.uint64)
        kern.answer_codes(0, words, shifts, col, threads)
        out[:, c] = col
    return out


def _code_to_string(row, questions: tuple[int, ...]) -> str:
    parts = []
    for c, code in enumerate(row):
        k = len(questions[64 * c: 64 * (c + 1)])
        if k:
            parts.append(format(int(code), f"0{k}b"))
    return "".join(parts)


def _check_table_m(m) -> int:
    v = _check_m(m)
    if v > TABLE_MAX_M:
        raise ValueError(f"m must be <= {TABLE_MAX_M} here (a table of 2**m objects), got {v}")
    return v


def answer_counts(m, prompt: str, *, threads=None) -> dict[str, int]:
    """Exact counts ``{answer string: #objects < 2**m giving it}`` for the questions of ``prompt``
    (every object hashed once by the kernel; m <= TABLE_MAX_M)."""
    m = _check_table_m(m)
    qs = parse_prompt(prompt)
    rows, counts = np.unique(_answer_code_columns(m, qs, resolve_threads(threads)), axis=0, return_counts=True)
    return {_code_to_string(r, qs): int(c) for r, c in zip(rows, counts)}


def answer_law(m, prompt: str, *, threads=None) -> dict[str, Fraction]:
    """The target law T(s) = count(s) / 2**m as exact Fractions (module doc)."""
    m = _check_table_m(m)
    return {s: Fraction(c, 1 << m) for s, c in answer_counts(m, prompt, threads=threads).items()}


# ---------------------------------------------------------------------------------------------
# the two answerers
# ---------------------------------------------------------------------------------------------
class TwentyQuestionsARModel:
    """The autoregressive answerer: exact next-answer counts over the consistent objects,
    re-derived from the transcript at every call (module doc: backends, cost, inconsistent
    transcripts).  Deterministic; holds no per-conversation state."""

    deterministic = True

    def __init__(self, m, *, backend: str = "kernel", threads=None):
        self.m = _check_m(m)
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
        self.backend = backend
        self.threads = resolve_threads(threads)
        self.vocab = Vocabulary(2)
        self.objects = 1 << self.m
        self.table_seconds = 0.0
        self._planes = None
        if backend == "table":
            if self.m > TABLE_MAX_M:
                raise ValueError(f"backend='table' needs m <= {TABLE_MAX_M} (2**m * 32 bytes), got m={self.m}")
            t0 = time.perf_counter()
            nwords = -(-self.objects // 64)
            planes = np.zeros((DIGEST_BITS, nwords), dtype=np.uint64)
            _kernel().bit_planes(planes, self.threads)
            valid = np.full(nwords, np.uint64(0xFFFFFFFFFFFFFFFF))
            if self.objects % 64:
                valid[-1] = np.uint64((1 << (self.objects % 64)) - 1)
            planes &= valid          # objects >= 2**m are not in the universe
            self._planes, self._valid = planes, valid
            self.table_seconds = time.perf_counter() - t0

    @property
    def name(self) -> str:
        return f"TwentyQuestionsARModel(m={self.m}, backend={self.backend!r})"

    def __repr__(self) -> str:
        return self.name

    # -- counting --------------------------------------------------------------------------
    def _count(self, questions: tuple[int, ...], answers: str, next_q: int | None) -> tuple[int, int]:
        """(#consistent objects, #of them with bit next_q set); next_q None -> ones = 0."""
        cons = _constraints(questions, answers)
        if cons is None:
            return 0, 0
        mask, value = cons
        if self.backend == "kernel":
            nw, ns = _word_shift(next_q) if next_q is not None else (-1, 0)
            return _kernel().count_next(0, self.objects, mask, value, nw, ns, self.threads)
        if self.backend == "numpy":
            return self._count_numpy(mask, value, next_q)
        return self._count_table(questions, answers, next_q)

    def _count_numpy(self, mask, value, next_q) -> tuple[int, int]:
        K, H0 = _constants()
        total = ones = 0
        for s in range(0, self.objects, _NUMPY_CHUNK):
            x = np.arange(s, min(self.objects, s + _NUMPY_CHUNK), dtype=np.uint64)
            w = _sha256_chunk(x, K, H0)
            ok = np.all((w & mask) == value, axis=1)
            total += int(ok.sum())
            if next_q is not None:
                wi, sh = _word_shift(next_q)
                ones += int(((w[ok, wi] >> np.uint32(sh)) & np.uint32(1)).sum())
        return total, ones

    def _count_table(self, questions, answers, next_q) -> tuple[int, int]:
        sel = self._valid.copy()
        for q, a in dict(zip(questions, answers)).items():   # contradictions were caught above
            if a == "1":
                sel &= self._planes[q]
            else:
                sel &= ~self._planes[q]
        total = int(np.bitwise_count(sel).sum())
        ones = int(np.bitwise_count(sel & self._planes[next_q]).sum()) if next_q is not None else 0
        return total, ones

    # -- the protocol ----------------------------------------------------------------------
    def consistent_count(self, prompt: str, output: str) -> int:
        """Number of objects whose answers agree with every answer in ``output`` (may be 0)."""
        qs = parse_prompt(prompt)
        output = _check_output(output, qs)
        return self._count(qs, output, None)[0]

    def next_token_counts(self, prompt: str, output: str) -> list[int]:
        """[#consistent with next bit 0, #... 1, 0, 0, 0, 0], or the end token after the last
        answer; ModelError when no object is consistent with ``output``."""
        qs = parse_prompt(prompt)
        output = _check_output(output, qs)
        c = [0] * len(self.vocab)
        if len(output) == len(qs):
            c[self.vocab.end_index] = 1
            return c
        total, ones = self._count(qs, output, qs[len(output)])
        if total == 0:
            raise ModelError(f"model {self.name} at prompt {prompt!r}, output {output!r}: no object of the "
                             f"2**{self.m} is consistent with these answers")
        c[0], c[1] = total - ones, ones
        return c

    def next_token_distribution(self, prompt: str, output: str, rng=None) -> np.ndarray:
        c = self.next_token_counts(prompt, output)
        return np.array(c, dtype=float) / sum(c)


class TwentyQuestionsHiddenSeedModel:
    """The hidden-state answerer: the seed (uniform below ``seed_space = 2**m``) is the object;
    ``next_token_distribution(prompt, output, seed)`` is the point mass on bit
    ``questions[len(output)]`` of ``hashlib.sha256(seed)`` (the end token after the last
    question).  One hashlib call per answer, whatever m."""

    deterministic = True

    def __init__(self, m):
        self.m = _check_m(m)
        self.vocab = Vocabulary(2)
        self.seed_space = 1 << self.m

    @property
    def name(self) -> str:
        return f"TwentyQuestionsHiddenSeedModel(m={self.m})"

    def __repr__(self) -> str:
        return self.name

    def _object(self, seed) -> int:
        s = as_int(seed, "seed")
        if not 0 <= s < self.seed_space:
            raise ValueError(f"seed must be in [0, 2**{self.m}), got {s}")
        return s

    def answers(self, prompt: str, seed) -> str:
        """The whole answer string of the object ``seed``."""
        return object_answers(self._object(seed), parse_prompt(prompt))

    def next_token_distribution(self, prompt: str, output: str, seed) -> np.ndarray:
        qs = parse_prompt(prompt)
        output = _check_output(output, qs)
        x = self._object(seed)
        v = self.vocab
        if len(output) == len(qs):
            return v.point_mass(END)
        d = hashlib.sha256(x.to_bytes(8, "little")).digest()
        return v.point_mass("1" if _bit_of_digest(d, qs[len(output)]) else "0")
