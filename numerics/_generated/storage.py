"""Storage-problem kernels: integrands of the RS saddle points and closed forms.

Generated from theory/storage.py by `python -m numerics.generate`; do not edit.
"""

from numpy import arcsin, exp, log, pi, sqrt  # noqa: F401

from numerics.gaussian import log_tail, log_two_cosh, mills, mills_defect, mills_excess, sech, tail  # noqa: F401


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


def gardner_entropic_part(q):
    """entropic part of S: volume of the sphere at overlap q (theory.storage: entropic_part).

    q/(2 - 2*q) + log(1 - q)/2
    """
    return q/(2 - 2*q) + (1/2)*log(1 - q)


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


def ising_entropic_part(q, qhat):
    """-qhat (1-q)/2 (theory.storage: ising_entropic_part).

    -qhat*(1 - q)/2
    """
    return -1/2*qhat*(1 - q)


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
