"""Milliseconds per training epoch over a width ladder: meanfield (numba + BLAS) against JAX and PyTorch.

Ladder (ESP hidden units, every beta trainable, Adam with lr 0.01 x 0.9 per
500 steps, float64): 2-8-2-1 on the paper's non-linear set (690 training
points; the synthetic `nonlinear` task when the paper's files are absent),
full batch; 64-25-10 on the 8x8 digits (1437 training images), full batch
and batch 100; 2-30-30-1 on 2000 random points with random labels, batch 50;
784-128-10 and 784-300-100-10 on 6000 random inputs with random classes,
batch 100 (the same data for every framework).

Each measurement is one fresh process: the framework is imported, the
network compiled by an untimed call, then one call of the row's epochs is
timed (PyTorch: 1/TORCH_SHARE of the epochs). Rows repeat --repeat times (default 5) with the frameworks
interleaved in each round, and the table shows the median (never the best).
meanfield runs twice: with the default thread count and with one thread
(NUMBA_NUM_THREADS=1, OPENBLAS_NUM_THREADS=1); its time includes what a
training run records here: each epoch's loss (full batch: at the epoch's
start; mini-batches: the weighted mean of the step losses), the outputs over
all samples at the first and last epoch and the final loss over all
samples, and the run's measurement of its thread use. JAX does the same
work (the mean of each epoch's step losses kept in an array, the outputs at
the start and the end, the final loss); PyTorch eager (torch.optim.Adam)
only the steps. Peers: JAX (jit, lax.scan over the mini-batches of an epoch,
fori_loop over epochs, a fresh permutation per epoch). GFLOP/s counts 2 x the multiply-adds of the training
steps' matrix products (forward, weight gradient, back-propagation); the
GEMM columns are numpy's float64 matmul rate on the same products (the
row's batch, all layers; default threads and one thread), each measured in
fresh processes like the rest. "1t/mf" is the one-thread time over the
default one (>= 1: the default thread use does not lose).

    python benchmarks/bench_train.py [--repeat 5] [--rows 2-8-2-1/full ...] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

# name -> (arch, data, batch (None: full), epochs per timed call)
LADDER = {
    "2-8-2-1/full": ("2-8-2-1", "nonlinear", None, 400),
    "64-25-10/full": ("64-25-10", "digits", None, 100),
    "64-25-10/100": ("64-25-10", "digits", 100, 10),
    "2-30-30-1/50": ("2-30-30-1", "random2000", 50, 10),
    "784-128-10/100": ("784-128-10", "random6000", 100, 2),
    "784-300-100-10/100": ("784-300-100-10", "random6000", 100, 1),
}
RUNS = ("meanfield", "meanfield-1thread", "jax", "torch", "gemm", "gemm-1thread")
TORCH_SHARE = 4  # PyTorch eager times 1/TORCH_SHARE of a row's epochs (at least one): it is ~10-100x slower
LR, DECAY_RATE, DECAY_STEPS = 0.01, 0.9, 500.0


def _problem(row):
    """(net, params, X, Y, batch, epochs, data description) of a ladder row."""
    from numerics.mlp import data
    from numerics.mlp.network import Network

    arch, source, batch, epochs = LADDER[row]
    output = "sigmoid" if arch.endswith("-1") else "softmax"
    net = Network.from_spec(arch, hidden="esp", output=output)
    rng = np.random.default_rng(0)
    if source == "nonlinear":
        path = data.paper_data_dir() / "NLdata.mat"
        X, y = data.load(path) if path.is_file() else data.synthetic("nonlinear")
        X, _, y, _ = data.split(X, y, 0.2, 1)
    elif source == "digits":
        X, y = data.digits()
        X, _, y, _ = data.split(X, y.argmax(axis=1), 0.2, 1)
    else:
        m = int(source[len("random"):])
        X = rng.standard_normal((m, net.sizes[0]))
        y = rng.integers(0, 2 if output == "sigmoid" else net.sizes[-1], size=m).astype(np.float64)
    X, Y = net.targets(X, y)
    return net, net.init(0), X, Y, batch or X.shape[0], epochs


def _meanfield(net, params, X, Y, batch, epochs):
    from numerics.mlp.train import train

    def call():
        res = train(net, X, Y, epochs, lr=LR, decay_rate=DECAY_RATE, decay_steps=DECAY_STEPS, params=params,
                    batch_size=batch, record=epochs)
        return float(res.history["loss"][-1])

    return call


def _jax(net, params, X, Y, batch, epochs):
    import jax
    import jax.numpy as jnp

    from verify import jax_models

    m = X.shape[0]
    steps = -(-m // batch)
    hidden, output = tuple(net.hidden), net.output

    @jax.jit
    def run(p, key):
        zeros = {k: jnp.zeros_like(v) for k, v in p.items()}

        def step(carry, idx):
            p, m1, m2, t = carry
            val, g = jax.value_and_grad(jax_models.loss)(p, X[idx], Y[idx], hidden, output)
            rate = LR * DECAY_RATE ** (t / DECAY_STEPS)
            m1 = {k: 0.9 * m1[k] + 0.1 * g[k] for k in p}
            m2 = {k: 0.999 * m2[k] + 0.001 * g[k] ** 2 for k in p}
            c1, c2 = 1 - 0.9 ** (t + 1.0), 1 - 0.999 ** (t + 1.0)
            p = {k: p[k] - rate * (m1[k] / c1) / (jnp.sqrt(m2[k] / c2) + 1e-8) for k in p}
            return (p, m1, m2, t + 1.0), val

        def epoch(e, carry):
            perm = jax.random.permutation(jax.random.fold_in(key, e), m) if batch < m else jnp.arange(m)
            # equal batches for scan: the last one is padded from the permutation's start
            idx = jnp.concatenate([perm, perm[: steps * batch - m]]).reshape(steps, batch)
            state, losses = carry
            state, vals = jax.lax.scan(step, state, idx)
            return state, losses.at[e].set(jnp.mean(vals))

        first = jax_models.forward(p, X, hidden, output)
        (p, _, _, _), losses = jax.lax.fori_loop(0, epochs, epoch, ((p, zeros, zeros, 0.0), jnp.zeros(epochs)))
        last = jax_models.forward(p, X, hidden, output)
        return jax_models.loss(p, X, Y, hidden, output), losses, first, last

    X, Y = jnp.asarray(X), jnp.asarray(Y)
    p = {k: jnp.asarray(v) for k, v in params.items()}
    key = jax.random.PRNGKey(0)
    return lambda: float(jax.block_until_ready(run(p, key))[0])


def _torch(net, params, X, Y, batch, epochs):
    import torch

    p = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}
    Xt, Yt = torch.tensor(X), torch.tensor(Y)
    L, m = net.n_layers, X.shape[0]
    gen = torch.Generator().manual_seed(0)

    def loss_fn(xb, yb):
        a = xb
        for l in range(1, L):
            h = a @ p[f"W{l}"] + p[f"b{l}"]
            a = h * torch.sigmoid(p[f"beta{l}"] * h)
        z = p[f"beta{L}"] * (a @ p[f"W{L}"] + p[f"b{L}"])
        if net.output == "sigmoid":
            return torch.nn.functional.binary_cross_entropy_with_logits(z, yb)
        return torch.nn.functional.cross_entropy(z, yb.argmax(dim=1))

    def call():
        opt = torch.optim.Adam(p.values(), lr=LR, betas=(0.9, 0.999), eps=1e-8)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda t: DECAY_RATE ** (t / DECAY_STEPS))
        for _ in range(epochs):
            perm = torch.randperm(m, generator=gen) if batch < m else torch.arange(m)
            for lo in range(0, m, batch):
                idx = perm[lo : lo + batch]
                opt.zero_grad()
                loss = loss_fn(Xt[idx], Yt[idx])
                loss.backward()
                opt.step()
                sched.step()
        return float(loss.detach())

    return call


def child(run, row):
    """In a fresh process: one untimed call (compiling), then one timed call; print the seconds per epoch
    (the GEMM runs: numpy's GFLOP/s)."""
    net, params, X, Y, batch, epochs = _problem(row)
    if run.startswith("gemm"):
        print(json.dumps({"value": gemm_rate(net, batch)}))
        return
    if run == "torch":
        epochs = max(1, epochs // TORCH_SHARE)
    call = {"meanfield": _meanfield, "meanfield-1thread": _meanfield, "jax": _jax, "torch": _torch}[run](
        net, params, X, Y, batch, epochs)
    call()
    t0 = time.perf_counter()
    call()
    print(json.dumps({"value": (time.perf_counter() - t0) / epochs}))


def _measure(run, row):
    env = dict(os.environ)
    if run.endswith("-1thread"):
        env.update(NUMBA_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    code = (f"import sys; sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r}); "
            f"import bench_train; bench_train.child({run!r}, {row!r})")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{run} {row} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])["value"]


def gemm_rate(net, batch, calls=20):
    """numpy float64 matmul GFLOP/s on one training step's products at this batch (all layers)."""
    rng = np.random.default_rng(0)
    mats = []
    for n_in, n_out in zip(net.sizes, net.sizes[1:]):
        a, w, d = rng.standard_normal((batch, n_in)), rng.standard_normal((n_in, n_out)), rng.standard_normal((batch, n_out))
        mats.append((a, w, d))

    def step():
        for a, w, d in mats:
            a @ w
            a.T @ d
            d @ w.T

    step()
    times = []
    for _ in range(calls):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    flops = 2 * 3 * batch * sum(n_in * n_out for n_in, n_out in zip(net.sizes, net.sizes[1:]))
    return flops / statistics.median(times) / 1e9


def _available(run):
    if run.startswith(("meanfield", "gemm")):
        return True
    try:
        __import__(run)
        return True
    except ImportError:
        return False


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="fresh processes per (row, framework); the median is shown")
    parser.add_argument("--rows", nargs="+", default=list(LADDER), choices=list(LADDER))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error(f"--repeat must be >= 1, got {args.repeat}")
    runs = [r for r in RUNS if _available(r)]
    times = {(row, run): [] for row in args.rows for run in runs}
    load = [os.getloadavg()[0]]
    for _ in range(args.repeat):  # rounds interleave the frameworks, so load changes hit all of them
        for row in args.rows:
            for run in runs:
                times[(row, run)].append(_measure(run, row))
                print(f"{row} {run}: {times[(row, run)][-1]:.4g}", file=sys.stderr, flush=True)
        load.append(os.getloadavg()[0])
    rows = []
    timed = [r for r in runs if not r.startswith("gemm")]
    for row in args.rows:
        net, _, X, _, batch, _ = _problem(row)
        flops = 2 * net.flops(X.shape[0], True)  # per epoch: the training steps' products
        ours = statistics.median(times[(row, "meanfield")])
        r = {"row": row, "samples": int(X.shape[0]), "batch": batch,
             "gemm_limit_gflops": statistics.median(times[(row, "gemm")]),
             "gemm_1thread_gflops": statistics.median(times[(row, "gemm-1thread")])}
        for run in timed:
            t = times[(row, run)]
            r[f"{run}_ms"] = 1e3 * statistics.median(t)
            r[f"{run}_gflops"] = flops / statistics.median(t) / 1e9
            r[f"{run}_spread"] = (max(t) - min(t)) / statistics.median(t)
            r[f"{run}_over_meanfield"] = statistics.median(t) / ours
        rows.append(r)
    if args.json:
        print(json.dumps({"rows": rows, "repeat": args.repeat, "load_average": load}, indent=2))
        return
    print(f"ms per epoch, median of {args.repeat} fresh processes; {os.cpu_count()} cores, "
          f"1-min load average during the run {min(load):.1f}-{max(load):.1f}")
    head = (f"{'net/batch':<19} {'m':>5} {'meanfield':>9} {'1 thread':>9} {'1t/mf':>6} {'GFLOP/s':>7} "
            f"{'GEMM':>6} {'GEMM 1t':>7}")
    for run in timed[2:]:
        head += f" {run:>8} {run + '/mf':>9}"
    head += " spread(mf)"
    print(head)
    for r in rows:
        line = (f"{r['row']:<19} {r['samples']:>5} {r['meanfield_ms']:>9.3f} {r['meanfield-1thread_ms']:>9.3f} "
                f"{r['meanfield-1thread_over_meanfield']:>6.2f} {r['meanfield_gflops']:>7.1f} "
                f"{r['gemm_limit_gflops']:>6.1f} {r['gemm_1thread_gflops']:>7.1f}")
        for run in timed[2:]:
            line += f" {r[run + '_ms']:>8.3f} {r[run + '_over_meanfield']:>9.2f}"
        line += f" {100 * r['meanfield_spread']:>9.0f}%"
        print(line)
    for run in RUNS:
        if run not in runs:
            print(f"{run}: skipped (not installed)")

if __name__ == "__main__":
    main()
