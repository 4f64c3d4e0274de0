import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from meanfield.cli import main
from numerics.mlp import data

PAPER = data.paper_data_dir()


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def params(path):
    with np.load(path / "params.npz") as npz:
        return {k: npz[k] for k in npz.files}


def test_json_summary_and_run_directory(capsys, tmp_path):
    out_dir = tmp_path / "run"
    code, out, err = run(capsys, "train", "--arch", "2-6-1", "--act", "esp", "--data", "linear", "--test-size", "0.25",
                         "--epochs", 40, "--out", out_dir, "--json")
    assert code == 0, err
    summary = json.loads(out)
    for key in ("train_loss", "train_accuracy", "test_accuracy", "test_loss"):
        assert isinstance(summary[key], float)
    assert (summary["n_train"], summary["n_test"]) == (38, 13)
    config = json.loads((out_dir / "config.json").read_text())
    assert config["meanfield_version"] and config["run"]["epochs"] == 40 and config["network"]["hidden"] == ["esp"]
    assert config["run"]["lr"] == 0.01 and config["run"]["decay_steps"] == 500
    with np.load(out_dir / "history.npz") as h:
        assert h["loss"].shape == (41,) and h["loss"][-1] == pytest.approx(summary["train_loss"], rel=1e-15)
    assert sorted(p.name for p in out_dir.iterdir() if not p.name.startswith(".meanfield.")) == [
        "config.json", "history.npz", "params.npz", "result.json", "state.npz"]


def test_text_summary_digits_softmax(capsys, tmp_path):
    code, out, err = run(capsys, "train", "--arch", "64-25-10", "--data", "digits", "--epochs", 3, "--out", tmp_path / "d")
    assert code == 0, err
    assert "64-25-10 esp/softmax, 3 epochs" in out and "1437/360" in out


def test_resume_extends_a_finished_run_bit_identically(capsys, tmp_path):
    base = ["train", "--arch", "2-5-1", "--act", "tanh", "--batch-size", "32", "--seed", "3"]
    assert run(capsys, *base, "--epochs", 30, "--out", tmp_path / "straight")[0] == 0
    assert run(capsys, *base, "--epochs", 12, "--out", tmp_path / "split")[0] == 0
    code, _, err = run(capsys, *base, "--epochs", 30, "--out", tmp_path / "split", "--resume")
    assert code == 0, err
    a, b = params(tmp_path / "straight"), params(tmp_path / "split")
    assert all(np.array_equal(a[k], b[k]) for k in a)
    code, _, err = run(capsys, *base[:-1], "4", "--epochs", 30, "--out", tmp_path / "split", "--resume")
    assert code == 2 and "seed" in err and err.count("\n") == 1


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT delivery to a child process")
def test_ctrl_c_then_resume_reaches_the_uninterrupted_parameters(tmp_path):
    args = [sys.executable, "-m", "meanfield", "train", "--arch", "2-8-2-1", "--epochs", "40000", "--checkpoint-every", "40000"]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    straight = subprocess.run(args + ["--out", str(tmp_path / "a")], capture_output=True, text=True, env=env)
    assert straight.returncode == 0, straight.stderr
    child = subprocess.Popen(args + ["--out", str(tmp_path / "b")], stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 120
    while not (tmp_path / "b" / "state.npz").exists() and time.monotonic() < deadline:  # epoch-0 state written
        time.sleep(0.05)
    time.sleep(0.5)
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=120)
    if child.returncode == 0:
        pytest.skip("the run finished before the interrupt arrived")
    assert child.returncode == 130 and "--resume" in err
    with np.load(tmp_path / "b" / "state.npz") as st:
        assert 0 < int(st["epoch"]) < 40000
    resumed = subprocess.run(args + ["--out", str(tmp_path / "b"), "--resume"], capture_output=True, text=True, env=env)
    assert resumed.returncode == 0, resumed.stderr
    a, b = params(tmp_path / "a"), params(tmp_path / "b")
    assert all(np.array_equal(a[k], b[k]) for k in a)


def _write_csv(path, X, y):
    path.write_text("\n".join(",".join(map(str, list(x) + [t])) for x, t in zip(X, y)) + "\n")
    return path


