"""`meanfield verify [--json] [--only REGEX] [--activation NAME] [--examples N] [--random]`: run the check table."""

from __future__ import annotations

import json
import re

MAX_EXAMPLES = 100_000  # per check
MAX_TOTAL_EXAMPLES = 1_000_000  # over all checks run


def run(args) -> int:
    if args.activation:  # only the rows of this activation (its kernels load, so that its rows exist)
        from numerics.kernels.activations import activation

        activation(args.activation)
        args.only = rf"(?=.*\b{args.activation}\b)" + (f"(?=.*(?:{args.only}))" if args.only else "")
    from meanfield.progress import Progress
    from numerics import validate
    from verify import run_checks
    from verify.registry import all_checks

    if args.only is not None:
        if not args.only.strip():
            raise ValueError("--only must be a regular expression matching check names, got an empty string")
        try:
            re.compile(args.only)
        except re.error as exc:
            raise ValueError(f"--only {args.only!r} is not a valid regular expression: {exc}") from None
    checks = all_checks(args.only)
    if not checks:
        raise ValueError(f"no check matches --only {args.only!r}")
    if args.examples is not None:
        validate.integer("--examples", args.examples, low=1, high=MAX_EXAMPLES)
        if args.examples * len(checks) > MAX_TOTAL_EXAMPLES:
            raise ValueError(f"--examples {args.examples} for {len(checks)} checks is {args.examples * len(checks)} examples, "
                             f"more than the limit of {MAX_TOTAL_EXAMPLES}; choose fewer or narrow --only")

    with Progress(len(checks), label="verify", enabled=False if args.json else None) as bar:
        results = run_checks(args.only, args.examples, lambda i, n, name: bar.update(i, name, force=True),
                             derandomize=not args.random)
    ok = all(r.passed for r in results)
    if args.json:
        print(json.dumps({"passed": ok, "checks": [r.as_dict() for r in results]}, indent=2))
    else:
        w = max(len(r.name) for r in results)
        o = max(len(r.oracle) for r in results)
        print(f"{'check':<{w}}  {'oracle':<{o}}  {'examples':>8}  {'worst rel. err':>14}  {'tol':>8}  result")
        for r in results:
            print(f"{r.name:<{w}}  {r.oracle:<{o}}  {r.examples:>8}  {r.worst_error:>14.3e}  {r.tol:>8.1e}  {'pass' if r.passed else 'FAIL'}")
        for r in results:
            if not r.passed:
                print(f"FAIL {r.name}: {r.failure}")
        print(f"{sum(r.passed for r in results)} passed, {sum(not r.passed for r in results)} failed")
    return 0 if ok else 1


def register(commands) -> None:
    p = commands.top("verify", "check every analytic result against independent oracles")
    p.add_argument("--json", action="store_true", help="print results as JSON")
    p.add_argument("--only", metavar="REGEX", help="run only checks whose name matches")
    p.add_argument("--examples", type=int, metavar="N", help="examples per check (default: per check)")
    p.add_argument("--activation", metavar="NAME", help="only the rows of this (built-in or registered) activation")
    p.add_argument("--random", action="store_true", help="fresh random examples instead of the reproducible draw")
    p.set_defaults(func=run)
