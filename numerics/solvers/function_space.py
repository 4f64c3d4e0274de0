"""Function space of deep networks (Li & Saad, PRL 120, 248301 (2018)): numerics.

Two coupled dense networks, a reference and a copy whose weights are
perturbed layer by layer (eta_l for Gaussian weights, flip probability p_l for
binary weights). Public functions:

* :func:`overlap_recursion` - the overlaps q_l of the two networks: the arcsine
  law (Eqs. 8, 11) for beta -> oo, the integral of Eq. 6 at finite beta, or
  the normalized overlap of deterministic units a = phi(h, beta) for any
  registry activation (``activation=``);
* :func:`entropy`, :func:`max_entropy_perturbation` - S_con, S_bin (Eqs. 9, 12)
  and the perturbation of maximum entropy at a given output error (Fig. 2a, b);
* :func:`switch_on_errors` - binary weights: the errors at which layers switch on (first-order jumps);
* :func:`generalization_curve` - the annealed generalization error (Fig. 2c).

The beta -> oo maps, entropies and their log-variable forms are generated
from theory/function_space.py (numerics/_generated/function_space.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import numba
import numpy as np
from numba import njit, types
from scipy import LowLevelCallable, optimize
from scipy.integrate import quad

from numerics._generated import function_space as gen
from numerics._numba import flush_stale_caches

WEIGHTS = ("continuous", "binary")
INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
GAUSS_CUTOFF = 12.0  # |z| beyond which a standard Gaussian has mass < 1e-32
QUAD_RTOL = 1e-12
LOG_SMALL = -40.0
MAX_LAYERS = 64  # work of the maximum-entropy solver: L grid_points^2 for the programme, L-dim polishes
MAX_GENERALIZATION_LAYERS = 16  # the generalization curve solves table_points maximum-entropy problems
PRUNE = 0.01  # candidates whose grid value is this far (relative) below the best polished value are not polished
# |log b| beyond which a unit phi(h, b) is its b -> 0 or b -> oo limit to float64 precision (relative
# corrections b^2 or Gaussian mass within 1/b of a kink)
LOG_B_LIMIT = math.log(1e100)  # log r below which A^-1 is its leading term to float64 precision


# ----------------------------------------------------------------------------- validation


def check_weights(weights: str) -> str:
    if weights not in WEIGHTS:
        raise ValueError(f"weights must be one of {', '.join(WEIGHTS)}, got {weights!r}")
    return weights


def check_perturbations(perturbations, weights: str) -> np.ndarray:
    """Per-layer perturbations as a float array: eta in [0, 1] (continuous) or p in [0, 1/2] (binary)."""
    check_weights(weights)
    arr = np.atleast_1d(np.asarray(perturbations, dtype=np.float64))
    if arr.ndim != 1 or arr.size < 1:
        raise ValueError(f"perturbations must be a non-empty list (one value per layer, L >= 1), got {perturbations!r}")
    hi, name = (1.0, "eta") if weights == "continuous" else (0.5, "p")
    bad = ~np.isfinite(arr) | (arr < 0.0) | (arr > hi)
    if np.any(bad):
        raise ValueError(f"perturbation {name} must lie in [0, {hi:g}] for {weights} weights, got {float(arr[bad][0])!r}")
    return arr


def check_beta(beta) -> float | None:
    if beta is None:
        return None
    b = float(beta)
    if not (math.isfinite(b) and b > 0.0):
        raise ValueError(f"beta must be a finite number > 0 (omit it for the beta -> oo limit), got {beta!r}")
    return b


def check_positive(value, name: str) -> float:
    v = float(value)
    if not (math.isfinite(v) and v > 0.0):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return v


def check_layers(layers, limit: int = MAX_LAYERS) -> int:
    """Number of layers: an integer in [1, limit] (the solvers' work grows with L; see MAX_LAYERS)."""
    if isinstance(layers, bool) or not isinstance(layers, (int, np.integer, float)) or not math.isfinite(layers):
        raise ValueError(f"layers must be an integer in [1, {limit}], got {layers!r}")
    if int(layers) != layers or not 1 <= layers <= limit:
        raise ValueError(f"layers must be an integer in [1, {limit}], got {layers!r}")
    return int(layers)


def check_error(error) -> float:
    e = float(error)
    if not (0.0 < e < 0.5):
        raise ValueError(f"error must lie in the open interval (0, 0.5), got {error!r}")
    return e


def check_activation(name: str) -> str:
    from numerics.kernels.activations import NAMES

    if name not in NAMES:
        raise ValueError(f"activation {name!r} is not known; known activations: {', '.join(NAMES)}")
    return name


# ----------------------------------------------------------------------------- overlaps


@dataclass(frozen=True)
class Overlap:
    """Overlaps q_l and internal errors delta_l = (1 - q_l)/2 for l = 1..L."""

    q: np.ndarray
    error_per_layer: np.ndarray

    @property
    def error(self) -> float:
        """Output error epsilon = (1 - q_L)/2."""
        return float(self.error_per_layer[-1])


def x_of_perturbation(perturbations: np.ndarray, weights: str) -> np.ndarray:
    """x = 1 - c per layer (c = sqrt(1 - eta^2) or 1 - 2p), without cancellation."""
    kernel = gen.x_of_eta if weights == "continuous" else gen.x_of_p
    return np.array([kernel(v) for v in perturbations])


def sign_recursion_errors(x: np.ndarray, r0: float = 0.0) -> np.ndarray:
    """r_l = 1 - q_l for beta -> oo from r_0 (Eqs. 8, 11 in the error variable)."""
    out = np.empty(x.size)
    r = r0
    for i, xi in enumerate(x):
        r = gen.error_step(r, xi)
        out[i] = r
    return out


_LLC = types.float64(types.intc, types.CPointer(types.float64))


@numba.cfunc(_LLC, cache=True)
def _tanh_inner(n, xx):
    # w -> N(w) [tanh(a + d w) + tanh(a - d w)], w >= 0
    w = xx[0]
    return gen.tanh_pair_sum(xx[1], xx[2] * w) * math.exp(-0.5 * w * w) * INV_SQRT_2PI


_TANH_INNER = LowLevelCallable(_tanh_inner.ctypes)


def tanh_overlap(rho: float, b: float) -> float:
    """E[tanh(b u) tanh(b v)] for unit Gaussians with correlation rho (Eq. 6 with b = beta sigma).

    Pairing (u, w) with (-u, -w), v = rho u + sqrt(1 - rho^2) w, leaves positive integrands for
    rho > 0 (theory.function_space.tanh_pair_identity, generated in the overflow-free form
    tanh_pair_scaled); nested adaptive Gauss-Kronrod.
    """
    rho = float(rho)
    s = math.sqrt((1.0 - rho) * (1.0 + rho))
    d = b * s

    def outer(xv):
        a = b * rho * xv
        if d == 0.0:
            inner = math.tanh(a)
        else:
            w0 = abs(a) / d
            points = [w0] if 0.0 < w0 < GAUSS_CUTOFF else None
            inner = quad(_TANH_INNER, 0.0, GAUSS_CUTOFF, args=(a, d), epsabs=0.0, epsrel=QUAD_RTOL, limit=200, points=points)[0]
        return 2.0 * math.exp(-0.5 * xv * xv) * INV_SQRT_2PI * math.tanh(b * xv) * inner

    points = [1.0 / b] if 1.0 / b < GAUSS_CUTOFF else None
    return quad(outer, 0.0, GAUSS_CUTOFF, epsabs=0.0, epsrel=QUAD_RTOL, limit=200, points=points)[0]


@cache
def _activation_integrands(name: str):
    """(scalar kernel, LowLevelCallable of w -> phi(a + d w, beta) N(w)) for a registry activation."""
    from numerics.kernels.activations import activation

    kernel = activation(name).kernels.value

    @numba.cfunc(_LLC)
    def inner(n, xx):
        w = xx[0]
        return kernel(xx[1] + xx[2] * w, xx[3]) * math.exp(-0.5 * w * w) * INV_SQRT_2PI

    return kernel, LowLevelCallable(inner.ctypes)


def _breakpoints(lo: float, hi: float, *points: float) -> list[float] | None:
    inside = sorted({pt for pt in points if lo < pt < hi})
    return inside or None


def activation_self_overlap(name: str, beta: float, std: float) -> float:
    """E[phi(std z, beta)^2] for a standard Gaussian z."""
    kernel, _ = _activation_integrands(name)

    def f(zv):
        val = kernel(std * zv, beta)
        return val * val * math.exp(-0.5 * zv * zv) * INV_SQRT_2PI

    return quad(f, -GAUSS_CUTOFF, GAUSS_CUTOFF, epsabs=0.0, epsrel=QUAD_RTOL, limit=200, points=[0.0])[0]


def activation_cross_overlap(name: str, beta: float, std: float, rho: float) -> float:
    """E[phi(std u, beta) phi(std v, beta)] for unit Gaussians (u, v) with correlation rho (nested quad)."""
    kernel, inner = _activation_integrands(name)
    s = math.sqrt(max(0.0, (1.0 - rho) * (1.0 + rho)))
    d = std * s
    # absolute floors: 1e-13 of the unit's value at the field scale for the inner average (it cancels for
    # an odd phi), and of its square for the result (relative 1e-13 unless C ~ 0, as deep in the chaotic phase)
    scale = abs(kernel(std, beta))
    floor = 1e-13 * scale

    def outer(xv):
        a = std * rho * xv
        if d == 0.0:
            g = kernel(a, beta)
        else:
            points = _breakpoints(-GAUSS_CUTOFF, GAUSS_CUTOFF, -a / d, 0.0)
            g = quad(inner, -GAUSS_CUTOFF, GAUSS_CUTOFF, args=(a, d, beta), epsabs=floor, epsrel=QUAD_RTOL, limit=200, points=points)[0]
        return kernel(std * xv, beta) * math.exp(-0.5 * xv * xv) * INV_SQRT_2PI * g

    return quad(outer, -GAUSS_CUTOFF, GAUSS_CUTOFF, epsabs=floor * scale, epsrel=QUAD_RTOL, limit=200, points=[0.0])[0]


def overlap_recursion(
    perturbations,
    weights: str = "continuous",
    beta: float | None = None,
    activation: str | None = None,
    sigma: float = 1.0,
) -> Overlap:
    """Overlaps q_l of the reference and perturbed networks, l = 1..L, for the same +-1 input (q_0 = 1).

    * ``activation=None, beta=None``: sign units, q_l = (2/pi) asin(c_l q_{l-1}) (Eqs. 8, 11), computed in
      r = 1 - q (exact for tiny perturbations);
    * ``activation=None, beta=B``: stochastic +-1 units of Eq. 2, q_l = E[tanh(B h^) tanh(B h)] (Eq. 6) with
      Var h = sigma^2, Cov = sigma^2 c_l q_{l-1};
    * ``activation=NAME``: deterministic units a = phi(h, beta) (beta defaults to 1), normalized overlap
      q_l = C_l / Q_l with Q_l = E[phi^2] and C_l = E[phi(h^) phi(h)], Var h = sigma^2 Q_{l-1},
      Cov = sigma^2 c_l C_{l-1} (theory.function_space.activation_maps). With phi(s h, beta) =
      s^k phi(h, s beta) (theory.function_space.activation_scaling) the integrals are taken at unit
      scale and b = beta s, and only log s is carried, so no variance over- or underflows.

    c_l = sqrt(1 - eta_l^2) (continuous weights, variance sigma^2) or 1 - 2 p_l (binary, sigma = 1).
    """
    pert = check_perturbations(perturbations, weights)
    beta = check_beta(beta)
    sigma = check_positive(sigma, "sigma")
    if weights == "binary" and sigma != 1.0:
        raise ValueError(f"sigma applies to continuous weights only (binary weights are +-1), got sigma={sigma!r}")
    x = x_of_perturbation(pert, weights)
    c = 1.0 - x
    if activation is None:
        if beta is None:
            r = sign_recursion_errors(x)
            return Overlap(q=1.0 - r, error_per_layer=r / 2.0)
        q = np.empty(pert.size)
        prev = 1.0
        lb = math.log(beta) + math.log(sigma)  # b = beta sigma, clamped to the range where its limits are exact
        b = math.exp(min(max(lb, -LOG_B_LIMIT), LOG_B_LIMIT))
        small = math.exp(2.0 * min(lb + LOG_B_LIMIT, 0.0))  # E[tanh(b u) tanh(b v)] ~ b^2 as b -> 0
        for i, ci in enumerate(c):
            prev = tanh_overlap(ci * prev, b) * small
            q[i] = prev
        return Overlap(q=q, error_per_layer=(1.0 - q) / 2.0)
    check_activation(activation)
    beta = 1.0 if beta is None else beta
    if activation not in gen.ACTIVATION_SCALING:
        return _overlap_direct(activation, c, beta, sigma)
    k, m = gen.ACTIVATION_SCALING[activation]
    q = np.empty(pert.size)
    log_s, q_prev = math.log(sigma), 1.0  # field scale of layer 1 (Q_0 = 1); q_0 = C_0 / Q_0 = 1
    for i, ci in enumerate(c):
        lb = math.log(beta) + log_s
        b = math.exp(min(max(lb, -LOG_B_LIMIT), LOG_B_LIMIT))
        Q = activation_self_overlap(activation, b, 1.0)
        q_prev = activation_cross_overlap(activation, b, 1.0, ci * q_prev) / Q
        q[i] = q_prev
        log_s = math.log(sigma) + k * log_s + 0.5 * math.log(Q) + m * min(lb + LOG_B_LIMIT, 0.0)
    return Overlap(q=q, error_per_layer=(1.0 - q) / 2.0)


def _overlap_direct(activation: str, c, beta: float, sigma: float) -> Overlap:
    """The overlap map of a registered activation with no known scaling law: the field scale
    s_l = sigma sqrt(Q_(l-1)) is carried as it is (Q_0 = 1), q_l = C_l / Q_l."""
    q = np.empty(len(c))
    std, q_prev = sigma, 1.0
    for i, ci in enumerate(c):
        Q = activation_self_overlap(activation, beta, std)
        if not (math.isfinite(Q) and Q > 0.0):
            raise ValueError(f"the field variance of {activation!r} leaves the float64 range at layer {i + 1} "
                             f"(sigma={sigma!r}, beta={beta!r}); choose a smaller depth or sigma")
        q_prev = activation_cross_overlap(activation, beta, std, ci * q_prev) / Q
        q[i] = q_prev
        std = sigma * math.sqrt(Q)
    return Overlap(q=q, error_per_layer=(1.0 - q) / 2.0)


# ----------------------------------------------------------------------------- entropies


@njit(cache=True)
def _layer_entropy(lx, binary):
    if lx == -np.inf:
        return 0.0 if binary else -np.inf
    return gen.layer_entropy_binary(lx) if binary else gen.layer_entropy_continuous(lx)


def entropy(perturbations, weights: str = "continuous") -> float:
    """S_con = (1/L) sum log eta_l (Eq. 9) or S_bin = (1/L) sum H2(p_l) (Eq. 12)."""
    pert = check_perturbations(perturbations, weights)
    x = x_of_perturbation(pert, weights)
    binary = weights == "binary"
    with np.errstate(divide="ignore"):
        lx = np.log(x)
    return float(np.mean([_layer_entropy(v, binary) for v in lx]))


@njit(cache=True)
def _log_y(lr):
    """log A^-1(exp(lr)): the x that alone gives error r = exp(lr)."""
    if lr < LOG_SMALL:
        return gen.log_error_step_inverse_small(lr)
    return math.log(gen.error_step_inverse(math.exp(lr)))


@njit(cache=True)
def _chain(lr_out, ltheta, binary, lx, lr):
    """Backward chain from r_L = exp(lr_out) with budget fractions theta_l = r_l / y_(l+1).

    ltheta[l-1] = log theta_l (l = 1..L-1; -inf: layers 1..l unperturbed). Fills lx[l-1] = log x_l and
    lr[l-1] = log r_l; returns the entropy S = (1/L) sum_l s(x_l).
    """
    L = ltheta.size + 1
    total = 0.0
    cur = lr_out
    for l in range(L, 0, -1):
        lr[l - 1] = cur
        ly = _log_y(cur)
        if l == 1 or ltheta[l - 2] == -np.inf:
            lx[l - 1] = ly
            total += _layer_entropy(ly, binary)
            for j in range(l - 1):
                lx[j] = -np.inf
                lr[j] = -np.inf
                total += _layer_entropy(-np.inf, binary)
            break
        lt = ltheta[l - 2]
        lx[l - 1] = gen.log_budget_x(lt, ly)
        total += _layer_entropy(lx[l - 1], binary)
        cur = lt + ly
    return total / L


@njit(cache=True)
def _dp(lr_out, grids, binary):
    """Backward dynamic programme over the chains r_1 <= ... <= r_L = exp(lr_out) on grids of log r.

    Row i of ``grids`` holds (ascending) values of log r_(i+1), i = 0..L-2. value[i, g]: best entropy sum
    of layers i+2..L given log r_(i+1) = grids[i, g]; nxt[i, g]: the grid index of r_(i+2) on that
    path. first[j, g] = s(layer j+1 alone from r_j = 0) + value[j, g]: the face 'layers 1..j aligned'
    (theta_j = 0) with log r_(j+1) = grids[j, g]. Returns (value, nxt, first, last) with last the sum
    of the face 'layers 1..L-1 aligned' (only the output layer perturbed).
    """
    n_rows, G = grids.shape
    ly_out = _log_y(lr_out)
    value = np.full((n_rows, G), -np.inf)
    nxt = np.full((n_rows, G), -1, dtype=np.int64)
    first = np.full((n_rows, G), -np.inf)
    for g in range(G):
        lt = grids[n_rows - 1, g] - ly_out
        if lt < 0.0:
            value[n_rows - 1, g] = _layer_entropy(gen.log_budget_x(lt, ly_out), binary)
    for i in range(n_rows - 2, -1, -1):
        ly_next = np.empty(G)
        for gp in range(G):
            ly_next[gp] = _log_y(grids[i + 1, gp])
        for g in range(G):
            best = -np.inf
            arg = -1
            for gp in range(G - 1, -1, -1):  # r_(i+1) <= y(r_(i+2)): feasible from the top of row i+1 down
                lt = grids[i, g] - ly_next[gp]
                if lt >= 0.0:
                    break
                if value[i + 1, gp] == -np.inf:
                    continue
                val = _layer_entropy(gen.log_budget_x(lt, ly_next[gp]), binary) + value[i + 1, gp]
                if val > best:
                    best = val
                    arg = gp
            value[i, g] = best
            nxt[i, g] = arg
    for j in range(n_rows):
        for g in range(G):
            if value[j, g] > -np.inf:
                first[j, g] = _layer_entropy(_log_y(grids[j, g]), binary) + value[j, g]
    last = _layer_entropy(ly_out, binary)
    return value, nxt, first, last


@dataclass(frozen=True)
class MaxEntropy:
    """Maximum-entropy perturbation at output error epsilon (Li & Saad, Fig. 2a, b)."""

    error: float
    weights: str
    perturbation: np.ndarray  # eta_l or p_l, l = 1..L (0 where a layer equals the reference)
    log_perturbation: np.ndarray  # log eta_l or log p_l (finite where perturbation underflows)
    entropy: float  # S = (1/L) sum_l s_l at the maximum
    error_per_layer: np.ndarray  # delta_l = (1 - q_l)/2 along the optimal chain
    fractions: np.ndarray  # theta_l = r_l / A^-1(r_(l+1)), l = 1..L-1


def _grids(lr_out: float, layers: int, points: int, span: float) -> np.ndarray:
    """Rows l = 1..L-1 of log r below the largest reachable log r_l (layer l+1 unperturbed), ascending.

    Distances below the top are geometric from 1e-12 to ``span`` e-folds, doubled per layer back
    (log A^-1(r) ~ 2 log r): relative resolution everywhere, fine where theta -> 1.
    """
    tops, widths = [lr_out], [0.0]
    for _ in range(layers - 1):
        tops.append(float(_log_y(tops[-1])))
        widths.append(2.0 * widths[-1] + span)
    rows = [top - np.geomspace(width, 1e-12, points) for top, width in zip(tops[1:], widths[1:])]
    return np.array(rows[::-1])


def _polish(lr_out: float, ltheta: np.ndarray, binary: bool, extra=None):
    """Nelder-Mead on logit(theta_l) of the perturbed layers (those after the last unperturbed one).

    Returns (log theta, entropy or joint objective, last joint variable or None). ``extra``: optional
    (z0, log_error, objective) for a joint search (generalization): one more variable z, with
    log_error(z) = log r_L and objective(S, z) the function of the chain's entropy S to maximize.
    """
    free = np.flatnonzero(ltheta > -np.inf)
    lx = np.empty(ltheta.size + 1)
    lr = np.empty(ltheta.size + 1)

    def unpack(zs):
        lt = ltheta.copy()
        lt[free] = -np.logaddexp(0.0, -zs)  # log sigmoid
        return lt

    def objective(zs):
        if extra is None:
            return -_chain(lr_out, unpack(zs), binary, lx, lr)
        return -extra[2](_chain(extra[1](zs[-1]), unpack(zs[:-1]), binary, lx, lr), zs[-1])

    lt0 = np.minimum(ltheta[free], -1e-16)
    z0 = lt0 - np.array([gen.log1mexp(v) for v in lt0])  # logit(theta) from log theta
    if extra is not None:
        z0 = np.append(z0, extra[0])
    if z0.size == 0:
        return ltheta, -objective(z0), None
    res = optimize.minimize(
        objective, z0, method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-15, "maxiter": 20000, "maxfev": 40000}
    )
    best = res.x if res.fun <= objective(z0) else z0
    if extra is None:
        return unpack(best), -objective(best), None
    return unpack(best[:-1]), -objective(best), best[-1]


