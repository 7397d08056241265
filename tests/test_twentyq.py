"""Twenty Questions over SHA-256: every path against hashlib and plain brute force.

References used here and nowhere in nextdigit.tasks.twentyq: ``hashlib.sha256`` per object, bit i
read as character i of ``format(int.from_bytes(digest, 'big'), '0256b')``, consistent objects
found by a plain loop, laws as Counters of answer strings.
"""
from __future__ import annotations

import hashlib
from collections import Counter
from fractions import Fraction
from functools import lru_cache

import numpy as np
import pytest

from nextdigit.analysis.costs import twentyq_cost_table
from nextdigit.tasks import twentyq as T
from nextdigit.analysis import exact_distribution, exact_distribution_hidden_seed, tvd
from nextdigit.models import END, ModelError, generate, log_prob
from nextdigit.models import generate_with_seed


def ref_bits(x: int) -> str:
    """The 256-character binary string of SHA-256(x as 8 little-endian bytes)."""
    d = hashlib.sha256(x.to_bytes(8, "little")).digest()
    return format(int.from_bytes(d, "big"), "0256b")


def ref_words(x: int) -> list[int]:
    d = hashlib.sha256(x.to_bytes(8, "little")).digest()
    return [int.from_bytes(d[4 * i:4 * i + 4], "big") for i in range(8)]


@lru_cache(maxsize=None)
def ref_table(m: int) -> tuple[str, ...]:
    return tuple(ref_bits(x) for x in range(1 << m))


def ref_answers(m: int, qs) -> list[str]:
    return ["".join(b[q] for q in qs) for b in ref_table(m)]


def ref_law(m: int, qs) -> dict:
    c = Counter(ref_answers(m, qs))
    return {s: Fraction(v, 1 << m) for s, v in c.items()}


def ref_counts(m: int, qs, output: str) -> tuple[int, int]:
    """(#consistent objects with next bit 0, ... 1) by a plain loop."""
    zeros = ones = 0
    nxt = qs[len(output)]
    for b in ref_table(m):
        if all(b[q] == a for q, a in zip(qs, output)):
            if b[nxt] == "1":
                ones += 1
            else:
                zeros += 1
    return zeros, ones


SPECIAL = [0, 1, 2, 7, 8, 255, 256, 65535, 65536, 2**31, 2**32 - 1, 2**32, 2**32 + 1, 2**40 + 12345,
           2**63, 2**64 - 2, 2**64 - 1]


# ---------------------------------------------------------------------------------------------
# SHA-256 paths
# ---------------------------------------------------------------------------------------------
def test_numpy_sha256_equals_hashlib_all_words_and_bits():
    rng = np.random.default_rng(1)
    xs = list(range(2000)) + SPECIAL + [int(v) for v in rng.integers(0, 2**63, size=500, dtype=np.uint64)]
    xs += [int(v) + 2**63 for v in rng.integers(0, 2**63, size=500, dtype=np.uint64)]
    w = T.sha256_words(np.array(xs, dtype=np.uint64))
    assert w.dtype == np.uint32 and w.shape == (len(xs), 8)
    assert w.tolist() == [ref_words(x) for x in xs]
    bits = T.digest_bits(w, range(256))
    assert ["".join(map(str, row)) for row in bits.tolist()] == [ref_bits(x) for x in xs]
    # python ints (object arrays) and plain lists work too
    assert T.sha256_words([2**64 - 1, 5]).tolist() == [ref_words(2**64 - 1), ref_words(5)]


@pytest.mark.parametrize("threads", [1, 2])
def test_kernel_sha256_range_equals_hashlib(threads):
    n = 4096 * 2 + 13                      # several kernel blocks and a ragged lane tail
    w = T.sha256_range(0, n, threads=threads)
    idx = list(range(300)) + list(range(4090, 4110)) + list(range(n - 20, n))
    assert w[idx].tolist() == [ref_words(x) for x in idx]
    assert (w == T.sha256_words(np.arange(n, dtype=np.uint64))).all()
    for start, count in [(2**32 - 5, 11), (2**64 - 9, 9), (123456789, 3), (7, 0)]:
        got = T.sha256_range(start, count, threads=threads)
        assert got.shape == (count, 8)
        assert got.tolist() == [ref_words(start + i) for i in range(count)]


def test_object_answers_and_answer_counts_match_hashlib():
    qs = (0, 255, 31, 32, 128, 7, 7)
    prompt = T.format_prompt(qs)
    assert prompt == "0,255,31,32,128,7,7"
    for x in SPECIAL:
        assert T.object_answers(x, prompt) == "".join(ref_bits(x)[q] for q in qs)
    for m in (1, 5, 11):
        assert T.answer_counts(m, prompt) == dict(Counter(ref_answers(m, qs)))
    # more than 64 questions: several packed columns, still the plain law
    many = tuple(range(0, 256, 3))
    assert T.answer_counts(6, T.format_prompt(many)) == dict(Counter(ref_answers(6, many)))
    assert T.answer_counts(3, "") == {"": 8}


