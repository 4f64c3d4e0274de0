"""`meanfield sweep`: the paper's robustness claim measured over a grid of runs.

A grid of (architecture, activation, seed, beta initialization) runs is
trained on one task; each run gives a row (final loss, accuracies, Hessian
indices alpha and gamma at the end). Runs execute in a local process pool or
on a Dask cluster; each run computes with one numba thread and a seed spawned
from one root ``SeedSequence`` by its seed index, so a row does not depend on
which executor or how many workers ran it. Finished rows are kept (one JSON
file per run, written atomically) and skipped when a sweep is resumed.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from numerics.runs import write_atomic

TIMING_COLUMNS = ("seconds",)


@dataclass(frozen=True)
class SweepConfig:
    data: str = "nonlinear"
    epochs: int = 2000
    lr: float = 0.01
    decay_rate: float = 0.9
    decay_steps: float = 500.0
    test_size: float = 0.2
    split_seed: int = 1
    root_seed: int = 0


@dataclass(frozen=True)
class Task:
    arch: str
    act: str
    seed: int  # index into SeedSequence(root_seed).spawn(...)
    beta_init: float | None

    @property
    def key(self) -> str:
        beta = "default" if self.beta_init is None else f"{self.beta_init:g}"
        return f"{self.arch}_{self.act}_beta-{beta}_seed-{self.seed}"


def grid(archs, acts, seeds: int, beta_inits=(None,)) -> list[Task]:
    """The tasks of the grid, in report order."""
    from numerics import ACTIVATIONS
    from numerics.network import parse_arch

    for a in archs:
        parse_arch(a)
    unknown = [a for a in acts if a not in ACTIVATIONS]
    if unknown:
        raise ValueError(f"--act: unknown activation(s) {', '.join(unknown)}; known: {', '.join(ACTIVATIONS)}")
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
        raise ValueError(f"--seeds must be an integer >= 1, got {seeds!r}")
    return [Task(a, act, s, b) for a, act, b, s in itertools.product(archs, acts, beta_inits, range(seeds))]


def run_task(task: Task, config: SweepConfig) -> dict:
    """Train one network and measure it; a pure function of (task, config)."""
    import numba

    import numerics
    from numerics import data as datasets
    from numerics.hessian import hessian
    from numerics.spectrum import all_indices, spectrum

    numba.set_num_threads(1)
    start = time.perf_counter()
    X, y = datasets.dataset(config.data, seed=config.root_seed)
    X_train, X_test, y_train, y_test = datasets.split(X, y, config.test_size, config.split_seed)
    net = numerics.Network.from_spec(task.arch, hidden=task.act, output="sigmoid", beta_init=task.beta_init)
    seed = np.random.SeedSequence(config.root_seed).spawn(task.seed + 1)[task.seed]
    result = numerics.train(net, X_train, y_train, config.epochs, lr=config.lr, decay_rate=config.decay_rate,
                            decay_steps=config.decay_steps, seed=seed, X_test=X_test, y_test=y_test)
    indices = all_indices(spectrum(hessian(net, result.params, X_train, y_train), vectors=False).eigenvalues)
    row = {
        "arch": task.arch,
        "act": task.act,
        "seed": task.seed,
        "beta_init": "default" if task.beta_init is None else task.beta_init,
        "final_loss": float(result.history["loss"][-1]),
        "train_accuracy": float(net.accuracy(result.params, X_train, y_train)),
        "test_accuracy": float(net.accuracy(result.params, X_test, y_test)),
    }
    for policy, value in indices["alpha"].items():
        row[f"alpha_{policy}"] = float(value)
    for policy, value in indices["gamma"].items():
        row[f"gamma_{policy}"] = float(value)
    row["seconds"] = round(time.perf_counter() - start, 3)
    return row


def _write_json_atomic(path: Path, obj) -> None:
    write_atomic(path, lambda f: f.write(json.dumps(obj, indent=1).encode()))


def _worker_init() -> None:
    os.environ["NUMBA_NUM_THREADS"] = "1"


def _connect(scheduler: str, workers: int):
    """A Dask client: ``local-dask`` starts a LocalCluster, anything else is a scheduler address."""
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as exc:
        raise ValueError("--scheduler needs Dask: pip install 'meanfield[dask]'") from exc
    if scheduler == "local-dask":
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
        return Client(cluster), cluster
    try:
        return Client(scheduler, timeout="10s"), None
    except (OSError, TimeoutError) as exc:
        raise ValueError(f"--scheduler {scheduler!r} is not reachable: {exc}") from None


def sweep(tasks: list[Task], config: SweepConfig, out, scheduler: str | None = None, workers: int | None = None,
          progress=None) -> list[dict]:
    """Run every task not already done in ``out/rows``; return all rows in grid order."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {str(out)!r} is a file; give a directory")
    rows_dir = out / "rows"
    rows_dir.mkdir(parents=True, exist_ok=True)
    config_path = out / "sweep.json"
    if config_path.exists():
        previous = json.loads(config_path.read_text())
        if previous != asdict(config):
            raise ValueError(f"{config_path} was made with other settings ({previous}); use another --out")
    else:
        _write_json_atomic(config_path, asdict(config))
    pending = [t for t in tasks if not (rows_dir / f"{t.key}.json").exists()]
    workers = workers or os.cpu_count() or 1
    report = progress or (lambda done, total: None)
    done = len(tasks) - len(pending)
    report(done, len(tasks))
    if pending:
        if scheduler:
            client, cluster = _connect(scheduler, workers)
            try:
                from dask.distributed import as_completed as dask_completed

                futures = {client.submit(run_task, t, config, pure=False): t for t in pending}
                for fut in dask_completed(futures):
                    _write_json_atomic(rows_dir / f"{futures[fut].key}.json", fut.result())
                    done += 1
                    report(done, len(tasks))
            finally:
                client.close()
                if cluster is not None:
                    cluster.close()
        else:
            with ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=_worker_init) as pool:
                futures = {pool.submit(run_task, t, config): t for t in pending}
                for fut in as_completed(futures):
                    _write_json_atomic(rows_dir / f"{futures[fut].key}.json", fut.result())
                    done += 1
                    report(done, len(tasks))
    rows = [json.loads((rows_dir / f"{t.key}.json").read_text()) for t in tasks]
    write_table(rows, out / "sweep.csv")
    plot(rows, out / "sweep.png")
    return rows


