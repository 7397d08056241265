"""nextdigit.lm on real (tiny, random) transformers models and tokenizers built here.

Nothing is downloaded (HF_HUB_OFFLINE=1): the three tokenizer kinds are made with the
``tokenizers`` library in this file -- one token per digit (WordLevel), cl100k-style
(``\\p{N}{1,3}`` split + WordLevel over every 1-3 digit string), GPT-2-style (ByteLevel BPE
trained here on random digit strings) -- each wrapped as ``PreTrainedTokenizerFast``, and the
models are randomly initialised tiny ``GPT2LMHeadModel`` s (fixed seeds).

The tests skip when the ``lm`` extra is missing, except under ``NEXTDIGIT_REQUIRE_LM=1`` (CI), where
a missing extra is a failure.
"""
from __future__ import annotations

import importlib
import math
import os
import re
import string
from collections import Counter
from fractions import Fraction
from pathlib import Path

import gmpy2
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
tokenizers = _need("tokenizers")

import nextdigit  # noqa: E402
from nextdigit.analysis.uniformity import uniformity_test  # noqa: E402
from nextdigit.lm import (EXACT_SAMPLING, MaskLogitsProcessor, NumberTokenization, NumpyLogitsProcessor,  # noqa: E402
                          TeacherLogitsProcessor, VLLMLogitsProcessor, check_generation_config, detect_tokenization,
                          generate_exact, teacher_tvd_bound, token_law)
from _stats import chi2_pvalue  # noqa: E402

torch.set_num_threads(1)
KINDS = ("digit", "chunk", "bpe")
TEXT = [ch for ch in string.printable if ch not in string.digits and ch not in "\r\x0b\x0c"]
PROMPT = "A random prime:"


# ---------------------------------------------------------------------------------------------
# tokenizers and models, built here
# ---------------------------------------------------------------------------------------------
def _wrap(tok, eos):
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token=eos, pad_token=eos,
                                   unk_token="<unk>" if eos == "<eos>" else None)


def _wordlevel(words, pattern):
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers

    vocab = {w: i for i, w in enumerate(["<eos>", "<unk>"] + list(words))}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Split(Regex(pattern), behavior="isolated")
    tok.decoder = decoders.Fuse()
    return _wrap(tok, "<eos>")


def make_tokenizer(kind):
    if kind == "digit":
        return _wordlevel(list(string.digits) + TEXT, r"[\s\S]")
    if kind == "chunk":
        words = [str(v).zfill(ln) for ln in (1, 2, 3) for v in range(10**ln)]
        return _wordlevel(words + TEXT, r"\p{N}{1,3}|[^\p{N}]")
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    gen = np.random.default_rng(11)
    data = []
    for _ in range(3000):
        s = "".join(str(int(d)) for d in gen.integers(0, 10, size=int(gen.integers(1, 9))))
        data.append((" " if gen.random() < 0.5 else "") + s)
    data += [PROMPT, "Answer:"] * 10
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(data, trainers.BpeTrainer(vocab_size=380, special_tokens=["<|endoftext|>"],
                                                      initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                                      show_progress=False))
    return _wrap(tok, "<|endoftext|>")


