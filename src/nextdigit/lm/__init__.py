"""The language-model layer (in progress): the exact laws of nextdigit's tasks at the token level
of real tokenizers, logits processors that put them into real models' decoding loops (``teacher``:
exact sampling; ``mask``: what constrained decoders do), exact audits of a model's induced law,
and training data with exact soft targets.

It depends on ``transformers`` / ``tokenizers`` / ``torch`` only through the optional ``lm`` extra,
imported lazily; the rest of nextdigit never imports this package. It never counts primes
itself: it asks ``nextdigit.tasks`` and the number-theory API for exact counts.
"""
