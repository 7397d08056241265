"""Training data with exact soft targets and the three training loops (nextdigit.lm.training).

The dataset's laws are checked against ``TokenLaw`` queries made here one prefix at a time, and
against an independent count (a plain sieve over the primes with each prefix); saved datasets
reload identically (npz; Parquet when pyarrow is installed).  The exact-law loss at a perfect
model equals the entropy computed from the integer counts; 30-step runs of each kind repeat
their losses exactly with a fixed seed, and their audits run.  Nothing is downloaded; the tests
skip without the ``lm`` extra except under NEXTDIGIT_REQUIRE_LM=1 (CI).
"""
from __future__ import annotations

import importlib
import math
import os
from fractions import Fraction

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def _need(name):
    if os.environ.get("NEXTDIGIT_REQUIRE_LM") == "1":
        return importlib.import_module(name)
    return pytest.importorskip(name)


torch = _need("torch")
_need("transformers")
_need("tokenizers")

from nextdigit.lm import token_law  # noqa: E402
from nextdigit.lm.audit import audit  # noqa: E402
from nextdigit.lm.toy import chunk_tokenizer, digit_tokenizer, tiny_gpt2  # noqa: E402
from nextdigit.lm.training import (TeacherDataset, _empirical_tvd, hidden_seed, sample_answers,  # noqa: E402
                                   soft_cross_entropy, teacher_dataset, train)

torch.set_num_threads(1)


def _primes(lo, hi):
    sieve = bytearray([1]) * hi
    sieve[0:2] = b"\x00\x00"
    for i in range(2, int(hi**0.5) + 1):
        if sieve[i]:
            sieve[i * i::i] = bytearray(len(sieve[i * i::i]))
    return [p for p in range(lo, hi) if sieve[p]]


@pytest.fixture(scope="module")
def dtok():
    return digit_tokenizer()


@pytest.fixture(scope="module")
def law4(dtok):
    return token_law("prime", 4, dtok)


# ---------------------------------------------------------------------------------------------
# teacher_dataset
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("how", ["samples", "tree"])
def test_dataset_laws_equal_token_laws(dtok, law4, how):
    ds = teacher_dataset(law4, prefixes=how, samples=300, rng=5)
    assert ds.prompt_ids.tolist() == [dtok.eos_token_id]
    if how == "tree":               # every inner node: the distinct prefixes of the primes (a sieve), lengths 0-4
        primes = [str(p) for p in _primes(1000, 10000)]
        assert len(ds) == sum(len({p[:k] for p in primes}) for k in range(5))
        assert ds.weights.tolist() == [1] * len(ds)
    gen = np.random.default_rng(1)
    for i in gen.choice(len(ds), size=min(60, len(ds)), replace=False).tolist() + [0, len(ds) - 1]:
        p = ds.prefix(i)
        ids, counts = ds.law(i)
        ref_ids, ref_counts = law4.next_token_counts(p)
        assert ids.tolist() == ref_ids.tolist() and [int(c) for c in counts] == [int(c) for c in ref_counts]
        assert ds.input_ids(i) == [dtok.eos_token_id] + list(p)


def test_dataset_counts_against_a_sieve(dtok, law4):
    """Independent of nextdigit's counting: a node's counts are numbers of 4-digit primes with
    the prefix + token (digits) or the prefix itself (the end token)."""
    primes = [str(p) for p in _primes(1000, 10000)]
    ds = teacher_dataset(law4, prefixes="tree")
    digit_id = {dtok.convert_tokens_to_ids(str(d)): str(d) for d in range(10)}
    for i in range(0, len(ds), 37):
        text = "".join(digit_id[t] for t in ds.prefix(i))
        ids, counts = ds.law(i)
        for t, c in zip(ids.tolist(), counts.tolist()):
            if t == dtok.eos_token_id:
                assert len(text) == 4 and c == 1 and text in primes
            else:
                assert c == sum(p.startswith(text + digit_id[t]) for p in primes)


