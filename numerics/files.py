"""Atomic file writes: a reader, or a run interrupted while saving, sees the old file or the new one, never part of one.

The content goes to a temporary name in the target's directory, is flushed
to disk and renamed over the target (``os.replace`` is atomic on POSIX and
Windows within one file system).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


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
