"""Measured costs of the essay's tasks: the autoregressive model against hidden state.

Each table times both kinds of model per sample and checks that their laws agree (an exact
``Fraction`` TVD where the support is small enough to enumerate, a chi-square or
probability-integral-transform uniformity test beyond). The tables are experiments
(``nextdigit experiment polyroots|twenty-questions|sudoku|attack``); each returns
``{"name", "rows", "columns"}``.

* ``uniform_cost_table`` -- uniform n-digit numbers (``tasks.uniform_number``): the baseline,
  no gap;
* ``polyroots_cost_table`` -- polynomials with integer roots (``tasks.polyroots``): the AR model
  scans C(R+d-1, d) root multisets per token, the hidden seed picks the roots (O(d^2));
* ``twentyq_cost_table`` -- Twenty Questions over SHA-256 bits (``tasks.twentyq``): the AR
  answerer hashes 2**m objects per answer, the hidden seed one;
* ``sudoku_cost_table`` -- Sudoku puzzles (``tasks.sudoku``): the AR model counts grid
  completions for every cell it writes, the hidden seed ranks one uniform grid;
  ``sudoku_nine_steps`` profiles the 9 x 9 AR model call by call;
* ``attack_table`` -- the factoring-attack reduction (``tasks.semiprimes``): success rate and
  time per N of the honest, budgeted and hidden-seed models, with the TVD lower bound
  1 - sqrt(P).
"""
from __future__ import annotations

import itertools
import math
import statistics
import time
from fractions import Fraction

import mpmath
import numpy as np

from .._util.rng import as_generator, uniform_below
from .._util.threads import resolve_threads
from .._util.validate import as_int, check_digits
from ..models import END, Vocabulary, generate, generate_with_seed, log_prob
from ..tasks.polyroots import PolyRootsARModel, PolyRootsHiddenSeedModel, PolyRootsTask
from ..tasks.semiprimes import (HONEST_MAX_DIGITS, BudgetedReversedModel, HiddenSeedModel, HiddenStreamModel,
                                HonestReversedModel, SemiprimeTask, factor_with_model)
from ..tasks.sudoku import (DEFAULT_RHO as SUDOKU_RHO, CountBudgetExceeded, SudokuARModel, SudokuHiddenSeedModel,
                            SudokuTask, check_box, completion_count, random_completion)
from ..tasks.twentyq import (DEFAULT_QUESTIONS, TABLE_MAX_M, TwentyQuestionsARModel, TwentyQuestionsHiddenSeedModel,
                             _answer_code_columns, _check_m, answer_law, format_prompt, parse_prompt, random_questions)
from ..tasks.uniform_number import UniformNumberHiddenSeedModel, UniformNumberModel
from .distance import exact_distribution, exact_distribution_hidden_seed, tvd
from .uniformity import uniformity_test

__all__ = ["uniform_cost_table", "polyroots_cost_table", "twentyq_cost_table", "sudoku_cost_table", "sudoku_nine_steps",
           "attack_table", "DEFAULT_CASES",
           "DEFAULT_UNIFORM_DIGITS"]

EXACT_CHECK_MAX_TUPLES = 10_000  # exact TVD when the hidden seed space is this small


# ---------------------------------------------------------------------------------------------
# uniform numbers and polynomials with integer roots
# ---------------------------------------------------------------------------------------------
DEFAULT_CASES = ((1, -9, 9), (2, -9, 9), (3, -9, 9), (3, -20, 20), (4, -9, 9), (4, -20, 20), (5, -20, 20),
                 (6, -9, 9))
DEFAULT_UNIFORM_DIGITS = (3, 6, 12, 24, 48)


def _timings(ar, hidden, samples: int, gen) -> dict:
    """Median seconds per sample of ``samples`` runs of each model through its driver
    (``models.generate``, ``models.generate_with_seed``), and of the models' own calls
    only: the AR model's ``next_token_counts`` and the hidden-seed model's
    ``next_token_distribution`` at every prefix of a sample of each (no sampling, no driver)."""
    def median_run(fn):
        times, outs = [], []
        for _ in range(samples):
            t0 = time.perf_counter()
            outs.append(fn())
            times.append(time.perf_counter() - t0)
        return statistics.median(times), outs

    ar_s, ar_texts = median_run(lambda: generate(ar, "", gen))
    hid_s, hid_runs = median_run(lambda: generate_with_seed(hidden, rng=gen))
    ar_calls = []
    for text in ar_texts:
        t0 = time.perf_counter()
        for k in range(len(text) + 1):
            ar.next_token_counts("", text[:k])
        ar_calls.append(time.perf_counter() - t0)
    hid_calls = []
    for text, seed in hid_runs:
        t0 = time.perf_counter()
        for k in range(len(text) + 1):
            hidden.next_token_distribution("", text[:k], seed)
        hid_calls.append(time.perf_counter() - t0)
    ar_m, hid_m = statistics.median(ar_calls), statistics.median(hid_calls)
    return {"ar_s_per_sample": ar_s, "hidden_s_per_sample": hid_s, "ratio": ar_s / hid_s,
            "ar_model_s": ar_m, "hidden_model_s": hid_m, "model_ratio": ar_m / hid_m}


