"""Command-line interface: ``nextdigit COMMAND ...`` (also ``python -m nextdigit``).

Every command accepts ``--json`` and then prints one JSON document on stdout.  Integers on the
command line may be written as expressions of literals with ``+ - * ** ^`` and parentheses
(``2^64-59``, ``10**18+9``) and as exact ``1e10`` (``parse_int``: a small parser, never
``eval``); numbers of any length are read and printed through gmpy2.

Errors: a bad argument or a refused input prints exactly one line on stderr (``nextdigit
COMMAND: error: ...``, no traceback) and exits 2 (``factor-attack`` exits 1, with its usual output
and nothing on stderr, when the model finds no factorization: a result, not an error); Ctrl-C
prints one line and exits 130; a
closed stdout (``nextdigit pi 10 | head -0``) ends quietly with 141 (128 + SIGPIPE), as Unix
tools do.  ``--plot FILE`` is checked before the work (matplotlib importable, the folder
exists; a name without an extension gets ``.png``, and the message names the file written).
``--workers N`` runs a process pool started by ``forkserver`` (never ``fork``), terminated at
once on Ctrl-C.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sys
import time

from ._util.validate import int_to_str, short, str_to_int

MAX_EXPONENT_BITS = 1 << 20  # refuse 2**(10**9): a CLI argument should not hang the parser

_TOKEN = re.compile(r"""\s*(?:
      (?P<num>0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|[0-9][0-9_]*(?:[eE]\+?[0-9][0-9_]*)?)
    | (?P<op>\*\*|[-+*^()])
    )""", re.VERBOSE)


def _literal(tok: str, text: str) -> int:
    """An integer literal: decimal (any length, through gmpy2), 0x / 0b / 0o, or an exact NeM =
    N * 10**M with integer N and M >= 0 (``1e10``, ``3E18``: primesieve's notation)."""
    body = tok.replace("_", "")
    if body[:2].lower() in ("0x", "0b", "0o"):
        return int(body, 0)
    mant, _, exp = body.lower().partition("e")
    value = str_to_int(mant)
    if exp:
        exp = exp.lstrip("+")
        e = int(exp) if len(exp) <= 9 else MAX_EXPONENT_BITS
        if e * 3.33 > MAX_EXPONENT_BITS:
            raise argparse.ArgumentTypeError(f"exponent out of range in {short(text)}")
        value *= 10**e
    return value


def parse_int(text: str) -> int:
    """Parse an integer expression such as ``12345``, ``2**127-1``, ``10^18 + 9`` or ``1e10``.

    Integers, ``+ - * ** ^`` (``^`` is ``**``) and parentheses, with Python's precedence
    (``-2**2 == -4``, ``2**3**2 == 2**9``); ``NeM`` is the exact integer N * 10**M (``1e10``,
    ``3e18``; ``1.5e3`` or ``1e-3`` are refused: no rounding).  A small recursive-descent parser,
    never ``eval``: decimal literals of any length convert through gmpy2 (no 4300-digit limit),
    exponents are capped at ``MAX_EXPONENT_BITS`` result bits, and every malformed text (null
    bytes included) is an ``ArgumentTypeError``.
    """
    if not isinstance(text, str):
        raise argparse.ArgumentTypeError(f"not an integer expression: {short(text)}")
    tokens, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            if text[pos:].strip() == "":
                break
            raise argparse.ArgumentTypeError(f"not an integer expression: {short(text)} (write integers and + - * ** ^ ( ), "
                                             "e.g. 2^64-59 or 1e10)")
        tokens.append(("num", m.group("num")) if m.group("num") else ("op", m.group("op")))
        pos = m.end()
        # a literal must not run into a letter or a dot: '1.5e3', '12abc', '1e'
        if m.group("num") and pos < len(text) and (text[pos].isalnum() or text[pos] in "._"):
            raise argparse.ArgumentTypeError(f"not an integer expression: {short(text)} (integers only: no decimal "
                                             "point, NeM needs integer N and M >= 0)")
    if not tokens:
        raise argparse.ArgumentTypeError(f"not an integer expression: {short(text)}")
    i = 0

    def peek():
        return tokens[i] if i < len(tokens) else (None, None)

    def take(op):
        nonlocal i
        if peek() == ("op", op):
            i += 1
            return True
        return False

    def atom():
        nonlocal i
        kind, tok = peek()
        if kind == "num":
            i += 1
            return _literal(tok, text)
        if take("("):
            v = expr()
            if not take(")"):
                raise argparse.ArgumentTypeError(f"unbalanced parentheses in {short(text)}")
            return v
        raise argparse.ArgumentTypeError(f"not an integer expression: {short(text)}")

    def power():
        base = atom()
        if take("**") or take("^"):
            e = unary()
            if e < 0 or abs(base) > 1 and e * max(1, abs(base).bit_length()) > MAX_EXPONENT_BITS:
                raise argparse.ArgumentTypeError(f"exponent out of range in {short(text)}")
            return base**e
        return base

    def unary():
        if take("-"):
            return -unary()
        if take("+"):
            return unary()
        return power()

    def term():
        v = unary()
        while take("*"):
            v *= unary()
        return v

    def expr():
        v = term()
        while True:
            if take("+"):
                v += term()
            elif take("-"):
                v -= term()
            else:
                return v

    try:
        value = expr()
    except RecursionError:
        raise argparse.ArgumentTypeError(f"expression nested too deeply: {short(text)}") from None
    if i != len(tokens):
        raise argparse.ArgumentTypeError(f"not an integer expression: {short(text)}")
    return value


def _int_option(lo: int | None = None, hi: int | None = None, what: str = "an integer"):
    """argparse type for an integer option: ``parse_int`` plus a range check."""
    def parse(text: str) -> int:
        v = parse_int(text)
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            rng = f">= {lo}" if hi is None else f"in [{lo}, {hi}]"
            raise argparse.ArgumentTypeError(f"must be {what} {rng}, got {short(v)}")
        return v
    parse.__name__ = "integer"
    return parse


def _emit(args, payload, lines):
    if args.json:
        json.dump(payload, sys.stdout, default=str)
        sys.stdout.write("\n")
    else:
        for line in lines:
            print(line)


def cmd_isprime(args):
    from .primality import is_prime

    res = [(n, bool(is_prime(n))) for n in args.n]
    _emit(args, [{"n": int_to_str(n), "prime": p} for n, p in res],
          [f"{int_to_str(n)} {'prime' if p else 'composite'}" for n, p in res])
    return 0


def cmd_next_prime(args):
    from .primality import next_prime

    res = [(n, next_prime(n)) for n in args.n]
    _emit(args, [{"n": int_to_str(n), "next_prime": int_to_str(p)} for n, p in res], [int_to_str(p) for _, p in res])
    return 0


def cmd_prev_prime(args):
    from .primality import prev_prime

    res = [(n, prev_prime(n)) for n in args.n]
    _emit(args, [{"n": int_to_str(n), "prev_prime": int_to_str(p)} for n, p in res], [int_to_str(p) for _, p in res])
    return 0


def _scale_kwargs(args) -> dict:
    """``executor=``/``checkpoint=`` from --workers / --checkpoint (see ``nextdigit._util.scale``)."""
    kw = {}
    if args.checkpoint:
        from ._util.scale import check_checkpoint

        kw["checkpoint"] = check_checkpoint(args.checkpoint)   # before the pool starts
    if args.workers is not None:
        from ._util.scale import process_pool

        kw["executor"] = process_pool(args.workers, start=True)
    return kw


def _stop_pool(pool, interrupted: bool) -> None:
    """Shut the CLI's own pool down; after Ctrl-C or an error its workers are terminated at
    once (a running task would otherwise finish first, and the interpreter's exit waits for
    it: 5 s for a count near 2**64)."""
    if not interrupted:
        pool.shutdown()
        return
    procs = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in procs:
        if proc.is_alive():
            proc.terminate()
    for proc in procs:
        proc.join(timeout=5)


def _run_scaled(args, func, *a, **kw):
    """Call ``func`` with the --workers/--checkpoint options, shutting the pool down after."""
    extra = _scale_kwargs(args)
    ok = False
    try:
        out = func(*a, **kw, **extra)
        ok = True
        return out
    finally:
        if "executor" in extra:
            _stop_pool(extra["executor"], interrupted=not ok)


def cmd_count(args):
    from .counting import count_primes

    if args.workers is None and not args.checkpoint:
        c = count_primes(args.a, args.b)
    else:
        c = _run_scaled(args, count_primes, args.a, args.b, progress=_want_progress(args))
    _emit(args, {"a": int_to_str(args.a), "b": int_to_str(args.b), "count": str(c)}, [str(c)])
    return 0


def cmd_digits(args):
    from .prefix import digit_counts

    plot = _plot_path(args)
    counts = [int(x) for x in digit_counts(args.prefix, args.digits, args.base)]
    total = sum(counts)
    rows = [(d, c, c / total if total else 0.0) for d, c in enumerate(counts)]
    _emit(
        args,
        {"prefix": args.prefix, "digits": args.digits, "base": args.base, "total": total,
         "counts": counts, "probabilities": [r[2] for r in rows]},
        [f"prefix {short(args.prefix)}, {args.digits}-digit primes: {total}"]
        + [f"  next digit {d}: {c:>12}  p = {p:.6f}" for d, c, p in rows],
    )
    _maybe_plot(plot, {"name": "digits", "rows": [], "prefix": args.prefix, "digits": args.digits,
                       "probabilities": [r[2] for r in rows]})
    return 0


def cmd_sample(args):
    from .models import generate_many
    from .randprime import random_primes
    from .tasks.primes import DensityPrimeModel, ExactPrimeModel, RandomizedPrimeModel

    if args.hidden:
        out = [int_to_str(int(p), args.base) for p in random_primes(args.digits, args.count, args.seed, args.base)]
        name = "random_prime (hidden state)"
    else:
        if args.model == "randomized":
            model = RandomizedPrimeModel(args.digits, args.base)
        elif args.model == "exact":
            model = ExactPrimeModel(args.digits, args.base)
        else:
            model = DensityPrimeModel(args.digits, tail=args.tail, base=args.base)
        out = generate_many(model, args.count, rng=args.seed)
        name = model.name
    _emit(args, {"model": name, "seed": args.seed, "samples": out}, out)
    return 0


def _want_progress(args) -> bool:
    return not getattr(args, "quiet", False) and not args.json and sys.stderr.isatty()


_PLOT_FORMATS = ("png", "pdf", "svg", "jpg", "jpeg", "eps", "ps", "tif", "tiff", "webp")


def _plot_path(args):
    """The --plot file, checked before any work: matplotlib present, the folder exists, a known
    image format (no extension: .png is added, and reported)."""
    path = getattr(args, "plot", None)
    if not path:
        return None
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise RuntimeError("--plot needs matplotlib: pip install 'nextdigit[plot]'") from None
    root, ext = os.path.splitext(path)
    if not ext:
        path += ".png"
    elif ext[1:].lower() not in _PLOT_FORMATS:
        raise ValueError(f"--plot {short(path)}: unknown image format {ext!r} (use one of {', '.join(_PLOT_FORMATS)})")
    folder = os.path.dirname(path) or "."
    if not os.path.isdir(folder):
        raise ValueError(f"--plot {short(path)}: the folder {folder!r} does not exist")
    if not os.access(folder, os.W_OK):
        raise ValueError(f"--plot {short(path)}: the folder {folder!r} is not writable")
    return path


def _maybe_plot(path, result):
    if path:
        from .analysis.plots import plot_experiment

        plot_experiment(result, path)
        print(f"wrote {path}", file=sys.stderr)


def cmd_pi(args):
    from .pi import prime_pi

    v = prime_pi(args.x)
    _emit(args, {"x": int_to_str(args.x), "pi": str(v)}, [str(v)])
    return 0


def cmd_nth_prime(args):
    from .nthprime import nth_prime

    v = nth_prime(args.N)
    _emit(args, {"n": str(args.N), "prime": str(v)}, [str(v)])
    return 0


def cmd_factor_attack(args):
    from .tasks.semiprimes import HONEST_MAX_DIGITS, BudgetedReversedModel, HonestReversedModel, factor_with_model

    N = args.N
    if N < 4:
        raise ValueError(f"N must be >= 4, got {short(N)}")
    n = (len(int_to_str(N)) + 1) // 2 if args.digits is None else args.digits
    if args.model == "honest" or (args.model == "auto" and n <= HONEST_MAX_DIGITS):
        model = HonestReversedModel(n)
    else:
        model = BudgetedReversedModel(n, budget=args.budget)
    t0 = time.perf_counter()
    res = factor_with_model(N, model, rng=args.seed)
    dt = time.perf_counter() - t0
    shown = short(N)
    lines = [f"{model.name} prompted with '({shown},': "
             + (f"{int_to_str(res[0])} * {int_to_str(res[1])}" if res else "no factorization")]
    _emit(args, {"N": int_to_str(N), "model": model.name, "factors": [int_to_str(x) for x in res] if res else None,
                 "seconds": dt}, lines)
    return 0 if res else 1


def cmd_tvd(args):
    from .analysis import block_tvd, monte_carlo_tvd
    from .analysis.experiments import EXACT_BLOCK_MAX_DIGITS, ndigit_prime_count
    from .tasks.primes import DensityPrimeModel

    model = DensityPrimeModel(args.digits, tail=args.tail)
    if args.samples is None and args.digits <= EXACT_BLOCK_MAX_DIGITS:
        value, ci, method = _run_scaled(args, block_tvd, args.digits, args.tail), None, "exact (block formula)"
    else:
        samples = 300 if args.samples is None else args.samples
        value, ci = _run_scaled(args, monte_carlo_tvd, model, ndigit_prime_count(args.digits), samples, args.seed)
        method = f"Monte-Carlo, {samples} samples (99% interval)"
    lines = [f"{model.name}: TVD from uniform = {value:.6g} [{method}]"
             + (f", interval [{ci[0]:.4g}, {ci[1]:.4g}]" if ci else ""),
             f"heuristic sqrt((ln(x/h) - 1.415)/(2 pi h)), capped at 1 = {model.estimated_tvd():.6g}"]
    _emit(args, {"model": model.name, "tvd": value, "interval": ci, "method": method,
                 "heuristic": model.estimated_tvd()}, lines)
    return 0


def cmd_train_uniform(args):
    """``nextdigit experiment train-uniform`` (``nextdigit.lm.training.train_uniform``)."""
    from .analysis.experiments import format_table

    try:
        from .lm.training import plot_train_uniform, train_uniform
    except ImportError as exc:  # pragma: no cover - nextdigit.lm imports neither torch nor transformers
        raise RuntimeError(f"train-uniform needs the lm extra: {exc}") from None
    digits = args.digits or [4]
    if len(digits) != 1:
        raise ValueError("train-uniform runs one --digits value at a time")
    task = args.task or ("prime" if digits[0] < 6 else "number")
    try:
        result = train_uniform(task, digits[0], samples=args.samples, steps=args.steps, batch_size=args.batch_size,
                               audit_every=args.audit_every, seed=0 if args.seed is None else args.seed,
                               model=args.model_size, progress=_want_progress(args))
    except ImportError as exc:
        raise RuntimeError(f"train-uniform needs the lm extra (torch, transformers, tokenizers): {exc}") from None
    lines = [format_table(result)]
    c = result["config"]
    lines.append(f"{c['digits']}-digit {c['task']}s ({c['support']} answers); GPT-2 {c['model']}; {c['steps']} steps x "
                 f"batch {c['batch_size']}, lr {c['lr']}; seeds {c['seeds']}; "
                 f"{result['compute']['seconds']:.0f} s on {result['compute']['torch_threads']} torch thread(s)")
    _emit(args, result, lines)
    if args.plot:
        plot_train_uniform(result, args.plot)
        print(f"wrote {args.plot}", file=sys.stderr)
    return 0


def cmd_experiment(args):
    from .analysis.experiments import EXPERIMENTS, format_table

    plot = _plot_path(args)
    if args.name == "train-uniform":
        return cmd_train_uniform(args)
    func = EXPERIMENTS[args.name]
    kwargs = {}
    if args.name != "gpt4-footnote":
        kwargs["progress"] = _want_progress(args)
    if args.digits:
        key = {"li-tvd": "n_values", "first-digit": "n_values", "library-bias": "digit_values",
               "attack": "n_values", "twenty-questions": "m_values", "sudoku": "n_values"}.get(args.name)
        if key:
            kwargs[key] = tuple(args.digits)
        else:
            raise ValueError(f"{args.name} takes no --digits")
    if args.seed is not None:
        if args.name not in ("li-tvd", "attack", "polyroots", "twenty-questions", "sudoku"):
            raise ValueError(f"{args.name} draws no random numbers: it takes no --seed")
        kwargs["rng"] = args.seed
    if args.name in ("li-tvd", "first-digit", "library-bias", "attack"):  # sweeps: --workers/--checkpoint
        result = _run_scaled(args, func, **kwargs)
    elif args.workers is not None or args.checkpoint:
        raise ValueError(f"{args.name} is a timing table (or instantaneous): it runs in-process, without "
                         "--workers/--checkpoint")
    else:
        result = func(**kwargs)
    _emit(args, result, [format_table(result)])
    _maybe_plot(plot, result)
    return 0


def cmd_audit(args):
    """``nextdigit audit``: the exact law of a local model's decoding (``nextdigit.lm.audit``)."""
    try:
        from .lm.audit import cli_audit
    except ImportError as exc:  # pragma: no cover - nextdigit.lm imports neither torch nor transformers
        raise RuntimeError(f"nextdigit audit needs the lm extra: {exc}") from None
    payload, lines = cli_audit(args.model, task=args.task, digits=args.digits, prompt=args.prompt, mode=args.mode,
                               temperature=args.temperature, top_k=args.top_k, top_p=args.top_p, lead=args.lead,
                               max_nodes=args.max_nodes, samples=args.samples, seed=args.seed,
                               show_distortion=args.distortion, plot=args.plot)
    _emit(args, payload, lines)
    if args.plot:
        print(f"wrote {args.plot}", file=sys.stderr)
    return 0


def cmd_bench(args):
    import subprocess
    from pathlib import Path

    bench = Path(args.path) if args.path else Path.cwd() / "benchmarks"
    if not bench.is_dir():
        raise ValueError(f"no benchmarks directory at {bench} (run from the source checkout or pass --path)")
    cmd = [sys.executable, "-m", "pytest", str(bench), "--benchmark-only", "-o", "addopts=", "-q"]
    if args.json:
        cmd.append(f"--benchmark-json={args.json_file}")
    return subprocess.call(cmd + (["-k", args.k] if args.k else []))


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``nextdigit: error: ...`` (no usage block), exit 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {' '.join(str(message).split())} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="nextdigit", description="Fast, exact number theory for autoregressive sampling.")
    p.add_argument("--version", action="store_true", help="print the version and exit")
    sub = p.add_subparsers(dest="command", parser_class=_Parser)
    digits = _int_option(1, 100_000, "a digit count")
    positive = _int_option(1)
    seed = _int_option(0, None, "a seed")

    def add_scale(sp):
        sp.add_argument("--workers", type=_int_option(1, 4096, "a process count"), default=None,
                        help="run the pieces in N worker processes")
        sp.add_argument("--checkpoint", metavar="FILE", help="write progress to FILE and resume from it")

    def add(name, func, help_):
        sp = sub.add_parser(name, help=help_, description=help_)
        sp.add_argument("--json", action="store_true", help="print JSON")
        sp.set_defaults(func=func)
        return sp

    add("isprime", cmd_isprime, "test integers for primality").add_argument("n", nargs="+", type=parse_int)
    add("next-prime", cmd_next_prime, "smallest prime > n").add_argument("n", nargs="+", type=parse_int)
    add("prev-prime", cmd_prev_prime, "largest prime < n").add_argument("n", nargs="+", type=parse_int)
    sp = add("count", cmd_count, "number of primes p with a <= p < b")
    sp.add_argument("a", type=parse_int)
    sp.add_argument("b", type=parse_int)
    add_scale(sp)
    sp.add_argument("--quiet", action="store_true", help="no progress bar")
    sp = add("digits", cmd_digits, "exact next-digit counts of the n-digit primes starting with PREFIX")
    sp.add_argument("prefix", help="digits already written ('' for the first digit)")
    sp.add_argument("--digits", type=digits, required=True, help="length n of the primes")
    sp.add_argument("--base", type=_int_option(2, 36, "a base"), default=10)
    sp.add_argument("--plot", metavar="FILE.png", help="also save a bar chart (needs matplotlib)")
    sp = add("sample", cmd_sample, "sample uniform n-digit primes digit by digit")
    sp.add_argument("--model", choices=["randomized", "exact", "approx"], default="randomized")
    sp.add_argument("--digits", type=digits, required=True)
    sp.add_argument("--count", type=_int_option(0, None, "a sample count"), default=1)
    sp.add_argument("--seed", type=seed, default=None)
    sp.add_argument("--base", type=_int_option(2, 36, "a base"), default=10)
    sp.add_argument("--tail", type=_int_option(0, None, "a digit count"), default=4,
                    help="exact digits at the end (approx model)")
    sp.add_argument("--hidden", action="store_true", help="use the hidden-state sampler random_prime")
    sp = add("pi", cmd_pi, "the prime-counting function pi(x), exact for x < 2**64")
    sp.add_argument("x", type=parse_int)
    add("nth-prime", cmd_nth_prime, "the N-th prime (nth-prime 1 = 2), for N <= pi(2**64 - 1)").add_argument(
        "N", type=parse_int)
    sp = add("factor-attack", cmd_factor_attack, "the reduction: prompt a reversed (N,p,q) model with '(N,'")
    sp.add_argument("N", type=parse_int)
    sp.add_argument("--digits", type=digits, default=None, help="digits of p and q (default: from N)")
    sp.add_argument("--model", choices=["auto", "honest", "budgeted"], default="auto")
    sp.add_argument("--budget", type=positive, default=2000, help="rho iterations for the budgeted model")
    sp.add_argument("--seed", type=seed, default=0)
    sp = add("tvd", cmd_tvd, "TVD from uniform of the density model (li + exact last TAIL digits)")
    sp.add_argument("--digits", type=digits, required=True)
    sp.add_argument("--tail", type=_int_option(0, None, "a digit count"), default=3)
    sp.add_argument("--samples", type=_int_option(1, None, "a sample count"), default=None,
                    help="Monte-Carlo samples (default: exact when digits <= 11, else 300)")
    sp.add_argument("--seed", type=seed, default=0)
    add_scale(sp)
    sp = add("experiment", cmd_experiment, "run one of the essay's experiments")
    sp.add_argument("name", choices=["li-tvd", "first-digit", "library-bias", "gpt4-footnote", "attack", "polyroots",
                                     "twenty-questions", "sudoku", "train-uniform"])
    sp.add_argument("--digits", type=_int_option(1, 100_000, "a size"), nargs="*",
                    help="the n values to run (twenty-questions: the m values; sudoku: grid sides 4 6 8 9; "
                    "train-uniform: one n)")
    sp.add_argument("--plot", metavar="FILE.png", help="also save a plot (needs matplotlib)")
    sp.add_argument("--quiet", action="store_true", help="no progress bar")
    sp.add_argument("--seed", type=seed, default=None,
                    help="seed of the random rows (li-tvd, attack, polyroots, twenty-questions, sudoku), of the "
                    "samples, initialisation and batches (train-uniform)")
    add_scale(sp)
    tu = sp.add_argument_group("train-uniform (needs the lm extra)")
    tu.add_argument("--task", choices=["prime", "number"], default=None,
                    help="uniform n-digit primes or numbers (default: prime below 6 digits)")
    tu.add_argument("--samples", type=_int_option(1, None, "a sample count"), default=1000, help="exact samples of (a) and (b); (c) gets ten times more")
    tu.add_argument("--steps", type=_int_option(1, None, "a step count"), default=1500, help="AdamW steps of every run")
    tu.add_argument("--batch-size", type=_int_option(1, None, "a batch size"), default=64, help="answers per step")
    tu.add_argument("--audit-every", type=_int_option(1, None, "a step count"), default=150, help="exact audit every this many steps")
    tu.add_argument("--model-size", choices=["tiny", "small", "medium"], default="small", help="the GPT-2's size")
    sp = add("audit", cmd_audit, "the exact law a local language model's decoding induces on n-digit answers")
    sp.add_argument("--model", required=True, metavar="DIR", help="a local save_pretrained directory (loaded offline)")
    sp.add_argument("--task", required=True, choices=["prime", "number"])
    sp.add_argument("--digits", type=digits, required=True, help="length n of the answers")
    sp.add_argument("--prompt", default=None, help="text before the answer (default: the model's BOS token)")
    sp.add_argument("--lead", default="", help="text between the prompt and the digits (e.g. ' ')")
    sp.add_argument("--mode", choices=["plain", "mask", "teacher"], default="plain")
    sp.add_argument("--temperature", type=float, default=1.0, help="0 = greedy")
    sp.add_argument("--top-k", type=_int_option(1, None, "a token count"), default=None)
    sp.add_argument("--top-p", type=float, default=None)
    sp.add_argument("--max-nodes", type=_int_option(1, None, "a node count"), default=1 << 22, help="node budget of the exact walk")
    sp.add_argument("--samples", type=_int_option(1, None, "a sample count"), default=None, help="Monte Carlo with this many samples instead of the walk")
    sp.add_argument("--seed", type=seed, default=0, help="seed of the Monte Carlo sampler")
    sp.add_argument("--distortion", action="store_true", help="rejection sampling vs mask vs teacher, exactly")
    sp.add_argument("--plot", metavar="FILE.png", help="first digit and top answers against the target (matplotlib)")
    sp = add("bench", cmd_bench, "run the benchmark suite (pytest-benchmark)")
    sp.add_argument("--path", help="the benchmarks directory (default ./benchmarks)")
    sp.add_argument("-k", help="pytest -k expression to select benchmarks")
    sp.add_argument("--json-file", default="bench.json", help="with --json: where pytest-benchmark writes")
    return p


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 2000 else text[:1997] + "..."


def _quiet_broken_pipe() -> int:
    """stdout went away (``| head``): no traceback, the status a Unix tool killed by SIGPIPE has."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass
    return 128 + getattr(signal, "SIGPIPE", 13)


def main(argv=None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except KeyboardInterrupt:
        print("nextdigit: interrupted", file=sys.stderr)
        return 130
    if args.version:
        from . import __version__

        print(__version__)
        return 0
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    where = f"nextdigit {args.command}"
    try:
        status = args.func(args)
        sys.stdout.flush()
        return status
    except BrokenPipeError:
        return _quiet_broken_pipe()
    except KeyboardInterrupt:
        print(f"{where}: interrupted", file=sys.stderr)
        return 130
    except (ValueError, TypeError, RuntimeError, ArithmeticError, OSError, MemoryError) as exc:
        # ModelError is a ValueError; OSError: files of --checkpoint / --plot
        print(f"{where}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except Exception as exc:   # a bug: still one line; NEXTDIGIT_DEBUG=1 shows the traceback
        if os.environ.get("NEXTDIGIT_DEBUG"):
            raise
        print(f"{where}: internal error ({type(exc).__name__}): {_one_line(exc)} (set NEXTDIGIT_DEBUG=1 for the "
              "traceback, and please report it)", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
