"""Exact Hessian of the training loss: meanfield against jax.jit(jax.hessian(loss)), and thread scaling.

Two cases, as in the issue: the paper's 2-8-2-1 ESP network on the 690
training points of NLdata (P = 56, every beta trained) and 64-25-10 ESP /
softmax on the 1437 digits training images (P = 1920). Both sides get the
same parameters (the network's seeded initialization) and data; JAX
differentiates the independent model of verify/jax_models.py as a function
of the trainable vector. The two take turns in rounds (a block of JAX calls,
a pause of PAUSE seconds for XLA's threads to settle, a block of meanfield
calls), so that both see the same machine load, each block after WARM_UP
seconds of untimed calls (steady state: after a pause, the first ~20 ms of
calls on this kind of machine run up to 2x slower); the table gives the best
and the median wall time and their ratios, then meanfield's time with 1 and
2 threads (numba and BLAS), each measured in a fresh process.

With --hvp, one more row: the Hessian-vector product of a 784-128-10 ESP /
softmax network on HVP_SAMPLES random inputs with random classes (P =
101,770), ``Network.hessian_operator`` (built once, then one product per
call) against ``jax.jit`` of ``jax.jvp(jax.grad(loss))`` at the same
parameters and vector, taking turns as above; medians of the calls.

    python benchmarks/bench_hessian.py [--reps 30] [--jax-reps 3] [--threads 1,2] [--hvp] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

ROUNDS, PAUSE, WARM_UP = 3, 1.0, 0.05
HVP_ARCH, HVP_SAMPLES = "784-128-10", 1000
CASES = {
    "2-8-2-1": {"arch": "2-8-2-1", "hidden": "esp", "output": "sigmoid", "data": "paper"},
    "64-25-10": {"arch": "64-25-10", "hidden": "esp", "output": "softmax", "data": "digits"},
}


def problem(name):
    from numerics import Network
    from numerics.mlp import data

    case = CASES[name]
    if case["data"] == "paper":
        path = data.paper_data_dir() / "NLdata.mat"
        X, y = data.load(path) if path.is_file() else data.synthetic("nonlinear")
        source = str(path) if path.is_file() else "synthetic nonlinear (NLdata.mat not found)"
    else:
        X, y = data.digits()
        source = "digits"
    X, _, y, _ = data.split(X, y, 0.2, 1)
    net = Network.from_spec(case["arch"], hidden=case["hidden"], output=case["output"])
    X, Y = net.targets(X, y)
    return net, net.init(0), X, Y, source


def ours(name, reps):
    """Wall times of numerics.mlp.hessian (after WARM_UP seconds of untimed calls)."""
    from numerics.mlp.hessian import hessian

    net, params, X, Y, _ = problem(name)
    _warm_up(lambda: hessian(net, params, X, Y))
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        hessian(net, params, X, Y)
        times.append(time.perf_counter() - t0)
    return times


def _warm_up(call):
    """Untimed calls for WARM_UP seconds (at least one): the timed calls then see awake threads and warm caches."""
    end = time.perf_counter() + WARM_UP
    call()
    while time.perf_counter() < end:
        call()


def compare(name, reps, jax_reps):
    import jax

    from numerics.mlp.hessian import hessian
    from verify import jax_models

    net, params, X, Y, source = problem(name)
    f, theta = jax_models.flat_loss(params, net.train_beta, X, Y, net.hidden, net.output)
    jitted = jax.jit(jax.hessian(f))
    t0 = time.perf_counter()
    ref = np.asarray(jitted(theta))
    compile_s = time.perf_counter() - t0
    H = hessian(net, params, X, Y)
    t_ours, t_jax = [], []
    rounds = min(ROUNDS, jax_reps)
    for r in range(rounds):
        _warm_up(lambda: jitted(theta).block_until_ready())
        for _ in range(jax_reps * (r + 1) // rounds - jax_reps * r // rounds):
            t0 = time.perf_counter()
            jitted(theta).block_until_ready()
            t_jax.append(time.perf_counter() - t0)
        time.sleep(PAUSE)
        _warm_up(lambda: hessian(net, params, X, Y))
        for _ in range(reps * (r + 1) // rounds - reps * r // rounds):
            t0 = time.perf_counter()
            hessian(net, params, X, Y)
            t_ours.append(time.perf_counter() - t0)
    return {
        "case": name, "data": source, "samples": int(X.shape[0]), "P": net.n_params,
        "max_rel_diff": float(np.max(np.abs(H - ref)) / np.max(np.abs(ref))),
        "jax_compile_s": compile_s,
        "jax_best_s": min(t_jax), "jax_median_s": float(np.median(t_jax)),
        "ours_best_s": min(t_ours), "ours_median_s": float(np.median(t_ours)),
        "speedup_best": min(t_jax) / min(t_ours), "speedup_median": float(np.median(t_jax) / np.median(t_ours)),
    }


def compare_hvp(reps):
    """Hessian-vector products at 784-128-10: meanfield's operator against jax.jvp(jax.grad(loss))."""
    import jax

    from numerics import Network
    from verify import jax_models

    net = Network.from_spec(HVP_ARCH, hidden="esp", output="softmax")
    rng = np.random.default_rng(0)
    X, Y = net.targets(rng.standard_normal((HVP_SAMPLES, net.sizes[0])), rng.integers(0, net.sizes[-1], HVP_SAMPLES))
    params = net.init(0)
    v = rng.standard_normal(net.n_params)
    f, theta = jax_models.flat_loss(params, net.train_beta, X, Y, net.hidden, net.output)
    jitted = jax.jit(lambda t, u: jax.jvp(jax.grad(f), (t,), (u,))[1])
    ref = np.asarray(jitted(theta, v))
    op = net.hessian_operator(params, X, Y)
    got = op.matvec(v)
    t_ours, t_jax = [], []
    for r in range(ROUNDS):
        _warm_up(lambda: jitted(theta, v).block_until_ready())
        for _ in range(reps * (r + 1) // ROUNDS - reps * r // ROUNDS):
            t0 = time.perf_counter()
            jitted(theta, v).block_until_ready()
            t_jax.append(time.perf_counter() - t0)
        time.sleep(PAUSE)
        _warm_up(lambda: op.matvec(v))
        for _ in range(reps * (r + 1) // ROUNDS - reps * r // ROUNDS):
            t0 = time.perf_counter()
            op.matvec(v)
            t_ours.append(time.perf_counter() - t0)
    return {"case": f"hvp {HVP_ARCH}", "samples": HVP_SAMPLES, "P": net.n_params,
            "max_rel_diff": float(np.max(np.abs(got - ref)) / np.max(np.abs(ref))),
            "jax_median_s": float(np.median(t_jax)), "ours_median_s": float(np.median(t_ours)),
            "speedup_median": float(np.median(t_jax) / np.median(t_ours))}


def scaling(name, reps, threads):
    """meanfield's best time with each thread count, each in a fresh process (numba and BLAS limited alike)."""
    out = {}
    for n in threads:
        env = dict(os.environ, NUMBA_NUM_THREADS=str(n), OPENBLAS_NUM_THREADS=str(n), OMP_NUM_THREADS=str(n),
                   MKL_NUM_THREADS=str(n))
        proc = subprocess.run([sys.executable, __file__, "--worker", name, "--reps", str(reps)], env=env,
                              capture_output=True, text=True, check=True)
        out[n] = min(json.loads(proc.stdout))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=30, help="meanfield calls per case (default 30)")
    parser.add_argument("--jax-reps", type=int, default=None, help="JAX calls per case (default: reps for 2-8-2-1, 3 for 64-25-10)")
    parser.add_argument("--threads", default="1,2", help="thread counts for the scaling table (default 1,2)")
    parser.add_argument("--cases", default=",".join(CASES), help=f"comma-separated subset of {', '.join(CASES)}")
    parser.add_argument("--hvp", action="store_true", help=f"also time Hessian-vector products at {HVP_ARCH}")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(ours(args.worker, args.reps)))
        return
    threads = [int(t) for t in args.threads.split(",")]
    results = []
    for name in args.cases.split(","):
        jax_reps = args.jax_reps or (args.reps if name == "2-8-2-1" else 3)
        reps = args.reps if name == "2-8-2-1" else max(3, args.reps // 5)
        row = compare(name, reps, jax_reps)
        row["threads"] = {str(n): t for n, t in scaling(name, reps, threads).items()}
        results.append(row)
    hvp = compare_hvp(max(10, args.reps)) if args.hvp else None
    if args.json:
        print(json.dumps({"cpu_count": os.cpu_count(), "results": results, "hvp": hvp}, indent=2))
        return
    print(f"exact Hessian, meanfield vs jax.jit(jax.hessian(loss)); {os.cpu_count()} CPUs; wall times in ms")
    print(f"{'case':<10} {'P':>5} {'m':>5} {'max rel diff':>12} {'jax best':>10} {'jax median':>10} {'ours best':>10} "
          f"{'ours median':>11} {'speed-up best':>13} {'speed-up median':>15}")
    for r in results:
        print(f"{r['case']:<10} {r['P']:>5} {r['samples']:>5} {r['max_rel_diff']:>12.1e} {1e3 * r['jax_best_s']:>10.2f} "
              f"{1e3 * r['jax_median_s']:>10.2f} {1e3 * r['ours_best_s']:>10.2f} {1e3 * r['ours_median_s']:>11.2f} "
              f"{r['speedup_best']:>12.1f}x {r['speedup_median']:>14.1f}x")
    print("\nmeanfield with limited threads (best of fresh-process runs, ms)")
    print(f"{'case':<10} " + " ".join(f"{t + ' thr':>10}" for t in map(str, threads)) + f" {'speed-up':>9}")
    for r in results:
        t = [r["threads"][str(n)] for n in threads]
        print(f"{r['case']:<10} " + " ".join(f"{1e3 * v:>10.2f}" for v in t) + f" {t[0] / t[-1]:>8.2f}x")
    print("\ndata: " + "; ".join(f"{r['case']}: {r['data']}" for r in results))
    if hvp:
        print(f"\n{hvp['case']} (P = {hvp['P']}, {hvp['samples']} random samples): max rel diff {hvp['max_rel_diff']:.1e}, "
              f"jax.jvp(jax.grad) median {1e3 * hvp['jax_median_s']:.2f} ms, meanfield median {1e3 * hvp['ours_median_s']:.2f} ms, "
              f"speed-up {hvp['speedup_median']:.2f}x")


if __name__ == "__main__":
    main()
