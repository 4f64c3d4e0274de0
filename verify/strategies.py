"""Hypothesis strategies that reach every order of magnitude."""

from __future__ import annotations

from hypothesis import strategies as st


def log_uniform(lo_exp: float, hi_exp: float, signed: bool = True, zero: bool = False):
    """Floats ``±10**u`` with ``u`` uniform in ``[lo_exp, hi_exp]`` (optionally 0)."""
    mag = st.floats(lo_exp, hi_exp).map(lambda u: 10.0**u)
    out = st.tuples(st.sampled_from((1.0, -1.0)), mag).map(lambda t: t[0] * t[1]) if signed else mag
    return st.one_of(out, st.just(0.0)) if zero else out


def moderate_or_extreme(lo_exp: float, hi_exp: float, moderate: float = 10.0, signed: bool = True):
    """Half of the draws in ``[-moderate, moderate]``, half log-uniform over the full range."""
    lo = -moderate if signed else 0.0
    dense = st.floats(lo, moderate, allow_nan=False, allow_infinity=False)
    return st.one_of(dense, log_uniform(lo_exp, hi_exp, signed=signed))
