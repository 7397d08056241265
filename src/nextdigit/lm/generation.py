"""Exact sampling with ``transformers``' ``generate``: the warpers neutralised, and checked.

The pitfall: with ``do_sample=True``, ``transformers`` applies its *warpers* -- temperature,
top-k (``top_k=50`` by default!), top-p, min-p, typical-p, epsilon / eta cutoffs, top-h,
watermarking -- *after* the logits processors, and fills every setting a call leaves unset
from the model's ``generation_config`` (then from global defaults).  A teacher law over a chunk
vocabulary (900 first chunks for 3-digit chunks) is then silently truncated to 50 tokens.

* ``generate_exact(model, law, ...)`` runs ``model.generate`` with a clean generation config
  (the model's own is swapped out for the call, keeping only its special-token ids), every
  warper off, ``max_new_tokens`` set to the answer's length and the processor installed; it
  checks that the prompt leaves room for the answer and that the model's vocabulary covers the
  law's tokens, and returns the answers (digit strings and token ids).
* ``check_generation_config(model_or_config, law, **generate_kwargs)`` computes the settings a
  ``generate`` call would use and raises (``strict=True``) or warns about every one that
  changes or truncates the teacher law.
* ``EXACT_SAMPLING``: the keyword arguments that switch the warpers off for a direct
  ``model.generate(..., logits_processor=[...], **EXACT_SAMPLING)`` call (``top_h`` in a model's
  generation config cannot be switched off by a keyword: the check catches it).
* ``LLAMA_CPP_EXACT``: the same for ``llama-cpp-python`` (``Llama.__call__`` /
  ``create_completion``).

>>> sorted(EXACT_SAMPLING)[:4]
['do_sample', 'epsilon_cutoff', 'eta_cutoff', 'min_p']
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from .._util.validate import as_int_in
from .laws import TokenLaw, _as_prefix
from .processors import MaskLogitsProcessor, TeacherLogitsProcessor, _check_law, _check_mode

__all__ = ["generate_exact", "check_generation_config", "GenerationResult", "EXACT_SAMPLING", "LLAMA_CPP_EXACT"]

EXACT_SAMPLING = {
    "do_sample": True, "temperature": 1.0, "top_k": 0, "top_p": 1.0, "min_p": 0.0, "typical_p": 1.0,
    "epsilon_cutoff": 0.0, "eta_cutoff": 0.0, "num_beams": 1,
}
LLAMA_CPP_EXACT = {
    "temperature": 1.0, "top_k": 0, "top_p": 1.0, "min_p": 0.0, "typical_p": 1.0, "repeat_penalty": 1.0,
    "frequency_penalty": 0.0, "presence_penalty": 0.0, "mirostat_mode": 0,
}
_DEFAULT_TOP_K = 50           # transformers' global default, applied when nothing sets top_k
_TOKEN_KEYS = ("eos_token_id", "pad_token_id", "bos_token_id", "decoder_start_token_id")


@dataclass
class GenerationResult:
    """Answers of ``generate_exact``: ``texts`` (digit strings) and ``token_ids`` (each answer's
    canonical tokens, end included)."""

    texts: list
    token_ids: list

    def __len__(self) -> int:
        return len(self.texts)


def _effective(config, kwargs) -> dict:
    """The settings ``generate`` would use: kwargs, then the config, then transformers' defaults."""
    keys = ("do_sample", "temperature", "top_k", "top_p", "min_p", "typical_p", "epsilon_cutoff", "eta_cutoff",
            "top_h", "num_beams", "watermarking_config", "penalty_alpha")
    out = {}
    for k in keys:
        v = kwargs.get(k, None)
        if v is None and config is not None:
            v = getattr(config, k, None)
        out[k] = v
    if out["top_k"] is None:
        out["top_k"] = _DEFAULT_TOP_K
    return out


