"""Exact audits: the law a language model's decoding induces on a task's answers.

``audit(model, task, prompt)`` walks the canonical token tree of the task's answers breadth
first and asks the model for its next-token scores at every node, one batched forward pass per
group of nodes, so that the probability of every answer -- and of leaving the answers -- comes
out exactly (as floats allow) instead of being estimated from samples:

* the **model** is a ``transformers`` causal LM, or any callable ``f(input_ids) -> scores`` from
  a batch of token-id sequences (a 2-D int64 array: the prompt, then the answer so far) to
  next-token scores (b, V) (logits; NumPy or torch);
* the **task** is a ``TokenLaw`` (``token_law(...)``: task, digits, tokenizer, answer format),
  or ``"prime"`` / ``"number"`` / a character-level model with ``digits=`` and ``tokenizer=``;
* the **decoding regime** (``Decoding``) is what a sampler does with the scores: ``mode``
  ``"plain"`` (the model's own scores), ``"mask"`` (constrained decoding:
  ``MaskLogitsProcessor``'s scores) or ``"teacher"`` (``TeacherLogitsProcessor``'s float32
  scores), then, as ``transformers`` orders its warpers, temperature T (``T = 0``: greedy, the
  first highest score), top-k (keeps every score >= the k-th largest) and top-p (keeps the
  most likely tokens until their mass reaches p).  These are deterministic transforms of the
  scores, so the induced law stays exactly computable.

The walk
--------
Level d holds the answer prefixes of d tokens that still have probability under the regime.
For each level the law gives every node's canonical children (``TokenLaw.tree_children``: array
code, no per-node Python); the model is run once per batch of nodes: the prompt once (its KV
cache kept), then each node's last token on top of its parent's cached keys and values (children
of one parent -- siblings -- sit together in a batch), and a node's cache is kept only when one of
its children will need a forward pass.  A node whose law does not depend on the scores needs no
pass: every node in teacher mode, a single-child node in mask mode (so a mask audit of 6-digit
numbers under 3-digit chunks needs 1 + 1 batches, a plain one 1 + 1 + 900: the end-of-answer
probability after each of the 900,000 answers).  When the kept caches of a level would exceed
``max_cache_bytes`` the next level is recomputed from the prompt's cache instead
(``cache="prompt"`` forces that, ``cache="none"`` feeds whole sequences).

Every token that leaves the canonical tree -- the end token too early, a non-digit token, a
digit token that is not the canonical next chunk (a leading zero, a non-canonical split, too many
digits, a digit string no answer starts with), anything but the end token after a whole answer
-- ends in one **off-support** bucket, split in ``off_support_detail`` into ``end`` (the end
token), ``digits`` (tokens whose text is digits) and ``other``.  Non-canonical splits of a
valid number count as off-support: the target law is over canonical token sequences (what the
mask and teacher modes produce).

What is exact and what is float
-------------------------------
The tree, the target law (integer counts from ``nextdigit.lm.laws``, ``Fraction``-exact) and
the bookkeeping of which answers are reached are exact.  The model's scores are whatever its
forward pass computes (float32 for most models; run ``model.double()`` for float64); from them
on everything is float64: log-probabilities of children are ``s_t - max - log(sum exp)`` per
node, an answer's probability is the exponential of the sum along its path, the off-support
mass is summed directly (not as 1 minus the rest), sums use ``math.fsum``.  ``float_error`` is
the measured ``|sum of the law + off-support - 1|`` (about 1e-15 in the tests).  The target
mass the walk never reaches (under top-k, top-p or T = 0) is an exact integer count.  Teacher
mode uses the processor's float32 scores, so its TVD is the float32 rounding of the scores
(about 1e-8; a float32 softmax adds at most ``teacher_tvd_bound``'s second term).

Results
-------
``AuditResult``: the sparse law (``answers`` as integers, ``probs``, ``target_probs``), exact
``tvd`` and ``kl`` (model || target; infinite with off-support mass) and ``kl_reverse``
(target || model: the extra nats per answer a sampler of the target pays under the model),
``entropy``, ``off_support``, ``mode``, ``top(k)``, the first-digit marginals, and the work
done (``nodes``, ``forward_batches``, ``forward_rows``, ``seconds``).  ``conditional()`` is the
law of rejection sampling (the model's law given a valid answer).

``distortion(model, task, prompt)`` measures, in one walk, the TVD to the target of (a) the
plain model conditioned on a valid answer -- rejection sampling's law, the ideal of
grammar-aligned decoding (Park et al., NeurIPS 2024) -- (b) mask-constrained decoding and (c)
teacher mode, and the gap between (a) and (b) exactly.

``monte_carlo(model, task, prompt, samples=...)`` samples when the tree is too large for the
node budget (``max_nodes``): the TVD estimator of ``nextdigit.analysis.monte_carlo_tvd``,
``E_x[(1 - u(x)/p(x))_+]`` with p(x) the model's probability of the sampled tokens (exact along
the path) and u(x) the target's, with a normal interval; the off-support rate with a Wilson
interval; ``nextdigit.analysis.uniformity_test`` on the valid answers.

Example (NumPy only: a "model" whose scores are all zero, i.e. uniform over a 128-token
vocabulary, under a per-character tokenizer):

>>> import numpy as np
>>> from nextdigit.lm import token_law
>>> law = token_law("prime", 2, (lambda s: [ord(c) for c in s], None), eos=36)   # '$' ends
>>> flat = lambda ids: np.zeros((len(ids), 128))
>>> r = audit(flat, law, prompt=[])
>>> round(r.off_support, 6)                     # 3 uniform tokens over 128 must hit an answer
0.99999
>>> masked = audit(flat, law, prompt=[], mode="mask")
>>> masked.float_error < 1e-15, round(masked.tvd, 4)   # uniform first digit, then the primes
(True, 0.1429)
>>> masked.top(2)                               # 97 alone after a 9: 1/9; 23 one of two after a 2
[('97', 0.1111, 0.0476), ('23', 0.0556, 0.0476)]
>>> audit(flat, law, prompt=[], mode="teacher").tvd < 1e-7
True
"""
from __future__ import annotations

import math
import sys
import time
import weakref
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from .._util.rng import as_generator
from .._util.validate import as_int, as_int_in
from .laws import TokenLaw, TreeLevel, _as_prefix, token_law

__all__ = ["audit", "distortion", "monte_carlo", "Decoding", "AuditResult", "DistortionResult",
           "MonteCarloResult", "plot_audit", "load_local_model", "cli_audit", "MAX_NODES", "MAX_CACHE_BYTES",
           "DECODING_MODES"]

MAX_NODES = 1 << 22               # nodes of the token tree an exact audit may visit (4,194,304)
MAX_CACHE_BYTES = 1 << 31         # KV caches kept for one level of the walk (2 GiB)
SCORE_ELEMENTS = 1 << 23          # rows x vocabulary of one batch of float64 scores (64 MiB)
DECODING_MODES = ("plain", "mask", "teacher")


# ---------------------------------------------------------------------------------------------
# The decoding regime
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Decoding:
    """How a sampler turns the scores into a next-token law (``transformers``' order):
    ``mode`` (``"plain"``, ``"mask"``, ``"teacher"``), then ``temperature`` (0 = greedy: the
    first highest score), ``top_k`` (None = off; keeps every score >= the k-th largest, so ties
    may keep more) and ``top_p`` (None = off; keeps the most likely tokens until the mass
    before the next one reaches p)."""

    mode: str = "plain"
    temperature: float = 1.0
    top_k: int | None = None
    top_p: float | None = None

    def __post_init__(self):
        if self.mode not in DECODING_MODES:
            raise ValueError(f"mode must be 'plain', 'mask' or 'teacher', got {self.mode!r}")
        t = self.temperature
        if isinstance(t, bool) or not isinstance(t, (int, float, np.integer, np.floating)):
            raise TypeError(f"temperature must be a number, not {type(t).__name__}")
        t = float(t)
        if not (t >= 0 and math.isfinite(t)):
            raise ValueError(f"temperature must be a finite number >= 0, got {self.temperature}")
        object.__setattr__(self, "temperature", t)
        if self.top_k is not None:
            k = as_int(self.top_k, "top_k")
            if k < 1:
                raise ValueError(f"top_k must be >= 1 (or None), got {k}")
            object.__setattr__(self, "top_k", k)
        if self.top_p is not None:
            p = self.top_p
            if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)):
                raise TypeError(f"top_p must be a number, not {type(p).__name__}")
            p = float(p)
            if not 0 < p <= 1:
                raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")
            object.__setattr__(self, "top_p", None if p == 1 else p)

    @property
    def truncates(self) -> bool:
        """True when the regime may give some canonical answers probability 0."""
        return self.temperature == 0 or self.top_k is not None or self.top_p is not None

    @property
    def label(self) -> str:
        parts = [self.mode]
        if self.temperature != 1:
            parts.append("greedy" if self.temperature == 0 else f"T={self.temperature:g}")
        if self.top_k is not None:
            parts.append(f"top-k={self.top_k}")
        if self.top_p is not None:
            parts.append(f"top-p={self.top_p:g}")
        return ", ".join(parts)


