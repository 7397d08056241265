"""Scale-out and resilience: the same job gives the same result in-process, on a process pool
and on a Dask cluster; a SIGKILLed checkpointed job resumes to the uninterrupted result."""
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np
import pytest

from nextdigit import count_primes, prime_histogram, prime_pi
from nextdigit.analysis import block_tvd, monte_carlo_tvd
from nextdigit.analysis.experiments import attack, li_tvd
from nextdigit.models import generate_many
from nextdigit import random_primes
from nextdigit.tasks.primes import DensityPrimeModel, ExactPrimeModel, RandomizedPrimeModel
from nextdigit._util.scale import run_tasks, seed_sequences


def _strip_seconds(result):
    return [{k: v for k, v in r.items() if not k.startswith("seconds")} for r in result["rows"]]


def _jobs(executor):
    """One of every kind of split job; everything that is compared must be exact or seeded."""
    return {
        "count": count_primes(10**18, 10**18 + 2 * 2**30, executor=executor),  # sieved pieces (pi is dearer)
        "histogram": prime_histogram(10**10, 2**28, 10, executor=executor).tolist(),
        "block_tvd": block_tvd(7, 2, chunk_blocks=1 << 16, executor=executor),
        "mc_tvd": monte_carlo_tvd(DensityPrimeModel(8, tail=2), 5761455, 600, rng=5, executor=executor),
        "randomized": generate_many(RandomizedPrimeModel(12), 9000, rng=6, executor=executor),
        "exact": generate_many(ExactPrimeModel(7), 5000, rng=7, executor=executor),
        "li_tvd": _strip_seconds(li_tvd((7, 12), (3,), mc_samples=30, rng=8, executor=executor)),
        "big_primes": random_primes(40, 5, rng=9, executor=executor),
    }


@pytest.fixture(scope="module")
def in_process():
    return _jobs(None)


def test_seed_sequences():
    a, b = seed_sequences(3, 4), seed_sequences(3, 4)
    assert [s.generate_state(2).tolist() for s in a] == [s.generate_state(2).tolist() for s in b]
    assert len({tuple(s.generate_state(2)) for s in a}) == 4
    gen = np.random.default_rng(1)
    assert len(seed_sequences(gen, 3)) == 3
    with pytest.raises(TypeError, match="rng"):
        seed_sequences(1.5, 2)
    with pytest.raises(ValueError, match="rng"):
        generate_many(RandomizedPrimeModel(5), 3, rng=-1)


def test_split_jobs_match_references(in_process):
    # in-process (executor=None) counts take the unsplit route; the executors below run the
    # split pieces, so comparing with them checks the split too
    assert in_process["block_tvd"] == pytest.approx(block_tvd(7, 2), rel=1e-12)  # other chunking: rounding only
    assert count_primes(10**9, 10**9 + 3 * 2**30, executor=ThreadPoolExecutor(1)) == \
        prime_pi(10**9 + 3 * 2**30 - 1) - prime_pi(10**9 - 1)  # a span pi counts faster is not split
    assert len(in_process["randomized"]) == 9000 and len(set(map(len, in_process["randomized"]))) == 1
    assert all(len(x) == 7 for x in in_process["exact"])


@pytest.mark.parametrize("kind", ["threads", "processes"])
def test_same_result_on_any_executor(in_process, kind):
    pool = ThreadPoolExecutor(2) if kind == "threads" else ProcessPoolExecutor(2)
    with pool as ex:
        assert _jobs(ex) == in_process


def test_same_result_on_dask_local_cluster(in_process):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            assert _jobs(client.get_executor()) == in_process


def test_checkpoint_needs_int_seed_and_refuses_foreign_files(tmp_path):
    ck = tmp_path / "ck.json"
    with pytest.raises(ValueError, match="int seed"):
        generate_many(RandomizedPrimeModel(5), 10, rng=np.random.default_rng(1), checkpoint=str(ck))
    ck.write_text(json.dumps({"key": {"job": "something else"}, "done": {}}))
    with pytest.raises(ValueError, match="another job"):
        generate_many(RandomizedPrimeModel(5), 10, rng=1, checkpoint=str(ck))
    with pytest.raises(ValueError, match="key"):
        run_tasks([(int, ("1",))], None, checkpoint=str(ck))


_HIST_JOB = "prime_histogram(10**15, 2**27, 48, checkpoint={ck!r})"
_SWEEP_JOB = "li_tvd((12,), (1, 2, 3, 4), mc_samples=40, rng=11, checkpoint={ck!r})"


def _kill_mid_run(tmp_path, job: str, min_done: int):
    """Start ``job`` in a subprocess, SIGKILL it once its checkpoint holds ``min_done`` results."""
    ck = str(tmp_path / "job.ckpt")
    code = textwrap.dedent(f"""
        from nextdigit import prime_histogram
        from nextdigit.analysis.experiments import li_tvd
        {job.format(ck=ck)}
        print("finished")
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    done = 0
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if os.path.exists(ck):
                with open(ck) as fh:
                    done = len(json.load(fh)["done"])  # atomic replace: always a whole file
                if done >= min_done:
                    proc.send_signal(signal.SIGKILL)
                    break
            time.sleep(0.005)
    finally:
        if proc.poll() is None:
            proc.kill()
        out, err = proc.communicate()
    assert proc.returncode == -signal.SIGKILL, (proc.returncode, out, err)
    assert b"finished" not in out
    return ck, done


def test_sigkill_then_resume_histogram(tmp_path, monkeypatch):
    import nextdigit.counting as scale

    ck, done = _kill_mid_run(tmp_path, _HIST_JOB, 2)
    total = 6  # 48 buckets of 2**27, 8 buckets per 2**30 piece
    calls = []
    real = scale._hist_piece
    monkeypatch.setattr(scale, "_hist_piece", lambda *a: calls.append(a) or real(*a))
    resumed = prime_histogram(10**15, 2**27, 48, checkpoint=ck)
    assert len(calls) == total - done < total          # it really resumed: finished pieces were skipped
    assert not os.path.exists(ck)                       # and cleaned up after completing
    monkeypatch.undo()
    assert resumed.tolist() == prime_histogram(10**15, 2**27, 48).tolist()


def test_sigkill_then_resume_experiment_sweep(tmp_path):
    ck, done = _kill_mid_run(tmp_path, _SWEEP_JOB, 1)
    assert 1 <= done < 4
    with open(ck) as fh:
        saved = json.load(fh)["done"]
    resumed = li_tvd((12,), (1, 2, 3, 4), mc_samples=40, rng=11, checkpoint=ck)
    fresh = li_tvd((12,), (1, 2, 3, 4), mc_samples=40, rng=11)
    assert _strip_seconds(resumed) == _strip_seconds(fresh)
    for i, row in saved.items():                       # the killed run's rows were reused as written
        assert resumed["rows"][int(i)]["seconds"] == row["seconds"]


def test_attack_sweep_is_seeded_per_n():
    a = attack((2, 3), trials=3, rng=4)
    b = attack((2, 3), trials=3, rng=4)
    assert [(r["digits"], r["model"], r["success_rate"]) for r in a["rows"]] == \
           [(r["digits"], r["model"], r["success_rate"]) for r in b["rows"]]
