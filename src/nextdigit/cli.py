"""Command-line interface: ``nextdigit COMMAND ...`` (also ``python -m nextdigit``).

Every command accepts ``--json`` and then prints one JSON document on stdout.  Integers on the
command line may be written as expressions of literals with ``+ - * ** ^`` and parentheses
(``2^64-59``, ``10**18+9``): they are parsed with ``ast``, never ``eval``'d.
"""
from __future__ import annotations

import argparse
import ast
import json
import sys
import time

MAX_EXPONENT_BITS = 1 << 20  # refuse 2**(10**9): a CLI argument should not hang the parser


def parse_int(text: str) -> int:
    """Parse an integer expression such as ``12345``, ``2**127-1`` or ``10^18 + 9``."""
    try:
        tree = ast.parse(text.replace("^", "**").replace("_", ""), mode="eval")
    except SyntaxError:
        raise argparse.ArgumentTypeError(f"not an integer expression: {text!r}") from None

    def ev(node):
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and type(node.value) is int:
            return node.value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            v = ev(node.operand)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Pow)):
            a, b = ev(node.left), ev(node.right)
            if isinstance(node.op, ast.Pow):
                if b < 0 or abs(a) > 1 and b * max(1, abs(a).bit_length()) > MAX_EXPONENT_BITS:
                    raise argparse.ArgumentTypeError(f"exponent out of range in {text!r}")
                return a**b
            return a + b if isinstance(node.op, ast.Add) else a - b if isinstance(node.op, ast.Sub) else a * b
        raise argparse.ArgumentTypeError(f"not an integer expression: {text!r}")

    return ev(tree)


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
    _emit(args, [{"n": str(n), "prime": p} for n, p in res],
          [f"{n} {'prime' if p else 'composite'}" for n, p in res])
    return 0


def cmd_next_prime(args):
    from .primality import next_prime

    res = [(n, next_prime(n)) for n in args.n]
    _emit(args, [{"n": str(n), "next_prime": str(p)} for n, p in res], [str(p) for _, p in res])
    return 0


def cmd_prev_prime(args):
    from .primality import prev_prime

    res = [(n, prev_prime(n)) for n in args.n]
    _emit(args, [{"n": str(n), "prev_prime": str(p)} for n, p in res], [str(p) for _, p in res])
    return 0


def _scale_kwargs(args) -> dict:
    """``executor=``/``checkpoint=`` from --workers / --checkpoint (see ``nextdigit._util.scale``)."""
    kw = {}
    if args.workers is not None:
        if args.workers < 1:
            raise ValueError(f"--workers must be >= 1, got {args.workers}")
        from concurrent.futures import ProcessPoolExecutor

        kw["executor"] = ProcessPoolExecutor(args.workers)
    if args.checkpoint:
        kw["checkpoint"] = args.checkpoint
    return kw


def _run_scaled(args, func, *a, **kw):
    """Call ``func`` with the --workers/--checkpoint options, shutting the pool down after."""
    extra = _scale_kwargs(args)
    try:
        return func(*a, **kw, **extra)
    finally:
        if "executor" in extra:
            extra["executor"].shutdown()


def cmd_count(args):
    from .counting import count_primes

    if args.workers is None and not args.checkpoint:
        c = count_primes(args.a, args.b)
    else:
        c = _run_scaled(args, count_primes, args.a, args.b, progress=_want_progress(args))
    _emit(args, {"a": str(args.a), "b": str(args.b), "count": str(c)}, [str(c)])
    return 0


def cmd_digits(args):
    from .prefix import digit_counts

    counts = [int(x) for x in digit_counts(args.prefix, args.digits, args.base)]
    total = sum(counts)
    rows = [(d, c, c / total if total else 0.0) for d, c in enumerate(counts)]
    _emit(
        args,
        {"prefix": args.prefix, "digits": args.digits, "base": args.base, "total": total,
         "counts": counts, "probabilities": [r[2] for r in rows]},
        [f"prefix {args.prefix!r}, {args.digits}-digit primes: {total}"]
        + [f"  next digit {d}: {c:>12}  p = {p:.6f}" for d, c, p in rows],
    )
    _maybe_plot(args, {"name": "digits", "rows": [], "prefix": args.prefix, "digits": args.digits,
                       "probabilities": [r[2] for r in rows]})
    return 0


def cmd_sample(args):
    import numpy as np

    from .models import generate_many
    from .randprime import random_primes
    from .tasks.primes import DensityPrimeModel, ExactPrimeModel, RandomizedPrimeModel

    gen = np.random.default_rng(args.seed)
    if args.hidden:
        out = [str(int(p)) if args.base == 10 else np.base_repr(int(p), args.base).lower()
               for p in random_primes(args.digits, args.count, gen, args.base)]
        name = "random_prime (hidden state)"
    else:
        if args.model == "randomized":
            model = RandomizedPrimeModel(args.digits, args.base)
        elif args.model == "exact":
            model = ExactPrimeModel(args.digits, args.base)
        else:
            model = DensityPrimeModel(args.digits, tail=args.tail, base=args.base)
        out = generate_many(model, args.count, rng=gen)
        name = model.name
    _emit(args, {"model": name, "seed": args.seed, "samples": out}, out)
    return 0


