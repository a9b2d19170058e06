"""Slides as travellers see them: sizes above the floor, 7:1 contrast, stacked languages, images, bad files."""

from __future__ import annotations


import pygame
import pytest
from PIL import Image

from player.colors import contrast
from player.errors import MediaError
from player.images import load_image
from player.model import Background, Item, Text
from player.sequence import Slot
from player.slides import SlideRenderer
from player.textlayout import body_floor_px
from tests.conftest import DATA

PX_PER_MM = 1920 / 952  # a 43" 1080p panel
HOURS = (("vi", Text("Giờ mở cửa", "Hằng ngày 06:00 – 22:00")), ("en", Text("Opening hours", "Daily 06:00 – 22:00")),
         ("km", Text("ម៉ោងបើក", "រៀងរាល់ថ្ងៃ 06:00 – 22:00")), ("zh", Text("开放时间", "每天 06:00 – 22:00")))


@pytest.fixture
def renderer(tmp_path):
    return SlideRenderer((1920, 1080), PX_PER_MM, tmp_path)


def slide(renderer, item, languages):
    return renderer.render(Slot("main", item, languages, 0))


@pytest.mark.parametrize("language", ["vi", "en", "km", "zh"])
def test_body_text_never_below_the_floor(renderer, language):
    rendered = slide(renderer, Item("hours", "text", 10, texts=HOURS), (language,))
    floor = body_floor_px(PX_PER_MM)
    assert rendered.sizes[(language, "body")] >= floor
    assert rendered.sizes[(language, "title")] > rendered.sizes[(language, "body")]
    assert not rendered.warnings


def test_stacked_foreign_text_is_three_quarters_of_the_vietnamese(renderer):
    rendered = slide(renderer, Item("hours", "text", 10, presentation="stack", texts=HOURS), ("vi", "en"))
    vi, en = rendered.sizes[("vi", "body")], rendered.sizes[("en", "body")]
    assert en <= 0.75 * vi + 1 and en >= 0.75 * vi - 1
    assert en >= body_floor_px(PX_PER_MM)
    # Vietnamese is on top: the upper part of the text area holds the bigger title.
    assert rendered.sizes[("vi", "title")] > rendered.sizes[("en", "title")]


def text_pixels(surface: pygame.Surface, background: tuple[int, int, int]) -> list[tuple[int, int, int]]:
    out = []
    for y in range(0, surface.get_height(), 3):
        for x in range(0, surface.get_width(), 3):
            color = tuple(surface.get_at((x, y)))[:3]
            if color != background:
                out.append(color)
    return out


@pytest.mark.parametrize("color", [(12, 44, 74), (240, 240, 235), (128, 128, 128), (200, 40, 40)])
def test_text_has_7_to_1_contrast_on_any_background_colour(renderer, color):
    item = Item("hours", "text", 10, texts=HOURS, background=Background(color))
    surface = slide(renderer, item, ("en",)).surface
    # The solid glyph cores: the pixels that differ most from whatever is right behind the text.
    behind = surface.get_at((renderer.bands.margin - 5, renderer.bands.content().top + 5))[:3]
    strongest = max(text_pixels(surface, color), key=lambda c: contrast(c, behind))
    assert contrast(strongest, behind) >= 7.0


def test_text_over_a_bright_photo_gets_a_scrim(tmp_path):
    Image.new("RGB", (800, 450), (255, 255, 255)).save(tmp_path / "white.jpg")
    renderer = SlideRenderer((1920, 1080), PX_PER_MM, tmp_path)
    item = Item("w", "text", 10, texts=HOURS, background=Background((0, 0, 0), "white.jpg"))
    surface = slide(renderer, item, ("vi",)).surface
    content = renderer.bands.content()
    behind = tuple(surface.get_at((content.left + 64, content.top + 4)))[:3]  # inside the scrim panel, above the text
    assert contrast((255, 255, 255), behind) >= 7.0
    assert tuple(surface.get_at((5, 540)))[:3] == (255, 255, 255)  # the photo still shows around the panel


def test_too_long_text_shrinks_to_the_floor_then_is_cut_with_an_ellipsis(renderer):
    long = " ".join(["Hành khách xuất trình hộ chiếu và thị thực tại quầy kiểm soát."] * 30)
    rendered = slide(renderer, Item("long", "text", 10, texts=(("vi", Text("Thủ tục", long)),)), ("vi",))
    assert rendered.sizes[("vi", "body")] == body_floor_px(PX_PER_MM)
    assert any("too long" in w and "long" in w for w in rendered.warnings)


