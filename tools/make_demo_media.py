"""Draw the demo set's images (shapes only, no text: the player renders all words) into media/.

Each picture is drawn with Pillow at twice its size and scaled down, so edges are smooth, and
every random choice is seeded, so a rerun writes the same files: the gate by day and night,
Núi Cấm, Trà Sư, Núi Sam, topic pictures, dark text backgrounds, a portrait picture and the
same kind of picture stored sideways with EXIF Orientation 6 (for the player's EXIF handling).
"""

from __future__ import annotations

import argparse
import math
import random
from pathlib import Path
from typing import Callable

from PIL import Image, ImageDraw, ImageFilter

from tools.demo_drawing import (S, RGBA, Canvas, Color, Pen, clouds, hexc, mix, paddies, palm, rgba, ridge, roof,
                                shade)


def gate(night: bool) -> Canvas:
    rng, c = random.Random(11), Canvas()
    if night:
        c.gradient([(0, "#060b1f"), (0.55, "#142a52"), (0.72, "#2c3f63")], bottom=780)
        with c.layer() as p:
            for _ in range(140):
                p.circle(rng.uniform(0, 1920), rng.uniform(0, 520), rng.uniform(0.8, 2.2), (255, 255, 240, rng.randint(90, 230)))
        c.glow(1520, 170, 160, hexc("#fdf3c4"), 0.35)
        with c.layer() as p:
            p.circle(1520, 170, 46, (252, 246, 220, 255))
    else:
        c.gradient([(0, "#2f6bb0"), (0.5, "#8cc3ea"), (0.72, "#f8dcae")], bottom=780)
        c.glow(1500, 560, 420, hexc("#fff1c9"), 0.8)
        clouds(c, [(300, 190), (620, 120), (1300, 150), (1700, 260)])
    with c.layer(blur=2) as p:
        hills = ridge(rng, [(0, 640), (380, 560), (640, 610), (1000, 600), (1320, 540), (1920, 640)], 18, 790)
        p.polygon(hills, rgba("#1b2a45" if night else "#7f9bb6"))
    wall, glass, tiles, trim = ("#5d5a63", "#f3c76b", "#5a2a22", "#3b2a2a") if night else ("#f1e7d3", "#2f5d86", "#b04a32", "#7c3324")
    with c.layer() as p:
        p.rect([0, 760, 1920, 1080], rgba("#0f1c16" if night else "#6f9a45"))
        p.polygon([(760, 760), (1160, 760), (1720, 1080), (200, 1080)], rgba("#1f2b30" if night else "#8d8f92"))
        for i in range(7):  # centre-line dashes, longer and wider as they come closer
            y0, y1, w0, w1 = 760 + 320 * (i / 7) ** 1.6, 760 + 320 * ((i + 0.5) / 7) ** 1.6, 4 + 24 * i / 7, 4 + 24 * (i + 0.5) / 7
            p.polygon([(960 - w0 / 2, y0), (960 + w0 / 2, y0), (960 + w1 / 2, y1), (960 - w1 / 2, y1)], (245, 240, 225, 220))
        for x0, x1 in ((440, 800), (1120, 1480)):  # lane canopies with their booths
            p.rect([x0, 600, x1, 630], rgba(trim))
            p.rect([x0 + 10, 578, x1 - 10, 602], rgba(tiles), radius=6)
            for k in range(5):
                p.rect([x0 + 23 + k * (x1 - x0 - 60) / 4, 630, x0 + 37 + k * (x1 - x0 - 60) / 4, 760], rgba(wall))
            for bx in (x0 + 80, x0 + 250):
                p.rect([bx, 690, bx + 90, 760], rgba(wall), radius=6)
                p.rect([bx + 12, 700, bx + 78, 730], rgba(glass), radius=4)
        p.rect([760, 470, 1160, 760], rgba(wall))
        for row in range(3):
            for col in range(5) if row < 2 else (0, 4):
                lit = not night or (row * 5 + col) % 3 == 0  # at night most offices are dark
                p.rect([790 + col * 70, 500 + row * 78, 840 + col * 70, 556 + row * 78], rgba(glass if lit else "#2a2d3a"), radius=4)
        p.rect([870, 660, 1050, 760], rgba(trim), radius=10)
        p.rect([884, 674, 1036, 760], rgba(glass), radius=6)
        roof(p, 960, 470, 520, 110, tiles, trim)
        p.rect([860, 300, 1060, 365], rgba(wall))
        roof(p, 960, 300, 300, 90, tiles, trim)
    for x in (300, 620, 1300, 1620) if night else ():
        c.glow(x, 640, 90, hexc("#ffd27a"), 0.7)
    with c.layer() as p:
        for x in (300, 620, 1300, 1620):
            p.rect([x - 4, 650, x + 4, 800], (40, 44, 52, 255))
            p.rect([x - 16, 640, x + 16, 652], (250, 226, 160, 255) if night else (70, 74, 82, 255))
        if night:  # the boom is down: the gate is closed
            p.rect([700, 818, 716, 880], (60, 60, 66, 255))
            for k in range(8):
                p.rect([716 + k * 60, 826, 776 + k * 60, 842], (220, 40, 40, 255) if k % 2 == 0 else (245, 245, 240, 255))
        for x, h in ((90, 560), (230, 470), (1700, 520), (1840, 600), (380, 360)):
            palm(p, rng, x, 1000, h, h * 0.24, hexc("#06100c" if night else "#24402a"))
    return c


