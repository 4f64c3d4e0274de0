"""`meanfield sweep`: the paper's robustness claim measured over a grid of runs.

A grid of (architecture, activation, seed, beta initialization) runs is
trained on one task; each run gives a row (final loss, accuracies, Hessian
indices alpha and gamma at the end). Runs execute in a local process pool or
on a Dask cluster; each run computes with one numba thread and a seed spawned
from one root ``SeedSequence`` by its seed index, so a row does not depend on
which executor or how many workers ran it. Finished rows are kept (one JSON
file per run, written atomically) and skipped when a sweep is resumed. A run
whose loss diverges is a row with ``status`` "diverged"; the sweep goes on.
The output directory is owned and locked (:mod:`meanfield.outdir`).
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from meanfield.outdir import OutDir
from numerics.files import write_atomic

TIMING_COLUMNS = ("seconds",)
KIND = "meanfield sweep"
CONNECT_SECONDS = 10.0


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
    activations: tuple = ()  # (name, expression) of each registered activation swept, so any worker can redo the runs


@dataclass(frozen=True)
class Task:
    arch: str
    act: str
    seed: int  # index into SeedSequence(root_seed).spawn(...)
    beta_init: float | None

    @property
    def key(self) -> str:
        """A file name unique to the task: ``repr`` keeps every float's shortest round-trip digits."""
        beta = "default" if self.beta_init is None else repr(float(self.beta_init))
        return f"{self.arch}_{self.act}_beta-{beta}_seed-{self.seed}"


MAX_RUNS = 1_000_000


def grid(archs, acts, seeds: int, beta_inits=(None,)) -> list[Task]:
    """The tasks of the grid, in report order; each list without repeats, at most ``MAX_RUNS`` runs in all."""
    from numerics import ACTIVATIONS, validate
    from numerics.mlp.network import parse_arch

    for a in archs:
        parse_arch(a)
    unknown = [a for a in acts if a not in ACTIVATIONS]
    if unknown:
        raise ValueError(f"--act: unknown activation(s) {', '.join(unknown)}; known: {', '.join(ACTIVATIONS)}")
    seeds = validate.integer("--seeds", seeds, low=1)
    for b in beta_inits:
        validate.optional(validate.real, "--beta-init values", b, expected="finite numbers (or 'default')")
    for option, values in (("--arch", archs), ("--act", acts), ("--beta-init", beta_inits)):
        repeated = [v for i, v in enumerate(values) if v in values[:i]]
        if repeated:
            raise ValueError(f"{option} lists {'default' if repeated[0] is None else repeated[0]!r} twice; give each value once")
    n = len(archs) * len(acts) * len(beta_inits) * seeds
    if n > MAX_RUNS:
        raise ValueError(f"--seeds {seeds} makes a grid of {n} runs, more than the limit of {MAX_RUNS}; choose fewer")
    return [Task(a, act, s, b) for a, act, b, s in itertools.product(archs, acts, beta_inits, range(seeds))]


def check_work(tasks: list[Task], config: SweepConfig, n_samples: int) -> None:
    """Refuse a sweep whose total work (training about 6 m P per epoch, a dense Hessian about m P^2 + 10 P^3
    per run) or whose largest Hessian exceeds the limits, naming the grid's size; nothing is allocated."""
    from numerics.mlp.network import parse_arch
    from numerics.validate import check_size

    work, largest = 0.0, 0
    for arch in dict.fromkeys(t.arch for t in tasks):
        sizes = parse_arch(arch)
        P = sum((a + 2) * b for a, b in itertools.pairwise(sizes))
        runs = sum(t.arch == arch for t in tasks)
        work += runs * (6.0 * config.epochs * n_samples * P + float(n_samples) * P * P + 10.0 * float(P) ** 3)
        largest = max(largest, P)
    check_size(f"a sweep of {len(tasks)} runs (--seeds x --arch x --act x --beta-init) of {config.epochs} epochs",
               8.0 * (3 * float(largest) ** 2 + 2048 * len(tasks)), work)


