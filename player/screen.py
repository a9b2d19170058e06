"""Building a screen in one place: content, painter, loop, overlays, proof of play, touch kiosk, notices and jobs.

`python -m player run`, the benchmarks and the tests all call `build_screen`, so
what they measure and check is what plays. The entry point (player/app.py)
keeps what only it does: reading the clocks, opening the window and pacing the
frames; a Screen is handed the time of each frame.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable

import pygame
import schedule

from sync.layout import StateFolder

from .config import KioskConfig
from .damage import Layer, next_due
from .fontfiles import has_font_for
from .loop import Health, Loop
from .notices import NoticeLayer, notice_board
from .overlays import Overlays
from .painter import SlotPainter, make_renderer, video_opener
from .power import ScreenPower
from .prepare import Preparer
from .proof import Background, ProofLog
from .screenshots import Screenshots
from .sequence import Decision, Program
from .source import ContentSource, WatchedSource
from .status import now_playing, read_json, write_json
from .touch.browse import Menu, load_menu, menu_folder
from .touch.kiosk import Kiosk
from .touch.layout import Layout
from .touch.painter import KioskPainter, Painted

log = logging.getLogger(__name__)


@dataclass(eq=False)
class Screen:
    """One screen's running parts. Frame contract as the loop's: `handle(event, mono)` for each event,
    `frame(canvas, mono, now, dt)` once a frame; `start` before the first and `close` after the last."""

    config: KioskConfig
    source: ContentSource
    loop: Loop
    kiosk: Kiosk | None  # with touch.enabled: it draws the frames, around the loop
    preparer: Preparer
    writer: Background  # one thread for small file writes: proof lines, status files
    proof: ProofLog
    power: ScreenPower
    jobs: schedule.Scheduler  # periodic jobs at the edge; run from the frame, between drawing
    now: datetime  # the schedule's time as of the last frame, for the jobs and threads
    watched: WatchedSource | None = None  # synced screens: new generations, loaded off the loop
    notices: NoticeLayer | None = None  # synced screens: urgent notices over everything
    canvas: pygame.Surface | None = None  # the surface of the last frame (screenshots are taken of it)
    grab: Callable[[], pygame.Surface | None] | None = None  # reads the shown picture back where there is no canvas (a renderer)
    _mono: float = 0.0  # the last step's time

    @property
    def front(self) -> Loop | Kiosk:
        """What draws each frame: the kiosk (which draws the loop while nobody browses), or the loop."""
        return self.kiosk if self.kiosk is not None else self.loop

    @property
    def needs_pixels(self) -> bool:
        """The frame draws with pygame.draw (the kiosk's browse screens and keypad): a renderer needs a Surface for it."""
        return self.kiosk is not None and (self.kiosk.keypad is not None or self.kiosk.nav.active)

    @property
    def exit_status(self) -> int | None:
        """64 once staff left a touch kiosk by PIN; the caller ends the program with it."""
        return self.kiosk.exit_status if self.kiosk is not None else None

    def start(self, mono: float) -> None:
        """Decide whether the panel is on, then prepare and show the first slot (the only wait, before the first frame)."""
        self.power.check(self.now)
        self.loop.start(mono, self.now)

    def handle(self, event: pygame.event.Event, mono: float) -> bool:
        """One pygame event; True when it asks a signage screen to quit (Escape at a keyboard, closing the window).

        A touch kiosk is locked down: keys and window-close do nothing (staff leave by PIN), and touches
        wait while an urgent notice covers the screen.
        """
        if self.kiosk is None:
            return event.type == pygame.QUIT or (event.type == pygame.KEYDOWN and event.key == pygame.K_ESCAPE)
        if self.notices is None or not self.notices.holds_touches():
            self.kiosk.handle(event, mono)
        return False

    def step(self, mono: float, now: datetime, dt: float) -> bool:
        """The periodic jobs, then (panel on) everything that moves with time; False: the panel is off, draw nothing."""
        self.now = now
        self.jobs.run_pending()
        if not self.power.on:
            return False
        self.front.step(mono, now, dt)
        if self.notices is not None and self.exit_status is None:
            self.notices.step()
        self._mono = mono
        return True

    def layers(self) -> tuple[Layer, ...]:
        """What is on screen as damage layers (player/damage.py), bottom to top: the live notice last."""
        out = self.front.layers()
        if self.notices is not None and self.exit_status is None:
            out += self.notices.board.layers(self._mono)
        return out

    def next_due(self, mono: float) -> float | None:
        """When the picture changes next by itself (monotonic), or None; events and the poll cover the rest."""
        due = [self.front.next_due(mono, self.now)]
        if self.notices is not None:
            due.append(self.notices.board.next_due(mono))
        return next_due(due)

    def draw(self, canvas: pygame.Surface) -> None:
        """The picture of the last step onto `canvas` (within its clip), the live notice over everything."""
        self.front.draw(canvas)
        if self.notices is not None and self.exit_status is None:
            self.notices.board.draw(canvas, self._mono)  # over everything, the moment the watcher has it ready

    def frame(self, canvas: pygame.Surface, mono: float, now: datetime, dt: float) -> bool:
        """One whole frame: `step`, then (panel on) `draw` all of it onto `canvas`; False: panel off, nothing drawn."""
        self.canvas = canvas
        if not self.step(mono, now, dt):
            return False
        self.draw(canvas)
        return True

    def picture(self) -> pygame.Surface | None:
        """What is on screen now, for screenshots: read back from the renderer, or the canvas of the last frame."""
        return self.grab() if self.grab is not None else self.canvas

    def close(self, mono: float) -> None:
        """The view and the slot on screen get their proof lines; threads stop; pending writes reach the disk."""
        if self.kiosk is not None:
            self.kiosk.leave("stopped")
            self.kiosk.close()
        self.loop.stop(mono)
        if self.watched is not None:
            self.watched.stop()
        if self.notices is not None:
            self.notices.board.stop()
        self.preparer.close()
        self.writer.close()


def build_screen(config: KioskConfig, now: datetime, *, clock_label: Callable[[], str] = lambda: "set",
                 started: float | None = None, new_content: Callable[[datetime], Program | None] | None = None,
                 on_switch: Callable[[Decision, datetime], None] | None = None) -> Screen:
    """Everything one screen plays with, from its config, at schedule time `now`; nothing is drawn yet.

    `clock_label` says whether the clock is trusted (for the status file) and `started` is the
    wall time the player started. A synced screen watches its store for new generations on a
    thread, unless `new_content` stands in (the soak asks the store inside the frame);
    `on_switch` hears of every slot put on screen, after the status file is queued.
    """
    state = StateFolder(config.state_dir)
    source = ContentSource(config)
    program = source.first(now)
    writer = Background()
    proof = ProofLog(state.proof, writer)
    renderer = make_renderer(config)
    preparer = Preparer(SlotPainter(config, renderer, video_opener(config.volume)))
    overlays = Overlays(config.display.canvas, renderer.floor, make_renderer(config).setter,  # fonts of the render thread
                        config.overlays.clock, config.overlays.ticker, config.overlays.shift_every,
                        config.overlays.shift_pixels)
    # The callbacks and threads below read the schedule time from `screen`, made last; the threads start after it.
    watched = WatchedSource(source, lambda: screen.now) if config.sync and new_content is None else None

    def switched(decision: Decision, when: datetime, health: Health) -> None:
        record = now_playing(decision, when, source.generation, clock_label(), started, health)
        writer.submit(lambda: write_json(state.now_playing, record))
        if on_switch is not None:
            on_switch(decision, when)

    loop = Loop(program, preparer, overlays, proof, config.screen_id, config.languages,
                watched.check if watched is not None else new_content, switched)
    kiosk = make_kiosk(config, loop, proof, state, writer) if config.touch.enabled else None

    def power_changed(on: bool) -> None:
        record = {"on": on, "since": screen.now.isoformat(timespec="seconds"), "method": config.power.method}
        writer.submit(lambda: write_json(state.power, record))

    power = ScreenPower(config.power, power_changed)
    board = notice_board(config, lambda: screen.now, proof) if config.sync else None
    jobs = schedule.Scheduler()
    screen = Screen(config, source, loop, kiosk, preparer, writer, proof, power, jobs, now, watched,
                    NoticeLayer(board, kiosk) if board is not None else None)
    # schedule counts fractional seconds too; its hint says int.
    jobs.every(config.power.check_seconds).seconds.do(lambda: power.check(screen.now))  # type: ignore[arg-type]
    if config.sync and config.sync.token_file:
        shots = Screenshots(state, writer)
        jobs.every(config.sync.screenshot_seconds).seconds.do(lambda: _shoot(screen, shots.take))  # type: ignore[arg-type]
        jobs.every(1).seconds.do(lambda: _shoot(screen, shots.on_request))
    if watched is not None:
        watched.start()
    if board is not None:
        board.start()
    return screen


def _shoot(screen: Screen, take: Callable[[pygame.Surface], None]) -> None:
    picture = screen.picture()
    if picture is not None:
        take(picture)


def make_kiosk(config: KioskConfig, loop: Loop, proof: ProofLog, state: StateFolder, writer: Background) -> Kiosk:
    """The touch kiosk around `loop`: its browse menu (from the generation playing), painter thread and fonts."""
    media_dir = loop.program.content.media_dir
    menu, problems = load_menu(menu_folder(config, media_dir), config.languages, has_font_for(config))
    for problem in problems:
        (log.error if problem.severity == "error" else log.warning)("%s", problem)
    if menu is None:
        log.error("touch mode is on but there is no browse menu to show (playlists/browse.yaml): taps do nothing")
    if config.touch.exit_pin_hash is None:
        log.warning("touch mode is on but touch.exit_pin_hash is not set: staff cannot leave from the screen "
                    "(make one with `python -m player hash-pin`); systemctl stop still stops the player")
    layout = Layout(config.display.canvas, config.display.px_per_mm, config.languages)
    # Without a menu the painter still draws the bars and the staff keypad.
    painter = KioskPainter(config, layout, menu or Menu((), ()), Path(media_dir) if menu else config.media_dir)
    def keep_attempts(record: dict[str, float]) -> None:
        writer.submit(lambda: write_json(state.pin_attempts, record))

    return Kiosk(config, loop, menu, Preparer(painter, lambda key, message: Painted(key, error=message), name="kiosk-painter"),
                 proof, make_renderer(config).setter, layout, read_json(state.pin_attempts) or None, keep_attempts)
