"""From pointer events to gestures: press, drag, tap, swipe; fingers and a mouse alike, one pointer at a time.

SDL reports a finger both as FINGER* events and as mouse events it makes up
from them (those carry `touch=True`); the finger events are used and the made-up
mouse events ignored, so a tap counts once, and a real mouse (touch=False)
works like a finger. While one pointer is down, other fingers are ignored.
Coordinates are turned into the canvas' own (portrait when the panel is turned).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pygame

TAP_SLOP_MM = 8.0  # a finger moving less than this is still tapping
SWIPE_MM = 15.0  # a horizontal move at least this long (or a flick) turns the page
FLICK_PX_PER_S = 900.0


@dataclass(frozen=True)
class Pointer:
    kind: str  # "down", "move" or "up"
    id: object  # the finger id, or "mouse"
    x: float
    y: float


@dataclass(frozen=True)
class Press:
    x: float
    y: float


@dataclass(frozen=True)
class Drag:
    dx: float  # how far the pointer has moved sideways since it went down
    x: float
    y: float


@dataclass(frozen=True)
class Tap:
    x: float
    y: float


@dataclass(frozen=True)
class Swipe:
    step: int  # +1: towards the next page (finger moved left), -1: the previous one
    dx: float  # where the finger let go, relative to where it went down


@dataclass(frozen=True)
class Cancel:
    """The pointer went up after moving too far for a tap but not far enough for a swipe."""
    dx: float


Gesture = Press | Drag | Tap | Swipe | Cancel


def to_canvas(x: float, y: float, canvas: tuple[int, int], rotation: int) -> tuple[float, float]:
    """A point on the panel (its own pixel grid) as a point on the canvas the content is laid out on.

    The inverse of transitions.to_panel, which turns the canvas by `rotation` degrees counter-clockwise.
    """
    width, height = canvas
    if rotation == 90:
        return (width - 1 - y, x)
    if rotation == 180:
        return (width - 1 - x, height - 1 - y)
    if rotation == 270:
        return (y, height - 1 - x)
    return (x, y)


def pointer_of(event: Any, canvas: tuple[int, int], rotation: int = 0) -> Pointer | None:
    """The pointer event in a pygame event, in canvas coordinates, or None (other events, made-up mouse ones)."""
    panel = canvas if rotation in (0, 180) else (canvas[1], canvas[0])
    kinds = {pygame.FINGERDOWN: "down", pygame.FINGERMOTION: "move", pygame.FINGERUP: "up"}
    if event.type in kinds:
        x, y = to_canvas(event.x * panel[0], event.y * panel[1], canvas, rotation)
        return Pointer(kinds[event.type], ("finger", getattr(event, "touch_id", 0), event.finger_id), x, y)
    if getattr(event, "touch", False):
        return None  # SDL's copy of a finger event: the finger event itself counts
    if event.type == pygame.MOUSEBUTTONDOWN and event.button == 1:
        kind = "down"
    elif event.type == pygame.MOUSEBUTTONUP and event.button == 1:
        kind = "up"
    elif event.type == pygame.MOUSEMOTION and event.buttons and event.buttons[0]:
        kind = "move"
    else:
        return None
    x, y = to_canvas(float(event.pos[0]), float(event.pos[1]), canvas, rotation)
    return Pointer(kind, "mouse", x, y)


class Gestures:
    """Follows the one pointer that is down and names what it did. Times are monotonic seconds."""

    def __init__(self, px_per_mm: float, canvas_width: int) -> None:
        self.slop = TAP_SLOP_MM * px_per_mm
        self.swipe = max(SWIPE_MM * px_per_mm, canvas_width * 0.06)
        self._down: tuple[object, float, float, float] | None = None  # id, x, y, time
        self._moved = False

    @property
    def pressed(self) -> bool:
        return self._down is not None

    def feed(self, pointer: Pointer, now: float) -> Gesture | None:
        if pointer.kind == "down":
            if self._down is not None:
                return None  # a second finger while one is down: ignored
            self._down, self._moved = (pointer.id, pointer.x, pointer.y, now), False
            return Press(pointer.x, pointer.y)
        if self._down is None or pointer.id != self._down[0]:
            return None
        _, x0, y0, t0 = self._down
        dx, dy = pointer.x - x0, pointer.y - y0
        if abs(dx) > self.slop or abs(dy) > self.slop:
            self._moved = True
        if pointer.kind == "move":
            return Drag(dx, pointer.x, pointer.y) if self._moved else None
        self._down = None
        if not self._moved:
            return Tap(x0, y0)
        fast = abs(dx) / max(1e-3, now - t0) >= FLICK_PX_PER_S and abs(dx) > self.slop
        if abs(dx) > abs(dy) and (abs(dx) >= self.swipe or fast):
            return Swipe(1 if dx < 0 else -1, dx)
        return Cancel(dx)

    def reset(self) -> None:
        self._down = None