@pytest.mark.parametrize("argv, message", [
    (["--arch", "2-x-1"], "arch '2-x-1'"),
    (["--arch", "0-3-1"], "arch '0-3-1'"),
    (["--arch", "3-4-1"], "input width 2"),
    (["--arch", "2-4-1", "--data", "NOFILE"], "NOFILE"),
    (["--arch", "2-4-1", "--test-size", "1.5"], "--test-size"),
    (["--arch", "2-4-1", "--epochs", "-3"], "--epochs"),
    (["--arch", "2-4-1", "--record-every", "0"], "--record-every"),
    (["--arch", "2-4-1", "--lr", "-1"], "lr"),
    (["--arch", "2-4-1", "--act", "swish"], "swish"),
])
def test_bad_input_is_one_line_and_status_2(capsys, tmp_path, argv, message):
    argv = ["train", "--epochs", "2", "--out", str(tmp_path / "r")] + argv
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == "" and err.count("\n") == 1 and message in err, err


def test_bad_data_files(capsys, tmp_path):
    X = np.array([[0.1, 0.2], [0.3, 0.1], [0.5, 0.9], [0.7, 0.4], [0.2, 0.2]])
    cases = {
        "labels.csv": (X, [0, 1, 2, 1, 0], "0 or 1"),
        "nan.csv": (np.where(X > 0.8, np.nan, X), [0, 1, 1, 1, 0], "finite"),
    }
    for name, (Xc, y, message) in cases.items():
        path = _write_csv(tmp_path / name, Xc, y)
        code, out, err = run(capsys, "train", "--arch", "2-3-1", "--data", path, "--test-size", "0", "--epochs", 1,
                             "--out", tmp_path / f"r{name}")
        assert code == 2 and err.count("\n") == 1 and message in err, err
    (tmp_path / "broken.mat").write_bytes(b"garbage")
    code, _, err = run(capsys, "train", "--arch", "2-3-1", "--data", tmp_path / "broken.mat", "--epochs", 1, "--out", tmp_path / "rb")
    assert code == 2 and "cannot be read" in err


def test_existing_run_needs_resume_or_force(capsys, tmp_path):
    argv = ["train", "--arch", "2-3-1", "--data", "linear", "--epochs", 2, "--out", tmp_path / "r"]
    assert run(capsys, *argv)[0] == 0
    code, _, err = run(capsys, *argv)
    assert code == 2 and "--resume" in err and "--force" in err
    assert run(capsys, *argv, "--force")[0] == 0
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "x").write_text("keep me")
    code, _, err = run(capsys, "train", "--arch", "2-3-1", "--epochs", 1, "--out", tmp_path / "junk", "--force")
    assert code == 2 and "not made by meanfield" in err and (tmp_path / "junk" / "x").read_text() == "keep me"
    assert sorted(p.name for p in (tmp_path / "junk").iterdir()) == ["x"]


def test_divergence_is_reported_with_its_epoch(capsys, tmp_path):
    X = np.random.default_rng(0).uniform(0, 30, size=(40, 2))
    path = tmp_path / "big.npz"
    np.savez(path, X=X, y=X.sum(axis=1))
    code, _, err = run(capsys, "train", "--arch", "2-3-1", "--act", "linear", "--output", "linear", "--data", path,
                       "--optimizer", "sgd", "--lr", "1", "--decay-rate", "1", "--epochs", 300, "--test-size", "0",
                       "--out", tmp_path / "r")
    assert code == 1 and "non-finite" not in err and "at epoch" in err and err.count("\n") == 1
    assert (tmp_path / "r" / "state.npz").exists() and not (tmp_path / "r" / "params.npz").exists()


@pytest.mark.skipif(not (PAPER / "NLdata.mat").is_file(), reason=f"the paper's data sets are not in {PAPER}")
def test_paper_file_and_split(capsys, tmp_path):
    code, out, err = run(capsys, "train", "--arch", "2-8-2-1", "--data", PAPER / "NLdata.mat", "--epochs", 5,
                         "--out", tmp_path / "r", "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert (summary["n_train"], summary["n_test"]) == (690, 173)
