"""Type stub for the private Sudoku completion counter (see csrc/nextdigit/_sudoku.pyx)."""
import numpy as np
import numpy.typing as npt

MAX_N: int
DEFAULT_MAX_STATES: int
DEFAULT_PASSES: int

def check_shape(r: int, c: int) -> None:
    """Raise ValueError unless 1 <= r, c and 2 <= n = r * c <= 9."""
    ...

class Counter:
    """Completions of one partial grid (n * n uint8, 0 = empty, row-major; boxes r x c)."""

    def __init__(self, r: int, c: int, cells: npt.NDArray[np.uint8], max_states: int = ..., *,
                 memo: bool = True, passes: int = ...) -> None: ...
    def count(self, max_nodes: int = 0, rows: int = -1) -> int | None:
        """Completions (of the first ``rows`` rows if given); None beyond ``max_nodes`` nodes."""
        ...
    def unrank(self, index: int) -> npt.NDArray[np.uint8]:
        """The completion number ``index`` of the last count, in search order."""
        ...
    def cell_counts(self, cell: int, max_nodes: int = 0) -> list[int] | None:
        """[completions with ``cell`` = d for d = 1..n]; None beyond ``max_nodes`` nodes."""
        ...
    def clear(self) -> None:
        """Forget every stored state."""
        ...
    def set_cells(self, cells: npt.NDArray[np.uint8]) -> None:
        """Count another partial grid of the same shape (states below the givens are kept)."""
        ...
    @property
    def nodes(self) -> int: ...
    @property
    def states(self) -> int: ...
    @property
    def shared_states(self) -> int: ...

def count_many(r: int, c: int, cells: npt.NDArray[np.uint8], max_states: int = ...) -> npt.NDArray[np.uint64]:
    """Completion counts (uint64) of the rows of ``cells``, shape (m, n * n)."""
    ...
