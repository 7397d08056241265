"""Exact audits of language models (nextdigit.lm.audit) on tiny transformers models built here.

The audited law is checked against brute force (every answer scored with one forward pass of
its whole sequence, the conditionals multiplied), against the samplers it claims to describe
(transformers' ``generate`` with the mask processor; rejection sampling from the plain model),
and against transformers' own warpers (temperature, top-k, top-p) applied answer by answer.
Nothing is downloaded (HF_HUB_OFFLINE=1); the tests skip without the ``lm`` extra except under
NEXTDIGIT_REQUIRE_LM=1 (CI), where a missing extra is a failure.
"""
from __future__ import annotations

import importlib
import json
import math
import os
from collections import Counter

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def _need(name):
    if os.environ.get("NEXTDIGIT_REQUIRE_LM") == "1":
        return importlib.import_module(name)
    return pytest.importorskip(name)


torch = _need("torch")
transformers = _need("transformers")
_need("tokenizers")

import nextdigit  # noqa: E402
from nextdigit.lm import (EXACT_SAMPLING, MaskLogitsProcessor, TeacherLogitsProcessor, generate_exact,  # noqa: E402
                          token_law)
from nextdigit.lm.audit import Decoding, audit, distortion, monte_carlo  # noqa: E402
from nextdigit.lm.toy import bpe_tokenizer, chunk_tokenizer, digit_tokenizer, tiny_gpt2, train_tiny  # noqa: E402
from _stats import chi2_pvalue  # noqa: E402

torch.set_num_threads(1)
PROMPT = "Number:"


# ---------------------------------------------------------------------------------------------
# models and tokenizers, built here
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def toks():
    return {"digit": digit_tokenizer(), "chunk": chunk_tokenizer(3), "bpe": bpe_tokenizer()}


@pytest.fixture(scope="module")
def trained(toks):
    """A tiny GPT-2 (one token per digit) trained 150 steps on uniform 3-digit numbers: most of
    its mass is on 3-digit answers (rejection sampling accepts ~90% of number samples)."""
    tok = toks["digit"]
    model = tiny_gpt2(tok, seed=3)
    gen = np.random.default_rng(0)
    train_tiny(model, tok, [str(v) for v in gen.integers(100, 1000, 3000)], PROMPT, steps=150, seed=1)
    return model


def pids(tok, prompt=PROMPT):
    return list(tok(prompt)["input_ids"])


def brute_force(model, prompt_ids, law, answers, processors=()):
    """{answer: probability}: each answer's whole sequence scored with its own forward pass (no
    KV cache; sequences of one length go through the model side by side, up to 512 rows per
    call), the model's conditionals (after ``processors``, transformers' own classes, in float64)
    multiplied."""
    out = {}
    P = len(prompt_ids)
    by_len = {}
    for a in answers:
        seq = list(prompt_ids) + law.encode(a)
        by_len.setdefault(len(seq), []).append((a, seq))
    for group in by_len.values():
        for g in range(0, len(group), 512):
            part = group[g:g + 512]
            with torch.no_grad():
                logits = model(torch.tensor([seq for _, seq in part])).logits.to(torch.float64)
            for row, (a, seq) in enumerate(part):
                logp = 0.0
                for i in range(len(seq) - P):
                    scores = logits[row, P - 1 + i][None, :]
                    for proc in processors:
                        scores = proc(torch.tensor([seq[:P + i]]), scores)
                    logp += float(torch.log_softmax(scores, -1)[0, seq[P + i]])
                out[a] = math.exp(logp)
    return out


class _Mask64:
    """The mask processor in float64 (MaskLogitsProcessor returns float32 scores): the model's
    scores on the law's next tokens, -inf elsewhere."""

    def __init__(self, law, prompt_length):
        self.law, self.P = law, prompt_length

    def __call__(self, input_ids, scores):
        ids, _ = self.law.next_token_counts(input_ids[0, self.P:].tolist())
        out = torch.full_like(scores, -math.inf)
        out[:, ids] = scores[:, ids]
        return out


