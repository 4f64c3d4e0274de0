"""Error measures shared by the checks."""

from __future__ import annotations

import numpy as np

TINY = np.finfo(np.float64).tiny  # smallest normal float64


def relative_error(value, reference) -> float:
    """Worst ``|value - reference| / max(|reference|, TINY)`` over the arrays.

    The floor at the smallest normal float means a subnormal reference is
    judged by absolute error (a subnormal cannot carry 1e-13 relative
    precision). A non-finite value where the reference is finite, or a
    mismatch in non-finite values, counts as infinite error.
    """
    v = np.asarray(value, dtype=np.float64)
    r = np.asarray(reference, dtype=np.float64)
    v, r = np.broadcast_arrays(v, r)
    finite = np.isfinite(r)
    if np.any(~np.isfinite(v[finite])):
        return float("inf")
    if np.any(v[~finite] != r[~finite]):
        return float("inf")
    if not np.any(finite):
        return 0.0
    vf, rf = v[finite], r[finite]
    return float(np.max(np.abs(vf - rf) / np.maximum(np.abs(rf), TINY)))
