"""`meanfield hessian RUN`: Hessian spectra, alpha/gamma indices and residuals at every checkpoint of a training run.

For each parameter snapshot of a ``meanfield train`` run directory, the
exact Hessian of the training loss (all trainable W, b, beta) is formed and
diagonalized; ``hessian-EPOCH.npz`` in the run directory keeps the
eigenvalues, the inverse participation ratio of every eigenvector and the
loss (with ``--save-hessian`` also the Hessian and its eigenvectors).
``--slq`` instead estimates the spectral density by stochastic Lanczos
quadrature from Hessian-vector products (``slq-EPOCH.npz``), for networks
too large for a dense Hessian. Checkpoints whose file exists are not
recomputed; alpha, gamma and the residual fraction are re-evaluated from the
saved spectrum with the tolerances given.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

SLQ_KEYS = ("steps", "probes", "seed")


def load_run(path):
    """The opened run directory (locked), network, training data (rebuilt from config.json and checked
    against its fingerprint), checkpoints and the run's data fingerprint."""
    from meanfield.cli.train import HISTORY, STATE, _fingerprint, open_run
    from meanfield.runs import CONFIG
    from numerics.mlp import data
    from numerics.mlp.network import Network

    if str(path) == "":
        raise ValueError("RUN must name a run directory of meanfield train, got an empty string")
    if not Path(path).is_dir():
        raise ValueError(f"run directory {str(path)!r} does not exist (or is not a directory)")
    out, run_dir, _ = open_run(path, option="RUN")
    try:
        run_dir.recover = "train the run again (meanfield train ... --force)"
        if not run_dir.file(CONFIG).exists():
            raise ValueError(f"{str(run_dir.path)!r} holds no {CONFIG}: not a run directory of meanfield train")
        cfg = run_dir.read_json(CONFIG, keys=("run", "network", "data"))
        try:
            net = Network.from_config(cfg["network"])
            spec, run = cfg["data"]["spec"], cfg["run"]
        except (KeyError, TypeError) as exc:
            raise ValueError(f"{str(run_dir.file(CONFIG))!r} is damaged (it lacks {exc}); {run_dir.recover}") from None
        X, y = data.dataset(spec, seed=run.get("data_seed", 0))
        test = ()
        if run.get("test_size", 0) > 0:
            X, X_test, y, y_test = data.split(X, y, run["test_size"], run.get("split_seed", 1))
            test = net.targets(X_test, y_test)
        X, Y = net.targets(X, y)
        fingerprint = _fingerprint(X, Y, *test)
        if fingerprint != cfg["data"].get("fingerprint"):
            raise ValueError(f"run directory {str(run_dir.path)!r}: the training data {spec!r} no longer matches the "
                             f"run's fingerprint; the Hessian would not be that of the trained loss")
        if run_dir.file(HISTORY).exists():
            hist = run_dir.read_npz(HISTORY)
            epochs, thetas = hist.get("checkpoint_epoch"), hist.get("checkpoint_theta")
        elif run_dir.file(STATE).exists():
            state = run_dir.read_npz(STATE)
            epochs, thetas = state.get("history_checkpoint_epoch"), state.get("history_checkpoint_theta")
        else:
            epochs = thetas = None
        if epochs is None or thetas is None or len(epochs) == 0:
            raise ValueError(f"run directory {str(run_dir.path)!r} has no checkpoints (no parameter snapshots in {HISTORY} or {STATE})")
        thetas = np.asarray(thetas, dtype=np.float64).reshape(len(epochs), -1)
        if thetas.shape[1] != net.n_full:
            raise ValueError(f"run directory {str(run_dir.path)!r}: snapshots have {thetas.shape[1]} parameters, "
                             f"the {net.arch} network {net.n_full}")
    except BaseException:
        out.close()
        raise
    return out, run_dir, net, X, Y, [int(e) for e in epochs], thetas, fingerprint


def _cache_key(net, fingerprint: str, theta, **settings) -> str:
    """Digest of everything a checkpoint's saved spectrum depends on: network, data, parameters, settings."""
    import hashlib

    from meanfield.outdir import digest

    theta_digest = hashlib.sha256(np.ascontiguousarray(theta, dtype=np.float64).tobytes()).hexdigest()
    return digest({"network": net.config(), "data": fingerprint, "theta": theta_digest, **settings})


def _cached(run_dir, name: str, key: str) -> dict | None:
    """The arrays of ``name`` when it exists, is readable and was computed for ``key``; else None (recompute)."""
    if not run_dir.exists(name):
        return None
    try:
        saved = run_dir.read_npz(name)
    except ValueError:  # damaged: recomputed and replaced
        return None
    return saved if "key" in saved and str(saved["key"]) == key else None


