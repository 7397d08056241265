"""How far is a model's induced distribution from the target?

* ``exact_distribution(model, prompt)``: the law of ``generate(model, prompt)`` by traversing
  the tree of partial outputs (one next-token call per node), exact ``Fraction`` probabilities
  for models with ``next_token_counts``, floats otherwise.  Deterministic models only (a
  randomized model's point masses are not its law).  Raises ``ValueError`` with the number of
  nodes visited when the tree exceeds ``max_nodes``.
* ``exact_distribution_hidden_seed(model)``: averages a hidden-seed model over every seed.
* ``exact_distribution_hidden_stream(model)``: the public-stream marginal of a hidden-stream
  model, traversing hidden and public tokens together.
* ``tvd(p, q)`` and ``kl(p, q)`` for distributions given as dicts (outcome -> probability).
"""
from __future__ import annotations

import math
from collections import defaultdict
from fractions import Fraction

import numpy as np

from .models import END, validate_distribution

__all__ = [
    "exact_distribution",
    "exact_distribution_hidden_seed",
    "exact_distribution_hidden_stream",
    "tvd",
    "kl",
]


def _children(model, prompt: str, text: str):
    """(token, probability) pairs with positive probability after ``text``."""
    counts_fn = getattr(model, "next_token_counts", None)
    if counts_fn is not None:
        c = [int(x) for x in counts_fn(prompt, text)]
        total = sum(c)
        return [(model.vocab.tokens[i], Fraction(x, total)) for i, x in enumerate(c) if x]
    p = validate_distribution(model, prompt, text, model.next_token_distribution(prompt, text, None))
    return [(model.vocab.tokens[i], float(x)) for i, x in enumerate(p) if x > 0]


def exact_distribution(model, prompt: str = "", max_nodes: int = 2_000_000) -> dict:
    """Exact law of a deterministic model's output (see module docstring)."""
    if not getattr(model, "deterministic", False):
        raise ValueError(f"exact_distribution needs a deterministic model; {getattr(model, 'name', model)!r} is randomized")
    out: dict = defaultdict(int)
    frontier = [("", Fraction(1) if getattr(model, "next_token_counts", None) else 1.0)]
    visited = 0
    while frontier:
        nxt = []
        for text, pr in frontier:
            visited += 1
            if visited > max_nodes:
                raise ValueError(
                    f"the output tree of {getattr(model, 'name', model)} has more than max_nodes={max_nodes} "
                    f"nodes (visited {visited}); use a Monte-Carlo estimate instead"
                )
            for tok, p in _children(model, prompt, text):
                if tok == END:
                    out[text] += pr * p
                else:
                    nxt.append((text + tok, pr * p))
        frontier = nxt
    return dict(out)


def exact_distribution_hidden_seed(model, prompt: str = "") -> dict:
    """Average of a hidden-seed model's (deterministic) output over all ``model.seed_space`` seeds."""
    from .semiprimes import generate_with_seed

    n = int(model.seed_space)
    if n > 5_000_000:
        raise ValueError(f"seed space of {n} seeds is too large to enumerate")
    out: dict = defaultdict(int)
    w = Fraction(1, n)
    for s in range(n):
        text, _ = generate_with_seed(model, prompt, seed=s)
        out[text] += w
    return dict(out)


def exact_distribution_hidden_stream(model, prompt: str = "", max_nodes: int = 2_000_000) -> dict:
    """Public-output marginal of a hidden-stream model (joint traversal of both streams)."""
    out: dict = defaultdict(float)
    frontier = [("", "", 1.0)]
    visited = 0
    while frontier:
        nxt = []
        for hidden, text, pr in frontier:
            visited += 1
            if visited > max_nodes:
                raise ValueError(f"more than max_nodes={max_nodes} nodes")
            stream, dist = model.step(prompt, hidden, text, None)
            for i in np.flatnonzero(dist):
                tok = model.vocab.tokens[i]
                p = pr * float(dist[i])
                if stream == "hidden":
                    nxt.append((hidden + tok, text, p))
                elif tok == END:
                    out[text] += p
                else:
                    nxt.append((hidden, text + tok, p))
        frontier = nxt
    return dict(out)


def tvd(p: dict, q: dict):
    """Total variation distance 1/2 sum |p(x) - q(x)| (exact for Fractions)."""
    keys = set(p) | set(q)
    return sum(abs(p.get(k, 0) - q.get(k, 0)) for k in keys) / 2


def kl(p: dict, q: dict) -> float:
    """Kullback-Leibler divergence KL(p || q) in nats (inf when p puts mass where q has none)."""
    total = 0.0
    for k, pk in p.items():
        if pk == 0:
            continue
        qk = q.get(k, 0)
        if qk == 0:
            return math.inf
        total += float(pk) * math.log(float(pk) / float(qk))
    return total