def make_model(tok, seed=0, width=32, n_positions=64):
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(seed)
    cfg = GPT2Config(vocab_size=len(tok), n_positions=n_positions, n_embd=width, n_layer=2, n_head=2,
                     bos_token_id=tok.eos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
    model = GPT2LMHeadModel(cfg).eval()
    model.generation_config.pad_token_id = tok.pad_token_id
    model.generation_config.eos_token_id = tok.eos_token_id
    return model


@pytest.fixture(scope="module")
def toks():
    return {k: make_tokenizer(k) for k in KINDS}


@pytest.fixture(scope="module")
def models(toks):
    return {k: make_model(toks[k], seed=i) for i, k in enumerate(KINDS)}


@pytest.fixture(scope="module")
def laws(toks):
    lead = {"digit": "", "chunk": "", "bpe": " "}          # GPT-2 numbers often follow a space
    return {(k, n): token_law("prime", n, toks[k], lead=lead[k]) for k in KINDS for n in (3, 4)}


def primes_of(n):
    return [str(int(p)) for p in nextdigit.primes_between(10 ** (n - 1), 10**n)]


# ---------------------------------------------------------------------------------------------
# tree walks: the exact law a model's processed scores induce over answers
# ---------------------------------------------------------------------------------------------
def tree_walk(model, prompt_ids, law, proc, batch=512):
    """{answer text: probability} from walking the token tree with the processed scores
    (softmax in float32, as transformers samples), plus the largest mass found on a token the
    law does not allow."""
    level = [((), 1.0)]
    out, stray = {}, 0.0
    while level:
        answers = [a for a, _ in level]
        laws_ = law.next_token_counts_batch(answers)
        nxt = []
        for s in range(0, len(level), batch):
            part = level[s:s + batch]
            inp = torch.tensor([list(prompt_ids) + list(a) for a, _ in part])
            with torch.no_grad():
                logits = model(inp).logits[:, -1, :].to(torch.float32)
            probs = torch.softmax(proc.process([a for a, _ in part], logits), dim=-1).numpy()
            for r, (a, w) in enumerate(part):
                ids, _ = laws_[s + r]
                if laws_.complete[s + r]:
                    out[law.answer_text(a)] = out.get(law.answer_text(a), 0.0) + w
                    continue
                allowed = np.zeros(probs.shape[1], dtype=bool)
                allowed[ids] = True
                stray = max(stray, float(probs[r][~allowed].sum()))
                for t in ids:
                    p = float(probs[r, t])
                    if p > 0:
                        nxt.append((a + (int(t),), w * p))
        level = nxt
    return out, stray


def prompt_ids(tok):
    return tok(PROMPT)["input_ids"]


# ---------------------------------------------------------------------------------------------
# tokenizations
# ---------------------------------------------------------------------------------------------
def test_detection_finds_each_kind(toks):
    assert detect_tokenization(toks["digit"]) == NumberTokenization.digits()
    assert detect_tokenization(toks["chunk"]) == NumberTokenization.chunks(3, "left")
    assert detect_tokenization(toks["bpe"]) == NumberTokenization.bpe()
    assert detect_tokenization(toks["bpe"], lead=" ") == NumberTokenization.bpe()
    assert detect_tokenization(toks["chunk"], lead=" ", stop="\n") == NumberTokenization.chunks(3)
    # the raw tokenizers.Tokenizer and plain callables are accepted too
    assert detect_tokenization(toks["chunk"].backend_tokenizer) == NumberTokenization.chunks(3)
    enc = lambda s: toks["digit"].encode(s, add_special_tokens=False)   # noqa: E731
    assert detect_tokenization((enc, toks["digit"].decode)) == NumberTokenization.digits()


def test_detection_checks_the_claims_against_the_tokenizer(toks):
    # chunks: 1234567 really is 123|456|7 and the law encodes answers the tokenizer's way
    law = token_law("prime", 7, toks["chunk"], eos=False)
    assert toks["chunk"].convert_ids_to_tokens(law.encode("1234567")) == ["123", "456", "7"]
    gen = np.random.default_rng(3)
    for _ in range(200):
        s = str(int(gen.integers(10**6, 10**7)))
        assert law.encode(s) == toks["chunk"].encode(s, add_special_tokens=False)
    # a right-to-left chunker is told apart from a left-to-right one
    assert detect_tokenization((_rtl, None)) == NumberTokenization.chunks(3, "right")


def _rtl(s):
    digits = "".join(ch for ch in s if ch.isdigit())
    head = len(digits) % 3
    parts = ([digits[:head]] if head else []) + [digits[i:i + 3] for i in range(head, len(digits), 3)]
    return [int(p) + {3: 0, 2: 1000, 1: 1100}[len(p)] for p in parts]     # one id per chunk string


def test_a_wrong_override_is_refused_and_bpe_always_works(toks):
    with pytest.raises(ValueError, match="does not match"):
        token_law("prime", 4, toks["chunk"], tokenization=NumberTokenization.chunks(2))
    with pytest.raises(ValueError, match="does not match"):
        token_law("prime", 4, toks["bpe"], tokenization=NumberTokenization.digits())
    exact = token_law("prime", 4, toks["chunk"])
    trie = token_law("prime", 4, toks["chunk"], tokenization=NumberTokenization.bpe())
    for prefixes, batch in exact.walk():
        assert all(np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
                   for a, b in zip(batch, trie.next_token_counts_batch(prefixes)))


def test_toy_builders_have_the_three_kinds():
    from nextdigit.lm import toy

    assert detect_tokenization(toy.digit_tokenizer()) == NumberTokenization.digits()
    assert detect_tokenization(toy.chunk_tokenizer(3)) == NumberTokenization.chunks(3)
    assert detect_tokenization(toy.bpe_tokenizer()).kind == "bpe"
    m = toy.tiny_gpt2(toy.chunk_tokenizer())
    assert m.config.n_embd == 32 and m.config.vocab_size == len(toy.chunk_tokenizer())


# ---------------------------------------------------------------------------------------------
# the laws
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("n", (3, 4))
def test_law_support_is_the_primes_with_exact_fractions(laws, kind, n):
    law = laws[(kind, n)]
    sup = law.support()
    ps = primes_of(n)
    assert sorted(law.answer_text(t) for t in sup) == ps
    assert set(sup.values()) == {Fraction(1, len(ps))}
    assert law.total == len(ps)
    for p in ps[:: max(1, len(ps) // 40)]:
        assert law.log_prob(law.encode(p))[1] == Fraction(1, len(ps))
    assert law.prob(law.encode(ps[0])[:-1] + [law.encode(ps[1])[-1] + 1]) == 0


def test_counts_are_consistent_and_batched_equals_single(laws):
    for key, law in laws.items():
        for prefixes, batch in law.walk():
            for p, (ids, counts), done in zip(prefixes, batch, batch.complete):
                assert int(counts.sum()) == (0 if done else law.count(p))
                assert np.all(np.diff(ids) > 0) and np.all(counts > 0)
                one = law.next_token_counts(p)
                assert np.array_equal(one[0], ids) and np.array_equal(one[1], counts)


def test_number_task_and_lifted_models(toks):
    from nextdigit.tasks.primes import ExactPrimeModel
    from nextdigit.tasks.uniform_number import UniformNumberModel

    for kind in KINDS:
        law = token_law("number", 3, toks[kind])
        assert law.total == 900 and set(law.support().values()) == {Fraction(1, 900)}
        assert token_law(UniformNumberModel(3), None, toks[kind]).total == 900
    direct = token_law("prime", 4, toks["chunk"])
    assert token_law(ExactPrimeModel(4), None, toks["chunk"]).total == direct.total

    class Wrapped:                                   # any character-level model with counts
        def __init__(self):
            self.inner = ExactPrimeModel(4)
            self.vocab, self.digits, self.name = self.inner.vocab, 4, "wrapped"

        def next_token_counts(self, prompt, output):
            return [3 * c for c in self.inner.next_token_counts(prompt, output)]   # scaled: proportional only

    for kind in ("chunk", "bpe"):
        lifted = token_law(Wrapped(), None, toks[kind])
        assert not lifted.exact_counts
        ref = token_law("prime", 4, toks[kind])
        for prefixes, batch in ref.walk():
            for p, (ids, counts) in zip(prefixes, batch):
                lids, lcounts = lifted.next_token_counts(p)
                assert np.array_equal(lids, ids)
                if len(ids):
                    assert [Fraction(int(c), int(lcounts.sum())) for c in lcounts] == \
                           [Fraction(int(c), int(counts.sum())) for c in counts]


def test_thirty_digit_primes_chunk_law_equals_gmpy2_over_every_block(toks):
    law = token_law("prime", 30, toks["chunk"], threads=1)
    gen = np.random.default_rng(2026)
    table = law.table.ids[3]
    for _ in range(2):
        prefix = str(int(gen.integers(1, 10))) + "".join(str(int(d)) for d in gen.integers(0, 10, size=23))
        base = gmpy2.mpz(prefix) * 10**6
        flags = np.array([bool(gmpy2.is_prime(base + o)) for o in range(10**6)])   # every sub-block
        blocks = flags.reshape(1000, 1000)
        want = blocks.sum(axis=1)
        ids, counts = law.next_token_counts(law.encode(prefix + "000000")[:8])
        got = np.zeros(1000, dtype=np.int64)
        got[[int(np.flatnonzero(table == i)[0]) for i in ids]] = counts.astype(np.int64)
        assert np.array_equal(got, want)
        for chunk in gen.choice(np.flatnonzero(want), size=3, replace=False):
            ids2, counts2 = law.next_token_counts(law.encode(prefix + "000000")[:8] + [int(table[chunk])])
            got2 = np.zeros(1000, dtype=np.int64)
            got2[[int(np.flatnonzero(table == i)[0]) for i in ids2]] = counts2.astype(np.int64)
            assert np.array_equal(got2, blocks[chunk].astype(np.int64))
            last = int(np.flatnonzero(blocks[chunk])[0])
            eos = law.next_token_counts(law.encode(prefix + f"{chunk:03d}{last:03d}")[:-1])
            assert eos[0].tolist() == [law.eos_id] and eos[1].tolist() == [1]


def test_19_digits_below_and_20_digits_across_2_to_the_64(toks):
    """n = 19 is the last length below 2**64 (every prefix exact); 20-digit numbers straddle 2**64
    (windows above it are exact when few digits remain)."""
    gen = np.random.default_rng(19)
    for n, lead in ((19, ""), (20, "9")):
        law = token_law("prime", n, toks["chunk"], threads=1)
        k = 3 * ((n - 1) // 3)                                  # every full chunk but the last one
        head = (lead or str(int(gen.integers(1, 10)))) + "".join(str(int(d)) for d in gen.integers(0, 10, size=k - 1))
        prefix = law.encode(head + "0" * (n - k))[: k // 3]
        ids, counts = law.next_token_counts(prefix)
        rest = n - k
        base = int(head) * 10**rest
        want = {f"{o:0{rest}d}": 1 for o in range(10**rest) if gmpy2.is_prime(base + o)}
        got = {toks["chunk"].convert_ids_to_tokens(int(t)): int(c) for t, c in zip(ids, counts)}
        assert got == want and (n == 19 or base > 2**64)


def test_bpe_law_equals_counts_from_tokenizing_every_prime(toks):
    tok = toks["bpe"]
    law = token_law("prime", 5, tok, lead=" ")
    prefixes = Counter()
    for p in primes_of(5):                                       # one encode call per prime
        ids = tok.encode(" " + p, add_special_tokens=False) + [tok.eos_token_id]
        for k in range(len(ids) + 1):
            prefixes[tuple(ids[:k])] += 1
    children: dict = {}
    for q, c in prefixes.items():
        if q:
            children.setdefault(q[:-1], {})[q[-1]] = c
    nodes = 0
    for level, batch in law.walk():
        for p, (ids, counts) in zip(level, batch):
            nodes += 1
            assert law.count(p) == prefixes[p]
            assert {int(t): int(c) for t, c in zip(ids, counts)} == children.get(p, {})
    assert nodes == len(prefixes)


# ---------------------------------------------------------------------------------------------
# teacher mode
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("n", (3, 4))
def test_teacher_tree_walk_is_uniform_within_the_float_bound(toks, models, laws, kind, n):
    law = laws[(kind, n)]
    proc = TeacherLogitsProcessor(law, prompt_length=len(prompt_ids(toks[kind])))
    induced, stray = tree_walk(models[kind], prompt_ids(toks[kind]), law, proc)
    ps = primes_of(n)
    assert sorted(induced) == ps
    assert stray == 0.0                              # non-canonical tokens: exactly zero mass
    tvd = 0.5 * sum(abs(induced[p] - 1 / len(ps)) for p in ps)
    bound = teacher_tvd_bound(law)
    assert bound < 1e-4
    assert tvd <= bound, (tvd, bound)


def test_the_bound_holds_in_its_closed_form_and_is_not_vacuous(laws):
    law = laws[("chunk", 4)]
    walked = teacher_tvd_bound(law)
    closed = teacher_tvd_bound(steps=law.max_length, log_ratio=math.log(law.total), children=law.max_children)
    assert 0 < walked <= closed < 1e-3


@pytest.mark.parametrize("kind", KINDS)
def test_teacher_samples_from_generate_are_uniform(toks, models, laws, kind):
    law = laws[(kind, 3)]
    res = generate_exact(models[kind], law, prompt=PROMPT, tokenizer=toks[kind], num_samples=4000, seed=1,
                         batch_size=2000)
    assert len(res) == 4000
    r = uniformity_test(res.texts, primes_of(3))
    assert r.p_value > 1e-6, r
    for ids, text in zip(res.token_ids[:50], res.texts):
        assert ids == law.encode(text)               # canonical tokens, end included


@pytest.mark.parametrize("kind", KINDS)
def test_teacher_samples_from_the_numpy_path_are_uniform(toks, models, laws, kind):
    """llama-cpp-python's signature: 1-D int32 context and 1-D float32 logits in, scores out,
    then a sampler of our own (a 1-D loop for a few answers, a 2-D batch for the chi-square)."""
    law = laws[(kind, 3)]
    model, tok = models[kind], toks[kind]
    pids = prompt_ids(tok)
    gen = np.random.default_rng(7)

    def sample(scores):
        p = np.exp(scores.astype(np.float64) - scores.max(axis=-1, keepdims=True))
        p /= p.sum(axis=-1, keepdims=True)
        return [int(gen.choice(p.shape[-1], p=row)) for row in np.atleast_2d(p)]

    proc = NumpyLogitsProcessor(law, "teacher")      # one processor, reused across generations
    for _ in range(20):
        ctx = list(pids)
        while not ctx[len(pids):] or ctx[-1] != tok.eos_token_id:
            with torch.no_grad():
                logits = model(torch.tensor([ctx])).logits[0, -1].numpy().astype(np.single)
            scores = proc(np.array(ctx, dtype=np.intc), logits)
            assert scores.dtype == np.single and scores.shape == logits.shape
            ctx += sample(scores)
        assert gmpy2.is_prime(int(law.answer_text(ctx[len(pids):])))
    batch = NumpyLogitsProcessor(law, "teacher", prompt_length=len(pids))
    rows = [list(pids) for _ in range(4000)]
    live = list(range(len(rows)))
    while live:
        ctx = np.array([rows[i] for i in live], dtype=np.intc)
        with torch.no_grad():
            logits = model(torch.tensor(ctx, dtype=torch.long)).logits[:, -1].numpy()
        for i, t in zip(live, sample(batch(ctx, logits))):
            rows[i].append(t)
        live = [i for i in live if rows[i][-1] != tok.eos_token_id]
    out = [law.answer_text(r[len(pids):]) for r in rows]
    r = uniformity_test(out, primes_of(3))
    assert r.p_value > 1e-6, r


def test_the_top_k_pitfall_with_the_chunk_tokenizer(toks, models):
    tok, model = toks["chunk"], models["chunk"]
    law = token_law("prime", 4, tok)                 # first chunk: 689 tokens, counts 1..4
    ids, counts = law.next_token_counts([])
    c50 = int(np.sort(counts)[-50])                  # top_k=50 keeps the tokens scoring >= the 50th best
    inputs = tok([PROMPT] * 3000, return_tensors="pt")
    torch.manual_seed(0)
    naive = model.generate(**inputs, logits_processor=[TeacherLogitsProcessor(law)], do_sample=True,
                           max_new_tokens=law.max_length)
    first = set(naive[:, inputs["input_ids"].shape[1]].tolist())
    kept = {int(t) for t, c in zip(ids, counts) if c >= c50}
    assert first <= kept < set(ids.tolist())         # transformers' default top_k=50 truncated the law
    texts = [t for t in tok.batch_decode(naive[:, inputs["input_ids"].shape[1]:], skip_special_tokens=True)]
    assert uniformity_test(texts, primes_of(4)).p_value < 1e-6
    with pytest.raises(ValueError, match="top_k=50"):
        check_generation_config(model, law, do_sample=True)
    with pytest.warns(UserWarning, match="top_k=50"):
        check_generation_config(model, law, strict=False, do_sample=True)
    assert check_generation_config(model, law, **EXACT_SAMPLING) == []
    assert check_generation_config(model, token_law("prime", 4, toks["digit"]), do_sample=True) == []  # 10 < 50
    model.generation_config.temperature = 0.7       # a model config that reshapes the law
    model.generation_config.top_p = 0.9
    try:
        with pytest.raises(ValueError, match="temperature=0.7.*top_p=0.9"):
            check_generation_config(model, law, do_sample=True, top_k=0)
        res = generate_exact(model, law, prompt=PROMPT, tokenizer=tok, num_samples=6000, seed=3, batch_size=3000)
    finally:
        model.generation_config.temperature = None
        model.generation_config.top_p = None
    assert uniformity_test(res.texts, primes_of(4)).p_value > 1e-6
    # the point-mass path is exact under the default warpers (top_k=50 keeps the drawn token)
    inputs = tok([PROMPT] * 6000, return_tensors="pt")
    proc = TeacherLogitsProcessor(law, draw=True, rng=5)
    torch.manual_seed(1)
    drawn = model.generate(**inputs, logits_processor=[proc], do_sample=True, max_new_tokens=law.max_length)
    texts = tok.batch_decode(drawn[:, inputs["input_ids"].shape[1]:], skip_special_tokens=True)
    assert uniformity_test(texts, primes_of(4)).p_value > 1e-6


def test_teacher_generates_thirty_digit_primes_after_a_given_prefix(toks, models):
    tok, model = toks["chunk"], models["chunk"]
    law = token_law("prime", 30, tok, threads=1)
    head = "123456789012345678901234"
    prefix = law.encode(head + "000000")[:8]
    res = generate_exact(model, law, prompt=PROMPT, tokenizer=tok, answer_prefix=prefix, num_samples=20, seed=2)
    assert all(len(t) == 30 and t.startswith(head) and gmpy2.is_prime(int(t)) for t in res.texts)
    with pytest.raises(ValueError, match="DensityPrimeModel"):
        generate_exact(model, law, prompt=PROMPT, tokenizer=tok, num_samples=1)


def test_vllm_per_request_processor(toks, models, laws):
    law, model, tok = laws[("bpe", 3)], models["bpe"], toks["bpe"]
    proc = VLLMLogitsProcessor(law, "teacher")
    pids = prompt_ids(tok)
    gen = torch.Generator().manual_seed(4)
    ref = TeacherLogitsProcessor(law, prompt_length=len(pids))
    for _ in range(30):
        out = []
        while True:
            with torch.no_grad():
                logits = model(torch.tensor([pids + out])).logits[0, -1]
            row = proc(pids, out, logits)
            assert torch.equal(row, ref.process([tuple(out)], logits[None, :])[0])
            assert torch.equal(proc(out, logits), row)
            t = int(torch.multinomial(torch.softmax(row, -1), 1, generator=gen))
            out.append(t)
            if t == tok.eos_token_id:
                break
        assert gmpy2.is_prime(int(law.answer_text(out))) and len(law.answer_text(out)) == 3


# ---------------------------------------------------------------------------------------------
# mask mode
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
def test_mask_mode_outputs_are_primes_and_follow_the_walked_law(toks, models, laws, kind):
    law, model, tok = laws[(kind, 3)], models[kind], toks[kind]
    pids = prompt_ids(tok)
    induced, stray = tree_walk(model, pids, law, MaskLogitsProcessor(law, prompt_length=len(pids)))
    assert stray == 0.0 and abs(sum(induced.values()) - 1) < 1e-5
    assert set(induced) == set(primes_of(3))
    res = generate_exact(model, law, prompt=PROMPT, tokenizer=tok, num_samples=4000, mode="mask", seed=5,
                         batch_size=2000)
    assert all(gmpy2.is_prime(int(t)) and len(t) == 3 for t in res.texts)
    assert chi2_pvalue(res.texts, induced) > 1e-6
    # the mask keeps every answer valid, not the law uniform (the random model is nearly flat per token)
    assert 0.5 * sum(abs(v - 1 / 143) for v in induced.values()) > 0.01
    # plain generate with the processor: every output valid as well
    inputs = tok([PROMPT] * 200, return_tensors="pt")
    out = model.generate(**inputs, logits_processor=[MaskLogitsProcessor(law)], do_sample=True,
                         max_new_tokens=law.max_length)
    for text in tok.batch_decode(out[:, inputs["input_ids"].shape[1]:], skip_special_tokens=True):
        assert gmpy2.is_prime(int(text)) and len(text.strip()) == 3


# ---------------------------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------------------------
def test_bad_input_is_refused_clearly(toks, models, laws):
    from tokenizers import Tokenizer, models as tm, pre_tokenizers

    letters = Tokenizer(tm.WordLevel({"<unk>": 0, "a": 1, "<eos>": 2}, unk_token="<unk>"))
    letters.pre_tokenizer = pre_tokenizers.Split(tokenizers.Regex(r"[\s\S]"), behavior="isolated")
    no_digits = transformers.PreTrainedTokenizerFast(tokenizer_object=letters, unk_token="<unk>", eos_token="<eos>")
    with pytest.raises(ValueError, match="cannot write digits"):
        token_law("prime", 3, no_digits)
    with pytest.raises(ValueError, match="cannot write digits"):
        detect_tokenization((lambda s: [0], None))
    law25 = token_law("prime", 25, toks["chunk"])
    with pytest.raises(ValueError, match="DensityPrimeModel"):
        law25.next_token_counts([])
    with pytest.raises(ValueError, match="max_support"):
        token_law("prime", 8, toks["bpe"])           # ~5e6 answers: refused up front, not tokenized
    with pytest.raises(ValueError, match="max_support"):
        token_law("number", 7, toks["bpe"])
    law = laws[("chunk", 3)]
    long_prompt = list(range(100, 163))              # 63 tokens: no room for 2 answer tokens in 64
    with pytest.raises(ValueError, match="context"):
        generate_exact(models["chunk"], law, long_prompt)
    small = make_model(toks["digit"])                # a vocabulary of 99 tokens under a 1199-token law
    with pytest.raises(ValueError, match="vocabulary"):
        generate_exact(small, law, prompt_ids(toks["chunk"]))
    with pytest.raises(ValueError, match="columns"):
        TeacherLogitsProcessor(law, prompt_length=0).process([()], torch.zeros(1, 50))
    with pytest.raises(ValueError, match="not a prefix"):
        TeacherLogitsProcessor(law, prompt_length=0).process([(5,)], torch.zeros(1, 1199))
    for bad in ("3", 3.0, True, None):
        with pytest.raises(TypeError):
            token_law("prime", bad, toks["chunk"])
    with pytest.raises(ValueError):
        token_law("prime", 0, toks["chunk"])
    with pytest.raises(TypeError, match="tokenizer"):
        token_law("prime", 3, None)
    with pytest.raises(TypeError, match="tokenizer"):
        token_law("prime", 3, 42)
    with pytest.raises(ValueError, match="task"):
        token_law("semiprime", 3, toks["chunk"])
    for bad in (0, -1, 10**6):                       # before any counting, naming the argument
        with pytest.raises(ValueError, match="threads"):
            token_law("prime", 12, toks["chunk"], threads=bad)
    with pytest.raises(TypeError, match="threads"):
        token_law("prime", 12, toks["chunk"], threads=1.5)
    for bad in (-1, 2**64):
        with pytest.raises(ValueError, match="seed"):
            generate_exact(models["chunk"], law, prompt_ids(toks["chunk"]), seed=bad)
    with pytest.raises(TypeError, match="seed"):
        generate_exact(models["chunk"], law, prompt_ids(toks["chunk"]), seed="0")
    with pytest.raises(ValueError, match="mode"):
        NumpyLogitsProcessor(law, "greedy")
    with pytest.raises(TypeError, match="law"):
        TeacherLogitsProcessor("prime")
    with pytest.raises(TypeError, match="prefix"):
        law.next_token_counts("123")
    with pytest.raises(ValueError, match="digits"):
        token_law("prime", 3, toks["chunk"], lead="7")
    from nextdigit.lm.laws import TrieTokenLaw
    from nextdigit.lm.tokenization import AnswerFormat, as_codec

    codec = as_codec((lambda s: [ord(c) for c in s], None))
    with pytest.raises(ValueError, match="prefix of the other"):       # "12" then "123": where does it end?
        TrieTokenLaw(["12", "123"], None, codec, AnswerFormat(eos=False), NumberTokenization.bpe(), 3, "x")
    with pytest.raises(ValueError, match="same tokens"):
        TrieTokenLaw(["12", "12"], None, codec, AnswerFormat(eos=False), NumberTokenization.bpe(), 2, "x")


# ---------------------------------------------------------------------------------------------
# documentation
# ---------------------------------------------------------------------------------------------
def test_the_readme_example_runs():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    blocks = [b for b in re.findall(r"```python\n(.*?)```", readme, re.S) if "nextdigit.lm" in b]
    assert blocks, "the README has no nextdigit.lm example"
    for b in blocks:
        ns: dict = {}
        exec(compile(b, "README.md", "exec"), ns)
        if "answers" in ns:                  # the generation example
            assert all(gmpy2.is_prime(int(t)) for t in ns["answers"].texts)
        if "r" in ns:                        # the audit example
            assert abs(ns["r"].valid_mass + ns["r"].off_support - 1) < 1e-12 and len(ns["m"]) > 0
            assert ns["d"].teacher.tvd <= ns["d"].teacher_bound


def test_the_transformers_docstring_examples_run():
    import doctest

    import nextdigit.lm.processors as mod

    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    ran = 0
    for t in finder.find(mod):
        for ex in t.examples:
            ex.options.pop(doctest.SKIP, None)
            ran += 1
        runner.run(t)
    res = runner.summarize(verbose=False)
    assert res.failed == 0 and ran >= 15
