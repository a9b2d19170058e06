"""Urgent notices on screen: read the verified notices the sync client keeps, and draw the live one over everything.

A thread looks at the file four times a second and renders the notice's picture,
so the render loop only blits a finished Surface. "urgent" fills the screen;
"warning" and "info" are a band across the top; both show Vietnamese with one
foreign language at a time, the next every few seconds, so the text stays large
enough to read across the hall. Which notice shows is pure (`choose_notice`).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable

import pygame

from sync.layout import StateFolder

from .config import KioskConfig
from .damage import Layer
from .painter import make_renderer
from .proof import PlayRecord, ProofLog
from .slides import FOREIGN_SCALE, TITLE_SCALE, SlideRenderer
from .touch.kiosk import Kiosk

log = logging.getLogger(__name__)

CHECK_SECONDS = 0.25
ROTATE_SECONDS = 6.0  # a band shows Vietnamese plus one foreign language, the next one every 6 s
LEVEL_RANK = {"urgent": 0, "warning": 1, "info": 2}
COLORS = {"urgent": (150, 18, 18), "warning": (255, 204, 0), "info": (12, 44, 74)}
HEADINGS = {
    "urgent": {"vi": "THÔNG BÁO KHẨN", "en": "URGENT NOTICE", "km": "សេចក្តីជូនដំណឹងបន្ទាន់", "zh": "紧急通知"},
    "warning": {"vi": "LƯU Ý", "en": "PLEASE NOTE", "km": "សូមប្រុងប្រយ័ត្ន", "zh": "注意"},
    "info": {"vi": "THÔNG BÁO", "en": "NOTICE", "km": "សេចក្តីជូនដំណឹង", "zh": "通知"},
}
BAND_SHARE = 0.4  # of the canvas height, for a short warning or info


@dataclass(frozen=True)
class ShownNotice:
    id: str
    level: str
    texts: tuple[tuple[str, str], ...]
    created: datetime
    expires: datetime


def parse_notices(data: bytes) -> list[ShownNotice]:
    """The notices in the sync client's notices.json; a malformed entry is left out, never fatal."""
    try:
        raw = json.loads(data.decode("utf-8")).get("notices", [])
    except (UnicodeDecodeError, ValueError, AttributeError, RecursionError):
        return []
    out = []
    for entry in raw if isinstance(raw, list) else []:
        try:
            texts = tuple((str(k), str(v)) for k, v in entry["texts"].items())
            notice = ShownNotice(str(entry["id"]), str(entry["level"]), texts,
                                 datetime.fromisoformat(entry["created"]), datetime.fromisoformat(entry["expires"]))
        except (KeyError, TypeError, ValueError, AttributeError):
            continue
        if notice.level in LEVEL_RANK and notice.expires.tzinfo is not None:
            out.append(notice)
    return out


def choose_notice(notices: list[ShownNotice], now: datetime) -> ShownNotice | None:
    """The notice to show at `now`: the most severe live one, the newest among equals."""
    live = [n for n in notices if n.expires > now]
    if not live:
        return None
    return min(live, key=lambda n: (LEVEL_RANK[n.level], -n.created.timestamp()))


def ordered_languages(notice: ShownNotice, screen_languages: tuple[str, ...]) -> list[str]:
    """Vietnamese first, then the screen's order, then any other language the notice carries."""
    have = [code for code, _ in notice.texts]
    order = ["vi"] + [c for c in screen_languages if c != "vi"] + have
    return [c for c in dict.fromkeys(order) if c in have]


def render_notice(renderer: SlideRenderer, notice: ShownNotice, languages: tuple[str, ...]) -> list[pygame.Surface]:
    """The notice's pictures, one per foreign language shown in turn beside the Vietnamese (or the only language).

    "urgent" fills the canvas under a heading; "warning" and "info" are a band over the top of it, or
    the whole canvas when their text would not fit the band at a size readable across the hall.
    """
    codes = ordered_languages(notice, languages)
    pairs: list[tuple[str, str | None]] = [(codes[0], other) for other in codes[1:]] or [(codes[0], None)]
    if notice.level != "urgent":
        band = [_picture(renderer, notice, pair, full=False) for pair in pairs]
        if not any(cut for _, cut in band):
            return [surface for surface, _ in band]
    return [_picture(renderer, notice, pair, full=True)[0] for pair in pairs]


