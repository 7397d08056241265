"""Every CLI command through a subprocess, with --json parseable output; --plot writes a PNG."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest


def run(*args, check=True):
    r = subprocess.run([sys.executable, "-m", "nextdigit", *args], capture_output=True, text=True, timeout=300)
    if check:
        assert r.returncode == 0, r.stderr
    return r


@pytest.mark.parametrize(
    "args",
    [
        ["isprime", "97", "2^61-1"],
        ["next-prime", "10^18"],
        ["prev-prime", "2^64"],
        ["count", "0", "10^6"],
        ["digits", "12", "--digits", "6"],
        ["sample", "--model", "randomized", "--digits", "25", "--count", "3", "--seed", "1"],
        ["sample", "--model", "exact", "--digits", "5", "--count", "3", "--seed", "1"],
        ["sample", "--model", "approx", "--digits", "40", "--tail", "3", "--count", "2", "--seed", "1"],
        ["sample", "--hidden", "--digits", "30", "--count", "2", "--seed", "1"],
        ["factor-attack", "1249*2297"],
        ["tvd", "--digits", "7", "--tail", "2"],
        ["experiment", "gpt4-footnote"],
        ["experiment", "first-digit", "--digits", "4", "5"],
        ["experiment", "library-bias", "--digits", "5"],
        ["experiment", "li-tvd", "--digits", "6"],
        ["experiment", "attack", "--digits", "2", "3"],
        ["experiment", "twenty-questions", "--digits", "4", "6", "--seed", "2"],
    ],
)
def test_command_json(args):
    out = run(*args, "--json").stdout
    data = json.loads(out)
    assert data


def test_sample_is_reproducible_and_prime():
    import gmpy2

    a = json.loads(run("sample", "--digits", "30", "--count", "4", "--seed", "7", "--json").stdout)
    b = json.loads(run("sample", "--digits", "30", "--count", "4", "--seed", "7", "--json").stdout)
    assert a == b
    assert all(len(s) == 30 and gmpy2.is_prime(int(s)) for s in a["samples"])


def test_factor_attack_reports_failure_with_exit_code():
    r = run("factor-attack", "1000000007*998244353", "--model", "budgeted", "--budget", "10", check=False)
    assert r.returncode == 1 and "no factorization" in r.stdout


def test_pi_command():
    pytest.importorskip("nextdigit.pi")
    assert json.loads(run("pi", "10^9", "--json").stdout)["pi"] == "50847534"


def test_nth_prime_command():
    assert run("nth-prime", "10^6").stdout.strip() == "15485863"
    assert json.loads(run("nth-prime", "10^9", "--json").stdout)["prime"] == "22801763489"
    bad = run("nth-prime", "0", check=False)
    assert bad.returncode != 0 and "n must be in" in bad.stderr


def test_plot_writes_png(tmp_path):
    pytest.importorskip("matplotlib")
    for args in (["experiment", "li-tvd", "--digits", "6"], ["digits", "", "--digits", "5"]):
        f = tmp_path / "x.png"
        run(*args, "--plot", str(f))
        assert f.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_workers_and_checkpoint_give_the_same_answers(tmp_path):
    ck = str(tmp_path / "count.json")
    a = json.loads(run("count", "10^18", "10^18+2^31", "--workers", "2", "--checkpoint", ck, "--json").stdout)
    b = json.loads(run("count", "10^18", "10^18+2^31", "--json").stdout)
    assert a == b
    keep = ("digits", "model", "success_rate")
    rows = [json.loads(run("experiment", "attack", "--digits", "2", "3", "--seed", "5", *extra, "--json").stdout)["rows"]
            for extra in ([], ["--workers", "2"])]
    plain, pooled = ([{k: r[k] for k in keep} for r in rs] for rs in rows)
    assert plain == pooled
    r = run("experiment", "polyroots", "--workers", "2", check=False)
    assert r.returncode == 2 and "timing table" in r.stderr


def test_bad_arguments_exit_2():
    assert run("isprime", "abc", check=False).returncode == 2
    assert run("digits", "0x", "--digits", "5", check=False).returncode == 2
    assert run("experiment", "nope", check=False).returncode == 2
