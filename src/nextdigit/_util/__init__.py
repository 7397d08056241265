"""Infrastructure shared by every layer (private): nothing here imports the rest of nextdigit.

* ``validate`` -- argument checks (integers, digit counts, bases) with messages naming the argument;
* ``threads``  -- ``threads=`` semantics in one place (None = every usable core, OMP_NUM_THREADS);
* ``rng``      -- SPEC 7 randomness (``rng=None | int | SeedSequence | Generator``), exact big uniforms;
* ``scale``    -- executors, checkpoints, progress bars and independent random streams for split jobs.
"""
