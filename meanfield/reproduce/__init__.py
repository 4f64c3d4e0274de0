"""`meanfield reproduce`: regenerate the papers' results as figures, data and a report.

A stage writes into a private temporary directory and is renamed to its final
name only when complete, with ``stage.json`` (captions, key numbers, seeds,
elapsed time) inside: a rerun skips completed stages (unless forced), an
interrupted run resumes at the first incomplete stage, and no half-written
file ever sits under a final name.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from meanfield import __version__

STYLE = Path(__file__).resolve().parent.parent / "house.mplstyle"


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
    synthetic: bool = False  # the ESP stages train on the synthetic twins instead of the paper's data

    def figure(self, name: str, fig, caption: str, data: dict) -> None:
        """Save ``fig`` as NAME.png and the numbers behind it as NAME.json."""
        import matplotlib.pyplot as plt

        fig.savefig(self.directory / f"{name}.png")
        plt.close(fig)
        (self.directory / f"{name}.json").write_text(json.dumps(data, indent=1, default=_jsonable))
        self.figures.append({"file": f"{name}.png", "data": f"{name}.json", "caption": caption})

    def number(self, key: str, value, description: str) -> None:
        self.numbers.append({"key": key, "value": _jsonable(value), "description": description})

    def note(self, text: str) -> None:
        self.notes.append(text)


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


def check_output_dir(out: Path) -> Path:
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {str(out)!r} is a file; give a directory")
    out.mkdir(parents=True, exist_ok=True)
    if not os.access(out, os.W_OK):
        raise ValueError(f"--out {str(out)!r} is not writable")
    return out


def run_stage(stage: Stage, out: Path, quick: bool, data_dir, seed: int, force: bool, progress, synthetic: bool = False) -> dict:
    """Run one stage unless a complete copy of it exists; returns its stage.json contents."""
    final = out / stage.name
    record = final / "stage.json"
    if record.exists() and not force:
        done = json.loads(record.read_text())
        if done.get("quick") == quick and done.get("synthetic", False) == synthetic:
            return done | {"cached": True}
    tmp = Path(tempfile.mkdtemp(prefix=f".{stage.name}.partial-", dir=out))
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        ctx = Context(tmp, quick, Path(data_dir) if data_dir else None, seed, progress or (lambda message: None),
                      synthetic=synthetic)
        start = time.perf_counter()
        with plt.style.context(str(STYLE)):
            stage.run(ctx)
        done = {
            "stage": stage.name,
            "title": stage.title,
            "quick": quick,
            "synthetic": synthetic,
            "seed": seed,
            "version": __version__,
            "elapsed_s": round(time.perf_counter() - start, 2),
            "figures": ctx.figures,
            "numbers": ctx.numbers,
            "notes": ctx.notes,
        }
        (tmp / "stage.json").write_text(json.dumps(done, indent=1))
        if final.exists():
            shutil.rmtree(final)
        tmp.rename(final)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return done | {"cached": False}


def reproduce(out, quick=False, data_dir=None, force=False, seed=0, only=None, progress=None, synthetic=False) -> list[dict]:
    """Run every stage (or those named in ``only``) and write report.md and index.html."""
    from meanfield.reproduce.report import write_report

    out = check_output_dir(out)
    chosen = [s for s in stages() if only is None or s.name in only]
    results = []
    start = time.perf_counter()
    for i, stage in enumerate(chosen):
        report = progress or (lambda message: None)
        report(f"[{i + 1}/{len(chosen)}] {stage.title}")
        results.append(run_stage(stage, out, quick, data_dir, seed, force, lambda m, t=stage.title: report(f"[{i + 1}/{len(chosen)}] {t}: {m}"),
                                 synthetic=synthetic))
    write_report(out, results, quick=quick, elapsed=time.perf_counter() - start)
    return results
