"""Sudoku puzzles: the completion-counting kernel, the task's law, the autoregressive model and
the hidden-seed model.

The references are independent of the kernel: grids are enumerated by a plain Python
backtracking search (``brute_grids``), completions of partial 6 x 6 grids are counted by another
plain search (``brute_completions``), counts of restrictions of 4 x 4 grids come from a
superset-sum over the 288 grids (``restriction_counts``), and grid totals are checked against the
literature (Latin squares: OEIS A002860; Sudoku: Felgenhauer & Jarvis 2006, Russell & Jarvis,
Pettersen for 8 x 8).
"""
from __future__ import annotations

import itertools
import math
import signal
from collections import Counter as Tally
from fractions import Fraction

import numpy as np
import pytest

from nextdigit import _sudoku
from nextdigit.analysis import exact_distribution, exact_distribution_hidden_seed, tvd
from nextdigit.analysis.costs import _chi_square, _law_below, sudoku_cost_table
from nextdigit.models import ModelError, generate, generate_with_seed, log_prob
from nextdigit.tasks.sudoku import (
    CountBudgetExceeded,
    SudokuARModel,
    SudokuHiddenSeedModel,
    SudokuTask,
    check_box,
    check_rho,
    completion_count,
    grid_count,
    is_valid_grid,
    random_completion,
)

LITERATURE = {(1, 2): 2, (1, 3): 12, (1, 4): 576, (1, 5): 161280, (1, 6): 812851200, (2, 2): 288,
              (2, 3): 28200960, (2, 4): 29136487207403520}
NINE = 6670903752021072936960


# ---------------------------------------------------------------------------------------------
# independent references
# ---------------------------------------------------------------------------------------------
def units(r, c):
    n = r * c
    rows = [[R * n + C for C in range(n)] for R in range(n)]
    cols = [[R * n + C for R in range(n)] for C in range(n)]
    boxes = [[(br + i) * n + bc + j for i in range(r) for j in range(c)] for br in range(0, n, r) for bc in range(0, n, c)]
    return rows + cols + boxes


def peers(r, c):
    n = r * c
    out = [set() for _ in range(n * n)]
    for u in units(r, c):
        for i in u:
            out[i].update(u)
    for i in range(n * n):
        out[i].discard(i)
    return [sorted(p) for p in out]


def brute_completions(partial, r, c, limit=None):
    """Completions of ``partial`` (list of ints, 0 empty) by plain backtracking in cell order:
    a digit is tried when no peer holds it (givens included)."""
    n = r * c
    g = list(partial)
    pr = peers(r, c)
    for i, v in enumerate(g):                       # the givens must not clash
        if v and any(g[j] == v for j in pr[i]):
            return 0
    empties = [i for i in range(n * n) if not g[i]]
    count = 0

    def rec(k):
        nonlocal count
        if k == len(empties):
            count += 1
            return
        i = empties[k]
        used = {g[j] for j in pr[i]}
        for v in range(1, n + 1):
            if v not in used:
                g[i] = v
                rec(k + 1)
                g[i] = 0

    rec(0)
    return count


def brute_grids(r, c):
    n = r * c
    pr = peers(r, c)
    g = [0] * (n * n)
    out = []

    def rec(i):
        if i == n * n:
            out.append(tuple(g))
            return
        used = {g[j] for j in pr[i]}
        for v in range(1, n + 1):
            if v not in used:
                g[i] = v
                rec(i + 1)
                g[i] = 0

    rec(0)
    return out


def first_grid(r, c):
    """The lexicographically smallest grid (row-major), by plain backtracking."""
    n = r * c
    pr = peers(r, c)
    g = [0] * (n * n)

    def rec(i):
        if i == n * n:
            return True
        used = {g[j] for j in pr[i]}
        for v in range(1, n + 1):
            if v not in used:
                g[i] = v
                if rec(i + 1):
                    return True
        g[i] = 0
        return False

    rec(0)
    return tuple(g)


GRIDS4 = brute_grids(2, 2)