def test_dataset_sample_weights_and_exact_sampling(law4):
    answers = sample_answers(law4, 2000, rng=3)
    assert all(law4.prob(a) == Fraction(1, 1061) for a in answers[:50])
    ds = teacher_dataset(law4, prefixes="samples", samples=2000, rng=3)
    assert ds.weights[0] == 2000 and ds.prefix(0) == ()           # the root: every answer passes it
    # same draws: the weight of a first-digit prefix is how many answers start with it
    first = {}
    for a in answers:
        first[a[:1]] = first.get(a[:1], 0) + 1
    for i in range(1, len(ds)):
        if len(ds.prefix(i)) == 1:
            assert ds.weights[i] == first[ds.prefix(i)]
    # first digits of exact samples against the exact first-digit law (chi-square, fixed seed)
    ids, counts = law4.next_token_counts(())
    obs = np.array([first.get((int(t),), 0) for t in ids])
    exp = 2000 * counts.astype(float) / counts.sum()
    assert ((obs - exp) ** 2 / exp).sum() < 35.0                 # 8 dof: P(chi2 > 35) < 3e-5


def test_dataset_explicit_prefixes_and_errors(dtok, law4):
    one = law4.encode("1009")
    ds = teacher_dataset(law4, prefixes=[one[:2], one[:1], one[:2]])
    assert [ds.prefix(i) for i in range(len(ds))] == [tuple(one[:2]), tuple(one[:1])]
    assert ds.weights.tolist() == [2, 1]
    with pytest.raises(ValueError, match="whole answer"):
        teacher_dataset(law4, prefixes=[one])
    with pytest.raises(ValueError, match="no answer"):
        teacher_dataset(law4, prefixes=[law4.encode("1000")[:4]])
    with pytest.raises(ValueError, match="prefixes must be"):
        teacher_dataset(law4, prefixes="all")
    with pytest.raises(ValueError, match="max_rows"):
        teacher_dataset(law4, prefixes="tree", max_rows=100)
    with pytest.raises(TypeError, match="tokenizer"):
        teacher_dataset("prime", digits=4)


def test_dataset_chunk_tokenizer_and_prompt_text():
    tok = chunk_tokenizer(3)
    ds = teacher_dataset("number", tok, prefixes="tree", digits=3, prompt="Number:")
    assert ds.prompt_ids.tolist() == tok("Number:")["input_ids"]
    assert len(ds) == 1 + 900                       # one 3-digit chunk: the root, then 900 answers awaiting the end
    ids, counts = ds.law(0)
    assert len(ids) == 900 and set(counts.tolist()) == {1}
    assert all(ds.law(i)[0].tolist() == [tok.eos_token_id] for i in range(1, len(ds), 97))
    six = teacher_dataset("number", tok, prefixes="samples", digits=6, samples=50, rng=0)
    ids, counts = six.law(0)                        # 6 digits: 900 first chunks of 1000 numbers each
    assert len(ids) == 900 and set(counts.tolist()) == {1000}


def test_npz_round_trip(tmp_path, law4):
    ds = teacher_dataset(law4, prefixes="samples", samples=500, rng=2)
    ds.save(tmp_path / "d.npz")
    back = TeacherDataset.load(tmp_path / "d.npz")
    assert back.equals(ds) and back.meta == ds.meta and back.law_counts.dtype == np.uint64
    back.weights[0] += 1
    assert not back.equals(ds)                       # equals() does look at the arrays
    with pytest.raises(ValueError, match=".npz or .parquet"):
        ds.save(tmp_path / "d.csv")


def test_parquet_round_trip(tmp_path, law4):
    pytest.importorskip("pyarrow", reason="pyarrow is optional (Parquet export); not installed here")
    ds = teacher_dataset(law4, prefixes="samples", samples=500, rng=2)
    ds.save(tmp_path / "d.parquet")
    assert TeacherDataset.load(tmp_path / "d.parquet").equals(ds)


