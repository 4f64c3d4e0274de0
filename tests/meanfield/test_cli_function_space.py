"""`meanfield solve overlap|max-entropy|generalization|majority|propagation`, `simulate overlap|majority`."""

import json
import math
import re

import pytest

from meanfield.cli import main


def _json(capsys, argv):
    assert main(argv + ["--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_solve_overlap_arcsine(capsys):
    out = _json(capsys, ["solve", "overlap", "--perturb", "0.6,0.8"])
    q1 = 2 / math.pi * math.asin(0.8)  # Eq. 8, eta = 0.6
    q2 = 2 / math.pi * math.asin(0.6 * q1)
    assert out["q"] == pytest.approx([q1, q2], rel=1e-14)
    assert out["error"] == pytest.approx((1 - q2) / 2, rel=1e-14)


def test_solve_overlap_binary_finite_beta_and_activation(capsys):
    out = _json(capsys, ["solve", "overlap", "--weights", "binary", "--perturb", "0.1", "--beta", "1e-4"])
    assert out["q"][0] == pytest.approx(1e-8 * 0.8, rel=1e-6)  # beta -> 0: q = beta^2 (1 - 2p)
    out = _json(capsys, ["solve", "overlap", "--perturb", "0.6", "--activation", "relu"])
    rho = 0.8
    assert out["q"][0] == pytest.approx((math.sqrt(1 - rho * rho) + (math.pi - math.acos(rho)) * rho) / math.pi, rel=1e-9)


def test_solve_max_entropy(capsys):
    out = _json(capsys, ["solve", "max-entropy", "--weights", "binary", "--layers", "4", "--error", "0.45"])
    assert out["perturbation"][0] == 0.0 and all(v > 0 for v in out["perturbation"][1:])
    assert out["log_perturbation"][0] is None  # log 0
    assert out["error_per_layer"][-1] == pytest.approx(0.45, rel=1e-12)


def test_solve_generalization(capsys):
    out = _json(capsys, ["solve", "generalization", "--layers", "2", "--alpha", "1e4"])
    K = 3 / 2
    assert out["error"] == pytest.approx(K / (1e4 + K), rel=1e-6)


def test_solve_majority(capsys):
    out = _json(capsys, ["solve", "majority", "--k", "3", "--p", "0.1", "--layers", "3"])
    assert out["p_c"] == pytest.approx(1 / 6, rel=1e-15)
    assert out["m"] == pytest.approx(math.sqrt(0.4 / 0.8**3), rel=1e-13)
    assert len(out["q_per_layer"]) == 4 and out["q_per_layer"][0] == 1.0


def test_solve_propagation(capsys):
    out = _json(capsys, ["solve", "propagation", "--activation", "relu", "--sigma-b", "0.3"])
    assert out["sigma_w"] == pytest.approx(math.sqrt(2), rel=1e-9)
    assert out["q_star"] is None and out["beyond"] == "divergent"


def test_simulate_overlap_and_majority(capsys):
    out = _json(capsys, ["simulate", "overlap", "--perturb", "0.5", "--width", "200", "--inputs", "20", "--replicas", "4", "--seed", "3"])
    assert len(out["q"]) == 1 and abs(out["q"][0] - 2 / math.pi * math.asin(math.sqrt(0.75))) < 5 * out["stderr"][0]
    out = _json(capsys, ["simulate", "majority", "--k", "3", "--p", "0.1", "--layers", "2", "--width", "20000", "--replicas", "3"])
    assert len(out["m"]) == 3


def test_text_output(capsys):
    assert main(["solve", "overlap", "--perturb", "0.5"]) == 0
    assert capsys.readouterr().out.startswith("q ")


@pytest.mark.parametrize(
    "argv, match",
    [
        (["solve", "overlap", "--perturb", "0.3,1.5"], "eta must lie in [0, 1]"),
        (["solve", "overlap", "--weights", "binary", "--perturb", "0.7"], "p must lie in [0, 0.5]"),
        (["solve", "overlap", "--perturb", "0.3,x"], "--perturb must be a comma-separated list"),
        (["solve", "overlap", "--perturb", "0.3", "--beta", "0"], "beta must be"),
        (["solve", "overlap", "--perturb", "0.3", "--activation", "softsign"], "not known"),
        (["solve", "max-entropy", "--layers", "0", "--error", "0.1"], "layers must be an integer in [1, 64]"),
        (["solve", "max-entropy", "--layers", "3", "--error", "0.7"], "open interval (0, 0.5)"),
        (["solve", "majority", "--k", "4", "--p", "0.1"], "odd integer in [3, 1001]"),
        (["solve", "majority", "--k", "1", "--p", "0.1"], "odd integer in [3, 1001]"),
        (["solve", "propagation", "--activation", "relu", "--sigma-b", "0.1", "--beta", "-1"], "beta must be"),
        (["solve", "overlap", "--weights", "ternary", "--perturb", "0.1"], "invalid choice"),
    ],
)
def test_bad_input_is_one_line_exit_2(capsys, argv, match):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert match in err and err.count("\n") == 1


# Fault table: (command line, option, bad value, pattern of the one-line message); exit status 2 before any
# work or allocation. Each numeric option gets nan, inf, 1e400 (inf after parsing), -1, 0 and a huge value
# where they are out of range; sizes beyond memory or work are refused naming the size.
BASE = {
    "overlap": ["solve", "overlap", "--perturb", "0.3"],
    "max-entropy": ["solve", "max-entropy", "--layers", "3", "--error", "0.1"],
    "generalization": ["solve", "generalization", "--layers", "3", "--alpha", "10"],
    "majority": ["solve", "majority", "--k", "3", "--p", "0.1"],
    "majority-layers": ["solve", "majority", "--k", "3", "--p", "0.1", "--layers", "2"],
    "sim-overlap": ["simulate", "overlap", "--perturb", "0.3", "--width", "20", "--inputs", "4"],
    "sim-majority": ["simulate", "majority", "--k", "3", "--p", "0.1", "--layers", "2", "--width", "100"],
}
INT = r"invalid int value"
FAULTS = [
    ("overlap", "--perturb", ["nan", "inf", "1e400", "-1", "1e300"], r"eta must lie in \[0, 1\]"),
    ("overlap", "--beta", ["nan", "inf", "1e400", "-1", "0"], r"beta must be a finite number > 0"),
    ("overlap", "--sigma", ["nan", "inf", "1e400", "-1", "0"], r"sigma must be a finite number > 0"),
    ("max-entropy", "--layers", ["0", "-1"], r"layers must be an integer in \[1, 64\]"),
    ("max-entropy", "--layers", ["100000", "1000000000"], r"layers must be an integer in \[1, 64\]"),
    ("max-entropy", "--layers", ["nan", "inf", "1e400"], INT),
    ("max-entropy", "--error", ["nan", "inf", "1e400", "-1", "0", "1e300"], r"error must lie in the open interval"),
    ("generalization", "--layers", ["0", "-1", "10000"], r"layers must be an integer in \[1, 16\]"),
    ("generalization", "--layers", ["nan", "inf", "1e400"], INT),
    ("generalization", "--alpha", ["nan", "inf", "1e400", "-1", "0"], r"alpha must be finite numbers > 0"),
    ("majority", "--k", ["0", "-1", "1000001"], r"k must be an odd integer in \[3, 1001\]"),
    ("majority", "--k", ["nan", "inf", "1e400"], INT),
    ("majority", "--p", ["nan", "inf", "1e400", "-1", "1e300"], r"p must lie in \[0, 0.5\]"),
    ("majority-layers", "--layers", ["0", "-1"], r"layers must be an integer >= 1"),
    ("majority-layers", "--layers", ["100000000"], r"layers = 100000000 at k = 3 needs .* operations"),
    ("majority-layers", "--m0", ["nan", "inf", "1e400", "-2", "1e300"], r"m0 must lie in \[-1, 1\]"),
    ("sim-overlap", "--width", ["0", "-1"], r"width must be an integer >= 2"),
    ("sim-overlap", "--width", ["10000000"], r"width N = 10000000 .* needs [0-9.e+]+ GiB"),
    ("sim-overlap", "--inputs", ["0", "-1"], r"inputs must be an integer >= 1"),
    ("sim-overlap", "--inputs", ["1000000000000"], r"needs [0-9.e+]+ (GiB|multiply-adds)"),
    ("sim-overlap", "--replicas", ["0", "-1"], r"replicas must be an integer >= 1"),
    ("sim-overlap", "--replicas", ["1000000000000"], r"needs [0-9.e+]+ multiply-adds"),
    ("sim-overlap", "--workers", ["0", "-1"], r"workers must be an integer >= 1"),
    ("sim-overlap", "--sigma", ["nan", "inf", "-1", "0"], r"sigma must be a finite number > 0"),
    ("sim-overlap", "--width", ["nan", "inf", "1e400"], INT),
    ("sim-majority", "--width", ["1000000000"], r"width N = 1000000000 with k = 3 .* needs [0-9.e+]+ GiB"),
    ("sim-majority", "--layers", ["0", "-1"], r"layers must be an integer >= 1"),
    ("sim-majority", "--layers", ["1000000000000"], r"needs [0-9.e+]+ multiply-adds"),
    ("sim-majority", "--k", ["1000001"], r"k must be an odd integer in \[3, 1001\]"),
    ("sim-majority", "--p", ["nan", "inf", "-1"], r"p must lie in \[0, 0.5\]"),
]
FAULT_CASES = [(cmd, opt, v, pat) for cmd, opt, values, pat in FAULTS for v in values]


def _with(argv, option, value):
    """argv with ``option=value`` (attached, so that a value starting with '-' is not read as an option)."""
    out = list(argv)
    if option in out:
        i = out.index(option)
        del out[i : i + 2]
    return out + [f"{option}={value}"]


@pytest.mark.parametrize("cmd, option, value, pattern", FAULT_CASES, ids=[f"{c}{o}={v}" for c, o, v, _ in FAULT_CASES])
def test_fault_table(capsys, cmd, option, value, pattern):
    assert main(_with(BASE[cmd], option, value)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert re.search(pattern, err), err
