"""An independent JAX model of the MLP conventions, the autodiff oracle for ``numerics.Network``.

Written from shared/DESIGN.md alone: parameters ``W{l}`` (n_{l-1}, n_l),
``b{l}``, ``beta{l}`` (one per unit); ``h = a @ W + b``; hidden units
``phi(h, beta)`` written directly in jax.numpy; output logits
``z = beta_L * h_L`` with binary cross-entropy (sigmoid) or softmax
cross-entropy, or a linear output a = h_L with loss 1/2 |a - y|^2; mean over
samples. Gradients, Hessians and training trajectories come from JAX's
autodiff (float64).
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

jax.config.update("jax_enable_x64", True)

UNITS = {
    "esp": lambda h, beta: h * jax.nn.sigmoid(beta * h),
    "sigmoid": lambda h, beta: jax.nn.sigmoid(beta * h),
    "tanh": lambda h, beta: jnp.tanh(beta * h),
    "relu": lambda h, beta: jnp.where(h > 0, h, 0.0),
    "linear": lambda h, beta: h,
}


def n_layers(params: dict) -> int:
    return sum(1 for k in params if k.startswith("W"))


def forward(params: dict, X, hidden, output: str):
    """Network outputs: sigma(z), softmax(z) or h_L."""
    a = X
    L = n_layers(params)
    for l in range(1, L):
        a = UNITS[hidden[l - 1]](a @ params[f"W{l}"] + params[f"b{l}"], params[f"beta{l}"])
    h = a @ params[f"W{L}"] + params[f"b{L}"]
    if output == "linear":
        return h
    z = params[f"beta{L}"] * h
    return jax.nn.sigmoid(z) if output == "sigmoid" else jax.nn.softmax(z, axis=-1)


def loss(params: dict, X, Y, hidden, output: str):
    """Mean loss over samples; Y of shape (m, n_L) (0/1 labels, one-hot rows, or real targets)."""
    a = X
    L = n_layers(params)
    for l in range(1, L):
        a = UNITS[hidden[l - 1]](a @ params[f"W{l}"] + params[f"b{l}"], params[f"beta{l}"])
    h = a @ params[f"W{L}"] + params[f"b{L}"]
    if output == "linear":
        return jnp.mean(0.5 * jnp.sum((h - Y) ** 2, axis=1))
    z = params[f"beta{L}"] * h
    if output == "sigmoid":
        per = -(Y * jax.nn.log_sigmoid(z) + (1 - Y) * jax.nn.log_sigmoid(-z))
        return jnp.mean(jnp.sum(per, axis=1))
    # -log p_c = softplus(logsumexp_{k != c}(z_k - z_c)) for the labelled class c: no cancellation
    # in the value or in its autodiff gradient, even when the network is confident.
    z_c = jnp.sum(Y * z, axis=1, keepdims=True)
    others = jnp.where(Y > 0, -jnp.inf, z - z_c)
    return jnp.mean(jax.nn.softplus(jax.nn.logsumexp(others, axis=1)))


_value_and_grad = jax.jit(jax.value_and_grad(loss), static_argnames=("hidden", "output"))


def value_and_grad(params: dict, X, Y, hidden, output: str):
    """(loss, gradient dict) by ``jax.value_and_grad`` (jit-compiled), as numpy."""
    p = {k: jnp.asarray(v, dtype=jnp.float64) for k, v in params.items()}
    val, grad = _value_and_grad(p, jnp.asarray(X, dtype=jnp.float64), jnp.asarray(Y, dtype=jnp.float64),
                                hidden=tuple(hidden), output=output)
    return float(val), {k: np.asarray(v) for k, v in grad.items()}


def param_names(params: dict) -> list[str]:
    """W1, b1, beta1, W2, ... (the flattening order)."""
    return [f"{p}{l}" for l in range(1, n_layers(params) + 1) for p in ("W", "b", "beta")]


def flat_loss(params: dict, train_beta, X, Y, hidden, output: str):
    """``(f, theta0)``: the loss as a function of the trainable vector (W1, b1, beta1[trained], W2, ...,
    row-major) and that vector at ``params``; ``train_beta[l]`` is a bool mask over the units of layer l+1."""
    names = param_names(params)
    masks = {}
    for l in range(1, n_layers(params) + 1):
        masks[f"W{l}"] = np.ones(np.size(params[f"W{l}"]), dtype=bool)
        masks[f"b{l}"] = np.ones(np.size(params[f"b{l}"]), dtype=bool)
        masks[f"beta{l}"] = np.broadcast_to(np.asarray(train_beta[l - 1], dtype=bool), np.shape(params[f"beta{l}"]))
    idx = {k: np.flatnonzero(masks[k]) for k in names}
    theta0 = jnp.concatenate([jnp.ravel(jnp.asarray(params[k], dtype=jnp.float64))[idx[k]] for k in names])
    X, Y = jnp.asarray(X), jnp.asarray(Y)

    def f(theta):
        p, off = {}, 0
        for k in names:
            base = jnp.ravel(jnp.asarray(params[k], dtype=jnp.float64))
            n = idx[k].size
            p[k] = base.at[idx[k]].set(theta[off : off + n]).reshape(np.shape(params[k]))
            off += n
        return loss(p, X, Y, tuple(hidden), output)

    return f, theta0


@partial(jax.jit, static_argnames=("hidden", "output", "epochs", "optimizer"))
def train(params, masks, X, Y, hidden, output, epochs, lr, decay_rate=1.0, decay_steps=1.0, optimizer="adam",
          b1=0.9, b2=0.999, eps=1e-8):
    """Full-batch training under ``jit`` with ``lax.scan`` over epochs.

    Step t (from 0) uses the rate lr * decay_rate**(t / decay_steps); Adam as
    in Kingma & Ba (Algorithm 1); ``masks[k]`` (0/1 arrays shaped like the
    parameters) freeze entries. Returns the final parameters and the loss
    before each step.
    """

    def step(carry, t):
        p, m, v = carry
        val, g = jax.value_and_grad(loss)(p, X, Y, hidden, output)
        g = {k: g[k] * masks[k] for k in g}
        rate = lr * decay_rate ** (t / decay_steps)
        if optimizer == "sgd":
            return ({k: p[k] - rate * g[k] for k in p}, m, v), val
        m = {k: b1 * m[k] + (1 - b1) * g[k] for k in p}
        v = {k: b2 * v[k] + (1 - b2) * g[k] ** 2 for k in p}
        c1 = 1 - b1 ** (t + 1.0)
        c2 = 1 - b2 ** (t + 1.0)
        p = {k: p[k] - rate * (m[k] / c1) / (jnp.sqrt(v[k] / c2) + eps) for k in p}
        return (p, m, v), val

    zeros = {k: jnp.zeros_like(v) for k, v in params.items()}
    (params, _, _), losses = jax.lax.scan(step, (params, zeros, zeros), jnp.arange(epochs, dtype=jnp.float64))
    return params, losses
