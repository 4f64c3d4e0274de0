import numpy as np
import pytest

from meanfield.runs import RunDir


def test_run_directory_lifecycle(tmp_path):
    run = RunDir(tmp_path / "run", files=("config.json", "x.npz"))
    assert run.open({"a": 1}) is None
    run.write_npz("x.npz", {"v": np.arange(3.0)})
    assert np.array_equal(run.read_npz("x.npz")["v"], np.arange(3.0))
    with pytest.raises(ValueError, match="--resume.*--force"):
        RunDir(run.path).open({"a": 1})
    assert RunDir(run.path).open({"a": 2}, resume=True) == {"a": 1}

    def refuse(saved, new):
        raise ValueError("different")

    with pytest.raises(ValueError, match="different"):
        RunDir(run.path).open({"a": 2}, resume=True, compare=refuse)
    assert RunDir(run.path, files=("config.json", "x.npz")).open({"a": 3}, force=True) is None
    assert not run.exists("x.npz") and run.read_json("config.json") == {"a": 3}
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="not a run directory"):
        RunDir(tmp_path / "other").open({}, force=True)
    with pytest.raises(ValueError, match="nothing to resume"):
        RunDir(tmp_path / "new").open({}, resume=True)
