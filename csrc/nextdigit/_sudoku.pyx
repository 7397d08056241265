# cython: language_level=3
"""Exact counting (and ranking) of Sudoku grid completions (private; the public API is
``nextdigit.tasks.sudoku``).

A grid has box shape r x c: n = r * c rows, columns, boxes and symbols (2 <= n <= 9), every box r
rows by c columns, boxes numbered band by band (box of cell (R, C) = (R // r) * (n // c) + C // c).
A *partial grid* is n * n bytes, row-major, 0 for an empty cell and 1..n for a given digit.  Its
*completions* are the filled grids (every row, column and box a permutation of 1..n) that agree
with every given digit.

The counter, layer by layer
---------------------------
1. **Bitsets.**  Digit d is bit d - 1 of a 16-bit mask.  The used digits of the current row, of
   every column and of every box are masks; the candidates of a cell are one AND-NOT of three
   masks with the cell's static *allowed* mask.
2. **Static elimination.**  Before the search, every empty cell's allowed mask drops the digits
   given anywhere in its row, column or box (a completion puts each digit once per unit, so this
   removes nothing that could complete), and a given cell allows its digit only.  Two equal
   givens in one unit, or an empty cell with nothing allowed, make the count 0 at once.  Without
   this, a digit given low in a column is only found to clash after the rows above it are filled.
3. **Row-major depth-first search** over the cells, digits ascending, counting filled grids.
4. **Memoisation at row boundaries** (the transfer-matrix method).  Once rows 0..R-1 are filled,
   the number of ways to fill rows R..n-1 depends only on R, the used-digit mask of every column
   and of every box (the givens below are fixed for the whole query): so each such state is
   counted once and stored in a hash table (open addressing, R, the row limit and the 2n masks
   packed into 192 bits, 128-bit counts; entries carry a generation stamp, so a new query starts
   with an empty table without clearing it).  The table doubles as it fills, up to
   ``max_states`` entries; beyond that new states are simply not stored (the count stays exact,
   only slower).  Measured on 6 x 6 (2 x 3 boxes): 0.25 s, 180 thousand states, 5.1 million
   nodes, where the plain search visits all 28,200,960 grids.
5. **Symmetric images below the givens** (``_canonical``).  Below the last row that holds a
   given, the rest of the problem is invariant under permuting the columns of a stack, permuting
   the stacks and relabelling the digits.  Such a state is stored under its image by a group
   element chosen from the state itself: columns sorted within each stack, stacks sorted, digits
   relabelled in the order of their (column, box) signatures, for ``passes`` rounds.  Not a
   canonical form (equivalent states may still get different keys, which only costs sharing),
   but always an image under a symmetry, so the stored count is the state's own.  Measured (one
   core, CPU time): 6 x 6 in 0.3-0.5 ms (about 800x the exact-state memo); 8 x 8 (4 x 2 boxes) in
   0.08 s against 40 s with column sorting alone; all 9 x 9 grids in 93-96 s with 4-5 rounds
   (0.5-0.7e9 nodes, 0.4-0.5 million states), 119 s with 3, ~2.7e9 nodes with 2; the 7,802,998,272
   completions of the first band 123456789/456789123/789123456 in 0.08 s against 16 s.
6. **Sharing across queries.**  A count below the givens depends on the shape (and the row limit)
   alone, so those entries are kept for the lifetime of a ``Counter`` (stamped ``PERSIST``):
   ``cell_counts``' n digits share them, and so may successive queries (``set_cells``);
   ``clear`` drops them.
7. **Ranking.**  After a count, the memo holds the number of completions below every state the
   search reached, so the k-th completion in search order (``unrank``) is found by walking down:
   at each row, enumerate the row's fillings in order and skip whole subtrees by their stored
   counts.  A uniform index below the count gives a uniformly random completion.

Counts are ``unsigned __int128`` (the 6,670,903,752,021,072,936,960 9 x 9 grids need 73 bits).
The search runs with the GIL released; every 4096 nodes it checks the node budget
(``max_nodes``, 0 = none) and, at most every 0.1 s, takes the GIL to run the signal handlers, so
Ctrl-C stops a count within a fraction of a second (KeyboardInterrupt is raised by the entry
point after the search unwinds).
"""
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t
from libc.stdlib cimport calloc, free
from libc.string cimport memcpy
from posix.time cimport clock_gettime, timespec, CLOCK_MONOTONIC

