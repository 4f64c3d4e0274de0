"""Activation kernels: value and first and second derivatives in h and beta.

Generated from theory/activations.py by
`python -m numerics.codegen`; do not edit.
"""

import math

from numba import njit

from numerics.kernels._primitives import (  # noqa: F401
    exact_product_low, fast_range, field, log_sigmoid, mul_add, product_low, sigmoid_pair, sigmoid_tanh,
    sign, two_product, two_sum,
)

NAMES = ('esp', 'sigmoid', 'tanh', 'relu', 'linear')  # the built-in activations, in registry order
KEYS = ('value', 'd_h', 'd_beta', 'd_hh', 'd_hbeta', 'd_betabeta')  # the kernels of each
BETA_DEPENDENT = ('esp', 'sigmoid', 'tanh')  # the activations whose value depends on beta
# real roots in x = beta*h of the residual factors whose kernels patch them by Taylor series
ROOTS = {
    'esp': (-1.2784645427610737, -2.3993572805154675, 2.3993572805154675),
    'sigmoid': (-1.5434046384182085, 1.5434046384182085),
    'tanh': (-0.7717023192091043, 0.7717023192091043),
}


@njit(cache=True)
def esp_value(h, beta):
    """h*sigmoid(beta*h)"""
    x = field(beta, h)
    gx = x
    gxl = product_low(beta, h, x)
    s, t = sigmoid_pair(gx, gxl)
    if abs(gx) <= 700.0:
        out = s * h
        if math.isfinite(out):
            return out
    if gx > 0.0:
        return s * h
    if abs(gx) > 10000.0:
        return 0.0
    lg = 1 * math.log(abs(h))
    if lg == -math.inf:
        return 0.0
    lo = 0.0
    p, q = log_sigmoid(gx, gxl)
    lg, e = two_sum(lg, 1.0 * p)
    lo += e + 1.0 * q
    return sign(h) * math.exp(lg) * (1.0 + lo)


@njit(cache=True)
def esp_d_h(h, beta):
    """(beta*h*sigmoid(-beta*h) + 1)*sigmoid(beta*h)"""
    x = field(beta, h)
    gx = x
    gxl = product_low(beta, h, x)
    s, t = sigmoid_pair(gx, gxl)
    r0 = -t*x - 1
    if abs(x - -1.2784645427610737) < 0.05:
        xh, xl = two_product(beta, h)
        d = (xh - -1.2784645427610737) + (xl - -1.0946994183093437e-16)
        r0 = (((((((((-4.090534237428612e-06 * d + 2.0634138179096108e-05) * d + 9.981523522997498e-05) * d + 1.8089630011588857e-05) * d + -0.0011010981897261161) * d + -0.003044531044637606) * d + 0.004718703555945578) * d + 0.04888293233231563) * d + 0.10890585285990005) * d + -1.0) * d
    if abs(gx) <= 700.0:
        out = -1.0 * s * r0
        if math.isfinite(out):
            return out
    if gx > 0.0:
        return -1.0 * s * r0
    if abs(gx) > 10000.0:
        return 0.0
    lg = 1 * math.log(abs(r0))
    if lg == -math.inf:
        return 0.0
    lo = 0.0
    p, q = log_sigmoid(gx, gxl)
    lg, e = two_sum(lg, 1.0 * p)
    lo += e + 1.0 * q
    return -1.0 * sign(r0) * math.exp(lg) * (1.0 + lo)


@njit(cache=True)
def esp_d_beta(h, beta):
    """h**2*sigmoid(-beta*h)*sigmoid(beta*h)"""
    x = field(beta, h)
    gx = x
    gxl = product_low(beta, h, x)
    s, t = sigmoid_pair(gx, gxl)
    if abs(gx) <= 700.0:
        out = s * t * h * h
        if math.isfinite(out):
            return out
    if abs(gx) > 10000.0:
        return 0.0
    lg = 2 * math.log(abs(h))
    if lg == -math.inf:
        return 0.0
    lo = 0.0
    p, q = log_sigmoid(gx, gxl)
    lg, e = two_sum(lg, 1.0 * p)
    lo += e + 1.0 * q
    p, q = log_sigmoid(-gx, -gxl)
    lg, e = two_sum(lg, 1.0 * p)
    lo += e + 1.0 * q
    return 1.0 * math.exp(lg) * (1.0 + lo)