def _chi_square(expected_law: dict, keys: list) -> float:
    """Pearson p-value of the observed ``keys`` against an exact law (cells expecting fewer
    than 5 observations pooled into one; keys outside the law make p = 0)."""
    n = len(keys)
    observed: dict = {}
    for k in keys:
        observed[k] = observed.get(k, 0) + 1
    if any(k not in expected_law for k in observed):
        return 0.0
    cells, pool_e, pool_o = [], 0.0, 0
    for k, p in sorted(expected_law.items(), key=lambda kv: kv[1]):
        e = n * float(p)
        if e < 5:
            pool_e, pool_o = pool_e + e, pool_o + observed.get(k, 0)
        else:
            cells.append((observed.get(k, 0), e))
    if pool_e > 0:
        cells.append((pool_o, pool_e))
    if len(cells) < 2:
        return 1.0
    stat = sum((o - e) ** 2 / e for o, e in cells)
    return float(mpmath.gammainc((len(cells) - 1) / 2.0, stat / 2.0, mpmath.inf, regularized=True))


def _first_field_law(model, stop: str) -> dict[str, Fraction]:
    """The exact law of a counting model's output up to its first ``stop`` token (or the end),
    traversing its tree only that far: {prefix: probability}."""
    out: dict[str, Fraction] = {}
    frontier = [("", Fraction(1))]
    while frontier:
        nxt = []
        for text, pr in frontier:
            c = model.next_token_counts("", text)
            total = sum(c)
            for i, x in enumerate(c):
                if x:
                    tok, q = model.vocab.tokens[i], pr * Fraction(x, total)
                    if tok in (stop, END):
                        out[text] = out.get(text, 0) + q
                    else:
                        nxt.append((text + tok, q))
        frontier = nxt
    return out


def _first_token_law(model) -> dict[str, Fraction]:
    c = model.next_token_counts("", "")
    return {model.vocab.tokens[i]: Fraction(x, sum(c)) for i, x in enumerate(c) if x}


def _agreement(ar, hidden, exact: bool, first_law, first_of, what: str, check_samples: int, gen) -> dict:
    """Exact TVD between the AR law and the hidden-seed law when ``exact``; otherwise the
    chi-square p-value of ``check_samples`` hidden-seed outputs' first field (``first_of``)
    against the AR model's exact law of that field (``first_law(ar)``)."""
    if exact:
        return {"check": "exact TVD, AR law vs hidden-seed law",
                "tvd": float(tvd(exact_distribution(ar), exact_distribution_hidden_seed(hidden))), "p_value": None}
    law = first_law(ar)
    keys = [first_of(generate_with_seed(hidden, rng=gen)[0]) for _ in range(check_samples)]
    return {"check": f"chi-square of {what}, {check_samples} hidden-seed samples vs exact AR law",
            "tvd": None, "p_value": _chi_square(law, keys)}


def _uniform_rows(digit_values, base, samples: int, check_samples: int, gen) -> list[dict]:
    rows = []
    for n in digit_values:
        t0 = time.perf_counter()
        ar = UniformNumberModel(n, base)
        hidden = UniformNumberHiddenSeedModel(n, base)
        setup = time.perf_counter() - t0
        times = _timings(ar, hidden, samples, gen)
        check = _agreement(ar, hidden, ar.task.support_size <= EXACT_CHECK_MAX_TUPLES, _first_token_law,
                           lambda x: x[:1], "the first digit", check_samples, gen)
        rows.append({"task": "uniform", "params": f"n={ar.digits}, base={ar.base}", "digits": ar.digits,
                     "base": ar.base, "support": ar.task.support_size, "ar_setup_s": setup,
                     **times, **check})
    return rows