def check_generation_config(model_or_config, law=None, *, mode: str = "teacher", draw: bool = False,
                            strict: bool = True, **generate_kwargs) -> list[str]:
    """The problems a ``generate(**generate_kwargs)`` call would have with a teacher law.

    ``model_or_config`` is a model (its ``generation_config`` is used, as ``generate`` does) or
    a ``GenerationConfig`` (or None: only the kwargs and the global defaults).  Every setting
    that changes or truncates the law after the processor is reported: sampling off, a
    temperature other than 1, top-k below the law's largest branching (``law.max_children``;
    any top-k when no law is given), top-p / typical-p below 1, min-p / epsilon / eta above 0,
    top-h, beams, contrastive search, watermarking.  ``strict=True`` raises ``ValueError`` with
    the list (and the fix), else ``warnings.warn``.  Mask mode and ``draw=True`` only need
    sampling (or greedy, for draw) and no beams: warpers keep a point mass or the mask.

    >>> try:
    ...     check_generation_config(None, do_sample=True)     # transformers' defaults: top_k=50
    ... except ValueError as e:
    ...     print(str(e)[:94])
    this generation config would not sample the exact law: top_k=50 keeps only the 50 most likely
    >>> check_generation_config(None, **EXACT_SAMPLING)
    []
    """
    _check_mode(mode)
    if law is not None:
        _check_law(law)
    config = getattr(model_or_config, "generation_config", model_or_config)
    eff = _effective(config, generate_kwargs)
    problems = []
    if eff["num_beams"] not in (None, 1):
        problems.append(f"num_beams={eff['num_beams']} runs beam search, not sampling")
    if eff["penalty_alpha"] not in (None, 0, 0.0):
        problems.append(f"penalty_alpha={eff['penalty_alpha']} runs contrastive search, not sampling")
    if not eff["do_sample"] and not draw:
        problems.append("do_sample is not True: greedy decoding returns the most likely answer, not a sample")
    if mode == "teacher" and not draw:
        widest = None if law is None else int(law.max_children)
        tk = eff["top_k"]
        if tk and (widest is None or tk < widest):
            problems.append(f"top_k={tk} keeps only the {tk} most likely tokens"
                            + (f" (the law has up to {widest} next tokens)" if widest else ""))
        if eff["temperature"] not in (None, 1, 1.0):
            problems.append(f"temperature={eff['temperature']} reshapes the law")
        for key, neutral in (("top_p", 1.0), ("typical_p", 1.0)):
            if eff[key] is not None and eff[key] < neutral:
                problems.append(f"{key}={eff[key]} truncates the law's tail")
        for key in ("min_p", "epsilon_cutoff", "eta_cutoff"):
            if eff[key] not in (None, 0, 0.0):
                problems.append(f"{key}={eff[key]} truncates the law's tail")
        if eff["top_h"] is not None:
            problems.append(f"top_h={eff['top_h']} truncates the law (set by the generation config: clear it)")
        if eff["watermarking_config"] is not None:
            problems.append("watermarking_config biases the scores after the processor")
    if problems:
        msg = ("this generation config would not sample the exact law: " + "; ".join(problems)
               + ". Use nextdigit.lm.generate_exact, or pass **nextdigit.lm.EXACT_SAMPLING (and clear top_h), "
               "or TeacherLogitsProcessor(law, draw=True)")
        if strict:
            raise ValueError(msg)
        warnings.warn(msg, stacklevel=2)
    return problems


def _context_length(config):
    for key in ("n_positions", "max_position_embeddings", "n_ctx", "max_sequence_length"):
        v = getattr(config, key, None)
        if isinstance(v, int) and v > 0:
            return v
    return None


def _prompt_ids(input_ids, prompt, tokenizer) -> list[int]:
    if input_ids is not None and prompt is not None:
        raise TypeError("give input_ids or prompt, not both")
    if prompt is not None:
        if not isinstance(prompt, str):
            raise TypeError(f"prompt must be a str, not {type(prompt).__name__}")
        if tokenizer is None:
            raise TypeError("prompt needs tokenizer= to encode it")
        return list(tokenizer(prompt)["input_ids"])
    if input_ids is None:
        raise TypeError("give input_ids (the prompt's token ids) or prompt and tokenizer")
    if hasattr(input_ids, "tolist"):
        input_ids = input_ids.tolist()
    if input_ids and isinstance(input_ids[0], (list, tuple)):
        if len(input_ids) != 1:
            raise ValueError("input_ids must be one prompt (num_samples answers are drawn for it)")
        input_ids = input_ids[0]
    return list(_as_prefix(input_ids, "input_ids"))


