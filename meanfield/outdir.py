"""Directories the toolkit writes into: ownership manifest, exclusive lock, atomic files, stale partials.

A directory named by the user (``--out DIR``, a run directory) is theirs.
The toolkit marks what it writes there in a manifest, ``.meanfield.json``
(its kind and the names of the entries it created), and

- refuses a non-empty directory without a manifest, or one made by another
  command (another kind), with one line naming the directory and an entry;
- never replaces an entry it did not create; ``force`` removes only the
  entries listed in the manifest;
- holds an exclusive lock (``fcntl.flock`` on ``.meanfield.lock``) while it
  writes, so two processes never mix their output in one directory; a second
  one is refused at once, naming the process that holds the lock;
- writes every file atomically (temporary name, then rename) and builds a
  folder as ``NAME.partial`` renamed to ``NAME`` when complete; a
  ``.partial`` folder left by a killed process (listed in the manifest, its
  writer gone since the lock is free) is removed when the directory is next
  opened.

Derived results are keyed by :func:`digest` of everything they depend on.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import shutil
from pathlib import Path

from numerics.files import write_atomic

MANIFEST = ".meanfield.json"
LOCK = ".meanfield.lock"
PARTIAL = ".partial"
OWNER = "meanfield"


class ForeignContent(ValueError):
    """The directory or an entry in it was not written by the toolkit (or by another command)."""


class DirectoryLocked(ValueError):
    """Another process holds the directory's lock."""


