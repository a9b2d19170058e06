"""Always-on overlays: the clock with the date (screen time) and the scrolling ticker band.

Both shift by a few pixels now and then so they do not burn into the panel.
Text is rendered only when it changes (once a minute, or on a new language);
each frame only blits.
"""

from __future__ import annotations

from datetime import datetime
from typing import Callable

import pygame

from .damage import Layer, Rect
from .fonts import Typesetter
from .slides import Bands

TICKER_SPEED = 110.0  # pixels per second: readable at a glance, one language every few seconds
SEPARATOR = "   •   "

_WEEKDAYS = {
    "vi": ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "km": ("ថ្ងៃច័ន្ទ", "ថ្ងៃអង្គារ", "ថ្ងៃពុធ", "ថ្ងៃព្រហស្បតិ៍", "ថ្ងៃសុក្រ", "ថ្ងៃសៅរ៍", "ថ្ងៃអាទិត្យ"),
    "zh": ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日"),
}
_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_KHMER_DIGITS = str.maketrans("0123456789", "០១២៣៤៥៦៧៨៩")


def date_text(now: datetime, language: str) -> str:
    """The date as people write it in `language` (other languages get ISO dates)."""
    weekday = now.weekday()
    if language == "vi":
        return f"{_WEEKDAYS['vi'][weekday]}, {now:%d/%m/%Y}"
    if language == "en":
        return f"{_WEEKDAYS['en'][weekday]} {now.day} {_MONTHS_EN[now.month - 1]} {now.year}"
    if language == "km":
        return f"{_WEEKDAYS['km'][weekday]} {now:%d/%m/%Y}".translate(_KHMER_DIGITS)
    if language == "zh":
        return f"{now.year}年{now.month}月{now.day}日 {_WEEKDAYS['zh'][weekday]}"
    return f"{now:%Y-%m-%d}"


def ticker_px(canvas: tuple[int, int], floor_px: int) -> int:
    return min(round(floor_px * 0.8), round(Bands(*canvas).bottom * 0.62))