def nui_cam() -> Canvas:
    rng, c = random.Random(22), Canvas()
    c.gradient([(0, "#29375f"), (0.35, "#8c6f97"), (0.6, "#f0a48c"), (0.8, "#fbd89a")])
    c.glow(1330, 470, 330, hexc("#fff0c4"), 0.9)
    with c.layer() as p:
        p.circle(1330, 470, 55, (255, 244, 214, 255))
    ranges = [("#b99ab4", [(0, 520), (500, 470), (900, 500), (1400, 455), (1920, 500)], 30),
              ("#8b7aa2", [(0, 600), (430, 330), (640, 470), (1100, 540), (1500, 500), (1920, 560)], 36),  # Núi Cấm's peak
              ("#5e5d85", [(0, 650), (300, 600), (780, 560), (1250, 640), (1650, 580), (1920, 620)], 30),
              ("#38486a", [(0, 720), (520, 680), (980, 710), (1500, 670), (1920, 700)], 22)]
    for i, (color, keys, rough) in enumerate(ranges):
        with c.layer(blur=1.5) as p:
            p.polygon(ridge(rng, keys, rough, 1080), rgba(color))
        with c.layer(blur=40, opacity=0.55) as p:  # mist settles in the valleys
            y = max(k[1] for k in keys) + 10
            p.rect([-100, y - 40 + i * 6, 2020, y + 40], (255, 236, 226, 255))
    paddies(c, 795, 1330, [(0, "#8e8a6e"), (0.15, "#4d6a45"), (1, "#22391f")])
    with c.layer() as p:
        for x, h in ((120, 420), (300, 330), (1560, 380), (1720, 470), (1860, 300)):
            palm(p, rng, x, 960, h, h * 0.25, hexc("#1b2220"))
    return c


