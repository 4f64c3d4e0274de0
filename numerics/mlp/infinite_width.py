"""Infinite-width kernels of fully connected networks: NNGP and NTK as matrices over data (their Monte
Carlo twin is numerics.simulate.kernels).

Convention (neural-tangents, Novak et al. 2020): h^1 = sigma_w W x / sqrt(d) + sigma_b b,
h^{l+1} = sigma_w W phi(h^l) / sqrt(n_l) + sigma_b b, W and b standard normal. As every width -> oo,

    K^1(x, x') = sigma_w^2 x.x'/d + sigma_b^2,
    K^{l+1} = sigma_w^2 E[phi(u) phi(v)] + sigma_b^2,              (u, v) ~ N(0, K^l restricted to x, x')
    Theta^1 = K^1,  Theta^{l+1} = K^{l+1} + sigma_w^2 E[phi'(u) phi'(v)] Theta^l     (Jacot et al. 2018)

and :func:`nngp` / :func:`ntk` return K / Theta of the output pre-activations after ``depth`` hidden
layers (``depth`` = 0: the linear kernel K^1).

The Gaussian expectations: closed forms for ReLU (arc-cosine, Cho & Saul 2009), linear, erf(beta h)
and sign (arcsine, Williams 1997); for every other registry activation a tensor quadrature in
the whitened variables (u = sqrt(a) z1, v = sqrt(b)(rho z1 + sqrt(1-rho^2) z2)): composite
Gauss-Legendre panels on |z| <= 9, halved until two rules agree to ``QUAD_TOL`` of the kernel's scale sqrt(E phi(u)^2 E phi(v)^2). When all
inputs give the same variance to 1e-13 relative (inputs of equal norm, the usual preprocessing), the map is a function
of the correlation rho alone: it is tabulated on adaptive Chebyshev panels of rho in [-1, 1], each
accepted only when the interpolant matches fresh quadrature at the panel's check points to
``TABLE_TOL``, and interpolated. Otherwise the map is summed from Mehler's formula (the Hermite expansion of
the bivariate normal density, e.g. O'Donnell, Analysis of Boolean Functions, ch. 11),

    E[f(u) f(v)] = sum_k rho^k c_k(a) c_k(b),      c_k(q) = E[f(sqrt(q) z) He_k(z)] / sqrt(k!),

with the coefficients computed once per distinct variance (the diagonal of K^l takes at most n1 + n2 values) and
each entry's sum stopped where the Cauchy-Schwarz bound of the rest, |rho|^(k+1) sqrt(T_k(a) T_k(b)) with
T_k = E f^2 - sum_{m <= k} c_m^2 (Parseval), is below ``SERIES_TOL`` of the scale; entries at correlation +-1 are
one-dimensional integrals, and the rare entries the series does not resolve (|rho| near 1, a variance so large
that the coefficients decay slowly) are integrated directly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache, partial

import numba
import numpy as np
from scipy import special

from numerics import validate
from numerics.kernels.activations import NAMES as REGISTRY
from numerics.kernels.activations import activation as registry_activation

EXTRA = ("erf", "sign")  # closed-form activations beyond the registry: erf(beta h), sign(h)
CLOSED_FORM = ("relu", "linear", "erf", "sign")
QUAD_TOL = 1e-12  # quadrature: successive rules agree to this fraction of the kernel scale
TABLE_TOL = 1e-11  # interpolation in rho: error at the check points, fraction of the kernel scale
LEGENDRE_ORDER = 16
CUTOFF = 9.0  # |z| beyond which the standard normal has mass 2e-19
PANEL_DEGREE = 24
SERIES_TOL = 1e-12  # Mehler series: bound of the truncated rest, fraction of the kernel scale
TAIL_FLOOR = 1e-13  # added to each relative Hermite tail: its quadrature and rounding error
HERMITE_MAX = 1024  # highest Hermite order; entries the series does not resolve by then are integrated directly
EQUAL_VARIANCE = 1e-13  # relative spread of the variances below which the tabulated map of rho is used
CHUNK = 1 << 22  # integrand evaluations per vectorized block


# -- validation ------------------------------------------------------------------------------------


def check_arguments(X1, X2, depth, activation, sigma_w, sigma_b, beta):
    X1 = validate.real_array("X1", X1, ndim=2, expected="a 2-D array (inputs x features)")
    X2 = X1 if X2 is None else validate.real_array("X2", X2, ndim=2, expected="a 2-D array (inputs x features)")
    if X2.shape[1] != X1.shape[1]:
        raise ValueError(f"X1 and X2 must have the same number of features, got {X1.shape[1]} and {X2.shape[1]}")
    depth = validate.integer("depth", depth, low=0, expected="an integer >= 0 (hidden layers)")
    validate.known("activation", activation, (*REGISTRY, *EXTRA))  # the registry is live: registered activations count
    return (X1, X2, depth, activation, validate.real("sigma_w", sigma_w, low=0.0),
            validate.real("sigma_b", sigma_b, low=0.0), validate.real("beta", beta))


# -- activations and Gaussian expectations ---------------------------------------------------------


def phi(name: str, beta: float, derivative: bool = False):
    """phi(h) (or phi'(h)) of an activation as a vectorized numpy function."""
    if name == "erf":
        return (lambda h: 2 * beta / math.sqrt(math.pi) * np.exp(-(beta * h) ** 2)) if derivative else (lambda h: special.erf(beta * h))
    if name == "sign":
        if derivative:
            raise ValueError("sign has no derivative (a delta function): its NTK is infinite")
        return np.sign
    act = registry_activation(name)
    return (lambda h: act.d_h(h, beta)) if derivative else (lambda h: act.value(h, beta))


def _closed_form(name: str, beta: float, derivative: bool, a, b, c):
    """E[f(u) f(v)], (u, v) ~ N(0, [[a, c], [c, b]]), f = phi or phi' of a closed-form activation."""
    ab = np.sqrt(a * b)
    rho = np.clip(np.divide(c, ab, out=np.zeros(np.broadcast(a, b, c).shape), where=ab > 0), -1.0, 1.0)
    if name == "linear":
        return np.ones_like(rho) if derivative else c + 0.0 * rho
    if name == "relu":
        theta = np.arccos(rho)
        if derivative:
            return (np.pi - theta) / (2 * np.pi) + 0.0 * ab
        return ab / (2 * np.pi) * (np.sin(theta) + (np.pi - theta) * rho)
    if name == "sign":
        return 2 / np.pi * np.arcsin(rho)
    # erf(beta h)
    k = 2 * beta * beta
    if derivative:
        return 2 * k / np.pi / np.sqrt((1 + k * a) * (1 + k * b) - (k * c) ** 2)
    return 2 / np.pi * np.arcsin(k * c / np.sqrt((1 + k * a) * (1 + k * b)))


@cache
def _rule(panels: int) -> tuple[np.ndarray, np.ndarray]:
    """Composite Gauss-Legendre rule (``panels`` equal panels of LEGENDRE_ORDER points on [-CUTOFF, CUTOFF])
    for the standard normal measure: analytic integrands converge geometrically in the panel width, where a
    Gauss-Hermite rule converges only like exp(-c sqrt(n)) for an activation with complex poles (tanh)."""
    x, w = np.polynomial.legendre.leggauss(LEGENDRE_ORDER)
    edges = np.linspace(-CUTOFF, CUTOFF, panels + 1)
    half, mid = 0.5 * np.diff(edges), 0.5 * (edges[1:] + edges[:-1])
    z = (mid[:, None] + half[:, None] * x).ravel()
    return z, (half[:, None] * w).ravel() * np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)


