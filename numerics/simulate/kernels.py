"""Monte Carlo twin of the infinite-width kernels: empirical NNGP and NTK averaged over random networks.

The networks follow the convention of numerics.mlp.infinite_width (neural-tangents: h^1 = sigma_w W x / sqrt(d)
+ sigma_b b, h^{l+1} = sigma_w W phi(h^l) / sqrt(n_l) + sigma_b b); as the width grows their kernels converge to
NNGP and NTK (Lee et al. 2018; Jacot et al. 2018).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from numerics import validate
from numerics.mlp.infinite_width import check_arguments, phi


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
    """Monte Carlo twin of ``nngp`` (``kernel="nngp"``) or ``ntk`` (``"ntk"``) of numerics.mlp.infinite_width from
    ``networks`` random networks of ``width`` units per hidden layer; the standard error is over the networks.
    Exact in expectation for depth <= 1; deeper, the finite-width bias is O(1/width)."""
    X1, X2, depth, name, sigma_w, sigma_b, beta = check_arguments(X1, X2, depth, activation, sigma_w, sigma_b, beta)
    validate.choice("kernel", kernel, ("nngp", "ntk"))
    width = validate.integer("width", width, low=2)
    networks = validate.integer("networks", networks, low=2)
    X = np.vstack([X1, X2])
    samples = [_one_network(np.random.default_rng(s), X, X1.shape[0], depth, name, sigma_w, sigma_b, beta, width,
                            kernel == "ntk") for s in np.random.SeedSequence(seed).spawn(networks)]
    S = np.array(samples)
    return SimulatedKernel(S.mean(axis=0), S.std(axis=0, ddof=1) / math.sqrt(networks), int(width), int(networks))
