"""Sudoku puzzles, the essay's last game: a hidden solution makes them easy to write, a plain
autoregressive model has to count Sudoku completions at every cell.

The task
--------
``SudokuTask(box_rows, box_cols, rho)``: boxes of r = ``box_rows`` rows by c = ``box_cols``
columns make an n x n grid, n = r * c (2 x 2 -> 4 x 4, 2 x 3 -> 6 x 6, 3 x 3 -> 9 x 9; any
r, c >= 1 with 2 <= n <= 9 -- r = 1 gives Latin squares, the smallest exact test cases).  A
*grid* fills every cell with a digit 1..n so that each row, column and box holds each digit once.
The target law:

1. draw a grid G uniformly from all N grids of the shape;
2. reveal every cell independently with probability rho (default 1/2), the *mask* M;
3. write the puzzle row by row, one character per cell -- the digit if revealed, ``.`` if not --
   then ``|``, then the solution G row by row, then the end token.

Example (2 x 2 boxes): ``1.3.3.1.2.4.4.2.|1234341221434321``.  The vocabulary is
``Vocabulary(10, extra=".|")`` (digits 0..9, of which 1..n are used).  The text determines (G, M),
so with k revealed cells

    P(text) = rho**k * (1 - rho)**(n*n - k) / N,

on N * 2**(n*n) texts when 0 < rho < 1 (N texts when rho is 0 or 1).  rho must be an exact
rational -- an int, a ``fractions.Fraction`` or a string such as ``"1/3"`` (floats are refused
with a TypeError: 0.1 is not 1/10, and every law here is an exact Fraction) -- in [0, 1].

Why this erasure rule.  With i.i.d. reveals the mass of a puzzle prefix factorises into a mask
weight times a *completion count* (below), which is what makes an exact autoregressive model
possible at all.  The "minimal puzzle" rule (erase cells in random order while the solution stays
unique) was not chosen: the probability that the random-order process stops at a given puzzle is
a sum over erasure orders of the grid, not a product over cells, so the next-cell law of a
stateless model is no longer a ratio of completion counts -- it would need, for every grid
consistent with the prefix, the law of where the greedy process ends, which the counter cannot
give.

Completion counts: the kernel
-----------------------------
``completion_count(puzzle, r, c)`` is the number of grids that agree with every given digit of a
partial grid; ``grid_count(r, c)`` = the count of the empty grid.  Both run the Cython kernel
``nextdigit._sudoku`` (its docstring and ``docs/algorithms.rst`` explain it): bitset depth-first
search row by row with static elimination of the givens, and memoisation of the number of ways to
fill the remaining rows at every row boundary, keyed by the column and box masks; below the last
row that holds a given, the remaining problem is symmetric (permute columns within a stack,
permute stacks, relabel digits), so states are stored under a symmetric image and all equivalent
states share one entry -- and, since such a count depends on the shape alone, those entries are
kept across the queries of one counter.  Counts are exact integers (128-bit in the kernel).

It reproduces the grid counts (CPU time of one core of the development machine, shared with
other jobs): 288 4 x 4 grids in ~15 us, 28,200,960 6 x 6 grids in ~0.4 ms (the exact-state memo
alone: 0.25 s; no memo: every grid visited), 29,136,487,207,403,520 8 x 8 grids in 0.08 s (4 x 2
boxes) or 0.4 s (2 x 4), and **all 6,670,903,752,021,072,936,960 9 x 9 grids** in 93-120 s
(``grid_count(3, 3)``; the layers' measured effects are in ``docs/algorithms.rst``).

The autoregressive model
------------------------
``SudokuARModel(task)`` is stateless: every call re-derives what it needs from its own output.
While writing the puzzle, after a prefix whose revealed cells are the clue set Q and with cell k
next, the mass of the (grid, mask) pairs consistent with the prefix extended by each token is

    digit d:  rho * C(Q + {k: d}) / N * (mask weight so far),
    ``.``:    (1 - rho) * C(Q) / N * (mask weight so far),

where C counts completions, so with rho = a/b

    next_token_counts = [a * C(Q + {k: d}) for d = 1..n] and (b - a) * C(Q) for ``.``

(C(Q) = sum_d C(Q + {k: d})).  After the n*n puzzle cells it writes ``|``.  In the solution part,
with the solution prefix s written and cell j next: a revealed cell's digit is forced (a point
mass, weight C(Q + s)); a blank one gets counts C(Q + s + {j: d}); after n*n digits the end
token.  The probabilities telescope: the puzzle part multiplies to rho**k (1 - rho)**(n*n-k)
C(Q)/N and the solution part to 1/C(Q), exactly the target.  Every call costs n completion
counts of the current partial grid (``cell_counts``; the counts below the givens are shared
between the n digits of one call), so the cost is set by the hardest counts: early in the puzzle,
with few clues, they are counts of almost the whole grid.

``shared_table=True`` keeps the kernel's symmetric entries (counts of the rows below the givens,
a function of the shape alone, like the hash table of Twenty Questions' table backend) across
calls; by default every call starts from an empty memo.  ``max_nodes`` bounds the search nodes of
one count (``CountBudgetExceeded`` beyond): the way to ask "how far does the 9 x 9 model get".

A forced output (``generate(..., output_prefix=...)``) that no target text starts with -- a
character outside the format, a clue no grid completes, a solution digit that contradicts a clue
-- gets the end token with weight 1 (the convention of the polynomial and semiprime models).

The hidden-state model
----------------------
``SudokuHiddenSeedModel(task)`` draws a seed out of sight, uniform below ``seed_space = N *
b**(n*n)`` (rho = a/b): ``seed % N`` is the index of the grid, ``seed // N`` written in base b
(cell i = digit i, least significant first) is the mask, a cell revealed iff its digit is < a.
The grid of index g is the g-th completion of the empty grid in the kernel's search order
(``Counter.unrank``: the count of the empty grid is computed once per shape and process, then
every sample walks down the stored counts), so the grid is exactly uniform over all N grids --
for 9 x 9 as well, after the one-time count of all 9 x 9 grids (~100-120 s; a 9 x 9 sample then
costs one walk, 0.14 s median, most of it choosing the first row among 9! fillings).  It then
writes its text by position (``models.SeedTextModel``): O(n*n) per token once the grid is drawn.

Measurements
------------
``nextdigit.analysis.costs.sudoku_cost_table`` (``nextdigit experiment sudoku``) times both models
per puzzle and checks their laws agree (the AR model's exact law of the first cells against the
closed form, a chi-square of hidden-seed samples against it, exact ``log_prob`` = target on every
sample); ``sudoku_nine_steps`` times single 9 x 9 AR calls.  CPU-time medians per puzzle, rho = 1/2,
on the 2-core development machine under heavy load from other jobs:

=============================  ==========  ===========  =======
grid (boxes)                   AR (s)      hidden (s)   ratio
=============================  ==========  ===========  =======
4 x 4 (2 x 2)                  2.9e-4      8.8e-5       3.3
6 x 6 (2 x 3)                  5.5e-3      3.3e-4       17
6 x 6 (3 x 2)                  4.6e-3      3.6e-4       13
8 x 8 (4 x 2)                  1.9         1.2e-2       160
9 x 9 (3 x 3)                  ~3600       0.14         ~2.5e4
=============================  ==========  ===========  =======

The 9 x 9 AR figure is the sum of a call-by-call profile along one text (one call = n counts):
160 s at the first cell (its counts add up to all 6.67e21 grids), 144 s at cells 9 and 18, 28 s at
cell 27 (15 clues), 1 s at 36, 0.1 s at 45, below 10 ms from cell 54 on and in the solution part.
The hidden model's 9 x 9 figure excludes its one-time count of all grids (~100-120 s).  With
``shared_table=True`` the AR model wrote a whole 9 x 9 puzzle in 115 s, 109 s of it the first
token: the expensive counts are of the rows below the clues, and those repeat.
"""
from __future__ import annotations

