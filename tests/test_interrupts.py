"""Ctrl-C during long kernel calls: SIGINT to a subprocess raises KeyboardInterrupt within a
second, and the process stays usable afterwards."""
from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time

import pytest

SCRIPT = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    import nextdigit as nd
    def primes(threads, passes=4):  # a pass can take under a second: several, same memory
        a = np.arange(1, 6 * 10**7, dtype=np.uint64) | np.uint64(2**62 + 1)
        for _ in range(passes):
            nd.is_prime(a, threads=threads)
    work = {
        "is_prime": lambda: primes(1),
        "is_prime_threads": lambda: primes(2),
        "count_primes": lambda: nd.count_primes(0, 10**12, threads=1, _mode="sieve"),
        "sieve_pieces": lambda: nd.count_primes(0, 10**12, threads=2, _mode="sieve"),
        "sieve_round_robin": lambda: nd.count_primes(10**18, 10**18 + 10**12, threads=2, _mode="sieve"),
        "big_window": lambda: nd.count_primes(10**200, 10**200 + 3 * 10**9),
    }[sys.argv[1]]
    print("ready", flush=True)
    try:
        work()
        print("finished", flush=True)
    except KeyboardInterrupt:
        print("interrupted", time.perf_counter(), flush=True)
        assert nd.is_prime(2**61 - 1) and nd.count_primes(0, 100) == 25
        print("usable", flush=True)
    """
)


@pytest.mark.parametrize("job", ["is_prime", "is_prime_threads", "count_primes", "sieve_pieces", "sieve_round_robin",
                                 "big_window"])
def test_sigint_interrupts_within_a_second(job):
    p = subprocess.Popen([sys.executable, "-c", SCRIPT, job], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == "ready"
        time.sleep(1.5)  # let the kernel get going
        sent = time.perf_counter()
        p.send_signal(signal.SIGINT)
        line = p.stdout.readline().split()
        assert line and line[0] == "interrupted", (line, p.stderr.read())
        assert float(line[1]) - sent < 1.0
        assert p.stdout.readline().strip() == "usable"
        assert p.wait(timeout=30) == 0
    finally:
        p.kill()
