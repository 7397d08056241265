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


# An interrupted count near 2**64 holds ~800 MB of sieving-prime lists; the kernel hands them to
# a background thread to free, so that KeyboardInterrupt comes at once.  The memory must still go
# back: resident size a moment later is near the size before, and a second interrupted count
# does not add up.
INTERRUPT_SCRIPT = """
import signal, time
import nextdigit as nd

def status_mib(key):                # VmRSS (now) or VmHWM (peak) of this process, MiB
    return int([line.split()[1] for line in open("/proc/self/status") if line.startswith(key)][0]) // 1024

def alarm(signum, frame):
    raise KeyboardInterrupt

signal.signal(signal.SIGALRM, alarm)
before = status_mib("VmRSS")
peaks = []
for delay in (4.0, 3.0):            # after the producers: the pools are full
    signal.setitimer(signal.ITIMER_REAL, delay)
    try:
        nd.count_primes(2**64 - 4 * 10**10, 2**64, threads=2)
        raise SystemExit("not interrupted")
    except KeyboardInterrupt:
        peaks.append(status_mib("VmHWM"))
    time.sleep(2.0)
print(before, status_mib("VmRSS"), *peaks)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_interrupted_count_frees_its_memory():
    out = subprocess.run([sys.executable, "-c", INTERRUPT_SCRIPT], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    before, after, peak = (int(v) for v in out.stdout.split()[:3])
    assert peak - before > 300, (before, after, peak)      # the lists were there (the test can fail)
    assert after - before < 100, (before, after, peak)     # ... and they are gone
