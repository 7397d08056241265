"""nextdigit: fast, exact number theory for autoregressive sampling.

This namespace is the number-theory API: primality, exact prime counts and lists, pi(x),
prefix counts and next-digit laws, prime-density approximations and uniform random primes.
The layers above it are subpackages (data flows down, never up)::

    cli ──> analysis (distance, uniformity, costs, experiments)    lm (token-level laws, processors)
                │                                                   │
                v                                                   v
            tasks (primes, semiprimes, uniform_number, polyroots, twentyq): AR and hidden-state models
                │
                v
            models: the autoregressive signature (Vocabulary, generate, log_prob, hidden seed/stream)
                │
                v
            this namespace: primality, counting, pi, nthprime, prefix, density, factoring, randprime
                │
                v
            Cython kernels (nextdigit._primality, _sieve, _pi, ...: private); _util: validation,
            threads, rng, executors/checkpoints
"""
from .counting import count_primes, prime_histogram, primes_between
from .density import li, riemann_r
from .nthprime import nth_prime
from .pi import prime_pi
from .prefix import digit_counts, digit_counts_batch, prefix_count, prefix_table
from .primality import is_prime, next_prime, prev_prime
from .randprime import random_prime, random_primes

__version__ = "0.1.0"

__all__ = [
    "is_prime",
    "next_prime",
    "prev_prime",
    "prime_pi",
    "nth_prime",
    "count_primes",
    "primes_between",
    "prime_histogram",
    "prefix_count",
    "digit_counts",
    "digit_counts_batch",
    "prefix_table",
    "li",
    "riemann_r",
    "random_prime",
    "random_primes",
    "__version__",
]
