"""Hessian spectra: eigen-decomposition, the alpha/gamma indices, residuals, eigenvector localization,
Lanczos and stochastic Lanczos quadrature (SLQ).

Milletari et al. (arXiv:1805.08786, Sec. 3) measure along training the
fraction alpha of negative Hessian eigenvalues (descent directions) and the
fraction gamma of zero eigenvalues (flat directions). What counts as zero is
a policy; all three are available and reported side by side:

* ``exact``: lambda == 0 is zero, lambda < 0 is negative (the authors'
  code). Parameters whose Hessian row and column vanish identically (a
  ReLU unit dead on every sample, for instance) are split off before the
  symmetric eigensolver runs, so they give eigenvalues that are exactly 0
  rather than rounding noise;
* ``relative``: |lambda| <= tol * max|lambda| is zero, lambda below
  -tol * max|lambda| negative; default tol = P * eps (P the matrix size), as
  numpy's ``matrix_rank`` does for singular values;
* ``absolute``: |lambda| <= tol is zero, lambda < -tol negative; default
  tol = 1e-10.

Eigenvector structure (the paper's appendix B): the |coefficient| matrix of
the eigenvectors over the parameters and the inverse participation ratio
sum_i v_i^4 of each (1 for a vector on a single parameter, 1/P for a fully
spread one).

For Hessians too large to form, :func:`lanczos_extremes` gives the extreme
eigenvalues and :func:`slq` the spectral density (Ubaru, Chen & Saad 2017:
Gauss quadrature of v^T delta(lambda - H) v from a Lanczos tridiagonal per
random probe v), both from Hessian-vector products only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.linalg
import scipy.sparse.linalg

POLICIES = ("exact", "relative", "absolute")
ABSOLUTE_TOL = 1e-10
EPS = np.finfo(np.float64).eps


# -- validation ----------------------------------------------------------------------------------


def _square(H, name: str = "H") -> np.ndarray:
    H = np.asarray(H)
    if H.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a real matrix, got dtype {H.dtype}")
    H = H.astype(np.float64, copy=False)
    if H.ndim != 2 or H.shape[0] != H.shape[1] or H.shape[0] < 1:
        raise ValueError(f"{name} must be a square matrix of size >= 1, got shape {H.shape}")
    if not np.all(np.isfinite(H)):
        raise ValueError(f"{name} must be finite")
    scale = np.max(np.abs(H))
    asym = np.max(np.abs(H - H.T))
    if asym > 64 * EPS * max(scale, np.finfo(np.float64).tiny) * H.shape[0]:
        raise ValueError(f"{name} must be symmetric; max |H - H^T| = {asym:.3g} for max |H| = {scale:.3g}")
    return H


def check_policy(policy: str) -> str:
    if policy not in POLICIES:
        raise ValueError(f"zero policy {policy!r} is not known; known policies: {', '.join(POLICIES)}")
    return policy


def check_tol(tol, name: str = "tol") -> float | None:
    """None (the policy's default) or a finite number >= 0."""
    if tol is None:
        return None
    if isinstance(tol, bool) or not isinstance(tol, (int, float, np.integer, np.floating)) or not math.isfinite(tol) or tol < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {tol!r}")
    return float(tol)


# -- dense spectra -------------------------------------------------------------------------------


@dataclass
class Spectrum:
    """Eigenvalues in ascending order and (optionally) the eigenvectors as columns."""

    eigenvalues: np.ndarray
    eigenvectors: np.ndarray | None = None

    @property
    def size(self) -> int:
        return self.eigenvalues.size


def spectrum_bytes(size: int) -> int:
    """Bytes :func:`spectrum` needs for a (size, size) matrix beyond the matrix itself: the coupled block,
    the solver's copy and work space, the eigenvectors."""
    return 8 * 4 * size * size


def decoupled(H: np.ndarray) -> np.ndarray:
    """Indices of parameters whose Hessian row and column are identically zero."""
    return np.flatnonzero(~np.any(H != 0.0, axis=0) & ~np.any(H != 0.0, axis=1))


def spectrum(H, vectors: bool = True) -> Spectrum:
    """Eigen-decomposition of a symmetric matrix (LAPACK via scipy).

    Decoupled parameters (zero row and column) get the exact eigenvalue 0
    and their unit vector; the rest of the matrix goes to the eigensolver.
    Eigenvectors are normalized and signed so that their largest-magnitude
    entry is positive.
    """
    H = _square(H)
    P = H.shape[0]
    zero = decoupled(H)
    keep = np.setdiff1d(np.arange(P), zero)
    values = np.zeros(P)
    vecs = np.zeros((P, P)) if vectors else None
    if keep.size:
        sub = H[np.ix_(keep, keep)]
        if vectors:
            w, v = scipy.linalg.eigh(sub)
        else:
            w = scipy.linalg.eigh(sub, eigvals_only=True)
    else:
        w, v = np.zeros(0), np.zeros((0, 0))
    values = np.concatenate([w, np.zeros(zero.size)])
    order = np.argsort(values, kind="stable")
    values = values[order]
    if vectors:
        vecs[np.ix_(keep, np.arange(keep.size))] = v
        vecs[zero, keep.size + np.arange(zero.size)] = 1.0
        vecs = vecs[:, order]
        big = np.argmax(np.abs(vecs), axis=0)
        vecs *= np.where(vecs[big, np.arange(P)] < 0, -1.0, 1.0)
    return Spectrum(values, vecs)


def zero_threshold(eigenvalues, policy: str = "exact", tol: float | None = None, size: int | None = None) -> float:
    """The largest |lambda| counted as zero under ``policy`` (0 for ``exact``); ``size`` (default: the
    number of eigenvalues) sets the default relative tolerance size * eps."""
    check_policy(policy)
    tol = check_tol(tol)
    lam = np.asarray(eigenvalues, dtype=np.float64)
    if policy == "exact":
        return 0.0
    if policy == "relative":
        tol = (lam.size if size is None else size) * EPS if tol is None else tol
        return float(tol * (np.max(np.abs(lam)) if lam.size else 0.0))
    return float(ABSOLUTE_TOL if tol is None else tol)


def indices(eigenvalues, policy: str = "exact", tol: float | None = None, weights=None, size: int | None = None) -> tuple[float, float]:
    """(alpha, gamma): fractions of negative and of zero eigenvalues under a zero policy.

    ``weights`` (default: equal) turn the eigenvalues into a spectral
    measure, as for the nodes of a quadrature (:meth:`SLQ.indices`).
    """
    lam = np.asarray(eigenvalues, dtype=np.float64)
    if lam.ndim != 1 or lam.size < 1 or not np.all(np.isfinite(lam)):
        raise ValueError(f"eigenvalues must be a non-empty finite 1-D array, got shape {lam.shape}")
    w = np.full(lam.size, 1.0 / lam.size) if weights is None else np.asarray(weights, dtype=np.float64) / np.sum(weights)
    t = zero_threshold(lam, policy, tol, size)
    if policy == "exact":
        return float(np.sum(w[lam < 0])), float(np.sum(w[lam == 0]))
    return float(np.sum(w[lam < -t])), float(np.sum(w[np.abs(lam) <= t]))


def all_indices(eigenvalues, rtol: float | None = None, atol: float | None = None, weights=None,
                size: int | None = None) -> dict:
    """alpha, gamma and the zero threshold under every policy: ``{"alpha": {policy: ...}, "gamma": ..., "threshold": ...}``."""
    tols = {"exact": None, "relative": check_tol(rtol, "rtol"), "absolute": check_tol(atol, "atol")}
    out = {"alpha": {}, "gamma": {}, "threshold": {}}
    for policy in POLICIES:
        a, g = indices(eigenvalues, policy, tols[policy], weights, size)
        out["alpha"][policy] = a
        out["gamma"][policy] = g
        out["threshold"][policy] = zero_threshold(eigenvalues, policy, tols[policy], size)
    return out


def residual_fraction(residuals, tol: float = 0.01) -> float:
    """Fraction of residuals y_hat - y (any shape) with |y_hat - y| <= tol."""
    tol = check_tol(tol)
    r = np.asarray(residuals, dtype=np.float64)
    if r.size == 0 or not np.all(np.isfinite(r)):
        raise ValueError(f"residuals must be a non-empty finite array, got shape {r.shape}")
    return float(np.mean(np.abs(r) <= tol))


def ipr(eigenvectors) -> np.ndarray:
    """Inverse participation ratio sum_i v_i^4 / (sum_i v_i^2)^2 of each eigenvector (column)."""
    V = np.asarray(eigenvectors, dtype=np.float64)
    if V.ndim != 2:
        raise ValueError(f"eigenvectors must be a 2-D array (parameters x vectors), got shape {V.shape}")
    sq = V * V
    return np.sum(sq * sq, axis=0) / np.sum(sq, axis=0) ** 2


def coefficients(eigenvectors) -> np.ndarray:
    """|coefficient| matrix, eigenvectors x parameters (row k: |v_k| over the parameters in flatten order)."""
    V = np.asarray(eigenvectors, dtype=np.float64)
    if V.ndim != 2:
        raise ValueError(f"eigenvectors must be a 2-D array (parameters x vectors), got shape {V.shape}")
    return np.abs(V.T)


# -- matrix-free spectra -------------------------------------------------------------------------


def _check_count(value, name: str, lo: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < lo:
        raise ValueError(f"{name} must be an integer >= {lo}, got {value!r}")
    return int(value)


def lanczos(matvec, v0, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Lanczos tridiagonalization with full reorthogonalization: diagonal ``a`` and off-diagonal ``b``.

    Stops early when the Krylov space is exhausted (then len(a) < steps).
    """
    steps = _check_count(steps, "steps")
    q = np.asarray(v0, dtype=np.float64)
    n = q.size
    norm = np.linalg.norm(q)
    if q.ndim != 1 or not np.isfinite(norm) or norm == 0:
        raise ValueError("the starting vector must be a finite, nonzero 1-D array")
    steps = min(steps, n)
    Q = np.zeros((steps, n))
    a, b = np.zeros(steps), np.zeros(steps)
    q = q / norm
    for j in range(steps):
        Q[j] = q
        w = np.asarray(matvec(q), dtype=np.float64)
        a[j] = q @ w
        for _ in range(2):  # twice is enough (Parlett's "twice is enough")
            w -= Q[: j + 1].T @ (Q[: j + 1] @ w)
        b[j] = np.linalg.norm(w)
        scale = max(abs(a[j]), b[j - 1] if j else 0.0, np.finfo(np.float64).tiny)
        if j == steps - 1 or b[j] <= n * EPS * scale:
            return a[: j + 1], b[:j]
        q = w / b[j]
    return a, b[: steps - 1]


def gauss_quadrature(a, b) -> tuple[np.ndarray, np.ndarray]:
    """Nodes (Ritz values) and weights (squared first components) of the Lanczos tridiagonal (a, b)."""
    if len(a) == 1:
        return np.asarray(a, dtype=np.float64), np.ones(1)
    nodes, vecs = scipy.linalg.eigh_tridiagonal(a, b)
    return nodes, vecs[0] ** 2


@dataclass
class SLQ:
    """A stochastic Lanczos quadrature: per probe, Ritz ``nodes`` and ``weights`` (each probe's sum to 1).

    The estimated spectral measure is (1/probes) sum_{probe, i} weights
    delta(lambda - nodes); multiply by ``size`` for eigenvalue counts.
    """

    nodes: list
    weights: list
    size: int

    def measure(self) -> tuple[np.ndarray, np.ndarray]:
        """All nodes (sorted) and their weights, summing to 1."""
        x = np.concatenate(self.nodes)
        w = np.concatenate(self.weights) / len(self.nodes)
        order = np.argsort(x, kind="stable")
        return x[order], w[order]

    def density(self, grid, width: float) -> np.ndarray:
        """Spectral density on ``grid``, each node broadened to a Gaussian of standard deviation ``width``."""
        if not (width > 0 and math.isfinite(width)):
            raise ValueError(f"width must be a finite number > 0, got {width!r}")
        x, w = self.measure()
        g = np.asarray(grid, dtype=np.float64)
        z = (g[:, None] - x[None, :]) / width
        return np.exp(-0.5 * z * z) @ w / (width * math.sqrt(2 * math.pi))

    def indices(self, rtol: float | None = None, atol: float | None = None) -> dict:
        """Estimated alpha and gamma under every policy (see :func:`all_indices`); zero thresholds scale
        with the extreme nodes, and ``exact`` counts nodes that are exactly 0."""
        x, w = self.measure()
        return all_indices(x, rtol, atol, weights=w, size=self.size)

    def extremes(self) -> tuple[float, float]:
        """Smallest and largest Ritz value (inside the spectrum; they converge to its ends first)."""
        x, _ = self.measure()
        return float(x[0]), float(x[-1])


def slq(matvec, size: int, steps: int = 80, probes: int = 10, seed=0) -> SLQ:
    """Stochastic Lanczos quadrature of the spectrum of a symmetric operator from ``probes`` Rademacher
    vectors with ``steps`` Lanczos steps each (full reorthogonalization)."""
    size = _check_count(size, "size")
    steps = _check_count(steps, "steps")
    probes = _check_count(probes, "probes")
    rng = np.random.default_rng(seed)
    nodes, weights = [], []
    for _ in range(probes):
        v = rng.choice((-1.0, 1.0), size=size)
        a, b = lanczos(matvec, v, steps)
        x, w = gauss_quadrature(a, b)
        nodes.append(x)
        weights.append(w)
    return SLQ(nodes, weights, size)


def lanczos_extremes(operator, k: int = 1, tol: float = 1e-10) -> tuple[np.ndarray, np.ndarray]:
    """The k smallest and k largest eigenvalues of a symmetric operator (implicitly restarted Lanczos, ARPACK)."""
    k = _check_count(k, "k")
    n = operator.shape[0]
    if 2 * k >= n:
        raise ValueError(f"k must be < size/2 = {n / 2} for the Lanczos route, got {k}; use the dense spectrum")
    op = scipy.sparse.linalg.aslinearoperator(operator)
    low = scipy.sparse.linalg.eigsh(op, k=k, which="SA", tol=tol, return_eigenvectors=False)
    high = scipy.sparse.linalg.eigsh(op, k=k, which="LA", tol=tol, return_eigenvectors=False)
    return np.sort(low), np.sort(high)


def wasserstein(x, wx, y, wy) -> float:
    """W1 distance between two discrete measures on the line (each normalized to total weight 1):
    the integral of |F_x - F_y| over the line."""
    x, wx, y, wy = (np.asarray(a, dtype=np.float64).ravel() for a in (x, wx, y, wy))
    pts = np.sort(np.concatenate([x, y]))

    def cdf(atoms, w):
        order = np.argsort(atoms, kind="stable")
        c = np.concatenate([[0.0], np.cumsum(w[order])]) / np.sum(w)
        return c[np.searchsorted(atoms[order], pts, side="right")]

    return float(np.sum(np.abs(cdf(x, wx) - cdf(y, wy))[:-1] * np.diff(pts)))
