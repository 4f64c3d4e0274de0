"""Infinite-width kernels of fully connected networks: NNGP and NTK as matrices over data, and their
Monte Carlo twin.

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
``TABLE_TOL``, and interpolated; otherwise every entry is integrated directly (O(n1 n2) quadratures:
normalize the inputs for large kernels).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import numba
import numpy as np
from scipy import special

from numerics import validate
from numerics.activations import NAMES as REGISTRY
from numerics.activations import activation as registry_activation

EXTRA = ("erf", "sign")  # closed-form activations beyond the registry: erf(beta h), sign(h)
CLOSED_FORM = ("relu", "linear", "erf", "sign")
QUAD_TOL = 1e-12  # quadrature: successive rules agree to this fraction of the kernel scale
TABLE_TOL = 1e-11  # interpolation in rho: error at the check points, fraction of the kernel scale
LEGENDRE_ORDER = 16
CUTOFF = 9.0  # |z| beyond which the standard normal has mass 2e-19
PANEL_DEGREE = 24
EQUAL_VARIANCE = 1e-13  # relative spread of the variances below which the tabulated map of rho is used
CHUNK = 1 << 22  # integrand evaluations per vectorized block


# -- validation ------------------------------------------------------------------------------------


def _check(X1, X2, depth, activation, sigma_w, sigma_b, beta):
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


def expectation(name: str, beta: float, derivative: bool, a, b, C) -> np.ndarray:
    """E[f(u) f(v)] for f = phi or phi' over a matrix of covariances C with row variances a, column variances b."""
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
    A, B = np.broadcast_arrays(a2, b2)
    return pair_expectation(f, A.ravel(), B.ravel(), C.ravel()).reshape(C.shape)


# -- kernels ---------------------------------------------------------------------------------------


def _kernels(X1, X2, depth, name, sigma_w, sigma_b, beta, want_ntk):
    d = X1.shape[1]
    sw2, sb2 = sigma_w**2, sigma_b**2
    K = sw2 * (X1 @ X2.T) / d + sb2
    d1 = sw2 * np.einsum("ij,ij->i", X1, X1) / d + sb2
    d2 = sw2 * np.einsum("ij,ij->i", X2, X2) / d + sb2
    T = K.copy() if want_ntk else None
    for _ in range(depth):
        if want_ntk:
            T = sw2 * expectation(name, beta, True, d1, d2, K) * T
        K = sw2 * expectation(name, beta, False, d1, d2, K) + sb2
        d1, d2 = (sw2 * _diag(name, beta, x) + sb2 for x in (d1, d2))
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
    args = _check(X1, X2, depth, activation, sigma_w, sigma_b, beta)
    return _kernels(*args, want_ntk=False)


def ntk(X1, X2=None, *, depth: int, activation: str, sigma_w: float, sigma_b: float, beta: float = 1.0) -> np.ndarray:
    """The neural tangent kernel Theta^{depth+1}(X1, X2) (n1, n2), same arguments as :func:`nngp`."""
    args = _check(X1, X2, depth, activation, sigma_w, sigma_b, beta)
    if args[3] == "sign":
        raise ValueError("activation 'sign' has no NTK (its derivative is a delta function)")
    return _kernels(*args, want_ntk=True)


# -- Monte Carlo twin ------------------------------------------------------------------------------


@dataclass
class SimulatedKernel:
    """Mean over ``networks`` random networks of width ``width`` and its standard error (both (n1, n2))."""

    mean: np.ndarray
    stderr: np.ndarray
    width: int
    networks: int


def _one_network(rng, X, n1, depth, name, sigma_w, sigma_b, beta, width, want_ntk):
    """Empirical NNGP (output layer averaged exactly over its weights) or NTK (sum over all parameters of
    df/dtheta df/dtheta' for a scalar output f) of one random network."""
    f, df = phi(name, beta), (phi(name, beta, True) if want_ntk else None)
    acts, derivs, weights = [X], [], []
    a, fan_in = X, X.shape[1]
    for _ in range(depth):
        W = rng.standard_normal((fan_in, width))
        h = sigma_w * (a @ W) / math.sqrt(fan_in) + sigma_b * rng.standard_normal(width)
        weights.append(W)
        a = f(h)
        acts.append(a)
        if want_ntk:
            derivs.append(df(h))
        fan_in = width

    def gram(A):
        return sigma_w**2 * (A[:n1] @ A[n1:].T) / A.shape[1] + sigma_b**2

    K = gram(acts[-1])
    if not want_ntk:
        return K
    # scalar output f = sigma_w a_L . w / sqrt(n_L) + sigma_b b; delta_l = df/dh_l
    delta = sigma_w * rng.standard_normal(fan_in) / math.sqrt(fan_in) * derivs[-1] if depth else None
    for l in range(depth, 0, -1):
        K = K + (delta[:n1] @ delta[n1:].T) * gram(acts[l - 1])
        if l > 1:
            delta = sigma_w * (delta @ weights[l - 1].T) / math.sqrt(width) * derivs[l - 2]
    return K


def simulate_kernel(X1, X2=None, *, depth: int, activation: str, sigma_w: float, sigma_b: float, beta: float = 1.0,
                    width: int = 1024, networks: int = 32, seed=0, kernel: str = "nngp") -> SimulatedKernel:
    """Monte Carlo twin of :func:`nngp` (``kernel="nngp"``) or :func:`ntk` (``"ntk"``) from ``networks`` random
    networks of ``width`` units per hidden layer; the standard error is over the networks. Exact in
    expectation for depth <= 1; deeper, the finite-width bias is O(1/width)."""
    X1, X2, depth, name, sigma_w, sigma_b, beta = _check(X1, X2, depth, activation, sigma_w, sigma_b, beta)
    validate.choice("kernel", kernel, ("nngp", "ntk"))
    width = validate.integer("width", width, low=2)
    networks = validate.integer("networks", networks, low=2)
    X = np.vstack([X1, X2])
    samples = [_one_network(np.random.default_rng(s), X, X1.shape[0], depth, name, sigma_w, sigma_b, beta, width,
                            kernel == "ntk") for s in np.random.SeedSequence(seed).spawn(networks)]
    S = np.array(samples)
    return SimulatedKernel(S.mean(axis=0), S.std(axis=0, ddof=1) / math.sqrt(networks), int(width), int(networks))