def numbers(n):
    return [str(v) for v in range(10 ** (n - 1), 10**n)]


def primes_of(n):
    return [str(int(p)) for p in nextdigit.primes_between(10 ** (n - 1), 10**n)]


# ---------------------------------------------------------------------------------------------
# the audited law equals brute force
# ---------------------------------------------------------------------------------------------
def test_audit_equals_brute_force_digit_tokens_3_digit_answers(toks):
    """900 outcomes, one token per digit: every answer's probability to 1e-9 (float64 model:
    to 1e-15 relative), and the off-support mass is 1 minus the on-support sum."""
    tok = toks["digit"]
    model = tiny_gpt2(tok, seed=0).double()
    law = token_law("number", 3, tok)
    r = audit(model, law, PROMPT)
    assert len(r) == 900 and r.support_size == 900
    ref = brute_force(model, pids(tok), law, numbers(3))
    got = r.law()
    assert set(got) == set(ref)
    err = max(abs(got[a] - ref[a]) for a in ref)
    rel = max(abs(got[a] - ref[a]) / ref[a] for a in ref)
    assert err < 1e-9 and rel < 1e-12, (err, rel)
    assert abs(r.off_support - (1 - math.fsum(ref.values()))) < 1e-12
    assert r.float_error < 1e-14
    assert 0.99 < r.off_support < 1                       # a random model rarely writes a 3-digit number
    assert r.forward_batches == 4                          # prompt, then the 1, 9 and 90 prefixes: 1 batch per level
    # the exact TVD, by hand from the brute-force law
    tvd = 0.5 * (sum(abs(p - 1 / 900) for p in ref.values()) + r.off_support)
    assert abs(r.tvd - tvd) < 1e-12
    # the same model in float32: the cached batched passes vs whole sequences differ by float32 rounding only
    m32 = tiny_gpt2(tok, seed=0)
    r32 = audit(m32, law, PROMPT)
    ref32 = brute_force(m32, pids(tok), law, numbers(3))
    assert max(abs(r32.prob(a) - p) / p for a, p in ref32.items()) < 1e-5


@pytest.mark.parametrize("kind", ["chunk", "bpe"])
def test_audit_equals_brute_force_other_tokenizers(toks, kind):
    tok = toks[kind]
    model = tiny_gpt2(tok, seed=1).double()
    lead = " " if kind == "bpe" else ""
    law = token_law("prime", 3, tok, lead=lead)
    ref = brute_force(model, pids(tok), law, primes_of(3))
    for cache in ("tree", "prompt", "none"):
        r = audit(model, law, PROMPT, cache=cache)
        assert max(abs(r.prob(a) - p) / p for a, p in ref.items()) < 1e-12, cache
        assert abs(r.valid_mass - math.fsum(ref.values())) < 1e-12
    # a callable model (whole sequences in, scores out) gives the same law
    f = lambda ids: model(torch.as_tensor(ids)).logits[:, -1, :]        # noqa: E731
    rc = audit(f, law, pids(tok))
    assert np.allclose(rc.probs, r.probs, rtol=1e-12, atol=0) and abs(rc.off_support - r.off_support) < 1e-12


def test_chunk_tokens_5_digit_numbers_equal_brute_force_on_a_sample(toks):
    """3-digit chunks, 5-digit answers: 1 + 1 + 90 forward batches (the end-token probability
    after each of the 90,000 answers), checked against brute force on 300 random answers."""
    tok = toks["chunk"]
    model = tiny_gpt2(tok, seed=2).double()
    law = token_law("number", 5, tok)
    r = audit(model, law, PROMPT, batch_size=1000)
    assert len(r) == 90000 and r.forward_batches == 1 + 1 + 90 and r.forward_rows == 1 + 900 + 90000
    sample = [str(v) for v in np.random.default_rng(5).integers(10**4, 10**5, 300)]
    ref = brute_force(model, pids(tok), law, sample)
    assert max(abs(r.prob(a) - p) / p for a, p in ref.items()) < 1e-12
    assert r.float_error < 1e-13