import itertools
import numbers
import threading
from fractions import Fraction

import numpy as np

from .._util.rng import as_generator, uniform_below
from .._util.validate import as_int
from ..models import SeedTextModel, Vocabulary, counts_to_distribution

__all__ = [
    "MAX_N",
    "DEFAULT_RHO",
    "CountBudgetExceeded",
    "check_box",
    "check_rho",
    "grid_count",
    "completion_count",
    "random_completion",
    "is_valid_grid",
    "SudokuTask",
    "SudokuARModel",
    "SudokuHiddenSeedModel",
]

MAX_N = 9                         # n = r * c: digits 1..9, one character per cell
DEFAULT_RHO = Fraction(1, 2)
TARGET_MAX_OUTCOMES = 500_000     # target_distribution(): texts enumerated as Python objects
_EMPTY = ord(".")
_DIGIT = {str(d): d for d in range(1, MAX_N + 1)}


class CountBudgetExceeded(RuntimeError):
    """A completion count needed more search nodes than the model's ``max_nodes``."""


# ---------------------------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------------------------
def check_box(box_rows, box_cols) -> tuple[int, int]:
    """``(r, c)`` after checking 1 <= r, c and 2 <= r * c <= 9 (ints only).

    >>> check_box(2, 3)
    (2, 3)
    """
    r = as_int(box_rows, "box_rows")
    c = as_int(box_cols, "box_cols")
    if r < 1:
        raise ValueError(f"box_rows must be >= 1, got {r}")
    if c < 1:
        raise ValueError(f"box_cols must be >= 1, got {c}")
    if not 2 <= r * c <= MAX_N:
        raise ValueError(f"box_rows * box_cols (the grid side n) must be in [2, {MAX_N}], got {r} x {c} = {r * c}")
    return r, c


