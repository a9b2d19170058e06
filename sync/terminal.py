"""What the sync command line prints: a progress bar for copies and uploads, sizes, and log lines as messages."""

from __future__ import annotations

import logging
import sys
import time
from typing import TextIO


class ProgressBar:
    """Bytes copied / total on one line of a terminal, redrawn in place; a line per 10% when not a terminal."""

    def __init__(self, stream: TextIO, width: int = 30) -> None:
        self.stream, self.width = stream, width
        self.tty = stream.isatty()
        self.last_draw, self.last_step, self.drawn = 0.0, -1, False

    def __call__(self, done: int, total: int) -> None:
        total = max(total, 1)
        if self.tty:
            now = time.monotonic()
            if done < total and now - self.last_draw < 0.1:
                return
            self.last_draw = now
            filled = self.width * done // total
            bar = "#" * filled + "-" * (self.width - filled)
            self.stream.write(f"\r[{bar}] {100 * done // total:3d}%  {human_bytes(done)} / {human_bytes(total)}   ")
            self.drawn = done < total
            if done >= total:
                self.stream.write("\n")
        elif (step := 10 * done // total) > self.last_step:
            self.last_step = step
            self.stream.write(f"copied {human_bytes(done)} / {human_bytes(total)} ({10 * step}%)\n")
        self.stream.flush()

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()


def human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{n} B"


def setup_logging(verbose: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Formatter())
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, handlers=[handler], force=True)


class _Formatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        return f"{record.levelname.lower()}: {message}" if record.levelno >= logging.WARNING else message