def _polyroots_rows(cases, samples: int, check_samples: int, gen) -> list[dict]:
    rows = []
    for case in cases:
        if not isinstance(case, (tuple, list)) or len(case) != 3:
            raise ValueError(f"cases must hold (degree, low, high) triples, got {case!r}")
        degree, low, high = case
        task = PolyRootsTask(degree, low, high)
        t0 = time.perf_counter()
        ar = PolyRootsARModel(task)
        setup = time.perf_counter() - t0
        hidden = PolyRootsHiddenSeedModel(task)
        times = _timings(ar, hidden, samples, gen)
        check = _agreement(ar, hidden, task.num_tuples <= EXACT_CHECK_MAX_TUPLES,
                           lambda m: _first_field_law(m, ","), lambda x: x.split(",")[0],
                           "c_{d-1}", check_samples, gen)
        rows.append({"task": "polyroots", "params": f"d={task.degree}, [{task.low}, {task.high}]",
                     "degree": task.degree, "low": task.low, "high": task.high, "R": task.range_size,
                     "support": task.num_multisets, "tuples": task.num_tuples, "ar_setup_s": setup,
                     **times, **check})
    return rows


_COLUMNS = ["task", "params", "support", "ar_setup_s", "ar_s_per_sample", "hidden_s_per_sample", "ratio",
            "ar_model_s", "hidden_model_s", "model_ratio", "check", "tvd", "p_value"]


def uniform_cost_table(digit_values=DEFAULT_UNIFORM_DIGITS, samples: int = 20, rng=0, *, base=10,
                       check_samples: int = 4000) -> dict:
    """The baseline: AR vs hidden-seed seconds per sample for uniform n-digit numbers, with the
    agreement check (exact TVD for supports <= EXACT_CHECK_MAX_TUPLES, else a chi-square of the
    first digit).  Experiments format: {"name", "rows", "columns"}."""
    samples = _check_samples(samples, "samples")
    check_samples = _check_samples(check_samples, "check_samples")
    gen = as_generator(rng)
    return {"name": "uniform-number", "rows": _uniform_rows(digit_values, base, samples, check_samples, gen),
            "columns": list(_COLUMNS)}


def polyroots_cost_table(cases=DEFAULT_CASES, samples: int = 20, rng=0, *, uniform_digits=DEFAULT_UNIFORM_DIGITS,
               check_samples: int = 4000) -> dict:
    """AR vs hidden-seed cost per sample for ``PolyRootsTask(degree, low, high)`` for each
    ``(degree, low, high)`` in ``cases`` (after the uniform baseline rows for ``uniform_digits``;
    pass ``()`` to skip them).

    Per row: ``support`` (distinct outputs: C(R+d-1, d) multisets, the rows the AR model scans
    on every call), ``ar_setup_s`` (building the AR table once), ``ar_s_per_sample`` and
    ``hidden_s_per_sample`` (medians over ``samples`` calls of ``models.generate`` and
    ``models.generate_with_seed``) and their ``ratio``; ``ar_model_s``, ``hidden_model_s``
    and ``model_ratio``, the same for the models' own calls at every prefix of a sample (without
    the drivers' sampling: in the uniform baseline that overhead, an exact integer draw per
    token against an argmax, is all that separates the two); and the agreement check: the exact TVD
    between the AR law and the hidden-seed law when the seed space has at most
    EXACT_CHECK_MAX_TUPLES seeds, else the chi-square p-value of ``check_samples`` hidden-seed
    outputs' leading coefficient against the AR model's exact law of it.
    """
    samples = _check_samples(samples, "samples")
    check_samples = _check_samples(check_samples, "check_samples")
    gen = as_generator(rng)
    rows = _uniform_rows(uniform_digits, 10, samples, check_samples, gen)
    rows += _polyroots_rows(cases, samples, check_samples, gen)
    return {"name": "polyroots", "rows": rows, "columns": list(_COLUMNS)}


def _check_samples(value, name: str) -> int:
    v = as_int(value, name)
    if v < 1:
        raise ValueError(f"{name} must be >= 1, got {v}")
    return v


# ---------------------------------------------------------------------------------------------
# Twenty Questions over SHA-256
# ---------------------------------------------------------------------------------------------
class _Recorder:
    """Wraps a model with next_token_counts and records every (output, counts) it returns."""

    deterministic = True

    def __init__(self, model):
        self.model, self.vocab, self.name, self.calls = model, model.vocab, model.name, []

    def next_token_counts(self, prompt, output):
        c = self.model.next_token_counts(prompt, output)
        self.calls.append((output, c))
        return c


