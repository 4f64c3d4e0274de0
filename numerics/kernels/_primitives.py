"""Stable scalar primitives the generated kernels call (numba, float64).

sigmoid_pair and log_sigmoid never overflow for finite input; two_product gives
the exact product a*b as an unevaluated sum hi + lo (Dekker/Veltkamp), used
where rounding of beta*h would cost relative accuracy.

The fused kernels' fast path uses branch-free versions (sigmoid_tanh,
log1p_unit, exact_product_low), so that loops over samples calling them
compile to SIMD code: compiled with error_model="numpy" (no division check)
and valid on a documented range that the caller checks.
"""

import math

from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

_SPLITTER = 134217729.0  # 2**27 + 1
_SPLIT_MAX = 1e290  # beyond this Veltkamp splitting could overflow


@njit(cache=True)
def sigmoid_pair(x, xl):
    """(sigma(x + xl), sigma(-x - xl)) from a single exponential, for a small correction xl.

    xl is the rounding error of x (see product_low); to first order
    sigma(x + xl) = sigma(x) (1 + xl sigma(-x)), which keeps full relative
    precision in the tails where e^-|x| amplifies the rounding of x by |x|.
    """
    e = math.exp(-abs(x))
    r = 1.0 / (1.0 + e)
    er = e * r
    positive = x >= 0.0
    s = r if positive else er  # selects, not branches: the sign of x is unpredictable
    t = er if positive else r
    return s * (1.0 + xl * t), t * (1.0 - xl * s)


@njit(cache=True)
def log_sigmoid(x, xl):
    """log sigma(x + xl) as an unevaluated sum hi + lo, to first order in the small correction xl.

    For x < 0, hi = x exactly and lo = xl - log1p(e^x) + ...: the large part
    carries no rounding, so exp(hi + lo) keeps full relative precision.
    """
    if x >= 0.0:
        e = math.exp(-x)
        return -math.log1p(e), xl * e / (1.0 + e)
    e = math.exp(x)
    return x, xl / (1.0 + e) - math.log1p(e)


