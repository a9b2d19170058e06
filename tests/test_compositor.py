"""Both compositors on the demo's own content: every slide, fades and slides between them, the clock and ticker and
a notice over them, drawn by SDL's renderer and by the Surface path, compared pixel by pixel."""

from __future__ import annotations

from typing import Callable

import pygame
import pytest
from PIL import Image, ImageChops
from pygame._sdl2 import video as sdl

from player.compositor import RendererOutput, SurfaceOutput
from player.config import load_config
from player.notices import ShownNotice, render_notice
from player.overlays import Overlays
from player.painter import make_renderer
from player.source import load_program
from player.transitions import compose
from tests.conftest import REPO, at

NOW = at("2026-11-27 09:30")
TOLERANCE = 4  # of 255, per colour channel: on the ticker band's per-pixel alpha SDL rounds differently from pygame
Draw = Callable[[pygame.Surface], None]


def demo_moments() -> list[tuple[str, Draw]]:
    """What the demo screen shows: each slot with the overlays, the halfway point of a crossfade and of a slide
    between neighbours, and an urgent notice and a warning band over a slide."""
    config = load_config(REPO / "kiosk.yaml")
    program, _ = load_program(config, NOW)
    renderer = make_renderer(config)
    overlays = Overlays(config.display.canvas, renderer.floor, renderer.setter, True, True, 1.0, 0)
    pictures: list[tuple[str, pygame.Surface]] = []
    for playlist in program.content.playlists:
        overlays.set_ticker(tuple((code, playlist.ticker_text(code)) for code in config.languages))
        for index, slot in enumerate(program.slots_of(playlist.id)):
            if slot.item.kind != "video" and (index < 4 or slot.language == "vi"):  # every script once, every item
                pictures.append((f"{playlist.id}-{slot.item.id}-{slot.language}", renderer.render(slot).surface))
    overlays.update(0.0, 0.0, NOW, "vi")
    notices = {level: render_notice(renderer, ShownNotice(
        level, level, (("vi", "Cổng tạm đóng do mưa lớn"), ("km", "ច្រកទ្វារ​បិទ​បណ្ដោះអាសន្ន")), NOW, NOW), config.languages)[0]
        for level in ("urgent", "warning")}

    def moment(old: pygame.Surface | None, new: pygame.Surface, kind: str, progress: float,
               notice: pygame.Surface | None = None) -> Draw:
        def draw(target: pygame.Surface) -> None:
            compose(target, old, new, kind, progress)
            overlays.draw(target)
            if notice is not None:
                target.blit(notice, (0, 0))
        return draw

    moments = [(name, moment(None, picture, "cut", 1.0)) for name, picture in pictures]
    for (a, old), (b, new) in zip(pictures, pictures[1:3]):
        moments.append((f"crossfade {a} -> {b}", moment(old, new, "crossfade", 0.5)))
        moments.append((f"slide {a} -> {b}", moment(old, new, "slide", 0.4)))
    for level, notice in notices.items():
        moments.append((f"{level} notice", moment(None, pictures[0][1], "cut", 1.0, notice)))
    return moments


def worst_difference(a: pygame.Surface, b: pygame.Surface) -> int:
    """The largest difference of any colour channel of any pixel."""
    assert a.get_size() == b.get_size()
    pictures = [Image.frombytes("RGB", s.get_size(), pygame.image.tobytes(s, "RGB")) for s in (a, b)]
    return max(high for _, high in ImageChops.difference(*pictures).getextrema())


def test_the_renderer_draws_the_demo_as_the_surface_path_does(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SDL_RENDER_DRIVER", "software")  # the dummy driver has no GPU; SDL's software renderer
    moments = demo_moments()
    assert len(moments) >= 12
    size = (1920, 1080)
    display = pygame.display.get_surface()
    assert display is not None
    surface = SurfaceOutput(display, pygame.Surface(size), 0)
    window = sdl.Window("compositor test", size=size, hidden=True)
    gpu = RendererOutput(window, sdl.Renderer(window), size, 0)
    try:
        for name, draw in moments:
            surface.show(draw, [(0, 0, *size)])
            gpu.show(draw, [(0, 0, *size)])
            shown = gpu.grab()
            assert shown is not None
            worst = worst_difference(surface.canvas, shown)
            assert worst <= TOLERANCE, f"{name}: a pixel differs by {worst}"
            assert shown.get_at((size[0] // 2, size[1] // 3))[:3] != (0, 0, 0), f"{name}: black"
    finally:
        gpu.close()
