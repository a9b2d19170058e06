"""Putting frames on the panel: on a Surface, pushing only the dirty rectangles, or with SDL's renderer from textures.

`display.renderer` in kiosk.yaml picks one: `software` draws every frame with the
CPU on a Surface (the window's own, or a turned canvas) and presents only the
rectangles that changed; `gpu` composites with SDL's renderer (pygame-ce's
`pygame._sdl2.video`): each picture is uploaded once as a texture, a crossfade is
the texture's alpha, a slide its destination rectangle, a video frame an upload
into a texture the renderer scales. `auto` (the default) takes the renderer where
the machine has a GPU (a DRM render node, as on a Raspberry Pi with kmsdrm or an
Intel iGPU) and the Surface otherwise: without one, SDL's OpenGL is Mesa's llvmpipe
on the CPU, which costs more than the Surface path does.
"""

from __future__ import annotations

import glob
import logging
import os
import weakref
from dataclasses import dataclass
from typing import Any, Callable, Protocol, Sequence

import pygame
from pygame._sdl2 import video as sdl

from .damage import Rect, panel_rect
from .transitions import to_panel

log = logging.getLogger(__name__)

RENDER_NODES = "/dev/dri/renderD*"
BLEND = 1  # SDL_BLENDMODE_BLEND

_versions: weakref.WeakKeyDictionary[pygame.Surface, int] = weakref.WeakKeyDictionary()


def mark_changed(surface: pygame.Surface) -> None:
    """Say that `surface`'s pixels were redrawn in place (a video's reused frame buffer): its texture is uploaded again."""
    _versions[surface] = _versions.get(surface, 0) + 1


def has_gpu(pattern: str = RENDER_NODES) -> bool:
    """True when the machine has a GPU that SDL's renderer can use (a DRM render node)."""
    return bool(glob.glob(pattern))


def choose_path(setting: str, gpu: bool) -> str:
    """'renderer' or 'surface' for kiosk.yaml's `display.renderer` on a machine with or without a GPU."""
    if setting == "gpu" or (setting == "auto" and gpu):
        return "renderer"
    return "surface"


def sdl_hints(path: str, gpu: bool) -> dict[str, str]:
    """SDL settings (environment variables, read when the display starts) for the chosen path.

    Without a GPU, SDL's X11 window surface is by default itself an OpenGL texture drawn by
    llvmpipe: 12-15 ms of CPU per present, even for a 10-pixel update. Its own framebuffer
    (MIT-SHM) costs a few microseconds per rectangle, so it is asked for; and a renderer
    there is SDL's software one, which draws on that framebuffer. kmsdrm has no such
    framebuffer, but without a GPU there is no kmsdrm either.
    """
    if gpu:
        return {}
    hints = {"SDL_FRAMEBUFFER_ACCELERATION": "0"}
    if path == "renderer":
        hints["SDL_RENDER_DRIVER"] = "software"
    return hints


class Output(Protocol):
    """Where frames go: `show(draw, rects, pixels)` draws the frame (`draw(canvas)`) and presents it."""

    name: str

    @property
    def canvas(self) -> pygame.Surface:
        """What the frames are drawn on."""
        ...

    def show(self, draw: Callable[[pygame.Surface], None], rects: Sequence[Rect], pixels: bool = False) -> None: ...

    def grab(self) -> pygame.Surface | None:
        """The picture on screen, upright, for screenshots; None where the canvas holds it."""
        ...

    def close(self) -> None: ...


class SurfaceOutput:
    """The CPU path: frames are drawn on a Surface, and only the dirty rectangles are redrawn and presented."""

    name = "software"

    def __init__(self, window: pygame.Surface, canvas: pygame.Surface, rotation: int) -> None:
        self.window, self.canvas, self.rotation = window, canvas, rotation
        self.presents = 0
        self.pixels_presented = 0

    def show(self, draw: Callable[[pygame.Surface], None], rects: Sequence[Rect], pixels: bool = False) -> None:
        """Redraw each of `rects` (everything in it, clipped to it) and push just those to the panel."""
        size = self.canvas.get_size()
        full = len(rects) == 1 and rects[0] == (0, 0, size[0], size[1])
        for rect in rects:
            self.canvas.set_clip(rect)
            draw(self.canvas)
        self.canvas.set_clip(None)
        self.presents += 1
        self.pixels_presented += sum(w * h for _, _, w, h in rects)
        if self.rotation:
            if full:
                self.window.blit(to_panel(self.canvas, self.rotation), (0, 0))
            else:
                for rect in rects:
                    turned = to_panel(self.canvas.subsurface(rect), self.rotation)
                    self.window.blit(turned, panel_rect(rect, size, self.rotation)[:2])
            rects = [panel_rect(rect, size, self.rotation) for rect in rects]
        if full:
            pygame.display.flip()
        else:
            pygame.display.update([pygame.Rect(rect) for rect in rects])

    def grab(self) -> pygame.Surface | None:
        return None

    def close(self) -> None:
        pass