import numpy as np

cdef extern from *:
    """
    typedef unsigned __int128 nd_u128;
    """
    ctypedef unsigned long long nd_u128

cdef extern from "Python.h":
    # no exception clause: a pending KeyboardInterrupt stays set until the entry point re-raises
    int check_signals "PyErr_CheckSignals"() noexcept

MAX_N = 9
DEFAULT_MAX_STATES = 1 << 23          # memo entries (44 bytes each): 352 MiB at the cap
DEFAULT_PASSES = 4                    # rounds of the symmetric image below the givens (layer 5)

cdef enum:
    KEY_WORDS = 3
    PERSIST = 0xFFFFFFFF
    CHECK_EVERY = 4096
    ABORT_SIGNAL = 1
    ABORT_BUDGET = 2


cdef struct Ctx:
    int r, c, n, rows
    uint16_t full
    uint16_t allowed[81]
    uint8_t boxof[81]
    uint8_t cells[81]
    uint16_t rowm
    uint16_t col[9]
    uint16_t box[9]
    int free_from
    int passes
    bint memo
    uint64_t* keys
    nd_u128* vals
    uint32_t* gens
    Py_ssize_t cap, used, used_persist, max_states
    uint32_t gen
    uint64_t nodes, max_nodes, next_check
    double last_check
    int abort


cdef inline double _now() noexcept nogil:
    cdef timespec ts
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return ts.tv_sec + 1e-9 * ts.tv_nsec


cdef inline uint64_t _mix(const uint64_t* k) noexcept nogil:
    cdef uint64_t h = k[0] * <uint64_t>0x9E3779B97F4A7C15ULL
    h ^= (k[1] * <uint64_t>0xC2B2AE3D27D4EB4FULL) + (h >> 29)
    h ^= (k[2] * <uint64_t>0x165667B19E3779F9ULL) + (h >> 31)
    h ^= h >> 32
    return h


cdef inline void _pack(Ctx* X, int R, uint64_t* k) noexcept nogil:
    """The state after rows 0..R-1: R (bits 0-3), the row limit (bits 5-8) and the 2n column and
    box masks, n bits each from bit 9; below the last given row the masks are the symmetric image
    of ``_canonical``, flagged by bit 4."""
    cdef int i, pos, n = X.n
    cdef uint64_t m
    cdef uint16_t col[9]
    cdef uint16_t box[9]
    if R >= X.free_from and X.passes > 0:
        _canonical(X, R, col, box)
        k[0] = <uint64_t>R | 16
    else:
        for i in range(n):
            col[i] = X.col[i]
            box[i] = X.box[i]
        k[0] = <uint64_t>R
    k[0] |= <uint64_t>X.rows << 5
    k[1] = 0
    k[2] = 0
    pos = 9
    for i in range(2 * n):
        m = col[i] if i < n else box[i - n]
        k[pos >> 6] |= m << (pos & 63)
        if (pos & 63) + n > 64:
            k[(pos >> 6) + 1] |= m >> (64 - (pos & 63))
        pos += n


cdef inline void _sort16(uint16_t* a, int m) noexcept nogil:
    cdef int i, j
    cdef uint16_t v
    for i in range(1, m):
        v = a[i]
        j = i - 1
        while j >= 0 and a[j] > v:
            a[j + 1] = a[j]
            j -= 1
        a[j + 1] = v