def tra_su() -> Canvas:
    """The flooded cajuput forest: pale trunks standing in duckweed, a boat on an open channel."""
    rng, c = random.Random(33), Canvas()
    c.gradient([(0, "#eef6e2"), (0.52, "#d5e8c2"), (0.545, "#bcd889"), (1, "#5a8a20")])

    def bank(y: float) -> tuple[float, float]:  # centre and half-width of the winding channel
        t = (y - 585) / 495
        return 990 + 150 * math.sin(t * 3.4) * t, 6 + 420 * t ** 1.4

    ys = range(585, 1081, 5)
    channel = [(bank(y)[0] - bank(y)[1], y) for y in ys] + [(bank(y)[0] + bank(y)[1], y) for y in reversed(ys)]
    trunks = sorted((d, x) for d, x in ((rng.uniform(0, 1), rng.uniform(-40, 1960)) for _ in range(85))
                    if abs(x - bank(585 + d * 360)[0]) > bank(585 + d * 360)[1] + 25)
    with c.layer(blur=12, opacity=0.8) as p:
        for _ in range(110):
            p.circle(rng.uniform(-100, 2020), rng.uniform(-60, 400), rng.uniform(50, 150), shade("#6f9a55", "#b8d48e", rng.random()))
    with c.layer() as p:
        p.polygon(channel, rgba("#40654f"))
    reflection = Image.new("RGBA", c.img.size, (0, 0, 0, 0))
    for near in (False, True):
        with c.layer() as p:
            for depth, x in (t for t in trunks if (t[0] > 0.45) == near):
                bark, base, width = mix(hexc("#c4cfb9"), hexc("#e6e0d2"), depth), 585 + depth * 360, 3 + depth * 22
                bend, lean = rng.uniform(-1.5, 1.5) * width, rng.uniform(-1.5, 1.5) * width  # crooked, never zigzag
                knots = [(x + bend * math.sin(t * math.pi) + lean * t, base - (base + 30) * t, width * (1 - t * 0.4))
                         for t in (k / 6 for k in range(7))]
                sunny_side = [(kx + w / 2, ky) for kx, ky, w in reversed(knots)]
                p.polygon([(kx - w / 2, ky) for kx, ky, w in knots] + sunny_side, rgba(bark))
                p.polygon([(kx + w / 8, ky) for kx, ky, w in knots] + sunny_side, rgba(mix(bark, (80, 84, 70), 0.35)))
                low = base + 200 + 300 * depth
                Pen(reflection).polygon([(x - width / 2, base), (x + width / 2, base), (x + width * 0.3, low), (x - width * 0.3, low)],
                                        rgba(mix(bark, (40, 60, 50), 0.5), 150))
        if not near:
            with c.layer(blur=40, opacity=0.65) as p:  # morning haze hides the far bases
                p.rect([-100, 470, 2020, 610], (236, 244, 226, 255))
            with c.layer(blur=5) as p:
                for _ in range(60):
                    p.circle(rng.uniform(-100, 2020), rng.uniform(-60, 260), rng.uniform(40, 110), shade("#3f6d33", "#86ad58", rng.random()))
    mask = Image.new("L", c.img.size, 0)  # trunks mirror only in the open channel, not on the duckweed
    ImageDraw.Draw(mask).polygon([(x * S, y * S) for x, y in channel], fill=255)
    sheet = Image.new("RGBA", c.img.size, (0, 0, 0, 0))
    sheet.paste(reflection, (0, 0), mask)
    c.img.alpha_composite(sheet.convert("RGBa").filter(ImageFilter.GaussianBlur(2 * S)).convert("RGBA"))
    with c.layer(blur=2.5) as p:
        for _ in range(160):
            x, y = rng.uniform(-100, 2020), rng.uniform(-60, 100) + (abs(rng.uniform(-1, 1)) ** 3) * 110
            p.circle(x, y, rng.uniform(22, 60), shade("#24491f", "#6f9f44", rng.random()))
    with c.layer() as p:
        for _ in range(300):  # duckweed flecks catch the light
            y, x = rng.uniform(600, 1080), rng.uniform(0, 1920)
            p.circle(x, y, 1 + (y - 580) / 130, rgba(mix(hexc("#a9cf55"), hexc("#dcef92"), rng.random()), 140))
        bx = bank(820)[0]  # a boat, its rower in a conical hat
        p.polygon([(bx - 120, 806), (bx + 120, 806), (bx + 95, 830), (bx - 95, 830)], rgba("#4a2f1f"))
        p.rect([bx + 20, 768, bx + 42, 808], rgba("#2d5b7a"), radius=6)
        p.polygon([(bx + 31, 742), (bx + 58, 772), (bx + 4, 772)], rgba("#e2cf95"))
        p.line([(bx - 20, 770), (bx - 60, 850)], rgba("#3a2618"), 4)
        for _ in range(7):
            x, y = rng.uniform(300, 1600), rng.uniform(260, 420)
            p.line([(x - 18, y - 9), (x, y), (x + 18, y - 9)], (255, 255, 255, 235), 4)
    return c