@dataclass
class _Entry:
    texture: sdl.Texture | None  # None while the surface is not drawn: it went to the spares
    version: int
    used: int  # the present it was last drawn in
    key: tuple[object, ...]  # which spares it can serve: size and pixel format


def _texture_key(source: pygame.Surface) -> tuple[object, ...]:
    """Surfaces with one key can share a texture. The pixel format is in it: a texture of another format (a slide's
    XRGB for a video frame's ARGB) would be converted into on every upload, an 8 MB copy made and freed per frame."""
    return (source.get_size(), source.get_bitsize(), source.get_masks())


class TextureCanvas(pygame.Surface):
    """What the drawing code draws on with the renderer: `blit` draws the source's texture (uploaded once, again
    only after `mark_changed`), `fill` fills a rectangle. It stands in for a Surface of the canvas's size; its own
    pixels are a single unused one, so code that draws with pygame.draw must draw on a Surface first (the touch
    kiosk's browse screens and keypad, see RendererOutput.show)."""

    def __init__(self, renderer: sdl.Renderer, size: tuple[int, int]) -> None:
        super().__init__((1, 1))
        self.renderer, self.extent = renderer, size
        self._textures: weakref.WeakKeyDictionary[pygame.Surface, _Entry] = weakref.WeakKeyDictionary()
        self._spare: dict[tuple[object, ...], list[sdl.Texture]] = {}
        # Entries of surfaces that died (a video's frame, let go as the next one came), from whichever thread let go
        # of them: their textures go to the spares at the next present, on the render loop's thread, as SDL wants.
        # A 1080p clip then cycles one texture instead of making (and page-faulting) an 8 MB one per frame.
        self._retired: list[_Entry] = []
        self.presents = 0
        self.uploads = 0
        self.made = 0  # textures created

    def get_size(self) -> tuple[int, int]:
        return self.extent

    def get_width(self) -> int:
        return self.extent[0]

    def get_height(self) -> int:
        return self.extent[1]

    def get_rect(self, **kwargs: Any) -> pygame.Rect:
        return pygame.Rect((0, 0), self.extent)

    def texture(self, source: pygame.Surface) -> sdl.Texture:
        """`source`'s texture, uploaded if it is new or changed since; textures of dropped surfaces are reused."""
        version = _versions.get(source, 0)
        entry = self._textures.get(source)
        if entry is None:
            entry = _Entry(None, version, self.presents, _texture_key(source))
            self._textures[source] = entry
            weakref.finalize(source, self._retire, entry)
        if entry.texture is None:
            if self._retired:  # the frame before this one, let go since the last present: take its texture
                self._collect()
            spare = self._spare.get(entry.key)
            if spare:
                entry.texture = spare.pop()
                entry.texture.update(source)
            else:
                entry.texture = sdl.Texture.from_surface(self.renderer, source)
                self.made += 1
            entry.version = version
            self.uploads += 1
        elif entry.version != version:
            entry.texture.update(source)
            entry.version = version
            self.uploads += 1
        entry.used = self.presents
        return entry.texture

    def _retire(self, entry: _Entry) -> None:
        self._retired.append(entry)

    def blit(self, source: pygame.Surface, dest: Any = (0, 0), area: Any = None,
             special_flags: int = 0) -> pygame.Rect:
        """Draw `source` at `dest` with its surface alpha (a crossfade) or per-pixel alpha, as Surface.blit would."""
        texture = self.texture(source)
        alpha = source.get_alpha()
        per_pixel = bool(source.get_flags() & pygame.SRCALPHA)
        if per_pixel or (alpha is not None and alpha < 255):
            texture.blend_mode = BLEND
            texture.alpha = 255 if alpha is None else alpha
        else:
            texture.blend_mode = 0
            texture.alpha = 255
        src = pygame.Rect(area) if area is not None else pygame.Rect((0, 0), source.get_size())
        x, y = (dest[0], dest[1]) if not isinstance(dest, pygame.Rect) else dest.topleft
        dst = pygame.Rect(x, y, src.w, src.h)
        texture.draw(srcrect=src, dstrect=dst)
        return dst

    def fill(self, color: Any, rect: Any = None, special_flags: int = 0) -> pygame.Rect:
        self.renderer.draw_color = pygame.Color(color)
        area = pygame.Rect(rect) if rect is not None else pygame.Rect((0, 0), self.extent)
        self.renderer.fill_rect(area)
        return area

    def drop_unused(self) -> None:
        """After a present: textures of surfaces not drawn in it, or gone, go to the spares (a video's frames come
        and go); two spares of a kind are kept, the rest freed."""
        self._collect([entry for entry in list(self._textures.values())
                       if entry.texture is not None and entry.used != self.presents])

    def _collect(self, unused: Sequence[_Entry] = ()) -> None:
        retired, self._retired = self._retired, []
        for entry in (*retired, *unused):
            if entry.texture is None:  # a spare already: its surface was not drawn before it was let go
                continue
            spares = self._spare.setdefault(entry.key, [])
            if len(spares) < 2:
                spares.append(entry.texture)
            entry.texture = None


