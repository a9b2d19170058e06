"""From pointer events to gestures: taps, swipes, drags, several fingers, SDL's mouse copies, turned panels."""

from __future__ import annotations

import pygame
import pytest

from player.touch.gestures import Drag, Gestures, Pointer, Swipe, pointer_of, to_canvas
from player.transitions import to_panel

PX_PER_MM = 2.0  # a 43" 1080p panel is about 2 px per mm


def feed(events: list[tuple[str, object, float, float, float]]) -> list:
    gestures = Gestures(PX_PER_MM, 1920)
    return [type(g).__name__ for kind, pid, x, y, t in events
            if (g := gestures.feed(Pointer(kind, pid, x, y), t)) is not None]


@pytest.mark.parametrize("events, names", [
    ([("down", 1, 500, 500, 0), ("up", 1, 502, 503, 0.1)], ["Press", "Tap"]),  # a jitter of a few px is a tap
    ([("down", 1, 500, 500, 0), ("move", 1, 300, 505, 0.2), ("up", 1, 300, 505, 0.3)], ["Press", "Drag", "Swipe"]),
    ([("down", 1, 500, 500, 0), ("move", 1, 470, 500, 0.5), ("up", 1, 470, 500, 1.0)], ["Press", "Drag", "Cancel"]),
    ([("down", 1, 500, 500, 0), ("move", 1, 480, 700, 0.2), ("up", 1, 480, 700, 0.3)], ["Press", "Drag", "Cancel"]),  # vertical
    ([("down", 1, 500, 500, 0), ("up", 1, 460, 500, 0.02)], ["Press", "Swipe"]),  # a quick flick
    ([("down", 1, 500, 500, 0), ("down", 2, 900, 500, 0.1), ("up", 2, 900, 500, 0.2), ("up", 1, 500, 500, 0.3)],
     ["Press", "Tap"]),  # a second finger is ignored
    ([("up", 1, 500, 500, 0)], []),  # a finger that went down before we started
    ([("down", 1, 500, 500, 0), ("up", 1, 500, 500, 0.1), ("up", 1, 500, 500, 0.2)], ["Press", "Tap"]),
])
def test_gestures(events, names):
    assert feed(events) == names


def test_a_swipe_left_asks_for_the_next_page():
    gestures = Gestures(PX_PER_MM, 1920)
    gestures.feed(Pointer("down", 1, 800, 500), 0)
    assert gestures.feed(Pointer("move", 1, 600, 500), 0.1) == Drag(-200, 600, 500)
    assert gestures.feed(Pointer("up", 1, 600, 500), 0.2) == Swipe(1, -200)
    gestures.feed(Pointer("down", 1, 800, 500), 1)
    assert gestures.feed(Pointer("up", 1, 1000, 500), 1.2) == Swipe(-1, 200)


def event(kind: int, **fields):
    return pygame.event.Event(kind, **fields)


def test_sdl_mouse_copies_of_fingers_are_ignored_and_a_real_mouse_is_a_pointer():
    canvas = (1920, 1080)
    assert pointer_of(event(pygame.MOUSEBUTTONDOWN, pos=(10, 20), button=1, touch=True), canvas) is None
    assert pointer_of(event(pygame.MOUSEBUTTONDOWN, pos=(10, 20), button=1, touch=False), canvas) == Pointer("down", "mouse", 10, 20)
    assert pointer_of(event(pygame.MOUSEBUTTONDOWN, pos=(10, 20), button=3, touch=False), canvas) is None  # right button
    assert pointer_of(event(pygame.MOUSEMOTION, pos=(10, 20), rel=(1, 0), buttons=(0, 0, 0), touch=False), canvas) is None
    finger = pointer_of(event(pygame.FINGERDOWN, x=0.5, y=0.25, dx=0, dy=0, finger_id=3, touch_id=1, pressure=1), canvas)
    assert finger is not None and (finger.kind, finger.x, finger.y) == ("down", 960, 270)
    assert pointer_of(event(pygame.KEYDOWN, key=pygame.K_ESCAPE, mod=0), canvas) is None


@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
def test_a_touch_on_a_turned_panel_lands_where_the_picture_is(rotation):
    canvas = (160, 90) if rotation in (0, 180) else (90, 160)
    picture = pygame.Surface(canvas)
    picture.fill((0, 0, 0))
    picture.set_at((20, 10), (255, 0, 0))  # a dot on the canvas...
    panel = to_panel(picture, rotation)
    spot = next((x, y) for x in range(panel.get_width()) for y in range(panel.get_height())
                if tuple(panel.get_at((x, y)))[:3] == (255, 0, 0))
    assert to_canvas(spot[0], spot[1], canvas, rotation) == (20, 10)  # ...touched on the panel lands on it