def _picture(renderer: SlideRenderer, notice: ShownNotice, pair: tuple[str, str | None],
             full: bool) -> tuple[pygame.Surface, bool]:
    """One picture of the notice and whether its text had to be cut to fit."""
    width, height = renderer.canvas
    color = COLORS[notice.level]
    texts = dict(notice.texts)
    area = pygame.Rect(0, 0, width, height if full else round(height * BAND_SHARE))
    surface = pygame.Surface(area.size)
    surface.fill(color)
    blocks = []
    for index, code in enumerate(c for c in pair if c is not None):
        scale = 1.0 if index == 0 else FOREIGN_SCALE  # Vietnamese leads, the foreign text at 3/4 of its size
        heading = HEADINGS[notice.level].get(code, "")
        if full:
            blocks += [(code, heading, "title", scale * TITLE_SCALE), (code, texts[code], "body", scale)]
        else:
            blocks.append((code, f"{heading}: {texts[code]}" if heading else texts[code], "body", scale))
    edge = max(6, height // 90)
    line = (20, 20, 20) if notice.level == "warning" else (255, 255, 255)
    if full:
        pygame.draw.rect(surface, line, surface.get_rect(), edge)
        inner = area.inflate(-2 * renderer.bands.margin, -round(height * 0.1))
    else:
        pygame.draw.rect(surface, line, pygame.Rect(0, area.height - edge, width, edge))
        inner = area.inflate(-2 * renderer.bands.margin, -round(area.height * 0.06))
    warnings = renderer.text_panel(surface, blocks, inner, color, f"notice {notice.id}", anchor="middle")
    return surface, any("cut" in w for w in warnings)


class NoticeBoard:
    """Watches notices.json off the render loop; `draw` puts the live notice's picture over the canvas."""

    def __init__(self, path: Path, renderer: SlideRenderer, languages: tuple[str, ...],
                 clock: Callable[[], datetime], on_change: Callable[[ShownNotice | None, ShownNotice | None], None]) -> None:
        self.path, self.renderer, self.languages, self.clock = path, renderer, languages, clock
        self.on_change = on_change  # (previous, now showing), called from the watcher thread
        self._shown: tuple[ShownNotice, list[pygame.Surface]] | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="notices", daemon=True)
        self._stamp: tuple[int, int] | None = None
        self._notices: list[ShownNotice] = []

    def start(self) -> NoticeBoard:
        self._thread.start()  # its first look comes within CHECK_SECONDS, without delaying the first frame
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2.0)

    @property
    def showing(self) -> ShownNotice | None:
        shown = self._shown
        return shown[0] if shown else None

    def draw(self, canvas: pygame.Surface, mono: float) -> bool:
        """Blit the live notice (if any) over everything on `canvas`; True when one was drawn."""
        picture = self._picture(mono)
        if picture is None:
            return False
        canvas.blit(picture, (0, 0))
        return True

    def _picture(self, mono: float) -> pygame.Surface | None:
        shown = self._shown
        if shown is None:
            return None
        pictures = shown[1]
        return pictures[int(mono / ROTATE_SECONDS) % len(pictures)]

    def layers(self, mono: float) -> tuple[Layer, ...]:
        """The live notice as a damage layer: it changes with the notice and with each language it rotates to."""
        picture = self._picture(mono)
        if picture is None:
            return ()
        return (Layer("notice", (id(self._shown), id(picture)), (0, 0, *picture.get_size())),)

    def next_due(self, mono: float) -> float | None:
        """The next language's turn, while a notice with several shows."""
        shown = self._shown
        if shown is None or len(shown[1]) < 2:
            return None
        return (mono // ROTATE_SECONDS + 1) * ROTATE_SECONDS

    def check(self) -> None:
        """Re-read the file if it changed, pick the notice for now, and render it when that changes."""
        try:
            stat = os.stat(self.path)
            stamp: tuple[int, int] | None = (stat.st_mtime_ns, stat.st_size)
        except OSError:
            stamp = None
        if stamp != self._stamp:
            self._stamp = stamp
            try:
                self._notices = parse_notices(self.path.read_bytes()) if stamp else []
            except OSError:
                self._notices = []
        chosen = choose_notice(self._notices, self.clock())
        previous = self.showing
        if chosen == previous:
            return
        if chosen is None:
            self._shown = None
        else:
            try:
                self._shown = (chosen, render_notice(self.renderer, chosen, self.languages))
            except Exception:  # a font or text problem: log it, keep what is on screen
                log.exception("cannot draw notice %s", chosen.id)
                return
            log.warning("showing %s notice %s until %s", chosen.level, chosen.id, chosen.expires.isoformat())
        self.on_change(previous, chosen)

    def _run(self) -> None:
        while True:
            try:
                self.check()
            except Exception:  # the watcher must outlive a bad file
                log.exception("notice check failed")
            if self._stop.wait(CHECK_SECONDS):
                return


def notice_board(config: KioskConfig, clock: Callable[[], datetime], proof: ProofLog) -> NoticeBoard:
    """The board for this screen: its store's notices.json, its own fonts, and a proof line per notice shown."""
    began: dict[str, tuple[datetime, float]] = {}

    def changed(previous: ShownNotice | None, current: ShownNotice | None) -> None:
        now = time.monotonic()
        if current is not None:
            began[current.id] = (clock(), now)
        if previous is not None and previous.id in began:
            start, mono = began.pop(previous.id)
            proof.record(PlayRecord(config.screen_id, f"notice:{previous.id}", "_notice",
                                    "+".join(code for code, _ in previous.texts), start.isoformat(timespec="seconds"),
                                    None, now - mono, "completed", previous.level))

    return NoticeBoard(StateFolder(config.state_dir).store.notices, make_renderer(config), config.languages, clock, changed)


class NoticeLayer:
    """The live notice over the kiosk: a visitor browsing goes back to the loop once per notice, and touches wait
    while an urgent notice covers the screen (a band leaves the screen usable below it)."""

    def __init__(self, board: NoticeBoard, kiosk: Kiosk | None) -> None:
        self.board, self.kiosk = board, kiosk
        self._left_for: str | None = None

    def holds_touches(self) -> bool:
        showing = self.board.showing
        return showing is not None and showing.level == "urgent"

    def step(self) -> None:
        """A new notice sends a browsing visitor back to the loop, once per notice."""
        showing = self.board.showing
        if showing is None:
            return
        if self.kiosk is not None and self.kiosk.active and showing.id != self._left_for:
            self.kiosk.leave("notice")
            self._left_for = showing.id

    def draw(self, canvas: pygame.Surface, mono: float) -> None:
        """Call after the loop or kiosk has drawn its frame."""
        self.step()
        self.board.draw(canvas, mono)
