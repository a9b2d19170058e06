"""Producing frames only when something on screen changes: the damage-driven heart of the render loop.

`FrameDriver.frame(mono, now, dt)` steps the screen, compares what it shows now
with what the panel shows (player/damage.py), redraws and presents only the
rectangles that changed (nothing at all when none did), and returns when the
loop should look again: the next change that is due, capped by the display rate
and by the poll that keeps events, notices and jobs prompt.
"""

from __future__ import annotations

from datetime import datetime

from .compositor import Output
from .damage import Layer, Rect, dirty_rects, wake_at
from .screen import Screen

OFF_CHECK_SECONDS = 0.5  # how often a screen switched off wakes to handle events and the watchdog
# How long an idle loop sleeps at most: events (a tap), a new notice and the periodic jobs are seen this
# soon. 40 wake-ups a second with nothing to draw cost about 0.004 CPU-s/s here; SDL's own event wait
# polls every millisecond on most drivers, which costs six times that.
IDLE_POLL_SECONDS = 0.025


class FrameDriver:
    def __init__(self, screen: Screen, output: Output, fps: int, poll: float = IDLE_POLL_SECONDS) -> None:
        self.screen, self.output = screen, output
        self.period, self.poll = 1.0 / fps, poll
        self.size = screen.config.display.canvas
        self.shown: tuple[Layer, ...] | None = None  # what the panel shows, as damage layers; None: draw it all
        self.next_tick = 0.0
        self.presents = 0
        self.last_rects: list[Rect] = []

    def frame(self, mono: float, now: datetime, dt: float) -> float:
        """One look at the screen at monotonic `mono`: draws and presents what changed; returns when to look again."""
        screen = self.screen
        if not screen.step(mono, now, dt):
            self.shown = None  # the panel is off: nothing drawn; when it is back, the first frame is drawn whole
            return mono + OFF_CHECK_SECONDS
        if screen.exit_status is not None:
            return mono
        layers = screen.layers()
        rects = dirty_rects(self.shown, layers, self.size)
        self.shown = layers
        if rects:
            self.output.show(screen.draw, rects, screen.needs_pixels)
            self.presents += 1
            self.last_rects = rects
            self.next_tick = mono + self.period
        return wake_at(mono, screen.next_due(mono), self.next_tick, self.poll, self.period)
