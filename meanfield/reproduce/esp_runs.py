"""The training runs behind every ESP stage: trained once, cached, analysed by each stage.

A run is (task, architecture, activation, seed) trained with the paper's
schedule (Adam, lr 0.01 decayed by 0.9 every 500 updates, full batch;
Milletari et al., arXiv:1805.08786, Sec. 3). Within a seed the three
activations start from the same W and b (Glorot uniform, zero biases: the
ESP network's initialization); ESP's beta starts at N(0, 0.004^2) and is
trained, ReLU and sigmoid keep beta = 1. At every checkpoint the run stores
the parameters, the exact Hessian spectrum of the training loss over the
trainable parameters, alpha and gamma under the three zero policies, and the
fraction of training residuals |y_hat - y| <= 0.01.

Runs are cached in ``OUT/.esp-runs/`` under a key of everything that made
them (data hash, configuration, seed, schedule, package version); a file
whose stored key differs from the requested one is recomputed, never trusted.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from meanfield import __version__

SCHEDULE = {"lr": 0.01, "decay_rate": 0.9, "decay_steps": 500}
ACTS = ("esp", "relu", "sigmoid")
SPLIT_SEED = 1  # the authors' train_test_split(..., random_state=1)
# task: (file, test fraction of the authors' split, the paper's epochs, checkpoint spacing)
TASKS = {"linear": ("Lindata.mat", 0.25, 1000, 10), "nonlinear": ("NLdata.mat", 0.2, 2500, 25)}
CONFIGS = tuple((task, arch) for arch in ("2-10-1", "2-8-2-1") for task in TASKS)  # the paper's 2x2 panels
CACHE = ".esp-runs"
POLICIES = ("exact", "relative", "absolute")


def packaged(name: str):
    """A file shipped in meanfield/data/esp (the paper's data sets and the authors' stored results)."""
    return resources.files("meanfield").joinpath("data/esp").joinpath(name)


def n_seeds(ctx) -> int:
    return 5 if ctx.quick else 10


def seed_of(ctx, index: int) -> np.random.SeedSequence:
    """Child ``index`` of the root seed (the same child however many are spawned)."""
    return np.random.SeedSequence(ctx.seed).spawn(index + 1)[index]


@dataclass(frozen=True)
class TaskData:
    X: np.ndarray
    Xt: np.ndarray
    y: np.ndarray
    yt: np.ndarray
    source: str
    digest: str


def task_data(ctx, task: str) -> TaskData:
    """The paper's task (packaged, or from ``--data-dir``), or its synthetic twin with ``--synthetic``, split as the authors did."""
    from numerics.mlp import data

    file, test_size, _, _ = TASKS[task]
    if getattr(ctx, "synthetic", False):
        X, y = data.synthetic(task, seed=ctx.seed)
        source = f"built-in synthetic '{task}' twin (seed {ctx.seed}), not the paper's data"
    elif ctx.data_dir is not None:
        X, y = data.load(Path(ctx.data_dir) / file)
        source = f"paper data {file} from {ctx.data_dir}"
    else:
        with resources.as_file(packaged(file)) as path:
            X, y = data.load(path)
        source = f"paper data {file} (shipped with meanfield)"
    digest = hashlib.sha256(np.ascontiguousarray(X).tobytes() + np.ascontiguousarray(y).tobytes()).hexdigest()
    return TaskData(*data.split(X, y, test_size, SPLIT_SEED), source, digest)


def digits_data() -> TaskData:
    """scikit-learn's 8x8 digits split 1437/360 (random_state=1): the authors' "MNIST" set."""
    from numerics.mlp import data

    X, y = data.digits()
    digest = hashlib.sha256(X.tobytes() + y.tobytes()).hexdigest()
    return TaskData(*data.split(X, y, 360, SPLIT_SEED), "scikit-learn 8x8 digits, 1437 train / 360 test", digest)


def shared_init(arch: str, act: str, seed: np.random.SeedSequence, output: str = "sigmoid") -> dict:
    """Initial parameters of ``act``: W and b of the ESP network's initialization, beta of ``act``'s own defaults."""
    import numerics

    esp = numerics.Network.from_spec(arch, hidden="esp", output=output).init(seed)
    net = numerics.Network.from_spec(arch, hidden=act, output=output)
    params = net.init(seed)
    params.update({k: v for k, v in esp.items() if not k.startswith("beta")})
    if act == "esp":
        params = esp
    return params


@dataclass
class Run:
    """One trained run and its analysis at every checkpoint (arrays over checkpoints)."""

    arch: str
    act: str
    output: str
    loss: np.ndarray  # training loss at the start of every epoch, and at the end
    epoch: np.ndarray  # checkpoint epochs
    theta: np.ndarray  # packed parameters at each checkpoint
    eigenvalues: np.ndarray  # (checkpoints, P), ascending; empty when not analysed
    alpha: np.ndarray  # (policies, checkpoints)
    gamma: np.ndarray
    zero_residuals: np.ndarray  # (checkpoints,)
    record_epoch: np.ndarray
    test_accuracy: np.ndarray  # at record_epoch
    train_accuracy: float
    final_test_accuracy: float

    @property
    def net(self):
        import numerics

        return numerics.Network.from_spec(self.arch, hidden=self.act, output=self.output)

    def params(self, i: int) -> dict:
        return self.net.unpack(self.theta[i])

    def loss_at_checkpoints(self) -> np.ndarray:
        return self.loss[np.minimum(self.epoch, len(self.loss) - 1)]


SPREADS = {
    "range": ("λ_max − λ_min", lambda lam: lam[..., -1] - lam[..., 0]),
    "bulk": ("interquartile range of the eigenvalues", lambda lam: np.subtract(*np.percentile(lam, [75, 25], axis=-1))),
}


