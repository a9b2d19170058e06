"""Scripts drawn right: compared pixel for pixel with reference renders, so unshaped text fails."""

from __future__ import annotations

import pygame
import pygame.freetype
import pytest

from player.fontfiles import NOTO, NOTO_CJK
from player.fonts import Typesetter

SIZE = 64
WHITE = (255, 255, 255)


def on_black(surface: pygame.Surface, size: tuple[int, int]) -> bytes:
    canvas = pygame.Surface(size)
    canvas.fill((0, 0, 0))
    canvas.blit(surface, (0, 0))
    return pygame.image.tobytes(canvas, "RGB")


def ink_box(surface: pygame.Surface) -> pygame.Rect:
    return surface.get_bounding_rect()


KHMER = "ស្វាគមន៍ ច្រកទ្វារ"  # subscript consonants after U+17D2 (coeng) must stack under their base


def test_khmer_matches_a_shaped_reference_and_not_an_unshaped_one():
    ours = Typesetter("km").render(KHMER, SIZE, WHITE)
    shaped = pygame.font.Font(f"{NOTO}/NotoSansKhmer-Regular.ttf", SIZE)
    shaped.set_script("Khmr")
    reference = shaped.render(KHMER, True, WHITE)
    unshaped = pygame.font.Font(f"{NOTO}/NotoSansKhmer-Regular.ttf", SIZE).render(KHMER, True, WHITE)
    size = (max(ours.get_width(), reference.get_width(), unshaped.get_width()), max(ours.get_height(), reference.get_height()))
    assert on_black(ours, size) == on_black(reference, size)
    assert on_black(ours, size) != on_black(unshaped, size)
    # Stacked subscripts make the line narrower than the same letters set side by side.
    assert ink_box(ours).width < ink_box(unshaped).width


def test_khmer_line_with_digits_and_latin_draws_no_missing_glyph_boxes():
    mixed = Typesetter("km").render("លេខ 113", SIZE, WHITE)
    khmer_only = pygame.font.Font(f"{NOTO}/NotoSansKhmer-Regular.ttf", SIZE)
    khmer_only.set_script("Khmr")
    boxes = khmer_only.render("លេខ 113", True, WHITE)
    digits = pygame.font.Font(f"{NOTO}/NotoSans-Regular.ttf", SIZE).render("113", True, WHITE)
    # The digits come from Noto Sans: the tail of our line is the Noto Sans digits, not .notdef boxes.
    tail = mixed.subsurface(pygame.Rect(mixed.get_width() - digits.get_width(), 0, digits.get_width(), digits.get_height()))
    assert on_black(tail, digits.get_size()) == on_black(digits, digits.get_size())
    assert on_black(mixed, mixed.get_size()) != on_black(boxes, mixed.get_size())


def test_chinese_uses_the_simplified_chinese_face_of_the_collection():
    text = "直骨"  # glyphs that differ between the Chinese and Japanese faces of Noto Sans CJK
    ours = Typesetter("zh").render(text, SIZE, WHITE)
    def face(index: int) -> pygame.Surface:
        font = pygame.freetype.Font(f"{NOTO_CJK}/NotoSansCJK-Regular.ttc", SIZE, font_index=index)
        surface, _ = font.render(text, WHITE, size=SIZE)
        return surface
    sc, jp = face(2), face(0)
    crop = lambda s: on_black(s.subsurface(s.get_bounding_rect()), s.get_bounding_rect().size)  # noqa: E731
    assert crop(ours) == crop(sc)
    assert sc.get_bounding_rect().size != jp.get_bounding_rect().size  # so the Japanese face would fail the line above


@pytest.mark.parametrize("text", ["Tiếng Việt", "Cửa khẩu Quốc tế Tịnh Biên", "Núi Cấm, Trà Sư"])
def test_vietnamese_diacritics_match_noto_sans_even_from_decomposed_input(text):
    import unicodedata
    reference = pygame.font.Font(f"{NOTO}/NotoSans-Regular.ttf", SIZE).render(text, True, WHITE)
    setter = Typesetter("vi")
    size = reference.get_size()
    assert on_black(setter.render(text, SIZE, WHITE), size) == on_black(reference, size)
    assert on_black(setter.render(unicodedata.normalize("NFD", text), SIZE, WHITE), size) == on_black(reference, size)
