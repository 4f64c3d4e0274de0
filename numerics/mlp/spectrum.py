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

from numerics import validate

POLICIES = ("exact", "relative", "absolute")
ABSOLUTE_TOL = 1e-10
EPS = np.finfo(np.float64).eps
DENSE_COLUMNS = 128  # unit vectors per batched product when a matrix is formed from an operator


# -- validation ----------------------------------------------------------------------------------


def _square(H, name: str = "H") -> np.ndarray:
    H = validate.real_array(name, H, ndim=2, expected="a square matrix of size >= 1")
    if H.shape[0] != H.shape[1]:
        raise ValueError(f"{name} must be a square matrix of size >= 1, got shape {H.shape}")
    scale = np.max(np.abs(H))
    asym = np.max(np.abs(H - H.T))
    if asym > 64 * EPS * max(scale, np.finfo(np.float64).tiny) * H.shape[0]:
        raise ValueError(f"{name} must be symmetric; max |H - H^T| = {asym:.3g} for max |H| = {scale:.3g}")
    return H


def check_policy(policy: str) -> str:
    return validate.known("zero policy", policy, POLICIES)


def check_tol(tol, name: str = "tol") -> float | None:
    """None (the policy's default) or a finite number >= 0."""
    return validate.optional(validate.real, name, tol, low=0.0)


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