def nui_sam() -> Canvas:
    """The Bà Chúa Xứ temple at the foot of Núi Sam: tiered green roofs, ochre walls, red columns."""
    rng, c = random.Random(44), Canvas()
    c.gradient([(0, "#3f86c6"), (0.6, "#a9d6f2"), (0.75, "#e8f2f1")])
    clouds(c, [(260, 150), (1500, 110), (1760, 300)])
    hill = ridge(rng, [(0, 760), (500, 430), (900, 330), (1300, 420), (1920, 720)], 24, 1080)
    with c.layer(blur=2) as p:
        p.polygon(hill, rgba("#4f7a4a"))
    with c.layer(blur=1.5) as p:  # clumps of trees on the slopes
        for _ in range(160):
            x, top = rng.choice(hill[3:-3])
            p.circle(x + rng.uniform(-4, 4), rng.uniform(top + 25, 840), rng.uniform(10, 26), shade("#3c6a3a", "#64905a", rng.random()))
    gold, red, door = rgba("#f2c14e"), rgba("#a8322a"), rgba("#6b1f1a")
    c.gradient([(0, "#efe5cf"), (1, "#cdbb98")], top=830)
    with c.layer() as p:
        for k in range(-6, 7):  # paving joints run toward the door
            p.line([(960 + k * 60, 850), (960 + k * 260, 1090)], (190, 172, 140, 255), 2)
        p.rect([560, 640, 1360, 830], gold)
        for k in range(9):
            p.rect([590 + k * 92, 660, 606 + k * 92, 830], red)
        for cx, w, top in ((960, 80, 740), (770, 45, 770), (1150, 45, 770)):
            p.rect([cx - w, top, cx + w, 830], door)
            p.circle(cx, top, w, door)
        for y, width, wall in ((640, 980, None), (480, 700, [680, 480, 1240, 560]), (340, 420, [800, 340, 1120, 390])):
            if wall:
                p.rect(wall, gold)
            roof(p, 960, y, width, 120 - (980 - width) / 28, "#2f8a5a", "#1f5c3e")
        for k in range(6):
            p.rect([720 + k * 88, 500, 760 + k * 88, 540], door, radius=20)
        p.circle(960, 228, 16, (235, 196, 80, 255))
        for k in range(4):
            p.rect([640 - k * 20, 830 + k * 14, 1280 + k * 20, 844 + k * 14], rgba(mix(hexc("#c9b896"), (255, 255, 255), k * 0.08)))
        for x in (430, 1490):
            p.rect([x - 3, 700, x + 3, 860], (60, 60, 60, 255))
            p.rect([x - 16, 690, x + 16, 730], red, radius=14)
        for x in (180, 300, 1620, 1740):
            p.circle(x, 860, 70, rgba("#3f7a3c"))
            p.circle(x - 20, 840, 40, rgba("#5c9a4c"))
    return c


def passport(p: Pen) -> None:
    gold = (226, 184, 92, 255)
    p.rect([0, 0, 360, 500], (110, 24, 40, 255), radius=26)
    for rx, ry in ((90, 90), (45, 90), (90, 45)):  # a globe: rim, meridian, latitude
        p.oval(180, 210, rx, ry, None, gold, 8 if rx == ry else 5)
    p.line([(90, 210), (270, 210)], gold, 5)
    p.rect([110, 380, 250, 404], gold, radius=6)


def booth(p: Pen) -> None:
    p.rect([0, 120, 520, 560], (236, 240, 246, 255), radius=20)
    p.rect([50, 170, 470, 380], (120, 170, 215, 255), radius=14)
    p.circle(260, 260, 50, (50, 70, 100, 255))
    p.rect([190, 300, 330, 380], (50, 70, 100, 255), radius=40)
    p.rect([-20, 420, 540, 460], (200, 206, 214, 255), radius=10)
    p.rect([130, 0, 390, 80], (255, 206, 84, 255), radius=16)


def suitcase(p: Pen) -> None:
    p.rect([140, 0, 320, 80], None, 30, (60, 60, 70, 255), 22)
    p.rect([0, 60, 460, 420], (233, 142, 54, 255), radius=36)
    for x in (110, 340):
        p.rect([x, 60, x + 22, 420], (190, 98, 30, 255))


def clipboard(p: Pen) -> None:
    p.rect([0, 30, 340, 460], (245, 242, 232, 255), radius=20)
    p.rect([110, 0, 230, 60], (90, 100, 110, 255), radius=14)
    for k in range(4):
        y = 120 + k * 80
        p.line([(40, y), (64, y + 24), (100, y - 14)], (40, 150, 90, 255) if k < 3 else (200, 50, 50, 255), 10)
        p.rect([130, y - 4, 300, y + 14], (190, 196, 204, 255), radius=8)


def banknote(col: Color) -> Callable[[Pen], None]:
    def draw(p: Pen) -> None:
        p.rect([0, 0, 640, 300], rgba(col), radius=18)
        p.rect([22, 22, 618, 278], None, 12, rgba(mix(col, (255, 255, 255), 0.5)), 6)
        p.circle(470, 150, 80, rgba(mix(col, (255, 255, 255), 0.35)))
        p.rect([60, 60, 260, 90], rgba(mix(col, (0, 0, 0), 0.25)), radius=8)
    return draw


def coin(r: float, face: RGBA) -> Callable[[Pen], None]:
    def draw(p: Pen) -> None:
        p.circle(r, r, r, face)
        p.circle(r, r, r * 0.78, None, (255, 255, 255, 130), r * 0.06)
    return draw