def _prefix_count(codes: np.ndarray, k: int, prefix: str) -> int:
    """#objects whose answer string starts with ``prefix`` (``codes``: sorted packed answers)."""
    r = k - len(prefix)
    p = int(prefix, 2) if prefix else 0
    lo, hi = p << r, (p + 1) << r
    i = int(np.searchsorted(codes, np.uint64(lo), side="left"))
    j = len(codes) if hi >= 1 << 64 else int(np.searchsorted(codes, np.uint64(hi), side="left"))
    return j - i


def _table_counts(codes: np.ndarray, k: int, output: str, vocab: Vocabulary) -> list[int]:
    """The counts an exact answerer must return after ``output`` (from the full table)."""
    c = [0] * len(vocab)
    if len(output) == k:
        c[vocab.end_index] = 1
    else:
        c[0], c[1] = _prefix_count(codes, k, output + "0"), _prefix_count(codes, k, output + "1")
    return c


def _pit_bins(strings, sorted_codes: np.ndarray, m: int, k: int, bins_log2: int, gen) -> list[int]:
    """Randomised probability integral transform: answer string s -> a uniform object index
    u = #(objects with a smaller answer string) + uniform_below(count(s)), exactly uniform on
    [0, 2**m) when s follows the target law; returns u's bin u >> (m - bins_log2) (bins of equal
    exact probability), or -1 for a string no object gives."""
    out = []
    for s in strings:
        code = np.uint64(int(s, 2) if k else 0)
        lo = int(np.searchsorted(sorted_codes, code, side="left"))
        hi = int(np.searchsorted(sorted_codes, code, side="right"))
        if hi == lo:
            out.append(-1)
            continue
        u = lo + uniform_below(gen, hi - lo)
        out.append(u >> (m - bins_log2))
    return out


