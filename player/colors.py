"""Colour arithmetic for legibility: WCAG relative luminance, contrast ratio, scrim strength."""

from __future__ import annotations

RGB = tuple[int, int, int]
MIN_CONTRAST = 7.0  # WCAG AAA, asked of every text on the screen


def _linear(channel: float) -> float:
    c = channel / 255.0
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def luminance(rgb: RGB) -> float:
    r, g, b = (_linear(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: RGB, b: RGB) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def text_color_for(background: RGB) -> RGB:
    """White or near-black, whichever reads better on `background`."""
    white, black = (255, 255, 255), (16, 16, 16)
    return white if contrast(white, background) >= contrast(black, background) else black


def blend(top: RGB, bottom: RGB, alpha: float) -> RGB:
    return tuple(round(t * alpha + b * (1 - alpha)) for t, b in zip(top, bottom))  # type: ignore[return-value]


def scrim_alpha(text: RGB, scrim: RGB, worst: RGB, target: float = MIN_CONTRAST) -> float:
    """The least opacity of `scrim` over a `worst`-case pixel that gives `text` the target contrast."""
    for step in range(0, 101):
        alpha = step / 100
        if contrast(text, blend(scrim, worst, alpha)) >= target:
            return alpha
    return 1.0
