"""The kiosk's targets are at least 2 cm on the real panel, its text 7:1 and 6 mm tall, its corner kept free."""

from __future__ import annotations

import itertools

import pygame
import pytest

from player.touch import keypad as keypad_colors
from player.touch import painter as paint
from player.touch.browse import PALETTE
from player.colors import MIN_CONTRAST, blend, contrast, text_color_for
from player.touch.layout import BODY_CAP_MM, PAGE_CAP_MM, Box, Layout
from player.touch.lockdown import CORNERS, corner_box
from player.slides import SlideRenderer

LANGUAGES = ("vi", "en", "km", "zh")
# (canvas, px per mm): 43" and 55" landscape, a 43" turned to portrait, a 24" and a 15.6" touch panel, a 32" 4K
PANELS = [((1920, 1080), 1920 / 952), ((1920, 1080), 1920 / 1210), ((1080, 1920), 1920 / 952),
          ((1920, 1080), 1920 / 531), ((1920, 1080), 1920 / 344), ((3840, 2160), 3840 / 698)]


def targets(layout: Layout) -> list[tuple[str, Box]]:
    out = [("back", layout.back()), ("home", layout.home())] + list(layout.language_buttons())
    out += [(f"pager{i}", box) for i, box in enumerate(layout.pager()) if i != 1]
    return out


@pytest.mark.parametrize("canvas, px_per_mm", PANELS)
def test_every_target_is_at_least_2_cm_and_inside_the_screen(canvas, px_per_mm):
    layout = Layout(canvas, px_per_mm, LANGUAGES)
    boxes = targets(layout) + [(f"tile{n}/{i}", box) for n in range(1, 13) for i, box in enumerate(layout.tiles(n))]
    boxes += [(f"key {label}", box) for label, box in layout.keypad()[2]]
    screen = Box(0, 0, *canvas)
    for name, box in boxes:
        assert box.w / px_per_mm >= 20 and box.h / px_per_mm >= 20, f"{name} is {box.w / px_per_mm:.0f} x {box.h / px_per_mm:.0f} mm"
        assert screen.contains(box.x, box.y) and screen.contains(box.x + box.w - 1, box.y + box.h - 1), f"{name} is off screen"


@pytest.mark.parametrize("canvas, px_per_mm", PANELS)
def test_buttons_do_not_overlap_and_no_button_sits_in_a_corner(canvas, px_per_mm):
    layout = Layout(canvas, px_per_mm, LANGUAGES)
    rects = [(name, pygame.Rect(box.rect)) for name, box in targets(layout)]
    for (a, ra), (b, rb) in itertools.combinations(rects, 2):
        assert not ra.colliderect(rb), f"{a} overlaps {b}"
    for corner in CORNERS:
        square = pygame.Rect(corner_box(canvas, corner, layout.corner))
        for name, rect in rects:
            assert not square.colliderect(rect), f"{name} is in the {corner} corner the staff tap"
    content = pygame.Rect(layout.content().rect)
    for n in range(1, 13):
        tiles = [pygame.Rect(box.rect) for box in layout.tiles(n)]
        assert all(content.contains(tile) for tile in tiles)
        assert not any(a.colliderect(b) for a, b in itertools.combinations(tiles, 2))


def test_all_kiosk_text_has_7_to_1_contrast():
    pairs = {
        "button label": (paint.WHITE, paint.BUTTON), "bar title": (paint.WHITE, paint.BAR),
        "chosen language": (paint.DARK_TEXT, paint.SELECTED), "countdown": (paint.DARK_TEXT, paint.SELECTED),
        "keypad key": (keypad_colors.WHITE, keypad_colors.KEY), "keypad OK": ((16, 16, 16), keypad_colors.ACCENT),
        "keypad message": (keypad_colors.ACCENT, (0, 0, 0)),
        # the loop's hint: white on the bar colour at 235/255 over the brightest possible pixel
        "loop hint": (paint.WHITE, blend(paint.BAR, (255, 255, 255), 235 / 255)),
    }
    pairs.update({f"tile {color}": (text_color_for(color), color) for color in PALETTE})
    low = {name: round(contrast(*pair), 2) for name, pair in pairs.items() if contrast(*pair) < MIN_CONTRAST}
    assert not low, f"below {MIN_CONTRAST}:1: {low}"


def ink_height(surface: pygame.Surface) -> int:
    return pygame.mask.from_surface(surface).get_bounding_rects()[0].height


@pytest.mark.parametrize("canvas, px_per_mm", PANELS[:5])
def test_labels_and_page_text_have_capitals_at_least_6_mm_tall(canvas, px_per_mm, tmp_path):
    layout = Layout(canvas, px_per_mm, LANGUAGES)
    renderer = SlideRenderer(canvas, px_per_mm, tmp_path, None, PAGE_CAP_MM, layout.page_box().rect)
    for px, what in ((layout.label_px, "button label"), (renderer.floor, "smallest page body text")):
        capital = renderer.setter("en", True).render("H", px, (255, 255, 255))
        assert ink_height(capital) / px_per_mm >= BODY_CAP_MM, f"{what}: {ink_height(capital) / px_per_mm:.1f} mm"
