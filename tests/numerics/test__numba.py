import os
import subprocess
import sys


def test_idle_threads_sleep_unless_the_user_says_otherwise():
    code = "import os, numerics._numba; print(os.environ['OMP_WAIT_POLICY'])"
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    run = lambda env: subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
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
    run = lambda: subprocess.run([sys.executable, "-c", "import user; print(user.f(1.0))"], cwd=tmp_path,
                                 capture_output=True, text=True, check=True).stdout.strip()
    assert run() == "20.0"
    assert run() == "20.0"  # from the cache
    (tmp_path / "dep.py").write_text("from numba import njit\n\n@njit(cache=True)\ndef g(x):\n    return x + 2.0\n")
    assert run() == "30.0"


def test_every_file_compiled_into_a_cached_kernel_revalidates_it():
    """Each module's SOURCES (the digest flush_stale_caches checks) lists the file of every jitted function it
    calls (the dispatchers in its namespace, its own and imported ones)."""
    import importlib
    from pathlib import Path

    from numba.core.registry import CPUDispatcher

    for module in map(importlib.import_module, ("numerics.mlp.engine", "numerics.mlp.network", "numerics.mlp.hessian",
                                                "numerics.mlp.train")):
        files = {str(Path(f).resolve()) for f in module.SOURCES}
        for name, value in vars(module).items():
            if isinstance(value, CPUDispatcher):
                source = str(Path(sys.modules[value.py_func.__module__].__file__).resolve())
                assert source in files, f"{module.__name__}.{name} compiles in {source}, missing from SOURCES"


def test_training_and_hessian_share_one_engine_without_a_cycle():
    """hessian.py imports the engine, not network.py (no import cycle), and neither imports private names."""
    import ast
    from pathlib import Path

    import numerics

    root = Path(numerics.__file__).parent / "mlp"
    for name in ("network.py", "hessian.py", "train.py"):
        tree = ast.parse((root / name).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("numerics"):
                assert not any(a.name.startswith("_") and node.module != "numerics._numba" for a in node.names), \
                    f"{name} imports private names from {node.module}"
    hessian_tree = ast.parse((root / "hessian.py").read_text())
    top_level = [n for n in hessian_tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    assert not any(isinstance(n, ast.ImportFrom) and n.module == "numerics.mlp.network" for n in top_level)
