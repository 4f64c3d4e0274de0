"""The MLP engine shared by training (numerics.mlp.network) and the exact Hessian (numerics.mlp.hessian).

It owns the layer table, the block size and layout, the block forward pass
and the output-layer kernels. Samples go through a network in blocks of at
most BLOCK, stored unit-major: column s of H (pre-activations of every
layer), A (inputs, then every layer's outputs, then a row of ones: the bias
input), P and Q (d phi/dh and d phi/dbeta of the hidden units), D (dL/dh) and
T (targets) belongs to sample s of the block. A block of nb samples is a view
of shape (rows, nb) of a flat buffer (:func:`block_views`), so the rows of one
layer form a C-contiguous (n_l, nb) matrix.

A layer runs one of two ways, chosen from its shape (:func:`uses_gemm`):
per unit, with the samples as the inner SIMD loop (narrow layers, where a
BLAS call costs more than the loop), or as one BLAS product per block,
``H_l = W_l^T A_{l-1}`` (wide layers). Either way every activation value and
first derivative comes from the generated fused kernels
(``numerics.kernels.activations.first_rows``), applied in place on the layer's rows.
"""

from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic
from numba.np.linalg import ensure_blas

from numerics._generated import output as out
from numerics._numba import KERNEL_SOURCES, flush_stale_caches
from numerics.kernels._primitives import EXP_MIN, exact_product_low, exp_fast, log1p_unit, sigmoid_tanh
from numerics.kernels.activations import NAMES as ACTIVATIONS
from numerics.kernels.activations import activation, first_rows

OUTPUTS = ("sigmoid", "softmax", "linear")
OUT_SIGMOID, OUT_SOFTMAX, OUT_LINEAR = range(3)
# What output_block computes: the outputs; and the summed loss; and the gradient too.
WANT_OUTPUTS, WANT_LOSS, WANT_GRAD = range(3)
# Columns of the integer layer table: widths, offsets in the packed parameter vector (W, b, beta), first
# unit, activation index (-1: the output layer), whether a beta of the layer is trained (never for a
# linear output), offset of the layer's (n_l, n_l) squares in the Hessian's per-sample factors, and
# whether the layer's matrix products run through BLAS.
N_IN, N_OUT, W_OFF, B_OFF, BETA_OFF, U_OFF, ACT, HAS_BETA, SQ_OFF, GEMM = range(10)
# Samples per block (a block's sums cost a fixed ~0.1 us each, so blocks are long).
BLOCK = 384
# A layer runs as BLAS products (forward, backward, weight gradient) when n_in >= GEMM_MIN_IN, n_out >=
# GEMM_MIN_OUT and n_in * n_out >= GEMM_WEIGHTS: below, the per-unit loops (which fuse the weight sums of
# the first inputs and the bias into the pass that forms dL/dh) beat a BLAS call's fixed cost. Measured on
# one core, gradient of one block, every per-layer choice of a net timed (us, median of 7; best choice
# first): 2-8-2-1 at 384 samples all per-unit 14.1, any BLAS layer 14.6-17.2; 6-6-6-1 all per-unit 6.9,
# else 7.3-10.0; 8-8-8-1 BLAS, BLAS, per-unit 9.9 vs all per-unit 11.6; 16-16-16-1 the same 21.1 vs 32.2;
# 4-16-16-4 BLAS, BLAS, per-unit 21.1 (16 x 4 as BLAS 23.6); 2-30-30-1 per-unit, BLAS, per-unit 17.4
# (50 samples; 2 x 30 as BLAS 17.6-19.2); 30-10-1 BLAS, per-unit 7.7 vs 13.7; 64-25-10 at 100 samples both
# BLAS 27.9 vs 36.0 (at 384: 114 vs 108); 100-4-4 BLAS, per-unit 9.9 vs 10.6.
GEMM_MIN_IN, GEMM_MIN_OUT, GEMM_WEIGHTS = 3, 5, 64

_sigmoid = activation("sigmoid").kernels.value  # sigma(beta h), for saturated logits
_sigmoid_h = activation("sigmoid").kernels.d_h  # beta sigma(beta h) sigma(-beta h)
SIGMOID_TAIL = 700.0  # |z| up to which e^-|z| is a normal float: the sigmoid output's SIMD loop
SAMPLE_ROWS = 5  # per-sample rows of a block: the losses and four rows of softmax scratch


