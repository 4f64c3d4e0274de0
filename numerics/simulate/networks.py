"""Monte Carlo twins of the function-space recursions: coupled finite networks, measured overlaps.

* :func:`simulate_overlap` - a reference network of width N and a perturbed copy (Li & Saad, Fig. 1)
  read M random +-1 inputs; per layer the overlap (1/NM) sum s^ s (sign or stochastic units) or the
  normalized overlap sum a^ a / sqrt(sum a^2 sum a'^2) (activation units). Twin of
  :func:`numerics.solvers.function_space.overlap_recursion`.
* :func:`simulate_majority` - sparse MAJ-k networks of width N with random wiring (k inputs per unit,
  drawn with replacement), reference weights +1, perturbed weights flipped with probability p. Twin of
  :func:`numerics.solvers.majority.majority_recursion`.

Each replica draws fresh weights, wiring and inputs from its own child of one
``numpy.random.SeedSequence``; the estimate is the replica mean and its standard error the replica
standard deviation / sqrt(R), so it includes the sample-to-sample fluctuation of the weights. The
recursions are exact for N -> oo; at finite N the overlaps carry an O(1/N) bias (for binary weights
with flip probability p = 0.05, +0.8/N in layer 1, from the discreteness and the spread of the
per-unit weight agreement), which matters only when the standard error is pushed below it.
Replicas run in threads (BLAS matrix products and numpy generators release the GIL); the result
does not depend on the number of workers.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from numerics import validate
from numerics.solvers.function_space import check_activation, check_beta, check_perturbations, check_positive, x_of_perturbation
from numerics.solvers.majority import check_k, check_p, check_unit

MEMORY_FRACTION = 0.5  # of the machine's physical memory that one simulation may use
MAX_FLOPS = 1e14  # multiply-adds of one simulation (hours of BLAS on a few cores)


def _physical_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 8 << 30


def check_size(what: str, bytes_needed: float, flops: float) -> None:
    """Refuse before allocating: memory against MEMORY_FRACTION of physical memory, work against MAX_FLOPS."""
    allowed = MEMORY_FRACTION * _physical_memory()
    if bytes_needed > allowed:
        raise ValueError(f"{what} needs {bytes_needed / 2**30:.3g} GiB, more than the {allowed / 2**30:.3g} GiB allowed (half the memory)")
    if flops > MAX_FLOPS:
        raise ValueError(f"{what} needs {flops:.2g} multiply-adds, more than the {MAX_FLOPS:.0e} allowed")


def _seed_sequence(seed) -> np.random.SeedSequence:
    return seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)


def _random_signs(rng: np.random.Generator, shape) -> np.ndarray:
    """Independent +-1 entries with probability 1/2 each, as float64."""
    return 2.0 * rng.integers(0, 2, size=shape, dtype=np.int8) - 1.0


def _run(task, seeds, workers):
    if workers == 1:
        return [task(s) for s in seeds]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(task, seeds))


@dataclass(frozen=True)
class SimulatedOverlap:
    """Replica mean q_l and its standard error, l = 1..L; ``samples`` has one row per replica."""

    q: np.ndarray
    stderr: np.ndarray
    samples: np.ndarray
    seed: int | list = field(default=None)


def _summary(samples: np.ndarray):
    mean = samples.mean(axis=0)
    stderr = samples.std(axis=0, ddof=1) / math.sqrt(samples.shape[0]) if samples.shape[0] > 1 else np.full(mean.shape, np.nan)
    return mean, stderr


def _coupled_weights(rng: np.random.Generator, weights: str, N: int, c: float, eta: float, sigma: float):
    """(W^, W) of one layer: W = c W^ + eta dW (Gaussian, standard deviation sigma) or W^ = +-1 with entries
    flipped with probability eta (binary)."""
    if weights == "continuous":
        W_hat = rng.standard_normal((N, N)) * sigma
        return W_hat, c * W_hat + eta * sigma * rng.standard_normal((N, N))
    W_hat = _random_signs(rng, (N, N))
    return W_hat, np.where(rng.random((N, N)) < eta, -W_hat, W_hat)


def _coupled_units(rng: np.random.Generator, h_hat: np.ndarray, h: np.ndarray, phi, beta):
    """(a^, a, q) of one layer from its fields: a = phi(h, beta) with the normalized overlap q, or +-1 units
    (sgn h for beta None, else drawn with P(s) = e^(beta s h)/(2 cosh beta h)) with the mean overlap q."""
    if phi is not None:
        a_hat, a = phi.value(h_hat, beta), phi.value(h, beta)
        return a_hat, a, np.sum(a_hat * a) / math.sqrt(np.sum(a_hat * a_hat) * np.sum(a * a))
    if beta is None:
        a_hat, a = np.where(h_hat >= 0.0, 1.0, -1.0), np.where(h >= 0.0, 1.0, -1.0)
    else:
        a_hat = np.where(2.0 * rng.random(h_hat.shape) < 1.0 + np.tanh(beta * h_hat), 1.0, -1.0)
        a = np.where(2.0 * rng.random(h.shape) < 1.0 + np.tanh(beta * h), 1.0, -1.0)
    return a_hat, a, np.mean(a_hat * a)


def simulate_overlap(
    perturbations,
    weights: str = "continuous",
    beta: float | None = None,
    activation: str | None = None,
    sigma: float = 1.0,
    width: int = 1000,
    inputs: int = 200,
    replicas: int = 8,
    seed=None,
    workers: int = 1,
) -> SimulatedOverlap:
    """Measured overlaps of two coupled dense networks (same conventions as ``overlap_recursion``).

    Layer l: h^ = s^ W^ / sqrt(N), h = s W / sqrt(N) with W = sqrt(1 - eta^2) W^ + eta dW (W^, dW
    ~ N(0, sigma^2)) or W = W^ with entries flipped with probability p (W^ = +-1); units: sgn(h)
    (beta None), +-1 with P(s) = e^(beta s h)/(2 cosh beta h) drawn independently in the two networks
    (beta given), or a = phi(h, beta) (activation given; beta defaults to 1).
    """
    pert = check_perturbations(perturbations, weights)
    beta = check_beta(beta)
    sigma = check_positive(sigma, "sigma")
    if weights == "binary" and sigma != 1.0:
        raise ValueError(f"sigma applies to continuous weights only (binary weights are +-1), got sigma={sigma!r}")
    N = validate.integer("width", width, low=2)
    M = validate.integer("inputs", inputs, low=1)
    R = validate.integer("replicas", replicas, low=1)
    workers = validate.integer("workers", workers, low=1)
    check_size(
        f"width N = {N} with {M} inputs (replicas at once: {min(workers, R)})",
        8.0 * min(workers, R) * (4.0 * N * N + 6.0 * M * N),  # two weight matrices and their noise; fields, units
        2.0 * R * pert.size * M * float(N) * N,
    )
    phi = None
    if activation is not None:
        from numerics.kernels.activations import activation as get_activation

        phi = get_activation(check_activation(activation))
        beta = 1.0 if beta is None else beta
    c = 1.0 - x_of_perturbation(pert, weights)
    ss = _seed_sequence(seed)

    def replica(child: np.random.SeedSequence) -> np.ndarray:
        rng = np.random.default_rng(child)
        a_hat = _random_signs(rng, (M, N))
        a = a_hat.copy()
        out = np.empty(pert.size)
        for l, (cl, el) in enumerate(zip(c, pert)):
            W_hat, W = _coupled_weights(rng, weights, N, cl, el, sigma)
            a_hat, a, out[l] = _coupled_units(rng, a_hat @ W_hat / math.sqrt(N), a @ W / math.sqrt(N), phi, beta)
        return out

    samples = np.array(_run(replica, ss.spawn(R), workers))
    q, stderr = _summary(samples)
    return SimulatedOverlap(q=q, stderr=stderr, samples=samples, seed=ss.entropy)


@dataclass(frozen=True)
class SimulatedMajority:
    """Replica means (and standard errors) of m^_l, m_l, q_l for l = 0..L."""

    m_hat: np.ndarray
    m: np.ndarray
    q: np.ndarray
    m_hat_stderr: np.ndarray
    m_stderr: np.ndarray
    q_stderr: np.ndarray
    seed: int | list = field(default=None)


def simulate_majority(
    k: int, p: float, layers: int, m0: float, width: int = 100_000, replicas: int = 8, seed=None, workers: int = 1
) -> SimulatedMajority:
    """Reference and perturbed sparse MAJ-k networks on the same input (m^_0 = m_0, q_0 = 1)."""
    k, p = check_k(k), check_p(p)
    L = validate.integer("layers", layers, low=1)
    m0 = check_unit(m0, "m0")
    N = validate.integer("width", width, low=k)
    R = validate.integer("replicas", replicas, low=1)
    workers = validate.integer("workers", workers, low=1)
    check_size(
        f"width N = {N} with k = {k} (replicas at once: {min(workers, R)})",
        32.0 * min(workers, R) * N * k,  # wiring (int64), flip draws (float64), signs (int32), gathered inputs
        4.0 * R * L * float(N) * k,
    )
    ss = _seed_sequence(seed)

    def replica(child: np.random.SeedSequence) -> np.ndarray:
        rng = np.random.default_rng(child)
        s_hat = np.where(rng.random(N) < 0.5 * (1.0 + m0), 1, -1).astype(np.int32)
        s = s_hat.copy()
        out = np.empty((3, L + 1))
        out[:, 0] = s_hat.mean(), s.mean(), np.mean(s_hat * s)
        for l in range(1, L + 1):
            idx = rng.integers(0, N, size=(N, k))
            signs = np.where(rng.random((N, k)) < p, -1, 1).astype(np.int32)
            s_hat, s = np.sign(s_hat[idx].sum(axis=1)), np.sign((signs * s[idx]).sum(axis=1))
            out[:, l] = s_hat.mean(), s.mean(), np.mean(s_hat * s)
        return out

    samples = np.array(_run(replica, ss.spawn(R), workers))
    (m_hat, m, q), (e_hat, e_m, e_q) = _summary(samples)
    return SimulatedMajority(m_hat=m_hat, m=m, q=q, m_hat_stderr=e_hat, m_stderr=e_m, q_stderr=e_q, seed=ss.entropy)
