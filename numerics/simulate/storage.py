"""Finite-N twin of the storage theory: the fraction of random instances a spherical perceptron stores.

Each instance is decided exactly, by linear programming (HiGHS, kappa = 0) or by
the least-distance problem min |J| s.t. y xi.J/sqrt(N) >= 1 solved as a
non-negative least-squares problem (Lawson-Hanson, any kappa >= 0). With
kappa < 0 the problem is non-convex and has no such exact decision. The fraction
crosses 1/2 near the capacity alpha_c(kappa) of numerics.solvers.storage.capacity.
"""

from __future__ import annotations

import math
import os
import signal
from dataclasses import dataclass
from multiprocessing import get_context

import numpy as np
from scipy import optimize

from numerics import validate
from numerics.solvers.storage import ConvergenceError

PATTERNS = ("gaussian", "binary")
METHODS = ("highs", "nnls")


@dataclass(frozen=True)
class StorageSimulation:
    """Fraction of random instances stored with stability kappa, per alpha, with binomial errors.

    p[i] = round(alpha[i] n) patterns of kind ``patterns``; stderr = sqrt(f (1-f) / trials).
    """

    n: int
    alphas: tuple
    p: tuple
    trials: int
    kappa: float
    seed: int
    patterns: str
    method: str
    separable: tuple
    fraction: np.ndarray
    stderr: np.ndarray

    def crossing(self) -> tuple[float, float]:
        """(alpha, error) where the fraction crosses 1/2, by linear interpolation between the
        bracketing alphas; the error propagates the binomial errors through the slope."""
        a, f, e = np.asarray(self.alphas), self.fraction, self.stderr
        order = np.argsort(a)
        a, f, e = a[order], f[order], e[order]
        above = np.nonzero(f >= 0.5)[0]
        below = np.nonzero(f < 0.5)[0]
        if above.size == 0 or below.size == 0 or above.max() > below.min():
            raise ValueError("fractions do not cross 1/2 exactly once over the given alphas")
        i, j = above.max(), below.min()
        slope = (f[j] - f[i]) / (a[j] - a[i])
        alpha = a[i] + (0.5 - f[i]) / slope
        w = (alpha - a[i]) / (a[j] - a[i])
        err = math.hypot((1 - w) * e[i], w * e[j]) / abs(slope)
        return float(alpha), float(err)


