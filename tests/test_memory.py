"""Peak memory of a long count: the sieve's memory is O(segment + sqrt(b)), independent of b - a.

Counting [0, 1e11) peaks at ~39 MiB resident here, the same as importing nextdigit (numpy,
gmpy2, sympy): the documented bound is 128 MiB."""
from __future__ import annotations

import subprocess
import sys

import pytest

PEAK_LIMIT_KIB = 128 * 1024

SCRIPT = """
import resource, nextdigit as nd
assert nd.count_primes(0, 10**11, threads=2) == 4118054813
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


@pytest.mark.slow
def test_counting_1e11_peak_memory():
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True, timeout=600)
    peak_kib = int(out.stdout.split()[-1])
    assert peak_kib < PEAK_LIMIT_KIB, f"peak RSS {peak_kib} KiB"
