"""Experiments that reproduce (or refute) the essay's claims; each is also a CLI command
(``nextdigit experiment NAME``).  Every function returns a dict with ``rows`` (a list of dicts)
and ``columns`` (their display order); ``plot_experiment`` draws one (matplotlib, optional).

* ``li_tvd``: TVD from uniform of the density model (li + exact last k digits) against n and k,
  exact by the block formula for n <= 11 and by Monte-Carlo beyond, beside the heuristic
  sqrt((ln(x/h) - 1.415)/(2 pi h)) — the "exponentially small error" claim, measured.
* ``first_digit``: the leading-digit law of n-digit primes, exact vs li.
* ``library_bias``: exact TVD from uniform of sympy.randprime and of next_prime(uniform) at 6-7
  digits, against nextdigit's samplers.
* ``gpt4_footnote``: the essay's 16 answers to "give me a random 6-digit number" through the
  uniformity tests.
* ``attack``: the factoring-attack table (``semiprimes.attack_table``).
* ``polyroots``: the essay's other tasks, cost of the autoregressive model vs the hidden-state
  model: a uniform k-digit number (the baseline, no gap) and a random polynomial with integer
  roots written coefficients first (``polyroots.cost_table``).
* ``twenty-questions``: Twenty Questions over SHA-256 bits of 2**m objects, AR answerer (counts
  the consistent objects, cost ~ 2**m) vs hidden-seed answerer (``twentyq.cost_table``).

The sweeps (all but ``gpt4_footnote``) run one task per row or per n through
``nextdigit.scale.run_tasks``: ``executor=`` spreads them over any ``concurrent.futures``
executor (process pool, Dask), ``checkpoint=`` (a file) lets a killed sweep resume where it
stopped, ``progress=`` shows a bar. Random rows draw from child seeds of ``rng``, so the table
(except its ``seconds`` columns) does not depend on the executor.
"""
from __future__ import annotations

import time
from fractions import Fraction

import numpy as np

__all__ = ["li_tvd", "first_digit", "library_bias", "gpt4_footnote", "attack", "polyroots", "twenty_questions",
           "EXPERIMENTS", "plot_experiment",
           "GPT4_ANSWERS", "format_table"]

GPT4_ANSWERS = [253489, 572931, 523749, 935271, 754823, 543219, 523891, 523689,
                537218, 247856, 527893, 537891, 523198, 523817, 523481, 254839]


def _ndigit_prime_count(n: int, base: int = 10) -> int:
    """Number of n-digit primes: the counting engine where it reaches, else the reference
    table shipped in ../shared/reference (bundled here as a dict for n <= 26, base 10)."""
    from .counting import can_count_exactly
    from .prefix import prefix_count

    lo, hi = base ** (n - 1), base**n
    if can_count_exactly(lo, hi) and hi - lo <= 10**10:
        return prefix_count("", n, base)
    if base == 10 and n in NDIGIT_PRIME_COUNTS:
        return NDIGIT_PRIME_COUNTS[n]
    try:
        from .pi import prime_pi
    except ImportError:
        prime_pi = None
    if prime_pi is not None and hi - 1 < 2**64:
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
    """Run an experiment's tasks through ``nextdigit.scale.run_tasks`` (one task per row or per n)."""
    from .scale import run_tasks

    return run_tasks(tasks, {"experiment": name, **key}, executor, checkpoint, progress, name)


def _li_tvd_row(n: int, k: int, method: str, mc_samples: int, seed) -> dict:
    from .analysis import block_tvd, monte_carlo_tvd
    from .samplers import DensityPrimeModel

    model = DensityPrimeModel(n, tail=k)
    t0 = time.perf_counter()
    if method.startswith("exact"):
        value, lo, hi = block_tvd(n, k), None, None
    else:
        value, (lo, hi) = monte_carlo_tvd(model, _ndigit_prime_count(n), mc_samples, seed)
    return {"digits": n, "tail": k, "method": method, "tvd": value, "ci_low": lo, "ci_high": hi,
            "heuristic": model.estimated_tvd(), "seconds": time.perf_counter() - t0}


def li_tvd(n_values=(6, 7, 8, 9, 10), tails=(1, 2, 3, 4), mc_n=(), mc_samples: int = 300, rng=None,
           progress: bool = False, *, executor=None, checkpoint=None) -> dict:
    """TVD of ``DensityPrimeModel(n, tail=k)`` from uniform vs the heuristic: exact by the
    block formula for n <= 11, Monte-Carlo (``mc_samples`` samples, 99% interval) beyond, each
    Monte-Carlo row from its own child of ``rng``'s seed. One task per row (``executor``,
    ``checkpoint`` as in ``nextdigit.scale``)."""
    from .scale import checkpoint_seed, seed_sequences

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
    from .density import density_masses
    from .prefix import digit_counts

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
    from .analysis import block_tvd, exact_distribution, next_prime_after_random_tvd, sympy_randprime_tvd, tvd
    from .counting import primes_between
    from .samplers import ExactPrimeModel

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
    from .uniformity import uniformity_test

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
    from .semiprimes import attack_table

    return attack_table([n], trials=trials, rng=seed, budget=budget)


