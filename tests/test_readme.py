"""The README's examples run against the installed package.

* The "API tour" block runs as written, each commented value checked where the comment states
  one (the block's own comments are the expected results).
* Every ``import`` / ``from nextdigit... import`` line of every Python block resolves (the
  scale-out block also talks to a Dask scheduler that a test cannot have, so only its imports
  are checked).
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), re.S)


def test_readme_has_python_blocks():
    assert len(python_blocks()) >= 2


def test_api_tour_runs_and_its_comments_hold():
    block = next(b for b in python_blocks() if "import nextdigit as nd" in b and "is_prime" in b)
    ns: dict = {}
    results = []
    for line in block.splitlines():
        code = line.split("#", 1)[0].rstrip()
        if not code:
            continue
        if code.startswith(("import ", "from ")) or "=" in code.split("(")[0]:
            exec(code, ns)
        else:
            results.append((code, eval(code, ns), line.split("#", 1)[1].strip() if "#" in line else ""))
    got = {code: value for code, value, _ in results}
    assert got["nd.is_prime(2**64 - 59)"] is True
    assert got["nd.next_prime(10**18), nd.prev_prime(2**64)"] == (1000000000000000003, 18446744073709551557)
    assert got["nd.prime_pi(10**16)"] == 279238341033925
    assert got["nd.nth_prime(10**9)"] == 22801763489
    assert got["nd.primes_between(90, 110)"].tolist() == [97, 101, 103, 107, 109]
    assert got["nd.prime_histogram(0, 10, 5)"].tolist() == [4, 4, 2, 2, 3]
    assert got['nd.digit_counts("", 2)'].tolist() == [0, 4, 2, 2, 3, 2, 2, 3, 2, 1]
    logp, exact = got['log_prob(ExactPrimeModel(3), "", "101")']
    assert str(exact) == "1/143" and abs(logp - -4.962844630259907) < 1e-12
    p = got["nd.random_prime(1024, rng=7, base=2)"]
    assert p.bit_length() == 1024 and nd_is_prime(p)


def nd_is_prime(n):
    import gmpy2

    return bool(gmpy2.is_prime(n))


@pytest.mark.parametrize("line", sorted({ln.strip() for b in python_blocks() for ln in b.splitlines()
                                         if re.match(r"\s*(from nextdigit\S* import|import nextdigit)", ln)}))
def test_every_import_line_resolves(line):
    code = line.split("#", 1)[0].strip()
    if code.endswith("("):          # a parenthesised import continued on the next line
        pytest.fail(f"write README imports on one line so this test can check them: {line}")
    exec(code, {})