@njit(cache=True)
def esp_d_hh(h, beta):
    """beta*(beta*h*sigmoid(-beta*h) - beta*h*sigmoid(beta*h) + 2)*sigmoid(-beta*h)*sigmoid(beta*h)"""
    x = field(beta, h)
    gx = x
    gxl = product_low(beta, h, x)
    s, t = sigmoid_pair(gx, gxl)
    tau = math.tanh(0.5 * gx)
    r0 = tau*x - 2
    if abs(x - -2.3993572805154675) < 0.05:
        xh, xl = two_product(beta, h)
        d = (xh - -2.3993572805154675) + (xl - -1.8464872855353363e-16)
        r0 = (((((((((2.1431242875903015e-06 * d + -3.19807505440145e-06) * d + -4.8798917544170514e-05) * d + -0.0001839436560395359) * d + -0.00012244467631752294) * d + 0.002248725923422533) * d + 0.012715977581091808) * d + 0.030510173388064096) * d + 0.0) * d + -1.1996786402577337) * d
    if abs(x - 2.3993572805154675) < 0.05:
        xh, xl = two_product(beta, h)
        d = (xh - 2.3993572805154675) + (xl - 1.8464872855353363e-16)
        r0 = (((((((((2.1431242875903015e-06 * d + 3.19807505440145e-06) * d + -4.8798917544170514e-05) * d + 0.0001839436560395359) * d + -0.00012244467631752294) * d + -0.002248725923422533) * d + 0.012715977581091808) * d + -0.030510173388064096) * d + 0.0) * d + 1.1996786402577337) * d
    if abs(gx) <= 700.0:
        out = -1.0 * s * t * r0 * beta
        if math.isfinite(out):
            return out
    if abs(gx) > 10000.0:
        return 0.0
    lg = 1 * math.log(abs(beta)) + 1 * math.log(abs(r0))
    if lg == -math.inf:
        return 0.0
    lo = 0.0
    p, q = log_sigmoid(gx, gxl)
    lg, e = two_sum(lg, 1.0 * p)
    lo += e + 1.0 * q
    p, q = log_sigmoid(-gx, -gxl)
    lg, e = two_sum(lg, 1.0 * p)
    lo += e + 1.0 * q
    return -1.0 * sign(beta) * sign(r0) * math.exp(lg) * (1.0 + lo)


@njit(cache=True)
def esp_d_hbeta(h, beta):
    """h*(beta*h*sigmoid(-beta*h) - beta*h*sigmoid(beta*h) + 2)*sigmoid(-beta*h)*sigmoid(beta*h)"""
    x = field(beta, h)
    gx = x
    gxl = product_low(beta, h, x)
    s, t = sigmoid_pair(gx, gxl)
    tau = math.tanh(0.5 * gx)
    r0 = tau*x - 2
    if abs(x - -2.3993572805154675) < 0.05:
        xh, xl = two_product(beta, h)
        d = (xh - -2.3993572805154675) + (xl - -1.8464872855353363e-16)
        r0 = (((((((((2.1431242875903015e-06 * d + -3.19807505440145e-06) * d + -4.8798917544170514e-05) * d + -0.0001839436560395359) * d + -0.00012244467631752294) * d + 0.002248725923422533) * d + 0.012715977581091808) * d + 0.030510173388064096) * d + 0.0) * d + -1.1996786402577337) * d
    if abs(x - 2.3993572805154675) < 0.05:
        xh, xl = two_product(beta, h)
        d = (xh - 2.3993572805154675) + (xl - 1.8464872855353363e-16)
        r0 = (((((((((2.1431242875903015e-06 * d + 3.19807505440145e-06) * d + -4.8798917544170514e-05) * d + 0.0001839436560395359) * d + -0.00012244467631752294) * d + -0.002248725923422533) * d + 0.012715977581091808) * d + -0.030510173388064096) * d + 0.0) * d + 1.1996786402577337) * d
    if abs(gx) <= 700.0:
        out = -1.0 * s * t * r0 * h
        if math.isfinite(out):
            return out
    if abs(gx) > 10000.0:
        return 0.0
    lg = 1 * math.log(abs(h)) + 1 * math.log(abs(r0))
    if lg == -math.inf:
        return 0.0
    lo = 0.0
    p, q = log_sigmoid(gx, gxl)
    lg, e = two_sum(lg, 1.0 * p)
    lo += e + 1.0 * q
    p, q = log_sigmoid(-gx, -gxl)
    lg, e = two_sum(lg, 1.0 * p)
    lo += e + 1.0 * q
    return -1.0 * sign(h) * sign(r0) * math.exp(lg) * (1.0 + lo)


@njit(cache=True)
def esp_d_betabeta(h, beta):
    """h**3*(sigmoid(-beta*h) - sigmoid(beta*h))*sigmoid(-beta*h)*sigmoid(beta*h)"""
    x = field(beta, h)
    gx = x
    gxl = product_low(beta, h, x)
    s, t = sigmoid_pair(gx, gxl)
    tau = math.tanh(0.5 * gx)
    if abs(gx) <= 700.0:
        out = -1.0 * s * t * tau * h * h * h
        if math.isfinite(out):
            return out
    if abs(gx) > 10000.0:
        return 0.0
    lg = 3 * math.log(abs(h)) + 1 * math.log(abs(tau))
    if lg == -math.inf:
        return 0.0
    lo = 0.0
    p, q = log_sigmoid(gx, gxl)
    lg, e = two_sum(lg, 1.0 * p)
    lo += e + 1.0 * q
    p, q = log_sigmoid(-gx, -gxl)
    lg, e = two_sum(lg, 1.0 * p)
    lo += e + 1.0 * q
    return -1.0 * sign(h) * sign(tau) * math.exp(lg) * (1.0 + lo)


@njit(cache=True, error_model="numpy", inline="always")
def esp_first(h, beta):
    """(value, d_h, d_beta, fast) of esp; exact where fast, see the module docstring."""
    x = beta * h
    xl = exact_product_low(beta, h, x)
    gx = x
    s, t, tau, _ = sigmoid_tanh(gx, xl)
    r0 = mul_add(t, x, 1.0)
    d = (x - -1.2784645427610737) + (xl - -1.0946994183093437e-16)
    d2 = d * d
    d4 = d2 * d2
    d8 = d4 * d4
    r0 = d * mul_add(mul_add(4.090534237428612e-06, d, -2.0634138179096108e-05), d8, mul_add(mul_add(mul_add(-9.981523522997498e-05, d, -1.8089630011588857e-05), d2, mul_add(0.0011010981897261161, d, 0.003044531044637606)), d4, mul_add(mul_add(-0.004718703555945578, d, -0.04888293233231563), d2, mul_add(-0.10890585285990005, d, 1.0)))) if abs(x - -1.2784645427610737) < 0.05 else r0
    return s * h, s * r0, s * t * h * h, fast_range(h, beta, gx)


