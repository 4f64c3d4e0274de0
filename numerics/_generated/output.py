"""The output layers' loss, dl/dz and d2l/dz2 in cancellation-free quantities.

Generated from theory/cross_entropy.py by
`python -m numerics.codegen`; do not edit.
"""

from numba import njit


@njit(cache=True)
def sigmoid_output_loss(y, softplus_z, softplus_minus_z):
    """sigmoid.loss.stable: y softplus(-z) + (1 - y) softplus(z)."""
    return softplus_minus_z*y + softplus_z*(1 - y)


@njit(cache=True)
def sigmoid_output_gradient(y, sigma_z, sigma_minus_z):
    """sigmoid.dl_dz.stable: dl/dz = (1 - y) sigma(z) - y sigma(-z)."""
    return -sigma_minus_z*y + sigma_z*(1 - y)


@njit(cache=True)
def sigmoid_output_curvature(sigma_z, sigma_minus_z):
    """sigmoid.d2l_dz2.stable: d2l/dz2 = sigma(z) sigma(-z)."""
    return sigma_minus_z*sigma_z


@njit(cache=True)
def softmax_output_loss_term(y, gap, log_sum):
    """softmax.loss_term.stable: y_j (gap_j + log_sum): the loss is their sum over j."""
    return y*(gap + log_sum)


@njit(cache=True)
def softmax_output_gradient(y, p, others):
    """softmax.dl_dz.stable: dl/dz_j in p_j and the others' sum."""
    return -others*y + p*(1 - y)


@njit(cache=True)
def softmax_output_curvature(p, others):
    """softmax.d2l_dz2.stable: d2l/dz_j^2 in p_j and the others' sum."""
    return others*p


@njit(cache=True)
def softmax_output_curvature_pair(p, p_other):
    """softmax.d2l_dz2.pair.stable: d2l/dz_j dz_k, k != j."""
    return -p*p_other


@njit(cache=True)
def linear_output_loss(z, y):
    """linear.loss: squared error (z - y)^2 / 2."""
    return (1/2)*(-y + z)**2


@njit(cache=True)
def linear_output_gradient(z, y):
    """linear.dl_dz: dl/dz."""
    return -y + z
