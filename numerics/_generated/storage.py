"""Storage-problem kernels: integrands, closed forms and the RS equations in their Gaussian averages.

Generated from theory/storage.py by
`python -m numerics.codegen`; do not edit.
"""

import math

from numpy import arcsin, exp, log, pi, sqrt  # noqa: F401

from numerics.solvers.gaussian import log_tail, log_two_cosh, mills, mills_defect, mills_excess, sech, tail  # noqa: F401


def gardner_saddle_integrand(t, q, kappa):
    """integrand of the scaled saddle point q = alpha <(1-q) M(x)^2>_t (theory.storage: saddle_integrand).

    (1 - q)*Mills((kappa + sqrt(q)*t)/sqrt(1 - q))**2
    """
    x0 = 1 - q
    return x0*mills((kappa + sqrt(q)*t)/sqrt(x0))**2


def gardner_saddle_slope_integrand(t, q, kappa):
    """I'(q) = <this>_t (d/dq of (1-q) M(x)^2, by parts in t; E = M - x, D = 1 - x E) (theory.storage: saddle_slope_integrand).

    (-2*MillsDefect((kappa + sqrt(q)*t)/sqrt(1 - q)) + 3*MillsExcess((kappa + sqrt(q)*t)/sqrt(1 - q))**2)*Mills((kappa + sqrt(q)*t)/sqrt(1 - q))**2
    """
    x0 = (kappa + sqrt(q)*t)/sqrt(1 - q)
    return (-2*mills_defect(x0) + 3*mills_excess(x0)**2)*mills(x0)**2


def gardner_saddle_curvature_integrand(t, q, kappa):
    """I''(q) = <this>_t (by parts in t again) (theory.storage: saddle_curvature_integrand).

    -(21*MillsDefect((kappa + sqrt(q)*t)/sqrt(1 - q))**2 - 48*MillsDefect((kappa + sqrt(q)*t)/sqrt(1 - q))*MillsExcess((kappa + sqrt(q)*t)/sqrt(1 - q))**2 - 22*MillsDefect((kappa + sqrt(q)*t)/sqrt(1 - q)) + 30*MillsExcess((kappa + sqrt(q)*t)/sqrt(1 - q))**4 + 24*MillsExcess((kappa + sqrt(q)*t)/sqrt(1 - q))**2 + 4 - 2*(kappa + sqrt(q)*t)**2*MillsDefect((kappa + sqrt(q)*t)/sqrt(1 - q))/(1 - q))*Mills((kappa + sqrt(q)*t)/sqrt(1 - q))**2/(q - 1)
    """
    x0 = q - 1
    x1 = -x0
    x2 = kappa + sqrt(q)*t
    x3 = x2/sqrt(x1)
    x4 = mills_defect(x3)
    x5 = mills_excess(x3)
    x6 = x5**2
    return -(21*x4**2 - 48*x4*x6 - 22*x4 + 30*x5**4 + 24*x6 + 4 - 2*x2**2*x4/x1)*mills(x3)**2/x0


def gardner_energetic_integrand(t, q, kappa):
    """energetic integrand: ln H(x), the log-fraction of fields above kappa (theory.storage: energetic_integrand).

    LogH((kappa + sqrt(q)*t)/sqrt(1 - q))
    """
    return log_tail((kappa + sqrt(q)*t)/sqrt(1 - q))


def gardner_replicon_integrand(t, q, kappa):
    """replicon integrand [(ln H)''(x)]^2 = M^2 E^2 (E = M - x: no cancellation) (theory.storage: replicon_integrand).

    Mills((kappa + sqrt(q)*t)/sqrt(1 - q))**2*MillsExcess((kappa + sqrt(q)*t)/sqrt(1 - q))**2
    """
    x0 = (kappa + sqrt(q)*t)/sqrt(1 - q)
    return mills(x0)**2*mills_excess(x0)**2


