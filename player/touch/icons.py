"""The browse menu's built-in icons, drawn with plain shapes at run time (no image files): one function each.

Each is drawn on a transparent square four times larger and scaled down, so
edges come out smooth. Runs in the kiosk's painter thread.
"""

from __future__ import annotations

import math
from typing import Callable

import pygame

S = 4  # supersampling
Color = tuple[int, int, int]


def _w(side: int, fraction: float) -> int:
    return max(1, round(side * fraction))


def passport(d: pygame.Surface, c: Color, n: int) -> None:
    book = pygame.Rect(n * 0.2, n * 0.08, n * 0.6, n * 0.84)
    pygame.draw.rect(d, c, book, _w(n, 0.05), border_radius=_w(n, 0.06))
    center = (book.centerx, round(n * 0.42))
    r = round(n * 0.17)
    pygame.draw.circle(d, c, center, r, _w(n, 0.04))
    pygame.draw.ellipse(d, c, pygame.Rect(center[0] - r * 0.45, center[1] - r, r * 0.9, 2 * r), _w(n, 0.03))
    pygame.draw.line(d, c, (center[0] - r, center[1]), (center[0] + r, center[1]), _w(n, 0.03))
    pygame.draw.rect(d, c, pygame.Rect(n * 0.33, n * 0.72, n * 0.34, n * 0.06))


def customs(d: pygame.Surface, c: Color, n: int) -> None:
    body = pygame.Rect(n * 0.1, n * 0.3, n * 0.8, n * 0.56)
    pygame.draw.rect(d, c, body, _w(n, 0.05), border_radius=_w(n, 0.07))
    pygame.draw.rect(d, c, pygame.Rect(n * 0.36, n * 0.14, n * 0.28, n * 0.2), _w(n, 0.05), border_radius=_w(n, 0.04))
    for x in (0.32, 0.68):
        pygame.draw.line(d, c, (n * x, body.top), (n * x, body.bottom - 2), _w(n, 0.05))


def exchange(d: pygame.Surface, c: Color, n: int) -> None:
    w = _w(n, 0.06)
    for y, direction in ((0.34, 1), (0.66, -1)):
        left, right = n * 0.14, n * 0.86
        pygame.draw.line(d, c, (left, n * y), (right, n * y), w)
        tip = right if direction > 0 else left
        back = tip - direction * n * 0.16
        pygame.draw.polygon(d, c, [(tip + direction * w * 0.6, n * y), (back, n * y - n * 0.12), (back, n * y + n * 0.12)])


def transport(d: pygame.Surface, c: Color, n: int) -> None:
    body = pygame.Rect(n * 0.14, n * 0.12, n * 0.72, n * 0.64)
    pygame.draw.rect(d, c, body, _w(n, 0.05), border_radius=_w(n, 0.1))
    pygame.draw.rect(d, c, pygame.Rect(n * 0.22, n * 0.22, n * 0.56, n * 0.24), border_radius=_w(n, 0.03))
    for x in (0.3, 0.7):
        pygame.draw.circle(d, c, (n * x, n * 0.62), _w(n, 0.05))
        pygame.draw.rect(d, c, pygame.Rect(n * x - n * 0.07, n * 0.76, n * 0.14, n * 0.12), border_radius=_w(n, 0.02))


def sights(d: pygame.Surface, c: Color, n: int) -> None:
    pygame.draw.polygon(d, c, [(n * 0.06, n * 0.86), (n * 0.4, n * 0.3), (n * 0.74, n * 0.86)])
    pygame.draw.polygon(d, c, [(n * 0.46, n * 0.86), (n * 0.68, n * 0.48), (n * 0.94, n * 0.86)])
    pygame.draw.circle(d, c, (n * 0.76, n * 0.22), _w(n, 0.1))


def emergency(d: pygame.Surface, c: Color, n: int) -> None:
    dome = pygame.Rect(n * 0.26, n * 0.32, n * 0.48, n * 0.6)
    pygame.draw.ellipse(d, c, dome)
    pygame.draw.rect(d, c, pygame.Rect(n * 0.18, n * 0.74, n * 0.64, n * 0.14), border_radius=_w(n, 0.03))
    for angle in (-60, -30, 0, 30, 60):
        a = math.radians(angle - 90)
        x0, y0 = n * 0.5 + math.cos(a) * n * 0.3, n * 0.5 + math.sin(a) * n * 0.3
        x1, y1 = n * 0.5 + math.cos(a) * n * 0.44, n * 0.5 + math.sin(a) * n * 0.44
        pygame.draw.line(d, c, (x0, y0), (x1, y1), _w(n, 0.05))


