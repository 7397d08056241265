"""Thread-count semantics in one place (the scikit-learn ``_openmp_helpers`` idea).

``threads=None`` means every usable core: the CPUs this process may run on (its affinity mask),
capped by ``OMP_NUM_THREADS`` when that is set.  An explicit ``threads`` must be an int >= 1.
Builds without OpenMP accept any valid value and run serially.
"""
from __future__ import annotations

import os

from .validate import as_int


def usable_cores() -> int:
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        n = os.cpu_count() or 1
    env = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    if env.isdigit() and int(env) >= 1:
        n = min(n, int(env))
    return max(1, n)


def resolve_threads(threads) -> int:
    """Normalise a user's ``threads=`` argument to a positive int."""
    if threads is None:
        return usable_cores()
    t = as_int(threads, "threads")
    if t < 1:
        raise ValueError(f"threads must be >= 1 or None, got {t}")
    return t
