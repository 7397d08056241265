"""nextdigit: fast, exact number theory for autoregressive sampling.

Layers (data flows down): models and analysis -> number-theory API (this namespace) -> Cython
kernels (``nextdigit._primality``, ``nextdigit._sieve``, ...; private).
"""
from .primality import is_prime, next_prime, prev_prime

__version__ = "0.1.0"

__all__ = ["is_prime", "next_prime", "prev_prime", "__version__"]