def lanczos(matvec, v0, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Lanczos tridiagonalization with full reorthogonalization: diagonal ``a`` and off-diagonal ``b``.

    Stops early when the Krylov space is exhausted (then len(a) < steps).
    """
    steps = validate.integer("steps", steps, low=1)
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
        width = validate.real("width", width, low=0.0, open_low=True)
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
    size = validate.integer("size", size, low=1)
    steps = validate.integer("steps", steps, low=1)
    probes = validate.integer("probes", probes, low=1)
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
    k = validate.integer("k", k, low=1)
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


# -- any operator: analyze ------------------------------------------------------------------------


def as_operator(H):
    """``(matvec, P, blocks, dense)`` for a dense matrix, a scipy sparse matrix or LinearOperator, or any object
    with ``shape`` and ``matvec``; ``dense`` is the validated matrix when H is an array, else None."""
    blocks = getattr(H, "blocks", None)
    toarray = getattr(H, "toarray", None)  # scipy sparse matrices; operators that know their matrix
    if scipy.sparse.issparse(H):
        H = scipy.sparse.linalg.aslinearoperator(H)
    if hasattr(H, "matvec") and hasattr(H, "shape"):
        shape = tuple(H.shape)
        if len(shape) != 2 or shape[0] != shape[1] or shape[0] < 1:
            raise ValueError(f"H must be a square operator of size >= 1, got shape {shape}")
        P = int(shape[0])

        def matvec(v):
            w = np.asarray(H.matvec(v), dtype=np.float64).reshape(-1)
            if w.shape != (P,):
                raise ValueError(f"H.matvec returned shape {w.shape}, expected ({P},)")
            return w

        if hasattr(H, "matmat"):
            def matmat(V):
                W = np.asarray(H.matmat(V), dtype=np.float64)
                if W.shape != V.shape:
                    raise ValueError(f"H.matmat returned shape {W.shape}, expected {V.shape}")
                return W

            matvec.matmat = matmat
        if callable(toarray):
            matvec.toarray = toarray
        dense = None
    else:
        dense = _square(H)
        P = dense.shape[0]

        def matvec(v):
            return dense @ v

        matvec.matmat = matvec
    return matvec, P, _check_blocks(blocks, P), dense


def products(matvec, V: np.ndarray) -> np.ndarray:
    """H V for a block of columns V (P, k): one batched product when ``matvec`` carries a ``matmat`` (as those of
    :func:`as_operator` do for operators that have one), else k products."""
    matmat = getattr(matvec, "matmat", None)
    return matmat(V) if matmat is not None else np.column_stack([matvec(v) for v in V.T])


def _check_blocks(blocks, P: int) -> list | None:
    if blocks is None:
        return None
    out = []
    for item in blocks:
        try:
            name, sl = item
            idx = np.arange(P)[sl]
        except (TypeError, ValueError, IndexError):
            raise ValueError(f"H.blocks must be (name, slice or index array) pairs, got {item!r}") from None
        if idx.size == 0:
            raise ValueError(f"block {name!r} of H.blocks is empty")
        out.append((str(name), idx))
    return out


def _to_dense(matvec, P: int) -> np.ndarray:
    """The matrix of a symmetric operator, symmetrized: its own ``toarray()`` when ``matvec`` carries one, else its
    products with the unit vectors in blocks of equal width (at most DENSE_COLUMNS; the last one padded with zero
    columns, so that a jitted batched product compiles once)."""
    toarray = getattr(matvec, "toarray", None)
    if toarray is not None:
        M = np.asarray(toarray(), dtype=np.float64)
        if M.shape != (P, P):
            raise ValueError(f"H.toarray() returned shape {M.shape}, expected ({P}, {P})")
    else:
        width = -(-P // -(-P // DENSE_COLUMNS))
        M = np.empty((P, P))
        for lo in range(0, P, width):
            k = min(width, P - lo)
            E = np.zeros((P, width))
            E[lo + np.arange(k), np.arange(k)] = 1.0
            M[:, lo:lo + k] = products(matvec, E)[:, :k]
    if not np.all(np.isfinite(M)):
        raise ValueError("H.matvec returned non-finite values")
    return 0.5 * (M + M.T)


def hutchpp(matvec, size: int, probes: int = 10, seed=0, blocks=None) -> tuple[float, float, list]:
    """Hutch++ trace estimate (Meyer, Musco, Musco & Woodruff, SOSA 2021) from 3 x ``probes`` products.

    tr H = tr(Q^T H Q) + tr((I - QQ^T) H (I - QQ^T)), Q an orthonormal basis
    of H S for a Rademacher sketch S; the first term is computed exactly, the
    second by Hutchinson's estimator with fresh Rademacher vectors, whose
    sample standard deviation / sqrt(probes) is the standard error.
    Returns (trace, stderr, [(trace, stderr) per block]) where a block's
    trace is that of its diagonal block, tr(P_b H), from the same products
    (the block traces sum to the whole exactly).
    """
    rng = np.random.default_rng(seed)
    k = min(probes, size)
    S = rng.choice((-1.0, 1.0), size=(size, k))
    Q, _ = np.linalg.qr(products(matvec, S))
    HQ = products(matvec, Q)
    G = rng.choice((-1.0, 1.0), size=(size, probes))
    G -= Q @ (Q.T @ G)
    HG = products(matvec, G)
    out = []
    for idx in [np.arange(size)] + [idx for _, idx in (blocks or [])]:
        # any A: tr A = tr(Q^T A Q) + tr((I-QQ^T) A (I-QQ^T)); here A = P_b H, P_b the block's coordinates
        head = float(np.sum(Q[idx] * HQ[idx]))
        samples = np.sum(G[idx] * HG[idx], axis=0)
        stderr = float(np.std(samples, ddof=1) / math.sqrt(probes)) if probes > 1 else math.inf
        out.append((head + float(np.mean(samples)), stderr))
    return out[0][0], out[0][1], out[1:]


@dataclass
class Analysis:
    """What :func:`analyze` found: alpha, gamma (and their zero thresholds) per policy, extremes, trace,
    and the spectral measure (``nodes`` with ``weights`` summing to 1); per-block analyses in ``blocks``.

    Dense: exact values, ``*_stderr`` None. SLQ: estimates with their
    standard errors over the probes (alpha, gamma) and Hutch++'s (trace),
    and ``*_bound``: the mean over probes of the Gauss-quadrature bracket
    (Chebyshev-Markov-Stieltjes) of each probe's count, a systematic
    error that more probes do not shrink. It is large when many
    eigenvalues sit within the Ritz-value spacing of the zero threshold
    (a cluster at 0, as in most trained networks): there only the dense
    route resolves the sign split.
    """

    method: str
    size: int
    alpha: dict
    gamma: dict
    threshold: dict
    alpha_stderr: dict | None
    gamma_stderr: dict | None
    extremes: tuple
    trace: float
    trace_stderr: float | None
    nodes: np.ndarray
    weights: np.ndarray
    blocks: dict | None = None
    settings: dict | None = None
    alpha_bound: dict | None = None
    gamma_bound: dict | None = None

    def density(self, grid, width: float) -> np.ndarray:
        """Spectral density on ``grid``: the measure with each atom broadened to a Gaussian of std ``width``."""
        return SLQ([self.nodes], [self.weights], self.size).density(grid, width)

    def to_dict(self) -> dict:
        """JSON-ready summary (no eigenvalue arrays)."""
        out = {"method": self.method, "size": self.size, "alpha": self.alpha, "gamma": self.gamma,
               "threshold": self.threshold, "alpha_stderr": self.alpha_stderr, "gamma_stderr": self.gamma_stderr,
               "alpha_bound": self.alpha_bound, "gamma_bound": self.gamma_bound,
               "lambda_min": self.extremes[0], "lambda_max": self.extremes[1], "trace": self.trace,
               "trace_stderr": self.trace_stderr, "settings": self.settings}
        if self.blocks is not None:
            out["blocks"] = {name: sub.to_dict() for name, sub in self.blocks.items()}
        return out

    def to_frame(self):
        """A pandas DataFrame, one row per (block, policy); the whole operator is block "all"."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("to_frame needs pandas (pip install pandas); to_dict() needs nothing") from None
        rows = []
        for name, a in [("all", self)] + list((self.blocks or {}).items()):
            for p in POLICIES:
                rows.append({"block": name, "size": a.size, "method": a.method, "policy": p,
                             "alpha": a.alpha[p], "alpha_stderr": a.alpha_stderr[p] if a.alpha_stderr else None,
                             "gamma": a.gamma[p], "gamma_stderr": a.gamma_stderr[p] if a.gamma_stderr else None,
                             "threshold": a.threshold[p], "lambda_min": a.extremes[0], "lambda_max": a.extremes[1],
                             "trace": a.trace, "trace_stderr": a.trace_stderr})
        return pd.DataFrame(rows)


def _restricted(matvec, P: int, idx: np.ndarray):
    """v -> (H pad(v))[idx]: the diagonal block of H on the coordinates idx (and its block product)."""
    def sub(v):
        full = np.zeros(P)
        full[idx] = v
        return matvec(full)[idx]

    def sub_block(V):
        full = np.zeros((P, V.shape[1]))
        full[idx] = V
        return products(matvec, full)[idx]

    sub.matmat = sub_block
    return sub


def _dense_analysis(M: np.ndarray, rtol, atol) -> Analysis:
    lam = spectrum(M, vectors=False).eigenvalues
    ind = all_indices(lam, rtol, atol)
    return Analysis("dense", lam.size, ind["alpha"], ind["gamma"], ind["threshold"], None, None,
                    (float(lam[0]), float(lam[-1])), float(np.trace(M)), None, lam, np.full(lam.size, 1.0 / lam.size))


def _slq_analysis(matvec, P: int, probes: int, steps: int, seed, rtol, atol) -> Analysis:
    """SLQ on the coupled parameters; parameters whose row of H is exactly zero (found from one product
    with a Gaussian vector, as :func:`spectrum` splits them off) are exact zero eigenvalues."""
    rng = np.random.default_rng(seed)
    zero = np.flatnonzero(matvec(rng.standard_normal(P)) == 0.0)
    keep = np.setdiff1d(np.arange(P), zero)
    f_zero = zero.size / P
    if keep.size == 0:
        q = SLQ([np.zeros(1)] * probes, [np.ones(1)] * probes, P)
    else:
        q = slq(_restricted(matvec, P, keep), keep.size, steps=steps, probes=probes, seed=rng.integers(2**63))
    lo = min(float(min(x.min() for x in q.nodes)), 0.0 if zero.size else math.inf)
    hi = max(float(max(x.max() for x in q.nodes)), 0.0 if zero.size else -math.inf)
    tols = {"exact": None, "relative": check_tol(rtol, "rtol"), "absolute": check_tol(atol, "atol")}
    threshold = {p: zero_threshold(np.array([lo, hi]), p, tols[p], size=P) for p in POLICIES}
    per = {k: {p: [] for p in POLICIES} for k in ("alpha", "gamma", "alpha_bound", "gamma_bound")}
    for x, w in zip(q.nodes, q.weights):
        w = w * (1.0 - f_zero)
        for p in POLICIES:
            t = threshold[p]
            below, upto = (x < 0, x <= 0) if p == "exact" else (x < -t, x <= t)
            a_lo, a_hi = _cms_bracket(w, below)
            g_lo, g_hi = _cms_bracket(w, upto)
            alpha, gamma = float(np.sum(w[below])), float(np.sum(w[upto & ~below]))
            per["alpha"][p].append(alpha)
            per["gamma"][p].append(gamma + f_zero)
            per["alpha_bound"][p].append(max(alpha - a_lo, a_hi - alpha))
            per["gamma_bound"][p].append(max(gamma - max(g_lo - a_hi, 0.0), g_hi - a_lo - gamma))
    mean = {k: {p: float(np.mean(v[p])) for p in POLICIES} for k, v in per.items()}
    err = {k: {p: float(np.std(v[p], ddof=1) / math.sqrt(probes)) if probes > 1 else math.inf for p in POLICIES}
           for k, v in per.items() if not k.endswith("bound")}
    x, w = q.measure()
    nodes = np.concatenate([x, np.zeros(1 if zero.size else 0)])
    weights = np.concatenate([w * (1.0 - f_zero), [f_zero] if zero.size else []])
    result = Analysis("slq", P, mean["alpha"], mean["gamma"], threshold, err["alpha"], err["gamma"], (lo, hi),
                      math.nan, math.nan, nodes, weights)
    result.alpha_bound, result.gamma_bound = mean["alpha_bound"], mean["gamma_bound"]
    return result


def _cms_bracket(w, below) -> tuple[float, float]:
    """Bounds on a probe's measure of {lambda < t} (or <= t) from its Gauss rule, ``below`` marking the nodes
    inside: by the Chebyshev-Markov-Stieltjes inequalities the true value lies between the weight of the
    inside nodes less that of the last inside node and that weight plus the first node outside."""
    k = int(np.sum(below))  # nodes are sorted, so the inside ones come first
    inside = float(np.sum(w[:k]))
    return inside - (float(w[k - 1]) if k else 0.0), inside + (float(w[k]) if k < w.size else 0.0)


def analyze(H, *, dense_limit: int = 4000, probes: int = 10, steps: int = 80, seed=0, rtol: float | None = None,
            atol: float | None = None, per_block: bool = True) -> Analysis:
    """alpha, gamma under every zero policy, extreme eigenvalues, trace and spectral density of a symmetric H.

    ``H``: a dense matrix, a scipy sparse matrix or ``LinearOperator``, or
    any object with ``shape`` and ``matvec``. P <= ``dense_limit``: the
    exact symmetric eigen-decomposition (an operator is first formed from P
    products). Larger: stochastic Lanczos quadrature (``probes`` Rademacher
    vectors, ``steps`` Lanczos steps) with standard errors over the probes,
    extremes from the Ritz values, and the Hutch++ trace. When H has
    ``blocks`` ([(name, slice)], as the Hessian operators of this package
    do) and ``per_block``, each diagonal block gets the same analysis; the
    block traces (exact, or from the same Hutch++ products) sum to the whole.
    ``rtol``/``atol`` set the relative/absolute zero tolerances (defaults:
    P * eps and 1e-10).
    """
    dense_limit = validate.integer("dense_limit", dense_limit, low=0)
    probes = validate.integer("probes", probes, low=2)
    steps = validate.integer("steps", steps, low=1)
    check_tol(rtol, "rtol")
    check_tol(atol, "atol")
    matvec, P, blocks, M = as_operator(H)
    blocks = blocks if per_block else None
    seed = validate.integer("seed", seed, low=0)
    settings = {"dense_limit": dense_limit, "probes": probes, "steps": steps, "seed": int(seed), "rtol": rtol, "atol": atol}
    if P <= dense_limit:
        M = _to_dense(matvec, P) if M is None else M
        result = _dense_analysis(M, rtol, atol)
        if blocks is not None:
            result.blocks = {name: _dense_analysis(M[np.ix_(idx, idx)], rtol, atol) for name, idx in blocks}
    else:
        seeds = np.random.SeedSequence(int(seed)).spawn(2 + len(blocks or []))
        result = _slq_analysis(matvec, P, probes, steps, seeds[0], rtol, atol)
        result.trace, result.trace_stderr, block_traces = hutchpp(matvec, P, probes, seeds[1], blocks)
        if blocks is not None:
            result.blocks = {}
            for (name, idx), s, (tr, tr_err) in zip(blocks, seeds[2:], block_traces):
                sub_mv = _restricted(matvec, P, idx)
                sub = (_dense_analysis(_to_dense(sub_mv, idx.size), rtol, atol) if idx.size <= dense_limit
                       else _slq_analysis(sub_mv, idx.size, probes, steps, s, rtol, atol))
                sub.trace, sub.trace_stderr = (sub.trace, None) if sub.method == "dense" else (tr, tr_err)
                result.blocks[name] = sub
    result.settings = settings
    return result