def _policies(text: str) -> list[str]:
    from numerics.mlp.spectrum import POLICIES, check_policy

    if text == "all":
        return list(POLICIES)
    names = [p.strip() for p in text.split(",")]
    for name in names:
        try:
            check_policy(name)
        except ValueError:
            raise ValueError(f"--policy {name!r} is not known; give 'all' or a comma-separated list of {', '.join(POLICIES)}") from None
    return names


def _dense(run_dir, net, X, Y, epoch, theta, args, key):
    """Eigenvalues and eigenvector IPRs of one checkpoint, from its file (when its key matches) or computed and saved."""
    from numerics.mlp.hessian import hessian
    from numerics.mlp.spectrum import ipr, spectrum

    name = f"hessian-{epoch:06d}.npz"
    saved = None if args.force else _cached(run_dir, name, key)
    if saved is not None and "eigenvalues" in saved and (not args.save_hessian or "hessian" in saved):
        return name, saved["eigenvalues"], saved["ipr"], True
    params = net.unpack(theta)
    H = hessian(net, params, X, Y, max_bytes=args.max_bytes)
    spec = spectrum(H, vectors=True)
    arrays = {"epoch": np.int64(epoch), "key": np.str_(key), "eigenvalues": spec.eigenvalues, "ipr": ipr(spec.eigenvectors)}
    if args.save_hessian:
        arrays.update(hessian=H, eigenvectors=spec.eigenvectors)
    run_dir.write_npz(name, arrays)
    return name, arrays["eigenvalues"], arrays["ipr"], False


def _slq(run_dir, net, X, Y, epoch, theta, args, key):
    from numerics.mlp.hessian import HessianOperator
    from numerics.mlp.spectrum import SLQ, slq

    name = f"slq-{epoch:06d}.npz"
    wanted = {"steps": args.steps, "probes": args.probes, "seed": args.seed}
    saved = None if args.force else _cached(run_dir, name, key)
    if saved is not None:
        probe = saved["probe"]
        parts = [np.flatnonzero(probe == i) for i in range(args.probes)]
        return name, SLQ([saved["nodes"][p] for p in parts], [saved["weights"][p] for p in parts], net.n_params), True
    op = HessianOperator(net, net.unpack(theta), X, Y)
    q = slq(op.matvec, net.n_params, steps=args.steps, probes=args.probes, seed=[args.seed, epoch])
    arrays = {"epoch": np.int64(epoch), "key": np.str_(key), "nodes": np.concatenate(q.nodes), "weights": np.concatenate(q.weights),
              "probe": np.concatenate([np.full(len(x), i) for i, x in enumerate(q.nodes)])}
    arrays.update({k: np.int64(v) for k, v in wanted.items()})
    run_dir.write_npz(name, arrays)
    return name, q, False


def _check_dense_fits(net, m, args):
    from numerics.mlp.hessian import check_memory, dense_bytes
    from numerics.mlp.spectrum import spectrum_bytes

    needed = dense_bytes(net, m) + spectrum_bytes(net.n_params)
    check_memory(net, needed, args.max_bytes, "the dense Hessian spectrum",
                 hint="use --slq (stochastic Lanczos quadrature from Hessian-vector products) or raise --max-memory")


def _check_slq_fits(net, m, n_checkpoints, args):
    """Refuse --steps/--probes whose Lanczos vectors and quadrature nodes, or work (per product about 20 m P
    operations), exceed the limits."""
    from numerics.validate import check_size

    P = net.n_params
    needed = 8.0 * (P * (args.steps + 8) + 4 * m * sum(net.sizes) + 2.0 * args.probes * args.steps)
    work = n_checkpoints * args.probes * args.steps * (20.0 * m * net.n_full + 4.0 * args.steps * P)
    check_size(f"--slq with --steps {args.steps} and --probes {args.probes} ({n_checkpoints} checkpoints, "
               f"{P} parameters, {m} samples)", needed, work, args.max_bytes)