def _decoding(decoding, mode, temperature, top_k, top_p) -> Decoding:
    if decoding is not None:
        if not isinstance(decoding, Decoding):
            raise TypeError(f"decoding must be a Decoding, not {type(decoding).__name__}")
        return decoding
    return Decoding(mode, temperature, top_k, top_p)


# ---------------------------------------------------------------------------------------------
# Scorers: the model's next-token scores for batches of tree nodes
# ---------------------------------------------------------------------------------------------
def _is_torch_module(model) -> bool:
    if "torch" not in sys.modules:
        return False
    import torch

    return isinstance(model, torch.nn.Module)


class _CallableScorer:
    """``model(input_ids (b, P + d) int64) -> scores (b, V)``: whole sequences every call."""

    uses_cache = False

    def __init__(self, model, prompt_ids):
        self.model = model
        self.prompt = np.asarray(prompt_ids, dtype=np.int64)
        self.batches = self.rows = self.tokens = 0
        self.strategy = "none"

    def _call(self, seqs: np.ndarray) -> np.ndarray:
        out = self.model(seqs)
        if hasattr(out, "detach"):
            out = out.detach().to("cpu").double().numpy()
        out = np.asarray(out, dtype=np.float64)
        if out.ndim != 2 or out.shape[0] != seqs.shape[0]:
            raise ValueError(f"the model must return scores of shape (batch={seqs.shape[0]}, vocab), got {out.shape}")
        self.batches += 1
        self.rows += seqs.shape[0]
        self.tokens += seqs.size
        return out

    def root(self, keep: bool) -> np.ndarray:
        return self._call(self.prompt[None, :])

    def forward(self, tokens: np.ndarray, slots, keep) -> np.ndarray:
        seqs = np.concatenate([np.broadcast_to(self.prompt, (len(tokens), len(self.prompt))), tokens], axis=1)
        return self._call(np.ascontiguousarray(seqs))

    def end_level(self) -> None:
        return None

    def close(self) -> None:
        return None


class _HFScorer:
    """A ``transformers`` causal LM with its KV cache: the prompt once, then one token per node
    on its parent's cached keys and values (``cache="tree"``), or every answer token on the
    prompt's cache (``"prompt"``), or whole sequences (``"none"``)."""

    uses_cache = True

    def __init__(self, model, prompt_ids, strategy: str, max_cache_bytes: int):
        import torch

        if getattr(model.config, "is_encoder_decoder", False):
            raise TypeError("model must be a causal (decoder-only) language model, not an encoder-decoder")
        if not prompt_ids:
            raise ValueError("a transformers model needs at least one prompt token before the answer (give prompt=, "
                             "or a model whose config has a bos_token_id)")
        self.torch = torch
        self.model = model
        self.strategy = strategy
        self.max_cache_bytes = max_cache_bytes
        self.device = next(model.parameters()).device
        self.prompt = torch.tensor([list(prompt_ids)], dtype=torch.long, device=self.device)
        self.P = len(prompt_ids)
        self.batches = self.rows = self.tokens = 0
        self.prompt_cache = None
        self.cur = None            # kept caches of the previous level: list of (keys, values) per layer
        self.parts = []
        self.bytes = 0
        self.overflow = False
        self.was_training = model.training
        import inspect

        try:
            params = inspect.signature(model.forward).parameters
        except (TypeError, ValueError):        # pragma: no cover - a forward without a signature
            params = {}
        self.cache_kw = "cache" if "cache" in params else "past_key_values"
        self.extra = {"logits_to_keep": 1} if "logits_to_keep" in params else {}
        model.eval()

    def close(self) -> None:
        self.model.train(self.was_training)
        self.cur = self.parts = self.prompt_cache = None

    def _cache(self, layers):
        from transformers import DynamicCache

        if layers is None:
            return DynamicCache(config=self.model.config)
        return DynamicCache(ddp_cache_data=layers, config=self.model.config)

    @staticmethod
    def _layers(out):
        cache = getattr(out, "cache", None)
        if cache is None:
            cache = out.past_key_values
        return [(kv[0], kv[1]) for kv in cache]

    def _run(self, ids, cache, length):
        torch = self.torch
        kw = {} if cache is None else {self.cache_kw: cache}
        return self.model(input_ids=ids, use_cache=cache is not None, **kw, **self.extra,
                          attention_mask=torch.ones((ids.shape[0], length), dtype=torch.long, device=self.device))

    def _logits(self, out) -> np.ndarray:
        return out.logits[:, -1, :].to(dtype=self.torch.float64).cpu().numpy()

    def root(self, keep: bool) -> np.ndarray:
        torch = self.torch
        with torch.no_grad():
            if self.strategy == "none":
                out = self._run(self.prompt, None, self.P)
            else:
                out = self._run(self.prompt, self._cache(None), self.P)
        self.batches += 1
        self.rows += 1
        self.tokens += self.P
        if self.strategy != "none":
            self.prompt_cache = self._layers(out)
            self.cur = None
            if self.strategy == "tree" and keep:
                self.parts = [self.prompt_cache]
        return self._logits(out)

    def forward(self, tokens: np.ndarray, slots, keep) -> np.ndarray:
        torch = self.torch
        b, d = tokens.shape
        ids = torch.as_tensor(tokens, dtype=torch.long, device=self.device)
        with torch.no_grad():
            if self.strategy == "none":
                inp = torch.cat([self.prompt.expand(b, -1), ids], dim=1)
                out = self._run(inp, None, inp.shape[1])
                self.tokens += inp.numel()
            elif self.cur is not None:
                if slots[0] == slots[-1] and np.all(slots == slots[0]):      # siblings: one parent, no copy
                    j = int(slots[0])
                    layers = [(k[j:j + 1].expand(b, -1, -1, -1), v[j:j + 1].expand(b, -1, -1, -1)) for k, v in self.cur]
                else:
                    idx = torch.as_tensor(slots, dtype=torch.long, device=self.device)
                    layers = [(k[idx], v[idx]) for k, v in self.cur]
                out = self._run(ids[:, -1:], self._cache(layers), self.P + d)
                self.tokens += b
            else:
                layers = [(k.expand(b, -1, -1, -1), v.expand(b, -1, -1, -1)) for k, v in self.prompt_cache]
                out = self._run(ids, self._cache(layers), self.P + d)
                self.tokens += ids.numel()
        self.batches += 1
        self.rows += b
        if self.strategy == "tree" and not self.overflow and keep.any():
            sel = torch.as_tensor(np.flatnonzero(keep), dtype=torch.long, device=self.device)
            kept = [(k[sel], v[sel]) for k, v in self._layers(out)]
            self.bytes += sum(k.numel() * k.element_size() + v.numel() * v.element_size() for k, v in kept)
            if self.bytes > self.max_cache_bytes:
                self.overflow = True       # the next level recomputes its answer tokens on the prompt's cache
                self.parts = []
            else:
                self.parts.append(kept)
        return self._logits(out)

    def end_level(self) -> None:
        if self.strategy != "tree":
            return
        if self.overflow or not self.parts:
            self.cur = None
        else:
            self.cur = [(self.torch.cat([p[i][0] for p in self.parts]), self.torch.cat([p[i][1] for p in self.parts]))
                        for i in range(len(self.parts[0]))]
        self.parts = []
        self.bytes = 0
        self.overflow = False


def _scorer(model, prompt_ids, cache: str, max_cache_bytes: int):
    if cache not in ("tree", "prompt", "none"):
        raise ValueError(f"cache must be 'tree', 'prompt' or 'none', got {cache!r}")
    if _is_torch_module(model):
        if not hasattr(model, "config"):
            raise TypeError(f"model must be a transformers causal LM or a callable, not a bare {type(model).__name__}")
        return _HFScorer(model, prompt_ids, cache, max_cache_bytes)
    if callable(model):
        return _CallableScorer(model, prompt_ids)
    raise TypeError(f"model must be a transformers causal LM or a callable input_ids -> scores, not "
                    f"{type(model).__name__}")


def _model_width(model):
    cfg = getattr(model, "config", None)
    v = getattr(cfg, "vocab_size", None) if cfg is not None else None
    return v if isinstance(v, int) and v > 0 else None


