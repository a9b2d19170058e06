"""The touch kiosk around the rotating loop: browse on a tap, back to the loop when idle, the staff's way out.

`Kiosk` stands in for the Loop in the render loop (same frame contract, plus
`handle(event, mono)` for each pygame event). While no one touches the screen
it draws the loop with a discreet "touch the screen" hint; a tap pauses the
loop and opens the home menu in the language on screen.

Public for the rest of the player (e.g. the urgent-notice overlay):

- `active`: True while a visitor browses or the staff keypad is up (the loop is paused then).
- `leave(reason)`: back to the loop at once, wherever the visitor is; the view it cuts short
  goes into proof of play with `ended: reason` (an urgent notice calls `leave("notice")`).
- `exit_status`: None, or 64 once staff entered the right PIN; the caller ends the program with it.
- `settled`: the browse screen asked for is drawn whole (the touch bench times taps to it).

Keys and window-close (QUIT) events do nothing here: for visitors, nothing leaves the program.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any, Callable

import pygame

from ..config import KioskConfig
from ..fonts import Typesetter
from ..loop import Loop
from ..prepare import Preparer
from ..proof import ProofLog, TouchRecord
from ..transitions import ease
from .browse import Menu
from .cache import ScreenCache
from .gestures import Cancel, Drag, Gestures, Press, Swipe, Tap, pointer_of
from .keypad import Keypad
from .layout import Box, Layout
from .lockdown import Attempts, CornerTaps, corner_box
from .navigation import Back, Choose, Home, Leave, Nav, Open, Touch, Turn, Wake, countdown, idle, pages_of, step
from .painter import BAR, SELECTED, WHITE, ChromeKey, MenuKey, Painted, ScreenKey, draw_bars

log = logging.getLogger(__name__)

STAFF_EXIT = 64  # deploy/kiosk-player.service: RestartPreventExitStatus=64, SuccessExitStatus=64
SLIDE_SECONDS = 0.25
RIPPLE_SECONDS = 0.35
KEYPAD_TIMEOUT = 30.0


class Kiosk:
    def __init__(self, config: KioskConfig, loop: Loop, menu: Menu | None, painter: Preparer, proof: ProofLog | None,
                 setter: Callable[[str, bool], Typesetter], layout: Layout, kept_attempts: object = None,
                 keep_attempts: Callable[[dict[str, float]], None] | None = None) -> None:
        self.config = config
        self.loop = loop
        self.menu = menu
        self.proof = proof
        self.setter = setter
        self.layout = layout
        self.canvas = config.display.canvas
        self.nav = Nav(language=config.languages[0])
        self.gestures = Gestures(config.display.px_per_mm, self.canvas[0])
        self.corner = CornerTaps()
        self.corner_box = Box(*corner_box(self.canvas, config.touch.exit_corner, layout.corner))
        self.attempts = Attempts()
        self._kept_attempts = kept_attempts  # read back from disk at the first frame, when the clock is known
        self._keep_attempts = keep_attempts  # writes wrong PINs to disk (off the loop), so a restart keeps the lockout
        self.keypad: Keypad | None = None
        self.exit_status: int | None = None
        self._now: datetime | None = None
        self._mono = 0.0
        self.cache = ScreenCache(painter)
        self.shown: Painted | None = None
        self._shown_since = 0.0
        self._previous: Painted | None = None
        self._slide: tuple[int, float, float] | None = None  # direction, start offset, start time
        self._turned: tuple[int, float] | None = None  # a page turn waiting for its picture: direction, offset
        self._drag: float | None = None
        self._pressed: tuple[float, float] | None = None
        self._ripple: tuple[float, float, float] | None = None
        for code in config.languages:
            self._ask(ChromeKey(code))
        if menu is not None:
            for code in config.languages:
                self._ask(ScreenKey((), None, code))
        self._ask("keypad")
        self._media_dir = loop.program.content.media_dir  # the content generation the menu came with

    # -- public --------------------------------------------------------------------------------

    @property
    def active(self) -> bool:
        return self.nav.active or self.keypad is not None

    @property
    def settled(self) -> bool:
        """The browse screen the visitor asked for is up whole: drawn, and no page sliding in."""
        return self.shown is not None and self.shown.key == self._key() and self._slide is None

    def leave(self, reason: str) -> None:
        """Back to the loop at once (idle, an urgent notice, the staff exit); the loop resumes where it was."""
        if self.keypad is not None:
            self.keypad = None
        if self.nav.active and self.menu is not None:
            self._apply(step(self.nav, Leave(reason), self.menu, self._mono))
        self._sync_pause()

    # -- events --------------------------------------------------------------------------------

    def handle(self, event: Any, mono: float) -> None:
        """One pygame event; pointer events only (keys and QUIT are ignored in touch mode)."""
        self._mono = mono
        if event.type == pygame.WINDOWMINIMIZED:  # the kiosk stays fullscreen, whatever asked for this
            try:
                pygame.Window.from_display_module().restore()
            except (AttributeError, pygame.error):
                pass
            return
        pointer = pointer_of(event, self.canvas, self.config.display.rotation)
        if pointer is None:
            return
        gesture = self.gestures.feed(pointer, mono)
        if gesture is None:
            return
        if self.nav.active and self.menu is not None:
            self.nav = step(self.nav, Touch(), self.menu, mono).nav
        if isinstance(gesture, Press):
            self._pressed = (gesture.x, gesture.y)
        elif isinstance(gesture, Tap):
            self._pressed = None
            self._tap(gesture.x, gesture.y, mono)
        elif isinstance(gesture, Drag):
            self._pressed = None
            if self._on_page() and self._slide is None and self.keypad is None:
                self._drag = gesture.dx
        elif isinstance(gesture, Swipe):
            self._pressed = None
            if self._on_page() and self.keypad is None and self.menu is not None:
                before = self.nav.page
                self._apply(step(self.nav, Turn(gesture.step), self.menu, mono))
                if self.nav.page != before:
                    self._turned = (gesture.step, self._drag or 0.0)
            self._drag = None
        elif isinstance(gesture, Cancel):
            self._pressed = None
            self._drag = None

    def _tap(self, x: float, y: float, mono: float) -> None:
        self.corner, triggered = self.corner.tap(self.corner_box.contains(x, y), mono, self.config.touch.exit_taps)
        if self.keypad is not None:
            self.keypad.tap(x, y, mono)
            return
        if triggered:
            log.info("staff exit gesture: the keypad is up")
            self.keypad = Keypad(self.layout, self.config.touch.exit_pin_hash, self.attempts, self.setter, mono)
            self._sync_pause()
            return
        if self.menu is None:
            return
        self._ripple = (x, y, mono)
        if not self.nav.active:
            self._apply(step(self.nav, Wake(self._loop_language()), self.menu, mono))
            return
        action = self._hit(x, y)
        if action is not None:
            before = self.nav.page
            self._apply(step(self.nav, action, self.menu, mono))
            if isinstance(action, Turn) and self.nav.page != before:
                self._turned = (action.step, 0.0)

    def _hit(self, x: float, y: float) -> Any:
        layout = self.layout
        if layout.back().contains(x, y):
            return Back()
        if layout.home().contains(x, y):
            return Home()
        for code, box in layout.language_buttons():
            if box.contains(x, y):
                return Choose(code)
        if self._on_page():
            prev, _, nxt = layout.pager()
            if prev.contains(x, y):
                return Turn(-1)
            if nxt.contains(x, y):
                return Turn(1)
            return None
        assert self.menu is not None
        topics = self.menu.children(self.nav.path)
        for topic, box in zip(topics, layout.tiles(len(topics))):
            if box.contains(x, y):
                return Open(topic.id)
        return None

    def _loop_language(self) -> str:
        current = self.loop.current
        slot = current.prepared.decision.slot if current else None
        language = slot.language if slot else self.config.languages[0]
        return language if language in self.config.languages else self.config.languages[0]

    def _on_page(self) -> bool:
        return self.nav.active and self.menu is not None and pages_of(self.nav, self.menu) > 0

    # -- state changes -------------------------------------------------------------------------

    def _apply(self, result: Any) -> None:
        self.nav = result.nav
        for view in result.views:
            self._record(view)
        if not self.nav.active:
            self._drop_video()
            self._slide = self._turned = None
            self._drag = None
            self.shown = self._previous = None
        self._sync_pause()
        if self.nav.active:
            self._prefetch()

    def _record(self, view: Any) -> None:
        if self.proof is None:
            return
        wall = self._now or datetime.now(self.config.tz)
        start = wall - timedelta(seconds=max(0.0, self._mono - view.start))
        self.proof.record(TouchRecord(self.config.screen_id, view.topic, view.page, view.language,
                                      start.isoformat(timespec="seconds"), view.seconds, view.ended))

    def _sync_pause(self) -> None:
        if self.active:
            self.loop.pause(self._mono)
        else:
            self.loop.resume(self._mono)

    # -- screens -------------------------------------------------------------------------------

    def _key(self) -> ScreenKey:
        return ScreenKey(self.nav.path, self.nav.page if self._on_page() else None, self.nav.language)

    def _ask(self, key: object) -> None:
        self.cache.ask(key)

    def _prefetch(self) -> None:
        key = self._key()
        self._ask(key)
        if key.page is not None and self.menu is not None:
            for page in (key.page + 1, key.page - 1):
                if 0 <= page < pages_of(self.nav, self.menu):
                    self._ask(ScreenKey(key.path, page, key.language))

    def _collect(self) -> None:
        for menu in self.cache.collect(keep=(self.shown, self._previous)):
            self._new_menu(menu)

    def _new_content(self) -> None:
        """A new content generation came in at an item boundary: its browse menu is read on the painter thread."""
        media_dir = self.loop.program.content.media_dir
        if media_dir != self._media_dir and not self.nav.active:
            self._media_dir = media_dir
            self._ask(MenuKey(media_dir))

    def _new_menu(self, menu: Menu | None) -> None:
        """Swap in the menu of the new generation (between visitors) and start drawing its screens."""
        if menu is None:
            log.error("the new content has no browse menu that can be shown; keeping the one before")
            return
        self.menu = menu
        self.cache.clear()
        for code in self.config.languages:
            self._ask(ScreenKey((), None, code))

    def _drop_video(self) -> None:
        self.cache.drop_videos(keep=self.shown)

    # -- frames --------------------------------------------------------------------------------

    def frame(self, target: Any, mono: float, now: datetime, dt: float) -> None:
        self._mono, self._now = mono, now
        if self._kept_attempts is not None:
            self.attempts, self._kept_attempts = Attempts.from_record(self._kept_attempts, mono), None
        self._collect()
        self._new_content()
        timeout = self.config.touch.idle_timeout
        if self.keypad is not None:
            self.keypad.update(mono, min(timeout, KEYPAD_TIMEOUT))
            if self.keypad.result == "exit":
                self.keypad.attempts = Attempts()  # the right PIN: the count starts again
            if self.keypad.attempts != self.attempts and self._keep_attempts is not None:
                self._keep_attempts(self.keypad.attempts.record(mono))
            self.attempts = self.keypad.attempts
            if self.keypad.result == "exit":
                self.exit_status = STAFF_EXIT
                self.leave("exit")
                return
            if self.keypad.result == "cancel":
                self.keypad = None
                self._sync_pause()
        if self.nav.active and idle(self.nav, mono, timeout) and self.keypad is None:
            log.info("no touch for %.0f s: back to the loop", timeout)
            self.leave("idle")
        if self.keypad is not None:
            self.keypad.draw(target, self.cache.keypad, mono)
            return
        if not self.nav.active:
            self.loop.frame(target, mono, now, dt)
            self._draw_hint(target)
            self._draw_ripple(target, mono)
            return
        self._draw_browse(target, mono)

    def _draw_hint(self, target: Any) -> None:
        chrome = self.cache.chrome.get(self._loop_language())
        if chrome is None or self.menu is None:
            return
        dx, dy = self.loop.overlays.offset
        margin = self.loop.overlays.bands.margin // 2
        target.blit(chrome.hint, (self.layout.corner + margin + dx, margin // 2 + dy))

    def _draw_ripple(self, target: Any, mono: float) -> None:
        if self._ripple is None:
            return
        x, y, start = self._ripple
        p = (mono - start) / RIPPLE_SECONDS
        if p >= 1.0 and not (self.nav.active and self.shown is None):
            self._ripple = None
            return
        radius = round(self.layout.target * (0.5 + 0.5 * min(1.0, p)))
        pygame.draw.circle(target, SELECTED, (round(x), round(y)), radius, max(3, self.layout.target // 8))
        pygame.draw.circle(target, SELECTED, (round(x), round(y)), self.layout.target // 4)

    def _draw_browse(self, target: Any, mono: float) -> None:
        wanted = self.cache.get(self._key())
        if wanted is None:
            self._ask(self._key())
        elif wanted is not self.shown:
            self._previous, self.shown, self._shown_since = self.shown, wanted, mono
            self._drop_video()
            if self._turned is not None and self._previous is not None:
                direction, offset = self._turned
                self._slide = (direction, offset, mono)
            self._turned = None
            self.cache.touch(self._key())
        if self.shown is None or self.shown.picture is None:
            self._draw_ripple(target, mono)  # the first screen is still being drawn: the tap shows at once
            return
        self._blit_pictures(target, mono)
        self._draw_bars(target)
        self._draw_ripple(target, mono)  # every tap shows where it landed, in the frame after it
        left = countdown(self.nav, mono, self.config.touch.idle_timeout)
        chrome = self.cache.chrome.get(self.nav.language)
        if left is not None and chrome is not None:
            banner = chrome.countdown[left]
            content = self.layout.content()
            target.blit(banner, (content.x + (content.w - banner.get_width()) // 2,
                                 content.y + content.h - banner.get_height() - self.layout.pad))

    def _picture(self, painted: Painted, mono: float) -> Any:
        if painted.video is not None and painted is self.shown:
            frame = painted.video.frame_at(mono - self._shown_since)
            if frame is not None:
                painted.picture = frame
        return painted.picture

    def _blit_pictures(self, target: Any, mono: float) -> None:
        assert self.shown is not None
        width = self.canvas[0]
        current = self._picture(self.shown, mono)
        if self._slide is not None and self._previous is not None and self._previous.picture is not None:
            direction, offset, start = self._slide
            p = ease((mono - start) / SLIDE_SECONDS)
            old_x = round(offset + (-direction * width - offset) * p)
            target.blit(self._previous.picture, (old_x, 0))
            target.blit(current, (old_x + direction * width, 0))
            if p >= 1.0:
                self._slide = None
        elif self._drag is not None:
            dx = round(self._drag)
            target.blit(current, (dx, 0))
            neighbour = self.cache.get(ScreenKey(self.nav.path, self.nav.page + (1 if dx < 0 else -1), self.nav.language))
            if neighbour is not None and neighbour.picture is not None:
                target.blit(neighbour.picture, (dx + (width if dx < 0 else -width), 0))
            elif dx:
                target.fill(BAR, pygame.Rect(dx + width if dx < 0 else 0, 0, abs(dx), self.canvas[1]))
        else:
            target.blit(current, (0, 0))
        if self.shown.overlay is not None:
            target.blit(self.shown.overlay, self.shown.overlay_at)

    def _draw_bars(self, target: Any) -> None:
        layout = self.layout
        assert self.shown is not None and self.menu is not None
        pager = None
        if self._on_page():
            number = self.shown.pager if self.shown.key == self._key() else None
            pager = (self.nav.page, pages_of(self.nav, self.menu), number)
        draw_bars(target, layout, self.cache.chrome.get(self.nav.language), self.shown.title, pager)
        if self._pressed is not None:
            box = self._pressed_box(*self._pressed)
            if box is not None:
                pygame.draw.rect(target, WHITE, pygame.Rect(box.rect).inflate(6, 6), max(3, layout.pad // 3),
                                 border_radius=max(4, box.h // 6))

    def _pressed_box(self, x: float, y: float) -> Box | None:
        layout = self.layout
        boxes = [layout.back(), layout.home()] + [box for _, box in layout.language_buttons()]
        if self._on_page():
            prev, _, nxt = layout.pager()
            boxes += [prev, nxt]
        elif self.menu is not None:
            boxes += layout.tiles(len(self.menu.children(self.nav.path)))
        return next((box for box in boxes if box.contains(x, y)), None)

    def close(self) -> None:
        """Let go of the painter thread and any video page."""
        self.cache.close()
