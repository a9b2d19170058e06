"""`python -m player run`: the entry point that reads the clocks, opens the window and paces the loop."""

from __future__ import annotations

import json
import logging
import logging.handlers
import os
import signal
import threading
import time
from datetime import datetime

import schedule
from pathlib import Path

from sync.layout import StateFolder, write_atomic

from .config import KioskConfig
from .notify import Notifier, Watchdog
from .wallclock import schedule_now, skew_seconds, start_trust

log = logging.getLogger(__name__)

CLOCK_SAVE_SECONDS = 60.0
OFF_CHECK_SECONDS = 0.5  # how often a screen switched off wakes to handle events and the watchdog


def setup_logging(state_dir: Path | None, verbose: bool = False) -> None:
    handlers: list[logging.Handler] = [logging.StreamHandler()]
    if state_dir is not None:
        try:
            state_dir.mkdir(parents=True, exist_ok=True)
            handlers.append(logging.handlers.RotatingFileHandler(StateFolder(state_dir).log, maxBytes=1_000_000,
                                                                 backupCount=3, encoding="utf-8"))
        except OSError as exc:
            print(f"warning: cannot write logs under {state_dir}: {exc}")
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, handlers=handlers, force=True,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def read_last_seen(state_dir: Path) -> datetime | None:
    try:
        data = json.loads(StateFolder(state_dir).clock.read_text(encoding="utf-8"))
        return datetime.fromisoformat(data["last_seen"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_last_seen(state_dir: Path, when: datetime) -> None:
    write_atomic(StateFolder(state_dir).clock, json.dumps({"last_seen": when.isoformat()}).encode("utf-8"))


def run(config: KioskConfig, seconds: float | None = None, headless: bool = False, windowed: bool = False) -> int:
    """Play until closed (or for `seconds`); returns the process exit status."""
    if headless:
        os.environ["SDL_VIDEODRIVER"] = "dummy"
        os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    import pygame

    from .fonts import require_fonts
    from .loop import Loop
    from .overlays import Overlays
    from .prepare import Preparer
    from .proof import Background, ProofLog
    from .sequence import Decision
    from .source import ContentSource, WatchedSource
    from .power import ScreenPower
    from .notices import NoticeLayer, notice_board
    from .screenshots import Screenshots
    from .status import now_playing, write_json
    from .supervise import sync_process
    from .transitions import to_panel
    from .stage import SlotPainter, font_overrides, make_kiosk, make_renderer, video_opener

    require_fonts(config.languages, font_overrides(config))
    tz = config.tz
    mono_start = time.monotonic()
    wall = datetime.now(tz)
    last_seen = read_last_seen(config.state_dir)
    trust = start_trust(wall, mono_start, last_seen)
    if not trust.trusted:
        log.warning("the clock reads %s, earlier than the last time seen (%s): treating it as unset; "
                    "the schedule runs from the last time seen until the clock is set", wall.isoformat(timespec="seconds"),
                    last_seen.isoformat(timespec="seconds") if last_seen else "?")
    now, trust = schedule_now(trust, wall, mono_start)

    if config.touch.enabled:  # a fullscreen kiosk must not minimise when something else takes the focus
        os.environ.setdefault("SDL_VIDEO_MINIMIZE_ON_FOCUS_LOSS", "0")
    pygame.display.init()
    pygame.font.init()
    import pygame.freetype
    pygame.freetype.init()
    flags = 0
    if config.display.fullscreen and not windowed and not headless:
        flags |= pygame.FULLSCREEN
    screen = pygame.display.set_mode(config.display.size, flags)
    pygame.display.set_caption(f"Tịnh Biên kiosk: {config.screen_id}")
    if flags & pygame.FULLSCREEN:
        pygame.mouse.set_visible(False)
    screen.fill(config.fallback.background)
    pygame.display.flip()

    clock_now = [now]  # the schedule time as of the last frame, for the jobs and threads below
    source = ContentSource(config)
    program = source.first(now)
    syncing = sync_process(config.path).start() if config.sync else None
    renderer = make_renderer(config)
    painter = SlotPainter(config, renderer, video_opener(config.volume))
    preparer = Preparer(painter)
    writer = Background()
    state = StateFolder(config.state_dir)
    proof = ProofLog(state.proof, writer)
    canvas = pygame.Surface(config.display.canvas).convert() if config.display.rotation else screen
    overlay_setters = make_renderer(config)  # fonts owned by the render thread
    overlays = Overlays(config.display.canvas, renderer.floor, overlay_setters.setter, config.overlays.clock,
                        config.overlays.ticker, config.overlays.shift_every, config.overlays.shift_pixels)

    started = time.time()

    def on_switch(decision: Decision, when: datetime) -> None:
        record = now_playing(decision, when, source.generation, trust.label, started)
        writer.submit(lambda: write_json(state.now_playing, record))

    watched = WatchedSource(source, lambda: clock_now[0]).start() if config.sync else None
    loop = Loop(program, preparer, overlays, proof, config.screen_id, config.languages,
                watched.check if watched else None, on_switch)
    kiosk = make_kiosk(config, loop, proof) if config.touch.enabled else None  # browse on a tap; player/touch/kiosk.py
    stopping = threading.Event()  # systemd stops us with SIGTERM: finish the frame, write the last proof line
    signal.signal(signal.SIGTERM, lambda signum, frame: stopping.set())
    notifier = Notifier.from_env(os.environ)  # systemd's Type=notify; a no-op when not run by systemd
    watchdog = Watchdog.from_env(notifier, os.environ, os.getpid())

    def power_changed(on: bool) -> None:
        record = {"on": on, "since": clock_now[0].isoformat(timespec="seconds"), "method": config.power.method}
        writer.submit(lambda: write_json(state.power, record))

    power = ScreenPower(config.power, power_changed)
    power.check(now)
    board = notice_board(config, lambda: clock_now[0], proof).start() if config.sync else None
    layer = NoticeLayer(board, kiosk) if board is not None else None
    shots = Screenshots(state, writer)
    jobs = schedule.Scheduler()  # periodic jobs at the edge; the on/off decision itself is pure
    jobs.every(config.power.check_seconds).seconds.do(lambda: power.check(clock_now[0]))
    if config.sync and config.sync.token_file:
        jobs.every(config.sync.screenshot_seconds).seconds.do(lambda: shots.take(canvas))
        jobs.every(1).seconds.do(lambda: shots.on_request(canvas))
    loop.start(time.monotonic(), now)
    period = 1.0 / config.display.fps
    last = next_frame = time.monotonic()
    next_save = last
    first = True
    try:
        while True:
            mono = time.monotonic()
            held = layer is not None and layer.holds_touches()  # an urgent notice covers the screen
            for event in pygame.event.get():
                if kiosk is not None:  # locked down: keys and window-close do nothing; staff leave by PIN
                    if not held:
                        kiosk.handle(event, mono)
                # Escape quits a signage screen (someone at a keyboard).
                elif event.type == pygame.QUIT or (event.type == pygame.KEYDOWN and event.key == pygame.K_ESCAPE):
                    return 0
            if seconds is not None and mono - mono_start >= seconds:
                return 0
            wall = datetime.now(tz)
            was_trusted = trust.trusted
            skew = skew_seconds(trust, wall, mono)
            now, trust = schedule_now(trust, wall, mono)
            if trust.trusted and not was_trusted:
                log.warning("the clock has been set (it was %.0f s behind); the schedule follows it again", skew)
            clock_now[0] = now
            jobs.run_pending()
            if power.on:
                (kiosk or loop).frame(canvas, mono, now, mono - last)
                if kiosk is not None and kiosk.exit_status is not None:
                    log.warning("staff exit from touch mode (exit status %d)", kiosk.exit_status)
                    return kiosk.exit_status
                if layer is not None:
                    layer.draw(canvas, mono)  # over everything, the moment the watcher has it ready
                if config.display.rotation:
                    screen.blit(to_panel(canvas, config.display.rotation), (0, 0))
                pygame.display.flip()
            else:
                next_frame = mono + OFF_CHECK_SECONDS - period  # the panel is off: draw nothing, look again soon
            last = mono
            if first:
                log.info("first frame %.2f s after start", time.monotonic() - mono_start)
                notifier.ready(f"playing on screen {config.screen_id}")
                first = False
            watchdog.beat(mono)  # from the loop itself: a frozen loop stops the pings and systemd restarts us
            if stopping.is_set():
                return 0
            # Saved even while the clock is unset (then it is our estimate), so each reboot in a long
            # outage starts from where the last run got to, not from the same old time.
            if mono >= next_save:
                writer.submit(lambda when=now: write_last_seen(config.state_dir, when))
                next_save = mono + CLOCK_SAVE_SECONDS
            next_frame += period
            delay = next_frame - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            elif delay < -period:
                next_frame = time.monotonic()
    except KeyboardInterrupt:
        return 130
    finally:
        notifier.stopping()
        if kiosk is not None:
            kiosk.leave("stopped")
            kiosk.close()
        loop.stop(time.monotonic())
        if syncing is not None:
            syncing.stop()
        if watched is not None:
            watched.stop()
        if board is not None:
            board.stop()
        preparer.close()
        final = schedule_now(trust, datetime.now(tz), time.monotonic())[0]
        writer.submit(lambda: write_last_seen(config.state_dir, final))
        writer.close()
        pygame.quit()
        notifier.close()
