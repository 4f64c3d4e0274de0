import json

import pytest
import sympy as sp

from meanfield.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_derive_gate_json(capsys):
    code, out, err = run(capsys, "derive", "gate", "--json")
    assert code == 0
    data = json.loads(out)
    for key in ("partition_function", "mean_gate", "mean_signal", "gradient", "beta_gradient",
                "noiseless_limit", "noisy_series"):
        assert key in data
    h, beta = sp.Symbol("h"), sp.Symbol("beta")
    z = sp.sympify(data["partition_function"], locals={"h": h, "beta": beta})
    assert sp.simplify(z - (1 + sp.exp(beta * h))) == 0


def test_derive_text_and_latex(capsys):
    code, out, _ = run(capsys, "derive", "cross-entropy", "--latex")
    assert code == 0 and "\\log" in out
    code, out, _ = run(capsys, "derive", "noise")
    assert code == 0 and "minimax" in out


def test_unknown_topic_is_one_line_and_status_2(capsys):
    code, out, err = run(capsys, "derive", "gates")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "gates" in err and "gate" in err


def test_unknown_option_is_one_line_and_status_2(capsys):
    code, _, err = run(capsys, "derive", "--jsn")
    assert code == 2 and err.count("\n") == 1


def test_verify_json_and_table(capsys):
    code, out, _ = run(capsys, "verify", "--only", "kernel esp.value", "--examples", "5", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["passed"] and {c["check"] for c in data["checks"]} == {"kernel esp.value vs mpmath", "kernel esp.value vs JAX"}
    code, out, _ = run(capsys, "verify", "--only", "gate: ESP -> ReLU", "--examples", "3")
    assert code == 0 and "pass" in out and "1 passed, 0 failed" in out


def test_verify_exit_status_1_when_a_check_fails(capsys, monkeypatch):
    from hypothesis import strategies as st

    import verify.registry as registry
    from verify import Check

    failing = Check("always fails", "none", 0.0, lambda: st.just(1), lambda ex: 1.0)
    monkeypatch.setattr(registry, "all_checks", lambda pattern=None: [failing])
    code, out, _ = run(capsys, "verify")
    assert code == 1 and "FAIL" in out


@pytest.mark.parametrize("argv", [["verify", "--examples", "0"], ["verify", "--only", "no such check"]])
def test_verify_bad_input(capsys, argv):
    code, _, err = run(capsys, *argv)
    assert code == 2 and err.count("\n") == 1