def twentyq_cost_table(m_values=(8, 10, 12, 16, 20), questions=DEFAULT_QUESTIONS, samples: int = 10, rng=0, *,
               hidden_samples: int = 2000, seconds_per_m: float = 6.0, exact_max_m: int = 10,
               numpy_max_m: int = 16, table_max_m: int = TABLE_MAX_M, threads=None, progress: bool = False) -> dict:
    """Cost per full transcript of the autoregressive answerer (kernel; also numpy and table
    backends where cheap) against the hidden-seed answerer, and whether their laws agree.

    ``questions``: a count (random distinct bit indices drawn from ``rng``), a prompt string or a
    sequence of bit indices (at most 64 questions, for the packed answer codes).  Per m:

    * AR (kernel): up to ``samples`` transcripts by ``models.generate``, stopping early once
      ``seconds_per_m`` is spent (at least 3); median seconds per transcript.  Every count it
      returned is checked against the exact counts from the full table (``steps_agree``).
    * AR numpy backend (m <= ``numpy_max_m``) and table backend (m <= ``table_max_m``; the table
      build time is its own column), 3 transcripts each (table: up to ``samples``).
    * hidden seed: ``hidden_samples`` transcripts by ``generate_with_seed``; median seconds.
    * agreement: for m <= ``exact_max_m`` the exact laws (``analysis.exact_distribution`` of the
      AR model, ``exact_distribution_hidden_seed``, ``answer_law``) and their TVDs as Fractions
      (0 means identical); above, a uniformity test (``uniformity.uniformity_test``) of the
      randomised probability integral transform of each player's samples against the exact law,
      in 16 bins of exactly equal probability (p_ar, p_hidden).
    """
    gen = as_generator(rng)
    if isinstance(questions, str):
        prompt = format_prompt(parse_prompt(questions))
    elif isinstance(questions, (int, np.integer)) and not isinstance(questions, (bool, np.bool_)):
        prompt = random_questions(int(questions), gen)
    else:
        prompt = format_prompt(questions)
    qs = parse_prompt(prompt)
    k = len(qs)
    if k > 64:
        raise ValueError(f"cost_table packs the answers in 64 bits: at most 64 questions, got {k}")
    samples = as_int(samples, "samples")
    hidden_samples = as_int(hidden_samples, "hidden_samples")
    if samples < 1 or hidden_samples < 2:
        raise ValueError("need samples >= 1 and hidden_samples >= 2")
    th = resolve_threads(threads)
    ms = [_check_m(m, "m_values") for m in m_values]
    rows = []
    for m in ms:
        t_row = time.perf_counter()
        if progress:
            print(f"twenty-questions: m={m}", flush=True)
        ar = TwentyQuestionsARModel(m, threads=th)
        hid = TwentyQuestionsHiddenSeedModel(m)
        # the exact law from the full table: sorted packed answer codes of all 2**m objects
        codes = None
        if m <= TABLE_MAX_M:
            codes = np.sort(_answer_code_columns(m, qs, th)[:, 0])
        # AR, kernel backend, recorded
        rec = _Recorder(ar)
        ar_times, ar_texts = [], []
        t_start = time.perf_counter()
        while len(ar_times) < samples and (len(ar_times) < 3 or time.perf_counter() - t_start < seconds_per_m):
            t0 = time.perf_counter()
            ar_texts.append(generate(rec, prompt, gen))
            ar_times.append(time.perf_counter() - t0)
        steps_agree = None
        if codes is not None:          # every count the AR model returned, against the table
            steps_agree = all(
                c == _table_counts(codes, k, out, ar.vocab) for out, c in rec.calls
            )
        # other AR backends
        numpy_s = None
        if m <= numpy_max_m:
            arn = TwentyQuestionsARModel(m, backend="numpy", threads=th)
            tn = []
            for _ in range(3):
                t0 = time.perf_counter()
                generate(arn, prompt, gen)
                tn.append(time.perf_counter() - t0)
            numpy_s = float(np.median(tn))
        table_s = build_s = None
        if m <= min(table_max_m, TABLE_MAX_M):
            art = TwentyQuestionsARModel(m, backend="table", threads=th)
            build_s = art.table_seconds
            tt = []
            for _ in range(max(3, samples)):
                t0 = time.perf_counter()
                generate(art, prompt, gen)
                tt.append(time.perf_counter() - t0)
            table_s = float(np.median(tt))
            del art
        # hidden seed
        hid_times, hid_texts = [], []
        for _ in range(hidden_samples):
            t0 = time.perf_counter()
            text, _seed = generate_with_seed(hid, prompt, gen)
            hid_times.append(time.perf_counter() - t0)
            hid_texts.append(text)
        ar_s, hid_s = float(np.median(ar_times)), float(np.median(hid_times))
        row = {
            "m": m, "objects": 1 << m, "questions": k,
            "ar_samples": len(ar_times), "ar_seconds": ar_s,
            "ar_numpy_seconds": numpy_s, "ar_table_seconds": table_s, "table_build_seconds": build_s,
            "hidden_samples": hidden_samples, "hidden_seconds": hid_s, "ratio": ar_s / hid_s,
            "ar_hashes_per_transcript": k << m, "hidden_hashes_per_transcript": k,
            "steps_checked": len(rec.calls), "steps_agree": steps_agree,
            "agreement": None, "tvd_ar_hidden": None, "tvd_ar_target": None, "p_ar": None, "p_hidden": None,
        }
        if m <= exact_max_m:
            law_ar = exact_distribution(ar, prompt)
            law_hid = exact_distribution_hidden_seed(hid, prompt)
            law_t = answer_law(m, prompt, threads=th)
            row["agreement"] = "exact laws (Fractions)"
            row["tvd_ar_hidden"] = tvd(law_ar, law_hid)
            row["tvd_ar_target"] = tvd(law_ar, law_t)
        elif codes is not None:
            b = min(4, m)
            pit_ar = _pit_bins(ar_texts, codes, m, k, b, gen)
            pit_hid = _pit_bins(hid_texts, codes, m, k, b, gen)
            support = list(range(1 << b))
            row["agreement"] = f"PIT uniformity, {1 << b} bins"
            row["p_ar"] = uniformity_test(pit_ar, support=support, alpha=1e-3, rng=gen).p_value
            row["p_hidden"] = uniformity_test(pit_hid, support=support, alpha=1e-3, rng=gen).p_value
        row["row_seconds"] = time.perf_counter() - t_row
        rows.append(row)
    return {
        "name": "twenty-questions", "prompt": prompt, "threads": th, "rows": rows,
        "columns": ["m", "objects", "questions", "ar_samples", "ar_seconds", "ar_numpy_seconds", "ar_table_seconds",
                    "table_build_seconds", "hidden_seconds", "ratio", "agreement", "tvd_ar_hidden", "tvd_ar_target",
                    "steps_agree", "p_ar", "p_hidden"],
    }


