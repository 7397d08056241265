"""Logits processors that put an exact token law into a real model's decoding loop.

Two modes, one law (``nextdigit.lm.laws.TokenLaw``):

``teacher``
    The model's scores are replaced by the log of the exact next-token law: ``log(c_t / c_max)``
    on the tokens t with count ``c_t > 0``, ``-inf`` on every other token (off the support, or a
    non-canonical split).  Sampling then draws uniform answers exactly, up to the float32
    rounding of the scores (the bound below).  With ``draw=True`` the processor instead draws
    the token itself from the integer counts (an exactly uniform integer below their sum, no
    float at all) and returns a point mass (0 on the drawn token, ``-inf`` elsewhere): every
    warper a sampler may apply afterwards (temperature, top-k, top-p, min-p, penalties, greedy
    decoding) keeps a point mass where it is, so that path is exact whatever the generation
    settings.

``mask``
    The model's own scores plus ``log 1[the token keeps the answer completable]``: what
    grammar / regex-constrained decoders do (outlines, xgrammar, llguidance, llama.cpp
    grammars).  Every output is a valid answer, but the law is the model's, renormalised at
    every step -- not the target (``nextdigit`` issue 16 measures how far).

Once an answer is complete, a row's scores force the end token (or ``pad_token_id``) so a batch
can run on while other rows finish.  A row whose tokens leave the canonical answers (possible
only when the caller forced them) raises ``ValueError`` naming the row.

Entry points
------------
* ``TeacherLogitsProcessor(law)`` / ``MaskLogitsProcessor(law)``: ``transformers``
  ``LogitsProcessor`` s, ``processor(input_ids, scores) -> scores`` on torch tensors of shape
  (batch, sequence) and (batch, vocab).  The answer starts after ``prompt_length`` tokens (by
  default: the input length at the first call, i.e. the prompt; left-padded batches share it);
  ``answer_prefix`` says that the prompt already ends with the answer's first tokens.
  ``transformers`` applies top-k = 50 (and any temperature / top-p / min-p the generation
  config sets) *after* the logits processors when ``do_sample=True``: use
  ``nextdigit.lm.generate_exact``, which neutralises them, or check a configuration with
  ``nextdigit.lm.check_generation_config``.
* ``NumpyLogitsProcessor(law, mode)``: ``(input_ids, scores) -> scores`` on NumPy arrays, the
  signature of ``llama-cpp-python``'s ``logits_processor`` (1-D ids of the whole context and
  1-D float32 scores; 2-D batches work too).  llama.cpp's own samplers run after it (top_k=40,
  top_p=0.95, min_p=0.05, temperature 0.8 by default): pass ``LLAMA_CPP_EXACT`` (or use
  ``draw=True``).
* ``VLLMLogitsProcessor(law, mode)``: a per-request callable ``(output_token_ids, logits)`` or
  ``(prompt_token_ids, output_token_ids, logits) -> logits`` on a 1-D torch tensor -- what vLLM's
  per-request logits processors take (``SamplingParams(logits_processors=[...])`` in the V0
  engine; in V1 return it from ``AdapterLogitsProcessor.new_req_logits_processor``).  vLLM is not
  imported or needed; the callable is tested on torch tensors here.

Processed scores of a whole batch of token-tree nodes (an audit's breadth-first walk) come from
``processor.process(answers, scores)`` with the answers' token lists directly.

The float32 bound (teacher mode, ``draw=False``)
------------------------------------------------
At a node with children counts c_1..c_k the processor writes ``s_i = fl32(log(c_i / c_max))``
(computed in float64, then rounded once), so ``abs(s_i - log(c_i / c_max)) <= u * lambda`` with
``u = 2**-24`` and ``lambda = log(c_max / c_min)``.  The softmax of s is then within a factor
``exp(+-2 u lambda)`` of the exact law at every child, a total variation of at most
``(exp(2 u lambda) - 1) / 2``.  The sampler evaluates that softmax in float32 too: one exp
(<= 1 ulp), a sum of k terms and a division give a relative error of at most ``(k + 2) u`` per
child, ``(k + 2) u / 2`` in total variation.  A node with one child is exact (``exp(0) = 1``,
``1/1 = 1``).  Along an answer the per-step errors add up (a coupling argument), so::

    TVD(induced law over answers, target) <= sum over depths t of max over nodes at depth t of
        [ (exp(2 u lambda_node) - 1) / 2 + (k_node + 2) u / 2 ]   (nodes with k_node >= 2)

``teacher_tvd_bound(law)`` evaluates it by walking the law's tree (small supports), and
``teacher_tvd_bound(law, steps=T, log_ratio=lam, children=k)`` gives the closed form for T
steps.  For 3- and 4-digit primes it is below 3e-5 for every tokenizer kind tested, and the
measured TVD of the float32 tree walk is far below that (``tests/test_lm.py``).

Example (NumPy, no torch needed)
--------------------------------
>>> import numpy as np
>>> from nextdigit.lm import token_law
>>> law = token_law("prime", 2, (lambda s: [ord(c) for c in s], None), eos=36)
>>> proc = NumpyLogitsProcessor(law, "teacher", prompt_length=0)
>>> scores = proc(np.array([], dtype=np.intc), np.zeros(128, dtype=np.single))
>>> np.flatnonzero(np.isfinite(scores)).tolist()     # the first digits of 2-digit primes
[49, 50, 51, 52, 53, 54, 55, 56, 57]
>>> p = np.exp(scores - scores.max()); round(float(p[49] / p.sum()), 6)   # 4 of 21 start with 1
0.190476
"""
from __future__ import annotations

