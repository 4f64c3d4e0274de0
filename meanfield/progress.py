"""Progress of long commands on stderr: a redrawn bar on a terminal, plain lines in a log.

``Progress(total, label)`` on a terminal redraws one line at most ``rate``
times a second with ``update(done, info)`` and clears it with ``close()``.
When the stream is not a terminal (a log file, a pipe) it writes no
carriage-return frames: one plain line per stage, that is per
``update(..., force=True)``. ``enabled=True`` forces the bar, ``False``
silences it. :func:`stage_printer` does the same for commands that report
named stages instead of counts.
"""

from __future__ import annotations

import sys
import time


class Progress:
    def __init__(self, total: int, label: str = "", stream=None, enabled: bool | None = None, width: int = 28, rate: float = 10.0):
        self.total = max(int(total), 0)
        self.label = label
        self.stream = sys.stderr if stream is None else stream
        terminal = _isatty(self.stream)
        self.enabled = True if enabled is None else enabled
        self.lines = enabled is None and not terminal  # plain lines, one per stage
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
        if self.lines:
            if force:
                parts = [self.label, f"{done}/{self.total}", info]
                self.stream.write(" ".join(p for p in parts if p) + "\n")
                self.stream.flush()
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
        if not self.enabled or self.lines or self._shown == 0:
            return
        self.stream.write("\n" if keep else "\r" + " " * self._shown + "\r")
        self.stream.flush()
        self._shown = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def stage_printer(stream=None, width: int = 78):
    """``report(message)``: on a terminal the message replaces the previous one on a single line (``report(None)``
    clears it); elsewhere each message is a line of its own."""
    stream = sys.stderr if stream is None else stream
    terminal = _isatty(stream)

    def report(message: str | None) -> None:
        if terminal:
            stream.write("\r" + " " * width + "\r" if message is None else f"\r{message:<{width}.{width}}")
        elif message is not None:
            stream.write(message + "\n")
        stream.flush()

    return report