@pytest.mark.slow
def test_chunk_tokens_6_digit_numbers_1_plus_900_batches(toks):
    """The issue's case: 6-digit numbers under 3-digit chunks, 1 + 1 + 900 forward batches of
    siblings, against brute force on a random subset (float64 model)."""
    tok = toks["chunk"]
    model = tiny_gpt2(tok, seed=2).double()
    law = token_law("number", 6, tok)
    r = audit(model, law, PROMPT, batch_size=1000)
    assert len(r) == 900000 and r.forward_batches == 902 and r.forward_rows == 1 + 900 + 900000
    sample = [str(v) for v in np.random.default_rng(6).integers(10**5, 10**6, 200)]
    ref = brute_force(model, pids(tok), law, sample)
    assert max(abs(r.prob(a) - p) / p for a, p in ref.items()) < 1e-12
    assert r.float_error < 1e-13
    assert abs(r.off_support + r.valid_mass - 1) < 1e-13
    m = audit(model, law, PROMPT, mode="mask")
    assert m.forward_batches == 2 and abs(math.fsum(m.probs.tolist()) - 1) < 1e-13


# ---------------------------------------------------------------------------------------------
# the audited law equals the samplers' frequencies
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["digit", "chunk", "bpe"])
def test_mask_mode_law_equals_generate_frequencies(toks, kind):
    tok = toks[kind]
    model = tiny_gpt2(tok, seed=4)
    law = token_law("prime", 3, tok, lead=" " if kind == "bpe" else "")
    r = audit(model, law, PROMPT, mode="mask")
    assert r.off_support == 0 and abs(r.valid_mass - 1) < 1e-14 and len(r) == 143
    res = generate_exact(model, law, prompt=PROMPT, tokenizer=tok, num_samples=6000, mode="mask", seed=11,
                         batch_size=3000)
    assert chi2_pvalue(res.texts, r.law()) > 1e-6
    assert r.tvd > 0.01                              # constrained decoding is valid, not uniform


def test_rejection_sampling_frequencies_equal_the_conditional_law(toks, trained):
    """(a): plain sampling (transformers' generate, no processor), keeping only the samples that
    are canonical valid answers, follows the audited law given a valid answer."""
    tok = toks["digit"]
    law = token_law("number", 3, tok)
    r = audit(trained, law, PROMPT)
    cond = r.conditional()
    assert 0.5 < r.valid_mass < 1 and abs(math.fsum(cond.probs.tolist()) - 1) < 1e-14
    inputs = torch.tensor([pids(tok)] * 4000)
    kept, drawn = [], 0
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(7)
        for _ in range(4):
            with torch.no_grad():
                out = trained.generate(input_ids=inputs, attention_mask=torch.ones_like(inputs),
                                       max_new_tokens=law.max_length, pad_token_id=tok.pad_token_id, **EXACT_SAMPLING)
            rows = out[:, inputs.shape[1]:].tolist()
            drawn += len(rows)
            for row, ln in zip(rows, law.answer_lengths(rows)):
                if ln == law.max_length:           # the whole row is one canonical answer, end token included
                    kept.append(law.answer_text(row))
    rate = len(kept) / drawn
    assert abs(rate - r.valid_mass) < 5 * math.sqrt(r.valid_mass * (1 - r.valid_mass) / drawn)
    assert chi2_pvalue(kept, cond.law()) > 1e-6


