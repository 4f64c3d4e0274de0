import json
import os

import pytest

import meanfield.reproduce as rep
from meanfield.cli import main
from meanfield.outdir import MANIFEST, OutDir
from meanfield.reproduce import (
    Stage,
    check_data_dir,
    open_output_dir,
    reproduce,
    run_stage,
)


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
    assert numbers["g_sigmoid_at_beta_h_10"] < 1e-4
    assert numbers["g_esp_at_beta_h_10"] > 0.99

    mtime = (tmp_path / "activations" / "activations.png").stat().st_mtime_ns
    again = reproduce(tmp_path, quick=True, only=["activations"])
    assert again[0]["cached"] and (tmp_path / "activations" / "activations.png").stat().st_mtime_ns == mtime
    forced = reproduce(tmp_path, quick=True, only=["activations"], force=True)
    assert not forced[0]["cached"]


def _tiny(name="tiny"):
    def run(ctx):
        ctx.number("seed", ctx.seed, "the root seed")
        ctx.number("quick", ctx.quick, "was it quick")
        ctx.number("colour", getattr(ctx, "colour", None), "an option")
        (ctx.directory / "out.txt").write_text(f"{ctx.seed}")

    return Stage(name, f"Tiny stage {name}", run)


@pytest.fixture
def tiny_stages(monkeypatch):
    """Two fast stages in place of the papers' ones."""
    chosen = [_tiny("one"), _tiny("two")]
    monkeypatch.setattr(rep, "stages", lambda: chosen)
    return chosen


def test_an_interrupted_stage_leaves_nothing_under_its_final_name(tmp_path):
    def interrupted(ctx):
        (ctx.directory / "half.json").write_text("{")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_stage(Stage("broken", "Broken", interrupted), tmp_path, True, None, 0, False, None)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".meanfield.json", ".meanfield.lock"]
    assert json.loads((tmp_path / MANIFEST).read_text())["entries"] == []


def test_the_cache_key_holds_every_input(tmp_path, monkeypatch):
    stage = _tiny()
    data = tmp_path / "data"
    data.mkdir()
    for f in rep.PAPER_FILES:
        (data / f).write_bytes(b"first")
    out = tmp_path / "out"

    def run(**change):
        args = {"quick": True, "data_dir": None, "seed": 0, "force": False, "progress": None} | change
        return run_stage(stage, out, **args)

    assert not run()["cached"] and run()["cached"]
    assert not run(quick=False)["cached"]
    assert not run(quick=False, seed=1)["cached"] and run(quick=False, seed=1)["cached"]
    assert not run(quick=False, seed=1, data_dir=data)["cached"]
    assert run(quick=False, seed=1, data_dir=data)["cached"]
    (data / "NLdata.mat").write_bytes(b"second")  # same directory, other contents
    assert not run(quick=False, seed=1, data_dir=data)["cached"]
    assert not run(quick=False, seed=1, data_dir=data, colour="red")["cached"]
    record = run(quick=False, seed=1, data_dir=data, colour="red")
    assert record["cached"] and {n["key"]: n["value"] for n in record["numbers"]}["colour"] == "red"
    monkeypatch.setattr(rep, "__version__", "99.0")
    assert not run(quick=False, seed=1, data_dir=data, colour="red")["cached"]
    assert (out / "tiny" / "out.txt").read_text() == "1"


def test_only_on_a_complete_directory_keeps_every_stage_in_the_report(tmp_path, tiny_stages):
    reproduce(tmp_path, quick=True)
    reproduce(tmp_path, quick=True, only=["two"], seed=3)
    md = (tmp_path / "report.md").read_text()
    page = (tmp_path / "index.html").read_text()
    for title in ("Tiny stage one", "Tiny stage two"):
        assert f"## {title}" in md and title in page
    assert "earlier run" in md and "computed" in md
    assert "different inputs" in page  # seed 0 for one stage, 3 for the other


