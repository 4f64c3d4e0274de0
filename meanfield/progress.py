"""A one-line progress bar on stderr, for any long command.

``Progress(total, label)`` redraws at most ``rate`` times a second with
``update(done, info)`` and clears or ends the line with ``close()``. It
draws only on a terminal unless told otherwise (``enabled=True``).
"""

from __future__ import annotations

import sys
import time


class Progress:
    def __init__(self, total: int, label: str = "", stream=None, enabled: bool | None = None, width: int = 28, rate: float = 10.0):
        self.total = max(int(total), 0)
        self.label = label
        self.stream = sys.stderr if stream is None else stream
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.width = width
        self.interval = 1.0 / rate
        self.start = time.monotonic()
        self._last = -float("inf")
        self._shown = 0

    def render(self, done: int, info: str = "") -> str:
        frac = 1.0 if self.total == 0 else min(max(done / self.total, 0.0), 1.0)
        filled = int(round(frac * self.width))
        elapsed = time.monotonic() - self.start
        eta = elapsed * (1 - frac) / frac if frac > 0 else float("nan")
        eta_text = "--:--" if eta != eta else f"{int(eta) // 60:02d}:{int(eta) % 60:02d}"
        parts = [self.label, f"[{'#' * filled}{'.' * (self.width - filled)}]", f"{done}/{self.total}", f"{100 * frac:3.0f}%", f"eta {eta_text}", info]
        return " ".join(p for p in parts if p)

    def update(self, done: int, info: str = "", force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._last < self.interval and done < self.total:
            return
        self._last = now
        line = self.render(done, info)
        pad = " " * max(self._shown - len(line), 0)
        self.stream.write("\r" + line + pad)
        self.stream.flush()
        self._shown = len(line)

    def close(self, keep: bool = False) -> None:
        """End the bar: leave the last line (``keep``) or erase it."""
        if not self.enabled or self._shown == 0:
            return
        self.stream.write("\n" if keep else "\r" + " " * self._shown + "\r")
        self.stream.flush()
        self._shown = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
