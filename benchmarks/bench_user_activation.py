"""A registered activation against the built-in ESP: registration, cached load, and training speed.

Registers GELU with an inverse temperature, phi = h Phi(beta h), in a fresh
cache directory and reports (1) the time of registration (derivation,
generation, compilation) in a fresh process, (2) the time to load it again
from the cache in another fresh process, and (3) seconds per epoch of
full-batch Adam training (every beta trainable) for 2-8-2-1 (690 points of
the `nonlinear` set) and 64-25-10 (the digits set), GELU-beta against ESP.
Each (problem, activation) trains in its own process, after a warm-up, for
--epochs epochs timed in --blocks blocks; a process reports the median block,
and the table the median over --repeat rounds (the two activations
interleaved), with the ratio GELU-beta / ESP.

    python benchmarks/bench_user_activation.py [--epochs 400] [--blocks 5] [--repeat 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

EXPR = "h*Phi(beta*h)"
PROBLEMS = ("2-8-2-1", "64-25-10")


def _child_register():
    t0 = time.perf_counter()
    import numerics

    t1 = time.perf_counter()
    numerics.register_activation("gelu_beta", EXPR, persist=True)
    print(json.dumps({"import": t1 - t0, "register": time.perf_counter() - t1}))


def _child_load():
    t0 = time.perf_counter()
    import numerics

    t1 = time.perf_counter()
    a = numerics.activation("gelu_beta")
    a.value(1.0, 1.0)
    print(json.dumps({"import": t1 - t0, "load": time.perf_counter() - t1}))


def _child_train(arch, act, epochs, blocks):
    import numpy as np

    import numerics
    from numerics.mlp import data

    if arch == "64-25-10":
        X, y = data.digits()
    else:
        X, y = data.synthetic("nonlinear", 690, seed=0)
    net = numerics.Network.from_spec(arch, hidden=act, train_beta=True)
    result = numerics.mlp.train(net, X, y, epochs=5, seed=1)  # compile and warm up
    params = result.params
    times = []
    for _ in range(blocks):
        t0 = time.perf_counter()
        result = numerics.mlp.train(net, X, y, epochs=epochs, seed=1, params=params)
        times.append((time.perf_counter() - t0) / epochs)
    print(json.dumps({"per_epoch": float(np.median(times))}))


def _run(args, env):
    out = subprocess.run([sys.executable, __file__, *args], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=400)
    p.add_argument("--blocks", type=int, default=5)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--json", action="store_true")
    p.add_argument("--child", nargs="*", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.child:
        kind, *rest = a.child
        if kind == "register":
            return _child_register()
        if kind == "load":
            return _child_load()
        return _child_train(rest[0], rest[1], int(rest[2]), int(rest[3]))
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, MEANFIELD_CACHE=cache, PYTHONPATH=root)
        reg = _run(["--child", "register"], env)
        loads = [_run(["--child", "load"], env) for _ in range(a.repeat)]
        rows = {}
        for arch in PROBLEMS:
            for _ in range(a.repeat):
                for act in ("esp", "gelu_beta"):
                    r = _run(["--child", "train", arch, act, str(a.epochs), str(a.blocks)], env)
                    rows.setdefault((arch, act), []).append(r["per_epoch"])
    result = {
        "register_s": reg["register"],
        "cached_load_s": statistics.median(x["load"] for x in loads),
        "import_s": statistics.median(x["import"] for x in loads),
        "train": {arch: {act: statistics.median(rows[arch, act]) for act in ("esp", "gelu_beta")} for arch in PROBLEMS},
    }
    if a.json:
        print(json.dumps(result, indent=2))
        return
    print(f"registration (derive, generate, compile), fresh cache: {result['register_s']:.1f} s")
    print(f"cached load (after `import numerics`, {result['import_s']:.1f} s): {result['cached_load_s']:.2f} s")
    print(f"{'problem':<10} {'ESP s/epoch':>12} {'GELU-beta s/epoch':>18} {'ratio':>6}")
    for arch in PROBLEMS:
        esp, gelu = result["train"][arch]["esp"], result["train"][arch]["gelu_beta"]
        print(f"{arch:<10} {esp:>12.3e} {gelu:>18.3e} {gelu / esp:>6.2f}")


if __name__ == "__main__":
    main()