def generate_exact(model, law, input_ids=None, *, prompt=None, tokenizer=None, num_samples: int = 1,
                   mode: str = "teacher", answer_prefix=(), draw: bool = False, seed=None, batch_size: int = 256,
                   **model_kwargs) -> GenerationResult:
    """``num_samples`` answers of ``model`` (a ``transformers`` causal LM) after one prompt,
    with the ``law``'s processor installed and every warper off (see the module docstring).

    ``input_ids`` (token ids of the prompt) or ``prompt`` + ``tokenizer``; ``answer_prefix``:
    answer tokens forced after the prompt (the law continues them; e.g. the first 24 digits of a
    30-digit prime, beyond which the remaining 6 are countable).  ``mode``: ``"teacher"`` (exact
    law) or ``"mask"`` (constrained decoding of the model's own law).  ``seed`` seeds torch's
    sampler inside a forked RNG (the global state is restored) and the processor for
    ``draw=True``.  Raises ``ValueError`` when the prompt leaves no room for the answer in the
    model's context or the law's tokens are outside the model's vocabulary.
    """
    import torch
    from transformers import GenerationConfig

    law = _check_law(law)
    _check_mode(mode)
    num_samples = as_int_in(num_samples, "num_samples", 1)
    batch_size = as_int_in(batch_size, "batch_size", 1)
    if seed is not None:                # torch.manual_seed takes [0, 2**64); SeedSequence no negatives
        seed = as_int_in(seed, "seed", 0, 2**64 - 1)
    if not hasattr(model, "generate") or not hasattr(model, "config"):
        raise TypeError(f"model must be a transformers generative model, not {type(model).__name__}")
    prefix = _as_prefix(answer_prefix, "answer_prefix")
    ids = _prompt_ids(input_ids, prompt, tokenizer) + list(prefix)
    remaining = law.max_length - len(prefix)
    ctx = _context_length(model.config)
    if ctx is not None and len(ids) + remaining > ctx:
        raise ValueError(f"the prompt has {len(ids)} tokens and the answer needs up to {remaining} more, beyond the "
                         f"model's context of {ctx} tokens: shorten the prompt")
    vocab = getattr(model.config, "vocab_size", None)
    if vocab is not None and int(law.vocab_ids.max()) >= vocab:
        raise ValueError(f"the law uses token id {int(law.vocab_ids.max())} but the model's vocabulary has {vocab} tokens: "
                         "the model does not match the tokenizer")
    first = law.next_token_counts_batch([prefix])        # fails early (e.g. beyond exact counting)
    if len(first[0][0]) == 0 and not first.complete[0]:
        raise ValueError(f"answer_prefix {list(prefix)} is not the start of a canonical answer of {law!r}")
    gen_cfg = getattr(model, "generation_config", None)
    tokens = {k: getattr(gen_cfg, k, None) for k in _TOKEN_KEYS}
    pad = tokens["pad_token_id"]
    if pad is None:
        pad = law.eos_id if law.eos_id is not None else tokens["eos_token_id"]
    if isinstance(pad, list):
        pad = pad[0]
    eos = law.eos_id
    settings = dict(EXACT_SAMPLING, max_new_tokens=remaining, min_new_tokens=0, pad_token_id=pad,
                    eos_token_id=eos if eos is not None else tokens["eos_token_id"],
                    bos_token_id=tokens["bos_token_id"], decoder_start_token_id=tokens["decoder_start_token_id"])
    settings["min_p"] = None        # no MinP pass at all: the model's own config is swapped out below
    clean = GenerationConfig(**{k: v for k, v in settings.items() if v is not None})
    check_generation_config(clean, law, mode=mode, draw=draw, strict=True)
    stopping = None
    if eos is None:
        stopping = [_LawStop(law, len(ids) - len(prefix))]
    texts, answers = [], []
    done = 0
    old_cfg = gen_cfg
    try:
        model.generation_config = GenerationConfig(**{k: v for k, v in tokens.items() if v is not None})
        with torch.random.fork_rng(devices=[]):
            if seed is not None:
                torch.manual_seed(seed)
            proc_rng = None if seed is None else np.random.SeedSequence(seed)
            while done < num_samples:
                b = min(batch_size, num_samples - done)
                if mode == "teacher":
                    proc = TeacherLogitsProcessor(law, prompt_length=len(ids) - len(prefix), answer_prefix=prefix,
                                                  pad_token_id=pad, draw=draw,
                                                  rng=None if proc_rng is None else proc_rng.spawn(1)[0])
                else:
                    proc = MaskLogitsProcessor(law, prompt_length=len(ids) - len(prefix), answer_prefix=prefix,
                                               pad_token_id=pad)
                inp = torch.tensor([ids] * b, dtype=torch.long, device=model.device)
                with torch.no_grad():
                    out = model.generate(input_ids=inp, attention_mask=torch.ones_like(inp), generation_config=clean,
                                         logits_processor=[proc], stopping_criteria=stopping, **model_kwargs)
                rows = [list(prefix) + r for r in out[:, len(ids):].tolist()]
                lengths = law.answer_lengths(rows)
                for r, ln in zip(rows, lengths):
                    if ln is None:
                        raise RuntimeError(f"generation ended before a whole answer: {r}")
                    answers.append(r[:ln])
                    texts.append(law.answer_text(r[:ln]))
                done += b
    finally:
        model.generation_config = old_cfg
    return GenerationResult(texts, answers)


class _LawStop:
    """Stopping criterion for answers without an end token: a row stops once it holds a whole
    answer (per-row booleans, as ``StoppingCriteriaList`` expects)."""

    def __init__(self, law: TokenLaw, start: int):
        self.law = law
        self.start = start

    def __call__(self, input_ids, scores, **kwargs):
        import torch

        rows = [r[self.start:] for r in input_ids.tolist()]
        flags = [ln is not None for ln in self.law.answer_lengths(rows)]
        return torch.tensor(flags, dtype=torch.bool, device=input_ids.device)