def uses_gemm(n_in: int, n_out: int) -> bool:
    """Whether a layer of this shape runs its matrix products through BLAS (see GEMM_WEIGHTS)."""
    return n_in >= GEMM_MIN_IN and n_out >= GEMM_MIN_OUT and n_in * n_out >= GEMM_WEIGHTS


def layer_table(sizes, hidden, output, train_beta) -> np.ndarray:
    """The (L, 10) integer layer table of a network (columns N_IN ... GEMM)."""
    L = len(sizes) - 1
    lay = np.zeros((L, 10), dtype=np.int64)
    off = unit = sq = 0
    for l in range(L):
        n_in, n_out = sizes[l], sizes[l + 1]
        act = ACTIVATIONS.index(hidden[l]) if l < L - 1 else -1
        has_beta = bool(np.any(train_beta[l])) and not (l == L - 1 and output == "linear")
        lay[l] = (n_in, n_out, off, off + n_in * n_out, off + n_in * n_out + n_out, unit, act, has_beta, sq,
                  uses_gemm(n_in, n_out))
        off += n_in * n_out + 2 * n_out
        unit += n_out
        sq += n_out * n_out
    return lay


class Layers:
    """What the engine needs of a network: widths, the layer table, the packed-parameter layout.

    Parameters are packed W1, b1, beta1, W2, ... (row-major; ``shapes``),
    ``n_full`` entries; the trainable ones (every W and b, the trained betas)
    sit at ``trainable_index``, ``n_params`` of them.
    """

    def __init__(self, sizes, hidden, output, train_beta):
        self.sizes = tuple(int(n) for n in sizes)
        self.n_layers = len(self.sizes) - 1
        self.layout = layer_table(self.sizes, hidden, output, train_beta)
        self.shapes = {}
        trainable = []
        for l in range(self.n_layers):
            n_in, n_out = self.sizes[l], self.sizes[l + 1]
            for name, shape in ((f"W{l + 1}", (n_in, n_out)), (f"b{l + 1}", (n_out,)), (f"beta{l + 1}", (n_out,))):
                self.shapes[name] = shape
            trainable.append(np.ones(n_in * n_out + n_out, dtype=bool))
            trainable.append(np.asarray(train_beta[l], dtype=bool))
        self.n_full = int(sum(n_in * n_out + 2 * n_out for n_in, n_out in zip(self.sizes, self.sizes[1:])))
        self.n_units = int(sum(self.sizes[1:]))
        self.trainable_index = np.flatnonzero(np.concatenate(trainable)).astype(np.int64)
        self.n_params = self.trainable_index.size
        self.out_kind = OUTPUTS.index(output)


def block_doubles(lay, nb: int = BLOCK) -> int:
    """Doubles of the training block buffers for blocks of up to nb samples (:func:`block_views`)."""
    n0, n_units, n_last = int(lay[0, N_IN]), int(lay[:, N_OUT].sum()), int(lay[-1, N_OUT])
    return nb * (5 * n_units + n0 + 1 + n_last + SAMPLE_ROWS)


@njit(cache=True)
def block_views(buf, lay, nb):
    """H, A, P, Q, D (units or inputs + units + 1 rows), T (targets) and S (SAMPLE_ROWS rows: the per-sample
    losses, then the output layer's per-sample scratch) of a block of nb samples, carved from the flat buffer
    ``buf``; A's last row holds ones."""
    n0 = lay[0, N_IN]
    n_last = lay[lay.shape[0] - 1, N_OUT]
    n_units = lay[lay.shape[0] - 1, U_OFF] + n_last
    o = 0
    H = buf[o : o + n_units * nb].reshape((n_units, nb))
    o += n_units * nb
    P = buf[o : o + n_units * nb].reshape((n_units, nb))
    o += n_units * nb
    Q = buf[o : o + n_units * nb].reshape((n_units, nb))
    o += n_units * nb
    D = buf[o : o + n_units * nb].reshape((n_units, nb))
    o += n_units * nb
    A = buf[o : o + (n0 + n_units + 1) * nb].reshape((n0 + n_units + 1, nb))
    o += (n0 + n_units + 1) * nb
    T = buf[o : o + n_last * nb].reshape((n_last, nb))
    o += n_last * nb
    S = buf[o : o + SAMPLE_ROWS * nb].reshape((SAMPLE_ROWS, nb))
    o += SAMPLE_ROWS * nb
    A[n0 + n_units] = 1.0
    return H, A, P, Q, D, T, S


