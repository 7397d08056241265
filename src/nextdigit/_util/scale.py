"""Scale-out and resilience: executors, checkpoints, progress bars, independent random streams.

Every job that splits work goes through ``run_tasks``: a deterministic list of tasks (a
module-level function and its arguments, so they pickle), run in order in-process or on any
executor, results put back in task order. Who uses it:

* ``count_primes`` / ``prime_histogram`` with ``executor=``, ``checkpoint=`` or ``progress=``:
  the interval is cut into pieces of about ``nextdigit.counting.PIECE`` = 2**30 integers
  (histograms: whole buckets per piece), every piece an independent exact count (``threads=1``
  inside), combined by addition / concatenation;
* ``analysis.monte_carlo_tvd`` and ``models.generate_many`` (mass sampling): fixed-size chunks of
  samples, chunk ``i`` drawing from the ``i``-th child of the job's seed
  (``SeedSequence.spawn``, see ``seed_sequences``);
* the experiment sweeps in ``nextdigit.analysis.experiments``: one task per table row (or per n).

The split depends only on the job's parameters and the random streams only on its seed, so the
result is identical whatever runs the tasks (in-process, a process pool, a Dask cluster):

* ``executor``: any ``concurrent.futures.Executor`` (a ``ProcessPoolExecutor`` uses every core;
  a Dask cluster works the same through ``client.get_executor()`` — point ``Client`` at the
  scheduler's address, e.g. ``Client("tcp://scheduler:8786").get_executor()``, with nextdigit
  installed on the workers);
* ``checkpoint``: a file path. After each finished piece the file is rewritten atomically (a
  temporary file, then ``os.replace``) with the job's parameters and the finished pieces'
  results; a later call with the same parameters resumes from it (and a file written for other
  parameters is refused, not silently mixed in). The file is removed when the job completes.
* ``progress``: a tqdm bar over the pieces.

Each of these arguments has one validator here (``check_executor``, ``check_checkpoint``,
``check_progress``; ``rng`` has ``nextdigit._util.rng.check_rng``), called by every public
function that takes it before any work: a wrong type is a ``TypeError`` naming the argument, a
checkpoint path in a missing directory or an unreadable / foreign checkpoint file a
``ValueError`` that names the file and says how to proceed.  On Ctrl-C (or a failed task) the
tasks still queued on the executor are cancelled before the exception propagates.
``process_pool(workers)`` is the process pool the library itself creates (the CLI's
``--workers``): started by ``forkserver`` / ``spawn``, never ``fork``.

A job that draws random numbers can only be checkpointed with an ``int`` seed (``rng=1234``):
the resumed run must recreate the same child streams, which a ``Generator`` cannot promise.
"""
from __future__ import annotations

import json
import multiprocessing
import os
import signal
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed

import numpy as np

from .rng import check_rng, seed_sequences
from .validate import as_bool, short

__all__ = ["run_tasks", "seed_sequences", "checkpoint_seed", "check_executor", "check_checkpoint", "check_progress",
           "process_pool"]


def check_executor(executor):
    """``executor`` is None or an executor (anything with a callable ``submit``, such as a
    ``concurrent.futures.Executor`` or ``dask.distributed.Client.get_executor()``); else a
    TypeError naming it.  Every function that takes ``executor=`` checks it here first, also
    on routes that end up not splitting the work."""
    if executor is not None and not callable(getattr(executor, "submit", None)):
        raise TypeError("executor must be None or a concurrent.futures.Executor (an object with a submit "
                        f"method), not {type(executor).__name__}")
    return executor


def check_checkpoint(checkpoint):
    """``checkpoint`` is None or a file path (``str`` or ``os.PathLike``); returns the path as a
    str.  Checked before any work: anything else is a TypeError (``False`` is not "no
    checkpoint", ``123`` is not a file descriptor), a path whose directory does not exist a
    ValueError, and an existing file must be a readable checkpoint (``_read``)."""
    if checkpoint is None:
        return None
    if isinstance(checkpoint, (bool, int)) or not isinstance(checkpoint, (str, os.PathLike)):
        raise TypeError(f"checkpoint must be None or a file path (str or os.PathLike), not {type(checkpoint).__name__}")
    path = os.fspath(checkpoint)
    if not isinstance(path, str):
        raise TypeError(f"checkpoint must be a str path or an os.PathLike giving one, not {type(path).__name__}")
    if path == "" or "\x00" in path or os.path.isdir(path):
        raise ValueError(f"checkpoint must name a file, got {short(path)}")
    folder = os.path.dirname(path) or "."
    if not os.path.isdir(folder):
        raise ValueError(f"checkpoint {path!r}: the directory {folder!r} does not exist")
    if os.path.exists(path):
        _read(path)
    return path


