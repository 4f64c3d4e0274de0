"""`meanfield reproduce [--quick] [--out DIR] [--data-dir DIR | --synthetic] [--force]`."""

from __future__ import annotations

import sys
from pathlib import Path


def run(args) -> int:
    from meanfield.reproduce import check_data_dir, reproduce, stages

    names = [s.name for s in stages()]
    only = None
    if args.only:
        only = args.only.split(",")
        unknown = [n for n in only if n not in names]
        if unknown:
            raise ValueError(f"--only: unknown stage(s) {', '.join(unknown)}; stages: {', '.join(names)}")
    if args.data_dir is not None:
        if args.synthetic:
            raise ValueError("--synthetic and --data-dir exclude each other: the synthetic twins need no data files")
        check_data_dir(Path(args.data_dir))

    def progress(message):
        print(f"\r{message:<78.78}", end="", file=sys.stderr, flush=True)

    results = reproduce(args.out, quick=args.quick, data_dir=args.data_dir, force=args.force, seed=args.seed,
                        only=only, progress=progress, synthetic=args.synthetic)
    print("\r" + " " * 78 + "\r", end="", file=sys.stderr)
    for r in results:
        status = "cached" if r["cached"] else f"{r['elapsed_s']} s"
        print(f"{r['title']}: {status}")
    print(f"report: {Path(args.out) / 'report.md'} and {Path(args.out) / 'index.html'}")
    return 0


def register(commands) -> None:
    p = commands.top("reproduce", "regenerate the papers' results as figures, data and a report")
    p.add_argument("--quick", action="store_true", help="fewer epochs, seeds and samples (minutes, not half an hour)")
    p.add_argument("--out", default="meanfield-report", help="output directory (default: meanfield-report)")
    p.add_argument("--data-dir", help="directory with the paper's Lindata.mat and NLdata.mat (default: the copies shipped with meanfield)")
    p.add_argument("--synthetic", action="store_true", help="train the ESP stages on the synthetic twins of the paper's tasks")
    p.add_argument("--force", action="store_true", help="recompute stages even when a complete copy exists")
    p.add_argument("--seed", type=int, default=0, help="root seed (default 0)")
    p.add_argument("--only", metavar="STAGES", help="comma-separated stage names")
    p.set_defaults(func=run)