@njit(cache=True, error_model="numpy")
def esp_first_rows(h, beta, value, d_h, d_beta):
    """value[j, s], d_h[j, s], d_beta[j, s] at (h[j, s], beta[j]) for every j, s: esp_first in a SIMD loop
    over s, the scalar kernels where it does not hold."""
    for j in range(h.shape[0]):
        b = beta[j]
        slow = False
        for s in range(h.shape[1]):
            value[j, s], d_h[j, s], d_beta[j, s], fast = esp_first(h[j, s], b)
            slow |= not fast
        if slow:
            for s in range(h.shape[1]):
                if not esp_first(h[j, s], b)[3]:
                    value[j, s] = esp_value(h[j, s], b)
                    d_h[j, s] = esp_d_h(h[j, s], b)
                    d_beta[j, s] = esp_d_beta(h[j, s], b)


@njit(cache=True, error_model="numpy", inline="always")
def esp_second(h, beta):
    """(d_hh, d_hbeta, d_betabeta, fast) of esp; exact where fast, see the module docstring."""
    x = beta * h
    xl = exact_product_low(beta, h, x)
    gx = x
    s, t, tau, _ = sigmoid_tanh(gx, xl)
    r0 = mul_add(-tau, x, 2.0)
    d = (x - -2.3993572805154675) + (xl - -1.8464872855353363e-16)
    d2 = d * d
    d4 = d2 * d2
    d8 = d4 * d4
    r0 = d * mul_add(mul_add(-2.1431242875903015e-06, d, 3.19807505440145e-06), d8, mul_add(mul_add(mul_add(4.8798917544170514e-05, d, 0.0001839436560395359), d2, mul_add(0.00012244467631752294, d, -0.002248725923422533)), d4, mul_add(mul_add(-0.012715977581091808, d, -0.030510173388064096), d2, mul_add(-0.0, d, 1.1996786402577337)))) if abs(x - -2.3993572805154675) < 0.05 else r0
    d = (x - 2.3993572805154675) + (xl - 1.8464872855353363e-16)
    d2 = d * d
    d4 = d2 * d2
    d8 = d4 * d4
    r0 = d * mul_add(mul_add(-2.1431242875903015e-06, d, -3.19807505440145e-06), d8, mul_add(mul_add(mul_add(4.8798917544170514e-05, d, -0.0001839436560395359), d2, mul_add(0.00012244467631752294, d, 0.002248725923422533)), d4, mul_add(mul_add(-0.012715977581091808, d, 0.030510173388064096), d2, mul_add(-0.0, d, -1.1996786402577337)))) if abs(x - 2.3993572805154675) < 0.05 else r0
    return s * t * r0 * beta, s * t * r0 * h, -1.0 * s * t * tau * h * h * h, fast_range(h, beta, gx)


@njit(cache=True, error_model="numpy")
def esp_second_rows(h, beta, d_hh, d_hbeta, d_betabeta):
    """d_hh[j, s], d_hbeta[j, s], d_betabeta[j, s] at (h[j, s], beta[j]) for every j, s: esp_second in a SIMD loop
    over s, the scalar kernels where it does not hold."""
    for j in range(h.shape[0]):
        b = beta[j]
        slow = False
        for s in range(h.shape[1]):
            d_hh[j, s], d_hbeta[j, s], d_betabeta[j, s], fast = esp_second(h[j, s], b)
            slow |= not fast
        if slow:
            for s in range(h.shape[1]):
                if not esp_second(h[j, s], b)[3]:
                    d_hh[j, s] = esp_d_hh(h[j, s], b)
                    d_hbeta[j, s] = esp_d_hbeta(h[j, s], b)
                    d_betabeta[j, s] = esp_d_betabeta(h[j, s], b)


@njit(cache=True)
def sigmoid_value(h, beta):
    """sigmoid(beta*h)"""
    x = field(beta, h)
    gx = x
    gxl = product_low(beta, h, x)
    s, t = sigmoid_pair(gx, gxl)
    if abs(gx) <= 700.0:
        out = s
        if math.isfinite(out):
            return out
    if gx > 0.0:
        return s
    if abs(gx) > 10000.0:
        return 0.0
    lg = 0.0
    if lg == -math.inf:
        return 0.0
    lo = 0.0
    p, q = log_sigmoid(gx, gxl)
    lg, e = two_sum(lg, 1.0 * p)
    lo += e + 1.0 * q
    return 1.0 * math.exp(lg) * (1.0 + lo)


@njit(cache=True)
def sigmoid_d_h(h, beta):
    """beta*sigmoid(-beta*h)*sigmoid(beta*h)"""
    x = field(beta, h)
    gx = x
    gxl = product_low(beta, h, x)
    s, t = sigmoid_pair(gx, gxl)
    if abs(gx) <= 700.0:
        out = s * t * beta
        if math.isfinite(out):
            return out
    if abs(gx) > 10000.0:
        return 0.0
    lg = 1 * math.log(abs(beta))
    if lg == -math.inf:
        return 0.0
    lo = 0.0
    p, q = log_sigmoid(gx, gxl)
    lg, e = two_sum(lg, 1.0 * p)
    lo += e + 1.0 * q
    p, q = log_sigmoid(-gx, -gxl)
    lg, e = two_sum(lg, 1.0 * p)
    lo += e + 1.0 * q
    return sign(beta) * math.exp(lg) * (1.0 + lo)


