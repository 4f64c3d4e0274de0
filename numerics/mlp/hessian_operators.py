"""Hessians of any model as matrix-free operators with parameter blocks, for :func:`numerics.mlp.spectrum.analyze`.

Each returns a ``scipy.sparse.linalg.LinearOperator`` of shape (P, P),
float64, whose ``blocks`` attribute lists ``(name, slice)`` of every
parameter array in the flattening order:

* :func:`jax_hessian` - a JAX loss over a parameter pytree: forward-over-reverse
  H v = jvp(grad L)(theta; v) (Pearlmutter 1994), jitted, float64;
* :func:`torch_hessian` - a PyTorch module and loss: double back-propagation
  H v = d(g . v)/d theta with the gradient graph kept between products
  (a block of vectors in one batched back-propagation);
* :func:`network_hessian` - the toolkit's own MLP (``HessianOperator``
  products, ``toarray()`` the exact dense Hessian), blocks W1, b1, beta1,
  W2, ... (trainable entries only).

JAX and PyTorch are imported only when these are called; PyTorch is an
optional extra (``pip install meanfield[torch]``).
"""

from __future__ import annotations

import numpy as np
from scipy.sparse.linalg import LinearOperator


class BlockOperator(LinearOperator):
    """A symmetric float64 LinearOperator from ``matvec`` (and optionally ``matmat``), with ``blocks``."""

    def __init__(self, size: int, matvec, blocks: list, matmat=None):
        super().__init__(np.float64, (size, size))
        self._mv = matvec
        self._mm = matmat
        self.blocks = blocks

    def _matvec(self, v):
        v = np.asarray(v, dtype=np.float64).reshape(-1)
        if v.shape != (self.shape[0],):
            raise ValueError(f"v must have shape ({self.shape[0]},), got {v.shape}")
        return np.asarray(self._mv(v), dtype=np.float64)

    def _matmat(self, V):
        if self._mm is None:
            return np.column_stack([self._matvec(v) for v in np.asarray(V).T])
        return np.asarray(self._mm(np.asarray(V, dtype=np.float64)), dtype=np.float64)

    def _adjoint(self):
        return self


class NetworkHessianOperator(BlockOperator):
    """The Hessian operator of a :class:`numerics.mlp.network.Network`; ``toarray()`` is the exact dense Hessian
    (``numerics.mlp.hessian.hessian``), which :func:`numerics.mlp.spectrum.analyze` uses instead of P products."""

    def __init__(self, net, params: dict, X, y):
        from numerics.mlp.hessian import HessianOperator

        super().__init__(net.n_params, HessianOperator(net, params, X, y).matvec, network_blocks(net))
        self._dense_args = (net, params, X, y)

    def toarray(self) -> np.ndarray:
        from numerics.mlp.hessian import hessian

        return hessian(*self._dense_args)


def _path_name(path) -> str:
    parts = []
    for key in path:
        for attr in ("key", "idx", "name"):
            if hasattr(key, attr):
                parts.append(str(getattr(key, attr)))
                break
        else:
            parts.append(str(key))
    return "/".join(parts) or "params"


def jax_hessian(loss, params, batch) -> BlockOperator:
    """The Hessian of ``loss(params, batch)`` (a scalar JAX function) over the pytree ``params``.

    Float64 throughout (switches on ``jax_enable_x64``); products are
    jitted, and ``matmat`` maps the product over columns (``jax.vmap``).
    """
    import jax
    import jax.numpy as jnp
    from jax.flatten_util import ravel_pytree

    jax.config.update("jax_enable_x64", True)
    if not callable(loss):
        raise TypeError(f"loss must be a callable loss(params, batch), got {type(loss).__name__}")
    leaves = jax.tree_util.tree_leaves_with_path(params)
    if not leaves:
        raise ValueError("params holds no arrays")
    params = jax.tree_util.tree_map(lambda x: jnp.asarray(x, dtype=jnp.float64), params)
    batch = jax.tree_util.tree_map(
        lambda x: jnp.asarray(x, dtype=jnp.float64) if jnp.issubdtype(jnp.asarray(x).dtype, jnp.floating) else jnp.asarray(x),
        batch)
    theta, unravel = ravel_pytree(params)
    blocks, off = [], 0
    for path, leaf in leaves:
        size = int(np.size(leaf))
        blocks.append((_path_name(path), slice(off, off + size)))
        off += size

    grad = jax.grad(lambda t, b: loss(unravel(t), b))

    def hvp(v, b):
        return jax.jvp(lambda t: grad(t, b), (theta,), (v,))[1]

    mv = jax.jit(hvp)
    mm = jax.jit(jax.vmap(hvp, in_axes=(1, None), out_axes=1))
    return BlockOperator(theta.size, lambda v: np.asarray(mv(jnp.asarray(v), batch)), blocks,
                         lambda V: np.asarray(mm(jnp.asarray(V), batch)))


