"""Kernels of the function-space theory: dense overlap maps, entropies, MAJ-k pair probabilities;
the annealed objective, the MAJ-k stationary equations and the signal-propagation maps.

Generated from theory/function_space.py, theory/majority.py and theory/propagation.py by
`python -m numerics.codegen`; do not edit.
"""

import math

import numpy
from numba import njit


@njit(cache=True)
def log1mexp(a):
    """log(1 - exp(a)) for a < 0, accurate for a near 0 and for a -> -oo."""
    if a > -0.6931471805599453:
        return math.log(-math.expm1(a))
    return math.log1p(-math.exp(a))

# (k, m): phi(s h, beta) = s^k phi(h, s beta); phi(h, b) ~ b^m as b -> 0
ACTIVATION_SCALING = {
    'esp': (1, 0),
    'sigmoid': (0, 0),
    'tanh': (0, 1),
    'relu': (1, 0),
    'linear': (1, 0),
}


@njit(cache=True)
def tanh_pair_sum(A, D):
    """tanh(A + D) + tanh(A - D) = 2 sinh(2A) / (cosh 2A + cosh 2D), scaled so nothing overflows."""
    x0 = abs(A)
    x1 = 2*x0
    x2 = 2*abs(D)
    x3 = max(x1, x2)
    x4 = -x3
    x5 = math.exp(x1 + x4)
    return -2*x5*math.expm1(-4*x0)*(0.0 if A == 0 else math.copysign(1, A))/(x5 + math.exp(-x1 - x3) + math.exp(-x2 - x3) + math.exp(x2 + x4))


@njit(cache=True)
def sign_kernel(rho):
    """E[sgn u sgn v] = (2/pi) asin(rho) (arcsine law)."""
    return 2*math.asin(rho)/math.pi


@njit(cache=True)
def relu_overlap(rho):
    """Normalized ReLU overlap (arc-cosine kernel)."""
    return (rho*math.asin(rho) + (1/2)*math.pi*rho + math.sqrt(1 - rho**2))/math.pi


@njit(cache=True)
def error_step(r, x):
    """r_l = 1 - q_l from r_(l-1) and x_l = 1 - c_l (beta -> oo)."""
    return 4*math.asin(math.sqrt(-1/2*r*x + (1/2)*r + (1/2)*x))/math.pi


@njit(cache=True)
def error_step_inverse(r):
    """y = A^-1(r): the x that gives error r from r_(l-1) = 0."""
    return 2*math.sin((1/4)*math.pi*r)**2


@njit(cache=True)
def log_error_step_inverse_small(lr):
    """log A^-1(exp(lr)) to leading order, exact in float64 for exp(lr) < 1e-17."""
    return 2*lr - 3*math.log(2) + 2*math.log(math.pi)


@njit(cache=True)
def x_of_eta(eta):
    """x = 1 - sqrt(1 - eta^2) without cancellation."""
    return eta**2/(math.sqrt(1 - eta**2) + 1)


@njit(cache=True)
def x_of_p(p):
    """x = 1 - (1 - 2p) = 2p."""
    return 2*p


@njit(cache=True)
def log_eta_of_log_x(lx):
    """log eta from log x (continuous weights)."""
    return (1/2)*lx + (1/2)*math.log1p(-1/2*math.exp(lx)) + (1/2)*math.log(2)


@njit(cache=True)
def log_p_of_log_x(lx):
    """log p from log x (binary weights)."""
    return lx - math.log(2)


@njit(cache=True)
def log_budget_x(ltheta, ly):
    """log x_l for r_(l-1) = theta y_l, from log theta and log y_l."""
    return ly + log1mexp(ltheta) - log1mexp(ltheta + ly)


layer_entropy_continuous = log_eta_of_log_x  # log eta of one layer from log x (Eq. 9).