def _dp_candidates(lr_out: float, layers: int, binary: bool, points: int, span: float, keep: int):
    """(grid value, log theta) of the ``keep`` best grid-local maxima (distinct values) on every face of the programme.

    Face j (binary weights, j = 0..L-1): layers 1..j aligned, theta_j = 0; continuous weights have only
    face 0 (an aligned layer has entropy -oo). Different faces are separate branches, so a first-order
    switch between them is decided by the polished values, not by the grid.
    """
    grids = _grids(lr_out, layers, points, span)
    _, nxt, first, last = _dp(lr_out, grids, binary)
    n_rows = grids.shape[0]
    zero = 0.0 if binary else -np.inf
    out = []
    for j in range(n_rows if binary else 1):
        f = first[j]
        padded = np.concatenate([[-np.inf], f, [-np.inf]])
        peaks = np.flatnonzero((f > -np.inf) & (f >= padded[:-2]) & (f >= padded[2:]))
        taken = []  # a plateau of equal values (theta_j -> 0 approaching the next face) counts once
        for g in sorted(peaks, key=lambda g: -f[g]):
            if len(taken) == keep:
                break
            if any(abs(f[g] - v) <= 1e-12 * abs(v) for v in taken):
                continue
            taken.append(f[g])
            ltheta = np.full(layers - 1, -np.inf)
            idx = g
            for row in range(j, n_rows):
                nidx = nxt[row, idx] if row + 1 < n_rows else -1
                ly = _log_y(grids[row + 1, nidx]) if row + 1 < n_rows else _log_y(lr_out)
                ltheta[row] = grids[row, idx] - ly
                idx = nidx
            out.append(((f[g] + j * zero) / layers, ltheta))
    if binary:
        out.append((last / layers, np.full(layers - 1, -np.inf)))
    out.sort(key=lambda item: -item[0])
    return out