import math

import numpy as np

from .._util.rng import as_generator, uniform_below
from .._util.validate import as_int
from .laws import TokenLaw, _as_prefix

__all__ = ["TeacherLogitsProcessor", "MaskLogitsProcessor", "NumpyLogitsProcessor", "VLLMLogitsProcessor",
           "teacher_tvd_bound", "FLOAT32_U", "MODES"]

FLOAT32_U = 2.0**-24          # unit roundoff of float32
MODES = ("teacher", "mask")


def _check_law(law) -> TokenLaw:
    if not isinstance(law, TokenLaw):
        raise TypeError(f"law must be a nextdigit.lm TokenLaw (from token_law), not {type(law).__name__}")
    return law


def _check_mode(mode) -> str:
    if mode not in MODES:
        raise ValueError(f"mode must be 'teacher' or 'mask', got {mode!r}")
    return mode


class _Core:
    """What every entry point shares: answers in, processed NumPy scores out."""

    def __init__(self, law, mode, *, prompt_length=None, answer_prefix=(), draw=False, rng=None, pad_token_id=None):
        self.law = _check_law(law)
        self.mode = _check_mode(mode)
        if not isinstance(draw, bool):
            raise TypeError(f"draw must be a bool, not {type(draw).__name__}")
        if draw and mode != "teacher":
            raise ValueError("draw=True applies to mode='teacher' (mask mode samples from the model's own scores)")
        self.draw = draw
        self.gen = as_generator(rng) if draw else None
        self.prompt_length = None if prompt_length is None else as_int(prompt_length, "prompt_length")
        if self.prompt_length is not None and self.prompt_length < 0:
            raise ValueError(f"prompt_length must be >= 0, got {self.prompt_length}")
        self.answer_prefix = _as_prefix(answer_prefix, "answer_prefix")
        self._auto = self.prompt_length is None
        self._last_len = None
        self.pad_token_id = None if pad_token_id is None else as_int(pad_token_id, "pad_token_id")
        self.finish_token = law.eos_id if law.eos_id is not None else self.pad_token_id
        if self.answer_prefix:
            st = law.next_token_counts_batch([self.answer_prefix])
            if len(st[0][0]) == 0 and not st.complete[0]:
                raise ValueError(f"answer_prefix {list(self.answer_prefix)} is not the start of a canonical answer of {law!r}")

    # -- where the answer starts ---------------------------------------------------------------
    def answers_from_rows(self, rows: list[list[int]]) -> list[tuple]:
        length = len(rows[0]) if rows else 0
        if self._auto and (self._last_len is None or length <= self._last_len):
            # first call of a generation: everything so far is prompt (plus the given answer prefix)
            self.prompt_length = length - len(self.answer_prefix)
            if self.prompt_length < 0:
                raise ValueError(f"the input has {length} tokens, fewer than answer_prefix ({len(self.answer_prefix)})")
        self._last_len = length
        start = self.prompt_length
        if length < start:
            raise ValueError(f"input has {length} tokens, fewer than prompt_length={start}")
        out = []
        for r in rows:
            a = tuple(r[start:])
            if self.answer_prefix and a[: len(self.answer_prefix)] != self.answer_prefix[: len(a)]:
                raise ValueError(f"the answer tokens {list(a)} do not start with answer_prefix {list(self.answer_prefix)}")
            out.append(a)
        return out

    # -- the processed scores ------------------------------------------------------------------
    def process(self, answers, scores: np.ndarray) -> np.ndarray:
        """Processed float32 scores (batch, vocab) for the answer token tuples ``answers`` and the
        model's ``scores`` (a NumPy array of the same batch size)."""
        scores = np.asarray(scores)
        if scores.ndim != 2 or scores.shape[0] != len(answers):
            raise ValueError(f"scores must have shape (batch={len(answers)}, vocab), got {scores.shape}")
        width = scores.shape[1]
        answers = [tuple(a) for a in answers]
        uniq = list(dict.fromkeys(answers))
        batch = self.law.next_token_counts_batch(uniq)
        out = np.full(scores.shape, -np.inf, dtype=np.float32)
        if self.mode == "mask":
            keep = np.zeros(scores.shape, dtype=bool)
        rows_of: dict[tuple, list[int]] = {}
        for r, a in enumerate(answers):
            rows_of.setdefault(a, []).append(r)
        for a, (ids, counts), done in zip(uniq, batch, batch.complete):
            rows = rows_of[a]
            if len(ids) and int(ids[-1]) >= width:
                raise ValueError(f"the law uses token id {int(ids[-1])} but the scores have only {width} columns: the "
                                 "model's vocabulary does not match the tokenizer")
            if done or not len(ids):
                if not done:
                    raise ValueError(f"row {rows[0]}: the answer tokens {list(a)} are not a prefix of any canonical "
                                     f"answer of {self.law!r}")
                if self.finish_token is None:
                    out[rows] = scores[rows]      # nothing to force; the caller's stopping criterion ends the row
                else:
                    out[rows, self.finish_token] = 0.0
                continue
            if self.mode == "mask":
                keep[np.ix_(rows, ids)] = True
            elif self.draw:                     # one exact draw per row
                for r in rows:
                    out[r, ids[_draw(counts, self.gen)]] = 0.0
            else:
                out[np.ix_(rows, ids)] = _log_ratios(counts)[None, :]
        if self.mode == "mask":
            np.copyto(out, scores, where=keep)
        return out