def test_distortion_gap_is_exact_and_consistent(toks, trained):
    """The three laws of one walk equal separate audits; (a) vs (b) computed from them; teacher
    within its float32 bound.  The model learned uniform numbers: for primes, rejection sampling
    stays near uniform while the mask distorts (it renormalises at each digit)."""
    tok = toks["digit"]
    law = token_law("prime", 3, tok)
    d = distortion(trained, law, PROMPT)
    plain = audit(trained, law, PROMPT)
    mask = audit(trained, law, PROMPT, mode="mask")
    assert np.array_equal(d.plain.answers, plain.answers) and np.allclose(d.plain.probs, plain.probs, rtol=1e-14)
    assert np.allclose(d.mask.probs, mask.probs, rtol=1e-14)
    a, b = d.rejection.law(), d.mask.law()
    assert abs(d.gap_tvd - 0.5 * sum(abs(a[k] - b[k]) for k in a)) < 1e-14
    assert d.rejection.tvd < d.mask.tvd and d.gap_tvd > 0.05
    assert d.teacher.tvd <= d.teacher_bound < 1e-4
    assert abs(d.plain.valid_mass + d.plain.off_support - 1) < 1e-14
    # (a) is also what the plain law says directly: p(x) / P(valid)
    assert np.allclose(d.rejection.probs, plain.probs / plain.valid_mass, rtol=1e-13)
    # mask-mode samples from generate follow (b), and are far from (a)
    res = generate_exact(trained, law, prompt=PROMPT, tokenizer=tok, num_samples=6000, mode="mask", seed=3,
                         batch_size=3000)
    assert chi2_pvalue(res.texts, b) > 1e-6
    assert chi2_pvalue(res.texts, a) < 1e-6


# ---------------------------------------------------------------------------------------------
# decoding regimes: temperature, greedy, top-k, top-p (against transformers' own warpers)
# ---------------------------------------------------------------------------------------------
def test_temperature_zero_is_a_point_mass_equal_to_greedy_generate(toks, trained):
    tok = toks["digit"]
    law = token_law("prime", 3, tok)
    inputs = torch.tensor([pids(tok)])
    for mode, procs in (("plain", []), ("mask", [MaskLogitsProcessor(law)])):
        r = audit(trained, law, PROMPT, mode=mode, temperature=0)
        with torch.no_grad():
            out = trained.generate(input_ids=inputs, attention_mask=torch.ones_like(inputs), do_sample=False,
                                   max_new_tokens=law.max_length, logits_processor=procs, pad_token_id=tok.pad_token_id)
        row = out[0, inputs.shape[1]:].tolist()
        valid = law.answer_lengths([row])[0] == law.max_length
        if valid:
            assert len(r) == 1 and r.probs[0] == 1.0 and r.mode[0] == law.answer_text(row) and r.off_support == 0
        else:
            assert mode == "plain" and len(r) == 0 and r.off_support == 1.0
        assert r.nodes <= 1 + 10 + 100 + 1000
    # teacher at T = 0: the first answer of highest count at every step (ties: lowest token id)
    t = audit(trained, law, PROMPT, mode="teacher", temperature=0)
    assert len(t) == 1 and t.probs[0] == 1 and t.mode[0] == "101" and abs(t.tvd - (1 - 1 / 143)) < 1e-15


@pytest.mark.parametrize("k", [1, 2, 3, 7])
def test_top_k_keeps_at_most_k_children_per_node(toks, k):
    tok = toks["chunk"]
    model = tiny_gpt2(tok, seed=5).double()
    law = token_law("number", 6, tok)
    for mode in ("plain", "mask"):
        r = audit(model, law, PROMPT, mode=mode, top_k=k)
        texts = [r.text(a) for a in r.answers]
        first = Counter(t[:3] for t in texts)
        assert len(first) <= k
        assert all(n <= k for n in first.values())
        assert r.nodes <= 1 + 900 + 1000 * k + k * k       # only the kept branches are expanded
        if mode == "mask":
            assert len(r) == k * k and abs(r.valid_mass - 1) < 1e-14
    # the truncation leaves the exact rest of the target unvisited
    assert abs(r.missing_target - (1 - len(r) / 900000)) < 1e-15


