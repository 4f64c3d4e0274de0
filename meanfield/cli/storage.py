"""`meanfield solve capacity|storage|teacher` and `meanfield simulate storage`: Gardner's storage problem.

    meanfield solve capacity --kappa K [--weights spherical|ising] [--json]
    meanfield solve storage --alpha A [--kappa K] [--weights spherical|ising] [--json]
    meanfield solve teacher --alpha A [--json]
    meanfield simulate storage --n N --alpha A1,A2,... --trials T [--kappa K] [--seed S]
                               [--patterns gaussian|binary] [--method highs|nnls] [--workers W] [--json]
"""

from __future__ import annotations

import functools
import json

from meanfield.cli import floats


def _report(args, out: dict) -> int:
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        width = max(len(k) for k in out)
        for key, value in out.items():
            print(f"{key:<{width}}  {value}")
    return 0


def _solver_errors(func):
    """Report a solver that did not converge like bad input: one line, exit status 2."""
    @functools.wraps(func)
    def run(args):
        from numerics.solvers.storage import ConvergenceError

        try:
            return func(args)
        except ConvergenceError as exc:
            raise ValueError(str(exc)) from None

    return run


@_solver_errors
def run_capacity(args) -> int:
    from numerics.solvers.storage import capacity

    res = capacity(args.kappa, args.weights)
    out = {"kappa": res.kappa, "weights": res.weights, "alpha_c": res.alpha_c}
    if res.alpha_rs is not None:
        out["alpha_rs"] = res.alpha_rs
    if res.weights == "spherical":
        out |= {"alpha_at": res.alpha_at, "alpha_first_order": res.alpha_first_order,
                "alpha_spinodals": None if res.alpha_spinodals is None else list(res.alpha_spinodals),
                "alpha_unstable": res.alpha_unstable}
        if res.note is not None:
            out["note"] = res.note
    elif res.alpha_at is not None:
        out["alpha_at"] = res.alpha_at
    return _report(args, out)


@_solver_errors
def run_storage(args) -> int:
    from numerics.solvers.storage import storage_saddle

    res = storage_saddle(args.alpha, args.kappa, args.weights)
    out = {"alpha": res.alpha, "kappa": res.kappa, "weights": res.weights, "q": res.q, "entropy": res.entropy,
           "replicon": res.replicon, "rs_stable": res.rs_stable}
    if res.qhat is not None:
        out["qhat"] = res.qhat
    if res.branches:
        out["branches"] = [{"q": b.q, "entropy": b.entropy, "replicon": b.replicon} for b in res.branches]
    return _report(args, out)


@_solver_errors
def run_teacher(args) -> int:
    from numerics.solvers.storage import teacher_student

    res = teacher_student(args.alpha)
    return _report(args, {"alpha": res.alpha, "R": res.R, "error": res.error})


@_solver_errors
def run_simulate(args) -> int:
    from numerics.simulate.storage import simulate_storage

    sim = simulate_storage(args.n, floats(args.alpha, "--alpha"), args.trials, kappa=args.kappa, seed=args.seed,
                           patterns=args.patterns, workers=args.workers, method=args.method)
    out = {"n": sim.n, "kappa": sim.kappa, "seed": sim.seed, "trials": sim.trials, "patterns": sim.patterns,
           "method": sim.method, "alpha": list(sim.alphas), "p": list(sim.p),
           "separable_fraction": sim.fraction.tolist(), "stderr": sim.stderr.tolist()}
    if args.json:
        return _report(args, out)
    print(f"n={sim.n} kappa={sim.kappa} trials={sim.trials} patterns={sim.patterns} method={sim.method} "
          f"seed={sim.seed}")
    print(f"{'alpha':>10}  {'p':>6}  {'separable_fraction':>18}  {'stderr':>8}")
    for a, p, f, e in zip(sim.alphas, sim.p, sim.fraction, sim.stderr):
        print(f"{a:>10.6g}  {p:>6d}  {f:>18.4f}  {e:>8.4f}")
    return 0


def register(commands) -> None:
    weights = ("spherical", "ising")
    p = commands.group("solve", "capacity", "storage capacity alpha_c(kappa) (RS; Ising: also the q -> 1 value)")
    p.add_argument("--kappa", type=float, default=0.0, help="stability kappa (default 0)")
    p.add_argument("--weights", choices=weights, default="spherical", help="coupling space (default spherical)")
    p.add_argument("--json", action="store_true", help="print a JSON object")
    p.set_defaults(func=run_capacity)

    p = commands.group("solve", "storage", "RS saddle point of the storage problem: q, entropy, AT stability")
    p.add_argument("--alpha", type=float, required=True, help="patterns per coupling P/N (> 0, below capacity)")
    p.add_argument("--kappa", type=float, default=0.0, help="stability kappa (default 0)")
    p.add_argument("--weights", choices=weights, default="spherical", help="coupling space (default spherical)")
    p.add_argument("--json", action="store_true", help="print a JSON object")
    p.set_defaults(func=run_storage)

    p = commands.group("solve", "teacher", "Gibbs learning of a perceptron teacher: overlap R and error arccos(R)/pi")
    p.add_argument("--alpha", type=float, required=True, help="examples per coupling P/N (> 0)")
    p.add_argument("--json", action="store_true", help="print a JSON object")
    p.set_defaults(func=run_teacher)

    p = commands.group("simulate", "storage",
                       "fraction of random pattern sets a perceptron of N inputs stores (exact LP/NNLS decision)")
    p.add_argument("--n", type=int, required=True, help="number of inputs N (>= 2)")
    p.add_argument("--alpha", required=True, metavar="A1,A2,...", help="loads P/N, comma-separated")
    p.add_argument("--trials", type=int, required=True, help="random instances per alpha (>= 1)")
    p.add_argument("--kappa", type=float, default=0.0, help="stability kappa >= 0 (default 0)")
    p.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    p.add_argument("--patterns", choices=("gaussian", "binary"), default="gaussian", help="pattern entries")
    p.add_argument("--method", choices=("highs", "nnls"), default=None,
                   help="decider: highs (LP, kappa = 0) or nnls (any kappa); default highs at kappa = 0")
    p.add_argument("--workers", type=int, default=None, help="processes (default: all cores)")
    p.add_argument("--json", action="store_true", help="print a JSON object")
    p.set_defaults(func=run_simulate)