def _log_ratios(counts) -> np.ndarray:
    """float32 log(c / c_max), computed in float64 (or exactly from Python ints) and rounded once."""
    if counts.dtype == object:
        cmax = max(int(c) for c in counts)
        return np.array([math.log(int(c)) - math.log(cmax) if int(c) != cmax else 0.0 for c in counts], dtype=np.float32)
    c = counts.astype(np.float64)
    return (np.log(c) - np.log(c.max())).astype(np.float32)


def _draw(counts, gen) -> int:
    """Index i with probability counts[i] / sum (an exactly uniform integer below the sum)."""
    cum = np.cumsum(counts.astype(object) if counts.dtype != object else counts)
    u = uniform_below(gen, int(cum[-1]))
    lo, hi = 0, len(cum)
    while lo < hi:
        mid = (lo + hi) // 2
        if u < int(cum[mid]):
            hi = mid
        else:
            lo = mid + 1
    return lo


class _TorchProcessor:
    """Shared body of the transformers processors (torch imported at call time)."""

    supports_continuous_batching = False
    mode = "teacher"

    def __init__(self, law, *, prompt_length=None, answer_prefix=(), pad_token_id=None, draw=False, rng=None):
        self.core = _Core(law, self.mode, prompt_length=prompt_length, answer_prefix=answer_prefix, draw=draw, rng=rng,
                          pad_token_id=pad_token_id)
        self.law = law

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.law!r})"

    def __call__(self, input_ids, scores):
        import torch

        rows = input_ids.tolist()
        answers = self.core.answers_from_rows(rows)
        out = self.core.process(answers, scores.detach().to(torch.float32).cpu().numpy())
        return torch.from_numpy(out).to(device=scores.device, dtype=scores.dtype)

    def process(self, answers, scores):
        """Processed scores for a batch of answer token sequences (e.g. the nodes of one level of
        a token-tree walk) and the model's scores for them (torch tensor or NumPy array)."""
        answers = [_as_prefix(a, "answers[i]") for a in answers]
        if hasattr(scores, "detach"):
            import torch

            out = self.core.process(answers, scores.detach().to(torch.float32).cpu().numpy())
            return torch.from_numpy(out).to(device=scores.device, dtype=scores.dtype)
        return self.core.process(answers, np.asarray(scores, dtype=np.float32))


