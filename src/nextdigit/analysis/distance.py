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
* ``block_tvd`` (the density model's exact TVD) and ``monte_carlo_tvd`` (any deterministic
  model: the estimator needs each sample's probability under the model, which a randomized
  model does not give -- its point masses would make every p(x) = 1 and the estimate ~1 whatever
  its law, so it is refused with a ValueError; test its samples with ``uniformity_test``).
"""
from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from fractions import Fraction

import numpy as np

from .._util.rng import check_rng
from .._util.scale import check_checkpoint, check_executor, check_progress, checkpoint_seed, run_tasks, seed_sequences
from .._util.threads import resolve_threads
from .._util.validate import as_int, as_int_in, as_real, as_str, check_base, check_digits, check_result_size, short
from ..counting import MAX_SPAN as MAX_SIEVE_SPAN
from ..counting import count_primes, prime_histogram, primes_between
from ..models import END, _sample_index, generate_with_seed, validate_distribution
from ..primality import is_prime

__all__ = [
    "exact_distribution",
    "exact_distribution_hidden_seed",
    "exact_distribution_hidden_stream",
    "tvd",
    "kl",
    "block_tvd",
    "monte_carlo_tvd",
    "sympy_randprime_tvd",
    "next_prime_after_random_tvd",
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


def _check_model(model, what: str, counts_ok: bool = True):
    """A model of the plain signature (``vocab`` and ``next_token_distribution``, or
    ``next_token_counts`` where ``counts_ok``) that is deterministic: a randomized model's
    next-token vectors are point masses drawn with its own coins, not its law, so neither the
    tree traversal nor the Monte-Carlo estimator applies."""
    has = callable(getattr(model, "next_token_distribution", None)) or (
        counts_ok and callable(getattr(model, "next_token_counts", None)))
    if not (hasattr(model, "vocab") and has):
        raise TypeError(f"{what} needs a model with a vocab and next_token_distribution, not {type(model).__name__}")
    if not getattr(model, "deterministic", False):
        raise ValueError(
            f"{what} needs a deterministic model; {short(getattr(model, 'name', type(model).__name__))} is randomized "
            "(its next-token vectors are point masses chosen by its own coins, not its probabilities); test its "
            "samples with nextdigit.analysis.uniformity_test instead")
    return model


def exact_distribution(model, prompt: str = "", max_nodes: int = 2_000_000) -> dict:
    """Exact law of a deterministic model's output (see module docstring)."""
    _check_model(model, "exact_distribution")
    prompt = as_str(prompt, "prompt")
    max_nodes = as_int_in(max_nodes, "max_nodes", 1)
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
    prompt = as_str(prompt, "prompt")
    n = as_int(getattr(model, "seed_space", None), "model.seed_space")
    if n > 5_000_000:
        raise ValueError(f"seed space of {short(n)} seeds is too large to enumerate")
    out: dict = defaultdict(int)
    w = Fraction(1, n)
    for s in range(n):
        text, _ = generate_with_seed(model, prompt, seed=s)
        out[text] += w
    return dict(out)


def exact_distribution_hidden_stream(model, prompt: str = "", max_nodes: int = 2_000_000) -> dict:
    """Public-output marginal of a hidden-stream model (joint traversal of both streams)."""
    if not (hasattr(model, "vocab") and callable(getattr(model, "step", None))):
        raise TypeError("exact_distribution_hidden_stream needs a hidden-stream model (a vocab and "
                        f"step(prompt, hidden, text, rng)), not {type(model).__name__}")
    prompt = as_str(prompt, "prompt")
    max_nodes = as_int_in(max_nodes, "max_nodes", 1)
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


def _as_law(p, name: str) -> dict:
    """A distribution given as a mapping outcome -> probability: every value a finite real number
    >= 0 (``as_real``: int, Fraction, float, numpy or gmpy2 number; not bool).  The values need not
    sum to 1 (sub-probability laws, e.g. without an off-support bucket, are compared as they are)."""
    if not isinstance(p, Mapping):
        raise TypeError(f"{name} must be a mapping outcome -> probability (a dict), not {type(p).__name__}")
    if set(map(type, p.values())) <= _PLAIN_REALS:      # the usual laws: one vectorised check
        try:
            v = np.fromiter(p.values(), dtype=np.float64, count=len(p))
            if np.isfinite(v).all() and (v >= 0).all():
                return p
        except OverflowError:                          # an int or Fraction beyond floats
            pass
    for k, v in p.items():                             # name the first bad entry
        as_real(v, f"{name}[{short(k)}]", lo=0)
    return p