@njit(cache=True)
def sigmoid_d_beta(h, beta):
    """h*sigmoid(-beta*h)*sigmoid(beta*h)"""
    x = field(beta, h)
    gx = x
    gxl = product_low(beta, h, x)
    s, t = sigmoid_pair(gx, gxl)
    if abs(gx) <= 700.0:
        out = s * t * h
        if math.isfinite(out):
            return out
    if abs(gx) > 10000.0:
        return 0.0
    lg = 1 * math.log(abs(h))
    if lg == -math.inf:
        return 0.0
    lo = 0.0
    p, q = log_sigmoid(gx, gxl)
    lg, e = two_sum(lg, 1.0 * p)
    lo += e + 1.0 * q
    p, q = log_sigmoid(-gx, -gxl)
    lg, e = two_sum(lg, 1.0 * p)
    lo += e + 1.0 * q
    return sign(h) * math.exp(lg) * (1.0 + lo)


@njit(cache=True)
def sigmoid_d_hh(h, beta):
    """beta**2*(sigmoid(-beta*h) - sigmoid(beta*h))*sigmoid(-beta*h)*sigmoid(beta*h)"""
    x = field(beta, h)
    gx = x
    gxl = product_low(beta, h, x)
    s, t = sigmoid_pair(gx, gxl)
    tau = math.tanh(0.5 * gx)
    if abs(gx) <= 700.0:
        out = -1.0 * s * t * tau * beta * beta
        if math.isfinite(out):
            return out
    if abs(gx) > 10000.0:
        return 0.0
    lg = 2 * math.log(abs(beta)) + 1 * math.log(abs(tau))
    if lg == -math.inf:
        return 0.0
    lo = 0.0
    p, q = log_sigmoid(gx, gxl)
    lg, e = two_sum(lg, 1.0 * p)
    lo += e + 1.0 * q
    p, q = log_sigmoid(-gx, -gxl)
    lg, e = two_sum(lg, 1.0 * p)
    lo += e + 1.0 * q
    return -1.0 * sign(tau) * math.exp(lg) * (1.0 + lo)


@njit(cache=True)
def sigmoid_d_hbeta(h, beta):
    """(beta*h*sigmoid(-beta*h) - beta*h*sigmoid(beta*h) + 1)*sigmoid(-beta*h)*sigmoid(beta*h)"""
    x = field(beta, h)
    gx = x
    gxl = product_low(beta, h, x)
    s, t = sigmoid_pair(gx, gxl)
    tau = math.tanh(0.5 * gx)
    r0 = tau*x - 1
    if abs(x - -1.5434046384182085) < 0.05:
        xh, xl = two_product(beta, h)
        d = (xh - -1.5434046384182085) + (xl - 7.079881422148652e-17)
        r0 = (((((((((3.976493404084567e-06 * d + 4.503293351894309e-05) * d + 9.02992588006912e-05) * d + -0.0002725085368596255) * d + -0.001946814020195957) * d + -0.002715440057555345) * d + 0.015222977765634103) * d + 0.0843023627125591) * d + 0.1450504921227858) * d + -1.0956614337239057) * d
    if abs(x - 1.5434046384182085) < 0.05:
        xh, xl = two_product(beta, h)
        d = (xh - 1.5434046384182085) + (xl - -7.079881422148652e-17)
        r0 = (((((((((3.976493404084567e-06 * d + -4.503293351894309e-05) * d + 9.02992588006912e-05) * d + 0.0002725085368596255) * d + -0.001946814020195957) * d + 0.002715440057555345) * d + 0.015222977765634103) * d + -0.0843023627125591) * d + 0.1450504921227858) * d + 1.0956614337239057) * d
    if abs(gx) <= 700.0:
        out = -1.0 * s * t * r0
        if math.isfinite(out):
            return out
    if abs(gx) > 10000.0:
        return 0.0
    lg = 1 * math.log(abs(r0))
    if lg == -math.inf:
        return 0.0
    lo = 0.0
    p, q = log_sigmoid(gx, gxl)
    lg, e = two_sum(lg, 1.0 * p)
    lo += e + 1.0 * q
    p, q = log_sigmoid(-gx, -gxl)
    lg, e = two_sum(lg, 1.0 * p)
    lo += e + 1.0 * q
    return -1.0 * sign(r0) * math.exp(lg) * (1.0 + lo)


@njit(cache=True)
def sigmoid_d_betabeta(h, beta):
    """h**2*(sigmoid(-beta*h) - sigmoid(beta*h))*sigmoid(-beta*h)*sigmoid(beta*h)"""
    x = field(beta, h)
    gx = x
    gxl = product_low(beta, h, x)
    s, t = sigmoid_pair(gx, gxl)
    tau = math.tanh(0.5 * gx)
    if abs(gx) <= 700.0:
        out = -1.0 * s * t * tau * h * h
        if math.isfinite(out):
            return out
    if abs(gx) > 10000.0:
        return 0.0
    lg = 2 * math.log(abs(h)) + 1 * math.log(abs(tau))
    if lg == -math.inf:
        return 0.0
    lo = 0.0
    p, q = log_sigmoid(gx, gxl)
    lg, e = two_sum(lg, 1.0 * p)
    lo += e + 1.0 * q
    p, q = log_sigmoid(-gx, -gxl)
    lg, e = two_sum(lg, 1.0 * p)
    lo += e + 1.0 * q
    return -1.0 * sign(tau) * math.exp(lg) * (1.0 + lo)


