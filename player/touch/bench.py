"""`python -m player bench --only touch`: tap-to-response time and page-swipe frame times of the touch kiosk.

Runs the demo browse menu (playlists/browse.yaml of this checkout, with its
media) on the kiosk's real objects at 1920x1080 on SDL's dummy driver, paced
at 60 fps like `player run`. A tap's time starts when its FINGERDOWN/FINGERUP
are posted (pygame-ce does not expose SDL's own event timestamps, and a posted
event is stamped then); its response is the first flip whose pixels changed
around the finger, its screen the first flip showing the new screen whole.
"""

from __future__ import annotations

import shutil
import statistics
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pygame

from ..benchscreen import FPS, make_bench_screen, pct
from ..config import load_config
from ..screen import build_screen
from ..slides import Bands
from .kiosk import Kiosk
from .lockdown import hash_pin

CHECKOUT = Path(__file__).resolve().parents[2]


class TouchRig:
    """The screen `player run` builds (its loop and kiosk) on the display surface, one `frame()` per paced frame."""

    def __init__(self, config_path: Path, now: datetime) -> None:
        self.screen = build_screen(load_config(config_path), now)
        self.now = now
        assert self.screen.kiosk is not None, "the touch screen's kiosk.yaml turns touch on"
        self.kiosk: Kiosk = self.screen.kiosk
        display = pygame.display.get_surface()
        assert display is not None, "bench_command opens the display first"
        self.display = display
        self.screen.start(time.monotonic())
        self.period = 1.0 / FPS
        self.next = time.monotonic()
        self.last = self.next

    def frame(self) -> float:
        """One frame as `player run` does it (events, draw, flip), paced; returns its own cost in seconds."""
        t0 = time.perf_counter()
        mono = time.monotonic()
        for event in pygame.event.get():
            self.screen.handle(event, mono)
        self.screen.frame(self.display, mono, self.now, mono - self.last)
        pygame.display.flip()
        cost = time.perf_counter() - t0
        self.last = mono
        self.next += self.period
        delay = self.next - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        else:
            self.next = time.monotonic()
        return cost

    def settle(self, seconds: float = 0.6) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end or self.kiosk.cache.busy:
            self.frame()

    def whole(self) -> bool:
        """The screen the visitor asked for is fully up (drawn, no slide running)."""
        kiosk = self.kiosk
        if not kiosk.nav.active:
            return True
        return kiosk.settled

    def close(self) -> None:
        self.screen.close(time.monotonic())


def _post(kind: int, x: float, y: float, size: tuple[int, int], **extra: Any) -> None:
    pygame.event.post(pygame.event.Event(kind, x=x / size[0], y=y / size[1], dx=0.0, dy=0.0, finger_id=1, touch_id=1,
                                         pressure=1.0, **extra))


def _region(rig: TouchRig, point: tuple[int, int]) -> bytes:
    """The pixels a visitor watches: around the finger, and the middle of the screen (the loop's clock and
    ticker, which move by themselves, are outside both)."""
    side = rig.kiosk.layout.target * 2
    box = pygame.Rect(0, 0, side, side)
    box.center = point
    width, height = rig.display.get_size()
    bands = Bands(width, height)
    middle = pygame.Rect(0, bands.top, width, height - bands.top - bands.bottom)
    screen = rig.display.get_rect()
    return b"".join(pygame.image.tobytes(rig.display.subsurface(area.clip(screen)), "RGB") for area in (box, middle))


def tap_times(rig: TouchRig, point: tuple[int, int], timeout: float = 3.0) -> tuple[float, float]:
    """(ms to the first flip that changed pixels around `point`, ms to the flip showing the new screen whole)."""
    size = rig.display.get_size()
    before = _region(rig, point)
    posted = time.perf_counter()
    _post(pygame.FINGERDOWN, *point, size)
    _post(pygame.FINGERUP, *point, size)
    response = screen = None
    while time.perf_counter() - posted < timeout and (response is None or screen is None):
        rig.frame()
        flipped = time.perf_counter()
        if response is None and _region(rig, point) != before:
            response = flipped - posted
        if screen is None and rig.whole() and flipped - posted > 0.0:
            screen = flipped - posted
    return (response if response is not None else timeout) * 1000, (screen if screen is not None else timeout) * 1000


