"""Run directories: ``config.json`` (everything to redo a run) and ``.npz`` arrays, written atomically.

Every file is written to a temporary name in the same directory, flushed to
disk and renamed over the target, so a reader (or a run interrupted while
saving) sees either the old or the new file, never a partial one.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from numerics.files import write_atomic

CONFIG = "config.json"


class RunDir:
    """A directory holding one run; ``files`` are the names a run writes (removed by ``force``).

    ``guard(name)``, when given, is called before each write (to check and
    record who owns the file); ``recover`` is the advice printed when a
    saved file is damaged.
    """

    def __init__(self, path, files=(CONFIG,), guard=None, recover="start the run over with --force"):
        self.path = Path(path)
        self.files = tuple(files)
        self.guard = guard
        self.recover = recover

    def file(self, name: str) -> Path:
        return self.path / name

    def exists(self, name: str) -> bool:
        return self.file(name).is_file()

    def _write(self, name: str, write) -> None:
        if self.guard is not None:
            self.guard(name)
        write_atomic(self.file(name), write)

    def write_json(self, name: str, obj) -> None:
        if name == CONFIG and isinstance(obj, dict) and isinstance(obj.get("network"), dict):
            from numerics.kernels.activations import record  # the expressions of registered activations, to redo the run anywhere

            obj = dict(obj, **record(obj["network"].get("hidden", ())))
        text = json.dumps(obj, indent=2, sort_keys=True, allow_nan=False) + "\n"
        self._write(name, lambda fh: fh.write(text.encode("utf-8")))

    def _damaged(self, name: str, exc: BaseException) -> ValueError:
        reason = str(exc) or type(exc).__name__
        return ValueError(f"{str(self.file(name))!r} is damaged or unreadable ({reason}); {self.recover}")

    def read_json(self, name: str, keys=()):
        """The JSON object in ``name``; ValueError naming the file when it is damaged or lacks one of ``keys``."""
        try:
            obj = json.loads(self.file(name).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise self._damaged(name, exc) from None
        if keys and not isinstance(obj, dict):
            raise self._damaged(name, TypeError(f"a JSON object expected, found {type(obj).__name__}"))
        missing = [k for k in keys if not isinstance(obj.get(k), dict)]
        if missing:
            raise self._damaged(name, KeyError(f"no {missing[0]!r} section"))
        if name == CONFIG and isinstance(obj, dict) and "activations" in obj:
            from numerics.kernels.activations import register_recorded

            register_recorded(obj["activations"])
        return obj

    def write_npz(self, name: str, arrays: dict) -> None:
        self._write(name, lambda fh: np.savez(fh, **arrays))

    def read_npz(self, name: str) -> dict:
        """The arrays in ``name``; ValueError naming the file when it is truncated, corrupted or unreadable."""
        try:
            with np.load(self.file(name), allow_pickle=False) as npz:
                return {k: npz[k] for k in npz.files}
        except Exception as exc:  # BadZipFile, EOFError, zlib.error, ValueError, OSError: all mean a damaged file
            raise self._damaged(name, exc) from None

    def open(self, config: dict, resume: bool = False, force: bool = False, compare=None) -> dict | None:
        """Prepare the directory for a run described by ``config``.

        A new or empty directory gets ``config.json``. An existing run is
        continued with ``resume`` (its saved config is returned, after
        ``compare(saved, config)`` had its say) or replaced with ``force``;
        otherwise ValueError. Returns the saved config when resuming, else None.
        """
        if resume and force:
            raise ValueError("--resume and --force exclude each other: continue the run or start it over")
        if self.path.exists() and not self.path.is_dir():
            raise ValueError(f"run directory {str(self.path)!r} exists and is not a directory")
        present = self.path.is_dir() and any(self.path.iterdir())
        is_run = self.exists(CONFIG)
        if present and not is_run:
            raise ValueError(f"{str(self.path)!r} is not empty and holds no {CONFIG}: not a run directory; choose another --out")
        if resume:
            if not is_run:
                raise ValueError(f"nothing to resume: {str(self.path)!r} holds no run ({CONFIG} missing)")
            saved = self.read_json(CONFIG)
            if compare is not None:
                compare(saved, config)
            return saved
        if is_run and not force:
            raise ValueError(f"run directory {str(self.path)!r} already holds a run; use --resume to continue it or --force to replace it")
        self.path.mkdir(parents=True, exist_ok=True)
        for name in self.files:
            if self.exists(name):
                self.file(name).unlink()
        self.write_json(CONFIG, config)
        return None
