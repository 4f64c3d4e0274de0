"""Check rows for the MLP engine: ``numerics.Network`` loss and gradients against JAX autodiff.

Oracle: ``jax.value_and_grad`` of the independent JAX model in
``verify.jax_models`` (float64). Examples draw architectures of depth 1-4
with widths 1-12, every hidden activation (per layer) and output, trainable
or fixed betas, small and O(1) inverse temperatures, and random data.
The gradient error is normwise per parameter array, max|g - g_ref| /
max|g_ref|, the worst over the arrays. The ladder rows take the benchmark's
nets (2-8-2-1 to 784-300-100-10: per-unit and BLAS layers, one and several
blocks and groups) at 1e-12, on all samples and on a shuffled mini-batch
summed by the training kernel itself.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from numerics.kernels.activations import NAMES as ACTIVATIONS
from numerics.mlp.network import OUTPUTS, Network
from verify.metrics import relative_error
from verify.registry import Check, with_budget


@st.composite
def mlp_examples(draw):
    """(arch, hidden, output, train_beta, beta_scale, weight_scale, samples, seed)."""
    depth = draw(st.integers(1, 4))
    output = draw(st.sampled_from(OUTPUTS))
    widths = [draw(st.integers(1, 12)) for _ in range(depth)]
    widths.append(draw(st.integers(2 if output == "softmax" else 1, 12)))
    hidden = tuple(draw(st.sampled_from(ACTIVATIONS)) for _ in range(depth - 1))
    train_beta = tuple(draw(st.booleans()) for _ in range(depth))
    beta_scale = draw(st.sampled_from((0.004, 0.3, 1.0, 3.0)))
    weight_scale = draw(st.sampled_from((0.5, 1.0, 2.0)))
    samples = draw(st.integers(1, 24))
    seed = draw(st.integers(0, 2**31 - 1))
    return ("-".join(map(str, widths)), hidden, output, train_beta, beta_scale, weight_scale, samples, seed)


def build(example):
    """Network, parameters and data of an example."""
    arch, hidden, output, train_beta, beta_scale, weight_scale, samples, seed = example[:8]
    net = Network.from_spec(arch, hidden=list(hidden), output=output, train_beta=list(train_beta))
    rng = np.random.default_rng(seed)
    params = net.init(rng.integers(2**63))
    for name in params:
        if name.startswith("W"):
            params[name] *= weight_scale
        elif name.startswith("beta"):
            params[name] = beta_scale * rng.standard_normal(params[name].shape)
        else:
            params[name] = 0.3 * rng.standard_normal(params[name].shape)
    X = rng.standard_normal((samples, net.sizes[0]))
    n_out = net.sizes[-1]
    if output == "sigmoid":
        y = rng.integers(0, 2, size=(samples, n_out)).astype(np.float64)
    elif output == "softmax":
        y = rng.integers(0, n_out, size=samples)
    else:
        y = rng.standard_normal((samples, n_out))
    return net, params, X, y


def _reference(net, params, X, y):
    from verify import jax_models

    X, Y = net.targets(X, y)
    return jax_models.value_and_grad(params, X, Y, net.hidden, net.output)


def loss_error(example, loss=None) -> float:
    net, params, X, y = build(example)
    value = (loss or net.loss)(params, X, y)
    ref, _ = _reference(net, params, X, y)
    return relative_error(value, ref)


def gradient_error(example, loss_and_grad=None) -> float:
    net, params, X, y = build(example)
    _, grad = (loss_and_grad or net.loss_and_grad)(params, X, y)
    _, ref = _reference(net, params, X, y)
    trained = {f"beta{l + 1}" for l in range(net.n_layers) if net.train_beta[l].any()}
    expected = {k for k in ref if not k.startswith("beta")} | trained
    if set(grad) != expected:
        return float("inf")
    worst = 0.0
    for name, g in grad.items():
        scale = np.max(np.abs(ref[name]))
        diff = np.max(np.abs(g - ref[name]))
        if not np.isfinite(diff):
            return float("inf")
        worst = max(worst, 0.0 if diff == 0 else diff / scale if scale > 0 else float("inf"))
    return worst


def minibatch_gradient_error(example) -> float:
    """Gradient error of the training kernel on the mini-batch X[rows[:batch]] of a shuffled order ``rows``
    (the gather a training step does), against JAX on those samples; ``batch`` is the example's last entry."""
    from numerics.mlp.network import GROUPS, PRODUCTS, SERIAL, batch_loss_grad

    net, params, X, y = build(example)
    batch = example[8]
    X, Y = net.targets(X, y)
    rows = np.random.default_rng(example[7]).permutation(X.shape[0])[:batch]
    work = net.workspace(X.shape[0])
    worst = 0.0
    for threads in (SERIAL, GROUPS, PRODUCTS):
        batch_loss_grad(net.pack(params), X, Y, rows, net.layout, net.out_kind, True, threads, *work)
        grad = net.unpack(work.grad)
        ref = _reference(net, params, X[rows], Y[rows])[1]
        for name in ref:
            if name.startswith("beta") and not net.train_beta[int(name[4:]) - 1].any():
                continue
            scale = np.max(np.abs(ref[name]))
            diff = np.max(np.abs(grad[name] - ref[name]))
            worst = max(worst, diff / scale if scale > 0 else (0.0 if diff == 0 else float("inf")))
    return worst