def _want_progress(args) -> bool:
    return not getattr(args, "quiet", False) and not args.json and sys.stderr.isatty()


def _maybe_plot(args, result):
    if getattr(args, "plot", None):
        from .analysis.plots import plot_experiment

        plot_experiment(result, args.plot)
        print(f"wrote {args.plot}", file=sys.stderr)


def cmd_pi(args):
    from .pi import prime_pi

    v = prime_pi(args.x)
    _emit(args, {"x": str(args.x), "pi": str(v)}, [str(v)])
    return 0


def cmd_nth_prime(args):
    from .nthprime import nth_prime

    v = nth_prime(args.N)
    _emit(args, {"n": str(args.N), "prime": str(v)}, [str(v)])
    return 0


def cmd_factor_attack(args):
    from .tasks.semiprimes import HONEST_MAX_DIGITS, BudgetedReversedModel, HonestReversedModel, factor_with_model

    N = args.N
    n = args.digits or (len(str(N)) + 1) // 2
    if args.model == "honest" or (args.model == "auto" and n <= HONEST_MAX_DIGITS):
        model = HonestReversedModel(n)
    else:
        model = BudgetedReversedModel(n, budget=args.budget)
    t0 = time.perf_counter()
    res = factor_with_model(N, model, rng=args.seed)
    dt = time.perf_counter() - t0
    lines = [f"{model.name} prompted with '({N},': " + (f"{res[0]} * {res[1]}" if res else "no factorization")]
    _emit(args, {"N": str(N), "model": model.name, "factors": [str(x) for x in res] if res else None,
                 "seconds": dt}, lines)
    return 0 if res else 1