def _solve_max_entropy(lr_out: float, layers: int, binary: bool, points: int, span: float, keep: int):
    """Global maximum: every grid-local maximum of every face polished, the best kept (binary: set on a face
    when that loses nothing). Candidates more than PRUNE below the best polished value are not polished."""
    if layers == 1:
        return np.zeros(0), _chain(lr_out, np.zeros(0), binary, np.empty(1), np.empty(1))
    best = None
    for grid_value, ltheta in _dp_candidates(lr_out, layers, binary, points, span, keep):
        if best is not None and grid_value < best[1] - PRUNE * abs(best[1]) - 1e-9:
            continue
        lt, value, _ = _polish(lr_out, ltheta, binary)
        if binary:
            lt, value = _snap_to_faces(lr_out, lt, value)
        if best is None or value > best[1]:
            best = (lt, value)
    return best


def _snap_to_faces(lr_out: float, ltheta: np.ndarray, value: float):
    """Binary weights: a polish that ends near a face of the box (layers 1..j aligned) approaches it only
    asymptotically (p_j ~ 1e-30); set theta_j = 0 exactly when that loses no entropy (to 1e-15 relative)."""
    work = np.empty(ltheta.size + 1)
    for j in range(ltheta.size):
        if ltheta[j] == -np.inf:
            continue
        trial = ltheta.copy()
        trial[: j + 1] = -np.inf
        v = _chain(lr_out, trial, True, work, work.copy())
        if v >= value - 1e-15 * abs(value):
            ltheta, value = trial, v
    return ltheta, value