def write_table(rows: list[dict], path: Path) -> None:
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    write_atomic(path, lambda f: f.write(text.getvalue().encode()))


def plot(rows: list[dict], path: Path) -> None:
    """Final training loss of every run, per activation, one column per architecture."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from meanfield.reproduce import STYLE

    archs = list(dict.fromkeys(r["arch"] for r in rows))
    acts = list(dict.fromkeys(r["act"] for r in rows))
    with plt.style.context(str(STYLE)):
        fig, ax = plt.subplots(figsize=(max(5.0, 1.8 * len(archs) * max(1, len(acts)) / 2), 4))
        width = 0.8 / len(acts)
        for j, act in enumerate(acts):
            for i, arch in enumerate(archs):
                losses = [r["final_loss"] for r in rows if r["arch"] == arch and r["act"] == act]
                xs = np.full(len(losses), i + (j - (len(acts) - 1) / 2) * width)
                ax.scatter(xs, losses, s=18, color=f"C{j}", label=act if i == 0 else None, alpha=0.8)
                if losses:
                    ax.hlines(np.median(losses), xs[0] - width / 3, xs[0] + width / 3, color=f"C{j}")
        ax.set_xticks(range(len(archs)), archs)
        ax.set_yscale("log")
        ax.set(xlabel="architecture", ylabel="final training loss (BCE)", title="spread of the final loss over seeds")
        ax.legend(title="activation")
        fig.savefig(path)
        plt.close(fig)
