import json

import pytest

from meanfield.cli import main
from meanfield.reproduce import Stage, check_data_dir, check_output_dir, reproduce, run_stage
from meanfield.reproduce.gate import STAGES as GATE_STAGES


def test_gate_stages_report_and_cache(tmp_path):
    results = reproduce(tmp_path, quick=True, only=["activations"])
    assert [r["cached"] for r in results] == [False]
    for name in ("activations.png", "activations.json", "noise.png", "stage.json"):
        assert (tmp_path / "activations" / name).is_file()
    report = (tmp_path / "report.md").read_text()
    assert "activations/activations.png" in report and "g_esp_at_beta_h_10" in report
    assert "<img src='activations/noise.png'" in (tmp_path / "index.html").read_text()
    numbers = {n["key"]: n["value"] for n in results[0]["numbers"]}
    assert numbers["matched_beta_delta_1"] == pytest.approx((8 / 3.141592653589793) ** 0.5, rel=1e-15)
    assert numbers["g_sigmoid_at_beta_h_10"] < 1e-4 < 0.99 < numbers["g_esp_at_beta_h_10"]

    mtime = (tmp_path / "activations" / "activations.png").stat().st_mtime_ns
    again = reproduce(tmp_path, quick=True, only=["activations"])
    assert again[0]["cached"] and (tmp_path / "activations" / "activations.png").stat().st_mtime_ns == mtime
    forced = reproduce(tmp_path, quick=True, only=["activations"], force=True)
    assert not forced[0]["cached"]


def test_an_interrupted_stage_leaves_nothing_under_its_final_name(tmp_path):
    def interrupted(ctx):
        (ctx.directory / "half.json").write_text("{")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_stage(Stage("broken", "Broken", interrupted), tmp_path, True, None, 0, False, None)
    assert list(tmp_path.iterdir()) == []


def test_quick_and_full_runs_are_cached_separately(tmp_path):
    stage = Stage("tiny", "Tiny", lambda ctx: ctx.number("quick", ctx.quick, "was it quick"))
    assert run_stage(stage, tmp_path, True, None, 0, False, None)["numbers"][0]["value"] is True
    assert run_stage(stage, tmp_path, False, None, 0, False, None)["numbers"][0]["value"] is False
    assert json.loads((tmp_path / "tiny" / "stage.json").read_text())["quick"] is False


def test_bad_directories(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(ValueError, match="is a file"):
        check_output_dir(f)
    with pytest.raises(ValueError, match="lacks Lindata.mat, NLdata.mat"):
        check_data_dir(tmp_path)
    with pytest.raises(ValueError, match="not a directory"):
        check_data_dir(tmp_path / "nope")


@pytest.mark.parametrize("argv", [
    ["reproduce", "--out", "FILE"],
    ["reproduce", "--data-dir", "/nonexistent/dir"],
    ["reproduce", "--only", "no-such-stage"],
])
def test_cli_bad_input_is_one_line_status_2(tmp_path, capsys, argv):
    (tmp_path / "FILE").write_text("x")
    argv = [str(tmp_path / a) if a == "FILE" else a for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1


def test_derivations_stage_writes_the_equations(tmp_path):
    (stage,) = [s for s in GATE_STAGES if s.name == "derivations"]
    run_stage(stage, tmp_path, True, None, 0, False, None)
    page = (tmp_path / "derivations" / "page.md").read_text()
    assert "h \\sigma" in page or "sigmoid" in page
    assert "$$" in page and "partition_function" in page