def max_entropy_perturbation(
    error: float, layers: int, weights: str = "continuous", grid_points: int = 600, span: float = 50.0, candidates: int = 4
) -> MaxEntropy:
    """Perturbation vector of maximum entropy with output error epsilon = (1 - q_L)/2, beta -> oo.

    Maximizes S_con = (1/L) sum log eta_l or S_bin = (1/L) sum H2(p_l) on the surface q_L = 1 - 2 epsilon.
    The surface is parametrized, from the output back, by log r_l = log(1 - q_l): given r_l the layer-l
    perturbation follows from r_(l-1) = theta_l A^-1(r_l) (theory.function_space.budget_perturbation).
    Global maximum: a backward dynamic programme over all chains log r_1 <= ... <= log r_(L-1) on grids
    of ``grid_points`` values per layer (geometric distances, up to ``span`` e-folds doubled per layer
    back, below the largest reachable r) is exhaustive on the grid. Each face 'layers 1..j aligned'
    (binary weights) is a branch of its own; the best ``candidates`` distinct grid maxima of every branch
    are polished (Nelder-Mead in logit theta, aligned layers kept at zero; binary solutions that approach
    a face are set on it) and the best polished one is returned, so a first-order switch between
    branches is decided by polished values, not by the grid. Everything is computed in log r, log x
    (x = 1 - c), so tiny errors keep full relative precision (eta_1 ~ eps^8 for L = 4 stays finite in
    log_perturbation). L <= MAX_LAYERS bounds the work.
    """
    error = check_error(error)
    layers = check_layers(layers)
    check_weights(weights)
    binary = weights == "binary"
    lr_out = math.log(2.0 * error)
    ltheta, _ = _solve_max_entropy(lr_out, layers, binary, grid_points, span, candidates)
    return _max_entropy_result(error, weights, lr_out, ltheta, binary)


