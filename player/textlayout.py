"""Pure text layout: wrap paragraphs into lines within a width, pick the largest size that fits.

Widths come from a `measure(text) -> pixels` function the caller builds from a
real font, so these functions are tested with tables and no fonts at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .breaks import ZWSP, clusters, line_segments

Measure = Callable[[str], int]
ELLIPSIS = "…"


@dataclass(frozen=True)
class Wrapped:
    lines: tuple[str, ...]
    cut: bool = False  # True when text was dropped to fit and an ellipsis ends the last line


WORD_JOINER = "\u2060"  # no break here: keeps a name the dictionary does not know on one line


def clean(line: str) -> str:
    """What is drawn: zero-width spaces and word joiners are break hints, not glyphs (some faces draw them as boxes)."""
    return line.replace(ZWSP, "").replace(WORD_JOINER, "").rstrip()


def wrap(text: str, width: int, measure: Measure, language: str) -> tuple[str, ...]:
    """Greedy line filling at allowed breaks; a piece wider than a line is split between clusters."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        current = ""
        for segment in line_segments(paragraph, language):
            if measure(clean(current + segment)) <= width:
                current += segment
                continue
            if current:
                lines.append(clean(current))
                current = ""
            if measure(clean(segment)) <= width:
                current = segment
                continue
            for cluster in clusters(segment):  # one word wider than the line: never inside a cluster
                if current and measure(clean(current + cluster)) > width:
                    lines.append(clean(current))
                    current = cluster
                else:
                    current += cluster
        lines.append(clean(current))
    while lines and not lines[-1]:
        lines.pop()
    return tuple(lines)


def truncate(lines: tuple[str, ...], max_lines: int, width: int, measure: Measure) -> Wrapped:
    """Keep `max_lines` lines; if any were dropped, end the last kept one with an ellipsis."""
    if len(lines) <= max_lines:
        return Wrapped(lines)
    if max_lines <= 0:
        return Wrapped((), cut=True)
    kept = list(lines[:max_lines])
    kept[-1] = with_ellipsis(kept[-1], width, measure)
    return Wrapped(tuple(kept), cut=True)


def with_ellipsis(line: str, width: int, measure: Measure) -> str:
    """`line` ended with "…", dropping whole clusters from its end until it fits `width`."""
    parts = list(clusters(line))
    while parts and measure("".join(parts).rstrip() + ELLIPSIS) > width:
        parts.pop()
    return "".join(parts).rstrip() + ELLIPSIS


def largest_fitting(fits: Callable[[int], bool], low: int, high: int) -> int | None:
    """The largest size in [low, high] for which `fits(size)` holds (fits must be monotone)."""
    if high < low or not fits(low):
        return None
    while low < high:
        mid = (low + high + 1) // 2
        if fits(mid):
            low = mid
        else:
            high = mid - 1
    return low


def body_floor_px(px_per_mm: float, cap_mm: float = 25.0, cap_ratio: float = 0.714) -> int:
    """Font size (px per em) whose capital letters are `cap_mm` tall on this panel.

    0.714 is Noto Sans' cap height per em; at 952 mm for 1920 px (43", 1080p)
    a 25 mm capital is about 50 px, a font size of about 71 px.
    """
    return max(8, round(cap_mm * px_per_mm / cap_ratio))
