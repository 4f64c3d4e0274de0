"""`activation(name)`: vectorized, validated access to the generated kernels.

Each method takes h and beta (anything numpy broadcasts, float64) and
returns a float64 array (a float for scalar input). The scalar ``njit``
kernels, for use inside other numba code, are in ``Activation.kernels``,
with the fused ``first`` and ``second`` kernels (three derivatives from one
exponential) and their block versions ``first_rows``/``second_rows`` (a SIMD
loop over the samples of each unit of a (units, samples) block, the scalar
kernels where the fused ones do not hold); :func:`first_rows` and
:func:`second_rows` select them by activation.

Besides the built-in activations of theory/activations.py, any expression in
h and beta can be registered (:func:`register_activation`); its kernels are
generated into a per-user cache (numerics.kernels.user_activations) and served by
the same :class:`Activation` and rows functions.
"""

from __future__ import annotations

import math
from collections import namedtuple
from collections.abc import Sequence
from functools import cached_property

import numba
import numpy as np
from numba import literal_unroll, njit

from numerics._generated import activations as _gen
from numerics._numba import KERNEL_SOURCES, flush_stale_caches
from numerics.kernels import user_activations as _user

BUILTIN = _gen.NAMES  # theory.activations.REGISTRY's names, as generated
KEYS = _gen.KEYS
Kernels = namedtuple("Kernels", KEYS + ("first", "second", "first_rows", "second_rows"))
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
    """The kernels of one activation phi(h, beta) and its derivatives; ``expression`` is its sympy text."""

    def __init__(self, name: str, module=_gen, prefix: str | None = None, expression: str | None = None):
        self.name = name
        self.kernels = Kernels(*(getattr(module, f"{prefix or name}_{k}") for k in Kernels._fields))
        self._expression = expression

    @property
    def expression(self) -> str:
        """phi(h, beta) as sympy text (theory.activations.parse reads it back)."""
        return self._expression if self._expression is not None else sympy_text(self.name)

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
        with np.errstate(all="ignore"):  # a registered kernel's direct form may overflow where it then takes its tail form
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


class _Names(Sequence):
    """The activation names: the built-ins, then the registered ones (a live view: registering adds to it).

    ``index(name)`` is the k of the rows functions; for a registered name it also
    loads the kernels and points the dispatch table at them, so that a k taken
    from here can be handed to first_rows/second_rows.
    """

    def _names(self) -> tuple:
        return BUILTIN + tuple(_user.names(BUILTIN))

    def __getitem__(self, i):
        return self._names()[i]

    def __len__(self) -> int:
        return len(self._names())

    def __contains__(self, name) -> bool:
        return name in self._names()

    def index(self, name, *args) -> int:
        k = self._names().index(name, *args)
        if k >= len(BUILTIN):
            activation(name)
        return k

    def __repr__(self) -> str:
        return repr(self._names())


NAMES = _Names()
_CACHE: dict[str, Activation] = {}


def activation(name) -> Activation:
    """The activation ``name`` (one of :data:`NAMES`), or a run's record ``{"name": ..., "expr": ...}`` of a
    registered one (registered in this process if it is not yet)."""
    if isinstance(name, dict):
        if set(name) != {"name", "expr"}:
            raise ValueError(f"an activation record has the keys 'name' and 'expr', got {sorted(name)}")
        name, expr = name["name"], name["expr"]
        if name in BUILTIN:
            return activation(name)
        known = _user.expression_text(name)
        if known is None:
            return register_activation(name, expr)
        if known != _user.canonical(expr):
            raise ValueError(f"activation {name!r} is registered as {known} here but was recorded as {expr}; "
                             "remove or rename the registration")
    if not isinstance(name, str) or name not in NAMES:
        raise ValueError(f"activation {name!r} is not known; known activations: {', '.join(NAMES)}")
    if name not in _CACHE:
        if name in BUILTIN:
            _CACHE[name] = Activation(name)
        else:
            text = _user.expression_text(name)
            module = _user.kernel_module(text)
            _user.set_slot(_user.names(BUILTIN).index(name), module)
            _CACHE[name] = Activation(name, module, "act", text)
    return _CACHE[name]


def depends_on_beta(name: str) -> bool:
    """Whether the value of activation ``name`` depends on beta (not only its derivatives' bookkeeping)."""
    if name in BUILTIN:
        return name in _gen.BETA_DEPENDENT
    from theory.activations import beta, parse

    return beta in parse(activation(name).expression).free_symbols


