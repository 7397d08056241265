"""Chi-square p-values shared by the sampling tests (exact laws against sample frequencies)."""
from __future__ import annotations

from collections import Counter

import mpmath


def _upper_tail(stat: float, df: int) -> float:
    """P(chi2_df >= stat), by the regularised upper incomplete gamma function."""
    return float(mpmath.gammainc(df / 2, stat / 2, mpmath.inf, regularized=True))


def chi2_pvalue(samples, law: dict) -> float:
    """Pearson chi-square of ``samples`` against ``law`` (outcome -> probability), cells that
    expect fewer than 5 samples pooled into one; a sample outside the law fails the test."""
    n = len(samples)
    c = Counter(samples)
    assert set(c) <= set(law), f"samples outside the law: {sorted(set(c) - set(law))[:5]}"
    cells, pool_e, pool_o = [], 0.0, 0
    for k, p in law.items():
        e = n * p
        if e < 5:
            pool_e += e
            pool_o += c.get(k, 0)
        else:
            cells.append((c.get(k, 0), e))
    if pool_e > 0:
        cells.append((pool_o, pool_e))
    stat = sum((o - e) ** 2 / e for o, e in cells)
    return _upper_tail(stat, len(cells) - 1)


def chi_square_p(samples, support) -> float:
    """Pearson chi-square p-value of ``samples`` against the uniform law on ``support``.  Any
    sample outside the support (a non-prime, a dead end) makes the p-value 0."""
    support = set(support)
    c = Counter(samples)
    if any(s not in support for s in c):
        return 0.0
    e = len(samples) / len(support)
    stat = sum((c.get(s, 0) - e) ** 2 / e for s in support)
    return _upper_tail(stat, len(support) - 1)