def restriction_counts(g, grids):
    """ref[S] = #grids agreeing with g on the cell set S (bit i = cell i), for all 2**16 S:
    a histogram of the agreement sets, then a superset-sum transform."""
    G = np.array(grids, dtype=np.int64)
    agree = ((G == np.array(g)[None, :]).astype(np.int64) << np.arange(16)).sum(axis=1)
    f = np.bincount(agree, minlength=1 << 16).astype(np.int64)
    for b in range(16):
        idx = np.arange(1 << 16)
        lo = idx[(idx >> b) & 1 == 0]
        f[lo] += f[lo | (1 << b)]
    return f


def partials_of(g, masks, n2):
    bits = (np.asarray(masks, dtype=np.int64)[:, None] >> np.arange(n2)) & 1
    return (bits * np.array(g, dtype=np.int64)[None, :]).astype(np.uint8)


# ---------------------------------------------------------------------------------------------
# the counter
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(1, 2), (2, 1), (1, 3), (3, 1), (2, 2), (1, 4), (4, 1)])
def test_grid_count_equals_brute_force(shape):
    r, c = shape
    grids = brute_grids(r, c)
    assert grid_count(r, c) == len(grids) == LITERATURE[(min(shape), max(shape))]
    assert all(is_valid_grid(g, r, c) for g in grids)


@pytest.mark.parametrize("shape", [(2, 3), (3, 2), (1, 5), (5, 1), (1, 6), (4, 2),
                                   pytest.param((2, 4), marks=pytest.mark.slow)])
def test_grid_count_literature(shape):
    assert grid_count(*shape) == LITERATURE[(min(shape), max(shape))]


@pytest.mark.slow
def test_grid_count_9x9():
    """All 6,670,903,752,021,072,936,960 9 x 9 grids (Felgenhauer & Jarvis): ~2 minutes of CPU."""
    assert grid_count(3, 3) == NINE


@pytest.mark.parametrize("memo,passes", [(False, 0), (True, 0), (True, 1), (True, 2), (True, 3), (True, 6)])
def test_every_kernel_layer_counts_the_same(memo, passes):
    for shape, want in (((2, 2), 288), ((1, 4), 576), ((3, 2), 28200960)):
        if not memo and shape == (3, 2):
            continue                                 # the plain search visits 28 million grids
        r, c = shape
        k = _sudoku.Counter(r, c, np.zeros((r * c) ** 2, np.uint8), memo=memo, passes=passes)
        assert k.count() == want


def test_unrank_is_a_bijection_onto_the_grids():
    k = _sudoku.Counter(2, 2, np.zeros(16, np.uint8))
    assert k.count() == 288
    got = [tuple(int(v) for v in k.unrank(i)) for i in range(288)]
    assert got == sorted(GRIDS4)                     # search order = lexicographic row-major order
    k6 = _sudoku.Counter(2, 3, np.zeros(36, np.uint8))
    N = k6.count()
    rng = np.random.default_rng(5)
    idx = sorted(int(x) for x in rng.integers(0, N, 200))
    grids = [tuple(int(v) for v in k6.unrank(i)) for i in idx]
    assert all(is_valid_grid(g, 2, 3) for g in grids)
    assert grids == sorted(grids)                    # increasing index -> increasing grid
    assert len(set(grids)) == len(set(idx))
    assert tuple(int(v) for v in k6.unrank(0)) == first_grid(2, 3)
    assert tuple(int(v) for v in k6.unrank(N - 1)) == tuple(7 - v for v in first_grid(2, 3))  # relabel d -> 7 - d


def test_unrank_of_a_partial_grid_walks_its_completions():
    g = GRIDS4[100]
    partial = [v if i % 3 == 0 else 0 for i, v in enumerate(g)]
    k = _sudoku.Counter(2, 2, np.array(partial, np.uint8))
    C = k.count()
    want = sorted(G for G in GRIDS4 if all(p == 0 or p == v for p, v in zip(partial, G)))
    assert C == len(want)
    assert [tuple(int(v) for v in k.unrank(i)) for i in range(C)] == want
    with pytest.raises(ValueError, match="index"):
        k.unrank(C)
    with pytest.raises(ValueError, match="index"):
        k.unrank(-1)


