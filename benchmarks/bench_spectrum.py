"""Spectra of large Hessians and infinite-width kernels: what they cost.

1. alpha/gamma of a P ~ 1e5 Hessian by SLQ (``numerics.mlp.spectrum.analyze``,
   10 probes x 80 Lanczos steps, Hutch++ trace): the MLP 64-300-300-10
   (tanh, softmax; P = 112,810) on 256 digits images, its Hessian-vector
   products from ``numerics.jax_hessian`` (JAX, jitted) and from
   ``numerics.torch_hessian`` (PyTorch, double back-propagation), both
   float64, same parameters and data.
2. ``numerics.nngp`` and ``numerics.ntk`` for 2000 inputs on the sphere
   (|x|^2 = d = 10), depth 5, ESP (beta = 1, sigma_w = 1.4, sigma_b = 0.1),
   against ``numerics.simulate_kernel`` (width 512, 16 networks): its largest
   standard error, and the time Monte Carlo would need to reach the
   quadrature's 1e-10 (time x (stderr / 1e-10)^2: standard errors fall as
   1 / sqrt(networks)).
3. Forming the dense Hessian of the digits MLP 64-25-10 (tanh, softmax,
   P = 1885, 300 images; the dense route of ``analyze``) from the toolkit's
   ``Network.hessian_operator`` (its ``toarray()``: the exact Hessian),
   ``jax_hessian`` (vmapped products) and ``torch_hessian`` (batched
   back-propagation), each against P single products
   (``dense-network``, ``dense-jax``, ``dense-torch``; ``per_vector_s``).
4. The same kernels for 2000 inputs of unequal norms (standard normal
   coordinates, |x|^2/d from 0.14 to 3.3): the Hermite-series route
   (``nngp-unequal``, ``ntk-unequal``), and, for scale, the per-entry
   tensor quadrature it replaces (``direct``: the same recursion on 100 of
   the inputs, extrapolated to 2000 as (2000 / 50)^2; it also reports the
   series route's largest deviation from it, relative to the scale).

Every timing is one call in a fresh process (compilation and imports not
counted: a warm-up call runs first); the table gives the median over
--repeats processes and the range.

    python benchmarks/bench_spectrum.py [--repeats 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

import numpy as np

ARCH = (64, 300, 300, 10)
BATCH = 256
N_KERNEL, D_KERNEL = 2000, 10
KERNEL_ARGS = dict(depth=5, activation="esp", sigma_w=1.4, sigma_b=0.1, beta=1.0)


def _mlp():
    from numerics.mlp import data

    X, y = data.digits()
    rng = np.random.default_rng(0)
    rows = rng.choice(X.shape[0], BATCH, replace=False)
    params = []
    for a, b in zip(ARCH, ARCH[1:]):
        params.append((rng.standard_normal((a, b)) / np.sqrt(a), np.zeros(b)))
    y = np.argmax(y, axis=1) if np.ndim(y) == 2 else y  # one-hot rows to labels
    return params, X[rows], np.asarray(y[rows], dtype=np.int64)


def _jax_operator():
    import jax
    import jax.numpy as jnp

    from numerics import jax_hessian

    params, X, y = _mlp()

    def loss(p, batch):
        a, labels = batch
        for i, (W, b) in enumerate(p):
            a = a @ W + b
            if i < len(p) - 1:
                a = jnp.tanh(a)
        logp = jax.nn.log_softmax(a)
        return -jnp.mean(jnp.take_along_axis(logp, labels[:, None], axis=1))

    return jax_hessian(loss, params, (X, y))


def _torch_operator():
    import torch

    from numerics import torch_hessian
    from verify.spectrum import torch_mlp

    params, X, y = _mlp()
    return torch_hessian(torch_mlp(params, "tanh"), torch.nn.functional.cross_entropy, X, y)


def _inputs(equal_norms: bool = True):
    X = np.random.default_rng(0).standard_normal((N_KERNEL, D_KERNEL))
    return X / np.linalg.norm(X, axis=1, keepdims=True) * np.sqrt(D_KERNEL) if equal_norms else X


def _dense_case(kind: str) -> dict:
    """Seconds to form the P x P matrix batched (or by toarray) and by P single products."""
    from numerics import jax_hessian, torch_hessian
    from numerics.mlp import data
    from numerics.mlp.network import Network
    from numerics.mlp.spectrum import _to_dense, as_operator

    X, y = data.dataset("digits")
    X, y = X[:300], y[:300]
    net = Network.from_spec("64-25-10", hidden="tanh", output="softmax")
    params = net.init(0)
    layers = [(params["W1"], params["b1"]), (params["W2"], params["b2"])]
    labels = np.argmax(net.targets(X, y)[1], axis=1)
    if kind == "network":
        op = net.hessian_operator(params, X, y)
    elif kind == "jax":
        import jax
        import jax.numpy as jnp

        def loss(p, batch):
            a, t = batch
            z = jnp.tanh(a @ p[0][0] + p[0][1]) @ p[1][0] + p[1][1]
            return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(z), t[:, None], axis=1))

        op = jax_hessian(loss, layers, (X, labels))
    else:
        import torch

        from verify.spectrum import torch_mlp

        op = torch_hessian(torch_mlp(layers, "tanh"), torch.nn.functional.cross_entropy, X, labels)
    matvec, P, _, _ = as_operator(op)

    def single(v):
        return matvec(v)

    out = {}
    for key, mv in (("seconds", matvec), ("per_vector_s", single)):
        _to_dense(mv, P)  # warm-up: compilation
        start = time.perf_counter()
        _to_dense(mv, P)
        out[key] = time.perf_counter() - start
    return out | {"P": P}


def _direct(X):
    """The NNGP recursion with every entry of every layer integrated by the tensor quadrature."""
    from numerics.mlp.infinite_width import pair_expectation, phi, self_expectation

    f = phi(KERNEL_ARGS["activation"], KERNEL_ARGS["beta"])
    sw2, sb2 = KERNEL_ARGS["sigma_w"] ** 2, KERNEL_ARGS["sigma_b"] ** 2
    K = sw2 * X @ X.T / X.shape[1] + sb2
    for _ in range(KERNEL_ARGS["depth"]):
        d = np.diag(K).copy()
        A, B = np.meshgrid(d, d, indexing="ij")
        K = sw2 * pair_expectation(f, A.ravel(), B.ravel(), K.ravel()).reshape(K.shape) + sb2
        scale = sw2 * np.sqrt(np.outer(*(2 * [self_expectation(f, d)])))
    return K, scale


def measure(case: str) -> dict:
    """One timed call of ``case`` in this process (after a warm-up)."""
    from numerics import nngp, ntk, simulate_kernel
    from numerics.mlp.spectrum import analyze

    if case in ("slq-jax", "slq-torch"):
        op = _jax_operator() if case == "slq-jax" else _torch_operator()
        op.matvec(np.ones(op.shape[0]))
        start = time.perf_counter()
        a = analyze(op, per_block=False)
        seconds = time.perf_counter() - start
        return {"seconds": seconds, "P": a.size, "alpha_exact": a.alpha["exact"],
                "alpha_stderr": a.alpha_stderr["exact"], "alpha_bound": a.alpha_bound["exact"],
                "trace": a.trace, "trace_stderr": a.trace_stderr, "lambda_max": a.extremes[1]}
    if case.startswith("dense-"):
        return _dense_case(case.removeprefix("dense-"))
    X = _inputs(equal_norms=not case.endswith("unequal") and case != "direct")
    if case in ("nngp", "ntk", "nngp-unequal", "ntk-unequal"):
        fn = nngp if case.startswith("nngp") else ntk
        fn(X[:4], **KERNEL_ARGS)
        start = time.perf_counter()
        fn(X, **KERNEL_ARGS)
        return {"seconds": time.perf_counter() - start}
    if case == "direct":
        n = 50
        start = time.perf_counter()
        K, scale = _direct(X[:n])
        seconds = time.perf_counter() - start
        error = float(np.max(np.abs(nngp(X[:n], **KERNEL_ARGS) - K) / scale))
        return {"seconds": seconds * (N_KERNEL / n) ** 2, "seconds_n50": seconds, "series_error": error}
    simulate_kernel(X[:4], **KERNEL_ARGS, width=16, networks=2)
    start = time.perf_counter()
    mc = simulate_kernel(X, **KERNEL_ARGS, width=512, networks=16)
    seconds = time.perf_counter() - start
    K = nngp(X[:200], **KERNEL_ARGS)
    rel = float(np.max(mc.stderr[:200, :200]) / np.max(np.abs(K)))
    return {"seconds": seconds, "relative_stderr": rel, "seconds_to_1e-10": seconds * (rel / 1e-10) ** 2}


def _fresh(case: str) -> dict:
    code = f"import json, bench_spectrum as b; print(json.dumps(b.measure({case!r})))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=str(__import__("pathlib").Path(__file__).parent))
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--cases", default="slq-jax,slq-torch,dense-network,dense-jax,dense-torch,nngp,ntk,nngp-unequal,"
                                       "ntk-unequal,direct,monte-carlo")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    cases = args.cases.split(",")
    runs = {case: [] for case in cases}
    for _ in range(args.repeats):  # interleaved: every case sees the same machine load
        for case in cases:
            runs[case].append(_fresh(case))
    table = {}
    for case, rs in runs.items():
        t = sorted(r["seconds"] for r in rs)
        details = {k: float(np.median([r[k] for r in rs])) for k in rs[-1] if k != "seconds"}
        table[case] = {"median_s": float(np.median(t)), "min_s": t[0], "max_s": t[-1], "medians": details}
    if args.json:
        print(json.dumps(table, indent=2))
        return 0
    print(f"{'case':<12} {'median s':>10} {'range s':>16}  details (medians)")
    for case, row in table.items():
        details = ", ".join(f"{k}={v:.4g}" for k, v in row["medians"].items())
        print(f"{case:<12} {row['median_s']:>10.2f} {row['min_s']:>7.2f}-{row['max_s']:<8.2f}  {details}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