_PLAIN_REALS = {float, int, Fraction}


def tvd(p: dict, q: dict):
    """Total variation distance ``1/2 sum |p(x) - q(x)|`` (exact for Fractions).

    ``p`` and ``q`` map outcomes to probabilities (finite reals >= 0); anything else is a
    ``TypeError`` / ``ValueError`` naming the argument."""
    p, q = _as_law(p, "p"), _as_law(q, "q")
    keys = set(p) | set(q)
    return sum(abs(p.get(k, 0) - q.get(k, 0)) for k in keys) / 2


def kl(p: dict, q: dict) -> float:
    """Kullback-Leibler divergence KL(p || q) in nats (inf when p puts mass where q has none).

    Arguments as for ``tvd``."""
    p, q = _as_law(p, "p"), _as_law(q, "q")
    total = 0.0
    for k, pk in p.items():
        if pk == 0:
            continue
        qk = q.get(k, 0)
        if qk == 0:
            return math.inf
        total += float(pk) * math.log(float(pk) / float(qk))
    return total


# ---------------------------------------------------------------------------------------------
# density-plus-exact-tail models: the block formula, and Monte-Carlo TVD for any model
# ---------------------------------------------------------------------------------------------
def _block_density(lo: np.ndarray, w: float) -> np.ndarray:
    """integral_{lo}^{lo+w} dt/ln t for float block starts ``lo`` (Simpson; relative error
    ~ (w/lo)**4 / ln lo, far below float rounding for the blocks used here)."""
    a = lo
    b = lo + w
    m = lo + 0.5 * w
    return w / 6.0 * (1.0 / np.log(a) + 4.0 / np.log(m) + 1.0 / np.log(b))


def _block_density_sum(lo: int, w: int, start: int, m: int) -> float:
    """Sum of the density masses of blocks start .. start+m-1 (block i = [lo + i*w, lo + (i+1)*w))."""
    a = lo + start * w
    return float(_block_density(a + w * np.arange(m, dtype=np.float64), float(w)).sum())


def _block_abs_diff(lo: int, w: int, start: int, m: int, d_tot: float, c_tot: int) -> float:
    """sum |D(B)/D_tot - C(B)/C_tot| over blocks start .. start+m-1 (one histogram, threads=1)."""
    a = lo + start * w
    c = prime_histogram(a, w, m, threads=1).astype(np.float64)
    d = _block_density(a + w * np.arange(m, dtype=np.float64), float(w))
    return float(np.abs(d / d_tot - c / c_tot).sum())


def block_tvd(digits, tail, base=10, *, chunk_blocks: int = 1 << 22, threads=None, executor=None, checkpoint=None,
              progress: bool = False) -> float:
    """Exact TVD from uniform of ``DensityPrimeModel(digits, tail)`` (density 'li'), by the
    block formula ``TVD = 1/2 sum_B |D(B)/D_tot - C(B)/C_tot|`` over the blocks B of base**tail
    numbers: the model lands in B with probability D(B)/D_tot (density masses telescope down
    the digit tree) and is uniform on B's C(B) primes; blocks without primes are the dead-end
    mass. C_tot is the number of n-digit primes (``count_primes``), C(B) comes from histogram
    passes of the counting engine, D(B) from a Simpson rule on each block (D_tot is the sum of
    the same D(B), so rounding cancels).

    The blocks are processed in chunks of ``chunk_blocks``, two passes (density totals, then the
    sum of differences), each chunk a task of ``nextdigit._util.scale.run_tasks``: with ``executor``
    the chunks run anywhere and the result is bit-for-bit the same (partial sums are added in
    chunk order); ``checkpoint`` (a file; the density pass uses ``checkpoint + ".density"``)
    lets a killed run resume. Without an executor the histograms use ``threads``.
    """
    n = check_digits(digits)
    k = as_int(tail, "tail")
    b = check_base(base)
    chunk_blocks = as_int(chunk_blocks, "chunk_blocks")
    if n < 2 or not 0 <= k < n:
        raise ValueError(f"need digits >= 2 and 0 <= tail < digits, got digits={n}, tail={short(k)}")
    if chunk_blocks < 1:
        raise ValueError(f"chunk_blocks must be >= 1, got {short(chunk_blocks)}")
    threads = resolve_threads(threads)
    check_executor(executor)
    checkpoint = check_checkpoint(checkpoint)
    progress = check_progress(progress)
    if (b - 1) * b ** (n - 1) > MAX_SIEVE_SPAN:  # the histograms sieve every n-digit number
        raise ValueError(f"block_tvd sieves all {n}-digit numbers in base {b}, more than {MAX_SIEVE_SPAN:.0e} "
                         "integers (the counting engine's sieve limit); use monte_carlo_tvd")
    lo, hi = b ** (n - 1), b**n
    w = b**k
    nblocks = (hi - lo) // w
    chunks = [(start, min(chunk_blocks, nblocks - start)) for start in range(0, nblocks, chunk_blocks)]
    key = {"job": "block_tvd", "digits": n, "tail": k, "base": b, "chunk_blocks": chunk_blocks}
    c_tot = count_primes(lo, hi, threads=threads)
    density = [(_block_density_sum, (lo, w, s, m)) for s, m in chunks]
    d_tot = float(sum(run_tasks(density, {**key, "pass": "density"}, executor,
                                None if checkpoint is None else f"{checkpoint}.density", progress, "density")))
    if executor is None and checkpoint is None:  # in-process: let the histograms use every thread
        acc = 0.0
        for s, m in chunks:
            a = lo + s * w
            c = prime_histogram(a, w, m, threads=threads).astype(np.float64)
            d = _block_density(a + w * np.arange(m, dtype=np.float64), float(w))
            acc += float(np.abs(d / d_tot - c / c_tot).sum())
        return 0.5 * acc
    diffs = [(_block_abs_diff, (lo, w, s, m, d_tot, c_tot)) for s, m in chunks]
    parts = run_tasks(diffs, {**key, "pass": "differences", "d_tot": d_tot}, executor, checkpoint, progress, "blocks")
    acc = 0.0
    for x in parts:  # the same order of additions as in-process
        acc += x
    return 0.5 * acc


