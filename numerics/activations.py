"""`activation(name)`: vectorized, validated access to the generated kernels.

Each method takes h and beta (anything numpy broadcasts, float64) and
returns a float64 array (a float for scalar input). The scalar ``njit``
kernels, for use inside other numba code, are in ``Activation.kernels``,
with the fused ``first`` and ``second`` kernels (three derivatives from one
exponential) and their row versions ``first_row``/``second_row`` (a SIMD
loop over a row of fields, the scalar kernels where the fused ones do not
hold); :func:`first_row` and :func:`second_row` select them by activation.
"""

from __future__ import annotations

import math
from collections import namedtuple
from functools import cached_property

import numba
import numpy as np

from numba import literal_unroll, njit

from numerics._generated import activations as _gen
from numerics._numba import KERNEL_SOURCES, flush_stale_caches

NAMES = ("esp", "sigmoid", "tanh", "relu", "linear")
KEYS = ("value", "d_h", "d_beta", "d_hh", "d_hbeta", "d_betabeta")
Kernels = namedtuple("Kernels", KEYS + ("first", "second", "first_row", "second_row"))
PARALLEL_MIN_SIZE = 1 << 16  # below this, threads cost more than they save


def _as_float_array(value, name: str) -> np.ndarray:
    arr = np.asarray(value)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be real numbers (bool, int or float), got dtype {arr.dtype}")
    arr = arr.astype(np.float64, copy=False)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (any finite float64 is allowed), got a non-finite value")
    return arr


class Activation:
    """The kernels of one registered activation phi(h, beta) and its derivatives."""

    def __init__(self, name: str):
        self.name = name
        self.kernels = Kernels(*(getattr(_gen, f"{name}_{k}") for k in Kernels._fields))

    def __repr__(self) -> str:
        return f"activation({self.name!r})"

    @cached_property
    def _ufuncs(self) -> dict:
        return {}

    def _ufunc(self, key: str, parallel: bool):
        """The kernel as a numpy ufunc, compiled on first use (multithreaded for large inputs)."""
        if (key, parallel) not in self._ufuncs:
            kernel = getattr(self.kernels, key)
            target = "parallel" if parallel else "cpu"
            ufunc = numba.vectorize(["float64(float64, float64)"], target=target, cache=True)(kernel.py_func)
            self._ufuncs[key, parallel] = ufunc
        return self._ufuncs[key, parallel]

    def _apply(self, key: str, h, beta):
        h_arr = _as_float_array(h, "h")
        b_arr = _as_float_array(beta, "beta")
        try:
            shape = np.broadcast_shapes(h_arr.shape, b_arr.shape)
        except ValueError:
            raise ValueError(f"h and beta must broadcast together, got shapes {h_arr.shape} and {b_arr.shape}") from None
        parallel = math.prod(shape) >= PARALLEL_MIN_SIZE and numba.get_num_threads() > 1
        out = self._ufunc(key, parallel)(h_arr, b_arr)
        return float(out) if np.ndim(out) == 0 else out

    def value(self, h, beta):
        """phi(h, beta)."""
        return self._apply("value", h, beta)

    def d_h(self, h, beta):
        """d phi / d h: the back-propagated factor g(h)."""
        return self._apply("d_h", h, beta)

    def d_beta(self, h, beta):
        """d phi / d beta."""
        return self._apply("d_beta", h, beta)

    def d_hh(self, h, beta):
        """d^2 phi / d h^2."""
        return self._apply("d_hh", h, beta)

    def d_hbeta(self, h, beta):
        """d^2 phi / d h d beta."""
        return self._apply("d_hbeta", h, beta)

    def d_betabeta(self, h, beta):
        """d^2 phi / d beta^2."""
        return self._apply("d_betabeta", h, beta)


_CACHE: dict[str, Activation] = {}


def activation(name: str) -> Activation:
    """The registered activation ``name`` (one of :data:`NAMES`)."""
    if name not in NAMES:
        raise ValueError(f"activation {name!r} is not known; known activations: {', '.join(NAMES)}")
    if name not in _CACHE:
        _CACHE[name] = Activation(name)
    return _CACHE[name]


# The kernels of every registered activation, in the order of NAMES (the index k of the row functions).
KERNELS = tuple(activation(name).kernels for name in NAMES)


@njit(cache=True)
def first_row(k, h, beta, value, d_h, d_beta):
    """value[s], d_h[s], d_beta[s] of activation NAMES[k] at (h[s], beta), for every s of the 1-D arrays."""
    i = 0
    for kern in literal_unroll(KERNELS):
        if i == k:
            kern.first_row(h, beta, value, d_h, d_beta)
        i += 1


@njit(cache=True)
def second_row(k, h, beta, d_hh, d_hbeta, d_betabeta):
    """d_hh[s], d_hbeta[s], d_betabeta[s] of activation NAMES[k] at (h[s], beta), for every s of the 1-D arrays."""
    i = 0
    for kern in literal_unroll(KERNELS):
        if i == k:
            kern.second_row(h, beta, d_hh, d_hbeta, d_betabeta)
        i += 1


# the generated row functions inline the primitives; these inline nothing but call the generated ones
flush_stale_caches(_gen.__name__, KERNEL_SOURCES)
flush_stale_caches(__name__, KERNEL_SOURCES)