@njit(cache=True, fastmath={"reassoc"})
def dot(x, y, n):
    """sum_s x[s] y[s] over s < n (y = None: sum_s x[s]), in SIMD partial sums: an order fixed when the
    function is compiled, the same for every call and thread count."""
    acc = 0.0
    if y is None:
        for s in range(n):
            acc += x[s]
    else:
        for s in range(n):
            acc += x[s] * y[s]
    return acc


@njit(cache=True, fastmath={"reassoc"})
def dots4(A, r0, r1, r2, r3, D, d, nb):
    """sum_s A[r_k, s] D[d, s] for the four rows r0..r3 of A: four sums in one pass over the block, each in
    SIMD partial sums (an order fixed when the function is compiled). Rows are indices, not views (a view
    per call costs reference counting comparable to a short loop)."""
    t0 = t1 = t2 = t3 = 0.0
    for s in range(nb):
        v = D[d, s]
        t0 += A[r0, s] * v
        t1 += A[r1, s] * v
        t2 += A[r2, s] * v
        t3 += A[r3, s] * v
    return t0, t1, t2, t3


# -- BLAS products in row chunks ---------------------------------------------------------------------
#
# A product C = op(A) op(B) (M x N, K terms per entry) of a BLAS layer runs as row chunks of C, their number
# fixed by the shape (product_chunks): the arithmetic is the same whichever thread runs a chunk, so a step
# whose chunks run on several threads (PRODUCTS, see numerics.mlp.network) gives the same bits as one that runs
# them in turn. Measured on an idle 2-core machine, gradient of a 100-sample step (us, one thread / chunks
# over two threads): 784-128-10 876 / 650, 784-300-100-10 2370 / 1870; with at least 32 rows and 2^20
# multiply-adds a chunk, 939 / 681 and 2560 / 1818.
CHUNK_ROWS = 64  # rows of C per chunk, at least (narrower chunks run BLAS's edge kernels)
CHUNK_WORK = 1 << 20  # multiply-adds per chunk, at least (~30 us on one core; 2^22 measured 3-7% slower at 784-300-100-10)
_NO, _TRANSPOSED = ord("n"), ord("t")
ensure_blas()


@intrinsic
def _dgemm(typingctx, transa, transb, m, n, k, a, lda, b, ldb, beta, c, ldc):
    """Column-major BLAS dgemm, C = op(A) op(B) + beta C, through the binding numba's np.dot uses
    (numba_xxgemm: scipy's BLAS); A, B, C are C-contiguous float64 arrays whose first entry is the matrix's."""
    arrays = (a, b, c)
    if not all(isinstance(x, types.Array) and x.dtype == types.float64 and x.layout == "C" for x in arrays):
        return None

    def codegen(context, builder, sig, args):
        char, intp, void = ir.IntType(8), context.get_value_type(types.intp), ir.IntType(8).as_pointer()
        fnty = ir.FunctionType(ir.IntType(32), [char, char, char, intp, intp, intp, void, void, intp, void, intp, void, void, intp])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "numba_xxgemm")
        ta, tb, m_, n_, k_, a_, lda_, b_, ldb_, beta_, c_, ldc_ = args

        def data(ty, value):
            return builder.bitcast(context.make_array(ty)(context, builder, value).data, void)

        alpha = cgutils.alloca_once_value(builder, context.get_constant(types.float64, 1.0))
        beta_slot = cgutils.alloca_once_value(builder, beta_)
        builder.call(fn, [ir.Constant(char, ord("d")), builder.trunc(ta, char), builder.trunc(tb, char), m_, n_, k_,
                          builder.bitcast(alpha, void), data(sig.args[5], a_), lda_, data(sig.args[7], b_), ldb_,
                          builder.bitcast(beta_slot, void), data(sig.args[10], c_), ldc_])
        return context.get_dummy_value()

    i64 = types.int64
    return types.void(i64, i64, i64, i64, i64, a, i64, b, i64, types.float64, c, i64), codegen