# The benchmark's width ladder (benchmarks/bench_train.py): (..., samples, seed, mini-batch size); the
# 784-wide nets on few samples to keep the check cheap.
LADDER = (
    ("2-8-2-1", ("esp", "esp"), "sigmoid", (True, True, True), 0.3, 1.0, 800, 10, 50),
    ("64-25-10", ("esp",), "softmax", (True, True), 0.3, 1.0, 500, 11, 100),
    ("2-30-30-1", ("esp", "esp"), "sigmoid", (True, True, True), 1.0, 1.0, 450, 12, 50),
    ("784-128-10", ("esp",), "softmax", (True, True), 0.3, 1.0, 40, 13, 16),
    ("784-300-100-10", ("esp", "esp"), "softmax", (True, True, True), 0.3, 1.0, 24, 14, 10),
)

PAPER = (
    ("2-8-2-1", ("esp", "esp"), "sigmoid", (True, True, True), 0.004, 1.0, 24, 0),
    ("2-10-1", ("relu",), "sigmoid", (False, False), 1.0, 1.0, 24, 1),
    ("64-25-10", ("esp",), "softmax", (True, True), 0.3, 1.0, 20, 2),
    ("3-12-12-12-4", ("tanh", "sigmoid", "esp"), "linear", (True, True, True, False), 3.0, 2.0, 24, 3),
)

CHECKS = [
    Check(
        name="mlp loss",
        oracle="jax.value_and_grad of an independent JAX MLP",
        tol=1e-10,
        strategy=mlp_examples,
        error=loss_error,
        explicit=PAPER,
        max_examples=60,
    ),
    Check(
        name="mlp gradient",
        oracle="jax.value_and_grad of an independent JAX MLP",
        tol=1e-10,
        strategy=mlp_examples,
        error=gradient_error,
        explicit=PAPER,
        max_examples=60,
    ),
    Check(
        name="mlp gradient, ladder widths",
        oracle="jax.value_and_grad of an independent JAX MLP",
        tol=1e-12,
        strategy=lambda: st.sampled_from(LADDER),
        error=gradient_error,
        explicit=LADDER,
        max_examples=len(LADDER),
    ),
    Check(
        name="mlp mini-batch gradient, ladder widths",
        oracle="jax.value_and_grad of an independent JAX MLP on the mini-batch's samples",
        tol=1e-12,
        strategy=lambda: st.sampled_from(LADDER),
        error=minibatch_gradient_error,
        explicit=LADDER,
        max_examples=len(LADDER),
    ),
]
CHECKS = with_budget(CHECKS, 12)
