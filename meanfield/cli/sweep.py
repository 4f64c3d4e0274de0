"""`meanfield sweep`: a grid of training runs, locally or on a Dask cluster."""

from __future__ import annotations

import json
import sys


def _floats(text: str, name: str) -> list:
    out = []
    for part in text.split(","):
        if part == "default":
            out.append(None)
            continue
        try:
            out.append(float(part))
        except ValueError:
            raise ValueError(f"{name}: {part!r} is not a number (or 'default')") from None
    return out


def run(args) -> int:
    from meanfield.sweep import SweepConfig, grid, sweep

    tasks = grid(args.arch.split(","), args.act.split(","), args.seeds, _floats(args.beta_init, "--beta-init"))
    if args.epochs < 1:
        raise ValueError(f"--epochs must be >= 1, got {args.epochs}")
    if args.workers is not None and args.workers < 1:
        raise ValueError(f"--workers must be >= 1, got {args.workers}")
    config = SweepConfig(data=args.data, epochs=args.epochs, lr=args.lr, root_seed=args.seed)

    def progress(done, total):
        if not args.json:
            print(f"\rsweep: {done}/{total} runs", end="", file=sys.stderr, flush=True)

    rows = sweep(tasks, config, args.out, scheduler=args.scheduler, workers=args.workers, progress=progress)
    if args.json:
        print(json.dumps({"rows": rows}, indent=1))
    else:
        print(file=sys.stderr)
        print(f"{len(rows)} rows: {args.out}/sweep.csv, figure {args.out}/sweep.png")
    return 0


def register(commands) -> None:
    p = commands.top("sweep", "train a grid of architectures x activations x seeds and tabulate them")
    p.add_argument("--arch", required=True, help="comma-separated architectures, e.g. 2-4-1,2-8-1,2-8-2-1")
    p.add_argument("--act", required=True, help="comma-separated hidden activations, e.g. esp,relu,sigmoid")
    p.add_argument("--data", default="nonlinear", help="linear, nonlinear or a data file (default nonlinear)")
    p.add_argument("--epochs", type=int, default=2000)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--seeds", type=int, default=5, help="seeds per grid point (default 5)")
    p.add_argument("--beta-init", default="default", help="comma-separated initial beta values or 'default'")
    p.add_argument("--seed", type=int, default=0, help="root seed (default 0)")
    p.add_argument("--out", required=True, help="output directory (resumed when it exists)")
    p.add_argument("--workers", type=int, help="local processes or LocalCluster workers (default: all cores)")
    p.add_argument("--scheduler", help="Dask scheduler address, or 'local-dask' for a LocalCluster")
    p.add_argument("--json", action="store_true", help='print {"rows": [...]}')
    p.set_defaults(func=run)
