"""`meanfield activation add|list|show|remove`, and a registered activation through train, resume and hessian."""

import json
import os
import subprocess
import sys

import pytest

from meanfield.cli import main
from numerics.kernels.activations import NAMES, unregister_activation


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MEANFIELD_CACHE", str(tmp_path / "cache"))
    yield tmp_path / "cache"
    for name in ("c_gelu",):
        if name in NAMES:
            unregister_activation(name)


def test_add_list_show_remove(capsys, cache):
    code, out, err = run(capsys, "activation", "add", "c_gelu", "h*(1 + erf(beta*h/sqrt(2)))/2", "--no-check")
    assert code == 0, err
    assert "registered c_gelu" in out
    assert json.loads((cache / "activations.json").read_text()) == {"c_gelu": "h*(erf(sqrt(2)*beta*h/2) + 1)/2"}
    code, out, err = run(capsys, "activation", "list")
    assert code == 0 and "esp " in out and "c_gelu       registered  h*(erf(sqrt(2)*beta*h/2) + 1)/2" in out
    code, out, err = run(capsys, "activation", "show", "c_gelu")
    assert code == 0 and out.startswith("value: h*Phi(beta*h)") and "d_betabeta:" in out
    code, out, err = run(capsys, "activation", "show", "c_gelu", "--latex")
    assert code == 0 and ("\\Phi" in out or "\\operatorname{Phi}" in out)
    code, out, err = run(capsys, "activation", "remove", "c_gelu")
    assert code == 0 and "c_gelu" not in NAMES
    assert json.loads((cache / "activations.json").read_text()) == {}


def test_verify_rows_of_a_registered_activation(capsys, cache):
    assert run(capsys, "activation", "add", "c_gelu", "h*Phi(beta*h)", "--no-check")[0] == 0
    code, out, err = run(capsys, "verify", "--activation", "c_gelu", "--only", "d_hbeta vs", "--examples", "2", "--json")
    assert code == 0, err
    rows = {r["check"]: r for r in json.loads(out)["checks"]}
    assert set(rows) == {"kernel c_gelu.d_hbeta vs mpmath", "kernel c_gelu.d_hbeta vs JAX",
                         "derivative c_gelu.d_hbeta vs mpmath.diff"}
    assert all(r["passed"] and r["worst_error"] <= 1e-13 for r in rows.values())
    code, out, err = run(capsys, "verify", "--activation", "c_none")
    assert code == 2 and "not known" in err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["activation", "add", "c_bad", '__import__("os").system("true")'], "not allowed"),
        (["activation", "add", "c_bad", "h.real"], "not allowed"),
        (["activation", "add", "c_bad", "h*y"], "the name 'y' is not allowed"),
        (["activation", "add", "esp", "h"], "built-in"),
        (["activation", "add", "C", "h"], "activation name"),
        (["activation", "remove", "c_none"], "not registered"),
        (["activation", "show", "c_none"], "not known"),
    ],
)
def test_refusals_are_one_line_and_status_2(capsys, cache, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert "c_bad" not in NAMES and not (cache / "activations.json").exists()


@pytest.mark.slow
def test_a_run_trained_with_a_registered_activation_resumes_and_gives_a_hessian_elsewhere(capsys, cache, tmp_path):
    code, out, err = run(capsys, "activation", "add", "c_gelu", "h*Phi(beta*h)", "--no-check")
    assert code == 0, err
    run_dir = tmp_path / "run"
    code, out, err = run(capsys, "train", "--arch", "2-4-1", "--act", "c_gelu", "--data", "linear", "--epochs", 5,
                         "--out", run_dir, "--json")
    assert code == 0, err
    config = json.loads((run_dir / "config.json").read_text())
    assert config["activations"] == {"c_gelu": "h*Phi(beta*h)"}
    # another machine: an empty cache, no registration
    env = dict(os.environ, MEANFIELD_CACHE=str(tmp_path / "other"), PYTHONPATH=os.getcwd())
    for argv in (["train", "--arch", "2-4-1", "--act", "c_gelu", "--data", "linear", "--epochs", "8", "--out", str(run_dir),
                  "--resume", "--json"], ["hessian", str(run_dir), "--json"]):
        done = subprocess.run([sys.executable, "-m", "meanfield", *argv], env=env, capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, done.stderr
    assert not (tmp_path / "other" / "activations.json").exists()
