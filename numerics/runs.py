"""Run directories: ``config.json`` (everything to redo a run) and ``.npz`` arrays, written atomically.

Every file is written to a temporary name in the same directory, flushed to
disk and renamed over the target, so a reader (or a run interrupted while
saving) sees either the old or the new file, never a partial one.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np

CONFIG = "config.json"


def write_atomic(path, write) -> None:
    """Call ``write(fileobj)`` on a temporary file beside ``path``, then rename it to ``path``."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    umask = os.umask(0)
    os.umask(umask)
    try:
        os.fchmod(fd, 0o666 & ~umask)  # the permissions of an ordinary new file
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


class RunDir:
    """A directory holding one run; ``files`` are the names a run writes (removed by ``force``)."""

    def __init__(self, path, files=(CONFIG,)):
        self.path = Path(path)
        self.files = tuple(files)

    def file(self, name: str) -> Path:
        return self.path / name

    def exists(self, name: str) -> bool:
        return self.file(name).is_file()

    def write_json(self, name: str, obj) -> None:
        if name == CONFIG and isinstance(obj, dict) and isinstance(obj.get("network"), dict):
            from numerics.activations import record  # the expressions of registered activations, to redo the run anywhere

            obj = dict(obj, **record(obj["network"].get("hidden", ())))
        text = json.dumps(obj, indent=2, sort_keys=True) + "\n"
        write_atomic(self.file(name), lambda fh: fh.write(text.encode("utf-8")))

    def read_json(self, name: str):
        try:
            obj = json.loads(self.file(name).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ValueError(f"run directory {str(self.path)!r}: {name} cannot be read: {exc}") from None
        if name == CONFIG and isinstance(obj, dict) and "activations" in obj:
            from numerics.activations import register_recorded

            register_recorded(obj["activations"])
        return obj

    def write_npz(self, name: str, arrays: dict) -> None:
        write_atomic(self.file(name), lambda fh: np.savez(fh, **arrays))

    def read_npz(self, name: str) -> dict:
        try:
            with np.load(self.file(name), allow_pickle=False) as npz:
                return {k: npz[k] for k in npz.files}
        except (OSError, ValueError) as exc:
            raise ValueError(f"run directory {str(self.path)!r}: {name} cannot be read: {exc}") from None

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
