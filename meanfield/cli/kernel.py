"""`meanfield kernel`: the infinite-width NNGP (or, with --ntk, NTK) kernel of a data set, saved as .npy.

    meanfield kernel --data X.npy --act esp --depth 5 --sigma-w 1.4 --sigma-b 0.1 [--beta B] [--ntk] --out K.npy [--force]

``--data``: an .npy array or a comma-separated text file, one input per row.
The kernel (n, n) is written atomically; an existing ``--out`` file is
replaced only with ``--force``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _data(path: Path) -> np.ndarray:
    if not path.is_file():
        raise ValueError(f"--data {str(path)!r} does not exist")
    try:
        if path.suffix == ".npy":
            return np.load(path, allow_pickle=False)
        return np.loadtxt(path, delimiter=",", ndmin=2)
    except ValueError as exc:
        raise ValueError(f"--data {str(path)!r} could not be read as a numeric array ({exc})") from None


def run(args) -> int:
    from numerics.files import write_atomic
    from numerics.mlp.infinite_width import nngp, ntk

    out = Path(args.out)
    if out.suffix != ".npy":
        raise ValueError(f"--out must name an .npy file, got {args.out!r}")
    if out.exists() and not args.force:
        raise ValueError(f"--out {args.out!r} exists; pass --force to replace it")
    if not out.parent.is_dir():
        raise ValueError(f"--out {args.out!r}: directory {str(out.parent)!r} does not exist")
    X = _data(Path(args.data))
    kernel = ntk if args.ntk else nngp
    K = kernel(X, depth=args.depth, activation=args.act, sigma_w=args.sigma_w, sigma_b=args.sigma_b, beta=args.beta)
    write_atomic(out, lambda fh: np.save(fh, K, allow_pickle=False))
    print(f"{'NTK' if args.ntk else 'NNGP'} kernel {K.shape[0]} x {K.shape[1]} ({args.act}, depth {args.depth}) -> {out}")
    return 0


def register(commands) -> None:
    p = commands.top("kernel", "infinite-width NNGP or NTK kernel matrix of a data set")
    p.add_argument("--data", required=True, metavar="PATH", help="inputs: .npy array or comma-separated text, one per row")
    p.add_argument("--act", required=True, metavar="A", help="activation: a registry name, erf or sign")
    p.add_argument("--depth", required=True, type=int, metavar="L", help="hidden layers")
    p.add_argument("--sigma-w", required=True, type=float, metavar="S", help="weight scale sigma_w")
    p.add_argument("--sigma-b", required=True, type=float, metavar="S", help="bias scale sigma_b")
    p.add_argument("--beta", type=float, default=1.0, metavar="B", help="inverse temperature of esp/sigmoid/tanh/erf (default: 1)")
    p.add_argument("--ntk", action="store_true", help="the neural tangent kernel instead of the NNGP kernel")
    p.add_argument("--out", required=True, metavar="FILE.npy", help="where to write the kernel")
    p.add_argument("--force", action="store_true", help="replace an existing --out file")
    p.set_defaults(func=run)