def test_warpers_equal_transformers_own_classes_answer_by_answer(toks):
    """Temperature, top-k and top-p as transformers applies them (processors, then warpers) give
    the audited probabilities, answer by answer, in float64."""
    from transformers import TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper

    tok = toks["digit"]
    model = tiny_gpt2(tok, seed=6).double()
    law = token_law("prime", 3, tok)
    P = len(pids(tok))
    cases = [dict(temperature=0.7), dict(temperature=1.3, top_k=40), dict(top_p=0.6), dict(temperature=0.8, top_p=0.9)]
    for kw in cases:
        warpers = []
        if "temperature" in kw:
            warpers.append(TemperatureLogitsWarper(kw["temperature"]))
        if "top_k" in kw:
            warpers.append(TopKLogitsWarper(kw["top_k"]))
        if "top_p" in kw:
            warpers.append(TopPLogitsWarper(kw["top_p"]))
        for mode in ("plain", "mask"):
            r = audit(model, law, PROMPT, mode=mode, **kw)
            procs = ([_Mask64(law, P)] if mode == "mask" else []) + warpers
            ref = brute_force(model, pids(tok), law, primes_of(3), procs)
            got = r.law()
            for a, p in ref.items():
                assert abs(got.get(a, 0.0) - p) < 1e-12 * max(p, 1e-300) + 1e-300, (kw, mode, a, got.get(a), p)


def test_teacher_mode_is_uniform_up_to_float32_scores(toks):
    tok = toks["bpe"]
    model = tiny_gpt2(tok, seed=7)
    law = token_law("prime", 4, tok, lead=" ")
    r = audit(model, law, PROMPT, mode="teacher")
    assert len(r) == 1061 and r.off_support == 0 and r.forward_batches == 0     # teacher mode needs no forward pass
    assert r.tvd < 1e-7 and abs(r.kl_reverse) < 1e-12
    assert abs(r.entropy - math.log(1061)) < 1e-9
    assert np.allclose(r.first_digit, r.target_first_digit, atol=1e-8)


# ---------------------------------------------------------------------------------------------
# the result object
# ---------------------------------------------------------------------------------------------
def test_result_fields_and_first_digit(toks, trained):
    tok = toks["digit"]
    law = token_law("prime", 3, tok)
    r = audit(trained, law, PROMPT)
    ps = primes_of(3)
    assert r.target_first_digit[1:].tolist() == pytest.approx([sum(p[0] == str(d) for p in ps) / 143 for d in range(1, 10)])
    assert abs(math.fsum(r.first_digit.tolist()) - r.valid_mass) < 1e-14
    assert r.mass("1") == pytest.approx(r.first_digit[1], rel=1e-12)
    assert r.mode[0] == r.top(1)[0][0] and r.prob(r.mode[0]) == r.mode[1]
    assert r.prob("100") == 0 and r.prob(101) > 0
    assert r.entropy > 0 and r.target_entropy == pytest.approx(math.log(143))
    assert r.kl == math.inf and 0 < r.kl_reverse < math.inf
    d = r.as_dict()
    json.dumps(d)
    assert d["off_support"] == r.off_support and d["answers_reached"] == 143
    assert set(r.off_support_detail) == {"end", "digits", "other"}
    assert abs(sum(r.off_support_detail.values()) - r.off_support) < 1e-12
    # trained on 3-digit numbers, the model's off-support mass is mostly composites (digit tokens)
    assert r.off_support_detail["digits"] > 0.5


def test_the_model_is_left_as_it_was(toks):
    tok = toks["digit"]
    model = tiny_gpt2(tok, seed=0)
    model.train()
    before = [p.detach().clone() for p in model.parameters()]
    law = token_law("number", 2, tok)
    a = audit(model, law, PROMPT)
    assert model.training                                  # eval for the walk (no dropout), train mode restored
    assert all(torch.equal(x, y) for x, y in zip(before, model.parameters()))
    model.eval()
    assert np.array_equal(audit(model, law, PROMPT).probs, a.probs)   # deterministic: dropout was off


def test_lifted_task_model_gives_the_same_target(toks):
    from nextdigit.tasks.primes import ExactPrimeModel

    class Scaled:                                          # proportional counts: a lifted law
        def __init__(self):
            self.inner = ExactPrimeModel(3)
            self.vocab, self.digits, self.name = self.inner.vocab, 3, "scaled"

        def next_token_counts(self, prompt, output):
            return [7 * c for c in self.inner.next_token_counts(prompt, output)]

    tok = toks["chunk"]
    model = tiny_gpt2(tok, seed=8).double()
    lifted = token_law(Scaled(), None, tok)
    direct = token_law("prime", 3, tok)
    assert not lifted.exact_counts
    a, b = audit(model, lifted, PROMPT), audit(model, direct, PROMPT)
    assert np.array_equal(a.answers, b.answers) and np.allclose(a.probs, b.probs, rtol=1e-14)
    assert np.allclose(a.target_probs, 1 / 143, rtol=1e-13) and abs(a.tvd - b.tvd) < 1e-12


