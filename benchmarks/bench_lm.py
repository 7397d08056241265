"""Language-model layer benchmarks (issue: nextdigit.lm), skipped without the ``lm`` extra.

* ``lm next-token law, 30-digit primes``: the exact next-token law (3-digit chunks, cl100k-style)
  after random 24-digit prefixes (6 digits left): nextdigit batched
  (``next_token_counts_batch`` over 1000 prefixes, a cold cache each round) vs one
  ``digit_counts`` composition per token (the chunk law from digit laws: 1 + 10 + 100 calls per
  prefix, 100 prefixes) vs a gmpy2 ``is_prime`` loop over every number of the window
  (3 prefixes).  ``extra_info["seconds_per_prefix"]`` gives the comparable figure.
* ``lm teacher generation, 30-digit primes``: a tiny random GPT-2 writes the last 6 digits
  (2 chunk tokens + EOS) after a 24-digit answer prefix, ``generate_exact`` (teacher processor)
  vs the same ``model.generate`` call without a processor: one prefix for a batch of 64 samples
  with the window already counted (the processor's own overhead), the same with a cold law
  (the window of 10**6 30-digit numbers counted once per round), and a new random prefix per
  sample (each sample pays its window count).
* ``lm BPE trie, all 6-digit primes``: building the trie law (tokenize the 68,906 answers,
  sort, node index) vs the tokenizer's Rust batch encode alone (the floor) vs a Python dict of
  prefix counts (the obvious trie).
"""
import os
from collections import Counter

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("tokenizers")

import gmpy2  # noqa: E402

import nextdigit  # noqa: E402
from nextdigit.lm import EXACT_SAMPLING, generate_exact, token_law  # noqa: E402
from nextdigit.lm.laws import _LevelCache  # noqa: E402
from nextdigit.lm.toy import bpe_tokenizer, chunk_tokenizer, tiny_gpt2  # noqa: E402

torch.set_num_threads(1)
N_PREFIXES = 1000


def _prefixes(count, seed=2026):
    gen = np.random.default_rng(seed)
    return [str(int(gen.integers(1, 10))) + "".join(str(int(d)) for d in gen.integers(0, 10, size=23))
            for _ in range(count)]


@pytest.fixture(scope="module")
def chunk():
    tok = chunk_tokenizer()
    return tok, token_law("prime", 30, tok, threads=1)


def _composed_chunk_law(prefix: str) -> np.ndarray:
    """The 1000 counts of the next 3-digit chunk from digit laws: digit_counts at the prefix,
    at each of its 10 children and each of their 10 children (111 calls)."""
    out = np.zeros(1000, dtype=np.int64)
    for a in range(10):
        for b in range(10):
            out[a * 100 + b * 10: a * 100 + b * 10 + 10] = nextdigit.digit_counts(prefix + f"{a}{b}", 30, threads=1)
    top = nextdigit.digit_counts(prefix, 30, threads=1)
    for a in range(10):
        mid = nextdigit.digit_counts(prefix + str(a), 30, threads=1)
        assert int(mid.sum()) == int(top[a]) and int(out[a * 100:(a + 1) * 100].sum()) == int(top[a])
    return out