def run_task(task: Task, config: SweepConfig) -> dict:
    """Train one network and measure it; a pure function of (task, config)."""
    import numba

    import numerics
    from numerics.mlp import data as datasets
    from numerics.mlp.hessian import hessian
    from numerics.mlp.spectrum import all_indices, spectrum
    from numerics.mlp.train import TrainingDiverged

    numba.set_num_threads(1)
    if config.activations:  # a worker on another machine (Dask) or a fresh process has not seen the registration
        from numerics.kernels.activations import register_recorded

        register_recorded(dict(config.activations))
    start = time.perf_counter()
    X, y = datasets.dataset(config.data, seed=config.root_seed)
    X_train, X_test, y_train, y_test = datasets.split(X, y, config.test_size, config.split_seed)
    net = numerics.Network.from_spec(task.arch, hidden=task.act, output="sigmoid", beta_init=task.beta_init)
    seed = np.random.SeedSequence(config.root_seed).spawn(task.seed + 1)[task.seed]
    row = {
        "arch": task.arch,
        "act": task.act,
        "seed": task.seed,
        "beta_init": "default" if task.beta_init is None else task.beta_init,
    }
    try:
        result = numerics.mlp.train(net, X_train, y_train, config.epochs, lr=config.lr, decay_rate=config.decay_rate,
                                decay_steps=config.decay_steps, seed=seed, X_test=X_test, y_test=y_test)
    except TrainingDiverged as exc:  # a row of its own, so one diverging run does not stop the sweep
        row.update(status="diverged", diverged_at_epoch=int(exc.epoch), seconds=round(time.perf_counter() - start, 3))
        return row
    indices = all_indices(spectrum(hessian(net, result.params, X_train, y_train), vectors=False).eigenvalues)
    row.update({
        "status": "ok",
        "final_loss": float(result.history["loss"][-1]),
        "train_accuracy": float(net.accuracy(result.params, X_train, y_train)),
        "test_accuracy": float(net.accuracy(result.params, X_test, y_test)),
    })
    for policy, value in indices["alpha"].items():
        row[f"alpha_{policy}"] = float(value)
    for policy, value in indices["gamma"].items():
        row[f"gamma_{policy}"] = float(value)
    row["seconds"] = round(time.perf_counter() - start, 3)
    return row


def _worker_init() -> None:
    """One numba thread per worker process (the workers share the cores). Set through numba, not the
    NUMBA_NUM_THREADS variable: numba is imported by then, and a changed variable makes its next compilation
    (a cold cache) fail."""
    import numba

    numba.set_num_threads(1)


def _connect(scheduler: str, workers: int, scratch: str):
    """A Dask client: ``local-dask`` starts a LocalCluster (its files in ``scratch``), anything else is a scheduler
    address, given at most ``CONNECT_SECONDS`` to answer as a Dask scheduler."""
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as exc:
        raise ValueError("--scheduler needs Dask: pip install 'meanfield[dask]'") from exc
    if scheduler == "local-dask":
        import dask

        with dask.config.set({"temporary-directory": scratch}):  # lock files too, not the system's temp root
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                                   local_directory=scratch)
        return Client(cluster), cluster
    outcome = {}

    def connect():  # in a thread: a service that is not a Dask scheduler may never answer, or answer nonsense
        try:
            outcome["client"] = Client(scheduler, timeout=f"{CONNECT_SECONDS - 2}s")
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=connect, daemon=True)
    thread.start()
    thread.join(CONNECT_SECONDS - 1)
    if "client" in outcome:
        return outcome["client"], None
    reason = outcome.get("error") or f"no Dask scheduler answered within {CONNECT_SECONDS:g} s"
    raise ValueError(f"--scheduler {scheduler!r} is not a reachable Dask scheduler: {str(reason)[:200] or type(reason).__name__}")


def _probe(scheduler: str) -> None:
    """Fail at once, naming the address, when nothing listens at a ``tcp://HOST:PORT`` scheduler address."""
    import socket

    address = scheduler.removeprefix("tcp://")
    if "://" in address:  # another protocol (tls, ucx, inproc): left to Dask
        return
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"--scheduler {scheduler!r} is not 'local-dask' or a Dask scheduler address tcp://HOST:PORT")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_SECONDS).close()
    except OSError as exc:
        raise ValueError(f"--scheduler {scheduler!r} is not reachable: {exc}") from None