class TeacherLogitsProcessor(_TorchProcessor):
    r"""[`LogitsProcessor`] that replaces the model's scores by the log of an exact token law, so
    that sampling draws the task's answers from the target law (uniform n-digit primes, ...).

    Parameters
    ----------
    law : TokenLaw
        from ``nextdigit.lm.token_law`` (task, digits, tokenizer, answer format).
    prompt_length : int, optional
        tokens before the answer (default: the input length at the first call).
    answer_prefix : list of int, optional
        answer tokens already at the end of the prompt.
    pad_token_id : int, optional
        token forced on finished rows when the law has no end token.
    draw : bool, default False
        draw each token exactly from the integer counts and return a point mass (exact under
        any warper, no float rounding).
    rng
        seed or ``numpy.random.Generator`` for ``draw=True``.

    Sample with ``do_sample=True`` and the warpers off (``nextdigit.lm.generate_exact`` does
    this; ``transformers`` would otherwise apply top_k=50 after this processor).

    Examples
    --------
    These need the ``lm`` extra (``tests/test_lm.py`` runs them).

    >>> import nextdigit
    >>> from transformers import LogitsProcessorList                         # doctest: +SKIP
    >>> from nextdigit.lm import token_law, TeacherLogitsProcessor, EXACT_SAMPLING
    >>> from nextdigit.lm.toy import chunk_tokenizer, tiny_gpt2
    >>> tok = chunk_tokenizer(); model = tiny_gpt2(tok)                      # doctest: +SKIP
    >>> law = token_law("prime", 3, tok)                                     # doctest: +SKIP
    >>> inputs = tok(["A random 3-digit prime:"] * 4, return_tensors="pt")   # doctest: +SKIP
    >>> out = model.generate(**inputs, logits_processor=LogitsProcessorList([TeacherLogitsProcessor(law)]),
    ...                      max_new_tokens=law.max_length, **EXACT_SAMPLING)  # doctest: +SKIP
    >>> answers = tok.batch_decode(out[:, inputs["input_ids"].shape[1]:], skip_special_tokens=True)  # doctest: +SKIP
    >>> all(nextdigit.is_prime(int(a)) and len(a) == 3 for a in answers)     # doctest: +SKIP
    True
    """

    mode = "teacher"


class MaskLogitsProcessor(_TorchProcessor):
    r"""[`LogitsProcessor`] that keeps the model's scores on the tokens that leave the answer
    completable to a target string and sets every other token to ``-inf`` (constrained
    decoding: every output is valid; the law is the model's, renormalised at every step).

    Parameters
    ----------
    law : TokenLaw
        from ``nextdigit.lm.token_law``.
    prompt_length, answer_prefix, pad_token_id
        as for ``TeacherLogitsProcessor``.

    Examples
    --------
    These need the ``lm`` extra (``tests/test_lm.py`` runs them).

    >>> import nextdigit
    >>> from nextdigit.lm import token_law, MaskLogitsProcessor
    >>> from nextdigit.lm.toy import bpe_tokenizer, tiny_gpt2
    >>> tok = bpe_tokenizer(); model = tiny_gpt2(tok)                        # doctest: +SKIP
    >>> law = token_law("prime", 3, tok, lead=" ")                           # doctest: +SKIP
    >>> inputs = tok(["Prime:"] * 4, return_tensors="pt")                     # doctest: +SKIP
    >>> out = model.generate(**inputs, logits_processor=[MaskLogitsProcessor(law)], do_sample=True,
    ...                      max_new_tokens=law.max_length)                   # doctest: +SKIP
    >>> answers = tok.batch_decode(out[:, inputs["input_ids"].shape[1]:], skip_special_tokens=True)  # doctest: +SKIP
    >>> all(nextdigit.is_prime(int(a)) and len(a.strip()) == 3 for a in answers)  # doctest: +SKIP
    True
    """

    mode = "mask"

    def __init__(self, law, *, prompt_length=None, answer_prefix=(), pad_token_id=None):
        super().__init__(law, prompt_length=prompt_length, answer_prefix=answer_prefix, pad_token_id=pad_token_id)


