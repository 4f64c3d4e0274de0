"""Multilayer perceptrons with one trainable inverse temperature per unit.

Conventions (shared/DESIGN.md): layer l has ``W{l}`` (n_{l-1}, n_l), ``b{l}``
(n_l,) and ``beta{l}`` (n_l,); ``h_l = a_{l-1} @ W_l + b_l``; a hidden unit
outputs ``a = phi(h, beta)`` for a registered activation phi (``esp``:
h sigma(beta h), Milletari et al. Eq. 6). Output layers: ``sigmoid``
(binary cross-entropy of the logits z = beta_L h_L), ``softmax``
(cross-entropy of softmax(z)), ``linear`` (a = h_L, loss 1/2 |a - y|^2).
The loss is the mean over samples.

Forward and backward passes run in numba on blocks of samples (the layer
table, block layout, forward pass and output layer live in
``numerics.mlp.engine``, shared with ``numerics.mlp.hessian``), summed in a fixed
number of groups spread over the threads (the groups, not the threads, fix
the summation order, so results are bit-identical for any thread count; the
BLAS products run on one thread each). A narrow layer runs per unit with the
samples as the inner SIMD loop; a wide one as BLAS products on the block
(``numerics.mlp.engine.uses_gemm``). Every activation value and first
derivative comes from the generated fused kernels
(``numerics.kernels.activations.first_rows``), computed once in the forward pass and
kept for the backward pass. ``Network.forward`` exposes every layer's
pre-activations and activations. The output layer uses the cross-entropy
gradients dL/dz = sigma(z) - y and softmax(z) - y and the squared-error
gradient a - y.
"""

from __future__ import annotations

import math
import re
from collections import namedtuple

import numba
import numpy as np
from numba import njit, prange

from numerics import validate
from numerics._numba import flush_stale_caches, machine_busy, using_blas_threads
from numerics.kernels.activations import NAMES as ACTIVATIONS
from numerics.mlp import engine
from numerics.mlp import hessian as _hessian
from numerics.mlp.engine import (
    B_OFF,
    BETA_OFF,
    BLOCK,
    GEMM,
    HAS_BETA,
    N_IN,
    N_OUT,
    OUTPUTS,
    U_OFF,
    W_OFF,
    WANT_GRAD,
    WANT_LOSS,
    WANT_OUTPUTS,
    Layers,
    block_doubles,
    block_views,
    dot,
    dots4,
    forward_block,
    inputs_of,
    output_block,
    product,
    product_chunks,
)

# ESP networks (the paper's code): every beta trainable, drawn from N(0, 0.004^2).
ESP_BETA_STD = 0.004
# A batch is summed in partial sums over groups of about GROUP samples (at most MAX_GROUPS), in an
# order that does not depend on the thread count; the groups are what the threads share (690 samples:
# 2 groups of one block).
GROUP, MAX_GROUPS = 384, 64
# How a step uses the numba threads: not at all, one group each, or the row chunks of each BLAS product
# (numerics.mlp.engine.product; a step of one group with wide layers). The sums are the same either way.
SERIAL, GROUPS, PRODUCTS = range(3)
# Work per parallel region (multiply-adds) below which a single call (Network.loss, loss_and_grad) is
# not split over threads: waking a sleeping thread costs ~10-50 us, ~1e5-5e5 multiply-adds on one core.
# A training run does not use it: it times both ways once at its start (numerics.mlp.train).
PARALLEL_WORK = 1_000_000


# -- block kernels (the block layout, forward pass and output layer: numerics.mlp.engine) -------------


@njit(cache=True)
def _load_block(X, Y, rows, lo, A, T):
    """Inputs (into A) and targets (into T) of the samples rows[lo:lo+nb], unit-major (nb = T.shape[1]).

    The inputs are transposed in tiles of 8 samples (8 rows of X read together, 8 adjacent entries of A
    written per input): 3x faster than a column at a time at 64 inputs and 384 samples.
    """
    nb = T.shape[1]
    for s0 in range(0, nb - 7, 8):
        r0, r1, r2, r3 = rows[lo + s0], rows[lo + s0 + 1], rows[lo + s0 + 2], rows[lo + s0 + 3]
        r4, r5, r6, r7 = rows[lo + s0 + 4], rows[lo + s0 + 5], rows[lo + s0 + 6], rows[lo + s0 + 7]
        for i in range(X.shape[1]):
            A[i, s0], A[i, s0 + 1], A[i, s0 + 2], A[i, s0 + 3] = X[r0, i], X[r1, i], X[r2, i], X[r3, i]
            A[i, s0 + 4], A[i, s0 + 5], A[i, s0 + 6], A[i, s0 + 7] = X[r4, i], X[r5, i], X[r6, i], X[r7, i]
    for s in range(nb - nb % 8, nb):
        for i in range(X.shape[1]):
            A[i, s] = X[rows[lo + s], i]
    for j in range(Y.shape[1]):
        for s in range(nb):
            T[j, s] = Y[rows[lo + s], j]