# ---------------------------------------------------------------------------------------------
# the autoregressive answerer against brute force
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("m", [1, 3, 6, 9, 11])
def test_next_token_counts_equal_brute_force(m):
    rng = np.random.default_rng(100 + m)
    models = [T.TwentyQuestionsARModel(m, backend=b) for b in ("kernel", "table")]
    if m <= 9:
        models.append(T.TwentyQuestionsARModel(m, backend="numpy"))
    for trial in range(12):
        k = int(rng.integers(1, 25))
        qs = [int(q) for q in rng.integers(0, 256, size=k)]
        if trial % 3 == 0 and k > 2:
            qs[-1] = qs[0]                  # a repeated question
        prompt = T.format_prompt(qs)
        x = int(rng.integers(0, 1 << m))
        own = "".join(ref_bits(x)[q] for q in qs)
        j = int(rng.integers(0, k))
        outputs = [own[:j], "".join(rng.choice(["0", "1"], size=j))]
        for out in outputs:
            z, o = ref_counts(m, qs, out)
            for model in models:
                if z + o == 0:
                    with pytest.raises(ModelError, match="no object"):
                        model.next_token_counts(prompt, out)
                    assert model.consistent_count(prompt, out) == 0
                else:
                    assert model.next_token_counts(prompt, out) == [z, o, 0, 0, 0, 0], (model, prompt, out)
                    assert model.consistent_count(prompt, out) == z + o
        for model in models:                # after the last answer: the end token, no hashing
            assert model.next_token_counts(prompt, own) == [0, 0, 0, 0, 0, 1]


def test_repeated_question_is_answered_consistently():
    m = T.TwentyQuestionsARModel(8)
    prompt = "42,42,9,42"
    c = m.next_token_counts(prompt, "1")
    assert (c[0] == 0) != (c[1] == 0)       # the repeat is forced: one option only
    assert c[1] == sum(1 for b in ref_table(8) if b[42] == "1")
    with pytest.raises(ModelError):
        m.next_token_counts(prompt, "10")   # forced contradiction: no object
    assert m.consistent_count(prompt, "10") == 0
    for seed in range(0, 256, 17):
        text = generate(m, prompt, seed)
        assert text[0] == text[1] == text[3]
        text, s = generate_with_seed(T.TwentyQuestionsHiddenSeedModel(8), prompt, seed)
        assert text[0] == text[1] == text[3] == ref_bits(s)[42]


def test_ar_model_is_stateless():
    m = T.TwentyQuestionsARModel(9, backend="table")
    a = m.next_token_counts("1,2,3", "01")
    m.next_token_counts("200,100", "1")
    m.next_token_counts("1,2,3", "1")
    assert m.next_token_counts("1,2,3", "01") == a == T.TwentyQuestionsARModel(9).next_token_counts("1,2,3", "01")


# ---------------------------------------------------------------------------------------------
# exact laws: AR == hidden seed == hashlib table
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("m, prompt, backends", [
    (1, "0,1,2", ("kernel", "numpy", "table")),
    (4, "5,5,200,17,3,99", ("kernel", "numpy", "table")),
    (7, "255,0,128,64,32,16,8,4,2,1,0", ("kernel", "table")),
    (8, "", ("kernel", "table")),
    (10, T.random_questions(20, 7), ("table",)),
    (10, "3,3,3,250,11,11,90,14,77,200,31,32,33,34,35,36,37,38,39,40,41,42", ("table",)),
])
def test_exact_laws_agree(m, prompt, backends):
    qs = T.parse_prompt(prompt)
    want = ref_law(m, qs)
    hidden = exact_distribution_hidden_seed(T.TwentyQuestionsHiddenSeedModel(m), prompt)
    assert hidden == want
    assert T.answer_law(m, prompt) == want
    for b in backends:
        law = exact_distribution(T.TwentyQuestionsARModel(m, backend=b), prompt)
        assert law == want, b
        assert tvd(law, hidden) == 0 and isinstance(tvd(law, hidden), Fraction)
    assert sum(want.values()) == 1


def test_log_prob_is_the_exact_count_ratio():
    m, prompt = 9, "10,20,30,40,50,60,70,80,90,100,110,120"
    model = T.TwentyQuestionsARModel(m)
    law = ref_law(m, T.parse_prompt(prompt))
    for s in list(law)[:5]:
        assert log_prob(model, prompt, s)[1] == law[s]


def test_generation_and_forced_prefixes():
    m, prompt = 10, "1,2,3,4,5,6,7,8,9,10,11,12,13,14"
    ar = T.TwentyQuestionsARModel(m)
    hid = T.TwentyQuestionsHiddenSeedModel(m)
    realised = set(ref_answers(m, T.parse_prompt(prompt)))
    gen = np.random.default_rng(3)
    for _ in range(5):
        assert generate(ar, prompt, gen) in realised
        text, seed = generate_with_seed(hid, prompt, gen)
        assert text == T.object_answers(seed, prompt) == hid.answers(prompt, seed)
    # a consistent forced prefix: the AR continuation stays consistent
    own = T.object_answers(77, prompt)
    out = generate(ar, prompt, gen, output_prefix=own[:6])
    assert out.startswith(own[:6]) and out in realised
    # the hidden seed is not conditioned by a forced prefix: it answers about its own object
    forced = "".join("1" if c == "0" else "0" for c in own[:6])
    text, seed = generate_with_seed(hid, prompt, gen, output_prefix=forced, seed=77)
    assert text == forced + own[6:]
    # an inconsistent forced prefix: the AR answerer has no object left
    nobody = next(s for s in ("0" * 14, "1" * 14, "01" * 7, "10" * 7) if s not in realised)
    with pytest.raises(ModelError, match="no object"):
        generate(ar, prompt, gen, output_prefix=nobody[:-1])


