"""What changed on screen since the last frame, and when the next change is due: pure, tested by tables.

Each part of the picture (the slide, the clock, the ticker band, the touch hint, a
notice) describes itself as a `Layer`: a name, a key that changes whenever what it
shows changes, and the rectangle it covers. The render loop compares the layers of
two moments: an unchanged list means nothing is drawn or presented at all; a
changed key dirties that layer's old and new rectangles, and only those are redrawn
(everything in them, in order) and presented.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Hashable, Iterable

Rect = tuple[int, int, int, int]  # x, y, width, height

FULL_SHARE = 0.5  # dirty rectangles covering more than this share of the screen become one full frame


@dataclass(frozen=True)
class Layer:
    name: str
    key: Hashable  # equal keys: the layer looks the same
    rect: Rect


def clip(rect: Rect, size: tuple[int, int]) -> Rect | None:
    """`rect` cut to the screen; None when nothing of it is on screen."""
    x, y, w, h = rect
    left, top = max(0, x), max(0, y)
    right, bottom = min(size[0], x + w), min(size[1], y + h)
    if right <= left or bottom <= top:
        return None
    return (left, top, right - left, bottom - top)


def _touch(a: Rect, b: Rect) -> bool:
    return a[0] <= b[0] + b[2] and b[0] <= a[0] + a[2] and a[1] <= b[1] + b[3] and b[1] <= a[1] + a[3]


def _union(a: Rect, b: Rect) -> Rect:
    left, top = min(a[0], b[0]), min(a[1], b[1])
    return (left, top, max(a[0] + a[2], b[0] + b[2]) - left, max(a[1] + a[3], b[1] + b[3]) - top)


def merge(rects: Iterable[Rect]) -> list[Rect]:
    """Rectangles that overlap or touch become their bounding box, until none do (few rects: quadratic is fine)."""
    out: list[Rect] = []
    for rect in rects:
        while True:
            hit = next((i for i, other in enumerate(out) if _touch(rect, other)), None)
            if hit is None:
                break
            rect = _union(rect, out.pop(hit))
        out.append(rect)
    return sorted(out)


def dirty_rects(before: tuple[Layer, ...] | None, after: tuple[Layer, ...], size: tuple[int, int]) -> list[Rect]:
    """The screen rectangles to redraw and present: [] when nothing changed, the whole screen after `None`
    (the first frame, the panel back on) or when the changes cover most of it."""
    full = (0, 0, size[0], size[1])
    if before is None:
        return [full]
    old = {layer.name: layer for layer in before}
    new = {layer.name: layer for layer in after}
    changed: list[Rect] = []
    for name in sorted(old.keys() | new.keys()):
        a, b = old.get(name), new.get(name)
        if a == b:
            continue
        for layer in (a, b):
            cut = clip(layer.rect, size) if layer is not None else None
            if cut is not None:
                changed.append(cut)
    rects = merge(changed)
    if sum(w * h for _, _, w, h in rects) > FULL_SHARE * size[0] * size[1]:
        return [full]
    return rects


def next_due(times: Iterable[float | None]) -> float | None:
    """The earliest of the parts' next changes (monotonic seconds), or None: nothing will change by itself."""
    due = [t for t in times if t is not None]
    return min(due) if due else None


def wake_at(mono: float, due: float | None, next_tick: float, poll: float, period: float) -> float:
    """When the loop should look again: at the next change, but not before the next frame tick (the
    display rate caps animation) and not after `poll` (events, notices and jobs are looked at that often).

    Something due now that drew nothing new (a boundary waiting for the next picture, a clip timed by its
    sound, a fade step that rounds to the last one) is looked at again a frame period later, never at once:
    a loop that spun there held the GIL, and the preparer took 330 ms instead of 30 for a clip's first picture.
    """
    if due is None:
        return mono + poll
    if due <= mono:
        return max(next_tick, mono + period)
    if due <= next_tick:
        return next_tick
    return min(due, mono + poll)


def panel_rect(rect: Rect, canvas: tuple[int, int], rotation: int) -> Rect:
    """Where canvas rectangle `rect` lands on a panel mounted `rotation` degrees clockwise
    (the canvas is turned counter-clockwise by that much to fill the panel, as `to_panel` does)."""
    x, y, w, h = rect
    cw, ch = canvas
    if rotation == 90:  # counter-clockwise: the canvas's right edge becomes the panel's top
        return (y, cw - x - w, h, w)
    if rotation == 180:
        return (cw - x - w, ch - y - h, w, h)
    if rotation == 270:
        return (ch - y - h, x, h, w)
    return rect