def check_rho(rho) -> Fraction:
    """``rho`` as a Fraction in [0, 1]: an int, a ``numbers.Rational`` (``Fraction``) or a string
    such as ``"1/3"`` or ``"0.25"``; floats are refused (TypeError), since the laws are exact.

    >>> check_rho("1/3"), check_rho(1)
    (Fraction(1, 3), Fraction(1, 1))
    """
    if isinstance(rho, (bool, np.bool_)):
        raise TypeError("rho must be an exact rational (int, Fraction or a string like '1/2'), not bool")
    if isinstance(rho, str):
        try:
            v = Fraction(rho.strip())
        except (ValueError, ZeroDivisionError):
            raise ValueError(f"rho must be a rational such as '1/2' or '0.25', got {rho!r}") from None
    elif isinstance(rho, numbers.Rational):
        v = Fraction(int(rho.numerator), int(rho.denominator))
    elif isinstance(rho, np.integer):
        v = Fraction(int(rho))
    else:
        raise TypeError(f"rho must be an exact rational (int, fractions.Fraction or a string like '1/2'), "
                        f"not {type(rho).__name__}; floats are refused because the laws are exact Fractions "
                        f"(write Fraction(1, 3), not 0.333...)")
    if not 0 <= v <= 1:
        raise ValueError(f"rho must be in [0, 1], got {v}")
    return v


def _kernel():
    from .. import _sudoku

    return _sudoku


def _max_nodes(value) -> int:
    if value is None:
        return 0
    v = as_int(value, "max_nodes")
    if v < 1:
        raise ValueError(f"max_nodes must be >= 1 (or None for no budget), got {v}")
    return v


def _cells_of(puzzle, n: int, name: str = "puzzle") -> np.ndarray:
    """A partial grid as n*n uint8 (0 = empty) from a string (digits and '.', whitespace and '|'
    not allowed) or a sequence of ints 0..n."""
    if isinstance(puzzle, str):
        if len(puzzle) != n * n:
            raise ValueError(f"{name} must have n * n = {n * n} characters, got {len(puzzle)}")
        out = np.zeros(n * n, dtype=np.uint8)
        for i, ch in enumerate(puzzle):
            if ch == ".":
                continue
            d = _DIGIT.get(ch)
            if d is None or d > n:
                raise ValueError(f"{name} characters must be '.' or a digit 1..{n}; position {i} is {ch!r}")
            out[i] = d
        return out
    try:
        vals = [as_int(v, name) for v in puzzle]
    except TypeError:
        raise TypeError(f"{name} must be a string or a sequence of ints 0..{n}") from None
    if len(vals) != n * n:
        raise ValueError(f"{name} must have n * n = {n * n} cells, got {len(vals)}")
    for i, v in enumerate(vals):
        if not 0 <= v <= n:
            raise ValueError(f"{name} cells must be 0 (empty) or a digit 1..{n}; cell {i} is {v}")
    return np.array(vals, dtype=np.uint8)


# ---------------------------------------------------------------------------------------------
# counting
# ---------------------------------------------------------------------------------------------
_EMPTY_LOCK = threading.Lock()


class _EmptyGrid:
    """Holds the counted empty-grid Counter of one shape and its total."""

    def __init__(self, r: int, c: int):
        self.counter = _kernel().Counter(r, c, np.zeros((r * c) ** 2, dtype=np.uint8))
        self.total = self.counter.count()


