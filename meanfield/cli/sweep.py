"""`meanfield sweep`: a grid of training runs, locally or on a Dask cluster."""

from __future__ import annotations

import json


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


def _names(text: str, option: str) -> list[str]:
    names = [part.strip() for part in text.split(",")]
    if not all(names):
        raise ValueError(f"{option}: empty entry in {text!r}; give a comma-separated list")
    return names


def run(args) -> int:
    from meanfield.progress import Progress
    from meanfield.sweep import SweepConfig, check_work, grid, sweep
    from numerics import validate
    from numerics.kernels.activations import record
    from numerics.mlp import data

    validate.integer("--epochs", args.epochs, low=1, expected=">= 1")
    validate.real("--lr", args.lr, low=0.0, open_low=True)
    validate.optional(validate.integer, "--workers", args.workers, low=1, high=1024)
    validate.seed("--seed", args.seed)
    if args.scheduler is not None and not args.scheduler.strip():
        raise ValueError("--scheduler must be 'local-dask' or a Dask scheduler address (tcp://HOST:PORT), got an empty string")
    if args.out == "":
        raise ValueError("--out must name a directory, got an empty string")
    tasks = grid(_names(args.arch, "--arch"), _names(args.act, "--act"), args.seeds, _floats(args.beta_init, "--beta-init"))
    recorded = record({t.act for t in tasks}).get("activations", {})
    config = SweepConfig(data=args.data, epochs=args.epochs, lr=args.lr, root_seed=args.seed,
                         activations=tuple(sorted(recorded.items())))
    X, _ = data.dataset(args.data, seed=args.seed)  # a bad --data is reported here, not by every worker
    check_work(tasks, config, X.shape[0])
    bar = Progress(len(tasks), label="sweep", enabled=False if args.json else None)
    with bar:
        rows = sweep(tasks, config, args.out, scheduler=args.scheduler, workers=args.workers,
                     progress=lambda done, total: done and bar.update(done, "runs done", force=True))
    diverged = sum(r.get("status") == "diverged" for r in rows)
    if args.json:
        print(json.dumps({"rows": rows}, indent=1))
    else:
        note = f" ({diverged} diverged)" if diverged else ""
        print(f"{len(rows)} rows{note}: {args.out}/sweep.csv, figure {args.out}/sweep.png")
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