def _max_entropy_result(error, weights, lr_out, ltheta, binary) -> MaxEntropy:
    layers = ltheta.size + 1
    lx = np.empty(layers)
    lr = np.empty(layers)
    value = _chain(lr_out, ltheta, binary, lx, lr)
    if binary:
        logp = np.array([gen.log_p_of_log_x(v) if v > -np.inf else -np.inf for v in lx])
    else:
        logp = np.array([gen.log_eta_of_log_x(v) for v in lx])
    return MaxEntropy(
        error=error,
        weights=weights,
        perturbation=np.exp(logp),
        log_perturbation=logp,
        entropy=float(value),
        error_per_layer=np.exp(lr) / 2.0,
        fractions=np.exp(ltheta),
    )


@dataclass(frozen=True)
class SwitchOn:
    """Binary weights: layer ``layer`` is aligned (p = 0) at the maximum below ``error`` and perturbed above;
    ``below``/``above``: the maxima at the ends of the final bracket (a first-order jump of every p_l)."""

    layer: int
    error: float
    below: MaxEntropy
    above: MaxEntropy


def switch_on_errors(layers: int, grid_points: int = 600, scan: int = 40, xtol: float = 1e-9) -> list[SwitchOn]:
    """Errors at which layers 1..L-1 switch on (binary weights): a scan of ``scan`` errors in (0, 1/2), then
    bisection of 'p_l > 0 at the maximum' to ``xtol`` in every interval where it changes."""
    layers = check_layers(layers)

    def solve(e):
        return max_entropy_perturbation(e, layers, "binary", grid_points=grid_points)

    errors = np.linspace(0.5 / scan, 0.5 * (1.0 - 1e-6), scan)
    rows = [solve(float(e)) for e in errors]
    out = []
    for layer in range(1, layers):
        on = [r.perturbation[layer - 1] > 0.0 for r in rows]
        for i in range(scan - 1):
            if not on[i] and on[i + 1]:
                lo, hi, below, above = float(errors[i]), float(errors[i + 1]), rows[i], rows[i + 1]
                while hi - lo > xtol:
                    mid = 0.5 * (lo + hi)
                    res = solve(mid)
                    if res.perturbation[layer - 1] > 0.0:
                        hi, above = mid, res
                    else:
                        lo, below = mid, res
                out.append(SwitchOn(layer=layer, error=0.5 * (lo + hi), below=below, above=above))
    return out