class RendererOutput:
    """SDL's renderer as the compositor. Every frame with damage is composed whole from textures (a GPU does that
    in well under a millisecond; the renderer has no partial present) and presented."""

    name = "gpu"

    def __init__(self, window: sdl.Window, renderer: sdl.Renderer, canvas_size: tuple[int, int], rotation: int) -> None:
        self.window, self.renderer, self.rotation = window, renderer, rotation
        self.canvas = TextureCanvas(renderer, canvas_size)
        self._turned = sdl.Texture(renderer, canvas_size, target=True) if rotation else None
        self._pixels: pygame.Surface | None = None  # for the kiosk's screens, drawn with pygame.draw

    @property
    def presents(self) -> int:
        return self.canvas.presents

    def show(self, draw: Callable[[pygame.Surface], None], rects: Sequence[Rect], pixels: bool = False) -> None:
        """Compose the whole frame (`rects` only says that something changed). With `pixels`, the frame is
        drawn on a Surface first and that is uploaded: the touch kiosk's browse screens draw with pygame.draw."""
        renderer = self.renderer
        if self._turned is not None:
            renderer.target = self._turned
        renderer.draw_color = (0, 0, 0, 255)
        renderer.clear()
        if pixels:
            if self._pixels is None:
                self._pixels = pygame.Surface(self.canvas.extent)
            draw(self._pixels)
            mark_changed(self._pixels)
            self.canvas.blit(self._pixels, (0, 0))
        else:
            self._pixels = None
            draw(self.canvas)
        if self._turned is not None:
            renderer.target = None
            renderer.draw_color = (0, 0, 0, 255)
            renderer.clear()
            w, h = self.canvas.extent
            pw, ph = self.window.size
            # SDL turns clockwise for a positive angle; the canvas turns counter-clockwise, as to_panel does.
            self._turned.draw(dstrect=((pw - w) // 2, (ph - h) // 2, w, h), angle=-self.rotation)
        renderer.present()
        self.canvas.drop_unused()
        self.canvas.presents += 1

    def grab(self) -> pygame.Surface | None:
        if self._turned is not None:
            self.renderer.target = self._turned
            try:
                return self.renderer.to_surface()
            finally:
                self.renderer.target = None
        return self.renderer.to_surface()

    def close(self) -> None:
        self.window.destroy()


def open_output(title: str, size: tuple[int, int], canvas: tuple[int, int], rotation: int, setting: str,
                fullscreen: bool, background: tuple[int, int, int], headless: bool = False) -> Output:
    """Start the display and open the window for kiosk.yaml's `display.renderer`, showing `background`.

    `gpu` (or `auto` on a machine with a GPU) opens SDL's renderer; where that fails the
    Surface path takes over, with one log line, so the screen never stays dark for it.
    """
    gpu = has_gpu() and not headless
    path = choose_path(setting, gpu)
    for name, value in sdl_hints(path, gpu).items():
        os.environ.setdefault(name, value)
    pygame.display.init()
    if setting == "auto" and path == "surface":
        log.info("display.renderer auto: no GPU here, the CPU composes frames on a Surface (updating only what changes)")
    if path == "renderer":
        window: sdl.Window | None = None
        try:
            window = sdl.Window(title, size=size, fullscreen_desktop=fullscreen)
            renderer = sdl.Renderer(window, accelerated=-1, vsync=False)
            output = RendererOutput(window, renderer, canvas, rotation)
            def blank(target: pygame.Surface) -> None:
                target.fill(background)

            output.show(blank, [(0, 0, *canvas)])
            if fullscreen:
                pygame.mouse.set_visible(False)
            log.info("frames are composed by SDL's renderer (%s)", "GPU" if gpu else "software, no GPU here")
            return output
        except (pygame.error, RuntimeError) as exc:
            log.error("display.renderer %s: SDL's renderer cannot start (%s); the CPU composes frames instead",
                      setting, exc)
            if window is not None:
                window.destroy()
    window_surface = pygame.display.set_mode(size, pygame.FULLSCREEN if fullscreen else 0)
    pygame.display.set_caption(title)
    if fullscreen:
        pygame.mouse.set_visible(False)
    window_surface.fill(background)
    pygame.display.flip()
    turned = pygame.Surface(canvas).convert() if rotation else window_surface
    return SurfaceOutput(window_surface, turned, rotation)