def test_restrictions_of_4x4_grids_some_grids_every_mask():
    """Every restriction of 6 grids to every one of the 2**16 cell subsets (and every single-digit
    extension of a random sample of them, most of which no grid completes)."""
    rng = np.random.default_rng(1)
    for gi in rng.choice(len(GRIDS4), 6, replace=False):
        g = GRIDS4[gi]
        ref = restriction_counts(g, GRIDS4)
        got = _sudoku.count_many(2, 2, partials_of(g, np.arange(1 << 16), 16))
        assert np.array_equal(got.astype(np.int64), ref)
    G = np.array(GRIDS4)
    for _ in range(300):
        S = int(rng.integers(0, 1 << 16))
        g = np.array(GRIDS4[int(rng.integers(0, 288))])
        cell = int(rng.integers(0, 16))
        p = np.where((S >> np.arange(16)) & 1, g, 0)
        p[cell] = int(rng.integers(1, 5))
        want = int(np.all((p == 0) | (G == p), axis=1).sum())
        assert completion_count(list(p), 2, 2) == want


@pytest.mark.slow
def test_restrictions_of_every_4x4_grid_every_mask():
    """All 288 * 2**16 restrictions: every completion count the 4 x 4 AR model can ask for at a
    consistent prefix, with the telescoping argument of the module docstring the AR law over the
    whole support (18.9 million texts for 0 < rho < 1)."""
    masks = np.arange(1 << 16)
    for g in GRIDS4:
        ref = restriction_counts(g, GRIDS4)
        got = _sudoku.count_many(2, 2, partials_of(g, masks, 16))
        assert np.array_equal(got.astype(np.int64), ref)


def random_partial(grid, k, rng):
    n2 = len(grid)
    keep = set(int(i) for i in rng.choice(n2, k, replace=False))
    return [v if i in keep else 0 for i, v in enumerate(grid)]


@pytest.mark.parametrize("shape", [(2, 3), (3, 2)])
def test_random_partial_6x6_against_brute_force(shape):
    r, c = shape
    rng = np.random.default_rng(7)
    hid = SudokuHiddenSeedModel(SudokuTask(r, c))
    checked = 0
    for trial in range(40):
        g = hid.grid(int(rng.integers(0, hid.num_grids)))
        assert is_valid_grid(g, r, c)
        p = random_partial(g, int(rng.integers(10, 26)), rng)
        if trial % 4 == 3:                            # a random wrong digit: often no completion
            i = int(rng.integers(0, 36))
            p[i] = int(rng.integers(1, 7))
        want = brute_completions(p, r, c)
        assert completion_count(p, r, c) == want
        assert _sudoku.Counter(r, c, np.array(p, np.uint8), memo=False).count() == want
        checked += want > 1
    assert checked >= 10                              # the sample is not all unique completions


def test_sparse_6x6_counts_add_up():
    """With few clues (too many completions for the brute force), the n digit counts of an
    empty cell add up to the count without it, on every route through the kernel."""
    rng = np.random.default_rng(11)
    hid = SudokuHiddenSeedModel(SudokuTask(2, 3))
    for _ in range(5):
        g = hid.grid(int(rng.integers(0, hid.num_grids)))
        p = random_partial(g, int(rng.integers(0, 8)), rng)
        empty = [i for i, v in enumerate(p) if v == 0]
        cell = empty[int(rng.integers(0, len(empty)))]
        k = _sudoku.Counter(2, 3, np.array(p, np.uint8))
        total = k.count()
        per = k.cell_counts(cell)
        assert sum(per) == total >= 1
        plain = _sudoku.Counter(2, 3, np.array(p, np.uint8), passes=1).count()
        assert plain == total


def test_counter_rejects_bad_input():
    z = np.zeros(16, np.uint8)
    with pytest.raises(ValueError, match="box shape"):
        _sudoku.Counter(3, 4, np.zeros(144, np.uint8))
    with pytest.raises(ValueError, match="n \\* n"):
        _sudoku.Counter(2, 2, np.zeros(15, np.uint8))
    with pytest.raises(ValueError, match="digit 1..4"):
        _sudoku.Counter(2, 2, np.full(16, 5, np.uint8))
    k = _sudoku.Counter(2, 2, z)
    with pytest.raises(ValueError, match="count"):
        k.unrank(0)
    with pytest.raises(ValueError, match="cell"):
        k.cell_counts(16)
    with pytest.raises(ValueError, match="rows"):
        k.count(rows=5)
    g = np.array(GRIDS4[0], np.uint8)
    with pytest.raises(ValueError, match="not empty"):
        _sudoku.Counter(2, 2, g).cell_counts(0)
    assert _sudoku.Counter(2, 2, g).count() == 1
    clash = z.copy()
    clash[0] = clash[1] = 3
    assert _sudoku.Counter(2, 2, clash).count() == 0