_EMPTY_GRIDS: dict[tuple[int, int], _EmptyGrid] = {}


def _empty_grid(r: int, c: int) -> _EmptyGrid:
    with _EMPTY_LOCK:
        g = _EMPTY_GRIDS.get((r, c))
        if g is None:
            g = _EMPTY_GRIDS[(r, c)] = _EmptyGrid(r, c)
    return g


def grid_count(box_rows=3, box_cols=3) -> int:
    """Number of n x n grids with r x c boxes, counted by the kernel (once per shape and process).

    The 9 x 9 count takes minutes (module docstring); Ctrl-C interrupts it.

    >>> grid_count(2, 2), grid_count(2, 3)
    (288, 28200960)
    """
    r, c = check_box(box_rows, box_cols)
    return _empty_grid(r, c).total


def completion_count(puzzle, box_rows=3, box_cols=3, *, max_nodes=None) -> int:
    """Number of grids that agree with every given digit of ``puzzle`` (a string of n*n
    characters, ``.`` for empty, or a sequence of n*n ints, 0 for empty).  ``max_nodes`` bounds
    the search (``CountBudgetExceeded`` beyond; None: no bound).

    >>> completion_count("1..4.4...2.3.1..", 2, 2)
    1
    >>> completion_count("." * 16, 2, 2)
    288
    """
    r, c = check_box(box_rows, box_cols)
    cells = _cells_of(puzzle, r * c)
    budget = _max_nodes(max_nodes)
    v = _kernel().Counter(r, c, cells).count(max_nodes=budget)
    if v is None:
        raise CountBudgetExceeded(f"counting the completions of {puzzle!r} needed more than max_nodes={budget} nodes")
    return v


def random_completion(puzzle, box_rows=3, box_cols=3, rng=None, *, rows=None, max_nodes=None) -> tuple[int, ...]:
    """A uniformly random completion of ``puzzle`` (as in ``completion_count``): the count, then
    the completion of a uniform index below it (``Counter.unrank``).  ``rows``: fill only the
    first ``rows`` rows, uniformly among the fillings in which no digit repeats in a row, column
    or box among the filled cells and the givens (the other rows stay as given; such a filling
    need not extend to a whole grid).  ValueError when ``puzzle`` has no completion.

    >>> g = random_completion("." * 16, 2, 2, rng=1)
    >>> is_valid_grid(g, 2, 2)
    True
    """
    r, c = check_box(box_rows, box_cols)
    n = r * c
    cells = _cells_of(puzzle, n)
    rr = n if rows is None else as_int(rows, "rows")
    if not 0 <= rr <= n:
        raise ValueError(f"rows must be in [0, {n}], got {rr}")
    budget = _max_nodes(max_nodes)
    gen = as_generator(rng)
    k = _kernel().Counter(r, c, cells)
    total = k.count(max_nodes=budget, rows=rr)
    if total is None:
        raise CountBudgetExceeded(f"counting the completions of {puzzle!r} needed more than max_nodes={budget} nodes")
    if total == 0:
        raise ValueError(f"puzzle {puzzle!r} has no completion")
    return tuple(int(v) for v in k.unrank(uniform_below(gen, total)))


def _units(r: int, c: int) -> list[list[int]]:
    n = r * c
    rows = [[R * n + C for C in range(n)] for R in range(n)]
    cols = [[R * n + C for R in range(n)] for C in range(n)]
    boxes = [[(br + i) * n + bc + j for i in range(r) for j in range(c)]
             for br in range(0, n, r) for bc in range(0, n, c)]
    return rows + cols + boxes


def is_valid_grid(grid, box_rows, box_cols) -> bool:
    """True when ``grid`` (n*n ints or a string of digits) is a filled grid: every row, column
    and r x c box holds each digit 1..n once.  Plain Python, independent of the kernel.

    >>> is_valid_grid("1234341221434321", 2, 2), is_valid_grid("1234341221434312", 2, 2)
    (True, False)
    """
    r, c = check_box(box_rows, box_cols)
    n = r * c
    g = [_DIGIT.get(ch, 0) for ch in grid] if isinstance(grid, str) else [int(v) for v in grid]
    if len(g) != n * n:
        return False
    want = set(range(1, n + 1))
    return all({g[i] for i in unit} == want for unit in _units(r, c))