class NumpyLogitsProcessor:
    """``(input_ids, scores) -> scores`` on NumPy arrays: ``llama-cpp-python``'s
    ``logits_processor`` signature (``Llama(...)(prompt, logits_processor=LogitsProcessorList([p]),
    **LLAMA_CPP_EXACT)``).

    ``input_ids`` is the whole context (1-D, prompt included; llama-cpp passes
    ``self._input_ids``) or a 2-D batch; ``scores`` the matching 1-D / 2-D float scores.  The
    answer starts after ``prompt_length`` tokens (default: the length at the first call; a
    new generation is recognised when the input stops growing).  ``mode``: ``"teacher"`` or
    ``"mask"``; ``draw=True`` as for ``TeacherLogitsProcessor``.
    """

    def __init__(self, law, mode: str = "teacher", *, prompt_length=None, answer_prefix=(), pad_token_id=None,
                 draw=False, rng=None):
        self.core = _Core(law, mode, prompt_length=prompt_length, answer_prefix=answer_prefix, draw=draw, rng=rng,
                          pad_token_id=pad_token_id)
        self.law = law

    def __repr__(self) -> str:
        return f"NumpyLogitsProcessor({self.law!r}, mode={self.core.mode!r})"

    def __call__(self, input_ids, scores):
        ids = np.asarray(input_ids)
        sc = np.asarray(scores)
        if ids.ndim == 1:
            if sc.ndim != 1:
                raise ValueError(f"1-D input_ids need 1-D scores, got shape {sc.shape}")
            answers = self.core.answers_from_rows([ids.tolist()])
            return self.core.process(answers, sc[None, :].astype(np.float32))[0].astype(sc.dtype, copy=False)
        if ids.ndim != 2 or sc.ndim != 2:
            raise ValueError(f"input_ids and scores must be 1-D or 2-D, got {ids.shape} and {sc.shape}")
        answers = self.core.answers_from_rows(ids.tolist())
        return self.core.process(answers, sc.astype(np.float32)).astype(sc.dtype, copy=False)

    def process(self, answers, scores):
        """As ``TeacherLogitsProcessor.process``, on NumPy arrays."""
        return self.core.process([_as_prefix(a, "answers[i]") for a in answers], np.asarray(scores, dtype=np.float32))


class VLLMLogitsProcessor:
    """A vLLM per-request logits processor: ``(output_token_ids, logits)`` or
    ``(prompt_token_ids, output_token_ids, logits) -> logits`` on one request's 1-D torch
    tensor.  The answer is the request's output (``answer_prefix`` if the prompt ends with
    part of it).  Pass vLLM ``SamplingParams(temperature=1.0, top_p=1.0, top_k=0, min_p=0.0)``
    for teacher mode (and mind a model ``generation_config`` that vLLM applies by default),
    or use ``draw=True``."""

    def __init__(self, law, mode: str = "teacher", *, answer_prefix=(), pad_token_id=None, draw=False, rng=None):
        self.core = _Core(law, mode, prompt_length=0, answer_prefix=(), draw=draw, rng=rng, pad_token_id=pad_token_id)
        self.prefix = _as_prefix(answer_prefix, "answer_prefix")
        self.law = law

    def __call__(self, *args):
        if len(args) == 2:
            output_ids, logits = args
        elif len(args) == 3:
            _, output_ids, logits = args
        else:
            raise TypeError("call as (output_token_ids, logits) or (prompt_token_ids, output_token_ids, logits)")
        answer = self.prefix + tuple(int(t) for t in output_ids)
        if hasattr(logits, "detach"):
            import torch

            out = self.core.process([answer], logits.detach().to(torch.float32).cpu().numpy()[None, :])[0]
            return torch.from_numpy(out).to(device=logits.device, dtype=logits.dtype)
        return self.core.process([answer], np.asarray(logits, dtype=np.float32)[None, :])[0]


def _node_bound(counts) -> float:
    k = len(counts)
    if k < 2:
        return 0.0
    vals = [int(c) for c in counts]
    lam = math.log(max(vals)) - math.log(min(vals))
    return (math.expm1(2 * FLOAT32_U * lam)) / 2 + (k + 2) * FLOAT32_U / 2


def teacher_tvd_bound(law=None, *, steps=None, log_ratio=None, children=None, max_nodes: int = 200_000) -> float:
    """Upper bound on the total variation between the law a float32 sampler induces from
    ``TeacherLogitsProcessor`` scores and the exact law (see the module docstring).

    With ``law``: walks its token tree (at most ``max_nodes`` nodes) and sums, over depths, the
    largest per-node bound.  Without: the closed form for ``steps`` sampling steps, each with at
    most ``children`` tokens and counts within a ratio exp(``log_ratio``).

    >>> teacher_tvd_bound(steps=2, log_ratio=math.log(1000), children=1000) < 1.2e-4
    True
    """
    if law is None:
        if steps is None or log_ratio is None or children is None:
            raise TypeError("give a law, or steps, log_ratio and children")
        t = as_int(steps, "steps")
        k = as_int(children, "children")
        lam = float(log_ratio)
        if t < 0 or k < 1 or lam < 0:
            raise ValueError("steps >= 0, children >= 1 and log_ratio >= 0 are required")
        per = 0.0 if k < 2 else math.expm1(2 * FLOAT32_U * lam) / 2 + (k + 2) * FLOAT32_U / 2
        return t * per
    _check_law(law)
    total = 0.0
    for _, batch in law.walk(max_nodes=max_nodes):
        total += max((_node_bound(c) for _, c in batch), default=0.0)
    return total