@njit(cache=True, error_model="numpy", inline="always")
def sigmoid_first(h, beta):
    """(value, d_h, d_beta, fast) of sigmoid; exact where fast, see the module docstring."""
    x = beta * h
    xl = exact_product_low(beta, h, x)
    gx = x
    s, t, tau, _ = sigmoid_tanh(gx, xl)
    return s, s * t * beta, s * t * h, fast_range(h, beta, gx)


@njit(cache=True, error_model="numpy")
def sigmoid_first_rows(h, beta, value, d_h, d_beta):
    """value[j, s], d_h[j, s], d_beta[j, s] at (h[j, s], beta[j]) for every j, s: sigmoid_first in a SIMD loop
    over s, the scalar kernels where it does not hold."""
    for j in range(h.shape[0]):
        b = beta[j]
        slow = False
        for s in range(h.shape[1]):
            value[j, s], d_h[j, s], d_beta[j, s], fast = sigmoid_first(h[j, s], b)
            slow |= not fast
        if slow:
            for s in range(h.shape[1]):
                if not sigmoid_first(h[j, s], b)[3]:
                    value[j, s] = sigmoid_value(h[j, s], b)
                    d_h[j, s] = sigmoid_d_h(h[j, s], b)
                    d_beta[j, s] = sigmoid_d_beta(h[j, s], b)


@njit(cache=True, error_model="numpy", inline="always")
def sigmoid_second(h, beta):
    """(d_hh, d_hbeta, d_betabeta, fast) of sigmoid; exact where fast, see the module docstring."""
    x = beta * h
    xl = exact_product_low(beta, h, x)
    gx = x
    s, t, tau, _ = sigmoid_tanh(gx, xl)
    r0 = mul_add(-tau, x, 1.0)
    d = (x - -1.5434046384182085) + (xl - 7.079881422148652e-17)
    d2 = d * d
    d4 = d2 * d2
    d8 = d4 * d4
    r0 = d * mul_add(mul_add(-3.976493404084567e-06, d, -4.503293351894309e-05), d8, mul_add(mul_add(mul_add(-9.02992588006912e-05, d, 0.0002725085368596255), d2, mul_add(0.001946814020195957, d, 0.002715440057555345)), d4, mul_add(mul_add(-0.015222977765634103, d, -0.0843023627125591), d2, mul_add(-0.1450504921227858, d, 1.0956614337239057)))) if abs(x - -1.5434046384182085) < 0.05 else r0
    d = (x - 1.5434046384182085) + (xl - -7.079881422148652e-17)
    d2 = d * d
    d4 = d2 * d2
    d8 = d4 * d4
    r0 = d * mul_add(mul_add(-3.976493404084567e-06, d, 4.503293351894309e-05), d8, mul_add(mul_add(mul_add(-9.02992588006912e-05, d, -0.0002725085368596255), d2, mul_add(0.001946814020195957, d, -0.002715440057555345)), d4, mul_add(mul_add(-0.015222977765634103, d, 0.0843023627125591), d2, mul_add(-0.1450504921227858, d, -1.0956614337239057)))) if abs(x - 1.5434046384182085) < 0.05 else r0
    return -1.0 * s * t * tau * beta * beta, s * t * r0, -1.0 * s * t * tau * h * h, fast_range(h, beta, gx)


@njit(cache=True, error_model="numpy")
def sigmoid_second_rows(h, beta, d_hh, d_hbeta, d_betabeta):
    """d_hh[j, s], d_hbeta[j, s], d_betabeta[j, s] at (h[j, s], beta[j]) for every j, s: sigmoid_second in a SIMD loop
    over s, the scalar kernels where it does not hold."""
    for j in range(h.shape[0]):
        b = beta[j]
        slow = False
        for s in range(h.shape[1]):
            d_hh[j, s], d_hbeta[j, s], d_betabeta[j, s], fast = sigmoid_second(h[j, s], b)
            slow |= not fast
        if slow:
            for s in range(h.shape[1]):
                if not sigmoid_second(h[j, s], b)[3]:
                    d_hh[j, s] = sigmoid_d_hh(h[j, s], b)
                    d_hbeta[j, s] = sigmoid_d_hbeta(h[j, s], b)
                    d_betabeta[j, s] = sigmoid_d_betabeta(h[j, s], b)


@njit(cache=True)
def tanh_value(h, beta):
    """tanh(beta*h)"""
    x = field(beta, h)
    gx = 2.0 * x
    tau = math.tanh(0.5 * gx)
    return tau


@njit(cache=True)
def tanh_d_h(h, beta):
    """beta*(1 - tanh(beta*h)**2)"""
    x = field(beta, h)
    gx = 2.0 * x
    gxl = 2.0 * product_low(beta, h, x)
    s, t = sigmoid_pair(gx, gxl)
    if abs(gx) <= 700.0:
        out = 4.0 * s * t * beta
        if math.isfinite(out):
            return out
    if abs(gx) > 10000.0:
        return 0.0
    lg = 1.3862943611198906 + 1 * math.log(abs(beta))
    if lg == -math.inf:
        return 0.0
    lo = 0.0
    p, q = log_sigmoid(gx, gxl)
    lg, e = two_sum(lg, 1.0 * p)
    lo += e + 1.0 * q
    p, q = log_sigmoid(-gx, -gxl)
    lg, e = two_sum(lg, 1.0 * p)
    lo += e + 1.0 * q
    return sign(beta) * math.exp(lg) * (1.0 + lo)


