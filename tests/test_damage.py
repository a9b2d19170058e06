"""Damage: which rectangles a change dirties and when the loop wakes next (pure tables), and how rectangles map onto a
turned panel (checked against pygame's own rotation)."""

from __future__ import annotations

import pygame
import pytest

from player.damage import Layer, dirty_rects, merge, next_due, panel_rect, wake_at
from player.transitions import to_panel

SIZE = (1920, 1080)
FULL = [(0, 0, 1920, 1080)]
SLIDE = Layer("slide", (1, 0, ("still", 0)), (0, 0, 1920, 1080))
CLOCK = Layer("clock", ("10:00", (0, 0)), (1700, 20, 200, 90))
TICKER = Layer("ticker", (7, -10, 1000), (0, 960, 1920, 120))


@pytest.mark.parametrize("before, after, expected", [
    (None, (SLIDE,), FULL),  # the first frame (or the panel back on) is drawn whole
    ((SLIDE, CLOCK, TICKER), (SLIDE, CLOCK, TICKER), []),  # nothing changed: nothing drawn or presented
    ((SLIDE, TICKER), (SLIDE, Layer("ticker", (7, -12, 1000), TICKER.rect)), [(0, 960, 1920, 120)]),
    ((SLIDE, CLOCK), (SLIDE, Layer("clock", ("10:01", (0, 0)), CLOCK.rect)), [(1700, 20, 200, 90)]),
    # the burn-in shift moves the clock: its old and new places, which touch, become one rectangle
    ((SLIDE, CLOCK), (SLIDE, Layer("clock", ("10:00", (4, 0)), (1704, 20, 200, 90))), [(1700, 20, 204, 90)]),
    # clock and ticker both change: two separate rectangles
    ((SLIDE, CLOCK, TICKER), (SLIDE, Layer("clock", "x", CLOCK.rect), Layer("ticker", "y", TICKER.rect)),
     [(0, 960, 1920, 120), (1700, 20, 200, 90)]),
    # a transition step changes the slide: the whole screen
    ((SLIDE, CLOCK), (Layer("slide", (1, 0, ("crossfade", 12)), SLIDE.rect), CLOCK), FULL),
    # a notice appears (a band over the top 40 %) and goes: its rectangle both times
    ((SLIDE,), (SLIDE, Layer("notice", 1, (0, 0, 1920, 432))), [(0, 0, 1920, 432)]),
    ((SLIDE, Layer("notice", 1, (0, 0, 1920, 432))), (SLIDE,), [(0, 0, 1920, 432)]),
    # changes covering most of the screen become one full frame
    ((SLIDE,), (SLIDE, Layer("notice", 1, (0, 0, 1920, 700))), FULL),
    # a layer partly off screen is cut to it; one wholly off screen dirties nothing
    ((SLIDE,), (SLIDE, Layer("ripple", 1, (-20, -20, 60, 60))), [(0, 0, 40, 40)]),
    ((SLIDE,), (SLIDE, Layer("ripple", 1, (2000, 0, 60, 60))), []),
])
def test_dirty_rects(before, after, expected):
    assert dirty_rects(before, after, SIZE) == expected


@pytest.mark.parametrize("rects, expected", [
    ([], []),
    ([(0, 0, 10, 10), (20, 20, 5, 5)], [(0, 0, 10, 10), (20, 20, 5, 5)]),
    ([(0, 0, 10, 10), (5, 5, 10, 10)], [(0, 0, 15, 15)]),
    ([(0, 0, 10, 10), (30, 0, 10, 10), (8, 0, 24, 2)], [(0, 0, 40, 10)]),  # a bridge joins two
])
def test_merge(rects, expected):
    assert merge(rects) == expected


@pytest.mark.parametrize("mono, due, next_tick, expected", [
    (10.0, None, 10.016, 10.025),  # nothing due: look at events again after the poll
    (10.0, 10.0, 10.016, 10.016),  # due now (a transition): at the next frame tick, not sooner
    (10.0, 10.010, 10.016, 10.016),  # due before the tick: the tick
    (10.0, 10.020, 10.016, 10.020),  # a video frame at its time
    (10.0, 14.0, 10.016, 10.025),  # the end of the item is far: poll meanwhile
    # due now, nothing drawn since long ago (the next slot not ready yet): a frame period later, never at once
    (10.0, 10.0, 9.2, 10.016),
    (10.0, 9.5, 9.516, 10.016),  # an item end passed while its successor is prepared
])
def test_wake_at(mono, due, next_tick, expected):
    assert wake_at(mono, due, next_tick, 0.025, 0.016) == pytest.approx(expected)


def test_next_due_is_the_earliest_known():
    assert next_due([None, 3.0, 2.5, None]) == 2.5
    assert next_due([None, None]) is None


@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
def test_panel_rect_follows_the_turned_canvas(rotation):
    canvas = pygame.Surface((60, 40), pygame.SRCALPHA)
    canvas.fill((0, 0, 0, 0))
    rect = (7, 5, 20, 9)
    canvas.fill((255, 255, 255, 255), rect)
    turned = to_panel(canvas, rotation)
    x, y, w, h = panel_rect(rect, (60, 40), rotation)
    assert turned.get_bounding_rect() == pygame.Rect(x, y, w, h)
