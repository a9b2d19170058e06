"""Drawing helpers for the demo pictures: colours, a supersampled canvas with a pen, and landscape pieces.

Used by tools/make_demo_media.py (scenes and topic pictures).
"""

from __future__ import annotations

import math
import random
from contextlib import contextmanager
from typing import Callable, Iterator, Sequence

from PIL import Image, ImageDraw, ImageFilter

Color = tuple[int, int, int]
RGBA = tuple[int, int, int, int]
Point = tuple[float, float]
Stops = Sequence[tuple[float, str]]
S = 2  # supersampling factor
WHITE = (255, 255, 255, 255)


def hexc(value: str) -> Color:
    return (int(value[1:3], 16), int(value[3:5], 16), int(value[5:7], 16))


def mix(a: Color, b: Color, t: float) -> Color:
    return (round(a[0] + (b[0] - a[0]) * t), round(a[1] + (b[1] - a[1]) * t), round(a[2] + (b[2] - a[2]) * t))


def rgba(color: str | Color, alpha: int = 255) -> RGBA:
    r, g, b = hexc(color) if isinstance(color, str) else color
    return (r, g, b, alpha)


def shade(a: str, b: str, t: float) -> RGBA:
    return rgba(mix(hexc(a), hexc(b), t))


def ramp(stops: Stops, t: float) -> Color:
    """The colour at `t` (0..1) along gradient stops [(position, "#rrggbb"), ...]."""
    for (p0, c0), (p1, c1) in zip(stops, stops[1:]):
        if t <= p1:
            return mix(hexc(c0), hexc(c1), 0 if p1 == p0 else max(0.0, (t - p0) / (p1 - p0)))
    return hexc(stops[-1][1])


class Pen:
    """ImageDraw taking design pixels, drawing on a supersampled sheet."""

    def __init__(self, image: Image.Image) -> None:
        self.draw = ImageDraw.Draw(image)

    def polygon(self, points: Sequence[Point], fill: RGBA) -> None:
        self.draw.polygon([(x * S, y * S) for x, y in points], fill=fill)

    def rect(self, box: Sequence[float], fill: RGBA | None = None, radius: float = 0,
             outline: RGBA | None = None, width: float = 0) -> None:
        self.draw.rounded_rectangle([v * S for v in box], radius * S, fill=fill, outline=outline, width=round(width * S))

    def oval(self, cx: float, cy: float, rx: float, ry: float, fill: RGBA | None = None, outline: RGBA | None = None,
             width: float = 0, arc: tuple[float, float] | None = None) -> None:
        box = [(cx - rx) * S, (cy - ry) * S, (cx + rx) * S, (cy + ry) * S]
        if arc:
            self.draw.arc(box, arc[0], arc[1], fill=outline, width=round(width * S))
        else:
            self.draw.ellipse(box, fill=fill, outline=outline, width=round(width * S))

    def circle(self, cx: float, cy: float, r: float, fill: RGBA | None = None, outline: RGBA | None = None, width: float = 0) -> None:
        self.oval(cx, cy, r, r, fill, outline, width)

    def line(self, points: Sequence[Point], fill: RGBA, width: float) -> None:
        self.draw.line([(x * S, y * S) for x, y in points], fill=fill, width=max(1, round(width * S)), joint="curve")


