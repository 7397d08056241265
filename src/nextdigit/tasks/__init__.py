"""The essay's randomized tasks, each with its autoregressive and hidden-state models.

Every model follows the signature of ``nextdigit.models`` (a ``vocab`` and
``next_token_distribution``; exact models also ``next_token_counts``); hidden-seed and
hidden-stream models extend it explicitly (``models.generate_with_seed`` /
``models.generate_with_hidden``). Models never count primes themselves: they ask the
number-theory API.

``nextdigit.tasks.primes`` -- a uniform n-digit prime
    ``RandomizedPrimeModel`` (stateless, randomized), ``ExactPrimeModel`` (exact counts),
    ``DensityPrimeModel`` (li / R density plus an exact tail). The hidden-state reference is
    ``nextdigit.random_prime``.
``nextdigit.tasks.semiprimes`` -- ``(p,q,N)`` vs ``(N,p,q)`` and the factoring attack
    ``SemiprimeTask``, ``ForwardSemiprimeModel``, ``HonestReversedModel``,
    ``BudgetedReversedModel``, ``HiddenStreamModel``, ``HiddenSeedModel``, ``factor_with_model``.
``nextdigit.tasks.uniform_number`` -- the baseline, a uniform n-digit number
    ``UniformNumberTask``, ``UniformNumberModel``, ``UniformNumberHiddenSeedModel``.
``nextdigit.tasks.polyroots`` -- a random monic polynomial with integer roots, coefficients first
    ``PolyRootsTask``, ``PolyRootsARModel``, ``PolyRootsHiddenSeedModel``,
    ``PolyRootsHiddenStreamModel``.
``nextdigit.tasks.twentyq`` -- Twenty Questions over SHA-256 bits
    ``TwentyQuestionsARModel``, ``TwentyQuestionsHiddenSeedModel``.
``nextdigit.tasks.sudoku`` -- a Sudoku puzzle, then its solution
    ``SudokuTask``, ``SudokuARModel``, ``SudokuHiddenSeedModel``, ``completion_count``,
    ``grid_count``.

The measured costs (AR vs hidden state) are in ``nextdigit.analysis.costs``.
"""
from .polyroots import PolyRootsARModel, PolyRootsHiddenSeedModel, PolyRootsHiddenStreamModel, PolyRootsTask
from .primes import DensityPrimeModel, ExactPrimeModel, RandomizedPrimeModel
from .semiprimes import (BudgetedReversedModel, ForwardSemiprimeModel, HiddenSeedModel, HiddenStreamModel,
                         HonestReversedModel, SemiprimeTask, factor_with_model)
from .sudoku import SudokuARModel, SudokuHiddenSeedModel, SudokuTask
from .twentyq import TwentyQuestionsARModel, TwentyQuestionsHiddenSeedModel
from .uniform_number import UniformNumberHiddenSeedModel, UniformNumberModel, UniformNumberTask

__all__ = [
    "RandomizedPrimeModel", "ExactPrimeModel", "DensityPrimeModel",
    "SemiprimeTask", "ForwardSemiprimeModel", "HonestReversedModel", "BudgetedReversedModel",
    "HiddenStreamModel", "HiddenSeedModel", "factor_with_model",
    "UniformNumberTask", "UniformNumberModel", "UniformNumberHiddenSeedModel",
    "PolyRootsTask", "PolyRootsARModel", "PolyRootsHiddenSeedModel", "PolyRootsHiddenStreamModel",
    "TwentyQuestionsARModel", "TwentyQuestionsHiddenSeedModel",
    "SudokuTask", "SudokuARModel", "SudokuHiddenSeedModel",
]
