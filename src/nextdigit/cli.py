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


def cmd_count(args):
    from .counting import count_primes

    c = count_primes(args.a, args.b)
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
    return 0


def cmd_sample(args):
    import numpy as np

    from .models import generate_many
    from .samplers import DensityPrimeModel, ExactPrimeModel, RandomizedPrimeModel, random_primes

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


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="nextdigit", description="Fast, exact number theory for autoregressive sampling.")
    p.add_argument("--version", action="store_true", help="print the version and exit")
    sub = p.add_subparsers(dest="command")

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
    sp = add("digits", cmd_digits, "exact next-digit counts of the n-digit primes starting with PREFIX")
    sp.add_argument("prefix", help="digits already written ('' for the first digit)")
    sp.add_argument("--digits", type=int, required=True, help="length n of the primes")
    sp.add_argument("--base", type=int, default=10)
    sp = add("sample", cmd_sample, "sample uniform n-digit primes digit by digit")
    sp.add_argument("--model", choices=["randomized", "exact", "approx"], default="randomized")
    sp.add_argument("--digits", type=int, required=True)
    sp.add_argument("--count", type=int, default=1)
    sp.add_argument("--seed", type=int, default=None)
    sp.add_argument("--base", type=int, default=10)
    sp.add_argument("--tail", type=int, default=4, help="exact digits at the end (approx model)")
    sp.add_argument("--hidden", action="store_true", help="use the hidden-state sampler random_prime")
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
    except (ValueError, TypeError) as exc:
        print(f"nextdigit {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
