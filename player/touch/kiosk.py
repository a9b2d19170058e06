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
from ..damage import Layer
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
        self._frames = 0  # video frames of a browse page put up: damage keys on it
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

    def step(self, mono: float, now: datetime, dt: float) -> None:
        """Everything that moves with time, without drawing: PIN results, the idle return, the loop (while
        nobody browses), the browse screen that came in, a page's slide and video, the ripple."""
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
            return
        if not self.nav.active:
            self.loop.step(mono, now, dt)
        else:
            self._browse_step(mono)
        if self._ripple is not None and mono - self._ripple[2] >= RIPPLE_SECONDS \
                and not (self.nav.active and self.shown is None):
            self._ripple = None

    def _browse_step(self, mono: float) -> None:
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
        shown = self.shown
        if shown is not None and shown.video is not None:
            frame = shown.video.frame_at(mono - self._shown_since)
            if frame is not None:
                shown.picture = frame
                self._frames += 1
        if self._slide is not None and ease((mono - self._slide[2]) / SLIDE_SECONDS) >= 1.0:
            self._slide = None

    def draw(self, target: Any) -> None:
        """The picture of the last step onto `target` (respecting its clip)."""
        mono = self._mono
        if self.exit_status is not None:
            return
        if self.keypad is not None:
            self.keypad.draw(target, self.cache.keypad, mono)
            return
        if not self.nav.active:
            self.loop.draw(target)
            self._draw_hint(target)
            self._draw_ripple(target, mono)
            return
        self._draw_browse(target, mono)

    def frame(self, target: Any, mono: float, now: datetime, dt: float) -> None:
        """One whole frame: `step`, then `draw` all of it."""
        self.step(mono, now, dt)
        self.draw(target)

    def layers(self) -> tuple[Layer, ...]:
        """Damage layers: the loop's with the hint and the ripple over them; a browse screen or the keypad is one
        full-screen layer whose key holds everything it shows (the keypad changes with each frame it is up)."""
        full = (0, 0, self.canvas[0], self.canvas[1])
        if self.exit_status is not None:
            return ()
        if self.keypad is not None:
            return (Layer("kiosk", ("keypad", self._mono), full),)
        ripple = self._ripple_layer()
        if not self.nav.active:
            hint = self._hint_at()
            out = [*self.loop.layers()]
            if hint is not None:
                out.append(Layer("hint", hint, (*hint[1], *hint[0].get_size())))
            return tuple(out + ([ripple] if ripple else []))
        shown = self.shown
        width = self.canvas[0]
        slide = None
        if self._slide is not None:
            direction, offset, start = self._slide
            p = ease((self._mono - start) / SLIDE_SECONDS)
            slide = round(offset + (-direction * width - offset) * p)
        left = countdown(self.nav, self._mono, self.config.touch.idle_timeout)
        key = (id(shown), id(shown.picture) if shown else None, self._frames, slide,
               None if self._drag is None else round(self._drag), self._pressed, left,
               None if ripple is None else ripple.key, self.nav.screen, id(self.cache.chrome.get(self.nav.language)))
        return (Layer("kiosk", key, full),)

    def next_due(self, mono: float, now: datetime) -> float | None:
        """When the kiosk looks different next or must act: every frame while something moves or a screen is
        awaited, the next second of the idle countdown, a page video's next frame; the loop's own while nobody
        browses."""
        if self.keypad is not None or self._ripple is not None:
            return mono
        if not self.nav.active:
            return self.loop.next_due(mono, now)
        if self._slide is not None or self.shown is None or self.shown.picture is None \
                or self.cache.get(self._key()) is not self.shown:
            return mono
        due = [mono + 1.0 - (mono - self.nav.last_touch) % 1.0]  # the countdown ticks and the idle return
        video = self.shown.video
        if video is not None:
            after = video.next_time()
            due.append(mono if after is None else self._shown_since + after)
        return min(due)

    def _hint_at(self) -> tuple[pygame.Surface, tuple[int, int]] | None:
        chrome = self.cache.chrome.get(self._loop_language())
        if chrome is None or self.menu is None:
            return None
        dx, dy = self.loop.overlays.offset
        margin = self.loop.overlays.bands.margin // 2
        return chrome.hint, (self.layout.corner + margin + dx, margin // 2 + dy)

    def _draw_hint(self, target: Any) -> None:
        hint = self._hint_at()
        if hint is not None:
            target.blit(*hint)

    def _ripple_shape(self, mono: float) -> tuple[int, int, int, int] | None:
        """Centre, radius and ring width of the tap's ripple now, or None."""
        if self._ripple is None:
            return None
        x, y, start = self._ripple
        p = (mono - start) / RIPPLE_SECONDS
        radius = round(self.layout.target * (0.5 + 0.5 * min(1.0, p)))
        return round(x), round(y), radius, max(3, self.layout.target // 8)

    def _ripple_layer(self) -> Layer | None:
        shape = self._ripple_shape(self._mono)
        if shape is None:
            return None
        x, y, radius, _ = shape
        return Layer("ripple", shape, (x - radius - 1, y - radius - 1, 2 * radius + 3, 2 * radius + 3))

    def _draw_ripple(self, target: Any, mono: float) -> None:
        shape = self._ripple_shape(mono)
        if shape is None:
            return
        x, y, radius, ring = shape
        # Drawn on a small picture and blitted, so a renderer (which has no pygame.draw) shows it too.
        side = 2 * radius + 3
        mark = pygame.Surface((side, side), pygame.SRCALPHA)
        centre = (radius + 1, radius + 1)
        pygame.draw.circle(mark, SELECTED, centre, radius, ring)
        pygame.draw.circle(mark, SELECTED, centre, self.layout.target // 4)
        target.blit(mark, (x - radius - 1, y - radius - 1))

    def _draw_browse(self, target: Any, mono: float) -> None:
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

    def _blit_pictures(self, target: Any, mono: float) -> None:
        assert self.shown is not None
        width = self.canvas[0]
        current = self.shown.picture
        if self._slide is not None and self._previous is not None and self._previous.picture is not None:
            direction, offset, start = self._slide
            p = ease((mono - start) / SLIDE_SECONDS)
            old_x = round(offset + (-direction * width - offset) * p)
            target.blit(self._previous.picture, (old_x, 0))
            target.blit(current, (old_x + direction * width, 0))
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
