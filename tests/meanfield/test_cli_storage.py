"""`meanfield solve capacity|storage|teacher`, `meanfield simulate storage`, `meanfield derive storage`."""

import json
import math

import pytest

from meanfield.cli import main


def _json(capsys, argv):
    assert main(argv + ["--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_capacity(capsys):
    out = _json(capsys, ["solve", "capacity", "--kappa", "0"])
    assert out["alpha_c"] == 2.0 and out["weights"] == "spherical" and "alpha_rs" not in out
    out = _json(capsys, ["solve", "capacity", "--kappa", "-0.5"])
    assert 0 < out["alpha_at"] < out["alpha_c"]


def test_capacity_ising(capsys):
    out = _json(capsys, ["solve", "capacity", "--kappa", "0", "--weights", "ising"])
    assert out["alpha_c"] == pytest.approx(0.833078599, abs=1e-9)
    assert out["alpha_rs"] == pytest.approx(4 / math.pi, rel=1e-15)


def test_storage(capsys):
    out = _json(capsys, ["solve", "storage", "--alpha", "1.0", "--kappa", "0"])
    assert 0 < out["q"] < 1 and out["entropy"] < 0 and out["rs_stable"] is True
    out = _json(capsys, ["solve", "storage", "--alpha", "0.5", "--weights", "ising"])
    assert out["entropy"] > 0 and out["qhat"] > 0


def test_teacher(capsys):
    out = _json(capsys, ["solve", "teacher", "--alpha", "10"])
    assert out["error"] == pytest.approx(math.acos(out["R"]) / math.pi, rel=1e-12)


def test_text_output(capsys):
    assert main(["solve", "storage", "--alpha", "1.0"]) == 0
    text = capsys.readouterr().out
    assert "q " in text and "rs_stable" in text


def test_simulate(capsys):
    out = _json(capsys, ["simulate", "storage", "--n", "20", "--alpha", "1,3", "--trials", "20", "--seed", "4",
                         "--workers", "1"])
    assert out["p"] == [20, 60] and len(out["separable_fraction"]) == 2 and len(out["stderr"]) == 2
    assert out["separable_fraction"][0] == 1.0  # p <= n points in general position are always separable
    assert main(["simulate", "storage", "--n", "20", "--alpha", "1,3", "--trials", "5", "--workers", "1"]) == 0
    assert "separable_fraction" in capsys.readouterr().out


def test_derive(capsys):
    assert main(["derive", "storage"]) == 0
    text = capsys.readouterr().out
    assert "[saddle]" in text and "[capacity]" in text and "[ising_rs_capacity]" in text


@pytest.mark.parametrize("argv,match", [
    (["solve", "storage", "--alpha", "0"], "alpha"),
    (["solve", "storage", "--alpha", "-1"], "alpha"),
    (["solve", "storage", "--alpha", "2.5"], "capacity"),
    (["solve", "storage", "--alpha", "1", "--kappa", "nan"], "kappa"),
    (["solve", "storage", "--alpha", "one"], "--alpha"),
    (["solve", "capacity", "--kappa", "inf"], "kappa"),
    (["solve", "teacher", "--alpha", "0"], "alpha"),
    (["simulate", "storage", "--n", "1", "--alpha", "1", "--trials", "3"], "n"),
    (["simulate", "storage", "--n", "10", "--alpha", "1", "--trials", "0"], "trials"),
    (["simulate", "storage", "--n", "10", "--alpha", "1,x", "--trials", "3"], "--alpha"),
    (["simulate", "storage", "--n", "10", "--alpha", "1", "--trials", "3", "--kappa", "-1"], "kappa"),
    (["simulate", "storage", "--n", "ten", "--alpha", "1", "--trials", "3"], "--n"),
])
def test_bad_input_is_one_line_exit_2(capsys, argv, match):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and match in err and "Traceback" not in err


def test_nonconvergence_is_reported_as_one_line(capsys, monkeypatch):
    from numerics import storage as ns

    def fail(*args, **kwargs):
        raise ns.ConvergenceError("spherical saddle point at alpha=1.0, kappa=0.0: did not converge")

    monkeypatch.setattr(ns, "storage_saddle", fail)
    assert main(["solve", "storage", "--alpha", "1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "alpha=1.0" in err
