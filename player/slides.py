"""Drawing a slot (text slide, image with caption, fallback slide) onto a canvas-sized Surface.

Runs off the render loop, in the preparer's thread. Text sizes are fitted to
their box but never below the floor for the panel (capitals 25 mm tall); in a
stacked slide the foreign languages are three quarters of the Vietnamese size.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

import pygame

from .colors import MIN_CONTRAST, contrast, scrim_alpha, text_color_for
from .fonts import Typesetter
from .images import load_image
from .model import Item, Text
from .sequence import Slot
from .textlayout import ELLIPSIS, body_floor_px, largest_fitting, truncate, with_ellipsis, wrap

log = logging.getLogger(__name__)

TITLE_SCALE = 1.3
FOREIGN_SCALE = 0.75  # Advertising Law art. 18: foreign text at most 3/4 of the Vietnamese
LINE_GAP = 1.0
ACCENT = (233, 182, 64)
SCRIM = (0, 0, 0)


def _width(setter: Typesetter, px: int, text: str) -> int:
    """`text`'s width at `px` (bound with partial: what wrap, truncate and with_ellipsis measure with)."""
    return setter.width(text, px)


@dataclass(frozen=True)
class Bands:
    """The canvas' regions: the clock band on top and the ticker band at the bottom stay clear of text."""

    width: int
    height: int

    @property
    def margin(self) -> int:
        return round(self.width * 0.055)

    @property
    def top(self) -> int:
        return round(self.height * 0.14)  # the clock box sits above this line, clear of text panels

    @property
    def bottom(self) -> int:
        return round(self.height * 0.09)

    def content(self) -> pygame.Rect:
        pad = round(self.height * 0.025)
        return pygame.Rect(self.margin, self.top + pad, self.width - 2 * self.margin,
                           self.height - self.top - self.bottom - 2 * pad)


@dataclass
class Rendered:
    surface: pygame.Surface
    warnings: list[str] = field(default_factory=list)
    sizes: dict[tuple[str, str], int] = field(default_factory=dict)  # (language, role) -> font px used
    offset: tuple[int, int] = (0, 0)  # where the surface goes on the canvas (overlays are cropped)


@dataclass(frozen=True)
class _Block:
    language: str
    text: str
    role: str  # "title", "body" or "caption"
    scale: float  # relative to the body size of the leading language


Laid = list[tuple[_Block, int, tuple[str, ...]]]