def test_band_counts():
    """Fillings of the first rows only (``rows=``): 9! first rows, 9! * 56 * 6**6 first bands."""
    k = _sudoku.Counter(3, 3, np.zeros(81, np.uint8))
    assert k.count(rows=1) == math.factorial(9)
    assert k.count(rows=3) == math.factorial(9) * 56 * 6**6 == 948109639680


def test_node_budget_and_interrupt():
    k = _sudoku.Counter(3, 3, np.zeros(81, np.uint8))
    assert k.count(max_nodes=100_000) is None        # the 9 x 9 count needs ~1e9 nodes
    with pytest.raises(CountBudgetExceeded, match="max_nodes=1000"):
        completion_count("." * 81, 3, 3, max_nodes=1000)

    class Stop(Exception):
        pass

    def handler(signum, frame):
        raise Stop

    old = signal.signal(signal.SIGALRM, handler)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.2)
        with pytest.raises(Stop):
            _sudoku.Counter(3, 3, np.zeros(81, np.uint8)).count()   # minutes unless interrupted
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


# ---------------------------------------------------------------------------------------------
# validation of the public API
# ---------------------------------------------------------------------------------------------
def test_bad_box_shapes():
    for r, c in ((0, 2), (2, 0), (-1, 3)):
        with pytest.raises(ValueError, match="box_"):
            SudokuTask(r, c)
    for r, c in ((1, 1), (3, 4), (4, 4), (10, 1)):
        with pytest.raises(ValueError, match=r"box_rows \* box_cols"):
            SudokuTask(r, c)
    for bad in (2.0, True, "2", None):
        with pytest.raises(TypeError, match="box_rows"):
            SudokuTask(bad, 2)
        with pytest.raises(TypeError, match="box_cols"):
            check_box(2, bad)


def test_bad_rho():
    for bad in (Fraction(-1, 2), Fraction(3, 2), 2, -1, "5/4", "-0.1"):
        with pytest.raises(ValueError, match="rho must be in \\[0, 1\\]"):
            SudokuTask(2, 2, bad)
    for bad in (0.5, 1.0, True, None, [1, 2], np.float64(0.5)):
        with pytest.raises(TypeError, match="rho"):
            SudokuTask(2, 2, bad)
    with pytest.raises(ValueError, match="rho must be a rational"):
        check_rho("half")
    assert check_rho("0.25") == Fraction(1, 4) and check_rho(np.int64(1)) == 1 and check_rho(0) == 0


def test_bad_model_input():
    with pytest.raises(TypeError, match="task"):
        SudokuARModel("2x2")
    with pytest.raises(TypeError, match="task"):
        SudokuHiddenSeedModel(None)
    with pytest.raises(ValueError, match="max_nodes"):
        SudokuARModel(SudokuTask(2, 2), max_nodes=0)
    with pytest.raises(TypeError, match="max_nodes"):
        SudokuARModel(SudokuTask(2, 2), max_nodes=1.5)
    with pytest.raises(TypeError, match="shared_table"):
        SudokuARModel(SudokuTask(2, 2), shared_table=1)
    ar = SudokuARModel(SudokuTask(2, 2))
    with pytest.raises(TypeError, match="output"):
        ar.next_token_counts("", 5)
    with pytest.raises(TypeError, match="prompt"):
        ar.next_token_counts(None, "")
    for bad in ("1..4", "x" * 16, [1] * 15, [5] + [0] * 15):
        with pytest.raises((ValueError, TypeError), match="puzzle"):
            completion_count(bad, 2, 2)
    with pytest.raises(ValueError, match="seed"):
        SudokuHiddenSeedModel(SudokuTask(2, 2)).grid(-1)
    t = SudokuTask(2, 2)
    with pytest.raises(ValueError, match="grid"):
        t.text([1] * 16, [1] * 16)
    with pytest.raises(ValueError, match="outcomes"):
        t.target_distribution()


