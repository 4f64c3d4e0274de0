"""Check rows for the exact Hessian: ``numerics.mlp.hessian`` against JAX autodiff, SLQ against the dense spectrum.

Oracles: ``jax.hessian`` and ``jax.jvp`` of ``jax.grad`` of the
independent JAX model in ``verify.jax_models`` (float64), as a function of
the trainable vector in the ``flatten`` order. Examples draw networks of
depth 1-3 and widths 1-6, every hidden activation (per layer) and output,
betas trained, fixed or trained on some units only, small and O(1)
inverse temperatures and weights, and 1-12 random samples.

Errors are normwise per block of parameter arrays (W1 x W1, W1 x b1, ...,
for the Hessian; W1, b1, ... for H v): max |difference| / max |reference|,
the worst over the blocks, so that a small block (the beta_L block at
beta ~ 0.004, say) is judged on its own scale. A block that is zero in the
reference is judged against the scale of the whole matrix.

The SLQ row compares the stochastic Lanczos quadrature of the spectral
measure (from matrix-free products) with the dense eigenvalues: the W1
(earth mover's) distance between the two measures over the spectral width.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from numerics.kernels.activations import NAMES as ACTIVATIONS
from numerics.mlp.hessian import HessianOperator, hessian, hvp
from numerics.mlp.network import OUTPUTS, Network
from numerics.mlp.spectrum import slq, spectrum, wasserstein
from verify.registry import Check, with_budget

BETA_MODES = ("trained", "fixed", "mixed")


@st.composite
def hessian_examples(draw):
    """(arch, hidden, output, train_beta masks, beta_scale, weight_scale, samples, seed)."""
    depth = draw(st.integers(1, 3))
    output = draw(st.sampled_from(OUTPUTS))
    widths = [draw(st.integers(1, 6)) for _ in range(depth)]
    widths.append(draw(st.integers(2 if output == "softmax" else 1, 4)))
    hidden = tuple(draw(st.sampled_from(ACTIVATIONS)) for _ in range(depth - 1))
    masks = []
    for n in widths[1:]:
        mode = draw(st.sampled_from(BETA_MODES))
        if mode == "mixed":
            masks.append(tuple(draw(st.booleans()) for _ in range(n)))
        else:
            masks.append((mode == "trained",) * n)
    beta_scale = draw(st.sampled_from((0.004, 0.3, 1.0, 3.0)))
    weight_scale = draw(st.sampled_from((0.5, 1.0, 2.0)))
    samples = draw(st.integers(1, 12))
    seed = draw(st.integers(0, 2**31 - 1))
    return ("-".join(map(str, widths)), hidden, output, tuple(masks), beta_scale, weight_scale, samples, seed)


def build(example):
    """Network, parameters and data of an example."""
    arch, hidden, output, masks, beta_scale, weight_scale, samples, seed = example
    sizes = [int(n) for n in arch.split("-")]
    net = Network(sizes, list(hidden), output, [np.array(m, dtype=bool) for m in masks],
                  [np.ones(n) for n in sizes[1:]], [np.zeros(n) for n in sizes[1:]])
    rng = np.random.default_rng(seed)
    params = net.init(rng.integers(2**63))
    for name in params:
        if name.startswith("W"):
            params[name] *= weight_scale
        elif name.startswith("beta"):
            params[name] = beta_scale * rng.standard_normal(params[name].shape)
        else:
            params[name] = 0.3 * rng.standard_normal(params[name].shape)
    X = rng.standard_normal((samples, sizes[0]))
    n_out = sizes[-1]
    if output == "sigmoid":
        y = rng.integers(0, 2, size=(samples, n_out)).astype(np.float64)
    elif output == "softmax":
        y = rng.integers(0, n_out, size=samples)
    else:
        y = rng.standard_normal((samples, n_out))
    return net, params, X, y


def _flat_loss(net, params, X, y):
    from verify import jax_models

    X, Y = net.targets(X, y)
    return jax_models.flat_loss(params, net.train_beta, X, Y, net.hidden, net.output)


def reference_hessian(net, params, X, y) -> np.ndarray:
    import jax

    f, theta = _flat_loss(net, params, X, y)
    return np.asarray(jax.jit(jax.hessian(f))(theta))


def reference_hvp(net, params, X, y, v) -> np.ndarray:
    import jax
    import jax.numpy as jnp

    f, theta = _flat_loss(net, params, X, y)
    product = jax.jit(lambda t, w: jax.jvp(jax.grad(f), (t,), (w,))[1])
    return np.asarray(product(theta, jnp.asarray(v)))


def array_labels(net) -> np.ndarray:
    """Parameter-array name (W1, b1, beta1, ...) of every trainable entry, in flatten order."""
    names = np.concatenate([[name] * int(np.prod(shape)) for name, shape in net.shapes.items()])
    return names[net.trainable_index]


def blockwise_error(value, reference, labels) -> float:
    """Worst normwise relative error over the blocks of parameter arrays (rows x columns for a matrix)."""
    value, reference = np.asarray(value), np.asarray(reference)
    if value.shape != reference.shape or not np.all(np.isfinite(value)):
        return float("inf")
    whole = np.max(np.abs(reference)) if reference.size else 0.0
    groups = [labels == name for name in dict.fromkeys(labels)]
    blocks = [np.ix_(r, c) for r in groups for c in groups] if value.ndim == 2 else groups
    worst = 0.0
    for block in blocks:
        diff = np.max(np.abs(value[block] - reference[block]))
        if diff == 0:
            continue
        scale = np.max(np.abs(reference[block])) or whole
        if scale == 0:
            return float("inf")
        worst = max(worst, diff / scale)
    return worst


def hessian_error(example, hessian_fn=None) -> float:
    net, params, X, y = build(example)
    H = (hessian_fn or hessian)(net, params, X, y)
    return blockwise_error(H, reference_hessian(net, params, X, y), array_labels(net))


def hvp_error(example, hvp_fn=None) -> float:
    net, params, X, y = build(example)
    v = np.random.default_rng(example[-1] + 1).standard_normal(net.n_params)
    Hv = (hvp_fn or hvp)(net, params, X, y, v)
    return blockwise_error(Hv, reference_hvp(net, params, X, y, v), array_labels(net))


@st.composite
def slq_examples(draw):
    """A Hessian example with enough parameters for a spectrum, and the quadrature's probe seed."""
    example = draw(hessian_examples().filter(lambda ex: _n_params(ex) >= 12))
    return example, draw(st.integers(0, 2**31 - 1))


