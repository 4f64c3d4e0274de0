"""`meanfield reproduce`: regenerate the papers' results as figures, data and a report.

The output directory is the toolkit's own (:mod:`meanfield.outdir`): a
directory that holds anything meanfield did not write is refused, it is locked
while a run writes, and only entries listed in its manifest are ever replaced.

A stage builds its folder as ``NAME.partial`` and renames it to ``NAME`` when
complete, with ``stage.json`` inside (title, inputs and their digest, captions,
key numbers, notes, elapsed time). A rerun reuses a stage whose recorded
digest equals the digest of this run's inputs (quick or full, seed, the
``--data-dir`` files' SHA-256, the stage's options, the package version and
the stage module's source), recomputes it otherwise, and ``--force``
recomputes the chosen stages; an interrupted run resumes at the first
incomplete stage, and a ``.partial`` folder left by a killed run is removed
when the directory is next opened.

A stage is ``Stage(name, title, run)``; ``run(ctx)`` gets a :class:`Context`
and records figures (``ctx.figure``), key numbers (``ctx.number``) and notes
(``ctx.note``). A stage that checks a paper's claims also writes
``claims.json`` into ``ctx.directory``: a JSON list of rows
``{"claim", "authors", "ours", "verdict", "rule"}`` (strings; the verdict one
of ``supported``, ``partly``, ``contradicted``), rendered as the claims table
at the top of the report.
"""

from __future__ import annotations

import inspect
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from meanfield import __version__
from meanfield.outdir import OutDir, digest, file_digest

STYLE = Path(__file__).resolve().parent.parent / "house.mplstyle"
KIND = "meanfield reproduce"
RECORD = "stage.json"
CLAIMS = "claims.json"


@dataclass
class Context:
    """What a stage gets: where to write, how big to go, and recorders for the report."""

    directory: Path
    quick: bool
    data_dir: Path | None
    seed: int
    progress: Callable[[str], None] = lambda message: None
    figures: list = field(default_factory=list)
    numbers: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    outdir: OutDir | None = None
    synthetic: bool = False  # the ESP stages train on the synthetic twins instead of the paper's data

    def figure(self, name: str, fig, caption: str, data: dict) -> None:
        """Save ``fig`` as NAME.png and the numbers behind it as NAME.json."""
        import matplotlib.pyplot as plt

        fig.savefig(self.directory / f"{name}.png")
        plt.close(fig)
        (self.directory / f"{name}.json").write_text(json.dumps(data, indent=1, default=_jsonable))
        self.figures.append({"file": f"{name}.png", "data": f"{name}.json", "caption": caption})

    def number(self, key: str, value, description: str, unit: str = "") -> None:
        """A key number: ``description`` is its label in the report, ``unit`` empty for a pure number."""
        self.numbers.append({"key": key, "value": _jsonable(value), "description": description, "unit": unit})

    def note(self, text: str) -> None:
        self.notes.append(text)

    def shared_dir(self, name: str) -> Path:
        """A folder beside the stages (e.g. runs several stages analyse), the toolkit's own; kept across stages."""
        if self.outdir is None:
            raise RuntimeError("shared_dir needs the stage to run inside an output directory")
        return self.outdir.mkdir(name)


def _jsonable(v):
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, (np.floating, np.integer)):
        return v.item()
    return v


@dataclass(frozen=True)
class Stage:
    name: str
    title: str
    run: Callable[[Context], None]


def stages() -> list[Stage]:
    """All stages, in report order."""
    from meanfield.reproduce import esp, function_space, gate, storage

    return list(gate.STAGES) + list(esp.STAGES) + list(storage.STAGES) + list(function_space.STAGES)


PAPER_FILES = ("Lindata.mat", "NLdata.mat")


def check_data_dir(data_dir: Path) -> Path:
    """A --data-dir must hold the paper's two MATLAB files."""
    if not Path(data_dir).is_dir():
        raise ValueError(f"--data-dir {str(data_dir)!r} is not a directory")
    missing = [f for f in PAPER_FILES if not (Path(data_dir) / f).is_file()]
    if missing:
        raise ValueError(f"--data-dir {str(data_dir)!r} lacks {', '.join(missing)} (expected {', '.join(PAPER_FILES)})")
    return Path(data_dir)