@njit(cache=True)
def tanh_d_beta(h, beta):
    """h*(1 - tanh(beta*h)**2)"""
    x = field(beta, h)
    gx = 2.0 * x
    gxl = 2.0 * product_low(beta, h, x)
    s, t = sigmoid_pair(gx, gxl)
    if abs(gx) <= 700.0:
        out = 4.0 * s * t * h
        if math.isfinite(out):
            return out
    if abs(gx) > 10000.0:
        return 0.0
    lg = 1.3862943611198906 + 1 * math.log(abs(h))
    if lg == -math.inf:
        return 0.0
    lo = 0.0
    p, q = log_sigmoid(gx, gxl)
    lg, e = two_sum(lg, 1.0 * p)
    lo += e + 1.0 * q
    p, q = log_sigmoid(-gx, -gxl)
    lg, e = two_sum(lg, 1.0 * p)
    lo += e + 1.0 * q
    return sign(h) * math.exp(lg) * (1.0 + lo)


@njit(cache=True)
def tanh_d_hh(h, beta):
    """2*beta**2*(tanh(beta*h)**2 - 1)*tanh(beta*h)"""
    x = field(beta, h)
    gx = 2.0 * x
    gxl = 2.0 * product_low(beta, h, x)
    s, t = sigmoid_pair(gx, gxl)
    tau = math.tanh(0.5 * gx)
    if abs(gx) <= 700.0:
        out = -8.0 * s * t * tau * beta * beta
        if math.isfinite(out):
            return out
    if abs(gx) > 10000.0:
        return 0.0
    lg = 2.0794415416798357 + 2 * math.log(abs(beta)) + 1 * math.log(abs(tau))
    if lg == -math.inf:
        return 0.0
    lo = 0.0
    p, q = log_sigmoid(gx, gxl)
    lg, e = two_sum(lg, 1.0 * p)
    lo += e + 1.0 * q
    p, q = log_sigmoid(-gx, -gxl)
    lg, e = two_sum(lg, 1.0 * p)
    lo += e + 1.0 * q
    return -1.0 * sign(tau) * math.exp(lg) * (1.0 + lo)


@njit(cache=True)
def tanh_d_hbeta(h, beta):
    """2*beta*h*tanh(beta*h)**3 - 2*beta*h*tanh(beta*h) - tanh(beta*h)**2 + 1"""
    x = field(beta, h)
    gx = 2.0 * x
    gxl = 2.0 * product_low(beta, h, x)
    s, t = sigmoid_pair(gx, gxl)
    tau = math.tanh(0.5 * gx)
    r0 = 2*tau*x - 1
    if abs(x - -0.7717023192091043) < 0.05:
        xh, xl = two_product(beta, h)
        d = (xh - -0.7717023192091043) + (xl - 3.539940711074326e-17)
        r0 = (((((((((((-0.00408921928736272 * d + -0.005476698355563111) * d + 0.004071929245782597) * d + 0.02305686196169886) * d + 0.023116610252976948) * d + -0.03488109271803207) * d + -0.12459609729254124) * d + -0.08689408184177104) * d + 0.24356764425014565) * d + 0.6744189017004728) * d + 0.5802019684911432) * d + -2.1913228674478114) * d
    if abs(x - 0.7717023192091043) < 0.05:
        xh, xl = two_product(beta, h)
        d = (xh - 0.7717023192091043) + (xl - -3.539940711074326e-17)
        r0 = (((((((((((-0.00408921928736272 * d + 0.005476698355563111) * d + 0.004071929245782597) * d + -0.02305686196169886) * d + 0.023116610252976948) * d + 0.03488109271803207) * d + -0.12459609729254124) * d + 0.08689408184177104) * d + 0.24356764425014565) * d + -0.6744189017004728) * d + 0.5802019684911432) * d + 2.1913228674478114) * d
    if abs(gx) <= 700.0:
        out = -4.0 * s * t * r0
        if math.isfinite(out):
            return out
    if abs(gx) > 10000.0:
        return 0.0
    lg = 1.3862943611198906 + 1 * math.log(abs(r0))
    if lg == -math.inf:
        return 0.0
    lo = 0.0
    p, q = log_sigmoid(gx, gxl)
    lg, e = two_sum(lg, 1.0 * p)
    lo += e + 1.0 * q
    p, q = log_sigmoid(-gx, -gxl)
    lg, e = two_sum(lg, 1.0 * p)
    lo += e + 1.0 * q
    return -1.0 * sign(r0) * math.exp(lg) * (1.0 + lo)