@njit(cache=True)
def two_sum(a, b):
    """(s, e) with s = fl(a + b) and s + e = a + b exactly (Knuth)."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


@njit(cache=True)
def product_low(a, b, p):
    """The rounding error a*b - p of p = fl(a*b) where it matters, else 0.

    It enters the kernels through e^-|p|, whose relative error from rounding p
    is |p| eps/2: below 1e-15 for |p| <= 16, where it is skipped.
    """
    if abs(p) <= 16.0:
        return 0.0
    return two_product(a, b)[1]


@njit(cache=True)
def sign(x):
    return 1.0 if x >= 0.0 else -1.0


@njit(cache=True)
def field(beta, h):
    """beta*h clamped to +-1e300, computed without overflow (every kernel factor has saturated there)."""
    if abs(beta) < 1e150 and abs(h) < 1e150:  # the common case: no overflow possible
        return beta * h
    if abs(beta) > 1.0 and abs(h) > 1e300 / abs(beta):
        return 1e300 if (beta > 0.0) == (h > 0.0) else -1e300
    return max(-1e300, min(1e300, beta * h))


@intrinsic
def _float_from_bits(typingctx, bits):
    """The float64 whose IEEE-754 bit pattern is the int64 ``bits``."""
    if bits != types.int64:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.int64), codegen


@intrinsic
def _bits_of_float(typingctx, value):
    """The IEEE-754 bit pattern of the float64 ``value``, as an int64."""
    if value != types.float64:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return types.int64(types.float64), codegen


def _fused_intrinsic(name: str, doc: str):
    @intrinsic
    def fused(typingctx, a, b, c):
        if not (a == b == c == types.float64):
            return None

        def codegen(context, builder, signature, args):
            f64 = ir.DoubleType()
            fn = builder.module.declare_intrinsic(name, [f64], ir.FunctionType(f64, [f64, f64, f64]))
            return builder.call(fn, args)

        return types.float64(types.float64, types.float64, types.float64), codegen

    fused.__doc__ = doc
    return fused


mul_add = _fused_intrinsic("llvm.fmuladd", "a*b + c, in one rounding where the processor has FMA (LLVM fmuladd).")
_fma = _fused_intrinsic("llvm.fma", "a*b + c in one rounding (an FMA instruction; a library call without one).")


_LOG2E = 1.4426950408889634
_SHIFTER = 6755399441055744.0  # 1.5 * 2**52: adding it rounds to an integer held in the low bits
_SHIFTER_BITS = 0x4338000000000000
_LN2_HI = 6.93147180369123816490e-01  # ln 2 to 32 bits: k * _LN2_HI is exact for |k| < 2**21
_LN2_LO = 1.90821492927058770002e-10
# e^r = P(r) / P(-r) with P the [6/6] Pade numerator, P(r) = sum_k c_k r^k, c_k = (12-k)! 6! / (12! k! (6-k)!):
# relative error below 1e-18 for |r| <= ln2/2
_C = tuple(math.factorial(12 - k) * math.factorial(6) / (math.factorial(12) * math.factorial(k) * math.factorial(6 - k))
           for k in range(7))


@njit(cache=True, error_model="numpy", inline="always")
def sigmoid_tanh(x, xl):
    """(sigma(x + xl), sigma(-x - xl), tanh(x/2), e^-|x|) from one exponential, without branches.

    e^-|x| = 2^k P(r) / P(-r) (Cody-Waite reduction -|x| = k ln2 + r, |r| <=
    ln2/2; P(+-r) = E(r^2) +- r O(r^2), the even and odd parts of the [6/6]
    Pade form), so that with D = P(-r) + 2^k P(r)

        sigma(|x|) = P(-r) / D,  sigma(-|x|) = 2^k P(r) / D,
        tanh(|x|/2) = (E (1 - 2^k) - r O (1 + 2^k)) / D,

    the tanh free of cancellation (no e^-|x| - 1 is formed); a caller that
    does not use e^-|x| does not pay its division. As sigmoid_pair, xl is the
    rounding error of x: to first order sigma(x + xl) = sigma(x) (1 + xl
    sigma(-x)), which keeps full relative precision in the tails (e^-|x| is
    that of x alone). Accurate to a few ulp for |x| <= 708; callers check the
    range.
    """
    a = -abs(x)  # beyond 708 2^k leaves the normal range: the callers' range checks send x elsewhere
    shifted = mul_add(a, _LOG2E, _SHIFTER)
    k = shifted - _SHIFTER
    r = _fma(-k, _LN2_LO, _fma(-k, _LN2_HI, a))
    w = r * r
    even = mul_add(mul_add(mul_add(_C[6], w, _C[4]), w, _C[2]), w, _C[0])
    odd = r * mul_add(mul_add(_C[5], w, _C[3]), w, _C[1])
    scale = _float_from_bits((_bits_of_float(shifted) - _SHIFTER_BITS + 1023) << 52)  # 2^k
    small = scale * (even + odd)
    big = even - odd
    inv = 1.0 / (big + small)
    tau = mul_add(even, 1.0 - scale, -odd * (1.0 + scale)) * inv
    up = big * inv
    down = small * inv
    positive = x >= 0.0
    s = up if positive else down  # selects, not branches: the sign of x is unpredictable
    t = down if positive else up
    return mul_add(s * xl, t, s), mul_add(-t * xl, s, t), tau if positive else -tau, small / big


# log1p(e) = 2 atanh(u), u = e / (2 + e) <= 1/3: 2u sum_n u^(2n) / (2n + 1), n = 0..16 (truncation < 1e-17)
_A = tuple(1.0 / (2 * n + 1) for n in range(17))


@njit(cache=True, error_model="numpy", inline="always")
def log1p_unit(e):
    """log(1 + e) for 0 <= e <= 1 to a few ulp, without branches: 2 atanh(e / (2 + e)) by its series
    (Estrin's scheme)."""
    u = e / (2.0 + e)
    w = u * u
    w2 = w * w
    w4 = w2 * w2
    w8 = w4 * w4
    p03 = mul_add(mul_add(_A[3], w, _A[2]), w2, mul_add(_A[1], w, _A[0]))
    p47 = mul_add(mul_add(_A[7], w, _A[6]), w2, mul_add(_A[5], w, _A[4]))
    p811 = mul_add(mul_add(_A[11], w, _A[10]), w2, mul_add(_A[9], w, _A[8]))
    p1215 = mul_add(mul_add(_A[15], w, _A[14]), w2, mul_add(_A[13], w, _A[12]))
    p = mul_add(_A[16], w8 * w8, mul_add(mul_add(p1215, w4, p811), w8, mul_add(p47, w4, p03)))
    return 2.0 * u * p


FAST_X = 64.0  # |g beta h| bound of the fused kernels' fast path
FAST_SCALE = 2.0**64  # |h| and |beta| in [1/FAST_SCALE, FAST_SCALE] (or 0) on the fast path


@njit(cache=True, inline="always")
def fast_range(h, beta, gx):
    """Whether the fused kernels' direct products hold at (h, beta), gx = g beta h.

    |gx| <= FAST_X and |h|, |beta| in [2^-64, 2^64] or zero: a product of a few
    such powers and of sigmoids >= e^-64 stays a normal float, and Veltkamp
    splitting cannot overflow. False for NaN or infinite input.
    """
    ah = abs(h)
    ab = abs(beta)
    in_h = (ah <= FAST_SCALE) & ((ah >= 1.0 / FAST_SCALE) | (h == 0.0))
    in_beta = (ab <= FAST_SCALE) & ((ab >= 1.0 / FAST_SCALE) | (beta == 0.0))
    return (abs(gx) <= FAST_X) & in_h & in_beta


@njit(cache=True)
def _split(a):
    c = _SPLITTER * a
    hi = c - (c - a)
    return hi, a - hi


@njit(cache=True, inline="always")
def exact_product_low(a, b, p):
    """a*b - p exactly, for p = fl(a*b) (no underflow), without branches: one fused multiply-add."""
    return _fma(a, b, -p)


@njit(cache=True)
def two_product(a, b):
    """(p, e) with p = fl(a*b) and p + e = a*b exactly; e = 0 when splitting could overflow."""
    p = a * b
    if abs(a) > _SPLIT_MAX or abs(b) > _SPLIT_MAX or not math.isfinite(p):
        return p, 0.0
    ah, al = _split(a)
    bh, bl = _split(b)
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


# ---- branch-free exponential and Gaussian CDF for the fused kernels of user activations ----------

_EXP_TAYLOR = tuple(1.0 / math.factorial(k) for k in range(14))  # e^r to r^13: truncation < 5e-18 for |r| <= ln2/2
EXP_MIN = -708.0  # e^z is a normal float for EXP_MIN <= z <= EXP_MAX
EXP_MAX = 709.782712893384  # log of the largest float64


@njit(cache=True, error_model="numpy", inline="always")
def exp_fast(z):
    """e^z to a few ulp for EXP_MIN <= z <= EXP_MAX, without branches; inf above, 0 below (where e^z
    is subnormal: callers that need those values check the range).

    Cody-Waite reduction z = k ln2 + r, |r| <= ln2/2, and e^r by its Taylor polynomial to r^13
    (Estrin's scheme), scaled by 2 * 2^(k-1) built from its bits (k <= 1024).
    """
    y = min(max(z, EXP_MIN), EXP_MAX)
    shifted = mul_add(y, _LOG2E, _SHIFTER)
    k = shifted - _SHIFTER
    r = _fma(-k, _LN2_LO, _fma(-k, _LN2_HI, y))
    c = _EXP_TAYLOR
    r2 = r * r
    r4 = r2 * r2
    r8 = r4 * r4
    p03 = mul_add(mul_add(c[3], r, c[2]), r2, mul_add(c[1], r, c[0]))
    p47 = mul_add(mul_add(c[7], r, c[6]), r2, mul_add(c[5], r, c[4]))
    p811 = mul_add(mul_add(c[11], r, c[10]), r2, mul_add(c[9], r, c[8]))
    p1213 = mul_add(c[13], r, c[12])
    p = mul_add(mul_add(p1213, r4, p811), r8, mul_add(p47, r4, p03))
    e = 2.0 * p * _float_from_bits((_bits_of_float(shifted) - _SHIFTER_BITS + 1022) << 52)
    return math.inf if z > EXP_MAX else (0.0 if z < EXP_MIN else e)


# W. J. Cody, "Rational Chebyshev approximations for the error function", Math. Comp. 23 (1969) 631, in the
# form of his ANORM (ACM TOMS 715, 1993) for Phi: |x| <= 0.67448975: Phi = 1/2 + x N1(x^2)/D1(x^2);
# up to sqrt 32: Phi(-|x|) = e^(-x^2/2) N2(|x|)/D2(|x|); beyond: Phi(-|x|) = e^(-x^2/2) (1/sqrt(2 pi) - v N3(v)/D3(v))/|x|,
# v = 1/x^2. Coefficients lowest order last, as published.
_CODY_A = (2.2352520354606839287, 161.02823106855587881, 1067.6894854603709582, 18154.981253343561249,
           0.065682337918207449113)
_CODY_B = (47.20258190468824187, 976.09855173777669322, 10260.932208618978205, 45507.789335026729956)
_CODY_C = (0.39894151208813466764, 8.8831497943883759412, 93.506656132177855979, 597.27027639480026226,
           2494.5375852903726711, 6848.1904505362823326, 11602.651437647350124, 9842.7148383839780218,
           1.0765576773720192317e-8)
_CODY_D = (22.266688044328115691, 235.38790178262499861, 1519.377599407554805, 6485.558298266760755,
           18615.571640885098091, 34900.952721145977266, 38912.003286093271411, 19685.429676859990727)
_CODY_P = (0.21589853405795699, 0.1274011611602473639, 0.022235277870649807, 0.001421619193227893466,
           2.9112874951168792e-5, 0.02307344176494017303)
_CODY_Q = (1.28426009614491121, 0.468238212480865118, 0.0659881378689285515, 0.00378239633202758244,
           7.29751555083966205e-5)
_CODY_SMALL = 0.67448975
_CODY_MID = 5.656854249492381  # sqrt 32
_RSQRT_2PI = 0.3989422804014327
NDTR_MIN = -37.5  # Phi(x) is a normal float for x >= NDTR_MIN
_SQRT2_HI = 1.4142135623730951  # sqrt 2 = _SQRT2_HI + _SQRT2_LO
_SQRT2_LO = -9.667293313452913e-17


@njit(cache=True, error_model="numpy", inline="always")
def ndtr_pair(x, xl):
    """(Phi(x + xl), e^(-x^2/2)) for a small correction xl (the rounding error of x), without branches:
    Cody's three rational approximations all evaluated (the third as polynomials in x^2), numerator
    and denominator selected, one division; e^(-x^2/2) by gauss_fast and xl entering as e^(-x xl).
    Accurate to a few ulp for x >= NDTR_MIN; below, a value under the smallest normal float."""
    x = min(max(x, -40.0), 40.0)  # Phi = 0 or 1 beyond; no overflow in x^2
    a = abs(x)
    w = x * x
    n1 = mul_add(mul_add(mul_add(mul_add(_CODY_A[4], w, _CODY_A[0]), w, _CODY_A[1]), w, _CODY_A[2]), w, _CODY_A[3])
    d1 = mul_add(mul_add(mul_add(w + _CODY_B[0], w, _CODY_B[1]), w, _CODY_B[2]), w, _CODY_B[3])
    c, d, q = _CODY_C, _CODY_D, _CODY_Q
    n2 = mul_add(mul_add(mul_add(mul_add(mul_add(mul_add(mul_add(mul_add(c[8], a, c[0]), a, c[1]), a, c[2]), a, c[3]),
                                         a, c[4]), a, c[5]), a, c[6]), a, c[7])
    d2 = mul_add(mul_add(mul_add(mul_add(mul_add(mul_add(mul_add(a + d[0], a, d[1]), a, d[2]), a, d[3]), a, d[4]),
                                 a, d[5]), a, d[6]), a, d[7])
    pp = _CODY_P  # the large-|x| form times w^6: polynomials in w, no division by w
    n3 = mul_add(mul_add(mul_add(mul_add(mul_add(pp[4], w, pp[3]), w, pp[2]), w, pp[1]), w, pp[0]), w, pp[5])
    d3 = w * mul_add(mul_add(mul_add(mul_add(mul_add(q[4], w, q[3]), w, q[2]), w, q[1]), w, q[0]), w, 1.0)
    small = a <= _CODY_SMALL
    mid = a <= _CODY_MID
    num = x * n1 if small else (n2 if mid else mul_add(_RSQRT_2PI, d3, -n3))
    den = d1 if small else (d2 if mid else a * d3)
    ratio = num / den
    g = gauss_fast(x)
    tail = g * mul_add(-x, xl, 1.0) * ratio  # Phi(-|x|) off the central range
    central = 0.5 + mul_add(xl, _RSQRT_2PI, ratio)
    return central if small else (tail if x < 0.0 else 1.0 - tail), g


@njit(cache=True, error_model="numpy", inline="always")
def gauss_fast(u):
    """e^(-u^2/2) to a few ulp, u^2 = p + pl exact (FMA): e^(-p/2) (1 - pl/2), without branches; 0 where
    it is below e^EXP_MIN (subnormal)."""
    x = min(max(u, -40.0), 40.0)  # no overflow in x^2
    p = x * x
    return exp_fast(-0.5 * p) * mul_add(-0.5, _fma(x, x, -p), 1.0)


@njit(cache=True, error_model="numpy", inline="always")
def ndtr_fast(x):
    """Gaussian CDF Phi(x) (see ndtr_pair), without branches."""
    return ndtr_pair(x, 0.0)[0]


@njit(cache=True, error_model="numpy", inline="always")
def ndtr_gauss(x):
    """(Phi(x), e^(-x^2/2)) from one exponential (see ndtr_pair), without branches."""
    return ndtr_pair(x, 0.0)


@njit(cache=True, error_model="numpy", inline="always")
def ndtr_gauss_product(a, b):
    """(Phi(a b), e^(-(a b)^2/2)) of the exact product a b: its rounding error xl enters as in ndtr_pair,
    and as e^(-x xl) in the density; without branches."""
    x = a * b
    xl = _fma(a, b, -x)
    xl = xl if abs(x) <= 40.0 else 0.0  # beyond, both saturate (and a*b may overflow)
    phi, g = ndtr_pair(x, xl)
    return phi, g * mul_add(-min(max(x, -40.0), 40.0), xl, 1.0)


@njit(cache=True, error_model="numpy", inline="always")
def ndtr_product(a, b):
    """Phi(a b) of the exact product a b (see ndtr_gauss_product)."""
    return ndtr_gauss_product(a, b)[0]


@njit(cache=True, error_model="numpy", inline="always")
def gauss_product(a, b):
    """e^(-(a b)^2/2) of the exact product a b (see ndtr_gauss_product)."""
    return ndtr_gauss_product(a, b)[1]


@njit(cache=True, error_model="numpy", inline="always")
def erfc_fast(u):
    """erfc(u) = 2 Phi(-u sqrt 2), with u sqrt 2 carried to twice double precision (see ndtr_pair), without
    branches; accurate to a few ulp for u <= 26.5 (erfc(u) a normal float)."""
    x = -u * _SQRT2_HI
    xl = _fma(-u, _SQRT2_HI, -x) - u * _SQRT2_LO
    return 2.0 * ndtr_pair(x, xl)[0]


# ---- stable forms of the functions user activations may hold (theory.activations.FUNCTIONS) ----

_TINY = 2.2250738585072014e-308  # smallest normal float64
_RSQRT2_HI = 0.7071067811865476  # 1/sqrt(2)
_LOG_SQRT_2PI = 0.9189385332046728


@njit(cache=True)
def logistic(x):
    """sigma(x) = 1/(1 + e^-x), never overflowing."""
    e = math.exp(-abs(x))
    return 1.0 / (1.0 + e) if x >= 0.0 else e / (1.0 + e)


@njit(cache=True)
def log_logistic(x):
    """log sigma(x)."""
    hi, lo = log_sigmoid(x, 0.0)
    return hi + lo


@njit(cache=True)
def softplus(x):
    """log(1 + e^x) = max(x, 0) + log1p(e^-|x|), never overflowing."""
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


@njit(cache=True)
def log_softplus(x):
    """log softplus(x); for x < -30, x + log(1 - e^x/2 + ...) = x - e^x/2 to 1e-26."""
    if x < -30.0:
        return x - 0.5 * math.exp(x)
    return math.log(softplus(x))


@njit(cache=True)
def log_ndtr(x):
    """log Phi(x); below x = -37 (Phi subnormal) the asymptotic series
    log Phi(x) = -x^2/2 - log(-x) - log sqrt(2 pi) + log(1 - 1/x^2 + 3/x^4 - ...) (Abramowitz-Stegun 7.1.23)."""
    if x > 5.0:
        return math.log1p(-ndtr_fast(-x))
    if x > -37.0:
        return math.log(ndtr_fast(x))
    w = 1.0 / (x * x)
    term, total = 1.0, 1.0
    for k in range(1, 10):
        term *= -(2 * k - 1) * w
        total += term
    return -0.5 * x * x - math.log(-x) - _LOG_SQRT_2PI + math.log(total)


@njit(cache=True)
def log_erfc(u):
    """log erfc(u) = log 2 + log Phi(-u sqrt 2)."""
    return 0.6931471805599453 + log_ndtr(-u / _RSQRT2_HI)


@njit(cache=True)
def sech2(x):
    """1/cosh(x)^2 = 1 - tanh(x)^2 without cancellation; 4 e^-2|x| where cosh overflows."""
    a = abs(x)
    if a > 350.0:
        e = math.exp(-a)
        return 4.0 * e * e
    c = math.cosh(x)
    return 1.0 / (c * c)


@njit(cache=True)
def log_cosh(x):
    """log cosh(x) = |x| + log1p(e^-2|x|) - log 2."""
    a = abs(x)
    return a + math.log1p(math.exp(-2.0 * a)) - 0.6931471805599453


@njit(cache=True)
def log_abs_sinh(x):
    """log |sinh(x)| = |x| + log1p(-e^-2|x|) - log 2 (|x| >= 1), log |sinh x| below."""
    a = abs(x)
    if a < 1.0:
        return math.log(math.sinh(a))
    return a + math.log1p(-math.exp(-2.0 * a)) - 0.6931471805599453


@njit(cache=True)
def heaviside(x):
    """Heaviside step, 1/2 at 0 (sympy's convention)."""
    return 1.0 if x > 0.0 else (0.0 if x < 0.0 else 0.5)


@njit(cache=True)
def sgn(x):
    """sign(x) with sign(0) = 0 (sympy's convention)."""
    return 1.0 if x > 0.0 else (-1.0 if x < 0.0 else 0.0)


@njit(cache=True)
def normal(v):
    """Whether v is finite and of normal size, not zero or subnormal (where a kernel keeps its direct evaluation)."""
    return math.isfinite(v) and abs(v) >= _TINY


@njit(cache=True)
def log_sum_exp(us, cs):
    """log sum_i cs[i] e^us[i] for cs[i] > 0, with the largest exponent taken out (no overflow)."""
    m = -math.inf
    for u in us:
        m = max(m, u)
    if m == -math.inf:
        return -math.inf
    total = 0.0
    for i in range(len(us)):
        total += cs[i] * math.exp(us[i] - m)
    return m + math.log(total)


@njit(cache=True)
def log_tanh_ratio(u):
    """log(tanh(u)/u), -u^2/3 + O(u^4) for |u| < 1e-4 (and 0 at u = 0)."""
    if abs(u) < 1e-4:
        return -u * u / 3.0
    return math.log(math.tanh(u) / u)

