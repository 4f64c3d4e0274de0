import os
import subprocess
import sys


def test_idle_threads_sleep_unless_the_user_says_otherwise():
    code = "import os, numerics._numba; print(os.environ['OMP_WAIT_POLICY'])"
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    run = lambda env: subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,  # noqa: E731
                                     check=True).stdout.strip()
    assert run(env) == "PASSIVE"
    assert run(dict(env, OMP_WAIT_POLICY="ACTIVE")) == "ACTIVE"


def test_cached_code_is_recompiled_when_a_dependency_changes(tmp_path):
    """numba checks only a cached function's own file; flush_stale_caches covers the files it calls into."""
    import textwrap

    (tmp_path / "dep.py").write_text("from numba import njit\n\n@njit(cache=True)\ndef g(x):\n    return x + 1.0\n")
    (tmp_path / "user.py").write_text(textwrap.dedent("""
        from pathlib import Path
        from numba import njit
        from dep import g
        from numerics._numba import flush_stale_caches

        @njit(cache=True)
        def f(x):
            return g(x) * 10.0

        flush_stale_caches(__name__, [__file__, str(Path(__file__).with_name("dep.py"))])
    """))
    run = lambda: subprocess.run([sys.executable, "-c", "import user; print(user.f(1.0))"], cwd=tmp_path,  # noqa: E731
                                 capture_output=True, text=True, check=True).stdout.strip()
    assert run() == "20.0"
    assert run() == "20.0"  # from the cache
    (tmp_path / "dep.py").write_text("from numba import njit\n\n@njit(cache=True)\ndef g(x):\n    return x + 2.0\n")
    assert run() == "30.0"