def sympy_text(name: str) -> str:
    """The expression text of a built-in activation (theory/activations.py)."""
    import sympy as sp

    from theory.activations import REGISTRY

    return sp.sstr(REGISTRY[name], full_prec=True)


def register_activation(name: str, expr, persist: bool = False) -> Activation:
    """Register phi(h, beta) = ``expr`` (a sympy expression or a string in h and beta) as activation ``name``.

    The string is parsed by the whitelist of theory.activations.parse (never
    evaluated). Its derivatives are derived, kernels generated into the
    per-user cache and compiled (or loaded from there); with ``persist`` the
    registration is kept for later processes. Re-registering a name replaces it.
    """
    _user.check_name(name, BUILTIN)
    text = _user.canonical(expr)
    if _user.expression_text(name) != text:
        _CACHE.pop(name, None)
    _user.add(name, text, persist)
    try:
        act = activation(name)
        for group in ("first", "second"):  # compile the rows functions now, not inside a training step
            getattr(act.kernels, f"{group}_rows").compile("(float64[:, ::1], float64[::1], float64[:, ::1], float64[:, ::1], float64[:, ::1])")
    except BaseException:
        _user.remove(name) if persist else _user._REGISTERED.pop(name, None)
        _CACHE.pop(name, None)
        raise
    return act


def registered() -> dict[str, str]:
    """The registered (non-built-in) activations of this process, name -> expression text."""
    return {n: _user.expression_text(n) for n in _user.names(BUILTIN)}


def unregister_activation(name: str) -> bool:
    """Remove a registration (in this process and the persisted list); whether it existed."""
    if name in BUILTIN:
        raise ValueError(f"activation {name!r} is built in and cannot be removed")
    known = _user.remove(name)
    _CACHE.pop(name, None)
    _user.clear_slots()
    for other in list(_CACHE):
        if other not in BUILTIN:
            _user.set_slot(_user.names(BUILTIN).index(other), _user.kernel_module(_user.expression_text(other)))
    return known


def record(hidden) -> dict:
    """``{"activations": {name: expression}}`` for the registered names among ``hidden`` (nothing if none):
    what a run directory stores so that the run can be redone without the registration."""
    out = {name: _user.expression_text(name) for name in hidden if name not in BUILTIN and _user.expression_text(name)}
    return {"activations": out} if out else {}


def register_recorded(recorded) -> None:
    """Register (in this process) the activations a run directory recorded; their text is parsed by the
    whitelist like any user expression, never evaluated."""
    if not isinstance(recorded, dict):
        raise ValueError(f"a run's 'activations' must map names to expressions, got {type(recorded).__name__}")
    for name, expr in recorded.items():
        if not isinstance(expr, str):
            raise ValueError(f"a run's activation {name!r} must be an expression string, got {type(expr).__name__}")
        activation({"name": name, "expr": expr})


_user.load_persisted()

# The kernels of the built-in activations, in the order of NAMES (the index k of the rows functions).
KERNELS = tuple(activation(name).kernels for name in BUILTIN)
N_BUILTIN = len(BUILTIN)


@njit(cache=True)
def first_rows(k, h, beta, value, d_h, d_beta):
    """value[j, s], d_h[j, s], d_beta[j, s] of activation NAMES[k] at (h[j, s], beta[j]), for the C-contiguous
    (units, samples) blocks h, value, d_h, d_beta and the betas of the units."""
    if k >= N_BUILTIN:
        _user.call_rows(2 * (k - N_BUILTIN), h, beta, value, d_h, d_beta)
        return
    i = 0
    for kern in literal_unroll(KERNELS):
        if i == k:
            kern.first_rows(h, beta, value, d_h, d_beta)
        i += 1


@njit(cache=True)
def second_rows(k, h, beta, d_hh, d_hbeta, d_betabeta):
    """d_hh[j, s], d_hbeta[j, s], d_betabeta[j, s] of activation NAMES[k] at (h[j, s], beta[j]), for C-contiguous
    (units, samples) blocks as :func:`first_rows`."""
    if k >= N_BUILTIN:
        _user.call_rows(2 * (k - N_BUILTIN) + 1, h, beta, d_hh, d_hbeta, d_betabeta)
        return
    i = 0
    for kern in literal_unroll(KERNELS):
        if i == k:
            kern.second_rows(h, beta, d_hh, d_hbeta, d_betabeta)
        i += 1


# the generated rows functions inline the primitives; these inline nothing but call the generated ones
flush_stale_caches(_gen.__name__, KERNEL_SOURCES)
flush_stale_caches(__name__, KERNEL_SOURCES)
