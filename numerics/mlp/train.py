"""Training an MLP: Adam or SGD with exponential learning-rate decay, full batch or mini-batches.

The epochs run inside numba (:func:`_run_epochs`); Python takes over only
between segments of epochs, to record metrics, take parameter snapshots,
report progress and honour a stop request. Segment lengths never change the
arithmetic, so a run stopped and resumed from a :class:`TrainState` ends
with bit-identical parameters.

Schedule (TensorFlow's ``exponential_decay``, not staircased): update t
(counted from 0) uses the rate ``lr * decay_rate**(t / decay_steps)``; the
paper uses lr = 0.01, decay_rate = 0.9, decay_steps = 500 with Adam
(Kingma & Ba 2015, Algorithm 1: beta1 = 0.9, beta2 = 0.999, eps = 1e-8).
"""

from __future__ import annotations

import json
import math
import signal
import threading
import time
from dataclasses import dataclass, field

import numba
import numpy as np
from numba import njit, prange

from numerics import validate
from numerics._numba import flush_stale_caches, machine_busy, using_blas_threads
from numerics.mlp import network
from numerics.mlp.network import GROUPS, PRODUCTS, SERIAL, Network, accuracy_of, batch_loss_grad, batch_loss_outputs, n_groups

OPTIMIZERS = ("adam", "sgd")
ADAM_B1, ADAM_B2, ADAM_EPS = 0.9, 0.999, 1e-8
SEGMENT_SECONDS = 0.2  # Python regains control about this often (progress, stop requests)
TIMED_CALLS = 5  # calls of each way (serial, parallel) timed, in turn, when a run chooses its thread use
PARALLEL_GAIN = 0.9  # the threads are used when measured at least 10% faster (a margin for a noisy machine)
UPDATE_SHARE = 1 << 15  # entries per thread's share of a parameter update (a run's update goes parallel above)


def trainable_runs(tidx) -> np.ndarray:
    """The sorted trainable indices ``tidx`` as (first, length) rows of consecutive runs (SIMD-friendly updates)."""
    breaks = np.flatnonzero(np.diff(tidx) != 1) + 1
    starts = np.concatenate(([0], breaks)).astype(np.int64)
    lengths = np.diff(np.concatenate((starts, [tidx.size]))).astype(np.int64)
    return np.stack([tidx[starts], lengths], axis=1) if tidx.size else np.zeros((0, 2), dtype=np.int64)


@njit(cache=True, error_model="numpy", inline="always")  # no per-division zero check: the loops vectorize
def _update(th, g, u, v, adam, rate, step, inv_c2, b1, b2, eps):
    """Adam (or SGD) on one stretch of trainable entries th, their gradient g and moments u, v."""
    if adam:
        for i in range(th.shape[0]):
            u[i] = b1 * u[i] + (1.0 - b1) * g[i]
            v[i] = b2 * v[i] + (1.0 - b2) * g[i] * g[i]
            th[i] -= step * u[i] / (math.sqrt(v[i] * inv_c2) + eps)
    else:
        for i in range(th.shape[0]):
            th[i] -= rate * g[i]


