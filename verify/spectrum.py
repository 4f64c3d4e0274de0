"""Check rows for ``numerics.mlp.spectrum.analyze`` and the Hessian operators of ``numerics.mlp.hessian_operators``.

Oracles: numpy's ``eigvalsh`` counts under each zero policy (dense route);
the dense answer for the SLQ / Hutch++ estimates, in units of their
standard errors (P ~ 2000 Hessians of the toolkit's MLPs on the digits
data, ReLU with exactly decoupled parameters and tanh); ``jax.hessian``
and ``torch.autograd.functional.hessian`` for the JAX and PyTorch operators.
"""

from __future__ import annotations

import importlib.util

import numpy as np
from hypothesis import strategies as st

from numerics.mlp.spectrum import ABSOLUTE_TOL, EPS, analyze
from verify.registry import Check, with_budget


@st.composite
def dense_examples(draw):
    """(size, number of decoupled parameters, number of planted zero eigenvalues, seed)."""
    size = draw(st.integers(2, 60))
    return size, draw(st.integers(0, size - 1)), draw(st.integers(0, 3)), draw(st.integers(0, 2**31 - 1))


def planted(size, decoupled, zeros, seed):
    """A symmetric matrix with `decoupled` zero rows/columns and (up to rounding) `zeros` zero eigenvalues."""
    rng = np.random.default_rng(seed)
    n = size - decoupled
    lam = rng.standard_normal(n) * 10.0 ** rng.uniform(-3, 1, n)
    lam[: min(zeros, n)] = 0.0
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    B = (Q * lam) @ Q.T
    H = np.zeros((size, size))
    keep = np.sort(rng.choice(size, n, replace=False))
    H[np.ix_(keep, keep)] = (B + B.T) / 2
    return H, keep


def dense_error(example) -> float:
    """Number of policies whose alpha or gamma differs from eigvalsh counts (0 = all agree); the exact policy
    is compared only when no coupled eigenvalue is at rounding level (decoupled zeros are exact by design)."""
    H, keep = planted(*example)
    P = H.shape[0]
    coupled = np.linalg.eigvalsh(H[np.ix_(keep, keep)]) if keep.size else np.zeros(0)
    lam = np.concatenate([coupled, np.zeros(P - keep.size)])
    big = np.max(np.abs(lam))
    ref = {"exact": ((coupled < 0).sum(), (coupled == 0).sum() + P - keep.size),
           "relative": ((lam < -P * EPS * big).sum(), (np.abs(lam) <= P * EPS * big).sum()),
           "absolute": ((lam < -ABSOLUTE_TOL).sum(), (np.abs(lam) <= ABSOLUTE_TOL).sum())}
    if np.any(np.abs(coupled) <= P * EPS * big):  # rounding-level eigenvalues: their sign is the driver's choice
        del ref["exact"]
    a = analyze(H)
    return float(sum(abs(a.alpha[p] * P - ref[p][0]) > 1e-9 or abs(a.gamma[p] * P - ref[p][1]) > 1e-9 for p in ref))


def _digits_hessian(act: str, samples: int = 300):
    from numerics.mlp import data
    from numerics.mlp.network import Network

    X, y = data.dataset("digits")
    net = Network.from_spec("64-25-10", hidden=act, output="softmax")
    params = net.init(0)
    return net.hessian_operator(params, X[:samples], y[:samples])


def slq_error(example) -> float:
    """max over policies of (|SLQ - dense| - quadrature bound) / (4 stderr) for alpha and gamma, and
    |Hutch++ - trace| / (4 stderr)."""
    act, seed = example
    op = _digits_hessian(act)
    dense = analyze(op, per_block=False)
    est = analyze(op, dense_limit=100, per_block=False, seed=seed)
    worst = abs(est.trace - dense.trace) / (4 * est.trace_stderr)
    for key in ("alpha", "gamma"):
        for p in dense.alpha:
            diff = abs(getattr(est, key)[p] - getattr(dense, key)[p]) - getattr(est, f"{key}_bound")[p]
            err = getattr(est, f"{key}_stderr")[p]
            worst = max(worst, diff / (4 * err) if err > 0 else (0.0 if diff <= 1e-12 else np.inf))
    return float(worst)


def blocks_error(example) -> float:
    """|sum of block traces - trace| / |trace| of an MLP Hessian (blocks W1, b1, beta1, ...), by the dense route
    and by Hutch++ from the same products."""
    from numerics.mlp.network import Network
    from numerics.mlp.spectrum import as_operator, hutchpp

    act, seed = example
    rng = np.random.default_rng(seed)
    net = Network.from_spec("4-6-3", hidden=act, output="softmax")
    op = net.hessian_operator(net.init(seed), rng.standard_normal((20, 4)), rng.integers(0, 3, 20))
    a = analyze(op)
    worst = abs(sum(b.trace for b in a.blocks.values()) - a.trace) / abs(a.trace)
    matvec, P, blocks, _ = as_operator(op)
    tr, _, parts = hutchpp(matvec, P, 4, seed, blocks)
    return float(max(worst, abs(sum(t for t, _ in parts) - tr) / abs(tr)))


