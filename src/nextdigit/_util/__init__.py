"""Infrastructure shared by every layer (private): nothing here imports the rest of nextdigit.

One validator per kind of argument, called by every public function that takes it, before any
work:

* ``validate`` -- integers (``as_int``, ``as_int_in``; bool and floats refused), reals, flags,
  strings, choices, sequences, digit counts, bases, result sizes against the machine's memory
  (``check_result_size``); big numbers as text through gmpy2 (``int_to_str``, ``str_to_int``)
  and shortened in messages (``short``);
* ``threads``  -- ``threads=`` semantics in one place (None = every usable core, OMP_NUM_THREADS;
  at most 4 x the CPUs of the affinity mask): ``resolve_threads``;
* ``rng``      -- SPEC 7 randomness (``rng=None | int | SeedSequence | Generator``): ``check_rng``,
  ``as_generator``, ``seed_sequences``; exact big uniforms;
* ``scale``    -- executors, checkpoints, progress bars for split jobs (``check_executor``,
  ``check_checkpoint``, ``check_progress``, ``run_tasks``) and the library's process pool
  (``process_pool``: forkserver, never fork).
"""
