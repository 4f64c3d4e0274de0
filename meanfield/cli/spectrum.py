"""`meanfield spectrum PATH`: alpha, gamma (every zero policy), extremes and trace of a Hessian.

PATH is a ``meanfield train`` run directory (the Hessian of the training
loss at a checkpoint, as a matrix-free operator with blocks W1, b1, beta1,
...) or an ``.npy`` file holding a symmetric matrix. Dense eigenvalues up
to ``--dense-limit`` parameters, stochastic Lanczos quadrature with
standard errors beyond (see ``numerics.mlp.spectrum.analyze``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from meanfield.cli import plain


def _operator(args) -> tuple[object, dict]:
    path = Path(args.path)
    if path.is_dir():
        from meanfield.cli.hessian import load_run

        out, _, net, X, Y, epochs, thetas, _ = load_run(path)
        out.close()
        k = len(epochs) - 1 if args.epoch is None else (epochs.index(args.epoch) if args.epoch in epochs else None)
        if k is None:
            raise ValueError(f"--epoch {args.epoch} is not a checkpoint of {str(path)!r}; checkpoints: {epochs}")
        params = net.unpack(thetas[k])
        return net.hessian_operator(params, X, Y), {"run": str(path), "arch": net.arch, "epoch": epochs[k]}
    if path.suffix != ".npy":
        raise ValueError(f"PATH must be a run directory or an .npy file, got {str(path)!r}")
    if not path.is_file():
        raise ValueError(f"{str(path)!r} does not exist")
    if args.epoch is not None:
        raise ValueError("--epoch applies to a run directory, not to an .npy matrix")
    try:
        H = np.load(path, allow_pickle=False)
    except ValueError as exc:
        raise ValueError(f"{str(path)!r} is not a readable .npy array ({exc})") from None
    return H, {"file": str(path)}


def run(args) -> int:
    from numerics.mlp.spectrum import POLICIES, analyze

    H, meta = _operator(args)
    result = analyze(H, dense_limit=args.dense_limit, probes=args.probes, steps=args.steps, seed=args.seed,
                     rtol=args.rtol, atol=args.atol, per_block=not args.no_blocks)
    out = plain({**meta, **result.to_dict()})
    if args.json:
        print(json.dumps(out))
        return 0
    print(f"{meta.get('run', meta.get('file'))}: P = {result.size}, {result.method}, "
          f"lambda in [{result.extremes[0]:.6g}, {result.extremes[1]:.6g}], trace {result.trace:.6g}"
          + ("" if result.trace_stderr is None else f" +- {result.trace_stderr:.2g}"))
    print(f"{'block':>10} {'size':>8}" + "".join(f" {'alpha ' + p:>18} {'gamma ' + p:>18}" for p in POLICIES))
    for name, a in [("all", result)] + list((result.blocks or {}).items()):
        cells = ""
        for p in POLICIES:
            for key in ("alpha", "gamma"):
                err = getattr(a, f"{key}_stderr")
                cells += f" {getattr(a, key)[p]:>10.4f}" + (f" +-{err[p]:<6.4f}" if err else " " * 8)
        print(f"{name:>10} {a.size:>8}{cells}")
    return 0


def register(commands) -> None:
    p = commands.top("spectrum", "alpha, gamma, extremes and trace of a Hessian (run directory or .npy matrix)")
    p.add_argument("path", metavar="PATH", help="run directory of meanfield train, or an .npy symmetric matrix")
    p.add_argument("--epoch", type=int, metavar="E", help="checkpoint of a run directory (default: the last)")
    p.add_argument("--dense-limit", type=int, default=4000, metavar="P", help="dense eigenvalues up to P parameters (default: 4000)")
    p.add_argument("--probes", type=int, default=10, metavar="N", help="SLQ and Hutch++ probe vectors (default: 10)")
    p.add_argument("--steps", type=int, default=80, metavar="K", help="Lanczos steps per probe (default: 80)")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="seed of the probes (default: 0)")
    p.add_argument("--rtol", type=float, metavar="T", help="relative zero policy: |lambda| <= T max|lambda| (default: P * eps)")
    p.add_argument("--atol", type=float, metavar="T", help="absolute zero policy: |lambda| <= T (default: 1e-10)")
    p.add_argument("--no-blocks", action="store_true", help="skip the per-block analyses")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=run)