def instance(n: int, p: int, trial: int, seed: int, patterns: str) -> np.ndarray:
    """Rows y_mu xi_mu / sqrt(n) of instance ``trial`` with p patterns (seeded by (seed, n, p, trial))."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(n, p, trial)))
    if patterns == "gaussian":
        xi = rng.standard_normal((p, n))
    else:
        xi = rng.integers(0, 2, size=(p, n)) * 2.0 - 1.0
    labels = rng.integers(0, 2, size=p) * 2.0 - 1.0
    return labels[:, None] * xi / math.sqrt(n)


def stores_lp(rows: np.ndarray) -> bool:
    """kappa = 0: is there J with rows.J > 0? LP max Delta s.t. rows.J >= Delta, |J_i| <= 1 (HiGHS).

    A positive answer is certified by evaluating rows.J at the returned J."""
    p, n = rows.shape
    c = np.zeros(n + 1)
    c[-1] = -1.0
    res = optimize.linprog(c, A_ub=np.hstack([-rows, np.ones((p, 1))]), b_ub=np.zeros(p),
                           bounds=[(-1.0, 1.0)] * n + [(None, 1.0)], method="highs")
    if res.status != 0:
        raise ConvergenceError(f"HiGHS failed on a {p}x{n} storage instance: {res.message}")
    return bool(np.min(rows @ res.x[:n]) > 0.0)


def stores_nnls(rows: np.ndarray, kappa: float) -> bool:
    """Is there J, |J|^2 = n, with rows.J >= kappa? Least-distance problem min |J| s.t. rows.J >= 1,
    solved through NNLS (Lawson & Hanson ch. 23): the max-min stability is sqrt(n)/|J|.

    A positive answer is certified by evaluating the stabilities of the normalized J."""
    p, n = rows.shape
    e = np.vstack([rows.T, np.ones((1, p))])
    f = np.zeros(n + 1)
    f[-1] = 1.0
    try:
        u, _ = optimize.nnls(e, f, maxiter=50 * (n + p))
    except RuntimeError as exc:
        raise ConvergenceError(f"NNLS failed on a {p}x{n} storage instance: {exc}") from None
    r = e @ u - f
    if not r[-1] < 0.0:  # infeasible: not separable at all
        return False
    j = -r[:n] / r[-1]
    j *= math.sqrt(n) / np.linalg.norm(j)
    stability = np.min(rows @ j)
    return bool(stability > 0.0 and stability >= kappa)


def _decide(task) -> bool:
    n, p, trial, seed, patterns, kappa, method = task
    rows = instance(n, p, trial, seed, patterns)
    return stores_lp(rows) if method == "highs" else stores_nnls(rows, kappa)


MAX_INSTANCE_BYTES = 2**30  # one instance: the p x n pattern matrix and the solver's copies
MAX_WORK = 1e14  # multiply-adds of all decisions, ~ p n min(p, n) each (hours on one core)


def _check_size(n: int, ps: tuple, trials: int) -> None:
    """Refuse, before any allocation, instances that do not fit in memory or would run for days."""
    p = max(ps)
    need = 4 * 8 * p * (n + 1)  # rows, the solver's matrix and two working copies
    if need > MAX_INSTANCE_BYTES:
        raise ValueError(f"n={n} with {p} patterns needs about {need / 2**30:.3g} GiB per instance "
                         f"(limit {MAX_INSTANCE_BYTES / 2**30:g} GiB): use a smaller n or alpha")
    work = trials * sum(float(q) * n * min(q, n) for q in ps)
    if work > MAX_WORK:
        raise ValueError(f"n={n}, {len(ps)} alphas x {trials} trials need about {work:.2g} multiply-adds "
                         f"(limit {MAX_WORK:g}): use fewer trials or a smaller n")


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def simulate_storage(n: int, alphas, trials: int, kappa: float = 0.0, seed: int = 0, patterns: str = "gaussian",
                     workers: int | None = None, method: str | None = None) -> StorageSimulation:
    """Fraction of ``trials`` random instances (n inputs, round(alpha n) patterns with random +-1 labels)
    that a spherical perceptron stores with stability kappa >= 0, for each alpha.

    method: "highs" (linear programming, kappa = 0 only) or "nnls" (any kappa >= 0);
    default highs at kappa = 0, nnls otherwise. Instance (n, p, trial) is seeded by
    SeedSequence(seed, spawn_key=(n, p, trial)), so results do not depend on ``workers``
    (processes; default os.cpu_count()) or on the other alphas requested.
    """
    n = validate.integer("n", n, low=2)
    trials = validate.integer("trials", trials, low=1)
    seed = validate.integer("seed", seed, low=0)
    kappa = validate.real("kappa", kappa)
    if kappa < 0:
        raise ValueError(f"kappa must be >= 0 for the simulation twin, got {kappa!r} (kappa < 0 is non-convex: "
                         "no exact decision by linear programming)")
    patterns = validate.choice("patterns", patterns, PATTERNS)
    method = validate.choice("method", method if method is not None else ("highs" if kappa == 0 else "nnls"), METHODS)
    if method == "highs" and kappa != 0:
        raise ValueError(f"method='highs' decides kappa = 0 only, got kappa={kappa!r}; use method='nnls'")
    if np.ndim(alphas) == 0:
        alphas = [alphas]
    alphas = tuple(validate.real("alpha", a, low=0.0, open_low=True) for a in alphas)
    if not alphas:
        raise ValueError("alphas must contain at least one value")
    ps = tuple(max(1, round(a * n)) for a in alphas)
    if workers is not None:
        workers = validate.integer("workers", workers, low=1)
    _check_size(n, ps, trials)
    tasks = [(n, p, k, seed, patterns, kappa, method) for p in ps for k in range(trials)]
    n_workers = min(workers or os.cpu_count() or 1, len(tasks))
    if n_workers == 1:
        decided = [_decide(t) for t in tasks]
    else:
        # spawn, not fork: forking a process that runs JAX or numba threads can deadlock. Workers ignore
        # SIGINT; on Ctrl-C (or any error) the parent terminates them at once instead of waiting.
        pool = get_context("spawn").Pool(n_workers, initializer=_ignore_sigint)
        try:
            decided = list(pool.imap(_decide, tasks, chunksize=max(1, len(tasks) // (16 * n_workers))))
            pool.close()
        except BaseException:
            pool.terminate()
            raise
        finally:
            pool.join()
    counts = tuple(int(sum(decided[i * trials:(i + 1) * trials])) for i in range(len(ps)))
    fraction = np.asarray(counts, dtype=float) / trials
    stderr = np.sqrt(fraction * (1.0 - fraction) / trials)
    return StorageSimulation(n, alphas, ps, trials, kappa, seed, patterns, method, counts, fraction, stderr)