def _gmpy_chunk_law(prefix: str) -> np.ndarray:
    base = gmpy2.mpz(prefix) * 10**6
    out = np.zeros(1000, dtype=np.int64)
    for o in range(10**6):
        if gmpy2.is_prime(base + o):
            out[o // 1000] += 1
    return out


@pytest.mark.parametrize("contender", ["nextdigit batched (1000 prefixes)", "digit_counts composition (100 prefixes)",
                                       "gmpy2 is_prime loop (3 prefixes)"])
def test_next_token_law_30_digit_primes(benchmark, chunk, contender):
    benchmark.group = "lm next-token law, 30-digit primes, 3-digit chunks, 6 digits left"
    tok, law = chunk
    prefixes = _prefixes(N_PREFIXES)
    token_prefixes = [law.encode(p + "000000")[:8] for p in prefixes]
    table = law.table.ids[3]
    if contender.startswith("nextdigit"):
        def reset():
            law._cache = _LevelCache(len(law.lengths))
        batch = benchmark.pedantic(lambda: law.next_token_counts_batch(token_prefixes), setup=reset, rounds=2,
                                   iterations=1)
        count = N_PREFIXES
        ids, counts = batch[0]
        got = np.zeros(1000, dtype=np.int64)
        inv = {int(t): v for v, t in enumerate(table.tolist())}
        got[[inv[int(i)] for i in ids]] = counts.astype(np.int64)
        ref = _composed_chunk_law(prefixes[0])
        assert np.array_equal(got, ref)
    elif contender.startswith("digit_counts"):
        count = 100
        res = benchmark.pedantic(lambda: [_composed_chunk_law(p) for p in prefixes[:count]], rounds=1, iterations=1)
        assert len(res) == count
    else:
        count = 3
        res = benchmark.pedantic(lambda: [_gmpy_chunk_law(p) for p in prefixes[:count]], rounds=1, iterations=1)
        assert np.array_equal(res[0], _composed_chunk_law(prefixes[0]))
    benchmark.extra_info["prefixes"] = count
    benchmark.extra_info["seconds_per_prefix"] = benchmark.stats.stats.median / count


@pytest.fixture(scope="module")
def tiny(chunk):
    tok, _ = chunk
    return tiny_gpt2(tok, seed=0)


@pytest.mark.parametrize("prefixes", ["one prefix, batch of 64, warm law", "one prefix, batch of 64",
                                      "a new prefix per sample"])
@pytest.mark.parametrize("contender", ["with the teacher processor", "without a processor"])
def test_teacher_generation_30_digit_primes(benchmark, chunk, tiny, prefixes, contender):
    benchmark.group = f"lm teacher generation, 30-digit primes after a 24-digit prefix ({prefixes})"
    tok, _ = chunk
    model = tiny
    prompt = tok("A random 30-digit prime:")["input_ids"]
    heads = _prefixes(64, seed=7)
    many = prefixes.startswith("a new")
    warm = prefixes.endswith("warm law")
    samples = 16 if many else 64
    warm_law = token_law("prime", 30, tok, threads=1)
    if warm:                                                   # the window counted before timing
        warm_law.next_token_counts(warm_law.encode(heads[0] + "000000")[:8])

    def with_processor():
        # a cold law counts its windows inside the timing; a warm one only looks them up
        law = warm_law if warm else token_law("prime", 30, tok, threads=1)
        out = []
        if many:
            for h in heads[:samples]:
                out += generate_exact(model, law, prompt, answer_prefix=law.encode(h + "000000")[:8], num_samples=1,
                                      seed=1).texts
        else:
            out = generate_exact(model, law, prompt, answer_prefix=law.encode(heads[0] + "000000")[:8],
                                 num_samples=samples, seed=1, batch_size=samples).texts
        return out

    law0 = token_law("prime", 30, tok, threads=1)

    def without():
        out = []
        groups = [[h] for h in heads[:samples]] if many else [[heads[0]] * samples]
        for g in groups:
            ids = torch.tensor([prompt + law0.encode(h + "000000")[:8] for h in g])
            with torch.no_grad():
                out.append(model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=3,
                                          pad_token_id=tok.pad_token_id, **EXACT_SAMPLING))
        return out

    if contender.startswith("with the"):
        texts = benchmark.pedantic(with_processor, rounds=3, iterations=1)
        assert all(len(t) == 30 and gmpy2.is_prime(int(t)) for t in texts)
    else:
        benchmark.pedantic(without, rounds=3, iterations=1)
    benchmark.extra_info["samples"] = samples
    benchmark.extra_info["seconds_per_sample"] = benchmark.stats.stats.median / samples


@pytest.mark.parametrize("contender", ["nextdigit trie law", "tokenizer batch encode only", "python dict of prefixes"])
def test_bpe_trie_6_digit_primes(benchmark, contender):
    benchmark.group = "lm BPE trie, all 6-digit primes (68906 answers)"
    tok = bpe_tokenizer()
    primes = [str(int(p)) for p in nextdigit.primes_between(10**5, 10**6)]
    if contender == "nextdigit trie law":
        law = benchmark.pedantic(lambda: token_law("prime", 6, tok, lead=" "), rounds=3, iterations=1)
        assert law.total == 68906
    elif contender.startswith("tokenizer"):
        backend = tok.backend_tokenizer                        # the Rust batch encoder the law uses
        benchmark.pedantic(lambda: [e.ids for e in backend.encode_batch_fast([" " + p for p in primes],
                                                                             add_special_tokens=False)],
                           rounds=3, iterations=1)
    else:
        def naive():
            c = Counter()
            for ids in tok([" " + p for p in primes], add_special_tokens=False)["input_ids"]:
                ids = tuple(ids) + (tok.eos_token_id,)
                for k in range(len(ids) + 1):
                    c[ids[:k]] += 1
            return c
        c = benchmark.pedantic(naive, rounds=3, iterations=1)
        assert c[()] == 68906