def gardner_capacity(kappa):
    """alpha_c(kappa): q -> 1 in q = alpha <(1-q) M^2> (theory.storage: capacity).

    1/(sqrt(2)*kappa*exp(-kappa**2/2)/(2*sqrt(pi)) + (kappa**2 + 1)*H(-kappa))
    """
    x0 = kappa**2
    return ((1/2)*sqrt(2)*kappa*exp(-1/2*x0)/sqrt(pi) + (x0 + 1)*tail(-kappa))**(-1.0)


def gardner_log_capacity_negative(kappa):
    """ln alpha_c for kappa <= 0 without cancellation or overflow: kappa^2/2 + ln sqrt(2 pi) + ln M(-kappa) - ln D(-kappa) (theory.storage: log_capacity_negative).

    kappa**2/2 + log(Mills(-kappa)) - log(MillsDefect(-kappa)) + log(sqrt(2)*sqrt(pi))
    """
    x0 = -kappa
    return (1/2)*kappa**2 + log(mills(x0)) - log(mills_defect(x0)) + log(sqrt(2)*sqrt(pi))


def gardner_near_capacity_slope(kappa):
    """lim (1-q)/delta at alpha = alpha_c (1 - delta), delta -> 0: 1/(1 + alpha_c K) (theory.storage: near_capacity_slope).

    1/(1 + H(-kappa)/(sqrt(2)*kappa*exp(-kappa**2/2)/(2*sqrt(pi)) + (kappa**2 + 1)*H(-kappa)))
    """
    x0 = tail(-kappa)
    x1 = kappa**2
    return (x0/((1/2)*sqrt(2)*kappa*exp(-1/2*x1)/sqrt(pi) + x0*(x1 + 1)) + 1)**(-1.0)


def gardner_replicon_at_capacity(kappa):
    """lambda at q -> 1, alpha = alpha_c: alpha_c(kappa) H(-kappa) (theory.storage: replicon_at_capacity).

    H(-kappa)/(sqrt(2)*kappa*exp(-kappa**2/2)/(2*sqrt(pi)) + (kappa**2 + 1)*H(-kappa))
    """
    x0 = tail(-kappa)
    x1 = kappa**2
    return x0/((1/2)*sqrt(2)*kappa*exp(-1/2*x1)/sqrt(pi) + x0*(x1 + 1))


def ising_overlap_integrand(z, qhat):
    """integrand of 1 - q = <sech^2(sqrt(qhat) z)>_z (theory.storage: ising_overlap_integrand).

    sech(sqrt(qhat)*z)**2
    """
    return sech(sqrt(qhat)*z)**2


def ising_spin_integrand(z, qhat):
    """spin integrand ln 2cosh(sqrt(qhat) z) (theory.storage: ising_spin_integrand).

    LogTwoCosh(sqrt(qhat)*z)
    """
    return log_two_cosh(sqrt(qhat)*z)


def ising_spin_replicon_integrand(z, qhat):
    """spin factor of the replicon: sech^4(sqrt(qhat) z) (theory.storage: ising_spin_replicon_integrand).

    sech(sqrt(qhat)*z)**4
    """
    return sech(sqrt(qhat)*z)**4


def ising_rs_capacity(kappa):
    """q -> 1 value of alpha (Gardner-Derrida): 2 alpha_c(kappa)/pi (theory.storage: ising_rs_capacity).

    2/(pi*(sqrt(2)*kappa*exp(-kappa**2/2)/(2*sqrt(pi)) + (kappa**2 + 1)*H(-kappa)))
    """
    x0 = kappa**2
    return 2/(pi*((1/2)*sqrt(2)*kappa*exp(-1/2*x0)/sqrt(pi) + (x0 + 1)*tail(-kappa)))


def teacher_saddle_integrand(s, R):
    """integrand of the saddle point R/sqrt(1-R) = alpha <.>_s (theory.storage: ts_saddle_integrand).

    sqrt(2)*Mills(sqrt(R)*s)/sqrt(pi)
    """
    return sqrt(2)*mills(sqrt(R)*s)/sqrt(pi)


