"""The README's audit tables: exact audits (``nextdigit.lm.audit``) of the tiny models the tests
build, and the essay footnote's 16 GPT-4 answers next to what an audit of a biased model reports.

    HF_HUB_OFFLINE=1 python tools/lm_audit_table.py [--json OUT.json]

Models (all offline, built by ``nextdigit.lm.toy``, one torch thread, float32):

* a random tiny GPT-2 per tokenizer kind (digit, 3-digit chunk, BPE), seed 0;
* ``skewed``: the chunk-tokenizer GPT-2 trained 300 steps (``train_tiny``) on 3000 "random
  6-digit numbers" of which half start with ``52`` (the GPT-4 footnote's habit), a quarter with
  another ``5``, a quarter uniform -- a model with a known bias for the audit to find.

For each model and task, one ``distortion`` walk gives plain sampling, (a) rejection sampling
(plain given a valid answer), (b) mask-constrained decoding and (c) teacher mode, exactly.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from nextdigit.analysis import uniformity_test  # noqa: E402
from nextdigit.analysis.experiments import GPT4_ANSWERS  # noqa: E402
from nextdigit.lm import audit, distortion, monte_carlo, token_law  # noqa: E402
from nextdigit.lm.toy import bpe_tokenizer, chunk_tokenizer, digit_tokenizer, tiny_gpt2, train_tiny  # noqa: E402

PROMPT = "A random 6-digit number:"


def skewed_answers(count=3000, seed=0):
    gen = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        u = gen.random()
        if u < 0.5:
            out.append("52" + str(int(gen.integers(0, 10**4))).zfill(4))
        elif u < 0.75:
            out.append("5" + str(int(gen.integers(0, 10**5))).zfill(5))
        else:
            out.append(str(int(gen.integers(10**5, 10**6))))
    return out


def wilson(k, n, z=1.96):
    ph = k / n
    den = 1 + z * z / n
    mid = (ph + z * z / (2 * n)) / den
    half = z * math.sqrt(ph * (1 - ph) / n + z * z / (4 * n * n)) / den
    return max(0.0, mid - half), min(1.0, mid + half)


def fmt(x, nd=4):
    if isinstance(x, str):
        return x
    if x == math.inf:
        return "inf"
    if x == 0:
        return "0"
    if abs(x) < 1e-3:
        return f"{x:.1e}"
    return f"{x:.{nd}f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--json")
    args = ap.parse_args()
    torch.set_num_threads(1)
    rows, extra = [], {}
    toks = {"digit": digit_tokenizer(), "chunk": chunk_tokenizer(3), "bpe": bpe_tokenizer()}
    models = {f"random GPT-2, {k}": (tiny_gpt2(t, seed=0), t, k) for k, t in toks.items()}
    t0 = time.perf_counter()
    sk = tiny_gpt2(toks["chunk"], seed=0)
    losses = train_tiny(sk, toks["chunk"], skewed_answers(), PROMPT, steps=300, seed=0)
    extra["train_seconds"] = time.perf_counter() - t0
    extra["train_loss_first_last"] = [losses[0], float(np.mean(losses[-20:]))]
    models["skewed (trained), chunk"] = (sk, toks["chunk"], "chunk")
    cases = [(name, task, n) for name in models for task, n in (("prime", 4), ("number", 6))
             if not (task == "number" and models[name][2] != "chunk")]
    cases.append(("skewed (trained), chunk", "prime", 6))
    for name, task, n in cases:
        model, tok, kind = models[name]
        law = token_law(task, n, tok, lead=" " if kind == "bpe" else "")
        t = time.perf_counter()
        d = distortion(model, law, PROMPT)
        sec = time.perf_counter() - t
        p = d.plain
        rows.append({"model": name, "task": f"{n}-digit {task}s", "answers": p.support_size, "plain_tvd": p.tvd,
                     "plain_kl_rev": p.kl_reverse, "off_support": p.off_support,
                     "off_detail": p.off_support_detail, "rejection_tvd": d.rejection.tvd, "mask_tvd": d.mask.tvd,
                     "gap_tvd": d.gap_tvd, "gap_kl": d.gap_kl, "teacher_tvd": d.teacher.tvd,
                     "teacher_bound": d.teacher_bound, "float_error": p.float_error,
                     "mode": p.mode, "mask_mode": d.mask.mode, "nodes": p.nodes,
                     "forward_batches": p.forward_batches, "seconds": sec})
        print(name, task, n, f"{sec:.1f} s", flush=True)
    # the GPT-4 footnote next to the audit of the skewed model (6-digit numbers, plain sampling)
    law6 = token_law("number", 6, toks["chunk"])
    r = audit(sk, law6, PROMPT)
    xs = [str(v) for v in GPT4_ANSWERS]
    k52 = sum(x.startswith("52") for x in xs)
    k5 = sum(x.startswith("5") for x in xs)
    mc16 = monte_carlo(sk, law6, PROMPT, samples=16, rng=1, z=1.96)
    mc16_52 = sum(x.startswith("52") for x in mc16.texts)
    foot = {
        "gpt4": {"samples": 16, "p52": k52 / 16, "p52_ci": wilson(k52, 16), "p5": k5 / 16, "p5_ci": wilson(k5, 16),
                 "distinct": len(set(xs)),
                 "first_digit_p": uniformity_test([x[0] for x in xs], support=list("123456789"), rng=1).p_value},
        "audit": {"p52": r.mass("52"), "p5": r.mass("5"), "target_p52": 1 / 90, "target_p5": 1 / 9, "tvd": r.tvd,
                  "kl_rev": r.kl_reverse, "off_support": r.off_support, "valid_mass": r.valid_mass,
                  "entropy": r.entropy, "target_entropy": r.target_entropy, "mode": r.mode,
                  "top": r.top(5, None), "first_digit": r.first_digit[1:].tolist(),
                  "p_first_collision": float(np.sum(r.probs ** 2)),
                  "expected_distinct_of_16": float(np.sum(1 - (1 - r.probs) ** 16)),
                  "seconds": r.seconds, "forward_batches": r.forward_batches},
        "skewed_16_samples": {"p52": mc16_52 / max(1, len(mc16.texts)), "valid": len(mc16.texts),
                              "tvd": mc16.tvd, "tvd_ci": list(mc16.tvd_interval), "texts": mc16.texts},
    }
    out = {"rows": rows, "footnote": foot, **extra}
    print("\n| model | task | answers | plain TVD | off-support (end / digits / other) | KL(target‖model) "
          "| (a) rejection TVD | (b) mask TVD | gap TVD(a, b) | KL(b‖a) | (c) teacher TVD | forward batches | s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for x in rows:
        od = x["off_detail"]
        print(f"| {x['model']} | {x['task']} | {x['answers']:,} | {fmt(x['plain_tvd'])} | {fmt(x['off_support'])} "
              f"({fmt(od['end'])} / {fmt(od['digits'])} / {fmt(od['other'])}) | {fmt(x['plain_kl_rev'], 3)} "
              f"| {fmt(x['rejection_tvd'])} | {fmt(x['mask_tvd'])} | {fmt(x['gap_tvd'])} | {fmt(x['gap_kl'], 3)} "
              f"| {fmt(x['teacher_tvd'])} | {x['forward_batches']} | {x['seconds']:.1f} |")
    print(json.dumps(foot, indent=1, default=str))
    print(json.dumps(extra))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1, default=str)


if __name__ == "__main__":
    main()
