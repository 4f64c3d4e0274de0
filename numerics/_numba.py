"""numba set-up shared by the numerics modules: idle-thread policy, BLAS threads, cache revalidation.

Importing this module sets, unless the user set them, OMP_WAIT_POLICY=PASSIVE
and GOMP_SPINCOUNT=30000: an idle OpenMP (libgomp) thread spins about 0.1-0.3 ms
before it sleeps, so back-to-back parallel calls (one per training epoch) find
it awake, and it sleeps at once when the process has more threads than cores.
Spinning without limit steals the cores the working threads need on a shared
or oversubscribed machine (measured: 4-15x slower epochs); sleeping at once
makes every epoch pay a wake-up (measured: 2.3x slower than serial at 690
samples). It must happen before numba loads the OpenMP runtime (at the first
parallel call), so every module with parallel kernels imports this one first.
"""

import ctypes
import hashlib
import os
import sys
from contextlib import contextmanager
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("GOMP_SPINCOUNT", "30000")

_HERE = Path(__file__).parent
# The files whose code is compiled into every function that calls the activation kernels.
KERNEL_SOURCES = tuple(str(p) for p in (
    _HERE / "kernels" / "_primitives.py", _HERE / "_generated" / "activations.py", _HERE / "kernels" / "activations.py",
))


_BLAS = []


def _blas_library():
    """The OpenBLAS that numba's ``np.dot`` calls (scipy's, through scipy.linalg.cython_blas), as
    (get_num_threads, set_num_threads); None where it cannot be found (another BLAS: left alone)."""
    if not _BLAS:
        found = None
        try:
            import scipy

            for path in sorted((Path(scipy.__file__).parent.parent / "scipy.libs").glob("*openblas*")):
                lib = ctypes.CDLL(str(path))
                for prefix in ("scipy_openblas", "openblas"):
                    if hasattr(lib, f"{prefix}_get_num_threads") and hasattr(lib, f"{prefix}_set_num_threads"):
                        found = (getattr(lib, f"{prefix}_get_num_threads"), getattr(lib, f"{prefix}_set_num_threads"))
                        found[1].argtypes = [ctypes.c_int]
                        break
                if found:
                    break
        except (ImportError, OSError):
            found = None
        _BLAS.append(found)
    return _BLAS[0]


def blas_threads() -> int:
    """Threads of the BLAS behind numba's ``np.dot`` (1 where it cannot be told)."""
    lib = _blas_library()
    return int(lib[0]()) if lib else 1


@contextmanager
def using_blas_threads(n: int, needed: bool = True):
    """Run the block with the BLAS behind numba's ``np.dot`` on ``n`` threads (then restore the count); a no-op
    unless ``needed`` (code without BLAS calls: each change of the count can wake OpenBLAS's idle threads,
    measured to slow a busy 2-core machine's epochs by up to 2x when done per call)."""
    lib = _blas_library() if needed else None
    if lib is None:
        yield
        return
    before = int(lib[0]())
    if before == n:
        yield
        return
    lib[1](int(n))
    try:
        yield
    finally:
        lib[1](before)


def machine_busy() -> bool:
    """Whether the machine has no idle core (1-minute load average >= cores): a second thread then waits for a
    core at every parallel region (measured on a shared 2-core machine at load 10: 1.1-2x slower training
    epochs, 6x slower 2-8-2-1 Hessians)."""
    try:
        return os.getloadavg()[0] >= len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return False


def flush_stale_caches(module_name: str, sources) -> None:
    """Empty the numba caches of ``module_name``'s jitted functions when any file in ``sources`` changed.

    numba revalidates a cached function against its own source file only,
    while these functions carry compiled-in code from other files (the
    generated kernels, the block kernels); a digest of all of them decides.
    """
    from numba.core.registry import CPUDispatcher

    module = sys.modules[module_name]
    dispatchers = [v for v in vars(module).values()
                   if isinstance(v, CPUDispatcher) and v.py_func.__module__ == module_name and v._cache.cache_path]
    try:
        digest = hashlib.sha256(b"".join(Path(f).read_bytes() for f in sources)).hexdigest()[:20]
        stamp = Path(dispatchers[0]._cache.cache_path) / f"{module_name}.deps-{digest}.stamp"
        if stamp.exists():
            return
        for dispatcher in dispatchers:
            dispatcher._cache.flush()
        stamp.parent.mkdir(parents=True, exist_ok=True)
        for old in stamp.parent.glob(f"{module_name}.deps-*.stamp"):
            old.unlink(missing_ok=True)
        stamp.touch()
    except OSError:  # an unwritable cache: numba compiles afresh in every process anyway
        pass