@njit(cache=True, fastmath={"reassoc"})
def _unit_backward(D, i, j, w, fresh, P, Q, want_q, want_sums, A, r0, r1, r2, nb):
    """dL/da_i = D[i] + w D[j] (fresh: w D[j]) of a unit i of the layer below, turned in place into
    dL/dh_i = dL/da_i P[i] in one pass that also sums dL/dbeta_i = sum_s dL/da_i Q[i] (0 unless ``want_q``)
    and, with ``want_sums``, sum_s A[r_k] dL/dh_i for the rows r0..r2 (unit i's first three inputs, the ones
    row among them; else 0)."""
    gq = t0 = t1 = t2 = 0.0
    for s in range(nb):
        a = w * D[j, s] if fresh else D[i, s] + w * D[j, s]
        if want_q:
            gq += a * Q[i, s]
        d = a * P[i, s]
        D[i, s] = d
        if want_sums:
            t0 += A[r0, s] * d
            t1 += A[r1, s] * d
            t2 += A[r2, s] * d
    return gq, t0, t1, t2


@njit(inline="always")
def _input_row(ai0, i, n_in, ones):
    """Row of A holding input i of a layer whose inputs start at row ai0; the ones row (the bias input) for
    i >= n_in."""
    return ai0 + i if i < n_in else ones


@njit(inline="always")
def _input_offset(lay, l, i, j):
    """Offset in the parameter vector of W_ij of layer l, or of b_j for i = n_in (the ones row's weight)."""
    n_in, n_out = lay[l, N_IN], lay[l, N_OUT]
    return lay[l, W_OFF] + i * n_out + j if i < n_in else lay[l, B_OFF] + j


FUSED_INPUTS = 3  # inputs (the ones row counted) whose sums ride along the pass that forms a unit's dL/dh


@njit(cache=True)
def _backward_block(theta, lay, A, P, Q, D, g, first_block, threads):
    """Add dL/dW, dL/db, dL/dbeta of the block to g, given dL/dh_L in D; A's last row holds ones. BLAS
    products add into g (for the ``first_block`` of a sum, g zero, they write it), their chunks over the numba
    threads with ``threads``.

    A BLAS layer (GEMM column) takes dL/dW_l = A_{l-1} D_l^T and dL/da_{l-1} = W_l D_l as two products.
    A per-unit layer takes the sums dL/dW_ij = sum_s a_i D_j and dL/db_j = sum_s D_j (the ones row as input
    n_in) four per pass over the samples; per unit i of a hidden layer, one pass forms dL/dh_i and
    dL/dbeta_i (from the last unit of the layer above, one more pass per further unit; after a BLAS layer
    from its product) and takes the sums of the first FUSED_INPUTS inputs of a per-unit layer along.
    """
    nb = D.shape[1]
    ones = A.shape[0] - 1
    top = lay.shape[0] - 1
    for l in range(top, -1, -1):
        n_in, n_out, wo, bo, uo = lay[l, N_IN], lay[l, N_OUT], lay[l, W_OFF], lay[l, B_OFF], lay[l, U_OFF]
        ai0 = inputs_of(lay, l)
        if lay[l, GEMM]:
            product(False, True, n_in, n_out, nb, A[ai0 : ai0 + n_in].ravel(), nb, D[uo : uo + n_out].ravel(), nb,
                    0.0 if first_block else 1.0, g[wo : wo + n_in * n_out], threads)
            for j in range(n_out):
                g[bo + j] += dot(D[uo + j], None, nb)
        else:
            first = 0 if l == top else FUSED_INPUTS
            for j in range(n_out):
                for i in range(first, n_in + 1, 4):  # inputs i..i+3 (the ones row: n_in)
                    t = dots4(A, _input_row(ai0, i, n_in, ones), _input_row(ai0, i + 1, n_in, ones),
                              _input_row(ai0, i + 2, n_in, ones), _input_row(ai0, i + 3, n_in, ones), D, uo + j, nb)
                    for k in range(min(4, n_in + 1 - i)):
                        g[_input_offset(lay, l, i + k, j)] += t[k]
        if l == 0:
            break
        pu, pbt, pgrad, p_in = lay[l - 1, U_OFF], lay[l - 1, BETA_OFF], lay[l - 1, HAS_BETA], lay[l - 1, N_IN]
        pa0 = inputs_of(lay, l - 1)
        fuse = not lay[l - 1, GEMM]
        if lay[l, GEMM]:
            product(False, False, n_in, nb, n_out, theta[wo:], n_out, D[uo : uo + n_out].ravel(), nb, 0.0,
                    D[pu : pu + n_in].ravel(), threads)
        else:
            for i in range(n_in):
                for j in range(n_out - 1):  # dL/da of the layer below, but for the last unit above
                    w = theta[wo + i * n_out + j]
                    d, dj = D[pu + i], D[uo + j]
                    for s in range(nb):
                        d[s] = w * dj[s] if j == 0 else d[s] + w * dj[s]
        for i in range(n_in):
            if lay[l, GEMM]:  # D[pu + i] holds dL/da_i already
                j, w, fresh = pu + i, 0.0, False
            else:
                j, w, fresh = uo + n_out - 1, theta[wo + i * n_out + n_out - 1], n_out == 1
            gq, t0, t1, t2 = _unit_backward(D, pu + i, j, w, fresh, P, Q, pgrad, fuse, A, _input_row(pa0, 0, p_in, ones),
                                            _input_row(pa0, 1, p_in, ones), _input_row(pa0, 2, p_in, ones), nb)
            if pgrad:
                g[pbt + i] += gq
            if fuse:
                g[_input_offset(lay, l - 1, 0, i)] += t0
                if p_in >= 1:
                    g[_input_offset(lay, l - 1, 1, i)] += t1
                if p_in >= 2:
                    g[_input_offset(lay, l - 1, 2, i)] += t2