# ----------------------------------------------------------------------------- generalization


@dataclass(frozen=True)
class Generalization:
    """Annealed generalization: eps*(alpha) = argmax_eps [S(eps) + alpha log(1 - eps)] (Fig. 2c)."""

    alpha: np.ndarray
    error: np.ndarray  # eps*(alpha) (0 for binary weights beyond perfect generalization)
    entropy: np.ndarray  # S(eps*)
    perturbation: np.ndarray  # (len(alpha), L) maximum-entropy perturbation at eps*


def generalization_curve(
    alphas, layers: int, weights: str = "continuous", table_points: int = 64, grid_points: int = 300
) -> Generalization:
    """Annealed generalization error eps*(alpha) for alpha = P/(L N^2) examples per weight.

    Li & Saad: P examples of the reference reshape the weight volume at error eps to
    Omega_0(eps)(1 - eps)^P (annealed approximation), so the typical error maximizes
    S(eps) + alpha log(1 - eps) with S(eps) the maximum entropy at error eps. Global in eps: S is
    tabulated (:func:`max_entropy_perturbation`) on ``table_points`` log-spaced errors; for each alpha
    the best table point seeds a joint Nelder-Mead in (logit 2 eps, theta). The boundary eps = 1/2 (the
    random function, every layer decorrelated, S = max entropy) competes, and for binary weights eps = 0
    (the reference itself, S = 0): the curve starts on eps* = 1/2 and jumps (continuous weights, L = 4:
    at alpha ~ 5.53 to eps ~ 0.39; binary weights: straight to 0 at alpha = 1). Large alpha:
    eps* -> K/(alpha + K), K = (2^L - 1)/L (continuous weights; theory.function_space.generalization_asymptote).
    """
    layers = check_layers(layers, MAX_GENERALIZATION_LAYERS)
    check_weights(weights)
    alphas = np.atleast_1d(np.asarray(alphas, dtype=np.float64))
    if alphas.ndim != 1 or np.any(~np.isfinite(alphas)) or np.any(alphas <= 0.0):
        raise ValueError(f"alpha must be finite numbers > 0, got {alphas!r}")
    binary = weights == "binary"
    top = 0.5 if binary else 1.0  # perturbation that decorrelates a layer completely
    K = gen.entropy_growth_exponent(layers)
    eps_lo = min(1e-3, 0.05 * K / float(alphas.max()))
    table_eps = np.geomspace(eps_lo, 0.5 * (1.0 - 1e-6), table_points)
    table = [
        _solve_max_entropy(math.log(2.0 * e), layers, binary, grid_points, 50.0, 4) for e in table_eps
    ]
    out_eps, out_s, out_pert = [], [], []
    for alpha in alphas:
        scores = np.array([gen.annealed_objective(value, alpha, e) for e, (_, value) in zip(table_eps, table)])

        def log_error(zv):  # z = logit(2 eps) -> log r_L = log(2 eps)
            return -np.logaddexp(0.0, -zv)

        def objective(value, zv, alpha=alpha):
            return gen.annealed_objective_of_log_error(value, alpha, log_error(zv))

        # polish from every local maximum of the table (the interior branch competes with eps -> 1/2)
        interior, eps, ltheta = -np.inf, math.nan, None
        padded = np.concatenate([[-np.inf], scores, [-np.inf]])
        for j in np.flatnonzero((scores >= padded[:-2]) & (scores >= padded[2:])):
            z0 = math.log(2.0 * table_eps[j]) - math.log1p(-2.0 * table_eps[j])
            lt, value, z = _polish(0.0, table[j][0], binary, extra=(z0, log_error, objective))
            e = 0.5 * math.exp(-np.logaddexp(0.0, -z))
            if 0.0 < e < 0.5 and value > interior:
                interior, eps, ltheta = value, e, lt
        # boundaries: eps = 1/2 (random function, every layer fully perturbed), eps = 0 (binary: the reference)
        s_half = entropy(np.full(layers, top), weights)
        half = gen.annealed_objective(s_half, alpha, 0.5)
        zero = 0.0 if binary else -np.inf
        if interior >= max(half, zero):
            result = _max_entropy_result(eps, weights, math.log(2.0 * eps), ltheta, binary)
            out_eps.append(eps)
            out_s.append(result.entropy)
            out_pert.append(result.perturbation)
        elif half >= zero:
            out_eps.append(0.5)
            out_s.append(s_half)
            out_pert.append(np.full(layers, top))
        else:
            out_eps.append(0.0)
            out_s.append(0.0)
            out_pert.append(np.zeros(layers))
    return Generalization(alpha=alphas, error=np.array(out_eps), entropy=np.array(out_s), perturbation=np.array(out_pert))


# numba revalidates a cached function against its own file only; these inline the generated kernels
flush_stale_caches(__name__, (__file__, gen.__file__))