# ---------------------------------------------------------------------------------------------
# the laws
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape,rho", [((1, 2), Fraction(1, 2)), ((2, 1), Fraction(1, 3)), ((1, 2), Fraction(2, 3)),
                                       ((1, 3), Fraction(1, 2)), ((3, 1), 1), ((1, 3), 0),
                                       ((2, 2), 0), ((2, 2), 1), ((1, 4), 1)])
def test_exact_laws_equal(shape, rho):
    """Whole-support laws as Fractions: the target (enumerated grids x masks), the AR model (tree
    traversal) and the hidden-seed model (every seed)."""
    task = SudokuTask(*shape, rho)
    target = task.target_distribution()
    assert sum(target.values()) == 1 and len(target) == task.support_size
    ar = exact_distribution(SudokuARModel(task))
    hidden = exact_distribution_hidden_seed(SudokuHiddenSeedModel(task))
    assert tvd(ar, target) == 0 and tvd(hidden, target) == 0 and tvd(ar, hidden) == 0
    assert ar == target == hidden
    assert all(task.probability(t) == p for t, p in target.items())


def conditional_target(task, prefix, grids):
    """{text: P(text | text starts with prefix)} from the enumerated grids and masks."""
    L = task.cells
    k = min(len(prefix), L)
    out = {}
    for g in grids:
        if any(ch != "." and int(ch) != v for ch, v in zip(prefix[:k], g)):
            continue
        mk = [ch != "." for ch in prefix[:k]]
        for rest in itertools.product((0, 1), repeat=L - k):
            t = task.text(g, mk + list(rest))
            if t.startswith(prefix):
                out[t] = task.probability(t)
    total = sum(out.values())
    return {t: p / total for t, p in out.items()}


def _ar_prefix_law(model, k: int) -> dict:
    """The AR model's exact law of its first k output tokens (Fractions), by walking its tree
    level by level with next_token_counts."""
    law = {"": Fraction(1)}
    for _ in range(k):
        nxt = {}
        for text, pr in law.items():
            c = model.next_token_counts("", text)
            total = sum(c)
            for i, ci in enumerate(c):
                if ci:
                    nxt[text + model.vocab.tokens[i]] = pr * Fraction(ci, total)
        law = nxt
    return law


def _target_prefix_law(task, grids, k: int) -> dict:
    """The target's law of the first k characters (k <= cells): every grid, every mask of the
    first k cells, each reveal with probability rho."""
    rho = task.rho
    out: dict = {}
    w = Fraction(1, len(grids))
    for g in grids:
        for mask in itertools.product((0, 1), repeat=k):
            text = "".join(str(g[i]) if m else "." for i, m in enumerate(mask))
            c = sum(mask)
            out[text] = out.get(text, 0) + w * rho**c * (1 - rho) ** (k - c)
    return out


@pytest.mark.parametrize("k, rho", [(8, Fraction(1, 2)), (8, Fraction(1, 3)),
                                    pytest.param(12, Fraction(1, 2), marks=pytest.mark.slow)])
