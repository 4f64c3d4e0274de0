"""Exact Hessians and Hessian-vector products of the MLP training loss.

The loss L = (1/m) sum_mu l(z^mu) of a :class:`numerics.mlp.network.Network`
(conventions in shared/DESIGN.md) is differentiated twice with respect to
the trainable parameters, in the ``flatten`` order W1, b1, beta1, W2, ...

Structure (per sample; layers l = 1..L; a~_{l-1} = (a_{l-1}, 1), so that
W~_l = (W_l; b_l) is one (n_{l-1}+1, n_l) matrix whose row-major order is the
flatten order of W_l then b_l):

* second-order backward pass. With M = W_{l+1} H_{l+1} W_{l+1}^T,
  g_a = dl/da_l, p = dphi/dh and q = dphi/dbeta (diagonal),
  ``H_l = p M p + diag(g_a phi_hh)``, ``R_l = p M q + diag(g_a phi_hbeta)``,
  ``U_l = q M q + diag(g_a phi_betabeta)``: the second derivatives of the
  sample loss in (h_l, h_l), (h_l, beta_l), (beta_l, beta_l) at fixed later
  parameters. At the output z = beta_L h_L, with Lam = d2l/dz2 and
  B = diag(beta_L): ``H_L = B Lam B``, ``R_L = B Lam diag(h_L) + diag(dl/dz)``,
  ``U_L = diag(h_L) Lam diag(h_L)`` (a linear output: H_L = 1, no beta);
* forward Jacobians of the channels of each parameter group g (W~_l acts on
  h_l, beta_l on a_l): F_{m<-g} = dh_m/dg, F^a_{m<-g} = da_m/dg;
* the block of a group g (inputs c_g: a~_{l-1} for W~_l, 1 for beta_l)
  with a later group of layer m is the sample sum of Kronecker products
  ``c_g (x) [a~_{m-1} (x) F^T H_m + (F^a_{m-1})^T (x) delta_m]`` for W~_m
  (the second term, from the bilinear h_m = a_{m-1} W_m, when g lies in an
  earlier layer; delta = dl/dh), ``c_g (x) F^T R_m`` for beta_m and
  ``U_m`` for beta_m with itself.

Evaluation: one numba pass over the engine's blocks of up to BLOCK samples
(``numerics.mlp.engine``: the layer table and block forward pass shared with
training), with the samples as the inner (vectorized) loop, runs each block
forward (the generated kernels for phi and its five derivatives) and forms
its factors;
their sample sums are matrix products, in numba for small networks (up to
four sums per pass over a block) and as BLAS products over chunks of
samples for large ones. F^a_{l<-g} of the group's own layer is diagonal and
same-layer pairs use H, R, U in place. The diagonal W~ blocks use the
symmetry of a~ a~^T (x) H_l: only the products with p <= i and j <= q are
formed.

Every activation derivative comes from the generated fused kernels
(``numerics.kernels.activations.first_rows``/``second_rows``: the three first and the
three second derivatives from one exponential each, in SIMD loops); Lam is
sigma(z) sigma(-z) from the generated sigmoid kernel, diag(p) - p p^T for
softmax, 1 for a linear output.

:class:`HessianOperator` gives the matrix-free product H v by Pearlmutter's
R-operator (forward-over-reverse), as BLAS products over all samples.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numba
import numpy as np
from numba import njit, prange

from numerics._numba import flush_stale_caches, machine_busy, using_blas_threads
from numerics.kernels.activations import NAMES as ACTIVATIONS
from numerics.kernels.activations import first_rows, second_rows
from numerics.mlp import engine
from numerics.mlp.engine import (
    ACT,
    BETA_OFF,
    BLOCK,
    GEMM,
    HAS_BETA,
    N_IN,
    N_OUT,
    OUT_LINEAR,
    SQ_OFF,
    U_OFF,
    W_OFF,
    Layers,
    dots4,
    forward_block,
    output_curvature,
)
from numerics.validate import memory_limit

if TYPE_CHECKING:
    from numerics.mlp.network import Network

KIND_W, KIND_BETA = 0, 1
# Samples go through the passes in the engine's blocks of up to BLOCK, split into chunks of about
# BLOCK, at most MAX_CHUNKS (threads take whole chunks; 690 samples: 2 chunks of one block).
MAX_CHUNKS = 64
# Doubles of the expanded factors of one chunk of samples handed to the BLAS products.
EXPAND_DOUBLES = 1 << 22
# Accumulator size (doubles) up to which the sample sums run in numba rather than BLAS.
SMALL_ACCUMULATOR = 1 << 16
# Work (samples x per-sample factor doubles) above which sample loops are split over threads.
PARALLEL_WORK = 1 << 17
# Block buffers (doubles, all threads) up to which they are kept between calls (64 MB; 2-8-2-1 needs
# 2.4 MB per thread).
KEEP_DOUBLES = 1 << 23



# -- per-sample factors --------------------------------------------------------------------------


@njit(cache=True)
def _activate(k, h, beta, with_beta, a, dv):
    """a = phi_k(h, beta) and dv = (d_h, d_beta, d_hh, d_hbeta, d_betabeta) of activation k at every entry of
    h (samples x units, one beta per unit), by the fused kernels on the transposed (units x samples) block;
    the beta derivatives only ``with_beta``."""
    ht = np.ascontiguousarray(h.T)
    out = np.empty((6,) + ht.shape)
    first_rows(k, ht, np.ascontiguousarray(beta), out[0], out[1], out[2])
    second_rows(k, ht, np.ascontiguousarray(beta), out[3], out[4], out[5])
    a[:] = out[0].T
    dv[0] = out[1].T
    dv[2] = out[3].T
    if with_beta:
        dv[1] = out[2].T
        dv[3] = out[4].T
        dv[4] = out[5].T


def forward_pass(net: Network, params: dict, X) -> tuple[list, list, list]:
    """Pre-activations h_l (m, n_l), activations a_{l-1} (inputs first) and, per hidden layer, the
    derivatives (d_h, d_beta, d_hh, d_hbeta, d_betabeta) of phi at (h_l, beta_l), shape (5, m, n_l),
    from the generated kernels; the beta derivatives are zero where no beta of the layer is trained."""
    L = net.n_layers
    hs, acts, dvs = [], [X], []
    for l in range(L):
        h = acts[l] @ params[f"W{l + 1}"] + params[f"b{l + 1}"]
        hs.append(h)
        if l == L - 1:
            break
        a = np.empty_like(h)
        dv = np.zeros((5,) + h.shape)
        _activate(ACTIVATIONS.index(net.hidden[l]), h, params[f"beta{l + 1}"], bool(net.train_beta[l].any()), a, dv)
        acts.append(a)
        dvs.append(dv)
    return hs, acts, dvs


@njit(cache=True)
def _forward_block(theta, lay, X, lo, Hb, Ab, DVb):
    """Samples lo..lo+nb of X (nb = Hb.shape[1]) through the network, unit-major (column s: sample lo + s):
    pre-activations Hb, inputs and activations Ab (its last row holds the ones of the bias inputs) and the
    derivatives (d_h, d_beta, d_hh, d_hbeta, d_betabeta) of every hidden unit DVb; the engine's block
    forward pass, then the generated second derivatives."""
    nb = Hb.shape[1]
    for i in range(X.shape[1]):
        for s in range(nb):
            Ab[i, s] = X[lo + s, i]
    forward_block(theta, lay, Hb, Ab, DVb[0], DVb[1], False)
    for l in range(lay.shape[0] - 1):
        u0, u1, bt = lay[l, U_OFF], lay[l, U_OFF] + lay[l, N_OUT], lay[l, BETA_OFF]
        second_rows(lay[l, ACT], Hb[u0:u1], theta[bt : bt + lay[l, N_OUT]], DVb[2, u0:u1], DVb[3, u0:u1], DVb[4, u0:u1])


@njit(cache=True)
def _second_backward_block(theta, lay, out_kind, nb, Hb, DV, gz, lam, delta, HRU, tmp, ga):
    """delta = dl/dh and the per-layer squares H, R, U (HRU[0], HRU[1], HRU[2]; R, U where beta is trained)."""
    L = lay.shape[0]
    last = L - 1
    n, bto, uo, so = lay[last, N_OUT], lay[last, BETA_OFF], lay[last, U_OFF], lay[last, SQ_OFF]
    linear = out_kind == OUT_LINEAR
    with_beta = lay[last, HAS_BETA] and not linear
    for j in range(n):
        bj = 1.0 if linear else theta[bto + j]
        for s in range(nb):
            delta[uo + j, s] = bj * gz[j, s]
        for k in range(n):
            bk = 1.0 if linear else theta[bto + k]
            t = so + j * n + k
            for s in range(nb):
                HRU[0, t, s] = bj * lam[j, k, s] * bk
            if with_beta:
                for s in range(nb):
                    HRU[1, t, s] = bj * lam[j, k, s] * Hb[uo + k, s] + (gz[j, s] if j == k else 0.0)
                    HRU[2, t, s] = Hb[uo + j, s] * lam[j, k, s] * Hb[uo + k, s]
            else:
                for s in range(nb):
                    HRU[1, t, s] = 0.0
                    HRU[2, t, s] = 0.0
    for l in range(L - 2, -1, -1):
        n, uo, so, with_beta = lay[l, N_OUT], lay[l, U_OFF], lay[l, SQ_OFF], lay[l, HAS_BETA]
        n2, wo2, uo2, so2 = lay[l + 1, N_OUT], lay[l + 1, W_OFF], lay[l + 1, U_OFF], lay[l + 1, SQ_OFF]
        for i in range(n):  # tmp = W_{l+1} H_{l+1}, ga = W_{l+1} delta_{l+1} = dl/da_l
            for s in range(nb):
                ga[i, s] = 0.0
            for q in range(n2):
                w = theta[wo2 + i * n2 + q]
                for s in range(nb):
                    ga[i, s] += w * delta[uo2 + q, s]
                for s in range(nb):
                    tmp[i, q, s] = 0.0
                for r in range(n2):
                    w = theta[wo2 + i * n2 + r]
                    t = so2 + r * n2 + q
                    for s in range(nb):
                        tmp[i, q, s] += w * HRU[0, t, s]
        for i in range(n):
            u = uo + i
            for s in range(nb):
                delta[u, s] = ga[i, s] * DV[0, u, s]
            for k in range(i, n):
                v = uo + k
                ik, ki = so + i * n + k, so + k * n + i
                for s in range(nb):  # M = (W H W^T)[i, k] into HRU[0, ik] first
                    HRU[0, ik, s] = 0.0
                for q in range(n2):
                    w = theta[wo2 + k * n2 + q]
                    for s in range(nb):
                        HRU[0, ik, s] += tmp[i, q, s] * w
                if with_beta:
                    for s in range(nb):
                        M = HRU[0, ik, s]
                        hb_ik = DV[0, u, s] * M * DV[1, v, s]
                        hb_ki = DV[0, v, s] * M * DV[1, u, s]
                        bb = DV[1, u, s] * M * DV[1, v, s]
                        if k == i:
                            hb_ik += ga[i, s] * DV[3, u, s]
                            hb_ki = hb_ik
                            bb += ga[i, s] * DV[4, u, s]
                        HRU[1, ik, s] = hb_ik
                        HRU[1, ki, s] = hb_ki
                        HRU[2, ik, s] = bb
                        HRU[2, ki, s] = bb
                for s in range(nb):
                    hh = DV[0, u, s] * HRU[0, ik, s] * DV[0, v, s]
                    if k == i:
                        hh += ga[i, s] * DV[2, u, s]
                    HRU[0, ik, s] = hh
                    HRU[0, ki, s] = hh


@njit(cache=True)
def _jacobians_block(theta, lay, groups, pair_off, fa_off, nb, DV, K, FA, F, Fa):
    """Block factors of every group g with a group g2 of a later layer m: K[pair_off[g, g2] + (j, q)] =
    (F_{m<-g}^T X_m)[j, q] (X = H or R) and FA[fa_off[g, m - 1] + (i, j)] = F^a_{m-1<-g}[i, j], per sample.
    K's first 3 n_sq rows are the squares H, R, U themselves: same-layer pairs point there. F^a_{l<-g} is
    diagonal (dphi/dh or dphi/dbeta of layer l): only its diagonal is stored."""
    L = lay.shape[0]
    ng = groups.shape[0]
    n_sq = lay[L - 1, SQ_OFF] + lay[L - 1, N_OUT] ** 2
    for g in range(ng):
        l, kind = groups[g, 0], groups[g, 1]
        if l == L - 1:
            continue
        n_g, uo = lay[l, N_OUT], lay[l, U_OFF]
        d = 1 if kind == KIND_BETA else 0
        fo = fa_off[g, l]
        for j in range(n_g):
            for s in range(nb):
                FA[fo + j * n_g + j, s] = DV[d, uo + j, s]
        for m in range(l + 1, L):
            n_prev, n_m, wo, so_m, uo_m = lay[m, N_IN], lay[m, N_OUT], lay[m, W_OFF], lay[m, SQ_OFF], lay[m, U_OFF]
            if m == l + 1:  # F = W_m^T diag(F^a)
                for q in range(n_m):
                    for j in range(n_g):
                        w = theta[wo + j * n_m + q]
                        for s in range(nb):
                            F[q, j, s] = w * DV[d, uo + j, s]
            else:  # F = W_m^T F^a
                fo = fa_off[g, m - 1]
                for i in range(n_prev):
                    for j in range(n_g):
                        for s in range(nb):
                            FA[fo + i * n_g + j, s] = Fa[i, j, s]
                for q in range(n_m):
                    for j in range(n_g):
                        for s in range(nb):
                            F[q, j, s] = 0.0
                        for i in range(n_prev):
                            w = theta[wo + i * n_m + q]
                            for s in range(nb):
                                F[q, j, s] += w * Fa[i, j, s]
            for g2 in range(g + 1, ng):
                if groups[g2, 0] != m:
                    continue
                off = pair_off[g, g2]
                src = (0 if groups[g2, 1] == KIND_W else n_sq) + so_m  # H_m or R_m
                for j in range(n_g):
                    for q2 in range(n_m):
                        t = off + j * n_m + q2
                        for s in range(nb):
                            K[t, s] = 0.0
                        for q in range(n_m):
                            x = src + q * n_m + q2
                            for s in range(nb):
                                K[t, s] += F[q, j, s] * K[x, s]
            if m < L - 1:
                for q in range(n_m):
                    for j in range(n_g):
                        for s in range(nb):
                            Fa[q, j, s] = DV[0, uo_m + q, s] * F[q, j, s]


@njit(inline="always")
def _input(lay, l, kind, n0, p):
    """Row of Ab holding entry p of the inputs of a group (a~_{l-1} for W~_l, 1 for beta_l: the last row)."""
    if kind == KIND_BETA or p == lay[l, N_IN]:
        return n0 + lay[lay.shape[0] - 1, U_OFF] + lay[lay.shape[0] - 1, N_OUT]
    return p if l == 0 else n0 + lay[l - 1, U_OFF] + p


# What the one-pass sums of _dots weigh the rows by: one row, a product of two, a sum of two products.
DOT_A, DOT_AB, DOT_AB_CD = range(3)


@njit(inline="always", fastmath={"reassoc", "contract"})
def _dots(R, r0, r1, r2, r3, n_r, A, ia, B, ib, C, ic, D, id_, mode, nb):
    """sum_s R[r_k, s] v[s] for the first n_r (4, or 1 with DOT_A) rows r0..r3, with v = A[ia] (mode DOT_A),
    A[ia] B[ib] (DOT_AB) or A[ia] B[ib] + C[ic] D[id_] (DOT_AB_CD): one pass over the samples serves up to four
    sums. Rows are indices, not views (a view per call costs reference counting comparable to the loop)."""
    t0 = t1 = t2 = t3 = 0.0
    if n_r == 1:
        for s in range(nb):
            t0 += R[r0, s] * A[ia, s]
    elif mode == DOT_A:
        return dots4(R, r0, r1, r2, r3, A, ia, nb)
    elif mode == DOT_AB:
        for s in range(nb):
            v = A[ia, s] * B[ib, s]
            t0 += R[r0, s] * v
            t1 += R[r1, s] * v
            t2 += R[r2, s] * v
            t3 += R[r3, s] * v
    else:
        for s in range(nb):
            v = A[ia, s] * B[ib, s] + C[ic, s] * D[id_, s]
            t0 += R[r0, s] * v
            t1 += R[r1, s] * v
            t2 += R[r2, s] * v
            t3 += R[r3, s] * v
    return t0, t1, t2, t3


@njit(inline="always")
def _add_tile(out, base, stride, first, count, t):
    """out[base + (first + k) stride] += t[k] for k < min(4, count - first)."""
    out[base + first * stride] += t[0]
    if first + 1 < count:
        out[base + (first + 1) * stride] += t[1]
    if first + 2 < count:
        out[base + (first + 2) * stride] += t[2]
    if first + 3 < count:
        out[base + (first + 3) * stride] += t[3]


@njit(cache=True, fastmath={"reassoc", "contract"})
def _accumulate_block(tabs, n0, nb, Ab, delta, K, FA, ROWS, Z):
    """Add the block's sample sums to ROWS (rows of the blocks c_g (x) [...] with later groups) and Z
    (sum_s a~_p a~_i H_l[j, q], p <= i, j <= q, for each diagonal W~ block). Each pass over the samples
    forms one right factor and takes its products with up to four inputs at once (:func:`_dots`); a beta
    group (one input) takes four channels at once."""
    lay, groups, pair_off, fa_off, g_off, col_off, width, ap_off, hp_off, row_off, z_off = tabs
    ng = groups.shape[0]
    for g in range(ng):
        l, kind = groups[g, 0], groups[g, 1]
        n_g = lay[l, N_OUT]
        n_c = lay[l, N_IN] + 1 if kind == KIND_W else 1
        length = n_g * width[g]
        for g2 in range(g, ng):
            co = col_off[g, g2]
            if co < 0:
                continue
            l2, kind2 = groups[g2, 0], groups[g2, 1]
            n2, n_prev, uo2 = lay[l2, N_OUT], lay[l2, N_IN], lay[l2, U_OFF]
            ko = pair_off[g, g2]
            n_i = 1 if kind2 == KIND_BETA else n_prev + 1
            corr = kind2 == KIND_W and l < l2
            fo = fa_off[g, l2 - 1] if corr else 0
            for i in range(n_i):
                ci = _input(lay, l2, kind2, n0, i)
                if kind == KIND_BETA:  # a single input (1): four channels j per pass instead
                    n_j = 1 if n_g == 1 else 4
                    for q in range(n2):
                        base = row_off[g] + co + i * n2 + q
                        for j in range(0, n_g, 4):
                            k0, k1 = ko + j * n2 + q, ko + min(j + 1, n_g - 1) * n2 + q
                            k2, k3 = ko + min(j + 2, n_g - 1) * n2 + q, ko + min(j + 3, n_g - 1) * n2 + q
                            t = _dots(K, k0, k1, k2, k3, n_j, Ab, ci, Ab, ci, Ab, ci, Ab, ci, DOT_A, nb)
                            _add_tile(ROWS, base, width[g], j, n_g, t)
                        if corr and i < n_prev:  # + sum_s F^a[i, j] delta_q
                            f = fo + i * n_g
                            if l2 == l + 1:  # F^a diagonal: j = i only
                                t = _dots(FA, f + i, f + i, f + i, f + i, 1, delta, uo2 + q, delta, 0, delta, 0, delta,
                                          0, DOT_A, nb)
                                ROWS[base + i * width[g]] += t[0]
                                continue
                            for j in range(0, n_g, 4):
                                f1, f2, f3 = f + min(j + 1, n_g - 1), f + min(j + 2, n_g - 1), f + min(j + 3, n_g - 1)
                                t = _dots(FA, f + j, f1, f2, f3, n_j, delta, uo2 + q, delta, 0, delta, 0, delta, 0, DOT_A, nb)
                                _add_tile(ROWS, base, width[g], j, n_g, t)
                    continue
                for j in range(n_g):
                    mode = DOT_A if kind2 == KIND_BETA else (DOT_AB_CD if corr and i < n_prev and (l2 > l + 1 or i == j) else DOT_AB)
                    for q in range(n2):
                        col = row_off[g] + j * width[g] + co + i * n2 + q
                        for p in range(0, n_c, 4):
                            t = _dots(Ab, _input(lay, l, kind, n0, p), _input(lay, l, kind, n0, min(p + 1, n_c - 1)),
                                      _input(lay, l, kind, n0, min(p + 2, n_c - 1)),
                                      _input(lay, l, kind, n0, min(p + 3, n_c - 1)), 4,
                                      K, ko + j * n2 + q, Ab, ci, FA, fo + i * n_g + j, delta, uo2 + q, mode, nb)
                            _add_tile(ROWS, col, length, p, n_c, t)
        if kind == KIND_W:
            tg = n_g * (n_g + 1) // 2
            ko = pair_off[g, g]
            for p in range(n_c):
                cp = _input(lay, l, kind, n0, p)
                x = z_off[g] + (p * n_c - p * (p - 1) // 2) * tg  # pair (p, p) of the p <= i pairs
                y = 0
                for j in range(n_g):
                    for q in range(j, n_g):
                        for i in range(p, n_c, 4):
                            t = _dots(Ab, _input(lay, l, kind, n0, i), _input(lay, l, kind, n0, min(i + 1, n_c - 1)),
                                      _input(lay, l, kind, n0, min(i + 2, n_c - 1)),
                                      _input(lay, l, kind, n0, min(i + 3, n_c - 1)), 4,
                                      K, ko + j * n_g + q, Ab, cp, K, 0, K, 0, 1, nb)
                            _add_tile(Z, x + y, tg, i - p, n_c - p, t)
                        y += 1


@njit(cache=True)
def _expand_block(tabs, n0, nb, Ab, delta, K, FA, c0, At, Gt, APt, HPt):
    """The block's right factors into columns c0..c0+nb of At (activations), Gt (rows of the blocks with later
    groups), APt (a~_p a~_i, p <= i) and HPt (H_l[j, q], j <= q): the operands of the BLAS products."""
    lay, groups, pair_off, fa_off, g_off, col_off, width, ap_off, hp_off, row_off, z_off = tabs
    ng = groups.shape[0]
    for r in range(At.shape[0]):
        for s in range(nb):
            At[r, c0 + s] = Ab[r, s]
    for g in range(ng):
        l, kind = groups[g, 0], groups[g, 1]
        n_g = lay[l, N_OUT]
        if kind == KIND_W:
            n_c = lay[l, N_IN] + 1
            x = ap_off[g]
            for p in range(n_c):
                cp = _input(lay, l, kind, n0, p)
                for i in range(p, n_c):
                    ci = _input(lay, l, kind, n0, i)
                    for s in range(nb):
                        APt[x, c0 + s] = Ab[cp, s] * Ab[ci, s]
                    x += 1
            x = hp_off[g]
            ko = pair_off[g, g]
            for j in range(n_g):
                for q in range(j, n_g):
                    for s in range(nb):
                        HPt[x, c0 + s] = K[ko + j * n_g + q, s]
                    x += 1
        for g2 in range(g, ng):
            co = col_off[g, g2]
            if co < 0:
                continue
            l2 = groups[g2, 0]
            n2 = lay[l2, N_OUT]
            ko = pair_off[g, g2]
            base = g_off[g] + co
            if groups[g2, 1] == KIND_BETA:
                for j in range(n_g):
                    for q in range(n2):
                        for s in range(nb):
                            Gt[base + j * width[g] + q, c0 + s] = K[ko + j * n2 + q, s]
                continue
            n_prev = lay[l2, N_IN]
            uo2 = lay[l2, U_OFF]
            corr = l < l2
            fo = fa_off[g, l2 - 1] if corr else 0
            for i in range(n_prev + 1):
                ci = _input(lay, l2, KIND_W, n0, i)
                for j in range(n_g):
                    row = base + j * width[g] + i * n2
                    for q in range(n2):
                        kq = ko + j * n2 + q
                        if corr and i < n_prev and (l2 > l + 1 or i == j):  # F^a_{l<-g} is diagonal
                            f = fo + i * n_g + j
                            for s in range(nb):
                                Gt[row + q, c0 + s] = Ab[ci, s] * K[kq, s] + FA[f, s] * delta[uo2 + q, s]
                        else:
                            for s in range(nb):
                                Gt[row + q, c0 + s] = Ab[ci, s] * K[kq, s]


@njit(cache=True)
def _slab(work, o, shape):
    """The buffer of ``shape`` at offset o of the flat work array, and the offset after it."""
    n = 1
    for d in shape:
        n *= d
    return work[o : o + n].reshape(shape), o + n


@njit(cache=True)
def _pass(theta, X, Y, out_kind, tabs, dims, lo, hi, store, c_base, At, Gt, APt, HPt, ROWS, Z, work):
    """Factors of samples lo..hi of X, block by block: stored (columns from lo - c_base of At, Gt, APt, HPt)
    or summed into ROWS, Z. The block buffers are carved from ``work`` (``_Structure.block_doubles``)."""
    lay, groups, pair_off, fa_off = tabs[0], tabs[1], tabs[2], tabs[3]
    n_units, n_sq, n_max, n_k, n_fa = dims[0], dims[1], dims[2], dims[3], dims[4]
    n0 = X.shape[1]
    n_last = lay[lay.shape[0] - 1, N_OUT]
    for start in range(lo, hi, BLOCK):
        nb = min(BLOCK, hi - start)
        Hb, o = _slab(work, 0, (n_units, nb))
        Ab, o = _slab(work, o, (n0 + n_units + 1, nb))  # inputs, activations of every layer (the last unused), ones
        DVb, o = _slab(work, o, (5, n_units, nb))
        gz, o = _slab(work, o, (n_last, nb))
        lam, o = _slab(work, o, (n_last, n_last, nb))
        delta, o = _slab(work, o, (n_units, nb))
        HRU, _ = _slab(work, o, (3, n_sq, nb))
        K, o = _slab(work, o, (3 * n_sq + n_k, nb))  # H, R, U, then the cross-layer pair factors
        tmp, o = _slab(work, o, (n_max, n_max, nb))
        ga, o = _slab(work, o, (n_max, nb))
        F, o = _slab(work, o, (n_max, n_max, nb))
        Fa, o = _slab(work, o, (n_max, n_max, nb))
        FA, o = _slab(work, o, (n_fa, nb))
        Ab[n0 + n_units] = 1.0
        _forward_block(theta, lay, X, start, Hb, Ab, DVb)
        n_out, bto, uo = lay[-1, N_OUT], lay[-1, BETA_OFF], lay[-1, U_OFF]
        output_curvature(out_kind, Hb[uo : uo + n_out], theta[bto : bto + n_out], Y, start, gz, lam)
        _second_backward_block(theta, lay, out_kind, nb, Hb, DVb, gz, lam, delta, HRU, tmp, ga)
        _jacobians_block(theta, lay, groups, pair_off, fa_off, nb, DVb, K, FA, F, Fa)
        if store:
            _expand_block(tabs, n0, nb, Ab, delta, K, FA, start - c_base, At, Gt, APt, HPt)
        else:
            _accumulate_block(tabs, n0, nb, Ab, delta, K, FA, ROWS, Z)


@njit(cache=True, parallel=True)
def _store_parallel(theta, X, Y, out_kind, tabs, dims, lo, hi, At, Gt, APt, HPt, work):
    n_blocks = (hi - lo + BLOCK - 1) // BLOCK
    for b in prange(n_blocks):
        s0 = lo + b * BLOCK
        _pass(theta, X, Y, out_kind, tabs, dims, s0, min(hi, s0 + BLOCK), True, lo, At, Gt, APt, HPt, X[0, :0],
              X[0, :0], work[numba.get_thread_id()])


@njit(cache=True, parallel=True)
def _accumulate_parallel(theta, X, Y, out_kind, tabs, dims, ROWS, Z, work):
    """Sample sums in chunks (one accumulator each), added in chunk order."""
    m = X.shape[0]
    chunks = ROWS.shape[0]
    for c in prange(chunks):
        _pass(theta, X, Y, out_kind, tabs, dims, c * m // chunks, (c + 1) * m // chunks, False, 0, X[:0], X[:0],
              X[:0], X[:0], ROWS[c], Z[c], work[numba.get_thread_id()])
    for c in range(1, chunks):
        ROWS[0] += ROWS[c]
        Z[0] += Z[c]


@njit(cache=True)
def _pair_index(n):
    """Index of the pair (i, j) = (j, i), i <= j, in the row-major upper triangle of an n x n matrix."""
    index = np.empty((n, n), dtype=np.int64)
    t = 0
    for i in range(n):
        for j in range(i, n):
            index[i, j] = index[j, i] = t
            t += 1
    return index


@njit(cache=True)
def _scatter(tabs, positions, pos_off, ROWS, Z, scale, out):
    """The (P, P) Hessian from the block rows ROWS and the symmetric diagonal products Z, times ``scale``."""
    lay, groups, pair_off, fa_off, g_off, col_off, width, ap_off, hp_off, row_off, z_off = tabs
    ng = groups.shape[0]
    for g in range(ng):
        l, kind = groups[g, 0], groups[g, 1]
        n_g = lay[l, N_OUT]
        n_c = lay[l, N_IN] + 1 if kind == KIND_W else 1
        W = width[g]
        for p in range(n_c):
            for j in range(n_g):
                r = positions[pos_off[g] + p * n_g + j]
                if r < 0:
                    continue
                base = row_off[g] + p * n_g * W + j * W
                for g2 in range(g, ng):
                    co = col_off[g, g2]
                    if co < 0:
                        continue
                    size2 = pos_off[g2 + 1] - pos_off[g2]
                    for t in range(size2):
                        c = positions[pos_off[g2] + t]
                        if c < 0:
                            continue
                        v = ROWS[base + co + t]
                        if g2 == g:  # a beta group with itself: average the two computed halves
                            v = 0.5 * (v + ROWS[row_off[g] + t * W + co + j])
                        out[r, c] = v * scale
                        out[c, r] = v * scale
        if kind == KIND_W:
            r0 = positions[pos_off[g]]
            tc, tg = _pair_index(n_c), _pair_index(n_g)
            n_tg = n_g * (n_g + 1) // 2
            for p in range(n_c):
                for j in range(n_g):
                    r = r0 + p * n_g + j
                    for i in range(n_c):
                        zo = z_off[g] + tc[p, i] * n_tg
                        for q in range(n_g):
                            out[r, r0 + i * n_g + q] = Z[zo + tg[j, q]] * scale


# -- the network's structure ---------------------------------------------------------------------


class _Structure:
    """Layer table, parameter groups (W~_l = (W_l; b_l), and beta_l when any of it is trained) and the offsets
    of every per-sample factor, expanded factor and accumulator."""

    def __init__(self, net: Network):
        self.out_kind, self.sizes = net.out_kind, net.sizes
        L, sizes = net.n_layers, net.sizes
        lay = net.layout
        sq = int(sum(n * n for n in sizes[1:]))
        unit = net.n_units
        self.lay, self.n_units = lay, unit
        groups = [(l, kind) for l in range(L) for kind in (KIND_W, KIND_BETA) if kind == KIND_W or net.train_beta[l].any()]
        ng = len(groups)
        self.groups = np.array(groups, dtype=np.int64)
        n = [sizes[l + 1] for l, _ in groups]  # channels
        c = [sizes[l] + 1 if kind == KIND_W else 1 for l, kind in groups]  # inputs
        self.channels, self.inputs = n, c
        # rows of the pair factors K: the squares H, R, U of every layer (same-layer pairs), then cross pairs
        pair_off = np.full((ng, ng), -1, dtype=np.int64)
        n_k = 0
        for g, (l, kind) in enumerate(groups):
            for g2 in range(g, ng):
                l2, kind2 = groups[g2]
                if l2 == l:
                    pair_off[g, g2] = (2 if kind == KIND_BETA else kind2) * sq + lay[l, SQ_OFF]
                else:
                    pair_off[g, g2] = 3 * sq + n_k
                    n_k += n[g] * n[g2]
        fa_off = np.full((ng, L), -1, dtype=np.int64)
        n_fa = 0
        for g, (l, _) in enumerate(groups):
            for m in range(l, L - 1):
                fa_off[g, m] = n_fa
                n_fa += sizes[m + 1] * n[g]
        col_off = np.full((ng, ng), -1, dtype=np.int64)
        width = np.zeros(ng, dtype=np.int64)
        g_off, ap_off, hp_off, row_off, z_off = (np.zeros(ng, dtype=np.int64) for _ in range(5))
        g_total = ap_total = hp_total = rows_total = z_total = 0
        for g, (_, kind) in enumerate(groups):
            for g2 in range(g, ng):
                if not (g2 == g and kind == KIND_W):  # a W~ block with itself goes through the symmetric products
                    col_off[g, g2] = width[g]
                    width[g] += c[g2] * n[g2]
            g_off[g], row_off[g] = g_total, rows_total
            g_total += n[g] * width[g]
            rows_total += c[g] * n[g] * width[g]
            if kind == KIND_W:
                ap_off[g], hp_off[g], z_off[g] = ap_total, hp_total, z_total
                ap_total += c[g] * (c[g] + 1) // 2
                hp_total += n[g] * (n[g] + 1) // 2
                z_total += c[g] * (c[g] + 1) // 2 * n[g] * (n[g] + 1) // 2
        self.tabs = (lay, self.groups, pair_off, fa_off, g_off, col_off, width, ap_off, hp_off, row_off, z_off)
        self.dims = tuple(int(v) for v in (unit, sq, max(sizes[1:]), n_k, n_fa, g_total, ap_total, hp_total))
        self.rows_total, self.z_total = int(rows_total), int(z_total)
        # trainable position of every entry (inputs x channels) of every group; -1 for a fixed beta
        position = np.full(net.n_full, -1, dtype=np.int64)
        position[net.trainable_index] = np.arange(net.n_params)
        parts = []
        for g, (l, kind) in enumerate(groups):
            lo = lay[l, W_OFF] if kind == KIND_W else lay[l, BETA_OFF]
            parts.append(position[lo : lo + c[g] * n[g]])
        self.positions = np.concatenate(parts)
        self.pos_off = np.concatenate([[0], np.cumsum([len(p) for p in parts])]).astype(np.int64)

    @property
    def per_sample(self) -> int:
        """Doubles of one sample's expanded factors."""
        return int(sum(self.dims[5:]))

    def accumulator(self) -> int:
        return self.rows_total + self.z_total

    def small(self) -> bool:
        """Whether the sample sums run in numba (True) or as BLAS products (False)."""
        return self.accumulator() <= SMALL_ACCUMULATOR

    def chunk(self, m: int) -> int:
        """Samples per chunk of expanded factors on the BLAS route (whole blocks)."""
        fit = EXPAND_DOUBLES // max(1, self.per_sample) // BLOCK * BLOCK
        return max(BLOCK, min(fit, -(-m // BLOCK) * BLOCK))

    def block_doubles(self) -> int:
        """Doubles of the block buffers of one pass over samples (:func:`_pass`)."""
        n_units, n_sq, n_max, n_k, n_fa = self.dims[:5]
        n_last = self.sizes[-1]
        rows = 8 * n_units + self.sizes[0] + n_last * (n_last + 1) + 3 * n_sq + 3 * n_max * n_max + n_max + n_k + n_fa + 1
        return BLOCK * rows

    def work_bytes(self, m: int, threads: int) -> int:
        """Bytes of work buffers beyond the result: accumulators, the block buffers of every pass running at
        once and, on the BLAS route, one chunk of factors."""
        passes = numba.config.NUMBA_NUM_THREADS if _parallel(m * self.per_sample, threads) else 1
        if self.small():
            chunks = _chunks(m, self, threads) if passes > 1 else 1
            return 8 * (self.accumulator() * chunks + passes * self.block_doubles())
        width = self.sizes[0] + self.n_units + self.per_sample + max(self.sizes) + 1
        return 8 * (self.accumulator() + self.chunk(m) * width + passes * self.block_doubles())


_STRUCTURES: dict = {}


def _structure(net: Network) -> _Structure:
    """The (cached) structure of networks with this architecture, activations, output and trained betas."""
    key = (net.sizes, net.hidden, net.output, tuple(t.tobytes() for t in net.train_beta))
    if key not in _STRUCTURES:
        if len(_STRUCTURES) >= 64:
            _STRUCTURES.clear()
        _STRUCTURES[key] = _Structure(net)
    return _STRUCTURES[key]


_WORK = np.empty((0, 0))


def _block_work(s: _Structure, parallel: bool) -> np.ndarray:
    """Flat block buffers, one row per pass that can run at once (a row per numba thread id when parallel).
    Up to KEEP_DOUBLES in all they are kept between calls: allocating them afresh costs page faults (the C
    library returns freed memory to the system) comparable to the whole computation for a small network.
    Calls hold the GIL, so one kept buffer serves every call in turn."""
    global _WORK
    rows = numba.config.NUMBA_NUM_THREADS if parallel else 1
    if rows * s.block_doubles() > KEEP_DOUBLES:
        return np.empty((rows, s.block_doubles()))
    if _WORK.shape[0] < rows or _WORK.shape[1] < s.block_doubles():
        _WORK = np.empty((max(rows, _WORK.shape[0]), max(s.block_doubles(), _WORK.shape[1])))
    return _WORK


def net_uses_blas(s: _Structure) -> bool:
    """Whether the block forward pass calls BLAS (a layer with the engine's GEMM flag)."""
    return bool(s.lay[:, GEMM].any())


def _parallel(work: int, threads: int) -> bool:
    return threads > 1 and work >= PARALLEL_WORK and not machine_busy()


def _chunks(m: int, s: _Structure, threads: int) -> int:
    """Accumulators on the parallel numba route: enough to share the samples, few enough to stay small."""
    return max(1, min(MAX_CHUNKS, -(-m // BLOCK), 4 * threads, (1 << 24) // max(1, s.accumulator())))


# -- memory --------------------------------------------------------------------------------------


def dense_bytes(net: Network, m: int) -> int:
    """Bytes :func:`hessian` needs for ``m`` samples: the (P, P) result and the work buffers."""
    return 8 * net.n_params**2 + _structure(net).work_bytes(m, numba.get_num_threads())


def check_memory(net: Network, needed: int, max_bytes: int | None, what: str = "a dense Hessian",
                 hint: str = "use the matrix-free route (HessianOperator, Lanczos, SLQ) instead") -> None:
    """ValueError, naming the size, when ``needed`` bytes exceed ``max_bytes`` (default numerics.validate.memory_limit)."""
    limit = memory_limit() if max_bytes is None else max_bytes
    if needed > limit:
        raise ValueError(
            f"{what} of the {net.arch} network ({net.n_params} trainable parameters) needs {needed / 1e9:.3g} GB, "
            f"more than the limit of {limit / 1e9:.3g} GB; {hint}")


# -- the dense Hessian ---------------------------------------------------------------------------


def _check_net(net):
    if not isinstance(net, Layers):
        raise TypeError(f"net must be a numerics.Network, got {type(net).__name__}")


def hessian(net: Network, params: dict, X, y, max_bytes: int | None = None) -> np.ndarray:
    """The exact Hessian of the mean training loss: (P, P) float64, P = ``net.n_params``, ``flatten`` order.

    Symmetric to the last bit. Refuses (ValueError, naming the size) when
    it would need more than ``max_bytes`` (default numerics.validate.memory_limit).
    """
    _check_net(net)
    theta = net.pack(params)
    X, Y = net.targets(X, y)
    m = X.shape[0]
    s = _structure(net)
    threads = numba.get_num_threads()
    check_memory(net, 8 * net.n_params**2 + s.work_bytes(m, threads), max_bytes)
    args = (theta, X, Y, net.out_kind, s.tabs, s.dims)
    ROWS, Z = _small_sums(s, args, threads) if s.small() else _blas_sums(s, args, threads)
    out = np.empty((net.n_params, net.n_params))
    _scatter(s.tabs, s.positions, s.pos_off, ROWS, Z, 1.0 / m, out)
    return out


def _small_sums(s: _Structure, args, threads):
    m = args[1].shape[0]
    if _parallel(m * s.per_sample, threads):
        chunks = _chunks(m, s, threads)
        ROWS = np.zeros((chunks, s.rows_total))
        Z = np.zeros((chunks, s.z_total))
        with using_blas_threads(1, net_uses_blas(s)):  # threads take whole chunks, BLAS one thread each
            _accumulate_parallel(*args, ROWS, Z, _block_work(s, True))
        return ROWS[0], Z[0]
    ROWS = np.zeros(s.rows_total)
    Z = np.zeros(s.z_total)
    empty = np.empty((0, 0))
    _pass(*args, 0, m, False, 0, empty, empty, empty, empty, ROWS, Z, _block_work(s, False)[0])
    return ROWS, Z


def _blas_sums(s: _Structure, args, threads):
    """Sample sums as BLAS products over chunks of samples (factors stored sample-minor: column = sample)."""
    m, n0 = args[1].shape
    width_a = n0 + s.n_units
    lay, groups, _, _, g_off, _, width, ap_off, hp_off, row_off, z_off = s.tabs
    g_total, ap_total, hp_total = s.dims[5:]
    ROWS = np.zeros(s.rows_total)
    Z = np.zeros(s.z_total)
    step = s.chunk(m)
    At = np.empty((width_a, step))
    Gt = np.empty((g_total, step))
    APt = np.empty((ap_total, step))
    HPt = np.empty((hp_total, step))
    Ct = np.empty((max(s.inputs), step))
    for lo in range(0, m, step):
        hi = min(m, lo + step)
        nb = hi - lo
        if _parallel(nb * s.per_sample, threads):
            with using_blas_threads(1, net_uses_blas(s)):  # threads take whole blocks, BLAS one thread each
                _store_parallel(*args, lo, hi, At, Gt, APt, HPt, _block_work(s, True))
        else:
            _pass(*args, lo, hi, True, lo, At, Gt, APt, HPt, Z[:0], Z[:0], _block_work(s, False)[0])
        for g, (l, kind) in enumerate(groups):
            n_g, n_c = s.channels[g], s.inputs[g]
            if kind == KIND_W:
                ai = 0 if l == 0 else n0 + lay[l - 1, U_OFF]
                Ct[: n_c - 1, :nb] = At[ai : ai + n_c - 1, :nb]
            Ct[n_c - 1, :nb] = 1.0
            length = n_g * width[g]
            if length:
                block = ROWS[row_off[g] : row_off[g] + n_c * length].reshape(n_c, length)
                block += Ct[:n_c, :nb] @ Gt[g_off[g] : g_off[g] + length, :nb].T
            if kind == KIND_W:
                tc, tg = n_c * (n_c + 1) // 2, n_g * (n_g + 1) // 2
                block = Z[z_off[g] : z_off[g] + tc * tg].reshape(tc, tg)
                block += APt[ap_off[g] : ap_off[g] + tc, :nb] @ HPt[hp_off[g] : hp_off[g] + tg, :nb].T
    return ROWS, Z


# -- Hessian-vector products ---------------------------------------------------------------------


CURVATURE_ENTRIES = 1 << 20  # output curvature entries the NumPy operator holds at once (8 MB)


class HessianOperator:
    """v -> H v for one network, parameter set and data, without forming H (Pearlmutter's R-operator).

    The forward pass, the activation derivatives (generated kernels) and
    the backward pass are computed once; each product then costs a few
    BLAS products per layer over all samples: the R-forward pass
    ``Rh_l = Ra_{l-1} W_l + a_{l-1} V_l + v_b``, ``Ra_l = phi_h Rh_l + phi_beta v_beta``,
    then the R-backward pass of dl/dh, dl/da and the gradient, with the
    second derivatives phi_hh, phi_hbeta, phi_betabeta and d2l/dz2.
    ``shape`` is (P, P); ``matvec`` and ``@`` take a (P,) vector.
    """

    def __init__(self, net: Network, params: dict, X, y):
        _check_net(net)
        self.net = net
        self.theta = net.pack(params)
        X, Y = net.targets(X, y)
        self.m = X.shape[0]
        self.shape = (net.n_params, net.n_params)
        self.dtype = np.dtype(np.float64)
        p = net.unpack(self.theta)
        L = net.n_layers
        self.W = [p[f"W{l + 1}"] for l in range(L)]
        self.beta = [p[f"beta{l + 1}"] for l in range(L)]
        self.H, self.A, self.dv = forward_pass(net, p, X)
        h, b = self.H[-1], self.beta[-1]
        self.h_units, self.Y = np.ascontiguousarray(h.T), Y
        self.gz = np.concatenate([gz.T for gz, _ in self._output_blocks()])
        # dl/dh and dl/da of every layer, per sample
        self.delta = [None] * L
        self.ga = [None] * L
        self.delta[-1] = self.gz if net.output == "linear" else b * self.gz
        for l in range(L - 2, -1, -1):
            self.ga[l] = self.delta[l + 1] @ self.W[l + 1].T
            self.delta[l] = self.ga[l] * self.dv[l][0]

    def _output_blocks(self):
        """(dl/dz, d2l/dz2) of the output layer (engine.output_curvature) over consecutive blocks of samples,
        each holding at most CURVATURE_ENTRIES curvature entries (n_L^2 per sample)."""
        n = self.h_units.shape[0]
        step = max(1, CURVATURE_ENTRIES // (n * n))
        for lo in range(0, self.m, step):
            hi = min(self.m, lo + step)
            gz, lam = np.empty((n, hi - lo)), np.empty((n, n, hi - lo))
            output_curvature(self.net.out_kind, self.h_units[:, lo:hi], self.beta[-1], self.Y, lo, gz, lam)
            yield gz, lam

    def _curvature(self, rz):
        """d2l/dz2 applied to rz, per sample."""
        out, lo = np.empty_like(rz), 0
        for _, lam in self._output_blocks():
            hi = lo + lam.shape[2]
            out[lo:hi] = np.einsum("jks,sk->sj", lam, rz[lo:hi])
            lo = hi
        return out

    def matvec(self, v) -> np.ndarray:
        net = self.net
        v = np.asarray(v, dtype=np.float64)
        if v.shape != (net.n_params,):
            raise ValueError(f"v must have shape ({net.n_params},) (the trainable parameters), got {v.shape}")
        if not np.all(np.isfinite(v)):
            raise ValueError("v must be finite")
        full = np.zeros(net.n_full)
        full[net.trainable_index] = v
        V = net.unpack(full)
        L = net.n_layers
        VW = [V[f"W{l + 1}"] for l in range(L)]
        Vb = [V[f"b{l + 1}"] for l in range(L)]
        Vbeta = [V[f"beta{l + 1}"] for l in range(L)]
        RH, RA = [], [None]
        for l in range(L):
            rh = self.A[l] @ VW[l] + Vb[l]
            if l > 0:
                rh += RA[l] @ self.W[l]
            RH.append(rh)
            if l < L - 1:
                RA.append(self.dv[l][0] * rh + self.dv[l][1] * Vbeta[l])
        out = {}
        h, b = self.H[-1], self.beta[-1]
        if net.output == "linear":
            rdelta = self._curvature(RH[-1])
            out[f"beta{L}"] = np.zeros_like(b)
        else:
            rgz = self._curvature(Vbeta[-1] * h + b * RH[-1])
            rdelta = Vbeta[-1] * self.gz + b * rgz
            out[f"beta{L}"] = np.sum(rgz * h + self.gz * RH[-1], axis=0)
        for l in range(L - 1, -1, -1):
            gw = self.A[l].T @ rdelta
            if l > 0:
                gw += RA[l].T @ self.delta[l]
            out[f"W{l + 1}"] = gw
            out[f"b{l + 1}"] = rdelta.sum(axis=0)
            if l == 0:
                break
            k = l - 1
            d_h, d_beta, d_hh, d_hbeta, d_betabeta = self.dv[k]
            rga = rdelta @ self.W[l].T + self.delta[l] @ VW[l].T
            ga = self.ga[k]
            out[f"beta{k + 1}"] = np.sum(rga * d_beta + ga * (d_hbeta * RH[k] + d_betabeta * Vbeta[k]), axis=0)
            rdelta = rga * d_h + ga * (d_hh * RH[k] + d_hbeta * Vbeta[k])
        return net.pack(out)[net.trainable_index] / self.m

    __matmul__ = matvec


def hvp(net: Network, params: dict, X, y, v) -> np.ndarray:
    """H v for the exact Hessian H of the mean training loss (``flatten`` order), without forming H."""
    return HessianOperator(net, params, X, y).matvec(v)


# numba revalidates a cached function against its own file only; these inline the generated kernels
SOURCES = engine.SOURCES + (__file__,)
flush_stale_caches(__name__, SOURCES)