# ---------------------------------------------------------------------------------------------
# the factoring attack
# ---------------------------------------------------------------------------------------------
def attack_table(n_values, trials: int = 20, rng=None, budget: int = 2000, honest_max: int = HONEST_MAX_DIGITS):
    """For each n: success rate and time per N of the reduction with the honest and budgeted
    models (and the hidden-seed model, which must fail), on semiprimes drawn from the task, with
    the TVD lower bounds 1 - sqrt(P) (derived in the docstring of ``nextdigit.tasks.semiprimes``) and the weaker
    1 - 2 sqrt(P)."""
    gen = as_generator(rng)
    rows = []
    for n in n_values:
        n = check_digits(n)
        task = SemiprimeTask(n)
        Ns = [p * q for p, q in (task.sample_pair(gen) for _ in range(trials))]
        models = []
        if n <= honest_max:
            models.append(HonestReversedModel(n))
        models.append(BudgetedReversedModel(n, budget=budget))
        models.append(HiddenSeedModel(n))
        for m in models:
            t0 = time.perf_counter()
            ok = sum(factor_with_model(N, m, gen) is not None for N in Ns)
            dt = (time.perf_counter() - t0) / len(Ns)
            P = ok / len(Ns)
            plain = not isinstance(m, (HiddenSeedModel, HiddenStreamModel))
            rows.append({
                "digits": n, "model": m.name, "trials": len(Ns), "successes": ok, "success_rate": P,
                "seconds_per_N": dt,
                # the bound holds for plain autoregressive models only (see the module docstring)
                "tvd_lower_bound": max(0.0, 1 - math.sqrt(P)) if plain else None,
                "tvd_lower_bound_issue_form": max(0.0, 1 - 2 * math.sqrt(P)) if plain else None,
            })
    return rows


# ---------------------------------------------------------------------------------------------
# Sudoku: completion counts at every cell vs a hidden solution
# ---------------------------------------------------------------------------------------------
SUDOKU_SHAPES = ((2, 2), (2, 3), (3, 2))
NINE_STEPS = (0, 9, 27, 40, 54, 60, 66, 72, 80, 81, 82, 100, 130, 162)
NINE_MAX_NODES = 50_000_000       # per completion count in the 9 x 9 step profile (~5-15 s)


def _law_below(model, prefix: str, max_nodes: int = 2_000_000) -> dict:
    """Exact law of a counting model's whole output given that it starts with ``prefix``
    (the subtree below ``prefix``, traversed with ``next_token_counts``; Fractions)."""
    out: dict = {}
    frontier = [(prefix, Fraction(1))]
    visited = 0
    while frontier:
        nxt = []
        for text, pr in frontier:
            visited += 1
            if visited > max_nodes:
                raise ValueError(f"the subtree below {prefix!r} has more than max_nodes={max_nodes} nodes")
            c = model.next_token_counts("", text)
            total = sum(c)
            for i, x in enumerate(c):
                if x:
                    tok, q = model.vocab.tokens[i], pr * Fraction(x, total)
                    if tok == END:
                        out[text] = out.get(text, 0) + q
                    else:
                        nxt.append((text + tok, q))
        frontier = nxt
    return out


def _prefix_law(model, m: int) -> dict:
    """Exact law of a counting model's first ``m`` tokens ({prefix: probability})."""
    frontier = {"": Fraction(1)}
    for _ in range(m):
        nxt: dict = {}
        for text, pr in frontier.items():
            c = model.next_token_counts("", text)
            total = sum(c)
            for i, x in enumerate(c):
                if x:
                    t = text + model.vocab.tokens[i]
                    nxt[t] = nxt.get(t, 0) + pr * Fraction(x, total)
        frontier = nxt
    return frontier


def _sudoku_row_law(task, m: int) -> dict:
    """The target law of the first m <= n puzzle characters in closed form: by relabelling
    symmetry the first row of a uniform grid is a uniform permutation of 1..n, so m characters
    with j distinct digits have probability rho**j (1 - rho)**(m - j) (n - j)! / n!."""
    n, rho = task.n, task.rho
    out = {}
    for mask in itertools.product((0, 1), repeat=m):
        j = sum(mask)
        w = rho ** j * (1 - rho) ** (m - j)
        if w == 0:
            continue
        for digits in itertools.permutations(range(1, n + 1), j):
            it = iter(digits)
            text = "".join(str(next(it)) if b else "." for b in mask)
            out[text] = w * Fraction(math.factorial(n - j), math.factorial(n))
    return out


def _clue_count_law(task) -> dict:
    """The number of revealed cells: Binomial(n*n, rho), exactly."""
    L, rho = task.cells, task.rho
    return {k: math.comb(L, k) * rho ** k * (1 - rho) ** (L - k) for k in range(L + 1) if rho ** k * (1 - rho) ** (L - k)}


