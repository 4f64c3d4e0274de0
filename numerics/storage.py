"""Gardner's storage problem: RS saddle points solved to high accuracy, and a finite-N twin.

Equations (derived in theory/storage.py, integrands generated into
numerics/_generated/storage.py), with x = (kappa + sqrt(q) t)/sqrt(1-q):

* spherical: q = alpha <(1-q) M(x)^2>_t; S = 1/2 ln(1-q) + q/(2(1-q)) + alpha <ln H(x)>_t
  (the RS saddle is the minimum of S over q; S is the log of the typical
  fraction of the sphere that stores the patterns); capacity alpha_c(kappa) in
  closed form; replicon ratio alpha <[(ln H)'']^2>_t < 1 where RS is stable;
* Ising: 1 - q = <sech^2(sqrt(qhat) z)>_z, qhat = alpha <(1-q) M^2>_t/(1-q)^2;
  s = -qhat(1-q)/2 + <ln 2cosh(sqrt(qhat) z)>_z + alpha <ln H(x)>_t (log of the
  number of solutions / N); capacity where s = 0 (Krauth-Mezard) and the
  q -> 1 value 2 alpha_c/pi (Gardner-Derrida);
* teacher-student Gibbs learning: R/sqrt(1-R) = alpha <sqrt(2/pi) M(sqrt(R) s)>_s,
  eps = arccos(R)/pi.

Gaussian averages use numerics.gaussian.gaussian_rule, graded around the
boundary layer of the integrand (t = -kappa/sqrt(q), width sqrt(1-q)/sqrt(q);
z = 0, width 1/sqrt(qhat)). Roots are bracketed and found by Brent's method.

``simulate_storage`` is the finite-N twin: the fraction of random pattern
sets that a spherical perceptron stores with stability kappa >= 0, each
instance decided exactly, by linear programming (HiGHS, kappa = 0) or by the
least-distance problem min |J| s.t. y xi.J/sqrt(N) >= 1 solved as a
non-negative least-squares problem (Lawson-Hanson, any kappa >= 0). With
kappa < 0 the problem is non-convex and has no such exact decision.
"""

from __future__ import annotations

import math
import numbers
import os
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from dataclasses import dataclass

import numpy as np
from scipy import optimize

from numerics._generated import storage as gen
from numerics.gaussian import gaussian_rule

WEIGHTS = ("spherical", "ising")
PATTERNS = ("gaussian", "binary")
METHODS = ("highs", "nnls")
MIN_ONE_MINUS_Q = 1e-15  # below this q rounds to 1 in float64
RTOL = 4 * np.finfo(float).eps


class ConvergenceError(ArithmeticError):
    """A solver did not converge; the message names the parameters."""


# ---- validation ---------------------------------------------------------------------------------

def _real(name: str, value, lo: float = -math.inf, hi: float = math.inf, lo_open: bool = False) -> float:
    allowed = f"{'(' if lo_open or lo == -math.inf else '['}{lo}, {hi}{')' if hi == math.inf else ']'}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number in {allowed}, got {value!r} ({type(value).__name__})")
    v = float(value)
    if not math.isfinite(v) or v < lo or (lo_open and v == lo) or v > hi:
        raise ValueError(f"{name} must be a finite number in {allowed}, got {value!r}")
    return v


