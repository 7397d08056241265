"""Experiments that reproduce (or refute) the essay's claims; each is also a CLI command
(``nextdigit experiment NAME``).  Every function returns a dict with ``rows`` (a list of dicts)
and ``columns`` (their display order); ``nextdigit.analysis.plots.plot_experiment`` draws one
(matplotlib, optional).

* ``li_tvd``: TVD from uniform of the density model (li + exact last k digits) against n and k,
  exact by the block formula for n <= 11 and by Monte-Carlo beyond, beside the heuristic
  sqrt((ln(x/h) - 1.415)/(2 pi h)) — the "exponentially small error" claim, measured.
* ``first_digit``: the leading-digit law of n-digit primes, exact vs li.
* ``library_bias``: exact TVD from uniform of sympy.randprime and of next_prime(uniform) at 6-7
  digits, against nextdigit's samplers.
* ``gpt4_footnote``: the essay's 16 answers to "give me a random 6-digit number" through the
  uniformity tests.
* ``attack``: the factoring-attack table (``costs.attack_table``).
* ``polyroots``: the essay's other tasks, cost of the autoregressive model vs the hidden-state
  model: a uniform k-digit number (the baseline, no gap) and a random polynomial with integer
  roots written coefficients first (``costs.polyroots_cost_table``).
* ``twenty-questions``: Twenty Questions over SHA-256 bits of 2**m objects, AR answerer (counts
  the consistent objects, cost ~ 2**m) vs hidden-seed answerer (``costs.twentyq_cost_table``).
* ``sudoku``: a Sudoku puzzle then its solution, AR model (counts grid completions for every cell)
  vs hidden-seed model (ranks one uniform grid) for n x n grids, n in ``n_values``; n = 9 adds the
  9 x 9 hidden model (all 9 x 9 grids are counted once: minutes) and the cost of the 9 x 9 AR
  model's calls along one text (``costs.sudoku_cost_table``, ``costs.sudoku_nine_steps``).

The sweeps (all but ``gpt4_footnote``) run one task per row or per n through
``nextdigit._util.scale.run_tasks``: ``executor=`` spreads them over any ``concurrent.futures``
executor (process pool, Dask), ``checkpoint=`` (a file) lets a killed sweep resume where it
stopped, ``progress=`` shows a bar. Random rows draw from child seeds of ``rng``, so the table
(except its ``seconds`` columns) does not depend on the executor.
"""
from __future__ import annotations

import time
from fractions import Fraction

import numpy as np

from .._util.scale import checkpoint_seed, run_tasks, seed_sequences
from ..counting import can_count_exactly, primes_between
from ..density import density_masses
from ..pi import prime_pi
from ..prefix import digit_counts, prefix_count
from ..tasks.primes import DensityPrimeModel, ExactPrimeModel
from .costs import NINE_STEPS, attack_table, polyroots_cost_table, sudoku_cost_table, twentyq_cost_table
from .distance import block_tvd, exact_distribution, monte_carlo_tvd, next_prime_after_random_tvd, \
    sympy_randprime_tvd, tvd
from .uniformity import uniformity_test

__all__ = ["li_tvd", "first_digit", "library_bias", "gpt4_footnote", "attack", "polyroots", "twenty_questions",
           "sudoku", "EXPERIMENTS", "GPT4_ANSWERS", "NDIGIT_PRIME_COUNTS", "ndigit_prime_count", "format_table"]

GPT4_ANSWERS = [253489, 572931, 523749, 935271, 754823, 543219, 523891, 523689,
                537218, 247856, 527893, 537891, 523198, 523817, 523481, 254839]


def ndigit_prime_count(n: int, base: int = 10) -> int:
    """Number of n-digit primes: the counting engine where it reaches, else the reference
    table shipped in ../shared/reference (bundled here as a dict for n <= 26, base 10)."""
    lo, hi = base ** (n - 1), base**n
    if can_count_exactly(lo, hi) and hi - lo <= 10**10:
        return prefix_count("", n, base)
    if base == 10 and n in NDIGIT_PRIME_COUNTS:
        return NDIGIT_PRIME_COUNTS[n]
    if hi - 1 < 2**64:
        return prime_pi(hi - 1) - prime_pi(lo - 1)
    raise ValueError(f"the number of {n}-digit primes is not known here")