# ---------------------------------------------------------------------------------------------
# Monte Carlo, for trees beyond the budget
# ---------------------------------------------------------------------------------------------
def test_monte_carlo_intervals_contain_the_exact_values(toks, trained):
    tok = toks["digit"]
    law = token_law("number", 3, tok)
    exact = audit(trained, law, PROMPT)
    mc = monte_carlo(trained, law, PROMPT, samples=1500, rng=2026, z=5.0, batch_size=500)
    lo, hi = mc.tvd_interval
    assert lo <= exact.tvd <= hi and hi - lo < 0.2
    olo, ohi = mc.off_support_interval
    assert olo <= exact.off_support <= ohi
    assert mc.uniformity is not None and len(mc.texts) == round(1500 * (1 - mc.off_support))
    again = monte_carlo(trained, law, PROMPT, samples=1500, rng=2026, z=5.0, batch_size=500)
    assert again.texts == mc.texts and again.tvd == mc.tvd                  # reproducible with a seed
    m = monte_carlo(trained, law, PROMPT, samples=800, rng=1, mode="mask", z=5.0)
    assert m.off_support == 0 and m.tvd_interval[0] <= audit(trained, law, PROMPT, mode="mask").tvd <= m.tvd_interval[1]
    t = monte_carlo(trained, law, PROMPT, samples=400, rng=1, mode="teacher")
    assert t.tvd < 1e-6 and t.uniformity.p_value > 1e-6


# ---------------------------------------------------------------------------------------------
# clear errors
# ---------------------------------------------------------------------------------------------
def test_budget_empty_support_and_vocabulary_errors(toks):
    tok = toks["chunk"]
    model = tiny_gpt2(tok, seed=0)
    law6 = token_law("number", 6, tok)
    with pytest.raises(ValueError, match="max_nodes=1000.*monte_carlo"):
        audit(model, law6, PROMPT, max_nodes=1000)                # refused up front: 900,000 answers
    with pytest.raises(ValueError, match="max_nodes=50"):
        audit(model, law6, PROMPT, max_nodes=50, top_k=2000)      # a truncating regime: refused at the level
    # a model whose vocabulary does not cover the tokenizer's
    small = tiny_gpt2(toks["digit"], seed=0)
    with pytest.raises(ValueError, match="vocabulary does not match"):
        audit(small, token_law("prime", 3, tok), PROMPT)
    with pytest.raises(ValueError, match="vocabulary does not match"):
        audit(lambda ids: np.zeros((len(ids), 50)), token_law("prime", 3, tok), [1, 2])
    with pytest.raises(ValueError, match="shape"):
        audit(lambda ids: np.zeros(5), token_law("prime", 3, tok), [1, 2])

    class Empty:                                           # a task model without any answer
        def __init__(self):
            from nextdigit.tasks.primes import ExactPrimeModel

            self.vocab, self.digits, self.name = ExactPrimeModel(3).vocab, 3, "empty"

        def next_token_counts(self, prompt, output):
            return [0] * len(self.vocab)

    with pytest.raises(ValueError, match="empty"):
        audit(model, token_law(Empty(), None, tok), PROMPT)
    # rejection sampling with no valid mass: greedy decoding that leaves the answers
    f = lambda ids: np.where(np.arange(1199) == 50, 1.0, 0.0)[None, :].repeat(len(ids), 0)   # noqa: E731
    r = audit(f, token_law("prime", 3, tok), [1], temperature=0)
    assert len(r) == 0 and r.off_support == 1.0 and r.tvd == 1.0
    with pytest.raises(ValueError, match="never accept"):
        r.conditional()
    with pytest.raises(ValueError, match="-inf on every token"):
        audit(lambda ids: np.full((len(ids), 1199), -np.inf), token_law("prime", 3, tok), [1], mode="mask")