# ---------------------------------------------------------------------------------------------
# the task
# ---------------------------------------------------------------------------------------------
class SudokuTask:
    """A uniform grid with r x c boxes, each cell revealed with probability ``rho``; output
    ``puzzle|solution`` (module docstring).

    >>> t = SudokuTask(2, 2)
    >>> t.text([1, 2, 3, 4, 3, 4, 1, 2, 2, 1, 4, 3, 4, 3, 2, 1], [1, 0] * 8)
    '1.3.3.1.2.4.4.2.|1234341221434321'
    >>> t.probability('1.3.3.1.2.4.4.2.|1234341221434321')
    Fraction(1, 18874368)
    """

    def __init__(self, box_rows=2, box_cols=2, rho=DEFAULT_RHO):
        self.box_rows, self.box_cols = check_box(box_rows, box_cols)
        self.n = self.box_rows * self.box_cols
        self.cells = self.n * self.n
        self.rho = check_rho(rho)
        self.vocab = Vocabulary(10, extra=".|")
        self.length = 2 * self.cells + 1
        self._units = _units(self.box_rows, self.box_cols)

    @property
    def name(self) -> str:
        return f"SudokuTask(box={self.box_rows}x{self.box_cols}, rho={self.rho})"

    def __repr__(self) -> str:
        return self.name

    @property
    def num_grids(self) -> int:
        """N, counted by the kernel (once per shape and process; minutes for 9 x 9)."""
        return grid_count(self.box_rows, self.box_cols)

    @property
    def support_size(self) -> int:
        """Texts of positive probability: N * 2**(n*n), or N when rho is 0 or 1."""
        return self.num_grids * (1 if self.rho in (0, 1) else 2 ** self.cells)

    def is_solution(self, grid) -> bool:
        return is_valid_grid(grid, self.box_rows, self.box_cols)

    def mask_weight(self, revealed: int) -> Fraction:
        """P(a given mask with ``revealed`` cells) = rho**k (1 - rho)**(n*n - k)."""
        return self.rho ** revealed * (1 - self.rho) ** (self.cells - revealed)

    def text(self, grid, mask) -> str:
        """The output for a filled ``grid`` (n*n digits) and ``mask`` (n*n truthy = revealed)."""
        g = [as_int(v, "grid") for v in grid]
        m = [bool(v) for v in mask]
        if len(g) != self.cells or not self.is_solution(g):
            raise ValueError(f"grid must be a filled {self.n} x {self.n} grid with {self.box_rows} x {self.box_cols} boxes")
        if len(m) != self.cells:
            raise ValueError(f"mask must have {self.cells} entries, got {len(m)}")
        sol = "".join(map(str, g))
        return "".join(ch if keep else "." for ch, keep in zip(sol, m)) + "|" + sol

    def parse(self, text):
        """``(puzzle, solution)`` as tuples of ints (0 = blank) when ``text`` has the format
        (n*n puzzle characters, ``|``, n*n digits 1..n), else None; consistency is not checked."""
        if not isinstance(text, str) or len(text) != self.length or text[self.cells] != "|":
            return None
        try:
            puzzle = tuple(0 if ch == "." else _DIGIT[ch] for ch in text[:self.cells])
            sol = tuple(_DIGIT[ch] for ch in text[self.cells + 1:])
        except KeyError:
            return None
        if max(puzzle + sol) > self.n:
            return None
        return puzzle, sol

    def probability(self, text) -> Fraction:
        """The exact target probability of ``text`` (0 off the support)."""
        parsed = self.parse(text)
        if parsed is None:
            return Fraction(0)
        puzzle, sol = parsed
        if not self.is_solution(sol) or any(p and p != s for p, s in zip(puzzle, sol)):
            return Fraction(0)
        k = sum(1 for p in puzzle if p)
        return self.mask_weight(k) / self.num_grids

    def all_grids(self) -> list[tuple[int, ...]]:
        """Every grid, in the kernel's order (small shapes: at most TARGET_MAX_OUTCOMES)."""
        e = _empty_grid(self.box_rows, self.box_cols)
        if e.total > TARGET_MAX_OUTCOMES:
            raise ValueError(f"{self.name} has {e.total} grids, more than {TARGET_MAX_OUTCOMES}")
        return [tuple(int(v) for v in e.counter.unrank(i)) for i in range(e.total)]

    def target_distribution(self, max_outcomes: int = TARGET_MAX_OUTCOMES) -> dict[str, Fraction]:
        """{text: probability} over the whole support (small cases only)."""
        if self.support_size > max_outcomes:
            raise ValueError(f"{self.name} has {self.support_size} outcomes, more than max_outcomes={max_outcomes}")
        out = {}
        masks = [(1,) * self.cells] if self.rho == 1 else [(0,) * self.cells] if self.rho == 0 else \
            list(itertools.product((0, 1), repeat=self.cells))
        N = self.num_grids
        for g in self.all_grids():
            for m in masks:
                out[self.text(g, m)] = self.mask_weight(sum(m)) / N
        return out


