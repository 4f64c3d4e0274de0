"""Throughput of the generated activation kernels on 10^6 float64 elements.

Compares, in one run, meanfield's kernels (serial and threaded) with the
equivalent numpy/scipy expression, JAX (jit, float64) and PyTorch (float64)
where installed. Prints seconds (best of N) and the ratio to numpy.

    python benchmarks/bench_activations.py [--n 1000000] [--repeat 30]
"""

from __future__ import annotations

import argparse
import time

import numba
import numpy as np
from scipy.special import expit

import numerics


def best_of(fn, repeat):
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    h = rng.normal(0.0, 3.0, args.n)
    beta = rng.uniform(0.5, 2.0, args.n)
    esp = numerics.activation("esp")

    cases = {
        "ESP value": {
            "numpy/scipy": lambda: h * expit(beta * h),
            "meanfield": lambda: esp.value(h, beta),
        },
        "ESP d/dh": {
            "numpy/scipy": lambda: (lambda s: s * (1 + beta * h * (1 - s)))(expit(beta * h)),
            "meanfield": lambda: esp.d_h(h, beta),
        },
    }
    try:
        import jax

        jax.config.update("jax_enable_x64", True)
        jh, jb = jax.numpy.asarray(h), jax.numpy.asarray(beta)
        value = jax.jit(lambda a, b: a * jax.nn.sigmoid(b * a))
        grad = jax.jit(jax.vmap(jax.grad(lambda a, b: a * jax.nn.sigmoid(b * a))))
        cases["ESP value"]["JAX jit"] = lambda: value(jh, jb).block_until_ready()
        cases["ESP d/dh"]["JAX jit"] = lambda: grad(jh, jb).block_until_ready()
    except ImportError:
        print("JAX not installed: skipped")
    try:
        import torch

        th, tb = torch.from_numpy(h), torch.from_numpy(beta)

        def torch_grad():
            x = th.clone().requires_grad_(True)
            (x * torch.sigmoid(tb * x)).sum().backward()
            return x.grad

        cases["ESP value"]["PyTorch"] = lambda: th * torch.sigmoid(tb * th)
        cases["ESP d/dh"]["PyTorch"] = torch_grad
    except ImportError:
        print("PyTorch not installed: skipped")

    threads = numba.get_num_threads()
    print(f"n = {args.n}, best of {args.repeat}, numba threads available: {threads}")
    print(f"{'kernel':<10} {'implementation':<24} {'seconds':>10} {'numpy / this':>13}")
    for kernel, impls in cases.items():
        base = best_of(impls["numpy/scipy"], args.repeat)
        rows = [("numpy/scipy", base)]
        for name, fn in impls.items():
            if name == "meanfield":
                for n_threads in sorted({1, threads}):
                    numba.set_num_threads(n_threads)
                    rows.append((f"meanfield ({n_threads} thread{'s' if n_threads > 1 else ''})", best_of(fn, args.repeat)))
                numba.set_num_threads(threads)
            elif name != "numpy/scipy":
                rows.append((name, best_of(fn, args.repeat)))
        for name, t in rows:
            print(f"{kernel:<10} {name:<24} {t:>10.5f} {base / t:>13.2f}")


if __name__ == "__main__":
    main()