def teacher_error(R):
    """generalization error as 2 arcsin(sqrt((1-R)/2))/pi, accurate for R -> 1 (theory.storage: ts_error_stable).

    2*asin(sqrt(1/2 - R/2))/pi
    """
    return 2*arcsin(sqrt(1/2 - 1/2*R))/pi


def gardner_log_alpha_of_q(q, mean_saddle):
    """the saddle point solved for alpha: alpha(q) = q / I(q), I(q) = <(1-q) M(x)^2>_t (theory.storage: alpha_of_q; mean_saddle = <gardner_saddle_integrand>).

    -log(mean_saddle) + log(q)
    """
    return -math.log(mean_saddle) + math.log(q)


def gardner_spinodal_gap(q, mean_saddle, mean_saddle_slope):
    """q alpha'(q)/alpha(q) = 1 - q I'/I: the sign of alpha'(q), zero at the spinodals (theory.storage: spinodal_gap; mean_saddle = <gardner_saddle_integrand>; mean_saddle_slope = <gardner_saddle_slope_integrand>).

    1 - mean_saddle_slope*q/mean_saddle
    """
    return 1 - mean_saddle_slope*q/mean_saddle


def gardner_entropy(q, alpha, mean_log_tail):
    """RS log-volume S(q) (minimized over q) (theory.storage: entropy; mean_log_tail = <gardner_energetic_integrand>).

    alpha*mean_log_tail + q/(2 - 2*q) + log(1 - q)/2
    """
    return alpha*mean_log_tail + q/(2 - 2*q) + (1/2)*math.log(1 - q)


def gardner_replicon(alpha, mean_replicon):
    """replicon ratio lambda = alpha <[(ln H)''(x)]^2>; RS is stable while lambda < 1 (theory.storage: replicon; mean_replicon = <gardner_replicon_integrand>).

    alpha*mean_replicon
    """
    return alpha*mean_replicon


def ising_conjugate(q, alpha, mean_saddle):
    """ds/dq = 0: qhat = alpha <(1-q) M(x)^2>_t / (1-q)^2 (theory.storage: ising_conjugate; mean_saddle = <gardner_saddle_integrand>).

    alpha*mean_saddle/(q - 1)**2
    """
    return alpha*mean_saddle/(q - 1)**2


def ising_overlap_residual(q, mean_sech2):
    """ds/dqhat = 0: 1 - q = <sech^2(sqrt(qhat) z)>_z (theory.storage: ising_overlap; mean_sech2 = <ising_overlap_integrand>).

    Eq(1 - q, mean_sech2)
    """
    return (1 - q) - (mean_sech2)


def ising_entropy(q, qhat, alpha, mean_log_two_cosh, mean_log_tail):
    """RS entropy s(q, qhat) for J_i = +-1 (theory.storage: ising_entropy; mean_log_two_cosh = <ising_spin_integrand>; mean_log_tail = <gardner_energetic_integrand>).

    alpha*mean_log_tail + mean_log_two_cosh - qhat*(1 - q)/2
    """
    return alpha*mean_log_tail + mean_log_two_cosh - 1/2*qhat*(1 - q)


def ising_replicon(q, alpha, mean_replicon, mean_sech4):
    """replicon ratio alpha <[(ln H)'']^2>_t <sech^4>_z / (1-q)^2 (theory.storage: ising_replicon; mean_replicon = <gardner_replicon_integrand>; mean_sech4 = <ising_spin_replicon_integrand>).

    alpha*mean_replicon*mean_sech4/(1 - q)**2
    """
    return alpha*mean_replicon*mean_sech4/(1 - q)**2


def teacher_saddle_residual(R, alpha, mean_teacher):
    """ds/dR = 0, times 2 sqrt(1-R) (theory.storage: ts_saddle; mean_teacher = <teacher_saddle_integrand>).

    Eq(R/sqrt(1 - R), alpha*mean_teacher)
    """
    return (R/math.sqrt(1 - R)) - (alpha*mean_teacher)