def check_progress(progress) -> bool:
    """``progress`` is True or False (a string or a number is not silently truthy)."""
    return as_bool(progress, "progress")


def checkpoint_seed(rng, checkpoint):
    """The JSON-able seed a checkpointed random job records (an int), or None without a checkpoint."""
    rng = check_rng(rng)
    if checkpoint is None:
        return None
    if isinstance(rng, int):
        return rng
    raise ValueError("checkpoint= needs rng to be an int seed (a resumed job must recreate the same random "
                     f"streams), got {type(rng).__name__}")


def _worker_init() -> None:
    """Pool workers ignore SIGINT: Ctrl-C reaches the whole process group, and the parent, not
    each worker, turns it into one KeyboardInterrupt (and stops the pool)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _noop() -> None:
    return None


def process_pool(workers: int, *, start: bool = False) -> ProcessPoolExecutor:
    """A ``ProcessPoolExecutor`` of ``workers`` processes started by ``forkserver`` (``spawn``
    where that is missing), never by ``fork``: forking a process that runs threads (OpenMP,
    numpy, the executor's own) can deadlock the child, and Python 3.12+ warns about it.  Its
    workers ignore SIGINT (``_worker_init``).  ``start=True`` waits until the workers are up, so
    that stopping the pool never meets a half-started worker."""
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    pool = ProcessPoolExecutor(workers, mp_context=ctx, initializer=_worker_init)
    if start:
        for fut in [pool.submit(_noop) for _ in range(workers)]:
            fut.result()
    return pool


def _read(path):
    """The state of a checkpoint file, or a ValueError that says which file and what to do."""
    try:
        with open(path) as fh:
            state = json.load(fh)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"checkpoint {path!r} cannot be read as a nextdigit checkpoint ({type(exc).__name__}: "
                         f"{exc}); delete the file to start the job over") from None
    if not (isinstance(state, dict) and "key" in state and isinstance(state.get("done"), dict)):
        raise ValueError(f"checkpoint {path!r} is not a nextdigit checkpoint (no job key and results); delete the "
                         "file to start the job over")
    return state


def _load(path, key):
    if path is None or not os.path.exists(path):
        return {}
    state = _read(path)
    if state.get("key") != key:
        raise ValueError(f"checkpoint {path!r} belongs to another job ({short(state.get('key'), 300)}), not "
                         f"{short(key, 300)}; use another file, or delete it to start this job")
    try:
        return {int(k): v for k, v in state["done"].items()}
    except ValueError:
        raise ValueError(f"checkpoint {path!r} is damaged (bad task numbers); delete the file to start the job "
                         "over") from None


def _jsonable(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"checkpointed results must be JSON values, not {type(obj).__name__}")


def _save(path, key, done):
    tmp = f"{path}.tmp"
    with open(tmp, "w") as fh:
        json.dump({"key": key, "done": {str(k): v for k, v in done.items()}}, fh, default=_jsonable)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def run_tasks(tasks, key=None, executor: Executor | None = None, checkpoint=None, progress: bool = False,
              desc: str = "pieces"):
    """Run ``tasks`` (a list of ``(func, args)``) and return their results in task order.

    ``key`` (a JSON-able dict of the job's parameters) identifies the job in its ``checkpoint``
    file; results must then be JSON values (numpy scalars and arrays are converted).
    """
    check_executor(executor)
    checkpoint = check_checkpoint(checkpoint)
    progress = check_progress(progress)
    if checkpoint is not None:
        if key is None:
            raise ValueError("a checkpointed job needs a key describing its parameters")
        key = json.loads(json.dumps(key, default=_jsonable))  # compare as it will be read back
    done = _load(checkpoint, key)
    todo = [i for i in range(len(tasks)) if i not in done]
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(tasks), initial=len(tasks) - len(todo), desc=desc, leave=False)

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
            futures = {}
            try:
                for i in todo:
                    futures[executor.submit(tasks[i][0], *tasks[i][1])] = i
                for fut in as_completed(futures):
                    finished(futures[fut], fut.result())
            except BaseException:
                # Ctrl-C or a failed task: the queued tasks must not run on after the job is
                # abandoned (the finished ones are in the checkpoint already)
                for fut in futures:
                    fut.cancel()
                raise
    finally:
        if bar is not None:
            bar.close()
    if checkpoint is not None and os.path.exists(checkpoint):
        os.remove(checkpoint)
    return [done[i] for i in range(len(tasks))]