# ---------------------------------------------------------------------------------------------
# Token classes (for the off-support detail), cached per law
# ---------------------------------------------------------------------------------------------
_CLASSES: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _token_classes(law: TokenLaw, width: int):
    """(end token ids, digit token ids) below ``width``: the end token(s), and the tokens whose
    text is a digit string."""
    key = _CLASSES.get(law)
    if key is not None and key[0] == width:
        return key[1]
    ends = {law.eos_id, law.codec.eos_token_id} - {None}
    end_ids = np.array(sorted(e for e in ends if 0 <= e < width), dtype=np.int64)
    table = getattr(law, "table", None)
    if table is not None:
        digit = np.unique(np.concatenate([np.asarray(a) for a in table.ids.values()]))
    elif law.codec.decode is not None:
        n = min(width, law.codec.vocab_size or width)
        ids = []
        for t in range(n):
            try:
                text = law.codec.decode([t])
            except Exception:        # noqa: BLE001 - a tokenizer that cannot decode one id: not a digit token
                continue
            text = text.strip() if isinstance(text, str) else ""
            if text and text.isdigit() and text.isascii():
                ids.append(t)
        digit = np.array(ids, dtype=np.int64)
    else:
        digit = np.unique(law.vocab_ids)
    digit = digit[(digit < width) & ~np.isin(digit, end_ids)]
    cls = np.zeros(width, dtype=np.int8)          # 0 other, 1 digits, 2 end
    cls[digit] = 1
    cls[end_ids] = 2
    starts = np.concatenate([[0], np.flatnonzero(np.diff(cls)) + 1])
    classes = _Classes(end_ids, digit, starts, cls[starts])
    _CLASSES[law] = (width, classes)
    return classes


@dataclass
class _Classes:
    """Token classes of the columns: runs of equal class (``starts``, ``run_class``) so that the
    off-support mass of each class is one ``np.add.reduceat`` over the columns."""

    end_ids: np.ndarray
    digit_ids: np.ndarray
    starts: np.ndarray
    run_class: np.ndarray


# ---------------------------------------------------------------------------------------------
# One batch of nodes under one regime
# ---------------------------------------------------------------------------------------------
def _seg_reduce(ufunc, x, starts):
    return ufunc.reduceat(x, starts) if len(x) else np.zeros(0)


def _log_counts(counts) -> np.ndarray:
    if counts.dtype == object:
        return np.array([math.log(int(c)) for c in counts], dtype=np.float64)
    return np.log(counts.astype(np.float64))


def _compact(reg: Decoding, sc, cp, ct, starts, b):
    """log q of every child under ``reg`` when only the children can have mass (mask, teacher):
    ``sc`` the processed scores of the children (segments per node, ``starts``)."""
    s = sc.copy()
    if reg.temperature == 0:
        order = np.lexsort((ct, -s, cp))                 # per node: highest score, then lowest id
        first = np.ones(len(order), dtype=bool)
        first[1:] = cp[order][1:] != cp[order][:-1]
        out = np.full(len(s), -np.inf)
        out[order[first]] = 0.0
        return out
    if reg.temperature != 1:
        s = s / reg.temperature
    if reg.top_k is not None or reg.top_p is not None:
        order = np.lexsort((ct, -s, cp))
        rank = np.arange(len(order)) - np.repeat(starts, np.diff(np.append(starts, len(order))))
        srt = s[order]
        if reg.top_k is not None:
            lens = np.diff(np.append(starts, len(order)))
            kth = srt[starts + np.minimum(reg.top_k, lens) - 1]
            s = np.where(s >= kth[cp], s, -np.inf)
            srt = s[order]
        if reg.top_p is not None:
            m = _seg_reduce(np.maximum, srt, starts)
            e = np.exp(srt - m[cp[order]])
            z = _seg_reduce(np.add, e, starts)
            p = e / z[cp[order]]
            cum = np.cumsum(p)
            before = cum - p - np.repeat(cum[starts] - p[starts], np.diff(np.append(starts, len(order))))
            drop = (before >= reg.top_p) & (rank > 0)
            s[order[drop]] = -np.inf
    m = _seg_reduce(np.maximum, s, starts)
    if np.any(~np.isfinite(m)):
        i = int(np.flatnonzero(~np.isfinite(m))[0])
        raise ValueError(f"{reg.mode} mode: the scores give every allowed token probability 0 at node {i} of the batch "
                         "(the model puts -inf on every token that continues an answer)")
    e = np.exp(s - m[cp])
    z = _seg_reduce(np.add, e, starts)
    return s - m[cp] - np.log(z)[cp]


def _dense(reg: Decoding, L, cp, ct, cls: "_Classes", inplace: bool = False):
    """Plain mode on the full scores ``L`` (b, V): (log q of the children, off-support mass per
    node, the end-token and digit-token parts of it).  ``inplace``: ``L`` may be overwritten."""
    b, V = L.shape
    if reg.temperature == 0:
        arg = np.argmax(L, axis=1)
        hit = arg[cp] == ct
        logq = np.where(hit, 0.0, -np.inf)
        on = np.zeros(b, dtype=bool)
        on[cp[hit]] = True
        off = (~on).astype(np.float64)
        is_end = np.isin(arg, cls.end_ids) & ~on
        is_dig = np.isin(arg, cls.digit_ids) & ~on
        return logq, off, is_end.astype(np.float64), is_dig.astype(np.float64)
    s = L if inplace else L.copy()
    if reg.temperature != 1:
        s /= reg.temperature
    if reg.top_k is not None and reg.top_k < V:
        kth = np.partition(s, V - reg.top_k, axis=1)[:, V - reg.top_k]
        s[s < kth[:, None]] = -np.inf
    if reg.top_p is not None:
        order = np.argsort(-s, axis=1, kind="stable")
        srt = np.take_along_axis(s, order, axis=1)
        p = np.exp(srt - srt[:, :1])
        p /= p.sum(axis=1, keepdims=True)
        before = np.cumsum(p, axis=1) - p
        drop = before >= reg.top_p
        drop[:, 0] = False
        rows = np.nonzero(drop)
        s[rows[0], order[rows]] = -np.inf
    m = s.max(axis=1)
    sc = s[cp, ct]
    np.subtract(s, m[:, None], out=s)
    np.exp(s, out=s)                               # s is now e = exp(score - max), in place
    z = s.sum(axis=1)
    logq = sc - m[cp] - np.log(z)[cp]
    s[cp, ct] = 0.0                                # what is left is off the canonical tree: summed directly
    runs = np.add.reduceat(s, cls.starts, axis=1)
    off = runs.sum(axis=1) / z
    end = runs[:, cls.run_class == 2].sum(axis=1) / z
    dig = runs[:, cls.run_class == 1].sum(axis=1) / z
    return logq, off, end, dig


def _teacher_scores(counts, cp, starts) -> np.ndarray:
    """``TeacherLogitsProcessor``'s scores of the children: float32 log(c / c_max) per node."""
    lc = _log_counts(counts)
    mx = _seg_reduce(np.maximum, lc, starts)
    return (lc - mx[cp]).astype(np.float32).astype(np.float64)


# ---------------------------------------------------------------------------------------------
# The walk
# ---------------------------------------------------------------------------------------------
@dataclass
class _Walk:
    values: np.ndarray            # answers reached (integers)
    logp: np.ndarray              # (R, k) log-probability of each under each regime
    counts: np.ndarray            # target counts of the leaves (1 each for a task's answers)
    target_logp: np.ndarray       # (k,) float64 log target probability (lifted laws)
    off: list                     # per regime: off-support mass
    detail: list                  # per regime: (end, digits, other)
    total: object                 # number of answers (None for lifted laws)
    nodes: int
    levels: list
    scorer: object
    seconds: float


def _groups(parent: np.ndarray, batch: int):
    """Cut nodes (grouped by parent) into batches of at most ``batch`` rows, at sibling-group
    boundaries whenever a group fits."""
    n = len(parent)
    if n == 0:
        return []
    bounds = np.flatnonzero(np.diff(parent)) + 1
    starts = np.concatenate([[0], bounds])
    ends = np.concatenate([bounds, [n]])
    out = []
    s = 0
    for a, e in zip(starts.tolist(), ends.tolist()):
        if e - s > batch and a > s:
            out.append((s, a))
            s = a
        while e - s > batch:
            out.append((s, s + batch))
            s += batch
    if s < n:
        out.append((s, n))
    return out