def topic(name: str, top: str, bottom: str) -> Canvas:
    """Flat-illustration pictures for the practical slides."""
    rng, c = random.Random(name), Canvas()
    c.gradient([(0, top), (1, bottom)])
    c.glow(rng.uniform(200, 700), rng.uniform(100, 400), 700, (255, 255, 255), 0.14)
    c.glow(rng.uniform(1300, 1800), rng.uniform(600, 1000), 600, (255, 255, 255), 0.1)
    ink, soft = (30, 40, 60, 255), (255, 255, 255, 200)
    if name == "immigration":
        c.stamp(booth, (540, 560), (1220, 560))
        c.stamp(passport, (360, 500), (640, 600), -10)
        with c.layer() as p:
            for r in range(6):  # a fingerprint: nested ovals, each broken somewhere else
                p.oval(1660, 300, 14 + r * 16, 22 + r * 20, outline=soft, width=7, arc=(95 + r * 37, 395 + r * 37))
            p.rect([1560, 700, 1760, 830], soft, radius=22)  # a camera
            p.rect([1600, 676, 1660, 704], soft, radius=8)
            p.circle(1660, 765, 44, rgba(bottom))
            p.circle(1660, 765, 30, soft)
            p.circle(300, 260, 80, None, soft, 10)
            p.line([(262, 262), (292, 292), (346, 228)], soft, 12)
    elif name == "customs":
        c.stamp(suitcase, (460, 420), (760, 640), 4)
        c.stamp(clipboard, (340, 460), (1260, 560), -6)
        with c.layer() as p:  # "not allowed"
            p.circle(1620, 300, 110, None, soft, 16)
            p.line([(1542, 222), (1698, 378)], soft, 16)
    elif name == "exchange":
        for k, colour in enumerate(["#5fae8b", "#d9a441", "#6d8fd6", "#c8687a", "#3c9c9a"]):
            c.stamp(banknote(hexc(colour)), (640, 300), (760 + k * 22, 520 - k * 16), -24 + k * 11)
        for k, (x, y, r) in enumerate(((1320, 700, 120), (1500, 560, 95), (1250, 430, 80), (1560, 800, 70))):
            c.stamp(coin(r, (222, 176, 72, 255) if k % 2 == 0 else (200, 204, 210, 255)), (2 * r, 2 * r), (x, y))
    elif name == "emergency":
        with c.layer() as p:
            p.circle(960, 500, 300, (250, 250, 246, 255))
            p.circle(960, 500, 250, (200, 30, 36, 255))
            p.rect([910, 340, 1010, 660], (250, 250, 246, 255), radius=14)
            p.rect([800, 450, 1120, 550], (250, 250, 246, 255), radius=14)
            p.line([(0, 900), (560, 900), (600, 860), (640, 960), (690, 800), (740, 900), (1180, 900), (1220, 840),
                    (1270, 990), (1310, 880), (1340, 900), (1920, 900)], soft, 10)
    elif name == "hours":
        with c.layer(blur=8, opacity=0.5) as p:
            p.circle(960, 540, 380, (255, 220, 160, 255))
        with c.layer() as p:
            p.circle(960, 540, 340, (250, 250, 246, 255), (40, 60, 90, 255), 18)
            for k in range(60):
                a, r0 = math.radians(k * 6), 280 if k % 5 == 0 else 300
                tick = [(960 + math.sin(a) * r, 540 - math.cos(a) * r) for r in (r0, 315)]
                p.line(tick, ink, 12 if k % 5 == 0 else 4)
            p.line([(960, 540), (960, 740)], ink, 24)  # six o'clock: the gate opens
            p.line([(960, 540), (960, 290)], ink, 14)
            p.circle(960, 540, 22, (200, 60, 40, 255))
            p.circle(300, 330, 80, (255, 206, 84, 255))
            for a in (math.radians(k * 30) for k in range(12)):
                p.line([(300 + math.cos(a) * r, 330 + math.sin(a) * r) for r in (105, 140)], (255, 206, 84, 255), 10)
        with c.layer() as p:  # the moon: a disc with a transparent bite, so the sky shows through
            p.circle(1620, 330, 90, (236, 236, 220, 255))
            p.circle(1660, 296, 80, (0, 0, 0, 0))
    return c