def open_output_dir(out) -> OutDir:
    """The output directory, opened (ownership checked, locked, stale partials removed); close it when done."""
    d = OutDir(out, KIND)
    d.open()
    return d


def stage_inputs(stage: Stage, quick: bool, data_dir, seed: int, options: dict) -> dict:
    """Everything a stage's result depends on; its digest is the cache key."""
    data = None if data_dir is None else {f: file_digest(Path(data_dir) / f) for f in PAPER_FILES}
    return {
        "stage": stage.name,
        "quick": bool(quick),
        "seed": int(seed),
        "data_sha256": data,
        "options": options,
        "version": __version__,
        "code_sha256": _code_digest(stage),
    }


def _code_digest(stage: Stage) -> str | None:
    """SHA-256 of the source file defining the stage (None for a stage defined interactively)."""
    try:
        source = inspect.getsourcefile(stage.run)
    except TypeError:
        return None
    return file_digest(source) if source and Path(source).is_file() else None


def read_record(path: Path) -> dict | None:
    """A stage's stage.json, or None when it is missing or damaged (the stage is then recomputed)."""
    try:
        record = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and {"title", "figures", "numbers", "notes"} <= record.keys() else None


def run_stage(stage: Stage, out, quick: bool, data_dir, seed: int, force: bool, progress, **options) -> dict:
    """Run one stage unless a complete copy made from the same inputs exists; returns its stage.json contents.

    ``out`` is an open :class:`OutDir` or a path (opened and closed here).
    ``options`` are further stage inputs, set as attributes of the context
    and part of the cache key.
    """
    if not isinstance(out, OutDir):
        with open_output_dir(out) as d:
            return run_stage(stage, d, quick, data_dir, seed, force, progress, **options)
    inputs = stage_inputs(stage, quick, data_dir, seed, options)
    key = digest(inputs)
    out.check_free(stage.name)
    done = read_record(out.path / stage.name / RECORD) if out.owns(stage.name) else None
    if done is not None and not force and done.get("key") == key:
        return done | {"cached": True}

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with out.partial(stage.name) as tmp:
        ctx = Context(tmp, quick, Path(data_dir) if data_dir else None, seed, progress or (lambda message: None),
                      outdir=out)
        for name, value in options.items():
            setattr(ctx, name, value)
        start = time.perf_counter()
        with plt.style.context(str(STYLE)):
            stage.run(ctx)
        done = {
            "stage": stage.name,
            "title": stage.title,
            "quick": quick,
            "seed": seed,
            "data_dir": None if data_dir is None else str(Path(data_dir).resolve()),
            "version": __version__,
            "inputs": inputs,
            "key": key,
            "finished": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
            "elapsed_s": round(time.perf_counter() - start, 2),
            "figures": ctx.figures,
            "numbers": ctx.numbers,
            "notes": ctx.notes,
        }
        (tmp / RECORD).write_text(json.dumps(done, indent=1, ensure_ascii=False))
    return done | {"cached": False}


def completed(out: OutDir) -> list[dict]:
    """stage.json of every completed stage in the directory, in report order."""
    records = []
    for stage in stages():
        record = read_record(out.path / stage.name / RECORD) if out.owns(stage.name) else None
        if record is not None:
            records.append(record | {"stage": stage.name})
    return records


def reproduce(out, quick=False, data_dir=None, force=False, seed=0, only=None, progress=None, **options) -> list[dict]:
    """Run every stage (or those named in ``only``), then write report.md and index.html over all completed stages.

    Returns the records of the stages run or reused by this call.
    """
    from meanfield.reproduce.report import write_report

    chosen = [s for s in stages() if only is None or s.name in only]
    report = progress or (lambda message: None)
    results = []
    start = time.perf_counter()
    with open_output_dir(out) as d:
        for i, stage in enumerate(chosen):
            prefix = f"[{i + 1}/{len(chosen)}] {stage.title}"
            report(prefix)
            results.append(run_stage(stage, d, quick, data_dir, seed, force,
                                     lambda m, p=prefix: report(f"{p}: {m}"), **options))
        this_run = {r["stage"]: r["cached"] for r in results}
        write_report(d, [r | {"cached": this_run.get(r["stage"])} for r in completed(d)],
                     elapsed=time.perf_counter() - start)
    return results
