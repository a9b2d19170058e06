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
from functools import partial
from pathlib import Path

import pygame
import pygame.freetype

from sync.layout import StateFolder, write_atomic

from .compositor import Output, SurfaceOutput, open_output
from .config import KioskConfig
from .fontfiles import font_overrides, require_fonts
from .frames import FrameDriver
from .notify import Notifier, Watchdog
from .screen import build_screen
from .supervise import sync_process
from .wallclock import schedule_now, skew_seconds, start_trust

log = logging.getLogger(__name__)

CLOCK_SAVE_SECONDS = 60.0


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


def open_window(config: KioskConfig, headless: bool, windowed: bool) -> Output:
    """The window, showing the fallback colour, and what frames go through: a Surface, or SDL's renderer
    (kiosk.yaml's `display.renderer`, player/compositor.py)."""
    if headless:
        os.environ["SDL_VIDEODRIVER"] = "dummy"
        os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    if config.touch.enabled:  # a fullscreen kiosk must not minimise when something else takes the focus
        os.environ.setdefault("SDL_VIDEO_MINIMIZE_ON_FOCUS_LOSS", "0")
    fullscreen = config.display.fullscreen and not windowed and not headless
    output = open_output(f"Tịnh Biên kiosk: {config.screen_id}", config.display.size, config.display.canvas,
                         config.display.rotation, config.display.renderer, fullscreen, config.fallback.background,
                         headless)
    pygame.font.init()
    pygame.freetype.init()
    return output


def run(config: KioskConfig, seconds: float | None = None, headless: bool = False, windowed: bool = False) -> int:
    """Play until closed (or for `seconds`); returns the process exit status."""
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
    output = open_window(config, headless, windowed)
    screen = build_screen(config, now, clock_label=lambda: trust.label, started=time.time())
    if isinstance(output, SurfaceOutput):
        screen.canvas = output.canvas  # screenshots are taken of it: it always holds the whole picture on screen
    else:
        screen.grab = output.grab
    syncing = sync_process(config.path).start() if config.sync else None
    stopping = threading.Event()  # systemd stops us with SIGTERM: finish the frame, write the last proof line
    signal.signal(signal.SIGTERM, lambda signum, frame: stopping.set())
    notifier = Notifier.from_env(os.environ)  # systemd's Type=notify; a no-op when not run by systemd
    watchdog = Watchdog.from_env(notifier, os.environ, os.getpid())
    screen.start(time.monotonic())
    frames = FrameDriver(screen, output, config.display.fps)
    last = time.monotonic()
    next_save = last
    first = True
    try:
        while True:
            mono = time.monotonic()
            for event in pygame.event.get():
                if screen.handle(event, mono):  # Escape or closing the window, on a signage screen only
                    return 0
            if seconds is not None and mono - mono_start >= seconds:
                return 0
            wall = datetime.now(tz)
            was_trusted = trust.trusted
            skew = skew_seconds(trust, wall, mono)
            now, trust = schedule_now(trust, wall, mono)
            if trust.trusted and not was_trusted:
                log.warning("the clock has been set (it was %.0f s behind); the schedule follows it again", skew)
            wake = frames.frame(mono, now, mono - last)  # draws only what changed, if anything did
            if screen.exit_status is not None:
                log.warning("staff exit from touch mode (exit status %d)", screen.exit_status)
                return screen.exit_status
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
                screen.writer.submit(partial(write_last_seen, config.state_dir, now))
                next_save = mono + CLOCK_SAVE_SECONDS
            delay = wake - time.monotonic()
            if delay > 0:
                time.sleep(delay)  # nothing is due before then; events wait at most IDLE_POLL_SECONDS
    except KeyboardInterrupt:
        return 130
    finally:
        notifier.stopping()
        final = schedule_now(trust, datetime.now(tz), time.monotonic())[0]
        screen.writer.submit(lambda: write_last_seen(config.state_dir, final))
        screen.close(time.monotonic())  # the last proof lines and the clock reach the disk
        if syncing is not None:
            syncing.stop()
        output.close()
        for thread in threading.enumerate():  # clips let go in the background (Prepared.close) close their sound
            if thread.name == "video-close":  # device first: pygame.quit meanwhile waits on SDL's audio lock forever
                thread.join(timeout=3.0)
        pygame.quit()
        notifier.close()
