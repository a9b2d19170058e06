"""The clock and ticker: dates as each language writes them, and the anti-burn-in walk."""

from __future__ import annotations

import pygame
import pytest

from player.overlays import Overlays, date_text, shift_offset
from player.slides import SlideRenderer
from tests.conftest import at


@pytest.mark.parametrize("language, text", [
    ("vi", "Thứ Sáu, 27/11/2026"),
    ("en", "Friday 27 Nov 2026"),
    ("km", "ថ្ងៃសុក្រ ២៧/១១/២០២៦"),
    ("zh", "2026年11月27日 星期五"),
    ("fr", "2026-11-27"),
])
def test_date_in_each_language(language, text):
    assert date_text(at("2026-11-27 09:00"), language) == text


def test_overlays_move_a_few_pixels_now_and_then():
    offsets = {shift_offset(t, 300, 4) for t in range(0, 300 * 9, 300)}
    assert len(offsets) == 9 and all(abs(dx) <= 4 and abs(dy) <= 4 for dx, dy in offsets)
    assert shift_offset(10, 300, 4) == shift_offset(290, 300, 4)  # still between moves
    assert shift_offset(1000, 300, 0) == (0, 0)


def test_clock_and_ticker_are_drawn_and_the_ticker_scrolls(tmp_path):
    renderer = SlideRenderer((960, 540), 960 / 476, tmp_path)
    overlays = Overlays((960, 540), renderer.floor, renderer.setter, shift_pixels=0)
    overlays.set_ticker((("vi", "Chào mừng quý khách"), ("km", "សូមស្វាគមន៍")))
    frames = []
    for step in range(2):
        surface = pygame.Surface((960, 540))
        surface.fill((200, 200, 200))
        overlays.update(0.5, step * 0.5, at("2026-11-27 09:41"), "vi")
        overlays.draw(surface)
        frames.append(pygame.image.tobytes(surface, "RGB"))
        band = pygame.transform.average_color(surface, pygame.Rect(0, 500, 960, 40))
        assert sum(band[:3]) < 3 * 120  # the dark ticker band
        assert surface.get_at((930, 30))[:3] != (200, 200, 200)  # the clock box, top right
    top_half = lambda raw: raw[: 960 * 3 * 400]  # noqa: E731
    assert top_half(frames[0]) == top_half(frames[1])  # the clock stays put within a minute
    assert frames[0] != frames[1]  # the ticker moved