@njit(cache=True)
def layer_entropy_binary(lx):
    """H2(p) of one layer from log x, p = x/2 (Eq. 12)."""
    return -(1 - 1/2*math.exp(lx))*math.log1p(-1/2*math.exp(lx)) - 1/2*(lx - math.log(2))*math.exp(lx)


@njit(cache=True)
def majority_effective_inputs(m, q, p):
    """(<w s>, <s^ w s>) after flips with probability p."""
    return (-2*m*p + m, -2*p*q + q)


@njit(cache=True)
def majority_pair_probabilities(m_hat, m_eff, q_eff):
    """P(s^, s) for (s^, s) = (+,+), (+,-), (-,+), (-,-)."""
    return ((1/4)*m_eff + (1/4)*m_hat + (1/4)*q_eff + 1/4, -1/4*m_eff + (1/4)*m_hat - 1/4*q_eff + 1/4, (1/4)*m_eff - 1/4*m_hat - 1/4*q_eff + 1/4, -1/4*m_eff - 1/4*m_hat + (1/4)*q_eff + 1/4)


def majority_slope(n):
    """M_k'(0) for k = 2n + 1 (exact integers)."""
    return math.factorial(2*n + 1)/((4**n*math.factorial(n)**2))


def majority_critical_perturbation(n):
    """p_c for k = 2n + 1."""
    return (-4**n*math.factorial(n)**2 + math.factorial(2*n + 1))/((2*math.factorial(2*n + 1)))


def majority_deficit_integrand(t, n):
    """1 - (1 - t**2)**n (theory.majority) at every t of an array."""
    return -numpy.expm1(n*numpy.log1p(-t**2))


def majority_complement_integrand(v, n):
    """(v*(2 - v))**n (theory.majority) at every v of an array."""
    return numpy.exp(n*(numpy.log(v) + numpy.log(2 - v)))


def propagation_variance_map(sigma_w, sigma_b, mean_phi_squared):
    """q_l = sigma_w^2 E[phi(sqrt(q) z)^2] + sigma_b^2; mean_phi_squared = E[phi(sqrt(q) z)^2] (theory.propagation)."""
    return mean_phi_squared*sigma_w**2 + sigma_b**2


def propagation_chi1(sigma_w, mean_dphi_squared):
    """chi_1 = sigma_w^2 E[phi'(sqrt(q) z)^2]; mean_dphi_squared = E[phi'(sqrt(q) z)^2] (theory.propagation)."""
    return mean_dphi_squared*sigma_w**2


def entropy_growth_exponent(L):
    """K(L) = (2^L - 1)/L: S_con ~ K log(epsilon) as epsilon -> 0."""
    return (2**L - 1)/L


def annealed_objective(S, alpha, epsilon):
    """S(eps) + alpha log(1 - eps), maximized by the annealed error eps* (Li & Saad)."""
    return S + alpha*math.log1p(-epsilon)


def annealed_objective_of_log_error(S, alpha, lr):
    """The annealed objective in log r_L = log(2 eps)."""
    return S + alpha*math.log1p(-1/2*math.exp(lr))


def majority_small_m_residual(mean_deficit, p, p_c):
    """MAJ-k stationary state for small m: <1 - (1 - t^2)^n>_[0, X] = 2 (p_c - p)/(1 - 2p), X = (1-2p) m; mean_deficit = the mean of majority_deficit_integrand over [0, X] (theory.majority)."""
    return (mean_deficit) - ((-2*p + 2*p_c)/(1 - 2*p))


def majority_complement_limit(u, p):
    """w = 1 - (1-2p)(1 - u), the upper limit of the complement integral at m = 1 - u."""
    return -2*p*u + 2*p + u


def majority_complement_residual(integral_complement, u, slope):
    """MAJ-k stationary state for u = 1 - m: M_k'(0) int_0^w (v (2 - v))^n dv = u; integral_complement = the integral of majority_complement_integrand over [0, majority_complement_limit(u, p)] (theory.majority)."""
    return (integral_complement*slope) - (u)