# pi(10**n) - pi(10**(n-1)) for n = 1..26 (OEIS A006879; the same values as
# ../shared/reference/ndigit_prime_counts.tsv, against which tests/test_experiments.py checks them)
NDIGIT_PRIME_COUNTS = {
    1: 4, 2: 21, 3: 143, 4: 1061, 5: 8363, 6: 68906, 7: 586081, 8: 5096876, 9: 45086079,
    10: 404204977, 11: 3663002302, 12: 33489857205, 13: 308457624821, 14: 2858876213963,
    15: 26639628671867, 16: 249393770611256, 17: 2344318816620308, 18: 22116397130086627,
    19: 209317712988603747, 20: 1986761935284574233, 21: 18906449883457813088,
    22: 180340017203297174362, 23: 1723853104917488062633, 24: 16510279375742396898943,
    25: 158410709631794568543814, 26: 1522400441473293371915923,
}


EXACT_BLOCK_MAX_DIGITS = 11


def _sweep(name: str, tasks, key: dict, executor, checkpoint, progress: bool) -> list:
    """Run an experiment's tasks through ``nextdigit._util.scale.run_tasks`` (one task per row or per n)."""
    return run_tasks(tasks, {"experiment": name, **key}, executor, checkpoint, progress, name)


def _li_tvd_row(n: int, k: int, method: str, mc_samples: int, seed) -> dict:
    model = DensityPrimeModel(n, tail=k)
    t0 = time.perf_counter()
    if method.startswith("exact"):
        value, lo, hi = block_tvd(n, k), None, None
    else:
        value, (lo, hi) = monte_carlo_tvd(model, ndigit_prime_count(n), mc_samples, seed)
    return {"digits": n, "tail": k, "method": method, "tvd": value, "ci_low": lo, "ci_high": hi,
            "heuristic": model.estimated_tvd(), "seconds": time.perf_counter() - t0}


def li_tvd(n_values=(6, 7, 8, 9, 10), tails=(1, 2, 3, 4), mc_n=(), mc_samples: int = 300, rng=None,
           progress: bool = False, *, executor=None, checkpoint=None) -> dict:
    """TVD of ``DensityPrimeModel(n, tail=k)`` from uniform vs the heuristic: exact by the
    block formula for n <= 11, Monte-Carlo (``mc_samples`` samples, 99% interval) beyond, each
    Monte-Carlo row from its own child of ``rng``'s seed. One task per row (``executor``,
    ``checkpoint`` as in ``nextdigit._util.scale``)."""
    exact_n = [n for n in n_values if n <= EXACT_BLOCK_MAX_DIGITS]
    mc_n = list(mc_n) + [n for n in n_values if n > EXACT_BLOCK_MAX_DIGITS]
    jobs = [(n, k, "exact (block formula)") for n in exact_n for k in tails if k < n]
    jobs += [(n, k, "Monte-Carlo") for n in mc_n for k in tails if k < n]
    has_mc = any(m == "Monte-Carlo" for _, _, m in jobs)
    seeds = seed_sequences(rng, len(jobs)) if has_mc else [None] * len(jobs)
    tasks = [(_li_tvd_row, (n, k, m, mc_samples, s)) for (n, k, m), s in zip(jobs, seeds)]
    key = {"jobs": jobs, "mc_samples": mc_samples, "seed": checkpoint_seed(rng, checkpoint) if has_mc else None}
    rows = _sweep("li-tvd", tasks, key, executor, checkpoint, progress)
    return {"name": "li-tvd", "rows": rows,
            "columns": ["digits", "tail", "method", "tvd", "ci_low", "ci_high", "heuristic", "seconds"]}