def torch_hessian(model, loss_fn, X, y) -> BlockOperator:
    """The Hessian of ``loss_fn(model(X), y)`` over the trainable parameters of a PyTorch module.

    The gradient graph is built once (``create_graph=True``); each product
    back-propagates g . v. Computed in the model's dtype (float64 unless the
    model is float32); the operator returns float64 arrays.
    """
    try:
        import torch
    except ImportError:
        raise ImportError("torch_hessian needs PyTorch: pip install 'meanfield[torch]'") from None
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    if not named:
        raise ValueError("model has no trainable parameters")
    dtype = named[0][1].dtype
    if dtype not in (torch.float32, torch.float64):
        raise TypeError(f"model parameters must be float32 or float64, got {dtype}")

    def tensor(a):
        t = torch.as_tensor(a)
        return t.to(dtype) if t.is_floating_point() else t

    X, y = tensor(X), tensor(y)
    params = [p for _, p in named]
    loss = loss_fn(model(X), y)
    if loss.ndim != 0:
        raise ValueError(f"loss_fn must return a scalar, got shape {tuple(loss.shape)}")
    grads = torch.autograd.grad(loss, params, create_graph=True)
    blocks, off = [], 0
    for name, p in named:
        blocks.append((name, slice(off, off + p.numel())))
        off += p.numel()

    def hvp(v):
        """H v for v (P,), or H V for V (P, k) by one batched back-propagation (``is_grads_batched``)."""
        vt = torch.as_tensor(v, dtype=dtype)
        batched = vt.ndim == 2
        vt = vt.T if batched else vt
        lead = tuple(vt.shape[:-1])
        parts = [vt[..., sl].reshape(lead + tuple(p.shape)) for (_, sl), p in zip(blocks, params)]
        hv = torch.autograd.grad(grads, params, grad_outputs=parts, retain_graph=True, allow_unused=True,
                                 is_grads_batched=batched)
        out = torch.cat([(h if h is not None else torch.zeros(lead + tuple(p.shape), dtype=dtype)).reshape(lead + (-1,))
                         for h, p in zip(hv, params)], dim=-1)
        out = out.detach().cpu().numpy().astype(np.float64)
        return out.T if batched else out

    return BlockOperator(off, hvp, blocks, hvp)


def network_blocks(net) -> list:
    """(name, slice) of every trainable array of a :class:`numerics.mlp.network.Network` in ``flatten`` order."""
    blocks, off = [], 0
    for l in range(net.n_layers):
        n_in, n_out = net.sizes[l], net.sizes[l + 1]
        for name, size in ((f"W{l + 1}", n_in * n_out), (f"b{l + 1}", n_out), (f"beta{l + 1}", int(net.train_beta[l].sum()))):
            if size:
                blocks.append((name, slice(off, off + size)))
                off += size
    return blocks


def network_hessian(net, params: dict, X, y) -> NetworkHessianOperator:
    """The exact Hessian of a Network's mean training loss as an operator (products by
    :class:`numerics.mlp.hessian.HessianOperator`, its forward and backward passes computed once; ``toarray()`` the
    dense matrix)."""
    return NetworkHessianOperator(net, params, X, y)