def test_vocabulary_and_end_token():
    ar = T.TwentyQuestionsARModel(3)
    assert ar.vocab.tokens == ("0", "1", "(", ",", ")", END)
    p = ar.next_token_distribution("9", "")
    assert p.shape == (6,) and abs(p.sum() - 1) < 1e-12 and p[2:].sum() == 0
    assert generate(ar, "", 0) == ""
    hid = T.TwentyQuestionsHiddenSeedModel(3)
    assert hid.next_token_distribution("9", "1", 4).argmax() == ar.vocab.end_index
    assert hid.seed_space == 8


# ---------------------------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------------------------
def test_bad_input():
    for bad in (0, -1, 33, T.MAX_M + 1):
        with pytest.raises(ValueError, match="m must be in"):
            T.TwentyQuestionsARModel(bad)
        with pytest.raises(ValueError, match="m must be in"):
            T.TwentyQuestionsHiddenSeedModel(bad)
    for bad in (3.0, True, "4", None):
        with pytest.raises(TypeError, match="m must be an integer"):
            T.TwentyQuestionsARModel(bad)
    with pytest.raises(ValueError, match="table"):
        T.TwentyQuestionsARModel(T.TABLE_MAX_M + 1, backend="table")
    with pytest.raises(ValueError, match="backend"):
        T.TwentyQuestionsARModel(4, backend="gpu")
    ar = T.TwentyQuestionsARModel(4)
    for prompt in ("256", "1,,2", "1,2,", "a", "-1", "1;2", "3.0", "+4", "1 2"):
        with pytest.raises(ValueError, match="prompt"):
            ar.next_token_counts(prompt, "")
    with pytest.raises(TypeError, match="prompt"):
        ar.next_token_counts([1, 2], "")
    for out in ("2", "01a", "0 ", "(", END):
        with pytest.raises(ValueError, match="output"):
            ar.next_token_counts("1,2,3", out)
    with pytest.raises(ValueError, match="output has 3 answers"):
        ar.next_token_counts("1,2", "011")
    with pytest.raises(TypeError, match="output"):
        ar.next_token_counts("1,2", 0)
    hid = T.TwentyQuestionsHiddenSeedModel(4)
    with pytest.raises(ValueError, match="seed"):
        hid.next_token_distribution("1", "", 16)
    with pytest.raises(ValueError, match="output"):
        hid.next_token_distribution("1", "x", 3)
    with pytest.raises(ValueError, match="questions"):
        T.format_prompt([1, 256])
    with pytest.raises(TypeError, match="questions"):
        T.format_prompt("1,2")
    with pytest.raises(ValueError, match="question"):
        T.object_answers(3, [300])
    with pytest.raises(ValueError, match="x must be"):
        T.object_answers(-1, "1")
    with pytest.raises(ValueError, match="objects"):
        T.sha256_words(np.array([-1, 2]))
    with pytest.raises(ValueError, match="objects"):
        T.sha256_words([2**64])
    with pytest.raises(TypeError, match="objects"):
        T.sha256_words(np.array([1.5]))
    with pytest.raises(ValueError, match="start"):
        T.sha256_range(2**64 - 1, 2)
    with pytest.raises(ValueError, match="count"):
        T.random_questions(257)
    assert T.parse_prompt(" 1, 2 ,255") == (1, 2, 255) and T.parse_prompt("") == ()
    assert len(set(T.parse_prompt(T.random_questions(256, 0)))) == 256


# ---------------------------------------------------------------------------------------------
# the experiment
# ---------------------------------------------------------------------------------------------
def test_cost_table_small():
    r = twentyq_cost_table(m_values=(4, 12), questions=10, samples=3, hidden_samples=300, rng=5, exact_max_m=4,
                     numpy_max_m=4, seconds_per_m=0.5)
    assert r["name"] == "twenty-questions" and set(r["columns"]) <= set(r["rows"][0])
    small, big = r["rows"]
    assert small["tvd_ar_hidden"] == 0 and small["tvd_ar_target"] == 0
    assert small["steps_agree"] and big["steps_agree"] and big["steps_checked"] == 3 * 11
    assert big["agreement"].startswith("PIT") and big["p_ar"] > 1e-3 and big["p_hidden"] > 1e-3
    assert big["ar_hashes_per_transcript"] == 10 * 4096 and big["ar_numpy_seconds"] is None
    assert all(row["ar_seconds"] > 0 and row["hidden_seconds"] > 0 for row in r["rows"])