def _first_digit_row(n: int) -> dict:
    counts = [int(c) for c in digit_counts("", n)]
    total = sum(counts)
    edges = [d * 10 ** (n - 1) for d in range(1, 11)]
    edges[0] = max(edges[0], 2)
    li = density_masses(edges)
    li = li / li.sum()
    exact = [c / total for c in counts[1:]]
    return {"digits": n, "total": total, **{f"p{d}": exact[d - 1] for d in range(1, 10)},
            "li_p1": float(li[0]), "li_p9": float(li[8]),
            "tvd_exact_vs_li": 0.5 * float(np.abs(np.array(exact) - li).sum())}


def first_digit(n_values=(4, 6, 8, 10), progress: bool = False, *, executor=None, checkpoint=None) -> dict:
    """Exact leading-digit distribution of n-digit primes vs li's prediction (one task per n)."""
    ns = [int(n) for n in n_values]
    rows = _sweep("first-digit", [(_first_digit_row, (n,)) for n in ns], {"n_values": ns}, executor, checkpoint,
                  progress)
    return {"name": "first-digit", "rows": rows,
            "columns": ["digits", "total"] + [f"p{d}" for d in range(1, 10)] + ["li_p1", "li_p9", "tvd_exact_vs_li"]}


def _library_bias_rows(n: int) -> list[dict]:
    rows = []
    lo, hi = 10 ** (n - 1), 10**n
    rows.append({"digits": n, "sampler": "sympy.randprime(10**(n-1), 10**n)",
                 "tvd": sympy_randprime_tvd(lo, hi), "how": "exact (gap weights)"})
    rows.append({"digits": n, "sampler": "next_prime(uniform n-digit)",
                 "tvd": next_prime_after_random_tvd(lo, hi), "how": "exact (gap weights)"})
    if n <= 6:
        dist = exact_distribution(ExactPrimeModel(n))
        support = [str(int(p)) for p in primes_between(lo, hi)]
        value = float(tvd(dist, {k: Fraction(1, len(support)) for k in support}))
        rows.append({"digits": n, "sampler": "nextdigit ExactPrimeModel", "tvd": value,
                     "how": "exact (tree traversal, Fractions)"})
    else:
        rows.append({"digits": n, "sampler": "nextdigit ExactPrimeModel", "tvd": 0.0,
                     "how": "0 by construction (probabilities are count ratios)"})
    rows.append({"digits": n, "sampler": "nextdigit RandomizedPrimeModel / random_prime", "tvd": 0.0,
                 "how": "0 by construction (rejection on exactly uniform candidates)"})
    rows.append({"digits": n, "sampler": "nextdigit DensityPrimeModel(tail=3)", "tvd": block_tvd(n, 3),
                 "how": "exact (block formula)"})
    return rows


def library_bias(digit_values=(6, 7), progress: bool = False, *, executor=None, checkpoint=None) -> dict:
    """Exact TVD from uniform of library samplers vs nextdigit's, on n-digit primes (one task per n)."""
    ns = [int(n) for n in digit_values]
    parts = _sweep("library-bias", [(_library_bias_rows, (n,)) for n in ns], {"digit_values": ns}, executor,
                   checkpoint, progress)
    return {"name": "library-bias", "rows": [r for part in parts for r in part],
            "columns": ["digits", "sampler", "tvd", "how"]}


def gpt4_footnote() -> dict:
    """The essay's 16 "random 6-digit numbers" through the uniformity tests."""
    xs = [str(v) for v in GPT4_ANSWERS]
    tests = [
        ("whole numbers over all 6-digit numbers", uniformity_test(xs, support_size=900000)),
        ("first digit (1-9)", uniformity_test([x[0] for x in xs], support=list("123456789"), rng=1)),
        ("first two digits (10-99)", uniformity_test([x[:2] for x in xs], support=[str(v) for v in range(10, 100)], rng=1)),
        ("first three digits (100-999)", uniformity_test([x[:3] for x in xs], support=[str(v) for v in range(100, 1000)], rng=1)),
    ]
    rows = [{"projection": name, **r.as_dict()} for name, r in tests]
    return {"name": "gpt4-footnote", "rows": rows, "columns": ["projection", "test", "statistic", "p_value", "verdict"],
            "answers": GPT4_ANSWERS}