@njit(cache=True)
def tanh_d_betabeta(h, beta):
    """2*h**2*(tanh(beta*h)**2 - 1)*tanh(beta*h)"""
    x = field(beta, h)
    gx = 2.0 * x
    gxl = 2.0 * product_low(beta, h, x)
    s, t = sigmoid_pair(gx, gxl)
    tau = math.tanh(0.5 * gx)
    if abs(gx) <= 700.0:
        out = -8.0 * s * t * tau * h * h
        if math.isfinite(out):
            return out
    if abs(gx) > 10000.0:
        return 0.0
    lg = 2.0794415416798357 + 2 * math.log(abs(h)) + 1 * math.log(abs(tau))
    if lg == -math.inf:
        return 0.0
    lo = 0.0
    p, q = log_sigmoid(gx, gxl)
    lg, e = two_sum(lg, 1.0 * p)
    lo += e + 1.0 * q
    p, q = log_sigmoid(-gx, -gxl)
    lg, e = two_sum(lg, 1.0 * p)
    lo += e + 1.0 * q
    return -1.0 * sign(tau) * math.exp(lg) * (1.0 + lo)


@njit(cache=True, error_model="numpy", inline="always")
def tanh_first(h, beta):
    """(value, d_h, d_beta, fast) of tanh; exact where fast, see the module docstring."""
    x = beta * h
    xl = exact_product_low(beta, h, x)
    gx = 2.0 * x
    s, t, tau, _ = sigmoid_tanh(gx, 2.0 * xl)
    return tau, 4.0 * s * t * beta, 4.0 * s * t * h, fast_range(h, beta, gx)


@njit(cache=True, error_model="numpy")
def tanh_first_rows(h, beta, value, d_h, d_beta):
    """value[j, s], d_h[j, s], d_beta[j, s] at (h[j, s], beta[j]) for every j, s: tanh_first in a SIMD loop
    over s, the scalar kernels where it does not hold."""
    for j in range(h.shape[0]):
        b = beta[j]
        slow = False
        for s in range(h.shape[1]):
            value[j, s], d_h[j, s], d_beta[j, s], fast = tanh_first(h[j, s], b)
            slow |= not fast
        if slow:
            for s in range(h.shape[1]):
                if not tanh_first(h[j, s], b)[3]:
                    value[j, s] = tanh_value(h[j, s], b)
                    d_h[j, s] = tanh_d_h(h[j, s], b)
                    d_beta[j, s] = tanh_d_beta(h[j, s], b)


@njit(cache=True, error_model="numpy", inline="always")
def tanh_second(h, beta):
    """(d_hh, d_hbeta, d_betabeta, fast) of tanh; exact where fast, see the module docstring."""
    x = beta * h
    xl = exact_product_low(beta, h, x)
    gx = 2.0 * x
    s, t, tau, _ = sigmoid_tanh(gx, 2.0 * xl)
    r0 = mul_add(-2.0 * tau, x, 1.0)
    d = (x - -0.7717023192091043) + (xl - 3.539940711074326e-17)
    d2 = d * d
    d4 = d2 * d2
    d8 = d4 * d4
    r0 = d * mul_add(mul_add(mul_add(0.00408921928736272, d, 0.005476698355563111), d2, mul_add(-0.004071929245782597, d, -0.02305686196169886)), d8, mul_add(mul_add(mul_add(-0.023116610252976948, d, 0.03488109271803207), d2, mul_add(0.12459609729254124, d, 0.08689408184177104)), d4, mul_add(mul_add(-0.24356764425014565, d, -0.6744189017004728), d2, mul_add(-0.5802019684911432, d, 2.1913228674478114)))) if abs(x - -0.7717023192091043) < 0.05 else r0
    d = (x - 0.7717023192091043) + (xl - -3.539940711074326e-17)
    d2 = d * d
    d4 = d2 * d2
    d8 = d4 * d4
    r0 = d * mul_add(mul_add(mul_add(0.00408921928736272, d, -0.005476698355563111), d2, mul_add(-0.004071929245782597, d, 0.02305686196169886)), d8, mul_add(mul_add(mul_add(-0.023116610252976948, d, -0.03488109271803207), d2, mul_add(0.12459609729254124, d, -0.08689408184177104)), d4, mul_add(mul_add(-0.24356764425014565, d, 0.6744189017004728), d2, mul_add(-0.5802019684911432, d, -2.1913228674478114)))) if abs(x - 0.7717023192091043) < 0.05 else r0
    return -8.0 * s * t * tau * beta * beta, 4.0 * s * t * r0, -8.0 * s * t * tau * h * h, fast_range(h, beta, gx)


@njit(cache=True, error_model="numpy")
def tanh_second_rows(h, beta, d_hh, d_hbeta, d_betabeta):
    """d_hh[j, s], d_hbeta[j, s], d_betabeta[j, s] at (h[j, s], beta[j]) for every j, s: tanh_second in a SIMD loop
    over s, the scalar kernels where it does not hold."""
    for j in range(h.shape[0]):
        b = beta[j]
        slow = False
        for s in range(h.shape[1]):
            d_hh[j, s], d_hbeta[j, s], d_betabeta[j, s], fast = tanh_second(h[j, s], b)
            slow |= not fast
        if slow:
            for s in range(h.shape[1]):
                if not tanh_second(h[j, s], b)[3]:
                    d_hh[j, s] = tanh_d_hh(h[j, s], b)
                    d_hbeta[j, s] = tanh_d_hbeta(h[j, s], b)
                    d_betabeta[j, s] = tanh_d_betabeta(h[j, s], b)


@njit(cache=True)
def relu_value(h, beta):
    """Piecewise((h, h > 0), (0, True))"""
    return float(((h) if (h > 0) else (0)))


@njit(cache=True)
def relu_d_h(h, beta):
    """Piecewise((1, h > 0), (0, True))"""
    return float(((1) if (h > 0) else (0)))


@njit(cache=True)
def relu_d_beta(h, beta):
    """0"""
    return float(0)