def test_torch_dataset(law4):
    ds = teacher_dataset(law4, prefixes="samples", samples=50, rng=0)
    tds = ds.torch_dataset()
    assert len(tds) == len(ds)
    item = tds[len(ds) - 1]
    ids, counts = ds.law(len(ds) - 1)
    assert item["input_ids"].tolist() == ds.input_ids(len(ds) - 1)
    assert item["target_ids"].tolist() == ids.tolist() and item["target_counts"].tolist() == counts.tolist()
    dense = item["target"].double()
    assert abs(float(dense.sum()) - 1) < 1e-6
    assert torch.allclose(dense[ids], torch.tensor(counts.astype(float) / counts.sum()), atol=1e-7)


# ---------------------------------------------------------------------------------------------
# the loss and the loops
# ---------------------------------------------------------------------------------------------
def test_exact_loss_at_a_perfect_model_is_the_entropy(law4):
    ds = teacher_dataset(law4, prefixes="samples", samples=400, rng=7)
    target = torch.from_numpy(ds.dense())
    logits = torch.log(target)                       # -inf off the support
    loss = float(soft_cross_entropy(logits, target))
    ent = []                                         # entropies from the integer counts, row by row
    for i in range(len(ds)):
        _, c = ds.law(i)
        tot = sum(int(x) for x in c)
        ent.append(-math.fsum(int(x) / tot * math.log(Fraction(int(x), tot)) for x in c))
    assert abs(loss - math.fsum(ent) / len(ent)) < 1e-12
    assert np.allclose(ds.entropies(), ent, atol=1e-13)
    # any other model pays more (Gibbs): the uniform logits on the same rows
    assert float(soft_cross_entropy(torch.zeros_like(target), target)) > loss + 0.5
    # the mask selects positions
    mask = torch.zeros(len(ds), dtype=torch.bool)
    mask[0] = True
    assert abs(float(soft_cross_entropy(logits, target, mask)) - ent[0]) < 1e-12


@pytest.mark.parametrize("kind", ["samples", "exact"])
def test_thirty_steps_reproducible_with_audit(dtok, law4, kind):
    answers = sample_answers(law4, 200, rng=1)
    runs = []
    for _ in range(2):
        model = tiny_gpt2(dtok, seed=4)
        runs.append(train(model, law4, [dtok.eos_token_id], answers, kind=kind, steps=30, batch_size=16,
                          seed=9, audit_every=15))
    a, b = runs
    assert len(a.losses) == 30 and a.losses == b.losses                 # bit for bit
    assert a.losses[-1] < a.losses[0]
    assert [r["step"] for r in a.audits] == [0, 15, 30]
    for r in a.audits:
        assert 0 < r["tvd"] <= 1 and 0 < r["off_support"] < 1 and r["entropy"] > 0
        assert r["kl"] == math.inf and math.isfinite(r["kl_reverse"])
    assert a.audits[-1]["tvd"] == b.audits[-1]["tvd"]
    # a different seed gives other batches
    other = train(tiny_gpt2(dtok, seed=4), law4, [dtok.eos_token_id], answers, kind=kind, steps=5, batch_size=16,
                  seed=10)
    assert other.losses != a.losses[:5]


def test_exact_kind_on_one_prefix_learns_the_law(dtok, law4):
    """The exact loss drives the first-token law towards the exact one: 64 answers give one
    root, whose soft target is the whole first-digit law (not 64 draws of it)."""
    model = tiny_gpt2(dtok, seed=0)
    answers = sample_answers(law4, 64, rng=0)
    ids, counts = law4.next_token_counts(())
    q = counts.astype(float) / counts.sum()

    def first_tvd():                                # TVD of the first-token law (the rest of the vocabulary too)
        with torch.no_grad():
            p = torch.softmax(model(torch.tensor([[dtok.eos_token_id]])).logits[0, -1].double(), -1).numpy()
        return 0.5 * (np.abs(p[ids] - q).sum() + (1 - p[ids].sum()))

    before = first_tvd()
    res = train(model, law4, [dtok.eos_token_id], answers, kind="exact", steps=150, batch_size=16, seed=0, lr=1e-2)
    after = first_tvd()
    assert before > 0.8 and after < 0.08, (before, after)
    assert res.losses[-1] < res.losses[0]