def digest(obj) -> str:
    """SHA-256 (hex) of ``obj`` as canonical JSON: a cache key of parameters and input fingerprints."""
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def file_digest(path) -> str:
    """SHA-256 (hex) of a file's bytes, or of a directory's files (relative names and bytes, sorted)."""
    path = Path(path)
    h = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for f in files:
        if f != path:
            h.update(str(f.relative_to(path)).encode() + b"\0")
        with open(f, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


class OutDir:
    """A directory the toolkit writes, of one ``kind`` (e.g. ``"train run"``); use as a context manager.

    ``open(force)`` checks ownership, creates the directory (normal
    permissions), takes the lock and removes stale partials; it returns True
    when the directory already held this kind's output (kept unless ``force``).
    ``close()`` releases the lock.
    """

    def __init__(self, path, kind: str, option: str = "--out"):
        if str(path) == "":
            raise ValueError(f"{option} must name a directory, got an empty string")
        self.path = Path(path)
        self.kind = kind
        self.option = option
        self._lock_fd: int | None = None
        self._entries: set[str] = set()

    # -- ownership --------------------------------------------------------------------------

    def _read_manifest(self) -> dict | None:
        path = self.path / MANIFEST
        if not path.is_file():
            return None
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
            if manifest.get("owner") != OWNER or not isinstance(manifest.get("entries"), list):
                raise ValueError("not a meanfield manifest")
        except (OSError, ValueError, AttributeError) as exc:
            raise ForeignContent(f"{str(path)!r} is damaged ({exc}); the directory's ownership is unknown: "
                                 f"move its content away or choose another {self.option}") from None
        return manifest

    def _write_manifest(self) -> None:
        text = json.dumps({"owner": OWNER, "kind": self.kind, "entries": sorted(self._entries)}, indent=1) + "\n"
        write_atomic(self.path / MANIFEST, lambda fh: fh.write(text.encode("utf-8")))

    def owns(self, name: str) -> bool:
        return name in self._entries

    def own(self, *names: str) -> None:
        """Record entries as the toolkit's own (before writing them)."""
        new = set(names) - self._entries
        if new:
            self._check_locked()
            self._entries |= new
            self._write_manifest()

    def check_free(self, name: str) -> Path:
        """The path of entry ``name``; ForeignContent if it exists and is not the toolkit's."""
        target = self.path / name
        if (target.exists() or target.is_symlink()) and not self.owns(name):
            raise ForeignContent(f"{str(target)!r} was not written by meanfield; it is left alone: "
                                 f"move it away or choose another {self.option}")
        return target

    def open(self, force: bool = False) -> bool:
        if self.path.exists() and not self.path.is_dir():
            raise ValueError(f"{self.option} {str(self.path)!r} exists and is not a directory")
        manifest = self._check_owner()
        self.path.mkdir(parents=True, exist_ok=True)
        self._lock()
        try:
            manifest = self._check_owner()  # again, under the lock
            self._entries = set(manifest["entries"]) if manifest else set()
            self._clean_partials()
            if force:
                self.remove_own()
            self._write_manifest()
        except BaseException:
            self.close()
            raise
        return bool(self._entries)

    def _check_owner(self) -> dict | None:
        if not self.path.is_dir():
            return None
        manifest = self._read_manifest()
        if manifest is None:
            foreign = sorted(p.name for p in self.path.iterdir() if p.name != LOCK)
            if foreign:
                raise ForeignContent(f"{self.option} {str(self.path)!r} is not empty ({foreign[0]!r}, ...) and was not "
                                     f"made by meanfield; nothing in it is touched: choose another {self.option}")
            return None
        if manifest.get("kind") != self.kind:
            raise ForeignContent(f"{self.option} {str(self.path)!r} holds output of {manifest.get('kind')!r}, not "
                                 f"{self.kind!r}; choose another {self.option}")
        return manifest

    def remove_own(self) -> None:
        """Delete every entry the manifest lists (and nothing else)."""
        self._check_locked()
        for name in sorted(self._entries):
            _remove(self.path / name)
        self._entries.clear()
        self._write_manifest()

    def _clean_partials(self) -> None:
        stale = [n for n in self._entries if n.endswith(PARTIAL)]
        for name in stale:
            _remove(self.path / name)
        self._entries -= set(stale)

    # -- lock -------------------------------------------------------------------------------

    def _lock(self) -> None:
        fd = os.open(self.path / LOCK, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            os.close(fd)
            if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise DirectoryLocked(f"{self.option} {str(self.path)!r} is in use by another meanfield process "
                                      f"(pid {holder}); wait for it to finish or choose another {self.option}") from None
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._lock_fd = fd

    def _check_locked(self) -> None:
        if self._lock_fd is None:
            raise RuntimeError(f"{str(self.path)!r} is not open; call open() first")

    def close(self) -> None:
        if self._lock_fd is not None:
            fd, self._lock_fd = self._lock_fd, None
            os.close(fd)  # releases the flock

    def __enter__(self) -> OutDir:
        return self

    def __exit__(self, *exc) -> bool:
        self.close()
        return False

    # -- writing ----------------------------------------------------------------------------

    def write(self, name: str, data) -> Path:
        """Write entry ``name`` atomically: ``data`` is bytes, str (UTF-8) or a callable ``write(fileobj)``."""
        target = self.check_free(name)
        self.own(name)
        if isinstance(data, str):
            data = data.encode("utf-8")
        writer = data if callable(data) else (lambda fh: fh.write(data))
        write_atomic(target, writer)
        return target

    def mkdir(self, name: str) -> Path:
        """A sub-directory (normal permissions) recorded as the toolkit's own; kept if it already is."""
        target = self.check_free(name)
        self.own(name)
        target.mkdir(exist_ok=True)
        return target

    @contextlib.contextmanager
    def partial(self, name: str):
        """Build folder ``name`` as ``name.partial`` and rename it into place on success (replacing an own ``name``)."""
        target = self.check_free(name)
        tmp_name = name + PARTIAL
        tmp = self.check_free(tmp_name)
        self.own(tmp_name)
        _remove(tmp)
        tmp.mkdir()
        try:
            yield tmp
        except BaseException:
            _remove(tmp)
            self._entries.discard(tmp_name)
            self._write_manifest()
            raise
        self.own(name)
        if target.exists():
            _remove(target)
        os.replace(tmp, target)
        self._entries.discard(tmp_name)
        self._write_manifest()


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()
