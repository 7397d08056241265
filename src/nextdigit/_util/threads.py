"""Thread-count semantics in one place (the scikit-learn ``_openmp_helpers`` idea).

``threads=None`` means every usable core: the CPUs this process may run on (its affinity mask),
capped by ``OMP_NUM_THREADS`` when that is set.  An explicit ``threads`` must be an int with
``1 <= threads <= max_threads()`` = ``THREADS_PER_CPU`` (4) x the CPUs of the affinity mask:
more threads than that only oversubscribe the cores, and an absurd count must never reach the
OpenMP runtime (libgomp aborts the interpreter when it cannot create 40000 threads, and a C
``int`` cannot hold 2**31).  Every function that takes ``threads=`` validates it here, before
any work.  Builds without OpenMP accept any valid value and run serially.
"""
from __future__ import annotations

import os

from .validate import as_int, short

THREADS_PER_CPU = 4


def _affinity_cpus() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def usable_cores() -> int:
    n = _affinity_cpus()
    env = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    if env.isdigit() and int(env) >= 1:
        n = min(n, int(env))
    return max(1, n)


def max_threads() -> int:
    """The largest ``threads=`` accepted: 4 x the CPUs this process may run on."""
    return THREADS_PER_CPU * _affinity_cpus()


def resolve_threads(threads) -> int:
    """Normalise a user's ``threads=`` argument to an int in [1, max_threads()]."""
    if threads is None:
        return usable_cores()
    t = as_int(threads, "threads")
    cap = max_threads()
    if not 1 <= t <= cap:
        raise ValueError(f"threads must be None or in [1, {cap}] ({THREADS_PER_CPU} x the {_affinity_cpus()} CPUs "
                         f"this process may use), got {short(t)}")
    return t