@st.composite
def autodiff_examples(draw):
    """(hidden widths, activation, samples, seed) of a small MLP regression."""
    return (tuple(draw(st.lists(st.integers(1, 5), min_size=1, max_size=3))), draw(st.sampled_from(("tanh", "sigmoid"))),
            draw(st.integers(1, 8)), draw(st.integers(0, 2**31 - 1)))


def _mlp(example):
    widths, act, samples, seed = example
    rng = np.random.default_rng(seed)
    sizes = (3,) + widths + (1,)
    layers = [(rng.standard_normal((a, b)), 0.3 * rng.standard_normal(b)) for a, b in zip(sizes, sizes[1:])]
    return layers, act, rng.standard_normal((samples, 3)), rng.standard_normal(samples), rng


def jax_error(example) -> float:
    """max |H v - H_ref v| / max |H_ref v| with H_ref = jax.hessian of the flattened loss."""
    import jax
    import jax.numpy as jnp
    from jax.flatten_util import ravel_pytree

    from numerics.mlp.hessian_operators import jax_hessian

    layers, act, X, y, rng = _mlp(example)
    fn = getattr(jnp, act) if act == "tanh" else jax.nn.sigmoid

    def loss(params, batch):
        a, t = batch
        for i, (W, b) in enumerate(params):
            a = a @ W + b
            a = fn(a) if i < len(params) - 1 else a
        return jnp.mean((a[:, 0] - t) ** 2)

    op = jax_hessian(loss, layers, (X, y))
    theta, unravel = ravel_pytree(jax.tree_util.tree_map(jnp.asarray, layers))
    H = np.asarray(jax.hessian(lambda t: loss(unravel(t), (X, y)))(theta))
    v = rng.standard_normal(op.shape[0])
    ref = H @ v
    return float(np.max(np.abs(op.matvec(v) - ref)) / max(np.max(np.abs(ref)), 1e-300))


def torch_mlp(layers, act: str = "tanh"):
    """A float64 torch.nn.Sequential of the (W, b) layers (h = a W + b), tanh or sigmoid units between them."""
    import torch

    mods = []
    for i, (W, b) in enumerate(layers):
        lin = torch.nn.Linear(*W.shape).double()
        with torch.no_grad():
            lin.weight.copy_(torch.as_tensor(W.T))
            lin.bias.copy_(torch.as_tensor(b))
        mods.append(lin)
        if i < len(layers) - 1:
            mods.append(torch.nn.Tanh() if act == "tanh" else torch.nn.Sigmoid())
    return torch.nn.Sequential(*mods)


def torch_error(example) -> float:
    """max |H v - H_ref v| / max |H_ref v| with H_ref from torch.autograd.functional.hessian (float64)."""
    import torch

    from numerics.mlp.hessian_operators import torch_hessian

    layers, act, X, y, rng = _mlp(example)
    model = torch_mlp(layers, act)

    def loss_fn(out, t):
        return torch.mean((out[:, 0] - t) ** 2)

    op = torch_hessian(model, loss_fn, X, y)
    names = [n for n, _ in model.named_parameters()]
    params = tuple(p.detach() for p in model.parameters())
    Xt, yt = torch.as_tensor(X), torch.as_tensor(y)

    def f(*ps):
        return loss_fn(torch.func.functional_call(model, dict(zip(names, ps)), (Xt,)), yt)

    Ht = torch.autograd.functional.hessian(f, params)
    sizes = [p.numel() for p in params]
    H = np.block([[Ht[i][j].reshape(sizes[i], sizes[j]).numpy() for j in range(len(sizes))] for i in range(len(sizes))])
    v = rng.standard_normal(op.shape[0])
    ref = H @ v
    return float(np.max(np.abs(op.matvec(v) - ref)) / max(np.max(np.abs(ref)), 1e-300))


CHECKS = [
    Check(name="analyze dense indices", oracle="numpy eigvalsh counts per zero policy (number of policies off)",
          tol=0.0, strategy=dense_examples, error=dense_error, explicit=((1 + 1, 1, 0, 0), (40, 10, 3, 1)),
          max_examples=40),
    Check(name="analyze slq vs dense", oracle="dense spectrum of P = 1885 MLP Hessians (beyond the quadrature bound, in units of 4 standard errors)",
          tol=1.0, strategy=lambda: st.tuples(st.sampled_from(("relu", "tanh")), st.integers(0, 100)),
          error=slq_error, explicit=(("relu", 0), ("tanh", 0)), max_examples=2),
    Check(name="analyze blocks sum", oracle="trace of the whole operator (relative)", tol=1e-12,
          strategy=lambda: st.tuples(st.sampled_from(("relu", "esp")), st.integers(0, 100)),
          error=blocks_error, max_examples=5),
    Check(name="jax_hessian products", oracle="jax.hessian of the flattened loss", tol=1e-12,
          strategy=autodiff_examples, error=jax_error, max_examples=4),
]
if importlib.util.find_spec("torch") is not None:
    CHECKS.append(Check(name="torch_hessian products", oracle="torch.autograd.functional.hessian (float64)", tol=1e-12,
                        strategy=autodiff_examples, error=torch_error, max_examples=10))
_FAST = {"analyze dense indices": 20, "analyze blocks sum": 2, "kernel monte carlo": 3}  # the rest take minutes: slow
CHECKS = with_budget(CHECKS, 2, per_name=_FAST, slow=tuple(c.name for c in CHECKS if c.name not in _FAST))