MC_CHUNK = 256  # samples per Monte-Carlo task (fixed: the split must not depend on the executor)


class _NDigitPrime:
    """Default support test of ``monte_carlo_tvd``: an n-digit prime (picklable, unlike a lambda)."""

    def __init__(self, digits: int, base: int):
        self.digits, self.base = digits, base

    def __call__(self, text: str) -> bool:
        return len(text) == self.digits and is_prime(int(text, self.base))


def _mc_terms(model, support_size: int, count: int, seed, in_support) -> list[float]:
    """``count`` Monte-Carlo terms (1 - u(x)/p(x))_+ drawn from the stream seeded by ``seed``."""
    gen = np.random.default_rng(seed)
    log_u = -math.log(support_size)
    terms = []
    for _ in range(count):
        text, logp = "", 0.0
        while True:
            p = validate_distribution(model, "", text, model.next_token_distribution("", text, gen))
            j = _sample_index(p, gen)
            logp += math.log(p[j])
            tok = model.vocab.tokens[j]
            if tok == END:
                break
            text += tok
        terms.append(max(0.0, 1.0 - math.exp(log_u - logp)) if in_support(text) else 1.0)
    return terms


def monte_carlo_tvd(model, support_size: int, samples: int = 1000, rng=None, *, in_support=None, z: float = 2.576,
                    executor=None, checkpoint=None, progress: bool = False):
    """Monte-Carlo TVD of a deterministic model from the uniform law on a support of
    ``support_size`` outcomes: TVD = E_{x~model}[(1 - u(x)/p(x))_+] with u = 1/support_size on
    the support (``in_support(x)``, default: x is an n-digit prime of the model) and 0 off it.

    Deterministic models only (``model.deterministic``): the estimator needs p(x), the model's
    probability of its sample, and a randomized model (``RandomizedPrimeModel``,
    ``BudgetedReversedModel``) returns point masses chosen by its own coins instead, which would
    make every p(x) = 1 and the estimate ~1 whatever its law.  Such a model is refused with a
    ``ValueError``; its samples can be tested with ``uniformity_test``.  (An estimate from sample
    frequencies is no substitute: with fewer samples than outcomes the plug-in TVD is close to 1
    even for an exactly uniform sampler.)

    Each sample is generated token by token while p(x) is accumulated from the same
    distributions. Returns ``(estimate, (low, high))``, a normal interval at ``z`` (99% default).

    The samples are drawn in chunks of ``MC_CHUNK``, chunk i from the i-th child of ``rng``'s
    seed, so the estimate is the same with any ``executor`` (``concurrent.futures``; the model and
    ``in_support`` must pickle for a process pool or Dask). ``checkpoint`` (a file, needs an int
    ``rng``) and ``progress`` as in ``nextdigit._util.scale``.
    """
    _check_model(model, "monte_carlo_tvd", counts_ok=False)
    support_size = as_int_in(support_size, "support_size", 1)
    samples = as_int_in(samples, "samples", 1)
    check_result_size(samples, 40, "samples", "the Monte-Carlo terms")
    z = as_real(z, "z", 0, open_lo=True)
    check_rng(rng)
    check_executor(executor)
    checkpoint = check_checkpoint(checkpoint)
    progress = check_progress(progress)
    if in_support is None:
        digits = getattr(model, "digits", None)
        if not isinstance(digits, int):
            raise TypeError(f"monte_carlo_tvd: {short(getattr(model, 'name', type(model).__name__))} has no int "
                            "digits; pass in_support (a function of the output text)")
        in_support = _NDigitPrime(digits, model.vocab.base)
    elif not callable(in_support):
        raise TypeError(f"in_support must be None or a callable, not {type(in_support).__name__}")
    sizes = [min(MC_CHUNK, samples - i) for i in range(0, samples, MC_CHUNK)]
    key = {"job": "monte_carlo_tvd", "model": getattr(model, "name", type(model).__name__),
           "support_size": support_size, "samples": samples, "seed": checkpoint_seed(rng, checkpoint)}
    seeds = seed_sequences(rng, len(sizes))
    tasks = [(_mc_terms, (model, support_size, c, s, in_support)) for c, s in zip(sizes, seeds)]
    terms = np.array([t for part in run_tasks(tasks, key, executor, checkpoint, progress, "chunks") for t in part])
    return mc_tvd_interval(terms, z)