cdef void _canonical(Ctx* X, int R, uint16_t* col, uint16_t* box) noexcept nogil:
    """A symmetric image of the state after rows 0..R-1 when rows R.. hold no givens (layer 5):
    the state moved by a group element chosen from the state itself -- columns sorted within each
    stack, stacks sorted, digits relabelled in the order of their (column, box) signatures, then
    columns and stacks sorted again.  Not a canonical form (equivalent states may still differ),
    but always an image under a symmetry of the remaining problem, so it has the same count."""
    cdef int n = X.n, c = X.c, ns = X.n // X.c, band = R // X.r, i, j, s, t, pass_
    cdef uint16_t tmp[9]
    cdef uint16_t bx[9]
    cdef uint32_t sig[9]
    cdef uint32_t key_s[9]
    cdef uint32_t v
    cdef int order[9]
    for i in range(n):
        col[i] = X.col[i]
    for s in range(ns):
        bx[s] = X.box[band * ns + s] if band * X.r < n else 0
    for pass_ in range(X.passes):
        for s in range(ns):                     # columns within each stack
            _sort16(&col[s * c], c)
        for s in range(ns):                     # stacks, by (box mask, columns)
            order[s] = s
        for i in range(1, ns):
            t = order[i]
            j = i - 1
            while j >= 0 and _stack_less(col, bx, c, t, order[j]):
                order[j + 1] = order[j]
                j -= 1
            order[j + 1] = t
        for s in range(ns):
            tmp[s] = bx[order[s]]
        for s in range(ns):
            bx[s] = tmp[s]
        for i in range(n):
            tmp[i] = col[order[i // c] * c + i % c]
        for i in range(n):
            col[i] = tmp[i]
        if pass_ == X.passes - 1:
            break
        for i in range(n):                      # digits, by signature
            v = 0
            for j in range(n):
                v = (v << 1) | ((col[j] >> i) & 1)
            for s in range(ns):
                v = (v << 1) | ((bx[s] >> i) & 1)
            sig[i] = v
            order[i] = i
        for i in range(1, n):
            t = order[i]
            j = i - 1
            while j >= 0 and sig[order[j]] > sig[t]:
                order[j + 1] = order[j]
                j -= 1
            order[j + 1] = t
        for j in range(n):                      # new digit i = old digit order[i]
            tmp[j] = 0
            for i in range(n):
                tmp[j] |= ((col[j] >> order[i]) & 1) << i
        for j in range(n):
            col[j] = tmp[j]
        for s in range(ns):
            tmp[s] = 0
            for i in range(n):
                tmp[s] |= ((bx[s] >> order[i]) & 1) << i
        for s in range(ns):
            bx[s] = tmp[s]
    for i in range(X.n):
        box[i] = bx[i] if i < ns else 0


cdef inline bint _stack_less(const uint16_t* col, const uint16_t* bx, int c, int a, int b) noexcept nogil:
    cdef int i
    if bx[a] != bx[b]:
        return bx[a] < bx[b]
    for i in range(c):
        if col[a * c + i] != col[b * c + i]:
            return col[a * c + i] < col[b * c + i]
    return False


cdef int _grow(Ctx* X) noexcept nogil:
    """Double the table (entries of the current generation move); 0 when memory ran out."""
    cdef Py_ssize_t ncap = X.cap * 2, i, s
    cdef uint64_t* nk = <uint64_t*>calloc(ncap * KEY_WORDS, sizeof(uint64_t))
    cdef nd_u128* nv = <nd_u128*>calloc(ncap, sizeof(nd_u128))
    cdef uint32_t* ng = <uint32_t*>calloc(ncap, sizeof(uint32_t))
    if nk == NULL or nv == NULL or ng == NULL:
        free(nk)
        free(nv)
        free(ng)
        return 0
    for i in range(X.cap):
        if X.gens[i] == X.gen or X.gens[i] == PERSIST:
            s = <Py_ssize_t>(_mix(&X.keys[i * KEY_WORDS]) & <uint64_t>(ncap - 1))
            while ng[s] != 0:
                s = (s + 1) & (ncap - 1)
            memcpy(&nk[s * KEY_WORDS], &X.keys[i * KEY_WORDS], KEY_WORDS * sizeof(uint64_t))
            nv[s] = X.vals[i]
            ng[s] = X.gens[i]
    free(X.keys)
    free(X.vals)
    free(X.gens)
    X.keys, X.vals, X.gens, X.cap = nk, nv, ng, ncap
    return 1


cdef inline Py_ssize_t _find(Ctx* X, const uint64_t* k) noexcept nogil:
    """Slot of key k, or of the empty slot where it would go."""
    cdef Py_ssize_t s = <Py_ssize_t>(_mix(k) & <uint64_t>(X.cap - 1))
    cdef uint64_t* e
    while X.gens[s] == X.gen or X.gens[s] == PERSIST:
        e = &X.keys[s * KEY_WORDS]
        if e[0] == k[0] and e[1] == k[1] and e[2] == k[2]:
            return s
        s = (s + 1) & (X.cap - 1)
    return s


cdef inline void _tick(Ctx* X) noexcept nogil:
    X.nodes += 1
    if X.nodes < X.next_check:
        return
    X.next_check = X.nodes + CHECK_EVERY
    if X.max_nodes and X.nodes > X.max_nodes:
        X.abort = ABORT_BUDGET
        return
    cdef double t = _now()
    if t - X.last_check >= 0.1:
        X.last_check = t
        with gil:
            if check_signals() != 0:
                X.abort = ABORT_SIGNAL


cdef nd_u128 _rows_from(Ctx* X, int R) noexcept nogil:
    """Completions of rows R..rows-1, rows 0..R-1 filled (memoised by state)."""
    cdef uint64_t k[KEY_WORDS]
    cdef Py_ssize_t s
    cdef nd_u128 v
    if R == X.rows:
        return 1
    if X.abort:
        return 0
    if R == 0 or not X.memo:
        return _fill(X, R, 0)
    _pack(X, R, k)
    s = _find(X, k)
    if X.gens[s] == X.gen or X.gens[s] == PERSIST:
        return X.vals[s]
    v = _fill(X, R, 0)
    if X.abort:
        return 0
    if 2 * (X.used + X.used_persist + 1) > X.cap and X.cap < X.max_states:
        if _grow(X):
            s = _find(X, k)
    if 2 * (X.used + X.used_persist + 1) <= X.cap:
        memcpy(&X.keys[s * KEY_WORDS], k, KEY_WORDS * sizeof(uint64_t))
        X.vals[s] = v
        if k[0] & 16:                 # below the givens: a function of the shape alone (layer 6)
            X.gens[s] = PERSIST
            X.used_persist += 1
        else:
            X.gens[s] = X.gen
            X.used += 1
    return v


cdef nd_u128 _fill(Ctx* X, int R, int j) noexcept nogil:
    """Fillings of cells j..n-1 of row R (times the completions below each)."""
    cdef int n = X.n, cell, b
    cdef uint16_t cand, bit, saved
    cdef nd_u128 total = 0
    if j == n:
        saved = X.rowm
        X.rowm = 0
        total = _rows_from(X, R + 1)
        X.rowm = saved
        return total
    _tick(X)
    if X.abort:
        return 0
    cell = R * n + j
    b = X.boxof[cell]
    cand = X.allowed[cell] & ~(X.rowm | X.col[j] | X.box[b])
    while cand:
        bit = cand & (~cand + 1)
        cand ^= bit
        X.rowm |= bit
        X.col[j] |= bit
        X.box[b] |= bit
        total += _fill(X, R, j + 1)
        X.rowm ^= bit
        X.col[j] ^= bit
        X.box[b] ^= bit
        if X.abort:
            return 0
    return total


cdef int _unrank_fill(Ctx* X, int R, int j, nd_u128* idx) noexcept nogil:
    """Walk to the completion number idx[0] of rows R.. (cells j.. of row R still open); 1 when
    found (X.cells then holds it), else idx[0] is reduced by the completions skipped."""
    cdef int n = X.n, cell, b
    cdef uint16_t cand, bit, saved
    cdef nd_u128 cnt
    if j == n:
        if R + 1 == X.rows:
            if idx[0] == 0:
                return 1
            idx[0] -= 1
            return 0
        saved = X.rowm
        X.rowm = 0
        cnt = _rows_from(X, R + 1)
        if idx[0] < cnt:
            return _unrank_fill(X, R + 1, 0, idx)
        idx[0] -= cnt
        X.rowm = saved
        return 0
    cell = R * n + j
    b = X.boxof[cell]
    cand = X.allowed[cell] & ~(X.rowm | X.col[j] | X.box[b])
    while cand:
        bit = cand & (~cand + 1)
        cand ^= bit
        X.rowm |= bit
        X.col[j] |= bit
        X.box[b] |= bit
        X.cells[cell] = <uint8_t>(__builtin_ctz(bit) + 1)
        if _unrank_fill(X, R, j + 1, idx):
            return 1
        X.rowm ^= bit
        X.col[j] ^= bit
        X.box[b] ^= bit
        if X.abort:
            return 0
    return 0


cdef extern from *:
    int __builtin_ctz(unsigned int) noexcept nogil
    int __builtin_popcount(unsigned int) noexcept nogil


cdef inline int _raise_pending() except -1:
    return -1


cdef inline object _to_int(nd_u128 v):
    return (int(<uint64_t>(v >> 64)) << 64) | int(<uint64_t>v)


def check_shape(int r, int c):
    """Raise ValueError unless 1 <= r, c and 2 <= n = r * c <= 9."""
    if r < 1 or c < 1 or not 2 <= r * c <= MAX_N:
        raise ValueError(f"box shape must have r, c >= 1 and 2 <= r * c <= {MAX_N}, got {r} x {c}")


cdef class Counter:
    """Completions of one partial grid (module docstring): ``count``, ``unrank``,
    ``cell_counts``.  The memo of the last count is kept for ``unrank``."""

    cdef Ctx X
    cdef uint16_t base_allowed[81]
    cdef bint zero
    cdef int base_free
    cdef bint counted
    cdef nd_u128 last

    def __cinit__(self, int r, int c, const uint8_t[::1] cells, Py_ssize_t max_states=DEFAULT_MAX_STATES, *,
                  bint memo=True, int passes=DEFAULT_PASSES):
        check_shape(r, c)
        cdef int n = r * c, i
        if cells.shape[0] != n * n:
            raise ValueError(f"cells must hold n * n = {n * n} values, got {cells.shape[0]}")
        if not 0 <= passes <= 8:
            raise ValueError(f"passes must be in [0, 8], got {passes}")
        self.X.memo = memo
        self.X.passes = passes
        if max_states < 16:
            raise ValueError(f"max_states must be >= 16, got {max_states}")
        for i in range(n * n):
            if cells[i] > n:
                raise ValueError(f"cells must be 0 (empty) or a digit 1..{n}; cell {i} is {cells[i]}")
        self.X.r, self.X.c, self.X.n, self.X.rows = r, c, n, n
        self.X.full = <uint16_t>((1 << n) - 1)
        for i in range(n * n):
            self.X.boxof[i] = <uint8_t>((i // n) // r * (n // c) + (i % n) // c)
            self.X.cells[i] = cells[i]
        self.X.cap = 1024
        self.X.max_states = max(max_states, 16)
        self.X.keys = <uint64_t*>calloc(self.X.cap * KEY_WORDS, sizeof(uint64_t))
        self.X.vals = <nd_u128*>calloc(self.X.cap, sizeof(nd_u128))
        self.X.gens = <uint32_t*>calloc(self.X.cap, sizeof(uint32_t))
        if self.X.keys == NULL or self.X.vals == NULL or self.X.gens == NULL:
            raise MemoryError()
        self.X.gen = 0
        self._set_allowed()

    def __dealloc__(self):
        free(self.X.keys)
        free(self.X.vals)
        free(self.X.gens)

    cdef void _set_allowed(self):
        """Static elimination (layer 2) from X.cells; sets self.zero on a clash."""
        cdef int n = self.X.n, i, j, R, C
        cdef uint16_t rowg[9]
        cdef uint16_t colg[9]
        cdef uint16_t boxg[9]
        cdef uint16_t bit
        self.zero = False
        self.base_free = 0
        for i in range(n):
            rowg[i] = colg[i] = boxg[i] = 0
        for i in range(n * n):
            if self.X.cells[i]:
                R, C = i // n, i % n
                self.base_free = R + 1
                bit = <uint16_t>(1 << (self.X.cells[i] - 1))
                if (rowg[R] | colg[C] | boxg[self.X.boxof[i]]) & bit:
                    self.zero = True
                rowg[R] |= bit
                colg[C] |= bit
                boxg[self.X.boxof[i]] |= bit
        for i in range(n * n):
            R, C = i // n, i % n
            if self.X.cells[i]:
                self.X.allowed[i] = <uint16_t>(1 << (self.X.cells[i] - 1))
            else:
                self.X.allowed[i] = self.X.full & ~(rowg[R] | colg[C] | boxg[self.X.boxof[i]])
                if self.X.allowed[i] == 0:
                    self.zero = True
        memcpy(self.base_allowed, self.X.allowed, sizeof(self.base_allowed))
        self.X.free_from = self.base_free

    cdef nd_u128 _run(self, int rows, uint64_t max_nodes) nogil:
        cdef int i
        self.X.gen += 1
        if self.X.gen == PERSIST:           # wrapped: really clear the per-query stamps
            for i in range(self.X.cap):
                if self.X.gens[i] != PERSIST:
                    self.X.gens[i] = 0
            self.X.gen = 1
        self.X.used = 0
        self.X.rows = rows
        self.X.rowm = 0
        for i in range(self.X.n):
            self.X.col[i] = 0
            self.X.box[i] = 0
        self.X.nodes = 0
        self.X.next_check = CHECK_EVERY
        self.X.max_nodes = max_nodes
        self.X.last_check = _now()
        self.X.abort = 0
        return _rows_from(&self.X, 0)

    cdef object _finish(self, nd_u128 v):
        if self.X.abort == ABORT_SIGNAL:
            self.counted = False
            _raise_pending()
        if self.X.abort == ABORT_BUDGET:
            self.counted = False
            return None
        return _to_int(v)

    def count(self, uint64_t max_nodes=0, int rows=-1):
        """Number of completions, or None when the search needed more than ``max_nodes`` nodes
        (0: no budget).  With ``rows``: the number of fillings of the first ``rows`` rows in which
        no digit repeats in a row, column or box among the filled cells and the givens."""
        cdef nd_u128 v = 0
        cdef int rr = self.X.n if rows < 0 else rows
        if not 0 <= rr <= self.X.n:
            raise ValueError(f"rows must be in [0, {self.X.n}], got {rows}")
        memcpy(self.X.allowed, self.base_allowed, sizeof(self.base_allowed))
        if self.zero:
            self.counted = True
            self.last = 0
            self.X.rows = rr
            return 0
        with nogil:
            v = self._run(rr, max_nodes)
        res = self._finish(v)
        if res is not None:
            self.counted = True
            self.last = v
        return res

    def unrank(self, index):
        """The completion number ``index`` (0-based, search order: row-major, digits ascending)
        of the last ``count``, as n * n uint8 (first ``rows`` rows filled, the rest as given)."""
        if not self.counted:
            raise ValueError("unrank needs a successful count() first")
        idx = int(index)
        if not 0 <= idx < _to_int(self.last):
            raise ValueError(f"index must be in [0, {_to_int(self.last)}), got {idx}")
        cdef nd_u128 k = (<nd_u128>(<uint64_t>(idx >> 64)) << 64) | <nd_u128>(<uint64_t>(idx & 0xFFFFFFFFFFFFFFFF))
        cdef int i, found
        cdef uint8_t saved[81]
        memcpy(saved, self.X.cells, sizeof(saved))
        self.X.rowm = 0
        for i in range(self.X.n):
            self.X.col[i] = 0
            self.X.box[i] = 0
        self.X.abort = 0
        self.X.max_nodes = 0
        with nogil:
            found = 1 if self.X.rows == 0 else _unrank_fill(&self.X, 0, 0, &k)
        out = np.empty(self.X.n * self.X.n, dtype=np.uint8)
        cdef uint8_t[::1] o = out
        for i in range(self.X.n * self.X.n):
            o[i] = self.X.cells[i]
        memcpy(self.X.cells, saved, sizeof(saved))
        if self.X.abort == ABORT_SIGNAL:
            _raise_pending()
        if not found:
            raise AssertionError("unrank: index not reached (memo inconsistent)")
        return out

    def cell_counts(self, int cell, uint64_t max_nodes=0):
        """[completions with ``cell`` = d for d = 1..n] (``cell`` must be empty), or None when a
        count needed more than ``max_nodes`` nodes (the budget is per digit)."""
        cdef int n = self.X.n, i, d
        cdef uint16_t bit
        cdef nd_u128 v
        if not 0 <= cell < n * n:
            raise ValueError(f"cell must be in [0, {n * n}), got {cell}")
        if self.X.cells[cell]:
            raise ValueError(f"cell {cell} is not empty")
        out = [0] * n
        self.counted = False
        if self.zero:
            return out
        for d in range(1, n + 1):
            bit = <uint16_t>(1 << (d - 1))
            if not self.base_allowed[cell] & bit:
                continue
            memcpy(self.X.allowed, self.base_allowed, sizeof(self.base_allowed))
            self.X.allowed[cell] = bit
            self.X.free_from = max(self.base_free, cell // n + 1)
            for i in range(n * n):      # the new given leaves its units
                if i != cell and not self.X.cells[i] and (i // n == cell // n or i % n == cell % n
                                                          or self.X.boxof[i] == self.X.boxof[cell]):
                    self.X.allowed[i] &= ~bit
            with nogil:
                v = self._run(n, max_nodes)
            res = self._finish(v)
            if res is None:
                memcpy(self.X.allowed, self.base_allowed, sizeof(self.base_allowed))
                self.X.free_from = self.base_free
                return None
            out[d - 1] = res
        memcpy(self.X.allowed, self.base_allowed, sizeof(self.base_allowed))
        self.X.free_from = self.base_free
        return out

    @property
    def nodes(self):
        """Search nodes (cells tried) of the last count."""
        return int(self.X.nodes)

    @property
    def states(self):
        """Memo entries stored by the last count (per-query states only)."""
        return int(self.X.used)

    @property
    def shared_states(self):
        """Memo entries below the givens, kept for the Counter's lifetime."""
        return int(self.X.used_persist)

    def clear(self):
        """Forget every stored state, the ones below the givens included."""
        cdef Py_ssize_t i
        for i in range(self.X.cap):
            self.X.gens[i] = 0
        self.X.gen = 0
        self.X.used = 0
        self.X.used_persist = 0
        self.counted = False

    def set_cells(self, const uint8_t[::1] cells):
        """Count another partial grid of the same shape with this Counter (its memo buffer and
        the entries below the givens are kept; per-query entries are not)."""
        cdef int n = self.X.n, i
        if cells.shape[0] != n * n:
            raise ValueError(f"cells must hold n * n = {n * n} values, got {cells.shape[0]}")
        for i in range(n * n):
            if cells[i] > n:
                raise ValueError(f"cells must be 0 (empty) or a digit 1..{n}; cell {i} is {cells[i]}")
        for i in range(n * n):
            self.X.cells[i] = cells[i]
        self.counted = False
        self._set_allowed()


def count_many(int r, int c, const uint8_t[:, ::1] cells, Py_ssize_t max_states=1 << 16):
    """Completion counts of many partial grids (rows of ``cells``) as uint64; ValueError if a
    count reaches 2**64 (use ``Counter``)."""
    check_shape(r, c)
    cdef int n = r * c
    cdef Py_ssize_t m = cells.shape[0], i
    if cells.shape[1] != n * n:
        raise ValueError(f"cells must have n * n = {n * n} columns, got {cells.shape[1]}")
    out = np.zeros(m, dtype=np.uint64)
    cdef uint64_t[::1] o = out
    if m == 0:
        return out
    cdef Counter k = Counter(r, c, np.zeros(n * n, dtype=np.uint8), max_states)
    cdef nd_u128 v
    cdef int j
    for i in range(m):
        for j in range(n * n):
            if cells[i, j] > n:
                raise ValueError(f"cells must be 0 (empty) or a digit 1..{n}; row {i}, cell {j} is {cells[i, j]}")
            k.X.cells[j] = cells[i, j]
        k._set_allowed()
        if k.zero:
            o[i] = 0
            continue
        with nogil:
            v = k._run(n, 0)
        if k.X.abort == ABORT_SIGNAL:
            _raise_pending()
        if v >> 64:
            raise ValueError(f"count of row {i} does not fit 64 bits")
        o[i] = <uint64_t>v
    return out
