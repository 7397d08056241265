"""prime_pi / nth_prime benchmarks: nextdigit (1 and 2 threads) against primecount, one group per
x so the ratios are read off one run:

    pytest benchmarks/bench_pi.py --benchmark-only -o addopts="" -p no:randomly

Peers in every ``pi(1eK)`` group:

* ``primecountpy t1``: the primecountpy binding (it bundles primecount 8.0) in a worker process
  started with ``OMP_NUM_THREADS=1``; the timed call is one request to the running worker
  (no process start-up inside the timing);
* ``primecount CLI t1`` / ``t2``: the ``primecount`` command (Debian's 7.6 in /usr/bin by
  default; set ``NEXTDIGIT_PRIMECOUNT=/path/to/primecount`` for another build, e.g. 8.7 built
  from its public source with -O3 -march=native outside this repo); its time includes process
  start-up (~2 ms).

The pi cache (values and tables) is cleared before every timed nextdigit call, so every round
does the whole computation.  ``nth_prime(1e10)`` is timed beside the primecount CLI's
``--nth-prime 1e10`` and sympy's ``prime(1e7)`` (sympy at 1e10 would take hours).  The exact
model groups time one 14- and one 15-digit sample, cold (a fresh model, empty pi cache) and warm
(the same model after earlier samples).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from nextdigit import _pi
from nextdigit.nthprime import nth_prime
from nextdigit.pi import clear_cache, prime_pi

EXPECT = {12: 37607912018, 13: 346065536839, 14: 3204941750802, 15: 29844570422669, 16: 279238341033925,
          17: 2623557157654233}
ROUNDS = {12: 7, 13: 7, 14: 5, 15: 3, 16: 3, 17: 2}
KS = [12, 13, 14, 15, 16, 17]     # the targets are 1e13, 1e15 and 1e17


def _primecount_exe():
    exe = os.environ.get("NEXTDIGIT_PRIMECOUNT") or shutil.which("primecount")
    if exe is None and os.path.exists("/usr/bin/primecount"):
        exe = "/usr/bin/primecount"
    return exe


def _primecount_version(exe):
    try:
        out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=10).stdout
        return out.splitlines()[0].strip() if out else "?"
    except (OSError, subprocess.SubprocessError):
        return "?"


def _nd(x, threads):
    def run():
        clear_cache()
        return prime_pi(x, threads=threads)
    return run


@pytest.mark.parametrize("k", KS)
@pytest.mark.parametrize("threads", [1, 2])
def test_nextdigit(benchmark, k, threads):
    benchmark.group = f"pi(1e{k})"
    benchmark.extra_info.update(x=f"1e{k}", threads=threads, params=list(_pi._params(10**k)))
    got = benchmark.pedantic(_nd(10**k, threads), rounds=ROUNDS[k], iterations=1, warmup_rounds=0)
    assert got == EXPECT[k]
    st = _pi._last_stats()
    if st:
        benchmark.extra_info.update(
            d_cpu_s=sum(st["d_chunk_s"]), ac_cpu_s=st["ac_table_s"] + sum(st["ac_chunk_s"]),
            phi0_cpu_s=st["phi0_s"], level=st["level"])


_WORKER = r"""
import sys
import primecountpy
for line in sys.stdin:
    print(primecountpy.prime_pi(int(line)), flush=True)
"""


@pytest.fixture(scope="module")
def primecountpy_worker():
    pytest.importorskip("primecountpy")
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.Popen([sys.executable, "-c", _WORKER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True, env=env)

    def ask(x):
        proc.stdin.write(f"{x}\n")
        proc.stdin.flush()
        return int(proc.stdout.readline())

    ask(1000)                                  # import and first call outside the timing
    yield ask
    proc.stdin.close()
    proc.wait(timeout=30)


@pytest.mark.parametrize("k", KS)
def test_primecountpy_t1(benchmark, k, primecountpy_worker):
    benchmark.group = f"pi(1e{k})"
    benchmark.extra_info.update(x=f"1e{k}", note="primecountpy (bundles primecount 8.0), OMP_NUM_THREADS=1, "
                                "worker process")
    got = benchmark.pedantic(primecountpy_worker, args=(10**k,), rounds=ROUNDS[k], iterations=1)
    assert got == EXPECT[k]


@pytest.mark.parametrize("k", KS)
@pytest.mark.parametrize("threads", [1, 2])
def test_primecount_cli(benchmark, k, threads):
    exe = _primecount_exe()
    if exe is None:
        pytest.skip("primecount CLI not installed (apt-get install primecount, or NEXTDIGIT_PRIMECOUNT=...)")
    benchmark.group = f"pi(1e{k})"
    benchmark.extra_info.update(x=f"1e{k}", threads=threads, exe=exe, version=_primecount_version(exe),
                                note="primecount CLI (includes process start)")

    def run():
        out = subprocess.run([exe, f"1e{k}", f"-t{threads}"], capture_output=True, text=True, check=True)
        return int(out.stdout.split()[-1])

    got = benchmark.pedantic(run, rounds=ROUNDS[k], iterations=1)
    assert got == EXPECT[k]


# ---------------------------------------------------------------------------------------------
# nth_prime
# ---------------------------------------------------------------------------------------------
P_1E10 = 252097800623      # OEIS A006988


@pytest.mark.parametrize("threads", [1, 2])
def test_nth_prime_nextdigit(benchmark, threads):
    benchmark.group = "nth_prime(1e10)"
    benchmark.extra_info.update(n="1e10", threads=threads)

    def run():
        clear_cache()
        return nth_prime(10**10, threads=threads)

    assert benchmark.pedantic(run, rounds=5, iterations=1) == P_1E10


def test_nth_prime_primecount_cli(benchmark):
    exe = _primecount_exe()
    if exe is None:
        pytest.skip("primecount CLI not installed")
    benchmark.group = "nth_prime(1e10)"
    benchmark.extra_info.update(n="1e10", exe=exe, version=_primecount_version(exe), threads=1)

    def run():
        out = subprocess.run([exe, "1e10", "--nth-prime", "-t1"], capture_output=True, text=True, check=True)
        return int(out.stdout.split()[-1])

    assert benchmark.pedantic(run, rounds=5, iterations=1) == P_1E10


def test_nth_prime_sympy_1e7(benchmark):
    sympy = pytest.importorskip("sympy")
    benchmark.group = "nth_prime(1e10)"
    benchmark.extra_info.update(n="1e7", note="sympy.prime at n = 1e7 (1e10 is out of its reach)")
    assert benchmark.pedantic(lambda: int(sympy.prime(10**7)), rounds=1, iterations=1) == 179424673


# ---------------------------------------------------------------------------------------------
# the exact autoregressive model (one sample = up to digits * base exact counts)
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("digits", [14, 15])
@pytest.mark.parametrize("mode", ["cold", "warm"])
def test_exact_model(benchmark, digits, mode):
    import gmpy2

    from nextdigit.models import generate
    from nextdigit.tasks.primes import ExactPrimeModel

    benchmark.group = f"exact model {digits} digits"
    benchmark.extra_info.update(digits=digits, mode=mode)
    gen = np.random.default_rng(digits)
    if mode == "warm":
        model = ExactPrimeModel(digits)
        for _ in range(3):
            generate(model, "", gen)
        out = benchmark.pedantic(lambda: generate(model, "", gen), rounds=5, iterations=1)
    else:
        def cold():
            clear_cache()
            return generate(ExactPrimeModel(digits), "", gen)

        out = benchmark.pedantic(cold, rounds=3 if digits == 14 else 2, iterations=1)
    assert len(out) == digits and gmpy2.is_prime(int(out))
