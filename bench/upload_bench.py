"""What putting one decoded 1080p frame on screen costs, per conversion and upload path; a line a figure.

    .venv/bin/python -m bench.upload_bench [--frames 90]

Issue 15 asked to measure YUV against RGB texture upload. pygame-ce's
`pygame._sdl2.video.Texture` (2.5.8, and its main branch when this was written)
cannot hold YUV: its pixel format comes from a bit depth (0/32: ARGB8888, 16:
ARGB4444), `update` takes only a Surface (SDL_UpdateTexture with the Surface's
pixels, after SDL_ConvertSurface into a fresh copy when the formats differ), and
neither SDL_UpdateYUVTexture, SDL_UpdateNVTexture nor SDL_LockTexture is
exposed. A Surface cannot be YUV either. So the YUV line says why it is not
measured, and the others measure what can be chosen: which RGB layout swscale
writes and how the Surface wraps it. All on SDL's software renderer and the dummy
driver (a GPU's upload would differ; the conversions would not). Median ms per
frame over the first frames of the peers bench's clip, each figure on its own line.
"""

from __future__ import annotations

import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("SDL_RENDER_DRIVER", "software")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import argparse
import statistics
import time
from pathlib import Path
from typing import Callable

import av
import pygame
from av.video.reformatter import VideoReformatter
from pygame._sdl2 import video as sdl

from bench.peers import ROOT, make_clip

SIZE = (1920, 1080)
XRGB = (0xFF0000, 0x00FF00, 0x0000FF, 0)  # the display's own layout (SDL_PIXELFORMAT_RGB888)


def decoded(path: Path, count: int) -> list[av.VideoFrame]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        frames = []
        for frame in container.decode(stream):
            frames.append(frame)
            if len(frames) == count:
                break
        return frames


def per_frame(frames: list[av.VideoFrame], step: Callable[[av.VideoFrame], object]) -> float:
    """Median milliseconds of `step` over the frames (after a warm-up: the allocator reuses the last output's
    memory, as it does for the player's steady stream of frames)."""
    for frame in frames[:10]:
        step(frame)
    times = []
    for frame in frames:
        start = time.perf_counter()
        step(frame)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def wrapped(frame: av.VideoFrame, layout: str) -> pygame.Surface:
    """The frame as the Surface the player hands out: swscale's output wrapped, not copied."""
    plane = frame.planes[0]
    surface = pygame.image.frombuffer(plane, SIZE, layout, pitch=plane.line_size)  # type: ignore[arg-type]
    surface.set_alpha(None)
    return surface


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=90)
    args = parser.parse_args(argv)
    media = ROOT / "out" / "peers" / "media"  # the peers bench's clip: 1080p30 H.264 at 8 Mbps, made once
    media.mkdir(parents=True, exist_ok=True)
    frames = decoded(make_clip(media), args.frames)
    pygame.display.init()
    window = sdl.Window("upload bench", size=SIZE, hidden=True)
    renderer = sdl.Renderer(window)
    scaler = VideoReformatter()

    def convert(fmt: str) -> Callable[[av.VideoFrame], av.VideoFrame]:
        def step(frame: av.VideoFrame) -> av.VideoFrame:
            return scaler.reformat(frame, *SIZE, format=fmt, interpolation="BILINEAR")
        return step

    def show(texture: sdl.Texture) -> None:
        texture.draw()
        renderer.present()

    def copied(frame: av.VideoFrame) -> None:
        copy.get_view("0").write(convert("bgr0")(frame).planes[0])  # type: ignore[arg-type]
        screen.blit(copy, (0, 0))

    argb = sdl.Texture.from_surface(renderer, wrapped(convert("bgr0")(frames[0]), "BGRA"))
    xrgb = sdl.Texture.from_surface(renderer, pygame.Surface(SIZE, 0, 32, XRGB))
    screen = pygame.Surface(SIZE, 0, 32, XRGB)
    copy = pygame.Surface(SIZE, 0, 32, XRGB)

    def line(name: str, ms: float, what: str) -> None:
        print(f"upload_{name} {ms:.2f} ms per 1080p frame: {what}", flush=True)

    print(f"upload_yuv_texture not measured: pygame-ce {pygame.version.ver}'s Texture is ARGB8888 or ARGB4444 only "
          "and updates only from a Surface (no SDL_UpdateYUVTexture/UpdateNVTexture/LockTexture); a Surface is "
          "never YUV", flush=True)
    line("rgb24_texture", per_frame(frames, lambda f: argb.update(wrapped(convert("rgb24")(f), "RGB"))),
         "swscale to rgb24, the ARGB texture updated (SDL converts into a fresh copy each time)")
    line("bgr0_argb_texture", per_frame(frames, lambda f: argb.update(wrapped(convert("bgr0")(f), "BGRA"))),
         "swscale to bgr0 wrapped as ARGB, the ARGB texture updated (no conversion): what the player does")
    line("bgr0_xrgb_texture", per_frame(frames, lambda f: xrgb.update(wrapped(convert("bgr0")(f), "BGRA"))),
         "the same into an XRGB texture (a slide's format): SDL converts each time")
    line("convert_rgb24", per_frame(frames, convert("rgb24")), "swscale yuv420p -> rgb24 alone")
    line("convert_bgr0", per_frame(frames, convert("bgr0")), "swscale yuv420p -> bgr0 alone")
    line("draw_argb_texture", per_frame(frames, lambda f: show(argb)),
         "the renderer draws the ARGB texture onto the window and presents")
    line("draw_xrgb_texture", per_frame(frames, lambda f: show(xrgb)),
         "the same for an XRGB texture: a plain copy")
    line("blit_argb_surface", per_frame(frames, lambda f: screen.blit(wrapped(convert("bgr0")(f), "BGRA"), (0, 0))),
         "the Surface path: swscale to bgr0 wrapped as ARGB, blitted onto an XRGB screen")
    line("blit_xrgb_copy_surface", per_frame(frames, copied),
         "swscale to bgr0 copied into an XRGB Surface (the only way to get that layout), then blitted: a plain copy")
    window.destroy()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
