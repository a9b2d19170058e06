"""Proof of play: one JSON line per slot shown or skipped, appended off the render loop."""

from __future__ import annotations

import json
import logging
import os
import queue
import threading
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

from sync.layout import PROOF_KEEP_OLD, rotated

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlayRecord:
    screen: str
    item: str
    playlist: str
    language: str
    start: str  # ISO 8601 wall time in the screen's zone (schedule time when the clock is unset)
    planned: float | None
    actual: float
    status: str  # "completed", "cut" (interrupted) or "skipped"
    reason: str = ""
    id: str = ""
    frames_shown: int | None = None  # a video's frames put on screen; None (left out of the line) for a slide
    frames_dropped: int | None = None  # a video's frames passed over, too late to show

    def line(self) -> str:
        data = asdict(self)
        data["id"] = self.id or uuid.uuid4().hex
        data["planned"] = None if self.planned is None else round(self.planned, 3)
        data["actual"] = round(self.actual, 3)
        if self.frames_shown is None:
            del data["frames_shown"], data["frames_dropped"]
        return json.dumps(data, ensure_ascii=False)


@dataclass(frozen=True)
class TouchRecord:
    """One screen a visitor looked at on a touch kiosk: a line with `"kind": "touch"` (play lines have no kind)."""

    screen: str
    topic: str  # topic ids from the home menu, joined with "/"; "" for the home menu
    page: str  # the page id; "" for a menu screen
    language: str
    start: str  # ISO 8601 wall time in the screen's zone
    seconds: float
    ended: str  # what ended the view: open, page, back, home, language, idle, notice, exit
    id: str = ""

    def line(self) -> str:
        data = asdict(self)
        data = {"kind": "touch", **data, "id": self.id or uuid.uuid4().hex, "seconds": round(self.seconds, 3)}
        return json.dumps(data, ensure_ascii=False)


class Background:
    """One writer thread for small file jobs (proof lines, the last-seen clock), so disk never stalls a frame."""

    def __init__(self) -> None:
        self._jobs: queue.Queue[Callable[[], None] | None] = queue.Queue(maxsize=10000)
        self._thread = threading.Thread(target=self._run, name="state-writer", daemon=True)
        self._thread.start()

    def submit(self, job: Callable[[], None]) -> None:
        try:
            self._jobs.put_nowait(job)
        except queue.Full:
            log.error("state writer is %d jobs behind (disk stalled?); dropping a write", self._jobs.qsize())

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            try:
                job()
            except Exception:
                log.exception("state write failed")

    def close(self, timeout: float = 5.0) -> None:
        self._jobs.put(None)
        self._thread.join(timeout)


class ProofLog:
    """Appends proof lines; past `max_bytes` the file moves to .1 (then .2, .3), so months of play stay bounded."""

    def __init__(self, path: Path, writer: Background, max_bytes: int = 10 * 2**20) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self._ends_clean = False  # checked once: a line cut by a power loss must not swallow the next one
        self.writer = writer
        self._warned = False

    def record(self, record: PlayRecord | TouchRecord) -> None:
        line = record.line() + "\n"
        self.writer.submit(lambda: self._append(line))

    def _append(self, line: str) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self.path.exists() and self.path.stat().st_size > self.max_bytes:
                for older in range(PROOF_KEEP_OLD, 0, -1):  # proof-of-play.jsonl.1 is the newest old file
                    source = self.path if older == 1 else rotated(self.path, older - 1)
                    if source.exists():
                        os.replace(source, rotated(self.path, older))
            with self.path.open("a", encoding="utf-8") as out:
                if not self._ends_clean:
                    out.write(self._separator())
                    self._ends_clean = True
                out.write(line)
            self._warned = False
        except OSError as exc:
            if not self._warned:  # a full disk must not flood the log either
                log.error("cannot write proof of play to %s: %s", self.path, exc)
                self._warned = True


    def _separator(self) -> str:
        try:
            with self.path.open("rb") as src:
                src.seek(-1, os.SEEK_END)
                return "" if src.read(1) == b"\n" else "\n"
        except OSError:  # empty or missing: nothing to close
            return ""


def read_proof(path: Path) -> list[dict[str, object]]:
    """Every intact line of a proof-of-play file (a line cut by a power loss is left out)."""
    out: list[dict[str, object]] = []
    if not path.exists():
        return out
    for raw in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            out.append(json.loads(raw))
        except json.JSONDecodeError:
            continue
    return out
