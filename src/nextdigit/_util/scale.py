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

A job that draws random numbers can only be checkpointed with an ``int`` seed (``rng=1234``):
the resumed run must recreate the same child streams, which a ``Generator`` cannot promise.
"""
from __future__ import annotations

import json
import os
from concurrent.futures import Executor, as_completed

import numpy as np

__all__ = ["run_tasks", "seed_sequences", "checkpoint_seed"]


def seed_sequences(rng, n: int) -> list[np.random.SeedSequence]:
    """``n`` independent child seeds of ``rng`` (SPEC 7: None | int | SeedSequence | Generator).

    An int (or None) seeds a fresh ``SeedSequence`` and spawns from it, so the same int always
    gives the same children; a ``SeedSequence`` or a ``Generator`` spawns from its own seed
    sequence (numpy's semantics: a second call gives new children).
    """
    from .rng import as_generator

    if rng is None or isinstance(rng, (int, np.integer)) and not isinstance(rng, (bool, np.bool_)):
        if rng is not None and rng < 0:
            raise ValueError(f"rng must be a non-negative int seed, got {rng}")
        return np.random.SeedSequence(None if rng is None else int(rng)).spawn(n)
    if isinstance(rng, np.random.SeedSequence):
        return rng.spawn(n)
    gen = as_generator(rng)  # rejects bools, floats, strings with a TypeError naming rng
    seq = getattr(gen.bit_generator, "seed_seq", None)
    if isinstance(seq, np.random.SeedSequence):
        return seq.spawn(n)
    return [np.random.SeedSequence(int(x)) for x in gen.integers(0, 2**63, size=n)]


def checkpoint_seed(rng, checkpoint):
    """The JSON-able seed a checkpointed random job records (an int), or None without a checkpoint."""
    if checkpoint is None:
        return None
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, (bool, np.bool_)):
        return int(rng)
    raise ValueError("checkpoint= needs rng to be an int seed (a resumed job must recreate the same random "
                     f"streams), got {type(rng).__name__}")


def _load(path, key):
    if path is None or not os.path.exists(path):
        return {}
    with open(path) as fh:
        state = json.load(fh)
    if state.get("key") != key:
        raise ValueError(f"checkpoint {path} belongs to another job ({state.get('key')}), not {key}")
    return {int(k): v for k, v in state["done"].items()}


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
            futures = {executor.submit(tasks[i][0], *tasks[i][1]): i for i in todo}
            for fut in as_completed(futures):
                finished(futures[fut], fut.result())
    finally:
        if bar is not None:
            bar.close()
    if checkpoint is not None and os.path.exists(checkpoint):
        os.remove(checkpoint)
    return [done[i] for i in range(len(tasks))]
