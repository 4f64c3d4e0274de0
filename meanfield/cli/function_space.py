"""The function space of deep networks (Li & Saad 2018) and signal propagation from the command line.

    meanfield solve overlap --weights continuous|binary --perturb V1,...,VL [--beta B] [--activation NAME]
                            [--sigma S] [--json]
    meanfield solve max-entropy --weights continuous|binary --layers L --error E [--json]
    meanfield solve generalization --layers L --alpha A1,... [--weights continuous|binary] [--json]
    meanfield solve majority --k K --p P [--layers L] [--m0 M] [--json]
    meanfield solve propagation --activation NAME [--beta B] --sigma-b S [--q0 Q] [--json]
    meanfield simulate overlap --weights ... --perturb V1,...,VL --width N --inputs M [--replicas R] [--seed S]
                               [--beta B] [--activation NAME] [--sigma S] [--workers W] [--json]
    meanfield simulate majority --k K --p P --layers L --width N [--m0 M] [--replicas R] [--seed S] [--json]
"""

from __future__ import annotations

import json
import math

from meanfield.cli import floats, plain

WEIGHTS = ("continuous", "binary")


def _report(args, out: dict) -> int:
    out = {k: plain(v) for k, v in out.items()}
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    width = max(len(k) for k in out)
    for key, value in out.items():
        if isinstance(value, list):
            value = "  ".join("-" if v is None else f"{v:.10g}" if isinstance(v, float) else str(v) for v in value)
        elif isinstance(value, float):
            value = f"{value:.12g}"
        print(f"{key:<{width}}  {value}")
    return 0


def run_overlap(args) -> int:
    from numerics.solvers.function_space import overlap_recursion

    res = overlap_recursion(floats(args.perturb, "--perturb"), args.weights, args.beta, args.activation, args.sigma)
    return _report(args, {"q": res.q, "error_per_layer": res.error_per_layer, "error": res.error})


def run_max_entropy(args) -> int:
    from numerics.solvers.function_space import max_entropy_perturbation

    res = max_entropy_perturbation(args.error, args.layers, args.weights)
    return _report(
        args,
        {
            "error": res.error,
            "perturbation": res.perturbation,
            "log_perturbation": res.log_perturbation,
            "entropy": res.entropy,
            "error_per_layer": res.error_per_layer,
        },
    )


def run_generalization(args) -> int:
    from numerics.solvers.function_space import generalization_curve

    alphas = floats(args.alpha, "--alpha")
    res = generalization_curve(alphas, args.layers, args.weights)
    single = len(alphas) == 1
    return _report(
        args,
        {
            "alpha": res.alpha[0] if single else res.alpha,
            "error": res.error[0] if single else res.error,
            "entropy": res.entropy[0] if single else res.entropy,
        },
    )


def run_majority(args) -> int:
    from numerics.solvers.majority import majority_recursion, majority_stationary

    st = majority_stationary(args.k, args.p)
    out = {"k": args.k, "p": args.p, "p_c": st.p_c, "m": st.m, "q": st.q, "error": st.error}
    if args.layers is not None:
        tr = majority_recursion(args.k, args.p, args.layers, args.m0)
        out.update({"m_hat_per_layer": tr.m_hat, "m_per_layer": tr.m, "q_per_layer": tr.q, "error_per_layer": tr.error_per_layer})
    return _report(args, out)


def run_propagation(args) -> int:
    from numerics.solvers.propagation import critical_sigma_w

    res = critical_sigma_w(args.activation, args.sigma_b, args.beta, args.q0)
    return _report(
        args,
        {
            "activation": res.activation,
            "beta": res.beta,
            "sigma_b": res.sigma_b,
            "sigma_w": res.sigma_w,
            "q_star": res.q_star if math.isfinite(res.q_star) else None,
            "chi1": res.chi1 if math.isfinite(res.chi1) else None,
            "beyond": res.kind,
        },
    )


def run_simulate_overlap(args) -> int:
    from numerics.simulate.networks import simulate_overlap

    res = simulate_overlap(
        floats(args.perturb, "--perturb"),
        args.weights,
        args.beta,
        args.activation,
        args.sigma,
        width=args.width,
        inputs=args.inputs,
        replicas=args.replicas,
        seed=args.seed,
        workers=args.workers,
    )
    return _report(args, {"seed": args.seed, "q": res.q, "stderr": res.stderr})


def run_simulate_majority(args) -> int:
    from numerics.simulate.networks import simulate_majority

    res = simulate_majority(args.k, args.p, args.layers, args.m0, width=args.width, replicas=args.replicas, seed=args.seed)
    return _report(
        args,
        {"seed": args.seed, "m_hat": res.m_hat, "m": res.m, "q": res.q, "m_stderr": res.m_stderr, "q_stderr": res.q_stderr},
    )


