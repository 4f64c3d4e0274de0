"""`meanfield spectrum` and `meanfield kernel`."""

import json

import numpy as np
import pytest

from meanfield.cli import main


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_spectrum_of_an_npy_matrix(capsys, tmp_path):
    path = tmp_path / "H.npy"
    np.save(path, np.diag([-1.0, 0.0, 2.0, 3.0]))
    code, out, err = run(capsys, "spectrum", path, "--json")
    assert code == 0, err
    d = json.loads(out)
    assert d["method"] == "dense" and d["alpha"]["exact"] == 0.25 and d["gamma"]["exact"] == 0.25
    assert d["trace"] == 4.0
    code, out, err = run(capsys, "spectrum", path)
    assert code == 0 and "alpha exact" in out


def test_spectrum_of_a_training_run(capsys, tmp_path):
    out_dir = tmp_path / "run"
    assert main(["train", "--arch", "2-3-1", "--act", "relu", "--data", "linear", "--epochs", "20",
                 "--checkpoint-every", "10", "--out", str(out_dir)]) == 0
    capsys.readouterr()
    code, out, err = run(capsys, "spectrum", out_dir, "--json", "--epoch", "10")
    assert code == 0, err
    d = json.loads(out)
    assert d["epoch"] == 10 and set(d["blocks"]) == {"W1", "b1", "W2", "b2"}
    assert sum(b["trace"] for b in d["blocks"].values()) == pytest.approx(d["trace"], rel=1e-12)


@pytest.mark.parametrize("argv, match", [
    (["spectrum", "nowhere.npy"], "does not exist"),
    (["spectrum", "file.txt"], "run directory or an .npy"),
    (["spectrum", "H.npy", "--probes", "1"], "probes"),
])
def test_spectrum_bad_input_is_one_line(capsys, tmp_path, monkeypatch, argv, match):
    monkeypatch.chdir(tmp_path)
    np.save(tmp_path / "H.npy", np.eye(3))
    code, out, err = run(capsys, *argv)
    assert code == 2 and match in err and len(err.strip().splitlines()) == 1


def test_kernel_writes_the_nngp_and_refuses_to_overwrite(capsys, tmp_path):
    X = np.random.default_rng(0).standard_normal((5, 3))
    np.save(tmp_path / "X.npy", X)
    out = tmp_path / "K.npy"
    args = ["kernel", "--data", tmp_path / "X.npy", "--act", "relu", "--depth", "2", "--sigma-w", "1.4",
            "--sigma-b", "0.1", "--out", out]
    code, _, err = run(capsys, *args)
    assert code == 0, err
    from numerics import nngp, ntk

    np.testing.assert_array_equal(np.load(out), nngp(X, depth=2, activation="relu", sigma_w=1.4, sigma_b=0.1))
    code, _, err = run(capsys, *args, "--ntk")
    assert code == 2 and "--force" in err
    code, _, err = run(capsys, *args, "--ntk", "--force")
    assert code == 0, err
    np.testing.assert_array_equal(np.load(out), ntk(X, depth=2, activation="relu", sigma_w=1.4, sigma_b=0.1))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["K.npy", "X.npy"]  # no temporary left


@pytest.mark.parametrize("extra, match", [
    (["--act", "gelu"], "activation"), (["--depth", "-1"], "depth"), (["--out", "K.txt"], ".npy"),
])
def test_kernel_bad_input_is_one_line(capsys, tmp_path, monkeypatch, extra, match):
    monkeypatch.chdir(tmp_path)
    np.savetxt(tmp_path / "X.csv", np.ones((3, 2)), delimiter=",")
    base = {"--data": "X.csv", "--act": "relu", "--depth": "1", "--sigma-w": "1", "--sigma-b": "0", "--out": "K.npy"}
    for key, value in zip(extra[::2], extra[1::2]):
        base[key] = value
    code, _, err = run(capsys, "kernel", *[x for kv in base.items() for x in kv])
    assert code == 2 and match in err and len(err.strip().splitlines()) == 1