class SlideRenderer:
    """Makes the Surface for a slot. Owns its fonts: one renderer per thread."""

    def __init__(self, canvas: tuple[int, int], px_per_mm: float, media_dir: Path,
                 font_overrides: dict[str, tuple[str, int]] | None = None, cap_mm: float = 25.0,
                 box: tuple[int, int, int, int] | None = None) -> None:
        """`cap_mm`: the smallest capital height of body text (25 mm across a hall, less at arm's length);
        `box`: where text goes (x, y, w, h), by default between the clock and ticker bands."""
        self.canvas = canvas
        self.bands = Bands(*canvas)
        self.box = pygame.Rect(box) if box else self.bands.content()
        self.floor = body_floor_px(px_per_mm, cap_mm)
        self.media_dir = media_dir
        self._overrides = font_overrides
        self._setters: dict[tuple[str, bool], Typesetter] = {}

    def setter(self, language: str, bold: bool = False) -> Typesetter:
        key = (language, bold)
        if key not in self._setters:
            self._setters[key] = Typesetter(language, bold, self._overrides)
        return self._setters[key]

    # -- slots ---------------------------------------------------------------------------------

    def render(self, slot: Slot, media_dir: Path | None = None) -> Rendered:
        if media_dir is not None and media_dir != self.media_dir:
            self.media_dir = media_dir  # a new content generation lives in its own folder
        item = slot.item
        if item.kind == "text":
            return self.text_slide(item, slot.languages)
        media = item.media_for(slot.language)
        assert media is not None
        surface = self.background_surface(item.background.color)
        picture = load_image(self.media_dir / media, self.canvas, item.fit)
        surface.blit(picture, picture.get_rect(center=surface.get_rect().center))
        rendered = Rendered(surface)
        self.caption(rendered, item, slot.languages)
        return rendered

    def background_surface(self, color: tuple[int, int, int], image: str | None = None) -> pygame.Surface:
        surface = pygame.Surface(self.canvas)
        surface.fill(color)
        if image:
            picture = load_image(self.media_dir / image, self.canvas, "fill")
            surface.blit(picture, (0, 0))
        return surface

    def text_slide(self, item: Item, languages: tuple[str, ...]) -> Rendered:
        warnings: list[str] = []
        try:
            surface = self.background_surface(item.background.color, item.background.image)
        except Exception as exc:  # a broken background image still leaves a readable slide
            warnings.append(f"background of {item.id}: {exc}")
            surface = self.background_surface(item.background.color)
        blocks = []
        for index, code in enumerate(languages):
            text = item.text(code) or Text()
            scale = 1.0 if index == 0 else FOREIGN_SCALE
            blocks += [_Block(code, text.title, "title", scale * TITLE_SCALE), _Block(code, text.body, "body", scale),
                       _Block(code, text.caption, "caption", scale * 0.85)]
        blocks = [b for b in blocks if b.text]
        rendered = Rendered(surface, warnings)
        self._draw_blocks(rendered, blocks, self.box.copy(), item.background.image is not None,
                          item.background.color, f"{item.id} ({'+'.join(languages)})")
        return rendered

    def caption(self, rendered: Rendered, item: Item, languages: tuple[str, ...], compact: bool = False) -> None:
        """An image's title and caption in a panel low on the picture (`compact`: titles only, for moving pictures)."""
        blocks = []
        for index, code in enumerate(languages):
            text = item.text(code)
            scale = 1.0 if index == 0 else FOREIGN_SCALE
            if text and text.title:
                blocks.append(_Block(code, text.title, "title", scale))
            if text and (text.caption or text.body) and not (compact and text.title):
                blocks.append(_Block(code, text.caption or text.body, "caption", scale))
        if not blocks:
            return
        area = self.box.copy()
        top = area.top + (area.height * 2 // 3 if compact else area.height // 3)
        box = pygame.Rect(area.x, top, area.width, area.bottom - top)
        self._draw_blocks(rendered, blocks, box, True, (0, 0, 0), item.id, anchor="bottom")

    def caption_overlay(self, item: Item, languages: tuple[str, ...]) -> Rendered | None:
        """A video's caption panel on a transparent surface cropped to it; `offset` says where it goes."""
        rendered = Rendered(pygame.Surface(self.canvas, pygame.SRCALPHA))
        rendered.surface.fill((0, 0, 0, 0))
        self.caption(rendered, item, languages, compact=True)
        box = rendered.surface.get_bounding_rect()
        if not box.width:
            return None
        rendered.offset = box.topleft
        rendered.surface = rendered.surface.subsurface(box).copy()
        return rendered

    def fallback(self, names: list[tuple[str, str]], background: tuple[int, int, int], image: str | None) -> pygame.Surface:
        """The slide shown when nothing may play: the gate's name in each language, on a calm background."""
        try:
            surface = self.background_surface(background, image)
        except Exception as exc:
            log.warning("fallback image: %s", exc)
            surface = self.background_surface(background)
        seen: set[str] = set()
        blocks: list[_Block] = []
        for code, name in names:
            if name and name not in seen:
                seen.add(name)
                blocks.append(_Block(code, name, "title" if not blocks else "body", TITLE_SCALE if not blocks else FOREIGN_SCALE))
        self._draw_blocks(Rendered(surface), blocks, self.box.copy(), image is not None, background,
                          "fallback", anchor="middle")
        return surface

    def text_panel(self, surface: pygame.Surface, blocks: list[tuple[str, str, str, float]], box: pygame.Rect,
                   background: tuple[int, int, int], label: str, anchor: str = "top") -> list[str]:
        """Fit and draw (language, text, "title"/"body", scale) blocks in `box` (notices use it); returns warnings."""
        rendered = Rendered(surface)
        self._draw_blocks(rendered, [_Block(*b) for b in blocks if b[1]], box, False, background, label, anchor)
        return rendered.warnings

    # -- layout --------------------------------------------------------------------------------

    def _layout(self, blocks: list[_Block], width: int, size: int) -> list[tuple[_Block, int, tuple[str, ...]]]:
        out = []
        for block in blocks:
            px = max(1, round(size * block.scale))
            setter = self.setter(block.language, block.role == "title")
            out.append((block, px, wrap(block.text, width, partial(_width, setter, px), block.language)))
        return out

    def _height(self, laid: list[tuple[_Block, int, tuple[str, ...]]]) -> int:
        total = 0
        for index, (block, px, lines) in enumerate(laid):
            setter = self.setter(block.language, block.role == "title")
            total += round(len(lines) * setter.line_height(px) * LINE_GAP)
            if index:
                total += self._gap(laid[index - 1][0], block, px)
        return total

    def _gap(self, before: _Block, block: _Block, px: int) -> int:
        if before.language != block.language:
            return round(px * 0.9)  # and a rule between languages
        return round(px * (0.35 if before.role == "title" else 0.25))

    def _bounds(self, blocks: list[_Block]) -> tuple[int, int]:
        """Sizes to try for the leading language's body: its smallest body text stays at the floor or above."""
        scales = [b.scale for b in blocks if b.role != "title"] or [b.scale for b in blocks]
        low = max(self.floor, round(self.floor / min(scales)))
        return low, max(low, round(self.canvas[1] * 0.085 / min(scales)))

    def _fit(self, blocks: list[_Block], width: int, height: int) -> tuple[Laid, str]:
        """The largest layout that fits; failing that, step down: captions out, titles at body size, then cut."""
        no_captions = [b for b in blocks if b.role != "caption"] or blocks
        small_titles = [replace(b, scale=b.scale / TITLE_SCALE) if b.role == "title" else b for b in no_captions]
        variants = [(blocks, "")]
        if no_captions != blocks:
            variants.append((no_captions, "captions left out to fit"))
        if small_titles != no_captions:
            variants.append((small_titles, "captions left out and titles made smaller to fit"))
        for variant, note in variants:
            low, high = self._bounds(variant)
            size = largest_fitting(lambda s: self._height(self._layout(variant, width, s)) <= height, low, high)
            if size is not None:
                return self._layout(variant, width, size), note
        laid = self._layout(variants[-1][0], width, self._bounds(variants[-1][0])[0])
        return self._cut(laid, height, width), "too long for the screen even at the smallest size; cut with …"

    def _draw_blocks(self, rendered: Rendered, blocks: list[_Block], box: pygame.Rect, over_image: bool,
                     background: tuple[int, int, int], label: str, anchor: str = "top") -> None:
        if not blocks:
            return
        pad = round(self.floor * 0.45)
        inner = box.inflate(-2 * pad, -2 * pad) if over_image else box
        laid, note = self._fit(blocks, inner.width, inner.height)
        if note:
            rendered.warnings.append(f"text of {label}: {note}")
        for block, px, _ in laid:
            rendered.sizes[(block.language, block.role)] = px
        height = self._height(laid)
        widest = max((self.setter(b.language, b.role == "title").width(line, px) for b, px, lines in laid for line in lines), default=0)
        top = {"top": inner.top, "middle": inner.centery - height // 2, "bottom": inner.bottom - height}[anchor]
        left = inner.left if anchor != "middle" else inner.centerx - widest // 2
        color = text_color_for(background)
        if over_image or contrast(color, background) < MIN_CONTRAST:  # white text on a dark panel instead
            color = (255, 255, 255)
            alpha = scrim_alpha(color, SCRIM, (255, 255, 255) if over_image else background)
            panel = pygame.Rect(left - pad, top - pad, widest + 2 * pad, height + 2 * pad)
            scrim = pygame.Surface(panel.size, pygame.SRCALPHA)
            pygame.draw.rect(scrim, (*SCRIM, round(alpha * 255)), scrim.get_rect(), border_radius=pad)
            rendered.surface.blit(scrim, panel.topleft)
        y = top
        for index, (block, px, lines) in enumerate(laid):
            setter = self.setter(block.language, block.role == "title")
            if index:
                gap = self._gap(laid[index - 1][0], block, px)
                if laid[index - 1][0].language != block.language:
                    rule_y = y + gap // 2
                    pygame.draw.line(rendered.surface, ACCENT, (left, rule_y), (left + inner.width // 5, rule_y), max(2, px // 18))
                y += gap
            step = round(setter.line_height(px) * LINE_GAP)
            for line in lines:
                image = setter.render(line, px, color)
                x = left if anchor != "middle" else inner.centerx - image.get_width() // 2
                rendered.surface.blit(image, (x, y))
                y += step

    def _cut(self, laid: Laid, height: int, width: int) -> Laid:
        """Each language keeps a share of the height in proportion to its text; what overflows ends in …"""
        total = self._height(laid)
        out: Laid = []
        for code in dict.fromkeys(block.language for block, _, _ in laid):
            group = [entry for entry in laid if entry[0].language == code]
            room = height * self._height(group) / total
            used = 0
            for index, (block, px, lines) in enumerate(group):
                setter = self.setter(block.language, block.role == "title")
                step = round(setter.line_height(px) * LINE_GAP)
                gap = self._gap(group[index - 1][0], block, px) if index else 0
                fits = max(0, int((room - used - gap) // step))
                if index == 0:
                    fits = max(1, fits)  # every language keeps at least its first line
                if fits == 0:
                    break
                kept = truncate(lines, fits, width, partial(_width, setter, px))
                out.append((block, px, kept.lines))
                used += gap + len(kept.lines) * step
                if kept.cut:
                    break
            block, px, lines = out[-1]
            if (block, px, lines) != group[-1] and not lines[-1].endswith(ELLIPSIS):  # later lines were dropped
                setter = self.setter(block.language, block.role == "title")
                out[-1] = (block, px, lines[:-1] + (with_ellipsis(lines[-1], width, partial(_width, setter, px)),))
        return out