def _perturbation_options(p) -> None:
    p.add_argument("--weights", choices=WEIGHTS, default="continuous", help="weight ensemble (default continuous)")
    p.add_argument("--perturb", required=True, metavar="V1,...,VL", help="per-layer eta in [0, 1] (continuous) or p in [0, 0.5] (binary)")
    p.add_argument("--beta", type=float, default=None, help="inverse temperature > 0 (omit: beta -> oo, sign units)")
    p.add_argument("--activation", default=None, metavar="NAME",
                   help="deterministic units phi(h, beta): a built-in or registered activation (`meanfield activation list`)")
    p.add_argument("--sigma", type=float, default=1.0, help="std of the continuous weights (default 1)")
    p.add_argument("--json", action="store_true", help="print a JSON object")


def register(commands) -> None:
    p = commands.group("solve", "overlap", "overlaps q_l of a reference network and a perturbed copy (Li & Saad Eqs. 6-11)")
    _perturbation_options(p)
    p.set_defaults(func=run_overlap)

    p = commands.group("solve", "max-entropy", "perturbation of maximum entropy at output error E (Li & Saad Fig. 2a, b)")
    p.add_argument("--weights", choices=WEIGHTS, default="continuous", help="weight ensemble (default continuous)")
    p.add_argument("--layers", type=int, required=True, help="number of layers L >= 1")
    p.add_argument("--error", type=float, required=True, help="output error epsilon in (0, 0.5)")
    p.add_argument("--json", action="store_true", help="print a JSON object")
    p.set_defaults(func=run_max_entropy)

    p = commands.group("solve", "generalization", "annealed generalization error eps*(alpha) (Li & Saad Fig. 2c)")
    p.add_argument("--weights", choices=WEIGHTS, default="continuous", help="weight ensemble (default continuous)")
    p.add_argument("--layers", type=int, required=True, help="number of layers L >= 1")
    p.add_argument("--alpha", required=True, metavar="A1,...", help="examples per weight P/(L N^2) > 0, comma-separated")
    p.add_argument("--json", action="store_true", help="print a JSON object")
    p.set_defaults(func=run_generalization)

    p = commands.group("solve", "majority", "sparse MAJ-k networks: stationary m, q, p_c; per layer with --layers (Eqs. 13-14)")
    p.add_argument("--k", type=int, required=True, help="gate fan-in, odd >= 3")
    p.add_argument("--p", type=float, required=True, help="weight-flip probability in [0, 0.5]")
    p.add_argument("--layers", type=int, default=None, help="also print layers 0..L from m^_0 = m_0, q_0 = 1")
    p.add_argument("--m0", type=float, default=0.1, help="input magnetization for --layers, in [-1, 1] (default 0.1)")
    p.add_argument("--json", action="store_true", help="print a JSON object")
    p.set_defaults(func=run_majority)

    p = commands.group("solve", "propagation", "edge of the ordered phase sigma_w,c(sigma_b): q*, chi_1 (Poole et al. 2016)")
    p.add_argument("--activation", required=True, metavar="NAME", help="built-in or registered activation (see `meanfield activation list`)")
    p.add_argument("--beta", type=float, default=None, help="inverse temperature > 0 (default 1; ignored by relu, linear)")
    p.add_argument("--sigma-b", type=float, required=True, help="bias std >= 0")
    p.add_argument("--q0", type=float, default=1.0, help="input pre-activation variance (default 1)")
    p.add_argument("--json", action="store_true", help="print a JSON object")
    p.set_defaults(func=run_propagation)

    p = commands.group("simulate", "overlap", "measured overlaps of two coupled finite dense networks (twin of solve overlap)")
    _perturbation_options(p)
    p.add_argument("--width", type=int, required=True, help="units per layer N >= 2")
    p.add_argument("--inputs", type=int, required=True, help="random +-1 inputs per replica M >= 1")
    p.add_argument("--replicas", type=int, default=8, help="independent networks (default 8)")
    p.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    p.add_argument("--workers", type=int, default=1, help="threads (default 1)")
    p.set_defaults(func=run_simulate_overlap)

    p = commands.group("simulate", "majority", "measured m, q of sparse MAJ-k networks (twin of solve majority --layers)")
    p.add_argument("--k", type=int, required=True, help="gate fan-in, odd >= 3")
    p.add_argument("--p", type=float, required=True, help="weight-flip probability in [0, 0.5]")
    p.add_argument("--layers", type=int, required=True, help="number of layers L >= 1")
    p.add_argument("--width", type=int, default=100_000, help="units per layer (default 100000)")
    p.add_argument("--m0", type=float, default=0.1, help="input magnetization in [-1, 1] (default 0.1)")
    p.add_argument("--replicas", type=int, default=8, help="independent networks (default 8)")
    p.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    p.add_argument("--json", action="store_true", help="print a JSON object")
    p.set_defaults(func=run_simulate_majority)