def _sudoku_grid_count_seconds(r: int, c: int, repeats: int = 3) -> float:
    """Best of ``repeats`` fresh counts of the empty grid (a new counter, empty memo, each time)."""
    best = math.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        completion_count("." * (r * c) ** 2, r, c)
        best = min(best, time.perf_counter() - t0)
    return best


def _nine_grid(gen) -> tuple:
    """A 9 x 9 grid for the step profile without counting all 9 x 9 grids: a uniform first band,
    then a uniform completion of it (not uniform over grids; only the AR cost is measured)."""
    band = random_completion("." * 81, 3, 3, gen, rows=3)
    return random_completion(list(band[:27]) + [0] * 54, 3, 3, gen)


def sudoku_nine_steps(steps=NINE_STEPS, rng=0, *, rho=None, max_nodes=NINE_MAX_NODES, progress: bool = False) -> list:
    """How far the 9 x 9 autoregressive model gets: one AR call (its n completion counts) at each
    output position in ``steps`` of one 9 x 9 text (a grid from ``_nine_grid`` and a mask drawn
    with ``rho``), each count bounded by ``max_nodes`` search nodes (None: no bound).  Rows:
    step, phase, givens in the partial grid counted, the consistent completions C (the mass the
    step splits), seconds, and whether the call finished within the budget."""
    gen = as_generator(rng)
    task = SudokuTask(3, 3, SUDOKU_RHO if rho is None else rho)
    a, b = task.rho.numerator, task.rho.denominator
    grid = _nine_grid(gen)
    mask = [1 if uniform_below(gen, b) < a else 0 for _ in range(81)]
    text = task.text(grid, mask)
    ar = SudokuARModel(task, max_nodes=max_nodes)
    rows = []
    for k in steps:
        k = as_int(k, "steps")
        if not 0 <= k <= len(text):
            raise ValueError(f"steps must be in [0, {len(text)}], got {k}")
        out = text[:k]
        cells = ar._cells(out)
        givens = sum(1 for v in cells if v)
        phase = "puzzle" if k < 81 else "bar" if k == 81 else "solution" if k < 163 else "end"
        if progress:
            print(f"sudoku 9x9: AR step {k} ({phase}, {givens} givens)", flush=True)
        t0 = time.perf_counter()
        try:
            c = ar.next_token_counts("", out)
            done = True
        except CountBudgetExceeded:
            c, done = None, False
        dt = time.perf_counter() - t0
        completions = None
        if done and k < 81:                    # a * C(Q + {k: d}) per digit, (b - a) * C(Q) for '.'
            completions = sum(c[1:10]) // a if a else c[task.vocab.index(".")] // b
        elif done and 81 < k < 163:            # C(Q + s + {j: d}) per digit, or C(Q + s) on the clue
            completions = sum(c[1:10])
        elif done and k == 81:
            completions = ar.consistent_count("", out)
        rows.append({"shape": "3x3", "step": k, "phase": phase, "givens": givens, "completions": completions,
                     "step_s": dt, "finished": done, "max_nodes": max_nodes})
    return rows