@njit(cache=True, parallel=True, error_model="numpy")
def _update_parallel(th, g, u, v, adam, rate, step, inv_c2, b1, b2, eps):
    """:func:`_update` in UPDATE_SHARE-entry shares over the numba threads (entrywise: the same bits)."""
    n = th.shape[0]
    for c in prange((n + UPDATE_SHARE - 1) // UPDATE_SHARE):
        lo, hi = c * UPDATE_SHARE, min(n, (c + 1) * UPDATE_SHARE)
        _update(th[lo:hi], g[lo:hi], u[lo:hi], v[lo:hi], adam, rate, step, inv_c2, b1, b2, eps)


@njit(cache=True, error_model="numpy")
def _apply_step(theta, runs, grad, m1, m2, t, adam, rate, b1, b2, eps, threads):
    """One update of the trainable entries of theta (the runs of :func:`trainable_runs`, moments m1, m2 in
    their order); t counts updates from 1 (Adam's bias correction). With ``threads``, runs of more than
    UPDATE_SHARE entries are shared over the numba threads."""
    step = rate / (1.0 - b1**t)  # rate / c1 and 1 / c2 of the bias corrections, once per step: one division
    inv_c2 = 1.0 / (1.0 - b2**t)  # and one square root per entry (235 -> 152 us at 101,770 entries)
    k = 0
    for r in range(runs.shape[0]):
        p0, n = runs[r, 0], runs[r, 1]
        th, g, u, v = theta[p0 : p0 + n], grad[p0 : p0 + n], m1[k : k + n], m2[k : k + n]
        if threads and n > UPDATE_SHARE:
            _update_parallel(th, g, u, v, adam, rate, step, inv_c2, b1, b2, eps)
        else:
            _update(th, g, u, v, adam, rate, step, inv_c2, b1, b2, eps)
        k += n


@njit(cache=True)
def _run_epochs(theta, runs, m1, m2, step, X, Y, order, batch, lay, out_kind, threads, adam, lr, decay_rate,
                decay_steps, b1, b2, eps, work, losses):
    """Train for ``losses.shape[0]`` epochs; ``losses[e]`` is epoch e's training loss (see :func:`train`).

    Full batch when ``batch >= m`` (``losses[e]``: the loss at the epoch's
    start), else the mini-batches of ``order[e]`` (a permutation per epoch;
    ``losses[e]``: the sample-weighted mean of its mini-batch losses, each at
    the parameters before its step). ``step[0]`` counts updates. Returns the
    number of epochs completed: fewer when a loss is not finite (that loss in
    ``losses[e]``, no step taken from it).
    """
    m = X.shape[0]
    full = batch >= m
    rows_all = np.arange(m)
    starts = 1 if full else (m + batch - 1) // batch
    for e in range(losses.shape[0]):
        loss = total = 0.0
        for s in range(starts):
            rows = rows_all if full else order[e, s * batch : min((s + 1) * batch, m)]
            loss = batch_loss_grad(theta, X, Y, rows, lay, out_kind, True, threads, work.sums, work.blocks, work.losses,
                                   work.grad)
            if not math.isfinite(loss):
                losses[e] = loss
                return e
            total += loss * rows.shape[0]
            rate = lr * decay_rate ** (step[0] / decay_steps)
            step[0] += 1
            _apply_step(theta, runs, work.grad, m1, m2, step[0], adam, rate, b1, b2, eps, threads != SERIAL)
        losses[e] = loss if full else total / m
    return losses.shape[0]


SOURCES = network.SOURCES + (__file__,)  # every file compiled into this module's kernels
flush_stale_caches(__name__, SOURCES)


@dataclass
class TrainState:
    """Everything needed to continue a run: parameters, optimizer moments, update count, shuffling RNG, history."""

    epoch: int
    step: int
    theta: np.ndarray  # all parameters, packed (Network.pack)
    m1: np.ndarray  # Adam moments of the trainable parameters
    m2: np.ndarray
    rng_state: dict  # numpy bit-generator state of the mini-batch shuffler
    history: dict = field(default_factory=dict)

    def copy(self) -> TrainState:
        return TrainState(self.epoch, self.step, self.theta.copy(), self.m1.copy(), self.m2.copy(),
                          json.loads(json.dumps(self.rng_state)), {k: list(v) for k, v in self.history.items()})

    def arrays(self) -> dict:
        """As flat arrays (for an .npz file); :meth:`from_arrays` inverts it."""
        out = {"epoch": np.int64(self.epoch), "step": np.int64(self.step), "theta": self.theta, "m1": self.m1,
               "m2": self.m2, "rng_state": np.array(json.dumps(self.rng_state))}
        out.update({f"history_{k}": np.asarray(v) for k, v in self.history.items()})
        return out

    @classmethod
    def from_arrays(cls, arrays) -> TrainState:
        history = {k[len("history_"):]: list(np.asarray(arrays[k])) for k in arrays if k.startswith("history_")}
        return cls(int(arrays["epoch"]), int(arrays["step"]), np.array(arrays["theta"], dtype=np.float64),
                   np.array(arrays["m1"], dtype=np.float64), np.array(arrays["m2"], dtype=np.float64),
                   json.loads(str(arrays["rng_state"])), history)


@dataclass
class TrainResult:
    """``params`` at the end (or at the stop), ``history`` as arrays, the resumable ``state``."""

    net: Network
    params: dict
    history: dict
    state: TrainState
    finished: bool
    seconds: float

    def checkpoint_params(self, i: int) -> dict:
        """The parameters of snapshot i (taken at epoch ``history['checkpoint_epoch'][i]``)."""
        return self.net.unpack(self.history["checkpoint_theta"][i])


class TrainingDiverged(FloatingPointError):
    """The training loss became non-finite; ``state`` is the last finite checkpoint."""

    def __init__(self, message: str, epoch: int, state: TrainState):
        super().__init__(message)
        self.epoch = epoch
        self.state = state

    def __reduce__(self):
        return type(self), (str(self), self.epoch, self.state)


class _Data:
    """Validated data with work arrays for loss and output evaluation."""

    def __init__(self, net: Network, X, y, name: str):
        try:
            self.X, self.Y = net.targets(X, y)
        except ValueError as exc:
            raise ValueError(f"{name}: {exc}") from None
        self.net = net
        self.m = self.X.shape[0]
        self.rows = np.arange(self.m, dtype=np.int64)
        self.work = net.workspace(self.m)

    def loss(self, theta) -> float:
        net = self.net
        return float(batch_loss_grad(theta, self.X, self.Y, self.rows, net.layout, net.out_kind, False, net.threads(self.m, False), *self.work))

    def outputs(self, theta) -> np.ndarray:
        """The outputs over the samples, by the pass of :meth:`loss_and_outputs`."""
        return self.loss_and_outputs(theta)[1]

    def loss_and_outputs(self, theta) -> tuple[float, np.ndarray]:
        """:meth:`loss` (the same sums) and :meth:`outputs` in one pass over the samples."""
        net, out = self.net, np.empty((self.m, self.net.sizes[-1]))
        loss = batch_loss_outputs(theta, self.X, self.Y, self.rows, net.layout, net.out_kind, net.threads(self.m, False),
                                  *self.work, out)
        return float(loss), out


_PLANS: dict = {}  # thread plans measured in this process, keyed on everything a step's cost depends on


def thread_plan(net: Network, theta, X, Y, batch: int, work) -> int:
    """How a run's steps use the numba threads (network.SERIAL, GROUPS or PRODUCTS), measured once per process
    for each (layer table, output, batch, thread count).

    With two threads or more and an idle core, the gradient of the first
    ``batch`` samples is timed TIMED_CALLS times each way that applies
    (serial; the groups over the threads when a step has two or more; the
    BLAS products' row chunks over the threads when a step is one group
    with chunked products), in turn, after one untimed call each; the
    fastest median wins when it is below PARALLEL_GAIN times the serial
    one. BLAS itself runs on one thread (measured on a shared 2-core
    machine, a second OpenBLAS thread made 784-wide epochs 2-5x slower, and
    its sums depend on its thread count). Every route sums in the same
    order, so the choice changes no result.
    """
    threads = numba.get_num_threads()
    if threads < 2 or machine_busy():
        return SERIAL
    ways = [SERIAL] + ([GROUPS] if n_groups(batch) > 1 else [PRODUCTS] if net.chunked(batch) else [])
    if len(ways) == 1:
        return SERIAL
    key = (net.layout.tobytes(), net.out_kind, batch, threads)
    if key not in _PLANS:
        _PLANS[key] = _fastest(net, theta, X, Y, batch, work, ways)
    return _PLANS[key]


def _fastest(net: Network, theta, X, Y, batch: int, work, ways) -> int:
    """The way of :func:`thread_plan` with the lowest median gradient time, if it beats serial by the margin."""
    rows = np.arange(batch, dtype=np.int64)
    times = {way: [] for way in ways}
    with using_blas_threads(1):
        for k in range(TIMED_CALLS + 1):
            for way in ways:
                t0 = time.perf_counter()
                batch_loss_grad(theta, X, Y, rows, net.layout, net.out_kind, True, way, *work)
                if k:
                    times[way].append(time.perf_counter() - t0)
    medians = {way: float(np.median(t)) for way, t in times.items()}
    best = min(medians, key=medians.get)
    return best if medians[best] < PARALLEL_GAIN * medians[SERIAL] else SERIAL


def _epochs_at(every, epochs: int, name: str) -> set:
    """Epochs 0, K, 2K, ... and the last, for ``every`` = K (None: only 0 and the last)."""
    if every is None:
        return {0, epochs}
    return set(range(0, epochs + 1, validate.integer(name, every, low=1, expected="a positive integer number of epochs"))) | {epochs}


@dataclass
class _Settings:
    """A run's validated arguments."""

    epochs: int
    rate: float
    decay: tuple  # (decay_rate, decay_steps); (1, 1) for a constant rate
    adam: bool
    batch: int
    train_data: _Data
    test_data: _Data | None
    record_at: set
    checkpoint_at: set


def _settings(net, X, y, epochs, lr, decay_rate, decay_steps, optimizer, batch_size, X_test, y_test, record,
              checkpoints) -> _Settings:
    epochs = validate.integer("epochs", epochs, low=0)
    positive = {"low": 0.0, "open_low": True, "expected": "a number > 0 and finite"}
    rate = validate.real("lr", lr, **positive)
    if (decay_rate is None) != (decay_steps is None):
        raise ValueError("decay_rate and decay_steps must be given together (or neither)")
    decay = (1.0, 1.0) if decay_rate is None else (validate.real("decay_rate", decay_rate, **positive),
                                                   validate.real("decay_steps", decay_steps, **positive))
    validate.choice("optimizer", optimizer, OPTIMIZERS)
    train_data = _Data(net, X, y, "training data")
    batch = validate.optional(validate.integer, "batch_size", batch_size, low=1,
                              expected="a positive integer (or None for full batch)")
    if (X_test is None) != (y_test is None):
        raise ValueError("X_test and y_test must be given together (or neither)")
    test_data = None if X_test is None else _Data(net, X_test, y_test, "test data")
    record_at = _epochs_at(max(1, epochs // 100) if record is None else record, epochs, "record")
    return _Settings(epochs, rate, decay, optimizer == "adam", train_data.m if batch is None else min(batch, train_data.m),
                     train_data, test_data, record_at, _epochs_at(checkpoints, epochs, "checkpoints"))


def _start(net: Network, seed, params, resume: TrainState | None, epochs: int):
    """(state, mini-batch shuffler) of a new run (from ``seed`` or ``params``) or of a resumed one."""
    seeds = (seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)).spawn(2)
    shuffler = np.random.Generator(np.random.PCG64(seeds[1]))
    if resume is None:
        theta = net.pack(net.init(seeds[0]) if params is None else params)
        zeros = np.zeros(net.n_params)
        return TrainState(0, 0, theta, zeros, zeros.copy(), shuffler.bit_generator.state, {}), shuffler
    state = resume.copy()
    if state.theta.shape != (net.n_full,) or state.m1.shape != (net.n_params,):
        raise ValueError(f"resume state does not belong to a {net.arch} network with these trainable parameters")
    if state.epoch > epochs:
        raise ValueError(f"resume state is at epoch {state.epoch}, beyond epochs={epochs}")
    shuffler.bit_generator.state = state.rng_state
    return state, shuffler


class _Recorder:
    """The history records (metrics at ``record_at``, snapshots at ``checkpoint_at``) of a run."""

    def __init__(self, net: Network, run: _Settings, hist: dict):
        self.net, self.run, self.hist = net, run, hist
        self.classify = net.output != "linear"
        keys = ("loss", "epoch", "checkpoint_epoch", "checkpoint_theta")
        keys += ("train_accuracy", "residuals") if self.classify else ("residuals",)
        if run.test_data is not None:
            keys += ("test_loss",) + (("test_accuracy",) if self.classify else ())
        for key in keys:
            hist.setdefault(key, [])

    def __call__(self, theta, epoch, outputs=None) -> bool:
        """Record what is due at ``epoch`` (once; ``outputs``: the training outputs at theta when known);
        whether a snapshot was taken."""
        hist, run, net = self.hist, self.run, self.net
        if epoch in run.record_at and (not hist["epoch"] or hist["epoch"][-1] < epoch):
            out = run.train_data.outputs(theta) if outputs is None else outputs
            hist["epoch"].append(epoch)
            hist["residuals"].append(out - run.train_data.Y)
            if self.classify:
                hist["train_accuracy"].append(accuracy_of(net.output, out, run.train_data.Y))
            if run.test_data is not None:
                hist["test_loss"].append(run.test_data.loss(theta))
                if self.classify:
                    hist["test_accuracy"].append(accuracy_of(net.output, run.test_data.outputs(theta), run.test_data.Y))
        if epoch in run.checkpoint_at and (not hist["checkpoint_epoch"] or hist["checkpoint_epoch"][-1] < epoch):
            hist["checkpoint_epoch"].append(epoch)
            hist["checkpoint_theta"].append(theta.copy())
            return True
        return False


def train(net: Network, X, y, epochs: int, lr: float = 0.01, decay_rate: float | None = None,
          decay_steps: float | None = None, optimizer: str = "adam", batch_size: int | None = None, seed=0,
          X_test=None, y_test=None, record: int | None = None, checkpoints: int | None = None,
          params: dict | None = None, resume: TrainState | None = None, on_checkpoint=None, progress=None,
          stop=None) -> TrainResult:
    """Train ``net`` for ``epochs`` epochs (in total, counting those of ``resume``).

    ``record=K``: train accuracy, residuals a_L - y on the training set, test
    loss and accuracy at epochs 0, K, 2K, ... and the last (default: about
    100 records). ``history['loss']`` has one entry per epoch and one more:
    entry e < epochs is epoch e's training loss (full batch: the mean loss
    over all samples at the parameters the epoch starts from; mini-batches:
    the sample-weighted mean of the epoch's mini-batch losses, each at the
    parameters before its step, as PyTorch and Keras report it), the last
    one the mean loss over all samples at the final parameters.
    ``checkpoints=K``: parameter snapshots at those epochs (default: first
    and last), each also passed to ``on_checkpoint(state)``.
    ``seed`` (int or SeedSequence) spawns the initialization (unless
    ``params`` is given) and the mini-batch shuffling. ``progress(epoch,
    epochs, loss)`` is called between segments; ``stop()`` returning True ends
    the run early with ``finished=False`` (its state passed to
    ``on_checkpoint``), to be continued with ``resume``.
    """
    if not isinstance(net, Network):
        raise TypeError(f"net must be a numerics.Network, got {type(net).__name__}")
    run = _settings(net, X, y, epochs, lr, decay_rate, decay_steps, optimizer, batch_size, X_test, y_test, record,
                    checkpoints)
    state, shuffler = _start(net, seed, params, resume, run.epochs)
    with using_blas_threads(1, net.uses_blas):  # BLAS on one thread for the run: the numba threads share the work
        return _loop(net, run, state, shuffler, on_checkpoint, progress, stop)


def _loop(net: Network, run: _Settings, state: TrainState, shuffler, on_checkpoint, progress, stop) -> TrainResult:
    """The epochs of :func:`train`, in segments of about SEGMENT_SECONDS between which Python records,
    checkpoints, reports progress and honours ``stop``."""
    hist, data, epochs, m = state.history, run.train_data, run.epochs, run.train_data.m
    observe = _Recorder(net, run, hist)
    work = net.workspace(run.batch)
    runs = trainable_runs(net.trainable_index)
    threads = thread_plan(net, state.theta, data.X, data.Y, run.batch, work) if state.epoch < epochs else SERIAL
    step = np.array([state.step], dtype=np.int64)
    stops = sorted(run.record_at | run.checkpoint_at)
    last_checkpoint = state.copy()
    started = time.perf_counter()
    segment = 1
    if observe(state.theta, state.epoch):
        last_checkpoint = state.copy()
        if on_checkpoint:
            on_checkpoint(last_checkpoint)
    while state.epoch < epochs:
        if stop is not None and stop():
            state.rng_state = shuffler.bit_generator.state
            if on_checkpoint:
                on_checkpoint(state.copy())
            break
        n = min(segment, min(e for e in stops if e > state.epoch) - state.epoch)
        order = np.stack([shuffler.permutation(m) for _ in range(n)]) if run.batch < m else np.zeros((1, 1), dtype=np.int64)
        losses = np.empty(n)
        t0 = time.perf_counter()
        done = _run_epochs(state.theta, runs, state.m1, state.m2, step, data.X, data.Y, order, run.batch, net.layout,
                           net.out_kind, threads, run.adam, run.rate, run.decay[0], run.decay[1], ADAM_B1, ADAM_B2,
                           ADAM_EPS, work, losses)
        elapsed = time.perf_counter() - t0
        hist["loss"].extend(losses[: done + (done < n)].tolist())
        if done < n:
            raise _diverged(losses[done], state.epoch + done, last_checkpoint)
        state.epoch += n
        state.step = int(step[0])
        segment = max(1, min(100000, int(n * SEGMENT_SECONDS / max(elapsed, 1e-6))))
        outputs = None
        if state.epoch in stops:  # the loss here is needed: checked before anything is recorded or saved
            if state.epoch in run.record_at:  # the outputs to record come with it, in the same pass
                loss, outputs = data.loss_and_outputs(state.theta)
            else:
                loss = data.loss(state.theta)
            if not math.isfinite(loss):
                raise _diverged(loss, state.epoch, last_checkpoint)
            if state.epoch == epochs:
                hist["loss"].append(loss)
        state.rng_state = shuffler.bit_generator.state
        if observe(state.theta, state.epoch, outputs):
            last_checkpoint = state.copy()
            if on_checkpoint:
                on_checkpoint(last_checkpoint)
        if progress:
            progress(state.epoch, epochs, hist["loss"][-1])
    if epochs == 0 and not hist["loss"]:
        hist["loss"].append(data.loss(state.theta))
    seconds = time.perf_counter() - started
    return TrainResult(net, net.unpack(state.theta), history_arrays(hist, net), state, state.epoch == epochs, seconds)


def _diverged(loss, epoch, checkpoint) -> TrainingDiverged:
    return TrainingDiverged(f"training loss became {loss} at epoch {epoch} (try a smaller lr); "
                            f"kept the last finite checkpoint, epoch {checkpoint.epoch}", epoch, checkpoint)


def history_arrays(hist: dict, net: Network) -> dict:
    """History lists as arrays (residuals (records, m, n_L); snapshots (checkpoints, parameters))."""
    out = {}
    for key, values in hist.items():
        if key == "residuals":
            out[key] = np.array(values).reshape(len(values), -1, net.sizes[-1]) if values else np.zeros((0, 0, net.sizes[-1]))
        elif key == "checkpoint_theta":
            out[key] = np.array(values).reshape(len(values), net.n_full)
        elif key in ("epoch", "checkpoint_epoch"):
            out[key] = np.array(values, dtype=np.int64)
        else:
            out[key] = np.array(values, dtype=np.float64)
    return out


class StopOnInterrupt:
    """Context manager turning the first Ctrl-C into a stop request (``bool(self)``); a second one interrupts at once.

    Use ``stop=handler`` with :func:`train` so that an interrupted run ends at a
    consistent state that :func:`train` hands to ``on_checkpoint``.
    """

    def __init__(self):
        self.requested = False
        self._previous = None

    def __call__(self) -> bool:
        return self.requested

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
        return False