def _attack_rows(n: int, trials: int, budget: int, seed) -> list[dict]:
    return attack_table([n], trials=trials, rng=seed, budget=budget)


def attack(n_values=(2, 3, 4, 5, 6, 8, 10, 12), trials: int = 20, budget: int = 2000, rng=0,
           progress: bool = False, *, executor=None, checkpoint=None) -> dict:
    """The factoring-attack table; one task per n, each with its own child of ``rng``'s seed."""
    ns = [int(n) for n in n_values]
    seeds = seed_sequences(rng, len(ns))
    tasks = [(_attack_rows, (n, trials, budget, s)) for n, s in zip(ns, seeds)]
    key = {"n_values": ns, "trials": trials, "budget": budget, "seed": checkpoint_seed(rng, checkpoint)}
    parts = _sweep("attack", tasks, key, executor, checkpoint, progress)
    return {"name": "attack", "rows": [r for part in parts for r in part],
            "columns": ["digits", "model", "trials", "success_rate", "seconds_per_N", "tvd_lower_bound",
                        "tvd_lower_bound_issue_form"]}


def polyroots(samples: int = 20, rng=0, progress: bool = False) -> dict:
    """AR vs hidden-state cost and agreement: uniform k-digit numbers and polynomials with
    integer roots (``costs.polyroots_cost_table``; a timing table, so it runs in-process)."""
    return polyroots_cost_table(samples=samples, rng=rng)


def twenty_questions(m_values=(8, 10, 12, 16, 20), samples: int = 10, rng=0, progress: bool = False) -> dict:
    """AR vs hidden-seed Twenty Questions over SHA-256 bits (``costs.twentyq_cost_table``)."""
    return twentyq_cost_table(m_values=tuple(m_values), samples=samples, rng=rng, progress=progress)


SUDOKU_SHAPES_BY_N = {4: ((2, 2),), 6: ((2, 3), (3, 2)), 8: ((4, 2), (2, 4)), 9: ((3, 3),)}


def sudoku(n_values=(4, 6), samples: int = 20, rng=0, progress: bool = False) -> dict:
    """AR vs hidden-seed Sudoku puzzles for n x n grids (n in 4, 6, 8, 9; ``costs.sudoku_cost_table``);
    n = 9 also profiles the 9 x 9 AR model along one text (``costs.sudoku_nine_steps``)."""
    shapes = []
    for n in n_values:
        if n not in SUDOKU_SHAPES_BY_N:
            raise ValueError(f"n_values must be grid sides in {sorted(SUDOKU_SHAPES_BY_N)}, got {n!r}")
        shapes += SUDOKU_SHAPES_BY_N[n]
    return sudoku_cost_table(shapes=tuple(shapes), samples=samples, rng=rng, progress=progress,
                             nine_steps=NINE_STEPS if 9 in n_values else ())


EXPERIMENTS = {
    "li-tvd": li_tvd,
    "first-digit": first_digit,
    "library-bias": library_bias,
    "gpt4-footnote": gpt4_footnote,
    "attack": attack,
    "polyroots": polyroots,
    "twenty-questions": twenty_questions,
    "sudoku": sudoku,
}


def format_table(result: dict) -> str:
    """A plain-text table of an experiment's rows."""
    cols = list(dict.fromkeys(result["columns"]))

    def fmt(v):
        if isinstance(v, float):
            if v == 0 or 1e-3 <= abs(v) < 1e6:
                return f"{v:.4f}"
            return f"{v:.3e}"
        return "-" if v is None else str(v)

    table = [cols] + [[fmt(r.get(c)) for c in cols] for r in result["rows"]]
    widths = [max(len(row[i]) for row in table) for i in range(len(cols))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)) for row in table)