@njit(cache=True)
def relu_d_hh(h, beta):
    """0"""
    return float(0)


@njit(cache=True)
def relu_d_hbeta(h, beta):
    """0"""
    return float(0)


@njit(cache=True)
def relu_d_betabeta(h, beta):
    """0"""
    return float(0)


@njit(cache=True, error_model="numpy", inline="always")
def relu_first(h, beta):
    """(value, d_h, d_beta, fast) of relu; exact where fast, see the module docstring."""
    return float(((h) if (h > 0) else (0))), float(((1) if (h > 0) else (0))), float(0), True


@njit(cache=True, error_model="numpy")
def relu_first_rows(h, beta, value, d_h, d_beta):
    """value[j, s], d_h[j, s], d_beta[j, s] at (h[j, s], beta[j]) for every j, s: relu_first in a SIMD loop
    over s, the scalar kernels where it does not hold."""
    for j in range(h.shape[0]):
        b = beta[j]
        slow = False
        for s in range(h.shape[1]):
            value[j, s], d_h[j, s], d_beta[j, s], fast = relu_first(h[j, s], b)
            slow |= not fast
        if slow:
            for s in range(h.shape[1]):
                if not relu_first(h[j, s], b)[3]:
                    value[j, s] = relu_value(h[j, s], b)
                    d_h[j, s] = relu_d_h(h[j, s], b)
                    d_beta[j, s] = relu_d_beta(h[j, s], b)


@njit(cache=True, error_model="numpy", inline="always")
def relu_second(h, beta):
    """(d_hh, d_hbeta, d_betabeta, fast) of relu; exact where fast, see the module docstring."""
    return float(0), float(0), float(0), True


@njit(cache=True, error_model="numpy")
def relu_second_rows(h, beta, d_hh, d_hbeta, d_betabeta):
    """d_hh[j, s], d_hbeta[j, s], d_betabeta[j, s] at (h[j, s], beta[j]) for every j, s: relu_second in a SIMD loop
    over s, the scalar kernels where it does not hold."""
    for j in range(h.shape[0]):
        b = beta[j]
        slow = False
        for s in range(h.shape[1]):
            d_hh[j, s], d_hbeta[j, s], d_betabeta[j, s], fast = relu_second(h[j, s], b)
            slow |= not fast
        if slow:
            for s in range(h.shape[1]):
                if not relu_second(h[j, s], b)[3]:
                    d_hh[j, s] = relu_d_hh(h[j, s], b)
                    d_hbeta[j, s] = relu_d_hbeta(h[j, s], b)
                    d_betabeta[j, s] = relu_d_betabeta(h[j, s], b)


@njit(cache=True)
def linear_value(h, beta):
    """h"""
    return float(h)


@njit(cache=True)
def linear_d_h(h, beta):
    """1"""
    return float(1)


@njit(cache=True)
def linear_d_beta(h, beta):
    """0"""
    return float(0)


@njit(cache=True)
def linear_d_hh(h, beta):
    """0"""
    return float(0)


@njit(cache=True)
def linear_d_hbeta(h, beta):
    """0"""
    return float(0)


@njit(cache=True)
def linear_d_betabeta(h, beta):
    """0"""
    return float(0)


@njit(cache=True, error_model="numpy", inline="always")
def linear_first(h, beta):
    """(value, d_h, d_beta, fast) of linear; exact where fast, see the module docstring."""
    return float(h), float(1), float(0), True


@njit(cache=True, error_model="numpy")
def linear_first_rows(h, beta, value, d_h, d_beta):
    """value[j, s], d_h[j, s], d_beta[j, s] at (h[j, s], beta[j]) for every j, s: linear_first in a SIMD loop
    over s, the scalar kernels where it does not hold."""
    for j in range(h.shape[0]):
        b = beta[j]
        slow = False
        for s in range(h.shape[1]):
            value[j, s], d_h[j, s], d_beta[j, s], fast = linear_first(h[j, s], b)
            slow |= not fast
        if slow:
            for s in range(h.shape[1]):
                if not linear_first(h[j, s], b)[3]:
                    value[j, s] = linear_value(h[j, s], b)
                    d_h[j, s] = linear_d_h(h[j, s], b)
                    d_beta[j, s] = linear_d_beta(h[j, s], b)


@njit(cache=True, error_model="numpy", inline="always")
def linear_second(h, beta):
    """(d_hh, d_hbeta, d_betabeta, fast) of linear; exact where fast, see the module docstring."""
    return float(0), float(0), float(0), True


@njit(cache=True, error_model="numpy")
def linear_second_rows(h, beta, d_hh, d_hbeta, d_betabeta):
    """d_hh[j, s], d_hbeta[j, s], d_betabeta[j, s] at (h[j, s], beta[j]) for every j, s: linear_second in a SIMD loop
    over s, the scalar kernels where it does not hold."""
    for j in range(h.shape[0]):
        b = beta[j]
        slow = False
        for s in range(h.shape[1]):
            d_hh[j, s], d_hbeta[j, s], d_betabeta[j, s], fast = linear_second(h[j, s], b)
            slow |= not fast
        if slow:
            for s in range(h.shape[1]):
                if not linear_second(h[j, s], b)[3]:
                    d_hh[j, s] = linear_d_hh(h[j, s], b)
                    d_hbeta[j, s] = linear_d_hbeta(h[j, s], b)
                    d_betabeta[j, s] = linear_d_betabeta(h[j, s], b)
