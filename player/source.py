"""Where the screen's content comes from: kiosk.yaml's folders, or the sync store's current generation.

The sync process switches the store's `current` link when a complete, verified
generation is ready; the loop asks `check()` at item boundaries and gets a new
Program only then. A generation that cannot be played at all is marked bad and
the previous good one is switched back in (the sync process will not retry it).
"""

from __future__ import annotations

import logging
import os
import threading
from datetime import datetime
from pathlib import Path
from typing import Callable

from sync.layout import StateFolder, content_folders
from sync.store import Store

from .config import KioskConfig
from .content import load_content
from .errors import ContentError, Problem
from .fontfiles import has_font_for
from .sequence import Program

log = logging.getLogger(__name__)


def load_program(config: KioskConfig, now: datetime, folders: tuple[Path, Path] | None = None) -> tuple[Program, list[Problem]]:
    """The screen's content as a Program; errors in single items leave them out, not the whole loop.

    `folders` (playlists, media) default to kiosk.yaml's content folders; a synced screen passes
    the folders of its store's current generation.
    """
    playlists_dir, media_dir = folders or (config.playlists_dir, config.media_dir)
    content, problems = load_content(playlists_dir, media_dir, config.languages, has_font_for(config), now)
    for problem in problems:
        (log.error if problem.severity == "error" else log.warning)("%s", problem)
    return Program.build(content, config.languages, config.resolve_language), problems


def playable(program: Program, problems: list[Problem]) -> bool:
    """Anything at all to show: at least one playlist with slots, and a schedule that can play."""
    if not any(slots for _, slots in program.slots):
        return False
    return not any(p.severity == "error" and p.key == "dayparts" for p in problems)


class ContentSource:
    def __init__(self, config: KioskConfig) -> None:
        self.config = config
        # The store's layout and rollback only (sync/store.py); the player never imports sync's HTTP code.
        self.store = Store(StateFolder(config.state_dir).store.root) if config.sync else None
        self.generation: str | None = None  # the store generation playing; None: kiosk.yaml's own folders
        self._seen_target: str | None = None

    def _target(self) -> str | None:
        if self.store is None:
            return None
        try:
            return os.readlink(self.store.current_link)
        except OSError:
            return None

    def first(self, now: datetime) -> Program:
        """The content to start with: the store's generation if it plays, else kiosk.yaml's folders."""
        program = self.check(now)
        if program is not None:
            return program
        if self.store is not None:
            log.info("no synced content yet: playing the local folders %s and %s",
                     self.config.playlists_dir, self.config.media_dir)
        program, _ = load_program(self.config, now)
        return program

    def check(self, now: datetime) -> Program | None:
        """A new Program when the store's current generation changed (cheap otherwise: one readlink)."""
        target = self._target()
        if target is None or target == self._seen_target:
            return None
        self._seen_target = target
        assert self.store is not None  # a target was read from it
        folder = self.store.root / target
        name = Path(target).name
        if not self._complete(self.store, name):
            log.error("content generation %s is incomplete on disk: rolling back", name)
            self._roll_back(self.store, name, "files missing or cut short")
            return None
        try:
            program, problems = load_program(self.config, now, content_folders(folder))
        except ContentError as exc:
            program, problems = None, exc.problems
        if program is not None and playable(program, problems):
            log.info("playing content generation %s", name)
            self.generation = name
            return program
        reason = "; ".join(str(p) for p in problems if p.severity == "error")[:500] or "nothing in it can play"
        log.error("content generation %s cannot be played (%s): rolling back", name, reason)
        self._roll_back(self.store, name, reason)
        return None

    @staticmethod
    def _complete(store: Store, name: str) -> bool:
        """Every file of the generation there at its size: a stat per file, fast enough for a boundary."""
        generation = store.load_generation(name)
        return generation is not None and store.is_complete(generation)

    @staticmethod
    def _roll_back(store: Store, bad: str, reason: str) -> None:
        try:
            store.mark_bad(bad, reason)
            previous = store.best_generation()
            if previous is not None:
                store.switch_to(previous)
                log.warning("switched back to generation %s", previous.name)
        except Exception as exc:  # a failing disk must not stop the loop; the old content is still on screen
            log.error("rollback of %s failed: %s", bad, exc)


class WatchedSource:
    """Runs a ContentSource's checks on a thread of its own: parsing a new generation (tens of ms) never
    happens inside a frame; the loop only picks up a Program that is already loaded."""

    def __init__(self, source: ContentSource, clock: Callable[[], datetime], interval: float = 1.0) -> None:
        self.source = source
        self._clock = clock
        self._interval = interval
        self._ready: Program | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="content-watch", daemon=True)

    def start(self) -> "WatchedSource":
        self._thread.start()
        return self

    def _watch(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                program = self.source.check(self._clock())
            except Exception:  # a bad generation must never end the watching
                log.exception("checking for new content failed")
                continue
            if program is not None:
                with self._lock:
                    self._ready = program

    def check(self, now: datetime) -> Program | None:
        """The newest loaded generation since the last call, if any (called at item boundaries)."""
        with self._lock:
            program, self._ready = self._ready, None
        return program

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
