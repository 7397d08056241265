"""Twenty Questions over SHA-256: seconds per 20-answer transcript of the autoregressive answerer
(it re-hashes all 2**m objects at every answer; kernel, numpy and full-table backends) against the
hidden-seed answerer (one hashlib call per answer), one group per m; and SHA-256 of 2**16 objects
by the Cython kernel, by numpy uint32 arrays and by a hashlib loop.
"""
import hashlib

import numpy as np
import pytest

from conftest import per_number
from nextdigit.models import generate
from nextdigit.models import generate_with_seed
from nextdigit.tasks.twentyq import (
    TwentyQuestionsARModel,
    TwentyQuestionsHiddenSeedModel,
    object_answers,
    random_questions,
    sha256_range,
    sha256_words,
)

PROMPT = random_questions(20, 2024)
ROUNDS = {12: 20, 16: 5, 20: 3}


@pytest.mark.parametrize("m", [12, 16, 20])
@pytest.mark.parametrize("player", ["AR kernel (re-hash 2**m per answer)", "AR numpy (re-hash 2**m per answer)",
                                    "AR full table (2**m/64 words per answer)", "hidden seed (hashlib)"])
def test_transcript(benchmark, m, player):
    benchmark.group = f"twenty questions, m={m}: seconds per 20-answer transcript"
    gen = np.random.default_rng(m)
    if player.startswith("hidden"):
        model = TwentyQuestionsHiddenSeedModel(m)
        text, seed = benchmark.pedantic(lambda: generate_with_seed(model, PROMPT, gen), rounds=2000, iterations=1,
                                        warmup_rounds=10)
        assert text == object_answers(seed, PROMPT)
        return
    backend = player.split()[1].replace("full", "table")
    if backend == "numpy" and m > 16:
        pytest.skip("numpy backend at m=20: ~15 s per transcript")
    model = TwentyQuestionsARModel(m, backend=backend)
    rounds = ROUNDS[m] if backend != "table" else 50
    text = benchmark.pedantic(lambda: generate(model, PROMPT, gen), rounds=rounds, iterations=1, warmup_rounds=1)
    assert len(text) == 20 and model.consistent_count(PROMPT, text) >= 1
    benchmark.extra_info["hashes_per_transcript"] = 20 << m if backend != "table" else 0
    if backend == "table":
        benchmark.extra_info["table_build_seconds"] = model.table_seconds


N_HASH = 1 << 16


@pytest.mark.parametrize("how", ["kernel, all cores", "kernel, 1 thread", "numpy uint32 arrays", "hashlib loop"])
def test_sha256_objects(benchmark, how):
    benchmark.group = "SHA-256 of 2**16 objects (8-byte little-endian)"
    if how.startswith("kernel"):
        threads = 1 if "1 thread" in how else None
        out = benchmark.pedantic(lambda: sha256_range(0, N_HASH, threads=threads), rounds=20, iterations=1,
                                 warmup_rounds=1)
    elif how.startswith("numpy"):
        xs = np.arange(N_HASH, dtype=np.uint64)
        out = benchmark.pedantic(lambda: sha256_words(xs), rounds=5, iterations=1, warmup_rounds=1)
    else:
        sha = hashlib.sha256

        def loop():
            return [sha(x.to_bytes(8, "little")).digest() for x in range(N_HASH)]

        digests = benchmark.pedantic(loop, rounds=5, iterations=1, warmup_rounds=1)
        out = np.frombuffer(b"".join(digests), dtype=">u4").reshape(N_HASH, 8)
    assert out.shape == (N_HASH, 8)
    d = hashlib.sha256((12345).to_bytes(8, "little")).digest()
    assert out[12345].tolist() == [int.from_bytes(d[4 * i:4 * i + 4], "big") for i in range(8)]
    per_number(benchmark, N_HASH)