def test_a_users_directory_is_refused_and_left_intact(tmp_path, capsys):
    d = tmp_path / "d"
    (d / "derivations").mkdir(parents=True)
    (d / "derivations" / "chapter1.tex").write_text("x")
    (d / "report.md").write_text("mine")
    assert main(["reproduce", "--quick", "--only", "derivations", "--out", str(d)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not made by meanfield" in err
    assert sorted(str(p.relative_to(d)) for p in d.rglob("*")) == ["derivations", "derivations/chapter1.tex", "report.md"]
    assert (d / "report.md").read_text() == "mine" and (d / "derivations" / "chapter1.tex").read_text() == "x"


def test_a_users_entry_in_an_owned_directory_is_never_replaced(tmp_path, tiny_stages, capsys):
    reproduce(tmp_path, quick=True, only=["one"])
    (tmp_path / "two").mkdir()
    (tmp_path / "two" / "notes.txt").write_text("mine")
    assert main(["reproduce", "--only", "two", "--out", str(tmp_path)]) == 2
    assert "was not written by meanfield" in capsys.readouterr().err
    assert (tmp_path / "two" / "notes.txt").read_text() == "mine"


def test_stage_folders_have_normal_permissions_and_stale_partials_are_removed(tmp_path, tiny_stages):
    with OutDir(tmp_path, rep.KIND) as d:  # a run killed while building stage "one"
        d.open()
        d.own("one.partial")
        (tmp_path / "one.partial").mkdir()
    (tmp_path / "mine.partial").mkdir()  # not the toolkit's: kept
    with open_output_dir(tmp_path):
        pass
    assert not (tmp_path / "one.partial").exists() and (tmp_path / "mine.partial").is_dir()
    umask = os.umask(0)
    os.umask(umask)
    reproduce(tmp_path, quick=True, only=["one"])
    assert (tmp_path / "one").stat().st_mode & 0o777 == 0o777 & ~umask


def test_a_locked_directory_is_refused(tmp_path, tiny_stages, capsys):
    with open_output_dir(tmp_path):
        assert main(["reproduce", "--out", str(tmp_path)]) == 2
    assert "in use by another meanfield process" in capsys.readouterr().err


def test_bad_directories(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(ValueError, match="is not a directory"):
        open_output_dir(f)
    with pytest.raises(ValueError, match="lacks Lindata.mat, NLdata.mat"):
        check_data_dir(tmp_path)
    with pytest.raises(ValueError, match="not a directory"):
        check_data_dir(tmp_path / "nope")


@pytest.mark.parametrize("argv", [
    ["reproduce", "--out", "FILE"],
    ["reproduce", "--out", ""],
    ["reproduce", "--only", ""],
    ["reproduce", "--only", ","],
    ["reproduce", "--data-dir", "/nonexistent/dir"],
    ["reproduce", "--only", "no-such-stage"],
])
def test_cli_bad_input_is_one_line_status_2(tmp_path, capsys, argv):
    (tmp_path / "FILE").write_text("x")
    argv = [str(tmp_path / a) if a == "FILE" else a for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert (tmp_path / "FILE").read_text() == "x"


def test_a_shared_folder_is_owned_and_kept_across_stages(tmp_path, monkeypatch):
    def first(ctx):
        (ctx.shared_dir(".runs") / "run.txt").write_text("trained")

    def second(ctx):
        ctx.number("seen", (ctx.shared_dir(".runs") / "run.txt").read_text(), "what the first stage left")

    monkeypatch.setattr(rep, "stages", lambda: [Stage("first", "First", first), Stage("second", "Second", second)])
    result_second = reproduce(tmp_path, quick=True)[1]
    assert result_second["numbers"][0]["value"] == "trained"
    assert ".runs" in json.loads((tmp_path / MANIFEST).read_text())["entries"]
    reproduce(tmp_path, quick=True, only=["first"], force=True)
    assert (tmp_path / "second" / "stage.json").is_file() and (tmp_path / ".runs" / "run.txt").is_file()
