"""Damage-driven frames on a virtual clock: a static slide presents only the clock's and the ticker's changes, a
crossfade presents a new picture each frame tick, and SDL's renderer draws the same pictures as the Surface path."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pygame
import pytest
from PIL import Image, ImageChops
from pygame._sdl2 import video as sdl

from player.compositor import RendererOutput, SurfaceOutput, TextureCanvas, choose_path, sdl_hints
from player.config import load_config
from player.frames import FrameDriver
from player.screen import Screen, build_screen
from player.video import VideoClip
from tests.conftest import at, make_screen
from tools import make_test_clips as clips

SIZE = (480, 270)
START = 1000.0  # virtual monotonic seconds: no burn-in shift falls in the runs below (every 300 s)


def still_screen(tmp_path: Path, clock: bool, ticker: bool, items: str | None = None) -> Screen:
    items = items or ("  - {id: hours, type: text, duration: 60, background: '#0c2c4a',"
                      " text: {vi: {title: 'Giờ mở cửa', body: '06:00 – 22:00'}}}\n")
    playlist = "ticker: {vi: 'Chào mừng quý khách'}\nitems:\n" + items
    config_path = make_screen(tmp_path, {"main.yaml": playlist}, size=SIZE, width_mm=400)
    with config_path.open("a", encoding="utf-8") as out:
        out.write(f"overlays: {{clock: {str(clock).lower()}, ticker: {str(ticker).lower()}}}\n")
    return build_screen(load_config(config_path), at("2026-11-27 09:00:55"))


def surface_output() -> SurfaceOutput:
    display = pygame.display.get_surface()
    assert display is not None
    return SurfaceOutput(display, pygame.Surface(SIZE), 0)


def run(screen: Screen, driver: FrameDriver, seconds: float) -> list[tuple[float, list[tuple[int, int, int, int]]]]:
    """Play `seconds` of virtual time, waking when the driver asks; returns (time, rects) of each present.

    The preparer works in real time: at a boundary whose picture is not ready yet, real time passes, not virtual."""
    presents = []
    wall = screen.now
    mono = START
    screen.start(mono)
    last = mono
    while mono < START + seconds:
        before = driver.presents
        wake = driver.frame(mono, wall + timedelta(seconds=mono - START), mono - last)
        if driver.presents != before:
            presents.append((mono, driver.last_rects))
        last = mono
        loop = screen.loop
        if loop.pending is not None and loop.current is not None and loop.current.due(mono):
            time.sleep(0.002)  # the next picture is being drawn on its thread
            continue
        mono = wake
    return presents


def renderer_output(monkeypatch) -> RendererOutput:
    monkeypatch.setenv("SDL_RENDER_DRIVER", "software")  # the dummy driver has no GPU
    window = sdl.Window("frames test", size=SIZE, hidden=True)
    return RendererOutput(window, sdl.Renderer(window), SIZE, 0)


@pytest.mark.parametrize("path", ["surface", "renderer"])
def test_a_still_slide_presents_only_the_minute_of_the_clock(tmp_path, monkeypatch, path):
    screen = still_screen(tmp_path, clock=True, ticker=False)
    output = surface_output() if path == "surface" else renderer_output(monkeypatch)
    driver = FrameDriver(screen, output, fps=60)
    try:
        presents = run(screen, driver, 10.0)
    finally:
        screen.close(START + 10)
        output.close()
    assert output.presents == len(presents)
    # the first frame whole, then 09:01 on the clock, and nothing else in 10 s
    assert len(presents) == 2, presents
    (_, first), (when, clock) = presents
    assert first == [(0, 0, *SIZE)]
    assert when == pytest.approx(START + 5.0, abs=0.03)
    assert len(clock) == 1 and clock[0][2] < SIZE[0] // 2 and clock[0][3] < SIZE[1] // 3  # the clock's box only


@pytest.mark.parametrize("path", ["surface", "renderer"])
def test_with_clock_and_ticker_off_nothing_is_presented_after_the_first_frame(tmp_path, monkeypatch, path):
    screen = still_screen(tmp_path, clock=False, ticker=False)
    output = surface_output() if path == "surface" else renderer_output(monkeypatch)
    driver = FrameDriver(screen, output, fps=60)
    try:
        presents = run(screen, driver, 10.0)
    finally:
        screen.close(START + 10)
        output.close()
    assert len(presents) == 1 and output.presents == 1


def test_the_ticker_redraws_only_its_band(tmp_path):
    screen = still_screen(tmp_path, clock=False, ticker=True)
    driver = FrameDriver(screen, surface_output(), fps=60)
    try:
        presents = run(screen, driver, 2.0)
    finally:
        screen.close(START + 2)
    band_top = SIZE[1] - screen.loop.overlays.bands.bottom
    later = presents[1:]
    assert 60 <= len(later) <= 121  # about one step a frame at 60 fps (110 px/s), never more than the frame rate
    assert all(len(rects) == 1 and rects[0][1] >= band_top - 8 and rects[0][0] == 0 for _, rects in later)
    canvas = driver.output.canvas
    assert canvas.get_at((5, 5))[:3] == (12, 44, 74)  # the slide above the band is still there


def test_a_crossfade_presents_a_new_picture_each_frame_tick(tmp_path):
    items = "".join(f"  - {{id: s{n}, type: text, duration: 1.0, transition: {{type: crossfade, duration: 0.5}},"
                    f" background: '{color}', text: {{vi: {{title: 'S{n}'}}}}}}\n"
                    for n, color in enumerate(("#c03030", "#3050c0")))
    screen = still_screen(tmp_path, clock=False, ticker=False, items=items)
    driver = FrameDriver(screen, surface_output(), fps=60)
    try:
        presents = run(screen, driver, 1.8)
    finally:
        screen.close(START + 2)
    fade = [t for t, _ in presents if START + 1.0 <= t <= START + 1.5]
    assert 28 <= len(fade) <= 31  # 0.5 s at 60 fps: every tick shows a new alpha
    assert max(b - a for a, b in zip(fade, fade[1:])) <= 2 / 60 + 1e-6  # no hold over 2 frame periods
    after = [t for t, _ in presents if START + 1.52 < t < START + 1.8]
    assert after == []  # the fade is over: nothing more to present


@pytest.mark.parametrize("setting, gpu, expected", [
    ("auto", True, "renderer"), ("auto", False, "surface"), ("gpu", False, "renderer"), ("software", True, "surface"),
])
def test_which_path_composes(setting, gpu, expected):
    assert choose_path(setting, gpu) == expected


def test_without_a_gpu_sdl_is_kept_off_llvmpipe():
    assert sdl_hints("surface", gpu=False) == {"SDL_FRAMEBUFFER_ACCELERATION": "0"}
    assert sdl_hints("renderer", gpu=False) == {"SDL_FRAMEBUFFER_ACCELERATION": "0", "SDL_RENDER_DRIVER": "software"}
    assert sdl_hints("renderer", gpu=True) == {}


def test_the_renderer_draws_what_the_surface_path_draws(tmp_path, monkeypatch):
    """The same moments (a still slide with clock and ticker, mid-crossfade, the tap's ripple) drawn by both paths,
    compared pixel by pixel: SDL's software renderer here (the dummy driver has no GPU)."""
    monkeypatch.setenv("SDL_RENDER_DRIVER", "software")
    items = "".join(f"  - {{id: s{n}, type: text, duration: 1.0, transition: {{type: crossfade, duration: 0.5}},"
                    f" background: '{color}', text: {{vi: {{title: 'S{n}', body: 'Hằng ngày'}}}}}}\n"
                    for n, color in enumerate(("#c03030", "#3050c0")))
    screen = still_screen(tmp_path, clock=True, ticker=True, items=items)
    window = sdl.Window("renderer test", size=SIZE, hidden=True)
    output = RendererOutput(window, sdl.Renderer(window), SIZE, 0)
    assert isinstance(output.canvas, TextureCanvas)
    try:
        moments = []
        driver = FrameDriver(screen, surface_output(), fps=60)
        presents = run(screen, driver, 1.25)  # ends mid-crossfade
        assert presents
        reference = driver.output.canvas.copy()
        moments.append(("mid-crossfade", reference))
        for name, canvas in moments:
            output.show(screen.draw, [(0, 0, *SIZE)])
            shown = output.grab()
            assert shown is not None
            assert _worst_difference(canvas, shown) <= 3, name
        assert output.canvas.uploads >= 2  # both slides' textures (plus clock and ticker)
        uploads = output.canvas.uploads
        output.show(screen.draw, [(0, 0, *SIZE)])
        assert output.canvas.uploads == uploads  # drawn again: nothing uploaded again
    finally:
        screen.close(START + 2)
        output.close()


def test_a_clip_through_the_renderer_cycles_its_textures(tmp_path, monkeypatch):
    """Each video frame is a new Surface; the renderer reuses the texture of the one before instead of making an 8 MB
    texture per frame at 1080p, and the screen shows the frame handed out."""
    monkeypatch.setenv("SDL_RENDER_DRIVER", "software")
    path = clips.make_h264_mp4(tmp_path, size=SIZE, fps=30, seconds=1.5)
    window = sdl.Window("renderer test", size=SIZE, hidden=True)
    output = RendererOutput(window, sdl.Renderer(window), SIZE, 0)
    try:
        with VideoClip(path, SIZE) as clip:
            picture = clip.first_frame(10.0)
            t = 0.0
            while not clip.ended:
                due = clip.next_time()  # each frame asked for when it is due: none passed over
                if due is None:
                    time.sleep(0.002)  # the decoder is behind this loop, which needs no real time
                t = due if due is not None else t + 0.01
                frame = clip.frame_at(t)
                if frame is not None:
                    picture = frame
                output.show(lambda canvas: canvas.blit(picture, (0, 0)), [(0, 0, *SIZE)])
            shown = output.grab()
            assert shown is not None
            assert clip.shown >= 40
            assert _worst_difference(picture, shown) <= 3
        assert output.canvas.made == 1  # one texture for the whole clip
        assert output.canvas.uploads >= clip.shown
    finally:
        output.close()


def _worst_difference(a: pygame.Surface, b: pygame.Surface) -> int:
    """The largest difference of any colour channel of any pixel."""
    assert a.get_size() == b.get_size()
    pictures = [Image.frombytes("RGB", s.get_size(), pygame.image.tobytes(s, "RGB")) for s in (a, b)]
    return max(high for _, high in ImageChops.difference(*pictures).getextrema())