def spread(run: Run, kind: str) -> np.ndarray:
    """Spread of the Hessian spectrum at every checkpoint: its full range, or the width of its bulk (middle half)."""
    return SPREADS[kind][1](run.eigenvalues)


def _key(**parts) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def get_run(ctx, data: TaskData, arch: str, act: str, seed_index: int, epochs: int, every: int,
            output: str = "sigmoid", analyse: bool = True) -> Run:
    """The run from the cache, or trained (and analysed) now and cached."""
    seed = seed_of(ctx, seed_index)
    key = _key(data=data.digest, arch=arch, act=act, output=output, root_seed=ctx.seed, seed_index=seed_index,
               epochs=epochs, every=every, schedule=SCHEDULE, analyse=analyse, version=__version__, init="shared-esp-W-b")
    cache = ctx.shared_dir(CACHE)
    path = cache / f"{arch}_{act}_{output}_s{seed_index}_{key[:16]}.npz"
    if path.is_file():
        try:
            with np.load(path, allow_pickle=False) as z:
                if str(z["key"]) == key:
                    return _from_arrays(arch, act, output, z)
        except (OSError, ValueError, KeyError):
            pass  # unreadable or foreign: recompute
    run = _one_thread(_train, data, arch, act, seed, epochs, every, output, analyse)
    _save_atomic(path, key, run)
    return run


def _one_thread(fn, *args):
    """Run ``fn`` with one numba thread: these networks are so small that waking threads costs more than it
    saves (on a loaded 2-core machine a 2500-epoch run took 3-9 s with two threads, 0.3-0.6 s with one)."""
    import numba

    before = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        return fn(*args)
    finally:
        numba.set_num_threads(before)


def _train(data: TaskData, arch, act, seed, epochs, every, output, analyse) -> Run:
    import numerics
    from numerics.mlp import hessian, spectrum

    net = numerics.Network.from_spec(arch, hidden=act, output=output)
    params = shared_init(arch, act, seed, output)
    result = numerics.mlp.train(net, data.X, data.y, epochs, seed=seed, params=params, X_test=data.Xt, y_test=data.yt,
                            checkpoints=every, record=every, **SCHEDULE)
    hist = result.history
    epoch = np.asarray(hist["checkpoint_epoch"], dtype=np.int64)
    theta = np.asarray(hist["checkpoint_theta"])
    n = len(epoch)
    eig = np.zeros((n, net.n_params if analyse else 0))
    alpha = np.zeros((len(POLICIES), n))
    gamma = np.zeros((len(POLICIES), n))
    zero_res = np.zeros(n)
    targets = net.targets(data.X, data.y)[1]
    for i in range(n):
        p = net.unpack(theta[i])
        zero_res[i] = spectrum.residual_fraction(net.predict(p, data.X) - targets)
        if analyse:
            eig[i] = spectrum.spectrum(hessian.hessian(net, p, data.X, data.y), vectors=False).eigenvalues
            ind = spectrum.all_indices(eig[i])
            alpha[:, i] = [ind["alpha"][q] for q in POLICIES]
            gamma[:, i] = [ind["gamma"][q] for q in POLICIES]
    return Run(arch, act, output, np.asarray(hist["loss"]), epoch, theta, eig, alpha, gamma, zero_res,
               np.asarray(hist["epoch"], dtype=np.int64), np.asarray(hist["test_accuracy"]),
               float(net.accuracy(result.params, data.X, data.y)), float(net.accuracy(result.params, data.Xt, data.yt)))


_FIELDS = ("loss", "epoch", "theta", "eigenvalues", "alpha", "gamma", "zero_residuals", "record_epoch", "test_accuracy",
           "train_accuracy", "final_test_accuracy")


def _save_atomic(path: Path, key: str, run: Run) -> None:
    tmp = path.with_name(f".{path.name}.partial")
    with open(tmp, "wb") as fh:
        np.savez(fh, key=np.array(key), **{f: np.asarray(getattr(run, f)) for f in _FIELDS})
    tmp.replace(path)


def _from_arrays(arch, act, output, z) -> Run:
    values = {f: z[f] for f in _FIELDS}
    values["train_accuracy"] = float(values["train_accuracy"])
    values["final_test_accuracy"] = float(values["final_test_accuracy"])
    return Run(arch, act, output, **values)


def runs_of(ctx, task: str, arch: str, data: TaskData | None = None) -> dict[str, list[Run]]:
    """All seeds of the three activations of one panel: {act: [Run per seed]}."""
    data = task_data(ctx, task) if data is None else data
    _, _, epochs, every = TASKS[task]
    out = {}
    for act in ACTS:
        out[act] = []
        for s in range(n_seeds(ctx)):
            ctx.progress(f"{task} {arch} {act} seed {s}")
            out[act].append(get_run(ctx, data, arch, act, s, epochs, every))
    return out


def quartiles(values) -> tuple[float, float, float]:
    """(25th percentile, median, 75th percentile)."""
    q = np.percentile(np.asarray(values, dtype=np.float64), [25, 50, 75], axis=0)
    return float(q[0]), float(q[1]), float(q[2])


def fmt_q(values, digits: int = 3) -> str:
    """'median [Q1, Q3]' over seeds."""
    lo, med, hi = quartiles(values)
    return f"{med:.{digits}g} [{lo:.{digits}g}, {hi:.{digits}g}]"


def authors(key: str) -> np.ndarray:
    """The authors' stored array, e.g. ``authors("nonlinear_2-8-2-1_relu_zeros")`` (cost, accuracy, index, zeros)."""
    with packaged("authors.npz").open("rb") as fh, np.load(fh, allow_pickle=False) as z:
        return np.array(z[key])