def sudoku_cost_table(shapes=SUDOKU_SHAPES, samples: int = 5, rng=0, *, rho=None, hidden_samples: int = 200,
                      check_samples: int = 4000, prefix_chars: int = 3, nine_steps=(),
                      nine_max_nodes=NINE_MAX_NODES, progress: bool = False) -> dict:
    """AR vs hidden-seed cost per Sudoku puzzle for each box shape ``(r, c)`` in ``shapes``
    (``nextdigit.tasks.sudoku``), with the agreement checks, then (``nine_steps``) the cost of
    the 9 x 9 AR model's calls at those output positions (``sudoku_nine_steps``).

    Per shape: ``grids`` (N, counted by the kernel) and ``count_s`` (best of 3 fresh counts);
    ``ar_s_per_puzzle`` (median over ``samples`` runs of ``models.generate``) and
    ``ar_counts_per_puzzle`` (completion counts it made per puzzle); ``hidden_s_per_puzzle``
    (median over ``hidden_samples`` runs of ``models.generate_with_seed``; the hidden model's
    one-time grid count is ``count_s``) and ``ratio``; the checks: ``prefix_law_exact`` -- the
    AR model's exact law of its first ``prefix_chars`` characters (tree traversal, Fractions)
    equals the closed form (``_sudoku_row_law``); ``p_value`` -- chi-square of ``check_samples``
    hidden-seed samples' first ``prefix_chars`` characters against that exact AR law (``p_ar``:
    the AR samples' numbers of clues against Binomial(n*n, rho)); ``log_prob_exact`` -- every AR sample and 20 hidden samples
    have exact AR probability (``models.log_prob``) = the target probability.  A 3 x 3 shape in
    ``shapes`` gets the hidden model only (its grid count takes minutes; the AR model is
    measured by ``nine_steps``).
    """
    samples = _check_samples(samples, "samples")
    hidden_samples = _check_samples(hidden_samples, "hidden_samples")
    check_samples = _check_samples(check_samples, "check_samples")
    prefix_chars = as_int(prefix_chars, "prefix_chars")
    gen = as_generator(rng)
    rows = []
    for shape in shapes:
        if not isinstance(shape, (tuple, list)) or len(shape) != 2:
            raise ValueError(f"shapes must hold (box_rows, box_cols) pairs, got {shape!r}")
        r, c = check_box(*shape)
        task = SudokuTask(r, c, SUDOKU_RHO if rho is None else rho)
        if not 1 <= prefix_chars <= task.n:
            raise ValueError(f"prefix_chars must be in [1, n = {task.n}], got {prefix_chars}")
        if progress:
            print(f"sudoku: {r}x{c}", flush=True)
        t0 = time.perf_counter()
        hid = SudokuHiddenSeedModel(task)          # counts the grids (cached per process)
        first_build = time.perf_counter() - t0
        count_s = _sudoku_grid_count_seconds(r, c, 3 if task.n <= 8 else 1) if task.n <= 8 else first_build
        hid_times, hid_texts = [], []
        for _ in range(hidden_samples):
            t0 = time.perf_counter()
            text, _seed = generate_with_seed(hid, rng=gen)
            hid_times.append(time.perf_counter() - t0)
            hid_texts.append(text)
        row = {"shape": f"{r}x{c}", "n": task.n, "rho": str(task.rho), "grids": hid.num_grids, "count_s": count_s,
               "hidden_s_per_puzzle": statistics.median(hid_times), "ar_samples": 0, "ar_s_per_puzzle": None,
               "ar_counts_per_puzzle": None, "ratio": None, "prefix_law_exact": None, "p_value": None, "p_ar": None,
               "log_prob_exact": None}
        if task.n <= 8:
            ar = SudokuARModel(task)
            ar_times, ar_texts, ar_counts = [], [], []
            for _ in range(samples):
                before = ar.counts_made
                t0 = time.perf_counter()
                ar_texts.append(generate(ar, "", gen))
                ar_times.append(time.perf_counter() - t0)
                ar_counts.append(ar.counts_made - before)
            law = _prefix_law(ar, prefix_chars)
            ok = True
            for text in ar_texts + hid_texts[:20]:
                ok = ok and task.parse(text) is not None and log_prob(ar, "", text)[1] == task.probability(text) > 0
            checks = [generate_with_seed(hid, rng=gen)[0][:prefix_chars] for _ in range(check_samples)]
            ar_s = statistics.median(ar_times)
            row.update({"ar_samples": samples, "ar_s_per_puzzle": ar_s, "ar_counts_per_puzzle": statistics.median(ar_counts),
                        "ratio": ar_s / row["hidden_s_per_puzzle"],
                        "prefix_law_exact": law == _sudoku_row_law(task, prefix_chars),
                        "p_value": _chi_square(law, checks),
                        "p_ar": _chi_square(_clue_count_law(task), [sum(ch != "." for ch in t[:task.cells]) for t in ar_texts]),
                        "log_prob_exact": ok})
        row["check"] = (f"AR law of the first {prefix_chars} chars exact = closed form; chi-square of {check_samples} "
                        f"hidden samples vs it; exact log_prob = target on every sample") if task.n <= 8 else \
            "hidden only (the AR model: step rows)"
        rows.append(row)
    if nine_steps:
        rows += sudoku_nine_steps(nine_steps, gen, rho=rho, max_nodes=nine_max_nodes, progress=progress)
    return {"name": "sudoku", "rows": rows,
            "columns": ["shape", "grids", "count_s", "ar_s_per_puzzle", "ar_counts_per_puzzle", "hidden_s_per_puzzle",
                        "ratio", "prefix_law_exact", "p_value", "p_ar", "log_prob_exact", "step", "phase", "givens",
                        "completions", "step_s", "finished"]}
