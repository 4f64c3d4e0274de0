"""`meanfield solve capacity|storage|teacher`, `meanfield simulate storage`, `meanfield derive storage`."""

import json
import math
import re

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


def test_capacity_negative_kappa_branches(capsys):
    out = _json(capsys, ["solve", "capacity", "--kappa", "-1"])
    assert out["alpha_first_order"] is None and out["alpha_spinodals"] is None  # unique RS root
    assert out["alpha_at"] == out["alpha_unstable"] < out["alpha_c"]
    out = _json(capsys, ["solve", "capacity", "--kappa", "-5"])
    assert out["alpha_at"] is None  # the branch reaching alpha_c is unstable throughout: no crossing
    assert out["alpha_unstable"] == out["alpha_first_order"] < out["alpha_c"]
    lower, upper = out["alpha_spinodals"]
    assert lower < out["alpha_first_order"] < upper
    out = _json(capsys, ["solve", "capacity", "--kappa", "-30"])
    assert out["alpha_c"] == pytest.approx(9.2219233853786e199, rel=1e-12) and "note" in out


def test_storage_reports_every_branch(capsys):
    out = _json(capsys, ["solve", "storage", "--alpha", "30000", "--kappa", "-3.5"])
    qs = [b["q"] for b in out["branches"]]
    assert len(qs) == 3 and qs == sorted(qs) and out["q"] in (qs[0], qs[2])
    selected = next(b for b in out["branches"] if b["q"] == out["q"])
    assert selected["entropy"] == out["entropy"] and selected["replicon"] == out["replicon"]


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


# Faults: huge, non-finite and out-of-range parameters. Each is refused before any work, with one line on
# stderr naming the option or the quantity and its valid range, exit status 2, no traceback, no "inf" range.
FAULTS = [
    (["solve", "capacity", "--kappa", "1e155"], r"kappa must be in \[-37.38, 1e\+100\]"),
    (["solve", "capacity", "--kappa=-1e300"], r"kappa must be in \[-37.38, 1e\+100\]"),
    (["solve", "capacity", "--kappa=-37.5"], r"kappa must be in \[-37.38"),
    (["solve", "capacity", "--kappa", "1e400"], r"kappa must be a finite number"),
    (["solve", "capacity", "--kappa", "nan"], r"kappa must be a finite number"),
    (["solve", "capacity", "--kappa", "1e200", "--weights", "ising"], r"kappa must be in \[-10, 1e\+100\]"),
    (["solve", "storage", "--alpha", "1", "--kappa", "1e200"], r"kappa must be in \[-10, 1e\+100\]"),
    (["solve", "storage", "--alpha", "1", "--kappa=-11"], r"kappa must be in \[-10, 1e\+100\]"),
    (["solve", "storage", "--alpha", "1e400"], r"alpha must be a finite number > 0"),
    (["solve", "storage", "--alpha", "1e300", "--kappa=-3"], r"at or above the spherical RS capacity"),
    (["solve", "teacher", "--alpha", "nan"], r"alpha must be a finite number > 0"),
    (["simulate", "storage", "--n", "1000000", "--alpha", "2", "--trials", "1"], r"n=1000000 with 2000000 patterns"),
    (["simulate", "storage", "--n", "100000", "--alpha", "0.5", "--trials", "1"], r"GiB per instance"),
    (["simulate", "storage", "--n", "1000", "--alpha", "2", "--trials", "100000000"], r"multiply-adds"),
    (["simulate", "storage", "--n", "10", "--alpha", "1e400", "--trials", "1"], r"alpha must be a finite number"),
    (["simulate", "storage", "--n", "10", "--alpha", "1", "--trials", "1", "--kappa", "inf"], r"kappa must be"),
    (["solve", "propagation", "--activation", "relu", "--sigma-b", "1e300"], r"sigma_b must be a number in \[0, 1e\+12\]"),
    (["solve", "propagation", "--activation", "relu", "--sigma-b", "nan"], r"sigma_b must be a number in"),
    (["solve", "propagation", "--activation", "relu", "--sigma-b", "1", "--q0", "1e300"], r"q0 must be a number in"),
]


@pytest.mark.parametrize("argv,pattern", FAULTS, ids=lambda v: " ".join(v) if isinstance(v, list) else None)
def test_fault_table(capsys, argv, pattern):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and re.search(pattern, err) and "Traceback" not in err
    assert not re.search(r"[\[(]-?inf|-?inf[\])]", err)  # ranges are stated with finite ends


def test_propagation_divergent_edge_is_null(capsys):
    out = _json(capsys, ["solve", "propagation", "--activation", "esp", "--beta", "1e-300", "--sigma-b", "0.5"])
    assert out["beyond"] == "divergent" and out["q_star"] is None
    assert out["sigma_w"] == pytest.approx(2.0, rel=1e-9)


def test_nonconvergence_is_reported_as_one_line(capsys, monkeypatch):
    from numerics.solvers import storage as ns

    def fail(*args, **kwargs):
        raise ns.ConvergenceError("spherical saddle point at alpha=1.0, kappa=0.0: did not converge")

    monkeypatch.setattr(ns, "storage_saddle", fail)
    assert main(["solve", "storage", "--alpha", "1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "alpha=1.0" in err
