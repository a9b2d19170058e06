"""Drawing a slot (text slide, image with caption, fallback slide) onto a canvas-sized Surface.

Runs off the render loop, in the preparer's thread. Text sizes are fitted to
their box but never below the floor for the panel (capitals 25 mm tall); in a
stacked slide the foreign languages are three quarters of the Vietnamese size.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import pygame

from .colors import MIN_CONTRAST, contrast, scrim_alpha, text_color_for
from .fonts import Typesetter
from .images import load_image
from .model import Item, Text
from .sequence import Slot
from .textlayout import body_floor_px, largest_fitting, truncate, wrap

log = logging.getLogger(__name__)

TITLE_SCALE = 1.3
FOREIGN_SCALE = 0.75  # Advertising Law art. 18: foreign text at most 3/4 of the Vietnamese
LINE_GAP = 1.0
ACCENT = (233, 182, 64)
SCRIM = (0, 0, 0)


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
        return round(self.height * 0.10)

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


@dataclass(frozen=True)
class _Block:
    language: str
    text: str
    role: str  # "title", "body" or "caption"
    scale: float  # relative to the body size of the leading language


class SlideRenderer:
    """Makes the Surface for a slot. Owns its fonts: one renderer per thread."""

    def __init__(self, canvas: tuple[int, int], px_per_mm: float, media_dir: Path,
                 font_overrides: dict[str, tuple[str, int]] | None = None) -> None:
        self.canvas = canvas
        self.bands = Bands(*canvas)
        self.floor = body_floor_px(px_per_mm)
        self.media_dir = media_dir
        self._overrides = font_overrides
        self._setters: dict[tuple[str, bool], Typesetter] = {}

    def setter(self, language: str, bold: bool = False) -> Typesetter:
        key = (language, bold)
        if key not in self._setters:
            self._setters[key] = Typesetter(language, bold, self._overrides)
        return self._setters[key]

    # -- slots ---------------------------------------------------------------------------------

    def render(self, slot: Slot) -> Rendered:
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
        self._draw_blocks(rendered, blocks, self.bands.content(), item.background.image is not None,
                          item.background.color, f"{item.id} ({'+'.join(languages)})")
        return rendered

    def caption(self, rendered: Rendered, item: Item, languages: tuple[str, ...]) -> None:
        blocks = []
        for index, code in enumerate(languages):
            text = item.text(code)
            if text and (text.caption or text.title):
                blocks.append(_Block(code, text.caption or text.title, "body", 1.0 if index == 0 else FOREIGN_SCALE))
        if not blocks:
            return
        area = self.bands.content()
        box = pygame.Rect(area.x, area.centery, area.width, area.bottom - area.centery)
        self._draw_blocks(rendered, blocks, box, True, (0, 0, 0), item.id, anchor="bottom", min_scale_to_floor=True)

    def fallback(self, names: list[tuple[str, str]], background: tuple[int, int, int], image: str | None) -> pygame.Surface:
        """The slide shown when nothing may play: the gate's name in each language, on a calm background."""
        try:
            surface = self.background_surface(background, image)
        except Exception as exc:
            log.warning("fallback image: %s", exc)
            surface = self.background_surface(background)
        seen: set[str] = set()
        blocks = []
        for code, name in names:
            if name and name not in seen:
                seen.add(name)
                blocks.append(_Block(code, name, "title" if not blocks else "body", TITLE_SCALE if not blocks else FOREIGN_SCALE))
        self._draw_blocks(Rendered(surface), blocks, self.bands.content(), image is not None, background,
                          "fallback", anchor="middle")
        return surface

    # -- layout --------------------------------------------------------------------------------

    def _layout(self, blocks: list[_Block], width: int, size: int) -> list[tuple[_Block, int, tuple[str, ...]]]:
        out = []
        for block in blocks:
            px = max(1, round(size * block.scale))
            setter = self.setter(block.language, block.role == "title")
            out.append((block, px, wrap(block.text, width, lambda s, t=setter, p=px: t.width(s, p), block.language)))
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

    def _draw_blocks(self, rendered: Rendered, blocks: list[_Block], box: pygame.Rect, over_image: bool,
                     background: tuple[int, int, int], label: str, anchor: str = "top",
                     min_scale_to_floor: bool = False) -> None:
        if not blocks:
            return
        smallest = min(b.scale for b in blocks if b.role != "title") if any(b.role != "title" for b in blocks) else 1.0
        low = self.floor if min_scale_to_floor else max(self.floor, round(self.floor / smallest))
        if min_scale_to_floor:
            blocks = [_Block(b.language, b.text, b.role, 1.0) for b in blocks]
        high = max(low, round(self.canvas[1] * 0.085))
        inner = box.inflate(-round(box.width * 0.04), 0) if over_image else box
        size = largest_fitting(lambda s: self._height(self._layout(blocks, inner.width, s)) <= inner.height, low, high)
        laid = self._layout(blocks, inner.width, size or low)
        if size is None:
            laid = self._cut(laid, inner.height)
            rendered.warnings.append(f"text of {label} is too long for the screen even at the smallest size; cut with …")
        for block, px, _ in laid:
            rendered.sizes[(block.language, block.role)] = px
        height = self._height(laid)
        top = {"top": inner.top, "middle": inner.centery - height // 2, "bottom": inner.bottom - height}[anchor]
        color = text_color_for(background)
        if over_image or contrast(color, background) < MIN_CONTRAST:  # white text on a dark panel instead
            color = (255, 255, 255)
            alpha = scrim_alpha(color, SCRIM, (255, 255, 255) if over_image else background)
            pad = round(self.floor * 0.45)
            panel = pygame.Rect(box.left - pad, top - pad, box.width + 2 * pad, height + 2 * pad)
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
                    pygame.draw.line(rendered.surface, ACCENT, (inner.left, rule_y), (inner.left + inner.width // 5, rule_y), max(2, px // 18))
                y += gap
            step = round(setter.line_height(px) * LINE_GAP)
            for line in lines:
                image = setter.render(line, px, color)
                x = inner.left if anchor != "middle" else inner.centerx - image.get_width() // 2
                rendered.surface.blit(image, (x, y))
                y += step

    def _cut(self, laid: list[tuple[_Block, int, tuple[str, ...]]], height: int) -> list[tuple[_Block, int, tuple[str, ...]]]:
        """Keep whole lines until the box is full; the last kept line ends with an ellipsis."""
        out: list[tuple[_Block, int, tuple[str, ...]]] = []
        for block, px, lines in laid:
            setter = self.setter(block.language, block.role == "title")
            room = height - self._height(out) - (self._gap(out[-1][0], block, px) if out else 0)
            fit_lines = int(room // round(setter.line_height(px) * LINE_GAP))
            if fit_lines <= 0:
                break
            kept = truncate(lines, fit_lines, 10**6 if len(lines) <= fit_lines else self.bands.content().width,
                            lambda s, t=setter, p=px: t.width(s, p))
            out.append((block, px, kept.lines))
            if kept.cut:
                break
        if out and laid and len(out) < len(laid) and out[-1][2] and not out[-1][2][-1].endswith("…"):
            block, px, lines = out[-1]
            out[-1] = (block, px, lines[:-1] + (lines[-1] + "…",))
        return out