def _integer(name: str, value, lo: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    if value < lo:
        raise ValueError(f"{name} must be an integer >= {lo}, got {value!r}")
    return int(value)


def _choice(name: str, value, allowed: tuple) -> str:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
    return value


def _brent(f, lo: float, hi: float, what: str) -> float:
    try:
        root, info = optimize.brentq(f, lo, hi, xtol=1e-300, rtol=RTOL, maxiter=400, full_output=True,
                                     disp=False)
    except ValueError as exc:  # no sign change: the bracket search above should have excluded this
        raise ConvergenceError(f"{what}: root not bracketed in [{lo!r}, {hi!r}] ({exc})") from None
    if not info.converged:
        raise ConvergenceError(f"{what}: Brent's method did not converge ({info.flag})")
    return root


# ---- Gaussian averages ------------------------------------------------------------------------

def _field_average(kernel, q: float, kappa: float) -> float:
    """<kernel(t, q, kappa)>_t, graded around the boundary layer at x = 0."""
    sq = math.sqrt(q)
    t, w = gaussian_rule(-kappa / sq, math.sqrt(1.0 - q) / sq)
    return float(w @ kernel(t, q, kappa))


def _spin_average(kernel, qhat: float) -> float:
    """<kernel(z, qhat)>_z, graded around z = 0 (width 1/sqrt(qhat))."""
    z, w = gaussian_rule(0.0, 1.0 / math.sqrt(qhat))
    return float(w @ kernel(z, qhat))


# ---- spherical perceptron -----------------------------------------------------------------------

@dataclass(frozen=True)
class Capacity:
    """Storage capacity at stability kappa.

    spherical: alpha_c (closed form); alpha_at, for kappa < 0, the alpha where
    the RS solution crosses the de Almeida-Thouless line (RS is exact below it;
    for kappa >= 0 RS holds up to alpha_c and alpha_at is None).
    ising: alpha_c where the RS entropy vanishes (Krauth-Mezard) and alpha_rs,
    the q -> 1 value of the RS equations (Gardner-Derrida), which exceeds the
    bound alpha <= 1 at kappa = 0 because the RS entropy is negative there;
    alpha_at, the AT crossing, lies above alpha_c (at kappa = 0): the RS answer
    fails by its entropy turning negative, not by local instability.
    """

    kappa: float
    weights: str
    alpha_c: float
    alpha_rs: float | None = None
    alpha_at: float | None = None

    def __float__(self) -> float:
        return self.alpha_c


@dataclass(frozen=True)
class StorageSaddle:
    """RS saddle point at (alpha, kappa).

    entropy: S(q) for spherical couplings (log-fraction of the sphere, <= 0),
    s(q, qhat) for Ising couplings (log of the number of solutions / N; RS is
    unphysical where it is negative). replicon: the AT ratio; rs_stable = replicon < 1.
    """

    alpha: float
    kappa: float
    weights: str
    q: float
    entropy: float
    replicon: float
    rs_stable: bool
    qhat: float | None = None


def _spherical_capacity(kappa: float) -> float:
    return float(gen.gardner_capacity(kappa))


def _gardner_residual(q: float, alpha: float, kappa: float) -> float:
    """alpha <(1-q) M(x)^2>_t - q (theory.storage 'saddle', times 1-q)."""
    return alpha * _field_average(gen.gardner_saddle_integrand, q, kappa) - q


def _below_capacity(alpha: float, kappa: float, alpha_c: float, weights: str) -> None:
    if alpha >= alpha_c:
        raise ValueError(f"alpha={alpha!r} is at or above the {weights} RS capacity {alpha_c!r} at kappa={kappa!r}: "
                         "no RS solution with q < 1")


def _bracket(f, what: str, saturated: str) -> tuple[float, float]:
    """(lo, hi) in (0, 1) with f(lo) > 0 > f(hi); 1 - hi is searched down to MIN_ONE_MINUS_Q,
    below which ValueError(``saturated``) is raised."""
    lo = 0.5
    while f(lo) <= 0.0:
        lo *= 1e-2
        if lo < 1e-300:
            raise ConvergenceError(f"{what}: no q > 1e-300 with a positive residual")
    gap = 0.5
    while f(1.0 - gap) >= 0.0:
        gap *= 0.1
        if gap < MIN_ONE_MINUS_Q:
            raise ValueError(f"{what}: {saturated} (the overlap is within {MIN_ONE_MINUS_Q:g} of 1 and rounds to 1 "
                             "in float64)")
    return min(lo, 1.0 - gap), 1.0 - gap


def _spherical_q(alpha: float, kappa: float) -> float:
    what = f"spherical saddle point at alpha={alpha!r}, kappa={kappa!r}"
    f = lambda q: _gardner_residual(q, alpha, kappa)  # noqa: E731
    lo, hi = _bracket(f, what, "alpha is too close to the capacity")
    return _brent(f, lo, hi, what)


def _spherical_saddle(alpha: float, kappa: float) -> StorageSaddle:
    _below_capacity(alpha, kappa, _spherical_capacity(kappa), "spherical")
    q = _spherical_q(alpha, kappa)
    entropy = float(gen.gardner_entropic_part(q)) + alpha * _field_average(gen.gardner_energetic_integrand, q, kappa)
    replicon = alpha * _field_average(gen.gardner_replicon_integrand, q, kappa)
    return StorageSaddle(alpha, kappa, "spherical", q, entropy, replicon, replicon < 1.0)


# ---- Ising perceptron ---------------------------------------------------------------------------

def _ising_conjugate(q: float, alpha: float, kappa: float) -> float:
    """qhat = alpha <(1-q) M(x)^2>_t / (1-q)^2 (theory.storage 'ising_conjugate')."""
    return alpha * _field_average(gen.gardner_saddle_integrand, q, kappa) / (1.0 - q) ** 2


def _ising_residual(q: float, alpha: float, kappa: float) -> float:
    """(1 - q) - <sech^2(sqrt(qhat(q)) z)>_z (theory.storage 'ising_overlap')."""
    return (1.0 - q) - _spin_average(gen.ising_overlap_integrand, _ising_conjugate(q, alpha, kappa))


def _ising_saddle(alpha: float, kappa: float) -> StorageSaddle:
    _below_capacity(alpha, kappa, float(gen.ising_rs_capacity(kappa)), "Ising (q -> 1)")
    what = f"Ising saddle point at alpha={alpha!r}, kappa={kappa!r}"
    f = lambda q: _ising_residual(q, alpha, kappa)  # noqa: E731
    lo, hi = _bracket(f, what, "alpha is too close to the q -> 1 value alpha_rs")
    q = _brent(f, lo, hi, what)
    qhat = _ising_conjugate(q, alpha, kappa)
    entropy = (float(gen.ising_entropic_part(q, qhat)) + _spin_average(gen.ising_spin_integrand, qhat)
               + alpha * _field_average(gen.gardner_energetic_integrand, q, kappa))
    replicon = (alpha * _field_average(gen.gardner_replicon_integrand, q, kappa)
                * _spin_average(gen.ising_spin_replicon_integrand, qhat) / (1.0 - q) ** 2)
    return StorageSaddle(alpha, kappa, "ising", q, entropy, replicon, replicon < 1.0, qhat)


def _ising_zero_entropy(kappa: float, alpha_rs: float) -> float:
    """Krauth-Mezard capacity: the alpha in (0, alpha_rs) where the RS entropy s(alpha) vanishes."""
    entropy = lambda a: _ising_saddle(a, kappa).entropy  # noqa: E731
    gap = 1e-2
    while entropy(alpha_rs * (1.0 - gap)) >= 0.0:
        gap *= 1e-2
        if gap < 1e-12:
            raise ConvergenceError(f"Ising capacity at kappa={kappa!r}: entropy stays positive up to alpha_rs")
    return _brent(entropy, alpha_rs * 1e-3, alpha_rs * (1.0 - gap), f"Ising capacity at kappa={kappa!r}")


def at_line(kappa: float, weights: str = "spherical") -> float:
    """alpha_AT(kappa): where the RS replicon ratio crosses 1 and the RS solution becomes unstable.

    spherical (kappa < 0 only; for kappa >= 0 RS is stable up to alpha_c): the
    ratio approaches alpha_c H(-kappa) > 1 at capacity with a correction
    O(sqrt(alpha_c - alpha)), so alpha_c - alpha_AT = O(kappa^2); when the
    crossing lies within 1e-12 (relative) of alpha_c, alpha_c is returned.
    ising (any kappa): the ratio diverges as q -> 1, so the crossing lies below alpha_rs.
    """
    kappa = _real("kappa", kappa)
    weights = _choice("weights", weights, WEIGHTS)
    if weights == "spherical" and kappa >= 0.0:
        raise ValueError(f"kappa must be < 0 for a spherical AT crossing, got {kappa!r} "
                         "(kappa >= 0: RS is stable up to alpha_c)")
    if weights == "spherical":
        top = _spherical_capacity(kappa)
        excess = lambda a: _spherical_saddle(a, kappa).replicon - 1.0  # noqa: E731
    else:
        top = float(gen.ising_rs_capacity(kappa))
        excess = lambda a: _ising_saddle(a, kappa).replicon - 1.0  # noqa: E731
    gap = 1e-2
    while excess(top * (1.0 - gap)) <= 0.0:
        gap *= 1e-2
        if gap < 1e-12:
            return top
    return _brent(excess, top * 1e-3, top * (1.0 - gap), f"{weights} AT line at kappa={kappa!r}")


# ---- public API -----------------------------------------------------------------------------------

def capacity(kappa: float = 0.0, weights: str = "spherical") -> Capacity:
    """Storage capacity at stability kappa (see :class:`Capacity`)."""
    kappa = _real("kappa", kappa)
    weights = _choice("weights", weights, WEIGHTS)
    if weights == "spherical":
        return Capacity(kappa, weights, _spherical_capacity(kappa), alpha_at=at_line(kappa) if kappa < 0 else None)
    alpha_rs = float(gen.ising_rs_capacity(kappa))
    return Capacity(kappa, weights, _ising_zero_entropy(kappa, alpha_rs), alpha_rs=alpha_rs,
                    alpha_at=at_line(kappa, weights))


def storage_saddle(alpha: float, kappa: float = 0.0, weights: str = "spherical") -> StorageSaddle:
    """The RS saddle point at load alpha = P/N and stability kappa (see :class:`StorageSaddle`)."""
    alpha = _real("alpha", alpha, lo=0.0, lo_open=True)
    kappa = _real("kappa", kappa)
    weights = _choice("weights", weights, WEIGHTS)
    return _spherical_saddle(alpha, kappa) if weights == "spherical" else _ising_saddle(alpha, kappa)


@dataclass(frozen=True)
class TeacherStudent:
    """Gibbs learning of a spherical teacher: overlap R and generalization error arccos(R)/pi."""

    alpha: float
    R: float
    error: float


def teacher_student(alpha: float) -> TeacherStudent:
    """RS solution of Gibbs learning at alpha = P/N."""
    alpha = _real("alpha", alpha, lo=0.0, lo_open=True)
    s, w = gaussian_rule(0.0, 1.0)

    def residual(r):  # alpha <sqrt(2/pi) M(sqrt(R) s)>_s - R/sqrt(1-R) (theory.storage 'ts_saddle')
        return alpha * float(w @ gen.teacher_saddle_integrand(s, r)) - r / math.sqrt(1.0 - r)

    what = f"teacher-student saddle point at alpha={alpha!r}"
    lo, hi = _bracket(residual, what, "alpha is too large")
    r = _brent(residual, lo, hi, what)
    return TeacherStudent(alpha, r, float(gen.teacher_error(r)))


# ---- finite-N twin ----------------------------------------------------------------------------------

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


def simulate_storage(n: int, alphas, trials: int, kappa: float = 0.0, seed: int = 0, patterns: str = "gaussian",
                     workers: int | None = None, method: str | None = None) -> StorageSimulation:
    """Fraction of ``trials`` random instances (n inputs, round(alpha n) patterns with random +-1 labels)
    that a spherical perceptron stores with stability kappa >= 0, for each alpha.

    method: "highs" (linear programming, kappa = 0 only) or "nnls" (any kappa >= 0);
    default highs at kappa = 0, nnls otherwise. Instance (n, p, trial) is seeded by
    SeedSequence(seed, spawn_key=(n, p, trial)), so results do not depend on ``workers``
    (processes; default os.cpu_count()) or on the other alphas requested.
    """
    n = _integer("n", n, 2)
    trials = _integer("trials", trials, 1)
    seed = _integer("seed", seed, 0)
    kappa = _real("kappa", kappa)
    if kappa < 0:
        raise ValueError(f"kappa must be >= 0 for the simulation twin, got {kappa!r} (kappa < 0 is non-convex: "
                         "no exact decision by linear programming)")
    patterns = _choice("patterns", patterns, PATTERNS)
    method = _choice("method", method if method is not None else ("highs" if kappa == 0 else "nnls"), METHODS)
    if method == "highs" and kappa != 0:
        raise ValueError(f"method='highs' decides kappa = 0 only, got kappa={kappa!r}; use method='nnls'")
    if np.ndim(alphas) == 0:
        alphas = [alphas]
    alphas = tuple(_real("alpha", a, lo=0.0, lo_open=True) for a in alphas)
    if not alphas:
        raise ValueError("alphas must contain at least one value")
    ps = tuple(max(1, round(a * n)) for a in alphas)
    if workers is not None:
        workers = _integer("workers", workers, 1)
    tasks = [(n, p, k, seed, patterns, kappa, method) for p in ps for k in range(trials)]
    n_workers = min(workers or os.cpu_count() or 1, len(tasks))
    if n_workers == 1:
        decided = [_decide(t) for t in tasks]
    else:
        # spawn, not fork: forking a process that runs JAX or numba threads can deadlock
        with ProcessPoolExecutor(n_workers, mp_context=get_context("spawn")) as pool:
            decided = list(pool.map(_decide, tasks, chunksize=max(1, len(tasks) // (4 * n_workers))))
    counts = tuple(int(sum(decided[i * trials:(i + 1) * trials])) for i in range(len(ps)))
    fraction = np.asarray(counts, dtype=float) / trials
    stderr = np.sqrt(fraction * (1.0 - fraction) / trials)
    return StorageSimulation(n, alphas, ps, trials, kappa, seed, patterns, method, counts, fraction, stderr)