def _n_params(example) -> int:
    sizes = [int(n) for n in example[0].split("-")]
    return sum(a * b + b for a, b in zip(sizes, sizes[1:])) + sum(sum(m) for m in example[3])


SLQ_STEPS, SLQ_PROBES = 30, 50


def slq_error(example, steps: int = SLQ_STEPS, probes: int = SLQ_PROBES) -> float:
    """W1 distance between the SLQ measure (matrix-free) and the dense eigenvalues, over the spectral width."""
    ex, seed = example
    net, params, X, y = build(ex)
    lam = spectrum(hessian(net, params, X, y), vectors=False).eigenvalues
    width = lam[-1] - lam[0]
    if width <= 0:
        return 0.0
    q = slq(HessianOperator(net, params, X, y).matvec, net.n_params, steps=steps, probes=probes, seed=seed)
    nodes, weights = q.measure()
    return wasserstein(nodes, weights, lam, np.ones(lam.size)) / width


PAPER = (
    ("2-8-2-1", ("esp", "esp"), "sigmoid", ((True,) * 8, (True,) * 2, (True,)), 0.004, 1.0, 12, 0),
    ("2-8-2-1", ("relu", "relu"), "sigmoid", ((False,) * 8, (False,) * 2, (False,)), 1.0, 1.0, 12, 1),
    ("6-5-4", ("esp",), "softmax", ((True,) * 5, (True,) * 4), 0.3, 1.0, 10, 2),
    ("3-4-4-2", ("tanh", "sigmoid"), "linear", ((True, False, True, False), (True,) * 4, (True, True)), 3.0, 2.0, 9, 3),
)

CHECKS = [
    Check(
        name="mlp hessian",
        oracle="jax.hessian of an independent JAX MLP",
        tol=1e-10,
        strategy=hessian_examples,
        error=hessian_error,
        explicit=PAPER,
        max_examples=25,
    ),
    Check(
        name="mlp hessian-vector product",
        oracle="jax.jvp of jax.grad of an independent JAX MLP",
        tol=1e-10,
        strategy=hessian_examples,
        error=hvp_error,
        explicit=PAPER,
        max_examples=25,
    ),
    Check(
        name="slq spectral density",
        oracle="dense eigenvalues (W1 distance / spectral width)",
        tol=0.05,
        strategy=slq_examples,
        error=slq_error,
        explicit=tuple((ex, 0) for ex in PAPER),
        max_examples=25,
    ),
]
CHECKS = with_budget(CHECKS, per_name={"mlp hessian": 5, "mlp hessian-vector product": 5, "slq spectral density": 12})