def _check_task(task) -> SudokuTask:
    if not isinstance(task, SudokuTask):
        raise TypeError(f"task must be a SudokuTask, not {type(task).__name__}")
    return task


# ---------------------------------------------------------------------------------------------
# the autoregressive model: completion counts at every call
# ---------------------------------------------------------------------------------------------
def _translation(n: int, allow_blank: bool) -> bytes:
    """bytes.translate table: '1'..str(n) -> 1..n, '.' -> 0 (if allowed), anything else -> 255."""
    t = bytearray([255]) * 256
    for d in range(1, n + 1):
        t[ord(str(d))] = d
    if allow_blank:
        t[_EMPTY] = 0
    return bytes(t)


class SudokuARModel:
    """The stateless autoregressive model of ``SudokuTask``: ``next_token_counts`` = the masses
    of the (grid, mask) pairs consistent with the output extended by each token, from completion
    counts re-derived at every call (module docstring)."""

    deterministic = True

    def __init__(self, task, *, max_nodes=None, shared_table: bool = False):
        self.task = _check_task(task)
        self.vocab = task.vocab
        self.max_nodes = _max_nodes(max_nodes)
        if not isinstance(shared_table, (bool, np.bool_)):
            raise TypeError(f"shared_table must be a bool, not {type(shared_table).__name__}")
        self.shared_table = bool(shared_table)
        n, L = task.n, task.cells
        self._n, self._L = n, L
        self._a, self._b = task.rho.numerator, task.rho.denominator
        self._puzzle_table = _translation(n, True)
        self._solution_table = _translation(n, False)
        self._counter = _kernel().Counter(task.box_rows, task.box_cols, np.zeros(L, dtype=np.uint8))
        self._lock = threading.Lock()
        self._dot = self.vocab.index(".")
        self._bar = self.vocab.index("|")
        self._end = self.vocab.end_index
        self.calls = 0
        self.counts_made = 0
        extra = ", shared_table=True" if self.shared_table else ""
        self.name = f"SudokuARModel(box={task.box_rows}x{task.box_cols}, rho={task.rho}{extra})"


    def __repr__(self) -> str:
        return self.name

    # -- counting --------------------------------------------------------------------------
    def _budget_error(self, output: str):
        return CountBudgetExceeded(f"{self.name}: a completion count after the {len(output)}-character output "
                                   f"{output[:40]!r}{'...' if len(output) > 40 else ''} needed more than "
                                   f"max_nodes={self.max_nodes} search nodes")

    def _count(self, cells: bytes, output: str, cell: int | None):
        """C(cells) (cell None) or [C(cells + {cell: d}) for d = 1..n], with a fresh memo unless
        shared_table."""
        k = self._counter
        with self._lock:
            if not self.shared_table:
                k.clear()
            k.set_cells(np.frombuffer(cells, dtype=np.uint8))
            res = k.count(max_nodes=self.max_nodes) if cell is None else k.cell_counts(cell, max_nodes=self.max_nodes)
            self.counts_made += 1 if cell is None else self._n
        if res is None:
            raise self._budget_error(output)
        return res

    def consistent_count(self, prompt: str, output: str) -> int:
        """Number of grids consistent with ``output`` (its clues and solution digits; 0 when
        ``output`` does not follow the format)."""
        cells = self._cells(output)
        return 0 if cells is None else self._count(cells, output, None)

    def _cells(self, output: str):
        """The partial grid an output fixes (puzzle clues, then solution digits over them), or None
        when no target text starts with ``output`` for format reasons."""
        if not isinstance(output, str):
            raise TypeError(f"output must be a str, not {type(output).__name__}")
        L = self._L
        try:
            raw = output.encode("ascii")
        except UnicodeEncodeError:
            return None
        if len(raw) <= L:
            cells = raw.translate(self._puzzle_table)
            if 255 in cells:
                return None
            return cells + bytes(L - len(cells))
        if raw[L] != ord("|") or len(raw) > 2 * L + 1:
            return None
        puzzle = raw[:L].translate(self._puzzle_table)
        sol = raw[L + 1:].translate(self._solution_table)
        if 255 in puzzle or 255 in sol:
            return None
        j = len(sol)
        for i in range(j):
            if puzzle[i] and puzzle[i] != sol[i]:
                return None
        return sol + puzzle[j:]

    # -- the protocol ----------------------------------------------------------------------
    def next_token_counts(self, prompt: str, output: str) -> list[int]:
        if not isinstance(prompt, str):
            raise TypeError(f"prompt must be a str, not {type(prompt).__name__}")
        self.calls += 1
        cells = self._cells(output)
        c = [0] * len(self.vocab)
        if cells is None:
            c[self._end] = 1
            return c
        L, k = self._L, len(output)
        if k < L:                                   # a puzzle cell: a digit or '.'
            per = self._count(cells, output, k)
            total = sum(per)
            if total == 0:
                c[self._end] = 1
                return c
            for d, x in enumerate(per, start=1):
                c[d] = self._a * x
            c[self._dot] = (self._b - self._a) * total
            return c
        if k == L:                                  # the puzzle is written: '|'
            total = self._count(cells, output, None)
            c[self._bar if total else self._end] = 1
            return c
        j = k - L - 1
        if j == L:                                  # the solution is written
            c[self._end] = 1
            return c
        clue = output[j]
        if clue != ".":                             # a revealed cell: its digit is forced
            total = self._count(cells, output, None)
            if total:
                c[int(clue)] = total
            else:
                c[self._end] = 1
            return c
        per = self._count(cells, output, j)
        if sum(per) == 0:
            c[self._end] = 1
            return c
        for d, x in enumerate(per, start=1):
            c[d] = x
        return c

    def next_token_distribution(self, prompt: str, output: str, rng=None) -> np.ndarray:
        return counts_to_distribution(self.next_token_counts(prompt, output))