def mc_tvd_interval(terms, z: float = 2.576):
    """The Monte-Carlo TVD estimate from its per-sample terms ``(1 - u(x)/p(x))_+`` (1 off the
    support): ``(mean, (low, high))``, a normal interval at ``z`` clipped to [0, 1] (shared by
    ``monte_carlo_tvd`` and ``nextdigit.lm.monte_carlo``)."""
    terms = np.asarray(terms, dtype=np.float64)
    est = float(terms.mean())
    half = z * float(terms.std(ddof=1)) / math.sqrt(len(terms)) if len(terms) > 1 else math.inf
    return est, (max(0.0, est - half), min(1.0, est + half))


# ---------------------------------------------------------------------------------------------
# library samplers with known laws
# ---------------------------------------------------------------------------------------------
def _gap_interval(a, b) -> tuple[int, int]:
    """[a, b) with 1 <= a < b <= 2**63 (the gap weights are int64)."""
    a, b = as_int(a, "a"), as_int(b, "b")
    if not 1 <= a < b <= 1 << 63:
        raise ValueError(f"need 1 <= a < b <= 2**63, got a={short(a)}, b={short(b)}")
    return a, b


def sympy_randprime_tvd(a: int, b: int) -> float:
    """Exact TVD from uniform (on the primes of [a, b)) of ``sympy.randprime(a, b)``, which
    draws n uniform in [a-1, b] and returns nextprime(n), or prevprime(b) past the last prime:
    prime p_i gets weight p_i - p_{i-1} (the first p_1 - (a-1), the last b + 1 - p_{m-1})."""
    a, b = _gap_interval(a, b)
    ps = primes_between(a, b).astype(np.int64)
    m = len(ps)
    if m < 2:
        raise ValueError(f"need at least two primes in [a, b), got a={short(a)}, b={short(b)}")
    w = np.empty(m, dtype=np.int64)
    w[0] = ps[0] - (a - 1)
    w[1:] = np.diff(ps)
    w[-1] = b + 1 - ps[-2]
    total = b - a + 2
    return 0.5 * float(np.abs(w / total - 1.0 / m).sum())


def next_prime_after_random_tvd(a: int, b: int) -> float:
    """Exact TVD from uniform on the primes of [a, b) of ``next_prime(U)`` with U uniform in
    [a, b) (next_prime(n) = the smallest prime > n): prime p_i gets weight p_i - p_{i-1}
    (p_1 - a for the first), and U at or past the last prime lands outside the support."""
    a, b = _gap_interval(a, b)
    ps = primes_between(a, b).astype(np.int64)
    m = len(ps)
    if m < 1:
        raise ValueError(f"need at least one prime in [a, b), got a={short(a)}, b={short(b)}")
    w = np.empty(m, dtype=np.int64)
    w[0] = ps[0] - a                       # U in [a, p_1)
    w[1:] = np.diff(ps)                    # U in [p_{i-1}, p_i)
    total = b - a
    outside = (b - ps[-1]) / total         # U in [p_m, b): next_prime(U) >= b
    return 0.5 * (float(np.abs(w / total - 1.0 / m).sum()) + outside)