@njit(cache=True)
def _clear_gradient(lay, g):
    """g = 0 but for the weights of the BLAS layers, which the first block's products write (beta = 0)."""
    start = 0
    for l in range(lay.shape[0]):
        if lay[l, GEMM]:
            g[start : lay[l, W_OFF]] = 0.0
            start = lay[l, W_OFF] + lay[l, N_IN] * lay[l, N_OUT]
    g[start:] = 0.0


@njit(cache=True)
def _group(theta, X, Y, rows, lo, hi, lay, out_kind, want_grad, g, buf, threads, outputs):
    """Summed loss (and gradient into g) of the samples rows[lo:hi], block by block in the buffer ``buf``;
    BLAS product chunks over the numba threads with ``threads``; the outputs a_L of sample rows[s] into
    outputs[rows[s]] unless ``outputs`` has no rows."""
    if want_grad:
        _clear_gradient(lay, g)
    loss = 0.0
    for start in range(lo, hi, BLOCK):
        H, A, P, Q, D, T, S = block_views(buf, lay, min(BLOCK, hi - start))
        _load_block(X, Y, rows, start, A, T)
        forward_block(theta, lay, H, A, P, Q, threads)
        loss += output_block(theta, lay, out_kind, H, A, T, D, S, g, WANT_GRAD if want_grad else WANT_LOSS)
        if outputs.shape[0]:
            ao = A.shape[0] - 1 - outputs.shape[1]  # the output layer's rows, above the ones row
            for s in range(H.shape[1]):
                for j in range(outputs.shape[1]):
                    outputs[rows[start + s], j] = A[ao + j, s]
        if want_grad:
            _backward_block(theta, lay, A, P, Q, D, g, start == lo, threads)
    return loss