def info(d: pygame.Surface, c: Color, n: int) -> None:
    pygame.draw.circle(d, c, (n / 2, n / 2), n * 0.44, _w(n, 0.06))
    pygame.draw.circle(d, c, (n / 2, n * 0.3), _w(n, 0.06))
    pygame.draw.rect(d, c, pygame.Rect(n * 0.44, n * 0.42, n * 0.12, n * 0.34), border_radius=_w(n, 0.02))


def clock(d: pygame.Surface, c: Color, n: int) -> None:
    pygame.draw.circle(d, c, (n / 2, n / 2), n * 0.44, _w(n, 0.06))
    pygame.draw.line(d, c, (n / 2, n / 2), (n / 2, n * 0.2), _w(n, 0.06))
    pygame.draw.line(d, c, (n / 2, n / 2), (n * 0.72, n * 0.6), _w(n, 0.06))


def map_(d: pygame.Surface, c: Color, n: int) -> None:
    w = _w(n, 0.045)
    points = [(0.08, 0.22), (0.36, 0.12), (0.64, 0.22), (0.92, 0.12), (0.92, 0.78), (0.64, 0.88), (0.36, 0.78), (0.08, 0.88)]
    pygame.draw.polygon(d, c, [(n * x, n * y) for x, y in points], w)
    for x, top, bottom in ((0.36, 0.12, 0.78), (0.64, 0.22, 0.88)):
        pygame.draw.line(d, c, (n * x, n * top), (n * x, n * bottom), w)


def health(d: pygame.Surface, c: Color, n: int) -> None:
    pygame.draw.rect(d, c, pygame.Rect(n * 0.36, n * 0.1, n * 0.28, n * 0.8), border_radius=_w(n, 0.04))
    pygame.draw.rect(d, c, pygame.Rect(n * 0.1, n * 0.36, n * 0.8, n * 0.28), border_radius=_w(n, 0.04))


def tap(d: pygame.Surface, c: Color, n: int) -> None:
    """The loop's hint: a fingertip with two rings."""
    pygame.draw.circle(d, c, (n / 2, n / 2), n * 0.16)
    pygame.draw.circle(d, c, (n / 2, n / 2), n * 0.3, _w(n, 0.05))
    pygame.draw.circle(d, c, (n / 2, n / 2), n * 0.45, _w(n, 0.04))


def arrow(d: pygame.Surface, c: Color, n: int) -> None:
    """Pointing left (Back, previous page); flipped for next."""
    pygame.draw.polygon(d, c, [(n * 0.12, n * 0.5), (n * 0.56, n * 0.12), (n * 0.56, n * 0.34), (n * 0.88, n * 0.34),
                               (n * 0.88, n * 0.66), (n * 0.56, n * 0.66), (n * 0.56, n * 0.88)])


def house(d: pygame.Surface, c: Color, n: int) -> None:
    pygame.draw.polygon(d, c, [(n * 0.08, n * 0.48), (n * 0.5, n * 0.1), (n * 0.92, n * 0.48)])
    pygame.draw.rect(d, c, pygame.Rect(n * 0.2, n * 0.46, n * 0.6, n * 0.44))


PAINTERS: dict[str, Callable[[pygame.Surface, Color, int], None]] = {
    "passport": passport, "customs": customs, "exchange": exchange, "transport": transport, "sights": sights,
    "emergency": emergency, "info": info, "clock": clock, "map": map_, "health": health,
    "tap": tap, "arrow": arrow, "house": house,
}


def icon(name: str, side: int, color: Color) -> pygame.Surface:
    """The icon `name` on a transparent `side` x `side` surface."""
    big = pygame.Surface((side * S, side * S), pygame.SRCALPHA)
    big.fill((0, 0, 0, 0))
    PAINTERS[name](big, color, side * S)
    return pygame.transform.smoothscale(big, (side, side))
