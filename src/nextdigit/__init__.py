"""nextdigit: fast, exact number theory for autoregressive sampling.

Layers (data flows down): models and analysis (``nextdigit.models``, ``nextdigit.samplers``)
-> number-theory API (this namespace) -> Cython kernels (``nextdigit._primality``,
``nextdigit._sieve``, ...; private).
"""
from .counting import count_primes, prime_histogram, primes_between
from .density import li, riemann_r
from .prefix import digit_counts, digit_counts_batch, prefix_count, prefix_table
from .pi import prime_pi
from .primality import is_prime, next_prime, prev_prime

__version__ = "0.1.0"

__all__ = [
    "is_prime",
    "next_prime",
    "prev_prime",
    "prime_pi",
    "count_primes",
    "primes_between",
    "prime_histogram",
    "prefix_count",
    "digit_counts",
    "digit_counts_batch",
    "prefix_table",
    "li",
    "riemann_r",
    "__version__",
]