@njit(cache=True)
def n_groups(size):
    """Number of partial sums for a batch of ``size`` samples (fixed: it sets the summation order)."""
    return max(1, min(MAX_GROUPS, (size + GROUP - 1) // GROUP))


@njit(cache=True)
def _groups_serial(theta, X, Y, rows, lay, out_kind, want_grad, G, B, losses, threads, outputs):
    size = rows.shape[0]
    ng = n_groups(size)
    for c in range(ng):
        losses[c] = _group(theta, X, Y, rows, c * size // ng, (c + 1) * size // ng, lay, out_kind, want_grad, G[c], B[0],
                           threads, outputs)


@njit(cache=True, parallel=True)
def _groups_parallel(theta, X, Y, rows, lay, out_kind, want_grad, G, B, losses, outputs):
    size = rows.shape[0]
    ng = n_groups(size)
    for c in prange(ng):
        t = numba.get_thread_id()  # block buffers per thread; the partial sums per group
        losses[c] = _group(theta, X, Y, rows, c * size // ng, (c + 1) * size // ng, lay, out_kind, want_grad, G[c], B[t],
                           False, outputs)


@njit(cache=True)
def batch_loss_grad(theta, X, Y, rows, lay, out_kind, want_grad, threads, G, B, losses, grad):
    """Mean loss over X[rows] (and its gradient into ``grad``), summed group by group in a fixed order; the
    numba threads share nothing (SERIAL), the groups (GROUPS) or each BLAS product's chunks (PRODUCTS)."""
    return _batch(theta, X, Y, rows, lay, out_kind, want_grad, threads, G, B, losses, grad, np.empty((0, 0)))


@njit(cache=True)
def batch_loss_outputs(theta, X, Y, rows, lay, out_kind, threads, G, B, losses, grad, outputs):
    """:func:`batch_loss_grad`'s mean loss (the same sums) and, in the same pass, the outputs a_L of every
    sample rows[s] into outputs[rows[s]]."""
    return _batch(theta, X, Y, rows, lay, out_kind, False, threads, G, B, losses, grad, outputs)


@njit(cache=True)
def _batch(theta, X, Y, rows, lay, out_kind, want_grad, threads, G, B, losses, grad, outputs):
    size = rows.shape[0]
    ng = n_groups(size)
    sums = grad.reshape((1, grad.shape[0])) if ng == 1 else G  # one group sums into grad itself
    if threads == GROUPS:
        _groups_parallel(theta, X, Y, rows, lay, out_kind, want_grad, sums, B, losses, outputs)
    else:
        _groups_serial(theta, X, Y, rows, lay, out_kind, want_grad, sums, B, losses, threads == PRODUCTS, outputs)
    loss = 0.0
    for c in range(ng):
        loss += losses[c]
    if want_grad:
        if ng > 1:
            grad[:] = G[0]
            for c in range(1, ng):
                grad += G[c]
        grad *= 1.0 / size  # a product per entry, not a division: 128 -> ~30 us at 266,610 parameters
    return loss / size


@njit(cache=True)
def _forward_rows(theta, X, lay, out_kind, lo, hi, buf, H, A, a0):
    """Rows lo..hi of H (the first H.shape[1] units) and A (its columns: rows a0... of the block's A)."""
    rows = np.arange(X.shape[0])
    none = np.empty((X.shape[0], 0))
    g = np.empty(0)
    for start in range(lo, hi, BLOCK):
        nb = min(BLOCK, hi - start)
        Hb, Ab, Pb, Qb, Db, Tb, Sb = block_views(buf, lay, nb)
        _load_block(X, none, rows, start, Ab, Tb)
        forward_block(theta, lay, Hb, Ab, Pb, Qb, False)
        output_block(theta, lay, out_kind, Hb, Ab, Tb, Db, Sb, g, WANT_OUTPUTS)
        for s in range(nb):
            for u in range(H.shape[1]):
                H[start + s, u] = Hb[u, s]
            for u in range(A.shape[1]):
                A[start + s, u] = Ab[a0 + u, s]


@njit(cache=True, parallel=True)
def _forward_all(theta, X, lay, out_kind, B, H, A, a0):
    """:func:`_forward_rows` of all samples, groups over the threads, using the per-thread block buffers B."""
    size = X.shape[0]
    ng = n_groups(size)
    for c in prange(ng):
        _forward_rows(theta, X, lay, out_kind, c * size // ng, (c + 1) * size // ng, B[numba.get_thread_id()], H, A, a0)


SOURCES = engine.SOURCES + (__file__,)  # every file compiled into this module's kernels
flush_stale_caches(__name__, SOURCES)


# The work arrays of batch_loss_grad: partial gradient sums per group, flat block buffers per thread
# (numerics.mlp.engine.block_views), partial losses per group, the gradient.
Workspace = namedtuple("Workspace", "sums blocks losses grad")


# -- the network ---------------------------------------------------------------------------------


def parse_arch(arch) -> tuple[int, ...]:
    """Layer widths from ``"2-8-2-1"`` (or a sequence of ints): at least two, each >= 1."""
    if isinstance(arch, str):
        if not re.fullmatch(r"\s*\d+(\s*-\s*\d+)+\s*", arch):
            raise ValueError(f"arch {arch!r} is not valid: give two or more positive integer layer widths separated by '-', e.g. 2-8-2-1")
        sizes = tuple(int(p) for p in arch.split("-"))
    else:
        sizes = tuple(arch)
        if len(sizes) < 2 or not all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) for n in sizes):
            raise ValueError(f"arch {arch!r} is not valid: give two or more positive integer layer widths")
        sizes = tuple(int(n) for n in sizes)
    if min(sizes) < 1:
        raise ValueError(f"arch {arch!r} is not valid: every layer width must be >= 1")
    return sizes


def _per_layer(value, sizes, name, kind):
    """Broadcast a network-wide or per-layer option to one (n_l,) array per layer."""
    n_layers = len(sizes) - 1
    if not isinstance(value, (list, tuple)):
        value = [value] * n_layers
    if len(value) != n_layers:
        raise ValueError(f"{name} needs one entry per layer ({n_layers}), got {len(value)}")
    out = []
    for l, (v, n) in enumerate(zip(value, sizes[1:]), start=1):
        arr = np.asarray(v)
        if arr.ndim == 0:
            arr = np.full(n, arr.item())
        if arr.shape != (n,):
            raise ValueError(f"{name} for layer {l} must be a scalar or have shape ({n},), got shape {arr.shape}")
        if kind == "bool":
            if arr.dtype != np.bool_:
                raise TypeError(f"{name} for layer {l} must be bool, got dtype {arr.dtype}")
        else:
            if arr.dtype.kind not in "biuf" or not np.all(np.isfinite(arr.astype(np.float64))):
                raise ValueError(f"{name} for layer {l} must be finite real numbers, got {v!r}")
            arr = arr.astype(np.float64)
        out.append(arr)
    return tuple(out)


class Network(Layers):
    """An MLP: widths, hidden activations, output kind, and which inverse temperatures are trained.

    Build one with :meth:`from_spec`. ``beta_mean[l] + beta_std[l] * N(0, 1)``
    is the initial inverse temperature of each unit of layer l+1;
    ``train_beta[l]`` says which of them are trained.
    """

    def __init__(self, sizes, hidden, output, train_beta, beta_mean, beta_std):
        self.sizes = tuple(int(n) for n in sizes)
        self.hidden = tuple(hidden)
        self.output = output
        self.train_beta = tuple(np.asarray(t, dtype=bool) for t in train_beta)
        self.beta_mean = tuple(np.asarray(b, dtype=np.float64) for b in beta_mean)
        self.beta_std = tuple(np.asarray(s, dtype=np.float64) for s in beta_std)
        self.n_layers = len(self.sizes) - 1
        if len(self.hidden) != self.n_layers - 1:
            raise ValueError(f"hidden needs one activation per hidden layer ({self.n_layers - 1}), got {len(self.hidden)}")
        for name in self.hidden:
            validate.known("hidden activation", name, ACTIVATIONS)
        validate.known("output", output, OUTPUTS)
        if output == "softmax" and self.sizes[-1] < 2:
            raise ValueError(f"a softmax output needs at least 2 units, got arch {self.arch}")
        for s in self.beta_std:
            if np.any(s < 0):
                raise ValueError(f"beta_std must be >= 0, got {s}")
        super().__init__(self.sizes, self.hidden, output, self.train_beta)

    # construction ------------------------------------------------------------------------------

    @classmethod
    def from_spec(cls, arch, hidden="esp", output="sigmoid", train_beta=None, beta_init=None, beta_std=None):
        """A network from ``arch`` ("2-8-2-1"), a hidden activation (or one per hidden layer) and an output.

        Defaults follow the paper: in a network with ESP units every beta
        (ESP layers and a sigmoid/softmax output) is trained and starts at
        N(0, 0.004^2), nearly linear units; other layers use the standard
        unit, beta = 1 fixed; a linear output's beta plays no role and stays
        fixed. ``train_beta`` (bool, or per layer: bool or bool array),
        ``beta_init`` (the mean; float, or per layer: float or array) and
        ``beta_std`` override the defaults; a given ``beta_init`` is taken
        exactly unless ``beta_std`` is also given.
        """
        sizes = parse_arch(arch)
        n_hidden = len(sizes) - 2
        if isinstance(hidden, str):
            hidden = [hidden] * n_hidden
        hidden = list(hidden)
        if len(hidden) != n_hidden:
            raise ValueError(f"hidden needs one activation per hidden layer ({n_hidden}) for arch {arch!r}, got {len(hidden)}")
        for name in hidden:
            if name not in ACTIVATIONS:
                raise ValueError(f"hidden activation {name!r} is not known; known: {', '.join(ACTIVATIONS)}")
        if output not in OUTPUTS:
            raise ValueError(f"output {output!r} is not known; known: {', '.join(OUTPUTS)}")
        esp_net = "esp" in hidden or (n_hidden == 0 and output != "linear")
        esp_like = [name == "esp" for name in hidden] + [esp_net and output != "linear"]
        default_train = [bool(e) for e in esp_like]
        default_mean = [0.0 if e else 1.0 for e in esp_like]
        default_std = [ESP_BETA_STD if e else 0.0 for e in esp_like]
        train = _per_layer(default_train if train_beta is None else train_beta, sizes, "train_beta", "bool")
        mean = _per_layer(default_mean if beta_init is None else beta_init, sizes, "beta_init", "float")
        if beta_std is None:
            beta_std = default_std if beta_init is None else 0.0
        std = _per_layer(beta_std, sizes, "beta_std", "float")
        return cls(sizes, hidden, output, train, mean, std)

    def config(self) -> dict:
        """JSON-ready description; :meth:`from_config` rebuilds the network."""
        return {
            "arch": self.arch,
            "hidden": list(self.hidden),
            "output": self.output,
            "train_beta": [t.tolist() for t in self.train_beta],
            "beta_mean": [b.tolist() for b in self.beta_mean],
            "beta_std": [s.tolist() for s in self.beta_std],
        }

    @classmethod
    def from_config(cls, cfg: dict) -> Network:
        return cls(parse_arch(cfg["arch"]), cfg["hidden"], cfg["output"], cfg["train_beta"], cfg["beta_mean"], cfg["beta_std"])

    @property
    def arch(self) -> str:
        return "-".join(str(n) for n in self.sizes)

    def __repr__(self) -> str:
        return f"Network({self.arch}, hidden={list(self.hidden)}, output={self.output!r})"

    # parameters --------------------------------------------------------------------------------

    def init(self, seed=0) -> dict:
        """Glorot-uniform W, zero b, beta = beta_mean + beta_std * N(0, 1); ``seed`` an int or SeedSequence."""
        rng = np.random.default_rng(seed)
        params = {}
        for l in range(self.n_layers):
            n_in, n_out = self.sizes[l], self.sizes[l + 1]
            limit = math.sqrt(6.0 / (n_in + n_out))
            params[f"W{l + 1}"] = rng.uniform(-limit, limit, size=(n_in, n_out))
            params[f"b{l + 1}"] = np.zeros(n_out)
            beta = self.beta_mean[l].copy()
            if np.any(self.beta_std[l] > 0):
                beta += self.beta_std[l] * rng.standard_normal(n_out)
            params[f"beta{l + 1}"] = beta
        return params

    def pack(self, params: dict) -> np.ndarray:
        """All parameters (trainable or not) as one vector in the order W1, b1, beta1, W2, ... (row-major)."""
        if not isinstance(params, dict):
            raise TypeError(f"params must be a dict of arrays, got {type(params).__name__}")
        parts = []
        for name, shape in self.shapes.items():
            if name not in params:
                raise ValueError(f"params lacks {name!r} (shape {shape}) for a {self.arch} network")
            arr = np.asarray(params[name], dtype=np.float64)
            if arr.shape != shape:
                raise ValueError(f"params[{name!r}] must have shape {shape}, got {arr.shape}")
            parts.append(arr.ravel())
        theta = np.concatenate(parts)
        if not np.isfinite(theta).all():
            name = next(name for name, part in zip(self.shapes, parts) if not np.isfinite(part).all())
            raise ValueError(f"params[{name!r}] must be finite")
        return theta

    def unpack(self, vector) -> dict:
        """Inverse of :meth:`pack`: a dict of (copied) arrays."""
        vector = np.asarray(vector, dtype=np.float64)
        if vector.shape != (self.n_full,):
            raise ValueError(f"a packed parameter vector of a {self.arch} network has shape ({self.n_full},), got {vector.shape}")
        out, off = {}, 0
        for name, shape in self.shapes.items():
            size = math.prod(shape)
            out[name] = vector[off : off + size].reshape(shape).copy()
            off += size
        return out

    def flatten(self, params: dict) -> np.ndarray:
        """The trainable parameters as one vector, order W1, b1, beta1, W2, ... (row-major); fixed betas left out."""
        return self.pack(params)[self.trainable_index]

    def unflatten(self, theta, params: dict | None = None) -> dict:
        """Parameters from a trainable vector; fixed entries from ``params`` (default: their fixed initial value)."""
        theta = np.asarray(theta, dtype=np.float64)
        if theta.shape != (self.n_params,):
            raise ValueError(f"theta must have shape ({self.n_params},) (the trainable parameters), got {theta.shape}")
        if params is None:
            random_fixed = [l + 1 for l in range(self.n_layers) if np.any(self.beta_std[l][~self.train_beta[l]] > 0)]
            if random_fixed:
                raise ValueError(f"fixed betas of layer(s) {random_fixed} are random; pass params to take them from")
            full = self.pack({name: np.zeros(shape) for name, shape in self.shapes.items()})
            for l in range(self.n_layers):
                o = self.layout[l, BETA_OFF]
                full[o : o + self.sizes[l + 1]] = self.beta_mean[l]
        else:
            full = self.pack(params)
        full[self.trainable_index] = theta
        return self.unpack(full)

    # data --------------------------------------------------------------------------------------

    def targets(self, X, y) -> tuple[np.ndarray, np.ndarray]:
        """Validated ``(X, Y)``: X float64 (m, n_0); Y float64 (m, n_L) in the output's form.

        sigmoid: labels in {0, 1}; softmax: class labels 0..n_L-1 or one-hot
        rows; linear: any finite targets.
        """
        from numerics.mlp.data import check_xy, one_hot

        X, y = check_xy(X, y)
        self._check_width(X)
        n_out = self.sizes[-1]
        if self.output == "softmax" and y.ndim == 1:
            if np.any(y != np.round(y)) or y.min() < 0 or y.max() > n_out - 1:
                raise ValueError(f"softmax labels must be integers 0..{n_out - 1}, got values in [{y.min()}, {y.max()}]")
            return X, one_hot(y, n_out)
        Y = y.reshape(-1, 1) if y.ndim == 1 else y
        if Y.shape[1] != n_out:
            raise ValueError(f"targets have {Y.shape[1]} columns; the network has {n_out} outputs (arch {self.arch})")
        if self.output == "sigmoid" and not np.all((Y == 0) | (Y == 1)):
            bad = Y[(Y != 0) & (Y != 1)][0]
            raise ValueError(f"labels for a sigmoid output must be 0 or 1, got {bad}")
        if self.output == "softmax" and not (np.all((Y == 0) | (Y == 1)) and np.all(Y.sum(axis=1) == 1)):
            raise ValueError("softmax targets given as rows must be one-hot (a single 1 per row)")
        return X, np.ascontiguousarray(Y)

    def _check_width(self, X):
        if X.shape[1] != self.sizes[0]:
            raise ValueError(f"input width {X.shape[1]} does not match the network's {self.sizes[0]} inputs (arch {self.arch})")

    def inputs(self, X) -> np.ndarray:
        """Validated inputs: float64 (m, n_0), finite."""
        from numerics.mlp.data import check_xy

        X, _ = check_xy(X, np.zeros(np.shape(X)[0] if np.ndim(X) else 0))
        self._check_width(X)
        return X

    # evaluation --------------------------------------------------------------------------------

    def workspace(self, batch: int) -> Workspace:
        """Work arrays for :func:`batch_loss_grad` on batches of up to ``batch`` samples (``*work`` is its last
        four arguments)."""
        nt = numba.config.NUMBA_NUM_THREADS  # numba.get_thread_id() stays below it
        return Workspace(np.zeros((n_groups(batch), self.n_full)),
                         np.zeros((nt, block_doubles(self.layout, max(1, min(BLOCK, batch))))),
                         np.zeros(n_groups(batch)), np.zeros(self.n_full))

    def forward_packed(self, theta, X, work=None, outputs_only=False) -> tuple[np.ndarray, np.ndarray]:
        """(H, A) for a packed parameter vector and validated X: H (m, units), A (m, inputs + units); with
        ``outputs_only`` H (m, 0) and A (m, n_L), the outputs."""
        m = X.shape[0]
        if work is None or work.blocks.shape[1] < block_doubles(self.layout, max(1, min(BLOCK, m))):
            work = self.workspace(m)
        width = self.sizes[0] + self.n_units
        H = np.empty((m, 0 if outputs_only else self.n_units))
        A = np.empty((m, self.sizes[-1] if outputs_only else width))
        a0 = width - A.shape[1]
        with using_blas_threads(1, self.uses_blas):  # BLAS on one thread: threads take whole groups
            if self.threads(m, False) == GROUPS:
                _forward_all(theta, X, self.layout, self.out_kind, work.blocks, H, A, a0)
            else:
                _forward_rows(theta, X, self.layout, self.out_kind, 0, m, work.blocks[0], H, A, a0)
        return H, A

    @property
    def uses_blas(self) -> bool:
        """Whether any layer runs its products through BLAS (numerics.mlp.engine.uses_gemm)."""
        return bool(self.layout[:, GEMM].any())

    def flops(self, batch: int, want_grad: bool = True) -> int:
        """Multiply-adds of the matrix products of one pass over ``batch`` samples: forward, and with
        ``want_grad`` the two backward products (weight gradient, dL/da) of every layer but the first's dL/da."""
        w = sum(self.sizes[l] * self.sizes[l + 1] for l in range(self.n_layers))
        if not want_grad:
            return batch * w
        return batch * (3 * w - self.sizes[0] * self.sizes[1])

    def chunked(self, batch: int) -> bool:
        """Whether a step of ``batch`` samples in one group has a BLAS product of more than one row chunk
        (numerics.mlp.engine.product_chunks): what PRODUCTS shares over the threads."""
        nb = min(BLOCK, batch)
        return any(product_chunks(n_out, nb, n_in) > 1 or product_chunks(n_in, n_out, nb) > 1
                   for n_in, n_out, gemm in zip(self.sizes, self.sizes[1:], self.layout[:, GEMM]) if gemm)

    def threads(self, batch: int, want_grad: bool = True) -> int:
        """How one call on a batch of this size uses the numba threads (SERIAL, GROUPS, PRODUCTS): with two
        threads or more, an idle core and at least PARALLEL_WORK multiply-adds per thread, the groups when
        there are two or more, else the products' chunks when there are any (a training run measures its
        steps instead)."""
        threads = numba.get_num_threads()
        if threads < 2 or self.flops(batch, want_grad) // threads < PARALLEL_WORK or machine_busy():
            return SERIAL
        if n_groups(batch) > 1:
            return GROUPS
        return PRODUCTS if self.chunked(batch) else SERIAL

    def _evaluate(self, params, X, y, want_grad):
        theta = self.pack(params)
        X, Y = self.targets(X, y)
        rows = np.arange(X.shape[0], dtype=np.int64)
        work = self.workspace(X.shape[0])
        threads = self.threads(X.shape[0], want_grad)
        with using_blas_threads(1, self.uses_blas):  # BLAS on one thread: the numba threads share the work
            loss = batch_loss_grad(theta, X, Y, rows, self.layout, self.out_kind, want_grad, threads, *work)
        return loss, work.grad

    def loss(self, params: dict, X, y) -> float:
        """Mean loss over the samples."""
        return float(self._evaluate(params, X, y, False)[0])

    def loss_and_grad(self, params: dict, X, y) -> tuple[float, dict]:
        """Mean loss and its gradient: a dict over the arrays with trainable entries.

        A partially trained beta{l} gets its partial derivatives for all units.
        """
        loss, grad = self._evaluate(params, X, y, True)
        full = self.unpack(grad)
        keep = {f"W{l + 1}" for l in range(self.n_layers)} | {f"b{l + 1}" for l in range(self.n_layers)}
        keep |= {f"beta{l + 1}" for l in range(self.n_layers) if self.train_beta[l].any()}
        return float(loss), {name: full[name] for name in self.shapes if name in keep}

    def hessian(self, params: dict, X, y, max_bytes: int | None = None) -> np.ndarray:
        """The exact Hessian of the mean loss over the trainable parameters (``flatten`` order); see numerics.mlp.hessian."""
        return _hessian.hessian(self, params, X, y, max_bytes=max_bytes)

    def hvp(self, params: dict, X, y, v) -> np.ndarray:
        """Hessian-vector product H v without forming H (``flatten`` order); see numerics.mlp.hessian."""
        return _hessian.hvp(self, params, X, y, v)

    def forward(self, params: dict, X) -> tuple[list, list]:
        """Per-layer pre-activations and activations: ``hs[l]`` (m, n_{l+1}); ``activations[0] = X``,
        ``activations[l+1]`` the outputs of layer l+1 (the last: the network's output a_L)."""
        theta = self.pack(params)
        X = self.inputs(X)
        H, A = self.forward_packed(theta, X)
        cuts = np.cumsum(self.sizes[1:])[:-1]
        hs = np.split(H, cuts, axis=1)
        acts = [A[:, : self.sizes[0]]] + np.split(A[:, self.sizes[0] :], cuts, axis=1)
        return hs, acts

    def predict(self, params: dict, X) -> np.ndarray:
        """Outputs a_L (m, n_L): sigma(z), softmax(z), or h_L."""
        return self.forward(params, X)[1][-1]

    def accuracy(self, params: dict, X, y) -> float:
        """Fraction of samples classified right (sigmoid: every z_j on the side of its label; softmax: argmax)."""
        if self.output == "linear":
            raise ValueError("accuracy is defined for sigmoid and softmax outputs, not for a linear output")
        X, Y = self.targets(X, y)
        return float(accuracy_of(self.output, self.predict(params, X), Y))

    def hessian_operator(self, params: dict, X, y):
        """The Hessian as a LinearOperator with blocks W1, b1, beta1, ...; see numerics.mlp.hessian_operators."""
        from numerics.mlp.hessian_operators import network_hessian

        return network_hessian(self, params, X, y)


def accuracy_of(output: str, predictions: np.ndarray, Y: np.ndarray) -> float:
    """Classification accuracy of outputs a_L against targets Y (both (m, n_L))."""
    if output == "sigmoid":
        return float(np.mean(np.all((predictions > 0.5) == (Y > 0.5), axis=1)))
    return float(np.mean(np.argmax(predictions, axis=1) == np.argmax(Y, axis=1)))
