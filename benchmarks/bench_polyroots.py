"""Polynomial-with-integer-roots benchmarks: one sample of the exact autoregressive model (a scan
of C(R+d-1, d) root multisets per token) beside one sample of the hidden-seed and hidden-stream
models (pick the roots, expand in O(d^2), write), in one group per size so the ratio is read off
one run; and the uniform-number baseline, where the two cost the same.
"""
import numpy as np
import pytest

from nextdigit.models import generate
from nextdigit.models import generate_with_hidden, generate_with_seed
from nextdigit.tasks.polyroots import (
    PolyRootsARModel,
    PolyRootsHiddenSeedModel,
    PolyRootsHiddenStreamModel,
    PolyRootsTask,
    parse_polyroots,
)
from nextdigit.tasks.uniform_number import UniformNumberHiddenSeedModel, UniformNumberModel

SIZES = [(3, -9, 9), (4, -20, 20), (5, -20, 20)]
_AR: dict = {}


def _ar_model(task):
    key = (task.degree, task.low, task.high)
    if key not in _AR:                      # the table is built once per size, outside the timing
        _AR[key] = PolyRootsARModel(task)
    return _AR[key]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"d={s[0]},[{s[1]},{s[2]}]")
@pytest.mark.parametrize("model", ["AR (multiset scan)", "hidden seed", "hidden stream"])
def test_polyroots_sample(benchmark, size, model):
    d, low, high = size
    task = PolyRootsTask(d, low, high)
    benchmark.group = f"polyroots sample, degree {d}, roots in [{low}, {high}] ({task.num_multisets} multisets)"
    gen = np.random.default_rng(d)
    if model.startswith("AR"):
        m = _ar_model(task)
        fn = lambda: generate(m, "", gen)          # noqa: E731
        rounds = 5 if task.num_multisets > 500_000 else 30
    elif model == "hidden seed":
        m = PolyRootsHiddenSeedModel(task)
        fn = lambda: generate_with_seed(m, rng=gen)[0]          # noqa: E731
        rounds = 200
    else:
        m = PolyRootsHiddenStreamModel(task)
        fn = lambda: generate_with_hidden(m, rng=gen)[0]        # noqa: E731
        rounds = 200
    text = benchmark.pedantic(fn, rounds=rounds, iterations=1, warmup_rounds=1)
    assert parse_polyroots(text, d) is not None and task.probability(text) > 0
    benchmark.extra_info["multisets"] = task.num_multisets


@pytest.mark.parametrize("digits", [6, 24, 96])
@pytest.mark.parametrize("model", ["AR (uniform digits)", "hidden seed"])
def test_uniform_sample(benchmark, digits, model):
    benchmark.group = f"uniform {digits}-digit number sample"
    gen = np.random.default_rng(digits)
    if model.startswith("AR"):
        m = UniformNumberModel(digits)
        fn = lambda: generate(m, "", gen)          # noqa: E731
    else:
        m = UniformNumberHiddenSeedModel(digits)
        fn = lambda: generate_with_seed(m, rng=gen)[0]          # noqa: E731
    text = benchmark.pedantic(fn, rounds=200, iterations=1, warmup_rounds=1)
    assert len(text) == digits and text[0] != "0"
