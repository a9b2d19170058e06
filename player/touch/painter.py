"""Drawing the touch kiosk's screens off the render loop: menus of tiles, pages, the bars, the loop's hint.

Everything here runs in the kiosk's painter thread (a Preparer) and returns
finished surfaces; the render loop only blits them. Pages are drawn by the
same SlotPainter and SlideRenderer as the loop's slides (Khmer shaping, the
CJK face, fitting), with body capitals at least 6 mm instead of 25 mm.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import pygame

from ..colors import text_color_for
from ..config import KioskConfig
from ..fontfiles import font_overrides, has_font_for
from ..images import load_image
from ..languages import NATIVE_NAMES
from ..painter import SlotPainter, video_opener
from ..prepare import Clip
from ..sequence import Cursor, Decision, Slot
from ..slides import SlideRenderer
from ..textlayout import largest_fitting, truncate, wrap
from .browse import Menu, Topic, load_menu, menu_folder
from .icons import icon
from .keypad import keypad_panel
from .layout import PAGE_CAP_MM, Box, Layout

log = logging.getLogger(__name__)

BAR = (8, 24, 42)
BUTTON = (30, 66, 108)
SELECTED = (233, 182, 64)
DARK_TEXT = (16, 16, 16)
WHITE = (255, 255, 255)
MENU_BACKGROUND = (12, 34, 58)
DISABLED = (22, 40, 60)
DISABLED_MARK = (84, 104, 126)  # a page arrow with nowhere to go: a shape, not text
KHMER_DIGITS = str.maketrans("0123456789", "០១២៣៤៥៦៧៨៩")

# The kiosk's own words, in each language it knows; other languages use English.
WORDS = {
    "back": {"vi": "Quay lại", "en": "Back", "km": "ថយក្រោយ", "zh": "返回"},
    "home": {"vi": "Trang chủ", "en": "Home", "km": "ទំព័រដើម", "zh": "主页"},
    "hint": {"vi": "Chạm vào màn hình để xem thông tin", "en": "Touch the screen for information",
             "km": "ប៉ះ​អេក្រង់​ដើម្បី​មើល​ព័ត៌មាន", "zh": "触摸屏幕查看信息"},
    "countdown": {"vi": "Trở về màn hình chính sau {n} giây. Chạm để xem tiếp.",
                  "en": "Returning to the main screen in {n} s. Touch to stay.",
                  "km": "នឹង​ត្រឡប់​ទៅ​អេក្រង់​ដើម​ក្នុង​រយៈពេល {n} វិនាទី។ សូម​ប៉ះ​ដើម្បី​បន្ត។",
                  "zh": "{n} 秒后返回主屏幕。触摸屏幕可继续浏览。"},
}


def word(key: str, language: str, **values: object) -> str:
    text = WORDS[key].get(language) or WORDS[key]["en"]
    if language == "km":
        values = {k: str(v).translate(KHMER_DIGITS) for k, v in values.items()}
    return text.format(**values)


def page_number(page: int, count: int, language: str) -> str:
    text = f"{page + 1} / {count}"
    return text.translate(KHMER_DIGITS) if language == "km" else text


@dataclass(frozen=True)
class ScreenKey:
    """A browse screen: the menu at `path` (page None) or a page of the topic at `path`, in `language`."""

    path: tuple[str, ...]
    page: int | None
    language: str

    @property
    def label(self) -> str:
        return f"browse {'/'.join(self.path) or 'home'}" + (f" page {self.page + 1}" if self.page is not None else "") + f" ({self.language})"


@dataclass(frozen=True)
class ChromeKey:
    """The bars, buttons and hint in one language."""

    language: str

    @property
    def label(self) -> str:
        return f"browse bars ({self.language})"


@dataclass(frozen=True)
class MenuKey:
    """Read the browse menu of the content generation whose media folder is `media_dir`."""

    media_dir: str

    @property
    def label(self) -> str:
        return f"browse menu of {self.media_dir}"


@dataclass
class Painted:
    key: object
    picture: pygame.Surface | None = None  # the whole canvas: the page or the menu, bars not included
    title: pygame.Surface | None = None  # the screen's title, for the top bar
    pager: pygame.Surface | None = None  # "2 / 5"
    video: Clip | None = None
    overlay: pygame.Surface | None = None
    overlay_at: tuple[int, int] = (0, 0)
    error: str | None = None

    def close(self) -> None:
        if self.video is not None:
            self.video.close()


@dataclass
class Chrome:
    top: pygame.Surface  # the top bar with Back and Home
    bottom: pygame.Surface  # the bottom bar with the language buttons (this language picked)
    arrows: tuple[pygame.Surface, pygame.Surface, pygame.Surface, pygame.Surface]  # prev, next; then dimmed
    hint: pygame.Surface  # the loop's "touch the screen" pill
    countdown: dict[int, pygame.Surface] = field(default_factory=dict)  # seconds left -> banner


class KioskPainter:
    """Turns ScreenKeys and ChromeKeys into Painted and Chrome; owns its fonts (one per thread)."""

    def __init__(self, config: KioskConfig, layout: Layout, menu: Menu, media_dir: Path) -> None:
        self.config = config
        self.layout = layout
        self.menu = menu
        self.media_dir = media_dir
        self.renderer = SlideRenderer(config.display.canvas, config.display.px_per_mm, media_dir,
                                      font_overrides(config), PAGE_CAP_MM, layout.page_box().rect)
        self.pages = SlotPainter(config, self.renderer, video_opener(config.volume))

    def __call__(self, key: object) -> Painted | Chrome | Menu | pygame.Surface | None:
        if isinstance(key, MenuKey):
            return self.load(Path(key.media_dir))
        if key == "keypad":
            return keypad_panel(self.layout, self.renderer.setter, self.layout.label_px)
        if isinstance(key, ChromeKey):
            return self.chrome(key.language)
        assert isinstance(key, ScreenKey)
        try:
            return self.screen(key)
        except (pygame.error, OSError, ValueError) as exc:
            return Painted(key, error=str(exc))

    def load(self, media_dir: Path) -> Menu | None:
        """The browse menu that goes with a new content generation; this painter draws from it from now on."""
        menu, problems = load_menu(menu_folder(self.config, str(media_dir)), self.config.languages, has_font_for(self.config))
        for problem in problems:
            (log.error if problem.severity == "error" else log.warning)("%s", problem)
        if menu is not None:
            self.menu, self.media_dir = menu, media_dir
            self.renderer.media_dir = media_dir
        return menu

    def text_language(self, language: str, available: tuple[str, ...]) -> str:
        return self.config.resolve_language(language, available) or (available[0] if available else language)

    def _line(self, text: str, language: str, px: int, color: tuple[int, int, int], width: int, bold: bool = True) -> pygame.Surface:
        """One line of text at `px` or smaller (never under the 6 mm floor), ending in … if still too wide."""
        setter = self.renderer.setter(language, bold)
        floor = self.renderer.floor
        size = largest_fitting(lambda s: setter.width(text, s) <= width, floor, px) or floor
        lines = truncate((text,), 1, width, lambda s: setter.width(s, size)).lines if setter.width(text, size) > width else (text,)
        return setter.render(lines[0] if lines else text, size, color)

    # -- screens -----------------------------------------------------------------------------

    def screen(self, key: ScreenKey) -> Painted:
        topic = self.menu.find(key.path) if key.path else None
        title_text = topic.title_in(key.language, self.config.resolve_language) if topic else \
            self.menu.title_in(key.language, self.config.resolve_language)
        title = self._line(title_text, key.language, self.layout.title_px, WHITE, self.layout.title().w)
        if key.page is None:
            return Painted(key, self.menu_picture(key), title)
        assert topic is not None
        item = topic.pages[key.page]
        language = self.text_language(key.language, item.languages)
        decision = Decision(Slot("/".join(key.path), item, (language,), key.page), Cursor(), None,
                            media_dir=str(self.media_dir))
        prepared = self.pages(decision)
        if prepared.error is not None:
            return Painted(key, error=prepared.error)
        arrow = self.layout.pager()[1]
        pager = self._line(page_number(key.page, len(topic.pages), key.language), "en", self.layout.label_px, WHITE, arrow.w)
        picture = prepared.surface
        if picture is None and prepared.video is not None:
            picture = prepared.video.first_frame(0.0)
        return Painted(key, picture, title, pager, prepared.video, prepared.overlay, prepared.overlay_at)

    def menu_picture(self, key: ScreenKey) -> pygame.Surface:
        surface = pygame.Surface(self.config.display.canvas)
        surface.fill(MENU_BACKGROUND)
        topics = self.menu.children(key.path)
        for topic, box in zip(topics, self.layout.tiles(len(topics))):
            self._tile(surface, topic, box, key.language)
        return surface.convert() if pygame.display.get_surface() else surface

    def _tile(self, surface: pygame.Surface, topic: Topic, box: Box, language: str) -> None:
        rect = pygame.Rect(box.rect)
        radius = max(6, box.h // 12)
        pygame.draw.rect(surface, topic.color, rect, border_radius=radius)
        color = text_color_for(topic.color)
        pad = max(8, box.h // 14)
        side = round(min(box.w, box.h) * 0.42)
        picture = self._icon(topic, side, color)
        surface.blit(picture, (rect.centerx - side // 2, rect.y + pad))
        text = topic.title_in(language, self.config.resolve_language)
        code = self.text_language(language, tuple(c for c, t in topic.title if t))
        setter = self.renderer.setter(code, True)
        room_w, room_h = box.w - 2 * pad, box.h - side - 3 * pad
        high = max(self.renderer.floor, round(box.h * 0.15))

        def fits(size: int) -> bool:
            lines = wrap(text, room_w, lambda s: setter.width(s, size), code)
            return len(lines) * setter.line_height(size) <= room_h and all(setter.width(line, size) <= room_w for line in lines)
        size = largest_fitting(fits, self.renderer.floor, high) or self.renderer.floor
        lines = wrap(text, room_w, lambda s: setter.width(s, size), code)
        most = max(1, room_h // setter.line_height(size))
        lines = truncate(lines, most, room_w, lambda s: setter.width(s, size)).lines
        y = rect.y + 2 * pad + side + (room_h - len(lines) * setter.line_height(size)) // 2
        for line in lines:
            image = setter.render(line, size, color)
            surface.blit(image, (rect.centerx - image.get_width() // 2, y))
            y += setter.line_height(size)

    def _icon(self, topic: Topic, side: int, color: tuple[int, int, int]) -> pygame.Surface:
        if topic.icon_file:
            try:
                return load_image(self.media_dir / topic.icon_file, (side, side), "fit")
            except Exception:  # a broken icon file leaves the tile readable with the default icon
                return icon("info", side, color)
        return icon(topic.icon, side, color)

    # -- bars --------------------------------------------------------------------------------

    def _button(self, surface: pygame.Surface, box: Box, offset: tuple[int, int], label: str, language: str,
                fill: tuple[int, int, int], mark: str | None = None, flip: bool = False) -> None:
        rect = pygame.Rect(box.x - offset[0], box.y - offset[1], box.w, box.h)
        pygame.draw.rect(surface, fill, rect, border_radius=max(4, box.h // 6))
        color = text_color_for(fill)
        pad = max(6, box.h // 5)
        x = rect.x + pad
        width = rect.w - 2 * pad
        if mark:
            side = round(box.h * 0.5)
            picture = icon(mark, side, color)
            if flip:
                picture = pygame.transform.flip(picture, True, False)
            if not label:
                surface.blit(picture, (rect.centerx - side // 2, rect.centery - side // 2))
                return
            surface.blit(picture, (x, rect.centery - side // 2))
            x += side + pad // 2
            width -= side + pad // 2
        text = self._line(label, language, self.layout.label_px, color, width)
        surface.blit(text, (x + (width - text.get_width()) // 2, rect.centery - text.get_height() // 2))

    def chrome(self, language: str) -> Chrome:
        layout = self.layout
        top_box, bottom_box = layout.top_bar(), layout.bottom_bar()
        top = pygame.Surface((top_box.w, top_box.h))
        top.fill(BAR)
        self._button(top, layout.back(), (0, 0), word("back", language), language, BUTTON, "arrow")
        self._button(top, layout.home(), (0, 0), word("home", language), language, BUTTON, "house")
        bottom = pygame.Surface((bottom_box.w, bottom_box.h))
        bottom.fill(BAR)
        for code, box in layout.language_buttons():
            fill = SELECTED if code == language else BUTTON
            self._button(bottom, box, (0, bottom_box.y), NATIVE_NAMES.get(code, code), code, fill)
        arrows = []
        for fill in (BUTTON, DISABLED):
            for flip, box in ((False, layout.pager()[0]), (True, layout.pager()[2])):
                surface = pygame.Surface((box.w, box.h), pygame.SRCALPHA)
                surface.fill((0, 0, 0, 0))
                self._button(surface, box, (box.x, box.y), "", "en", fill, "arrow", flip)
                if fill == DISABLED:
                    surface.fill(DISABLED_MARK + (255,), special_flags=pygame.BLEND_RGBA_MIN)
                arrows.append(surface)
        chrome = Chrome(top, bottom, (arrows[0], arrows[1], arrows[2], arrows[3]), self.hint(language))
        for seconds in range(1, 11):
            chrome.countdown[seconds] = self._banner(word("countdown", language, n=seconds), language)
        if pygame.display.get_surface():
            chrome.top, chrome.bottom = chrome.top.convert(), chrome.bottom.convert()
        return chrome

    def hint(self, language: str) -> pygame.Surface:
        """A small dark pill with a fingertip and "Touch the screen for information": discreet, yet 7:1 and 6 mm."""
        px = round(self.renderer.floor * 1.5)
        setter = self.renderer.setter(language, False)
        text = setter.render(word("hint", language), px, WHITE)
        side = round(setter.line_height(px) * 1.1)
        pad = side // 3
        pill = pygame.Surface((text.get_width() + side + 3 * pad, side + pad), pygame.SRCALPHA)
        pygame.draw.rect(pill, BAR + (235,), pill.get_rect(), border_radius=pill.get_height() // 2)
        pill.blit(icon("tap", side - pad // 2, SELECTED), (pad, pad // 2 + pad // 4))
        pill.blit(text, (side + 2 * pad, (pill.get_height() - text.get_height()) // 2))
        return pill

    def _banner(self, text: str, language: str) -> pygame.Surface:
        width = round(self.config.display.canvas[0] * 0.7)
        line = self._line(text, language, self.layout.title_px, DARK_TEXT, width - 2 * self.layout.pad)
        banner = pygame.Surface((line.get_width() + 4 * self.layout.pad, line.get_height() + 2 * self.layout.pad))
        banner.fill(SELECTED)
        pygame.draw.rect(banner, BAR, banner.get_rect(), max(2, self.layout.pad // 4))  # apart from the page under it
        banner.blit(line, (2 * self.layout.pad, self.layout.pad))
        return banner


def draw_bars(target: pygame.Surface, layout: Layout, chrome: Chrome | None, title: pygame.Surface | None,
              pager: tuple[int, int, pygame.Surface | None] | None) -> None:
    """The top and bottom bars over a screen: Back, Home, the title, the languages, and on a page its arrows
    and number (`pager`: page index, page count, the number's picture)."""
    if chrome is None:  # the bars' pictures are still being drawn: plain bars meanwhile
        target.fill(BAR, pygame.Rect(layout.top_bar().rect))
        target.fill(BAR, pygame.Rect(layout.bottom_bar().rect))
    else:
        target.blit(chrome.top, (0, 0))
        target.blit(chrome.bottom, (0, layout.bottom_bar().y))
    box = layout.title()
    if title is not None:
        target.blit(title, (box.x, box.y + (box.h - title.get_height()) // 2))
    if pager is None or chrome is None:
        return
    page, count, number_picture = pager
    prev, number, nxt = layout.pager()
    target.blit(chrome.arrows[0 if page > 0 else 2], (prev.x, prev.y))
    target.blit(chrome.arrows[1 if page < count - 1 else 3], (nxt.x, nxt.y))
    if number_picture is not None:
        target.blit(number_picture, (number.x + (number.w - number_picture.get_width()) // 2,
                                     number.y + (number.h - number_picture.get_height()) // 2))
