"""Peak memory of a long count: the sieve's memory is O(segment + sqrt(b)), independent of b - a
(the sieve is forced: the automatic route would answer with prime_pi in milliseconds).

Counting [0, 1e11) peaks at ~39 MiB resident here, the same as importing nextdigit (numpy,
gmpy2, sympy): the documented bound is 128 MiB."""
from __future__ import annotations

import subprocess
import sys

import pytest

PEAK_LIMIT_KIB = 128 * 1024

# VmHWM (the peak of this process's own memory map) rather than ru_maxrss: Linux carries
# ru_maxrss across fork + exec, so a child of a big pytest process would report the parent's peak.
SCRIPT = """
import nextdigit as nd
assert nd.count_primes(0, 10**11, threads=2, _mode="sieve") == 4118054813
print([line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM")][0])
"""


@pytest.mark.slow
def test_counting_1e11_peak_memory():
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True, timeout=600)
    peak_kib = int(out.stdout.split()[-1])
    assert peak_kib < PEAK_LIMIT_KIB, f"peak RSS {peak_kib} KiB"