def test_bad_arguments_are_refused(toks):
    tok = toks["digit"]
    model = tiny_gpt2(tok, seed=0)
    law = token_law("prime", 3, tok)
    for kw, exc, msg in [(dict(mode="greedy"), ValueError, "mode"), (dict(temperature=-1), ValueError, "temperature"),
                         (dict(temperature="1"), TypeError, "temperature"), (dict(top_k=0), ValueError, "top_k"),
                         (dict(top_k=2.0), TypeError, "top_k"), (dict(top_p=0), ValueError, "top_p"),
                         (dict(top_p=1.5), ValueError, "top_p"), (dict(cache="disk"), ValueError, "cache"),
                         (dict(max_nodes=0), ValueError, "max_nodes"), (dict(batch_size=0), ValueError, "batch_size"),
                         (dict(max_nodes=True), TypeError, "max_nodes")]:
        with pytest.raises(exc, match=msg):
            audit(model, law, PROMPT, **kw)
    with pytest.raises(TypeError, match="model"):
        audit("gpt2", law, PROMPT)
    with pytest.raises(TypeError, match="tokenizer"):
        audit(model, "prime", PROMPT, digits=3)
    with pytest.raises(TypeError, match="prompt"):
        audit(model, law, 3.5)
    with pytest.raises(ValueError, match="context"):
        audit(model, law, list(range(10, 71)))                       # 61 + 4 tokens > 64
    with pytest.raises(ValueError, match="samples"):
        monte_carlo(model, law, PROMPT, samples=1)
    assert Decoding("mask", 0.5, 3, 0.9).label == "mask, T=0.5, top-k=3, top-p=0.9"
    assert Decoding(top_p=1.0).top_p is None and not Decoding().truncates


# ---------------------------------------------------------------------------------------------
# the command line
# ---------------------------------------------------------------------------------------------
def test_cli_audit_on_a_saved_model(toks, trained, tmp_path, capsys):
    from nextdigit.cli import main

    tok = toks["digit"]
    trained.save_pretrained(tmp_path / "m")
    tok.save_pretrained(tmp_path / "m")
    d = str(tmp_path / "m")
    assert main(["audit", "--model", d, "--task", "prime", "--digits", "3", "--prompt", PROMPT, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    ref = audit(trained, token_law("prime", 3, tok), PROMPT)
    assert out["tvd"] == pytest.approx(ref.tvd, rel=1e-6) and out["support_size"] == 143
    assert out["off_support"] == pytest.approx(ref.off_support, rel=1e-6)
    assert main(["audit", "--model", d, "--task", "number", "--digits", "3", "--prompt", PROMPT, "--mode", "mask",
                 "--top-k", "5", "--plot", str(tmp_path / "a.png")]) == 0
    text = capsys.readouterr().out
    assert "TVD to the target" in text and "mask, top-k=5" in text
    assert (tmp_path / "a.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["audit", "--model", d, "--task", "prime", "--digits", "3", "--prompt", PROMPT, "--distortion"]) == 0
    assert "(a) plain given a valid answer" in capsys.readouterr().out
    assert main(["audit", "--model", d, "--task", "number", "--digits", "3", "--prompt", PROMPT, "--samples", "300",
                 "--json"]) == 0
    mc = json.loads(capsys.readouterr().out)
    assert mc["method"] == "monte_carlo" and mc["samples"] == 300
    assert main(["audit", "--model", str(tmp_path / "nope"), "--task", "prime", "--digits", "3"]) == 2
    err = capsys.readouterr().err
    assert "no such directory" in err and len(err.strip().splitlines()) == 1
    assert main(["audit", "--model", d, "--task", "prime", "--digits", "8"]) == 2
    assert "max_nodes" in capsys.readouterr().err
    assert main(["audit", "--model", d, "--task", "prime", "--digits", "3", "--temperature", "-1"]) == 2
    assert "temperature" in capsys.readouterr().err
