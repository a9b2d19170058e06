"""Where the touch kiosk's targets go on the canvas, sized in millimetres of the real panel (pure geometry).

Every target is at least TARGET_MM wide and tall on the configured panel
(display.width_mm and size give pixels per millimetre). The exit corner is a
square no button covers, so the staff's corner taps never press anything.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

TARGET_MM = 22.0  # WCAG and kiosk guidance ask 2 cm; a little more for a finger at arm's length
BODY_CAP_MM = 6.0  # body text capitals at arm's length
CAP_EM = 0.70  # Noto Sans' capitals as drawn measure 0.70-0.71 em; the lower figure keeps 6 mm a floor
PAGE_CAP_MM = BODY_CAP_MM * 0.714 / CAP_EM  # for SlideRenderer, whose floor assumes 0.714 em
TILE_GAP = 0.025  # of the shorter side


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    w: int
    h: int

    def contains(self, x: float, y: float) -> bool:
        return self.x <= x < self.x + self.w and self.y <= y < self.y + self.h

    @property
    def rect(self) -> tuple[int, int, int, int]:
        return (self.x, self.y, self.w, self.h)

    @property
    def center(self) -> tuple[int, int]:
        return (self.x + self.w // 2, self.y + self.h // 2)


@dataclass(frozen=True)
class Layout:
    canvas: tuple[int, int]
    px_per_mm: float
    languages: tuple[str, ...]

    # -- sizes -------------------------------------------------------------------------------

    @property
    def target(self) -> int:
        """The least side of a target, in pixels."""
        return math.ceil(TARGET_MM * self.px_per_mm)

    @property
    def button(self) -> int:
        """Button height: the target size, or more on a panel with pixels to spare."""
        return max(self.target, round(min(self.canvas) * 0.085))

    @property
    def pad(self) -> int:
        return max(4, round(self.button * 0.16))

    @property
    def bar(self) -> int:
        return self.button + 2 * self.pad

    @property
    def corner(self) -> int:
        """Side of each corner square kept free of buttons (the exit gesture's corner is one of them)."""
        return self.bar

    @property
    def label_px(self) -> int:
        """Font size of button labels: capitals BODY_CAP_MM tall at least."""
        return max(math.ceil(BODY_CAP_MM * self.px_per_mm / CAP_EM), round(self.button * 0.34))

    @property
    def title_px(self) -> int:
        return round(self.label_px * 1.25)

    # -- bars --------------------------------------------------------------------------------

    def top_bar(self) -> Box:
        return Box(0, 0, self.canvas[0], self.bar)

    def bottom_bar(self) -> Box:
        return Box(0, self.canvas[1] - self.bar * self._bottom_rows(), self.canvas[0], self.bar * self._bottom_rows())

    def _wide(self) -> int:
        return max(self.target, round(self.button * 2.5))

    def back(self) -> Box:
        return Box(self.corner, self.pad, self._wide(), self.button)

    def home(self) -> Box:
        return Box(self.corner + self._wide() + self.pad, self.pad, self._wide(), self.button)

    def title(self) -> Box:
        left = self.home().x + self.home().w + 2 * self.pad
        return Box(left, self.pad, max(0, self.canvas[0] - self.corner - left), self.button)

    def _language_width(self) -> int:
        room = self.canvas[0] - 2 * self.corner - (len(self.languages) - 1) * self.pad
        return max(self.target, min(self._wide(), room // max(1, len(self.languages))))

    def _pager_width(self) -> int:
        return 3 * self._arrow_width() + 2 * self.pad

    def _arrow_width(self) -> int:
        return max(self.target, round(self.button * 1.3))

    def _bottom_rows(self) -> int:
        n = len(self.languages)
        needed = n * self._language_width() + (n - 1) * self.pad + 3 * self.pad + self._pager_width()
        return 1 if needed <= self.canvas[0] - 2 * self.corner else 2

    def language_buttons(self) -> list[tuple[str, Box]]:
        """The language bar, bottom left (after the corner square), each language in its own script."""
        y = self.canvas[1] - self.bar + self.pad
        width = self._language_width()
        return [(code, Box(self.corner + i * (width + self.pad), y, width, self.button))
                for i, code in enumerate(self.languages)]

    def pager(self) -> tuple[Box, Box, Box]:
        """Previous page, the page number, next page: bottom right, or a row above the languages if narrow."""
        arrow = self._arrow_width()
        y = self.canvas[1] - self.bar * self._bottom_rows() + self.pad
        right = self.canvas[0] - self.corner
        nxt = Box(right - arrow, y, arrow, self.button)
        number = Box(nxt.x - self.pad - arrow, y, arrow, self.button)
        prev = Box(number.x - self.pad - arrow, y, arrow, self.button)
        return prev, number, nxt

    def content(self) -> Box:
        """The room between the bars, where pages and tiles go."""
        top = self.bar
        return Box(0, top, self.canvas[0], self.canvas[1] - top - self.bottom_bar().h)

    def page_box(self) -> Box:
        """Where a page's words go: the content room less a margin."""
        area = self.content()
        margin = round(self.canvas[0] * 0.05)
        inner = round(area.h * 0.04)
        return Box(margin, area.y + inner, area.w - 2 * margin, area.h - 2 * inner)

    # -- menus -------------------------------------------------------------------------------

    def tiles(self, count: int) -> list[Box]:
        """`count` tiles in a grid filling the content room (3 or 4 across in landscape, 2 in portrait)."""
        area = self.content()
        gap = round(min(self.canvas) * TILE_GAP)
        landscape = self.canvas[0] >= self.canvas[1]
        columns = (min(3, count) if count <= 6 else 4) if landscape else min(2, count)
        columns = max(1, columns)
        rows = math.ceil(count / columns)
        width = (area.w - 2 * self.corner // 2 - (columns - 1) * gap) // columns
        height = (area.h - (rows + 1) * gap) // rows
        x0 = (self.canvas[0] - (columns * width + (columns - 1) * gap)) // 2
        out = []
        for index in range(count):
            row, column = divmod(index, columns)
            in_row = min(columns, count - row * columns)  # a short last row is centred
            x_row = x0 + (columns - in_row) * (width + gap) // 2
            out.append(Box(x_row + column * (width + gap), area.y + gap + row * (height + gap), width, height))
        return out

    # -- the staff keypad --------------------------------------------------------------------

    def keypad(self) -> tuple[Box, Box, list[tuple[str, Box]]]:
        """(panel, display line, keys): digits 1-9, then delete, 0, OK, then Cancel across the bottom."""
        key = max(self.target, round(self.canvas[1] * 0.1))
        gap = max(6, key // 6)
        width = 3 * key + 2 * gap
        display = Box(0, 0, width, round(key * 1.4))
        height = display.h + gap + 5 * key + 4 * gap
        panel = Box((self.canvas[0] - width) // 2 - 2 * gap, (self.canvas[1] - height) // 2 - 2 * gap,
                    width + 4 * gap, height + 4 * gap)
        x0, y0 = panel.x + 2 * gap, panel.y + 2 * gap
        display = Box(x0, y0, width, display.h)
        labels = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "del", "0", "ok"]
        keys = []
        for index, label in enumerate(labels):
            row, column = divmod(index, 3)
            keys.append((label, Box(x0 + column * (key + gap), display.y + display.h + gap + row * (key + gap), key, key)))
        keys.append(("cancel", Box(x0, display.y + display.h + gap + 4 * (key + gap), width, key)))
        return panel, display, keys
