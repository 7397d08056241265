"""Exact audit benchmarks (issue: audits of language models), skipped without the ``lm`` extra.

``lm audit, 6-digit numbers, 3-digit chunks``: the exact law a tiny random GPT-2 (cl100k-style
3-digit chunk tokenizer, float32, one torch thread) induces on the 900,000 6-digit numbers
after a short prompt, three ways:

* ``audit plain``: ``nextdigit.lm.audit`` walks the token tree, 1 + 1 + 900 forward batches (the
  prompt, its 900 first chunks as one batch of siblings on the prompt's KV cache, then the 1000
  (or fewer) second chunks of each first chunk on their parent's cache: the end-token probability
  of every answer), the full law of all 900,000 answers and the off-support mass;
* ``audit mask``: constrained decoding's law (2 forward batches: the model's scores matter only at
  nodes with more than one child);
* ``naive one by one``: the obvious exact route, one forward pass over prompt + answer + end per
  answer, the conditionals multiplied.  It is timed on a random subset of ``NAIVE_ONE`` answers and
  **extrapolated** linearly to 900,000 (``extra_info["extrapolated_seconds_900000"]``): the full
  run would take hours;
* ``naive batched``: the same whole-sequence scoring, ``NAIVE_BATCH`` answers per forward pass
  (what brute force can do at best without the tree), timed on ``NAIVE_BATCHED`` answers and
  extrapolated the same way.

``extra_info`` holds forward batches, rows and seconds per answer; the README quotes the ratio of
the extrapolated naive seconds to the audit's.
"""
import math
import os
import time

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("tokenizers")

from nextdigit.lm import audit, token_law  # noqa: E402
from nextdigit.lm.toy import chunk_tokenizer, tiny_gpt2  # noqa: E402

torch.set_num_threads(1)
PROMPT = "A random 6-digit number:"
TOTAL = 900_000
NAIVE_ONE = 2000
NAIVE_BATCHED = 50_000
NAIVE_BATCH = 1000


@pytest.fixture(scope="module")
def setup():
    tok = chunk_tokenizer(3)
    model = tiny_gpt2(tok, seed=0)
    model.eval()
    law = token_law("number", 6, tok)
    prompt = list(tok(PROMPT)["input_ids"])
    gen = np.random.default_rng(2026)
    subset = [str(v) for v in gen.integers(10**5, 10**6, NAIVE_BATCHED)]
    seqs = np.array([prompt + law.encode(a) for a in subset], dtype=np.int64)
    return tok, model, law, prompt, seqs


def _score_sequences(model, seqs: np.ndarray, P: int) -> np.ndarray:
    """log-probability of each row's answer tokens (positions P..) given the rest: one forward
    pass over the whole rows, the log-softmax of each position gathered and summed."""
    with torch.no_grad():
        x = torch.from_numpy(seqs)
        logits = model(input_ids=x, attention_mask=torch.ones_like(x)).logits[:, P - 1:-1, :].to(torch.float64)
        lp = torch.log_softmax(logits, dim=-1).gather(2, x[:, P:, None])[..., 0]
    return lp.sum(dim=1).numpy()


def _info(benchmark, seconds_per_answer, batches, rows, note):
    benchmark.extra_info.update({"seconds_per_answer": seconds_per_answer, "forward_batches_900000": batches,
                                 "forward_rows_900000": rows, "extrapolated_seconds_900000": seconds_per_answer * TOTAL,
                                 "how": note})


@pytest.mark.benchmark(group="lm audit, 6-digit numbers, 3-digit chunks")
def test_audit_plain(benchmark, setup):
    tok, model, law, prompt, _ = setup
    r = benchmark.pedantic(lambda: audit(model, law, prompt), rounds=3, iterations=1, warmup_rounds=0)
    assert len(r) == TOTAL and r.forward_batches == 902 and r.float_error < 1e-12
    med = benchmark.stats.stats.median
    _info(benchmark, med / TOTAL, r.forward_batches, r.forward_rows, "measured on all 900,000 answers")
    benchmark.extra_info["off_support"] = r.off_support


@pytest.mark.benchmark(group="lm audit, 6-digit numbers, 3-digit chunks")
def test_audit_mask(benchmark, setup):
    tok, model, law, prompt, _ = setup
    r = benchmark.pedantic(lambda: audit(model, law, prompt, mode="mask"), rounds=3, iterations=1, warmup_rounds=0)
    assert len(r) == TOTAL and r.forward_batches == 2 and abs(r.valid_mass - 1) < 1e-12
    _info(benchmark, benchmark.stats.stats.median / TOTAL, r.forward_batches, r.forward_rows,
          "measured on all 900,000 answers")


@pytest.mark.benchmark(group="lm audit, 6-digit numbers, 3-digit chunks")
def test_naive_one_by_one(benchmark, setup):
    tok, model, law, prompt, seqs = setup
    sub = seqs[:NAIVE_ONE]
    P = len(prompt)

    def run():
        return [float(_score_sequences(model, sub[i:i + 1], P)[0]) for i in range(len(sub))]

    out = benchmark.pedantic(run, rounds=3, iterations=1, warmup_rounds=0)
    ref = audit(model, law, prompt)
    got = [math.log(ref.prob(law.answer_text(s[P:].tolist()))) for s in sub[:50]]
    assert np.allclose(out[:50], got, atol=1e-4)             # float32 model: the same law up to float32 rounding
    _info(benchmark, benchmark.stats.stats.median / NAIVE_ONE, TOTAL, TOTAL,
          f"measured on {NAIVE_ONE} random answers, extrapolated linearly to 900,000")


@pytest.mark.benchmark(group="lm audit, 6-digit numbers, 3-digit chunks")
def test_naive_batched(benchmark, setup):
    tok, model, law, prompt, seqs = setup
    P = len(prompt)

    def run():
        return np.concatenate([_score_sequences(model, seqs[i:i + NAIVE_BATCH], P)
                               for i in range(0, len(seqs), NAIVE_BATCH)])

    out = benchmark.pedantic(run, rounds=3, iterations=1, warmup_rounds=0)
    assert len(out) == NAIVE_BATCHED and np.all(np.isfinite(out))
    _info(benchmark, benchmark.stats.stats.median / NAIVE_BATCHED, TOTAL // NAIVE_BATCH, TOTAL,
          f"measured on {NAIVE_BATCHED} random answers in batches of {NAIVE_BATCH}, extrapolated linearly to 900,000")


def test_audit_timing_interleaved(setup, capsys):
    """Not a pytest-benchmark: audit plain and naive batched alternated (A/B interleaved), medians
    printed -- the ratio on a loaded machine (run with -s)."""
    tok, model, law, prompt, seqs = setup
    P = len(prompt)
    ta, tb = [], []
    for _ in range(3):
        t0 = time.perf_counter()
        audit(model, law, prompt)
        ta.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        for i in range(0, 10_000, NAIVE_BATCH):
            _score_sequences(model, seqs[i:i + NAIVE_BATCH], P)
        tb.append((time.perf_counter() - t0) / 10_000 * TOTAL)
    with capsys.disabled():
        print(f"\naudit plain: median {np.median(ta):.2f} s (min {min(ta):.2f}); naive batched extrapolated: median "
              f"{np.median(tb):.1f} s (min {min(tb):.1f}); ratio {np.median(tb) / np.median(ta):.1f}x; load "
              f"{os.getloadavg()[0]:.1f}")
