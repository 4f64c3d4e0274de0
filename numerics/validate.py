"""Argument checks for the public boundary (Python API and CLI).

Each check returns the value in its canonical type (``int``, ``float``,
float64 array) or raises ``TypeError`` (wrong kind of value) or
``ValueError`` (right kind, outside the allowed range), with a one-line
message ``"<name> must be <allowed>, got <value>"`` that names the argument
as the caller spells it (``beta`` in the API, ``--beta`` in the CLI).
``expected`` replaces the generated description of what is allowed.
Kernels stay check-free; they are called only with checked values.
"""

from __future__ import annotations

import math
import os

import numpy as np

SEED_LIMIT = 2**32  # numpy.random.RandomState and SeedSequence entropy accept [0, 2**32)


def _is_real(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def _show(value) -> str:
    return repr(value.item() if isinstance(value, np.generic) else value)


def _bound(x) -> str:
    return str(x) if isinstance(x, (int, np.integer)) else f"{x:g}"


def _interval(low, high, open_low: bool = False, open_high: bool = False) -> str:
    if low is None and high is None:
        return ""
    if high is None:
        return f" {'>' if open_low else '>='} {_bound(low)}"
    if low is None:
        return f" {'<' if open_high else '<='} {_bound(high)}"
    return f" in {'(' if open_low else '['}{_bound(low)}, {_bound(high)}{')' if open_high else ']'}"


def _inside(x, low, high, open_low: bool, open_high: bool) -> bool:
    above = low is None or (x > low if open_low else x >= low)
    below = high is None or (x < high if open_high else x <= high)
    return above and below


def integer(name: str, value, *, low: int | None = None, high: int | None = None, open_high: bool = False,
            expected: str | None = None) -> int:
    """``value`` as an int in [low, high] (``open_high``: [low, high)); integral floats (4.0) count as integers."""
    expected = expected or "an integer" + _interval(low, high, open_high=open_high)
    if not _is_real(value):
        raise TypeError(f"{name} must be {expected}, got {_show(value)}")
    if not (math.isfinite(value) and int(value) == value and _inside(value, low, high, False, open_high)):
        raise ValueError(f"{name} must be {expected}, got {_show(value)}")
    return int(value)


def seed(name: str, value) -> int:
    """A root seed: an integer in [0, 2**32)."""
    return integer(name, value, low=0, high=SEED_LIMIT, open_high=True, expected="an integer in [0, 2**32)")


def real(name: str, value, *, low: float | None = None, high: float | None = None, open_low: bool = False,
         open_high: bool = False, expected: str | None = None) -> float:
    """``value`` as a finite float in the interval from ``low`` to ``high`` (closed unless ``open_*``)."""
    expected = expected or "a finite number" + _interval(low, high, open_low, open_high)
    if not _is_real(value):
        raise TypeError(f"{name} must be {expected}, got {_show(value)}")
    if not (math.isfinite(value) and _inside(value, low, high, open_low, open_high)):
        raise ValueError(f"{name} must be {expected}, got {_show(value)}")
    return float(value)


def real_array(name: str, value, *, ndim: int | None = None, expected: str | None = None) -> np.ndarray:
    """``value`` as a finite float64 array (of ``ndim`` dimensions, none of them empty, when given)."""
    arr = np.asarray(value)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a real array, got dtype {arr.dtype}")
    arr = arr.astype(np.float64, copy=False)
    if ndim is not None and (arr.ndim != ndim or 0 in arr.shape):
        raise ValueError(f"{name} must be {expected or f'a non-empty {ndim}-D array'}, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite")
    return arr


def choice(name: str, value, allowed) -> object:
    """One of a fixed set of options."""
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(str, allowed))}, got {_show(value)}")
    return value


def known(what: str, value, names) -> str:
    """A name looked up in a registry (activations, topics, policies): ``"<what> 'x' is not known; known: ..."``."""
    if value not in names:
        raise ValueError(f"{what} {_show(value)} is not known; known: {', '.join(names)}")
    return value


def optional(check, name: str, value, **limits):
    """None, or ``check(name, value, **limits)``: for arguments whose None means a documented default."""
    return None if value is None else check(name, value, **limits)


MAX_WORK = 1e17  # floating-point operations one command may plan: more than a day even on many cores


def memory_limit() -> int:
    """Ceiling for one command's arrays: half of the physical memory (``MEANFIELD_MAX_BYTES`` overrides)."""
    env = os.environ.get("MEANFIELD_MAX_BYTES")
    if env:
        return int(float(env))
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2


def check_size(what: str, needed_bytes: float, work: float = 0.0, max_bytes: int | None = None) -> None:
    """ValueError naming ``what`` (e.g. ``"--arch 2-1000000000-1"``) when its memory or work is beyond the limits.

    Called before anything is allocated, with estimates of the bytes held at
    once and of the floating-point operations of the whole command.
    """
    limit = memory_limit() if max_bytes is None else max_bytes
    if not needed_bytes <= limit:
        raise ValueError(f"{what} needs about {needed_bytes / 1e9:.3g} GB of memory, more than the limit of "
                         f"{limit / 1e9:.3g} GB (half the RAM; MEANFIELD_MAX_BYTES sets it): choose a smaller size")
    if not work <= MAX_WORK:
        raise ValueError(f"{what} needs about {work:.3g} floating-point operations, more than the limit of "
                         f"{MAX_WORK:.0e} (more than a day even on many cores): choose a smaller size")