def _pair_rule(f, a, b, c, n: int) -> np.ndarray:
    """Tensor composite Gauss-Legendre value of E[f(u) f(v)] for 1-D arrays a, b, c."""
    z, w = _rule(n)
    ab = np.sqrt(a * b)
    rho = np.clip(np.divide(c, ab, out=np.zeros_like(c), where=ab > 0), -1.0, 1.0)
    s = np.sqrt((1 - rho) * (1 + rho))
    out = np.empty(a.size)
    step = max(1, CHUNK // z.size**2)
    for lo in range(0, a.size, step):
        sl = slice(lo, lo + step)
        fu = f(np.sqrt(a[sl])[:, None] * z)  # (m, n)
        v = np.sqrt(b[sl])[:, None, None] * (rho[sl, None, None] * z[None, :, None] + s[sl, None, None] * z[None, None, :])
        inner = f(v) @ w  # (m, n): E over z2
        out[sl] = (fu * inner) @ w
    return out


def _self_rule(f, a, n: int) -> np.ndarray:
    z, w = _rule(n)
    return (f(np.sqrt(a)[:, None] * z) ** 2) @ w


def _refine(rule, scale_of, max_panels: int, n: int = 8):
    """Halve the panels until two successive rules agree to QUAD_TOL of the scale."""
    prev = rule(n)
    while True:
        n *= 2
        cur = rule(n)
        err = np.max(np.abs(cur - prev) / scale_of(cur))
        if err <= QUAD_TOL:
            return cur
        if n >= max_panels:
            raise ValueError(f"Gaussian quadrature did not reach {QUAD_TOL:g} relative accuracy with {n} panels "
                             f"(error {err:.2g}); the activation varies too fast for these variances")
        prev = cur


def self_expectation(f, a) -> np.ndarray:
    """E[f(u)^2], u ~ N(0, a), for an array of variances a (error-controlled composite Gauss-Legendre)."""
    a = np.atleast_1d(np.asarray(a, dtype=np.float64))
    return _refine(lambda n: _self_rule(f, a, n), lambda v: np.maximum(np.abs(v), np.finfo(float).tiny), 512)


def pair_expectation(f, a, b, c) -> np.ndarray:
    """E[f(u) f(v)], (u, v) ~ N(0, [[a, c], [c, b]]), for 1-D arrays (error-controlled tensor composite Gauss-Legendre;
    error relative to sqrt(E f(u)^2 E f(v)^2))."""
    a, b, c = (np.atleast_1d(np.asarray(x, dtype=np.float64)) for x in np.broadcast_arrays(a, b, c))
    scale = np.sqrt(self_expectation(f, a) * self_expectation(f, b))
    tiny = np.finfo(float).tiny
    return _refine(lambda n: _pair_rule(f, a, b, c, n), lambda v: np.maximum(scale, tiny), 64)


# -- Hermite (Mehler) series for unequal variances --------------------------------------------------


@dataclass
class HermiteSeries:
    """f(sqrt(q_i) z) = sum_k c_ik He_k(z) / sqrt(k!) for each variance q_i, with the root of each tail relative to the
    norm, s_ik = sqrt((E f^2 - sum_{m <= k} c_im^2) / E f^2 + TAIL_FLOOR) (inf beyond the orders computed)."""

    coefficients: np.ndarray  # (n, K + 1)
    root_tails: np.ndarray  # (n, K + 1)
    norms: np.ndarray  # (n,) E f(sqrt(q) z)^2


def _hermite_functions(z: np.ndarray, order: int) -> np.ndarray:
    """He_k(z) / sqrt(k!) for k = 0..order (rows), by the three-term recurrence of the orthonormal polynomials."""
    H = np.empty((order + 1, z.size))
    H[0] = 1.0
    if order:
        H[1] = z
    for k in range(1, order):
        H[k + 1] = (z * H[k] - math.sqrt(k) * H[k - 1]) / math.sqrt(k + 1)
    return H


def _hermite_rule(f, q: np.ndarray, order: int, n: int) -> np.ndarray:
    """Coefficients c_0..c_order and sqrt(E f^2) (last column) by the composite rule of n panels."""
    z, w = _rule(n)
    values = f(np.sqrt(q)[:, None] * z)
    weighted = values * w
    return np.hstack([weighted @ _hermite_functions(z, order).T, np.sqrt((weighted * values).sum(axis=1))[:, None]])


def hermite_series(f, q) -> HermiteSeries:
    """The Hermite coefficients of f(sqrt(q) z), z ~ N(0, 1), for an array of variances q: orders doubled from 64 up
    to HERMITE_MAX until the relative tail is below SERIES_TOL / 10 (each order's quadrature refined to QUAD_TOL of
    sqrt(E f^2)); a variance still unresolved keeps its HERMITE_MAX terms, and entries needing more fall back to
    direct quadrature. Like every rule here the integrals stop at |z| = CUTOFF: the coefficients are those of f
    restricted to |z| <= CUTOFF (orders k >~ 20 differ from f's by up to e^{-CUTOFF^2/4} ~ 1e-9 of sqrt(E f^2)), and
    Mehler's sum of them is the expectation over that same truncated measure, within 2e-19 of the mass."""
    q = np.atleast_1d(np.asarray(q, dtype=np.float64))
    found, todo, order = {}, np.arange(q.size), 64
    while todo.size:
        out = np.vstack([_refine(partial(_hermite_rule, f, q[part], order), lambda v: np.maximum(v[:, -1:], np.finfo(float).tiny),
                                 HERMITE_MAX, max(8, order // 8)) for part in np.array_split(todo, -(-todo.size // 256))])
        c, norm = out[:, :-1], out[:, -1] ** 2
        safe = np.where(norm > 0, norm, 1.0)
        tail = np.maximum(norm[:, None] - np.cumsum(c * c, axis=1), 0.0) / safe[:, None]
        done = (tail[:, -1] <= SERIES_TOL / 10) | (order >= HERMITE_MAX)
        for i, row in zip(todo[done], np.flatnonzero(done)):
            found[i] = (c[row], np.sqrt(tail[row] + TAIL_FLOOR), norm[row])
        todo, order = todo[~done], 2 * order
    width = max(len(found[i][0]) for i in found)
    coefficients, root_tails = np.zeros((q.size, width)), np.full((q.size, width), np.inf)
    for i, (c, s, _) in found.items():
        coefficients[i, :c.size], root_tails[i, :s.size] = c, s
    return HermiteSeries(coefficients, root_tails, np.array([found[i][2] for i in range(q.size)]))


@numba.njit(cache=True)
def _mehler_row(i, C, a, b, rows, cols, coefficients, root_tails, tol, symmetric, out):
    """Row i of :func:`_mehler` (from the diagonal on, mirrored, when ``symmetric``)."""
    p = rows[i]
    for j in range(i if symmetric else 0, C.shape[1]):
        ab = math.sqrt(a[i] * b[j])
        r = min(max(C[i, j] / ab, -1.0), 1.0) if ab > 0 else 0.0
        t = cols[j]
        value, total, power = np.nan, 0.0, 1.0
        for k in range(coefficients.shape[1]):
            total += power * coefficients[p, k] * coefficients[t, k]
            power *= r
            if power == 0.0 or abs(power) * root_tails[p, k] * root_tails[t, k] <= tol:
                value = total
                break
        out[i, j] = value
        if symmetric:
            out[j, i] = value


@numba.njit(parallel=True, cache=True)
def _mehler(C, a, b, rows, cols, coefficients, root_tails, tol, symmetric, out):
    """out[i, j] = sum_k rho^k c[rows[i], k] c[cols[j], k] (Mehler's formula), rho = C[i, j] / sqrt(a[i] b[j]) clipped
    to [-1, 1] (0 where a variance is 0), summed until the Cauchy-Schwarz bound of the rest,
    |rho|^(k+1) s[rows[i], k] s[cols[j], k], is below tol (relative to the scale); NaN where the computed orders do not
    reach it. ``symmetric`` (C symmetric, a = b): the upper triangle, mirrored, rows i and n - 1 - i together so
    that the threads share the work evenly."""
    n = C.shape[0]
    rows_to_do = (n + 1) // 2 if symmetric else n
    for m in numba.prange(rows_to_do):
        _mehler_row(m, C, a, b, rows, cols, coefficients, root_tails, tol, symmetric, out)
        if symmetric and n - 1 - m != m:
            _mehler_row(n - 1 - m, C, a, b, rows, cols, coefficients, root_tails, tol, symmetric, out)


def mehler_expectation(f, a, b, C, symmetric: bool = False) -> np.ndarray:
    """E[f(u) f(v)] over a matrix of covariances C with row variances a and column variances b, from the Hermite series
    of f at each distinct variance: E = sum_k rho^k c_k(a) c_k(b) (Mehler's formula), truncated where the
    Cauchy-Schwarz bound of the rest is below SERIES_TOL of sqrt(E f(u)^2 E f(v)^2); entries it does not resolve: at
    correlation +-1 a one-dimensional integral, otherwise (|rho| near 1 with a slowly converging series) direct
    quadrature. ``symmetric``: C is symmetric and a = b (a kernel of a data set with itself), only its upper triangle
    is computed."""
    a, b, C = (np.ascontiguousarray(x, dtype=np.float64) for x in (a, b, C))
    q, inverse = np.unique(np.concatenate([a, b]), return_inverse=True)
    series = hermite_series(f, q)
    out = np.empty(C.shape)
    _mehler(C, a, b, inverse[:a.size], inverse[a.size:], series.coefficients, series.root_tails, SERIES_TOL, symmetric, out)
    i, j = np.nonzero(np.isnan(out))
    if i.size:
        A, B, c = a[i], b[j], C[i, j]
        rho = np.clip(np.divide(c, np.sqrt(A * B), out=np.zeros(c.size), where=A * B > 0), -1.0, 1.0)
        aligned = np.abs(rho) == 1.0  # u, v proportional: a one-dimensional integral
        values = np.empty(c.size)
        if aligned.any():
            values[aligned] = aligned_expectation(f, A[aligned], B[aligned] * rho[aligned])
        if not aligned.all():
            values[~aligned] = pair_expectation(f, A[~aligned], B[~aligned], c[~aligned])
        out[i, j] = values
    return out


def aligned_expectation(f, a, signed_b) -> np.ndarray:
    """E[f(sqrt(a) z) f(+-sqrt(|b|) z)], z ~ N(0, 1), the sign that of signed_b: the map at correlation +-1
    (error-controlled composite Gauss-Legendre, relative to sqrt(E f(u)^2 E f(v)^2))."""
    a, signed_b = np.atleast_1d(a), np.atleast_1d(signed_b)
    scale = np.sqrt(self_expectation(f, a) * self_expectation(f, np.abs(signed_b)))

    def rule(n):
        z, w = _rule(n)
        return (f(np.sqrt(a)[:, None] * z) * f((np.sign(signed_b) * np.sqrt(np.abs(signed_b)))[:, None] * z)) @ w

    return _refine(rule, lambda v: np.maximum(scale, np.finfo(float).tiny), 512)


# -- tabulation over the correlation ---------------------------------------------------------------


@cache
def _cheb(deg: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Chebyshev points of the second kind on [-1, 1], barycentric weights, and the check points between them."""
    k = np.arange(deg + 1)
    x = -np.cos(np.pi * k / deg)
    bw = (-1.0) ** k
    bw[[0, -1]] *= 0.5
    mid = -np.cos(np.pi * (k[:-1] + 0.5) / deg)
    return x, bw, mid


def _barycentric(xk, fk, bw, x):
    d = x[:, None] - xk[None, :]
    exact = d == 0
    d[exact] = 1.0
    t = bw / d
    out = (t @ fk) / t.sum(axis=1)
    hit = exact.any(axis=1)
    out[hit] = fk[np.argmax(exact[hit], axis=1)]
    return out


@dataclass
class RhoTable:
    """F(rho) on [-1, 1] as accepted Chebyshev panels (edges, node values)."""

    edges: np.ndarray
    values: list

    def __post_init__(self):
        xk, _, _ = _cheb(PANEL_DEGREE)
        self.coefficients = np.array([np.polynomial.chebyshev.chebfit(xk, fk, PANEL_DEGREE) for fk in self.values])

    def __call__(self, rho) -> np.ndarray:
        rho = np.asarray(rho, dtype=np.float64)
        flat = np.ascontiguousarray(rho.ravel())
        out = np.empty(flat.size)
        _clenshaw(flat, self.edges, self.coefficients, out)
        return out.reshape(rho.shape)


@numba.njit(parallel=True, cache=True)
def _clenshaw(rho, edges, coefficients, out):
    """out[i] = the Chebyshev series of the panel holding rho[i] (clipped to [-1, 1]), by Clenshaw's recurrence."""
    panels, terms = coefficients.shape
    for i in numba.prange(rho.size):
        r = min(max(rho[i], -1.0), 1.0)
        p = np.searchsorted(edges, r, side="right") - 1
        p = min(max(p, 0), panels - 1)
        lo, hi = edges[p], edges[p + 1]
        t = (2.0 * r - lo - hi) / (hi - lo)
        b1 = 0.0
        b2 = 0.0
        for k in range(terms - 1, 0, -1):
            b1, b2 = 2.0 * t * b1 - b2 + coefficients[p, k], b1
        out[i] = t * b1 - b2 + coefficients[p, 0]


def rho_table(F, scale: float, tol: float = TABLE_TOL, min_width: float = 1e-9) -> RhoTable:
    """Adaptive Chebyshev panels for F on [-1, 1]: a panel is kept when its degree-PANEL_DEGREE interpolant
    matches F at the PANEL_DEGREE check points between its nodes to tol * scale; otherwise it is halved."""
    xk, bw, mid = _cheb(PANEL_DEGREE)
    todo, done = [(-1.0, 1.0)], []
    while todo:
        lo, hi = todo.pop()
        half, centre = 0.5 * (hi - lo), 0.5 * (hi + lo)
        fk = F(centre + half * xk)
        err = np.max(np.abs(_barycentric(xk, fk, bw, mid) - F(centre + half * mid)))
        if err <= tol * scale:
            done.append((lo, hi, fk))
        elif hi - lo < min_width:
            raise ValueError(f"kernel map not resolved to {tol:g} near rho = {centre:.12g}")
        else:
            todo += [(centre, hi), (lo, centre)]
    done.sort(key=lambda p: p[0])
    return RhoTable(np.array([p[0] for p in done] + [1.0]), [p[2] for p in done])


def expectation(name: str, beta: float, derivative: bool, a, b, C, symmetric: bool = False) -> np.ndarray:
    """E[f(u) f(v)] for f = phi or phi' over a matrix of covariances C with row variances a, column variances b
    (``symmetric``: C symmetric and a = b)."""
    a2, b2 = np.asarray(a)[:, None], np.asarray(b)[None, :]
    if name in CLOSED_FORM:
        return _closed_form(name, beta, derivative, a2, b2, C)
    f = phi(name, beta, derivative)
    q = a2.flat[0]
    if np.all(np.abs(a2 - q) <= EQUAL_VARIANCE * q) and np.all(np.abs(b2 - q) <= EQUAL_VARIANCE * q):
        scale = float(self_expectation(f, [q])[0])
        if q == 0:
            return np.full(C.shape, scale)
        table = rho_table(lambda rho: pair_expectation(f, np.full(rho.size, q), np.full(rho.size, q), q * rho),
                          max(scale, np.finfo(float).tiny))
        return table(C / q)
    return mehler_expectation(f, a, b, C, symmetric)


# -- kernels ---------------------------------------------------------------------------------------


def _kernels(X1, X2, depth, name, sigma_w, sigma_b, beta, want_ntk):
    d = X1.shape[1]
    sw2, sb2 = sigma_w**2, sigma_b**2
    K = sw2 * (X1 @ X2.T) / d + sb2
    d1 = sw2 * np.einsum("ij,ij->i", X1, X1) / d + sb2
    d2 = sw2 * np.einsum("ij,ij->i", X2, X2) / d + sb2
    symmetric = X1 is X2
    if symmetric:  # the diagonal is the variance of each input: correlation exactly 1 there
        np.fill_diagonal(K, d1)
    T = K.copy() if want_ntk else None
    for _ in range(depth):
        if want_ntk:
            T = sw2 * expectation(name, beta, True, d1, d2, K, symmetric) * T
        K = sw2 * expectation(name, beta, False, d1, d2, K, symmetric) + sb2
        d1 = sw2 * _diag(name, beta, d1) + sb2
        if symmetric:
            d2 = d1
            np.fill_diagonal(K, d1)
        else:
            d2 = sw2 * _diag(name, beta, d2) + sb2
        if want_ntk:
            T += K
    return T if want_ntk else K


def _diag(name, beta, a):
    if name in CLOSED_FORM:
        return _closed_form(name, beta, False, a, a, a)
    return self_expectation(phi(name, beta), a)


def nngp(X1, X2=None, *, depth: int, activation: str, sigma_w: float, sigma_b: float, beta: float = 1.0) -> np.ndarray:
    """The NNGP kernel K^{depth+1}(X1, X2) (n1, n2) of a fully connected net with ``depth`` hidden layers of
    activation phi(h, beta) (a registry name, or erf / sign); X2 defaults to X1."""
    args = check_arguments(X1, X2, depth, activation, sigma_w, sigma_b, beta)
    return _kernels(*args, want_ntk=False)


def ntk(X1, X2=None, *, depth: int, activation: str, sigma_w: float, sigma_b: float, beta: float = 1.0) -> np.ndarray:
    """The neural tangent kernel Theta^{depth+1}(X1, X2) (n1, n2), same arguments as :func:`nngp`."""
    args = check_arguments(X1, X2, depth, activation, sigma_w, sigma_b, beta)
    if args[3] == "sign":
        raise ValueError("activation 'sign' has no NTK (its derivative is a delta function)")
    return _kernels(*args, want_ntk=True)


# -- Monte Carlo twin ------------------------------------------------------------------------------
