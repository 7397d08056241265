"""How far is a model's induced law from the target, and what does each model cost?

``nextdigit.analysis.distance``
    ``exact_distribution`` (tree traversal, exact ``Fraction`` laws for counting models),
    ``exact_distribution_hidden_seed``, ``exact_distribution_hidden_stream``, ``tvd``, ``kl``,
    ``block_tvd`` (the density model's exact TVD by the block formula), ``monte_carlo_tvd``,
    ``sympy_randprime_tvd``, ``next_prime_after_random_tvd`` (library samplers' exact bias).
``nextdigit.analysis.uniformity``
    ``uniformity_test`` (chi-square with Monte-Carlo p-value and a max-count test),
    ``preceding_gap_test``, ``max_count_pvalue``.
``nextdigit.analysis.costs``
    AR vs hidden-state cost tables of the tasks: ``uniform_cost_table``,
    ``polyroots_cost_table``, ``twentyq_cost_table``, ``attack_table``.
``nextdigit.analysis.experiments``
    The essay's experiments (``EXPERIMENTS``, also ``nextdigit experiment NAME``) and
    ``format_table``; ``nextdigit.analysis.plots.plot_experiment`` draws them.
"""
from .distance import (block_tvd, exact_distribution, exact_distribution_hidden_seed, exact_distribution_hidden_stream,
                       kl, monte_carlo_tvd, next_prime_after_random_tvd, sympy_randprime_tvd, tvd)
from .uniformity import UniformityResult, max_count_pvalue, preceding_gap_test, uniformity_test

__all__ = [
    "exact_distribution", "exact_distribution_hidden_seed", "exact_distribution_hidden_stream", "tvd", "kl",
    "block_tvd", "monte_carlo_tvd", "sympy_randprime_tvd", "next_prime_after_random_tvd",
    "uniformity_test", "preceding_gap_test", "max_count_pvalue", "UniformityResult",
]