def test_train_errors(dtok, law4):
    model = tiny_gpt2(dtok, seed=0)
    ans = sample_answers(law4, 4, rng=0)
    with pytest.raises(ValueError, match="kind"):
        train(model, law4, [0], ans, kind="soft")
    with pytest.raises(ValueError, match="empty"):
        train(model, law4, [0], [])
    with pytest.raises(ValueError, match="prompt_ids"):
        train(model, law4, [], ans)
    with pytest.raises(ValueError, match="steps"):
        train(model, law4, [0], ans, steps=-1)


def test_empirical_tvd(law4):
    one = law4.encode("1009")
    assert abs(_empirical_tvd(law4, [tuple(one)]) - (1 - 1 / 1061)) < 1e-15
    every = [tuple(law4.encode(str(p))) for p in _primes(1000, 10000)]
    assert _empirical_tvd(law4, every) == 0.0


def test_hidden_seed_small():
    """3 seed bits: 8 prompts, each decoded greedily and audited exactly; the ideal map's law has 8 atoms of 1/8,
    so its TVD to the 1061 primes is 1 - 8/1061 exactly; the induced law is a probability law."""
    res = hidden_seed(4, bits=3, steps=80, batch_size=8, seed=0, model="tiny")
    again = hidden_seed(4, bits=3, steps=80, batch_size=8, seed=0, model="tiny")
    assert res["losses"] == again["losses"] and len(res["losses"]) == 80
    assert abs(res["ideal_tvd"] - (1 - 8 / 1061)) < 1e-15
    last = res["rows"][-1]
    assert last["step"] == 80 and last["audits"] == 8
    assert any(a is not None for a in res["greedy_answers"])     # some seeds already reach a prime (fixed seed)
    assert 0 < last["tvd"] <= 1 and 0 <= last["off_support"] <= 1
    assert last["greedy_tvd"] >= 1 - 8 / 1061 - 1e-12            # 8 point masses at best
    assert 0 <= last["seeds_memorised"] <= 1 and last["greedy_distinct"] <= 8
    # the batched greedy decode agrees with the exact audit at temperature 0, seed by seed
    for s, prompt in enumerate(res["prompts"]):
        g = audit(res["model"], res["law"], prompt=prompt, temperature=0)
        assert (g.mode[0] if len(g) else None) == res["greedy_answers"][s]
    assert {k: v for k, v in last.items() if k != "seconds"} == \
        {k: v for k, v in again["rows"][-1].items() if k != "seconds"}


def test_cli_train_uniform_smoke(tmp_path, capsys):
    """The experiment's command end to end on 3-digit primes (143), a few steps: the table has
    the three methods, the reference rows and the plot is written."""
    import json

    from nextdigit.cli import main

    png = tmp_path / "tu.png"
    rc = main(["experiment", "train-uniform", "--digits", "3", "--steps", "6", "--audit-every", "3", "--samples", "40",
               "--model-size", "tiny", "--seed", "2", "--json", "--plot", str(png)])
    assert rc == 0 and png.stat().st_size > 10_000
    out = json.loads(capsys.readouterr().out)
    methods = [r["method"] for r in out["rows"]]
    assert methods[1:4] == ["(a) CE on samples", "(b) CE on exact law", "(c) CE on 10x samples"]
    assert out["config"]["support"] == 143 and out["config"]["seed"] == 2
    for label, rows in out["curves"].items():
        assert [r["step"] for r in rows] == [0, 3, 6]
    # the same initialisation: every method's step-0 audit is the same model
    assert len({rows[0]["tvd"] for rows in out["curves"].values()}) == 1
    emp = next(r for r in out["rows"] if r["method"] == "empirical law of the samples")
    assert emp["answers"] == 40 and 0 < emp["tvd"] < 1
