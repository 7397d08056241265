"""Scale-out and resilience for long counts: executors, checkpoints, progress bars.

``count_primes`` and ``prime_histogram`` take ``executor=``, ``checkpoint=`` and ``progress=``;
when any is given they come here. The interval is cut deterministically into pieces of about
``PIECE`` = 2**30 integers (histograms: whole buckets per piece), every piece is an independent
exact count (``threads=1`` inside), and the pieces are combined by addition/concatenation, so
the result is identical whatever runs the pieces:

* ``executor``: any ``concurrent.futures.Executor`` (a ``ProcessPoolExecutor`` uses every core;
  a Dask cluster works the same through ``client.get_executor()`` — point ``Client`` at the
  scheduler's address, e.g. ``Client("tcp://scheduler:8786").get_executor()``, with nextdigit
  installed on the workers);
* ``checkpoint``: a file path. After each finished piece the file is rewritten atomically (a
  temporary file, then ``os.replace``) with the job's parameters and the finished pieces'
  results; a later call with the same parameters resumes from it (and a file written for other
  parameters is refused, not silently mixed in). The file is removed when the job completes.
* ``progress``: a tqdm bar over the pieces.
"""
from __future__ import annotations

import json
import os
from concurrent.futures import Executor, as_completed

import numpy as np

PIECE = 1 << 30

__all__ = ["PIECE", "split_count", "split_histogram"]


def _count_piece(lo: int, hi: int) -> int:
    from .counting import count_primes

    return count_primes(lo, hi, threads=1)


def _hist_piece(a: int, width: int, m: int) -> list[int]:
    from .counting import prime_histogram

    return [int(x) for x in prime_histogram(a, width, m, threads=1)]


def _load(path, key):
    if path is None or not os.path.exists(path):
        return {}
    with open(path) as fh:
        state = json.load(fh)
    if state.get("key") != key:
        raise ValueError(f"checkpoint {path} belongs to another job ({state.get('key')}), not {key}")
    return {int(k): v for k, v in state["done"].items()}


def _save(path, key, done):
    tmp = f"{path}.tmp"
    with open(tmp, "w") as fh:
        json.dump({"key": key, "done": {str(k): v for k, v in done.items()}}, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _run(tasks, key, executor: Executor | None, checkpoint, progress: bool):
    """Run ``tasks`` (a list of (func, args)) and return their results in order."""
    done = _load(checkpoint, key)
    todo = [i for i in range(len(tasks)) if i not in done]
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(tasks), initial=len(tasks) - len(todo), desc="pieces", leave=False)

    def finished(i, value):
        done[i] = value
        if checkpoint is not None:
            _save(checkpoint, key, done)
        if bar is not None:
            bar.update(1)

    try:
        if executor is None:
            for i in todo:
                f, args = tasks[i]
                finished(i, f(*args))
        else:
            futures = {executor.submit(tasks[i][0], *tasks[i][1]): i for i in todo}
            for fut in as_completed(futures):
                finished(futures[fut], fut.result())
    finally:
        if bar is not None:
            bar.close()
    if checkpoint is not None and os.path.exists(checkpoint):
        os.remove(checkpoint)
    return [done[i] for i in range(len(tasks))]


def split_count(lo: int, hi: int, *, executor=None, checkpoint=None, progress=False) -> int:
    """Exact count of primes in [lo, hi), piece by piece (see the module docstring)."""
    tasks = [(_count_piece, (s, min(s + PIECE, hi))) for s in range(lo, hi, PIECE)]
    key = {"job": "count_primes", "a": str(lo), "b": str(hi), "piece": PIECE}
    return sum(_run(tasks, key, executor, checkpoint, progress))


def split_histogram(a: int, width: int, m: int, *, executor=None, checkpoint=None, progress=False) -> np.ndarray:
    """Exact prime histogram, whole buckets per piece (see the module docstring)."""
    per = max(1, PIECE // width)
    tasks = [(_hist_piece, (a + k * width, width, min(per, m - k))) for k in range(0, m, per)]
    key = {"job": "prime_histogram", "a": str(a), "width": str(width), "m": m, "piece": PIECE}
    parts = _run(tasks, key, executor, checkpoint, progress)
    return np.array([x for part in parts for x in part], dtype=np.uint64)