def backdrop(top: str, bottom: str, accent: str, seed: int, stars: bool = False) -> Canvas:
    """A calm dark gradient for text slides; its few soft shapes stay low, away from the text."""
    rng, c = random.Random(seed), Canvas()
    c.gradient([(0, top), (1, bottom)])
    c.glow(1700, 160, 700, hexc(accent), 0.22)
    for k in range(3):
        with c.layer(blur=2, opacity=0.08 + k * 0.05) as p:
            p.polygon(ridge(rng, [(0, 900 + k * 50), (700, 860 + k * 60), (1920, 930 + k * 45)], 26, 1080), rgba(accent))
    with c.layer() as p:
        for _ in range(120 if stars else 0):
            p.circle(rng.uniform(0, 1920), rng.uniform(0, 700), rng.uniform(0.6, 1.8), (255, 255, 255, rng.randint(40, 160)))
    return c


def palms_portrait(evening: bool) -> Canvas:
    """Sugar palms over rice fields, 1080x1440: sky above and fields below, so "up" is plain to see."""
    rng, c = random.Random(55 if evening else 66), Canvas(1080, 1440)
    sky = [(0, "#3b2f63"), (0.45, "#e0737a"), (0.7, "#fcc977")] if evening else [(0, "#4f9bd8"), (0.5, "#bfe3f5"), (0.7, "#fff3d6")]
    c.gradient(sky, bottom=1010)
    c.glow(700, 900, 380, hexc("#fff0c0"), 0.9)
    with c.layer(blur=2) as p:
        p.polygon(ridge(rng, [(0, 960), (360, 900), (700, 940), (1080, 920)], 14, 1100, 1080), rgba("#6c5577" if evening else "#86a7b8"))
    fields = [(0, "#9a8a72"), (0.12, "#4d6a45"), (1, "#23381f")] if evening else [(0, "#b6c98e"), (0.12, "#7fae4d"), (1, "#3f6e26")]
    paddies(c, 1000, 700, fields)
    with c.layer() as p:
        for x, h in ((220, 900), (520, 700), (800, 820), (960, 560), (380, 420)):
            palm(p, rng, x, 1040, h, h * 0.2, hexc("#1c1722" if evening else "#23402a"))
    return c


SCENES: dict[str, Callable[[], Canvas]] = {
    "gate.jpg": lambda: gate(night=False),
    "gate-night.jpg": lambda: gate(night=True),
    "nui-cam.jpg": nui_cam,
    "tra-su.jpg": tra_su,
    "nui-sam.jpg": nui_sam,
    "immigration.jpg": lambda: topic("immigration", "#173d6b", "#2c6aa6"),
    "customs.jpg": lambda: topic("customs", "#12403f", "#2b7a72"),
    "exchange.jpg": lambda: topic("exchange", "#1c3a2c", "#3f7a53"),
    "emergency.jpg": lambda: topic("emergency", "#7a1010", "#c4262a"),
    "hours.jpg": lambda: topic("hours", "#13284a", "#e79a55"),
    "bg-navy.jpg": lambda: backdrop("#0b1e3a", "#10355e", "#3d7fc4", 1),
    "bg-teal.jpg": lambda: backdrop("#06262a", "#0e4a4a", "#3fa39a", 2),
    "bg-maroon.jpg": lambda: backdrop("#2a0a0e", "#5a1218", "#d0464a", 3),
    "bg-night.jpg": lambda: backdrop("#040914", "#0f1f3d", "#4a6fb0", 4, stars=True),
    "sights-portrait.jpg": lambda: palms_portrait(evening=True),
}


def write_all(out: Path, quality: int = 85) -> list[Path]:
    """Draw every scene into `out`, plus the morning palms stored sideways with EXIF Orientation 6."""
    out.mkdir(parents=True, exist_ok=True)
    for name, scene in SCENES.items():
        scene().picture().save(out / name, "JPEG", quality=quality, optimize=True)
    # Orientation 6 says "turn 90° clockwise to show", so the pixels are stored turned counter-clockwise.
    exif = Image.Exif()
    exif[0x0112] = 6
    sideways = palms_portrait(evening=False).picture().transpose(Image.Transpose.ROTATE_90)
    sideways.save(out / "sights-portrait-exif.jpg", "JPEG", quality=quality, optimize=True, exif=exif.tobytes())
    return [out / name for name in SCENES] + [out / "sights-portrait-exif.jpg"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "media",
                        help="folder to write the JPEGs into (default: media/ in the repository)")
    for path in write_all(parser.parse_args().out):
        print(f"{path}  {path.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