def ticker_key(texts: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    return tuple((code, text.strip().replace("\n", " ")) for code, text in texts if text.strip())


def ticker_strip(key: tuple[tuple[str, str], ...], px: int, setter: Callable[[str, bool], Typesetter],
                 min_width: int) -> pygame.Surface | None:
    """The ticker's texts, one per language, one after another in a single strip (a few tens of ms: off the loop)."""
    if not key:
        return None
    pieces = []
    for code, text in key:
        pieces.append(setter(code, False).render(text, px, (255, 255, 255)))
        pieces.append(setter("en", False).render(SEPARATOR, px, (233, 182, 64)))
    strip = pygame.Surface((max(min_width, sum(p.get_width() for p in pieces)), max(p.get_height() for p in pieces)),
                           pygame.SRCALPHA)
    x = 0
    for piece in pieces:
        strip.blit(piece, (x, 0))
        x += piece.get_width()
    return strip


def shift_offset(seconds: float, every: float, pixels: int) -> tuple[int, int]:
    """The burn-in offset at monotonic `seconds`: a slow walk around a small square."""
    if pixels <= 0:
        return (0, 0)
    steps = ((0, 0), (1, 0), (1, 1), (0, 1), (-1, 1), (-1, 0), (-1, -1), (0, -1), (1, -1))
    dx, dy = steps[int(seconds // every) % len(steps)]
    return (dx * pixels, dy * pixels)


class Overlays:
    """Draws the clock and the ticker onto each frame; `setter(language, bold)` gives fonts."""

    def __init__(self, canvas: tuple[int, int], floor_px: int, setter: Callable[[str, bool], Typesetter],
                 clock: bool = True, ticker: bool = True, shift_every: float = 300.0, shift_pixels: int = 4) -> None:
        self.canvas = canvas
        self.bands = Bands(*canvas)
        self.setter = setter
        self.show_clock, self.show_ticker = clock, ticker
        self.shift_every, self.shift_pixels = shift_every, shift_pixels
        self.time_px = round(canvas[1] * 0.05)
        self.date_px = round(canvas[1] * 0.022)
        self.ticker_px = ticker_px(canvas, floor_px)
        self._clock_key: tuple[str, str] | None = None
        self._clock: pygame.Surface | None = None
        self._strip: pygame.Surface | None = None
        self._strip_key: tuple[tuple[str, str], ...] = ()
        self._band = pygame.Surface((canvas[0], self.bands.bottom), pygame.SRCALPHA)
        self._band.fill((0, 0, 0, 200))
        self._scroll = 0.0
        self.offset = (0, 0)

    def set_ticker(self, texts: tuple[tuple[str, str], ...]) -> None:
        """Build and show a strip now (previews, benchmarks); the player builds it off the loop instead."""
        key = ticker_key(texts)
        if key != self._strip_key:
            self.show_strip(key, ticker_strip(key, self.ticker_px, self.setter, self.canvas[0]))

    def show_strip(self, key: tuple[tuple[str, str], ...], strip: pygame.Surface | None) -> None:
        """Swap in a strip built elsewhere (the preparer thread); the same texts keep scrolling undisturbed."""
        if key == self._strip_key:
            return
        self._strip_key, self._strip = key, strip
        self._scroll = 0.0

    def update(self, dt: float, mono: float, now: datetime, language: str) -> None:
        self.offset = shift_offset(mono, self.shift_every, self.shift_pixels)
        self._scroll += dt * TICKER_SPEED
        if self.show_clock:
            key = (language, f"{now:%Y-%m-%d %H:%M}")
            if key != self._clock_key:
                self._clock_key = key
                self._clock = self._render_clock(now, language)

    def _render_clock(self, now: datetime, language: str) -> pygame.Surface:
        time_line = self.setter("en", True).render(f"{now:%H:%M}", self.time_px, (255, 255, 255))
        date_line = self.setter(language, False).render(date_text(now, language), self.date_px, (235, 235, 235))
        pad = round(self.canvas[1] * 0.012)
        width = max(time_line.get_width(), date_line.get_width()) + 2 * pad
        height = time_line.get_height() + date_line.get_height() + pad
        box = pygame.Surface((width, height), pygame.SRCALPHA)
        pygame.draw.rect(box, (0, 0, 0, 185), box.get_rect(), border_radius=pad)
        box.blit(time_line, (width - pad - time_line.get_width(), pad // 3))
        box.blit(date_line, (width - pad - date_line.get_width(), pad // 3 + time_line.get_height()))
        return box

    def _ticker_at(self) -> tuple[int, int, int]:
        """The strip's x and y now, and how far apart its repeats are."""
        assert self._strip is not None
        band_top = self.canvas[1] - self.bands.bottom
        width = self._strip.get_width() + self.canvas[0] // 3
        y = band_top + (self.bands.bottom - self._strip.get_height()) // 2 + self.offset[1]
        return -int(self._scroll % width), y, width

    def _clock_rect(self) -> Rect:
        assert self._clock is not None
        dx, dy = self.offset
        margin = self.bands.margin // 2
        return (self.canvas[0] - margin - self._clock.get_width() + dx, margin // 2 + dy, *self._clock.get_size())

    def layers(self) -> tuple[Layer, ...]:
        """The clock and the ticker band as damage layers: the band changes with each whole pixel the strip moves."""
        out = []
        if self.show_ticker and self._strip is not None:
            x, y, _ = self._ticker_at()
            band_top = self.canvas[1] - self.bands.bottom
            top = min(band_top, y)
            bottom = max(self.canvas[1], y + self._strip.get_height())
            out.append(Layer("ticker", (id(self._strip), x, y), (0, top, self.canvas[0], bottom - top)))
        if self.show_clock and self._clock is not None:
            out.append(Layer("clock", (self._clock_key, self.offset), self._clock_rect()))
        return tuple(out)

    def next_due(self, mono: float, now: datetime) -> float | None:
        """When the overlays look different next: the ticker's next step (every frame while it scrolls), the clock's
        next minute, the next burn-in shift."""
        due: list[float] = []
        if self.show_ticker and self._strip is not None:
            due.append(mono)
        if self.show_clock:
            due.append(mono + 60.0 - now.second - now.microsecond / 1e6)
        if self.shift_pixels > 0 and (self.show_clock or self.show_ticker):
            due.append((mono // self.shift_every + 1) * self.shift_every)
        return min(due) if due else None

    def draw(self, surface: pygame.Surface) -> None:
        if self.show_ticker and self._strip is not None:
            x, y, width = self._ticker_at()
            surface.blit(self._band, (0, self.canvas[1] - self.bands.bottom))
            surface.blit(self._strip, (x, y))
            if x + width < self.canvas[0]:
                surface.blit(self._strip, (x + width, y))
        if self.show_clock and self._clock is not None:
            surface.blit(self._clock, self._clock_rect()[:2])