def _read_row(path: Path) -> dict | None:
    """A finished row, or None when the file is missing or damaged (the run is done again)."""
    try:
        row = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return row if isinstance(row, dict) else None


def sweep(tasks: list[Task], config: SweepConfig, out, scheduler: str | None = None, workers: int | None = None,
          progress=None) -> list[dict]:
    """Run every task not already done in ``out/rows``; return all rows in grid order."""
    if scheduler is not None and scheduler != "local-dask":
        _probe(scheduler)
    with OutDir(out, KIND) as outdir:
        outdir.open()
        return _sweep(tasks, config, outdir, scheduler, workers, progress)


def _sweep(tasks, config, outdir: OutDir, scheduler, workers, progress) -> list[dict]:
    out = outdir.path
    rows_dir = outdir.mkdir("rows")
    config_path = out / "sweep.json"
    if outdir.owns(config_path.name) and config_path.exists():
        try:
            previous = json.loads(config_path.read_text())
        except (OSError, ValueError) as exc:
            raise ValueError(f"{str(config_path)!r} is damaged ({exc}); delete it to rerun the sweep in this directory") from None
        if previous != json.loads(json.dumps(asdict(config))):
            raise ValueError(f"{config_path} was made with other settings ({previous}); use another --out")
    else:
        outdir.write(config_path.name, json.dumps(asdict(config), indent=1))
    done_rows = {t.key: _read_row(rows_dir / f"{t.key}.json") for t in tasks}
    pending = [t for t in tasks if done_rows[t.key] is None]
    workers = workers or os.cpu_count() or 1
    report = progress or (lambda done, total: None)
    done = len(tasks) - len(pending)
    report(done, len(tasks))

    def finish(task, row):
        nonlocal done
        write_atomic(rows_dir / f"{task.key}.json", lambda f: f.write(json.dumps(row, indent=1).encode()))
        done_rows[task.key] = row
        done += 1
        report(done, len(tasks))

    if pending and scheduler:
        with tempfile.TemporaryDirectory(prefix="meanfield-dask-") as scratch:
            client, cluster = _connect(scheduler, workers, scratch)
            try:
                from dask.distributed import as_completed as dask_completed

                futures = {client.submit(run_task, t, config, pure=False): t for t in pending}
                for fut in dask_completed(futures):
                    finish(futures[fut], fut.result())
            finally:
                client.close()
                if cluster is not None:
                    cluster.close()
    elif pending:
        pool = ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=_worker_init)
        try:
            futures = {pool.submit(run_task, t, config): t for t in pending}
            for fut in as_completed(futures):
                finish(futures[fut], fut.result())
        finally:  # on Ctrl-C or an error: queued runs are dropped, finished rows are on disk
            pool.shutdown(wait=False, cancel_futures=True)
    rows = [done_rows[t.key] for t in tasks]
    outdir.write("sweep.csv", table(rows))
    outdir.write("sweep.png", lambda fh: plot(rows, fh))
    return rows


def table(rows: list[dict]) -> str:
    """The rows as CSV, columns in order of first appearance (a diverged row leaves its measurements empty)."""
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=list(dict.fromkeys(k for r in rows for k in r)))
    writer.writeheader()
    writer.writerows(rows)
    return text.getvalue()


def plot(rows: list[dict], fh) -> None:
    """Final training loss of every finished run, per activation, one column per architecture (PNG to ``fh``)."""
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
                losses = [r["final_loss"] for r in rows if r["arch"] == arch and r["act"] == act and r.get("status", "ok") == "ok"]
                xs = np.full(len(losses), i + (j - (len(acts) - 1) / 2) * width)
                ax.scatter(xs, losses, s=18, color=f"C{j}", label=act if i == 0 else None, alpha=0.8)
                if losses:
                    ax.hlines(np.median(losses), xs[0] - width / 3, xs[0] + width / 3, color=f"C{j}")
        ax.set_xticks(range(len(archs)), archs)
        if any(r.get("status", "ok") == "ok" for r in rows):
            ax.set_yscale("log")
        ax.set(xlabel="architecture", ylabel="final training loss (BCE)", title="spread of the final loss over seeds")
        ax.legend(title="activation")
        fig.savefig(fh, format="png")
        plt.close(fig)