def run(args) -> int:
    from numerics import validate

    policies = _policies(args.policy)
    for option in ("rtol", "atol", "residual_tol"):
        validate.optional(validate.real, f"--{option.replace('_', '-')}", getattr(args, option), low=0.0)
    validate.optional(validate.real, "--max-memory", args.max_memory, low=0.0, high=1e9, open_low=True,
                      expected="a positive number of GB (at most 1e9)")
    validate.seed("--seed", args.seed)
    args.max_bytes = None if args.max_memory is None else int(args.max_memory * 1e9)
    if args.slq:
        for key in ("steps", "probes"):
            validate.integer(f"--{key}", getattr(args, key), low=1)
    out, run_dir, net, X, Y, epochs, thetas, fingerprint = load_run(args.run)
    with out:
        if args.slq:
            _check_slq_fits(net, X.shape[0], len(epochs), args)
        else:
            _check_dense_fits(net, X.shape[0], args)
        rows = _spectra(run_dir, net, X, Y, epochs, thetas, fingerprint, policies, args)
    summary = {"run": str(run_dir.path), "arch": net.arch, "hidden": list(net.hidden), "output": net.output,
               "n_params": net.n_params, "n_train": int(X.shape[0]), "method": "slq" if args.slq else "dense",
               "residual_tol": args.residual_tol, "checkpoints": rows}
    if args.json:
        print(json.dumps(summary))
        return 0
    head = "".join(f"  {'alpha ' + p:>14} {'gamma ' + p:>14}" for p in policies)
    print(f"{net.arch} {'/'.join(net.hidden) or '-'}/{net.output}, P = {net.n_params}, "
          f"{'SLQ estimates' if args.slq else 'dense spectra'} ({run_dir.path})")
    print(f"{'epoch':>8} {'loss':>12} {'lambda_min':>12} {'lambda_max':>12} {'resid.frac':>10}{head}")
    for r in rows:
        cells = "".join(f"  {r['alpha'][p]:>14.4f} {r['gamma'][p]:>14.4f}" for p in policies)
        print(f"{r['epoch']:>8} {r['loss']:>12.6g} {r['lambda_min']:>12.4g} {r['lambda_max']:>12.4g} {r['residual_fraction']:>10.4f}{cells}")
    return 0


def _spectra(run_dir, net, X, Y, epochs, thetas, fingerprint, policies, args) -> list[dict]:
    from meanfield.progress import Progress
    from numerics.mlp.spectrum import all_indices, residual_fraction

    rows = []
    with Progress(len(epochs), label=f"hessian {net.arch}") as bar:
        for i, (epoch, theta) in enumerate(zip(epochs, thetas)):
            bar.update(i, f"epoch {epoch}", force=True)
            params = net.unpack(theta)
            row = {"epoch": epoch, "loss": net.loss(params, X, Y),
                   "residual_fraction": residual_fraction(net.predict(params, X) - Y, args.residual_tol)}
            if args.slq:
                key = _cache_key(net, fingerprint, theta, method="slq", steps=args.steps, probes=args.probes, seed=args.seed)
                name, q, cached = _slq(run_dir, net, X, Y, epoch, theta, args, key)
                ind = q.indices(args.rtol, args.atol)
                nodes, weights = q.measure()
                lo, hi = q.extremes()
                row.update({key: {p: ind[key][p] for p in policies} for key in ("alpha", "gamma", "threshold")})
                row.update(lambda_min=lo, lambda_max=hi, nodes=nodes.tolist(), weights=weights.tolist())
            else:
                key = _cache_key(net, fingerprint, theta, method="dense")
                name, eigenvalues, iprs, cached = _dense(run_dir, net, X, Y, epoch, theta, args, key)
                ind = all_indices(eigenvalues, args.rtol, args.atol)
                row.update({key: {p: ind[key][p] for p in policies} for key in ("alpha", "gamma", "threshold")})
                row.update(lambda_min=float(eigenvalues[0]), lambda_max=float(eigenvalues[-1]),
                           eigenvalues=eigenvalues.tolist(), ipr=iprs.tolist())
            row.update(file=name, cached=cached)
            rows.append(row)
        bar.update(len(epochs), "done", force=True)
    return rows


def register(commands) -> None:
    p = commands.top("hessian", "Hessian spectra and the alpha/gamma indices at every checkpoint of a training run")
    p.add_argument("run", metavar="RUN", help="run directory written by meanfield train")
    p.add_argument("--policy", default="all", metavar="P[,P...]",
                   help="zero policies to report: exact, relative, absolute, or all (default: all)")
    p.add_argument("--rtol", type=float, metavar="T", help="relative policy: |lambda| <= T max|lambda| is zero (default: P * eps)")
    p.add_argument("--atol", type=float, metavar="T", help="absolute policy: |lambda| <= T is zero (default: 1e-10)")
    p.add_argument("--residual-tol", type=float, default=0.01, metavar="T",
                   help="a residual |y_hat - y| <= T counts as zero (default: 0.01)")
    p.add_argument("--save-hessian", action="store_true", help="also save the Hessian and its eigenvectors")
    p.add_argument("--slq", action="store_true", help="stochastic Lanczos quadrature instead of dense spectra")
    p.add_argument("--steps", type=int, default=80, metavar="K", help="Lanczos steps per probe with --slq (default: 80)")
    p.add_argument("--probes", type=int, default=10, metavar="N", help="random probe vectors with --slq (default: 10)")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="seed of the --slq probes (default: 0)")
    p.add_argument("--max-memory", type=float, metavar="GB", help="memory allowed for a dense Hessian (default: half the RAM)")
    p.add_argument("--force", action="store_true", help="recompute checkpoints already done")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.set_defaults(func=run)