@njit(cache=True)
def product_chunks(M, N, K):
    """Row chunks of an M x N product with K terms per entry: the largest power of two (even shares on 2, 4,
    8, ... threads) that leaves at least CHUNK_ROWS rows and CHUNK_WORK multiply-adds to each."""
    most = min(M // CHUNK_ROWS, M * N * K // CHUNK_WORK)
    chunks = 1
    while 2 * chunks <= most:
        chunks *= 2
    return chunks


@njit(cache=True)
def _product_chunk(c, chunks, ta, tb, M, N, K, a, lda, b, ldb, beta, out):
    """Rows c * M // chunks ... of out (row-major M x N, flat) = op(A) op(B) + beta out; A is row-major M x K
    (ta False) or K x M (ta True) with row stride lda, flat; the same for B (K x N, or N x K with tb)."""
    r0, r1 = c * M // chunks, (c + 1) * M // chunks
    a_rows = a[r0:] if ta else a[r0 * lda :]
    # row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T
    _dgemm(_TRANSPOSED if tb else _NO, _TRANSPOSED if ta else _NO, N, r1 - r0, K, b, ldb, a_rows, lda, beta,
           out[r0 * N :], N)


@njit(cache=True, parallel=True)
def _product_parallel(chunks, ta, tb, M, N, K, a, lda, b, ldb, beta, out):
    for c in prange(chunks):
        _product_chunk(c, chunks, ta, tb, M, N, K, a, lda, b, ldb, beta, out)


@njit(cache=True)
def product(ta, tb, M, N, K, a, lda, b, ldb, beta, out, threads):
    """out (row-major M x N, flat) = op(A) op(B) + beta out (see _product_chunk) in product_chunks(M, N, K)
    row chunks, over the numba threads with ``threads``."""
    chunks = product_chunks(M, N, K)
    if threads and chunks > 1:
        _product_parallel(chunks, ta, tb, M, N, K, a, lda, b, ldb, beta, out)
    else:
        for c in range(chunks):
            _product_chunk(c, chunks, ta, tb, M, N, K, a, lda, b, ldb, beta, out)


@njit(cache=True)
def inputs_of(lay, l):
    """First row of A holding the inputs of layer l."""
    return 0 if l == 0 else lay[0, N_IN] + lay[l - 1, U_OFF]


@njit(cache=True)
def forward_block(theta, lay, H, A, P, Q, threads):
    """Pre-activations H of every layer, and activations A and their derivatives P, Q of the hidden layers, for
    the nb = H.shape[1] samples of a block whose inputs are in A's first rows; a BLAS layer's product chunks
    over the numba threads with ``threads``."""
    nb = H.shape[1]
    n0 = lay[0, N_IN]
    n_layers = lay.shape[0]
    for l in range(n_layers):
        n_in, n_out, bo, bto, uo, k = lay[l, N_IN], lay[l, N_OUT], lay[l, B_OFF], lay[l, BETA_OFF], lay[l, U_OFF], lay[l, ACT]
        ai0 = inputs_of(lay, l)
        if lay[l, GEMM]:
            product(True, False, n_out, nb, n_in, theta[lay[l, W_OFF] :], n_out, A[ai0 : ai0 + n_in].ravel(), nb, 0.0,
                    H[uo : uo + n_out].ravel(), threads)
            for j in range(n_out):
                h = H[uo + j]
                bj = theta[bo + j]
                for s in range(nb):
                    h[s] += bj
        else:
            wo = lay[l, W_OFF]
            for j in range(n_out):
                h = H[uo + j]
                bj = theta[bo + j]
                for s in range(nb):
                    h[s] = bj
                for i in range(n_in):
                    w = theta[wo + i * n_out + j]
                    a = A[ai0 + i]
                    for s in range(nb):
                        h[s] += a[s] * w
        if l < n_layers - 1:
            first_rows(k, H[uo : uo + n_out], theta[bto : bto + n_out], A[n0 + uo : n0 + uo + n_out], P[uo : uo + n_out],
                       Q[uo : uo + n_out])


@njit(cache=True)
def _softplus(t):
    """log(1 + e^t) without overflow."""
    return max(t, 0.0) + math.log1p(math.exp(-abs(t)))


@njit(cache=True, error_model="numpy")
def _sigmoid_output(h, beta, y, nb, a, r, loss_terms):
    """a = sigma(z), r = dL/dz = sigma(z) - y and the losses softplus((1 - 2y) z) at z = beta h[s].

    sigma(z) - 1 = -sigma(-z) keeps r exact where sigma(z) rounds to 1;
    softplus(w) = max(w, 0) + log1p(e^-|w|), with e^-|z| corrected for the
    rounding zl of z: e^-|z + zl| = e^-|z| (1 -+ zl). The SIMD loop holds for
    |z| <= SIGMOID_TAIL; beyond, the scalar kernels.
    """
    slow = 0
    for s in range(nb):
        z = beta * h[s]
        zl = exact_product_low(beta, h[s], z)
        sz, tz, _, e = sigmoid_tanh(z, zl)
        e *= 1.0 - zl if z >= 0.0 else 1.0 + zl
        a[s] = sz
        r[s] = out.sigmoid_output_gradient(y[s], sz, tz)
        log_term = log1p_unit(e)
        loss_terms[s] = out.sigmoid_output_loss(y[s], max(z, 0.0) + log_term, max(-z, 0.0) + log_term)
        slow += not abs(z) <= SIGMOID_TAIL
    if slow:
        for s in range(nb):
            if not abs(beta * h[s]) <= SIGMOID_TAIL:
                a[s] = _sigmoid(h[s], beta)
                r[s] = out.sigmoid_output_gradient(y[s], a[s], _sigmoid(-h[s], beta))
                z = beta * h[s]
                loss_terms[s] = out.sigmoid_output_loss(y[s], _softplus(z), _softplus(-z))


@njit(cache=True, error_model="numpy")
def _softmax_output(theta, lay, H, A, T, D, S, want_grad):
    """Softmax outputs p = softmax(z) into A, the losses sum_j y_j (logsumexp(z) - z_j) into S[0] and, with
    ``want_grad``, dL/dz = p - y into D, at z_j = beta_j h_j, in SIMD loops over the samples.

    logsumexp(z) = z_m + log1p(rest) with m the first largest z and rest = sum_{j != m} e^{z_j - z_m}
    (no rounding of 1 + rest); p_c - 1 = -sum_{k != c} p_k for the labelled class c, which is rest / (1 +
    rest) for c = m and (1 + rest - e^{z_c - z_m}) / (1 + rest), a numerator >= 1, otherwise: no cancellation. The
    exponentials of z_j - z_m >= EXP_MIN are exp_fast's (SIMD); below (subnormal), math.exp.
    """
    nb = H.shape[1]
    n0 = lay[0, N_IN]
    last = lay.shape[0] - 1
    n_out, bto, uo = lay[last, N_OUT], lay[last, BETA_OFF], lay[last, U_OFF]
    ao = n0 + uo
    loss_terms, zmax, first, rest, excess = S[0], S[1], S[2], S[3], S[4]
    for s in range(nb):
        zmax[s] = theta[bto] * H[uo, s]
        first[s] = 0.0
    for j in range(1, n_out):
        bj = theta[bto + j]
        for s in range(nb):
            z = bj * H[uo + j, s]
            larger = z > zmax[s]
            zmax[s] = z if larger else zmax[s]
            first[s] = j if larger else first[s]
    slow = False
    for j in range(n_out):
        bj = theta[bto + j]
        for s in range(nb):
            d = zmax[s] - bj * H[uo + j, s]
            A[ao + j, s] = exp_fast(-d)
            slow |= not -d >= EXP_MIN
    if slow:
        for j in range(n_out):
            for s in range(nb):
                d = zmax[s] - theta[bto + j] * H[uo + j, s]
                if not -d >= EXP_MIN:
                    A[ao + j, s] = math.exp(-d)
    for s in range(nb):
        rest[s] = 0.0
    for j in range(n_out):
        for s in range(nb):
            rest[s] += A[ao + j, s] if first[s] != j else 0.0
    for s in range(nb):
        excess[s] = math.log1p(rest[s])  # logsumexp(z) - z_m
        loss_terms[s] = 0.0
    for j in range(n_out):
        bj = theta[bto + j]
        for s in range(nb):
            loss_terms[s] += out.softmax_output_loss_term(T[j, s], zmax[s] - bj * H[uo + j, s], excess[s])
    for j in range(n_out):
        for s in range(nb):
            inv = 1.0 / (1.0 + rest[s])  # recomputed rather than stored: a division per entry, n_out small
            e = A[ao + j, s]
            p = e * inv
            A[ao + j, s] = p
            if want_grad:
                others = (rest[s] if first[s] == j else 1.0 + rest[s] - e) * inv
                D[uo + j, s] = out.softmax_output_gradient(T[j, s], p, others)


@njit(cache=True)
def output_block(theta, lay, out_kind, H, A, T, D, S, g, want):
    """Output activations a_L into A; for ``want`` >= WANT_LOSS the summed loss, for WANT_GRAD also dL/dh_L
    into D and dL/dbeta_L into g.

    Gradients: dL/dz = sigma(z) - y (sigmoid, binary cross-entropy), softmax(z) - y (softmax,
    cross-entropy), a - y (linear, squared error), with z = beta_L h_L, the losses and gradients in the
    generated forms of numerics._generated.output.
    """
    nb = H.shape[1]
    n0 = lay[0, N_IN]
    last = lay.shape[0] - 1
    n_out, bto, uo = lay[last, N_OUT], lay[last, BETA_OFF], lay[last, U_OFF]
    ao = n0 + uo
    loss = 0.0
    if out_kind == OUT_SIGMOID:
        for j in range(n_out):
            u = uo + j
            beta = theta[bto + j]
            _sigmoid_output(H[u], beta, T[j], nb, A[ao + j], D[u], S[0])
            if want >= WANT_LOSS:
                loss += dot(S[0], None, nb)
            if want == WANT_GRAD:
                if lay[last, HAS_BETA]:
                    g[bto + j] += dot(D[u], H[u], nb)
                for s in range(nb):
                    D[u, s] *= beta
    elif out_kind == OUT_SOFTMAX:
        _softmax_output(theta, lay, H, A, T, D, S, want == WANT_GRAD)
        if want >= WANT_LOSS:
            loss = dot(S[0], None, nb)
        if want == WANT_GRAD:
            for j in range(n_out):
                u = uo + j
                if lay[last, HAS_BETA]:
                    g[bto + j] += dot(D[u], H[u], nb)
                beta = theta[bto + j]
                for s in range(nb):
                    D[u, s] *= beta
    else:
        for j in range(n_out):
            u = uo + j
            for s in range(nb):
                A[ao + j, s] = H[u, s]
                D[u, s] = out.linear_output_gradient(H[u, s], T[j, s])
                S[0, s] = out.linear_output_loss(H[u, s], T[j, s])
            if want >= WANT_LOSS:
                loss += dot(S[0], None, nb)
    return loss


@njit(cache=True)
def output_curvature(out_kind, h, beta, Y, lo, gz, lam):
    """dl/dz into gz[j, s] and d2l/dz2 into lam[j, k, s] at z_j = beta_j h[j, s] (z = h for a linear output)
    for the samples lo..lo+nb of the targets Y (h: the output layer's (n, nb) pre-activations):

    sigmoid, binary cross-entropy: dl/dz = sigma(z) - y, d2l/dz2 = sigma(z) sigma(-z);
    softmax, cross-entropy: dl/dz = p - y, d2l/dz2 = diag(p) - p p^T;
    linear, squared error: dl/dz = z - y, d2l/dz2 = 1;
    each in the cancellation-free quantities of theory.cross_entropy's ``*.stable`` steps (numerics._generated.output)."""
    n, nb = h.shape
    total_other = np.empty(n)
    for j in range(n):
        for k in range(n):
            for s in range(nb):
                lam[j, k, s] = 0.0
    if out_kind == OUT_LINEAR:
        for j in range(n):
            for s in range(nb):
                gz[j, s] = out.linear_output_gradient(h[j, s], Y[lo + s, j])
                lam[j, j, s] = 1.0
    elif out_kind == OUT_SIGMOID:
        for j in range(n):
            bj = beta[j]
            for s in range(nb):
                sz, tz = _sigmoid(h[j, s], bj), _sigmoid(-h[j, s], bj)
                gz[j, s] = out.sigmoid_output_gradient(Y[lo + s, j], sz, tz)
                lam[j, j, s] = out.sigmoid_output_curvature(sz, tz)
    else:
        for s in range(nb):
            zmax = -math.inf
            for j in range(n):
                zmax = max(zmax, beta[j] * h[j, s])
            total = 0.0
            for j in range(n):
                e = math.exp(beta[j] * h[j, s] - zmax)
                gz[j, s] = e
                total += e
            for j in range(n):
                gz[j, s] /= total
            for j in range(n):  # 1 - p_j as sum_{k != j} p_k: no cancellation where p_j is near 1
                others = 0.0
                for k in range(n):
                    lam[j, k, s] = out.softmax_output_curvature_pair(gz[j, s], gz[k, s])
                    others += gz[k, s] if k != j else 0.0
                lam[j, j, s] = out.softmax_output_curvature(gz[j, s], others)
                total_other[j] = others
            for j in range(n):
                gz[j, s] = out.softmax_output_gradient(Y[lo + s, j], gz[j, s], total_other[j])


# numba revalidates a cached function against its own file only; these inline the generated kernels
SOURCES = KERNEL_SOURCES + (out.__file__, __file__)  # every file compiled into the engine's kernels
flush_stale_caches(__name__, SOURCES)
