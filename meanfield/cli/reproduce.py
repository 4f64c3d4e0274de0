"""`meanfield reproduce [--quick] [--out DIR] [--data-dir DIR | --synthetic] [--force] [--seed N] [--only STAGES]`."""

from __future__ import annotations

import sys
from pathlib import Path


def run(args) -> int:
    from meanfield.reproduce import check_data_dir, reproduce, stages

    names = [s.name for s in stages()]
    only = None
    if args.only is not None:
        only = [n.strip() for n in args.only.split(",") if n.strip()]
        if not only:
            raise ValueError(f"--only: give one or more stage names; stages: {', '.join(names)}")
        unknown = [n for n in only if n not in names]
        if unknown:
            raise ValueError(f"--only: unknown stage(s) {', '.join(unknown)}; stages: {', '.join(names)}")
    if args.out == "":
        raise ValueError("--out must name a directory, got an empty string")
    if args.data_dir is not None:
        if args.synthetic:
            raise ValueError("--synthetic and --data-dir exclude each other: the synthetic twins need no data files")
        check_data_dir(Path(args.data_dir))

    results = reproduce(args.out, quick=args.quick, data_dir=args.data_dir, force=args.force, seed=args.seed,
                        only=only, progress=_progress(), synthetic=args.synthetic)
    if sys.stderr.isatty():
        print("\r" + " " * 78 + "\r", end="", file=sys.stderr)
    for r in results:
        status = "cached" if r["cached"] else f"{r['elapsed_s']} s"
        print(f"{r['title']}: {status}")
    print(f"report: {Path(args.out) / 'report.md'} and {Path(args.out) / 'index.html'}")
    return 0


def _progress():
    """One rewritten line on a terminal; elsewhere (a log) one line per stage."""
    if sys.stderr.isatty():
        return lambda message: print(f"\r{message:<78.78}", end="", file=sys.stderr, flush=True)
    started = set()

    def log(message):
        stage = message.split("]")[0]
        if stage not in started:
            started.add(stage)
            print(message, file=sys.stderr, flush=True)

    return log


def register(commands) -> None:
    p = commands.top("reproduce", "regenerate the papers' results as figures, data and a report")
    p.add_argument("--quick", action="store_true", help="fewer epochs, seeds and samples (minutes, not half an hour)")
    p.add_argument("--out", default="meanfield-report",
                   help="output directory (default: meanfield-report); new, empty or written by meanfield reproduce")
    p.add_argument("--data-dir", help="directory with the paper's Lindata.mat and NLdata.mat (default: the copies shipped with meanfield)")
    p.add_argument("--synthetic", action="store_true", help="train the ESP stages on the synthetic twins of the paper's tasks")
    p.add_argument("--force", action="store_true", help="recompute the chosen stages even when a complete copy exists")
    p.add_argument("--seed", type=int, default=0, help="root seed (default 0)")
    p.add_argument("--only", metavar="STAGES", help="comma-separated stage names")
    p.set_defaults(func=run)
