import json
import shutil

import numpy as np
import pytest

from meanfield.cli import main
from numerics import Network


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A small ESP run on the built-in linear task with checkpoints at epochs 0, 10, 20, 30."""
    out = tmp_path_factory.mktemp("runs") / "esp"
    code = main(["train", "--arch", "2-3-1", "--act", "esp", "--data", "linear", "--test-size", "0.25", "--epochs", "30",
                 "--checkpoint-every", "10", "--out", str(out)])
    assert code == 0
    return out


def _checkpoint(run_dir, i):
    cfg = json.loads((run_dir / "config.json").read_text())
    net = Network.from_config(cfg["network"])
    with np.load(run_dir / "history.npz") as h:
        return net, net.unpack(h["checkpoint_theta"][i]), int(h["checkpoint_epoch"][i])


def test_json_spectra_match_jax(capsys, trained):
    from numerics.mlp import data
    from verify.hessian import reference_hessian

    code, out, err = run(capsys, "hessian", trained, "--json")
    assert code == 0, err
    result = json.loads(out)
    rows = result["checkpoints"]
    assert [r["epoch"] for r in rows] == [0, 10, 20, 30]
    X, y = data.dataset("linear")
    X, _, y, _ = data.split(X, y, 0.25, 1)
    for i, row in enumerate(rows):
        net, params, epoch = _checkpoint(trained, i)
        assert row["epoch"] == epoch and not row["cached"]
        lam_ref = np.linalg.eigvalsh(reference_hessian(net, params, X, y))
        lam = np.array(row["eigenvalues"])
        assert lam.shape == (net.n_params,) == (result["n_params"],)
        assert np.max(np.abs(lam - lam_ref)) <= 1e-10 * np.max(np.abs(lam_ref))
        assert row["loss"] == pytest.approx(net.loss(params, X, y), rel=1e-14)
        assert row["alpha"]["exact"] == pytest.approx(np.mean(lam < 0), abs=1e-15)
        assert row["gamma"]["exact"] == pytest.approx(np.mean(lam == 0), abs=1e-15)
        assert set(row["alpha"]) == set(row["gamma"]) == {"exact", "relative", "absolute"}
        assert len(row["ipr"]) == net.n_params and all(1 / net.n_params - 1e-12 <= v <= 1 + 1e-12 for v in row["ipr"])
        with np.load(trained / row["file"]) as saved:
            np.testing.assert_array_equal(saved["eigenvalues"], lam)
            assert "hessian" not in saved


def test_done_checkpoints_are_skipped_and_tolerances_reapplied(capsys, trained):
    run(capsys, "hessian", trained, "--json")
    code, out, _ = run(capsys, "hessian", trained, "--json", "--policy", "absolute", "--atol", "1e-3")
    assert code == 0
    rows = json.loads(out)["checkpoints"]
    assert all(r["cached"] for r in rows)
    for r in rows:
        lam = np.array(r["eigenvalues"])
        assert list(r["alpha"]) == ["absolute"]
        assert r["gamma"]["absolute"] == pytest.approx(np.mean(np.abs(lam) <= 1e-3), abs=1e-15)
        assert r["alpha"]["absolute"] == pytest.approx(np.mean(lam < -1e-3), abs=1e-15)
    code, out, _ = run(capsys, "hessian", trained, "--json", "--save-hessian")
    rows = json.loads(out)["checkpoints"]
    assert not any(r["cached"] for r in rows)  # the files lacked the Hessian
    with np.load(trained / rows[-1]["file"]) as saved:
        H, V, lam = saved["hessian"], saved["eigenvectors"], saved["eigenvalues"]
    np.testing.assert_allclose(H @ V, V * lam, atol=1e-12 * np.max(np.abs(lam)))


def test_table_output(capsys, trained):
    code, out, _ = run(capsys, "hessian", trained)
    assert code == 0
    lines = out.strip().splitlines()
    assert "alpha exact" in lines[1] and "gamma absolute" in lines[1]
    assert [line.split()[0] for line in lines[2:]] == ["0", "10", "20", "30"]


def test_slq_route(capsys, trained):
    code, out, err = run(capsys, "hessian", trained, "--slq", "--steps", "8", "--probes", "4", "--json")
    assert code == 0, err
    rows = json.loads(out)["checkpoints"]
    dense = {r["epoch"]: r for r in json.loads(run(capsys, "hessian", trained, "--json")[1])["checkpoints"]}
    for r in rows:
        assert r["file"].startswith("slq-") and sum(r["weights"]) == pytest.approx(1.0)
        lam = dense[r["epoch"]]["eigenvalues"]
        assert lam[0] - 1e-9 <= r["lambda_min"] and r["lambda_max"] <= lam[-1] + 1e-9
    again = json.loads(run(capsys, "hessian", trained, "--slq", "--steps", "8", "--probes", "4", "--json")[1])
    assert all(r["cached"] for r in again["checkpoints"])
    assert [r["nodes"] for r in again["checkpoints"]] == [r["nodes"] for r in rows]


@pytest.mark.parametrize("argv, message", [
    (["--policy", "nearest"], "--policy 'nearest' is not known"),
    (["--rtol=-1"], "--rtol must be a finite number >= 0"),
    (["--atol=-1e-3"], "--atol must be a finite number >= 0"),
    (["--residual-tol", "nan"], "--residual-tol"),
    (["--max-memory", "1e-9"], "GB, more than the limit"),
    (["--slq", "--probes", "0"], "--probes must be an integer >= 1"),
])
def test_bad_options(capsys, trained, argv, message):
    code, out, err = run(capsys, "hessian", trained, *argv)
    assert code == 2 and out == ""
    assert message in err and len(err.strip().splitlines()) == 1


def test_too_large_for_dense_suggests_slq(capsys, trained):
    code, _, err = run(capsys, "hessian", trained, "--max-memory", "1e-9")
    assert code == 2 and "--slq" in err and "GB" in err


def test_bad_run_directories(capsys, tmp_path, trained):
    code, _, err = run(capsys, "hessian", tmp_path / "missing")
    assert code == 2 and "does not exist" in err
    (tmp_path / "mine.txt").write_text("mine")
    code, _, err = run(capsys, "hessian", tmp_path)
    assert code == 2 and "not made by meanfield" in err
    empty = tmp_path / "no-checkpoints"
    shutil.copytree(trained, empty)
    for name in ("history.npz", "state.npz"):
        (empty / name).unlink()
    code, _, err = run(capsys, "hessian", empty)
    assert code == 2 and "no checkpoints" in err and len(err.strip().splitlines()) == 1