def _walk(scorer, law: TokenLaw, regimes, *, max_nodes: int, batch_size: int, width, progress: bool) -> _Walk:
    t0 = time.perf_counter()
    R = len(regimes)
    plain = any(r.mode == "plain" for r in regimes)
    model_used = any(r.mode != "teacher" for r in regimes)
    absolute = law.exact_counts
    est = getattr(getattr(law, "oracle", None), "support_size_estimate", None)
    if est is not None and not any(r.truncates for r in regimes) and est() > 2 * max_nodes:
        raise ValueError(f"the token tree of {law!r} has about {est():.3g} answers, more than max_nodes={max_nodes} "
                         "nodes: use nextdigit.lm.monte_carlo (sampling with confidence intervals), or raise max_nodes")
    level = law.tree_root()
    total = int(level.counts[0]) if absolute else None
    if absolute and total == 0:
        raise ValueError(f"{law!r} has no answers: the target law's support is empty")
    if absolute and not any(r.truncates for r in regimes) and total > max_nodes:
        raise ValueError(f"the token tree of {law!r} has {total} answers, more than max_nodes={max_nodes} nodes: "
                         "use nextdigit.lm.monte_carlo (sampling with confidence intervals), or raise max_nodes")
    logw = np.zeros((R, 1))
    tlog = np.zeros(1)
    lparent = np.zeros(1, dtype=np.int64)        # each node's parent in the previous level (grouping)
    pslot = np.zeros(1, dtype=np.int64)          # each node's parent's cache slot
    nodes = 1
    leaves = {"values": [], "logp": [], "counts": [], "tlog": []}
    off = [[] for _ in range(R)]
    det = [[[], []] for _ in range(R)]
    classes = None
    order = [r for r, g in enumerate(regimes) if g.mode != "plain"] + [r for r, g in enumerate(regimes) if g.mode == "plain"]
    last_plain = order[-1] if plain else -1      # the last user of the scores may overwrite them
    sizes = []
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(desc="audit", unit="node")
    root = True
    while len(level):
        kids, parent = law.tree_children(level)
        if root and not len(kids):
            raise ValueError(f"{law!r}: the root has no canonical next token: the target law's support is empty")
        nodes += len(kids)
        if nodes > max_nodes:
            raise ValueError(f"the token tree walked for {law!r} has more than max_nodes={max_nodes} nodes (level "
                             f"{level.depth + 1} alone has {len(kids)}): use nextdigit.lm.monte_carlo (sampling with "
                             "confidence intervals), or raise max_nodes")
        m = len(level)
        sizes.append(m)
        nchild = np.bincount(parent, minlength=m)
        if plain:
            need = np.ones(m, dtype=bool)
        elif model_used:
            need = nchild >= 2
        else:
            need = np.zeros(m, dtype=bool)
        keep = np.zeros(m, dtype=bool)
        if model_used and scorer.uses_cache:
            cn = ~kids.complete
            if not plain and absolute:
                cn &= kids.counts >= 2 if kids.counts.dtype != object else np.array([int(c) >= 2 for c in kids.counts])
            keep[parent[cn]] = True
        fwd = need | keep
        slot = np.full(m, -1, dtype=np.int64)
        slot[keep] = np.arange(int(keep.sum()))
        kstart = np.searchsorted(parent, np.arange(m + 1))       # children of node i: kstart[i]:kstart[i+1]
        logq = np.empty((R, len(kids)))
        for a, e in _groups(lparent, batch_size if width is None else max(1, min(batch_size, SCORE_ELEMENTS // width))):
            b = e - a
            f = np.flatnonzero(fwd[a:e])
            L = None
            if len(f) and model_used:
                if root:
                    raw = scorer.root(bool(keep[0]))
                else:
                    raw = scorer.forward(level.tokens[a + f], pslot[a + f], keep[a + f])
                if width is None:
                    width = raw.shape[1]
                    _check_width(law, width)
                if raw.shape[1] != width:
                    raise ValueError(f"the model returned {raw.shape[1]} scores per token after {width} before")
                L = np.zeros((b, width)) if len(f) < b else raw
                if len(f) < b:
                    L[f] = raw
            if plain and classes is None:
                classes = _token_classes(law, width)
            ka, ke = kstart[a], kstart[e]
            cp = parent[ka:ke] - a
            ct = kids.tokens[ka:ke, -1]
            starts = kstart[a:e] - ka
            if np.any(nchild[a:e] == 0):
                i = a + int(np.flatnonzero(nchild[a:e] == 0)[0])
                raise ValueError(f"{law!r}: the answer prefix {level.tokens[i].tolist()} has positive target weight but "
                                 "no canonical continuation (a task model with a dead end)")
            w = np.exp(logw[:, a:e])
            lc = L[cp, ct] if L is not None else np.zeros(len(cp))
            for r in order:
                reg = regimes[r]
                if reg.mode == "plain":
                    lq, o, oe, od = _dense(reg, L, cp, ct, classes, inplace=r == last_plain)
                    off[r].append(float(np.dot(w[r], o)))
                    det[r][0].append(float(np.dot(w[r], oe)))
                    det[r][1].append(float(np.dot(w[r], od)))
                elif reg.mode == "mask":
                    lq = _compact(reg, lc, cp, ct, starts, b)
                else:
                    lq = _compact(reg, _teacher_scores(_take(kids.counts, ka, ke), cp, starts), cp, ct, starts, b)
                logq[r, ka:ke] = lq
            if bar is not None:
                bar.update(b)
        scorer.end_level()
        clogw = logw[:, parent] + logq
        if absolute:
            ctl = None
        else:                                    # a lifted model: log of its conditionals, in float64
            cnt = kids.counts
            if cnt.dtype == object:
                sums = [sum(int(x) for x in cnt[kstart[i]:kstart[i + 1]]) for i in range(m)]
                lsum = np.array([math.log(v) if v > 0 else 0.0 for v in sums])
            else:
                sums = np.zeros(m)
                nz = nchild > 0
                if len(cnt):
                    sums[nz] = np.add.reduceat(cnt.astype(np.float64), kstart[:-1][nz])
                lsum = np.log(np.where(sums > 0, sums, 1.0))
            ctl = tlog[parent] + _log_counts(cnt) - lsum[parent]
        alive = np.isfinite(clogw).any(axis=0)
        leaf = alive & kids.complete
        li = np.flatnonzero(leaf)
        if len(li):
            leaves["values"].append(law.tree_values(kids, li))
            leaves["logp"].append(clogw[:, li])
            leaves["counts"].append(kids.counts[li])
            leaves["tlog"].append(ctl[li] if ctl is not None else np.zeros(len(li)))
        nxt = np.flatnonzero(alive & ~kids.complete)
        logw = clogw[:, nxt]
        if ctl is not None:
            tlog = ctl[nxt]
        lparent = parent[nxt]
        pslot = slot[parent[nxt]]
        level = TreeLevel(kids.tokens[nxt], _take_idx(kids.counts, nxt), kids.complete[nxt], _take_state(kids.state, nxt))
        root = False
    if bar is not None:
        bar.close()
    if leaves["values"]:
        values = np.concatenate(leaves["values"])
        logp = np.concatenate(leaves["logp"], axis=1)
        counts = np.concatenate(leaves["counts"])
        tl = np.concatenate(leaves["tlog"])
    else:
        values = np.zeros(0, np.int64)
        logp = np.zeros((R, 0))
        counts = np.zeros(0, np.uint64)
        tl = np.zeros(0)
    offs = [math.fsum(o) for o in off]
    details = []
    for r in range(R):
        e_, d_ = math.fsum(det[r][0]), math.fsum(det[r][1])
        details.append({"end": e_, "digits": d_, "other": max(0.0, offs[r] - e_ - d_)})
    return _Walk(values, logp, counts, tl, offs, details, total, nodes, sizes, scorer, time.perf_counter() - t0)


def _take(counts, a, b):
    return counts[a:b]


def _take_idx(counts, idx):
    return counts[idx]


def _take_state(state, idx):
    if isinstance(state, tuple):
        return tuple(s[idx] for s in state)
    if isinstance(state, list):
        return [state[i] for i in idx]
    return state[idx]


def _check_width(law: TokenLaw, width: int) -> None:
    top = int(law.vocab_ids.max())
    if top >= width:
        raise ValueError(f"the law uses token id {top} but the model gives only {width} scores per token: the model's "
                         "vocabulary does not match the tokenizer")
    vs = law.codec.vocab_size
    if vs is not None and vs > width:
        raise ValueError(f"the tokenizer has {vs} tokens but the model gives only {width} scores per token: the model's "
                         "vocabulary does not match the tokenizer")


# ---------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------
def _xlogy(p, q) -> float:
    """sum p log(p / q) over p > 0 (inf where q = 0)."""
    pos = p > 0
    if np.any(pos & (q <= 0)):
        return math.inf
    return max(0.0, math.fsum((p[pos] * (np.log(p[pos]) - np.log(q[pos]))).tolist()))   # >= 0 up to rounding


@dataclass
class AuditResult:
    """The exact law a decoding regime induces on a task's answers (see the module docstring).

    ``answers`` (integers: the digit string is ``str(a).zfill(digits)``), ``probs`` (the
    model's probability of each, float64) and ``target_probs`` (the target's) list every answer
    with positive probability, in increasing order.  ``off_support`` is the mass of every other
    outcome, ``missing_target`` the target mass on answers the model never produces (exact)."""

    task: str
    digits: int
    tokenization: str
    decoding: Decoding
    prompt_ids: tuple
    answers: np.ndarray
    probs: np.ndarray
    target_probs: np.ndarray
    off_support: float
    off_support_detail: dict
    missing_target: float
    support_size: object
    target_first_digit: np.ndarray
    nodes: int = 0
    forward_batches: int = 0
    forward_rows: int = 0
    forward_tokens: int = 0
    seconds: float = 0.0
    cache: str = ""
    level_sizes: list = field(default_factory=list)
    label: str = ""

    def __post_init__(self):
        p, u = self.probs, self.target_probs
        self.valid_mass = math.fsum(p.tolist())
        self.float_error = abs(self.valid_mass + self.off_support - 1.0)
        self.tvd = 0.5 * (math.fsum(np.abs(p - u).tolist()) + self.missing_target + self.off_support)
        self.kl = math.inf if self.off_support > 0 else _xlogy(p, u)
        self.kl_reverse = math.inf if self.missing_target > 0 else _xlogy(u, p)
        pos = p[p > 0]
        ent = -math.fsum((pos * np.log(pos)).tolist())
        if self.off_support > 0:
            ent -= self.off_support * math.log(self.off_support)
        self.entropy = ent
        self.target_entropy = (math.log(self.support_size) if isinstance(self.support_size, int) and self.support_size
                               else (-math.fsum((u[u > 0] * np.log(u[u > 0])).tolist()) if self.missing_target == 0
                                     else math.nan))
        self.first_digit = self._first_digits(p)
        if not self.label:
            self.label = self.decoding.label

    def _first_digits(self, p) -> np.ndarray:
        scale = 10 ** (self.digits - 1)
        if self.answers.dtype == object:
            fd = np.array([int(a) // scale for a in self.answers], dtype=np.int64)
        else:
            fd = self.answers // scale
        return np.bincount(fd, weights=p, minlength=10)[:10]

    def __len__(self) -> int:
        return len(self.answers)

    def __repr__(self) -> str:
        return (f"AuditResult({self.task}, {self.digits} digits, {self.tokenization}, {self.label}: TVD={self.tvd:.6g}, "
                f"off-support={self.off_support:.4g}, {len(self)} answers)")

    def text(self, answer) -> str:
        return str(int(answer)).zfill(self.digits)

    def prob(self, answer) -> float:
        """The model's probability of ``answer`` (a digit string or an integer)."""
        v = int(answer)
        i = int(np.searchsorted(self.answers, v)) if self.answers.dtype != object else \
            next((k for k, a in enumerate(self.answers) if int(a) >= v), len(self.answers))
        return float(self.probs[i]) if i < len(self.answers) and int(self.answers[i]) == v else 0.0

    def law(self) -> dict:
        """{digit string: probability} (every answer with positive probability)."""
        return {self.text(a): float(p) for a, p in zip(self.answers.tolist(), self.probs.tolist())}

    def top(self, k: int = 10, digits: int = 4) -> list:
        """The ``k`` most likely answers: (text, probability, target probability), rounded to
        ``digits`` significant decimals (None: unrounded)."""
        k = as_int(k, "k")
        order = np.lexsort((self.answers.astype(object) if self.answers.dtype == object else self.answers, -self.probs))
        out = []
        for i in order[:k]:
            p, u = float(self.probs[i]), float(self.target_probs[i])
            if digits is not None:
                p, u = round(p, digits), round(u, digits)
            out.append((self.text(self.answers[i]), p, u))
        return out

    @property
    def mode(self):
        """The most likely answer and its probability (None without any valid answer)."""
        if not len(self):
            return None
        i = int(np.argmax(self.probs))
        return self.text(self.answers[i]), float(self.probs[i])

    def mass(self, prefix: str) -> float:
        """The model's probability of an answer starting with the digits ``prefix``."""
        if not isinstance(prefix, str) or not prefix.isdigit() or len(prefix) > self.digits:
            raise ValueError(f"prefix must be a string of at most {self.digits} digits, got {prefix!r}")
        scale = 10 ** (self.digits - len(prefix))
        v = int(prefix)
        lo, hi = v * scale, (v + 1) * scale
        a = self.answers
        sel = (a >= lo) & (a < hi) if a.dtype != object else np.array([lo <= int(x) < hi for x in a], dtype=bool)
        return math.fsum(self.probs[sel].tolist())

    def conditional(self) -> "AuditResult":
        """The law of rejection sampling: this law given a valid answer (off-support mass 0)."""
        if self.valid_mass <= 0:
            raise ValueError(f"{self.label}: the model puts no mass on any valid answer, so the conditional law "
                             "(rejection sampling) is undefined: rejection sampling would never accept")
        p = self.probs / self.valid_mass
        return AuditResult(self.task, self.digits, self.tokenization, self.decoding, self.prompt_ids, self.answers, p,
                           self.target_probs, 0.0, {"end": 0.0, "digits": 0.0, "other": 0.0}, self.missing_target,
                           self.support_size, self.target_first_digit, self.nodes, self.forward_batches,
                           self.forward_rows, self.forward_tokens, self.seconds, self.cache, self.level_sizes,
                           label=f"{self.label} | valid answer (rejection sampling)")

    def as_dict(self, top: int = 10) -> dict:
        """A JSON-ready summary (the law itself is left out; see ``law()``)."""
        return {"task": self.task, "digits": self.digits, "tokenization": self.tokenization, "decoding": self.label,
                "support_size": self.support_size, "answers_reached": len(self), "tvd": self.tvd, "kl": self.kl,
                "kl_reverse": self.kl_reverse, "entropy": self.entropy, "target_entropy": self.target_entropy,
                "off_support": self.off_support, "off_support_detail": dict(self.off_support_detail),
                "valid_mass": self.valid_mass, "missing_target": self.missing_target, "float_error": self.float_error,
                "mode": self.mode, "top": self.top(top, None),
                "first_digit": self.first_digit[1:].tolist(), "target_first_digit": self.target_first_digit[1:].tolist(),
                "nodes": self.nodes, "forward_batches": self.forward_batches, "forward_rows": self.forward_rows,
                "forward_tokens": self.forward_tokens, "seconds": self.seconds, "cache": self.cache}


def _target_first_digit(law: TokenLaw) -> np.ndarray:
    """The target's first-digit law (index = digit), from the law's counts."""
    out = np.zeros(10)
    scale = 10 ** (law.digits - 1)
    table = getattr(law, "table", None)
    if table is not None:
        ids, counts = law.next_token_counts(list(law.lead))
        ln = law.lengths[0]
        for t, c in zip(ids.tolist(), counts.tolist()):
            out[table.value_of[ln][t] // 10 ** (ln - 1)] += float(c)
    else:
        w = np.diff(np.asarray(law.cum, dtype=object)) if law.cum.dtype == object else np.diff(law.cum)
        for s, c in zip(law.strings, w.tolist()):
            out[int(s) // scale] += float(c)
    tot = out.sum()
    return out / tot if tot else out


def _results(walk: _Walk, law: TokenLaw, regimes, prompt_ids, labels=None) -> list:
    res = []
    first = _target_first_digit(law)
    sc = walk.scorer
    if walk.total is not None:
        u_all = walk.counts.astype(np.float64) / walk.total if walk.counts.dtype != object else \
            np.array([int(c) / walk.total for c in walk.counts])
    else:
        u_all = np.exp(walk.target_logp)
    order = np.argsort(walk.values, kind="stable") if walk.values.dtype != object else \
        np.array(sorted(range(len(walk.values)), key=lambda i: int(walk.values[i])), dtype=np.int64)
    for r, reg in enumerate(regimes):
        lp = walk.logp[r]
        pos = order[np.isfinite(lp[order])]
        p = np.exp(lp[pos])
        u = u_all[pos]
        if walk.total is not None:
            reached = sum(int(c) for c in walk.counts[pos]) if walk.counts.dtype == object else int(walk.counts[pos].sum())
            missing = float(Fraction(walk.total - reached, walk.total))
            size = walk.total
        else:
            missing = max(0.0, 1.0 - math.fsum(u.tolist()))
            size = None
        res.append(AuditResult(law.task, law.digits, repr(law.tokenization), reg, tuple(prompt_ids), walk.values[pos], p,
                               u, walk.off[r], walk.detail[r], missing, size, first, walk.nodes, sc.batches, sc.rows,
                               sc.tokens, walk.seconds, sc.strategy, walk.levels,
                               label=(labels[r] if labels else "")))
    return res


# ---------------------------------------------------------------------------------------------
# Entry points
# ---------------------------------------------------------------------------------------------
def _resolve(model, task, prompt, digits, tokenizer, lead, stop, eos, threads):
    if isinstance(task, TokenLaw):
        law = task
        if digits is not None and as_int(digits, "digits") != law.digits:
            raise ValueError(f"digits={digits} differs from the law's {law.digits}")
    else:
        if tokenizer is None:
            raise TypeError("a task given by name needs tokenizer= (or pass a TokenLaw from token_law)")
        law = token_law(task, digits, tokenizer, lead=lead, stop=stop, eos=eos, threads=threads)
    if prompt is None:
        bos = getattr(getattr(model, "config", None), "bos_token_id", None)
        ids = [int(bos)] if isinstance(bos, int) and _is_torch_module(model) else []
    elif isinstance(prompt, str):
        src = law.codec.source
        if src is not None and hasattr(src, "__call__") and hasattr(src, "convert_ids_to_tokens"):
            ids = list(src(prompt)["input_ids"])
        else:
            ids = law.codec.encode(prompt)
    else:
        ids = list(_as_prefix(prompt, "prompt"))
    width = _model_width(model) if _is_torch_module(model) else None
    if width is not None:
        _check_width(law, width)
        ctx = None
        for key in ("n_positions", "max_position_embeddings", "n_ctx"):
            v = getattr(model.config, key, None)
            if isinstance(v, int) and v > 0:
                ctx = v
                break
        if ctx is not None and len(ids) + law.max_length > ctx:
            raise ValueError(f"the prompt has {len(ids)} tokens and the answer needs up to {law.max_length} more, beyond "
                             f"the model's context of {ctx} tokens: shorten the prompt")
    return law, ids, width


def _check_common(max_nodes, batch_size, max_cache_bytes):
    max_nodes = as_int_in(max_nodes, "max_nodes", 1)
    batch_size = as_int_in(batch_size, "batch_size", 1)
    max_cache_bytes = as_int_in(max_cache_bytes, "max_cache_bytes", 0)
    return max_nodes, batch_size, max_cache_bytes


def _run(model, law, ids, width, regimes, *, max_nodes, batch_size, cache, max_cache_bytes, progress, labels=None):
    scorer = _scorer(model, ids, cache, max_cache_bytes) if any(r.mode != "teacher" for r in regimes) else \
        _CallableScorer(lambda x: None, ids)
    try:
        walk = _walk(scorer, law, regimes, max_nodes=max_nodes, batch_size=batch_size, width=width, progress=progress)
    finally:
        scorer.close()
    return _results(walk, law, regimes, ids, labels)


def audit(model, task, prompt=None, *, digits=None, tokenizer=None, mode: str = "plain", temperature: float = 1.0,
          top_k=None, top_p=None, decoding: Decoding | None = None, lead: str = "", stop: str = "", eos=True,
          max_nodes: int = MAX_NODES, batch_size: int = 1024, cache: str = "tree",
          max_cache_bytes: int = MAX_CACHE_BYTES, threads=None, progress: bool = False) -> AuditResult:
    """The exact law that ``model`` induces on ``task``'s answers after ``prompt`` under a
    decoding regime (see the module docstring).

    Parameters
    ----------
    model : a ``transformers`` causal LM, or a callable ``input_ids (b, L) int64 -> scores (b, V)``.
    task : a ``TokenLaw`` (from ``token_law``), or ``"prime"`` / ``"number"`` / a character-level
        model with ``digits`` and ``tokenizer`` (and ``lead``, ``stop``, ``eos``: the answer format).
    prompt : str, token ids, or None
        text (encoded by the law's tokenizer as a ``transformers`` tokenizer call would) or token
        ids; None: the model's BOS token (a callable gets an empty prompt).
    mode, temperature, top_k, top_p : the regime (``Decoding``), or ``decoding=Decoding(...)``.
    max_nodes : refuse (``ValueError``, before the work) a tree with more nodes.
    batch_size : rows of one forward pass (siblings kept together).
    cache : ``"tree"`` (default), ``"prompt"`` or ``"none"`` (transformers models).
    max_cache_bytes : KV caches kept for one level; beyond, the next level recomputes its
        answer tokens on the prompt's cache.
    progress : a tqdm bar over the nodes.

    Returns an ``AuditResult``.  The model is put in eval mode for the walk (and back after).
    """
    reg = _decoding(decoding, mode, temperature, top_k, top_p)
    max_nodes, batch_size, max_cache_bytes = _check_common(max_nodes, batch_size, max_cache_bytes)
    law, ids, width = _resolve(model, task, prompt, digits, tokenizer, lead, stop, eos, threads)
    return _run(model, law, ids, width, [reg], max_nodes=max_nodes, batch_size=batch_size, cache=cache,
                max_cache_bytes=max_cache_bytes, progress=progress)[0]


@dataclass
class DistortionResult:
    """The distortion of constrained decoding for one model and task (``distortion``):
    ``plain`` (the model's law, off-support included), ``rejection`` ((a): ``plain`` given a
    valid answer), ``mask`` ((b)), ``teacher`` ((c)), and the gap between (a) and (b):
    ``gap_tvd`` = TVD(a, b), ``gap_kl`` = KL(b || a), ``gap_kl_reverse`` = KL(a || b)."""

    plain: AuditResult
    rejection: AuditResult
    mask: AuditResult
    teacher: AuditResult
    gap_tvd: float
    gap_kl: float
    gap_kl_reverse: float
    teacher_bound: float

    @property
    def rows(self) -> list:
        out = []
        for name, r in (("plain sampling (unconstrained)", self.plain),
                        ("(a) plain given a valid answer = rejection sampling", self.rejection),
                        ("(b) mask-constrained decoding", self.mask),
                        ("(c) teacher mode", self.teacher)):
            out.append({"law": name, "tvd": r.tvd, "kl": r.kl, "kl_reverse": r.kl_reverse, "entropy": r.entropy,
                        "off_support": r.off_support, "p_first_digit_1": float(r.first_digit[1])})
        return out

    def as_dict(self) -> dict:
        return {"rows": self.rows, "gap_tvd": self.gap_tvd, "gap_kl": self.gap_kl, "gap_kl_reverse": self.gap_kl_reverse,
                "acceptance_rate": self.plain.valid_mass, "teacher_bound": self.teacher_bound,
                "nodes": self.plain.nodes, "forward_batches": self.plain.forward_batches, "seconds": self.plain.seconds}


def _merge(a: AuditResult, b: AuditResult):
    va, vb = a.answers.astype(object) if a.answers.dtype == object else a.answers, b.answers
    allv = np.union1d(va, vb)
    pa = np.zeros(len(allv))
    pb = np.zeros(len(allv))
    pa[np.searchsorted(allv, va)] = a.probs
    pb[np.searchsorted(allv, vb)] = b.probs
    return pa, pb


def distortion(model, task, prompt=None, *, digits=None, tokenizer=None, temperature: float = 1.0, top_k=None,
               top_p=None, lead: str = "", stop: str = "", eos=True, max_nodes: int = MAX_NODES,
               batch_size: int = 1024, cache: str = "tree", max_cache_bytes: int = MAX_CACHE_BYTES, threads=None,
               progress: bool = False) -> DistortionResult:
    """The distortion of constrained decoding, exactly, in one walk of the tree: TVD to the
    target of (a) the plain model conditioned on a valid answer (rejection sampling's law),
    (b) mask-constrained decoding and (c) teacher mode, and the gap between (a) and (b) -- what
    grammar-aligned decoding (Park et al., NeurIPS 2024) estimates from samples.  The same
    temperature / top-k / top-p apply to every mode.  Arguments as for ``audit``."""
    from .processors import teacher_tvd_bound

    regs = [Decoding(m, temperature, top_k, top_p) for m in DECODING_MODES]
    max_nodes, batch_size, max_cache_bytes = _check_common(max_nodes, batch_size, max_cache_bytes)
    law, ids, width = _resolve(model, task, prompt, digits, tokenizer, lead, stop, eos, threads)
    plain, mask, teacher = _run(model, law, ids, width, regs, max_nodes=max_nodes, batch_size=batch_size, cache=cache,
                                max_cache_bytes=max_cache_bytes, progress=progress)
    rej = plain.conditional()
    pa, pb = _merge(rej, mask)
    gap = 0.5 * math.fsum(np.abs(pa - pb).tolist())
    kl_ba = _xlogy(pb, pa)
    kl_ab = _xlogy(pa, pb)
    total = plain.support_size if isinstance(plain.support_size, int) else 2
    bound = teacher_tvd_bound(steps=law.max_length, log_ratio=math.log(max(2, total)), children=int(law.max_children))
    return DistortionResult(plain, rej, mask, teacher, gap, kl_ba, kl_ab, bound)


# ---------------------------------------------------------------------------------------------
# Monte Carlo (trees beyond the node budget)
# ---------------------------------------------------------------------------------------------
@dataclass
class MonteCarloResult:
    """A sampled audit (``monte_carlo``): ``tvd`` with its interval ``tvd_interval`` (normal, at
    ``z``), ``off_support`` with a Wilson interval, the valid answers drawn (``texts``), their
    first-digit frequencies, and ``uniformity`` (``nextdigit.analysis.uniformity_test`` on the
    valid answers; None when the target is not uniform or fewer than 2 are valid)."""

    task: str
    digits: int
    decoding: Decoding
    samples: int
    tvd: float
    tvd_interval: tuple
    off_support: float
    off_support_interval: tuple
    texts: list
    first_digit: np.ndarray
    uniformity: object
    z: float
    seconds: float

    def as_dict(self) -> dict:
        return {"task": self.task, "digits": self.digits, "decoding": self.decoding.label, "samples": self.samples,
                "tvd": self.tvd, "tvd_interval": list(self.tvd_interval), "off_support": self.off_support,
                "off_support_interval": list(self.off_support_interval), "valid": len(self.texts),
                "first_digit": self.first_digit[1:].tolist(),
                "uniformity": None if self.uniformity is None else self.uniformity.as_dict(), "z": self.z,
                "seconds": self.seconds}


def _wilson(k: int, n: int, z: float) -> tuple:
    if n == 0:
        return (0.0, 1.0)
    ph = k / n
    den = 1 + z * z / n
    mid = (ph + z * z / (2 * n)) / den
    half = z * math.sqrt(ph * (1 - ph) / n + z * z / (4 * n * n)) / den
    return (max(0.0, mid - half), min(1.0, mid + half))


def _sample_rows(probs: np.ndarray, gen) -> np.ndarray:
    """One index per row of a (b, V) float64 probability matrix (inverse CDF)."""
    cum = np.cumsum(probs, axis=1)
    u = gen.random(len(probs)) * cum[:, -1]
    return np.minimum((cum < u[:, None]).sum(axis=1), probs.shape[1] - 1)


def monte_carlo(model, task, prompt=None, *, samples: int = 1000, rng=None, digits=None, tokenizer=None,
                mode: str = "plain", temperature: float = 1.0, top_k=None, top_p=None,
                decoding: Decoding | None = None, lead: str = "", stop: str = "", eos=True, z: float = 2.576,
                batch_size: int = 256, alpha: float = 1e-6, threads=None) -> MonteCarloResult:
    """A sampled audit for trees too large to walk: ``samples`` answers drawn under the regime
    (``batch_size`` at a time, the prompt's KV cache reused), each with its exact path
    probability p(x) (float64, from the same scores it was drawn from) and target probability
    u(x); the TVD estimate ``mean((1 - u/p)_+)`` (1 for an off-support sample) with a normal
    interval at ``z`` (99% by default), as ``nextdigit.analysis.monte_carlo_tvd``.  Arguments as
    for ``audit``; ``rng`` seeds the sampler (SPEC 7: same seed, same samples)."""
    from ..analysis.distance import mc_tvd_interval
    from ..analysis.uniformity import uniformity_test

    t0 = time.perf_counter()
    reg = _decoding(decoding, mode, temperature, top_k, top_p)
    samples = as_int_in(samples, "samples", 2)
    batch_size = as_int_in(batch_size, "batch_size", 1)
    if isinstance(z, bool) or not isinstance(z, (int, float)) or not z > 0:
        raise ValueError(f"z must be a positive number, got {z!r}")
    gen = as_generator(rng)
    law, ids, width = _resolve(model, task, prompt, digits, tokenizer, lead, stop, eos, threads)
    total = law.count(()) if law.exact_counts else None
    if total == 0:
        raise ValueError(f"{law!r} has no answers: the target law's support is empty")
    scorer = _scorer(model, ids, "prompt", 0) if reg.mode != "teacher" else None
    terms, texts, offs = [], [], 0
    root_logits = None
    try:
        done = 0
        while done < samples:
            b = min(batch_size, samples - done)
            tokens = np.zeros((b, 0), dtype=np.int64)
            live = np.arange(b)
            logp = np.zeros(b)
            tlog = np.zeros(b)
            answers = [None] * b                          # None: off-support
            while len(live):
                batch = law.next_token_counts_batch([tuple(r) for r in tokens.tolist()])
                fin = np.asarray(batch.complete, dtype=bool)
                for j in np.flatnonzero(fin):
                    answers[int(live[j])] = tokens[j].tolist()
                go = np.flatnonzero(~fin)
                if not len(go):
                    break
                sub = _BatchView(batch, go)
                L = None
                if scorer is not None:
                    if tokens.shape[1] == 0:
                        if root_logits is None:
                            root_logits = scorer.root(False)
                        L = np.repeat(root_logits, len(go), axis=0)
                    else:
                        L = scorer.forward(tokens[go], None, np.zeros(len(go), bool))
                    if width is None:
                        width = L.shape[1]
                    _check_width(law, width)
                cp, ct, cc, starts = sub.cp, sub.ids, sub.counts, sub.starts
                if reg.mode == "plain":
                    probs = _dense_probs(reg, L)
                    t = _sample_rows(probs, gen)
                    key = cp * (width + 1) + ct
                    pos = np.searchsorted(key, np.arange(len(go)) * (width + 1) + t)
                    pos = np.minimum(pos, len(key) - 1)
                    hit = key[pos] == np.arange(len(go)) * (width + 1) + t
                    lq_t = np.log(probs[np.arange(len(go)), t])
                else:
                    sc = L[cp, ct] if reg.mode == "mask" else _teacher_scores(cc, cp, starts)
                    q = np.exp(_compact(reg, sc, cp, ct, starts, len(go)))
                    cum = np.cumsum(q)
                    seg_end = np.append(starts[1:], len(q))
                    base = np.where(starts > 0, cum[starts - 1], 0.0)
                    u = base + gen.random(len(go)) * (cum[seg_end - 1] - base)
                    pos = np.minimum(np.searchsorted(cum, u, side="right"), seg_end - 1)
                    while np.any(q[pos] == 0):            # never land on a zero-probability child
                        z0 = q[pos] == 0
                        pos[z0] -= 1
                    hit = np.ones(len(go), dtype=bool)
                    t = ct[pos]
                    lq_t = np.log(q[pos])
                rows = live[go]
                for j in np.flatnonzero(~hit):
                    offs += 1
                    answers[int(rows[j])] = "off"
                h = np.flatnonzero(hit)
                logp[rows[h]] += lq_t[h]
                lc = _log_counts(cc[pos[h]] if cc.dtype != object else np.array(cc[pos[h]], dtype=object))
                seg_tot = np.add.reduceat(cc.astype(np.float64), starts) if cc.dtype != object else \
                    np.array([float(sum(int(x) for x in cc[starts[i]:(starts[i + 1] if i + 1 < len(starts) else len(cc))]))
                              for i in range(len(starts))])
                tlog[rows[h]] += lc - np.log(seg_tot[h])
                tokens = np.concatenate([tokens[go][h], t[h, None].astype(np.int64)], axis=1)
                live = rows[h]
            for i in range(b):
                if answers[i] == "off" or answers[i] is None:
                    if answers[i] is None:
                        offs += 1
                    terms.append(1.0)
                else:
                    u = 1.0 / total if total is not None else math.exp(tlog[i])
                    terms.append(max(0.0, 1.0 - u / math.exp(logp[i])))
                    texts.append(law.answer_text(answers[i]))
            done += b
    finally:
        if scorer is not None:
            scorer.close()
    est, interval = mc_tvd_interval(terms, z)
    fd = np.bincount([int(t[0]) for t in texts], minlength=10)[:10].astype(np.float64)
    uni = None
    if total is not None and len(texts) >= 2 and total >= 2:
        uni = uniformity_test(texts, support_size=total, alpha=alpha, rng=gen)
    return MonteCarloResult(law.task, law.digits, reg, samples, est, interval,
                            offs / samples, _wilson(offs, samples, z), texts, fd / max(1, len(texts)), uni, z,
                            time.perf_counter() - t0)


class _BatchView:
    """Rows ``rows`` of a ``SparseBatch`` as flat children arrays (``cp`` local row, ``ids``,
    ``counts``, segment ``starts``)."""

    def __init__(self, batch, rows):
        a = batch.indptr[rows]
        b = batch.indptr[rows + 1]
        lens = b - a
        self.starts = np.concatenate([[0], np.cumsum(lens)[:-1]]).astype(np.int64)
        self.cp = np.repeat(np.arange(len(rows)), lens)
        pos = np.arange(int(lens.sum())) - np.repeat(self.starts, lens) + np.repeat(a, lens)
        self.ids = batch.ids[pos]
        self.counts = batch.counts[pos]


def _dense_probs(reg: Decoding, s: np.ndarray) -> np.ndarray:
    """The regime's full next-token law of one row of plain scores (for sampling)."""
    V = s.shape[1]
    if reg.temperature == 0:
        out = np.zeros_like(s)
        out[np.arange(len(s)), np.argmax(s, axis=1)] = 1.0
        return out
    x = s / reg.temperature
    if reg.top_k is not None and reg.top_k < V:
        kth = np.partition(x, V - reg.top_k, axis=1)[:, V - reg.top_k]
        x = np.where(x >= kth[:, None], x, -np.inf)
    if reg.top_p is not None:
        order = np.argsort(-x, axis=1, kind="stable")
        srt = np.take_along_axis(x, order, axis=1)
        p = np.exp(srt - srt[:, :1])
        p /= p.sum(axis=1, keepdims=True)
        before = np.cumsum(p, axis=1) - p
        drop = before >= reg.top_p
        drop[:, 0] = False
        r = np.nonzero(drop)
        x[r[0], order[r]] = -np.inf
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


# ---------------------------------------------------------------------------------------------
# Plot
# ---------------------------------------------------------------------------------------------
def plot_audit(result: AuditResult, path: str, top: int = 15) -> None:
    """Save a PNG: the model's first-digit law and its ``top`` most likely answers against the
    target (needs matplotlib: ``pip install "nextdigit[plot]"``)."""
    if not isinstance(result, AuditResult):
        raise TypeError(f"result must be an AuditResult, not {type(result).__name__}")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise RuntimeError("plotting needs matplotlib: pip install 'nextdigit[plot]'") from None
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    d = np.arange(1, 10)
    ax1.bar(d - 0.2, result.first_digit[1:], width=0.4, label="model")
    ax1.bar(d + 0.2, result.target_first_digit[1:], width=0.4, label="target")
    ax1.set_xticks(d)
    ax1.set_xlabel("first digit")
    ax1.set_ylabel("probability")
    ax1.set_title(f"first digit (off-support mass {result.off_support:.3g})")
    ax1.legend()
    rows = result.top(top, None)
    ax2.barh(range(len(rows)), [p for _, p, _ in rows], label="model")
    ax2.scatter([u for _, _, u in rows], range(len(rows)), color="k", marker="|", s=200, label="target", zorder=3)
    ax2.set_yticks(range(len(rows)), [t for t, _, _ in rows], fontsize=7)
    ax2.invert_yaxis()
    ax2.set_xlabel("probability")
    ax2.set_title(f"top {len(rows)} answers")
    ax2.legend(loc="lower right")
    fig.suptitle(f"{result.task}, {result.digits} digits, {result.tokenization}, {result.label}: "
                 f"TVD {result.tvd:.4g}, KL(target||model) {result.kl_reverse:.4g}", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


# ---------------------------------------------------------------------------------------------
# The command line (``nextdigit audit``)
# ---------------------------------------------------------------------------------------------
def load_local_model(model_dir: str):
    """``(model, tokenizer)`` from a local ``save_pretrained`` directory, offline
    (``local_files_only=True``, ``HF_HUB_OFFLINE=1``): nothing is downloaded."""
    import os
    from pathlib import Path

    if not isinstance(model_dir, (str, os.PathLike)):
        raise TypeError(f"model_dir must be a path, not {type(model_dir).__name__}")
    path = Path(model_dir)
    if not path.is_dir():
        raise ValueError(f"--model {model_dir}: no such directory (a local save_pretrained directory is needed)")
    if not (path / "config.json").is_file():
        raise ValueError(f"--model {model_dir}: no config.json there (not a save_pretrained directory)")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        import torch  # noqa: F401
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError as exc:
        raise RuntimeError(f"the audit needs the lm extra ({exc.name or 'torch/transformers'} is missing): "
                           "pip install torch==2.13.0 && pip install 'nextdigit[lm]'") from None
    try:
        tok = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        model = AutoModelForCausalLM.from_pretrained(str(path), local_files_only=True)
    except (OSError, ValueError, KeyError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(f"--model {model_dir}: cannot load a causal LM and its tokenizer offline: {first}") from None
    model.eval()
    return model, tok


def _fmt(x) -> str:
    if isinstance(x, float):
        if math.isinf(x) or math.isnan(x):
            return str(x)
        return f"{x:.6g}" if x == 0 or 1e-4 <= abs(x) < 1e6 else f"{x:.3e}"
    return str(x)


def cli_audit(model_dir, *, task: str, digits: int, prompt=None, mode: str = "plain", temperature: float = 1.0,
              top_k=None, top_p=None, lead: str = "", max_nodes: int = MAX_NODES, samples=None, seed=0,
              show_distortion: bool = False, plot=None, top: int = 10):
    """The body of ``nextdigit audit``: ``(payload, lines)`` -- a JSON-ready dict and the text
    report -- for a local model directory (see ``load_local_model``)."""
    if task not in ("prime", "number"):
        raise ValueError(f"--task must be 'prime' or 'number', got {task!r}")
    model, tok = load_local_model(model_dir)
    law = token_law(task, digits, tok, lead=lead)
    head = f"{model_dir}: {task}, {law.digits} digits, {law.tokenization!r}, prompt {prompt!r}"
    if samples is not None:
        res = monte_carlo(model, law, prompt, samples=samples, rng=seed, mode=mode, temperature=temperature,
                          top_k=top_k, top_p=top_p)
        lo, hi = res.tvd_interval
        olo, ohi = res.off_support_interval
        lines = [head, f"decoding {res.decoding.label}: Monte Carlo, {res.samples} samples (seed {seed})",
                 f"TVD to the target   {_fmt(res.tvd)}  ({res.z:g}-sigma interval [{_fmt(lo)}, {_fmt(hi)}])",
                 f"off-support rate    {_fmt(res.off_support)}  (Wilson interval [{_fmt(olo)}, {_fmt(ohi)}])",
                 f"valid answers       {len(res.texts)}"]
        if res.uniformity is not None:
            lines.append(f"uniformity test     {res.uniformity.test}: p = {res.uniformity.p_value:.3g} "
                         f"({res.uniformity.verdict})")
        lines.append(f"seconds             {res.seconds:.3g}")
        payload = {"model": str(model_dir), "method": "monte_carlo", **res.as_dict()}
        if plot:
            raise ValueError("--plot needs the exact audit (drop --samples)")
        return payload, lines
    if show_distortion:
        d = distortion(model, law, prompt, temperature=temperature, top_k=top_k, top_p=top_p, max_nodes=max_nodes)
        lines = [head, f"distortion of constrained decoding (exact; T={temperature:g}"
                 + (f", top-k={top_k}" if top_k else "") + (f", top-p={top_p:g}" if top_p else "") + ")",
                 f"{'law':<52} {'TVD':>12} {'KL(m||t)':>12} {'KL(t||m)':>12} {'off-support':>12}"]
        for row in d.rows:
            lines.append(f"{row['law']:<52} {_fmt(row['tvd']):>12} {_fmt(row['kl']):>12} {_fmt(row['kl_reverse']):>12} "
                         f"{_fmt(row['off_support']):>12}")
        lines += [f"gap (a) vs (b): TVD {_fmt(d.gap_tvd)}, KL(b||a) {_fmt(d.gap_kl)}, KL(a||b) {_fmt(d.gap_kl_reverse)}",
                  f"rejection sampling accepts {_fmt(d.plain.valid_mass)} of the samples; teacher float32 bound "
                  f"{_fmt(d.teacher_bound)}",
                  f"work: {d.plain.nodes} nodes, {d.plain.forward_batches} forward batches, {d.plain.seconds:.3g} s"]
        payload = {"model": str(model_dir), "method": "distortion", **d.as_dict(),
                   "plain": d.plain.as_dict(top), "mask": d.mask.as_dict(top), "rejection": d.rejection.as_dict(top),
                   "teacher": d.teacher.as_dict(top)}
        if plot:
            plot_audit(d.mask, plot)
        return payload, lines
    r = audit(model, law, prompt, mode=mode, temperature=temperature, top_k=top_k, top_p=top_p, max_nodes=max_nodes)
    det = r.off_support_detail
    lines = [head, f"decoding {r.label}: exact law over {len(r)} of {r.support_size} answers",
             f"TVD to the target   {_fmt(r.tvd)}",
             f"KL(model||target)   {_fmt(r.kl)}     KL(target||model) {_fmt(r.kl_reverse)}",
             f"entropy             {_fmt(r.entropy)} nats (target {_fmt(r.target_entropy)})",
             f"off-support mass    {_fmt(r.off_support)}  (end token {_fmt(det['end'])}, digit tokens "
             f"{_fmt(det['digits'])}, other {_fmt(det['other'])})",
             f"float error         {_fmt(r.float_error)}"]
    if r.mode is not None:
        i = int(np.argmax(r.probs))
        lines.append(f"mode                {r.mode[0]}  p = {_fmt(r.mode[1])} (target {_fmt(float(r.target_probs[i]))})")
    lines.append("top answers         " + ", ".join(f"{t} {_fmt(p)}" for t, p, _ in r.top(top, None)))
    lines.append("first digit         " + "  ".join(f"{d}: {r.first_digit[d]:.4f} ({r.target_first_digit[d]:.4f})"
                                                    for d in range(1, 10)) + "   (model (target))")
    lines.append(f"work                {r.nodes} nodes, {r.forward_batches} forward batches, {r.forward_rows} rows, "
                 f"{r.seconds:.3g} s")
    if plot:
        plot_audit(r, plot)
    return {"model": str(model_dir), "method": "exact", **r.as_dict(top)}, lines
