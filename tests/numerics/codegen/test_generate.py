"""The committed files of numerics/_generated/ are what the theory generates now."""

import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from numerics import codegen


@pytest.mark.parametrize("name", codegen.GENERATORS)
def test_committed_file_is_a_fresh_generation(name):
    gen = importlib.import_module(name)
    assert gen.OUTPUT.read_text() == gen.generate(), f"run `python -m numerics.codegen` and commit {gen.OUTPUT.name}"


def test_check_reports_a_stale_file(tmp_path, monkeypatch, capsys):
    gen = importlib.import_module(codegen.GENERATORS[1])
    stale = tmp_path / gen.OUTPUT.name
    stale.write_text(gen.OUTPUT.read_text() + "# edited by hand\n")
    monkeypatch.setattr(gen, "OUTPUT", stale)
    monkeypatch.setattr(codegen, "GENERATORS", (codegen.GENERATORS[1],))  # the others are checked above
    assert codegen.main(["--check"]) == 1
    assert str(stale) in capsys.readouterr().out


# The README's add-an-activation recipe, step by step, in a copy of the packages.
RECIPE_NAME = "sigmoid2"
RECIPE_ENTRY = '    "sigmoid2": sigmoid(beta * h) ** 2,'


@pytest.mark.slow
def test_adding_an_activation_is_one_registry_entry_and_a_regeneration(tmp_path):
    root = Path(codegen.__file__).resolve().parents[2]
    for package in ("theory", "numerics", "verify", "meanfield"):
        shutil.copytree(root / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    # 1. one entry in theory.activations.REGISTRY
    registry = tmp_path / "theory" / "activations.py"
    text = registry.read_text()
    end = text.index("\n}\n", text.index("REGISTRY: dict[str, sp.Expr] = {"))
    registry.write_text(text[:end] + "\n" + RECIPE_ENTRY + text[end:])
    env = dict(os.environ, PYTHONPATH=str(tmp_path), MEANFIELD_CACHE=str(tmp_path / "cache"))

    def run(*args):
        return subprocess.run([sys.executable, "-m", *args], cwd=tmp_path, env=env, capture_output=True, text=True)

    # 2. regeneration
    regenerated = run("numerics.codegen")
    assert regenerated.returncode == 0, regenerated.stderr
    # 3. its verify rows: every kernel, derivative and fused row of the new activation passes
    verified = run("meanfield", "verify", "--activation", RECIPE_NAME, "--examples", "3")
    assert verified.returncode == 0, verified.stdout[-3000:] + verified.stderr[-3000:]
    for row in (f"kernel {RECIPE_NAME}.d_hbeta vs mpmath", f"kernel {RECIPE_NAME}.d_betabeta vs JAX",
                f"derivative {RECIPE_NAME}.d_hh vs mpmath.diff", f"fused {RECIPE_NAME}.second vs mpmath"):
        assert row in verified.stdout