def test_image_fit_letterboxes_and_fill_covers(tmp_path):
    Image.new("RGB", (400, 400), (30, 140, 70)).save(tmp_path / "square.png")
    fit = load_image(tmp_path / "square.png", (1920, 1080), "fit")
    fill = load_image(tmp_path / "square.png", (1920, 1080), "fill")
    assert fit.get_size() == (1080, 1080)
    assert fill.get_size() == (1920, 1080)
    renderer = SlideRenderer((1920, 1080), PX_PER_MM, tmp_path)
    item = Item("sq", "image", 10, media=(("default", "square.png"),), background=Background((0, 0, 0)))
    surface = slide(renderer, item, ("vi",)).surface
    assert tuple(surface.get_at((10, 540)))[:3] == (0, 0, 0)  # letterbox colour at the side
    assert tuple(surface.get_at((960, 540)))[:3] == (30, 140, 70)


def test_exif_orientation_is_honoured():
    image = load_image(DATA / "exif-rotate-6.jpg", (240, 400), "fit")
    assert image.get_size() == (240, 400)  # stored 400x240, shown upright as portrait
    top = image.get_at((120, 20))
    assert top.b > 150 and top.r < 100  # the blue strip was on the left; turned clockwise it is on top


def test_huge_image_is_refused_without_decoding_it():
    with pytest.raises(MediaError, match="20000x20000 pixels is too large"):
        load_image(DATA / "huge-20000x20000.png", (1920, 1080), "fit")


def test_huge_jpeg_is_decoded_at_a_reduced_scale(tmp_path):
    Image.new("L", (12000, 8000), 90).save(tmp_path / "big.jpg", quality=50)
    assert load_image(tmp_path / "big.jpg", (1920, 1080), "fit").get_size() == (1620, 1080)


@pytest.mark.parametrize("name, message", [("corrupt.jpg", "not a readable image"), ("truncated.jpg", "not a readable image"),
                                           ("nothing-here.jpg", "file not found")])
def test_broken_images_raise_a_media_error_naming_the_file(name, message):
    with pytest.raises(MediaError, match=message) as caught:
        load_image(DATA / name, (1920, 1080), "fit")
    assert name in str(caught.value)


def test_fallback_slide_shows_the_gate_name(renderer):
    surface = renderer.fallback([("vi", "Cửa khẩu Quốc tế Tịnh Biên"), ("en", "Tinh Bien Border Gate")], (12, 44, 74), None)
    assert len(set(text_pixels(surface, (12, 44, 74)))) > 10


def test_stacked_titles_keep_the_three_quarter_rule_when_space_is_short(renderer):
    body_vi = "Hằng ngày 06:00 – 22:00\nNgày lễ: theo thông báo\nLiên hệ: quầy thông tin"
    body_en = "Daily 06:00 – 22:00\nHolidays: as announced\nAsk at the information desk"
    texts = (("vi", Text("Giờ mở cửa cửa khẩu", body_vi, "Số liệu mẫu")), ("en", Text("Opening hours", body_en, "Sample")))
    rendered = slide(renderer, Item("hours", "text", 10, presentation="stack", texts=texts), ("vi", "en"))
    assert rendered.warnings  # it had to step down
    sizes = rendered.sizes
    assert abs(sizes[("en", "title")] - 0.75 * sizes[("vi", "title")]) <= 1
    assert abs(sizes[("en", "body")] - 0.75 * sizes[("vi", "body")]) <= 1
    assert sizes[("en", "body")] >= body_floor_px(PX_PER_MM)


@pytest.mark.parametrize("stored, orientation, fit, wanted", [
    ((4000, 3000), 1, "fit", (1440, 1080)),
    ((4000, 3000), 1, "fill", (1920, 1440)),
    ((4000, 3000), 6, "fill", (2560, 1920)),  # sideways in the file: upright 1920x2560 covers the screen
    ((4000, 3000), 8, "fit", (1080, 810)),
])
def test_jpeg_draft_size_allows_for_exif_orientation(stored, orientation, fit, wanted):
    from player.images import draft_size
    assert draft_size(stored, orientation, (1920, 1080), fit) == wanted


@pytest.mark.parametrize("suffix", ["jpg", "png", "webp"])
def test_jpeg_png_and_webp_all_show(tmp_path, suffix):
    Image.new("RGB", (640, 360), (30, 140, 70)).save(tmp_path / f"photo.{suffix}")
    image = load_image(tmp_path / f"photo.{suffix}", (1920, 1080), "fill")
    assert image.get_size() == (1920, 1080)
    color = image.get_at((960, 540))
    assert abs(color.r - 30) < 8 and abs(color.g - 140) < 8 and abs(color.b - 70) < 8
