"""Is a sample uniform on its support?  Chi-square, collisions, max-count, preceding gaps.

``uniformity_test(samples, support)`` picks the test from the shape of the problem:

* every sample must lie in the support (one outside gives p = 0: "rejected");
* **chi-square** (Pearson, expected counts N/#S exactly) when every cell expects >= 5
  samples; the p-value is the chi-square tail (regularized upper incomplete gamma, via mpmath);
* **chi-square with a Monte-Carlo p-value** when cells are small but the support is not huge
  (#S <= 10**6): the statistic's law under uniformity is simulated (``mc`` draws; the p-value is
  (1 + #{sim >= obs}) / (1 + mc), so it cannot go below 1/(mc+1));
* **collisions** for huge supports: C = number of equal pairs, Poisson(C(N,2)/#S) under
  uniformity (accurate when N**2 << #S), plus the rigorous **max-count** bound
  p <= #S * P(Binomial(N, 1/#S) >= max count) (a union bound over the cells).

``preceding_gap_test(primes, lo, hi)`` detects next-prime style bias: a sampler that returns
next_prime(uniform) picks each prime with probability proportional to the gap before it, which
inflates the mean preceding gap from E[g] to about E[g**2]/E[g] (~2x for Cramer-like gaps).
The z statistic compares the sample mean of g(p) = p - prev_prime(p) with its exact mean and
variance over all primes of [lo, hi) when there are at most 10**7 of them (else the Cramer
model: mean = span/pi, sd = mean); the p-value is one-sided (large gaps).
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

import mpmath
import numpy as np

from .._util.rng import as_generator
from ..counting import count_primes, primes_between
from ..primality import prev_prime

__all__ = ["UniformityResult", "uniformity_test", "preceding_gap_test", "max_count_pvalue"]


@dataclass
class UniformityResult:
    test: str
    statistic: float
    p_value: float
    verdict: str
    details: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"test": self.test, "statistic": self.statistic, "p_value": self.p_value,
                "verdict": self.verdict, **self.details}


def _verdict(p: float, alpha: float) -> str:
    if p < alpha:
        return f"rejected: not uniform (p = {p:.3g} < alpha = {alpha:g})"
    return f"consistent with uniform (p = {p:.3g} >= alpha = {alpha:g})"


def _chi2_sf(stat: float, df: int) -> float:
    return float(mpmath.gammainc(df / 2.0, stat / 2.0, mpmath.inf, regularized=True))


def max_count_pvalue(max_count: int, n: int, cells: int) -> float:
    """Upper bound on P(some cell gets >= max_count of n uniform draws over ``cells`` cells)."""
    if max_count <= 0:
        return 1.0
    p = 1.0 / cells
    tail = mpmath.fsum(mpmath.binomial(n, k) * mpmath.mpf(p) ** k * mpmath.mpf(1 - p) ** (n - k)
                       for k in range(max_count, n + 1))
    return float(min(mpmath.mpf(1), cells * tail))


def uniformity_test(samples, support=None, *, support_size: int | None = None, alpha: float = 1e-6,
                    mc: int = 2000, rng=None) -> UniformityResult:
    """Test ``samples`` against the uniform law on ``support`` (a collection of outcomes) or on a
    support known only by its size ``support_size`` (then membership is not checked).
    """
    samples = list(samples)
    n = len(samples)
    if n < 2:
        raise ValueError("samples must hold at least 2 values")
    if support is not None:
        sup = set(support)
        size = len(sup)
        outside = sum(1 for s in samples if s not in sup)
        if outside:
            return UniformityResult("support", float(outside), 0.0,
                                    f"rejected: {outside} of {n} samples lie outside the support",
                                    {"outside": outside, "n": n})
    elif support_size is not None:
        size = int(support_size)
    else:
        raise ValueError("give support (the outcomes) or support_size")
    if size < 2:
        raise ValueError("the support must have at least 2 outcomes")
    counts = Counter(samples)
    expected = n / size
    sum_sq = sum(c * c for c in counts.values())
    stat = size / n * sum_sq - n                      # Pearson: sum (c - e)^2 / e
    if expected >= 5:
        p = _chi2_sf(stat, size - 1)
        return UniformityResult("chi-square", stat, p, _verdict(p, alpha),
                                {"n": n, "cells": size, "df": size - 1, "expected_per_cell": expected})
    if size <= 10**6:
        gen = as_generator(rng)
        sims = np.empty(mc)
        for i in range(mc):
            _, c = np.unique(gen.integers(0, size, size=n), return_counts=True)
            sims[i] = size / n * float((c.astype(np.float64) ** 2).sum()) - n
        p = (1 + int((sims >= stat - 1e-9).sum())) / (1 + mc)
        mx = max(counts.values())
        p_max = max_count_pvalue(mx, n, size)
        best = min(p, p_max)
        return UniformityResult("chi-square (Monte-Carlo p) and max-count", stat, best, _verdict(best, alpha),
                                {"n": n, "cells": size, "expected_per_cell": expected, "mc_draws": mc,
                                 "p_chi_square_mc": p, "max_count": mx, "p_max_count": p_max})
    pairs = sum(c * (c - 1) // 2 for c in counts.values())
    lam = n * (n - 1) / 2 / size
    p_coll = float(mpmath.gammainc(pairs, 0, lam, regularized=True)) if pairs > 0 else 1.0  # P(Poisson >= pairs)
    mx = max(counts.values())
    p_max = max_count_pvalue(mx, n, size)
    best = min(p_coll, p_max)
    return UniformityResult("collisions and max-count", float(pairs), best, _verdict(best, alpha),
                            {"n": n, "cells": size, "expected_pairs": lam, "p_collisions": p_coll,
                             "max_count": mx, "p_max_count": p_max})


def preceding_gap_test(primes, lo: int, hi: int, *, alpha: float = 1e-6) -> UniformityResult:
    """One-sided z-test of the mean preceding gap of sampled primes in [lo, hi) (module doc)."""
    vals = [int(p) for p in primes]
    if len(vals) < 2:
        raise ValueError("need at least 2 samples")
    gaps = np.array([p - prev_prime(p) for p in vals], dtype=np.float64)
    total = count_primes(lo, hi)
    if total <= 10**7:
        ps = primes_between(lo, hi).astype(np.int64)
        first_prev = prev_prime(int(ps[0]))
        all_gaps = np.diff(np.concatenate(([first_prev], ps))).astype(np.float64)
        mu, sd, source = float(all_gaps.mean()), float(all_gaps.std()), "exact over the range"
    else:
        mu = (hi - lo) / total
        sd, source = mu, "Cramer model (sd = mean)"
    z = (float(gaps.mean()) - mu) / (sd / math.sqrt(len(gaps)))
    p = 0.5 * math.erfc(z / math.sqrt(2))
    return UniformityResult("preceding gap", z, p, _verdict(p, alpha),
                            {"n": len(gaps), "mean_gap": float(gaps.mean()), "expected_mean_gap": mu,
                             "gap_sd": sd, "reference": source})
