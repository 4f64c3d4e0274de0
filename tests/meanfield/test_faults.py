"""Fault injection: bad options, damaged files, foreign directories, concurrency and interrupts.

One table of cases, each (command, the fault, expected exit status and
message pattern, files that must survive), run in-process by one
parametrised test. After every refusal (status 2) stderr is exactly one
line without a traceback, and every file that existed before is unchanged
(byte for byte) and no new file appeared. Concurrency and Ctrl-C cases run
the command line in subprocesses, in tests of their own below the table.
"""

from __future__ import annotations

import gzip
import http.server
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from meanfield.cli import main

ROOT = Path(__file__).resolve().parents[2]
ROOT_USER = hasattr(os, "geteuid") and os.geteuid() == 0  # root reads files whatever their mode
ALL = "all"  # every file present before the command must survive unchanged
LOCKS = (".meanfield.lock",)  # its content (the holder's pid) may change


@dataclass
class Case:
    id: str
    argv: list  # "{tmp}" is the case's directory, "{run}" a copy of a small trained run in it
    code: int
    pattern: str  # regex searched in stderr
    setup: object = None  # setup(tmp) writes the fault
    before: list = field(default_factory=list)  # argvs run first (each must exit 0)
    stdout: str | None = None  # regex searched in stdout
    survive: object = ALL  # ALL, or the relative paths that must be unchanged
    skip: str | None = None


def _write(rel, data, mode=None):
    def setup(tmp):
        path = tmp / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data(tmp) if callable(data) else data)
        if mode is not None:
            path.chmod(mode)
    return setup


def _mkdir(rel):
    return lambda tmp: (tmp / rel).mkdir(parents=True)