# ---------------------------------------------------------------------------------------------
# the hidden-state model: a uniform grid and a mask drawn out of sight
# ---------------------------------------------------------------------------------------------
class SudokuHiddenSeedModel(SeedTextModel):
    """Deterministic given a seed drawn out of sight, uniform below ``seed_space = N *
    b**(n*n)``: ``seed % N`` ranks the grid (exactly uniform over all N grids), ``seed // N`` in
    base b is the mask (module docstring).  Building it counts the shape's grids once per process
    (minutes for 9 x 9)."""

    def __init__(self, task):
        self.task = _check_task(task)
        self.vocab = task.vocab
        self._grids = _empty_grid(task.box_rows, task.box_cols)
        self.num_grids = self._grids.total
        self._a, self._b = task.rho.numerator, task.rho.denominator
        self.mask_space = self._b ** task.cells
        self.seed_space = self.num_grids * self.mask_space

    @property
    def name(self) -> str:
        t = self.task
        return f"SudokuHiddenSeedModel(box={t.box_rows}x{t.box_cols}, rho={t.rho})"

    def __repr__(self) -> str:
        return self.name

    def grid(self, seed) -> tuple[int, ...]:
        """The solution grid of ``seed``: the (seed % N)-th grid in the kernel's order."""
        s = self._check_seed(seed)
        with _EMPTY_LOCK:
            g = self._grids.counter.unrank(s % self.num_grids)
        return tuple(int(v) for v in g)

    def mask(self, seed) -> tuple[int, ...]:
        """The reveal mask of ``seed`` (1 = revealed): base-b digits of seed // N, each < a."""
        m = self._check_seed(seed) // self.num_grids
        out = []
        for _ in range(self.task.cells):
            m, digit = divmod(m, self._b)
            out.append(1 if digit < self._a else 0)
        return tuple(out)

    def _make_text(self, seed: int) -> str:
        return self.task.text(self.grid(seed), self.mask(seed))

    def sample(self, rng=None) -> str:
        """One output (a seed drawn from ``rng``)."""
        return self.text(uniform_below(as_generator(rng), self.seed_space))
