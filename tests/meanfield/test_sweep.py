import json

import pytest

from meanfield.cli import main
from meanfield.sweep import TIMING_COLUMNS, SweepConfig, grid, run_task, sweep

CONFIG = SweepConfig(data="nonlinear", epochs=30)


def _without_timing(rows):
    return [{k: v for k, v in r.items() if k not in TIMING_COLUMNS} for r in rows]


def test_grid_and_validation():
    tasks = grid(["2-4-1", "2-3-1"], ["esp", "relu"], 2)
    assert len(tasks) == 8 and len({t.key for t in tasks}) == 8
    with pytest.raises(ValueError, match="unknown activation"):
        grid(["2-4-1"], ["swish"], 1)
    with pytest.raises(ValueError, match="arch '2-x-1' is not valid"):
        grid(["2-x-1"], ["esp"], 1)
    with pytest.raises(ValueError, match="--seeds must be an integer >= 1"):
        grid(["2-4-1"], ["esp"], 0)
    with pytest.raises(ValueError, match="--seeds 1000000000 makes a grid of 1000000000 runs"):
        grid(["2-4-1"], ["esp"], 10**9)


def test_close_beta_values_get_distinct_labels_and_repeats_are_refused():
    tasks = grid(["2-3-1"], ["esp"], 1, [0.1, 0.1000001, None])
    assert len({t.key for t in tasks}) == 3
    assert [t.key.split("_")[2] for t in tasks] == ["beta-0.1", "beta-0.1000001", "beta-default"]
    with pytest.raises(ValueError, match="--beta-init lists 0.1 twice"):
        grid(["2-3-1"], ["esp"], 1, [0.1, 0.1])
    with pytest.raises(ValueError, match="--act lists 'esp' twice"):
        grid(["2-3-1"], ["esp", "esp"], 1)
    with pytest.raises(ValueError, match="--beta-init values must be finite"):
        grid(["2-3-1"], ["esp"], 1, [float("nan")])


def test_a_diverging_run_is_a_row_and_the_pool_goes_on(tmp_path):
    tasks = grid(["2-3-1"], ["relu", "linear"], 1)
    rows = sweep(tasks, SweepConfig(epochs=5, lr=1e300), tmp_path, workers=1)
    assert [r["status"] for r in rows] == ["diverged", "diverged"] and rows[0]["diverged_at_epoch"] >= 0
    assert "status,diverged_at_epoch" in (tmp_path / "sweep.csv").read_text().splitlines()[0]


def test_a_users_directory_and_sweep_csv_are_never_overwritten(tmp_path):
    (tmp_path / "sweep.csv").write_text("mine\n")
    with pytest.raises(ValueError, match="not made by meanfield"):
        sweep(grid(["2-3-1"], ["esp"], 1), CONFIG, tmp_path, workers=1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sweep.csv"]
    assert (tmp_path / "sweep.csv").read_text() == "mine\n"


def test_a_row_is_a_pure_function_of_task_and_config():
    (task,) = grid(["2-3-1"], ["esp"], 1)
    a, b = run_task(task, CONFIG), run_task(task, CONFIG)
    assert _without_timing([a]) == _without_timing([b])
    assert {"final_loss", "train_accuracy", "test_accuracy", "alpha_exact", "gamma_relative"} <= set(a)


def test_local_pool_and_local_dask_give_identical_rows_and_resume(tmp_path):
    pytest.importorskip("dask.distributed")
    tasks = grid(["2-3-1"], ["esp", "relu"], 2)
    local = sweep(tasks, CONFIG, tmp_path / "local", workers=2)
    dask = sweep(tasks, CONFIG, tmp_path / "dask", scheduler="local-dask", workers=2)
    assert _without_timing(local) == _without_timing(dask)
    assert (tmp_path / "local" / "sweep.csv").is_file() and (tmp_path / "local" / "sweep.png").is_file()
    # resume: finished rows are read back, not recomputed
    (tmp_path / "local" / "rows" / f"{tasks[0].key}.json").write_text(json.dumps(local[0] | {"seconds": -1.0}))
    again = sweep(tasks, CONFIG, tmp_path / "local", workers=2)
    assert again[0]["seconds"] == -1.0


def test_other_settings_in_an_existing_directory_are_refused(tmp_path):
    tasks = grid(["2-3-1"], ["esp"], 1)
    sweep(tasks, CONFIG, tmp_path, workers=1)
    with pytest.raises(ValueError, match="other settings"):
        sweep(tasks, SweepConfig(data="nonlinear", epochs=31), tmp_path, workers=1)


@pytest.mark.parametrize("argv, message", [
    (["--arch", "2-x-1", "--act", "esp"], "arch"),
    (["--arch", "2-4-1", "--act", "swish"], "unknown activation"),
    (["--arch", "2-4-1", "--act", "esp", "--scheduler", "tcp://127.0.0.1:9"], "tcp://127.0.0.1:9"),
    (["--arch", "2-4-1", "--act", "esp", "--beta-init", "abc"], "--beta-init"),
    (["--arch", "2-4-1", "--act", "esp", "--scheduler", ""], "--scheduler must be"),
    (["--arch", "2-4-1", "--act", "esp", "--scheduler", "nohost"], "tcp://HOST:PORT"),
    (["--arch", "2-4-1", "--act", "esp", "--lr", "nan"], "--lr must be a finite number > 0"),
    (["--arch", "2-4-1", "--act", "esp", "--lr=-1"], "--lr must be"),
    (["--arch", "2-4-1,", "--act", "esp"], "--arch: empty entry"),
])
def test_cli_bad_input_is_one_line_status_2(tmp_path, capsys, argv, message):
    code = main(["sweep", "--out", str(tmp_path / "s"), "--epochs", "5", "--seeds", "1"] + argv)
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and message in err


def test_cli_json_rows(tmp_path, capsys):
    code = main(["sweep", "--arch", "2-3-1", "--act", "esp", "--seeds", "1", "--epochs", "10", "--workers", "1",
                 "--out", str(tmp_path), "--json"])
    rows = json.loads(capsys.readouterr().out)["rows"]
    assert code == 0 and len(rows) == 1 and rows[0]["arch"] == "2-3-1"


def test_a_worker_without_the_registration_redoes_a_registered_activation_from_the_config():
    from numerics.kernels.activations import NAMES, record, register_activation, unregister_activation

    register_activation("sweep_gelu", "h*Phi(beta*h)")
    try:
        expressions = record(["sweep_gelu"])["activations"]
        config = SweepConfig(epochs=5, activations=tuple(expressions.items()))
        (task,) = grid(["2-4-1"], ["sweep_gelu"], 1, [None])
    finally:
        unregister_activation("sweep_gelu")
    assert "sweep_gelu" not in NAMES  # as on a Dask worker or in a fresh process
    try:
        row = run_task(task, config)
        assert row["act"] == "sweep_gelu" and row["status"] != "diverged" and row["final_loss"] > 0
    finally:
        unregister_activation("sweep_gelu")


@pytest.mark.slow
def test_worker_processes_compile_with_a_cold_numba_cache(tmp_path):
    """Workers compile the training kernels themselves when numba's cache is empty (a fresh install)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "numba"), MEANFIELD_CACHE=str(tmp_path / "cache"),
               PYTHONPATH=str(root))
    done = subprocess.run([sys.executable, "-m", "meanfield", "sweep", "--arch", "2-3-1", "--act", "esp", "--seeds", "1",
                           "--epochs", "2", "--workers", "1", "--out", str(tmp_path / "out")],
                          env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "out" / "sweep.csv").is_file()