def tap_run(rig: TouchRig, rounds: int) -> tuple[list[float], list[float]]:
    layout = rig.kiosk.layout
    width, height = rig.display.get_size()
    responses: list[float] = []
    screens: list[float] = []
    for round_ in range(rounds):
        language = layout.language_buttons()[round_ % len(layout.language_buttons())][1]
        steps = [(width // 2, height // 2),  # the loop: opens the home menu
                 layout.tiles(6)[round_ % 4].center,  # a topic with pages
                 layout.pager()[2].center,  # the next page
                 language.center,  # another language
                 layout.back().center,  # up to the home menu
                 layout.home().center]  # (already home: only the pressed look)
        for point in steps:
            rig.settle(0.4)
            response, screen = tap_times(rig, point)
            responses.append(response)
            screens.append(screen)
        rig.kiosk.leave("bench")
        rig.settle(0.4)
    return responses, screens


def swipe_run(rig: TouchRig, seconds: float) -> tuple[list[float], int]:
    """Frame costs while a finger drags pages left and right (20 frames a drag, then the slide)."""
    layout = rig.kiosk.layout
    width, height = rig.display.get_size()
    rig.settle(0.3)
    tap_times(rig, (width // 2, height // 2))
    rig.settle(0.4)
    tap_times(rig, layout.tiles(6)[0].center)  # immigration: 3 pages
    rig.settle(0.6)
    costs: list[float] = []
    swipes = 0
    direction = -1
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if rig.kiosk.nav.page >= 2:
            direction = 1  # the finger moves right: back towards the first page
        elif rig.kiosk.nav.page <= 0:
            direction = -1  # the finger moves left: on to the next page
        x0, y = width * (0.7 if direction < 0 else 0.3), height // 2
        _post(pygame.FINGERDOWN, x0, y, (width, height))
        costs.append(rig.frame())
        for i in range(1, 21):
            _post(pygame.FINGERMOTION, x0 + direction * width * 0.4 * i / 20, y, (width, height))
            costs.append(rig.frame())
        _post(pygame.FINGERUP, x0 + direction * width * 0.4, y, (width, height))
        swipes += 1
        for _ in range(24):  # the slide (0.25 s) and a few still frames
            costs.append(rig.frame())
    return costs, swipes


def touch_screen(root: Path) -> Path | None:
    """A 1920x1080 touch screen with the bench loop (long, still items) and the demo browse menu; None outside a checkout."""
    menu = CHECKOUT / "playlists" / "browse.yaml"
    if not menu.exists():
        return None
    config = make_bench_screen(root, seconds=600.0)  # the loop stands still: changed pixels are the kiosk's doing
    shutil.copy(menu, root / "playlists" / "browse.yaml")
    for picture in (CHECKOUT / "media").glob("*.jpg"):
        shutil.copy(picture, root / "media" / picture.name)
    with config.open("a", encoding="utf-8") as out:
        out.write(f"touch: {{enabled: true, exit_pin_hash: '{hash_pin('2468', iterations=1000)}'}}\n")
    return config


def touch_bench(root: Path, now: datetime, rounds: int = 4, seconds: float = 8.0) -> None:
    config = touch_screen(root)
    if config is None:
        print(f"touch figures: {CHECKOUT / 'playlists' / 'browse.yaml'} is not here (run from a checkout of the repository)")
        return
    rig = TouchRig(config, now)
    try:
        rig.settle(1.5)  # the kiosk's painter draws the bars and home menus first
        responses, screens = tap_run(rig, rounds)
        rig.kiosk.leave("bench")
        costs, swipes = swipe_run(rig, seconds)
    finally:
        rig.close()
    print(f"touch_tap_to_response_ms p50 {statistics.median(responses):.1f} p99 {pct(responses, 0.99):.1f} "
          f"max {max(responses):.1f} (target <= 100; {len(responses)} taps: loop, tile, next page, language, back, home)")
    print(f"touch_tap_to_screen_ms p50 {statistics.median(screens):.1f} p99 {pct(screens, 0.99):.1f} "
          f"max {max(screens):.1f} (the new screen whole, drawn off the loop when not already cached)")
    print(f"touch_swipe_frame_time_p50_ms {pct(costs, 0.5) * 1000:.2f}")
    print(f"touch_swipe_frame_time_p99_ms {pct(costs, 0.99) * 1000:.2f} (target <= 16.7; {swipes} swipes, "
          f"{len(costs)} frames at 1920x1080)")
