"""Sudoku puzzles: seconds per puzzle of the autoregressive model (n completion counts for every
cell it writes) against the hidden-seed model (ranks one uniform grid, then writes it), one
group per box shape; and the completion counter itself on whole-grid counts, each layer of the
kernel against the one below it (plain search, exact-state memo, symmetric keys) and a plain
Python backtracking search.
"""
import numpy as np
import pytest

from nextdigit import _sudoku
from nextdigit.models import generate, generate_with_seed
from nextdigit.tasks.sudoku import SudokuARModel, SudokuHiddenSeedModel, SudokuTask, is_valid_grid

SHAPES = [(2, 2), (2, 3), (3, 2)]
AR_ROUNDS = {(2, 2): 200, (2, 3): 30, (3, 2): 30}


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("model", ["AR (completion counts per cell)", "hidden seed (uniform grid, then write)"])
def test_puzzle(benchmark, shape, model):
    r, c = shape
    benchmark.group = f"sudoku {r * c}x{r * c} ({r}x{c} boxes), rho=1/2: seconds per puzzle"
    task = SudokuTask(r, c)
    gen = np.random.default_rng(r * 10 + c)
    if model.startswith("hidden"):
        hid = SudokuHiddenSeedModel(task)          # the one-time grid count happens here
        text, seed = benchmark.pedantic(lambda: generate_with_seed(hid, rng=gen), rounds=2000, iterations=1,
                                        warmup_rounds=10)
        assert text[task.cells + 1:] == "".join(map(str, hid.grid(seed)))
    else:
        ar = SudokuARModel(task)
        text = benchmark.pedantic(lambda: generate(ar, "", gen), rounds=AR_ROUNDS[shape], iterations=1,
                                  warmup_rounds=1)
    assert task.probability(text) > 0 and is_valid_grid(text[task.cells + 1:], r, c)


def _python_count(r, c):
    n = r * c
    units = [[R * n + C for C in range(n)] for R in range(n)] + [[R * n + C for R in range(n)] for C in range(n)]
    units += [[(br + i) * n + bc + j for i in range(r) for j in range(c)] for br in range(0, n, r) for bc in range(0, n, c)]
    peers = [sorted({j for u in units if i in u for j in u} - {i}) for i in range(n * n)]
    g = [0] * (n * n)

    def rec(i):
        if i == n * n:
            return 1
        used = {g[j] for j in peers[i]}
        total = 0
        for v in range(1, n + 1):
            if v not in used:
                g[i] = v
                total += rec(i + 1)
        g[i] = 0
        return total

    return rec(0)


COUNTERS = {
    "kernel (memo, symmetric keys)": dict(),
    "kernel, exact-state memo only": dict(passes=0),
    "kernel, plain search (no memo)": dict(memo=False),
    "plain Python backtracking": None,
}


@pytest.mark.parametrize("how", list(COUNTERS))
@pytest.mark.parametrize("shape,want", [((2, 2), 288), ((2, 3), 28200960)], ids=["4x4", "6x6"])
def test_count_all_grids(benchmark, shape, want, how):
    r, c = shape
    benchmark.group = f"count all {r * c}x{r * c} grids ({r}x{c} boxes)"
    kw = COUNTERS[how]
    if kw is None:
        if shape != (2, 2):
            pytest.skip("plain Python would visit 28 million grids")
        got = benchmark.pedantic(lambda: _python_count(r, c), rounds=20, iterations=1)
    else:
        if shape == (2, 3) and "no memo" in how:
            rounds = 3
        else:
            rounds = 200 if shape == (2, 2) else 20

        def run():
            return _sudoku.Counter(r, c, np.zeros((r * c) ** 2, np.uint8), **kw).count()

        got = benchmark.pedantic(run, rounds=rounds, iterations=1, warmup_rounds=1)
    assert got == want


BAND = [1, 2, 3, 4, 5, 6, 7, 8, 9, 4, 5, 6, 7, 8, 9, 1, 2, 3, 7, 8, 9, 1, 2, 3, 4, 5, 6]


@pytest.mark.parametrize("how", ["kernel (memo, symmetric keys)", "kernel, exact-state memo only"])
def test_count_band_completions_9x9(benchmark, how):
    """The 7,802,998,272 completions of one filled 9 x 9 first band."""
    benchmark.group = "9x9: completions of a filled first band"
    cells = np.zeros(81, np.uint8)
    cells[:27] = BAND
    kw = COUNTERS[how]
    rounds = 5 if not kw else 1
    got = benchmark.pedantic(lambda: _sudoku.Counter(3, 3, cells, **kw).count(), rounds=rounds, iterations=1)
    assert got == 7802998272
