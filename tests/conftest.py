"""Shared fixtures: reference tables from ../shared/reference and a plain sieve oracle."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference"


def read_reference(name: str) -> list[list[str]]:
    """Rows of a ``../shared/reference/*.tsv`` table (comments dropped).  Missing is an error:
    these are the independent references the exactness tests stand on."""
    path = REFERENCE / name
    if not path.exists():
        pytest.fail(f"reference table {path} is missing (the repo expects ../shared beside it)")
    rows = []
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            rows.append(line.split("\t"))
    return rows


def plain_sieve(n: int) -> np.ndarray:
    """Boolean array is_prime[0..n) by the textbook sieve of Eratosthenes (the oracle)."""
    s = np.ones(n, dtype=bool)
    s[: min(n, 2)] = False
    for i in range(2, int(n**0.5) + 1):
        if s[i]:
            s[i * i :: i] = False
    return s


@pytest.fixture(scope="session")
def sieve_1e7() -> np.ndarray:
    return plain_sieve(10**7)