def cmd_tvd(args):
    from .analysis import block_tvd, monte_carlo_tvd
    from .analysis.experiments import ndigit_prime_count
    from .tasks.primes import DensityPrimeModel

    model = DensityPrimeModel(args.digits, tail=args.tail)
    if args.samples is None and args.digits <= 11:
        value, ci, method = _run_scaled(args, block_tvd, args.digits, args.tail), None, "exact (block formula)"
    else:
        value, ci = _run_scaled(args, monte_carlo_tvd, model, ndigit_prime_count(args.digits),
                                args.samples or 300, args.seed)
        method = "Monte-Carlo (99% interval)"
    lines = [f"{model.name}: TVD from uniform = {value:.6g} [{method}]"
             + (f", interval [{ci[0]:.4g}, {ci[1]:.4g}]" if ci else ""),
             f"heuristic sqrt((ln(x/h) - 1.415)/(2 pi h)) = {model.estimated_tvd():.6g}"]
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
    if args.seed is not None and args.name in ("li-tvd", "attack", "polyroots", "twenty-questions", "sudoku"):
        kwargs["rng"] = args.seed
    if args.name in ("li-tvd", "first-digit", "library-bias", "attack"):  # sweeps: --workers/--checkpoint
        result = _run_scaled(args, func, **kwargs)
    elif args.workers is not None or args.checkpoint:
        raise ValueError(f"{args.name} is a timing table (or instantaneous): it runs in-process, without "
                         "--workers/--checkpoint")
    else:
        result = func(**kwargs)
    _emit(args, result, [format_table(result)])
    _maybe_plot(args, result)
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


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="nextdigit", description="Fast, exact number theory for autoregressive sampling.")
    p.add_argument("--version", action="store_true", help="print the version and exit")
    sub = p.add_subparsers(dest="command")

    def add_scale(sp):
        sp.add_argument("--workers", type=int, default=None, help="run the pieces in N worker processes")
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
    sp.add_argument("--digits", type=int, required=True, help="length n of the primes")
    sp.add_argument("--base", type=int, default=10)
    sp.add_argument("--plot", metavar="FILE.png", help="also save a bar chart (needs matplotlib)")
    sp = add("sample", cmd_sample, "sample uniform n-digit primes digit by digit")
    sp.add_argument("--model", choices=["randomized", "exact", "approx"], default="randomized")
    sp.add_argument("--digits", type=int, required=True)
    sp.add_argument("--count", type=int, default=1)
    sp.add_argument("--seed", type=int, default=None)
    sp.add_argument("--base", type=int, default=10)
    sp.add_argument("--tail", type=int, default=4, help="exact digits at the end (approx model)")
    sp.add_argument("--hidden", action="store_true", help="use the hidden-state sampler random_prime")
    sp = add("pi", cmd_pi, "the prime-counting function pi(x), exact for x < 2**64")
    sp.add_argument("x", type=parse_int)
    add("nth-prime", cmd_nth_prime, "the N-th prime (nth-prime 1 = 2), for N <= pi(2**64 - 1)").add_argument(
        "N", type=parse_int)
    sp = add("factor-attack", cmd_factor_attack, "the reduction: prompt a reversed (N,p,q) model with '(N,'")
    sp.add_argument("N", type=parse_int)
    sp.add_argument("--digits", type=int, default=None, help="digits of p and q (default: from N)")
    sp.add_argument("--model", choices=["auto", "honest", "budgeted"], default="auto")
    sp.add_argument("--budget", type=int, default=2000, help="rho iterations for the budgeted model")
    sp.add_argument("--seed", type=int, default=0)
    sp = add("tvd", cmd_tvd, "TVD from uniform of the density model (li + exact last TAIL digits)")
    sp.add_argument("--digits", type=int, required=True)
    sp.add_argument("--tail", type=int, default=3)
    sp.add_argument("--samples", type=int, default=None, help="Monte-Carlo samples (default: exact when digits <= 11)")
    sp.add_argument("--seed", type=int, default=0)
    add_scale(sp)
    sp = add("experiment", cmd_experiment, "run one of the essay's experiments")
    sp.add_argument("name", choices=["li-tvd", "first-digit", "library-bias", "gpt4-footnote", "attack", "polyroots",
                                     "twenty-questions", "sudoku", "train-uniform"])
    sp.add_argument("--digits", type=int, nargs="*",
                    help="the n values to run (twenty-questions: the m values; sudoku: grid sides 4 6 8 9; "
                    "train-uniform: one n)")
    sp.add_argument("--plot", metavar="FILE.png", help="also save a plot (needs matplotlib)")
    sp.add_argument("--quiet", action="store_true", help="no progress bar")
    sp.add_argument("--seed", type=int, default=None,
                    help="seed of the random rows (li-tvd, attack, polyroots, twenty-questions, sudoku), of the "
                    "samples, initialisation and batches (train-uniform)")
    add_scale(sp)
    tu = sp.add_argument_group("train-uniform (needs the lm extra)")
    tu.add_argument("--task", choices=["prime", "number"], default=None,
                    help="uniform n-digit primes or numbers (default: prime below 6 digits)")
    tu.add_argument("--samples", type=int, default=1000, help="exact samples of (a) and (b); (c) gets ten times more")
    tu.add_argument("--steps", type=int, default=1500, help="AdamW steps of every run")
    tu.add_argument("--batch-size", type=int, default=64, help="answers per step")
    tu.add_argument("--audit-every", type=int, default=150, help="exact audit every this many steps")
    tu.add_argument("--model-size", choices=["tiny", "small", "medium"], default="small", help="the GPT-2's size")
    sp = add("audit", cmd_audit, "the exact law a local language model's decoding induces on n-digit answers")
    sp.add_argument("--model", required=True, metavar="DIR", help="a local save_pretrained directory (loaded offline)")
    sp.add_argument("--task", required=True, choices=["prime", "number"])
    sp.add_argument("--digits", type=int, required=True, help="length n of the answers")
    sp.add_argument("--prompt", default=None, help="text before the answer (default: the model's BOS token)")
    sp.add_argument("--lead", default="", help="text between the prompt and the digits (e.g. ' ')")
    sp.add_argument("--mode", choices=["plain", "mask", "teacher"], default="plain")
    sp.add_argument("--temperature", type=float, default=1.0, help="0 = greedy")
    sp.add_argument("--top-k", type=int, default=None)
    sp.add_argument("--top-p", type=float, default=None)
    sp.add_argument("--max-nodes", type=int, default=1 << 22, help="node budget of the exact walk")
    sp.add_argument("--samples", type=int, default=None, help="Monte Carlo with this many samples instead of the walk")
    sp.add_argument("--seed", type=int, default=0, help="seed of the Monte Carlo sampler")
    sp.add_argument("--distortion", action="store_true", help="rejection sampling vs mask vs teacher, exactly")
    sp.add_argument("--plot", metavar="FILE.png", help="first digit and top answers against the target (matplotlib)")
    sp = add("bench", cmd_bench, "run the benchmark suite (pytest-benchmark)")
    sp.add_argument("--path", help="the benchmarks directory (default ./benchmarks)")
    sp.add_argument("-k", help="pytest -k expression to select benchmarks")
    sp.add_argument("--json-file", default="bench.json", help="with --json: where pytest-benchmark writes")
    return p


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from . import __version__

        print(__version__)
        return 0
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except (ValueError, TypeError, RuntimeError) as exc:
        print(f"nextdigit {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