def attack(n_values=(2, 3, 4, 5, 6, 8, 10, 12), trials: int = 20, budget: int = 2000, rng=0,
           progress: bool = False, *, executor=None, checkpoint=None) -> dict:
    """The factoring-attack table; one task per n, each with its own child of ``rng``'s seed."""
    from .scale import checkpoint_seed, seed_sequences

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
    integer roots (``polyroots.cost_table``; a timing table, so it runs in-process)."""
    from .polyroots import cost_table

    return cost_table(samples=samples, rng=rng)


def twenty_questions(m_values=(8, 10, 12, 16, 20), samples: int = 10, rng=0, progress: bool = False) -> dict:
    """AR vs hidden-seed Twenty Questions over SHA-256 bits (``twentyq.cost_table``)."""
    from .twentyq import cost_table

    return cost_table(m_values=tuple(m_values), samples=samples, rng=rng, progress=progress)


EXPERIMENTS = {
    "li-tvd": li_tvd,
    "first-digit": first_digit,
    "library-bias": library_bias,
    "gpt4-footnote": gpt4_footnote,
    "attack": attack,
    "polyroots": polyroots,
    "twenty-questions": twenty_questions,
}


def plot_experiment(result: dict, path: str) -> None:
    """Save a PNG of an experiment's result (needs matplotlib: ``pip install nextdigit[plot]``)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise RuntimeError("plotting needs matplotlib: pip install 'nextdigit[plot]'") from None
    fig, ax = plt.subplots(figsize=(7, 4.5))
    name = result["name"]
    rows = result["rows"]
    if name == "li-tvd":
        for k in sorted({r["tail"] for r in rows}):
            rs = sorted((r for r in rows if r["tail"] == k), key=lambda r: r["digits"])
            ax.semilogy([r["digits"] for r in rs], [r["tvd"] for r in rs], "o-", label=f"measured, tail={k}")
            ax.semilogy([r["digits"] for r in rs], [r["heuristic"] for r in rs], "k:", alpha=0.6)
        ax.set_xlabel("digits n")
        ax.set_ylabel("TVD from uniform")
        ax.set_title("density model (li + exact last k digits): measured vs heuristic (dotted)")
        ax.legend()
    elif name == "first-digit":
        for r in rows:
            ax.plot(range(1, 10), [r[f"p{d}"] for d in range(1, 10)], "o-", label=f"{r['digits']} digits")
        ax.set_xlabel("leading digit")
        ax.set_ylabel("probability")
        ax.set_title("leading digit of n-digit primes (exact)")
        ax.legend()
    elif name == "attack":
        for model in sorted({r["model"].split("(")[0] for r in rows}):
            rs = [r for r in rows if r["model"].startswith(model)]
            ax.semilogy([r["digits"] for r in rs], [r["seconds_per_N"] for r in rs], "o-", label=model)
        ax.set_xlabel("digits n of p and q")
        ax.set_ylabel("seconds per N")
        ax.legend()
    elif name == "twenty-questions":
        ms = [r["m"] for r in rows]
        for col, label in (("ar_seconds", "AR answerer (hashes 2^m objects per answer)"),
                           ("ar_table_seconds", "AR answerer with a cached hash table"),
                           ("hidden_seconds", "hidden-seed answerer")):
            ax.semilogy(ms, [r.get(col) or float("nan") for r in rows], "o-", label=label)
        ax.set_xlabel("m (universe of 2^m objects)")
        ax.set_ylabel("seconds per 20-answer transcript")
        ax.legend()
    elif name == "polyroots":
        rs = [r for r in rows if r["task"] == "polyroots"]
        ax.loglog([r["support"] for r in rs], [r["ar_s_per_sample"] for r in rs], "o", label="AR model")
        ax.loglog([r["support"] for r in rs], [r["hidden_s_per_sample"] for r in rs], "s", label="hidden seed")
        ax.set_xlabel("root multisets C(R+d-1, d)")
        ax.set_ylabel("seconds per sample")
        ax.legend()
    elif name == "digits":
        ax.bar(range(len(result["probabilities"])), result["probabilities"])
        ax.set_xlabel("next digit")
        ax.set_ylabel("probability")
        ax.set_title(f"next digit after {result['prefix']!r}, {result['digits']}-digit primes")
    else:
        labels = [str(r.get("sampler", r.get("projection"))) for r in rows]
        values = [r.get("tvd", r.get("p_value")) for r in rows]
        ax.barh(range(len(rows)), values)
        ax.set_yticks(range(len(rows)), labels, fontsize=7)
        ax.set_xlabel("TVD" if "tvd" in rows[0] else "p-value")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


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