class Canvas:
    """A supersampled RGBA picture built from gradients and (blurred) shape layers."""

    def __init__(self, width: int = 1920, height: int = 1080) -> None:
        self.w, self.h = width, height
        self.img = Image.new("RGBA", (width * S, height * S), (0, 0, 0, 255))

    def gradient(self, stops: Stops, top: float = 0, bottom: float | None = None) -> None:
        y0, y1 = round(top * S), round((self.h if bottom is None else bottom) * S)
        column = Image.new("RGB", (1, y1 - y0))
        column.putdata([ramp(stops, i / max(1, y1 - y0 - 1)) for i in range(y1 - y0)])
        self.img.paste(column.resize((self.img.width, y1 - y0)), (0, y0))

    @contextmanager
    def layer(self, blur: float = 0, opacity: float = 1.0) -> Iterator[Pen]:
        """Draw on a fresh sheet, soften it (premultiplied, so edges get no dark halo) and lay it on."""
        sheet = Image.new("RGBA", self.img.size, (0, 0, 0, 0))
        yield Pen(sheet)
        if blur:
            sheet = sheet.convert("RGBa").filter(ImageFilter.GaussianBlur(blur * S)).convert("RGBA")
        if opacity < 1:
            sheet.putalpha(sheet.getchannel("A").point(lambda a: round(a * opacity)))
        self.img.alpha_composite(sheet)

    def glow(self, cx: float, cy: float, r: float, color: Color, strength: float = 1.0) -> None:
        # radial_gradient is 255 only in its corners (181 mid-edge): stretch it so the glow ends inside its square
        falloff = Image.radial_gradient("L").point(lambda v: round(255 * strength * max(0.0, 1 - v * 1.42 / 255) ** 2))
        spot = Image.new("RGBA", (round(2 * r * S),) * 2, color + (0,))
        spot.putalpha(falloff.resize(spot.size, Image.Resampling.BICUBIC))
        self.place(spot, round((cx - r) * S), round((cy - r) * S), color)

    def place(self, piece: Image.Image, x: int, y: int, color: Color = (0, 0, 0)) -> None:
        sheet = Image.new("RGBA", self.img.size, color + (0,))
        sheet.paste(piece, (x, y))
        self.img.alpha_composite(sheet)

    def stamp(self, draw: Callable[[Pen], None], size: tuple[float, float], center: Point, angle: float = 0) -> None:
        """Draw a piece on its own sheet, turn it by `angle` degrees and lay it down with a soft shadow."""
        piece = Image.new("RGBA", (round(size[0] * S), round(size[1] * S)), (0, 0, 0, 0))
        draw(Pen(piece))
        piece = piece.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True)
        x, y = round(center[0] * S - piece.width / 2), round(center[1] * S - piece.height / 2)
        shadow = Image.new("RGBA", piece.size, (0, 0, 0, 0))
        shadow.putalpha(piece.getchannel("A").point(lambda a: a * 2 // 5))
        sheet = Image.new("RGBA", self.img.size, (0, 0, 0, 0))
        sheet.paste(shadow, (x + 10 * S, y + 16 * S))
        self.img.alpha_composite(sheet.filter(ImageFilter.GaussianBlur(14 * S)))
        self.place(piece, x, y)

    def picture(self) -> Image.Image:
        return self.img.convert("RGB").resize((self.w, self.h), Image.Resampling.LANCZOS)


def ridge(rng: random.Random, keys: Sequence[Point], rough: float, bottom: float, x1: float = 1920) -> list[Point]:
    """A hill outline easing through key points, roughened by a few seeded sine waves."""
    waves = [(rng.uniform(0.004, 0.04), rng.uniform(0, 6.3), rng.uniform(0.3, 1.0)) for _ in range(6)]
    total = sum(a for _, _, a in waves)
    points: list[Point] = []
    for x in range(-20, round(x1) + 30, 8):
        (xa, ya), (xb, yb) = next(((p, q) for p, q in zip(keys, keys[1:]) if x <= q[0]), (keys[-2], keys[-1]))
        t = min(1.0, max(0.0, (x - xa) / (xb - xa)))
        noise = rough * sum(a * math.sin(f * x + p) for f, p, a in waves) / total
        points.append((x, ya + (yb - ya) * (0.5 - math.cos(t * math.pi) / 2) + noise))
    return points + [(x1 + 30, bottom), (-20, bottom)]


def palm(pen: Pen, rng: random.Random, x: float, base: float, height: float, crown: float, color: Color) -> None:
    """A sugar palm (thốt nốt), the tree of the An Giang plains: a bare trunk under a round crown of fans."""
    cx, cy = x + rng.uniform(-0.04, 0.04) * height, base - height
    trunk = [(x - crown * 0.09, base), (x + crown * 0.09, base), (cx + crown * 0.06, cy), (cx - crown * 0.06, cy)]
    pen.polygon(trunk, rgba(color))
    pen.circle(cx, cy, crown * 0.5, rgba(color))
    for k in range(15):  # fans of stiff blades; the lowest hang shorter
        a = -90 + (k - 7) * 22 + rng.uniform(-5, 5)
        length = crown * (0.62 if abs(a + 90) < 110 else 0.42)
        bx, by = cx + math.cos(math.radians(a)) * crown * 0.28, cy + math.sin(math.radians(a)) * crown * 0.28
        for j in range(-3, 4):
            b, reach = math.radians(a + j * 8), length * (1 - abs(j) * 0.06)
            side = (math.sin(b) * crown * 0.035, -math.cos(b) * crown * 0.035)
            tip = (bx + math.cos(b) * reach, by + math.sin(b) * reach)
            pen.polygon([(bx + side[0], by + side[1]), tip, (bx - side[0], by - side[1])], rgba(color))


def roof(pen: Pen, cx: float, y: float, w: float, h: float, tiles: str, trim: str) -> None:
    """A curved-eave roof: a trapezoid with upturned corners, a fascia band and a ridge."""
    half, inset, tip = w / 2, w * 0.2, w * 0.05
    pen.polygon([(cx - half - tip, y - h * 0.45), (cx - half + tip, y), (cx + half - tip, y), (cx + half + tip, y - h * 0.45),
                 (cx + half - inset, y - h), (cx - half + inset, y - h)], rgba(tiles))
    fascia = y + h * 0.12
    pen.polygon([(cx - half + tip, y), (cx + half - tip, y), (cx + half - w * 0.07, fascia), (cx - half + w * 0.07, fascia)], rgba(trim))
    pen.rect([cx - half + inset - 6, y - h - 8, cx + half - inset + 6, y - h + 2], rgba(trim), radius=4)


def clouds(c: Canvas, spots: Sequence[Point]) -> None:
    with c.layer(blur=6, opacity=0.85) as p:
        for cx, cy in spots:
            p.rect([cx - 130, cy + 10, cx + 130, cy + 50], WHITE, radius=20)
            for k in range(-2, 3):
                p.circle(cx + k * 55, cy + abs(k) * 12, 62 - abs(k) * 14, WHITE)


def paddies(c: Canvas, top: float, sun_x: float, stops: Stops) -> None:
    """Flooded rice fields from `top` down, mirroring the sun, crossed by low dikes."""
    c.gradient(stops, top=top)
    c.glow(sun_x, top + 35, 260, hexc("#ffd9a0"), 0.55)
    with c.layer(blur=1.5, opacity=0.5) as p:
        for k in range(6):
            y = top + 17 + k * k * (c.h - top) / 36
            p.rect([-10, y, c.w + 10, y + 2 + k], (24, 40, 22, 255))
