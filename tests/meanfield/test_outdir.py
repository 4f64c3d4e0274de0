"""Ownership, locking, atomic writes and stale partial folders of meanfield.outdir."""

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from meanfield.outdir import LOCK, MANIFEST, DirectoryLocked, ForeignContent, OutDir, digest, file_digest

ROOT = Path(__file__).resolve().parents[2]


def test_new_directory_is_created_with_normal_permissions_and_a_manifest(tmp_path):
    old = os.umask(0o022)
    try:
        with OutDir(tmp_path / "a" / "b", "test") as out:
            assert out.open() is False
            out.write("x.txt", "hello")
            sub = out.mkdir("rows")
    finally:
        os.umask(old)
    d = tmp_path / "a" / "b"
    assert stat.S_IMODE(d.stat().st_mode) == 0o755
    assert stat.S_IMODE(sub.stat().st_mode) == 0o755
    assert stat.S_IMODE((d / "x.txt").stat().st_mode) == 0o644
    manifest = json.loads((d / MANIFEST).read_text())
    assert manifest == {"owner": "meanfield", "kind": "test", "entries": ["rows", "x.txt"]}


def test_empty_directory_is_taken(tmp_path):
    with OutDir(tmp_path, "test") as out:
        assert out.open() is False


def test_foreign_directory_is_refused_and_untouched(tmp_path):
    (tmp_path / "mine.txt").write_text("mine")
    with pytest.raises(ForeignContent, match=r"not empty \('mine.txt'.*not\s+made by meanfield"):
        OutDir(tmp_path, "test").open()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.txt"]


def test_other_kind_is_refused(tmp_path):
    with OutDir(tmp_path, "sweep") as out:
        out.open()
    with pytest.raises(ForeignContent, match="holds output of 'sweep', not 'train run'"):
        OutDir(tmp_path, "train run").open()


def test_foreign_file_in_own_directory_is_never_replaced(tmp_path):
    with OutDir(tmp_path, "test") as out:
        out.open()
        out.write("result.csv", "toolkit\n")
    (tmp_path / "notes.txt").write_text("mine")
    with OutDir(tmp_path, "test") as out:
        assert out.open() is True
        with pytest.raises(ForeignContent, match="notes.txt' was not written by meanfield"):
            out.write("notes.txt", "x")
        with pytest.raises(ForeignContent):
            out.mkdir("notes.txt")
        out.write("result.csv", "again\n")  # its own file is replaced
    assert (tmp_path / "notes.txt").read_text() == "mine"
    assert (tmp_path / "result.csv").read_text() == "again\n"


def test_force_removes_only_own_entries(tmp_path):
    with OutDir(tmp_path, "test") as out:
        out.open()
        out.write("a.json", "{}")
        (out.mkdir("rows") / "r.json").write_text("{}")
    (tmp_path / "notes.txt").write_text("mine")
    with OutDir(tmp_path, "test") as out:
        assert out.open(force=True) is False
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([MANIFEST, LOCK, "notes.txt"])


def test_damaged_manifest_is_refused_naming_it(tmp_path):
    (tmp_path / MANIFEST).write_text("{trunc")
    with pytest.raises(ForeignContent, match=r"\.meanfield\.json' is damaged"):
        OutDir(tmp_path, "test").open()


def test_a_file_and_an_empty_name_are_refused(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(ValueError, match="exists and is not a directory"):
        OutDir(tmp_path / "f", "test").open()
    with pytest.raises(ValueError, match="--out must name a directory"):
        OutDir("", "test")


def test_lock_is_exclusive_and_released(tmp_path):
    first = OutDir(tmp_path, "test")
    first.open()
    with pytest.raises(DirectoryLocked, match=rf"in use by another meanfield process \(pid {os.getpid()}\)"):
        OutDir(tmp_path, "test").open()
    first.close()
    with OutDir(tmp_path, "test") as again:
        again.open()


def test_lock_held_by_another_process(tmp_path):
    code = ("import sys, time; from meanfield.outdir import OutDir; d = OutDir(sys.argv[1], 'test'); d.open(); "
            "print('locked', flush=True); time.sleep(30)")
    proc = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert proc.stdout.readline().strip() == "locked"
        with pytest.raises(DirectoryLocked, match=f"pid {proc.pid}"):
            OutDir(tmp_path, "test").open()
    finally:
        proc.kill()
        proc.wait()
    with OutDir(tmp_path, "test") as out:  # the lock died with its process
        out.open()


def test_partial_folder_is_renamed_on_success_and_removed_on_error(tmp_path):
    with OutDir(tmp_path, "test") as out:
        out.open()
        with out.partial("stage") as tmp:
            assert tmp.name == "stage.partial"
            (tmp / "f.txt").write_text("1")
        assert (tmp_path / "stage" / "f.txt").read_text() == "1"
        with pytest.raises(RuntimeError), out.partial("stage") as tmp:
            (tmp / "f.txt").write_text("2")
            raise RuntimeError("boom")
        assert not (tmp_path / "stage.partial").exists()
        assert (tmp_path / "stage" / "f.txt").read_text() == "1"
        with out.partial("stage") as tmp:
            (tmp / "g.txt").write_text("3")
        assert sorted(p.name for p in (tmp_path / "stage").iterdir()) == ["g.txt"]


def test_stale_partial_of_a_killed_process_is_cleaned_but_not_a_users(tmp_path):
    code = ("import os, sys; from meanfield.outdir import OutDir; d = OutDir(sys.argv[1], 'test'); d.open(); "
            "cm = d.partial('stage'); tmp = cm.__enter__(); (tmp / 'half').write_text('x'); os._exit(9)")
    subprocess.run([sys.executable, "-c", code, str(tmp_path)], check=False, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert (tmp_path / "stage.partial" / "half").exists()
    (tmp_path / "other.partial").mkdir()  # the user's, not in the manifest
    with OutDir(tmp_path, "test") as out:
        out.open()
    assert not (tmp_path / "stage.partial").exists()
    assert (tmp_path / "other.partial").is_dir()


def test_writing_requires_open(tmp_path):
    with pytest.raises(RuntimeError, match="not open"):
        OutDir(tmp_path, "test").write("x", b"1")


def test_digest_is_canonical_and_sensitive():
    assert digest({"a": 1, "b": [1.0, "x"]}) == digest({"b": [1.0, "x"], "a": 1})
    assert digest({"a": 0.1}) != digest({"a": 0.1000001})
    assert len(digest(None)) == 64


def test_file_digest_sees_content_and_names(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "a").write_bytes(b"1")
    first = file_digest(tmp_path / "d")
    (tmp_path / "d" / "a").write_bytes(b"2")
    assert file_digest(tmp_path / "d") != first
    assert file_digest(tmp_path / "d" / "a") != file_digest(tmp_path / "d")
