"""Counting benchmarks: nextdigit's segmented sieve vs the primesieve CLI, 1 and 2 threads.

Groups (same interval and thread count within a group; primesieve's STOP is inclusive, so
nextdigit counts ``[start, stop + 1)``):

* ``count [0,1e10] t1`` / ``t2``          -- small sieving primes only (all below 1e5);
* ``count [1e15,1e15+1e9] t1`` / ``t2``   -- most sieving primes big (bucket sieve);
* ``count [1e18,1e18+1e9] t1`` / ``t2``   -- 50 million sieving primes, most of them hitting the
  window at most once: generating and placing them is half the work;
* ``count [1e18,1e18+1e6]``               -- a short window high up: nextdigit's window mode
  (sieve to 2**16 + batch BPSW) against primesieve's full sieve;
* ``histogram ... t1/t2``, ``primes_between ... t1/t2`` -- the same engine behind
  ``prime_histogram`` and ``primes_between`` (nextdigit only: the 2-thread speed-up is the point).

The peer is the ``primesieve`` command on PATH (Debian's primesieve-bin is 11.0), or the binary
named by the environment variable ``NEXTDIGIT_PRIMESIEVE`` (e.g. primesieve 12 built from its
public source outside the repo).  ``extra_info["version"]`` records which one ran.

nextdigit's sieving-prime cache is cleared before every round, so both sides do the whole job.
Run: ``python -m pytest benchmarks/bench_counting.py --benchmark-only -o addopts=""`` (add
``--benchmark-json`` to keep the numbers; ``-k t2`` for the two-thread groups only).
``extra_info`` holds the count and ns per integer of the interval.
"""
import os
import shutil
import subprocess

import numpy as np
import pytest

from nextdigit import counting
from nextdigit.counting import count_primes, prime_histogram, primes_between

from conftest import per_number, require_cli

INTERVALS = {
    "[0,1e10]": (0, 10**10, 5, 455052511),
    "[1e15,1e15+1e9]": (10**15, 10**15 + 10**9, 7, 28946421),
    "[1e18,1e18+1e9]": (10**18, 10**18 + 10**9, 5, 24127085),
}
WINDOW = ("count [1e18,1e18+1e6]", 10**18, 10**18 + 10**6, 10, 24280)
THREADS = (1, 2)


def _cold():
    counting._clear_cache()
    from nextdigit import pi

    pi.clear_cache()
    return (), {}


def _primesieve():
    exe = os.environ.get("NEXTDIGIT_PRIMESIEVE") or shutil.which("primesieve")
    if not exe or not os.path.exists(exe):
        require_cli("primesieve")                       # skips with the install hint
    out = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout.strip().splitlines()
    return exe, (out[0] if out else "primesieve")


# One test per (interval, threads, contender), nextdigit and primesieve back to back: on a
# noisy 2-vCPU guest the machine's speed drifts over minutes, and a group whose contenders ran
# minutes apart (all nextdigit rounds first, all primesieve rounds last) showed a ratio off by up
# to 10% from interleaved runs.
COUNT_CASES = [pytest.param(iv, t, who, id=f"{iv}-t{t}-{who}")
               for iv in INTERVALS for t in THREADS for who in ("nextdigit", "primesieve")]


@pytest.mark.parametrize("interval,threads,contender", COUNT_CASES)
def test_count(benchmark, interval, threads, contender):
    """nextdigit's sieve (mode forced: the automatic route may take prime_pi instead) against
    the primesieve command, the same interval and thread count."""
    start, stop, rounds, expected = INTERVALS[interval]
    benchmark.group = f"count {interval} t{threads}"
    if contender == "nextdigit":
        result = benchmark.pedantic(lambda: count_primes(start, stop + 1, threads=threads, _mode="sieve"),
                                    setup=_cold, rounds=rounds, iterations=1, warmup_rounds=1)
    else:
        exe, version = _primesieve()
        benchmark.extra_info["version"] = version
        cmd = [exe, str(start), str(stop), f"-t{threads}", "-c", "-q"]
        out = benchmark.pedantic(lambda: subprocess.run(cmd, capture_output=True, text=True, check=True).stdout,
                                 rounds=rounds, iterations=1, warmup_rounds=1)
        result = int(out.split()[-1])
    assert result == expected
    per_number(benchmark, stop - start + 1)


@pytest.mark.parametrize("contender", ["nextdigit window mode", "nextdigit auto route", "primesieve"])
def test_short_window_high_up(benchmark, contender):
    group, start, stop, rounds, expected = WINDOW
    benchmark.group = group
    if contender == "primesieve":
        exe, version = _primesieve()
        benchmark.extra_info["version"] = version
        cmd = [exe, str(start), str(stop), "-t1", "-c", "-q"]
        out = benchmark.pedantic(lambda: subprocess.run(cmd, capture_output=True, text=True, check=True).stdout,
                                 rounds=rounds, iterations=1, warmup_rounds=1)
        result = int(out.split()[-1])
    else:
        mode = "window" if contender == "nextdigit window mode" else None
        result = benchmark.pedantic(lambda: count_primes(start, stop + 1, threads=1, _mode=mode), setup=_cold,
                                    rounds=rounds, iterations=1, warmup_rounds=1)
    assert result == expected
    per_number(benchmark, stop - start + 1)


@pytest.mark.parametrize("threads", THREADS)
@pytest.mark.parametrize("interval", list(INTERVALS))
def test_nextdigit_histogram(benchmark, interval, threads):
    """prime_histogram with 1000 buckets over the interval (one sieve pass)."""
    start, stop, rounds, expected = INTERVALS[interval]
    benchmark.group = f"histogram {interval} 1000 buckets"
    width = (stop + 1 - start) // 1000
    h = benchmark.pedantic(lambda: prime_histogram(start, width, 1000, threads=threads, _mode="sieve"), setup=_cold,
                           rounds=rounds, iterations=1, warmup_rounds=1)
    assert int(h.sum()) == expected
    benchmark.extra_info["threads"] = threads


@pytest.mark.parametrize("threads", THREADS)
@pytest.mark.parametrize("interval", ["[1e15,1e15+1e9]", "[1e18,1e18+1e9]"])
def test_nextdigit_primes_between(benchmark, interval, threads):
    """primes_between: the same sieve, every prime written to a uint64 array."""
    start, stop, rounds, expected = INTERVALS[interval]
    benchmark.group = f"primes_between {interval}"
    arr = benchmark.pedantic(lambda: primes_between(start, stop + 1, threads=threads, _mode="sieve"), setup=_cold,
                             rounds=rounds, iterations=1, warmup_rounds=1)
    assert arr.shape == (expected,) and arr.dtype == np.uint64
    benchmark.extra_info["threads"] = threads