def test_4x4_puzzle_prefix_laws_equal_the_target_exactly(k, rho):
    """4 x 4 at rho = 1/2 (and 1/3): the AR model's exact law of the first k puzzle cells (two rows:
    every one of the 288 x 2**8 (grid, mask) pairs' prefixes; three rows under slow: 288 x 2**12)
    equals the target's marginal, TVD exactly 0.  (The whole law has 288 x 2**16 = 18.9 million
    outcomes, too many to walk through the model; that it is exact at every rho follows from the
    AR probability of a puzzle telescoping to rho**c (1 - rho)**(16 - c) C(puzzle) / 288 -- the
    hidden-state model's -- with every count C checked against enumeration in
    test_restrictions_of_every_4x4_grid_every_mask, and the solution part is checked below
    sampled puzzles in test_4x4_conditional_laws_below_prefixes.)"""
    task = SudokuTask(2, 2, rho)
    grids = brute_grids(2, 2)                  # the reference does not use the counting kernel
    assert len(grids) == 288
    ar = _ar_prefix_law(SudokuARModel(task), k)
    target = _target_prefix_law(task, grids, k)
    assert sum(ar.values()) == 1 and sum(target.values()) == 1
    assert tvd(ar, target) == 0 and ar == target
    assert len(ar) > 288 * 2 ** (k // 2)       # many distinct prefixes: not a degenerate walk


def test_4x4_conditional_laws_below_prefixes():
    """rho = 1/2, 4 x 4: the AR model's exact law below forced puzzle prefixes (its whole subtree,
    Fractions) equals the target's conditional law; the prefixes come from hidden-seed samples."""
    task = SudokuTask(2, 2)
    ar, hid = SudokuARModel(task), SudokuHiddenSeedModel(task)
    rng = np.random.default_rng(3)
    for k in (9, 11, 11, 13, 13, 16, 18, 25, 33):
        for _ in range(1):
            text = hid.sample(rng)
            prefix = text[:k]
            law = _law_below(ar, prefix)
            assert law == conditional_target(task, prefix, GRIDS4)


def test_log_prob_equals_target_on_samples():
    """P_AR(text) = rho**k (1-rho)**(n*n-k) / N exactly, on hidden-seed samples (4 x 4, 6 x 6)."""
    for shape, rho, m in (((2, 2), Fraction(1, 2), 60), ((2, 2), Fraction(1, 3), 30), ((2, 3), Fraction(1, 2), 6),
                          ((3, 2), Fraction(2, 5), 4)):
        task = SudokuTask(*shape, rho)
        ar, hid = SudokuARModel(task), SudokuHiddenSeedModel(task)
        rng = np.random.default_rng(9)
        for _ in range(m):
            text = hid.sample(rng)
            _, exact = log_prob(ar, "", text)
            assert exact == task.probability(text) > 0


def check_puzzle(task, text):
    parsed = task.parse(text)
    assert parsed is not None, text
    puzzle, sol = parsed
    assert task.is_solution(sol)
    assert all(p == 0 or p == s for p, s in zip(puzzle, sol))
    return puzzle, sol


def test_generated_puzzles_are_valid():
    for shape in ((2, 2), (2, 3), (3, 2)):
        task = SudokuTask(*shape)
        ar, hid = SudokuARModel(task), SudokuHiddenSeedModel(task)
        rng = np.random.default_rng(2)
        for _ in range(3):
            check_puzzle(task, generate(ar, "", rng))
        for _ in range(50):
            text, seed = generate_with_seed(hid, rng=rng)
            puzzle, sol = check_puzzle(task, text)
            assert sol == hid.grid(seed) and tuple(int(p != 0) for p in puzzle) == hid.mask(seed)


def test_4x4_chi_square_both_models():
    """Both models' samples against the exact law of (first puzzle row, number of clues): the
    first row of a uniform grid is read off the 288 enumerated grids, its mask is i.i.d., and the
    clues of the other 12 cells are Binomial(12, 1/2)."""
    task = SudokuTask(2, 2)
    ar, hid = SudokuARModel(task), SudokuHiddenSeedModel(task)
    rng = np.random.default_rng(4)
    rows = {}
    for g in GRIDS4:
        rows[g[:4]] = rows.get(g[:4], 0) + Fraction(1, 288)
    law = {}
    for row, p in rows.items():
        for m in itertools.product((0, 1), repeat=4):
            chars = "".join(str(v) if b else "." for v, b in zip(row, m))
            for rest in range(13):
                key = (chars, sum(m) + rest)
                law[key] = law.get(key, 0) + p * Fraction(math.comb(12, rest), 1 << 16)
    assert sum(law.values()) == 1

    def proj(t):
        return t[:4], sum(ch != "." for ch in t[:16])

    ar_keys = [proj(generate(ar, "", rng)) for _ in range(400)]
    hid_keys = [proj(hid.sample(rng)) for _ in range(20000)]
    assert _chi_square(law, ar_keys) > 1e-6
    assert _chi_square(law, hid_keys) > 1e-6


def test_forced_prefixes_off_the_support_end():
    task = SudokuTask(2, 2)
    ar = SudokuARModel(task)
    end = task.vocab.end_index
    for bad in ("11", "1x", "|", "0", "5", "1..4.4...2.3.1..|2", "1..4.4...2.3.1..|1234341221434321|",
                "1..4.4...2.3.1..x", "1..1"):
        c = ar.next_token_counts("", bad)
        assert c[end] == 1 and sum(c) == 1, bad
    assert ar.consistent_count("", "1..4.4...2.3.1..") == 1
    assert ar.consistent_count("", "") == 288
    assert ar.consistent_count("", "1..1") == 0
    # the forced puzzle has one completion: the solution is a point mass all the way
    text = generate(ar, "", 0, output_prefix="1..4.4...2.3.1..")
    (want,) = [g for g in GRIDS4 if all(ch == "." or int(ch) == v for ch, v in zip("1..4.4...2.3.1..", g))]
    assert text == "1..4.4...2.3.1..|" + "".join(map(str, want)) and is_valid_grid(text[17:], 2, 2)


def test_shared_table_gives_the_same_counts():
    task = SudokuTask(3, 2, Fraction(1, 3))
    a, b = SudokuARModel(task), SudokuARModel(task, shared_table=True)
    hid = SudokuHiddenSeedModel(task)
    rng = np.random.default_rng(8)
    for _ in range(4):
        text = hid.sample(rng)
        for k in (0, 1, 5, 17, 36, 37, 40, 60, len(text)):
            assert a.next_token_counts("", text[:k]) == b.next_token_counts("", text[:k])
    assert "shared_table=True" in b.name


def test_ar_budget_on_9x9():
    """The 9 x 9 AR model's first token needs the counts of all 9 x 9 grids with a given first
    cell: far more than a small node budget."""
    ar = SudokuARModel(SudokuTask(3, 3), max_nodes=50_000)
    with pytest.raises(CountBudgetExceeded, match="max_nodes=50000"):
        ar.next_token_counts("", "")
    assert issubclass(CountBudgetExceeded, RuntimeError) and not issubclass(CountBudgetExceeded, ModelError)


def test_cost_table_small():
    res = sudoku_cost_table(shapes=((2, 2),), samples=3, hidden_samples=50, check_samples=2000, rng=1,
                            nine_steps=0)
    assert res["name"] == "sudoku"
    (row,) = res["rows"]
    assert row["shape"] == "2x2" and row["grids"] == 288 and row["ratio"] > 1
    assert row["p_value"] > 1e-6 and row["log_prob_exact"] is True


def test_random_completion_is_uniform():
    """Chi-square over the 288 grids (and over the completions of a partial grid, and the
    fillings of the first two rows)."""
    rng = np.random.default_rng(12)
    law = {g: Fraction(1, 288) for g in GRIDS4}
    assert _chi_square(law, [random_completion("." * 16, 2, 2, rng) for _ in range(5760)]) > 1e-6
    p = "1..." + "." * 12
    sub = [g for g in GRIDS4 if g[0] == 1]
    assert _chi_square({g: Fraction(1, len(sub)) for g in sub}, [random_completion(p, 2, 2, rng) for _ in range(1440)]) > 1e-6
    rows2 = Tally(g[:8] for g in GRIDS4)                              # the 4! * 4 first bands
    law2 = {k + (0,) * 8: Fraction(1, len(rows2)) for k in rows2}      # uniform over them, not by completions
    assert len(rows2) == 96 and set(rows2.values()) == {2, 4}
    assert _chi_square(law2, [random_completion("." * 16, 2, 2, rng, rows=2) for _ in range(1920)]) > 1e-6
    with pytest.raises(ValueError, match="no completion"):
        random_completion("11" + "." * 14, 2, 2)
    with pytest.raises(ValueError, match="rows"):
        random_completion("." * 16, 2, 2, rows=5)


def test_cli_experiment(capsys):
    import json

    from nextdigit.cli import main

    assert main(["experiment", "sudoku", "--digits", "4", "--seed", "3", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    (row,) = res["rows"]
    assert row["shape"] == "2x2" and row["grids"] == 288 and row["prefix_law_exact"] is True
    with pytest.raises(ValueError, match="n_values"):
        from nextdigit.analysis.experiments import sudoku
        sudoku(n_values=(5,))