def _truncate(rel):
    def setup(tmp):
        raw = (tmp / rel).read_bytes()
        (tmp / rel).write_bytes(raw[: len(raw) // 2])
    return setup


def _corrupt(rel):
    def setup(tmp):
        raw = bytearray((tmp / rel).read_bytes())
        raw[len(raw) // 3 : len(raw) // 3 + 64] = b"\xff" * 64
        (tmp / rel).write_bytes(bytes(raw))
    return setup


def _replace_by_dir(rel):
    def setup(tmp):
        (tmp / rel).unlink()
        (tmp / rel).mkdir()
    return setup


def _unreadable(rel):
    return lambda tmp: (tmp / rel).chmod(0)


def _both(*setups):
    def setup(tmp):
        for s in setups:
            s(tmp)
    return setup


# -- numeric options: nan, inf, 1e400, -1, 0, huge ------------------------------------------------

TRAIN = ["train", "--arch", "2-3-1", "--data", "linear", "--epochs", "2", "--out", "{tmp}/r"]
SWEEP = ["sweep", "--arch", "2-3-1", "--act", "esp", "--seeds", "1", "--epochs", "2", "--out", "{tmp}/s"]
HESSIAN = ["hessian", "{run}"]
VERIFY = ["verify", "--only", "kernel esp.value vs mpmath"]
VALUES = {"nan": "nan", "inf": "inf", "1e400": "1e400", "-1": "-1", "0": "0", "huge": None}
INT = "argument {opt}: invalid int value"
SEED = r"{opt} must be an integer in \[0, 2\*\*32\)"

# option: (base argv, huge value, {value name: expected message, or None where the value is valid})
NUMERIC = {
    ("train", "--epochs"): (
        TRAIN,
        "10" * 8,
        {"nan": INT, "inf": INT, "1e400": INT, "-1": "--epochs must be >= 0", "0": None, "huge": "floating-point operations|GB of memory"},
    ),
    ("train", "--data-seed"): (TRAIN, str(2**40), {"nan": INT, "inf": INT, "1e400": INT, "-1": SEED, "0": None, "huge": SEED}),
    ("train", "--split-seed"): (TRAIN, str(2**40), {"nan": INT, "inf": INT, "1e400": INT, "-1": SEED, "0": None, "huge": SEED}),
    ("train", "--seed"): (TRAIN, str(2**40), {"nan": INT, "inf": INT, "1e400": INT, "-1": SEED, "0": None, "huge": SEED}),
    ("train", "--batch-size"): (
        TRAIN,
        str(2**40),
        {"nan": INT, "inf": INT, "1e400": INT, "-1": "positive integer", "0": "positive integer", "huge": None},
    ),
    ("train", "--record-every"): (
        TRAIN,
        str(2**40),
        {"nan": INT, "inf": INT, "1e400": INT, "-1": "positive integer", "0": "positive integer", "huge": None},
    ),
    ("train", "--checkpoint-every"): (
        TRAIN,
        str(2**40),
        {"nan": INT, "inf": INT, "1e400": INT, "-1": "positive integer", "0": "positive integer", "huge": None},
    ),
    ("train", "--test-size"): (TRAIN, "1e300", dict.fromkeys(("nan", "inf", "1e400", "-1", "huge"), "--test-size must be a fraction") | {"0": None}),
    ("train", "--lr"): (
        TRAIN,
        "1e300",
        dict.fromkeys(("nan", "inf", "1e400", "-1", "0"), "--lr must be a finite number > 0") | {"huge": None},
    ),  # a huge rate diverges: a case of its own below
    ("train", "--decay-rate"): (
        TRAIN,
        "1e300",
        dict.fromkeys(("nan", "inf", "1e400", "-1", "0"), "--decay-rate must be a finite number > 0") | {"huge": None},
    ),
    ("train", "--decay-steps"): (
        TRAIN,
        "1e300",
        dict.fromkeys(("nan", "inf", "1e400", "-1", "0"), "--decay-steps must be a finite number > 0") | {"huge": None},
    ),
    ("train", "--beta-init"): (
        TRAIN,
        "1e300",
        dict.fromkeys(("nan", "inf", "1e400"), "--beta-init must be a finite number") | {"-1": None, "0": None, "huge": None},
    ),
    ("train", "--beta-std"): (
        TRAIN,
        "1e300",
        dict.fromkeys(("nan", "inf", "1e400", "-1"), "--beta-std must be a finite number >= 0") | {"0": None, "huge": None},
    ),
    ("sweep", "--epochs"): (
        SWEEP,
        "10" * 8,
        {
            "nan": INT,
            "inf": INT,
            "1e400": INT,
            "-1": "--epochs must be >= 1",
            "0": "--epochs must be >= 1",
            "huge": "floating-point operations|GB of memory",
        },
    ),
    ("sweep", "--lr"): (SWEEP, "1e300", dict.fromkeys(("nan", "inf", "1e400", "-1", "0"), "--lr must be a finite number > 0") | {"huge": None}),
    ("sweep", "--seeds"): (
        SWEEP,
        str(10**9),
        {
            "nan": INT,
            "inf": INT,
            "1e400": INT,
            "-1": "--seeds must be an integer >= 1",
            "0": "--seeds must be an integer >= 1",
            "huge": "makes a grid of 1000000000 runs",
        },
    ),
    ("sweep", "--seed"): (SWEEP, str(2**40), {"nan": INT, "inf": INT, "1e400": INT, "-1": SEED, "0": None, "huge": SEED}),
    ("sweep", "--workers"): (
        SWEEP,
        str(10**6),
        {
            "nan": INT,
            "inf": INT,
            "1e400": INT,
            "-1": r"--workers must be an integer in \[1, 1024\]",
            "0": r"--workers must be an integer in \[1, 1024\]",
            "huge": r"--workers must be an integer in \[1, 1024\]",
        },
    ),
    ("sweep", "--beta-init"): (
        SWEEP,
        "1e300",
        dict.fromkeys(("nan", "inf", "1e400"), "--beta-init values must be finite") | {"-1": None, "0": None, "huge": None},
    ),
    ("hessian", "--rtol"): (
        HESSIAN,
        "1e300",
        dict.fromkeys(("nan", "inf", "1e400", "-1"), "--rtol must be a finite number >= 0") | {"0": None, "huge": None},
    ),
    ("hessian", "--atol"): (
        HESSIAN,
        "1e300",
        dict.fromkeys(("nan", "inf", "1e400", "-1"), "--atol must be a finite number >= 0") | {"0": None, "huge": None},
    ),
    ("hessian", "--residual-tol"): (
        HESSIAN,
        "1e300",
        dict.fromkeys(("nan", "inf", "1e400", "-1"), "--residual-tol must be a finite number >= 0") | {"0": None, "huge": None},
    ),
    ("hessian", "--max-memory"): (
        HESSIAN,
        "1e300",
        dict.fromkeys(("nan", "inf", "1e400", "-1", "0", "huge"), r"--max-memory must be a positive number of GB"),
    ),
    ("hessian", "--steps"): (
        HESSIAN + ["--slq"],
        str(10**9),
        {
            "nan": INT,
            "inf": INT,
            "1e400": INT,
            "-1": "--steps must be an integer >= 1",
            "0": "--steps must be an integer >= 1",
            "huge": "--steps 1000000000 .*(GB of memory|floating-point operations)",
        },
    ),
    ("hessian", "--probes"): (
        HESSIAN + ["--slq"],
        str(10**9),
        {
            "nan": INT,
            "inf": INT,
            "1e400": INT,
            "-1": "--probes must be an integer >= 1",
            "0": "--probes must be an integer >= 1",
            "huge": "--probes 1000000000 .*(GB of memory|floating-point operations)",
        },
    ),
    ("hessian", "--seed"): (HESSIAN + ["--slq"], str(2**40), {"nan": INT, "inf": INT, "1e400": INT, "-1": SEED, "0": None, "huge": SEED}),
    ("verify", "--examples"): (
        VERIFY,
        str(10**12),
        {
            "nan": INT,
            "inf": INT,
            "1e400": INT,
            "-1": r"--examples must be an integer in \[1, 100000\]",
            "0": r"--examples must be an integer in \[1, 100000\]",
            "huge": r"--examples must be an integer in \[1, 100000\]",
        },
    ),
}


def _numeric_cases():
    for (command, option), (base, huge, expected) in NUMERIC.items():
        for name, raw in VALUES.items():
            message = expected[name]
            if message is None:
                continue
            argv = [a for a in base] + [f"{option}={huge if raw is None else raw}"]
            yield Case(f"{command} {option} {name}", argv, 2, message.format(opt=re.escape(option)))


# -- data files: empty, truncated, corrupted, a directory, unreadable ------------------------------

def _csv(tmp):
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(12, 2))
    return ("x1,x2,y\n" + "".join(f"{a},{b},{int(a > b)}\n" for a, b in X)).encode()


def _npz(tmp):
    path = tmp / "tmp-data.npz"
    np.savez(path, X=np.eye(4, 2), y=np.array([0.0, 1.0, 0.0, 1.0]))
    raw = path.read_bytes()
    path.unlink()
    return raw


def _mat(tmp):
    from scipy.io import savemat

    path = tmp / "tmp-data.mat"
    savemat(path, {"X": np.eye(4, 2), "y": np.array([0.0, 1.0, 0.0, 1.0])})
    raw = path.read_bytes()
    path.unlink()
    return raw


def _regression(tmp):
    X = np.random.default_rng(0).uniform(0, 30, size=(40, 2))
    path = tmp / "tmp-big.npz"
    np.savez(path, X=X, y=X.sum(axis=1))
    raw = path.read_bytes()
    path.unlink()
    return raw


def _data_cases():
    for ext, make in (("csv", _csv), ("npz", _npz), ("mat", _mat)):
        name = f"d.{ext}"
        argv = ["train", "--arch", "2-3-1", "--epochs", "1", "--test-size", "0", "--data", f"{{tmp}}/{name}", "--out", "{tmp}/r"]
        damaged = rf"data file '.*{re.escape(name)}' cannot be read"
        yield Case(f"train --data empty .{ext}", argv, 2, damaged if ext != "csv" else "at least one sample", _write(name, b""))
        yield Case(f"train --data truncated .{ext}", argv, 2, damaged if ext != "csv" else "cannot be read|0 or 1|at least",
                   _both(_write(name, make), _truncate(name)))
        yield Case(f"train --data corrupted .{ext}", argv, 2, damaged, _both(_write(name, make), _corrupt(name)))
        yield Case(f"train --data a directory named .{ext}", argv, 2, rf"MNIST directory '.*{re.escape(name)}' lacks", _mkdir(name))
        yield Case(f"train --data unreadable .{ext}", argv, 2, damaged + "|Permission denied",
                   _both(_write(name, make), _unreadable(name)), skip="root reads any file" if ROOT_USER else None)
    gz = gzip.compress(bytes([0, 0, 8, 1]) + (10).to_bytes(4, "big") + bytes(range(10)))
    yield Case("train --data MNIST with a truncated .gz", ["train", "--arch", "784-3-10", "--epochs", "1", "--data", "{tmp}/mnist",
                                                         "--out", "{tmp}/r"], 2, r"train-images-idx3-ubyte.gz' is damaged",
               _both(_write("mnist/train-images-idx3-ubyte.gz", gz[: len(gz) // 2]), _write("mnist/train-labels-idx1-ubyte.gz", gz)))
    bom = lambda tmp: b"\xef\xbb\xbf" + _csv(tmp).split(b"\n", 1)[1]
    yield Case("train --data CSV with a byte-order mark keeps every sample",
               ["train", "--arch", "2-3-1", "--epochs", "1", "--test-size", "0", "--data", "{tmp}/bom.csv", "--out", "{tmp}/r"],
               0, "", _write("bom.csv", bom), stdout=r"\(12/0 samples\)")


# -- run directories: damaged files, ownership, stale caches ---------------------------------------

RUN_FILES = ("config.json", "history.npz")


def _run_file_cases():
    recover = r"train the run again"
    for name in RUN_FILES:
        rel = f"run/{name}"
        what = rf"{re.escape(name)}' is damaged"
        yield Case(f"hessian with an empty {name}", HESSIAN, 2, what + ".*" + recover, _write(rel, b""))
        yield Case(f"hessian with a truncated {name}", HESSIAN, 2, what, _truncate(rel))
        yield Case(f"hessian with a corrupted {name}", HESSIAN, 2, what, _corrupt(rel))
        yield Case(f"hessian with a directory for {name}", HESSIAN, 2, what, _replace_by_dir(rel))
        yield Case(f"hessian with an unreadable {name}", HESSIAN, 2, what, _unreadable(rel),
                   skip="root reads any file" if ROOT_USER else None)
    yield Case("hessian with a config.json that is not an object", HESSIAN, 2, r"config.json' is damaged", _write("run/config.json", b"[]"))
    yield Case("hessian with a config.json without its network", HESSIAN, 2, r"config.json' is damaged",
               _write("run/config.json", b'{"run": {}, "data": {}}'))
    for fault, setup in (("truncated", _truncate("run/state.npz")), ("corrupted", _corrupt("run/state.npz")),
                         ("empty", _write("run/state.npz", b""))):
        yield Case(f"train --resume with a {fault} state.npz", ["train", "--arch", "2-3-1", "--act", "esp", "--data", "linear",
                                                              "--test-size", "0.25", "--epochs", "40", "--checkpoint-every", "10",
                                                              "--out", "{run}", "--resume"],
                   2, r"state.npz' is damaged or unreadable .*start the run over with --force", setup)
    yield Case("hessian recomputes a damaged cached spectrum", HESSIAN + ["--json"], 0, "",
               _write("run/hessian-000000.npz", b"PK\x03\x04broken"), stdout=r'"epoch": 0, .*"cached": false', survive=())


def _ownership_cases():
    mine = _write("d/notes.txt", b"mine\n")
    yield Case(
        "train --out a foreign directory", TRAIN[:-1] + ["{tmp}/d"], 2, r"--out '.*d' is not empty \('notes.txt'.*not\s+made by meanfield", mine
    )
    yield Case("train --out a foreign directory --force", TRAIN[:-1] + ["{tmp}/d", "--force"], 2, "not made by meanfield", mine)
    yield Case("train --out a file", TRAIN[:-1] + ["{tmp}/d/notes.txt"], 2, "exists and is not a directory", mine)
    yield Case("train --out ''", TRAIN[:-1] + [""], 2, "--out must name a directory")
    yield Case("train --resume where no run is", TRAIN + ["--resume"], 2, "nothing to resume")
    yield Case("train --resume --force", TRAIN + ["--resume", "--force"], 2, "exclude each other")
    yield Case("train onto an existing run", TRAIN[:-1] + ["{run}"], 2, r"already holds a run; use --resume .* or --force")
    yield Case("train --resume with another seed leaves config.json", TRAIN[:-1] + ["{run}", "--resume", "--seed", "5"], 2,
               "different setting")
    yield Case("train --resume below the epochs done leaves config.json",
               ["train", "--arch", "2-3-1", "--act", "esp", "--data", "linear", "--test-size", "0.25", "--epochs", "20",
                "--checkpoint-every", "10", "--out", "{run}", "--resume"], 2, "--epochs 20 is below the 30 epochs already done")
    yield Case("train --force keeps a user's file in the run", TRAIN[:-1] + ["{run}", "--force"], 0, "",
               _write("run/notes.txt", b"mine\n"), survive=("run/notes.txt",))
    yield Case("hessian after train --force recomputes every spectrum", HESSIAN + ["--json"], 0, "",
               before=[HESSIAN, ["train", "--arch", "2-3-1", "--act", "esp", "--data", "linear", "--test-size", "0.25",
                                 "--epochs", "30", "--checkpoint-every", "10", "--seed", "7", "--out", "{run}", "--force"]],
               stdout=r'^(?!.*"cached": true).*"cached": false', survive=())
    yield Case("hessian on a run without an ownership manifest", HESSIAN, 2, "without ownership manifests; it is left alone",
               lambda tmp: (tmp / "run" / ".meanfield.json").unlink())
    yield Case("train --resume of a run without an ownership manifest", TRAIN[:-1] + ["{run}", "--resume"], 2,
               "without ownership manifests", lambda tmp: (tmp / "run" / ".meanfield.json").unlink())
    yield Case("hessian RUN ''", ["hessian", ""], 2, "RUN must name a run directory")
    yield Case("hessian RUN missing", ["hessian", "{tmp}/missing"], 2, "does not exist")
    yield Case("hessian RUN a foreign directory", ["hessian", "{tmp}/d"], 2, r"RUN '.*d' is not empty .*not\s+made by meanfield", mine)
    yield Case("sweep --out a directory with a user's sweep.csv", SWEEP[:-1] + ["{tmp}/d"], 2, "not made by meanfield",
               _write("d/sweep.csv", b"mine\n"))
    yield Case("sweep --out a training run", SWEEP[:-1] + ["{run}"], 2, "holds output of 'meanfield train run', not 'meanfield sweep'")
    yield Case("sweep --out ''", SWEEP[:-1] + [""], 2, "--out must name a directory")
    yield Case(
        "sweep with a damaged sweep.json",
        SWEEP,
        2,
        r"sweep.json' is damaged",
        _both(
            _write("s/sweep.json", b"{"),
            _write(
                "s/.meanfield.json",
                json.dumps({"owner": "meanfield", "kind": "meanfield sweep", "entries": ["rows", "sweep.json"]}, indent=1).encode() + b"\n",
            ),
            _mkdir("s/rows"),
        ),
    )
    yield Case("sweep --beta-init repeated", SWEEP + ["--beta-init", "0.1,0.1"], 2, "--beta-init lists 0.1 twice")
    yield Case("sweep --scheduler ''", SWEEP + ["--scheduler", ""], 2, "--scheduler must be 'local-dask' or a Dask scheduler address")
    yield Case("sweep --scheduler not an address", SWEEP + ["--scheduler", "nohost"], 2, r"'nohost' is not 'local-dask' or a Dask")
    yield Case("sweep --scheduler where nothing listens", SWEEP + ["--scheduler", "tcp://127.0.0.1:1"], 2,
               r"--scheduler 'tcp://127.0.0.1:1' is not reachable")
    yield Case("verify --only '('", ["verify", "--only", "("], 2, r"--only '\(' is not a valid regular expression")
    yield Case("verify --only ''", ["verify", "--only", ""], 2, "--only must be a regular expression")
    yield Case("verify --only matching nothing", ["verify", "--only", "no such check"], 2, "no check matches")
    yield Case("train --arch too large", ["train", "--arch", "2-1000000000-1", "--epochs", "1", "--out", "{tmp}/r"], 2,
               r"--arch 2-1000000000-1 \(\d+ parameters\).* needs about .*(GB of memory|floating-point operations)")
    yield Case("train that diverges", ["train", "--arch", "2-3-1", "--act", "linear", "--output", "linear", "--data", "{tmp}/big.npz",
                                       "--optimizer", "sgd", "--lr", "1e10", "--decay-rate", "1", "--epochs", "50",
                                       "--test-size", "0", "--out", "{tmp}/r"], 1, r"training loss became .* at epoch",
               _write("big.npz", _regression))
    yield Case("train --lr given as a negative without '='", TRAIN + ["--lr", "-1e-3"], 2,
               r"argument --lr: expected one argument \(a value starting with '-' is written --option=VALUE\)")
    yield Case("train unknown option", TRAIN + ["--nonsense", "3"], 2, r"unrecognized arguments: --nonsense 3")
    yield Case("derive unknown topic", ["derive", "nope"], 2, "topic 'nope' is not known")


CASES = [*_numeric_cases(), *_data_cases(), *_run_file_cases(), *_ownership_cases()]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A small ESP run (checkpoints at epochs 0, 10, 20, 30) with its Hessian spectra cached."""
    out = tmp_path_factory.mktemp("faults") / "run"
    argv = ["train", "--arch", "2-3-1", "--act", "esp", "--data", "linear", "--test-size", "0.25", "--epochs", "30",
            "--checkpoint-every", "10", "--out", str(out)]
    assert main(argv) == 0
    assert main(["hessian", str(out), "--json"]) == 0
    return out


def _snapshot(root: Path) -> dict:
    files = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.name not in LOCKS and os.access(path, os.R_OK):
            files[str(path.relative_to(root))] = path.read_bytes()
    return files


def _expand(argv, tmp):
    return [str(a).replace("{tmp}", str(tmp)).replace("{run}", str(tmp / "run")) for a in argv]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_fault(case, tmp_path, trained, capsys):
    if case.skip:
        pytest.skip(case.skip)
    if any("{run}" in str(a) for a in case.argv + [x for b in case.before for x in b]):
        shutil.copytree(trained, tmp_path / "run")
    for argv in case.before:
        assert main(_expand(argv, tmp_path)) == 0, capsys.readouterr().err
    if case.setup:
        case.setup(tmp_path)
    before = _snapshot(tmp_path)
    capsys.readouterr()
    code = main(_expand(case.argv, tmp_path))
    out, err = capsys.readouterr()
    assert code == case.code, err
    assert "Traceback" not in err and "\r" not in err  # no carriage-return frames when stderr is not a terminal
    assert re.search(case.pattern, err), err
    if case.stdout is not None:
        assert re.search(case.stdout, out, re.S), out[:2000]
    if code == 2:
        assert out == "" and err.count("\n") == 1, err
    after = _snapshot(tmp_path)
    kept = before if case.survive == ALL else {k: before[k] for k in case.survive}
    changed = [k for k, v in kept.items() if after.get(k) != v]
    assert not changed, f"changed or lost: {changed}"
    if code == 2:
        assert not set(after) - set(before), f"created: {sorted(set(after) - set(before))}"


# -- beyond the table: resuming, permissions, services, concurrency, interrupts ------------------


def test_resume_with_more_epochs_gives_the_history_of_an_uninterrupted_run(tmp_path, capsys):
    base = ["train", "--arch", "2-3-1", "--act", "tanh", "--data", "linear", "--batch-size", "16", "--record-every", "1",
            "--checkpoint-every", "5"]
    assert main(base + ["--epochs", "20", "--out", str(tmp_path / "a")]) == 0
    assert main(base + ["--epochs", "10", "--out", str(tmp_path / "b")]) == 0
    assert main(base + ["--epochs", "20", "--out", str(tmp_path / "b"), "--resume"]) == 0
    with np.load(tmp_path / "a" / "history.npz") as a, np.load(tmp_path / "b" / "history.npz") as b:
        assert a["loss"].shape == b["loss"].shape == (21,)
        for key in a.files:
            assert np.array_equal(a[key], b[key]), key


def test_run_directories_get_the_permissions_of_ordinary_new_folders(tmp_path, capsys):
    old = os.umask(0o022)
    try:
        assert main(["train", "--arch", "2-3-1", "--data", "linear", "--epochs", "1", "--out", str(tmp_path / "x" / "r")]) == 0
    finally:
        os.umask(old)
    for path in (tmp_path / "x", tmp_path / "x" / "r"):
        assert path.stat().st_mode & 0o777 == 0o755
    assert (tmp_path / "x" / "r" / "params.npz").stat().st_mode & 0o777 == 0o644


def test_scheduler_that_is_not_dask_fails_within_ten_seconds_naming_it(tmp_path, capsys):
    pytest.importorskip("dask.distributed")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)  # shutdown() waits for no handler
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    address = f"tcp://127.0.0.1:{server.server_port}"
    try:
        start = time.monotonic()
        code = main(["sweep", "--arch", "2-3-1", "--act", "esp", "--seeds", "1", "--epochs", "2", "--out", str(tmp_path / "s"),
                     "--scheduler", address])
        elapsed = time.monotonic() - start
    finally:
        server.shutdown()
        server.server_close()
    err = capsys.readouterr().err
    assert code == 2 and address in err and err.count("\n") == 1, err
    assert elapsed < 12


def _cli(*argv):
    return [sys.executable, "-m", "meanfield", *map(str, argv)]


ENV = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
LONG = ["train", "--arch", "2-8-1", "--data", "linear", "--epochs", "100000000", "--checkpoint-every", "100000000"]


def _start_long_run(out: Path):
    child = subprocess.Popen(_cli(*LONG, "--out", out), stderr=subprocess.PIPE, text=True, env=ENV)
    deadline = time.monotonic() + 120
    while not (out / "state.npz").exists() and time.monotonic() < deadline:  # the epoch-0 state: the lock is held
        time.sleep(0.05)
    assert (out / "state.npz").exists(), "the run did not start"
    return child


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and flock")
def test_a_second_process_on_a_run_in_progress_is_refused_and_changes_nothing(tmp_path):
    out = tmp_path / "r"
    child = _start_long_run(out)
    try:
        config = (out / "config.json").read_bytes()
        second = subprocess.run(_cli("train", "--arch", "2-4-1", "--data", "linear", "--epochs", "3", "--out", out, "--force"),
                                capture_output=True, text=True, env=ENV, timeout=120)
        hessian = subprocess.run(_cli("hessian", out), capture_output=True, text=True, env=ENV, timeout=120)
        assert second.returncode == 2 and f"pid {child.pid}" in second.stderr and "in use" in second.stderr, second.stderr
        assert hessian.returncode == 2 and "in use by another meanfield process" in hessian.stderr, hessian.stderr
        assert (out / "config.json").read_bytes() == config
    finally:
        child.send_signal(signal.SIGINT)
        _, err = child.communicate(timeout=120)
    assert child.returncode == 130 and "--resume" in err
    assert json.loads((out / "config.json").read_text())["run"]["arch"] == "2-8-1"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_a_killed_run_leaves_no_lock_behind(tmp_path):
    out = tmp_path / "r"
    child = _start_long_run(out)
    child.kill()
    child.communicate(timeout=60)
    resumed = subprocess.run(_cli(*LONG[:-4], "--epochs", "3", "--out", out, "--force"), capture_output=True, text=True,
                             env=ENV, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
